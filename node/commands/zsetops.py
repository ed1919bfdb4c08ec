"""Sorted-set commands (Redis's t_zset.c), part 2: set algebra (ZUNION, ZINTER, ZDIFF, their
STORE forms, ZINTERCARD), ZRANDMEMBER and ZSCAN.

Redis 7.0 behaviour matched on purpose (zunionInterDiffGenericCommand):
- Inputs may be sorted sets or plain sets (every member scoring 1); any other type is
  WRONGTYPE, checked before the options are read. Missing keys are empty inputs.
- UNION and INTER visit the inputs from the smallest to the largest (a stable sort by
  cardinality), which fixes the order of the floating-point additions. Weighted scores that
  come out NaN (inf * 0) count as 0 in UNION; in both, a SUM that is NaN (inf + -inf) is 0,
  and MIN/MAX keep the earlier value when comparing against NaN, as C's `<`/`>` do.
- DIFF keeps the first input's members (with their scores) that no other input has.
- Results are ordered by (score, member); STORE results replace the destination (its TTL
  too), or delete it when empty.
ZRANDMEMBER draws from the engine's seeded random; ZSCAN answers a listpack set in one call
(cursor 0) with the listpack's own score text, and walks a skiplist set by snapshots.
Pure: no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Final

from node.commands import docs
from node.commands._args import LLONG_MAX, int_arg, option
from node.commands._double import double_arg
from node.commands._scan import EMPTY_SCAN, parse_cursor, parse_options, scan_reply
from node.commands._zset import items_reply, read_zset, store_result
from node.commands.registry import Acl, Flag, KeyFlag, key_at, keys_by_count
from node.commands.table import NODE
from node.engine.session import Client
from node.engine.types.set import SetValue
from node.engine.types.snapshots import scan_step
from node.engine.types.zset import Item, ZSet, listpack_score_text
from node.proto import errors, resp
from node.proto.errors import CommandError
from node.proto.resp import format_double

Argv = list[bytes]

WEIGHT_NOT_FLOAT: Final = "ERR weight value is not a float"
LIMIT_NEGATIVE: Final = "ERR LIMIT can't be negative"
OUT_OF_RANGE: Final = "ERR value is out of range"
COUNT_RANGE: Final = (
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
)

UNION, INTER, DIFF = 0, 1, 2
_SUM, _MIN, _MAX = 0, 1, 2
_AGGREGATES: Final = {b"SUM": _SUM, b"MIN": _MIN, b"MAX": _MAX}

_RO: Final = KeyFlag.RO | KeyFlag.ACCESS
_NUMKEYS: Final = docs.integer("numkeys")
_WEIGHTS: Final = docs.integer("weight", token="WEIGHTS", optional=True, multiple=True)
_AGGREGATE: Final = docs.oneof(
    "aggregate",
    docs.token("sum", "SUM"),
    docs.token("min", "MIN"),
    docs.token("max", "MAX"),
    token="AGGREGATE",
    optional=True,
)
_WITHSCORES: Final = docs.token("withscores", "WITHSCORES", optional=True)
_UNION_COMPLEXITY: Final = (
    "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being "
    "the number of elements in the resulting sorted set."
)
_INTER_COMPLEXITY: Final = (
    "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the "
    "number of input sorted sets and M being the number of elements in the resulting sorted "
    "set."
)
_DIFF_COMPLEXITY: Final = (
    "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N "
    "is the size of the first set, and K is the size of the result set."
)


class _Source:
    """One input of a set operation: a sorted set, a plain set (scores 1) or nothing."""

    __slots__ = ("value", "weight")

    def __init__(self, value: ZSet | SetValue | None) -> None:
        self.value = value
        self.weight = 1.0

    def __len__(self) -> int:
        return 0 if self.value is None else len(self.value)

    def pairs(self) -> Iterator[Item]:
        value = self.value
        if isinstance(value, ZSet):
            return value.pairs()
        return ((m, 1.0) for m in value or ())

    def find(self, member: bytes) -> float | None:
        value = self.value
        if isinstance(value, ZSet):
            return value.score(member)
        return 1.0 if value is not None and member in value else None


def _aggregate(target: float, value: float, how: int) -> float:
    """Redis's zunionInterAggregate."""
    if how == _SUM:
        total = target + value
        return 0.0 if math.isnan(total) else total
    if how == _MIN:
        return value if value < target else target
    return value if value > target else target


def _setop(
    c: Client, argv: Argv, numkeys_idx: int, dst: bytes | None, op: int, *, card: bool = False
) -> bytes:
    name = argv[0].decode("utf-8", "replace").lower()
    setnum = int_arg(argv[numkeys_idx])
    if setnum < 1:
        raise CommandError(f"ERR at least 1 input key is needed for '{name}' command")
    if setnum > len(argv) - (numkeys_idx + 1):
        raise CommandError(errors.SYNTAX)
    sources = []
    for key in argv[numkeys_idx + 1 : numkeys_idx + 1 + setnum]:
        value = c.db.lookup_read(key)
        if value is not None and not isinstance(value, (ZSet, SetValue)):
            raise CommandError(errors.WRONGTYPE)
        sources.append(_Source(value))
    how, withscores, limit = _setop_options(
        argv, numkeys_idx + 1 + setnum, sources, op, dst is None, card
    )
    if op == DIFF:
        first = sources[0]
        items = [
            (m, s)
            for m, s in first.pairs()
            if not any(src.find(m) is not None for src in sources[1:])
        ]
    else:
        sources.sort(key=len)  # smallest first; stable, like glibc's merge-sort qsort
        if card:
            return resp.integer(_intercard(sources, limit))
        items = _inter(sources, how) if op == INTER else _union(sources, how)
    if dst is not None:
        # zunionstore, zinterstore, zdiffstore
        event = argv[0].lower()
        return resp.integer(store_result(c, dst, items, event))
    items.sort(key=_score_member)
    return items_reply(items, withscores, c.resp)


def _setop_options(
    argv: Argv, j: int, sources: list[_Source], op: int, may_withscores: bool, card: bool
) -> tuple[int, bool, int]:
    """The optional arguments after the keys: (aggregate, withscores, limit)."""
    how, withscores, limit = _SUM, False, 0
    while j < len(argv):
        remaining = len(argv) - j
        word = option(argv[j])
        if op != DIFF and not card and remaining >= len(sources) + 1 and word == b"WEIGHTS":
            for i, src in enumerate(sources, j + 1):
                src.weight = double_arg(argv[i], WEIGHT_NOT_FLOAT)
            j += len(sources) + 1
        elif op != DIFF and not card and remaining >= 2 and word == b"AGGREGATE":
            chosen = _AGGREGATES.get(option(argv[j + 1]))
            if chosen is None:
                raise CommandError(errors.SYNTAX)
            how = chosen
            j += 2
        elif may_withscores and not card and word == b"WITHSCORES":
            withscores = True
            j += 1
        elif card and remaining >= 2 and word == b"LIMIT":
            limit = int_arg(argv[j + 1], LIMIT_NEGATIVE)
            if limit < 0:
                raise CommandError(LIMIT_NEGATIVE)
            j += 2
        else:
            raise CommandError(errors.SYNTAX)
    return how, withscores, limit


def _union(sources: list[_Source], how: int) -> list[Item]:
    acc: dict[bytes, float] = {}
    for src in sources:
        weight = src.weight
        for member, score in src.pairs():
            value = weight * score
            if math.isnan(value):
                value = 0.0
            current = acc.get(member)
            acc[member] = value if current is None else _aggregate(current, value, how)
    return list(acc.items())


def _inter(sources: list[_Source], how: int) -> list[Item]:
    first, rest = sources[0], sources[1:]
    items = []
    for member, score in first.pairs():
        total = first.weight * score
        if math.isnan(total):
            total = 0.0
        for src in rest:
            found = src.find(member)
            if found is None:
                break
            total = _aggregate(total, found * src.weight, how)
        else:
            items.append((member, total))
    return items


def _intercard(sources: list[_Source], limit: int) -> int:
    first, rest = sources[0], sources[1:]
    count = 0
    for member, _ in first.pairs():
        if all(src.find(member) is not None for src in rest):
            count += 1
            if count == limit:
                break
    return count


def _score_member(item: Item) -> tuple[float, bytes]:
    return item[1], item[0]


@NODE.command(
    "zunion",
    -3,
    Flag.READONLY,
    group="sorted-set",
    since="6.2.0",
    acl=Acl.SORTEDSET,
    summary="Add multiple sorted sets",
    complexity=_UNION_COMPLEXITY,
    keys=[keys_by_count(1, _RO)],
    args=(_NUMKEYS, docs.key("key", multiple=True), _WEIGHTS, _AGGREGATE, _WITHSCORES),
)
def zunion(c: Client, argv: Argv) -> bytes:
    return _setop(c, argv, 1, None, UNION)


@NODE.command(
    "zinter",
    -3,
    Flag.READONLY,
    group="sorted-set",
    since="6.2.0",
    acl=Acl.SORTEDSET,
    summary="Intersect multiple sorted sets",
    complexity=_INTER_COMPLEXITY,
    keys=[keys_by_count(1, _RO)],
    args=(_NUMKEYS, docs.key("key", multiple=True), _WEIGHTS, _AGGREGATE, _WITHSCORES),
)
def zinter(c: Client, argv: Argv) -> bytes:
    return _setop(c, argv, 1, None, INTER)


@NODE.command(
    "zdiff",
    -3,
    Flag.READONLY,
    group="sorted-set",
    since="6.2.0",
    acl=Acl.SORTEDSET,
    summary="Subtract multiple sorted sets",
    complexity=_DIFF_COMPLEXITY,
    keys=[keys_by_count(1, _RO)],
    args=(_NUMKEYS, docs.key("key", multiple=True), _WITHSCORES),
)
def zdiff(c: Client, argv: Argv) -> bytes:
    return _setop(c, argv, 1, None, DIFF)


_STORE_KEYS: Final = [key_at(1, KeyFlag.OW | KeyFlag.UPDATE), keys_by_count(2, _RO)]
_DESTINATION: Final = docs.key("destination")


@NODE.command(
    "zunionstore",
    -4,
    Flag.WRITE | Flag.DENYOOM,
    group="sorted-set",
    since="2.0.0",
    acl=Acl.SORTEDSET,
    summary="Add multiple sorted sets and store the resulting sorted set in a new key",
    complexity=(
        "O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted "
        "sets, and M being the number of elements in the resulting sorted set."
    ),
    keys=_STORE_KEYS,
    args=(_DESTINATION, _NUMKEYS, docs.key("key", 1, multiple=True), _WEIGHTS, _AGGREGATE),
)
def zunionstore(c: Client, argv: Argv) -> bytes:
    return _setop(c, argv, 2, argv[1], UNION)


@NODE.command(
    "zinterstore",
    -4,
    Flag.WRITE | Flag.DENYOOM,
    group="sorted-set",
    since="2.0.0",
    acl=Acl.SORTEDSET,
    summary="Intersect multiple sorted sets and store the resulting sorted set in a new key",
    complexity=_INTER_COMPLEXITY,
    keys=_STORE_KEYS,
    args=(_DESTINATION, _NUMKEYS, docs.key("key", 1, multiple=True), _WEIGHTS, _AGGREGATE),
)
def zinterstore(c: Client, argv: Argv) -> bytes:
    return _setop(c, argv, 2, argv[1], INTER)


@NODE.command(
    "zdiffstore",
    -4,
    Flag.WRITE | Flag.DENYOOM,
    group="sorted-set",
    since="6.2.0",
    acl=Acl.SORTEDSET,
    summary="Subtract multiple sorted sets and store the resulting sorted set in a new key",
    complexity=_DIFF_COMPLEXITY,
    keys=_STORE_KEYS,
    args=(_DESTINATION, _NUMKEYS, docs.key("key", 1, multiple=True)),
)
def zdiffstore(c: Client, argv: Argv) -> bytes:
    return _setop(c, argv, 2, argv[1], DIFF)


@NODE.command(
    "zintercard",
    -3,
    Flag.READONLY,
    group="sorted-set",
    since="7.0.0",
    acl=Acl.SORTEDSET,
    summary="Intersect multiple sorted sets and return the cardinality of the result",
    complexity=(
        "O(N*K) worst case with N being the smallest input sorted set, K being the "
        "number of input sorted sets."
    ),
    keys=[keys_by_count(1, _RO)],
    args=(
        _NUMKEYS,
        docs.key("key", multiple=True),
        docs.integer("limit", token="LIMIT", optional=True),
    ),
)
def zintercard(c: Client, argv: Argv) -> bytes:
    return _setop(c, argv, 1, None, INTER, card=True)


# --- ZRANDMEMBER -------------------------------------------------------------------------------
@NODE.command(
    "zrandmember",
    -2,
    Flag.READONLY,
    group="sorted-set",
    since="6.2.0",
    acl=Acl.SORTEDSET,
    summary="Get one or multiple random elements from a sorted set",
    complexity="O(N) where N is the number of elements returned",
    keys=[key_at(1, _RO)],
    tips=("nondeterministic_output",),
    args=(
        docs.key("key"),
        docs.block(
            "options",
            docs.integer("count"),
            docs.token("withscores", "WITHSCORES", optional=True),
            optional=True,
        ),
    ),
)
def zrandmember(c: Client, argv: Argv) -> bytes:
    if len(argv) == 2:
        zs = read_zset(c, argv[1])
        if zs is None:
            return resp.null(c.resp)
        return resp.bulk(zs.item(c.engine.rng.randrange(len(zs)))[0])
    count = int_arg(argv[2])
    if count < -LLONG_MAX:
        raise CommandError(COUNT_RANGE)
    if len(argv) > 4 or (len(argv) == 4 and option(argv[3]) != b"WITHSCORES"):
        raise CommandError(errors.SYNTAX)
    withscores = len(argv) == 4
    if withscores and not -(LLONG_MAX // 2) <= count <= LLONG_MAX // 2:
        raise CommandError(OUT_OF_RANGE)  # count * 2 would overflow the reply length
    zs = read_zset(c, argv[1])
    if zs is None or count == 0:
        return resp.EMPTY_ARRAY
    return items_reply(_random_items(c, zs, count), withscores, c.resp)


def _random_items(c: Client, zs: ZSet, count: int) -> list[Item]:
    rng, size = c.engine.rng, len(zs)
    if count < 0 or count == 1:
        # Negative counts may repeat members: independent draws.
        return [zs.item(rng.randrange(size)) for _ in range(abs(count))]
    if count >= size:
        # The whole set, in the order Redis's zset iterator walks it: from the top.
        items = zs.items(0, size)
        items.reverse()
        return items
    return [zs.item(i) for i in rng.sample(range(size), count)]


# --- ZSCAN -------------------------------------------------------------------------------------
@NODE.command(
    "zscan",
    -3,
    Flag.READONLY,
    group="sorted-set",
    since="2.8.0",
    acl=Acl.SORTEDSET,
    summary="Incrementally iterate sorted sets elements and associated scores",
    complexity=(
        "O(1) for every call. O(N) for a complete iteration, including enough "
        "command calls for the cursor to return back to 0. N is the number of "
        "elements inside the collection.."
    ),
    keys=[key_at(1, _RO)],
    tips=("nondeterministic_output",),
    args=(
        docs.key("key"),
        docs.integer("cursor"),
        docs.pattern("pattern", token="MATCH", optional=True),
        docs.integer("count", token="COUNT", optional=True),
    ),
)
def zscan(c: Client, argv: Argv) -> bytes:
    cursor = parse_cursor(argv[2])
    zs = read_zset(c, argv[1])
    if zs is None:
        return EMPTY_SCAN
    opts = parse_options(argv, 3)
    match = opts.match
    flat: list[bytes] = []
    if zs.encoding() == b"listpack":
        # A listpack is answered whole, whatever the cursor, with its stored score text.
        for member, score in zs.pairs():
            if match is None or match(member):
                flat += (member, listpack_score_text(score))
        return scan_reply(0, flat)
    cursor, members = scan_step(zs, cursor, opts.count)
    for member in members:
        found = zs.score(member)
        if found is not None and (match is None or match(member)):
            flat += (member, format_double(found))
    return scan_reply(cursor, flat)
