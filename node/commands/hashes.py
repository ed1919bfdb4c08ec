"""Hash commands (Redis 7.0's t_hash.c): HSET ... HSCAN.

Rules:
- Values are `HashValue`s (node/engine/types/hash.py): never stored empty (deleting the
  last field deletes the key), WRONGTYPE for any other type, `Database.touch` after an
  in-place change, `picks = None` whenever fields are added or removed.
- Encodings follow Redis: a hash leaves listpack when a field or value longer than
  hash-max-listpack-value is written or it holds more than hash-max-listpack-entries
  fields, both read from the config at the time of the write.
- Numbers: HINCRBY reads the stored value with string2ll, HINCRBYFLOAT works in x86
  long double and prints like INCRBYFLOAT (node/commands/_longdouble.py).
- Errors come in Redis's order: argument syntax and numbers first, then key types.
Pure.
"""

from __future__ import annotations

from typing import Final

from node.commands import _longdouble, docs
from node.commands._args import LLONG_MAX, LLONG_MIN, int_arg, option, string2ll
from node.commands._scan import EMPTY_SCAN, parse_cursor, parse_options, scan_reply
from node.commands.registry import Acl, Flag, KeyFlag, key_at
from node.commands.table import NODE
from node.engine import notify
from node.engine.session import Client
from node.engine.types.hash import HashValue
from node.engine.types.snapshots import scan_step
from node.proto import errors, resp
from node.proto.errors import CommandError

Argv = list[bytes]

_KEY = docs.key("key", 0)
_FIELD_VALUES = docs.block("field_value", docs.string("field"), docs.string("value"), multiple=True)
# HRANDFIELD's negative count with WITHVALUES is refused below -LONG_MAX/2 (the reply
# would need more than LONG_MAX elements).
_WITHVALUES_MIN_COUNT: Final = -(LLONG_MAX // 2)


def _as_hash(value: object) -> HashValue:
    if isinstance(value, HashValue):
        return value
    raise CommandError(errors.WRONGTYPE)


def _get_hash(c: Client, key: bytes) -> HashValue | None:
    value = c.db.lookup(key)
    return None if value is None else _as_hash(value)


def _read_hash(c: Client, key: bytes) -> HashValue | None:
    """`_get_hash` for commands that only read (a missing key is a keymiss event)."""
    value = c.db.lookup_read(key)
    return None if value is None else _as_hash(value)


def _event(c: Client, event: bytes, key: bytes, kind: int = notify.HASH) -> None:
    engine = c.engine
    if engine.notify_flags:
        engine.notify(kind, event, key, c.db.index)


def _check_encoding(c: Client, h: HashValue, written: Argv, start: int) -> None:
    """After a write to a listpack hash: leave listpack (for good) once it holds too many
    fields or one of the fields and values just written (written[start:]) is too long."""
    limits = c.engine.limits
    max_value = limits.hash_max_listpack_value
    if len(h) > limits.hash_max_listpack_entries:
        h.hashtable = True
    elif len(written) - start == 2:  # one pair: the usual case, spared a loop
        if len(written[start]) > max_value or len(written[start + 1]) > max_value:
            h.hashtable = True
    elif any(len(item) > max_value for item in written[start:]):
        h.hashtable = True


def _set_one(
    c: Client, key: bytes, h: HashValue | None, field: bytes, value: bytes, event: bytes
) -> None:
    """Write one field (HSETNX, HINCRBY*), creating the hash when `h` is None."""
    if h is None:
        h = HashValue()
        h[field] = value
        _check_encoding(c, h, [field, value], 0)
        c.db.set_value(key, h)
    else:
        if field not in h:
            h.picks = None
        h[field] = value
        if not h.hashtable:
            _check_encoding(c, h, [field, value], 0)
        c.db.touch(key)
    _event(c, event, key)
    c.engine.dirty += 1


# ==== writes =================================================================================
def _hset(c: Client, argv: Argv, name: str) -> int:
    """HSET/HMSET: set every pair; returns how many fields are new. A hot path: the lookup
    is inlined and big (hashtable) hashes skip the encoding check."""
    argc = len(argv)
    if argc % 2:
        raise errors.wrong_arity(name)
    key, db = argv[1], c.db
    h = db.lookup(key)
    created = h is None
    if h is None:
        h = HashValue()
    elif not isinstance(h, HashValue):
        raise CommandError(errors.WRONGTYPE)
    before = len(h)
    if argc == 4:
        h[argv[2]] = argv[3]
    else:
        for i in range(2, argc, 2):
            h[argv[i]] = argv[i + 1]
    if not h.hashtable:
        _check_encoding(c, h, argv, 2)
    added = len(h) - before
    if created:
        db.set_value(key, h)
    else:
        if added:
            h.picks = None
        db.touch(key)
    engine = c.engine
    if engine.notify_flags:
        engine.notify(notify.HASH, b"hset", key, db.index)
    engine.dirty += (argc - 2) >> 1
    return added


@NODE.command(
    "hset",
    -4,
    Flag.WRITE | Flag.DENYOOM | Flag.FAST,
    group="hash",
    since="2.0.0",
    summary="Set the string value of a hash field",
    complexity="O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command is called with multiple field/value pairs.",
    acl=Acl.HASH,
    keys=[key_at(1, KeyFlag.RW | KeyFlag.UPDATE)],
    history=(("4.0.0", "Accepts multiple `field` and `value` arguments."),),
    args=(_KEY, _FIELD_VALUES),
)
def hset(c: Client, argv: Argv) -> bytes:
    db, engine = c.db, c.engine
    h = db.data.get(argv[1])
    if (
        h.__class__ is HashValue
        and len(argv) == 4
        and not (db.expires or db.watched or db.tracking or engine.notify_flags)
    ):
        # One field of an existing hash with nothing to signal, inlined (else `_hset`):
        # `_check_encoding`'s one-pair case.
        field, value = argv[2], argv[3]
        added = field not in h
        h[field] = value
        if added:
            h.picks = None
        if not h.hashtable:
            limits = engine.limits
            longest = limits.hash_max_listpack_value
            if (
                len(h) > limits.hash_max_listpack_entries
                or len(field) > longest
                or len(value) > longest
            ):
                h.hashtable = True
        engine.dirty += 1
        return resp.ONE if added else resp.ZERO
    return resp.integer(_hset(c, argv, "hset"))


@NODE.command(
    "hmset",
    -4,
    Flag.WRITE | Flag.DENYOOM | Flag.FAST,
    group="hash",
    since="2.0.0",
    summary="Set multiple hash fields to multiple values",
    complexity="O(N) where N is the number of fields being set.",
    acl=Acl.HASH,
    keys=[key_at(1, KeyFlag.RW | KeyFlag.UPDATE)],
    doc_flags=("deprecated",),
    deprecated_since="4.0.0",
    replaced_by="`HSET` with multiple field-value pairs",
    args=(_KEY, _FIELD_VALUES),
)
def hmset(c: Client, argv: Argv) -> bytes:
    _hset(c, argv, "hmset")
    return resp.OK


@NODE.command(
    "hsetnx",
    4,
    Flag.WRITE | Flag.DENYOOM | Flag.FAST,
    group="hash",
    since="2.0.0",
    summary="Set the value of a hash field, only if the field does not exist",
    complexity="O(1)",
    acl=Acl.HASH,
    keys=[key_at(1, KeyFlag.RW | KeyFlag.INSERT)],
    args=(_KEY, docs.string("field"), docs.string("value")),
)
def hsetnx(c: Client, argv: Argv) -> bytes:
    key, field = argv[1], argv[2]
    h = _get_hash(c, key)
    if h is not None and field in h:
        return resp.ZERO
    _set_one(c, key, h, field, argv[3], b"hset")
    return resp.ONE


@NODE.command(
    "hdel",
    -3,
    Flag.WRITE | Flag.FAST,
    group="hash",
    since="2.0.0",
    summary="Delete one or more hash fields",
    complexity="O(N) where N is the number of fields to be removed.",
    acl=Acl.HASH,
    keys=[key_at(1, KeyFlag.RW | KeyFlag.DELETE)],
    history=(("2.4.0", "Accepts multiple `field` arguments."),),
    args=(_KEY, docs.string("field", multiple=True)),
)
def hdel(c: Client, argv: Argv) -> bytes:
    key = argv[1]
    h = _get_hash(c, key)
    if h is None:
        return resp.ZERO
    deleted = 0
    for field in argv[2:]:
        if h.pop(field, None) is not None:
            deleted += 1
    if deleted:
        h.picks = None
        if h:
            c.db.touch(key)
        else:
            c.db.delete(key)
        _event(c, b"hdel", key)
        if not h:
            _event(c, b"del", key, notify.GENERIC)
        c.engine.dirty += deleted
    return resp.integer(deleted)


@NODE.command(
    "hincrby",
    4,
    Flag.WRITE | Flag.DENYOOM | Flag.FAST,
    group="hash",
    since="2.0.0",
    summary="Increment the integer value of a hash field by the given number",
    complexity="O(1)",
    acl=Acl.HASH,
    keys=[key_at(1, KeyFlag.RW | KeyFlag.ACCESS | KeyFlag.UPDATE)],
    args=(_KEY, docs.string("field"), docs.integer("increment")),
)
def hincrby(c: Client, argv: Argv) -> bytes:
    increment = int_arg(argv[3])
    key, field = argv[1], argv[2]
    h = _get_hash(c, key)
    current = 0
    stored = h.get(field) if h is not None else None
    if stored is not None:
        parsed = string2ll(stored)
        if parsed is None:
            raise CommandError(errors.HASH_NOT_INTEGER)
        current = parsed
    total = current + increment
    if not LLONG_MIN <= total <= LLONG_MAX:
        raise CommandError(errors.OVERFLOW)
    _set_one(c, key, h, field, b"%d" % total, b"hincrby")
    return resp.integer(total)


@NODE.command(
    "hincrbyfloat",
    4,
    Flag.WRITE | Flag.DENYOOM | Flag.FAST,
    group="hash",
    since="2.6.0",
    summary="Increment the float value of a hash field by the given amount",
    complexity="O(1)",
    acl=Acl.HASH,
    keys=[key_at(1, KeyFlag.RW | KeyFlag.ACCESS | KeyFlag.UPDATE)],
    args=(_KEY, docs.string("field"), docs.double("increment")),
)
def hincrbyfloat(c: Client, argv: Argv) -> bytes:
    increment = _longdouble.parse(argv[3])
    if increment is None:
        raise CommandError(errors.NOT_FLOAT)
    if isinstance(increment, float):  # an infinity: NaN never parses
        raise CommandError(errors.NAN_OR_INF)
    key, field = argv[1], argv[2]
    h = _get_hash(c, key)
    current: _longdouble.LongDouble = _longdouble.ZERO
    stored = h.get(field) if h is not None else None
    if stored is not None:
        parsed = _longdouble.parse(stored)
        if parsed is None:
            raise CommandError(errors.HASH_NOT_FLOAT)
        current = parsed
    total = _longdouble.add(current, increment)
    if total is None:
        raise CommandError(errors.INCR_NAN_INF)
    text = _longdouble.format_human(total)
    _set_one(c, key, h, field, text, b"hincrbyfloat")
    c.engine.propagate_as(c, [[b"HSET", key, field, text]])  # the result, not the sum
    return resp.bulk(text)


# ==== reads ==================================================================================
@NODE.command(
    "hget",
    3,
    Flag.READONLY | Flag.FAST,
    group="hash",
    since="2.0.0",
    summary="Get the value of a hash field",
    complexity="O(1)",
    acl=Acl.HASH,
    keys=[key_at(1, KeyFlag.RO | KeyFlag.ACCESS)],
    args=(_KEY, docs.string("field")),
)
def hget(c: Client, argv: Argv) -> bytes:
    h = c.db.lookup_read(argv[1])
    if h is None:
        return resp.null(c.resp)
    value = _as_hash(h).get(argv[2])
    if value is None:
        return resp.null(c.resp)
    return b"$%d\r\n%s\r\n" % (len(value), value)


@NODE.command(
    "hmget",
    -3,
    Flag.READONLY | Flag.FAST,
    group="hash",
    since="2.0.0",
    summary="Get the values of all the given hash fields",
    complexity="O(N) where N is the number of fields being requested.",
    acl=Acl.HASH,
    keys=[key_at(1, KeyFlag.RO | KeyFlag.ACCESS)],
    args=(_KEY, docs.string("field", multiple=True)),
)
def hmget(c: Client, argv: Argv) -> bytes:
    h: dict[bytes, bytes] = _read_hash(c, argv[1]) or {}
    r = c.resp
    return resp.array_header(len(argv) - 2) + b"".join(
        [resp.bulk_or_null(h.get(field), r) for field in argv[2:]]
    )


@NODE.command(
    "hlen",
    2,
    Flag.READONLY | Flag.FAST,
    group="hash",
    since="2.0.0",
    summary="Get the number of fields in a hash",
    complexity="O(1)",
    acl=Acl.HASH,
    keys=[key_at(1, KeyFlag.RO)],
    args=(_KEY,),
)
def hlen(c: Client, argv: Argv) -> bytes:
    h = _read_hash(c, argv[1])
    return resp.integer(len(h)) if h is not None else resp.ZERO


@NODE.command(
    "hstrlen",
    3,
    Flag.READONLY | Flag.FAST,
    group="hash",
    since="3.2.0",
    summary="Get the length of the value of a hash field",
    complexity="O(1)",
    acl=Acl.HASH,
    keys=[key_at(1, KeyFlag.RO)],
    args=(_KEY, docs.string("field")),
)
def hstrlen(c: Client, argv: Argv) -> bytes:
    h = _read_hash(c, argv[1])
    value = h.get(argv[2]) if h is not None else None
    return resp.integer(len(value)) if value is not None else resp.ZERO


@NODE.command(
    "hexists",
    3,
    Flag.READONLY | Flag.FAST,
    group="hash",
    since="2.0.0",
    summary="Determine if a hash field exists",
    complexity="O(1)",
    acl=Acl.HASH,
    keys=[key_at(1, KeyFlag.RO)],
    args=(_KEY, docs.string("field")),
)
def hexists(c: Client, argv: Argv) -> bytes:
    h = _read_hash(c, argv[1])
    return resp.ONE if h is not None and argv[2] in h else resp.ZERO


_WHOLE_HASH_KEYS: Final = (key_at(1, KeyFlag.RO | KeyFlag.ACCESS),)
_WHOLE_HASH_COST: Final = "O(N) where N is the size of the hash."
_UNORDERED: Final = ("nondeterministic_output_order",)


@NODE.command(
    "hkeys",
    2,
    Flag.READONLY,
    group="hash",
    since="2.0.0",
    summary="Get all the fields in a hash",
    complexity=_WHOLE_HASH_COST,
    acl=Acl.HASH,
    keys=_WHOLE_HASH_KEYS,
    tips=_UNORDERED,
    args=(_KEY,),
)
def hkeys(c: Client, argv: Argv) -> bytes:
    h: dict[bytes, bytes] = _read_hash(c, argv[1]) or {}
    return resp.array_header(len(h)) + resp.bulks(h)


@NODE.command(
    "hvals",
    2,
    Flag.READONLY,
    group="hash",
    since="2.0.0",
    summary="Get all the values in a hash",
    complexity=_WHOLE_HASH_COST,
    acl=Acl.HASH,
    keys=_WHOLE_HASH_KEYS,
    tips=_UNORDERED,
    args=(_KEY,),
)
def hvals(c: Client, argv: Argv) -> bytes:
    h: dict[bytes, bytes] = _read_hash(c, argv[1]) or {}
    return resp.array_header(len(h)) + resp.bulks(h.values())


@NODE.command(
    "hgetall",
    2,
    Flag.READONLY,
    group="hash",
    since="2.0.0",
    summary="Get all the fields and values in a hash",
    complexity=_WHOLE_HASH_COST,
    acl=Acl.HASH,
    keys=_WHOLE_HASH_KEYS,
    tips=_UNORDERED,
    args=(_KEY,),
)
def hgetall(c: Client, argv: Argv) -> bytes:
    h: dict[bytes, bytes] = _read_hash(c, argv[1]) or {}
    return resp.map_header(len(h), c.resp) + b"".join(
        [b"$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(f), f, len(v), v) for f, v in h.items()]
    )


# ==== HRANDFIELD =============================================================================
@NODE.command(
    "hrandfield",
    -2,
    Flag.READONLY,
    group="hash",
    since="6.2.0",
    summary="Get one or multiple random fields from a hash",
    complexity="O(N) where N is the number of fields returned",
    acl=Acl.HASH,
    keys=[key_at(1, KeyFlag.RO | KeyFlag.ACCESS)],
    tips=("nondeterministic_output",),
    args=(
        _KEY,
        docs.block(
            "options",
            docs.integer("count"),
            docs.token("withvalues", "WITHVALUES", optional=True),
            optional=True,
        ),
    ),
)
def hrandfield(c: Client, argv: Argv) -> bytes:
    if len(argv) == 2:
        h = _read_hash(c, argv[1])
        if h is None:
            return resp.null(c.resp)
        fields = h.field_list()
        return resp.bulk(fields[c.engine.rng.randrange(len(fields))])
    count = string2ll(argv[2])
    if count is None:
        raise CommandError(errors.NOT_INTEGER)
    if count < -LLONG_MAX:
        raise CommandError(errors.LONG_RANGE)
    withvalues = len(argv) == 4 and option(argv[3]) == b"WITHVALUES"
    if len(argv) > 4 or (len(argv) == 4 and not withvalues):
        raise CommandError(errors.SYNTAX)
    if withvalues and count < _WITHVALUES_MIN_COUNT:
        raise CommandError(errors.VALUE_OUT_OF_RANGE)
    h = _read_hash(c, argv[1])
    if h is None or count == 0:
        return resp.EMPTY_ARRAY
    rng = c.engine.rng
    if count < 0:
        picked = rng.choices(h.field_list(), k=-count)
    elif count >= len(h):
        picked = list(h)
    else:
        fields = h.field_list()
        picked = [fields[i] for i in rng.sample(range(len(fields)), count)]
    if not withvalues:
        return resp.array_header(len(picked)) + resp.bulks(picked)
    if c.resp == 3:  # an array of [field, value] pairs
        pair = b"*2\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n"
    else:  # one flat array
        pair = b"$%d\r\n%s\r\n$%d\r\n%s\r\n"
    header = resp.array_header(len(picked) if c.resp == 3 else 2 * len(picked))
    return header + b"".join([pair % (len(f), f, len(h[f]), h[f]) for f in picked])


# ==== HSCAN ==================================================================================
@NODE.command(
    "hscan",
    -3,
    Flag.READONLY,
    group="hash",
    since="2.8.0",
    summary="Incrementally iterate hash fields and associated values",
    complexity="O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..",
    acl=Acl.HASH,
    keys=[key_at(1, KeyFlag.RO | KeyFlag.ACCESS)],
    tips=("nondeterministic_output",),
    args=(
        _KEY,
        docs.integer("cursor"),
        docs.pattern("pattern", token="MATCH", optional=True),
        docs.integer("count", token="COUNT", optional=True),
    ),
)
def hscan(c: Client, argv: Argv) -> bytes:
    cursor = parse_cursor(argv[2])
    h = _read_hash(c, argv[1])
    if h is None:
        return EMPTY_SCAN
    options = parse_options(argv, 3)
    if h.hashtable:
        cursor, fields = scan_step(h, cursor, options.count)
    else:
        # Redis returns a listpack whole, in one call, whatever the cursor.
        cursor, fields = 0, list(h)
    match = options.match
    items: list[bytes] = []
    for field in fields:
        if match is None or match(field):
            items += (field, h[field])
    return scan_reply(cursor, items)
