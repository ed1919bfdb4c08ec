"""Sorted-set commands (Redis's t_zset.c), part 1: adding, removing, scores, ranks, ranges and
pops. Set algebra, ZRANDMEMBER and ZSCAN are in zsetops.py; shared parsing in _zset.py.

Redis 7.0 behaviour matched on purpose:
- ZADD parses its options, checks their combinations, then every score, and only then looks
  at the key (so a bad score beats WRONGTYPE). ZINCRBY is ZADD INCR with the same option
  loop, which is why `ZINCRBY k nx m` is a syntax error.
- The ZRANGE family is one routine with the legacy commands as fixed-option variants: an
  option a variant fixes (REV, BYSCORE, BYLEX) is a syntax error there; LIMIT with a count
  other than -1 needs BYSCORE/BYLEX; a negative LIMIT offset gives nothing, a negative count
  everything after the offset.
- Arguments are parsed before the key is looked up, so parse errors win over WRONGTYPE and
  over a missing key.
- Emptied sets are deleted; in-place changes invalidate WATCH (db.touch); `engine.dirty`
  grows by the number of elements changed (STORE commands: by one).
Pure: no I/O.
"""

from __future__ import annotations

import math
from typing import Final

from node.commands import docs
from node.commands._args import int_arg, option, timeout_to_deadline
from node.commands._double import double_arg
from node.commands._zset import (
    LexBound,
    ScoreBound,
    bzpop_reply,
    flat_items_reply,
    get_zset,
    items_reply,
    lex_bound,
    lex_span,
    limits,
    mpop_reply,
    pop_first,
    rank_span,
    read_zset,
    score_bound,
    score_span,
    store_result,
    zset_event,
)
from node.commands.registry import Acl, Flag, KeyFlag, key_at, keys_by_count
from node.commands.table import NODE
from node.engine import notify
from node.engine.blocking import Block
from node.engine.session import Client
from node.engine.types.zset import Item, ZSet
from node.proto import errors, resp
from node.proto.errors import CommandError

Argv = list[bytes]

XX_AND_NX: Final = "ERR XX and NX options at the same time are not compatible"
GT_LT_NX: Final = "ERR GT, LT, and/or NX options at the same time are not compatible"
INCR_PAIR: Final = "ERR INCR option supports a single increment-element pair"
SCORE_NAN: Final = "ERR resulting score is not a number (NaN)"
LIMIT_NEEDS_BY: Final = (
    "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
)
WITHSCORES_BYLEX: Final = "ERR syntax error, WITHSCORES not supported in combination with BYLEX"
NOT_POSITIVE: Final = "ERR value is out of range, must be positive"
NUMKEYS: Final = "ERR numkeys should be greater than 0"
COUNT_POSITIVE: Final = "ERR count should be greater than 0"

_RO: Final = KeyFlag.RO | KeyFlag.ACCESS
_KEY: Final = docs.key("key")
_OFFSET_COUNT: Final = docs.block(
    "offset_count", docs.integer("offset"), docs.integer("count"), token="LIMIT", optional=True
)
_WITHSCORES: Final = docs.token("withscores", "WITHSCORES", optional=True)
_WHERE: Final = docs.oneof("where", docs.token("min", "MIN"), docs.token("max", "MAX"))
RANK, BYSCORE, BYLEX = 0, 1, 2


# --- ZADD / ZINCRBY ------------------------------------------------------------------------
_ZADD_FLAGS: Final = {b"NX": 0, b"XX": 1, b"GT": 2, b"LT": 3, b"CH": 4, b"INCR": 5}
# A score never starts with a letter of an option word, so most calls skip the option loop.
_OPTION_INITIALS: Final = frozenset(bytes([ch]) for ch in b"NXGLCInxglci")


@NODE.command(
    "zadd",
    -4,
    Flag.WRITE | Flag.DENYOOM | Flag.FAST,
    group="sorted-set",
    since="1.2.0",
    acl=Acl.SORTEDSET,
    summary="Add one or more members to a sorted set, or update its score if it already exists",
    complexity="O(log(N)) for each item added, where N is the number of elements in the sorted set.",
    keys=[key_at(1, KeyFlag.RW | KeyFlag.UPDATE)],
    history=(
        ("2.4.0", "Accepts multiple elements."),
        ("3.0.2", "Added the `XX`, `NX`, `CH` and `INCR` options."),
        ("6.2.0", "Added the `GT` and `LT` options."),
    ),
    args=(
        _KEY,
        docs.oneof(
            "condition",
            docs.token("nx", "NX"),
            docs.token("xx", "XX"),
            since="3.0.2",
            optional=True,
        ),
        docs.oneof(
            "comparison",
            docs.token("gt", "GT"),
            docs.token("lt", "LT"),
            since="6.2.0",
            optional=True,
        ),
        docs.token("change", "CH", since="3.0.2", optional=True),
        docs.token("increment", "INCR", since="3.0.2", optional=True),
        docs.block("score_member", docs.double("score"), docs.string("member"), multiple=True),
    ),
)
def zadd(c: Client, argv: Argv) -> bytes:
    if len(argv) == 4 and argv[2][:1] not in _OPTION_INITIALS:
        # The common one-pair form without options, in a few steps. A score of plain
        # digits is read by float() alone: no sign, exponent or overflow to look for.
        raw = argv[2]
        score = float(raw) if raw.isdigit() and len(raw) < 300 else double_arg(raw)
        key, member, db = argv[1], argv[3], c.db
        zs = db.lookup(key) if db.expires else db.data.get(key)
        if zs is None:
            zs = ZSet()
            zs.insert(member, score, *limits(c))
            db.set_value(key, zs)
        elif zs.__class__ is not ZSet:
            raise CommandError(errors.WRONGTYPE)
        else:
            current = zs.score(member)
            if current is not None:
                if score != current:
                    zs.update(member, current, score)
                    db.touch(key)
                    zset_event(c, b"zadd", key)
                    c.engine.dirty += 1
                return resp.ZERO
            zs.insert(member, score, *limits(c))
            db.touch(key)
        zset_event(c, b"zadd", key)
        c.engine.dirty += 1
        return resp.ONE
    return _zadd(c, argv, incr=False)


@NODE.command(
    "zincrby",
    4,
    Flag.WRITE | Flag.DENYOOM | Flag.FAST,
    group="sorted-set",
    since="1.2.0",
    acl=Acl.SORTEDSET,
    summary="Increment the score of a member in a sorted set",
    complexity="O(log(N)) where N is the number of elements in the sorted set.",
    keys=[key_at(1, KeyFlag.RW | KeyFlag.ACCESS | KeyFlag.UPDATE)],
    args=(_KEY, docs.integer("increment"), docs.string("member")),
)
def zincrby(c: Client, argv: Argv) -> bytes:
    return _zadd(c, argv, incr=True)


def _zadd(c: Client, argv: Argv, *, incr: bool) -> bytes:
    seen = [False] * 6
    first = 2
    while first < len(argv) and argv[first][:1] in _OPTION_INITIALS:
        flag = _ZADD_FLAGS.get(option(argv[first]))
        if flag is None:
            break
        seen[flag] = True
        first += 1
    nx, xx, gt, lt, ch, incr = *seen[:5], incr or seen[5]
    pairs = len(argv) - first
    if pairs % 2 or not pairs:
        raise CommandError(errors.SYNTAX)
    if nx and xx:
        raise CommandError(XX_AND_NX)
    if (gt and nx) or (lt and nx) or (gt and lt):
        raise CommandError(GT_LT_NX)
    if incr and pairs > 2:
        raise CommandError(INCR_PAIR)
    scores = [double_arg(argv[i]) for i in range(first, len(argv), 2)]
    key = argv[1]
    zs = get_zset(c, key)
    created = zs is None
    if zs is None:
        if xx:
            return resp.null(c.resp) if incr else resp.ZERO
        zs = ZSet()
    max_entries = max_value = -1  # read from the config on the first insert
    added = updated = 0
    score = 0.0
    processed = False
    for score, member in zip(scores, argv[first + 1 :: 2], strict=True):
        current = zs.score(member)
        if current is None:
            if xx:
                continue
            if max_entries < 0:
                max_entries, max_value = limits(c)
            zs.insert(member, score, max_entries, max_value)
            added += 1
        else:
            if nx:
                continue
            if incr:
                score += current
                if math.isnan(score):
                    raise CommandError(SCORE_NAN)
            if (gt and score <= current) or (lt and score >= current):
                continue
            if score != current:
                zs.update(member, current, score)
                updated += 1
        processed = True
    if added or updated:
        if created:
            c.db.set_value(key, zs)
        else:
            c.db.touch(key)
        zset_event(c, b"zincr" if incr else b"zadd", key)
        c.engine.dirty += added + updated
    if incr:
        return resp.double(score, c.resp) if processed else resp.null(c.resp)
    return resp.integer(added + updated if ch else added)


# --- removal, cardinality, scores, ranks -------------------------------------------------------
@NODE.command(
    "zrem",
    -3,
    Flag.WRITE | Flag.FAST,
    group="sorted-set",
    since="1.2.0",
    acl=Acl.SORTEDSET,
    summary="Remove one or more members from a sorted set",
    complexity="O(M*log(N)) with N being the number of elements in the sorted set and M the number of elements to be removed.",
    keys=[key_at(1, KeyFlag.RW | KeyFlag.DELETE)],
    history=(("2.4.0", "Accepts multiple elements."),),
    args=(_KEY, docs.string("member", multiple=True)),
)
def zrem(c: Client, argv: Argv) -> bytes:
    key = argv[1]
    zs = get_zset(c, key)
    if zs is None:
        return resp.ZERO
    deleted = 0
    for member in argv[2:]:
        if zs.remove(member):
            deleted += 1
            if not len(zs):
                break  # Redis stops at an emptied set: the rest cannot be there
    if deleted:
        _after_removal(c, key, zs, deleted, b"zrem")
    return resp.integer(deleted)


def _after_removal(c: Client, key: bytes, zs: ZSet, deleted: int, event: bytes) -> None:
    """Members were taken out by `event`: signal it, deleting an emptied set."""
    if len(zs):
        c.db.touch(key)
    else:
        c.db.delete(key)
    zset_event(c, event, key)
    if not len(zs):
        zset_event(c, b"del", key, notify.GENERIC)
    c.engine.dirty += deleted


@NODE.command(
    "zcard",
    2,
    Flag.READONLY | Flag.FAST,
    group="sorted-set",
    since="1.2.0",
    acl=Acl.SORTEDSET,
    summary="Get the number of members in a sorted set",
    complexity="O(1)",
    keys=[key_at(1, KeyFlag.RO)],
    args=(_KEY,),
)
def zcard(c: Client, argv: Argv) -> bytes:
    zs = read_zset(c, argv[1])
    return resp.integer(len(zs)) if zs is not None else resp.ZERO


@NODE.command(
    "zscore",
    3,
    Flag.READONLY | Flag.FAST,
    group="sorted-set",
    since="1.2.0",
    acl=Acl.SORTEDSET,
    summary="Get the score associated with the given member in a sorted set",
    complexity="O(1)",
    keys=[key_at(1, _RO)],
    args=(_KEY, docs.string("member")),
)
def zscore(c: Client, argv: Argv) -> bytes:
    zs = read_zset(c, argv[1])
    score = zs.score(argv[2]) if zs is not None else None
    return resp.null(c.resp) if score is None else resp.double(score, c.resp)


@NODE.command(
    "zmscore",
    -3,
    Flag.READONLY | Flag.FAST,
    group="sorted-set",
    since="6.2.0",
    acl=Acl.SORTEDSET,
    summary="Get the score associated with the given members in a sorted set",
    complexity="O(N) where N is the number of members being requested.",
    keys=[key_at(1, _RO)],
    args=(_KEY, docs.string("member", multiple=True)),
)
def zmscore(c: Client, argv: Argv) -> bytes:
    zs = read_zset(c, argv[1])
    null = resp.null(c.resp)
    parts = [resp.array_header(len(argv) - 2)]
    for member in argv[2:]:
        score = zs.score(member) if zs is not None else None
        parts.append(null if score is None else resp.double(score, c.resp))
    return b"".join(parts)


@NODE.command(
    "zrank",
    3,
    Flag.READONLY | Flag.FAST,
    group="sorted-set",
    since="2.0.0",
    acl=Acl.SORTEDSET,
    summary="Determine the index of a member in a sorted set",
    complexity="O(log(N))",
    keys=[key_at(1, _RO)],
    args=(_KEY, docs.string("member")),
)
def zrank(c: Client, argv: Argv) -> bytes:
    return _zrank(c, argv, rev=False)


@NODE.command(
    "zrevrank",
    3,
    Flag.READONLY | Flag.FAST,
    group="sorted-set",
    since="2.0.0",
    acl=Acl.SORTEDSET,
    summary="Determine the index of a member in a sorted set, with scores ordered from high to low",
    complexity="O(log(N))",
    keys=[key_at(1, _RO)],
    args=(_KEY, docs.string("member")),
)
def zrevrank(c: Client, argv: Argv) -> bytes:
    return _zrank(c, argv, rev=True)


def _zrank(c: Client, argv: Argv, *, rev: bool) -> bytes:
    zs = read_zset(c, argv[1])
    rank = zs.rank(argv[2]) if zs is not None else None
    if rank is None or zs is None:
        return resp.null(c.resp)
    return resp.integer(len(zs) - 1 - rank if rev else rank)


# --- counting ------------------------------------------------------------------------------------
@NODE.command(
    "zcount",
    4,
    Flag.READONLY | Flag.FAST,
    group="sorted-set",
    since="2.0.0",
    acl=Acl.SORTEDSET,
    summary="Count the members in a sorted set with scores within the given values",
    complexity="O(log(N)) with N being the number of elements in the sorted set.",
    keys=[key_at(1, _RO)],
    args=(_KEY, docs.double("min"), docs.double("max")),
)
def zcount(c: Client, argv: Argv) -> bytes:
    lo, hi = score_bound(argv[2]), score_bound(argv[3])
    zs = read_zset(c, argv[1])
    if zs is None:
        return resp.ZERO
    start, stop = score_span(zs, lo, hi)
    return resp.integer(stop - start)


@NODE.command(
    "zlexcount",
    4,
    Flag.READONLY | Flag.FAST,
    group="sorted-set",
    since="2.8.9",
    acl=Acl.SORTEDSET,
    summary="Count the number of members in a sorted set between a given lexicographical range",
    complexity="O(log(N)) with N being the number of elements in the sorted set.",
    keys=[key_at(1, _RO)],
    args=(_KEY, docs.string("min"), docs.string("max")),
)
def zlexcount(c: Client, argv: Argv) -> bytes:
    lo, hi = lex_bound(argv[2]), lex_bound(argv[3])
    zs = read_zset(c, argv[1])
    if zs is None:
        return resp.ZERO
    start, stop = lex_span(zs, lo, hi)
    return resp.integer(stop - start)


# --- the ZRANGE family -----------------------------------------------------------------------
_RANGE_SUMMARY: Final = (
    "O(log(N)+M) with N being the number of elements in the sorted set and M the number of "
    "elements being returned. If M is constant (e.g. always asking for the first 10 elements "
    "with LIMIT), you can consider it O(log(N))."
)


@NODE.command(
    "zrange",
    -4,
    Flag.READONLY,
    group="sorted-set",
    since="1.2.0",
    acl=Acl.SORTEDSET,
    summary="Return a range of members in a sorted set",
    complexity="O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.",
    keys=[key_at(1, _RO)],
    history=(("6.2.0", "Added the `REV`, `BYSCORE`, `BYLEX` and `LIMIT` options."),),
    args=(
        _KEY,
        docs.string("start"),
        docs.string("stop"),
        docs.oneof(
            "sortby",
            docs.token("byscore", "BYSCORE"),
            docs.token("bylex", "BYLEX"),
            since="6.2.0",
            optional=True,
        ),
        docs.token("rev", "REV", since="6.2.0", optional=True),
        docs.block(
            "offset_count",
            docs.integer("offset"),
            docs.integer("count"),
            token="LIMIT",
            since="6.2.0",
            optional=True,
        ),
        _WITHSCORES,
    ),
)
def zrange(c: Client, argv: Argv) -> bytes:
    return _zrange(c, argv, 1, None, None, None)


@NODE.command(
    "zrangestore",
    -5,
    Flag.WRITE | Flag.DENYOOM,
    group="sorted-set",
    since="6.2.0",
    acl=Acl.SORTEDSET,
    summary="Store a range of members from sorted set into another key",
    complexity="O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements stored into the destination key.",
    keys=[key_at(1, KeyFlag.OW | KeyFlag.UPDATE), key_at(2, _RO)],
    args=(
        docs.key("dst"),
        docs.key("src", 1),
        docs.string("min"),
        docs.string("max"),
        docs.oneof(
            "sortby", docs.token("byscore", "BYSCORE"), docs.token("bylex", "BYLEX"), optional=True
        ),
        docs.token("rev", "REV", optional=True),
        _OFFSET_COUNT,
    ),
)
def zrangestore(c: Client, argv: Argv) -> bytes:
    return _zrange(c, argv, 2, argv[1], None, None)


@NODE.command(
    "zrangebyscore",
    -4,
    Flag.READONLY,
    group="sorted-set",
    since="1.0.5",
    acl=Acl.SORTEDSET,
    summary="Return a range of members in a sorted set, by score",
    complexity=_RANGE_SUMMARY,
    keys=[key_at(1, _RO)],
    history=(("2.0.0", "Added the `WITHSCORES` modifier."),),
    doc_flags=("deprecated",),
    deprecated_since="6.2.0",
    replaced_by="`ZRANGE` with the `BYSCORE` argument",
    args=(
        _KEY,
        docs.double("min"),
        docs.double("max"),
        docs.token("withscores", "WITHSCORES", since="2.0.0", optional=True),
        _OFFSET_COUNT,
    ),
)
def zrangebyscore(c: Client, argv: Argv) -> bytes:
    return _zrange(c, argv, 1, None, BYSCORE, False)


@NODE.command(
    "zrevrangebyscore",
    -4,
    Flag.READONLY,
    group="sorted-set",
    since="2.2.0",
    acl=Acl.SORTEDSET,
    summary="Return a range of members in a sorted set, by score, with scores ordered from high to low",
    complexity=_RANGE_SUMMARY,
    keys=[key_at(1, _RO)],
    history=(("2.1.6", "`min` and `max` can be exclusive."),),
    doc_flags=("deprecated",),
    deprecated_since="6.2.0",
    replaced_by="`ZRANGE` with the `REV` and `BYSCORE` arguments",
    args=(_KEY, docs.double("max"), docs.double("min"), _WITHSCORES, _OFFSET_COUNT),
)
def zrevrangebyscore(c: Client, argv: Argv) -> bytes:
    return _zrange(c, argv, 1, None, BYSCORE, True)


@NODE.command(
    "zrangebylex",
    -4,
    Flag.READONLY,
    group="sorted-set",
    since="2.8.9",
    acl=Acl.SORTEDSET,
    summary="Return a range of members in a sorted set, by lexicographical range",
    complexity=_RANGE_SUMMARY,
    keys=[key_at(1, _RO)],
    doc_flags=("deprecated",),
    deprecated_since="6.2.0",
    replaced_by="`ZRANGE` with the `BYLEX` argument",
    args=(_KEY, docs.string("min"), docs.string("max"), _OFFSET_COUNT),
)
def zrangebylex(c: Client, argv: Argv) -> bytes:
    return _zrange(c, argv, 1, None, BYLEX, False)


@NODE.command(
    "zrevrangebylex",
    -4,
    Flag.READONLY,
    group="sorted-set",
    since="2.8.9",
    acl=Acl.SORTEDSET,
    summary="Return a range of members in a sorted set, by lexicographical range, ordered from higher to lower strings.",
    complexity=_RANGE_SUMMARY,
    keys=[key_at(1, _RO)],
    doc_flags=("deprecated",),
    deprecated_since="6.2.0",
    replaced_by="`ZRANGE` with the `REV` and `BYLEX` arguments",
    args=(_KEY, docs.string("max"), docs.string("min"), _OFFSET_COUNT),
)
def zrevrangebylex(c: Client, argv: Argv) -> bytes:
    return _zrange(c, argv, 1, None, BYLEX, True)


@NODE.command(
    "zrevrange",
    -4,
    Flag.READONLY,
    group="sorted-set",
    since="1.2.0",
    acl=Acl.SORTEDSET,
    summary="Return a range of members in a sorted set, by index, with scores ordered from high to low",
    complexity="O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.",
    keys=[key_at(1, _RO)],
    doc_flags=("deprecated",),
    deprecated_since="6.2.0",
    replaced_by="`ZRANGE` with the `REV` argument",
    args=(_KEY, docs.integer("start"), docs.integer("stop"), _WITHSCORES),
)
def zrevrange(c: Client, argv: Argv) -> bytes:
    return _zrange(c, argv, 1, None, RANK, True)


def _zrange(
    c: Client, argv: Argv, keyidx: int, dst: bytes | None, by: int | None, rev: bool | None
) -> bytes:
    """Redis's zrangeGenericCommand. `by`/`rev` are None where the command lets the
    options choose (ZRANGE, ZRANGESTORE), fixed by the legacy commands."""
    withscores = False
    offset, limit = 0, -1
    j, argc = keyidx + 3, len(argv)
    while j < argc:
        word = option(argv[j])
        if dst is None and word == b"WITHSCORES":
            withscores = True
        elif word == b"LIMIT" and argc - j - 1 >= 2:
            offset, limit = int_arg(argv[j + 1]), int_arg(argv[j + 2])
            j += 2
        elif rev is None and word == b"REV":
            rev = True
        elif by is None and word == b"BYLEX":
            by = BYLEX
        elif by is None and word == b"BYSCORE":
            by = BYSCORE
        else:
            raise CommandError(errors.SYNTAX)
        j += 1
    by = RANK if by is None else by
    rev = bool(rev)
    if limit != -1 and by == RANK:
        raise CommandError(LIMIT_NEEDS_BY)
    if withscores and by == BYLEX:
        raise CommandError(WITHSCORES_BYLEX)
    lo_raw, hi_raw = argv[keyidx + 1], argv[keyidx + 2]
    if rev and by != RANK:
        lo_raw, hi_raw = hi_raw, lo_raw  # the range is given as max, min
    ranks: tuple[int, int] | None = None
    scores: tuple[ScoreBound, ScoreBound] | None = None
    lexes: tuple[LexBound, LexBound] | None = None
    if by == RANK:
        ranks = int_arg(lo_raw), int_arg(hi_raw)
    elif by == BYSCORE:
        scores = score_bound(lo_raw), score_bound(hi_raw)
    else:
        lexes = lex_bound(lo_raw), lex_bound(hi_raw)
    zs = read_zset(c, argv[keyidx])
    items: list[Item] = []
    if zs is not None:
        if ranks is not None:
            items = _rank_items(zs, *ranks, rev)
        elif offset >= 0:  # a negative offset skips everything in Redis's loop
            if scores is not None:
                span = score_span(zs, *scores)
            else:
                assert lexes is not None
                span = lex_span(zs, *lexes)
            items = _span_items(zs, span, rev, offset, limit)
    if dst is not None:
        return resp.integer(store_result(c, dst, items, b"zrangestore"))
    return items_reply(items, withscores, c.resp)


def _rank_items(zs: ZSet, start: int, end: int, rev: bool) -> list[Item]:
    size = len(zs)
    span = rank_span(start, end, size)
    if span is None:
        return []
    lo, hi = span
    if not rev:
        return zs.items(lo, hi)
    items = zs.items(size - hi, size - lo)  # ranks counted from the highest score
    items.reverse()
    return items


def _span_items(zs: ZSet, span: tuple[int, int], rev: bool, offset: int, limit: int) -> list[Item]:
    """The elements at positions [lo, hi), walked upwards (downwards when `rev`), minus the
    first `offset`, at most `limit` of them (all when negative)."""
    lo, hi = span
    if rev:
        stop = hi - offset
        start = lo if limit < 0 else max(lo, stop - limit)
        items = zs.items(start, stop) if stop > start else []
        items.reverse()
        return items
    start = lo + offset
    stop = hi if limit < 0 else min(hi, start + limit)
    return zs.items(start, stop) if stop > start else []


# --- removing ranges -------------------------------------------------------------------------
_REMRANGE_COMPLEXITY: Final = (
    "O(log(N)+M) with N being the number of elements in the sorted set and M the number of "
    "elements removed by the operation."
)


@NODE.command(
    "zremrangebyrank",
    4,
    Flag.WRITE,
    group="sorted-set",
    since="2.0.0",
    acl=Acl.SORTEDSET,
    summary="Remove all members in a sorted set within the given indexes",
    complexity=_REMRANGE_COMPLEXITY,
    keys=[key_at(1, KeyFlag.RW | KeyFlag.DELETE)],
    args=(_KEY, docs.integer("start"), docs.integer("stop")),
)
def zremrangebyrank(c: Client, argv: Argv) -> bytes:
    start, end = int_arg(argv[2]), int_arg(argv[3])
    zs = get_zset(c, argv[1])
    if zs is None:
        return resp.ZERO
    span = rank_span(start, end, len(zs))
    return _remove_span(c, argv[1], zs, span or (0, 0), b"zremrangebyrank")


@NODE.command(
    "zremrangebyscore",
    4,
    Flag.WRITE,
    group="sorted-set",
    since="1.2.0",
    acl=Acl.SORTEDSET,
    summary="Remove all members in a sorted set within the given scores",
    complexity=_REMRANGE_COMPLEXITY,
    keys=[key_at(1, KeyFlag.RW | KeyFlag.DELETE)],
    args=(_KEY, docs.double("min"), docs.double("max")),
)
def zremrangebyscore(c: Client, argv: Argv) -> bytes:
    lo, hi = score_bound(argv[2]), score_bound(argv[3])
    zs = get_zset(c, argv[1])
    if zs is None:
        return resp.ZERO
    return _remove_span(c, argv[1], zs, score_span(zs, lo, hi), b"zremrangebyscore")


@NODE.command(
    "zremrangebylex",
    4,
    Flag.WRITE,
    group="sorted-set",
    since="2.8.9",
    acl=Acl.SORTEDSET,
    summary="Remove all members in a sorted set between the given lexicographical range",
    complexity=_REMRANGE_COMPLEXITY,
    keys=[key_at(1, KeyFlag.RW | KeyFlag.DELETE)],
    args=(_KEY, docs.string("min"), docs.string("max")),
)
def zremrangebylex(c: Client, argv: Argv) -> bytes:
    lo, hi = lex_bound(argv[2]), lex_bound(argv[3])
    zs = get_zset(c, argv[1])
    if zs is None:
        return resp.ZERO
    return _remove_span(c, argv[1], zs, lex_span(zs, lo, hi), b"zremrangebylex")


def _remove_span(c: Client, key: bytes, zs: ZSet, span: tuple[int, int], event: bytes) -> bytes:
    start, stop = span
    if stop <= start:
        return resp.ZERO
    zs.pop_items(start, stop)
    _after_removal(c, key, zs, stop - start, event)
    return resp.integer(stop - start)


# --- pops ------------------------------------------------------------------------------------------
_POP_COMPLEXITY: Final = (
    "O(log(N)*M) with N being the number of elements in the sorted set, and M being the "
    "number of elements popped."
)
_MPOP_COMPLEXITY: Final = (
    "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of "
    "elements in the sorted set, and M being the number of elements popped."
)


@NODE.command(
    "zpopmin",
    -2,
    Flag.WRITE | Flag.FAST,
    group="sorted-set",
    since="5.0.0",
    acl=Acl.SORTEDSET,
    summary="Remove and return members with the lowest scores in a sorted set",
    complexity=_POP_COMPLEXITY,
    keys=[key_at(1, KeyFlag.RW | KeyFlag.ACCESS | KeyFlag.DELETE)],
    args=(_KEY, docs.integer("count", optional=True)),
)
def zpopmin(c: Client, argv: Argv) -> bytes:
    return _zpop(c, argv, from_max=False)


@NODE.command(
    "zpopmax",
    -2,
    Flag.WRITE | Flag.FAST,
    group="sorted-set",
    since="5.0.0",
    acl=Acl.SORTEDSET,
    summary="Remove and return members with the highest scores in a sorted set",
    complexity=_POP_COMPLEXITY,
    keys=[key_at(1, KeyFlag.RW | KeyFlag.ACCESS | KeyFlag.DELETE)],
    args=(_KEY, docs.integer("count", optional=True)),
)
def zpopmax(c: Client, argv: Argv) -> bytes:
    return _zpop(c, argv, from_max=True)


def _zpop(c: Client, argv: Argv, *, from_max: bool) -> bytes:
    if len(argv) > 3:
        raise CommandError(errors.SYNTAX)
    count = 1
    if len(argv) == 3:
        count = int_arg(argv[2], NOT_POSITIVE)
        if count < 0:
            raise CommandError(NOT_POSITIVE)
    popped = pop_first(c, [argv[1]], from_max, count)
    if popped is None:
        return resp.EMPTY_ARRAY
    items = popped[1]
    # With a COUNT, RESP3 nests [member, score] pairs; otherwise the array is flat.
    if len(argv) == 3 and c.resp == 3:
        return items_reply(items, True, 3)
    return flat_items_reply(items, c.resp)


@NODE.command(
    "zmpop",
    -4,
    Flag.WRITE,
    group="sorted-set",
    since="7.0.0",
    acl=Acl.SORTEDSET,
    summary="Remove and return members with scores in a sorted set",
    complexity=_MPOP_COMPLEXITY,
    keys=[keys_by_count(1, KeyFlag.RW | KeyFlag.ACCESS | KeyFlag.DELETE)],
    args=(
        docs.integer("numkeys"),
        docs.key("key", multiple=True),
        _WHERE,
        docs.integer("count", token="COUNT", optional=True),
    ),
)
def zmpop(c: Client, argv: Argv) -> bytes:
    keys, from_max, count = parse_mpop(argv, 1)
    popped = pop_first(c, keys, from_max, count)
    if popped is None:
        return resp.null_array(c.resp)
    # Replicas and the AOF get the pop of the key that served it, as in Redis.
    c.engine.propagate_as(
        c, [[b"ZPOPMAX" if from_max else b"ZPOPMIN", popped[0], b"%d" % len(popped[1])]]
    )  # the count it really popped
    return mpop_reply(popped[0], popped[1], c.resp)


# --- blocking pops -------------------------------------------------------------------
def _bzpop(c: Client, argv: Argv, *, from_max: bool) -> bytes | Block:
    deadline = timeout_to_deadline(argv[-1], c.engine.now_ms)
    keys = argv[1:-1]
    popped = pop_first(c, keys, from_max, 1)
    if popped is None:
        return Block(tuple(keys), deadline, resp.null_array(c.resp))
    key, items = popped
    # Replicas and the AOF see the non-blocking pop of the key that served it.
    c.engine.propagate_as(c, [[b"ZPOPMAX" if from_max else b"ZPOPMIN", key]])
    return bzpop_reply(key, items[0], c.resp)


_BZPOP_HISTORY: Final = (("6.0.0", "`timeout` is interpreted as a double instead of an integer."),)
_BZPOP_KEYS: Final = [key_at(1, KeyFlag.RW | KeyFlag.ACCESS | KeyFlag.DELETE, lastkey=-2)]
_BZPOP_ARGS: Final = (docs.key("key", multiple=True), docs.double("timeout"))


@NODE.command(
    "bzpopmin",
    -3,
    Flag.WRITE | Flag.NOSCRIPT | Flag.BLOCKING | Flag.FAST,
    group="sorted-set",
    since="5.0.0",
    acl=Acl.SORTEDSET,
    summary="Remove and return the member with the lowest score from one or more sorted sets, or block until one is available",
    complexity="O(log(N)) with N being the number of elements in the sorted set.",
    keys=_BZPOP_KEYS,
    history=_BZPOP_HISTORY,
    args=_BZPOP_ARGS,
)
def bzpopmin(c: Client, argv: Argv) -> bytes | Block:
    return _bzpop(c, argv, from_max=False)


@NODE.command(
    "bzpopmax",
    -3,
    Flag.WRITE | Flag.NOSCRIPT | Flag.BLOCKING | Flag.FAST,
    group="sorted-set",
    since="5.0.0",
    acl=Acl.SORTEDSET,
    summary="Remove and return the member with the highest score from one or more sorted sets, or block until one is available",
    complexity="O(log(N)) with N being the number of elements in the sorted set.",
    keys=_BZPOP_KEYS,
    history=_BZPOP_HISTORY,
    args=_BZPOP_ARGS,
)
def bzpopmax(c: Client, argv: Argv) -> bytes | Block:
    return _bzpop(c, argv, from_max=True)


@NODE.command(
    "bzmpop",
    -5,
    Flag.WRITE | Flag.BLOCKING,
    group="sorted-set",
    since="7.0.0",
    acl=Acl.SORTEDSET,
    summary="Remove and return members with scores in a sorted set or block until one is available",
    complexity="O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.",
    keys=[keys_by_count(2, KeyFlag.RW | KeyFlag.ACCESS | KeyFlag.DELETE)],
    args=(
        docs.double("timeout"),
        docs.integer("numkeys"),
        docs.key("key", multiple=True),
        _WHERE,
        docs.integer("count", token="COUNT", optional=True),
    ),
)
def bzmpop(c: Client, argv: Argv) -> bytes | Block:
    deadline = timeout_to_deadline(argv[1], c.engine.now_ms)
    keys, from_max, count = parse_mpop(argv, 2)
    popped = pop_first(c, keys, from_max, count)
    if popped is None:
        return Block(tuple(keys), deadline, resp.null_array(c.resp))
    c.engine.propagate_as(
        c, [[b"ZPOPMAX" if from_max else b"ZPOPMIN", popped[0], b"%d" % len(popped[1])]]
    )  # the count it really popped
    return mpop_reply(popped[0], popped[1], c.resp)


def parse_mpop(argv: Argv, numkeys_idx: int) -> tuple[list[bytes], bool, int]:
    """`numkeys key... MIN|MAX [COUNT count]` from argv[numkeys_idx] on, for ZMPOP and
    BZMPOP: (keys, from_max, count)."""
    numkeys = int_arg(argv[numkeys_idx], NUMKEYS)
    if numkeys < 1:
        raise CommandError(NUMKEYS)
    where_idx = numkeys_idx + numkeys + 1
    if where_idx >= len(argv):
        raise CommandError(errors.SYNTAX)
    where = option(argv[where_idx])
    if where not in (b"MIN", b"MAX"):
        raise CommandError(errors.SYNTAX)
    count = -1
    j = where_idx + 1
    while j < len(argv):
        if count == -1 and option(argv[j]) == b"COUNT" and j + 1 < len(argv):
            count = int_arg(argv[j + 1], COUNT_POSITIVE)
            if count < 1:
                raise CommandError(COUNT_POSITIVE)
            j += 2
        else:
            raise CommandError(errors.SYNTAX)
    return argv[numkeys_idx + 1 : where_idx], where == b"MAX", max(count, 1)
