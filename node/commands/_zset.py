"""What the sorted-set commands share (zsets.py, zsetops.py, and later geo and the blocking
pops): typed lookup, the listpack thresholds, range parsing and the reply shapes.

Rules, as Redis 7.0's t_zset.c applies them:
- Score ranges (zslParseRange): `(` makes a bound exclusive; the rest is read by strtod, so
  leading whitespace, "" (= 0), hex and "1e400" (= inf) pass; NaN and trailing bytes are
  `ERR min or max is not a float`.
- Lex ranges (zslParseLexRangeItem): `-` and `+` alone are the extremes, `[x` inclusive,
  `(x` exclusive; anything else is `ERR min or max not valid string range item`.
- Rank ranges clamp like ZRANGE: negative indexes count from the end; empty when start >
  end or start >= length.
- Replies WITH SCORES are flat [member, score, ...] in RESP2 and [[member, score], ...] in
  RESP3, scores as doubles (%.17g); the ZPOP family's own shapes live in `pop_reply`.
Pure: no I/O.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from node.commands._double import range_double
from node.engine import notify
from node.engine.types.zset import Item, ZSet
from node.proto import errors
from node.proto.errors import CommandError
from node.proto.resp import format_double

if TYPE_CHECKING:
    from node.engine.session import Client

NOT_FLOAT_RANGE: Final = "ERR min or max is not a float"
NOT_LEX_RANGE: Final = "ERR min or max not valid string range item"

# Lex bound kinds
LEX_MIN, LEX_MAX, LEX_INCL, LEX_EXCL = 0, 1, 2, 3
LexBound = tuple[int, bytes]
_BULK_HEADERS: Final = tuple(b"$%d\r\n" % n for n in range(64))
ScoreBound = tuple[float, bool]  # (value, exclusive)


def get_zset(c: Client, key: bytes) -> ZSet | None:
    """The sorted set at `key` (None if missing); WRONGTYPE for other types."""
    value = c.db.lookup(key)
    if value is None or value.__class__ is ZSet:
        return value
    raise CommandError(errors.WRONGTYPE)


def limits(c: Client) -> tuple[int, int]:
    """(zset-max-listpack-entries, zset-max-listpack-value), read at the time of the change."""
    limits = c.engine.limits
    return limits.zset_max_listpack_entries, limits.zset_max_listpack_value


def read_zset(c: Client, key: bytes) -> ZSet | None:
    """`get_zset` for keys a command only reads (a missing key is a keymiss event)."""
    value = c.db.lookup_read(key)
    if value is None or value.__class__ is ZSet:
        return value
    raise CommandError(errors.WRONGTYPE)


def zset_event(c: Client, event: bytes, key: bytes, kind: int = notify.ZSET) -> None:
    """A keyspace event of a sorted-set command (zadd, zrem, ...; `del` is generic)."""
    engine = c.engine
    if engine.notify_flags:
        engine.notify(kind, event, key, c.db.index)


def store_result(c: Client, dst: bytes, items: list[Item], event: bytes) -> int:
    """Write a computed result to `dst` (overwriting, TTL cleared) or delete `dst` when it
    is empty, as the STORE commands do; returns the stored length. `event` names the
    command's keyspace event (zunionstore, zrangestore, ...)."""
    if not items:
        if c.db.delete(dst):
            zset_event(c, b"del", dst, notify.GENERIC)
            c.engine.dirty += 1
        return 0
    zs = ZSet.build(items, *limits(c))
    c.db.set_value(dst, zs)
    zset_event(c, event, dst)
    c.engine.dirty += 1
    return len(zs)


# --- ranges --------------------------------------------------------------------------------
def score_bound(raw: bytes) -> ScoreBound:
    exclusive = raw[:1] == b"("
    value = range_double(raw[1:] if exclusive else raw)
    if value is None:
        raise CommandError(NOT_FLOAT_RANGE)
    return value, exclusive


def score_span(zs: ZSet, lo: ScoreBound, hi: ScoreBound) -> tuple[int, int]:
    """Positions [start, stop) of the elements whose score lies between the bounds."""
    start = zs.index_score(lo[0], after=lo[1])
    stop = zs.index_score(hi[0], after=not hi[1])
    return start, max(start, stop)


def lex_bound(raw: bytes) -> LexBound:
    head = raw[:1]
    # Redis reads the argument as a C string: "+" must be followed by its terminator.
    if head in (b"+", b"-") and raw[1:2] in (b"", b"\0"):
        return (LEX_MAX if head == b"+" else LEX_MIN), b""
    if head == b"[":
        return LEX_INCL, raw[1:]
    if head == b"(":
        return LEX_EXCL, raw[1:]
    raise CommandError(NOT_LEX_RANGE)


def lex_span(zs: ZSet, lo: LexBound, hi: LexBound) -> tuple[int, int]:
    start = _lex_position(zs, lo, lower=True)
    stop = _lex_position(zs, hi, lower=False)
    return start, max(start, stop)


def _lex_position(zs: ZSet, bound: LexBound, *, lower: bool) -> int:
    kind, member = bound
    if kind == LEX_MIN:
        return 0
    if kind == LEX_MAX:
        return len(zs)
    # A lower bound starts at the first member inside it, an upper bound stops at the first
    # member past it: "[x" includes x, "(x" excludes it.
    return zs.index_lex(member, after=(kind == LEX_EXCL) == lower)


def rank_span(start: int, end: int, length: int) -> tuple[int, int] | None:
    """ZRANGE's index sanitizing: positions [start, stop), or None for an empty range."""
    if start < 0:
        start += length
    if end < 0:
        end += length
    start = max(start, 0)
    if start > end or start >= length:
        return None
    return start, min(end, length - 1) + 1


# --- replies ---------------------------------------------------------------------------------
# Python's %.17g already spells infinities "inf"/"-inf" as Redis does (scores are never NaN),
# so replies format scores inline instead of calling resp.format_double per element.
def items_reply(items: list[Item], withscores: bool, proto: int) -> bytes:
    """Members, or members with scores (flat in RESP2, pairs in RESP3)."""
    head = b"*%d\r\n" % len(items)
    if not withscores:
        return head + b"".join([b"$%d\r\n%s\r\n" % (len(m), m) for m, _ in items])
    if proto == 2:
        return flat_items_reply(items, 2)
    return head + b"".join([b"*2\r\n$%d\r\n%s\r\n,%.17g\r\n" % (len(m), m, s) for m, s in items])


def flat_items_reply(items: list[Item], proto: int) -> bytes:
    """[member, score, member, score, ...] with scores as `proto` doubles."""
    head = b"*%d\r\n" % (2 * len(items))
    if proto == 3:
        return head + b"".join([b"$%d\r\n%s\r\n,%.17g\r\n" % (len(m), m, s) for m, s in items])
    # Bytes %-formatting is slow; joining cached "$<len>" headers halves the cost.
    parts = [head]
    extend = parts.extend
    for m, s in items:
        text = b"%.17g" % s
        n = len(m)
        extend(
            (
                _BULK_HEADERS[n] if n < 64 else b"$%d\r\n" % n,
                m,
                b"\r\n",
                _BULK_HEADERS[len(text)],
                text,
                b"\r\n",
            )
        )
    return b"".join(parts)


def pop_first(
    c: Client, keys: list[bytes], from_max: bool, count: int
) -> tuple[bytes, list[Item]] | None:
    """The non-blocking core of ZPOPMIN/ZPOPMAX/ZMPOP/BZPOPMIN/BZPOPMAX/BZMPOP: pop up to
    `count` elements from the first of `keys` holding a sorted set (WRONGTYPE stops the
    search, as in Redis). None when every key is missing. Deletes the key when emptied."""
    for key in keys:
        zs = get_zset(c, key)
        if zs is not None:
            break
    else:
        return None
    n = min(count, len(zs))
    if n <= 0:
        return key, []
    size = len(zs)
    if from_max:
        items = zs.pop_items(size - n, size)
        items.reverse()
    else:
        items = zs.pop_items(0, n)
    if len(zs):
        c.db.touch(key)
    else:
        c.db.delete(key)
    zset_event(c, b"zpopmax" if from_max else b"zpopmin", key)
    if not len(zs):
        zset_event(c, b"del", key, notify.GENERIC)
    c.engine.dirty += n
    return key, items


def bzpop_reply(key: bytes, item: Item, proto: int) -> bytes:
    """BZPOPMIN/BZPOPMAX's answer: a flat [key, member, score] in both protocols."""
    member, score = item
    text = format_double(score)
    score_part = b",%s\r\n" % text if proto == 3 else b"$%d\r\n%s\r\n" % (len(text), text)
    return b"*3\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n%s" % (len(key), key, len(member), member, score_part)


def mpop_reply(key: bytes, items: list[Item], proto: int) -> bytes:
    """ZMPOP/BZMPOP's answer: [key, [[member, score], ...]], nested in both protocols."""
    parts = [b"*2\r\n$%d\r\n%s\r\n*%d\r\n" % (len(key), key, len(items))]
    for m, s in items:
        text = format_double(s)
        score_part = b",%s\r\n" % text if proto == 3 else b"$%d\r\n%s\r\n" % (len(text), text)
        parts.append(b"*2\r\n$%d\r\n%s\r\n%s" % (len(m), m, score_part))
    return b"".join(parts)
