"""Sorted-set commands through the engine (no sockets). Every expectation here was checked
against redis-server 7.0.15: `SLOTD_VERIFY_PORT=<port> pytest tests/commands/test_zsets.py`
runs the same tests against a real server (see tests/commands/realharness.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.commands.realharness import engine_only, harness
from tests.support import Harness

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
NOT_INTEGER = "ERR value is not an integer or out of range"
NOT_FLOAT = "ERR value is not a valid float"
RANGE_NOT_FLOAT = "ERR min or max is not a float"
RANGE_NOT_LEX = "ERR min or max not valid string range item"
SYNTAX = "ERR syntax error"


@pytest.fixture
def h() -> Iterator[Any]:
    with harness() as made:
        yield made


@pytest.fixture
def h3() -> Iterator[Any]:
    with harness(resp=3) as made:
        yield made


def enc(h: Any, key: str) -> bytes:
    return h("OBJECT", "ENCODING", key)  # type: ignore[no-any-return]


def config(h: Any, name: str, value: object) -> None:
    assert h("CONFIG", "SET", name, str(value)) == b"OK"


@pytest.fixture
def small_listpack(h: Any) -> Iterator[None]:
    """zset-max-listpack-entries 4 for one test (restored for a real server)."""
    config(h, "zset-max-listpack-entries", 4)
    yield
    config(h, "zset-max-listpack-entries", 128)


def abcde(h: Any, key: str = "z") -> None:
    assert h("ZADD", key, 1, "a", 2, "b", 3, "c", 4, "d", 5, "e") == 5


# ==== ZADD ===================================================================================
def test_zadd_counts_added_members_and_updates_scores(h: Any) -> None:
    assert h("ZADD", "z", 1, "a", 2, "b", 3, "c") == 3
    assert h("ZADD", "z", 10, "a", 4, "d", 5, "d") == 1  # a updated, d added then updated
    assert h("ZRANGE", "z", 0, -1, "WITHSCORES") == [
        b"b",
        b"2",
        b"c",
        b"3",
        b"d",
        b"5",
        b"a",
        b"10",
    ]
    assert h("TYPE", "z") == b"zset"


def test_zadd_ch_counts_changed_members(h: Any) -> None:
    h("ZADD", "z", 1, "a", 2, "b", 3, "c")
    assert h("ZADD", "z", "CH", 1, "a", 20, "b", 4, "d") == 2
    assert h("ZADD", "z", "ch", "CH", 5, "e") == 1  # options may repeat, any case


def test_zadd_nx_xx(h: Any) -> None:
    h("ZADD", "z", 1, "a")
    assert h("ZADD", "z", "NX", "CH", 10, "a", 10, "n") == 1
    assert h("ZADD", "z", "XX", "CH", 20, "a", 20, "x") == 1
    assert h("ZRANGE", "z", 0, -1, "WITHSCORES") == [b"n", b"10", b"a", b"20"]
    assert h("ZADD", "missing", "XX", 1, "a") == 0
    assert h("EXISTS", "missing") == 0


def test_zadd_gt_lt_only_limit_updates(h: Any) -> None:
    h("ZADD", "z", 1, "a", 2, "b", 3, "c")
    assert h("ZADD", "z", "GT", "CH", 0, "a", 5, "b", 4, "d") == 2  # b raised, d added
    assert h("ZADD", "z", "LT", "CH", 0, "a", 5, "b", 4, "d") == 1  # a lowered
    assert h("ZADD", "z", "XX", "GT", 9, "c", 9, "new") == 0
    assert h("ZRANGE", "z", 0, -1, "WITHSCORES") == [b"a", b"0", b"d", b"4", b"b", b"5", b"c", b"9"]


def test_zadd_incr(h: Any) -> None:
    assert h("ZADD", "z", "INCR", 1.5, "a") == b"1.5"
    assert h("ZADD", "z", "INCR", 1, "a") == b"2.5"
    assert h("ZADD", "z", "INCR", 0, "a") == b"2.5"
    assert h("ZADD", "z", "NX", "INCR", 1, "a") is None
    assert h("ZADD", "z", "XX", "INCR", 1, "b") is None
    assert h("ZADD", "z", "GT", "INCR", -1, "a") is None
    assert h("ZADD", "z", "GT", "INCR", 1, "a") == b"3.5"
    assert h("ZADD", "z", "LT", "INCR", 1, "a") is None
    assert h("ZADD", "missing", "XX", "INCR", 1, "a") is None
    assert h("EXISTS", "missing") == 0
    assert h.raw("ZADD", "z", "NX", "INCR", 1, "a") == b"$-1\r\n"


def test_zadd_incr_overflows_to_inf_but_never_nan(h: Any) -> None:
    assert h("ZADD", "z", "INCR", "1e308", "a") == b"1e+308"
    assert h("ZADD", "z", "INCR", "1e308", "a") == b"inf"
    assert h.error("ZADD", "z", "INCR", "-inf", "a") == "ERR resulting score is not a number (NaN)"
    assert h("ZSCORE", "z", "a") == b"inf"
    assert h("ZADD", "z", "INCR", "inf", "b") == b"inf"  # new member: score as given


def test_zadd_option_errors(h: Any) -> None:
    assert (
        h.error("ZADD", "z", "XX", "NX", 1, "a")
        == "ERR XX and NX options at the same time are not compatible"
    )
    for opts in (("GT", "LT"), ("GT", "NX"), ("LT", "NX"), ("nx", "gt")):
        assert (
            h.error("ZADD", "z", *opts, 1, "a")
            == "ERR GT, LT, and/or NX options at the same time are not compatible"
        )
    assert (
        h.error("ZADD", "z", "INCR", 1, "a", 2, "b")
        == "ERR INCR option supports a single increment-element pair"
    )
    assert h.error("ZADD", "z", 1, "a", 2) == SYNTAX
    assert h.error("ZADD", "z", "NX", 1) == SYNTAX
    assert h.error("ZADD", "z", "foo", 1, "a") == SYNTAX
    assert h.error("ZADD", "z", "INCR", 1, "a", 2) == SYNTAX  # pairs are checked first
    assert (
        h.error("ZADD", "z", "XX", "NX", "GT", "LT", 1, "a")
        == "ERR XX and NX options at the same time are not compatible"
    )
    assert h.error("ZADD", "z", "NX") == "ERR wrong number of arguments for 'zadd' command"
    assert h("EXISTS", "z") == 0


def test_zadd_option_words_are_c_strings(h: Any) -> None:
    h("ZADD", "z", 1, "a")
    assert h("ZADD", "z", b"nx\x00junk", 5, "a") == 0  # read as NX
    assert h("ZSCORE", "z", "a") == b"1"


def test_zadd_checks_every_score_before_the_key(h: Any) -> None:
    h("SET", "s", "v")
    assert h.error("ZADD", "s", "abc", "x") == NOT_FLOAT
    assert h.error("ZADD", "s", 1, "x") == WRONGTYPE
    h("ZADD", "z", 1, "a")
    assert h.error("ZADD", "z", 5, "a", "bad", "b") == NOT_FLOAT
    assert h("ZSCORE", "z", "a") == b"1"  # nothing applied


@pytest.mark.parametrize(
    "score",
    [
        "nan",
        "NaN",
        "",
        " 1",
        "1 ",
        "1_000",
        "1e400",
        "-1e400",
        "1e-400",
        "0x",
        "1e",
        "++1",
        "inf1",
        b"1\x00",
    ],
)
def test_zadd_rejects_what_getdoublefromobject_rejects(h: Any, score: str | bytes) -> None:
    assert h.error("ZADD", "z", score, "m") == NOT_FLOAT


@pytest.mark.parametrize(
    ("score", "stored"),
    [
        ("0x10", b"16"),
        ("0x1.8p1", b"3"),
        ("+5", b"5"),
        (".5", b"0.5"),
        ("5.", b"5"),
        ("1E3", b"1000"),
        ("inf", b"inf"),
        ("+Inf", b"inf"),
        ("-infinity", b"-inf"),
        ("4e-320", b"3.999955468730732e-320"),
        ("0.1", b"0.10000000000000001"),
        ("1.5e-7", b"1.4999999999999999e-07"),
        ("123456789012345678", b"1.2345678901234568e+17"),
        ("1e20", b"1e+20"),
        ("-0.0", b"0"),
    ],
)
def test_scores_parse_like_strtod_and_print_as_17g(h: Any, score: str, stored: bytes) -> None:
    assert h("ZADD", "z", score, "m") == 1
    assert h("ZSCORE", "z", "m") == stored


def test_negative_zero_survives_only_in_a_skiplist(h: Any) -> None:
    config(h, "zset-max-listpack-entries", 0)
    try:
        h("ZADD", "s", "-0", "m")
        assert enc(h, "s") == b"skiplist"
        assert h("ZSCORE", "s", "m") == b"-0"
        assert h("ZADD", "s", "0", "m") == 0  # -0 == 0: no update
        assert h("ZSCORE", "s", "m") == b"-0"
        assert h("ZINCRBY", "s", 0, "m") == b"0"
    finally:
        config(h, "zset-max-listpack-entries", 128)
    h("ZADD", "l", "-0", "m")
    assert h("ZSCORE", "l", "m") == b"0"


# ==== ZINCRBY ================================================================================
def test_zincrby(h: Any) -> None:
    assert h("ZINCRBY", "z", 1.5, "a") == b"1.5"
    assert h("ZINCRBY", "z", -3, "a") == b"-1.5"
    assert h("ZINCRBY", "z", "1e308", "a") == b"1e+308"
    assert h.error("ZINCRBY", "z", "x", "a") == NOT_FLOAT
    h("ZADD", "i", "inf", "a")
    assert h.error("ZINCRBY", "i", "-inf", "a") == "ERR resulting score is not a number (NaN)"
    h("SET", "s", "v")
    assert h.error("ZINCRBY", "s", 1, "a") == WRONGTYPE


def test_zincrby_reads_zadd_options_first(h: Any) -> None:
    # ZINCRBY runs ZADD's option loop: an option word where the increment goes leaves an odd
    # number of arguments, a syntax error.
    for args in (("nx", "a"), ("incr", "a"), ("ch", "1")):
        assert h.error("ZINCRBY", "z", *args) == SYNTAX
    assert h("ZINCRBY", "z", 1, "nx") == b"1"


# ==== ZREM, ZCARD, ZSCORE, ZMSCORE, ZRANK ===================================================
def test_zrem_deletes_emptied_key(h: Any) -> None:
    abcde(h)
    assert h("ZREM", "z", "a", "x", "a", "b") == 2
    assert h("ZCARD", "z") == 3
    assert h("ZREM", "z", "c", "d", "e", "f") == 3
    assert h("EXISTS", "z") == 0
    assert h("ZREM", "z", "a") == 0
    assert h("ZCARD", "z") == 0


def test_reads_on_wrong_types(h: Any) -> None:
    h("SET", "s", "v")
    for args in (
        ("ZCARD", "s"),
        ("ZSCORE", "s", "a"),
        ("ZMSCORE", "s", "a"),
        ("ZRANK", "s", "a"),
        ("ZREVRANK", "s", "a"),
        ("ZREM", "s", "a"),
        ("ZRANGE", "s", 0, 1),
        ("ZCOUNT", "s", 0, 1),
        ("ZLEXCOUNT", "s", "-", "+"),
        ("ZPOPMIN", "s"),
        ("ZRANDMEMBER", "s"),
        ("ZSCAN", "s", 0),
        ("ZREMRANGEBYRANK", "s", 0, 1),
    ):
        assert h.error(*args) == WRONGTYPE


def test_zscore_zmscore_and_ranks(h: Any) -> None:
    abcde(h)
    assert h("ZSCORE", "z", "c") == b"3"
    assert h("ZSCORE", "z", "x") is None
    assert h("ZSCORE", "missing", "x") is None
    assert h("ZMSCORE", "z", "a", "x", "e") == [b"1", None, b"5"]
    assert h("ZMSCORE", "missing", "a", "b") == [None, None]
    assert h("ZRANK", "z", "a") == 0
    assert h("ZREVRANK", "z", "a") == 4
    assert h("ZRANK", "z", "x") is None
    assert h("ZREVRANK", "missing", "x") is None
    assert h.raw("ZRANK", "z", "x") == b"$-1\r\n"
    assert h.raw("ZMSCORE", "z", "x") == b"*1\r\n$-1\r\n"


def test_resp3_scores_are_doubles_and_misses_null(h3: Any) -> None:
    h3("ZADD", "z", 1, "a", 2.5, "b")
    assert h3.raw("ZSCORE", "z", "b") == b",2.5\r\n"
    assert h3.raw("ZSCORE", "z", "x") == b"_\r\n"
    assert h3.raw("ZMSCORE", "z", "a", "x") == b"*2\r\n,1\r\n_\r\n"
    assert h3.raw("ZINCRBY", "z", 1, "a") == b",2\r\n"
    assert h3.raw("ZADD", "z", "INCR", "inf", "a") == b",inf\r\n"
    assert h3.raw("ZADD", "z", "NX", "INCR", 1, "a") == b"_\r\n"
    assert h3.raw("ZRANK", "z", "x") == b"_\r\n"
    assert h3.raw("ZRANK", "z", "b") == b":0\r\n"


# ==== ZCOUNT, ZLEXCOUNT and range parsing ====================================================
def test_zcount(h: Any) -> None:
    abcde(h)
    assert h("ZCOUNT", "z", "-inf", "+inf") == 5
    assert h("ZCOUNT", "z", "(1", "(5") == 3
    assert h("ZCOUNT", "z", "(1", "(1") == 0
    assert h("ZCOUNT", "z", 2, 2) == 1
    assert h("ZCOUNT", "z", 5, 1) == 0
    assert h("ZCOUNT", "missing", 0, 1) == 0


@pytest.mark.parametrize(
    ("bound", "count"),
    [
        ("", 5),
        ("(", 5),
        (" 3", 3),
        ("(\t3", 2),
        ("1e400", 0),
        ("-1e400", 5),
        ("0x1p1", 4),
        (b"3\x00junk", 3),
    ],
)
def test_score_bounds_read_like_strtod(h: Any, bound: str, count: int) -> None:
    abcde(h)
    assert h("ZCOUNT", "z", bound, "+inf") == count


@pytest.mark.parametrize("bound", ["nan", "(nan", "((1", "[1", "1 ", "x", "1e", "-", " (1"])
def test_bad_score_bounds(h: Any, bound: str) -> None:
    assert h.error("ZCOUNT", "z", bound, 5) == RANGE_NOT_FLOAT
    assert h.error("ZCOUNT", "z", 0, bound) == RANGE_NOT_FLOAT


def test_range_errors_come_before_the_key(h: Any) -> None:
    h("SET", "s", "v")
    assert h.error("ZCOUNT", "s", "a", "b") == RANGE_NOT_FLOAT
    assert h.error("ZLEXCOUNT", "s", "a", "b") == RANGE_NOT_LEX
    assert h.error("ZRANGE", "s", "a", "b") == NOT_INTEGER
    assert h.error("ZREMRANGEBYRANK", "missing", "x", 1) == NOT_INTEGER
    assert h.error("ZREMRANGEBYSCORE", "s", "(5", "x") == RANGE_NOT_FLOAT
    assert h.error("ZREMRANGEBYLEX", "s", "a", "b") == RANGE_NOT_LEX


def test_zlexcount(h: Any) -> None:
    h("ZADD", "z", 0, "a", 0, "b", 0, "c", 0, "d", 0, "e")
    assert h("ZLEXCOUNT", "z", "-", "+") == 5
    assert h("ZLEXCOUNT", "z", "[b", "(d") == 2
    assert h("ZLEXCOUNT", "z", "(b", "[d") == 2
    assert h("ZLEXCOUNT", "z", "[", "+") == 5  # "[" is the empty string
    assert h("ZLEXCOUNT", "z", "(", "+") == 5
    assert h("ZLEXCOUNT", "z", "+", "-") == 0
    assert h("ZLEXCOUNT", "z", "[c", "[a") == 0
    assert h("ZLEXCOUNT", "z", "(b", "[b") == 0
    assert h("ZLEXCOUNT", "z", "[b", "[b") == 1
    assert h("ZLEXCOUNT", "missing", "-", "+") == 0
    for bad in ("a", "", "--", "+x", "]a"):
        assert h.error("ZLEXCOUNT", "z", bad, "+") == RANGE_NOT_LEX
    assert h("ZLEXCOUNT", "z", b"-\x00junk", b"+\x00") == 5


# ==== the ZRANGE family ======================================================================
def test_zrange_by_rank(h: Any) -> None:
    abcde(h)
    assert h("ZRANGE", "z", 0, -1) == [b"a", b"b", b"c", b"d", b"e"]
    assert h("ZRANGE", "z", 1, 2, "WITHSCORES") == [b"b", b"2", b"c", b"3"]
    assert h("ZRANGE", "z", -2, -1) == [b"d", b"e"]
    assert h("ZRANGE", "z", -100, 1) == [b"a", b"b"]
    assert h("ZRANGE", "z", 3, 100) == [b"d", b"e"]
    assert h("ZRANGE", "z", 3, 1) == []
    assert h("ZRANGE", "z", 10, 20) == []
    assert h("ZRANGE", "z", -1, -2) == []
    assert h("ZRANGE", "z", 0, -1, "REV") == [b"e", b"d", b"c", b"b", b"a"]
    assert h("ZRANGE", "z", -2, -1, "REV") == [b"b", b"a"]
    assert h("ZREVRANGE", "z", 0, 1, "WITHSCORES") == [b"e", b"5", b"d", b"4"]
    assert h("ZRANGE", "z", 0, -1, "WITHSCORES", "WITHSCORES") == h(
        "ZRANGE", "z", 0, -1, "WITHSCORES"
    )
    assert h("ZRANGE", "missing", 0, -1) == []


def test_zrange_by_score(h: Any) -> None:
    abcde(h)
    assert h("ZRANGE", "z", "(1", 4, "BYSCORE") == [b"b", b"c", b"d"]
    assert h("ZRANGE", "z", "(1", "+inf", "BYSCORE", "LIMIT", 1, 2) == [b"c", b"d"]
    assert h("ZRANGE", "z", "+inf", "(1", "BYSCORE", "REV", "LIMIT", 1, 2, "WITHSCORES") == [
        b"d",
        b"4",
        b"c",
        b"3",
    ]
    assert h("ZRANGE", "z", 5, 1, "BYSCORE", "REV") == [b"e", b"d", b"c", b"b", b"a"]
    assert h("ZRANGE", "z", 1, 5, "BYSCORE", "REV") == []  # REV takes max first
    assert h("ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", 1, 2, "WITHSCORES") == [
        b"b",
        b"2",
        b"c",
        b"3",
    ]
    assert h("ZREVRANGEBYSCORE", "z", "+inf", "-inf", "LIMIT", 1, 2) == [b"d", b"c"]
    assert h("ZREVRANGEBYSCORE", "z", "(5", "(1") == [b"d", b"c", b"b"]
    assert h("ZRANGEBYSCORE", "z", "0x1p1", "0x1.8p1") == [b"b", b"c"]


def test_zrange_limit_edges(h: Any) -> None:
    abcde(h)
    by = ("ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT")
    assert h(*by, -1, 2) == []  # a negative offset skips everything
    assert h(*by, 1, -1) == [b"b", b"c", b"d", b"e"]  # a negative count takes the rest
    assert h(*by, 1, 0) == []
    assert h(*by, 4, 1) == [b"e"]
    assert h(*by, 5, 1) == []
    assert h(*by, "9223372036854775807", 1) == []
    assert h("ZRANGE", "z", 0, -1, "BYSCORE", "LIMIT", 1, 1, "LIMIT", 0, 1) == []
    assert h("ZRANGE", "z", 0, 5, "BYSCORE", "LIMIT", 1, 1, "LIMIT", 0, 1) == [b"a"]
    # LIMIT with a count of -1 is "no LIMIT", so plain ranks accept it
    assert h("ZRANGE", "z", 0, -1, "LIMIT", 5, -1) == [b"a", b"b", b"c", b"d", b"e"]


def test_zrange_by_lex(h: Any) -> None:
    h("ZADD", "z", 0, "a", 0, "b", 0, "c", 0, "d", 0, "e")
    assert h("ZRANGE", "z", "[b", "(d", "BYLEX") == [b"b", b"c"]
    assert h("ZRANGE", "z", "[e", "[b", "BYLEX", "REV") == [b"e", b"d", b"c", b"b"]
    assert h("ZRANGE", "z", "[e", "[b", "BYLEX", "REV", "LIMIT", 1, 2) == [b"d", b"c"]
    assert h("ZRANGE", "z", "-", "+", "BYLEX", "LIMIT", 1, 2) == [b"b", b"c"]
    assert h("ZRANGEBYLEX", "z", "(a", "[c") == [b"b", b"c"]
    assert h("ZRANGEBYLEX", "z", "(a", "(c", "LIMIT", 0, 1) == [b"b"]
    assert h("ZRANGEBYLEX", "z", "+", "-") == []
    assert h("ZRANGEBYLEX", "z", "-", "-") == []
    assert h("ZRANGEBYLEX", "z", "+", "+") == []
    assert h("ZREVRANGEBYLEX", "z", "+", "-", "LIMIT", 0, 2) == [b"e", b"d"]
    assert h("ZREVRANGEBYLEX", "z", "[d", "(a") == [b"d", b"c", b"b"]


def test_zrange_option_errors(h: Any) -> None:
    abcde(h)
    assert (
        h.error("ZRANGE", "z", 0, -1, "LIMIT", 0, 1)
        == "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
    )
    assert (
        h.error("ZRANGE", "z", "-", "+", "BYLEX", "WITHSCORES")
        == "ERR syntax error, WITHSCORES not supported in combination with BYLEX"
    )
    assert (
        h.error("ZRANGEBYLEX", "z", "-", "+", "WITHSCORES")
        == "ERR syntax error, WITHSCORES not supported in combination with BYLEX"
    )
    assert (
        h.error("ZREVRANGE", "z", 0, 1, "LIMIT", 0, 1)
        == "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
    )
    for extra in (
        ("LIMIT", 0),
        ("BYSCORE", "BYLEX"),
        ("BYSCORE", "BYSCORE"),
        ("REV", "REV"),
        ("foo",),
    ):
        assert h.error("ZRANGE", "z", 0, -1, *extra) == SYNTAX
    assert h.error("ZRANGE", "z", 0, -1, "LIMIT", "x", 1) == NOT_INTEGER
    assert h.error("ZRANGE", "z", 0, "b") == NOT_INTEGER
    # the legacy commands fix what ZRANGE lets options choose
    assert h.error("ZRANGEBYSCORE", "z", "-inf", "+inf", "REV") == SYNTAX
    assert h.error("ZRANGEBYSCORE", "z", "-inf", "+inf", "BYSCORE") == SYNTAX
    assert h.error("ZREVRANGE", "z", 0, 1, "foo") == SYNTAX
    # missing keys still check the arguments
    assert h.error("ZRANGE", "missing", "a", "b") == NOT_INTEGER
    assert (
        h.error("ZRANGE", "missing", 0, 1, "LIMIT", 0, 1)
        == "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
    )


def test_zrange_withscores_resp3_pairs(h3: Any) -> None:
    h3("ZADD", "z", 1, "a", 2.5, "b")
    assert h3.raw("ZRANGE", "z", 0, -1, "WITHSCORES") == (
        b"*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n"
    )
    assert h3.raw("ZRANGEBYSCORE", "z", "-inf", "+inf", "WITHSCORES") == (
        b"*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n"
    )
    assert h3.raw("ZRANGE", "z", 0, -1) == b"*2\r\n$1\r\na\r\n$1\r\nb\r\n"
    assert h3.raw("ZRANGE", "missing", 0, -1, "WITHSCORES") == b"*0\r\n"


def test_zrangestore(h: Any) -> None:
    abcde(h)
    h("SET", "other", "v")
    assert h.error("ZRANGESTORE", "dst", "z", 0, -1, "WITHSCORES") == SYNTAX
    assert h("ZRANGESTORE", "dst", "z", 0, 1) == 2
    assert h("ZRANGE", "dst", 0, -1, "WITHSCORES") == [b"a", b"1", b"b", b"2"]
    assert h("ZRANGESTORE", "dst", "z", 5, 1, "BYSCORE", "REV", "LIMIT", 1, 2) == 2
    assert h("ZRANGE", "dst", 0, -1) == [b"c", b"d"]
    assert h("ZRANGESTORE", "dst", "z", "[d", "+", "BYLEX") == 2
    assert h("ZRANGE", "dst", 0, -1) == [b"d", b"e"]
    assert h("ZRANGESTORE", "other", "z", 0, 0) == 1  # overwrites any type
    assert h("TYPE", "other") == b"zset"
    assert h("ZRANGESTORE", "dst", "z", 5, 1, "BYSCORE") == 0
    assert h("EXISTS", "dst") == 0  # an empty result deletes the destination
    assert h("ZRANGESTORE", "dst", "missing", 0, 1) == 0
    h("SET", "str", "v")
    assert h.error("ZRANGESTORE", "dst", "str", 0, 1) == WRONGTYPE
    assert h("ZRANGESTORE", "z", "z", 0, 1) == 2  # the source may be the destination
    assert h("ZRANGE", "z", 0, -1) == [b"a", b"b"]


def test_zrangestore_replaces_the_ttl(h: Any) -> None:
    abcde(h)
    h("ZADD", "dst", 1, "x")
    h("EXPIRE", "dst", 100)
    h("ZRANGESTORE", "dst", "z", 0, 0)
    assert h("TTL", "dst") == -1


# ==== ZREMRANGEBY* ===========================================================================
def test_zremrangebyrank(h: Any) -> None:
    abcde(h)
    assert h("ZREMRANGEBYRANK", "z", 1, -2) == 3
    assert h("ZRANGE", "z", 0, -1) == [b"a", b"e"]
    assert h("ZREMRANGEBYRANK", "z", 5, 10) == 0
    assert h("ZREMRANGEBYRANK", "z", 0, -1) == 2
    assert h("EXISTS", "z") == 0
    assert h("ZREMRANGEBYRANK", "z", 0, -1) == 0


def test_zremrangebyscore_and_bylex(h: Any) -> None:
    abcde(h)
    assert h("ZREMRANGEBYSCORE", "z", "-inf", "(3") == 2
    assert h("ZREMRANGEBYSCORE", "z", 10, 20) == 0
    assert h("ZRANGE", "z", 0, -1) == [b"c", b"d", b"e"]
    assert h("ZREMRANGEBYLEX", "z", "(c", "+") == 2
    assert h("ZREMRANGEBYLEX", "z", "-", "+") == 1
    assert h("EXISTS", "z") == 0


# ==== pops ===================================================================================
def test_zpopmin_zpopmax(h: Any) -> None:
    abcde(h)
    assert h("ZPOPMIN", "z") == [b"a", b"1"]
    assert h("ZPOPMAX", "z", 2) == [b"e", b"5", b"d", b"4"]
    assert h("ZPOPMIN", "z", 0) == []
    assert h("ZPOPMIN", "z", 10) == [b"b", b"2", b"c", b"3"]
    assert h("EXISTS", "z") == 0
    assert h("ZPOPMIN", "z") == []
    assert h("ZPOPMAX", "z", 3) == []
    assert h.error("ZPOPMIN", "z", 1, 2) == SYNTAX
    assert h.error("ZPOPMIN", "z", -1) == "ERR value is out of range, must be positive"
    assert h.error("ZPOPMIN", "z", "x") == "ERR value is out of range, must be positive"
    h("SET", "s", "v")
    assert h.error("ZPOPMIN", "s", 0) == WRONGTYPE


def test_zpop_resp3_shapes(h3: Any) -> None:
    h3("ZADD", "z", 1, "a", 2, "b", 3, "c")
    assert h3.raw("ZPOPMIN", "z") == b"*2\r\n$1\r\na\r\n,1\r\n"  # flat without a count
    assert h3.raw("ZPOPMIN", "z", 1) == b"*1\r\n*2\r\n$1\r\nb\r\n,2\r\n"  # pairs with one
    assert h3.raw("ZPOPMAX", "z", 0) == b"*0\r\n"
    assert h3.raw("ZPOPMAX", "missing") == b"*0\r\n"


def test_zmpop(h: Any) -> None:
    abcde(h)
    assert h("ZMPOP", 1, "z", "MIN") == [b"z", [[b"a", b"1"]]]
    assert h("ZMPOP", 2, "missing", "z", "max", "COUNT", 2) == [b"z", [[b"e", b"5"], [b"d", b"4"]]]
    assert h("ZMPOP", 1, "z", "MIN", "COUNT", 10) == [b"z", [[b"b", b"2"], [b"c", b"3"]]]
    assert h("EXISTS", "z") == 0
    assert h("ZMPOP", 1, "z", "MIN") is None
    assert h.raw("ZMPOP", 1, "z", "MIN") == b"*-1\r\n"


def test_zmpop_errors(h: Any) -> None:
    abcde(h)
    for numkeys in (0, -1, "x"):
        assert h.error("ZMPOP", numkeys, "z", "MIN") == "ERR numkeys should be greater than 0"
    for bad in (
        (2, "z", "MIN"),
        (1, "z", "FOO"),
        (1, "z", "MIN", "COUNT"),
        (1, "z", "MIN", "COUNT", 1, "COUNT", 1),
        (1, "z", "MIN", "FOO"),
    ):
        assert h.error("ZMPOP", *bad) == SYNTAX
    for count in (0, "x", -1):
        assert (
            h.error("ZMPOP", 1, "z", "MIN", "COUNT", count) == "ERR count should be greater than 0"
        )
    h("SET", "s", "v")
    assert h.error("ZMPOP", 2, "s", "z", "MIN") == WRONGTYPE
    assert h.error("ZMPOP", 2, "missing", "s", "MIN") == WRONGTYPE
    assert h("ZCARD", "z") == 5


def test_zmpop_resp3(h3: Any) -> None:
    h3("ZADD", "z", 1, "a", 2, "b")
    assert h3.raw("ZMPOP", 1, "z", "MAX", "COUNT", 5) == (
        b"*2\r\n$1\r\nz\r\n*2\r\n*2\r\n$1\r\nb\r\n,2\r\n*2\r\n$1\r\na\r\n,1\r\n"
    )
    assert h3.raw("ZMPOP", 1, "z", "MAX") == b"_\r\n"


# ==== ZRANDMEMBER ============================================================================
def test_zrandmember_errors_and_empty_answers(h: Any) -> None:
    abcde(h)
    assert h.error("ZRANDMEMBER", "z", "x") == NOT_INTEGER
    assert h.error("ZRANDMEMBER", "z", 1, "foo") == SYNTAX
    assert h.error("ZRANDMEMBER", "z", 1, "withscores", "foo") == SYNTAX
    assert h.error("ZRANDMEMBER", "z", "-9223372036854775808") == (
        "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
    )
    assert (
        h.error("ZRANDMEMBER", "z", "-9223372036854775807", "WITHSCORES")
        == "ERR value is out of range"
    )
    assert (
        h.error("ZRANDMEMBER", "z", "4611686018427387904", "WITHSCORES")
        == "ERR value is out of range"
    )
    assert h("ZRANDMEMBER", "z", 0) == []
    assert h("ZRANDMEMBER", "z", 0, "WITHSCORES") == []
    assert h("ZRANDMEMBER", "missing") is None
    assert h("ZRANDMEMBER", "missing", 2) == []
    assert h.raw("ZRANDMEMBER", "missing") == b"$-1\r\n"


def test_zrandmember_whole_set_comes_from_the_top(h: Any) -> None:
    abcde(h)
    assert h("ZRANDMEMBER", "z", 10) == [b"e", b"d", b"c", b"b", b"a"]
    assert h("ZRANDMEMBER", "z", 5, "WITHSCORES") == [
        b"e",
        b"5",
        b"d",
        b"4",
        b"c",
        b"3",
        b"b",
        b"2",
        b"a",
        b"1",
    ]


def test_zrandmember_draws(h: Any) -> None:
    abcde(h)
    scores = {b"a": b"1", b"b": b"2", b"c": b"3", b"d": b"4", b"e": b"5"}
    assert h("ZRANDMEMBER", "z") in scores
    picked = h("ZRANDMEMBER", "z", 3)
    assert len(picked) == 3 and len(set(picked)) == 3 and set(picked) <= set(scores)
    drawn = h("ZRANDMEMBER", "z", -20, "WITHSCORES")
    assert len(drawn) == 40
    assert all(scores[m] == s for m, s in zip(drawn[::2], drawn[1::2], strict=True))
    assert len(h("ZRANDMEMBER", "z", 1)) == 1


def test_zrandmember_resp3_pairs(h3: Any) -> None:
    h3("ZADD", "z", 1, "a", 2, "b")
    assert h3.raw("ZRANDMEMBER", "z", 2, "WITHSCORES") == (
        b"*2\r\n*2\r\n$1\r\nb\r\n,2\r\n*2\r\n$1\r\na\r\n,1\r\n"
    )
    assert h3.raw("ZRANDMEMBER", "missing") == b"_\r\n"


@engine_only
def test_zrandmember_follows_the_engine_seed() -> None:
    runs = []
    for _ in range(2):
        h = Harness()
        h("ZADD", "z", *[x for i in range(50) for x in (i, f"m{i}")])
        runs.append([h("ZRANDMEMBER", "z", -5), h("ZRANDMEMBER", "z", 7), h("ZRANDMEMBER", "z")])
    assert runs[0] == runs[1]


# ==== ZUNION, ZINTER, ZDIFF and their STORE forms ============================================
@pytest.fixture
def two(h: Any) -> Any:
    h("ZADD", "z1", 1, "a", 2, "b", 3, "c")
    h("ZADD", "z2", 10, "b", 20, "c", 30, "d")
    h("SADD", "s", "a", "b", "x")
    return h


def test_union_inter_diff(two: Any) -> None:
    h = two
    assert h("ZUNION", 2, "z1", "z2", "WITHSCORES") == [
        b"a",
        b"1",
        b"b",
        b"12",
        b"c",
        b"23",
        b"d",
        b"30",
    ]
    assert h("ZINTER", 2, "z1", "z2", "WITHSCORES") == [b"b", b"12", b"c", b"23"]
    assert h("ZINTER", 2, "z1", "z2", "AGGREGATE", "min", "WITHSCORES") == [b"b", b"2", b"c", b"3"]
    assert h("ZDIFF", 2, "z1", "z2", "WITHSCORES") == [b"a", b"1"]
    assert h("ZDIFF", 2, "z2", "z1") == [b"d"]
    assert h("ZUNION", 2, "z1", "z2") == [b"a", b"b", b"c", b"d"]
    assert h("ZUNION", 1, "missing") == []
    assert h("ZINTER", 2, "z1", "missing") == []
    assert h("ZDIFF", 2, "missing", "z1") == []
    assert h("ZDIFF", 3, "z1", "missing", "z2") == [b"a"]


def test_plain_sets_score_one(two: Any) -> None:
    h = two
    assert h("ZUNION", 2, "z1", "s", "WITHSCORES") == [
        b"x",
        b"1",
        b"a",
        b"2",
        b"b",
        b"3",
        b"c",
        b"3",
    ]
    assert h("ZUNION", 2, "z1", "s", "WEIGHTS", 2, 3, "WITHSCORES", "AGGREGATE", "max") == [
        b"a",
        b"3",
        b"x",
        b"3",
        b"b",
        b"4",
        b"c",
        b"6",
    ]
    assert h("ZINTER", 2, "z1", "s", "WITHSCORES") == [b"a", b"2", b"b", b"3"]
    assert h("ZDIFF", 2, "z1", "s", "WITHSCORES") == [b"c", b"3"]
    assert h("ZINTERCARD", 2, "z1", "s") == 2
    assert h("ZUNIONSTORE", "z1", 1, "s") == 3
    assert h("ZRANGE", "z1", 0, -1, "WITHSCORES") == [b"a", b"1", b"b", b"1", b"x", b"1"]


def test_setop_errors(two: Any) -> None:
    h = two
    h("SET", "str", "v")
    for name in ("zunion", "zinter", "zdiff", "zintercard"):
        for numkeys in (0, -1):
            assert (
                h.error(name.upper(), numkeys, "z1")
                == f"ERR at least 1 input key is needed for '{name}' command"
            )
        assert h.error(name, "x", "z1") == NOT_INTEGER
        assert h.error(name, 3, "z1", "z2") == SYNTAX
    assert (
        h.error("ZDIFFSTORE", "d", 0, "z1")
        == "ERR at least 1 input key is needed for 'zdiffstore' command"
    )
    assert h.error("ZUNION", 2, "z1", "z2", "WEIGHTS", 1) == SYNTAX
    assert h.error("ZUNION", 2, "z1", "z2", "WEIGHTS", 1, 2, 3) == SYNTAX
    assert h.error("ZUNION", 2, "z1", "z2", "WEIGHTS", 1, "x") == "ERR weight value is not a float"
    for bad in ("nan", "1e400", " 1"):
        assert h.error("ZUNION", 1, "z1", "WEIGHTS", bad) == "ERR weight value is not a float"
    assert h.error("ZUNION", 2, "z1", "z2", "AGGREGATE", "foo") == SYNTAX
    assert h.error("ZUNION", 2, "z1", "z2", "AGGREGATE") == SYNTAX
    assert h.error("ZDIFF", 2, "z1", "z2", "WEIGHTS", 1, 1) == SYNTAX
    assert h.error("ZDIFF", 2, "z1", "z2", "AGGREGATE", "sum") == SYNTAX
    assert h.error("ZUNIONSTORE", "d", 2, "z1", "z2", "WITHSCORES") == SYNTAX
    assert h.error("ZINTERCARD", 2, "z1", "z2", "WITHSCORES") == SYNTAX
    # the types are checked before the options
    assert h.error("ZUNION", 2, "z1", "str", "WEIGHTS", "x") == WRONGTYPE
    assert h.error("ZUNIONSTORE", "d", 2, "str", "missing", "AGGREGATE", "MIN") == WRONGTYPE


def test_setop_store(two: Any) -> None:
    h = two
    assert h("ZUNIONSTORE", "d", 2, "z1", "z2", "WEIGHTS", 1, -1) == 4
    assert h("ZRANGE", "d", 0, -1, "WITHSCORES") == [
        b"d",
        b"-30",
        b"c",
        b"-17",
        b"b",
        b"-8",
        b"a",
        b"1",
    ]
    assert h("ZINTERSTORE", "d", 2, "z1", "missing") == 0
    assert h("EXISTS", "d") == 0
    assert h("ZDIFFSTORE", "z1", 2, "z1", "z2") == 1  # sources may include the destination
    assert h("ZRANGE", "z1", 0, -1) == [b"a"]
    h("SET", "str", "v")
    assert h("ZINTERSTORE", "str", 2, "z2", "s") == 1
    assert h("TYPE", "str") == b"zset"


def test_zintercard(two: Any) -> None:
    h = two
    assert h("ZINTERCARD", 2, "z1", "z2") == 2
    assert h("ZINTERCARD", 2, "z1", "z2", "LIMIT", 1) == 1
    assert h("ZINTERCARD", 2, "z1", "z2", "LIMIT", 0) == 2
    assert h("ZINTERCARD", 2, "z1", "missing") == 0
    for bad in (-1, "x"):
        assert h.error("ZINTERCARD", 2, "z1", "z2", "LIMIT", bad) == "ERR LIMIT can't be negative"


def test_setop_infinities_and_nan(h: Any) -> None:
    h("ZADD", "one", 1, "a")
    h("ZADD", "ninf", "-inf", "a")
    h("ZADD", "pinf", "inf", "a")
    assert h("ZUNION", 2, "pinf", "ninf", "WITHSCORES") == [b"a", b"0"]  # inf + -inf
    assert h("ZINTER", 2, "pinf", "ninf", "WITHSCORES") == [b"a", b"0"]
    assert h("ZUNION", 2, "pinf", "one", "WEIGHTS", 0, 1, "WITHSCORES") == [b"a", b"1"]
    assert h("ZUNION", 1, "one", "WEIGHTS", "inf", "WITHSCORES") == [b"a", b"inf"]
    # inf * 0 is NaN: counted as 0 for the first input, left to the aggregate for the rest
    assert h("ZINTER", 2, "pinf", "one", "WEIGHTS", 1, 0, "WITHSCORES") == [b"a", b"inf"]
    assert h("ZINTER", 2, "one", "pinf", "WEIGHTS", 1, 0, "WITHSCORES") == [b"a", b"0"]
    for how in ("MIN", "MAX"):
        assert h("ZINTER", 2, "one", "pinf", "WEIGHTS", 1, 0, "AGGREGATE", how, "WITHSCORES") == [
            b"a",
            b"1",
        ]


def test_setops_add_from_the_smallest_input(h: Any) -> None:
    # 1e16 + 1 + 1 is 1e16 in doubles, (1 + 1) + 1e16 is not: the smallest input goes first
    h("ZADD", "A", "1e16", "x")
    h("ZADD", "B", 1, "x", 1, "y")
    h("ZADD", "C", 1, "x", 1, "y", 1, "z")
    for order in (("C", "B", "A"), ("A", "B", "C")):
        assert h("ZUNION", 3, *order, "WITHSCORES") == [
            b"z",
            b"1",
            b"y",
            b"2",
            b"x",
            b"10000000000000000",
        ]
    assert h("ZINTER", 3, "C", "B", "A", "WITHSCORES") == [b"x", b"10000000000000000"]
    assert h("ZUNION", 2, "z2", "z2") == []
    h("ZADD", "z2", 10, "b", 20, "c")
    assert h("ZUNION", 2, "z2", "z2", "WITHSCORES") == [b"b", b"20", b"c", b"40"]
    assert h("ZINTER", 2, "z2", "z2", "WITHSCORES") == [b"b", b"20", b"c", b"40"]


def test_setops_resp3_pairs(h3: Any) -> None:
    h3("ZADD", "z", 1, "a", 2, "b")
    pairs = b"*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2\r\n"
    assert h3.raw("ZUNION", 1, "z", "WITHSCORES") == pairs
    assert h3.raw("ZINTER", 1, "z", "WITHSCORES") == pairs
    assert h3.raw("ZDIFF", 1, "z", "WITHSCORES") == pairs


# ==== ZSCAN ==================================================================================
def test_zscan_listpack_answers_everything_at_once(h: Any) -> None:
    h("ZADD", "z", 1, "a", 2.5, "b", "123456789012345678", "big", "4.6e18", "c")
    assert h("ZSCAN", "z", 0) == [
        b"0",
        [b"a", b"1", b"b", b"2.5", b"big", b"123456789012345680", b"c", b"4600000000000000000"],
    ]
    assert h("ZSCAN", "z", 12345, "COUNT", 1) == h("ZSCAN", "z", 0)
    assert h("ZSCAN", "z", 0, "MATCH", "[ab]") == [b"0", [b"a", b"1", b"b", b"2.5"]]
    assert h("ZSCAN", "missing", 0) == [b"0", []]


def test_zscan_listpack_score_text(h: Any) -> None:
    values = [
        "4611686018427387904",
        "4611686018427388928",
        "-4611686018427387904",
        "-4611686018427388928",
        "9.2233720368547758e18",
        "1e20",
        "-0.0",
    ]
    h("ZADD", "z", *[x for i, v in enumerate(values) for x in (v, f"m{i}")])
    reply = h("ZSCAN", "z", 0)[1]
    assert dict(zip(reply[::2], reply[1::2], strict=True)) == {
        b"m0": b"4611686018427387904",
        b"m1": b"4.6116860184273889e+18",
        b"m2": b"-4611686018427387904",
        b"m3": b"-4.6116860184273889e+18",
        b"m4": b"9.2233720368547758e+18",
        b"m5": b"1e+20",
        b"m6": b"0",
    }


def test_zscan_skiplist_walks_every_member(h: Any, small_listpack: None) -> None:
    h("ZADD", "z", *[x for i in range(30) for x in (i, f"m{i:02}")])
    assert enc(h, "z") == b"skiplist"
    seen: dict[bytes, bytes] = {}
    cursor = b"0"
    for _ in range(100):
        cursor, flat = h("ZSCAN", "z", cursor, "COUNT", 7)
        seen.update(zip(flat[::2], flat[1::2], strict=True))
        if cursor == b"0":
            break
    assert seen == {f"m{i:02}".encode(): b"%d" % i for i in range(30)}


def test_zscan_errors(h: Any) -> None:
    h("ZADD", "z", 1, "a")
    assert h.error("ZSCAN", "z", "x") == "ERR invalid cursor"
    assert h.error("ZSCAN", "missing", "x") == "ERR invalid cursor"
    assert h.error("ZSCAN", "z", 0, "COUNT", 0) == SYNTAX
    assert h.error("ZSCAN", "z", 0, "COUNT", "x") == NOT_INTEGER
    assert h.error("ZSCAN", "z", 0, "FOO", 1) == SYNTAX
    assert h("ZSCAN", "missing", 0, "COUNT", 0) == [b"0", []]


# ==== encodings ==============================================================================
def test_listpack_until_a_threshold_then_skiplist_for_good(h: Any, small_listpack: None) -> None:
    h("ZADD", "z", 1, "a", 2, "b", 3, "c", 4, "d")
    assert enc(h, "z") == b"listpack"
    h("ZADD", "z", 5, "e")
    assert enc(h, "z") == b"skiplist"
    h("ZPOPMIN", "z", 3)
    assert enc(h, "z") == b"skiplist"
    h("ZADD", "long", 1, "a", 2, "x" * 65)
    assert enc(h, "long") == b"skiplist"
    h("ZADD", "fits", 1, "x" * 64)
    assert enc(h, "fits") == b"listpack"
    h("ZADD", "new", 1, "a", 2, "b", 3, "c", 4, "d", 5, "e")
    assert enc(h, "new") == b"skiplist"


def test_store_results_start_as_listpack_when_they_fit(h: Any, small_listpack: None) -> None:
    h("ZADD", "big", *[x for i in range(10) for x in (i, f"m{i}")])
    assert enc(h, "big") == b"skiplist"
    h("ZRANGESTORE", "tail", "big", 4, -1)
    for command, encoding in (
        (("ZRANGESTORE", "d", "big", 0, 2), b"listpack"),
        (("ZRANGESTORE", "d", "big", 0, 3), b"listpack"),
        (("ZRANGESTORE", "d", "big", 0, 4), b"skiplist"),
        (("ZUNIONSTORE", "d", 1, "big"), b"skiplist"),
        (("ZINTERSTORE", "d", 1, "big"), b"skiplist"),
        (("ZDIFFSTORE", "d", 2, "big", "tail"), b"listpack"),
    ):
        h(*command)
        assert enc(h, "d") == encoding, command
    h("ZADD", "long", 1, "a", 2, "x" * 65)
    h("ZREM", "long", "x" * 65)
    h("ZUNIONSTORE", "d", 1, "long")
    assert enc(h, "d") == b"listpack"


def test_max_entries_zero_means_always_skiplist(h: Any) -> None:
    config(h, "zset-max-listpack-entries", 0)
    try:
        h("ZADD", "z", 1, "a")
        assert enc(h, "z") == b"skiplist"
    finally:
        config(h, "zset-max-listpack-entries", 128)


@pytest.mark.parametrize("entries", [128, 0])
def test_both_encodings_answer_alike(h: Any, entries: int) -> None:
    config(h, "zset-max-listpack-entries", entries)
    try:
        h("ZADD", "z", 3, "c", 1, "a", 2, "b", 2, "bb", 0, "z", "-inf", "n", "inf", "p")
        assert h("ZRANGE", "z", 0, -1, "WITHSCORES") == [
            b"n",
            b"-inf",
            b"z",
            b"0",
            b"a",
            b"1",
            b"b",
            b"2",
            b"bb",
            b"2",
            b"c",
            b"3",
            b"p",
            b"inf",
        ]
        assert h("ZRANK", "z", "bb") == 4
        assert h("ZREVRANK", "z", "bb") == 2
        assert h("ZCOUNT", "z", 2, "(3") == 2
        assert h("ZRANGE", "z", 3, "(1", "BYSCORE", "REV", "LIMIT", 1, 5) == [b"bb", b"b"]
        assert h("ZADD", "z", "XX", "CH", 2.5, "a") == 1
        assert h("ZRANGE", "z", 2, 4) == [b"b", b"bb", b"a"]
        assert h("ZREMRANGEBYRANK", "z", 1, 2) == 2
        assert h("ZPOPMAX", "z", 2) == [b"p", b"inf", b"c", b"3"]
        assert h("ZRANGE", "z", 0, -1) == [b"n", b"bb", b"a"]
        h("ZADD", "lex", 0, "a", 0, "b", 0, "c", 0, "d")
        assert h("ZRANGE", "lex", "(a", "[c", "BYLEX") == [b"b", b"c"]
        assert h("ZREMRANGEBYLEX", "lex", "[b", "(d") == 2
        assert h("ZRANGE", "lex", 0, -1) == [b"a", b"d"]
        # members growing with their scores: Redis's lex walk still finds them
        h("ZADD", "mono", 1, "a", 2, "b", 3, "c", 4, "d")
        assert h("ZRANGEBYLEX", "mono", "(a", "[c") == [b"b", b"c"]
        assert h("ZREVRANGEBYLEX", "mono", "[d", "(a", "LIMIT", 1, 1) == [b"c"]
        assert h("ZLEXCOUNT", "mono", "[b", "+") == 3
    finally:
        config(h, "zset-max-listpack-entries", 128)


# ==== bookkeeping ============================================================================
# (command, server.dirty increment), as redis-server 7.0.15 counts them (INFO persistence
# rdb_changes_since_last_save), in sequence.
DIRTY_STEPS = [
    (("ZADD", "z", 1, "a", 2, "b", 3, "c", 4, "d", 5, "e"), 5),
    (("ZADD", "z", "CH", 1, "a", 9, "b", 6, "f"), 2),
    (("ZINCRBY", "z", 1, "a"), 1),
    (("ZINCRBY", "z", 0, "a"), 0),
    (("ZADD", "z", "INCR", 0, "a"), 0),
    (("ZREM", "z", "a", "x"), 1),
    (("ZPOPMIN", "z", 2), 2),
    (("ZPOPMAX", "z"), 1),
    (("ZMPOP", 1, "z", "MIN", "COUNT", 1), 1),
    (("ZADD", "z", 1, "a", 2, "b", 3, "c", 4, "d", 5, "e"), 5),
    (("ZREMRANGEBYRANK", "z", 0, 1), 2),
    (("ZREMRANGEBYSCORE", "z", 100, 200), 0),
    (("ZUNIONSTORE", "d", 1, "z"), 1),
    (("ZUNIONSTORE", "d", 1, "missing"), 1),  # deleted the destination
    (("ZUNIONSTORE", "d", 1, "missing"), 0),
    (("ZRANGESTORE", "d", "z", 0, 0), 1),
    (("ZRANGESTORE", "d", "z", 5, 1), 1),
    (("ZRANGESTORE", "d", "z", 5, 1), 0),
    (("ZPOPMIN", "z", 0), 0),
    (("ZADD", "z", "GT", 0, "c"), 0),
    (("ZADD", "z", "XX", 1, "nope"), 0),
    (("ZRANGE", "z", 0, -1), 0),
]


@engine_only
def test_changes_count_as_dirty_like_redis() -> None:
    h = Harness()
    for args, changes in DIRTY_STEPS:
        before = h.engine.dirty
        h(*args)
        assert h.engine.dirty - before == changes, args


@engine_only
def test_in_place_changes_touch_watchers() -> None:
    h = Harness()
    watcher = h.client_harness()
    h("ZADD", "z", 1, "a", 2, "b")
    h.engine.watch(watcher.client, b"z")
    for unchanged in (
        ("ZADD", "z", 1, "a"),
        ("ZREM", "z", "x"),
        ("ZPOPMIN", "z", 0),
        ("ZREMRANGEBYRANK", "z", 5, 6),
        ("ZINCRBY", "z", 0, "a"),
    ):
        h(*unchanged)
        assert not watcher.client.watch_dirty, unchanged
    for changed in (
        ("ZADD", "z", 5, "a"),
        ("ZINCRBY", "z", 1, "b"),
        ("ZREM", "z", "a"),
        ("ZADD", "z", "INCR", 1, "n"),
        ("ZPOPMAX", "z"),
    ):
        watcher.client.watch_dirty = False
        h(*changed)
        assert watcher.client.watch_dirty, changed


@engine_only
def test_copy_is_independent_and_keeps_the_encoding() -> None:
    h = Harness(zset_max_listpack_entries="2")
    h("ZADD", "z", 1, "a", 2, "b", 3, "c")
    assert h("COPY", "z", "c") == 1
    assert h("OBJECT", "ENCODING", "c") == b"skiplist"
    h("ZADD", "c", 9, "a")
    assert h("ZSCORE", "z", "a") == b"1"
    h("ZADD", "small", 1, "a")
    h("COPY", "small", "small2")
    h("ZADD", "small2", 2, "b")
    assert h("ZCARD", "small") == 1
    assert h("OBJECT", "ENCODING", "small2") == b"listpack"


@engine_only
def test_zmpop_propagates_as_the_pop_it_did() -> None:
    h = Harness()
    engine = h.engine
    engine.propagating = True
    h("ZADD", "z", 1, "a", 2, "b")
    engine.propagated.clear()
    for argv in (
        [b"ZMPOP", b"2", b"missing", b"z", b"MAX"],
        [b"ZMPOP", b"1", b"missing", b"MIN"],
        [b"ZMPOP", b"1", b"z", b"MIN", b"COUNT", b"5"],
    ):
        spec = engine.table.get(argv[0])
        assert spec is not None
        engine.call(h.client, spec, argv)  # Redis's call(): runs and records propagation
    # The count propagated is what was popped (one member left), as redis-server 7.0.15's
    # AOF shows (tests/compat/test_aof_diff.py).
    assert engine.propagated == [(0, [b"ZPOPMAX", b"z", b"1"]), (0, [b"ZPOPMIN", b"z", b"1"])]
