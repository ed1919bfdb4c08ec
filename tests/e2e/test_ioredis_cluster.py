"""A second ecosystem's cluster client: ioredis (Node.js) runs a small workload against a
3-master, 3-replica cluster formed by `redis-cli --cluster create` (slotd, and a real
redis-server cluster as the reference the workload must also pass on).

ioredis comes from tests/interop/ioredis (package-lock.json pins it; `make test` runs
`npm ci` there when npm exists). Missing node/npm skips, or fails under CI=true."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests import cluster_procs, procs

pytestmark = pytest.mark.slow
WORKLOAD = Path(__file__).resolve().parent.parent / "interop" / "ioredis"


def node_binary() -> str:
    node = shutil.which("node")
    if node is None or not (WORKLOAD / "node_modules" / "ioredis").is_dir():
        message = "node and tests/interop/ioredis/node_modules needed (make test runs npm ci)"
        if procs.in_ci():
            pytest.fail(message)
        pytest.skip(message)
    return node


@pytest.mark.parametrize("kind", ["slotd", "redis"])
def test_ioredis_cluster_workload(kind: str, tmp_path: Path) -> None:
    node = node_binary()
    if kind == "redis":
        procs.redis_server_bin()
    with cluster_procs.cluster(kind, tmp_path) as nodes:
        out = subprocess.run(
            [node, "cluster_workload.js", "127.0.0.1", str(nodes[0].port)],
            cwd=WORKLOAD,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert out.returncode == 0, f"{out.stdout}\n{out.stderr}\n{cluster_procs.logs(nodes)}"
        assert '"ok":true' in out.stdout and '"masters":3' in out.stdout
