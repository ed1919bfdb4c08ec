"""What a cluster looks like from the outside: CLUSTER NODES parsed, slot ranges, the checks.

Pure: no sockets, no clock. The I/O side (cluster_cli/manager.py) fetches the texts and hands
them here; everything that decides "is this cluster healthy" lives in this module, so every
rule is unit-tested on literal CLUSTER NODES texts.

Rules, matching what redis-cli --cluster reads (redis-spec-digest.md 1.7 and 1.12):
- A line has 8 space-separated fields and then slot entries; the port is after the last `:`
  of the address, the bus port after `@`, and a `,hostname` may follow the bus port.
- Open slots (`[N->-id]` migrating, `[N-<-id]` importing) appear only on the `myself` line,
  so only a node's own line tells its migration state.
- The config signature is redis-cli's: for every line that owns slots, `id:` plus its plain
  slot tokens sorted as strings and joined by `,`; the entries sorted and joined by `|`.
  Nodes agree when their signatures are equal.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final

SLOT_COUNT: Final = 16384


class ParseError(ValueError):
    """A CLUSTER NODES line that is not in Redis's format."""


@dataclass(slots=True)
class NodeInfo:
    """One CLUSTER NODES line."""

    id: str
    host: str
    port: int
    bus_port: int
    hostname: str
    flags: frozenset[str]
    master_id: str | None
    ping_sent: int
    pong_recv: int
    config_epoch: int
    link_state: str
    slots: list[int] = field(default_factory=list)
    # Only on the myself line: slot -> the node it migrates to / imports from.
    migrating: dict[int, str] = field(default_factory=dict)
    importing: dict[int, str] = field(default_factory=dict)
    # Tokens as the node printed them (signature input).
    slot_tokens: list[str] = field(default_factory=list)

    @property
    def addr(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def is_master(self) -> bool:
        return "master" in self.flags

    @property
    def is_replica(self) -> bool:
        return "slave" in self.flags

    @property
    def myself(self) -> bool:
        return "myself" in self.flags

    @property
    def failed(self) -> bool:
        return "fail" in self.flags or "fail?" in self.flags

    @property
    def usable(self) -> bool:
        """What redis-cli keeps as a "friend": an address, a link, not failed."""
        return not (
            {"noaddr", "fail", "handshake"} & self.flags or self.link_state == "disconnected"
        )


def parse_nodes(text: str) -> list[NodeInfo]:
    """Every line of a CLUSTER NODES reply (or a nodes.conf without its `vars` line)."""
    nodes = []
    for line in text.split("\n"):
        if not line.strip() or line.startswith("vars "):
            continue
        nodes.append(parse_line(line))
    return nodes


def parse_line(line: str) -> NodeInfo:
    fields = line.split(" ")
    if len(fields) < 8:
        raise ParseError(f"a CLUSTER NODES line needs 8 fields: {line!r}")
    node_id, address, flags, master, ping, pong, epoch, link, *tokens = fields
    hostport, _, rest = address.partition("@")
    bus, _, hostname = rest.partition(",")
    host, _, port = hostport.rpartition(":")
    try:
        node = NodeInfo(
            id=node_id,
            host=host,
            port=int(port or 0),
            bus_port=int(bus) if bus else int(port or 0) + 10000,
            hostname=hostname,
            flags=frozenset(flags.split(",")),
            master_id=None if master == "-" else master,
            ping_sent=int(ping),
            pong_recv=int(pong),
            config_epoch=int(epoch),
            link_state=link,
        )
        for token in tokens:
            _add_slot_token(node, token)
    except ValueError as exc:
        raise ParseError(f"bad CLUSTER NODES line {line!r}: {exc}") from None
    return node


def _add_slot_token(node: NodeInfo, token: str) -> None:
    if token.startswith("["):
        body = token.strip("[]")
        if "->-" in body:
            slot, target = body.split("->-")
            node.migrating[int(slot)] = target
        elif "-<-" in body:
            slot, source = body.split("-<-")
            node.importing[int(slot)] = source
        else:
            raise ValueError(f"unknown open-slot entry {token}")
        return
    node.slot_tokens.append(token)
    first, _, last = token.partition("-")
    node.slots.extend(range(int(first), int(last or first) + 1))


def slot_ranges(slots: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted maximal runs of consecutive slots."""
    ranges: list[tuple[int, int]] = []
    for slot in sorted(set(slots)):
        if ranges and ranges[-1][1] == slot - 1:
            ranges[-1] = (ranges[-1][0], slot)
        else:
            ranges.append((slot, slot))
    return ranges


def format_ranges(slots: Iterable[int]) -> str:
    """redis-cli's slot list: `[0-5460],[5462]` (empty string for no slots)."""
    return ",".join(f"[{a}]" if a == b else f"[{a}-{b}]" for a, b in slot_ranges(slots))


def config_signature(nodes: Iterable[NodeInfo]) -> str:
    entries = [f"{n.id}:" + ",".join(sorted(n.slot_tokens)) for n in nodes if n.slot_tokens]
    return "|".join(sorted(entries))


@dataclass(frozen=True, slots=True)
class OpenSlots:
    """Where migrations are half done: slot -> addresses of the nodes in that state."""

    migrating: dict[int, list[str]]
    importing: dict[int, list[str]]

    @property
    def slots(self) -> list[int]:
        return sorted(set(self.migrating) | set(self.importing))


def open_slots(myselves: Sequence[NodeInfo]) -> OpenSlots:
    """Open slots from every master's own line (others' lines never show them)."""
    migrating: dict[int, list[str]] = {}
    importing: dict[int, list[str]] = {}
    for node in myselves:
        for slot in node.migrating:
            migrating.setdefault(slot, []).append(node.addr)
        for slot in node.importing:
            importing.setdefault(slot, []).append(node.addr)
    return OpenSlots(migrating, importing)


def uncovered_slots(myselves: Iterable[NodeInfo]) -> list[int]:
    """Slots no master claims on its own line (redis-cli's coverage rule)."""
    covered: set[int] = set()
    for node in myselves:
        covered.update(node.slots)
    return [s for s in range(SLOT_COUNT) if s not in covered]


def replica_counts(nodes: Iterable[NodeInfo]) -> dict[str, int]:
    """master id -> how many known replicas name it (failed ones included, as redis-cli)."""
    counts: dict[str, int] = {}
    for node in nodes:
        if node.is_replica and node.master_id:
            counts[node.master_id] = counts.get(node.master_id, 0) + 1
    return counts


def parse_info(text: str) -> dict[str, str]:
    """`field:value` lines of INFO or CLUSTER INFO (section headers and blanks skipped)."""
    result = {}
    for line in text.splitlines():
        if line and not line.startswith("#") and ":" in line:
            key, _, value = line.partition(":")
            result[key] = value.strip()
    return result
