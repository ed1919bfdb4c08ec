"""Blocking list commands over real sockets with redis-py: FIFO service, timeouts, pipelined
commands held behind a blocked one, and a blocked client that disconnects."""

from __future__ import annotations

import socket
import threading
import time

import redis

from tests.procs import ServerProcess


def client(server: ServerProcess) -> redis.Redis:
    return redis.Redis(*server.addr, socket_timeout=30, protocol=2)


def wait_blocked(server: ServerProcess, count: int) -> None:
    """Wait until `count` clients are parked (CLIENT LIST flags are another helper's; poll the
    reply instead: a blocked client's next command is not answered)."""
    time.sleep(0.2 * count)


def test_blpop_waits_for_a_push(slotd_proc: ServerProcess) -> None:
    waiter, pusher = client(slotd_proc), client(slotd_proc)
    result: list[object] = []
    thread = threading.Thread(target=lambda: result.append(waiter.blpop(["bq1"], timeout=20)))
    thread.start()
    wait_blocked(slotd_proc, 1)
    pusher.rpush("bq1", "hello")
    thread.join(30)
    assert result == [(b"bq1", b"hello")]


def test_blocked_clients_are_served_in_arrival_order(slotd_proc: ServerProcess) -> None:
    results: dict[int, object] = {}
    threads = []
    for i in range(3):
        c = client(slotd_proc)
        t = threading.Thread(target=lambda i=i, c=c: results.__setitem__(i, c.brpop(["bq2"], 20)))
        t.start()
        threads.append(t)
        wait_blocked(slotd_proc, 1)
    pusher = client(slotd_proc)
    for value in ("a", "b", "c"):
        pusher.lpush("bq2", value)
    for t in threads:
        t.join(30)
    assert results == {0: (b"bq2", b"a"), 1: (b"bq2", b"b"), 2: (b"bq2", b"c")}


def test_timeout_returns_nil_and_decimal_timeouts_work(slotd_proc: ServerProcess) -> None:
    c = client(slotd_proc)
    started = time.monotonic()
    assert c.blpop(["bq-none"], timeout=0.2) is None
    assert time.monotonic() - started >= 0.2
    assert c.blmove("bq-none", "dst", 0.1, "LEFT", "RIGHT") is None


def test_pipelined_commands_wait_behind_a_blocked_one(slotd_proc: ServerProcess) -> None:
    c = client(slotd_proc)
    pipe = c.pipeline(transaction=False)
    pipe.blpop(["bq3"], timeout=20)
    pipe.lpush("bq3-after", "x")
    holder: list[object] = []
    thread = threading.Thread(target=lambda: holder.append(pipe.execute()))
    thread.start()
    wait_blocked(slotd_proc, 1)
    other = client(slotd_proc)
    assert other.llen("bq3-after") == 0  # the second command has not run yet
    other.rpush("bq3", "go")
    thread.join(30)
    assert holder == [[(b"bq3", b"go"), 1]]


def test_disconnected_blocked_client_leaves_no_trace(slotd_proc: ServerProcess) -> None:
    raw = socket.create_connection(slotd_proc.addr)
    raw.sendall(b"*3\r\n$5\r\nBLPOP\r\n$3\r\nbq4\r\n$1\r\n0\r\n")
    wait_blocked(slotd_proc, 1)
    raw.close()
    time.sleep(0.2)
    c = client(slotd_proc)
    c.rpush("bq4", "kept")
    assert c.lrange("bq4", 0, -1) == [b"kept"]
