"""Stream commands (Redis's t_stream.c): XADD, XTRIM, XLEN, XRANGE, XREVRANGE, XDEL, XSETID,
and the reads XREAD and XREADGROUP, which block through the engine's Block machinery (see
node/engine/blocking.py). Consumer-group administration and XINFO are in stream_groups.py.

Rules:
- Arguments are checked in Redis's order, so the first error reported is Redis's.
- Unlike other types a stream may stay empty (XDEL/XTRIM of every entry keeps the key).
- `*` IDs come from the engine clock and never go backwards; idle and delivery times too.
- XADD marks the key ready; a blocked XREAD/XREADGROUP re-run (`client.blocked` set) serves
  like Redis's blocked-client path: one stream per reply, entries after the ID it waited
  on as soon as the stream's last ID passes it, at most COUNT (1000 without COUNT).
  A blocked XREADGROUP whose key or group went away gets Redis 7.0's UNBLOCKED/NOGROUP
  errors.
Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from node.commands import docs
from node.commands._args import int_arg, option, timeout_to_deadline
from node.commands._streams import (
    entry_reply,
    get_stream,
    id_reply,
    parse_end,
    parse_id,
    parse_start,
    parse_xadd_id,
    read_stream,
    stream_event,
)
from node.commands.registry import Acl, Flag, KeyFlag, key_at, keys_by_keyword
from node.commands.table import NODE
from node.engine import notify
from node.engine.blocking import Block
from node.engine.session import AOF_CLIENT_ID, Client
from node.engine.types.stream import MAX_ID, SEQ_MASK, Group, Stream, format_id
from node.proto import errors, resp
from node.proto.errors import CommandError

Argv = list[bytes]

_BLOCKED_DEFAULT_COUNT: Final = 1000  # XREAD_BLOCKED_DEFAULT_COUNT
_GT: Final = MAX_ID  # how Redis marks `>` among the IDs (a literal max ID means the same)


def _cstr(raw: bytes) -> bytes:
    """An argument as C's strcmp sees it."""
    return raw.split(b"\0", 1)[0]


def _changed(c: Client, key: bytes) -> None:
    """An existing stream changed in place: WATCH and blocked readers hear of it."""
    c.db.touch(key)
    c.db.mark_ready(key)


# --- XADD / XTRIM -----------------------------------------------------------------------
@dataclass(slots=True)
class _AddTrimArgs:
    """Redis's streamAddTrimArgs."""

    maxlen: int | None = None  # MAXLEN strategy when set
    minid: int | None = None  # MINID strategy when set
    approx: bool = False
    limit: int = 0
    no_mkstream: bool = False
    id: int = 0
    id_given: bool = False
    seq_given: bool = True
    idpos: int = 0
    trim_at: int = 0  # where the MAXLEN/MINID threshold is in argv

    @property
    def trims(self) -> bool:
        return self.maxlen is not None or self.minid is not None


def _parse_add_trim(c: Client, argv: Argv, xadd: bool) -> _AddTrimArgs:
    """streamParseAddOrTrimArgsOrReply: the options, and for XADD where the ID is."""
    args = _AddTrimArgs()
    limit_given = False
    argc = len(argv)
    i = 2
    while i < argc:
        more = argc - 1 - i
        opt = option(argv[i])
        if xadd and opt == b"*":
            break
        if opt in (b"MAXLEN", b"MINID") and more:
            if args.trims:
                raise CommandError(errors.TRIM_BOTH)
            args.approx = False
            nxt = _cstr(argv[i + 1])
            if more >= 2 and nxt in (b"~", b"="):
                args.approx = nxt == b"~"
                i += 1
            args.trim_at = i + 1
            if opt == b"MAXLEN":
                args.maxlen = int_arg(argv[i + 1])
                if args.maxlen < 0:
                    raise CommandError(errors.TRIM_MAXLEN_NEGATIVE)
            else:
                args.minid = parse_id(argv[i + 1])
            i += 1
        elif opt == b"LIMIT" and more:
            args.limit = int_arg(argv[i + 1])
            if args.limit < 0:
                raise CommandError(errors.TRIM_LIMIT_NEGATIVE)
            limit_given = True
            i += 1
        elif xadd and opt == b"NOMKSTREAM":
            args.no_mkstream = True
        elif xadd:
            args.id, args.seq_given = parse_xadd_id(argv[i])
            args.id_given = True
            break
        else:
            raise CommandError(errors.SYNTAX)
        i += 1
    args.idpos = i
    if args.limit and not args.trims:
        raise CommandError(errors.TRIM_LIMIT_NO_STRATEGY)
    if not xadd and not args.trims:
        raise CommandError(errors.XTRIM_NO_STRATEGY)
    if limit_given:
        if not args.approx:
            # What an approximate trim propagates as: exact, LIMIT kept (from the AOF only).
            if c.id != AOF_CLIENT_ID:
                raise CommandError(errors.TRIM_LIMIT_NO_APPROX)
            args.limit = 0
    elif args.approx:
        # Approximate trimming does bounded work: 100 nodes' worth unless LIMIT says.
        limit = 100 * c.engine.config.int("stream-node-max-entries")
        args.limit = 10000 if limit <= 0 else min(limit, 1000000)
    else:
        args.limit = 0
    return args


def _trim(stream: Stream, args: _AddTrimArgs) -> int:
    return stream.trim(args.maxlen, args.minid or 0, args.approx, args.limit)


def _exact_trim(argv: Argv, args: _AddTrimArgs, stream: Stream) -> Argv:
    """streamRewriteApproxSpecifier + streamRewriteTrimArgument: an approximate trim
    propagates as the exact one it turned out to be (`=` and the length or first ID
    left), so replicas and the AOF trim exactly the same entries."""
    out = list(argv)
    out[args.trim_at - 1] = b"="
    if args.maxlen is not None:
        out[args.trim_at] = b"%d" % stream.length
    else:  # the first ID left; an emptied stream's edge is the largest ID (streamGetEdgeID)
        out[args.trim_at] = format_id(stream.first_valid_id() if stream.length else MAX_ID)
    return out


def _new_id(c: Client, stream: Stream, args: _AddTrimArgs) -> int:
    """The ID XADD assigns (streamAppendItem's choice and check)."""
    last = stream.last_id
    if not args.id_given:
        sid = stream.next_id(c.engine.now_ms)
    elif args.seq_given:
        sid = args.id
    elif last >> 64 == args.id >> 64:
        if last & SEQ_MASK == SEQ_MASK:
            raise CommandError(errors.XADD_ID_TOO_SMALL)
        sid = last + 1
    else:
        sid = args.id
    if sid <= last:
        raise CommandError(errors.XADD_ID_TOO_SMALL)
    return sid


_TRIM_ARG: Final = docs.block(
    "trim",
    docs.oneof(
        "strategy", docs.token("maxlen", "MAXLEN"), docs.token("minid", "MINID", since="6.2.0")
    ),
    docs.oneof(
        "operator", docs.token("equal", "="), docs.token("approximately", "~"), optional=True
    ),
    docs.string("threshold"),
    docs.integer("count", token="LIMIT", optional=True, since="6.2.0"),
)


# The text of the sequence numbers IDs usually have.
_SMALL_INTS: Final = tuple(b"%d" % n for n in range(1024))


@NODE.command(
    "xadd",
    -5,
    Flag.WRITE | Flag.DENYOOM | Flag.FAST,
    group="stream",
    since="5.0.0",
    summary="Appends a new entry to a stream",
    complexity="O(1) when adding a new entry, O(N) when trimming where N being the number of entries evicted.",
    acl=Acl.STREAM,
    keys=[
        key_at(
            1,
            KeyFlag.RW | KeyFlag.UPDATE,
            notes="UPDATE instead of INSERT because of the optional trimming feature",
        )
    ],
    tips=("nondeterministic_output",),
    history=(
        (
            "6.2.0",
            "Added the `NOMKSTREAM` option, `MINID` trimming strategy and the `LIMIT` option.",
        ),
        ("7.0.0", "Added support for the `<ms>-*` explicit ID form."),
    ),
    args=(
        docs.key("key", 0),
        docs.token("nomkstream", "NOMKSTREAM", optional=True, since="6.2.0"),
        docs.block("trim", *_TRIM_ARG.children, optional=True),
        docs.oneof("id_or_auto", docs.token("auto_id", "*"), docs.string("id")),
        docs.block("field_value", docs.string("field"), docs.string("value"), multiple=True),
    ),
)
def xadd(c: Client, argv: Argv) -> bytes:
    if argv[2] != b"*":
        return _xadd(c, argv, _parse_add_trim(c, argv, xadd=True))
    # The common `XADD key * field value ...` in few steps: no options, the next ID.
    if not len(argv) & 1:
        raise errors.wrong_arity("xadd")
    key, db = argv[1], c.db
    stream = db.lookup(key) if db.expires else db.data.get(key)
    created = stream is None
    if stream is None:
        stream = Stream()
        db.set_value(key, stream)
    elif type(stream) is not Stream:  # compiled: a pointer test, not an attribute lookup
        raise CommandError(errors.WRONGTYPE)
    # Stream.next_id on the ID's two parts (no 128-bit ints), MAX_ID refused. A copy on
    # purpose: a shared Stream method returning the two parts measured 70-100 more
    # instructions per XADD (tests/bench/instructions.sh 16 xadd, compiled).
    last_ms, last_seq = stream.last_ms, stream.last_seq
    now = db.keyspace.now_ms
    if now > last_ms:
        ms, seq = now, 0
    else:
        ms, seq = last_ms, last_seq + 1
        if seq >> 64:  # the sequence wrapped: the next ms, if there is one
            if ms == SEQ_MASK:
                raise CommandError(errors.XADD_EXHAUSTED)
            ms, seq = ms + 1, 0
    engine = c.engine
    if not stream.append(
        ms, seq, argv, 3, engine.limits.stream_node_max_entries, engine.limits.stream_node_max_bytes
    ):
        raise CommandError(errors.XADD_TOO_LARGE)
    engine.dirty += 1
    if engine.notify_flags:
        engine.notify(notify.STREAM, b"xadd", key, db.index)
    if not created:
        # What `_changed` does, signalling only when something listens (as set_value does).
        if db.watched or db.tracking:
            db.touch(key)
        if db.blocking:
            db.mark_ready(key)
    # The ID's text: int-to-text costs ~300 instructions compiled, and the XADDs of one
    # millisecond share the `<ms>-` part.
    cached_ms, head = engine.stream_ms_text
    if cached_ms != ms:
        head = b"%d-" % ms
        engine.stream_ms_text = (ms, head)
    text = head + (_SMALL_INTS[seq] if seq < 1024 else b"%d" % seq)
    if engine.propagating:
        out = list(argv)  # propagated with the ID it got
        out[2] = text
        engine.propagate_as(c, [out])
    return b"".join((resp.BULK_HEADERS[len(text)], text, b"\r\n"))  # an ID's text is short


def _xadd(c: Client, argv: Argv, args: _AddTrimArgs) -> bytes:
    """XADD with options or an explicit ID."""
    fields_at = args.idpos + 1
    nfields = len(argv) - fields_at
    if nfields < 2 or nfields % 2:
        raise errors.wrong_arity("xadd")
    if args.id_given and args.seq_given and args.id == 0:
        raise CommandError(errors.XADD_ID_ZERO)
    key = argv[1]
    stream = get_stream(c, key)
    created = stream is None
    if stream is None:
        if args.no_mkstream:
            return resp.null(c.resp)
        stream = Stream()
        c.db.set_value(key, stream)
    if stream.last_id == MAX_ID:
        raise CommandError(errors.XADD_EXHAUSTED)
    sid = _new_id(c, stream, args)
    engine = c.engine
    if not stream.append(
        sid >> 64,
        sid & SEQ_MASK,
        argv,
        fields_at,
        engine.limits.stream_node_max_entries,
        engine.limits.stream_node_max_bytes,
    ):
        raise CommandError(errors.XADD_TOO_LARGE)
    c.engine.dirty += 1
    stream_event(c, b"xadd", key)
    if args.trims and _trim(stream, args):
        stream_event(c, b"xtrim", key)
    if not created:
        _changed(c, key)
    if c.engine.propagating and (not args.id_given or not args.seq_given or args.approx):
        # Propagated with the ID it got, and an approximate trim made exact.
        out = _exact_trim(argv, args, stream) if args.approx else list(argv)
        if not args.id_given or not args.seq_given:
            out[args.idpos] = format_id(sid)
        c.engine.propagate_as(c, [out])
    return id_reply(sid)


@NODE.command(
    "xtrim",
    -4,
    Flag.WRITE,
    group="stream",
    since="5.0.0",
    summary="Trims the stream to (approximately if '~' is passed) a certain size",
    complexity="O(N), with N being the number of evicted entries. Constant times are very small however, since entries are organized in macro nodes containing multiple entries that can be released with a single deallocation.",
    acl=Acl.STREAM,
    keys=[key_at(1, KeyFlag.RW | KeyFlag.DELETE)],
    tips=("nondeterministic_output",),
    history=(("6.2.0", "Added the `MINID` trimming strategy and the `LIMIT` option."),),
    args=(docs.key("key", 0), _TRIM_ARG),
)
def xtrim(c: Client, argv: Argv) -> bytes:
    args = _parse_add_trim(c, argv, xadd=False)
    stream = get_stream(c, argv[1])
    if stream is None:
        return resp.ZERO
    deleted = _trim(stream, args)
    if deleted:
        c.db.touch(argv[1])
        stream_event(c, b"xtrim", argv[1])
        c.engine.dirty += deleted
        if args.approx:
            c.engine.propagate_as(c, [_exact_trim(argv, args, stream)])
    return resp.integer(deleted)


# --- XLEN, XRANGE, XREVRANGE, XDEL ------------------------------------------------------
@NODE.command(
    "xlen",
    2,
    Flag.READONLY | Flag.FAST,
    group="stream",
    since="5.0.0",
    summary="Return the number of entries in a stream",
    complexity="O(1)",
    acl=Acl.STREAM,
    keys=[key_at(1, KeyFlag.RO)],
    args=(docs.key("key", 0),),
)
def xlen(c: Client, argv: Argv) -> bytes:
    stream = read_stream(c, argv[1])
    return resp.integer(stream.length if stream is not None else 0)


def _range_command(c: Client, argv: Argv, rev: bool) -> bytes:
    start = parse_start(argv[3] if rev else argv[2])
    end = parse_end(argv[2] if rev else argv[3])
    count = -1
    j = 4
    while j < len(argv):
        if option(argv[j]) == b"COUNT" and j + 1 < len(argv):
            count = max(int_arg(argv[j + 1]), 0)
            j += 2
        else:
            raise CommandError(errors.SYNTAX)
    stream = read_stream(c, argv[1])
    if stream is None:
        return resp.EMPTY_ARRAY
    if count == 0:
        return resp.null_array(c.resp)
    parts = []
    for sid, flat in stream.range(start, end, rev):
        parts.append(entry_reply(sid, flat))
        if len(parts) == count:
            break
    return resp.array_header(len(parts)) + b"".join(parts)


_RANGE_HISTORY: Final = (("6.2.0", "Added exclusive ranges."),)


@NODE.command(
    "xrange",
    -4,
    Flag.READONLY,
    group="stream",
    since="5.0.0",
    summary="Return a range of elements in a stream, with IDs matching the specified IDs interval",
    complexity="O(N) with N being the number of elements being returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).",
    acl=Acl.STREAM,
    keys=[key_at(1, KeyFlag.RO | KeyFlag.ACCESS)],
    history=_RANGE_HISTORY,
    args=(
        docs.key("key", 0),
        docs.string("start"),
        docs.string("end"),
        docs.integer("count", token="COUNT", optional=True),
    ),
)
def xrange(c: Client, argv: Argv) -> bytes:
    return _range_command(c, argv, rev=False)


@NODE.command(
    "xrevrange",
    -4,
    Flag.READONLY,
    group="stream",
    since="5.0.0",
    summary="Return a range of elements in a stream, with IDs matching the specified IDs interval, in reverse order (from greater to smaller IDs) compared to XRANGE",
    complexity="O(N) with N being the number of elements returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).",
    acl=Acl.STREAM,
    keys=[key_at(1, KeyFlag.RO | KeyFlag.ACCESS)],
    history=_RANGE_HISTORY,
    args=(
        docs.key("key", 0),
        docs.string("end"),
        docs.string("start"),
        docs.integer("count", token="COUNT", optional=True),
    ),
)
def xrevrange(c: Client, argv: Argv) -> bytes:
    return _range_command(c, argv, rev=True)


@NODE.command(
    "xdel",
    -3,
    Flag.WRITE | Flag.FAST,
    group="stream",
    since="5.0.0",
    summary="Removes the specified entries from the stream. Returns the number of items actually deleted, that may be different from the number of IDs passed in case certain IDs do not exist.",
    complexity="O(1) for each single item to delete in the stream, regardless of the stream size.",
    acl=Acl.STREAM,
    keys=[key_at(1, KeyFlag.RW | KeyFlag.DELETE)],
    args=(docs.key("key", 0), docs.string("id", multiple=True)),
)
def xdel(c: Client, argv: Argv) -> bytes:
    stream = get_stream(c, argv[1])
    if stream is None:
        return resp.ZERO
    ids = [parse_id(raw) for raw in argv[2:]]  # all or nothing: check them all first
    deleted = 0
    first_gone = False
    for sid in ids:
        if stream.delete(sid):
            first_gone = first_gone or sid == stream.first_id
            stream.max_deleted = max(stream.max_deleted, sid)
            deleted += 1
    if deleted:
        stream.after_deletes(first_gone)
        c.db.touch(argv[1])
        stream_event(c, b"xdel", argv[1])
        c.engine.dirty += deleted
    return resp.integer(deleted)


# --- XSETID -----------------------------------------------------------------------------
@NODE.command(
    "xsetid",
    -3,
    Flag.WRITE | Flag.DENYOOM | Flag.FAST,
    group="stream",
    since="5.0.0",
    summary="An internal command for replicating stream values",
    complexity="O(1)",
    acl=Acl.STREAM,
    keys=[key_at(1, KeyFlag.RW | KeyFlag.UPDATE)],
    history=(("7.0.0", "Added the `entries_added` and `max_deleted_entry_id` arguments."),),
    args=(
        docs.key("key", 0),
        docs.string("last-id"),
        docs.integer("entries_added", token="ENTRIESADDED", optional=True, since="7.0.0"),
        docs.string("max_deleted_entry_id", token="MAXDELETEDID", optional=True, since="7.0.0"),
    ),
)
def xsetid(c: Client, argv: Argv) -> bytes:
    sid = parse_id(argv[2])
    entries_added = -1
    max_deleted = 0
    i = 3
    while i < len(argv):
        opt = option(argv[i])
        if opt == b"ENTRIESADDED" and i + 1 < len(argv):
            entries_added = int_arg(argv[i + 1])
            if entries_added < 0:
                raise CommandError(errors.XSETID_ENTRIES_ADDED)
        elif opt == b"MAXDELETEDID" and i + 1 < len(argv):
            max_deleted = parse_id(argv[i + 1])
            if sid < max_deleted:
                raise CommandError(errors.XSETID_BELOW_MAX_DELETED)
        else:
            raise CommandError(errors.SYNTAX)
        i += 2
    stream = get_stream(c, argv[1])
    if stream is None:
        raise CommandError(errors.NO_SUCH_KEY)
    if stream.length:
        if sid < stream.last_valid_id():
            raise CommandError(errors.XSETID_BELOW_TOP)
        if entries_added != -1 and stream.length > entries_added:
            raise CommandError(errors.XSETID_BELOW_LENGTH)
    stream.last_id = sid
    if entries_added != -1:
        stream.entries_added = entries_added
    if max_deleted:
        stream.max_deleted = max_deleted
    c.engine.dirty += 1  # no WATCH invalidation: 7.0 does not signal XSETID
    stream_event(c, b"xsetid", argv[1])
    return resp.OK


# --- XREAD / XREADGROUP -----------------------------------------------------------------
@dataclass(slots=True)
class _ReadArgs:
    keys: list[bytes]
    ids: list[int]
    count: int
    deadline: int | None  # None without BLOCK
    group: bytes | None
    consumer: bytes
    noack: bool
    streams_at: int


def _parse_read(c: Client, argv: Argv, grouped: bool) -> _ReadArgs:
    """xreadCommand's option loop (the IDs are resolved later, against the keys)."""
    argc = len(argv)
    deadline: int | None = None
    count = 0
    streams_at = 0
    group: bytes | None = None
    consumer = b""
    noack = False
    i = 1
    while i < argc:
        more = argc - i - 1
        opt = option(argv[i])
        if opt == b"BLOCK" and more:
            if c.engine.scripting.is_script_client(c):  # refused outright, not run unblocked
                raise CommandError(
                    f"ERR {_text(argv[0])} command is not allowed with BLOCK option from scripts"
                )
            i += 1
            deadline = timeout_to_deadline(argv[i], c.engine.now_ms, seconds=False)
        elif opt == b"COUNT" and more:
            i += 1
            count = max(int_arg(argv[i]), 0)
        elif opt == b"STREAMS" and more:
            streams_at = i + 1
            if (argc - streams_at) % 2:
                raise CommandError(errors.XREAD_UNBALANCED)
            break
        elif opt == b"GROUP" and more >= 2:
            if not grouped:
                raise CommandError(errors.XREAD_GROUP_OPTION)
            group, consumer = argv[i + 1], argv[i + 2]
            i += 2
        elif opt == b"NOACK":
            if not grouped:
                raise CommandError(errors.XREAD_NOACK_OPTION)
            noack = True
        else:
            raise CommandError(errors.SYNTAX)
        i += 1
    if not streams_at:
        raise CommandError(errors.SYNTAX)
    if grouped and group is None:
        raise CommandError(errors.XREADGROUP_MISSING_GROUP)
    half = (argc - streams_at) // 2
    return _ReadArgs(
        argv[streams_at : streams_at + half],
        [],
        count,
        deadline,
        group,
        consumer,
        noack,
        streams_at,
    )


def _resolve_ids(c: Client, argv: Argv, args: _ReadArgs) -> list[Group]:
    """Check every key and ID in order, as Redis does; fills args.ids, returns the groups
    (XREADGROUP)."""
    groups: list[Group] = []
    n = len(args.keys)
    for k, key in enumerate(args.keys):
        raw = argv[args.streams_at + n + k]
        stream = read_stream(c, key)
        if args.group is not None:
            group = stream.groups.get(args.group) if stream is not None else None
            if stream is None or group is None:
                raise CommandError(errors.XREADGROUP_NOGROUP.format(_text(key), _text(args.group)))
            groups.append(group)
        text = _cstr(raw)
        if text == b"$":
            if args.group is not None:
                raise CommandError(errors.XREADGROUP_DOLLAR_ID)
            args.ids.append(stream.last_id if stream is not None else 0)
        elif text == b">":
            if args.group is None:
                raise CommandError(errors.XREAD_GT_ID)
            args.ids.append(_GT)
        else:
            args.ids.append(parse_id(raw))
    return groups


def _text(raw: bytes) -> str:
    return _cstr(raw).decode("utf-8", "replace")


def _streams_reply(c: Client, served: list[tuple[bytes, bytes]]) -> bytes:
    """The top-level reply: key -> entries, an array of pairs in RESP2, a map in RESP3."""
    if c.resp == 3:
        head = resp.map_header(len(served), 3)
        return head + b"".join(resp.bulk(key) + body for key, body in served)
    head = resp.array_header(len(served))
    return head + b"".join(b"*2\r\n" + resp.bulk(key) + body for key, body in served)


def _consumer(c: Client, key: bytes, group: Group, name: bytes) -> None:
    """Look the consumer up (refreshing its seen time) or create it."""
    consumer = group.consumers.get(name)
    if consumer is None:
        group.create_consumer(name, c.engine.now_ms)
        stream_event(c, b"xgroup-createconsumer", key)
        c.engine.dirty += 1
    else:
        consumer.seen_time = c.engine.now_ms


def _read_new(
    c: Client,
    stream: Stream,
    after: int,
    count: int,
    group: Group | None = None,
    consumer: bytes = b"",
    noack: bool = False,
) -> bytes:
    """streamReplyWithRange from `after` (exclusive): the entries array; with a group, each
    entry is delivered to the consumer (its PEL, unless NOACK) and moves the group on."""
    start = (after + 1) & MAX_ID  # a max ID wraps to 0-0, as streamIncrID leaves it
    now = c.engine.now_ms
    parts = []
    owner = group.consumers[consumer] if group is not None else None
    for sid, flat in stream.range(start, MAX_ID):
        if group is not None and owner is not None:
            if sid > group.last_id:
                stream.advance_group(group, sid)
            if not noack:
                group.deliver(sid, owner, now)
        parts.append(entry_reply(sid, flat))
        if len(parts) == count:
            break
    return resp.array_header(len(parts)) + b"".join(parts)


def _read_history(
    c: Client, stream: Stream, after: int, count: int, group: Group, consumer: bytes
) -> bytes:
    """The consumer's own pending entries after `after`; deleted ones come as [id, nil]."""
    start = (after + 1) & MAX_ID
    now = c.engine.now_ms
    parts: list[bytes] = []
    for sid in group.consumers[consumer].pel.irange(start):
        if count and len(parts) == count:
            break
        flat = stream.get(sid)
        if flat is None:
            parts.append(b"*2\r\n" + id_reply(sid) + resp.null_array(c.resp))
            continue
        nack = group.pel[sid]
        nack.delivery_time = now
        nack.delivery_count += 1
        parts.append(entry_reply(sid, flat))
    return resp.array_header(len(parts)) + b"".join(parts)


def _serve_now(c: Client, args: _ReadArgs, groups: list[Group]) -> list[tuple[bytes, bytes]]:
    """The streams XREAD/XREADGROUP can answer without blocking, with their entries."""
    served = []
    for k, key in enumerate(args.keys):
        stream = read_stream(c, key)
        if stream is None:
            continue
        after = args.ids[k]
        if args.group is None:
            if stream.length and stream.last_valid_id() > after:
                served.append((key, _read_new(c, stream, after, args.count)))
            continue
        group = groups[k]
        if after != _GT:
            _consumer(c, key, group, args.consumer)
            body = _read_history(c, stream, after, args.count, group, args.consumer)
        elif stream.length and stream.last_valid_id() > group.last_id:
            _consumer(c, key, group, args.consumer)
            body = _read_new(c, stream, group.last_id, args.count, group, args.consumer, args.noack)
        else:
            continue
        c.engine.dirty += 1
        served.append((key, body))
    return served


def _serve_blocked(c: Client, args: _ReadArgs) -> bytes | None:
    """A parked XREAD/XREADGROUP re-run, served like Redis's serveClientsBlockedOnStreamKey:
    from the key that became ready (its first mention), once that stream's last ID passed
    the one waited on; None to keep waiting."""
    state = c.blocked
    woken = state.woken_by if state is not None else None
    count = args.count or _BLOCKED_DEFAULT_COUNT
    for k, key in enumerate(args.keys):
        if woken is not None and key != woken:
            continue
        stream = c.db.lookup(key)
        if args.group is None:
            if isinstance(stream, Stream) and stream.last_id > args.ids[k]:
                return _streams_reply(c, [(key, _read_new(c, stream, args.ids[k], count))])
        else:
            if not isinstance(stream, Stream):
                raise CommandError(errors.XREADGROUP_KEY_GONE)
            group = stream.groups.get(args.group)
            if group is None:
                raise CommandError(errors.XREADGROUP_GROUP_GONE)
            if stream.last_id > group.last_id:
                _consumer(c, key, group, args.consumer)
                body = _read_new(c, stream, group.last_id, count, group, args.consumer, args.noack)
                return _streams_reply(c, [(key, body)])
        if woken is not None:
            break
    return None


def _block(c: Client, argv: Argv, args: _ReadArgs, deadline: int) -> Block:
    """Park the client; `$` becomes the concrete ID it stood for, so a re-run waits for
    entries after it."""
    retry = list(argv)
    n = len(args.keys)
    for k in range(n):
        pos = args.streams_at + n + k
        if _cstr(argv[pos]) == b"$":
            retry[pos] = format_id(args.ids[k])
    return Block(
        tuple(args.keys),
        deadline,
        resp.null_array(c.resp),
        retry,
        wake_on_delete=args.group is not None,
    )


def _xread(c: Client, argv: Argv, grouped: bool) -> bytes | Block:
    args = _parse_read(c, argv, grouped)
    if c.blocked is not None:  # a re-run of this parked command
        if grouped:
            args.ids = [_GT] * len(args.keys)  # a parked XREADGROUP only ever waits on >
        else:
            n = len(args.keys)
            args.ids = [parse_id(raw) for raw in argv[args.streams_at + n :]]
        reply = _serve_blocked(c, args)
        return reply if reply is not None else c.blocked.block
    groups = _resolve_ids(c, argv, args)
    served = _serve_now(c, args, groups)
    if served:
        return _streams_reply(c, served)
    if args.deadline is not None:
        return _block(c, argv, args, args.deadline)
    return resp.null_array(c.resp)


_STREAMS_ARG: Final = docs.block(
    "streams", docs.key("key", 0, multiple=True), docs.string("id", multiple=True), token="STREAMS"
)


@NODE.command(
    "xread",
    -4,
    Flag.READONLY | Flag.BLOCKING,
    group="stream",
    since="5.0.0",
    summary="Return never seen elements in multiple streams, with IDs greater than the ones reported by the caller for each stream. Can block.",
    complexity="For each stream mentioned: O(N) with N being the number of elements being returned, it means that XREAD-ing with a fixed COUNT is O(1). Note that when the BLOCK option is used, XADD will pay O(M) time in order to serve the M clients blocked on the stream getting new data.",
    acl=Acl.STREAM,
    keys=[keys_by_keyword(b"STREAMS", 1, KeyFlag.RO | KeyFlag.ACCESS, lastkey=-1, step=1, limit=2)],
    args=(
        docs.integer("count", token="COUNT", optional=True),
        docs.integer("milliseconds", token="BLOCK", optional=True),
        _STREAMS_ARG,
    ),
)
def xread(c: Client, argv: Argv) -> bytes | Block:
    return _xread(c, argv, grouped=False)


@NODE.command(
    "xreadgroup",
    -7,
    Flag.WRITE | Flag.BLOCKING,
    group="stream",
    since="5.0.0",
    summary="Return new entries from a stream using a consumer group, or access the history of the pending entries for a given consumer. Can block.",
    complexity="For each stream mentioned: O(M) with M being the number of elements returned. If M is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1). On the other side when XREADGROUP blocks, XADD will pay the O(N) time in order to serve the N clients blocked on the stream getting new data.",
    acl=Acl.STREAM,
    keys=[keys_by_keyword(b"STREAMS", 4, KeyFlag.RO | KeyFlag.ACCESS, lastkey=-1, step=1, limit=2)],
    args=(
        docs.block("group_consumer", docs.string("group"), docs.string("consumer"), token="GROUP"),
        docs.integer("count", token="COUNT", optional=True),
        docs.integer("milliseconds", token="BLOCK", optional=True),
        docs.token("noack", "NOACK", optional=True),
        _STREAMS_ARG,
    ),
)
def xreadgroup(c: Client, argv: Argv) -> bytes | Block:
    return _xread(c, argv, grouped=True)
