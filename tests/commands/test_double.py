"""Double parsing (node/commands/_double.py): C strtod and Redis's getDoubleFromObject."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from node.commands._double import parse_double, range_double, strtod


def exact(raw: bytes) -> float | None:
    """getDoubleFromObject through strtod alone (no fast path)."""
    if not raw or raw[0] in b" \t\n\v\f\r":
        return None
    value, end, erange = strtod(raw)
    return None if end != len(raw) or erange or math.isnan(value) else value


@settings(max_examples=500)
@given(
    st.text(alphabet="0123456789.eE+-", max_size=12).map(str.encode)
    | st.sampled_from([b"1e400", b"1e-400", b"0e-999", b"-0.000e-999", b"9" * 400])
)
def test_fast_path_agrees_with_strtod(raw: bytes) -> None:
    got, want = parse_double(raw), exact(raw)
    assert got == want
    if got is not None and want is not None:
        assert math.copysign(1, got) == math.copysign(1, want)


@pytest.mark.parametrize(
    ("text", "value", "end"),
    [
        (b"  1.5x", 1.5, 5),
        (b"0x1p-2", 0.25, 6),
        (b"0xg", 0.0, 1),
        (b"1e+x", 1.0, 1),
        (b"-Infinity", -math.inf, 9),
        (b"infinit", math.inf, 3),
        (b"x", 0.0, 0),
        (b" ", 0.0, 0),
    ],
)
def test_strtod_stops_where_c_does(text: bytes, value: float, end: int) -> None:
    assert strtod(text)[:2] == (value, end)


def test_range_bounds_are_c_strings() -> None:
    assert range_double(b"") == 0.0
    assert range_double(b" 2") == 2.0
    assert range_double(b"2\x00junk") == 2.0
    assert range_double(b"1e400") == math.inf
    assert range_double(b"nan") is None
    assert range_double(b"2 ") is None
