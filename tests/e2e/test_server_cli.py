"""The slotd-server command line as a real process: startup errors, config file plus
`--option value` overrides, and clean exits on SIGTERM/SIGINT."""

from __future__ import annotations

import signal
import subprocess
import sys
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
