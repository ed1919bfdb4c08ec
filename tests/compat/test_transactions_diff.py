"""Transactions against a real redis-server, reply bytes compared."""

from __future__ import annotations

import pytest

from tests.compat.conftest import Differ
from tests.rawclient import RawClient

pytestmark = pytest.mark.interop


def test_exec_discard_and_errors(diff: Differ) -> None:
    for args in [
        ("EXEC",),
        ("DISCARD",),
        ("MULTI",),
        ("MULTI",),
        ("WATCH", "x"),
        ("SET", "a", "1"),
        ("INCR", "a"),
        ("LPUSH", "a", "x"),
        ("GET", "a"),
        ("EXEC",),
        ("MULTI",),
        ("NOSUCH", "x"),
        ("SET", "a"),
        ("GET", "a"),
        ("EXEC",),
        ("MULTI",),
        ("BLPOP", "nokey", 0),
        ("BRPOPLPUSH", "nokey", "d", 0),
        ("SELECT", 1),
        ("SET", "z", 1),
        ("EXEC",),
        ("GET", "z"),
        ("SELECT", 0),
        ("MULTI",),
        ("DISCARD",),
        ("EXEC",),
        ("WATCH",),
        ("UNWATCH",),
    ]:
        diff(*args)


def test_watch_aborts_on_foreign_write(
    diff: Differ, slotd_proc: object, redis_proc: object
) -> None:
    diff("SET", "k", "1")
    diff("WATCH", "k")
    ours_other = RawClient(*slotd_proc.addr)  # type: ignore[attr-defined]
    theirs_other = RawClient(*redis_proc.addr)  # type: ignore[attr-defined]
    with ours_other, theirs_other:
        assert ours_other.call("INCR", "k") == theirs_other.call("INCR", "k")
    diff("MULTI")
    diff("SET", "k", "mine")
    diff("EXEC")
    diff("GET", "k")
    diff.both("HELLO", "3")
    diff("WATCH", "k")
    diff("SET", "k", "again")
    diff("MULTI")
    diff("EXEC")
