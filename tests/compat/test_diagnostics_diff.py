"""SLOWLOG, LATENCY, MONITOR, DEBUG, ROLE, CLIENT PAUSE and CONFIG REWRITE against a real
redis-server, reply bytes compared wherever the reply is deterministic; INFO's
commandstats/latencystats/stats fields by name and format.

The session servers run without enable-debug-command: DEBUG's own tests start a private
pair. Tests that change server-wide settings restore them."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest

from tests.compat.conftest import Differ
from tests.procs import ServerProcess
from tests.rawclient import RawClient

pytestmark = pytest.mark.interop
Factory = Callable[..., ServerProcess]


@pytest.fixture
def quiet(diff: Differ) -> Iterator[Differ]:
    """Both servers with the slow log off and the latency monitor reset, restored after."""
    diff("CONFIG", "SET", "slowlog-log-slower-than", "-1")
    diff("SLOWLOG", "RESET")
    diff("LATENCY", "RESET")
    yield diff
    diff("CONFIG", "SET", "slowlog-log-slower-than", "10000")
    diff("CONFIG", "SET", "latency-monitor-threshold", "0")


def test_slowlog_replies(quiet: Differ) -> None:
    for args in (
        ("HELP",),
        ("LEN",),
        ("GET",),
        ("GET", "0"),
        ("GET", "-1"),
        ("GET", "-2"),
        ("GET", "abc"),
        ("GET", "1", "2"),
        ("RESET", "x"),
        ("foo",),
        ("help", "x"),
    ):
        quiet("SLOWLOG", *args)
    quiet("SLOWLOG")


def test_latency_replies(quiet: Differ) -> None:
    for args in (
        ("HELP",),
        ("LATEST",),
        ("HISTORY", "command"),
        ("GRAPH", "command"),
        ("RESET",),
        ("RESET", "command", "x"),
        ("DOCTOR",),
        ("HISTOGRAM", "nosuch"),
        ("foo",),
        ("LATEST", "x"),
        ("GRAPH",),
    ):
        quiet("LATENCY", *args)
    quiet("CONFIG", "SET", "latency-monitor-threshold", "1000")
    quiet("LATENCY", "DOCTOR")


def test_latency_histogram_shape(diff: Differ) -> None:
    diff("SET", "k", "v")
    diff.both("HELLO", "3")
    ours, theirs = diff.both("LATENCY", "HISTOGRAM", "set")
    shape = re.compile(
        rb"%1\r\n\$3\r\nset\r\n%2\r\n\$5\r\ncalls\r\n:\d+\r\n"
        rb"\$14\r\nhistogram_usec\r\n%(\d+)\r\n(:\d+\r\n)+"
    )
    assert shape.fullmatch(ours), ours
    assert shape.fullmatch(theirs), theirs


def test_role_client_pause_errors_and_rewrite(diff: Differ) -> None:
    diff("ROLE")
    for args in (
        ("PAUSE",),
        ("PAUSE", "abc"),
        ("PAUSE", "-1"),
        ("PAUSE", "1.5"),
        ("PAUSE", "abc", "foo"),
        ("PAUSE", "100", "write", "x"),
        ("UNPAUSE", "x"),
        ("PAUSE", "0", "WRITE"),
        ("UNPAUSE",),
    ):
        diff("CLIENT", *args)
    diff("CONFIG", "REWRITE")  # neither server was started from a file
    diff("CONFIG", "REWRITE", "x")


def test_debug_refused_without_enable_debug_command(diff: Differ) -> None:
    diff("DEBUG", "DIGEST")
    diff("DEBUG", "HELP")
    diff("DEBUG")


def test_monitor_and_its_refusals(diff: Differ) -> None:
    diff("MULTI")
    diff("MONITOR")
    diff("EXEC")
    assert diff.ours.call("MONITOR") == diff.theirs.call("MONITOR") == b"+OK\r\n"


def _monitor_lines(monitor: RawClient, count: int) -> list[bytes]:
    """The next `count` MONITOR lines with the time and the client's port taken out."""
    lines = [monitor.read_reply() for _ in range(count)]
    return [
        re.sub(
            rb"^\+\d+\.\d{6} \[(\d+) (127\.0\.0\.1:\d+|lua)\]",
            lambda m: b"[%s %s]" % (m[1], b"lua" if m[2] == b"lua" else b"client"),
            line,
        )
        for line in lines
    ]


def test_monitor_lines_of_scripts_and_secrets(
    diff: Differ, slotd_proc: ServerProcess, redis_proc: ServerProcess
) -> None:
    """Scripts show as their EVAL/FCALL line (even when refused) and then one `[db lua]` line
    per command they ran; AUTH's arguments are redacted; admin commands are not shown."""
    with RawClient(*slotd_proc.addr) as ours, RawClient(*redis_proc.addr) as theirs:
        assert ours.call("MONITOR") == theirs.call("MONITOR") == b"+OK\r\n"
        diff(
            "EVAL",
            "redis.call('select', '3'); redis.pcall('set', 'a'); return redis.call('get', 'a')",
            "0",
        )
        diff("EVAL", "return 1", "-1")
        diff("EVALSHA", "0" * 40, "0")
        diff("AUTH", "user", "secret")
        diff("CONFIG", "GET", "hz")
        diff(
            "FUNCTION",
            "LOAD",
            "REPLACE",
            "#!lua name=monlib\nredis.register_function("
            "'monf', function(keys) return redis.call('incr', keys[1]) end)",
        )
        diff("FCALL", "monf", "1", "n")
        diff("FCALL", "nosuch", "0")
        diff("FUNCTION", "DELETE", "monlib")
        assert _monitor_lines(ours, 11) == _monitor_lines(theirs, 11)


def test_info_sections_format(diff: Differ) -> None:
    diff("SET", "k", "v")
    diff("GET", "k")
    diff("GET")
    ours, theirs = diff.both("INFO", "commandstats")
    line = (
        rb"cmdstat_[a-z|_-]+:calls=\d+,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=\d+,"
        rb"failed_calls=\d+\r\n"
    )
    for reply in (ours, theirs):
        body = reply.split(b"\r\n", 1)[1]
        assert re.fullmatch(rb"# Commandstats\r\n(" + line + rb")*\r\n", body), body
        assert re.search(
            rb"cmdstat_get:calls=[1-9]\d*,usec=\d+,usec_per_call=[\d.]+,"
            rb"rejected_calls=[1-9]\d*,failed_calls=\d+",
            body,
        )  # shared servers
    ours, theirs = diff.both("INFO", "latencystats")
    line = (
        rb"latency_percentiles_usec_[a-z|_-]+:p50=\d+\.\d{3},p99=\d+\.\d{3},p99\.9=\d+\.\d{3}\r\n"
    )
    for reply in (ours, theirs):
        assert re.fullmatch(
            rb"# Latencystats\r\n(" + line + rb")*\r\n", reply.split(b"\r\n", 1)[1]
        ), reply


@pytest.fixture
def debug_pair(slotd_factory: Factory, redis_factory: Factory) -> Iterator[Differ]:
    ours = slotd_factory("--enable-debug-command", "yes")
    theirs = redis_factory("--enable-debug-command", "yes")
    with RawClient(*ours.addr) as a, RawClient(*theirs.addr) as b:
        yield Differ(a, b)


def test_debug_digests(debug_pair: Differ) -> None:
    diff = debug_pair
    diff("DEBUG", "DIGEST")
    diff("ZADD", "z", "0.1", "a", "2", "b", "-inf", "c", "1e300", "d")
    diff("ZADD", "zbig", *[x for i in range(200) for x in (str(i / 7), f"m{i}")])
    diff("HSET", "h", "f", "v", "g", "1")
    diff("HSET", "hbig", *[x for i in range(600) for x in (f"f{i}", f"v{i}")])
    diff("SADD", "s", "1", "2", "x")
    diff("SADD", "si", "1", "2", "3")
    diff("RPUSH", "l", "1", "a", "x" * 100)
    diff("SET", "str", "123")
    diff("APPEND", "raw", "abc")
    diff("SET", "e", "v", "EX", "100")
    diff("XADD", "st", "1-1", "f", "v")
    diff("XADD", "st", "2-5", "a", "b", "c", "d")
    diff("XDEL", "st", "1-1")
    diff("SELECT", "5")
    diff("SET", "other-db", "1")
    diff("SELECT", "0")
    diff(
        "DEBUG",
        "DIGEST-VALUE",
        "z",
        "zbig",
        "h",
        "hbig",
        "s",
        "si",
        "l",
        "str",
        "raw",
        "e",
        "st",
        "missing",
    )
    diff("DEBUG", "DIGEST")
    diff("DEBUG", "DIGEST-VALUE")


def test_debug_replies(debug_pair: Differ) -> None:
    diff = debug_pair
    for args in (
        ("HELP",),
        ("JMAP",),
        ("OBJECT",),
        ("OBJECT", "nokey"),
        ("SLEEP", "0"),
        ("SLEEP", "abc"),
        ("SET-ACTIVE-EXPIRE", "1"),
        ("SET-ACTIVE-EXPIRE",),
        ("ERROR", "BOOM the\r\nend"),
        ("PROTOCOL", "nosuch"),
        ("PROTOCOL", "push"),
        ("QUICKLIST-PACKED-THRESHOLD", "x"),
        ("QUICKLIST-PACKED-THRESHOLD", "0"),
        ("STRUCTSIZE",),
        ("POPULATE", "-1"),
        ("POPULATE", "abc"),
        ("POPULATE", "5", "pre", "12"),
        ("RELOAD", "BAD"),
    ):
        diff("DEBUG", *args)
    diff("MGET", "pre:0", "pre:4")
    for kind in (
        "string",
        "integer",
        "double",
        "bignum",
        "null",
        "array",
        "set",
        "map",
        "attrib",
        "verbatim",
        "true",
        "false",
    ):
        diff("DEBUG", "PROTOCOL", kind)
    diff.both("HELLO", "3")  # the client ids differ
    for kind in ("double", "bignum", "null", "set", "map", "attrib", "verbatim", "true"):
        diff("DEBUG", "PROTOCOL", kind)
    assert diff.ours.call("DEBUG", "PROTOCOL", "push") == diff.theirs.call(
        "DEBUG", "PROTOCOL", "push"
    )
    assert diff.ours.read_reply() == diff.theirs.read_reply()  # the reply after the push


def test_debug_encoding_probes(debug_pair: Differ) -> None:
    """DEBUG LISTPACK/QUICKLIST (their dumps go to stdout) and SDSLEN's sds figures."""
    diff = debug_pair
    diff("HSET", "h", "f", "v")
    diff("ZADD", "z", "1", "m")
    diff("RPUSH", "l", "a", "b")
    diff("SADD", "iset", "1", "2")
    diff("SET", "embstr", "hello")
    diff("SET", "raw", "x" * 50)
    diff("SET", "int", "123")
    diff("SET", "appended", "hello")
    diff("APPEND", "appended", " world")
    diff("SET", "k" * 31, "v")
    diff("SET", "k" * 40, "v")
    diff("SET", "k" * 300, "v")
    for sub in ("LISTPACK", "QUICKLIST", "SDSLEN"):
        for key in (
            "h",
            "z",
            "l",
            "iset",
            "embstr",
            "raw",
            "int",
            "appended",
            "nokey",
            "k" * 31,
            "k" * 40,
            "k" * 300,
        ):
            diff("DEBUG", sub, key)
        diff("DEBUG", sub)
        diff("DEBUG", sub, "h", "1", "2")
    diff("DEBUG", "QUICKLIST", "l", "1")
    diff("APPEND", "appended", "y" * 30)
    diff("DEBUG", "SDSLEN", "appended")


def test_debug_object_shape(debug_pair: Differ) -> None:
    diff = debug_pair
    diff("SET", "s", "hello")
    diff("SET", "n", "42")
    diff("RPUSH", "l", "a", "b", "c")
    diff("HSET", "h", "f", "v")
    for key in ("s", "n", "l", "h"):
        ours, theirs = diff.both("DEBUG", "OBJECT", key)
        mask = re.compile(rb"at:0x[0-9a-f]+ |lru:\d+ |lru_seconds_idle:\d+")
        assert mask.sub(b"", ours) == mask.sub(b"", theirs)


def _hits_misses(client: RawClient) -> tuple[int, int]:
    text = client.call("INFO", "stats").decode()
    stats = dict(line.split(":", 1) for line in text.split("\r\n") if ":" in line)
    return int(stats["keyspace_hits"]), int(stats["keyspace_misses"])


def test_keyspace_hits_and_misses_move_alike(diff: Differ) -> None:
    """The same reads on both servers move the counters by the same amounts: GET's fast
    path (plain strings, no TTLs), its full lookup (a database with TTLs, a missing key, a
    wrong type), MGET, EXISTS, TYPE, reads inside MULTI/EXEC and scripts, and writes
    (which count nothing)."""
    before = _hits_misses(diff.ours), _hits_misses(diff.theirs)
    diff("SET", "hk", "v")
    diff("RPUSH", "hl", "x")
    for _ in range(3):
        diff("GET", "hk")
    diff("GET", "nothere")
    diff("GET", "hl")
    diff("MGET", "hk", "nothere", "hl")
    diff("EXISTS", "hk", "nothere")
    diff("TYPE", "hl")
    diff("MULTI")
    diff("GET", "hk")
    diff("INCR", "hn")
    diff("EXEC")
    diff("EVAL", "return redis.call('GET', KEYS[1])", "1", "hk")
    diff("SET", "ht", "v", "EX", "100")
    diff("GET", "hk")  # the database has a TTL now: the full lookup
    diff("GET", "ht")
    after = _hits_misses(diff.ours), _hits_misses(diff.theirs)
    ours = (after[0][0] - before[0][0], after[0][1] - before[0][1])
    theirs = (after[1][0] - before[1][0], after[1][1] - before[1][1])
    assert ours == theirs
