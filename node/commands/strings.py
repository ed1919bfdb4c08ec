"""String commands (Redis's t_string.c): GET, SET and family.

Strings are stored as `bytes` (Redis's int/embstr encodings) or `bytearray` (raw, after an
in-place change such as APPEND/SETRANGE). Pure.
"""

from __future__ import annotations

from node.commands import docs
from node.commands.registry import Acl, Flag, KeyFlag, key_at
from node.commands.table import NODE
from node.engine.session import Client
from node.proto import errors, resp
from node.proto.errors import CommandError

Argv = list[bytes]
_STRING_TYPES = (bytes, bytearray)


def get_string(c: Client, key: bytes) -> bytes | bytearray | None:
    """The string at `key` (None if missing); WRONGTYPE for other types."""
    value = c.db.lookup(key)
    if value is None or value.__class__ is bytes or value.__class__ is bytearray:
        return value  # type: ignore[return-value]
    raise CommandError(errors.WRONGTYPE)


@NODE.command("get", 2, Flag.READONLY | Flag.FAST, group="string", since="1.0.0",
              summary="Returns the string value of a key.", complexity="O(1)",
              acl=Acl.STRING, keys=[key_at(1, KeyFlag.RO | KeyFlag.ACCESS)],
              args=(docs.key("key"),))
def get(c: Client, argv: Argv) -> bytes:
    value = get_string(c, argv[1])
    if value is None:
        return resp.NULL3 if c.resp == 3 else resp.NULL_BULK
    return b"$%d\r\n%s\r\n" % (len(value), value)


@NODE.command("set", -3, Flag.WRITE | Flag.DENYOOM, group="string", since="1.0.0",
              summary="Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.",
              complexity="O(1)", acl=Acl.STRING,
              keys=[key_at(1, KeyFlag.RW | KeyFlag.ACCESS | KeyFlag.UPDATE | KeyFlag.VARIABLE_FLAGS,
                           notes="RW and ACCESS due to the optional `GET` argument")])
def set_(c: Client, argv: Argv) -> bytes:
    if len(argv) == 3:
        c.db.set_value(argv[1], argv[2])
        c.engine.dirty += 1
        return resp.OK
    raise CommandError(errors.SYNTAX)
