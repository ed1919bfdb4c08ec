"""Transactions (Redis's multi.c): MULTI, EXEC, DISCARD, WATCH, UNWATCH.

Rules: the dispatcher queues commands while `client.multi` is a list (errors while queueing
set `client.multi_error`, making EXEC answer EXECABORT). EXEC re-resolves each queued argv
and runs it through `Engine.call` with blocking disabled, so blocking commands answer their
timeout reply at once, and collects the replies into one array. A touched WATCHed key (or a
watched key that expired since) makes EXEC answer a null array. Each queued command passes
the ACL again at EXEC (its rules may have changed meanwhile), as in Redis. Pure.
"""

from __future__ import annotations

from node.commands import docs
from node.commands.registry import Acl, Flag, KeyFlag, key_at
from node.commands.table import NODE
from node.engine.session import Client
from node.proto import errors, resp
from node.proto.errors import CommandError

Argv = list[bytes]
_ALWAYS = Flag.NOSCRIPT | Flag.LOADING | Flag.STALE


def discard_transaction(c: Client) -> None:
    """Leave MULTI state and forget the WATCHes (EXEC, DISCARD, RESET)."""
    c.multi = None
    c.multi_error = False
    c.engine.unwatch(c)


@NODE.command(
    "multi",
    1,
    _ALWAYS | Flag.FAST | Flag.ALLOW_BUSY,
    group="transactions",
    since="1.2.0",
    summary="Mark the start of a transaction block",
    complexity="O(1)",
    acl=Acl.TRANSACTION,
)
def multi(c: Client, argv: Argv) -> bytes:
    if c.multi is not None:
        raise CommandError("ERR MULTI calls can not be nested")
    c.multi = []
    c.multi_error = False
    return resp.OK


@NODE.command(
    "exec",
    1,
    _ALWAYS | Flag.SKIP_SLOWLOG,
    group="transactions",
    since="1.2.0",
    summary="Execute all commands issued after MULTI",
    complexity="Depends on commands in the transaction",
    acl=Acl.TRANSACTION,
)
def exec_(c: Client, argv: Argv) -> bytes:
    queued = c.multi
    if queued is None:
        raise CommandError("ERR EXEC without MULTI")
    engine = c.engine
    if c.multi_error:
        discard_transaction(c)
        raise CommandError(errors.EXEC_ABORT)
    if c.watch_dirty or engine.watched_key_expired(c):
        discard_transaction(c)
        return resp.null_array(c.resp)
    # Unwatch first, as Redis does: the transaction's own writes must not flag the client.
    engine.unwatch(c)
    c.multi = None
    saved, c.out = c.out, []
    engine.no_blocking += 1
    try:
        for queued_argv in queued:  # each one resolved when it was queued
            spec = engine.resolve(queued_argv)
            denied = engine.acl.exec_denied(c, spec, queued_argv)
            if denied is not None:
                engine.count_error(denied)
                c.out.append(resp.error(denied))
                continue
            engine.call(c, spec, queued_argv)
    finally:
        engine.no_blocking -= 1
        replies, c.out = c.out, saved
    # EXEC itself never propagates: the commands it ran did, as one unit (MULTI/EXEC).
    engine.propagate_as(c, [])
    # The header counts commands, not replies, as Redis's does (a SUBSCRIBE of two channels
    # inside MULTI adds two frames under one count there too).
    return resp.array_header(len(queued)) + b"".join(replies)


@NODE.command(
    "discard",
    1,
    _ALWAYS | Flag.FAST | Flag.ALLOW_BUSY,
    group="transactions",
    since="2.0.0",
    summary="Discard all commands issued after MULTI",
    complexity="O(N), when N is the number of queued commands",
    acl=Acl.TRANSACTION,
)
def discard(c: Client, argv: Argv) -> bytes:
    if c.multi is None:
        raise CommandError("ERR DISCARD without MULTI")
    discard_transaction(c)
    return resp.OK


@NODE.command(
    "watch",
    -2,
    _ALWAYS | Flag.FAST | Flag.ALLOW_BUSY,
    group="transactions",
    since="2.2.0",
    summary="Watch the given keys to determine execution of the MULTI/EXEC block",
    complexity="O(1) for every key.",
    acl=Acl.TRANSACTION,
    keys=[key_at(1, KeyFlag.RO, lastkey=-1)],
    args=(docs.key("key", 0, multiple=True),),
)
def watch(c: Client, argv: Argv) -> bytes:
    if c.multi is not None:
        raise CommandError("ERR WATCH inside MULTI is not allowed")
    for key in argv[1:]:
        c.engine.watch(c, key)
    return resp.OK


@NODE.command(
    "unwatch",
    1,
    _ALWAYS | Flag.FAST | Flag.ALLOW_BUSY,
    group="transactions",
    since="2.2.0",
    summary="Forget about all watched keys",
    complexity="O(1)",
    acl=Acl.TRANSACTION,
)
def unwatch(c: Client, argv: Argv) -> bytes:
    c.engine.unwatch(c)
    return resp.OK
