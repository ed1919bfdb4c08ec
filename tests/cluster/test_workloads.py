"""The W1/W2 checkers of tests/workloads.py on hand-made histories: valid ones pass, and
each kind of violation (lost write, wrong value, phantom, duplicate, non-prefix read) is
reported. Pure: no sockets."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from tests.workloads import W1History, W2History, check_w1, check_w2


def w1(*writes: tuple[str, int | None]) -> W1History:
    """A W1 history: (key, WAIT count) per write, None for an unanswered SET."""
    history = W1History()
    for key, replicas in writes:
        history.attempt(key, f"v-{key}")
        if replicas is not None:
            history.ack(key, replicas)
    return history


def test_w1_valid_history() -> None:
    history = w1(("a", 1), ("b", 1), ("c", None))
    assert check_w1(history, {"a": b"v-a", "b": b"v-b", "c": None}) == []
    assert check_w1(history, {"a": b"v-a", "b": b"v-b", "c": b"v-c"}) == []


def test_w1_acked_without_replica_may_be_lost() -> None:
    history = w1(("a", 1), ("b", 0))
    assert history.acked == {"a": "v-a", "b": "v-b"} and history.replicated == {"a": "v-a"}
    assert check_w1(history, {"a": b"v-a", "b": None}) == []


def test_w1_lost_replicated_write() -> None:
    problems = check_w1(w1(("a", 1), ("b", 2)), {"a": b"v-a", "b": None})
    assert problems == ["lost write: b (WAIT >= 1) is missing"]


def test_w1_wrong_value_and_phantom() -> None:
    problems = check_w1(w1(("a", 1)), {"a": b"other", "z": b"v-z"})
    assert problems == [
        "wrong value: a = b'other', written 'v-a'",
        "phantom key: z = b'v-z' was never written",
    ]


def test_w1_keys_are_unique() -> None:
    history = w1(("a", 1))
    with pytest.raises(ValueError):
        history.attempt("a", "again")


def w2(
    acked: Sequence[str], unknown: Sequence[str] = (), reads: Sequence[Sequence[str]] = ()
) -> W2History:
    history = W2History()
    for value in acked:
        history.attempt(value)
        history.ack(value)
    for value in unknown:
        history.attempt(value)
    for read in reads:
        history.read([v.encode() for v in read])
    return history


def test_w2_valid_history() -> None:
    history = w2(["1", "2", "3"], unknown=["4"], reads=[[], ["1"], ["1", "2"]])
    assert check_w2(history, [b"1", b"2", b"3"]) == []
    assert check_w2(history, ["1", "2", "3", "4"]) == []  # the unknown append made it


def test_w2_lost_append() -> None:
    problems = check_w2(w2(["1", "2", "3"]), [b"1", b"3"])
    assert problems == ["1 acknowledged appends lost, e.g. ['2']"]


def test_w2_duplicate_and_phantom() -> None:
    problems = check_w2(w2(["1", "2"]), [b"1", b"2", b"2", b"x"])
    assert problems == ["duplicates in the final list: ['2']", "phantoms in the final list: ['x']"]


def test_w2_read_not_a_prefix() -> None:
    # the read saw 3 before 2 (reordered), and another saw a value the end lost
    history = w2(["1", "2", "3"], unknown=["4"], reads=[["1", "3"], ["1", "2", "3", "4"]])
    problems = check_w2(history, [b"1", b"2", b"3"])
    assert problems == [
        "read #0 (2 values) is not a prefix of the final list, first difference at 1",
        "read #1 (4 values) is not a prefix of the final list, first difference at 3",
    ]


def test_w2_values_are_unique() -> None:
    history = w2(["1"])
    with pytest.raises(ValueError):
        history.attempt("1")
