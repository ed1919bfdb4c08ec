"""Key-space commands (Redis's db.c, expire.c and object.c): DEL, EXISTS, TYPE, RENAME, KEYS,
SCAN, RANDOMKEY, OBJECT, the EXPIRE/TTL families, COPY, MOVE, plus the database-wide
SWAPDB, FLUSHDB, FLUSHALL and DBSIZE (Redis files those under the "server" group).

Rules:
- Every change goes through `Database` methods (WATCH, blocked clients and expiry stay
  consistent there) and adds Redis's count of changes to `engine.dirty`.
- Keys whose TTL has passed are absent: commands look them up through `Database.lookup`,
  which expires them lazily, except where Redis only peeks (KEYS skips them without
  deleting them, DBSIZE counts them until they are reclaimed).
- TTLs are absolute unix milliseconds. A key is expired once the clock is past its time,
  while EXPIRE with a time that is not in the future deletes the key at once (Redis's
  checkAlreadyExpired), replying 1.
Pure: no I/O.
"""

from __future__ import annotations

import copy as copy_module
from collections.abc import Callable
from typing import ClassVar, Final, Protocol, cast

from node.commands import _scan, docs
from node.commands._args import LLONG_MAX, int_arg, option, string2ll
from node.commands.registry import Acl, Flag, Handler, KeyFlag, key_at
from node.commands.table import NODE
from node.config import Config
from node.engine import notify
from node.engine.glob import compile_glob
from node.engine.keyspace import Database
from node.engine.session import Client
from node.proto import errors, resp
from node.proto.errors import CommandError

Argv = list[bytes]

# Tips Redis gives the multi-key counting commands (DEL, EXISTS, TOUCH, UNLINK).
_MULTI_SHARD_SUM: Final = ("request_policy:multi_shard", "response_policy:agg_sum")
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1
# Redis shares one object for each integer 0..9999 (OBJ_SHARED_INTEGERS) and reports its
# refcount as INT_MAX -- unless maxmemory evicts by LRU/LFU, which needs private objects.
_SHARED_INTEGERS: Final = 10000
_SHARED_REFCOUNT: Final = 2**31 - 1
_EMBSTR_MAX: Final = 44


class Container(Protocol):
    """What every non-string value class offers (node/engine/types)."""

    TYPE: ClassVar[bytes]

    def encoding(self) -> bytes: ...


def type_name(value: object | None) -> bytes:
    """TYPE's answer for a looked-up value (None is a missing key)."""
    if value is None:
        return b"none"
    if value.__class__ is bytes or value.__class__ is bytearray:
        return b"string"
    return cast(Container, value).TYPE


def string_encoding(value: bytes | bytearray) -> bytes:
    """OBJECT ENCODING of a string: `int` for the canonical text of an int64, `embstr` up
    to 44 bytes, `raw` beyond that or once modified in place (a bytearray)."""
    if value.__class__ is bytearray:
        return b"raw"
    if len(value) <= 20 and string2ll(value) is not None:
        return b"int"
    return b"embstr" if len(value) <= _EMBSTR_MAX else b"raw"


def _duplicate(value: object) -> object:
    """A deep copy for COPY: bytes are immutable and can be shared; containers copy
    themselves (their `copy()` knows which parts are immutable)."""
    if value.__class__ is bytes:
        return value
    if value.__class__ is bytearray:
        return bytearray(value)
    own_copy = getattr(value, "copy", None)
    return own_copy() if own_copy is not None else copy_module.deepcopy(value)


def _int32_arg(raw: bytes, message: str | None = None) -> int:
    """Redis's getIntFromObjectOrReply."""
    value = string2ll(raw)
    if value is None:
        raise CommandError(message or errors.NOT_INTEGER)
    if not _INT_MIN <= value <= _INT_MAX:
        raise CommandError(message or errors.INT_RANGE)
    return value


def _db_arg(c: Client, raw: bytes) -> Database:
    index = _int32_arg(raw)
    dbs = c.engine.keyspace.dbs
    if not 0 <= index < len(dbs):
        raise CommandError(errors.DB_INDEX)
    return dbs[index]


def _lfu_policy(c: Client) -> bool:
    return "lfu" in c.engine.config.str("maxmemory-policy")


def _event(c: Client, event: bytes, key: bytes, db: Database | None = None) -> None:
    """A generic keyspace event (in the client's database unless `db`)."""
    engine = c.engine
    if engine.notify_flags:
        engine.notify(notify.GENERIC, event, key, (db or c.db).index)


# --- DEL, UNLINK, EXISTS, TOUCH, TYPE -----------------------------------------------------
def _delete_keys(c: Client, argv: Argv, lazy: bool) -> bytes:
    """delGenericCommand: `lazy` hands big values to the lazy-free queue (dbAsyncDelete)."""
    db = c.db
    delete = db.delete
    removed = 0
    for i in range(1, len(argv)):
        key = argv[i]
        if lazy:
            value = db.lookup(key)
            if value is None:
                continue
            delete(key)
            c.engine.memory.lazyfree.free(value, c.engine.memory.cost_if_counted(db, key, value))
            del value
        elif not delete(key):
            continue
        _event(c, b"del", key)
        removed += 1
    c.engine.dirty += removed
    return resp.integer(removed)


@NODE.command(
    "del",
    -2,
    Flag.WRITE,
    group="generic",
    since="1.0.0",
    summary="Delete a key",
    complexity="O(N) where N is the number of keys that will be removed. When a key "
    "to remove holds a value other than a string, the individual complexity for this "
    "key is O(M) where M is the number of elements in the list, set, sorted set or "
    "hash. Removing a single key that holds a string value is O(1).",
    acl=Acl.KEYSPACE,
    keys=[key_at(1, KeyFlag.RM | KeyFlag.DELETE, lastkey=-1)],
    tips=_MULTI_SHARD_SUM,
    args=(docs.key("key", multiple=True),),
)
def del_(c: Client, argv: Argv) -> bytes:
    return _delete_keys(c, argv, c.engine.config.bool("lazyfree-lazy-user-del"))


@NODE.command(
    "unlink",
    -2,
    Flag.WRITE | Flag.FAST,
    group="generic",
    since="4.0.0",
    summary="Delete a key asynchronously in another thread. Otherwise it is just as "
    "DEL, but non blocking.",
    complexity="O(1) for each key removed regardless of its size. Then the command "
    "does O(N) work in a different thread in order to reclaim memory, where N is the "
    "number of allocations the deleted objects where composed of.",
    acl=Acl.KEYSPACE,
    keys=[key_at(1, KeyFlag.RM | KeyFlag.DELETE, lastkey=-1)],
    tips=_MULTI_SHARD_SUM,
    args=(docs.key("key", multiple=True),),
)
def unlink(c: Client, argv: Argv) -> bytes:
    return _delete_keys(c, argv, True)


def _count_existing(c: Client, argv: Argv) -> bytes:
    lookup = c.db.lookup_read
    found = 0
    for i in range(1, len(argv)):
        if lookup(argv[i]) is not None:
            found += 1  # duplicates count once per mention, as in Redis
    return resp.integer(found)


@NODE.command(
    "exists",
    -2,
    Flag.READONLY | Flag.FAST,
    group="generic",
    since="1.0.0",
    summary="Determine if a key exists",
    complexity="O(N) where N is the number of keys to check.",
    acl=Acl.KEYSPACE,
    keys=[key_at(1, KeyFlag.RO, lastkey=-1)],
    tips=_MULTI_SHARD_SUM,
    args=(docs.key("key", multiple=True),),
    history=(("3.0.3", "Accepts multiple `key` arguments."),),
)
def exists(c: Client, argv: Argv) -> bytes:
    return _count_existing(c, argv)


@NODE.command(
    "touch",
    -2,
    Flag.READONLY | Flag.FAST,
    group="generic",
    since="3.2.1",
    summary="Alters the last access time of a key(s). Returns the number of existing "
    "keys specified.",
    complexity="O(N) where N is the number of keys that will be touched.",
    acl=Acl.KEYSPACE,
    keys=[key_at(1, KeyFlag.RO, lastkey=-1)],
    tips=_MULTI_SHARD_SUM,
    args=(docs.key("key", multiple=True),),
)
def touch(c: Client, argv: Argv) -> bytes:
    return _count_existing(c, argv)


@NODE.command(
    "type",
    2,
    Flag.READONLY | Flag.FAST,
    group="generic",
    since="1.0.0",
    summary="Determine the type stored at key",
    complexity="O(1)",
    acl=Acl.KEYSPACE,
    keys=[key_at(1, KeyFlag.RO)],
    args=(docs.key("key"),),
)
def type_(c: Client, argv: Argv) -> bytes:
    return resp.status(type_name(c.db.lookup_read(argv[1])))


# --- RENAME, RENAMENX ---------------------------------------------------------------------
_RENAME_KEYS: Final = (docs.key("key"), docs.key("newkey", 1))


def _rename(c: Client, argv: Argv, nx: bool) -> bytes:
    db, src, dst = c.db, argv[1], argv[2]
    value = db.lookup(src)
    if value is None:
        raise CommandError(errors.NO_SUCH_KEY)
    if src == dst:
        return resp.ZERO if nx else resp.OK
    when = db.expires.get(src)
    if db.lookup(dst) is not None:
        if nx:
            return resp.ZERO
        db.delete(dst)
    db.set_value(dst, value)
    if when is not None:
        db.set_expire(dst, when)  # the TTL travels with the value
    db.delete(src)
    _event(c, b"rename_from", src)
    _event(c, b"rename_to", dst)
    c.engine.dirty += 1
    return resp.ONE if nx else resp.OK


@NODE.command(
    "rename",
    3,
    Flag.WRITE,
    group="generic",
    since="1.0.0",
    summary="Rename a key",
    complexity="O(1)",
    acl=Acl.KEYSPACE,
    keys=[
        key_at(1, KeyFlag.RW | KeyFlag.ACCESS | KeyFlag.DELETE),
        key_at(2, KeyFlag.OW | KeyFlag.UPDATE),
    ],
    args=_RENAME_KEYS,
)
def rename(c: Client, argv: Argv) -> bytes:
    return _rename(c, argv, nx=False)


@NODE.command(
    "renamenx",
    3,
    Flag.WRITE | Flag.FAST,
    group="generic",
    since="1.0.0",
    summary="Rename a key, only if the new key does not exist",
    complexity="O(1)",
    acl=Acl.KEYSPACE,
    keys=[
        key_at(1, KeyFlag.RW | KeyFlag.ACCESS | KeyFlag.DELETE),
        key_at(2, KeyFlag.OW | KeyFlag.INSERT),
    ],
    args=_RENAME_KEYS,
    history=(
        (
            "3.2.0",
            "The command no longer returns an error when source and "
            "destination names are the same.",
        ),
    ),
)
def renamenx(c: Client, argv: Argv) -> bytes:
    return _rename(c, argv, nx=True)


# --- KEYS, SCAN, RANDOMKEY ----------------------------------------------------------------
@NODE.command(
    "keys",
    2,
    Flag.READONLY,
    group="generic",
    since="1.0.0",
    summary="Find all keys matching the given pattern",
    complexity="O(N) with N being the number of keys in the database, under the "
    "assumption that the key names in the database and the given pattern have "
    "limited length.",
    acl=Acl.KEYSPACE | Acl.DANGEROUS,
    tips=("request_policy:all_shards", "nondeterministic_output_order"),
    args=(docs.pattern("pattern"),),
)
def keys(c: Client, argv: Argv) -> bytes:
    db, pattern = c.db, argv[1]
    now, expires = c.engine.now_ms, db.expires
    # Redis skips expired keys here without deleting them.
    if pattern == b"*":  # everything, even the empty key that the glob `*` would refuse
        found = [k for k in db.data if k not in expires or expires[k] >= now]
    else:
        accept = compile_glob(pattern)
        found = [k for k in db.data if accept(k) and (k not in expires or expires[k] >= now)]
    return resp.bulk_array(found)


@NODE.command(
    "scan",
    -2,
    Flag.READONLY,
    group="generic",
    since="2.8.0",
    summary="Incrementally iterate the keys space",
    complexity="O(1) for every call. O(N) for a complete iteration, including enough "
    "command calls for the cursor to return back to 0. N is the number of elements "
    "inside the collection.",
    acl=Acl.KEYSPACE,
    tips=("nondeterministic_output", "request_policy:special"),
    args=(
        docs.integer("cursor"),
        docs.pattern("pattern", token="MATCH", optional=True),
        docs.integer("count", token="COUNT", optional=True),
        docs.string("type", token="TYPE", since="6.0.0", optional=True),
    ),
    history=(("6.0.0", "Added the `TYPE` subcommand."),),
)
def scan(c: Client, argv: Argv) -> bytes:
    cursor = _scan.parse_cursor(argv[1])
    opts = _scan.parse_options(argv, 2, allow_type=True)
    db, match, wanted = c.db, opts.match, opts.type
    accept = match

    def match_and_type(key: bytes) -> bool:
        return (match is None or match(key)) and type_name(db.lookup(key)) == wanted

    if wanted is not None:
        # Redis filters by pattern first, then by type (looking the key up), then drops
        # expired keys; Database.scan keeps that order.
        accept = match_and_type
    next_cursor, found = db.scan(cursor, opts.count, accept)
    return _scan.scan_reply(next_cursor, found)


@NODE.command(
    "randomkey",
    1,
    Flag.READONLY,
    group="generic",
    since="1.0.0",
    summary="Return a random key from the keyspace",
    complexity="O(1)",
    acl=Acl.KEYSPACE,
    tips=("request_policy:all_shards", "nondeterministic_output"),
)
def randomkey(c: Client, argv: Argv) -> bytes:
    return resp.bulk_or_null(c.db.random_key(c.engine.rng), c.resp)


# --- OBJECT -------------------------------------------------------------------------------
NODE.container(
    "object",
    group="generic",
    since="2.2.3",
    summary="A container for object introspection commands",
    complexity="Depends on subcommand.",
)


def _object_subcommand(name: str, since: str, summary: str) -> Callable[[Handler], Handler]:
    """OBJECT ENCODING/REFCOUNT/IDLETIME/FREQ share everything but these."""
    return NODE.command(
        name,
        3,
        Flag.READONLY,
        group="generic",
        since=since,
        summary=summary,
        complexity="O(1)",
        acl=Acl.KEYSPACE,
        keys=[key_at(2, KeyFlag.RO)],
        tips=("nondeterministic_output",),
        args=(docs.key("key"),),
        container="object",
    )


_OBJECT_HELP: Final = (
    b"ENCODING <key>",
    b"    Return the kind of internal representation used in order to store the value",
    b"    associated with a <key>.",
    b"FREQ <key>",
    b"    Return the access frequency index of the <key>. The returned integer is",
    b"    proportional to the logarithm of the recent access frequency of the key.",
    b"IDLETIME <key>",
    b"    Return the idle time of the <key>, that is the approximated number of",
    b"    seconds elapsed since the last access to the key.",
    b"REFCOUNT <key>",
    b"    Return the number of references of the value associated with the specified",
    b"    <key>.",
)


@_object_subcommand("encoding", "2.2.3", "Inspect the internal encoding of a Redis object")
def object_encoding(c: Client, argv: Argv) -> bytes:
    value = c.db.lookup(argv[2])
    if value is None:
        return resp.null(c.resp)
    if value.__class__ is bytes or value.__class__ is bytearray:
        return resp.bulk(string_encoding(value))
    return resp.bulk(cast(Container, value).encoding())


@_object_subcommand("refcount", "2.2.3", "Get the number of references to the value of the key")
def object_refcount(c: Client, argv: Argv) -> bytes:
    value = c.db.lookup(argv[2])
    if value is None:
        return resp.null(c.resp)
    return resp.integer(object_refcount_of(value, c.engine.config))


def object_refcount_of(value: object, config: Config) -> int:
    """A value's refcount as Redis reports it (OBJECT REFCOUNT, DEBUG OBJECT)."""
    if value.__class__ is bytes:
        number = string2ll(value)
        shared_ok = not config.int("maxmemory") or not config.str("maxmemory-policy").endswith(
            ("-lru", "-lfu")
        )
        if number is not None and 0 <= number < _SHARED_INTEGERS and shared_ok:
            return _SHARED_REFCOUNT
    return 1


@_object_subcommand("idletime", "2.2.3", "Get the time since a Redis object was last accessed")
def object_idletime(c: Client, argv: Argv) -> bytes:
    if c.db.lookup(argv[2]) is None:
        return resp.null(c.resp)
    if _lfu_policy(c):
        raise CommandError(errors.OBJECT_IDLETIME_LFU)
    # The access clock runs under an LRU policy, or any policy but LFU while maxmemory is
    # set (node/engine/memory.py): 0 otherwise.
    return resp.integer(c.engine.memory.clock.idle_ms(c.db.index, argv[2]) // 1000)


@_object_subcommand(
    "freq", "4.0.0", "Get the logarithmic access frequency counter of a Redis object"
)
def object_freq(c: Client, argv: Argv) -> bytes:
    if c.db.lookup(argv[2]) is None:
        return resp.null(c.resp)
    if not _lfu_policy(c):
        raise CommandError(errors.OBJECT_FREQ_NO_LFU)
    return resp.integer(c.engine.memory.clock.frequency(c.db.index, argv[2]))


@NODE.command(
    "help",
    2,
    Flag.LOADING | Flag.STALE,
    group="generic",
    since="6.2.0",
    summary="Show helpful text about the different subcommands",
    complexity="O(1)",
    acl=Acl.KEYSPACE,
    container="object",
)
def object_help(c: Client, argv: Argv) -> bytes:
    return resp.help_reply(argv[0], _OBJECT_HELP)


# --- EXPIRE family ------------------------------------------------------------------------
_EXPIRE_CONDITION: Final = docs.oneof(
    "condition",
    docs.token("nx", "NX"),
    docs.token("xx", "XX"),
    docs.token("gt", "GT"),
    docs.token("lt", "LT"),
    since="7.0.0",
    optional=True,
)
_EXPIRE_HISTORY: Final = (("7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`."),)


def _expire_command(
    name: str, since: str, summary: str, when: docs.Arg
) -> Callable[[Handler], Handler]:
    return NODE.command(
        name,
        -3,
        Flag.WRITE | Flag.FAST,
        group="generic",
        since=since,
        summary=summary,
        complexity="O(1)",
        acl=Acl.KEYSPACE,
        keys=[key_at(1, KeyFlag.RW | KeyFlag.UPDATE)],
        args=(docs.key("key"), when, _EXPIRE_CONDITION),
        history=_EXPIRE_HISTORY,
    )


def _expire_condition(argv: Argv) -> frozenset[bytes]:
    """The NX/XX/GT/LT words after the time, checked before the time itself, as Redis does."""
    seen: set[bytes] = set()
    for raw in argv[3:]:
        word = option(raw)
        if word not in (b"NX", b"XX", b"GT", b"LT"):
            text = raw.split(b"\0", 1)[0].decode("utf-8", "replace")
            raise CommandError(errors.EXPIRE_UNSUPPORTED_OPTION.format(text))
        seen.add(word)
    if b"NX" in seen and len(seen) > 1:
        raise CommandError(errors.EXPIRE_NX_AND_OTHERS)
    if b"GT" in seen and b"LT" in seen:
        raise CommandError(errors.EXPIRE_GT_AND_LT)
    return frozenset(seen)


def _expire(c: Client, argv: Argv, base_ms: int, unit_ms: int) -> bytes:
    condition = _expire_condition(argv)
    when = int_arg(argv[2])
    name = argv[0].lower().decode("ascii", "replace")
    if unit_ms == 1000:
        # C truncates LLONG_MIN / 1000 towards zero.
        if not -(LLONG_MAX // 1000) <= when <= LLONG_MAX // 1000:
            raise CommandError(errors.INVALID_EXPIRE.format(name))
        when *= 1000
    if when > LLONG_MAX - base_ms:
        raise CommandError(errors.INVALID_EXPIRE.format(name))
    when += base_ms
    db, key = c.db, argv[1]
    if db.lookup(key) is None:
        return resp.ZERO
    if condition:
        current = db.expires.get(key)
        if b"NX" in condition and current is not None:
            return resp.ZERO
        if b"XX" in condition and current is None:
            return resp.ZERO
        # No TTL counts as an infinite one: never exceeded (GT fails), always beaten (LT).
        if b"GT" in condition and (current is None or when <= current):
            return resp.ZERO
        if b"LT" in condition and current is not None and when >= current:
            return resp.ZERO
    engine = c.engine
    if when <= engine.now_ms:
        db.delete(key)
        _event(c, b"del", key)
        lazy = engine.config.bool("lazyfree-lazy-expire")
        engine.propagate_as(c, [[b"UNLINK" if lazy else b"DEL", key]])
    else:
        db.set_expire(key, when)
        _event(c, b"expire", key)
        # Propagated as PEXPIREAT with the absolute time (options kept), as Redis does;
        # PEXPIREAT itself goes as it came.
        if name != "pexpireat":
            engine.propagate_as(c, [[b"PEXPIREAT", key, b"%d" % when, *argv[3:]]])
    engine.dirty += 1
    return resp.ONE


@_expire_command("expire", "1.0.0", "Set a key's time to live in seconds", docs.integer("seconds"))
def expire(c: Client, argv: Argv) -> bytes:
    return _expire(c, argv, c.engine.now_ms, 1000)


@_expire_command(
    "pexpire", "2.6.0", "Set a key's time to live in milliseconds", docs.integer("milliseconds")
)
def pexpire(c: Client, argv: Argv) -> bytes:
    return _expire(c, argv, c.engine.now_ms, 1)


@_expire_command(
    "expireat",
    "1.2.0",
    "Set the expiration for a key as a UNIX timestamp",
    docs.unix_time("unix-time-seconds"),
)
def expireat(c: Client, argv: Argv) -> bytes:
    return _expire(c, argv, 0, 1000)


@_expire_command(
    "pexpireat",
    "2.6.0",
    "Set the expiration for a key as a UNIX timestamp specified in milliseconds",
    docs.unix_time("unix-time-milliseconds"),
)
def pexpireat(c: Client, argv: Argv) -> bytes:
    return _expire(c, argv, 0, 1)


def _ttl(c: Client, argv: Argv, ms: bool, absolute: bool) -> bytes:
    db, key = c.db, argv[1]
    if db.lookup_read(key) is None:
        return resp.MINUS_TWO
    when = db.expires.get(key)
    if when is None:
        return resp.MINUS_ONE
    value = max(when if absolute else when - c.engine.now_ms, 0)
    return resp.integer(value if ms else (value + 500) // 1000)  # seconds are rounded


def _ttl_command(
    name: str, since: str, summary: str, *, relative: bool
) -> Callable[[Handler], Handler]:
    # TTL/PTTL (relative) carry a tip and a history entry that the 7.0 EXPIRETIMEs do not.
    return NODE.command(
        name,
        2,
        Flag.READONLY | Flag.FAST,
        group="generic",
        since=since,
        summary=summary,
        complexity="O(1)",
        acl=Acl.KEYSPACE,
        keys=[key_at(1, KeyFlag.RO | KeyFlag.ACCESS)],
        args=(docs.key("key"),),
        tips=("nondeterministic_output",) if relative else (),
        history=(("2.8.0", "Added the -2 reply."),) if relative else (),
    )


@_ttl_command("ttl", "1.0.0", "Get the time to live for a key in seconds", relative=True)
def ttl(c: Client, argv: Argv) -> bytes:
    return _ttl(c, argv, ms=False, absolute=False)


@_ttl_command("pttl", "2.6.0", "Get the time to live for a key in milliseconds", relative=True)
def pttl(c: Client, argv: Argv) -> bytes:
    return _ttl(c, argv, ms=True, absolute=False)


@_ttl_command("expiretime", "7.0.0", "Get the expiration Unix timestamp for a key", relative=False)
def expiretime(c: Client, argv: Argv) -> bytes:
    return _ttl(c, argv, ms=False, absolute=True)


@_ttl_command(
    "pexpiretime",
    "7.0.0",
    "Get the expiration Unix timestamp for a key in milliseconds",
    relative=False,
)
def pexpiretime(c: Client, argv: Argv) -> bytes:
    return _ttl(c, argv, ms=True, absolute=True)


@NODE.command(
    "persist",
    2,
    Flag.WRITE | Flag.FAST,
    group="generic",
    since="2.2.0",
    summary="Remove the expiration from a key",
    complexity="O(1)",
    acl=Acl.KEYSPACE,
    keys=[key_at(1, KeyFlag.RW | KeyFlag.UPDATE)],
    args=(docs.key("key"),),
)
def persist(c: Client, argv: Argv) -> bytes:
    db = c.db
    if db.lookup(argv[1]) is None or not db.persist(argv[1]):
        return resp.ZERO
    _event(c, b"persist", argv[1])
    c.engine.dirty += 1
    return resp.ONE


# --- COPY, MOVE ---------------------------------------------------------------------------
@NODE.command(
    "copy",
    -3,
    Flag.WRITE | Flag.DENYOOM,
    group="generic",
    since="6.2.0",
    summary="Copy a key",
    complexity="O(N) worst case for collections, where N is the number of nested "
    "items. O(1) for string values.",
    acl=Acl.KEYSPACE,
    keys=[key_at(1, KeyFlag.RO | KeyFlag.ACCESS), key_at(2, KeyFlag.OW | KeyFlag.UPDATE)],
    args=(
        docs.key("source"),
        docs.key("destination", 1),
        docs.integer("destination-db", token="DB", optional=True),
        docs.token("replace", "REPLACE", optional=True),
    ),
)
def copy(c: Client, argv: Argv) -> bytes:
    src = dst = c.db
    replace = False
    i = 3
    while i < len(argv):
        word = option(argv[i])
        if word == b"REPLACE":
            replace = True
        elif word == b"DB" and i + 1 < len(argv):
            dst = _db_arg(c, argv[i + 1])
            i += 1
        else:
            raise CommandError(errors.SYNTAX)
        i += 1
    if c.engine.config.bool("cluster-enabled") and (src.index or dst.index):
        raise CommandError(errors.COPY_CLUSTER)
    key, newkey = argv[1], argv[2]
    if src is dst and key == newkey:
        raise CommandError(errors.SAME_OBJECT)
    value = src.lookup_read(key)
    if value is None:
        return resp.ZERO
    when = src.expires.get(key)
    if dst.lookup(newkey) is not None:
        if not replace:
            return resp.ZERO
        dst.delete(newkey)
    dst.set_value(newkey, _duplicate(value))
    if when is not None:
        dst.set_expire(newkey, when)
    _event(c, b"copy_to", newkey, dst)
    c.engine.dirty += 1
    return resp.ONE


@NODE.command(
    "move",
    3,
    Flag.WRITE | Flag.FAST,
    group="generic",
    since="1.0.0",
    summary="Move a key to another database",
    complexity="O(1)",
    acl=Acl.KEYSPACE,
    keys=[key_at(1, KeyFlag.RW | KeyFlag.ACCESS | KeyFlag.UPDATE)],
    args=(docs.key("key"), docs.integer("db")),
)
def move(c: Client, argv: Argv) -> bytes:
    if c.engine.config.bool("cluster-enabled"):
        raise CommandError(errors.MOVE_CLUSTER)
    src, key = c.db, argv[1]
    dst = _db_arg(c, argv[2])
    if dst is src:
        raise CommandError(errors.SAME_OBJECT)
    value = src.lookup(key)
    if value is None or dst.lookup(key) is not None:
        return resp.ZERO
    when = src.expires.get(key)
    dst.set_value(key, value)
    if when is not None:
        dst.set_expire(key, when)
    src.delete(key)
    _event(c, b"move_from", key, src)
    _event(c, b"move_to", key, dst)
    c.engine.dirty += 1
    return resp.ONE


# --- SWAPDB, FLUSHDB, FLUSHALL, DBSIZE ----------------------------------------------------
@NODE.command(
    "swapdb",
    3,
    Flag.WRITE | Flag.FAST,
    group="server",
    since="4.0.0",
    summary="Swaps two Redis databases",
    complexity="O(N) where N is the count of clients watching or blocking on keys "
    "from both databases.",
    acl=Acl.KEYSPACE | Acl.DANGEROUS,
    args=(docs.integer("index1"), docs.integer("index2")),
)
def swapdb(c: Client, argv: Argv) -> bytes:
    if c.engine.config.bool("cluster-enabled"):
        raise CommandError(errors.SWAPDB_CLUSTER)
    first = _int32_arg(argv[1], errors.SWAPDB_FIRST_INDEX)
    second = _int32_arg(argv[2], errors.SWAPDB_SECOND_INDEX)
    keyspace = c.engine.keyspace
    if not (0 <= first < len(keyspace.dbs) and 0 <= second < len(keyspace.dbs)):
        raise CommandError(errors.DB_INDEX)
    if first != second:
        keyspace.swap(first, second)
        c.engine.memory.swapped(first, second)
    c.engine.dirty += 1
    return resp.OK


_FLUSH_MODE: Final = (
    docs.oneof(
        "async",
        docs.token("async", "ASYNC", since="4.0.0"),
        docs.token("sync", "SYNC", since="6.2.0"),
        optional=True,
    ),
)
_FLUSH_HISTORY: Final = (
    ("4.0.0", "Added the `ASYNC` flushing mode modifier."),
    ("6.2.0", "Added the `SYNC` flushing mode modifier."),
)
_FLUSH_TIPS: Final = ("request_policy:all_shards", "response_policy:all_succeeded")


def _flush(c: Client, argv: Argv, dbs: list[Database]) -> int:
    """Empty `dbs`; ASYNC (or lazyfree-lazy-user-flush without a mode) leaves the old
    contents to the lazy-free queue (getFlushCommandFlags, emptyDbAsync). Returns how
    many keys went."""
    if len(argv) > 2 or (len(argv) == 2 and option(argv[1]) not in (b"SYNC", b"ASYNC")):
        raise CommandError(errors.SYNTAX)
    if len(argv) == 2:
        lazy = option(argv[1]) == b"ASYNC"
    else:
        lazy = c.engine.config.bool("lazyfree-lazy-user-flush")
    memory = c.engine.memory
    removed = 0
    for db in dbs:
        removed += len(db.data)
        size = memory.dataset[db.index]
        dropped = db.flush()
        if lazy:
            memory.lazyfree.free_database(dropped, size)
        memory.flushed(db.index)
    return removed


@NODE.command(
    "flushdb",
    -1,
    Flag.WRITE,
    group="server",
    since="1.0.0",
    summary="Remove all keys from the current database",
    complexity="O(N) where N is the number of keys in the selected database",
    acl=Acl.KEYSPACE | Acl.DANGEROUS,
    tips=_FLUSH_TIPS,
    args=_FLUSH_MODE,
    history=_FLUSH_HISTORY,
)
def flushdb(c: Client, argv: Argv) -> bytes:
    removed = _flush(c, argv, [c.db])
    c.engine.tracking.flush()
    c.engine.dirty += removed
    return resp.OK


@NODE.command(
    "flushall",
    -1,
    Flag.WRITE,
    group="server",
    since="1.0.0",
    summary="Remove all keys from all databases",
    complexity="O(N) where N is the total number of keys in all databases",
    acl=Acl.KEYSPACE | Acl.DANGEROUS,
    tips=_FLUSH_TIPS,
    args=_FLUSH_MODE,
    history=_FLUSH_HISTORY,
)
def flushall(c: Client, argv: Argv) -> bytes:
    removed = _flush(c, argv, c.engine.keyspace.dbs)
    c.engine.tracking.flush()
    c.engine.dirty += removed
    # With save points Redis saves the now empty dataset at once (which resets dirty), so a
    # restart cannot bring the data back; FLUSHALL always propagates, even of nothing.
    c.engine.persistence.flushall_save()
    c.engine.propagate_as(c, [argv], force=True)
    return resp.OK


@NODE.command(
    "dbsize",
    1,
    Flag.READONLY | Flag.FAST,
    group="server",
    since="1.0.0",
    summary="Return the number of keys in the selected database",
    complexity="O(1)",
    acl=Acl.KEYSPACE,
    tips=("request_policy:all_shards", "response_policy:agg_sum"),
)
def dbsize(c: Client, argv: Argv) -> bytes:
    return resp.integer(len(c.db.data))
