"""Databases: the key -> value dicts, expiry, WATCH bookkeeping and SCAN cursors.

Rules:
- Every write to a database goes through `set_value`, `delete` or `rename`-style helpers
  here, so expiry, WATCH invalidation and the per-slot key index (cluster mode) stay
  consistent.
- Values are plain Python objects: `bytes` (a string Redis would keep as int/embstr) or
  `bytearray` (a string that was modified in place: Redis's "raw"), and container classes
  for the other types. `type(value)` is the Redis type.
- Time is `Keyspace.now_ms` (unix ms), set by the shell before each batch of commands;
  keys expire lazily on access and actively through `active_expire_cycle`.
Pure: no I/O, no clocks, no global random.
"""

from __future__ import annotations

import itertools
import random
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from node.engine.notify import KEY_MISS, NEW
from node.proto.slots import key_slot

if TYPE_CHECKING:
    from node.engine.session import Client

# SCAN cursors: high bits name a key snapshot, low bits the position inside it.
_CURSOR_POS_BITS = 40
_MAX_SNAPSHOTS = 16


class Database:
    """One numbered database (SELECT n)."""

    __slots__ = (
        "blocking",
        "data",
        "expires",
        "hits",
        "index",
        "keyspace",
        "lookup_read",
        "misses",
        "notify_flags",
        "tracking",
        "_expire_cursor",
        "_expire_snapshot",
        "_scan_serial",
        "_scans",
        "_slots_of",
        "slot_index",
        "watched",
    )

    def __init__(self, index: int, keyspace: Keyspace) -> None:
        self.index = index
        self.keyspace = keyspace
        self.data: dict[bytes, object] = {}
        self.expires: dict[bytes, int] = {}
        # key -> clients WATCHing it; empty for almost every database, so writers pay one
        # truth test.
        self.watched: dict[bytes, set[Client]] = {}
        # key -> clients parked on it by a blocking command, oldest first.
        self.blocking: dict[bytes, deque[Client]] = {}
        # Keyspace events to emit (notify.effective flags) and whether any client tracks
        # keys for client-side caching: 0 and False on most servers, so writers pay one
        # truth test for each. Set through `set_notify` and by the tracking table.
        self.notify_flags = 0
        self.tracking = False
        # The lookup of a command that READS the key (Redis's lookupKeyRead): it counts
        # INFO's keyspace_hits/misses (summed over databases), and emits keymiss events
        # only when they are on, so reads pay nothing for them otherwise.
        self.hits = 0
        self.misses = 0
        self.lookup_read: Callable[[bytes], object | None] = self._read
        self._scans: dict[int, list[bytes]] = {}
        self._scan_serial = 0
        self._expire_snapshot: list[bytes] = []
        self._expire_cursor = 0
        # Cluster mode only (None otherwise): slot -> its keys, oldest first, for the `data`
        # dict `_slots_of` (a dict swapped in wholesale, as a full resync does, is indexed
        # again when next asked).
        self.slot_index: dict[int, dict[bytes, None]] | None = None
        self._slots_of: dict[bytes, object] | None = None

    # --- reads -------------------------------------------------------------------------
    def lookup(self, key: bytes) -> object | None:
        """The live value of `key`, expiring it first if its time has passed (Redis's
        keyIsExpired: a key lives through its expiry millisecond itself)."""
        value = self.data.get(key)
        if value is not None and self.expires:
            when = self.expires.get(key)
            if when is not None and when < self.keyspace.now_ms:
                keyspace = self.keyspace
                if keyspace.serving_master:
                    return value  # a replica applying its master's stream: it decides
                # While CLIENT PAUSE holds, an expired key reads as missing but stays; on
                # a replica only the master's DEL removes it.
                if not keyspace.expire_paused and not keyspace.replica:
                    self.expire_now(key)
                return None
        return value

    def _read(self, key: bytes) -> object | None:
        """`lookup`, inlined, counting the hit or miss."""
        value = self.data.get(key)
        if value is not None and self.expires:
            when = self.expires.get(key)
            if when is not None and when < self.keyspace.now_ms:
                keyspace = self.keyspace
                if not keyspace.serving_master:
                    if not keyspace.expire_paused and not keyspace.replica:
                        self.expire_now(key)
                    value = None
        if value is None:
            self.misses += 1
        else:
            self.hits += 1
        return value

    def _lookup_or_miss(self, key: bytes) -> object | None:
        value = self._read(key)
        if value is None:
            self.keyspace.notify(KEY_MISS, b"keymiss", key, self.index)
        return value

    def set_notify(self, flags: int) -> None:
        """Emit the keyspace events `flags` (notify.effective) names from now on."""
        self.notify_flags = flags
        self.lookup_read = self._lookup_or_miss if flags & KEY_MISS else self._read

    def exists(self, key: bytes) -> bool:
        return self.lookup(key) is not None

    def ttl_ms(self, key: bytes) -> int | None:
        """Absolute expiry (unix ms) of a live key, or None if it has none."""
        return self.expires.get(key)

    # --- writes ------------------------------------------------------------------------
    def set_value(self, key: bytes, value: object, keep_ttl: bool = False) -> None:
        """Store `value` (overwriting), clearing any TTL unless `keep_ttl`. The one place
        keys are created (Redis's dbAdd), so the `new` event is emitted here."""
        # With events on, a stale key expires first (and says so), as lookupKeyWrite does.
        created = self.notify_flags and self.lookup(key) is None
        if self.slot_index is not None and key not in self.data:
            self._index_add(key)
        self.data[key] = value
        if not keep_ttl and self.expires:
            self.expires.pop(key, None)
        if self.watched or self.tracking:
            self.touch(key)
        if self.blocking:
            self.mark_ready(key)
        if created and self.notify_flags & NEW:
            self.keyspace.notify(NEW, b"new", key, self.index)

    def replace(self, key: bytes, value: object) -> None:
        """Swap a live key's value for an equal one in another representation (Redis's
        dbUnshareStringValue: an embstr string becomes raw before an in-place update). Not a
        modification: TTL kept, nothing signalled."""
        self.data[key] = value

    def delete(self, key: bytes) -> bool:
        """Remove `key`; True if it existed (expired keys count as absent)."""
        if self.lookup(key) is None:
            return False
        del self.data[key]
        if self.slot_index is not None:
            self._index_remove(key)
        if self.expires:
            self.expires.pop(key, None)
        if self.watched or self.tracking:
            self.touch(key)
        if self.blocking:
            self.mark_ready(key)  # Redis's signalDeletedKeyAsReady
        return True

    def set_expire(self, key: bytes, when_ms: int) -> None:
        self.expires[key] = when_ms
        if self.watched or self.tracking:
            self.touch(key)

    def persist(self, key: bytes) -> bool:
        if self.expires.pop(key, None) is None:
            return False
        if self.watched or self.tracking:
            self.touch(key)
        return True

    def expire_now(self, key: bytes) -> None:
        """Delete a key whose TTL has passed (lazily or from the active cycle). Redis's
        deleteExpiredKeyAndPropagate: the `expired` event (on_expired), then the key counts
        as modified, by no client."""
        value = self.data.pop(key, None)  # held until the hook had it (lazy free)
        self.expires.pop(key, None)
        if self.slot_index is not None:
            self._index_remove(key)
        self.keyspace.expired_keys += 1
        if self.blocking:
            self.mark_ready(key)
        self.keyspace.on_expired(self, key, value)
        if self.watched:
            self.touch_watchers(key)
        if self.tracking:
            self.keyspace.invalidate(key, False)

    def mark_ready(self, key: bytes) -> None:
        """Redis's signalKeyAsReady: `key` may now serve clients blocked on it. Call after
        adding data in place (LPUSH to an existing list, ZADD, XADD...)."""
        if key in self.blocking:
            self.keyspace.ready.append((self, key))

    def touch(self, key: bytes) -> None:
        """Redis's signalModifiedKey by the running command: invalidate the WATCHes on
        `key` and the client-side caches holding it."""
        clients = self.watched.get(key)
        if clients:
            for client in clients:
                client.watch_dirty = True
        if self.tracking:
            self.keyspace.invalidate(key, True)

    def touch_watchers(self, key: bytes) -> None:
        """Invalidate the WATCHes on `key` only (Redis's touchWatchedKey)."""
        clients = self.watched.get(key)
        if clients:
            for client in clients:
                client.watch_dirty = True

    def flush(self) -> list[object]:
        """Empty the database. Returns the containers let go of (the key dict first), for
        a caller that frees them lazily (FLUSHALL ASYNC); ignoring them frees them now."""
        # Redis's touchAllWatchedKeysInDb: only WATCHed keys that exist are invalidated.
        # Client-side caches hear of a flush once, from the command (Tracking.flush).
        for key in list(self.watched):
            if key in self.data:
                self.touch_watchers(key)
        for key in self.blocking:
            if key in self.data:
                self.mark_ready(key)  # a flushed stream wakes XREADGROUP
        dropped: list[object] = [
            self.data,
            self.expires,
            self._expire_snapshot,
            *self._scans.values(),
        ]
        self.data = {}
        self.expires = {}
        self._scans.clear()
        self._expire_snapshot = []
        self._expire_cursor = 0
        if self.slot_index is not None:
            self.slot_index = {}
            self._slots_of = self.data
        return dropped

    # --- the per-slot key index (cluster mode) ----------------------------------------------
    def index_slots(self) -> None:
        """Keep a per-slot index of the keys from now on (cluster mode): COUNTKEYSINSLOT,
        GETKEYSINSLOT and dropping a lost slot's keys cost O(keys in the slot)."""
        self.slot_index = {}
        self._slots_of = None

    def keys_in_slot(self, slot: int) -> dict[bytes, None]:
        """The keys of `slot`, oldest first (logically expired ones not yet deleted too,
        as Redis counts them). Only in cluster mode."""
        index = self.slot_index
        assert index is not None
        if self._slots_of is not self.data:
            index.clear()
            self._slots_of = self.data
            for key in self.data:
                self._index_add(key)
        return index.get(slot) or {}

    def _index_add(self, key: bytes) -> None:
        index = self.slot_index
        assert index is not None
        slot = key_slot(key)
        keys = index.get(slot)
        if keys is None:
            index[slot] = {key: None}
        else:
            keys[key] = None

    def _index_remove(self, key: bytes) -> None:
        index = self.slot_index
        assert index is not None
        slot = key_slot(key)
        keys = index.get(slot)
        if keys is not None:
            keys.pop(key, None)
            if not keys:
                del index[slot]

    # --- SCAN ----------------------------------------------------------------------------
    def scan(
        self, cursor: int, count: int, accept: Callable[[bytes], bool] | None = None
    ) -> tuple[int, list[bytes]]:
        """One SCAN step. Every key present for the whole scan is returned at least once:
        the scan walks a snapshot of the key order taken at cursor 0 and skips keys that
        have gone since. Returns (next cursor, keys); 0 means done. Only the most recently
        used snapshots are kept: a cursor whose snapshot was dropped (more than
        _MAX_SNAPSHOTS other scans used since) resumes at its position in a fresh one, so
        it still ends but may miss keys if keys before that position were deleted."""
        serial, pos = cursor >> _CURSOR_POS_BITS, cursor & ((1 << _CURSOR_POS_BITS) - 1)
        snapshot = self._scans.pop(serial, None) if cursor else None
        if snapshot is not None:
            self._scans[serial] = snapshot  # most recently used last: evict idle scans first
        else:
            snapshot = list(self.data)
            self._scan_serial = self._scan_serial % ((1 << 23) - 1) + 1
            serial = self._scan_serial
            self._scans[serial] = snapshot
            if len(self._scans) > _MAX_SNAPSHOTS:
                del self._scans[next(iter(self._scans))]
            if cursor == 0:
                pos = 0
        end = min(pos + max(count, 1), len(snapshot))
        # Filter before the liveness check, as Redis does: keys that fail the filter are
        # not expired by the scan.
        out = [
            key
            for key in snapshot[pos:end]
            if (accept is None or accept(key)) and self.lookup(key) is not None
        ]
        if end >= len(snapshot):
            self._scans.pop(serial, None)
            return 0, out
        return (serial << _CURSOR_POS_BITS) | end, out

    def random_key(self, rng: random.Random) -> bytes | None:
        """RANDOMKEY: a random live key (expired picks are expired and retried)."""
        for _ in range(100):
            if not self.data:
                return None
            # dicts have no O(1) random access; sampling a window keeps this cheap.
            n = len(self.data)
            key = next(itertools.islice(self.data, rng.randrange(n), None))
            if self.lookup(key) is not None:
                return key
        return None

    # --- active expiry -------------------------------------------------------------------
    def expire_sample(self, budget: int) -> tuple[int, int]:
        """Check up to `budget` keys with a TTL, in a cycle over a snapshot of the expires
        dict (Redis walks its expires table with a cursor too). Returns (sampled, expired)."""
        now = self.keyspace.now_ms
        sampled = expired = 0
        while sampled < budget and self.expires:
            if self._expire_cursor >= len(self._expire_snapshot):
                self._expire_snapshot = list(self.expires)
                self._expire_cursor = 0
            key = self._expire_snapshot[self._expire_cursor]
            self._expire_cursor += 1
            when = self.expires.get(key)
            if when is None:
                continue
            sampled += 1
            if when < now:
                self.expire_now(key)
                expired += 1
        return sampled, expired


class Keyspace:
    """All databases of a node plus the clock value they share."""

    def __init__(self, databases: int) -> None:
        self.now_ms = 0
        # (db, key) pairs made ready since the engine last served blocked clients.
        self.ready: list[tuple[Database, bytes]] = []
        self.expired_keys = 0
        self.expire_paused = False  # CLIENT PAUSE in effect: expired keys are not deleted
        # Replication: on a replica expired keys read as missing but stay until the
        # master's DEL, and the master's own commands (`serving_master`) still see them.
        self.replica = False
        self.serving_master = False
        self.dbs = [Database(i, self) for i in range(databases)]
        # Hook for expiry side effects (propagating DEL, notifications); set by the engine.
        self.on_expired: Callable[[Database, bytes, object], None] = lambda db, key, value: None
        # Keyspace events (kind, event, key, db index) and client-side cache invalidation
        # (key, modified by the running command rather than by expiry); set by the engine.
        self.notify: Callable[[int, bytes, bytes, int], None] = lambda kind, event, key, db: None
        self.invalidate: Callable[[bytes, bool], None] = lambda key, by_command: None

    def active_expire_cycle(self, keys_per_db: int = 20, max_rounds: int = 16) -> int:
        """Redis's activeExpireCycle in spirit: sample keys with a TTL in every database and
        keep going while more than a quarter of a sample was expired, within a budget.
        Replicas leave expiry to their master."""
        total = 0
        if self.replica:
            return total
        for db in self.dbs:
            if not db.expires:
                continue
            for _ in range(max_rounds):
                sampled, expired = db.expire_sample(keys_per_db)
                total += expired
                if sampled == 0 or expired * 4 <= sampled:
                    break
        return total

    def swap(self, a: int, b: int) -> None:
        """SWAPDB: the contents change places; WATCHes and blocked clients stay with their
        database number, as in Redis."""
        da, db_ = self.dbs[a], self.dbs[b]
        for database in (da, db_):
            # A WATCHed key is invalidated if it exists on either side of the swap.
            for key in list(database.watched):
                if key in da.data or key in db_.data:
                    database.touch_watchers(key)
        da.data, db_.data = db_.data, da.data
        da.expires, db_.expires = db_.expires, da.expires
        da._scans.clear()
        db_._scans.clear()
        for database in (da, db_):
            # Clients blocked on a key the swap brought in can be served now, and those
            # whose key it took away may need to hear it (XREADGROUP).
            for key in list(database.blocking):
                database.mark_ready(key)
