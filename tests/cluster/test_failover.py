"""Failover driven message by message: elections (rank, delay, quorum, expiry), votes (one
per epoch and the refusals), manual failover (MFSTART, pause, offset catch-up, FORCE,
timeout), TAKEOVER, replica migration and demotion. The bus is a recording stand-in
with the contract's methods; time moves only when a test advances it."""

from __future__ import annotations

import random

from node.cluster.codec import (
    MF_FORCEACK,
    MF_PAUSED,
    Header,
    Message,
    MsgType,
    slot_bitmap,
)
from node.cluster.failover import MF_TIMEOUT_MS, Failover
from node.cluster.manager import Cluster
from node.cluster.state import (
    SLOT_COUNT,
    ClusterNode,
    ClusterState,
    NodeFlag,
)
from tests.cluster.busnet import BusNet
from tests.cluster.support import cluster_harness, cluster_of, settle
from tests.support import Harness

M = "a" * 40  # my master (or, on a master, a failed master)
B = "b" * 40
C = "c" * 40
R = "d" * 40  # another replica of M
R2 = "e" * 40
TIMEOUT = 2000


class FakeBus:
    """The bus contract, recording what Failover sends."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.failover = Failover(cluster, self)
        self.sent: list[tuple[ClusterNode, Message]] = []
        self.broadcasts: list[Message] = []
        self.pongs: list[bool] = []

    @property
    def now(self) -> int:
        return self.cluster.engine.now_ms

    @property
    def rng(self) -> random.Random:
        return self.cluster.engine.rng

    def header(self, msg_type: MsgType, *, mflags: int = 0) -> Header:
        state = self.cluster.state
        me = state.myself
        owner = me.master if me.is_replica and me.master is not None else me
        return Header(
            msg_type,
            me.name,
            state.current_epoch,
            me.epoch(),
            self.cluster.my_offset(),
            bytes(_bitmap(state, owner)),
            me.master.name if me.master else None,
            me.ip,
            me.port,
            me.cport,
            0,
            int(me.flags),
            state.ok,
            mflags | self.failover.mflags(),
        )

    def send(self, node: ClusterNode, msg: Message) -> None:
        self.sent.append((node, msg))

    def broadcast(self, msg: Message, *, masters_only: bool = False) -> None:
        self.broadcasts.append(msg)

    def broadcast_pong(self, local_replicas_only: bool = False) -> None:
        self.pongs.append(local_replicas_only)

    def manual_failover(self, mode: str) -> None:
        self.failover.manual_failover(mode)

    def links(self) -> list[dict[bytes, object]]:
        return []

    def publish(self, channel: bytes, message: bytes, *, shard: bool = False) -> None:
        pass

    def links_memory(self) -> int:
        return 0


def _bitmap(state: ClusterState, owner: ClusterNode) -> bytearray:
    return slot_bitmap([n is owner for n in state.slots])


def node(
    h: Harness,
    name: str,
    flags: NodeFlag = NodeFlag.MASTER,
    master: ClusterNode | None = None,
    port: int = 7001,
) -> ClusterNode:
    n = ClusterNode(
        name, flags, h.engine.now_ms, ip="127.0.0.1", port=port, cport=port + 10000, link=True
    )
    state = cluster_of(h).state
    state.add_node(n)
    if master is not None:
        state.set_replica_of(n, master)
    return n


def slots(h: Harness, owner: ClusterNode, first: int, last: int) -> None:
    for slot in range(first, last + 1):
        cluster_of(h).state.set_slot_owner(slot, owner)


def request(
    sender: ClusterNode,
    epoch: int,
    config_epoch: int,
    claimed: ClusterNode | None,
    state: ClusterState,
    mflags: int = 0,
    kind: MsgType = MsgType.FAILOVER_AUTH_REQUEST,
    offset: int = 0,
) -> Message:
    bitmap = _bitmap(state, claimed) if claimed is not None else slot_bitmap()
    return Message(
        Header(
            kind,
            sender.name,
            epoch,
            config_epoch,
            offset,
            bytes(bitmap),
            sender.master.name if sender.master else None,
            "127.0.0.1",
            sender.port,
            sender.cport,
            0,
            int(sender.flags),
            True,
            mflags,
        )
    )


class Setup:
    """Three masters M, B, C owning a third of the slots each; myself a replica of M (or a
    master owning B's place), R another replica of M."""

    def __init__(self, *, replica: bool = True, **config: str) -> None:
        self.h = h = cluster_harness(all_slots=False, cluster_node_timeout=str(TIMEOUT))
        for name, value in config.items():
            assert h("CONFIG", "SET", name.replace("_", "-"), value) == b"OK"
        self.logs: list[str] = []
        h.engine.log = lambda level, text: self.logs.append(text)
        self.cluster = cluster = cluster_of(h)
        self.bus = FakeBus(cluster)
        cluster.bus = self.bus
        self.failover = self.bus.failover
        state = self.state = cluster.state
        self.m = node(h, M, port=7000)
        self.c = node(h, C, port=7002)
        if replica:
            self.b = node(h, B, port=7001)
            slots(h, self.b, 5461, 10922)
            self.me = state.myself
            cluster.set_master(self.m)
        else:
            self.me = self.b = state.myself
            slots(h, self.b, 5461, 10922)
        slots(h, self.m, 0, 5460)
        slots(h, self.c, 10923, SLOT_COUNT - 1)
        self.m.config_epoch, self.b.config_epoch, self.c.config_epoch = 1, 2, 3
        state.current_epoch = 3
        self.r = node(h, R, NodeFlag.SLAVE, self.m, port=7003)
        settle(h)
        h.engine.replication.down_since_ms = h.engine.now_ms  # lost the master just now

    def fail_master(self) -> None:
        self.m.flags |= NodeFlag.FAIL
        self.m.fail_time = self.h.engine.now_ms

    def step(self, ms: int) -> None:
        self.h.advance(ms)
        self.failover.cron()

    def requests(self) -> list[Message]:
        return [m for m in self.bus.broadcasts if m.type == MsgType.FAILOVER_AUTH_REQUEST]

    def ack(self, voter: ClusterNode, epoch: int) -> None:
        self.failover.auth_ack(
            voter,
            request(
                voter, epoch, voter.config_epoch, voter, self.state, kind=MsgType.FAILOVER_AUTH_ACK
            ),
        )

    def acks_to(self, target: ClusterNode) -> list[Message]:
        return [m for n, m in self.bus.sent if n is target and m.type == MsgType.FAILOVER_AUTH_ACK]


# --- the election -------------------------------------------------------------------------------
def test_no_election_while_the_master_is_up() -> None:
    s = Setup()
    for _ in range(50):
        s.step(100)
    assert not s.requests() and s.failover.auth_time == 0


def test_election_delay_rank_and_won_with_a_majority() -> None:
    s = Setup()
    s.r.repl_offset = 100  # R processed more than I did: I rank after it
    s.fail_master()
    s.step(100)
    assert s.failover.auth_rank == 1
    delay = s.failover.auth_time - s.h.engine.now_ms
    assert 1500 <= delay < 2000
    assert s.logs[-1] == f"Start of election delayed for {delay} milliseconds (rank #1, offset 0)."
    assert s.bus.pongs == [True]  # my offset to the other replicas
    s.step(delay - 100)
    assert not s.requests()
    s.step(100)
    (req,) = s.requests()
    assert req.header.current_epoch == 4 and s.state.current_epoch == 4
    assert not req.header.mflags & MF_FORCEACK
    assert req.header.config_epoch == 1  # my master's
    assert s.logs[-1] == "Starting a failover election for epoch 4."
    text = s.h.engine.persistence.storage.files["./nodes.conf"]  # type: ignore[attr-defined]
    assert b"vars currentEpoch 4 " in text  # saved before the requests left
    # The quorum is 2 of the 3 masters serving slots.
    s.ack(s.b, 4)
    assert s.me.is_replica
    s.ack(s.r, 4)  # a replica's vote does not count
    s.ack(s.c, 3)  # nor one for an older epoch
    assert s.me.is_replica and s.failover.auth_count == 1
    s.ack(s.c, 4)
    assert s.me.is_master and s.me.master is None
    assert s.me.config_epoch == 4
    assert s.state.slots[0] is s.me and s.state.slots[5460] is s.me and s.me.numslots == 5461
    assert s.m.numslots == 0 and s.me not in s.m.replicas
    assert s.h.engine.replication.master_host is None
    assert s.bus.pongs[-1] is False  # everyone told
    assert "Failover election won: I'm the new master." in s.logs
    assert "configEpoch set to 4 after successful failover" in s.logs
    # Saved before anyone was told (no event-loop turn ended yet).
    text = s.h.engine.persistence.storage.files["./nodes.conf"]  # type: ignore[attr-defined]
    assert b"myself,master" in text and b"vars currentEpoch 4 " in text


def test_rank_grows_when_a_better_offset_arrives_before_the_request() -> None:
    s = Setup()
    s.fail_master()
    s.step(100)
    assert s.failover.auth_rank == 0
    at = s.failover.auth_time
    s.r.repl_offset = 50
    s.step(100)
    assert s.failover.auth_rank == 1 and s.failover.auth_time == at + 1000
    assert s.logs[-1] == "Replica rank updated to #1, added 1000 milliseconds of delay."


def test_a_nofailover_replica_does_not_outrank_me() -> None:
    s = Setup()
    s.r.repl_offset = 100
    s.r.flags |= NodeFlag.NOFAILOVER
    assert s.failover.rank() == 0


def test_an_election_expires_and_is_retried_with_a_new_epoch() -> None:
    s = Setup()
    s.fail_master()
    s.step(100)
    s.step(s.failover.auth_time - s.h.engine.now_ms)
    assert len(s.requests()) == 1 and s.state.current_epoch == 4
    s.ack(s.b, 4)
    started = s.failover.auth_time
    s.h.advance(started + 2 * TIMEOUT + 1 - s.h.engine.now_ms)  # auth timeout: 4000 ms
    s.failover.cron()
    assert s.me.is_replica and len(s.requests()) == 1
    s.h.advance(started + 4 * TIMEOUT + 1 - s.h.engine.now_ms)  # retry time: twice that
    s.failover.cron()
    assert s.failover.auth_count == 0 and not s.failover.auth_sent
    s.step(s.failover.auth_time - s.h.engine.now_ms)
    assert len(s.requests()) == 2 and s.requests()[1].header.current_epoch == 5


def test_stale_data_keeps_a_replica_out_of_the_election() -> None:
    s = Setup()
    # Down for node_timeout + repl-ping-replica-period (10 s) + 10 x node_timeout, and more.
    s.h.engine.replication.down_since_ms = s.h.engine.now_ms - (
        TIMEOUT + 10_000 + 10 * TIMEOUT + 1000
    )
    s.fail_master()
    s.step(100)
    assert s.failover.auth_time == 0
    s.h.advance(TIMEOUT + 5000)  # the log waits for the failure to be old
    s.failover.cron()
    assert s.logs[-1] == (
        "Currently unable to failover: Disconnected from master for longer "
        "than allowed. Please check the 'cluster-replica-validity-factor' "
        "configuration option."
    )
    assert s.h("CONFIG", "SET", "cluster-replica-validity-factor", "0") == b"OK"  # no limit
    s.step(100)
    assert s.failover.auth_time != 0


def test_replica_no_failover_stops_automatic_elections_only() -> None:
    s = Setup(cluster_replica_no_failover="yes")
    s.fail_master()
    for _ in range(30):
        s.step(100)
    assert not s.requests()
    s.bus.manual_failover("force")
    (req,) = s.requests()
    assert req.header.mflags & MF_FORCEACK


def test_a_master_without_slots_has_no_election() -> None:
    s = Setup()
    for slot in range(5461):
        s.state.del_slot(slot)
    s.fail_master()
    for _ in range(30):
        s.step(100)
    assert not s.requests()


# --- votes -----------------------------------------------------------------------------------------
def vote_setup() -> Setup:
    """Myself a master (B's place); M failed with replicas R and R2."""
    s = Setup(replica=False)
    s.r2 = node(s.h, R2, NodeFlag.SLAVE, s.m, port=7004)  # type: ignore[attr-defined]
    s.fail_master()
    return s


def test_a_vote_is_granted_once_per_epoch_and_saved() -> None:
    s = vote_setup()
    s.failover.auth_request(s.r, request(s.r, 4, 1, s.m, s.state))
    (ack,) = s.acks_to(s.r)
    assert ack.header.current_epoch == 4 and ack.header.sender == s.me.name
    assert s.state.last_vote_epoch == 4 and s.m.voted_time == s.h.engine.now_ms
    assert s.logs[-1] == f"Failover auth granted to {R} for epoch 4"
    # Saved before the ack left (no event-loop turn ended yet).
    text = s.h.engine.persistence.storage.files["./nodes.conf"]  # type: ignore[attr-defined]
    assert b"vars currentEpoch 4 lastVoteEpoch 4\n" in text
    r2 = s.r2  # type: ignore[attr-defined]
    s.failover.auth_request(r2, request(r2, 4, 1, s.m, s.state))
    assert not s.acks_to(r2)
    assert s.logs[-1] == f"Failover auth denied to {R2}: already voted for epoch 4"


def test_a_request_for_an_old_epoch_is_refused() -> None:
    s = vote_setup()
    s.failover.auth_request(s.r, request(s.r, 2, 1, s.m, s.state))
    assert not s.acks_to(s.r)
    assert s.logs[-1] == f"Failover auth denied to {R}: reqEpoch (2) < curEpoch(3)"


def test_no_vote_for_a_master_nor_for_a_replica_of_a_master_that_is_up() -> None:
    s = vote_setup()
    s.failover.auth_request(s.c, request(s.c, 4, 3, s.c, s.state))
    assert s.logs[-1] == f"Failover auth denied to {C}: it is a master node"
    s.m.flags &= ~NodeFlag.FAIL
    s.failover.auth_request(s.r, request(s.r, 4, 1, s.m, s.state))
    assert s.logs[-1] == f"Failover auth denied to {R}: its master is up"
    orphan = node(s.h, "f" * 40, NodeFlag.SLAVE, port=7009)
    s.failover.auth_request(orphan, request(orphan, 4, 0, None, s.state))
    assert s.logs[-1] == f"Failover auth denied to {'f' * 40}: I don't know its master"
    assert not s.bus.sent
    # A manual failover's request (FORCEACK) is granted although the master is up.
    s.failover.auth_request(s.r, request(s.r, 4, 1, s.m, s.state, mflags=MF_FORCEACK))
    assert len(s.acks_to(s.r)) == 1


def test_one_vote_per_master_within_twice_the_node_timeout() -> None:
    s = vote_setup()
    s.failover.auth_request(s.r, request(s.r, 4, 1, s.m, s.state))
    s.h.advance(1000)
    r2 = s.r2  # type: ignore[attr-defined]
    s.failover.auth_request(r2, request(r2, 5, 1, s.m, s.state))
    assert not s.acks_to(r2)
    assert s.logs[-1] == (
        f"Failover auth denied to {R2}: can't vote about this master before 3000 milliseconds"
    )
    s.h.advance(3000)
    s.failover.auth_request(r2, request(r2, 6, 1, s.m, s.state))
    assert len(s.acks_to(r2)) == 1 and s.state.last_vote_epoch == 6


def test_no_vote_when_a_claimed_slot_has_a_newer_owner() -> None:
    s = vote_setup()
    s.state.set_slot_owner(100, s.c)  # C took slot 100 with config epoch 3 > 1
    claimed = slot_bitmap([slot <= 5460 for slot in range(SLOT_COUNT)])
    msg = request(s.r, 4, 1, None, s.state)
    msg.header.slots = bytes(claimed)
    s.failover.auth_request(s.r, msg)
    assert not s.acks_to(s.r)
    assert s.logs[-1] == f"Failover auth denied to {R}: slot 100 epoch (3) > reqEpoch (1)"


def test_only_masters_serving_slots_vote() -> None:
    s = Setup()  # myself a replica
    s.fail_master()
    s.failover.auth_request(s.r, request(s.r, 4, 1, s.m, s.state))
    assert not s.bus.sent and s.state.last_vote_epoch == 0
    s2 = vote_setup()
    for slot in range(5461, 10923):
        s2.state.del_slot(slot)
    s2.failover.auth_request(s2.r, request(s2.r, 4, 1, s2.m, s2.state))
    assert not s2.bus.sent and s2.state.last_vote_epoch == 0


# --- manual failover --------------------------------------------------------------------------------
def test_manual_failover_master_side_pauses_writes_and_sends_its_offset() -> None:
    s = Setup(replica=False)
    mine = node(s.h, R2, NodeFlag.SLAVE, s.me, port=7004)
    s.failover.mfstart(s.r, request(s.r, 3, 1, s.m, s.state, kind=MsgType.MFSTART))
    assert not s.bus.sent  # not my replica: ignored
    s.failover.mfstart(mine, request(mine, 3, 2, s.me, s.state, kind=MsgType.MFSTART))
    assert s.logs[-1] == f"Manual failover requested by replica {R2}."
    ((to, ping),) = s.bus.sent
    assert to is mine and ping.type == MsgType.PING and ping.header.mflags & MF_PAUSED
    assert ping.header.offset == s.h.engine.replication.primary.offset
    assert s.failover.mflags() == MF_PAUSED
    assert s.h.engine.observer.paused and s.cluster.mf_pause
    s.step(100)
    assert len(s.bus.sent) == 2  # pinged every tick while it lasts
    s.step(MF_TIMEOUT_MS)
    assert "Manual failover timed out." in s.logs
    assert not s.h.engine.observer.paused and not s.cluster.mf_pause
    assert s.failover.mflags() == 0


def test_manual_failover_replica_waits_for_the_masters_offset() -> None:
    s = Setup()
    assert s.h("CLUSTER", "FAILOVER") == b"OK"
    ((to, start),) = s.bus.sent
    assert to is s.m and start.type == MsgType.MFSTART
    # A PING without MF_PAUSED tells nothing; the paused one gives the offset to reach.
    s.failover.observed(s.m, request(s.m, 3, 1, s.m, s.state, kind=MsgType.PING, offset=10))
    assert s.failover.mf_master_offset == -1 and s.m.repl_offset == 10
    s.failover.observed(
        s.m, request(s.m, 3, 1, s.m, s.state, kind=MsgType.PING, offset=20, mflags=MF_PAUSED)
    )
    assert s.failover.mf_master_offset == 20
    assert s.logs[-1] == "Received replication offset for paused master manual failover: 20"
    s.step(100)
    assert not s.requests()
    repl = s.h.engine.replication
    assert repl.cached is not None
    repl.cached.offset = 20  # caught up
    s.step(100)
    assert "All master replication stream processed, manual failover can start." in s.logs
    (req,) = s.requests()  # no delay for a manual failover
    assert req.header.mflags & MF_FORCEACK and req.header.current_epoch == 4
    s.ack(s.b, 4)
    s.ack(s.m, 4)  # my master votes too: it is up
    assert s.me.is_master and s.failover.mf_end == 0


def test_manual_failover_times_out() -> None:
    s = Setup()
    s.h("CLUSTER", "FAILOVER")
    s.step(MF_TIMEOUT_MS + 1)
    assert s.logs[-1] == "Manual failover timed out."
    assert s.failover.mf_end == 0 and not s.requests()


def test_forced_failover_skips_the_offset_agreement() -> None:
    s = Setup()
    assert s.h("CLUSTER", "FAILOVER", "FORCE") == b"OK"
    assert not s.bus.sent  # no MFSTART
    (req,) = s.requests()
    assert req.header.mflags & MF_FORCEACK
    s.ack(s.b, 4)
    s.ack(s.c, 4)
    assert s.me.is_master and s.state.slots[0] is s.me


def test_takeover_needs_no_votes() -> None:
    s = Setup()
    assert s.h("CLUSTER", "FAILOVER", "TAKEOVER") == b"OK"
    assert s.me.is_master and s.me.config_epoch == 4 and s.state.current_epoch == 4
    assert s.state.slots[0] is s.me and s.m.numslots == 0
    assert s.bus.pongs == [False] and not s.requests()
    assert s.h.engine.replication.master_host is None
    assert "New configEpoch set to 4" in s.logs
    # The replication side logs its promotion as Redis's replicationUnsetMaster does.
    repl = s.h.engine.replication.primary
    assert "Discarding previously cached master state." in s.logs
    assert (
        f"Setting secondary replication ID to {repl.replid2}, valid up to offset: "
        f"{repl.second_offset}. New replication ID is {repl.replid}"
    ) in s.logs


# --- replica migration and demotion ------------------------------------------------------------------
def orphan_c(s: Setup) -> None:
    """C had a replica, now failed: C is orphaned. M has two working replicas (me, R)."""
    gone = node(s.h, "f" * 40, NodeFlag.SLAVE, s.c, port=7009)
    gone.flags |= NodeFlag.FAIL
    assert s.c.flags & NodeFlag.MIGRATE_TO


def test_a_replica_migrates_to_an_orphaned_master_after_a_delay() -> None:
    s = Setup()
    orphan_c(s)
    s.r.name = "f" * 40  # my name sorts first: I am the candidate
    s.step(100)
    s.step(5000)
    assert s.me.master is s.m  # orphaned for 5000 ms: not yet
    s.step(100)
    assert s.me.master is s.c and s.me not in s.m.replicas
    assert f"Migrating to orphaned master {C}" in s.logs
    assert s.h.engine.replication.master_port == 7002


def test_only_the_candidate_with_the_smallest_name_migrates() -> None:
    s = Setup()
    orphan_c(s)
    s.r.name = "0" * 40
    for _ in range(80):
        s.step(100)
    assert s.me.master is s.m


def test_no_migration_below_the_barrier_or_when_disallowed() -> None:
    for s in (Setup(cluster_migration_barrier="2"), Setup(cluster_allow_replica_migration="no")):
        orphan_c(s)
        s.r.name = "f" * 40
        for _ in range(80):
            s.step(100)
        assert s.me.master is s.m


def test_a_former_master_turns_replica_of_its_successor() -> None:
    s = Setup(replica=False)
    s.h.engine.keyspace.dbs[0].set_value(b"k", b"1")
    for slot in range(5461, 10923):
        s.state.set_slot_owner(slot, s.c)
    s.cluster.set_master(s.c)
    assert s.me.is_replica and s.me.master is s.c and s.me in s.c.replicas
    assert not s.me.flags & NodeFlag.MIGRATE_TO
    repl = s.h.engine.replication
    assert repl.master_host == "127.0.0.1" and repl.master_port == 7002
    assert repl.cached is not None  # its own history, for a partial resync
    assert b"k" in s.h.engine.keyspace.dbs[0].data  # kept until the sync replaces it


# --- whole elections over the simulated network (the real ClusterBus) -------------------------------
def replicated(validity_factor: str = "0") -> BusNet:
    """Nodes 0-2 masters sharing the slots, 3-5 replicas of 0-2 (no replication streams in
    the simulation: the validity factor is off so a replica's data never looks stale)."""
    net = BusNet(6, cluster_replica_validity_factor=validity_factor)
    net.form([0, 1, 2], replicas=((3, 0), (4, 1), (5, 2)))
    net.run(6000)
    for node in net.nodes:
        assert node.cluster.state.ok, node.h("CLUSTER", "NODES")
    return net


def agreed_owner(net: BusNet, slot: int, live: list[int]) -> set[str]:
    """The owner of `slot` as each live node sees it (by name)."""
    names: set[str] = set()
    for i in live:
        owner = net[i].cluster.state.slots[slot]
        names.add(owner.name if owner is not None else "")
    return names


def test_sim_a_failed_master_is_replaced_by_its_replica_and_rejoins_as_replica() -> None:
    net = replicated()
    old, heir = net[0], net[3]
    net.stop(0)
    live = [1, 2, 3, 4, 5]
    for _ in range(200):
        net.tick()
        if heir.cluster.state.myself.is_master and all(net[i].cluster.state.ok for i in live):
            break
    assert heir.cluster.state.myself.is_master
    assert agreed_owner(net, 0, live) == {heir.name}
    assert all(net[i].cluster.state.ok for i in live)
    epoch = heir.cluster.state.myself.config_epoch
    assert epoch > max(net[i].cluster.state.myself.config_epoch for i in (1, 2))
    # The old master comes back: the newer config epoch wins, it follows its successor.
    net.start(0)
    for _ in range(200):
        net.tick()
        if old.cluster.state.myself.is_replica:
            break
    me = old.cluster.state.myself
    assert me.is_replica and me.master is not None and me.master.name == heir.name
    assert old.h.engine.replication.master_port == heir.port
    net.run(3000)
    assert agreed_owner(net, 0, list(range(6))) == {heir.name}
    for node in net.nodes:
        assert "slave" in node.flags(old) and "master" in node.flags(heir)


def test_sim_manual_failover_swaps_master_and_replica() -> None:
    net = replicated()
    master, replica = net[1], net[4]
    assert replica.h("CLUSTER", "FAILOVER") == b"OK"
    for _ in range(100):
        net.tick()
        if master.cluster.state.myself.is_replica:
            break
    assert replica.cluster.state.myself.is_master
    assert master.cluster.state.myself.is_replica
    assert master.cluster.state.myself.master is master.cluster.state.lookup(replica.name)
    assert not master.h.engine.observer.paused  # writes resumed on the old master
    net.run(2000)
    slot = 16384 // 3
    assert agreed_owner(net, slot, list(range(6))) == {replica.name}


def test_sim_takeover_wins_without_votes() -> None:
    net = replicated()
    net.partition(5, 0)
    net.partition(5, 1)
    assert net[5].h("CLUSTER", "FAILOVER", "TAKEOVER") == b"OK"
    assert net[5].cluster.state.myself.is_master
    net.heal()
    net.run(3000)
    assert agreed_owner(net, 16383, list(range(6))) == {net[5].name}
    assert net[2].cluster.state.myself.is_replica


def test_sim_a_partition_shorter_than_the_node_timeout_fails_nothing_over() -> None:
    net = replicated()
    epochs = [n.cluster.state.current_epoch for n in net.nodes]
    for other in range(1, 6):
        net.partition(0, other)
    net.run(1500)
    net.heal()
    net.run(5000)
    assert [n.cluster.state.current_epoch for n in net.nodes] == epochs
    assert net[0].cluster.state.myself.is_master and net[3].cluster.state.myself.is_replica
    assert all(n.cluster.state.ok for n in net.nodes)


def test_a_replica_per_nodes_conf_starts_replicating_its_master() -> None:
    s = Setup()
    repl = s.h.engine.replication
    repl.unset_master()  # as after a start-up from nodes.conf: replication is off
    s.step(100)
    assert repl.master_host == "127.0.0.1" and repl.master_port == 7000


def test_cluster_state_changes_are_logged() -> None:
    s = Setup()
    s.fail_master()
    s.cluster.update_state()
    assert s.logs[-1] == "Cluster state changed: fail"
    s.h("CLUSTER", "FAILOVER", "TAKEOVER")
    assert "Cluster state changed: ok" in s.logs


def test_sim_a_spare_replica_migrates_to_an_orphaned_master() -> None:
    net = BusNet(6, cluster_replica_validity_factor="0")
    net.form([0, 1, 2], replicas=((3, 0), (4, 1), (5, 0)))
    net.run(6000)
    net.stop(4)  # master 1 loses its only replica
    spare = min((net[3], net[5]), key=lambda n: n.name)
    for _ in range(300):
        net.tick()
        if spare.cluster.state.myself.master is spare.cluster.state.lookup(net[1].name):
            break
    assert spare.cluster.state.myself.master is spare.cluster.state.lookup(net[1].name)
    other = net[5] if spare is net[3] else net[3]
    assert other.cluster.state.myself.master is other.cluster.state.lookup(net[0].name)
    net.run(2000)
    for i in (0, 1, 2, 3, 5):
        assert net[i].flags(spare) == {"slave"} | ({"myself"} if net[i] is spare else set())
        seen = net[i].cluster.state.lookup(spare.name)
        assert seen is not None and seen.master is not None and seen.master.name == net[1].name


def test_a_vote_counts_once_and_never_between_attempts() -> None:
    s = Setup()
    s.fail_master()
    s.step(100)
    s.ack(s.b, 3)  # before any request of this attempt: stale
    assert s.failover.auth_count == 0
    s.step(s.failover.auth_time - s.h.engine.now_ms)
    s.ack(s.b, 4)
    s.ack(s.b, 4)  # the same master twice
    assert s.failover.auth_count == 1 and s.me.is_replica


def test_the_manual_failover_pause_leaves_a_client_pause_alone() -> None:
    s = Setup(replica=False)
    mine = node(s.h, R2, NodeFlag.SLAVE, s.me, port=7004)
    assert s.h("CLIENT", "PAUSE", "60000", "WRITE") == b"OK"
    s.failover.mfstart(mine, request(mine, 3, 2, s.me, s.state, kind=MsgType.MFSTART))
    s.step(MF_TIMEOUT_MS + 100)
    assert "Manual failover timed out." in s.logs
    assert s.h.engine.observer.paused  # the user's pause goes on
    assert s.h("CLIENT", "UNPAUSE") == b"OK"
    assert not s.h.engine.observer.paused


def test_sim_the_freshest_replica_wins() -> None:
    net = BusNet(6, cluster_replica_validity_factor="0")
    net.form([0, 1, 2], replicas=((3, 0), (4, 0), (5, 1)))
    for replica, offset in ((3, 50), (4, 100)):  # what each processed of node 0's stream
        cached = net[replica].h.engine.replication.cached
        assert cached is not None
        cached.offset = offset
    net.run(6000)
    net.stop(0)
    for _ in range(200):
        net.tick()
        if any(net[i].cluster.state.myself.is_master for i in (3, 4)):
            break
    net.run(3000)
    assert net[4].cluster.state.myself.is_master
    assert net[3].cluster.state.myself.is_replica
    assert net[3].cluster.state.myself.master is net[3].cluster.state.lookup(net[4].name)


def settled_violations(net: BusNet) -> list[str]:
    """RELIABILITY.md S-3 over the simulated nodes: one owner per slot with every slot
    covered, the same map everywhere, unique master config epochs, every node ok and
    currentEpoch >= its config epoch."""
    problems: list[str] = []
    maps = set()
    for node in net.nodes:
        state = node.cluster.state
        if not state.ok:
            problems.append(f"{node.port} not ok")
        if any(owner is None for owner in state.slots):
            problems.append(f"{node.port} has unassigned slots")
        maps.add(tuple(owner.name if owner else "" for owner in state.slots))
        if state.current_epoch < state.myself.config_epoch:
            problems.append(f"{node.port} currentEpoch < configEpoch")
        epochs = [n.config_epoch for n in state.nodes.values() if n.is_master and n.numslots]
        if len(epochs) != len(set(epochs)):
            problems.append(f"{node.port} sees duplicate config epochs {epochs}")
    if len(maps) != 1:
        problems.append("nodes disagree on the slot map")
    return problems


def test_sim_failover_loop_keeps_one_master_per_slot() -> None:
    """03-failover-loop: kill a master, let its replica take over, bring it back as a
    replica; again and again, and the cluster settles each time."""
    net = replicated()
    for _ in range(6):
        victim = next(n for n in net.nodes if n.cluster.state.myself.numslots)
        index = net.nodes.index(victim)
        replica_names = {r.name for r in victim.cluster.state.myself.replicas}
        net.stop(index)
        for _ in range(300):
            net.tick()
            if any(
                n.cluster.state.myself.is_master
                and n.name in replica_names
                and all(m.cluster.state.ok for m in net.nodes if m.up)
                for n in net.nodes
            ):
                break
        net.start(index)
        for _ in range(300):
            net.tick()
            if victim.cluster.state.myself.is_replica and not settled_violations(net):
                break
        assert victim.cluster.state.myself.is_replica
        assert not settled_violations(net), settled_violations(net)


def test_sim_update_message_demotes_a_master_whose_successor_is_down() -> None:
    """08-update-msg: the failed-over master returns while its successor is down; the
    others' UPDATE turns it into the successor's replica, and the cluster is ok once the
    successor is back."""
    net = replicated()
    old, heir = net[0], net[3]
    net.stop(0)
    for _ in range(300):
        net.tick()
        if heir.cluster.state.myself.is_master:
            break
    net.run(3000)
    net.stop(3)
    net.run(6000)
    assert not net[1].cluster.state.ok  # the shard has nobody left
    net.start(0)
    for _ in range(300):
        net.tick()
        if old.cluster.state.myself.is_replica:
            break
    me = old.cluster.state.myself
    assert me.is_replica and me.master is not None and me.master.name == heir.name
    net.start(3)
    for _ in range(300):
        net.tick()
        if not settled_violations(net):
            break
    assert not settled_violations(net), settled_violations(net)
    assert heir.cluster.state.myself.is_master


def test_sim_a_replica_with_stale_data_does_not_fail_over() -> None:
    """06-slave-stop-cond: with a validity factor, a replica that has not heard from its
    master for too long (here: never) stays a replica, and the shard stays down."""
    net = replicated(validity_factor="2")
    logs: list[str] = []
    net[3].h.engine.log = lambda level, text: logs.append(text)
    net.stop(0)
    net.run(20_000)
    assert net[3].cluster.state.myself.is_replica
    assert not net[1].cluster.state.ok
    assert (
        "Currently unable to failover: Disconnected from master for longer than allowed. "
        "Please check the 'cluster-replica-validity-factor' configuration option."
    ) in logs


def test_sim_a_nofailover_replica_stays_a_replica() -> None:
    """13-no-failover: the flag spreads, and the replica never runs an election."""
    net = replicated()
    assert net[3].h("CONFIG", "SET", "cluster-replica-no-failover", "yes") == b"OK"
    net.run(3000)
    assert "nofailover" in net[1].flags(net[3])
    net.stop(0)
    net.run(15_000)
    assert net[3].cluster.state.myself.is_replica
    assert not net[1].cluster.state.ok
    assert net[3].h("CLUSTER", "FAILOVER", "FORCE") == b"OK"  # a manual one still may
    for _ in range(50):
        net.tick()
        if net[3].cluster.state.myself.is_master:
            break
    assert net[3].cluster.state.myself.is_master
