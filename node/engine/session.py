"""Per-connection state as the engine sees it (Redis's `client` struct, minus the socket).

Rules: the engine appends reply bytes to `out`; the shell sends them and clears the list.
Anything the engine wants the shell to do with a connection is a field here
(`close_after_reply`), never a call into I/O. Pure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from node.commands.registry import CommandSpec
    from node.engine.acl import User
    from node.engine.blocking import Blocked
    from node.engine.engine import Engine
    from node.engine.keyspace import Database

# CLIENT REPLY modes
REPLY_ON, REPLY_OFF, REPLY_SKIP_NEXT, REPLY_SKIP = 0, 1, 2, 3
# The id of the pseudo client that replays the AOF at start-up (Redis's CLIENT_ID_AOF):
# commands may accept from it what they accept from a master only.
AOF_CLIENT_ID = 2**64 - 1


class Client:
    """One client connection's state."""

    __slots__ = (
        "__weakref__",
        "addr",
        "asking",
        "authenticated",
        "backlog",
        "blocked",
        "channels",
        "close_after_reply",
        "created_ms",
        "db",
        "engine",
        "fd",
        "flags",
        "full_access",
        "id",
        "info",
        "is_local",
        "last_command",
        "last_interaction_ms",
        "laddr",
        "lib_name",
        "lib_ver",
        "multi",
        "multi_error",
        "name",
        "no_evict",
        "no_touch",
        "out",
        "patterns",
        "pubsub_mode",
        "reply_mode",
        "resp",
        "shard_channels",
        "tracking",
        "tracking_prefixes",
        "tracking_redirect",
        "user",
        "watch_dirty",
        "watching",
        "woff",
    )

    def __init__(
        self, engine: Engine, client_id: int, addr: str = "", laddr: str = "", is_local: bool = True
    ) -> None:
        self.engine = engine
        self.id = client_id
        self.addr = addr
        self.laddr = laddr
        self.is_local = is_local
        self.fd = -1  # the socket's descriptor, set by the shell (CLIENT LIST fd=)
        self.db: Database = engine.keyspace.dbs[0]
        self.resp = 2
        self.name = b""
        self.lib_name = b""
        self.lib_ver = b""
        # The ACL user (Redis's c->user) and whether AUTH succeeded (or was not needed when
        # the client connected). `full_access`: may skip the auth and ACL guards (see
        # node/engine/acl.py), kept up to date by the ACL code.
        self.user: User = engine.acl.default
        self.authenticated = engine.acl.default_open
        self.full_access = False
        engine.acl.refresh(self)
        self.out: list[bytes] = []
        self.close_after_reply = False
        self.reply_mode = REPLY_ON
        self.multi: list[list[bytes]] | None = None
        self.multi_error = False
        self.watching: list[tuple[Database, bytes, bool]] = []  # (db, key, expired then)
        self.watch_dirty = False
        self.blocked: Blocked | None = None  # set while parked by a blocking command
        # Commands that arrived while the client was parked (or after the command that
        # parked it): they run, in order, once it is released (Redis keeps them unread in
        # its query buffer).
        self.backlog: list[list[bytes]] = []
        # Pub/Sub subscriptions (ordered sets); pubsub_mode is true while any exists.
        self.channels: dict[bytes, None] = {}
        self.patterns: dict[bytes, None] = {}
        self.shard_channels: dict[bytes, None] = {}
        self.pubsub_mode = False
        # Client-side caching (CLIENT TRACKING): node/engine/tracking.py's flag bits (0 when
        # off), the client id invalidations go to (0: this connection) and, in BCAST mode,
        # the key prefixes.
        self.tracking = 0
        self.tracking_redirect = 0
        self.tracking_prefixes: list[bytes] = []
        self.created_ms = engine.keyspace.now_ms
        self.last_interaction_ms = engine.keyspace.now_ms
        # Redis's lastcmd: set by the dispatcher, shown as CLIENT LIST's cmd= (NULL if None).
        self.last_command: CommandSpec | None = None
        self.no_evict = False
        self.no_touch = False
        self.flags = ""
        # The replication offset right after this client's last propagated write (WAIT).
        self.woff = 0
        # Cluster mode: ASKING was sent (good for the next command, or the whole MULTI it
        # preceded). READONLY is the "r" in `flags`.
        self.asking = False
        self.info: dict[str, object] = {}

    def __repr__(self) -> str:
        return f"<Client id={self.id} addr={self.addr}>"
