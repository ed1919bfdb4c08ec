"""The hash value (Redis's OBJ_HASH).

Rules:
- A hash IS a dict (field -> value); subclassing keeps the per-hash overhead at the dict
  plus three slots. Dicts keep insertion order, which is exactly the order a listpack
  keeps (new fields at the tail, updates in place), so HGETALL/HKEYS/HSCAN of a small hash
  answer in Redis's order. Iteration never depends on the process's hash seed.
- The encoding is a flag: "listpack" until the hash holds more than
  hash-max-listpack-entries fields or gets a field or value longer than
  hash-max-listpack-value, then "hashtable" for good (Redis never converts back). The
  commands set `hashtable`, reading the thresholds at the time of each write, as Redis does.
- Random picks (HRANDFIELD) use a list of the fields built on demand and dropped whenever
  the set of fields changes; scans (HSCAN) walk snapshots (node/engine/types/snapshots.py).
Pure: no I/O, randomness comes from the caller's `random.Random`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import ClassVar

from node.engine.types.snapshots import ScanSnapshots


class HashValue(dict[bytes, bytes]):
    """A Redis hash. Never stored empty."""

    __slots__ = ("hashtable", "picks", "scans")
    TYPE: ClassVar[bytes] = b"hash"

    def __init__(self, fields: Mapping[bytes, bytes] | Iterable[tuple[bytes, bytes]] = ()) -> None:
        if fields:
            super().__init__(fields)
        self.hashtable = False
        # The fields as a list, for random picks by index; None until needed, and reset to
        # None by every command that adds or removes fields.
        self.picks: list[bytes] | None = None
        self.scans: ScanSnapshots | None = None

    def encoding(self) -> bytes:
        return b"hashtable" if self.hashtable else b"listpack"

    def copy(self) -> HashValue:
        """An independent hash with the same fields and encoding (COPY)."""
        twin = HashValue(self)
        twin.hashtable = self.hashtable
        return twin

    def field_list(self) -> list[bytes]:
        """The fields in hash order, for random picks by index (kept until they change)."""
        fields = self.picks
        if fields is None:
            fields = self.picks = list(self)
        return fields
