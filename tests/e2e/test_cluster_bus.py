"""The cluster bus on real processes: slotd nodes form a cluster over their bus ports
(ADDSLOTSRANGE + CLUSTER MEET, and `redis-cli --cluster create` with replicas), clients
use it (redis-py's RedisCluster, `redis-cli --cluster check`), PUBLISH crosses nodes, and a
stopped master is flagged fail by the others, then cleared when it answers again. The
MEET-formed tests run on real redis-servers too: the same assertions hold for both.

No timing assertions: waits are generous deadlines that only turn a hang into a failure."""

from __future__ import annotations

import signal
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from redis.cluster import RedisCluster

from tests import cluster_procs, procs
from tests.cluster_procs import wait_until
from tests.e2e.test_tls import Certs, certs  # noqa: F401 (the certificates fixture)
from tests.procs import ServerProcess

# redis-py's RedisCluster drops connections it gives up on (timeouts, topology refreshes)
# without closing them; the ResourceWarning their collection raises is the client's.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]
DEADLINE = 60.0


def line_of(viewer: ServerProcess, about: ServerProcess) -> list[str]:
    """`about`'s CLUSTER NODES line as `viewer` prints it (split)."""
    for line in cluster_procs.call(viewer, "CLUSTER", "NODES").splitlines():
        fields = line.split()
        if fields and fields[1].startswith(f"127.0.0.1:{about.port}@"):
            return fields
    return []


@contextmanager
def meet_three(kind: str, directory: Path, *extra: str) -> Iterator[list[ServerProcess]]:
    """Three masters sharing the slots, joined by CLUSTER MEET."""
    nodes = cluster_procs.start_nodes(kind, directory, 3, "--cluster-node-timeout", "2000", *extra)
    try:
        for node, (first, last) in zip(
            nodes, ((0, 5460), (5461, 10922), (10923, 16383)), strict=True
        ):
            assert (
                cluster_procs.call(node, "CLUSTER", "ADDSLOTSRANGE", str(first), str(last)) == "OK"
            )
        for node in nodes[1:]:
            assert (
                cluster_procs.call(nodes[0], "CLUSTER", "MEET", "127.0.0.1", str(node.port)) == "OK"
            )
        cluster_procs.wait_ok(nodes)
        yield nodes
    finally:
        for node in nodes:
            if node.alive():
                assert node.proc is not None
                node.proc.send_signal(signal.SIGCONT)  # a stopped node must run to exit
            node.stop()


@pytest.fixture(params=["slotd", "redis"])
def met(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[list[ServerProcess]]:
    with meet_three(request.param, tmp_path) as nodes:
        yield nodes


def test_meet_forms_a_cluster_clients_can_use(met: list[ServerProcess]) -> None:
    views = {cluster_procs.call(n, "CLUSTER", "SLOTS") for n in met}
    assert len(views) == 1
    for node in met:
        for other in met:
            fields = line_of(node, other)
            assert fields and fields[7] == "connected", fields
            assert "handshake" not in fields[2]
    links = cluster_procs.call(met[0], "CLUSTER", "LINKS").splitlines()
    assert links.count("to") == 2 and links.count("from") == 2
    check = subprocess.run(
        [procs.redis_cli_bin(), "--cluster", "check", f"127.0.0.1:{met[0].port}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert check.returncode == 0, check.stdout
    assert "[OK] All 16384 slots covered." in check.stdout
    rc = RedisCluster(host="127.0.0.1", port=met[0].port, socket_timeout=5)
    try:
        assert len(rc.get_nodes()) == 3  # type: ignore[no-untyped-call]
        values = {f"key:{i}": str(i) for i in range(200)}
        for key, value in values.items():
            assert rc.set(key, value)
        assert [rc.get(k) for k in values] == [v.encode() for v in values.values()]
    finally:
        rc.close()
    sizes = [int(cluster_procs.call(n, "DBSIZE")) for n in met]
    assert sum(sizes) == 200 and all(sizes)


def test_publish_reaches_a_subscriber_on_another_node(met: list[ServerProcess]) -> None:
    with socket.create_connection(met[2].addr, timeout=10) as sub:
        sub.sendall(b"SUBSCRIBE news\r\n")
        got = b""
        while got.count(b"\r\n") < 6:
            got += sub.recv(4096)
        assert cluster_procs.call(met[0], "PUBLISH", "news", "hello") == "0"
        deadline = time.monotonic() + DEADLINE
        while b"hello" not in got:
            assert time.monotonic() < deadline
            got += sub.recv(4096)
    assert got.endswith(b"*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$5\r\nhello\r\n")


def test_stopped_master_fails_then_recovers(met: list[ServerProcess]) -> None:
    victim = met[2]
    others = met[:2]
    assert victim.proc is not None
    victim.proc.send_signal(signal.SIGSTOP)
    try:
        wait_until(
            "the others flag it fail",
            lambda: all("fail" in line_of(n, victim)[2].split(",") for n in others),
            met,
        )
        for node in others:
            assert "cluster_state:fail" in cluster_procs.call(node, "CLUSTER", "INFO")
    finally:
        victim.proc.send_signal(signal.SIGCONT)
    # A master still serving its slots is cleared once it answers again (after a while).
    wait_until("FAIL cleared", lambda: all(line_of(n, victim)[2] == "master" for n in others), met)
    cluster_procs.wait_ok(met)


def test_redis_cli_cluster_create_with_replicas(tmp_path: Path) -> None:
    with cluster_procs.cluster("slotd", tmp_path, 3, 1) as nodes:
        roles = [cluster_procs.call(n, "ROLE").splitlines()[0] for n in nodes]
        assert sorted(roles) == ["master"] * 3 + ["slave"] * 3
        check = subprocess.run(
            [procs.redis_cli_bin(), "--cluster", "check", f"127.0.0.1:{nodes[0].port}"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert check.returncode == 0, check.stdout
        assert "[OK] All nodes agree about slots configuration." in check.stdout
        rc = RedisCluster(host="127.0.0.1", port=nodes[0].port, socket_timeout=5)
        try:
            for i in range(50):
                rc.set(f"k{i}", i)
        finally:
            rc.close()
        # Every replica gets its master's keys.
        replicas = [n for n, r in zip(nodes, roles, strict=True) if r == "slave"]
        wait_until(
            "replicas hold their masters' keys",
            lambda: sum(int(cluster_procs.call(n, "DBSIZE") or 0) for n in replicas) == 50,
            nodes,
        )


def test_bus_over_tls(certs: Certs, tmp_path: Path) -> None:  # noqa: F811
    """tls-cluster yes: the cluster forms over TLS links."""
    with meet_three("slotd", tmp_path, *certs.server_args("--tls-cluster", "yes")) as nodes:
        links = cluster_procs.call(nodes[0], "CLUSTER", "LINKS").splitlines()
        assert links.count("to") == 2 and links.count("from") == 2
        ctx = ssl.create_default_context(cafile=str(certs.ca))
        ctx.load_cert_chain(str(certs.client_cert), str(certs.client_key))
        address = ("127.0.0.1", nodes[0].port + 10000)
        with (
            socket.create_connection(address, timeout=10) as raw,
            ctx.wrap_socket(raw, server_hostname="localhost") as tls,
        ):
            assert tls.version() is not None  # the bus port speaks TLS
        cluster_procs.wait_ok(nodes)
