"""Check pure engine tests against a real redis-server.

Test modules that get their harness from `harness()` run against slotd's engine
normally; with `SLOTD_VERIFY_PORT=<port>` in the environment they run, unchanged, against
the redis-server listening there (FLUSHALLed before each test), which shows that every
expectation written in them is what Redis itself answers:

    SLOTD_VERIFY_PORT=16400 .venv/bin/pytest tests/commands/test_sets.py

Only tests that talk to the server through commands can do this; tests that look inside
the engine take `engine_only` to be skipped in that mode.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import hiredis
import pytest

from tests.rawclient import RawClient
from tests.support import Harness, decode

Arg = str | bytes | int | float


class RedisHarness:
    """The `Harness` interface (call, raw, error) over a connection to a real server."""

    def __init__(self, port: int, resp: int = 2, *, flush: bool = True) -> None:
        self.port = port
        self.others: list[RedisHarness] = []
        self.client = RawClient("127.0.0.1", port)
        if resp == 3:
            self.client.call("HELLO", "3")
        if flush:
            self.client.call("FLUSHALL")

    def client_harness(self, resp: int = 2) -> RedisHarness:
        """Another connection to the same server (same data)."""
        other = RedisHarness(self.port, resp, flush=False)
        self.others.append(other)
        return other

    def close(self) -> None:
        for other in self.others:
            other.close()
        self.client.close()

    def raw(self, *args: Arg) -> bytes:
        return self.client.call(*args)

    def __call__(self, *args: Arg) -> Any:
        return decode(self.raw(*args))

    def error(self, *args: Arg) -> str:
        reply = self(*args)
        assert isinstance(reply, hiredis.ReplyError), f"expected an error, got {reply!r}"
        return str(reply)


def verify_port() -> int | None:
    port = os.environ.get("SLOTD_VERIFY_PORT")
    return int(port) if port else None


@contextmanager
def restoring(h: Harness | RedisHarness, *names: str) -> Iterator[None]:
    """Put these config parameters back to their values when the block ends (a real
    server outlives the test)."""
    saved = [h("CONFIG", "GET", name)[1] for name in names]
    try:
        yield
    finally:
        for name, value in zip(names, saved, strict=True):
            h("CONFIG", "SET", name, value)


@contextmanager
def harness(resp: int = 2) -> Iterator[Harness | RedisHarness]:
    """A fresh engine harness, or a connection to the verification server."""
    port = verify_port()
    if port is None:
        yield Harness(resp=resp)
        return
    real = RedisHarness(port, resp)
    try:
        yield real
    finally:
        real.close()


engine_only = pytest.mark.skipif(verify_port() is not None, reason="looks inside slotd's engine")
