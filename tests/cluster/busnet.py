"""An in-memory network of cluster nodes for bus tests: each node is a pure engine in
cluster mode with its ClusterBus; the network plays the shell (node/io/bus.py): it opens
the links the buses ask for, carries the frames each link queued to the other end, closes
what a bus closed, and drives the cron ticks on one shared fake clock. Nodes can be
stopped (their links drop, connects are refused) and partitioned. Deterministic: every
engine has its own seeded rng and nothing depends on the wall clock -- the seed of the
simulation DESIGN.md section 7 asks for."""

from __future__ import annotations

import random

from node.cluster.bus import ClusterBus, Link
from node.cluster.manager import Cluster
from node.commands import load
from node.config import Config
from node.engine.engine import Engine
from tests.support import START_MS, Harness

IP = "127.0.0.1"


class SimNode:
    """One node: its engine (through a Harness for commands) and its bus."""

    def __init__(self, index: int, port: int, **config: str) -> None:
        cfg = Config()
        settings = {
            "cluster-enabled": "yes",
            "port": str(port),
            **{name.replace("_", "-"): value for name, value in config.items()},
        }
        for name, value in settings.items():
            cfg.apply(name, [value], startup=True)
        engine = Engine(cfg, load(), random.Random(1000 + index), strict=True)
        engine.set_time(START_MS)
        self.h = Harness(engine)
        self.port = port
        self.up = True
        cluster = engine.cluster
        assert cluster is not None
        self.cluster: Cluster = cluster
        self.bus = ClusterBus(cluster)
        cluster.bus = self.bus

    @property
    def name(self) -> str:
        return self.cluster.state.myself.name

    @property
    def cport(self) -> int:
        return self.port + 10000

    def flags(self, other: SimNode) -> set[str]:
        """How this node sees `other` in CLUSTER NODES."""
        for line in self.h("CLUSTER", "NODES").decode().splitlines():
            fields = line.split()
            if fields[0] == other.name:
                return set(fields[2].split(","))
        return set()

    def knows(self, other: SimNode) -> bool:
        node = self.cluster.state.lookup(other.name)
        return node is not None and not node.in_handshake


class BusNet:
    """`n` nodes on ports 30001.. (bus ports +10000)."""

    def __init__(self, n: int, *, node_timeout: int = 2000, **config: str) -> None:
        self.now = START_MS
        self.nodes = [
            SimNode(i, 30001 + i, cluster_node_timeout=str(node_timeout), **config)
            for i in range(n)
        ]
        self.peer: dict[int, tuple[SimNode, Link]] = {}  # id(link) -> the other end
        self.cut: set[frozenset[int]] = set()  # partitioned pairs of node indexes
        for node in self.nodes:
            node.bus.now = self.now

    def __getitem__(self, index: int) -> SimNode:
        return self.nodes[index]

    # --- the shell's work ------------------------------------------------------------------------
    def _by_cport(self, cport: int) -> SimNode | None:
        return next((n for n in self.nodes if n.cport == cport), None)

    def _reachable(self, a: SimNode, b: SimNode) -> bool:
        return b.up and frozenset((self.nodes.index(a), self.nodes.index(b))) not in self.cut

    def _drop(self, link: Link) -> None:
        """One end closed: the other end sees its socket close."""
        other = self.peer.pop(id(link), None)
        if other is not None:
            node, far = other
            self.peer.pop(id(far), None)
            node.bus.now = self.now
            node.bus.closed(far)

    def deliver(self) -> None:
        """Run the shells until no bytes are in flight."""
        for _ in range(1000):
            busy = False
            for node in self.nodes:
                bus = node.bus
                bus.now = self.now
                if not node.up:
                    bus.connects.clear()
                    bus.flushing.clear()
                    bus.closing.clear()
                    continue
                while bus.closing:
                    busy = True
                    self._drop(bus.closing.pop())
                while bus.connects:
                    busy = True
                    link = bus.connects.pop(0)
                    assert link.node is not None
                    target = self._by_cport(link.node.cport)
                    link.peer_ip = link.node.ip
                    if target is None or not self._reachable(node, target):
                        bus.closed(link)
                        continue
                    target.bus.now = self.now
                    far = target.bus.accepted(IP, IP)
                    self.peer[id(link)] = (target, far)
                    self.peer[id(far)] = (node, link)
                    bus.connected(link, IP)
                while bus.flushing:
                    busy = True
                    link = bus.flushing.pop(0)
                    data = bytes(link.out)
                    link.out.clear()
                    other = self.peer.get(id(link))
                    if other is None:
                        continue
                    target, far = other
                    if not self._reachable(node, target):
                        continue  # lost in the partition; the links look alive
                    target.bus.now = self.now
                    target.bus.received(far, data)
                node.cluster.before_sleep()
            if not busy:
                return
        raise AssertionError("the bus never went quiet")

    def tick(self, ms: int = 100) -> None:
        """Time passes, then every live node runs its crons and the network settles."""
        self.now += ms
        for node in self.nodes:
            node.h.engine.set_time(self.now)
            node.bus.now = self.now
            if node.up:
                node.cluster.cron()
                node.bus.cron()
        self.deliver()

    def run(self, ms: int) -> None:
        for _ in range(ms // 100):
            self.tick()

    # --- faults --------------------------------------------------------------------------------
    def stop(self, index: int) -> None:
        """The node's process stops: every link to or from it drops."""
        node = self.nodes[index]
        node.up = False
        for link in node.bus.all_links():
            self._drop(link)
            node.bus.closed(link)

    def start(self, index: int) -> None:
        self.nodes[index].up = True

    def partition(self, a: int, b: int) -> None:
        self.cut.add(frozenset((a, b)))

    def heal(self) -> None:
        self.cut.clear()

    # --- forming a cluster -----------------------------------------------------------------------
    def meet_all(self) -> None:
        """Node 0 MEETs every other node, then the gossip does the rest."""
        for node in self.nodes[1:]:
            assert self.nodes[0].h("CLUSTER", "MEET", IP, str(node.port)) == b"OK"

    def full_mesh(self) -> bool:
        return all(a.knows(b) for a in self.nodes for b in self.nodes)

    def form(
        self, masters: list[int] | None = None, replicas: tuple[tuple[int, int], ...] = ()
    ) -> None:
        """What `redis-cli --cluster create` does: slots split over `masters`, MEET, ticks
        until every node knows every other, then each (replica, master) pair REPLICATEs."""
        self.split_slots(masters)
        self.meet_all()
        for _ in range(100):
            self.tick()
            if self.full_mesh():
                break
        for replica, master in replicas:
            assert self[replica].h("CLUSTER", "REPLICATE", self[master].name) == b"OK"

    def split_slots(self, masters: list[int] | None = None) -> None:
        """ADDSLOTSRANGE: the slots split evenly between `masters` (default all nodes)."""
        owners = masters if masters is not None else list(range(len(self.nodes)))
        step = 16384 // len(owners)
        for i, index in enumerate(owners):
            first = i * step
            last = 16383 if i == len(owners) - 1 else first + step - 1
            assert self.nodes[index].h("CLUSTER", "ADDSLOTSRANGE", str(first), str(last)) == b"OK"
