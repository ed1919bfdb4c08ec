"""Mutated and random RESP frames against a real slotd process (RELIABILITY.md 1.4, bounded
to a few hundred frames so the suite stays fast).

Each frame goes over its own connection, which is then half-closed so the server sees the
end of input; whatever the frame did, the server must close that connection and a fresh
one must still get PONG. The node is private to this module: fuzzed frames change keys.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import procs
from tests.rawclient import RawClient
from tests.resp_strategies import mutated, stream

pytestmark = pytest.mark.slow

FORBIDDEN = (b"shutdown", b"debug", b"config", b"replicaof", b"slaveof", b"client", b"failover")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[procs.ServerProcess]:
    node = procs.start_slotd(tmp_path_factory.mktemp("fuzz"))
    yield node
    node.stop()


FRAMES = st.one_of(mutated(), stream().map(lambda s: s[0]), st.binary(min_size=1, max_size=400))


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(frame=FRAMES)
def test_mutated_frames_never_break_the_server(server: procs.ServerProcess, frame: bytes) -> None:
    if any(word in frame.lower() for word in FORBIDDEN):
        return
    with RawClient(*server.addr) as c:
        c.send_raw(frame)
        c.sock.shutdown(socket.SHUT_WR)
        c.read_until_closed()  # replies, maybe a protocol error, then the server closes
    with RawClient(*server.addr) as c:
        assert c.call("PING") == b"+PONG\r\n"
    assert server.alive()


def test_memory_stays_bounded_after_fuzzing(server: procs.ServerProcess) -> None:
    # Runs after the fuzz test in this module; the baseline is a fresh node's RSS.
    assert server.proc is not None
    fresh = procs.start_slotd(server.dir / "baseline")
    try:
        assert fresh.proc is not None
        baseline = procs.status_kb(fresh.proc.pid)
    finally:
        fresh.stop()
    assert procs.status_kb(server.proc.pid) < 2 * baseline + 20 * 1024
