"""Stream commands through the engine (no sockets): XADD, XTRIM, XLEN, XRANGE, XREVRANGE,
XDEL, XSETID, XREAD and XREADGROUP (blocking included). Consumer groups and XINFO are in
test_stream_groups.py. Every expectation was checked on redis-server 7.0.15."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.commands.realharness import engine_only, harness, restoring
from tests.support import START_MS, Harness

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
INVALID_ID = "ERR Invalid stream ID specified as stream command argument"
TOO_SMALL = "ERR The ID specified in XADD is equal or smaller than the target stream top item"


@pytest.fixture
def h() -> Iterator[Any]:
    with harness() as made:
        yield made


def info(h: Harness, key: str = "s") -> dict[bytes, object]:
    flat = h("XINFO", "STREAM", key)
    return dict(zip(flat[::2], flat[1::2], strict=True))


def batch(h: Harness, *commands: tuple[str | int, ...]) -> None:
    """Run commands back to back with no blocked client served in between, the way EXEC
    runs a transaction; the next command (a PING here) serves them."""
    engine = h.engine
    engine.no_blocking += 1
    for args in commands:
        argv = [str(a).encode() for a in args]
        spec = engine.table.get(argv[0])
        assert spec is not None
        spec = spec.subcommands.get(argv[1].lower(), spec) if len(argv) > 1 else spec
        engine.call(h.client, spec, argv)
    engine.no_blocking -= 1
    h.client.out.clear()
    assert h("PING") == b"PONG"


def fill(h: Harness, n: int, key: str = "s", start: int = 1) -> None:
    for i in range(start, start + n):
        h("XADD", key, f"{i}-0", "f", "v")


# --- XADD -----------------------------------------------------------------------------
def test_xadd_explicit_ids_must_grow(h: Harness) -> None:
    assert h("XADD", "s", "1-1", "f", "v") == b"1-1"
    assert h.error("XADD", "s", "1-1", "f", "v") == TOO_SMALL
    assert h.error("XADD", "s", "1-0", "f", "v") == TOO_SMALL
    assert h("XADD", "s", "1-*", "a", "b") == b"1-2"
    assert h("XADD", "s", "5", "a", "b") == b"5-0"
    assert h("XADD", "s", "5-*", "a", "b") == b"5-1"
    assert h("XADD", "s", "6-*", "a", "b") == b"6-0"
    assert h("XLEN", "s") == 5


def test_xadd_zero_id_is_refused_before_creating_the_key(h: Harness) -> None:
    assert (
        h.error("XADD", "s", "0-0", "f", "v")
        == "ERR The ID specified in XADD must be greater than 0-0"
    )
    assert h("EXISTS", "s") == 0
    assert h("XADD", "s", "0-*", "f", "v") == b"0-1"
    assert h("XADD", "s", "0-*", "f", "v") == b"0-2"


@engine_only
def test_xadd_auto_ids_follow_the_clock_and_never_go_back(h: Harness) -> None:
    assert h("XADD", "s", "*", "f", "v") == b"%d-0" % START_MS
    assert h("XADD", "s", "*", "f", "v") == b"%d-1" % START_MS
    h.advance(5)
    assert h("XADD", "s", "*", "f", "v") == b"%d-0" % (START_MS + 5)
    h.advance(-100)  # the clock went back: last ms, next sequence
    assert h("XADD", "s", "*", "f", "v") == b"%d-1" % (START_MS + 5)
    h("XADD", "s", f"{START_MS + 10}-18446744073709551615", "f", "v")
    assert h("XADD", "s", "*", "f", "v") == b"%d-0" % (START_MS + 11)


@engine_only
def test_xadd_auto_id_signals_and_propagates_with_its_id() -> None:
    h = Harness(notify_keyspace_events="Et")
    h.engine.propagating = True
    h.engine.refresh_dispatch()
    subscriber = h.client_harness()
    subscriber("SUBSCRIBE", "__keyevent@0__:xadd")
    watcher = h.client_harness()
    assert h("XADD", "s", "*", "f", "v") == b"%d-0" % START_MS
    h.engine.watch(watcher.client, b"s")
    assert not watcher.client.watch_dirty
    assert h("XADD", "s", "*", "f", "v", "g", "w") == b"%d-1" % START_MS
    assert watcher.client.watch_dirty
    assert sum(b"xadd" in m for m in subscriber.client.out) == 2
    assert [argv for _, argv in h.engine.propagated] == [
        [b"XADD", b"s", b"%d-0" % START_MS, b"f", b"v"],
        [b"XADD", b"s", b"%d-1" % START_MS, b"f", b"v", b"g", b"w"],
    ]
    assert h.error("XADD", "s", "*", "f") == "ERR wrong number of arguments for 'xadd' command"
    h("SET", "str", "x")
    assert h.error("XADD", "str", "*", "f", "v").startswith("WRONGTYPE")


def test_xadd_id_syntax_follows_string2ull(h: Harness) -> None:
    for bad in (
        "5-x",
        "abc",
        "+",
        "-",
        "-1",
        "1-",
        "-1-1",
        "1-*x",
        "*-1",
        "18446744073709551616-0",
        "1" * 128,
    ):
        assert h.error("XADD", "s", bad, "a", "b") == INVALID_ID, bad
    assert h("XADD", "s", "+1", "a", "b") == b"1-0"
    assert h("XADD", "s", "01-01", "a", "b") == b"1-1"
    assert h("XADD", "s", " 2", "a", "b") == b"2-0"  # strtoull skips leading blanks
    assert h("XADD", "s", "5--05", "a", "b") == b"5-18446744073709551611"  # and wraps a sign
    assert h("XADD", "s", "6- -1", "a", "b") == b"6-18446744073709551615"
    assert h("XADD", "n", "7\x00junk", "a", "b") == b"7-0"  # read as a C string


def test_xadd_exhausted_stream(h: Harness) -> None:
    top = "18446744073709551615-18446744073709551615"
    assert h("XADD", "s", top, "a", "b") == top.encode()
    exhausted = "ERR The stream has exhausted the last possible ID, unable to add more items"
    assert h.error("XADD", "s", "*", "a", "b") == exhausted
    assert h.error("XADD", "s", "18446744073709551615-*", "a", "b") == exhausted
    assert h("XADD", "t", "18446744073709551615-*", "a", "b") == b"18446744073709551615-0"
    assert h("XADD", "t", "18446744073709551615-*", "a", "b") == b"18446744073709551615-1"


def test_xadd_options_and_errors(h: Harness) -> None:
    arity = "ERR wrong number of arguments for 'xadd' command"
    assert h.error("XADD", "s", "*", "a") == arity
    assert h.error("XADD", "s", "MAXLEN", "5") == arity
    assert h.error("XADD", "s", "MAXLEN", "~", "5", "*") == arity
    assert (
        h.error("XADD", "s", "MAXLEN", "-1", "*", "a", "b")
        == "ERR The MAXLEN argument must be >= 0."
    )
    assert (
        h.error("XADD", "s", "MAXLEN", "~", "x", "*", "a", "b")
        == "ERR value is not an integer or out of range"
    )
    assert h.error("XADD", "s", "MAXLEN", "5", "MINID", "3", "*", "a", "b") == (
        "ERR syntax error, MAXLEN and MINID options at the same time are not compatible"
    )
    assert h.error("XADD", "s", "LIMIT", "5", "*", "a", "b") == (
        "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy"
    )
    assert h.error("XADD", "s", "MAXLEN", "5", "LIMIT", "5", "*", "a", "b") == (
        "ERR syntax error, LIMIT cannot be used without the special ~ option"
    )
    assert h.error("XADD", "s", "MAXLEN", "~", "5", "LIMIT", "-1", "*", "a", "b") == (
        "ERR The LIMIT argument must be >= 0."
    )
    assert h.error("XADD", "s", "MINID", "+", "*", "a", "b") == INVALID_ID
    assert h.error("XADD", "s", "bogus", "a", "b") == INVALID_ID
    assert h("EXISTS", "s") == 0


def test_xadd_nomkstream(h: Harness) -> None:
    assert h.raw("XADD", "s", "NOMKSTREAM", "*", "a", "b") == b"$-1\r\n"
    assert Harness(resp=3).raw("XADD", "s", "NOMKSTREAM", "*", "a", "b") == b"_\r\n"
    assert h("EXISTS", "s") == 0
    h("XADD", "s", "1-0", "a", "b")
    assert h("XADD", "s", "NOMKSTREAM", "NOMKSTREAM", "2-0", "a", "b") == b"2-0"


def test_xadd_wrongtype(h: Harness) -> None:
    h("SET", "str", "x")
    for args in (
        ("XADD", "str", "*", "a", "b"),
        ("XLEN", "str"),
        ("XRANGE", "str", "-", "+"),
        ("XREVRANGE", "str", "+", "-"),
        ("XDEL", "str", "1-1"),
        ("XTRIM", "str", "MAXLEN", "0"),
        ("XSETID", "str", "1-1"),
        ("XREAD", "STREAMS", "str", "0"),
    ):
        assert h.error(*args) == WRONGTYPE
    # argument errors come first where Redis parses before the lookup
    assert h.error("XRANGE", "str", "x", "+") == INVALID_ID


def test_type_encoding_and_copy(h: Harness) -> None:
    h("XADD", "s", "1-0", "a", "b")
    h("XGROUP", "CREATE", "s", "g", "0")
    h("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">")
    assert h("TYPE", "s") == b"stream"
    assert h("OBJECT", "ENCODING", "s") == b"stream"
    assert h("COPY", "s", "t") == 1
    h("XADD", "t", "2-0", "c", "d")
    h("XACK", "t", "g", "1-0")
    assert h("XLEN", "s") == 1
    assert h("XPENDING", "s", "g")[0] == 1
    assert h("XPENDING", "t", "g")[0] == 0
    assert h("XINFO", "CONSUMERS", "t", "g")[0][:4] == [b"name", b"c", b"pending", 0]


# --- trimming and macro nodes -----------------------------------------------------------
def test_approximate_trim_drops_whole_nodes_only(h: Harness) -> None:
    fill(h, 350)  # nodes of 100, 100, 100 and 50 entries (stream-node-max-entries 100)
    i = info(h)
    assert (i[b"length"], i[b"radix-tree-keys"], i[b"radix-tree-nodes"]) == (350, 4, 11)
    assert h("XTRIM", "s", "MAXLEN", "~", 120) == 200
    assert h("XLEN", "s") == 150
    assert h("XTRIM", "s", "MAXLEN", "~", 50, "LIMIT", 100) == 100
    assert h("XTRIM", "s", "MAXLEN", "~", 0, "LIMIT", 49) == 0  # the node holds 50
    assert h("XTRIM", "s", "MAXLEN", "~", 0, "LIMIT", 0) == 50  # LIMIT 0: no limit
    i = info(h)
    assert (i[b"length"], i[b"radix-tree-keys"], i[b"radix-tree-nodes"]) == (0, 0, 1)
    assert h("EXISTS", "s") == 1  # an emptied stream stays


def test_xadd_maxlen_approx_matches_redis_lengths(h: Harness) -> None:
    lengths = []
    for i in range(1, 260):
        h("XADD", "s", "MAXLEN", "~", 150, f"{i}-0", "f", "v")
        lengths.append(h("XLEN", "s"))
    # The first node (100 entries) can go once 150 remain without it.
    assert lengths[248] == 249 and lengths[249] == 150 and lengths[-1] == 159


def test_node_size_limits_come_from_config(h: Harness) -> None:
    for n in range(1, 40):
        h("XADD", "s", f"{n}-0", "f", "x" * 200)  # 19 entries fill a 4096-byte listpack
    i = info(h)
    assert (i[b"radix-tree-keys"], i[b"radix-tree-nodes"]) == (3, 8)
    with restoring(h, "stream-node-max-entries"):
        h("CONFIG", "SET", "stream-node-max-entries", 5)
        fill(h, 12, key="t")
        assert info(h, "t")[b"radix-tree-keys"] == 3
        assert h("XTRIM", "t", "MAXLEN", "~", 6) == 5
        assert h("XTRIM", "t", "MAXLEN", "~", 0) == 7  # LIMIT defaults to 100 nodes' worth


def test_deleted_entries_still_count_towards_a_node(h: Harness) -> None:
    fill(h, 100)
    h("XDEL", "s", *[f"{i}-0" for i in range(1, 51)])
    assert info(h)[b"radix-tree-keys"] == 1
    h("XADD", "s", "101-0", "f", "v")
    i = info(h)
    assert (i[b"length"], i[b"radix-tree-keys"], i[b"radix-tree-nodes"]) == (51, 2, 6)


def test_exact_trim_and_minid(h: Harness) -> None:
    fill(h, 10)
    assert h("XTRIM", "s", "MAXLEN", "=", 7) == 3
    assert h("XRANGE", "s", "-", "+", "COUNT", 1) == [[b"4-0", [b"f", b"v"]]]
    assert h("XTRIM", "s", "MINID", 6) == 2
    assert h("XTRIM", "s", "MINID", "~", 100) == 5  # the whole node is below 100
    assert h.error("XTRIM", "s", "MINID", "(4") == INVALID_ID
    assert h.error("XTRIM", "s", "MINID", "-") == INVALID_ID
    assert h("XADD", "s", "MAXLEN", "0", "20-0", "f", "v") == b"20-0"
    assert h("XLEN", "s") == 0


def test_xtrim_errors(h: Harness) -> None:
    arity = "ERR wrong number of arguments for 'xtrim' command"
    assert h.error("XTRIM", "s") == arity
    assert h.error("XTRIM", "s", "foo") == arity
    assert h.error("XTRIM", "s", "x", "MAXLEN") == "ERR syntax error"
    assert h.error("XTRIM", "s", "LIMIT", "10") == (
        "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy"
    )
    assert h.error("XTRIM", "s", "MAXLEN", 1, "LIMIT", 10) == (
        "ERR syntax error, LIMIT cannot be used without the special ~ option"
    )
    assert h.error("XTRIM", "s", "LIMIT", "0", "x", "y") == "ERR syntax error"
    assert h.error("XTRIM", "s", "MINID", "~", "x") == INVALID_ID
    assert h("XTRIM", "nokey", "MAXLEN", "~", 1, "LIMIT", 10) == 0
    assert (
        h.error("XTRIM", "nokey", "MAXLEN", "~", "x")
        == "ERR value is not an integer or out of range"
    )


# --- XRANGE / XREVRANGE / XLEN / XDEL ---------------------------------------------------
def three(h: Harness) -> None:
    h("XADD", "s", "1-0", "a", "1")
    h("XADD", "s", "2-0", "b", "2")
    h("XADD", "s", "3-5", "c", "3")


def ids(reply: list[list[object]]) -> list[bytes]:
    return [entry[0] for entry in reply]  # type: ignore[misc]


def test_xrange_bounds(h: Harness) -> None:
    three(h)
    assert h("XRANGE", "s", "-", "+") == [
        [b"1-0", [b"a", b"1"]],
        [b"2-0", [b"b", b"2"]],
        [b"3-5", [b"c", b"3"]],
    ]
    assert ids(h("XRANGE", "s", 2, 2)) == [b"2-0"]
    assert ids(h("XRANGE", "s", 3, 3)) == [b"3-5"]  # an incomplete end covers every seq
    assert ids(h("XRANGE", "s", "(1", "+")) == [b"2-0", b"3-5"]
    assert ids(h("XRANGE", "s", "(1-0", "(3-5")) == [b"2-0"]
    assert h("XRANGE", "s", "-", "(0") == []
    assert h("XRANGE", "s", "+", "-") == []
    assert ids(h("XREVRANGE", "s", "+", "-")) == [b"3-5", b"2-0", b"1-0"]
    assert ids(h("XREVRANGE", "s", "+", "-", "COUNT", 2)) == [b"3-5", b"2-0"]
    assert ids(h("XREVRANGE", "s", "(3-5", "-")) == [b"2-0", b"1-0"]
    assert ids(h("XREVRANGE", "s", 3, 2)) == [b"3-5", b"2-0"]


def test_xrange_errors_and_count(h: Harness) -> None:
    three(h)
    for bad in ("(", "(-", "x"):
        assert h.error("XRANGE", "s", bad, "+") == INVALID_ID
    assert h.error("XRANGE", "s", "-", "(+") == INVALID_ID
    assert h.error("XRANGE", "s", "(18446744073709551615-18446744073709551615", "+") == (
        "ERR invalid start ID for the interval"
    )
    assert h.error("XRANGE", "s", "-", "(0-0") == "ERR invalid end ID for the interval"
    assert ids(h("XRANGE", "s", "-", "+", "COUNT", 1)) == [b"1-0"]
    assert ids(h("XRANGE", "s", "-", "+", "COUNT", 1, "COUNT", 2)) == [b"1-0", b"2-0"]
    assert h.raw("XRANGE", "s", "-", "+", "COUNT", 0) == b"*-1\r\n"
    assert h.raw("XRANGE", "s", "-", "+", "COUNT", -1) == b"*-1\r\n"
    assert h.raw("XRANGE", "nokey", "-", "+", "COUNT", 0) == b"*0\r\n"
    assert (
        h.error("XRANGE", "s", "-", "+", "COUNT", "x")
        == "ERR value is not an integer or out of range"
    )
    assert h.error("XRANGE", "s", "-", "+", "COUNT") == "ERR syntax error"
    assert h.error("XRANGE", "s", "-", "+", "foo", 1) == "ERR syntax error"
    assert h.client_harness(3).raw("XRANGE", "s", "-", "+", "COUNT", 0) == b"_\r\n"


def test_xrange_reply_bytes(h: Harness) -> None:
    h("XADD", "s", "1-0", "a", "1", "b", "")
    assert h.raw("XRANGE", "s", "-", "+") == (
        b"*1\r\n*2\r\n$3\r\n1-0\r\n*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$0\r\n\r\n"
    )


def test_xdel_leaves_tombstones_and_updates_ids(h: Harness) -> None:
    three(h)
    assert h("XDEL", "s", "2-0", "2-0", "9-9") == 1
    assert h("XDEL", "s", 2) == 0
    assert h.error("XDEL", "s", "1-0", "bad") == INVALID_ID  # nothing deleted
    assert h("XLEN", "s") == 2
    i = info(h)
    assert i[b"max-deleted-entry-id"] == b"2-0"
    assert i[b"recorded-first-entry-id"] == b"1-0"
    assert h("XDEL", "s", "1-0") == 1
    assert info(h)[b"recorded-first-entry-id"] == b"3-5"
    assert h("XDEL", "s", "3-5") == 1
    i = info(h)
    assert (i[b"length"], i[b"radix-tree-keys"], i[b"recorded-first-entry-id"]) == (0, 0, b"0-0")
    assert i[b"first-entry"] is None and i[b"last-generated-id"] == b"3-5"
    assert h("EXISTS", "s") == 1
    assert h.error("XADD", "s", "2-0", "a", "b") == TOO_SMALL
    assert h("XDEL", "nokey", "bad") == 0  # no key: IDs are not even checked
    assert h.error("XDEL", "s") == "ERR wrong number of arguments for 'xdel' command"


def test_ids_far_from_the_node_master_and_huge_seqs(h: Harness) -> None:
    # One node holds IDs whose ms lie more than 2^32 past the master's and seqs past 2^32
    # (nodes widen their ID arrays then); reads, deletes and DUMP/RESTORE see them intact.
    ids = [
        "1-1",
        "1-4294967296",
        "5000000000-0",
        "5000000000-18446744073709551614",
        "18446744073709551615-3",
    ]
    for i, sid in enumerate(ids):
        assert h("XADD", "s", sid, "f", str(i)) == sid.encode()
    assert [e[0] for e in h("XRANGE", "s", "-", "+")] == [x.encode() for x in ids]
    assert [e[0] for e in h("XRANGE", "s", "4999999999", "5000000000-1")] == [b"5000000000-0"]
    assert [e[0] for e in h("XREVRANGE", "s", "+", "(5000000000-0", "COUNT", 2)] == [
        b"18446744073709551615-3",
        b"5000000000-18446744073709551614",
    ]
    assert info(h)[b"radix-tree-keys"] == 1
    assert h("XDEL", "s", "5000000000-0") == 1
    dumped = h("DUMP", "s")
    assert h("RESTORE", "copy", 0, dumped) == b"OK"
    assert h("XRANGE", "copy", "-", "+") == h("XRANGE", "s", "-", "+")
    assert [e[0] for e in h("XRANGE", "copy", "1-2", "5000000000-0")] == [b"1-4294967296"]
    assert h("DEL", "copy") == 1


def test_xlen(h: Harness) -> None:
    assert h("XLEN", "nokey") == 0
    three(h)
    assert h("XLEN", "s") == 3


# --- XSETID -----------------------------------------------------------------------------
def test_xsetid(h: Harness) -> None:
    three(h)
    assert h.error("XSETID", "s", "2-0") == (
        "ERR The ID specified in XSETID is smaller than the target stream top item"
    )
    assert h.error("XSETID", "s", "3-5", "ENTRIESADDED", 2) == (
        "ERR The entries_added specified in XSETID is smaller than the target stream length"
    )
    assert h("XSETID", "s", "3-5", "MAXDELETEDID", "0-0") == b"OK"
    assert h("XSETID", "s", "9-0", "ENTRIESADDED", 10, "MAXDELETEDID", "4-0") == b"OK"
    i = info(h)
    assert (i[b"last-generated-id"], i[b"entries-added"], i[b"max-deleted-entry-id"]) == (
        b"9-0",
        10,
        b"4-0",
    )
    assert h.error("XADD", "s", "8-0", "a", "b") == TOO_SMALL
    assert h.error("XSETID", "s", "5-0", "ENTRIESADDED", -1) == "ERR entries_added must be positive"
    assert h.error("XSETID", "s", "5-0", "MAXDELETEDID", "6-0") == (
        "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id"
    )
    assert h.error("XSETID", "s", "5-0", "foo") == "ERR syntax error"
    assert h.error("XSETID", "s", "5-0", "ENTRIESADDED") == "ERR syntax error"
    assert h.error("XSETID", "nokey", "1-1") == "ERR no such key"
    assert h.error("XSETID", "nokey", "bad") == INVALID_ID
    assert h.error("XSETID", "s", "+") == INVALID_ID


def test_xsetid_on_an_empty_stream_may_go_back(h: Harness) -> None:
    h("XADD", "s", "4-0", "a", "b")
    h("XDEL", "s", "4-0")
    assert h("XSETID", "s", "3-0") == b"OK"  # 7.0 checks only against live entries
    assert info(h)[b"last-generated-id"] == b"3-0"


# --- XREAD ------------------------------------------------------------------------------
def test_xread_sync(h: Harness) -> None:
    three(h)
    assert h("XREAD", "STREAMS", "s", 0) == [
        [b"s", [[b"1-0", [b"a", b"1"]], [b"2-0", [b"b", b"2"]], [b"3-5", [b"c", b"3"]]]]
    ]
    assert h("XREAD", "COUNT", 1, "STREAMS", "s", 0) == [[b"s", [[b"1-0", [b"a", b"1"]]]]]
    assert len(h("XREAD", "COUNT", -1, "STREAMS", "s", 0)[0][1]) == 3
    assert len(h("XREAD", "COUNT", 1, "COUNT", 2, "STREAMS", "s", 0)[0][1]) == 2
    assert h("XREAD", "STREAMS", "s", 2) == [[b"s", [[b"3-5", [b"c", b"3"]]]]]
    assert h.raw("XREAD", "STREAMS", "s", "$") == b"*-1\r\n"
    assert h.raw("XREAD", "STREAMS", "s", "3-5") == b"*-1\r\n"
    assert [k for k, _ in h("XREAD", "STREAMS", "s", "nokey", 0, 0)] == [b"s"]
    both = h("XREAD", "STREAMS", "s", "s", 0, 1)
    assert [len(entries) for _, entries in both] == [3, 2]
    h3 = h.client_harness(3)
    assert h3.raw("XREAD", "COUNT", 1, "STREAMS", "s", "s", 0, 1) == (
        b"%2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"
        b"$1\r\ns\r\n*1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"
    )
    assert h3.raw("XREAD", "STREAMS", "s", 5) == b"_\r\n"


def test_xread_errors(h: Harness) -> None:
    three(h)
    h("SET", "str", "x")
    unbalanced = (
        "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified."
    )
    cases = [
        (("STREAMS", "s", "nokey", 0), unbalanced),
        (("STREAMS", "s", "+"), INVALID_ID),
        (("STREAMS", "s", "-"), INVALID_ID),
        (("STREAMS", "s", "(1"), INVALID_ID),
        (
            ("STREAMS", "s", ">"),
            "ERR The > ID can be specified only when calling XREADGROUP "
            "using the GROUP <group> <consumer> option.",
        ),
        (
            ("GROUP", "g", "c", "STREAMS", "s", 0),
            "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.",
        ),
        (
            ("NOACK", "STREAMS", "s", 0),
            "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.",
        ),
        (("foo", "STREAMS", "s", 0), "ERR syntax error"),
        (("COUNT", "x", "STREAMS", "s", 0), "ERR value is not an integer or out of range"),
        (("BLOCK", -1, "STREAMS", "s", 0), "ERR timeout is negative"),
        (("BLOCK", "x", "STREAMS", "s", 0), "ERR timeout is not an integer or out of range"),
        (("BLOCK", "1.5", "STREAMS", "s", 0), "ERR timeout is not an integer or out of range"),
        (("STREAMS", "str", 0), WRONGTYPE),
        (("STREAMS", "s", "str", 0, 0), WRONGTYPE),
        (("STREAMS", "s", 0, "str", 0), INVALID_ID),
        (("COUNT", 1, "BLOCK", 0), "ERR syntax error"),
        (("COUNT", 1, "STREAMS"), "ERR syntax error"),
    ]
    for args, message in cases:
        assert h.error("XREAD", *args) == message, args


@engine_only
def test_xread_block_is_served_by_xadd(h: Harness) -> None:
    three(h)
    other = h.client_harness()
    assert h.raw("XREAD", "BLOCK", 0, "STREAMS", "s", "nokey", "$", "$") == b""
    state = h.client.blocked
    assert state is not None
    assert state.argv[-2:] == [b"3-5", b"0-0"]  # `$` resolved at block time
    assert other("XADD", "s", "4-0", "x", "y") == b"4-0"
    assert h.client.blocked is None
    assert h.client.out == [
        b"*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n4-0\r\n*2\r\n$1\r\nx\r\n$1\r\ny\r\n"
    ]


@engine_only
def test_xread_block_timeout_and_multi(h: Harness) -> None:
    assert h.raw("XREAD", "BLOCK", 1500, "STREAMS", "s", "$") == b""
    h.advance(1500)
    h.engine.expire_blocked()
    assert h.client.out == [b"*-1\r\n"]
    h.client.out.clear()
    h.engine.no_blocking += 1  # inside MULTI/EXEC or a script
    assert h.raw("XREAD", "BLOCK", 0, "STREAMS", "s", "$") == b"*-1\r\n"


@engine_only
def test_blocked_xread_waits_through_deletes_and_type_changes(h: Harness) -> None:
    h("XADD", "s", "5-1", "a", "b")
    other = h.client_harness()
    h.raw("XREAD", "BLOCK", 0, "STREAMS", "s", "$")
    other("DEL", "s")
    other("XADD", "s", "1-1", "a", "b")  # a new stream below the awaited ID
    other("SET", "s", "x")
    assert h.client.blocked is not None and h.client.out == []
    other("DEL", "s")
    other("XADD", "s", "7-0", "a", "b")
    assert h.client.out[0].startswith(b"*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n7-0")


@engine_only
def test_blocked_xread_served_by_last_id_even_without_entries(h: Harness) -> None:
    h("XADD", "s", "5-1", "a", "b")
    other = h.client_harness()
    h.raw("XREAD", "BLOCK", 0, "STREAMS", "s", "$")
    batch(other, ("XADD", "s", "6-1", "a", "b"), ("XDEL", "s", "6-1"))
    assert h.client.out == [b"*1\r\n*2\r\n$1\r\ns\r\n*0\r\n"]


@engine_only
def test_blocked_reads_are_served_from_the_key_that_became_ready(h: Harness) -> None:
    other = h.client_harness()
    third = h.client_harness()
    h("XGROUP", "CREATE", "a", "g", "$", "MKSTREAM")
    h("XGROUP", "CREATE", "b", "g", "$", "MKSTREAM")
    h.raw("XREAD", "BLOCK", 0, "STREAMS", "a", "b", "$", "$")
    third.raw("XREADGROUP", "GROUP", "g", "c", "BLOCK", 0, "STREAMS", "a", "b", ">", ">")
    batch(other, ("XADD", "b", "1-1", "x", "y"), ("XADD", "a", "1-1", "x", "y"))
    served = b"*1\r\n*2\r\n$1\r\nb\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nx\r\n$1\r\ny\r\n"
    assert h.client.out == [served]
    assert third.client.out == [served]


@engine_only
def test_blocked_xread_reply_in_resp3_and_default_count(h: Harness) -> None:
    h3 = h.client_harness(3)
    other = h.client_harness()
    h3.raw("XREAD", "BLOCK", 0, "STREAMS", "s", "$")
    batch(other, *[("XADD", "s", f"{i}-0", "f", "v") for i in range(1, 1102)])
    out = b"".join(h3.client.out)
    assert out.startswith(b"%1\r\n$1\r\ns\r\n*1000\r\n*2\r\n$3\r\n1-0\r\n")


# --- XREADGROUP -------------------------------------------------------------------------
def group_of_three(h: Harness) -> None:
    three(h)
    h("XGROUP", "CREATE", "s", "g", "0")


def test_xreadgroup_new_entries_and_history(h: Harness) -> None:
    group_of_three(h)
    assert h("XREADGROUP", "GROUP", "g", "c", "COUNT", 1, "STREAMS", "s", ">") == [
        [b"s", [[b"1-0", [b"a", b"1"]]]]
    ]
    assert h("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", 0) == [
        [b"s", [[b"1-0", [b"a", b"1"]]]]
    ]
    assert h("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", 1) == [[b"s", []]]
    assert h("XREADGROUP", "GROUP", "g", "c", "NOACK", "STREAMS", "s", ">") == [
        [b"s", [[b"2-0", [b"b", b"2"]], [b"3-5", [b"c", b"3"]]]]
    ]
    assert h.raw("XREADGROUP", "GROUP", "g", "c2", "STREAMS", "s", ">") == b"*-1\r\n"
    assert h("XPENDING", "s", "g") == [1, b"1-0", b"1-0", [[b"c", b"1"]]]
    # the NOACK read created no PEL entries; the empty `>` read created no consumer
    assert [c[1] for c in h("XINFO", "CONSUMERS", "s", "g")] == [b"c"]
    assert h("XREADGROUP", "GROUP", "g", "c2", "STREAMS", "s", 0) == [[b"s", []]]
    assert [c[1] for c in h("XINFO", "CONSUMERS", "s", "g")] == [b"c", b"c2"]


def test_xreadgroup_history_counts_deliveries_and_shows_deleted_entries(h: Harness) -> None:
    group_of_three(h)
    h("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">")
    h("XDEL", "s", "1-0")
    assert h("XREADGROUP", "GROUP", "g", "alice", "COUNT", 2, "STREAMS", "s", 0) == [
        [b"s", [[b"1-0", None], [b"2-0", [b"b", b"2"]]]]
    ]
    assert h.client_harness(3).raw(
        "XREADGROUP", "GROUP", "g", "alice", "COUNT", 1, "STREAMS", "s", 0
    ) == (b"%1\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-0\r\n_\r\n")
    assert [entry[3] for entry in h("XPENDING", "s", "g", "-", "+", 10)] == [1, 2, 1]


def test_xreadgroup_takes_over_entries_of_other_consumers(h: Harness) -> None:
    group_of_three(h)
    h("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">")
    h("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", 0)
    h("XGROUP", "SETID", "s", "g", 0)
    h("XREADGROUP", "GROUP", "g", "bob", "COUNT", 1, "STREAMS", "s", ">")
    assert h("XPENDING", "s", "g", "-", "+", 10) == [
        [b"1-0", b"bob", 0, 1],
        [b"2-0", b"alice", 0, 2],
        [b"3-5", b"alice", 0, 2],
    ]


def test_xreadgroup_errors(h: Harness) -> None:
    three(h)
    nogroup = "NOGROUP No such key 's' or consumer group 'g' in XREADGROUP with GROUP option"
    assert h.error("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">") == nogroup
    assert h.error("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", 0) == nogroup
    h("XGROUP", "CREATE", "s", "g", 0)
    assert h.error("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "$").startswith(
        "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history"
    )
    assert h.error("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "+") == INVALID_ID
    assert h.error("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">", "s") == (
        "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified."
    )
    assert h.error("XREADGROUP", "COUNT", 1, "COUNT", 1, "STREAMS", "s", ">") == (
        "ERR Missing GROUP option for XREADGROUP"
    )
    assert h.error("XREADGROUP", "STREAMS", "s", 0) == (
        "ERR wrong number of arguments for 'xreadgroup' command"
    )
    assert h.error("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "nokey", 0, 0) == (
        "NOGROUP No such key 'nokey' or consumer group 'g' in XREADGROUP with GROUP option"
    )


def test_xreadgroup_with_a_history_id_never_blocks(h: Harness) -> None:
    h("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    h("XGROUP", "CREATE", "t", "g", "$", "MKSTREAM")
    assert h("XREADGROUP", "GROUP", "g", "c", "BLOCK", 0, "STREAMS", "s", "t", 0, ">") == [
        [b"s", []]
    ]


@engine_only
def test_blocked_xreadgroup_is_served_and_delivers(h: Harness) -> None:
    h("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    other = h.client_harness()
    assert h.raw("XREADGROUP", "GROUP", "g", "c", "BLOCK", 0, "STREAMS", "s", ">") == b""
    assert other("XINFO", "CONSUMERS", "s", "g") == []  # no consumer while waiting
    other("XADD", "s", "1-1", "a", "b")
    assert h.client.out == [
        b"*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n"
    ]
    assert other("XPENDING", "s", "g") == [1, b"1-1", b"1-1", [[b"c", b"1"]]]


@engine_only
@pytest.mark.parametrize(
    ("action", "message"),
    [
        (
            (("XGROUP", "DESTROY", "s", "g"),),
            "NOGROUP the consumer group this client was blocked on no longer exists",
        ),
        ((("DEL", "s"),), "UNBLOCKED the stream key no longer exists"),
        ((("SET", "s", "x"),), "UNBLOCKED the stream key no longer exists"),
        ((("RENAME", "s", "s2"),), "UNBLOCKED the stream key no longer exists"),
        ((("FLUSHALL",),), "UNBLOCKED the stream key no longer exists"),
        (
            (("DEL", "s"), ("XADD", "s", "1-1", "a", "b")),
            "NOGROUP the consumer group this client was blocked on no longer exists",
        ),
        ((("DEL", "s"), ("RPUSH", "s", "x")), "UNBLOCKED the stream key no longer exists"),
    ],
)
def test_blocked_xreadgroup_hears_its_group_or_key_go(
    h: Harness, action: tuple[tuple[str, ...], ...], message: str
) -> None:
    h("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    other = h.client_harness()
    h.raw("XREADGROUP", "GROUP", "g", "c", "BLOCK", 0, "STREAMS", "s", ">")
    batch(other, *action)
    assert h.client.blocked is None
    assert h.client.out == [b"-" + message.encode() + b"\r\n"]


@engine_only
def test_blocked_xreadgroup_hears_of_expiry(h: Harness) -> None:
    h("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    h("PEXPIRE", "s", 100)
    h.raw("XREADGROUP", "GROUP", "g", "c", "BLOCK", 0, "STREAMS", "s", ">")
    h.advance(200)
    h.engine.keyspace.active_expire_cycle()
    h.engine.expire_blocked()
    assert h.client.out == [b"-UNBLOCKED the stream key no longer exists\r\n"]


@engine_only
def test_blocked_xreadgroup_not_woken_by_setid_and_times_out(h: Harness) -> None:
    h("XADD", "s", "1-1", "a", "b")
    h("XGROUP", "CREATE", "s", "g", "$")
    other = h.client_harness()
    h.raw("XREADGROUP", "GROUP", "g", "c", "BLOCK", 100, "STREAMS", "s", ">")
    other("XGROUP", "SETID", "s", "g", 0)
    assert h.client.blocked is not None
    h.advance(100)
    h.engine.expire_blocked()
    assert h.client.out == [b"*-1\r\n"]
    assert other("XINFO", "CONSUMERS", "s", "g") == []


@engine_only
def test_blocked_xreadgroup_noack_and_count(h: Harness) -> None:
    h("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    other = h.client_harness()
    h.raw("XREADGROUP", "GROUP", "g", "c", "COUNT", 1, "NOACK", "BLOCK", 0, "STREAMS", "s", ">")
    batch(other, ("XADD", "s", "1-1", "a", "b"), ("XADD", "s", "2-1", "a", "b"))
    assert b"1-1" in h.client.out[0] and b"2-1" not in h.client.out[0]
    assert other("XPENDING", "s", "g")[0] == 0
    assert other("XINFO", "GROUPS", "s")[0][7] == b"1-1"


@engine_only
def test_xreadgroup_resp3_and_multi(h: Harness) -> None:
    group_of_three(h)
    h3 = h.client_harness(3)
    assert h3("XREADGROUP", "GROUP", "g", "c", "COUNT", 1, "STREAMS", "s", ">") == {
        b"s": [[b"1-0", [b"a", b"1"]]]
    }
    h3("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">")
    h3.engine.no_blocking += 1  # inside MULTI/EXEC or a script
    assert h3.raw("XREADGROUP", "GROUP", "g", "c", "BLOCK", 0, "STREAMS", "s", ">") == b"_\r\n"
