"""Geo commands (Redis 7.0's geo.c): GEOADD, GEODIST, GEOHASH, GEOPOS, GEOSEARCH,
GEOSEARCHSTORE, GEORADIUS, GEORADIUSBYMEMBER and their _RO forms.

A geo set is a sorted set (node/engine/types/zset.py) scored by 52-bit geohashes; the
arithmetic lives in node/engine/geohash.py. Redis 7.0 behaviour matched on purpose:
- GEOADD validates every coordinate pair, then runs ZADD with the hashes as scores (Redis
  rewrites the command into a ZADD), so ZADD's own rules and WRONGTYPE come after the
  coordinate errors. NX together with XX is a plain syntax error here.
- The search commands share one routine (georadiusGeneric): the source key's type is
  checked first, then GEORADIUS's centre and radius, then the options in one pass whose
  errors come in argument order, then the cross-option checks. A missing source key
  answers an empty array (or 0, deleting the STORE destination) without further checks,
  which is why GEORADIUSBYMEMBER on a missing key never looks at its radius.
- Candidates are collected box by box (centre, then 8 neighbours, each in score order),
  COUNT ANY stopping as soon as enough matched. COUNT without ANY sorts ascending by
  default. Sorting is glibc's stable qsort, or Redis's pqsort when COUNT cuts the result,
  so equal distances keep Redis's order (node/engine/csort.py).
- Distances are "%.4f" bulk strings in both protocols; coordinates are long doubles printed
  "%.17Lf" with trailing zeros stripped (bulk in RESP2, doubles in RESP3); WITHHASH is the
  raw score as an integer.
Pure: no I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Final

from node.commands import docs
from node.commands._args import int_arg, option
from node.commands._double import double_arg
from node.commands._longdouble import format_human
from node.commands._zset import limits
from node.commands.registry import Acl, Flag, KeyFlag, KeySpec, key_at, keys_by_keyword
from node.commands.table import NODE
from node.commands.zsets import zadd
from node.engine import geohash, notify
from node.engine.csort import merge_sort, partial_sort
from node.engine.session import Client
from node.engine.types.zset import Item, ZSet
from node.proto import errors, resp
from node.proto.errors import CommandError

Argv = list[bytes]

UNIT: Final = "ERR unsupported unit provided. please use M, KM, FT, MI"
BAD_MEMBER: Final = "ERR could not decode requested zset member"
NEED_RADIUS: Final = "ERR need numeric radius"
NEED_WIDTH: Final = "ERR need numeric width"
NEED_HEIGHT: Final = "ERR need numeric height"
NEGATIVE_RADIUS: Final = "ERR radius cannot be negative"
NEGATIVE_BOX: Final = "ERR height or width cannot be negative"
COUNT_POSITIVE: Final = "ERR COUNT must be > 0"
ANY_NEEDS_COUNT: Final = "ERR the ANY argument requires COUNT argument"
STORE_WITH: Final = "ERR {} is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
NEED_FROM: Final = "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for {}"
NEED_BY: Final = "ERR exactly one of BYRADIUS and BYBOX can be specified for {}"

_UNITS: Final = {b"M": 1.0, b"KM": 1000.0, b"FT": 0.3048, b"MI": 1609.34}

# georadiusGeneric's variants
_COORDS, _MEMBER, _NOSTORE, _SEARCH, _SEARCHSTORE = 1, 2, 4, 8, 16
_ASC, _DESC = 1, 2


# --- argument helpers -------------------------------------------------------------------------
def _read_zset(c: Client, key: bytes) -> ZSet | None:
    """The sorted set a geo command reads (None if missing: a keymiss event, as every
    geo command but GEOADD looks its source up for reading); WRONGTYPE for other types."""
    value = c.db.lookup_read(key)
    if value is None or value.__class__ is ZSet:
        return value
    raise CommandError(errors.WRONGTYPE)


def _deleted(c: Client, key: bytes) -> None:
    """An empty search result removes the STORE destination (a `del` event)."""
    if c.db.delete(key):
        engine = c.engine
        if engine.notify_flags:
            engine.notify(notify.GENERIC, b"del", key, c.db.index)
        engine.dirty += 1


def _lonlat(raw_lon: bytes, raw_lat: bytes) -> tuple[float, float]:
    """extractLongLatOrReply: two doubles inside the Mercator limits."""
    lon, lat = double_arg(raw_lon), double_arg(raw_lat)
    if not (
        geohash.LONG_MIN <= lon <= geohash.LONG_MAX and geohash.LAT_MIN <= lat <= geohash.LAT_MAX
    ):
        raise CommandError(f"ERR invalid longitude,latitude pair {lon:f},{lat:f}")
    return lon, lat


def _unit(raw: bytes) -> float:
    """The factor from the unit to meters (strcasecmp, so "Km\\0x" is KM)."""
    factor = _UNITS.get(option(raw))
    if factor is None:
        raise CommandError(UNIT)
    return factor


def _radius(raw: bytes, raw_unit: bytes) -> tuple[float, float]:
    """extractDistanceOrReply: (radius in its unit, unit factor)."""
    radius = double_arg(raw, NEED_RADIUS)
    if radius < 0:
        raise CommandError(NEGATIVE_RADIUS)
    return radius, _unit(raw_unit)


def _member_lonlat(zs: ZSet, member: bytes) -> tuple[float, float]:
    score = zs.score(member)
    if score is None:
        raise CommandError(BAD_MEMBER)
    return geohash.score_to_lonlat(score)


# --- reply helpers ----------------------------------------------------------------------------
def _distance_text(meters: float) -> bytes:
    """addReplyDoubleDistance's "%.4f" (glibc prints the sign of a NaN)."""
    if math.isnan(meters):
        return b"-nan" if math.copysign(1.0, meters) < 0 else b"nan"
    return b"%.4f" % meters


def _coord(value: float, proto: int) -> bytes:
    """addReplyHumanLongDouble: "%.17Lf" without trailing zeros; a double in RESP3."""
    text = format_human(Fraction(value))
    return b",%s\r\n" % text if proto == 3 else b"$%d\r\n%s\r\n" % (len(text), text)


def _position(score: float, proto: int) -> bytes:
    lon, lat = geohash.score_to_lonlat(score)
    return b"*2\r\n" + _coord(lon, proto) + _coord(lat, proto)


# --- GEOADD ---------------------------------------------------------------------------------
_KEY: Final = docs.key("key")
_UNIT_ARG: Final = docs.oneof(
    "unit",
    docs.token("m", "M"),
    docs.token("km", "KM"),
    docs.token("ft", "FT"),
    docs.token("mi", "MI"),
)
_GEO_RO: Final = KeyFlag.RO | KeyFlag.ACCESS


@NODE.command(
    "geoadd",
    -5,
    Flag.WRITE | Flag.DENYOOM,
    group="geo",
    since="3.2.0",
    summary="Add one or more geospatial items in the geospatial index represented using a sorted set",
    complexity="O(log(N)) for each item added, where N is the number of elements in the sorted set.",
    acl=Acl.GEO,
    keys=[key_at(1, KeyFlag.RW | KeyFlag.UPDATE)],
    history=(("6.2.0", "Added the `CH`, `NX` and `XX` options."),),
    args=(
        _KEY,
        docs.oneof(
            "condition",
            docs.token("nx", "NX"),
            docs.token("xx", "XX"),
            optional=True,
            since="6.2.0",
        ),
        docs.token("change", "CH", optional=True, since="6.2.0"),
        docs.block(
            "longitude_latitude_member",
            docs.double("longitude"),
            docs.double("latitude"),
            docs.string("member"),
            multiple=True,
        ),
    ),
)
def geoadd(c: Client, argv: Argv) -> bytes:
    first = 2
    nx = xx = False
    while first < len(argv):
        word = option(argv[first])
        if word == b"NX":
            nx = True
        elif word == b"XX":
            xx = True
        elif word != b"CH":
            break
        first += 1
    if (len(argv) - first) % 3 or (nx and xx):
        raise CommandError(errors.SYNTAX)
    rewritten = [b"zadd", *argv[1:first]]
    for i in range(first, len(argv), 3):
        lon, lat = _lonlat(argv[i], argv[i + 1])
        rewritten += [b"%d" % geohash.lonlat_score(lon, lat), argv[i + 2]]
    reply = zadd(c, rewritten)
    assert isinstance(reply, bytes)
    return reply


# --- GEODIST / GEOHASH / GEOPOS ------------------------------------------------------------------
@NODE.command(
    "geodist",
    -4,
    Flag.READONLY,
    group="geo",
    since="3.2.0",
    summary="Returns the distance between two members of a geospatial index",
    complexity="O(log(N))",
    acl=Acl.GEO,
    keys=[key_at(1, _GEO_RO)],
    args=(
        _KEY,
        docs.string("member1"),
        docs.string("member2"),
        docs.oneof(
            "unit",
            docs.token("m", "M"),
            docs.token("km", "KM"),
            docs.token("ft", "FT"),
            docs.token("mi", "MI"),
            optional=True,
        ),
    ),
)
def geodist(c: Client, argv: Argv) -> bytes:
    to_meters = 1.0
    if len(argv) == 5:
        to_meters = _unit(argv[4])
    elif len(argv) > 5:
        raise CommandError(errors.SYNTAX)
    zs = _read_zset(c, argv[1])
    if zs is None:
        return resp.null(c.resp)
    first, second = zs.score(argv[2]), zs.score(argv[3])
    if first is None or second is None:
        return resp.null(c.resp)
    meters = geohash.distance(*geohash.score_to_lonlat(first), *geohash.score_to_lonlat(second))
    return resp.bulk(_distance_text(meters / to_meters))


@NODE.command(
    "geohash",
    -2,
    Flag.READONLY,
    group="geo",
    since="3.2.0",
    summary="Returns members of a geospatial index as standard geohash strings",
    complexity="O(log(N)) for each member requested, where N is the number of elements in the sorted set.",
    acl=Acl.GEO,
    keys=[key_at(1, _GEO_RO)],
    args=(_KEY, docs.string("member", multiple=True)),
)
def geohash_(c: Client, argv: Argv) -> bytes:
    zs = _read_zset(c, argv[1])
    null = resp.null(c.resp)
    parts = [resp.array_header(len(argv) - 2)]
    for member in argv[2:]:
        score = zs.score(member) if zs is not None else None
        parts.append(null if score is None else resp.bulk(geohash.geohash_string(score)))
    return b"".join(parts)


@NODE.command(
    "geopos",
    -2,
    Flag.READONLY,
    group="geo",
    since="3.2.0",
    summary="Returns longitude and latitude of members of a geospatial index",
    complexity="O(N) where N is the number of members requested.",
    acl=Acl.GEO,
    keys=[key_at(1, _GEO_RO)],
    args=(_KEY, docs.string("member", multiple=True)),
)
def geopos(c: Client, argv: Argv) -> bytes:
    zs = _read_zset(c, argv[1])
    null = resp.null_array(c.resp)
    parts = [resp.array_header(len(argv) - 2)]
    for member in argv[2:]:
        score = zs.score(member) if zs is not None else None
        parts.append(null if score is None else _position(score, c.resp))
    return b"".join(parts)


# --- the search family ----------------------------------------------------------------------
@dataclass(slots=True)
class _Point:
    member: bytes
    score: float
    lon: float
    lat: float
    dist: float  # meters while searching, the request's unit once replied


@dataclass(slots=True)
class _Options:
    """What georadiusGeneric's option loop collects."""

    store: bytes | None = None
    storedist: bool = False
    withdist: bool = False
    withhash: bool = False
    withcoord: bool = False
    sort: int = 0
    any: bool = False
    count: int = 0  # 0: no limit
    center: tuple[float, float] | None = None
    frommember: bool = False
    fromlonlat: bool = False
    radius: float | None = None
    box: tuple[float, float] | None = None
    to_meters: float = 0.0


def _search(c: Client, argv: Argv, src: int, flags: int) -> bytes:
    """georadiusGeneric."""
    zs = _read_zset(c, argv[src])
    opts = _Options()
    if flags & _COORDS:
        base = 6
        opts.center = _lonlat(argv[2], argv[3])
        opts.radius, opts.to_meters = _radius(argv[4], argv[5])
    elif flags & _MEMBER:
        base = 5
        if zs is not None:  # without a key only the options are parsed
            opts.center = _member_lonlat(zs, argv[2])
            opts.radius, opts.to_meters = _radius(argv[3], argv[4])
    else:
        base = 3 if flags & _SEARCHSTORE else 2
        if flags & _SEARCHSTORE:
            opts.store = argv[1]
    _parse_options(argv, base, flags, zs, opts)

    if opts.store is not None and (opts.withdist or opts.withhash or opts.withcoord):
        raise CommandError(
            STORE_WITH.format(
                "GEOSEARCHSTORE" if flags & _SEARCHSTORE else "STORE option in GEORADIUS"
            )
        )
    name = argv[0].decode("utf-8", "surrogateescape")
    if flags & _SEARCH and not (opts.frommember or opts.fromlonlat):
        raise CommandError(NEED_FROM.format(name))
    if flags & _SEARCH and opts.radius is None and opts.box is None:
        raise CommandError(NEED_BY.format(name))
    if opts.any and not opts.count:
        raise CommandError(ANY_NEEDS_COUNT)

    if zs is None:
        if opts.store is None:
            return resp.EMPTY_ARRAY
        _deleted(c, opts.store)
        return resp.ZERO

    if opts.count and not opts.sort and not opts.any:
        opts.sort = _ASC  # the N closest need a sort
    points = _collect(zs, _shape(opts), opts.count if opts.any else 0)
    if not points and opts.store is None:
        return resp.EMPTY_ARRAY
    returned = len(points) if not opts.count else min(opts.count, len(points))
    if opts.sort:
        _sort_points(points, opts.sort == _DESC, returned)
    del points[returned:]
    for point in points:
        point.dist /= opts.to_meters
    if opts.store is None:
        return _search_reply(points, opts, c.resp)
    event = b"geosearchstore" if flags & _SEARCHSTORE else b"georadiusstore"
    return _store(c, opts.store, points, opts.storedist, event)


def _parse_options(argv: Argv, base: int, flags: int, zs: ZSet | None, opts: _Options) -> None:
    """The option loop: each word is recognized only where its variant allows it and when
    its arguments are there; anything else is a syntax error at that point."""
    search = bool(flags & _SEARCH)
    can_store = not flags & (_NOSTORE | _SEARCH)
    remaining = len(argv) - base
    i = 0
    while i < remaining:
        word = option(argv[base + i])
        if word == b"WITHDIST":
            opts.withdist = True
        elif word == b"WITHHASH":
            opts.withhash = True
        elif word == b"WITHCOORD":
            opts.withcoord = True
        elif word == b"ANY":
            opts.any = True
        elif word == b"ASC":
            opts.sort = _ASC
        elif word == b"DESC":
            opts.sort = _DESC
        elif word == b"COUNT" and i + 1 < remaining:
            opts.count = int_arg(argv[base + i + 1])
            if opts.count <= 0:
                raise CommandError(COUNT_POSITIVE)
            i += 1
        elif word in (b"STORE", b"STOREDIST") and i + 1 < remaining and can_store:
            opts.store = argv[base + i + 1]
            opts.storedist = word == b"STOREDIST"
            i += 1
        elif word == b"STOREDIST" and search and flags & _SEARCHSTORE:
            opts.storedist = True
        elif word == b"FROMMEMBER" and i + 1 < remaining and search and not opts.fromlonlat:
            if zs is not None:
                opts.center = _member_lonlat(zs, argv[base + i + 1])
            opts.frommember = True
            i += 1
        elif word == b"FROMLONLAT" and i + 2 < remaining and search and not opts.frommember:
            opts.center = _lonlat(argv[base + i + 1], argv[base + i + 2])
            opts.fromlonlat = True
            i += 2
        elif word == b"BYRADIUS" and i + 2 < remaining and search and opts.box is None:
            opts.radius, opts.to_meters = _radius(argv[base + i + 1], argv[base + i + 2])
            i += 2
        elif word == b"BYBOX" and i + 3 < remaining and search and opts.radius is None:
            width = double_arg(argv[base + i + 1], NEED_WIDTH)
            height = double_arg(argv[base + i + 2], NEED_HEIGHT)
            if height < 0 or width < 0:
                raise CommandError(NEGATIVE_BOX)
            opts.box = (width, height)
            opts.to_meters = _unit(argv[base + i + 3])
            i += 3
        else:
            raise CommandError(errors.SYNTAX)
        i += 1


def _shape(opts: _Options) -> geohash.Shape:
    assert opts.center is not None
    lon, lat = opts.center
    if opts.box is not None:
        width, height = opts.box
        return geohash.Shape(lon, lat, opts.to_meters, width=width, height=height, box=True)
    assert opts.radius is not None
    return geohash.Shape(lon, lat, opts.to_meters, radius=opts.radius)


def _collect(zs: ZSet, shape: geohash.Shape, limit: int) -> list[_Point]:
    """membersOfAllNeighbors: the members inside the shape, box by box, each box in score
    order; with a `limit` (COUNT ANY) the scan stops once that many matched."""
    points: list[_Point] = []
    for lo, hi in geohash.search_boxes(shape):
        if limit and len(points) >= limit:
            break
        start = zs.index_score(lo, after=False)
        stop = zs.index_score(hi, after=False)
        for member, score in zs.items(start, stop):
            lon, lat = geohash.score_to_lonlat(score)
            dist = geohash.in_shape(shape, lon, lat)
            if dist is not None:
                points.append(_Point(member, score, lon, lat, dist))
            if limit and len(points) >= limit:
                break
    return points


def _sort_points(points: list[_Point], desc: bool, returned: int) -> None:
    """qsort (glibc, stable) when everything is returned, pqsort when COUNT cuts. Python's
    stable sort gives the same order unless the comparator has ties pqsort would shuffle,
    or NaN distances make it inconsistent: then the C algorithms run as such."""
    dists = [p.dist for p in points]
    has_nan = any(math.isnan(d) for d in dists)
    if not has_nan and (returned == len(points) or len(set(dists)) == len(dists)):
        points.sort(key=lambda p: p.dist, reverse=desc)
        return
    sign = -1 if desc else 1

    def cmp(a: _Point, b: _Point) -> int:
        # sort_gp_asc: NaN is "smaller" than anything, either way round.
        if a.dist > b.dist:
            return sign
        return 0 if a.dist == b.dist else -sign

    if returned == len(points):
        merge_sort(points, cmp)
    else:
        partial_sort(points, cmp, 0, returned - 1)


def _search_reply(points: list[_Point], opts: _Options, proto: int) -> bytes:
    extras = opts.withdist + opts.withhash + opts.withcoord
    parts = [resp.array_header(len(points))]
    for p in points:
        if extras:
            parts.append(resp.array_header(extras + 1))
        parts.append(resp.bulk(p.member))
        if opts.withdist:
            parts.append(resp.bulk(_distance_text(p.dist)))
        if opts.withhash:
            parts.append(resp.integer(int(p.score)))
        if opts.withcoord:
            parts.append(b"*2\r\n" + _coord(p.lon, proto) + _coord(p.lat, proto))
    return b"".join(parts)


def _store(c: Client, dst: bytes, points: list[_Point], storedist: bool, event: bytes) -> bytes:
    """STORE/STOREDIST: the matches as a new sorted set (scored by hash or by distance in
    the request's unit); nothing found deletes the destination."""
    if not points:
        _deleted(c, dst)
        return resp.ZERO
    items: list[Item] = [(p.member, p.dist if storedist else p.score) for p in points]
    c.db.set_value(dst, ZSet.build(items, *limits(c)))
    engine = c.engine
    if engine.notify_flags:
        engine.notify(notify.ZSET, event, dst, c.db.index)
    engine.dirty += len(points)
    return resp.integer(len(points))


# --- declarations ------------------------------------------------------------------------------
_RADIUS_COMPLEXITY: Final = (
    "O(N+log(M)) where N is the number of elements inside the bounding box of the circular "
    "area delimited by center and radius and M is the number of items inside the index."
)
_SEARCH_COMPLEXITY: Final = (
    "O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area "
    "around the shape provided as the filter and M is the number of items inside the shape"
)
_WITH: Final = (
    docs.token("withcoord", "WITHCOORD", optional=True),
    docs.token("withdist", "WITHDIST", optional=True),
    docs.token("withhash", "WITHHASH", optional=True),
)
_ORDER: Final = docs.oneof(
    "order", docs.token("asc", "ASC"), docs.token("desc", "DESC"), optional=True
)
_COUNT: Final = docs.block(
    "count",
    docs.integer("count", token="COUNT"),
    docs.token("any", "ANY", optional=True),
    optional=True,
)
_COUNT_ANY_SINCE: Final = docs.block(
    "count",
    docs.integer("count", token="COUNT"),
    docs.token("any", "ANY", optional=True, since="6.2.0"),
    optional=True,
)
_FROM: Final = docs.oneof(
    "from",
    docs.string("member", token="FROMMEMBER"),
    docs.block(
        "longitude_latitude", docs.double("longitude"), docs.double("latitude"), token="FROMLONLAT"
    ),
)
_BY: Final = docs.oneof(
    "by",
    docs.block("circle", docs.double("radius", token="BYRADIUS"), _UNIT_ARG),
    docs.block("box", docs.double("width", token="BYBOX"), docs.double("height"), _UNIT_ARG),
)
_STORE_ARGS: Final = (
    docs.key("key", 1, token="STORE", optional=True),
    docs.key("key", 2, token="STOREDIST", optional=True),
)
_UPPERCASE_UNITS: Final = ("7.0.0", "Added support for uppercase unit names.")


def _store_keys(startfrom: int) -> list[KeySpec]:
    """The source key, then the optional STORE/STOREDIST destinations found by keyword."""
    return [
        key_at(1, _GEO_RO),
        keys_by_keyword(b"STORE", startfrom, KeyFlag.OW | KeyFlag.UPDATE, lastkey=0),
        keys_by_keyword(b"STOREDIST", startfrom, KeyFlag.OW | KeyFlag.UPDATE, lastkey=0),
    ]


@NODE.command(
    "georadius",
    -6,
    Flag.WRITE | Flag.DENYOOM,
    group="geo",
    since="3.2.0",
    summary="Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a point",
    complexity=_RADIUS_COMPLEXITY,
    acl=Acl.GEO,
    keys=_store_keys(6),
    history=(("6.2.0", "Added the `ANY` option for `COUNT`."), _UPPERCASE_UNITS),
    doc_flags=("deprecated",),
    deprecated_since="6.2.0",
    replaced_by="`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` argument",
    args=(
        _KEY,
        docs.double("longitude"),
        docs.double("latitude"),
        docs.double("radius"),
        _UNIT_ARG,
        *_WITH,
        _COUNT_ANY_SINCE,
        _ORDER,
        *_STORE_ARGS,
    ),
)
def georadius(c: Client, argv: Argv) -> bytes:
    return _search(c, argv, 1, _COORDS)


@NODE.command(
    "georadius_ro",
    -6,
    Flag.READONLY,
    group="geo",
    since="3.2.10",
    summary="A read-only variant for GEORADIUS",
    complexity=_RADIUS_COMPLEXITY,
    acl=Acl.GEO,
    keys=[key_at(1, _GEO_RO)],
    history=(("6.2.0", "Added the `ANY` option for `COUNT`."),),
    doc_flags=("deprecated",),
    deprecated_since="6.2.0",
    replaced_by="`GEOSEARCH` with the `BYRADIUS` argument",
    args=(
        _KEY,
        docs.double("longitude"),
        docs.double("latitude"),
        docs.double("radius"),
        _UNIT_ARG,
        *_WITH,
        _COUNT_ANY_SINCE,
        _ORDER,
    ),
)
def georadius_ro(c: Client, argv: Argv) -> bytes:
    return _search(c, argv, 1, _COORDS | _NOSTORE)


@NODE.command(
    "georadiusbymember",
    -5,
    Flag.WRITE | Flag.DENYOOM,
    group="geo",
    since="3.2.0",
    summary="Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a member",
    complexity=_RADIUS_COMPLEXITY,
    acl=Acl.GEO,
    keys=_store_keys(5),
    history=(_UPPERCASE_UNITS,),
    doc_flags=("deprecated",),
    deprecated_since="6.2.0",
    replaced_by="`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` and `FROMMEMBER` arguments",
    args=(
        _KEY,
        docs.string("member"),
        docs.double("radius"),
        _UNIT_ARG,
        *_WITH,
        _COUNT,
        _ORDER,
        *_STORE_ARGS,
    ),
)
def georadiusbymember(c: Client, argv: Argv) -> bytes:
    return _search(c, argv, 1, _MEMBER)


@NODE.command(
    "georadiusbymember_ro",
    -5,
    Flag.READONLY,
    group="geo",
    since="3.2.10",
    summary="A read-only variant for GEORADIUSBYMEMBER",
    complexity=_RADIUS_COMPLEXITY,
    acl=Acl.GEO,
    keys=[key_at(1, _GEO_RO)],
    doc_flags=("deprecated",),
    deprecated_since="6.2.0",
    replaced_by="`GEOSEARCH` with the `BYRADIUS` and `FROMMEMBER` arguments",
    args=(_KEY, docs.string("member"), docs.double("radius"), _UNIT_ARG, *_WITH, _COUNT, _ORDER),
)
def georadiusbymember_ro(c: Client, argv: Argv) -> bytes:
    return _search(c, argv, 1, _MEMBER | _NOSTORE)


@NODE.command(
    "geosearch",
    -7,
    Flag.READONLY,
    group="geo",
    since="6.2.0",
    summary="Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle.",
    complexity=_SEARCH_COMPLEXITY,
    acl=Acl.GEO,
    keys=[key_at(1, _GEO_RO)],
    history=(_UPPERCASE_UNITS,),
    args=(_KEY, _FROM, _BY, _ORDER, _COUNT, *_WITH),
)
def geosearch(c: Client, argv: Argv) -> bytes:
    return _search(c, argv, 1, _SEARCH)


@NODE.command(
    "geosearchstore",
    -8,
    Flag.WRITE | Flag.DENYOOM,
    group="geo",
    since="6.2.0",
    summary="Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle, and store the result in another key.",
    complexity=_SEARCH_COMPLEXITY,
    acl=Acl.GEO,
    keys=[key_at(1, KeyFlag.OW | KeyFlag.UPDATE), key_at(2, _GEO_RO)],
    history=(_UPPERCASE_UNITS,),
    args=(
        docs.key("destination"),
        docs.key("source", 1),
        _FROM,
        _BY,
        _ORDER,
        _COUNT,
        docs.token("storedist", "STOREDIST", optional=True),
    ),
)
def geosearchstore(c: Client, argv: Argv) -> bytes:
    return _search(c, argv, 2, _SEARCH | _SEARCHSTORE)
