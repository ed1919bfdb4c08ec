"""MEMORY USAGE against a real redis-server, for every shape whose size follows from the
data alone (node/engine/memusage.py): strings of each encoding, intsets, listpacks, lists
pushed at the tail, hash tables grown by inserts (SAMPLES 0: every element, and the
default sampling), streams with groups. Skiplist levels are random in Redis, so sorted
sets in that encoding are only checked to be close."""

from __future__ import annotations

import pytest

from tests.compat.conftest import Differ

pytestmark = pytest.mark.interop


def _usage(diff: Differ, key: str, *samples: str) -> bytes:
    args = ("SAMPLES", *samples) if samples else ()
    return diff("MEMORY", "USAGE", key, *args)


def test_usage_errors_and_missing_keys(diff: Differ) -> None:
    diff("SET", "k", "v")
    for args in (
        (),
        ("SAMPLES",),
        ("SAMPLES", "x"),
        ("SAMPLES", "-1"),
        ("FOO", "1"),
        ("SAMPLES", "1", "SAMPLES"),
        ("samples", "0", "samples", "3"),
    ):
        diff("MEMORY", "USAGE", "k", *args)
        diff("MEMORY", "USAGE", "nokey", *args)
    diff("MEMORY", "USAGE")
    diff("MEMORY", "NOSUCH")
    diff("MEMORY", "PURGE")
    diff("MEMORY", "STATS", "x")
    diff("MEMORY", "HELP")


def test_usage_of_strings(diff: Differ) -> None:
    values = [
        "a",
        "12345",
        "-1",
        "01",
        "9223372036854775807",
        "9223372036854775808",
        "x" * 20,
        "x" * 44,
        "x" * 45,
        "x" * 100,
        "x" * 255,
        "x" * 1000,
        "x" * 5000,
        "x" * 40000,
        "x" * 70000,
        "3.14",
    ]
    for n, value in enumerate(values):
        for key in (f"k{n}", "K" * 31 + str(n), "L" * 300 + str(n)):
            diff("SET", key, value)
            _usage(diff, key)
    # An APPEND that grows the string leaves Redis's greedy allocation (the next ones may
    # fit in it, which the data alone cannot tell): each case grows once.
    for n, chunk in enumerate(("y" * 50, "w" * 300, "v" * 3000, "u" * 70000)):
        diff("SET", f"grown{n}", "abc")
        diff("APPEND", f"grown{n}", chunk)
        _usage(diff, f"grown{n}")
    diff("APPEND", "fresh", "y" * 50)
    _usage(diff, "fresh")
    diff("SET", "n", "12345")
    diff("INCR", "n")
    _usage(diff, "n")


def test_usage_of_hashes(diff: Differ) -> None:
    diff("HSET", "small", "f", "v")
    _usage(diff, "small")
    fields = [x for i in range(100) for x in (f"f{i}", f"v{i}")]
    diff("HSET", "lp", *fields)
    _usage(diff, "lp")
    diff("HSET", "ints", *[x for i in range(60) for x in (str(i * 1000), str(-i))])
    _usage(diff, "ints")
    big = [x for i in range(300) for x in (f"field:{i}", f"value:{i * 7}")]
    diff("HSET", "ht", *big)
    for samples in ("0", "1", "5", "300"):
        _usage(diff, "ht", samples)
    _usage(diff, "ht")
    diff("HSET", "long", "f", "x" * 100)
    _usage(diff, "long", "0")


def test_usage_of_sets(diff: Differ) -> None:
    for key, members in (
        ("i16", ["1", "2", "3"]),
        ("i32", ["1", "70000"]),
        ("i64", ["1", "5000000000"]),
        ("neg", ["-40000", "7"]),
    ):
        diff("SADD", key, *members)
        _usage(diff, key)
    diff("SADD", "many", *[str(i) for i in range(600)])
    _usage(diff, "many", "0")
    _usage(diff, "many")
    # Away from an incremental rehash, whose progress depends on Redis's random hash seed.
    for n in (3, 20, 30, 60, 64, 120, 128, 250, 256, 480):
        diff("SADD", f"words{n}", *[f"member-{i}" for i in range(n)])
        _usage(diff, f"words{n}", "0")
        _usage(diff, f"words{n}")


def test_usage_of_lists(diff: Differ) -> None:
    diff("RPUSH", "short", "a", "b", "c")
    _usage(diff, "short")
    diff("RPUSH", "ints", *[str(i) for i in range(1000)])
    _usage(diff, "ints")
    diff("RPUSH", "nodes", *[f"element-number-{i}" for i in range(3000)])
    for samples in ((), ("0",), ("1",), ("2",)):
        _usage(diff, "nodes", *samples)
    diff("RPUSH", "wide", *["w" * 500 for _ in range(100)])
    _usage(diff, "wide", "0")
    _usage(diff, "wide")


def test_usage_of_small_sorted_sets(diff: Differ) -> None:
    diff("ZADD", "z", "1", "a", "2.5", "b", "-3", "c", "1e100", "d")
    _usage(diff, "z")
    diff("ZADD", "zi", *[x for i in range(100) for x in (str(i), f"m{i}")])
    _usage(diff, "zi")


def test_usage_of_skiplists_is_close(diff: Differ) -> None:
    diff("ZADD", "big", *[x for i in range(500) for x in (str(i), f"member-{i}")])
    ours, theirs = diff.both("MEMORY", "USAGE", "big", "SAMPLES", "0")
    a, b = int(ours[1:]), int(theirs[1:])
    assert abs(a - b) <= b * 0.05, (a, b)


def test_usage_of_streams(diff: Differ) -> None:
    diff("XADD", "s", "1-1", "f", "v")
    _usage(diff, "s")
    diff("XADD", "s", "1-2", "field", "value")
    _usage(diff, "s")
    for i in range(3, 251):
        diff("XADD", "s", f"1-{i}", "f", f"value-{i}")
    _usage(diff, "s")
    _usage(diff, "s", "0")
    _usage(diff, "s", "1")
    diff("XGROUP", "CREATE", "s", "g", "0")
    _usage(diff, "s")
    diff("XREADGROUP", "GROUP", "g", "alice", "COUNT", "20", "STREAMS", "s", ">")
    diff("XREADGROUP", "GROUP", "g", "bob", "COUNT", "5", "STREAMS", "s", ">")
    _usage(diff, "s")
    diff("XADD", "e", "MAXLEN", "0", "5-5", "f", "v")
    _usage(diff, "e")
