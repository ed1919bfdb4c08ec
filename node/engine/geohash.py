"""Redis 7.0's geohash arithmetic (geohash.c, geohash_helper.c), bit for bit.

A geo set is a sorted set whose scores are 52-bit geohashes: 26 bits of latitude (even bit
positions) interleaved with 26 bits of longitude (odd positions), each the cell index of the
coordinate in its range, longitude -180..180 and latitude -85.05112878..85.05112878 (the
Web-Mercator limits). Every float operation below is written in the order Redis's C code
performs it, because replies print 17 decimals and distances are compared with `>`: a
reordered product changes the last bit and, sometimes, the answer.

Rules that matter for exactness:
- Scores become cell indexes the way x86-64 converts a double to uint64 (`score_bits`), so
  scores that no GEOADD produced (negative, fractional, huge) decode to what Redis prints.
- Decoding gives the cell centre, clamped to the ranges; a 32-bit index that overflows when
  incremented wraps to 0 as the C `uint32_t` does.
- The search covers the centre cell and its 8 neighbours at a step estimated from the radius
  (`search_boxes`), then filters by the exact haversine distance (`distance`), or by the
  rectangle test for boxes (`in_box`).
- `distance` returns NaN where glibc's asin would (an argument just above 1 after
  rounding); Python's asin would raise.
Pure: no I/O, no state.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

LONG_MIN: Final = -180.0
LONG_MAX: Final = 180.0
LAT_MIN: Final = -85.05112878
LAT_MAX: Final = 85.05112878
STEP_MAX: Final = 26  # 52 bits
EARTH_RADIUS_M: Final = 6372797.560856
_MERCATOR_MAX: Final = 20037726.37
_D_R: Final = math.pi / 180.0
_BASE32: Final = b"0123456789bcdefghjkmnpqrstuvwxyz"

_U64: Final = (1 << 64) - 1
_U32: Final = (1 << 32) - 1
_EVEN: Final = 0x5555555555555555
_ODD: Final = 0xAAAAAAAAAAAAAAAA
_TWO63: Final = 9223372036854775808.0
_INDEFINITE: Final = 1 << 63  # what cvttsd2si gives for out-of-range doubles

Range = tuple[float, float]  # (min, max)
GEO_LONG: Final[Range] = (LONG_MIN, LONG_MAX)
GEO_LAT: Final[Range] = (LAT_MIN, LAT_MAX)
STD_LAT: Final[Range] = (-90.0, 90.0)  # the standard geohash ranges, for GEOHASH strings


@dataclass(frozen=True, slots=True)
class Area:
    """The rectangle covered by one cell (geohashDecode's GeoHashArea)."""

    lon_min: float
    lon_max: float
    lat_min: float
    lat_max: float


@dataclass(frozen=True, slots=True)
class Shape:
    """A search area: a circle (`radius`) or an axis-aligned box (`width` x `height`), in
    the request's unit, `to_meters` converting that unit to meters (Redis's GeoShape)."""

    lon: float
    lat: float
    to_meters: float
    radius: float = 0.0
    width: float = 0.0
    height: float = 0.0
    box: bool = False


# --- bit interleaving ------------------------------------------------------------------------
def _spread(v: int) -> int:
    """The low 32 bits of `v` moved to the even bit positions of a 64-bit word."""
    v = (v | (v << 16)) & 0x0000FFFF0000FFFF
    v = (v | (v << 8)) & 0x00FF00FF00FF00FF
    v = (v | (v << 4)) & 0x0F0F0F0F0F0F0F0F
    v = (v | (v << 2)) & 0x3333333333333333
    return (v | (v << 1)) & _EVEN


def _squeeze(v: int) -> int:
    """The inverse of `_spread`: the even bits of `v` packed into 32 bits."""
    v &= _EVEN
    v = (v | (v >> 1)) & 0x3333333333333333
    v = (v | (v >> 2)) & 0x0F0F0F0F0F0F0F0F
    v = (v | (v >> 4)) & 0x00FF00FF00FF00FF
    v = (v | (v >> 8)) & 0x0000FFFF0000FFFF
    return (v | (v >> 16)) & _U32


def interleave(lat_index: int, lon_index: int) -> int:
    """Latitude bits in the even positions, longitude bits in the odd ones."""
    return _spread(lat_index & _U32) | (_spread(lon_index & _U32) << 1)


def deinterleave(bits: int) -> tuple[int, int]:
    """(latitude index, longitude index) of a 64-bit interleaved word."""
    return _squeeze(bits), _squeeze(bits >> 1)


# --- encode / decode -----------------------------------------------------------------------
def encode(
    lon: float,
    lat: float,
    step: int = STEP_MAX,
    lon_range: Range = GEO_LONG,
    lat_range: Range = GEO_LAT,
) -> int | None:
    """geohashEncode: the `2*step`-bit hash of a point, or None outside the Mercator limits
    or the given ranges."""
    if not 0 < step <= 32:
        return None
    if lon > LONG_MAX or lon < LONG_MIN or lat > LAT_MAX or lat < LAT_MIN:
        return None
    if not (lat_range[0] <= lat <= lat_range[1] and lon_range[0] <= lon <= lon_range[1]):
        return None
    lat_offset = (lat - lat_range[0]) / (lat_range[1] - lat_range[0])
    lon_offset = (lon - lon_range[0]) / (lon_range[1] - lon_range[0])
    scale = float(1 << step)
    # C converts the scaled offsets to uint32_t by truncation.
    return interleave(int(lat_offset * scale), int(lon_offset * scale))


def decode(bits: int, step: int, lon_range: Range = GEO_LONG, lat_range: Range = GEO_LAT) -> Area:
    """geohashDecode: the cell of a hash."""
    lat_index, lon_index = deinterleave(bits)
    cells = float(1 << step)
    lat_scale = lat_range[1] - lat_range[0]
    lon_scale = lon_range[1] - lon_range[0]
    # `index + 1` is uint32_t arithmetic in C: 0xffffffff + 1 wraps to 0.
    return Area(
        lon_range[0] + (lon_index * 1.0 / cells) * lon_scale,
        lon_range[0] + (((lon_index + 1) & _U32) * 1.0 / cells) * lon_scale,
        lat_range[0] + (lat_index * 1.0 / cells) * lat_scale,
        lat_range[0] + (((lat_index + 1) & _U32) * 1.0 / cells) * lat_scale,
    )


def score_bits(score: float) -> int:
    """A sorted-set score as the uint64 Redis decodes: `(uint64_t)score` as gcc compiles it
    for x86-64 (truncation; out-of-range values give the "integer indefinite" pattern)."""
    if score < _TWO63:
        return _cvtt(score) & _U64
    return _cvtt(score - _TWO63) ^ _INDEFINITE


def _cvtt(x: float) -> int:
    """cvttsd2si: truncate to int64, or 0x8000000000000000 when it does not fit."""
    if math.isfinite(x):
        value = int(x)
        if -(1 << 63) <= value < (1 << 63):
            return value
    return _INDEFINITE


def score_to_lonlat(score: float) -> tuple[float, float]:
    """decodeGeohash: the (longitude, latitude) a geo-set score stands for, the cell centre
    clamped to the ranges."""
    area = decode(score_bits(score), STEP_MAX)
    lon = (area.lon_min + area.lon_max) / 2
    lon = min(max(lon, LONG_MIN), LONG_MAX)
    lat = (area.lat_min + area.lat_max) / 2
    lat = min(max(lat, LAT_MIN), LAT_MAX)
    return lon, lat


def lonlat_score(lon: float, lat: float) -> int:
    """GEOADD's score for a valid point: its 52-bit hash."""
    bits = encode(lon, lat)
    assert bits is not None, "callers validate the coordinates"
    return bits


def geohash_string(score: float) -> bytes:
    """GEOHASH's 11 characters: the point re-encoded with the standard ranges (latitude
    -90..90), 5 bits per base-32 character; the 11th character has no bits left and is
    always '0'."""
    lon, lat = score_to_lonlat(score)
    bits = encode(lon, lat, STEP_MAX, GEO_LONG, STD_LAT) or 0
    chars = bytearray(_BASE32[(bits >> (52 - (i + 1) * 5)) & 0x1F] for i in range(10))
    chars.append(_BASE32[0])
    return bytes(chars)


# --- distances -------------------------------------------------------------------------------
def _deg_rad(angle: float) -> float:
    return angle * _D_R


def _rad_deg(angle: float) -> float:
    return angle / _D_R


def _cos(angle: float) -> float:
    """C's cos: NaN for infinities (Python's raises; huge radii get there)."""
    return math.cos(angle) if math.isfinite(angle) else math.nan


def distance(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """geohashGetDistance: the haversine distance in meters on Redis's sphere."""
    lat1r = _deg_rad(lat1)
    lon1r = _deg_rad(lon1)
    lat2r = _deg_rad(lat2)
    lon2r = _deg_rad(lon2)
    u = math.sin((lat2r - lat1r) / 2)
    v = math.sin((lon2r - lon1r) / 2)
    a = math.sqrt(u * u + math.cos(lat1r) * math.cos(lat2r) * v * v)
    if a > 1.0:
        return -math.nan  # glibc's asin answers the x86 default NaN (sign bit set)
    return 2.0 * EARTH_RADIUS_M * math.asin(a)


def in_shape(shape: Shape, lon: float, lat: float) -> float | None:
    """The distance in meters from the shape's centre to a point inside the shape, or None
    if the point is outside (geoAppendIfWithinShape). NaN distances count as inside, as
    they do in Redis (`NaN > radius` is false)."""
    if not shape.box:
        dist = distance(shape.lon, shape.lat, lon, lat)
        return None if dist > shape.radius * shape.to_meters else dist
    width_m = shape.width * shape.to_meters
    height_m = shape.height * shape.to_meters
    # The latitude leg is measured along the point's meridian, the longitude leg along the
    # point's parallel (geohashGetDistanceIfInRectangle).
    lon_dist = distance(lon, lat, shape.lon, lat)
    lat_dist = distance(lon, lat, lon, shape.lat)
    if lon_dist > width_m / 2 or lat_dist > height_m / 2:
        return None
    return distance(shape.lon, shape.lat, lon, lat)


# --- the search area -------------------------------------------------------------------------
def estimate_step(range_m: float, lat: float) -> int:
    """geohashEstimateStepsByRadius: the precision of the 9 boxes for a search radius."""
    if range_m == 0:
        return STEP_MAX
    step = 1
    while range_m < _MERCATOR_MAX:
        range_m *= 2
        step += 1
    step -= 2  # so that the range fits in most base cases
    if lat > 66 or lat < -66:
        step -= 1
        if lat > 80 or lat < -80:
            step -= 1
    return min(max(step, 1), STEP_MAX)


def bounding_box(shape: Shape) -> tuple[float, float, float, float]:
    """geohashBoundingBox: (min lon, min lat, max lon, max lat) around the shape. Longitude
    spans are measured at the box edge nearer the pole, as in Redis."""
    half_h = shape.to_meters * (shape.height / 2 if shape.box else shape.radius)
    half_w = shape.to_meters * (shape.width / 2 if shape.box else shape.radius)
    lat_delta = _rad_deg(half_h / EARTH_RADIUS_M)
    top = _rad_deg(half_w / EARTH_RADIUS_M / _cos(_deg_rad(shape.lat + lat_delta)))
    bottom = _rad_deg(half_w / EARTH_RADIUS_M / _cos(_deg_rad(shape.lat - lat_delta)))
    lon_delta = bottom if shape.lat < 0 else top
    return (
        shape.lon - lon_delta,
        shape.lat - lat_delta,
        shape.lon + lon_delta,
        shape.lat + lat_delta,
    )


def _move(bits: int, step: int, axis: int, d: int) -> int:
    """geohash_move_x (axis=_ODD, longitude) / geohash_move_y (axis=_EVEN, latitude): the
    neighbouring cell one step east/north (d=1) or west/south (d=-1), wrapping around."""
    other = _EVEN if axis == _ODD else _ODD
    moving = bits & axis
    kept = bits & other
    filler = other >> (64 - step * 2)  # ones in the other axis's bits, so carries pass
    if d > 0:
        moving += filler + 1
    else:
        moving = (moving | filler) - (filler + 1)
    return (moving & (axis >> (64 - step * 2))) | kept


def neighbours(bits: int, step: int) -> list[int]:
    """The 8 neighbouring cells, in Redis's search order after the centre: N, S, E, W, NE,
    NW, SE, SW."""
    east = _move(bits, step, _ODD, 1)
    west = _move(bits, step, _ODD, -1)
    return [
        _move(bits, step, _EVEN, 1),
        _move(bits, step, _EVEN, -1),
        east,
        west,
        _move(east, step, _EVEN, 1),
        _move(west, step, _EVEN, 1),
        _move(east, step, _EVEN, -1),
        _move(west, step, _EVEN, -1),
    ]


def _cells(lon: float, lat: float, step: int) -> tuple[int, list[int], Area]:
    bits = encode(lon, lat, step)
    assert bits is not None, "search centres are valid points"
    return bits, neighbours(bits, step), decode(bits, step)


def search_boxes(shape: Shape) -> list[tuple[float, float]]:
    """geohashCalculateAreasByShapeWGS84 + membersOfAllNeighbors: the score ranges
    [min, max) to scan, in Redis's order (centre, N, S, E, W, NE, NW, SE, SW), without the
    neighbours that cannot hold a match and without repeats of the previous box."""
    min_lon, min_lat, max_lon, max_lat = bounding_box(shape)
    if shape.box:
        half_w, half_h = shape.width / 2, shape.height / 2
        radius_m = math.sqrt(half_w * half_w + half_h * half_h)
    else:
        radius_m = shape.radius
    radius_m *= shape.to_meters
    step = estimate_step(radius_m, shape.lat)
    bits, around, area = _cells(shape.lon, shape.lat, step)

    # Near the edge of its cell the estimated step can leave part of the area outside the
    # 3x3 block: then use cells twice as large.
    north, south, east, west = (decode(b, step) for b in around[:4])
    if step > 1 and (
        north.lat_max < max_lat
        or south.lat_min > min_lat
        or east.lon_max < max_lon
        or west.lon_min > min_lon
    ):
        step -= 1
        bits, around, area = _cells(shape.lon, shape.lat, step)

    # Neighbours beyond the bounding box are dropped (Redis's GZERO); indexes into
    # `around`: 0 N, 1 S, 2 E, 3 W, 4 NE, 5 NW, 6 SE, 7 SW.
    dropped: set[int] = set()
    if step >= 2:
        if area.lat_min < min_lat:
            dropped |= {1, 7, 6}
        if area.lat_max > max_lat:
            dropped |= {0, 4, 5}
        if area.lon_min < min_lon:
            dropped |= {3, 7, 5}
        if area.lon_max > max_lon:
            dropped |= {2, 6, 4}

    shift = 52 - step * 2
    boxes: list[tuple[float, float]] = []
    last: int | None = None
    for i, cell in enumerate([bits, *around]):
        if i and i - 1 in dropped:
            continue
        if cell == last:
            continue  # huge radii: adjacent neighbours can be the same cell
        boxes.append((float(cell << shift), float((cell + 1) << shift)))
        last = cell
    return boxes
