"""The engine's blocking machinery, driven by a toy blocking command on a private table."""

from __future__ import annotations

import random

from node.commands._args import timeout_to_deadline
from node.commands.registry import CommandTable, Flag, KeyFlag, key_at
from node.config import Config
from node.engine.blocking import Block
from node.engine.engine import Engine
from node.engine.session import Client
from node.proto import resp
from node.proto.errors import CommandError
from tests.support import START_MS, Harness

TABLE = CommandTable()


@TABLE.command(
    "take",
    3,
    Flag.WRITE | Flag.BLOCKING,
    group="list",
    since="1.0.0",
    summary="Pop the string at key, waiting up to timeout seconds.",
    keys=[key_at(1, KeyFlag.RW | KeyFlag.ACCESS | KeyFlag.DELETE)],
)
def take(c: Client, argv: list[bytes]) -> bytes | Block:
    value = c.db.lookup(argv[1])
    if value is None:
        return Block(
            (argv[1],), timeout_to_deadline(argv[2], c.engine.now_ms), resp.null_array(c.resp)
        )
    c.db.delete(argv[1])
    return resp.bulk(value)  # type: ignore[arg-type]


@TABLE.command(
    "put",
    3,
    Flag.WRITE,
    group="string",
    since="1.0.0",
    summary="Store a string.",
    keys=[key_at(1, KeyFlag.OW | KeyFlag.UPDATE)],
)
def put(c: Client, argv: list[bytes]) -> bytes:
    c.db.set_value(argv[1], argv[2])
    return resp.OK


def engine() -> Engine:
    e = Engine(Config(), TABLE, random.Random(1), strict=True)
    e.set_time(START_MS)
    return e


def test_blocked_client_gets_value_pushed_later() -> None:
    a = Harness(engine())
    b = a.client_harness()
    assert a.raw("take", "k", "0") == b""
    assert a.client.blocked is not None
    assert b("put", "k", "v") == b"OK"
    assert a.client.blocked is None
    assert a.engine.woken == [a.client]
    assert a.client.out == [b"$1\r\nv\r\n"]
    assert a.engine.keyspace.dbs[0].lookup(b"k") is None


def test_blocked_clients_are_served_oldest_first() -> None:
    a = Harness(engine())
    b, c = a.client_harness(), a.client_harness()
    a.raw("take", "k", "0")
    b.raw("take", "k", "0")
    c("put", "k", "1")
    assert a.client.out == [b"$1\r\n1\r\n"] and b.client.blocked is not None
    c("put", "k", "2")
    assert b.client.out == [b"$1\r\n2\r\n"]


def test_deadline_answers_timeout_reply() -> None:
    a = Harness(engine())
    a.raw("take", "k", "1.5")
    a.advance(1499)
    a.engine.expire_blocked()
    assert a.client.blocked is not None
    assert a.engine.next_block_deadline() == START_MS + 1500
    a.advance(1)
    a.engine.expire_blocked()
    assert a.client.blocked is None and a.client.out == [b"*-1\r\n"]


def test_disconnect_while_blocked_leaves_no_trace() -> None:
    a = Harness(engine())
    a.raw("take", "k", "0")
    a.engine.disconnect(a.client)
    db = a.engine.keyspace.dbs[0]
    assert not db.blocking and not a.engine.blocked


def test_no_blocking_context_answers_at_once() -> None:
    a = Harness(engine())
    a.engine.no_blocking += 1
    assert a.raw("take", "k", "0") == b"*-1\r\n"
    assert a.client.blocked is None


def test_timeout_parsing_matches_redis() -> None:
    assert timeout_to_deadline(b"0", 1000) == 0
    assert timeout_to_deadline(b"0.0011", 1000) == 1002  # rounded up to whole ms
    assert timeout_to_deadline(b"5", 1000, seconds=False) == 1005
    assert timeout_to_deadline(b"0x10", 1000) == 17000  # strtold syntax
    assert timeout_to_deadline(b"-0.0001", 1000) == 0  # rounds up to 0: forever
    for raw, message in [
        (b"abc", "ERR timeout is not a float or out of range"),
        (b" 1", "ERR timeout is not a float or out of range"),
        (b"-1", "ERR timeout is negative"),
        (b"inf", "ERR timeout is negative"),
        (b"1e16", "ERR timeout is negative"),
    ]:
        try:
            timeout_to_deadline(raw, 1000)
        except CommandError as exc:
            assert exc.message == message
        else:
            raise AssertionError(raw)
    try:
        timeout_to_deadline(b"1.5", 1000, seconds=False)
    except CommandError as exc:
        assert exc.message == "ERR timeout is not an integer or out of range"
