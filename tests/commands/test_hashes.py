"""Hash commands through the engine (no sockets). Every expectation here was checked against
redis-server 7.0.15: `SLOTD_VERIFY_PORT=<port> pytest tests/commands/test_hashes.py` runs
the same tests against a real server (see tests/commands/realharness.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.commands.realharness import engine_only, harness, restoring
from tests.support import Harness

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
NOT_INTEGER = "ERR value is not an integer or out of range"
NOT_FLOAT = "ERR value is not a valid float"
LONG_RANGE = (
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
)


@pytest.fixture
def h() -> Iterator[Any]:
    with harness() as made:
        yield made


def enc(h: Any, key: str) -> bytes:
    return h("OBJECT", "ENCODING", key)  # type: ignore[no-any-return]


# ==== writes =================================================================================
def test_hset_counts_new_fields(h: Any) -> None:
    assert h("HSET", "h", "a", "1", "b", "2") == 2
    assert h("HSET", "h", "a", "10", "c", "3", "c", "4") == 1
    assert h("HGETALL", "h") == [b"a", b"10", b"b", b"2", b"c", b"4"]
    assert h("TYPE", "h") == b"hash"


def test_hmset(h: Any) -> None:
    assert h("HMSET", "h", "a", "1", "b", "2") == b"OK"
    assert h("HMSET", "h", "a", "3") == b"OK"
    assert h("HMGET", "h", "a", "b") == [b"3", b"2"]


def test_hset_arity(h: Any) -> None:
    assert h.error("HSET", "h", "a") == "ERR wrong number of arguments for 'hset' command"
    assert h.error("HSET", "h", "a", "1", "b") == "ERR wrong number of arguments for 'hset' command"
    assert h.error("HMSET", "h", "a", "1", "b") == (
        "ERR wrong number of arguments for 'hmset' command"
    )
    assert h("EXISTS", "h") == 0


def test_hsetnx(h: Any) -> None:
    assert h("HSETNX", "h", "a", "1") == 1
    assert h("HSETNX", "h", "a", "2") == 0
    assert h("HSETNX", "h", "b", "3") == 1
    assert h("HGETALL", "h") == [b"a", b"1", b"b", b"3"]


def test_hdel(h: Any) -> None:
    h("HSET", "h", "a", "1", "b", "2", "c", "3")
    assert h("HDEL", "h", "a", "x", "a") == 1
    assert h("HDEL", "nokey", "a") == 0
    assert h("HDEL", "h", "b", "c") == 2
    assert h("EXISTS", "h") == 0


def test_wrongtype_everywhere(h: Any) -> None:
    h("SET", "str", "x")
    for args in (
        ("HSET", "str", "a", "1"),
        ("HMSET", "str", "a", "1"),
        ("HSETNX", "str", "a", "1"),
        ("HGET", "str", "a"),
        ("HMGET", "str", "a"),
        ("HDEL", "str", "a"),
        ("HLEN", "str"),
        ("HSTRLEN", "str", "a"),
        ("HEXISTS", "str", "a"),
        ("HKEYS", "str"),
        ("HVALS", "str"),
        ("HGETALL", "str"),
        ("HINCRBY", "str", "a", 1),
        ("HINCRBYFLOAT", "str", "a", 1),
        ("HRANDFIELD", "str"),
        ("HRANDFIELD", "str", 0),
        ("HRANDFIELD", "str", 1, "WITHVALUES"),
        ("HSCAN", "str", 0),
    ):
        assert h.error(*args) == WRONGTYPE, args
    # Argument errors come before the type check.
    assert h.error("HINCRBY", "str", "a", "x") == NOT_INTEGER
    assert h.error("HINCRBYFLOAT", "str", "a", "x") == NOT_FLOAT
    assert h.error("HRANDFIELD", "str", "x") == NOT_INTEGER
    assert h.error("HRANDFIELD", "str", 1, "BOGUS") == "ERR syntax error"


# ==== reads ==================================================================================
def test_reads(h: Any) -> None:
    h("HSET", "h", "a", "hello", "b", "")
    assert h("HGET", "h", "a") == b"hello"
    assert h("HGET", "h", "x") is None
    assert h("HGET", "nokey", "a") is None
    assert h("HMGET", "h", "a", "x", "b") == [b"hello", None, b""]
    assert h("HMGET", "nokey", "a", "b") == [None, None]
    assert h("HLEN", "h") == 2
    assert h("HLEN", "nokey") == 0
    assert h("HSTRLEN", "h", "a") == 5
    assert h("HSTRLEN", "h", "b") == 0
    assert h("HSTRLEN", "h", "x") == 0
    assert h("HSTRLEN", "nokey", "a") == 0
    assert h("HEXISTS", "h", "b") == 1
    assert h("HEXISTS", "h", "x") == 0
    assert h("HEXISTS", "nokey", "a") == 0


def test_listpack_order_is_insertion_order(h: Any) -> None:
    h("HSET", "h", "z", "1", "a", "2", "m", "3")
    h("HSET", "h", "a", "20")  # an update stays in place
    h("HDEL", "h", "z")
    h("HSET", "h", "z", "10")  # a re-added field goes to the end
    assert h("HKEYS", "h") == [b"a", b"m", b"z"]
    assert h("HVALS", "h") == [b"20", b"3", b"10"]
    assert h("HGETALL", "h") == [b"a", b"20", b"m", b"3", b"z", b"10"]
    assert h("HKEYS", "nokey") == []
    assert h("HVALS", "nokey") == []
    assert h("HGETALL", "nokey") == []


def test_reply_shapes() -> None:
    with harness() as h2:
        h3 = h2.client_harness(3)
        h2("HSET", "h", "a", "1", "b", "2")
        assert h3.raw("HGETALL", "h") == b"%2\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n"
        assert h2.raw("HGETALL", "h") == b"*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n"
        assert h3.raw("HGETALL", "nokey") == b"%0\r\n"
        assert h2.raw("HGETALL", "nokey") == b"*0\r\n"
        assert h3.raw("HKEYS", "nokey") == b"*0\r\n"
        assert h3.raw("HMGET", "h", "a", "x") == b"*2\r\n$1\r\n1\r\n_\r\n"
        assert h2.raw("HMGET", "h", "a", "x") == b"*2\r\n$1\r\n1\r\n$-1\r\n"
        assert h3.raw("HGET", "h", "x") == b"_\r\n"
        assert h3.raw("HINCRBYFLOAT", "h", "a", "1.5") == b"$3\r\n2.5\r\n"
        assert h3.raw("HSCAN", "h", 0) == (
            b"*2\r\n$1\r\n0\r\n*4\r\n$1\r\na\r\n$3\r\n2.5\r\n$1\r\nb\r\n$1\r\n2\r\n"
        )


# ==== counters ===============================================================================
def test_hincrby(h: Any) -> None:
    assert h("HINCRBY", "h", "n", 5) == 5
    assert h("HINCRBY", "h", "n", -7) == -2
    assert h("HGET", "h", "n") == b"-2"
    h("HSET", "h", "max", "9223372036854775807", "min", "-9223372036854775808")
    assert h.error("HINCRBY", "h", "max", 1) == "ERR increment or decrement would overflow"
    assert h.error("HINCRBY", "h", "min", -1) == "ERR increment or decrement would overflow"
    assert h("HINCRBY", "h", "min", 0) == -9223372036854775808
    assert h("HINCRBY", "h", "new", "-9223372036854775808") == -9223372036854775808


@pytest.mark.parametrize("stored", ["x", "1.5", "01", " 1", "1 ", "+1", "", "9223372036854775808"])
def test_hincrby_needs_an_integer_value(h: Any, stored: str) -> None:
    h("HSET", "h", "f", stored)
    assert h.error("HINCRBY", "h", "f", 1) == "ERR hash value is not an integer"
    assert h("HGET", "h", "f") == stored.encode()


@pytest.mark.parametrize("increment", ["x", "1.0", "1e3", " 1", "9223372036854775808", ""])
def test_hincrby_needs_an_integer_increment(h: Any, increment: str) -> None:
    assert h.error("HINCRBY", "h", "f", increment) == NOT_INTEGER
    assert h("EXISTS", "h") == 0


@pytest.mark.parametrize(
    ("stored", "increment", "result"),
    [
        ("10.5", "0.1", b"10.6"),
        ("1", "1.5", b"2.5"),
        ("5", "3", b"8"),
        ("-1.5", "1.5", b"0"),
        ("1.0", "1", b"2"),
        ("1e5", "1", b"100001"),
        ("0", "0x10", b"16"),
        ("0", "0x1p-2", b"0.25"),
        ("0", ".5", b"0.5"),
        ("0", "5.", b"5"),
        ("-0.0", "0", b"0"),
        ("0", "1e-4940", b"0"),
        ("1e30", "1e30", b"2000000000000000000049392123904"),
    ],
)
def test_hincrbyfloat_arithmetic_and_format(
    h: Any, stored: str, increment: str, result: bytes
) -> None:
    h("HSET", "h", "f", stored)
    assert h("HINCRBYFLOAT", "h", "f", increment) == result
    assert h("HGET", "h", "f") == result


def test_hincrbyfloat_huge_values_print_every_digit(h: Any) -> None:
    h("HINCRBYFLOAT", "h", "x", "1e308")
    assert h("HINCRBYFLOAT", "h", "x", "1e308") == (
        b"1999999999999999999933717593116912913211201996948311344155940959898434697376761237"
        b"4420025384377707864089349445010802644630426949918792116719484162886039283753591820"
        b"0039206381557326219209014213335878306791577877829121087126122536729803237260434173"
        b"178506889763247582601711514636284849020905456510092687857156096"
    )


def test_hincrbyfloat_errors(h: Any) -> None:
    assert h.error("HINCRBYFLOAT", "h", "f", "nan") == NOT_FLOAT
    assert h.error("HINCRBYFLOAT", "h", "f", "inf") == "ERR value is NaN or Infinity"
    assert h.error("HINCRBYFLOAT", "h", "f", "-Infinity") == "ERR value is NaN or Infinity"
    for bad in ("1.5e", "", " 1", "1 ", "abc", "1,5"):
        assert h.error("HINCRBYFLOAT", "h", "f", bad) == NOT_FLOAT
    assert h("EXISTS", "h") == 0
    h("HSET", "h", "s", "abc", "i", "inf", "big", "1e4932", "sp", " 1")
    assert h.error("HINCRBYFLOAT", "h", "s", 1) == "ERR hash value is not a float"
    assert h.error("HINCRBYFLOAT", "h", "sp", 1) == "ERR hash value is not a float"
    assert h.error("HINCRBYFLOAT", "h", "i", 1) == "ERR increment would produce NaN or Infinity"
    assert h.error("HINCRBYFLOAT", "h", "big", "1e4932") == (
        "ERR increment would produce NaN or Infinity"
    )
    assert h("HGET", "h", "big") == b"1e4932"


# ==== encodings ==============================================================================
def test_listpack_until_a_long_field_or_value(h: Any) -> None:
    h("HSET", "h", "f", "v" * 64, "g" * 64, "1")
    assert enc(h, "h") == b"listpack"
    h("HSET", "h", "x", "v" * 65)
    assert enc(h, "h") == b"hashtable"
    h("HDEL", "h", "x")
    assert enc(h, "h") == b"hashtable"  # Redis never converts back
    h("HSET", "k", "f" * 65, "1")
    assert enc(h, "k") == b"hashtable"


def test_conversions_happen_only_on_writes(h: Any) -> None:
    h("HSET", "nx", "a", "1")
    h("HSETNX", "nx", "a", "v" * 100)  # nothing written
    assert enc(h, "nx") == b"listpack"
    h("HINCRBY", "long", "f" * 70, 1)
    assert enc(h, "long") == b"hashtable"
    h("HINCRBYFLOAT", "longf", "f" * 70, "1.5")
    assert enc(h, "longf") == b"hashtable"
    h("HSET", "value", "b", "1e300")
    assert enc(h, "value") == b"listpack"
    h("HINCRBYFLOAT", "value", "b", 1)  # the result has 301 digits
    assert enc(h, "value") == b"hashtable"


def test_default_limits(h: Any) -> None:
    assert h("CONFIG", "GET", "hash-max-listpack-*") in (
        [b"hash-max-listpack-entries", b"512", b"hash-max-listpack-value", b"64"],
        [b"hash-max-listpack-value", b"64", b"hash-max-listpack-entries", b"512"],
    )
    h("HSET", "h", *(x for i in range(512) for x in (f"f{i}", "v")))
    assert enc(h, "h") == b"listpack"
    h("HSET", "h", "one", "more")
    assert enc(h, "h") == b"hashtable"


def test_entry_limit(h: Any) -> None:
    with restoring(h, "hash-max-listpack-entries"):
        h("CONFIG", "SET", "hash-max-listpack-entries", "2")
        h("HSET", "h", "a", "1", "b", "2")
        assert enc(h, "h") == b"listpack"
        h("HSETNX", "h", "c", "3")
        assert enc(h, "h") == b"hashtable"
        h("HSET", "big", "a", "1", "b", "2", "c", "3")
        assert enc(h, "big") == b"hashtable"
        h("CONFIG", "SET", "hash-max-listpack-entries", "128")
        h("HSET", "u", "a", "1", "b", "2", "c", "3")
        h("CONFIG", "SET", "hash-max-listpack-entries", "1")
        h("HSET", "u", "a", "5")  # even an update checks the (new) limit
        assert enc(h, "u") == b"hashtable"
        h("CONFIG", "SET", "hash-max-listpack-entries", "0")
        h("HSET", "zero", "a", "b")
        assert enc(h, "zero") == b"hashtable"


def test_value_limit(h: Any) -> None:
    with restoring(h, "hash-max-listpack-value"):
        h("CONFIG", "SET", "hash-max-listpack-value", "0")
        h("HSET", "empty", "", "")
        assert enc(h, "empty") == b"listpack"
        h("HSET", "h", "a", "")
        assert enc(h, "h") == b"hashtable"


# ==== HRANDFIELD =============================================================================
def test_hrandfield_without_count(h: Any) -> None:
    assert h("HRANDFIELD", "nokey") is None
    h("HSET", "h", "a", "1", "b", "2")
    for _ in range(10):
        assert h("HRANDFIELD", "h") in (b"a", b"b")


def test_hrandfield_with_count(h: Any) -> None:
    pairs = {f"f{i}".encode(): f"v{i}".encode() for i in range(10)}
    h("HSET", "h", *[x for kv in pairs.items() for x in kv])
    assert h("HRANDFIELD", "h", 0) == []
    assert h("HRANDFIELD", "h", 0, "WITHVALUES") == []
    for count in (1, 4, 9):
        picked = h("HRANDFIELD", "h", count)
        assert len(picked) == count == len(set(picked)) and set(picked) <= set(pairs)
    assert h("HRANDFIELD", "h", 10) == list(pairs)  # the whole hash, in listpack order
    assert h("HRANDFIELD", "h", 100) == list(pairs)
    repeated = h("HRANDFIELD", "h", -30)
    assert len(repeated) == 30 and set(repeated) <= set(pairs)
    flat = h("HRANDFIELD", "h", -7, "withvalues")
    assert len(flat) == 14
    assert all(pairs[f] == v for f, v in zip(flat[::2], flat[1::2], strict=True))
    distinct = h("HRANDFIELD", "h", 3, "WITHVALUES")
    assert len(distinct) == 6 and len(set(distinct[::2])) == 3
    assert all(pairs[f] == v for f, v in zip(distinct[::2], distinct[1::2], strict=True))
    assert h("HRANDFIELD", "h", 10, "WITHVALUES") == [x for kv in pairs.items() for x in kv]
    assert h("HRANDFIELD", "nokey", 3) == []
    assert h("HRANDFIELD", "nokey", -3, "WITHVALUES") == []


def test_hrandfield_errors(h: Any) -> None:
    h("HSET", "h", "a", "1")
    assert h.error("HRANDFIELD", "h", "x") == NOT_INTEGER
    assert h.error("HRANDFIELD", "h", "3.0") == NOT_INTEGER
    assert h.error("HRANDFIELD", "h", "-9223372036854775808") == LONG_RANGE
    assert h.error("HRANDFIELD", "h", "-9223372036854775808", "BOGUS") == LONG_RANGE
    assert h.error("HRANDFIELD", "h", 1, "WITHVALUE") == "ERR syntax error"
    assert h.error("HRANDFIELD", "h", 1, "WITHVALUES", "x") == "ERR syntax error"
    assert h.error("HRANDFIELD", "nokey", 1, "foo") == "ERR syntax error"
    too_many = "-4611686018427387904"  # below -LONG_MAX/2: the reply could not be counted
    assert h.error("HRANDFIELD", "h", too_many, "WITHVALUES") == "ERR value is out of range"
    assert h.error("HRANDFIELD", "nokey", too_many, "WITHVALUES") == "ERR value is out of range"


def test_hrandfield_shapes() -> None:
    with harness() as h2:
        h3 = h2.client_harness(3)
        h2("HSET", "h", "a", "1")
        assert h2.raw("HRANDFIELD", "h", 1, "WITHVALUES") == b"*2\r\n$1\r\na\r\n$1\r\n1\r\n"
        assert h3.raw("HRANDFIELD", "h", 1, "WITHVALUES") == b"*1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"
        assert h3.raw("HRANDFIELD", "h", -2, "WITHVALUES") == (
            b"*2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"
        )
        assert h2.raw("HRANDFIELD", "h", -2) == b"*2\r\n$1\r\na\r\n$1\r\na\r\n"
        assert h3.raw("HRANDFIELD", "h", 5) == b"*1\r\n$1\r\na\r\n"
        assert h3.raw("HRANDFIELD", "nokey", 5) == b"*0\r\n"
        assert h3.raw("HRANDFIELD", "h", 0) == b"*0\r\n"
        assert h3.raw("HRANDFIELD", "nokey") == b"_\r\n"
        assert h2.raw("HRANDFIELD", "nokey") == b"$-1\r\n"


@engine_only
def test_hrandfield_sees_added_and_removed_fields() -> None:
    h = Harness()
    h("HSET", "h", "a", "1", "b", "2")
    assert set(h("HRANDFIELD", "h", -20)) == {b"a", b"b"}
    h("HDEL", "h", "a")
    h("HSET", "h", "c", "3")
    h("HINCRBY", "h", "d", 1)
    assert set(h("HRANDFIELD", "h", -50)) == {b"b", b"c", b"d"}


# ==== HSCAN ==================================================================================
def test_hscan_of_a_listpack_is_one_call(h: Any) -> None:
    h("HSET", "h", "b", "1", "a", "2", "ab", "3")
    assert h("HSCAN", "h", 0) == [b"0", [b"b", b"1", b"a", b"2", b"ab", b"3"]]
    assert h("HSCAN", "h", 999, "COUNT", 1) == [b"0", [b"b", b"1", b"a", b"2", b"ab", b"3"]]
    assert h("HSCAN", "h", 0, "MATCH", "a*") == [b"0", [b"a", b"2", b"ab", b"3"]]
    assert h("HSCAN", "h", 0, "MATCH", "1") == [b"0", []]  # MATCH looks at fields only


def test_hscan_of_a_hashtable_walks_with_a_cursor(h: Any) -> None:
    pairs = {f"f{i}".encode(): f"v{i}".encode() for i in range(600)}
    h("HSET", "h", *[x for kv in pairs.items() for x in kv])
    seen: dict[bytes, bytes] = {}
    cursor, calls = b"0", 0
    while True:
        cursor, flat = h("HSCAN", "h", cursor, "COUNT", 25, "MATCH", "f1*")
        seen.update(zip(flat[::2], flat[1::2], strict=True))
        calls += 1
        if cursor == b"0":
            break
    assert seen == {f: v for f, v in pairs.items() if f.startswith(b"f1")}
    assert calls > 3


def test_hscan_errors(h: Any) -> None:
    h("HSET", "h", "a", "1")
    assert h("HSCAN", "nokey", 0) == [b"0", []]
    assert h.error("HSCAN", "h", "abc") == "ERR invalid cursor"
    assert h.error("HSCAN", "h", 0, "COUNT", 0) == "ERR syntax error"
    assert h.error("HSCAN", "h", 0, "COUNT", "x") == NOT_INTEGER
    assert h.error("HSCAN", "h", 0, "NOVALUES") == "ERR syntax error"


# ==== bookkeeping ============================================================================
def test_in_place_changes_keep_the_ttl(h: Any) -> None:
    h("HSET", "h", "a", "1", "b", "2")
    h("EXPIRE", "h", 100)
    h("HSET", "h", "c", "3")
    h("HDEL", "h", "a")
    h("HINCRBY", "h", "n", 1)
    h("HINCRBYFLOAT", "h", "n", "1.5")
    h("HSETNX", "h", "z", "1")
    assert h("TTL", "h") == 100


@engine_only
def test_changes_count_as_dirty_and_touch_watchers() -> None:
    h = Harness()
    engine = h.engine
    watcher = h.client_harness()

    def dirty_after(*args: Any) -> int:
        before = engine.dirty
        h(*args)
        return engine.dirty - before

    assert dirty_after("HSET", "h", "a", "1", "b", "2", "a", "3") == 3
    engine.watch(watcher.client, b"h")
    assert dirty_after("HSET", "h", "a", "4") == 1
    assert watcher.client.watch_dirty
    assert dirty_after("HSETNX", "h", "a", "5") == 0
    assert dirty_after("HSETNX", "h", "c", "5") == 1
    assert dirty_after("HDEL", "h", "a", "x") == 1
    assert dirty_after("HINCRBY", "h", "n", 2) == 1
    assert dirty_after("HINCRBYFLOAT", "h", "n", 2) == 1
    assert dirty_after("HGETALL", "h") == 0


@engine_only
def test_one_field_hset_of_an_existing_hash() -> None:
    """HSET of one field on an existing hash (its inlined path): new and updated fields,
    dirty, random picks refreshed, the thresholds read at each write, and a hash whose TTL
    passed treated as missing."""
    h = Harness()
    engine = h.engine
    h("HSET", "h", "a", "1")
    before = engine.dirty
    assert h.raw("HSET", "h", "a", "2") == b":0\r\n"
    assert h.raw("HSET", "h", "b", "3") == b":1\r\n"
    assert engine.dirty - before == 2
    assert set(h("HRANDFIELD", "h", -50)) == {b"a", b"b"}  # picks by index from a field list
    h("HSET", "h", "c", "4")
    assert set(h("HRANDFIELD", "h", -50)) == {b"a", b"b", b"c"}
    assert h("HGETALL", "h") == [b"a", b"2", b"b", b"3", b"c", b"4"]
    assert h("OBJECT", "ENCODING", "h") == b"listpack"
    h("CONFIG", "SET", "hash-max-listpack-entries", "3")
    h("HSET", "h", "a", "5")  # an update: still 3 fields
    assert h("OBJECT", "ENCODING", "h") == b"listpack"
    h("CONFIG", "SET", "hash-max-listpack-entries", "2")
    h("HSET", "h", "a", "6")  # the limit is read at the write, as Redis does
    assert h("OBJECT", "ENCODING", "h") == b"hashtable"
    h("CONFIG", "SET", "hash-max-listpack-entries", "128")
    h("HSET", "v", "f", "1")
    h("HSET", "v", "f", "x" * 65)
    assert h("OBJECT", "ENCODING", "v") == b"hashtable"
    h("HSET", "w", "f", "1")
    h("HSET", "w", "g" * 65, "1")
    assert h("OBJECT", "ENCODING", "w") == b"hashtable"
    h("PEXPIRE", "h", 10)
    h.advance(20)
    assert h.raw("HSET", "h", "a", "7") == b":1\r\n"
    assert h("HGETALL", "h") == [b"a", b"7"]


@engine_only
def test_copy_keeps_the_encoding_and_is_independent() -> None:
    h = Harness()
    h("HSET", "h", "a", "1", "x", "v" * 100)
    h("HDEL", "h", "x")
    assert h("COPY", "h", "c") == 1
    assert h("OBJECT", "ENCODING", "c") == b"hashtable"
    h("HSET", "c", "b", "2")
    assert h("HGETALL", "h") == [b"a", b"1"]
