"""Random command sequences over strings and the key space, run against slotd and a real
redis-server, every reply compared byte for byte (Hypothesis shrinks a mismatch to a
minimal sequence).

The alphabet is small on purpose (four keys, two databases, values that are numbers,
floats, empty or binary) so that commands collide: wrong types, overflows, renames onto
existing keys, expiry options against existing TTLs. Expiry values are far apart, so
comparing TTLs never depends on which server ran a millisecond later.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.compat.conftest import Differ

pytestmark = pytest.mark.interop

Command = tuple[bytes, ...]

KEYS = st.sampled_from([b"a", b"b", b"n", b"{a}x"])
VALUES = st.sampled_from(
    [
        b"",
        b"v",
        b"12",
        b"-3",
        b"1.5",
        b"hello world",
        b"9223372036854775807",
        b"\x00\xff",
        b"x" * 50,
    ]
)
INTS = st.sampled_from(
    [b"0", b"1", b"-1", b"7", b"abc", b"9223372036854775807", b"-9223372036854775808"]
)
FLOATS = st.sampled_from([b"0", b"1.5", b"-2.25", b"1e3", b"abc", b"inf", b"3.0e-2"])
SET_TTL = st.sampled_from(
    [(), (b"EX", b"100"), (b"EX", b"10000"), (b"PX", b"1000000"), (b"KEEPTTL",)]
)
EXPIRE_S = st.sampled_from([b"50", b"500", b"5000", b"50000"])
OFFSETS = st.sampled_from([b"0", b"1", b"3", b"10", b"-1"])
RANGES = st.sampled_from([b"0", b"1", b"-1", b"-3", b"5", b"100"])


def cmd(*parts: st.SearchStrategy[bytes] | bytes) -> st.SearchStrategy[Command]:
    return st.tuples(*(p if isinstance(p, st.SearchStrategy) else st.just(p) for p in parts))


def optional(*choices: bytes) -> st.SearchStrategy[tuple[bytes, ...]]:
    return st.sampled_from([(), *((c,) for c in choices)])


@st.composite
def set_command(draw: st.DrawFn) -> Command:
    return (
        b"SET",
        draw(KEYS),
        draw(VALUES),
        *draw(optional(b"NX", b"XX")),
        *draw(optional(b"GET")),
        *draw(SET_TTL),
    )


@st.composite
def multi_key(draw: st.DrawFn, name: bytes, pairs: bool = False) -> Command:
    keys = draw(st.lists(KEYS, min_size=1, max_size=4))
    if not pairs:
        return (name, *keys)
    return (name, *(x for k in keys for x in (k, draw(VALUES))))


COMMANDS = st.one_of(
    set_command(),
    cmd(b"GET", KEYS),
    cmd(b"SETNX", KEYS, VALUES),
    cmd(b"GETSET", KEYS, VALUES),
    cmd(b"GETDEL", KEYS),
    st.tuples(st.just(b"GETEX"), KEYS).flatmap(
        lambda c: st.sampled_from([c, (*c, b"PERSIST"), (*c, b"EX", b"700")])
    ),
    cmd(b"APPEND", KEYS, VALUES),
    cmd(b"STRLEN", KEYS),
    cmd(b"SETRANGE", KEYS, OFFSETS, VALUES),
    cmd(b"GETRANGE", KEYS, RANGES, RANGES),
    cmd(b"INCR", KEYS),
    cmd(b"DECR", KEYS),
    cmd(b"INCRBY", KEYS, INTS),
    cmd(b"DECRBY", KEYS, INTS),
    cmd(b"INCRBYFLOAT", KEYS, FLOATS),
    multi_key(b"MGET"),
    multi_key(b"MSET", pairs=True),
    multi_key(b"MSETNX", pairs=True),
    multi_key(b"DEL"),
    multi_key(b"UNLINK"),
    multi_key(b"EXISTS"),
    multi_key(b"TOUCH"),
    cmd(b"TYPE", KEYS),
    cmd(b"RENAME", KEYS, KEYS),
    cmd(b"RENAMENX", KEYS, KEYS),
    st.tuples(st.just(b"COPY"), KEYS, KEYS).flatmap(
        lambda c: st.sampled_from([c, (*c, b"REPLACE"), (*c, b"DB", b"1")])
    ),
    st.tuples(st.just(b"EXPIRE"), KEYS, EXPIRE_S).flatmap(
        lambda c: st.sampled_from([c, (*c, b"NX"), (*c, b"XX"), (*c, b"GT"), (*c, b"LT")])
    ),
    cmd(b"PERSIST", KEYS),
    cmd(b"TTL", KEYS),
    cmd(b"OBJECT", b"ENCODING", KEYS),
    cmd(b"RPUSH", KEYS, VALUES),
    cmd(b"MOVE", KEYS, st.sampled_from([b"0", b"1"])),
    cmd(b"SELECT", st.sampled_from([b"0", b"1"])),
    st.just((b"SWAPDB", b"0", b"1")),
    st.just((b"DBSIZE",)),
)


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(resp3=st.booleans(), commands=st.lists(COMMANDS, min_size=1, max_size=40))
def test_random_sequences_match_redis(diff: Differ, resp3: bool, commands: list[Command]) -> None:
    diff("FLUSHALL")
    diff("SELECT", "0")
    diff.both("HELLO", "3" if resp3 else "2")
    for command in commands:
        diff(*command)
    diff("KEYS", "*", unordered=True)
    diff("SELECT", "1")
    diff("KEYS", "*", unordered=True)
