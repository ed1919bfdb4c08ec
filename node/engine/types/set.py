"""The set value (Redis's OBJ_SET).

Rules:
- A set IS a dict from member to None: about the size of a Python set (smaller for small
  sets), and its iteration order (insertion order) never depends on the process's hash
  seed, so replies and random picks replay exactly from the engine's seed.
- The encoding follows Redis 7.0: "intset" while every member is the canonical decimal
  text of an int64 (util.c string2ll) and there are at most set-max-intset-entries of
  them, then "hashtable" for good (7.0 has no listpack sets; that came with 7.2). An
  intset iterates in ascending numeric order, so `ordered()` sorts those; a hashtable's
  order is Redis's own business, ours is insertion order.
- Random access: dicts have none, so `picks` holds the members as a list, built on
  demand. Additions append to it, SPOP removes from it in O(1) (swap with the last), any
  other removal drops it. So SPOP and SRANDMEMBER cost O(1) per returned member after one
  O(N) build, however large the set.
Pure: no I/O; randomness comes from the caller's `random.Random`.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Iterable
from typing import ClassVar

from node.commands._args import string2ll
from node.engine.types.snapshots import ScanSnapshots


def fits_intset(members: Collection[bytes], max_intset: int) -> bool:
    """Would an intset hold all of `members`: at most `max_intset` of them, each the text
    of an int64 (Redis's isSdsRepresentableAsLongLong)?"""
    return len(members) <= max_intset and all(string2ll(m) is not None for m in members)


class SetValue(dict[bytes, None]):
    """A Redis set. Never stored empty."""

    __slots__ = ("intset", "picks", "scans")
    TYPE: ClassVar[bytes] = b"set"

    def __init__(self, members: Iterable[bytes] = (), *, intset: bool = True) -> None:
        if members:
            super().__init__(dict.fromkeys(members))
        self.intset = intset
        self.picks: list[bytes] | None = None
        self.scans: ScanSnapshots | None = None

    @classmethod
    def build(cls, members: Iterable[bytes], max_intset: int, *, intset: bool = True) -> SetValue:
        """A new set of `members`, encoded as Redis would encode a set built by adding them
        one by one to a fresh intset (`intset=False` when Redis's build already converted)."""
        made = cls(members)
        made.intset = intset and fits_intset(made, max_intset)
        return made

    def encoding(self) -> bytes:
        return b"intset" if self.intset else b"hashtable"

    def copy(self) -> SetValue:
        """An independent set with the same members and encoding (COPY)."""
        return SetValue(self, intset=self.intset)

    def ordered(self) -> list[bytes]:
        """The members in the order Redis iterates them (intsets ascend numerically)."""
        return sorted(self, key=int) if self.intset else list(self)

    # --- changes ---------------------------------------------------------------------------
    def add_members(self, members: Iterable[bytes], max_intset: int) -> int:
        """Add members; returns how many were new. Leaves intset as soon as a member is not
        an integer or there are more than `max_intset` members."""
        added = 0
        picks = self.picks
        for member in members:
            if member in self:
                continue
            self[member] = None
            added += 1
            if picks is not None:
                picks.append(member)
            if self.intset and (len(self) > max_intset or string2ll(member) is None):
                self.intset = False
        return added

    def remove_members(self, members: Iterable[bytes]) -> int:
        """Remove members; returns how many were there."""
        removed = 0
        for member in members:
            if member in self:
                del self[member]
                removed += 1
        if removed:
            self.picks = None
        return removed

    # --- random picks ----------------------------------------------------------------------
    def pick_list(self) -> list[bytes]:
        picks = self.picks
        if picks is None:
            picks = self.picks = list(self)
        return picks

    def random_member(self, rng: random.Random) -> bytes:
        picks = self.pick_list()
        return picks[rng.randrange(len(picks))]

    def random_members(self, rng: random.Random, count: int) -> list[bytes]:
        """`count` members picked independently (repeats allowed)."""
        return rng.choices(self.pick_list(), k=count)

    def sample(self, rng: random.Random, count: int) -> list[bytes]:
        """`count` distinct members (count < len), in random order."""
        picks = self.pick_list()
        return [picks[i] for i in rng.sample(range(len(picks)), count)]

    def pop_one(self, rng: random.Random) -> bytes:
        """Remove and return one random member."""
        picks = self.pick_list()
        i = rng.randrange(len(picks))
        member = picks[i]
        last = picks.pop()
        if i < len(picks):
            picks[i] = last
        del self[member]
        return member

    def pop_random(self, rng: random.Random, count: int) -> list[bytes]:
        """Remove and return `count` distinct random members (count <= len)."""
        picks = self.pick_list()
        chosen = rng.sample(range(len(picks)), count)
        popped = [picks[i] for i in chosen]
        # Highest index first: everything after it is already gone or kept, so moving the
        # last member into its slot never moves a member that is still to be removed.
        for i in sorted(chosen, reverse=True):
            last = picks.pop()
            if i < len(picks):
                picks[i] = last
        for member in popped:
            del self[member]
        return popped
