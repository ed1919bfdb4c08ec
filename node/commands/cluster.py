"""Cluster commands (Redis's cluster.c): the CLUSTER container, ASKING, READONLY,
READWRITE, MIGRATE and RESTORE-ASKING.

Rules:
- Handlers only talk to `engine.cluster` (node/cluster/manager.py) and its ClusterState.
  A change that must reach nodes.conf or may change the cluster's health is acted on
  (`_changed`) before the reply goes out, as Redis's beforeSleep saves the config before
  it writes the replies.
- On a node without cluster support every handler here (but MIGRATE, RESTORE-ASKING)
  answers "ERR This instance has cluster support disabled", after the dispatcher's own
  unknown-subcommand and arity checks, as in Redis.
- Replies and error texts are Redis 7.0.15's; CLUSTER MYSHARDID is 7.2's (clients use it).
- MEET only records the handshake node and FAILOVER only validates and hands the request
  to the bus (`cluster.bus`); the exchanges themselves are the bus's.
Pure.
"""

from __future__ import annotations

import ipaddress
from typing import Final

from node.cluster import describe, migrate
from node.cluster.manager import Cluster
from node.cluster.state import (
    SLOT_COUNT,
    TODO_FSYNC_CONFIG,
    TODO_SAVE_CONFIG,
    TODO_UPDATE_STATE,
    ClusterNode,
    NodeFlag,
    random_name,
)
from node.commands import docs
from node.commands._args import int_arg, option, string2ll
from node.commands.persistence import restore
from node.commands.registry import Acl, Flag, KeyFlag, KeyRef, key_at, keys_by_keyword
from node.commands.table import NODE
from node.engine.session import Client
from node.proto import errors, resp
from node.proto.errors import CommandError
from node.proto.slots import key_slot

Argv = list[bytes]
_ADMIN: Final = Flag.ADMIN | Flag.STALE | Flag.NO_ASYNC_LOADING
_CHANGED: Final = TODO_UPDATE_STATE | TODO_SAVE_CONFIG
_SETSLOT_SYNTAX: Final = (
    "ERR Invalid CLUSTER SETSLOT action or number of arguments. Try CLUSTER HELP"
)
_HELP: Final = (
    b"ADDSLOTS <slot> [<slot> ...]",
    b"    Assign slots to current node.",
    b"ADDSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]",
    b"    Assign slots which are between <start-slot> and <end-slot> to current node.",
    b"BUMPEPOCH",
    b"    Advance the cluster config epoch.",
    b"COUNT-FAILURE-REPORTS <node-id>",
    b"    Return number of failure reports for <node-id>.",
    b"COUNTKEYSINSLOT <slot>",
    b"    Return the number of keys in <slot>.",
    b"DELSLOTS <slot> [<slot> ...]",
    b"    Delete slots information from current node.",
    b"DELSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]",
    b"    Delete slots information which are between <start-slot> and <end-slot> from "
    b"current node.",
    b"FAILOVER [FORCE|TAKEOVER]",
    b"    Promote current replica node to being a master.",
    b"FORGET <node-id>",
    b"    Remove a node from the cluster.",
    b"GETKEYSINSLOT <slot> <count>",
    b"    Return key names stored by current node in a slot.",
    b"FLUSHSLOTS",
    b"    Delete current node own slots information.",
    b"INFO",
    b"    Return information about the cluster.",
    b"KEYSLOT <key>",
    b"    Return the hash slot for <key>.",
    b"MEET <ip> <port> [<bus-port>]",
    b"    Connect nodes into a working cluster.",
    b"MYID",
    b"    Return the node id.",
    b"NODES",
    b"    Return cluster configuration seen by node. Output format:",
    b"    <id> <ip:port> <flags> <master> <pings> <pongs> <epoch> <link> <slot> ...",
    b"REPLICATE <node-id>",
    b"    Configure current node as replica to <node-id>.",
    b"RESET [HARD|SOFT]",
    b"    Reset current node (default: soft).",
    b"SET-CONFIG-EPOCH <epoch>",
    b"    Set config epoch of current node.",
    b"SETSLOT <slot> (IMPORTING <node-id>|MIGRATING <node-id>|STABLE|NODE <node-id>)",
    b"    Set slot state.",
    b"REPLICAS <node-id>",
    b"    Return <node-id> replicas.",
    b"SAVECONFIG",
    b"    Force saving cluster configuration on disk.",
    b"SLOTS",
    b"    Return information about slots range mappings. Each range is made of:",
    b"    start, end, master and replicas IP addresses, ports and ids",
    b"SHARDS",
    b"    Return information about slot range mappings and the nodes associated with them.",
    b"LINKS",
    b"    Return information about all network links between this node and its peers.",
    b"    Output format is an array where each array element is a map containing attributes "
    b"of a link",
)


def _cluster(c: Client) -> Cluster:
    cluster = c.engine.cluster
    if cluster is None:
        raise CommandError(errors.CLUSTER_DISABLED)
    return cluster


def _text(raw: bytes) -> str:
    """User bytes as Redis's "%s" prints them: up to the first NUL."""
    return raw.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _node(cluster: Cluster, raw: bytes) -> ClusterNode | None:
    """clusterLookupNode: only a name of exactly 40 characters can match."""
    return cluster.state.lookup(raw.decode("utf-8", "surrogateescape"))


def _slot(raw: bytes) -> int:
    """getSlotOrReply."""
    slot = string2ll(raw)
    if slot is None or not 0 <= slot < SLOT_COUNT:
        raise CommandError("ERR Invalid or out of range slot")
    return slot


def _syntax(argv: Argv) -> CommandError:
    return CommandError(errors.SUBCOMMAND_SYNTAX.format(_text(argv[1]), "CLUSTER"))


def _changed(cluster: Cluster) -> None:
    """clusterDoBeforeSleep(UPDATE_STATE | SAVE_CONFIG), done now: the cluster's health,
    then nodes.conf."""
    cluster.state.todo |= _CHANGED
    cluster.before_sleep()


def _del_slots(cluster: Cluster, slots: list[int]) -> None:
    """clusterDelSlot for each slot; the shard channels of those my shard served go."""
    state = cluster.state
    myself = state.myself
    served = set()
    for slot in slots:
        owner = state.slots[slot]
        if owner is not None and (owner is myself or owner is myself.master):
            served.add(slot)
        state.del_slot(slot)
    if served:
        cluster.slots_removed(served)


NODE.container(
    "cluster",
    group="cluster",
    since="3.0.0",
    summary="A container for cluster commands",
    complexity="Depends on subcommand.",
)


@NODE.command(
    "help",
    2,
    Flag.LOADING | Flag.STALE,
    group="cluster",
    since="5.0.0",
    summary="Show helpful text about the different subcommands",
    complexity="O(1)",
    container="cluster",
)
def cluster_help(c: Client, argv: Argv) -> bytes:
    _cluster(c)
    return resp.help_reply(argv[0], _HELP)


# --- reading the state ----------------------------------------------------------------------
@NODE.command(
    "info",
    2,
    Flag.STALE,
    group="cluster",
    since="3.0.0",
    summary="Provides info about Redis Cluster node state",
    complexity="O(1)",
    tips=("nondeterministic_output",),
    container="cluster",
)
def cluster_info(c: Client, argv: Argv) -> bytes:
    return resp.verbatim(describe.info_text(_cluster(c).state), c.resp)


@NODE.command(
    "myid",
    2,
    Flag.STALE,
    group="cluster",
    since="3.0.0",
    summary="Return the node id",
    complexity="O(1)",
    container="cluster",
)
def cluster_myid(c: Client, argv: Argv) -> bytes:
    return resp.bulk(_cluster(c).state.myself.name.encode())


@NODE.command(
    "myshardid",
    2,
    Flag.STALE,
    group="cluster",
    since="7.2.0",
    summary="Returns the shard ID of a node.",
    complexity="O(1)",
    tips=("nondeterministic_output",),
    container="cluster",
)
def cluster_myshardid(c: Client, argv: Argv) -> bytes:
    return resp.bulk(_cluster(c).state.myself.shard_id.encode())


@NODE.command(
    "nodes",
    2,
    Flag.STALE,
    group="cluster",
    since="3.0.0",
    summary="Get Cluster config for the node",
    complexity="O(N) where N is the total number of Cluster nodes",
    tips=("nondeterministic_output",),
    container="cluster",
)
def cluster_nodes(c: Client, argv: Argv) -> bytes:
    return resp.verbatim(describe.nodes_text(_cluster(c).state), c.resp)


@NODE.command(
    "slots",
    2,
    Flag.STALE,
    group="cluster",
    since="3.0.0",
    summary="Get array of Cluster slot to node mappings",
    complexity="O(N) where N is the total number of Cluster nodes",
    tips=("nondeterministic_output",),
    history=(
        ("4.0.0", "Added node IDs."),
        ("7.0.0", "Added additional networking metadata field."),
    ),
    doc_flags=("deprecated",),
    deprecated_since="7.0.0",
    replaced_by="`CLUSTER SHARDS`",
    container="cluster",
)
def cluster_slots(c: Client, argv: Argv) -> bytes:
    cluster = _cluster(c)
    return describe.slots_reply(
        cluster.state, c.resp, cluster.router.endpoint_type, cluster.my_offset()
    )


@NODE.command(
    "shards",
    2,
    Flag.STALE,
    group="cluster",
    since="7.0.0",
    summary="Get array of cluster slots to node mappings",
    complexity="O(N) where N is the total number of cluster nodes",
    tips=("nondeterministic_output",),
    container="cluster",
)
def cluster_shards(c: Client, argv: Argv) -> bytes:
    cluster = _cluster(c)
    return describe.shards_reply(
        cluster.state, c.resp, cluster.router.endpoint_type, cluster.my_offset()
    )


def _replicas(c: Client, argv: Argv) -> bytes:
    cluster = _cluster(c)
    node = _node(cluster, argv[2])
    if node is None:
        raise CommandError(f"ERR Unknown node {_text(argv[2])}")
    if node.flags & NodeFlag.SLAVE:
        raise CommandError("ERR The specified node is not a master")
    return describe.replicas_reply(cluster.state, node)


@NODE.command(
    "replicas",
    3,
    Flag.ADMIN | Flag.STALE,
    group="cluster",
    since="5.0.0",
    summary="List replica nodes of the specified master node",
    complexity="O(1)",
    tips=("nondeterministic_output",),
    container="cluster",
    args=(docs.string("node-id"),),
)
def cluster_replicas(c: Client, argv: Argv) -> bytes:
    return _replicas(c, argv)


@NODE.command(
    "slaves",
    3,
    Flag.ADMIN | Flag.STALE,
    group="cluster",
    since="3.0.0",
    summary="List replica nodes of the specified master node",
    complexity="O(1)",
    tips=("nondeterministic_output",),
    doc_flags=("deprecated",),
    deprecated_since="5.0.0",
    replaced_by="`CLUSTER REPLICAS`",
    container="cluster",
    args=(docs.string("node-id"),),
)
def cluster_slaves(c: Client, argv: Argv) -> bytes:
    return _replicas(c, argv)


@NODE.command(
    "keyslot",
    3,
    Flag.STALE,
    group="cluster",
    since="3.0.0",
    summary="Returns the hash slot of the specified key",
    complexity="O(N) where N is the number of bytes in the key",
    container="cluster",
    args=(docs.string("key"),),
)
def cluster_keyslot(c: Client, argv: Argv) -> bytes:
    _cluster(c)
    return resp.integer(key_slot(argv[2]))


@NODE.command(
    "countkeysinslot",
    3,
    Flag.STALE,
    group="cluster",
    since="3.0.0",
    summary="Return the number of local keys in the specified hash slot",
    complexity="O(1)",
    container="cluster",
    args=(docs.integer("slot"),),
)
def cluster_countkeysinslot(c: Client, argv: Argv) -> bytes:
    cluster = _cluster(c)
    slot = int_arg(argv[2])
    if not 0 <= slot < SLOT_COUNT:
        raise CommandError("ERR Invalid slot")
    return resp.integer(len(cluster.keys_in_slot(slot)))


@NODE.command(
    "getkeysinslot",
    4,
    Flag.STALE,
    group="cluster",
    since="3.0.0",
    summary="Return local key names in the specified hash slot",
    complexity="O(log(N)) where N is the number of requested keys",
    tips=("nondeterministic_output",),
    container="cluster",
    args=(docs.integer("slot"), docs.integer("count")),
)
def cluster_getkeysinslot(c: Client, argv: Argv) -> bytes:
    cluster = _cluster(c)
    slot = int_arg(argv[2])
    count = int_arg(argv[3])
    if not 0 <= slot < SLOT_COUNT or count < 0:
        raise CommandError("ERR Invalid slot or number of keys")
    keys = cluster.keys_in_slot(slot)
    out: list[bytes] = []
    for key in reversed(keys):  # newest first, as Redis's per-slot list
        if len(out) >= count:
            break
        out.append(key)
    return resp.bulk_array(out)


@NODE.command(
    "count-failure-reports",
    3,
    Flag.ADMIN | Flag.STALE,
    group="cluster",
    since="3.0.0",
    summary="Return the number of failure reports active for a given node",
    complexity="O(N) where N is the number of failure reports",
    tips=("nondeterministic_output",),
    container="cluster",
    args=(docs.string("node-id"),),
)
def cluster_count_failure_reports(c: Client, argv: Argv) -> bytes:
    cluster = _cluster(c)
    node = _node(cluster, argv[2])
    if node is None:
        raise CommandError(f"ERR Unknown node {_text(argv[2])}")
    return resp.integer(
        cluster.state.failure_reports(
            node, c.engine.now_ms, c.engine.config.int("cluster-node-timeout")
        )
    )


@NODE.command(
    "links",
    2,
    Flag.STALE,
    group="cluster",
    since="7.0.0",
    summary="Returns a list of all TCP links to and from peer nodes in cluster",
    complexity="O(N) where N is the total number of Cluster nodes",
    tips=("nondeterministic_output",),
    container="cluster",
)
def cluster_links(c: Client, argv: Argv) -> bytes:
    return resp.encode(_cluster(c).bus.links(), c.resp)


# --- slots ----------------------------------------------------------------------------------
def _claim(
    state_slots: list[ClusterNode | None], counted: set[int], delete: bool, first: int, last: int
) -> None:
    """checkSlotAssignmentsOrReply for first..last."""
    for slot in range(first, last + 1):
        if delete and state_slots[slot] is None:
            raise CommandError(f"ERR Slot {slot} is already unassigned")
        if not delete and state_slots[slot] is not None:
            raise CommandError(f"ERR Slot {slot} is already busy")
        if slot in counted:
            raise CommandError(f"ERR Slot {slot} specified multiple times")
        counted.add(slot)


def _update_slots(cluster: Cluster, slots: set[int], delete: bool) -> None:
    """clusterUpdateSlots: everything was checked; apply it in slot order."""
    state = cluster.state
    ordered = sorted(slots)
    if delete:
        _del_slots(cluster, ordered)
    else:
        for slot in ordered:
            state.importing.pop(slot, None)  # now the real owner
            state.add_slot(slot, state.myself)
    _changed(cluster)


def _addslots(c: Client, argv: Argv, delete: bool) -> bytes:
    cluster = _cluster(c)
    slots = [_slot(raw) for raw in argv[2:]]
    counted: set[int] = set()
    for slot in slots:
        _claim(cluster.state.slots, counted, delete, slot, slot)
    _update_slots(cluster, counted, delete)
    return resp.OK


def _addslotsrange(c: Client, argv: Argv, delete: bool) -> bytes:
    cluster = _cluster(c)
    if len(argv) % 2:
        raise errors.wrong_arity(f"cluster|{'delslotsrange' if delete else 'addslotsrange'}")
    counted: set[int] = set()
    for i in range(2, len(argv), 2):
        first, last = _slot(argv[i]), _slot(argv[i + 1])
        if first > last:
            raise CommandError(
                f"ERR start slot number {first} is greater than end slot number {last}"
            )
        _claim(cluster.state.slots, counted, delete, first, last)
    _update_slots(cluster, counted, delete)
    return resp.OK


_RANGE_ARGS: Final = (
    docs.block(
        "start-slot_end-slot", docs.integer("start-slot"), docs.integer("end-slot"), multiple=True
    ),
)


@NODE.command(
    "addslots",
    -3,
    _ADMIN,
    group="cluster",
    since="3.0.0",
    summary="Assign new hash slots to receiving node",
    complexity="O(N) where N is the total number of hash slot arguments",
    container="cluster",
    args=(docs.integer("slot", multiple=True),),
)
def cluster_addslots(c: Client, argv: Argv) -> bytes:
    return _addslots(c, argv, delete=False)


@NODE.command(
    "delslots",
    -3,
    _ADMIN,
    group="cluster",
    since="3.0.0",
    summary="Set hash slots as unbound in receiving node",
    complexity="O(N) where N is the total number of hash slot arguments",
    container="cluster",
    args=(docs.integer("slot", multiple=True),),
)
def cluster_delslots(c: Client, argv: Argv) -> bytes:
    return _addslots(c, argv, delete=True)


@NODE.command(
    "addslotsrange",
    -4,
    _ADMIN,
    group="cluster",
    since="7.0.0",
    summary="Assign new hash slots to receiving node",
    complexity="O(N) where N is the total number of the slots between the start "
    "slot and end slot arguments.",
    container="cluster",
    args=_RANGE_ARGS,
)
def cluster_addslotsrange(c: Client, argv: Argv) -> bytes:
    return _addslotsrange(c, argv, delete=False)


@NODE.command(
    "delslotsrange",
    -4,
    _ADMIN,
    group="cluster",
    since="7.0.0",
    summary="Set hash slots as unbound in receiving node",
    complexity="O(N) where N is the total number of the slots between the start "
    "slot and end slot arguments.",
    container="cluster",
    args=_RANGE_ARGS,
)
def cluster_delslotsrange(c: Client, argv: Argv) -> bytes:
    return _addslotsrange(c, argv, delete=True)


@NODE.command(
    "flushslots",
    2,
    _ADMIN,
    group="cluster",
    since="3.0.0",
    summary="Delete a node's own slots information",
    complexity="O(1)",
    container="cluster",
)
def cluster_flushslots(c: Client, argv: Argv) -> bytes:
    cluster = _cluster(c)
    if c.engine.keyspace.dbs[0].data:
        raise CommandError("ERR DB must be empty to perform CLUSTER FLUSHSLOTS.")
    state = cluster.state
    _del_slots(cluster, [s for s in range(SLOT_COUNT) if state.slots[s] is state.myself])
    _changed(cluster)
    return resp.OK


@NODE.command(
    "setslot",
    -4,
    _ADMIN,
    group="cluster",
    since="3.0.0",
    summary="Bind a hash slot to a specific node",
    complexity="O(1)",
    container="cluster",
    args=(
        docs.integer("slot"),
        docs.oneof(
            "subcommand",
            docs.string("node-id", token="IMPORTING"),
            docs.string("node-id", token="MIGRATING"),
            docs.string("node-id", token="NODE"),
            docs.token("stable", "STABLE"),
        ),
    ),
)
def cluster_setslot(c: Client, argv: Argv) -> bytes:
    cluster = _cluster(c)
    state = cluster.state
    if state.myself.flags & NodeFlag.SLAVE:
        raise CommandError("ERR Please use SETSLOT only with masters.")
    slot = _slot(argv[2])
    action = option(argv[3])
    if action in (b"MIGRATING", b"IMPORTING") and len(argv) == 5:
        migrating = action == b"MIGRATING"
        mine = state.slots[slot] is state.myself
        if migrating and not mine:
            raise CommandError(f"ERR I'm not the owner of hash slot {slot}")
        if not migrating and mine:
            raise CommandError(f"ERR I'm already the owner of hash slot {slot}")
        node = _node(cluster, argv[4])
        if node is None:
            raise CommandError(f"ERR I don't know about node {_text(argv[4])}")
        if node.flags & NodeFlag.SLAVE:
            raise CommandError("ERR Target node is not a master")
        (state.migrating if migrating else state.importing)[slot] = node
    elif action == b"STABLE" and len(argv) == 4:
        state.importing.pop(slot, None)
        state.migrating.pop(slot, None)
    elif action == b"NODE" and len(argv) == 5:
        _setslot_node(c, cluster, slot, argv[4])
    else:
        raise CommandError(_SETSLOT_SYNTAX)
    _changed(cluster)
    return resp.OK


def _setslot_node(c: Client, cluster: Cluster, slot: int, name: bytes) -> None:
    """SETSLOT <slot> NODE <id>, with Redis's side effects: a migration without keys left
    closes, a master left without slots follows the new owner, and closing an import on
    myself bumps my config epoch without consensus and tells everyone."""
    state = cluster.state
    myself = state.myself
    node = _node(cluster, name)
    if node is None:
        raise CommandError(f"ERR Unknown node {_text(name)}")
    if node.flags & NodeFlag.SLAVE:
        raise CommandError("ERR Target node is not a master")
    keys = len(cluster.keys_in_slot(slot))
    if state.slots[slot] is myself and node is not myself and keys:
        raise CommandError(
            f"ERR Can't assign hashslot {slot} to a different node while I "
            f"still hold keys for this hash slot."
        )
    if not keys:
        state.migrating.pop(slot, None)
    was_mine = state.slots[slot] is myself
    _del_slots(cluster, [slot])
    state.add_slot(slot, node)
    if (
        was_mine
        and node is not myself
        and not myself.numslots
        and c.engine.config.bool("cluster-allow-replica-migration")
    ):
        c.engine.log(
            "warning",
            f"Configuration change detected. Reconfiguring myself as a replica of {node.name}",
        )
        cluster.set_master(node)
        state.todo |= TODO_FSYNC_CONFIG  # saved with the SETSLOT's own changes
    if node is myself and slot in state.importing:
        if state.bump_epoch_without_consensus():
            c.engine.log("warning", f"configEpoch updated after importing slot {slot}")
        del state.importing[slot]
        cluster.bus.broadcast_pong()


# --- epochs and the node table -----------------------------------------------------------------
@NODE.command(
    "bumpepoch",
    2,
    _ADMIN,
    group="cluster",
    since="3.0.0",
    summary="Advance the cluster config epoch",
    complexity="O(1)",
    tips=("nondeterministic_output",),
    container="cluster",
)
def cluster_bumpepoch(c: Client, argv: Argv) -> bytes:
    cluster = _cluster(c)
    state = cluster.state
    bumped = state.bump_epoch_without_consensus()
    _changed(cluster)
    word = b"BUMPED" if bumped else b"STILL"
    return resp.status(b"%s %d" % (word, state.myself.config_epoch))


@NODE.command(
    "set-config-epoch",
    3,
    _ADMIN,
    group="cluster",
    since="3.0.0",
    summary="Set the configuration epoch in a new node",
    complexity="O(1)",
    container="cluster",
    args=(docs.integer("config-epoch"),),
)
def cluster_set_config_epoch(c: Client, argv: Argv) -> bytes:
    cluster = _cluster(c)
    state = cluster.state
    epoch = int_arg(argv[2])
    if epoch < 0:
        raise CommandError(f"ERR Invalid config epoch specified: {epoch}")
    if len(state.nodes) > 1:
        raise CommandError(
            "ERR The user can assign a config epoch only when the node does "
            "not know any other node."
        )
    if state.myself.config_epoch:
        raise CommandError("ERR Node config epoch is already non-zero")
    state.myself.config_epoch = epoch
    c.engine.log("warning", f"configEpoch set to {epoch} via CLUSTER SET-CONFIG-EPOCH")
    state.current_epoch = max(state.current_epoch, epoch)
    _changed(cluster)
    return resp.OK


@NODE.command(
    "saveconfig",
    2,
    _ADMIN,
    group="cluster",
    since="3.0.0",
    summary="Forces the node to save cluster state on disk",
    complexity="O(1)",
    container="cluster",
)
def cluster_saveconfig(c: Client, argv: Argv) -> bytes:
    error = _cluster(c).save_config()
    if error is not None:
        raise CommandError(f"ERR error saving the cluster node config: {error}")
    return resp.OK


@NODE.command(
    "meet",
    -4,
    _ADMIN,
    group="cluster",
    since="3.0.0",
    summary="Force a node cluster to handshake with another node",
    complexity="O(1)",
    history=(("4.0.0", "Added the optional `cluster_bus_port` argument."),),
    container="cluster",
    args=(
        docs.string("ip"),
        docs.integer("port"),
        docs.integer("cluster_bus_port", optional=True, since="4.0.0"),
    ),
)
def cluster_meet(c: Client, argv: Argv) -> bytes:
    cluster = _cluster(c)
    if len(argv) > 5:
        raise _syntax(argv)
    port = string2ll(argv[3])
    if port is None:
        raise CommandError(f"ERR Invalid TCP base port specified: {_text(argv[3])}")
    if len(argv) == 5:
        cport = string2ll(argv[4])
        if cport is None:
            raise CommandError(f"ERR Invalid TCP bus port specified: {_text(argv[4])}")
    else:
        cport = port + 10000
    try:
        ip = str(ipaddress.ip_address(argv[2].decode("ascii")))
    except (UnicodeDecodeError, ValueError):
        ip = ""
    if not ip or not 0 < port <= 65535 or not 0 < cport <= 65535:
        raise CommandError(f"ERR Invalid node address specified: {_text(argv[2])}:{_text(argv[3])}")
    state = cluster.state
    # clusterStartHandshake: nothing new while a handshake to that address is pending.
    if not any(
        n.flags & NodeFlag.HANDSHAKE and n.ip == ip and n.port == port and n.cport == cport
        for n in state.nodes.values()
    ):
        state.add_node(
            ClusterNode(
                random_name(c.engine.rng),
                NodeFlag.HANDSHAKE | NodeFlag.MEET,
                c.engine.now_ms,
                ip=ip,
                port=port,
                cport=cport,
                shard_id=random_name(c.engine.rng),
            )
        )
    return resp.OK


@NODE.command(
    "forget",
    3,
    _ADMIN,
    group="cluster",
    since="3.0.0",
    summary="Remove a node from the nodes table",
    complexity="O(1)",
    container="cluster",
    args=(docs.string("node-id"),),
)
def cluster_forget(c: Client, argv: Argv) -> bytes:
    cluster = _cluster(c)
    state = cluster.state
    node = _node(cluster, argv[2])
    if node is None:
        raise CommandError(f"ERR Unknown node {_text(argv[2])}")
    if node is state.myself:
        raise CommandError("ERR I tried hard but I can't forget myself...")
    if state.myself.flags & NodeFlag.SLAVE and state.myself.master is node:
        raise CommandError("ERR Can't forget my master!")
    state.blacklist_add(node.name, c.engine.now_ms)
    _del_slots(cluster, [s for s in range(SLOT_COUNT) if state.slots[s] is node])
    state.remove_node(node)
    _changed(cluster)
    return resp.OK


@NODE.command(
    "replicate",
    3,
    _ADMIN,
    group="cluster",
    since="3.0.0",
    summary="Reconfigure a node as a replica of the specified master node",
    complexity="O(1)",
    container="cluster",
    args=(docs.string("node-id"),),
)
def cluster_replicate(c: Client, argv: Argv) -> bytes:
    cluster = _cluster(c)
    state = cluster.state
    node = _node(cluster, argv[2])
    if node is None:
        raise CommandError(f"ERR Unknown node {_text(argv[2])}")
    if node is state.myself:
        raise CommandError("ERR Can't replicate myself")
    if node.flags & NodeFlag.SLAVE:
        raise CommandError("ERR I can only replicate a master, not a replica.")
    myself = state.myself
    if myself.flags & NodeFlag.MASTER and (myself.numslots or c.engine.keyspace.dbs[0].data):
        raise CommandError("ERR To set a master the node must be empty and without assigned slots.")
    cluster.set_master(node)
    _changed(cluster)
    return resp.OK


@NODE.command(
    "failover",
    -2,
    _ADMIN,
    group="cluster",
    since="3.0.0",
    summary="Forces a replica to perform a manual failover of its master.",
    complexity="O(1)",
    container="cluster",
    args=(
        docs.oneof(
            "options",
            docs.token("force", "FORCE"),
            docs.token("takeover", "TAKEOVER"),
            optional=True,
        ),
    ),
)
def cluster_failover(c: Client, argv: Argv) -> bytes:
    cluster = _cluster(c)
    if len(argv) > 3:
        raise _syntax(argv)
    mode = "default"
    if len(argv) == 3:
        word = option(argv[2])
        if word not in (b"FORCE", b"TAKEOVER"):
            raise CommandError(errors.SYNTAX)
        mode = word.decode().lower()
    myself = cluster.state.myself
    master = myself.master
    if myself.flags & NodeFlag.MASTER:
        raise CommandError("ERR You should send CLUSTER FAILOVER to a replica")
    if master is None:
        raise CommandError("ERR I'm a replica but my master is unknown to me")
    if mode == "default" and (master.flags & NodeFlag.FAIL or not master.link):
        raise CommandError("ERR Master is down or failed, please use CLUSTER FAILOVER FORCE")
    if mode == "takeover":
        c.engine.log("warning", "Taking over the master (user request).")
        _takeover(cluster)
    else:
        c.engine.log(
            "warning",
            "Forced failover user request accepted."
            if mode == "force"
            else "Manual failover user request accepted.",
        )
        cluster.bus.manual_failover(mode)
    return resp.OK


def _takeover(cluster: Cluster) -> None:
    """FAILOVER TAKEOVER: no election -- a new config epoch without consensus, the old
    master's slots, and everyone told (clusterFailoverReplaceYourMaster)."""
    state = cluster.state
    if state.bump_epoch_without_consensus():
        cluster.engine.log("warning", f"New configEpoch set to {state.myself.config_epoch}")
    cluster.promote_myself()


@NODE.command(
    "reset",
    -2,
    Flag.ADMIN | Flag.NOSCRIPT | Flag.STALE,
    group="cluster",
    since="3.0.0",
    summary="Reset a Redis Cluster node",
    complexity="O(N) where N is the number of known nodes. The command may execute "
    "a FLUSHALL as a side effect.",
    container="cluster",
    args=(
        docs.oneof(
            "hard_soft", docs.token("hard", "HARD"), docs.token("soft", "SOFT"), optional=True
        ),
    ),
)
def cluster_reset(c: Client, argv: Argv) -> bytes:
    cluster = _cluster(c)
    if len(argv) > 3:
        raise _syntax(argv)
    hard = False
    if len(argv) == 3:
        word = option(argv[2])
        if word not in (b"HARD", b"SOFT"):
            raise CommandError(errors.SYNTAX)
        hard = word == b"HARD"
    engine = c.engine
    state = cluster.state
    myself = state.myself
    if myself.flags & NodeFlag.MASTER and c.db.data:
        raise CommandError("ERR CLUSTER RESET can't be called with master nodes containing keys")
    if myself.flags & NodeFlag.SLAVE:
        state.set_as_master(myself)
        engine.replication.unset_master()
        for db in engine.keyspace.dbs:
            db.flush()
        engine.dirty += 1
    _del_slots(cluster, [s for s in range(SLOT_COUNT) if state.slots[s] is not None])
    state.reset(hard, engine.rng)
    _changed(cluster)
    if hard:
        engine.log("notice", f"Node hard reset, now I'm {myself.name}")
    return resp.OK


# --- per-connection flags ----------------------------------------------------------------------
@NODE.command(
    "asking",
    1,
    Flag.FAST,
    group="cluster",
    since="3.0.0",
    summary="Sent by cluster clients after an -ASK redirect",
    complexity="O(1)",
    acl=Acl.CONNECTION,
)
def asking(c: Client, argv: Argv) -> bytes:
    _cluster(c)
    # Inside EXEC or a script it would only last until the command around it ends.
    if not c.engine.no_blocking:
        c.asking = True
    return resp.OK


@NODE.command(
    "readonly",
    1,
    Flag.LOADING | Flag.STALE | Flag.FAST,
    group="cluster",
    since="3.0.0",
    summary="Enables read queries for a connection to a cluster replica node",
    complexity="O(1)",
    acl=Acl.CONNECTION,
)
def readonly(c: Client, argv: Argv) -> bytes:
    _cluster(c)
    if "r" not in c.flags:
        c.flags += "r"
    return resp.OK


@NODE.command(
    "readwrite",
    1,
    Flag.LOADING | Flag.STALE | Flag.FAST,
    group="cluster",
    since="3.0.0",
    summary="Disables read queries for a connection to a cluster replica node",
    complexity="O(1)",
    acl=Acl.CONNECTION,
)
def readwrite(c: Client, argv: Argv) -> bytes:
    _cluster(c)
    c.flags = c.flags.replace("r", "")
    return resp.OK


# --- moving keys ---------------------------------------------------------------------------------
def _migrate_keys(argv: Argv) -> list[KeyRef]:
    """migrateGetKeys: the key argument, or everything after KEYS."""
    flags = KeyFlag.RW | KeyFlag.ACCESS | KeyFlag.DELETE
    first, num = 3, 1
    skip = {b"COPY": 0, b"REPLACE": 0, b"AUTH": 1, b"AUTH2": 2}
    i = 6
    while i < len(argv):
        word = option(argv[i])
        if word == b"KEYS":
            if argv[3]:
                return []
            first, num = i + 1, len(argv) - i - 1
            break
        i += skip.get(word, 0) + 1
    return [(first + j, flags) for j in range(num)]


_KEY_FLAGS: Final = KeyFlag.RW | KeyFlag.ACCESS | KeyFlag.DELETE


@NODE.command(
    "migrate",
    -6,
    Flag.WRITE,
    group="generic",
    since="2.6.0",
    summary="Atomically transfer a key from a Redis instance to another one.",
    complexity="This command actually executes a DUMP+DEL in the source instance, "
    "and a RESTORE in the target instance. See the pages of these commands for time "
    "complexity. Also an O(N) data transfer between the two instances is performed.",
    acl=Acl.KEYSPACE | Acl.DANGEROUS,
    keys=[key_at(3, _KEY_FLAGS), keys_by_keyword(b"KEYS", -2, _KEY_FLAGS | KeyFlag.INCOMPLETE)],
    getkeys=_migrate_keys,
    tips=("nondeterministic_output",),
    history=(
        ("3.0.0", "Added the `COPY` and `REPLACE` options."),
        ("3.0.6", "Added the `KEYS` option."),
        ("4.0.7", "Added the `AUTH` option."),
        ("6.0.0", "Added the `AUTH2` option."),
    ),
    args=(
        docs.string("host"),
        docs.integer("port"),
        docs.oneof("key_or_empty_string", docs.key("key", 0), docs.token("empty_string", "")),
        docs.integer("destination-db"),
        docs.integer("timeout"),
        docs.token("copy", "COPY", optional=True, since="3.0.0"),
        docs.token("replace", "REPLACE", optional=True, since="3.0.0"),
        docs.oneof(
            "authentication",
            docs.string("password", token="AUTH", optional=True, since="4.0.7"),
            docs.block(
                "username_password",
                docs.string("username"),
                docs.string("password"),
                token="AUTH2",
                optional=True,
                since="6.0.0",
            ),
            optional=True,
        ),
        docs.key("key", 1, token="KEYS", optional=True, multiple=True, since="3.0.6"),
    ),
)
def migrate_command(c: Client, argv: Argv) -> bytes:
    return migrate.migrate(c, argv, c.engine.migrate_connector)


NODE.command(
    "restore-asking",
    -4,
    Flag.WRITE | Flag.DENYOOM | Flag.ASKING,
    group="server",
    since="3.0.0",
    summary="An internal command for migrating keys in a cluster",
    complexity="O(1) to create the new key and additional O(N*M) to reconstruct the "
    "serialized value, where N is the number of Redis objects composing the value "
    "and M their average size. For small string values the time complexity is thus "
    "O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the "
    "complexity is O(N*M*log(N)) because inserting values into sorted sets is "
    "O(log(N)).",
    acl=Acl.KEYSPACE | Acl.DANGEROUS,
    keys=[key_at(1, KeyFlag.OW | KeyFlag.UPDATE)],
    history=(
        ("3.0.0", "Added the `REPLACE` modifier."),
        ("5.0.0", "Added the `ABSTTL` modifier."),
        ("5.0.0", "Added the `IDLETIME` and `FREQ` options."),
    ),
    doc_flags=("syscmd",),
    args=(
        docs.key("key", 0),
        docs.integer("ttl"),
        docs.string("serialized-value"),
        docs.token("replace", "REPLACE", optional=True, since="3.0.0"),
        docs.token("absttl", "ABSTTL", optional=True, since="5.0.0"),
        docs.integer("seconds", token="IDLETIME", optional=True, since="5.0.0"),
        docs.integer("frequency", token="FREQ", optional=True, since="5.0.0"),
    ),
)(restore)
