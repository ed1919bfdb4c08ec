"""Persistence commands (Redis's cluster.c DUMP/RESTORE, rdb.c SAVE/BGSAVE, aof.c
BGREWRITEAOF).

Rules:
- DUMP/RESTORE payloads are RDB values with Redis's footer (node/persistence/rdb.py), so
  payloads move between slotd and Redis 7.0 both ways. IDLETIME and FREQ are checked as
  Redis checks them; slotd keeps no LRU/LFU clock, so their values are not stored.
- SAVE, BGSAVE and BGREWRITEAOF only talk to `engine.persistence` (the persistence state
  machine); files and forks are its storage port's business.
Pure: no I/O here.
"""

from __future__ import annotations

from node.commands import docs
from node.commands._args import int_arg, option
from node.commands.registry import Acl, Flag, KeyFlag, key_at
from node.commands.table import NODE
from node.engine import notify
from node.engine.session import Client
from node.persistence import rdb
from node.persistence.blobs import FormatError
from node.proto import errors, resp
from node.proto.errors import CommandError

Argv = list[bytes]


# --- DUMP / RESTORE -------------------------------------------------------------------------
@NODE.command(
    "dump",
    2,
    Flag.READONLY,
    group="generic",
    since="2.6.0",
    summary="Return a serialized version of the value stored at the specified key.",
    complexity="O(1) to access the key and additional O(N*M) to serialize it, where "
    "N is the number of Redis objects composing the value and M their average size. "
    "For small string values the time complexity is thus O(1)+O(1*M) where M is "
    "small, so simply O(1).",
    acl=Acl.KEYSPACE,
    keys=[key_at(1, KeyFlag.RO | KeyFlag.ACCESS)],
    tips=("nondeterministic_output",),
    args=(docs.key("key"),),
)
def dump(c: Client, argv: Argv) -> bytes:
    value = c.db.lookup_read(argv[1])
    if value is None:
        return resp.null(c.resp)
    config = c.engine.config
    return resp.bulk(
        rdb.dump_payload(value, config.bool("rdbcompression"), rdb.Limits.from_config(config))
    )


@NODE.command(
    "restore",
    -4,
    Flag.WRITE | Flag.DENYOOM,
    group="generic",
    since="2.6.0",
    summary="Create a key using the provided serialized value, previously obtained using DUMP.",
    complexity="O(1) to create the new key and additional O(N*M) to reconstruct the "
    "serialized value, where N is the number of Redis objects composing the value "
    "and M their average size. For small string values the time complexity is thus "
    "O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values "
    "the complexity is O(N*M*log(N)) because inserting values into sorted sets is "
    "O(log(N)).",
    acl=Acl.KEYSPACE | Acl.DANGEROUS,
    keys=[key_at(1, KeyFlag.OW | KeyFlag.UPDATE)],
    history=(
        ("3.0.0", "Added the `REPLACE` modifier."),
        ("5.0.0", "Added the `ABSTTL` modifier."),
        ("5.0.0", "Added the `IDLETIME` and `FREQ` options."),
    ),
    args=(
        docs.key("key"),
        docs.integer("ttl"),
        docs.string("serialized-value"),
        docs.token("replace", "REPLACE", optional=True, since="3.0.0"),
        docs.token("absttl", "ABSTTL", optional=True, since="5.0.0"),
        docs.integer("seconds", token="IDLETIME", optional=True, since="5.0.0"),
        docs.integer("frequency", token="FREQ", optional=True, since="5.0.0"),
    ),
)
def restore(c: Client, argv: Argv) -> bytes:
    replace = absttl = False
    idle = freq = -1
    i = 4
    while i < len(argv):
        word = option(argv[i])
        more = i + 1 < len(argv)
        if word == b"REPLACE":
            replace = True
        elif word == b"ABSTTL":
            absttl = True
        elif word == b"IDLETIME" and more and freq == -1:
            idle = int_arg(argv[i + 1])
            if idle < 0:
                raise CommandError("ERR Invalid IDLETIME value, must be >= 0")
            i += 1
        elif word == b"FREQ" and more and idle == -1:
            freq = int_arg(argv[i + 1])
            if not 0 <= freq <= 255:
                raise CommandError("ERR Invalid FREQ value, must be >= 0 and <= 255")
            i += 1
        else:
            raise CommandError(errors.SYNTAX)
        i += 1
    db, key = c.db, argv[1]
    if not replace and db.lookup(key) is not None:
        raise CommandError(errors.BUSYKEY)
    ttl = int_arg(argv[2])
    if ttl < 0:
        raise CommandError("ERR Invalid TTL value, must be >= 0")
    payload = argv[3]
    if not rdb.payload_ok(payload):
        raise CommandError("ERR DUMP payload version or checksum are wrong")
    try:
        value = rdb.restore_payload(payload, rdb.Limits.from_config(c.engine.config))
    except FormatError:
        raise CommandError("ERR Bad data format") from None
    engine = c.engine
    deleted = replace and db.delete(key)
    if ttl and not absttl:
        ttl += engine.now_ms
    if ttl and ttl <= engine.now_ms:
        # Already expired: the key is only deleted (and that is what propagates).
        if deleted:
            engine.dirty += 1
            engine.propagate_as(c, [[b"DEL", key]])
            if engine.notify_flags:
                engine.notify(notify.GENERIC, b"del", key, db.index)
        return resp.OK
    db.set_value(key, value)
    if ttl:
        db.set_expire(key, ttl)
        if not absttl:
            engine.propagate_as(c, [[argv[0], key, b"%d" % ttl, *argv[3:], b"ABSTTL"]])
    if engine.notify_flags:
        engine.notify(notify.GENERIC, b"restore", key, db.index)
    engine.dirty += 1
    return resp.OK


# --- SAVE / BGSAVE ------------------------------------------------------------------------
@NODE.command(
    "save",
    1,
    Flag.ADMIN | Flag.NOSCRIPT | Flag.NO_ASYNC_LOADING | Flag.NO_MULTI,
    group="server",
    since="1.0.0",
    summary="Synchronously save the dataset to disk",
    complexity="O(N) where N is the total number of keys in all databases",
)
def save(c: Client, argv: Argv) -> bytes:
    c.engine.persistence.save_command()
    return resp.OK


@NODE.command(
    "bgsave",
    -1,
    Flag.ADMIN | Flag.NOSCRIPT | Flag.NO_ASYNC_LOADING,
    group="server",
    since="1.0.0",
    summary="Asynchronously save the dataset to disk",
    complexity="O(1)",
    history=(("3.2.2", "Added the `SCHEDULE` option."),),
    args=(docs.token("schedule", "SCHEDULE", optional=True, since="3.2.2"),),
)
def bgsave(c: Client, argv: Argv) -> bytes:
    schedule = len(argv) == 2 and option(argv[1]) == b"SCHEDULE"
    if len(argv) > 1 and not schedule:
        raise CommandError(errors.SYNTAX)
    # Inside EXEC the fork is only scheduled (no_blocking counts EXEC and scripts).
    return c.engine.persistence.bgsave_command(schedule, c.engine.no_blocking > 0)


@NODE.command(
    "bgrewriteaof",
    1,
    Flag.ADMIN | Flag.NOSCRIPT | Flag.NO_ASYNC_LOADING,
    group="server",
    since="1.0.0",
    summary="Asynchronously rewrite the append-only file",
    complexity="O(1)",
)
def bgrewriteaof(c: Client, argv: Argv) -> bytes:
    return c.engine.persistence.aof.rewrite_command(c.engine.no_blocking > 0)
