"""Connection and server commands over real sockets: what needs the shell (CLIENT KILL closing
other connections, the parser's unauthenticated limits after AUTH, SHUTDOWN stopping the
process, INFO's process facts) and the Redis tools that call CONFIG GET on connect."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

from tests.procs import ServerProcess, redis_cli_bin
from tests.rawclient import RawClient

Factory = Callable[..., ServerProcess]


def test_client_kill_closes_the_other_connection(slotd_proc: ServerProcess) -> None:
    with RawClient(*slotd_proc.addr) as victim, RawClient(*slotd_proc.addr) as killer:
        victim_id = int(victim.call("CLIENT", "ID")[1:-2])
        victim.send("SET", "killed-but", "unanswered")  # answered before the kill arrives
        assert victim.read_reply() == b"+OK\r\n"
        assert killer.call("CLIENT", "KILL", "ID", victim_id) == b":1\r\n"
        assert victim.read_until_closed() == b""
        assert killer.call("CLIENT", "LIST", "ID", victim_id) == b"$0\r\n\r\n"
        assert killer.call("PING") == b"+PONG\r\n"


def test_client_kill_old_form_by_address(slotd_proc: ServerProcess) -> None:
    with RawClient(*slotd_proc.addr) as victim, RawClient(*slotd_proc.addr) as killer:
        host, port = victim.sock.getsockname()[:2]
        assert killer.call("CLIENT", "KILL", f"{host}:{port}") == b"+OK\r\n"
        assert victim.read_until_closed() == b""


def test_client_kill_self_replies_then_closes(slotd_proc: ServerProcess) -> None:
    with RawClient(*slotd_proc.addr) as c:
        c.send("CLIENT", "KILL", "SKIPME", "no", "ID", int(c.call("CLIENT", "ID")[1:-2]))
        c.send("PING")  # pipelined after the kill: never runs
        assert c.read_until_closed() == b":1\r\n"


def test_client_list_shows_the_socket(slotd_proc: ServerProcess) -> None:
    with RawClient(*slotd_proc.addr) as c:
        host, port = c.sock.getsockname()[:2]
        line = c.call("CLIENT", "INFO")
        assert f" addr={host}:{port} laddr=127.0.0.1:{slotd_proc.port} fd=".encode() in line
        assert b" fd=-1 " not in line


def test_auth_lifts_the_unauthenticated_limits(slotd_factory: Factory) -> None:
    server = slotd_factory("--requirepass", "pw")
    many = ["RPUSH", "l", *map(str, range(20))]
    with RawClient(*server.addr) as c:
        assert c.call("PING") == b"-NOAUTH Authentication required.\r\n"
        assert c.call("AUTH", "pw") == b"+OK\r\n"
        assert c.call(*many) == b":20\r\n"
        assert c.call("RESET") == b"+RESET\r\n"
        assert c.call("HELLO", "3", "AUTH", "default", "pw").startswith(b"%7\r\n")
        assert c.call(*many) == b":40\r\n"
    with RawClient(*server.addr) as c:
        c.send(*many)  # more than 10 arguments before AUTH: a protocol error, then close
        assert c.read_until_closed().startswith(b"-ERR Protocol error")


def test_info_has_process_facts(slotd_proc: ServerProcess) -> None:
    with RawClient(*slotd_proc.addr) as c:
        text = c.call("INFO", "server", "memory", "cpu")
    assert slotd_proc.proc is not None
    assert f"\r\nprocess_id:{slotd_proc.proc.pid}\r\n".encode() in text
    assert f"\r\ntcp_port:{slotd_proc.port}\r\n".encode() in text
    assert b"\r\nos:\r\n" not in text and b"\r\nused_memory:0\r\n" not in text


def test_redis_cli_talks_to_slotd(slotd_proc: ServerProcess) -> None:
    cli = redis_cli_bin()
    host, port = slotd_proc.addr
    run = [cli, "-h", host, "-p", str(port)]
    out = subprocess.run(
        [*run, "CONFIG", "GET", "save"], capture_output=True, timeout=60, check=True
    )
    assert out.stdout.splitlines()[0] == b"save"
    info = subprocess.run([*run, "INFO", "server"], capture_output=True, timeout=60, check=True)
    assert b"redis_version:7.0.15" in info.stdout


def test_redis_benchmark_runs(slotd_proc: ServerProcess) -> None:
    bench = redis_cli_bin().replace("redis-cli", "redis-benchmark")
    host, port = slotd_proc.addr
    out = subprocess.run(
        [bench, "-h", host, "-p", str(port), "-n", "200", "-c", "2", "-q", "-t", "ping,set,get"],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert out.stdout.count(b"requests per second") >= 3, out.stdout + out.stderr


def test_shutdown_stops_the_server(slotd_factory: Factory) -> None:
    server = slotd_factory()
    with RawClient(*server.addr) as c:
        c.send("SHUTDOWN", "NOSAVE")
        assert c.read_until_closed() == b""
    assert server.proc is not None
    assert server.proc.wait(timeout=30) == 0
