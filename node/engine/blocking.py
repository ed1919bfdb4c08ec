"""Blocking commands (BLPOP, BZPOPMIN, XREAD BLOCK, ...): what a handler returns when it must
wait, and the per-client record of that wait.

Rules (Redis's blocked.c, in our shape):
- A handler that cannot answer yet returns a `Block` instead of reply bytes. The engine parks
  the client on the Block's keys (FIFO per key) and sends nothing.
- Whoever makes a key ready (a push, an add, a rename onto it) calls `Database.mark_ready`;
  after the current command the engine re-runs each parked command, oldest first, until the
  key runs dry. A re-run that returns a Block again leaves the client parked where it was.
- CLIENT PAUSE parks clients the same way, with a `postponed` Block that waits on nothing
  and is released when the pause ends (node/engine/observe.py).
- A deadline passing answers `on_timeout`. Inside MULTI/EXEC or a script nothing blocks: the
  engine answers `on_timeout` at once.
- The re-run uses `retry_argv` when the handler gives one (XREAD resolves `$` to the stream's
  last ID at block time, so the re-run must not resolve it again).
- Deleting a key someone is blocked on makes it ready too, but only Blocks with
  `wake_on_delete` are re-run for a key that is gone (XREADGROUP then answers an error, as
  Redis 7.0 does); the others keep waiting. A re-run knows it is one: `client.blocked` is
  still set while it runs, with `woken_by` naming the ready key (Redis serves a client
  blocked on several keys from the key that became ready, not from the first one listed).
Pure: deadlines are unix ms from the engine's clock (parsed by
node/commands/_args.timeout_to_deadline).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

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
    wake_on_delete: bool = False  # re-run even when the key was deleted meanwhile
    # CLIENT PAUSE parked the client before its command ran (no keys, no deadline): when
    # the pause ends the command runs from the top of the dispatcher (Engine.postpone).
    postponed: bool = False


@dataclass(slots=True)
class Blocked:
    """A parked client's pending command."""

    spec: CommandSpec
    argv: list[bytes]
    block: Block
    db: Database
    woken_by: bytes | None = None  # during a re-run: the key whose readiness caused it
