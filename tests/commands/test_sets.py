"""Set commands through the engine (no sockets). Every expectation here was checked against
redis-server 7.0.15: `SLOTD_VERIFY_PORT=<port> pytest tests/commands/test_sets.py` runs the
same tests against a real server (see tests/commands/realharness.py)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from tests.commands.realharness import engine_only, harness, restoring
from tests.support import Harness

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
NOT_INTEGER = "ERR value is not an integer or out of range"
NOT_POSITIVE = "ERR value is out of range, must be positive"
LONG_RANGE = (
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
)


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


def members(h: Any, key: str) -> list[bytes]:
    return sorted(h("SMEMBERS", key))


def nums(*values: int) -> list[bytes]:
    return [b"%d" % v for v in values]


# ==== SADD / SREM / SCARD / SISMEMBER / SMISMEMBER ==========================================
def test_sadd_counts_new_members_only(h: Any) -> None:
    assert h("SADD", "s", "a", "b", "a") == 2
    assert h("SADD", "s", "b", "c") == 1
    assert h("SCARD", "s") == 3
    assert h("TYPE", "s") == b"set"


def test_srem_counts_and_deletes_the_emptied_key(h: Any) -> None:
    h("SADD", "s", "a", "b", "c")
    assert h("SREM", "s", "a", "x", "a") == 1
    assert h("SREM", "nokey", "a") == 0
    assert h("SREM", "s", "b", "c", "d") == 2
    assert h("EXISTS", "s") == 0


def test_membership(h: Any) -> None:
    h("SADD", "s", "a", "1")
    assert h("SISMEMBER", "s", "a") == 1
    assert h("SISMEMBER", "s", "b") == 0
    assert h("SISMEMBER", "nokey", "a") == 0
    assert h("SISMEMBER", "s", "01") == 0
    assert h("SMISMEMBER", "s", "a", "b", "1") == [1, 0, 1]
    assert h("SMISMEMBER", "nokey", "a", "b") == [0, 0]
    assert h("SCARD", "nokey") == 0


def test_wrongtype_everywhere(h: Any) -> None:
    h("SET", "str", "x")
    h("SADD", "s", "a")
    for args in (
        ("SADD", "str", "a"),
        ("SREM", "str", "a"),
        ("SCARD", "str"),
        ("SISMEMBER", "str", "a"),
        ("SMISMEMBER", "str", "a"),
        ("SMEMBERS", "str"),
        ("SRANDMEMBER", "str"),
        ("SRANDMEMBER", "str", 0),
        ("SPOP", "str"),
        ("SPOP", "str", 0),
        ("SMOVE", "str", "s", "a"),
        ("SMOVE", "s", "str", "a"),
        ("SINTER", "nokey", "str"),
        ("SINTERCARD", 2, "nokey", "str"),
        ("SINTERSTORE", "d", "nokey", "str"),
        ("SUNION", "s", "str"),
        ("SUNIONSTORE", "d", "str"),
        ("SDIFF", "nokey", "str"),
        ("SDIFFSTORE", "d", "s", "str"),
        ("SSCAN", "str", 0),
    ):
        assert h.error(*args) == WRONGTYPE, args
    assert h("SMOVE", "nokey", "str", "a") == 0  # a missing source wins over the type check
    assert members(h, "s") == [b"a"]


def test_arity(h: Any) -> None:
    assert h.error("SADD", "s") == "ERR wrong number of arguments for 'sadd' command"
    assert h.error("SINTERCARD", 1) == "ERR wrong number of arguments for 'sintercard' command"
    assert h.error("SMOVE", "a", "b") == "ERR wrong number of arguments for 'smove' command"
    assert h.error("SPOP", "s", 1, 2) == "ERR syntax error"
    assert h.error("SRANDMEMBER", "s", 1, 2) == "ERR syntax error"


# ==== encodings ==============================================================================
def test_intset_until_a_non_integer_arrives(h: Any) -> None:
    h("SADD", "s", "1", "-5", "9223372036854775807", "-9223372036854775808")
    assert enc(h, "s") == b"intset"
    h("SADD", "s", "a")
    assert enc(h, "s") == b"hashtable"
    h("SREM", "s", "a")
    assert enc(h, "s") == b"hashtable"  # Redis never converts back


@pytest.mark.parametrize(
    "member",
    ["01", "-0", "+1", " 1", "1 ", "1.0", "9223372036854775808", "-9223372036854775809", "", "0x1"],
)
def test_only_canonical_int64_text_fits_an_intset(h: Any, member: str) -> None:
    h("SADD", "s", member)
    assert enc(h, "s") == b"hashtable"


def test_default_intset_limit(h: Any) -> None:
    assert h("CONFIG", "GET", "set-max-intset-entries") == [b"set-max-intset-entries", b"512"]
    h("SADD", "s", *range(512))
    assert enc(h, "s") == b"intset"
    h("SADD", "s", 512)
    assert enc(h, "s") == b"hashtable"


def test_intset_entry_limit(h: Any) -> None:
    with restoring(h, "set-max-intset-entries"):
        h("CONFIG", "SET", "set-max-intset-entries", "3")
        h("SADD", "s", 1, 2, 3)
        assert enc(h, "s") == b"intset"
        h("SADD", "s", 3)
        assert enc(h, "s") == b"intset"
        h("SADD", "s", 4)
        assert enc(h, "s") == b"hashtable"
        h("CONFIG", "SET", "set-max-intset-entries", "0")
        h("SADD", "t", 1)
        assert enc(h, "t") == b"hashtable"
        # A lower limit only matters when the next member is added.
        h("CONFIG", "SET", "set-max-intset-entries", "3")
        h("SADD", "u", 1, 2, 3)
        h("CONFIG", "SET", "set-max-intset-entries", "2")
        h("SADD", "u", 1)
        assert enc(h, "u") == b"intset"
        h("SREM", "u", 3, 2)
        h("SADD", "u", 5)
        assert enc(h, "u") == b"intset"
        h("SADD", "u", 6)
        assert enc(h, "u") == b"hashtable"


def test_intset_replies_in_numeric_order(h: Any) -> None:
    h("SADD", "s", 10, -3, 2, 100, 0)
    assert h("SMEMBERS", "s") == nums(-3, 0, 2, 10, 100)
    assert h("SRANDMEMBER", "s", 10) == nums(-3, 0, 2, 10, 100)
    assert h("SSCAN", "s", 0) == [b"0", nums(-3, 0, 2, 10, 100)]
    assert h("SINTER", "s") == nums(-3, 0, 2, 10, 100)
    assert h("SUNION", "s", "nokey") == nums(-3, 0, 2, 10, 100)


def test_smembers_shapes() -> None:
    with harness() as h2:
        h3 = h2.client_harness(3)
        h2("SADD", "s", 2, 1)
        assert h2.raw("SMEMBERS", "s") == b"*2\r\n$1\r\n1\r\n$1\r\n2\r\n"
        assert h3.raw("SMEMBERS", "s") == b"~2\r\n$1\r\n1\r\n$1\r\n2\r\n"
        assert h2.raw("SMEMBERS", "nokey") == b"*0\r\n"
        assert h3.raw("SMEMBERS", "nokey") == b"~0\r\n"


# ==== SRANDMEMBER ============================================================================
def test_srandmember_without_count(h: Any) -> None:
    assert h("SRANDMEMBER", "nokey") is None
    h("SADD", "s", "a", "b", "c")
    for _ in range(20):
        assert h("SRANDMEMBER", "s") in (b"a", b"b", b"c")
    assert h("SCARD", "s") == 3


def test_srandmember_with_count(h: Any) -> None:
    h("SADD", "s", *"abcdefghij")
    assert h("SRANDMEMBER", "s", 0) == []
    for count in (1, 3, 9):
        picked = h("SRANDMEMBER", "s", count)
        assert len(picked) == count == len(set(picked))
        assert set(picked) <= set(members(h, "s"))
    assert sorted(h("SRANDMEMBER", "s", 10)) == members(h, "s")
    assert sorted(h("SRANDMEMBER", "s", 1000)) == members(h, "s")
    repeated = h("SRANDMEMBER", "s", -50)
    assert len(repeated) == 50 and set(repeated) <= set(members(h, "s"))
    h("SADD", "one", "x")
    assert h("SRANDMEMBER", "one", -3) == [b"x", b"x", b"x"]
    assert h("SRANDMEMBER", "nokey", 5) == []
    assert h("SRANDMEMBER", "nokey", -5) == []


def test_srandmember_count_errors(h: Any) -> None:
    h("SADD", "s", "a")
    assert h.error("SRANDMEMBER", "s", "x") == NOT_INTEGER
    assert h.error("SRANDMEMBER", "s", "1.5") == NOT_INTEGER
    assert h.error("SRANDMEMBER", "s", "-9223372036854775808") == LONG_RANGE
    assert h.error("SRANDMEMBER", "nokey", "-9223372036854775808") == LONG_RANGE


def test_srandmember_shapes() -> None:
    with harness() as h2:
        h3 = h2.client_harness(3)
        h2("SADD", "s", 1)
        assert h3.raw("SRANDMEMBER", "s", 1) == b"*1\r\n$1\r\n1\r\n"
        assert h3.raw("SRANDMEMBER", "s", -2) == b"*2\r\n$1\r\n1\r\n$1\r\n1\r\n"
        assert h3.raw("SRANDMEMBER", "nokey", 2) == b"*0\r\n"
        assert h3.raw("SRANDMEMBER", "s", 0) == b"*0\r\n"
        assert h3.raw("SRANDMEMBER", "nokey") == b"_\r\n"
        assert h2.raw("SRANDMEMBER", "nokey") == b"$-1\r\n"


# ==== SPOP ===================================================================================
def test_spop_single(h: Any) -> None:
    assert h("SPOP", "nokey") is None
    h("SADD", "s", "a", "b")
    first = h("SPOP", "s")
    second = h("SPOP", "s")
    assert sorted([first, second]) == [b"a", b"b"]
    assert h("EXISTS", "s") == 0


def test_spop_with_count(h: Any) -> None:
    h("SADD", "s", *range(20))
    popped = h("SPOP", "s", 5)
    assert len(set(popped)) == 5
    left = members(h, "s")
    assert len(left) == 15 and not set(popped) & set(left)
    assert sorted(popped + left, key=int) == nums(*range(20))
    assert h("SPOP", "s", 0) == []
    rest = h("SPOP", "s", 100)
    assert sorted(rest) == left
    assert h("EXISTS", "s") == 0
    assert h("SPOP", "nokey", 3) == []


def test_spop_count_errors(h: Any) -> None:
    h("SADD", "s", "a")
    for bad in ("-1", "x", "1.0", "-9223372036854775808", "9223372036854775808"):
        assert h.error("SPOP", "s", bad) == NOT_POSITIVE
    assert h.error("SPOP", "nokey", "-1") == NOT_POSITIVE
    assert h("SCARD", "s") == 1


def test_spop_whole_set_replies_like_sunion(h: Any) -> None:
    h("SADD", "s", 3, 1, 2, "a")
    h("SREM", "s", "a")  # a hashtable of integers: the reply is built as an intset
    assert h("SPOP", "s", 3) == nums(1, 2, 3)


def test_spop_shapes() -> None:
    with harness() as h2:
        h3 = h2.client_harness(3)
        h2("SADD", "s", 1, 2)
        assert h3.raw("SPOP", "nokey", 2) == b"~0\r\n"
        assert h2.raw("SPOP", "nokey", 2) == b"*0\r\n"
        assert h3.raw("SPOP", "s", 0) == b"~0\r\n"
        assert h3.raw("SPOP", "nokey") == b"_\r\n"
        assert h3.raw("SPOP", "s", 1)[:4] == b"~1\r\n"
        assert h3.raw("SPOP", "s", 5) in (b"~1\r\n$1\r\n1\r\n", b"~1\r\n$1\r\n2\r\n")


def test_spop_rebuilds_a_nearly_emptied_set(h: Any) -> None:
    h("SADD", "s", *range(600))
    assert enc(h, "s") == b"hashtable"
    h("SPOP", "s", 10)  # few popped: Redis pops one by one, the encoding stays
    assert enc(h, "s") == b"hashtable"
    h("SPOP", "s", 585)  # 5 left, fewer than 585/5: Redis builds the rest anew
    assert enc(h, "s") == b"intset"
    assert h("SCARD", "s") == 5


def test_spop_keeps_the_ttl(h: Any) -> None:
    h("SADD", "s", *range(10))
    h("EXPIRE", "s", 100)
    h("SPOP", "s")
    h("SPOP", "s", 8)
    assert h("TTL", "s") == 100


@engine_only
def test_spop_and_srandmember_stay_consistent_under_churn() -> None:
    h = Harness()
    h("SADD", "s", *range(2000))
    expected = set(nums(*range(2000)))
    for step in range(60):
        popped = h("SPOP", "s", 37)
        assert len(set(popped)) == 37 and set(popped) <= expected
        expected -= set(popped)
        new = nums(*range(2000 + step * 10, 2010 + step * 10))
        h("SADD", "s", *new)
        expected |= set(new)
        gone = sorted(expected)[:3]
        h("SREM", "s", *gone)
        expected -= set(gone)
        single = h("SPOP", "s")
        expected.discard(single)
        assert set(h("SRANDMEMBER", "s", 25)) <= expected
    assert set(h("SMEMBERS", "s")) == expected
    assert h("SCARD", "s") == len(expected)


@engine_only
def test_random_picks_come_from_the_engine_seed() -> None:
    def run() -> list[Any]:
        h = Harness()
        h("SADD", "s", *range(100))
        return [h("SPOP", "s", 5), h("SRANDMEMBER", "s", -5), h("SPOP", "s")]

    assert run() == run()


@engine_only
def test_spop_of_most_of_a_big_set() -> None:
    h = Harness()
    h("SADD", "s", *range(100_000))
    popped = h("SPOP", "s", 99_990)
    assert len(set(popped)) == 99_990
    assert h("SCARD", "s") == 10


# ==== SMOVE ==================================================================================
def test_smove(h: Any) -> None:
    h("SADD", "a", "x", "y")
    h("SADD", "b", "z")
    assert h("SMOVE", "a", "b", "x") == 1
    assert members(h, "a") == [b"y"] and members(h, "b") == [b"x", b"z"]
    assert h("SMOVE", "a", "b", "nope") == 0
    assert h("SMOVE", "nokey", "b", "x") == 0
    h("SADD", "b", "y")
    assert h("SMOVE", "a", "b", "y") == 1  # already in the destination: still moved
    assert h("EXISTS", "a") == 0
    assert h("SMOVE", "b", "b", "y") == 1
    assert h("SMOVE", "b", "b", "nope") == 0
    assert h("SMOVE", "b", "new", "y") == 1
    assert members(h, "new") == [b"y"]


def test_smove_creates_the_destination_with_the_member_encoding(h: Any) -> None:
    h("SADD", "a", "1", "x")
    h("SMOVE", "a", "ints", "1")
    assert enc(h, "ints") == b"intset"
    h("SMOVE", "a", "strs", "x")
    assert enc(h, "strs") == b"hashtable"
    h("SADD", "c", "5", "y")
    h("SMOVE", "c", "ints", "y")
    assert enc(h, "ints") == b"hashtable"


# ==== intersections ==========================================================================
def test_sinter(h: Any) -> None:
    h("SADD", "a", "x", "y", "z", "1")
    h("SADD", "b", "y", "z", "w", "1")
    h("SADD", "c", "z", "y", "q")
    assert sorted(h("SINTER", "a", "b")) == [b"1", b"y", b"z"]
    assert sorted(h("SINTER", "a", "b", "c")) == [b"y", b"z"]
    assert sorted(h("SINTER", "a", "a")) == members(h, "a")
    assert h("SINTER", "a", "nokey") == []
    assert h("SINTER", "nokey") == []


def test_sintercard(h: Any) -> None:
    h("SADD", "a", *"abcdef")
    h("SADD", "b", *"bcdefg")
    assert h("SINTERCARD", 2, "a", "b") == 5
    assert h("SINTERCARD", 2, "a", "b", "LIMIT", 3) == 3
    assert h("SINTERCARD", 2, "a", "b", "limit", 0) == 5
    assert h("SINTERCARD", 2, "a", "b", "LIMIT", 100) == 5
    assert h("SINTERCARD", 2, "a", "b", "LIMIT", 1, "LIMIT", 2) == 2
    assert h("SINTERCARD", 1, "a") == 6
    assert h("SINTERCARD", 2, "a", "nokey") == 0
    assert h("SINTERCARD", 1, "nokey", "LIMIT", 5) == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((0, "a"), "ERR numkeys should be greater than 0"),
        ((-1, "a"), "ERR numkeys should be greater than 0"),
        (("x", "a"), "ERR numkeys should be greater than 0"),
        (("9223372036854775808", "a"), "ERR numkeys should be greater than 0"),
        ((3, "a", "b"), "ERR Number of keys can't be greater than number of args"),
        ((1, "a", "LIMIT", -1), "ERR LIMIT can't be negative"),
        ((1, "a", "LIMIT", "x"), "ERR LIMIT can't be negative"),
        ((1, "a", "LIMIT"), "ERR syntax error"),
        ((1, "a", "FOO", 1), "ERR syntax error"),
        ((1, "a", "b"), "ERR syntax error"),
    ],
)
def test_sintercard_errors(h: Any, args: tuple[Any, ...], message: str) -> None:
    assert h.error("SINTERCARD", *args) == message


def test_sinterstore(h: Any) -> None:
    h("SADD", "a", 1, 2, 3, "x")
    h("SADD", "b", 2, 3, 4, "x")
    assert h("SINTERSTORE", "d", "a", "b") == 3
    assert members(h, "d") == [b"2", b"3", b"x"]
    assert enc(h, "d") == b"hashtable"
    h("SREM", "b", "x")
    assert h("SINTERSTORE", "d", "a", "b") == 2
    assert enc(h, "d") == b"intset"  # built anew from the result
    h("SET", "str", "v")
    h("EXPIRE", "str", 100)
    assert h("SINTERSTORE", "str", "a", "b") == 2  # the destination's type does not matter
    assert h("TTL", "str") == -1
    assert h("SINTERSTORE", "d", "a", "nokey") == 0
    assert h("EXISTS", "d") == 0
    assert h("SINTERSTORE", "d", "a", "nokey") == 0


# ==== unions and differences =================================================================
def test_sunion_and_store(h: Any) -> None:
    h("SADD", "a", "x", "y")
    h("SADD", "b", "y", "z")
    assert sorted(h("SUNION", "a", "b", "nokey")) == [b"x", b"y", b"z"]
    assert h("SUNION", "nokey") == []
    assert h("SUNIONSTORE", "d", "a", "nokey", "b") == 3
    assert members(h, "d") == [b"x", b"y", b"z"]
    assert h("SUNIONSTORE", "d", "nokey") == 0
    assert h("EXISTS", "d") == 0
    h("SADD", "i", 3, 1)
    h("SADD", "j", 2)
    assert h("SUNIONSTORE", "d", "i", "j") == 3
    assert enc(h, "d") == b"intset"
    assert h("SMEMBERS", "d") == nums(1, 2, 3)


def test_sdiff_and_store(h: Any) -> None:
    h("SADD", "a", "x", "y", "z", "w")
    h("SADD", "b", "y")
    h("SADD", "c", "z", "q")
    assert sorted(h("SDIFF", "a", "b", "c")) == [b"w", b"x"]
    assert sorted(h("SDIFF", "a", "nokey")) == [b"w", b"x", b"y", b"z"]
    assert h("SDIFF", "nokey", "a") == []
    assert h("SDIFF", "a", "b", "a") == []
    assert h("SDIFFSTORE", "d", "a", "b", "c") == 2
    assert members(h, "d") == [b"w", b"x"]
    assert h("SDIFFSTORE", "d", "a", "a") == 0
    assert h("EXISTS", "d") == 0


def test_sdiffstore_encoding_depends_on_redis_algorithm(h: Any) -> None:
    with restoring(h, "set-max-intset-entries"):
        h("CONFIG", "SET", "set-max-intset-entries", "4")
        h("SADD", "big", *range(1, 7))
        h("SADD", "one", 1)
        h("SADD", "two", 2)
        h("SADD", "three", 3)
        h("SADD", "most", *range(1, 6))
        # Walking "big" against "most" is cheap: only the result goes in -> intset.
        assert h("SDIFFSTORE", "d", "big", "most") == 1
        assert enc(h, "d") == b"intset"
        # Against three small sets Redis copies "big" first (6 > 4 entries) -> hashtable.
        assert h("SDIFFSTORE", "d", "big", "one", "two", "three") == 3
        assert enc(h, "d") == b"hashtable"
        assert h("SMEMBERS", "d") in (
            [b"4", b"5", b"6"],
            [b"4", b"6", b"5"],
            [b"5", b"4", b"6"],
            [b"5", b"6", b"4"],
            [b"6", b"4", b"5"],
            [b"6", b"5", b"4"],
        )


def test_union_and_diff_shapes() -> None:
    with harness() as h2:
        h3 = h2.client_harness(3)
        h2("SADD", "a", 2, 1)
        for command in ("SUNION", "SDIFF", "SINTER"):
            assert h3.raw(command, "a") == b"~2\r\n$1\r\n1\r\n$1\r\n2\r\n"
            assert h2.raw(command, "a") == b"*2\r\n$1\r\n1\r\n$1\r\n2\r\n"
            assert h3.raw(command, "nokey") == b"~0\r\n"
        assert h3.raw("SINTERCARD", 1, "a") == b":2\r\n"
        assert h3.raw("SMISMEMBER", "a", 1, 5) == b"*2\r\n:1\r\n:0\r\n"


# ==== SSCAN ==================================================================================
def test_sscan_of_an_intset_is_one_call(h: Any) -> None:
    h("SADD", "s", *range(30))
    assert h("SSCAN", "s", 0) == [b"0", nums(*range(30))]
    assert h("SSCAN", "s", 12345, "COUNT", 2) == [b"0", nums(*range(30))]
    assert h("SSCAN", "s", 0, "MATCH", "1*") == [b"0", nums(1, *range(10, 20))]


def test_sscan_of_a_hashtable_walks_with_a_cursor(h: Any) -> None:
    h("SADD", "s", *(f"m{i}" for i in range(500)))
    seen: Counter[bytes] = Counter()
    cursor = b"0"
    calls = 0
    while True:
        cursor, found = h("SSCAN", "s", cursor, "COUNT", 20)
        seen.update(found)
        calls += 1
        if cursor == b"0":
            break
    assert set(seen) == {f"m{i}".encode() for i in range(500)}
    assert calls > 5


def test_sscan_returns_members_present_throughout(h: Any) -> None:
    h("SADD", "s", *(f"m{i}" for i in range(300)))
    cursor, found = h("SSCAN", "s", 0, "COUNT", 50)
    seen = set(found)
    h("SREM", "s", *(f"m{i}" for i in range(0, 300, 2)))
    h("SADD", "s", *(f"n{i}" for i in range(100)))
    while cursor != b"0":
        cursor, found = h("SSCAN", "s", cursor, "COUNT", 50)
        seen.update(found)
    assert {f"m{i}".encode() for i in range(1, 300, 2)} <= seen


def test_sscan_match_and_errors(h: Any) -> None:
    h("SADD", "s", "apple", "banana", "avocado", "x")
    assert sorted(h("SSCAN", "s", 0, "MATCH", "a*", "COUNT", 100)[1]) == [b"apple", b"avocado"]
    assert h("SSCAN", "nokey", 0) == [b"0", []]
    assert h("SSCAN", "nokey", 0, "BOGUS") == [b"0", []]  # options are read after the lookup
    assert h.error("SSCAN", "s", "x") == "ERR invalid cursor"
    assert h.error("SSCAN", "nokey", "x") == "ERR invalid cursor"
    assert h.error("SSCAN", "s", 0, "COUNT", 0) == "ERR syntax error"
    assert h.error("SSCAN", "s", 0, "COUNT", "x") == NOT_INTEGER
    assert h.error("SSCAN", "s", 0, "MATCH") == "ERR syntax error"
    assert h.error("SSCAN", "s", 0, "TYPE", "set") == "ERR syntax error"


# ==== bookkeeping ============================================================================
def test_in_place_changes_keep_the_ttl(h: Any) -> None:
    h("SADD", "s", "a", "b", "c")
    h("EXPIRE", "s", 100)
    h("SADD", "s", "d")
    h("SREM", "s", "a")
    h("SMOVE", "s", "t", "b")
    assert h("TTL", "s") == 100
    assert h("TTL", "t") == -1


@engine_only
def test_changes_count_as_dirty_and_touch_watchers() -> None:
    h = Harness()
    engine = h.engine
    watcher = h.client_harness()

    def dirty_after(*args: Any) -> int:
        before = engine.dirty
        h(*args)
        return engine.dirty - before

    assert dirty_after("SADD", "s", *"abcdefgh") == 8
    assert dirty_after("SADD", "s", "a") == 0
    engine.watch(watcher.client, b"s")
    assert dirty_after("SREM", "s", "a", "x") == 1
    assert watcher.client.watch_dirty
    assert dirty_after("SPOP", "s") == 1
    assert dirty_after("SPOP", "s", 2) == 2
    assert dirty_after("SMOVE", "s", "t", "nope") == 0
    member = h("SMEMBERS", "s")[0]
    assert dirty_after("SMOVE", "s", "t", member) == 2
    assert dirty_after("SPOP", "t", 10) == 1
    assert dirty_after("SINTERSTORE", "d", "s") == 1
    assert dirty_after("SUNIONSTORE", "d", "nokey") == 1  # the old destination was deleted
    assert dirty_after("SDIFFSTORE", "d", "nokey") == 0


@engine_only
def test_copy_keeps_the_encoding_and_is_independent() -> None:
    h = Harness()
    h("SADD", "s", "1", "a")
    h("SREM", "s", "a")
    assert h("COPY", "s", "c") == 1
    assert h("OBJECT", "ENCODING", "c") == b"hashtable"
    h("SADD", "c", "2")
    assert h("SMEMBERS", "s") == [b"1"]
