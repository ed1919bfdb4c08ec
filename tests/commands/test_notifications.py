"""Keyspace notifications through the engine: the notify-keyspace-events classes as
CONFIG SET/GET sees them, the channels and message frames, and the exact events each
command emits (checked with PSUBSCRIBE '__key*__:*' on redis-server 7.0.15)."""

from __future__ import annotations

import shlex

import pytest

from tests.support import Harness


class Events:
    """A PSUBSCRIBE '__key*__:*' listener on the engine; `take()` returns the events since
    the last call as compact strings: "set:k" (keyevent channel, db 0), "set:k@1" (db 1).
    Every keyevent message is checked against its keyspace twin, which comes first."""

    def __init__(self, h: Harness, classes: str = "KEA") -> None:
        self.h = h
        h.raw("CONFIG", "SET", "notify-keyspace-events", classes)
        self.sub = h.client_harness()
        self.sub.raw("PSUBSCRIBE", "__key*__:*")
        self.sub.client.out.clear()

    def frames(self) -> list[list[bytes]]:
        return self.sub.frames()

    def take(self) -> list[str]:
        out: list[str] = []
        pending_space: tuple[str, str, str] | None = None
        for kind, _pattern, channel, message in self.frames():
            assert kind == b"pmessage"
            head, _, name = channel.partition(b"__:")
            space, _, db = head.partition(b"@")
            if space == b"__keyspace":
                pending_space = (db.decode(), name.decode(), message.decode())
                continue
            assert space == b"__keyevent", channel
            db_s, event, key = db.decode(), name.decode(), message.decode()
            if pending_space is not None:  # K and E both on: the pair must agree
                assert pending_space == (db_s, key, event), (pending_space, channel, message)
                pending_space = None
            out.append(f"{event}:{key}" + (f"@{db_s}" if db_s != "0" else ""))
        assert pending_space is None
        return out

    def __call__(self, *args: str) -> list[str]:
        """Run a command on the main client and return the events it emitted."""
        self.take()
        self.h.raw(*args)
        return self.take()


@pytest.fixture
def h() -> Harness:
    return Harness()


@pytest.fixture
def ev(h: Harness) -> Events:
    return Events(h, "KEAnm")


# --- the config ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("KEA", "AKE"),
        ("Ex", "xE"),
        ("A", "A"),
        ("AKE", "AKE"),
        ("nm", "nm"),
        ("g$lshzxetdn", "A"),  # "A" is every class but n and m; it hides n in the output
        ("g$lshzxet", "g$lshzxet"),
        ("KEAmn", "AKEm"),
        ("", ""),
        ("KA", "AK"),
        ("E$", "$E"),
        ("gg", "g"),
        ("nK", "nK"),
        ("dtezhsl$g", "g$lshzetd"),
    ],
)
def test_classes_round_trip(h: Harness, given: str, shown: str) -> None:
    assert h("CONFIG", "SET", "notify-keyspace-events", given) == b"OK"
    assert h("CONFIG", "GET", "notify-keyspace-events") == [
        b"notify-keyspace-events",
        shown.encode(),
    ]


def test_invalid_class(h: Harness) -> None:
    h("CONFIG", "SET", "notify-keyspace-events", "KEA")
    assert h.error("CONFIG", "SET", "notify-keyspace-events", "KEz?") == (
        "ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - "
        "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."
    )
    assert h("CONFIG", "GET", "notify-keyspace-events")[1] == b"AKE"


def test_startup_value() -> None:
    h = Harness(notify_keyspace_events="Elx")
    assert h("CONFIG", "GET", "notify-keyspace-events")[1] == b"lxE"
    assert h.engine.notify_flags


def test_nothing_is_published_without_k_or_e(h: Harness) -> None:
    events = Events(h, "A")
    assert h.engine.notify_flags == 0
    assert events("SET", "k", "v") == []


def test_channels_and_frames(h: Harness) -> None:
    sub = h.client_harness(resp=3)
    sub.raw("SUBSCRIBE", "__keyspace@0__:k", "__keyevent@0__:set")
    sub.client.out.clear()
    h("CONFIG", "SET", "notify-keyspace-events", "KE$")
    h("SET", "k", "v")
    assert b"".join(sub.client.out) == (
        b">3\r\n$7\r\nmessage\r\n$16\r\n__keyspace@0__:k\r\n$3\r\nset\r\n"
        b">3\r\n$7\r\nmessage\r\n$18\r\n__keyevent@0__:set\r\n$1\r\nk\r\n"
    )


def test_keyspace_only_and_keyevent_only(h: Harness) -> None:
    sub = h.client_harness()
    sub.raw("PSUBSCRIBE", "*")
    sub.client.out.clear()
    h("CONFIG", "SET", "notify-keyspace-events", "K$")
    h("SELECT", "5")
    h("SET", "k", "v")
    assert b"".join(sub.client.out) == (
        b"*4\r\n$8\r\npmessage\r\n$1\r\n*\r\n$16\r\n__keyspace@5__:k\r\n$3\r\nset\r\n"
    )
    sub.client.out.clear()
    h("CONFIG", "SET", "notify-keyspace-events", "E$")
    h("SET", "k", "v")
    assert b"".join(sub.client.out) == (
        b"*4\r\n$8\r\npmessage\r\n$1\r\n*\r\n$18\r\n__keyevent@5__:set\r\n$1\r\nk\r\n"
    )


def test_a_subscribed_resp3_client_gets_its_own_events_before_the_reply(h: Harness) -> None:
    h.client.resp = 3
    h("CONFIG", "SET", "notify-keyspace-events", "KEA")
    h.raw("SUBSCRIBE", "__keyevent@0__:set")
    assert h.raw("SET", "k", "v") == (
        b">3\r\n$7\r\nmessage\r\n$18\r\n__keyevent@0__:set\r\n$1\r\nk\r\n+OK\r\n"
    )


def test_class_filtering(h: Harness) -> None:
    events = Events(h, "Kl")  # keyspace channel only, lists only
    h("CONFIG", "SET", "notify-keyspace-events", "El")
    assert events("SET", "k", "v") == []
    assert events("RPUSH", "l", "a") == ["rpush:l"]
    h("CONFIG", "SET", "notify-keyspace-events", "Eg")
    assert events("DEL", "k", "l") == ["del:k", "del:l"]
    h("CONFIG", "SET", "notify-keyspace-events", "En")
    assert events("SET", "k", "v") == ["new:k"]
    assert events("SET", "k", "w") == []


# --- generic events: new, expired, keymiss ------------------------------------------------
def test_new_comes_before_the_command_event(ev: Events) -> None:
    assert ev("SET", "a", "1") == ["new:a", "set:a"]
    assert ev("SET", "a", "2") == ["set:a"]


def test_expired_lazy_and_active(h: Harness, ev: Events) -> None:
    h("SET", "a", "1", "PX", "100")
    h("SET", "b", "1", "PX", "100")
    h.advance(200)
    assert ev("EXISTS", "a") == ["expired:a", "keymiss:a"]
    # A write on a stale key expires it first, then creates it anew.
    assert ev("SET", "b", "2") == ["expired:b", "new:b", "set:b"]
    h("SET", "c", "1", "PX", "100")
    h.advance(200)
    ev.take()
    h.engine.keyspace.active_expire_cycle()
    assert ev.take() == ["expired:c"]


def test_keymiss_only_for_read_lookups(h: Harness, ev: Events) -> None:
    assert ev("GET", "nope") == ["keymiss:nope"]
    assert ev("MGET", "a", "nope", "b") == ["keymiss:a", "keymiss:nope", "keymiss:b"]
    assert ev("INCR", "i") == ["new:i", "incrby:i"]  # a write lookup: no keymiss
    h("CONFIG", "SET", "notify-keyspace-events", "KEA")
    assert ev("GET", "nope") == []


# --- every command of the settled families ----------------------------------------------
# (command, events) in sequence, as redis-server 7.0.15 emitted them with "KEAnm" (a
# blocking pop that would wait is left out: here nothing times out).
SCENARIOS: dict[str, list[tuple[str, list[str]]]] = {
    "strings": [
        ("flushall", []),
        ("get nope", ["keymiss:nope"]),
        ("mget a nope b", ["keymiss:a", "keymiss:nope", "keymiss:b"]),
        ("strlen nope", ["keymiss:nope"]),
        ("getrange nope 0 1", ["keymiss:nope"]),
        ("substr nope 0 1", ["keymiss:nope"]),
        ("set a 1", ["new:a", "set:a"]),
        ("set a 2 NX", []),
        ("set a 2 XX", ["set:a"]),
        ("set a 3 GET", ["set:a"]),
        ("set n1 v GET", ["keymiss:n1", "new:n1", "set:n1"]),
        ("set n2 v NX GET", ["keymiss:n2", "new:n2", "set:n2"]),
        ("set a 4 KEEPTTL", ["set:a"]),
        ("set a 5 PX 100000", ["set:a", "expire:a"]),
        ("set a 6 EXAT 1", ["set:a", "expire:a"]),
        ("exists a", ["expired:a", "keymiss:a"]),
        ("set a 6 PXAT 99999999999999", ["new:a", "set:a", "expire:a"]),
        ("set a 7 XX EX 10", ["set:a", "expire:a"]),
        ("set b 1 XX", []),
        ("setnx a 1", []),
        ("setnx c 1", ["new:c", "set:c"]),
        ("setex d 100 v", ["new:d", "set:d", "expire:d"]),
        ("psetex e 100000 v", ["new:e", "set:e", "expire:e"]),
        ("setex f 0 v", []),
        ("getset a 9", ["set:a"]),
        ("getset g 9", ["keymiss:g", "new:g", "set:g"]),
        ("getex a", []),
        ("getex a EX 100", ["expire:a"]),
        ("getex a PERSIST", ["persist:a"]),
        ("getex a PERSIST", []),
        ("getex a PXAT 1", ["del:a"]),
        ("getex nope EX 10", ["keymiss:nope"]),
        ("getex c EXAT 99999999999", ["expire:c"]),
        ("getdel c", ["del:c"]),
        ("getdel nope", ["keymiss:nope"]),
        ("mset m1 1 m2 2", ["new:m1", "set:m1", "new:m2", "set:m2"]),
        ("msetnx m1 1 m3 3", []),
        ("msetnx m3 1 m4 3", ["new:m3", "set:m3", "new:m4", "set:m4"]),
        ("append m1 x", ["append:m1"]),
        ("append ap x", ["new:ap", "append:ap"]),
        ('append ap ""', ["append:ap"]),
        ("setrange m1 0 ZZ", ["setrange:m1"]),
        ("setrange sr 5 abc", ["new:sr", "setrange:sr"]),
        ('setrange sr2 0 ""', []),
        ('setrange m1 0 ""', []),
        ("incr i", ["new:i", "incrby:i"]),
        ("incr i", ["incrby:i"]),
        ("decr i", ["incrby:i"]),
        ("incrby i 10", ["incrby:i"]),
        ("decrby i 10", ["incrby:i"]),
        ("incrbyfloat i 1.5", ["incrbyfloat:i"]),
        ("incrbyfloat f2 1", ["new:f2", "incrbyfloat:f2"]),
        ("incr m1", []),
        ("lcs m1 nope", ["keymiss:nope"]),
        ("strlen m1", []),
        ("get m1", []),
        ("set h1 v", ["new:h1", "set:h1"]),
        ("hset hh f v", ["new:hh", "hset:hh"]),
        ("get hh", []),
        ("set hh x", ["set:hh"]),
        ("set hh y GET", ["set:hh"]),
    ],
    "keys": [
        ("flushall", []),
        ("mset a 1 b 2 c 3", ["new:a", "set:a", "new:b", "set:b", "new:c", "set:c"]),
        ("del a nope b", ["del:a", "del:b"]),
        ("del nope", []),
        ("unlink c nope", ["del:c"]),
        ("exists nope x", ["keymiss:nope", "keymiss:x"]),
        ("type nope", ["keymiss:nope"]),
        ("ttl nope", ["keymiss:nope"]),
        ("pttl nope", ["keymiss:nope"]),
        ("expiretime nope", ["keymiss:nope"]),
        ("pexpiretime nope", ["keymiss:nope"]),
        ("touch nope x", ["keymiss:nope", "keymiss:x"]),
        ("object encoding nope", []),
        ("object freq nope", []),
        ("set a 1", ["new:a", "set:a"]),
        ("expire a 100", ["expire:a"]),
        ("expire a 100 NX", []),
        ("expire a 200 XX", ["expire:a"]),
        ("expire a 300 GT", ["expire:a"]),
        ("expire a 10 LT", ["expire:a"]),
        ("pexpire a 100000", ["expire:a"]),
        ("expireat a 99999999999", ["expire:a"]),
        ("pexpireat a 99999999999999", ["expire:a"]),
        ("expire nope 10", []),
        ("persist a", ["persist:a"]),
        ("persist a", []),
        ("expire a 0", ["del:a"]),
        ("set a 1", ["new:a", "set:a"]),
        ("expire a -1", ["del:a"]),
        ("set a 1", ["new:a", "set:a"]),
        ("pexpireat a 1", ["del:a"]),
        ("set a 1", ["new:a", "set:a"]),
        ("expireat a 1", ["del:a"]),
        ("set a 1", ["new:a", "set:a"]),
        ("rename a b", ["new:b", "rename_from:a", "rename_to:b"]),
        ("rename b b", []),
        ("set c 1", ["new:c", "set:c"]),
        ("rename b c", ["new:c", "rename_from:b", "rename_to:c"]),
        ("renamenx c d", ["new:d", "rename_from:c", "rename_to:d"]),
        ("renamenx d d", []),
        ("set e 1", ["new:e", "set:e"]),
        ("renamenx d e", []),
        ("rename nope x", []),
        ("copy d f", ["new:f", "copy_to:f"]),
        ("copy d f", []),
        ("copy d f REPLACE", ["new:f", "copy_to:f"]),
        ("copy d g DB 1", ["new:g@1", "copy_to:g@1"]),
        ("copy d g DB 1 REPLACE", ["new:g@1", "copy_to:g@1"]),
        ("copy nope g", ["keymiss:nope"]),
        ("move f 2", ["new:f@2", "move_from:f", "move_to:f@2"]),
        ("move d 1", ["new:d@1", "move_from:d", "move_to:d@1"]),
        ("set z 9", ["new:z", "set:z"]),
        ("move z 1", ["new:z@1", "move_from:z", "move_to:z@1"]),
        ("select 0", []),
        ("randomkey", []),
        ("keys *", []),
        ("scan 0", []),
        ("swapdb 0 1", []),
        ("flushdb", []),
        ("flushall", []),
        ("set t 1", ["new:t", "set:t"]),
        ("expire t 100", ["expire:t"]),
        ("ttl t", []),
        ("type t", []),
        ("object encoding t", []),
        ("touch t nope", ["keymiss:nope"]),
    ],
    "lists": [
        ("flushall", []),
        ("lpush l a b c", ["new:l", "lpush:l"]),
        ("rpush l d", ["rpush:l"]),
        ("lpushx nope a", []),
        ("rpushx nope a", []),
        ("lpushx l z", ["lpush:l"]),
        ("rpushx l y", ["rpush:l"]),
        ("lrange nope 0 -1", ["keymiss:nope"]),
        ("llen nope", ["keymiss:nope"]),
        ("lindex nope 0", ["keymiss:nope"]),
        ("lpos nope a", ["keymiss:nope"]),
        ("lpop nope", []),
        ("rpop nope", []),
        ("lpop l", ["lpop:l"]),
        ("rpop l", ["rpop:l"]),
        ("lpop l 2", ["lpop:l"]),
        ("rpop l 5", ["rpop:l", "del:l"]),
        ("rpush l a b c d e", ["new:l", "rpush:l"]),
        ("lpop l 0", []),
        ("rpop l 0", []),
        ("linsert l before c X", ["linsert:l"]),
        ("linsert l after nope Y", []),
        ("linsert nope before a b", []),
        ("lset l 0 Q", ["lset:l"]),
        ("lset nope 0 Q", []),
        ("ltrim l 0 2", ["ltrim:l"]),
        ("ltrim l 0 -1", ["ltrim:l"]),
        ("ltrim l 5 10", ["ltrim:l", "del:l"]),
        ("rpush l a b c a b a", ["new:l", "rpush:l"]),
        ("lrem l 2 a", ["lrem:l"]),
        ("lrem l 0 zz", []),
        ("lrem l 0 b", ["lrem:l"]),
        ("lrem l 0 a", ["lrem:l"]),
        ("lrem l 0 c", ["lrem:l", "del:l"]),
        ("rpush s 1 2 3", ["new:s", "rpush:s"]),
        ("rpoplpush s d", ["new:d", "lpush:d", "rpop:s"]),
        ("rpoplpush s s", ["lpush:s", "rpop:s"]),
        ("rpoplpush nope d", []),
        ("lmove s d LEFT RIGHT", ["rpush:d", "lpop:s"]),
        ("lmove s s LEFT RIGHT", ["rpush:s", "lpop:s"]),
        ("lmove d d LEFT LEFT", ["lpush:d", "lpop:d"]),
        ("lmove s d2 RIGHT LEFT", ["new:d2", "lpush:d2", "rpop:s", "del:s"]),
        ("lmpop 2 nope d LEFT", ["lpop:d"]),
        ("lmpop 2 nope d RIGHT COUNT 10", ["rpop:d", "del:d"]),
        ("lmpop 1 nope LEFT", []),
        ("rpush b1 x", ["new:b1", "rpush:b1"]),
        ("blpop b1 1", ["lpop:b1", "del:b1"]),
        ("rpush b1 x y", ["new:b1", "rpush:b1"]),
        ("brpop b1 1", ["rpop:b1"]),
        ("brpoplpush b1 b2 1", ["new:b2", "lpush:b2", "rpop:b1", "del:b1"]),
        ("blmove b2 b3 LEFT RIGHT 1", ["new:b3", "rpush:b3", "lpop:b2", "del:b2"]),
        ("blmpop 1 1 b3 LEFT", ["lpop:b3", "del:b3"]),
        ("lpush m 1", ["new:m", "lpush:m"]),
        ("ltrim m 1 0", ["ltrim:m", "del:m"]),
    ],
    "hs": [
        ("flushall", []),
        ("hset h a 1 b 2", ["new:h", "hset:h"]),
        ("hset h a 1", ["hset:h"]),
        ("hmset h c 3", ["hset:h"]),
        ("hsetnx h a 9", []),
        ("hsetnx h z 9", ["hset:h"]),
        ("hsetnx nh z 9", ["new:nh", "hset:nh"]),
        ("hget nope f", ["keymiss:nope"]),
        ("hmget nope f", ["keymiss:nope"]),
        ("hgetall nope", ["keymiss:nope"]),
        ("hkeys nope", ["keymiss:nope"]),
        ("hvals nope", ["keymiss:nope"]),
        ("hlen nope", ["keymiss:nope"]),
        ("hexists nope f", ["keymiss:nope"]),
        ("hstrlen nope f", ["keymiss:nope"]),
        ("hrandfield nope", ["keymiss:nope"]),
        ("hscan nope 0", ["keymiss:nope"]),
        ("hget h nofield", []),
        ("hincrby h a 5", ["hincrby:h"]),
        ("hincrby h n 5", ["hincrby:h"]),
        ("hincrby nh2 n 5", ["new:nh2", "hincrby:nh2"]),
        ("hincrbyfloat h a 1.5", ["hincrbyfloat:h"]),
        ("hincrbyfloat nh3 x 1.5", ["new:nh3", "hincrbyfloat:nh3"]),
        ("hdel h nofield", []),
        ("hdel h a b", ["hdel:h"]),
        ("hdel h c z n", ["hdel:h", "del:h"]),
        ("hdel nh z", ["hdel:nh", "del:nh"]),
        ("sadd s a b c", ["new:s", "sadd:s"]),
        ("sadd s a", []),
        ("srem s x", []),
        ("srem s a", ["srem:s"]),
        ("smembers nope", ["keymiss:nope"]),
        ("scard nope", ["keymiss:nope"]),
        ("sismember nope a", ["keymiss:nope"]),
        ("smismember nope a", ["keymiss:nope"]),
        ("srandmember nope", ["keymiss:nope"]),
        ("sscan nope 0", ["keymiss:nope"]),
        ("sinter nope s", ["keymiss:nope"]),
        ("sunion nope s", ["keymiss:nope"]),
        ("sdiff nope s", ["keymiss:nope"]),
        ("sintercard 2 nope s", ["keymiss:nope"]),
        ("spop s", ["spop:s"]),
        ("spop nope", []),
        ("spop s 0", []),
        ("sadd s a b c", ["sadd:s"]),
        ("spop s 2", ["spop:s"]),
        ("spop s 10", ["spop:s", "del:s"]),
        ("sadd s a b c", ["new:s", "sadd:s"]),
        ("smove s t a", ["srem:s", "new:t", "sadd:t"]),
        ("smove s t nope", []),
        ("smove s s b", []),
        ("smove s t b", ["srem:s", "sadd:t"]),
        ("smove s t c", ["srem:s", "del:s", "sadd:t"]),
        ("smove nope t x", []),
        ("sadd s1 a b c", ["new:s1", "sadd:s1"]),
        ("sadd s2 b c d", ["new:s2", "sadd:s2"]),
        ("sinterstore dst s1 s2", ["new:dst", "sinterstore:dst"]),
        ("sinterstore dst s1 nope", ["keymiss:nope", "del:dst"]),
        ("sinterstore dst nope", ["keymiss:nope"]),
        ("sunionstore dst s1 s2", ["new:dst", "sunionstore:dst"]),
        ("sunionstore dst nope", ["keymiss:nope", "del:dst"]),
        ("sdiffstore dst s1 s2", ["new:dst", "sdiffstore:dst"]),
        ("sdiffstore dst s1 s1", ["del:dst"]),
        ("sadd dst x", ["new:dst", "sadd:dst"]),
        ("sdiffstore dst nope", ["keymiss:nope", "del:dst"]),
        ("srem s1 a b c", ["srem:s1", "del:s1"]),
        ("sadd big 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20", ["new:big", "sadd:big"]),
        ("spop big 3", ["spop:big"]),
        ("srandmember big 2", []),
    ],
    "bits": [
        ("flushall", []),
        ("getbit nope 0", ["keymiss:nope"]),
        ("bitcount nope", ["keymiss:nope"]),
        ("bitpos nope 1", ["keymiss:nope"]),
        ("bitfield_ro nope GET u8 0", ["keymiss:nope"]),
        ("setbit b 7 1", ["new:b", "setbit:b"]),
        ("setbit b 7 1", []),
        ("setbit b 7 0", ["setbit:b"]),
        ("setbit b 100 0", ["setbit:b"]),
        ("bitfield b SET u8 0 255", ["setbit:b"]),
        ("bitfield b GET u8 0", []),
        ("bitfield nb GET u8 0", ["keymiss:nb"]),
        ("bitfield nb2 INCRBY u8 0 1", ["new:nb2", "setbit:nb2"]),
        ("bitfield b INCRBY u2 0 10 OVERFLOW FAIL INCRBY u2 0 10", ["setbit:b"]),
        ("bitfield b OVERFLOW FAIL INCRBY u2 0 10", []),
        ("bitfield b SET u8 0 255 SET u8 8 1", ["setbit:b"]),
        ("set s1 abc", ["new:s1", "set:s1"]),
        ("set s2 xyz", ["new:s2", "set:s2"]),
        ("bitop AND d s1 s2", ["new:d", "set:d"]),
        ("bitop OR d s1 s2", ["set:d"]),
        ("bitop AND d nope nope2", ["keymiss:nope", "keymiss:nope2", "del:d"]),
        ("bitop NOT d s1", ["new:d", "set:d"]),
        ("bitop NOT d nope", ["keymiss:nope", "del:d"]),
        ("bitop XOR d nope s1", ["keymiss:nope", "new:d", "set:d"]),
        ('set e ""', ["new:e", "set:e"]),
        ("bitop AND d e", ["del:d"]),
        ("rpush l 3 1 2", ["new:l", "rpush:l"]),
        ("sort l", []),
        ("sort nope", ["keymiss:nope"]),
        ("sort_ro nope", ["keymiss:nope"]),
        ("sort l STORE sl", ["new:sl", "sortstore:sl"]),
        ("sort l STORE sl", ["sortstore:sl"]),
        ("sort nope STORE sl", ["keymiss:nope", "del:sl"]),
        (
            "sort l BY nosort GET nope* STORE sl2",
            ["keymiss:nope3", "keymiss:nope1", "keymiss:nope2", "new:sl2", "sortstore:sl2"],
        ),
        (
            "sort l BY w* GET h*->f",
            ["keymiss:w3", "keymiss:w1", "keymiss:w2", "keymiss:h1", "keymiss:h2", "keymiss:h3"],
        ),
        ("sort_ro l", []),
        ("sadd st 1", ["new:st", "sadd:st"]),
        ("sort st STORE sl3", ["new:sl3", "sortstore:sl3"]),
    ],
    "zsets": [
        ("flushall", []),
        ("zadd z 1 a 2 b 3 c", ["new:z", "zadd:z"]),
        ("zadd z 1 a", []),
        ("zadd z XX 5 a", ["zadd:z"]),
        ("zadd z NX 5 a", []),
        ("zadd z CH 6 a", ["zadd:z"]),
        ("zadd z INCR 1 a", ["zincr:z"]),
        ("zadd z NX INCR 1 a", []),
        ("zadd z GT 1 b", []),
        ("zadd z LT 1 b", ["zadd:z"]),
        ("zadd nz XX 1 a", []),
        ("zincrby z 2 b", ["zincr:z"]),
        ("zincrby nz2 2 b", ["new:nz2", "zincr:nz2"]),
        ("zscore nope a", ["keymiss:nope"]),
        ("zmscore nope a", ["keymiss:nope"]),
        ("zcard nope", ["keymiss:nope"]),
        ("zcount nope 0 1", ["keymiss:nope"]),
        ("zlexcount nope - +", ["keymiss:nope"]),
        ("zrank nope a", ["keymiss:nope"]),
        ("zrevrank nope a", ["keymiss:nope"]),
        ("zrange nope 0 -1", ["keymiss:nope"]),
        ("zrangebyscore nope 0 1", ["keymiss:nope"]),
        ("zrevrangebyscore nope 1 0", ["keymiss:nope"]),
        ("zrangebylex nope - +", ["keymiss:nope"]),
        ("zrevrangebylex nope + -", ["keymiss:nope"]),
        ("zrevrange nope 0 -1", ["keymiss:nope"]),
        ("zrandmember nope", ["keymiss:nope"]),
        ("zscan nope 0", ["keymiss:nope"]),
        ("zunion 2 nope z", ["keymiss:nope"]),
        ("zinter 2 nope z", ["keymiss:nope"]),
        ("zdiff 2 nope z", ["keymiss:nope"]),
        ("zintercard 2 nope z", ["keymiss:nope"]),
        ("zrem z nope", []),
        ("zrem z a", ["zrem:z"]),
        ("zremrangebyscore z 100 200", []),
        ("zremrangebyscore z 0 2", []),
        ("zadd z 1 a 2 b 3 c", ["zadd:z"]),
        ("zremrangebyrank z 0 0", ["zremrangebyrank:z"]),
        ("zremrangebyrank z 10 20", []),
        ("zadd l 0 a 0 b 0 c", ["new:l", "zadd:l"]),
        ("zremrangebylex l [a [a", ["zremrangebylex:l"]),
        ("zremrangebylex l [x [z", []),
        ("zpopmin nope", []),
        ("zpopmin l", ["zpopmin:l"]),
        ("zpopmax l 5", ["zpopmax:l", "del:l"]),
        ("zpopmin l 0", []),
        ("zadd z2 1 x", ["new:z2", "zadd:z2"]),
        ("zmpop 2 nope z2 MIN", ["zpopmin:z2", "del:z2"]),
        ("zmpop 1 nope MAX", []),
        ("zadd z3 1 x 2 y", ["new:z3", "zadd:z3"]),
        ("bzpopmin z3 1", ["zpopmin:z3"]),
        ("bzpopmax z3 1", ["zpopmax:z3", "del:z3"]),
        ("zadd z4 1 x 2 y", ["new:z4", "zadd:z4"]),
        ("bzmpop 1 1 z4 MAX COUNT 5", ["zpopmax:z4", "del:z4"]),
        ("zadd s1 1 a 2 b", ["new:s1", "zadd:s1"]),
        ("zadd s2 3 b 4 c", ["new:s2", "zadd:s2"]),
        ("zunionstore d 2 s1 s2", ["new:d", "zunionstore:d"]),
        ("zunionstore d 2 s1 s2", ["zunionstore:d"]),
        ("zinterstore d 2 s1 s2", ["zinterstore:d"]),
        ("zinterstore d 2 s1 nope", ["keymiss:nope", "del:d"]),
        ("zinterstore d 2 s1 nope", ["keymiss:nope"]),
        ("zdiffstore d 2 s1 s2", ["new:d", "zdiffstore:d"]),
        ("zdiffstore d 2 s1 s1", ["del:d"]),
        ("zrangestore d s1 0 -1", ["new:d", "zrangestore:d"]),
        ("zrangestore d nope 0 -1", ["keymiss:nope", "del:d"]),
        ("zrangestore d s1 5 10", []),
        ("zadd d 1 q", ["new:d", "zadd:d"]),
        ("zrangestore d s1 5 10", ["del:d"]),
        ("zrem s1 a b", ["zrem:s1", "del:s1"]),
        ("zadd g 1 a", ["new:g", "zadd:g"]),
        ("zrem g a", ["zrem:g", "del:g"]),
        ("zadd e 1 a", ["new:e", "zadd:e"]),
        ("zincrby e 1 a", ["zincr:e"]),
        ("zadd e 1 a 2 a", ["zadd:e"]),
    ],
    "geo": [
        ("flushall", []),
        ("geoadd g 13.36 38.11 Palermo 15.08 37.5 Catania", ["new:g", "zadd:g"]),
        ("geoadd g 13.36 38.11 Palermo", []),
        ("geoadd g XX 13.37 38.11 Palermo", ["zadd:g"]),
        ("geoadd g NX 13.37 38.11 Palermo", []),
        ("geoadd g CH 13.38 38.11 Palermo", ["zadd:g"]),
        ("geodist nope a b", ["keymiss:nope"]),
        ("geohash nope a", ["keymiss:nope"]),
        ("geopos nope a", ["keymiss:nope"]),
        ("geosearch nope FROMLONLAT 15 37 BYRADIUS 200 km", ["keymiss:nope"]),
        ("georadius nope 15 37 200 km", ["keymiss:nope"]),
        ("georadius_ro nope 15 37 200 km", ["keymiss:nope"]),
        ("georadiusbymember nope a 200 km", ["keymiss:nope"]),
        ("geosearchstore gd g FROMLONLAT 15 37 BYRADIUS 200 km", ["new:gd", "geosearchstore:gd"]),
        ("geosearchstore gd g FROMLONLAT 15 37 BYRADIUS 200 km STOREDIST", ["geosearchstore:gd"]),
        ("geosearchstore gd nope FROMLONLAT 15 37 BYRADIUS 200 km", ["keymiss:nope", "del:gd"]),
        ("geosearchstore gd g FROMLONLAT 15 37 BYRADIUS 1 km", []),
        ("georadius g 15 37 200 km STORE gd2", ["new:gd2", "georadiusstore:gd2"]),
        ("georadius g 15 37 200 km STOREDIST gd3", ["new:gd3", "georadiusstore:gd3"]),
        ("georadius g 15 37 1 km STORE gd3", ["del:gd3"]),
        ("georadius nope 15 37 1 km STORE gd2", ["keymiss:nope", "del:gd2"]),
        ("georadiusbymember g Palermo 200 km STORE gd4", ["new:gd4", "georadiusstore:gd4"]),
    ],
    "streams": [
        ("flushall", []),
        ("xadd s 1-0 f v", ["new:s", "xadd:s"]),
        ("xadd s 2-0 f v", ["xadd:s"]),
        ("xadd s MAXLEN 1 3-0 f v", ["xadd:s", "xtrim:s"]),
        ("xadd s MAXLEN ~ 1 4-0 f v", ["xadd:s"]),
        ("xadd nope NOMKSTREAM * f v", []),
        ("xlen nope", ["keymiss:nope"]),
        ("xrange nope - +", ["keymiss:nope"]),
        ("xrevrange nope + -", ["keymiss:nope"]),
        ("xread STREAMS nope 0", ["keymiss:nope", "keymiss:nope"]),
        ("xinfo stream nope", ["keymiss:nope"]),
        ("xtrim s MAXLEN 10", []),
        ("xtrim s MAXLEN 0", ["xtrim:s"]),
        ("xadd s 5-0 f v", ["xadd:s"]),
        ("xadd s 6-0 f v", ["xadd:s"]),
        ("xdel s 5-0", ["xdel:s"]),
        ("xdel s 99-0", []),
        ("xsetid s 10-0", ["xsetid:s"]),
        ("xgroup create s g $", ["xgroup-create:s"]),
        ("xgroup create s g $", []),
        ("xgroup create s2 g $ MKSTREAM", ["new:s2", "xgroup-create:s2"]),
        ("xgroup create nope g $", []),
        ("xgroup setid s g 0", ["xgroup-setid:s"]),
        ("xgroup createconsumer s g c1", ["xgroup-createconsumer:s"]),
        ("xgroup createconsumer s g c1", []),
        ("xadd s 11-0 f v", ["xadd:s"]),
        ("xreadgroup GROUP g c2 COUNT 1 STREAMS s >", ["xgroup-createconsumer:s"]),
        ("xreadgroup GROUP g c2 COUNT 1 STREAMS s >", []),
        ("xreadgroup GROUP g c3 COUNT 1 STREAMS s 0", ["xgroup-createconsumer:s"]),
        ("xack s g 6-0", []),
        ("xack s g 6-0", []),
        ("xpending s g", []),
        ("xclaim s g c4 0 11-0", ["xgroup-createconsumer:s"]),
        ("xautoclaim s g c5 0 0", ["xgroup-createconsumer:s"]),
        ("xinfo groups s", []),
        ("xinfo consumers s g", []),
        ("xgroup delconsumer s g c5", ["xgroup-delconsumer:s"]),
        ("xgroup delconsumer s g nobody", []),
        ("xgroup destroy s g", ["xgroup-destroy:s"]),
        ("xgroup destroy s g", []),
        ("xreadgroup GROUP g c STREAMS nope >", ["keymiss:nope"]),
        ("xdel s 6-0 11-0", ["xdel:s"]),
        ("xtrim s MAXLEN 0", []),
        ("xlen s", []),
        ("del s2", ["del:s2"]),
    ],
    "streams2": [
        ("flushall", []),
        ("xpending nope g", ["keymiss:nope"]),
        ("xclaim nope g c 0 1-0", ["keymiss:nope"]),
        ("xautoclaim nope g c 0 0", ["keymiss:nope"]),
        ("xinfo groups nope", ["keymiss:nope"]),
        ("xinfo consumers nope g", ["keymiss:nope"]),
        ("xack nope g 1-0", ["keymiss:nope"]),
        ("xgroup destroy nope g", []),
        ("xgroup setid nope g 0", []),
        ("xgroup createconsumer nope g c", []),
        ("xgroup delconsumer nope g c", []),
        ("xsetid nope 1-0", []),
        ("xdel nope 1-0", []),
        ("xtrim nope MAXLEN 1", []),
        ("xadd s 1-0 a b", ["new:s", "xadd:s"]),
        ("xgroup create s g 0", ["xgroup-create:s"]),
        ("xclaim s g c9 0 1-0", []),
        ("xreadgroup GROUP g c1 STREAMS s >", ["xgroup-createconsumer:s"]),
        ("xclaim s g c9 0 1-0", ["xgroup-createconsumer:s"]),
        ("xclaim s g c9 0 1-0 JUSTID", []),
        ("xautoclaim s g c10 0 0 JUSTID", ["xgroup-createconsumer:s"]),
        ("xpending s g - + 10 c1", []),
        ("xinfo stream s FULL", []),
        ("xgroup createconsumer s g c1", []),
        ("xreadgroup GROUP g c1 STREAMS s 0", []),
        ("xreadgroup GROUP g c11 NOACK STREAMS s 0", ["xgroup-createconsumer:s"]),
        ("xadd s 2-0 a b", ["xadd:s"]),
        ("xreadgroup GROUP g c12 NOACK STREAMS s >", ["xgroup-createconsumer:s"]),
        ("xack s g 1-0 2-0", []),
        ("xgroup setid s g $ ENTRIESREAD 2", ["xgroup-setid:s"]),
        ("xadd s MINID 2 3-0 a b", ["xadd:s", "xtrim:s"]),
        ("xtrim s MINID 3", ["xtrim:s"]),
        ("xread COUNT 1 STREAMS s nope 0 0", ["keymiss:nope", "keymiss:nope"]),
    ],
    "streams3": [
        ("flushall", []),
        ("xadd s 1-0 a b", ["new:s", "xadd:s"]),
        ("xgroup create s g 0", ["xgroup-create:s"]),
        ("xautoclaim s g cA 0 0", []),
        ("xclaim s g cB 0 1-0 9-0", []),
        ("xreadgroup GROUP g c1 COUNT 1 STREAMS s >", ["xgroup-createconsumer:s"]),
        ("xclaim s g cC 999999999 1-0", []),
        ("xclaim s g cD 0 9-0 1-0", ["xgroup-createconsumer:s"]),
        ("xautoclaim s g cE 999999999 0", []),
        ("xautoclaim s g cF 0 0 COUNT 1", ["xgroup-createconsumer:s"]),
        ("xclaim s g cF 0 1-0", []),
        ("xdel s 1-0", ["xdel:s"]),
        ("xautoclaim s g cG 0 0", []),
        ("xinfo consumers s g", []),
    ],
    "hyperloglog": [
        ("flushall", []),
        ("pfadd h a b c", ["new:h", "pfadd:h"]),
        ("pfadd h a", []),
        ("pfadd h", []),
        ("pfadd h2", ["new:h2", "pfadd:h2"]),
        ("pfadd h2", []),
        ("pfcount nope", ["keymiss:nope"]),
        ("pfcount h", []),
        ("pfcount h", []),
        ("pfcount h nope", ["keymiss:nope"]),
        ("pfcount nope nope2", ["keymiss:nope", "keymiss:nope2"]),
        ("pfmerge d h h2", ["keymiss:d", "new:d", "pfadd:d"]),
        ("pfmerge d h", ["pfadd:d"]),
        ("pfmerge d2 nope", ["keymiss:d2", "keymiss:nope", "new:d2", "pfadd:d2"]),
        ("pfmerge nope3", ["keymiss:nope3", "new:nope3", "pfadd:nope3"]),
        ("pfdebug getreg h", []),
        ("pfdebug todense h", []),
        ("pfdebug encoding h", []),
        ("pfdebug encoding nope", []),
        ("set s x", ["new:s", "set:s"]),
        ("pfadd s a", []),
        ("pfcount s", []),
    ],
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario(h: Harness, ev: Events, name: str) -> None:
    for command, expected in SCENARIOS[name]:
        assert ev(*shlex.split(command)) == expected, command


def test_dump_and_restore(h: Harness, ev: Events) -> None:
    h("SET", "a", "1")
    payload = h("DUMP", "a")
    assert ev("DUMP", "nope") == ["keymiss:nope"]
    assert ev("RESTORE", "b", "0", payload) == ["new:b", "restore:b"]
    assert ev("RESTORE", "b", "0", payload, "REPLACE") == ["new:b", "restore:b"]
    # A TTL already in the past: nothing is created, and a replaced key is just deleted.
    assert ev("RESTORE", "c", "1", payload, "ABSTTL") == []
    assert ev("RESTORE", "b", "1", payload, "ABSTTL", "REPLACE") == ["del:b"]
    assert ev("RESTORE", "e", "100000", payload) == ["new:e", "restore:e"]
