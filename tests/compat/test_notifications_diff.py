"""Keyspace notifications against a real redis-server: the same commands on both servers,
each watched by a PSUBSCRIBE '__key*__:*' connection, and the whole listener byte streams
compared (which events, in which order, on which channels), along with every reply.

A scenario is a list of command lines run one by one on a fresh, FLUSHALLed connection;
"~" before a line skips comparing its reply (random members), a number sleeps that long
(so a short TTL runs out; lazy or active, expiry emits the same events in the same place).
"""

from __future__ import annotations

import shlex
import time

import pytest

from tests.procs import ServerProcess
from tests.rawclient import RawClient

pytestmark = pytest.mark.interop

Step = str | float
END = b"*3\r\n$7\r\nmessage\r\n$7\r\n__end__\r\n$1\r\nx\r\n"


def run(server: ServerProcess, classes: str, steps: list[Step]) -> tuple[list[bytes], bytes]:
    """(replies, listener stream) of `steps` on `server` with notify-keyspace-events set."""
    with RawClient(*server.addr) as cmd, RawClient(*server.addr) as listener:
        assert cmd.call("FLUSHALL") == b"+OK\r\n"
        assert cmd.call("CONFIG", "SET", "notify-keyspace-events", classes) == b"+OK\r\n"
        try:
            listener.call("PSUBSCRIBE", "__key*__:*")
            listener.call("SUBSCRIBE", "__end__")
            replies = []
            for step in steps:
                if isinstance(step, float):
                    time.sleep(step)
                    continue
                reply = cmd.call(*shlex.split(step.lstrip("~")))
                replies.append(b"~" if step.startswith("~") else reply)
            cmd.call("PUBLISH", "__end__", "x")
            stream = b""
            while not stream.endswith(END):
                stream += listener.read_reply()
        finally:
            cmd.call("CONFIG", "SET", "notify-keyspace-events", "")
            cmd.call("SELECT", "0")
    return replies, stream


def same(slotd: ServerProcess, redis: ServerProcess, classes: str, steps: list[Step]) -> None:
    ours, theirs = run(slotd, classes, steps), run(redis, classes, steps)
    commands = [s for s in steps if isinstance(s, str)]
    for command, mine, real in zip(commands, ours[0], theirs[0], strict=True):
        assert mine == real, f"{command!r}\n  slotd: {mine!r}\n  redis: {real!r}"
    assert ours[1] == theirs[1], f"\n  slotd: {ours[1]!r}\n  redis: {theirs[1]!r}"


SCENARIOS: dict[str, list[Step]] = {
    "strings": [
        "GET nope",
        "MGET a nope b",
        "STRLEN nope",
        "GETRANGE nope 0 1",
        "SET a 1",
        "SET a 2 NX",
        "SET a 2 XX",
        "SET a 3 GET",
        "SET n1 v GET",
        "SET n2 v NX GET",
        "SET a 4 KEEPTTL",
        "SET a 5 PX 100000",
        "SET a 6 EXAT 1",
        "EXISTS a",
        "SET a 6 PXAT 99999999999999",
        "SET b 1 XX",
        "SETNX a 1",
        "SETNX c 1",
        "SETEX d 100 v",
        "PSETEX e 100000 v",
        "SETEX f 0 v",
        "GETSET a 9",
        "GETSET g 9",
        "GETEX a",
        "GETEX a EX 100",
        "GETEX a PERSIST",
        "GETEX a PERSIST",
        "GETEX a PXAT 1",
        "GETEX nope EX 10",
        "GETDEL c",
        "GETDEL nope",
        "MSET m1 1 m2 2",
        "MSETNX m1 1 m3 3",
        "MSETNX m3 1 m4 3",
        "APPEND m1 x",
        "APPEND ap x",
        "APPEND ap ''",
        "SETRANGE m1 0 ZZ",
        "SETRANGE sr 5 abc",
        "SETRANGE sr2 0 ''",
        "SETRANGE m1 0 ''",
        "INCR i",
        "DECR i",
        "INCRBY i 10",
        "DECRBY i 10",
        "INCRBYFLOAT i 1.5",
        "INCRBYFLOAT f2 1",
        "INCR m1",
        "LCS m1 nope",
        "HSET hh f v",
        "GET hh",
        "SET hh x",
        "SET hh y GET",
    ],
    "keys": [
        "MSET a 1 b 2 c 3",
        "DEL a nope b",
        "DEL nope",
        "UNLINK c nope",
        "EXISTS nope x",
        "TYPE nope",
        "TTL nope",
        "PTTL nope",
        "EXPIRETIME nope",
        "PEXPIRETIME nope",
        "TOUCH nope x",
        "OBJECT ENCODING nope",
        "SET a 1",
        "EXPIRE a 100",
        "EXPIRE a 100 NX",
        "EXPIRE a 200 XX",
        "EXPIRE a 300 GT",
        "EXPIRE a 10 LT",
        "PEXPIRE a 100000",
        "EXPIREAT a 99999999999",
        "PEXPIREAT a 99999999999999",
        "EXPIRE nope 10",
        "PERSIST a",
        "PERSIST a",
        "EXPIRE a 0",
        "SET a 1",
        "EXPIRE a -1",
        "SET a 1",
        "PEXPIREAT a 1",
        "SET a 1",
        "RENAME a b",
        "RENAME b b",
        "SET c 1",
        "RENAME b c",
        "RENAMENX c d",
        "RENAMENX d d",
        "SET e 1",
        "RENAMENX d e",
        "RENAME nope x",
        "COPY d f",
        "COPY d f",
        "COPY d f REPLACE",
        "COPY d g DB 1",
        "COPY d g DB 1 REPLACE",
        "COPY nope g",
        "MOVE f 2",
        "MOVE d 1",
        "SET z 9",
        "MOVE z 1",
        "SWAPDB 0 1",
        "SELECT 1",
        "SET x 1",
        "DEL x d g",
        "SELECT 0",
        "FLUSHDB",
    ],
    "lists": [
        "LPUSH l a b c",
        "RPUSH l d",
        "LPUSHX nope a",
        "RPUSHX nope a",
        "LPUSHX l z",
        "RPUSHX l y",
        "LRANGE nope 0 -1",
        "LLEN nope",
        "LINDEX nope 0",
        "LPOS nope a",
        "LPOP nope",
        "RPOP nope",
        "LPOP l",
        "RPOP l",
        "LPOP l 2",
        "RPOP l 5",
        "RPUSH l a b c d e",
        "LPOP l 0",
        "RPOP l 0",
        "LINSERT l BEFORE c X",
        "LINSERT l AFTER nope Y",
        "LINSERT nope BEFORE a b",
        "LSET l 0 Q",
        "LSET nope 0 Q",
        "LTRIM l 0 2",
        "LTRIM l 0 -1",
        "LTRIM l 5 10",
        "RPUSH l a b c a b a",
        "LREM l 2 a",
        "LREM l 0 zz",
        "LREM l 0 b",
        "LREM l 0 a",
        "LREM l 0 c",
        "RPUSH s 1 2 3",
        "RPOPLPUSH s d",
        "RPOPLPUSH s s",
        "RPOPLPUSH nope d",
        "LMOVE s d LEFT RIGHT",
        "LMOVE s s LEFT RIGHT",
        "LMOVE d d LEFT LEFT",
        "LMOVE s d2 RIGHT LEFT",
        "LMPOP 2 nope d LEFT",
        "LMPOP 2 nope d RIGHT COUNT 10",
        "LMPOP 1 nope LEFT",
        "RPUSH b1 x",
        "BLPOP b1 1",
        "RPUSH b1 x y",
        "BRPOP b1 1",
        "BRPOPLPUSH b1 b2 1",
        "BLMOVE b2 b3 LEFT RIGHT 1",
        "BLMPOP 1 1 b3 LEFT",
        "LPUSH m 1",
        "LTRIM m 1 0",
    ],
    "hashes": [
        "HSET h a 1 b 2",
        "HSET h a 1",
        "HMSET h c 3",
        "HSETNX h a 9",
        "HSETNX h z 9",
        "HSETNX nh z 9",
        "HGET nope f",
        "HMGET nope f",
        "HGETALL nope",
        "HKEYS nope",
        "HVALS nope",
        "HLEN nope",
        "HEXISTS nope f",
        "HSTRLEN nope f",
        "HRANDFIELD nope",
        "HSCAN nope 0",
        "HGET h nofield",
        "HINCRBY h a 5",
        "HINCRBY h n 5",
        "HINCRBY nh2 n 5",
        "HINCRBYFLOAT h a 1.5",
        "HINCRBYFLOAT nh3 x 1.5",
        "HDEL h nofield",
        "HDEL h a b",
        "HDEL h c z n",
        "HDEL nh z",
        "HSET h f x",
        "HGET h f",
        "HINCRBY h f 1",
    ],
    "sets": [
        "SADD s a b c",
        "SADD s a",
        "SREM s x",
        "SREM s a",
        "SMEMBERS nope",
        "SCARD nope",
        "SISMEMBER nope a",
        "SMISMEMBER nope a",
        "SRANDMEMBER nope",
        "SSCAN nope 0",
        "SINTER nope s",
        "~SUNION nope s",
        "SDIFF nope s",
        "SINTERCARD 2 nope s",
        "~SPOP s",
        "SPOP nope",
        "SPOP s 0",
        "SADD s a b c",
        "~SPOP s 2",
        "~SPOP s 10",
        "SADD s a b c",
        "SMOVE s t a",
        "SMOVE s t nope",
        "SMOVE s s b",
        "SMOVE s t b",
        "SMOVE s t c",
        "SMOVE nope t x",
        "SADD t z",
        "SADD u z",
        "SMOVE u t z",
        "SADD s1 a b c",
        "SADD s2 b c d",
        "SINTERSTORE dst s1 s2",
        "SINTERSTORE dst s1 nope",
        "SINTERSTORE dst nope",
        "SUNIONSTORE dst s1 s2",
        "SUNIONSTORE dst nope",
        "SDIFFSTORE dst s1 s2",
        "SDIFFSTORE dst s1 s1",
        "SADD dst x",
        "SDIFFSTORE dst nope",
        "SREM s1 a b c",
        "SADD big 1 2 3 4 5 6 7 8 9 10",
        "~SPOP big 3",
        "~SRANDMEMBER big 2",
    ],
    "bitmaps": [
        "GETBIT nope 0",
        "BITCOUNT nope",
        "BITPOS nope 1",
        "BITFIELD_RO nope GET u8 0",
        "SETBIT b 7 1",
        "SETBIT b 7 1",
        "SETBIT b 7 0",
        "SETBIT b 100 0",
        "SETBIT nb 3 0",
        "BITFIELD b SET u8 0 255",
        "BITFIELD b GET u8 0",
        "BITFIELD nb2 GET u8 0",
        "BITFIELD nb3 INCRBY u8 0 1",
        "BITFIELD b INCRBY u2 0 10 OVERFLOW FAIL INCRBY u2 0 10",
        "BITFIELD b OVERFLOW FAIL INCRBY u2 0 10",
        "BITFIELD nb4 OVERFLOW FAIL INCRBY u2 0 10",
        "SET s1 abc",
        "SET s2 xyz",
        "SETBIT s1 0 0",
        "SETBIT s1 1 1",
        "BITOP AND d s1 s2",
        "BITOP OR d s1 s2",
        "BITOP AND d nope nope2",
        "BITOP NOT d s1",
        "BITOP NOT d nope",
        "BITOP XOR d nope s1",
        "SET e ''",
        "BITOP AND d e",
        "BITOP AND d e",
    ],
    "sort": [
        "RPUSH l 3 1 2",
        "SORT l",
        "SORT nope",
        "SORT_RO nope",
        "SORT l STORE sl",
        "SORT l STORE sl",
        "SORT nope STORE sl",
        "SORT l BY nosort GET nope* STORE sl2",
        "SORT l BY w* GET h*->f",
        "SET w1 9",
        "HSET h2 f x",
        "SORT l BY w* GET h*->f GET #",
        "SORT_RO l",
        "SADD st 1",
        "SORT st STORE sl3",
        "SORT nope STORE sl3",
    ],
    "zsets": [
        "ZADD z 1 a 2 b 3 c",
        "ZADD z 1 a",
        "ZADD z XX 5 a",
        "ZADD z NX 5 a",
        "ZADD z CH 6 a",
        "ZADD z INCR 1 a",
        "ZADD z NX INCR 1 a",
        "ZADD z GT 1 b",
        "ZADD z LT 1 b",
        "ZADD nz XX 1 a",
        "ZINCRBY z 2 b",
        "ZINCRBY z 0 b",
        "ZINCRBY nz2 2 b",
        "ZSCORE nope a",
        "ZMSCORE nope a",
        "ZCARD nope",
        "ZCOUNT nope 0 1",
        "ZLEXCOUNT nope - +",
        "ZRANK nope a",
        "ZREVRANK nope a",
        "ZRANGE nope 0 -1",
        "ZRANGEBYSCORE nope 0 1",
        "ZREVRANGEBYSCORE nope 1 0",
        "ZRANGEBYLEX nope - +",
        "ZREVRANGEBYLEX nope + -",
        "ZREVRANGE nope 0 -1",
        "ZRANDMEMBER nope",
        "ZSCAN nope 0",
        "ZUNION 2 nope z",
        "ZINTER 2 nope z",
        "ZDIFF 2 nope z",
        "ZINTERCARD 2 nope z",
        "ZREM z nope",
        "ZREM z a",
        "ZREMRANGEBYSCORE z 100 200",
        "ZREMRANGEBYSCORE z 0 2",
        "ZADD z 1 a 2 b 3 c",
        "ZREMRANGEBYRANK z 0 0",
        "ZREMRANGEBYRANK z 10 20",
        "ZADD l 0 a 0 b 0 c",
        "ZREMRANGEBYLEX l [a [a",
        "ZREMRANGEBYLEX l [x [z",
        "ZPOPMIN nope",
        "ZPOPMIN l",
        "ZPOPMAX l 5",
        "ZPOPMIN l 0",
        "ZADD z2 1 x",
        "ZMPOP 2 nope z2 MIN",
        "ZMPOP 1 nope MAX",
        "ZADD z3 1 x 2 y",
        "BZPOPMIN z3 1",
        "BZPOPMAX z3 1",
        "ZADD z4 1 x 2 y",
        "BZMPOP 1 1 z4 MAX COUNT 5",
        "ZADD s1 1 a 2 b",
        "ZADD s2 3 b 4 c",
        "ZUNIONSTORE d 2 s1 s2",
        "ZUNIONSTORE d 2 s1 s2",
        "ZINTERSTORE d 2 s1 s2",
        "ZINTERSTORE d 2 s1 nope",
        "ZINTERSTORE d 2 s1 nope",
        "ZDIFFSTORE d 2 s1 s2",
        "ZDIFFSTORE d 2 s1 s1",
        "ZRANGESTORE d s1 0 -1",
        "ZRANGESTORE d nope 0 -1",
        "ZRANGESTORE d s1 5 10",
        "ZADD d 1 q",
        "ZRANGESTORE d s1 5 10",
        "ZREM s1 a b",
        "ZADD e 1 a",
        "ZINCRBY e 1 a",
        "ZADD e 1 a 2 a",
        "SADD plain m",
        "ZUNIONSTORE d 2 plain e",
    ],
    "geo": [
        "GEOADD g 13.36 38.11 Palermo 15.08 37.5 Catania",
        "GEOADD g 13.36 38.11 Palermo",
        "GEOADD g XX 13.37 38.11 Palermo",
        "GEOADD g NX 13.37 38.11 Palermo",
        "GEOADD g CH 13.38 38.11 Palermo",
        "GEODIST nope a b",
        "GEOHASH nope a",
        "GEOPOS nope a",
        "GEOSEARCH nope FROMLONLAT 15 37 BYRADIUS 200 km",
        "GEORADIUS nope 15 37 200 km",
        "GEORADIUS_RO nope 15 37 200 km",
        "GEORADIUSBYMEMBER nope a 200 km",
        "GEOSEARCHSTORE gd g FROMLONLAT 15 37 BYRADIUS 200 km",
        "GEOSEARCHSTORE gd g FROMLONLAT 15 37 BYRADIUS 200 km STOREDIST",
        "GEOSEARCHSTORE gd nope FROMLONLAT 15 37 BYRADIUS 200 km",
        "GEOSEARCHSTORE gd g FROMLONLAT 15 37 BYRADIUS 1 km",
        "GEORADIUS g 15 37 200 km STORE gd2",
        "GEORADIUS g 15 37 200 km STOREDIST gd3",
        "GEORADIUS g 15 37 1 km STORE gd3",
        "GEORADIUS nope 15 37 1 km STORE gd2",
        "GEORADIUSBYMEMBER g Palermo 200 km STORE gd4",
    ],
    "streams": [
        "XADD s 1-0 f v",
        "XADD s 2-0 f v",
        "XADD s MAXLEN 1 3-0 f v",
        "XADD s MAXLEN ~ 1 4-0 f v",
        "XADD nope NOMKSTREAM * f v",
        "XLEN nope",
        "XRANGE nope - +",
        "XREVRANGE nope + -",
        "XREAD STREAMS nope 0",
        "XINFO STREAM nope",
        "XTRIM s MAXLEN 10",
        "XTRIM s MAXLEN 0",
        "XADD s 5-0 f v",
        "XADD s 6-0 f v",
        "XDEL s 5-0",
        "XDEL s 99-0",
        "XSETID s 10-0",
        "XGROUP CREATE s g $",
        "XGROUP CREATE s g $",
        "XGROUP CREATE s2 g $ MKSTREAM",
        "XGROUP CREATE nope g $",
        "XGROUP SETID s g 0",
        "XGROUP CREATECONSUMER s g c1",
        "XGROUP CREATECONSUMER s g c1",
        "XADD s 11-0 f v",
        "XREADGROUP GROUP g c2 COUNT 1 STREAMS s >",
        "XREADGROUP GROUP g c2 COUNT 1 STREAMS s >",
        "XREADGROUP GROUP g c3 COUNT 1 STREAMS s 0",
        "XACK s g 6-0",
        "XACK s g 6-0",
        "XPENDING s g",
        "XCLAIM s g c4 0 11-0",
        "XCLAIM s g c5 999999999 11-0",
        "XAUTOCLAIM s g c6 0 0",
        "XAUTOCLAIM s g c7 999999999 0 JUSTID",
        "~XINFO GROUPS s",
        "~XINFO CONSUMERS s g",
        "XGROUP DELCONSUMER s g c6",
        "XGROUP DELCONSUMER s g nobody",
        "XGROUP DESTROY s g",
        "XGROUP DESTROY s g",
        "XREADGROUP GROUP g c STREAMS nope >",
        "XPENDING nope g",
        "XCLAIM nope g c 0 1-0",
        "XAUTOCLAIM nope g c 0 0",
        "XINFO GROUPS nope",
        "XINFO CONSUMERS nope g",
        "XACK nope g 1-0",
        "XGROUP DESTROY nope g",
        "XSETID nope 1-0",
        "XDEL nope 1-0",
        "XTRIM nope MAXLEN 1",
        "XDEL s 6-0 11-0",
        "XTRIM s MAXLEN 0",
        "XADD s MINID 20 21-0 a b",
        "XTRIM s MINID 21",
        "XREAD COUNT 1 STREAMS s nope 0 0",
        "DEL s2",
    ],
    "hyperloglog": [
        "PFADD h a b c",
        "PFADD h a",
        "PFADD h",
        "PFADD h2",
        "PFADD h2",
        "PFCOUNT nope",
        "PFCOUNT h",
        "PFCOUNT h",
        "PFCOUNT h nope",
        "PFCOUNT nope nope2",
        "PFMERGE d h h2",
        "PFMERGE d h",
        "PFMERGE d2 nope",
        "PFMERGE nope3",
        "PFDEBUG TODENSE h",
        "PFDEBUG ENCODING h",
        "PFDEBUG ENCODING nope",
        "SET s x",
        "PFADD s a",
        "PFCOUNT s",
    ],
    # One key at a time runs out: several at once may expire in another order.
    "expiry": [
        "SET e v PX 1",
        0.05,
        "GET e",
        "HSET h f v",
        "PEXPIRE h 1",
        0.05,
        "HGET h f",
        "SET k v PX 1",
        0.05,
        "SET k w",
        "SET j v PX 1",
        0.05,
        "INCR j",
    ],
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario(slotd_proc: ServerProcess, redis_proc: ServerProcess, name: str) -> None:
    same(slotd_proc, redis_proc, "KEAnm", SCENARIOS[name])


@pytest.mark.parametrize(
    "classes", ["KEA", "K$", "El", "Exg", "Kn", "Em", "Esh", "KEm", "g$lshzxetd", "E"]
)
def test_class_selection(
    slotd_proc: ServerProcess, redis_proc: ServerProcess, classes: str
) -> None:
    same(
        slotd_proc,
        redis_proc,
        classes,
        [
            "SET a 1",
            "GET nope",
            "RPUSH l x",
            "LPOP l",
            "SADD s m",
            "HSET h f v",
            "EXPIRE a 100",
            "DEL h s",
            "SET e v PX 1",
            0.05,
            "GET e",
            "SELECT 4",
            "SET a 2",
            "INCR a",
        ],
    )


def test_config_get_and_errors(slotd_proc: ServerProcess, redis_proc: ServerProcess) -> None:
    with RawClient(*slotd_proc.addr) as ours, RawClient(*redis_proc.addr) as theirs:
        try:
            for value in (
                "KEA",
                "Ex",
                "A",
                "nm",
                "g$lshzxetdn",
                "KEAmn",
                "xyz",
                "",
                "E$",
                "gg",
                "Kdtzlg",
            ):
                for args in (
                    ("CONFIG", "SET", "notify-keyspace-events", value),
                    ("CONFIG", "GET", "notify-keyspace-events"),
                ):
                    assert ours.call(*args) == theirs.call(*args), args
        finally:
            for side in (ours, theirs):
                side.call("CONFIG", "SET", "notify-keyspace-events", "")


def test_blocked_clients_served_by_another(
    slotd_proc: ServerProcess, redis_proc: ServerProcess
) -> None:
    """A parked BLPOP/BLMOVE served by another client's push: the pusher's events, then
    the served pop's, in one stream."""
    streams = []
    for server in (slotd_proc, redis_proc):
        with (
            RawClient(*server.addr) as pusher,
            RawClient(*server.addr) as blpop,
            RawClient(*server.addr) as blmove,
            RawClient(*server.addr) as listener,
        ):
            pusher.call("FLUSHALL")
            pusher.call("CONFIG", "SET", "notify-keyspace-events", "KEA")
            try:
                listener.call("PSUBSCRIBE", "__key*__:*")
                listener.call("SUBSCRIBE", "__end__")
                blpop.send("BLPOP", "l", "0")
                blmove.send("BLMOVE", "src", "dst", "LEFT", "RIGHT", "0")
                deadline = time.monotonic() + 10
                while b"blocked_clients:2" not in pusher.call("INFO", "clients"):
                    assert time.monotonic() < deadline, "the clients never blocked"
                    time.sleep(0.01)
                pusher.call("RPUSH", "l", "x", "y")
                pusher.call("RPUSH", "src", "a")
                assert blpop.read_reply() == b"*2\r\n$1\r\nl\r\n$1\r\nx\r\n"
                assert blmove.read_reply() == b"$1\r\na\r\n"
                pusher.call("MULTI")
                pusher.call("SET", "k", "1")
                pusher.call("LPUSH", "l", "q")
                pusher.call("INCR", "k")
                pusher.call("EXEC")
                pusher.call("PUBLISH", "__end__", "x")
                stream = b""
                while not stream.endswith(END):
                    stream += listener.read_reply()
                streams.append(stream)
            finally:
                pusher.call("CONFIG", "SET", "notify-keyspace-events", "")
    assert streams[0] == streams[1]
