"""SORT and SORT_RO through the engine (no sockets). Every expectation here was checked
against redis-server 7.0.15: `SLOTD_VERIFY_PORT=<port> pytest tests/commands/test_sort.py`
runs the same tests against a real server (see tests/commands/realharness.py).

Sets are built as intsets or from a single member where the test reads their order:
a hashtable set's order is Redis's own business."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.commands.realharness import harness

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
SYNTAX = "ERR syntax error"
NOT_INTEGER = "ERR value is not an integer or out of range"
NOT_DOUBLE = "ERR One or more scores can't be converted into double"


@pytest.fixture
def h() -> Iterator[Any]:
    with harness() as made:
        yield made


@pytest.fixture
def h3() -> Iterator[Any]:
    with harness(resp=3) as made:
        yield made


def weights(h: Any) -> None:
    """l = a b c d; w_x numeric weights, o_x letters, h_x hashes (d has none)."""
    h("RPUSH", "l", "a", "b", "c", "d")
    h("MSET", "w_a", "3", "w_b", "1", "w_c", "2", "o_a", "A", "o_b", "B")
    h("HSET", "h_a", "f", "30", "g", "x")
    h("HSET", "h_b", "f", "10")
    h("HSET", "h_c", "f", "20")


# ==== numeric sorting ==========================================================================
def test_numeric_sort_of_a_list(h: Any) -> None:
    h("RPUSH", "l", "3", "1", "2", "10", " 5", "0x10", "", "1\0zz", "-inf", "2.5")
    assert h("SORT", "l") == [
        b"-inf",
        b"",
        b"1",
        b"1\0zz",
        b"2",
        b"2.5",
        b"3",
        b" 5",
        b"10",
        b"0x10",
    ]
    assert h("SORT", "l", "DESC") == [
        b"0x10",
        b"10",
        b" 5",
        b"3",
        b"2.5",
        b"2",
        b"1\0zz",
        b"1",
        b"",
        b"-inf",
    ]


def test_numeric_ties_compare_the_elements(h: Any) -> None:
    h("RPUSH", "l", "1.0", "1", "01", "-0", "0", "1e0")
    assert h("SORT", "l") == [b"-0", b"0", b"01", b"1", b"1.0", b"1e0"]


@pytest.mark.parametrize(
    "bad",
    [
        "a",
        "1x",
        "nan",
        "1e400",
        "-1e400",
        "1e-400",
        "4.9e-324",
        "1e-320",
        "2.2250738585072012e-308",
        " ",
    ],
)
def test_numeric_sort_rejects_what_strtod_rejects(h: Any, bad: str) -> None:
    h("ZADD", "errno", "1", "x")  # Redis keeps a stale ERANGE: reset it with a ZADD
    h("RPUSH", "l", "1", bad)
    assert h.error("SORT", "l") == NOT_DOUBLE


@pytest.mark.parametrize(
    "good",
    [
        "0x1p-1074",
        "0x1p-1022",
        "2.2250738585072014e-308",
        "0e-5000",
        "1e-300",
        "",
        "  7",
        "INF",
        "-Infinity",
    ],
)
def test_numeric_sort_accepts_what_strtod_accepts(h: Any, good: str) -> None:
    h("ZADD", "errno", "1", "x")
    h("RPUSH", "l", good)
    assert h("SORT", "l") == [good.encode()]


def test_sort_of_sets_and_sorted_sets(h: Any) -> None:
    h("SADD", "s", "5", "-1", "30", "2")
    assert h("SORT", "s") == [b"-1", b"2", b"5", b"30"]
    assert h("SORT", "s", "DESC", "LIMIT", "1", "2") == [b"5", b"2"]
    h("ZADD", "z", "1", "10", "2", "9", "3", "8")
    assert h("SORT", "z") == [b"8", b"9", b"10"]
    h("ZADD", "zw", "1", "a", "2", "b")
    assert h.error("SORT", "zw") == NOT_DOUBLE


def test_sort_converts_a_sorted_set_to_skiplist(h: Any) -> None:
    h("ZADD", "z", "1", "a", "2", "b")
    assert h("OBJECT", "ENCODING", "z") == b"listpack"
    assert h.error("SORT", "z") == NOT_DOUBLE  # even when it then fails
    assert h("OBJECT", "ENCODING", "z") == b"skiplist"
    h("ZADD", "z2", "1", "a")
    assert h("SORT_RO", "z2", "BY", "nosort") == [b"a"]
    assert h("OBJECT", "ENCODING", "z2") == b"skiplist"


# ==== ALPHA ===================================================================================
def test_alpha_is_byte_order_up_to_the_first_nul(h: Any) -> None:
    h("RPUSH", "a", "b", "a", "c", "B", b"\xc3\xa9", b"\xff", "a\0z", "a\0b", "a", b"\x80")
    # strcoll sees "a\0z" and "a\0b" as "a": ties keep the list's order (stable qsort).
    assert h("SORT", "a", "ALPHA") == [
        b"B",
        b"a",
        b"a\0z",
        b"a\0b",
        b"a",
        b"b",
        b"c",
        b"\x80",
        b"\xc3\xa9",
        b"\xff",
    ]
    assert h("SORT", "a", "ALPHA", "DESC") == [
        b"\xff",
        b"\xc3\xa9",
        b"\x80",
        b"c",
        b"b",
        b"a",
        b"a\0z",
        b"a\0b",
        b"a",
        b"B",
    ]
    # Storing compares with memcmp: the NULs count.
    assert h("SORT", "a", "ALPHA", "STORE", "dst") == 10
    assert h("LRANGE", "dst", 0, 3) == [b"B", b"a", b"a", b"a\0b"]


# ==== LIMIT ===================================================================================
@pytest.mark.parametrize(
    ("offset", "count", "want"),
    [
        (1, 2, [b"2", b"3"]),
        (-1, 2, [b"1", b"2"]),
        (1, -2, [b"2", b"3", b"5", b"7", b"8", b"9", b"10"]),
        (7, 2, [b"10"]),
        (8, 2, []),
        (100, 2, []),
        (0, 0, []),
        (5, 9223372036854775807, [b"8", b"9", b"10"]),
        (
            -9223372036854775808,
            9223372036854775807,
            [b"1", b"2", b"3", b"5", b"7", b"8", b"9", b"10"],
        ),
    ],
)
def test_limit(h: Any, offset: int, count: int, want: list[bytes]) -> None:
    h("RPUSH", "l", "3", "1", "2", "10", "5", "7", "8", "9")
    assert h("SORT", "l", "LIMIT", offset, count) == want


def test_limit_errors(h: Any) -> None:
    h("RPUSH", "l", "1")
    assert h.error("SORT", "l", "LIMIT", "x", "1") == NOT_INTEGER
    assert h.error("SORT", "l", "LIMIT", "1", "1.5") == NOT_INTEGER
    assert h.error("SORT", "l", "LIMIT", "1") == SYNTAX
    assert h.error("SORT", "nokey", "LIMIT", "x", "1") == NOT_INTEGER


# ==== BY and GET ===============================================================================
def test_by_weights(h: Any) -> None:
    weights(h)
    # d has no weight: 0, the smallest.
    assert h("SORT", "l", "BY", "w_*") == [b"d", b"b", b"c", b"a"]
    assert h("SORT", "l", "BY", "w_*", "DESC") == [b"a", b"c", b"b", b"d"]
    assert h("SORT", "l", "BY", "h_*->f") == [b"d", b"b", b"c", b"a"]
    assert h("SORT", "l", "BY", "h_*->f", "ALPHA", "DESC") == [b"a", b"c", b"b", b"d"]
    # "->" at the end is no field: the key "h_a->" does not exist.
    assert h("SORT", "l", "BY", "h_*->") == [b"a", b"b", b"c", b"d"]
    assert h.error("SORT", "l", "BY", "o_*") == NOT_DOUBLE


def test_by_alpha_ties_keep_the_order_or_follow_pqsort(h: Any) -> None:
    weights(h)
    # c and d have no o_ weight: they sort first, in list order.
    assert h("SORT", "l", "BY", "o_*", "ALPHA") == [b"c", b"d", b"a", b"b"]
    assert h("SORT", "l", "BY", "o_*", "ALPHA", "DESC", "LIMIT", "1", "2") == [b"a", b"c"]
    h("RPUSH", "big", *[str(i) for i in range(60)])
    assert h("SORT", "big", "BY", "nothing_*", "ALPHA", "LIMIT", "0", "60")[:3] == [
        b"0",
        b"1",
        b"2",
    ]
    # LIMIT that cuts: Redis's pqsort moves the tied elements around.
    assert h("SORT", "big", "BY", "nothing_*", "ALPHA", "LIMIT", "0", "5") == [
        b"59",
        b"1",
        b"2",
        b"3",
        b"4",
    ]
    assert h("SORT", "big", "BY", "nothing_*", "ALPHA", "DESC", "LIMIT", "5", "7") == [
        b"5",
        b"6",
        b"7",
        b"8",
        b"9",
        b"10",
        b"11",
    ]


def test_get_patterns(h: Any) -> None:
    weights(h)
    assert h(
        "SORT", "l", "BY", "w_*", "GET", "#", "GET", "o_*", "GET", "h_*->f", "GET", "nostar"
    ) == [
        b"d",
        None,
        None,
        None,
        b"b",
        b"B",
        b"10",
        None,
        b"c",
        None,
        b"20",
        None,
        b"a",
        b"A",
        b"30",
        None,
    ]
    # "#" is checked as a C string; other patterns keep their bytes after a NUL.
    assert h("SORT", "l", "BY", "nosort", "GET", "#\0junk") == [b"a", b"b", b"c", b"d"]
    assert h("SORT", "l", "BY", "nosort", "GET", "o_\0*") == [None, None, None, None]
    h("SET", "o_a\0x", "hidden")
    assert h("SORT", "l", "BY", "nosort", "GET", "o_*\0x", "LIMIT", "0", "1") == [b"hidden"]
    # A pattern whose key holds another type gives nil.
    assert h("SORT", "l", "BY", "nosort", "GET", "h_*", "LIMIT", "0", "1") == [None]
    assert h("SORT", "l", "BY", "nosort", "GET", "w_*->f", "LIMIT", "0", "1") == [None]


def test_get_resp3_nulls(h3: Any) -> None:
    h3("RPUSH", "l", "a")
    assert h3.raw("SORT", "l", "BY", "nosort", "GET", "#", "GET", "x_*") == (
        b"*2\r\n$1\r\na\r\n_\r\n"
    )


def test_nosort_keeps_list_and_zset_order(h: Any) -> None:
    h("RPUSH", "l", "c", "a", "b", "x", "y")
    assert h("SORT", "l", "BY", "nosort") == [b"c", b"a", b"b", b"x", b"y"]
    assert h("SORT", "l", "BY", "nosort", "DESC") == [b"y", b"x", b"b", b"a", b"c"]
    assert h("SORT", "l", "BY", "nosort", "LIMIT", "1", "2") == [b"a", b"b"]
    assert h("SORT", "l", "BY", "nosort", "DESC", "LIMIT", "1", "2") == [b"x", b"b"]
    assert h("SORT", "l", "BY", "nosort", "DESC", "LIMIT", "1", "0") == []
    h("ZADD", "z", "1", "c", "2", "a", "3", "b")
    assert h("SORT", "z", "BY", "nosort") == [b"c", b"a", b"b"]
    assert h("SORT", "z", "BY", "nosort", "DESC", "LIMIT", "1", "5") == [b"a", b"c"]
    # A constant BY disables sorting even if a later BY has a star.
    assert h("SORT", "l", "BY", "nosort", "BY", "w_*") == [b"c", b"a", b"b", b"x", b"y"]


def test_nosort_set_with_store_is_sorted_alpha(h: Any) -> None:
    h("SADD", "s", "c", "a", "b")
    assert h("SORT", "s", "ALPHA") == [b"a", b"b", b"c"]
    assert h("SORT", "s", "BY", "nosort", "STORE", "d", "DESC") == 3
    assert h("LRANGE", "d", 0, -1) == [b"c", b"b", b"a"]
    h("SADD", "i", "3", "1", "2")
    assert h("SORT", "i", "BY", "nosort", "DESC") == [b"1", b"2", b"3"]  # intset order


# ==== STORE ===================================================================================
def test_store(h: Any) -> None:
    weights(h)
    assert h("SORT", "l", "BY", "w_*", "LIMIT", "0", "2", "GET", "o_*", "STORE", "dst") == 2
    assert h("LRANGE", "dst", 0, -1) == [b"", b"B"]  # a GET miss is stored as ""
    assert h("TYPE", "dst") == b"list"
    assert h("SORT", "l", "ALPHA", "STORE", "d3", "STORE", "d4") == 4
    assert h("EXISTS", "d3", "d4") == 1
    h("EXPIRE", "d4", 100)
    assert h("SORT", "l", "ALPHA", "STORE", "d4") == 4
    assert h("TTL", "d4") == -1


def test_store_of_nothing_deletes_the_destination(h: Any) -> None:
    h("SET", "dst", "x")
    assert h("SORT", "nokey", "STORE", "dst") == 0
    assert h("EXISTS", "dst") == 0
    h("RPUSH", "l", "1")
    h("SET", "dst", "x")
    assert h("SORT", "l", "LIMIT", "5", "1", "STORE", "dst") == 0
    assert h("EXISTS", "dst") == 0


def test_store_may_overwrite_the_source(h: Any) -> None:
    h("RPUSH", "l", "3", "1", "2")
    assert h("SORT", "l", "STORE", "l") == 3
    assert h("LRANGE", "l", 0, -1) == [b"1", b"2", b"3"]


# ==== errors and SORT_RO ========================================================================
def test_syntax_errors_come_before_the_key(h: Any) -> None:
    h("SET", "str", "x")
    assert h.error("SORT", "str") == WRONGTYPE
    assert h.error("SORT", "str", "junk") == SYNTAX
    h("HSET", "hash", "f", "v")
    assert h.error("SORT", "hash") == WRONGTYPE
    for incomplete in (("BY",), ("GET",), ("STORE",), ("LIMIT", "1")):
        assert h.error("SORT", "l", *incomplete) == SYNTAX
    assert h("SORT", "nokey", "alpha\0x") == []


def test_sort_ro(h: Any) -> None:
    h("RPUSH", "l", "2", "1")
    assert h("SORT_RO", "l") == [b"1", b"2"]
    assert h.error("SORT_RO", "l", "STORE", "dst") == SYNTAX
    assert h("SORT_RO", "l", "BY", "nosort", "GET", "#", "DESC") == [b"1", b"2"]


def test_getkeys(h: Any) -> None:
    assert h("COMMAND", "GETKEYS", "SORT", "k", "STORE", "d") == [b"k", b"d"]
    assert h("COMMAND", "GETKEYS", "SORT", "k", "STORE", "d", "store", "e") == [b"k", b"e"]
    assert h("COMMAND", "GETKEYS", "SORT", "k", "STORE") == [b"k"]
    assert h("COMMAND", "GETKEYS", "SORT", "k", "LIMIT", "store", "x", "STORE", "z") == [b"k", b"z"]
    assert h("COMMAND", "GETKEYS", "SORT", "k", "GET", "store", "STORE", "z") == [b"k", b"z"]
    assert h("COMMAND", "GETKEYS", "SORT", "k", "STORE", "store", "x") == [b"k", b"x"]
    assert h("COMMAND", "GETKEYS", "SORT", "k", "STORE\0x", "d") == [b"k", b"d"]
    assert h("COMMAND", "GETKEYSANDFLAGS", "SORT", "k", "STORE", "d") == [
        [b"k", [b"RO", b"access"]],
        [b"d", [b"OW", b"update"]],
    ]
    assert h("COMMAND", "GETKEYS", "SORT_RO", "k", "STORE", "d") == [b"k"]
