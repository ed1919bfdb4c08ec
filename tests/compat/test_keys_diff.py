"""Key-space commands against a real redis-server, reply bytes compared. Times are absolute
(far future or far past) so that the two servers' clocks never matter."""

from __future__ import annotations

import pytest

from tests.compat.conftest import Differ

pytestmark = pytest.mark.interop

FUTURE_MS = 4_000_000_000_000


def test_del_exists_touch_type(diff: Differ) -> None:
    diff("SET", "a", "1")
    diff("RPUSH", "l", "x")
    diff("EXISTS", "a", "a", "l", "nokey")
    diff("TOUCH", "a", "a", "nokey")
    for key in ("a", "l", "nokey"):
        diff("TYPE", key)
    diff("DEL", "a", "a", "nokey")
    diff("UNLINK", "l", "l")
    diff("DEL")
    diff("EXISTS", "a", "l")


def test_rename(diff: Differ) -> None:
    diff("RENAME", "a", "b")
    diff("RENAMENX", "a", "a")
    diff("SET", "a", "1")
    diff("RENAME", "a", "a")
    diff("RENAMENX", "a", "a")
    diff("PEXPIREAT", "a", FUTURE_MS)
    diff("SET", "b", "x")
    diff("RENAMENX", "a", "b")
    diff("RENAME", "a", "b")
    diff("PEXPIRETIME", "b")
    diff("SET", "c", "v")
    diff("RENAME", "c", "b")
    diff("PTTL", "b")


def test_keys_and_scan_arguments(diff: Differ) -> None:
    for key in ("a", "b", "c", "", "a*b", "hello", "hallo"):
        diff("SET", key, "1")
    for pattern in ("*", "**", "", "?", "h[ae]llo", "h[^e]llo", "a\\*b", "[ab", "[a-", "\\"):
        diff("KEYS", pattern, unordered=True)
    # Cursors themselves differ by design (Redis's walk a hash table); only errors compare.
    for cursor in (" 1", "1x", "18446744073709551616", "-", "+", "0.5"):
        diff("SCAN", cursor)
    for args in (
        ("count", "0"),
        ("count", "x"),
        ("count",),
        ("match",),
        ("type",),
        ("foo", "bar"),
        ("count", "-1", "match"),
        ("count", "1", "count", "0"),
    ):
        diff("SCAN", "0", *args)
    diff("SCAN", "0", "TYPE", "hash")


def test_object(diff: Differ) -> None:
    for value in ("123", "12345", "-5", "01", "x" * 44, "x" * 45, "9223372036854775808"):
        diff("SET", "k", value)
        diff("OBJECT", "ENCODING", "k")
        diff("OBJECT", "REFCOUNT", "k")
    diff("APPEND", "k", "z")
    diff("OBJECT", "ENCODING", "k")
    diff("RPUSH", "l", "a")
    diff("OBJECT", "ENCODING", "l")
    diff("OBJECT", "IDLETIME", "l")
    diff("OBJECT", "FREQ", "l")
    for sub in ("ENCODING", "REFCOUNT", "IDLETIME", "FREQ"):
        diff("OBJECT", sub, "nokey")
    diff("OBJECT", "HELP")
    diff("OBJECT")
    diff("OBJECT", "ENCODING")
    diff("OBJECT", "foo")


def test_expire_family(diff: Differ) -> None:
    diff("SET", "k", "v")
    for args in (
        ("abc", "foo"),
        ("abc", "nx"),
        ("100", "nx", "xx"),
        ("100", "gt", "lt"),
        ("+1",),
        ("01",),
        ("",),
        ("9223372036854775807",),
        ("9223372036854775",),
        ("-9223372036854776",),
    ):
        diff("EXPIRE", "k", *args)
    diff("PEXPIRE", "k", "9223372036854775807")
    diff("EXPIREAT", "k", "9223372036854776")
    diff("PEXPIREAT", "k", FUTURE_MS, "NX")
    diff("PEXPIREAT", "k", FUTURE_MS + 1, "GT")
    diff("PEXPIREAT", "k", FUTURE_MS, "LT")
    diff("PEXPIREAT", "k", FUTURE_MS - 1, "XX", "LT")
    diff("PEXPIRETIME", "k")
    diff("EXPIRETIME", "k")
    diff("PERSIST", "k")
    diff("PERSIST", "k")
    diff("TTL", "k")
    diff("PTTL", "nokey")
    diff("EXPIRE", "nokey", "10")
    diff("PEXPIREAT", "k", "99999999999500")
    diff("EXPIRETIME", "k")
    diff("PEXPIREAT", "k", "1000")
    diff("EXISTS", "k")


def test_copy_move_swapdb_flush(diff: Differ) -> None:
    diff("SET", "c", "1")
    for args in (
        ("c", "c"),
        ("c", "d", "db"),
        ("c", "d", "db", "x"),
        ("c", "d", "db", "16"),
        ("c", "d", "db", "4294967296"),
        ("c", "d", "foo"),
        ("c", "d"),
        ("c", "d"),
        ("c", "d", "REPLACE"),
        ("c", "c", "DB", "1"),
    ):
        diff("COPY", *args)
    for db in ("abc", "16", "0", "4294967296", "1", "1"):
        diff("MOVE", "c", db)
    for args in (("0", "x"), ("x", "0"), ("0", "16"), ("0", "0"), ("0", "1"), ("1", "0")):
        diff("SWAPDB", *args)
    diff("DBSIZE")
    for args in (("foo",), ("sync", "x"), ("ASYNC",), ()):
        diff("FLUSHDB", *args)
    diff("DBSIZE")
    diff("FLUSHALL", "SYNC")
