"""COMMAND and its subcommands (COUNT, INFO, DOCS, LIST, GETKEYS, GETKEYSANDFLAGS, HELP): the
command table, rendered exactly as Redis 7.0.15 renders its own.

Rules:
- Everything here is generated from the table's `CommandSpec`s and their `docs.Arg` records;
  nothing knows about particular commands. A wrong reply is fixed in the command's
  declaration, never here.
- Shapes follow Redis's addReplyCommandInfo / addReplyCommandDocs: fields in Redis's order,
  optional ones left out when empty. Flags, ACL categories, tips, key specs, history and
  doc/argument flags are RESP3 sets; docs, key specs and argument records are maps. RESP2
  turns sets into arrays and maps into flat arrays.
- Listings follow the table's declaration order: Redis walks a hash table seeded at random
  per process, so its order carries no meaning (clients must not rely on it either).
- Argument records show no `display_text`: Redis 7.0 does not publish it.
Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from node.commands import docs
from node.commands._args import option
from node.commands.registry import (
    FLAG_NAMES,
    Acl,
    CommandSpec,
    CommandTable,
    Flag,
    KeyFlag,
    KeySpec,
    acl_name,
)
from node.commands.table import NODE
from node.engine.glob import match
from node.engine.session import Client
from node.proto import resp
from node.proto.errors import CommandError

Argv = list[bytes]
CommandFilter = Callable[[CommandSpec], bool]

KEY_FLAG_NAMES: Final[dict[KeyFlag, bytes]] = {
    flag: (flag.name or "").encode() if flag <= KeyFlag.RM else (flag.name or "").lower().encode()
    for flag in KeyFlag
}
_ARG_FLAGS: Final = (
    ("optional", b"optional"),
    ("multiple", b"multiple"),
    ("multiple_token", b"multiple_token"),
)
_DOC_FLAGS: Final = ("deprecated", "syscmd")

INVALID_COMMAND: Final = "ERR Invalid command specified"
NO_KEY_ARGS: Final = "ERR The command has no key arguments"
INVALID_ARG_COUNT: Final = "ERR Invalid number of arguments specified for command"
INVALID_ARGS: Final = "ERR Invalid arguments specified for command"

_HELP: Final = (
    b"(no subcommand)",
    b"    Return details about all Redis commands.",
    b"COUNT",
    b"    Return the total number of commands in this Redis server.",
    b"LIST",
    b"    Return a list of all commands in this Redis server.",
    b"INFO [<command-name> ...]",
    b"    Return details about multiple Redis commands.",
    b"    If no command names are given, documentation details for all",
    b"    commands are returned.",
    b"DOCS [<command-name> ...]",
    b"    Return documentation details about multiple Redis commands.",
    b"    If no command names are given, documentation details for all",
    b"    commands are returned.",
    b"GETKEYS <full-command>",
    b"    Return the keys from a full Redis command.",
    b"GETKEYSANDFLAGS <full-command>",
    b"    Return the keys and the access flags from a full Redis command.",
)


# --- rendering ---------------------------------------------------------------------------
def _text(value: str) -> bytes:
    return resp.bulk(value.encode())


def _status_set(names: list[bytes], proto: int) -> bytes:
    return resp.set_header(len(names), proto) + b"".join(b"+%s\r\n" % n for n in names)


def _map(fields: list[tuple[bytes, bytes]], proto: int) -> bytes:
    """A map from already-encoded values; `fields` keeps Redis's order."""
    body = b"".join(resp.bulk(name) + value for name, value in fields)
    return resp.map_header(len(fields), proto) + body


def key_flag_names(flags: KeyFlag) -> list[bytes]:
    return [name for flag, name in KEY_FLAG_NAMES.items() if flags & flag]


def _key_spec(spec: KeySpec, proto: int) -> bytes:
    if spec.begin == "index":
        begin = _map([(b"index", resp.integer(spec.index))], proto)
    elif spec.begin == "keyword":
        begin = _map(
            [(b"keyword", resp.bulk(spec.keyword)), (b"startfrom", resp.integer(spec.startfrom))],
            proto,
        )
    else:
        begin = _map([], proto)
    if spec.find == "range":
        find = _map(
            [
                (b"lastkey", resp.integer(spec.lastkey)),
                (b"keystep", resp.integer(spec.keystep)),
                (b"limit", resp.integer(spec.limit)),
            ],
            proto,
        )
    elif spec.find == "keynum":
        find = _map(
            [
                (b"keynumidx", resp.integer(spec.keynumidx)),
                (b"firstkey", resp.integer(spec.firstkey)),
                (b"keystep", resp.integer(spec.keystep)),
            ],
            proto,
        )
    else:
        find = _map([], proto)
    fields = [(b"notes", _text(spec.notes))] if spec.notes else []
    fields += [
        (b"flags", _status_set(key_flag_names(spec.flags), proto)),
        (b"begin_search", _map([(b"type", _text(spec.begin)), (b"spec", begin)], proto)),
        (b"find_keys", _map([(b"type", _text(spec.find)), (b"spec", find)], proto)),
    ]
    return _map(fields, proto)


def command_info(spec: CommandSpec, proto: int) -> bytes:
    """One COMMAND INFO entry: the 10-element array of Redis 7.0."""
    first, last, step = spec.legacy_range
    flags = [name for flag, name in FLAG_NAMES.items() if spec.flags & flag]
    cats = [acl_name(cat) for cat in Acl if spec.acl_categories & cat]
    parts = [
        b"*10\r\n",
        _text(spec.fullname),
        resp.integer(spec.arity),
        _status_set(flags, proto),
        resp.integer(first),
        resp.integer(last),
        resp.integer(step),
        _status_set(cats, proto),
        resp.set_header(len(spec.tips), proto),
        *(_text(tip) for tip in spec.tips),
        resp.set_header(len(spec.keys), proto),
        *(_key_spec(key, proto) for key in spec.keys),
    ]
    if spec.subcommands:
        parts.append(resp.array_header(len(spec.subcommands)))
        parts.extend(command_info(sub, proto) for sub in spec.subcommands.values())
    else:
        parts.append(resp.set_header(0, proto))
    return b"".join(parts)


def _arguments(args: tuple[docs.Arg, ...], proto: int) -> bytes:
    return resp.array_header(len(args)) + b"".join(_argument(a, proto) for a in args)


def _argument(arg: docs.Arg, proto: int) -> bytes:
    fields = [(b"name", _text(arg.name)), (b"type", _text(arg.type))]
    if arg.key_spec_index != -1:
        fields.append((b"key_spec_index", resp.integer(arg.key_spec_index)))
    if arg.token or arg.type == "pure-token":  # a pure token may be "" (MIGRATE's)
        fields.append((b"token", _text(arg.token)))
    if arg.summary:
        fields.append((b"summary", _text(arg.summary)))
    if arg.since:
        fields.append((b"since", _text(arg.since)))
    if arg.deprecated_since:
        fields.append((b"deprecated_since", _text(arg.deprecated_since)))
    flags = [name for attr, name in _ARG_FLAGS if getattr(arg, attr)]
    if flags:
        fields.append((b"flags", _status_set(flags, proto)))
    if arg.type in ("oneof", "block"):
        fields.append((b"arguments", _arguments(arg.children, proto)))
    return _map(fields, proto)


def command_docs(spec: CommandSpec, proto: int) -> bytes:
    """One COMMAND DOCS value (the map that follows the command's name)."""
    fields = [
        (b"summary", _text(spec.summary)),
        (b"since", _text(spec.since)),
        (b"group", _text(spec.group)),
    ]
    if spec.complexity:
        fields.append((b"complexity", _text(spec.complexity)))
    if spec.doc_flags:
        names = [f.encode() for f in _DOC_FLAGS if f in spec.doc_flags]
        fields.append((b"doc_flags", _status_set(names, proto)))
    if spec.deprecated_since:
        fields.append((b"deprecated_since", _text(spec.deprecated_since)))
    if spec.replaced_by:
        fields.append((b"replaced_by", _text(spec.replaced_by)))
    if spec.history:
        entries = b"".join(
            b"*2\r\n" + _text(version) + _text(change) for version, change in spec.history
        )
        fields.append((b"history", resp.set_header(len(spec.history), proto) + entries))
    if spec.args:
        fields.append((b"arguments", _arguments(spec.args, proto)))
    if spec.subcommands:
        fields.append((b"subcommands", _docs_map(list(spec.subcommands.values()), proto)))
    return _map(fields, proto)


def _docs_map(specs: list[CommandSpec], proto: int) -> bytes:
    body = b"".join(_text(s.fullname) + command_docs(s, proto) for s in specs)
    return resp.map_header(len(specs), proto) + body


# --- lookups -----------------------------------------------------------------------------
def by_fullname(table: CommandTable, name: bytes) -> CommandSpec | None:
    """Redis's lookupCommandBySds: "get", or "container|sub" (one level only)."""
    parts = name.split(b"|")
    if len(parts) > 2:
        return None
    base = table.get(parts[0])
    if len(parts) == 1 or base is None:
        return base
    return base.subcommands.get(parts[1].lower())


def by_argv(table: CommandTable, argv: Argv) -> CommandSpec | None:
    """Redis's lookupCommand: a container's subcommand when there is an argument for it."""
    base = table.get(argv[0])
    if base is None or len(argv) == 1 or not base.subcommands:
        return base
    return base.subcommands.get(argv[1].lower())


# --- the commands ------------------------------------------------------------------------
@NODE.command(
    "command",
    -1,
    Flag.LOADING | Flag.STALE | Flag.SENTINEL,
    group="server",
    since="2.8.13",
    summary="Get array of Redis command details",
    complexity="O(N) where N is the total number of Redis commands",
    acl=Acl.CONNECTION,
    tips=("nondeterministic_output_order",),
)
def command(c: Client, argv: Argv) -> bytes:
    return _all_info(c)


def _all_info(c: Client) -> bytes:
    table = c.engine.table
    return resp.array_header(len(table)) + b"".join(command_info(s, c.resp) for s in table)


@NODE.command(
    "count",
    2,
    Flag.LOADING | Flag.STALE | Flag.SENTINEL,
    group="server",
    since="2.8.13",
    summary="Get total number of Redis commands",
    complexity="O(1)",
    acl=Acl.CONNECTION,
    container="command",
)
def command_count(c: Client, argv: Argv) -> bytes:
    return resp.integer(len(c.engine.table))


@NODE.command(
    "info",
    -2,
    Flag.LOADING | Flag.STALE | Flag.SENTINEL,
    group="server",
    since="2.8.13",
    summary="Get array of specific Redis command details, or all when no argument is given.",
    complexity="O(N) where N is the number of commands to look up",
    acl=Acl.CONNECTION,
    tips=("nondeterministic_output_order",),
    history=(("7.0.0", "Allowed to be called with no argument to get info on all commands."),),
    args=(docs.string("command-name", optional=True, multiple=True),),
    container="command",
)
def command_info_(c: Client, argv: Argv) -> bytes:
    if len(argv) == 2:
        return _all_info(c)
    table = c.engine.table
    parts = [resp.array_header(len(argv) - 2)]
    for name in argv[2:]:
        spec = by_fullname(table, name)
        parts.append(resp.null(c.resp) if spec is None else command_info(spec, c.resp))
    return b"".join(parts)


@NODE.command(
    "docs",
    -2,
    Flag.LOADING | Flag.STALE | Flag.SENTINEL,
    group="server",
    since="7.0.0",
    summary="Get array of specific Redis command documentation",
    complexity="O(N) where N is the number of commands to look up",
    acl=Acl.CONNECTION,
    tips=("nondeterministic_output_order",),
    args=(docs.string("command-name", optional=True, multiple=True),),
    container="command",
)
def command_docs_(c: Client, argv: Argv) -> bytes:
    table = c.engine.table
    if len(argv) == 2:
        return _docs_map(list(table), c.resp)
    # Unknown names are left out, so the map may be shorter than the request.
    found = [spec for spec in (by_fullname(table, name) for name in argv[2:]) if spec]
    return _docs_map(found, c.resp)


@NODE.command(
    "list",
    -2,
    Flag.LOADING | Flag.STALE | Flag.SENTINEL,
    group="server",
    since="7.0.0",
    summary="Get an array of Redis command names",
    complexity="O(N) where N is the total number of Redis commands",
    acl=Acl.CONNECTION,
    tips=("nondeterministic_output_order",),
    args=(
        docs.oneof(
            "filterby",
            docs.string("module-name", token="MODULE"),
            docs.string("category", token="ACLCAT"),
            docs.pattern("pattern", token="PATTERN"),
            token="FILTERBY",
            optional=True,
        ),
    ),
    container="command",
)
def command_list(c: Client, argv: Argv) -> bytes:
    # Redis reads any number of FILTERBY clauses but only one can fit: each must be the last.
    keep: CommandFilter | None = None
    i = 2
    while i < len(argv):
        if option(argv[i]) != b"FILTERBY" or len(argv) - 1 - i != 2:
            raise CommandError("ERR syntax error")
        kind, arg = option(argv[i + 1]), argv[i + 2]
        if kind == b"MODULE":
            keep = _no_command  # slotd loads no modules
        elif kind == b"ACLCAT":
            keep = _in_category(arg)
        elif kind == b"PATTERN":
            keep = _named_like(arg)
        else:
            raise CommandError("ERR syntax error")
        i += 3
    names = [
        spec.fullname.encode()
        for top in c.engine.table
        for spec in (top, *top.subcommands.values())
        if keep is None or keep(spec)
    ]
    return resp.bulk_array(names)


def _no_command(spec: CommandSpec) -> bool:
    return False


def _in_category(name: bytes) -> CommandFilter:
    # ACLGetCommandCategoryFlagByName: the bare name (no "@"), any case; unknown: nothing.
    cat = Acl.__members__.get(option(name).decode("latin-1"))
    if cat is None:
        return _no_command
    return lambda spec: bool(spec.acl_categories & cat)


def _named_like(pattern: bytes) -> CommandFilter:
    return lambda spec: match(pattern, spec.fullname.encode(), nocase=True)


@NODE.command(
    "getkeys",
    -4,
    Flag.LOADING | Flag.STALE | Flag.SENTINEL,
    group="server",
    since="2.8.13",
    summary="Extract keys given a full Redis command",
    complexity="O(N) where N is the number of arguments to the command",
    acl=Acl.CONNECTION,
    container="command",
)
def command_getkeys(c: Client, argv: Argv) -> bytes:
    return _getkeys(c, argv, with_flags=False)


@NODE.command(
    "getkeysandflags",
    -4,
    Flag.LOADING | Flag.STALE | Flag.SENTINEL,
    group="server",
    since="7.0.0",
    summary="Extract keys and access flags given a full Redis command",
    complexity="O(N) where N is the number of arguments to the command",
    acl=Acl.CONNECTION,
    container="command",
)
def command_getkeysandflags(c: Client, argv: Argv) -> bytes:
    return _getkeys(c, argv, with_flags=True)


def _getkeys(c: Client, argv: Argv, *, with_flags: bool) -> bytes:
    """Redis's getKeysSubcommandImpl: the keys of the command in argv[2:]."""
    request = argv[2:]
    spec = by_argv(c.engine.table, request)
    if spec is None:
        raise CommandError(INVALID_COMMAND)
    if not spec.has_keys:
        raise CommandError(NO_KEY_ARGS)
    arity, argc = spec.arity, len(request)
    if (arity > 0 and arity != argc) or argc < -arity:
        raise CommandError(INVALID_ARG_COUNT)
    found = spec.keys_and_flags(request)
    if not found:
        if spec.flags & Flag.NO_MANDATORY_KEYS:
            return resp.EMPTY_ARRAY
        raise CommandError(INVALID_ARGS)
    if not with_flags:
        return resp.bulk_array(request[pos] for pos, _ in found)
    return resp.array_header(len(found)) + b"".join(
        b"*2\r\n" + resp.bulk(request[pos]) + _status_set(key_flag_names(flags), c.resp)
        for pos, flags in found
    )


@NODE.command(
    "help",
    2,
    Flag.LOADING | Flag.STALE | Flag.SENTINEL,
    group="server",
    since="5.0.0",
    summary="Show helpful text about the different subcommands",
    complexity="O(1)",
    acl=Acl.CONNECTION,
    container="command",
)
def command_help(c: Client, argv: Argv) -> bytes:
    return resp.help_reply(argv[0], _HELP)
