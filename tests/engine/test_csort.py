"""The C sorts Redis's tie orders come from (node/engine/csort.py). Tie orders of the
partial sort were checked through SORT ... BY ... ALPHA LIMIT against redis-server 7.0.15
(tests/commands/test_sort.py); here: the promises of both algorithms."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from node.engine.csort import merge_sort, partial_sort

Pair = tuple[int, int]


def by_key(a: Pair, b: Pair) -> int:
    return (a[0] > b[0]) - (a[0] < b[0])


KEYS = st.lists(st.integers(0, 6), max_size=120)


@given(KEYS)
def test_merge_sort_is_stable(keys: list[int]) -> None:
    items = [(k, i) for i, k in enumerate(keys)]
    merge_sort(items, by_key)
    assert items == sorted(items)


@given(KEYS, st.data())
def test_partial_sort_orders_the_wanted_positions(keys: list[int], data: st.DataObject) -> None:
    items = [(k, i) for i, k in enumerate(keys)]
    first = data.draw(st.integers(0, max(len(items) - 1, 0)))
    last = data.draw(st.integers(first, max(len(items) - 1, first)))
    partial_sort(items, by_key, first, last)
    assert sorted(items) == sorted((k, i) for i, k in enumerate(keys))
    want = sorted(keys)[first : last + 1]
    assert [k for k, _ in items[first : last + 1]] == want


def test_partial_sort_is_not_stable() -> None:
    """Bentley-McIlroy partitioning moves equal keys around: the order of ties is the
    algorithm's own (what SORT ... ALPHA LIMIT shows in Redis)."""
    items = [(0, i) for i in range(10)]
    partial_sort(items, by_key, 0, 3)
    assert items != sorted(items)
    assert sorted(items) == [(0, i) for i in range(10)]


def test_inconsistent_comparator_does_not_break_merge_sort() -> None:
    nan = float("nan")
    items = [3.0, nan, 1.0, nan, 2.0]

    def cmp(a: float, b: float) -> int:
        return 1 if a > b else 0 if a == b else -1

    merge_sort(items, cmp)
    assert len(items) == 5
