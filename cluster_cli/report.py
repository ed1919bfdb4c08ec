"""How the cluster tool prints: redis-cli --cluster's line shapes, and the live status table.

No sockets here: callers pass parsed data (cluster_cli/topology.py) and a stream. Colors only
on a terminal (redis-cli colors always; escape codes in a pipe or a log help nobody).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TextIO

from cluster_cli.topology import NodeInfo, format_ranges

_BOLD, _GREEN, _YELLOW, _RED, _RESET = (
    "\x1b[29;1m",
    "\x1b[32;1m",
    "\x1b[33;1m",
    "\x1b[31;1m",
    "\x1b[0m",
)


class Output:
    """Where messages go; `>>>` steps, `[OK]`, `[WARNING]` and `[ERR]` lines as redis-cli."""

    def __init__(self, stream: TextIO | None = None, color: bool | None = None) -> None:
        self.stream = stream if stream is not None else sys.stdout
        self.color = self.stream.isatty() if color is None else color

    def line(self, text: str = "", end: str = "\n") -> None:
        self.stream.write(text + end)
        self.stream.flush()

    def _paint(self, color: str, text: str) -> None:
        self.line(f"{color}{text}{_RESET}" if self.color else text)

    def step(self, text: str) -> None:
        self._paint(_BOLD, f">>> {text}")

    def ok(self, text: str) -> None:
        self._paint(_GREEN, f"[OK] {text}")

    def warn(self, text: str) -> None:
        self._paint(_YELLOW, f"[WARNING] {text}")

    def error(self, text: str) -> None:
        self._paint(_RED, f"[ERR] {text}")


def describe_node(node: NodeInfo, replicas: int = 0, planned: bool = False) -> list[str]:
    """A node as check/create print it: `M: id addr` plus its slots and replicas."""
    if node.is_replica:
        lines = [f"S: {node.id} {node.addr}"]
        if not planned:
            lines.append("   slots: (0 slots) slave")
        lines.append(f"   replicates {node.master_id}")
        return lines
    lines = [
        f"M: {node.id} {node.addr}",
        f"   slots:{format_ranges(node.slots)} ({len(node.slots)} slots) master",
    ]
    if replicas:
        lines.append(f"   {replicas} additional replica(s)")
    return lines


def info_line(node: NodeInfo, keys: int, replicas: int) -> str:
    """`--cluster info`'s line for one master."""
    return (
        f"{node.addr} ({node.id[:8]}...) -> {keys} keys | {len(node.slots)} slots | "
        f"{replicas} slaves."
    )


@dataclass(frozen=True, slots=True)
class StatusRow:
    """One node in the status table; `None` fields are unknown (the node did not answer)."""

    addr: str
    id: str | None = None
    role: str | None = None  # "master" / "replica"
    master_addr: str | None = None
    slots: int | None = None
    keys: int | None = None
    state: str | None = None  # cluster_state
    ops: str | None = None  # instantaneous_ops_per_sec
    flags: str = ""


def render_status(rows: Sequence[StatusRow]) -> list[str]:
    """A fixed-width table, one node per line."""
    header = ("NODE", "ROLE", "ID", "SLOTS", "KEYS", "OPS/S", "STATE", "")
    table = [header]
    for r in rows:
        if r.id is None:
            table.append((r.addr, "-", "-", "-", "-", "-", "down", r.flags))
            continue
        role = r.role or "-"
        if r.role == "replica" and r.master_addr:
            role = f"replica of {r.master_addr}"
        table.append(
            (
                r.addr,
                role,
                r.id[:8],
                "-" if r.slots is None else str(r.slots),
                "-" if r.keys is None else str(r.keys),
                r.ops or "-",
                r.state or "-",
                r.flags,
            )
        )
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    return [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in table
    ]
