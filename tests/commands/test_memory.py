"""MEMORY USAGE/STATS/DOCTOR/MALLOC-STATS/PURGE/HELP, and the memory accounting behind
used_memory (node/engine/memory.py): its running totals must always equal a fresh costing
of the keys as they are, whatever the commands did."""

from __future__ import annotations

import random

import hiredis
import pytest

from node.engine import footprint
from tests.support import Harness


def test_usage_matches_redis_for_each_shape() -> None:
    # The figures redis-server 7.0.15 gives for the same commands.
    h = Harness()
    cases = [
        (("SET", "s1", "a"), 64),
        (("SET", "s2", "12345"), 48),
        (("SET", "s3", "x" * 44), 96),
        (("SET", "s4", "x" * 45), 112),
        (("SET", "s5", "x" * 1000), 1072),
        (("RPUSH", "l1", "a", "b", "c"), 144),
        (("HSET", "h1", "f", "v"), 64),
        (("SADD", "set1", "1", "2", "3"), 64),
        (("SADD", "set2", "a", "b", "c"), 232),
        (("ZADD", "z1", "1", "a"), 64),
        (("XADD", "x1", "1-1", "f", "v"), 4728),
    ]
    for command, usage in cases:
        h(*command)
        assert h("MEMORY", "USAGE", command[1]) == usage, command


def test_usage_samples_option_and_errors() -> None:
    h = Harness()
    h("SADD", "s", *[f"member-{i}" for i in range(300)])
    assert h("MEMORY", "USAGE", "s", "SAMPLES", "0") == h("MEMORY", "USAGE", "s", "samples", "0")
    assert isinstance(h("MEMORY", "USAGE", "s", "SAMPLES", "1"), int)
    assert h.error("MEMORY", "USAGE", "s", "SAMPLES", "-1") == "ERR syntax error"
    assert h.error("MEMORY", "USAGE", "s", "SAMPLES") == "ERR syntax error"
    assert h.error("MEMORY", "USAGE", "s", "FOO") == "ERR syntax error"
    assert h.error("MEMORY", "USAGE", "s", "SAMPLES", "x") == (
        "ERR value is not an integer or out of range"
    )
    # Options are checked before the key is looked for.
    assert h.error("MEMORY", "USAGE", "nokey", "FOO") == "ERR syntax error"
    assert h.raw("MEMORY", "USAGE", "nokey") == b"$-1\r\n"
    assert Harness(resp=3).raw("MEMORY", "USAGE", "nokey") == b"_\r\n"
    assert h.error("MEMORY", "USAGE") == (
        "ERR wrong number of arguments for 'memory|usage' command"
    )


def test_usage_finds_an_expired_key_without_expiring_it() -> None:
    h = Harness()
    h("SET", "k", "v", "PX", "10")
    h.advance(20)
    assert h("MEMORY", "USAGE", "k") == 64
    assert b"k" in h.engine.db(0).data  # dictFind: not reclaimed
    assert h("GET", "k") is None


def test_stats_fields_in_resp2_and_resp3() -> None:
    h = Harness()
    h("SET", "a", "1")
    h("SELECT", "2")
    h("SET", "b", "2")
    reply = h("MEMORY", "STATS")
    names = reply[0::2]
    assert names[:10] == [
        b"peak.allocated",
        b"total.allocated",
        b"startup.allocated",
        b"replication.backlog",
        b"clients.slaves",
        b"clients.normal",
        b"cluster.links",
        b"aof.buffer",
        b"lua.caches",
        b"functions.caches",
    ]
    assert names[10:12] == [b"db.0", b"db.2"]
    assert reply[21][0::2] == [
        b"overhead.hashtable.main",
        b"overhead.hashtable.expires",
        b"overhead.hashtable.slot-to-keys",
    ]
    assert names[12:] == [
        b"overhead.total",
        b"keys.count",
        b"keys.bytes-per-key",
        b"dataset.bytes",
        b"dataset.percentage",
        b"peak.percentage",
        b"allocator.allocated",
        b"allocator.active",
        b"allocator.resident",
        b"allocator-fragmentation.ratio",
        b"allocator-fragmentation.bytes",
        b"allocator-rss.ratio",
        b"allocator-rss.bytes",
        b"rss-overhead.ratio",
        b"rss-overhead.bytes",
        b"fragmentation",
        b"fragmentation.bytes",
    ]
    stats = dict(zip(names, reply[1::2], strict=True))
    assert stats[b"keys.count"] == 2
    assert isinstance(stats[b"dataset.percentage"], bytes)  # a double, as a RESP2 bulk
    h3 = Harness(h.engine, resp=3)
    raw = h3.raw("MEMORY", "STATS")
    assert raw.startswith(b"%29\r\n")
    assert isinstance(h3("MEMORY", "STATS")[b"dataset.percentage"], float)


def test_doctor_on_an_empty_and_on_a_full_instance() -> None:
    h = Harness()
    assert h("MEMORY", "DOCTOR").startswith(b"Hi Sam, this instance is empty")
    assert Harness(h.engine, resp=3).raw("MEMORY", "DOCTOR").startswith(b"=")
    memory = h.engine.memory
    h("CONFIG", "SET", "maxmemory", "1gb")  # accounting on
    h("SET", "big", "x" * (6 << 20))
    memory.peak = memory.used()
    assert h("MEMORY", "DOCTOR").startswith(b"Hi Sam, I can't find any memory issue")
    memory.peak = memory.used() * 2
    report = h("MEMORY", "DOCTOR")
    assert report.startswith(b"Sam, I detected a few issues")
    assert b" * Peak memory:" in report


def test_malloc_stats_purge_help() -> None:
    h = Harness()
    assert h("MEMORY", "MALLOC-STATS") == b"Stats not supported for the current allocator"
    assert h("MEMORY", "PURGE") == b"OK"
    assert h.engine.memory.purge_requested
    lines = h("MEMORY", "HELP")
    assert lines[0] == b"MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    assert lines[-2:] == [b"HELP", b"    Prints this help."]
    assert h.error("MEMORY", "NOPE").startswith("ERR unknown subcommand 'NOPE'")


# --- accounting ---------------------------------------------------------------------------
def _recounted(h: Harness) -> list[int]:
    """Every database's keys costed now, with the per-element costs the accounting holds."""
    memory = h.engine.memory
    return [
        sum(memory.cost(db.index, k, v) for k, v in db.data.items()) for db in h.engine.keyspace.dbs
    ]


def test_accounting_is_off_without_maxmemory_and_the_fast_path_stays() -> None:
    h = Harness()
    assert not h.engine.full_dispatch and not h.engine.memory.hooked
    h("SET", "k", "v")
    assert h.engine.memory.dataset[0] == 0
    h("CONFIG", "SET", "maxmemory", "100mb")
    assert h.engine.full_dispatch and h.engine.memory.accounting
    assert h.engine.memory.dataset == _recounted(h)  # switching it on counts what is there
    h("CONFIG", "SET", "maxmemory", "0")
    assert not h.engine.full_dispatch


def test_used_memory_follows_writes_and_deletes() -> None:
    h = Harness(maxmemory="1gb")
    memory = h.engine.memory
    before = memory.used()
    h("SET", "key", "x" * 10000)
    grown = memory.used() - before
    assert 10000 <= grown <= 10300
    h("DEL", "key")
    assert memory.dataset[0] == 0


COMMANDS = [
    ("SET", "{k}", "{v}"),
    ("SET", "{k}", "{v}", "EX", "100"),
    ("APPEND", "{k}", "{v}"),
    ("SETRANGE", "{k}", "3", "{v}"),
    ("INCR", "n{i}"),
    ("DEL", "{k}", "{k2}"),
    ("UNLINK", "{k}"),
    ("GETDEL", "{k}"),
    ("EXPIRE", "{k}", "5"),
    ("PERSIST", "{k}"),
    ("RPUSH", "l{i}", "{v}", "{v}", "{v}"),
    ("LPUSH", "l{i}", "{v}"),
    ("LPOP", "l{i}"),
    ("RPOP", "l{i}", "2"),
    ("LSET", "l{i}", "0", "{v}"),
    ("LTRIM", "l{i}", "0", "5"),
    ("LMOVE", "l{i}", "l{j}", "LEFT", "RIGHT"),
    ("HSET", "h{i}", "{v}", "{v}", "f{j}", "{v}"),
    ("HDEL", "h{i}", "f{j}"),
    ("HINCRBY", "h{i}", "n", "3"),
    ("SADD", "s{i}", "{v}", "m{j}", "{j}"),
    ("SREM", "s{i}", "m{j}"),
    ("SPOP", "s{i}"),
    ("SMOVE", "s{i}", "s{j}", "m{j}"),
    ("SINTERSTORE", "s{j}", "s{i}", "s{j}"),
    ("ZADD", "z{i}", "{j}", "{v}", "1", "m{j}"),
    ("ZREM", "z{i}", "m{j}"),
    ("ZUNIONSTORE", "z{j}", "2", "z{i}", "z{j}"),
    ("XADD", "x{i}", "*", "f", "{v}"),
    ("XTRIM", "x{i}", "MAXLEN", "3"),
    ("XGROUP", "CREATE", "x{i}", "g{j}", "0", "MKSTREAM"),
    ("XREADGROUP", "GROUP", "g{j}", "c", "STREAMS", "x{i}", ">"),
    ("RENAME", "{k}", "{k2}"),
    ("COPY", "{k}", "{k2}", "REPLACE"),
    ("COPY", "{k}", "{k}", "DB", "1", "REPLACE"),
    ("MOVE", "{k}", "1"),
    ("SWAPDB", "0", "1"),
    ("SELECT", "{db}"),
    ("PFADD", "p{i}", "{v}"),
    ("PFCOUNT", "p{i}"),
    ("MSET", "{k}", "{v}", "{k2}", "{v}"),
    ("SORT", "l{i}", "ALPHA", "STORE", "l{j}"),
    ("FLUSHDB",),
    ("EVAL", "redis.call('SET', KEYS[1], ARGV[1])", "1", "{k}", "{v}"),
]


@pytest.mark.parametrize("seed", range(6))
def test_running_totals_never_drift(seed: int) -> None:
    """Random commands over every type, expiries and database moves: the totals are the
    sum of the keys' costs at all times."""
    rng = random.Random(seed)
    h = Harness(maxmemory="1gb")
    memory = h.engine.memory
    for step in range(400):
        template = rng.choice(COMMANDS)
        if template[0] == "FLUSHDB" and rng.random() < 0.9:
            continue
        size = rng.choice((1, 5, 40, 200, 3000))
        fill = {
            "k": f"k{rng.randrange(8)}",
            "k2": f"k{rng.randrange(8)}",
            "v": "v" * size,
            "i": rng.randrange(4),
            "j": rng.randrange(4),
            "db": rng.randrange(2),
        }
        argv = [part.format(**fill) for part in template]
        if rng.random() < 0.2:
            for n in range(rng.randrange(1, 90)):  # grow some containers past EXACT_LEN
                h("RPUSH", f"l{fill['i']}", f"e{n}")
                h("SADD", f"s{fill['i']}", f"e{n}")
        h(*argv)
        if step % 37 == 0:
            h.advance(rng.choice((10, 6000)))
            h.engine.keyspace.active_expire_cycle()
        if step % 53 == 0:
            memory.cron(0)  # refreshes cached per-element costs: booked, not drifting
        assert memory.dataset == _recounted(h), (step, argv)


def test_big_containers_use_a_cached_element_cost_refreshed_by_cron() -> None:
    h = Harness(maxmemory="1gb")
    memory = h.engine.memory
    h("RPUSH", "l", *["a" * 10 for _ in range(100)])
    assert b"l" in memory.per_element[0]
    for _ in range(50):
        h("LSET", "l", "0", "b" * 2000)
        h("LSET", "l", "99", "b" * 2000)
    stale = memory.dataset[0]
    memory.cron(0)
    assert memory.dataset[0] > stale  # the new sample sees the big elements
    assert memory.dataset == _recounted(h)


def test_footprint_of_strings() -> None:
    assert footprint.string_cost(b"") == 0
    assert footprint.string_cost(b"x") == 0  # interned
    assert footprint.string_cost(b"xx") == 48  # 33 + 2 bytes, in 16-byte steps
    assert footprint.string_cost(b"x" * 1000) == 1056  # malloc: header and 16-byte steps
    assert footprint.string_cost(bytearray(b"abc")) > 64


def test_lookups_are_hiredis_replies() -> None:
    assert isinstance(Harness()("MEMORY", "USAGE", "x", "SAMPLES", "x"), hiredis.ReplyError)
