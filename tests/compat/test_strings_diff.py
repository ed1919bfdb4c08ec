"""String commands against a real redis-server, reply bytes compared (RESP2 and RESP3).

Expiry checks use absolute times far in the future, or relative ones read back with TTL
(whole seconds, rounded), so the two servers' clocks never matter.
"""

from __future__ import annotations

import pytest

from tests.compat.conftest import Differ

pytestmark = pytest.mark.interop

FUTURE_S = 4_000_000_000
FUTURE_MS = FUTURE_S * 1000


def test_set_get_basics(diff: Differ) -> None:
    diff("GET", "k")
    diff("SET", "k", "v")
    diff("GET", "k")
    diff("SET", "k", "")
    diff("GET", "k")
    diff("SET", "k", b"\x00\xff\r\n binary")
    diff("GET", "k")
    diff("SET", "k")
    diff("GET")
    diff("GET", "k", "extra")


def test_set_options(diff: Differ) -> None:
    diff("SET", "k", "v", "NX")
    diff("SET", "k", "w", "NX")
    diff("SET", "k", "w", "XX")
    diff("SET", "missing", "w", "XX")
    diff("GET", "missing")
    diff("SET", "k", "x", "GET")
    diff("SET", "new", "x", "GET")
    diff("SET", "k", "y", "nx", "get")
    diff("SET", "k", "y", "xx", "get")
    diff("SET", "k", "v", "EX", "1000")
    diff("TTL", "k")
    diff("SET", "k", "v", "PX", "1000000")
    diff("TTL", "k")
    diff("SET", "k", "v", "EXAT", FUTURE_S)
    diff("EXPIRETIME", "k")
    diff("SET", "k", "v2", "KEEPTTL")
    diff("EXPIRETIME", "k")
    diff("SET", "k", "v3")
    diff("TTL", "k")
    diff("SET", "k", "v", "PXAT", FUTURE_MS)
    diff("PEXPIRETIME", "k")
    diff("SET", "k", "v", "KEEPTTL", "XX", "GET")
    diff("PEXPIRETIME", "k")


@pytest.mark.parametrize(
    "options",
    [
        ("NX", "XX"),
        ("EX", "10", "PX", "100"),
        ("EX", "10", "KEEPTTL"),
        ("KEEPTTL", "PXAT", "100"),
        ("EX",),
        ("EX", "abc"),
        ("EX", "0"),
        ("EX", "-1"),
        ("PX", "0"),
        ("EXAT", "0"),
        ("PXAT", "-5"),
        ("EX", "9223372036854775807"),
        ("PX", "9223372036854775807"),
        ("EX", "1.5"),
        ("BOGUS",),
        ("GET", "GET"),
        ("NX", "NX"),
        ("ex", "10", "ex", "20"),
    ],
)
def test_set_option_errors(diff: Differ, options: tuple[str, ...]) -> None:
    diff("SET", "k", "old")
    diff("SET", "k", "v", *options)
    diff("GET", "k")


def test_setnx_setex_psetex(diff: Differ) -> None:
    diff("SETNX", "k", "1")
    diff("SETNX", "k", "2")
    diff("GET", "k")
    diff("SETEX", "k", "1000", "v")
    diff("TTL", "k")
    diff("PSETEX", "k", "1000000", "v")
    diff("TTL", "k")
    for bad in ("0", "-1", "abc", "9223372036854775807"):
        diff("SETEX", "k", bad, "v")
        diff("PSETEX", "k", bad, "v")
    diff("SETEX", "k", "10")
    diff("GET", "k")


def test_getset_getdel_getex(diff: Differ) -> None:
    diff("GETSET", "k", "1")
    diff("GETSET", "k", "2")
    diff("GETDEL", "k")
    diff("GETDEL", "k")
    diff("SET", "k", "v", "EX", "1000")
    diff("GETEX", "k")
    diff("TTL", "k")
    diff("GETEX", "k", "PERSIST")
    diff("TTL", "k")
    diff("GETEX", "k", "EX", "2000")
    diff("TTL", "k")
    diff("GETEX", "k", "PX", "3000000")
    diff("TTL", "k")
    diff("GETEX", "k", "EXAT", FUTURE_S)
    diff("EXPIRETIME", "k")
    diff("GETEX", "k", "PXAT", FUTURE_MS + 1)
    diff("PEXPIRETIME", "k")
    diff("GETEX", "missing", "EX", "10")
    for options in [
        ("EX",),
        ("EX", "0"),
        ("EX", "x"),
        ("PX", "-1"),
        ("EX", "10", "PX", "10"),
        ("PERSIST", "EX", "10"),
        ("KEEPTTL",),
        ("BOGUS",),
    ]:
        diff("GETEX", "k", *options)
    diff("PEXPIRETIME", "k")


def test_wrong_type(diff: Differ) -> None:
    diff("RPUSH", "l", "a")
    for args in [
        ("GET", "l"),
        ("GETSET", "l", "x"),
        ("GETDEL", "l"),
        ("GETEX", "l"),
        ("APPEND", "l", "x"),
        ("SETRANGE", "l", "0", "x"),
        ("STRLEN", "l"),
        ("GETRANGE", "l", "0", "1"),
        ("INCR", "l"),
        ("INCRBYFLOAT", "l", "1"),
        ("LCS", "l", "l"),
        ("SET", "l", "x", "GET"),
    ]:
        diff(*args)
    diff("MGET", "l", "missing")
    diff("SET", "l", "x")
    diff("GET", "l")


def test_mget_mset_msetnx(diff: Differ) -> None:
    diff("MSET", "a", "1", "b", "2", "a", "3")
    diff("MGET", "a", "b", "c", "a")
    diff("MSET", "a")
    diff("MSET", "a", "1", "b")
    diff("MSETNX", "c", "1", "a", "9")
    diff("MSETNX", "c", "1", "d", "2", "c", "3")
    diff("MGET", "a", "b", "c", "d")
    diff("MSETNX", "x")
    diff("MGET")


def test_append_strlen_setrange_getrange(diff: Differ) -> None:
    diff("APPEND", "k", "hello")
    diff("APPEND", "k", " world")
    diff("STRLEN", "k")
    diff("STRLEN", "missing")
    diff("SETRANGE", "k", "6", "W")
    diff("SETRANGE", "k", "20", "!")
    diff("GET", "k")
    diff("SETRANGE", "missing", "0", "")
    diff("EXISTS", "missing")
    diff("SETRANGE", "missing", "3", "x")
    diff("GET", "missing")
    diff("SETRANGE", "k", "-1", "x")
    diff("SETRANGE", "k", "536870912", "x")
    diff("SETRANGE", "k", "536870911", "")
    diff("SETRANGE", "k", "abc", "x")
    for start, end in [
        ("0", "4"),
        ("-5", "-1"),
        ("0", "-1"),
        ("5", "3"),
        ("-100", "100"),
        ("100", "200"),
        ("-1", "-100"),
        ("a", "1"),
        ("0", "9223372036854775807"),
        ("-9223372036854775808", "0"),
    ]:
        diff("GETRANGE", "k", start, end)
        diff("SUBSTR", "k", start, end)
    diff("GETRANGE", "missing2", "0", "-1")
    diff("SET", "n", "12345")
    diff("APPEND", "n", "6")
    diff("GETRANGE", "n", "1", "3")


def test_incr_decr(diff: Differ) -> None:
    diff("INCR", "n")
    diff("INCRBY", "n", "10")
    diff("DECR", "n")
    diff("DECRBY", "n", "-5")
    diff("GET", "n")
    for bad in ("abc", "1.5", " 1", "1 ", "", "+1", "01", "99999999999999999999"):
        diff("SET", "s", bad)
        diff("INCR", "s")
        diff("INCRBY", "n", bad)
    diff("SET", "n", "9223372036854775806")
    diff("INCR", "n")
    diff("INCR", "n")
    diff("SET", "n", "-9223372036854775807")
    diff("DECR", "n")
    diff("DECR", "n")
    diff("DECRBY", "n", "-9223372036854775808")
    diff("SET", "n", "0")
    diff("DECRBY", "n", "-9223372036854775808")
    diff("SET", "n", "-0")
    diff("INCR", "n")
    diff("SET", "n", " 7")
    diff("INCR", "n")


def test_incrbyfloat(diff: Differ) -> None:
    diff("INCRBYFLOAT", "f", "10.5")
    diff("INCRBYFLOAT", "f", "0.1")
    diff("INCRBYFLOAT", "f", "-5")
    diff("INCRBYFLOAT", "f", "5.0e3")
    diff("INCRBYFLOAT", "f", "1e-5")
    diff("GET", "f")
    for bad in ("abc", "inf", "-inf", "nan", "", " 1", "1e400", "0x10"):
        diff("INCRBYFLOAT", "f", bad)
    diff("SET", "f", "1.7976931348623157e308")
    diff("INCRBYFLOAT", "f", "1.7976931348623157e308")
    diff("SET", "f", "3")
    diff("INCRBYFLOAT", "f", "0")
    diff("SET", "f", "abc")
    diff("INCRBYFLOAT", "f", "1")
    diff("SET", "f", "1.0")
    diff("INCRBYFLOAT", "f", "2")
    diff("SET", "i", "5")
    diff("INCRBYFLOAT", "i", "-5.5")
    diff("INCRBYFLOAT", "i", "100000000000000000000000")


def test_lcs(diff: Differ) -> None:
    diff("MSET", "a", "ohmytext", "b", "mynewtext")
    diff("LCS", "a", "b")
    diff("LCS", "a", "b", "LEN")
    diff("LCS", "a", "b", "IDX")
    diff("LCS", "a", "b", "IDX", "MINMATCHLEN", "4")
    diff("LCS", "a", "b", "IDX", "WITHMATCHLEN")
    diff("LCS", "a", "b", "IDX", "MINMATCHLEN", "2", "WITHMATCHLEN")
    diff("LCS", "a", "missing")
    diff("LCS", "missing", "missing2", "IDX")
    diff("LCS", "a", "b", "LEN", "IDX")
    diff("LCS", "a", "b", "MINMATCHLEN")
    diff("LCS", "a", "b", "MINMATCHLEN", "x")
    diff("LCS", "a", "b", "MINMATCHLEN", "-1", "IDX")
    diff("LCS", "a", "b", "BOGUS")


def test_strings_in_resp3(diff: Differ) -> None:
    diff.both("HELLO", "3")
    diff("GET", "missing")
    diff("SET", "k", "v", "GET")
    diff("MGET", "k", "missing")
    diff("GETEX", "missing")
    diff("GETDEL", "missing")
    diff("INCRBYFLOAT", "f", "1.5")
    diff("MSET", "a", "ohmytext", "b", "mynewtext")
    diff("LCS", "a", "b", "IDX", "WITHMATCHLEN")
    diff("LCS", "a", "b", "LEN")
    diff("SET", "k", "v", "BAD")
