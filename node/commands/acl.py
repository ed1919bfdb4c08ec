"""The ACL container (Redis's aclCommand): SETUSER, GETUSER, DELUSER, USERS, LIST, WHOAMI,
CAT, GENPASS, LOG, DRYRUN, SAVE, LOAD, HELP.

Rules: the users, the rule language and the checks live in node/engine/acl.py; these
handlers parse arguments and shape replies (RESP2 and RESP3 as Redis 7.0.15 sends them).
ACL SAVE/LOAD reach the `aclfile` only through the callbacks the shell injects. Pure.
"""

from __future__ import annotations

from typing import Final

from node.commands import docs
from node.commands._args import int_arg, option
from node.commands.registry import Flag
from node.commands.table import NODE
from node.engine.acl import (
    CATEGORIES,
    GENPASS_MAX_BITS,
    NOT_CONFIGURED,
    SAVE_FAILED,
    AccessControl,
    Selector,
    c_text,
)
from node.engine.session import Client
from node.proto import errors, resp
from node.proto.errors import CommandError

Argv = list[bytes]

_ALWAYS: Final = Flag.NOSCRIPT | Flag.LOADING | Flag.STALE
_ADMIN: Final = Flag.ADMIN | _ALWAYS

NODE.container(
    "acl",
    group="server",
    since="6.0.0",
    summary="A container for Access List Control commands ",
    complexity="Depends on subcommand.",
)


def _syntax(argv: Argv) -> CommandError:
    """addReplySubcommandSyntaxError: the subcommand as typed."""
    return CommandError(errors.SUBCOMMAND_SYNTAX.format(c_text(argv[1]), "ACL"))


@NODE.command(
    "setuser",
    -3,
    _ADMIN,
    group="server",
    since="6.0.0",
    summary="Modify or create the rules for a specific ACL user",
    complexity="O(N). Where N is the number of rules provided.",
    history=(
        ("6.2.0", "Added Pub/Sub channel patterns."),
        ("7.0.0", "Added selectors and key based permissions."),
    ),
    args=(docs.string("username"), docs.string("rule", optional=True, multiple=True)),
    container="acl",
)
def acl_setuser(c: Client, argv: Argv) -> bytes:
    c.engine.acl.set_user(argv[2], argv[3:], c)
    return resp.OK


@NODE.command(
    "deluser",
    -3,
    _ADMIN,
    group="server",
    since="6.0.0",
    summary="Remove the specified ACL users and the associated rules",
    complexity="O(1) amortized time considering the typical user.",
    args=(docs.string("username", multiple=True),),
    container="acl",
)
def acl_deluser(c: Client, argv: Argv) -> bytes:
    return resp.integer(c.engine.acl.delete_users(argv[2:], c))


def _selector_fields(acl: AccessControl, sel: Selector) -> list[bytes]:
    """aclAddReplySelectorDescription: commands, keys, channels (three pairs)."""
    return [
        resp.bulk(b"commands"),
        resp.bulk(acl.describe_commands(sel)),
        resp.bulk(b"keys"),
        resp.bulk(acl.describe_keys(sel)),
        resp.bulk(b"channels"),
        resp.bulk(acl.describe_channels(sel)),
    ]


@NODE.command(
    "getuser",
    3,
    _ADMIN,
    group="server",
    since="6.0.0",
    summary="Get the rules for a specific ACL user",
    complexity="O(N). Where N is the number of password, command and pattern rules "
    "that the user has.",
    history=(
        ("6.2.0", "Added Pub/Sub channel patterns."),
        (
            "7.0.0",
            "Added selectors and changed the format of key and channel "
            "patterns from a list to their rule representation.",
        ),
    ),
    args=(docs.string("username"),),
    container="acl",
)
def acl_getuser(c: Client, argv: Argv) -> bytes:
    acl = c.engine.acl
    user = acl.users.get(argv[2])
    if user is None:
        return resp.null(c.resp)
    flags = acl.user_flags(user)
    out = [
        resp.map_header(6, c.resp),
        resp.bulk(b"flags"),
        resp.set_header(len(flags), c.resp),
        *(resp.bulk(f) for f in flags),
        resp.bulk(b"passwords"),
        resp.bulk_array(user.passwords),
        *_selector_fields(acl, user.selectors[0]),
        resp.bulk(b"selectors"),
        resp.array_header(len(user.selectors) - 1),
    ]
    for sel in user.selectors[1:]:
        out += [resp.map_header(3, c.resp), *_selector_fields(acl, sel)]
    return b"".join(out)


@NODE.command(
    "users",
    2,
    _ADMIN,
    group="server",
    since="6.0.0",
    summary="List the username of all the configured ACL rules",
    complexity="O(N). Where N is the number of configured users.",
    container="acl",
)
def acl_users(c: Client, argv: Argv) -> bytes:
    return resp.bulk_array(u.name for u in c.engine.acl.sorted_users())


@NODE.command(
    "list",
    2,
    _ADMIN,
    group="server",
    since="6.0.0",
    summary="List the current ACL rules in ACL config file format",
    complexity="O(N). Where N is the number of configured users.",
    container="acl",
)
def acl_list(c: Client, argv: Argv) -> bytes:
    return resp.bulk_array(c.engine.acl.config_lines())


@NODE.command(
    "whoami",
    2,
    _ALWAYS,
    group="server",
    since="6.0.0",
    summary="Return the name of the user associated to the current connection",
    complexity="O(1)",
    container="acl",
)
def acl_whoami(c: Client, argv: Argv) -> bytes:
    return resp.bulk(c.user.name)


@NODE.command(
    "load",
    2,
    _ADMIN,
    group="server",
    since="6.0.0",
    summary="Reload the ACLs from the configured ACL file",
    complexity="O(N). Where N is the number of configured users.",
    container="acl",
)
def acl_load(c: Client, argv: Argv) -> bytes:
    acl = c.engine.acl
    if not c.engine.config.str("aclfile"):
        raise CommandError(NOT_CONFIGURED)
    problems = acl.load_file(c)
    if problems is not None:
        raise CommandError("ERR " + problems)
    return resp.OK


@NODE.command(
    "save",
    2,
    _ADMIN,
    group="server",
    since="6.0.0",
    summary="Save the current ACL rules in the configured ACL file",
    complexity="O(N). Where N is the number of configured users.",
    container="acl",
)
def acl_save(c: Client, argv: Argv) -> bytes:
    if not c.engine.config.str("aclfile"):
        raise CommandError(NOT_CONFIGURED)
    if not c.engine.acl.save_file():
        raise CommandError(SAVE_FAILED)
    return resp.OK


@NODE.command(
    "cat",
    -2,
    _ALWAYS,
    group="server",
    since="6.0.0",
    summary="List the ACL categories or the commands inside a category",
    complexity="O(1) since the categories and commands are a fixed set.",
    args=(docs.string("categoryname", optional=True),),
    container="acl",
)
def acl_cat(c: Client, argv: Argv) -> bytes:
    if len(argv) == 2:
        return resp.bulk_array(name for name, _ in CATEGORIES)
    if len(argv) > 3:
        raise _syntax(argv)
    wanted = option(argv[2])
    category = next((cat for name, cat in CATEGORIES if option(name) == wanted), None)
    if category is None:
        raise CommandError(f"ERR Unknown category '{c_text(argv[2][:128])}'")
    return resp.bulk_array(
        spec.fullname.encode()
        for spec in c.engine.acl.index.ordered()
        if spec.acl_categories & category
    )


@NODE.command(
    "genpass",
    -2,
    _ALWAYS,
    group="server",
    since="6.0.0",
    summary="Generate a pseudorandom secure password to use for ACL users",
    complexity="O(1)",
    args=(docs.integer("bits", optional=True),),
    container="acl",
)
def acl_genpass(c: Client, argv: Argv) -> bytes:
    if len(argv) > 3:
        raise _syntax(argv)
    bits = int_arg(argv[2]) if len(argv) == 3 else 256
    if not 0 < bits <= GENPASS_MAX_BITS:
        raise CommandError(
            "ERR ACL GENPASS argument must be the number of bits for the "
            f"output password, a positive number up to {GENPASS_MAX_BITS}"
        )
    chars = (bits + 3) // 4  # hex digits, rounded up
    return resp.bulk(b"%0*x" % (chars, c.engine.rng.getrandbits(4 * chars)))


@NODE.command(
    "log",
    -2,
    _ADMIN,
    group="server",
    since="6.0.0",
    summary="List latest events denied because of ACLs in place",
    complexity="O(N) with N being the number of entries shown.",
    args=(
        docs.oneof("operation", docs.integer("count"), docs.token("reset", "RESET"), optional=True),
    ),
    container="acl",
)
def acl_log(c: Client, argv: Argv) -> bytes:
    acl = c.engine.acl
    if len(argv) > 3:
        raise _syntax(argv)
    count = 10
    if len(argv) == 3:
        if option(argv[2]) == b"RESET":
            acl.log.clear()
            return resp.OK
        count = int_arg(argv[2])
    return acl.log_reply(count, c.resp)


@NODE.command(
    "dryrun",
    -4,
    _ADMIN,
    group="server",
    since="7.0.0",
    summary="Returns whether the user can execute the given command without executing the command.",
    complexity="O(1).",
    args=(
        docs.string("username"),
        docs.string("command"),
        docs.string("arg", optional=True, multiple=True),
    ),
    container="acl",
)
def acl_dryrun(c: Client, argv: Argv) -> bytes:
    engine = c.engine
    user = engine.acl.users.get(argv[2])
    if user is None:
        raise CommandError(f"ERR User '{c_text(argv[2])}' not found")
    request = argv[3:]
    # lookupCommand: a container with one argument names itself, with more its subcommand.
    spec = engine.table.get(request[0])
    if spec is not None and spec.subcommands and len(request) > 1:
        spec = spec.subcommands.get(request[1].lower())
    if spec is None:
        raise CommandError(f"ERR Command '{c_text(request[0])}' not found")
    arity = spec.arity
    if (len(request) != arity) if arity > 0 else (len(request) < -arity):
        raise errors.wrong_arity(spec.fullname)
    verdict = engine.acl.dry_run(user, spec, request)
    return resp.OK if verdict is None else resp.bulk(verdict)


_HELP: Final = (
    b"CAT [<category>]",
    b"    List all commands that belong to <category>, or all command categories",
    b"    when no category is specified.",
    b"DELUSER <username> [<username> ...]",
    b"    Delete a list of users.",
    b"DRYRUN <username> <command> [<arg> ...]",
    b"    Returns whether the user can execute the given command without executing the command.",
    b"GETUSER <username>",
    b"    Get the user's details.",
    b"GENPASS [<bits>]",
    b"    Generate a secure 256-bit user password. The optional `bits` argument can",
    b"    be used to specify a different size.",
    b"LIST",
    b"    Show users details in config file format.",
    b"LOAD",
    b"    Reload users from the ACL file.",
    b"LOG [<count> | RESET]",
    b"    Show the ACL log entries.",
    b"SAVE",
    b"    Save the current config to the ACL file.",
    b"SETUSER <username> <attribute> [<attribute> ...]",
    b"    Create or modify a user with the specified attributes.",
    b"USERS",
    b"    List all the registered usernames.",
    b"WHOAMI",
    b"    Return the current connection username.",
)


@NODE.command(
    "help",
    2,
    Flag.LOADING | Flag.STALE,
    group="server",
    since="6.0.0",
    summary="Show helpful text about the different subcommands",
    complexity="O(1)",
    container="acl",
)
def acl_help(c: Client, argv: Argv) -> bytes:
    return resp.help_reply(argv[0], _HELP)
