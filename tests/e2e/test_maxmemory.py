"""maxmemory, eviction and lazy freeing on a real slotd process, through redis-py.

The limits are set relative to the process's own used_memory (the interpreter and its
modules count, as Redis's startup memory does), read while the accounting is on: with
`maxmemory` 0 used_memory is the RSS the cron last sampled, which moves on its own. No
timing assertions: waits are generous deadlines, sized for a loaded 2-core machine.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import redis

from tests.procs import ServerProcess, status_kb

pytestmark = pytest.mark.slow

MB = 1 << 20
VALUE = b"v" * 100


@pytest.fixture
def node(slotd_factory: object) -> Iterator[redis.Redis]:
    server: ServerProcess = slotd_factory()  # type: ignore[operator]
    client = redis.Redis(port=server.port, socket_timeout=120)
    client.server = server  # type: ignore[attr-defined]
    yield client
    client.close()


def _accounted_used(client: redis.Redis) -> int:
    """used_memory as the eviction sees it: the accounting switched on by a limit far
    above what the test will use."""
    client.config_set("maxmemory", 1 << 40)
    used: int = client.info("memory")["used_memory"]
    return used


def _write(client: redis.Redis, count: int, prefix: str = "key") -> list[object]:
    replies: list[object] = []
    for start in range(0, count, 1000):
        pipe = client.pipeline(transaction=False)
        for i in range(start, min(start + 1000, count)):
            pipe.set(f"{prefix}:{i}", VALUE)
        replies += pipe.execute(raise_on_error=False)
    return replies


def test_allkeys_lru_holds_the_limit_under_writes(node: redis.Redis) -> None:
    limit = _accounted_used(node) + 16 * MB
    node.config_set("maxmemory-policy", "allkeys-lru")
    node.config_set("maxmemory", limit)
    written = 200_000  # about 40 MB of keys: more than twice what fits
    assert all(reply is True for reply in _write(node, written))
    memory = node.info("memory")
    assert memory["used_memory"] <= limit + 64 * 1024
    assert memory["maxmemory"] == limit
    assert memory["maxmemory_policy"] == "allkeys-lru"
    evicted = node.info("stats")["evicted_keys"]
    assert evicted > 0
    assert node.dbsize() + evicted == written
    assert node.exists(f"key:{written - 1}")  # the latest keys are there
    # The process stays near the limit: RSS also holds the allocator's slack and freed
    # memory kept for reuse (BENCHMARKS.md states the margin this machine measures).
    rss = status_kb(node.server.proc.pid) * 1024  # type: ignore[attr-defined]
    assert rss < limit * 1.5


def test_noeviction_answers_oom_to_writes(node: redis.Redis) -> None:
    node.config_set("maxmemory", _accounted_used(node) + 2 * MB)
    replies = _write(node, 50_000)
    errors = [r for r in replies if isinstance(r, redis.exceptions.ResponseError)]
    assert errors
    assert str(errors[0]) == "command not allowed when used memory > 'maxmemory'."
    assert node.get("key:0") == VALUE  # reads still work
    with pytest.raises(redis.exceptions.ResponseError, match="used memory > 'maxmemory'"):
        node.rpush("list", "x")
    assert node.delete("key:0", "key:1") == 2  # and deletes
    assert node.info("stats")["evicted_keys"] == 0


def test_volatile_ttl_evicts_only_keys_with_a_ttl(node: redis.Redis) -> None:
    used = _accounted_used(node)
    node.config_set("maxmemory-policy", "volatile-ttl")
    pipe = node.pipeline(transaction=False)
    for i in range(20_000):
        pipe.set(f"ttl:{i}", VALUE, ex=10_000 + i)
    pipe.execute()
    node.config_set("maxmemory", used + 6 * MB)
    _write(node, 10_000, "plain")
    assert node.info("stats")["evicted_keys"] > 0
    assert all(node.exists(f"plain:{i}") for i in range(0, 10_000, 500))


def test_unlink_and_flushall_async_free_in_the_background(node: redis.Redis) -> None:
    for start in range(0, 200_000, 10_000):
        node.sadd("big", *[f"member:{i}" for i in range(start, start + 10_000)])
    _write(node, 20_000)
    assert node.unlink("big") == 1
    assert node.flushall(asynchronous=True) is True
    assert node.dbsize() == 0
    assert node.ping() is True  # served while the frees go on
    deadline = time.monotonic() + 600  # a bound against hanging, not a speed target
    while node.info("memory")["lazyfree_pending_objects"] and time.monotonic() < deadline:
        time.sleep(0.05)
    memory = node.info("memory")
    assert memory["lazyfree_pending_objects"] == 0
    assert memory["lazyfreed_objects"] == 20_001


def test_memory_commands_through_redis_py(node: redis.Redis) -> None:
    _accounted_used(node)  # so that STATS and INFO read the same (accounted) figure
    node.set("s1", "a")
    assert node.memory_usage("s1") == 64
    assert node.memory_usage("nokey") is None
    stats = node.memory_stats()
    assert stats["keys.count"] == 1
    assert stats["total.allocated"] == node.info("memory")["used_memory"]
    assert "db.0" in stats
    assert node.memory_purge() is True
    doctor = node.execute_command("MEMORY", "DOCTOR")  # type: ignore[no-untyped-call]
    assert doctor.startswith(b"Hi Sam")
