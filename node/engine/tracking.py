"""Client-side caching (Redis's tracking.c): which clients may hold which keys, and the
invalidation messages they get when those keys change.

Rules:
- The table maps a key name to the ids of the clients that read it (ids, not clients: a
  client that went away is skipped when the key changes, as Redis does). Names are global,
  not per database: a write to `k` in any database invalidates every cached `k`.
- Keys are remembered after a READONLY command run by (or for) a tracking client that is
  not in BCAST mode, from the command's key specs (`CommandSpec.key_positions`), honouring
  OPTIN/OPTOUT and CLIENT CACHING; Pub/Sub commands' shard channels are not keys. A read
  run by a script remembers the keys of the script command itself (its KEYS): Redis 7.0
  looks at the caller's command there, not at the one the script ran.
- An invalidation meant for the client whose command is running is queued and sent after
  that command's reply (Redis's tracking_pending_keys); the others are delivered at once,
  through `engine.woken` so the shell writes them. NOLOOP skips keys the client changed.
- BCAST clients register prefixes; keys changed under a prefix are collected and sent as
  one sorted array per prefix by `broadcast`, once per event-loop turn (Redis's
  beforeSleep, here `Engine.before_sleep`).
- Messages are a RESP3 push `invalidate`, or, for a connection that REDIRECTs to a RESP2
  client in Pub/Sub mode, a `message` on `__redis__:invalidate`; a RESP2 client without
  redirection gets nothing. After a flush the key array is a null in the TRACKING client's
  protocol, even when it is redirected to a client of the other one (as Redis sends it).
- A redirect target that went away turns the redirection broken: RESP3 clients are told
  with a `tracking-redir-broken` push each time a message cannot be delivered.
- Over `tracking-table-max-keys`, keys are dropped (and their holders told, as if the keys
  changed) oldest first, right after the command that grew the table or the config change;
  Redis drops random ones before the next command and from its cron.
Pure: no I/O.
"""

from __future__ import annotations

from bisect import insort
from typing import TYPE_CHECKING, Final

from node.commands.registry import Flag

if TYPE_CHECKING:
    from node.commands.registry import CommandSpec
    from node.engine.engine import Engine
    from node.engine.session import Client

# Client.tracking bits (Redis's CLIENT_TRACKING_* flags).
ON, BCAST, OPTIN, OPTOUT, CACHING, NOLOOP, BROKEN_REDIR = (1 << i for i in range(7))

_INVALIDATE: Final = b">2\r\n$10\r\ninvalidate\r\n"
_MESSAGE: Final = b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n"
_FLUSHED: Final = {2: b"$-1\r\n", 3: b"_\r\n"}  # the tracking client's own null
# How many table keys one eviction pass may drop, per pass that failed before (Redis's).
_EFFORT: Final = 100


def _key_array(keys: list[bytes]) -> bytes:
    return b"*%d\r\n" % len(keys) + b"".join(b"$%d\r\n%s\r\n" % (len(k), k) for k in keys)


class _Prefix:
    """One BCAST prefix: its subscribers and the keys changed under it since the last
    broadcast, each with the client that changed it last (None: expiry), for NOLOOP."""

    __slots__ = ("clients", "keys")

    def __init__(self) -> None:
        self.clients: dict[Client, None] = {}
        self.keys: dict[bytes, Client | None] = {}


class Tracking:
    """The tracking table, the BCAST prefixes and the invalidations of one node."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.table: dict[bytes, dict[int, None]] = {}  # key -> ids of clients caching it
        self.items = 0  # ids across the table (INFO tracking_total_items)
        self.prefixes: dict[bytes, _Prefix] = {}
        self.clients = 0  # connections with tracking on (INFO tracking_clients)
        # The tracking client whose command is running, and what it must hear after its
        # reply (a key, or None for "everything": a flush).
        self.current: Client | None = None
        self.pending: list[bytes | None] = []
        # The command `current` is running (innermost, for EXEC), whose keys a script's
        # reads are remembered under, as Redis 7.0 does.
        self.running: tuple[CommandSpec, list[bytes]] | None = None
        self._failed_evictions = 0

    # --- CLIENT TRACKING --------------------------------------------------------------
    def enable(self, client: Client, redirect: int, options: int, prefixes: list[bytes]) -> None:
        """Redis's enableTracking: flags replaced (CACHING kept), prefixes added."""
        if not client.tracking & ON:
            self.clients += 1
        if not self.engine.keyspace.dbs[0].tracking:
            # Redis creates the table on first use and keeps it: from now on every change
            # looks its key up.
            for db in self.engine.keyspace.dbs:
                db.tracking = True
        client.tracking = (client.tracking & CACHING) | ON | options
        client.tracking_redirect = redirect
        if options & BCAST:
            for prefix in prefixes or [b""]:
                state = self.prefixes.get(prefix)
                if state is None:
                    state = self.prefixes[prefix] = _Prefix()
                if client not in state.clients:
                    state.clients[client] = None
                    insort(client.tracking_prefixes, prefix)

    def disable(self, client: Client) -> None:
        """Redis's disableTracking (CLIENT TRACKING OFF, RESET, disconnection). The client's
        ids stay in the table until their keys change."""
        if client.tracking & BCAST:
            for prefix in client.tracking_prefixes:
                state = self.prefixes[prefix]
                del state.clients[client]
                if not state.clients:
                    del self.prefixes[prefix]
            client.tracking_prefixes = []
        if client.tracking & ON:
            self.clients -= 1
            client.tracking = 0

    # --- reads --------------------------------------------------------------------------
    def remember(self, client: Client, spec: CommandSpec, argv: list[bytes]) -> None:
        """Redis's trackingRememberKeys: `client` may now cache the keys `argv` read."""
        flags = client.tracking
        if flags & BCAST:
            return
        caching = flags & CACHING
        if (flags & OPTIN and not caching) or (flags & OPTOUT and caching):
            return
        if spec.flags & Flag.PUBSUB:
            return
        table, cid = self.table, client.id
        for pos in spec.key_positions(argv):
            key = argv[pos]
            ids = table.get(key)
            if ids is None:
                ids = table[key] = {}
            if cid not in ids:
                ids[cid] = None
                self.items += 1
        self.limit()

    # --- writes -------------------------------------------------------------------------
    def invalidate(self, key: bytes, by_command: bool) -> None:
        """Redis's trackingInvalidateKey for a key that changed, by the running command or
        (not by_command) by expiry."""
        modifier = self.current if by_command else None
        if self.prefixes:
            for prefix, state in self.prefixes.items():
                if key.startswith(prefix):
                    state.keys[key] = modifier
        self._invalidate(key, modifier)

    def _invalidate(self, key: bytes, modifier: Client | None) -> None:
        ids = self.table.pop(key, None)
        if ids is None:
            return
        self.items -= len(ids)
        clients = self.engine.clients
        for cid in ids:
            target = clients.get(cid)
            # Clients that stopped tracking, or switched to BCAST, have nothing cached.
            if target is None or target.tracking & (ON | BCAST) != ON:
                continue
            if target.tracking & NOLOOP and target is modifier:
                continue
            if target is self.current:
                self.pending.append(key)
            else:
                self._send(target, _key_array([key]))

    def flush(self) -> None:
        """Redis's trackingInvalidateKeysOnFlush (FLUSHDB, FLUSHALL): every tracking
        client hears that everything is invalid, and the table empties."""
        if self.clients:
            for client in list(self.engine.clients.values()):
                if client.tracking & ON:
                    if client is self.current:
                        self.pending.append(None)
                    else:
                        self._send(client, _FLUSHED[client.resp])
        self.table.clear()
        self.items = 0

    def after_command(self, client: Client, argv: list[bytes]) -> None:
        """The end of a tracking client's command (Redis's afterCommand and resetClient):
        queued invalidations go out after its reply, and CLIENT CACHING lasts one command
        (or one transaction) unless the command was CLIENT itself."""
        if self.pending:
            pending, self.pending = self.pending, []
            for key in pending:
                self._send(client, _FLUSHED[client.resp] if key is None else _key_array([key]))
        if client.tracking & CACHING and client.multi is None and argv[0].lower() != b"client":
            client.tracking &= ~CACHING

    def broadcast(self) -> None:
        """Redis's trackingBroadcastInvalidationMessages: each prefix's changed keys, in
        key order, to its subscribers (without a NOLOOP client's own changes)."""
        for prefix in sorted(self.prefixes):
            state = self.prefixes[prefix]
            if not state.keys:
                continue
            changed, state.keys = state.keys, {}
            keys = sorted(changed)
            everything = _key_array(keys)
            for client in list(state.clients):
                if client.tracking & NOLOOP:
                    theirs = [k for k in keys if changed[k] is not client]
                    if theirs:
                        self._send(client, _key_array(theirs))
                else:
                    self._send(client, everything)

    # --- delivery -----------------------------------------------------------------------
    def _send(self, client: Client, keys: bytes) -> None:
        """Redis's sendTrackingMessage: `keys` (a RESP array or null) to `client` or to the
        connection it redirects to."""
        target = client
        redirect = client.tracking_redirect
        if redirect:
            found = self.engine.clients.get(redirect)
            if found is None:
                client.tracking |= BROKEN_REDIR
                if client.resp == 3:
                    self._deliver(
                        client, b">2\r\n$21\r\ntracking-redir-broken\r\n:%d\r\n" % redirect
                    )
                return
            target = found
        if target.resp == 3:
            self._deliver(target, _INVALIDATE + keys)
        elif redirect and target.pubsub_mode:
            self._deliver(target, _MESSAGE + keys)

    def _deliver(self, client: Client, frame: bytes) -> None:
        # Pushes ignore CLIENT REPLY OFF/SKIP, as Redis's CLIENT_PUSHING does.
        client.out.append(frame)
        if client is not self.current:
            self.engine.woken.append(client)

    def limit(self) -> None:
        """Redis's trackingLimitUsedSlots, with oldest-first instead of random picks."""
        max_keys = self.engine.config.int("tracking-table-max-keys")
        table = self.table
        if not max_keys or len(table) <= max_keys:
            self._failed_evictions = 0
            return
        for _ in range(_EFFORT * (self._failed_evictions + 1)):
            if not table:
                break
            self._invalidate(next(iter(table)), None)
            if len(table) <= max_keys:
                self._failed_evictions = 0
                return
        self._failed_evictions += 1
