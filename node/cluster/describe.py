"""The client-visible descriptions of the cluster state, byte for byte as Redis 7.0 writes
them: CLUSTER NODES lines (also the nodes.conf lines), CLUSTER INFO, SLOTS, SHARDS and
REPLICAS.

Rules (redis-spec-digest.md 1.5-1.9): NODES lines are 8 fields separated by single spaces,
then the slot ranges, and (myself only) the open slots in slot order; every line ends with
a newline. SLOTS' node entries carry a 4th element, a metadata map that is empty unless the
preferred endpoint hides the IP or a hostname. The preferred endpoint is
`cluster-preferred-endpoint-type`: "ip", "hostname" (`?` when none is set) or
"unknown-endpoint" (null in SLOTS, empty in SHARDS). Pure.
"""

from __future__ import annotations

from node.cluster.state import FLAG_WORDS, MESSAGE_TYPES, ClusterNode, ClusterState, NodeFlag
from node.proto import resp


def flags_text(flags: NodeFlag) -> str:
    """representClusterNodeFlags: the NODES flags field."""
    words = [word for flag, word in FLAG_WORDS if flags & flag]
    return ",".join(words) if words else "noflags"


def _ranges_text(ranges: list[tuple[int, int]]) -> str:
    return "".join(f" {a}" if a == b else f" {a}-{b}" for a, b in ranges)


def node_line(
    state: ClusterState, node: ClusterNode, ranges: list[tuple[int, int]] | None = None
) -> str:
    """clusterGenNodeDescription: one NODES line, without its newline."""
    address = f"{node.ip}:{node.port}@{node.cport}"
    if node.hostname:
        address += "," + node.hostname
    master = node.master.name if node.master is not None else "-"
    link = "connected" if node.link or node is state.myself else "disconnected"
    line = (
        f"{node.name} {address} {flags_text(node.flags)} {master} {node.ping_sent} "
        f"{node.pong_received} {node.epoch()} {link}"
    )
    line += _ranges_text(state.slot_ranges(node) if ranges is None else ranges)
    if node is state.myself and (state.migrating or state.importing):
        # Slot order, each slot once: a slot cannot be both (SETSLOT closes the other).
        opened = {slot: f" [{slot}->-{target.name}]" for slot, target in state.migrating.items()}
        for slot, source in state.importing.items():
            opened.setdefault(slot, f" [{slot}-<-{source.name}]")
        line += "".join(opened[slot] for slot in sorted(opened))
    return line


def nodes_text(state: ClusterState, *, skip_handshake: bool = False) -> bytes:
    """clusterGenNodesDescription: every line (handshake nodes too, unless saving the
    config), each ending with a newline."""
    ranges: dict[str, list[tuple[int, int]]] = {}
    for first, last, owner in state.owner_runs():
        ranges.setdefault(owner.name, []).append((first, last))
    lines = [
        node_line(state, node, ranges.get(node.name, []))
        for node in state.nodes.values()
        if not (skip_handshake and node.flags & NodeFlag.HANDSHAKE)
    ]
    return "".join(line + "\n" for line in lines).encode()


def info_text(state: ClusterState) -> bytes:
    """clusterGenClusterInfo: CLUSTER INFO's lines, each ending with CRLF."""
    assigned = ok = pfail = fail = 0
    for first, last, owner in state.owner_runs():  # per run: a flag test per slot is ~10 ms
        count = last - first + 1
        assigned += count
        if owner.flags & NodeFlag.FAIL:
            fail += count
        elif owner.flags & NodeFlag.PFAIL:
            pfail += count
        else:
            ok += count
    lines = [
        f"cluster_state:{'ok' if state.ok else 'fail'}",
        f"cluster_slots_assigned:{assigned}",
        f"cluster_slots_ok:{ok}",
        f"cluster_slots_pfail:{pfail}",
        f"cluster_slots_fail:{fail}",
        f"cluster_known_nodes:{len(state.nodes)}",
        f"cluster_size:{state.size}",
        f"cluster_current_epoch:{state.current_epoch}",
        f"cluster_my_epoch:{state.myself.epoch()}",
    ]
    for direction, counts in (("sent", state.stats_sent), ("received", state.stats_received)):
        lines += [
            f"cluster_stats_messages_{name}_{direction}:{count}"
            for name, count in zip(MESSAGE_TYPES, counts, strict=True)
            if count
        ]
        lines.append(f"cluster_stats_messages_{direction}:{sum(counts)}")
    lines.append(f"total_cluster_links_buffer_limit_exceeded:{state.links_buffer_limit_exceeded}")
    return "".join(line + "\r\n" for line in lines).encode()


def preferred_endpoint(node: ClusterNode, endpoint_type: str) -> str | None:
    """What clients should connect to: the IP, the hostname (`?` if none) or nothing."""
    if endpoint_type == "ip":
        return node.ip
    if endpoint_type == "hostname":
        return node.hostname or "?"
    return None


def _slots_node(node: ClusterNode, endpoint_type: str, resp_version: int) -> bytes:
    """addNodeToNodeReply: [endpoint, port, id, {metadata}]."""
    endpoint = preferred_endpoint(node, endpoint_type)
    metadata: dict[bytes, bytes] = {}
    if endpoint_type != "ip":
        metadata[b"ip"] = node.ip.encode()
    if endpoint_type != "hostname" and node.hostname:
        metadata[b"hostname"] = node.hostname.encode()
    return b"".join(
        (
            b"*4\r\n",
            resp.bulk_or_null(None if endpoint is None else endpoint.encode(), resp_version),
            resp.integer(node.port),
            resp.bulk(node.name.encode()),
            resp.encode(metadata, resp_version),
        )
    )


def _replica_available(state: ClusterState, node: ClusterNode, my_offset: int) -> bool:
    """isReplicaAvailable: not FAIL, and it has synced at least once."""
    if node.flags & NodeFlag.FAIL:
        return False
    return (my_offset if node is state.myself else node.repl_offset) != 0


def slots_reply(
    state: ClusterState, resp_version: int, endpoint_type: str, my_offset: int
) -> bytes:
    """CLUSTER SLOTS: one entry per run of slots with the same master."""
    runs = state.owner_runs()
    out = [resp.array_header(len(runs))]
    for first, last, owner in runs:
        replicas = [r for r in owner.replicas if _replica_available(state, r, my_offset)]
        out.append(resp.array_header(3 + len(replicas)))
        out.append(resp.integer(first))
        out.append(resp.integer(last))
        out.extend(_slots_node(n, endpoint_type, resp_version) for n in (owner, *replicas))
    return b"".join(out)


def _shard_node(
    state: ClusterState, node: ClusterNode, endpoint_type: str, my_offset: int
) -> dict[bytes, object]:
    """addNodeDetailsToShardReply (a non-TLS cluster: `port`, never `tls-port`)."""
    details: dict[bytes, object] = {b"id": node.name.encode()}
    if node.port:
        details[b"port"] = node.port
    details[b"ip"] = node.ip.encode()
    details[b"endpoint"] = (preferred_endpoint(node, endpoint_type) or "").encode()
    if node.hostname:
        details[b"hostname"] = node.hostname.encode()
    offset = my_offset if node is state.myself else node.repl_offset
    details[b"role"] = b"replica" if node.flags & NodeFlag.SLAVE else b"master"
    details[b"replication-offset"] = offset
    if node.flags & NodeFlag.FAIL:
        health = b"fail"
    elif node.flags & NodeFlag.SLAVE and offset == 0:
        health = b"loading"
    else:
        health = b"online"
    details[b"health"] = health
    return details


def shards_reply(
    state: ClusterState, resp_version: int, endpoint_type: str, my_offset: int
) -> bytes:
    """CLUSTER SHARDS: one map per master (slot-less ones too): its slots as a flat list of
    bounds, and its nodes, master first."""
    ranges: dict[str, list[int]] = {}
    for first, last, owner in state.owner_runs():
        ranges.setdefault(owner.name, []).extend((first, last))
    shards: list[object] = []
    for node in state.nodes.values():
        if not node.flags & NodeFlag.MASTER:
            continue
        members = [_shard_node(state, n, endpoint_type, my_offset) for n in (node, *node.replicas)]
        shards.append({b"slots": ranges.get(node.name, []), b"nodes": members})
    return resp.encode(shards, resp_version)


def replicas_reply(state: ClusterState, master: ClusterNode) -> bytes:
    """CLUSTER REPLICAS: the replicas' NODES lines, without newlines."""
    return resp.bulk_array(node_line(state, r).encode() for r in master.replicas)
