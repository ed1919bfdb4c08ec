"""Replica failover for the cluster bus: elections, auth votes, manual failover and replica
migration (Redis's clusterHandleSlaveFailover, clusterSendFailoverAuthIfNeeded,
clusterHandleManualFailover, clusterHandleSlaveMigration).

Rules:
- Driven by the bus (node/cluster/bus.py) message by message and tick by tick, through the
  methods the bus contract names (auth_request, auth_ack, mfstart, observed, cron, mflags,
  manual_failover). It sends only through the bus (`FailoverBus`); winning an election goes
  through `Cluster.promote_myself`, which owns the replication side of a promotion.
- An election: a replica whose master is FAIL (or whose manual failover may start), with
  data recent enough, waits 500 ms + random(0..500) + rank * 1000 ms (rank: replicas of
  the same master with a better offset), takes epoch ++currentEpoch and asks every node for
  a vote; the masters serving slots vote, and a majority of them wins. An attempt expires
  after max(2 * node_timeout, 2000) ms; the next may start twice that after the first.
- A vote: one per epoch (lastVoteEpoch, in nodes.conf before the ack leaves, as the
  election's epoch is before its requests leave), none for the same master twice within
  2 * node_timeout, none when a claimed slot has an owner with a greater config epoch.
  A candidate counts each master's vote once, and only while its requests are out.
- Manual failover: the replica sends MFSTART, the master pauses writes and sends its
  offset with MF_PAUSED, the replica starts a FORCEACK election once it processed that
  much; FORCE skips the wait; it all ends after MF_TIMEOUT_MS.
- Time is the bus's event time, randomness the engine's seeded generator. Pure: no I/O
  but the storage port's nodes.conf save, no clocks.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Final, Protocol

from node.cluster.codec import MF_FORCEACK, MF_PAUSED, Header, Message, MsgType, bitmap_slots
from node.cluster.state import TODO_SAVE_CONFIG, TODO_UPDATE_STATE, NodeFlag

if TYPE_CHECKING:
    from node.cluster.manager import Cluster
    from node.cluster.state import ClusterNode

MF_TIMEOUT_MS: Final = 5000  # CLUSTER_MF_TIMEOUT
MF_PAUSE_MULT: Final = 2  # the master's pause outlives the failover (CLUSTER_MF_PAUSE_MULT)
MIGRATION_DELAY_MS: Final = 5000  # CLUSTER_SLAVE_MIGRATION_DELAY
RELOG_PERIOD_MS: Final = 10_000  # CLUSTER_CANT_FAILOVER_RELOG_PERIOD
_NOLOG_AFTER_FAIL_MS: Final = 5000  # no "unable to failover" log this soon after the FAIL

# Why the last election attempt could not proceed (clusterLogCantFailover's reasons).
CANT_NONE: Final = 0
CANT_DATA_AGE: Final = 1
CANT_WAITING_DELAY: Final = 2
CANT_EXPIRED: Final = 3
CANT_WAITING_VOTES: Final = 4
_CANT_TEXT: Final = {
    CANT_DATA_AGE: "Disconnected from master for longer than allowed. Please check the "
    "'cluster-replica-validity-factor' configuration option.",
    CANT_WAITING_DELAY: "Waiting the delay before I can start a new failover.",
    CANT_EXPIRED: "Failover attempt expired.",
    CANT_WAITING_VOTES: "Waiting for votes, but majority still not reached.",
}


class FailoverBus(Protocol):
    """What Failover needs of the bus (node/cluster/bus.py's ClusterBus provides it)."""

    @property
    def now(self) -> int:
        """Unix ms of the event being handled."""

    @property
    def rng(self) -> random.Random: ...

    def header(self, msg_type: MsgType, *, mflags: int = 0) -> Header:
        """The header describing myself now."""

    def send(self, node: ClusterNode, msg: Message) -> None:
        """Queue `msg` on the link to `node`, if there is one."""

    def broadcast(self, msg: Message, *, masters_only: bool = False) -> None:
        """`msg` to every node with a link (handshake nodes excepted)."""

    def broadcast_pong(self, local_replicas_only: bool = False) -> None:
        """A PONG to every node, or only to my master's replicas."""


class Failover:
    """One node's side of elections and votes, manual failover and replica migration."""

    def __init__(self, cluster: Cluster, bus: FailoverBus) -> None:
        self.cluster = cluster
        self.bus = bus
        # The election in progress (failover_auth_*): when it may start (0 = none yet),
        # votes received, whether the requests went out, my rank and the epoch asked for.
        self.auth_time = 0
        self.auth_count = 0
        self.auth_sent = False
        self.auth_rank = 0
        self.auth_epoch = 0
        self._voters: set[str] = set()  # who voted in this election: one vote each
        self.cant_reason = CANT_NONE
        self._cant_logged_ms = 0
        # The manual failover in progress (mf_*): its deadline (0 = none); on a replica,
        # the master it fails over, the master's paused offset (-1 = not known yet) and
        # whether the election may start; on a master, the replica that asked (writes are
        # paused under the "failover" purpose meanwhile).
        self.mf_end = 0
        self.mf_can_start = False
        self.mf_master: ClusterNode | None = None
        self.mf_master_offset = -1
        self.mf_replica: ClusterNode | None = None
        cluster.reset_manual_failover = self.reset_manual

    # --- helpers ------------------------------------------------------------------------------
    def _now(self) -> int:
        # A CLUSTER FAILOVER arrives between bus events: the engine's time is then newer.
        return max(self.bus.now, self.cluster.engine.now_ms)

    def _node_timeout(self) -> int:
        return self.cluster.engine.config.int("cluster-node-timeout")

    def _log(self, level: str, text: str) -> None:
        self.cluster.engine.log(level, text)

    def _save(self) -> None:
        """nodes.conf now, before a vote or a vote request leaves: the shell may write the
        links before the turn's own save, and a node that crashed must not come back able
        to vote twice in an epoch (or reuse the epoch it asked votes for). A failure is
        logged; the turn's end retries."""
        cluster = self.cluster
        error = cluster.save_config()
        if error is not None:
            self._log(
                "warning", f"Could not save the cluster config file {cluster.config_path}: {error}"
            )

    def rank(self) -> int:
        """clusterGetSlaveRank: replicas of my master that may fail over and processed
        more of its stream than I did."""
        myself = self.cluster.state.myself
        master = myself.master
        if master is None:
            return 0
        mine = self.cluster.my_offset()
        return sum(
            1
            for r in master.replicas
            if r is not myself and not r.flags & NodeFlag.NOFAILOVER and r.repl_offset > mine
        )

    def _data_age(self, now: int) -> int:
        """How long ago we heard from our master, in ms (a link down counts from when it
        went down; never connected counts from the epoch, as Redis)."""
        repl = self.cluster.engine.replication
        if repl.state == "connected" and repl.master is not None:
            return now - repl.last_io_ms
        return now - repl.down_since_ms

    def _cant_failover(self, reason: int, now: int) -> None:
        """clusterLogCantFailover: say why, once per reason every RELOG_PERIOD_MS, and not
        while the master's failure is recent (only a stalled replica is worth a log)."""
        if reason == self.cant_reason and now - self._cant_logged_ms < RELOG_PERIOD_MS:
            return
        self.cant_reason = reason
        master = self.cluster.state.myself.master
        if (
            master is not None
            and master.failed
            and now - master.fail_time < self._node_timeout() + _NOLOG_AFTER_FAIL_MS
        ):
            return
        self._cant_logged_ms = now
        self._log("warning", f"Currently unable to failover: {_CANT_TEXT[reason]}")

    # --- the election ---------------------------------------------------------------------------
    def handle_failover(self) -> None:
        """clusterHandleSlaveFailover: schedule, run and conclude my election."""
        cluster = self.cluster
        config = cluster.engine.config
        state = cluster.state
        myself = state.myself
        master = myself.master
        now = self._now()
        node_timeout = self._node_timeout()
        auth_age = now - self.auth_time
        needed_quorum = state.size // 2 + 1
        manual = self.mf_end != 0 and self.mf_can_start
        auth_timeout = max(node_timeout * 2, 2000)
        auth_retry_time = auth_timeout * 2
        if (
            myself.is_master
            or master is None
            or (not master.failed and not manual)
            or (config.bool("cluster-replica-no-failover") and not manual)
            or master.numslots == 0
        ):
            self.cant_reason = CANT_NONE
            return
        data_age = self._data_age(now)
        # Being cut off from the master for the time it took to flag it FAIL is expected.
        if data_age > node_timeout:
            data_age -= node_timeout
        factor = config.int("cluster-replica-validity-factor")
        if (
            factor
            and data_age > config.int("repl-ping-replica-period") * 1000 + node_timeout * factor
            and not manual
        ):
            self._cant_failover(CANT_DATA_AGE, now)
            return
        if auth_age > auth_retry_time:
            # A new attempt: the fixed delay lets the FAIL propagate, the random one
            # spreads the replicas, the rank favours the most up-to-date ones.
            self.auth_time = now + 500 + self.bus.rng.randrange(500)
            self.auth_count = 0
            self._voters.clear()
            self.auth_sent = False
            self.auth_rank = self.rank()
            self.auth_time += self.auth_rank * 1000
            if self.mf_end:
                self.auth_time = now
                self.auth_rank = 0
            self._log(
                "warning",
                f"Start of election delayed for {self.auth_time - now} "
                f"milliseconds (rank #{self.auth_rank}, offset "
                f"{self.cluster.my_offset()}).",
            )
            # The other replicas learn my offset, and may rank themselves after me.
            self.bus.broadcast_pong(local_replicas_only=True)
            if not self.mf_end:
                return
            auth_age = 0
        if not self.auth_sent and not self.mf_end:
            new_rank = self.rank()
            if new_rank > self.auth_rank:
                added = (new_rank - self.auth_rank) * 1000
                self.auth_time += added
                self.auth_rank = new_rank
                self._log(
                    "warning",
                    f"Replica rank updated to #{new_rank}, added {added} milliseconds of delay.",
                )
        if now < self.auth_time:
            self._cant_failover(CANT_WAITING_DELAY, now)
            return
        if auth_age > auth_timeout:
            self._cant_failover(CANT_EXPIRED, now)
            return
        if not self.auth_sent:
            state.current_epoch += 1
            self.auth_epoch = state.current_epoch
            self._log("warning", f"Starting a failover election for epoch {self.auth_epoch}.")
            state.todo |= TODO_UPDATE_STATE
            self._save()
            self._request_votes()
            self.auth_sent = True
            return
        if self.auth_count >= needed_quorum:
            self._log("warning", "Failover election won: I'm the new master.")
            if myself.config_epoch < self.auth_epoch:
                myself.config_epoch = self.auth_epoch
                self._log(
                    "warning", f"configEpoch set to {myself.config_epoch} after successful failover"
                )
            cluster.promote_myself()
            self.reset_manual()
        else:
            self._cant_failover(CANT_WAITING_VOTES, now)

    def _request_votes(self) -> None:
        """clusterRequestFailoverAuth: ask everyone (only masters with slots answer); a
        manual failover asks them to vote although my master is up."""
        mflags = MF_FORCEACK if self.mf_end else 0
        header = self.bus.header(MsgType.FAILOVER_AUTH_REQUEST, mflags=mflags)
        header.mflags |= mflags
        self.bus.broadcast(Message(header))

    def auth_ack(self, sender: ClusterNode, msg: Message) -> None:
        """A vote: it counts if a master serving slots cast it for this election's epoch
        (or a later one) while its requests are out, once per master (a duplicate, or a
        late ack arriving before the next attempt asked, adds nothing: Redis counts those);
        a possible quorum is checked at once."""
        if (
            sender.is_master
            and sender.numslots > 0
            and self.auth_sent
            and msg.header.current_epoch >= self.auth_epoch
            and sender.name not in self._voters
        ):
            self._voters.add(sender.name)
            self.auth_count += 1
            if self.auth_count >= self.cluster.state.size // 2 + 1:
                self.handle_failover()

    # --- votes ----------------------------------------------------------------------------------
    def auth_request(self, sender: ClusterNode, msg: Message) -> None:
        """clusterSendFailoverAuthIfNeeded: vote for `sender` if a master serving slots may."""
        state = self.cluster.state
        myself = state.myself
        if myself.is_replica or myself.numslots == 0:
            return
        header = msg.header
        name = sender.name
        # The bus raises currentEpoch from the header before this; kept here too so a vote
        # is never recorded under a stale epoch.
        if header.current_epoch > state.current_epoch:
            state.current_epoch = header.current_epoch
            state.todo |= TODO_SAVE_CONFIG
        current = state.current_epoch
        if header.current_epoch < current:
            self._log(
                "warning",
                f"Failover auth denied to {name}: reqEpoch "
                f"({header.current_epoch}) < curEpoch({current})",
            )
            return
        if state.last_vote_epoch == current:
            self._log(
                "warning", f"Failover auth denied to {name}: already voted for epoch {current}"
            )
            return
        master = sender.master
        if (
            sender.is_master
            or master is None
            or (not master.failed and not header.mflags & MF_FORCEACK)
        ):
            why = (
                "it is a master node"
                if sender.is_master
                else "I don't know its master"
                if master is None
                else "its master is up"
            )
            self._log("warning", f"Failover auth denied to {name}: {why}")
            return
        now = self._now()
        cooldown = self._node_timeout() * 2
        if now - master.voted_time < cooldown:
            self._log(
                "warning",
                f"Failover auth denied to {name}: can't vote about this "
                f"master before {cooldown - (now - master.voted_time)} "
                f"milliseconds",
            )
            return
        for slot in bitmap_slots(header.slots):
            owner = state.slots[slot]
            if owner is None or owner.config_epoch <= header.config_epoch:
                continue
            self._log(
                "warning",
                f"Failover auth denied to {name}: slot {slot} epoch "
                f"({owner.config_epoch}) > reqEpoch ({header.config_epoch})",
            )
            return
        state.last_vote_epoch = current
        master.voted_time = now
        self._save()
        self.bus.send(sender, Message(self.bus.header(MsgType.FAILOVER_AUTH_ACK)))
        self._log("warning", f"Failover auth granted to {name} for epoch {current}")

    # --- manual failover ------------------------------------------------------------------------
    def manual_failover(self, mode: str) -> None:
        """CLUSTER FAILOVER [FORCE] on this replica (the command checked and logged it)."""
        myself = self.cluster.state.myself
        self.reset_manual()
        self.mf_end = self._now() + MF_TIMEOUT_MS
        self.mf_master = myself.master
        if mode == "force":
            # No agreement on the offset with a master that may be gone.
            self.mf_can_start = True
            self.handle_failover()
        elif myself.master is not None:
            self.bus.send(myself.master, Message(self.bus.header(MsgType.MFSTART)))

    def mfstart(self, sender: ClusterNode, msg: Message) -> None:
        """One of my replicas asks to take over: pause writes, and tell it where my stream
        stands (it waits to have processed that much)."""
        myself = self.cluster.state.myself
        if not myself.is_master or sender.master is not myself:
            return
        self.reset_manual()
        now = self._now()
        self.mf_end = now + MF_TIMEOUT_MS
        self.mf_replica = sender
        engine = self.cluster.engine
        engine.observer.pause_clients(
            now + MF_TIMEOUT_MS * MF_PAUSE_MULT, pause_all=False, purpose="failover"
        )
        self.cluster.mf_pause = True
        self._log("warning", f"Manual failover requested by replica {sender.name}.")
        self._ping_replica()

    def _ping_replica(self) -> None:
        replica = self.mf_replica
        if replica is not None:
            header = self.bus.header(MsgType.PING, mflags=MF_PAUSED)
            header.mflags |= MF_PAUSED
            self.bus.send(replica, Message(header))

    def mflags(self) -> int:
        """MF_PAUSED while I am a master whose writes a manual failover paused."""
        return MF_PAUSED if self.mf_end and self.cluster.state.myself.is_master else 0

    def observed(self, sender: ClusterNode, msg: Message) -> None:
        """A PING/PONG: the sender's offset; a paused master's offset starts the catch-up
        of my manual failover."""
        header = msg.header
        sender.repl_offset = header.offset
        myself = self.cluster.state.myself
        if (
            self.mf_end
            and myself.is_replica
            and myself.master is sender
            and header.mflags & MF_PAUSED
            and self.mf_master_offset == -1
        ):
            self.mf_master_offset = header.offset
            self._log(
                "warning",
                f"Received replication offset for paused master manual failover: {header.offset}",
            )
            self.handle_manual()

    def handle_manual(self) -> None:
        """clusterHandleManualFailover: the election may start once my processed offset
        is the paused master's."""
        if not self.mf_end or self.mf_can_start or self.mf_master_offset == -1:
            return
        if self.mf_master_offset == self.cluster.my_offset():
            self.mf_can_start = True
            self._log(
                "warning", "All master replication stream processed, manual failover can start."
            )
            self.handle_failover()

    def reset_manual(self) -> None:
        """resetManualFailover: a master lifts the pause it set for it."""
        if self.mf_replica is not None or self.cluster.mf_pause:
            # Only the failover's own pause: a CLIENT PAUSE stays.
            self.cluster.engine.observer.end_pause("failover")
            self.cluster.mf_pause = False
        self.mf_end = 0
        self.mf_can_start = False
        self.mf_master = None
        self.mf_master_offset = -1
        self.mf_replica = None

    # --- the cron -------------------------------------------------------------------------------
    def cron(self) -> None:
        """The failover part of clusterCron, after failure detection."""
        cluster = self.cluster
        state = cluster.state
        myself = state.myself
        now = self._now()
        if self.mf_end:
            if myself.is_master and self.mf_replica is not None:
                if self.mf_replica.master is not myself:
                    self.reset_manual()  # it was promoted meanwhile: writes resume
                elif self.mf_replica.link:
                    self._ping_replica()
            elif myself.is_master or myself.master is not self.mf_master:
                self.reset_manual()  # my role changed under it (clusterSetMaster resets)
        master = myself.master
        repl = cluster.engine.replication
        if (
            myself.is_replica
            and repl.master_host is None
            and master is not None
            and not master.flags & NodeFlag.NOADDR
            and master.ip
        ):
            # A replica per nodes.conf whose replication is off (start-up): follow it.
            repl.set_master(master.ip, master.port)
        if self.mf_end and self.mf_end < now:
            self._log("warning", "Manual failover timed out.")
            self.reset_manual()
        if myself.is_replica:
            self.handle_manual()
            self.handle_failover()
            self._maybe_migrate(now)

    # --- replica migration ----------------------------------------------------------------------
    def _maybe_migrate(self, now: int) -> None:
        """clusterHandleSlaveMigration, when some master is orphaned and mine is among those
        with the most working replicas (at least two)."""
        state = self.cluster.state
        myself = state.myself
        mymaster = myself.master
        if mymaster is None or not self.cluster.engine.config.bool(
            "cluster-allow-replica-migration"
        ):
            return
        orphaned = False
        max_replicas = 0
        for node in state.nodes.values():
            if (
                node.flags & (NodeFlag.MYSELF | NodeFlag.NOADDR | NodeFlag.HANDSHAKE)
                or not node.is_master
                or node.failed
            ):
                continue
            ok = _working_replicas(node)
            if ok == 0 and node.numslots > 0 and node.flags & NodeFlag.MIGRATE_TO:
                orphaned = True
            max_replicas = max(max_replicas, ok)
        mine = _working_replicas(mymaster) if not mymaster.failed else 0
        if not orphaned or max_replicas < 2 or mine != max_replicas:
            return
        if not state.ok:
            return
        ok_here = sum(
            1 for r in mymaster.replicas if not r.flags & (NodeFlag.FAIL | NodeFlag.PFAIL)
        )
        if ok_here <= self.cluster.engine.config.int("cluster-migration-barrier"):
            return
        # The candidate: the smallest name among the replicas of the masters with the
        # most working replicas (myself if none is smaller). Orphaned since: tracked.
        target: ClusterNode | None = None
        candidate = myself
        for node in state.nodes.values():
            ok = _working_replicas(node) if node.is_master else 0
            is_orphaned = (
                node.is_master
                and not node.failed
                and bool(node.flags & NodeFlag.MIGRATE_TO)
                and ok == 0
            )
            if is_orphaned:
                if target is None and node.numslots > 0:
                    target = node
                if not node.orphaned_time:
                    node.orphaned_time = now
            else:
                node.orphaned_time = 0
            if ok == max_replicas:
                for replica in node.replicas:
                    if replica.name < candidate.name:
                        candidate = replica
        if (
            target is not None
            and candidate is myself
            and now - target.orphaned_time > MIGRATION_DELAY_MS
        ):
            self._log("warning", f"Migrating to orphaned master {target.name}")
            self.cluster.set_master(target)


def _working_replicas(node: ClusterNode) -> int:
    """clusterCountNonFailingSlaves."""
    return sum(1 for r in node.replicas if not r.failed)
