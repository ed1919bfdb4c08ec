"""Client-side caching against a real redis-server: scripted conversations between several
connections (tracking clients, writers, redirect targets), every byte each connection
receives compared after every step.

A step is "<who> <command>"; `$x` in a command is the client id of connection x. After a
step every open connection is synced with a PING, so what it holds before the PONG is
exactly what that step made the server send it (a connection inside MULTI or with CLIENT
REPLY OFF is read later instead). Client ids differ between the servers:
they are compared by name where Redis prints them (HELLO, REDIRECT in TRACKINGINFO,
tracking-redir-broken, GETREDIR).
"""

from __future__ import annotations

import re
import shlex

import pytest

from tests.procs import ServerProcess
from tests.rawclient import RawClient

pytestmark = pytest.mark.interop

_PONGS = (b"+PONG\r\n", b"*2\r\n$4\r\npong\r\n$0\r\n\r\n")
_ID_PLACES = (
    rb"(\$2\r\nid\r\n:)(\d+)",
    rb"(tracking-redir-broken\r\n:)(\d+)",
    rb"(\$8\r\nredirect\r\n:)(\d+)",
    rb"^(:)(\d+)(?=\r\n$)",
)


def _sync(conn: RawClient) -> bytes:
    """Everything the connection was sent before a PING's answer."""
    conn.send("PING")
    data = b""
    while True:
        frame = conn.read_reply()
        if frame in _PONGS:
            return data
        data += frame


def _with_ids(arg: str, ids: dict[str, str]) -> str:
    return re.sub(r"\$([a-z])", lambda m: ids[m.group(1)], arg)


def converse(server: ServerProcess, script: list[str]) -> list[tuple[str, str, bytes]]:
    conns: dict[str, RawClient] = {}
    names: dict[bytes, bytes] = {}
    muted: set[str] = set()  # CLIENT REPLY OFF: no PONG to wait for
    queuing: set[str] = set()  # inside MULTI
    log: list[tuple[str, str, bytes]] = []
    try:
        first = RawClient(*server.addr)
        first.call("FLUSHALL")
        first.close()
        for step in script:
            who, line = step.split(" ", 1)
            if who not in conns:
                conns[who] = RawClient(*server.addr)
                names[conns[who].call("CLIENT", "ID")[1:-2]] = who.encode()
            ids = {name.decode(): cid.decode() for cid, name in names.items()}
            args = [_with_ids(a, ids) for a in shlex.split(line)]
            if args[0].lower() == "quit":
                assert conns[who].call(*args) == b"+OK\r\n"
                conns.pop(who).close()
                continue
            command = args[0].lower()
            if command == "multi" or who in queuing:
                # Inside MULTI a PING would be queued: read the one reply instead.
                queuing.add(who)
                log.append((step, who, conns[who].call(*args)))
                if command in ("exec", "discard", "reset"):
                    queuing.discard(who)
                continue
            if args[:3] == ["CLIENT", "REPLY", "OFF"]:
                muted.add(who)
            elif args[:3] == ["CLIENT", "REPLY", "ON"]:
                muted.discard(who)
            conns[who].send(*args)
            # The stepping connection first: once its PING is answered, its command ran.
            for name in sorted(conns, key=lambda n: n != who):
                if name in muted or name in queuing:
                    continue  # it answers no PING now; what it gets is read later
                data = _sync(conns[name])
                for place in _ID_PLACES:
                    data = re.sub(place, lambda m: m.group(1) + names.get(m.group(2), b"?"), data)
                log.append((step, name, data))
    finally:
        for conn in conns.values():
            conn.close()
    return log


def same(slotd: ServerProcess, redis: ServerProcess, script: list[str]) -> None:
    ours, theirs = converse(slotd, script), converse(redis, script)
    for mine, real in zip(ours, theirs, strict=True):
        assert mine == real, f"\n  slotd: {mine!r}\n  redis: {real!r}"


SCRIPTS: dict[str, list[str]] = {
    "resp3_default_mode": [
        "a HELLO 3",
        "a CLIENT TRACKING ON",
        "a GET k",
        "a SET k v",
        "a GET k",
        "b SET k w",
        "a GET k",
        "a MGET k k2",
        "b MSET k 1 k2 2",
        "a GET k",
        "a FLUSHDB",
        "a GET k",
        "a CLIENT TRACKINGINFO",
        "a CLIENT TRACKING ON BCAST",
        "a CLIENT TRACKING OFF",
        "b SET k 2",
        "a CLIENT TRACKINGINFO",
        "a CLIENT GETREDIR",
    ],
    "errors_and_prefixes": [
        "a HSET h f v",
        "a HELLO 3",
        "a CLIENT TRACKING ON",
        "a GET h",
        "b HSET h f w",
        "a CLIENT TRACKING OFF",
        "a CLIENT TRACKING ON BCAST PREFIX a PREFIX b PREFIX bc",
        "a CLIENT TRACKINGINFO",
        "a CLIENT TRACKING OFF",
        "a CLIENT TRACKING ON BCAST PREFIX bc PREFIX b",
        "a CLIENT TRACKING ON BCAST PREFIX x",
        "a CLIENT TRACKING ON BCAST PREFIX xy",
        "a CLIENT TRACKING ON BCAST PREFIX y",
        "a CLIENT TRACKINGINFO",
        "a CLIENT TRACKING OFF",
        "a CLIENT TRACKING ON",
        "a CLIENT TRACKING ON BCAST",
        "a CLIENT TRACKING ON BCAST OPTIN",
        "a CLIENT TRACKING ON PREFIX x",
        "a CLIENT TRACKING ON OPTIN OPTOUT",
        "a CLIENT TRACKING ON REDIRECT 0",
        "a CLIENT TRACKING ON REDIRECT abc",
        "a CLIENT TRACKING ON REDIRECT $b REDIRECT $b",
        "a CLIENT TRACKING ON foo",
        "a CLIENT TRACKING maybe",
        "a CLIENT TRACKING",
        "a CLIENT TRACKING OFF REDIRECT 0",
        "a CLIENT TRACKING ON BCAST PREFIX",
        "a CLIENT CACHING YES",
        "a CLIENT CACHING NO",
        "a CLIENT CACHING maybe",
        "a CLIENT TRACKING OFF",
        "a CLIENT CACHING YES",
        "a CLIENT GETREDIR",
        "a CLIENT TRACKINGINFO",
    ],
    "optin_optout_noloop": [
        "a HELLO 3",
        "a CLIENT TRACKING ON OPTIN",
        "a GET k1",
        "a CLIENT CACHING YES",
        "a CLIENT TRACKINGINFO",
        "a GET k2",
        "a CLIENT TRACKINGINFO",
        "b MSET k1 1 k2 2",
        "a CLIENT CACHING YES",
        "a CLIENT ID",
        "a GET k1",
        "b SET k1 x",
        "a CLIENT TRACKING ON OPTOUT",
        "a CLIENT TRACKING OFF",
        "a CLIENT TRACKING ON OPTOUT NOLOOP",
        "a CLIENT TRACKINGINFO",
        "a GET k3",
        "a CLIENT CACHING NO",
        "a CLIENT TRACKINGINFO",
        "a GET k4",
        "b MSET k3 1 k4 1",
        "a GET k3",
        "a SET k3 mine",
        "b SET k3 theirs",
    ],
    "transactions": [
        "a HELLO 3",
        "a CLIENT TRACKING ON OPTIN",
        "a CLIENT CACHING YES",
        "a MULTI",
        "a GET m1",
        "a GET m2",
        "a EXEC",
        "a GET m3",
        "b MSET m1 1 m2 2 m3 3",
        "a MULTI",
        "a CLIENT CACHING YES",
        "a GET m1",
        "a EXEC",
        "a GET m2",
        "b MSET m1 1 m2 2",
        "a CLIENT TRACKING OFF",
        "a CLIENT TRACKING ON",
        "a MULTI",
        "a GET t1",
        "a SET t1 x",
        "a EXEC",
        "a RESET",
        "a GET t1",
        "b SET t1 y",
    ],
    "bcast": [
        "a HELLO 3",
        "a CLIENT TRACKING ON BCAST PREFIX user: PREFIX obj NOLOOP",
        "c HELLO 3",
        "c CLIENT TRACKING ON BCAST",
        "b MSET user:2 a user:1 b other x objx y",
        "a SET user:3 mine",
        "a MSET obj1 1 user:4 2",
        "a DEL user:1 user:2",
        "b FLUSHDB",
        "b SET user:9 x",
        "c CLIENT TRACKINGINFO",
        "a CLIENT TRACKINGINFO",
    ],
    "redirect_resp2": [
        "b SUBSCRIBE __redis__:invalidate",
        "c HELLO 3",
        "a CLIENT TRACKING ON REDIRECT $b",
        "a CLIENT GETREDIR",
        "a GET k",
        "a SET k 1",
        "a FLUSHDB",
        "d CLIENT TRACKING ON REDIRECT $b",
        "d HELLO 3",
        "d GET k",
        "a SET k 2",
        "a FLUSHDB",
        "e CLIENT TRACKING ON REDIRECT $c",
        "e GET k",
        "a SET k 3",
        "a FLUSHDB",
        "f CLIENT TRACKING ON REDIRECT $a",
        "f GET k",
        "a SET k 4",
        "a CLIENT TRACKINGINFO",
        "f CLIENT TRACKINGINFO",
    ],
    "broken_redirect": [
        "d SUBSCRIBE foo",
        "e CLIENT TRACKING ON REDIRECT $d",
        "e GET k",
        "d QUIT",
        "b SET k 1",
        "e CLIENT TRACKINGINFO",
        "f HELLO 3",
        "g ECHO hi",
        "f CLIENT TRACKING ON REDIRECT $g",
        "f GET k",
        "g QUIT",
        "b SET k 2",
        "f CLIENT TRACKINGINFO",
        "f GET k",
        "b SET k 3",
        "f CLIENT TRACKING OFF",
        "f CLIENT TRACKINGINFO",
    ],
    "reply_off_and_other_commands": [
        "a HELLO 3",
        "a CLIENT TRACKING ON",
        "a GET k",
        "a CLIENT REPLY OFF",
        "b SET k 1",
        "a GET k",
        "a CLIENT REPLY ON",
        "b SET k 2",
        "a HGETALL h",
        "a SMEMBERS s",
        "a LRANGE l 0 -1",
        "a TYPE t",
        "a EXISTS e1 e2",
        "a INCR n",
        "b HSET h f v",
        "b SADD s m",
        "b RPUSH l x",
        "b SET t 1",
        "b MSET e1 1 e2 2 n 5",
        "a SELECT 5",
        "a GET k5",
        "b SET k5 0",
        "a SORT_RO l",
        "b RPUSH l y",
    ],
    "scripts": [
        "a HELLO 3",
        "a CLIENT TRACKING ON",
        "a EVAL_RO 'return 1' 1 x",
        "a EVAL_RO \"return redis.call('get', KEYS[1])\" 1 k",
        "a EVAL \"return redis.call('get', 'zz')\" 1 k7",
        "a EVAL \"return redis.call('mget', 'k3', 'k4')\" 0",
        "a EVAL \"redis.call('set', KEYS[1], 'mine') return 1\" 1 k5",
        "a GET k6",
        "a EVAL \"redis.call('set', 'k6', 'mine') return 1\" 0",
        "a MULTI",
        "a EVAL \"return redis.call('get', 'zz')\" 1 k10",
        "a GET k11",
        "a EXEC",
        "b MSET x 1 k 1 zz 1 k7 1 k3 1 k4 1 k5 1 k10 1 k11 1",
    ],
}


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_conversation(slotd_proc: ServerProcess, redis_proc: ServerProcess, name: str) -> None:
    same(slotd_proc, redis_proc, SCRIPTS[name])


def test_table_limit_and_info(slotd_proc: ServerProcess, redis_proc: ServerProcess) -> None:
    """The keys counted in INFO while tracking, and what is left after a flush. (Which
    keys an over-full table drops is random in Redis: only its size is compared.)"""
    results = []
    for server in (slotd_proc, redis_proc):
        with RawClient(*server.addr) as a, RawClient(*server.addr) as b:
            a.call("FLUSHALL")
            a.call("HELLO", "3")
            a.call("CLIENT", "TRACKING", "ON")
            b.call("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "p", "PREFIX", "q")
            a.call("MGET", "x", "y", "z")
            info = b.call("INFO", "all")
            counts = re.findall(rb"(tracking_\w+:\d+)", info)
            a.call("CONFIG", "SET", "tracking-table-max-keys", "1")
            try:
                _sync(a)  # Redis evicts before the next command; slotd at CONFIG SET
                size = re.findall(rb"tracking_total_keys:\d+", b.call("INFO", "stats"))
            finally:
                a.call("CONFIG", "SET", "tracking-table-max-keys", "1000000")
            a.call("FLUSHALL")
            after = re.findall(rb"tracking_total_\w+:\d+", b.call("INFO", "stats"))
            results.append((counts, size, after))
    assert results[0] == results[1]
