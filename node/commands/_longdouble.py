"""x86-64 `long double` arithmetic for INCRBYFLOAT and HINCRBYFLOAT, exactly as Redis does it.

Redis parses with strtold, adds in 80-bit extended precision (64-bit significand, exponents
down to 2**-16445 for subnormals, overflow at 2**16384) and prints with "%.17Lf" before
stripping trailing zeros (util.c ld2string, LD_STR_HUMAN). Python has no such type, and
doubles give visibly different answers ("10.5" + "0.1" is 10.6 in long double but
10.59999999999999964 in double), so values are exact `Fraction`s rounded to the 80-bit
format after every operation; formatting them is then exact, like glibc's printf
(round-half-even). Infinities are `float`s; NaN never survives parsing.

Inputs follow strtold in the C locale as Redis filters it (util.c string2ld): decimal or
hex ("0x1.8p1") floats, "inf"/"infinity", an optional sign; no whitespace, no trailing
bytes, no NaN, and neither overflow nor underflow to zero. Pure: no I/O.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Final

LongDouble = Fraction | float  # float only for +-inf
ZERO: Final = Fraction(0)

_MANT_BITS: Final = 64
_MIN_EXP: Final = -16445  # the smallest subnormal is 2**-16445
_MAX_BITS: Final = 16384  # every finite value is below 2**16384
_MAX_TEXT: Final = 5 * 1024  # MAX_LONG_DOUBLE_CHARS: longer texts are refused
# Decimal magnitudes beyond these are certainly out of range; checked before any big power
# of ten is built (1e4933 overflows; below ~1.8e-4951 everything rounds to zero).
_DEC_MAX_DIGITS: Final = 4934
_DEC_MIN_DIGITS: Final = -4952

_DEC: Final = re.compile(rb"([+-]?)(?:(\d+)(?:\.(\d*))?|\.(\d+))(?:[eE]([+-]?\d+))?")
_HEX: Final = re.compile(
    rb"([+-]?)0[xX](?:([0-9a-fA-F]+)(?:\.([0-9a-fA-F]*))?|\.([0-9a-fA-F]+))(?:[pP]([+-]?\d+))?"
)
_INF: Final = re.compile(rb"([+-]?)(?:inf|infinity)", re.IGNORECASE)
# Python refuses int<->str conversions above 4300 digits; bigger ones go in chunks.
_CHUNK: Final = 4000
_CHUNK_SCALE: Final[int] = 10**_CHUNK


def parse(raw: bytes | bytearray) -> LongDouble | None:
    """The long double strtold reads from `raw`, or None where Redis says "not a valid float"."""
    if not raw or len(raw) >= _MAX_TEXT:
        return None
    text = bytes(raw)
    if m := _DEC.fullmatch(text):
        sign, whole, frac, only_frac, exp = m.groups()
        digits = (whole or b"") + (frac or b"") + (only_frac or b"")
        scale = len(frac or only_frac or b"")
        value = _decimal(digits, _exponent(exp) - scale)
    elif m := _HEX.fullmatch(text):
        sign, whole, frac, only_frac, exp = m.groups()
        digits = (whole or b"") + (frac or b"") + (only_frac or b"")
        scale = 4 * len(frac or only_frac or b"")
        value = _binary(int(digits, 16), _exponent(exp) - scale)
    elif m := _INF.fullmatch(text):
        return float("-inf") if m.group(1) == b"-" else float("inf")
    else:
        return None
    if value is None:
        return None
    return -value if sign == b"-" else value


def add(a: LongDouble, b: LongDouble) -> Fraction | None:
    """a + b rounded to long double; None when the sum is NaN or infinite."""
    if isinstance(a, float) or isinstance(b, float):
        return None  # an infinity is involved: the sum is infinite or NaN
    return _round(a + b)


def format_human(value: Fraction) -> bytes:
    """ld2string's LD_STR_HUMAN: "%.17Lf", trailing zeros (and a bare '.') removed, "-0" -> "0"."""
    scaled = round(abs(value) * 10**17)  # Fraction rounds half to even, as printf does
    if not scaled:
        return b"0"
    digits = _to_digits(scaled).rjust(18, b"0")
    whole, frac = digits[:-17], digits[-17:].rstrip(b"0")
    text = whole + b"." + frac if frac else whole
    return b"-" + text if value < 0 else text


# --- helpers -------------------------------------------------------------------------------
def _exponent(raw: bytes | None) -> int:
    """An exponent's value, saturated far beyond any representable magnitude (strtold's
    exponents may have thousands of digits)."""
    if raw is None:
        return 0
    sign = -1 if raw[:1] == b"-" else 1
    body = raw.lstrip(b"+-").lstrip(b"0")
    return sign * (int(body) if len(body) <= 6 else 10**7) if body else 0


def _decimal(digits: bytes, exp10: int) -> Fraction | None:
    """digits * 10**exp10 rounded to long double; None on overflow or underflow to zero."""
    significant = digits.lstrip(b"0")
    if not significant:
        return Fraction(0)  # an exact zero is fine whatever the exponent
    magnitude = len(significant) + exp10
    if magnitude > _DEC_MAX_DIGITS or magnitude < _DEC_MIN_DIGITS:
        return None
    mantissa = _from_digits(significant)
    exact = Fraction(mantissa * 10**exp10) if exp10 >= 0 else Fraction(mantissa, 10**-exp10)
    rounded = _round(exact)
    return rounded if rounded else None  # underflow to zero: ERANGE, refused


def _binary(mantissa: int, exp2: int) -> Fraction | None:
    """mantissa * 2**exp2 rounded to long double; None on overflow or underflow to zero."""
    if not mantissa:
        return Fraction(0)
    magnitude = mantissa.bit_length() + exp2
    if magnitude > _MAX_BITS + 1 or magnitude < _MIN_EXP - 1:
        return None
    exact = Fraction(mantissa << exp2) if exp2 >= 0 else Fraction(mantissa, 1 << -exp2)
    rounded = _round(exact)
    return rounded if rounded else None


def _round(x: Fraction) -> Fraction | None:
    """x rounded to the nearest long double (ties to even); None if that is an infinity."""
    if not x:
        return Fraction(0)
    num, den = abs(x.numerator), x.denominator
    # Pick exp so that num / den / 2**exp lies in [2**63, 2**64): 64 significant bits.
    exp = num.bit_length() - den.bit_length() - _MANT_BITS
    top = exp + _MANT_BITS
    if (num >= den << top) if top >= 0 else (num << -top >= den):
        exp += 1
    exp = max(exp, _MIN_EXP)  # subnormals keep the smallest exponent and fewer bits
    if exp >= 0:
        divisor = den << exp
        q, r = divmod(num, divisor)
    else:
        divisor = den
        q, r = divmod(num << -exp, divisor)
    if 2 * r > divisor or (2 * r == divisor and q & 1):
        q += 1
    if q.bit_length() + exp > _MAX_BITS:
        return None
    value = Fraction(q << exp) if exp >= 0 else Fraction(q, 1 << -exp)
    return -value if x < 0 else value


def _from_digits(digits: bytes) -> int:
    if len(digits) <= _CHUNK:
        return int(digits)
    head, tail = digits[:-_CHUNK], digits[-_CHUNK:]
    return _from_digits(head) * _CHUNK_SCALE + int(tail)


def _to_digits(value: int) -> bytes:
    if value < _CHUNK_SCALE:
        return b"%d" % value
    head, tail = divmod(value, _CHUNK_SCALE)
    return _to_digits(head) + (b"%d" % tail).rjust(_CHUNK, b"0")
