"""Real server processes for socket-level tests: slotd nodes and real redis-servers.

Rules:
- Every process gets a free port on 127.0.0.1 and its own temp directory (its cwd, `--dir`,
  and the home of its log file), runs with `--save ''` and is stopped by whoever started it:
  SIGTERM first, SIGKILL if it does not exit in time.
- "Ready" means the server answered a PING on a fresh connection (any reply: a server with
  `requirepass` answers -NOAUTH, and that proves it is serving).
- No timing assertions: waits are generous deadlines that only turn a hang into a failure.
- The real Redis binaries are found through REDIS_SERVER / REDIS_CLI (a path) or PATH. A
  missing binary skips the test, except under CI=true, where it fails it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
START_TIMEOUT = 60.0  # seconds; a loaded 2-core CI machine can be slow to import and bind
STOP_TIMEOUT = 20.0


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def find_tool(name: str, env_var: str) -> str:
    """The path of a Redis binary, or skip (fail under CI=true) when it is missing."""
    path = os.environ.get(env_var) or shutil.which(name)
    if path and os.access(path, os.X_OK):
        return path
    message = f"{name} not found (set {env_var} or install Debian's redis-server/redis-tools)"
    if in_ci():
        pytest.fail(message)
    pytest.skip(message)


def redis_server_bin() -> str:
    return find_tool("redis-server", "REDIS_SERVER")


def redis_cli_bin() -> str:
    return find_tool("redis-cli", "REDIS_CLI")


def port_free(port: int) -> bool:
    """Nothing is bound to 127.0.0.1:`port` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A port nobody listens on right now (the server may still lose a race for it; `start`
    retries on another port when the process dies before answering). A cluster node needs
    its bus port free too: tests.cluster_procs.free_cluster_port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# Where server processes keep their bytecode when the environment forbids writing it next
# to the sources (PYTHONDONTWRITEBYTECODE, set in some containers): without a cache every
# node start compiles all of slotd again, ~0.4 s of CPU each, hundreds of times a run.
PYCACHE = Path(tempfile.gettempdir()) / f"slotd-test-pycache-{os.getuid()}"


def child_env() -> dict[str, str]:
    """The environment for a server process: this checkout first on the import path, and
    bytecode cached (in PYCACHE when it may not go into the source tree)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    if env.pop("PYTHONDONTWRITEBYTECODE", None) is not None:
        env.setdefault("PYTHONPYCACHEPREFIX", str(PYCACHE))
    return env


def _test_options(port: int, directory: Path) -> list[str]:
    """What every test server, slotd or Redis, starts with: loopback only, no persistence
    unless a test asks, its files in `directory`."""
    return [
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(directory),
    ]


def slotd_command(
    port: int, directory: Path, *extra: str, config_file: Path | None = None
) -> list[str]:
    """`python -m node [config_file] --port P ... extra`: options after the file override it."""
    return [
        sys.executable,
        "-m",
        "node",
        *([str(config_file)] if config_file else []),
        *_test_options(port, directory),
        *extra,
    ]


def redis_command(binary: str, port: int, directory: Path, *extra: str) -> list[str]:
    return [binary, *_test_options(port, directory), *extra]


def ping_once(port: int, host: str = "127.0.0.1", timeout: float = 5.0) -> bytes | None:
    """Send PING on a fresh connection; the first reply line, or None if nothing answered."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.sendall(b"*1\r\n$4\r\nPING\r\n")
            data = b""
            while not data.endswith(b"\r\n"):
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            return data or None
    except OSError:
        return None


def answering_pid(port: int, host: str = "127.0.0.1", timeout: float = 2.0) -> int | None:
    """The process_id INFO reports on `port`; None when it cannot be told (no answer, an
    authentication error)."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.sendall(b"*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n")
            data = b""
            while not data.startswith(b"-") and b"\r\nprocess_id:" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    return None
                data += chunk
            while not data.startswith(b"-"):
                line = data.split(b"\r\nprocess_id:", 1)[1]
                if b"\r\n" in line:
                    return int(line.split(b"\r\n", 1)[0])
                chunk = s.recv(4096)
                if not chunk:
                    return None
                data += chunk
    except (OSError, ValueError):
        return None
    return None


class ServerProcess:
    """One server process (slotd or redis-server) on 127.0.0.1:`port`."""

    def __init__(self, name: str, argv: Sequence[str], port: int, directory: Path) -> None:
        self.name = name
        self.argv = list(argv)
        self.port = port
        self.dir = directory
        self.log_path = directory / f"{name}-{port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def __repr__(self) -> str:
        return f"<{self.name} port={self.port} pid={self.proc.pid if self.proc else None}>"

    @property
    def addr(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)

    def spawn(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                self.argv,
                cwd=self.dir,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=child_env(),
            )

    def wait_ready(self, timeout: float = START_TIMEOUT) -> bool:
        """True once it answers PING; False if it exited first. Fails the test on a hang.
        An answer from another process (which got the port first: ours will fail to bind
        and exit) does not count."""
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            if ping_once(self.port, timeout=2.0) is not None:
                pid = answering_pid(self.port)
                if pid is None or pid == self.proc.pid:
                    return True
            time.sleep(0.05)
        self.stop()
        pytest.fail(f"{self} did not answer PING within {timeout:.0f}s\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = STOP_TIMEOUT) -> int | None:
        """Signal the process and reap it (SIGKILL after `timeout`); its exit code."""
        proc = self.proc
        if proc is None:
            return None
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(sig)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=timeout)
        return proc.returncode


def spawn_server(kind: str, port: int, directory: Path, *extra: str) -> ServerProcess:
    """A slotd ("slotd") or redis-server (any other kind) on `port`, spawned but not waited
    for, so that a batch of them starts together (ServerProcess.wait_ready)."""
    if kind == "slotd":
        argv = slotd_command(port, directory, *extra)
    else:
        argv = redis_command(redis_server_bin(), port, directory, *extra)
    server = ServerProcess(kind, argv, port, directory)
    server.spawn()
    return server


def start(
    name: str, make_argv: Callable[[int], list[str]], directory: Path, attempts: int = 3
) -> ServerProcess:
    """Start a server on a free port and wait for it to answer; retry on a lost port race."""
    last: ServerProcess | None = None
    for _ in range(attempts):
        port = free_port()
        server = ServerProcess(name, make_argv(port), port, directory)
        server.spawn()
        if server.wait_ready():
            return server
        server.stop()
        last = server
    assert last is not None
    pytest.fail(f"{name} exited during startup:\n{last.log_tail()}")


def start_slotd(directory: Path, *extra: str) -> ServerProcess:
    return start("slotd", lambda port: slotd_command(port, directory, *extra), directory)


def start_redis(directory: Path, *extra: str) -> ServerProcess:
    binary = redis_server_bin()
    return start("redis", lambda port: redis_command(binary, port, directory, *extra), directory)


def status_kb(pid: int, field: str = "VmRSS") -> int:
    """A memory figure of a process in KiB from /proc/PID/status (VmRSS, VmSize, ...)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} for pid {pid}")
