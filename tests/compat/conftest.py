"""The differential harness: the same commands to slotd and to a real redis-server, and the
replies compared as raw bytes.

    def test_incr(diff: Differ) -> None:
        diff("SET", "n", "10")
        diff("INCRBY", "n", "abc")            # errors are compared byte for byte too
        diff("KEYS", "*", unordered=True)     # array elements compared as a multiset

Each test gets fresh connections to the two session servers, both FLUSHALLed first. Tests
that change server-wide state (CONFIG SET ...) must restore it.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator

import pytest

from tests.procs import ServerProcess
from tests.rawclient import RawClient, split_aggregate
from tests.support import decode

Arg = bytes | str | int | float


def same_multiset(ours: bytes, theirs: bytes) -> bool:
    """Equal as aggregates whose top-level elements may come in any order."""
    if ours[:1] not in b"*~%>" or theirs[:1] != ours[:1]:
        return ours == theirs
    head_a, items_a = split_aggregate(ours)
    head_b, items_b = split_aggregate(theirs)
    return head_a == head_b and Counter(items_a) == Counter(items_b)


def command_name(args: tuple[Arg, ...]) -> str:
    name = args[0]
    return (name.decode(errors="replace") if isinstance(name, bytes) else str(name)).upper()


def close_ttls(ours: bytes, theirs: bytes) -> bool:
    if not (ours.startswith(b":") and theirs.startswith(b":")):
        return False
    a, b = int(ours[1:]), int(theirs[1:])
    return a > 0 and b > 0 and abs(a - b) <= 1


class Differ:
    """A pair of connections: `ours` to slotd, `theirs` to redis-server."""

    def __init__(self, ours: RawClient, theirs: RawClient) -> None:
        self.ours = ours
        self.theirs = theirs

    def both(self, *args: Arg) -> tuple[bytes, bytes]:
        """Send a command to both servers; (slotd's reply, redis's reply), not compared."""
        return self.ours.call(*args), self.theirs.call(*args)

    def __call__(self, *args: Arg, unordered: bool = False) -> bytes:
        """Send a command to both servers, assert byte-equal replies, return the reply.

        TTL is the one exception: a relative expiry set on the two servers a moment apart
        may round to seconds differently, so two positive TTLs may differ by one.
        """
        ours, theirs = self.both(*args)
        if unordered:
            equal = same_multiset(ours, theirs)
        elif command_name(args) == "TTL":
            equal = ours == theirs or close_ttls(ours, theirs)
        else:
            equal = ours == theirs
        assert equal, f"{args!r}\n  slotd: {ours!r}\n  redis: {theirs!r}"
        return ours

    @contextlib.contextmanager
    def restoring(self, *names: str) -> Iterator[None]:
        """Put the configs `names` back when the block ends, each server to the value it
        had (they may differ), after returning the connections to RESP2."""
        saved = [(name, self.both("CONFIG", "GET", name)) for name in names]
        try:
            yield
        finally:
            self.both("HELLO", "2")
            for name, (ours, theirs) in saved:
                self.ours.call("CONFIG", "SET", name, decode(ours)[1])
                self.theirs.call("CONFIG", "SET", name, decode(theirs)[1])

    def raw(self, data: bytes) -> bytes:
        """Send raw request bytes to both, compare the one reply each sends back."""
        self.ours.send_raw(data)
        self.theirs.send_raw(data)
        ours, theirs = self.ours.read_reply(), self.theirs.read_reply()
        assert ours == theirs, f"{data!r}\n  slotd: {ours!r}\n  redis: {theirs!r}"
        return ours


@pytest.fixture
def diff(slotd_proc: ServerProcess, redis_proc: ServerProcess) -> Iterator[Differ]:
    with RawClient(*slotd_proc.addr) as ours, RawClient(*redis_proc.addr) as theirs:
        differ = Differ(ours, theirs)
        assert differ.both("FLUSHALL") == (b"+OK\r\n", b"+OK\r\n")
        yield differ
