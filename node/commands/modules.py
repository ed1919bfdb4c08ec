"""MODULE (Redis's module.c commands) for a server that cannot load Redis modules: none is
ever loaded, so LIST is empty, LOAD/LOADEX fail the way Redis fails on a library it cannot
open (logging why), and UNLOAD finds nothing.

Rules:
- LOAD, LOADEX and UNLOAD are PROTECTED: `enable-module-command` is checked by the
  dispatcher before they run, with Redis's error. LIST and HELP are not.
- Replies and errors match Redis 7.0.15 byte for byte.
Pure.
"""

from __future__ import annotations

from typing import Final, NoReturn

from node.commands import docs
from node.commands.registry import Flag
from node.commands.table import NODE
from node.engine.session import Client
from node.proto import resp
from node.proto.errors import CommandError

Argv = list[bytes]
_CHANGE: Final = Flag.ADMIN | Flag.NOSCRIPT | Flag.NO_ASYNC_LOADING | Flag.PROTECTED
_LOAD_FAILED: Final = "ERR Error loading the extension. Please check the server logs."
_HELP: Final = (
    b"LIST",
    b"    Return a list of loaded modules.",
    b"LOAD <path> [<arg> ...]",
    b"    Load a module library from <path>, passing to it any optional arguments.",
    b"LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]",
    b"    Load a module library from <path>, while passing it module configurations and "
    b"optional arguments.",
    b"UNLOAD <name>",
    b"    Unload a module.",
)

NODE.container(
    "module",
    group="server",
    since="4.0.0",
    summary="A container for module commands",
    complexity="Depends on subcommand.",
)


@NODE.command(
    "help",
    2,
    Flag.LOADING | Flag.STALE,
    group="server",
    since="5.0.0",
    summary="Show helpful text about the different subcommands",
    complexity="O(1)",
    container="module",
)
def module_help(c: Client, argv: Argv) -> bytes:
    return resp.help_reply(argv[0], _HELP)


@NODE.command(
    "list",
    2,
    Flag.ADMIN | Flag.NOSCRIPT,
    group="server",
    since="4.0.0",
    summary="List all modules loaded by the server",
    complexity="O(N) where N is the number of loaded modules.",
    tips=("nondeterministic_output_order",),
    container="module",
)
def module_list(c: Client, argv: Argv) -> bytes:
    return resp.array_header(0)


def _cannot_load(c: Client, path: bytes) -> NoReturn:
    text = path.decode("utf-8", "replace")
    c.engine.log("warning", f"Module {text} failed to load: slotd cannot load Redis modules")
    raise CommandError(_LOAD_FAILED)


@NODE.command(
    "load",
    -3,
    _CHANGE,
    group="server",
    since="4.0.0",
    summary="Load a module",
    complexity="O(1)",
    container="module",
    args=(docs.string("path"), docs.string("arg", optional=True, multiple=True)),
)
def module_load(c: Client, argv: Argv) -> bytes:
    return _cannot_load(c, argv[2])


@NODE.command(
    "loadex",
    -3,
    _CHANGE,
    group="server",
    since="7.0.0",
    summary="Load a module with extended parameters",
    complexity="O(1)",
    container="module",
    args=(
        docs.string("path"),
        docs.block(
            "configs",
            docs.string("name"),
            docs.string("value"),
            token="CONFIG",
            optional=True,
            multiple=True,
            multiple_token=True,
        ),
        docs.block("args", docs.string("arg"), token="ARGS", optional=True, multiple=True),
    ),
)
def module_loadex(c: Client, argv: Argv) -> bytes:
    # Redis parses CONFIG/ARGS first, but every outcome is the same error (and a log line).
    return _cannot_load(c, argv[2])


@NODE.command(
    "unload",
    3,
    _CHANGE,
    group="server",
    since="4.0.0",
    summary="Unload a module",
    complexity="O(1)",
    container="module",
    args=(docs.string("name"),),
)
def module_unload(c: Client, argv: Argv) -> bytes:
    raise CommandError("ERR Error unloading module: no such module with that name")
