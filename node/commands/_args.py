"""Argument parsing with Redis's exact rules, shared by the command families.

- Integers follow util.c's string2ll: only the canonical decimal text of an int64 is a
  number ("-0", "+1", " 1", "01", "1.0" are not), so every command rejects the same inputs
  Redis rejects.
- Option words are compared as C strings (strcasecmp): Redis stops reading an argument at
  its first NUL byte, so `NX\\0junk` is the option NX there, and here.
Pure: no I/O.
"""

from __future__ import annotations

from typing import Final

from node.proto import errors
from node.proto.errors import CommandError

LLONG_MIN: Final = -(2**63)
LLONG_MAX: Final = 2**63 - 1
# string2ll gives up on 21 bytes or more (LONG_STR_SIZE); it also spares int() huge inputs.
_LL_MAX_LEN: Final = 20


def string2ll(raw: bytes | bytearray) -> int | None:
    """The int64 spelled by `raw`, or None if Redis's string2ll would refuse it."""
    if not raw or len(raw) > _LL_MAX_LEN:
        return None
    try:
        value = int(raw)
    except ValueError:
        return None
    # int() is laxer (spaces, '+', '_', leading zeros); only the canonical spelling counts.
    if b"%d" % value != raw or not LLONG_MIN <= value <= LLONG_MAX:
        return None
    return value


def int_arg(raw: bytes | bytearray, message: str = errors.NOT_INTEGER) -> int:
    """Redis's getLongLongFromObjectOrReply: the int64 in `raw`, else `message` as an error."""
    value = string2ll(raw)
    if value is None:
        raise CommandError(message)
    return value


def option(raw: bytes) -> bytes:
    """An option word as Redis's strcasecmp sees it: upper-cased, cut at the first NUL."""
    return raw.split(b"\0", 1)[0].upper()
