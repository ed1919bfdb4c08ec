"""Sorted sets against a real redis-server: a Hypothesis state machine runs the same random
command sequences on slotd and on Redis and compares every reply.

Rules of comparison:
- Byte for byte by default, errors included: sorted-set replies are ordered by Redis's
  definition (score, then member), so nearly everything compares exactly.
- Lex-range commands are only run on keys whose members are in order along the set (as
  when they all have one score): Redis leaves the answer undefined otherwise (and its
  skiplist answer then depends on node levels).
- ZRANDMEMBER is checked for its promises (how many, distinct or not, members of the key
  with their scores); when it must return the whole set its order is Redis's, so exact.
- ZSCAN of a skiplist is walked to the end on each side (cursors differ) and the unions of
  (member, score) compared; a listpack's one-shot answer is compared exactly.
The machine lowers the listpack thresholds so short sequences cross them, and puts the
servers' own values back when it ends.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule, run_state_machine_as_test

from tests.compat.conftest import Differ
from tests.procs import ServerProcess
from tests.rawclient import RawClient
from tests.support import decode

pytestmark = pytest.mark.interop

SETTINGS = settings(
    max_examples=60,
    stateful_step_count=35,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
THRESHOLDS = ("zset-max-listpack-entries", "zset-max-listpack-value")

ZKEYS = (b"z1", b"z2", b"z3")
KEY = st.sampled_from(ZKEYS)
ANY_KEY = st.sampled_from((*ZKEYS, b"s", b"str", b"none"))
MEMBER = st.sampled_from([b"a", b"b", b"c", b"d", b"e", b"", b"bb", b"member-long"])
SCORE = st.sampled_from(
    [
        b"0",
        b"1",
        b"2",
        b"-1",
        b"2.5",
        b"1e16",
        b"-0",
        b"inf",
        b"-inf",
        b"0x10",
        b"3.0e-2",
        b"1e308",
        b"nan",
        b"abc",
        b" 1",
    ]
)
SCORE_BOUND = st.sampled_from(
    [
        b"-inf",
        b"+inf",
        b"0",
        b"1",
        b"(1",
        b"2.5",
        b"(2.5",
        b"-1",
        b"(inf",
        b"",
        b"1e400",
        b"nan",
        b"x",
    ]
)
LEX_BOUND = st.sampled_from([b"-", b"+", b"[a", b"(a", b"[b", b"(bb", b"[c", b"(e", b"[", b"a"])
INDEX = st.sampled_from([b"0", b"1", b"2", b"-1", b"-2", b"5", b"-10", b"x"])
COUNT = st.sampled_from([b"0", b"1", b"2", b"3", b"10", b"-1", b"x"])
WEIGHT = st.sampled_from([b"1", b"2", b"-1", b"0", b"0.5", b"inf", b"x"])


@pytest.fixture
def pair(slotd_proc: ServerProcess, redis_proc: ServerProcess) -> Iterator[Differ]:
    with RawClient(*slotd_proc.addr) as ours, RawClient(*redis_proc.addr) as theirs:
        differ = Differ(ours, theirs)
        with differ.restoring(*THRESHOLDS):
            yield differ


def pairs_of(reply: list[Any]) -> list[tuple[bytes, Any]]:
    """WITHSCORES replies: RESP2 is flat, RESP3 a list of [member, score] pairs."""
    if reply and isinstance(reply[0], list):
        return [(m, s) for m, s in reply]
    return list(zip(reply[::2], reply[1::2], strict=True))


def score_text(score: Any) -> bytes:
    """A decoded score (bulk in RESP2, float in RESP3) as Redis's %.17g text."""
    if isinstance(score, bytes):
        return score
    return (
        b"inf" if score == float("inf") else b"-inf" if score == -float("inf") else b"%.17g" % score
    )


class ZSetMachine(RuleBasedStateMachine):
    diff: ClassVar[Differ]  # bound by the test to its connections

    @initialize(
        resp3=st.booleans(),
        entries=st.sampled_from([b"0", b"3", b"128"]),
        value=st.sampled_from([b"4", b"64"]),
    )
    def start(self, resp3: bool, entries: bytes, value: bytes) -> None:
        self.diff("FLUSHALL")
        self.diff.both("HELLO", "3" if resp3 else "2")
        self.diff("CONFIG", "SET", "zset-max-listpack-entries", entries)
        self.diff("CONFIG", "SET", "zset-max-listpack-value", value)
        self.diff("SADD", "s", "a", "c", "x")
        self.diff("SET", "str", "v")

    # --- helpers ---------------------------------------------------------------------------
    def theirs(self, *args: Any) -> Any:
        return decode(self.diff.theirs.call(*args))

    def content(self, key: bytes) -> dict[bytes, bytes]:
        """member -> score text of a sorted set on Redis's side ({} if not a zset)."""
        if self.theirs("TYPE", key) != b"zset":
            return {}
        return {
            m: score_text(s) for m, s in pairs_of(self.theirs("ZRANGE", key, 0, -1, "WITHSCORES"))
        }

    def lex_ordered(self, key: bytes) -> bool:
        members = list(self.content(key))
        return members == sorted(members)

    def check_key(self, key: bytes) -> None:
        self.diff("ZRANGE", key, 0, -1, "WITHSCORES")
        self.diff("OBJECT", "ENCODING", key)

    # --- writes ----------------------------------------------------------------------------
    @rule(
        key=ANY_KEY,
        flags=st.lists(st.sampled_from([b"NX", b"XX", b"GT", b"LT", b"CH", b"INCR"]), max_size=2),
        pairs=st.lists(st.tuples(SCORE, MEMBER), min_size=1, max_size=4),
    )
    def zadd(self, key: bytes, flags: list[bytes], pairs: list[tuple[bytes, bytes]]) -> None:
        self.diff("ZADD", key, *flags, *(x for pair in pairs for x in pair))
        self.check_key(key)

    @rule(key=ANY_KEY, increment=SCORE, member=MEMBER)
    def zincrby(self, key: bytes, increment: bytes, member: bytes) -> None:
        self.diff("ZINCRBY", key, increment, member)

    @rule(key=ANY_KEY, members=st.lists(MEMBER, min_size=1, max_size=3))
    def zrem(self, key: bytes, members: list[bytes]) -> None:
        self.diff("ZREM", key, *members)
        self.diff("EXISTS", key)

    @rule(key=ANY_KEY, start=INDEX, stop=INDEX)
    def zremrangebyrank(self, key: bytes, start: bytes, stop: bytes) -> None:
        self.diff("ZREMRANGEBYRANK", key, start, stop)
        self.check_key(key)

    @rule(key=ANY_KEY, lo=SCORE_BOUND, hi=SCORE_BOUND)
    def zremrangebyscore(self, key: bytes, lo: bytes, hi: bytes) -> None:
        self.diff("ZREMRANGEBYSCORE", key, lo, hi)
        self.check_key(key)

    @rule(key=ANY_KEY, lo=LEX_BOUND, hi=LEX_BOUND)
    def zremrangebylex(self, key: bytes, lo: bytes, hi: bytes) -> None:
        if self.lex_ordered(key):
            self.diff("ZREMRANGEBYLEX", key, lo, hi)
            self.check_key(key)

    @rule(
        key=ANY_KEY,
        command=st.sampled_from([b"ZPOPMIN", b"ZPOPMAX"]),
        count=st.one_of(st.none(), COUNT),
    )
    def zpop(self, key: bytes, command: bytes, count: bytes | None) -> None:
        self.diff(command, key, *(() if count is None else (count,)))

    @rule(
        keys=st.lists(ANY_KEY, min_size=1, max_size=3),
        where=st.sampled_from([b"MIN", b"max"]),
        count=st.one_of(st.none(), COUNT),
    )
    def zmpop(self, keys: list[bytes], where: bytes, count: bytes | None) -> None:
        self.diff("ZMPOP", len(keys), *keys, where, *(() if count is None else (b"COUNT", count)))

    @rule(key=st.sampled_from((*ZKEYS, b"str")))
    def delete(self, key: bytes) -> None:
        self.diff("DEL", key)

    @rule(
        key=KEY,
        score=st.sampled_from([b"0", b"-0", b"7"]),
        members=st.lists(MEMBER, min_size=1, max_size=6),
    )
    def same_score(self, key: bytes, score: bytes, members: list[bytes]) -> None:
        """A fresh key whose members share one score, for the lex-range commands."""
        self.diff("DEL", key)
        self.diff("ZADD", key, *(x for m in members for x in (score, m)))

    # --- reads -----------------------------------------------------------------------------
    @rule(key=ANY_KEY, members=st.lists(MEMBER, min_size=1, max_size=3))
    def scores_and_ranks(self, key: bytes, members: list[bytes]) -> None:
        self.diff("ZCARD", key)
        self.diff("ZSCORE", key, members[0])
        self.diff("ZMSCORE", key, *members)
        self.diff("ZRANK", key, members[0])
        self.diff("ZREVRANK", key, members[-1])

    @rule(key=ANY_KEY, lo=SCORE_BOUND, hi=SCORE_BOUND)
    def zcount(self, key: bytes, lo: bytes, hi: bytes) -> None:
        self.diff("ZCOUNT", key, lo, hi)

    @rule(key=ANY_KEY, lo=LEX_BOUND, hi=LEX_BOUND)
    def zlexcount(self, key: bytes, lo: bytes, hi: bytes) -> None:
        if self.lex_ordered(key):
            self.diff("ZLEXCOUNT", key, lo, hi)

    @rule(
        key=ANY_KEY,
        start=INDEX,
        stop=INDEX,
        options=st.lists(st.sampled_from([b"REV", b"WITHSCORES", b"LIMIT"]), max_size=2),
    )
    def zrange_by_rank(self, key: bytes, start: bytes, stop: bytes, options: list[bytes]) -> None:
        extra = [x for o in options for x in ((o, b"0", b"-1") if o == b"LIMIT" else (o,))]
        self.diff("ZRANGE", key, start, stop, *extra)
        self.diff("ZREVRANGE", key, start, stop, *(o for o in options if o == b"WITHSCORES"))

    @rule(
        key=ANY_KEY,
        lo=SCORE_BOUND,
        hi=SCORE_BOUND,
        rev=st.booleans(),
        withscores=st.booleans(),
        limit=st.one_of(st.none(), st.tuples(COUNT, COUNT)),
    )
    def zrange_by_score(
        self,
        key: bytes,
        lo: bytes,
        hi: bytes,
        rev: bool,
        withscores: bool,
        limit: tuple[bytes, bytes] | None,
    ) -> None:
        tail = [
            *((b"WITHSCORES",) if withscores else ()),
            *(() if limit is None else (b"LIMIT", *limit)),
        ]
        self.diff("ZRANGE", key, lo, hi, "BYSCORE", *((b"REV",) if rev else ()), *tail)
        self.diff("ZREVRANGEBYSCORE" if rev else "ZRANGEBYSCORE", key, lo, hi, *tail)

    @rule(
        key=ANY_KEY,
        lo=LEX_BOUND,
        hi=LEX_BOUND,
        rev=st.booleans(),
        limit=st.one_of(st.none(), st.tuples(COUNT, COUNT)),
    )
    def zrange_by_lex(
        self, key: bytes, lo: bytes, hi: bytes, rev: bool, limit: tuple[bytes, bytes] | None
    ) -> None:
        if not self.lex_ordered(key):
            return
        tail = () if limit is None else (b"LIMIT", *limit)
        self.diff("ZRANGE", key, lo, hi, "BYLEX", *((b"REV",) if rev else ()), *tail)
        self.diff("ZREVRANGEBYLEX" if rev else "ZRANGEBYLEX", key, lo, hi, *tail)

    @rule(
        dst=ANY_KEY,
        src=ANY_KEY,
        by=st.sampled_from([b"rank", b"BYSCORE", b"BYLEX"]),
        rev=st.booleans(),
        data=st.data(),
    )
    def zrangestore(
        self, dst: bytes, src: bytes, by: bytes, rev: bool, data: st.DataObject
    ) -> None:
        if by == b"rank":
            lo, hi, extra = data.draw(INDEX), data.draw(INDEX), ()
        elif by == b"BYSCORE":
            lo, hi, extra = data.draw(SCORE_BOUND), data.draw(SCORE_BOUND), (by,)
        else:
            if not self.lex_ordered(src):
                return
            lo, hi, extra = data.draw(LEX_BOUND), data.draw(LEX_BOUND), (by,)
        self.diff("ZRANGESTORE", dst, src, lo, hi, *extra, *((b"REV",) if rev else ()))
        self.check_key(dst)

    # --- set algebra -----------------------------------------------------------------------
    @rule(
        op=st.sampled_from([b"ZUNION", b"ZINTER", b"ZDIFF"]),
        keys=st.lists(ANY_KEY, min_size=1, max_size=3),
        store=st.booleans(),
        weights=st.booleans(),
        aggregate=st.sampled_from([None, b"SUM", b"MIN", b"MAX"]),
        withscores=st.booleans(),
        data=st.data(),
    )
    def setop(
        self,
        op: bytes,
        keys: list[bytes],
        store: bool,
        weights: bool,
        aggregate: bytes | None,
        withscores: bool,
        data: st.DataObject,
    ) -> None:
        options: list[bytes] = []
        if weights and op != b"ZDIFF":
            options += [b"WEIGHTS", *(data.draw(WEIGHT) for _ in keys)]
        if aggregate is not None and op != b"ZDIFF":
            options += [b"AGGREGATE", aggregate]
        if store:
            dst = data.draw(ANY_KEY)
            self.diff(op + b"STORE", dst, len(keys), *keys, *options)
            self.check_key(dst)
        else:
            self.diff(op, len(keys), *keys, *options, *((b"WITHSCORES",) if withscores else ()))

    @rule(
        keys=st.lists(ANY_KEY, min_size=1, max_size=3),
        limit=st.one_of(st.none(), st.sampled_from([b"0", b"1", b"2", b"-1"])),
    )
    def zintercard(self, keys: list[bytes], limit: bytes | None) -> None:
        self.diff("ZINTERCARD", len(keys), *keys, *(() if limit is None else (b"LIMIT", limit)))

    # --- random and scans ------------------------------------------------------------------
    @rule(
        key=ANY_KEY,
        count=st.one_of(st.none(), COUNT, st.sampled_from([b"-5", b"20"])),
        withscores=st.booleans(),
    )
    def zrandmember(self, key: bytes, count: bytes | None, withscores: bool) -> None:
        args: tuple[bytes, ...] = (b"ZRANDMEMBER", key)
        if count is not None:
            args += (count, *((b"WITHSCORES",) if withscores else ()))
        ours, theirs = self.diff.both(*args)
        if theirs.startswith(b"-") or ours.startswith(b"-") or count is None:
            # errors, and the single-member form: compare what is deterministic
            assert ours.startswith(b"-") == theirs.startswith(b"-"), (args, ours, theirs)
            if ours.startswith(b"-") or decode(theirs) is None:
                assert ours == theirs, (args, ours, theirs)
            else:
                assert decode(ours) in self.content(key), (args, ours)
            return
        content, n = self.content(key), int(count)
        if n >= len(content) and content:
            assert ours == theirs, (args, ours, theirs)  # the whole set, from the top
            return
        got, want = decode(ours), decode(theirs)
        assert len(got) == len(want), (args, ours, theirs)
        if got:
            assert type(got[0]) is type(want[0]), (args, ours, theirs)  # flat or pairs
        picked = pairs_of(got) if withscores else [(m, None) for m in got]
        assert len(picked) == (0 if not content else -n if n < 0 else min(n, len(content)))
        for member, score in picked:
            assert member in content
            assert score is None or score_text(score) == content[member]
        if n > 0:
            assert len({m for m, _ in picked}) == len(picked)

    @rule(
        key=ANY_KEY,
        match=st.sampled_from([(), (b"MATCH", b"*"), (b"MATCH", b"[ab]*")]),
        count=st.sampled_from([(), (b"COUNT", b"2"), (b"COUNT", b"0")]),
    )
    def zscan(self, key: bytes, match: tuple[bytes, ...], count: tuple[bytes, ...]) -> None:
        args = (b"ZSCAN", key, b"0", *match, *count)
        ours, theirs = self.diff.both(*args)
        if theirs.startswith(b"-") or self.theirs("OBJECT", "ENCODING", key) != b"skiplist":
            assert ours == theirs, (args, ours, theirs)
            return
        assert self.walk(self.diff.ours, key, match, count) == self.walk(
            self.diff.theirs, key, match, count
        )

    @staticmethod
    def walk(
        client: RawClient, key: bytes, match: tuple[bytes, ...], count: tuple[bytes, ...]
    ) -> set[tuple[bytes, bytes]]:
        cursor, seen = b"0", set()
        while True:
            cursor, flat = decode(client.call("ZSCAN", key, cursor, *match, *count))
            seen.update(zip(flat[::2], flat[1::2], strict=True))
            if cursor == b"0":
                return seen


def test_zset_sequences_match_redis(pair: Differ) -> None:
    bound = type("BoundZSetMachine", (ZSetMachine,), {"diff": pair})
    run_state_machine_as_test(bound, settings=SETTINGS)
