"""Argument parsing with Redis's exact rules, shared by the command families.

- Integers follow util.c's string2ll: only the canonical decimal text of an int64 is a
  number ("-0", "+1", " 1", "01", "1.0" are not), so every command rejects the same inputs
  Redis rejects.
- Option words are compared as C strings (strcasecmp): Redis stops reading an argument at
  its first NUL byte, so `NX\\0junk` is the option NX there, and here.
Pure: no I/O.
"""

from __future__ import annotations

import math
from typing import Final

from mypy_extensions import i64

from node.commands import _longdouble as longdouble
from node.proto import errors
from node.proto.errors import CommandError

LLONG_MIN: Final = -(2**63)
LLONG_MAX: Final = 2**63 - 1
# string2ll gives up on 21 bytes or more (LONG_STR_SIZE); it also spares int() huge inputs.
_LL_MAX_LEN: Final = 20


def string2ll(raw: bytes | bytearray) -> int | None:
    """The int64 spelled by `raw`, or None if Redis's string2ll would refuse it."""
    size: i64 = len(raw)
    if 0 < size < 19 and raw.__class__ is bytes:
        # Up to 18 bytes cannot overflow an int64: one pass over the digits. Written for
        # mypyc (`make native`), where this is machine arithmetic on the bytes (~10
        # instructions a digit against ~800 for isdigit() plus int()).
        i: i64 = 1 if raw[0] == 0x2D else 0  # '-'
        if i == size or (raw[i] == 0x30 and (i or size > 1)):  # "-", "-0", "01"
            return None
        value: i64 = 0
        while i < size:
            digit = raw[i] - 0x30
            if not 0 <= digit <= 9:
                return None
            value = value * 10 + digit
            i += 1
        return -value if raw[0] == 0x2D else value
    if not size or size > _LL_MAX_LEN:
        return None
    try:
        value_ = int(raw)
    except ValueError:
        return None
    # int() is laxer (spaces, '+', '_', leading zeros); only the canonical spelling counts.
    if b"%d" % value_ != raw or not LLONG_MIN <= value_ <= LLONG_MAX:
        return None
    return value_


def int_arg(raw: bytes | bytearray, message: str = errors.NOT_INTEGER) -> int:
    """Redis's getLongLongFromObjectOrReply: the int64 in `raw`, else `message` as an error."""
    value = string2ll(raw)
    if value is None:
        raise CommandError(message)
    return value


def option(raw: bytes) -> bytes:
    """An option word as Redis's strcasecmp sees it: upper-cased, cut at the first NUL."""
    return raw.split(b"\0", 1)[0].upper()


def timeout_to_deadline(raw: bytes, now_ms: int, *, seconds: bool = True) -> int:
    """Redis 7.0's getTimeoutFromObjectOrReply: a blocking timeout in seconds (strtold
    syntax, rounded up to whole ms) or in ms, as an absolute deadline; 0 waits forever.

    7.0 casts the product to long long without a range check, so infinities and values past
    LLONG_MAX ms become LLONG_MIN there and are reported as negative; tiny negative values
    round up to 0 (forever).
    """
    if seconds:
        value = longdouble.parse(raw)
        if value is None:
            raise CommandError("ERR timeout is not a float or out of range")
        scaled = value * 1000
        if isinstance(scaled, float) or not LLONG_MIN <= scaled <= LLONG_MAX:
            raise CommandError("ERR timeout is negative")
        ms = math.ceil(scaled)
    else:
        ms = int_arg(raw, "ERR timeout is not an integer or out of range")
    if ms < 0:
        raise CommandError("ERR timeout is negative")
    return now_ms + ms if ms else 0
