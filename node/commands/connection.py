"""Connection commands (Redis's networking.c and the client side of acl.c): PING, ECHO,
QUIT, SELECT, AUTH, HELLO, RESET and the CLIENT container.

Rules:
- Per-connection state lives on `Client` (node/engine/session.py); these handlers only read
  and change it. Closing ANOTHER connection needs its socket, so CLIENT KILL disconnects the
  victim from the engine at once (it leaves CLIENT LIST, its WATCHes and blocks) and queues
  it on `engine.clients_to_close`, which the shell drains after the batch. A client killing
  itself gets its reply first (`close_after_reply`).
- `Client.flags` holds the CLIENT LIST flag letters other subsystems own (S replica,
  M master, O monitor, P pub/sub, t tracking, r readonly, ...); the letters derivable from
  the state kept here (x, b, d, c, e, T) are computed, and the TYPE filters read both.
- AUTH, HELLO AUTH, RESET and CLIENT KILL USER go through the ACL users
  (node/engine/acl.py); `requirepass` is the default user's password.
- Replies and errors match Redis 7.0.15 byte for byte. CLIENT NO-TOUCH and CLIENT SETINFO
  are 7.2 additions, kept because clients (redis-py 5+) send SETINFO on connect.
Pure.
"""

from __future__ import annotations

from typing import Final

from node.commands import docs
from node.commands._args import int_arg, option, timeout_to_deadline
from node.commands.registry import Acl, Flag
from node.commands.table import NODE
from node.commands.transactions import discard_transaction
from node.engine import tracking
from node.engine.engine import VERSION
from node.engine.session import REPLY_OFF, REPLY_ON, REPLY_SKIP_NEXT, Client
from node.proto import errors, resp
from node.proto.errors import CommandError

Argv = list[bytes]

_CLIENT_FLAGS: Final = Flag.NOSCRIPT | Flag.LOADING | Flag.STALE
_CLIENT_ADMIN: Final = Flag.ADMIN | _CLIENT_FLAGS
_NO_AUTH_FLAGS: Final = (
    Flag.NOSCRIPT | Flag.LOADING | Flag.STALE | Flag.FAST | Flag.NO_AUTH | Flag.ALLOW_BUSY
)
# validateClientName: a name is printable ASCII without spaces ('!'..'~').
_NAME_CHARS: Final = bytes(range(0x21, 0x7F))
# catClientInfoString's flag letters, in its order; "N" when none applies.
_FLAG_ORDER: Final = "OSMPxbtRBdcuAUreT"
# getClientTypeByName (strcasecmp): "slave" is the old name of "replica".
_CLIENT_TYPES: Final = {
    b"NORMAL": "normal",
    b"SLAVE": "replica",
    b"REPLICA": "replica",
    b"PUBSUB": "pubsub",
    b"MASTER": "master",
}
_RESET: Final = resp.status(b"RESET")


def _text(raw: bytes) -> str:
    """User bytes inside an error message (Redis prints them as a C string)."""
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace")


def _on_off(raw: bytes) -> bool:
    word = option(raw)
    if word == b"ON":
        return True
    if word == b"OFF":
        return False
    raise CommandError(errors.SYNTAX)


# --- PING ECHO QUIT SELECT --------------------------------------------------------------
@NODE.command(
    "ping",
    -1,
    Flag.FAST | Flag.SENTINEL,
    group="connection",
    since="1.0.0",
    summary="Ping the server",
    complexity="O(1)",
    acl=Acl.CONNECTION,
    tips=("request_policy:all_shards", "response_policy:all_succeeded"),
    args=(docs.string("message", optional=True),),
)
def ping(c: Client, argv: Argv) -> bytes:
    if len(argv) > 2:
        raise errors.wrong_arity("ping")
    if c.pubsub_mode and c.resp == 2:  # a subscribed RESP2 client gets a "pong" frame
        return b"*2\r\n$4\r\npong\r\n" + resp.bulk(argv[1] if len(argv) == 2 else b"")
    if len(argv) == 2:
        return resp.bulk(argv[1])
    return resp.PONG


@NODE.command(
    "echo",
    2,
    Flag.LOADING | Flag.STALE | Flag.FAST,
    group="connection",
    since="1.0.0",
    summary="Echo the given string",
    complexity="O(1)",
    acl=Acl.CONNECTION,
    args=(docs.string("message"),),
)
def echo(c: Client, argv: Argv) -> bytes:
    return resp.bulk(argv[1])


@NODE.command(
    "quit",
    -1,
    _NO_AUTH_FLAGS,
    group="connection",
    since="1.0.0",
    summary="Close the connection",
    complexity="O(1)",
    acl=Acl.CONNECTION,
)
def quit_(c: Client, argv: Argv) -> bytes:
    c.close_after_reply = True
    return resp.OK


@NODE.command(
    "select",
    2,
    Flag.LOADING | Flag.STALE | Flag.FAST,
    group="connection",
    since="1.0.0",
    summary="Change the selected database for the current connection",
    complexity="O(1)",
    acl=Acl.CONNECTION,
    args=(docs.integer("index"),),
)
def select(c: Client, argv: Argv) -> bytes:
    index = int_arg(argv[1])
    if not -(2**31) <= index < 2**31:  # getIntFromObjectOrReply: a C int
        raise CommandError(errors.INT_RANGE)
    if index and c.engine.cluster is not None:
        raise CommandError(errors.SELECT_CLUSTER)
    if not 0 <= index < len(c.engine.keyspace.dbs):
        raise CommandError(errors.DB_INDEX)
    c.db = c.engine.keyspace.dbs[index]
    return resp.OK


# --- AUTH HELLO RESET -------------------------------------------------------------------
def _authenticate(c: Client, user: bytes, password: bytes, argv: Argv) -> None:
    """ACLAuthenticateUser; WRONGPASS (and an ACL LOG "auth" entry) when it refuses."""
    if not c.engine.acl.authenticate(c, user, password, argv):
        raise CommandError(errors.WRONGPASS)


@NODE.command(
    "auth",
    -2,
    _NO_AUTH_FLAGS,
    group="connection",
    since="1.0.0",
    summary="Authenticate to the server",
    complexity="O(N) where N is the number of passwords defined for the user",
    acl=Acl.CONNECTION,
    history=(("6.0.0", "Added ACL style (username and password)."),),
    args=(docs.string("username", since="6.0.0", optional=True), docs.string("password")),
)
def auth(c: Client, argv: Argv) -> bytes:
    if len(argv) > 3:
        raise CommandError(errors.SYNTAX)
    if len(argv) == 2:
        # The old one-argument form is refused outright when no password is set, as Redis
        # does, so a misconfigured client notices.
        if c.engine.acl.default.nopass:
            raise CommandError(errors.AUTH_NOT_CONFIGURED)
        _authenticate(c, b"default", argv[1], argv)
    else:
        _authenticate(c, argv[1], argv[2], argv)
    return resp.OK


@NODE.command(
    "hello",
    -1,
    _NO_AUTH_FLAGS,
    group="connection",
    since="6.0.0",
    summary="Handshake with Redis",
    complexity="O(1)",
    acl=Acl.CONNECTION,
    history=(
        (
            "6.2.0",
            "`protover` made optional; when called without arguments "
            "the command reports the current connection's context.",
        ),
    ),
    args=(
        docs.block(
            "arguments",
            docs.integer("protover"),
            docs.block(
                "username_password",
                docs.string("username"),
                docs.string("password"),
                token="AUTH",
                optional=True,
            ),
            docs.string("clientname", token="SETNAME", optional=True),
            optional=True,
        ),
    ),
)
def hello(c: Client, argv: Argv) -> bytes:
    version = 0
    if len(argv) > 1:
        version = int_arg(argv[1], errors.HELLO_PROTOVER)
        if version not in (2, 3):
            raise CommandError(errors.NOPROTO)
    credentials: tuple[bytes, bytes] | None = None
    name: bytes | None = None
    i = 2
    while i < len(argv):
        word, more = option(argv[i]), len(argv) - 1 - i
        if word == b"AUTH" and more >= 2:
            credentials = (argv[i + 1], argv[i + 2])
            i += 3
        elif word == b"SETNAME" and more:
            name = argv[i + 1]
            if name.translate(None, _NAME_CHARS):
                raise CommandError(errors.CLIENT_NAME_INVALID)
            i += 2
        else:
            raise CommandError(errors.HELLO_SYNTAX.format(_text(argv[i])))
    if credentials is not None:
        _authenticate(c, *credentials, argv)
    if not c.authenticated:
        raise CommandError(errors.NOAUTH_HELLO)
    if name is not None:
        c.name = name
    if version:
        c.resp = version
    engine = c.engine
    return resp.encode(
        {
            "server": "redis",
            "version": VERSION,
            "proto": c.resp,
            "id": c.id,
            "mode": "cluster" if engine.config.bool("cluster-enabled") else "standalone",
            "role": "master" if engine.replication.master_host is None else "replica",
            "modules": [],
        },
        c.resp,
    )


@NODE.command(
    "reset",
    1,
    _NO_AUTH_FLAGS,
    group="connection",
    since="6.2.0",
    summary="Reset the connection",
    complexity="O(1)",
    acl=Acl.CONNECTION,
)
def reset(c: Client, argv: Argv) -> bytes:
    # Redis's clearClientConnectionState. NO-EVICT survives a RESET in 7.0 (checked against
    # 7.0.15); NO-TOUCH (7.2) does not.
    engine = c.engine
    discard_transaction(c)
    engine.pubsub.drop_client(c)
    c.db = engine.keyspace.dbs[0]
    c.resp = 2
    c.name = b""
    c.reply_mode = REPLY_ON  # before the reply, so +RESET is always delivered
    c.no_touch = False
    c.asking = False  # and READONLY (cluster mode)
    c.flags = c.flags.replace("r", "")
    engine.observer.stop_monitor(c)
    if c.tracking:
        engine.tracking.disable(c)
    engine.acl.set_default_auth(c)
    return _RESET


# --- CLIENT -----------------------------------------------------------------------------
NODE.container(
    "client",
    group="connection",
    since="2.4.0",
    summary="A container for client connection commands",
    complexity="Depends on subcommand.",
)


def client_flags(cl: Client) -> str:
    present = set(cl.flags)
    for letter, on in (
        ("x", cl.multi is not None),
        ("b", cl.blocked is not None),
        ("P", cl.pubsub_mode),
        ("t", bool(cl.tracking & tracking.ON)),
        ("R", bool(cl.tracking & tracking.BROKEN_REDIR)),
        ("B", bool(cl.tracking & tracking.BCAST)),
        ("d", cl.watch_dirty),
        ("c", cl.close_after_reply),
        ("e", cl.no_evict),
        ("T", cl.no_touch),
    ):
        if on:
            present.add(letter)
    return "".join(letter for letter in _FLAG_ORDER if letter in present) or "N"


def client_type(cl: Client) -> str:
    """getClientType: master, replica (monitors count as normal), pubsub or normal."""
    flags = client_flags(cl)
    if "M" in flags:
        return "master"
    if "S" in flags and "O" not in flags:
        return "replica"
    if "P" in flags:
        return "pubsub"
    return "normal"


def _parse_type(raw: bytes) -> str:
    kind = _CLIENT_TYPES.get(option(raw))
    if kind is None:
        raise CommandError(errors.CLIENT_TYPE_UNKNOWN.format(_text(raw)))
    return kind


def client_line(cl: Client, now_ms: int, argv: Argv | None = None) -> bytes:
    """One CLIENT LIST / CLIENT INFO line (with its newline), Redis 7.0's fields in order.

    `argv` is the request being executed when `cl` is the caller: only that client has a
    query buffer and argv in Redis at that moment. The buffer and memory figures are the
    connection's real ones (node/engine/clientmem.py).
    """
    mem = cl.engine.memory.clients.figures(cl, argv)
    multi = -1 if cl.multi is None else len(cl.multi)
    cmd = cl.last_command.fullname if cl.last_command is not None else "NULL"
    redir = cl.tracking_redirect if cl.tracking & tracking.ON else -1
    return b"".join(
        (
            b"id=%d addr=%s laddr=%s fd=%d name=%s age=%d idle=%d flags=%s db=%d sub=%d psub=%d "
            % (
                cl.id,
                cl.addr.encode(),
                cl.laddr.encode(),
                cl.fd,
                cl.name,
                (now_ms - cl.created_ms) // 1000,
                max(0, now_ms - cl.last_interaction_ms) // 1000,
                client_flags(cl).encode(),
                cl.db.index,
                len(cl.channels),
                len(cl.patterns),
            ),
            b"ssub=%d multi=%d qbuf=%d qbuf-free=%d argv-mem=%d multi-mem=%d rbs=1024 rbp=%d "
            % (
                len(cl.shard_channels),
                multi,
                mem.qbuf,
                mem.qbuf_free,
                mem.argv_mem,
                mem.multi_mem,
                mem.qbuf,
            ),
            b"obl=%d oll=%d omem=%d tot-mem=%d events=r cmd=%s user=%s redir=%d resp=%d\n"
            % (mem.obl, mem.oll, mem.omem, mem.tot_mem, cmd.encode(), cl.user.name, redir, cl.resp),
        )
    )


@NODE.command(
    "id",
    2,
    _CLIENT_FLAGS,
    group="connection",
    since="5.0.0",
    summary="Returns the client ID for the current connection",
    complexity="O(1)",
    acl=Acl.CONNECTION,
    container="client",
)
def client_id(c: Client, argv: Argv) -> bytes:
    return resp.integer(c.id)


@NODE.command(
    "unblock",
    -3,
    Flag.ADMIN | Flag.NOSCRIPT | Flag.LOADING | Flag.STALE,
    group="connection",
    since="5.0.0",
    summary="Unblock a client blocked in a blocking command from a different connection",
    complexity="O(log N) where N is the number of client connections",
    acl=Acl.CONNECTION,
    container="client",
    args=(
        docs.integer("client-id"),
        docs.oneof(
            "timeout_error",
            docs.token("timeout", "TIMEOUT"),
            docs.token("error", "ERROR"),
            optional=True,
        ),
    ),
)
def client_unblock(c: Client, argv: Argv) -> bytes:
    client_id = int_arg(argv[2])
    as_error = False
    if len(argv) == 4:
        reason = option(argv[3])
        if reason not in (b"TIMEOUT", b"ERROR"):
            raise CommandError("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
        as_error = reason == b"ERROR"
    elif len(argv) > 4:
        raise CommandError(errors.SUBCOMMAND_SYNTAX.format("UNBLOCK", "CLIENT"))
    target = c.engine.clients.get(client_id)
    if target is None or target.blocked is None or target.blocked.block.postponed:
        # A client CLIENT PAUSE holds is not blocked on anything it could be released from.
        return resp.ZERO
    reply = (
        resp.error("UNBLOCKED client unblocked via CLIENT UNBLOCK")
        if as_error
        else target.blocked.block.on_timeout
    )
    c.engine.unblock(target, reply)
    return resp.ONE


@NODE.command(
    "info",
    2,
    _CLIENT_FLAGS,
    group="connection",
    since="6.2.0",
    summary="Returns information about the current client connection.",
    complexity="O(1)",
    acl=Acl.CONNECTION,
    tips=("nondeterministic_output",),
    container="client",
)
def client_info(c: Client, argv: Argv) -> bytes:
    return resp.verbatim(client_line(c, c.engine.now_ms, argv), c.resp)


@NODE.command(
    "list",
    -2,
    _CLIENT_ADMIN,
    group="connection",
    since="2.4.0",
    summary="Get the list of client connections",
    complexity="O(N) where N is the number of client connections",
    acl=Acl.CONNECTION,
    tips=("nondeterministic_output",),
    history=(
        ("2.8.12", "Added unique client `id` field."),
        ("5.0.0", "Added optional `TYPE` filter."),
        ("6.0.0", "Added `user` field."),
        (
            "6.2.0",
            "Added `argv-mem`, `tot-mem`, `laddr` and `redir` fields and the optional `ID` filter.",
        ),
        ("7.0.0", "Added `resp`, `multi-mem`, `rbs` and `rbp` fields."),
        ("7.0.3", "Added `ssub` field."),
    ),
    args=(
        docs.oneof(
            "normal_master_replica_pubsub",
            docs.token("normal", "NORMAL"),
            docs.token("master", "MASTER"),
            docs.token("replica", "REPLICA"),
            docs.token("pubsub", "PUBSUB"),
            token="TYPE",
            since="5.0.0",
            optional=True,
        ),
        docs.block(
            "id", docs.integer("client-id", multiple=True), token="ID", since="6.2.0", optional=True
        ),
    ),
    container="client",
)
def client_list(c: Client, argv: Argv) -> bytes:
    clients = c.engine.clients
    if len(argv) == 4 and option(argv[2]) == b"TYPE":
        kind = _parse_type(argv[3])
        chosen = [cl for cl in clients.values() if client_type(cl) == kind]
    elif len(argv) > 3 and option(argv[2]) == b"ID":
        # Every id is parsed before any is listed; unknown ids are skipped and repeated
        # ones listed again, as Redis does.
        ids = [int_arg(raw, errors.CLIENT_ID_INVALID) for raw in argv[3:]]
        chosen = [clients[i] for i in ids if i in clients]
    elif len(argv) != 2:
        raise CommandError(errors.SYNTAX)
    else:
        chosen = list(clients.values())
    now = c.engine.now_ms
    text = b"".join(client_line(cl, now, argv if cl is c else None) for cl in chosen)
    return resp.verbatim(text, c.resp)


def _kill_filter(c: Client, argv: Argv) -> tuple[dict[str, object], bool]:
    """CLIENT KILL's new form: <option> <value> pairs -> (filters, skipme)."""
    filters: dict[str, object] = {}
    skipme = True
    for i in range(2, len(argv), 2):
        word = option(argv[i])
        if i + 1 >= len(argv):
            raise CommandError(errors.SYNTAX)
        value = argv[i + 1]
        if word == b"ID":
            client_id_ = int_arg(value, errors.CLIENT_ID_POSITIVE)
            if client_id_ < 1:
                raise CommandError(errors.CLIENT_ID_POSITIVE)
            filters["id"] = client_id_
        elif word == b"TYPE":
            filters["type"] = _parse_type(value)
        elif word in (b"ADDR", b"LADDR"):
            filters[word.decode().lower()] = value
        elif word == b"USER":
            user = c.engine.acl.users.get(value)
            if user is None:
                raise CommandError(errors.NO_SUCH_USER.format(_text(value)))
            filters["user"] = user
        elif word == b"SKIPME":
            skip = option(value)
            if skip not in (b"YES", b"NO"):
                raise CommandError(errors.SYNTAX)
            skipme = skip == b"YES"
        else:
            raise CommandError(errors.SYNTAX)
    return filters, skipme


def _matches(cl: Client, filters: dict[str, object]) -> bool:
    return all(
        (
            filters.get("addr", cl.addr.encode()) == cl.addr.encode(),
            filters.get("laddr", cl.laddr.encode()) == cl.laddr.encode(),
            filters.get("type", client_type(cl)) == client_type(cl),
            filters.get("id", cl.id) == cl.id,
            filters.get("user", cl.user) is cl.user,
        )
    )


@NODE.command(
    "kill",
    -3,
    _CLIENT_ADMIN,
    group="connection",
    since="2.4.0",
    summary="Kill the connection of a client",
    complexity="O(N) where N is the number of client connections",
    acl=Acl.CONNECTION,
    history=(
        ("2.8.12", "Added new filter format."),
        ("2.8.12", "`ID` option."),
        ("3.2.0", "Added `master` type in for `TYPE` option."),
        (
            "5.0.0",
            "Replaced `slave` `TYPE` with `replica`. `slave` still "
            "supported for backward compatibility.",
        ),
        ("6.2.0", "`LADDR` option."),
    ),
    args=(
        docs.oneof(
            "filter",
            docs.string("ip:port", deprecated_since="2.8.12"),
            docs.oneof(
                "new-format",
                docs.integer("client-id", token="ID", since="2.8.12", optional=True),
                docs.oneof(
                    "normal_master_slave_pubsub",
                    docs.token("normal", "NORMAL"),
                    docs.token("master", "MASTER", since="3.2.0"),
                    docs.token("slave", "SLAVE"),
                    docs.token("replica", "REPLICA", since="5.0.0"),
                    docs.token("pubsub", "PUBSUB"),
                    token="TYPE",
                    since="2.8.12",
                    optional=True,
                ),
                docs.string("username", token="USER", optional=True),
                docs.string("ip:port", token="ADDR", optional=True),
                docs.string("ip:port", token="LADDR", since="6.2.0", optional=True),
                docs.string("yes/no", token="SKIPME", optional=True),
                multiple=True,
            ),
        ),
    ),
    container="client",
)
def client_kill(c: Client, argv: Argv) -> bytes:
    old_form = len(argv) == 3
    if old_form:
        # CLIENT KILL <ip:port>: with this form a client may kill itself.
        filters: dict[str, object] = {"addr": argv[2]}
        skipme = False
    else:
        filters, skipme = _kill_filter(c, argv)
    engine = c.engine
    killed = 0
    for cl in list(engine.clients.values()):
        if not _matches(cl, filters) or (cl is c and skipme):
            continue
        killed += 1
        if cl is c:
            c.close_after_reply = True  # after this reply, as Redis flags CLOSE_AFTER_REPLY
        else:
            engine.disconnect(cl)
            engine.clients_to_close.append(cl)
    if old_form:
        if not killed:
            raise CommandError(errors.NO_SUCH_CLIENT)
        return resp.OK
    return resp.integer(killed)


@NODE.command(
    "setname",
    3,
    _CLIENT_FLAGS,
    group="connection",
    since="2.6.9",
    summary="Set the current connection name",
    complexity="O(1)",
    acl=Acl.CONNECTION,
    args=(docs.string("connection-name"),),
    container="client",
)
def client_setname(c: Client, argv: Argv) -> bytes:
    name = argv[2]
    if name.translate(None, _NAME_CHARS):
        raise CommandError(errors.CLIENT_NAME_INVALID)
    c.name = name  # an empty name removes it
    return resp.OK


@NODE.command(
    "getname",
    2,
    _CLIENT_FLAGS,
    group="connection",
    since="2.6.9",
    summary="Get the current connection name",
    complexity="O(1)",
    acl=Acl.CONNECTION,
    container="client",
)
def client_getname(c: Client, argv: Argv) -> bytes:
    return resp.bulk_or_null(c.name or None, c.resp)


@NODE.command(
    "reply",
    3,
    _CLIENT_FLAGS,
    group="connection",
    since="3.2.0",
    summary="Instruct the server whether to reply to commands",
    complexity="O(1)",
    acl=Acl.CONNECTION,
    args=(
        docs.oneof(
            "on_off_skip",
            docs.token("on", "ON"),
            docs.token("off", "OFF"),
            docs.token("skip", "SKIP"),
        ),
    ),
    container="client",
)
def client_reply(c: Client, argv: Argv) -> bytes:
    # OFF and SKIP answer nothing: the engine drops this command's (empty) reply in the new
    # mode; SKIP_NEXT then turns into "skip the next command's reply".
    word = option(argv[2])
    if word == b"ON":
        c.reply_mode = REPLY_ON
        return resp.OK
    if word == b"OFF":
        c.reply_mode = REPLY_OFF
    elif word == b"SKIP":
        if c.reply_mode != REPLY_OFF:  # SKIP means nothing while replies are off
            c.reply_mode = REPLY_SKIP_NEXT
    else:
        raise CommandError(errors.SYNTAX)
    return b""


@NODE.command(
    "pause",
    -3,
    _CLIENT_ADMIN,
    group="connection",
    since="2.9.50",
    summary="Stop processing commands from clients for some time",
    complexity="O(1)",
    acl=Acl.CONNECTION,
    history=(("6.2.0", "`CLIENT PAUSE WRITE` mode added along with the `mode` option."),),
    args=(
        docs.integer("timeout"),
        docs.oneof(
            "mode",
            docs.token("write", "WRITE"),
            docs.token("all", "ALL"),
            since="6.2.0",
            optional=True,
        ),
    ),
    container="client",
)
def client_pause(c: Client, argv: Argv) -> bytes:
    if len(argv) > 4:
        raise CommandError(errors.SUBCOMMAND_SYNTAX.format(_text(argv[1]), "CLIENT"))
    pause_all = True
    if len(argv) == 4:  # the mode is checked before the timeout, as Redis does
        mode = option(argv[3])
        if mode not in (b"WRITE", b"ALL"):
            raise CommandError("ERR CLIENT PAUSE mode must be WRITE or ALL")
        pause_all = mode == b"ALL"
    end = timeout_to_deadline(argv[2], c.engine.now_ms, seconds=False)
    c.engine.observer.pause_clients(end, pause_all)
    return resp.OK


@NODE.command(
    "unpause",
    2,
    _CLIENT_ADMIN,
    group="connection",
    since="6.2.0",
    summary="Resume processing of clients that were paused",
    complexity="O(N) Where N is the number of paused clients",
    acl=Acl.CONNECTION,
    container="client",
)
def client_unpause(c: Client, argv: Argv) -> bytes:
    c.engine.observer.end_pause()
    return resp.OK


@NODE.command(
    "no-evict",
    3,
    _CLIENT_ADMIN,
    group="connection",
    since="7.0.0",
    summary="Set client eviction mode for the current connection",
    complexity="O(1)",
    acl=Acl.CONNECTION,
    args=(docs.oneof("enabled", docs.token("on", "ON"), docs.token("off", "OFF")),),
    container="client",
)
def client_no_evict(c: Client, argv: Argv) -> bytes:
    c.no_evict = _on_off(argv[2])
    return resp.OK


@NODE.command(
    "no-touch",
    3,
    _CLIENT_FLAGS,
    group="connection",
    since="7.2.0",
    summary="Controls whether commands sent by the client affect the LRU/LFU of accessed keys.",
    complexity="O(1)",
    acl=Acl.CONNECTION,
    args=(docs.oneof("enabled", docs.token("on", "ON"), docs.token("off", "OFF")),),
    container="client",
)
def client_no_touch(c: Client, argv: Argv) -> bytes:
    c.no_touch = _on_off(argv[2])
    return resp.OK


@NODE.command(
    "setinfo",
    4,
    _CLIENT_FLAGS | Flag.SENTINEL,
    group="connection",
    since="7.2.0",
    summary="Sets information specific to the client or connection.",
    complexity="O(1)",
    acl=Acl.CONNECTION,
    tips=("request_policy:all_nodes", "response_policy:all_succeeded"),
    args=(
        docs.oneof(
            "attr", docs.string("libname", token="LIB-NAME"), docs.string("libver", token="LIB-VER")
        ),
    ),
    container="client",
)
def client_setinfo(c: Client, argv: Argv) -> bytes:
    attr, value = option(argv[2]), argv[3]
    if attr not in (b"LIB-NAME", b"LIB-VER"):
        raise CommandError(errors.CLIENT_SETINFO_OPTION.format(_text(argv[2])))
    if value.translate(None, _NAME_CHARS):
        raise CommandError(errors.CLIENT_ATTR_INVALID.format(_text(argv[2])))
    if attr == b"LIB-NAME":
        c.lib_name = value
    else:
        c.lib_ver = value
    return resp.OK


# --- client-side caching (node/engine/tracking.py) ------------------------------------
_TRACKING_OPTIONS: Final = {
    b"BCAST": tracking.BCAST,
    b"OPTIN": tracking.OPTIN,
    b"OPTOUT": tracking.OPTOUT,
    b"NOLOOP": tracking.NOLOOP,
}


def _c_text(raw: bytes) -> str:
    """User bytes printed with %s: up to the first NUL, bytes kept (resp.error)."""
    return raw.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _overlap(a: bytes, b: bytes) -> bool:
    """Two BCAST prefixes collide when one starts the other (Redis's stringCheckPrefix)."""
    return a.startswith(b) or b.startswith(a)


def _prefix_collision(c: Client, prefixes: list[bytes]) -> tuple[str, bool] | None:
    """Redis's checkPrefixCollisionsOrReply: (error, fatal) for the first collision. Redis
    returns the index of a prefix that collides with a later one given in the same
    command as its verdict, so a collision found from the second prefix on is reported
    and then ignored (`fatal` False): tracking is enabled and +OK follows the error."""
    for i, prefix in enumerate(prefixes):
        for existing in c.tracking_prefixes:
            if _overlap(existing, prefix):
                return errors.TRACKING_PREFIX_OVERLAPS_EXISTING.format(
                    _c_text(prefix), _c_text(existing)
                ), True
        for later in prefixes[i + 1 :]:
            if _overlap(prefix, later):
                return errors.TRACKING_PREFIX_OVERLAPS_GIVEN.format(
                    _c_text(prefix), _c_text(later)
                ), i == 0
    return None


def _tracking_checks(c: Client, options: int, prefixes: list[bytes]) -> None:
    """CLIENT TRACKING ON's option checks, in Redis's order."""
    if not options & tracking.BCAST and prefixes:
        raise CommandError(errors.TRACKING_PREFIX_NEEDS_BCAST)
    if c.tracking & tracking.ON and (c.tracking ^ options) & tracking.BCAST:
        raise CommandError(errors.TRACKING_BCAST_SWITCH)
    opt_in_out = tracking.OPTIN | tracking.OPTOUT
    if options & tracking.BCAST and options & opt_in_out:
        raise CommandError(errors.TRACKING_OPT_WITH_BCAST)
    if options & opt_in_out == opt_in_out:
        raise CommandError(errors.TRACKING_OPTIN_AND_OPTOUT)
    if (options & tracking.OPTIN and c.tracking & tracking.OPTOUT) or (
        options & tracking.OPTOUT and c.tracking & tracking.OPTIN
    ):
        raise CommandError(errors.TRACKING_OPT_SWITCH)


@NODE.command(
    "tracking",
    -3,
    _CLIENT_FLAGS,
    group="connection",
    since="6.0.0",
    summary="Enable or disable server assisted client side caching support",
    complexity="O(1). Some options may introduce additional complexity.",
    acl=Acl.CONNECTION,
    args=(
        docs.oneof("status", docs.token("on", "ON"), docs.token("off", "OFF")),
        docs.integer("client-id", token="REDIRECT", optional=True),
        docs.string("prefix", token="PREFIX", optional=True, multiple=True, multiple_token=True),
        docs.token("bcast", "BCAST", optional=True),
        docs.token("optin", "OPTIN", optional=True),
        docs.token("optout", "OPTOUT", optional=True),
        docs.token("noloop", "NOLOOP", optional=True),
    ),
    container="client",
)
def client_tracking(c: Client, argv: Argv) -> bytes:
    engine = c.engine
    redirect, options = 0, 0
    prefixes: list[bytes] = []
    j, last = 3, len(argv) - 1
    while j <= last:
        word = option(argv[j])
        if word == b"REDIRECT" and j < last:
            j += 1
            if redirect:
                raise CommandError(errors.TRACKING_ONE_REDIRECT)
            redirect = int_arg(argv[j])
            # The target must exist now, even though it may go away later.
            if redirect not in engine.clients:
                raise CommandError(errors.TRACKING_NO_REDIRECT_TARGET)
        elif word in _TRACKING_OPTIONS:
            options |= _TRACKING_OPTIONS[word]
        elif word == b"PREFIX" and j < last:
            j += 1
            prefixes.append(argv[j])
        else:
            raise CommandError(errors.SYNTAX)
        j += 1
    switch = option(argv[2])
    if switch == b"OFF":
        if c.tracking:
            engine.tracking.disable(c)
        return resp.OK
    if switch != b"ON":
        raise CommandError(errors.SYNTAX)
    _tracking_checks(c, options, prefixes)
    reported = b""
    if options & tracking.BCAST:
        collision = _prefix_collision(c, prefixes)
        if collision is not None:
            message, fatal = collision
            if fatal:
                raise CommandError(message)
            # Redis's reply for this case: the error, then +OK (see _prefix_collision).
            engine.count_error(message)
            reported = resp.error(message)
    engine.tracking.enable(c, redirect, options, prefixes)
    return reported + resp.OK


@NODE.command(
    "caching",
    3,
    _CLIENT_FLAGS,
    group="connection",
    since="6.0.0",
    summary="Instruct the server about tracking or not keys in the next request",
    complexity="O(1)",
    acl=Acl.CONNECTION,
    args=(docs.oneof("mode", docs.token("yes", "YES"), docs.token("no", "NO")),),
    container="client",
)
def client_caching(c: Client, argv: Argv) -> bytes:
    if not c.tracking & tracking.ON:
        raise CommandError(errors.CACHING_NOT_TRACKING)
    word = option(argv[2])
    if word == b"YES":
        if not c.tracking & tracking.OPTIN:
            raise CommandError(errors.CACHING_YES_NOT_OPTIN)
    elif word == b"NO":
        if not c.tracking & tracking.OPTOUT:
            raise CommandError(errors.CACHING_NO_NOT_OPTOUT)
    else:
        raise CommandError(errors.SYNTAX)
    # Lasts for the next command (or transaction): Tracking.after_command clears it.
    c.tracking |= tracking.CACHING
    return resp.OK


@NODE.command(
    "getredir",
    2,
    _CLIENT_FLAGS,
    group="connection",
    since="6.0.0",
    summary="Get tracking notifications redirection client ID if any",
    complexity="O(1)",
    acl=Acl.CONNECTION,
    container="client",
)
def client_getredir(c: Client, argv: Argv) -> bytes:
    return resp.integer(c.tracking_redirect if c.tracking & tracking.ON else -1)


_TRACKING_FLAG_NAMES: Final = (
    (tracking.BCAST, b"bcast"),
    (tracking.OPTIN, b"optin"),
    (tracking.OPTOUT, b"optout"),
    (tracking.NOLOOP, b"noloop"),
    (tracking.BROKEN_REDIR, b"broken_redirect"),
)


@NODE.command(
    "trackinginfo",
    2,
    _CLIENT_FLAGS,
    group="connection",
    since="6.2.0",
    summary="Return information about server assisted client side caching for the "
    "current connection",
    complexity="O(1)",
    acl=Acl.CONNECTION,
    container="client",
)
def client_trackinginfo(c: Client, argv: Argv) -> bytes:
    flags = c.tracking
    names = [b"on" if flags & tracking.ON else b"off"]
    for bit, name in _TRACKING_FLAG_NAMES:
        if flags & bit:
            names.append(name)
            if flags & tracking.CACHING and bit in (tracking.OPTIN, tracking.OPTOUT):
                names.append(b"caching-yes" if bit == tracking.OPTIN else b"caching-no")
    return b"".join(
        (
            resp.map_header(3, c.resp),
            resp.bulk(b"flags"),
            resp.set_header(len(names), c.resp),
            *(resp.bulk(name) for name in names),
            resp.bulk(b"redirect"),
            resp.integer(c.tracking_redirect if flags & tracking.ON else -1),
            resp.bulk(b"prefixes"),
            resp.bulk_array(c.tracking_prefixes),
        )
    )


_CLIENT_HELP: Final = (
    b"CACHING (YES|NO)",
    b"    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
    b"GETREDIR",
    b"    Return the client ID we are redirecting to when tracking is enabled.",
    b"GETNAME",
    b"    Return the name of the current connection.",
    b"ID",
    b"    Return the ID of the current connection.",
    b"INFO",
    b"    Return information about the current client connection.",
    b"KILL <ip:port>",
    b"    Kill connection made from <ip:port>.",
    b"KILL <option> <value> [<option> <value> [...]]",
    b"    Kill connections. Options are:",
    b"    * ADDR (<ip:port>|<unixsocket>:0)",
    b"      Kill connections made from the specified address",
    b"    * LADDR (<ip:port>|<unixsocket>:0)",
    b"      Kill connections made to specified local address",
    b"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    b"      Kill connections by type.",
    b"    * USER <username>",
    b"      Kill connections authenticated by <username>.",
    b"    * SKIPME (YES|NO)",
    b"      Skip killing current connection (default: yes).",
    b"LIST [options ...]",
    b"    Return information about client connections. Options:",
    b"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    b"      Return clients of specified type.",
    b"UNPAUSE",
    b"    Stop the current client pause, resuming traffic.",
    b"PAUSE <timeout> [WRITE|ALL]",
    b"    Suspend all, or just write, clients for <timeout> milliseconds.",
    b"REPLY (ON|OFF|SKIP)",
    b"    Control the replies sent to the current connection.",
    b"SETNAME <name>",
    b"    Assign the name <name> to the current connection.",
    b"UNBLOCK <clientid> [TIMEOUT|ERROR]",
    b"    Unblock the specified blocked client.",
    b"TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
    b"         [OPTIN] [OPTOUT] [NOLOOP]",
    b"    Control server assisted client side caching.",
    b"TRACKINGINFO",
    b"    Report tracking status for the current connection.",
    b"NO-EVICT (ON|OFF)",
    b"    Protect current client connection from eviction.",
)


@NODE.command(
    "help",
    2,
    Flag.LOADING | Flag.STALE,
    group="connection",
    since="5.0.0",
    summary="Show helpful text about the different subcommands",
    complexity="O(1)",
    acl=Acl.CONNECTION,
    container="client",
)
def client_help(c: Client, argv: Argv) -> bytes:
    return resp.help_reply(argv[0], _CLIENT_HELP)
