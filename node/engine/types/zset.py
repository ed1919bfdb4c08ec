"""The sorted-set value (Redis's OBJ_ZSET): members ordered by (score, member).

Two encodings, as in Redis, chosen by the `zset-max-listpack-*` thresholds the caller passes:
- listpack: two parallel sequences sorted by (score, member), an `array('d')` of scores and a
  list of members. 8 bytes per score and no per-element objects besides the member: small
  sorted sets are most of them. Member lookups are linear, as in Redis's listpack.
- skiplist: a dict member -> score (O(1) ZSCORE) plus a `SortedList` of (score, member)
  tuples (O(log N) insert, delete and rank). Conversion is one-way ("sticky"), as in Redis;
  only freshly built sets (`build`, for the STORE commands) may start as a listpack again.

Order: scores compare as doubles (-0.0 == 0.0), ties by member bytes (memcmp, then length),
which is Python's bytes order. Lex operations search by member alone, assuming what Redis
assumes: members in order along the set (true when every score is the same). Scores are
never NaN (callers reject it).

A listpack keeps scores as text, so Redis reads a stored -0.0 back as 0: the listpack encoding
normalizes -0.0 to 0.0 (`x + 0.0`), the skiplist keeps it. `listpack_score_text` is that
stored text, which ZSCAN shows for listpack sets.

Memory: in a skiplist the dict and the sorted list share one float object per score. This
module is compiled (make native), and mypyc boxes a `float` anew at each place it is
stored: a score passed on as `float` became two objects (32 bytes more per member), so the
paths that store one hold it as `Any`, boxed once.

Rules: never stored empty (callers delete the key); no config, clock or randomness in here.
Iterating a ZSet gives its members (so ZSCAN can walk snapshots, node/engine/types/
snapshots.py); `pairs()` gives (member, score). Pure.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from typing import Any, ClassVar, Final

from sortedcontainers import SortedList

from node.engine.types.snapshots import ScanSnapshots
from node.proto.resp import format_double

Item = tuple[bytes, float]  # (member, score), the shape every caller wants

# Integral doubles up to 2**62 in magnitude are stored in a listpack as integers.
_LISTPACK_INT_LIMIT: Final = float(2**62)


class _Top:
    """Sorts after every bytes value: (score, TOP) bounds all members with that score."""

    __slots__ = ()

    def __lt__(self, other: object) -> bool:
        return False

    def __gt__(self, other: object) -> bool:
        return True


_TOP: Final = _Top()


class _Skiplist:
    """The skiplist encoding's two indexes over the same elements."""

    __slots__ = ("dict", "sl")

    def __init__(self, dict_: dict[bytes, float], sl: SortedList[tuple[float, bytes]]) -> None:
        self.dict = dict_
        self.sl = sl


class ZSet:
    """A Redis sorted set. `_big` is None while the set is a listpack."""

    __slots__ = ("_big", "_members", "_scores", "scans")
    TYPE: ClassVar[bytes] = b"zset"

    def __init__(self, listpack: bool = True) -> None:
        self._scores: array[float] = array("d")
        self._members: list[bytes] = []
        self._big: _Skiplist | None = None if listpack else _Skiplist({}, SortedList())
        self.scans: ScanSnapshots | None = None  # ZSCAN cursors over a skiplist

    @classmethod
    def build(cls, items: Iterable[Item], max_entries: int, max_value: int) -> ZSet:
        """A new set holding `items` (distinct members, any order), encoded the way Redis
        encodes a freshly stored result (zsetConvertToListpackIfNeeded)."""
        ordered = sorted(items, key=_score_member)
        fits = len(ordered) <= max_entries and all(len(m) <= max_value for m, _ in ordered)
        zs = cls(listpack=fits)
        if fits:
            zs._members = [m for m, _ in ordered]
            zs._scores = array("d", [s + 0.0 for _, s in ordered])
        else:
            big = zs._big
            assert big is not None
            big.dict = dict(ordered)
            shared: list[tuple[bytes, Any]] = ordered  # one float object for both (Memory, above)
            big.sl = SortedList((s, m) for m, s in shared)
        return zs

    def encoding(self) -> bytes:
        return b"listpack" if self._big is None else b"skiplist"

    def copy(self) -> ZSet:
        zs = ZSet(listpack=self._big is None)
        if self._big is None:
            zs._scores = array("d", self._scores)
            zs._members = list(self._members)
        else:
            zs._big = _Skiplist(dict(self._big.dict), self._big.sl.copy())
        return zs

    def __len__(self) -> int:
        return len(self._members) if self._big is None else len(self._big.dict)

    def __iter__(self) -> Iterator[bytes]:
        """The members, lowest score first."""
        if self._big is None:
            return iter(self._members)
        return (m for _, m in self._big.sl)

    def __contains__(self, member: object) -> bool:
        if self._big is None:
            return member in self._members
        return member in self._big.dict

    def pairs(self) -> Iterator[Item]:
        """Every (member, score), lowest score first."""
        if self._big is None:
            return zip(self._members, self._scores, strict=True)
        return ((m, s) for s, m in self._big.sl)

    # --- by member -----------------------------------------------------------------------
    def score(self, member: bytes) -> float | None:
        big = self._big
        if big is not None:
            return big.dict.get(member)
        try:
            return self._scores[self._members.index(member)]
        except ValueError:
            return None

    def rank(self, member: bytes) -> int | None:
        """0-based position from the lowest score, or None if absent."""
        big = self._big
        if big is None:
            try:
                return self._members.index(member)
            except ValueError:
                return None
        score = big.dict.get(member)
        return None if score is None else big.sl.index((score, member))

    def insert(self, member: bytes, score: float, max_entries: int, max_value: int) -> None:
        """Add a member known to be absent, converting to skiplist first if the listpack
        would outgrow the thresholds (Redis's check before zzlInsert)."""
        if self._big is None:
            if len(self._members) + 1 > max_entries or len(member) > max_value:
                self._to_skiplist()
            else:
                self._lp_insert(member, score + 0.0)
                return
        big = self._big
        assert big is not None
        shared: Any = score  # one float object for both (Memory, above)
        big.dict[member] = shared
        big.sl.add((shared, member))

    def update(self, member: bytes, old: float, new: float) -> None:
        """Move a present member from score `old` to `new`."""
        big = self._big
        if big is None:
            i = self._members.index(member)
            del self._members[i]
            del self._scores[i]
            self._lp_insert(member, new + 0.0)
            return
        big.sl.remove((old, member))
        shared: Any = new  # one float object for both (Memory, above)
        big.sl.add((shared, member))
        big.dict[member] = shared

    def add(self, member: bytes, score: float, max_entries: int, max_value: int) -> bool:
        """Set `member`'s score; True if it was added, False if it existed."""
        old = self.score(member)
        if old is None:
            self.insert(member, score, max_entries, max_value)
            return True
        if old != score:
            self.update(member, old, score)
        return False

    def remove(self, member: bytes) -> bool:
        big = self._big
        if big is None:
            try:
                i = self._members.index(member)
            except ValueError:
                return False
            del self._members[i]
            del self._scores[i]
            return True
        score = big.dict.pop(member, None)
        if score is None:
            return False
        big.sl.remove((score, member))
        return True

    # --- by position -----------------------------------------------------------------------
    def item(self, index: int) -> Item:
        """The element at 0-based position `index` (lowest score first)."""
        big = self._big
        if big is None:
            return self._members[index], self._scores[index]
        score, member = big.sl[index]
        return member, score

    def items(self, start: int, stop: int) -> list[Item]:
        """Elements at positions [start, stop), lowest first."""
        big = self._big
        if big is None:
            return list(zip(self._members[start:stop], self._scores[start:stop], strict=True))
        return [(m, s) for s, m in big.sl.islice(start, stop)]

    def pop_items(self, start: int, stop: int) -> list[Item]:
        """Remove the elements at positions [start, stop) and return them, lowest first."""
        out = self.items(start, stop)
        big = self._big
        if big is None:
            del self._members[start:stop]
            del self._scores[start:stop]
        else:
            del big.sl[start:stop]
            for member, _ in out:
                del big.dict[member]
        return out

    # --- bisection: positions for range queries ----------------------------------------------
    def index_score(self, score: float, *, after: bool) -> int:
        """Position of the first element with score >= `score` (> `score` when `after`)."""
        big = self._big
        if big is None:
            return (bisect_right if after else bisect_left)(self._scores, score)
        return big.sl.bisect_left((score, _TOP) if after else (score,))  # type: ignore[arg-type]

    def index_lex(self, member: bytes, *, after: bool) -> int:
        """Position of the first member >= `member` (> when `after`), searching by member
        alone. Like Redis's lex commands this assumes the members are in order along the
        set, which holds when every score is the same (and whenever members grow with
        their scores); otherwise the answer is merely some position."""
        big = self._big
        if big is None:
            return (bisect_right if after else bisect_left)(self._members, member)
        sl, lo, hi = big.sl, 0, len(big.dict)
        while lo < hi:  # a binary search over positions: O(log N) probes of O(log N)
            mid = (lo + hi) // 2
            probe = sl[mid][1]
            if probe < member or (after and probe == member):
                lo = mid + 1
            else:
                hi = mid
        return lo

    def to_skiplist(self) -> None:
        """Convert to the skiplist encoding for good, whatever the thresholds (SORT does
        this to the set it sorts)."""
        if self._big is None:
            self._to_skiplist()

    # --- internals ---------------------------------------------------------------------------
    def _lp_insert(self, member: bytes, score: float) -> None:
        scores = self._scores
        lo = bisect_left(scores, score)
        hi = bisect_right(scores, score, lo)
        i = bisect_left(self._members, member, lo, hi)
        scores.insert(i, score)
        self._members.insert(i, member)

    def _to_skiplist(self) -> None:
        # Each read of an array('d') item makes a new float: read the scores once, so the
        # dict and the sorted list share one float per member (32 bytes each otherwise).
        members, scores = self._members, list(self._scores)
        self._big = _Skiplist(
            dict(zip(members, scores, strict=True)), SortedList(zip(scores, members, strict=True))
        )
        self._members = []
        self._scores = array("d")


def _score_member(item: Item) -> tuple[float, bytes]:
    return item[1], item[0]


def listpack_score_text(score: float) -> bytes:
    """The text a listpack stores for `score`: an integer when the double is integral and
    within +-2**62 (Redis's double2ll), else %.17g."""
    if -_LISTPACK_INT_LIMIT <= score <= _LISTPACK_INT_LIMIT and score == int(score):
        return b"%d" % int(score)
    return format_double(score)
