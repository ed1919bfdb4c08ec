"""Bitmap commands (Redis's bitops.c): SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD,
BITFIELD_RO. Bitmaps are plain strings; bit 0 is the most significant bit of byte 0.

Rules: writes store a `bytearray` (Redis keeps bitmaps in "raw" strings); offsets are
limited by proto-max-bulk-len like every string; missing keys read as endless zero bits.
Range handling (negative indexes, BYTE|BIT units, the clear-bit-after-the-end rule of BITPOS)
follows Redis 7.0. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from node.commands import docs
from node.commands._args import int_arg, option, string2ll
from node.commands.registry import Acl, Flag, KeyFlag, KeyRef, key_at
from node.commands.strings import get_string, lookup_string
from node.commands.table import NODE
from node.engine import notify
from node.engine.session import Client
from node.proto import errors, resp
from node.proto.errors import CommandError

Argv = list[bytes]
BIT_OFFSET_ERROR: Final = "ERR bit offset is not an integer or out of range"
BIT_VALUE_ERROR: Final = "ERR bit is not an integer or out of range"
BITFIELD_TYPE_ERROR: Final = (
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported "
    "but i64 is."
)
_WRAP, _SAT, _FAIL = 0, 1, 2


def _bit_offset(c: Client, raw: bytes, *, hashed_width: int = 0) -> int:
    """Redis's getBitOffsetFromArgument: a bit offset (`#N` means N * width in BITFIELD),
    not negative and inside proto-max-bulk-len bytes."""
    use_hash = hashed_width and raw[:1] == b"#"
    value = string2ll(raw[1:] if use_hash else raw)
    if value is None:
        raise CommandError(BIT_OFFSET_ERROR)
    if use_hash:
        value *= hashed_width
    if value < 0 or (value >> 3) >= c.engine.config.int("proto-max-bulk-len"):
        raise CommandError(BIT_OFFSET_ERROR)
    return value


def _writable(c: Client, key: bytes, last_bit: int) -> tuple[bytearray, bool]:
    """The string at `key` as a bytearray long enough to hold `last_bit` (created or grown
    with zero bytes, as lookupStringForBitCommand does), and whether it was created or
    grew (Redis's `dirty`). Turning a shared string into a raw one changes nothing."""
    value = lookup_string(c, key)
    needed = (last_bit >> 3) + 1
    if value is None:
        data = bytearray(needed)
        c.db.set_value(key, data)
        return data, True
    if value.__class__ is not bytearray:
        value = bytearray(value)
        c.db.replace(key, value)
    assert isinstance(value, bytearray)
    if len(value) < needed:
        value.extend(bytes(needed - len(value)))
        return value, True
    return value, False


def _setbit_event(c: Client, key: bytes) -> None:
    engine = c.engine
    if engine.notify_flags:
        engine.notify(notify.STRING, b"setbit", key, c.db.index)


# --- SETBIT / GETBIT -------------------------------------------------------------------------
@NODE.command(
    "setbit",
    4,
    Flag.WRITE | Flag.DENYOOM,
    group="bitmap",
    since="2.2.0",
    summary="Sets or clears the bit at offset in the string value stored at key",
    complexity="O(1)",
    acl=Acl.BITMAP,
    keys=[key_at(1, KeyFlag.RW | KeyFlag.ACCESS | KeyFlag.UPDATE)],
    args=(docs.key("key", 0), docs.integer("offset"), docs.integer("value")),
)
def setbit(c: Client, argv: Argv) -> bytes:
    offset = _bit_offset(c, argv[2])
    bit = string2ll(argv[3])
    if bit not in (0, 1):
        raise CommandError(BIT_VALUE_ERROR)
    data, grown = _writable(c, argv[1], offset)
    index, mask = offset >> 3, 0x80 >> (offset & 7)
    old = 1 if data[index] & mask else 0
    # Redis signals only a new or longer string, or a bit that really flipped.
    if grown or old != bit:
        if bit:
            data[index] |= mask
        else:
            data[index] &= ~mask & 0xFF
        c.db.touch(argv[1])
        _setbit_event(c, argv[1])
        c.engine.dirty += 1
    return resp.ONE if old else resp.ZERO


@NODE.command(
    "getbit",
    3,
    Flag.READONLY | Flag.FAST,
    group="bitmap",
    since="2.2.0",
    summary="Returns the bit value at offset in the string value stored at key",
    complexity="O(1)",
    acl=Acl.BITMAP,
    keys=[key_at(1, KeyFlag.RO | KeyFlag.ACCESS)],
    args=(docs.key("key", 0), docs.integer("offset")),
)
def getbit(c: Client, argv: Argv) -> bytes:
    offset = _bit_offset(c, argv[2])
    value = get_string(c, argv[1])
    index = offset >> 3
    if value is None or index >= len(value):
        return resp.ZERO
    return resp.ONE if value[index] & (0x80 >> (offset & 7)) else resp.ZERO


# --- ranges ----------------------------------------------------------------------------------
def _unit_is_bit(raw: bytes) -> bool:
    low = raw.lower()
    if low == b"bit":
        return True
    if low == b"byte":
        return False
    raise CommandError(errors.SYNTAX)


def _bit_range(start: int, end: int, length: int, is_bit: bool) -> tuple[int, int] | None:
    """Normalise a BITCOUNT/BITPOS range to inclusive bit positions, or None when empty."""
    total = length * 8 if is_bit else length
    if start < 0:
        start += total
    if end < 0:
        end += total
    start, end = max(start, 0), min(max(end, 0), total - 1)
    if start > end:
        return None
    return (start, end) if is_bit else (start * 8, end * 8 + 7)


def _bits(data: bytes | bytearray, first: int, last: int) -> tuple[int, int]:
    """The bits first..last (inclusive) as an integer (first bit most significant), and
    how many there are."""
    segment = int.from_bytes(data[first >> 3 : (last >> 3) + 1], "big")
    width = last - first + 1
    segment >>= 7 - (last & 7)
    return segment & ((1 << width) - 1), width


# BITCOUNT's and BITPOS's BYTE|BIT: what their start and end count in.
_INDEX_UNIT: Final = docs.oneof(
    "index_unit",
    docs.token("byte", "BYTE"),
    docs.token("bit", "BIT"),
    optional=True,
    since="7.0.0",
)


@NODE.command(
    "bitcount",
    -2,
    Flag.READONLY,
    group="bitmap",
    since="2.6.0",
    summary="Count set bits in a string",
    complexity="O(N)",
    acl=Acl.BITMAP,
    keys=[key_at(1, KeyFlag.RO | KeyFlag.ACCESS)],
    history=(("7.0.0", "Added the `BYTE|BIT` option."),),
    args=(
        docs.key("key", 0),
        docs.block(
            "index",
            docs.integer("start"),
            docs.integer("end"),
            _INDEX_UNIT,
            optional=True,
        ),
    ),
)
def bitcount(c: Client, argv: Argv) -> bytes:
    value = get_string(c, argv[1])  # a missing key counts 0 before the range is read
    if value is None:
        return resp.ZERO
    if len(argv) == 2:
        return resp.integer(int.from_bytes(value, "big").bit_count())
    if len(argv) not in (4, 5):
        raise CommandError(errors.SYNTAX)
    start, end = int_arg(argv[2]), int_arg(argv[3])
    is_bit = _unit_is_bit(argv[4]) if len(argv) == 5 else False
    if start < 0 and end < 0 and start > end:
        return resp.ZERO
    bounds = _bit_range(start, end, len(value), is_bit)
    if bounds is None:
        return resp.ZERO
    bits, _ = _bits(value, *bounds)
    return resp.integer(bits.bit_count())


@NODE.command(
    "bitpos",
    -3,
    Flag.READONLY,
    group="bitmap",
    since="2.8.7",
    summary="Find first bit set or clear in a string",
    complexity="O(N)",
    acl=Acl.BITMAP,
    keys=[key_at(1, KeyFlag.RO | KeyFlag.ACCESS)],
    history=(("7.0.0", "Added the `BYTE|BIT` option."),),
    args=(
        docs.key("key", 0),
        docs.integer("bit"),
        docs.block(
            "index",
            docs.integer("start"),
            docs.block(
                "end_index",
                docs.integer("end"),
                _INDEX_UNIT,
                optional=True,
            ),
            optional=True,
        ),
    ),
)
def bitpos(c: Client, argv: Argv) -> bytes:
    bit = int_arg(argv[2])
    if bit not in (0, 1):
        raise CommandError("ERR The bit argument must be 1 or 0.")
    value = get_string(c, argv[1])
    if value is None:  # an endless run of zero bits
        return resp.MINUS_ONE if bit else resp.ZERO
    if len(argv) > 6:
        raise CommandError(errors.SYNTAX)
    end_given = len(argv) >= 5
    if len(argv) == 3:
        bounds = _bit_range(0, -1, len(value), False)
    else:
        start = int_arg(argv[3])
        is_bit = _unit_is_bit(argv[5]) if len(argv) == 6 else False
        end = int_arg(argv[4]) if end_given else -1
        bounds = _bit_range(start, end, len(value), is_bit)
    if bounds is None:
        return resp.MINUS_ONE
    first, last = bounds
    bits, width = _bits(value, first, last)
    if not bit:
        bits ^= (1 << width) - 1
    if bits:
        return resp.integer(first + width - bits.bit_length())
    if bit or end_given:
        return resp.MINUS_ONE
    return resp.integer(last + 1)  # clear bits continue past the end of the string


# --- BITOP -----------------------------------------------------------------------------------
@NODE.command(
    "bitop",
    -4,
    Flag.WRITE | Flag.DENYOOM,
    group="bitmap",
    since="2.6.0",
    summary="Perform bitwise operations between strings",
    complexity="O(N)",
    acl=Acl.BITMAP,
    keys=[
        key_at(2, KeyFlag.OW | KeyFlag.UPDATE),
        key_at(3, KeyFlag.RO | KeyFlag.ACCESS, lastkey=-1),
    ],
    args=(docs.string("operation"), docs.key("destkey", 0), docs.key("key", 1, multiple=True)),
)
def bitop(c: Client, argv: Argv) -> bytes:
    op = argv[1].lower()
    if op not in (b"and", b"or", b"xor", b"not"):
        raise CommandError(errors.SYNTAX)
    sources = argv[3:]
    if op == b"not" and len(sources) != 1:
        raise CommandError("ERR BITOP NOT must be called with a single source key.")
    values = [get_string(c, key) or b"" for key in sources]
    size = max(len(v) for v in values)
    dest = argv[2]
    engine = c.engine
    if size == 0:
        removed = c.db.delete(dest)
        if removed:
            if engine.notify_flags:
                engine.notify(notify.GENERIC, b"del", dest, c.db.index)
            engine.dirty += 1
        return resp.ZERO
    ints = [int.from_bytes(bytes(v).ljust(size, b"\0"), "big") for v in values]
    result = ints[0]
    if op == b"not":
        result = ~result & ((1 << (size * 8)) - 1)
    for other in ints[1:]:
        if op == b"and":
            result &= other
        elif op == b"or":
            result |= other
        else:
            result ^= other
    # A bytearray: Redis stores BITOP's result as a raw string (OBJECT ENCODING says so,
    # even for a short or numeric-looking result).
    c.db.set_value(dest, bytearray(result.to_bytes(size, "big")))
    if engine.notify_flags:
        engine.notify(notify.STRING, b"set", dest, c.db.index)
    engine.dirty += 1
    return resp.integer(size)


# --- BITFIELD --------------------------------------------------------------------------------
@dataclass(slots=True)
class _FieldOp:
    kind: bytes  # get | set | incrby
    signed: bool
    width: int
    offset: int
    value: int = 0
    overflow: int = _WRAP


def _field_type(raw: bytes) -> tuple[bool, int]:
    sign = raw[:1].lower()
    width = string2ll(raw[1:])
    if sign not in (b"i", b"u") or width is None:
        raise CommandError(BITFIELD_TYPE_ERROR)
    signed = sign == b"i"
    if not 1 <= width <= (64 if signed else 63):
        raise CommandError(BITFIELD_TYPE_ERROR)
    return signed, width


def _parse_bitfield(c: Client, argv: Argv, read_only: bool) -> list[_FieldOp]:
    ops: list[_FieldOp] = []
    overflow = _WRAP
    i = 2
    while i < len(argv):
        word = argv[i].lower()
        arity = {b"get": 3, b"set": 4, b"incrby": 4, b"overflow": 2}.get(word)
        if arity is None or i + arity > len(argv):
            raise CommandError(errors.SYNTAX)
        if word == b"overflow":
            mode = argv[i + 1].lower()
            modes = {b"wrap": _WRAP, b"sat": _SAT, b"fail": _FAIL}
            if mode not in modes:
                raise CommandError("ERR Invalid OVERFLOW type specified")
            overflow = modes[mode]
        else:
            signed, width = _field_type(argv[i + 1])
            offset = _bit_offset(c, argv[i + 2], hashed_width=width)
            value = int_arg(argv[i + 3]) if arity == 4 else 0
            if read_only and word != b"get":
                raise CommandError("ERR BITFIELD_RO only supports the GET subcommand")
            ops.append(_FieldOp(word, signed, width, offset, value, overflow))
        i += arity
    return ops


def _get_field(data: bytes | bytearray, op: _FieldOp) -> int:
    last = op.offset + op.width - 1
    padded = bytes(data[op.offset >> 3 : (last >> 3) + 1]).ljust(
        (last >> 3) - (op.offset >> 3) + 1, b"\0"
    )
    value, _ = _bits(padded, op.offset & 7, (op.offset & 7) + op.width - 1)
    if op.signed and value >> (op.width - 1):
        value -= 1 << op.width
    return value


def _set_field(data: bytearray, op: _FieldOp, value: int) -> None:
    first, last = op.offset, op.offset + op.width - 1
    lo, hi = first >> 3, (last >> 3) + 1
    span = (hi - lo) * 8
    shift = span - 1 - (last - lo * 8)
    field_mask = ((1 << op.width) - 1) << shift
    current = int.from_bytes(data[lo:hi], "big")
    current = (current & ~field_mask) | ((value & ((1 << op.width) - 1)) << shift)
    data[lo:hi] = current.to_bytes(hi - lo, "big")


def _reads_as_too_high(op: _FieldOp, value: int) -> bool:
    """Redis's signed check computes `max - value` in int64 arithmetic: for a SET value so
    far below a narrow field's range that the difference passes INT64_MAX, it wraps negative
    and the check reports an overflow upwards (so SAT stores the maximum, not the minimum)."""
    return (
        op.signed
        and op.kind == b"set"
        and op.width < 64
        and ((1 << (op.width - 1)) - 1 - value > (1 << 63) - 1)
    )


def _fit(op: _FieldOp, value: int) -> int | None:
    """Apply the overflow policy (Redis's check{Signed,Unsigned}BitfieldOverflow) to a SET
    value or an INCRBY result; None means FAIL."""
    width = op.width
    if op.signed:
        high, low = (1 << (width - 1)) - 1, -(1 << (width - 1))
    else:
        high, low = (1 << width) - 1, 0
        if op.kind == b"set":
            value %= 1 << 64  # Redis reads the SET value as int64 and stores it as uint64
    if low <= value <= high:
        return value
    if op.overflow == _FAIL:
        return None
    if op.overflow == _SAT:
        return high if value > high or _reads_as_too_high(op, value) else low
    wrapped = value % (1 << width)
    if op.signed and wrapped > high:
        wrapped -= 1 << width
    return wrapped


def _bitfield(c: Client, argv: Argv, read_only: bool) -> bytes:
    ops = _parse_bitfield(c, argv, read_only)
    key = argv[1]
    writes = any(op.kind != b"get" for op in ops)
    if writes:
        last_bit = max(op.offset + op.width - 1 for op in ops if op.kind != b"get")
        data: bytes | bytearray = _writable(c, key, last_bit)[0]
    else:
        data = get_string(c, key) or b""
    parts = [resp.array_header(len(ops))]
    changes = 0
    for op in ops:
        old = _get_field(data, op)
        if op.kind == b"get":
            parts.append(resp.integer(old))
            continue
        new = _fit(op, op.value if op.kind == b"set" else old + op.value)
        if new is None:
            parts.append(resp.null(c.resp))
            continue
        assert isinstance(data, bytearray)
        _set_field(data, op, new)
        changes += 1
        parts.append(resp.integer(old if op.kind == b"set" else new))
    if changes:
        c.db.touch(key)
        _setbit_event(c, key)
        c.engine.dirty += changes
    return b"".join(parts)


def _bitfield_keys(argv: Argv) -> list[KeyRef]:
    """Redis's bitfieldGetKeys: the key is read-only unless a SET/INCRBY (or anything it does
    not understand) appears."""
    i = 2
    while i < len(argv):
        word, remaining = option(argv[i]), len(argv) - i - 1
        if word == b"GET" and remaining >= 2:
            i += 3
        elif word == b"OVERFLOW" and remaining >= 1:
            i += 2
        else:  # SET/INCRBY, or a syntax error that is safer treated as a write
            return [(1, KeyFlag.RW | KeyFlag.ACCESS | KeyFlag.UPDATE)]
    return [(1, KeyFlag.RO | KeyFlag.ACCESS)]


@NODE.command(
    "bitfield",
    -2,
    Flag.WRITE | Flag.DENYOOM,
    group="bitmap",
    since="3.2.0",
    summary="Perform arbitrary bitfield integer operations on strings",
    complexity="O(1) for each subcommand specified",
    acl=Acl.BITMAP,
    keys=[
        key_at(
            1,
            KeyFlag.RW | KeyFlag.ACCESS | KeyFlag.UPDATE | KeyFlag.VARIABLE_FLAGS,
            notes="This command allows both access and modification of the key",
        )
    ],
    getkeys=_bitfield_keys,
    args=(
        docs.key("key", 0),
        docs.oneof(
            "operation",
            docs.block(
                "encoding_offset", docs.string("encoding"), docs.integer("offset"), token="GET"
            ),
            docs.block(
                "write",
                docs.oneof(
                    "wrap_sat_fail",
                    docs.token("wrap", "WRAP"),
                    docs.token("sat", "SAT"),
                    docs.token("fail", "FAIL"),
                    token="OVERFLOW",
                    optional=True,
                ),
                docs.oneof(
                    "write_operation",
                    docs.block(
                        "encoding_offset_value",
                        docs.string("encoding"),
                        docs.integer("offset"),
                        docs.integer("value"),
                        token="SET",
                    ),
                    docs.block(
                        "encoding_offset_increment",
                        docs.string("encoding"),
                        docs.integer("offset"),
                        docs.integer("increment"),
                        token="INCRBY",
                    ),
                ),
            ),
            optional=True,
            multiple=True,
        ),
    ),
)
def bitfield(c: Client, argv: Argv) -> bytes:
    return _bitfield(c, argv, read_only=False)


@NODE.command(
    "bitfield_ro",
    -2,
    Flag.READONLY | Flag.FAST,
    group="bitmap",
    since="6.0.0",
    summary="Perform arbitrary bitfield integer operations on strings. Read-only variant of BITFIELD",
    complexity="O(1) for each subcommand specified",
    acl=Acl.BITMAP,
    keys=[key_at(1, KeyFlag.RO | KeyFlag.ACCESS)],
    args=(
        docs.key("key", 0),
        docs.block(
            "encoding_offset",
            docs.string("encoding"),
            docs.integer("offset"),
            token="GET",
            optional=True,
            multiple=True,
            multiple_token=True,
        ),
    ),
)
def bitfield_ro(c: Client, argv: Argv) -> bytes:
    return _bitfield(c, argv, read_only=True)
