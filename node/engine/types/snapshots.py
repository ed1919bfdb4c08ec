"""Cursor scans over one container (HSCAN, SSCAN; ZSCAN can use it too).

Redis walks its hash table with a reverse-binary cursor, which guarantees that every
element present for the whole scan is returned at least once. Python dicts offer no
bucket cursor, so a scan walks a snapshot of the container's elements taken at cursor 0
and skips the ones that have gone since: the same guarantee, with elements added during
the scan possibly missed, as in Redis.

Rules:
- A container that can be scanned has a `scans` attribute (None until its first scan) and
  supports `in` and iteration over its elements.
- A cursor is `serial << 32 | position`; it stays below 2**63, so it fits Redis's unsigned
  cursor. Each container keeps its last few snapshots; a finished scan drops its own.
- A cursor whose snapshot is gone (evicted by newer scans, or the key was rewritten)
  restarts the walk from the beginning: elements may repeat, which Redis allows, but none
  present throughout is ever skipped.
Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final, Protocol

_POS_BITS: Final = 32
_POS_MASK: Final = (1 << _POS_BITS) - 1
_MAX_SERIAL: Final = (1 << 31) - 1
_MAX_SNAPSHOTS: Final = 4


class ScanSnapshots:
    """The element snapshots of the scans in progress over one container."""

    __slots__ = ("by_serial", "serial")

    def __init__(self) -> None:
        self.serial = 0
        self.by_serial: dict[int, list[bytes]] = {}

    def start(self, elements: list[bytes]) -> int:
        """Keep `elements` as a new snapshot; returns its serial."""
        self.serial = self.serial % _MAX_SERIAL + 1
        self.by_serial[self.serial] = elements
        if len(self.by_serial) > _MAX_SNAPSHOTS:
            del self.by_serial[next(iter(self.by_serial))]  # the oldest scan loses
        return self.serial


class Scannable(Protocol):
    scans: ScanSnapshots | None

    def __contains__(self, item: object, /) -> bool: ...

    def __iter__(self) -> Iterator[bytes]: ...


def scan_step(container: Scannable, cursor: int, count: int) -> tuple[int, list[bytes]]:
    """One scan call: (next cursor, 0 when done; up to `count` elements still present)."""
    snaps = container.scans
    if snaps is None:
        snaps = container.scans = ScanSnapshots()
    serial, pos = cursor >> _POS_BITS, cursor & _POS_MASK
    snapshot = snaps.by_serial.get(serial) if cursor else None
    if snapshot is None:
        snapshot = list(container)
        serial = snaps.start(snapshot)
        pos = 0
    end = min(pos + max(count, 1), len(snapshot))
    found = [e for e in snapshot[pos:end] if e in container]
    if end < len(snapshot):
        return serial << _POS_BITS | end, found
    del snaps.by_serial[serial]
    if not snaps.by_serial:
        container.scans = None
    return 0, found
