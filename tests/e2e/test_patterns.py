"""The everyday Redis patterns, run as a user would run them with redis-py against a real
slotd process: cache-aside, a fixed-window rate limiter script, a lock released by a script,
sliding-window rate limiting in a transactional pipeline, and an asyncio pub/sub listener."""

from __future__ import annotations

import json

import pytest
import redis
import redis.asyncio as aioredis
import trio

from tests.procs import ServerProcess

RATE_LIMIT = """
local current = redis.call('INCR', KEYS[1])
if current == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if current > tonumber(ARGV[1]) then return 0 end
return 1
"""
RELEASE_LOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


@pytest.fixture
def r(slotd_proc: ServerProcess) -> redis.Redis:
    client = redis.Redis(*slotd_proc.addr, protocol=2)
    client.delete("pat:user:1", "pat:rl", "pat:lock", "pat:window")
    return client


def test_cache_aside(r: redis.Redis) -> None:
    loads = []

    def load_user(user_id: int) -> dict[str, object]:
        cached = r.get(f"pat:user:{user_id}")
        if cached is not None:
            return json.loads(cached)  # type: ignore[no-any-return]
        loads.append(user_id)  # the slow source of truth
        user = {"id": user_id, "name": "ada"}
        r.set(f"pat:user:{user_id}", json.dumps(user), ex=60)
        return user

    assert load_user(1) == load_user(1) == {"id": 1, "name": "ada"}
    assert loads == [1]
    assert 0 < r.ttl("pat:user:1") <= 60


def test_fixed_window_rate_limiter_script(r: redis.Redis) -> None:
    limiter = r.register_script(RATE_LIMIT)
    verdicts = [limiter(keys=["pat:rl"], args=[3, 60000]) for _ in range(5)]
    assert verdicts == [1, 1, 1, 0, 0]
    assert 0 < r.pttl("pat:rl") <= 60000


def test_lock_released_only_by_its_owner(r: redis.Redis) -> None:
    release = r.register_script(RELEASE_LOCK)
    assert r.set("pat:lock", "token-a", nx=True, px=30000)
    assert not r.set("pat:lock", "token-b", nx=True, px=30000)
    assert release(keys=["pat:lock"], args=["token-b"]) == 0
    assert release(keys=["pat:lock"], args=["token-a"]) == 1
    assert r.get("pat:lock") is None


def test_sliding_window_with_a_transactional_pipeline(r: redis.Redis) -> None:
    def allow(now_ms: int, limit: int = 3, window_ms: int = 1000) -> bool:
        with r.pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore("pat:window", 0, now_ms - window_ms)
            pipe.zadd("pat:window", {str(now_ms): now_ms})
            pipe.zcard("pat:window")
            pipe.pexpire("pat:window", window_ms)
            _, _, count, _ = pipe.execute()
        return bool(count <= limit)

    assert [allow(t) for t in (0, 100, 200, 300, 400)] == [True, True, True, False, False]
    assert allow(1250)  # the first three fell out of the window


async def test_asyncio_pubsub_listener(slotd_proc: ServerProcess) -> None:
    # redis.asyncio runs on asyncio; trio-asyncio is not a dependency, so drive it in a
    # thread with its own asyncio loop, as an application would.
    import asyncio

    async def scenario() -> list[bytes]:
        host, port = slotd_proc.addr
        client = aioredis.Redis(host=host, port=port, protocol=3)
        pubsub = client.pubsub()
        await pubsub.subscribe("pat:events")
        await pubsub.get_message(timeout=5)  # the subscribe confirmation
        publisher = aioredis.Redis(host=host, port=port)
        for text in (b"one", b"two"):
            await publisher.publish("pat:events", text)
        received = []
        while len(received) < 2:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=5)
            if message is not None:
                received.append(message["data"])
        await pubsub.aclose()
        await client.aclose()
        await publisher.aclose()
        return received

    assert await trio.to_thread.run_sync(lambda: asyncio.run(scenario())) == [b"one", b"two"]
