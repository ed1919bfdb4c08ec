"""The latency histogram of one command (Redis's `latency_histogram`, an HdrHistogram).

Redis 7.0 records every call's duration in nanoseconds into an HdrHistogram made with
`hdr_init(1, 1_000_000_000, 2)`: values below 1 ns count as 1 ns, values above one second
as one second; 2 significant figures give 256 sub-buckets (128 per half), unit magnitude 0.
This module keeps the same bucket arithmetic, so the figures derived from it -- INFO
latencystats' percentiles (`hdr_value_at_percentile`) and LATENCY HISTOGRAM's cumulative
distribution (a logarithmic iteration from 1024 ns, base 2) -- read like Redis's.

Rules: counts live in a dict keyed by the HdrHistogram counts index, so an idle command
costs nothing and recording a call is one table lookup and one dict update. Pure.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

LOWEST: Final = 1
HIGHEST: Final = 1_000_000_000
_HALF_MAGNITUDE: Final = 7  # log2(sub-bucket count) - 1, for 2 significant figures
_HALF_COUNT: Final = 1 << _HALF_MAGNITUDE
_SUB_MASK: Final = (2 * _HALF_COUNT) - 1
_FIRST_LOG_LEVEL: Final = 1024  # LATENCY HISTOGRAM's first bucket (ns), then doubling


def counts_index(value: int) -> int:
    """HdrHistogram's counts_index_for(value) (unit magnitude 0)."""
    bucket = (value | _SUB_MASK).bit_length() - (_HALF_MAGNITUDE + 1)
    return ((bucket + 1) << _HALF_MAGNITUDE) + (value >> bucket) - _HALF_COUNT


def value_at_index(index: int) -> int:
    """The lowest value that lands on counts index `index`."""
    bucket = (index >> _HALF_MAGNITUDE) - 1
    sub = (index & (_HALF_COUNT - 1)) + _HALF_COUNT
    if bucket < 0:
        sub -= _HALF_COUNT
        bucket = 0
    return sub << bucket


def highest_equivalent(value: int) -> int:
    """The largest value counted together with `value`."""
    bucket = (value | _SUB_MASK).bit_length() - (_HALF_MAGNITUDE + 1)
    return ((value >> bucket) << bucket) + (1 << bucket) - 1


# counts_index of every whole-microsecond duration below 1 ms (the common case), in ns.
USEC_INDEX: Final = tuple(counts_index(max(usec * 1000, LOWEST)) for usec in range(1000))


class Histogram:
    """Recorded durations (ns) of one command."""

    __slots__ = ("counts",)

    def __init__(self) -> None:
        self.counts: dict[int, int] = {}

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def record_usec(self, usec: int, count: int = 1) -> None:
        """Record `count` calls that took `usec` whole microseconds (as Redis measures
        calls), through a table for the usual sub-millisecond durations. The dispatcher
        inlines this (observe.py's `account`)."""
        if usec >= 1000:
            self.record(usec * 1000, count)
            return
        index = USEC_INDEX[usec]
        self.counts[index] = self.counts.get(index, 0) + count

    def record(self, value: int, count: int = 1) -> None:
        """Record `count` samples of `value` ns, clamped to [LOWEST, HIGHEST]."""
        if value < LOWEST:
            value = LOWEST
        elif value > HIGHEST:
            value = HIGHEST
        index = counts_index(value)
        self.counts[index] = self.counts.get(index, 0) + count

    def value_at_percentile(self, percentile: float) -> int:
        """hdr_value_at_percentile: the highest value equivalent to the sample at which
        the cumulative count reaches `percentile` percent (0 when empty)."""
        wanted = int(min(percentile, 100.0) / 100 * self.total + 0.5)
        wanted = max(wanted, 1)
        seen = 0
        for index in sorted(self.counts):
            seen += self.counts[index]
            if seen >= wanted:
                return highest_equivalent(value_at_index(index))
        return 0

    def cumulative_log(self) -> Iterator[tuple[int, int]]:
        """LATENCY HISTOGRAM's (usec, cumulative count) pairs: for reporting levels 1024
        ns, 2048 ns, ... the count of samples up to the level's bucket, reported in
        microseconds of the bucket's highest value, only when the count grew, until every
        sample is covered (hdr_iter_log_init(1024, 2) as Redis's fillCommandCDF uses it)."""
        order = sorted(self.counts)
        total = self.total
        level = _FIRST_LOG_LEVEL
        seen = previous = position = 0
        while previous < total:
            limit = counts_index(level)
            while position < len(order) and order[position] <= limit:
                seen += self.counts[order[position]]
                position += 1
            if seen > previous:
                yield highest_equivalent(level) // 1000, seen
                previous = seen
            level *= 2
