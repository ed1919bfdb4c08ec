"""Connection commands (PING, ECHO, QUIT, SELECT, AUTH, HELLO, RESET, CLIENT ...). Pure."""

from __future__ import annotations

from node.commands.registry import Acl, Flag
from node.commands.table import NODE
from node.engine.session import Client
from node.proto import errors, resp
from node.proto.errors import CommandError

Argv = list[bytes]


@NODE.command("ping", -1, Flag.FAST | Flag.SENTINEL, group="connection", since="1.0.0",
              summary="Returns the server's liveliness response.", complexity="O(1)",
              acl=Acl.CONNECTION, tips=("request_policy:all_shards", "response_policy:all_succeeded"))
def ping(c: Client, argv: Argv) -> bytes:
    if len(argv) > 2:
        raise errors.wrong_arity("ping")
    if len(argv) == 2:
        return resp.bulk(argv[1])
    return resp.PONG


@NODE.command("echo", 2, Flag.FAST, group="connection", since="1.0.0",
              summary="Returns the given string.", complexity="O(1)", acl=Acl.CONNECTION)
def echo(c: Client, argv: Argv) -> bytes:
    return resp.bulk(argv[1])


@NODE.command("quit", -1, Flag.ALLOW_BUSY | Flag.NOSCRIPT | Flag.LOADING | Flag.STALE
              | Flag.FAST | Flag.NO_AUTH, group="connection", since="1.0.0",
              summary="Closes the connection.", complexity="O(1)", acl=Acl.CONNECTION,
              doc_flags=("deprecated",), deprecated_since="7.2.0",
              replaced_by="just closing the connection")
def quit_(c: Client, argv: Argv) -> bytes:
    c.close_after_reply = True
    return resp.OK


@NODE.command("select", 2, Flag.LOADING | Flag.STALE | Flag.FAST, group="connection",
              since="1.0.0", summary="Changes the selected database.", complexity="O(1)",
              acl=Acl.CONNECTION)
def select(c: Client, argv: Argv) -> bytes:
    try:
        index = int(argv[1])
    except ValueError:
        raise CommandError(errors.NOT_INTEGER) from None
    if not 0 <= index < len(c.engine.keyspace.dbs):
        raise CommandError(errors.DB_INDEX)
    c.db = c.engine.keyspace.dbs[index]
    return resp.OK
