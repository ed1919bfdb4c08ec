"""Stream consumer groups and introspection through the engine (no sockets): XGROUP, XACK,
XPENDING, XCLAIM, XAUTOCLAIM, XINFO, and the entries-read/lag bookkeeping. Every expectation
was checked on redis-server 7.0.15 (idle times there with the clock standing still)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.commands.realharness import engine_only, harness
from tests.support import START_MS, Harness

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
INVALID_ID = "ERR Invalid stream ID specified as stream command argument"


@pytest.fixture
def h() -> Iterator[Any]:
    with harness() as made:
        yield made


def as_dict(flat: list[Any]) -> dict[bytes, Any]:
    return dict(zip(flat[::2], flat[1::2], strict=True))


def groups(h: Harness, key: str = "s") -> dict[bytes, dict[bytes, Any]]:
    return {g[1]: as_dict(g) for g in h("XINFO", "GROUPS", key)}


def consumers(h: Harness, group: str = "g") -> dict[bytes, dict[bytes, Any]]:
    return {c[1]: as_dict(c) for c in h("XINFO", "CONSUMERS", "s", group)}


def entries(h: Harness, *ids: str) -> None:
    for sid in ids:
        h("XADD", "s", sid, "f", sid)


# --- XGROUP -----------------------------------------------------------------------------
def test_xgroup_create(h: Harness) -> None:
    no_key = (
        "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you "
        "may want to use the MKSTREAM option to create an empty stream automatically."
    )
    assert h.error("XGROUP", "CREATE", "s", "g", "$") == no_key
    assert h("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM") == b"OK"
    assert h("XLEN", "s") == 0
    assert (
        h.error("XGROUP", "CREATE", "s", "g", "0") == "BUSYGROUP Consumer Group name already exists"
    )
    entries(h, "1-0", "2-0")
    assert h("XGROUP", "CREATE", "s", "g2", "$") == b"OK"
    assert h("XGROUP", "CREATE", "s", "g3", "1", "ENTRIESREAD", 1) == b"OK"
    assert h("XGROUP", "CREATE", "s", "g4", "0", "MKSTREAM", "MKSTREAM") == b"OK"
    info = groups(h)
    assert list(info) == [b"g", b"g2", b"g3", b"g4"]
    assert info[b"g2"][b"last-delivered-id"] == b"2-0" and info[b"g2"][b"lag"] == 0
    assert info[b"g3"][b"entries-read"] == 1 and info[b"g3"][b"lag"] == 1
    assert info[b"g4"][b"entries-read"] is None and info[b"g4"][b"lag"] == 2


def test_xgroup_create_errors(h: Harness) -> None:
    entries(h, "1-0")
    syntax = "ERR unknown subcommand or wrong number of arguments for '{}'. Try XGROUP HELP."
    for bad in ("bad", "-", "+"):
        assert h.error("XGROUP", "CREATE", "s", "g", bad) == INVALID_ID
    assert h.error("XGROUP", "CREATE", "s", "g", 0, "ENTRIESREAD", -2) == (
        "ERR value for ENTRIESREAD must be positive or -1"
    )
    assert h.error("XGROUP", "CREATE", "s", "g", 0, "ENTRIESREAD", "x") == (
        "ERR value is not an integer or out of range"
    )
    assert h.error("XGROUP", "CREATE", "s", "g", 0, "foo") == syntax.format("CREATE")
    assert h.error("XGROUP", "Create", "s", "g", 0, "Foo") == syntax.format("Create")
    assert h.error("XGROUP", "CREATE", "s", "g", 0, "MKSTREAM", "ENTRIESREAD") == syntax.format(
        "CREATE"
    )
    assert h.error("XGROUP", "CREATE", "s", "g", 0, "ENTRIESREAD", 1, "ENTRIESREAD", 2) == (
        syntax.format("CREATE")
    )  # more than 8 arguments
    assert h.error("XGROUP", "CREATE", "nokey", "g", "bad", "MKSTREAM") == INVALID_ID
    assert h("EXISTS", "nokey") == 0
    assert (
        h.error("XGROUP", "CREATE", "s")
        == "ERR wrong number of arguments for 'xgroup|create' command"
    )
    h("SET", "str", "x")
    assert h.error("XGROUP", "CREATE", "str", "g", 0, "MKSTREAM") == WRONGTYPE
    assert h.error("XGROUP", "DESTROY", "str", "g") == WRONGTYPE


def test_xgroup_setid(h: Harness) -> None:
    entries(h, "1-0", "2-0", "3-0")
    h("XGROUP", "CREATE", "s", "g", 0)
    assert h.error("XGROUP", "SETID", "s", "nog", 0) == (
        "NOGROUP No such consumer group 'nog' for key name 's'"
    )
    assert h("XGROUP", "SETID", "s", "g", 0, "ENTRIESREAD", 5) == b"OK"
    assert groups(h)[b"g"][b"entries-read"] == 5
    for sid, shown in (
        ("-", b"0-0"),
        ("+", b"18446744073709551615-18446744073709551615"),
        ("$", b"3-0"),
        ("2", b"2-0"),
    ):
        assert h("XGROUP", "SETID", "s", "g", sid) == b"OK"
        assert groups(h)[b"g"][b"last-delivered-id"] == shown
    assert groups(h)[b"g"][b"entries-read"] is None  # no ENTRIESREAD: unknown again
    syntax = "ERR unknown subcommand or wrong number of arguments for 'setid'. Try XGROUP HELP."
    assert h.error("XGROUP", "setid", "s", "g", 0, "MKSTREAM") == syntax
    assert h.error("XGROUP", "setid", "s", "g", 0, "ENTRIESREAD") == syntax
    assert h.error("XGROUP", "setid", "s", "g", 0, "ENTRIESREAD", 5, "x") == syntax


def test_xgroup_destroy_and_consumers(h: Harness) -> None:
    entries(h, "1-0")
    h("XGROUP", "CREATE", "s", "g", 0)
    h("XGROUP", "CREATE", "s", "g2", 0)
    assert h("XGROUP", "DESTROY", "s", "nog") == 0
    assert h("XGROUP", "DESTROY", "s", "g2") == 1
    assert h.error("XGROUP", "DESTROY", "nokey", "g") == (
        "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may "
        "want to use the MKSTREAM option to create an empty stream automatically."
    )
    assert h("XGROUP", "CREATECONSUMER", "s", "g", "c1") == 1
    assert h("XGROUP", "CREATECONSUMER", "s", "g", "c1") == 0
    assert h.error("XGROUP", "CREATECONSUMER", "s", "nog", "c1") == (
        "NOGROUP No such consumer group 'nog' for key name 's'"
    )
    h("XREADGROUP", "GROUP", "g", "c2", "STREAMS", "s", ">")
    assert h("XGROUP", "DELCONSUMER", "s", "g", "c1") == 0
    assert h("XGROUP", "DELCONSUMER", "s", "g", "c2") == 1  # its pending count
    assert h("XGROUP", "DELCONSUMER", "s", "g", "c2") == 0
    assert h("XPENDING", "s", "g")[0] == 0  # its entries left the group's PEL too
    assert h.error("XGROUP", "CREATECONSUMER", "s", "g", "c", "x") == (
        "ERR wrong number of arguments for 'xgroup|createconsumer' command"
    )


def test_xgroup_help_and_unknown(h: Harness) -> None:
    reply = h("XGROUP", "HELP")
    assert reply[0] == b"XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    assert reply[1] == b"CREATE <key> <groupname> <id|$> [option]"
    assert reply[-2:] == [b"HELP", b"    Prints this help."] and len(reply) == 17
    assert h.error("XGROUP", "foo") == "ERR unknown subcommand 'foo'. Try XGROUP HELP."
    assert (
        h.error("XGROUP", "HELP", "x") == "ERR wrong number of arguments for 'xgroup|help' command"
    )


# --- XACK / XPENDING --------------------------------------------------------------------
def four_read(h: Harness) -> None:
    entries(h, "1-0", "2-0", "3-0", "4-0")
    h("XGROUP", "CREATE", "s", "g", 0)
    h("XREADGROUP", "GROUP", "g", "alice", "COUNT", 2, "STREAMS", "s", ">")
    h("XREADGROUP", "GROUP", "g", "bob", "COUNT", 1, "STREAMS", "s", ">")


def test_xpending_summary(h: Harness) -> None:
    entries(h, "1-0")
    h("XGROUP", "CREATE", "s", "g", 0)
    assert h.raw("XPENDING", "s", "g") == b"*4\r\n:0\r\n$-1\r\n$-1\r\n*-1\r\n"
    assert h.client_harness(3).raw("XPENDING", "s", "g") == b"*4\r\n:0\r\n_\r\n_\r\n_\r\n"
    h("DEL", "s")
    four_read(h)
    assert h("XPENDING", "s", "g") == [3, b"1-0", b"3-0", [[b"alice", b"2"], [b"bob", b"1"]]]


@engine_only
def test_xpending_extended(h: Harness) -> None:
    four_read(h)
    h.advance(3)
    assert h("XPENDING", "s", "g", "-", "+", 10) == [
        [b"1-0", b"alice", 3, 1],
        [b"2-0", b"alice", 3, 1],
        [b"3-0", b"bob", 3, 1],
    ]
    assert h("XPENDING", "s", "g", "-", "+", 10, "bob") == [[b"3-0", b"bob", 3, 1]]
    assert h("XPENDING", "s", "g", "-", "+", 10, "nobody") == []
    assert h("XPENDING", "s", "g", "-", "+", 0) == []
    assert h("XPENDING", "s", "g", "-", "+", -1) == []
    assert [e[0] for e in h("XPENDING", "s", "g", "(1", "+", 10)] == [b"2-0", b"3-0"]
    assert [e[0] for e in h("XPENDING", "s", "g", "-", "(3-0", 10)] == [b"1-0", b"2-0"]
    assert len(h("XPENDING", "s", "g", "-", "(3", 10)) == 3  # (3 is below 3-18446744073709551615
    assert len(h("XPENDING", "s", "g", "IDLE", 3, "-", "+", 10)) == 3
    assert h("XPENDING", "s", "g", "IDLE", 4, "-", "+", 10) == []
    # a trailing extra argument after the consumer is ignored, as in Redis
    assert len(h("XPENDING", "s", "g", "-", "+", 10, "bob", "extra")) == 1


def test_xpending_errors(h: Harness) -> None:
    four_read(h)
    assert h.error("XPENDING", "s", "g", "-", "+") == "ERR syntax error"
    assert h.error("XPENDING", "s", "g", "IDLE", 10, "-", "+") == "ERR syntax error"
    assert h.error("XPENDING", "s", "g", "IDLE", 10, "-", "+", 10, "bob", "x") == "ERR syntax error"
    assert h.error("XPENDING", "s", "g", "IDLE", "x", "-", "+", 10) == (
        "ERR value is not an integer or out of range"
    )
    assert h.error("XPENDING", "s", "g", "-", "+", "x", "bad") == (
        "ERR value is not an integer or out of range"
    )  # COUNT is parsed before the IDs
    assert h.error("XPENDING", "s", "nog", "bad", "+", 10) == INVALID_ID
    assert h.error("XPENDING", "s", "nog") == "NOGROUP No such key 's' or consumer group 'nog'"
    assert h.error("XPENDING", "nokey", "g", "-", "+", 10) == (
        "NOGROUP No such key 'nokey' or consumer group 'g'"
    )
    assert (
        h.error("XPENDING", "s", "g", "(18446744073709551615-18446744073709551615", "+", 10)
        == "ERR invalid start ID for the interval"
    )


def test_xack(h: Harness) -> None:
    four_read(h)
    assert h("XACK", "s", "g", "1-0", "9-9") == 1
    assert h("XACK", "s", "g", "1-0") == 0
    assert h.error("XACK", "s", "g", "2-0", "bad") == INVALID_ID
    assert h("XACK", "s", "nog", "bad") == 0  # no group: IDs are not checked
    assert h("XACK", "nokey", "g", "bad") == 0
    assert h("XPENDING", "s", "g") == [2, b"2-0", b"3-0", [[b"alice", b"1"], [b"bob", b"1"]]]


@engine_only
# --- XCLAIM -----------------------------------------------------------------------------
def test_xclaim(h: Harness) -> None:
    four_read(h)
    h("XACK", "s", "g", "1-0")
    h("XDEL", "s", "3-0")
    # 3-0 was deleted: its pending entry goes; 9-9 was never pending
    assert h("XCLAIM", "s", "g", "carol", 0, "2-0", "3-0", "9-9") == [[b"2-0", [b"f", b"2-0"]]]
    assert h("XPENDING", "s", "g", "-", "+", 10) == [[b"2-0", b"carol", 0, 2]]
    h.advance(10)
    assert h("XCLAIM", "s", "g", "carol", 0, "2-0", "JUSTID") == [b"2-0"]
    assert h("XPENDING", "s", "g", "-", "+", 10) == [[b"2-0", b"carol", 0, 2]]  # JUSTID: no count
    assert h("XCLAIM", "s", "g", "carol", 0, "2-0", "RETRYCOUNT", 7, "IDLE", 500) == [
        [b"2-0", [b"f", b"2-0"]]
    ]
    assert h("XPENDING", "s", "g", "-", "+", 10) == [[b"2-0", b"carol", 500, 7]]
    assert h("XCLAIM", "s", "g", "dave", 1000, "2-0") == []  # not idle long enough
    assert h("XCLAIM", "s", "g", "carol", 0, "4-0", "FORCE", "JUSTID") == [b"4-0"]
    assert h("XPENDING", "s", "g", "-", "+", 10)[1] == [b"4-0", b"carol", 0, 1]
    assert h("XCLAIM", "s", "g", "carol", 0, "4-0", "TIME", START_MS - 90, "JUSTID") == [b"4-0"]
    assert h("XPENDING", "s", "g", "-", "+", 10)[1] == [b"4-0", b"carol", 100, 1]
    assert h("XCLAIM", "s", "g", "carol", 0, "4-0", "TIME", START_MS + 10**6, "JUSTID") == [b"4-0"]
    assert h("XPENDING", "s", "g", "-", "+", 10)[1][2] == 0  # a future time means now
    assert h("XCLAIM", "s", "g", "carol", -5, "4-0", "FORCE", "FORCE", "JUSTID", "JUSTID") == [
        b"4-0"
    ]
    assert h("XCLAIM", "s", "g", "carol", 0, "4-0", "LASTID", "10-0", "JUSTID") == [b"4-0"]
    assert groups(h)[b"g"][b"last-delivered-id"] == b"10-0"
    assert list(consumers(h)) == [b"alice", b"bob", b"carol"]  # dave was never created


def test_xclaim_creates_consumers_only_when_it_claims(h: Harness) -> None:
    entries(h, "1-0")
    h("XGROUP", "CREATE", "s", "g", 0)
    assert h("XCLAIM", "s", "g", "ghost", 0, "9-9") == []
    assert h("XCLAIM", "s", "g", "ghost", 0, "1-0", "FORCE") == [[b"1-0", [b"f", b"1-0"]]]
    assert h("XPENDING", "s", "g", "-", "+", 10) == [[b"1-0", b"ghost", 0, 2]]
    assert list(consumers(h)) == [b"ghost"]


def test_xclaim_errors(h: Harness) -> None:
    four_read(h)
    cases: list[tuple[tuple[str | int, ...], str]] = [
        (("x", "4-0"), "ERR Invalid min-idle-time argument for XCLAIM"),
        ((0, "bad"), "ERR Unrecognized XCLAIM option 'bad'"),
        ((0, "4-0", "bad"), "ERR Unrecognized XCLAIM option 'bad'"),
        ((0, "4-0", "idle"), "ERR Unrecognized XCLAIM option 'idle'"),
        ((0, "4-0", "IDLE", "x"), "ERR Invalid IDLE option argument for XCLAIM"),
        ((0, "4-0", "TIME", "x"), "ERR Invalid TIME option argument for XCLAIM"),
        ((0, "4-0", "RETRYCOUNT", "x"), "ERR Invalid RETRYCOUNT option argument for XCLAIM"),
        ((0, "4-0", "LASTID", "x"), INVALID_ID),
    ]
    for args, message in cases:
        assert h.error("XCLAIM", "s", "g", "carol", *args) == message, args
    assert h.error("XCLAIM", "s", "nog", "carol", "x", "4-0") == (
        "NOGROUP No such key 's' or consumer group 'nog'"
    )
    assert h.error("XCLAIM", "nokey", "g", "carol", 0, "4-0") == (
        "NOGROUP No such key 'nokey' or consumer group 'g'"
    )


@engine_only
# --- XAUTOCLAIM -------------------------------------------------------------------------
def test_xautoclaim(h: Harness) -> None:
    entries(h, "1-0", "2-0", "3-0", "4-0", "5-0")
    h("XGROUP", "CREATE", "s", "g", 0)
    h("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">")
    h("XDEL", "s", "2-0", "4-0")
    assert h("XAUTOCLAIM", "s", "g", "bob", 0, 0, "COUNT", 1) == [
        b"2-0",
        [[b"1-0", [b"f", b"1-0"]]],
        [],
    ]
    assert h("XAUTOCLAIM", "s", "g", "bob", 0, "2-0", "COUNT", 1) == [b"3-0", [], [b"2-0"]]
    assert h("XAUTOCLAIM", "s", "g", "bob", 0, 0) == [
        b"0-0",
        [[b"1-0", [b"f", b"1-0"]], [b"3-0", [b"f", b"3-0"]], [b"5-0", [b"f", b"5-0"]]],
        [b"4-0"],
    ]
    assert h("XAUTOCLAIM", "s", "g", "bob", 0, "(1", "COUNT", 1, "JUSTID") == [b"5-0", [b"3-0"], []]
    assert h("XAUTOCLAIM", "s", "g", "bob", 0, "+", "JUSTID") == [b"0-0", [], []]
    assert h("XPENDING", "s", "g", "-", "+", 10) == [
        [b"1-0", b"bob", 0, 3],
        [b"3-0", b"bob", 0, 2],
        [b"5-0", b"bob", 0, 2],
    ]
    h.advance(50)
    assert h("XAUTOCLAIM", "s", "g", "carol", 100, 0, "COUNT", 1) == [b"0-0", [], []]
    assert list(consumers(h)) == [b"alice", b"bob"]  # carol claimed nothing
    assert h.client_harness(3).raw("XAUTOCLAIM", "s", "g", "bob", 0, 0, "JUSTID") == (
        b"*3\r\n$3\r\n0-0\r\n*3\r\n$3\r\n1-0\r\n$3\r\n3-0\r\n$3\r\n5-0\r\n*0\r\n"
    )


@engine_only
def test_xautoclaim_looks_at_most_ten_times_count(h: Harness) -> None:
    entries(h, *[f"{i}-0" for i in range(1, 31)])
    h("XGROUP", "CREATE", "s", "g", 0)
    h("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">")
    h("XCLAIM", "s", "g", "alice", 0, "25-0", "IDLE", 1000, "JUSTID")
    h.advance(100)
    assert h("XAUTOCLAIM", "s", "g", "bob", 500, 0, "COUNT", 2, "JUSTID") == [b"21-0", [], []]
    assert h("XAUTOCLAIM", "s", "g", "bob", 500, "21-0", "COUNT", 2, "JUSTID") == [
        b"0-0",
        [b"25-0"],
        [],
    ]


def test_xautoclaim_errors(h: Harness) -> None:
    entries(h, "1-0")
    h("XGROUP", "CREATE", "s", "g", 0)
    for count in (0, -1, "x", 576460752303423488):
        assert (
            h.error("XAUTOCLAIM", "s", "g", "bob", 0, 0, "COUNT", count) == "ERR COUNT must be > 0"
        )
    assert h.error("XAUTOCLAIM", "s", "g", "bob", 0, 0, "COUNT", 576460752303423487) == (
        "ERR Insufficient memory, failed allocating transient memory, COUNT too high."
    )
    assert h.error("XAUTOCLAIM", "s", "g", "bob", 0, 0, "COUNT") == "ERR syntax error"
    assert h.error("XAUTOCLAIM", "s", "g", "bob", 0, 0, "foo") == "ERR syntax error"
    # arguments are checked before the key and group
    assert h.error("XAUTOCLAIM", "s", "nog", "bob", "x", 0) == (
        "ERR Invalid min-idle-time argument for XAUTOCLAIM"
    )
    assert h.error("XAUTOCLAIM", "s", "nog", "bob", 0, "bad") == INVALID_ID
    assert h.error("XAUTOCLAIM", "s", "nog", "bob", 0, 0, "foo") == "ERR syntax error"
    assert h.error("XAUTOCLAIM", "s", "nog", "bob", 0, 0) == (
        "NOGROUP No such key 's' or consumer group 'nog'"
    )
    assert h.error(
        "XAUTOCLAIM", "s", "g", "bob", 0, "(18446744073709551615-18446744073709551615"
    ) == ("ERR invalid start ID for the interval")


@engine_only
# --- seen time --------------------------------------------------------------------------
def test_seen_time_is_refreshed_by_reads_and_claims_only(h: Harness) -> None:
    entries(h, "1-0")
    h("XGROUP", "CREATE", "s", "g", "$")
    h("XGROUP", "CREATECONSUMER", "s", "g", "c")

    def idle_after(*args: str | int) -> Any:
        h.advance(100)
        h(*args)
        return consumers(h)[b"c"][b"idle"]

    assert idle_after("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">") == 100  # nothing new
    assert idle_after("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", 0) == 0  # history
    assert idle_after("XPENDING", "s", "g", "-", "+", 10, "c") == 100
    assert idle_after("XCLAIM", "s", "g", "c", 0, "9-9") == 200  # claimed nothing
    assert idle_after("XAUTOCLAIM", "s", "g", "c", 0, 0) == 300
    assert idle_after("XGROUP", "CREATECONSUMER", "s", "g", "c") == 400
    assert idle_after("XCLAIM", "s", "g", "c", 0, "1-0", "FORCE") == 0


# --- entries-read and lag ---------------------------------------------------------------
def test_lag_and_entries_read(h: Harness) -> None:
    entries(h, "1-0", "2-0")
    h("XGROUP", "CREATE", "s", "g", 0)
    h("XGROUP", "CREATE", "s", "g3", "$")
    assert groups(h)[b"g"][b"lag"] == 2 and groups(h)[b"g3"][b"lag"] == 0
    h("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">")
    assert (groups(h)[b"g"][b"entries-read"], groups(h)[b"g"][b"lag"]) == (2, 0)
    h("XDEL", "s", "1-0", "2-0")  # an empty stream: every ID up to the last is read
    h("XGROUP", "SETID", "s", "g", 0)
    assert (groups(h)[b"g"][b"entries-read"], groups(h)[b"g"][b"lag"]) == (None, 0)
    h("XGROUP", "SETID", "s", "g", 0, "ENTRIESREAD", 0)
    assert groups(h)[b"g"][b"lag"] == 2
    entries(h, "3-0")
    for name, sid in (("g4", "0"), ("g5", "1-5"), ("g7", "3-0"), ("g8", "9-0")):
        h("XGROUP", "CREATE", "s", name, sid)
    lags = {name: g[b"lag"] for name, g in groups(h).items()}
    assert lags == {b"g": 3, b"g3": 1, b"g4": 1, b"g5": 1, b"g7": 0, b"g8": None}
    entries(h, "4-0")
    h("XDEL", "s", "4-0")  # a tombstone after the first entry: lags are unknown
    assert {g[b"lag"] for g in groups(h).values()} == {None}
    h("XREADGROUP", "GROUP", "g4", "c", "STREAMS", "s", ">")
    assert groups(h)[b"g4"][b"entries-read"] is None


# --- XINFO ------------------------------------------------------------------------------
def test_xinfo_stream(h: Harness) -> None:
    entries(h, "1-0", "2-0", "3-0")
    h("XGROUP", "CREATE", "s", "g", 0)
    assert h.raw("XINFO", "STREAM", "s") == (
        b"*20\r\n$6\r\nlength\r\n:3\r\n$15\r\nradix-tree-keys\r\n:1\r\n$16\r\nradix-tree-nodes"
        b"\r\n:2\r\n$17\r\nlast-generated-id\r\n$3\r\n3-0\r\n$20\r\nmax-deleted-entry-id\r\n"
        b"$3\r\n0-0\r\n$13\r\nentries-added\r\n:3\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n"
        b"1-0\r\n$6\r\ngroups\r\n:1\r\n$11\r\nfirst-entry\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf"
        b"\r\n$3\r\n1-0\r\n$10\r\nlast-entry\r\n*2\r\n$3\r\n3-0\r\n*2\r\n$1\r\nf\r\n$3\r\n3-0"
        b"\r\n"
    )
    h3 = h.client_harness(3)
    assert h3.raw("XINFO", "STREAM", "s").startswith(b"%10\r\n$6\r\nlength\r\n:3\r\n")
    h("XADD", "e", "1-0", "a", "b")
    h("XDEL", "e", "1-0")
    assert h3("XINFO", "STREAM", "e")[b"first-entry"] is None
    assert h.raw("XINFO", "STREAM", "e").endswith(
        b"$11\r\nfirst-entry\r\n$-1\r\n$10\r\nlast-entry\r\n$-1\r\n"
    )


@engine_only
def test_xinfo_stream_full(h: Harness) -> None:
    entries(h, "1-0", "2-0", "3-0")
    h("XGROUP", "CREATE", "s", "g", 0)
    h("XGROUP", "CREATE", "s", "g2", "$", "ENTRIESREAD", 2)
    h("XREADGROUP", "GROUP", "g", "alice", "COUNT", 1, "STREAMS", "s", ">")
    h("XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", ">")
    full = as_dict(h("XINFO", "STREAM", "s", "FULL"))
    assert list(full) == [
        b"length",
        b"radix-tree-keys",
        b"radix-tree-nodes",
        b"last-generated-id",
        b"max-deleted-entry-id",
        b"entries-added",
        b"recorded-first-entry-id",
        b"entries",
        b"groups",
    ]
    assert len(full[b"entries"]) == 3
    g, g2 = (as_dict(x) for x in full[b"groups"])
    assert g == {
        b"name": b"g",
        b"last-delivered-id": b"3-0",
        b"entries-read": 3,
        b"lag": 0,
        b"pel-count": 3,
        b"pending": [
            [b"1-0", b"alice", START_MS, 1],
            [b"2-0", b"bob", START_MS, 1],
            [b"3-0", b"bob", START_MS, 1],
        ],
        b"consumers": [
            [
                b"name",
                b"alice",
                b"seen-time",
                START_MS,
                b"pel-count",
                1,
                b"pending",
                [[b"1-0", START_MS, 1]],
            ],
            [
                b"name",
                b"bob",
                b"seen-time",
                START_MS,
                b"pel-count",
                2,
                b"pending",
                [[b"2-0", START_MS, 1], [b"3-0", START_MS, 1]],
            ],
        ],
    }
    assert g2[b"entries-read"] == 2 and g2[b"lag"] == 1 and g2[b"consumers"] == []
    limited = as_dict(h("XINFO", "STREAM", "s", "FULL", "COUNT", 1))
    assert len(limited[b"entries"]) == 1
    lg = as_dict(limited[b"groups"][0])
    assert len(lg[b"pending"]) == 1 and len(lg[b"consumers"][1][7]) == 1
    for count in (0, -5):  # 0: everything; negative: the default 10
        assert len(as_dict(h("XINFO", "STREAM", "s", "FULL", "COUNT", count))[b"entries"]) == 3
    h3 = h.client_harness(3)
    reply = h3.raw("XINFO", "STREAM", "s", "FULL")
    assert reply.startswith(b"%9\r\n") and b"%7\r\n$4\r\nname\r\n$1\r\ng\r\n" in reply
    assert b"%4\r\n$4\r\nname\r\n$5\r\nalice\r\n$9\r\nseen-time\r\n" in reply


@engine_only
def test_xinfo_groups_and_consumers(h: Harness) -> None:
    entries(h, "1-0", "2-0")
    h("XGROUP", "CREATE", "s", "g", 0)
    h("XREADGROUP", "GROUP", "g", "bob", "COUNT", 1, "STREAMS", "s", ">")
    h("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">")
    h.advance(7)
    assert h.raw("XINFO", "GROUPS", "s") == (
        b"*1\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:2\r\n$7\r\npending\r\n:2\r\n"
        b"$17\r\nlast-delivered-id\r\n$3\r\n2-0\r\n$12\r\nentries-read\r\n:2\r\n$3\r\nlag\r\n"
        b":0\r\n"
    )
    assert h.raw("XINFO", "CONSUMERS", "s", "g") == (
        b"*2\r\n*6\r\n$4\r\nname\r\n$5\r\nalice\r\n$7\r\npending\r\n:1\r\n$4\r\nidle\r\n:7\r\n"
        b"*6\r\n$4\r\nname\r\n$3\r\nbob\r\n$7\r\npending\r\n:1\r\n$4\r\nidle\r\n:7\r\n"
    )
    h3 = h.client_harness(3)
    assert h3.raw("XINFO", "CONSUMERS", "s", "g").startswith(b"*2\r\n%3\r\n$4\r\nname\r\n")
    assert h3.raw("XINFO", "GROUPS", "s").startswith(b"*1\r\n%6\r\n")
    h("XGROUP", "SETID", "s", "g", "99-99")
    assert h.raw("XINFO", "GROUPS", "s").endswith(
        b"$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n$-1\r\n"
    )
    assert h3.raw("XINFO", "GROUPS", "s").endswith(
        b"$12\r\nentries-read\r\n_\r\n$3\r\nlag\r\n_\r\n"
    )


def test_xinfo_errors_and_help(h: Harness) -> None:
    entries(h, "1-0")
    h("SET", "str", "x")
    syntax = "ERR unknown subcommand or wrong number of arguments for '{}'. Try XINFO HELP."
    assert h.error("XINFO", "STREAM", "s", "FULL", "CNT", 1) == syntax.format("STREAM")
    assert h.error("XINFO", "stream", "s", "fool") == syntax.format("stream")
    assert h.error("XINFO", "stream", "s", "full", "count") == syntax.format("stream")
    assert h.error("XINFO", "stream", "s", "full", "count", "x") == (
        "ERR value is not an integer or out of range"
    )
    assert h.error("XINFO", "CONSUMERS", "s", "nog") == (
        "NOGROUP No such consumer group 'nog' for key name 's'"
    )
    for args in (("CONSUMERS", "nokey", "g"), ("GROUPS", "nokey"), ("STREAM", "nokey")):
        assert h.error("XINFO", *args) == "ERR no such key"
        assert h.error("XINFO", args[0], "str", *args[2:]) == WRONGTYPE
    assert h.error("XINFO", "stream") == "ERR wrong number of arguments for 'xinfo|stream' command"
    assert h.error("XINFO", "foo") == "ERR unknown subcommand 'foo'. Try XINFO HELP."
    assert h("XINFO", "HELP") == [
        b"XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        b"CONSUMERS <key> <groupname>",
        b"    Show consumers of <groupname>.",
        b"GROUPS <key>",
        b"    Show the stream consumer groups.",
        b"STREAM <key> [FULL [COUNT <count>]",
        b"    Show information about the stream.",
        b"HELP",
        b"    Prints this help.",
    ]
