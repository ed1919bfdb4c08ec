"""`slotd-cluster up`'s node command lines and argument handling (no processes started)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from cluster_cli import launcher
from cluster_cli.__main__ import build_parser
from cluster_cli.manager import ToolError
from cluster_cli.plan import Addr
from cluster_cli.report import Output


def test_slotd_node_argv() -> None:
    opts = launcher.UpOptions(node_timeout=2000)
    argv = launcher.node_argv(opts, 7003, Path("/data/7003"))
    assert argv[:3] == [sys.executable, "-m", "node"]
    options = dict(zip(argv[3::2], argv[4::2], strict=True))
    assert options == {
        "--port": "7003",
        "--bind": "127.0.0.1",
        "--cluster-enabled": "yes",
        "--cluster-config-file": "nodes.conf",
        "--cluster-node-timeout": "2000",
        "--appendonly": "yes",
        "--save": "",
        "--dir": "/data/7003",
    }


def test_redis_server_node_argv_uses_the_same_options() -> None:
    opts = launcher.UpOptions(server=sys.executable)  # any executable stands in for it
    argv = launcher.node_argv(opts, 7000, Path("d"))
    assert argv[0] == sys.executable and argv[1:3] == ["--port", "7000"]
    with pytest.raises(ToolError, match="Server binary not found"):
        launcher.node_argv(launcher.UpOptions(server="no-such-redis-server"), 7000, Path("d"))


def test_up_refuses_fewer_than_three_masters(tmp_path: Path) -> None:
    out = Output()
    with pytest.raises(ToolError, match="fewer than 3 masters"):
        launcher.up(launcher.UpOptions(nodes=5, replicas=1, dir=tmp_path), out)


def test_command_line_defaults() -> None:
    args = build_parser().parse_args(["up"])
    assert (args.nodes, args.replicas, args.port, args.host, args.server) == (
        6,
        1,
        7000,
        "127.0.0.1",
        "slotd",
    )
    args = build_parser().parse_args(
        ["reshard", "h:1", "--from", "a,b", "--to", "c", "--slots", "5", "--yes"]
    )
    assert (args.node, args.sources, args.target, args.slots, args.pipeline) == (
        Addr("h", 1),
        "a,b",
        "c",
        5,
        10,
    )
    args = build_parser().parse_args(["rebalance", "h:1", "--weight", "abc=2", "--weight", "d=0"])
    assert dict(args.weight) == {"abc": 2.0, "d": 0.0}
    with pytest.raises(SystemExit):
        build_parser().parse_args(["check", "nohostport"])
