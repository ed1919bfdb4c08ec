"""Pub/Sub over real sockets: redis-py's PubSub in RESP2 and RESP3, and a subscriber that
does not read being disconnected by client-output-buffer-limit instead of growing memory."""

from __future__ import annotations

import socket

import pytest
import redis

from tests.procs import ServerProcess


@pytest.mark.parametrize("protocol", [2, 3])
def test_redis_py_pubsub_roundtrip(slotd_proc: ServerProcess, protocol: int) -> None:
    r = redis.Redis(*slotd_proc.addr, protocol=protocol)
    p = r.pubsub()
    p.subscribe("e2e-news")
    p.psubscribe("e2e-*")
    assert p.get_message(timeout=5)["type"] == "subscribe"
    assert p.get_message(timeout=5)["type"] == "psubscribe"
    assert r.publish("e2e-news", "hello") == 2
    got = [p.get_message(timeout=5) for _ in range(2)]
    assert {m["type"] for m in got} == {"message", "pmessage"}
    assert all(m["data"] == b"hello" for m in got)
    p.close()


def test_slow_subscriber_is_disconnected(slotd_factory: object) -> None:
    server = slotd_factory("--client-output-buffer-limit", "pubsub 256kb 128kb 60")  # type: ignore[operator]
    sub = socket.create_connection(server.addr)
    sub.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sub.sendall(b"*2\r\n$9\r\nSUBSCRIBE\r\n$5\r\nflood\r\n")
    confirmation = b""
    while not confirmation.endswith(b":1\r\n"):
        confirmation += sub.recv(4096)
    publisher = redis.Redis(*server.addr, protocol=2)
    bystander = redis.Redis(*server.addr, protocol=2)
    payload = b"x" * 4096
    receivers = []
    for i in range(2000):  # 8 MB the subscriber never reads
        receivers.append(publisher.publish("flood", payload))
        if i % 250 == 0:
            assert bystander.ping()  # other clients are served throughout
    assert receivers[0] == 1
    assert receivers[-1] == 0  # the subscriber was dropped along the way
    assert publisher.ping()
    sub.close()
