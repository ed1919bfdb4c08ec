"""List commands (Redis's t_list.c), including the blocking BLPOP/BRPOP/BLMOVE/BRPOPLPUSH/
BLMPOP, which return a `Block` when every key is empty (see node/engine/blocking.py).

Rules: a list is never stored empty (popping the last element deletes the key); pushes call
`Database.mark_ready` so parked clients are served; in-place changes call `Database.touch`
(WATCH). Replies follow Redis 7.0 in RESP2 and RESP3. Pure.
"""

from __future__ import annotations

import itertools

from node.commands import docs
from node.commands._args import int_arg, timeout_to_deadline
from node.commands.registry import Acl, Flag, KeyFlag, key_at, keys_by_count
from node.commands.table import NODE
from node.engine import notify
from node.engine.blocking import Block
from node.engine.session import Client
from node.engine.types.list import ListValue
from node.proto import errors, resp
from node.proto.errors import CommandError

Argv = list[bytes]
_LEFT, _RIGHT = b"left", b"right"
_WHERE = (docs.token("left", "LEFT"), docs.token("right", "RIGHT"))


def _get_list(c: Client, key: bytes) -> ListValue | None:
    value = c.db.lookup(key)
    if value is None or isinstance(value, ListValue):
        return value
    raise CommandError(errors.WRONGTYPE)


def _read_list(c: Client, key: bytes) -> ListValue | None:
    """`_get_list` for commands that only read (a missing key is a keymiss event)."""
    value = c.db.lookup_read(key)
    if value is None or isinstance(value, ListValue):
        return value
    raise CommandError(errors.WRONGTYPE)


def _event(c: Client, event: bytes, key: bytes, kind: int = notify.LIST) -> None:
    engine = c.engine
    if engine.notify_flags:
        engine.notify(kind, event, key, c.db.index)


def _popped(c: Client, key: bytes, left: bool, emptied: bool) -> None:
    """A pop's events: lpop/rpop, then del when it took the last element."""
    _event(c, b"lpop" if left else b"rpop", key)
    if emptied:
        _event(c, b"del", key, notify.GENERIC)


def _where(raw: bytes) -> bool:
    """LEFT -> True, RIGHT -> False; anything else is a syntax error."""
    low = raw.lower()
    if low == _LEFT:
        return True
    if low == _RIGHT:
        return False
    raise CommandError(errors.SYNTAX)


def _pop(c: Client, key: bytes, lst: ListValue, left: bool) -> bytes:
    """Pop one element, deleting the key when the list runs empty."""
    value = lst.popleft() if left else lst.pop()
    if not lst:
        c.db.delete(key)
    else:
        c.db.touch(key)
    _popped(c, key, left, not lst)
    c.engine.dirty += 1
    return value


def _pop_many(c: Client, key: bytes, lst: ListValue, left: bool, count: int) -> list[bytes]:
    count = min(count, len(lst))
    popped = [lst.popleft() for _ in range(count)] if left else [lst.pop() for _ in range(count)]
    if not lst:
        c.db.delete(key)
    elif popped:
        c.db.touch(key)
    if popped:
        _popped(c, key, left, not lst)
    c.engine.dirty += len(popped)
    return popped


def _push(c: Client, key: bytes, values: Argv, left: bool, *, create: bool = True) -> int:
    """LPUSH/RPUSH core: the list's new length (0 when absent and not `create`). The caller
    counts the change in `dirty`."""
    db = c.db
    # The hot path of a list queue: a lookup without TTLs is the dict probe, and the
    # in-place change signals only when something listens (as Database.set_value does).
    lst = db.lookup(key) if db.expires else db.data.get(key)
    if lst is None:
        if not create:
            return 0
        lst = ListValue()
        if left:
            lst.extendleft(values)
        else:
            lst.extend(values)
        db.set_value(key, lst)
    elif lst.__class__ is ListValue:
        if left:
            lst.extendleft(values)
        else:
            lst.extend(values)
        if db.watched or db.tracking:
            db.touch(key)
        if db.blocking:
            db.mark_ready(key)
    else:
        raise CommandError(errors.WRONGTYPE)
    if c.engine.notify_flags:
        _event(c, b"lpush" if left else b"rpush", key)
    return len(lst)


# --- pushes ------------------------------------------------------------------------------
@NODE.command(
    "lpush",
    -3,
    Flag.WRITE | Flag.DENYOOM | Flag.FAST,
    group="list",
    since="1.0.0",
    summary="Prepend one or multiple elements to a list",
    complexity="O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
    acl=Acl.LIST,
    keys=[key_at(1, KeyFlag.RW | KeyFlag.INSERT)],
    history=(("2.4.0", "Accepts multiple `element` arguments."),),
    args=(docs.key("key", 0), docs.string("element", multiple=True)),
)
def lpush(c: Client, argv: Argv) -> bytes:
    db, engine = c.db, c.engine
    lst = db.data.get(argv[1])
    if lst.__class__ is ListValue and not (
        db.expires or db.watched or db.tracking or db.blocking or engine.notify_flags
    ):
        # A queue's push, inlined: an existing list and nothing to signal (else `_push`).
        if len(argv) == 3:
            lst.appendleft(argv[2])
            engine.dirty += 1
        else:
            lst.extendleft(argv[2:])
            engine.dirty += len(argv) - 2
        return b":%d\r\n" % len(lst)
    length = _push(c, argv[1], argv[2:], True)
    engine.dirty += len(argv) - 2
    return resp.integer(length)


@NODE.command(
    "rpush",
    -3,
    Flag.WRITE | Flag.DENYOOM | Flag.FAST,
    group="list",
    since="1.0.0",
    summary="Append one or multiple elements to a list",
    complexity="O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
    acl=Acl.LIST,
    keys=[key_at(1, KeyFlag.RW | KeyFlag.INSERT)],
    history=(("2.4.0", "Accepts multiple `element` arguments."),),
    args=(docs.key("key", 0), docs.string("element", multiple=True)),
)
def rpush(c: Client, argv: Argv) -> bytes:
    db, engine = c.db, c.engine
    lst = db.data.get(argv[1])
    if lst.__class__ is ListValue and not (
        db.expires or db.watched or db.tracking or db.blocking or engine.notify_flags
    ):
        # LPUSH's inlined push, at the tail.
        if len(argv) == 3:
            lst.append(argv[2])
            engine.dirty += 1
        else:
            lst.extend(argv[2:])
            engine.dirty += len(argv) - 2
        return b":%d\r\n" % len(lst)
    length = _push(c, argv[1], argv[2:], False)
    engine.dirty += len(argv) - 2
    return resp.integer(length)


@NODE.command(
    "lpushx",
    -3,
    Flag.WRITE | Flag.DENYOOM | Flag.FAST,
    group="list",
    since="2.2.0",
    summary="Prepend an element to a list, only if the list exists",
    complexity="O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
    acl=Acl.LIST,
    keys=[key_at(1, KeyFlag.RW | KeyFlag.INSERT)],
    history=(("4.0.0", "Accepts multiple `element` arguments."),),
    args=(docs.key("key", 0), docs.string("element", multiple=True)),
)
def lpushx(c: Client, argv: Argv) -> bytes:
    length = _push(c, argv[1], argv[2:], True, create=False)
    if length:
        c.engine.dirty += len(argv) - 2
    return resp.integer(length)


@NODE.command(
    "rpushx",
    -3,
    Flag.WRITE | Flag.DENYOOM | Flag.FAST,
    group="list",
    since="2.2.0",
    summary="Append an element to a list, only if the list exists",
    complexity="O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
    acl=Acl.LIST,
    keys=[key_at(1, KeyFlag.RW | KeyFlag.INSERT)],
    history=(("4.0.0", "Accepts multiple `element` arguments."),),
    args=(docs.key("key", 0), docs.string("element", multiple=True)),
)
def rpushx(c: Client, argv: Argv) -> bytes:
    length = _push(c, argv[1], argv[2:], False, create=False)
    if length:
        c.engine.dirty += len(argv) - 2
    return resp.integer(length)


# --- pops --------------------------------------------------------------------------------
def _pop_command(c: Client, argv: Argv, left: bool) -> bytes:
    if len(argv) > 3:
        raise errors.wrong_arity("lpop" if left else "rpop")
    count = None
    if len(argv) == 3:
        count = int_arg(argv[2], errors.NOT_POSITIVE)
        if count < 0:
            raise CommandError(errors.NOT_POSITIVE)
    lst = _get_list(c, argv[1])
    if lst is None:
        return resp.null(c.resp) if count is None else resp.null_array(c.resp)
    if count is None:
        return resp.bulk(_pop(c, argv[1], lst, left))
    return resp.bulk_array(_pop_many(c, argv[1], lst, left, count))


_POP_ARGS = (docs.key("key", 0), docs.integer("count", optional=True, since="6.2.0"))


@NODE.command(
    "lpop",
    -2,
    Flag.WRITE | Flag.FAST,
    group="list",
    since="1.0.0",
    summary="Remove and get the first elements in a list",
    complexity="O(N) where N is the number of elements returned",
    acl=Acl.LIST,
    keys=[key_at(1, KeyFlag.RW | KeyFlag.ACCESS | KeyFlag.DELETE)],
    history=(("6.2.0", "Added the `count` argument."),),
    args=_POP_ARGS,
)
def lpop(c: Client, argv: Argv) -> bytes:
    db, engine = c.db, c.engine
    lst = db.data.get(argv[1])
    if (
        lst.__class__ is ListValue
        and len(argv) == 2
        and len(lst) > 1
        and not (db.expires or db.watched or db.tracking or engine.notify_flags)
    ):
        # A queue's pop, inlined: no count, the key stays, nothing to signal (else
        # `_pop_command`).
        value = lst.popleft()
        engine.dirty += 1
        return b"$%d\r\n%s\r\n" % (len(value), value)
    return _pop_command(c, argv, True)


@NODE.command(
    "rpop",
    -2,
    Flag.WRITE | Flag.FAST,
    group="list",
    since="1.0.0",
    summary="Remove and get the last elements in a list",
    complexity="O(N) where N is the number of elements returned",
    acl=Acl.LIST,
    keys=[key_at(1, KeyFlag.RW | KeyFlag.ACCESS | KeyFlag.DELETE)],
    history=(("6.2.0", "Added the `count` argument."),),
    args=_POP_ARGS,
)
def rpop(c: Client, argv: Argv) -> bytes:
    db, engine = c.db, c.engine
    lst = db.data.get(argv[1])
    if (
        lst.__class__ is ListValue
        and len(argv) == 2
        and len(lst) > 1
        and not (db.expires or db.watched or db.tracking or engine.notify_flags)
    ):
        # LPOP's inlined pop, at the tail.
        value = lst.pop()
        engine.dirty += 1
        return b"$%d\r\n%s\r\n" % (len(value), value)
    return _pop_command(c, argv, False)


# --- reads and edits ---------------------------------------------------------------------
@NODE.command(
    "llen",
    2,
    Flag.READONLY | Flag.FAST,
    group="list",
    since="1.0.0",
    summary="Get the length of a list",
    complexity="O(1)",
    acl=Acl.LIST,
    keys=[key_at(1, KeyFlag.RO)],
    args=(docs.key("key", 0),),
)
def llen(c: Client, argv: Argv) -> bytes:
    lst = _read_list(c, argv[1])
    return resp.integer(len(lst) if lst is not None else 0)


@NODE.command(
    "lindex",
    3,
    Flag.READONLY,
    group="list",
    since="1.0.0",
    summary="Get an element from a list by its index",
    complexity="O(N) where N is the number of elements to traverse to get to the element at index. This makes asking for the first or the last element of the list O(1).",
    acl=Acl.LIST,
    keys=[key_at(1, KeyFlag.RO | KeyFlag.ACCESS)],
    args=(docs.key("key", 0), docs.integer("index")),
)
def lindex(c: Client, argv: Argv) -> bytes:
    index = int_arg(argv[2])
    lst = _read_list(c, argv[1])
    if lst is None or not -len(lst) <= index < len(lst):
        return resp.null(c.resp)
    return resp.bulk(lst[index])


@NODE.command(
    "lset",
    4,
    Flag.WRITE | Flag.DENYOOM,
    group="list",
    since="1.0.0",
    summary="Set the value of an element in a list by its index",
    complexity="O(N) where N is the length of the list. Setting either the first or the last element of the list is O(1).",
    acl=Acl.LIST,
    keys=[key_at(1, KeyFlag.RW | KeyFlag.UPDATE)],
    args=(docs.key("key", 0), docs.integer("index"), docs.string("element")),
)
def lset(c: Client, argv: Argv) -> bytes:
    index = int_arg(argv[2])
    lst = _get_list(c, argv[1])
    if lst is None:
        raise CommandError(errors.NO_SUCH_KEY)
    if not -len(lst) <= index < len(lst):
        raise CommandError(errors.OUT_OF_RANGE)
    lst[index] = argv[3]
    c.db.touch(argv[1])
    _event(c, b"lset", argv[1])
    c.engine.dirty += 1
    return resp.OK


def _clamp_range(start: int, stop: int, length: int) -> tuple[int, int] | None:
    """Redis's LRANGE/LTRIM index rules -> inclusive (start, stop), or None if empty."""
    if start < 0:
        start = max(length + start, 0)
    if stop < 0:
        stop = length + stop
    if start > stop or start >= length:
        return None
    return start, min(stop, length - 1)


@NODE.command(
    "lrange",
    4,
    Flag.READONLY,
    group="list",
    since="1.0.0",
    summary="Get a range of elements from a list",
    complexity="O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end (HEAD or TAIL) for large lists; and N is the number of elements in the specified range.",
    acl=Acl.LIST,
    keys=[key_at(1, KeyFlag.RO | KeyFlag.ACCESS)],
    args=(docs.key("key", 0), docs.integer("start"), docs.integer("stop")),
)
def lrange(c: Client, argv: Argv) -> bytes:
    start, stop = int_arg(argv[2]), int_arg(argv[3])
    lst = _read_list(c, argv[1])
    if lst is None:
        return resp.EMPTY_ARRAY
    bounds = _clamp_range(start, stop, len(lst))
    if bounds is None:
        return resp.EMPTY_ARRAY
    first, last = bounds
    if first > len(lst) // 2:  # walk from the nearer end
        tail = itertools.islice(reversed(lst), len(lst) - 1 - last, len(lst) - first)
        items = list(tail)[::-1]
    else:
        items = list(itertools.islice(lst, first, last + 1))
    return resp.bulk_array(items)


@NODE.command(
    "ltrim",
    4,
    Flag.WRITE,
    group="list",
    since="1.0.0",
    summary="Trim a list to the specified range",
    complexity="O(N) where N is the number of elements to be removed by the operation.",
    acl=Acl.LIST,
    keys=[key_at(1, KeyFlag.RW | KeyFlag.DELETE)],
    args=(docs.key("key", 0), docs.integer("start"), docs.integer("stop")),
)
def ltrim(c: Client, argv: Argv) -> bytes:
    start, stop = int_arg(argv[2]), int_arg(argv[3])
    lst = _get_list(c, argv[1])
    if lst is None:
        return resp.OK
    bounds = _clamp_range(start, stop, len(lst))
    if bounds is None:
        removed = len(lst)
        lst.clear()
    else:
        first, last = bounds
        removed = first + (len(lst) - 1 - last)
        for _ in range(first):
            lst.popleft()
        for _ in range(len(lst) - (last - first + 1)):
            lst.pop()
    if not lst:
        c.db.delete(argv[1])
    else:
        c.db.touch(argv[1])
    _event(c, b"ltrim", argv[1])
    if not lst:
        _event(c, b"del", argv[1], notify.GENERIC)
    c.engine.dirty += removed
    return resp.OK


@NODE.command(
    "lrem",
    4,
    Flag.WRITE,
    group="list",
    since="1.0.0",
    summary="Remove elements from a list",
    complexity="O(N+M) where N is the length of the list and M is the number of elements removed.",
    acl=Acl.LIST,
    keys=[key_at(1, KeyFlag.RW | KeyFlag.DELETE)],
    args=(docs.key("key", 0), docs.integer("count"), docs.string("element")),
)
def lrem(c: Client, argv: Argv) -> bytes:
    count = int_arg(argv[2])
    element = argv[3]
    lst = _get_list(c, argv[1])
    if lst is None:
        return resp.ZERO
    limit = abs(count) or len(lst)
    source = reversed(lst) if count < 0 else iter(lst)
    kept: list[bytes] = []
    removed = 0
    for item in source:
        if removed < limit and item == element:
            removed += 1
        else:
            kept.append(item)
    if removed:
        lst.clear()
        lst.extend(reversed(kept) if count < 0 else kept)
        if not lst:
            c.db.delete(argv[1])
        else:
            c.db.touch(argv[1])
        _event(c, b"lrem", argv[1])
        if not lst:
            _event(c, b"del", argv[1], notify.GENERIC)
        c.engine.dirty += removed
    return resp.integer(removed)


@NODE.command(
    "linsert",
    5,
    Flag.WRITE | Flag.DENYOOM,
    group="list",
    since="2.2.0",
    summary="Insert an element before or after another element in a list",
    complexity="O(N) where N is the number of elements to traverse before seeing the value pivot. This means that inserting somewhere on the left end on the list (head) can be considered O(1) and inserting somewhere on the right end (tail) is O(N).",
    acl=Acl.LIST,
    keys=[key_at(1, KeyFlag.RW | KeyFlag.INSERT)],
    args=(
        docs.key("key", 0),
        docs.oneof("where", docs.token("before", "BEFORE"), docs.token("after", "AFTER")),
        docs.string("pivot"),
        docs.string("element"),
    ),
)
def linsert(c: Client, argv: Argv) -> bytes:
    where = argv[2].lower()
    if where not in (b"before", b"after"):
        raise CommandError(errors.SYNTAX)
    lst = _get_list(c, argv[1])
    if lst is None:
        return resp.ZERO
    try:
        index = lst.index(argv[3])
    except ValueError:
        return resp.MINUS_ONE
    lst.insert(index if where == b"before" else index + 1, argv[4])
    c.db.touch(argv[1])
    _event(c, b"linsert", argv[1])
    c.engine.dirty += 1
    return resp.integer(len(lst))


@NODE.command(
    "lpos",
    -3,
    Flag.READONLY,
    group="list",
    since="6.0.6",
    summary="Return the index of matching elements on a list",
    complexity="O(N) where N is the number of elements in the list, for the average case. When searching for elements near the head or the tail of the list, or when the MAXLEN option is provided, the command may run in constant time.",
    acl=Acl.LIST,
    keys=[key_at(1, KeyFlag.RO | KeyFlag.ACCESS)],
    args=(
        docs.key("key", 0),
        docs.string("element"),
        docs.integer("rank", token="RANK", optional=True),
        docs.integer("num-matches", token="COUNT", optional=True),
        docs.integer("len", token="MAXLEN", optional=True),
    ),
)
def lpos(c: Client, argv: Argv) -> bytes:
    rank, count, maxlen = 1, None, 0
    i = 3
    while i < len(argv):
        opt = argv[i].lower()
        if i + 1 >= len(argv):
            raise CommandError(errors.SYNTAX)
        if opt == b"rank":
            rank = int_arg(argv[i + 1])
            if rank == 0:
                raise CommandError(
                    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the "
                    "second ... or use negative to start from the end of the list"
                )
        elif opt == b"count":
            count = int_arg(argv[i + 1])
            if count < 0:
                raise CommandError("ERR COUNT can't be negative")
        elif opt == b"maxlen":
            maxlen = int_arg(argv[i + 1])
            if maxlen < 0:
                raise CommandError("ERR MAXLEN can't be negative")
        else:
            raise CommandError(errors.SYNTAX)
        i += 2
    lst = _read_list(c, argv[1])
    if lst is None:
        return resp.null(c.resp) if count is None else resp.EMPTY_ARRAY
    element = argv[2]
    n = len(lst)
    indexed = zip(range(n - 1, -1, -1), reversed(lst), strict=True) if rank < 0 else enumerate(lst)
    # 7.0 negates RANK in C: LLONG_MIN stays negative and then matches the first hit.
    skip = abs(rank) - 1 if rank != -(2**63) else 0
    wanted = count if count else n
    matches: list[int] = []
    for seen, (index, item) in enumerate(indexed):
        if maxlen and seen >= maxlen:
            break
        if item == element:
            if skip:
                skip -= 1
                continue
            matches.append(index)
            if len(matches) >= wanted:
                break
    if count is None:
        return resp.integer(matches[0]) if matches else resp.null(c.resp)
    return b"*%d\r\n" % len(matches) + b"".join(resp.integer(m) for m in matches)


# --- moves -------------------------------------------------------------------------------
def _move(c: Client, src: bytes, dst: bytes, from_left: bool, to_left: bool) -> bytes | None:
    """LMOVE core: the moved element, or None when the source is empty."""
    lst = _get_list(c, src)
    if lst is None:
        return None
    _get_list(c, dst)  # WRONGTYPE on the destination before anything moves
    value = lst.popleft() if from_left else lst.pop()
    emptied = not lst and src != dst
    if emptied:
        c.db.delete(src)
    else:
        c.db.touch(src)
    if src == dst:
        if to_left:
            lst.appendleft(value)
        else:
            lst.append(value)
        c.db.mark_ready(dst)
        _event(c, b"lpush" if to_left else b"rpush", dst)
    else:
        _push(c, dst, [value], to_left)
    # Redis reports the push to the destination before the pop from the source.
    _popped(c, src, from_left, emptied)
    c.engine.dirty += 1
    return value


_LMOVE_KEYS = [
    key_at(1, KeyFlag.RW | KeyFlag.ACCESS | KeyFlag.DELETE),
    key_at(2, KeyFlag.RW | KeyFlag.INSERT),
]


@NODE.command(
    "lmove",
    5,
    Flag.WRITE | Flag.DENYOOM,
    group="list",
    since="6.2.0",
    summary="Pop an element from a list, push it to another list and return it",
    complexity="O(1)",
    acl=Acl.LIST,
    keys=_LMOVE_KEYS,
    args=(
        docs.key("source", 0),
        docs.key("destination", 1),
        docs.oneof("wherefrom", *_WHERE),
        docs.oneof("whereto", *_WHERE),
    ),
)
def lmove(c: Client, argv: Argv) -> bytes:
    from_left, to_left = _where(argv[3]), _where(argv[4])
    return resp.bulk_or_null(_move(c, argv[1], argv[2], from_left, to_left), c.resp)


@NODE.command(
    "rpoplpush",
    3,
    Flag.WRITE | Flag.DENYOOM,
    group="list",
    since="1.2.0",
    summary="Remove the last element in a list, prepend it to another list and return it",
    complexity="O(1)",
    acl=Acl.LIST,
    keys=_LMOVE_KEYS,
    doc_flags=("deprecated",),
    deprecated_since="6.2.0",
    replaced_by="`LMOVE` with the `RIGHT` and `LEFT` arguments",
    args=(docs.key("source", 0), docs.key("destination", 1)),
)
def rpoplpush(c: Client, argv: Argv) -> bytes:
    return resp.bulk_or_null(_move(c, argv[1], argv[2], False, True), c.resp)


# --- LMPOP -------------------------------------------------------------------------------
def _mpop_args(argv: Argv, first: int) -> tuple[list[bytes], bool, int | None]:
    """Parse `numkeys key [key ...] LEFT|RIGHT [COUNT count]` starting at argv[first]."""
    numkeys = int_arg(argv[first], "ERR numkeys should be greater than 0")
    if numkeys <= 0:
        raise CommandError("ERR numkeys should be greater than 0")
    where_at = first + 1 + numkeys
    if numkeys > len(argv) - first - 2:
        raise CommandError(errors.SYNTAX)
    keys = argv[first + 1 : where_at]
    left = _where(argv[where_at])
    count: int | None = None
    rest = argv[where_at + 1 :]
    if rest:
        if len(rest) != 2 or rest[0].lower() != b"count":
            raise CommandError(errors.SYNTAX)
        count = int_arg(rest[1], "ERR count should be greater than 0")
        if count <= 0:
            raise CommandError("ERR count should be greater than 0")
    return keys, left, count


def _mpop(c: Client, keys: list[bytes], left: bool, count: int | None) -> bytes | None:
    for key in keys:
        lst = _get_list(c, key)
        if lst is not None:
            popped = _pop_many(c, key, lst, left, count or 1)
            # Propagated as the pop it was, with the number of elements it took.
            c.engine.propagate_as(c, [[b"LPOP" if left else b"RPOP", key, b"%d" % len(popped)]])
            return b"*2\r\n" + resp.bulk(key) + resp.bulk_array(popped)
    return None


_MPOP_ARGS = (
    docs.integer("numkeys"),
    docs.key("key", 0, multiple=True),
    docs.oneof("where", *_WHERE),
    docs.integer("count", token="COUNT", optional=True),
)


@NODE.command(
    "lmpop",
    -4,
    Flag.WRITE,
    group="list",
    since="7.0.0",
    summary="Pop elements from a list",
    complexity="O(N+M) where N is the number of provided keys and M is the number of elements returned.",
    acl=Acl.LIST,
    keys=[keys_by_count(1, KeyFlag.RW | KeyFlag.ACCESS | KeyFlag.DELETE)],
    args=_MPOP_ARGS,
)
def lmpop(c: Client, argv: Argv) -> bytes:
    keys, left, count = _mpop_args(argv, 1)
    reply = _mpop(c, keys, left, count)
    return reply if reply is not None else resp.null_array(c.resp)


# --- blocking ----------------------------------------------------------------------------
def _blocking_pop(c: Client, argv: Argv, left: bool) -> bytes | Block:
    deadline = timeout_to_deadline(argv[-1], c.engine.now_ms)
    keys = argv[1:-1]
    for key in keys:
        lst = _get_list(c, key)
        if lst is not None:
            value = _pop(c, key, lst, left)
            c.engine.propagate_as(c, [[b"LPOP" if left else b"RPOP", key]])
            return b"*2\r\n" + resp.bulk(key) + resp.bulk(value)
    return Block(tuple(keys), deadline, resp.null_array(c.resp))


_BPOP_ARGS = (docs.key("key", 0, multiple=True), docs.double("timeout"))
_BPOP_HISTORY = (("6.0.0", "`timeout` is interpreted as a double instead of an integer."),)


@NODE.command(
    "blpop",
    -3,
    Flag.WRITE | Flag.NOSCRIPT | Flag.BLOCKING,
    group="list",
    since="2.0.0",
    summary="Remove and get the first element in a list, or block until one is available",
    complexity="O(N) where N is the number of provided keys.",
    acl=Acl.LIST,
    keys=[key_at(1, KeyFlag.RW | KeyFlag.ACCESS | KeyFlag.DELETE, lastkey=-2)],
    history=_BPOP_HISTORY,
    args=_BPOP_ARGS,
)
def blpop(c: Client, argv: Argv) -> bytes | Block:
    return _blocking_pop(c, argv, True)


@NODE.command(
    "brpop",
    -3,
    Flag.WRITE | Flag.NOSCRIPT | Flag.BLOCKING,
    group="list",
    since="2.0.0",
    summary="Remove and get the last element in a list, or block until one is available",
    complexity="O(N) where N is the number of provided keys.",
    acl=Acl.LIST,
    keys=[key_at(1, KeyFlag.RW | KeyFlag.ACCESS | KeyFlag.DELETE, lastkey=-2)],
    history=_BPOP_HISTORY,
    args=_BPOP_ARGS,
)
def brpop(c: Client, argv: Argv) -> bytes | Block:
    return _blocking_pop(c, argv, False)


def _blocking_move(
    c: Client,
    src: bytes,
    dst: bytes,
    from_left: bool,
    to_left: bool,
    timeout: bytes,
    argv_where: list[bytes],
) -> bytes | Block:
    """BLMOVE (`argv_where`: its two direction words) and BRPOPLPUSH (none)."""
    deadline = timeout_to_deadline(timeout, c.engine.now_ms)
    value = _move(c, src, dst, from_left, to_left)
    if value is not None:
        # Propagated as the plain move, served at once or after blocking.
        c.engine.propagate_as(
            c, [[b"LMOVE", src, dst, *argv_where] if argv_where else [b"RPOPLPUSH", src, dst]]
        )
        return resp.bulk(value)
    if c.engine.no_blocking:
        return resp.null(c.resp)  # inside MULTI Redis answers a null bulk, not an array
    return Block((src,), deadline, resp.null_array(c.resp))


@NODE.command(
    "blmove",
    6,
    Flag.WRITE | Flag.DENYOOM | Flag.NOSCRIPT | Flag.BLOCKING,
    group="list",
    since="6.2.0",
    summary="Pop an element from a list, push it to another list and return it; or block until one is available",
    complexity="O(1)",
    acl=Acl.LIST,
    keys=_LMOVE_KEYS,
    args=(
        docs.key("source", 0),
        docs.key("destination", 1),
        docs.oneof("wherefrom", *_WHERE),
        docs.oneof("whereto", *_WHERE),
        docs.double("timeout"),
    ),
)
def blmove(c: Client, argv: Argv) -> bytes | Block:
    from_left, to_left = _where(argv[3]), _where(argv[4])
    return _blocking_move(c, argv[1], argv[2], from_left, to_left, argv[5], argv[3:5])


@NODE.command(
    "brpoplpush",
    4,
    Flag.WRITE | Flag.DENYOOM | Flag.NOSCRIPT | Flag.BLOCKING,
    group="list",
    since="2.2.0",
    summary="Pop an element from a list, push it to another list and return it; or block until one is available",
    complexity="O(1)",
    acl=Acl.LIST,
    keys=_LMOVE_KEYS,
    history=_BPOP_HISTORY,
    doc_flags=("deprecated",),
    deprecated_since="6.2.0",
    replaced_by="`BLMOVE` with the `RIGHT` and `LEFT` arguments",
    args=(docs.key("source", 0), docs.key("destination", 1), docs.double("timeout")),
)
def brpoplpush(c: Client, argv: Argv) -> bytes | Block:
    return _blocking_move(c, argv[1], argv[2], False, True, argv[3], [])


@NODE.command(
    "blmpop",
    -5,
    Flag.WRITE | Flag.BLOCKING,
    group="list",
    since="7.0.0",
    summary="Pop elements from a list, or block until one is available",
    complexity="O(N+M) where N is the number of provided keys and M is the number of elements returned.",
    acl=Acl.LIST,
    keys=[keys_by_count(2, KeyFlag.RW | KeyFlag.ACCESS | KeyFlag.DELETE)],
    args=(docs.double("timeout"), *_MPOP_ARGS),
)
def blmpop(c: Client, argv: Argv) -> bytes | Block:
    deadline = timeout_to_deadline(argv[1], c.engine.now_ms)
    keys, left, count = _mpop_args(argv, 2)
    reply = _mpop(c, keys, left, count)
    if reply is not None:
        return reply
    return Block(tuple(keys), deadline, resp.null_array(c.resp))
