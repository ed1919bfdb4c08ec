"""The two C sorts Redis's replies depend on, for comparators with ties.

Where a comparator says 0 for different elements (equal distances in GEOSEARCH, equal BY
values in SORT ... ALPHA), the order of the tied elements is whatever the C algorithm
leaves, so it is reproduced step for step:
- `merge_sort` is glibc 2.36's qsort (msort.c): a top-down merge sort that splits at n/2
  and takes from the left run while cmp(left, right) <= 0, hence stable. With a
  consistent comparator it equals Python's stable `sorted`; it is needed as such only
  when the comparator is not a total preorder (NaN distances).
- `partial_sort` is Redis's pqsort.c (NetBSD's Bentley-McIlroy quicksort, recursing only
  into the parts that overlap the wanted positions): not stable, so ties come out in its
  own order.
Both sort a list in place with a C-style comparator (negative, 0, positive). Pure.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
Cmp = Callable[[T, T], int]


def merge_sort(items: list[T], cmp: Cmp[T]) -> None:
    """glibc's msort_with_tmp over the whole list."""
    _msort(items, 0, len(items), cmp)


def _msort(a: list[T], lo: int, n: int, cmp: Cmp[T]) -> None:
    if n <= 1:
        return
    n1 = n // 2
    mid = lo + n1
    _msort(a, lo, n1, cmp)
    _msort(a, mid, n - n1, cmp)
    left, right = a[lo:mid], a[mid : lo + n]
    i = j = 0
    out = lo
    while i < len(left) and j < len(right):
        if cmp(left[i], right[j]) <= 0:
            a[out] = left[i]
            i += 1
        else:
            a[out] = right[j]
            j += 1
        out += 1
    # Whatever remains of the right run is already in place.
    a[out : out + len(left) - i] = left[i:]


def partial_sort(items: list[T], cmp: Cmp[T], first: int, last: int) -> None:
    """Redis's pqsort: afterwards positions first..last (inclusive) hold what a full sort
    would put there, in order; the rest is partitioned but unsorted."""
    _pqsort(items, 0, len(items), cmp, first, last)


def _med3(a: list[T], i: int, j: int, k: int, cmp: Cmp[T]) -> int:
    if cmp(a[i], a[j]) < 0:
        if cmp(a[j], a[k]) < 0:
            return j
        return k if cmp(a[i], a[k]) < 0 else i
    if cmp(a[j], a[k]) > 0:
        return j
    return i if cmp(a[i], a[k]) < 0 else k


def _swap_runs(a: list[T], i: int, j: int, n: int) -> None:
    """vecswap: exchange the n elements at i with the n elements at j."""
    for k in range(n):
        a[i + k], a[j + k] = a[j + k], a[i + k]


def _pqsort(a: list[T], base: int, n: int, cmp: Cmp[T], first: int, last: int) -> None:
    while True:
        if n < 7:  # insertion sort
            for m in range(base + 1, base + n):
                p = m
                while p > base and cmp(a[p - 1], a[p]) > 0:
                    a[p], a[p - 1] = a[p - 1], a[p]
                    p -= 1
            return
        pm = base + n // 2
        if n > 7:
            pl, pn = base, base + n - 1
            if n > 40:
                d = n // 8
                pl = _med3(a, pl, pl + d, pl + 2 * d, cmp)
                pm = _med3(a, pm - d, pm, pm + d, cmp)
                pn = _med3(a, pn - 2 * d, pn - d, pn, cmp)
            pm = _med3(a, pl, pm, pn, cmp)
        a[base], a[pm] = a[pm], a[base]
        pa = pb = base + 1
        pc = pd = base + n - 1
        # Bentley-McIlroy three-way partition around a[base]: equal keys are parked at
        # both ends and swapped into the middle afterwards.
        while True:
            while pb <= pc:
                r = cmp(a[pb], a[base])
                if r > 0:
                    break
                if r == 0:
                    a[pa], a[pb] = a[pb], a[pa]
                    pa += 1
                pb += 1
            while pb <= pc:
                r = cmp(a[pc], a[base])
                if r < 0:
                    break
                if r == 0:
                    a[pc], a[pd] = a[pd], a[pc]
                    pd -= 1
                pc -= 1
            if pb > pc:
                break
            a[pb], a[pc] = a[pc], a[pb]
            pb += 1
            pc -= 1
        end = base + n
        r = min(pa - base, pb - pa)
        _swap_runs(a, base, pb - r, r)
        r = min(pd - pc, end - pd - 1)
        _swap_runs(a, pb, end - r, r)
        # Recurse into the "less" part, loop on the "greater" part, skipping parts that
        # hold none of the wanted positions.
        r = pb - pa
        if r > 1 and not _outside(base, r, first, last):
            _pqsort(a, base, r, cmp, first, last)
        r = pd - pc
        if r <= 1 or _outside(end - r, r, first, last):
            return
        base, n = end - r, r


def _outside(base: int, n: int, first: int, last: int) -> bool:
    """Is the wanted range entirely before or entirely after positions [base, base+n)?
    (pqsort compares byte addresses; an empty range, last < first, is handled the same
    way.)"""
    return (first < base and last < base) or (first >= base + n and last >= base + n)
