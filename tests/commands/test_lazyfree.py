"""Lazy freeing (node/engine/lazyfree.py): UNLINK, FLUSHALL/FLUSHDB ASYNC and the
lazyfree-lazy-* options park big values instead of freeing them inside the command; the
shell's `drain` takes them apart a bounded amount at a time, and never touches a container
someone else still holds."""

from __future__ import annotations

from node.engine.lazyfree import LAZYFREE_THRESHOLD, LazyFree
from node.engine.types.hash import HashValue
from node.engine.types.set import SetValue
from node.engine.types.stream import Group, Stream
from node.engine.types.zset import ZSet
from tests.support import Harness

MEMBERS = [f"member:{i}" for i in range(1000)]


def _drained(h: Harness, budget: int = 100) -> int:
    lazyfree = h.engine.memory.lazyfree
    steps = 0
    while lazyfree:
        assert h.engine.memory.drain(budget) <= budget + 1
        steps += 1
    return steps


def _info(h: Harness) -> dict[bytes, bytes]:
    lines = h("INFO", "memory").split(b"\r\n")
    return dict(line.split(b":", 1) for line in lines if b":" in line)


def test_unlink_parks_a_big_value_and_drains_it_in_steps() -> None:
    h = Harness()
    h("SADD", "big", *MEMBERS)
    assert h("UNLINK", "big", "nokey") == 1
    assert not h("EXISTS", "big")
    assert _info(h)[b"lazyfree_pending_objects"] == b"1"
    assert _drained(h) >= 10  # a thousand members, a hundred at a time
    info = _info(h)
    assert info[b"lazyfree_pending_objects"] == b"0"
    assert info[b"lazyfreed_objects"] == b"1"


def test_small_values_are_freed_at_once() -> None:
    h = Harness()
    h("SADD", "small", *MEMBERS[:LAZYFREE_THRESHOLD])
    h("SET", "str", "x" * 100_000)  # a string frees in one step, whatever its size
    assert h("UNLINK", "small", "str") == 2
    assert not h.engine.memory.lazyfree


def test_del_is_lazy_only_with_lazyfree_lazy_user_del() -> None:
    h = Harness()
    h("RPUSH", "l", *MEMBERS)
    h("DEL", "l")
    assert not h.engine.memory.lazyfree
    h("CONFIG", "SET", "lazyfree-lazy-user-del", "yes")
    h("RPUSH", "l", *MEMBERS)
    assert h("DEL", "l") == 1
    assert h.engine.memory.lazyfree.pending_objects == 1
    _drained(h)


def test_flushall_async_parks_every_database() -> None:
    h = Harness()
    for db in ("0", "3"):
        h("SELECT", db)
        for i in range(200):
            h("SET", f"k{i}", "v", "EX", "100")
    h("ZADD", "z", *[x for i in range(300) for x in (str(i), f"m{i}")])
    assert h("FLUSHALL", "ASYNC") == b"OK"
    assert h("DBSIZE") == 0
    assert h.engine.memory.lazyfree.pending_objects == 401
    _drained(h)
    assert _info(h)[b"lazyfreed_objects"] == b"401"
    assert h.error("FLUSHALL", "LATER") == "ERR syntax error"
    assert h.error("FLUSHDB", "ASYNC", "SYNC") == "ERR syntax error"


def test_flush_modes_and_lazyfree_lazy_user_flush() -> None:
    h = Harness()
    for i in range(10):
        h("SET", f"k{i}", "v")
    h("FLUSHDB", "SYNC")
    assert not h.engine.memory.lazyfree
    h("CONFIG", "SET", "lazyfree-lazy-user-flush", "yes")
    h("SET", "k", "v")
    h("FLUSHDB")
    assert h.engine.memory.lazyfree.pending_objects == 1
    h("SET", "k", "v")
    h("FLUSHALL", "SYNC")  # an explicit SYNC wins
    assert h.engine.memory.lazyfree.pending_objects == 1


def test_lazy_expire_parks_expired_values() -> None:
    h = Harness(lazyfree_lazy_expire="yes")
    h("SADD", "s", *MEMBERS)
    h("PEXPIRE", "s", "10")
    h.advance(20)
    h.engine.keyspace.active_expire_cycle()
    assert not h("EXISTS", "s")
    assert h.engine.memory.lazyfree.pending_objects == 1


def test_lazy_server_del_parks_overwritten_values() -> None:
    h = Harness(lazyfree_lazy_server_del="yes")
    assert h.engine.full_dispatch  # overwrites are seen around each command
    h("HSET", "h", *[x for m in MEMBERS for x in (m, "v")])
    h("SET", "h", "now a string")
    assert h.engine.memory.lazyfree.pending_objects == 1
    h("SADD", "s", *MEMBERS)
    h("SET", "dst", "x")
    h("RENAME", "s", "dst")  # the small "x" goes at once; the set moved, it is not freed
    assert h.engine.memory.lazyfree.pending_objects == 1
    assert h("SCARD", "dst") == 1000


def test_drain_takes_apart_every_type() -> None:
    lazyfree = LazyFree()
    zset = ZSet()
    for i in range(500):
        zset.add(b"m%d" % i, float(i), 128, 64)
    stream = Stream()
    for i in range(500):
        stream.append(1000 + i, 0, [b"f", b"v%d" % i], 0, 100, 4096)
    group = stream.groups[b"g"] = Group(0, 0)
    consumer = group.create_consumer(b"alice", 0)
    for i in range(200):
        group.deliver((1000 + i) << 64, consumer, 0)
    values = [
        zset,
        stream,
        HashValue({b"f%d" % i: b"v" for i in range(500)}),
        SetValue([b"m%d" % i for i in range(500)]),
    ]
    for value in values:
        assert lazyfree.free(value, 1000)
    assert lazyfree.pending_bytes == 4000
    del values, zset, stream, group, consumer
    steps = 0
    while lazyfree:
        lazyfree.drain(50)
        steps += 1
    assert steps > 40
    assert lazyfree.pending_objects == 0 and lazyfree.freed_objects == 4
    assert lazyfree.pending_bytes == 0


def test_drain_leaves_shared_containers_alone() -> None:
    lazyfree = LazyFree()
    kept = HashValue({b"f%d" % i: b"v" for i in range(500)})
    assert lazyfree.free(kept)
    outer = {b"k%d" % i: b"v" for i in range(100)}
    outer[b"shared"] = kept  # type: ignore[assignment]
    lazyfree.free_database([outer, {}], 0)
    del outer
    while lazyfree:
        lazyfree.drain(10)
    assert len(kept) == 500  # still ours: let go of, never emptied
    assert lazyfree.freed_objects == 102  # the keys, and the hash let go of
