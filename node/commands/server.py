"""Server commands (Redis's server.c and config.c): CONFIG GET/SET/RESETSTAT/HELP, INFO,
TIME, LASTSAVE, SHUTDOWN.

Rules:
- CONFIG reads and writes only `node/config.py` (its PARAMS table and `Config.apply`);
  CONFIG REWRITE's text comes from `node/config_rewrite.py`, the file I/O from the storage
  port (`engine.persistence.storage`);
  CONFIG SET of several parameters is atomic: every name is checked and every value parsed
  before any is applied, and errors name the parameter the way Redis 7.0 does (as typed for
  unknown/immutable/duplicate, the table's spelling for a bad value).
- CONFIG GET lists exact names in the order given and glob matches in table order (Redis
  uses its hash table's order, which no client can rely on); a name appears once.
- INFO's text is built by `_info.py`. SHUTDOWN goes through `engine.shutdown`
  (node/engine/shutdown.py): it may wait for lagging replicas (the caller blocked until
  ABORT or the end); its request (`shutdown_requested`) stops the server after the batch.
Pure.
"""

from __future__ import annotations

from typing import Final

from node import config_rewrite
from node.commands import _info, docs
from node.commands._args import option
from node.commands.registry import Acl, Flag
from node.commands.table import NODE
from node.config import (
    PARAMS,
    ConfigApplyError,
    ConfigError,
    ConfigValue,
    Param,
    format_value,
    lookup_param,
)
from node.engine import glob
from node.engine.blocking import Block
from node.engine.engine import Engine, Stats
from node.engine.session import Client
from node.proto import errors, resp
from node.proto.errors import CommandError

Argv = list[bytes]

_ADMIN: Final = Flag.ADMIN | Flag.NOSCRIPT | Flag.LOADING | Flag.STALE
_GLOB_CHARS: Final = frozenset(b"[*?")


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


# --- CONFIG -----------------------------------------------------------------------------
NODE.container(
    "config",
    group="server",
    since="2.0.0",
    summary="A container for server configuration commands",
    complexity="Depends on subcommand.",
)


@NODE.command(
    "get",
    -3,
    _ADMIN,
    group="server",
    since="2.0.0",
    summary="Get the values of configuration parameters",
    complexity="O(N) when N is the number of configuration parameters provided",
    history=(("7.0.0", "Added the ability to pass multiple pattern parameters in one call"),),
    args=(docs.block("parameter", docs.string("parameter"), multiple=True),),
    container="config",
)
def config_get(c: Client, argv: Argv) -> bytes:
    found: dict[str, tuple[str, Param]] = {}  # lower-case name -> (name as reported, param)
    for raw in argv[2:]:
        if _GLOB_CHARS.isdisjoint(raw):
            name = _text(raw)
            param = lookup_param(name)
            if param is not None and name.lower() not in found:
                found[name.lower()] = (name, param)
            continue
        for param in PARAMS:
            for name in (param.name, *param.aliases):
                if name not in found and glob.match(raw, name.encode(), nocase=True):
                    found[name] = (name, param)
    values = c.engine.config.values
    out = [resp.map_header(len(found), c.resp)]
    for name, param in found.values():
        out.append(resp.bulk(name.encode("utf-8", "surrogateescape")))
        out.append(
            resp.bulk(format_value(param, values[param.name]).encode("utf-8", "surrogateescape"))
        )
    return b"".join(out)


def _protected_allowed(c: Client) -> bool:
    """allowProtectedAction for `enable-protected-configs`."""
    mode = c.engine.config.str("enable-protected-configs")
    return mode == "yes" or (mode == "local" and c.is_local)


def _checked_pairs(c: Client, argv: Argv) -> list[tuple[str, str]]:
    """CONFIG SET's first pass, in Redis's order: unknown names, then immutable/protected
    ones, then repeats. Returns (name, value) pairs with lower-case names."""
    unknown: bytes | None = None
    failure: tuple[str, str] | None = None
    pairs: list[tuple[str, str]] = []
    for i in range(2, len(argv), 2):
        name = _text(argv[i])
        param = lookup_param(name)
        if param is None:
            if unknown is None and failure is None:
                unknown = argv[i]
            continue
        if unknown is not None or failure is not None:
            continue
        if not param.mutable:
            failure = (name, "can't set immutable config")
        elif param.protected and not _protected_allowed(c):
            failure = (name, "can't set protected config")
        elif any(seen == name.lower() for seen, _ in pairs):
            # Redis compares table entries, and an alias is an entry of its own.
            failure = (name, "duplicate parameter")
        else:
            pairs.append((name.lower(), _text(argv[i + 1])))
    if unknown is not None:
        raise CommandError(
            errors.CONFIG_SET_UNKNOWN.format(unknown.split(b"\0", 1)[0].decode("utf-8", "replace"))
        )
    if failure is not None:
        raise CommandError(errors.CONFIG_SET_FAILED.format(*failure))
    return pairs


@NODE.command(
    "set",
    -4,
    _ADMIN,
    group="server",
    since="2.0.0",
    summary="Set configuration parameters to the given values",
    complexity="O(N) when N is the number of configuration parameters provided",
    tips=("request_policy:all_nodes", "response_policy:all_succeeded"),
    history=(("7.0.0", "Added the ability to set multiple parameters in one call."),),
    args=(
        docs.block(
            "parameter_value", docs.string("parameter"), docs.string("value"), multiple=True
        ),
    ),
    container="config",
)
def config_set(c: Client, argv: Argv) -> bytes:
    if len(argv) % 2:
        raise CommandError(errors.SYNTAX)
    pairs = _checked_pairs(c, argv)
    for name, value in pairs:
        param = lookup_param(name)
        assert param is not None
        try:
            param.parse([value])
        except ConfigError as exc:
            raise CommandError(errors.CONFIG_SET_FAILED.format(name, exc)) from None
    config = c.engine.config
    before: dict[str, ConfigValue] = {}
    for name, value in pairs:
        param = lookup_param(name)
        assert param is not None
        before[param.name] = config.values[param.name]
        config.apply(name, [value], startup=False)
    if config.appliers:
        _apply_all(c.engine, before)
    return resp.OK


def _apply_all(engine: Engine, before: dict[str, ConfigValue]) -> None:
    """Run the config's appliers (Redis's apply functions); when one fails, put every old
    value back and run them again for the restored values, as Redis does."""
    config = engine.config
    try:
        for applier in config.appliers:
            applier(before)
    except ConfigApplyError as exc:
        engine.log(
            "warning",
            f"Failed applying new configuration. Possibly related to new "
            f"{exc.name} setting. Restoring previous settings.",
        )
        failed = {name: config.values[name] for name in before}
        for name, value in before.items():
            config.values[name] = value
            for listener in config.listeners:
                listener(name)
        try:
            for applier in config.appliers:
                applier(failed)
        except ConfigApplyError:
            pass
        raise CommandError(errors.CONFIG_SET_FAILED.format(exc.name, exc)) from None


@NODE.command(
    "resetstat",
    2,
    _ADMIN,
    group="server",
    since="2.0.0",
    summary="Reset the stats returned by INFO",
    complexity="O(1)",
    container="config",
)
def config_resetstat(c: Client, argv: Argv) -> bytes:
    engine = c.engine
    engine.stats = Stats()
    engine.keyspace.expired_keys = 0
    engine.observer.reset_stats()
    engine.memory.reset_stats()
    return resp.OK


def rewrite_config_file(engine: Engine, *, force_all: bool = False) -> None:
    """Rewrite the config file the server started from (config_rewrite.py's rules), through
    the storage port: a temporary file, fsynced, renamed over the old one. Raises OSError."""
    path = engine.config.source_file
    storage = engine.persistence.storage
    old = storage.read_file(path)
    text = config_rewrite.rewrite(
        (old or b"").decode("utf-8", "surrogateescape"),
        engine.config,
        [("user", engine.acl.rewrite_lines())],
        force_all=force_all,
    )
    data = text.encode("utf-8", "surrogateescape")
    storage.write_file(path, lambda sink: sink(data))


@NODE.command(
    "rewrite",
    2,
    _ADMIN,
    group="server",
    since="2.8.0",
    summary="Rewrite the configuration file with the in memory configuration",
    complexity="O(1)",
    container="config",
)
def config_rewrite_(c: Client, argv: Argv) -> bytes:
    engine = c.engine
    if not engine.config.source_file:
        raise CommandError("ERR The server is running without a config file")
    try:
        rewrite_config_file(engine)
    except OSError as exc:
        engine.log("warning", f"CONFIG REWRITE failed: {exc.strerror}")
        raise CommandError(f"ERR Rewriting config file: {exc.strerror}") from None
    engine.log("notice", "CONFIG REWRITE executed with success.")
    return resp.OK


_CONFIG_HELP: Final = (
    b"GET <pattern>",
    b"    Return parameters matching the glob-like <pattern> and their values.",
    b"SET <directive> <value>",
    b"    Set the configuration <directive> to <value>.",
    b"RESETSTAT",
    b"    Reset statistics reported by the INFO command.",
    b"REWRITE",
    b"    Rewrite the configuration file.",
)


@NODE.command(
    "help",
    2,
    Flag.LOADING | Flag.STALE,
    group="server",
    since="5.0.0",
    summary="Show helpful text about the different subcommands",
    complexity="O(1)",
    container="config",
)
def config_help(c: Client, argv: Argv) -> bytes:
    return resp.help_reply(argv[0], _CONFIG_HELP)


# --- INFO TIME LASTSAVE SHUTDOWN --------------------------------------------------------
@NODE.command(
    "info",
    -1,
    Flag.LOADING | Flag.STALE,
    group="server",
    since="1.0.0",
    summary="Get information and statistics about the server",
    complexity="O(1)",
    acl=Acl.DANGEROUS,
    tips=("nondeterministic_output", "request_policy:all_shards", "response_policy:special"),
    history=(("7.0.0", "Added support for taking multiple section arguments."),),
    args=(docs.string("section", optional=True, multiple=True),),
)
def info(c: Client, argv: Argv) -> bytes:
    text = _info.render(c.engine, _info.sections_for(argv[1:]))
    return resp.verbatim(text, c.resp)


@NODE.command(
    "time",
    1,
    Flag.LOADING | Flag.STALE | Flag.FAST,
    group="server",
    since="2.6.0",
    summary="Return the current server time",
    complexity="O(1)",
    tips=("nondeterministic_output",),
)
def time_(c: Client, argv: Argv) -> bytes:
    # The engine's clock has millisecond resolution; the microseconds are its multiple.
    now = c.engine.now_ms
    return resp.bulk_array((b"%d" % (now // 1000), b"%d" % (now % 1000 * 1000)))


@NODE.command(
    "lastsave",
    1,
    Flag.LOADING | Flag.STALE | Flag.FAST,
    group="server",
    since="1.0.0",
    summary="Get the UNIX time stamp of the last successful save to disk",
    complexity="O(1)",
    acl=Acl.ADMIN | Acl.DANGEROUS,
    tips=("nondeterministic_output",),
)
def lastsave(c: Client, argv: Argv) -> bytes:
    return resp.integer(_info.last_save_s(c.engine))


@NODE.command(
    "shutdown",
    -1,
    _ADMIN | Flag.NO_MULTI | Flag.ALLOW_BUSY,
    group="server",
    since="1.0.0",
    summary="Synchronously save the dataset to disk and then shut down the server",
    complexity="O(N) when saving, where N is the total number of keys in all "
    "databases when saving data, otherwise O(1)",
    history=(("7.0.0", "Added the `NOW`, `FORCE` and `ABORT` modifiers."),),
    args=(
        docs.oneof(
            "nosave_save", docs.token("nosave", "NOSAVE"), docs.token("save", "SAVE"), optional=True
        ),
        docs.token("now", "NOW", since="7.0.0", optional=True),
        docs.token("force", "FORCE", since="7.0.0", optional=True),
        docs.token("abort", "ABORT", since="7.0.0", optional=True),
    ),
)
def shutdown(c: Client, argv: Argv) -> bytes | Block:
    words: set[bytes] = set()
    for raw in argv[1:]:
        word = option(raw)
        if word not in (b"NOSAVE", b"SAVE", b"NOW", b"FORCE", b"ABORT"):
            raise CommandError(errors.SYNTAX)
        words.add(word)
    if {b"NOSAVE", b"SAVE"} <= words or (b"ABORT" in words and len(words) > 1):
        raise CommandError(errors.SYNTAX)
    engine = c.engine
    if b"ABORT" in words:
        if not engine.shutdown.abort():
            raise CommandError(errors.NO_SHUTDOWN)
        return resp.OK
    if engine.scripting.running and b"NOSAVE" not in words:
        # Past busy-reply-threshold only SHUTDOWN NOSAVE may end the server under a script.
        raise CommandError(engine.scripting.busy_error())
    return engine.shutdown.request(frozenset(w.decode().lower() for w in words), c)


# SHUTDOWN may block (waiting for replicas) without Redis's BLOCKING flag.
NODE.commands["shutdown"].fast = False
