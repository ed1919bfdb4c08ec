"""`cmsgpack`: lua-cmsgpack 0.4.0 as Redis ships it: pack, unpack, unpack_one, unpack_limit.

Packing: integral numbers that fit an int64 use the smallest MessagePack integer, other
numbers a float32 when it holds the value exactly, else a float64; strings use fixstr/str8/
str16/str32; tables are arrays when their keys are exactly 1..n (the empty table too), maps
otherwise; anything else (nil, functions, userdata, cjson.null) is nil; tables nested 16
deep are nil too, which is how cycles end. Unpacking reads every value in the string (or a
limited number from an offset, returning the next offset first, -1 at the end); arrays and
maps become tables, integers and floats numbers, and bin/ext types are "Bad data format".
Pure; decoding is iterative (Redis allows about 8000 levels).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from typing import Final

from node.engine.lualib.values import (
    NULL,
    ArgError,
    LibError,
    LuaView,
    MapPairs,
    check_integer,
    check_string,
    opt_integer,
    to_int32,
)

MAX_NESTING: Final = 16  # LUACMSGPACK_MAX_NESTING
MAX_DEPTH: Final = 7998  # where luaL_checkstack stops nested decoding
METADATA: Final = {
    b"_NAME": b"cmsgpack",
    b"_VERSION": b"lua-cmsgpack 0.4.0",
    b"_COPYRIGHT": b"Copyright (C) 2012, Salvatore Sanfilippo",
    b"_DESCRIPTION": b"MessagePack C implementation for Lua",
}
_TWO63: Final = 9.223372036854775808e18
_F32: Final = struct.Struct(">f")


# --- packing -----------------------------------------------------------------------------
def _pack_int(n: int) -> bytes:
    if n >= 0:
        if n <= 127:
            return bytes([n])
        if n <= 0xFF:
            return b"\xcc" + bytes([n])
        if n <= 0xFFFF:
            return b"\xcd" + n.to_bytes(2, "big")
        if n <= 0xFFFFFFFF:
            return b"\xce" + n.to_bytes(4, "big")
        return b"\xcf" + n.to_bytes(8, "big")
    if n >= -32:
        return bytes([n & 0xFF])
    if n >= -128:
        return b"\xd0" + n.to_bytes(1, "big", signed=True)
    if n >= -32768:
        return b"\xd1" + n.to_bytes(2, "big", signed=True)
    if n >= -2147483648:
        return b"\xd2" + n.to_bytes(4, "big", signed=True)
    return b"\xd3" + n.to_bytes(8, "big", signed=True)


def _pack_number(x: float) -> bytes:
    # IS_INT64_EQUIVALENT: (int64_t)x == x, which fails for 2^63 and up (x86 gives INT64_MIN).
    if not math.isinf(x) and -_TWO63 <= x < _TWO63 and int(x) == x:
        return _pack_int(int(x))
    try:
        single = _F32.pack(x)
    except OverflowError:
        single = b""
    if single and (_F32.unpack(single)[0] == x):
        return b"\xca" + single
    return b"\xcb" + struct.pack(">d", x)


def _pack_str(s: bytes) -> bytes:
    n = len(s)
    if n < 32:
        return bytes([0xA0 | n]) + s
    if n <= 0xFF:
        return b"\xd9" + bytes([n]) + s
    if n <= 0xFFFF:
        return b"\xda" + n.to_bytes(2, "big") + s
    return b"\xdb" + n.to_bytes(4, "big") + s


def _header(n: int, small: int, mid: bytes, big: bytes) -> bytes:
    if n <= 15:
        return bytes([small | n])
    if n <= 0xFFFF:
        return mid + n.to_bytes(2, "big")
    return big + n.to_bytes(4, "big")


def _is_array(pairs: list[tuple[object, object]]) -> bool:
    """table_is_an_array: every key a positive integer (as a C int) and max == count."""
    largest = 0
    for key, _ in pairs:
        if isinstance(key, bool) or not isinstance(key, (int, float)) or key <= 0:
            return False
        number = float(key)
        if math.isinf(number) or to_int32(number) != number:
            return False
        largest = max(largest, int(number))
    return largest == len(pairs)


def _pack_value(value: object, level: int, view: LuaView, out: list[bytes]) -> None:
    if isinstance(value, bool):
        out.append(b"\xc3" if value else b"\xc2")
    elif isinstance(value, (int, float)):
        out.append(_pack_number(float(value)))
    elif isinstance(value, bytes):
        out.append(_pack_str(value))
    elif value is None or value is NULL or level == MAX_NESTING or view.kind(value) != "table":
        out.append(b"\xc0")
    else:
        pairs = view.pairs(value)
        if _is_array(pairs):
            items = dict(pairs)
            out.append(_header(len(pairs), 0x90, b"\xdc", b"\xdd"))
            for i in range(1, len(pairs) + 1):
                _pack_value(items[i], level + 1, view, out)
        else:
            out.append(_header(len(pairs), 0x80, b"\xde", b"\xdf"))
            for key, item in pairs:
                _pack_value(key, level + 1, view, out)
                _pack_value(item, level + 1, view, out)


def pack(view: LuaView, *args: object) -> bytes:
    if not args:
        raise ArgError(0, "MessagePack pack needs input.")
    out: list[bytes] = []
    for value in args:
        _pack_value(value, 0, view, out)
    return b"".join(out)


# --- unpacking ---------------------------------------------------------------------------
class _Missing(Exception):
    """MP_CUR_ERROR_EOF"""


class _BadFormat(Exception):
    """MP_CUR_ERROR_BADFMT"""


class _Container:
    __slots__ = ("is_map", "items", "left")

    def __init__(self, is_map: bool, count: int) -> None:
        self.is_map = is_map
        self.left = count * 2 if is_map else count
        self.items: list[object] = []

    def finish(self) -> object:
        if not self.is_map:
            return dict(enumerate(self.items, 1)) if None in self.items else self.items
        return MapPairs(zip(self.items[::2], self.items[1::2], strict=True))


# uint 64 is read as a signed 64-bit integer, as lua-cmsgpack 0.4.0 does on Lua 5.1.
_FIXED: Final = {
    0xCC: (1, False),
    0xCD: (2, False),
    0xCE: (4, False),
    0xCF: (8, True),
    0xD0: (1, True),
    0xD1: (2, True),
    0xD2: (4, True),
    0xD3: (8, True),
}


def _decode_one(data: bytes, pos: int) -> tuple[object, int]:
    """One complete value from `pos`, iteratively; (value, next position)."""
    stack: list[_Container] = []

    def need(count: int) -> None:
        if pos + count > len(data):
            raise _Missing

    while True:
        need(1)
        tag = data[pos]
        value: object
        if tag <= 0x7F:
            value, pos = float(tag), pos + 1
        elif tag >= 0xE0:
            value, pos = float(tag - 256), pos + 1
        elif tag in _FIXED:
            size, signed = _FIXED[tag]
            need(1 + size)
            value = float(int.from_bytes(data[pos + 1 : pos + 1 + size], "big", signed=signed))
            pos += 1 + size
        elif tag == 0xC0:
            value, pos = None, pos + 1
        elif tag in (0xC2, 0xC3):
            value, pos = tag == 0xC3, pos + 1
        elif tag == 0xCA:
            need(5)
            value, pos = float(_F32.unpack(data[pos + 1 : pos + 5])[0]), pos + 5
        elif tag == 0xCB:
            need(9)
            value, pos = float(struct.unpack(">d", data[pos + 1 : pos + 9])[0]), pos + 9
        elif 0xA0 <= tag <= 0xBF or tag in (0xD9, 0xDA, 0xDB):
            width = {0xD9: 1, 0xDA: 2, 0xDB: 4}.get(tag, 0)
            need(1 + width)
            length = (
                (tag & 0x1F)
                if not width
                else int.from_bytes(data[pos + 1 : pos + 1 + width], "big")
            )
            need(1 + width + length)
            value = data[pos + 1 + width : pos + 1 + width + length]
            pos += 1 + width + length
        elif 0x80 <= tag <= 0x9F or tag in (0xDC, 0xDD, 0xDE, 0xDF):
            width = {0xDC: 2, 0xDD: 4, 0xDE: 2, 0xDF: 4}.get(tag, 0)
            need(1 + width)
            count = (
                (tag & 0x0F)
                if not width
                else int.from_bytes(data[pos + 1 : pos + 1 + width], "big")
            )
            pos += 1 + width
            if len(stack) >= MAX_DEPTH:
                raise LibError("stack overflow (in function mp_decode_to_lua_type)")
            stack.append(_Container(tag < 0x90 or tag in (0xDE, 0xDF), count))
            if count:
                continue
            value = stack.pop().finish()
        else:
            raise _BadFormat
        # Hand the value to the containers waiting for it.
        while stack:
            top = stack[-1]
            top.items.append(value)
            top.left -= 1
            if top.left:
                break
            value = stack.pop().finish()
        else:
            return value, pos


def _unpack_full(
    view: LuaView, args: tuple[object, ...], limit: int, offset: int
) -> tuple[object, ...]:
    data = check_string(args, 1, view)
    if offset < 0 or limit < 0:
        raise LibError(
            f"Invalid request to unpack with offset of {offset} and limit of {len(data)}."
        )
    if offset > len(data):
        raise LibError(f"Start offset {offset} greater than input length {len(data)}.")
    decode_all = not limit and not offset
    if decode_all:
        limit = 2**31 - 1
    pos = offset
    values: list[object] = []
    while pos < len(data) and len(values) < limit:
        try:
            value, pos = _decode_one(data, pos)
        except _Missing:
            raise LibError("Missing bytes in input.") from None
        except _BadFormat:
            raise LibError("Bad data format in input.") from None
        values.append(value)
    if not decode_all:
        values.insert(0, float(-1 if pos >= len(data) else pos))
    return tuple(values)


def unpack(view: LuaView, *args: object) -> tuple[object, ...]:
    return _unpack_full(view, args, 0, 0)


def unpack_one(view: LuaView, *args: object) -> tuple[object, ...]:
    offset = opt_integer(args, 2, 0, view)
    return _unpack_full(view, args[:1], 1, to_int32(float(offset)))


def unpack_limit(view: LuaView, *args: object) -> tuple[object, ...]:
    limit = check_integer(args, 2, view)
    offset = opt_integer(args, 3, 0, view)
    return _unpack_full(view, args[:1], to_int32(float(limit)), to_int32(float(offset)))


FUNCTIONS: Final[dict[str, Callable[..., object]]] = {
    "pack": pack,
    "unpack": unpack,
    "unpack_one": unpack_one,
    "unpack_limit": unpack_limit,
}
