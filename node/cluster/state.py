"""One node's view of the cluster: Redis's clusterState and clusterNode.

Rules:
- Everything that changes slot ownership, node roles, epochs or the node table happens
  through the methods here, so the owner table, each node's slot count and its replica
  list never disagree. The bus (gossip, failure detection, elections) drives the same
  methods; so do the CLUSTER commands.
- A change that must reach nodes.conf, or may change the cluster's health, is recorded in
  `todo` (Redis's clusterDoBeforeSleep flags); the engine acts on it once per event-loop
  turn (node/cluster/manager.py).
- Time is always passed in (unix ms), randomness comes from the caller's seeded
  `random.Random` (node ids). Pure: no I/O, no clocks.
"""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass, field
from itertools import compress
from operator import is_not
from typing import Final

SLOT_COUNT: Final = 16384
NAME_LEN: Final = 40
# Bus message types, in Redis's CLUSTERMSG_TYPE_* order (CLUSTER INFO's stats lines).
MESSAGE_TYPES: Final = (
    "ping",
    "pong",
    "meet",
    "fail",
    "publish",
    "auth-req",
    "auth-ack",
    "update",
    "mfstart",
    "module",
    "publishshard",
)
# clusterUpdateState's delays (cluster.h).
WRITABLE_DELAY_MS: Final = 2000
MIN_REJOIN_DELAY_MS: Final = 500
MAX_REJOIN_DELAY_MS: Final = 5000
BLACKLIST_TTL_MS: Final = 60_000


class NodeFlag(enum.IntFlag):
    """CLUSTER_NODE_* flags."""

    MASTER = enum.auto()
    SLAVE = enum.auto()
    PFAIL = enum.auto()
    FAIL = enum.auto()
    MYSELF = enum.auto()
    HANDSHAKE = enum.auto()
    NOADDR = enum.auto()
    MEET = enum.auto()
    MIGRATE_TO = enum.auto()
    NOFAILOVER = enum.auto()


NO_FLAGS: Final = NodeFlag(0)
# The flags CLUSTER NODES prints, in its order (representClusterNodeFlags).
FLAG_WORDS: Final = (
    (NodeFlag.MYSELF, "myself"),
    (NodeFlag.MASTER, "master"),
    (NodeFlag.SLAVE, "slave"),
    (NodeFlag.PFAIL, "fail?"),
    (NodeFlag.FAIL, "fail"),
    (NodeFlag.HANDSHAKE, "handshake"),
    (NodeFlag.NOADDR, "noaddr"),
    (NodeFlag.NOFAILOVER, "nofailover"),
)

# What the engine must do before the next event-loop turn sleeps.
TODO_SAVE_CONFIG: Final = 1
TODO_FSYNC_CONFIG: Final = 2
TODO_UPDATE_STATE: Final = 4


def random_name(rng: random.Random) -> str:
    """A fresh node (or shard) id: 40 random hex digits."""
    return f"{rng.getrandbits(160):040x}"


def valid_name(name: str) -> bool:
    return len(name) == NAME_LEN and all(c in "0123456789abcdef" for c in name)


@dataclass(eq=False, slots=True)
class ClusterNode:
    """A node as this node knows it (myself included). Times are unix ms, 0 = never."""

    name: str
    flags: NodeFlag
    ctime: int = 0
    ip: str = ""
    port: int = 0  # the client port (the TLS one in a TLS cluster)
    cport: int = 0  # the bus port
    pport: int = 0  # the plaintext client port of a TLS node
    hostname: str = ""
    shard_id: str = ""
    config_epoch: int = 0
    master: ClusterNode | None = None
    replicas: list[ClusterNode] = field(default_factory=list)
    numslots: int = 0
    ping_sent: int = 0
    pong_received: int = 0
    data_received: int = 0
    fail_time: int = 0
    voted_time: int = 0
    repl_offset_time: int = 0
    orphaned_time: int = 0
    repl_offset: int = 0
    link: bool = False  # our outbound bus link to it is up (kept by the bus)
    fail_reports: dict[str, int] = field(default_factory=dict)  # reporter -> report time

    @property
    def is_master(self) -> bool:
        return bool(self.flags & NodeFlag.MASTER)

    @property
    def is_replica(self) -> bool:
        return bool(self.flags & NodeFlag.SLAVE)

    @property
    def failed(self) -> bool:
        return bool(self.flags & NodeFlag.FAIL)

    @property
    def timed_out(self) -> bool:
        return bool(self.flags & NodeFlag.PFAIL)

    @property
    def in_handshake(self) -> bool:
        return bool(self.flags & NodeFlag.HANDSHAKE)

    def epoch(self) -> int:
        """The config epoch it stands for: a replica shows its master's (nodeEpoch)."""
        if self.flags & NodeFlag.SLAVE and self.master is not None:
            return self.master.config_epoch
        return self.config_epoch


class ClusterState:
    """The node table, the slot owner table, migrations, epochs and the cluster's health."""

    def __init__(self, myself: ClusterNode) -> None:
        myself.flags |= NodeFlag.MYSELF
        self.myself = myself
        self.nodes: dict[str, ClusterNode] = {myself.name: myself}
        self.current_epoch = 0
        self.last_vote_epoch = 0
        self.slots: list[ClusterNode | None] = [None] * SLOT_COUNT
        # Open slots (Redis's migrating_slots_to / importing_slots_from).
        self.migrating: dict[int, ClusterNode] = {}
        self.importing: dict[int, ClusterNode] = {}
        self.ok = False  # cluster_state: ok / fail
        self.size = 1  # masters serving at least one slot (1 until first computed, as Redis)
        self.blacklist: dict[str, int] = {}  # forgotten node -> unix ms it may come back
        self.stats_sent = [0] * len(MESSAGE_TYPES)
        self.stats_received = [0] * len(MESSAGE_TYPES)
        self.links_buffer_limit_exceeded = 0
        self.todo = 0
        self.slots_version = 0  # bumped by every change of a slot's owner (caches key on it)
        self._first_update_ms = 0
        self._minority_since_ms = 0

    @classmethod
    def fresh(cls, rng: random.Random, now: int) -> ClusterState:
        """A brand new identity: a master with a random name that knows no other node."""
        return cls(
            ClusterNode(
                random_name(rng), NodeFlag.MYSELF | NodeFlag.MASTER, now, shard_id=random_name(rng)
            )
        )

    # --- the node table ---------------------------------------------------------------------
    def lookup(self, name: str) -> ClusterNode | None:
        return self.nodes.get(name)

    def add_node(self, node: ClusterNode) -> None:
        self.nodes[node.name] = node

    def rename_node(self, node: ClusterNode, name: str) -> None:
        """A handshake node learned its real name (clusterRenameNode)."""
        del self.nodes[node.name]
        node.name = name
        self.nodes[name] = node

    def remove_node(self, node: ClusterNode) -> None:
        """clusterDelNode: forget `node` with everything that points at it -- its slots
        become unassigned, its open slots close, its failure reports go."""
        for slot, target in list(self.migrating.items()):
            if target is node:
                del self.migrating[slot]
        for slot, source in list(self.importing.items()):
            if source is node:
                del self.importing[slot]
        self.del_node_slots(node)
        for other in self.nodes.values():
            other.fail_reports.pop(node.name, None)
        if node.master is not None:
            self.detach_replica(node.master, node)
        for replica in node.replicas:
            if replica.master is node:
                replica.master = None
        node.replicas = []
        self.nodes.pop(node.name, None)

    def blacklist_add(self, name: str, now: int) -> None:
        """CLUSTER FORGET: gossip may not bring `name` back for a minute."""
        self.blacklist_cleanup(now)
        self.blacklist[name] = now + BLACKLIST_TTL_MS

    def blacklist_cleanup(self, now: int) -> None:
        for name, until in list(self.blacklist.items()):
            if until < now:
                del self.blacklist[name]

    def blacklisted(self, name: str, now: int) -> bool:
        self.blacklist_cleanup(now)
        return name in self.blacklist

    # --- roles ------------------------------------------------------------------------------
    def attach_replica(self, master: ClusterNode, replica: ClusterNode) -> None:
        """clusterNodeAddSlave: `replica` follows `master` (no-op if it already does)."""
        if replica.master is not None and replica.master is not master:
            self.detach_replica(replica.master, replica)
        replica.master = master
        if replica not in master.replicas:
            master.replicas.append(replica)
            # A master that ever had a replica may get one by migration when orphaned.
            master.flags |= NodeFlag.MIGRATE_TO
        replica.shard_id = master.shard_id

    def detach_replica(self, master: ClusterNode, replica: ClusterNode) -> None:
        """clusterNodeRemoveSlave."""
        if replica in master.replicas:
            master.replicas.remove(replica)
        if replica.master is master:
            replica.master = None

    def set_as_master(self, node: ClusterNode) -> None:
        """clusterSetNodeAsMaster: `node` (myself or another) turns into a master."""
        if node.is_master:
            return
        if node.master is not None:
            self.detach_replica(node.master, node)
            if node is not self.myself:
                # It took over a master that had replicas: it is worth migrating to.
                node.flags |= NodeFlag.MIGRATE_TO
        node.flags = (node.flags & ~NodeFlag.SLAVE) | NodeFlag.MASTER
        node.master = None
        self.todo |= TODO_SAVE_CONFIG | TODO_UPDATE_STATE

    def set_replica_of(self, node: ClusterNode, master: ClusterNode) -> None:
        """`node` becomes a replica of `master` (myself: CLUSTER REPLICATE, failover)."""
        node.flags = (node.flags & ~NodeFlag.MASTER) | NodeFlag.SLAVE
        self.attach_replica(master, node)
        self.todo |= TODO_SAVE_CONFIG | TODO_UPDATE_STATE

    # --- slots --------------------------------------------------------------------------------
    def add_slot(self, slot: int, node: ClusterNode) -> bool:
        """clusterAddSlot: False (nothing changes) when the slot has an owner already."""
        if self.slots[slot] is not None:
            return False
        self.slots[slot] = node
        node.numslots += 1
        self.slots_version += 1
        return True

    def del_slot(self, slot: int) -> bool:
        """clusterDelSlot: False when the slot had no owner."""
        owner = self.slots[slot]
        if owner is None:
            return False
        self.slots[slot] = None
        owner.numslots -= 1
        self.slots_version += 1
        return True

    def set_slot_owner(self, slot: int, node: ClusterNode) -> None:
        """Rebind a slot, whoever owned it (SETSLOT NODE, gossip, failover)."""
        self.del_slot(slot)
        self.add_slot(slot, node)

    def del_node_slots(self, node: ClusterNode) -> int:
        """clusterDelNodeSlots: unassign every slot `node` owns; how many there were."""
        if not node.numslots:
            return 0
        deleted = 0
        slots = self.slots
        for slot in range(SLOT_COUNT):
            if slots[slot] is node:
                slots[slot] = None
                deleted += 1
        node.numslots = 0
        self.slots_version += 1
        return deleted

    def slot_ranges(self, node: ClusterNode) -> list[tuple[int, int]]:
        """The slots `node` owns as (first, last) runs, ascending."""
        if not node.numslots:
            return []
        out: list[tuple[int, int]] = []
        slots = self.slots
        start = -1
        for slot in range(SLOT_COUNT + 1):
            mine = slot < SLOT_COUNT and slots[slot] is node
            if mine and start < 0:
                start = slot
            elif not mine and start >= 0:
                out.append((start, slot - 1))
                start = -1
        return out

    def owner_runs(self) -> list[tuple[int, int, ClusterNode]]:
        """Maximal runs of consecutive slots with the same owner, ascending (CLUSTER SLOTS,
        CLUSTER NODES, and every nodes.conf save: each SETSLOT of a reshard). The run
        boundaries are found by C-level iteration (is_not over neighbours), 2-3x faster
        than a Python loop over the 16384 slots."""
        out: list[tuple[int, int, ClusterNode]] = []
        slots = self.slots
        start = 0
        changes = compress(range(1, SLOT_COUNT), map(is_not, slots, slots[1:]))
        for end in (*changes, SLOT_COUNT):
            owner = slots[start]
            if owner is not None:
                out.append((start, end - 1, owner))
            start = end
        return out

    def close_all_slots(self) -> None:
        """clusterCloseAllSlots: forget every migration in progress."""
        self.migrating.clear()
        self.importing.clear()

    # --- epochs -------------------------------------------------------------------------------
    def max_epoch(self) -> int:
        """clusterGetMaxEpoch: the greatest config epoch known, or currentEpoch if larger."""
        return max(self.current_epoch, *(n.config_epoch for n in self.nodes.values()))

    def bump_epoch_without_consensus(self) -> bool:
        """clusterBumpConfigEpochWithoutConsensus: take currentEpoch+1 as my config epoch
        unless mine is already the unique maximum. True if it changed."""
        myself = self.myself
        if myself.config_epoch == 0 or myself.config_epoch != self.max_epoch():
            self.current_epoch += 1
            myself.config_epoch = self.current_epoch
            self.todo |= TODO_SAVE_CONFIG | TODO_FSYNC_CONFIG
            return True
        return False

    # --- health -------------------------------------------------------------------------------
    def update_state(self, now: int, *, full_coverage: bool, node_timeout: int) -> None:
        """clusterUpdateState: recompute cluster_state and cluster_size.

        A master whose state is FAIL waits WRITABLE_DELAY_MS after the first call before it
        may turn OK (it may have been failed over while down), and one that has just been
        in a minority waits min(max(node_timeout, 500), 5000) ms after that."""
        self.todo &= ~TODO_UPDATE_STATE
        if not self._first_update_ms:
            self._first_update_ms = now
        myself = self.myself
        if myself.is_master and not self.ok and now - self._first_update_ms < WRITABLE_DELAY_MS:
            return
        ok = True
        if full_coverage:
            # Over the distinct owners: a flag test per slot costs ~10 ms in Python.
            owners = set(self.slots)
            ok = None not in owners and not any(
                n.flags & NodeFlag.FAIL for n in owners if n is not None
            )
        size = reachable = 0
        for node in self.nodes.values():
            if node.flags & NodeFlag.MASTER and node.numslots:
                size += 1
                if not node.flags & (NodeFlag.FAIL | NodeFlag.PFAIL):
                    reachable += 1
        self.size = size
        if reachable < size // 2 + 1:
            ok = False
            self._minority_since_ms = now
        if ok != self.ok:
            rejoin_delay = min(max(node_timeout, MIN_REJOIN_DELAY_MS), MAX_REJOIN_DELAY_MS)
            if ok and myself.is_master and now - self._minority_since_ms < rejoin_delay:
                return
            self.ok = ok

    # --- failure reports ------------------------------------------------------------------------
    def failure_reports(self, node: ClusterNode, now: int, node_timeout: int) -> int:
        """clusterNodeFailureReportsCount: valid reports (younger than 2 * node_timeout)
        about `node`; the expired ones are dropped."""
        horizon = now - node_timeout * 2
        reports = node.fail_reports
        for reporter, when in list(reports.items()):
            if when < horizon:
                del reports[reporter]
        return len(reports)

    # --- reset --------------------------------------------------------------------------------
    def reset(self, hard: bool, rng: random.Random) -> None:
        """clusterReset's state part: myself a master again, every slot unassigned and every
        migration closed, every other node forgotten; a hard reset also zeroes the epochs
        and takes a new name. (Stopping replication and flushing a former replica's data
        is the caller's.)"""
        myself = self.myself
        self.set_as_master(myself)
        self.close_all_slots()
        for slot in range(SLOT_COUNT):
            self.del_slot(slot)
        for node in list(self.nodes.values()):
            if node is not myself:
                self.remove_node(node)
        if hard:
            self.current_epoch = 0
            self.last_vote_epoch = 0
            myself.config_epoch = 0
            self.rename_node(myself, random_name(rng))
            myself.shard_id = random_name(rng)
        self.todo |= TODO_SAVE_CONFIG | TODO_UPDATE_STATE | TODO_FSYNC_CONFIG
