"""Blocking XREAD and XREADGROUP over real sockets with redis-py: served by XADD from another
connection, timeouts, clients served in arrival order, the UNBLOCKED/NOGROUP errors of a
consumer group or stream going away, RESP3, and commands pipelined behind a blocked read.

Every test runs against slotd and against a real redis-server, which shows the expectations
are Redis's. Waiting for a client to be parked polls CLIENT LIST for its `b` flag, so no
test depends on how fast the machine is; the only waits are the BLOCK timeouts under test.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

import pytest
import redis

from tests.procs import ServerProcess
from tests.rawclient import RawClient

DEADLINE = 30.0


@pytest.fixture(params=["slotd", "redis"])
def server(request: pytest.FixtureRequest) -> ServerProcess:
    proc: ServerProcess = request.getfixturevalue(f"{request.param}_proc")
    client(proc).delete(*[f"sb{i}" for i in range(1, 10)], "sb1-none")
    return proc


def client(server: ServerProcess, protocol: int = 2) -> redis.Redis:
    return redis.Redis(*server.addr, socket_timeout=DEADLINE, protocol=protocol)


def wait_blocked(server: ServerProcess, count: int) -> None:
    """Wait until `count` clients of the server are parked."""
    probe = client(server)
    give_up = time.monotonic() + DEADLINE
    while time.monotonic() < give_up:
        parked = [c for c in probe.client_list() if "b" in c["flags"]]
        if len(parked) >= count:
            return
        time.sleep(0.01)
    raise AssertionError(f"{count} client(s) never blocked")


def in_thread(call: Callable[[], object]) -> tuple[threading.Thread, list[object]]:
    """Run a blocking call in a thread; its result (or exception) lands in the list."""
    result: list[object] = []

    def run() -> None:
        try:
            result.append(call())
        except redis.RedisError as exc:
            result.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, result


def test_xread_block_is_served_by_xadd(server: ServerProcess) -> None:
    reader, writer = client(server), client(server)
    writer.xadd("sb1", {"old": "1"}, id="1-1")
    thread, result = in_thread(lambda: reader.xread({"sb1": "$", "sb1-none": "$"}, block=0))
    wait_blocked(server, 1)
    writer.xadd("sb1", {"new": "2"}, id="2-2")
    thread.join(DEADLINE)
    assert result == [[[b"sb1", [(b"2-2", {b"new": b"2"})]]]]


def test_xread_block_times_out(server: ServerProcess) -> None:
    reader = client(server)
    started = time.monotonic()
    assert reader.xread({"sb2": "$"}, block=200) == []
    assert time.monotonic() - started >= 0.2


def test_xreadgroup_block_delivers_to_the_oldest_waiter_first(server: ServerProcess) -> None:
    writer = client(server)
    writer.xgroup_create("sb3", "g", id="$", mkstream=True)
    results: list[list[object]] = []
    threads: list[threading.Thread] = []

    def reader(name: str) -> Callable[[], object]:
        c = client(server)
        return lambda: c.xreadgroup("g", name, {"sb3": ">"}, count=1, block=0)

    for name in ("first", "second"):
        thread, result = in_thread(reader(name))
        wait_blocked(server, len(threads) + 1)
        threads.append(thread)
        results.append(result)
    writer.xadd("sb3", {"n": "1"}, id="1-1")
    threads[0].join(DEADLINE)
    assert results[0] == [[[b"sb3", [(b"1-1", {b"n": b"1"})]]]]
    assert threads[1].is_alive()  # the entry went to the first consumer
    writer.xadd("sb3", {"n": "2"}, id="2-1")
    threads[1].join(DEADLINE)
    assert results[1] == [[[b"sb3", [(b"2-1", {b"n": b"2"})]]]]
    pending = writer.xpending_range("sb3", "g", "-", "+", 10)
    assert [(p["message_id"], p["consumer"]) for p in pending] == [
        (b"1-1", b"first"),
        (b"2-1", b"second"),
    ]


def test_xreadgroup_block_hears_the_group_destroyed(server: ServerProcess) -> None:
    writer, reader = client(server), client(server)
    writer.xgroup_create("sb4", "g", id="$", mkstream=True)
    thread, result = in_thread(lambda: reader.xreadgroup("g", "c", {"sb4": ">"}, block=0))
    wait_blocked(server, 1)
    writer.xgroup_destroy("sb4", "g")
    thread.join(DEADLINE)
    assert str(result[0]) == (
        "NOGROUP the consumer group this client was blocked on no longer exists"
    )


def test_xreadgroup_block_hears_the_key_deleted(server: ServerProcess) -> None:
    writer = client(server)
    writer.xgroup_create("sb5", "g", id="$", mkstream=True)
    with RawClient(*server.addr) as raw:
        raw.send("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "sb5", ">")
        wait_blocked(server, 1)
        writer.delete("sb5")
        assert raw.read_reply() == b"-UNBLOCKED the stream key no longer exists\r\n"


def test_blocked_xread_in_resp3(server: ServerProcess) -> None:
    writer = client(server)
    with RawClient(*server.addr) as raw:
        raw.call("HELLO", "3")
        raw.send("XREAD", "BLOCK", "0", "STREAMS", "sb6", "$")
        wait_blocked(server, 1)
        writer.xadd("sb6", {"a": "b"}, id="5-5")
        assert raw.read_reply() == (
            b"%1\r\n$3\r\nsb6\r\n*1\r\n*2\r\n$3\r\n5-5\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n"
        )
        raw.send("XREAD", "BLOCK", "100", "STREAMS", "sb6", "$")
        assert raw.read_reply() == b"_\r\n"


def test_commands_pipelined_behind_a_blocked_xread_wait(server: ServerProcess) -> None:
    writer = client(server)
    with RawClient(*server.addr) as raw:
        raw.send("XREAD", "BLOCK", "0", "STREAMS", "sb7", "$")
        raw.send("XLEN", "sb7")
        wait_blocked(server, 1)
        writer.xadd("sb7", {"a": "b"}, id="1-0")
        assert raw.read_reply().startswith(b"*1\r\n*2\r\n$3\r\nsb7\r\n")
        assert raw.read_reply() == b":1\r\n"


def test_xread_block_in_multi_answers_nil_at_once(server: ServerProcess) -> None:
    pipe = client(server).pipeline(transaction=True)
    pipe.xread({"sb8": "$"}, block=0)
    assert pipe.execute() == [[]]


def test_disconnected_blocked_reader_leaves_no_trace(server: ServerProcess) -> None:
    writer = client(server)
    writer.xgroup_create("sb9", "g", id="$", mkstream=True)
    raw = socket.create_connection(server.addr)
    raw.sendall(
        b"*9\r\n$10\r\nXREADGROUP\r\n$5\r\nGROUP\r\n$1\r\ng\r\n$1\r\nc\r\n$5\r\nBLOCK\r\n"
        b"$1\r\n0\r\n$7\r\nSTREAMS\r\n$3\r\nsb9\r\n$1\r\n>\r\n"
    )
    wait_blocked(server, 1)
    raw.close()
    give_up = time.monotonic() + DEADLINE
    while any("b" in c["flags"] for c in writer.client_list()) and time.monotonic() < give_up:
        time.sleep(0.01)
    writer.xadd("sb9", {"a": "b"}, id="1-0")
    assert writer.xpending("sb9", "g")["pending"] == 0  # nobody took the entry
