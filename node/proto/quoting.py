"""Redis's `sdscatrepr`: how MONITOR lines and CONFIG REWRITE print a string (its inverse,
sdssplitargs, is `node.proto.resp.split_args`).

Rules: byte for byte what Redis's sds.c does: double quotes around, `\\` and `"` escaped,
\\n \\r \\t \\a \\b spelled so, printable ASCII (C's isprint: 0x20-0x7e) kept, every other
byte written as \\xHH (lower-case hex). Pure.
"""

from __future__ import annotations

from typing import Final

_ESCAPES: Final = {
    0x5C: b"\\\\",
    0x22: b'\\"',
    0x0A: b"\\n",
    0x0D: b"\\r",
    0x09: b"\\t",
    0x07: b"\\a",
    0x08: b"\\b",
}
# One rendering per byte value, built once.
_REPR: Final = tuple(
    _ESCAPES.get(b, bytes((b,)) if 0x20 <= b <= 0x7E else b"\\x%02x" % b) for b in range(256)
)


def sds_repr(data: bytes) -> bytes:
    """sdscatrepr: `data` in double quotes with C-style escapes."""
    if data.isascii() and data.isalnum():  # the common case: nothing to escape
        return b'"' + data + b'"'
    return b'"' + b"".join(_REPR[b] for b in data) + b'"'
