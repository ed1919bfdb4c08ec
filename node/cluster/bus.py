"""The cluster bus as a pure state machine: links, PING/PONG/MEET and their gossip,
handshakes, failure detection (PFAIL, failure reports, FAIL), epochs, slot configuration
from headers and UPDATE messages, and PUBLISH forwarding (Redis's cluster.c: clusterCron,
clusterProcessPacket, clusterProcessGossipSection, markNodeAsFailingIfNeeded,
clusterUpdateSlotsConfigWith, clusterHandleConfigEpochCollision).

Rules:
- Pure: no sockets, no clocks. A `Link` is a plain object; the shell (node/io/bus.py)
  opens a socket for every link in `connects`, closes the socket of every link in
  `closing`, sends what each link in `flushing` has queued in `out`, and reports socket
  events back through `accepted`, `connected`, `received` and `closed`. `now` (unix ms)
  is set by the shell before every call; randomness is the engine's seeded rng.
- Every change of the node table goes through ClusterState's methods; what must reach
  nodes.conf or may change the cluster's health is recorded in `state.todo` and done by
  the engine at the end of the event-loop turn.
- Elections, votes, manual failover and replica migration are node/cluster/failover.py's:
  the bus hands it the messages that concern it and calls its cron after failure
  detection.
"""

from __future__ import annotations

import operator
import random
from dataclasses import dataclass, field
from itertools import compress, repeat
from typing import TYPE_CHECKING, Any, Final

from node.cluster.codec import (
    SLOT_BITMAP_LEN,
    CodecError,
    FrameReader,
    Gossip,
    Header,
    Message,
    MsgType,
    bitmap_slots,
    encode,
)
from node.cluster.failover import Failover
from node.cluster.state import (
    TODO_FSYNC_CONFIG,
    TODO_SAVE_CONFIG,
    TODO_UPDATE_STATE,
    ClusterNode,
    ClusterState,
    NodeFlag,
    random_name,
    valid_name,
)

if TYPE_CHECKING:
    from node.cluster.manager import Cluster

FAIL_UNDO_TIME_MULT: Final = 2  # CLUSTER_FAIL_UNDO_TIME_MULT
_RANDOM_PING_SAMPLES: Final = 5
_NO_GOSSIP: Final = NodeFlag.HANDSHAKE | NodeFlag.NOADDR
_DOWN: Final = NodeFlag.PFAIL | NodeFlag.FAIL
_SAVE_STATE: Final = TODO_SAVE_CONFIG | TODO_UPDATE_STATE
_BITS: Final = bytes.maketrans(b"\x00\x01", b"01")
_LINK_BASE_MEMORY: Final = 1088  # a clusterLink and its initial receive buffer (7.0)


@dataclass(eq=False)
class Link:
    """One TCP link of the bus. An outbound link (`inbound` false) belongs to the node we
    connect to; an inbound one learns its node from the first message of a known sender.
    `transport` is the shell's (its socket); the machine never looks at it."""

    node: ClusterNode | None
    inbound: bool
    ctime: int
    peer_ip: str = ""  # the other end's address (nodeIp2String's fallback)
    local_ip: str = ""  # our end's address (how we learn our own IP)
    up: bool = False  # connected (inbound links are born connected)
    out: bytearray = field(default_factory=bytearray)
    reader: FrameReader = field(default_factory=FrameReader)
    transport: Any = None


def slots_bitmap(state: ClusterState, node: ClusterNode | None) -> bytes:
    """The slots `node` owns as a bus bitmap (bit i%8 of byte i//8 is slot i)."""
    if node is None or not node.numslots:
        return bytes(SLOT_BITMAP_LEN)
    ones = bytes(map(operator.is_, state.slots, repeat(node))).translate(_BITS)
    return int(ones[::-1], 2).to_bytes(SLOT_BITMAP_LEN, "little")


def not_owned_by(state: ClusterState, node: ClusterNode, slots: list[int]) -> list[int]:
    """The slots of `slots` that `node` does not own, in order. A PING's claim mostly
    repeats what is known, so the filter is C-level instead of a Python test per slot."""
    owners = map(state.slots.__getitem__, slots)
    return list(compress(slots, map(operator.is_not, owners, repeat(node))))


class ClusterBus:
    """One node's bus: implements manager.Bus and what failover.py uses."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.now = cluster.engine.now_ms
        self.outbound: dict[ClusterNode, Link] = {}
        self.inbound: dict[ClusterNode, Link] = {}  # inbound links bound to their node
        self.unbound: list[Link] = []  # inbound links whose node we do not know yet
        self.connects: list[Link] = []  # for the shell: open these
        self.closing: list[Link] = []  # for the shell: close these
        self.flushing: list[Link] = []  # for the shell: these have output
        self.iteration = 0
        self.pfail_nodes = 0
        self.failover = Failover(cluster, self)
        # Slot bitmaps by node, valid for one (state, slots_version): every message
        # carries one and every PING/PONG is compared with one.
        self._bitmaps: dict[ClusterNode, bytes] = {}
        self._bitmaps_key: tuple[int, int] = (0, -1)

    @property
    def state(self) -> ClusterState:
        return self.cluster.state

    @property
    def rng(self) -> random.Random:
        return self.cluster.engine.rng

    def _log(self, level: str, text: str) -> None:
        self.cluster.engine.log(level, text)

    def _node_timeout(self) -> int:
        return self.cluster.engine.config.int("cluster-node-timeout")

    # --- links (called by the shell) -----------------------------------------------------------
    def accepted(self, peer_ip: str, local_ip: str) -> Link:
        """A peer connected to our bus port."""
        link = Link(None, True, self.now, peer_ip, local_ip, up=True)
        self.unbound.append(link)
        return link

    def connected(self, link: Link, local_ip: str) -> None:
        """An outbound connection completed: greet with MEET (a node CLUSTER MEET or gossip
        told us about) or PING, keeping a pending ping's age (clusterLinkConnectHandler)."""
        node = link.node
        if link not in self.outbound.values() or node is None:
            return
        link.up = True
        link.local_ip = local_ip
        old_ping_sent = node.ping_sent
        self.send_ping(link, MsgType.MEET if node.flags & NodeFlag.MEET else MsgType.PING)
        if old_ping_sent:
            node.ping_sent = old_ping_sent
        node.flags &= ~NodeFlag.MEET
        if link.out and link not in self.flushing:
            self.flushing.append(link)

    def received(self, link: Link, data: bytes) -> None:
        """Bytes arrived on a link: process every complete message. A stream that is not a
        bus stream closes the link."""
        try:
            messages = link.reader.feed(data)
        except CodecError as exc:
            self._log("verbose", f"Closing a cluster bus link: {exc}")
            self.free(link)
            return
        for msg in messages:
            if not self._live(link):
                return
            self.process(link, msg)

    def closed(self, link: Link) -> None:
        """The shell lost a link (peer closed, error, failed connect)."""
        node = link.node
        if (
            not link.inbound
            and not link.up
            and node is not None
            and not node.ping_sent
            and not node.flags & NodeFlag.HANDSHAKE
        ):
            # A connect that failed before any ping went out: count it as a pending ping,
            # or failure detection would never start (as Redis does on a connect error).
            # Handshake nodes are never failure-checked; CLUSTER NODES shows them with no
            # ping sent, as Redis does.
            node.ping_sent = self.now
        self._forget(link)

    def free(self, link: Link) -> None:
        """The machine drops a link (freeClusterLink): the shell closes its socket."""
        if self._forget(link):
            self.closing.append(link)

    def _forget(self, link: Link) -> bool:
        node = link.node
        found = False
        if node is not None and self.outbound.get(node) is link:
            del self.outbound[node]
            node.link = False
            found = True
        if node is not None and self.inbound.get(node) is link:
            del self.inbound[node]
            found = True
        if link in self.unbound:
            self.unbound.remove(link)
            found = True
        if link in self.connects:
            self.connects.remove(link)
        if link in self.flushing:
            self.flushing.remove(link)
        return found

    def _live(self, link: Link) -> bool:
        node = link.node
        if node is None:
            return link in self.unbound
        return (self.outbound.get(node) is link) or (self.inbound.get(node) is link)

    def _connect(self, node: ClusterNode) -> Link:
        link = Link(node, False, self.now)
        self.outbound[node] = link
        node.link = True
        self.connects.append(link)
        return link

    def _bind_inbound(self, link: Link, node: ClusterNode) -> None:
        """setClusterNodeToInboundClusterLink: an inbound link learned its node."""
        old = self.inbound.get(node)
        if old is link:
            return
        if link in self.unbound:
            self.unbound.remove(link)
        link.node = node
        self.inbound[node] = link
        if old is not None:
            old.node = None  # no longer the node's: only its socket remains to close
            if old in self.flushing:
                self.flushing.remove(old)
            self.closing.append(old)

    def all_links(self) -> list[Link]:
        return [*self.outbound.values(), *self.inbound.values(), *self.unbound]

    def links_memory(self) -> int:
        """INFO's mem_cluster_links: Redis's fixed size of a link (its struct and receive
        buffer) plus what each one buffers."""
        return sum(
            _LINK_BASE_MEMORY + len(link.out) + link.reader.buffered for link in self.all_links()
        )

    def links(self) -> list[dict[bytes, object]]:
        """CLUSTER LINKS: for every node, the link to it, then the link from it."""
        out: list[dict[bytes, object]] = []
        for node in self.state.nodes.values():
            for direction, link in (
                (b"to", self.outbound.get(node)),
                (b"from", self.inbound.get(node)),
            ):
                if link is None:
                    continue
                used = len(link.out)
                out.append(
                    {
                        b"direction": direction,
                        b"node": node.name.encode(),
                        b"create-time": link.ctime,
                        b"events": b"rw" if used else b"r",
                        b"send-buffer-allocated": used,
                        b"send-buffer-used": used,
                    }
                )
        return out

    # --- sending ---------------------------------------------------------------------------------
    def header(self, msg_type: MsgType, *, mflags: int = 0) -> Header:
        """clusterBuildMessageHdr: myself as every message describes me."""
        state = self.state
        cluster = self.cluster
        myself = state.myself
        master = myself.master if myself.is_replica else myself
        return Header(
            type=msg_type,
            sender=myself.name,
            current_epoch=state.current_epoch,
            config_epoch=master.config_epoch if master is not None else myself.config_epoch,
            offset=cluster.my_offset(),
            slots=self.bitmap(master),
            master=myself.master.name if myself.is_replica and myself.master else None,
            ip=cluster.engine.config.str("cluster-announce-ip"),
            port=myself.port,
            cport=myself.cport,
            pport=myself.pport,
            flags=int(myself.flags),
            state_ok=state.ok,
            mflags=mflags | self.failover.mflags(),
            hostname=myself.hostname,
            shard_id=myself.shard_id,
        )

    def bitmap(self, node: ClusterNode | None) -> bytes:
        """`slots_bitmap` of `node`, cached until a slot changes owner."""
        if node is None:
            return bytes(SLOT_BITMAP_LEN)
        state = self.state
        key = (id(state), state.slots_version)
        if key != self._bitmaps_key:
            self._bitmaps_key = key
            self._bitmaps.clear()
        bitmap = self._bitmaps.get(node)
        if bitmap is None:
            bitmap = self._bitmaps[node] = slots_bitmap(state, node)
        return bitmap

    def _queue(self, link: Link, msg: Message) -> None:
        if not link.out and link not in self.flushing:
            self.flushing.append(link)
        link.out += encode(msg)
        self.state.stats_sent[msg.type] += 1

    def send(self, node: ClusterNode, msg: Message) -> None:
        """Queue `msg` on the link to `node` (nothing when there is none)."""
        link = self.outbound.get(node)
        if link is not None:
            self._queue(link, msg)

    def broadcast(self, msg: Message, *, masters_only: bool = False) -> None:
        """clusterBroadcastMessage: every node we have a link to, but handshakes."""
        for node, link in list(self.outbound.items()):
            if node.flags & (NodeFlag.MYSELF | NodeFlag.HANDSHAKE):
                continue
            if masters_only and not node.is_master:
                continue
            self._queue(link, msg)

    def broadcast_pong(self, local_replicas_only: bool = False) -> None:
        """clusterBroadcastPong: a PONG to everyone (or to the replicas of my shard) so a
        configuration change of mine spreads at once."""
        myself = self.state.myself
        for node, link in list(self.outbound.items()):
            if node.flags & (NodeFlag.MYSELF | NodeFlag.HANDSHAKE):
                continue
            if local_replicas_only and not (
                node.is_replica
                and node.master is not None
                and (node.master is myself or node.master is myself.master)
            ):
                continue
            self.send_ping(link, MsgType.PONG)

    def manual_failover(self, mode: str) -> None:
        self.failover.manual_failover(mode)

    def send_ping(self, link: Link, msg_type: MsgType) -> None:
        """clusterSendPing: a PING, PONG or MEET with gossip about ~1/10 of the nodes (at
        least 3) and every node we think may be failing."""
        state = self.state
        myself = state.myself
        nodes = list(state.nodes.values())
        fresh = len(nodes) - 2
        wanted = min(max(3, len(nodes) // 10), fresh)
        chosen: dict[str, ClusterNode] = {}
        tries = wanted * 3
        rng = self.rng
        while fresh > 0 and len(chosen) < wanted and tries > 0:
            tries -= 1
            node = rng.choice(nodes)
            if (
                node is myself
                or node.flags & NodeFlag.PFAIL
                or node.flags & _NO_GOSSIP
                or (not node.link and not node.numslots)
                or node.name in chosen
            ):
                continue
            chosen[node.name] = node
            fresh -= 1
        pfail_wanted = self.pfail_nodes
        for node in nodes:
            if pfail_wanted <= 0:
                break
            if node.flags & _NO_GOSSIP or not node.flags & NodeFlag.PFAIL:
                continue
            chosen[node.name] = node
            pfail_wanted -= 1
        msg = Message(
            self.header(msg_type),
            gossip=[
                Gossip(
                    n.name,
                    n.ping_sent // 1000,
                    n.pong_received // 1000,
                    n.ip,
                    n.port,
                    n.cport,
                    n.pport,
                    int(n.flags),
                )
                for n in chosen.values()
            ],
        )
        if link.node is not None and msg_type == MsgType.PING:
            link.node.ping_sent = self.now
        self._queue(link, msg)

    def send_update(self, node: ClusterNode, about: ClusterNode) -> None:
        """clusterSendUpdate: tell `node` the slots and config epoch of `about`."""
        link = self.outbound.get(node)
        if link is None:
            return
        self._queue(
            link,
            Message(
                self.header(MsgType.UPDATE),
                node=about.name,
                config_epoch=about.config_epoch,
                slots=self.bitmap(about),
            ),
        )

    def publish(self, channel: bytes, message: bytes, *, shard: bool = False) -> None:
        """PUBLISH reaches every node; SPUBLISH the other nodes of my shard."""
        if not shard:
            self.broadcast(Message(self.header(MsgType.PUBLISH), channel=channel, payload=message))
            return
        myself = self.state.myself
        master = myself.master if myself.is_replica else myself
        if master is None:
            return
        msg = Message(self.header(MsgType.PUBLISHSHARD), channel=channel, payload=message)
        for node in (master, *master.replicas):
            if node is not myself:
                self.send(node, msg)

    # --- the cron ----------------------------------------------------------------------------------
    def cron(self) -> None:
        """clusterCron, ten times a second: links to every node, the random and overdue
        pings, PFAIL after node-timeout without an answer, then the failover's cron."""
        self.iteration += 1
        state = self.state
        now = self.now
        timeout = self._node_timeout()
        handshake_timeout = max(timeout, 1000)
        for node in [n for n in self.outbound if state.nodes.get(n.name) is not n]:
            self.free(self.outbound[node])  # forgotten, reset, or renamed away
        for node in [n for n in self.inbound if state.nodes.get(n.name) is not n]:
            self.free(self.inbound[node])
        self.pfail_nodes = 0
        limit = self.cluster.engine.config.int("cluster-link-sendbuf-limit")
        for node in list(state.nodes.values()):
            if limit:
                self._enforce_sendbuf_limit(node, limit)
            if node.flags & (NodeFlag.MYSELF | NodeFlag.NOADDR):
                continue
            if node.flags & NodeFlag.PFAIL:
                self.pfail_nodes += 1
            if node.flags & NodeFlag.HANDSHAKE and now - node.ctime > handshake_timeout:
                self.forget(node)
                continue
            if node not in self.outbound:
                self._connect(node)
        if self.iteration % 10 == 0:
            self._ping_random()
        changed = False
        for node in list(state.nodes.values()):
            if node.flags & (NodeFlag.MYSELF | NodeFlag.NOADDR | NodeFlag.HANDSHAKE):
                continue
            ping_delay = now - node.ping_sent
            data_delay = now - node.data_received
            link = self.outbound.get(node)
            if (
                link is not None
                and now - link.ctime > timeout
                and node.ping_sent
                and ping_delay > timeout / 2
                and data_delay > timeout / 2
            ):
                # The link looks stuck: reconnect, the ping stays pending.
                self.free(link)
                link = None
            if link is not None and not node.ping_sent and now - node.pong_received > timeout / 2:
                self.send_ping(link, MsgType.PING)
                continue
            if not node.ping_sent:
                continue
            if min(ping_delay, data_delay) > timeout and not node.flags & _DOWN:
                self._log("debug", f"*** NODE {node.name} possibly failing")
                node.flags |= NodeFlag.PFAIL
                changed = True
        self.failover.cron()
        if changed or not state.ok:
            state.todo |= TODO_UPDATE_STATE

    def _enforce_sendbuf_limit(self, node: ClusterNode, limit: int) -> None:
        """cluster-link-sendbuf-limit: a link whose peer does not take what we send is
        dropped rather than let its buffer grow without bound."""
        for direction, table in (("to", self.outbound), ("from", self.inbound)):
            link = table.get(node)
            if link is not None and len(link.out) > limit:
                self._log(
                    "warning",
                    f"Freeing cluster link({direction} node {node.name}, "
                    f"used memory: {len(link.out)}) due to exceeding send "
                    f"buffer memory limit.",
                )
                self.free(link)
                self.state.links_buffer_limit_exceeded += 1

    def _ping_random(self) -> None:
        """Once a second: PING the node with the oldest pong among a few random ones that
        have a link and no ping pending."""
        state = self.state
        nodes = list(state.nodes.values())
        best: ClusterNode | None = None
        for _ in range(_RANDOM_PING_SAMPLES):
            node = self.rng.choice(nodes)
            if (
                node not in self.outbound
                or node.ping_sent
                or node.flags & (NodeFlag.MYSELF | NodeFlag.HANDSHAKE)
            ):
                continue
            if best is None or node.pong_received < best.pong_received:
                best = node
        if best is not None:
            self.send_ping(self.outbound[best], MsgType.PING)

    def forget(self, node: ClusterNode) -> None:
        """clusterDelNode with the node's links."""
        for table in (self.outbound, self.inbound):
            link = table.get(node)
            if link is not None:
                self.free(link)
        self.state.remove_node(node)

    # --- receiving ----------------------------------------------------------------------------------
    def process(self, link: Link, msg: Message) -> None:
        """clusterProcessPacket for one message."""
        state = self.state
        hdr = msg.header
        kind = msg.type
        now = self.now
        state.stats_received[kind] += 1
        if not valid_name(hdr.sender):
            self._log("verbose", "Closing a cluster bus link: bad sender name")
            self.free(link)
            return
        sender = state.lookup(hdr.sender)
        if sender is not None and sender is not state.myself:
            sender.data_received = now
            if link.inbound and link.node is None:
                self._bind_inbound(link, sender)
            if not sender.in_handshake:
                if hdr.current_epoch > state.current_epoch:
                    state.current_epoch = hdr.current_epoch
                    state.todo |= TODO_SAVE_CONFIG | TODO_FSYNC_CONFIG
                if hdr.config_epoch > sender.config_epoch:
                    sender.config_epoch = hdr.config_epoch
                    state.todo |= TODO_SAVE_CONFIG | TODO_FSYNC_CONFIG
                sender.repl_offset = hdr.offset
                sender.repl_offset_time = now
        if kind in (MsgType.PING, MsgType.PONG, MsgType.MEET):
            self._process_ping(link, msg, sender)
            return
        if sender is state.myself:
            sender = None
        if kind == MsgType.FAIL:
            self._process_fail(msg, sender)
        elif kind in (MsgType.PUBLISH, MsgType.PUBLISHSHARD):
            if sender is not None:
                self.cluster.engine.pubsub.publish(
                    msg.channel, msg.payload, shard=kind == MsgType.PUBLISHSHARD
                )
        elif kind == MsgType.FAILOVER_AUTH_REQUEST:
            if sender is not None:
                self.failover.auth_request(sender, msg)
        elif kind == MsgType.FAILOVER_AUTH_ACK:
            if sender is not None:
                self.failover.auth_ack(sender, msg)
        elif kind == MsgType.MFSTART:
            if sender is not None:
                self.failover.mfstart(sender, msg)
        elif kind == MsgType.UPDATE:
            self._process_update(msg, sender)

    def _process_ping(self, link: Link, msg: Message, sender: ClusterNode | None) -> None:
        state = self.state
        cluster = self.cluster
        myself = state.myself
        hdr = msg.header
        kind = msg.type
        if kind in (MsgType.PING, MsgType.MEET):
            # Our own address: the one a MEET reached us at (only nodes that know our
            # official address send it), or that of any ping while we have none.
            if (
                (kind == MsgType.MEET or not myself.ip)
                and link.local_ip
                and not cluster.engine.config.str("cluster-announce-ip")
                and myself.ip != link.local_ip
            ):
                myself.ip = link.local_ip
                self._log("warning", f"IP address for this node updated to {myself.ip}")
                state.todo |= TODO_SAVE_CONFIG
            if sender is None and kind == MsgType.MEET:
                # Added as a handshake node: the rest comes with its pongs.
                state.add_node(
                    ClusterNode(
                        random_name(self.rng),
                        NodeFlag.HANDSHAKE,
                        self.now,
                        ip=hdr.ip or link.peer_ip,
                        port=hdr.port,
                        cport=hdr.cport,
                        pport=hdr.pport,
                        shard_id=random_name(self.rng),
                    )
                )
                state.todo |= TODO_SAVE_CONFIG
                self._process_gossip(link, msg)
            self.send_ping(link, MsgType.PONG)
        if not link.inbound:
            node = link.node
            assert node is not None
            if node.in_handshake:
                if sender is not None:
                    # We knew it under its real name: keep that one, at the new address.
                    if sender is not myself and self._update_address(sender, link, hdr):
                        state.todo |= _SAVE_STATE
                    self.forget(node)
                    return
                state.rename_node(node, hdr.sender)
                self._log("debug", f"Handshake with node {node.name} completed.")
                node.flags &= ~NodeFlag.HANDSHAKE
                node.flags |= NodeFlag(hdr.flags) & (NodeFlag.MASTER | NodeFlag.SLAVE)
                state.todo |= TODO_SAVE_CONFIG
            elif node.name != hdr.sender:
                # Someone else answers at that address now.
                self._log(
                    "debug",
                    f"PONG contains mismatching sender ID. About node "
                    f"{node.name} added {self.now - node.ctime} ms ago, "
                    f"having flags {int(node.flags)}",
                )
                node.flags |= NodeFlag.NOADDR
                node.ip = ""
                node.port = node.cport = node.pport = 0
                self.free(link)
                state.todo |= TODO_SAVE_CONFIG
                return
        if sender is myself:
            return  # we met ourselves (a MEET to our own address): the handshake is gone
        if sender is not None:
            sender.flags = (sender.flags & ~NodeFlag.NOFAILOVER) | (
                NodeFlag(hdr.flags) & NodeFlag.NOFAILOVER
            )
            if hdr.hostname != sender.hostname:
                sender.hostname = hdr.hostname
                state.todo |= TODO_SAVE_CONFIG
        if (
            sender is not None
            and kind == MsgType.PING
            and not sender.in_handshake
            and self._update_address(sender, link, hdr)
        ):
            state.todo |= _SAVE_STATE
        if not link.inbound and kind == MsgType.PONG:
            assert link.node is not None
            node = link.node
            node.pong_received = self.now
            node.ping_sent = 0
            if node.flags & NodeFlag.PFAIL:
                node.flags &= ~NodeFlag.PFAIL
                state.todo |= _SAVE_STATE
            elif node.flags & NodeFlag.FAIL:
                self._clear_failure(node)
        if sender is None:
            return
        self._update_role(sender, hdr)
        master = sender if sender.is_master else sender.master
        dirty = master is not None and self.bitmap(master) != hdr.slots
        if dirty and sender.is_master:
            self.update_slots_config(sender, hdr.config_epoch, hdr.slots)
        if dirty:
            # The sender claims slots a node with a greater config epoch owns: tell it.
            for slot in not_owned_by(state, sender, bitmap_slots(hdr.slots)):
                owner = state.slots[slot]
                if owner is None:
                    continue
                if owner.config_epoch > hdr.config_epoch:
                    self._log(
                        "verbose",
                        f"Node {sender.name} has old slots configuration, "
                        f"sending an UPDATE message about {owner.name}",
                    )
                    self.send_update(sender, owner)
                    break
        if myself.is_master and sender.is_master and hdr.config_epoch == myself.config_epoch:
            self._epoch_collision(sender)
        self._process_gossip(link, msg)
        if kind != MsgType.MEET:
            self.failover.observed(sender, msg)

    def _update_role(self, sender: ClusterNode, hdr: Header) -> None:
        """A node turning master or replica, or following another master."""
        state = self.state
        if hdr.master is None:
            self._now_master(sender)
            return
        master = state.lookup(hdr.master)
        if sender.is_master:
            state.del_node_slots(sender)
            sender.flags = (
                sender.flags & ~(NodeFlag.MASTER | NodeFlag.MIGRATE_TO)
            ) | NodeFlag.SLAVE
            state.todo |= _SAVE_STATE
        if master is not None and sender.master is not master:
            state.attach_replica(master, sender)
            state.todo |= TODO_SAVE_CONFIG

    def _now_master(self, node: ClusterNode) -> None:
        """A node turns master (its own header, or an UPDATE giving it slots). A FAIL flag
        it got as a replica is stale -- it just won an election, or serves slots -- and
        kept, its new replicas would fail a healthy master over at once: a replica that
        followed it with that flag set ran its pending election against it (found by the
        seeded simulation, cluster_cli/simulate.py). Redis keeps the flag."""
        if node.is_replica and node.flags & NodeFlag.FAIL:
            self._log("notice", f"Clear FAIL state for node {node.name}: replica turned master.")
            node.flags &= ~NodeFlag.FAIL
        self.state.set_as_master(node)

    def _update_address(self, node: ClusterNode, link: Link, hdr: Header) -> bool:
        """nodeUpdateAddressIfNeeded: a node talks to us from a new address (never from
        the link we opened to it: that one reached the old address)."""
        if self.outbound.get(node) is link:
            return False
        ip = hdr.ip or link.peer_ip
        if (node.ip, node.port, node.cport, node.pport) == (ip, hdr.port, hdr.cport, hdr.pport):
            return False
        node.ip, node.port, node.cport, node.pport = ip, hdr.port, hdr.cport, hdr.pport
        old = self.outbound.get(node)
        if old is not None:
            self.free(old)
        node.flags &= ~NodeFlag.NOADDR
        self._log("warning", f"Address updated for node {node.name}, now {ip}:{hdr.port}")
        myself = self.state.myself
        if myself.is_replica and myself.master is node:
            self.cluster.engine.replication.set_master(node.ip, node.port)
        return True

    def _process_gossip(self, link: Link, msg: Message) -> None:
        """clusterProcessGossipSection: failure reports from masters, pong times, addresses
        of failing nodes, nodes we never heard of."""
        state = self.state
        myself = state.myself
        now = self.now
        timeout = self._node_timeout()
        sender = link.node if link.node is not None else state.lookup(msg.header.sender)
        if sender is myself:
            sender = None
        for g in msg.gossip:
            if not valid_name(g.name):
                continue  # never let a broken peer put a bad name into nodes.conf
            flags = NodeFlag(g.flags)
            node = state.lookup(g.name)
            if node is None:
                # Added under the name and flags the sender knows it by (no handshake: the
                # address may belong to another node by now); only a known sender is
                # trusted, and a forgotten node stays away for a while.
                if (
                    sender is not None
                    and not flags & NodeFlag.NOADDR
                    and not state.blacklisted(g.name, now)
                ):
                    state.add_node(
                        ClusterNode(
                            g.name,
                            flags & ~NodeFlag.MYSELF,
                            now,
                            ip=g.ip,
                            port=g.port,
                            cport=g.cport,
                            pport=g.pport,
                            shard_id=random_name(self.rng),
                        )
                    )
                    state.todo |= TODO_SAVE_CONFIG
                continue
            if sender is not None and sender.is_master and node is not myself:
                if flags & _DOWN:
                    if sender.name not in node.fail_reports:
                        self._log(
                            "verbose",
                            f"Node {sender.name} reported node {node.name} as not reachable.",
                        )
                    node.fail_reports[sender.name] = now
                    self.mark_failing_if_needed(node)
                elif node.fail_reports.pop(sender.name, None) is not None:
                    self._log(
                        "verbose", f"Node {sender.name} reported node {node.name} is back online."
                    )
            if (
                not flags & _DOWN
                and not node.ping_sent
                and not state.failure_reports(node, now, timeout)
            ):
                pong = g.pong_received * 1000
                if node.pong_received < pong <= now + 500:
                    node.pong_received = pong
            if (
                node.flags & _DOWN
                and not flags & (NodeFlag.NOADDR | _DOWN)
                and (
                    node.ip.lower() != g.ip.lower() or node.port != g.port or node.cport != g.cport
                )
            ):
                # It is unreachable from here but fine for the sender at another address.
                old = self.outbound.get(node)
                if old is not None:
                    self.free(old)
                node.ip, node.port, node.pport, node.cport = g.ip, g.port, g.pport, g.cport
                node.flags &= ~NodeFlag.NOADDR

    def mark_failing_if_needed(self, node: ClusterNode) -> None:
        """markNodeAsFailingIfNeeded: PFAIL becomes FAIL once a majority of the masters
        (myself included, if a master) report it; then everyone is told."""
        state = self.state
        if not node.flags & NodeFlag.PFAIL or node.flags & NodeFlag.FAIL:
            return
        failures = state.failure_reports(node, self.now, self._node_timeout())
        if state.myself.is_master:
            failures += 1
        if failures < state.size // 2 + 1:
            return
        self._log("notice", f"Marking node {node.name} as failing (quorum reached).")
        node.flags = (node.flags & ~NodeFlag.PFAIL) | NodeFlag.FAIL
        node.fail_time = self.now
        self.broadcast(Message(self.header(MsgType.FAIL), node=node.name))
        state.todo |= _SAVE_STATE

    def _clear_failure(self, node: ClusterNode) -> None:
        """clearNodeFailureIfNeeded: a FAIL node answers again. A replica or a master
        without slots is cleared at once; a master with slots only when nobody took them
        over for a while."""
        if node.is_replica or not node.numslots:
            role = "replica" if node.is_replica else "master without slots"
            self._log(
                "notice", f"Clear FAIL state for node {node.name}: {role} is reachable again."
            )
            node.flags &= ~NodeFlag.FAIL
            self.state.todo |= _SAVE_STATE
        if (
            node.is_master
            and node.numslots
            and self.now - node.fail_time > self._node_timeout() * FAIL_UNDO_TIME_MULT
        ):
            self._log(
                "notice",
                f"Clear FAIL state for node {node.name}: is reachable again "
                f"and nobody is serving its slots after some time.",
            )
            node.flags &= ~NodeFlag.FAIL
            self.state.todo |= _SAVE_STATE

    def _process_fail(self, msg: Message, sender: ClusterNode | None) -> None:
        if sender is None:
            self._log(
                "notice",
                f"Ignoring FAIL message from unknown node {msg.header.sender} about {msg.node}",
            )
            return
        failing = self.state.lookup(msg.node)
        if failing is None or failing.flags & (NodeFlag.FAIL | NodeFlag.MYSELF):
            return
        self._log("notice", f"FAIL message received from {sender.name} about {failing.name}")
        failing.flags = (failing.flags & ~NodeFlag.PFAIL) | NodeFlag.FAIL
        failing.fail_time = self.now
        self.state.todo |= _SAVE_STATE

    def _process_update(self, msg: Message, sender: ClusterNode | None) -> None:
        state = self.state
        if sender is None:
            return
        node = state.lookup(msg.node)
        if node is None or node.config_epoch >= msg.config_epoch:
            return
        if node.is_replica:
            self._now_master(node)
        node.config_epoch = msg.config_epoch
        state.todo |= TODO_SAVE_CONFIG | TODO_FSYNC_CONFIG
        self.update_slots_config(node, msg.config_epoch, msg.slots)

    def _epoch_collision(self, sender: ClusterNode) -> None:
        """clusterHandleConfigEpochCollision: two masters with one config epoch; the one
        with the smaller name takes a new epoch."""
        state = self.state
        myself = state.myself
        if sender.config_epoch != myself.config_epoch or sender.name <= myself.name:
            return
        state.current_epoch += 1
        myself.config_epoch = state.current_epoch
        state.todo |= TODO_SAVE_CONFIG | TODO_FSYNC_CONFIG
        self._log(
            "verbose",
            f"WARNING: configEpoch collision with node {sender.name} "
            f"({sender.hostname}). configEpoch set to {myself.config_epoch}",
        )

    def update_slots_config(self, sender: ClusterNode, epoch: int, bitmap: bytes) -> None:
        """clusterUpdateSlotsConfigWith: `sender` claims the slots of `bitmap` with config
        epoch `epoch`; it gets each one that is unassigned or owned by a node with a
        smaller epoch (not those we are importing). A master left without slots (or the
        master of a replica) follows the new owner; a master that keeps some drops the
        keys of those it lost."""
        state = self.state
        cluster = self.cluster
        myself = state.myself
        if sender is myself:
            self._log("notice", "Discarding UPDATE message about myself.")
            return
        current = myself if myself.is_master else myself.master
        claimed = bitmap_slots(bitmap)
        dirty: list[int] = []
        lost: set[int] = set()
        moved_ours = 0
        new_master: ClusterNode | None = None
        for slot in not_owned_by(state, sender, claimed):
            owner = state.slots[slot]
            if slot in state.importing:
                continue
            if owner is not None and owner.config_epoch >= epoch:
                continue
            if owner is myself and cluster.keys_in_slot(slot):
                dirty.append(slot)
            if owner is not None and owner is current:
                new_master = sender
                moved_ours += 1
                lost.add(slot)
            state.set_slot_owner(slot, sender)
            state.todo |= _SAVE_STATE | TODO_FSYNC_CONFIG
        if lost:
            cluster.slots_removed(lost)
        if (
            new_master is not None
            and current is not None
            and not current.numslots
            and (
                cluster.engine.config.bool("cluster-allow-replica-migration")
                or len(claimed) == moved_ours
            )
        ):
            self._log(
                "warning",
                f"Configuration change detected. Reconfiguring myself as a "
                f"replica of {sender.name}",
            )
            cluster.set_master(sender)
            state.todo |= _SAVE_STATE | TODO_FSYNC_CONFIG
        elif (
            myself.is_replica
            and myself.master is not None
            and myself.master.master is not None
            and myself.master.master is not myself
        ):
            # My master turned replica (it lost its slots before their new owner's claim
            # reached me, so nothing above moved me): follow its master rather than stay a
            # sub-replica for good (found by the seeded simulation).
            grandmaster = myself.master.master
            self._log(
                "warning",
                f"I'm a sub-replica! Reconfiguring myself as a replica of "
                f"grandmaster {grandmaster.name}",
            )
            cluster.set_master(grandmaster)
            state.todo |= _SAVE_STATE | TODO_FSYNC_CONFIG
        elif dirty:
            for slot in dirty:
                cluster.delete_slot_keys(slot)
