"""The compact encodings Redis stores inside RDB values, plus the two byte-level helpers
around them (CRC-64 and LZF).

- listpack (read and write): Redis 7.0's container for small hashes, sorted sets, list
  nodes and stream nodes. `listpack_encode` writes what Redis's lpAppend writes: an item
  that is the canonical decimal text of an int64 becomes the smallest integer encoding.
- intset (read and write): small integer sets, sorted, one width for every element.
- ziplist and zipmap (read only): what Redis 2.x-6.x wrote; 7.0 still loads them.
- crc64: CRC-64 "Jones" as Redis computes it (reflected, init 0, no final xor).
- lzf_compress/lzf_decompress: liblzf's format; Redis compresses with an output budget of
  len-4, so a string is only stored compressed when that saves at least 4 bytes.

Decoders validate as they go and raise `FormatError` on anything malformed: a file or a
RESTORE payload can hold any bytes, and bad input must never crash the server.
Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import pairwise
from typing import Final

import anycrc
import lzf

from node.commands._args import string2ll


class FormatError(ValueError):
    """Malformed or unsupported persisted data."""


_CRC: Final = anycrc.Model("CRC64-REDIS")


def crc64(data: bytes | bytearray | memoryview, crc: int = 0) -> int:
    """CRC-64/REDIS of `data`, continuing from `crc` (0 to start)."""
    return int(_CRC.calc(data, crc))


def lzf_compress(data: bytes | bytearray) -> bytes | None:
    """liblzf's compression of `data` when Redis would store it compressed (output budget
    len-4), else None."""
    n = len(data)
    if n <= 4:
        return None
    out: bytes | None = lzf.compress(bytes(data), n + 64)
    if out is None or not _fits_budget(out, n, n - 4):
        return None
    return out


def _fits_budget(out: bytes, n: int, budget: int) -> bool:
    """Would liblzf have finished `out` (the compression of `n` input bytes) within an
    output buffer of `budget` bytes? Its checks are conservative: a back-reference needs
    4 spare bytes past where it starts, and when the main loop stops (2 input bytes
    before the end) 3 bytes must remain; Redis declines to compress when they fail."""
    ip = 0
    i = 0
    loop_end = n - 2
    while i < len(out):
        c = out[i]
        if c < 32:
            for k in range(c + 1):
                if ip >= loop_end:
                    return i + 1 + k + 3 <= budget
                if i + 1 + k >= budget:
                    return False
                ip += 1
            i += c + 2
            continue
        if i + 4 >= budget:
            return False
        length = c >> 5
        if length == 7:
            length += out[i + 1]
            i += 1
        ip += length + 2
        i += 2
    return i + 1 + 3 <= budget


def lzf_decompress(data: bytes, length: int) -> bytes:
    """Inflate `data` to exactly `length` bytes."""
    if length == 0:
        raise FormatError("empty LZF string")
    try:
        out = lzf.decompress(data, length)
    except Exception as exc:  # the binding raises ValueError/SystemError on garbage
        raise FormatError(f"bad LZF data: {exc}") from None
    if out is None or len(out) != length:
        raise FormatError("bad LZF data")
    return bytes(out)


# --- listpack -----------------------------------------------------------------------------
LP_HEADER: Final = 6
LP_END: Final = 0xFF
_LP_UNKNOWN_COUNT: Final = 65535

Item = bytes | int


def _backlen(size: int) -> bytes:
    """The back-length after an entry of `size` bytes: 7 bits per byte, readable from the
    right; every byte but the leftmost has its high bit set."""
    if size <= 127:
        return bytes((size,))
    if size < 16383:
        return bytes((size >> 7, (size & 127) | 128))
    if size < 2097151:
        return bytes((size >> 14, ((size >> 7) & 127) | 128, (size & 127) | 128))
    if size < 268435455:
        return bytes(
            (size >> 21, ((size >> 14) & 127) | 128, ((size >> 7) & 127) | 128, (size & 127) | 128)
        )
    return bytes(
        (
            size >> 28,
            ((size >> 21) & 127) | 128,
            ((size >> 14) & 127) | 128,
            ((size >> 7) & 127) | 128,
            (size & 127) | 128,
        )
    )


_SMALL_INTS: Final = tuple(bytes((v, 1)) for v in range(128))


def _lp_int(v: int) -> bytes:
    if 0 <= v <= 127:
        return _SMALL_INTS[v]
    if -4096 <= v <= 4095:
        u = v & 0x1FFF
        return bytes((0xC0 | (u >> 8), u & 0xFF, 2))
    if -32768 <= v <= 32767:
        return b"\xf1" + v.to_bytes(2, "little", signed=True) + b"\x03"
    if -8388608 <= v <= 8388607:
        return b"\xf2" + v.to_bytes(3, "little", signed=True) + b"\x04"
    if -(2**31) <= v < 2**31:
        return b"\xf3" + v.to_bytes(4, "little", signed=True) + b"\x05"
    return b"\xf4" + v.to_bytes(8, "little", signed=True) + b"\x09"


def _lp_entry(item: Item) -> bytes:
    if isinstance(item, int):
        return _lp_int(item)
    raw = item
    n = len(raw)
    if n <= 20:
        number = string2ll(raw)
        if number is not None:
            return _lp_int(number)
    if n < 64:
        return bytes((0x80 | n,)) + raw + bytes((n + 1,))
    if n < 4096:
        return bytes((0xE0 | (n >> 8), n & 0xFF)) + raw + _backlen(n + 2)
    return b"\xf0" + n.to_bytes(4, "little") + raw + _backlen(n + 5)


def listpack_encode(items: Iterable[Item]) -> bytes:
    """A listpack holding `items` (bytes, or ints for integer elements)."""
    body = [_lp_entry(item) for item in items]
    total = LP_HEADER + sum(map(len, body)) + 1
    count = min(len(body), _LP_UNKNOWN_COUNT)
    return b"".join((total.to_bytes(4, "little"), count.to_bytes(2, "little"), *body, b"\xff"))


def listpack_decode(blob: bytes) -> list[Item]:
    """The elements of a listpack: ints for integer encodings, bytes for strings."""
    n = len(blob)
    if n < LP_HEADER + 1:
        raise FormatError("listpack too short")
    if int.from_bytes(blob[0:4], "little") != n:
        raise FormatError("listpack size header mismatch")
    declared = int.from_bytes(blob[4:6], "little")
    out: list[Item] = []
    pos = LP_HEADER
    while True:
        if pos >= n:
            raise FormatError("listpack without terminator")
        b = blob[pos]
        if b == LP_END:
            break
        start = pos
        if b < 0x80:
            out.append(b)
            pos += 1
        elif b < 0xC0:
            length = b & 0x3F
            pos += 1 + length
            out.append(blob[start + 1 : pos])
        elif b < 0xE0:
            u = ((b & 0x1F) << 8) | _at(blob, pos + 1)
            out.append(u - 0x2000 if u >= 0x1000 else u)
            pos += 2
        elif b < 0xF0:
            length = ((b & 0x0F) << 8) | _at(blob, pos + 1)
            pos += 2 + length
            out.append(blob[start + 2 : pos])
        elif b == 0xF0:
            length = int.from_bytes(blob[pos + 1 : pos + 5], "little")
            pos += 5 + length
            out.append(blob[start + 5 : pos])
        elif 0xF1 <= b <= 0xF4:
            width = (2, 3, 4, 8)[b - 0xF1]
            out.append(int.from_bytes(blob[pos + 1 : pos + 1 + width], "little", signed=True))
            pos += 1 + width
        else:
            raise FormatError(f"bad listpack encoding byte {b:#x}")
        size = pos - start
        back = _backlen(size)
        if pos + len(back) > n - 1 or blob[pos : pos + len(back)] != back:
            raise FormatError("bad listpack entry back-length")
        pos += len(back)
    if pos != n - 1:
        raise FormatError("data after listpack terminator")
    if declared != _LP_UNKNOWN_COUNT and declared != len(out):
        raise FormatError("listpack count header mismatch")
    return out


def _at(blob: bytes, pos: int) -> int:
    if pos >= len(blob):
        raise FormatError("truncated blob")
    return blob[pos]


def item_bytes(item: Item) -> bytes:
    """An element as the string a command would see (integers as decimal text)."""
    return b"%d" % item if item.__class__ is int else item  # type: ignore[return-value]


# --- intset -------------------------------------------------------------------------------
def intset_encode(values: list[int]) -> bytes:
    """An intset of the (distinct) `values`, in the narrowest width that holds them all."""
    values = sorted(values)
    lo, hi = (values[0], values[-1]) if values else (0, 0)
    width = 2 if lo >= -32768 and hi <= 32767 else 4 if lo >= -(2**31) and hi < 2**31 else 8
    head = width.to_bytes(4, "little") + len(values).to_bytes(4, "little")
    return head + b"".join(v.to_bytes(width, "little", signed=True) for v in values)


def intset_decode(blob: bytes) -> list[int]:
    if len(blob) < 8:
        raise FormatError("intset too short")
    width = int.from_bytes(blob[0:4], "little")
    count = int.from_bytes(blob[4:8], "little")
    if width not in (2, 4, 8) or len(blob) != 8 + width * count:
        raise FormatError("bad intset header")
    out = [
        int.from_bytes(blob[i : i + width], "little", signed=True)
        for i in range(8, len(blob), width)
    ]
    if any(a >= b for a, b in pairwise(out)):
        raise FormatError("intset not sorted or with duplicates")
    return out


# --- ziplist (read only) ----------------------------------------------------------------------
_ZL_HEADER: Final = 10


def ziplist_decode(blob: bytes) -> list[bytes]:
    """The elements of a ziplist, as strings."""
    n = len(blob)
    if n < _ZL_HEADER + 1 or int.from_bytes(blob[0:4], "little") != n:
        raise FormatError("bad ziplist header")
    declared = int.from_bytes(blob[8:10], "little")
    out: list[bytes] = []
    pos = _ZL_HEADER
    prev = 0
    while True:
        b = _at(blob, pos)
        if b == 0xFF:
            break
        start = pos
        if b < 254:
            prevlen, pos = b, pos + 1
        else:
            prevlen, pos = int.from_bytes(blob[pos + 1 : pos + 5], "little"), pos + 5
        if prevlen != prev:
            raise FormatError("bad ziplist prevlen")
        enc = _at(blob, pos)
        top = enc >> 6
        if top == 0:
            length, pos = enc & 0x3F, pos + 1
        elif top == 1:
            length, pos = ((enc & 0x3F) << 8) | _at(blob, pos + 1), pos + 2
        elif enc == 0x80:
            length, pos = int.from_bytes(blob[pos + 1 : pos + 5], "big"), pos + 5
        else:
            width = {0xC0: 2, 0xD0: 4, 0xE0: 8, 0xF0: 3, 0xFE: 1}.get(enc)
            pos += 1
            if width is not None:
                raw = blob[pos : pos + width]
                if len(raw) != width:
                    raise FormatError("truncated ziplist integer")
                out.append(b"%d" % int.from_bytes(raw, "little", signed=True))
                pos += width
            elif 0xF1 <= enc <= 0xFD:
                out.append(b"%d" % (enc - 0xF1))
            else:
                raise FormatError(f"bad ziplist encoding byte {enc:#x}")
            prev = pos - start
            continue
        value = blob[pos : pos + length]
        if len(value) != length:
            raise FormatError("truncated ziplist string")
        out.append(value)
        pos += length
        prev = pos - start
    if pos != n - 1:
        raise FormatError("data after ziplist terminator")
    if declared != 0xFFFF and declared != len(out):
        raise FormatError("ziplist count header mismatch")
    return out


# --- zipmap (read only) -------------------------------------------------------------------
def zipmap_decode(blob: bytes) -> list[tuple[bytes, bytes]]:
    """The field/value pairs of a zipmap (Redis 2.x small hashes)."""
    pos = 1
    pairs: list[tuple[bytes, bytes]] = []
    if not blob:
        raise FormatError("empty zipmap")
    while True:
        b = _at(blob, pos)
        if b == 0xFF:
            break
        key, pos = _zipmap_string(blob, pos, with_free=False)
        value, pos = _zipmap_string(blob, pos, with_free=True)
        pairs.append((key, value))
    if pos != len(blob) - 1:
        raise FormatError("data after zipmap terminator")
    return pairs


def _zipmap_string(blob: bytes, pos: int, *, with_free: bool) -> tuple[bytes, int]:
    b = _at(blob, pos)
    if b < 254:
        length, pos = b, pos + 1
    elif b == 254:
        length, pos = int.from_bytes(blob[pos + 1 : pos + 5], "little"), pos + 5
    else:
        raise FormatError("truncated zipmap")
    free = 0
    if with_free:
        free = _at(blob, pos)
        pos += 1
    value = blob[pos : pos + length]
    if len(value) != length or pos + length + free >= len(blob):
        raise FormatError("truncated zipmap")
    return value, pos + length + free
