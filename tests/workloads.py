"""RELIABILITY.md workloads W1 and W2 as histories plus their checkers: pure code (no
sockets, no clock), so the checkers are unit-tested with hand-made histories and any driver
(a process test, a simulated network) records into the same shapes.

- W1 unique-key set: each SET of a fresh key is followed by `WAIT 1 100` on the same
  connection. `W1History.replicated` holds the writes whose WAIT counted >= 1 replica
  (S-1: none of them may be lost), `acked` every write the server answered OK.
- W2 list-append (Elle-lite): RPUSH of unique values to one list, with LRANGE reads of the
  whole list in between. In the final list: every acknowledged append, no duplicates, no
  value that was never sent (phantom); every read is a prefix of the final list.
- An operation whose outcome is unknown (the connection broke before the reply) is
  recorded as `attempted` only: it may or may not be in the final state, never a phantom.

Checkers return a list of human-readable violations: empty means the history is valid.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


@dataclass
class W1History:
    """Unique-key SET writes: key -> value for each outcome class."""

    attempted: dict[str, str] = field(default_factory=dict)
    acked: dict[str, str] = field(default_factory=dict)  # SET answered OK
    replicated: dict[str, str] = field(default_factory=dict)  # ... and WAIT returned >= 1

    def attempt(self, key: str, value: str) -> None:
        if key in self.attempted:
            raise ValueError(f"W1 keys are unique: {key!r} was already written")
        self.attempted[key] = value

    def ack(self, key: str, replicas: int) -> None:
        """The SET of `key` was answered OK and its WAIT counted `replicas` replicas."""
        self.acked[key] = self.attempted[key]
        if replicas >= 1:
            self.replicated[key] = self.attempted[key]


def check_w1(history: W1History, final: Mapping[str, bytes | None]) -> list[str]:
    """S-1: every write whose WAIT counted a replica reads back with its value. `final`
    maps each key read at the end to its value (None: missing)."""
    problems: list[str] = []
    for key, value in history.replicated.items():
        got = final.get(key)
        if got is None:
            problems.append(f"lost write: {key} (WAIT >= 1) is missing")
        elif got != value.encode():
            problems.append(f"wrong value: {key} = {got!r}, written {value!r}")
    for key, got in final.items():
        if got is not None and key not in history.attempted:
            problems.append(f"phantom key: {key} = {got!r} was never written")
    return problems


@dataclass
class W2History:
    """List appends of unique values and the reads of the whole list."""

    attempted: list[str] = field(default_factory=list)
    acked: list[str] = field(default_factory=list)  # RPUSH answered (and WAIT >= 1 if asked)
    reads: list[list[str]] = field(default_factory=list)

    def attempt(self, value: str) -> None:
        if value in self.attempted:
            raise ValueError(f"W2 values are unique: {value!r} was already sent")
        self.attempted.append(value)

    def ack(self, value: str) -> None:
        self.acked.append(value)

    def read(self, values: Sequence[bytes | str]) -> None:
        self.reads.append([v.decode() if isinstance(v, bytes) else v for v in values])


def _duplicates(values: Sequence[str]) -> list[str]:
    seen: set[str] = set()
    dups: list[str] = []
    for value in values:
        if value in seen:
            dups.append(value)
        seen.add(value)
    return dups


def check_w2(history: W2History, final: Sequence[bytes | str]) -> list[str]:
    """The Elle-lite list-append check of `history` against the list read at the end."""
    final_list = [v.decode() if isinstance(v, bytes) else v for v in final]
    attempted = set(history.attempted)
    present = set(final_list)
    problems: list[str] = []
    lost = [v for v in history.acked if v not in present]
    if lost:
        problems.append(f"{len(lost)} acknowledged appends lost, e.g. {lost[:5]}")
    dups = _duplicates(final_list)
    if dups:
        problems.append(f"duplicates in the final list: {dups[:5]}")
    phantoms = [v for v in final_list if v not in attempted]
    if phantoms:
        problems.append(f"phantoms in the final list: {phantoms[:5]}")
    for i, read in enumerate(history.reads):
        if read != final_list[: len(read)]:
            problems.append(
                f"read #{i} ({len(read)} values) is not a prefix of the final "
                f"list, first difference at {_first_difference(read, final_list)}"
            )
    return problems


def _first_difference(read: Sequence[str], final: Sequence[str]) -> int:
    for i, value in enumerate(read):
        if i >= len(final) or final[i] != value:
            return i
    return len(read)
