"""`bit`: LuaBitOp 1.0 as Redis ships it. 32-bit operations on Lua numbers.

A number becomes 32 bits the LuaBitOp way: add 2^52 + 2^51 in double arithmetic and keep the
low 32 bits of the result's representation, which rounds to nearest-even and wraps modulo
2^32 (NaN and infinities give 0). Results are signed 32-bit numbers. Arguments that are not
numbers (or numeric strings) raise "bad argument #n to 'f' (number expected, got <type>)".
Pure.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Final

from node.engine.lualib.values import LuaView, check_number

_MAGIC: Final = 6755399441055744.0  # 2^52 + 2^51
_DOUBLE: Final = struct.Struct("<d")
_LOW: Final = struct.Struct("<I4x")
_HEX: Final = b"0123456789abcdef"

Args = tuple[object, ...]


def _bits(value: float) -> int:
    """The unsigned 32 bits LuaBitOp's barg() takes from a number."""
    return int(_LOW.unpack(_DOUBLE.pack(value + _MAGIC))[0])


def _arg(args: Args, narg: int, view: LuaView) -> int:
    return _bits(check_number(args, narg, view))


def _signed(bits: int) -> float:
    bits &= 0xFFFFFFFF
    return float(bits - (1 << 32) if bits & 0x80000000 else bits)


def tobit(view: LuaView, *args: object) -> float:
    return _signed(_arg(args, 1, view))


def bnot(view: LuaView, *args: object) -> float:
    return _signed(~_arg(args, 1, view))


def _fold(op: Callable[[int, int], int]) -> Callable[..., float]:
    def variadic(view: LuaView, *args: object) -> float:
        acc = _arg(args, 1, view)
        for narg in range(2, len(args) + 1):
            acc = op(acc, _arg(args, narg, view))
        return _signed(acc)

    return variadic


band: Final = _fold(lambda a, b: a & b)
bor: Final = _fold(lambda a, b: a | b)
bxor: Final = _fold(lambda a, b: a ^ b)


def _shift(op: Callable[[int, int], int]) -> Callable[..., float]:
    def shifted(view: LuaView, *args: object) -> float:
        value = _arg(args, 1, view)
        count = _arg(args, 2, view) & 31
        return _signed(op(value, count))

    return shifted


lshift: Final = _shift(lambda b, n: b << n)
rshift: Final = _shift(lambda b, n: b >> n)
arshift: Final = _shift(lambda b, n: (b - (1 << 32) if b & 0x80000000 else b) >> n)
rol: Final = _shift(lambda b, n: (b << n) | (b >> (32 - n)) if n else b)
ror: Final = _shift(lambda b, n: (b >> n) | (b << (32 - n)) if n else b)


def bswap(view: LuaView, *args: object) -> float:
    return _signed(int.from_bytes(_arg(args, 1, view).to_bytes(4, "little"), "big"))


def tohex(view: LuaView, *args: object) -> bytes:
    value = _arg(args, 1, view)
    digits = 8 if len(args) < 2 else _signed(_arg(args, 2, view))
    upper = digits < 0
    # C negates an int: -INT_MIN stays negative, and a negative count prints no digit.
    count = 0 if digits == -2147483648.0 else min(int(abs(digits)), 8)
    out = bytearray(count)
    for i in range(count - 1, -1, -1):
        out[i] = _HEX[value & 15]
        value >>= 4
    return bytes(out).upper() if upper else bytes(out)


FUNCTIONS: Final[dict[str, Callable[..., object]]] = {
    "tobit": tobit,
    "bnot": bnot,
    "band": band,
    "bor": bor,
    "bxor": bxor,
    "lshift": lshift,
    "rshift": rshift,
    "arshift": arshift,
    "rol": rol,
    "ror": ror,
    "bswap": bswap,
    "tohex": tohex,
}
