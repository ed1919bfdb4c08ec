"""Crash safety on real processes: SIGKILL at arbitrary moments, then a restart on the same
directory.

- appendfsync always: every write acknowledged before the kill is there after restart.
- appendfsync everysec / no: a process crash (not a power cut) loses nothing the OS had,
  and the server restarts on whatever tail it finds (a torn command is truncated).
- SIGKILL of the server and its child during BGSAVE or BGREWRITEAOF leaves files that load
  (the previous good ones, or the new ones if the rename happened first), and
  redis-check-rdb / redis-check-aof accept them.
- SHUTDOWN and SIGTERM save when save points are configured; a restart loads the snapshot.
Waits are deadlines, never timing assertions.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests import procs
from tests.rawclient import RawClient

pytestmark = pytest.mark.slow


def start(directory: Path, *extra: str) -> procs.ServerProcess:
    return procs.start_slotd(directory, *extra)


def kill9(server: procs.ServerProcess) -> None:
    assert server.proc is not None
    # The whole process group is not ours to kill: the server and its children only.
    children = _children(server.proc.pid)
    for pid in [server.proc.pid, *children]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    server.proc.wait(timeout=30)
    for pid in children:
        _wait_gone(pid)


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def _wait_gone(pid: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and os.path.exists(f"/proc/{pid}"):
        time.sleep(0.01)


def write_until_killed(server: procs.ServerProcess, kill_after: float) -> list[int]:
    """SET k<i> i in a loop on one connection until the server is killed; the acked i."""
    acked: list[int] = []
    killer = threading.Timer(kill_after, kill9, args=(server,))
    killer.start()
    try:
        with RawClient(*server.addr, timeout=10) as client:
            i = 0
            while True:
                try:
                    reply = client.call("SET", f"k{i}", str(i))
                except (OSError, AssertionError):
                    break
                if reply != b"+OK\r\n":
                    break
                acked.append(i)
                i += 1
    finally:
        killer.join()
    return acked


@pytest.mark.parametrize("fsync", ["always", "everysec", "no"])
def test_kill9_during_writes_keeps_acknowledged_writes(tmp_path: Path, fsync: str) -> None:
    server = start(tmp_path, "--appendonly", "yes", "--appendfsync", fsync)
    acked = write_until_killed(server, 0.5)
    assert acked, "no write was acknowledged before the kill"
    again = start(tmp_path, "--appendonly", "yes", "--appendfsync", fsync)
    try:
        with RawClient(*again.addr) as client:
            # A process crash loses nothing the kernel has, whatever the fsync policy; only
            # a power cut would show the difference between the policies.
            missing = []
            for start_at in range(0, len(acked), 1000):
                chunk = acked[start_at : start_at + 1000]
                reply = client.call("MGET", *[f"k{i}" for i in chunk])
                expected = b"*%d\r\n" % len(chunk) + b"".join(
                    b"$%d\r\n%d\r\n" % (len(str(i)), i) for i in chunk
                )
                if reply != expected:
                    missing.append(chunk[0])
            assert not missing, f"acknowledged writes lost in the chunks from {missing}"
    finally:
        again.stop()


def populate(server: procs.ServerProcess, keys: int, tag: str) -> None:
    with RawClient(*server.addr) as client:
        batch = []
        for i in range(keys):
            batch += [f"key:{i}", f"{tag}-{i}" * 4]
            if len(batch) >= 2000:
                assert client.call("MSET", *batch) == b"+OK\r\n"
                batch = []
        if batch:
            assert client.call("MSET", *batch) == b"+OK\r\n"


def check_tool(name: str, env: str, path: Path) -> None:
    tool = procs.find_tool(name, env)
    out = subprocess.run([tool, str(path)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr


def test_kill9_during_bgsave_leaves_a_good_snapshot(tmp_path: Path) -> None:
    server = start(tmp_path)
    populate(server, 20_000, "old")
    with RawClient(*server.addr) as client:
        assert client.call("SAVE") == b"+OK\r\n"
    populate(server, 20_000, "new")
    with RawClient(*server.addr) as client:
        assert client.call("BGSAVE") == b"+Background saving started\r\n"
    kill9(server)  # the parent and the child writing the snapshot
    check_tool("redis-check-rdb", "REDIS_CHECK_RDB", tmp_path / "dump.rdb")
    again = start(tmp_path)
    try:
        with RawClient(*again.addr) as client:
            assert client.call("DBSIZE") == b":20000\r\n"
            # The previous snapshot, or the new one if its rename came first: never a mix.
            values = {client.call("GET", f"key:{i}") for i in (7, 19_999)}
            assert values in (
                {
                    b"$20\r\nold-7old-7old-7old-7\r\n",
                    b"$36\r\nold-19999old-19999old-19999old-19999\r\n",
                },
                {
                    b"$20\r\nnew-7new-7new-7new-7\r\n",
                    b"$36\r\nnew-19999new-19999new-19999new-19999\r\n",
                },
            )
    finally:
        again.stop()


def test_kill9_during_bgrewriteaof_leaves_a_loadable_aof(tmp_path: Path) -> None:
    server = start(tmp_path, "--appendonly", "yes", "--appendfsync", "always")
    populate(server, 20_000, "old")
    with RawClient(*server.addr) as client:
        assert client.call("BGREWRITEAOF") == (
            b"+Background append only file rewriting started\r\n"
        )
        assert client.call("SET", "after", "rewrite-started") == b"+OK\r\n"
    kill9(server)
    check_tool(
        "redis-check-aof", "REDIS_CHECK_AOF", tmp_path / "appendonlydir" / "appendonly.aof.manifest"
    )
    again = start(tmp_path, "--appendonly", "yes")
    try:
        with RawClient(*again.addr) as client:
            assert client.call("DBSIZE") == b":20001\r\n"
            assert client.call("GET", "after") == b"$15\r\nrewrite-started\r\n"
    finally:
        again.stop()


@pytest.mark.parametrize("how", ["shutdown", "sigterm"])
def test_shutdown_saves_with_save_points(tmp_path: Path, how: str) -> None:
    server = start(tmp_path, "--save", "3600 1")
    with RawClient(*server.addr) as client:
        assert client.call("SET", "kept", "yes") == b"+OK\r\n"
        if how == "shutdown":
            client.send("SHUTDOWN")
            assert client.read_until_closed() == b""
    if how == "sigterm":
        assert server.stop(signal.SIGTERM) == 0
    else:
        assert server.proc is not None and server.proc.wait(timeout=30) == 0
    again = start(tmp_path)
    try:
        with RawClient(*again.addr) as client:
            assert client.call("GET", "kept") == b"$3\r\nyes\r\n"
    finally:
        again.stop()


def test_torn_aof_tail_is_truncated_on_restart(tmp_path: Path) -> None:
    server = start(tmp_path, "--appendonly", "yes")
    with RawClient(*server.addr) as client:
        assert client.call("SET", "whole", "1") == b"+OK\r\n"
    server.stop()
    incr = tmp_path / "appendonlydir" / "appendonly.aof.1.incr.aof"
    with open(incr, "ab") as f:
        f.write(b"*3\r\n$3\r\nSET\r\n$4\r\ntorn")
    again = start(tmp_path, "--appendonly", "yes")
    try:
        with RawClient(*again.addr) as client:
            assert client.call("GET", "whole") == b"$1\r\n1\r\n"
            assert client.call("EXISTS", "torn") == b":0\r\n"
        assert "short read while loading the AOF file" in again.log_tail(50)
    finally:
        again.stop()
    with open(incr, "ab") as f:
        f.write(b"*2\r\n$3\r\nDEL\r\n$5\r\nwh")
    refused = subprocess.run(
        procs.slotd_command(
            procs.free_port(), tmp_path, "--appendonly", "yes", "--aof-load-truncated", "no"
        ),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env=procs.child_env(),
    )
    assert refused.returncode == 1
    assert "Unexpected end of file reading the append only file" in refused.stdout
