"""Stream consumer groups and introspection (Redis's t_stream.c): XGROUP CREATE/SETID/
DESTROY/CREATECONSUMER/DELCONSUMER/HELP, XACK, XPENDING, XCLAIM, XAUTOCLAIM and XINFO
STREAM/GROUPS/CONSUMERS/HELP. XREADGROUP is in streams.py with XREAD.

Rules:
- Arguments are checked in Redis's order (XGROUP parses its options before it looks the key
  up; XACK checks IDs only once key and group exist; XCLAIM reads IDs until the first
  argument that is not one, then options).
- Consumers are created on first use: XREADGROUP, or XCLAIM/XAUTOCLAIM only once an entry
  is actually claimed (Redis 7.0). Reading, claiming and creating refresh `seen-time`;
  XPENDING and XINFO do not.
- Idle times are the engine clock minus delivery (or seen) times, never negative.
- Replies list groups and consumers in name order, as Redis's radix trees do; XINFO keeps
  Redis 7.0.15's fields and order, maps in RESP3.
Pure: no I/O.
"""

from __future__ import annotations

from typing import Final

from node.commands import docs
from node.commands._args import int_arg, option, string2ll
from node.commands._streams import (
    c_text,
    entry_reply,
    get_stream,
    id_reply,
    parse_end,
    parse_id,
    parse_start,
    read_stream,
    stream_and_group,
    stream_event,
    try_parse_id,
)
from node.commands.registry import Acl, Flag, KeyFlag, key_at
from node.commands.table import NODE
from node.engine.session import Client
from node.engine.types.stream import (
    INVALID_ENTRIES_READ,
    MAX_ID,
    Consumer,
    Group,
    Nack,
    Stream,
)
from node.proto import errors, resp
from node.proto.errors import CommandError

Argv = list[bytes]

_LONG_MAX: Final = 2**63 - 1
# XAUTOCLAIM allocates 16 bytes per COUNT up front; Redis fails where malloc does. An
# x86-64 process cannot map more than 2**47 bytes, so larger requests always fail there.
_AUTOCLAIM_MEMORY_LIMIT: Final = 2**47


def _subcommand_syntax(argv: Argv) -> CommandError:
    return CommandError(errors.SUBCOMMAND_SYNTAX.format(c_text(argv[1]), c_text(argv[0]).upper()))


def _consumer(c: Client, key: bytes, group: Group, name: bytes) -> Consumer:
    """streamLookupConsumer (refreshing seen-time) or streamCreateConsumer."""
    consumer = group.consumers.get(name)
    if consumer is None:
        c.engine.dirty += 1
        stream_event(c, b"xgroup-createconsumer", key)
        return group.create_consumer(name, c.engine.now_ms)
    consumer.seen_time = c.engine.now_ms
    return consumer


# --- XGROUP -----------------------------------------------------------------------------
NODE.container(
    "xgroup",
    group="stream",
    since="5.0.0",
    summary="A container for consumer groups commands",
    complexity="Depends on subcommand.",
)


def _xgroup_target(c: Client, argv: Argv) -> tuple[Stream | None, Group | None, bool, int]:
    """xgroupCommand's common part: (stream, group, MKSTREAM, ENTRIESREAD) after the
    option, key and group checks every subcommand but HELP goes through."""
    sub = option(argv[1])
    mkstream = False
    entries_read = INVALID_ENTRIES_READ
    i = 5
    while i < len(argv):
        opt = option(argv[i])
        if sub == b"CREATE" and opt == b"MKSTREAM":
            mkstream = True
            i += 1
        elif sub in (b"CREATE", b"SETID") and opt == b"ENTRIESREAD" and i + 1 < len(argv):
            entries_read = int_arg(argv[i + 1])
            if entries_read < 0 and entries_read != INVALID_ENTRIES_READ:
                raise CommandError(errors.ENTRIESREAD_RANGE)
            i += 2
        else:
            raise _subcommand_syntax(argv)
    stream = get_stream(c, argv[2])
    group = None
    if not mkstream:
        if stream is None:
            raise CommandError(errors.XGROUP_NO_KEY)
        group = stream.groups.get(argv[3])
        if group is None and sub in (b"SETID", b"CREATECONSUMER", b"DELCONSUMER"):
            raise CommandError(errors.XGROUP_NOGROUP.format(c_text(argv[3]), c_text(argv[2])))
    return stream, group, mkstream, entries_read


_GROUP_ID: Final = docs.oneof("id", docs.string("id"), docs.token("new_id", "$"))


@NODE.command(
    "create",
    -5,
    Flag.WRITE | Flag.DENYOOM,
    group="stream",
    since="5.0.0",
    summary="Create a consumer group.",
    complexity="O(1)",
    acl=Acl.STREAM,
    keys=[key_at(2, KeyFlag.RW | KeyFlag.INSERT)],
    history=(("7.0.0", "Added the `entries_read` named argument."),),
    container="xgroup",
    args=(
        docs.key("key", 0),
        docs.string("groupname"),
        _GROUP_ID,
        docs.token("mkstream", "MKSTREAM", optional=True),
        docs.integer("entries_read", token="ENTRIESREAD", optional=True),
    ),
)
def xgroup_create(c: Client, argv: Argv) -> bytes:
    stream, _, _, entries_read = _xgroup_target(c, argv)
    if len(argv) > 8:
        raise _subcommand_syntax(argv)
    if argv[4].split(b"\0", 1)[0] == b"$":
        sid = stream.last_id if stream is not None else 0
    else:
        sid = parse_id(argv[4])
    if stream is None:
        stream = Stream()
        c.db.set_value(argv[2], stream)
    if argv[3] in stream.groups:
        raise CommandError(errors.BUSYGROUP)
    stream.groups[argv[3]] = Group(sid, entries_read)
    stream_event(c, b"xgroup-create", argv[2])
    c.engine.dirty += 1
    return resp.OK


@NODE.command(
    "setid",
    -5,
    Flag.WRITE,
    group="stream",
    since="5.0.0",
    summary="Set a consumer group to an arbitrary last delivered ID value.",
    complexity="O(1)",
    acl=Acl.STREAM,
    keys=[key_at(2, KeyFlag.RW | KeyFlag.UPDATE)],
    history=(("7.0.0", "Added the optional `entries_read` argument."),),
    container="xgroup",
    args=(
        docs.key("key", 0),
        docs.string("groupname"),
        _GROUP_ID,
        docs.integer("entries_read", token="ENTRIESREAD", optional=True),
    ),
)
def xgroup_setid(c: Client, argv: Argv) -> bytes:
    stream, group, _, entries_read = _xgroup_target(c, argv)
    if len(argv) not in (5, 7):
        raise _subcommand_syntax(argv)
    assert stream is not None and group is not None
    if argv[4].split(b"\0", 1)[0] == b"$":
        sid = stream.last_id
    else:
        sid = parse_id(argv[4], strict=False)
    group.last_id = sid
    group.entries_read = entries_read
    stream_event(c, b"xgroup-setid", argv[2])
    c.engine.dirty += 1
    return resp.OK


@NODE.command(
    "destroy",
    4,
    Flag.WRITE,
    group="stream",
    since="5.0.0",
    summary="Destroy a consumer group.",
    complexity="O(N) where N is the number of entries in the group's pending entries list (PEL).",
    acl=Acl.STREAM,
    keys=[key_at(2, KeyFlag.RW | KeyFlag.DELETE)],
    container="xgroup",
    args=(docs.key("key", 0), docs.string("groupname")),
)
def xgroup_destroy(c: Client, argv: Argv) -> bytes:
    stream, group, _, _ = _xgroup_target(c, argv)
    if stream is None or group is None:
        return resp.ZERO
    del stream.groups[argv[3]]
    stream_event(c, b"xgroup-destroy", argv[2])
    c.engine.dirty += 1
    c.db.mark_ready(argv[2])  # XREADGROUP clients blocked on the group hear NOGROUP
    return resp.ONE


@NODE.command(
    "createconsumer",
    5,
    Flag.WRITE | Flag.DENYOOM,
    group="stream",
    since="6.2.0",
    summary="Create a consumer in a consumer group.",
    complexity="O(1)",
    acl=Acl.STREAM,
    keys=[key_at(2, KeyFlag.RW | KeyFlag.INSERT)],
    container="xgroup",
    args=(docs.key("key", 0), docs.string("groupname"), docs.string("consumername")),
)
def xgroup_createconsumer(c: Client, argv: Argv) -> bytes:
    _, group, _, _ = _xgroup_target(c, argv)
    assert group is not None
    if argv[4] in group.consumers:
        return resp.ZERO
    group.create_consumer(argv[4], c.engine.now_ms)
    stream_event(c, b"xgroup-createconsumer", argv[2])
    c.engine.dirty += 1
    return resp.ONE


@NODE.command(
    "delconsumer",
    5,
    Flag.WRITE,
    group="stream",
    since="5.0.0",
    summary="Delete a consumer from a consumer group.",
    complexity="O(1)",
    acl=Acl.STREAM,
    keys=[key_at(2, KeyFlag.RW | KeyFlag.DELETE)],
    container="xgroup",
    args=(docs.key("key", 0), docs.string("groupname"), docs.string("consumername")),
)
def xgroup_delconsumer(c: Client, argv: Argv) -> bytes:
    _, group, _, _ = _xgroup_target(c, argv)
    assert group is not None
    consumer = group.consumers.get(argv[4])
    if consumer is None:
        return resp.ZERO
    pending = len(consumer.pel)
    group.delete_consumer(consumer)
    stream_event(c, b"xgroup-delconsumer", argv[2])
    c.engine.dirty += 1
    return resp.integer(pending)


_XGROUP_HELP: Final = (
    b"CREATE <key> <groupname> <id|$> [option]",
    b"    Create a new consumer group. Options are:",
    b"    * MKSTREAM",
    b"      Create the empty stream if it does not exist.",
    b"    * ENTRIESREAD entries_read",
    b"      Set the group's entries_read counter (internal use).",
    b"CREATECONSUMER <key> <groupname> <consumer>",
    b"    Create a new consumer in the specified group.",
    b"DELCONSUMER <key> <groupname> <consumer>",
    b"    Remove the specified consumer.",
    b"DESTROY <key> <groupname>",
    b"    Remove the specified group.",
    b"SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    b"    Set the current group ID and entries_read counter.",
)


@NODE.command(
    "help",
    2,
    Flag.LOADING | Flag.STALE,
    group="stream",
    since="5.0.0",
    summary="Show helpful text about the different subcommands",
    complexity="O(1)",
    acl=Acl.STREAM,
    container="xgroup",
)
def xgroup_help(c: Client, argv: Argv) -> bytes:
    return resp.help_reply(argv[0], _XGROUP_HELP)


# --- XACK, XPENDING ---------------------------------------------------------------------
@NODE.command(
    "xack",
    -4,
    Flag.WRITE | Flag.FAST,
    group="stream",
    since="5.0.0",
    summary="Marks a pending message as correctly processed, effectively removing it from the pending entries list of the consumer group. Return value of the command is the number of messages successfully acknowledged, that is, the IDs we were actually able to resolve in the PEL.",
    complexity="O(1) for each message ID processed.",
    acl=Acl.STREAM,
    keys=[key_at(1, KeyFlag.RW | KeyFlag.UPDATE)],
    args=(docs.key("key", 0), docs.string("group"), docs.string("id", multiple=True)),
)
def xack(c: Client, argv: Argv) -> bytes:
    stream = read_stream(c, argv[1])
    group = stream.groups.get(argv[2]) if stream is not None else None
    if group is None:
        return resp.ZERO
    ids = [parse_id(raw) for raw in argv[3:]]  # all or nothing
    acked = sum(1 for sid in ids if group.ack(sid))
    c.engine.dirty += acked
    return resp.integer(acked)


def _pending_summary(c: Client, group: Group) -> bytes:
    pel = group.pel
    if not pel:
        null = resp.null(c.resp)
        return b"*4\r\n" + resp.ZERO + null + null + resp.null_array(c.resp)
    owners = [
        (name, len(consumer.pel))
        for name, consumer in sorted(group.consumers.items())
        if consumer.pel
    ]
    parts = [
        b"*4\r\n",
        resp.integer(len(pel)),
        id_reply(pel.peekitem(0)[0]),
        id_reply(pel.peekitem(-1)[0]),
        resp.array_header(len(owners)),
    ]
    parts.extend(b"*2\r\n" + resp.bulk(name) + resp.bulk(b"%d" % n) for name, n in owners)
    return b"".join(parts)


@NODE.command(
    "xpending",
    -3,
    Flag.READONLY,
    group="stream",
    since="5.0.0",
    summary="Return information and entries from a stream consumer group pending entries list, that are messages fetched but never acknowledged.",
    complexity="O(N) with N being the number of elements returned, so asking for a small fixed number of entries per call is O(1). O(M), where M is the total number of entries scanned when used with the IDLE filter. When the command returns just the summary and the list of consumers is small, it runs in O(1) time; otherwise, an additional O(N) time for iterating every consumer.",
    acl=Acl.STREAM,
    keys=[key_at(1, KeyFlag.RO | KeyFlag.ACCESS)],
    tips=("nondeterministic_output",),
    history=(("6.2.0", "Added the `IDLE` option and exclusive range intervals."),),
    args=(
        docs.key("key", 0),
        docs.string("group"),
        docs.block(
            "filters",
            docs.integer("min-idle-time", token="IDLE", optional=True, since="6.2.0"),
            docs.string("start"),
            docs.string("end"),
            docs.integer("count"),
            docs.string("consumer", optional=True),
            optional=True,
        ),
    ),
)
def xpending(c: Client, argv: Argv) -> bytes:
    argc = len(argv)
    if argc != 3 and not 6 <= argc <= 9:
        raise CommandError(errors.SYNTAX)
    min_idle = count = start = end = 0
    owner: bytes | None = None
    if argc >= 6:
        at = 3
        if option(argv[3]) == b"IDLE":
            min_idle = int_arg(argv[4])
            if argc < 8:
                raise CommandError(errors.SYNTAX)
            at = 5
        count = max(int_arg(argv[at + 2]), 0)
        start, end = parse_start(argv[at]), parse_end(argv[at + 1])
        if at + 3 < argc:
            owner = argv[at + 3]
    _, group = stream_and_group(c, argv[1], argv[2])
    if argc == 3:
        return _pending_summary(c, group)
    if owner is not None:
        consumer = group.consumers.get(owner)
        if consumer is None:
            return resp.EMPTY_ARRAY
        ids = consumer.pel.irange(start, end)
    else:
        ids = group.pel.irange(start, end)
    now = c.engine.now_ms
    parts = []
    for sid in ids:
        if not count:
            break
        nack = group.pel[sid]
        idle = now - nack.delivery_time
        if min_idle and idle < min_idle:
            continue
        count -= 1
        name = nack.consumer.name if nack.consumer is not None else b""
        parts.append(
            b"*4\r\n"
            + id_reply(sid)
            + resp.bulk(name)
            + resp.integer(max(idle, 0))
            + resp.integer(nack.delivery_count)
        )
    return resp.array_header(len(parts)) + b"".join(parts)


# --- XCLAIM, XAUTOCLAIM -----------------------------------------------------------------
def _claim_options(argv: Argv, j: int, now: int) -> tuple[int, int, bool, bool, int]:
    """XCLAIM's trailing options: (delivery time or -1, retry count or -1, FORCE, JUSTID,
    LASTID)."""
    delivery = retry = -1
    force = justid = False
    last_id = 0
    while j < len(argv):
        more = len(argv) - 1 - j
        opt = option(argv[j])
        if opt == b"FORCE":
            force = True
        elif opt == b"JUSTID":
            justid = True
        elif opt == b"IDLE" and more:
            j += 1
            delivery = now - int_arg(argv[j], errors.XCLAIM_IDLE)
        elif opt == b"TIME" and more:
            j += 1
            delivery = int_arg(argv[j], errors.XCLAIM_TIME)
        elif opt == b"RETRYCOUNT" and more:
            j += 1
            retry = int_arg(argv[j], errors.XCLAIM_RETRYCOUNT)
        elif opt == b"LASTID" and more:
            j += 1
            last_id = parse_id(argv[j])
        else:
            raise CommandError(errors.XCLAIM_OPTION.format(c_text(argv[j])))
        j += 1
    return delivery, retry, force, justid, last_id


def _claimed(stream: Stream, sid: int, justid: bool) -> bytes:
    if justid:
        return id_reply(sid)
    flat = stream.get(sid)
    assert flat is not None
    return entry_reply(sid, flat)


@NODE.command(
    "xclaim",
    -6,
    Flag.WRITE | Flag.FAST,
    group="stream",
    since="5.0.0",
    summary="Changes (or acquires) ownership of a message in a consumer group, as if the message was delivered to the specified consumer.",
    complexity="O(log N) with N being the number of messages in the PEL of the consumer group.",
    acl=Acl.STREAM,
    keys=[key_at(1, KeyFlag.RW | KeyFlag.UPDATE)],
    tips=("nondeterministic_output",),
    args=(
        docs.key("key", 0),
        docs.string("group"),
        docs.string("consumer"),
        docs.string("min-idle-time"),
        docs.string("id", multiple=True),
        docs.integer("ms", token="IDLE", optional=True),
        docs.unix_time("unix-time-milliseconds", token="TIME", optional=True),
        docs.integer("count", token="RETRYCOUNT", optional=True),
        docs.token("force", "FORCE", optional=True),
        docs.token("justid", "JUSTID", optional=True),
        docs.string("id", token="LASTID", optional=True),
    ),
)
def xclaim(c: Client, argv: Argv) -> bytes:
    stream, group = stream_and_group(c, argv[1], argv[2])
    min_idle = max(int_arg(argv[4], errors.XCLAIM_MIN_IDLE), 0)
    ids = []
    j = 5
    while j < len(argv):
        sid = try_parse_id(argv[j])
        if sid is None:
            break
        ids.append(sid)
        j += 1
    now = c.engine.now_ms
    delivery, retry, force, justid, last_id = _claim_options(argv, j, now)
    moved_last_id = last_id > group.last_id
    if moved_last_id:
        group.last_id = last_id
    if delivery == -1 or delivery < 0 or delivery > now:
        delivery = now  # bogus times are not worth an error: the client's clock may differ
    engine = c.engine
    consumer = None
    parts = []
    for sid in ids:
        nack = group.pel.get(sid)
        if sid not in stream:
            if nack is not None:
                group.ack(sid)  # the entry is gone: so is its pending record
                engine.dirty += 1
                moved_last_id = False
            continue
        if force and nack is None:
            nack = group.pel[sid] = Nack(None, now)
        if nack is None:
            continue
        if nack.consumer is not None and min_idle and now - nack.delivery_time < min_idle:
            continue
        if consumer is None:
            consumer = _consumer(c, argv[1], group, argv[3])
        group.assign(sid, nack, consumer)
        nack.delivery_time = delivery
        if retry >= 0:
            nack.delivery_count = retry
        elif not justid:
            nack.delivery_count += 1
        parts.append(_claimed(stream, sid, justid))
        engine.dirty += 1
        moved_last_id = False
    if moved_last_id:
        engine.dirty += 1
    return resp.array_header(len(parts)) + b"".join(parts)


@NODE.command(
    "xautoclaim",
    -6,
    Flag.WRITE | Flag.FAST,
    group="stream",
    since="6.2.0",
    summary="Changes (or acquires) ownership of messages in a consumer group, as if the messages were delivered to the specified consumer.",
    complexity="O(1) if COUNT is small.",
    acl=Acl.STREAM,
    keys=[key_at(1, KeyFlag.RW | KeyFlag.DELETE)],
    tips=("nondeterministic_output",),
    history=(
        (
            "7.0.0",
            "Added an element to the reply array, containing deleted entries the command cleared from the PEL",
        ),
    ),
    args=(
        docs.key("key", 0),
        docs.string("group"),
        docs.string("consumer"),
        docs.string("min-idle-time"),
        docs.string("start"),
        docs.integer("count", token="COUNT", optional=True),
        docs.token("justid", "JUSTID", optional=True),
    ),
)
def xautoclaim(c: Client, argv: Argv) -> bytes:
    min_idle = max(int_arg(argv[4], errors.XAUTOCLAIM_MIN_IDLE), 0)
    start = parse_start(argv[5])
    count, justid = 100, False
    j = 6
    while j < len(argv):
        opt = option(argv[j])
        if opt == b"COUNT" and j + 1 < len(argv):
            value = string2ll(argv[j + 1])
            # getRangeLongFromObjectOrReply: 1 .. LONG_MAX / sizeof(streamID)
            if value is None or not 1 <= value <= _LONG_MAX // 16:
                raise CommandError(errors.XAUTOCLAIM_COUNT)
            count = value
            j += 1
        elif opt == b"JUSTID":
            justid = True
        else:
            raise CommandError(errors.SYNTAX)
        j += 1
    stream, group = stream_and_group(c, argv[1], argv[2])
    if count * 16 >= _AUTOCLAIM_MEMORY_LIMIT:
        raise CommandError(errors.XAUTOCLAIM_COUNT_MEMORY)
    claimed, deleted, cursor = _autoclaim(
        c, argv[1], stream, group, argv[3], start, count, min_idle, justid
    )
    return (
        b"*3\r\n"
        + id_reply(cursor)
        + resp.array_header(len(claimed))
        + b"".join(claimed)
        + resp.array_header(len(deleted))
        + b"".join(id_reply(s) for s in deleted)
    )


def _autoclaim(
    c: Client,
    key: bytes,
    stream: Stream,
    group: Group,
    name: bytes,
    start: int,
    count: int,
    min_idle: int,
    justid: bool,
) -> tuple[list[bytes], list[int], int]:
    """XAUTOCLAIM's scan of the PEL from `start`: at most `count` entries claimed or found
    deleted, and at most ten times that many looked at. Returns (claimed replies, deleted
    IDs, the next cursor or 0)."""
    pel = group.pel
    keys = pel.keys()
    now = c.engine.now_ms
    attempts = count * 10
    consumer = None
    claimed: list[bytes] = []
    deleted: list[int] = []
    i = pel.bisect_left(start)
    while attempts and count and i < len(pel):
        attempts -= 1
        sid = keys[i]
        nack = pel[sid]
        if sid not in stream:
            group.ack(sid)  # the entry is gone: so is its pending record
            c.engine.dirty += 1
            deleted.append(sid)
            count -= 1
            continue
        i += 1
        if min_idle and now - nack.delivery_time < min_idle:
            continue
        if consumer is None:
            consumer = _consumer(c, key, group, name)
        group.assign(sid, nack, consumer)
        nack.delivery_time = now
        if not justid:
            nack.delivery_count += 1
        claimed.append(_claimed(stream, sid, justid))
        count -= 1
        c.engine.dirty += 1
    return claimed, deleted, keys[i] if i < len(pel) else 0


# --- XINFO ------------------------------------------------------------------------------
NODE.container(
    "xinfo",
    group="stream",
    since="5.0.0",
    summary="A container for stream introspection commands",
    complexity="Depends on subcommand.",
)


def _info_stream(c: Client, key: bytes) -> Stream:
    stream = read_stream(c, key)
    if stream is None:
        raise CommandError(errors.NO_SUCH_KEY)
    return stream


def _int_or_null(c: Client, value: int | None) -> bytes:
    return resp.null(c.resp) if value is None else resp.integer(value)


def _field(name: bytes, value: bytes) -> bytes:
    return resp.bulk(name) + value


def _stream_head(c: Client, stream: Stream) -> list[bytes]:
    """The fields XINFO STREAM shows with and without FULL."""
    return [
        _field(b"length", resp.integer(stream.length)),
        _field(b"radix-tree-keys", resp.integer(stream.radix_tree_keys())),
        _field(b"radix-tree-nodes", resp.integer(stream.radix_tree_nodes())),
        _field(b"last-generated-id", id_reply(stream.last_id)),
        _field(b"max-deleted-entry-id", id_reply(stream.max_deleted)),
        _field(b"entries-added", resp.integer(stream.entries_added)),
        _field(b"recorded-first-entry-id", id_reply(stream.first_id)),
    ]


def _edge_entry(c: Client, stream: Stream, rev: bool) -> bytes:
    for sid, flat in stream.range(0, MAX_ID, rev):
        return entry_reply(sid, flat)
    return resp.null(c.resp)


def _array(items: list[bytes]) -> bytes:
    return resp.array_header(len(items)) + b"".join(items)


def _full_group(c: Client, stream: Stream, name: bytes, group: Group, count: int) -> bytes:
    pending: list[bytes] = []
    for sid, nack in group.pel.items():
        if count and len(pending) == count:
            break
        owner = nack.consumer.name if nack.consumer is not None else b""
        pending.append(
            b"*4\r\n"
            + id_reply(sid)
            + resp.bulk(owner)
            + resp.integer(nack.delivery_time)
            + resp.integer(nack.delivery_count)
        )
    consumers = []
    for cname, consumer in sorted(group.consumers.items()):
        own: list[bytes] = []
        for sid in consumer.pel:
            if count and len(own) == count:
                break
            nack = group.pel[sid]
            own.append(
                b"*3\r\n"
                + id_reply(sid)
                + resp.integer(nack.delivery_time)
                + resp.integer(nack.delivery_count)
            )
        consumers.append(
            resp.map_header(4, c.resp)
            + b"".join(
                [
                    _field(b"name", resp.bulk(cname)),
                    _field(b"seen-time", resp.integer(consumer.seen_time)),
                    _field(b"pel-count", resp.integer(len(consumer.pel))),
                    _field(b"pending", _array(own)),
                ]
            )
        )
    return resp.map_header(7, c.resp) + b"".join(
        [
            _field(b"name", resp.bulk(name)),
            _field(b"last-delivered-id", id_reply(group.last_id)),
            _field(b"entries-read", _entries_read(c, group)),
            _field(b"lag", _int_or_null(c, stream.lag(group))),
            _field(b"pel-count", resp.integer(len(group.pel))),
            _field(b"pending", _array(pending)),
            _field(b"consumers", _array(consumers)),
        ]
    )


def _entries_read(c: Client, group: Group) -> bytes:
    read = group.entries_read
    return _int_or_null(c, None if read == INVALID_ENTRIES_READ else read)


@NODE.command(
    "stream",
    -3,
    Flag.READONLY,
    group="stream",
    since="5.0.0",
    summary="Get information about a stream",
    complexity="O(1)",
    acl=Acl.STREAM,
    keys=[key_at(2, KeyFlag.RO | KeyFlag.ACCESS)],
    history=(
        ("6.0.0", "Added the `FULL` modifier."),
        (
            "7.0.0",
            "Added the `max-deleted-entry-id`, `entries-added`, `recorded-first-entry-id`, `entries-read` and `lag` fields",
        ),
    ),
    container="xinfo",
    args=(
        docs.key("key", 0),
        docs.block(
            "full", docs.integer("count", token="COUNT", optional=True), token="FULL", optional=True
        ),
    ),
)
def xinfo_stream(c: Client, argv: Argv) -> bytes:
    stream = _info_stream(c, argv[2])
    options = argv[3:]
    if not options:
        head = _stream_head(c, stream)
        head.append(_field(b"groups", resp.integer(len(stream.groups))))
        head.append(_field(b"first-entry", _edge_entry(c, stream, rev=False)))
        head.append(_field(b"last-entry", _edge_entry(c, stream, rev=True)))
        return resp.map_header(len(head), c.resp) + b"".join(head)
    if len(options) not in (1, 3) or option(options[0]) != b"FULL":
        raise _subcommand_syntax(argv)
    count = 10  # FULL shows 10 entries unless told, to keep the server responsive
    if len(options) == 3:
        if option(options[1]) != b"COUNT":
            raise _subcommand_syntax(argv)
        count = int_arg(options[2])
        if count < 0:
            count = 10
    head = _stream_head(c, stream)
    entries: list[bytes] = []
    for sid, flat in stream.range(0, MAX_ID):
        if count and len(entries) == count:
            break
        entries.append(entry_reply(sid, flat))
    head.append(_field(b"entries", _array(entries)))
    groups = [
        _full_group(c, stream, name, group, count) for name, group in sorted(stream.groups.items())
    ]
    head.append(_field(b"groups", _array(groups)))
    return resp.map_header(len(head), c.resp) + b"".join(head)


@NODE.command(
    "groups",
    3,
    Flag.READONLY,
    group="stream",
    since="5.0.0",
    summary="List the consumer groups of a stream",
    complexity="O(1)",
    acl=Acl.STREAM,
    keys=[key_at(2, KeyFlag.RO | KeyFlag.ACCESS)],
    history=(("7.0.0", "Added the `entries-read` and `lag` fields"),),
    container="xinfo",
    args=(docs.key("key", 0),),
)
def xinfo_groups(c: Client, argv: Argv) -> bytes:
    stream = _info_stream(c, argv[2])
    parts = [resp.array_header(len(stream.groups))]
    for name, group in sorted(stream.groups.items()):
        parts.append(
            resp.map_header(6, c.resp)
            + b"".join(
                [
                    _field(b"name", resp.bulk(name)),
                    _field(b"consumers", resp.integer(len(group.consumers))),
                    _field(b"pending", resp.integer(len(group.pel))),
                    _field(b"last-delivered-id", id_reply(group.last_id)),
                    _field(b"entries-read", _entries_read(c, group)),
                    _field(b"lag", _int_or_null(c, stream.lag(group))),
                ]
            )
        )
    return b"".join(parts)


@NODE.command(
    "consumers",
    4,
    Flag.READONLY,
    group="stream",
    since="5.0.0",
    summary="List the consumers in a consumer group",
    complexity="O(1)",
    acl=Acl.STREAM,
    keys=[key_at(2, KeyFlag.RO | KeyFlag.ACCESS)],
    tips=("nondeterministic_output",),
    container="xinfo",
    args=(docs.key("key", 0), docs.string("groupname")),
)
def xinfo_consumers(c: Client, argv: Argv) -> bytes:
    stream = _info_stream(c, argv[2])
    group = stream.groups.get(argv[3])
    if group is None:
        raise CommandError(errors.XGROUP_NOGROUP.format(c_text(argv[3]), c_text(argv[2])))
    now = c.engine.now_ms
    parts = [resp.array_header(len(group.consumers))]
    for name, consumer in sorted(group.consumers.items()):
        parts.append(
            resp.map_header(3, c.resp)
            + b"".join(
                [
                    _field(b"name", resp.bulk(name)),
                    _field(b"pending", resp.integer(len(consumer.pel))),
                    _field(b"idle", resp.integer(max(now - consumer.seen_time, 0))),
                ]
            )
        )
    return b"".join(parts)


_XINFO_HELP: Final = (
    b"CONSUMERS <key> <groupname>",
    b"    Show consumers of <groupname>.",
    b"GROUPS <key>",
    b"    Show the stream consumer groups.",
    b"STREAM <key> [FULL [COUNT <count>]",
    b"    Show information about the stream.",
)


@NODE.command(
    "help",
    2,
    Flag.LOADING | Flag.STALE,
    group="stream",
    since="5.0.0",
    summary="Show helpful text about the different subcommands",
    complexity="O(1)",
    acl=Acl.STREAM,
    container="xinfo",
)
def xinfo_help(c: Client, argv: Argv) -> bytes:
    return resp.help_reply(argv[0], _XINFO_HELP)
