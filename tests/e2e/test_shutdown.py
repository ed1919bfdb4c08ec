"""SHUTDOWN with a lagging replica over real sockets, on a slotd pair and a redis-server pair
side by side: the master waits (writes paused, the caller blocked), SHUTDOWN ABORT answers
the caller with Redis's error and lets writes through, and the timeout ends the wait. The
replica "lags" because it is stopped (SIGSTOP). No timing assertions: waits are generous
deadlines, and the one timeout used is a lower bound."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator

import pytest

from tests.procs import ServerProcess
from tests.rawclient import RawClient, encode_command

pytestmark = pytest.mark.interop

Factory = Callable[..., ServerProcess]
DEADLINE = 30.0
FAILED = b"-ERR Errors trying to SHUTDOWN. Check logs.\r\n"


@pytest.fixture(params=["slotd", "redis"])
def pair(
    request: pytest.FixtureRequest, slotd_factory: Factory, redis_factory: Factory
) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    """A master and a replica attached to it and online; the replica resumed at the end."""
    factory = slotd_factory if request.param == "slotd" else redis_factory
    # The replica syncs at once instead of after the default 5 s wait for more replicas.
    master = factory("--shutdown-timeout", "3", "--repl-diskless-sync-delay", "0")
    replica = factory("--replicaof", "127.0.0.1", str(master.port))
    deadline = time.monotonic() + DEADLINE
    with RawClient(*master.addr) as c:
        while b"state=online" not in c.call("INFO", "replication"):
            assert time.monotonic() < deadline, "the replica never came online"
            time.sleep(0.05)
    assert replica.proc is not None
    yield master, replica
    os.kill(replica.proc.pid, signal.SIGCONT)


def _stop(server: ServerProcess) -> None:
    assert server.proc is not None
    os.kill(server.proc.pid, signal.SIGSTOP)


def test_abort_releases_the_caller_and_the_paused_writes(
    pair: tuple[ServerProcess, ServerProcess],
) -> None:
    master, replica = pair
    _stop(replica)
    with (
        RawClient(*master.addr) as caller,
        RawClient(*master.addr) as writer,
        RawClient(*master.addr) as admin,
    ):
        assert admin.call("SET", "k", "v") == b"+OK\r\n"  # the replica never acks it
        caller.send_raw(encode_command("SHUTDOWN", "NOSAVE"))
        deadline = time.monotonic() + DEADLINE
        while b"blocked_clients:1\r\n" not in admin.call("INFO", "clients"):
            assert time.monotonic() < deadline, "SHUTDOWN never blocked"
            time.sleep(0.02)
        # CLIENT UNPAUSE only lifts its own pause, never the shutdown's.
        assert admin.call("CLIENT", "PAUSE", "100000", "WRITE") == b"+OK\r\n"
        assert admin.call("CLIENT", "UNPAUSE") == b"+OK\r\n"
        writer.send_raw(encode_command("SET", "x", "1"))  # paused
        assert admin.call("GET", "k") == b"$1\r\nv\r\n"  # reads go on
        while b"blocked_clients:2\r\n" not in admin.call("INFO", "clients"):
            assert time.monotonic() < deadline, "the write was not paused"
            time.sleep(0.02)
        assert admin.call("SHUTDOWN", "ABORT") == b"+OK\r\n"
        assert caller.read_reply() == FAILED
        assert writer.read_reply() == b"+OK\r\n"
        assert admin.call("SHUTDOWN", "ABORT") == b"-ERR No shutdown in progress.\r\n"


def test_the_timeout_ends_the_wait(pair: tuple[ServerProcess, ServerProcess]) -> None:
    master, replica = pair
    _stop(replica)
    with RawClient(*master.addr) as c:
        assert c.call("SET", "k", "v") == b"+OK\r\n"
        started = time.monotonic()
        c.send_raw(encode_command("SHUTDOWN", "NOSAVE"))
        assert master.proc is not None
        assert master.proc.wait(DEADLINE) == 0
        assert time.monotonic() - started >= 2.5  # shutdown-timeout 3: it did wait
