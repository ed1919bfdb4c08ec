"""Observability and control over real sockets: MONITOR streams, CLIENT PAUSE holding other
connections, INFO's traffic counters, the slow log and latency monitor timing a real DEBUG
SLEEP, and CONFIG REWRITE on a real file -- each checked against slotd, and where the output
is comparable, against redis-server started the same way.

No timing assertions beyond lower bounds: waits are generous deadlines."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import redis

from tests import procs
from tests.procs import ServerProcess
from tests.rawclient import RawClient

Factory = Callable[..., ServerProcess]
MONITOR_LINE = re.compile(rb"\+\d+\.\d{6} \[(\d+) 127\.0\.0\.1:\d+\] (.*)\r\n")


def info(server: ServerProcess, section: str) -> dict[str, str]:
    with RawClient(*server.addr) as c:
        text = c.call("INFO", section).split(b"\r\n", 1)[1].decode()
    return dict(line.split(":", 1) for line in text.split("\r\n") if ":" in line)


def read_lines(client: RawClient, count: int) -> list[bytes]:
    lines = []
    while len(lines) < count:
        lines.append(client.read_reply())
    return lines


@pytest.mark.parametrize("kind", ["slotd", "redis"])
def test_monitor_streams_other_clients_commands(
    kind: str, slotd_proc: ServerProcess, redis_proc: ServerProcess
) -> None:
    server = slotd_proc if kind == "slotd" else redis_proc
    with RawClient(*server.addr) as mon, RawClient(*server.addr) as c:
        assert mon.call("MONITOR") == b"+OK\r\n"
        c.call("SET", "mon-k", 'a "b"\n')
        c.call("SELECT", "2")
        c.call("AUTH", "secret")  # fails (no password set), still shown, redacted
        c.call("CONFIG", "GET", "port")  # admin commands are not shown
        c.call("GET", "mon-k")
        c.call("SELECT", "0")
        lines = read_lines(mon, 5)
    parsed = [MONITOR_LINE.fullmatch(line) for line in lines]
    assert all(parsed), lines
    assert [(m.group(1), m.group(2)) for m in parsed if m] == [
        (b"0", b'"SET" "mon-k" "a \\"b\\"\\n"'),
        (b"2", b'"SELECT" "2"'),
        (b"2", b'"AUTH" "(redacted)"'),
        (b"2", b'"GET" "mon-k"'),
        (b"0", b'"SELECT" "0"'),
    ]


def test_monitor_with_redis_py(slotd_proc: ServerProcess) -> None:
    r = redis.Redis(*slotd_proc.addr, protocol=2)
    with r.monitor() as m:
        redis.Redis(*slotd_proc.addr, protocol=2).set("mon-py", "v")
        seen = []
        for event in m.listen():
            seen.append(event["command"])
            if event["command"] == "SET mon-py v":
                break
    assert seen[-1] == "SET mon-py v"


def client_flags(server: ServerProcess, client_id: int) -> str:
    with RawClient(*server.addr) as c:
        listing = c.call("CLIENT", "LIST", "ID", client_id).decode()
    return re.search(r"flags=(\S+)", listing).group(1)  # type: ignore[union-attr]


def wait_for(predicate: Callable[[], bool], deadline: float = 20.0) -> None:
    end = time.monotonic() + deadline
    while not predicate():
        assert time.monotonic() < end, "condition not reached before the deadline"
        time.sleep(0.02)


def test_client_pause_write_holds_writers_until_unpause(slotd_proc: ServerProcess) -> None:
    with RawClient(*slotd_proc.addr) as admin, RawClient(*slotd_proc.addr) as writer:
        writer_id = int(writer.call("CLIENT", "ID")[1:-2])
        assert admin.call("CLIENT", "PAUSE", "60000", "WRITE") == b"+OK\r\n"
        try:
            assert writer.call("GET", "pause-k") == b"$-1\r\n"  # reads still run
            writer.send("SET", "pause-k", "1")
            writer.send("PING")  # pipelined behind the parked SET
            wait_for(lambda: client_flags(slotd_proc, writer_id) == "b")
            with RawClient(*slotd_proc.addr) as reader:
                assert reader.call("EXISTS", "pause-k") == b":0\r\n"
        finally:
            assert admin.call("CLIENT", "UNPAUSE") == b"+OK\r\n"
        assert writer.read_reply() == b"+OK\r\n"
        assert writer.read_reply() == b"+PONG\r\n"
        assert admin.call("GET", "pause-k") == b"$1\r\n1\r\n"


def test_client_pause_all_ends_on_its_own(slotd_proc: ServerProcess) -> None:
    with RawClient(*slotd_proc.addr) as admin, RawClient(*slotd_proc.addr) as other:
        started = time.monotonic()
        assert admin.call("CLIENT", "PAUSE", "300", "ALL") == b"+OK\r\n"
        assert other.call("PING") == b"+PONG\r\n"
        assert time.monotonic() - started >= 0.25


def test_info_counts_traffic_and_keyspace(slotd_factory: Factory) -> None:
    server = slotd_factory()
    before = info(server, "stats")
    with RawClient(*server.addr) as c:
        request = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"
        c.call_raw(request)
        c.call("GET", "k")
        c.call("GET", "missing")
        c.call("NOSUCH")
    after = info(server, "stats")
    info_request = len(b"*2\r\n$4\r\nINFO\r\n$5\r\nstats\r\n")
    assert int(after["total_net_input_bytes"]) - int(before["total_net_input_bytes"]) == (
        len(request)
        + 2 * len(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n")
        + 6
        + len(b"*1\r\n$6\r\nNOSUCH\r\n")
        + info_request
    )
    assert int(after["total_net_output_bytes"]) > int(before["total_net_output_bytes"])
    assert int(after["total_commands_processed"]) - int(before["total_commands_processed"]) == 4
    assert (after["keyspace_hits"], after["keyspace_misses"]) == ("1", "1")
    assert int(after["total_reads_processed"]) > int(before["total_reads_processed"])
    assert int(after["total_error_replies"]) == 1
    stats = info(server, "commandstats")
    assert stats["cmdstat_get"].startswith("calls=2,")


def test_instantaneous_ops_under_load(slotd_factory: Factory) -> None:
    server = slotd_factory()
    with RawClient(*server.addr) as c:
        pipeline = b"*1\r\n$4\r\nPING\r\n" * 100
        end = time.monotonic() + 20
        while int(info(server, "stats")["instantaneous_ops_per_sec"]) == 0:
            assert time.monotonic() < end
            c.send_raw(pipeline)
            for _ in range(100):
                c.read_reply()
        assert float(info(server, "stats")["instantaneous_input_kbps"]) > 0


@pytest.mark.parametrize("kind", ["slotd", "redis"])
def test_slowlog_and_latency_time_a_real_sleep(
    kind: str, slotd_factory: Factory, redis_factory: Factory
) -> None:
    start = slotd_factory if kind == "slotd" else redis_factory
    server = start(
        "--enable-debug-command",
        "yes",
        "--slowlog-log-slower-than",
        "40000",
        "--latency-monitor-threshold",
        "40",
    )
    with RawClient(*server.addr) as c:
        c.call("PING")
        assert c.call("DEBUG", "SLEEP", "0.05") == b"+OK\r\n"
        r = redis.Redis(*server.addr, protocol=2)
        entries = r.slowlog_get()
        assert [e["command"] for e in entries] == [b"DEBUG SLEEP 0.05"]
        assert entries[0]["duration"] >= 50_000
        latest = r.execute_command("LATENCY", "LATEST")
        assert latest[0][0] == b"command" and latest[0][2] >= 50


CONFIG_TEXT = """# a comment
  # an indented comment

maxmemory 100mb
maxmemory 200mb
hz 10
save 900 1
save 300 10
slave-read-only yes
client-output-buffer-limit pubsub 32mb 8mb 60
logfile ""
"""


def start_with_file(kind: str, directory: Path) -> ServerProcess:
    """A server started as `<binary> <config file> --port ...` (the file must come first)."""
    conf = directory / "redis.conf"
    if kind == "slotd":
        return procs.start(
            "slotd", lambda port: procs.slotd_command(port, directory, config_file=conf), directory
        )
    binary = procs.redis_server_bin()
    return procs.start(
        "redis",
        lambda port: [binary, str(conf), *procs.redis_command(binary, port, directory)[1:]],
        directory,
    )


def rewritten(kind: str, directory: Path) -> str:
    """Start a server from CONFIG_TEXT, change a few settings, CONFIG REWRITE, and return the
    file, minus the directives only Redis writes (pidfile, user) and the ones each test
    server gets on its command line."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "redis.conf").write_text(CONFIG_TEXT)
    server = start_with_file(kind, directory)
    try:
        r = redis.Redis(*server.addr, protocol=2)
        r.config_set("maxmemory", "1gb")
        r.config_set("slowlog-max-len", "99")
        r.config_set("notify-keyspace-events", "KEA")
        r.config_set("client-output-buffer-limit", "normal 1mb 2mb 3")
        r.config_set("save", "")
        r.config_set("shutdown-on-sigterm", "force NOSAVE")
        assert r.execute_command("CONFIG", "REWRITE") == b"OK"
    finally:
        server.stop()
    skip = ("pidfile ", "user ", "port ", "dir ", "bind ", "appendonly ")
    text = (directory / "redis.conf").read_text()
    return "\n".join(line for line in text.split("\n") if not line.startswith(skip))


def split_tail(text: str) -> tuple[str, list[str]]:
    """The rewritten file up to the signature, and the appended lines, sorted: Redis
    appends in its config dict's order, which its random hash seed changes per process."""
    head, _, tail = text.partition("# Generated by CONFIG REWRITE\n")
    return head, sorted(tail.split("\n"))


def test_config_rewrite_matches_redis(tmp_path: Path) -> None:
    ours = rewritten("slotd", tmp_path / "slotd")
    assert split_tail(ours) == split_tail(rewritten("redis", tmp_path / "redis"))
    assert ours.startswith(
        "# a comment\n# an indented comment\n\nmaxmemory 1gb\n\nhz 10\n"
        'save ""\n\nreplica-read-only yes\n'
        "client-output-buffer-limit normal 1mb 2mb 3\n"
    )


def test_config_rewrite_without_a_file(slotd_proc: ServerProcess) -> None:
    with RawClient(*slotd_proc.addr) as c:
        assert c.call("CONFIG", "REWRITE") == (
            b"-ERR The server is running without a config file\r\n"
        )


_HASH_ORDERED = ("cmdstat_", "latency_percentiles_usec_")


def _info_workload(r: redis.Redis) -> None:
    r.flushall()
    r.set("k", "v")
    r.get("k")
    r.get("missing")
    r.set("t", "1", px=100_000)
    r.eval("return redis.call('get', KEYS[1])", 1, "k")
    r.select(3)
    r.set("db3key", "x")
    r.select(2)
    r.set("gone", "x")
    r.delete("gone")  # an emptied database is left out of the keyspace section
    r.select(0)
    with pytest.raises(redis.ResponseError):
        r.incr("k")
    with pytest.raises(redis.ResponseError):
        r.execute_command("NOSUCHCOMMAND")


def test_redis_py_parses_every_info_section(slotd_factory: Factory, redis_factory: Factory) -> None:
    """redis-py's info() on slotd gives the same fields, with values of the same Python types
    (int, float, str, or the dicts of keyspace/commandstats/errorstats/latencystats lines),
    as on redis-server after the same commands, for every section and selector."""
    parsed = []
    for server in (slotd_factory(), redis_factory()):
        with redis.Redis(*server.addr, driver_info=None) as r:
            _info_workload(r)
            parsed.append(
                {
                    name: r.info(name)
                    for name in (
                        "server",
                        "clients",
                        "memory",
                        "persistence",
                        "stats",
                        "replication",
                        "cpu",
                        "modules",
                        "commandstats",
                        "errorstats",
                        "latencystats",
                        "cluster",
                        "keyspace",
                        "default",
                        "all",
                        "everything",
                    )
                }
                | {"several": r.info("keyspace", "errorstats")}
            )
    ours, theirs = parsed
    for selector in theirs:
        mine, real = ours[selector], theirs[selector]
        assert sorted(mine) == sorted(real), selector
        # Per-command lines come in the order of Redis's command hash table, not ours.
        assert [f for f in mine if not f.startswith(_HASH_ORDERED)] == [
            f for f in real if not f.startswith(_HASH_ORDERED)
        ], selector
        for field, value in real.items():
            assert type(mine[field]) is type(value), (selector, field, mine[field], value)
            if isinstance(value, dict):
                assert list(mine[field]) == list(value), (selector, field)
    everything = ours["everything"]
    assert everything["db0"] == {"keys": 2, "expires": 1, "avg_ttl": everything["db0"]["avg_ttl"]}
    assert everything["db3"] == {"keys": 1, "expires": 0, "avg_ttl": 0}
    assert "db2" not in everything
    real = theirs["everything"]
    for field in (
        "errorstat_ERR",
        "db3",
        "total_error_replies",
        "keyspace_hits",
        "keyspace_misses",
    ):
        assert everything[field] == real[field], field
    for field in ("cmdstat_get", "cmdstat_set", "cmdstat_eval", "cmdstat_incrby"):
        for counter in ("calls", "rejected_calls", "failed_calls"):
            assert everything[field][counter] == real[field][counter], (field, counter)
    assert set(everything["latency_percentiles_usec_get"]) == {"p50", "p99", "p99.9"}
    assert ours["several"].keys() == {"db0", "db3", "errorstat_ERR"}
    assert ours["default"].keys() == ours["all"].keys() - {
        k for k in ours["all"] if k.startswith(("cmdstat_", "latency_percentiles_usec_"))
    }


RENAMES = 'rename-command FLUSHALL ""\nrename-command CONFIG MYCONFIG\nrename-command get Fetch\n'


def test_rename_command_matches_redis(tmp_path: Path) -> None:
    """rename-command in the config file: the same replies from both servers (removed and
    renamed commands, ACL rules by original names, scripts and COMMAND by the new ones),
    and CONFIG REWRITE keeps the directives."""
    replies = []
    for kind in ("slotd", "redis"):
        directory = tmp_path / kind
        directory.mkdir()
        (directory / "redis.conf").write_text(RENAMES)
        server = start_with_file(kind, directory)
        try:
            with RawClient(*server.addr) as c:
                replies.append(
                    [
                        c.call(*args)
                        for args in (
                            ("FLUSHALL",),
                            ("CONFIG", "GET", "hz"),
                            ("MYCONFIG", "GET", "hz"),
                            ("SET", "a", "1"),
                            ("FETCH", "a"),
                            ("get", "a"),
                            ("COMMAND", "INFO", "fetch"),
                            ("COMMAND", "GETKEYS", "fetch", "a"),
                            ("ACL", "SETUSER", "u", "+get"),
                            ("ACL", "SETUSER", "u", "+fetch"),
                            ("EVAL", "return redis.call('fetch', 'a')", "0"),
                            ("EVAL", "return redis.call('get', 'a')", "0"),
                            ("MULTI",),
                            ("fetch", "a"),
                            ("EXEC",),
                            ("MYCONFIG", "REWRITE"),
                        )
                    ]
                )
        finally:
            server.stop()
        assert (directory / "redis.conf").read_text().startswith(RENAMES)
    assert replies[0] == replies[1]
