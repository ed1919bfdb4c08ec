"""A seeded simulation of a whole slotd cluster in one process (DESIGN.md section 7): N
engines in cluster mode, each with its pure ClusterBus and Failover, on one fake clock in
ms, over a simulated network that injects faults. A run forms the cluster the way
`redis-cli --cluster create` does, plays a seeded fault schedule, heals everything, and
checks RELIABILITY.md's invariants during and after; a failing seed replays exactly with
`slotd-cluster simulate --seed N`.

What is modelled:
- The shell of node/io/bus.py: after every event a node handles (a cron tick, bytes, a
  connect, a close) it closes what its bus freed, starts the connects it asked for, sends
  what its links queued (a link not connected yet keeps its output), then ends the turn
  (`engine.before_sleep`: cluster state, nodes.conf) -- the same order as the real shell.
- The network: every connection is two FIFO pipes (TCP order) with a seeded latency per
  chunk. Faults: whole chunks dropped (`drop`), a connection reset (`reset`), two-way
  partitions (`partition`) and one-way cuts (`oneway`) during which bytes wait and arrive
  after the heal unless the link was closed meanwhile (TCP retransmission), a connect
  across a cut hangs, a crash (`crash`: the process dies, its peers see the close, and it
  restarts from the nodes.conf it last saved -- a crash may hit between a turn's sends and
  its save, losing that save) and a pause (`pause`: SIGSTOP; no cron, nothing read, what
  arrives waits for the resume). Not a fault but in the mix: an operator's CLUSTER
  FAILOVER [FORCE] on a random replica (`failover`).
- Replication is modelled minimally: real replication needs snapshot transfer through the
  shell, so here a master with slots takes "writes" (its master_repl_offset grows) and a
  replica that can reach its master copies that offset into its cached master and counts
  as just heard from (replication.down_since_ms); the election's rank and data-age checks
  see the same numbers a real replica would report. A manual failover's write pause
  stops the writes.
- No client traffic, no resharding, no TAKEOVER (it bumps epochs without agreement).

Invariants: while running, no two nodes claim a slot with the same config epoch, every
node's currentEpoch covers its configEpoch, a master votes at most once per epoch (across
restarts), and a replica takes over only when told to by CLUSTER FAILOVER or from a
master that was really cut off from a majority of the masters (or down, paused, or under
message loss) for at least node_timeout/2 (a ping sent just before the cut counts from
then) within the last 6 node timeouts, in this role or as the replica it was before;
after the heal, the cluster settles within a bound to S-3: every node ok, all 16384 slots
covered by one master, the same slot map and roles everywhere, unique master config
epochs.

Determinism: every random choice comes from generators seeded by the run's seed, events
at the same ms run in the order they were scheduled, nothing reads the wall clock.
"""

from __future__ import annotations

import argparse
import heapq
import random
import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Final

from node.cluster.bus import ClusterBus, Link
from node.cluster.codec import MsgType
from node.cluster.failover import MF_TIMEOUT_MS
from node.cluster.manager import Cluster
from node.cluster.state import SLOT_COUNT, NodeFlag
from node.commands import load
from node.config import Config
from node.engine.engine import Engine
from node.persistence.storage import MemoryStorage

START_MS: Final = 1_700_000_000_000
IP: Final = "127.0.0.1"
BASE_PORT: Final = 30001
CRON_MS: Final = 100
FAULTS: Final = ("drop", "reset", "partition", "oneway", "crash", "pause", "failover")
_NAME = re.compile(r"\b[0-9a-f]{40}\b")
_BAD_FLAGS: Final = NodeFlag.PFAIL | NodeFlag.FAIL | NodeFlag.HANDSHAKE | NodeFlag.NOADDR


@dataclass
class Options:
    """One run's settings (the seed decides everything else)."""

    seed: int = 1
    nodes: int = 6
    replicas: int = 1  # per master: 6 nodes, 1 replica -> 3 masters + 3 replicas
    duration_ms: int = 60_000  # the fault phase
    settle_ms: int = 30_000  # the liveness bound after the last heal
    node_timeout: int = 2000
    faults: tuple[str, ...] = FAULTS
    max_latency_ms: int = 20


@dataclass
class Result:
    """A run's outcome: the invariant it broke (none when ok) and its event trace."""

    seed: int
    violations: list[str]
    trace: list[str]
    failovers: int = 0
    settled_after_ms: int = -1

    @property
    def ok(self) -> bool:
        return not self.violations


class Violation(Exception):
    """An invariant broke: the run stops here."""


class SimNode:
    """One node process: its storage (nodes.conf) survives crashes, its engine does not."""

    def __init__(self, sim: Simulation, index: int) -> None:
        self.sim = sim
        self.index = index
        self.port = BASE_PORT + index
        self.storage = MemoryStorage()
        self.up = False
        self.paused_until = 0
        self.incarnation = 0
        self.deferred: list[Callable[[], object]] = []
        self.crash_mid_turn = False
        self.acks_seen = 0
        self.was_master = True
        self.master_name = ""
        self.engine: Engine
        self.cluster: Cluster
        self.bus: ClusterBus

    @property
    def cport(self) -> int:
        return self.port + 10000

    @property
    def running(self) -> bool:
        return self.up and self.paused_until <= self.sim.now

    @property
    def name(self) -> str:
        return self.cluster.state.myself.name

    def boot(self) -> None:
        """Start the process: a fresh engine that loads nodes.conf (or takes a new
        identity when there is none), as the server's start-up does."""
        sim = self.sim
        cfg = Config()
        for key, value in (
            ("cluster-enabled", "yes"),
            ("port", str(self.port)),
            ("cluster-node-timeout", str(sim.options.node_timeout)),
        ):
            cfg.apply(key, [value], startup=True)
        engine = Engine(
            cfg, load(), random.Random(sim.rng.getrandbits(64)), strict=True, log=self._log
        )
        engine.persistence.storage = self.storage
        engine.set_time(sim.now)
        cluster = engine.cluster
        assert cluster is not None
        self.engine, self.cluster = engine, cluster
        if not cluster.load_config():
            raise Violation(f"n{self.index} cannot load its nodes.conf")
        self.bus = ClusterBus(cluster)
        cluster.bus = self.bus
        self.bus.now = sim.now
        self.up = True
        self.incarnation += 1
        self.acks_seen = 0
        self.paused_until = 0
        self.deferred.clear()
        myself = cluster.state.myself
        self.was_master = myself.is_master
        self.master_name = myself.master.name if myself.master is not None else ""

    def _log(self, level: str, text: str) -> None:
        if level in ("warning", "notice"):
            self.sim.event(f"n{self.index}: {text}")

    def command(self, *args: str) -> bytes:
        client = self.engine.connect(IP, IP)
        assert client is not None
        self.engine.execute(client, [a.encode() for a in args])
        self.engine.disconnect(client)
        return b"".join(client.out)


@dataclass(eq=False)
class Pipe:
    """One direction of a connection: chunks (None = the close) in TCP order."""

    src: SimNode
    dst: SimNode
    far: Link | None  # the receiving end's link (None until it accepted)
    queue: deque[tuple[int, bytes | None]] = field(default_factory=deque)
    last_due: int = 0
    dead: bool = False


@dataclass(eq=False)
class Conn:
    a: SimNode  # the connecting side
    a_link: Link
    b: SimNode
    ab: Pipe
    ba: Pipe
    b_link: Link | None = None


class Simulation:
    """One seeded run."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.rng = random.Random(options.seed)
        self.now = START_MS
        self._queue: list[tuple[int, int, Callable[[], object]]] = []
        self._seq = 0
        self.trace: list[str] = []
        self.nodes = [SimNode(self, i) for i in range(options.nodes)]
        self.cuts: dict[tuple[int, int], int] = {}  # directed (src, dst) -> active cuts
        self.drop_rate = 0.0
        self._drop_windows = 0
        self._conns: dict[int, Conn] = {}  # id(link) -> its connection, both ends
        self._stalled: list[Pipe] = []
        self._votes: dict[str, int] = {}  # node name -> last epoch it voted in
        self._impaired: dict[str, list[list[int]]] = {}  # master name -> [start, end] runs
        self._manual: dict[str, int] = {}  # replica name -> when CLUSTER FAILOVER was sent
        self.failovers = 0
        self._aliases: dict[str, str] = {}
        for node in self.nodes:
            node.boot()
            self._aliases[node.name] = f"n{node.index}"

    # --- events -------------------------------------------------------------------------------
    def event(self, text: str) -> None:
        text = _NAME.sub(lambda m: self._aliases.get(m.group(0), m.group(0)[:8]), text)
        self.trace.append(f"{self.now - START_MS:>7} {text}")

    def at(self, when: int, action: Callable[[], object]) -> None:
        self._seq += 1
        heapq.heappush(self._queue, (when, self._seq, action))

    def run_until(self, until: int, check: Callable[[], bool] | None = None) -> bool:
        """Run events up to `until`; with `check`, stop (True) once it holds after an
        event batch at some ms."""
        while self._queue and self._queue[0][0] <= until:
            when, _, action = heapq.heappop(self._queue)
            self.now = when
            action()
            if check is not None and (not self._queue or self._queue[0][0] > when) and check():
                return True
        self.now = until
        return False

    def latency(self) -> int:
        return 1 + self.rng.randrange(self.options.max_latency_ms)

    def on_node(self, node: SimNode, action: Callable[[], object]) -> None:
        """Run `action` on `node` now (then its shell turn), or when its pause ends; never
        on a later incarnation of a crashed one."""
        incarnation = node.incarnation
        if not node.up:
            return
        if node.paused_until > self.now:
            node.deferred.append(lambda: incarnation == node.incarnation and action())
            return
        self._set_time(node)
        action()
        self.turn(node)

    def _set_time(self, node: SimNode) -> None:
        node.engine.set_time(self.now)
        node.bus.now = self.now

    # --- the shell ----------------------------------------------------------------------------
    def turn(self, node: SimNode) -> None:
        """node/io/bus.py's sync(): closes, connects, sends, then the turn's end."""
        if not node.up:
            return
        bus = node.bus
        while bus.closing:
            self._close_end(node, bus.closing.pop())
        while bus.connects:
            self._connect(node, bus.connects.pop(0))
        flushing, bus.flushing = bus.flushing, []
        for link in flushing:
            if not link.up or not link.out:
                continue  # connect in progress: connected() queues it again
            conn = self._conns.get(id(link))
            data = bytes(link.out)
            link.out.clear()
            if conn is not None:
                self._send(conn.ab if conn.a is node and conn.a_link is link else conn.ba, data)
        self._observe(node)
        if node.crash_mid_turn:
            self.crash(node)  # the sends left, the turn's nodes.conf save never happened
            return
        node.engine.before_sleep()
        self._observe(node)

    def _connect(self, node: SimNode, link: Link) -> None:
        assert link.node is not None
        link.peer_ip = link.node.ip or IP
        target = next((n for n in self.nodes if n.cport == link.node.cport), None)
        incarnation = node.incarnation

        def live() -> bool:
            return (
                node.incarnation == incarnation
                and node.up
                and link.node is not None
                and node.bus.outbound.get(link.node) is link
            )

        def refused() -> None:
            if live():
                node.bus.closed(link)

        def syn() -> None:
            if not live():
                return
            if target is None or not target.up:
                self.at(self.now + self.latency(), partial(self.on_node, node, refused))
                return
            if self.cut(node, target) or self.cut(target, node):
                return  # SYN or SYN-ACK lost: the connect hangs until the bus gives up
            conn = Conn(node, link, target, Pipe(node, target, None), Pipe(target, node, link))
            self._conns[id(link)] = conn
            conn.ab.last_due = conn.ba.last_due = self.now

            def accept() -> None:
                if conn.ab.dead:
                    return
                far = target.bus.accepted(IP, IP)
                conn.b_link = conn.ab.far = far
                self._conns[id(far)] = conn
                if not conn.ab.queue:
                    return
                self.at(self.now, partial(self._pump, conn.ab))

            def established() -> None:
                if live() and not conn.ba.dead:
                    node.bus.connected(link, IP)

            self.on_node(target, accept)  # the kernel accepts; a paused process later
            self.at(self.now + self.latency(), partial(self.on_node, node, established))

        self.at(self.now + self.latency(), syn)

    def _send(self, pipe: Pipe, data: bytes | None) -> None:
        if pipe.dead:
            return
        if data is not None and self.drop_rate and self.rng.random() < self.drop_rate:
            return
        due = max(self.now + self.latency(), pipe.last_due)
        pipe.last_due = due
        pipe.queue.append((due, data))
        if len(pipe.queue) == 1:
            self.at(due, partial(self._pump, pipe))

    def _pump(self, pipe: Pipe) -> None:
        dst = pipe.dst
        while pipe.queue:
            due, data = pipe.queue[0]
            if pipe.dead or not dst.up:
                pipe.queue.clear()
                return
            if due > self.now:
                self.at(due, partial(self._pump, pipe))
                return
            if pipe.far is None or dst.paused_until > self.now or self.cut(pipe.src, dst):
                if pipe not in self._stalled:
                    self._stalled.append(pipe)
                return
            pipe.queue.popleft()
            far = pipe.far
            self._set_time(dst)
            if data is None:
                pipe.dead = True
                self._conns.pop(id(far), None)
                dst.bus.closed(far)
            else:
                dst.bus.received(far, data)
            self.turn(dst)

    def _unstall(self) -> None:
        stalled, self._stalled = self._stalled, []
        for pipe in stalled:
            if pipe.queue:
                self.at(self.now + self.latency(), partial(self._pump, pipe))

    def _close_end(self, node: SimNode, link: Link) -> None:
        """The bus freed `link`: its socket closes, the peer sees a FIN after the data in
        flight; what the peer still sends is lost."""
        conn = self._conns.pop(id(link), None)
        if conn is None:
            return
        outgoing, incoming = (conn.ab, conn.ba) if conn.a is node else (conn.ba, conn.ab)
        self._send(outgoing, None)
        incoming.dead = True
        incoming.queue.clear()

    def cut(self, src: SimNode, dst: SimNode) -> bool:
        return self.cuts.get((src.index, dst.index), 0) > 0

    # --- observation ------------------------------------------------------------------------
    def _observe(self, node: SimNode) -> None:
        """Votes and promotions seen at the end of a node's turn."""
        state = node.cluster.state
        acks = state.stats_sent[MsgType.FAILOVER_AUTH_ACK]
        if acks != node.acks_seen:
            votes, node.acks_seen = acks - node.acks_seen, acks
            epoch = state.last_vote_epoch
            last = self._votes.get(node.name, -1)
            if votes > 1 or epoch <= last:
                raise Violation(
                    f"n{node.index} voted {votes} time(s) in epoch {epoch} "
                    f"(its previous vote: epoch {last})"
                )
            self._votes[node.name] = epoch
        myself = state.myself
        if myself.is_master and not node.was_master:
            self.failovers += 1
            self.event(
                f"n{node.index} promoted (config epoch {myself.config_epoch}, was a "
                f"replica of {self._aliases.get(node.master_name, '?')})"
            )
            self._check_justified(node, node.master_name)
        node.was_master = myself.is_master
        node.master_name = myself.master.name if myself.master is not None else ""

    def _check_justified(self, node: SimNode, master_name: str) -> None:
        """A replica took over: its master must have been cut off long enough lately."""
        nt = self.options.node_timeout
        if self.now - self._manual.get(node.name, -MF_TIMEOUT_MS) <= MF_TIMEOUT_MS:
            return
        for start, end in self._impaired.get(master_name, []):
            stop = self.now if end < 0 else end
            if stop - start >= nt // 2 and stop >= self.now - 6 * nt:
                return
        raise Violation(
            f"n{node.index} took over from "
            f"{self._aliases.get(master_name, master_name)} which no majority "
            f"of masters lost contact with for node_timeout/2 in the last "
            f"{6 * nt} ms (false failover)"
        )

    def _update_impairment(self) -> None:
        """Ground truth, after a fault changed and every 100 ms: which nodes a majority
        of the masters cannot talk to (or that are down, paused, or under message loss).
        The masters: those serving slots no master with a greater config epoch took over
        (one left behind in a partition still believes it is one)."""
        claims = [
            (
                n,
                n.cluster.state.myself.config_epoch,
                int.from_bytes(n.bus.bitmap(n.cluster.state.myself), "little"),
            )
            for n in self.nodes
            if n.up and n.cluster.state.myself.is_master and n.cluster.state.myself.numslots
        ]
        masters = [
            n
            for n, epoch, slots in claims
            if not any(e > epoch and s & slots for _, e, s in claims)
        ]
        quorum = len(masters) // 2 + 1
        for node in self.nodes:
            # Replicas too: one promoted while (or just after) it was cut off may carry
            # failure reports from that time into its new role, as in Redis.
            name = node.name
            others = [m for m in masters if m is not node]
            cut_off = sum(1 for m in others if self.cut(m, node) or self.cut(node, m))
            bad = (
                not node.up
                or node.paused_until > self.now
                or self.drop_rate > 0
                or cut_off >= min(quorum, len(others)) > 0
            )
            runs = self._impaired.setdefault(name, [])
            open_run = bool(runs) and runs[-1][1] < 0
            if bad and not open_run:
                runs.append([self.now, -1])
            elif not bad and open_run:
                runs[-1][1] = self.now

    # --- crons ----------------------------------------------------------------------------------
    def _cron(self, node: SimNode, incarnation: int) -> None:
        if node.incarnation != incarnation or not node.up:
            return
        self.at(self.now + CRON_MS, lambda: self._cron(node, incarnation))
        if node.paused_until > self.now:
            return
        self._set_time(node)
        self._replicate(node)
        node.cluster.cron()
        node.bus.cron()
        self.turn(node)

    def _replicate(self, node: SimNode) -> None:
        """The replication model: a master takes writes, a replica follows if it can."""
        myself = node.cluster.state.myself
        repl = node.engine.replication
        if myself.is_master:
            if myself.numslots and not node.cluster.mf_pause:
                repl.primary.offset += self.rng.randrange(2000)
            return
        master = myself.master
        source = next(
            (n for n in self.nodes if n.up and master is not None and n.name == master.name), None
        )
        if (
            source is None
            or source.paused_until > self.now
            or self.cut(source, node)
            or self.cut(node, source)
            or repl.cached is None
        ):
            return
        repl.cached.offset = source.cluster.my_offset()
        repl.down_since_ms = self.now

    def start_crons(self, node: SimNode) -> None:
        incarnation = node.incarnation
        self.at(self.now + 1 + self.rng.randrange(CRON_MS), lambda: self._cron(node, incarnation))

    # --- faults ---------------------------------------------------------------------------------
    def crash(self, node: SimNode) -> None:
        self.event(f"n{node.index} crashes" + (" before saving" if node.crash_mid_turn else ""))
        node.crash_mid_turn = False
        node.up = False
        node.incarnation += 1
        node.deferred.clear()
        for key, conn in list(self._conns.items()):
            if node not in (conn.a, conn.b):
                continue
            del self._conns[key]
            outgoing, incoming = (conn.ab, conn.ba) if conn.a is node else (conn.ba, conn.ab)
            self._send(outgoing, None)  # the kernel closes its sockets
            incoming.dead = True
            incoming.queue.clear()
        self._update_impairment()

    def restart(self, node: SimNode) -> None:
        node.boot()
        self.event(
            f"n{node.index} restarts from nodes.conf ("
            f"{'master' if node.was_master else 'replica'}, currentEpoch "
            f"{node.cluster.state.current_epoch})"
        )
        self.start_crons(node)
        self._update_impairment()

    def pause(self, node: SimNode, until: int) -> None:
        if not node.up or node.paused_until > self.now:
            return
        self.event(f"n{node.index} paused for {until - self.now} ms")
        node.paused_until = until
        self._update_impairment()

    def resume(self, node: SimNode, until: int) -> None:
        """The pause that ends at `until` ends (not one a crash cut short)."""
        if not node.up or node.paused_until != until:
            return
        self.event(f"n{node.index} resumes")
        node.paused_until = 0
        deferred, node.deferred = node.deferred, []
        self._set_time(node)
        for action in deferred:
            action()
        self.turn(node)
        self._unstall()
        self._update_impairment()

    def add_cuts(self, pairs: list[tuple[int, int]], delta: int) -> None:
        for pair in pairs:
            self.cuts[pair] = self.cuts.get(pair, 0) + delta
            if not self.cuts[pair]:
                del self.cuts[pair]
        if delta < 0:
            self._unstall()
        self._update_impairment()

    def reset_link(self) -> None:
        conns = list(dict.fromkeys(self._conns.values()))
        if not conns:
            return
        conn = self.rng.choice(conns)
        self.event(f"connection n{conn.a.index}->n{conn.b.index} reset")
        for key in [k for k, c in self._conns.items() if c is conn]:
            del self._conns[key]
        conn.ab.dead = conn.ba.dead = True
        conn.ab.queue.clear()
        conn.ba.queue.clear()
        for node, link in ((conn.a, conn.a_link), (conn.b, conn.b_link)):
            if link is not None:
                self.at(
                    self.now + self.latency(),
                    partial(self.on_node, node, partial(node.bus.closed, link)),
                )

    def set_drops(self, rate: float, delta: int) -> None:
        self._drop_windows += delta
        self.drop_rate = rate if self._drop_windows else 0.0
        self._update_impairment()

    def schedule_faults(self, start: int, end: int) -> None:
        """Random fault episodes, each healed before `end`; at most two at a time."""
        opts = self.options
        if not opts.faults:
            return
        nt = opts.node_timeout
        rng = self.rng
        t = start
        busy: list[int] = []  # end times of the episodes in progress
        while True:
            t += rng.randrange(nt // 2, 3 * nt)
            busy = [e for e in busy if e > t]
            if len(busy) >= 2:
                t = min(busy)
                continue
            length = rng.randrange(nt // 4, 4 * nt)
            if t + length >= end:
                return
            busy.append(t + length)
            self._episode(rng.choice(opts.faults), t, t + length)

    def _episode(self, kind: str, begin: int, finish: int) -> None:
        rng = self.rng
        n = len(self.nodes)
        victim = self.nodes[rng.randrange(n)]
        if kind == "crash":
            torn = rng.random() < 0.5

            def crash() -> None:
                if not victim.up:
                    return
                if torn:
                    victim.crash_mid_turn = True  # at its next turn, between send and save
                else:
                    self.crash(victim)

            def restart() -> None:
                if victim.crash_mid_turn:
                    self.crash(victim)
                if not victim.up:
                    self.restart(victim)

            self.at(begin, crash)
            self.at(finish, restart)
        elif kind == "pause":
            self.at(begin, partial(self.pause, victim, finish))
            self.at(finish, partial(self.resume, victim, finish))
        elif kind in ("partition", "oneway"):
            side = rng.sample(range(n), rng.randrange(1, n // 2 + 1))
            rest = [i for i in range(n) if i not in side]
            pairs = [(a, b) for a in side for b in rest]
            if kind == "oneway":
                if rng.random() < 0.5:
                    pairs = [(b, a) for a, b in pairs]
            else:
                pairs += [(b, a) for a, b in pairs]
            what = (
                f"one-way cut {sorted({a for a, _ in pairs})} -> {sorted({b for _, b in pairs})}"
                if kind == "oneway"
                else f"partition {sorted(side)} | {rest}"
            )

            def cut() -> None:
                self.event(what)
                self.add_cuts(pairs, 1)

            def heal() -> None:
                self.event(f"healed: {what}")
                self.add_cuts(pairs, -1)

            self.at(begin, cut)
            self.at(finish, heal)
        elif kind == "drop":
            rate = rng.choice((0.05, 0.2, 0.5))

            def drops() -> None:
                self.event(f"message loss {rate:.0%} starts")
                self.set_drops(rate, 1)

            def no_drops() -> None:
                self.event("message loss ends")
                self.set_drops(rate, -1)

            self.at(begin, drops)
            self.at(finish, no_drops)
        elif kind == "failover":
            force = rng.random() < 0.3

            def order() -> None:
                if not victim.running or not victim.cluster.state.myself.is_replica:
                    return
                self.event(f"CLUSTER FAILOVER{' FORCE' if force else ''} sent to n{victim.index}")
                self._manual[victim.name] = self.now
                self.on_node(
                    victim,
                    partial(victim.command, "CLUSTER", "FAILOVER", *(["FORCE"] if force else [])),
                )

            self.at(begin, order)
        elif kind == "reset":
            for moment in range(begin, finish, max(1, (finish - begin) // 5)):
                self.at(moment, self.reset_link)
        else:
            raise ValueError(f"unknown fault {kind!r}")

    # --- invariants -----------------------------------------------------------------------------
    def check_running(self) -> None:
        """Safety, any time: epochs and slot claims of the live masters."""
        claims: dict[int, SimNode] = {}
        for node in self.nodes:
            if not node.up:
                continue
            state = node.cluster.state
            myself = state.myself
            if state.current_epoch < myself.config_epoch:
                raise Violation(
                    f"n{node.index}: currentEpoch {state.current_epoch} < its "
                    f"configEpoch {myself.config_epoch}"
                )
            if not myself.is_master or not myself.numslots:
                continue
            other = claims.get(myself.config_epoch)
            if other is not None:
                mine = int.from_bytes(node.bus.bitmap(myself), "little")
                theirs = int.from_bytes(other.bus.bitmap(other.cluster.state.myself), "little")
                both = mine & theirs
                if both:
                    slot = (both & -both).bit_length() - 1
                    raise Violation(
                        f"n{other.index} and n{node.index} both claim slot {slot} "
                        f"with config epoch {myself.config_epoch}"
                    )
            claims[myself.config_epoch] = node

    def settled(self) -> str | None:
        """S-3 and health, after the heal: None when it holds, else what does not."""
        views = []
        for node in self.nodes:
            state = node.cluster.state
            if not state.ok:
                return f"n{node.index}: cluster_state fail"
            if len(state.nodes) != len(self.nodes):
                return f"n{node.index} knows {len(state.nodes)} nodes"
            for other in state.nodes.values():
                if other.flags & _BAD_FLAGS:
                    return f"n{node.index} flags {self._aliases.get(other.name)}: {other.flags!r}"
                if state.current_epoch < other.config_epoch:
                    return (
                        f"n{node.index}: currentEpoch {state.current_epoch} < configEpoch "
                        f"{other.config_epoch} of {self._aliases.get(other.name)}"
                    )
            owners = [o.name if o is not None else "" for o in state.slots]
            if "" in owners:
                return f"n{node.index}: slot {owners.index('')} unassigned"
            roles = sorted(
                (n.name, n.master.name if n.master is not None else "-")
                for n in state.nodes.values()
            )
            views.append((owners, roles, node))
        owners0, roles0, _ = views[0]
        for owners, roles, node in views[1:]:
            if owners != owners0:
                slot = next(s for s in range(SLOT_COUNT) if owners[s] != owners0[s])
                return (
                    f"n0 and n{node.index} disagree on slot {slot}: "
                    f"{self._aliases.get(owners0[slot])} vs {self._aliases.get(owners[slot])}"
                )
            if roles != roles0:
                return f"n0 and n{node.index} disagree on roles"
        by_name = {n.name: n for n in self.nodes}
        epochs: dict[int, str] = {}
        for name in dict.fromkeys(owners0):
            owner = by_name[name]
            myself = owner.cluster.state.myself
            if not myself.is_master:
                return f"{self._aliases.get(name)} owns slots but is a replica"
            if myself.config_epoch in epochs:
                return (
                    f"{epochs[myself.config_epoch]} and {self._aliases.get(name)} share "
                    f"config epoch {myself.config_epoch}"
                )
            epochs[myself.config_epoch] = self._aliases.get(name, name)
        for node in self.nodes:
            myself = node.cluster.state.myself
            if myself.is_replica and (myself.master is None or not myself.master.is_master):
                return f"n{node.index} is a replica of a replica"
        return None

    # --- a run ----------------------------------------------------------------------------------
    def form(self) -> None:
        """redis-cli --cluster create: slots and distinct config epochs on the masters,
        MEET, then CLUSTER REPLICATE once everyone knows everyone."""
        opts = self.options
        masters = max(1, opts.nodes // (1 + opts.replicas))
        step = SLOT_COUNT // masters
        for i in range(masters):
            last = SLOT_COUNT - 1 if i == masters - 1 else (i + 1) * step - 1
            node = self.nodes[i]
            assert node.command("CLUSTER", "ADDSLOTSRANGE", str(i * step), str(last)) == b"+OK\r\n"
            assert node.command("CLUSTER", "SET-CONFIG-EPOCH", str(i + 1)) == b"+OK\r\n"
        for node in self.nodes:
            node.engine.before_sleep()
            self.start_crons(node)
        for node in self.nodes[1:]:
            self.on_node(
                self.nodes[0], partial(self.nodes[0].command, "CLUSTER", "MEET", IP, str(node.port))
            )
        mesh = self.run_until(
            self.now + 30_000,
            lambda: all(
                len([m for m in n.cluster.state.nodes.values() if not m.in_handshake]) == opts.nodes
                for n in self.nodes
            ),
        )
        if not mesh:
            raise Violation("the cluster never formed a full mesh")
        for i in range(masters, opts.nodes):
            master = self.nodes[(i - masters) % masters]
            replica = self.nodes[i]
            self.on_node(replica, partial(self._replicate_cmd, replica, master))
        if not self.run_until(self.now + 60_000, lambda: self.settled() is None):
            raise Violation(f"the new cluster never settled: {self.settled()}")
        self.event("cluster formed")

    @staticmethod
    def _replicate_cmd(replica: SimNode, master: SimNode) -> None:
        reply = replica.command("CLUSTER", "REPLICATE", master.name)
        assert reply == b"+OK\r\n", reply

    def run(self) -> Result:
        opts = self.options
        violations: list[str] = []
        settled_after = -1
        try:
            self.form()
            start = self.now
            end = start + opts.duration_ms
            self.schedule_faults(start, end)
            self._check_loop(end)
            self.event("all faults healed")
            healed = self.now
            if not self.run_until(healed + opts.settle_ms, self._settled_and_safe):
                raise Violation(f"not settled {opts.settle_ms} ms after the heal: {self.settled()}")
            settled_after = self.now - healed
            self.event(f"settled after {settled_after} ms")
            self._check_loop(self.now + 3 * opts.node_timeout)
            problem = self.settled()
            if problem is not None:
                raise Violation(f"settled, then not any more: {problem}")
        except Violation as exc:
            violations.append(str(exc))
            self.event(f"VIOLATION: {exc}")
        return Result(opts.seed, violations, self.trace, self.failovers, settled_after)

    def _check_loop(self, until: int) -> None:
        while self.now < until:
            self.run_until(min(until, self.now + CRON_MS))
            self.check_running()
            self._update_impairment()

    def _settled_and_safe(self) -> bool:
        self.check_running()
        return self.settled() is None


def simulate(options: Options) -> Result:
    return Simulation(options).run()


# --- the command line (slotd-cluster simulate) ----------------------------------------------------
def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("simulate", help="seeded fault simulation of a whole cluster in-process")
    p.add_argument("--seed", type=int, help="replay this one seed (its full trace)")
    p.add_argument("--runs", type=int, default=10, help="seeds to run, from --first (10)")
    p.add_argument("--first", type=int, default=1, help="the first seed of --runs (1)")
    p.add_argument("--nodes", type=int, default=6)
    p.add_argument("--replicas", type=int, default=1, help="replicas per master (1)")
    p.add_argument(
        "--duration",
        type=int,
        default=60_000,
        metavar="MS",
        help="simulated ms of faults per run (60000)",
    )
    p.add_argument(
        "--settle",
        type=int,
        default=30_000,
        metavar="MS",
        help="how long the cluster may take to settle after the heal (30000)",
    )
    p.add_argument("--node-timeout", type=int, default=2000, metavar="MS")
    p.add_argument(
        "--faults",
        default=",".join(FAULTS),
        help=f"comma separated, or 'none' ({','.join(FAULTS)})",
    )
    p.add_argument(
        "--trace",
        type=int,
        default=40,
        metavar="LINES",
        help="trace lines printed for a failing seed (40)",
    )


def parse_faults(text: str) -> tuple[str, ...]:
    faults = tuple(f for f in text.split(",") if f and f != "none")
    unknown = [f for f in faults if f not in FAULTS]
    if unknown:
        raise ValueError(f"unknown fault(s) {', '.join(unknown)}; known: {', '.join(FAULTS)}")
    return faults


def main(args: argparse.Namespace, write: Callable[[str], object]) -> int:
    """Run the seeds; print every failing one (invariant and trace tail) and a summary. A
    single --seed prints its whole trace. 0 when every seed ran clean."""
    try:
        faults = parse_faults(args.faults)
    except ValueError as exc:
        write(f"[ERR] {exc}")
        return 1
    seeds = (
        [args.seed] if args.seed is not None else list(range(args.first, args.first + args.runs))
    )
    failed = 0
    for seed in seeds:
        result = simulate(
            Options(
                seed=seed,
                nodes=args.nodes,
                replicas=args.replicas,
                duration_ms=args.duration,
                settle_ms=args.settle,
                node_timeout=args.node_timeout,
                faults=faults,
            )
        )
        if args.seed is not None:
            for line in result.trace:
                write(line)
        if result.ok:
            write(
                f"seed {seed}: ok ({result.failovers} failovers, settled in "
                f"{result.settled_after_ms} ms)"
            )
            continue
        failed += 1
        write(f"seed {seed}: FAILED: {'; '.join(result.violations)}")
        if args.seed is None:
            for line in result.trace[-args.trace :]:
                write(f"    {line}")
            write(
                f"    replay: slotd-cluster simulate --seed {seed} --nodes {args.nodes} "
                f"--replicas {args.replicas} --duration {args.duration} --settle "
                f"{args.settle} --node-timeout {args.node_timeout} --faults {args.faults}"
            )
    write(f"{len(seeds) - failed} of {len(seeds)} seeds clean")
    return 1 if failed else 0
