"""List commands against a real redis-server, reply bytes compared."""

from __future__ import annotations

import pytest

from tests.compat.conftest import Differ

pytestmark = pytest.mark.interop


def test_push_pop_range(diff: Differ) -> None:
    diff("RPUSH", "l", "a", "b", "c", "d", "e")
    diff("LPUSH", "l", "z")
    for start, stop in [(0, -1), (1, 3), (-3, -1), (-100, 100), (4, 2), (10, 20)]:
        diff("LRANGE", "l", start, stop)
    diff("LPOP", "l")
    diff("RPOP", "l", 2)
    diff("LPOP", "l", 0)
    diff("LPOP", "nokey")
    diff("LPOP", "nokey", 3)
    diff("LPOP", "l", -1)
    diff("LPOP", "l", "x")
    diff("LLEN", "l")
    diff("LPUSHX", "nokey", "a")
    diff("RPUSHX", "l", "y")


def test_index_set_trim_rem_insert(diff: Differ) -> None:
    diff("RPUSH", "l", *"abcabcabc")
    diff("LINDEX", "l", -1)
    diff("LINDEX", "l", 100)
    diff("LINDEX", "l", "1.5")
    diff("LSET", "l", 0, "A")
    diff("LSET", "l", 100, "A")
    diff("LSET", "nokey", 0, "A")
    diff("LREM", "l", -1, "c")
    diff("LREM", "l", 0, "b")
    diff("LINSERT", "l", "BEFORE", "c", "X")
    diff("LINSERT", "l", "AFTER", "nope", "X")
    diff("LINSERT", "l", "SIDEWAYS", "c", "X")
    diff("LTRIM", "l", 1, -2)
    diff("LRANGE", "l", 0, -1)
    diff("LTRIM", "l", 5, 1)
    diff("EXISTS", "l")


def test_lpos(diff: Differ) -> None:
    diff("RPUSH", "l", *"abcabcab")
    for extra in [
        (),
        ("RANK", 2),
        ("RANK", -2),
        ("COUNT", 0),
        ("COUNT", 2, "RANK", -1),
        ("MAXLEN", 2),
        ("RANK", 0),
        ("COUNT", -1),
        ("MAXLEN", -1),
        ("RANK",),
        ("RANK", "-9223372036854775808"),
        ("BOGUS", 1),
    ]:
        diff("LPOS", "l", "b", *extra)
    diff("LPOS", "nokey", "b")
    diff("LPOS", "nokey", "b", "COUNT", 0)


def test_moves_and_mpop(diff: Differ) -> None:
    diff("RPUSH", "a", "1", "2", "3")
    diff("LMOVE", "a", "b", "LEFT", "RIGHT")
    diff("LMOVE", "a", "a", "RIGHT", "LEFT")
    diff("RPOPLPUSH", "a", "b")
    diff("LMOVE", "nokey", "b", "LEFT", "LEFT")
    diff("LMOVE", "a", "b", "UP", "LEFT")
    diff("SET", "s", "x")
    diff("LMOVE", "a", "s", "LEFT", "LEFT")
    diff("LMPOP", 2, "nokey", "a", "LEFT", "COUNT", 5)
    diff("LMPOP", 1, "a", "LEFT")
    for bad in [
        (0, "a", "LEFT"),
        (3, "a", "LEFT"),
        (1, "a", "LEFT", "COUNT", 0),
        (1, "a", "LEFT", "COUNT"),
        (1, "a", "UP"),
        ("x", "a", "LEFT"),
    ]:
        diff("LMPOP", *bad)
    diff("LPUSH", "s", "x")


def test_blocking_with_data_and_errors(diff: Differ) -> None:
    diff("RPUSH", "b", "x", "y", "z")
    diff("BLPOP", "a", "b", 0)
    diff("BRPOP", "b", "0.5")
    diff("BLMOVE", "b", "c", "LEFT", "LEFT", 0)
    diff("BLMPOP", 0, 2, "a", "c", "RIGHT", "COUNT", 3)
    diff("BLPOP", "a", -1)
    diff("BLPOP", "a", "abc")
    diff("BLPOP", "a", "inf")
    diff("BLPOP", "a", "0.01")
    diff("BLMOVE", "a", "c", "LEFT", "LEFT", "0.01")
    diff("BLMPOP", "0.01", 1, "a", "LEFT")


def test_resp3_shapes(diff: Differ) -> None:
    diff.both("HELLO", "3")  # the reply carries the connection id, which differs
    diff("LPOP", "nokey")
    diff("LPOP", "nokey", 2)
    diff("RPUSH", "l", "a")
    diff("LPOS", "l", "q")
    diff("LMPOP", 1, "nokey", "LEFT")
    diff("BLPOP", "nokey", "0.01")
