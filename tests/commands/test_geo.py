"""Geo commands through the engine (no sockets). Every expectation here was checked against
redis-server 7.0.15: `SLOTD_VERIFY_PORT=<port> pytest tests/commands/test_geo.py` runs the
same tests against a real server (see tests/commands/realharness.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.commands.realharness import harness, restoring

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
SYNTAX = "ERR syntax error"
NOT_FLOAT = "ERR value is not a valid float"
NOT_INTEGER = "ERR value is not an integer or out of range"
UNIT = "ERR unsupported unit provided. please use M, KM, FT, MI"
BAD_MEMBER = "ERR could not decode requested zset member"

PALERMO = ("13.361389", "38.115556", "Palermo")
CATANIA = ("15.087269", "37.502669", "Catania")
PALERMO_POS = [b"13.36138933897018433", b"38.11555639549629859"]
CATANIA_POS = [b"15.08726745843887329", b"37.50266842333162032"]
PALERMO_HASH = 3479099956230698
CATANIA_HASH = 3479447370796909


@pytest.fixture
def h() -> Iterator[Any]:
    with harness() as made:
        yield made


@pytest.fixture
def h3() -> Iterator[Any]:
    with harness(resp=3) as made:
        yield made


def sicily(h: Any, key: str = "Sicily") -> None:
    assert h("GEOADD", key, *PALERMO, *CATANIA) == 2


# ==== GEOADD =================================================================================
def test_geoadd_stores_52_bit_hashes_as_scores(h: Any) -> None:
    sicily(h)
    assert h("ZRANGE", "Sicily", 0, -1, "WITHSCORES") == [
        b"Palermo",
        b"%d" % PALERMO_HASH,
        b"Catania",
        b"%d" % CATANIA_HASH,
    ]
    assert h("TYPE", "Sicily") == b"zset"
    assert h("GEOADD", "Sicily", *PALERMO) == 0


def test_geoadd_accepts_the_range_limits(h: Any) -> None:
    assert h("GEOADD", "g", "180", "85.05112878", "ne", "-180", "-85.05112878", "sw") == 2
    assert h("ZSCORE", "g", "ne") == b"13510798882111488"
    assert h("ZSCORE", "g", "sw") == b"0"
    assert h("GEOPOS", "g", "ne") == [[b"180", b"85.0511287799999991"]]


@pytest.mark.parametrize(
    ("lon", "lat", "text"),
    [
        ("200", "10", "200.000000,10.000000"),
        ("1", "85.05112879", "1.000000,85.051129"),
        ("-180.0000001", "0", "-180.000000,0.000000"),
        ("inf", "2", "inf,2.000000"),
        ("1", "-inf", "1.000000,-inf"),
    ],
)
def test_geoadd_rejects_points_outside_the_mercator_limits(
    h: Any, lon: str, lat: str, text: str
) -> None:
    assert h.error("GEOADD", "g", lon, lat, "m") == f"ERR invalid longitude,latitude pair {text}"
    assert h("EXISTS", "g") == 0


def test_geoadd_checks_every_pair_before_adding(h: Any) -> None:
    assert h.error("GEOADD", "g", *PALERMO, "x", "1", "m") == NOT_FLOAT
    assert h.error("GEOADD", "g", *PALERMO, "1", " 1", "m") == NOT_FLOAT
    assert h.error("GEOADD", "g", *PALERMO, "1", "nan", "m") == NOT_FLOAT
    assert h("EXISTS", "g") == 0


def test_geoadd_options(h: Any) -> None:
    sicily(h)
    assert h("GEOADD", "Sicily", "NX", "13", "38", "Palermo", "1", "1", "new") == 1
    assert h("GEOPOS", "Sicily", "Palermo") == [PALERMO_POS]
    assert h("GEOADD", "Sicily", "XX", "13", "38", "Palermo", "2", "2", "other") == 0
    assert h("ZSCORE", "Sicily", "other") is None
    assert h("GEOADD", "Sicily", "xx", "ch", *PALERMO, "1", "1", "Catania") == 2
    assert h("GEOADD", "Sicily", "CH", "1", "1", "Catania", "3", "3", "x") == 1
    assert h("GEOADD", "Sicily", "ch", "nx", "1", "1", "Catania", "4", "4", "y") == 1
    assert h("GEOADD", "Sicily", "CH", "CH", "5", "5", "z") == 1


def test_geoadd_syntax_errors(h: Any) -> None:
    # NX with XX is GEOADD's own syntax error, not ZADD's message.
    assert h.error("GEOADD", "g", "nx", "xx", "1", "2", "x") == SYNTAX
    assert h.error("GEOADD", "g", "ch", "1", "2") == SYNTAX
    assert h.error("GEOADD", "g", "1", "2", "x", "3") == SYNTAX
    assert h.error("GEOADD", "g", "ch", "ch", "ch") == SYNTAX
    # Only NX, XX and CH are options: GT is read as a longitude.
    assert h.error("GEOADD", "g", "GT", "1", "x") == NOT_FLOAT
    assert h.error("GEOADD", "g", "GT", "1", "2", "x") == SYNTAX
    assert h.error("GEOADD", "g") == "ERR wrong number of arguments for 'geoadd' command"


def test_geoadd_on_other_types(h: Any) -> None:
    h("SET", "s", "x")
    assert h.error("GEOADD", "s", "x", "1", "m") == NOT_FLOAT  # coordinates first
    assert h.error("GEOADD", "s", "1", "1", "m") == WRONGTYPE


def test_geoadd_respects_the_listpack_thresholds(h: Any) -> None:
    with restoring(h, "zset-max-listpack-entries"):
        h("CONFIG", "SET", "zset-max-listpack-entries", "2")
        sicily(h)
        assert h("OBJECT", "ENCODING", "Sicily") == b"listpack"
        assert h("GEOADD", "Sicily", "1", "1", "x") == 1
        assert h("OBJECT", "ENCODING", "Sicily") == b"skiplist"


# ==== GEOPOS / GEOHASH / GEODIST ==================================================================
def test_geopos(h: Any) -> None:
    sicily(h)
    assert h("GEOPOS", "Sicily", "Palermo", "nope", "Catania") == [PALERMO_POS, None, CATANIA_POS]
    assert h.raw("GEOPOS", "Sicily", "nope") == b"*1\r\n*-1\r\n"
    assert h("GEOPOS", "nokey", "a", "b") == [None, None]
    assert h("GEOPOS", "Sicily") == []


def test_geopos_resp3(h3: Any) -> None:
    sicily(h3)
    assert h3.raw("GEOPOS", "Sicily", "Palermo", "nope") == (
        b"*2\r\n*2\r\n,13.36138933897018433\r\n,38.11555639549629859\r\n_\r\n"
    )


@pytest.mark.parametrize(
    ("score", "lon", "lat"),
    [
        ("-5", b"180", b"85.0511287799999991"),
        ("1e300", b"-179.99999731779098511", b"-85.05112751263942528"),
        ("-1e300", b"180", b"-85.05112751263942528"),
        ("inf", b"-179.99999731779098511", b"-85.05112751263942528"),
        ("0.5", b"-179.99999731779098511", b"-85.05112751263942528"),
    ],
)
def test_geopos_of_scores_geoadd_never_makes(h: Any, score: str, lon: bytes, lat: bytes) -> None:
    h("ZADD", "z", score, "m")
    assert h("GEOPOS", "z", "m") == [[lon, lat]]


def test_geohash(h: Any) -> None:
    sicily(h)
    assert h("GEOHASH", "Sicily", "Palermo", "Catania", "nope") == [
        b"sqc8b49rny0",
        b"sqdtr74hyu0",
        None,
    ]
    assert h.raw("GEOHASH", "nokey", "a") == b"*1\r\n$-1\r\n"
    h("ZADD", "z", "1e300", "m")
    assert h("GEOHASH", "z", "m") == [b"00bh0hbj200"]


def test_geohash_resp3(h3: Any) -> None:
    sicily(h3)
    assert h3.raw("GEOHASH", "Sicily", "Palermo", "nope") == (b"*2\r\n$11\r\nsqc8b49rny0\r\n_\r\n")


def test_geodist(h: Any) -> None:
    sicily(h)
    assert h("GEODIST", "Sicily", "Palermo", "Catania") == b"166274.1516"
    assert h("GEODIST", "Sicily", "Palermo", "Catania", "km") == b"166.2742"
    assert h("GEODIST", "Sicily", "Palermo", "Catania", "MI") == b"103.3182"
    assert h("GEODIST", "Sicily", "Palermo", "Catania", "Ft") == b"545518.8700"
    assert h("GEODIST", "Sicily", "Palermo", "Palermo") == b"0.0000"
    assert h("GEODIST", "Sicily", "Palermo", "nope") is None
    assert h("GEODIST", "nokey", "Palermo", "nope") is None


def test_geodist_errors(h: Any) -> None:
    sicily(h)
    assert h.error("GEODIST", "Sicily", "Palermo", "Catania", "yd") == UNIT
    assert h.error("GEODIST", "nokey", "a", "b", "kmx") == UNIT  # before the key
    assert h.error("GEODIST", "Sicily", "a", "b", "km", "x") == SYNTAX
    assert h("GEODIST", "Sicily", "Palermo", "Catania", "km\0junk") == b"166.2742"
    h("SET", "s", "x")
    assert h.error("GEODIST", "s", "a", "b") == WRONGTYPE
    assert h.error("GEOPOS", "s", "a") == WRONGTYPE
    assert h.error("GEOHASH", "s", "a") == WRONGTYPE


def test_geodist_resp3_is_still_a_bulk_string(h3: Any) -> None:
    sicily(h3)
    assert h3.raw("GEODIST", "Sicily", "Palermo", "Catania") == b"$11\r\n166274.1516\r\n"
    assert h3.raw("GEODIST", "Sicily", "Palermo", "nope") == b"_\r\n"


# ==== GEOSEARCH ====================================================================================
def test_geosearch_by_radius_with_everything(h: Any) -> None:
    sicily(h)
    assert h(
        "GEOSEARCH",
        "Sicily",
        "FROMLONLAT",
        "15",
        "37",
        "BYRADIUS",
        "200",
        "km",
        "WITHCOORD",
        "WITHDIST",
        "WITHHASH",
        "ASC",
    ) == [
        [b"Catania", b"56.4413", CATANIA_HASH, CATANIA_POS],
        [b"Palermo", b"190.4424", PALERMO_HASH, PALERMO_POS],
    ]
    assert h(
        "GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "DESC", "WITHDIST"
    ) == [[b"Palermo", b"190.4424"], [b"Catania", b"56.4413"]]
    assert h("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "100", "km") == [
        b"Catania"
    ]


def test_geosearch_resp3_shapes(h3: Any) -> None:
    sicily(h3)
    assert h3.raw(
        "GEOSEARCH",
        "Sicily",
        "FROMLONLAT",
        "15",
        "37",
        "BYRADIUS",
        "100",
        "km",
        "WITHCOORD",
        "WITHDIST",
        "WITHHASH",
    ) == (
        b"*1\r\n*4\r\n$7\r\nCatania\r\n$7\r\n56.4413\r\n:3479447370796909\r\n"
        b"*2\r\n,15.08726745843887329\r\n,37.50266842333162032\r\n"
    )


def test_geosearch_by_box(h: Any) -> None:
    sicily(h)
    h("GEOADD", "Sicily", "12.758489", "38.788135", "edge1", "17.241510", "38.788135", "edge2")
    assert h(
        "GEOSEARCH",
        "Sicily",
        "FROMLONLAT",
        "15",
        "37",
        "BYBOX",
        "400",
        "400",
        "km",
        "ASC",
        "WITHDIST",
    ) == [
        [b"Catania", b"56.4413"],
        [b"Palermo", b"190.4424"],
        [b"edge2", b"279.7403"],
        [b"edge1", b"279.7405"],
    ]
    assert h(
        "GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYBOX", "0", "0", "m", "WITHDIST"
    ) == [[b"Palermo", b"0.0000"]]


def test_geosearch_from_member(h: Any) -> None:
    sicily(h)
    assert h("GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "200", "km", "ASC") == [
        b"Palermo",
        b"Catania",
    ]
    # FROMMEMBER may be repeated: the last wins.
    assert h(
        "GEOSEARCH",
        "Sicily",
        "FROMMEMBER",
        "Palermo",
        "FROMMEMBER",
        "Catania",
        "BYRADIUS",
        "1",
        "m",
    ) == [b"Catania"]
    assert h.error("GEOSEARCH", "Sicily", "FROMMEMBER", "nope", "BYRADIUS", "1", "m") == BAD_MEMBER
    assert (
        h.error("GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo\0x", "BYRADIUS", "1", "m")
        == BAD_MEMBER
    )


def test_geosearch_count_and_any(h: Any) -> None:
    sicily(h)
    query = ("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km")
    assert h(*query, "COUNT", "1") == [b"Catania"]  # COUNT sorts ascending by default
    assert h(*query, "COUNT", "1", "DESC") == [b"Palermo"]
    # ANY stops at the first match in scan order, unsorted.
    assert h(*query, "COUNT", "1", "ANY") == [b"Palermo"]
    assert h(*query, "COUNT", "1", "ANY", "ASC") == [b"Palermo"]
    assert h(*query, "COUNT", "5", "COUNT", "1") == [b"Catania"]
    assert h(*query, "COUNT", "10") == [b"Catania", b"Palermo"]


def test_geosearch_ties_keep_redis_order(h: Any) -> None:
    """Equal distances: the stable qsort keeps scan order, pqsort (COUNT) its own."""
    args = []
    for i in range(50):
        args += ["13.361389", "38.115556", f"m{i:02}"]
    h("GEOADD", "g", *args)
    query = ("GEOSEARCH", "g", "FROMLONLAT", "13", "38", "BYRADIUS", "100", "km")
    assert h(*query, "ASC") == [b"m%02d" % i for i in range(50)]
    assert h(*query, "DESC") == [b"m%02d" % i for i in range(50)]
    assert h(*query, "COUNT", "5") == [b"m49", b"m01", b"m02", b"m03", b"m04"]
    assert h(*query, "COUNT", "3", "DESC") == [b"m49", b"m01", b"m02"]


def test_geosearch_option_errors(h: Any) -> None:
    sicily(h)
    base = ("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37")
    assert (
        h.error(*base, "BYRADIUS", "10", "km", "ANY")
        == "ERR the ANY argument requires COUNT argument"
    )
    assert h.error(*base, "BYRADIUS", "10", "km", "COUNT", "0") == "ERR COUNT must be > 0"
    assert h.error(*base, "BYRADIUS", "10", "km", "COUNT", "-1") == "ERR COUNT must be > 0"
    assert h.error(*base, "BYRADIUS", "10", "km", "COUNT", "x") == NOT_INTEGER
    assert h.error(*base, "BYRADIUS", "10", "km", "COUNT") == SYNTAX
    assert h.error(*base, "BYRADIUS", "-1", "km") == "ERR radius cannot be negative"
    assert h.error(*base, "BYRADIUS", "x", "km") == "ERR need numeric radius"
    assert h.error(*base, "BYRADIUS", " 1", "km") == "ERR need numeric radius"
    assert h.error(*base, "BYRADIUS", "1", "kmx") == UNIT
    assert h.error(*base, "BYBOX", "x", "1", "km") == "ERR need numeric width"
    assert h.error(*base, "BYBOX", "1", "x", "km") == "ERR need numeric height"
    assert h.error(*base, "BYBOX", "-1", "x", "km") == "ERR need numeric height"
    assert h.error(*base, "BYBOX", "1", "-1", "km") == "ERR height or width cannot be negative"
    assert h.error(*base, "BYRADIUS", "10", "km", "BYBOX", "1", "1", "km") == SYNTAX
    assert h.error(*base, "BYRADIUS", "10", "km", "STOREDIST") == SYNTAX
    assert h.error(*base, "BYRADIUS", "10", "km", "STORE", "x") == SYNTAX
    assert (
        h.error(
            "GEOSEARCH",
            "Sicily",
            "FROMMEMBER",
            "Palermo",
            "FROMLONLAT",
            "1",
            "2",
            "BYRADIUS",
            "10",
            "km",
        )
        == SYNTAX
    )
    assert (
        h.error(
            "GEOSEARCH",
            "Sicily",
            "FROMLONLAT",
            "1",
            "2",
            "FROMMEMBER",
            "Palermo",
            "BYRADIUS",
            "10",
            "km",
        )
        == SYNTAX
    )
    assert (
        h.error("GEOSEARCH", "Sicily", "FROMLONLAT", "200", "2", "BYRADIUS", "10", "km")
        == "ERR invalid longitude,latitude pair 200.000000,2.000000"
    )


def test_geosearch_missing_from_or_by_names_the_command_as_typed(h: Any) -> None:
    sicily(h)
    assert (
        h.error("geoSearch", "Sicily", "BYRADIUS", "10", "km", "ASC", "ASC")
        == "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for geoSearch"
    )
    assert (
        h.error("GEOSEARCH", "Sicily", "FROMLONLAT", "10", "10", "ASC", "ASC")
        == "ERR exactly one of BYRADIUS and BYBOX can be specified for GEOSEARCH"
    )
    assert (
        h.error("geosearchSTORE", "d", "Sicily", "FROMLONLAT", "10", "10", "ASC", "ASC")
        == "ERR exactly one of BYRADIUS and BYBOX can be specified for geosearchSTORE"
    )


def test_geosearch_missing_key(h: Any) -> None:
    assert h("GEOSEARCH", "nokey", "FROMMEMBER", "nope", "BYRADIUS", "10", "km") == []
    assert (
        h.error("GEOSEARCH", "nokey", "FROMMEMBER", "nope", "BYRADIUS", "x", "km")
        == "ERR need numeric radius"
    )
    assert h.raw("GEOSEARCH", "nokey", "FROMLONLAT", "1", "1", "BYRADIUS", "1", "km") == b"*0\r\n"


def test_geosearch_huge_and_zero_sizes(h: Any) -> None:
    sicily(h)
    for radius in ("inf", "1e308"):
        assert h("GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", radius, "m") == [
            b"Palermo",
            b"Catania",
        ]
    assert h("GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYBOX", "inf", "inf", "m") == [
        b"Palermo",
        b"Catania",
    ]
    assert h("GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "0", "m") == [b"Palermo"]


def test_geosearch_wrong_type_comes_first(h: Any) -> None:
    h("SET", "s", "x")
    assert h.error("GEOSEARCH", "s", "FROMLONLAT", "x", "1", "BYRADIUS", "1", "km") == WRONGTYPE
    assert h.error("GEORADIUS", "s", "x", "37", "200", "km") == WRONGTYPE


# ==== GEOSEARCHSTORE ==============================================================================
def test_geosearchstore(h: Any) -> None:
    sicily(h)
    query = ("FROMLONLAT", "15", "37", "BYRADIUS", "200", "km")
    assert h("GEOSEARCHSTORE", "d", "Sicily", *query) == 2
    assert h("ZRANGE", "d", 0, -1, "WITHSCORES") == [
        b"Palermo",
        b"%d" % PALERMO_HASH,
        b"Catania",
        b"%d" % CATANIA_HASH,
    ]
    assert h("GEOSEARCHSTORE", "d", "Sicily", *query, "STOREDIST") == 2
    assert h("ZRANGE", "d", 0, -1, "WITHSCORES") == [
        b"Catania",
        b"56.441257870158204",
        b"Palermo",
        b"190.44242984775784",
    ]
    assert h("GEOSEARCHSTORE", "d", "Sicily", *query, "COUNT", "1", "STOREDIST") == 1
    assert h("ZRANGE", "d", 0, -1) == [b"Catania"]
    h("EXPIRE", "d", 100)
    assert h("GEOSEARCHSTORE", "d", "Sicily", *query) == 2
    assert h("TTL", "d") == -1


def test_geosearchstore_empty_result_deletes_the_destination(h: Any) -> None:
    sicily(h)
    h("SET", "d", "x")
    assert h("GEOSEARCHSTORE", "d", "Sicily", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "m") == 0
    assert h("EXISTS", "d") == 0
    h("SET", "d", "x")
    assert h("GEOSEARCHSTORE", "d", "nokey", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "m") == 0
    assert h("EXISTS", "d") == 0


def test_geosearchstore_errors(h: Any) -> None:
    sicily(h)
    query = ("FROMLONLAT", "15", "37", "BYRADIUS", "200", "km")
    assert h.error("GEOSEARCHSTORE", "d", "Sicily", *query, "WITHDIST") == (
        "ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
    )
    assert h.error("GEOSEARCHSTORE", "d", "Sicily", *query, "STORE", "x") == SYNTAX
    h("SET", "s", "x")
    assert h("GEOSEARCHSTORE", "s", "Sicily", *query) == 2  # the destination is overwritten
    h("SET", "t", "x")
    assert h.error("GEOSEARCHSTORE", "d", "t", *query) == WRONGTYPE


def test_geosearchstore_builds_the_encoding_redis_would(h: Any) -> None:
    with restoring(h, "zset-max-listpack-entries"):
        h("CONFIG", "SET", "zset-max-listpack-entries", "1")
        sicily(h)
        query = ("FROMLONLAT", "15", "37", "BYRADIUS", "200", "km")
        assert h("GEOSEARCHSTORE", "d", "Sicily", *query) == 2
        assert h("OBJECT", "ENCODING", "d") == b"skiplist"
        assert h("GEOSEARCHSTORE", "d", "Sicily", *query, "COUNT", "1") == 1
        assert h("OBJECT", "ENCODING", "d") == b"listpack"


# ==== GEORADIUS / GEORADIUSBYMEMBER and _RO =============================================================
def test_georadius(h: Any) -> None:
    sicily(h)
    assert h("GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHDIST", "ASC") == [
        [b"Catania", b"56.4413"],
        [b"Palermo", b"190.4424"],
    ]
    assert h("GEORADIUS_RO", "Sicily", "15", "37", "200", "km", "WITHCOORD", "COUNT", "1") == [
        [b"Catania", CATANIA_POS]
    ]
    assert h("GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT", "1", "ANY") == [b"Palermo"]


def test_georadius_store(h: Any) -> None:
    sicily(h)
    assert h("GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", "d", "COUNT", "1") == 1
    assert h("ZRANGE", "d", 0, -1, "WITHSCORES") == [b"Catania", b"%d" % CATANIA_HASH]
    assert h("GEORADIUS", "Sicily", "15", "37", "200", "km", "STOREDIST", "dd") == 2
    assert h("ZRANGE", "dd", 0, -1, "WITHSCORES") == [
        b"Catania",
        b"56.441257870158204",
        b"Palermo",
        b"190.44242984775784",
    ]
    # The last of STORE/STOREDIST decides both the key and the score kind.
    assert h("GEORADIUS", "Sicily", "15", "37", "200", "km", "STOREDIST", "x", "STORE", "d3") == 2
    assert h("EXISTS", "x") == 0
    assert h("ZSCORE", "d3", "Palermo") == b"%d" % PALERMO_HASH
    assert h("GEORADIUSBYMEMBER", "nokey", "nope", "200", "km", "STORE", "d3") == 0
    assert h("EXISTS", "d3") == 0


def test_georadius_errors(h: Any) -> None:
    sicily(h)
    assert h.error("GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", "d", "WITHDIST") == (
        "ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and "
        "WITHCOORD options"
    )
    assert h.error("GEORADIUS_RO", "Sicily", "15", "37", "200", "km", "STORE", "d") == SYNTAX
    assert (
        h.error("GEORADIUSBYMEMBER_RO", "Sicily", "Palermo", "2", "km", "STOREDIST", "d") == SYNTAX
    )
    assert h.error("GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE") == SYNTAX
    assert h.error("GEORADIUS", "Sicily", "15", "37", "200", "km", "FROMMEMBER", "x") == SYNTAX
    assert h.error("GEORADIUS", "Sicily", "15", "37", "200", "km", "junk") == SYNTAX
    assert h.error("GEORADIUS", "Sicily", "x", "37", "200", "km") == NOT_FLOAT
    assert h.error("GEORADIUS", "Sicily", "15", "37", "x", "km") == "ERR need numeric radius"
    assert h.error("GEORADIUS", "Sicily", "15", "37", "200", "kmm", "junk") == UNIT
    assert (
        h.error("GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT", "1", "COUNT", "x")
        == NOT_INTEGER
    )
    assert h.error(
        "GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", "d", "ANY", "WITHHASH"
    ) == (
        "ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and "
        "WITHCOORD options"
    )


def test_georadiusbymember(h: Any) -> None:
    sicily(h)
    assert h("GEORADIUSBYMEMBER", "Sicily", "Palermo", "200", "km", "WITHDIST", "DESC") == [
        [b"Catania", b"166.2742"],
        [b"Palermo", b"0.0000"],
    ]
    assert h("GEORADIUSBYMEMBER_RO", "Sicily", "Catania", "100", "km") == [b"Catania"]
    assert h.error("GEORADIUSBYMEMBER", "Sicily", "nope", "200", "km") == BAD_MEMBER
    # Without the key only the options are parsed: the radius is never read.
    assert h("GEORADIUSBYMEMBER", "nokey", "nope", "x", "km") == []
    assert h.error("GEORADIUSBYMEMBER", "nokey", "nope", "x", "km", "junk") == SYNTAX


def test_getkeys_of_the_store_variants(h: Any) -> None:
    assert h(
        "COMMAND", "GETKEYS", "GEORADIUS", "k", "1", "2", "3", "km", "STORE", "d", "STOREDIST", "e"
    ) == [b"k", b"d", b"e"]
    assert h("COMMAND", "GETKEYS", "GEORADIUSBYMEMBER", "k", "m", "3", "km", "STORE", "d") == [
        b"k",
        b"d",
    ]
    assert h(
        "COMMAND", "GETKEYS", "GEOSEARCHSTORE", "d", "s", "FROMMEMBER", "m", "BYRADIUS", "1", "m"
    ) == [b"d", b"s"]
