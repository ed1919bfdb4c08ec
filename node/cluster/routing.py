"""Where a request may run in cluster mode: Redis's getNodeByQuery and the text of
clusterRedirectClient's errors.

Rules (redis-spec-digest.md 1.2):
- The keys come from the command table's key specs (`CommandSpec.key_positions`); shard
  pub/sub commands' channels (NOT_KEY specs) are routed like keys. A command with no key
  spec and no movable keys is never routed; EXEC routes all its queued commands as one.
- In order: every key in one slot (CROSSSLOT), the slot has an owner (CLUSTERDOWN Hash
  slot not served), keys present locally counted for an open slot, the cluster's health
  (CLUSTERDOWN, read-only when down), MIGRATE served in an open slot, ASK or TRYAGAIN for a
  migrating slot, ASKING served for an importing one, READONLY replica reads, then MOVED.
- `check` answers None (serve it here) or the error text; `slot` is the slot decided (-1
  when the request has no keys), which scripts compare their own keys with.
Pure.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from node.cluster.describe import preferred_endpoint
from node.cluster.state import ClusterNode, ClusterState, NodeFlag
from node.commands.registry import CommandSpec, Flag, KeyFlag, keys_from_specs
from node.proto import errors
from node.proto.slots import key_slot

if TYPE_CHECKING:
    from node.engine.keyspace import Database

Argv = list[bytes]
KeysOf = Callable[[Argv], list[bytes]]


@dataclass(frozen=True, slots=True)
class Plan:
    """How to find a command's keys for routing, and the flags routing reads."""

    keys: KeysOf | None  # None: never routed
    key_index: int = 0  # > 0: the one key is argv[key_index] (GET, SET, HSET...)
    shard_pubsub: bool = False
    write: bool = False
    asking: bool = False  # the command carries the ASKING flag (RESTORE-ASKING)
    migrate: bool = False


NOT_ROUTED: Final = Plan(None)


def plan_for(spec: CommandSpec) -> Plan:
    """A command's routing plan (callers cache it: the table never changes)."""
    channels = tuple(
        dataclasses.replace(s, flags=s.flags & ~KeyFlag.NOT_KEY)
        for s in spec.keys
        if s.flags & KeyFlag.NOT_KEY
    )
    if not spec.keys and not spec.movable_keys and spec.getkeys is None:
        return NOT_ROUTED
    keys: KeysOf
    index = 0
    only = spec.keys[0] if len(spec.keys) == 1 else None
    if channels:

        def keys(argv: Argv) -> list[bytes]:
            found = keys_from_specs(channels, argv, partial=True) or []
            return [argv[i] for i in spec.key_positions(argv)] + [argv[i] for i, _ in found]

    elif (
        only is not None
        and only.begin == "index"
        and only.find == "range"
        and only.lastkey == 0
        and not only.flags & KeyFlag.INCOMPLETE
    ):
        index = only.index  # one key at a fixed place: the hot case

        def keys(argv: Argv) -> list[bytes]:
            return [argv[index]] if index < len(argv) else []

    else:

        def keys(argv: Argv) -> list[bytes]:
            return [argv[i] for i in spec.key_positions(argv)]

    return Plan(
        keys,
        index,
        bool(channels),
        spec.is_write,
        bool(spec.flags & Flag.ASKING),
        spec.fullname == "migrate",
    )


@dataclass(slots=True)
class Request:
    """What getNodeByQuery looks at besides the keys: the command as a whole (for EXEC:
    EXEC itself, writing if any queued command writes) and the client's flags."""

    write: bool
    shard_pubsub: bool
    migrate: bool
    asking: bool  # the client sent ASKING, or the command has the ASKING flag
    readonly: bool  # the client sent READONLY


class Router:
    """getNodeByQuery over one node's state, with the settings it reads."""

    def __init__(self, state: ClusterState) -> None:
        self.state = state
        self.allow_reads_when_down = False
        self.allow_pubsubshard_when_down = True
        self.endpoint_type = "ip"
        self.slot = -1  # the slot of the last request checked (-1: no keys)

    def check(self, db: Database, request: Request, keys: Iterable[bytes]) -> str | None:
        """None if the request is served here, else the redirect/error text."""
        state = self.state
        myself = state.myself
        self.slot = -1
        first: bytes | None = None
        slot = 0
        owner: ClusterNode | None = None
        multiple = migrating = importing = False
        missing = existing = 0
        for key in keys:
            if first is None:
                first, slot = key, key_slot(key)
                owner = state.slots[slot]
                if owner is None:
                    return errors.CLUSTER_UNBOUND
                if owner is myself and slot in state.migrating:
                    migrating = True
                elif slot in state.importing:
                    importing = True
            elif key != first:
                if key_slot(key) != slot:
                    return errors.CROSSSLOT
                multiple = True
            if (migrating or importing) and not request.shard_pubsub:
                if db.lookup(key) is None:
                    missing += 1
                else:
                    existing += 1
        if owner is None:
            return None  # no keys at all
        if not state.ok:
            if request.shard_pubsub:
                if not self.allow_pubsubshard_when_down:
                    return errors.CLUSTER_DOWN
            elif not self.allow_reads_when_down:
                return errors.CLUSTER_DOWN
            elif request.write:
                return errors.CLUSTER_DOWN_READONLY
        self.slot = slot
        if (migrating or importing) and request.migrate:
            return None
        if migrating and missing:
            if existing:
                return errors.TRYAGAIN
            return self.redirect("ASK", slot, state.migrating[slot])
        if importing and request.asking:
            return errors.TRYAGAIN if multiple and missing else None
        if (
            (request.readonly or request.shard_pubsub)
            and not request.write
            and myself.flags & NodeFlag.SLAVE
            and myself.master is owner
        ):
            return None
        if owner is not myself:
            return self.redirect("MOVED", slot, owner)
        return None

    def redirect(self, kind: str, slot: int, node: ClusterNode) -> str:
        """`MOVED|ASK <slot> <endpoint>:<port>`."""
        return f"{kind} {slot} {preferred_endpoint(node, self.endpoint_type) or ''}:{node.port}"
