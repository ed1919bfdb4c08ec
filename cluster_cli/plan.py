"""The decisions of the cluster tool: slot allocation, replica placement, reshard and rebalance
plans, and how to close an open slot.

Pure: plain data in, plain data out; cluster_cli/manager.py carries the plans out. The
arithmetic follows redis-cli --cluster so a plan made here moves the same number of slots
from the same nodes as the tool users know (redis-spec-digest.md 1.12 and 1.13); the code is
our own.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Final

from cluster_cli.topology import SLOT_COUNT

MIN_MASTERS: Final = 3


def round_half_up(x: float) -> int:
    """C's lround for the non-negative values used here (Python's round is banker's)."""
    return math.floor(x + 0.5)


def allocate_slots(masters: int) -> list[tuple[int, int]]:
    """Split the 16384 slots into `masters` contiguous ranges of (nearly) equal size:
    3 masters get 0-5460, 5461-10922, 10923-16383."""
    per_node = SLOT_COUNT / masters
    ranges = []
    first = 0
    cursor = 0.0
    for i in range(masters):
        last = round_half_up(cursor + per_node - 1)
        if last > SLOT_COUNT - 1 or i == masters - 1:
            last = SLOT_COUNT - 1
        last = max(last, first)
        ranges.append((first, last))
        first = last + 1
        cursor += per_node
    return ranges


class PlanError(ValueError):
    """The request cannot be planned (the message says why, in redis-cli's words)."""


@dataclass(frozen=True, slots=True)
class Addr:
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


def parse_addr(text: str) -> Addr:
    """`host:port` (the port after the last colon, so IPv6 literals work)."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise PlanError(f"Invalid address format: {text}")
    return Addr(host.strip("[]"), int(port))


@dataclass(frozen=True, slots=True)
class Layout:
    """Who becomes a master (with which slot range) and whom each replica follows."""

    masters: list[tuple[Addr, tuple[int, int]]]
    replicas: list[tuple[Addr, Addr]]  # (replica, its master)

    @property
    def same_host_pairs(self) -> int:
        return sum(1 for r, m in self.replicas if r.host == m.host)


def plan_layout(addrs: Sequence[Addr], replicas: int) -> Layout:
    """Masters first taken round-robin over the hosts, so they spread over machines; each
    replica then goes to the next master needing one, preferring a node on another host.
    Nodes left over when the count does not divide evenly become extra replicas."""
    masters_count = len(addrs) // (replicas + 1)
    if masters_count < MIN_MASTERS:
        needed = MIN_MASTERS * (replicas + 1)
        raise PlanError(
            "Invalid configuration for cluster creation.\n"
            "Redis Cluster requires at least 3 master nodes.\n"
            f"This is not possible with {len(addrs)} nodes and {replicas} replicas per node.\n"
            f"At least {needed} nodes are required."
        )
    if len(set(addrs)) != len(addrs):
        raise PlanError("The same node is listed more than once")
    pool = _interleave_hosts(addrs)
    masters = pool[:masters_count]
    spare = pool[masters_count:]
    pairs: list[tuple[Addr, Addr]] = []
    i = 0
    while spare:
        master = masters[i % masters_count]
        pick = next((a for a in spare if a.host != master.host), spare[0])
        spare.remove(pick)
        pairs.append((pick, master))
        i += 1
    return Layout(list(zip(masters, allocate_slots(masters_count), strict=True)), pairs)


def _interleave_hosts(addrs: Sequence[Addr]) -> list[Addr]:
    by_host: dict[str, list[Addr]] = {}
    for addr in addrs:
        by_host.setdefault(addr.host, []).append(addr)
    queues = list(by_host.values())
    result: list[Addr] = []
    while any(queues):
        result.extend(queue.pop(0) for queue in queues if queue)
    return result


@dataclass(frozen=True, slots=True)
class Source:
    """A master that can give slots: its id and the slots it owns."""

    id: str
    slots: Sequence[int]


def reshard_plan(sources: Sequence[Source], count: int) -> list[tuple[int, str]]:
    """(slot, source id) pairs moving `count` slots (fewer only if the sources own fewer),
    taken from every source in proportion to what it owns: biggest source first, rounding up
    for it and down for the others, each giving its lowest slots. The rounding down can leave
    the plan short (redis-cli then moves fewer slots than asked): the rest comes from the
    sources' next slots, in the same order."""
    ordered = sorted(sources, key=lambda s: len(s.slots), reverse=True)
    total = sum(len(s.slots) for s in ordered)
    if total == 0:
        return []
    remaining = [sorted(s.slots) for s in ordered]
    plan: list[tuple[int, str]] = []
    for i, source in enumerate(ordered):
        share = count / total * len(source.slots)
        n = min(math.ceil(share) if i == 0 else math.floor(share), count - len(plan))
        plan.extend((slot, source.id) for slot in remaining[i][:n])
        del remaining[i][:n]
    for source, slots in zip(ordered, remaining, strict=True):
        n = count - len(plan)
        plan.extend((slot, source.id) for slot in slots[:n])
    return plan


@dataclass(frozen=True, slots=True)
class Member:
    """A master taking part in a rebalance."""

    id: str
    slots: int
    weight: float = 1.0


@dataclass(frozen=True, slots=True)
class Move:
    source: str
    target: str
    count: int


@dataclass(frozen=True, slots=True)
class Rebalance:
    nodes: int
    total_weight: float
    moves: list[Move]  # empty: every master is within the threshold


def rebalance_plan(
    members: Sequence[Member], threshold: float = 2.0, use_empty: bool = False
) -> Rebalance:
    """Moves that bring every master to 16384 * weight / total weight slots.

    Masters without slots take part only with `use_empty`; a weight of 0 drains a master.
    Nothing moves when every master is within `threshold` percent of its target."""
    involved = [m for m in members if m.slots > 0 or (use_empty and m.weight > 0)]
    total_weight = sum(m.weight for m in involved)
    if not involved or total_weight <= 0:
        raise PlanError("No master has a positive weight")
    balance: dict[str, int] = {}
    over_threshold = False
    for m in involved:
        expected = int(SLOT_COUNT / total_weight * m.weight)
        balance[m.id] = m.slots - expected
        if m.slots == 0:
            over_threshold = over_threshold or expected > 0
        elif abs(100 - 100.0 * expected / m.slots) > threshold:
            over_threshold = True
    if not over_threshold:
        return Rebalance(len(involved), total_weight, [])
    # The targets are rounded down, so the balances sum to a surplus >= 0: hand it out one
    # slot at a time to the masters that receive (or stay level), in order.
    surplus = sum(balance.values())
    while surplus > 0:
        for m in involved:
            if balance[m.id] <= 0 and surplus > 0:
                balance[m.id] -= 1
                surplus -= 1
    order = sorted(involved, key=lambda m: balance[m.id])
    moves = []
    dst, src = 0, len(order) - 1
    while dst < src:
        target, source = order[dst].id, order[src].id
        n = min(-balance[target], balance[source])
        if n > 0:
            moves.append(Move(source, target, n))
            balance[target] += n
            balance[source] -= n
        if balance[target] >= 0:
            dst += 1
        if balance[source] <= 0:
            src -= 1
    return Rebalance(len(involved), total_weight, moves)


def least_replicated(masters: Sequence[str], replicas: Mapping[str, int]) -> str:
    """The master with the fewest replicas (the first such in `masters` order)."""
    if not masters:
        raise PlanError("No master to choose from")
    return min(masters, key=lambda m: replicas.get(m, 0))


class FixCase(Enum):
    """How `fix` closes an open slot (redis-cli's cases, same numbering in the output)."""

    MOVE = 1  # one node migrating, one importing: finish the migration
    TO_OWNER = 2  # only importing nodes: give their keys back to the owner, close the slot
    CLOSE = 3  # only the owner migrating, nobody importing: just close it
    UNSUPPORTED = 0


def fix_case(owner: str, migrating: Sequence[str], importing: Sequence[str]) -> FixCase:
    """Which repair applies to an open slot, given node addresses in each state."""
    if len(migrating) == 1 and len(importing) == 1:
        return FixCase.MOVE
    if not migrating and importing:
        return FixCase.TO_OWNER
    if migrating == [owner] and not importing:
        return FixCase.CLOSE
    return FixCase.UNSUPPORTED
