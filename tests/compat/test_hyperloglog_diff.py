"""HyperLogLog against a real redis-server: replies and the raw HLL bytes (GET) compared byte
for byte after random command sequences, values written by Redis used by slotd, corrupted
values, and the estimator's standard error on large sets.

A note on corrupted values: when Redis splits an XZERO opcode cut off by the end of the string
it writes the opcodes' last byte just past the new end, where later reads of such a cut-off
XZERO find it. slotd reads those missing bytes as zero (Redis's own value for a string as
stored), so the corrupted-value tests modify a value at most once before setting it again.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule, run_state_machine_as_test

from tests.compat.conftest import Differ
from tests.procs import ServerProcess
from tests.rawclient import RawClient
from tests.support import decode

pytestmark = pytest.mark.interop

KEYS = (b"h1", b"h2", b"h3")
LIMITS = (b"3000", b"0", b"25", b"200", b"1000")
elements = st.binary(max_size=10) | st.sampled_from([b"a", b"b", b"foo", b"x8784"])


@pytest.fixture
def pair(slotd_proc: ServerProcess, redis_proc: ServerProcess) -> Iterator[Differ]:
    """The two servers, with hll-sparse-max-bytes put back when the test ends."""
    with RawClient(*slotd_proc.addr) as ours, RawClient(*redis_proc.addr) as theirs:
        differ = Differ(ours, theirs)
        assert differ.both("FLUSHALL") == (b"+OK\r\n", b"+OK\r\n")
        try:
            yield differ
        finally:
            differ.both("CONFIG", "SET", "hll-sparse-max-bytes", "3000")


def many(tag: str, n: int) -> list[bytes]:
    return [f"{tag}:{i}".encode() for i in range(n)]


# --- fixed sequences -------------------------------------------------------------------------
def test_commands_replies_and_errors(diff: Differ) -> None:
    for command in [
        ("PFADD", "k"),
        ("GET", "k"),
        ("PFADD", "k"),
        ("PFCOUNT", "k"),
        ("GET", "k"),
        ("PFADD", "k", "a", "b", "c"),
        ("GET", "k"),
        ("PFADD", "k", "a"),
        ("PFCOUNT", "k"),
        ("PFCOUNT", "k", "nokey"),
        ("PFCOUNT", "nokey"),
        ("PFMERGE", "d"),
        ("GET", "d"),
        ("PFMERGE", "d", "k", "nokey"),
        ("GET", "d"),
        ("PFDEBUG", "ENCODING", "d"),
        ("PFDEBUG", "DECODE", "d"),
        ("PFDEBUG", "decode", "k"),
        ("PFDEBUG", "foo", "k"),
        ("PFDEBUG", "foo\0bar", "k"),
        ("PFDEBUG", "a\r\nb", "k"),
        ("PFDEBUG", "GETREG", "nokey"),
        ("PFDEBUG", "GETREG", "k"),
        ("GET", "k"),
        ("PFDEBUG", "DECODE", "k"),
        ("PFDEBUG", "TODENSE", "k"),
        ("PFDEBUG", "TODENSE", "d"),
        ("GET", "d"),
        ("PFDEBUG", "ENCODING", "d"),
        ("PFCOUNT", "d"),
        ("PFSELFTEST",),
        ("PFSELFTEST", "x"),
        ("PFDEBUG", "GETREG"),
        ("PFADD",),
        ("PFCOUNT",),
        ("PFMERGE",),
        ("SET", "s", "plain string"),
        ("SET", "short", "HYLL"),
        ("SET", "enc2", b"HYLL\x02" + bytes(11)),
        ("SET", "baddense", b"HYLL\x00" + bytes(30)),
        ("LPUSH", "l", "x"),
    ]:
        diff(*command)
    for key in ("s", "short", "enc2", "baddense", "l"):
        for command in [
            ("PFADD", key, "a"),
            ("PFADD", key),
            ("PFCOUNT", key),
            ("PFCOUNT", "k", key),
            ("PFMERGE", "d", key),
            ("PFMERGE", key, "k"),
            ("PFDEBUG", "GETREG", key),
            ("PFDEBUG", "nosuch", key),
        ]:
            diff(*command)
    diff("EXISTS", "d")


def test_hll_keys_are_strings(diff: Differ) -> None:
    diff("PFADD", "k", "a", "b")
    for command in [
        ("TYPE", "k"),
        ("STRLEN", "k"),
        ("OBJECT", "ENCODING", "k"),
        ("APPEND", "k", "\x80"),
        ("PFCOUNT", "k"),
        ("PFDEBUG", "TODENSE", "k"),
        ("PFMERGE", "d", "k"),
        ("PFADD", "k", "zzz"),
        ("GET", "k"),
        ("SETRANGE", "k", 0, "X"),
        ("PFCOUNT", "k"),
        ("PFADD", "k2", "x"),
        ("SETRANGE", "k2", 15, "\x00"),
        ("PFCOUNT", "k2"),
        ("GET", "k2"),
        ("SETRANGE", "k2", 15, "\x80"),
        ("PFCOUNT", "k2"),
        ("GET", "k2"),
        ("SETRANGE", "k2", 8, "\x07"),
        ("PFCOUNT", "k2"),
        ("PFADD", "k2", "y"),
        ("GET", "k2"),
    ]:
        diff(*command)


def test_object_encoding_after_each_command(diff: Differ) -> None:
    """Redis unshares the string (embstr -> raw) in some commands whether or not it changes."""
    diff("PFADD", "src", "a")
    small = decode(diff.theirs.call("GET", "src"))
    for command in [
        ("PFCOUNT", "k"),
        ("PFCOUNT", "k", "k"),
        ("PFADD", "k"),
        ("PFADD", "k", "a"),
        ("PFDEBUG", "nosuch", "k"),
        ("PFDEBUG", "ENCODING", "k"),
        ("PFMERGE", "other", "k"),
        ("PFMERGE", "k"),
        ("GET", "k"),
    ]:
        diff("SET", "k", small)
        diff("OBJECT", "ENCODING", "k")
        diff(*command)
        diff("OBJECT", "ENCODING", "k")


def test_sparse_limit_and_promotion(pair: Differ) -> None:
    for limit in (b"0", b"1", b"19", b"60", b"3000"):
        pair("CONFIG", "SET", "hll-sparse-max-bytes", limit)
        pair("DEL", "k")
        for element in many(limit.decode(), 40):
            pair("PFADD", "k", element)
            pair("GET", "k")
        pair("PFCOUNT", "k")
    pair("CONFIG", "SET", "hll-sparse-max-bytes", "3000")
    pair("DEL", "k")
    for start in range(0, 3000, 100):
        pair("PFADD", "k", *many("grow", 3000)[start : start + 100])
        pair("GET", "k")
    pair("PFDEBUG", "ENCODING", "k")


def test_pfmerge_encodings(pair: Differ) -> None:
    pair("PFADD", "small1", *many("s1", 30))
    pair("PFADD", "small2", *many("s2", 30))
    pair("PFADD", "big", *many("b", 5000))
    for args in [
        ("m1", "small1", "small2"),
        ("m2", "small1", "big"),
        ("small1", "small2"),
        ("m3", "nokey"),
        ("m1", "m1"),
        ("big", "small1"),
        ("m4", "small2", "m2"),
    ]:
        pair("PFMERGE", *args)
        pair("GET", args[0])
        pair("PFCOUNT", args[0])
    pair("CONFIG", "SET", "hll-sparse-max-bytes", "40")
    pair("PFMERGE", "m5", "small2")  # promoted while writing the registers
    pair("GET", "m5")
    pair("PFCOUNT", "small1", "small2", "big", "nokey")


def test_estimator_matches_redis_at_every_size(pair: Differ) -> None:
    for start in range(0, 50000, 500):
        pair("PFADD", "k", *many("n", 50000)[start : start + 500])
        pair("PFCOUNT", "k")
        pair("PFCOUNT", "k", "nokey")
    pair("GET", "k")


def test_dense_values_with_any_registers(pair: Differ) -> None:
    rng = random.Random(7)
    header = b"HYLL\x00\x00\x00\x00" + bytes(7) + b"\x80"
    for body in [
        b"\xff" * 12288,
        bytes(12287) + b"\xfc",
        bytes(rng.randrange(256) for _ in range(12288)),
        (b"\x00\x00\x33" * 4096),
        bytes(12288),
    ]:
        pair("SET", "k", header + body)
        pair("PFCOUNT", "k")
        pair("GET", "k")
        pair("PFCOUNT", "k")
        pair("PFCOUNT", "k", "k")
        pair("PFADD", "k", "a", "b")
        pair("PFMERGE", "d", "k")
        pair("GET", "d")
        pair("DEL", "d")


# --- values written by Redis -----------------------------------------------------------------
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(elements, max_size=300), st.integers(0, 3000))
def test_values_written_by_redis(diff: Differ, added: list[bytes], extra: int) -> None:
    diff("FLUSHALL")
    theirs = diff.theirs
    theirs.call("PFADD", "r", *added, *many("extra", extra))
    raw = decode(theirs.call("GET", "r"))
    assert diff.ours.call("SET", "r", raw) == b"+OK\r\n"
    commands: list[tuple[bytes | str, ...]] = [
        ("PFCOUNT", "r"),
        ("GET", "r"),
        ("PFDEBUG", "ENCODING", "r"),
        ("PFADD", "r", *added[:5], "new"),
        ("GET", "r"),
        ("PFCOUNT", "r", "r"),
        ("PFMERGE", "m", "r"),
        ("GET", "m"),
        ("PFCOUNT", "m"),
    ]
    for command in commands:
        diff(*command)


# --- random sequences ------------------------------------------------------------------------
class HllMachine(RuleBasedStateMachine):
    """Random PFADD/PFCOUNT/PFMERGE/PFDEBUG sequences over a few keys, the raw value of the
    touched key compared after each write, with hll-sparse-max-bytes changing on the way."""

    diff: ClassVar[Differ]

    @initialize()
    def start(self) -> None:
        self.diff("FLUSHALL")
        self.diff("CONFIG", "SET", "hll-sparse-max-bytes", "3000")

    @rule(key=st.sampled_from(KEYS), added=st.lists(elements, max_size=30))
    def pfadd(self, key: bytes, added: list[bytes]) -> None:
        self.diff("PFADD", key, *added)
        self.diff("GET", key)

    @rule(key=st.sampled_from(KEYS), tag=st.integers(0, 9), n=st.sampled_from([50, 400, 2000]))
    def pfadd_many(self, key: bytes, tag: int, n: int) -> None:
        self.diff("PFADD", key, *many(str(tag), n))
        self.diff("GET", key)

    @rule(keys=st.lists(st.sampled_from((*KEYS, b"nokey")), min_size=1, max_size=4))
    def pfcount(self, keys: list[bytes]) -> None:
        self.diff("PFCOUNT", *keys)
        self.diff("GET", keys[0])

    @rule(
        dest=st.sampled_from(KEYS), sources=st.lists(st.sampled_from((*KEYS, b"nokey")), max_size=3)
    )
    def pfmerge(self, dest: bytes, sources: list[bytes]) -> None:
        self.diff("PFMERGE", dest, *sources)
        self.diff("GET", dest)

    @rule(
        key=st.sampled_from(KEYS),
        sub=st.sampled_from([b"GETREG", b"DECODE", b"ENCODING", b"TODENSE", b"x"]),
    )
    def pfdebug(self, key: bytes, sub: bytes) -> None:
        self.diff("PFDEBUG", sub, key)
        self.diff("GET", key)

    @rule(limit=st.sampled_from(LIMITS))
    def sparse_limit(self, limit: bytes) -> None:
        self.diff("CONFIG", "SET", "hll-sparse-max-bytes", limit)

    @rule(dest=st.sampled_from(KEYS), source=st.sampled_from(KEYS))
    def copy_raw_value(self, dest: bytes, source: bytes) -> None:
        """A value travels as a plain string (GET, then SET on both)."""
        raw: Any = decode(self.diff.theirs.call("GET", source))
        if raw is not None:
            self.diff("SET", dest, raw)

    @rule(
        key=st.sampled_from(KEYS),
        damage=st.sampled_from(
            [
                ("APPEND", b"\x80"),
                ("APPEND", b"\x00"),
                ("SETRANGE", 15, b"\x00"),
                ("SETRANGE", 4, b"\x00"),
                ("SETRANGE", 0, b"h"),
                ("DEL",),
                ("LPUSH", b"x"),
            ]
        ),
    )
    def damage(self, key: bytes, damage: tuple[Any, ...]) -> None:
        """Plain string commands on an HLL: trailing opcodes, a trusted cache, another
        encoding byte, a broken magic, another type."""
        self.diff(damage[0], key, *damage[1:])


def test_random_sequences_match_redis(pair: Differ) -> None:
    bound = type("BoundHllMachine", (HllMachine,), {"diff": pair})
    run_state_machine_as_test(
        bound,
        settings=settings(
            max_examples=25,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


# --- corrupted values ------------------------------------------------------------------------
def _xzero(n: int) -> bytes:
    return bytes((0x40 | (n - 1) >> 8, (n - 1) & 0xFF))


opcodes = st.one_of(
    st.integers(1, 64).map(lambda n: bytes((n - 1,))),
    st.integers(1, 16384).map(_xzero),
    st.integers(0, 127).map(lambda v: bytes((0x80 | v,))),
    st.binary(min_size=1, max_size=2),
)
sparse_bodies = st.one_of(
    st.lists(opcodes, max_size=12).map(b"".join),
    # near-valid: an empty HLL with a few opcodes spliced in
    st.tuples(st.integers(0, 16383), st.lists(opcodes, max_size=4)).map(
        lambda t: (
            _xzero(t[0] + 1) + b"".join(t[1]) + _xzero(16384 - t[0])
            if t[0] < 16383
            else _xzero(16384) + b"".join(t[1])
        )
    ),
)


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=sparse_bodies, stale=st.booleans(), element=elements)
def test_corrupted_sparse_values(diff: Differ, body: bytes, stale: bool, element: bytes) -> None:
    value = b"HYLL\x01\x00\x00\x00" + bytes(7) + (b"\x80" if stale else b"\x00") + body
    diff("SET", "k", value)
    diff("PFADD", "ok", "a")
    for command in [
        ("PFCOUNT", "k"),
        ("GET", "k"),
        ("PFCOUNT", "k", "ok"),
        ("PFDEBUG", "DECODE", "k"),
        ("PFMERGE", "d", "ok", "k"),
        ("GET", "d"),
    ]:
        diff(*command)
    modifies: list[tuple[bytes | str, ...]] = [
        ("PFADD", "k", element),
        ("PFDEBUG", "GETREG", "k"),
        ("PFDEBUG", "TODENSE", "k"),
        ("PFMERGE", "k", "ok"),
    ]
    for modify in modifies:
        diff("SET", "k", value)
        diff(*modify)
        diff("GET", "k")


# --- accuracy --------------------------------------------------------------------------------
def test_standard_error_on_large_sets(pair: Differ) -> None:
    """Redis documents a 0.81% standard error (1.04 / sqrt(16384)); the estimates equal
    Redis's and stay within three standard errors, averaging about one."""
    errors = []
    for trial in range(8):
        key = f"set{trial}"
        n = 20000 + 10000 * trial
        for start in range(0, n, 2000):
            pair("PFADD", key, *[f"{trial}/{i}" for i in range(start, min(n, start + 2000))])
        estimate = decode(pair("PFCOUNT", key))
        error = abs(estimate - n) / n
        assert error < 3 * 0.0081, (n, estimate)
        errors.append(error)
    assert sum(errors) / len(errors) < 1.5 * 0.0081, errors
