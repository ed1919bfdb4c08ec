"""Lua scripting commands: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and the SCRIPT container
(LOAD, EXISTS, FLUSH, KILL, HELP).

Rules: the handlers parse and validate in Redis's order (EVALSHA checks the SHA's length
before numkeys; numkeys is checked before the script is looked up or compiled), then hand
over to the engine's scripting state (node/engine/scripting.py), which compiles, caches and
runs scripts. SCRIPT DEBUG (the Lua debugger) is not implemented. Pure.
"""

from __future__ import annotations

from typing import Final

from node.commands import docs
from node.commands._args import option, string2ll
from node.commands.registry import Acl, Flag, KeyFlag, KeySpec
from node.commands.table import NODE
from node.engine.session import Client
from node.proto import errors, resp
from node.proto.errors import CommandError

Argv = list[bytes]
_EVAL_FLAGS: Final = Flag.NOSCRIPT | Flag.STALE | Flag.SKIP_MONITOR | Flag.NO_MANDATORY_KEYS
# EVAL and EVALSHA may replicate (their writes); the _RO variants do not.
_WRITE_EVAL_FLAGS: Final = _EVAL_FLAGS | Flag.MAY_REPLICATE
_NOTES: Final = "We cannot tell how the keys will be used so we assume the worst, {}"
_RW_KEYS: Final = KeyFlag.RW | KeyFlag.ACCESS | KeyFlag.UPDATE
_RO_KEYS: Final = KeyFlag.RO | KeyFlag.ACCESS
NOSCRIPT: Final = "NOSCRIPT No matching script. Please use EVAL."


def _args(first: str) -> tuple[docs.Arg, ...]:
    return (
        docs.string(first),
        docs.integer("numkeys"),
        docs.key("key", 0, optional=True, multiple=True),
        docs.string("arg", optional=True, multiple=True),
    )


def keys_spec(flags: KeyFlag, notes: str = "") -> list[KeySpec]:
    """numkeys at argv[2], then that many keys (EVAL*, FCALL*)."""
    return [
        KeySpec(flags, "index", 2, find="keynum", keynumidx=0, firstkey=1, keystep=1, notes=notes)
    ]


def numkeys_arg(argv: Argv, message: str = errors.NOT_INTEGER) -> int:
    """EVAL/FCALL's numkeys: an integer no larger than the arguments that follow."""
    numkeys = string2ll(argv[2])
    if numkeys is None:
        raise CommandError(message)
    if numkeys > len(argv) - 3:
        raise CommandError("ERR Number of keys can't be greater than number of args")
    if numkeys < 0:
        raise CommandError("ERR Number of keys can't be negative")
    return numkeys


def _eval(c: Client, argv: Argv, read_only: bool) -> bytes:
    c.engine.observer.feed_monitors(c, argv)  # SKIP_MONITOR: shown first, even if refused
    numkeys = numkeys_arg(argv)
    scripting = c.engine.scripting
    return scripting.eval(c, argv, scripting.create_script(argv[1]), numkeys, read_only)


def _evalsha(c: Client, argv: Argv, read_only: bool) -> bytes:
    c.engine.observer.feed_monitors(c, argv)  # SKIP_MONITOR: shown first, even if refused
    if len(argv[1]) != 40:
        raise CommandError(NOSCRIPT)
    numkeys = numkeys_arg(argv)
    scripting = c.engine.scripting
    script = scripting.scripts.get(argv[1].lower())
    if script is None:
        raise CommandError(NOSCRIPT)
    return scripting.eval(c, argv, script, numkeys, read_only)


@NODE.command(
    "eval",
    -3,
    _WRITE_EVAL_FLAGS,
    group="scripting",
    since="2.6.0",
    summary="Execute a Lua script server side",
    complexity="Depends on the script that is executed.",
    acl=Acl.SCRIPTING,
    keys=keys_spec(_RW_KEYS, _NOTES.format("RW and UPDATE")),
    args=_args("script"),
)
def eval_(c: Client, argv: Argv) -> bytes:
    return _eval(c, argv, False)


@NODE.command(
    "evalsha",
    -3,
    _WRITE_EVAL_FLAGS,
    group="scripting",
    since="2.6.0",
    summary="Execute a Lua script server side",
    complexity="Depends on the script that is executed.",
    acl=Acl.SCRIPTING,
    keys=keys_spec(_RW_KEYS),
    args=_args("sha1"),
)
def evalsha(c: Client, argv: Argv) -> bytes:
    return _evalsha(c, argv, False)


@NODE.command(
    "eval_ro",
    -3,
    Flag.READONLY | _EVAL_FLAGS,
    group="scripting",
    since="7.0.0",
    summary="Execute a read-only Lua script server side",
    complexity="Depends on the script that is executed.",
    acl=Acl.SCRIPTING,
    keys=keys_spec(_RO_KEYS, _NOTES.format("RO and ACCESS")),
    args=_args("script"),
)
def eval_ro(c: Client, argv: Argv) -> bytes:
    return _eval(c, argv, True)


@NODE.command(
    "evalsha_ro",
    -3,
    Flag.READONLY | _EVAL_FLAGS,
    group="scripting",
    since="7.0.0",
    summary="Execute a read-only Lua script server side",
    complexity="Depends on the script that is executed.",
    acl=Acl.SCRIPTING,
    keys=keys_spec(_RO_KEYS),
    args=_args("sha1"),
)
def evalsha_ro(c: Client, argv: Argv) -> bytes:
    return _evalsha(c, argv, True)


# --- SCRIPT ------------------------------------------------------------------------------
NODE.container(
    "script",
    group="scripting",
    since="2.6.0",
    summary="A container for Lua scripts management commands",
    complexity="Depends on subcommand.",
)

_SCRIPT_HELP: Final = (
    b"DEBUG (YES|SYNC|NO)",
    b"    Set the debug mode for subsequent scripts executed.",
    b"EXISTS <sha1> [<sha1> ...]",
    b"    Return information about the existence of the scripts in the script cache.",
    b"FLUSH [ASYNC|SYNC]",
    b"    Flush the Lua scripts cache. Very dangerous on replicas.",
    b"    When called without the optional mode argument, the behavior is determined by the",
    b"    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    b"    * ASYNC: Asynchronously flush the scripts cache.",
    b"    * SYNC: Synchronously flush the scripts cache.",
    b"KILL",
    b"    Kill the currently executing Lua script.",
    b"LOAD <script>",
    b"    Load a script into the scripts cache without executing it.",
)


@NODE.command(
    "load",
    3,
    Flag.NOSCRIPT | Flag.STALE,
    group="scripting",
    since="2.6.0",
    summary="Load the specified Lua script into the script cache.",
    complexity="O(N) with N being the length in bytes of the script body.",
    acl=Acl.SCRIPTING,
    tips=("request_policy:all_nodes", "response_policy:all_succeeded"),
    args=(docs.string("script"),),
    container="script",
)
def script_load(c: Client, argv: Argv) -> bytes:
    return resp.bulk(c.engine.scripting.create_script(argv[2]).sha)


@NODE.command(
    "exists",
    -3,
    Flag.NOSCRIPT,
    group="scripting",
    since="2.6.0",
    summary="Check existence of scripts in the script cache.",
    complexity="O(N) with N being the number of scripts to check (so checking a "
    "single script is an O(1) operation).",
    acl=Acl.SCRIPTING,
    tips=("request_policy:all_shards", "response_policy:agg_logical_and"),
    args=(docs.string("sha1", multiple=True),),
    container="script",
)
def script_exists(c: Client, argv: Argv) -> bytes:
    scripts = c.engine.scripting.scripts
    found = [resp.ONE if sha.lower() in scripts else resp.ZERO for sha in argv[2:]]
    return resp.array_header(len(found)) + b"".join(found)


def flush_mode(argv: Argv, message: str) -> None:
    """[ASYNC|SYNC]: both flush at once here (nothing is freed in the background)."""
    if len(argv) > 3 or (len(argv) == 3 and option(argv[2]) not in (b"ASYNC", b"SYNC")):
        raise CommandError(message)


@NODE.command(
    "flush",
    -2,
    Flag.NOSCRIPT,
    group="scripting",
    since="2.6.0",
    summary="Remove all the scripts from the script cache.",
    complexity="O(N) with N being the number of scripts in cache",
    acl=Acl.SCRIPTING,
    tips=("request_policy:all_nodes", "response_policy:all_succeeded"),
    history=(("6.2.0", "Added the `ASYNC` and `SYNC` flushing mode modifiers."),),
    args=(
        docs.oneof(
            "async",
            docs.token("async", "ASYNC"),
            docs.token("sync", "SYNC"),
            optional=True,
            since="6.2.0",
        ),
    ),
    container="script",
)
def script_flush(c: Client, argv: Argv) -> bytes:
    flush_mode(argv, "ERR SCRIPT FLUSH only support SYNC|ASYNC option")
    c.engine.scripting.flush_scripts()
    return resp.OK


@NODE.command(
    "kill",
    2,
    Flag.NOSCRIPT | Flag.ALLOW_BUSY,
    group="scripting",
    since="2.6.0",
    summary="Kill the script currently in execution.",
    complexity="O(1)",
    acl=Acl.SCRIPTING,
    tips=("request_policy:all_shards", "response_policy:one_succeeded"),
    container="script",
)
def script_kill(c: Client, argv: Argv) -> bytes:
    c.engine.scripting.kill(eval_mode=True)
    return resp.OK


@NODE.command(
    "help",
    2,
    Flag.LOADING | Flag.STALE,
    group="scripting",
    since="5.0.0",
    summary="Show helpful text about the different subcommands",
    complexity="O(1)",
    acl=Acl.SCRIPTING,
    container="script",
)
def script_help(c: Client, argv: Argv) -> bytes:
    return resp.help_reply(argv[0], _SCRIPT_HELP)
