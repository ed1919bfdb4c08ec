"""Pub/Sub against a real redis-server: whole byte streams compared, because (un)subscribe
commands answer with one frame per channel. Each scenario runs on a fresh connection and ends
with RESET + ECHO so the reader knows where the stream ends."""

from __future__ import annotations

import re
import socket

import pytest

from tests.procs import ServerProcess

pytestmark = pytest.mark.interop

END = b"$7\r\n__end__\r\n"
_HELLO_ID = re.compile(rb"\$2\r\nid\r\n:\d+\r\n")


def encode(*args: str | bytes) -> bytes:
    parts = [a.encode() if isinstance(a, str) else a for a in args]
    return b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts)


def stream(
    server: ServerProcess, commands: list[list[str]], publisher: list[list[str]] = ()
) -> bytes:
    with socket.create_connection(server.addr, timeout=10) as sub:
        sub.sendall(b"".join(encode(*c) for c in commands))
        if publisher:
            with socket.create_connection(server.addr, timeout=10) as pub:
                pub.sendall(b"".join(encode(*c) for c in publisher))
                expect = len(publisher)
                got = b""
                while got.count(b"\r\n") < expect:  # every PUBLISH reply is one line
                    got += pub.recv(65536)
        sub.sendall(encode("RESET") + encode("ECHO", "__end__"))
        data = b""
        while not data.endswith(END):
            chunk = sub.recv(65536)
            assert chunk, f"connection closed after {data!r}"
            data += chunk
    return _HELLO_ID.sub(b"$2\r\nid\r\n:ID\r\n", data)


def same(
    slotd: ServerProcess, redis: ServerProcess, commands: list[str], publisher: list[str] = ()
) -> None:
    split = [c.split() for c in commands]
    pub = [c.split() for c in publisher]
    ours, theirs = stream(slotd, split, pub), stream(redis, split, pub)
    assert ours == theirs, f"\n  slotd: {ours!r}\n  redis: {theirs!r}"


SCENARIOS = {
    "resp2_subscribe_cycle": [
        "UNSUBSCRIBE",
        "PUNSUBSCRIBE",
        "SUNSUBSCRIBE",
        "SUBSCRIBE a b a",
        "PSUBSCRIBE p*",
        "GET x",
        "PING",
        "PING hi",
        "SSUBSCRIBE s1",
        "PUBLISH a x",
        "UNSUBSCRIBE a zz",
        "PUNSUBSCRIBE",
        "SUNSUBSCRIBE",
        "UNSUBSCRIBE",
        "PUNSUBSCRIBE",
        "SUNSUBSCRIBE",
        "GET x",
    ],
    "errors_and_introspection": [
        "SUBSCRIBE",
        "PSUBSCRIBE",
        "PUBSUB FOO",
        "PUBSUB CHANNELS a b",
        "PUBSUB NUMPAT x",
        "PUBSUB HELP",
        "PUBSUB CHANNELS",
        "PUBSUB NUMSUB",
        "PUBSUB SHARDNUMSUB",
    ],
    "inside_multi": ["MULTI", "SUBSCRIBE x", "PING", "EXEC", "PING"],
    "resp3_push_and_commands": [
        "HELLO 3",
        "SUBSCRIBE a",
        "GET x",
        "PING",
        "PUBLISH a hello",
        "SSUBSCRIBE s1 s2",
        "SPUBLISH s1 m",
        "PUBSUB NUMSUB a b",
        "PUBSUB CHANNELS",
        "PUBSUB CHANNELS a*",
        "PUBSUB NUMPAT",
        "PUBSUB SHARDCHANNELS s1*",
        "PUBSUB SHARDNUMSUB s1",
        "PSUBSCRIBE *",
        "PUBLISH a two",
        "PUNSUBSCRIBE nope",
    ],
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_single_connection_streams(
    slotd_proc: ServerProcess, redis_proc: ServerProcess, name: str
) -> None:
    same(slotd_proc, redis_proc, SCENARIOS[name])


@pytest.mark.parametrize("resp", ["2", "3"])
def test_messages_from_another_client(
    slotd_proc: ServerProcess, redis_proc: ServerProcess, resp: str
) -> None:
    same(
        slotd_proc,
        redis_proc,
        [f"HELLO {resp}", "SUBSCRIBE news", "PSUBSCRIBE n* x?", "SSUBSCRIBE shard"],
        [
            "PUBLISH news one",
            "PUBLISH nope two",
            "PUBLISH xy three",
            "SPUBLISH shard four",
            "SPUBLISH news five",
            "PUBLISH zzz six",
        ],
    )
