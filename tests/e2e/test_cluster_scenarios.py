"""RELIABILITY.md cluster scenarios on real processes, each run on slotd and on a real
redis-server cluster (the reference: a scenario that fails on Redis is a wrong test). Every
scenario uses one cluster formed by `redis-cli --cluster create` (node_timeout 2000 ms) and
ends with the S-3 check (one master per slot, same view everywhere, unique config epochs).

- C01 kill -9 of a master under W1 and W2 (tests/workloads.py): S-1 (no write whose WAIT
  counted a replica is lost), W2's Elle-lite check, S-4 (the restarted old master follows its
  successor with the same dataset).
- C02 kill loop: a random node killed, replaced if a master, restarted; round after round
  every write reads back.
- C06 the freshest replica wins: of a master's two replicas one is paused while writes go
  on; the master is killed; the other is promoted and the paused one, resumed, follows it.
- C07 a replica whose data is too old (validity factor) does not fail over.
- C08 replica migration: a master with two replicas gives one to the master whose only
  replica died (cluster-migration-barrier 1).
- C09 double failover, then UPDATE: master M, replicas R1 and R2. Kill M (one replica wins),
  then kill the winner (the last one wins); M, restarted with its old config, is turned into
  a replica of the last winner, and so is the first winner.
- C11 CLUSTER FAILOVER TAKEOVER with two of three masters dead (one master left cannot
  turn PFAIL into FAIL, so nothing fails over by itself).
- C12 cluster-replica-no-failover: killing the master leaves its slots down.
- C13 MOVED / ASK / TRYAGAIN, byte for byte, during a hand-driven slot migration.
- C14 a slot left half-migrated at each stage is fixed by `redis-cli --cluster fix`.
- C15 READONLY on a replica: reads and MULTI served there, writes and EVAL writes MOVED,
  blocking reads woken by the replication stream, READWRITE back to MOVED.
- C34s a replica killed outside any failover: no role changes; restarted, it resyncs.

Faults are SIGKILL and SIGSTOP (no root needed; C07 cuts a replication link with CLIENT KILL
and CLIENT PAUSE). Waits are generous deadlines that only turn a hang into a failure:
behaviour is asserted, never timing. The diskless sync delay is 0 on both kinds so a
(re)joining replica syncs at once instead of after 5 s. The whole file takes about 7-8
minutes on a loaded 2-core machine (slotd nodes take ~2 s each to start)."""

from __future__ import annotations

import hashlib
import random
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import redis
from redis.backoff import NoBackoff
from redis.cluster import RedisCluster
from redis.crc import key_slot
from redis.retry import Retry

from tests import cluster_procs, procs
from tests.e2e.test_cluster_failover import all_ok, myself, nodes_view, role
from tests.procs import ServerProcess
from tests.rawclient import RawClient
from tests.workloads import W1History, W2History, check_w1, check_w2

# redis-py's RedisCluster drops connections it gives up on (timeouts, topology refreshes)
# without closing them; the ResourceWarning their collection raises is the client's.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]
KINDS = ["slotd", "redis"]
NODE_TIMEOUT_MS = 2000
DEADLINE = 90.0  # seconds: a hang, not a slow failover (2 cores shared by many processes)
FAST_SYNC = ("--repl-diskless-sync-delay", "0")


# --- cluster plumbing -----------------------------------------------------------------------
def wait_until(what: str, check: Callable[[], bool], nodes: Sequence[ServerProcess]) -> None:
    cluster_procs.wait_until(what, check, nodes, DEADLINE)


@contextmanager
def formed(
    kind: str, directory: Path, *extra: str, replicas: int = 1
) -> Iterator[list[ServerProcess]]:
    """3 masters with their replicas, every replica synced and every role known
    everywhere."""
    if kind == "redis":
        procs.redis_server_bin()
    with cluster_procs.cluster(
        kind, directory, 3, replicas, NODE_TIMEOUT_MS, *FAST_SYNC, *extra
    ) as nodes:
        synced(nodes)
        yield nodes


def node_id(node: ServerProcess) -> str:
    return myself(node)[0]


def master_of(node: ServerProcess) -> str:
    """The master id in `node`'s own CLUSTER NODES line ("-" for a master)."""
    return myself(node)[3]


def link_up(node: ServerProcess) -> bool:
    return "master_link_status:up" in cluster_procs.call(node, "INFO", "replication")


def synced(nodes: Sequence[ServerProcess]) -> None:
    """Every replica's link is up and every node sees every node's role as the node itself
    does (a vote needs the voter to know the candidate's master)."""

    def ready() -> bool:
        selves = [myself(n) for n in nodes]
        if any(not s for s in selves):
            return False
        if any("slave" in s[2] and not link_up(n) for s, n in zip(selves, nodes, strict=True)):
            return False
        truth = {s[0]: s[3] for s in selves}
        return all({f[0]: f[3] for f in nodes_view(n)} == truth for n in nodes)

    wait_until("the replicas are synced and every role known everywhere", ready, nodes)


def replicas_of(master: ServerProcess, nodes: Sequence[ServerProcess]) -> list[ServerProcess]:
    mid = node_id(master)
    return [n for n in nodes if n is not master and master_of(n) == mid]


def a_master_with_replica(nodes: Sequence[ServerProcess]) -> tuple[ServerProcess, ServerProcess]:
    for node in nodes:
        found = replicas_of(node, nodes) if "master" in myself(node)[2] else []
        if found:
            return node, found[0]
    pytest.fail(f"no master with a replica\n{cluster_procs.logs(nodes)}")


def add_replica(
    kind: str, directory: Path, nodes: list[ServerProcess], master: ServerProcess
) -> ServerProcess:
    """A new node joined as a replica of `master` with `redis-cli --cluster add-node`; it
    goes into `nodes`, so the cluster context stops it too."""
    node = cluster_procs.start_node(
        kind, directory, "--cluster-node-timeout", str(NODE_TIMEOUT_MS), *FAST_SYNC
    )
    nodes.append(node)
    done = subprocess.run(
        [
            procs.redis_cli_bin(),
            "--cluster",
            "add-node",
            f"127.0.0.1:{node.port}",
            f"127.0.0.1:{master.port}",
            "--cluster-slave",
            "--cluster-master-id",
            node_id(master),
        ],
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    wait_until(
        "the new replica is known everywhere",
        lambda: all(
            f"cluster_known_nodes:{len(nodes)}" in cluster_procs.call(n, "CLUSTER", "INFO")
            for n in nodes
        ),
        nodes,
    )
    synced(nodes)
    return node


def slot_ranges(master: ServerProcess) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for spec in myself(master)[8:]:
        if spec.startswith("["):
            continue
        first, _, last = spec.partition("-")
        out.append((int(first), int(last or first)))
    return out


def tag_on(master: ServerProcess, prefix: str = "t") -> str:
    """A hash tag whose slot `master` serves."""
    ranges = slot_ranges(master)
    i = 0
    while True:
        tag = f"{prefix}{i}"
        slot = key_slot(tag.encode())
        if any(lo <= slot <= hi for lo, hi in ranges):
            return tag
        i += 1


def conn(node: ServerProcess, timeout: float = 5.0) -> redis.Redis:
    """One connection to `node` that fails fast (RELIABILITY.md harness gotcha 2)."""
    return redis.Redis(
        port=node.port,
        socket_timeout=timeout,
        socket_connect_timeout=2,
        retry=Retry(NoBackoff(), 0),
        single_connection_client=True,
    )


def write_replicated(
    master: ServerProcess, tag: str, count: int, replicas: int = 1, prefix: str = "k"
) -> dict[str, str]:
    """`count` keys written to `master` and acknowledged by `replicas` replicas (WAIT)."""
    c = conn(master)
    data = {f"{{{tag}}}:{prefix}{i}": f"{prefix}-{i}" for i in range(count)}
    for key, value in data.items():
        c.set(key, value)
    assert c.wait(replicas, 30000) >= replicas
    c.close()
    return data


def read_keys(nodes: Sequence[ServerProcess], keys: Sequence[str]) -> dict[str, bytes | None]:
    """The keys (one hash tag) read from the master serving their slot."""
    client = ShardClient(nodes, key_slot(keys[0].encode()))
    values: list[Any] = []
    for i in range(0, len(keys), 500):
        values.extend(client.connection().mget(keys[i : i + 500]))
    client.close()
    return dict(zip(keys, values, strict=True))


def dataset(node: ServerProcess) -> dict[bytes, bytes]:
    """Every key of `node` with its DUMP (a replica is read after READONLY)."""
    c = conn(node)
    try:
        command(c, "READONLY")
        out = {key: c.dump(key) for key in c.scan_iter(count=1000)}
    finally:
        c.close()
    return {k: v for k, v in out.items() if v is not None}


def wait_same_dataset(
    replica: ServerProcess, master: ServerProcess, nodes: Sequence[ServerProcess]
) -> None:
    """S-4: the replica's link is up and it holds its master's dataset.

    A CLUSTERDOWN on the way is a "not yet": a node restarted with an old nodes.conf
    converges by gossip, and when the PONG of a former master that now replicates arrives
    before the claim of the node that took its slots, those slots are unassigned in its
    view for a moment (clusterProcessPacket drops a master-turned-replica's slots), so it
    may answer CLUSTERDOWN after its link is up -- Redis as well; only the order of the
    PONGs decides."""

    def same() -> bool:
        try:
            return link_up(replica) and dataset(replica) == dataset(master)
        except redis.exceptions.ClusterDownError:
            return False

    wait_until(f"{replica} is up with its master's dataset", same, nodes)


def command(c: redis.Redis, *args: str) -> Any:
    """A command redis-py has no typed method for."""
    return c.execute_command(*args)  # type: ignore[no-untyped-call]


def kill(node: ServerProcess) -> None:
    node.stop(signal.SIGKILL)


def restart(node: ServerProcess) -> None:
    node.spawn()
    assert node.wait_ready(), node.log_tail()


# --- W1 / W2 drivers ------------------------------------------------------------------------
class ShardClient:
    """A client for one slot that follows its owner: after any error it asks the live nodes
    (CLUSTER SLOTS) where the slot is, as RELIABILITY.md's harness gotcha 5 asks (MOVED
    alone would leave it on a dead or isolated master)."""

    def __init__(self, nodes: Sequence[ServerProcess], slot: int) -> None:
        self.nodes = nodes
        self.slot = slot
        self.conn: redis.Redis | None = None

    def owner(self) -> int | None:
        for node in self.nodes:
            if not node.alive():
                continue
            try:
                c = conn(node, timeout=1.0)
                slots = command(c, "CLUSTER", "SLOTS")
                c.close()
            except redis.RedisError:
                continue
            for first, last, master, *_ in slots:
                if first <= self.slot <= last:
                    return int(master[1])
        return None

    def connection(self) -> redis.Redis:
        if self.conn is None:
            port = self.owner()
            if port is None:
                raise redis.ConnectionError(f"nobody serves slot {self.slot}")
            self.conn = redis.Redis(
                port=port,
                socket_timeout=2,
                socket_connect_timeout=1,
                retry=Retry(NoBackoff(), 0),
                single_connection_client=True,
            )
        return self.conn

    def invalidate(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.conn = None

    close = invalidate


class Workload:
    """W1 and W2 on one hash tag, in a thread: SET {tag}:w1:i + WAIT 1 100, and RPUSH
    {tag}:w2 + WAIT 1 100, with an LRANGE of the whole list after every 5th replicated
    append. A read only follows a WAIT that counted a replica: everything written to that
    master before it is then on the replica too, so a read never shows what a kill -9 may
    lose (an ack the replica never saw may vanish; S-2 bounds that, S-1 does not)."""

    def __init__(self, nodes: Sequence[ServerProcess], tag: str) -> None:
        self.tag = tag
        self.client = ShardClient(nodes, key_slot(tag.encode()))
        self.w1 = W1History()
        self.w2 = W2History()
        self.errors: list[str] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    @property
    def list_key(self) -> str:
        return f"{{{self.tag}}}:w2"

    def replicated(self) -> int:
        return len(self.w1.replicated) + len(self.w2.acked)

    def acked(self) -> int:
        return len(self.w1.acked)

    def _step(self, i: int) -> None:
        key, value = f"{{{self.tag}}}:w1:{i}", f"v{i}"
        self.w1.attempt(key, value)
        self.w2.attempt(value)
        c = self.client.connection()
        c.set(key, value)
        self.w1.ack(key, self._wait(c))
        c.rpush(self.list_key, value)
        if self._wait(c) >= 1:
            self.w2.ack(value)
            if len(self.w2.acked) % 5 == 0:
                self.w2.read(c.lrange(self.list_key, 0, -1))

    def _wait(self, c: redis.Redis) -> int:
        try:
            return int(c.wait(1, 100))
        except redis.RedisError as exc:  # the write was acked; its replication unknown
            self.errors.append(repr(exc))
            self.client.invalidate()
            return 0

    def _run(self) -> None:
        i = 0
        while not self.stop.is_set():
            try:
                self._step(i)
            except redis.RedisError as exc:  # not acknowledged: maybe applied, never retried
                self.errors.append(repr(exc))
                self.client.invalidate()
                time.sleep(0.05)
            i += 1

    def start(self) -> None:
        self.thread.start()

    def finish(self) -> None:
        self.stop.set()
        self.thread.join(30)
        self.client.close()

    def wait_for(
        self, what: str, count: Callable[[], int], more: int, nodes: Sequence[ServerProcess]
    ) -> None:
        target = count() + more
        wait_until(f"{what} ({more} more)", lambda: count() >= target, nodes)

    def check(self, nodes: Sequence[ServerProcess]) -> None:
        """S-1 on W1 and the Elle-lite check on W2, read from the slot's current master."""
        final = read_keys(nodes, list(self.w1.attempted))
        problems = check_w1(self.w1, final)
        client = ShardClient(nodes, key_slot(self.tag.encode()))
        problems += check_w2(self.w2, client.connection().lrange(self.list_key, 0, -1))
        client.close()
        assert not problems, f"{problems}; client errors: {self.errors[:5]}"


# --- scenarios ------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_c01_kill_master_under_w1_w2(kind: str, tmp_path: Path) -> None:
    with formed(kind, tmp_path) as nodes:
        master, replica = a_master_with_replica(nodes)
        work = Workload(nodes, tag_on(master))
        work.start()
        try:
            work.wait_for("replicated writes", work.replicated, 200, nodes)
            kill(master)
            survivors = [n for n in nodes if n is not master]
            wait_until("the replica is promoted", lambda: role(replica) == "master", survivors)
            work.wait_for("writes acked by the new master", work.acked, 20, survivors)
            restart(master)
            wait_until(
                "the old master follows its successor",
                lambda: (
                    role(master) == "slave"
                    and master_of(master) == node_id(replica)
                    and link_up(master)
                ),
                nodes,
            )
            work.wait_for("writes replicated to the old master", work.replicated, 100, nodes)
        finally:
            work.finish()
        assert len(work.w1.replicated) >= 100 and len(work.w2.reads) >= 10
        work.check(nodes)
        wait_same_dataset(master, replica, nodes)
        cluster_procs.wait_settled(nodes)


KILL_LOOP_ROUNDS = 6


def kill_round(
    nodes: list[ServerProcess], victim: ServerProcess, round_: int, data: dict[str, str]
) -> None:
    """One round of the kill loop: writes, the kill, the takeover, writes, the restart."""
    for master in (n for n in nodes if role(n) == "master"):
        data |= write_replicated(master, tag_on(master, f"r{round_}x"), 10, prefix=f"a{round_}")
    heir = replicas_of(victim, nodes)[0] if role(victim) == "master" else None
    kill(victim)
    live = [n for n in nodes if n is not victim]
    if heir is not None:
        wait_until(
            f"round {round_}: {heir} takes over from {victim}", lambda: role(heir) == "master", live
        )
    wait_until(f"round {round_}: the cluster is ok without {victim}", lambda: all_ok(live), live)
    for master in (n for n in live if role(n) == "master"):
        data |= write_replicated(
            master, tag_on(master, f"r{round_}y"), 10, replicas=0, prefix=f"b{round_}"
        )
    restart(victim)
    synced(nodes)
    if heir is not None:
        assert master_of(victim) == node_id(heir)


@pytest.mark.parametrize("kind", KINDS)
def test_c02_kill_loop(kind: str, tmp_path: Path) -> None:
    """Redis's 03-failover-loop, shortened: each round kills a random node (seeded), waits
    for its replica to take over if it was a master, writes again, restarts it, and reads
    back everything written so far; currentEpoch >= every configEpoch at the end (S-3)."""
    rng = random.Random(3)
    with formed(kind, tmp_path) as nodes:
        data: dict[str, str] = {}
        for round_ in range(KILL_LOOP_ROUNDS):
            # every other round a master, so failovers (not only restarts) repeat
            pool = [n for n in nodes if round_ % 2 or role(n) == "master"]
            kill_round(nodes, rng.choice(pool), round_, data)
            by_tag: dict[str, list[str]] = {}
            for key in data:
                by_tag.setdefault(key.split("}")[0], []).append(key)
            for keys in by_tag.values():
                assert read_keys(nodes, keys) == {k: data[k].encode() for k in keys}
        cluster_procs.wait_settled(nodes)


@pytest.mark.parametrize("kind", KINDS)
def test_c06_freshest_replica_wins(kind: str, tmp_path: Path) -> None:
    with formed(kind, tmp_path) as nodes:
        master, fresh = a_master_with_replica(nodes)
        stale = add_replica(kind, tmp_path, nodes, master)
        tag = tag_on(master)
        before = write_replicated(master, tag, 50, replicas=2, prefix="before")
        assert stale.proc is not None
        stale.proc.send_signal(signal.SIGSTOP)
        try:
            during = write_replicated(master, tag, 200, replicas=1, prefix="during")
            kill(master)
            others = [n for n in nodes if n not in (master, stale)]
            wait_until(
                "a replica is promoted", lambda: role(fresh) == "master" and all_ok(others), others
            )
        finally:
            stale.proc.send_signal(signal.SIGCONT)
        live = [n for n in nodes if n is not master]
        wait_until(
            "the stale replica follows the fresh one",
            lambda: master_of(stale) == node_id(fresh) and link_up(stale),
            live,
        )
        assert read_keys(live, list(before)) == {k: v.encode() for k, v in before.items()}
        assert read_keys(live, list(during)) == {k: v.encode() for k, v in during.items()}
        wait_same_dataset(stale, fresh, live)
        restart(master)
        wait_until(
            "the old master follows the fresh replica",
            lambda: master_of(master) == node_id(fresh) and link_up(master),
            nodes,
        )
        cluster_procs.wait_settled(nodes)


@pytest.mark.parametrize("kind", KINDS)
def test_c09_double_failover_then_update_on_rejoin(kind: str, tmp_path: Path) -> None:
    with formed(kind, tmp_path) as nodes:
        master, _ = a_master_with_replica(nodes)
        add_replica(kind, tmp_path, nodes, master)
        first_pair = replicas_of(master, nodes)
        tag = tag_on(master)
        data = write_replicated(master, tag, 50, replicas=2, prefix="m")
        master_id = node_id(master)
        kill(master)
        live = [n for n in nodes if n is not master]
        wait_until(
            "one replica wins the first election",
            lambda: any(role(n) == "master" for n in first_pair) and all_ok(live),
            live,
        )
        winner = next(n for n in first_pair if role(n) == "master")
        last = next(n for n in first_pair if n is not winner)
        wait_until(
            "the other replica follows the winner",
            lambda: master_of(last) == node_id(winner) and link_up(last),
            live,
        )
        data |= write_replicated(winner, tag, 50, replicas=1, prefix="w")
        kill(winner)
        live = [n for n in live if n is not winner]
        wait_until(
            "the last replica wins the second election",
            lambda: role(last) == "master" and all_ok(live),
            live,
        )
        epoch = int(myself(last)[6])
        restart(master)  # its nodes.conf still says it owns the slots, at an older epoch
        wait_until(
            "the old master accepts the newer config (UPDATE) and follows the last winner",
            lambda: (
                role(master) == "slave" and master_of(master) == node_id(last) and link_up(master)
            ),
            nodes,
        )
        restart(winner)
        wait_until(
            "the first winner follows the last one too",
            lambda: master_of(winner) == node_id(last) and link_up(winner),
            nodes,
        )
        assert node_id(master) == master_id and int(myself(last)[6]) == epoch
        assert read_keys(nodes, list(data)) == {k: v.encode() for k, v in data.items()}
        wait_same_dataset(master, last, nodes)
        cluster_procs.wait_settled(nodes)


@pytest.mark.parametrize("kind", KINDS)
def test_c11_takeover_with_a_majority_of_masters_dead(kind: str, tmp_path: Path) -> None:
    with formed(kind, tmp_path) as nodes:
        pairs = [(m, replicas_of(m, nodes)[0]) for m in nodes if role(m) == "master"]
        data = {}
        for m, _ in pairs:
            data[m.port] = write_replicated(m, tag_on(m), 30)
        (dead1, heir1), (dead2, heir2), _ = pairs
        kill(dead1)
        kill(dead2)
        live = [n for n in nodes if n not in (dead1, dead2)]
        wait_until(
            "the survivors see the cluster down",
            lambda: all(
                "cluster_state:fail" in cluster_procs.call(n, "CLUSTER", "INFO") for n in live
            ),
            live,
        )
        # One master left cannot make the quorum that turns PFAIL into FAIL, so no replica
        # starts an election on its own.
        dead_ids = {node_id(heir1): master_of(heir1), node_id(heir2): master_of(heir2)}
        wait_until(
            "the dead masters are flagged fail? (PFAIL) everywhere",
            lambda: all(
                sum(f[0] in dead_ids.values() and "fail?" in f[2].split(",") for f in nodes_view(n))
                == 2
                for n in live
            ),
            live,
        )
        time.sleep(NODE_TIMEOUT_MS / 1000 * 2)
        assert role(heir1) == role(heir2) == "slave"
        assert not any("fail" in f[2].split(",") for n in live for f in nodes_view(n))
        for heir in (heir1, heir2):
            assert cluster_procs.call(heir, "CLUSTER", "FAILOVER", "TAKEOVER") == "OK"
        wait_until(
            "both heirs are masters and the cluster is ok",
            lambda: role(heir1) == role(heir2) == "master" and all_ok(live),
            live,
        )
        for keys in data.values():
            assert read_keys(live, list(keys)) == {k: v.encode() for k, v in keys.items()}
        restart(dead1)
        restart(dead2)
        wait_until(
            "the dead masters, restarted, follow their heirs",
            lambda: master_of(dead1) == node_id(heir1) and master_of(dead2) == node_id(heir2),
            nodes,
        )
        wait_same_dataset(dead1, heir1, nodes)
        wait_same_dataset(dead2, heir2, nodes)
        cluster_procs.wait_settled(nodes)


@pytest.mark.parametrize("kind", KINDS)
def test_c12_nofailover_replica_leaves_slots_down(kind: str, tmp_path: Path) -> None:
    with formed(kind, tmp_path, "--cluster-replica-no-failover", "yes") as nodes:
        master, replica = a_master_with_replica(nodes)
        rid, mid = node_id(replica), node_id(master)
        wait_until(
            "every node sees the replica's nofailover flag",
            lambda: all(
                any(f[0] == rid and "nofailover" in f[2].split(",") for f in nodes_view(n))
                for n in nodes
            ),
            nodes,
        )
        kill(master)
        live = [n for n in nodes if n is not master]
        wait_until(
            "the survivors see the cluster down",
            lambda: all(
                "cluster_state:fail" in cluster_procs.call(n, "CLUSTER", "INFO") for n in live
            ),
            live,
        )
        time.sleep(NODE_TIMEOUT_MS / 1000 * 3)  # an election would have happened by now
        assert role(replica) == "slave" and master_of(replica) == mid
        assert all("cluster_state:fail" in cluster_procs.call(n, "CLUSTER", "INFO") for n in live)
        restart(master)
        wait_until(
            "the master is back and the cluster ok",
            lambda: role(master) == "master" and all_ok(nodes),
            nodes,
        )
        assert role(replica) == "slave" and master_of(replica) == node_id(master)
        wait_until("the replica resynced", lambda: link_up(replica), nodes)
        cluster_procs.wait_settled(nodes)


@pytest.mark.parametrize("kind", KINDS)
def test_c07_stale_replica_does_not_fail_over(kind: str, tmp_path: Path) -> None:
    """Redis's 06-slave-stop-cond: a replica cut off from its master for longer than
    repl-ping-replica-period + node_timeout * cluster-replica-validity-factor does not
    start an election when the master dies (the cluster stays down); CLUSTER FAILOVER
    FORCE, which skips that check, brings it back."""
    with formed(kind, tmp_path) as nodes:
        master, replica = a_master_with_replica(nodes)
        mid = node_id(master)
        for name, value in (
            ("cluster-replica-validity-factor", "2"),
            ("repl-ping-replica-period", "1"),
        ):  # 1 s + 2 * NT = 5 s
            assert cluster_procs.call(replica, "CONFIG", "SET", name, value) == "OK"
        # The master stays up on the bus but serves no client: the replica's new link
        # cannot get through its handshake.
        assert cluster_procs.call(master, "CLIENT", "PAUSE", "600000") == "OK"
        assert cluster_procs.call(replica, "CLIENT", "KILL", "TYPE", "master") == "1"
        wait_until("the replica's link is down", lambda: not link_up(replica), nodes)
        time.sleep(5 + 2 * NODE_TIMEOUT_MS / 1000)  # the data is now too old
        kill(master)
        live = [n for n in nodes if n is not master]
        wait_until(
            "the survivors see the cluster down",
            lambda: all(
                "cluster_state:fail" in cluster_procs.call(n, "CLUSTER", "INFO") for n in live
            ),
            live,
        )
        wait_until(
            "the replica says why it does not fail over",  # logged after NT + 5 s
            lambda: "Disconnected from master for longer than allowed" in replica.log_tail(50),
            live,
        )
        assert role(replica) == "slave" and master_of(replica) == mid
        assert all("cluster_state:fail" in cluster_procs.call(n, "CLUSTER", "INFO") for n in live)
        assert cluster_procs.call(replica, "CLUSTER", "FAILOVER", "FORCE") == "OK"
        wait_until(
            "the forced replica takes over",
            lambda: role(replica) == "master" and all_ok(live),
            live,
        )
        restart(master)
        wait_until(
            "the old master follows it",
            lambda: master_of(master) == node_id(replica) and link_up(master),
            nodes,
        )
        cluster_procs.wait_settled(nodes)


@pytest.mark.parametrize("kind", KINDS)
def test_c08_replica_migrates_to_an_orphaned_master(kind: str, tmp_path: Path) -> None:
    """A master with two replicas gives one (the one with the lowest node id, as Redis
    picks) to a master whose only replica died; the restarted replica follows its master."""
    with formed(kind, tmp_path) as nodes:
        rich, _ = a_master_with_replica(nodes)
        add_replica(kind, tmp_path, nodes, rich)
        donors = replicas_of(rich, nodes)
        poor = next(n for n in nodes if role(n) == "master" and n is not rich)
        (lost,) = replicas_of(poor, nodes)
        lost_id, poor_id = node_id(lost), node_id(poor)
        data = write_replicated(poor, tag_on(poor), 30)
        kill(lost)
        live = [n for n in nodes if n is not lost]
        migrant = min(donors, key=node_id)
        wait_until(
            "a replica of the master with two migrates to the orphaned one",
            lambda: master_of(migrant) == poor_id and link_up(migrant),
            live,
        )
        assert [master_of(n) for n in donors if n is not migrant] == [node_id(rich)]
        wait_same_dataset(migrant, poor, live)
        restart(lost)
        wait_until(
            "the restarted replica follows its master again",
            lambda: master_of(lost) == poor_id and link_up(lost),
            nodes,
        )
        assert node_id(lost) == lost_id
        assert read_keys(nodes, list(data)) == {k: v.encode() for k, v in data.items()}
        cluster_procs.wait_settled(nodes)


@pytest.mark.parametrize("kind", KINDS)
def test_c34s_replica_killed_outside_a_failover(kind: str, tmp_path: Path) -> None:
    """A replica killed while its master keeps taking writes changes no role; restarted,
    it resyncs to its master's dataset (S-4)."""
    with formed(kind, tmp_path) as nodes:
        master, replica = a_master_with_replica(nodes)
        before = cluster_procs.masters(nodes)
        tag = tag_on(master)
        data = write_replicated(master, tag, 30, prefix="before")
        kill(replica)
        live = [n for n in nodes if n is not replica]
        mid = node_id(master)
        wait_until(
            "the others flag the replica as failed",
            lambda: all(
                any(
                    f[1].startswith(f"127.0.0.1:{replica.port}@") and "fail" in f[2].split(",")
                    for f in nodes_view(n)
                )
                for n in live
            ),
            live,
        )
        assert all_ok(live) and cluster_procs.masters(live) == before
        c = conn(master)
        for i in range(100):
            c.set(f"{{{tag}}}:during{i}", i)
        c.close()
        restart(replica)
        wait_until(
            "the replica is back with its master",
            lambda: master_of(replica) == mid and link_up(replica),
            nodes,
        )
        wait_same_dataset(replica, master, nodes)
        assert cluster_procs.masters(nodes) == before
        assert read_keys(nodes, list(data)) == {k: v.encode() for k, v in data.items()}
        cluster_procs.wait_settled(nodes)


def cluster_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """`redis-cli --cluster ...`, answering "yes" to a prompt --cluster-yes does not cover
    (fix's "cover the slots with the nodes that have their keys")."""
    return subprocess.run(
        [procs.redis_cli_bin(), "--cluster", *args],
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        check=False,
        input="yes\n",
    )


@pytest.mark.parametrize("kind", KINDS)
def test_c14_half_migrated_slot_is_fixable(kind: str, tmp_path: Path) -> None:
    """Redis's 20-half-migrated-slot: a slot left at each stage of a migration (half set
    up on either side, set up with its key moved, half finished on either side) is put
    right by `redis-cli --cluster fix`, and its key keeps its value throughout."""
    with formed(kind, tmp_path, replicas=0) as nodes:
        seed = f"127.0.0.1:{nodes[0].port}"
        tag = tag_on(nodes[0])
        slot, key = key_slot(tag.encode()), f"{{{tag}}}:aga"
        rc = RedisCluster(host="127.0.0.1", port=nodes[0].port, socket_timeout=5)
        assert rc.set(key, "xyz")

        def ends() -> tuple[ServerProcess, ServerProcess]:
            """The slot's owner and another master."""
            port = _owner(nodes[0], slot)
            source = next(n for n in nodes if n.port == port)
            return source, next(n for n in nodes if n is not source)

        def setslot(node: ServerProcess, *args: str) -> None:
            assert cluster_procs.call(node, "CLUSTER", "SETSLOT", str(slot), *args) == "OK"

        def start_migration(source: ServerProcess, target: ServerProcess) -> None:
            setslot(source, "MIGRATING", node_id(target))
            setslot(target, "IMPORTING", node_id(source))
            assert (
                cluster_procs.call(
                    source, "MIGRATE", "127.0.0.1", str(target.port), key, "0", "10000"
                )
                == "OK"
            )
            assert rc.get(key) == b"xyz"  # ASK followed

        def fix(what: str) -> None:
            # Clean means the next stage starts from a settled cluster: besides the slot
            # map `check` compares, every node must have heard every master's config
            # epoch. The next stage's SETSLOT NODE on the importing node takes a new epoch
            # without consensus, from its own view; if a bump the fix made elsewhere has
            # not reached it yet, its epoch is not the greatest, its claim loses to the
            # old owner's, and the stage starts from a state the fix cannot put right
            # (Redis's own 20-half-migrated-slot flakes the same way).
            out = cluster_cli("fix", seed, "--cluster-yes")
            wait_until(
                f"{what}: the cluster checks clean after fix\n{out.stdout}",
                lambda: (
                    all_ok(nodes)
                    and cluster_cli("check", seed).returncode == 0
                    and epochs_known(nodes)
                ),
                nodes,
            )
            assert rc.get(key) == b"xyz", what

        source, target = ends()
        setslot(source, "MIGRATING", node_id(target))
        fix("half set up on the migrating node")
        setslot(target, "IMPORTING", node_id(source))
        fix("half set up on the importing node")
        start_migration(source, target)
        fix("set up, key moved")
        source, target = ends()
        start_migration(source, target)
        setslot(source, "NODE", node_id(target))
        fix("half finished on the migrating node")
        source, target = ends()
        start_migration(source, target)
        setslot(target, "NODE", node_id(target))
        fix("half finished on the importing node")
        rc.close()
        cluster_procs.wait_settled(nodes)


def epochs_known(nodes: Sequence[ServerProcess]) -> bool:
    """Every node's CLUSTER NODES shows each master's config epoch as the master itself
    does."""
    own = {f[0]: f[6] for f in (myself(n) for n in nodes) if f and "master" in f[2]}
    return all({f[0]: f[6] for f in nodes_view(n) if f[0] in own} == own for n in nodes)


def moved(slot: int, node: ServerProcess) -> bytes:
    return b"-MOVED %d 127.0.0.1:%d\r\n" % (slot, node.port)


def ask(slot: int, node: ServerProcess) -> bytes:
    return b"-ASK %d 127.0.0.1:%d\r\n" % (slot, node.port)


TRYAGAIN = b"-TRYAGAIN Multiple keys request during rehashing of slot\r\n"


@pytest.mark.parametrize("kind", KINDS)
def test_c13_moved_ask_tryagain_during_migration(kind: str, tmp_path: Path) -> None:
    with formed(kind, tmp_path) as nodes:
        masters = [n for n in nodes if role(n) == "master"]
        source, target = masters[0], masters[1]
        tag = tag_on(source)
        slot = key_slot(tag.encode())
        k1, k2, k3 = (f"{{{tag}}}:{name}" for name in ("k1", "k2", "new"))
        src, dst = RawClient("127.0.0.1", source.port), RawClient("127.0.0.1", target.port)
        assert src.call("MSET", k1, "one", k2, "two") == b"+OK\r\n"
        assert dst.call("CLUSTER", "SETSLOT", slot, "IMPORTING", node_id(source)) == b"+OK\r\n"
        assert src.call("CLUSTER", "SETSLOT", slot, "MIGRATING", node_id(target)) == b"+OK\r\n"
        # nothing moved yet: the source serves its keys, sends missing ones to the target
        assert src.call("GET", k1) == b"$3\r\none\r\n"
        assert src.call("GET", k3) == ask(slot, target)
        assert src.call("SET", k3, "x") == ask(slot, target)
        assert dst.call("GET", k1) == moved(slot, source)
        assert dst.call("ASKING") == b"+OK\r\n"
        assert dst.call("GET", k1) == b"$-1\r\n"
        assert dst.call("GET", k1) == moved(slot, source)  # ASKING covers one command
        # k1 moves: the source asks, multi-key requests spanning both nodes TRYAGAIN
        assert src.call("MIGRATE", "127.0.0.1", target.port, k1, 0, 5000) == b"+OK\r\n"
        assert src.call("GET", k1) == ask(slot, target)
        assert src.call("GET", k2) == b"$3\r\ntwo\r\n"
        assert src.call("MGET", k1, k2) == TRYAGAIN
        assert src.call("MSET", k1, "1", k2, "2") == TRYAGAIN
        assert dst.call("ASKING") == b"+OK\r\n"
        assert dst.call("GET", k1) == b"$3\r\none\r\n"
        assert dst.call("ASKING") == b"+OK\r\n"
        assert dst.call("MGET", k1, k2) == TRYAGAIN
        # the rest moves and the slot is assigned: MOVED everywhere to the target
        assert src.call("MIGRATE", "127.0.0.1", target.port, "", 0, 5000, "KEYS", k2) == b"+OK\r\n"
        assert src.call("MGET", k1, k2) == ask(slot, target)
        for node in (target, source):
            assert (
                cluster_procs.call(node, "CLUSTER", "SETSLOT", str(slot), "NODE", node_id(target))
                == "OK"
            )
        assert src.call("GET", k1) == moved(slot, target)
        assert dst.call("MGET", k1, k2) == b"*2\r\n$3\r\none\r\n$3\r\ntwo\r\n"
        src.close()
        dst.close()
        wait_until(
            "every node sees the slot on the target",
            lambda: all(_owner(n, slot) == target.port for n in nodes),
            nodes,
        )
        cluster_procs.wait_settled(nodes)


def _owner(viewer: ServerProcess, slot: int) -> int | None:
    c = conn(viewer)
    slots = command(c, "CLUSTER", "SLOTS")
    c.close()
    for first, last, master, *_ in slots:
        if first <= slot <= last:
            return int(master[1])
    return None


@pytest.mark.parametrize("kind", KINDS)
def test_c15_readonly_replica(kind: str, tmp_path: Path) -> None:
    with formed(kind, tmp_path) as nodes:
        master, replica = a_master_with_replica(nodes)
        tag = tag_on(master)
        slot = key_slot(tag.encode())
        a, h, s = (f"{{{tag}}}:{name}" for name in ("a", "h", "s"))
        m = RawClient("127.0.0.1", master.port)
        assert m.call("SET", a, "1") == b"+OK\r\n"
        assert m.call("HSET", h, "f", "2") == b":1\r\n"
        assert m.call("WAIT", 1, 30000) == b":1\r\n"
        r = RawClient("127.0.0.1", replica.port)
        assert r.call("GET", a) == moved(slot, master)
        assert r.call("READONLY") == b"+OK\r\n"
        assert r.call("GET", a) == b"$1\r\n1\r\n"
        assert r.call("HGET", h, "f") == b"$1\r\n2\r\n"
        assert r.call("SET", a, "2") == moved(slot, master)
        # a script declaring no flags runs here and fails at its write; one with a shebang
        # (flags=none: it may write) is routed as a write
        body = "return redis.call('del', KEYS[1])"
        sha = hashlib.sha1(body.encode()).hexdigest().encode()
        assert r.call("EVAL", body, 1, a) == (
            b"-READONLY You can't write against a read only replica. script: %s, "
            b"on @user_script:1.\r\n" % sha
        )
        assert r.call("EVAL", "#!lua\n" + body, 1, a) == moved(slot, master)
        assert r.call("EVAL_RO", "return redis.call('get', KEYS[1])", 1, a) == b"$1\r\n1\r\n"
        assert r.call("MULTI") == b"+OK\r\n"
        assert r.call("GET", a) == b"+QUEUED\r\n"
        assert r.call("HGET", h, "f") == b"+QUEUED\r\n"
        assert r.call("EXEC") == b"*2\r\n$1\r\n1\r\n$1\r\n2\r\n"
        assert r.call("MULTI") == b"+OK\r\n"
        assert r.call("HSET", h, "g", "3") == moved(slot, master)
        assert r.call("EXEC") == (
            b"-EXECABORT Transaction discarded because of previous errors.\r\n"
        )
        # a blocking read on the replica is woken by the replication stream
        r.send("XREAD", "BLOCK", 0, "STREAMS", s, "0")
        wait_until(
            "the replica's reader is blocked",
            lambda: "blocked_clients:1" in cluster_procs.call(replica, "INFO", "clients"),
            nodes,
        )
        assert m.call("XADD", s, "1-1", "foo", "bar") == b"$3\r\n1-1\r\n"
        expected = (
            b"*1\r\n*2\r\n$%d\r\n%s\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$3\r\nfoo\r\n"
            b"$3\r\nbar\r\n" % (len(s), s.encode())
        )
        assert r.read_reply() == expected
        assert r.call("READWRITE") == b"+OK\r\n"
        assert r.call("GET", a) == moved(slot, master)
        r.close()
        m.close()
        cluster_procs.wait_settled(nodes)
