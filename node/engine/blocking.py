"""Blocking commands (BLPOP, BZPOPMIN, XREAD BLOCK, ...): what a handler returns when it must
wait, and the per-client record of that wait.

Rules (Redis's blocked.c, in our shape):
- A handler that cannot answer yet returns a `Block` instead of reply bytes. The engine parks
  the client on the Block's keys (FIFO per key) and sends nothing.
- Whoever makes a key ready (a push, an add, a rename onto it) calls `Database.mark_ready`;
  after the current command the engine re-runs each parked command, oldest first, until the
  key runs dry. A re-run that returns a Block again leaves the client parked where it was.
- A deadline passing answers `on_timeout`. Inside MULTI/EXEC or a script nothing blocks: the
  engine answers `on_timeout` at once.
- The re-run uses `retry_argv` when the handler gives one (XREAD resolves `$` to the stream's
  last ID at block time, so the re-run must not resolve it again).
Pure: deadlines are unix ms from the engine's clock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from node.proto.errors import CommandError

if TYPE_CHECKING:
    from node.commands.registry import CommandSpec
    from node.engine.keyspace import Database


@dataclass(slots=True)
class Block:
    """Returned by a handler that has to wait for one of `keys` (in the client's db)."""

    keys: tuple[bytes, ...]
    deadline_ms: int  # absolute unix ms; 0 waits forever
    on_timeout: bytes  # the complete reply sent when the deadline passes
    retry_argv: list[bytes] | None = None


@dataclass(slots=True)
class Blocked:
    """A parked client's pending command."""

    spec: CommandSpec
    argv: list[bytes]
    block: Block
    db: Database


def timeout_to_deadline(raw: bytes, now_ms: int, *, seconds: bool = True) -> int:
    """Redis's getTimeoutFromObjectOrReply: a timeout in seconds (decimals allowed, rounded up
    to whole ms) or in ms, as an absolute deadline; 0 means forever."""
    llong_max = 2**63 - 1
    if seconds:
        try:
            value = float(raw)
        except ValueError:
            value = float("nan")
        if value != value or raw.strip() != raw or not raw:
            raise CommandError("ERR timeout is not a float or out of range")
        value *= 1000.0
        if value > llong_max:
            raise CommandError("ERR timeout is out of range")
        ms = math.ceil(value) if value > -llong_max else -1
    else:
        try:
            ms = int(raw)
        except ValueError:
            ms = llong_max + 1
        if not -llong_max - 1 <= ms <= llong_max or raw.strip() != raw:
            raise CommandError("ERR timeout is not an integer or out of range")
    if ms < 0:
        raise CommandError("ERR timeout is negative")
    if ms == 0:
        return 0
    if ms > llong_max - now_ms:
        raise CommandError("ERR timeout is out of range")
    return now_ms + ms
