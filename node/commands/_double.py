"""Reading doubles the way Redis 7.0 does: C `strtod` and util.c's getDoubleFromObject.

- `strtod` follows glibc in the C locale: optional leading whitespace, a sign, then a decimal
  float ("1.", ".5", "1e-3"), a hex float ("0x1.8p3"), "inf"/"infinity" or "nan[(...)]",
  any case; it reads the longest prefix it can and reports where it stopped. Decimal and hex
  texts are rounded correctly by Python, as by glibc; overflow gives +-inf.
- `double_arg` is getDoubleFromObject (ZADD scores, ZINCRBY, WEIGHTS, GEOADD...): the whole
  argument must be the number, no leading space, no NaN, and no overflow to inf or
  underflow to zero (strtod's ERANGE); subnormal results are accepted.
- `range_double` is what zslParseRange accepts: strtod over the argument read as a C string
  (a NUL ends it), leading whitespace allowed, an empty text is 0 and overflow is +-inf.
Pure: no I/O.
"""

from __future__ import annotations

import math
import re
from typing import Final

from node.proto import errors
from node.proto.errors import CommandError

_SPACE: Final = b" \t\n\v\f\r"
_NUMBER: Final = re.compile(
    rb"""[+-]?(?:
        (?P<hex>0[xX](?:[0-9a-fA-F]+(?:\.[0-9a-fA-F]*)?|\.[0-9a-fA-F]+))(?:[pP][+-]?[0-9]+)?
      | (?P<dec>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?
      | (?P<inf>[iI][nN][fF](?:[iI][nN][iI][tT][yY])?)
      | [nN][aA][nN](?:\([0-9A-Za-z_]*\))?
    )""",
    re.VERBOSE,
)
_NONZERO_HEX: Final = frozenset(b"123456789abcdefABCDEF")
_PLAIN: Final = b"0123456789.eE+-"


def strtod(text: bytes, pos: int = 0) -> tuple[float, int, bool]:
    """C strtod from `pos`: (value, end, erange). `end` is `pos` when nothing was converted
    (leading whitespace included, as in C); `erange` flags overflow or underflow to zero."""
    start = pos
    while pos < len(text) and text[pos] in _SPACE:
        pos += 1
    m = _NUMBER.match(text, pos)
    if m is None:
        return 0.0, start, False
    literal = m.group(0)
    if m.group("inf") is not None:
        return (-math.inf if literal[0] == 0x2D else math.inf), m.end(), False
    hex_mantissa = m.group("hex")
    if hex_mantissa is not None:
        try:
            value = float.fromhex(literal.decode())
        except OverflowError:
            value = -math.inf if literal[0] == 0x2D else math.inf
        nonzero = any(ch in _NONZERO_HEX for ch in hex_mantissa[2:])
    elif m.group("dec") is not None:
        value = float(literal)
        nonzero = any(0x31 <= ch <= 0x39 for ch in m.group("dec"))
    else:
        return math.nan, m.end(), False
    erange = math.isinf(value) or (value == 0.0 and nonzero)
    return value, m.end(), erange


def parse_double(raw: bytes) -> float | None:
    """getDoubleFromObject: the double `raw` spells exactly, or None."""
    # Plain decimal text: within these bytes Python's float() and a whole-string strtod
    # accept the same spellings. An infinite result is an overflow; a zero one an underflow
    # unless the digits before the exponent are all zeros.
    if raw and not raw.translate(None, _PLAIN):
        try:
            value = float(raw)
        except ValueError:
            return None
        if value - value != 0.0:
            return None
        if value == 0.0 and raw.lower().partition(b"e")[0].strip(b"+-.0"):
            return None
        return value
    if not raw or raw[0] in _SPACE:
        return None
    value, end, erange = strtod(raw)
    if end != len(raw) or erange or math.isnan(value):
        return None
    return value


def double_arg(raw: bytes, message: str = errors.NOT_FLOAT) -> float:
    """getDoubleFromObjectOrReply: the double in `raw`, else `message` as the error."""
    value = parse_double(raw)
    if value is None:
        raise CommandError(message)
    return value


def range_double(raw: bytes) -> float | None:
    """A score-range bound without its '(' (zslParseRange's strtod use), or None."""
    text = raw.split(b"\0", 1)[0]
    value, end, _ = strtod(text)
    if end != len(text) or math.isnan(value):
        return None
    return value
