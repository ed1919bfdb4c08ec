"""Connection and server commands against a real redis-server, reply bytes compared.

Replies that carry per-process facts (client ids, addresses, times, memory) are compared by
shape: INFO by section and field names, CLIENT LIST by field names, CONFIG GET * by names.
Tests that change server-wide settings restore them.
"""

from __future__ import annotations

import pytest

from tests.compat.conftest import Differ
from tests.procs import ServerProcess
from tests.rawclient import RawClient, split_aggregate

pytestmark = pytest.mark.interop


def _bulk_body(reply: bytes) -> bytes:
    return reply[reply.index(b"\r\n") + 2 : -2]


def test_hello_errors(diff: Differ) -> None:
    for args in (
        ("4",),
        ("0",),
        ("abc",),
        ("3", "FOO"),
        ("3", "AUTH", "a"),
        ("3", "SETNAME"),
        ("3", "SETNAME", "a b"),
        ("3", "AUTH", "nobody", "x"),
        ("2", "auth"),
    ):
        diff("HELLO", *args)


def test_hello_reply_apart_from_the_id(diff: Differ) -> None:
    for version in ("2", "3", "2"):
        ours, theirs = diff.both("HELLO", version)
        mine, real = split_aggregate(ours), split_aggregate(theirs)
        assert mine[0] == real[0]
        assert [x for i, x in enumerate(mine[1]) if i != 7] == [
            x for i, x in enumerate(real[1]) if i != 7
        ]


def test_auth_without_password(diff: Differ) -> None:
    for args in (("x",), ("default", "x"), ("bob", "x"), ("a", "b", "c")):
        diff("AUTH", *args)
    diff("AUTH")


def test_select_ping_echo(diff: Differ) -> None:
    for index in ("1", "16", "-1", "01", "x", "99999999999", "0"):
        diff("SELECT", index)
    diff("PING")
    diff("PING", "m")
    diff("PING", "a", "b")
    diff("ECHO", "e")


def test_client_name_and_misc(diff: Differ) -> None:
    diff("CLIENT", "GETNAME")
    diff("CLIENT", "SETNAME", "a b")
    diff("CLIENT", "SETNAME", "slotd-test")
    diff("CLIENT", "GETNAME")
    diff("CLIENT", "SETNAME", "")
    diff("CLIENT", "GETNAME")
    diff("CLIENT", "NO-EVICT", "maybe")
    diff("CLIENT", "NO-EVICT", "on")
    diff("CLIENT", "NO-EVICT", "off")
    diff("CLIENT", "REPLY", "maybe")
    diff("CLIENT", "HELP")
    diff("CLIENT")
    diff("CLIENT", "nosuch")
    diff("CLIENT", "ID", "extra")


def test_client_list_and_kill_errors(diff: Differ) -> None:
    for args in (
        ("TYPE", "foo"),
        ("TYPE",),
        ("ID",),
        ("ID", "abc"),
        ("ID", "1", "abc"),
        ("TYPE", "normal", "ID", "1"),
        ("foo",),
        ("TYPE", "master"),
        ("ID", "999999"),
    ):
        diff("CLIENT", "LIST", *args)
    for args in (
        ("1.2.3.4:5",),
        ("ID",),
        ("ID", "abc"),
        ("ID", "0"),
        ("TYPE", "foo"),
        ("USER", "nobody"),
        ("TYPE", "normal", "SKIPME", "maybe"),
        ("FOO", "bar"),
        ("a", "b", "c"),
        ("ID", "999999"),
        ("TYPE", "master"),
    ):
        diff("CLIENT", "KILL", *args)
    diff("CLIENT", "KILL")


def test_client_list_fields(diff: Differ) -> None:
    for command in (("CLIENT", "INFO"), ("CLIENT", "LIST", "TYPE", "normal")):
        ours, theirs = diff.both(*command)
        mine = [item.split(b"=")[0] for item in _bulk_body(ours).split()]
        real = [item.split(b"=")[0] for item in _bulk_body(theirs).split()]
        assert mine[: len(real)] == real


def test_client_reply_modes(diff: Differ) -> None:
    diff.ours.send("CLIENT", "REPLY", "OFF")
    diff.theirs.send("CLIENT", "REPLY", "OFF")
    diff.ours.send("SET", "k", "v")
    diff.theirs.send("SET", "k", "v")
    diff("CLIENT", "REPLY", "ON")
    diff.ours.send("CLIENT", "REPLY", "SKIP")
    diff.theirs.send("CLIENT", "REPLY", "SKIP")
    diff.ours.send("GET", "k")
    diff.theirs.send("GET", "k")
    diff("GET", "k")


def test_reset(diff: Differ) -> None:
    diff("SELECT", "3")
    diff("CLIENT", "SETNAME", "x")
    diff("RESET")
    diff("CLIENT", "GETNAME")
    diff("RESET", "extra")


def test_config_get(diff: Differ) -> None:
    for name in (
        "maxmemory",
        "SAVE",
        "slave-read-only",
        "nosuch",
        "databases",
        "bind",
        "hash-max-listpack-entries",
        "client-output-buffer-limit",
        "appendfsync",
        "maxmemory-clients",
        "list-max-ziplist-size",
        "timeout",
    ):
        diff("CONFIG", "GET", name)
    diff("CONFIG", "GET", "maxmemory", "MAXMEMORY", "timeout", unordered=True)
    diff("CONFIG", "GET", "max*", unordered=True)
    diff("CONFIG", "GET", "*read-only", "maxmemory-p?licy", unordered=True)
    diff("CONFIG", "GET")


def test_config_get_names_match_redis(diff: Differ) -> None:
    ours, theirs = diff.both("CONFIG", "GET", "*")
    mine = set(split_aggregate(ours)[1][::2])
    real = {name for name in split_aggregate(theirs)[1][::2] if b"$" in name[:1]}
    assert mine == real


def test_config_set_errors(diff: Differ) -> None:
    for args in (
        ("maxmemory", "1", "2"),
        ("nosuch", "1"),
        ("nosuch", "1", "daemonize", "yes"),
        ("daemonize", "yes", "nosuch", "1"),
        ("dir", "/tmp"),
        ("hz", "10", "hz", "11"),
        ("maxmemory", "abc"),
        ("maxmemory", "-1"),
        ("HZ", "x"),
        ("hz", "05"),
        ("hz", "-5"),
        ("maxclients", "0"),
        ("maxmemory-policy", "foo"),
        ("loglevel", "foo"),
        ("appendfsync", "sometimes"),
        ("appendonly", "maybe"),
        ("SLAVE-READ-ONLY", "maybe"),
        ("save", "100 x"),
        ("maxmemory-clients", "x%"),
        ("maxmemory", "0", "hz", "x"),
        ("list-max-listpack-size", "1k"),
        ("bind", " ".join(f"127.0.0.{i}" for i in range(1, 18))),
    ):
        diff("CONFIG", "SET", *args)
    diff("CONFIG", "SET", "hz")
    diff("CONFIG", "GET", "hz", "maxmemory", unordered=True)


# Settings a bad value could not hurt but a good one would (files, listeners, passwords).
_NOT_PROBED = (
    "bind",
    "port",
    "unixsocket",
    "dir",
    "logfile",
    "requirepass",
    "masterauth",
    "masteruser",
    "appendonly",
    "appenddirname",
    "dbfilename",
    "daemonize",
    "pidfile",
)
_PROBES = (
    "abc",
    "-1",
    "",
    "yes",
    "1gb",
    "99999999999999999999",
    "0",
    "1 2",
    "10%",
    "-5%",
    "101%",
    "kb",
    "0x10",
    "1.5",
    "501",
    "  ",
    "{title}",
    "a_b",
    "1k",
    "-9223372036854775808",
)


def test_config_set_every_parameter_with_odd_values(diff: Differ) -> None:
    """Every parameter both servers have, set to values of every kind: the same reply, the
    same value read back (validators, clamps, C integer wrap-around); then restored."""
    ours, theirs = diff.both("CONFIG", "GET", "*")
    values = dict(zip(*[iter(split_aggregate(theirs)[1])] * 2, strict=True))
    names = sorted(_bulk_body(name).decode() for name in values)
    mine = dict(zip(*[iter(split_aggregate(ours)[1])] * 2, strict=True))
    for name in names:
        if name.startswith("tls-") or name in _NOT_PROBED:
            continue
        key = b"$%d\r\n%s\r\n" % (len(name), name.encode())
        for probe in _PROBES:
            if name == "oom-score-adj-values" and probe == "  ":
                continue  # Redis reads three empty words as zeros; slotd refuses it
            if diff("CONFIG", "SET", name, probe) != b"+OK\r\n":
                continue
            diff("CONFIG", "GET", name)
            for client, original in ((diff.ours, mine[key]), (diff.theirs, values[key])):
                assert client.call("CONFIG", "SET", name, _bulk_body(original)) == b"+OK\r\n", (
                    name,
                    probe,
                )


def test_config_multi_word_enums(diff: Differ) -> None:
    """shutdown-on-sigterm/-sigint take several words of an enum, kept in its order."""
    try:
        for name in ("shutdown-on-sigterm", "shutdown-on-sigint"):
            for value in (
                "nosave now",
                "save",
                "foo",
                "default now",
                "NOSAVE NOW force",
                "",
                "save nosave",
                "now  force",
                "default",
            ):
                diff("CONFIG", "SET", name, value)
                diff("CONFIG", "GET", name)
    finally:
        diff("CONFIG", "SET", "shutdown-on-sigterm", "default", "shutdown-on-sigint", "default")


def test_config_set_round_trips(diff: Differ) -> None:
    try:
        diff("CONFIG", "SET", "maxmemory", "10mb", "hz", "20")
        diff("CONFIG", "GET", "maxmemory")
        diff("CONFIG", "GET", "hz")
        diff("CONFIG", "SET", "maxmemory-clients", "10%")
        diff("CONFIG", "GET", "maxmemory-clients")
        diff("CONFIG", "SET", "maxmemory-policy", "ALLKEYS-LRU")
        diff("CONFIG", "GET", "maxmemory-policy")
    finally:
        diff(
            "CONFIG",
            "SET",
            "maxmemory",
            "0",
            "hz",
            "10",
            "maxmemory-clients",
            "0",
            "maxmemory-policy",
            "noeviction",
        )


def test_config_help_and_errors(diff: Differ) -> None:
    diff("CONFIG", "HELP")
    diff("CONFIG", "nosuch")
    diff("CONFIG")


# Sections whose lines depend on the server's history (which errors it returned, which
# databases hold keys): the session servers are shared with other tests, so only their
# titles are compared (test_info_errorstats_lines and the keyspace test use fresh state).
_HISTORY_SECTIONS = (b"# Errorstats", b"# Keyspace")


def _info_shape(reply: bytes) -> list[tuple[bytes, list[bytes]]]:
    out = []
    for block in _bulk_body(reply).split(b"\r\n\r\n"):
        if not block:
            continue
        title, *lines = block.strip(b"\r\n").split(b"\r\n")
        names = [] if title in _HISTORY_SECTIONS else [line.split(b":")[0] for line in lines]
        out.append((title, names))
    return out


@pytest.mark.parametrize(
    "sections",
    [
        (),
        ("default",),
        ("server",),
        ("clients",),
        ("memory",),
        ("persistence",),
        ("stats",),
        ("replication",),
        ("cpu",),
        ("modules",),
        ("cluster",),
        ("keyspace", "server"),
        ("nosuch",),
        ("CLUSTER", "cpu"),
    ],
)
def test_info_shape(diff: Differ, sections: tuple[str, ...]) -> None:
    ours, theirs = diff.both("INFO", *sections)
    assert _info_shape(ours) == _info_shape(theirs)


def test_info_keyspace_and_cluster_bytes(diff: Differ) -> None:
    diff("INFO", "keyspace")
    diff("SET", "k", "v")
    diff("INFO", "keyspace")
    diff("INFO", "cluster")
    diff("INFO", "cluster", "modules")


def test_info_errorstats_lines(slotd_proc: ServerProcess, redis_proc: ServerProcess) -> None:
    """Fresh servers' errorstats after the same errors (the session servers share theirs)."""
    names = []
    for server in (slotd_proc, redis_proc):
        with RawClient(*server.addr) as c:
            before = _info_shape(c.call("INFO", "errorstats"))
            c.call("HELLO", "9")
            after = c.call("INFO", "errorstats")
            names.append((before[0][0], b"\r\nerrorstat_NOPROTO:" in after))
    assert names[0] == names[1] == (b"# Errorstats", True)


def test_time_lastsave_shutdown_errors(diff: Differ) -> None:
    diff("TIME", "x")
    diff("LASTSAVE", "x")
    for args in (("foo",), ("NOSAVE", "SAVE"), ("ABORT", "NOW"), ("ABORT",)):
        diff("SHUTDOWN", *args)
    ours, theirs = diff.both("TIME")
    assert split_aggregate(ours)[0] == split_aggregate(theirs)[0] == b"*2\r\n"
