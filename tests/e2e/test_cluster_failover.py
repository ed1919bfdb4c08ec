"""Failover on real processes: 3 masters + 3 replicas formed by `redis-cli --cluster create`
with node_timeout 2000 ms (slotd, and a real redis-server cluster as the reference the same
assertions must pass on).

- A SIGKILLed master is replaced by its replica, the cluster is `ok` again, acknowledged
  and replicated writes survive, and the old master, restarted, rejoins as a replica of
  its successor.
- CLUSTER FAILOVER under a write load (redis-py RedisCluster, each write acknowledged)
  loses no acknowledged write.

Waits are generous deadlines that only turn a hang into a failure: behaviour is asserted,
never timing."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
import redis
from redis.cluster import RedisCluster
from redis.crc import key_slot

from tests import cluster_procs, procs
from tests.cluster_procs import wait_until
from tests.procs import ServerProcess

# redis-py's RedisCluster drops connections it gives up on (timeouts, topology refreshes)
# without closing them; the ResourceWarning their collection raises is the client's.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]
KINDS = ["redis", "slotd"]


def nodes_view(server: ServerProcess) -> list[list[str]]:
    """CLUSTER NODES as split lines (empty if the node does not answer)."""
    return [
        line.split()
        for line in cluster_procs.call(server, "CLUSTER", "NODES").splitlines()
        if line.strip()
    ]


def myself(server: ServerProcess) -> list[str]:
    for fields in nodes_view(server):
        if "myself" in fields[2].split(","):
            return fields
    return []


def role(server: ServerProcess) -> str:
    fields = myself(server)
    return "" if not fields else "master" if "master" in fields[2] else "slave"


def current_epoch(server: ServerProcess) -> str:
    info = cluster_procs.call(server, "CLUSTER", "INFO")
    return next(line for line in info.splitlines() if line.startswith("cluster_current_epoch"))


def all_ok(nodes: Sequence[ServerProcess]) -> bool:
    return all("cluster_state:ok" in cluster_procs.call(n, "CLUSTER", "INFO") for n in nodes)


def synced(nodes: Sequence[ServerProcess]) -> None:
    """Every replica has finished its first sync (a fault during it leaves a replica whose
    data counts as stale, which never fails over, as in Redis) and every node knows every
    role (a vote needs the voter to know the candidate's master)."""

    def ready() -> bool:
        for node in nodes:
            if role(node) == "slave" and "master_link_status:up" not in cluster_procs.call(
                node, "INFO", "replication"
            ):
                return False
        return all(sum("slave" in f[2] for f in nodes_view(n)) == len(nodes) // 2 for n in nodes)

    wait_until("the replicas are synced and every role known", ready, nodes)


def pair(nodes: Sequence[ServerProcess]) -> tuple[ServerProcess, ServerProcess]:
    """A master serving slots and one of its replicas."""
    by_id = {myself(n)[0]: n for n in nodes}
    for node in nodes:
        fields = myself(node)
        if "slave" in fields[2]:
            return by_id[fields[3]], node
    pytest.fail(f"no replica found\n{cluster_procs.logs(nodes)}")


def client(nodes: Sequence[ServerProcess]) -> RedisCluster:
    return RedisCluster(host="127.0.0.1", port=nodes[0].port, socket_timeout=5)


def keys_of(master: ServerProcess, count: int) -> list[str]:
    """`count` key names that hash to slots `master` serves."""
    ranges = [
        tuple(map(int, r.split("-"))) if "-" in r else (int(r), int(r))
        for r in myself(master)[8:]
        if not r.startswith("[")
    ]
    out: list[str] = []
    i = 0
    while len(out) < count:
        name = f"key:{i}"
        slot = key_slot(name.encode())
        if any(lo <= slot <= hi for lo, hi in ranges):
            out.append(name)
        i += 1
    return out


@pytest.mark.parametrize("kind", KINDS)
def test_killed_master_is_replaced_then_rejoins_as_replica(kind: str, tmp_path: Path) -> None:
    if kind == "redis":
        procs.redis_server_bin()
    with cluster_procs.cluster(kind, tmp_path, 3, 1, 2000) as nodes:
        synced(nodes)
        master, replica = pair(nodes)
        master_id, replica_id = myself(master)[0], myself(replica)[0]
        keys = keys_of(master, 20)
        conn = redis.Redis(port=master.port)
        for key in keys:
            conn.set(key, key)
        assert conn.wait(1, 5000) == 1  # the replica has them
        conn.close()
        master.stop(signal.SIGKILL)
        survivors = [n for n in nodes if n is not master]
        wait_until("the replica is promoted", lambda: role(replica) == "master", survivors)
        wait_until(
            "every node sees the new master and the cluster ok",
            lambda: (
                all_ok(survivors)
                and all(
                    any(
                        f[0] == replica_id and "master" in f[2] and len(f) > 8
                        for f in nodes_view(n)
                    )
                    for n in survivors
                )
            ),
            survivors,
        )
        rc = client(survivors)
        assert [rc.get(key) for key in keys] == [key.encode() for key in keys]
        master.spawn()
        assert master.wait_ready()
        wait_until(
            "the old master rejoins as a replica of its successor",
            lambda: role(master) == "slave" and myself(master)[3] == replica_id,
            nodes,
        )
        wait_until(
            "every node sees it as a replica",
            lambda: (
                all(
                    any(
                        f[0] == master_id and "slave" in f[2] and f[3] == replica_id
                        for f in nodes_view(n)
                    )
                    for n in nodes
                )
                and all_ok(nodes)
            ),
            nodes,
        )
        wait_until(
            "it replicates its successor",
            lambda: "master_link_status:up" in cluster_procs.call(master, "INFO", "replication"),
            nodes,
        )
        rc.close()
        cluster_procs.wait_settled(nodes)  # RELIABILITY.md S-3


@pytest.mark.parametrize("kind", KINDS)
def test_manual_failover_under_writes_loses_no_acknowledged_write(
    kind: str, tmp_path: Path
) -> None:
    if kind == "redis":
        procs.redis_server_bin()
    with cluster_procs.cluster(kind, tmp_path, 3, 1, 2000) as nodes:
        synced(nodes)
        master, replica = pair(nodes)
        keys = keys_of(master, 5000)
        acked: dict[str, str] = {}
        stop = threading.Event()
        errors: list[str] = []

        def write() -> None:
            rc = client(nodes)
            i = 0
            while not stop.is_set() and i < len(keys):
                key = keys[i]
                try:
                    if rc.set(key, str(i)):
                        acked[key] = str(i)
                    i += 1
                except redis.RedisError as exc:  # refused: not acknowledged, tried again
                    errors.append(repr(exc))
                    time.sleep(0.05)
            rc.close()

        writer = threading.Thread(target=write)
        writer.start()
        try:
            wait_until("some writes", lambda: len(acked) > 100, nodes)
            assert cluster_procs.call(replica, "CLUSTER", "FAILOVER") == "OK"
            wait_until("the replica takes over", lambda: role(replica) == "master", nodes)
            wait_until("the old master follows it", lambda: role(master) == "slave", nodes)
            count = len(acked)
            wait_until("writes go on after the failover", lambda: len(acked) > count + 100, nodes)
        finally:
            stop.set()
            writer.join(30)
        rc = client(nodes)
        lost = [key for key, value in acked.items() if rc.get(key) != value.encode()]
        rc.close()
        assert not lost, f"{len(lost)} acknowledged writes lost, e.g. {lost[:5]}; {errors[:3]}"
        cluster_procs.wait_settled(nodes)


@pytest.mark.parametrize("kind", KINDS)
def test_forced_failover_of_a_frozen_master(kind: str, tmp_path: Path) -> None:
    """FORCE needs no answer from the master: it is stopped (SIGSTOP) the whole time, and
    once it runs again it follows its successor."""
    if kind == "redis":
        procs.redis_server_bin()
    with cluster_procs.cluster(kind, tmp_path, 3, 1, 2000) as nodes:
        synced(nodes)
        master, replica = pair(nodes)
        replica_id = myself(replica)[0]
        assert master.proc is not None
        master.proc.send_signal(signal.SIGSTOP)
        try:
            assert cluster_procs.call(replica, "CLUSTER", "FAILOVER", "FORCE") == "OK"
            others = [n for n in nodes if n is not master]
            wait_until("the replica takes over", lambda: role(replica) == "master", others)
            wait_until(
                "the cluster is ok without the frozen master", lambda: all_ok(others), others
            )
        finally:
            master.proc.send_signal(signal.SIGCONT)
        wait_until(
            "the old master follows its successor",
            lambda: role(master) == "slave" and myself(master)[3] == replica_id,
            nodes,
        )
        cluster_procs.wait_settled(nodes)


@pytest.mark.parametrize("kind", KINDS)
def test_takeover_after_a_majority_of_masters_died(kind: str, tmp_path: Path) -> None:
    """No election can succeed with two of three masters gone: TAKEOVER on their replicas
    brings the cluster back."""
    if kind == "redis":
        procs.redis_server_bin()
    with cluster_procs.cluster(kind, tmp_path, 3, 1, 2000) as nodes:
        synced(nodes)
        by_id = {myself(n)[0]: n for n in nodes}
        pairs = [(by_id[myself(n)[3]], n) for n in nodes if "slave" in myself(n)[2]]
        (dead1, heir1), (dead2, heir2) = pairs[:2]
        dead1.stop(signal.SIGKILL)
        dead2.stop(signal.SIGKILL)
        live = [n for n in nodes if n not in (dead1, dead2)]
        wait_until(
            "the cluster notices it is down",
            lambda: all(
                "cluster_state:fail" in cluster_procs.call(n, "CLUSTER", "INFO") for n in live
            ),
            live,
        )
        for heir in (heir1, heir2):
            assert cluster_procs.call(heir, "CLUSTER", "FAILOVER", "TAKEOVER") == "OK"
        wait_until(
            "both replicas are masters and the cluster ok",
            lambda: role(heir1) == role(heir2) == "master" and all_ok(live),
            live,
        )
        epochs = {myself(n)[6] for n in live if role(n) == "master"}
        assert len(epochs) == 3  # unique config epochs


@pytest.mark.parametrize("kind", KINDS)
def test_a_restarted_replica_follows_its_master_again(kind: str, tmp_path: Path) -> None:
    """A replica killed outside any failover comes back from nodes.conf as a replica and
    starts replicating by itself (clusterCron's step for a replica with replication off),
    catching up with what was written meanwhile; nothing fails over."""
    if kind == "redis":
        procs.redis_server_bin()
    with cluster_procs.cluster(kind, tmp_path, 3, 1, 2000) as nodes:
        synced(nodes)
        master, replica = pair(nodes)
        master_id = myself(master)[0]
        epoch = current_epoch(master)
        replica.stop(signal.SIGKILL)
        keys = keys_of(master, 10)
        conn = redis.Redis(port=master.port)
        for key in keys:
            conn.set(key, key)
        replica.spawn()
        assert replica.wait_ready()
        wait_until(
            "the replica replicates its master again",
            lambda: (
                myself(replica)[3] == master_id
                and "master_link_status:up" in cluster_procs.call(replica, "INFO", "replication")
            ),
            nodes,
        )
        assert conn.wait(1, 10000) == 1
        conn.close()
        assert current_epoch(master) == epoch  # no election happened
        cluster_procs.wait_settled(nodes)
