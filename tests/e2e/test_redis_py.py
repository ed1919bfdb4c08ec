"""redis-py (sync and asyncio, RESP2 and RESP3) against a real slotd process.

The asyncio tests drive their own event loop with `asyncio.run` (the suite's async tests
run on trio). Every client is closed before its test ends: the suite turns warnings,
unclosed-resource ones included, into errors.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator

import pytest
import redis
import redis.asyncio

from tests.procs import ServerProcess

PROTOCOLS = [2, 3]
BIG = 10 * 1024 * 1024


@pytest.fixture(params=PROTOCOLS, ids=lambda p: f"resp{p}")
def r(slotd_proc: ServerProcess, request: pytest.FixtureRequest) -> Iterator[redis.Redis]:
    client = redis.Redis(port=slotd_proc.port, protocol=request.param, socket_timeout=60)
    client.flushall()
    yield client
    client.close()


def test_basic_commands(r: redis.Redis) -> None:
    assert r.ping() is True
    assert r.set("k", "v") is True
    assert r.get("k") == b"v"
    assert r.get("missing") is None
    assert r.set("k", "w", nx=True) is None
    assert r.set("k", "w", xx=True, get=True) == b"v"
    assert r.incr("n") == 1
    assert r.incrby("n", 41) == 42
    assert r.incrbyfloat("f", 1.5) == 1.5
    assert r.mset({"a": "1", "b": "2"}) is True
    assert r.mget("a", "b", "missing") == [b"1", b"2", None]
    assert r.exists("a", "b", "missing") == 2
    assert r.expire("a", 1000) is True
    assert 0 < r.ttl("a") <= 1000
    assert r.type("a") == b"string"
    assert sorted(r.keys("*")) == [b"a", b"b", b"f", b"k", b"n"]
    assert r.delete("a", "b", "missing") == 2
    assert r.echo("hello") == b"hello"
    assert r.dbsize() == 3
    with pytest.raises(redis.ResponseError, match="not an integer"):
        r.incr("k")
    r.rpush("l", "x")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        r.get("l")


def test_resp3_shapes(slotd_proc: ServerProcess) -> None:
    with redis.Redis(port=slotd_proc.port, protocol=3) as r:
        r.flushall()
        r.hset("h", mapping={"f1": "v1", "f2": "v2"})
        assert r.hgetall("h") == {b"f1": b"v1", b"f2": b"v2"}
        r.sadd("s", "a", "b")
        assert r.smembers("s") == {b"a", b"b"}
        assert r.incrbyfloat("f", 2.5) == 2.5
        assert r.execute_command("HELLO", "3")[b"proto"] == 3


def test_pipeline_without_transaction(r: redis.Redis) -> None:
    with r.pipeline(transaction=False) as pipe:
        for i in range(500):
            pipe.set(f"key:{i}", i)
            pipe.incr("counter")
        pipe.get("key:499")
        pipe.incr("key:0", 5)
        pipe.get("nonexistent")
        results = pipe.execute()
    assert results[:2] == [True, 1]
    assert results[-4:] == [500, b"499", 5, None]
    assert r.get("counter") == b"500"


def test_pipeline_errors_are_per_command(r: redis.Redis) -> None:
    with r.pipeline(transaction=False) as pipe:
        pipe.set("s", "text")
        pipe.incr("s")
        pipe.get("s")
        results = pipe.execute(raise_on_error=False)
    assert results[0] is True
    assert isinstance(results[1], redis.ResponseError)
    assert results[2] == b"text"


def test_binary_safe_values(r: redis.Redis) -> None:
    every_byte = bytes(range(256))
    values = [every_byte, b"\r\n", b"*1\r\n$4\r\nPING\r\n", b"\x00" * 100, b"", every_byte * 40]
    for i, value in enumerate(values):
        key = b"bin\x00\r\n" + bytes([i])
        assert r.set(key, value)
        assert r.get(key) == value
        assert r.strlen(key) == len(value)
    assert r.append(b"bin\x00\r\n\x00", b"\xff\xfe") == 258
    assert r.getrange(b"bin\x00\r\n\x00", -2, -1) == b"\xff\xfe"


def test_large_values(r: redis.Redis) -> None:
    # 10 MB each way: the request arrives over many reads, the reply needs many sends.
    value = random.Random(7).randbytes(BIG)
    assert r.set("big", value)
    assert r.strlen("big") == BIG
    assert r.get("big") == value
    with r.pipeline(transaction=False) as pipe:
        pipe.set("big2", value)
        pipe.get("big2")
        pipe.get("big")
        pipe.strlen("big2")
        assert pipe.execute() == [True, value, value, BIG]
    assert r.append("big", b"tail") == BIG + 4
    assert r.getrange("big", BIG, -1) == b"tail"


def test_many_sync_clients(slotd_proc: ServerProcess) -> None:
    clients = [redis.Redis(port=slotd_proc.port) for _ in range(50)]
    try:
        clients[0].delete("hits")
        for _ in range(5):
            for i, c in enumerate(clients):
                c.incr("hits")
                c.set(f"client:{i}", i)
        assert clients[-1].get("hits") == b"250"
        assert {int(c.get(f"client:{i}") or -1) for i, c in enumerate(clients)} == set(range(50))
    finally:
        for c in clients:
            c.close()


@pytest.mark.parametrize("protocol", PROTOCOLS, ids=lambda p: f"resp{p}")
def test_asyncio_client(slotd_proc: ServerProcess, protocol: int) -> None:
    async def main() -> None:
        client = redis.asyncio.Redis(port=slotd_proc.port, protocol=protocol)
        try:
            await client.flushall()
            assert await client.set("k", "v") is True
            assert await client.get("k") == b"v"
            assert await client.incrby("n", 3) == 3
            async with client.pipeline(transaction=False) as pipe:
                for i in range(200):
                    pipe.set(f"a:{i}", i)
                pipe.get("a:199")
                results = await pipe.execute()
            assert results[-1] == b"199"
            value = random.Random(3).randbytes(BIG)
            await client.set("big", value)
            assert await client.get("big") == value
        finally:
            await client.aclose()

    asyncio.run(main())


@pytest.mark.parametrize("protocol", PROTOCOLS, ids=lambda p: f"resp{p}")
def test_many_asyncio_clients(slotd_proc: ServerProcess, protocol: int) -> None:
    clients_count, rounds = 100, 20

    async def worker(i: int) -> None:
        client = redis.asyncio.Redis(port=slotd_proc.port, protocol=protocol)
        try:
            for j in range(rounds):
                await client.incr("counter")
                await client.set(f"w:{i}", j)
            assert await client.get(f"w:{i}") == str(rounds - 1).encode()
        finally:
            await client.aclose()

    async def main() -> None:
        admin = redis.asyncio.Redis(port=slotd_proc.port, protocol=protocol)
        try:
            await admin.delete("counter")
            await asyncio.gather(*(worker(i) for i in range(clients_count)))
            assert await admin.get("counter") == str(clients_count * rounds).encode()
        finally:
            await admin.aclose()

    asyncio.run(main())
