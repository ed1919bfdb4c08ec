"""Set commands (Redis 7.0's t_set.c): SADD ... SSCAN.

Rules:
- Values are `SetValue`s (node/engine/types/set.py): never stored empty (the last removal
  deletes the key), WRONGTYPE for any other type, `Database.touch` after an in-place change.
- Encodings follow Redis 7.0 (intset, then hashtable for good). Sets that Redis builds
  from scratch -- the *STORE results, the rest of a set after a big SPOP, the temporary
  set behind SUNION/SDIFF replies -- get the encoding Redis's build would reach, which also
  decides their reply order (an intset answers in ascending numeric order).
- Random picks come from the engine's seeded rng only.
- Errors come in Redis's order: argument syntax and counts first, then key types.
Pure.
"""

from __future__ import annotations

from typing import Final

from node.commands import docs
from node.commands._args import LLONG_MAX, option, string2ll
from node.commands._scan import EMPTY_SCAN, parse_cursor, parse_options, scan_reply
from node.commands.registry import Acl, Flag, KeyFlag, key_at, keys_by_count
from node.commands.table import NODE
from node.engine import notify
from node.engine.session import Client
from node.engine.types.set import SetValue, fits_intset
from node.engine.types.snapshots import scan_step
from node.proto import errors, resp
from node.proto.errors import CommandError

Argv = list[bytes]

# Redis's SPOP_MOVE_STRATEGY_MUL: when fewer than count/5 members would remain, Redis builds
# the remainder as a new set (so its encoding is recomputed) instead of popping one by one.
_SPOP_MOVE_STRATEGY_MUL: Final = 5
_KEY = docs.key("key", 0)
_KEYS = docs.key("key", 0, multiple=True)
_STORE_ARGS = (docs.key("destination", 0), docs.key("key", 1, multiple=True))


def _as_set(value: object) -> SetValue:
    if isinstance(value, SetValue):
        return value
    raise CommandError(errors.WRONGTYPE)


def _get_set(c: Client, key: bytes) -> SetValue | None:
    value = c.db.lookup(key)
    return None if value is None else _as_set(value)


def _read_set(c: Client, key: bytes) -> SetValue | None:
    """`_get_set` for keys a command only reads (a missing key is a keymiss event)."""
    value = c.db.lookup_read(key)
    return None if value is None else _as_set(value)


def _event(c: Client, event: bytes, key: bytes, kind: int = notify.SET) -> None:
    engine = c.engine
    if engine.notify_flags:
        engine.notify(kind, event, key, c.db.index)


def _max_intset(c: Client) -> int:
    return c.engine.limits.set_max_intset_entries


def _set_reply(c: Client, items: list[bytes]) -> bytes:
    return resp.set_header(len(items), c.resp) + resp.bulks(items)


def _built_order(
    members: dict[bytes, None], max_intset: int, *, intset: bool = True
) -> list[bytes]:
    """The order in which Redis replies a set it has just built from `members`."""
    if intset and fits_intset(members, max_intset):
        return sorted(members, key=int)
    return list(members)


def _count_arg(raw: bytes) -> int:
    """SRANDMEMBER's count: an integer within +-LONG_MAX."""
    value = string2ll(raw)
    if value is None:
        raise CommandError(errors.NOT_INTEGER)
    if value < -LLONG_MAX:
        raise CommandError(errors.LONG_RANGE)
    return value


# ==== single-set commands ===================================================================
@NODE.command(
    "sadd",
    -3,
    Flag.WRITE | Flag.DENYOOM | Flag.FAST,
    group="set",
    since="1.0.0",
    summary="Add one or more members to a set",
    complexity="O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
    acl=Acl.SET,
    keys=[key_at(1, KeyFlag.RW | KeyFlag.INSERT)],
    history=(("2.4.0", "Accepts multiple `member` arguments."),),
    args=(_KEY, docs.string("member", multiple=True)),
)
def sadd(c: Client, argv: Argv) -> bytes:
    key, db = argv[1], c.db
    # Inlined _get_set (SADD is a hot path): without TTLs a lookup is the dict probe.
    members = db.lookup(key) if db.expires else db.data.get(key)
    if members is None:
        members = SetValue()
        added = members.add_members(argv[2:], _max_intset(c))
        db.set_value(key, members)
    elif members.__class__ is SetValue:
        if len(argv) == 3 and argv[2] in members:
            return resp.ZERO  # one member, already there: nothing changes
        # The limit only matters to an intset; a hashtable set never looks at it.
        added = members.add_members(argv[2:], _max_intset(c) if members.intset else 0)
        if added:
            db.touch(key)
    else:
        raise CommandError(errors.WRONGTYPE)
    engine = c.engine
    if added and engine.notify_flags:
        engine.notify(notify.SET, b"sadd", key, db.index)
    engine.dirty += added
    return resp.integer(added)


@NODE.command(
    "srem",
    -3,
    Flag.WRITE | Flag.FAST,
    group="set",
    since="1.0.0",
    summary="Remove one or more members from a set",
    complexity="O(N) where N is the number of members to be removed.",
    acl=Acl.SET,
    keys=[key_at(1, KeyFlag.RW | KeyFlag.DELETE)],
    history=(("2.4.0", "Accepts multiple `member` arguments."),),
    args=(_KEY, docs.string("member", multiple=True)),
)
def srem(c: Client, argv: Argv) -> bytes:
    key = argv[1]
    members = _get_set(c, key)
    if members is None:
        return resp.ZERO
    removed = members.remove_members(argv[2:])
    if removed:
        _after_removal(c, key, members, b"srem")
        c.engine.dirty += removed
    return resp.integer(removed)


@NODE.command(
    "scard",
    2,
    Flag.READONLY | Flag.FAST,
    group="set",
    since="1.0.0",
    summary="Get the number of members in a set",
    complexity="O(1)",
    acl=Acl.SET,
    keys=[key_at(1, KeyFlag.RO)],
    args=(_KEY,),
)
def scard(c: Client, argv: Argv) -> bytes:
    members = _read_set(c, argv[1])
    return resp.integer(len(members)) if members is not None else resp.ZERO


@NODE.command(
    "sismember",
    3,
    Flag.READONLY | Flag.FAST,
    group="set",
    since="1.0.0",
    summary="Determine if a given value is a member of a set",
    complexity="O(1)",
    acl=Acl.SET,
    keys=[key_at(1, KeyFlag.RO)],
    args=(_KEY, docs.string("member")),
)
def sismember(c: Client, argv: Argv) -> bytes:
    members = _read_set(c, argv[1])
    return resp.ONE if members is not None and argv[2] in members else resp.ZERO


@NODE.command(
    "smismember",
    -3,
    Flag.READONLY | Flag.FAST,
    group="set",
    since="6.2.0",
    summary="Returns the membership associated with the given elements for a set",
    complexity="O(N) where N is the number of elements being checked for membership",
    acl=Acl.SET,
    keys=[key_at(1, KeyFlag.RO | KeyFlag.ACCESS)],
    args=(_KEY, docs.string("member", multiple=True)),
)
def smismember(c: Client, argv: Argv) -> bytes:
    members: dict[bytes, None] = _read_set(c, argv[1]) or {}
    return resp.array_header(len(argv) - 2) + b"".join(
        [resp.ONE if m in members else resp.ZERO for m in argv[2:]]
    )


@NODE.command(
    "smembers",
    2,
    Flag.READONLY,
    group="set",
    since="1.0.0",
    summary="Get all the members in a set",
    complexity="O(N) where N is the set cardinality.",
    acl=Acl.SET,
    keys=[key_at(1, KeyFlag.RO | KeyFlag.ACCESS)],
    tips=("nondeterministic_output_order",),
    args=(_KEY,),
)
def smembers(c: Client, argv: Argv) -> bytes:
    members = _read_set(c, argv[1])
    return _set_reply(c, members.ordered() if members is not None else [])


@NODE.command(
    "srandmember",
    -2,
    Flag.READONLY,
    group="set",
    since="1.0.0",
    summary="Get one or multiple random members from a set",
    complexity="Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count.",
    acl=Acl.SET,
    keys=[key_at(1, KeyFlag.RO | KeyFlag.ACCESS)],
    tips=("nondeterministic_output",),
    history=(("2.6.0", "Added the optional `count` argument."),),
    args=(_KEY, docs.integer("count", since="2.6.0", optional=True)),
)
def srandmember(c: Client, argv: Argv) -> bytes:
    if len(argv) > 3:
        raise CommandError(errors.SYNTAX)
    if len(argv) == 2:
        members = _read_set(c, argv[1])
        if members is None:
            return resp.null(c.resp)
        return resp.bulk(members.random_member(c.engine.rng))
    count = _count_arg(argv[2])
    members = _read_set(c, argv[1])
    if members is None or count == 0:
        return resp.EMPTY_ARRAY
    rng = c.engine.rng
    if count < 0:
        picked = members.random_members(rng, -count)
    elif count >= len(members):
        picked = members.ordered()
    else:
        picked = members.sample(rng, count)
    return resp.array_header(len(picked)) + resp.bulks(picked)


@NODE.command(
    "spop",
    -2,
    Flag.WRITE | Flag.FAST,
    group="set",
    since="1.0.0",
    summary="Remove and return one or multiple random members from a set",
    complexity="Without the count argument O(1), otherwise O(N) where N is the value of the passed count.",
    acl=Acl.SET,
    keys=[key_at(1, KeyFlag.RW | KeyFlag.ACCESS | KeyFlag.DELETE)],
    tips=("nondeterministic_output",),
    history=(("3.2.0", "Added the `count` argument."),),
    args=(_KEY, docs.integer("count", since="3.2.0", optional=True)),
)
def spop(c: Client, argv: Argv) -> bytes:
    if len(argv) > 3:
        raise CommandError(errors.SYNTAX)
    key = argv[1]
    if len(argv) == 2:
        members = _get_set(c, key)
        if members is None:
            return resp.null(c.resp)
        member = members.pop_one(c.engine.rng)
        _after_removal(c, key, members, b"spop")
        c.engine.propagate_as(c, [[b"SREM", key, member]])  # random: what was popped
        c.engine.dirty += 1
        return resp.bulk(member)
    count = string2ll(argv[2])
    if count is None or count < 0:
        raise CommandError(errors.NOT_POSITIVE)
    members = _get_set(c, key)
    if members is None or count == 0:
        return resp.set_header(0, c.resp)
    size = len(members)
    if count >= size:
        reply = _set_reply(c, _built_order(members, _max_intset(c)))
        c.db.delete(key)
        _event(c, b"spop", key)
        _event(c, b"del", key, notify.GENERIC)
        lazy = c.engine.config.bool("lazyfree-lazy-server-del")
        c.engine.propagate_as(c, [[b"UNLINK" if lazy else b"DEL", key]])
        c.engine.dirty += size
        return reply
    popped = members.pop_random(c.engine.rng, count)
    if len(members) * _SPOP_MOVE_STRATEGY_MUL <= count:
        members.intset = fits_intset(members, _max_intset(c))  # Redis rebuilt the rest
    c.db.touch(key)
    _event(c, b"spop", key)
    if c.engine.propagating:  # one SREM per popped member, as Redis 7.0 does
        c.engine.propagate_as(c, [[b"SREM", key, member] for member in popped])
    c.engine.dirty += count
    return _set_reply(c, popped)


def _after_removal(c: Client, key: bytes, members: SetValue, event: bytes) -> None:
    """Members were taken out by `event` (srem/spop): signal it, deleting an empty set."""
    if members:
        c.db.touch(key)
    else:
        c.db.delete(key)
    _event(c, event, key)
    if not members:
        _event(c, b"del", key, notify.GENERIC)


@NODE.command(
    "smove",
    4,
    Flag.WRITE | Flag.FAST,
    group="set",
    since="1.0.0",
    summary="Move a member from one set to another",
    complexity="O(1)",
    acl=Acl.SET,
    keys=[
        key_at(1, KeyFlag.RW | KeyFlag.ACCESS | KeyFlag.DELETE),
        key_at(2, KeyFlag.RW | KeyFlag.INSERT),
    ],
    args=(docs.key("source", 0), docs.key("destination", 1), docs.string("member")),
)
def smove(c: Client, argv: Argv) -> bytes:
    src_key, dst_key, member = argv[1], argv[2], argv[3]
    db = c.db
    found_src, found_dst = db.lookup(src_key), db.lookup(dst_key)
    if found_src is None:
        return resp.ZERO  # even when the destination has another type
    src = _as_set(found_src)
    dst = None if found_dst is None else _as_set(found_dst)
    if src_key == dst_key:
        return resp.ONE if member in src else resp.ZERO
    if not src.remove_members((member,)):
        return resp.ZERO
    _after_removal(c, src_key, src, b"srem")
    c.engine.dirty += 1
    if dst is None:
        created = SetValue()
        created.add_members((member,), _max_intset(c))
        db.set_value(dst_key, created)
    elif dst.add_members((member,), _max_intset(c)):
        db.touch(dst_key)
    else:
        return resp.ONE  # already there: nothing more to signal
    _event(c, b"sadd", dst_key)
    c.engine.dirty += 1
    return resp.ONE


# ==== intersections =========================================================================
def _sets_or_none(c: Client, keys: Argv) -> list[SetValue] | None:
    """The sets at `keys`, or None if one is missing (an empty intersection). Every key is
    type-checked first, as Redis does, so a WRONGTYPE anywhere wins."""
    found: list[SetValue] = []
    missing = False
    for key in keys:
        value = _read_set(c, key)
        if value is None:
            missing = True
        else:
            found.append(value)
    return None if missing else found


def _intersect(sets: list[SetValue], limit: int = 0) -> list[bytes]:
    """Members of every set, in the smallest set's order (Redis walks the smallest);
    stops after `limit` members when it is not 0."""
    sets = sorted(sets, key=len)
    first, others = sets[0], [s for s in sets[1:] if s is not sets[0]]
    out: list[bytes] = []
    for member in first.ordered():
        for other in others:
            if member not in other:
                break
        else:
            out.append(member)
            if len(out) == limit:
                break
    return out


def _store(c: Client, dst_key: bytes, result: SetValue, event: bytes) -> bytes:
    """Store a *STORE result (or delete the destination when it is empty)."""
    if result:
        c.db.set_value(dst_key, result)
        _event(c, event, dst_key)
        c.engine.dirty += 1
    elif c.db.delete(dst_key):
        _event(c, b"del", dst_key, notify.GENERIC)
        c.engine.dirty += 1
    return resp.integer(len(result))


@NODE.command(
    "sinter",
    -2,
    Flag.READONLY,
    group="set",
    since="1.0.0",
    summary="Intersect multiple sets",
    complexity="O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.",
    acl=Acl.SET,
    keys=[key_at(1, KeyFlag.RO | KeyFlag.ACCESS, lastkey=-1)],
    tips=("nondeterministic_output_order",),
    args=(_KEYS,),
)
def sinter(c: Client, argv: Argv) -> bytes:
    sets = _sets_or_none(c, argv[1:])
    return _set_reply(c, _intersect(sets) if sets is not None else [])


@NODE.command(
    "sintercard",
    -3,
    Flag.READONLY,
    group="set",
    since="7.0.0",
    summary="Intersect multiple sets and return the cardinality of the result",
    complexity="O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.",
    acl=Acl.SET,
    keys=[keys_by_count(1, KeyFlag.RO | KeyFlag.ACCESS)],
    args=(docs.integer("numkeys"), _KEYS, docs.integer("limit", token="LIMIT", optional=True)),
)
def sintercard(c: Client, argv: Argv) -> bytes:
    numkeys = string2ll(argv[1])
    if numkeys is None or numkeys < 1:
        raise CommandError(errors.NUMKEYS_NOT_POSITIVE)
    if numkeys > len(argv) - 2:
        raise CommandError(errors.NUMKEYS_TOO_MANY)
    limit = 0
    i = 2 + numkeys
    while i < len(argv):
        if option(argv[i]) == b"LIMIT" and i + 1 < len(argv):
            parsed = string2ll(argv[i + 1])
            if parsed is None or parsed < 0:
                raise CommandError(errors.LIMIT_NEGATIVE)
            limit = parsed
            i += 2
        else:
            raise CommandError(errors.SYNTAX)
    sets = _sets_or_none(c, argv[2 : 2 + numkeys])
    return resp.integer(len(_intersect(sets, limit)) if sets is not None else 0)


@NODE.command(
    "sinterstore",
    -3,
    Flag.WRITE | Flag.DENYOOM,
    group="set",
    since="1.0.0",
    summary="Intersect multiple sets and store the resulting set in a key",
    complexity="O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.",
    acl=Acl.SET,
    keys=[
        key_at(1, KeyFlag.RW | KeyFlag.UPDATE),
        key_at(2, KeyFlag.RO | KeyFlag.ACCESS, lastkey=-1),
    ],
    args=_STORE_ARGS,
)
def sinterstore(c: Client, argv: Argv) -> bytes:
    sets = _sets_or_none(c, argv[2:])
    members = _intersect(sets) if sets is not None else []
    return _store(c, argv[1], SetValue.build(members, _max_intset(c)), b"sinterstore")


# ==== unions and differences ================================================================
def _sets_or_missing(c: Client, keys: Argv) -> list[SetValue | None]:
    return [_read_set(c, key) for key in keys]


def _union(sets: list[SetValue | None]) -> dict[bytes, None]:
    out: dict[bytes, None] = {}
    for s in sets:
        if s is not None:
            out.update(s)
    return out


def _diff(sets: list[SetValue | None], max_intset: int) -> tuple[dict[bytes, None], bool]:
    """(first set minus the others, whether Redis's temporary result set is still an intset
    candidate). Redis picks one of two algorithms by estimated work; the second one copies
    the whole first set into the result before removing, which settles its encoding."""
    first = sets[0]
    if first is None or any(s is first for s in sets[1:]):
        return {}, True
    others = [s for s in sets[1:] if s is not None]
    # Redis's estimate (t_set.c sunionDiffGenericCommand): walking the first set against
    # every other one, versus adding the first set and removing all the others.
    walk_work = len(first) * (1 + len(others)) // 2
    copy_work = len(first) + sum(len(s) for s in others)
    out = {m: None for m in first if not any(m in s for s in others)}
    if walk_work <= copy_work:
        return out, True
    return out, fits_intset(first, max_intset)


def _union_diff_reply(c: Client, argv: Argv, diff: bool) -> bytes:
    sets = _sets_or_missing(c, argv[1:])
    max_intset = _max_intset(c)
    members, intset = _diff(sets, max_intset) if diff else (_union(sets), True)
    return _set_reply(c, _built_order(members, max_intset, intset=intset))


def _union_diff_store(c: Client, argv: Argv, diff: bool) -> bytes:
    sets = _sets_or_missing(c, argv[2:])
    max_intset = _max_intset(c)
    members, intset = _diff(sets, max_intset) if diff else (_union(sets), True)
    return _store(
        c,
        argv[1],
        SetValue.build(members, max_intset, intset=intset),
        b"sdiffstore" if diff else b"sunionstore",
    )


@NODE.command(
    "sunion",
    -2,
    Flag.READONLY,
    group="set",
    since="1.0.0",
    summary="Add multiple sets",
    complexity="O(N) where N is the total number of elements in all given sets.",
    acl=Acl.SET,
    keys=[key_at(1, KeyFlag.RO | KeyFlag.ACCESS, lastkey=-1)],
    tips=("nondeterministic_output_order",),
    args=(_KEYS,),
)
def sunion(c: Client, argv: Argv) -> bytes:
    return _union_diff_reply(c, argv, diff=False)


@NODE.command(
    "sunionstore",
    -3,
    Flag.WRITE | Flag.DENYOOM,
    group="set",
    since="1.0.0",
    summary="Add multiple sets and store the resulting set in a key",
    complexity="O(N) where N is the total number of elements in all given sets.",
    acl=Acl.SET,
    keys=[
        key_at(1, KeyFlag.OW | KeyFlag.UPDATE),
        key_at(2, KeyFlag.RO | KeyFlag.ACCESS, lastkey=-1),
    ],
    args=_STORE_ARGS,
)
def sunionstore(c: Client, argv: Argv) -> bytes:
    return _union_diff_store(c, argv, diff=False)


@NODE.command(
    "sdiff",
    -2,
    Flag.READONLY,
    group="set",
    since="1.0.0",
    summary="Subtract multiple sets",
    complexity="O(N) where N is the total number of elements in all given sets.",
    acl=Acl.SET,
    keys=[key_at(1, KeyFlag.RO | KeyFlag.ACCESS, lastkey=-1)],
    tips=("nondeterministic_output_order",),
    args=(_KEYS,),
)
def sdiff(c: Client, argv: Argv) -> bytes:
    return _union_diff_reply(c, argv, diff=True)


@NODE.command(
    "sdiffstore",
    -3,
    Flag.WRITE | Flag.DENYOOM,
    group="set",
    since="1.0.0",
    summary="Subtract multiple sets and store the resulting set in a key",
    complexity="O(N) where N is the total number of elements in all given sets.",
    acl=Acl.SET,
    keys=[
        key_at(1, KeyFlag.OW | KeyFlag.UPDATE),
        key_at(2, KeyFlag.RO | KeyFlag.ACCESS, lastkey=-1),
    ],
    args=_STORE_ARGS,
)
def sdiffstore(c: Client, argv: Argv) -> bytes:
    return _union_diff_store(c, argv, diff=True)


# ==== SSCAN =================================================================================
@NODE.command(
    "sscan",
    -3,
    Flag.READONLY,
    group="set",
    since="2.8.0",
    summary="Incrementally iterate Set elements",
    complexity="O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..",
    acl=Acl.SET,
    keys=[key_at(1, KeyFlag.RO | KeyFlag.ACCESS)],
    tips=("nondeterministic_output",),
    args=(
        _KEY,
        docs.integer("cursor"),
        docs.pattern("pattern", token="MATCH", optional=True),
        docs.integer("count", token="COUNT", optional=True),
    ),
)
def sscan(c: Client, argv: Argv) -> bytes:
    cursor = parse_cursor(argv[2])
    members = _read_set(c, argv[1])
    if members is None:
        return EMPTY_SCAN
    options = parse_options(argv, 3)
    if members.intset:
        # Redis returns a compact encoding whole, in one call, whatever the cursor.
        cursor, found = 0, members.ordered()
    else:
        cursor, found = scan_step(members, cursor, options.count)
    if options.match is not None:
        found = [m for m in found if options.match(m)]
    return scan_reply(cursor, found)
