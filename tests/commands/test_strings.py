"""String commands through the engine (no sockets): every command, option, error and edge
case, RESP2 and RESP3 where the shapes differ, plus the number helpers behind them
(string2ll rules, long double INCRBYFLOAT arithmetic) and LCS against a reference table.

Expected replies were checked on redis-server 7.0.15. The harness clock stands still, so
expiry is checked on the keyspace's absolute times and by moving the clock.
"""

from __future__ import annotations

import random
import re
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from node.commands import _longdouble
from node.commands._args import int_arg, option, string2ll
from node.proto.errors import CommandError
from tests.support import START_MS, Harness

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
SYNTAX = "ERR syntax error"
NOT_INT = "ERR value is not an integer or out of range"
NOT_FLOAT = "ERR value is not a valid float"
TOO_LONG = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
LLONG_MAX = 2**63 - 1
LLONG_MIN = -(2**63)


def invalid_expire(command: str) -> str:
    return f"ERR invalid expire time in '{command}' command"


@pytest.fixture
def h() -> Harness:
    return Harness()


def expiry(h: Harness, key: str) -> int | None:
    return h.client.db.expires.get(key.encode())


def stored(h: Harness, key: str) -> object:
    return h.client.db.data.get(key.encode())


# ==== GET ===================================================================================
def test_get_missing_is_nil_in_both_protocols(h: Harness) -> None:
    assert h.raw("GET", "nokey") == b"$-1\r\n"
    assert Harness(resp=3).raw("GET", "nokey") == b"_\r\n"


def test_get_returns_binary_value_exactly(h: Harness) -> None:
    h("SET", "k", b"a\x00b\r\n")
    assert h.raw("GET", "k") == b"$5\r\na\x00b\r\n\r\n"


def test_get_wrong_type(h: Harness) -> None:
    h("RPUSH", "l", "a")
    assert h.error("GET", "l") == WRONGTYPE


def test_get_arity(h: Harness) -> None:
    assert h.error("GET") == "ERR wrong number of arguments for 'get' command"
    assert h.error("GET", "a", "b") == "ERR wrong number of arguments for 'get' command"


def test_get_after_expiry_is_nil(h: Harness) -> None:
    h("SET", "k", "v", "PX", "100")
    h.advance(99)
    assert h("GET", "k") == b"v"
    h.advance(2)
    assert h("GET", "k") is None


# ==== SET ===================================================================================
def test_set_plain_overwrites_any_type_and_clears_ttl(h: Harness) -> None:
    h("RPUSH", "k", "a")
    assert h.raw("SET", "k", "v") == b"+OK\r\n"
    assert h("GET", "k") == b"v"
    h("SET", "k", "v", "EX", "100")
    h("SET", "k", "w")
    assert expiry(h, "k") is None
    assert stored(h, "k").__class__ is bytes


@pytest.mark.parametrize(
    ("opt", "value", "when"),
    [
        ("EX", "100", START_MS + 100_000),
        ("PX", "1500", START_MS + 1500),
        ("EXAT", "4102444800", 4102444800_000),
        ("PXAT", "4102444800123", 4102444800123),
        ("ex", "1", START_MS + 1000),
        ("EXAT", "9223372036854775", 9223372036854775000),
        ("PXAT", str(LLONG_MAX), LLONG_MAX),
    ],
)
def test_set_expiry_options_store_absolute_ms(h: Harness, opt: str, value: str, when: int) -> None:
    assert h("SET", "k", "v", opt, value) == b"OK"
    assert expiry(h, "k") == when


@pytest.mark.parametrize(
    ("opt", "value"),
    [
        ("EX", "0"),
        ("EX", "-1"),
        ("PX", "0"),
        ("PX", "-5"),
        ("EXAT", "0"),
        ("PXAT", "-1"),
        # seconds that overflow once converted to ms, or once `now` is added
        ("EX", "9223372036854776"),
        ("EX", "9223372036854775"),
        ("PX", str(LLONG_MAX)),
        ("PX", "9223372036854775000"),
        ("EXAT", "9223372036854776"),
    ],
)
def test_set_invalid_expire_time(h: Harness, opt: str, value: str) -> None:
    assert h.error("SET", "k", "v", opt, value) == invalid_expire("set")
    assert h("GET", "k") is None


@pytest.mark.parametrize("value", ["abc", "1.5", "+10", " 10", "010", "", "9223372036854775808"])
def test_set_expire_must_be_an_integer(h: Harness, value: str) -> None:
    assert h.error("SET", "k", "v", "EX", value) == NOT_INT


@pytest.mark.parametrize(
    "args",
    [
        ("NX", "XX"),
        ("XX", "NX"),
        ("EX", "10", "PX", "10"),
        ("PX", "10", "EXAT", "10"),
        ("EXAT", "10", "PXAT", "10"),
        ("EX", "10", "KEEPTTL"),
        ("KEEPTTL", "EX", "10"),
        ("KEEPTTL", "PXAT", "10"),
        ("PERSIST",),
        ("FOO",),
        ("EX",),
        ("NX", "PX"),
        ("GETT",),
        ("NX", "nx", "xx"),
    ],
)
def test_set_syntax_errors(h: Harness, args: tuple[str, ...]) -> None:
    h("SET", "k", "old")
    assert h.error("SET", "k", "v", *args) == SYNTAX
    assert h("GET", "k") == b"old"


def test_set_repeated_options_are_fine_and_last_expiry_wins(h: Harness) -> None:
    assert h("SET", "k", "v", "EX", "10", "EX", "20") == b"OK"
    assert expiry(h, "k") == START_MS + 20_000
    assert h("SET", "k", "w", "XX", "XX", "KEEPTTL", "KEEPTTL") == b"OK"
    assert expiry(h, "k") == START_MS + 20_000
    assert h("SET", "k", "v", "GET", "GET") == b"w"


def test_set_options_are_c_strings(h: Harness) -> None:
    """Redis compares option words up to their first NUL byte, case-insensitively."""
    assert h("SET", "k", "v", b"NX\x00abc") == b"OK"
    assert h("SET", "k", "w", b"GET\x00abc") == b"v"
    assert h("SET", "k", "x", b"Ex\x00", "10") == b"OK"
    assert expiry(h, "k") == START_MS + 10_000
    assert h("SET", "k", "y", "nX") is None
    assert h.error("SET", "k", "v", "EXAT", b"1\x00") == NOT_INT


def test_set_nx_and_xx(h: Harness) -> None:
    assert h("SET", "k", "v", "XX") is None
    assert h("GET", "k") is None
    assert h("SET", "k", "v", "NX") == b"OK"
    assert h("SET", "k", "w", "NX") is None
    assert h("GET", "k") == b"v"
    assert h("SET", "k", "w", "XX") == b"OK"
    assert h("GET", "k") == b"w"
    assert Harness(resp=3).raw("SET", "k", "v", "XX") == b"_\r\n"


def test_set_xx_replaces_other_types(h: Harness) -> None:
    h("RPUSH", "l", "a")
    assert h("SET", "l", "v", "XX") == b"OK"
    assert h("GET", "l") == b"v"


def test_set_keepttl(h: Harness) -> None:
    h("SET", "k", "v", "PX", "5000")
    assert h("SET", "k", "w", "KEEPTTL") == b"OK"
    assert expiry(h, "k") == START_MS + 5000
    assert h("GET", "k") == b"w"
    assert h("SET", "new", "w", "KEEPTTL") == b"OK"
    assert expiry(h, "new") is None


def test_set_get_returns_old_value(h: Harness) -> None:
    assert h.raw("SET", "k", "v", "GET") == b"$-1\r\n"
    assert h("GET", "k") == b"v"
    assert h.raw("SET", "k", "w", "GET") == b"$1\r\nv\r\n"
    assert h("GET", "k") == b"w"
    assert Harness(resp=3).raw("SET", "k", "v", "GET") == b"_\r\n"


def test_set_get_with_nx_and_xx(h: Harness) -> None:
    # Allowed together since 7.0: the old value is the reply either way.
    assert h("SET", "m", "v", "NX", "GET") is None
    assert h("SET", "m", "w", "NX", "GET") == b"v"
    assert h("GET", "m") == b"v"
    assert h("SET", "m", "x", "XX", "GET") == b"v"
    assert h("GET", "m") == b"x"
    assert h("SET", "n", "x", "XX", "GET") is None
    assert h("GET", "n") is None


def test_set_get_on_wrong_type_does_not_write(h: Harness) -> None:
    h("RPUSH", "l", "a")
    assert h.error("SET", "l", "v", "GET") == WRONGTYPE
    assert h.error("SET", "l", "v", "NX", "GET") == WRONGTYPE
    assert h.error("GET", "l") == WRONGTYPE


def test_set_expire_is_checked_before_get_type(h: Harness) -> None:
    h("RPUSH", "l", "a")
    assert h.error("SET", "l", "v", "GET", "EX", "0") == invalid_expire("set")
    assert h.error("SET", "l", "v", "EX", "0", "GET") == invalid_expire("set")


def test_set_get_with_expiry(h: Harness) -> None:
    h("SET", "k", "v")
    assert h("SET", "k", "w", "GET", "PX", "300") == b"v"
    assert expiry(h, "k") == START_MS + 300


def test_set_absolute_time_in_the_past_leaves_no_key(h: Harness) -> None:
    assert h("SET", "k", "v", "EXAT", "1") == b"OK"
    assert h("GET", "k") is None
    assert h("SET", "k", "v", "PXAT", str(START_MS - 1)) == b"OK"
    assert h("GET", "k") is None


def test_set_counts_dirty(h: Harness) -> None:
    dirty = h.engine.dirty
    h("SET", "k", "v")
    h("SET", "k", "v", "EX", "10")
    h("SET", "k", "v", "NX")  # aborted: no change
    assert h.engine.dirty == dirty + 2


def test_set_key_flags_depend_on_get(h: Harness) -> None:
    assert h("COMMAND", "GETKEYSANDFLAGS", "SET", "k", "v") == [[b"k", [b"OW", b"update"]]]
    assert h("COMMAND", "GETKEYSANDFLAGS", "SET", "k", "v", "EX", "1", "gEt") == [
        [b"k", [b"RW", b"access", b"update"]]
    ]
    assert h("COMMAND", "GETKEYS", "SET", "k", "v", "GET") == [b"k"]


def test_set_arity(h: Harness) -> None:
    assert h.error("SET", "k") == "ERR wrong number of arguments for 'set' command"


# ==== SETNX / SETEX / PSETEX / GETSET ==========================================================
def test_setnx(h: Harness) -> None:
    assert h.raw("SETNX", "k", "v") == b":1\r\n"
    assert h.raw("SETNX", "k", "w") == b":0\r\n"
    assert h("GET", "k") == b"v"
    h("RPUSH", "l", "a")
    assert h("SETNX", "l", "v") == 0  # exists, whatever its type


def test_setex_and_psetex(h: Harness) -> None:
    assert h("SETEX", "k", "100", "v") == b"OK"
    assert h("GET", "k") == b"v"
    assert expiry(h, "k") == START_MS + 100_000
    assert h("PSETEX", "k", "1000", "w") == b"OK"
    assert expiry(h, "k") == START_MS + 1000
    h("RPUSH", "l", "a")
    assert h("SETEX", "l", "100", "v") == b"OK"
    assert h("GET", "l") == b"v"


@pytest.mark.parametrize(
    ("command", "ttl", "error"),
    [
        ("SETEX", "0", invalid_expire("setex")),
        ("SETEX", "-1", invalid_expire("setex")),
        ("SETEX", "9223372036854775", invalid_expire("setex")),
        ("SETEX", "abc", NOT_INT),
        ("PSETEX", "0", invalid_expire("psetex")),
        ("PSETEX", str(LLONG_MAX), invalid_expire("psetex")),
        ("PSETEX", "1.5", NOT_INT),
    ],
)
def test_setex_errors(h: Harness, command: str, ttl: str, error: str) -> None:
    assert h.error(command, "k", ttl, "v") == error
    assert h("GET", "k") is None


def test_getset(h: Harness) -> None:
    assert h("GETSET", "k", "v") is None
    assert h("GET", "k") == b"v"
    h("SET", "k", "v", "EX", "100")
    assert h("GETSET", "k", "w") == b"v"
    assert expiry(h, "k") is None
    h("RPUSH", "l", "a")
    assert h.error("GETSET", "l", "v") == WRONGTYPE
    assert Harness(resp=3).raw("GETSET", "k", "v") == b"_\r\n"


# ==== GETEX / GETDEL ========================================================================
def test_getex_without_options_reads_and_keeps_ttl(h: Harness) -> None:
    h("SET", "k", "v", "EX", "100")
    assert h("GETEX", "k") == b"v"
    assert expiry(h, "k") == START_MS + 100_000


@pytest.mark.parametrize(
    ("opt", "value", "when"),
    [
        ("EX", "200", START_MS + 200_000),
        ("PX", "200", START_MS + 200),
        ("EXAT", "4102444800", 4102444800_000),
        ("PXAT", str(LLONG_MAX), LLONG_MAX),
    ],
)
def test_getex_sets_expiry(h: Harness, opt: str, value: str, when: int) -> None:
    h("SET", "k", "v")
    dirty = h.engine.dirty
    assert h("GETEX", "k", opt, value) == b"v"
    assert expiry(h, "k") == when
    assert h.engine.dirty == dirty + 1


def test_getex_persist(h: Harness) -> None:
    h("SET", "k", "v", "EX", "100")
    dirty = h.engine.dirty
    assert h("GETEX", "k", "PERSIST") == b"v"
    assert expiry(h, "k") is None
    assert h("GETEX", "k", "persist", "PERSIST") == b"v"  # repeats are fine; nothing to do
    assert h.engine.dirty == dirty + 1


@pytest.mark.parametrize("at", [("EXAT", "1"), ("PXAT", "1"), ("PXAT", str(START_MS))])
def test_getex_absolute_time_in_the_past_deletes(h: Harness, at: tuple[str, str]) -> None:
    h("SET", "k", "v")
    assert h("GETEX", "k", *at) == b"v"
    assert stored(h, "k") is None


def test_getex_last_expiry_wins(h: Harness) -> None:
    h("SET", "k", "v")
    assert h("GETEX", "k", "EX", "100", "EX", "200") == b"v"
    assert expiry(h, "k") == START_MS + 200_000


@pytest.mark.parametrize(
    "args",
    [
        ("EX", "100", "PX", "100"),
        ("EX", "100", "PERSIST"),
        ("PERSIST", "EX", "100"),
        ("KEEPTTL",),
        ("NX",),
        ("XX",),
        ("GET",),
        ("FOO",),
        ("EX",),
    ],
)
def test_getex_syntax_errors(h: Harness, args: tuple[str, ...]) -> None:
    h("SET", "k", "v")
    assert h.error("GETEX", "k", *args) == SYNTAX
    assert h.error("GETEX", "nokey", *args) == SYNTAX  # parsed before the lookup


@pytest.mark.parametrize(
    ("opt", "value"),
    [
        ("EX", "0"),
        ("EX", "-5"),
        ("PX", "0"),
        ("EXAT", "0"),
        ("EX", "9223372036854775"),
        ("EXAT", "9223372036854776"),
    ],
)
def test_getex_invalid_expire_time(h: Harness, opt: str, value: str) -> None:
    h("SET", "k", "v")
    assert h.error("GETEX", "k", opt, value) == invalid_expire("getex")
    assert h("GET", "k") == b"v"


def test_getex_missing_key_is_nil_before_expire_checks(h: Harness) -> None:
    assert h("GETEX", "nokey", "EX", "0") is None
    assert h("GETEX", "nokey", "EX", "abc") is None
    assert Harness(resp=3).raw("GETEX", "nokey") == b"_\r\n"


def test_getex_wrong_type_comes_before_expire_checks(h: Harness) -> None:
    h("RPUSH", "l", "a")
    assert h.error("GETEX", "l") == WRONGTYPE
    assert h.error("GETEX", "l", "EX", "0") == WRONGTYPE
    assert h.error("GETEX", "l", "FOO") == SYNTAX


def test_getdel(h: Harness) -> None:
    assert h.raw("GETDEL", "nokey") == b"$-1\r\n"
    h("SET", "k", "v")
    assert h("GETDEL", "k") == b"v"
    assert h("GET", "k") is None
    h("RPUSH", "l", "a")
    assert h.error("GETDEL", "l") == WRONGTYPE
    assert Harness(resp=3).raw("GETDEL", "nokey") == b"_\r\n"


# ==== MGET / MSET / MSETNX ====================================================================
def test_mget_non_strings_are_nil(h: Harness) -> None:
    h("SET", "k", "v")
    h("RPUSH", "l", "a")
    assert h.raw("MGET", "k", "nokey", "l", "k") == (b"*4\r\n$1\r\nv\r\n$-1\r\n$-1\r\n$1\r\nv\r\n")
    h3 = Harness(h.engine, resp=3)
    assert h3.raw("MGET", "k", "nokey", "l") == b"*3\r\n$1\r\nv\r\n_\r\n_\r\n"


def test_mset(h: Harness) -> None:
    h("SET", "a", "old", "EX", "100")
    h("RPUSH", "l", "x")
    assert h.raw("MSET", "a", "1", "b", "2", "l", "3") == b"+OK\r\n"
    assert h("MGET", "a", "b", "l") == [b"1", b"2", b"3"]
    assert expiry(h, "a") is None


@pytest.mark.parametrize("command", ["MSET", "MSETNX"])
def test_mset_odd_arguments(h: Harness, command: str) -> None:
    message = f"ERR wrong number of arguments for '{command.lower()}' command"
    assert h.error(command, "a") == message
    assert h.error(command, "a", "1", "b") == message
    assert h("GET", "a") is None


def test_msetnx(h: Harness) -> None:
    h("SET", "a", "1")
    assert h.raw("MSETNX", "a", "x", "c", "2") == b":0\r\n"
    assert h("MGET", "a", "c") == [b"1", None]
    assert h.raw("MSETNX", "c", "1", "d", "2") == b":1\r\n"
    assert h("MGET", "c", "d") == [b"1", b"2"]
    assert h("MSETNX", "e", "1", "e", "2") == 1  # the same key twice: the last value wins
    assert h("GET", "e") == b"2"
    h("RPUSH", "l", "x")
    assert h("MSETNX", "l", "1") == 0


def test_mset_counts_dirty_per_key(h: Harness) -> None:
    dirty = h.engine.dirty
    h("MSET", "a", "1", "b", "2")
    h("MSETNX", "a", "1", "z", "2")  # refused
    h("MSETNX", "y", "1", "z", "2")
    assert h.engine.dirty == dirty + 4


# ==== APPEND / STRLEN ========================================================================
def test_append_creates_a_plain_string(h: Harness) -> None:
    assert h.raw("APPEND", "a", "hello") == b":5\r\n"
    assert stored(h, "a").__class__ is bytes


def test_append_to_existing_string_goes_raw_in_place(h: Harness) -> None:
    h("SET", "a", "hello", "EX", "100")
    assert h("APPEND", "a", " world") == 11
    value = stored(h, "a")
    assert value == bytearray(b"hello world")
    assert value.__class__ is bytearray
    assert h("APPEND", "a", "!") == 12
    assert stored(h, "a") is value  # changed in place from now on
    assert h("GET", "a") == b"hello world!"
    assert expiry(h, "a") == START_MS + 100_000


def test_append_to_integer_and_empty_append(h: Harness) -> None:
    h("SET", "n", "123")
    assert h("APPEND", "n", "4") == 4
    assert h("GET", "n") == b"1234"
    h("SET", "e", "x")
    dirty = h.engine.dirty
    assert h("APPEND", "e", "") == 1
    assert stored(h, "e").__class__ is bytearray  # Redis makes it raw even then
    assert h.engine.dirty == dirty + 1


def test_append_wrong_type(h: Harness) -> None:
    h("RPUSH", "l", "a")
    assert h.error("APPEND", "l", "x") == WRONGTYPE


def test_append_respects_proto_max_bulk_len() -> None:
    h = Harness(proto_max_bulk_len="1mb")
    h("SETRANGE", "x", str(1024 * 1024 - 2), "a")
    assert h("APPEND", "x", "b") == 1024 * 1024
    assert h.error("APPEND", "x", "c") == TOO_LONG
    assert h("STRLEN", "x") == 1024 * 1024
    assert h("APPEND", "fresh", "c") == 1


def test_append_invalidates_watch(h: Harness) -> None:
    h("SET", "k", "v")
    h("APPEND", "k", "w")  # now a bytearray: later appends are in place
    watcher = h.client_harness()
    h.client.db.watched[b"k"] = {watcher.client}
    h("APPEND", "k", "x")
    assert watcher.client.watch_dirty


def test_strlen(h: Harness) -> None:
    assert h.raw("STRLEN", "nokey") == b":0\r\n"
    h("SET", "k", "hello")
    assert h("STRLEN", "k") == 5
    h("SET", "i", "12345")
    assert h("STRLEN", "i") == 5
    h("APPEND", "k", b"\x00")
    assert h("STRLEN", "k") == 6
    h("RPUSH", "l", "a")
    assert h.error("STRLEN", "l") == WRONGTYPE


# ==== GETRANGE / SUBSTR ======================================================================
@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("0", "4", b"Hello"),
        ("-3", "-1", b"rld"),
        ("-1", "-3", b""),
        ("0", "-1", b"Hello World"),
        ("5", "3", b""),
        ("100", "200", b""),
        ("-100", "-50", b"H"),
        ("-100", "2", b"Hel"),
        ("0", "1000", b"Hello World"),
        ("10", "10", b"d"),
        ("11", "11", b""),
        (str(LLONG_MAX), str(LLONG_MAX), b""),
        (str(LLONG_MIN), str(LLONG_MIN), b"H"),
    ],
)
@pytest.mark.parametrize("command", ["GETRANGE", "SUBSTR"])
def test_getrange(h: Harness, command: str, start: str, end: str, expected: bytes) -> None:
    h("SET", "s", "Hello World")
    assert h(command, "s", start, end) == expected


def test_getrange_missing_and_empty_give_empty_string() -> None:
    for resp in (2, 3):
        h = Harness(resp=resp)
        assert h.raw("GETRANGE", "nokey", "0", "-1") == b"$0\r\n\r\n"
        h("SET", "e", "")
        assert h.raw("GETRANGE", "e", "0", "-1") == b"$0\r\n\r\n"
        assert h.raw("GETRANGE", "e", "0", "0") == b"$0\r\n\r\n"


def test_getrange_errors(h: Harness) -> None:
    h("SET", "s", "Hello")
    h("RPUSH", "l", "a")
    assert h.error("GETRANGE", "s", "a", "1") == NOT_INT
    assert h.error("GETRANGE", "s", "1", "b") == NOT_INT
    assert h.error("GETRANGE", "s", "0", "9223372036854775808") == NOT_INT
    assert h.error("GETRANGE", "l", "0", "1") == WRONGTYPE
    assert h.error("GETRANGE", "l", "a", "1") == NOT_INT  # the range is parsed first
    assert h.error("SUBSTR", "l", "0", "1") == WRONGTYPE


def test_getrange_of_an_integer(h: Harness) -> None:
    h("INCRBY", "i", "12345")
    assert h("GETRANGE", "i", "1", "2") == b"23"


# ==== SETRANGE ==============================================================================
def test_setrange_on_missing_key_zero_pads(h: Harness) -> None:
    assert h.raw("SETRANGE", "k", "3", "abc") == b":6\r\n"
    assert h("GET", "k") == b"\x00\x00\x00abc"
    assert stored(h, "k").__class__ is bytearray


def test_setrange_overwrites_and_extends(h: Harness) -> None:
    h("SET", "k", "hello", "EX", "100")
    assert h("SETRANGE", "k", "1", "EL") == 5
    assert h("GET", "k") == b"hELlo"
    value = stored(h, "k")
    assert value.__class__ is bytearray
    assert h("SETRANGE", "k", "7", "xy") == 9
    assert h("GET", "k") == b"hELlo\x00\x00xy"
    assert stored(h, "k") is value  # in place
    assert h("SETRANGE", "k", "8", "abc") == 11
    assert h("GET", "k") == b"hELlo\x00\x00xabc"
    assert expiry(h, "k") == START_MS + 100_000


def test_setrange_empty_value_changes_nothing(h: Harness) -> None:
    dirty = h.engine.dirty
    assert h("SETRANGE", "nokey", "5", "") == 0
    assert h("GET", "nokey") is None
    h("SET", "k", "hello")
    dirty = h.engine.dirty
    assert h("SETRANGE", "k", "1", "") == 5
    assert h("SETRANGE", "k", "99999999999", "") == 5  # no size check when writing nothing
    assert stored(h, "k").__class__ is bytes
    assert h.engine.dirty == dirty


def test_setrange_errors(h: Harness) -> None:
    h("RPUSH", "l", "a")
    h("SET", "k", "hello")
    assert h.error("SETRANGE", "l", "0", "x") == WRONGTYPE
    assert h.error("SETRANGE", "l", "-1", "x") == "ERR offset is out of range"
    assert h.error("SETRANGE", "nokey", "-1", "") == "ERR offset is out of range"
    assert h.error("SETRANGE", "l", "a", "x") == NOT_INT
    assert h.error("SETRANGE", "k", "9223372036854775808", "x") == NOT_INT
    assert h.error("SETRANGE", "k", str(LLONG_MAX), "x") == TOO_LONG
    assert h.error("SETRANGE", "k", "536870912", "x") == TOO_LONG
    assert h.error("SETRANGE", "nokey", "536870912", "x") == TOO_LONG
    assert h("GET", "k") == b"hello"
    assert h("GET", "nokey") is None


def test_setrange_limit_follows_config() -> None:
    h = Harness(proto_max_bulk_len="1mb")
    assert h("SETRANGE", "x", "1048575", "a") == 1048576
    assert h.error("SETRANGE", "x", "1048576", "a") == TOO_LONG
    assert h.error("SETRANGE", "y", "1048575", "ab") == TOO_LONG


def test_setrange_on_integer_goes_raw(h: Harness) -> None:
    h("SET", "k", "123")
    assert h("SETRANGE", "k", "1", "9") == 3
    assert h("GET", "k") == b"193"
    assert stored(h, "k").__class__ is bytearray
    assert h("INCR", "k") == 194  # still a number
    assert stored(h, "k") == b"194"


def test_setrange_invalidates_watch(h: Harness) -> None:
    h("SETRANGE", "k", "0", "abc")
    watcher = h.client_harness()
    h.client.db.watched[b"k"] = {watcher.client}
    h("SETRANGE", "k", "1", "z")
    assert watcher.client.watch_dirty


# ==== INCR / DECR / INCRBY / DECRBY ============================================================
def test_incr_family(h: Harness) -> None:
    assert h.raw("INCR", "n") == b":1\r\n"
    assert h("INCRBY", "n", "10") == 11
    assert h("DECR", "n") == 10
    assert h("DECRBY", "n", "15") == -5
    assert h("INCRBY", "n", "-5") == -10
    assert h("DECRBY", "n", "-20") == 10
    assert stored(h, "n") == b"10"
    assert stored(h, "n").__class__ is bytes


def test_incr_keeps_ttl(h: Harness) -> None:
    h("SET", "n", "10", "EX", "100")
    assert h("INCR", "n") == 11
    assert expiry(h, "n") == START_MS + 100_000


def test_incr_on_raw_string(h: Harness) -> None:
    h("SET", "n", "1")
    h("APPEND", "n", "0")
    assert h("INCR", "n") == 11
    assert stored(h, "n").__class__ is bytes  # the result is canonical text again


@pytest.mark.parametrize(
    "value",
    [
        " 1",
        "+1",
        "01",
        "-0",
        "1 ",
        "",
        "1.0",
        "1e3",
        "abc",
        "0x10",
        "9223372036854775808",
        "-9223372036854775809",
        "9999999999999999999",
        "1\x00",
        "1_000",
        "٣",
    ],
)
def test_incr_refuses_non_canonical_integers(h: Harness, value: str) -> None:
    h("SET", "k", value)
    assert h.error("INCR", "k") == NOT_INT
    assert h.error("DECRBY", "k", "1") == NOT_INT
    assert h("GET", "k") == value.encode()


@pytest.mark.parametrize("increment", ["+1", " 1", "1.0", "x", "", "9223372036854775808"])
def test_incrby_refuses_bad_increments(h: Harness, increment: str) -> None:
    h("RPUSH", "l", "a")
    assert h.error("INCRBY", "k", increment) == NOT_INT
    assert h.error("INCRBY", "l", increment) == NOT_INT  # parsed before the lookup


def test_incr_wrong_type(h: Harness) -> None:
    h("RPUSH", "l", "a")
    for args in (("INCR", "l"), ("DECR", "l"), ("INCRBY", "l", "1"), ("DECRBY", "l", "1")):
        assert h.error(*args) == WRONGTYPE


def test_incr_overflow(h: Harness) -> None:
    h("SET", "k", str(LLONG_MAX))
    assert h.error("INCR", "k") == "ERR increment or decrement would overflow"
    assert h("INCRBY", "k", "0") == LLONG_MAX
    assert h("DECR", "k") == LLONG_MAX - 1
    h("SET", "k", str(LLONG_MIN))
    assert h.error("DECR", "k") == "ERR increment or decrement would overflow"
    assert h.error("INCRBY", "k", "-1") == "ERR increment or decrement would overflow"
    assert h("INCRBY", "k", str(LLONG_MAX)) == -1
    assert h("DECRBY", "k", str(LLONG_MAX)) == LLONG_MIN
    assert h.error("DECRBY", "k", "1") == "ERR increment or decrement would overflow"
    assert h("GET", "k") == str(LLONG_MIN).encode()


def test_decrby_min_value_cannot_be_negated(h: Harness) -> None:
    h("RPUSH", "l", "a")
    assert h.error("DECRBY", "k", str(LLONG_MIN)) == "ERR decrement would overflow"
    assert h.error("DECRBY", "l", str(LLONG_MIN)) == "ERR decrement would overflow"


def test_incr_counts_dirty_only_on_success(h: Harness) -> None:
    dirty = h.engine.dirty
    h("INCR", "n")
    h("SET", "x", "abc")
    h("INCR", "x")
    assert h.engine.dirty == dirty + 2


# ==== INCRBYFLOAT =========================================================================
@pytest.mark.parametrize(
    ("start", "increment", "expected"),
    [
        (None, "10.5", b"10.5"),
        ("10.5", "0.1", b"10.6"),  # long double: not 10.59999999999999964
        ("10.6", "-5.6", b"5"),
        ("5", "5.0e3", b"5005"),
        ("5005", "3.0e3", b"8005"),
        ("1.5", "1", b"2.5"),
        ("0", "-0", b"0"),
        ("0", "1e-18", b"0"),
        ("0", "-1e-18", b"0"),
        ("0", "+1", b"1"),
        ("1", "0x10", b"17"),
        ("17", "0x1.8p1", b"20"),
        ("20", ".5", b"20.5"),
        ("20.5", "5.", b"25.5"),
        ("25.5", "1e-4940", b"25.5"),
        ("0", "4e-4951", b"0"),  # a subnormal: accepted
        ("0", "INFINITY", None),
        ("0", "0.000003814697265625", b"0.00000381469726562"),  # a tie, rounded to even
        ("0", "0.000011444091796875", b"0.00001144409179688"),
        ("9223372036854775807", "3", b"9223372036854775810"),
        (
            "1",
            "1e300",
            b"1" + b"0" * 20 + b"8997324079559193870523944273290747938260082321265646"
            b"59618093575584915208375049719035037250861427483590359255618467298391309626052074864628"
            b"73271356418436532940842551076060167897266529323700305513829476209945402947727818896206"
            b"06179267611627097410650567187386105690089424915104006144",
        ),
    ],
)
def test_incrbyfloat_results(
    h: Harness, start: str | None, increment: str, expected: bytes | None
) -> None:
    if start is not None:
        h("SET", "k", start)
    if expected is None:
        assert h.error("INCRBYFLOAT", "k", increment) == (
            "ERR increment would produce NaN or Infinity"
        )
        return
    assert h.raw("INCRBYFLOAT", "k", increment) == b"$%d\r\n%s\r\n" % (len(expected), expected)
    assert stored(h, "k") == expected


def test_incrbyfloat_reply_is_a_bulk_string_in_resp3() -> None:
    h = Harness(resp=3)
    assert h.raw("INCRBYFLOAT", "k", "1.5") == b"$3\r\n1.5\r\n"


def test_incrbyfloat_huge_values_keep_every_digit(h: Harness) -> None:
    h("SET", "k", "1")
    result = h("INCRBYFLOAT", "k", "1.1e400")
    assert len(result) == 401
    assert result.startswith(b"1100000000000000000031006875234234516604509877699195724")
    assert result.endswith(b"978105747173244141568")
    top = h("INCRBYFLOAT", "m", "1.18973149535723176502e+4932")  # the largest long double
    assert len(top) == 4933
    assert top.startswith(b"118973149535723176502126385303097020516906332229462420044")
    assert top.endswith(b"156604419552086811989770240")
    assert h.error("INCRBYFLOAT", "m", "1.1897314953572317650e+4932") == (
        "ERR increment would produce NaN or Infinity"
    )


@pytest.mark.parametrize(
    "increment",
    [
        "nan",
        " 1",
        "1 ",
        "1e",
        "e1",
        "1e5000",
        "1e-5000",
        "",
        "1\x00abc",
        "\x00",
        "0x",
        "1..2",
        "--1",
        "inf1",
        "abc",
        "1e+",
        "0x1p",
        "1" * 5120,
    ],
)
def test_incrbyfloat_refuses_bad_increments(h: Harness, increment: str) -> None:
    h("SET", "k", "1.5")
    assert h.error("INCRBYFLOAT", "k", increment) == NOT_FLOAT
    assert h("GET", "k") == b"1.5"


@pytest.mark.parametrize("value", ["  1.5", "1.5\x00zz", "abc", "nan", ""])
def test_incrbyfloat_refuses_bad_values(h: Harness, value: str) -> None:
    h("SET", "k", value)
    assert h.error("INCRBYFLOAT", "k", "1") == NOT_FLOAT


def test_incrbyfloat_nan_and_infinity(h: Harness) -> None:
    message = "ERR increment would produce NaN or Infinity"
    assert h.error("INCRBYFLOAT", "k", "inf") == message
    assert h.error("INCRBYFLOAT", "k", "-infinity") == message
    h("SET", "k", "inf")
    assert h.error("INCRBYFLOAT", "k", "1") == message
    assert h.error("INCRBYFLOAT", "k", "-inf") == message  # inf - inf is NaN
    assert h("GET", "k") == b"inf"


def test_incrbyfloat_wrong_type_comes_first(h: Harness) -> None:
    h("RPUSH", "l", "a")
    assert h.error("INCRBYFLOAT", "l", "1") == WRONGTYPE
    assert h.error("INCRBYFLOAT", "l", "x") == WRONGTYPE


def test_incrbyfloat_keeps_ttl_and_stores_bytes(h: Harness) -> None:
    h("SET", "k", "10", "EX", "100")
    assert h("INCRBYFLOAT", "k", "1.5") == b"11.5"
    assert expiry(h, "k") == START_MS + 100_000
    assert stored(h, "k").__class__ is bytes


# ==== LCS ===================================================================================
def idx_reply(matches: list[bytes], length: int, resp: int = 2) -> bytes:
    head = b"%2\r\n" if resp == 3 else b"*4\r\n"
    return (
        head
        + b"$7\r\nmatches\r\n*%d\r\n" % len(matches)
        + b"".join(matches)
        + b"$3\r\nlen\r\n:%d\r\n" % length
    )


def match(a: tuple[int, int], b: tuple[int, int], length: int | None = None) -> bytes:
    out = b"*%d\r\n*2\r\n:%d\r\n:%d\r\n*2\r\n:%d\r\n:%d\r\n" % (
        2 if length is None else 3,
        a[0],
        a[1],
        b[0],
        b[1],
    )
    return out if length is None else out + b":%d\r\n" % length


@pytest.fixture
def texts(h: Harness) -> Harness:
    h("MSET", "key1", "ohmytext", "key2", "mynewtext")
    return h


def test_lcs_string_and_len(texts: Harness) -> None:
    assert texts.raw("LCS", "key1", "key2") == b"$6\r\nmytext\r\n"
    assert texts.raw("LCS", "key1", "key2", "LEN") == b":6\r\n"
    assert texts("LCS", "key1", "key2", "WITHMATCHLEN") == b"mytext"
    assert texts("LCS", "key1", "key2", "MINMATCHLEN", "3") == b"mytext"
    assert texts("LCS", "key1", "key2", "len", "WITHMATCHLEN") == 6


def test_lcs_idx(texts: Harness) -> None:
    both = [match((4, 7), (5, 8)), match((2, 3), (0, 1))]
    assert texts.raw("LCS", "key1", "key2", "IDX") == idx_reply(both, 6)
    assert texts.raw("LCS", "key1", "key2", "IDX", "MINMATCHLEN", "-5") == idx_reply(both, 6)
    assert texts.raw("LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4") == idx_reply(
        [match((4, 7), (5, 8))], 6
    )
    assert texts.raw("LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN") == (
        idx_reply([match((4, 7), (5, 8), 4)], 6)
    )
    assert texts.raw("LCS", "key1", "key2", "IDX", "WITHMATCHLEN") == idx_reply(
        [match((4, 7), (5, 8), 4), match((2, 3), (0, 1), 2)], 6
    )


def test_lcs_idx_resp3_is_a_map(texts: Harness) -> None:
    h3 = Harness(texts.engine, resp=3)
    assert h3.raw("LCS", "key1", "key2", "IDX", "WITHMATCHLEN") == idx_reply(
        [match((4, 7), (5, 8), 4), match((2, 3), (0, 1), 2)], 6, resp=3
    )
    assert h3.raw("LCS", "nokey", "key2", "IDX") == idx_reply([], 0, resp=3)
    assert h3.raw("LCS", "key1", "key2", "LEN") == b":6\r\n"


def test_lcs_single_char_ranges(h: Harness) -> None:
    h("MSET", "a", "abcabcabc", "b", "cbacbacba")
    assert h("LCS", "a", "b") == b"cbabc"
    assert h.raw("LCS", "a", "b", "IDX", "WITHMATCHLEN") == idx_reply(
        [
            match((8, 8), (6, 6), 1),
            match((7, 7), (4, 4), 1),
            match((6, 6), (2, 2), 1),
            match((4, 4), (1, 1), 1),
            match((2, 2), (0, 0), 1),
        ],
        5,
    )


def test_lcs_missing_keys_are_empty(h: Harness) -> None:
    h("SET", "key2", "abc")
    assert h.raw("LCS", "nokey", "key2") == b"$0\r\n\r\n"
    assert h.raw("LCS", "nokey", "key2", "IDX") == idx_reply([], 0)
    assert h("LCS", "nokey", "nokey2", "LEN") == 0


def test_lcs_errors(texts: Harness) -> None:
    h = texts
    assert h.error("LCS", "key1", "key2", "LEN", "IDX") == (
        "ERR If you want both the length and indexes, please just use IDX."
    )
    assert h.error("LCS", "key1", "key2", "IDX", "LEN", "FOO") == SYNTAX
    assert h.error("LCS", "key1", "key2", "MINMATCHLEN") == SYNTAX
    assert h.error("LCS", "key1", "key2", "MINMATCHLEN", "x", "IDX", "LEN") == NOT_INT
    assert h("LCS", "key1", "key2", b"LEN\x00z") == 6  # options are C strings
    h("RPUSH", "l", "a")
    message = "ERR The specified keys must contain string values"
    assert h.error("LCS", "l", "key2", "FOO") == message  # types are checked first
    assert h.error("LCS", "key1", "l") == message
    assert h.error("LCS", "key1") == "ERR wrong number of arguments for 'lcs' command"


def test_lcs_table_must_fit_proto_max_bulk_len() -> None:
    h = Harness(proto_max_bulk_len="1mb")
    h("SETRANGE", "big", "600", "x")  # (602 * 602) cells of 4 bytes > 1 MiB
    h("SET", "small", "ohmytext")
    assert h.error("LCS", "big", "big") == (
        "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"
    )
    assert h("LCS", "big", "small", "LEN") == 1


def reference_lcs(
    a: bytes, b: bytes, min_len: int
) -> tuple[bytes, list[tuple[int, int, int, int, int]]]:
    """Redis's algorithm as written: the full table, then the walk from its far corner."""
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            if a[i - 1] == b[j - 1]:
                table[i][j] = table[i - 1][j - 1] + 1
            else:
                table[i][j] = max(table[i - 1][j], table[i][j - 1])
    out, ranges = bytearray(), []
    i, j, start = len(a), len(b), None
    while i > 0 and j > 0:
        emit = False
        if a[i - 1] == b[j - 1]:
            out.append(a[i - 1])
            if start is None:
                start = [i - 1, i - 1, j - 1, j - 1]
            else:
                start[0], start[2] = i - 1, j - 1
            emit = start[0] == 0 or start[2] == 0
            i, j = i - 1, j - 1
        else:
            if table[i - 1][j] > table[i][j - 1]:
                i -= 1
            else:
                j -= 1
            emit = start is not None
        if emit and start is not None:
            length = start[1] - start[0] + 1
            if length >= min_len:
                ranges.append((start[0], start[1], start[2], start[3], length))
            start = None
    return bytes(reversed(out)), ranges


@pytest.mark.parametrize("seed", range(4))
def test_lcs_matches_redis_table_walk(h: Harness, seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(60):
        alphabet = rng.choice([b"ab", b"abc", b"ACGT", bytes(range(256))])
        a = bytes(rng.choice(alphabet) for _ in range(rng.randrange(0, 70)))
        b = bytes(rng.choice(alphabet) for _ in range(rng.randrange(0, 70)))
        h("MSET", "a", a, "b", b)
        min_len = rng.randrange(0, 4)
        common, ranges = reference_lcs(a, b, min_len)
        assert h("LCS", "a", "b") == common
        assert h("LCS", "a", "b", "LEN") == len(common)
        expected = [[[r[0], r[1]], [r[2], r[3]], r[4]] for r in ranges]
        reply = h("LCS", "a", "b", "IDX", "MINMATCHLEN", str(min_len), "WITHMATCHLEN")
        assert reply == [b"matches", expected, b"len", len(common)]


# ==== argument helpers ========================================================================
@pytest.mark.parametrize(
    ("raw", "value"),
    [
        (b"0", 0),
        (b"-1", -1),
        (b"123", 123),
        (b"9223372036854775807", LLONG_MAX),
        (b"-9223372036854775808", LLONG_MIN),
        (bytearray(b"42"), 42),
        (b"-0", None),
        (b"01", None),
        (b"+1", None),
        (b" 1", None),
        (b"1 ", None),
        (b"", None),
        (b"-", None),
        (b"1_0", None),
        (b"9223372036854775808", None),
        (b"1" * 21, None),
        (b"0x1", None),
        (b"1.0", None),
    ],
)
def test_string2ll(raw: bytes, value: int | None) -> None:
    assert string2ll(raw) == value


@given(
    raw=st.one_of(
        st.binary(max_size=22),
        st.integers(min_value=-(2**64), max_value=2**64).map(lambda n: b"%d" % n),
        st.from_regex(rb"\A-?[0-9]{0,21}\Z"),
    )
)
def test_string2ll_takes_exactly_the_canonical_int64_spellings(raw: bytes) -> None:
    canonical = re.fullmatch(rb"-?(0|[1-9][0-9]*)", raw) is not None and raw != b"-0"
    want = int(raw) if canonical and -(2**63) <= int(raw) < 2**63 else None
    assert string2ll(raw) == want
    assert string2ll(bytearray(raw)) == want


def test_int_arg_and_option() -> None:
    assert int_arg(b"7") == 7
    with pytest.raises(CommandError) as err:
        int_arg(b"x", "ERR custom")
    assert err.value.message == "ERR custom"
    assert option(b"nX\x00junk") == b"NX"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        (b"1.5", Fraction(3, 2)),
        (b"-0x1p-2", Fraction(-1, 4)),
        (b"1e2", Fraction(100)),
        (b"0e99999999999999999999", Fraction(0)),
        (b"0x1p-16445", Fraction(1, 2**16445)),
    ],
)
def test_long_double_parse_exact_values(text: bytes, value: Fraction) -> None:
    assert _longdouble.parse(text) == value


def test_long_double_rounds_to_64_bit_significand() -> None:
    third = _longdouble.parse(b"0.33333333333333333333333333333")
    assert isinstance(third, Fraction)
    assert third.denominator == 2**65  # 64 significant bits below 2**-2
    assert _longdouble.parse(b"0x1p-16446") is None  # half the smallest subnormal: to zero
    assert _longdouble.parse(b"0x1.8p-16446") == Fraction(1, 2**16445)
    assert _longdouble.parse(b"0x1p16384") is None  # overflow
    assert _longdouble.parse(b"-inf") == float("-inf")


def test_long_double_format_human() -> None:
    fmt = _longdouble.format_human
    assert fmt(Fraction(0)) == b"0"
    assert fmt(Fraction(-1, 10**18)) == b"0"  # "-0" becomes "0"
    assert fmt(Fraction(-5, 2)) == b"-2.5"
    assert fmt(Fraction(5000)) == b"5000"
    assert fmt(Fraction(1, 3)) == b"0.33333333333333333"
