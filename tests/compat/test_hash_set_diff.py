"""Hashes and sets against a real redis-server: Hypothesis state machines run the same random
command sequences on slotd and on Redis and compare every reply.

Rules of comparison:
- Byte for byte by default, errors included.
- Where Redis's order is its hash table's business (a hashtable-encoded hash or set, and
  the sets SINTER/SUNION/SDIFF build), the elements are compared as a multiset (hashes as
  field -> value maps), after checking that the reply has the same RESP shape.
- Random replies (HRANDFIELD, SRANDMEMBER, SPOP) are checked for their shape and their
  promises: how many elements, distinct or not, all taken from the key. SPOP removes
  different members on each side, so both keys are then rebuilt with slotd's remainder.
- Scans of hashtable-encoded keys are walked to the end on each side (their cursors differ)
  and the union of what they returned is compared.
Each machine lowers the encoding thresholds so that short sequences cross them, and puts
the servers' own values back when it ends.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    rule,
    run_state_machine_as_test,
)

from tests.compat.conftest import Differ
from tests.procs import ServerProcess
from tests.rawclient import RawClient
from tests.support import decode

pytestmark = pytest.mark.interop

SETTINGS = settings(
    max_examples=40,
    stateful_step_count=35,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
THRESHOLDS = {
    "hash-max-listpack-entries": "4",
    "hash-max-listpack-value": "16",
    "set-max-intset-entries": "4",
}


@pytest.fixture
def pair(slotd_proc: ServerProcess, redis_proc: ServerProcess) -> Iterator[Differ]:
    with RawClient(*slotd_proc.addr) as ours, RawClient(*redis_proc.addr) as theirs:
        differ = Differ(ours, theirs)
        with differ.restoring(*THRESHOLDS):
            yield differ


def failed(args: tuple[Any, ...], ours: bytes, theirs: bytes) -> bool:
    """True if either reply is an error; then both must be the same error."""
    if theirs.startswith(b"-") or ours.startswith(b"-"):
        assert ours == theirs, f"{args!r}\n  slotd: {ours!r}\n  redis: {theirs!r}"
        return True
    return False


def skeleton(reply: Any) -> Any:
    """A decoded reply with every leaf replaced by its type: the RESP shape only."""
    if isinstance(reply, list):
        return [skeleton(item) for item in reply]
    if isinstance(reply, dict):
        return {"map": len(reply)}
    return type(reply).__name__


def as_pairs(flat_or_nested: list[Any]) -> list[tuple[bytes, bytes]]:
    """WITHVALUES replies: RESP2 is flat, RESP3 is a list of [field, value] pairs."""
    if flat_or_nested and isinstance(flat_or_nested[0], list):
        return [(f, v) for f, v in flat_or_nested]
    return list(zip(flat_or_nested[::2], flat_or_nested[1::2], strict=True))


class _Machine(RuleBasedStateMachine):
    """The shared part: both connections, RESP version, thresholds, key-level commands."""

    KEYS: ClassVar[tuple[bytes, ...]] = ()
    diff: ClassVar[Differ]  # bound by `run` to the test's connections

    @initialize(resp3=st.booleans())
    def start(self, resp3: bool) -> None:
        self.diff("FLUSHALL")
        self.diff.both("HELLO", "3" if resp3 else "2")
        for name, value in THRESHOLDS.items():
            self.diff("CONFIG", "SET", name, value)

    def theirs(self, *args: Any) -> Any:
        return decode(self.diff.theirs.call(*args))

    def encoding(self, key: bytes) -> bytes | None:
        """OBJECT ENCODING, compared; None for a missing key."""
        reply = self.diff("OBJECT", "ENCODING", key)
        return None if reply.startswith(b"-") or reply in (b"$-1\r\n", b"_\r\n") else decode(reply)

    def compact(self, key: bytes) -> bool:
        """Is the key in an encoding whose order Redis defines (listpack, intset)?"""
        return self.encoding(key) in (b"listpack", b"intset")

    def same_shape(self, *args: Any) -> tuple[Any, Any] | None:
        """Run a command on both; equal errors end the check (None), else the decoded
        replies, which must have the same RESP shape."""
        ours, theirs = self.diff.both(*args)
        if failed(args, ours, theirs):
            return None
        assert ours[:1] == theirs[:1], f"{args!r}\n  slotd: {ours!r}\n  redis: {theirs!r}"
        got, want = decode(ours), decode(theirs)
        assert skeleton(got) == skeleton(want), f"{args!r}: {got!r} vs {want!r}"
        return got, want

    def errors_only(self, *args: Any) -> bool:
        """Run a command on both; True (after comparing them) if either side failed."""
        return failed(args, *self.diff.both(*args))

    def full_scan(self, client: RawClient, *args: Any) -> list[bytes]:
        cursor, out = b"0", []
        while True:
            cursor, items = decode(client.call(args[0], args[1], cursor, *args[2:]))
            out += items
            if cursor == b"0":
                return out

    @rule(data=st.data(), command=st.sampled_from([(b"DEL",), (b"SET", b"x"), (b"SET", b"12")]))
    def replace(self, data: st.DataObject, command: tuple[bytes, ...]) -> None:
        """Delete a key or make it a string (WRONGTYPE for the type's commands)."""
        self.diff(command[0], data.draw(st.sampled_from(self.KEYS)), *command[1:])

    @rule(data=st.data(), seconds=st.sampled_from([b"100", b"5000"]))
    def key_facts(self, data: st.DataObject, seconds: bytes) -> None:
        key = data.draw(st.sampled_from(self.KEYS))
        self.diff("TYPE", key)
        self.encoding(key)
        self.diff("EXPIRE", key, seconds)
        self.diff("TTL", key)


# ==== hashes =================================================================================
H_KEYS = (b"h", b"g", b"s")
H_KEY = st.sampled_from(H_KEYS)
FIELDS = st.sampled_from([b"a", b"b", b"c", b"d", b"e", b"", b"f" * 20, b"n"])
VALUES = st.sampled_from(
    [b"", b"1", b"-2", b"10.5", b"abc", b"9223372036854775807", b"1e3", b"v" * 20, b" 1", b"inf"]
)
INTS = st.sampled_from(
    [b"1", b"-1", b"100", b"abc", b"1.5", b"9223372036854775807", b"-9223372036854775808"]
)
FLOATS = st.sampled_from([b"0.1", b"-1.5", b"1e3", b"abc", b"inf", b"0x10", b"1e4932", b"3"])
COUNTS = st.sampled_from(
    [b"0", b"1", b"2", b"3", b"10", b"-1", b"-5", b"x", b"-9223372036854775808"]
)


class HashMachine(_Machine):
    KEYS = H_KEYS

    @initialize(pairs=st.lists(st.tuples(FIELDS, VALUES), max_size=8))
    def fill(self, pairs: list[tuple[bytes, bytes]]) -> None:
        for field, value in pairs:
            self.diff("HSET", b"h", field, value)
            self.diff("HSET", b"g", value, field)

    @rule(
        key=H_KEY,
        pairs=st.lists(st.tuples(FIELDS, VALUES), min_size=1, max_size=3),
        command=st.sampled_from([b"HSET", b"HMSET"]),
    )
    def hset(self, key: bytes, pairs: list[tuple[bytes, bytes]], command: bytes) -> None:
        self.diff(command, key, *(x for pair in pairs for x in pair))

    @rule(key=H_KEY, field=FIELDS, value=VALUES)
    def hsetnx(self, key: bytes, field: bytes, value: bytes) -> None:
        self.diff("HSETNX", key, field, value)

    @rule(key=H_KEY, fields=st.lists(FIELDS, min_size=1, max_size=3))
    def hdel(self, key: bytes, fields: list[bytes]) -> None:
        self.diff("HDEL", key, *fields)

    @rule(key=H_KEY, field=FIELDS)
    def read_field(self, key: bytes, field: bytes) -> None:
        for command in (b"HGET", b"HSTRLEN", b"HEXISTS"):
            self.diff(command, key, field)

    @rule(key=H_KEY, fields=st.lists(FIELDS, min_size=1, max_size=4))
    def hmget(self, key: bytes, fields: list[bytes]) -> None:
        self.diff("HMGET", key, *fields)

    @rule(key=H_KEY)
    def whole(self, key: bytes) -> None:
        self.diff("HLEN", key)
        ordered = self.compact(key)
        self.diff("HKEYS", key, unordered=not ordered)
        self.diff("HVALS", key, unordered=not ordered)
        if ordered:
            self.diff("HGETALL", key)
        elif (replies := self.same_shape("HGETALL", key)) is not None:
            got, want = (r if isinstance(r, dict) else dict(as_pairs(r)) for r in replies)
            assert got == want

    @rule(key=H_KEY, field=FIELDS, increment=INTS)
    def hincrby(self, key: bytes, field: bytes, increment: bytes) -> None:
        self.diff("HINCRBY", key, field, increment)

    @rule(key=H_KEY, field=FIELDS, increment=FLOATS)
    def hincrbyfloat(self, key: bytes, field: bytes, increment: bytes) -> None:
        self.diff("HINCRBYFLOAT", key, field, increment)

    @rule(
        key=H_KEY,
        count=st.none() | COUNTS,
        withvalues=st.sampled_from([(), (b"WITHVALUES",), (b"withvalues",), (b"BOGUS",)]),
    )
    def hrandfield(self, key: bytes, count: bytes | None, withvalues: tuple[bytes, ...]) -> None:
        args = (b"HRANDFIELD", key) if count is None else (b"HRANDFIELD", key, count, *withvalues)
        content = self.theirs("HGETALL", key)
        replies = self.same_shape(*args)
        if replies is None:
            return
        got, want = replies
        if not isinstance(content, dict):
            content = dict(as_pairs(content)) if isinstance(content, list) else {}
        if count is None:
            assert (got is None) == (want is None) and (got is None or got in content)
            return
        n = int(count)
        picked = as_pairs(got) if withvalues else [(f, content.get(f)) for f in got]
        expected = 0 if not content else min(n, len(content)) if n >= 0 else -n
        assert len(picked) == expected and len(want) == len(got)
        assert all(content.get(f) == v for f, v in picked)
        if n > 0:
            assert len({f for f, _ in picked}) == len(picked)
        if n >= len(content) > 0 and self.compact(key):
            assert got == want  # the whole listpack, in its order

    @rule(
        key=H_KEY,
        match=st.sampled_from([(), (b"MATCH", b"*"), (b"MATCH", b"[a-c]"), (b"MATCH", b"f*")]),
        count=st.sampled_from([(), (b"COUNT", b"2"), (b"COUNT", b"0")]),
    )
    def hscan(self, key: bytes, match: tuple[bytes, ...], count: tuple[bytes, ...]) -> None:
        if self.compact(key) or count == (b"COUNT", b"0"):
            self.diff("HSCAN", key, 0, *match, *count)
            return
        if self.errors_only("HSCAN", key, 0, *match, *count):
            return
        ours = self.full_scan(self.diff.ours, "HSCAN", key, *match, *count)
        theirs = self.full_scan(self.diff.theirs, "HSCAN", key, *match, *count)
        assert dict(as_pairs(ours)) == dict(as_pairs(theirs))


# ==== sets ===================================================================================
S_KEYS = (b"s", b"t", b"u", b"str")
S_KEY = st.sampled_from(S_KEYS)
S_KEY_LISTS = st.lists(S_KEY, min_size=1, max_size=3)
MEMBERS = st.sampled_from(
    [b"1", b"2", b"3", b"-7", b"10", b"01", b"a", b"b", b"", b"9223372036854775808"]
)
SET_COUNTS = st.sampled_from(
    [b"0", b"1", b"2", b"4", b"20", b"-1", b"-6", b"x", b"-3.5", b"-9223372036854775808"]
)


class SetMachine(_Machine):
    KEYS = S_KEYS

    @initialize(members=st.lists(MEMBERS, max_size=8))
    def fill(self, members: list[bytes]) -> None:
        for i, member in enumerate(members):
            self.diff("SADD", S_KEYS[i % 3], member)

    @rule(key=S_KEY, members=st.lists(MEMBERS, min_size=1, max_size=4))
    def sadd(self, key: bytes, members: list[bytes]) -> None:
        self.diff("SADD", key, *members)

    @rule(key=S_KEY, members=st.lists(MEMBERS, min_size=1, max_size=3))
    def srem(self, key: bytes, members: list[bytes]) -> None:
        self.diff("SREM", key, *members)

    @rule(key=S_KEY, members=st.lists(MEMBERS, min_size=1, max_size=3))
    def membership(self, key: bytes, members: list[bytes]) -> None:
        self.diff("SCARD", key)
        self.diff("SISMEMBER", key, members[0])
        self.diff("SMISMEMBER", key, *members)

    @rule(key=S_KEY)
    def smembers(self, key: bytes) -> None:
        self.diff("SMEMBERS", key, unordered=not self.compact(key))

    @rule(source=S_KEY, destination=S_KEY, member=MEMBERS)
    def smove(self, source: bytes, destination: bytes, member: bytes) -> None:
        self.diff("SMOVE", source, destination, member)

    @rule(command=st.sampled_from([b"SINTER", b"SUNION", b"SDIFF"]), keys=S_KEY_LISTS)
    def combine(self, command: bytes, keys: list[bytes]) -> None:
        self.diff(command, *keys, unordered=True)

    @rule(
        command=st.sampled_from([b"SINTERSTORE", b"SUNIONSTORE", b"SDIFFSTORE"]),
        destination=S_KEY,
        keys=S_KEY_LISTS,
    )
    def combine_store(self, command: bytes, destination: bytes, keys: list[bytes]) -> None:
        self.diff(command, destination, *keys)

    @rule(
        keys=S_KEY_LISTS,
        extra=st.sampled_from(
            [(), (b"LIMIT", b"1"), (b"LIMIT", b"0"), (b"LIMIT", b"-1"), (b"LIMIT",), (b"BOGUS",)]
        ),
        numkeys=st.sampled_from([None, b"0", b"9", b"x"]),
    )
    def sintercard(
        self, keys: list[bytes], extra: tuple[bytes, ...], numkeys: bytes | None
    ) -> None:
        self.diff("SINTERCARD", numkeys or b"%d" % len(keys), *keys, *extra)

    @rule(key=S_KEY, count=st.none() | SET_COUNTS)
    def srandmember(self, key: bytes, count: bytes | None) -> None:
        args = (b"SRANDMEMBER", key) if count is None else (b"SRANDMEMBER", key, count)
        content = self.theirs("SMEMBERS", key)
        content = set(content) if isinstance(content, list) else set()
        replies = self.same_shape(*args)
        if replies is None:
            return
        got, want = replies
        if count is None:
            assert (got is None) == (want is None) and (got is None or got in content)
            return
        n = int(count)
        assert (
            len(got) == len(want) == (0 if not content else min(n, len(content)) if n >= 0 else -n)
        )
        assert set(got) <= content
        if n > 0:
            assert len(set(got)) == len(got)
        if n >= len(content) > 0 and self.compact(key):
            assert got == want  # the whole intset, ascending

    @rule(key=S_KEY, count=st.none() | SET_COUNTS)
    def spop(self, key: bytes, count: bytes | None) -> None:
        args = (b"SPOP", key) if count is None else (b"SPOP", key, count)
        content = self.theirs("SMEMBERS", key)
        content = set(content) if isinstance(content, list) else set()
        replies = self.same_shape(*args)
        if replies is None:
            return
        got, want = replies
        popped = ([] if got is None else [got]) if count is None else got
        assert set(popped) <= content and len(set(popped)) == len(popped)
        if count is not None:
            assert len(got) == len(want) == min(int(count), len(content))
        # Each side removed its own random members: give Redis slotd's remainder.
        remainder = decode(self.diff.ours.call("SMEMBERS", key))
        self.diff("DEL", key)
        if remainder:
            self.diff("SADD", key, *remainder)

    @rule(
        key=S_KEY,
        match=st.sampled_from([(), (b"MATCH", b"*"), (b"MATCH", b"1*"), (b"MATCH", b"[ab]")]),
        count=st.sampled_from([(), (b"COUNT", b"2"), (b"COUNT", b"-1")]),
    )
    def sscan(self, key: bytes, match: tuple[bytes, ...], count: tuple[bytes, ...]) -> None:
        if self.compact(key) or count == (b"COUNT", b"-1"):
            self.diff("SSCAN", key, 0, *match, *count)
            return
        if self.errors_only("SSCAN", key, 0, *match, *count):
            return
        ours = self.full_scan(self.diff.ours, "SSCAN", key, *match, *count)
        theirs = self.full_scan(self.diff.theirs, "SSCAN", key, *match, *count)
        assert set(ours) == set(theirs)


def run(machine: type[_Machine], diff: Differ) -> None:
    bound = type(machine.__name__, (machine,), {"diff": diff})
    run_state_machine_as_test(bound, settings=SETTINGS)


def test_hash_sequences_match_redis(pair: Differ) -> None:
    run(HashMachine, pair)


def test_set_sequences_match_redis(pair: Differ) -> None:
    run(SetMachine, pair)
