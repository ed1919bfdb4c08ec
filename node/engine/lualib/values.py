"""How the Lua libraries see Lua values, without knowing about lupa.

Strings arrive as `bytes`, numbers as `int` or `float` (Lua 5.1 numbers are doubles; lupa
hands integral ones over as int), booleans as `bool`, nil as `None`. Everything else (tables,
functions, userdata, threads) stays opaque: the library asks a `LuaView` what it is and, for
tables, for its pairs in Lua's own `next` order (raw, as the C libraries use lua_next).

Values a library builds for Lua use plain Python: `bytes`, `float`, `bool`, `None`, `list`
(an array table, 1-based), `dict` or `MapPairs` (a table built key by key, in order) and
`NULL` (cjson.null).

Errors: `LibError(msg)` is luaL_error (the message gets "<source>:<line>: " of the caller);
`ArgError(narg, msg)` is luaL_argerror ("bad argument #<narg> to '<name>' (<msg>)").
Pure: no I/O, no module-level mutable state.
"""

from __future__ import annotations

import math
from typing import Final, NoReturn, Protocol

from node.commands._double import strtod


class NotCallable(Exception):
    """A script called cjson.null: Lua's "attempt to call a userdata value"."""


class JsonNull:
    """cjson.null: Redis's NULL lightuserdata (prints as "userdata: (nil)")."""

    __slots__ = ()

    def __call__(self, *args: object) -> NoReturn:
        # lupa lets Lua call any Python object; to Lua this one is a userdata. The arguments
        # may belong to a coroutine's Lua state: the traceback must not keep them (see
        # LuaVM._guarded in node/engine/lua.py).
        del args
        raise NotCallable


NULL: Final = JsonNull()


class MapPairs(list[tuple[object, object]]):
    """A table to build by setting these (key, value) pairs in order (keys may be tables)."""


class LuaView(Protocol):
    """What a library may ask about a Lua value it cannot see into."""

    def kind(self, value: object) -> str:
        """The Lua type name: 'table', 'function', 'userdata', 'thread' ... or 'null' for
        cjson.null."""
        ...

    def pairs(self, table: object) -> list[tuple[object, object]]:
        """A table's (key, value) pairs, raw, in `next` order."""
        ...


class LibError(Exception):
    """luaL_error: a Lua error whose message gets the caller's position prefixed."""

    def __init__(self, message: str | bytes) -> None:
        super().__init__(message)
        self.message = message.encode() if isinstance(message, str) else message


class ArgError(LibError):
    """luaL_argerror: "bad argument #<narg> to '<function>' (<message>)"."""

    def __init__(self, narg: int, message: str | bytes) -> None:
        super().__init__(message)
        self.narg = narg


def kind_of(value: object, view: LuaView) -> str:
    """Lua's type() of a value as the libraries receive it."""
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, bytes):
        return "string"
    return view.kind(value)


def tonumber(value: object) -> float | None:
    """lua_tonumber: numbers, and strings Lua converts (luaO_str2d: strtod or a hex integer,
    surrounding spaces allowed, read as a C string); None otherwise."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if not isinstance(value, bytes):
        return None
    text = value.split(b"\0", 1)[0]
    number, end, _ = strtod(text)
    if end == 0:
        return None
    if end < len(text) and text[end] in b"xX":  # "0x..." that strtod left alone
        digits = text.lstrip(b" \t\n\v\f\r")
        number, end = _strtoul16(text, len(text) - len(digits))
    if text[end:].strip(b" \t\n\v\f\r"):
        return None
    return number


def _strtoul16(text: bytes, pos: int) -> tuple[float, int]:
    """strtoul(s, &end, 16) for the rare text strtod stopped at an 'x'."""
    sign = 1
    if pos < len(text) and text[pos] in b"+-":
        sign = -1 if text[pos] == 0x2D else 1
        pos += 1
    prefix = pos
    if text[pos : pos + 2].lower() == b"0x":
        pos += 2
    start = pos
    while pos < len(text) and text[pos] in b"0123456789abcdefABCDEF":
        pos += 1
    if pos == start:  # "0x" with no digit: only the "0" is read
        return 0.0, prefix + 1
    value = int(text[start:pos], 16)
    return float(sign * min(value, 2**64 - 1) % 2**64), pos


def type_error(narg: int, expected: str, value: object, present: bool, view: LuaView) -> ArgError:
    """luaL_typerror: "<expected> expected, got <type>" ("no value" past the arguments)."""
    got = kind_of(value, view) if present else "no value"
    if got == "null":
        got = "userdata"
    return ArgError(narg, f"{expected} expected, got {got}")


def check_number(args: tuple[object, ...], narg: int, view: LuaView) -> float:
    """luaL_checknumber on argument `narg` (1-based)."""
    present = narg <= len(args)
    value = args[narg - 1] if present else None
    number = tonumber(value)
    if number is None:
        raise type_error(narg, "number", value, present, view)
    return number


def check_string(args: tuple[object, ...], narg: int, view: LuaView) -> bytes:
    """luaL_checklstring: strings, and numbers formatted as Lua does ("%.14g")."""
    present = narg <= len(args)
    value = args[narg - 1] if present else None
    if isinstance(value, bytes):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return number_to_string(float(value))
    raise type_error(narg, "string", value, present, view)


def check_integer(args: tuple[object, ...], narg: int, view: LuaView) -> int:
    """luaL_checkinteger: a number truncated toward zero, as lua_Integer (ptrdiff_t)."""
    return to_int64(check_number(args, narg, view))


def opt_integer(args: tuple[object, ...], narg: int, default: int, view: LuaView) -> int:
    """luaL_optinteger: the default for a missing or nil argument."""
    if narg > len(args) or args[narg - 1] is None:
        return default
    return check_integer(args, narg, view)


def number_to_string(value: float) -> bytes:
    """lua_tostring of a number: LUA_NUMBER_FMT "%.14g"."""
    return b"%.14g" % value


def to_int64(value: float) -> int:
    """A C cast of a double to int64 as x86-64 does it: truncation, and INT64_MIN for NaN
    and anything out of range."""
    if value != value or not -9.223372036854775808e18 <= value < 9.223372036854775808e18:
        return -(2**63)
    return int(value)


def to_int32(value: float) -> int:
    """A C cast of a double to int (32 bits) as x86-64 does it."""
    if value != value or not -2147483648.0 <= value < 2147483648.0:
        return -(2**31)
    return int(value)


def finite(value: float) -> bool:
    return not (math.isinf(value) or math.isnan(value))
