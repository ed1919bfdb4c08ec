"""`slotd-cluster up`: run a local cluster in the foreground.

Starts one node process per port (slotd by default, or a real redis-server for comparisons),
forms the cluster with the same steps as `create` unless the nodes already belong to one (a
restart over existing nodes.conf files), waits for `cluster_state:ok` everywhere, prints how to
connect, shows a live status, and stops every node on Ctrl-C or SIGTERM: SHUTDOWN (which
flushes the AOF), a wait, then SIGKILL for stragglers.

Rules:
- Each node gets its own directory DIR/<port> holding nodes.conf, the AOF and node.log; the
  node's stdout and stderr go to that log, never to our terminal.
- Nodes run in their own session, so a Ctrl-C in the terminal reaches only us and we decide
  the order of the shutdown.
- Every wait has a deadline and says what it waited for when it gives up.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from cluster_cli import manager, plan, report, topology
from cluster_cli.client import NodeClient, ReplyError
from cluster_cli.plan import Addr
from cluster_cli.report import Output

START_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0


class Stop(Exception):
    """SIGTERM (or SIGHUP) arrived: leave the status loop and stop the nodes."""


@dataclass(frozen=True)
class UpOptions:
    nodes: int = 6
    replicas: int = 1
    port: int = 7000
    host: str = "127.0.0.1"
    dir: Path = Path("cluster-data")
    node_timeout: int = 5000
    server: str = "slotd"
    status_interval: float = 1.0  # 0: no live status
    join_timeout: float = 120.0
    extra: tuple[str, ...] = ()  # more `--option value` arguments for every node


def node_argv(opts: UpOptions, port: int, directory: Path) -> list[str]:
    """The command line of one node; slotd and redis-server share redis-server's options."""
    if opts.server == "slotd":
        program = [sys.executable, "-m", "node"]
    else:
        found = shutil.which(opts.server)
        if found is None:
            raise manager.ToolError(f"Server binary not found: {opts.server}")
        program = [found]
    return [
        *program,
        "--port",
        str(port),
        "--bind",
        opts.host,
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        "nodes.conf",
        "--cluster-node-timeout",
        str(opts.node_timeout),
        "--appendonly",
        "yes",
        "--save",
        "",
        "--dir",
        str(directory),
        *opts.extra,
    ]


@dataclass
class NodeProcess:
    addr: Addr
    dir: Path
    proc: subprocess.Popen[bytes]

    @property
    def log(self) -> Path:
        return self.dir / "node.log"

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def spawn(opts: UpOptions, port: int) -> NodeProcess:
    directory = (opts.dir / str(port)).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    argv = node_argv(opts, port, directory)
    with open(directory / "node.log", "ab") as log:
        proc = subprocess.Popen(
            argv,
            cwd=directory,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return NodeProcess(Addr(opts.host, port), directory, proc)


def answers(addr: Addr) -> bool:
    try:
        with NodeClient(addr.host, addr.port, timeout=2.0) as c:
            return c.call("PING") == b"PONG"
    except (OSError, ReplyError):
        return False


def wait_ready(nodes: Sequence[NodeProcess], timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    pending = list(nodes)
    while pending:
        node = pending[0]
        if not node.alive():
            raise manager.ToolError(
                f"Node {node.addr} exited during startup (code {node.proc.returncode}); "
                f"the end of {node.log}:\n{node.log_tail()}"
            )
        if answers(node.addr):
            pending.pop(0)
            continue
        if time.monotonic() > deadline:
            raise manager.ToolError(f"Node {node.addr} did not answer PING within {timeout:.0f}s")
        time.sleep(0.1)


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


def is_fresh(addr: Addr) -> bool:
    """A node that knows nobody and owns nothing: the cluster still has to be created."""
    with NodeClient(addr.host, addr.port) as c:
        info = topology.parse_info(c.text("CLUSTER", "INFO"))
    return info.get("cluster_known_nodes") == "1" and info.get("cluster_slots_assigned") == "0"


def wait_state_ok(addrs: Sequence[Addr], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    for addr in addrs:
        while True:
            with (
                contextlib.suppress(OSError, ReplyError),
                NodeClient(addr.host, addr.port, timeout=5.0) as c,
            ):
                if topology.parse_info(c.text("CLUSTER", "INFO")).get("cluster_state") == "ok":
                    break
            if time.monotonic() > deadline:
                raise manager.ToolError(
                    f"Node {addr} did not reach cluster_state:ok within {timeout:.0f}s"
                )
            time.sleep(manager.POLL)


def stop_all(nodes: Sequence[NodeProcess], out: Output, timeout: float = STOP_TIMEOUT) -> None:
    """SHUTDOWN to every live node (it flushes the AOF), wait, then SIGKILL stragglers."""
    alive = [n for n in nodes if n.alive()]
    if not alive:
        return
    out.line(f"Stopping {len(alive)} nodes...")
    for node in alive:
        with (
            contextlib.suppress(OSError, ReplyError),
            NodeClient(node.addr.host, node.addr.port, timeout=5.0) as c,
        ):
            c.call("SHUTDOWN")  # normally no reply: the node closes the connection
    deadline = time.monotonic() + timeout
    for node in alive:
        try:
            node.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            out.warn(f"Node {node.addr} did not stop within {timeout:.0f}s: killing it")
            node.proc.kill()
            node.proc.wait()
    out.line("All nodes stopped.")


@contextlib.contextmanager
def stop_signals() -> Iterator[None]:
    """SIGTERM and SIGHUP become Stop (SIGINT is already KeyboardInterrupt)."""

    def raise_stop(signum: int, frame: FrameType | None) -> None:
        raise Stop(signal.Signals(signum).name)

    previous = {s: signal.signal(s, raise_stop) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def ignore_signals() -> None:
    """While stopping: a second Ctrl-C must not leave nodes running."""
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, signal.SIG_IGN)


def up(opts: UpOptions, out: Output) -> int:
    if opts.nodes < plan.MIN_MASTERS * (opts.replicas + 1):
        raise manager.ToolError(
            f"{opts.nodes} nodes with {opts.replicas} replicas each leave fewer than "
            f"{plan.MIN_MASTERS} masters"
        )
    ports = list(range(opts.port, opts.port + opts.nodes))
    busy = [p for p in ports if port_in_use(opts.host, p) or port_in_use(opts.host, p + 10000)]
    if busy:
        raise manager.ToolError(
            f"Port {busy[0]} (or its bus port {busy[0] + 10000}) is already in use; "
            "pick another base with --port"
        )
    nodes: list[NodeProcess] = []
    try:
        with stop_signals():
            out.step(
                f"Starting {opts.nodes} {opts.server} nodes on {opts.host}:"
                f"{ports[0]}-{ports[-1]} (data in {opts.dir})"
            )
            nodes.extend(spawn(opts, port) for port in ports)
            wait_ready(nodes)
            members = form([n.addr for n in nodes], opts, out)
            wait_state_ok(members, opts.join_timeout)
            print_ready(members, out)
            watch(nodes, opts, out)
    except (KeyboardInterrupt, Stop):
        out.line()
    finally:
        ignore_signals()
        stop_all(nodes, out)
    return 0


def form(addrs: Sequence[Addr], opts: UpOptions, out: Output) -> list[Addr]:
    """Create the cluster, or reuse the one the nodes remember; the cluster's members."""
    fresh = [a for a in addrs if is_fresh(a)]
    if len(fresh) < len(addrs):
        out.step(f"Reusing the existing cluster configuration (nodes.conf) in {opts.dir}")
        for addr in fresh:
            out.warn(
                f"Node {addr} is new and stays outside the cluster: "
                f"slotd-cluster add-node {addr} {addrs[0]}"
            )
        return [a for a in addrs if a not in fresh]
    layout = plan.plan_layout(addrs, opts.replicas)
    live = {a: manager.open_node(a) for a in addrs}
    try:
        if manager.create_cluster(layout, live, True, out, opts.join_timeout) != 0:
            raise manager.ToolError("The new cluster did not pass its check")
    finally:
        for node in live.values():
            node.client.close()
    return list(addrs)


def print_ready(addrs: Sequence[Addr], out: Output) -> None:
    """Roles as each node states its own (a reused cluster may have changed since it was
    made, and another node's view of a new replica may lag behind by a gossip round)."""
    seed = addrs[0]
    selves: list[topology.NodeInfo] = []
    for addr in addrs:
        with NodeClient(addr.host, addr.port) as c:
            view = topology.parse_nodes(c.text("CLUSTER", "NODES"))
        selves.extend(n for n in view if n.myself)
    masters = sum(1 for n in selves if n.is_master and n.slots)
    replicas = sum(1 for n in selves if n.is_replica)
    out.ok(f"Cluster ready: {masters} masters, {replicas} replicas, seed {seed}")
    out.line(f"  redis-cli -c -h {seed.host} -p {seed.port}")
    out.line(f"  redis-py:  RedisCluster(host={seed.host!r}, port={seed.port})")
    out.line(f"  check:     slotd-cluster check {seed}")
    out.line("Ctrl-C stops every node.")


def watch(nodes: Sequence[NodeProcess], opts: UpOptions, out: Output) -> None:
    """Redraw the status table until a signal; on a pipe, print it only when it changes."""
    if opts.status_interval <= 0:
        while True:
            time.sleep(3600)
    shown: list[str] = []
    previous_key: list[str] = []
    while True:
        rows = manager.status_rows([n.addr for n in nodes])
        for i, node in enumerate(nodes):
            if not node.alive():
                rows[i] = report.StatusRow(str(node.addr), flags=f"exited({node.proc.returncode})")
        lines = report.render_status(rows)
        if out.color:
            if shown:
                out.stream.write(f"\x1b[{len(shown)}F\x1b[J")
            for line in lines:
                out.line(line)
            shown = lines
        else:
            # Without a terminal, changing counters would print a table every second.
            key = report.render_status([_without_counters(r) for r in rows])
            if key != previous_key:
                for line in lines:
                    out.line(line)
                previous_key = key
        time.sleep(opts.status_interval)


def _without_counters(row: report.StatusRow) -> report.StatusRow:
    return report.StatusRow(
        row.addr, row.id, row.role, row.master_addr, row.slots, None, row.state, None, row.flags
    )
