"""The arguments and reply shared by SCAN, HSCAN, SSCAN and ZSCAN (Redis's
parseScanCursorOrReply and the option loop of scanGenericCommand).

Rules, as Redis 7.0 applies them:
- The cursor is read like C `strtoul(s, &end, 10)`: an empty cursor is 0, a sign is
  allowed ("-1" wraps to 2**64-1), leading zeros too; a leading space, trailing junk or a
  value above 2**64-1 is `ERR invalid cursor`. Redis reads the argument as a C string, so
  a NUL byte ends it.
- Options are read left to right, case-insensitively, each needing its value: COUNT must be
  an integer (`ERR value is not an integer or out of range`) and >= 1 (else `ERR syntax
  error`); MATCH `*` means "no filter" (so it even matches the empty key, which the glob
  `*` does not); TYPE is only known to SCAN itself; a repeated option replaces the earlier
  one; anything else is `ERR syntax error`.
- Callers parse the cursor first and the options only after the key lookup, because that is
  the order in which Redis reports errors (HSCAN on a missing key answers an empty scan
  whatever its options say).
Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from node.commands._args import option, string2ll
from node.engine.glob import compile_glob
from node.proto import errors, resp
from node.proto.errors import CommandError

# The reply for a scan over a missing key: cursor "0" and no elements.
EMPTY_SCAN: Final = b"*2\r\n$1\r\n0\r\n*0\r\n"
DEFAULT_COUNT: Final = 10
_U64: Final = 1 << 64


@dataclass(frozen=True, slots=True)
class ScanOptions:
    """What a scan call asked for: `match` is None when every element is wanted; `type` is
    the lower-cased TYPE filter (SCAN only) or None."""

    count: int = DEFAULT_COUNT
    match: Callable[[bytes], bool] | None = None
    type: bytes | None = None


def parse_cursor(raw: bytes) -> int:
    """The cursor argument as an unsigned 64-bit integer, or `ERR invalid cursor`."""
    text = raw.split(b"\0", 1)[0]
    if not text:
        return 0  # strtoul stops at once and the end pointer sits on the terminator
    negative = text[0] == 0x2D  # -
    digits = text[1:] if text[0] in b"+-" else text
    if not digits.isdigit() or len(digits.lstrip(b"0")) > 20:
        raise CommandError(errors.INVALID_CURSOR)
    value = int(digits)
    if value >= _U64:
        raise CommandError(errors.INVALID_CURSOR)
    return (_U64 - value) % _U64 if negative else value


def parse_options(argv: list[bytes], start: int, *, allow_type: bool = False) -> ScanOptions:
    """`[MATCH pattern] [COUNT count] [TYPE type]` from argv[start:]."""
    count = DEFAULT_COUNT
    match: Callable[[bytes], bool] | None = None
    type_: bytes | None = None
    i, argc = start, len(argv)
    while i < argc:
        has_value = i + 1 < argc
        word = option(argv[i])
        if word == b"COUNT" and has_value:
            count_ = string2ll(argv[i + 1])
            if count_ is None:
                raise CommandError(errors.NOT_INTEGER)
            if count_ < 1:
                raise CommandError(errors.SYNTAX)
            count = count_
        elif word == b"MATCH" and has_value:
            pattern = argv[i + 1]
            match = None if pattern == b"*" else compile_glob(pattern)
        elif word == b"TYPE" and allow_type and has_value:
            # Compared with strcasecmp against the type names, so it is a C string too.
            type_ = argv[i + 1].split(b"\0", 1)[0].lower()
        else:
            raise CommandError(errors.SYNTAX)
        i += 2
    return ScanOptions(count, match, type_)


def scan_reply(cursor: int, items: list[bytes]) -> bytes:
    """`[cursor as a bulk string, [items...]]`, the same in RESP2 and RESP3."""
    text = b"%d" % cursor
    return b"*2\r\n$%d\r\n%s\r\n" % (len(text), text) + resp.bulk_array(items)
