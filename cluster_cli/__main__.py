"""slotd-cluster COMMAND ...: the command line of the cluster tool (argparse only; the work is
in cluster_cli/manager.py and cluster_cli/launcher.py)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from cluster_cli import launcher, manager, simulate
from cluster_cli.client import ReplyError
from cluster_cli.plan import Addr, PlanError, parse_addr
from cluster_cli.report import Output


def _addr(text: str) -> Addr:
    try:
        return parse_addr(text)
    except PlanError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _weight(text: str) -> tuple[str, float]:
    node, _, value = text.partition("=")
    try:
        return node, float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected <node-id>=<weight>, got {text!r}") from None


def _moves(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pipeline", type=int, default=10, help="keys per MIGRATE (10)")
    parser.add_argument("--timeout", type=int, default=60000, help="MIGRATE timeout in ms")
    parser.add_argument(
        "--replace",
        action="store_true",
        help="overwrite keys the target already holds (MIGRATE REPLACE)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="slotd-cluster", description="Manage Redis-compatible clusters (slotd or Redis)."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("up", help="run a local cluster in the foreground (Ctrl-C stops it)")
    p.add_argument("--nodes", type=int, default=6)
    p.add_argument("--replicas", type=int, default=1)
    p.add_argument("--port", type=int, default=7000, help="first port (7000)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument(
        "--dir",
        type=Path,
        default=Path("cluster-data"),
        help="data directory, one subdirectory per node (./cluster-data)",
    )
    p.add_argument("--node-timeout", type=int, default=5000, metavar="MS")
    p.add_argument(
        "--server", default="slotd", help="slotd (default) or a redis-server binary to compare with"
    )
    p.add_argument(
        "--status-interval",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="live status refresh (0: none)",
    )
    p.add_argument("--join-timeout", type=float, default=120.0, metavar="SECONDS")

    p = sub.add_parser("create", help="form a cluster from empty nodes")
    p.add_argument("nodes", nargs="+", type=_addr, metavar="host:port")
    p.add_argument("--replicas", type=int, default=0)
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.add_argument("--join-timeout", type=float, default=120.0, metavar="SECONDS")

    for name, text in (
        ("check", "check slots agreement, open slots and coverage"),
        ("info", "keys, slots and replicas per master"),
        ("status", "one line per node"),
    ):
        sub.add_parser(name, help=text).add_argument("node", type=_addr, metavar="host:port")

    p = sub.add_parser("reshard", help="move slots between masters")
    p.add_argument("node", type=_addr, metavar="host:port")
    p.add_argument(
        "--from", dest="sources", required=True, help="source node ids, comma separated, or 'all'"
    )
    p.add_argument("--to", dest="target", required=True, help="target node id")
    p.add_argument("--slots", type=int, required=True)
    p.add_argument("--yes", action="store_true")
    _moves(p)

    p = sub.add_parser("rebalance", help="even out slots across masters (by weight)")
    p.add_argument("node", type=_addr, metavar="host:port")
    p.add_argument("--weight", type=_weight, action="append", default=[], metavar="ID=WEIGHT")
    p.add_argument("--threshold", type=float, default=2.0, metavar="PERCENT")
    p.add_argument("--use-empty-masters", action="store_true")
    p.add_argument("--simulate", action="store_true", help="print the moves, do nothing")
    _moves(p)

    p = sub.add_parser("add-node", help="add an empty node as a master or a replica")
    p.add_argument("new", type=_addr, metavar="new_host:new_port")
    p.add_argument("existing", type=_addr, metavar="existing_host:existing_port")
    p.add_argument("--replica", action="store_true")
    p.add_argument("--master-id")
    p.add_argument("--join-timeout", type=float, default=120.0, metavar="SECONDS")

    p = sub.add_parser("del-node", help="remove a node that owns no slots")
    p.add_argument("node", type=_addr, metavar="host:port")
    p.add_argument("node_id")

    p = sub.add_parser("fix", help="close open slots and cover unassigned ones")
    p.add_argument("node", type=_addr, metavar="host:port")
    p.add_argument("--yes", action="store_true")
    _moves(p)

    simulate.add_parser(sub)
    return parser


def run(args: argparse.Namespace, out: Output) -> int:
    moves = (
        manager.MoveOptions(args.pipeline, args.timeout, args.replace)
        if hasattr(args, "pipeline")
        else manager.MoveOptions()
    )
    match args.command:
        case "up":
            return launcher.up(
                launcher.UpOptions(
                    nodes=args.nodes,
                    replicas=args.replicas,
                    port=args.port,
                    host=args.host,
                    dir=args.dir,
                    node_timeout=args.node_timeout,
                    server=args.server,
                    status_interval=args.status_interval,
                    join_timeout=args.join_timeout,
                ),
                out,
            )
        case "create":
            return manager.cmd_create(args.nodes, args.replicas, args.yes, out, args.join_timeout)
        case "check":
            return manager.cmd_check(args.node, out)
        case "info":
            return manager.cmd_info(args.node, out)
        case "status":
            return manager.cmd_status(args.node, out)
        case "reshard":
            sources = [s for s in args.sources.split(",") if s]
            return manager.cmd_reshard(
                args.node, sources, args.target, args.slots, args.yes, moves, out
            )
        case "rebalance":
            return manager.cmd_rebalance(
                args.node,
                dict(args.weight),
                args.threshold,
                args.use_empty_masters,
                args.simulate,
                moves,
                out,
            )
        case "add-node":
            return manager.cmd_add_node(
                args.new, args.existing, args.replica, args.master_id, out, args.join_timeout
            )
        case "del-node":
            return manager.cmd_del_node(args.node, args.node_id, out)
        case "fix":
            return manager.cmd_fix(args.node, args.yes, moves, out)
        case "simulate":
            return simulate.main(args, out.line)
    raise AssertionError(args.command)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    out = Output()
    try:
        return run(args, out)
    except (manager.ToolError, PlanError) as exc:
        out.error(str(exc))
    except ReplyError as exc:
        out.error(f"Node replied with an error: {exc}")
    except OSError as exc:
        out.error(f"I/O error: {exc}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
