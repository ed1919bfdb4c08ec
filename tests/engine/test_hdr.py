"""The latency histogram's bucket arithmetic against figures redis-server 7.0.15 printed
(LATENCY HISTOGRAM after DEBUG SLEEP 0.05 and 0.12: 67633 and 135266 usec buckets)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from node.engine import hdr
from node.engine.hdr import Histogram


def test_buckets_exact_below_256_then_logarithmic() -> None:
    assert [hdr.counts_index(v) for v in (1, 2, 255)] == [1, 2, 255]
    assert hdr.highest_equivalent(255) == 255
    assert hdr.highest_equivalent(1024) == 1031
    assert hdr.highest_equivalent(32768) == 33023


@given(st.integers(min_value=1, max_value=hdr.HIGHEST))
def test_value_lands_in_its_bucket(value: int) -> None:
    index = hdr.counts_index(value)
    low = hdr.value_at_index(index)
    assert low <= value <= hdr.highest_equivalent(low)
    assert hdr.highest_equivalent(value) == hdr.highest_equivalent(low)


def test_cumulative_log_matches_redis_report() -> None:
    h = Histogram()
    h.record(50_000_000)
    h.record(120_000_000)
    assert list(h.cumulative_log()) == [(67633, 1), (135266, 2)]


def test_cumulative_log_reports_only_growth() -> None:
    h = Histogram()
    h.record(500, 3)  # below the first level: counted at 1024 ns (reported as 1 usec)
    h.record(5000)
    assert list(h.cumulative_log()) == [(1, 3), (8, 4)]
    assert list(Histogram().cumulative_log()) == []


def test_values_are_clamped() -> None:
    h = Histogram()
    h.record(0)
    h.record(10 * hdr.HIGHEST)
    assert h.total == 2
    assert h.value_at_percentile(0) == 1
    assert h.value_at_percentile(100) == hdr.highest_equivalent(hdr.HIGHEST)


def test_percentiles() -> None:
    h = Histogram()
    for usec in range(1, 101):
        h.record(usec * 1000)
    assert h.value_at_percentile(50) == hdr.highest_equivalent(50_000)
    assert h.value_at_percentile(99) == hdr.highest_equivalent(99_000)
    assert h.value_at_percentile(99.9) == hdr.highest_equivalent(100_000)
    assert Histogram().value_at_percentile(50) == 0
