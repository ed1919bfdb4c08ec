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
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests import procs
from tests.procs import ServerProcess

BUS_PORT_OFFSET = 10000
FORM_TIMEOUT = 90.0  # seconds until every node reports cluster_state:ok


def free_cluster_port(rng: random.Random | None = None) -> int:
    """A port that is free together with its bus port."""
    rng = rng or random.Random()
    for _ in range(1000):
        port = rng.randrange(20000, 55000)
        if procs.port_free(port) and procs.port_free(port + BUS_PORT_OFFSET):
            return port
    raise RuntimeError("no free port pair for a cluster node")


def _spawn_node(kind: str, directory: Path, args: Sequence[str], taken: set[int]) -> ServerProcess:
    """Spawn one cluster-enabled node on a fresh port pair (not one in `taken`), unwaited."""
    port = free_cluster_port()
    while port in taken:
        port = free_cluster_port()
    taken.add(port)
    return procs.spawn_server(kind, port, directory / f"{kind}-{port}", *args)


def start_nodes(kind: str, directory: Path, count: int, *extra: str) -> list[ServerProcess]:
    """`count` cluster-enabled nodes ("slotd" or "redis"), in order. They are all spawned
    before any is waited for: a slotd start is mostly its interpreter's import work, so the
    starts overlap instead of queueing. A node that exits before answering (a lost port
    race) is started again on another port, up to three times."""
    args = ("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", *extra)
    taken: set[int] = set()
    nodes: list[ServerProcess] = []
    try:
        nodes = [_spawn_node(kind, directory, args, taken) for _ in range(count)]
        for i in range(count):
            for _ in range(3):
                if nodes[i].wait_ready():
                    break
                nodes[i].stop()
                nodes[i] = _spawn_node(kind, directory, args, taken)
            else:
                pytest.fail(f"{kind} cluster node exited during startup:\n{nodes[i].log_tail()}")
    except BaseException:
        for node in nodes:
            node.stop()
        raise
    return nodes


def start_node(kind: str, directory: Path, *extra: str) -> ServerProcess:
    """One cluster-enabled node ("slotd" or "redis"), retried on a lost port race."""
    return start_nodes(kind, directory, 1, *extra)[0]


def call(server: ServerProcess, *args: str, timeout: float = 10.0) -> str:
    """One command through redis-cli; its output (stripped)."""
    out = subprocess.run(
        [procs.redis_cli_bin(), "-p", str(server.port), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return out.stdout.strip()


def logs(nodes: Sequence[ServerProcess]) -> str:
    return "\n".join(f"--- {n} ---\n{n.log_tail(15)}" for n in nodes)


def wait_until(
    what: str, check: Callable[[], bool], nodes: Sequence[ServerProcess], timeout: float = 60.0
) -> None:
    """Poll `check` until it holds; after `timeout` seconds (a hang, not a slow failover)
    fail the test, saying what never happened, with the nodes' logs."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"never: {what}\n{logs(nodes)}")
        time.sleep(0.1)


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
            pytest.fail(
                f"{node} never reached cluster_state:ok with {len(nodes)} nodes:\n"
                f"{info}\n{logs(nodes)}"
            )
        time.sleep(0.1)


def create(nodes: Sequence[ServerProcess], replicas: int) -> str:
    """`redis-cli --cluster create` over `nodes`; its output. Fails the test if it fails."""
    argv = [
        procs.redis_cli_bin(),
        "--cluster",
        "create",
        *(f"127.0.0.1:{n.port}" for n in nodes),
        "--cluster-replicas",
        str(replicas),
        "--cluster-yes",
    ]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=FORM_TIMEOUT, check=False)
    if out.returncode != 0:
        pytest.fail(
            f"redis-cli --cluster create failed ({out.returncode}):\n{out.stdout}\n"
            f"{out.stderr}\n{logs(nodes)}"
        )
    return out.stdout


@contextmanager
def cluster(
    kind: str,
    directory: Path,
    masters: int = 3,
    replicas: int = 1,
    node_timeout: int = 2000,
    *extra: str,
) -> Iterator[list[ServerProcess]]:
    """A formed cluster of `masters * (1 + replicas)` nodes; every node stopped at the end.
    Replicas sync at once (repl-diskless-sync-delay 0, `extra` may say otherwise): the
    default waits 5 s for more replicas before each sync, which every test would sit out."""
    nodes = start_nodes(
        kind,
        directory,
        masters * (1 + replicas),
        "--cluster-node-timeout",
        str(node_timeout),
        "--repl-diskless-sync-delay",
        "0",
        *extra,
    )
    try:
        create(nodes, replicas)
        wait_ok(nodes)
        yield nodes
    finally:
        for node in nodes:
            node.stop()


# --- RELIABILITY.md S-3: the settled cluster -------------------------------------------------
def _nodes_lines(server: ServerProcess) -> list[list[str]]:
    return [line.split() for line in call(server, "CLUSTER", "NODES").splitlines() if line.strip()]


def _info(server: ServerProcess) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in call(server, "CLUSTER", "INFO").splitlines():
        name, _, value = line.partition(":")
        out[name] = value.strip()
    return out


def _owners(lines: list[list[str]]) -> dict[int, str]:
    """slot -> master id, from CLUSTER NODES lines (migration markers `[...]` skipped)."""
    owners: dict[int, str] = {}
    for fields in lines:
        if "master" not in fields[2].split(",") or "fail" in fields[2].split(","):
            continue
        for spec in fields[8:]:
            if spec.startswith("["):
                continue
            first, _, last = spec.partition("-")
            for slot in range(int(first), int(last or first) + 1):
                owners[slot] = fields[0]
    return owners


def s3_violations(nodes: Sequence[ServerProcess]) -> list[str]:
    """What breaks S-3 now: exactly one master per slot, all 16384 slots covered,
    cluster_state:ok, the same slot map on every node, unique master config epochs, and
    currentEpoch >= configEpoch everywhere. Empty when the cluster has settled."""
    problems: list[str] = []
    views: list[dict[int, str]] = []
    for node in nodes:
        lines, info = _nodes_lines(node), _info(node)
        if info.get("cluster_state") != "ok":
            problems.append(f"{node}: cluster_state:{info.get('cluster_state')}")
        owners = _owners(lines)
        if len(owners) != 16384:
            problems.append(f"{node}: {16384 - len(owners)} slots without a live master")
        views.append(owners)
        epochs = [int(f[6]) for f in lines if "master" in f[2].split(",") and len(f) > 8]
        if len(epochs) != len(set(epochs)):
            problems.append(f"{node}: masters share a config epoch {sorted(epochs)}")
        current = int(info.get("cluster_current_epoch", "0"))
        if epochs and current < max(epochs):
            problems.append(f"{node}: currentEpoch {current} < configEpoch {max(epochs)}")
    if views and any(view != views[0] for view in views[1:]):
        problems.append("nodes disagree on slot owners")
    return problems


def wait_settled(nodes: Sequence[ServerProcess], timeout: float = FORM_TIMEOUT) -> None:
    """Wait until S-3 holds on every node (fails with the last violations and logs)."""
    deadline = time.monotonic() + timeout
    while True:
        problems = s3_violations(nodes)
        if not problems:
            return
        if time.monotonic() > deadline:
            pytest.fail("cluster never settled (S-3):\n" + "\n".join(problems) + "\n" + logs(nodes))
        time.sleep(0.2)


def masters(nodes: Sequence[ServerProcess]) -> set[int]:
    """The ports of the nodes that are masters serving slots, as the first node sees it."""
    ports: set[int] = set()
    for fields in _nodes_lines(nodes[0]):
        flags = fields[2].split(",")
        if "master" in flags and "fail" not in flags and len(fields) > 8:
            ports.add(int(fields[1].split("@")[0].rsplit(":", 1)[1]))
    return ports
