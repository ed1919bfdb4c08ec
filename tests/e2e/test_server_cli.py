"""The slotd-server command line as a real process: startup errors, config file plus
`--option value` overrides, and clean exits on SIGTERM/SIGINT."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests import procs
from tests.rawclient import RawClient

TIMEOUT = 60


def run_to_exit(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the server expecting it to refuse to start."""
    return subprocess.run(
        [sys.executable, "-m", "node", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
        env=procs.child_env(),
    )


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("--nosuchoption", "1"), "nosuchoption"),
        (("--port", "notaport"), "port"),
        (("--port", "99999"), "port"),
        (("--maxclients", "0"), "maxclients"),
        (("--appendfsync", "sometimes"), "appendfsync"),
        (("--save", "1"), "save"),
    ],
)
def test_bad_option_is_a_clean_startup_error(
    tmp_path: Path, args: tuple[str, ...], named: str
) -> None:
    done = run_to_exit("--port", str(procs.free_port()), *args, cwd=tmp_path)
    assert done.returncode != 0
    output = done.stdout + done.stderr
    assert named in output
    assert "Traceback" not in output


def test_bad_config_file_directive_is_named(tmp_path: Path) -> None:
    conf = tmp_path / "bad.conf"
    conf.write_text("port 0\nbogus-directive yes\n")
    done = run_to_exit(str(conf), cwd=tmp_path)
    assert done.returncode != 0
    assert "bogus-directive" in done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr


def test_missing_config_file(tmp_path: Path) -> None:
    done = run_to_exit(str(tmp_path / "nope.conf"), cwd=tmp_path)
    assert done.returncode != 0
    assert "nope.conf" in done.stdout + done.stderr


def test_port_in_use_is_a_clean_startup_error(
    tmp_path: Path, slotd_proc: procs.ServerProcess
) -> None:
    done = run_to_exit("--port", str(slotd_proc.port), "--bind", "127.0.0.1", cwd=tmp_path)
    assert done.returncode != 0
    assert "Traceback" not in done.stdout + done.stderr


def test_config_file_with_command_line_overrides(tmp_path: Path) -> None:
    conf = tmp_path / "slotd.conf"
    conf.write_text(
        "# a comment, then directives in redis.conf syntax\n"
        "port 1\n"
        "timeout 5\n"
        "maxclients 77\n"
        'requirepass "pw"\n'
        "hz 20\n"
        "save ''\n"
    )

    overrides = ("--timeout", "9", "--requirepass", "secret")
    server = procs.start(
        "slotd",
        lambda port: procs.slotd_command(port, tmp_path, *overrides, config_file=conf),
        tmp_path,
    )
    try:
        with RawClient(*server.addr) as c:
            assert c.call("AUTH", "pw").startswith(b"-WRONGPASS")
            assert c.call("AUTH", "secret") == b"+OK\r\n"
            assert c.call("CONFIG", "GET", "timeout") == b"*2\r\n$7\r\ntimeout\r\n$1\r\n9\r\n"
            assert c.call("CONFIG", "GET", "maxclients") == (
                b"*2\r\n$10\r\nmaxclients\r\n$2\r\n77\r\n"
            )
            assert c.call("CONFIG", "GET", "hz") == b"*2\r\n$2\r\nhz\r\n$2\r\n20\r\n"
            port = str(server.port).encode()
            assert c.call("CONFIG", "GET", "port") == (
                b"*2\r\n$4\r\nport\r\n$%d\r\n%s\r\n" % (len(port), port)
            )
    finally:
        assert server.stop() == 0


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
def test_signal_exits_cleanly(tmp_path: Path, sig: signal.Signals) -> None:
    server = procs.start_slotd(tmp_path)
    with RawClient(*server.addr) as c:  # an open client must not hold the exit up
        assert c.call("SET", "k", "v") == b"+OK\r\n"
        assert server.stop(sig) == 0
        assert c.read_until_closed() == b""
    assert "Traceback" not in server.log_tail(200)


def test_version_flag(tmp_path: Path) -> None:
    done = run_to_exit("--version", cwd=tmp_path)
    assert done.returncode == 0
    assert "v=7.0.15" in done.stdout


def test_the_server_imports_from_outside_the_repository(tmp_path: Path) -> None:
    # `make up` starts each node in its data directory with no PYTHONPATH: the installed
    # package must import from there alone, compiled build included (its shared library
    # lives inside the package, node/io/native.py).
    env = procs.child_env()
    del env["PYTHONPATH"]
    done = subprocess.run(
        [sys.executable, "-c", "import node.server, node.io.native as n; print(n.startup_note())"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert "Running" in done.stdout


@pytest.mark.parametrize("kind", ["slotd", "redis"])
def test_supervised_systemd_notifications(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`supervised systemd`: READY=1 (with a status) over $NOTIFY_SOCKET once serving,
    INFO's process_supervised, STOPPING=1 on SIGTERM -- as redis-server sends them."""
    import socket

    path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify:
        notify.bind(str(path))
        notify.settimeout(TIMEOUT)
        monkeypatch.setenv("NOTIFY_SOCKET", str(path))
        start = procs.start_slotd if kind == "slotd" else procs.start_redis
        server = start(tmp_path, "--supervised", "systemd")
        try:
            started = [notify.recv(4096)]
            while started[-1] != b"READY=1\n":
                started.append(notify.recv(4096))
            with RawClient(*server.addr) as c:
                assert b"process_supervised:systemd\r\n" in c.call("INFO", "server")
        finally:
            server.stop(signal.SIGTERM)
        stopped = [notify.recv(4096)]
    assert started == [
        b"STATUS=Redis is loading...\n",
        b"STATUS=Ready to accept connections\n",
        b"READY=1\n",
    ]
    assert stopped == [b"STOPPING=1\n"]


def test_supervision_mode_resolution() -> None:
    from node.io import supervise

    logged: list[str] = []

    def log(level: str, message: str) -> None:
        logged.append(message)

    assert supervise.resolve("auto", {"NOTIFY_SOCKET": "/x"}, log) == "systemd"
    assert supervise.resolve("auto", {"UPSTART_JOB": "redis"}, log) == "upstart"
    assert supervise.resolve("auto", {}, log) == "no"
    assert supervise.resolve("no", {"NOTIFY_SOCKET": "/x"}, log) == "no"
    logged.clear()
    assert supervise.resolve("systemd", {}, log) == "no"
    assert supervise.resolve("upstart", {}, log) == "no"
    assert logged == [
        "systemd supervision requested or auto-detected, but NOTIFY_SOCKET not found!",
        "upstart supervision requested, but UPSTART_JOB not found!",
    ]


def test_loglevel_changes_at_runtime(slotd_factory: Callable[..., procs.ServerProcess]) -> None:
    server = slotd_factory()
    with RawClient(*server.addr) as c:
        assert c.call("CONFIG", "SET", "loglevel", "warning") == b"+OK\r\n"
        assert c.call("SAVE") == b"+OK\r\n"  # "DB saved on disk" is a notice: not written
        assert c.call("CONFIG", "SET", "loglevel", "notice") == b"+OK\r\n"
        assert c.call("SAVE") == b"+OK\r\n"
    assert server.log_tail(200).count("DB saved on disk") == 1


def test_syslog_gets_the_messages_at_their_priority(monkeypatch: pytest.MonkeyPatch) -> None:
    import syslog

    from node.io import log as logmod

    calls: list[tuple[object, ...]] = []
    monkeypatch.setattr(logmod.syslog, "openlog", lambda *a: calls.append(("open", *a)))
    monkeypatch.setattr(logmod.syslog, "syslog", lambda *a: calls.append(("log", *a)))
    logger = logmod.Logger("", "verbose", syslog_ident="myredis", syslog_facility="local3")
    logger("debug", "not logged")
    logger("verbose", "v")
    logger("warning", "w")
    assert calls == [
        (
            "open",
            "myredis",
            syslog.LOG_PID | syslog.LOG_NDELAY | syslog.LOG_NOWAIT,
            syslog.LOG_LOCAL3,
        ),
        ("log", syslog.LOG_INFO, "v"),
        ("log", syslog.LOG_WARNING, "w"),
    ]


def test_cluster_port_too_high_for_the_bus_is_refused(tmp_path: Path) -> None:
    # The bus listens 10000 above the client port: past 55535 Redis refuses to start.
    for port in range(55536, 65536):
        with socket.socket() as probe:
            try:
                probe.bind(("0.0.0.0", port))
            except OSError:
                continue
        break
    done = run_to_exit("--port", str(port), "--cluster-enabled", "yes", cwd=tmp_path)
    assert done.returncode == 1
    output = done.stdout + done.stderr
    assert "Your Redis port number must be 55535 or less." in output
    assert "Traceback" not in output
