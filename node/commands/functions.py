"""Redis functions: FCALL, FCALL_RO and the FUNCTION container (LOAD, DELETE, FLUSH, LIST,
DUMP, RESTORE, STATS, KILL, HELP).

Rules: libraries live in the engine's scripting state (node/engine/scripting.py); loading one
runs its body in the restricted load-time Lua environment. FUNCTION DUMP/RESTORE use Redis
7.0's payload (FUNCTION2 records of each library's code, RDB version 10, CRC-64), so a real
redis-server restores our dumps and we restore its. LOAD, DELETE, FLUSH and RESTORE change
the dataset as far as persistence is concerned (dirty). Pure.
"""

from __future__ import annotations

from typing import Final

from node.commands import docs
from node.commands._args import option, string2ll
from node.commands.registry import Acl, Flag, KeyFlag
from node.commands.scripting import flush_mode, keys_spec
from node.commands.table import NODE
from node.engine.glob import match
from node.engine.lua import SCRIPT_FLAGS
from node.engine.scripting import Function, Library, link_library, unlink_library
from node.engine.session import Client
from node.proto import errors, resp
from node.proto.errors import CommandError

Argv = list[bytes]
_FCALL_FLAGS: Final = Flag.NOSCRIPT | Flag.STALE | Flag.SKIP_MONITOR | Flag.NO_MANDATORY_KEYS
_NOTES: Final = "We cannot tell how the keys will be used so we assume the worst, {}"
_ALL_SHARDS_OK: Final = ("request_policy:all_shards", "response_policy:all_succeeded")
_FLUSH_ARG: Final = (
    docs.oneof("async", docs.token("async", "ASYNC"), docs.token("sync", "SYNC"), optional=True),
)


def _args() -> tuple[docs.Arg, ...]:
    return (
        docs.string("function"),
        docs.integer("numkeys"),
        docs.key("key", 0, optional=True, multiple=True),
        docs.string("arg", optional=True, multiple=True),
    )


def _fcall(c: Client, argv: Argv, read_only: bool) -> bytes:
    c.engine.observer.feed_monitors(c, argv)  # SKIP_MONITOR: shown first, even if refused
    scripting = c.engine.scripting
    function = scripting.functions.get(argv[1].lower())
    if function is None:
        raise CommandError("ERR Function not found")
    numkeys = string2ll(argv[2])
    if numkeys is None:
        raise CommandError("ERR Bad number of keys provided")
    if numkeys > len(argv) - 3:
        raise CommandError("ERR Number of keys can't be greater than number of args")
    if numkeys < 0:
        raise CommandError("ERR Number of keys can't be negative")
    return scripting.fcall(c, argv, function, numkeys, read_only)


@NODE.command(
    "fcall",
    -3,
    _FCALL_FLAGS | Flag.MAY_REPLICATE,
    group="scripting",
    since="7.0.0",
    summary="Invoke a function",
    complexity="Depends on the function that is executed.",
    acl=Acl.SCRIPTING,
    keys=keys_spec(KeyFlag.RW | KeyFlag.ACCESS | KeyFlag.UPDATE, _NOTES.format("RW and UPDATE")),
    args=_args(),
)
def fcall(c: Client, argv: Argv) -> bytes:
    return _fcall(c, argv, False)


@NODE.command(
    "fcall_ro",
    -3,
    Flag.READONLY | _FCALL_FLAGS,
    group="scripting",
    since="7.0.0",
    summary="Invoke a read-only function",
    complexity="Depends on the function that is executed.",
    acl=Acl.SCRIPTING,
    keys=keys_spec(KeyFlag.RO | KeyFlag.ACCESS, _NOTES.format("RO and ACCESS")),
    args=_args(),
)
def fcall_ro(c: Client, argv: Argv) -> bytes:
    return _fcall(c, argv, True)


# --- FUNCTION ----------------------------------------------------------------------------
NODE.container(
    "function",
    group="scripting",
    since="7.0.0",
    summary="A container for function commands",
    complexity="Depends on subcommand.",
)

_FUNCTION_HELP: Final = (
    b"LOAD [REPLACE] <FUNCTION CODE>",
    b"    Create a new library with the given library name and code.",
    b"DELETE <LIBRARY NAME>",
    b"    Delete the given library.",
    b"LIST [LIBRARYNAME PATTERN] [WITHCODE]",
    b"    Return general information on all the libraries:",
    b"    * Library name",
    b"    * The engine used to run the Library",
    b"    * Library description",
    b"    * Functions list",
    b"    * Library code (if WITHCODE is given)",
    b"    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
    b"STATS",
    b"    Return information about the current function running:",
    b"    * Function name",
    b"    * Command used to run the function",
    b"    * Duration in MS that the function is running",
    b"    If no function is running, return nil",
    b"    In addition, returns a list of available engines.",
    b"KILL",
    b"    Kill the current running function.",
    b"FLUSH [ASYNC|SYNC]",
    b"    Delete all the libraries.",
    b"    When called without the optional mode argument, the behavior is determined by the",
    b"    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    b"    * ASYNC: Asynchronously flush the libraries.",
    b"    * SYNC: Synchronously flush the libraries.",
    b"DUMP",
    b"    Return a serialized payload representing the current libraries, can be restored "
    b"using FUNCTION RESTORE command",
    b"RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
    b"    Restore the libraries represented by the given payload, it is possible to give a "
    b"restore policy to",
    b"    control how to handle existing libraries (default APPEND):",
    b"    * FLUSH: delete all existing libraries.",
    b"    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
    b"    * REPLACE: appends the restored libraries to the existing libraries, On collision, "
    b"replace the old",
    b"      libraries with the new libraries (notice that even on this option there is a "
    b"chance of failure",
    b"      in case of functions name collision with another library).",
)


@NODE.command(
    "load",
    -3,
    Flag.WRITE | Flag.DENYOOM | Flag.NOSCRIPT,
    group="scripting",
    since="7.0.0",
    summary="Create a function with the given arguments (name, code, description)",
    complexity="O(1) (considering compilation time is redundant)",
    acl=Acl.SCRIPTING,
    tips=_ALL_SHARDS_OK,
    args=(docs.token("replace", "REPLACE", optional=True), docs.string("function-code")),
    container="function",
)
def function_load(c: Client, argv: Argv) -> bytes:
    replace = False
    for word in argv[2:-1]:  # options before the code, which is last
        if option(word) != b"REPLACE":
            raise CommandError(
                "ERR Unknown option given: "
                + word.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
            )
        replace = True
    library = c.engine.scripting.create_library(argv[-1], replace)
    c.engine.dirty += 1
    return resp.bulk(library.name)


@NODE.command(
    "delete",
    3,
    Flag.WRITE | Flag.NOSCRIPT,
    group="scripting",
    since="7.0.0",
    summary="Delete a function by name",
    complexity="O(1)",
    acl=Acl.SCRIPTING,
    tips=_ALL_SHARDS_OK,
    args=(docs.string("library-name"),),
    container="function",
)
def function_delete(c: Client, argv: Argv) -> bytes:
    scripting = c.engine.scripting
    library = scripting.libraries.get(argv[2])
    if library is None:
        raise CommandError("ERR Library not found")
    unlink_library(library, scripting.libraries, scripting.functions)
    c.engine.dirty += 1
    return resp.OK


@NODE.command(
    "flush",
    -2,
    Flag.WRITE | Flag.NOSCRIPT,
    group="scripting",
    since="7.0.0",
    summary="Deleting all functions",
    complexity="O(N) where N is the number of functions deleted",
    acl=Acl.SCRIPTING,
    tips=_ALL_SHARDS_OK,
    args=_FLUSH_ARG,
    container="function",
)
def function_flush(c: Client, argv: Argv) -> bytes:
    if len(argv) > 3:
        raise CommandError(
            errors.SUBCOMMAND_SYNTAX.format(argv[1].decode("utf-8", "surrogateescape"), "FUNCTION")
        )
    flush_mode(argv, "ERR FUNCTION FLUSH only supports SYNC|ASYNC option")
    c.engine.scripting.flush_functions()
    c.engine.dirty += 1
    return resp.OK


@NODE.command(
    "list",
    -2,
    Flag.NOSCRIPT,
    group="scripting",
    since="7.0.0",
    summary="List information about all the functions",
    complexity="O(N) where N is the number of functions",
    acl=Acl.SCRIPTING,
    tips=("nondeterministic_output_order",),
    args=(
        docs.string("library-name-pattern", token="LIBRARYNAME", optional=True),
        docs.token("withcode", "WITHCODE", optional=True),
    ),
    container="function",
)
def function_list(c: Client, argv: Argv) -> bytes:
    with_code = False
    pattern: bytes | None = None
    i = 2
    while i < len(argv):
        word = option(argv[i])
        if not with_code and word == b"WITHCODE":
            with_code = True
        elif pattern is None and word == b"LIBRARYNAME":
            if i >= len(argv) - 1:
                raise CommandError("ERR library name argument was not given")
            i += 1
            pattern = argv[i]
        else:
            raise CommandError(
                "ERR Unknown argument "
                + argv[i].split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
            )
        i += 1
    libraries = [
        lib
        for lib in c.engine.scripting.libraries.values()
        if pattern is None or match(pattern, lib.name, nocase=True)
    ]
    return resp.array_header(len(libraries)) + b"".join(
        _library_reply(library, with_code, c.resp) for library in libraries
    )


def _library_reply(library: Library, with_code: bool, protocol: int) -> bytes:
    out = [
        resp.map_header(4 if with_code else 3, protocol),
        resp.bulk(b"library_name"),
        resp.bulk(library.name),
        resp.bulk(b"engine"),
        resp.bulk(b"LUA"),
        resp.bulk(b"functions"),
        resp.array_header(len(library.functions)),
    ]
    out.extend(_function_reply(function, protocol) for function in library.functions.values())
    if with_code:
        out += [resp.bulk(b"library_code"), resp.bulk(library.code)]
    return b"".join(out)


def _function_reply(function: Function, protocol: int) -> bytes:
    flags = [name for name in SCRIPT_FLAGS if name in function.flags]
    return b"".join(
        [
            resp.map_header(3, protocol),
            resp.bulk(b"name"),
            resp.bulk(function.name),
            resp.bulk(b"description"),
            resp.bulk_or_null(function.description, protocol),
            resp.bulk(b"flags"),
            resp.set_header(len(flags), protocol),
            *(resp.status(flag) for flag in flags),
        ]
    )


@NODE.command(
    "dump",
    2,
    Flag.NOSCRIPT,
    group="scripting",
    since="7.0.0",
    summary="Dump all functions into a serialized binary payload",
    complexity="O(N) where N is the number of functions",
    acl=Acl.SCRIPTING,
    container="function",
)
def function_dump(c: Client, argv: Argv) -> bytes:
    from node.persistence import rdb

    codes = [lib.code for lib in c.engine.scripting.libraries.values()]
    return resp.bulk(rdb.dump_functions(codes, c.engine.config.bool("rdbcompression")))


@NODE.command(
    "restore",
    -3,
    Flag.WRITE | Flag.DENYOOM | Flag.NOSCRIPT,
    group="scripting",
    since="7.0.0",
    summary="Restore all the functions on the given payload",
    complexity="O(N) where N is the number of functions on the payload",
    acl=Acl.SCRIPTING,
    tips=_ALL_SHARDS_OK,
    args=(
        docs.string("serialized-value"),
        docs.oneof(
            "policy",
            docs.token("flush", "FLUSH"),
            docs.token("append", "APPEND"),
            docs.token("replace", "REPLACE"),
            optional=True,
        ),
    ),
    container="function",
)
def function_restore(c: Client, argv: Argv) -> bytes:
    from node.persistence import blobs, rdb

    if len(argv) > 4:
        raise CommandError(
            errors.SUBCOMMAND_SYNTAX.format(argv[1].decode("utf-8", "surrogateescape"), "FUNCTION")
        )
    policy = option(argv[3]) if len(argv) == 4 else b"APPEND"
    if policy not in (b"FLUSH", b"APPEND", b"REPLACE"):
        raise CommandError(
            "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE."
        )
    payload = argv[2]
    if not rdb.payload_ok(payload):
        raise CommandError("ERR DUMP payload version or checksum are wrong")
    try:
        codes = rdb.restore_functions(payload)
    except blobs.FormatError as exc:
        reason = str(exc)
        raise CommandError(
            "ERR "
            + (
                reason
                if reason == "given type is not a function"
                else "Failed loading library payload"
            )
        ) from None
    scripting = c.engine.scripting
    libraries: dict[bytes, Library] = {}
    functions: dict[bytes, Function] = {}
    for code in codes:
        scripting.create_library(code, False, libraries, functions)
    if policy == b"FLUSH":
        scripting.flush_functions()
    _join(scripting.libraries, scripting.functions, libraries, policy == b"REPLACE")
    c.engine.dirty += 1
    return resp.OK


def _join(
    libraries: dict[bytes, Library],
    functions: dict[bytes, Function],
    new: dict[bytes, Library],
    replace: bool,
) -> None:
    """libraryJoin: add the restored libraries; a name collision fails (APPEND) or replaces
    the old library (REPLACE); a function name collision fails either way, leaving the
    current libraries as they were."""
    replaced: list[Library] = []
    for library in new.values():
        old = libraries.get(library.name)
        if old is not None:
            if not replace:
                _restore(replaced, libraries, functions)
                raise CommandError(
                    "ERR Library "
                    + library.name.decode("utf-8", "surrogateescape")
                    + " already exists"
                )
            unlink_library(old, libraries, functions)
            replaced.append(old)
    for library in new.values():
        for key, function in library.functions.items():
            if key in functions:
                _restore(replaced, libraries, functions)
                raise CommandError(
                    "ERR Function "
                    + function.name.decode("utf-8", "surrogateescape")
                    + " already exists"
                )
    for library in new.values():
        link_library(library, libraries, functions)


def _restore(
    replaced: list[Library], libraries: dict[bytes, Library], functions: dict[bytes, Function]
) -> None:
    for library in replaced:
        link_library(library, libraries, functions)


@NODE.command(
    "stats",
    2,
    Flag.NOSCRIPT | Flag.ALLOW_BUSY,
    group="scripting",
    since="7.0.0",
    summary="Return information about the function currently running (name, description, duration)",
    complexity="O(1)",
    acl=Acl.SCRIPTING,
    tips=("nondeterministic_output", "request_policy:all_shards", "response_policy:special"),
    container="function",
)
def function_stats(c: Client, argv: Argv) -> bytes:
    scripting = c.engine.scripting
    out = [resp.map_header(2, c.resp), resp.bulk(b"running_script")]
    run = scripting.run
    if run is None:
        out.append(resp.null(c.resp))
    else:
        duration = c.engine.monotonic_ms() - run.start_ms
        out += [
            resp.map_header(3, c.resp),
            resp.bulk(b"name"),
            resp.bulk(run.name),
            resp.bulk(b"command"),
            resp.bulk_array(run.argv),
            resp.bulk(b"duration_ms"),
            resp.integer(duration),
        ]
    out += [
        resp.bulk(b"engines"),
        resp.map_header(1, c.resp),
        resp.bulk(b"LUA"),
        resp.map_header(2, c.resp),
        resp.bulk(b"libraries_count"),
        resp.integer(len(scripting.libraries)),
        resp.bulk(b"functions_count"),
        resp.integer(len(scripting.functions)),
    ]
    return b"".join(out)


@NODE.command(
    "kill",
    2,
    Flag.NOSCRIPT | Flag.ALLOW_BUSY,
    group="scripting",
    since="7.0.0",
    summary="Kill the function currently in execution.",
    complexity="O(1)",
    acl=Acl.SCRIPTING,
    tips=("request_policy:all_shards", "response_policy:one_succeeded"),
    container="function",
)
def function_kill(c: Client, argv: Argv) -> bytes:
    c.engine.scripting.kill(eval_mode=False)
    return resp.OK


@NODE.command(
    "help",
    2,
    Flag.LOADING | Flag.STALE,
    group="scripting",
    since="7.0.0",
    summary="Show helpful text about the different subcommands",
    complexity="O(1)",
    acl=Acl.SCRIPTING,
    container="function",
)
def function_help(c: Client, argv: Argv) -> bytes:
    return resp.help_reply(argv[0], _FUNCTION_HELP)
