"""Client-side caching over real sockets: redis-py's RESP3 cache (CacheConfig) kept fresh by
invalidation pushes, raw RESP3 pushes arriving while the tracking connection is idle, a
RESP2 redis-py Pub/Sub connection receiving redirected invalidations, BCAST broadcasts
after a pipeline, and keyspace notifications heard by a redis-py listener.

Every test runs against slotd and against a real redis-server, which shows the
expectations are Redis's. Waits poll with a generous deadline; nothing depends on speed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
import redis
from redis.cache import CacheConfig
from redis.connection import CacheProxyConnection

from tests.procs import ServerProcess
from tests.rawclient import RawClient

DEADLINE = 30.0


@pytest.fixture(params=["slotd", "redis"])
def server(request: pytest.FixtureRequest) -> Iterator[ServerProcess]:
    proc: ServerProcess = request.getfixturevalue(f"{request.param}_proc")
    with redis.Redis(*proc.addr) as admin:
        admin.flushall()
    yield proc
    with redis.Redis(*proc.addr) as admin:
        admin.config_set("notify-keyspace-events", "")


def eventually(check: Callable[[], bool]) -> None:
    give_up = time.monotonic() + DEADLINE
    while not check():
        assert time.monotonic() < give_up, "condition never met"
        time.sleep(0.01)


def test_redis_py_cache_is_invalidated(
    server: ServerProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    # redis-py turns its cache on only for servers that say 7.4 or later; the protocol it
    # relies on (CLIENT TRACKING, RESP3 `invalidate` pushes) is 7.0's, so let it in.
    monkeypatch.setattr(CacheProxyConnection, "MIN_ALLOWED_VERSION", "7.0.0")
    with (
        redis.Redis(*server.addr, protocol=3, cache_config=CacheConfig()) as cached,
        redis.Redis(*server.addr) as writer,
    ):
        cache = cached.get_cache()
        assert cache is not None
        writer.set("user:1", "alice")
        assert cached.get("user:1") == b"alice"
        assert cache.size == 1
        assert cached.get("user:1") == b"alice"  # served from the cache
        writer.set("user:1", "bob")
        # The invalidation push is read before the next command's reply is used.
        eventually(lambda: cached.get("user:1") == b"bob")
        writer.delete("user:1")
        eventually(lambda: cached.get("user:1") is None)
        cached.set("own", "1")
        assert cached.get("own") == b"1"
        cached.set("own", "2")  # its own write invalidates too (no NOLOOP)
        assert cached.get("own") == b"2"


def test_raw_resp3_push_reaches_an_idle_connection(server: ServerProcess) -> None:
    with RawClient(*server.addr) as tracker, RawClient(*server.addr) as writer:
        tracker.call("HELLO", "3")
        assert tracker.call("CLIENT", "TRACKING", "ON") == b"+OK\r\n"
        assert tracker.call("MGET", "a", "b") == b"*2\r\n_\r\n_\r\n"
        assert writer.call("MSET", "a", "1", "b", "2") == b"+OK\r\n"
        assert tracker.read_reply() == b">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\na\r\n"
        assert tracker.read_reply() == b">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nb\r\n"
        assert writer.call("FLUSHALL") == b"+OK\r\n"
        assert tracker.read_reply() == b">2\r\n$10\r\ninvalidate\r\n_\r\n"


def test_resp2_redirect_to_a_redis_py_subscriber(server: ServerProcess) -> None:
    with (
        redis.Redis(*server.addr, protocol=2) as listener_client,
        redis.Redis(*server.addr, protocol=2, single_connection_client=True) as tracker,
        redis.Redis(*server.addr) as writer,
    ):
        pubsub = listener_client.pubsub()
        try:
            pubsub.subscribe("__redis__:invalidate")
            assert pubsub.get_message(timeout=DEADLINE)["type"] == "subscribe"
            subscribed = [c for c in writer.client_list() if "P" in c["flags"]]
            assert len(subscribed) == 1
            target = int(subscribed[0]["id"])
            assert tracker.execute_command("CLIENT", "TRACKING", "ON", "REDIRECT", target)
            assert tracker.execute_command("CLIENT", "GETREDIR") == target
            tracker.get("cfg")
            writer.set("cfg", "v2")
            message = pubsub.get_message(timeout=DEADLINE)
            assert message == {
                "type": "message",
                "pattern": None,
                "channel": b"__redis__:invalidate",
                "data": [b"cfg"],
            }
        finally:
            pubsub.close()


def test_bcast_after_a_pipeline(server: ServerProcess) -> None:
    with RawClient(*server.addr) as tracker, redis.Redis(*server.addr) as writer:
        tracker.call("HELLO", "3")
        tracker.call("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "user:")
        with writer.pipeline(transaction=False) as pipe:
            pipe.set("user:2", "x").set("item:1", "y").set("user:1", "z").execute()
        received: list[bytes] = []
        while b"user:1" not in b"".join(received) or b"user:2" not in b"".join(received):
            received.append(tracker.read_reply())
        assert all(frame.startswith(b">2\r\n$10\r\ninvalidate\r\n*") for frame in received)
        assert b"item:1" not in b"".join(received)


def test_keyspace_events_with_a_redis_py_listener(server: ServerProcess) -> None:
    with redis.Redis(*server.addr) as r:
        r.config_set("notify-keyspace-events", "KEA")
        pubsub = r.pubsub()
        try:
            pubsub.psubscribe("__keyevent@0__:*")
            assert pubsub.get_message(timeout=DEADLINE)["type"] == "psubscribe"
            r.rpush("queue", "job")
            r.lpop("queue")
            r.set("tmp", "1", px=1)
            events: list[tuple[bytes, bytes]] = []
            while len(events) < 5:
                message = pubsub.get_message(timeout=DEADLINE)
                assert message is not None, events
                events.append((message["channel"], message["data"]))
            assert events == [
                (b"__keyevent@0__:rpush", b"queue"),
                (b"__keyevent@0__:lpop", b"queue"),
                (b"__keyevent@0__:del", b"queue"),
                (b"__keyevent@0__:set", b"tmp"),
                (b"__keyevent@0__:expire", b"tmp"),
            ]
            # The TTL runs out: active expiry (or this read) reports it.
            message = None
            give_up = time.monotonic() + DEADLINE
            while message is None and time.monotonic() < give_up:
                r.exists("tmp")
                message = pubsub.get_message(timeout=0.1)
            assert message is not None
            assert (message["channel"], message["data"]) == (b"__keyevent@0__:expired", b"tmp")
        finally:
            pubsub.close()
