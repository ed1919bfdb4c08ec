"""The real redis-cli --cluster, redis-benchmark --cluster and redis-py's RedisCluster
(sync and asyncio) against a slotd cluster: issue 8's acceptance path for the tools users
already have.

One cluster (3 masters + 3 replicas, formed by `redis-cli --cluster create`) goes through
the steps in order: check, reshard 1000 slots under a write load (every acknowledged write
readable afterwards), rebalance, add-node as a master and as a replica, del-node of both,
then the client workloads. Waits are generous deadlines; behaviour is asserted, never
timing."""

from __future__ import annotations

import asyncio
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis.asyncio
from redis.cluster import RedisCluster

from tests import cluster_procs, procs
from tests.procs import ServerProcess

# redis-py's RedisCluster drops connections it gives up on (timeouts, topology refreshes)
# without closing them; the ResourceWarning their collection raises is the client's.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]
DEADLINE = 90.0


@pytest.fixture(scope="module")
def slotd_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[ServerProcess]]:
    with cluster_procs.cluster("slotd", tmp_path_factory.mktemp("rcc")) as nodes:
        yield nodes


def redis_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    out = subprocess.run(
        [procs.redis_cli_bin(), *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    assert out.returncode == 0, f"redis-cli {' '.join(args)}:\n{out.stdout}\n{out.stderr}"
    return out


def addr(node: ServerProcess) -> str:
    return f"127.0.0.1:{node.port}"


def node_id(node: ServerProcess) -> str:
    return cluster_procs.call(node, "CLUSTER", "MYID")


def slot_count(node: ServerProcess) -> int:
    for fields in (
        line.split() for line in cluster_procs.call(node, "CLUSTER", "NODES").splitlines()
    ):
        if "myself" in fields[2]:
            total = 0
            for spec in fields[8:]:
                if not spec.startswith("["):
                    first, _, last = spec.partition("-")
                    total += int(last or first) - int(first) + 1
            return total
    return 0


def check_ok(nodes: list[ServerProcess]) -> None:
    """`redis-cli --cluster check` passes once the nodes agree (gossip may lag a moment
    behind the last SETSLOT)."""
    deadline = time.monotonic() + DEADLINE
    while True:
        out = subprocess.run(
            [procs.redis_cli_bin(), "--cluster", "check", addr(nodes[0])],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if out.returncode == 0 and "[OK] All 16384 slots covered." in out.stdout:
            return
        if time.monotonic() > deadline:
            pytest.fail(
                f"redis-cli --cluster check never passed:\n{out.stdout}\n"
                f"{cluster_procs.logs(nodes)}"
            )
        time.sleep(0.5)


def masters_of(nodes: list[ServerProcess]) -> list[ServerProcess]:
    ports = cluster_procs.masters(nodes)
    return [n for n in nodes if n.port in ports]


def test_check(slotd_cluster: list[ServerProcess]) -> None:
    out = redis_cli("--cluster", "check", addr(slotd_cluster[0])).stdout
    assert "[OK] All nodes agree about slots configuration." in out
    assert "[OK] All 16384 slots covered." in out
    assert out.count("additional replica(s)") == 3


def test_reshard_1000_slots_under_writes(slotd_cluster: list[ServerProcess]) -> None:
    source, target = masters_of(slotd_cluster)[:2]
    before = slot_count(source), slot_count(target)
    acked: dict[str, str] = {}
    failures: list[BaseException] = []
    stop = threading.Event()

    def writer() -> None:
        rc = RedisCluster(host="127.0.0.1", port=slotd_cluster[0].port, socket_timeout=10)
        try:
            i = 0
            while not stop.is_set():
                rc.set(f"rw{i}", str(i))
                acked[f"rw{i}"] = str(i)
                i += 1
        except BaseException as exc:
            failures.append(exc)
        finally:
            rc.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        redis_cli(
            "--cluster",
            "reshard",
            addr(source),
            "--cluster-from",
            node_id(source),
            "--cluster-to",
            node_id(target),
            "--cluster-slots",
            "1000",
            "--cluster-yes",
        )
    finally:
        stop.set()
        thread.join(timeout=60)
    assert not failures, failures
    check_ok(slotd_cluster)
    assert (slot_count(source), slot_count(target)) == (before[0] - 1000, before[1] + 1000)
    assert acked
    rc = RedisCluster(host="127.0.0.1", port=slotd_cluster[0].port, socket_timeout=10)
    try:
        for key, value in acked.items():
            assert rc.get(key) == value.encode(), key
    finally:
        rc.close()


def test_rebalance(slotd_cluster: list[ServerProcess]) -> None:
    out = redis_cli("--cluster", "rebalance", addr(slotd_cluster[0])).stdout
    assert "Moving" in out
    check_ok(slotd_cluster)
    assert sorted(slot_count(m) for m in masters_of(slotd_cluster)) == [5461, 5461, 5462]


def test_add_node_as_master_and_replica_then_del_node(
    slotd_cluster: list[ServerProcess], tmp_path: Path
) -> None:
    new_master = cluster_procs.start_node("slotd", tmp_path, "--cluster-node-timeout", "2000")
    new_replica = cluster_procs.start_node("slotd", tmp_path, "--cluster-node-timeout", "2000")
    try:
        out = redis_cli("--cluster", "add-node", addr(new_master), addr(slotd_cluster[0]))
        assert "[OK] New node added correctly." in out.stdout
        grown = [*slotd_cluster, new_master]
        cluster_procs.wait_ok(grown)
        master_id = node_id(new_master)
        out = redis_cli(
            "--cluster",
            "add-node",
            addr(new_replica),
            addr(slotd_cluster[0]),
            "--cluster-slave",
            "--cluster-master-id",
            master_id,
        )
        assert "[OK] New node added correctly." in out.stdout
        grown.append(new_replica)
        cluster_procs.wait_ok(grown)
        deadline = time.monotonic() + DEADLINE
        while "role:slave" not in cluster_procs.call(new_replica, "INFO", "replication"):
            assert time.monotonic() < deadline, cluster_procs.logs(grown)
            time.sleep(0.2)
        check_ok(grown)
        for node in (new_replica, new_master):
            name = node_id(node)
            out = redis_cli("--cluster", "del-node", addr(slotd_cluster[0]), name)
            assert "Sending CLUSTER RESET SOFT to the deleted node." in out.stdout
            assert name not in cluster_procs.call(slotd_cluster[0], "CLUSTER", "NODES")
            assert cluster_procs.call(node, "CLUSTER", "INFO").count("cluster_known_nodes:1")
        cluster_procs.wait_ok(slotd_cluster)
        check_ok(slotd_cluster)
    finally:
        new_master.stop()
        new_replica.stop()


def test_redis_benchmark_cluster(slotd_cluster: list[ServerProcess]) -> None:
    out = subprocess.run(
        [
            "redis-benchmark",
            "--cluster",
            "-h",
            "127.0.0.1",
            "-p",
            str(slotd_cluster[0].port),
            "-t",
            "set,get",
            "-n",
            "3000",
            "-c",
            "10",
            "-r",
            "1000",
            "--csv",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert '"SET",' in out.stdout and '"GET",' in out.stdout
    assert "Cluster has 3 master nodes" in out.stdout


def test_redis_py_cluster_sync_and_asyncio(slotd_cluster: list[ServerProcess]) -> None:
    port = slotd_cluster[0].port
    rc = RedisCluster(host="127.0.0.1", port=port, socket_timeout=10)
    try:
        assert len(rc.get_primaries()) == 3  # type: ignore[no-untyped-call]
        for i in range(200):
            rc.set(f"py{i}", i)
        assert rc.mget_nonatomic([f"py{i}" for i in range(200)]) == [
            str(i).encode() for i in range(200)
        ]
    finally:
        rc.close()

    async def main() -> None:
        arc = redis.asyncio.RedisCluster(host="127.0.0.1", port=port, socket_timeout=10)
        try:
            for i in range(200):
                assert await arc.get(f"py{i}") == str(i).encode()
            await arc.set("{a}x", "1")
            pipe = arc.pipeline()
            pipe.incr("{a}x")
            pipe.get("{a}x")
            assert await pipe.execute() == [2, b"2"]
        finally:
            await arc.aclose()

    asyncio.run(main())
