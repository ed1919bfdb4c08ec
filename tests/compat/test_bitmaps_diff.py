"""Bitmap commands against a real redis-server, reply bytes compared."""

from __future__ import annotations

import pytest

from tests.compat.conftest import Differ

pytestmark = pytest.mark.interop


def test_setbit_getbit(diff: Differ) -> None:
    cases: list[tuple[int | str, int | str]] = [
        (7, 1),
        (7, 1),
        (100, 1),
        (-1, 1),
        (1, 2),
        (2**32, 1),
        ("x", 1),
        (3, ""),
    ]
    for args in cases:
        diff("SETBIT", "b", *args)
    for offset in (7, 6, 10**6, -1, "x"):
        diff("GETBIT", "b", offset)
    diff("GETBIT", "nokey", 3)
    diff("GET", "b")


def test_bitcount_and_bitpos(diff: Differ) -> None:
    diff("SET", "s", b"\xff\xf0\x00\x01\x80")
    for extra in [
        (),
        (0, 0),
        (0, -1, "BIT"),
        (5, 30, "BIT"),
        (-5, -1, "bit"),
        (1,),
        (1, 2, 3),
        (1, 2, "WORD"),
        (-1, -5),
        ("a", "b"),
        (3, 100),
        (-100, -90),
    ]:
        diff("BITCOUNT", "s", *extra)
    diff("BITCOUNT", "nokey", "x", "y")
    for bit in (0, 1):
        for extra in [
            (),
            (0,),
            (2,),
            (-1,),
            (0, 0),
            (0, -1),
            (1, 3),
            (0, 11, "BIT"),
            (0, 12, "BIT"),
            (13, 38, "BIT"),
            (-3, -1, "BIT"),
            (0, 1, "BYTE"),
            (5, 3),
            (0, 1, "WORD"),
        ]:
            diff("BITPOS", "s", bit, *extra)
        diff("BITPOS", "nokey", bit)
    diff("BITPOS", "s", 2)
    diff("SET", "ones", b"\xff\xff")
    for extra in [(), (0,), (0, -1), (1,), (3, 9, "BIT")]:
        diff("BITPOS", "ones", 0, *extra)
    diff("SET", "e", "")
    diff("BITPOS", "e", 0)
    diff("BITCOUNT", "e")


def test_bitop(diff: Differ) -> None:
    diff("SET", "a", b"abc\x00\xff")
    diff("SET", "c", b"\x0f")
    for op in ("AND", "OR", "XOR", "and"):
        diff("BITOP", op, "d", "a", "c", "nokey")
        diff("GET", "d")
    diff("BITOP", "NOT", "d", "a")
    diff("GET", "d")
    diff("OBJECT", "ENCODING", "d")  # raw, however short the result
    diff("BITOP", "NOT", "d", "a", "c")
    diff("BITOP", "NAND", "d", "a")
    diff("BITOP", "AND", "d", "nokey", "nokey2")
    diff("GET", "d")
    diff("LPUSH", "l", "x")
    diff("BITOP", "AND", "d", "a", "l")


def test_bitfield(diff: Differ) -> None:
    for ops in [
        ("SET", "i8", 0, -100, "GET", "i8", 0, "GET", "u8", 0),
        (
            "INCRBY",
            "u2",
            100,
            1,
            "OVERFLOW",
            "SAT",
            "INCRBY",
            "u2",
            102,
            1,
            "INCRBY",
            "u2",
            102,
            10,
        ),
        ("OVERFLOW", "FAIL", "INCRBY", "i8", 0, -100, "GET", "i8", 0),
        ("OVERFLOW", "WRAP", "INCRBY", "i8", 0, -100, "GET", "i8", 0),
        ("SET", "u8", "#1", 255, "GET", "u8", "#1", "INCRBY", "u8", "#1", 10, "GET", "u16", 0),
        ("SET", "u8", 0, -1, "OVERFLOW", "SAT", "SET", "u8", 0, -1, "SET", "i4", 0, 100),
        ("GET", "i64", 0, "SET", "i64", 0, 2**63 - 1, "INCRBY", "i64", 0, 1),
        ("OVERFLOW", "SAT", "INCRBY", "i64", 0, 1, "INCRBY", "i64", 0, -(2**63) + 1),
        ("SET", "u63", 5, 2**63 - 1, "INCRBY", "u63", 5, 1, "GET", "u63", 5),
        ("SET", "i5", 13, 15, "INCRBY", "i5", 13, 1, "GET", "u5", 13, "GET", "i3", 17),
        ("GET", "u64", 0),
        ("GET", "i0", 0),
        ("GET", "x8", 0),
        ("GET", "i8", -1),
        ("GET", "i8"),
        ("FOO", "i8", 0),
        ("OVERFLOW", "MAYBE", "GET", "i8", 0),
        ("SET", "i8", 0, "abc"),
        ("INCRBY", "i8", 0, "1.5"),
        (),
    ]:
        diff("BITFIELD", "bf", *ops)
    diff("GET", "bf")
    # SET values near INT64_MIN saturate high in Redis's signed check (its int64 math wraps).
    for value in (-(2**63), -(2**63) + 127, -(2**63) + 128, -(2**63) + 32767, -(2**63) + 32768):
        for width in ("i8", "i16", "i63", "i64"):
            diff("BITFIELD", "sat", "OVERFLOW", "SAT", "SET", width, 3, value, "GET", width, 3)
            diff("BITFIELD", "sat", "OVERFLOW", "WRAP", "SET", width, 5, value, "GET", width, 5)
            diff("BITFIELD", "sat", "OVERFLOW", "FAIL", "SET", width, 7, value, "GET", width, 7)
    diff("GET", "sat")
    diff("BITFIELD", "nokey", "GET", "i8", 0)
    diff("EXISTS", "nokey")
    diff("BITFIELD_RO", "bf", "GET", "i8", 0, "GET", "u4", "#3")
    diff("BITFIELD_RO", "bf", "SET", "i8", 0, 1)
    diff("BITFIELD_RO", "bf")
    diff("LPUSH", "l", "x")
    diff("BITFIELD", "l", "GET", "i8", 0)
    diff.both("HELLO", "3")  # the reply carries the connection id, which differs
    diff("BITFIELD", "bf", "OVERFLOW", "FAIL", "INCRBY", "i8", 0, 1000)
