"""What each client connection costs in memory, as Redis 7.0 shows and limits it: CLIENT
LIST/INFO's buffer fields, INFO's mem_clients_normal/mem_clients_slaves and
client_recent_max_input/output_buffer, and client eviction under `maxmemory-clients`.

Where the figures come from. The engine never sees a socket: the shell owns each
connection's unparsed input and unsent output. It installs `probe`, a callback answering
(unparsed input bytes, input buffer allocated, unsent output bytes, output buffer
allocated) for one client. The engine calls it only when a figure is needed -- CLIENT
LIST/INFO, INFO, the shell's checks below, the once-a-second pass -- never per command.

The fields, Redis's definitions (networking.c's catClientInfoString and getClientMemoryUsage)
applied to slotd's buffers:
- qbuf: input received and not yet parsed; for the client running CLIENT LIST/INFO also its
  own request, which Redis still holds in its query buffer at that moment. qbuf-free: what
  the input buffer holds allocated beyond that.
- argv-mem: the bytes of the arguments of the command being executed (only the caller has
  one); multi-mem: those of the commands queued by MULTI, plus a pointer per argument.
- obl: this turn's replies not yet handed to the socket (Redis's reply buffer); oll and
  omem: the output the socket did not take, counted in Redis's 16 KB reply blocks, and the
  bytes it holds allocated plus each block's list overhead.
- tot-mem: all of the above plus the connection's fixed cost (measured: an idle connection
  adds about 1.8 KB to the RSS) and the client's own tables: subscriptions, watched keys,
  tracking prefixes.
Exact numbers cannot match Redis's (its allocator, its 16 KB static buffers); they are real
bytes of this process, and they move as Redis's do.

Client eviction (Redis 7.0's evictClients). While `maxmemory-clients` is set (bytes, or a
percentage of maxmemory; never below 128 KB), the memory of normal and pub/sub clients --
CLIENT NO-EVICT ones included -- is kept as a running total of what each client cost when
last measured: the shell re-measures a client whose input or output grew on a slow path
(a partial request, output the socket did not take) and everyone once a second. When the
total reaches the limit, everybody is measured afresh (a stale figure never evicts
anybody) and the biggest evictable clients -- normal or pub/sub, without NO-EVICT; never a
master or replica link -- are disconnected until the total is below the limit. Each is
logged as Redis logs it and counted in INFO's evicted_clients; the shell closes them
(`engine.clients_to_close`). Redis sorts clients into power-of-two buckets; an exact sort
is the same order, finer.

client-output-buffer-limit (Redis's checkClientOutputBufferLimits): `output_over_limit`
judges one connection's unsent output against its class's limits; the shell applies it to
client connections and replica links alike and closes the ones over.
Pure: sizes come from the probe and `sys.getsizeof`.
"""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Final, NamedTuple

if TYPE_CHECKING:
    from node.engine.engine import Engine
    from node.engine.session import Client

Buffers = tuple[int, int, int, int]  # input bytes, input allocated, output bytes, allocated
NO_BUFFERS: Final[Buffers] = (0, 0, 0, 0)
REPLY_BLOCK: Final = 16 * 1024  # PROTO_REPLY_CHUNK_BYTES: a reply list block
BLOCK_OVERHEAD: Final = 40  # a reply block's list node and header (Redis's list_item_size)
CONNECTION_BASE: Final = 1800  # an idle connection's RSS (2000 connections measured)
POINTER: Final = 8
WATCHED_KEY: Final = 72 + POINTER  # a (db, key, expired) tuple and its list slot
MIN_LIMIT: Final = 128 * 1024  # maxmemory-clients below this is raised to it
PEAK_SLOTS: Final = 8  # CLIENTS_PEAK_MEM_USAGE_SLOTS: "recent" is the last 8 seconds
_PASS_MS: Final = 1000


class Figures(NamedTuple):
    """One client's CLIENT LIST memory fields."""

    qbuf: int
    qbuf_free: int
    argv_mem: int
    multi_mem: int
    obl: int
    oll: int
    omem: int
    tot_mem: int


def request_size(argv: list[bytes]) -> int:
    """The bytes of `argv` as a RESP multibulk request."""
    size = len(b"*%d\r\n" % len(argv))
    for arg in argv:
        size += len(b"$%d\r\n\r\n" % len(arg)) + len(arg)
    return size


def output_over_limit(
    limit: tuple[int, int, int], size: int, now_ms: int, soft_since: int
) -> tuple[bool, int]:
    """Whether `size` unsent bytes break `limit` (hard bytes, soft bytes, soft seconds; 0
    for none): at or past the hard limit, or at or past the soft one for longer than its
    seconds. Also the new `soft_since`, the time the output reached the soft limit (0 when
    below it), which the caller keeps for the next check."""
    hard, soft, seconds = limit
    over = bool(hard) and size >= hard
    if soft and size >= soft:
        if not soft_since:
            soft_since = now_ms
        elif now_ms - soft_since > seconds * 1000:
            over = True
    else:
        soft_since = 0
    return over, soft_since


def _no_probe(client: Client) -> Buffers:
    return NO_BUFFERS


class ClientMemory:
    """Per-client memory figures, their recent peaks, and client eviction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.probe: Callable[[Client], Buffers] = _no_probe  # installed by the shell
        self.evicted_clients = 0  # INFO stats
        self.limit = 0  # maxmemory-clients in bytes, 0: no client eviction
        self.total = 0  # normal and pub/sub clients, as last measured (while `limit`)
        self._known: dict[int, int] = {}  # client id -> its memory when last measured
        self._peaks: deque[tuple[int, int]] = deque(maxlen=PEAK_SLOTS)
        self._pass_ms = -_PASS_MS
        self._pass_due = False
        self._measured = False  # `total` covers every client (not so after `configure`)

    # --- figures --------------------------------------------------------------------------
    def figures(self, client: Client, argv: list[bytes] | None = None) -> Figures:
        """CLIENT LIST's memory fields of `client`; `argv` is the request being executed
        when `client` is the caller."""
        query, query_alloc, pending, pending_alloc = self.probe(client)
        argv_mem = argv_slots = 0
        if argv is not None:
            argv_mem = sum(map(len, argv))
            argv_slots = POINTER * len(argv)
            own = request_size(argv)
            query += own
            query_alloc += own
        multi_mem = _multi_mem(client) if client.multi else 0
        obl = sum(map(len, client.out)) if client.out else 0
        oll = -(-pending // REPLY_BLOCK)
        omem = pending_alloc + oll * BLOCK_OVERHEAD if pending else 0
        total = (
            CONNECTION_BASE
            + query_alloc
            + argv_mem
            + argv_slots
            + multi_mem
            + obl
            + omem
            + _tables(client)
        )
        return Figures(
            query, max(0, query_alloc - query), argv_mem, multi_mem, obl, oll, omem, total
        )

    def usage(self, client: Client) -> int:
        """tot-mem: everything `client` costs (`figures`' total, without the rest, since
        the once-a-second pass takes it of every client)."""
        _, query_alloc, pending, pending_alloc = self.probe(client)
        size = CONNECTION_BASE + query_alloc
        if pending:
            size += pending_alloc + -(-pending // REPLY_BLOCK) * BLOCK_OVERHEAD
        if client.out:
            size += sum(map(len, client.out))
        if client.multi:
            size += _multi_mem(client)
        if (
            client.channels
            or client.patterns
            or client.shard_channels
            or client.watching
            or client.tracking_prefixes
        ):
            size += _tables(client)
        return size

    def by_kind(self) -> tuple[int, int]:
        """INFO's mem_clients_normal (every client but replicas: normal, pub/sub, our
        master's link) and mem_clients_slaves."""
        normal = replicas = 0
        for client in self.engine.clients.values():
            if _is_replica(client):
                replicas += self.usage(client)
            else:
                normal += self.usage(client)
        return normal, replicas

    # --- client eviction ------------------------------------------------------------------
    def configure(self) -> None:
        """maxmemory-clients or maxmemory changed: the limit in bytes (getClientEviction-
        Limit); the next pass measures everyone, and evicts if the total is over it."""
        config = self.engine.config
        setting = config.int("maxmemory-clients")
        if setting < 0:  # a percentage of maxmemory
            limit = config.int("maxmemory") * -setting // 100
        else:
            limit = setting
        self.limit = max(limit, MIN_LIMIT) if limit > 0 else 0
        if not self.limit:
            self._known.clear()
            self.total = 0
        self._pass_due = True
        self._measured = False

    def check(self, client: Client) -> None:
        """The shell saw `client`'s buffers grow: measure it, and evict clients when all
        of them together reach the limit."""
        if not self.limit or not _counted(client):
            return
        if not self._measured:
            self.evict()  # measures everyone first
            return
        mem = self.usage(client)
        self.total += mem - self._known.get(client.id, 0)
        self._known[client.id] = mem
        if self.total >= self.limit:
            self.evict()

    def evict(self) -> None:
        """evictClients: measure every client afresh, then disconnect the biggest evictable
        ones until the total of normal and pub/sub clients is under the limit."""
        engine = self.engine
        known: dict[int, int] = {}
        candidates: list[tuple[int, Client]] = []
        for client in engine.clients.values():
            if not _counted(client):
                continue
            mem = known[client.id] = self.usage(client)
            if not client.no_evict:
                candidates.append((mem, client))
        self._known = known
        self.total = sum(known.values())
        self._measured = True
        if self.total < self.limit:
            return
        candidates.sort(key=lambda pair: pair[0], reverse=True)
        from node.commands.connection import client_line  # commands import the engine

        now = engine.now_ms
        for mem, client in candidates:
            if self.total < self.limit:
                return
            engine.log(
                "notice",
                "Evicting client: " + client_line(client, now)[:-1].decode(errors="replace"),
            )
            engine.disconnect(client)
            engine.clients_to_close.append(client)
            del self._known[client.id]
            self.total -= mem
            self.evicted_clients += 1
        if self.total >= self.limit:
            engine.log("warning", "Over client maxmemory after evicting all evictable clients")

    # --- the once-a-second pass -----------------------------------------------------------
    def cron(self) -> None:
        """Called by the shell's cron: once a second (or at once after a configuration
        change) measure every client -- the recent peaks of input and output buffers, and
        the eviction total, evicting when it is over the limit."""
        now = self.engine.now_ms
        if not self._pass_due and now - self._pass_ms < _PASS_MS:
            return
        self._pass_due = False
        self._pass_ms = now
        max_in = max_out = 0
        probe = self.probe
        clients = self.engine.clients.values()
        for client in clients:
            _, query_alloc, pending, pending_alloc = probe(client)
            if query_alloc > max_in:
                max_in = query_alloc
            if pending and pending_alloc > max_out:  # omem, as Redis takes it
                max_out = pending_alloc + -(-pending // REPLY_BLOCK) * BLOCK_OVERHEAD
        self._peaks.append((max_in, max_out))
        observer = self.engine.observer
        observer.recent_max_input = max(p[0] for p in self._peaks)
        observer.recent_max_output = max(p[1] for p in self._peaks)
        if self.limit:
            usage = self.usage
            known = {client.id: usage(client) for client in clients if _counted(client)}
            self._known = known
            self.total = sum(known.values())
            self._measured = True
            if self.total >= self.limit:
                self.evict()

    def reset_stats(self) -> None:
        self.evicted_clients = 0


def _multi_mem(client: Client) -> int:
    """multi-mem: the queued commands' arguments, and a pointer for each."""
    size = 0
    for queued in client.multi or ():
        size += sum(map(len, queued)) + POINTER * len(queued)
    return size


def _tables(client: Client) -> int:
    """The client's own tables: subscriptions, watched keys, tracking prefixes."""
    size = 0
    for table in (client.channels, client.patterns, client.shard_channels):
        if table:
            size += sys.getsizeof(table)
    if client.watching:
        size += WATCHED_KEY * len(client.watching)
    for prefix in client.tracking_prefixes:
        size += sys.getsizeof(prefix) + POINTER
    return size


def _is_replica(client: Client) -> bool:
    """getClientType's replica (a MONITOR client counts as normal)."""
    flags = client.flags
    return "S" in flags and "O" not in flags


def _counted(client: Client) -> bool:
    """A normal or pub/sub client: the kinds maxmemory-clients counts (not our master's
    link, not a replica)."""
    flags = client.flags
    return not flags or ("M" not in flags and not _is_replica(client))
