"""List commands through the engine (no sockets); expectations checked on redis-server 7.0."""

from __future__ import annotations

import pytest

from tests.support import Harness

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"


@pytest.fixture
def h() -> Harness:
    return Harness()


def exists(h: Harness, key: str) -> bool:
    return h.engine.keyspace.dbs[0].lookup(key.encode()) is not None


def test_push_returns_length_and_orders_elements(h: Harness) -> None:
    assert h("RPUSH", "l", "a", "b") == 2
    assert h("LPUSH", "l", "x", "y") == 4
    assert h("LRANGE", "l", 0, -1) == [b"y", b"x", b"a", b"b"]
    assert h.engine.keyspace.dbs[0].lookup(b"l").encoding() == b"quicklist"  # type: ignore[union-attr]


def test_pushx_only_on_existing_lists(h: Harness) -> None:
    assert h("LPUSHX", "l", "a") == 0
    assert h("RPUSHX", "l", "a") == 0
    assert not exists(h, "l")
    h("RPUSH", "l", "a")
    assert h("RPUSHX", "l", "b", "c") == 3
    assert h("LPUSHX", "l", "z") == 4


def test_wrongtype_everywhere(h: Harness) -> None:
    h("SET", "s", "v")
    for args in (
        ("LPUSH", "s", "a"),
        ("RPOP", "s"),
        ("LLEN", "s"),
        ("LRANGE", "s", 0, 1),
        ("LINDEX", "s", 0),
        ("LPOS", "s", "a"),
        ("BLPOP", "s", 0),
    ):
        assert h.error(*args) == WRONGTYPE
    h("RPUSH", "l", "a")
    assert h.error("LMOVE", "l", "s", "LEFT", "LEFT") == WRONGTYPE
    assert h("LRANGE", "l", 0, -1) == [b"a"]  # nothing moved
    assert h("LMOVE", "missing", "s", "LEFT", "LEFT") is None


def test_pop_single_and_counted(h: Harness) -> None:
    h("RPUSH", "l", "a", "b", "c")
    assert h("LPOP", "l") == b"a"
    assert h("RPOP", "l") == b"c"
    assert h("LPOP", "l", 0) == []
    assert h("LPOP", "l", 5) == [b"b"]
    assert not exists(h, "l")
    assert h.raw("LPOP", "l") == b"$-1\r\n"
    assert h.raw("LPOP", "l", 2) == b"*-1\r\n"
    assert h.error("LPOP", "l", -1) == "ERR value is out of range, must be positive"
    assert h.error("LPOP", "l", 1, 2) == "ERR wrong number of arguments for 'lpop' command"


def test_queue_pushes_and_pops_count_dirty_and_signal_watchers(h: Harness) -> None:
    """LPUSH/RPUSH/LPOP/RPOP on an existing list (their inlined path): replies, dirty
    counts, then the same with a WATCH and a TTL on the database, which leave it."""
    engine = h.engine
    h("RPUSH", "l", "a", "b", "c")

    def dirty_after(*args: str) -> tuple[object, int]:
        before = engine.dirty
        reply = h(*args)
        return reply, engine.dirty - before

    assert dirty_after("LPUSH", "l", "x") == (4, 1)
    assert dirty_after("RPUSH", "l", "y", "z") == (6, 2)
    assert dirty_after("LPUSH", "l", "p", "q") == (8, 2)
    assert dirty_after("RPOP", "l") == (b"z", 1)
    assert dirty_after("LPOP", "l") == (b"q", 1)
    assert h("LRANGE", "l", 0, -1) == [b"p", b"x", b"a", b"b", b"c", b"y"]
    assert h.raw("RPOP", "l") == b"$1\r\ny\r\n"
    assert h.raw("RPUSH", "l", "w" * 2000) == b":6\r\n"
    assert h.raw("RPOP", "l") == b"$2000\r\n" + b"w" * 2000 + b"\r\n"
    watcher = h.client_harness()
    for args in (("LPUSH", "l", "1"), ("RPUSH", "l", "2"), ("LPOP", "l"), ("RPOP", "l")):
        engine.watch(watcher.client, b"l")
        watcher.client.watch_dirty = False
        h(*args)
        assert watcher.client.watch_dirty, args
    h("SET", "other", "v", "PX", 100)  # the database now has TTLs
    h("PEXPIRE", "l", 10)
    h.advance(20)
    assert h("RPOP", "l") is None
    assert h("LPUSH", "l", "new") == 1
    assert h("LPOP", "l") == b"new"
    assert not exists(h, "l")


def test_pop_resp3_nulls() -> None:
    h = Harness(resp=3)
    assert h.raw("LPOP", "l") == b"_\r\n"
    assert h.raw("LPOP", "l", 2) == b"_\r\n"
    assert h.raw("BLPOP", "l", "0.001") == b""  # blocks; the timeout reply comes later


def test_lindex_lset(h: Harness) -> None:
    h("RPUSH", "l", "a", "b", "c")
    assert h("LINDEX", "l", -1) == b"c"
    assert h("LINDEX", "l", 3) is None
    assert h.error("LINDEX", "l", "x") == "ERR value is not an integer or out of range"
    assert h("LSET", "l", -3, "A") == b"OK"
    assert h.error("LSET", "l", 3, "x") == "ERR index out of range"
    assert h.error("LSET", "nokey", 0, "x") == "ERR no such key"
    assert h("LRANGE", "l", 0, -1) == [b"A", b"b", b"c"]


@pytest.mark.parametrize(
    ("start", "stop", "expected"),
    [
        (0, -1, "abcde"),
        (1, 2, "bc"),
        (-2, -1, "de"),
        (-100, 1, "ab"),
        (3, 100, "de"),
        (4, 2, ""),
        (5, 10, ""),
        (-1, -2, ""),
        (0, 0, "a"),
    ],
)
def test_lrange_and_ltrim_index_rules(h: Harness, start: int, stop: int, expected: str) -> None:
    h("RPUSH", "l", *"abcde")
    assert h("LRANGE", "l", start, stop) == [ch.encode() for ch in expected]
    assert h("LTRIM", "l", start, stop) == b"OK"
    assert h("LRANGE", "l", 0, -1) == [ch.encode() for ch in expected]
    assert exists(h, "l") == bool(expected)


def test_lrem_directions(h: Harness) -> None:
    h("RPUSH", "l", *"axbxcx")
    assert h("LREM", "l", -2, "x") == 2
    assert h("LRANGE", "l", 0, -1) == [b"a", b"x", b"b", b"c"]
    assert h("LREM", "l", 1, "x") == 1
    assert h("LREM", "l", 0, "a") == 1
    assert h("LREM", "l", 0, "zz") == 0
    assert h("LREM", "l", 0, "b") == 1
    assert h("LREM", "l", 0, "c") == 1
    assert not exists(h, "l")
    assert h("LREM", "l", 0, "c") == 0


def test_linsert(h: Harness) -> None:
    assert h("LINSERT", "l", "BEFORE", "a", "x") == 0
    h("RPUSH", "l", "a", "b")
    assert h("LINSERT", "l", "before", "b", "x") == 3
    assert h("LINSERT", "l", "AFTER", "b", "y") == 4
    assert h("LINSERT", "l", "AFTER", "zz", "y") == -1
    assert h.error("LINSERT", "l", "MIDDLE", "a", "b") == "ERR syntax error"
    assert h("LRANGE", "l", 0, -1) == [b"a", b"x", b"b", b"y"]


def test_lpos_options(h: Harness) -> None:
    h("RPUSH", "l", *"abcabcab")
    assert h("LPOS", "l", "b") == 1
    assert h("LPOS", "l", "b", "RANK", 2) == 4
    assert h("LPOS", "l", "b", "RANK", -1) == 7
    assert h("LPOS", "l", "b", "COUNT", 0) == [1, 4, 7]
    assert h("LPOS", "l", "b", "COUNT", 2, "RANK", -1) == [7, 4]
    assert h("LPOS", "l", "b", "MAXLEN", 1) is None
    assert h("LPOS", "l", "b", "COUNT", 0, "MAXLEN", 5) == [1, 4]
    assert h("LPOS", "l", "z", "COUNT", 1) == []
    assert h("LPOS", "nokey", "z") is None
    assert h("LPOS", "nokey", "z", "COUNT", 1) == []
    assert h.error("LPOS", "l", "b", "RANK", 0).startswith("ERR RANK can't be zero")
    assert h.error("LPOS", "l", "b", "COUNT", -1) == "ERR COUNT can't be negative"
    assert h.error("LPOS", "l", "b", "MAXLEN", -1) == "ERR MAXLEN can't be negative"
    assert h.error("LPOS", "l", "b", "RANK") == "ERR syntax error"
    assert h.error("LPOS", "l", "b", "FOO", 1) == "ERR syntax error"


def test_lmove_and_rpoplpush(h: Harness) -> None:
    h("RPUSH", "a", "1", "2", "3")
    assert h("LMOVE", "a", "b", "LEFT", "RIGHT") == b"1"
    assert h("RPOPLPUSH", "a", "b") == b"3"
    assert h("LRANGE", "b", 0, -1) == [b"3", b"1"]
    assert h("LMOVE", "b", "b", "LEFT", "RIGHT") == b"3"  # rotation
    assert h("LRANGE", "b", 0, -1) == [b"1", b"3"]
    assert h("LMOVE", "a", "a", "RIGHT", "LEFT") == b"2"
    assert h.error("LMOVE", "a", "b", "UP", "LEFT") == "ERR syntax error"
    assert h("RPOPLPUSH", "a", "b") == b"2"
    assert h("RPOPLPUSH", "a", "b") is None


def test_lmpop(h: Harness) -> None:
    h("RPUSH", "b", "1", "2", "3")
    assert h("LMPOP", 2, "a", "b", "LEFT") == [b"b", [b"1"]]
    assert h("LMPOP", 1, "b", "RIGHT", "COUNT", 10) == [b"b", [b"3", b"2"]]
    assert h.raw("LMPOP", 1, "b", "LEFT") == b"*-1\r\n"
    assert h.error("LMPOP", 0, "b", "LEFT") == "ERR numkeys should be greater than 0"
    assert h.error("LMPOP", 3, "b", "LEFT") == "ERR syntax error"
    assert h.error("LMPOP", 1, "b", "LEFT", "COUNT", 0) == "ERR count should be greater than 0"
    assert h.error("LMPOP", 1, "b", "LEFT", "COUNT") == "ERR syntax error"
    assert h.error("LMPOP", 1, "b", "SIDEWAYS") == "ERR syntax error"


def test_blocking_pop_serves_immediately_when_data_exists(h: Harness) -> None:
    h("RPUSH", "b", "x", "y")
    assert h("BLPOP", "a", "b", 0) == [b"b", b"x"]
    assert h("BRPOP", "a", "b", 0) == [b"b", b"y"]
    assert h.error("BLPOP", "a", -1) == "ERR timeout is negative"
    assert h.error("BLPOP", "a", "soon") == "ERR timeout is not a float or out of range"


def test_blocked_pop_is_served_by_a_later_push(h: Harness) -> None:
    other = h.client_harness()
    assert h.raw("BRPOP", "q", "1.5") == b""
    assert other("LPUSH", "q", "a", "b") == 2
    assert h.client.out == [b"*2\r\n$1\r\nq\r\n$1\r\na\r\n"]
    assert other("LRANGE", "q", 0, -1) == [b"b"]


def test_blocked_move_and_mpop(h: Harness) -> None:
    c2, c3 = h.client_harness(), h.client_harness()
    assert h.raw("BLMOVE", "src", "dst", "RIGHT", "LEFT", 0) == b""
    assert c2.raw("BLMPOP", 0, 2, "x", "src", "LEFT", "COUNT", 2) == b""
    c3("RPUSH", "src", "1", "2", "3")
    assert h.client.out == [b"$1\r\n3\r\n"]
    assert c2.client.out == [b"*2\r\n$3\r\nsrc\r\n*2\r\n$1\r\n1\r\n$1\r\n2\r\n"]
    assert c3("LRANGE", "dst", 0, -1) == [b"3"]
    assert not exists(h, "src")


def test_blocking_timeout_replies(h: Harness) -> None:
    for args in (
        ("BLPOP", "k", "0.5"),
        ("BLMOVE", "k", "d", "LEFT", "LEFT", "0.5"),
        ("BLMPOP", "0.5", 1, "k", "LEFT"),
    ):
        h.client.out.clear()
        assert h.raw(*args) == b""
        h.advance(500)
        h.engine.expire_blocked()
        assert h.client.out == [b"*-1\r\n"]


def test_blocking_commands_do_not_block_when_blocking_is_off(h: Harness) -> None:
    h.engine.no_blocking += 1  # as inside MULTI/EXEC
    assert h.raw("BLPOP", "k", 0) == b"*-1\r\n"
    assert h.raw("BLMOVE", "k", "d", "LEFT", "LEFT", 0) == b"$-1\r\n"
    assert h.raw("BRPOPLPUSH", "k", "d", 0) == b"$-1\r\n"
    assert h.raw("BLMPOP", 0, 1, "k", "LEFT") == b"*-1\r\n"
