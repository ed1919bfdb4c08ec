"""Key-space commands through the engine (no sockets). Replies, error texts and edge cases
were checked against redis-server 7.0.15; the SCAN guarantee and WATCH/blocking effects
are checked against Redis's documented contract."""

from __future__ import annotations

import random

import hiredis
import pytest

from node.commands import _scan
from node.commands.table import NODE
from node.proto.errors import CommandError
from tests.cluster.support import cluster_harness
from tests.support import START_MS, Harness

FUTURE_MS = 4_000_000_000_000
NOT_INTEGER = "ERR value is not an integer or out of range"
INT_RANGE = "ERR value is out of range, value must between -2147483648 and 2147483647"
SYNTAX = "ERR syntax error"
SAME_OBJECT = "ERR source and destination objects are the same"
DB_INDEX = "ERR DB index is out of range"


@pytest.fixture
def h() -> Harness:
    return Harness()


def data(h: Harness, db: int = 0) -> dict[bytes, object]:
    return h.engine.keyspace.dbs[db].data


def watch(h: Harness, key: str) -> None:
    h.engine.watch(h.client, key.encode())


# --- DEL, UNLINK, EXISTS, TOUCH, TYPE --------------------------------------------------------
@pytest.mark.parametrize("cmd", ["DEL", "UNLINK"])
def test_del_counts_removed_keys_once(h: Harness, cmd: str) -> None:
    h("SET", "a", "1")
    h("RPUSH", "l", "x")
    dirty = h.engine.dirty
    assert h(cmd, "a", "l", "missing", "a") == 2
    assert h.engine.dirty == dirty + 2
    assert data(h) == {}
    assert h(cmd, "a") == 0
    assert h.error(cmd) == f"ERR wrong number of arguments for '{cmd.lower()}' command"


@pytest.mark.parametrize("cmd", ["EXISTS", "TOUCH"])
def test_exists_counts_every_mention(h: Harness, cmd: str) -> None:
    h("SET", "a", "1")
    assert h(cmd, "a", "a", "b", "a") == 3
    assert h(cmd, "b") == 0


def test_expired_keys_do_not_exist(h: Harness) -> None:
    h("SET", "a", "1")
    h("PEXPIRE", "a", 100)
    h.advance(100)
    assert h("EXISTS", "a") == 1  # alive through its expiry millisecond, as keyIsExpired
    h.advance(1)
    assert h("EXISTS", "a") == 0
    assert b"a" not in data(h)


def test_type(h: Harness) -> None:
    h("SET", "s", "v")
    h("RPUSH", "l", "x")
    assert h.raw("TYPE", "s") == b"+string\r\n"
    assert h.raw("TYPE", "l") == b"+list\r\n"
    assert h.raw("TYPE", "nokey") == b"+none\r\n"
    h("APPEND", "s", "w")
    assert h("TYPE", "s") == b"string"


# --- RENAME, RENAMENX ------------------------------------------------------------------------
def test_rename_missing_key(h: Harness) -> None:
    assert h.error("RENAME", "a", "b") == "ERR no such key"
    assert h.error("RENAMENX", "a", "b") == "ERR no such key"
    assert h.error("RENAME", "a", "a") == "ERR no such key"
    h("SET", "a", "1")
    h("PEXPIRE", "a", 10)
    h.advance(11)
    assert h.error("RENAME", "a", "b") == "ERR no such key"


def test_rename_to_itself(h: Harness) -> None:
    h("SET", "a", "1")
    dirty = h.engine.dirty
    assert h("RENAME", "a", "a") == b"OK"
    assert h("RENAMENX", "a", "a") == 0
    assert h.engine.dirty == dirty
    assert h("GET", "a") == b"1"


def test_rename_moves_value_and_ttl(h: Harness) -> None:
    h("RPUSH", "a", "x", "y")
    h("PEXPIREAT", "a", FUTURE_MS)
    h("SET", "b", "old")
    h("PEXPIRE", "b", 5)
    dirty = h.engine.dirty
    assert h.raw("RENAME", "a", "b") == b"+OK\r\n"
    assert h.engine.dirty == dirty + 1
    assert h("EXISTS", "a") == 0
    assert h("LRANGE", "b", 0, -1) == [b"x", b"y"]
    assert h("PEXPIRETIME", "b") == FUTURE_MS
    # A source without TTL leaves the destination without one.
    h("SET", "c", "v")
    assert h("RENAME", "c", "b") == b"OK"
    assert h("TTL", "b") == -1
    assert h("GET", "b") == b"v"


def test_renamenx(h: Harness) -> None:
    h("SET", "a", "1")
    h("SET", "b", "2")
    assert h("RENAMENX", "a", "b") == 0
    assert h("GET", "b") == b"2"
    assert h("RENAMENX", "a", "c") == 1
    assert h("EXISTS", "a", "c") == 1
    assert h.raw("RENAMENX", "c", "a") == b":1\r\n"


def test_rename_invalidates_watches_on_both_keys(h: Harness) -> None:
    h("SET", "a", "1")
    other = h.client_harness()
    watch(other, "a")
    watch(h, "b")
    h("RENAME", "a", "b")
    assert other.client.watch_dirty and h.client.watch_dirty


def test_rename_wakes_a_client_blocked_on_the_new_name(h: Harness) -> None:
    blocked = h.client_harness()
    assert blocked.raw("BLPOP", "dst", 0) == b""
    h("RPUSH", "src", "x")
    h("RENAME", "src", "dst")
    assert blocked.client.out == [b"*2\r\n$3\r\ndst\r\n$1\r\nx\r\n"]


# --- KEYS ----------------------------------------------------------------------------------
def test_keys_patterns(h: Harness) -> None:
    for key in ("hello", "hallo", "hxllo", "heeello", "a*b", ""):
        h("SET", key, "1")
    assert sorted(h("KEYS", "h?llo")) == [b"hallo", b"hello", b"hxllo"]
    assert sorted(h("KEYS", "h[ae]llo")) == [b"hallo", b"hello"]
    assert sorted(h("KEYS", "h[^e]llo")) == [b"hallo", b"hxllo"]
    assert h("KEYS", "h*llo").count(b"heeello") == 1
    assert h("KEYS", "a\\*b") == [b"a*b"]
    assert h("KEYS", "") == [b""]
    assert h("KEYS", "nothing*") == []
    # `*` alone is "all keys", even the empty one; any other pattern goes through the glob.
    assert b"" in h("KEYS", "*")
    assert b"" not in h("KEYS", "**")
    assert len(h("KEYS", "*")) == 6


def test_keys_skips_expired_keys_without_deleting_them(h: Harness) -> None:
    h("SET", "live", "1")
    h("SET", "dead", "1")
    h("PEXPIRE", "dead", 10)
    h.advance(11)
    assert h("KEYS", "*") == [b"live"]
    assert h("KEYS", "d*") == []
    assert b"dead" in data(h)
    assert h.engine.keyspace.expired_keys == 0


def test_keys_reply_is_an_array_in_resp3() -> None:
    h = Harness(resp=3)
    h("SET", "a", "1")
    assert h.raw("KEYS", "*") == b"*1\r\n$1\r\na\r\n"


# --- SCAN ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "cursor"),
    [
        (b"0", 0),
        (b"", 0),
        (b"00", 0),
        (b"+5", 5),
        (b"-1", 2**64 - 1),
        (b"-18446744073709551615", 1),
        (b"18446744073709551615", 2**64 - 1),
        (b"7\0junk", 7),
        (b"-0", 0),
    ],
)
def test_parse_cursor_reads_like_strtoul(raw: bytes, cursor: int) -> None:
    assert _scan.parse_cursor(raw) == cursor


@pytest.mark.parametrize(
    "raw",
    [
        b" 1",
        b"1x",
        b"18446744073709551616",
        b"-",
        b"+",
        b"0.5",
        b"0x10",
        b"1 ",
        b"\t1",
        b"1" * 30,
        b"-18446744073709551616",
    ],
)
def test_parse_cursor_rejects(raw: bytes) -> None:
    with pytest.raises(CommandError) as exc:
        _scan.parse_cursor(raw)
    assert exc.value.message == "ERR invalid cursor"


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("count", "0"), SYNTAX),
        (("count", "-1"), SYNTAX),
        (("count", "x"), NOT_INTEGER),
        (("count",), SYNTAX),
        (("match",), SYNTAX),
        (("type",), SYNTAX),
        (("foo", "bar"), SYNTAX),
        (("count", "-1", "match"), SYNTAX),
        (("count", "x", "foo"), NOT_INTEGER),
        (("count", "1", "count", "0"), SYNTAX),
        (("match", "*", "bogus"), SYNTAX),
    ],
)
def test_scan_option_errors(h: Harness, args: tuple[str, ...], error: str) -> None:
    h("SET", "k", "v")
    assert h.error("SCAN", "0", *args) == error
    assert h.error("SCAN", "1x", *args) == "ERR invalid cursor"  # the cursor is read first


def test_scan_type_is_only_for_scan() -> None:
    with pytest.raises(CommandError):
        _scan.parse_options([b"HSCAN", b"k", b"0", b"TYPE", b"string"], 3)
    opts = _scan.parse_options(
        [b"SCAN", b"0", b"type", b"STRING\0x", b"match", b"a*"], 2, allow_type=True
    )
    assert opts.type == b"string" and opts.match is not None and opts.match(b"ab")
    assert _scan.parse_options([b"SCAN", b"0", b"MATCH", b"*"], 2).match is None


def test_scan_reply_shape(h: Harness) -> None:
    h("SET", "k", "v")
    assert h.raw("SCAN", "0") == b"*2\r\n$1\r\n0\r\n*1\r\n$1\r\nk\r\n"
    assert h.raw("SCAN", "0", "MATCH", "x*") == _scan.EMPTY_SCAN
    h3 = Harness(h.engine, resp=3)
    assert h3.raw("SCAN", "0") == b"*2\r\n$1\r\n0\r\n*1\r\n$1\r\nk\r\n"


def test_scan_match_count_and_type(h: Harness) -> None:
    for i in range(30):
        h("SET", f"s{i}", "v")
        h("RPUSH", f"l{i}", "v")
    h("SET", "", "empty")
    assert full_scan(h) == set(data(h))
    assert full_scan(h, "MATCH", "s1*") == {b"s1"} | {b"s%d" % i for i in range(10, 20)}
    assert full_scan(h, "TYPE", "LIST") == {b"l%d" % i for i in range(30)}
    assert full_scan(h, "TYPE", "list", "MATCH", "l2?") == {b"l%d" % i for i in range(20, 30)}
    assert full_scan(h, "TYPE", "hash") == set()
    assert b"" in full_scan(h, "MATCH", "*")
    assert b"" not in full_scan(h, "MATCH", "**")
    cursor, keys = h("SCAN", "0", "COUNT", "7")
    assert cursor != b"0" and len(keys) == 7
    cursor, keys = h("SCAN", "0", "COUNT", "1000")
    assert cursor == b"0" and len(keys) == 61


def full_scan(h: Harness, *opts: str) -> set[bytes]:
    seen: set[bytes] = set()
    cursor = b"0"
    while True:
        cursor, keys = h("SCAN", cursor, *opts)
        seen.update(keys)
        if cursor == b"0":
            return seen


@pytest.mark.parametrize("seed", range(5))
def test_scan_returns_every_key_present_for_the_whole_scan(seed: int) -> None:
    h = Harness()
    rng = random.Random(seed)
    for i in range(300):
        h("SET", f"k{i}", "v")
    stable = {b"k%d" % i for i in range(0, 300, 3)}
    mutable = [b"k%d" % i for i in range(300) if i % 3]
    new = 0
    seen: set[bytes] = set()
    cursor = b"0"
    while True:
        cursor, keys = h("SCAN", cursor, "COUNT", rng.randint(1, 20))
        seen.update(keys)
        if cursor == b"0":
            break
        # Between calls: delete, re-create and add keys (never touching the stable ones).
        for _ in range(rng.randint(0, 15)):
            key = rng.choice(mutable)
            if rng.random() < 0.5:
                h("DEL", key)
            else:
                h("SET", key, "v")
            new += 1
            h("SET", f"new{new}", "v")
    assert stable <= seen


def test_scan_survives_many_concurrent_scans() -> None:
    # The scan being driven stays resumable while other scans start and are abandoned.
    h = Harness()
    for i in range(200):
        h("SET", f"k{i}", "v")
    seen: set[bytes] = set()
    cursor = b"0"
    deleted = 0
    while True:
        cursor, keys = h("SCAN", cursor, "COUNT", 10)
        seen.update(keys)
        if cursor == b"0":
            break
        for _ in range(10):
            h("SCAN", "0", "COUNT", 1)  # abandoned scans
        h("DEL", f"k{deleted}")  # deletions ahead of nothing: shift every later key
        deleted += 1
    assert {b"k%d" % i for i in range(deleted, 200)} <= seen


def test_scan_skips_deleted_and_expired_keys(h: Harness) -> None:
    for i in range(10):
        h("SET", f"k{i}", "v")
    cursor, first = h("SCAN", "0", "COUNT", 3)
    h("DEL", "k9")
    h("PEXPIRE", "k8", 1)
    h.advance(2)
    rest: set[bytes] = set()
    while cursor != b"0":
        cursor, keys = h("SCAN", cursor, "COUNT", 3)
        rest.update(keys)
    assert set(first) | rest == {b"k%d" % i for i in range(8)}


def test_scan_filters_before_expiring(h: Harness) -> None:
    # Redis applies MATCH before the expiry check: non-matching expired keys stay put.
    h("SET", "a", "1")
    h("SET", "b", "1")
    h("PEXPIRE", "a", 1)
    h("PEXPIRE", "b", 1)
    h.advance(2)
    assert h("SCAN", "0", "MATCH", "a") == [b"0", []]
    assert b"a" not in data(h) and b"b" in data(h)


def test_scan_with_unknown_cursor_terminates(h: Harness) -> None:
    for i in range(5):
        h("SET", f"k{i}", "v")
    assert h("SCAN", "-1")[0] == b"0"
    cursor, keys = h("SCAN", "12345")
    assert cursor == b"0" and keys == []


# --- RANDOMKEY -------------------------------------------------------------------------------
def test_randomkey() -> None:
    h = Harness()
    assert h.raw("RANDOMKEY") == b"$-1\r\n"
    assert Harness(h.engine, resp=3).raw("RANDOMKEY") == b"_\r\n"
    for i in range(20):
        h("SET", f"k{i}", "v")
    picks = {h("RANDOMKEY") for _ in range(200)}
    assert picks <= set(data(h)) and len(picks) > 10


def test_randomkey_never_returns_expired_keys(h: Harness) -> None:
    h("SET", "live", "v")
    for i in range(10):
        h("SET", f"dead{i}", "v")
        h("PEXPIRE", f"dead{i}", 1)
    h.advance(2)
    assert {h("RANDOMKEY") for _ in range(20)} == {b"live"}


# --- OBJECT ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "encoding"),
    [
        ("123", b"int"),
        ("-5", b"int"),
        ("0", b"int"),
        ("9223372036854775807", b"int"),
        ("-9223372036854775808", b"int"),
        ("9223372036854775808", b"embstr"),
        ("01", b"embstr"),
        ("-0", b"embstr"),
        ("+1", b"embstr"),
        (" 1", b"embstr"),
        ("x" * 44, b"embstr"),
        ("x" * 45, b"raw"),
        ("", b"embstr"),
        ("1" * 45, b"raw"),
    ],
)
def test_object_encoding_of_strings(h: Harness, value: str, encoding: bytes) -> None:
    h("SET", "k", value)
    assert h("OBJECT", "ENCODING", "k") == encoding


def test_object_encoding_raw_after_in_place_change_and_containers(h: Harness) -> None:
    h("SET", "k", "12")
    h("APPEND", "k", "3")
    assert h("OBJECT", "ENCODING", "k") == b"raw"
    h("RPUSH", "l", "a")
    assert h("OBJECT", "ENCODING", "l") == b"quicklist"


def test_object_on_missing_key_is_null() -> None:
    h = Harness()
    h3 = Harness(h.engine, resp=3)
    for sub in ("ENCODING", "REFCOUNT", "IDLETIME", "FREQ"):
        assert h.raw("OBJECT", sub, "nokey") == b"$-1\r\n"
        assert h3.raw("OBJECT", sub, "nokey") == b"_\r\n"


def test_object_refcount(h: Harness) -> None:
    for value, refcount in (
        ("100", 2147483647),
        ("0", 2147483647),
        ("9999", 2147483647),
        ("10000", 1),
        ("-1", 1),
        ("abc", 1),
    ):
        h("SET", "k", value)
        assert h("OBJECT", "REFCOUNT", "k") == refcount
    h("SET", "k", "5")
    h("APPEND", "k", "1")
    assert h("OBJECT", "REFCOUNT", "k") == 1
    h("RPUSH", "l", "a")
    assert h("OBJECT", "REFCOUNT", "l") == 1


def test_object_refcount_without_shared_integers_under_lru_eviction() -> None:
    h = Harness(maxmemory="1000000000", maxmemory_policy="allkeys-lru")
    h("SET", "k", "5")
    assert h("OBJECT", "REFCOUNT", "k") == 1
    h = Harness(maxmemory_policy="allkeys-lru")  # no maxmemory: integers are shared
    h("SET", "k", "5")
    assert h("OBJECT", "REFCOUNT", "k") == 2147483647


def test_object_idletime_and_freq_depend_on_the_policy(h: Harness) -> None:
    h("SET", "k", "hello")
    assert h("OBJECT", "IDLETIME", "k") == 0
    assert h.error("OBJECT", "FREQ", "k") == (
        "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please "
        "note that when switching between policies at runtime LRU and LFU data will take "
        "some time to adjust."
    )
    lfu = Harness(maxmemory_policy="volatile-lfu")
    lfu("SET", "k", "hello")
    assert lfu("OBJECT", "FREQ", "k") == 5
    assert lfu.error("OBJECT", "IDLETIME", "k") == (
        "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that "
        "when switching between policies at runtime LRU and LFU data will take some time to "
        "adjust."
    )


def test_object_help_and_errors(h: Harness) -> None:
    lines = h("OBJECT", "HELP")
    assert lines[0] == b"OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    assert lines[1] == b"ENCODING <key>"
    assert lines[-2:] == [b"HELP", b"    Prints this help."]
    assert len(lines) == 15
    assert h.raw("object", "help").startswith(b"*15\r\n+OBJECT <subcommand>")
    assert h.error("OBJECT") == "ERR wrong number of arguments for 'object' command"
    assert h.error("OBJECT", "ENCODING") == (
        "ERR wrong number of arguments for 'object|encoding' command"
    )
    assert h.error("OBJECT", "HELP", "x") == (
        "ERR wrong number of arguments for 'object|help' command"
    )
    assert h.error("OBJECT", "foo") == "ERR unknown subcommand 'foo'. Try OBJECT HELP."


# --- EXPIRE family ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("abc", "foo"), "ERR Unsupported option foo"),
        (("abc", "nx"), NOT_INTEGER),
        (
            ("100", "nx", "xx"),
            "ERR NX and XX, GT or LT options at the same time are not compatible",
        ),
        (
            ("100", "lt", "nx"),
            "ERR NX and XX, GT or LT options at the same time are not compatible",
        ),
        (("100", "gt", "lt"), "ERR GT and LT options at the same time are not compatible"),
        (("100", "xx", "gt", "LT"), "ERR GT and LT options at the same time are not compatible"),
        (("100", "q\0junk"), "ERR Unsupported option q"),
        (("+1",), NOT_INTEGER),
        (("01",), NOT_INTEGER),
        ((" 1",), NOT_INTEGER),
        (("",), NOT_INTEGER),
        (("1.5",), NOT_INTEGER),
    ],
)
def test_expire_argument_errors(h: Harness, args: tuple[str, ...], error: str) -> None:
    h("SET", "k", "v")
    assert h.error("EXPIRE", "k", *args) == error
    assert h.error("EXPIRE", "missing", *args) == error  # checked before the key


@pytest.mark.parametrize(
    ("cmd", "when"),
    [
        ("EXPIRE", "9223372036854775807"),
        ("EXPIRE", "9223372036854775"),
        ("EXPIRE", "-9223372036854776"),
        ("EXPIRE", "-9223372036854775808"),
        ("PEXPIRE", "9223372036854775807"),
        ("EXPIREAT", "9223372036854776"),
    ],
)
def test_expire_overflow_is_an_invalid_expire_time(h: Harness, cmd: str, when: str) -> None:
    h("SET", "k", "v")
    assert h.error(cmd, "k", when) == f"ERR invalid expire time in '{cmd.lower()}' command"


def test_expire_at_the_limits(h: Harness) -> None:
    h("SET", "k", "v")
    assert h("PEXPIREAT", "k", "9223372036854775807") == 1
    assert h("PEXPIRETIME", "k") == 9223372036854775807
    assert h("EXPIRETIME", "k") == 9223372036854776  # rounded, as (ms + 500) / 1000
    assert h("EXPIREAT", "k", "9223372036854775") == 1
    assert h("EXPIRE", "k", "-9223372036854775") == 1  # far in the past: deleted
    assert h("EXISTS", "k") == 0


def test_expire_sets_ttl_and_counts_dirty(h: Harness) -> None:
    h("SET", "k", "v")
    dirty = h.engine.dirty
    assert h("EXPIRE", "k", 100) == 1
    assert h.engine.dirty == dirty + 1
    assert h("TTL", "k") == 100
    assert h("PTTL", "k") == 100_000
    assert h("PEXPIRETIME", "k") == START_MS + 100_000
    assert h("EXPIRETIME", "k") == (START_MS + 100_000) // 1000
    assert h("PEXPIRE", "k", 1500) == 1
    assert h("PTTL", "k") == 1500
    assert h("EXPIREAT", "k", START_MS // 1000 + 50) == 1
    assert h("TTL", "k") == 50
    assert h("PEXPIREAT", "k", START_MS + 70) == 1
    assert h("PTTL", "k") == 70
    assert h("EXPIRE", "missing", 10) == 0
    assert h.engine.dirty == dirty + 4


def test_expire_in_the_past_deletes(h: Harness) -> None:
    for args in (
        ("EXPIRE", "k", 0),
        ("EXPIRE", "k", -1),
        ("PEXPIRE", "k", 0),
        ("PEXPIREAT", "k", START_MS),
        ("PEXPIREAT", "k", 1000),
        ("EXPIREAT", "k", 1),
    ):
        h("SET", "k", "v")
        watch(h, "k")
        dirty = h.engine.dirty
        assert h(*args) == 1
        assert b"k" not in data(h)
        assert h.engine.dirty == dirty + 1
        assert h.client.watch_dirty
        h.engine.unwatch(h.client)
    assert h.engine.keyspace.expired_keys == 0  # deleted, not expired


def test_expire_conditions(h: Harness) -> None:
    h("SET", "k", "v")
    assert h("EXPIRE", "k", 100, "XX") == 0  # no TTL yet
    assert h("EXPIRE", "k", 100, "GT") == 0  # no TTL counts as infinite
    assert h("EXPIRE", "k", 100, "NX", "nx") == 1
    assert h("EXPIRE", "k", 50, "NX") == 0
    assert h("EXPIRE", "k", 100, "GT") == 0  # not greater
    assert h("EXPIRE", "k", 200, "xx", "gt") == 1
    assert h("TTL", "k") == 200
    assert h("EXPIRE", "k", 200, "LT") == 0
    assert h("EXPIRE", "k", 150, "lt") == 1
    assert h("EXPIRE", "k", -1, "GT") == 0
    assert h("EXISTS", "k") == 1
    h("PERSIST", "k")
    assert h("EXPIRE", "k", 100, "LT") == 1  # infinite is beaten by anything
    h("PERSIST", "k")
    assert h("EXPIRE", "k", -1, "LT") == 1
    assert h("EXISTS", "k") == 0
    dirty = h.engine.dirty
    h("SET", "k", "v")
    h("EXPIRE", "k", 100, "XX")
    assert h.engine.dirty == dirty + 1  # a refused condition changes nothing


def test_refused_condition_keeps_watch(h: Harness) -> None:
    h("SET", "k", "v")
    h("EXPIRE", "k", 100)
    watch(h, "k")
    h("EXPIRE", "k", 50, "NX")
    assert not h.client.watch_dirty
    h("EXPIRE", "k", 50)
    assert h.client.watch_dirty


def test_ttl_replies(h: Harness) -> None:
    for cmd in ("TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"):
        assert h(cmd, "missing") == -2
    h("SET", "k", "v")
    for cmd in ("TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"):
        assert h(cmd, "k") == -1
    h("PEXPIRE", "k", 1499)
    assert h("TTL", "k") == 1  # seconds are rounded to nearest
    h("PEXPIRE", "k", 1500)
    assert h("TTL", "k") == 2
    h("PEXPIRE", "k", 400)
    assert h("TTL", "k") == 0
    h("PEXPIREAT", "k", 99_999_999_999_499)
    assert h("EXPIRETIME", "k") == 99_999_999_999
    h("PEXPIREAT", "k", 99_999_999_999_500)
    assert h("EXPIRETIME", "k") == 100_000_000_000


def test_ttl_counts_down_and_key_expires(h: Harness) -> None:
    h("SET", "k", "v")
    h("PEXPIRE", "k", 1000)
    h.advance(600)
    assert h("PTTL", "k") == 400
    h.advance(400)
    assert h("PTTL", "k") == 0
    h.advance(1)
    assert h("PTTL", "k") == -2


def test_persist(h: Harness) -> None:
    assert h("PERSIST", "missing") == 0
    h("SET", "k", "v")
    dirty = h.engine.dirty
    assert h("PERSIST", "k") == 0
    h("EXPIRE", "k", 100)
    watch(h, "k")
    assert h("PERSIST", "k") == 1
    assert h.client.watch_dirty
    assert h("TTL", "k") == -1
    assert h("PERSIST", "k") == 0
    assert h.engine.dirty == dirty + 2


def test_set_clears_ttl(h: Harness) -> None:
    h("SET", "k", "v")
    h("EXPIRE", "k", 100)
    h("SET", "k", "w")
    assert h("TTL", "k") == -1


# --- COPY ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("c", "c"), SAME_OBJECT),
        (("nokey", "nokey"), SAME_OBJECT),
        (("c", "c", "DB", "0"), SAME_OBJECT),
        (("c", "d", "db"), SYNTAX),
        (("c", "d", "foo"), SYNTAX),
        (("c", "d", "db", "x"), NOT_INTEGER),
        (("c", "d", "db", "16"), DB_INDEX),
        (("c", "d", "db", "-1"), DB_INDEX),
        (("c", "d", "db", "4294967296"), INT_RANGE),
        (("nokey", "d", "db", "99"), DB_INDEX),
        (("c", "d", "db", "99", "bogus"), DB_INDEX),
        (("c", "d", "bogus", "db", "99"), SYNTAX),
    ],
)
def test_copy_errors(h: Harness, args: tuple[str, ...], error: str) -> None:
    h("SET", "c", "1")
    assert h.error("COPY", *args) == error


def test_copy_within_a_database(h: Harness) -> None:
    assert h("COPY", "nokey", "d") == 0
    h("SET", "c", "1")
    h("PEXPIREAT", "c", FUTURE_MS)
    dirty = h.engine.dirty
    assert h("COPY", "c", "d", "replace", "REPLACE") == 1
    assert h.engine.dirty == dirty + 1
    assert h("PEXPIRETIME", "d") == FUTURE_MS
    assert h("COPY", "c", "d") == 0
    h("SET", "c", "2")
    assert h("COPY", "c", "d", "REPLACE") == 1
    assert h("GET", "d") == b"2"
    assert h("TTL", "d") == -1  # the source's (now absent) TTL, not the old destination's


def test_copy_to_another_database(h: Harness) -> None:
    h("SET", "c", "1")
    h("PEXPIREAT", "c", FUTURE_MS)
    assert h("COPY", "c", "c", "db", "1") == 1
    assert h("COPY", "c", "c", "DB", "1") == 0
    assert h("COPY", "c", "x", "DB", "1", "DB", "2") == 1  # the last DB wins
    assert h("EXISTS", "c") == 1
    h("SELECT", "1")
    assert h("GET", "c") == b"1"
    assert h("PEXPIRETIME", "c") == FUTURE_MS
    assert h("EXISTS", "x") == 0
    h("SELECT", "2")
    assert h("EXISTS", "x") == 1


def test_copy_is_deep(h: Harness) -> None:
    h("RPUSH", "l", "a", "b")
    h("COPY", "l", "l2")
    h("RPUSH", "l", "c")
    assert h("LRANGE", "l2", 0, -1) == [b"a", b"b"]
    h("SET", "s", "ab")
    h("APPEND", "s", "c")
    h("COPY", "s", "s2")
    h("APPEND", "s", "d")
    assert h("GET", "s2") == b"abc"
    assert h("OBJECT", "ENCODING", "s2") == b"raw"


def test_copy_invalidates_watch_on_destination_only(h: Harness) -> None:
    h("SET", "src", "1")
    other = h.client_harness()
    watch(other, "src")
    watch(h, "dst")
    h("COPY", "src", "dst")
    assert h.client.watch_dirty and not other.client.watch_dirty


# --- MOVE ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("db", "error"),
    [
        ("abc", NOT_INTEGER),
        ("16", DB_INDEX),
        ("-1", DB_INDEX),
        ("0", SAME_OBJECT),
        ("4294967296", INT_RANGE),
        ("2147483648", INT_RANGE),
        ("2147483647", DB_INDEX),
        ("-2147483649", INT_RANGE),
    ],
)
def test_move_errors(h: Harness, db: str, error: str) -> None:
    h("SET", "c", "1")
    assert h.error("MOVE", "c", db) == error
    assert h.error("MOVE", "nokey", db) == error


def test_move(h: Harness) -> None:
    assert h("MOVE", "nokey", 1) == 0
    h("SET", "c", "1")
    h("PEXPIREAT", "c", FUTURE_MS)
    dirty = h.engine.dirty
    assert h("MOVE", "c", 1) == 1
    assert h.engine.dirty == dirty + 1
    assert h("EXISTS", "c") == 0
    h("SELECT", "1")
    assert h("PEXPIRETIME", "c") == FUTURE_MS
    h("SET", "x", "1")
    h("SELECT", "0")
    h("SET", "x", "2")
    assert h("MOVE", "x", 1) == 0
    assert h("GET", "x") == b"2"


def test_cluster_mode_refuses_multi_db_commands() -> None:
    h = cluster_harness()
    h("SET", "{k}1", "v")
    assert h.error("MOVE", "{k}1", 1) == "ERR MOVE is not allowed in cluster mode"
    assert h.error("SWAPDB", 0, 1) == "ERR SWAPDB is not allowed in cluster mode"
    assert h.error("COPY", "{k}1", "{k}2", "DB", 1) == (
        "ERR Copying to another database is not allowed in cluster mode"
    )
    assert h("COPY", "{k}1", "{k}2", "DB", 0) == 1


# --- SWAPDB ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("0", "x"), "ERR invalid second DB index"),
        (("x", "0"), "ERR invalid first DB index"),
        (("4294967296", "0"), "ERR invalid first DB index"),
        (("0", "2147483648"), "ERR invalid second DB index"),
        (("0", "16"), DB_INDEX),
        (("-1", "0"), DB_INDEX),
    ],
)
def test_swapdb_errors(h: Harness, args: tuple[str, str], error: str) -> None:
    assert h.error("SWAPDB", *args) == error


def test_swapdb_swaps_contents_and_ttls(h: Harness) -> None:
    h("SET", "a", "1")
    h("PEXPIREAT", "a", FUTURE_MS)
    other = h.client_harness()
    other("SELECT", "1")
    other("SET", "b", "2")
    dirty = h.engine.dirty
    assert h.raw("SWAPDB", 0, 1) == b"+OK\r\n"
    assert h.engine.dirty == dirty + 1
    assert h("GET", "b") == b"2" and h("EXISTS", "a") == 0
    assert other("PEXPIRETIME", "a") == FUTURE_MS
    assert h("SWAPDB", 0, 0) == b"OK"
    assert h("SWAPDB", 1, 0) == b"OK"
    assert h("GET", "a") == b"1"


@pytest.mark.parametrize(
    ("in_db0", "in_db1", "pair", "aborted"),
    [
        (False, False, (0, 1), False),
        (False, True, (0, 1), True),
        (True, False, (0, 1), True),
        (True, True, (0, 1), True),
        (True, False, (0, 0), False),
        (True, False, (1, 2), False),
    ],
)
def test_swapdb_invalidates_watches_like_redis(
    in_db0: bool, in_db1: bool, pair: tuple[int, int], aborted: bool
) -> None:
    h = Harness()
    if in_db0:
        h.engine.keyspace.dbs[0].set_value(b"x", b"1")
    if in_db1:
        h.engine.keyspace.dbs[1].set_value(b"x", b"1")
    watch(h, "x")
    h("SWAPDB", *pair)
    assert h.client.watch_dirty is aborted


def test_swapdb_serves_clients_blocked_on_keys_it_brings(h: Harness) -> None:
    blocked = h.client_harness()
    assert blocked.raw("BLPOP", "l", 0) == b""
    h("SELECT", "1")
    h("RPUSH", "l", "x")
    h("SWAPDB", 0, 1)
    assert blocked.client.blocked is None
    assert blocked.client.out == [b"*2\r\n$1\r\nl\r\n$1\r\nx\r\n"]


# --- FLUSHDB, FLUSHALL, DBSIZE ---------------------------------------------------------------
@pytest.mark.parametrize("cmd", ["FLUSHDB", "FLUSHALL"])
def test_flush_syntax(h: Harness, cmd: str) -> None:
    assert h.error(cmd, "foo") == SYNTAX
    assert h.error(cmd, "sync", "x") == SYNTAX
    assert h(cmd, "async\0x") == b"OK"  # read as a C string, like Redis's strcasecmp
    assert h(cmd, "ASYNC") == b"OK"
    assert h(cmd, "sync") == b"OK"
    assert h(cmd) == b"OK"


def test_flushdb_and_dbsize(h: Harness) -> None:
    h("SET", "a", "1")
    h("SET", "b", "1")
    h("SELECT", "1")
    h("SET", "c", "1")
    assert h("DBSIZE") == 1
    h("SELECT", "0")
    assert h("DBSIZE") == 2
    dirty = h.engine.dirty
    assert h("FLUSHDB") == b"OK"
    assert h.engine.dirty == dirty + 2
    assert h("DBSIZE") == 0
    h("SELECT", "1")
    assert h("DBSIZE") == 1
    assert h.error("DBSIZE", "x") == "ERR wrong number of arguments for 'dbsize' command"


def test_flushall(h: Harness) -> None:
    h("SET", "a", "1")
    h("SELECT", "3")
    h("SET", "c", "1")
    assert h("FLUSHALL") == b"OK"
    # With save points (the default) the empty dataset is saved at once, as Redis does.
    assert h.engine.dirty == 0
    assert all(not db.data for db in h.engine.keyspace.dbs)
    unsaved = Harness(save="")
    unsaved("SET", "a", "1")
    unsaved("SET", "b", "1")
    assert unsaved("FLUSHALL") == b"OK"
    assert unsaved.engine.dirty == 4  # one per key removed, as redis-server 7.0.15 counts


@pytest.mark.parametrize(
    ("cmd", "existing", "aborted"),
    [
        (("FLUSHDB",), True, True),
        (("FLUSHDB",), False, False),
        (("FLUSHALL",), True, True),
        (("FLUSHALL",), False, False),
    ],
)
def test_flush_invalidates_watches_on_existing_keys_only(
    cmd: tuple[str], existing: bool, aborted: bool
) -> None:
    h = Harness()
    h("SET", "x" if existing else "y", "1")
    watch(h, "x")
    h(*cmd)
    assert h.client.watch_dirty is aborted


def test_dbsize_counts_expired_keys_until_they_are_reclaimed(h: Harness) -> None:
    h("SET", "k", "v")
    h("PEXPIRE", "k", 10)
    h.advance(11)
    assert h("DBSIZE") == 1
    h.engine.keyspace.active_expire_cycle()
    assert h("DBSIZE") == 0


# --- active and lazy expiry ------------------------------------------------------------------
def test_active_expiry_removes_keys_nobody_reads() -> None:
    h = Harness()
    for i in range(1000):
        h("SET", f"v{i}", "x")
        h("PEXPIRE", f"v{i}", 100 + i % 7)
    for i in range(100):
        h("SET", f"p{i}", "x")
    for i in range(100):
        h("SET", f"f{i}", "x")
        h("PEXPIRE", f"f{i}", 10_000)
    keyspace = h.engine.keyspace
    assert keyspace.active_expire_cycle() == 0  # nothing is due yet
    h.advance(200)
    for _ in range(100):  # the cron calls it hz times a second
        keyspace.active_expire_cycle()
        if len(data(h)) == 200:
            break
    assert len(data(h)) == 200
    assert keyspace.expired_keys == 1000
    assert all(k.startswith((b"p", b"f")) for k in data(h))
    assert len(h.engine.keyspace.dbs[0].expires) == 100


def test_active_expiry_covers_every_database_and_invalidates_watches() -> None:
    h = Harness()
    for db in (0, 5, 15):
        h("SELECT", db)
        h("SET", "k", "v")
        h("PEXPIRE", "k", 5)
    h("SELECT", 0)
    watch(h, "k")
    h.advance(6)
    assert h.engine.keyspace.active_expire_cycle() == 3
    assert h.client.watch_dirty
    assert all(not db.data for db in h.engine.keyspace.dbs)


def test_active_expiry_reports_each_expired_key() -> None:
    h = Harness()
    gone: list[tuple[int, bytes]] = []
    h.engine.keyspace.on_expired = lambda db, key, value: gone.append((db.index, key))
    h("SET", "a", "1")
    h("PEXPIRE", "a", 1)
    h.advance(2)
    h.engine.keyspace.active_expire_cycle()
    assert gone == [(0, b"a")]


def test_lazy_expiry_on_access() -> None:
    h = Harness()
    h("SET", "k", "v")
    h("PEXPIRE", "k", 50)
    h.advance(51)
    assert b"k" in data(h)  # nothing has looked at it yet
    assert h("GET", "k") is None
    assert b"k" not in data(h) and b"k" not in h.engine.keyspace.dbs[0].expires
    assert h.engine.keyspace.expired_keys == 1


def test_active_expiry_samples_keep_going_while_many_are_stale() -> None:
    # One call removes far more than one sample when most keys with a TTL are stale.
    h = Harness()
    for i in range(300):
        h("SET", f"k{i}", "x")
        h("PEXPIRE", f"k{i}", 1)
    h.advance(2)
    assert h.engine.keyspace.active_expire_cycle() > 20


# --- metadata --------------------------------------------------------------------------------
def test_specs_match_redis() -> None:
    specs = NODE.commands
    assert specs["del"].legacy_range == (1, -1, 1)
    assert specs["rename"].legacy_range == (1, 2, 1)
    assert specs["copy"].legacy_range == (1, 2, 1)
    assert specs["keys"].legacy_range == (0, 0, 0)
    assert specs["object"].subcommands[b"encoding"].legacy_range == (2, 2, 1)
    assert specs["object"].subcommands[b"encoding"].fullname == "object|encoding"
    names = {spec.name for spec in specs.values() if spec.group == "generic"}
    assert {
        "del",
        "unlink",
        "exists",
        "type",
        "rename",
        "renamenx",
        "touch",
        "keys",
        "scan",
        "randomkey",
        "object",
        "expire",
        "pexpire",
        "expireat",
        "pexpireat",
        "ttl",
        "pttl",
        "expiretime",
        "pexpiretime",
        "persist",
        "copy",
        "move",
    } <= names
    assert {specs[n].group for n in ("swapdb", "flushdb", "flushall", "dbsize")} == {"server"}


def test_wrong_arity_messages(h: Harness) -> None:
    for args, name in (
        (("EXPIRE", "k"), "expire"),
        (("TTL",), "ttl"),
        (("RENAME", "a"), "rename"),
        (("SCAN",), "scan"),
        (("SWAPDB", "0"), "swapdb"),
        (("RANDOMKEY", "x"), "randomkey"),
    ):
        reply = h(*args)
        assert isinstance(reply, hiredis.ReplyError)
        assert str(reply) == f"ERR wrong number of arguments for '{name}' command"
