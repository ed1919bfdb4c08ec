"""redis-cli against a real slotd process; its output must match what it prints for a real
redis-server given the same invocation."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence

import pytest

from tests.procs import ServerProcess

pytestmark = pytest.mark.interop

TIMEOUT = 60


def cli(binary: str, server: ServerProcess, *args: str, stdin: bytes = b"") -> bytes:
    done = subprocess.run(
        [binary, "-h", "127.0.0.1", "-p", str(server.port), *args],
        input=stdin,
        capture_output=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert not done.stderr, done.stderr
    return done.stdout


def both(binary: str, servers: Sequence[ServerProcess], *args: str, stdin: bytes = b"") -> bytes:
    """Run the same redis-cli invocation against slotd and redis; the outputs must match."""
    ours, theirs = (cli(binary, s, *args, stdin=stdin) for s in servers)
    assert ours == theirs, f"{args!r}\n  slotd: {ours!r}\n  redis: {theirs!r}"
    return ours


@pytest.fixture
def servers(
    redis_cli: str, slotd_proc: ServerProcess, redis_proc: ServerProcess
) -> list[ServerProcess]:
    for server in (slotd_proc, redis_proc):
        assert cli(redis_cli, server, "FLUSHALL") == b"OK\n"
    return [slotd_proc, redis_proc]


def test_ping(redis_cli: str, servers: list[ServerProcess]) -> None:
    assert both(redis_cli, servers, "PING") == b"PONG\n"
    assert both(redis_cli, servers, "PING", "hi there") == b"hi there\n"


def test_set_get_and_raw(redis_cli: str, servers: list[ServerProcess]) -> None:
    assert both(redis_cli, servers, "SET", "k", "two\nlines") == b"OK\n"
    assert both(redis_cli, servers, "GET", "k") == b"two\nlines\n"
    assert both(redis_cli, servers, "--raw", "GET", "k") == b"two\nlines\n"
    assert both(redis_cli, servers, "--no-raw", "GET", "k") == b'"two\\nlines"\n'
    both(redis_cli, servers, "--no-raw", "GET", "missing")
    both(redis_cli, servers, "--no-raw", "INCR", "n")
    both(redis_cli, servers, "--no-raw", "INCR", "k")
    both(redis_cli, servers, "INCR", "k")
    both(redis_cli, servers, "--no-raw", "MGET", "k", "missing", "n")
    both(redis_cli, servers, "-n", "3", "SET", "in3", "x")
    both(redis_cli, servers, "-n", "3", "--no-raw", "KEYS", "*")


def test_resp3_flag(redis_cli: str, servers: list[ServerProcess]) -> None:
    both(redis_cli, servers, "HSET", "h", "f1", "v1")
    both(redis_cli, servers, "SADD", "s", "m")
    for args in [
        ("-3", "--no-raw", "HGETALL", "h"),
        ("-3", "HGETALL", "h"),
        ("-3", "--no-raw", "SMEMBERS", "s"),
        ("-3", "--no-raw", "GET", "missing"),
        ("-3", "--no-raw", "INCRBYFLOAT", "f", "1.5"),
        ("-3", "--no-raw", "PING"),
        ("-3", "--no-raw", "GET", "h"),
    ]:
        both(redis_cli, servers, *args)


def test_commands_from_stdin(redis_cli: str, servers: list[ServerProcess]) -> None:
    script = b'SET a 1\nINCR a\nGET a\nECHO "quoted value"\nGET missing\nNOSUCH cmd\n'
    out = both(redis_cli, servers, stdin=script)
    assert out.startswith(b"OK\n2\n2\nquoted value\n")
    # -x takes the last argument from stdin.
    assert both(redis_cli, servers, "-x", "SET", "fromstdin", stdin=b"payload\n") == b"OK\n"
    assert both(redis_cli, servers, "GET", "fromstdin") == b"payload\n\n"


def test_pipe_mode(redis_cli: str, servers: list[ServerProcess]) -> None:
    commands = b"".join(
        b"*3\r\n$3\r\nSET\r\n$%d\r\nkey:%d\r\n$%d\r\n%d\r\n"
        % (len(b"key:%d" % i), i, len(b"%d" % i), i)
        for i in range(1000)
    )
    commands += b"*2\r\n$4\r\nINCR\r\n$5\r\nkey:7\r\n"
    out = both(redis_cli, servers, "--pipe", stdin=commands)
    assert b"errors: 0, replies: 1001" in out
    assert both(redis_cli, servers, "GET", "key:7") == b"8\n"
    assert both(redis_cli, servers, "DBSIZE") == b"1000\n"
