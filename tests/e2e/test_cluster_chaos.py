"""Process-level faults on a 3-master, 3-replica cluster (node_timeout 2000 ms), each run on
slotd and on a real redis-server cluster as the reference (RELIABILITY.md scenarios):

- C04: a master paused (SIGSTOP) for less than node_timeout causes no failover.
- C03: a master paused for longer than node_timeout is replaced by its replica; resumed,
  it rejoins as a replica.
Both end with S-3: one master per slot, every slot covered, the same view everywhere,
unique config epochs, currentEpoch >= configEpoch.

Waits are generous deadlines; behaviour is asserted, never timing. The short pause is the
one timing-dependent input: 500 ms against a 2000 ms node_timeout leaves a stalled
machine 1.5 s of slack before PFAIL could even start."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from tests import cluster_procs
from tests.procs import ServerProcess

pytestmark = pytest.mark.slow
NODE_TIMEOUT_MS = 2000


def replicas_synced(nodes: list[ServerProcess]) -> None:
    deadline = time.monotonic() + cluster_procs.FORM_TIMEOUT
    for node in nodes:
        while True:
            info = cluster_procs.call(node, "INFO", "replication")
            if "role:master" in info or "master_link_status:up" in info:
                break
            if time.monotonic() > deadline:
                pytest.fail(f"{node} never finished its sync\n{cluster_procs.logs(nodes)}")
            time.sleep(0.1)


@pytest.mark.parametrize("kind", ["slotd", "redis"])
def test_short_pause_causes_no_failover(kind: str, tmp_path: Path) -> None:
    with cluster_procs.cluster(kind, tmp_path, node_timeout=NODE_TIMEOUT_MS) as nodes:
        replicas_synced(nodes)
        before = cluster_procs.masters(nodes)
        victim = next(n for n in nodes if n.port in before)
        assert victim.proc is not None
        victim.proc.send_signal(signal.SIGSTOP)
        time.sleep(0.5)
        victim.proc.send_signal(signal.SIGCONT)
        time.sleep(NODE_TIMEOUT_MS / 1000 * 2)  # what a failover would need to show up
        cluster_procs.wait_settled(nodes)
        assert cluster_procs.masters(nodes) == before


@pytest.mark.parametrize("kind", ["slotd", "redis"])
def test_long_pause_fails_over_and_rejoins(kind: str, tmp_path: Path) -> None:
    with cluster_procs.cluster(kind, tmp_path, node_timeout=NODE_TIMEOUT_MS) as nodes:
        replicas_synced(nodes)
        before = cluster_procs.masters(nodes)
        victim = next(n for n in nodes if n.port in before)
        others = [n for n in nodes if n is not victim]
        assert victim.proc is not None
        victim.proc.send_signal(signal.SIGSTOP)
        try:
            deadline = time.monotonic() + cluster_procs.FORM_TIMEOUT
            while (
                victim.port in cluster_procs.masters(others)
                or len(cluster_procs.masters(others)) != 3
            ):
                if time.monotonic() > deadline:
                    pytest.fail(
                        "the paused master was never replaced\n" + cluster_procs.logs(nodes)
                    )
                time.sleep(0.2)
        finally:
            victim.proc.send_signal(signal.SIGCONT)
        cluster_procs.wait_settled(nodes)
        assert victim.port not in cluster_procs.masters(nodes)
        assert "role:slave" in cluster_procs.call(victim, "INFO", "replication")
