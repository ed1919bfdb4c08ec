"""Datasets for persistence tests: Hypothesis strategies that build a keyspace through
ordinary commands (so the same dataset can be built in slotd's engine and in a real
redis-server), and `snapshot`, which reads a whole server back through commands.

    cmds = data.draw(datasets())
    for cmd in cmds: call(*cmd)          # Harness or redis-py's execute_command
    snapshot(call) == snapshot(other_call)

Every value class and encoding Redis 7.0 writes is reachable: int/embstr/raw strings
(long ones compress), multi-node lists, intsets of every width and hashtable sets,
listpack and hashtable hashes, listpack and skiplist sorted sets (inf scores too), and
streams with tombstones, several nodes and consumer groups with pending entries.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from node.commands._args import string2ll
from node.commands.keys import string_encoding

Command = tuple[bytes | str | int, ...]
Call = Callable[..., Any]
# A fixed expiry far in the future, so that both servers keep the key whatever their clock.
FAR_FUTURE_MS = 4_102_444_800_000

_names = st.sampled_from([f"k{i}" for i in range(12)])
_small_ints = st.integers(-(2**63), 2**63 - 1).map(lambda i: str(i).encode())
_words = st.binary(min_size=0, max_size=24)
_long = st.builds(lambda unit, n: unit * n, st.binary(min_size=1, max_size=6), st.integers(4, 400))
_values = st.one_of(_small_ints, _words, _long, st.sampled_from([b"0", b"-1", b"12345678901"]))
_members = st.one_of(_small_ints, _words)


@st.composite
def _string_cmds(draw: st.DrawFn, key: str) -> list[Command]:
    cmds: list[Command] = [("SET", key, draw(_values))]
    if draw(st.booleans()):
        cmds.append(("APPEND", key, draw(_words)))
    return cmds


@st.composite
def _list_cmds(draw: st.DrawFn, key: str) -> list[Command]:
    size = draw(st.sampled_from([1, 3, 50, 700]))
    base = draw(_members)
    items = [base + b"%d" % i if draw(st.booleans()) else b"%d" % i for i in range(size)]
    cmds: list[Command] = [("RPUSH", key, *items)]
    if draw(st.booleans()):
        cmds.append(("LPUSH", key, draw(_values)))
    return cmds


@st.composite
def _set_cmds(draw: st.DrawFn, key: str) -> list[Command]:
    kind = draw(st.sampled_from(["int16", "int32", "int64", "mixed", "big"]))
    if kind == "int16":
        members = [b"%d" % v for v in draw(st.lists(st.integers(-30000, 30000), min_size=1))]
    elif kind == "int32":
        members = [b"%d" % v for v in draw(st.lists(st.integers(-(2**31), 2**31 - 1), min_size=1))]
    elif kind == "int64":
        members = [b"%d" % v for v in draw(st.lists(st.integers(-(2**63), 2**63 - 1), min_size=1))]
    elif kind == "mixed":
        members = draw(st.lists(_members, min_size=1, max_size=20))
    else:
        members = [b"%d" % i for i in range(600)]
    return [("SADD", key, *members)]


@st.composite
def _hash_cmds(draw: st.DrawFn, key: str) -> list[Command]:
    pairs = draw(st.lists(st.tuples(_members, _values), min_size=1, max_size=12))
    if draw(st.booleans()):
        pairs += [(b"f%d" % i, b"v%d" % i) for i in range(draw(st.sampled_from([0, 600])))]
    return [("HSET", key, *[x for pair in pairs for x in pair])]


_scores = st.one_of(
    st.integers(-(2**53), 2**53), st.floats(allow_nan=False), st.sampled_from([0.5, -2.25, 1e300])
)


@st.composite
def _zset_cmds(draw: st.DrawFn, key: str) -> list[Command]:
    pairs = draw(st.lists(st.tuples(_scores, _members), min_size=1, max_size=10))
    if draw(st.booleans()):
        pairs += [(i * 0.5, b"m%d" % i) for i in range(draw(st.sampled_from([0, 200])))]
    return [("ZADD", key, *[x for s, m in pairs for x in (repr(float(s)), m)])]


@st.composite
def _stream_cmds(draw: st.DrawFn, key: str) -> list[Command]:
    count = draw(st.sampled_from([1, 5, 130]))
    cmds: list[Command] = []
    for i in range(count):
        fields = (("f", i), ("g", "x")) if i % 7 else (("other", i),)
        cmds.append(("XADD", key, f"{i + 1}-{i % 3}", *[x for pair in fields for x in pair]))
    if draw(st.booleans()):
        cmds.append(("XDEL", key, f"{count // 2 + 1}-{(count // 2) % 3}"))
    if draw(st.booleans()):
        cmds.append(("XGROUP", "CREATE", key, "g1", "0"))
        cmds.append(("XREADGROUP", "GROUP", "g1", "alice", "COUNT", "3", "STREAMS", key, ">"))
        cmds.append(("XREADGROUP", "GROUP", "g1", "bob", "COUNT", "2", "STREAMS", key, ">"))
        cmds.append(("XACK", key, "g1", "1-0"))
        cmds.append(("XGROUP", "CREATE", key, "g0", "$"))
        cmds.append(("XGROUP", "CREATECONSUMER", key, "g0", "carol"))
    return cmds


_BUILDERS = (_string_cmds, _list_cmds, _set_cmds, _hash_cmds, _zset_cmds, _stream_cmds)


@st.composite
def datasets(draw: st.DrawFn, dbs: int = 3) -> list[Command]:
    """Commands that build a random keyspace over the first `dbs` databases."""
    cmds: list[Command] = []
    for db in range(dbs):
        names = draw(st.lists(_names, max_size=6, unique=True))
        if not names:
            continue
        cmds.append(("SELECT", db))
        for name in names:
            builder = draw(st.sampled_from(_BUILDERS))
            cmds.extend(draw(builder(name)))
            if draw(st.booleans()):
                cmds.append(("PEXPIREAT", name, FAR_FUTURE_MS + draw(st.integers(0, 10**6))))
    cmds.append(("SELECT", 0))
    return cmds


def _text(reply: Any) -> Any:
    return reply.decode() if isinstance(reply, bytes) else reply


def snapshot(call: Call, dbs: int = 16) -> dict[tuple[int, bytes], tuple[Any, ...]]:
    """Every key of every database: (type, encoding, expiry, contents), read through
    commands. Hashtable orders are normalised; everything else keeps the server's order."""
    out: dict[tuple[int, bytes], tuple[Any, ...]] = {}
    for db in range(dbs):
        call("SELECT", db)
        keys: set[bytes] = set()
        cursor = b"0"
        while True:
            cursor, found = call("SCAN", cursor, "COUNT", 1000)
            keys.update(found)
            if cursor in (b"0", 0):
                break
        for key in sorted(keys):
            kind = _text(call("TYPE", key))
            contents: Any
            if kind == "string":
                contents = call("GET", key)
            elif kind == "list":
                contents = call("LRANGE", key, 0, -1)
            elif kind == "set":
                contents = sorted(call("SMEMBERS", key))
            elif kind == "hash":
                flat = call("HGETALL", key)
                contents = sorted(zip(flat[::2], flat[1::2], strict=True))
            elif kind == "zset":
                contents = call("ZRANGE", key, 0, -1, "WITHSCORES")
            else:
                contents = call("XINFO", "STREAM", key, "FULL")
            out[(db, key)] = (
                kind,
                _text(call("OBJECT", "ENCODING", key)),
                call("PEXPIRETIME", key),
                contents,
            )
    call("SELECT", 0)
    return out


def as_loaded(
    snap: dict[tuple[int, bytes], tuple[Any, ...]],
) -> dict[tuple[int, bytes], tuple[Any, ...]]:
    """A snapshot as it reads after a save and a load (default thresholds): encodings are
    decided afresh by the contents alone -- a string modified in place ("raw") comes back
    "int", "embstr" or "raw", a hashtable hash or set or a skiplist that shrank comes back
    compact, as in Redis."""
    out = {}
    for key, (kind, enc, expiry, contents) in snap.items():
        if kind == "string":
            enc = string_encoding(contents).decode()
        elif kind == "hash":
            small = len(contents) <= 512 and all(len(f) <= 64 and len(v) <= 64 for f, v in contents)
            enc = "listpack" if small else "hashtable"
        elif kind == "set":
            small = len(contents) <= 512 and all(string2ll(m) is not None for m in contents)
            enc = "intset" if small else "hashtable"
        elif kind == "zset":
            small = len(contents) <= 256 and all(len(m) <= 64 for m in contents[::2])
            enc = "listpack" if small else "skiplist"
        out[key] = (kind, enc, expiry, contents)
    return out
