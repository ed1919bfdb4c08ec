"""The compact blob encodings inside RDB values: listpack, intset, ziplist, zipmap, plus
CRC-64 and LZF. Byte layouts are checked against what Redis 7.0 writes (values verified on
redis-server 7.0.15 with DUMP)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from node.persistence import blobs
from node.persistence.blobs import FormatError

_items = st.one_of(st.binary(max_size=5000), st.integers(-(2**63), 2**63 - 1))


def test_crc64_check_value() -> None:
    assert blobs.crc64(b"123456789") == 0xE9C6D914C4B8D9CA
    assert blobs.crc64(b"6789", blobs.crc64(b"12345")) == 0xE9C6D914C4B8D9CA


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        (0, b"\x00\x01"),
        (127, b"\x7f\x01"),
        (128, b"\xc0\x80\x02"),
        (-1, b"\xdf\xff\x02"),
        (-4096, b"\xd0\x00\x02"),
        (4095, b"\xcf\xff\x02"),
        (4096, b"\xf1\x00\x10\x03"),
        (-32768, b"\xf1\x00\x80\x03"),
        (40000, b"\xf2\x40\x9c\x00\x04"),
        (2**31 - 1, b"\xf3\xff\xff\xff\x7f\x05"),
        (2**31, b"\xf4" + (2**31).to_bytes(8, "little") + b"\x09"),
    ],
)
def test_listpack_integer_encodings(value: int, encoded: bytes) -> None:
    blob = blobs.listpack_encode([value])
    assert blob[6:-1] == encoded
    assert blobs.listpack_encode([b"%d" % value]) == blob  # canonical text is an integer
    assert blobs.listpack_decode(blob) == [value]


def test_listpack_strings_and_header() -> None:
    blob = blobs.listpack_encode([b"ab", b"007", b"x" * 100, b"y" * 5000])
    assert blob[:4] == len(blob).to_bytes(4, "little")
    assert blob[4:6] == (4).to_bytes(2, "little")
    assert blob[6:10] == b"\x82ab\x03"
    assert blob[10:15] == b"\x83007\x04"  # not canonical: stays a string
    assert blob[15:17] == b"\xe0\x64"
    assert blob[-1] == 0xFF
    assert blobs.listpack_decode(blob) == [b"ab", b"007", b"x" * 100, b"y" * 5000]


@given(st.lists(_items, max_size=40))
def test_listpack_round_trip(items: list[bytes | int]) -> None:
    decoded = blobs.listpack_decode(blobs.listpack_encode(items))
    assert [blobs.item_bytes(x) for x in decoded] == [blobs.item_bytes(x) for x in items]


def test_listpack_unknown_count_header() -> None:
    blob = blobs.listpack_encode([1] * 70000)
    assert blob[4:6] == b"\xff\xff"
    assert len(blobs.listpack_decode(blob)) == 70000


@given(st.sets(st.integers(-(2**63), 2**63 - 1), min_size=1, max_size=30))
def test_intset_round_trip(values: set[int]) -> None:
    blob = blobs.intset_encode(list(values))
    width = int.from_bytes(blob[:4], "little")
    lo, hi = min(values), max(values)
    assert width == (
        2 if lo >= -(2**15) and hi < 2**15 else 4 if lo >= -(2**31) and hi < 2**31 else 8
    )
    assert blobs.intset_decode(blob) == sorted(values)


def _ziplist(entries: list[bytes]) -> bytes:
    body = b"".join(entries)
    total = 10 + len(body) + 1
    return (
        total.to_bytes(4, "little")
        + (0).to_bytes(4, "little")
        + len(entries).to_bytes(2, "little")
        + body
        + b"\xff"
    )


def test_ziplist_decode() -> None:
    entries = [
        b"\x00\x02ab",  # prevlen 0, 6-bit string
        b"\x04\xc0\x39\x30",  # int16 12345
        b"\x04\xf1",  # immediate 0
        b"\x02\xfe\x80",  # int8 -128
        b"\x03\xf0\x00\x00\x80",  # int24 -8388608
        b"\x05\x40\x41" + b"z" * 65,  # 14-bit string
    ]
    assert blobs.ziplist_decode(_ziplist(entries)) == [
        b"ab",
        b"12345",
        b"0",
        b"-128",
        b"-8388608",
        b"z" * 65,
    ]
    with pytest.raises(FormatError):
        blobs.ziplist_decode(_ziplist([b"\x00\x02ab", b"\x09\xf1"]))  # wrong prevlen


def test_zipmap_decode() -> None:
    blob = b"\x02\x01a\x02\x00xy\x01b\x01\x02zQQ\xff"
    assert blobs.zipmap_decode(blob) == [(b"a", b"xy"), (b"b", b"z")]


def test_lzf_round_trip_and_budget() -> None:
    data = b"hello " * 20
    packed = blobs.lzf_compress(data)
    assert packed is not None and len(packed) <= len(data) - 4
    assert blobs.lzf_decompress(packed, len(data)) == data
    assert blobs.lzf_compress(b"abcd") is None
    # liblzf's conservative end check: Redis stores this 24-byte intset uncompressed.
    assert blobs.lzf_compress(bytes.fromhex("080000000200000001" + "00" * 12 + "010000")) is None


@given(st.binary(max_size=80), st.integers(0, 200))
def test_decoders_never_crash(data: bytes, length: int) -> None:
    for decode in (
        blobs.listpack_decode,
        blobs.intset_decode,
        blobs.ziplist_decode,
        blobs.zipmap_decode,
    ):
        try:
            decode(data)
        except FormatError:
            pass
    try:
        blobs.lzf_decompress(data, length)
    except FormatError:
        pass
