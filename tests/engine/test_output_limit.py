"""clientmem.output_over_limit: client-output-buffer-limit's hard and soft limits, as the
shell applies them to client connections and replica links."""

from __future__ import annotations

from node.engine.clientmem import output_over_limit

LIMIT = (1000, 100, 2)  # hard bytes, soft bytes, soft seconds


def test_hard_limit_closes_at_once() -> None:
    assert output_over_limit(LIMIT, 1000, 5_000, 0) == (True, 5_000)
    assert output_over_limit((1000, 0, 0), 1000, 5_000, 0) == (True, 0)
    assert output_over_limit((1000, 0, 0), 999, 5_000, 0) == (False, 0)


def test_soft_limit_needs_its_seconds() -> None:
    over, since = output_over_limit(LIMIT, 100, 5_000, 0)
    assert (over, since) == (False, 5_000)  # the clock starts
    assert output_over_limit(LIMIT, 500, 7_000, since) == (False, 5_000)  # exactly 2 s: kept
    assert output_over_limit(LIMIT, 500, 7_001, since) == (True, 5_000)


def test_dropping_below_the_soft_limit_resets_its_clock() -> None:
    assert output_over_limit(LIMIT, 99, 9_000, 5_000) == (False, 0)


def test_zero_means_no_limit() -> None:
    assert output_over_limit((0, 0, 0), 10**9, 5_000, 0) == (False, 0)
