"""Redis's two text quoting rules: `sdscatrepr` (how MONITOR lines and CONFIG REWRITE print
a string) and `sdssplitargs` (how redis.conf lines and inline commands split into words).

Rules: byte for byte what Redis's sds.c does. `sds_repr` quotes with double quotes, escapes
`\\` and `"`, spells \\n \\r \\t \\a \\b, keeps printable ASCII (C's isprint: 0x20-0x7e) and
writes every other byte as \\xHH (lower-case hex). `split_args` returns None where
sdssplitargs fails (unbalanced quotes, or a closing quote not followed by a space).
Pure.
"""

from __future__ import annotations

from typing import Final

_ESCAPES: Final = {0x5C: b"\\\\", 0x22: b'\\"', 0x0A: b"\\n", 0x0D: b"\\r", 0x09: b"\\t",
                   0x07: b"\\a", 0x08: b"\\b"}
# One rendering per byte value, built once.
_REPR: Final = tuple(
    _ESCAPES.get(b, bytes((b,)) if 0x20 <= b <= 0x7E else b"\\x%02x" % b) for b in range(256))
_SPACES: Final = b" \n\r\t\0"
_UNESCAPE: Final = {ord("n"): 0x0A, ord("r"): 0x0D, ord("t"): 0x09, ord("b"): 0x08,
                    ord("a"): 0x07}
_HEX: Final = b"0123456789abcdefABCDEF"


def sds_repr(data: bytes) -> bytes:
    """sdscatrepr: `data` in double quotes with C-style escapes."""
    if data.isascii() and data.isalnum():  # the common case: nothing to escape
        return b'"' + data + b'"'
    return b'"' + b"".join(_REPR[b] for b in data) + b'"'


def split_args(line: bytes) -> list[bytes] | None:
    """sdssplitargs: the words of `line`, or None when its quoting is broken."""
    words: list[bytes] = []
    i, n = 0, len(line)
    while True:
        while i < n and line[i] in _SPACES:
            i += 1
        if i >= n:
            return words
        word = bytearray()
        in_double = in_single = False
        while True:
            if in_double:
                if i >= n:
                    return None
                c = line[i]
                if (c == 0x5C and i + 3 < n and line[i + 1] == ord("x")
                        and line[i + 2] in _HEX and line[i + 3] in _HEX):
                    word.append(int(line[i + 2:i + 4], 16))
                    i += 3
                elif c == 0x5C and i + 1 < n:
                    i += 1
                    word.append(_UNESCAPE.get(line[i], line[i]))
                elif c == 0x22:
                    if i + 1 < n and line[i + 1] not in _SPACES:
                        return None  # closing quote must be followed by a space
                    i += 1
                    break
                else:
                    word.append(c)
            elif in_single:
                if i >= n:
                    return None
                c = line[i]
                if c == 0x5C and i + 1 < n and line[i + 1] == 0x27:
                    i += 1
                    word.append(0x27)
                elif c == 0x27:
                    if i + 1 < n and line[i + 1] not in _SPACES:
                        return None
                    i += 1
                    break
                else:
                    word.append(c)
            else:
                if i >= n:
                    break
                c = line[i]
                if c in _SPACES:
                    break
                if c == 0x22:
                    in_double = True
                elif c == 0x27:
                    in_single = True
                else:
                    word.append(c)
            i += 1
        words.append(bytes(word))
