"""Test helpers for the pure core: run commands through `Engine.execute`, no sockets.

h = Harness()                      # fresh engine, one client, a fixed fake clock
assert h("SET", "k", "v") == b"OK"
assert h.error("GET") == "ERR wrong number of arguments for 'get' command"
h.advance(1500)                    # move the clock 1.5 s
other = h.client_harness()         # a second client on the same engine
"""

from __future__ import annotations

import random
from typing import Any

import hiredis

from node.commands import load
from node.config import Config
from node.engine.engine import Engine
from node.engine.session import Client

START_MS = 1_700_000_000_000


def make_engine(**config: str) -> Engine:
    cfg = Config()
    for name, value in config.items():
        cfg.apply(name.replace("_", "-"), [value], startup=True)
    engine = Engine(cfg, load(), random.Random(1234), strict=True)
    engine.set_time(START_MS)
    return engine


class Harness:
    """One client of an engine; calling it runs a command and decodes the reply."""

    def __init__(self, engine: Engine | None = None, *, resp: int = 2, **config: str) -> None:
        self.engine = engine if engine is not None else make_engine(**config)
        client = self.engine.connect("127.0.0.1:50000", "127.0.0.1:6379")
        assert client is not None
        self.client: Client = client
        self.client.resp = resp

    def client_harness(self, resp: int = 2) -> Harness:
        return Harness(self.engine, resp=resp)

    def raw(self, *args: str | bytes | int | float) -> bytes:
        """Run one command; return the exact reply bytes it produced."""
        argv = [a if isinstance(a, bytes) else str(a).encode() for a in args]
        self.client.out.clear()
        self.engine.execute(self.client, argv)
        return self.pending()

    def pending(self) -> bytes:
        """What the client was sent since it was last read (pushes, a blocked command's
        reply, what other clients' commands caused), and clear it."""
        data = b"".join(self.client.out)
        self.client.out.clear()
        return data

    def frames(self) -> list[Any]:
        """pending(), decoded frame by frame."""
        reader = hiredis.Reader()
        reader.feed(self.pending())
        out = []
        while (item := reader.gets()) is not False:
            out.append(item)
        return out

    def __call__(self, *args: str | bytes | int | float) -> Any:
        """Run one command; return the decoded reply (errors as hiredis.ReplyError)."""
        return decode(self.raw(*args))

    def error(self, *args: str | bytes | int | float) -> str:
        """Run a command that must fail; return its error text."""
        reply = self(*args)
        assert isinstance(reply, hiredis.ReplyError), f"expected an error, got {reply!r}"
        return str(reply)

    def advance(self, ms: int) -> None:
        self.engine.set_time(self.engine.now_ms + ms)


def decode(data: bytes) -> Any:
    """Decode exactly one RESP2/RESP3 reply."""
    reader = hiredis.Reader()
    reader.feed(data)
    reply = reader.gets()
    assert reply is not False, f"incomplete reply {data!r}"
    assert reader.gets() is False, f"more than one reply in {data!r}"
    return reply
