"""MIGRATE (Redis's cluster.c migrateCommand): move keys to another server as DUMP payloads
sent with RESTORE (RESTORE-ASKING in cluster mode), then delete them here.

The exchange is synchronous and bounded by the command's timeout, as in Redis: the
command holds the event loop while it talks to the target, so the keys cannot change
between being serialised and being deleted, and the reply says what really happened.
(An asynchronous MIGRATE would need the keys locked meanwhile; Redis chose this, and so do
we.) The sockets are the shell's (`Connector`, node/io/migrate.py): cached per target
host:port for 10 s of idleness, with the database last SELECTed on each, so a reshard's
MIGRATE calls send SELECT once. In pure tests a Connector can hand the bytes to another
engine.

Replies: +OK, +NOKEY when none of the keys exist, `-IOERR error or timeout connecting to
the client`, `-IOERR error or timeout writing|reading to target instance`, `-ERR Target
instance replied with error: <its error>`. A failure on a cached link before anything was
read is retried once on a new link (a cached socket is often just closed by the target).
Pure: no I/O here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, Protocol

from node.commands._args import int_arg, option
from node.engine import notify
from node.persistence import rdb
from node.persistence.aof import encode_command
from node.proto import errors, resp
from node.proto.errors import CommandError

if TYPE_CHECKING:
    from node.engine.session import Client

Argv = list[bytes]
IDLE_CLOSE_MS: Final = 10_000  # MIGRATE_SOCKET_CACHE_TTL
CONNECT_ERROR: Final = "IOERR error or timeout connecting to the client"
_KEYS_NOT_EMPTY: Final = (
    "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string"
)


class TargetError(Exception):
    """The target could not be reached, written or read in time."""

    def __init__(self, stage: str, timed_out: bool = False) -> None:
        super().__init__(stage)
        self.stage = stage  # "connecting", "writing" or "reading"
        self.timed_out = timed_out
        self.retry = False  # nothing was processed yet: a new link may be tried


class Link(Protocol):
    """One (cached) connection to a target."""

    last_db: int  # the db selected on it (-1: unknown, SELECT next time)

    def send(self, data: bytes, timeout_ms: int) -> None:
        """Send all of `data`. Raises TargetError("writing")."""

    def read_line(self, timeout_ms: int) -> bytes:
        """One reply line, without its CRLF. Raises TargetError("reading")."""


class Connector(Protocol):
    """The shell's cache of links to MIGRATE targets."""

    def link(self, host: str, port: str, timeout_ms: int) -> Link:
        """The cached link to host:port or a new one. Raises TargetError("connecting")."""

    def close(self, host: str, port: str) -> None:
        """Drop (and close) the link to host:port, if any."""

    def close_idle(self, now_ms: int) -> None:
        """Close links unused for IDLE_CLOSE_MS."""


class _Options:
    copy = False
    replace = False
    username: bytes | None = None
    password: bytes | None = None
    first_key = 3
    num_keys = 1


def _parse(argv: Argv) -> _Options:
    opts = _Options()
    j = 6
    while j < len(argv):
        more = len(argv) - 1 - j
        word = option(argv[j])
        if word == b"COPY":
            opts.copy = True
        elif word == b"REPLACE":
            opts.replace = True
        elif word == b"AUTH":
            if not more:
                raise CommandError(errors.SYNTAX)
            j += 1
            opts.password = argv[j]
        elif word == b"AUTH2":
            if more < 2:
                raise CommandError(errors.SYNTAX)
            opts.username, opts.password = argv[j + 1], argv[j + 2]
            j += 2
        elif word == b"KEYS":
            if argv[3]:
                raise CommandError(_KEYS_NOT_EMPTY)
            opts.first_key, opts.num_keys = j + 1, len(argv) - j - 1
            break
        else:
            raise CommandError(errors.SYNTAX)
        j += 1
    return opts


def migrate(c: Client, argv: Argv, connector: Connector | None) -> bytes:
    """MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE] [AUTH pw |
    AUTH2 user pw] [KEYS key...]."""
    opts = _parse(argv)
    timeout = int_arg(argv[5])
    db_index = int_arg(argv[4])
    if timeout <= 0:
        timeout = 1000
    db = c.db
    found = [
        (key, value)
        for key in argv[opts.first_key : opts.first_key + opts.num_keys]
        if (value := db.lookup_read(key)) is not None
    ]
    if not found:
        return b"+NOKEY\r\n"
    if connector is None:
        raise CommandError(CONNECT_ERROR)
    host = argv[1].decode("utf-8", "surrogateescape")
    port = argv[2].decode("utf-8", "surrogateescape")
    may_retry = True
    while True:
        try:
            link = connector.link(host, port, timeout)
        except TargetError:
            raise CommandError(CONNECT_ERROR) from None
        try:
            return _exchange(c, link, found, opts, db_index, timeout)
        except TargetError as exc:
            connector.close(host, port)
            if exc.retry and may_retry:
                may_retry = False
                continue
            raise CommandError(f"IOERR error or timeout {exc.stage} to target instance") from None


def _exchange(
    c: Client,
    link: Link,
    found: list[tuple[bytes, object]],
    opts: _Options,
    db_index: int,
    timeout: int,
) -> bytes:
    """Send the pipeline, read every reply, delete what the target acknowledged."""
    engine = c.engine
    config = engine.config
    commands: list[bytes] = []
    if opts.password is not None:
        auth = (
            [b"AUTH", opts.password]
            if opts.username is None
            else [b"AUTH", opts.username, opts.password]
        )
        commands.append(encode_command(auth))
    select = link.last_db != db_index
    if select:
        commands.append(encode_command([b"SELECT", b"%d" % db_index]))
    restore = b"RESTORE-ASKING" if engine.cluster is not None else b"RESTORE"
    compress = config.bool("rdbcompression")
    limits = rdb.Limits.from_config(config)
    now = engine.now_ms
    for key, value in found:
        when = c.db.ttl_ms(key)
        ttl = 0 if when is None else max(when - now, 1)
        payload = rdb.dump_payload(value, compress, limits)
        command = [restore, key, b"%d" % ttl, payload]
        if opts.replace:
            command.append(b"REPLACE")
        commands.append(encode_command(command))
    try:
        link.send(b"".join(commands), timeout)
        auth_reply = link.read_line(timeout) if opts.password is not None else b"+OK"
        select_reply = link.read_line(timeout) if select else b"+OK"
    except TargetError as exc:
        exc.retry = not exc.timed_out
        raise
    first_error = _replies(c, link, found, opts, (auth_reply, select_reply), timeout)
    if first_error is not None:
        link.last_db = -1  # after an error the target's db is not known
        raise CommandError(f"ERR Target instance replied with error: {first_error}")
    link.last_db = db_index
    return resp.OK


def _replies(
    c: Client,
    link: Link,
    found: list[tuple[bytes, object]],
    opts: _Options,
    before: tuple[bytes, bytes],
    timeout: int,
) -> str | None:
    """Read the RESTORE replies, deleting each acknowledged key (unless COPY); the first
    error the target sent (AUTH's and SELECT's first), if any."""
    engine = c.engine
    db = c.db
    first_error: str | None = None
    deleted: list[bytes] = []
    try:
        for index, (key, _) in enumerate(found):
            try:
                reply = link.read_line(timeout)
            except TargetError as exc:
                exc.retry = index == 0 and not exc.timed_out and first_error is None
                raise
            error = next((r for r in (*before, reply) if r[:1] == b"-"), None)
            if error is not None:
                if first_error is None:
                    first_error = error[1:].decode("utf-8", "surrogateescape")
            elif not opts.copy:
                db.delete(key)
                deleted.append(key)
                engine.dirty += 1
                if engine.notify_flags:
                    engine.notify(notify.GENERIC, b"del", key, db.index)
    finally:
        # Whatever happens next, the keys deleted so far are gone: they propagate as DEL.
        engine.propagate_as(c, [[b"DEL", *deleted]] if deleted else [])
    return first_error
