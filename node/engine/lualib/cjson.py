"""`cjson`: lua-cjson 2.1.0 as Redis 7.0 ships it: encode, decode, the configuration
functions and new().

Encoding: numbers with "%.14g" (encode_number_precision), strings with cjson's escapes ('/'
becomes "\\/", control characters and DEL "\\u00XX", bytes >= 0x80 as they are), tables as
arrays when every key is a positive integer and the array is not excessively sparse (more
than `safe` slots and over `ratio` times the item count), otherwise as objects in `next`
order; an empty table is "{}". Decoding is cjson's tokenizer: the text is a C string (a NUL
ends it), numbers go through strtod (so hex, "inf" and "nan" pass unless
decode_invalid_numbers is off), errors say "Expected <what> but found <token> at character
<n>". Nesting is limited to 1000 levels each way. Configuration lives in a `Config`, one per
module instance (Redis's Lua state has one; cjson.new() makes another). Pure.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Final

from node.commands._double import strtod
from node.engine.lualib.values import (
    NULL,
    ArgError,
    LibError,
    LuaView,
    check_string,
    kind_of,
    opt_integer,
    to_int32,
)

Args = tuple[object, ...]

_INT_MAX: Final = 2**31 - 1
_ESCAPES: Final = {i: b"\\u%04x" % i for i in range(32)} | {
    8: b"\\b",
    9: b"\\t",
    10: b"\\n",
    12: b"\\f",
    13: b"\\r",
    0x22: b'\\"',
    0x2F: b"\\/",
    0x5C: b"\\\\",
    0x7F: b"\\u007f",
}
_ESCAPE_TABLE: Final = {k: v.decode("latin-1") for k, v in _ESCAPES.items()}
_UNESCAPES: Final = {
    0x22: 0x22,
    0x5C: 0x5C,
    0x2F: 0x2F,
    0x62: 8,
    0x66: 12,
    0x6E: 10,
    0x72: 13,
    0x74: 9,
}
_WHITESPACE: Final = b" \t\n\r"
_HEX: Final = b"0123456789abcdefABCDEF"
# Single-character tokens and their names in error messages.
_PUNCTUATION: Final = {
    0x7B: "T_OBJ_BEGIN",
    0x7D: "T_OBJ_END",
    0x5B: "T_ARR_BEGIN",
    0x5D: "T_ARR_END",
    0x2C: "T_COMMA",
    0x3A: "T_COLON",
}


class Config:
    """One cjson module's settings (json_config_t)."""

    __slots__ = (
        "decode_invalid_numbers",
        "decode_max_depth",
        "encode_invalid_numbers",
        "encode_keep_buffer",
        "encode_max_depth",
        "encode_number_precision",
        "encode_sparse_convert",
        "encode_sparse_ratio",
        "encode_sparse_safe",
    )

    def __init__(self) -> None:
        self.encode_sparse_convert = 0
        self.encode_sparse_ratio = 2
        self.encode_sparse_safe = 10
        self.encode_max_depth = 1000
        self.decode_max_depth = 1000
        self.encode_invalid_numbers = 0  # 0 off, 1 on, 2 "null"
        self.decode_invalid_numbers = 1
        self.encode_keep_buffer = 1
        self.encode_number_precision = 14


# --- encoding ----------------------------------------------------------------------------
class _Frame:
    """A table being encoded: its entries and how far the encoder got."""

    __slots__ = ("array", "depth", "entries", "next")

    def __init__(self, entries: list[tuple[object, object]], array: bool, depth: int) -> None:
        self.entries = entries
        self.array = array
        self.depth = depth
        self.next = 0


class _Encoder:
    """json_append_data without recursion (tables nest 1000 deep)."""

    __slots__ = ("config", "out", "view")

    def __init__(self, config: Config, view: LuaView) -> None:
        self.config = config
        self.view = view
        self.out: list[str] = []

    def run(self, root: object) -> None:
        stack: list[_Frame] = []
        value, depth = root, 0
        while True:
            frame = self.value(value, depth)
            if frame is not None:
                stack.append(frame)
            while stack:
                frame = stack[-1]
                if frame.next < len(frame.entries):
                    key, value = frame.entries[frame.next]
                    if frame.next:
                        self.out.append(",")
                    frame.next += 1
                    if not frame.array:
                        self.key(key)
                    depth = frame.depth
                    break
                self.out.append("]" if frame.array else "}")
                stack.pop()
            else:
                return

    def value(self, value: object, depth: int) -> _Frame | None:
        """Append a scalar, or open a table and return its frame."""
        if value is None or value is NULL:
            self.out.append("null")
        elif value is True:
            self.out.append("true")
        elif value is False:
            self.out.append("false")
        elif isinstance(value, (int, float)):
            self.out.append(self.number(float(value), value))
        elif isinstance(value, bytes):
            self.string(value)
        elif self.view.kind(value) == "table":
            return self.table(value, depth + 1)
        else:
            raise _unsupported(value, "type not supported", self.view)
        return None

    def number(self, number: float, original: object) -> str:
        if not math.isfinite(number):
            mode = self.config.encode_invalid_numbers
            if mode == 0:
                raise _unsupported(original, "must not be NaN or Inf", self.view)
            if mode == 2:
                return "null"
            if math.isnan(number):
                return "nan"
        return format(number, f".{self.config.encode_number_precision}g")

    def string(self, text: bytes) -> None:
        self.out.append('"' + text.decode("latin-1").translate(_ESCAPE_TABLE) + '"')

    def key(self, key: object) -> None:
        if isinstance(key, (int, float)) and not isinstance(key, bool):
            self.out.append('"' + self.number(float(key), key) + '":')
        elif isinstance(key, bytes):
            self.string(key)
            self.out.append(":")
        else:
            raise _unsupported(key, "table key must be a number or string", self.view)

    def table(self, table: object, depth: int) -> _Frame:
        if depth > self.config.encode_max_depth:
            raise LibError(f"Cannot serialise, excessive nesting ({depth})")
        pairs = self.view.pairs(table)
        length = self.array_length(pairs)
        if length > 0:
            items = dict(pairs)
            self.out.append("[")
            return _Frame([(i, items.get(i)) for i in range(1, length + 1)], True, depth)
        self.out.append("{")
        return _Frame(pairs, False, depth)

    def array_length(self, pairs: list[tuple[object, object]]) -> int:
        """lua_array_length: the array size, or -1 to encode as an object."""
        largest = 0  # a C int: keys past INT_MAX wrap the way x86 converts them
        for key, _ in pairs:
            if isinstance(key, bool) or not isinstance(key, (int, float)) or not key:
                return -1
            number = float(key)
            if number < 1 or (math.isfinite(number) and math.floor(number) != number):
                return -1
            if number > largest:
                largest = to_int32(number)
        config = self.config
        items = len(pairs)
        if (
            config.encode_sparse_ratio > 0
            and largest > items * config.encode_sparse_ratio
            and largest > config.encode_sparse_safe
        ):
            if not config.encode_sparse_convert:
                raise LibError("Cannot serialise table: excessively sparse array")
            return -1
        return largest


def _unsupported(value: object, reason: str, view: LuaView) -> LibError:
    kind = kind_of(value, view)
    return LibError(f"Cannot serialise {'userdata' if kind == 'null' else kind}: {reason}")


def encode(config: Config, view: LuaView, *args: object) -> bytes:
    if len(args) != 1:
        raise ArgError(1, "expected 1 argument")
    encoder = _Encoder(config, view)
    encoder.run(args[0])
    return "".join(encoder.out).encode("latin-1")


# --- decoding ----------------------------------------------------------------------------
class _Token:
    __slots__ = ("index", "kind", "value")

    def __init__(self, kind: str, index: int, value: object = None) -> None:
        self.kind = kind  # a T_* name, or "T_ERROR" with the message as value
        self.index = index
        self.value = value


class _Decoder:
    __slots__ = ("config", "data", "depth", "pos")

    def __init__(self, config: Config, data: bytes) -> None:
        self.config = config
        self.data = data
        self.pos = 0
        self.depth = 0

    def token(self) -> _Token:
        data = self.data
        while self.pos < len(data) and data[self.pos] in _WHITESPACE:
            self.pos += 1
        index = self.pos
        if index >= len(data):
            return _Token("T_END", index)
        ch = data[index]
        kind = _PUNCTUATION.get(ch)
        if kind is not None:
            self.pos += 1
            return _Token(kind, index)
        if ch == 0x22:
            return self.string(index)
        if ch == 0x2D or 0x30 <= ch <= 0x39:
            if not self.config.decode_invalid_numbers and self.invalid_number():
                return _Token("T_ERROR", index, "invalid number")
            return self.number(index)
        for word, value in ((b"true", True), (b"false", False), (b"null", NULL)):
            if data.startswith(word, index):
                self.pos += len(word)
                return _Token("T_NULL" if value is NULL else "T_BOOLEAN", index, value)
        if ch in b"iInN+" and self.config.decode_invalid_numbers and self.invalid_number():
            return self.number(index)
        return _Token("T_ERROR", index, "invalid token")

    def invalid_number(self) -> bool:
        """json_is_invalid_number: a number JSON forbids (+1, 0x1, 01, inf, nan)."""
        data, p = self.data, self.pos
        if data[p : p + 1] == b"+":
            return True
        if data[p : p + 1] == b"-":
            p += 1
        ch = data[p] if p < len(data) else 0
        if ch == 0x30:
            nxt = data[p + 1] if p + 1 < len(data) else 0
            return (nxt | 0x20) == 0x78 or 0x30 <= nxt <= 0x39
        if ch <= 0x39:
            return False
        word = data[p : p + 3].lower()
        return word in (b"inf", b"nan")

    def number(self, index: int) -> _Token:
        value, end, _ = strtod(self.data, index)
        if end == index:
            return _Token("T_ERROR", index, "invalid number")
        if math.isnan(value) and self.data[index : index + 1] == b"-":
            value = -math.nan  # glibc keeps the sign of "-nan"
        self.pos = end
        return _Token("T_NUMBER", index, value)

    def string(self, index: int) -> _Token:
        data = self.data
        out = bytearray()
        self.pos += 1
        while True:
            if self.pos >= len(data):
                return _Token("T_ERROR", self.pos, "unexpected end of string")
            ch = data[self.pos]
            if ch == 0x22:
                break
            if ch == 0x5C:
                code = data[self.pos + 1] if self.pos + 1 < len(data) else 0
                if code == 0x75:
                    if not self.unicode_escape(out):
                        return _Token("T_ERROR", self.pos, "invalid unicode escape code")
                    continue
                ch = _UNESCAPES.get(code, 0)
                if not ch:
                    return _Token("T_ERROR", self.pos, "invalid escape code")
                self.pos += 1
            out.append(ch)
            self.pos += 1
        self.pos += 1
        return _Token("T_STRING", index, bytes(out))

    def hex4(self, at: int) -> int:
        digits = self.data[at : at + 4]
        if len(digits) != 4 or any(d not in _HEX for d in digits):
            return -1
        return int(digits, 16)

    def unicode_escape(self, out: bytearray) -> bool:
        """json_append_unicode_escape: \\uXXXX (or a surrogate pair) as UTF-8."""
        codepoint = self.hex4(self.pos + 2)
        if codepoint < 0:
            return False
        length = 6
        if codepoint & 0xF800 == 0xD800:
            if codepoint & 0x400 or self.data[self.pos + 6 : self.pos + 8] != b"\\u":
                return False
            low = self.hex4(self.pos + 8)
            if low < 0 or low & 0xFC00 != 0xDC00:
                return False
            codepoint = (((codepoint & 0x3FF) << 10) | (low & 0x3FF)) + 0x10000
            length = 12
        out += chr(codepoint).encode("utf-8", "surrogatepass")
        self.pos += length
        return True

    def fail(self, expected: str, token: _Token) -> LibError:
        found = token.value if token.kind == "T_ERROR" else token.kind
        return LibError(f"Expected {expected} but found {found} at character {token.index + 1}")

    def descend(self) -> None:
        self.depth += 1
        if self.depth > self.config.decode_max_depth:
            raise LibError(
                f"Found too many nested data structures ({self.depth}) at character {self.pos}"
            )

    def value(self, token: _Token) -> object:
        """json_process_value and the object/array contexts, without recursion."""
        stack: list[list[object] | dict[object, object]] = []
        keys: list[object] = []  # the pending key of each object on the stack
        while True:
            kind = token.kind
            if kind in ("T_STRING", "T_NUMBER", "T_BOOLEAN", "T_NULL"):
                value = token.value
            elif kind in ("T_OBJ_BEGIN", "T_ARR_BEGIN"):
                self.descend()
                container: list[object] | dict[object, object] = {} if kind == "T_OBJ_BEGIN" else []
                token = self.token()
                if token.kind != ("T_OBJ_END" if kind == "T_OBJ_BEGIN" else "T_ARR_END"):
                    stack.append(container)
                    if isinstance(container, dict):
                        keys.append(self.object_key(token))
                        token = self.token()
                    continue
                self.depth -= 1
                value = container
            else:
                raise self.fail("value", token)
            # Store the value, then read on until the next value starts.
            while stack:
                top = stack[-1]
                token = self.token()
                if isinstance(top, dict):
                    top[keys[-1]] = value
                    end, what = "T_OBJ_END", "comma or object end"
                else:
                    top.append(value)
                    end, what = "T_ARR_END", "comma or array end"
                if token.kind == end:
                    self.depth -= 1
                    value = stack.pop()
                    if isinstance(value, dict):
                        keys.pop()
                    continue
                if token.kind != "T_COMMA":
                    raise self.fail(what, token)
                token = self.token()
                if isinstance(top, dict):
                    keys[-1] = self.object_key(token)
                    token = self.token()
                break
            else:
                return value

    def object_key(self, token: _Token) -> object:
        """A key and its colon; the caller reads the value token next."""
        if token.kind != "T_STRING":
            raise self.fail("object key string", token)
        colon = self.token()
        if colon.kind != "T_COLON":
            raise self.fail("colon", colon)
        return token.value


def decode(config: Config, view: LuaView, *args: object) -> object:
    if len(args) != 1:
        raise ArgError(1, "expected 1 argument")
    text = check_string(args, 1, view)
    if len(text) >= 2 and (not text[0] or not text[1]):
        raise LibError("JSON parser does not support UTF-16 or UTF-32")
    decoder = _Decoder(config, text.split(b"\0", 1)[0])
    result = decoder.value(decoder.token())
    token = decoder.token()
    if token.kind != "T_END":
        raise decoder.fail("the end", token)
    return result


# --- configuration -----------------------------------------------------------------------
def _check_args(args: Args, limit: int) -> None:
    """json_arg_init: at most `limit` arguments."""
    if len(args) > limit:
        raise ArgError(limit + 1, "found too many arguments")


def _integer_option(args: Args, narg: int, current: int, low: int, high: int, view: LuaView) -> int:
    if narg > len(args) or args[narg - 1] is None:
        return current
    value = to_int32(float(opt_integer(args, narg, current, view)))
    if not low <= value <= high:
        raise ArgError(1, f"expected integer between {low} and {high}")
    return value


def _enum_option(
    args: Args, narg: int, current: int, options: tuple[bytes, ...], view: LuaView
) -> int:
    if narg > len(args) or args[narg - 1] is None:
        return current
    value = args[narg - 1]
    if isinstance(value, bool):
        return int(value)
    text = check_string(args, narg, view)
    if text not in options:
        raise ArgError(narg, b"invalid option '" + text.split(b"\0", 1)[0] + b"'")
    return options.index(text)


def _enum_result(setting: int, options: tuple[bytes, ...]) -> object:
    return bool(setting) if setting in (0, 1) else options[setting]


_BOOL: Final = (b"off", b"on")
_INVALID: Final = (b"off", b"on", b"null")


def _cfg_integer(field: str, low: int, high: int) -> Callable[..., object]:
    def option(config: Config, view: LuaView, *args: object) -> object:
        _check_args(args, 1)
        value = _integer_option(args, 1, getattr(config, field), low, high, view)
        setattr(config, field, value)
        return float(value)

    return option


def _cfg_enum(field: str, options: tuple[bytes, ...]) -> Callable[..., object]:
    def option(config: Config, view: LuaView, *args: object) -> object:
        _check_args(args, 1)
        value = _enum_option(args, 1, getattr(config, field), options, view)
        setattr(config, field, value)
        return _enum_result(value, options)

    return option


def encode_sparse_array(config: Config, view: LuaView, *args: object) -> tuple[object, ...]:
    _check_args(args, 3)
    config.encode_sparse_convert = _enum_option(args, 1, config.encode_sparse_convert, _BOOL, view)
    config.encode_sparse_ratio = _integer_option(
        args, 2, config.encode_sparse_ratio, 0, _INT_MAX, view
    )
    config.encode_sparse_safe = _integer_option(
        args, 3, config.encode_sparse_safe, 0, _INT_MAX, view
    )
    return (
        bool(config.encode_sparse_convert),
        float(config.encode_sparse_ratio),
        float(config.encode_sparse_safe),
    )


FUNCTIONS: Final[dict[str, Callable[..., object]]] = {
    "encode": encode,
    "decode": decode,
    "encode_sparse_array": encode_sparse_array,
    "encode_max_depth": _cfg_integer("encode_max_depth", 1, _INT_MAX),
    "decode_max_depth": _cfg_integer("decode_max_depth", 1, _INT_MAX),
    "encode_number_precision": _cfg_integer("encode_number_precision", 1, 14),
    "encode_keep_buffer": _cfg_enum("encode_keep_buffer", _BOOL),
    "encode_invalid_numbers": _cfg_enum("encode_invalid_numbers", _INVALID),
    "decode_invalid_numbers": _cfg_enum("decode_invalid_numbers", _BOOL),
}
NAME: Final = b"cjson"
VERSION: Final = b"2.1.0"
