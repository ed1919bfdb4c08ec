"""String commands (Redis 7.0's t_string.c): GET/SET and their variants, MGET/MSET, APPEND,
GETRANGE/SETRANGE, the INCR family, INCRBYFLOAT and LCS.

Rules:
- Strings are stored as `bytes` (Redis's int/embstr encodings: SET, MSET, the INCR family,
  INCRBYFLOAT, a new key made by APPEND) or `bytearray` (Redis's raw encoding: APPEND and
  SETRANGE change it in place, and then call `Database.touch` for WATCH).
- Plain `SET key value` and `GET key` are the hottest commands there are: they stay a few
  attribute lookups, with everything else off their path.
- Expiry times are absolute unix ms for `Database.set_expire`; relative ones are computed
  from `engine.now_ms`, with Redis's overflow checks and its "invalid expire time" error.
- Errors appear in Redis's order (option syntax, then type, then values), since clients
  see which one wins.
Pure.
"""

from __future__ import annotations

from typing import Final

from node.commands import _longdouble, docs
from node.commands._args import LLONG_MAX, LLONG_MIN, int_arg, option, string2ll
from node.commands.registry import Acl, Flag, KeyFlag, KeyRef, key_at
from node.commands.table import NODE
from node.engine import notify
from node.engine.session import Client
from node.proto import errors, resp
from node.proto.errors import CommandError

Argv = list[bytes]
String = bytes | bytearray
_BULK_HEADERS: Final = resp.BULK_HEADERS

# SET/GETEX options (Redis's OBJ_* flags in parseExtendedStringArgumentsOrReply).
_NX, _XX, _GET, _KEEPTTL, _PERSIST, _EX, _PX, _EXAT, _PXAT = (1 << i for i in range(9))
_EXPIRY: Final = _EX | _PX | _EXAT | _PXAT
_ABSOLUTE: Final = _EXAT | _PXAT
_SECONDS: Final = _EX | _EXAT
_OPTIONS: Final = {
    b"NX": _NX,
    b"XX": _XX,
    b"GET": _GET,
    b"KEEPTTL": _KEEPTTL,
    b"PERSIST": _PERSIST,
    b"EX": _EX,
    b"PX": _PX,
    b"EXAT": _EXAT,
    b"PXAT": _PXAT,
}
# The other options each command takes, with the options each one cannot follow
# (EX/PX/EXAT/PXAT are taken by both and exclude each other, KEEPTTL and PERSIST).
_SET_OPTIONS: Final = {_NX: _XX, _XX: _NX, _GET: 0, _KEEPTTL: _EXPIRY | _PERSIST}
_GETEX_OPTIONS: Final = {_PERSIST: _EXPIRY | _KEEPTTL}


def get_string(c: Client, key: bytes) -> String | None:
    """The string at `key` for a command that reads it (None if missing, a keymiss
    event); WRONGTYPE for other types."""
    value = c.db.lookup_read(key)
    if value is None or value.__class__ is bytes or value.__class__ is bytearray:
        return value
    raise CommandError(errors.WRONGTYPE)


def lookup_string(c: Client, key: bytes) -> String | None:
    """`get_string` for a command that writes the key (Redis's lookupKeyWrite: a missing
    key is no keymiss)."""
    value = c.db.lookup(key)
    if value is None or value.__class__ is bytes or value.__class__ is bytearray:
        return value
    raise CommandError(errors.WRONGTYPE)


def _event(c: Client, event: bytes, key: bytes, kind: int = notify.STRING) -> None:
    engine = c.engine
    if engine.notify_flags:
        engine.notify(kind, event, key, c.db.index)


def _wrongtype_unless_string(value: object) -> String:
    if value.__class__ is bytes or value.__class__ is bytearray:
        return value
    raise CommandError(errors.WRONGTYPE)


def _check_length(c: Client, size: int) -> None:
    """Redis's checkStringLength: no string may outgrow proto-max-bulk-len."""
    if size > c.engine.config.int("proto-max-bulk-len"):
        raise CommandError(errors.STRING_TOO_LONG)


# ==== GET / SET ==============================================================================
@NODE.command(
    "get",
    2,
    Flag.READONLY | Flag.FAST,
    group="string",
    since="1.0.0",
    summary="Get the value of a key",
    complexity="O(1)",
    acl=Acl.STRING,
    keys=[key_at(1, KeyFlag.RO | KeyFlag.ACCESS)],
    args=(docs.key("key"),),
)
def get(c: Client, argv: Argv) -> bytes:
    # Fast path: a plain string in a database without TTLs needs nothing of
    # Database.lookup_read but the dict probe; not even its hit count, which INFO derives
    # from GET's calls less the calls that took the full lookup (Observer.keyspace_hits).
    db = c.db
    value = db.data.get(argv[1])
    if value.__class__ is not bytes or db.expires:
        c.engine.observer.slow_gets += 1
        value = get_string(c, argv[1])
        if value is None:
            return resp.NULL3 if c.resp == 3 else resp.NULL_BULK
    n = len(value)
    if n < 1024:
        return b"".join((_BULK_HEADERS[n], value, b"\r\n"))
    return resp.bulk(value)


def _parse_options(argv: Argv, start: int, takes: dict[int, int]) -> tuple[int, bytes | None]:
    """Redis's parseExtendedStringArgumentsOrReply: (flags, expire argument or None).

    An option is a syntax error when the command does not take it, when it conflicts with
    one seen before, or (expiries) when its value is missing. Repeats are fine; the last
    expiry wins.
    """
    flags, expire = 0, None
    i, argc = start, len(argv)
    while i < argc:
        opt = _OPTIONS.get(option(argv[i]), 0)
        if opt & _EXPIRY:
            if flags & (_KEEPTTL | _PERSIST | (_EXPIRY & ~opt)) or i + 1 >= argc:
                raise CommandError(errors.SYNTAX)
            i += 1
            expire = argv[i]
        elif opt not in takes or flags & takes[opt]:
            raise CommandError(errors.SYNTAX)
        flags |= opt
        i += 1
    return flags, expire


def _expire_at(c: Client, raw: bytes, flags: int, command: str) -> int:
    """Redis's getExpireMillisecondsOrReply: the absolute expiry (unix ms) of EX/PX/EXAT/PXAT."""
    when = int_arg(raw)
    if when <= 0 or (flags & _SECONDS and when > LLONG_MAX // 1000):
        raise CommandError(errors.INVALID_EXPIRE.format(command))
    if flags & _SECONDS:
        when *= 1000
    if not flags & _ABSOLUTE:
        when += c.engine.now_ms
        if when > LLONG_MAX:  # Redis's signed addition wraps negative here
            raise CommandError(errors.INVALID_EXPIRE.format(command))
    return when


def _set(
    c: Client,
    key: bytes,
    value: bytes,
    flags: int,
    expire: bytes | None,
    command: str,
    ok: bytes = resp.OK,
    abort: bytes | None = None,
) -> bytes:
    """Redis's setGenericCommand: SET with options, SETNX, SETEX and PSETEX."""
    when = _expire_at(c, expire, flags, command) if expire is not None else None
    db = c.db
    if flags & _GET:
        old = get_string(c, key)  # WRONGTYPE stops the SET too
        ok = abort = resp.bulk_or_null(old, c.resp)
        found = old is not None
    else:
        found = db.lookup(key) is not None
    if (flags & _NX and found) or (flags & _XX and not found):
        return resp.null(c.resp) if abort is None else abort
    db.set_value(key, value, keep_ttl=bool(flags & _KEEPTTL))
    _event(c, b"set", key)
    if when is not None:
        db.set_expire(key, when)  # a past EXAT/PXAT leaves a key that is already expired
        _event(c, b"expire", key, notify.GENERIC)
        if not flags & _PXAT:  # propagated with an absolute time, whatever was given
            c.engine.propagate_as(c, [[b"SET", key, value, b"PXAT", b"%d" % when]])
    c.engine.dirty += 1
    return ok


def _set_keys(argv: Argv) -> list[KeyRef]:
    """Redis's setGetKeys: the key is read too only when GET is given (a C-string match)."""
    if any(option(arg) == b"GET" for arg in argv[3:]):
        return [(1, KeyFlag.RW | KeyFlag.ACCESS | KeyFlag.UPDATE)]
    return [(1, KeyFlag.OW | KeyFlag.UPDATE)]


@NODE.command(
    "set",
    -3,
    Flag.WRITE | Flag.DENYOOM,
    group="string",
    since="1.0.0",
    summary="Set the string value of a key",
    complexity="O(1)",
    acl=Acl.STRING,
    keys=[
        key_at(
            1,
            KeyFlag.RW | KeyFlag.ACCESS | KeyFlag.UPDATE | KeyFlag.VARIABLE_FLAGS,
            notes="RW and ACCESS due to the optional `GET` argument",
        )
    ],
    getkeys=_set_keys,
    history=(
        ("2.6.12", "Added the `EX`, `PX`, `NX` and `XX` options."),
        ("6.0.0", "Added the `KEEPTTL` option."),
        ("6.2.0", "Added the `GET`, `EXAT` and `PXAT` option."),
        ("7.0.0", "Allowed the `NX` and `GET` options to be used together."),
    ),
    args=(
        docs.key("key"),
        docs.string("value"),
        docs.oneof(
            "condition",
            docs.token("nx", "NX"),
            docs.token("xx", "XX"),
            since="2.6.12",
            optional=True,
        ),
        docs.token("get", "GET", since="6.2.0", optional=True),
        docs.oneof(
            "expiration",
            docs.integer("seconds", token="EX", since="2.6.12"),
            docs.integer("milliseconds", token="PX", since="2.6.12"),
            docs.unix_time("unix-time-seconds", token="EXAT", since="6.2.0"),
            docs.unix_time("unix-time-milliseconds", token="PXAT", since="6.2.0"),
            docs.token("keepttl", "KEEPTTL", since="6.0.0"),
            optional=True,
        ),
    ),
)
def set_(c: Client, argv: Argv) -> bytes:
    if len(argv) == 3:
        db = c.db
        if db.slot_index is None and not (
            db.expires or db.watched or db.tracking or db.blocking or db.notify_flags
        ):
            # Nothing to clear (TTLs), signal (WATCH, tracking, blocked clients, events)
            # or index (cluster slots): set_value would only store. A call is ~5% of a
            # pipelined SET.
            db.data[argv[1]] = argv[2]
        else:
            db.set_value(argv[1], argv[2])
        engine = c.engine
        engine.dirty += 1
        if engine.notify_flags:
            engine.notify(notify.STRING, b"set", argv[1], c.db.index)
        return resp.OK
    flags, expire = _parse_options(argv, 3, _SET_OPTIONS)
    return _set(c, argv[1], argv[2], flags, expire, "set")


@NODE.command(
    "setnx",
    3,
    Flag.WRITE | Flag.DENYOOM | Flag.FAST,
    group="string",
    since="1.0.0",
    summary="Set the value of a key, only if the key does not exist",
    complexity="O(1)",
    acl=Acl.STRING,
    keys=[key_at(1, KeyFlag.OW | KeyFlag.INSERT)],
    args=(docs.key("key"), docs.string("value")),
)
def setnx(c: Client, argv: Argv) -> bytes:
    return _set(c, argv[1], argv[2], _NX, None, "setnx", resp.ONE, resp.ZERO)


@NODE.command(
    "setex",
    4,
    Flag.WRITE | Flag.DENYOOM,
    group="string",
    since="2.0.0",
    summary="Set the value and expiration of a key",
    complexity="O(1)",
    acl=Acl.STRING,
    keys=[key_at(1, KeyFlag.OW | KeyFlag.UPDATE)],
    args=(docs.key("key"), docs.integer("seconds"), docs.string("value")),
)
def setex(c: Client, argv: Argv) -> bytes:
    return _set(c, argv[1], argv[3], _EX, argv[2], "setex")


@NODE.command(
    "psetex",
    4,
    Flag.WRITE | Flag.DENYOOM,
    group="string",
    since="2.6.0",
    summary="Set the value and expiration in milliseconds of a key",
    complexity="O(1)",
    acl=Acl.STRING,
    keys=[key_at(1, KeyFlag.OW | KeyFlag.UPDATE)],
    args=(docs.key("key"), docs.integer("milliseconds"), docs.string("value")),
)
def psetex(c: Client, argv: Argv) -> bytes:
    return _set(c, argv[1], argv[3], _PX, argv[2], "psetex")


@NODE.command(
    "getset",
    3,
    Flag.WRITE | Flag.DENYOOM | Flag.FAST,
    group="string",
    since="1.0.0",
    summary="Set the string value of a key and return its old value",
    complexity="O(1)",
    acl=Acl.STRING,
    keys=[key_at(1, KeyFlag.RW | KeyFlag.ACCESS | KeyFlag.UPDATE)],
    args=(docs.key("key"), docs.string("value")),
    doc_flags=("deprecated",),
    deprecated_since="6.2.0",
    replaced_by="`SET` with the `!GET` argument",
)
def getset(c: Client, argv: Argv) -> bytes:
    old = get_string(c, argv[1])
    c.db.set_value(argv[1], argv[2])
    _event(c, b"set", argv[1])
    c.engine.dirty += 1
    return resp.bulk_or_null(old, c.resp)


@NODE.command(
    "getex",
    -2,
    Flag.WRITE | Flag.FAST,
    group="string",
    since="6.2.0",
    summary="Get the value of a key and optionally set its expiration",
    complexity="O(1)",
    acl=Acl.STRING,
    keys=[
        key_at(
            1,
            KeyFlag.RW | KeyFlag.ACCESS | KeyFlag.UPDATE,
            notes="RW and UPDATE because it changes the TTL",
        )
    ],
    args=(
        docs.key("key"),
        docs.oneof(
            "expiration",
            docs.integer("seconds", token="EX"),
            docs.integer("milliseconds", token="PX"),
            docs.unix_time("unix-time-seconds", token="EXAT"),
            docs.unix_time("unix-time-milliseconds", token="PXAT"),
            docs.token("persist", "PERSIST"),
            optional=True,
        ),
    ),
)
def getex(c: Client, argv: Argv) -> bytes:
    flags, expire = _parse_options(argv, 2, _GETEX_OPTIONS)
    key = argv[1]
    value = get_string(c, key)
    if value is None:
        return resp.null(c.resp)  # a missing key answers nil before the expiry is checked
    reply = resp.bulk(value)
    db = c.db
    if expire is not None:
        when = _expire_at(c, expire, flags, "getex")
        if when <= c.engine.now_ms:  # only EXAT/PXAT can be in the past: delete now
            db.delete(key)
            _event(c, b"del", key, notify.GENERIC)
            lazy = c.engine.config.bool("lazyfree-lazy-expire")
            c.engine.propagate_as(c, [[b"UNLINK" if lazy else b"DEL", key]])
        else:
            db.set_expire(key, when)
            _event(c, b"expire", key, notify.GENERIC)
            c.engine.propagate_as(c, [[b"PEXPIREAT", key, b"%d" % when]])
        c.engine.dirty += 1
    elif flags & _PERSIST and db.persist(key):
        _event(c, b"persist", key, notify.GENERIC)
        c.engine.propagate_as(c, [[b"PERSIST", key]])
        c.engine.dirty += 1
    return reply


@NODE.command(
    "getdel",
    2,
    Flag.WRITE | Flag.FAST,
    group="string",
    since="6.2.0",
    summary="Get the value of a key and delete the key",
    complexity="O(1)",
    acl=Acl.STRING,
    keys=[key_at(1, KeyFlag.RW | KeyFlag.ACCESS | KeyFlag.DELETE)],
    args=(docs.key("key"),),
)
def getdel(c: Client, argv: Argv) -> bytes:
    value = get_string(c, argv[1])
    if value is None:
        return resp.null(c.resp)
    c.db.delete(argv[1])
    _event(c, b"del", argv[1], notify.GENERIC)
    c.engine.propagate_as(c, [[b"DEL", argv[1]]])
    c.engine.dirty += 1
    return resp.bulk(value)


# ==== many keys ==============================================================================
@NODE.command(
    "mget",
    -2,
    Flag.READONLY | Flag.FAST,
    group="string",
    since="1.0.0",
    summary="Get the values of all the given keys",
    complexity="O(N) where N is the number of keys to retrieve.",
    acl=Acl.STRING,
    keys=[key_at(1, KeyFlag.RO | KeyFlag.ACCESS, lastkey=-1)],
    tips=("request_policy:multi_shard",),
    args=(docs.key("key", multiple=True),),
)
def mget(c: Client, argv: Argv) -> bytes:
    lookup = c.db.lookup_read
    null = resp.null(c.resp)
    out = [b"*%d\r\n" % (len(argv) - 1)]
    for key in argv[1:]:
        value = lookup(key)
        if value.__class__ is bytes or value.__class__ is bytearray:
            out.append(b"$%d\r\n%s\r\n" % (len(value), value))
        else:
            out.append(null)  # missing keys and other types alike
    return b"".join(out)


def _mset(c: Client, argv: Argv, name: str) -> None:
    if len(argv) % 2 == 0:
        raise errors.wrong_arity(name)
    set_value = c.db.set_value
    engine = c.engine
    for i in range(1, len(argv), 2):
        set_value(argv[i], argv[i + 1])
        if engine.notify_flags:
            engine.notify(notify.STRING, b"set", argv[i], c.db.index)
    engine.dirty += (len(argv) - 1) // 2


@NODE.command(
    "mset",
    -3,
    Flag.WRITE | Flag.DENYOOM,
    group="string",
    since="1.0.1",
    summary="Set multiple keys to multiple values",
    complexity="O(N) where N is the number of keys to set.",
    acl=Acl.STRING,
    keys=[key_at(1, KeyFlag.OW | KeyFlag.UPDATE, lastkey=-1, step=2)],
    tips=("request_policy:multi_shard", "response_policy:all_succeeded"),
    args=(docs.block("key_value", docs.key("key"), docs.string("value"), multiple=True),),
)
def mset(c: Client, argv: Argv) -> bytes:
    _mset(c, argv, "mset")
    return resp.OK


@NODE.command(
    "msetnx",
    -3,
    Flag.WRITE | Flag.DENYOOM,
    group="string",
    since="1.0.1",
    summary="Set multiple keys to multiple values, only if none of the keys exist",
    complexity="O(N) where N is the number of keys to set.",
    acl=Acl.STRING,
    keys=[key_at(1, KeyFlag.OW | KeyFlag.INSERT, lastkey=-1, step=2)],
    tips=("request_policy:multi_shard", "response_policy:agg_min"),
    args=(docs.block("key_value", docs.key("key"), docs.string("value"), multiple=True),),
)
def msetnx(c: Client, argv: Argv) -> bytes:
    if len(argv) % 2 == 0:
        raise errors.wrong_arity("msetnx")
    lookup = c.db.lookup
    for i in range(1, len(argv), 2):
        if lookup(argv[i]) is not None:
            return resp.ZERO
    _mset(c, argv, "msetnx")
    return resp.ONE


# ==== in-place changes =======================================================================
@NODE.command(
    "append",
    3,
    Flag.WRITE | Flag.DENYOOM | Flag.FAST,
    group="string",
    since="2.0.0",
    summary="Append a value to a key",
    complexity="O(1). The amortized time complexity is O(1) assuming the appended "
    "value is small and the already present value is of any size, since "
    "the dynamic string library used by Redis will double the free space "
    "available on every reallocation.",
    acl=Acl.STRING,
    keys=[key_at(1, KeyFlag.RW | KeyFlag.INSERT)],
    args=(docs.key("key"), docs.string("value")),
)
def append(c: Client, argv: Argv) -> bytes:
    db, key, tail = c.db, argv[1], argv[2]
    value = db.lookup(key)
    if value is None:
        db.set_value(key, tail)  # a new key is an ordinary (embstr/int) string
        _event(c, b"append", key)
        c.engine.dirty += 1
        return resp.integer(len(tail))
    value = _wrongtype_unless_string(value)
    _check_length(c, len(value) + len(tail))
    if value.__class__ is bytes:
        value = bytearray(value) + tail
        db.set_value(key, value, keep_ttl=True)  # now raw, even when appending ""
    else:
        value += tail  # a bytearray: in place
        db.touch(key)
    _event(c, b"append", key)
    c.engine.dirty += 1
    return resp.integer(len(value))


@NODE.command(
    "setrange",
    4,
    Flag.WRITE | Flag.DENYOOM,
    group="string",
    since="2.2.0",
    summary="Overwrite part of a string at key starting at the specified offset",
    complexity="O(1), not counting the time taken to copy the new string in place. "
    "Usually, this string is very small so the amortized complexity is "
    "O(1). Otherwise, complexity is O(M) with M being the length of the "
    "value argument.",
    acl=Acl.STRING,
    keys=[key_at(1, KeyFlag.RW | KeyFlag.UPDATE)],
    args=(docs.key("key"), docs.integer("offset"), docs.string("value")),
)
def setrange(c: Client, argv: Argv) -> bytes:
    offset = int_arg(argv[2])
    if offset < 0:
        raise CommandError(errors.OFFSET_OUT_OF_RANGE)
    db, key, patch = c.db, argv[1], argv[3]
    found = db.lookup(key)
    if found is None:
        if not patch:
            return resp.ZERO  # nothing to write: no key is created
        _check_length(c, offset + len(patch))
        value = bytearray(offset)
    else:
        old = _wrongtype_unless_string(found)
        if not patch:
            return resp.integer(len(old))
        _check_length(c, offset + len(patch))
        value = old if isinstance(old, bytearray) else bytearray(old)
        if len(value) < offset:
            value += bytes(offset - len(value))  # Redis zero-pads up to the offset
    value[offset : offset + len(patch)] = patch
    if value is found:
        db.touch(key)
    else:
        db.set_value(key, value, keep_ttl=True)
    _event(c, b"setrange", key)
    c.engine.dirty += 1
    return resp.integer(len(value))


# ==== reads ==================================================================================
@NODE.command(
    "strlen",
    2,
    Flag.READONLY | Flag.FAST,
    group="string",
    since="2.2.0",
    summary="Get the length of the value stored in a key",
    complexity="O(1)",
    acl=Acl.STRING,
    keys=[key_at(1, KeyFlag.RO)],
    args=(docs.key("key"),),
)
def strlen(c: Client, argv: Argv) -> bytes:
    value = get_string(c, argv[1])
    return resp.integer(len(value)) if value is not None else resp.ZERO


_RANGE_COMPLEXITY: Final = (
    "O(N) where N is the length of the returned string. The complexity is ultimately "
    "determined by the returned length, but because creating a substring from an existing "
    "string is very cheap, it can be considered O(1) for small strings."
)
_RANGE_ARGS: Final = (docs.key("key"), docs.integer("start"), docs.integer("end"))


@NODE.command(
    "getrange",
    4,
    Flag.READONLY,
    group="string",
    since="2.4.0",
    summary="Get a substring of the string stored at a key",
    complexity=_RANGE_COMPLEXITY,
    acl=Acl.STRING,
    keys=[key_at(1, KeyFlag.RO | KeyFlag.ACCESS)],
    args=_RANGE_ARGS,
)
def getrange(c: Client, argv: Argv) -> bytes:
    return _getrange(c, argv)


@NODE.command(
    "substr",
    4,
    Flag.READONLY,
    group="string",
    since="1.0.0",
    summary="Get a substring of the string stored at a key",
    complexity=_RANGE_COMPLEXITY,
    acl=Acl.STRING,
    keys=[key_at(1, KeyFlag.RO | KeyFlag.ACCESS)],
    args=_RANGE_ARGS,
    doc_flags=("deprecated",),
    deprecated_since="2.0.0",
    replaced_by="`GETRANGE`",
)
def substr(c: Client, argv: Argv) -> bytes:
    return _getrange(c, argv)


def _getrange(c: Client, argv: Argv) -> bytes:
    start, end = int_arg(argv[2]), int_arg(argv[3])
    value = get_string(c, argv[1])
    if value is None:
        return resp.EMPTY_BULK  # an empty string, not nil, in RESP2 and RESP3 alike
    size = len(value)
    if start < 0 and end < 0 and start > end:
        return resp.EMPTY_BULK
    if start < 0:
        start = max(size + start, 0)
    if end < 0:
        end = max(size + end, 0)
    end = min(end, size - 1)
    if start > end or not size:
        return resp.EMPTY_BULK
    return resp.bulk(value[start : end + 1])


# ==== counters ===============================================================================
def _incr(c: Client, key: bytes, delta: int) -> bytes:
    """Redis's incrDecrCommand: the result is stored as canonical decimal text, TTL kept."""
    db = c.db
    # Without TTLs in the database a lookup is the dict probe (as on GET's fast path).
    found = db.lookup(key) if db.expires else db.data.get(key)
    if found is None:
        current = 0
    else:
        parsed = string2ll(_wrongtype_unless_string(found))
        if parsed is None:
            raise CommandError(errors.NOT_INTEGER)
        current = parsed
    result = current + delta
    # The exact bounds only past 10**18: compiled, an int below 2**62 compares as a machine
    # word, the int64 bounds as Python objects (~200 instructions each).
    if (result > _FITS or result < -_FITS) and not LLONG_MIN <= result <= LLONG_MAX:
        raise CommandError(errors.OVERFLOW)
    text = b"%d" % result
    db.set_value(key, text, keep_ttl=True)
    engine = c.engine
    if engine.notify_flags:
        engine.notify(notify.STRING, b"incrby", key, db.index)
    engine.dirty += 1
    return b":%b\r\n" % text  # the stored digits: no second int-to-text conversion


_COUNTER_FLAGS: Final = Flag.WRITE | Flag.DENYOOM | Flag.FAST
_FITS: Final = 10**18  # every int within ±_FITS is an int64
_COUNTER_KEYS: Final = (key_at(1, KeyFlag.RW | KeyFlag.ACCESS | KeyFlag.UPDATE),)


@NODE.command(
    "incr",
    2,
    _COUNTER_FLAGS,
    group="string",
    since="1.0.0",
    summary="Increment the integer value of a key by one",
    args=(docs.key("key"),),
    complexity="O(1)",
    acl=Acl.STRING,
    keys=_COUNTER_KEYS,
)
def incr(c: Client, argv: Argv) -> bytes:
    return _incr(c, argv[1], 1)


@NODE.command(
    "decr",
    2,
    _COUNTER_FLAGS,
    group="string",
    since="1.0.0",
    summary="Decrement the integer value of a key by one",
    args=(docs.key("key"),),
    complexity="O(1)",
    acl=Acl.STRING,
    keys=_COUNTER_KEYS,
)
def decr(c: Client, argv: Argv) -> bytes:
    return _incr(c, argv[1], -1)


@NODE.command(
    "incrby",
    3,
    _COUNTER_FLAGS,
    group="string",
    since="1.0.0",
    summary="Increment the integer value of a key by the given amount",
    args=(docs.key("key"), docs.integer("increment")),
    complexity="O(1)",
    acl=Acl.STRING,
    keys=_COUNTER_KEYS,
)
def incrby(c: Client, argv: Argv) -> bytes:
    return _incr(c, argv[1], int_arg(argv[2]))


@NODE.command(
    "decrby",
    3,
    _COUNTER_FLAGS,
    group="string",
    since="1.0.0",
    summary="Decrement the integer value of a key by the given number",
    args=(docs.key("key"), docs.integer("decrement")),
    complexity="O(1)",
    acl=Acl.STRING,
    keys=_COUNTER_KEYS,
)
def decrby(c: Client, argv: Argv) -> bytes:
    delta = int_arg(argv[2])
    if delta == LLONG_MIN:  # its negation does not fit an int64
        raise CommandError(errors.DECR_OVERFLOW)
    return _incr(c, argv[1], -delta)


@NODE.command(
    "incrbyfloat",
    3,
    _COUNTER_FLAGS,
    group="string",
    since="2.6.0",
    summary="Increment the float value of a key by the given amount",
    args=(docs.key("key"), docs.double("increment")),
    complexity="O(1)",
    acl=Acl.STRING,
    keys=_COUNTER_KEYS,
)
def incrbyfloat(c: Client, argv: Argv) -> bytes:
    db, key = c.db, argv[1]
    found = db.lookup(key)
    current = (
        _longdouble.parse(_wrongtype_unless_string(found))
        if found is not None
        else _longdouble.ZERO
    )
    increment = _longdouble.parse(argv[2])
    if current is None or increment is None:
        raise CommandError(errors.NOT_FLOAT)
    total = _longdouble.add(current, increment)
    if total is None:
        raise CommandError(errors.INCR_NAN_INF)
    text = _longdouble.format_human(total)
    db.set_value(key, text, keep_ttl=True)
    _event(c, b"incrbyfloat", key)
    # A float sum is not exactly reproducible elsewhere: the result is what propagates.
    c.engine.propagate_as(c, [[b"SET", key, text, b"KEEPTTL"]])
    c.engine.dirty += 1
    return resp.bulk(text)


# ==== LCS ====================================================================================
@NODE.command(
    "lcs",
    -3,
    Flag.READONLY,
    group="string",
    since="7.0.0",
    summary="Find longest common substring",
    complexity="O(N*M) where N and M are the lengths of s1 and s2, respectively",
    acl=Acl.STRING,
    keys=[key_at(1, KeyFlag.RO | KeyFlag.ACCESS, lastkey=1)],
    args=(
        docs.key("key1"),
        docs.key("key2"),
        docs.token("len", "LEN", optional=True),
        docs.token("idx", "IDX", optional=True),
        docs.integer("len", token="MINMATCHLEN", optional=True),
        docs.token("withmatchlen", "WITHMATCHLEN", optional=True),
    ),
)
def lcs(c: Client, argv: Argv) -> bytes:
    texts = []
    for key in (argv[1], argv[2]):
        value = c.db.lookup_read(key)
        if value is not None and not isinstance(value, (bytes, bytearray)):
            raise CommandError(errors.LCS_NOT_STRINGS)  # checked before the options
        texts.append(bytes(value) if value is not None else b"")
    s1, s2 = texts
    want_len = want_idx = with_len = False
    min_len = 0
    i = 3
    while i < len(argv):
        opt = option(argv[i])
        if opt == b"IDX":
            want_idx = True
        elif opt == b"LEN":
            want_len = True
        elif opt == b"WITHMATCHLEN":
            with_len = True
        elif opt == b"MINMATCHLEN" and i + 1 < len(argv):
            i += 1
            min_len = max(int_arg(argv[i]), 0)
        else:
            raise CommandError(errors.SYNTAX)
        i += 1
    if want_idx and want_len:
        raise CommandError(errors.LCS_LEN_AND_IDX)
    if (len(s1) + 1) * (len(s2) + 1) * 4 > c.engine.config.int("proto-max-bulk-len"):
        raise CommandError(errors.LCS_TOO_BIG)  # Redis's DP table would be that large
    if want_len:
        return resp.integer(_lcs_length(s1, s2))
    rows = _lcs_rows(s1, s2)
    common, ranges = _lcs_walk(s1, s2, rows)
    if not want_idx:
        return resp.bulk(common)
    out = [resp.map_header(2, c.resp), resp.bulk(b"matches")]
    kept = [r for r in ranges if r[4] >= min_len]
    out.append(resp.array_header(len(kept)))
    for a_start, a_end, b_start, b_end, length in kept:
        out.append(
            b"*%d\r\n*2\r\n:%d\r\n:%d\r\n*2\r\n:%d\r\n:%d\r\n"
            % (3 if with_len else 2, a_start, a_end, b_start, b_end)
        )
        if with_len:
            out.append(resp.integer(length))
    out.append(resp.bulk(b"len"))
    out.append(resp.integer(len(common)))
    return b"".join(out)


# The LCS table is computed bit-parallel (Hyyro's / Crochemore et al.'s bit-vector LCS):
# row i is an int whose bit j-1 is 0 exactly when LCS(i, j) = LCS(i, j-1) + 1. That is the
# one fact Redis's walk back through its O(N*M) table needs, at a 64th of the work.
def _match_masks(s2: bytes) -> dict[int, int]:
    masks: dict[int, int] = {}
    for j, byte in enumerate(s2):
        masks[byte] = masks.get(byte, 0) | (1 << j)
    return masks


def _lcs_length(s1: bytes, s2: bytes) -> int:
    masks, full = _match_masks(s2), (1 << len(s2)) - 1
    row = full
    for byte in s1:
        u = row & masks.get(byte, 0)
        row = ((row + u) | (row - u)) & full
    return len(s2) - row.bit_count()


def _lcs_rows(s1: bytes, s2: bytes) -> list[bytes]:
    """Row i (1-based, index i-1) of the bit table, as little-endian bytes for O(1) bit tests."""
    masks, full = _match_masks(s2), (1 << len(s2)) - 1
    width = (len(s2) + 7) // 8
    row, rows = full, []
    for byte in s1:
        u = row & masks.get(byte, 0)
        row = ((row + u) | (row - u)) & full
        rows.append(row.to_bytes(width, "little"))
    return rows


def _lcs_walk(
    s1: bytes, s2: bytes, rows: list[bytes]
) -> tuple[bytes, list[tuple[int, int, int, int, int]]]:
    """Redis's walk from the table's far corner: the common subsequence and its matching
    ranges (a_start, a_end, b_start, b_end, length), last ones first, as Redis emits them."""
    i, j = len(s1), len(s2)
    common = bytearray()
    ranges: list[tuple[int, int, int, int, int]] = []
    a_start = a_end = b_start = b_end = -1  # -1: no range open
    while i > 0 and j > 0:
        if s1[i - 1] == s2[j - 1]:
            common.append(s1[i - 1])
            if a_start < 0:
                a_start = a_end = i - 1
                b_start = b_end = j - 1
            else:  # the walk only moves diagonally here, so the range grows backwards
                a_start, b_start = i - 1, j - 1
            i -= 1
            j -= 1
            close = a_start == 0 or b_start == 0
        else:
            # Redis steps up when LCS(i-1, j) > LCS(i, j-1), which is when row i's bit
            # for column j says LCS(i, j-1) is one less than LCS(i, j).
            if not (rows[i - 1][(j - 1) >> 3] >> ((j - 1) & 7)) & 1:
                i -= 1
            else:
                j -= 1
            close = a_start >= 0
        if close:
            ranges.append((a_start, a_end, b_start, b_end, a_end - a_start + 1))
            a_start = -1
    common.reverse()
    return bytes(common), ranges
