"""Clusters of real processes for socket-level tests: N slotd nodes (or real redis-servers,
for comparison) on 127.0.0.1, formed the way a user forms them.

Rules:
- Each node gets a port whose bus port (port + 10000) is free too; ports come from
  20000-55000 so the bus port stays below 65536 (the kernel's ephemeral range would not).
- `create` runs the real `redis-cli --cluster create ... --cluster-yes`: the acceptance
  path issue 8 names, so every test that uses a cluster also exercises it.
- No timing assertions: waits are generous deadlines that only turn a hang into a failure,
  with every node's log tail in the message.
"""

from __future__ import annotations

import random
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests import procs
from tests.procs import ServerProcess

BUS_PORT_OFFSET = 10000
FORM_TIMEOUT = 90.0  # seconds until every node reports cluster_state:ok


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_cluster_port(rng: random.Random | None = None) -> int:
    """A port that is free together with its bus port."""
    rng = rng or random.Random()
    for _ in range(1000):
        port = rng.randrange(20000, 55000)
        if _port_free(port) and _port_free(port + BUS_PORT_OFFSET):
            return port
    raise RuntimeError("no free port pair for a cluster node")


def start_node(kind: str, directory: Path, *extra: str) -> ServerProcess:
    """One cluster-enabled node ("slotd" or "redis"), retried on a lost port race."""
    args = ("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", *extra)
    for _ in range(3):
        port = free_cluster_port()
        node_dir = directory / f"{kind}-{port}"
        if kind == "slotd":
            argv = procs.slotd_command(port, node_dir, *args)
        else:
            argv = procs.redis_command(procs.redis_server_bin(), port, node_dir, *args)
        server = ServerProcess(kind, argv, port, node_dir)
        server.spawn()
        if server.wait_ready():
            return server
        server.stop()
    pytest.fail(f"{kind} cluster node exited during startup")


def call(server: ServerProcess, *args: str, timeout: float = 10.0) -> str:
    """One command through redis-cli; its output (stripped)."""
    out = subprocess.run([procs.redis_cli_bin(), "-p", str(server.port), *args],
                         capture_output=True, text=True, timeout=timeout, check=False)
    return out.stdout.strip()


def logs(nodes: Sequence[ServerProcess]) -> str:
    return "\n".join(f"--- {n} ---\n{n.log_tail(15)}" for n in nodes)


def wait_ok(nodes: Sequence[ServerProcess], timeout: float = FORM_TIMEOUT) -> None:
    """Every node reports cluster_state:ok and knows every other node."""
    deadline = time.monotonic() + timeout
    pending = list(nodes)
    while pending:
        node = pending[0]
        info = call(node, "CLUSTER", "INFO")
        if "cluster_state:ok" in info and f"cluster_known_nodes:{len(nodes)}" in info:
            pending.pop(0)
            continue
        if time.monotonic() > deadline:
            pytest.fail(f"{node} never reached cluster_state:ok with {len(nodes)} nodes:\n"
                        f"{info}\n{logs(nodes)}")
        time.sleep(0.1)


def create(nodes: Sequence[ServerProcess], replicas: int) -> str:
    """`redis-cli --cluster create` over `nodes`; its output. Fails the test if it fails."""
    argv = [procs.redis_cli_bin(), "--cluster", "create",
            *(f"127.0.0.1:{n.port}" for n in nodes),
            "--cluster-replicas", str(replicas), "--cluster-yes"]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=FORM_TIMEOUT,
                         check=False)
    if out.returncode != 0:
        pytest.fail(f"redis-cli --cluster create failed ({out.returncode}):\n{out.stdout}\n"
                    f"{out.stderr}\n{logs(nodes)}")
    return out.stdout


@contextmanager
def cluster(kind: str, directory: Path, masters: int = 3, replicas: int = 1,
            node_timeout: int = 2000, *extra: str) -> Iterator[list[ServerProcess]]:
    """A formed cluster of `masters * (1 + replicas)` nodes; every node stopped at the end."""
    nodes: list[ServerProcess] = []
    try:
        while len(nodes) < masters * (1 + replicas):  # one by one: a failure stops the rest
            nodes.append(start_node(kind, directory, "--cluster-node-timeout",
                                    str(node_timeout), *extra))
        create(nodes, replicas)
        wait_ok(nodes)
        yield nodes
    finally:
        for node in nodes:
            node.stop()
