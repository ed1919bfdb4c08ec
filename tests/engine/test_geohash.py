"""The geohash arithmetic (node/engine/geohash.py). Expected values were read from
redis-server 7.0.15 (ZSCORE after GEOADD, GEOPOS, GEOHASH, GEODIST, GEOSEARCH WITHHASH)."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from node.commands._longdouble import format_human
from node.engine import geohash as g

PALERMO = (13.361389, 38.115556)
CATANIA = (15.087269, 37.502669)

LON = st.floats(g.LONG_MIN, g.LONG_MAX)
LAT = st.floats(g.LAT_MIN, g.LAT_MAX)


def human(x: float) -> bytes:
    return format_human(Fraction(x))


def test_scores_of_known_points() -> None:
    assert g.lonlat_score(*PALERMO) == 3479099956230698
    assert g.lonlat_score(*CATANIA) == 3479447370796909
    # The upper limits are inside the ranges: their cell index is 2**26, one past the
    # last, so the hash gets bits 52 and 53.
    assert g.lonlat_score(180, g.LAT_MAX) == 13510798882111488
    assert g.lonlat_score(-180, g.LAT_MIN) == 0


def test_decoding_gives_the_cell_centre() -> None:
    lon, lat = g.score_to_lonlat(3479099956230698)
    assert (human(lon), human(lat)) == (b"13.36138933897018433", b"38.11555639549629859")
    lon, lat = g.score_to_lonlat(13510798882111488)  # clamped to the ranges
    assert (human(lon), human(lat)) == (b"180", b"85.0511287799999991")


@pytest.mark.parametrize(
    ("score", "lon", "lat"),
    [
        (-5.0, b"180", b"85.0511287799999991"),
        (1e300, b"-179.99999731779098511", b"-85.05112751263942528"),
        (-1e300, b"180", b"-85.05112751263942528"),
        (math.inf, b"-179.99999731779098511", b"-85.05112751263942528"),
        (-math.inf, b"180", b"-85.05112751263942528"),
        (9.3e18, b"180", b"85.0511287799999991"),
        (2e19, b"-179.99999731779098511", b"-85.05112751263942528"),
        (0.5, b"-179.99999731779098511", b"-85.05112751263942528"),
        (-0.5, b"-179.99999731779098511", b"-85.05112751263942528"),
        (4503599627370496.0, b"-179.99999731779098511", b"85.0511287799999991"),
        (9007199254740992.0, b"180", b"-85.05112751263942528"),
    ],
)
def test_scores_no_geoadd_made_decode_like_x86(score: float, lon: bytes, lat: bytes) -> None:
    """(uint64_t)score as gcc compiles it: truncation, and 1<<63 for what does not fit."""
    got = g.score_to_lonlat(score)
    assert (human(got[0]), human(got[1])) == (lon, lat)


def test_score_bits_conversion() -> None:
    assert g.score_bits(-1.0) == (1 << 64) - 1
    assert g.score_bits(-1e300) == 1 << 63
    assert g.score_bits(1e300) == 0
    assert g.score_bits(float(1 << 63)) == 1 << 63
    assert g.score_bits(3.9) == 3


def test_geohash_strings() -> None:
    assert g.geohash_string(3479099956230698) == b"sqc8b49rny0"
    assert g.geohash_string(3479447370796909) == b"sqdtr74hyu0"
    assert g.geohash_string(13510798882111488) == b"bp05b5048p0"
    assert g.geohash_string(1e300) == b"00bh0hbj200"


def test_distance() -> None:
    a = g.score_to_lonlat(3479099956230698)
    b = g.score_to_lonlat(3479447370796909)
    assert b"%.4f" % g.distance(*a, *b) == b"166274.1516"
    assert g.distance(*a, *a) == 0.0


def test_shapes() -> None:
    centre = g.Shape(15.0, 37.0, 1000.0, radius=200.0)
    palermo = g.score_to_lonlat(3479099956230698)
    assert b"%.4f" % (g.in_shape(centre, *palermo) or 0.0) == b"190442.4298"
    assert g.in_shape(g.Shape(15.0, 37.0, 1000.0, radius=190.0), *palermo) is None
    box = g.Shape(15.0, 37.0, 1000.0, width=400.0, height=400.0, box=True)
    assert g.in_shape(box, *palermo) is not None
    flat = g.Shape(15.0, 37.0, 1000.0, width=400.0, height=100.0, box=True)
    assert g.in_shape(flat, *palermo) is None  # 124 km north of the centre


def test_interleave_roundtrip() -> None:
    assert g.interleave(1, 0) == 1
    assert g.interleave(0, 1) == 2
    assert g.deinterleave(g.interleave(0xDEADBEEF, 0x12345678)) == (0xDEADBEEF, 0x12345678)


def test_neighbours_wrap_around() -> None:
    # Step 1: a 2x2 grid; every neighbour is one of the other three cells.
    around = g.neighbours(0, 1)
    assert around == [1, 1, 2, 2, 3, 3, 3, 3]
    # The west neighbour of column 0 is the last column.
    assert g.deinterleave(g.neighbours(0, 3)[3]) == (0, 7)


def test_estimate_step() -> None:
    assert g.estimate_step(0, 0) == 26
    assert g.estimate_step(200_000, 37) == 6
    assert g.estimate_step(200_000, 70) == 5
    assert g.estimate_step(200_000, -85) == 4
    assert g.estimate_step(math.inf, 0) == 1
    assert g.estimate_step(1, 0) == 24


def test_search_boxes_cover_palermo_query() -> None:
    boxes = g.search_boxes(g.Shape(15.0, 37.0, 1000.0, radius=200.0))
    assert len(boxes) == 4  # the other neighbours lie beyond the bounding box
    palermo = 3479099956230698
    assert any(lo <= palermo < hi for lo, hi in boxes)


def test_huge_radius_skips_repeated_neighbours() -> None:
    # Step 1 (a 2x2 grid): N and S are the same cell, so are E and W, and the four
    # corners; the centre (0, 0) is cell 3, so the scan is 3, 2, 1, 0.
    boxes = g.search_boxes(g.Shape(0.0, 0.0, 1.0, radius=math.inf))
    quarter = 1 << 50
    assert boxes == [(float(c * quarter), float((c + 1) * quarter)) for c in (3, 2, 1, 0)]


@given(LON, LAT)
def test_decode_is_near_encode(lon: float, lat: float) -> None:
    got_lon, got_lat = g.score_to_lonlat(g.lonlat_score(lon, lat))
    assert abs(got_lon - lon) < 1e-5
    assert abs(got_lat - lat) < 1e-5


@given(LON, LAT)
def test_every_point_is_inside_its_own_search(lon: float, lat: float) -> None:
    lon, lat = g.score_to_lonlat(g.lonlat_score(lon, lat))
    score = g.lonlat_score(lon, lat)
    for radius in (0.0, 1.0, 5000.0):
        boxes = g.search_boxes(g.Shape(lon, lat, 1.0, radius=radius))
        assert any(lo <= score < hi for lo, hi in boxes)
