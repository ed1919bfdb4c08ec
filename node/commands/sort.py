"""SORT and SORT_RO (Redis 7.0's sort.c): sorting lists, sets and sorted sets, with BY
weights, GET projections, LIMIT, ALPHA and STORE.

Redis 7.0 behaviour matched on purpose:
- Options are parsed first (a bad LIMIT number or an unknown word is the error even on a
  missing or wrongly typed key); SORT_RO does not know STORE. The last BY, LIMIT and STORE
  win; a BY pattern without `*` (before any NUL) disables sorting for good, even if a
  later BY has one.
- Patterns (lookupKeyByPattern): "#" is the element itself; otherwise the first `*` is
  replaced by the element, and "->field" after it reads a hash field; no `*` means no
  value. Missing keys, wrong types and missing fields give no value (nil for GET, weight 0
  or "smallest" for BY).
- Numeric weights are read by strtod up to the first NUL: leading blanks, hex, "inf" and an
  empty string (0) pass; trailing bytes, NaN, overflow and inexact subnormals (glibc's
  ERANGE) make the whole command fail with "One or more scores can't be converted into
  double", after the sort. Ties compare the elements as binary strings, so numeric sorts
  are total orders.
- ALPHA compares with strcoll (the server runs in C.UTF-8: byte order, up to the first
  NUL) or, when storing, memcmp. Ties keep the input order (glibc's qsort is stable) unless
  BY and a LIMIT that cuts make Redis use its pqsort, which is reproduced.
- Without sorting (BY constant) lists and sorted sets keep their order, reversed by DESC,
  and LIMIT just slices; sets are returned in set order, except that with STORE they are
  sorted ALPHA (for replication's sake). SORT converts a sorted set to the skiplist
  encoding, whatever happens next.
- STORE writes a list (GET misses become empty strings) or deletes the destination when
  there is nothing to store; the reply is the stored length.
Pure: no I/O.
"""

from __future__ import annotations

import math
import sys
from fractions import Fraction
from itertools import islice
from typing import Final

from node.commands import docs
from node.commands._args import int_arg, option
from node.commands._double import strtod
from node.commands.registry import Acl, Flag, KeyFlag, KeyRef, KeySpec, key_at
from node.commands.table import NODE
from node.engine import notify
from node.engine.csort import partial_sort
from node.engine.session import Client
from node.engine.types.hash import HashValue
from node.engine.types.list import ListValue
from node.engine.types.set import SetValue
from node.engine.types.zset import ZSet
from node.proto import errors, resp
from node.proto.errors import CommandError

Argv = list[bytes]

NOT_DOUBLE: Final = "ERR One or more scores can't be converted into double"

_DBL_MIN: Final = Fraction(sys.float_info.min)
_SPACE: Final = b" \t\n\v\f\r"
_RO_ACCESS: Final = KeyFlag.RO | KeyFlag.ACCESS
_STORE_FLAGS: Final = KeyFlag.OW | KeyFlag.UPDATE


def _cstr(raw: bytes) -> bytes:
    """What C string functions see of an argument: up to its first NUL."""
    return raw.split(b"\0", 1)[0]


# --- COMMAND GETKEYS ---------------------------------------------------------------------------
def _sort_keys(argv: Argv) -> list[KeyRef]:
    """sortGetKeys: the sorted key, and the last STORE destination. LIMIT, GET and BY skip
    their arguments; other words are taken as argument-less options."""
    keys: list[KeyRef] = [(1, _RO_ACCESS)]
    store = 0
    skips = {b"LIMIT": 2, b"GET": 1, b"BY": 1}
    i = 2
    while i < len(argv):
        word = option(argv[i])
        if word in skips:
            i += skips[word]
        elif word == b"STORE" and i + 1 < len(argv):
            store = i + 1  # not skipped: the destination is examined as a word too
        i += 1
    if store:
        keys.append((store, _STORE_FLAGS))
    return keys


def _sort_ro_keys(argv: Argv) -> list[KeyRef]:
    """sortROGetKeys: only the sorted key."""
    return [(1, _RO_ACCESS)]


# --- patterns and weights ----------------------------------------------------------------------
def _by_pattern(c: Client, pattern: bytes, element: bytes) -> bytes | None:
    """lookupKeyByPattern: the value `pattern` designates for `element`, or None."""
    if pattern[:1] == b"#" and pattern[1:2] in (b"", b"\0"):
        return element
    text = _cstr(pattern)
    star = text.find(b"*")
    if star < 0:
        return None
    arrow = text.find(b"->", star + 1)
    field: bytes | None = None
    key_end = len(pattern)
    if arrow >= 0 and arrow + 2 < len(text):
        field = pattern[arrow + 2 :]  # the field runs to the end of the whole argument
        key_end = arrow
    value = c.db.lookup_read(pattern[:star] + element + pattern[star + 1 : key_end])
    if value is None:
        return None
    if field is not None:
        return value.get(field) if isinstance(value, HashValue) else None
    return bytes(value) if isinstance(value, (bytes, bytearray)) else None


def _weight(raw: bytes) -> float | None:
    """A numeric weight as SORT reads it (strtod + its errno checks), or None if it makes
    the command fail."""
    text = _cstr(raw)
    value, end, erange = strtod(text)
    if end != len(text) or erange or math.isnan(value):
        return None
    if value and abs(value) <= sys.float_info.min and _inexact_tiny(text, value):
        return None
    return value


def _inexact_tiny(text: bytes, value: float) -> bool:
    """glibc's strtod also sets ERANGE when the exact value is below DBL_MIN and the result
    had to be rounded (0x1p-1074 passes, 4.9e-324 does not)."""
    literal = text.strip(_SPACE).decode("ascii")
    negative = literal[:1] == "-"
    literal = literal.lstrip("+-")
    if literal[:2].lower() == "0x":
        mantissa, _, exponent = literal[2:].lower().partition("p")
        whole, _, frac = mantissa.partition(".")
        exact = Fraction(int(whole + frac or "0", 16)) * Fraction(2) ** (
            int(exponent or "0") - 4 * len(frac)
        )
    else:
        exact = Fraction(literal)
    if negative:
        exact = -exact
    return abs(exact) < _DBL_MIN and exact != Fraction(value)


# --- the command ---------------------------------------------------------------------------------
def _sort(c: Client, argv: Argv, *, readonly: bool) -> bytes:
    desc = alpha = dontsort = False
    limit_start, limit_count = 0, -1
    store: bytes | None = None
    by: bytes | None = None
    gets: list[bytes] = []
    j = 2
    while j < len(argv):
        left = len(argv) - j - 1
        word = option(argv[j])
        if word == b"ASC":
            desc = False
        elif word == b"DESC":
            desc = True
        elif word == b"ALPHA":
            alpha = True
        elif word == b"LIMIT" and left >= 2:
            limit_start = int_arg(argv[j + 1])
            limit_count = int_arg(argv[j + 2])
            j += 2
        elif word == b"STORE" and left >= 1 and not readonly:
            store = argv[j + 1]
            j += 1
        elif word == b"BY" and left >= 1:
            by = argv[j + 1]
            if b"*" not in _cstr(by):
                dontsort = True
            elif c.engine.cluster is not None:  # the pattern's keys may be anywhere
                raise CommandError("ERR BY option of SORT denied in Cluster mode.")
            j += 1
        elif word == b"GET" and left >= 1:
            if c.engine.cluster is not None:
                raise CommandError("ERR GET option of SORT denied in Cluster mode.")
            gets.append(argv[j + 1])
            j += 1
        else:
            raise CommandError(errors.SYNTAX)
        j += 1

    value = c.db.lookup_read(argv[1])
    if value is not None and not isinstance(value, (ListValue, SetValue, ZSet)):
        raise CommandError(errors.WRONGTYPE)
    if value is None:
        value = ListValue()
    if dontsort and isinstance(value, SetValue) and store is not None:
        # A set has no order of its own: what gets stored must not depend on it.
        dontsort, alpha, by = False, True, None
    if isinstance(value, ZSet):
        value.to_skiplist()

    length = len(value)
    start = max(limit_start, 0)
    end = length - 1 if limit_count < 0 else start + limit_count - 1
    if start >= length:
        start, end = length - 1, length - 2
    end = min(end, length - 1)

    if dontsort and not isinstance(value, SetValue):
        elements = _in_order(value, start, end, desc)
        end -= start
        start = 0
    else:
        elements = value.ordered() if isinstance(value, SetValue) else list(value)

    if not dontsort:
        failed = _sort_elements(c, elements, by, alpha, desc, store is not None, start, end)
        if failed:
            raise CommandError(NOT_DOUBLE)

    chosen = elements[start : end + 1] if end >= start else []
    if store is None:
        return _reply(c, chosen, gets)
    return _store(c, store, chosen, gets)


def _in_order(value: ListValue | ZSet, start: int, end: int, desc: bool) -> list[bytes]:
    """Elements start..end of a list or sorted set in its own order; DESC counts them
    from the end."""
    if end < start:
        return []
    if isinstance(value, ZSet):
        length = len(value)
        if not desc:
            return [member for member, _ in value.items(start, end + 1)]
        picked = [member for member, _ in value.items(length - 1 - end, length - start)]
        picked.reverse()
        return picked
    return list(islice(reversed(value) if desc else iter(value), start, end + 1))


def _sort_elements(
    c: Client,
    elements: list[bytes],
    by: bytes | None,
    alpha: bool,
    desc: bool,
    storing: bool,
    start: int,
    end: int,
) -> bool:
    """Sort in place as sortCommandGeneric does; True if a numeric weight was invalid
    (Redis sorts anyway, then fails)."""
    if not alpha:
        failed = False
        keyed: list[tuple[float, bytes]] = []
        for element in elements:
            raw = _by_pattern(c, by, element) if by is not None else element
            weight = 0.0
            if raw is not None:
                parsed = _weight(raw)
                if parsed is None:
                    failed = True
                else:
                    weight = parsed
            keyed.append((weight, element))
        # (weight, element) is a total order: any algorithm gives Redis's answer.
        keyed.sort(reverse=desc)
        elements[:] = [element for _, element in keyed]
        return failed
    if by is None:
        # strcoll in C.UTF-8 is byte order up to the first NUL; memcmp when storing.
        elements.sort(key=(lambda e: e) if storing else _cstr, reverse=desc)
        return False
    weights = [_by_pattern(c, by, e) for e in elements]
    if not storing:
        weights = [None if w is None else _cstr(w) for w in weights]
    pairs = list(zip(weights, elements, strict=True))
    if start != 0 or end != len(elements) - 1:
        partial_sort(pairs, _alpha_cmp_desc if desc else _alpha_cmp, start, end)
    else:
        pairs.sort(key=lambda p: (p[0] is not None, p[0] or b""), reverse=desc)
    elements[:] = [element for _, element in pairs]
    return False


AlphaPair = tuple[bytes | None, bytes]


def _alpha_cmp(a: AlphaPair, b: AlphaPair) -> int:
    """sortCompare for ALPHA with BY: a missing weight sorts first."""
    x, y = a[0], b[0]
    if x is None or y is None:
        return 0 if x is y else (-1 if x is None else 1)
    return (x > y) - (x < y)


def _alpha_cmp_desc(a: AlphaPair, b: AlphaPair) -> int:
    return -_alpha_cmp(a, b)


def _reply(c: Client, chosen: list[bytes], gets: list[bytes]) -> bytes:
    if not gets:
        return resp.bulk_array(chosen)
    null = resp.null(c.resp)
    parts = [resp.array_header(len(chosen) * len(gets))]
    for element in chosen:
        for pattern in gets:
            found = _by_pattern(c, pattern, element)
            parts.append(null if found is None else resp.bulk(found))
    return b"".join(parts)


def _store(c: Client, dst: bytes, chosen: list[bytes], gets: list[bytes]) -> bytes:
    if gets:
        items = [_by_pattern(c, pattern, element) or b"" for element in chosen for pattern in gets]
    else:
        items = chosen
    engine = c.engine
    if items:
        c.db.set_value(dst, ListValue(items))
        if engine.notify_flags:
            engine.notify(notify.LIST, b"sortstore", dst, c.db.index)
        engine.dirty += len(items)
    elif c.db.delete(dst):
        if engine.notify_flags:
            engine.notify(notify.GENERIC, b"del", dst, c.db.index)
        engine.dirty += 1
    return resp.integer(len(items))


# --- declarations ------------------------------------------------------------------------------
_COMPLEXITY: Final = (
    "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the "
    "number of returned elements. When the elements are not sorted, complexity is O(N)."
)
_BY_GET_SPEC: Final = KeySpec(
    _RO_ACCESS,
    begin="unknown",
    find="unknown",
    notes="For the optional BY/GET keyword. It is marked 'unknown' because the key names "
    "derive from the content of the key we sort",
)
_STORE_SPEC: Final = KeySpec(
    _STORE_FLAGS,
    begin="unknown",
    find="unknown",
    notes="For the optional STORE keyword. It is marked 'unknown' because the keyword can "
    "appear anywhere in the argument array",
)
_ARGS: Final = (
    docs.key("key"),
    docs.pattern("pattern", key_spec_index=1, token="BY", optional=True),
    docs.block(
        "offset_count", docs.integer("offset"), docs.integer("count"), token="LIMIT", optional=True
    ),
    docs.pattern(
        "pattern", key_spec_index=1, token="GET", optional=True, multiple=True, multiple_token=True
    ),
    docs.oneof("order", docs.token("asc", "ASC"), docs.token("desc", "DESC"), optional=True),
    docs.token("sorting", "ALPHA", optional=True),
)
_ACL: Final = Acl.SET | Acl.SORTEDSET | Acl.LIST | Acl.DANGEROUS


@NODE.command(
    "sort",
    -2,
    Flag.WRITE | Flag.DENYOOM,
    group="generic",
    since="1.0.0",
    summary="Sort the elements in a list, set or sorted set",
    complexity=_COMPLEXITY,
    acl=_ACL,
    keys=[key_at(1, _RO_ACCESS), _BY_GET_SPEC, _STORE_SPEC],
    getkeys=_sort_keys,
    args=(*_ARGS, docs.key("destination", 2, token="STORE", optional=True)),
)
def sort(c: Client, argv: Argv) -> bytes:
    return _sort(c, argv, readonly=False)


@NODE.command(
    "sort_ro",
    -2,
    Flag.READONLY,
    group="generic",
    since="7.0.0",
    summary="Sort the elements in a list, set or sorted set. Read-only variant of SORT.",
    complexity=_COMPLEXITY,
    acl=_ACL,
    keys=[key_at(1, _RO_ACCESS), _BY_GET_SPEC],
    getkeys=_sort_ro_keys,
    args=_ARGS,
)
def sort_ro(c: Client, argv: Argv) -> bytes:
    return _sort(c, argv, readonly=True)
