"""The cluster tool's commands against live nodes: create, check, info, reshard, rebalance,
add-node, del-node, fix, status.

Rules:
- Decisions come from cluster_cli/plan.py and cluster_cli/topology.py (pure); this module
  only talks to nodes and prints (cluster_cli/report.py), in redis-cli --cluster's order of
  commands, so a slotd node sees exactly what it sees from redis-cli.
- A command function returns the process exit code; a problem that stops it raises
  ToolError, printed by the caller as `[ERR] ...`.
- Every wait polls with a deadline; none waits forever.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from cluster_cli import plan, report, topology
from cluster_cli.client import Arg, NodeClient, ReplyError
from cluster_cli.plan import Addr
from cluster_cli.report import Output
from cluster_cli.topology import SLOT_COUNT, NodeInfo

POLL = 0.2  # seconds between polls while waiting for the cluster to converge
SETTLE = 5.0  # how long to let gossip catch up before a check counts a disagreement


class ToolError(Exception):
    """Stops a command; the message is printed after `[ERR] `."""


@dataclass
class Live:
    """A node we are connected to, with its own CLUSTER NODES view."""

    client: NodeClient
    view: list[NodeInfo]
    replicas: int = 0
    dbsize: int = 0

    @property
    def me(self) -> NodeInfo:
        return next(n for n in self.view if n.myself)

    @property
    def addr(self) -> str:
        return self.client.addr

    def refresh(self) -> None:
        self.view = topology.parse_nodes(self.client.text("CLUSTER", "NODES"))


def connect(addr: Addr, timeout: float = 60.0) -> NodeClient:
    try:
        return NodeClient(addr.host, addr.port, timeout)
    except OSError as exc:
        raise ToolError(f"Could not connect to {addr}: {exc.strerror or exc}") from None


def open_node(addr: Addr) -> Live:
    client = connect(addr)
    try:
        info = topology.parse_info(client.text("INFO", "cluster"))
        if info.get("cluster_enabled") != "1":
            raise ToolError(f"Node {addr} is not configured as a cluster node.")
        return Live(client, topology.parse_nodes(client.text("CLUSTER", "NODES")))
    except (ReplyError, OSError) as exc:
        client.close()
        raise ToolError(f"Node {addr} replied with an error: {exc}") from None


@dataclass
class Cluster:
    """The seed plus every usable node it knows, each with its own view."""

    nodes: list[Live] = field(default_factory=list)

    def close(self) -> None:
        for node in self.nodes:
            node.client.close()

    @property
    def seed(self) -> Live:
        return self.nodes[0]

    @property
    def masters(self) -> list[Live]:
        return [n for n in self.nodes if n.me.is_master]

    def by_id(self, node_id: str) -> Live | None:
        return next((n for n in self.nodes if n.me.id == node_id), None)

    def by_id_prefix(self, prefix: str) -> Live:
        matches = [n for n in self.nodes if n.me.id.startswith(prefix)]
        if len(matches) != 1:
            raise ToolError(f"No such node ID {prefix}")
        return matches[0]

    def refresh(self) -> None:
        for node in self.nodes:
            node.refresh()
        counts = topology.replica_counts(n.me for n in self.nodes)
        for node in self.nodes:
            node.replicas = counts.get(node.me.id, 0)

    def agree(self) -> bool:
        return len({topology.config_signature(n.view) for n in self.nodes}) == 1


def load(seed: Addr) -> Cluster:
    """The seed and its usable friends (redis-cli drops noaddr, disconnected, failed ones)."""
    first = open_node(seed)
    cluster = Cluster([first])
    try:
        for friend in first.view:
            if friend.myself or not friend.usable:
                continue
            cluster.nodes.append(open_node(Addr(friend.host, friend.port)))
        cluster.refresh()
    except BaseException:
        cluster.close()
        raise
    return cluster


@contextlib.contextmanager
def loaded(seed: Addr, settle: float = SETTLE) -> Iterator[Cluster]:
    """A loaded cluster, given up to `settle` seconds to agree first: right after a reshard
    the last SETSLOTs may still be travelling by gossip."""
    cluster = load(seed)
    try:
        deadline = time.monotonic() + settle
        while not cluster.agree() and time.monotonic() < deadline:
            time.sleep(POLL)
            cluster.close()
            cluster = load(seed)
        yield cluster
    finally:
        cluster.close()


# ---------------------------------------------------------------- check / info


def check(cluster: Cluster, out: Output) -> bool:
    """redis-cli's cluster check: node list, agreement, open slots, coverage. True if clean."""
    out.step(f"Performing Cluster Check (using node {cluster.seed.addr})")
    for live in cluster.nodes:
        for line in report.describe_node(live.me, live.replicas):
            out.line(line)
    clean = True
    if cluster.agree():
        out.ok("All nodes agree about slots configuration.")
    else:
        out.error("Nodes don't agree about configuration!")
        clean = False
    out.step("Check for open slots...")
    masters = [n.me for n in cluster.masters]
    opened = topology.open_slots(masters)
    for node in masters:
        if node.migrating:
            out.warn(f"Node {node.addr} has slots in migrating state {_slot_list(node.migrating)}.")
        if node.importing:
            out.warn(f"Node {node.addr} has slots in importing state {_slot_list(node.importing)}.")
    if opened.slots:
        out.warn(f"The following slots are open: {_slot_list(opened.slots)}.")
        clean = False
    out.step("Check slots coverage...")
    if topology.uncovered_slots(masters):
        out.error(f"Not all {SLOT_COUNT} slots are covered by nodes.")
        out.line()
        clean = False
    else:
        out.ok(f"All {SLOT_COUNT} slots covered.")
    return clean


def _slot_list(slots: Sequence[int] | dict[int, str]) -> str:
    return ",".join(str(s) for s in sorted(slots))


def show_info(cluster: Cluster, out: Output) -> None:
    keys = 0
    for node in cluster.masters:
        node.dbsize = node.client.integer("DBSIZE")
        keys += node.dbsize
        out.line(report.info_line(node.me, node.dbsize, node.replicas))
    out.ok(f"{keys} keys in {len(cluster.masters)} masters.")
    out.line(f"{keys / SLOT_COUNT:.2f} keys per slot on average.")


def cmd_info(seed: Addr, out: Output) -> int:
    with loaded(seed, settle=0) as cluster:
        show_info(cluster, out)
    return 0


def cmd_check(seed: Addr, out: Output) -> int:
    with loaded(seed) as cluster:
        show_info(cluster, out)
        return 0 if check(cluster, out) else 1


# ---------------------------------------------------------------- create


def confirm(out: Output, question: str, yes: bool) -> bool:
    out.line(f"{question} (type 'yes' to accept): ", end="")
    if yes:
        out.line("yes")
        return True
    try:
        return input().strip() == "yes"
    except EOFError:
        return False


def cmd_create(
    addrs: Sequence[Addr], replicas: int, yes: bool, out: Output, join_timeout: float = 120.0
) -> int:
    layout = plan.plan_layout(addrs, replicas)
    nodes = {addr: open_node(addr) for addr in addrs}
    try:
        for addr, node in nodes.items():
            check_empty(addr, node)
        return create_cluster(layout, nodes, yes, out, join_timeout)
    finally:
        for node in nodes.values():
            node.client.close()


def check_empty(addr: Addr, node: Live) -> None:
    info = topology.parse_info(node.client.text("INFO"))
    cinfo = topology.parse_info(node.client.text("CLUSTER", "INFO"))
    if "db0" in info or cinfo.get("cluster_known_nodes") != "1" or node.me.slots:
        raise ToolError(
            f"Node {addr} is not empty. Either the node already knows other nodes (check with "
            "CLUSTER NODES) or contains some key in database 0."
        )


def create_cluster(
    layout: plan.Layout, nodes: dict[Addr, Live], yes: bool, out: Output, join_timeout: float
) -> int:
    """The steps of redis-cli --cluster create, on nodes that passed check_empty."""
    out.step(f"Performing hash slots allocation on {len(nodes)} nodes...")
    for i, (_, (first, last)) in enumerate(layout.masters):
        out.line(f"Master[{i}] -> Slots {first} - {last}")
    for replica, master in layout.replicas:
        out.line(f"Adding replica {replica} to {master}")
    if layout.same_host_pairs:
        out.warn("Some slaves are in the same host as their master")
    ids = {addr: node.me.id for addr, node in nodes.items()}
    for addr, (first, last) in layout.masters:
        out.line(f"M: {ids[addr]} {addr}")
        out.line(f"   slots:[{first}-{last}] ({last - first + 1} slots) master")
    for replica, master in layout.replicas:
        out.line(f"S: {ids[replica]} {replica}")
        out.line(f"   replicates {ids[master]}")
    if not confirm(out, "Can I set the above configuration?", yes):
        return 1
    for addr, (first, last) in layout.masters:
        nodes[addr].client.call("CLUSTER", "ADDSLOTSRANGE", first, last)
    out.step("Nodes configuration updated")
    out.step("Assign a different config epoch to each node")
    order = [a for a, _ in layout.masters] + [r for r, _ in layout.replicas]
    for epoch, addr in enumerate(order, start=1):
        # An epoch already set (a node restarted mid-create) is no reason to stop.
        with contextlib.suppress(ReplyError):
            nodes[addr].client.call("CLUSTER", "SET-CONFIG-EPOCH", epoch)
    out.step("Sending CLUSTER MEET messages to join the cluster")
    head = nodes[order[0]].me
    meet: list[Arg] = ["CLUSTER", "MEET", order[0].host, order[0].port]
    if head.bus_port != head.port + 10000:
        meet.append(head.bus_port)
    for addr in order[1:]:
        nodes[addr].client.call(*meet)
    out.line("Waiting for the cluster to join")
    wait_joined(list(nodes.values()), set(ids.values()), out, join_timeout)
    for replica, master in layout.replicas:
        replicate(nodes[replica], ids[master], join_timeout)
    with loaded(order[0]) as cluster:
        return 0 if check(cluster, out) else 1


def wait_joined(nodes: Sequence[Live], ids: set[str], out: Output, timeout: float) -> None:
    """Until every node knows every other one (past the handshake) and all agree on slots."""
    deadline = time.monotonic() + timeout
    while True:
        for node in nodes:
            node.refresh()
        known = all(
            {n.id for n in node.view if "handshake" not in n.flags} >= ids for node in nodes
        )
        if known and len({topology.config_signature(n.view) for n in nodes}) == 1:
            out.line()
            return
        if time.monotonic() > deadline:
            out.line()
            raise ToolError(
                f"The nodes did not join within {timeout:.0f}s: check that every node reaches "
                "the others' cluster bus ports (port + 10000 unless configured)."
            )
        out.line(".", end="")
        time.sleep(1.0)


def replicate(node: Live, master_id: str, timeout: float) -> None:
    """CLUSTER REPLICATE, retried while the node has not yet learned its master by gossip."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            node.client.call("CLUSTER", "REPLICATE", master_id)
            return
        except ReplyError as exc:
            if time.monotonic() > deadline:
                raise ToolError(f"Node {node.addr} replied to CLUSTER REPLICATE: {exc}") from None
        time.sleep(POLL)


# ---------------------------------------------------------------- moving slots


@dataclass(frozen=True)
class MoveOptions:
    pipeline: int = 10
    timeout: int = 60000  # MIGRATE timeout, ms
    replace: bool = False  # MIGRATE ... REPLACE when the target already holds a key
    progress: Callable[[int], None] | None = None  # called with the keys of each batch


def move_slot(cluster: Cluster, source: Live, target: Live, slot: int, opts: MoveOptions) -> None:
    """One slot from source to target, in redis-cli's order: IMPORTING on the target,
    MIGRATING on the source, the keys in batches, then NODE on the target first (so the slot
    is never without an owner), then on the source and every other master."""
    tid = target.me.id
    target.client.call("CLUSTER", "SETSLOT", slot, "IMPORTING", source.me.id)
    source.client.call("CLUSTER", "SETSLOT", slot, "MIGRATING", tid)
    migrate_keys(source, target, slot, opts)
    target.client.call("CLUSTER", "SETSLOT", slot, "NODE", tid)
    others = [source] + [n for n in cluster.masters if n is not source and n is not target]
    set_owner(others, slot, tid)


def set_owner(nodes: Sequence[Live], slot: int, owner_id: str) -> None:
    """SETSLOT NODE on every node at once: each one saves nodes.conf before it answers, and
    none of them needs to wait for another."""
    command: list[Arg] = ["CLUSTER", "SETSLOT", slot, "NODE", owner_id]
    for node in nodes:
        node.client.send([command])
    for node in nodes:
        (reply,) = node.client.receive(1)
        # A master that lost its last slot may have turned into a replica meanwhile.
        if isinstance(reply, ReplyError) and "only with masters" not in str(reply):
            raise ToolError(f"{node.addr}: CLUSTER SETSLOT {slot} NODE: {reply}")


def migrate_keys(source: Live, target: Live, slot: int, opts: MoveOptions) -> None:
    while True:
        keys = source.client.call("CLUSTER", "GETKEYSINSLOT", slot, opts.pipeline)
        if not isinstance(keys, list) or not keys:
            return
        batch = [k for k in keys if isinstance(k, bytes)]
        base: list[Arg] = ["MIGRATE", target.client.host, target.client.port, "", 0, opts.timeout]
        try:
            source.client.call(*base, "KEYS", *batch)
        except ReplyError as exc:
            if "BUSYKEY" not in str(exc) or not opts.replace:
                raise ToolError(
                    f"Calling MIGRATE on {source.addr} for slot {slot}: {exc}"
                ) from None
            source.client.call(*base, "REPLACE", "KEYS", *batch)
        if opts.progress:
            opts.progress(len(batch))


def cmd_reshard(
    seed: Addr,
    from_ids: Sequence[str],
    to_id: str,
    count: int,
    yes: bool,
    opts: MoveOptions,
    out: Output,
) -> int:
    with loaded(seed) as cluster:
        if not check(cluster, out):
            out.line("*** Please fix your cluster problems before resharding")
            return 1
        target = cluster.by_id_prefix(to_id)
        if not target.me.is_master:
            raise ToolError("The specified node is not known or is not a master, please retry.")
        if list(from_ids) == ["all"]:
            sources = [m for m in cluster.masters if m is not target and m.me.slots]
        else:
            sources = [cluster.by_id_prefix(i) for i in from_ids]
        if any(s is target for s in sources):
            raise ToolError("Target node is also listed among the source nodes!")
        if not 0 < count <= SLOT_COUNT:
            raise ToolError("Number of slots to move must be between 1 and 16384")
        by_id = {s.me.id: s for s in sources}
        moves = plan.reshard_plan([plan.Source(s.me.id, s.me.slots) for s in sources], count)
        out.line(f"\nReady to move {count} slots.")
        out.line("  Source nodes:")
        for s in sources:
            for line in report.describe_node(s.me, s.replicas):
                out.line(f"    {line}")
        out.line("  Destination node:")
        for line in report.describe_node(target.me, target.replicas):
            out.line(f"    {line}")
        out.line("  Resharding plan:")
        for slot, source_id in moves:
            out.line(f"    Moving slot {slot} from {source_id}")
        if not confirm(out, "Do you want to proceed with the proposed reshard plan?", yes):
            return 1

        def dot(keys: int) -> None:
            out.line("." * keys, end="")

        dots = MoveOptions(opts.pipeline, opts.timeout, opts.replace, dot)
        for slot, source_id in moves:
            source = by_id[source_id]
            out.line(f"Moving slot {slot} from {source.addr} to {target.addr}: ", end="")
            move_slot(cluster, source, target, slot, dots)
            out.line()
    return 0


def cmd_rebalance(
    seed: Addr,
    weights: dict[str, float],
    threshold: float,
    use_empty: bool,
    simulate: bool,
    opts: MoveOptions,
    out: Output,
) -> int:
    with loaded(seed) as cluster:
        if not check(cluster, out):
            out.line("*** Please fix your cluster problems before rebalancing")
            return 1
        members = []
        for m in cluster.masters:
            weight = 1.0
            for prefix, w in weights.items():
                if m.me.id.startswith(prefix):
                    weight = w
            members.append(plan.Member(m.me.id, len(m.me.slots), weight))
        result = plan.rebalance_plan(members, threshold, use_empty)
        if not result.moves:
            out.line(
                f"*** No rebalancing needed! All nodes are within the {threshold:.2f}% threshold."
            )
            return 0
        out.step(
            f"Rebalancing across {result.nodes} nodes. Total weight = {result.total_weight:.2f}"
        )
        hashes = MoveOptions(opts.pipeline, opts.timeout, opts.replace)
        for move in result.moves:
            source = cluster.by_id_prefix(move.source)
            target = cluster.by_id_prefix(move.target)
            out.line(f"Moving {move.count} slots from {source.addr} to {target.addr}")
            table = plan.reshard_plan([plan.Source(source.me.id, source.me.slots)], move.count)
            for slot, _ in table:
                if not simulate:
                    move_slot(cluster, source, target, slot, hashes)
                out.line("#", end="")
            out.line()
            # The next move may take from this source again: its slot list must be current.
            source.me.slots[:] = [s for s in source.me.slots if s not in dict(table)]
    return 0


# ---------------------------------------------------------------- add-node / del-node


def cmd_add_node(
    new: Addr,
    existing: Addr,
    as_replica: bool,
    master_id: str | None,
    out: Output,
    join_timeout: float = 120.0,
) -> int:
    out.step(f"Adding node {new} to cluster {existing}")
    with loaded(existing) as cluster:
        if not check(cluster, out):
            return 1
        master: Live | None = None
        if as_replica:
            if master_id:
                master = cluster.by_id_prefix(master_id)
            else:
                counts = {m.me.id: m.replicas for m in cluster.masters}
                chosen = plan.least_replicated([m.me.id for m in cluster.masters], counts)
                master = cluster.by_id_prefix(chosen)
                out.line(f"Automatically selected master {master.addr}")
        node = open_node(new)
        try:
            check_empty(new, node)
            if master is None:
                copy_functions(cluster.seed, node, out)
            seed = cluster.seed.me
            out.step(f"Send CLUSTER MEET to node {new} to make it join the cluster.")
            meet: list[Arg] = ["CLUSTER", "MEET", cluster.seed.client.host, seed.port]
            if seed.bus_port != seed.port + 10000:
                meet.append(seed.bus_port)
            node.client.call(*meet)
            if master is not None:
                out.line("Waiting for the cluster to join")
                wait_joined([node], {master.me.id}, out, join_timeout)
                out.step(f"Configure node as replica of {master.addr}.")
                replicate(node, master.me.id, join_timeout)
        finally:
            node.client.close()
    out.ok("New node added correctly.")
    return 0


def copy_functions(source: Live, target: Live, out: Output) -> None:
    """A new master gets the cluster's functions (FCALL must work on the slots it will own).
    A source that cannot dump them (no FUNCTION support) is no reason to stop."""
    out.step("Getting functions from cluster")
    try:
        dump = source.client.call("FUNCTION", "DUMP")
    except ReplyError as exc:
        out.warn(f"Failed to get functions from {source.addr}: {exc}; skipping them")
        return
    out.step(f"Send FUNCTION LIST to {target.addr} to verify there is no functions in it")
    if target.client.call("FUNCTION", "LIST"):
        raise ToolError(f"Node {target.addr} already has functions: FUNCTION FLUSH it first")
    if isinstance(dump, bytes) and dump:
        out.step(f"Send FUNCTION RESTORE to {target.addr}")
        target.client.call("FUNCTION", "RESTORE", dump)


def cmd_del_node(seed: Addr, node_id: str, out: Output) -> int:
    out.step(f"Removing node {node_id} from cluster {seed}")
    with loaded(seed, settle=0) as cluster:
        matches = [n for n in cluster.nodes if n.me.id.startswith(node_id)]
        if len(matches) != 1:
            out.error(f"No such node ID {node_id}")
            return 1
        victim = matches[0]
        if victim.me.slots:
            out.error(f"Node {victim.addr} is not empty! Reshard data away and try again.")
            return 1
        out.step("Sending CLUSTER FORGET messages to the cluster...")
        others = [n for n in cluster.nodes if n is not victim]
        masters = [m.me.id for m in cluster.masters if m is not victim]
        counts = {m.me.id: m.replicas for m in cluster.masters}
        for node in others:
            if node.me.master_id == victim.me.id:
                # Its replicas go to the master with the fewest replicas first.
                master = plan.least_replicated(masters, counts)
                out.step(f"{node.addr} as replica of {master}")
                node.client.call("CLUSTER", "REPLICATE", master)
                counts[master] = counts.get(master, 0) + 1
            node.client.call("CLUSTER", "FORGET", victim.me.id)
        out.step("Sending CLUSTER RESET SOFT to the deleted node.")
        victim.client.call("CLUSTER", "RESET", "SOFT")
    return 0


# ---------------------------------------------------------------- fix


def cmd_fix(seed: Addr, yes: bool, opts: MoveOptions, out: Output) -> int:
    with loaded(seed) as cluster:
        show_info(cluster, out)
        check(cluster, out)
        opened = topology.open_slots([n.me for n in cluster.masters])
        for slot in opened.slots:
            fix_open_slot(cluster, slot, opened, opts, out)
        cluster.refresh()
        uncovered = topology.uncovered_slots(n.me for n in cluster.masters)
        if uncovered:
            out.step("Fixing slots coverage...")
            if not fix_coverage(cluster, uncovered, yes, out):
                return 1
    with loaded(seed) as cluster:
        return 0 if check(cluster, out) else 1


def _owner(cluster: Cluster, slot: int) -> Live | None:
    return next((m for m in cluster.masters if slot in m.me.slots), None)


def fix_open_slot(
    cluster: Cluster, slot: int, opened: topology.OpenSlots, opts: MoveOptions, out: Output
) -> None:
    out.step(f"Fixing open slot {slot}")
    migrating = opened.migrating.get(slot, [])
    importing = opened.importing.get(slot, [])
    by_addr = {n.addr: n for n in cluster.nodes}
    if migrating:
        out.line(f"Set as migrating in: {','.join(migrating)}")
    if importing:
        out.line(f"Set as importing in: {','.join(importing)}")
    owner = _owner(cluster, slot)
    if owner is None:
        raise ToolError(f"Slot {slot} has no owner: run fix again once coverage is fixed")
    case = plan.fix_case(owner.addr, migrating, importing)
    if case is plan.FixCase.MOVE:
        source, target = by_addr[migrating[0]], by_addr[importing[0]]
        out.step(f"Case 1: Moving slot {slot} from {source.addr} to {target.addr}")
        out.line(f"Moving slot {slot} from {source.addr} to {target.addr}: ", end="")
        # The marks are already there: redo them (idempotent) and finish the move.
        move_slot(cluster, source, target, slot, opts)
        out.line()
    elif case is plan.FixCase.TO_OWNER:
        out.step(f"Case 2: Moving all the {slot} slot keys to its owner {owner.addr}")
        # The owner serves the slot, so it takes the keys without any migration marks.
        for addr in importing:
            node = by_addr[addr]
            migrate_keys(node, owner, slot, opts)
            node.client.call("CLUSTER", "SETSLOT", slot, "STABLE")
    elif case is plan.FixCase.CLOSE:
        out.step(f"Case 3: Closing slot {slot} on both migration and importing")
        owner.client.call("CLUSTER", "SETSLOT", slot, "STABLE")
    else:
        raise ToolError(
            f"Sorry, can't fix slot {slot} yet (migrating: {migrating}, importing: {importing})"
        )


def fix_coverage(cluster: Cluster, uncovered: list[int], yes: bool, out: Output) -> bool:
    """Give each uncovered slot to the master holding its keys, or (no keys anywhere) to the
    master with the fewest slots."""
    holders: dict[int, list[Live]] = {}
    for slot in uncovered:
        holders[slot] = [
            m for m in cluster.masters if m.client.integer("CLUSTER", "COUNTKEYSINSLOT", slot) > 0
        ]
    empty = [s for s in uncovered if not holders[s]]
    single = [s for s in uncovered if len(holders[s]) == 1]
    multi = [s for s in uncovered if len(holders[s]) > 1]
    if multi:
        out.error(
            f"Slots with keys in more than one node: {topology.format_ranges(multi)}; "
            "move the keys by hand first"
        )
        return False
    if empty:
        out.line("The following uncovered slots have no keys across the cluster:")
        out.line(topology.format_ranges(empty))
        if not confirm(out, "Fix these slots by covering with the emptiest masters?", yes):
            return False
        for slot in empty:
            master = min(cluster.masters, key=lambda m: len(m.me.slots))
            _cover(master, slot, out)
    if single:
        out.line("The following uncovered slots have keys in just one node:")
        out.line(topology.format_ranges(single))
        if not confirm(out, "Fix these slots by covering with those nodes?", yes):
            return False
        for slot in single:
            _cover(holders[slot][0], slot, out)
    return True


def _cover(master: Live, slot: int, out: Output) -> None:
    out.step(f"Covering slot {slot} with {master.addr}")
    # The master may still see the slot's old owner (a node that dropped it tells nobody):
    # forget that first, or ADDSLOTS answers "already busy".
    with contextlib.suppress(ReplyError):
        master.client.call("CLUSTER", "DELSLOTS", slot)
    master.client.call("CLUSTER", "ADDSLOTS", slot)
    # A new configEpoch makes the rest of the cluster accept the claim over any stale one.
    master.client.call("CLUSTER", "BUMPEPOCH")
    master.me.slots.append(slot)


# ---------------------------------------------------------------- status


def status_rows(addrs: Sequence[Addr]) -> list[report.StatusRow]:
    """Ask each node about itself; a node that does not answer is a `down` row."""
    rows = []
    ports: dict[str, str] = {}
    answers: list[tuple[Addr, NodeInfo | None, dict[str, str], int]] = []
    for addr in addrs:
        try:
            with NodeClient(addr.host, addr.port, timeout=2.0) as c:
                view = topology.parse_nodes(c.text("CLUSTER", "NODES"))
                info = topology.parse_info(c.text("CLUSTER", "INFO"))
                info.update(topology.parse_info(c.text("INFO", "stats")))
                me = next(n for n in view if n.myself)
                answers.append((addr, me, info, c.integer("DBSIZE")))
                ports[me.id] = str(addr)
        except (OSError, ReplyError, StopIteration, topology.ParseError):
            answers.append((addr, None, {}, 0))
    for addr, node, info, keys in answers:
        if node is None:
            rows.append(report.StatusRow(str(addr)))
            continue
        rows.append(
            report.StatusRow(
                addr=str(addr),
                id=node.id,
                role="master" if node.is_master else "replica",
                master_addr=ports.get(node.master_id or "", (node.master_id or "")[:8]),
                slots=len(node.slots) if node.is_master else None,
                keys=keys,
                state=info.get("cluster_state"),
                ops=info.get("instantaneous_ops_per_sec"),
                flags=",".join(sorted(node.flags - {"myself", "master", "slave"})),
            )
        )
    return rows


def cmd_status(seed: Addr, out: Output) -> int:
    with loaded(seed, settle=0) as cluster:
        addrs = [Addr(n.client.host, n.client.port) for n in cluster.nodes]
    for line in report.render_status(status_rows(sorted(addrs, key=lambda a: (a.host, a.port)))):
        out.line(line)
    return 0
