"""Lists and bitmaps against a real redis-server: Hypothesis state machines run the same
random command sequences on slotd and Redis and compare every reply byte for byte (lists and
bitmaps are ordered, so nothing needs a multiset comparison)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule, run_state_machine_as_test

from tests.compat.conftest import Differ
from tests.procs import ServerProcess
from tests.rawclient import RawClient

pytestmark = pytest.mark.interop

SETTINGS = settings(
    max_examples=40,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
KEYS = st.sampled_from(["l1", "l2", "s"])
ELEMENTS = st.sampled_from(["a", "b", "c", "", "1", "-2", "x" * 70])
INDEXES = st.integers(-8, 8)
SIDES = st.sampled_from(["LEFT", "RIGHT", "left", "UP"])


@pytest.fixture
def pair(slotd_proc: ServerProcess, redis_proc: ServerProcess) -> Iterator[Differ]:
    with RawClient(*slotd_proc.addr) as ours, RawClient(*redis_proc.addr) as theirs:
        yield Differ(ours, theirs)


class ListMachine(RuleBasedStateMachine):
    differ: Differ

    @initialize()
    def flush(self) -> None:
        self.differ("FLUSHALL")
        self.differ("SET", "s", "string")  # a key of the wrong type

    @rule(
        cmd=st.sampled_from(["LPUSH", "RPUSH", "LPUSHX", "RPUSHX"]),
        key=KEYS,
        values=st.lists(ELEMENTS, min_size=1, max_size=4),
    )
    def push(self, cmd: str, key: str, values: list[str]) -> None:
        self.differ(cmd, key, *values)

    @rule(
        cmd=st.sampled_from(["LPOP", "RPOP"]),
        key=KEYS,
        count=st.one_of(st.none(), st.integers(-1, 5)),
    )
    def pop(self, cmd: str, key: str, count: int | None) -> None:
        self.differ(cmd, key, *([] if count is None else [count]))

    @rule(key=KEYS, start=INDEXES, stop=INDEXES)
    def ranges(self, key: str, start: int, stop: int) -> None:
        self.differ("LRANGE", key, start, stop)

    @rule(key=KEYS, start=INDEXES, stop=INDEXES)
    def trim(self, key: str, start: int, stop: int) -> None:
        self.differ("LTRIM", key, start, stop)

    @rule(key=KEYS, index=INDEXES, value=ELEMENTS)
    def index_set(self, key: str, index: int, value: str) -> None:
        self.differ("LINDEX", key, index)
        self.differ("LSET", key, index, value)

    @rule(key=KEYS, count=st.integers(-3, 3), value=ELEMENTS)
    def rem(self, key: str, count: int, value: str) -> None:
        self.differ("LREM", key, count, value)

    @rule(key=KEYS, where=st.sampled_from(["BEFORE", "AFTER"]), pivot=ELEMENTS, value=ELEMENTS)
    def insert(self, key: str, where: str, pivot: str, value: str) -> None:
        self.differ("LINSERT", key, where, pivot, value)

    @rule(
        key=KEYS,
        value=ELEMENTS,
        opts=st.lists(
            st.tuples(st.sampled_from(["RANK", "COUNT", "MAXLEN"]), st.integers(-3, 3)), max_size=3
        ),
    )
    def pos(self, key: str, value: str, opts: list[tuple[str, int]]) -> None:
        self.differ("LPOS", key, value, *[x for opt in opts for x in opt])

    @rule(src=KEYS, dst=KEYS, a=SIDES, b=SIDES, blocking=st.booleans())
    def move(self, src: str, dst: str, a: str, b: str, blocking: bool) -> None:
        if blocking:  # timeouts would differ in time; with data both answer at once
            self.differ("BLMOVE", src, dst, a, b, "0.01")
        else:
            self.differ("LMOVE", src, dst, a, b)

    @rule(
        keys=st.lists(KEYS, min_size=1, max_size=3),
        side=SIDES,
        count=st.one_of(st.none(), st.integers(0, 4)),
        blocking=st.booleans(),
    )
    def mpop(self, keys: list[str], side: str, count: int | None, blocking: bool) -> None:
        extra: list[str | int] = [] if count is None else ["COUNT", count]
        prefix = ["BLMPOP", "0.01"] if blocking else ["LMPOP"]
        self.differ(*prefix, len(keys), *keys, side, *extra)

    @rule(keys=st.lists(KEYS, min_size=1, max_size=3), right=st.booleans())
    def bpop(self, keys: list[str], right: bool) -> None:
        self.differ("BRPOP" if right else "BLPOP", *keys, "0.01")

    @rule(key=KEYS)
    def inspect(self, key: str) -> None:
        self.differ("LLEN", key)
        self.differ("TYPE", key)
        self.differ("OBJECT", "ENCODING", key)


BIT_KEYS = st.sampled_from(["b1", "b2", "l"])
FIELD_TYPES = st.sampled_from(["i1", "u1", "i5", "u7", "i8", "u8", "i16", "u31", "i64", "u63"])
FIELD_VALUES = st.one_of(st.integers(-300, 300), st.sampled_from([2**63 - 1, -(2**63)]))


class BitmapMachine(RuleBasedStateMachine):
    differ: Differ

    @initialize()
    def flush(self) -> None:
        self.differ("FLUSHALL")
        self.differ("RPUSH", "l", "x")  # a key of the wrong type

    @rule(key=BIT_KEYS, offset=st.integers(0, 80), bit=st.sampled_from([0, 1, 1]))
    def setbit(self, key: str, offset: int, bit: int) -> None:
        self.differ("SETBIT", key, offset, bit)

    @rule(key=BIT_KEYS, value=st.one_of(st.binary(max_size=6), st.integers(-1000, 10**6).map(str)))
    def set_raw(self, key: str, value: bytes | str) -> None:
        if key != "l":
            self.differ("SET", key, value)

    # String writes that turn an int/embstr string into a raw one (or create one), mixed
    # with the bit commands: OBJECT ENCODING tells the representations apart.
    @rule(key=BIT_KEYS, value=st.binary(max_size=4))
    def append(self, key: str, value: bytes) -> None:
        self.differ("APPEND", key, value)

    @rule(key=BIT_KEYS, offset=st.integers(0, 12), value=st.binary(max_size=4))
    def setrange(self, key: str, offset: int, value: bytes) -> None:
        self.differ("SETRANGE", key, offset, value)

    @rule(key=BIT_KEYS, by=st.integers(-3, 3))
    def incrby(self, key: str, by: int) -> None:
        self.differ("INCRBY", key, by)

    @rule(key=BIT_KEYS)
    def encoding(self, key: str) -> None:
        self.differ("OBJECT", "ENCODING", key)
        self.differ("STRLEN", key)

    @rule(key=BIT_KEYS, offset=st.integers(0, 90))
    def getbit(self, key: str, offset: int) -> None:
        self.differ("GETBIT", key, offset)

    @rule(
        key=BIT_KEYS,
        rng=st.one_of(st.none(), st.tuples(INDEXES, INDEXES)),
        unit=st.sampled_from([None, "BYTE", "BIT"]),
    )
    def count(self, key: str, rng: tuple[int, int] | None, unit: str | None) -> None:
        args: list[str | int] = [] if rng is None else [*rng, *([] if unit is None else [unit])]
        self.differ("BITCOUNT", key, *args)

    @rule(
        key=BIT_KEYS,
        bit=st.sampled_from([0, 1]),
        rng=st.lists(st.integers(-20, 20), max_size=2),
        unit=st.sampled_from([None, "BIT"]),
    )
    def pos(self, key: str, bit: int, rng: list[int], unit: str | None) -> None:
        extra = [unit] if unit is not None and len(rng) == 2 else []
        self.differ("BITPOS", key, bit, *rng, *extra)

    @rule(
        op=st.sampled_from(["AND", "OR", "XOR", "NOT"]),
        dest=BIT_KEYS,
        sources=st.lists(BIT_KEYS, min_size=1, max_size=3),
    )
    def bitop(self, op: str, dest: str, sources: list[str]) -> None:
        self.differ("BITOP", op, dest, *sources)

    @rule(
        key=BIT_KEYS,
        ops=st.lists(
            st.one_of(
                st.tuples(st.just("GET"), FIELD_TYPES, st.integers(0, 40)),
                st.tuples(
                    st.sampled_from(["SET", "INCRBY"]),
                    FIELD_TYPES,
                    st.integers(0, 40),
                    FIELD_VALUES,
                ),
                st.tuples(st.just("OVERFLOW"), st.sampled_from(["WRAP", "SAT", "FAIL"])),
            ),
            max_size=4,
        ),
    )
    def bitfield(self, key: str, ops: list[tuple[str | int, ...]]) -> None:
        self.differ("BITFIELD", key, *[x for op in ops for x in op])

    @rule(key=BIT_KEYS)
    def get(self, key: str) -> None:
        self.differ("GET", key)


@pytest.mark.parametrize("machine", [ListMachine, BitmapMachine])
def test_sequences_match_redis(pair: Differ, machine: type[RuleBasedStateMachine]) -> None:
    machine.differ = pair
    run_state_machine_as_test(machine, settings=SETTINGS)
