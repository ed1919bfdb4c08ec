"""`struct`: Roberto Ierusalimschy's struct library as Redis 7.0 ships it (with Redis's
bounds checks). pack(fmt, ...), unpack(fmt, data [, pos]) and size(fmt).

Format: '<' '>' set the byte order (native is little-endian here), '!n' the alignment (a power
of 2, default 8), ' ' is ignored; 'b/B' 'h/H' 'l/L' 'T' 'in/In' are integers of 1, 2, 8, 8 and n
bytes (n up to 32, default 4), 'f' 'd' floats, 'x' a zero byte, 'cn' n characters (c0: the
whole string when packing, the previous number's length when unpacking), 's' a zero-ended
string. Numbers convert to integers with x86-64's C casts. Pure.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Final

from node.engine.lualib.values import (
    ArgError,
    LibError,
    LuaView,
    check_number,
    check_string,
    opt_integer,
    tonumber,
)

MAXINTSIZE: Final = 32
MAXALIGN: Final = 8  # max(offsetof(struct {char c; double d;}, d), sizeof(int))
_INT_MAX: Final = 2**31 - 1
_SIZES: Final = {
    0x62: 1,
    0x42: 1,
    0x68: 2,
    0x48: 2,
    0x6C: 8,
    0x4C: 8,
    0x54: 8,
    0x66: 4,
    0x64: 8,
    0x78: 1,
}  # b B h H l L T f d x
_INTEGERS: Final = frozenset(b"bBhHlLTiI")
_TWO63: Final = 9.223372036854775808e18


class _Header:
    __slots__ = ("align", "little")

    def __init__(self) -> None:
        self.little = True  # native byte order of x86-64
        self.align = 1


class _Format:
    """A cursor over a format string, reading options the way the C library does."""

    __slots__ = ("fmt", "pos")

    def __init__(self, fmt: bytes) -> None:
        self.fmt = fmt.split(b"\0", 1)[0]  # a C string
        self.pos = 0

    def next(self) -> int | None:
        if self.pos >= len(self.fmt):
            return None
        opt = self.fmt[self.pos]
        self.pos += 1
        return opt

    def number(self, default: int) -> int:
        """getnum: the digits that follow, with Redis's overflow check."""
        fmt = self.fmt
        if self.pos >= len(fmt) or not 0x30 <= fmt[self.pos] <= 0x39:
            return default
        value = 0
        while self.pos < len(fmt) and 0x30 <= fmt[self.pos] <= 0x39:
            digit = fmt[self.pos] - 0x30
            if value > _INT_MAX // 10 or value * 10 > _INT_MAX - digit:
                raise LibError("integral size overflow")
            value = value * 10 + digit
            self.pos += 1
        return value

    def size(self, opt: int) -> int:
        """optsize: the byte size of an option (0 for those without one)."""
        if opt in _SIZES:
            return _SIZES[opt]
        if opt == 0x63:  # c
            return self.number(1)
        if opt in (0x69, 0x49):  # i I
            size = self.number(4)
            if size > MAXINTSIZE:
                raise LibError(f"integral size {size} is larger than limit of {MAXINTSIZE}")
            return size
        return 0


def _to_align(length: int, header: _Header, opt: int, size: int) -> int:
    """gettoalign: padding before an item of `size` bytes at offset `length`."""
    if size == 0 or opt == 0x63:
        return 0
    size = min(size, header.align)
    return (size - (length & (size - 1))) & (size - 1)


def _control(opt: int, fmt: _Format, header: _Header) -> None:
    """controloptions: byte order, alignment, spaces; anything else is an invalid option."""
    if opt == 0x20:
        return
    if opt == 0x3E:
        header.little = False
    elif opt == 0x3C:
        header.little = True
    elif opt == 0x21:
        align = fmt.number(MAXALIGN)
        if align <= 0 or align & (align - 1):
            raise LibError(f"alignment {align} is not a power of 2")
        header.align = align
    else:
        raise ArgError(1, b"invalid format option '" + bytes([opt]) + b"'")


def _cast_unsigned(number: float) -> int:
    """putinteger's conversion: (Uinttype)(Inttype)n for negatives, (Uinttype)n otherwise,
    with x86-64's results for values out of range."""
    if number < 0:
        return _cvt(number) % 2**64
    if not number >= _TWO63:  # NaN lands here too, as in the compiled comparison
        return _cvt(number) % 2**64
    return (_cvt(number - _TWO63) ^ 2**63) % 2**64


def _cvt(number: float) -> int:
    """cvttsd2si: truncation, 0x8000000000000000 for NaN and out-of-range values."""
    if number != number or not -_TWO63 <= number < _TWO63:
        return -(2**63)
    return int(number)


def _float_bytes(number: float, little: bool) -> bytes:
    try:
        return struct.pack("<f" if little else ">f", number)
    except OverflowError:  # C converts to +-inf
        return struct.pack("<f" if little else ">f", number * float("inf"))


def pack(view: LuaView, *args: object) -> bytes:
    fmt = _Format(check_string(args, 1, view))
    # b_pack pushes a nil mark after its arguments: one argument past them reads as nil.
    padded = (*args, None)
    header = _Header()
    out = bytearray()
    narg = 2
    while (opt := fmt.next()) is not None:
        size = fmt.size(opt)
        out += bytes(_to_align(len(out), header, opt, size))
        if opt in _INTEGERS:
            value = _cast_unsigned(check_number(padded, narg, view))
            narg += 1
            raw = (value % 2**64).to_bytes(8, "little")[:size].ljust(size, b"\0")
            out += raw if header.little else raw[::-1]
        elif opt == 0x78:  # x
            out.append(0)
        elif opt == 0x66:  # f
            out += _float_bytes(check_number(padded, narg, view), header.little)
            narg += 1
        elif opt == 0x64:  # d
            out += struct.pack("<d" if header.little else ">d", check_number(padded, narg, view))
            narg += 1
        elif opt in (0x63, 0x73):  # c s
            text = check_string(padded, narg, view)
            narg += 1
            if size == 0:
                size = len(text)
            if len(text) < size:
                raise ArgError(narg, "string too short")  # the C code reports the next arg
            out += text[:size]
            if opt == 0x73:
                out.append(0)
        else:
            _control(opt, fmt, header)
    return bytes(out)


def _integer(raw: bytes, little: bool, signed: bool) -> float:
    """getinteger: the low 64 bits of the bytes as an integer, sign-extended the C way."""
    value = int.from_bytes(raw, "little" if little else "big") % 2**64
    if not signed:
        return float(value)
    mask = (~0 << ((len(raw) * 8 - 1) & 63)) % 2**64  # x86 masks the shift count
    if value & mask:
        value |= mask
    return float(value - 2**64 if value >= 2**63 else value)


def unpack(view: LuaView, *args: object) -> tuple[object, ...]:
    fmt = _Format(check_string(args, 1, view))
    data = check_string(args, 2, view)
    start = opt_integer(args, 3, 1, view)
    if start == 0:  # Redis checks the size_t: negative offsets wrap and read past the end
        raise ArgError(3, "offset must be 1 or greater")
    pos = (start - 1) % 2**64  # size_t
    header = _Header()
    results: list[object] = []
    while (opt := fmt.next()) is not None:
        size = fmt.size(opt)
        pos += _to_align(pos, header, opt, size)
        if pos > len(data) or size > len(data) - pos:
            raise ArgError(2, "data string too short")
        if opt in _INTEGERS:
            results.append(_integer(data[pos : pos + size], header.little, opt in b"bhli"))
        elif opt == 0x66:
            results.append(
                float(struct.unpack("<f" if header.little else ">f", data[pos : pos + 4])[0])
            )
        elif opt == 0x64:
            results.append(
                float(struct.unpack("<d" if header.little else ">d", data[pos : pos + 8])[0])
            )
        elif opt == 0x63:
            if size == 0:
                previous = tonumber(results[-1]) if results else None
                if previous is None:
                    raise LibError("format 'c0' needs a previous size")
                results.pop()
                size = _cvt(previous) % 2**64
                if pos > len(data) or size > len(data) - pos:
                    raise ArgError(2, "data string too short")
            results.append(data[pos : pos + size])
        elif opt == 0x73:
            end = data.find(b"\0", pos)
            if end < 0:
                raise LibError("unfinished string in data")
            size = end - pos + 1
            results.append(data[pos:end])
        elif opt != 0x78:
            _control(opt, fmt, header)
        pos += size
    results.append(float(pos + 1))
    return tuple(results)


def size(view: LuaView, *args: object) -> float:
    fmt = _Format(check_string(args, 1, view))
    header = _Header()
    pos = 0
    while (opt := fmt.next()) is not None:
        length = fmt.size(opt)
        pos += _to_align(pos, header, opt, length)
        if opt == 0x73:
            raise ArgError(1, "option 's' has no fixed size")
        if opt == 0x63 and length == 0:
            raise ArgError(1, "option 'c0' has no fixed size")
        if not (0x30 <= opt <= 0x39 or 0x41 <= opt <= 0x5A or 0x61 <= opt <= 0x7A):
            _control(opt, fmt, header)
        pos += length
    return float(pos)


FUNCTIONS: Final[dict[str, Callable[..., object]]] = {"pack": pack, "unpack": unpack, "size": size}
