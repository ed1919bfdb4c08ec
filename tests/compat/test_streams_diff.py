"""Streams against a real redis-server: targeted sequences, and a Hypothesis state machine
that runs the same random command sequences on slotd and on Redis and compares every reply.

Rules of comparison:
- Byte for byte, errors included, except where a reply holds the servers' clocks: idle
  times (XPENDING's extended form, XINFO CONSUMERS) and absolute times (XINFO STREAM FULL's
  delivery and seen times) are masked before the decoded replies are compared.
- IDs are explicit, or `<ms>-*`: `*` would take each server's own clock. It is used only on
  streams whose last ID is in the far future, where both servers must answer last+1.
- XINFO STREAM is compared whole, radix-tree-keys and radix-tree-nodes included: slotd
  splits streams into nodes where Redis does. The machine picks small node limits
  (stream-node-max-entries/bytes) so short sequences cross them, and puts the servers' own
  values back when it ends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
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

NODE_LIMITS = ("stream-node-max-entries", "stream-node-max-bytes")
FUTURE = 2**63  # an ms far past any clock: `*` after it is last ID + 1 on both servers

Mask = Callable[[Any], Any]


@pytest.fixture
def pair(slotd_proc: ServerProcess, redis_proc: ServerProcess) -> Iterator[Differ]:
    with RawClient(*slotd_proc.addr) as ours, RawClient(*redis_proc.addr) as theirs:
        differ = Differ(ours, theirs)
        assert differ.both("FLUSHALL") == (b"+OK\r\n", b"+OK\r\n")
        with differ.restoring(*NODE_LIMITS):
            yield differ


def mask_times(reply: Any) -> Any:
    """Absolute unix-ms times (any integer past 10**12) become 'T'; idle fields 'I'."""
    if isinstance(reply, int) and reply > 10**12:
        return "T"
    if isinstance(reply, dict):
        return {k: "I" if k == b"idle" else mask_times(v) for k, v in reply.items()}
    if isinstance(reply, list):
        out = [mask_times(x) for x in reply]
        for i in range(len(out) - 1):
            if out[i] == b"idle":
                out[i + 1] = "I"
        return out
    return reply


def mask_pending(reply: Any) -> Any:
    """XPENDING's extended form: [id, consumer, idle, deliveries] entries."""
    if isinstance(reply, list):
        return [
            [e[0], e[1], "I", e[3]] if isinstance(e, list) and len(e) == 4 else e for e in reply
        ]
    return reply


def masked(diff: Differ, mask: Mask, *args: Any) -> Any:
    ours, theirs = diff.both(*args)
    if theirs.startswith(b"-"):
        assert ours == theirs, (args, ours, theirs)
        return None
    mine, redis = mask(decode(ours)), mask(decode(theirs))
    assert mine == redis, f"{args!r}\n  slotd: {ours!r}\n  redis: {theirs!r}"
    return redis


# --- targeted sequences -------------------------------------------------------------------
def test_xadd_ids_options_and_errors(diff: Differ) -> None:
    for args in [
        ("s", "1-1"),
        ("s", "1-1"),
        ("s", "0-0"),
        ("z", "0-0"),
        ("z", "0-*"),
        ("z", "0-*"),
        ("s", "1-*"),
        ("s", "5"),
        ("s", "5-x"),
        ("s", "+"),
        ("s", "-"),
        ("s", " 7"),
        ("s", "8--05"),
        ("s", "9- -1"),
        ("s", "+10"),
        ("s", "011-01"),
        ("s", "12\x00zz"),
        ("s", "1" * 128),
        ("s", "18446744073709551616-0"),
        ("s", "NOMKSTREAM", "20-0"),
        ("none", "NOMKSTREAM", "*"),
        ("s", "*-1"),
    ]:
        diff("XADD", *args, "f", "v")
    diff("XADD", "top", "18446744073709551615-18446744073709551615", "f", "v")
    diff("XADD", "top", "*", "f", "v")
    diff("XADD", "top2", "18446744073709551615-*", "f", "v")
    diff("XADD", "top2", "18446744073709551615-*", "f", "v")
    diff("XADD", "fut", f"{FUTURE}-5", "f", "v")
    diff("XADD", "fut", "*", "f", "v")  # the clock is behind: last ms, next sequence
    for bad in [
        ("MAXLEN", "-1"),
        ("MAXLEN", "~", "x"),
        ("MAXLEN", "5", "MINID", "3"),
        ("LIMIT", "5"),
        ("MAXLEN", "5", "LIMIT", "5"),
        ("MAXLEN", "~", "5", "LIMIT", "-1"),
        ("MINID", "+"),
        ("LIMIT", "0"),
        ("MAXLEN",),
    ]:
        diff("XADD", "s", *bad, "*", "f", "v")
    # A valid trim with an explicit ID: `*` would take each server's own clock.
    diff("XADD", "s", "MAXLEN", "~", "5", "100-1", "f", "v")
    diff("XADD", "s", "*", "f")
    diff("SET", "str", "x")
    diff("XADD", "str", "*", "f", "v")
    diff("XINFO", "STREAM", "s")


def test_ranges_deletes_and_setid(diff: Differ) -> None:
    for sid in ("1-0", "2-0", "3-5", "7-1", "7-2"):
        diff("XADD", "s", sid, "a", sid, "b", "")
    for start, end in [
        ("-", "+"),
        ("2", "2"),
        ("7", "7"),
        ("(1", "+"),
        ("(1-0", "(3-5"),
        ("-", "(0"),
        ("+", "-"),
        ("(", "+"),
        ("(-", "+"),
        ("-", "(+"),
        ("(18446744073709551615-18446744073709551615", "+"),
        ("-", "(0-0"),
    ]:
        diff("XRANGE", "s", start, end)
        diff("XREVRANGE", "s", end, start)
    for count in ("0", "1", "-1", "x"):
        diff("XRANGE", "s", "-", "+", "COUNT", count)
        diff("XRANGE", "none", "-", "+", "COUNT", count)
    diff("XRANGE", "s", "-", "+", "COUNT")
    diff("XRANGE", "s", "-", "+", "COUNT", "1", "COUNT", "2")
    diff("XDEL", "s", "2-0", "2-0", "9-9")
    diff("XDEL", "s", "1-0", "bad")
    diff("XDEL", "none", "bad")
    diff("XSETID", "s", "3-0")
    diff("XSETID", "s", "8-0", "ENTRIESADDED", "1")
    diff("XSETID", "s", "9-0", "ENTRIESADDED", "10", "MAXDELETEDID", "8-0")
    diff("XSETID", "s", "9-0", "MAXDELETEDID", "10-0")
    diff("XSETID", "s", "9-0", "ENTRIESADDED", "-1")
    diff("XSETID", "s", "9-0", "bogus")
    diff("XSETID", "none", "1-1")
    diff("XINFO", "STREAM", "s")
    diff("XDEL", "s", "1-0", "3-5", "7-1", "7-2")
    diff("XINFO", "STREAM", "s")
    diff("XSETID", "s", "2-0")  # an empty stream may go back
    diff("XINFO", "STREAM", "s")
    diff.both("HELLO", "3")
    diff("XRANGE", "s", "-", "+", "COUNT", "0")
    diff("XINFO", "STREAM", "s")


def test_node_splits_and_approximate_trims(pair: Differ) -> None:
    diff = pair
    diff("CONFIG", "SET", "stream-node-max-bytes", "4096")
    diff("CONFIG", "SET", "stream-node-max-entries", "100")
    for i in range(1, 40):
        diff("XADD", "big", f"{i}-0", "f", "x" * 200)
    diff("XINFO", "STREAM", "big")
    for i in range(1, 260):
        diff("XADD", "t", "MAXLEN", "~", "150", f"{i}-0", "f", str(i))
    diff("XINFO", "STREAM", "t")
    for i in range(1, 351):
        diff("XADD", "u", f"{i}-0", "f", "v")
    for args in [
        ("MAXLEN", "~", "120"),
        ("MAXLEN", "~", "50", "LIMIT", "100"),
        ("MAXLEN", "~", "0", "LIMIT", "49"),
        ("MINID", "~", "340"),
        ("MINID", "345"),
        ("MAXLEN", "=", "2"),
        ("MAXLEN", "~", "0", "LIMIT", "0"),
    ]:
        diff("XTRIM", "u", *args)
        diff("XINFO", "STREAM", "u")
    diff("CONFIG", "SET", "stream-node-max-entries", "4")
    for i in range(1, 30):
        diff("XADD", "v", "MINID", "~", str(i - 9), f"{i}-{i % 3}", "f", str(i), "g", "h")
        diff("XINFO", "STREAM", "v")
    diff("XTRIM", "v", "MAXLEN", "~", "0")
    diff("XINFO", "STREAM", "v")
    for bad in [("x",), ("LIMIT", "10"), ("MAXLEN", "1", "LIMIT", "10"), ("MINID", "~", "x")]:
        diff("XTRIM", "u", *bad)
    diff("CONFIG", "SET", "stream-node-max-entries", "100")


def test_xread(diff: Differ) -> None:
    for sid in ("1-0", "2-0", "3-0"):
        diff("XADD", "s", sid, "k", sid)
    diff("SET", "str", "x")
    for args in [
        ("STREAMS", "s", "0"),
        ("COUNT", "1", "STREAMS", "s", "0"),
        ("COUNT", "-1", "STREAMS", "s", "0"),
        ("STREAMS", "s", "none", "0", "0"),
        ("STREAMS", "s", "s", "0", "1"),
        ("STREAMS", "s", "$"),
        ("STREAMS", "s", "2"),
        ("STREAMS", "s", "+"),
        ("STREAMS", "s", ">"),
        ("STREAMS", "s", "(1"),
        ("STREAMS", "s", "none", "0"),
        ("GROUP", "g", "c", "STREAMS", "s", "0"),
        ("NOACK", "STREAMS", "s", "0"),
        ("foo", "STREAMS", "s", "0"),
        ("BLOCK", "-1", "STREAMS", "s", "0"),
        ("BLOCK", "1.5", "STREAMS", "s", "0"),
        ("BLOCK", "0", "STREAMS", "s", "0"),
        ("COUNT", "1", "BLOCK", "0"),
        ("STREAMS", "str", "0"),
        ("STREAMS", "s", "str", "0", "0"),
    ]:
        diff("XREAD", *args)
    diff("MULTI")
    diff("XREAD", "BLOCK", "0", "STREAMS", "s", "$")
    diff("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">")
    diff("EXEC")
    diff.both("HELLO", "3")
    diff("XREAD", "COUNT", "1", "STREAMS", "s", "s", "0", "1")
    diff("XREAD", "STREAMS", "s", "9")


def test_consumer_groups(diff: Differ) -> None:
    for sid in ("1-0", "2-0", "3-0", "4-0", "5-0"):
        diff("XADD", "s", sid, "k", sid)
    for args in [
        ("CREATE", "none", "g", "$"),
        ("CREATE", "s", "g", "bad"),
        ("CREATE", "s", "g", "0", "ENTRIESREAD", "-2"),
        ("CREATE", "s", "g", "0"),
        ("CREATE", "s", "g", "0"),
        ("CREATE", "s", "g2", "$", "ENTRIESREAD", "3"),
        ("CREATE", "s", "g3", "0", "foo"),
        ("CREATE", "s", "g3", "0", "MKSTREAM", "ENTRIESREAD"),
        ("CREATE", "m", "g", "$", "MKSTREAM"),
        ("SETID", "s", "nog", "0"),
        ("SETID", "s", "g2", "-"),
        ("SETID", "s", "g2", "$", "ENTRIESREAD", "5"),
        ("CREATECONSUMER", "s", "g", "c0"),
        ("CREATECONSUMER", "s", "g", "c0"),
        ("CREATECONSUMER", "s", "nog", "c0"),
        ("DELCONSUMER", "s", "g", "c0"),
        ("DESTROY", "s", "nog"),
        ("HELP",),
        ("foo",),
    ]:
        diff("XGROUP", *args)
    diff("XINFO", "GROUPS", "s")
    diff("XREADGROUP", "GROUP", "g", "alice", "COUNT", "2", "STREAMS", "s", ">")
    diff("XREADGROUP", "GROUP", "g", "bob", "COUNT", "1", "STREAMS", "s", ">")
    diff("XREADGROUP", "GROUP", "g", "bob", "NOACK", "STREAMS", "s", ">")
    diff("XREADGROUP", "GROUP", "g", "carol", "STREAMS", "s", ">")
    diff("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "0")
    for bad in [
        ("GROUP", "nog", "c", "STREAMS", "s", ">"),
        ("GROUP", "g", "c", "STREAMS", "s", "$"),
        ("GROUP", "g", "c", "STREAMS", "s", "+"),
        ("COUNT", "1", "COUNT", "1", "STREAMS", "s", ">"),
    ]:
        diff("XREADGROUP", *bad)
    diff("XDEL", "s", "1-0")
    diff("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "0")
    diff("XPENDING", "s", "g")
    masked(diff, mask_pending, "XPENDING", "s", "g", "-", "+", "10")
    masked(diff, mask_pending, "XPENDING", "s", "g", "(1", "(3", "10", "alice")
    for bad in [
        ("-", "+"),
        ("IDLE", "x", "-", "+", "10"),
        ("-", "+", "x", "bad"),
        ("bad", "+", "1"),
    ]:
        diff("XPENDING", "s", "g", *bad)
    diff("XPENDING", "s", "nog")
    diff("XACK", "s", "g", "2-0", "9-9")
    diff("XACK", "s", "g", "2-0", "bad")
    diff("XACK", "s", "nog", "bad")
    diff("XCLAIM", "s", "g", "dave", "0", "1-0", "3-0", "JUSTID")
    diff("XCLAIM", "s", "g", "dave", "0", "5-0", "RETRYCOUNT", "9")
    diff("XCLAIM", "s", "g", "erin", "0", "4-0", "FORCE", "JUSTID", "LASTID", "9-0")
    for bad in [
        ("x", "4-0"),
        ("0", "bad"),
        ("0", "4-0", "IDLE"),
        ("0", "4-0", "TIME", "x"),
        ("0", "4-0", "RETRYCOUNT", "x"),
        ("0", "4-0", "LASTID", "x"),
    ]:
        diff("XCLAIM", "s", "g", "dave", *bad)
    diff("XAUTOCLAIM", "s", "g", "frank", "0", "0", "COUNT", "1")
    diff("XAUTOCLAIM", "s", "g", "frank", "0", "(1", "JUSTID")
    for bad in [("0", "0", "COUNT", "0"), ("x", "0"), ("0", "bad"), ("0", "0", "foo")]:
        diff("XAUTOCLAIM", "s", "g", "frank", *bad)
    diff("XAUTOCLAIM", "s", "nog", "frank", "0", "0")
    diff("XINFO", "GROUPS", "s")
    masked(diff, mask_times, "XINFO", "CONSUMERS", "s", "g")
    masked(diff, mask_times, "XINFO", "STREAM", "s", "FULL")
    masked(diff, mask_times, "XINFO", "STREAM", "s", "FULL", "COUNT", "1")
    diff("XGROUP", "DELCONSUMER", "s", "g", "alice")
    diff("XGROUP", "DESTROY", "s", "g")
    diff("XINFO", "STREAM", "s")
    diff.both("HELLO", "3")
    diff("XPENDING", "s", "g2")
    masked(diff, mask_times, "XINFO", "STREAM", "s", "FULL")
    diff("XINFO", "GROUPS", "s")
    diff("XINFO", "HELP")
    diff("XINFO", "STREAM", "s", "FULL", "COUNT")


WATCHED_SETUP = [
    ("XADD", "s", "1-0", "a", "1"),
    ("XADD", "s", "2-0", "a", "2"),
    ("XGROUP", "CREATE", "s", "g", "0"),
    ("XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "s", ">"),
]
WATCH_PROBES = [
    ("XADD", "s", "9-0", "a", "b"),
    ("XDEL", "s", "2-0"),
    ("XDEL", "s", "7-7"),
    ("XTRIM", "s", "MAXLEN", "0"),
    ("XTRIM", "s", "MAXLEN", "5"),
    ("XSETID", "s", "5-0"),
    ("XGROUP", "CREATE", "s", "g2", "0"),
    ("XGROUP", "CREATE", "new", "g", "$", "MKSTREAM"),
    ("XGROUP", "SETID", "s", "g", "0"),
    ("XGROUP", "DESTROY", "s", "g"),
    ("XGROUP", "CREATECONSUMER", "s", "g", "z"),
    ("XGROUP", "DELCONSUMER", "s", "g", "c"),
    ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"),
    ("XREADGROUP", "GROUP", "g", "newc", "STREAMS", "s", "0"),
    ("XACK", "s", "g", "1-0"),
    ("XCLAIM", "s", "g", "d", "0", "1-0"),
    ("XAUTOCLAIM", "s", "g", "d", "0", "0"),
]


@pytest.mark.parametrize("probe", WATCH_PROBES, ids=lambda p: " ".join(p[:2]))
def test_which_commands_invalidate_watch(
    slotd_proc: ServerProcess, redis_proc: ServerProcess, probe: tuple[str, ...]
) -> None:
    """WATCH a stream, change it from another connection, see whether EXEC runs."""
    outcomes = []
    for server in (slotd_proc, redis_proc):
        with RawClient(*server.addr) as watcher, RawClient(*server.addr) as other:
            watcher.call("FLUSHALL")
            for args in WATCHED_SETUP:
                watcher.call(*args)
            watcher.call("WATCH", "new" if "new" in probe else "s")
            other.call(*probe)
            watcher.call("MULTI")
            watcher.call("PING")
            outcomes.append(watcher.call("EXEC"))
    assert outcomes[0] == outcomes[1], probe


# --- the state machine --------------------------------------------------------------------
KEYS = (b"s1", b"s2")
KEY = st.sampled_from(KEYS)
ANY_KEY = st.sampled_from((*KEYS, b"str", b"none"))
GROUP = st.sampled_from([b"g1", b"g2"])
CONSUMER = st.sampled_from([b"alice", b"bob", b"carol"])
MS = st.sampled_from([1, 2, 3, 5, 8, 13, 100, 2**32, FUTURE, 2**64 - 1])
SEQ = st.sampled_from([b"0", b"1", b"5", b"*", b"", b"18446744073709551615"])
RANGE_ID = st.sampled_from(
    [
        b"-",
        b"+",
        b"0",
        b"1",
        b"2-0",
        b"(2-0",
        b"3",
        b"(5",
        b"8-1",
        b"13",
        b"(13-0",
        b"4294967296",
        b"bad",
        b"(",
    ]
)
READ_ID = st.sampled_from([b"0", b"1-0", b"2", b"5-1", b"13", b"$", b"+", b"bad"])
FIELD = st.sampled_from([b"f", b"g", b"1", b"field"])
VALUE = st.sampled_from([b"v", b"", b"12", b"-7", b"x" * 70, b"y" * 300, b"123456789012345"])
COUNT = st.sampled_from([b"0", b"1", b"2", b"5", b"-1", b"x"])


class StreamMachine(RuleBasedStateMachine):
    diff: ClassVar[Differ]  # bound by the test to its connections

    @initialize(
        resp3=st.booleans(),
        entries=st.sampled_from([b"0", b"3", b"5", b"100"]),
        node_bytes=st.sampled_from([b"0", b"150", b"600", b"4096"]),
    )
    def start(self, resp3: bool, entries: bytes, node_bytes: bytes) -> None:
        self.diff("FLUSHALL")
        self.diff.both("HELLO", "3" if resp3 else "2")
        self.diff("CONFIG", "SET", "stream-node-max-entries", entries)
        self.diff("CONFIG", "SET", "stream-node-max-bytes", node_bytes)
        self.diff("SET", "str", "v")
        self.ids: set[bytes] = set()  # IDs ever added, for deletes, claims and reads

    def some_ids(self, data: st.DataObject, most: int = 3) -> list[bytes]:
        pool = [*sorted(self.ids), b"9-9", b"1-0"]
        return data.draw(st.lists(st.sampled_from(pool), min_size=1, max_size=most))

    # --- entries ---------------------------------------------------------------------------
    @rule(
        key=ANY_KEY,
        ms=MS,
        seq=SEQ,
        fields=st.lists(st.tuples(FIELD, VALUE), min_size=1, max_size=3),
        trim=st.sampled_from(
            [
                (),
                (b"MAXLEN", b"3"),
                (b"MAXLEN", b"~", b"4"),
                (b"MAXLEN", b"=", b"0"),
                (b"MINID", b"~", b"5"),
                (b"MINID", b"8-0"),
                (b"MAXLEN", b"~", b"2", b"LIMIT", b"3"),
                (b"NOMKSTREAM",),
            ]
        ),
    )
    def xadd(
        self,
        key: bytes,
        ms: int,
        seq: bytes,
        fields: list[tuple[bytes, bytes]],
        trim: tuple[bytes, ...],
    ) -> None:
        sid = b"%d" % ms + (b"-" + seq if seq else b"")
        reply = self.diff("XADD", key, *trim, sid, *(x for pair in fields for x in pair))
        if reply.startswith(b"$") and not reply.startswith(b"$-1"):
            self.ids.add(reply.split(b"\r\n")[1])
        self.diff("XLEN", key)

    def last_ms(self, key: bytes) -> int:
        """The ms of the stream's last ID on Redis's side (0 if it is not a stream)."""
        info = decode(self.diff.theirs.call("XINFO", "STREAM", key))
        if isinstance(info, list):
            info = dict(zip(info[::2], info[1::2], strict=True))
        if not isinstance(info, dict):
            return 0
        return int(info[b"last-generated-id"].split(b"-")[0])

    @rule(key=KEY, fields=st.lists(st.tuples(FIELD, VALUE), min_size=1, max_size=2))
    def xadd_auto_in_the_future(self, key: bytes, fields: list[tuple[bytes, bytes]]) -> None:
        if self.last_ms(key) >= FUTURE:
            reply = self.diff("XADD", key, "*", *(x for pair in fields for x in pair))
            if reply.startswith(b"$"):
                self.ids.add(reply.split(b"\r\n")[1])

    @rule(key=ANY_KEY, data=st.data())
    def xdel(self, key: bytes, data: st.DataObject) -> None:
        self.diff("XDEL", key, *self.some_ids(data))

    @rule(
        key=ANY_KEY,
        how=st.sampled_from([b"MAXLEN", b"MINID"]),
        op=st.sampled_from([(), (b"~",), (b"=",)]),
        threshold=st.sampled_from([b"0", b"1", b"3", b"5", b"8-0", b"13", b"x"]),
        limit=st.sampled_from([(), (b"LIMIT", b"0"), (b"LIMIT", b"2"), (b"LIMIT", b"5")]),
    )
    def xtrim(
        self,
        key: bytes,
        how: bytes,
        op: tuple[bytes, ...],
        threshold: bytes,
        limit: tuple[bytes, ...],
    ) -> None:
        self.diff("XTRIM", key, how, *op, threshold, *limit)

    @rule(
        key=ANY_KEY,
        ms=MS,
        seq=st.sampled_from([b"0", b"9"]),
        added=st.sampled_from([(), (b"ENTRIESADDED", b"20"), (b"ENTRIESADDED", b"1")]),
        deleted=st.sampled_from([(), (b"MAXDELETEDID", b"2-0"), (b"MAXDELETEDID", b"0-0")]),
    )
    def xsetid(
        self, key: bytes, ms: int, seq: bytes, added: tuple[bytes, ...], deleted: tuple[bytes, ...]
    ) -> None:
        self.diff("XSETID", key, b"%d-%s" % (ms, seq), *added, *deleted)

    # --- reads -----------------------------------------------------------------------------
    @rule(
        key=ANY_KEY,
        start=RANGE_ID,
        end=RANGE_ID,
        count=st.sampled_from([(), (b"COUNT", b"1"), (b"COUNT", b"3"), (b"COUNT", b"0")]),
    )
    def ranges(self, key: bytes, start: bytes, end: bytes, count: tuple[bytes, ...]) -> None:
        self.diff("XRANGE", key, start, end, *count)
        self.diff("XREVRANGE", key, end, start, *count)

    @rule(
        keys=st.lists(ANY_KEY, min_size=1, max_size=2),
        data=st.data(),
        count=st.sampled_from([(), (b"COUNT", b"2")]),
    )
    def xread(self, keys: list[bytes], data: st.DataObject, count: tuple[bytes, ...]) -> None:
        ids = [data.draw(READ_ID) for _ in keys]
        self.diff("XREAD", *count, "STREAMS", *keys, *ids)

    @rule(key=ANY_KEY, full=st.booleans())
    def xinfo_stream(self, key: bytes, full: bool) -> None:
        if full:
            masked(self.diff, mask_times, "XINFO", "STREAM", key, "FULL", "COUNT", "3")
        else:
            self.diff("XINFO", "STREAM", key)

    @rule(key=ANY_KEY)
    def reload(self, key: bytes) -> None:
        """Each server RESTOREs its own DUMP of the key: nodes rebuilt from the payload,
        which later XADDs append to. (Not MEMORY USAGE after it: Redis sizes a loaded tail
        node exactly, where slotd assumes the preallocation of one XADD made.)"""
        for conn, reply in zip(
            (self.diff.ours, self.diff.theirs), self.diff.both("DUMP", key), strict=True
        ):
            if reply.startswith(b"$") and not reply.startswith(b"$-1"):
                payload = reply[reply.index(b"\r\n") + 2 : -2]
                assert conn.call("RESTORE", key, "0", payload, "REPLACE") == b"+OK\r\n"
        self.diff("XINFO", "STREAM", key)

    # --- consumer groups -------------------------------------------------------------------
    @rule(
        key=ANY_KEY,
        group=GROUP,
        sid=st.sampled_from([b"$", b"0", b"3", b"8-0", b"bad"]),
        options=st.sampled_from(
            [(), (b"MKSTREAM",), (b"ENTRIESREAD", b"2"), (b"ENTRIESREAD", b"-1")]
        ),
    )
    def xgroup_create(
        self, key: bytes, group: bytes, sid: bytes, options: tuple[bytes, ...]
    ) -> None:
        self.diff("XGROUP", "CREATE", key, group, sid, *options)

    @rule(
        key=ANY_KEY,
        group=GROUP,
        sid=st.sampled_from([b"$", b"0", b"-", b"5", b"bad"]),
        read=st.sampled_from([(), (b"ENTRIESREAD", b"1")]),
    )
    def xgroup_setid(self, key: bytes, group: bytes, sid: bytes, read: tuple[bytes, ...]) -> None:
        self.diff("XGROUP", "SETID", key, group, sid, *read)

    @rule(
        key=ANY_KEY,
        group=GROUP,
        consumer=CONSUMER,
        sub=st.sampled_from([b"CREATECONSUMER", b"DELCONSUMER"]),
    )
    def xgroup_consumer(self, key: bytes, group: bytes, consumer: bytes, sub: bytes) -> None:
        self.diff("XGROUP", sub, key, group, consumer)

    @rule(key=ANY_KEY, group=GROUP)
    def xgroup_destroy(self, key: bytes, group: bytes) -> None:
        self.diff("XGROUP", "DESTROY", key, group)

    @rule(
        keys=st.lists(ANY_KEY, min_size=1, max_size=2),
        group=GROUP,
        consumer=CONSUMER,
        data=st.data(),
        count=COUNT,
        noack=st.booleans(),
    )
    def xreadgroup(
        self,
        keys: list[bytes],
        group: bytes,
        consumer: bytes,
        data: st.DataObject,
        count: bytes,
        noack: bool,
    ) -> None:
        ids = [data.draw(st.sampled_from([b">", b">", b"0", b"3-0", b"$"])) for _ in keys]
        self.diff(
            "XREADGROUP",
            "GROUP",
            group,
            consumer,
            "COUNT",
            count,
            *((b"NOACK",) if noack else ()),
            "STREAMS",
            *keys,
            *ids,
        )

    @rule(key=ANY_KEY, group=GROUP, data=st.data())
    def xack(self, key: bytes, group: bytes, data: st.DataObject) -> None:
        self.diff("XACK", key, group, *self.some_ids(data))

    @rule(
        key=ANY_KEY,
        group=GROUP,
        consumer=st.sampled_from([(), (b"alice",), (b"nobody",)]),
        start=RANGE_ID,
        count=COUNT,
    )
    def xpending(
        self, key: bytes, group: bytes, consumer: tuple[bytes, ...], start: bytes, count: bytes
    ) -> None:
        self.diff("XPENDING", key, group)
        masked(self.diff, mask_pending, "XPENDING", key, group, start, "+", count, *consumer)

    @rule(
        key=ANY_KEY,
        group=GROUP,
        consumer=CONSUMER,
        data=st.data(),
        options=st.lists(
            st.sampled_from(
                [(b"JUSTID",), (b"FORCE",), (b"RETRYCOUNT", b"4"), (b"LASTID", b"8-0"), (b"BOGUS",)]
            ),
            max_size=2,
        ),
    )
    def xclaim(
        self,
        key: bytes,
        group: bytes,
        consumer: bytes,
        data: st.DataObject,
        options: list[tuple[bytes, ...]],
    ) -> None:
        flat = [x for option in options for x in option]
        self.diff("XCLAIM", key, group, consumer, "0", *self.some_ids(data), *flat)

    @rule(
        key=ANY_KEY,
        group=GROUP,
        consumer=CONSUMER,
        start=RANGE_ID,
        count=st.sampled_from([(), (b"COUNT", b"1"), (b"COUNT", b"2"), (b"COUNT", b"0")]),
        justid=st.booleans(),
    )
    def xautoclaim(
        self,
        key: bytes,
        group: bytes,
        consumer: bytes,
        start: bytes,
        count: tuple[bytes, ...],
        justid: bool,
    ) -> None:
        self.diff(
            "XAUTOCLAIM",
            key,
            group,
            consumer,
            "0",
            start,
            *count,
            *((b"JUSTID",) if justid else ()),
        )

    @rule(key=ANY_KEY, group=GROUP)
    def xinfo_groups(self, key: bytes, group: bytes) -> None:
        self.diff("XINFO", "GROUPS", key)
        masked(self.diff, mask_times, "XINFO", "CONSUMERS", key, group)


SETTINGS = settings(
    max_examples=80,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def test_stream_sequences_match_redis(pair: Differ) -> None:
    bound = type("BoundStreamMachine", (StreamMachine,), {"diff": pair})
    run_state_machine_as_test(bound, settings=SETTINGS)
