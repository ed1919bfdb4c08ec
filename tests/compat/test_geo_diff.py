"""Geo commands against a real redis-server, reply bytes compared.

Hypothesis scatters points around a random centre (anywhere, poles and antimeridian
included; sometimes several members on one spot, so that equal distances test Redis's tie
orders) and runs random searches of every kind on both servers. Every reply is compared
byte for byte: geo replies are fully ordered by Redis's definition.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.compat.conftest import Differ

pytestmark = pytest.mark.interop

SICILY = ("13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania")
LAT_MAX = 85.05112878
UNITS = {"m": 1.0, "km": 1000.0, "ft": 0.3048, "mi": 1609.34}


@pytest.fixture
def geo(diff: Differ) -> Iterator[Differ]:
    """The differ, with the servers' zset-max-listpack-entries put back afterwards."""
    with diff.restoring("zset-max-listpack-entries"):
        yield diff


def test_basics_and_errors(geo: Differ) -> None:
    diff = geo
    diff("GEOADD", "Sicily", *SICILY)
    for proto in ("2", "3"):
        diff.both("HELLO", proto)
        diff("GEOPOS", "Sicily", "Palermo", "nope")
        diff("GEOHASH", "Sicily", "Palermo", "Catania", "nope")
        diff("GEODIST", "Sicily", "Palermo", "Catania", "KM")
        diff("GEODIST", "Sicily", "Palermo", "nope")
        diff(
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
        )
        diff("GEORADIUSBYMEMBER", "Sicily", "Palermo", "200", "km", "WITHDIST", "DESC")
    for args in [
        ("GEOADD", "Sicily", "200", "10", "x"),
        ("GEOADD", "Sicily", "nx", "xx", "1", "2", "x"),
        ("GEOADD", "Sicily", "1", "85.06", "x"),
        ("GEODIST", "Sicily", "Palermo", "Catania", "yd"),
        ("GEOSEARCH", "Sicily", "FROMMEMBER", "nope", "BYRADIUS", "1", "m"),
        ("geoSearch", "Sicily", "BYRADIUS", "10", "km", "ASC", "ASC"),
        ("GEOSEARCH", "Sicily", "FROMLONLAT", "1", "2", "BYBOX", "1", "-1", "km"),
        ("GEOSEARCH", "Sicily", "FROMLONLAT", "1", "2", "BYRADIUS", "1", "km", "ANY"),
        (
            "GEOSEARCHSTORE",
            "d",
            "Sicily",
            "FROMLONLAT",
            "1",
            "2",
            "BYRADIUS",
            "1",
            "km",
            "WITHHASH",
        ),
        ("GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", "d", "WITHDIST"),
        ("GEORADIUS_RO", "Sicily", "15", "37", "200", "km", "STORE", "d"),
        ("GEORADIUSBYMEMBER", "nokey", "nope", "x", "km"),
        ("GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT", "0"),
    ]:
        diff(*args)
    diff("SET", "s", "x")
    diff("GEOSEARCH", "s", "FROMLONLAT", "x", "1", "BYRADIUS", "1", "km")
    diff("GEOADD", "s", "1", "1", "m")


def test_scores_geoadd_never_makes(geo: Differ) -> None:
    for score in (
        "-5",
        "1e300",
        "-1e300",
        "inf",
        "-inf",
        "9.3e18",
        "2e19",
        "0.5",
        "-0.5",
        "4503599627370496",
        "9007199254740992",
    ):
        geo("ZADD", "z", score, "m" + score)
        geo("GEOPOS", "z", "m" + score)
        geo("GEOHASH", "z", "m" + score)
    geo(
        "GEOSEARCH",
        "z",
        "FROMLONLAT",
        "-179.9",
        "-85",
        "BYRADIUS",
        "100",
        "km",
        "WITHHASH",
        "WITHCOORD",
        "WITHDIST",
    )
    geo("GEORADIUS", "z", "0", "0", "inf", "m", "WITHHASH", "ASC")


def coordinate(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False)


Centre = tuple[float, float]
QUERY_KINDS = ("radius", "box", "frommember", "georadius", "bymember", "store")


@st.composite
def points(draw: st.DrawFn) -> tuple[Centre, float, list[tuple[float, float]]]:
    centre = (draw(coordinate(-180, 180)), draw(coordinate(-LAT_MAX, LAT_MAX)))
    spread = draw(st.sampled_from([0.0, 1e-5, 0.01, 0.5, 5.0, 40.0, 180.0]))
    count = draw(st.integers(1, 30))
    out: list[tuple[float, float]] = []
    for _ in range(count):
        if out and draw(st.integers(0, 6)) == 0:
            out.append(out[-1])  # same spot: equal distances
            continue
        dlon = draw(coordinate(-spread, spread)) if spread else 0.0
        dlat = draw(coordinate(-spread, spread)) if spread else 0.0
        out.append(
            (
                min(max(centre[0] + dlon, -180.0), 180.0),
                min(max(centre[1] + dlat, -LAT_MAX), LAT_MAX),
            )
        )
    return centre, spread, out


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    data=points(),
    resp3=st.booleans(),
    listpack=st.sampled_from(["4", "128"]),
    queries=st.lists(
        st.tuples(
            st.sampled_from(QUERY_KINDS),
            st.sampled_from(sorted(UNITS)),
            st.sampled_from([0.0, 1.0, 100.0, 1e4, 5e5, 5e6, 2e7]),
            st.floats(0.1, 3.0),
            st.integers(0, 2**32),
        ),
        min_size=1,
        max_size=12,
    ),
)
def test_random_searches_match_redis(
    geo: Differ,
    data: tuple[Centre, float, list[tuple[float, float]]],
    resp3: bool,
    listpack: str,
    queries: list[tuple[str, str, float, float, int]],
) -> None:
    diff = geo
    diff("FLUSHALL")
    diff.both("HELLO", "3" if resp3 else "2")
    diff("CONFIG", "SET", "zset-max-listpack-entries", listpack)
    (clon, clat), spread, where = data
    args: list[str] = []
    for i, (lon, lat) in enumerate(where):
        args += [repr(lon), repr(lat), f"m{i}"]
    diff("GEOADD", "g", *args)
    for kind, unit, meters, aspect, bits in queries:
        size = repr(meters / UNITS[unit])
        member = f"m{bits % len(where)}"
        other = f"m{(bits >> 8) % len(where)}"
        # The query centre: the cluster's centre, nudged by up to the spread.
        qlon = min(max(clon + spread * ((bits >> 16) % 201 - 100) / 100, -180.0), 180.0)
        qlat = min(max(clat + spread * ((bits >> 24) % 201 - 100) / 100, -LAT_MAX), LAT_MAX)
        opts: list[str] = []
        if bits & 1:
            opts.append("DESC" if bits & 2 else "ASC")
        if bits & 4:
            opts += ["COUNT", str(1 + (bits >> 3) % 8)]
            if bits & 64:
                opts.append("ANY")
        withs = [
            w
            for flag, w in ((128, "WITHCOORD"), (256, "WITHDIST"), (512, "WITHHASH"))
            if bits & flag
        ]
        box = [size, repr(float(size) * aspect), unit]
        if kind == "radius":
            diff(
                "GEOSEARCH",
                "g",
                "FROMLONLAT",
                repr(qlon),
                repr(qlat),
                "BYRADIUS",
                size,
                unit,
                *opts,
                *withs,
            )
        elif kind == "box":
            diff(
                "GEOSEARCH", "g", "FROMLONLAT", repr(qlon), repr(qlat), "BYBOX", *box, *opts, *withs
            )
        elif kind == "frommember":
            diff("GEOSEARCH", "g", "FROMMEMBER", member, "BYBOX", *box, *opts, *withs)
        elif kind == "georadius":
            diff("GEORADIUS", "g", repr(qlon), repr(qlat), size, unit, *withs, *opts)
        elif kind == "bymember":
            diff("GEORADIUSBYMEMBER_RO", "g", member, size, unit, *withs, *opts)
        else:
            dist = ["STOREDIST"] if bits & 1024 else []
            diff(
                "GEOSEARCHSTORE",
                "d",
                "g",
                "FROMMEMBER",
                member,
                "BYRADIUS",
                size,
                unit,
                *opts,
                *dist,
            )
            diff("ZRANGE", "d", "0", "-1", "WITHSCORES")
            diff("OBJECT", "ENCODING", "d")
            diff(
                "GEORADIUS",
                "g",
                repr(qlon),
                repr(qlat),
                size,
                unit,
                *opts,
                "STOREDIST" if dist else "STORE",
                "d2",
            )
            diff("ZRANGE", "d2", "0", "-1", "WITHSCORES")
        diff("GEODIST", "g", member, other, unit)
        diff("GEOPOS", "g", member, "nope")
        diff("GEOHASH", "g", member, other)
