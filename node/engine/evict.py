"""Key eviction (Redis's evict.c): the access clocks behind LRU and LFU, the eviction pool,
and `Evictor.perform`, run before every command while `maxmemory` is set.

Access clocks. Redis keeps 24 bits of LRU time or LFU state in every object. slotd keeps
them in a side dict per database (key -> int), filled only while the policy is an LRU or
LFU one, so that a node with another policy pays nothing per key. The ints stored are
shared objects (one per clock second for LRU, 256 per minute for LFU), so a tracked key
costs one dict slot. A key without an entry (loaded, or there before tracking began)
counts as last used when tracking began, with LFU's initial counter. Times follow Redis:
LRU in seconds modulo 2^24, LFU as (minutes modulo 2^16) << 8 | counter, the counter
growing logarithmically (lfu-log-factor) and decaying one step per lfu-decay-time
minutes, new keys starting at LFU_INIT_VAL.

Eviction. Candidates are sampled (maxmemory-samples per database) and kept in a 16-entry
pool ordered by how good a victim they are (idle time, 255 - frequency, or nearness of
expiry), the best one evicted first, as evictionPoolPopulate does; the random policies
take one random key. Sampling needs random keys, which a Python dict cannot give in O(1):
each database keeps a snapshot list of its keys (or of its keys with a TTL), rebuilt when
it has grown stale (keys added since, or most picks finding deleted keys). Keys created
after a snapshot are not candidates until the next one -- they are the most recently used
anyway. An eviction deletes through `Database.delete` (WATCH, tracking, blocked clients),
emits the `evicted` event, propagates DEL/UNLINK and counts in `evicted_keys`; with
lazyfree-lazy-eviction the value goes to the lazy-free queue.
Pure: randomness from the caller's `random.Random`, time from the keyspace clock.
"""

from __future__ import annotations

import random
from bisect import insort
from typing import TYPE_CHECKING, Final

from node.engine import notify

if TYPE_CHECKING:
    from node.engine.engine import Engine
    from node.engine.keyspace import Database
    from node.engine.memory import Memory

LRU_CLOCK_MAX: Final = (1 << 24) - 1
LFU_INIT_VAL: Final = 5
EVPOOL_SIZE: Final = 16

# Policy flags (Redis's MAXMEMORY_FLAG_* plus the kind of victim choice).
LRU, LFU, TTL, RANDOM, ALLKEYS = 1, 2, 4, 8, 16
POLICIES: Final = {
    "volatile-lru": LRU,
    "volatile-lfu": LFU,
    "volatile-ttl": TTL,
    "volatile-random": RANDOM,
    "allkeys-lru": LRU | ALLKEYS,
    "allkeys-lfu": LFU | ALLKEYS,
    "allkeys-random": RANDOM | ALLKEYS,
    "noeviction": 0,
}
# performEvictions' results.
EVICT_OK, EVICT_RUNNING, EVICT_FAIL = 0, 1, 2
# Commands whose lookups do not touch the access clock (Redis's LOOKUP_NOTOUCH).
NO_TOUCH: Final = frozenset(
    {
        "exists",
        "ttl",
        "pttl",
        "expiretime",
        "pexpiretime",
        "type",
        "object|encoding",
        "object|freq",
        "object|idletime",
        "object|refcount",
        "memory|usage",
        "debug",
    }
)
_RANDOM_PICKS: Final = 8  # picks per random choice (some may be keys gone since)
_EVICTION_COST_US: Final = 5  # about what one eviction costs here, for the time budget


def eviction_time_limit_us(tenacity: int) -> float:
    """evictionTimeLimitUs: how long one performEvictions may run (maxmemory-eviction-
    tenacity: linear up to 500 us at 10, then +15% per step, unlimited at 100)."""
    if tenacity <= 10:
        return 50.0 * tenacity
    if tenacity < 100:
        return 500.0 * 1.15 ** (tenacity - 10)
    return float("inf")


class AccessClock:
    """LRU/LFU access times of every key, per database, while the policy asks for them."""

    def __init__(self, engine: Engine, rng: random.Random) -> None:
        self.engine = engine
        self.rng = rng
        self.mode = 0  # LRU, LFU or 0 (nothing tracked)
        self.access: list[dict[bytes, int]] = [{} for _ in engine.keyspace.dbs]
        self.log_factor = 10
        self.decay_time = 1
        self._second = -1
        self._lru_now = 0
        self._minute = -1
        self._lfu_values: list[int] = []
        self.default = 0  # the value of keys without an entry

    def configure(self, mode: int, log_factor: int, decay_time: int) -> None:
        """Start, stop or switch tracking. Switching drops what was recorded (Redis reads
        one kind's bits as the other's; starting afresh is the honest equivalent)."""
        self.log_factor = log_factor
        self.decay_time = decay_time
        if mode == self.mode:
            return
        self.mode = mode
        self.access = [{} for _ in self.access]
        self._second = self._minute = -1
        self.default = self._now_value(LFU_INIT_VAL) if mode else 0

    # --- clocks ---------------------------------------------------------------------------
    def lru_clock(self) -> int:
        """LRU_CLOCK(): seconds modulo 2^24, as one shared int per second."""
        second = self.engine.keyspace.now_ms // 1000
        if second != self._second:
            self._second = second
            self._lru_now = second & LRU_CLOCK_MAX
        return self._lru_now

    def lfu_minutes(self) -> int:
        return (self.engine.keyspace.now_ms // 60000) & 0xFFFF

    def _lfu_value(self, counter: int) -> int:
        """(minutes << 8) | counter, one shared int per counter and minute."""
        minute = self.lfu_minutes()
        if minute != self._minute:
            self._minute = minute
            self._lfu_values = [(minute << 8) | c for c in range(256)]
        return self._lfu_values[counter]

    def _now_value(self, counter: int) -> int:
        return self._lfu_value(counter) if self.mode == LFU else self.lru_clock()

    # --- LFU arithmetic (Redis's LFULogIncr / LFUDecrAndReturn) ----------------------------
    def _decayed(self, value: int) -> int:
        counter = value & 255
        if not self.decay_time:
            return counter
        now, then = self.lfu_minutes(), value >> 8
        elapsed = now - then if now >= then else 65535 - then + now
        periods = elapsed // self.decay_time
        return 0 if periods > counter else counter - periods

    def _incremented(self, counter: int) -> int:
        if counter == 255:
            return 255
        base = max(0, counter - LFU_INIT_VAL)
        if self.rng.random() < 1.0 / (base * self.log_factor + 1):
            counter += 1
        return counter

    # --- recording ------------------------------------------------------------------------
    def touch(self, index: int, key: bytes) -> None:
        """A command looked `key` up (lookupKey without LOOKUP_NOTOUCH)."""
        access = self.access[index]
        if self.mode == LRU:
            access[key] = self.lru_clock()
        else:
            counter = self._incremented(self._decayed(access.get(key, self.default)))
            access[key] = self._lfu_value(counter)

    def created(self, index: int, key: bytes) -> None:
        """A new key: LFU's initial counter, or the current LRU second."""
        self.access[index][key] = self._now_value(LFU_INIT_VAL)

    def set(self, index: int, key: bytes, *, idle_s: int = -1, freq: int = -1) -> None:
        """RESTORE's IDLETIME/FREQ (objectSetLRUOrLFU): only the kind being tracked."""
        if self.mode == LFU and freq >= 0:
            self.access[index][key] = self._lfu_value(min(freq, 255))
        elif self.mode == LRU and idle_s >= 0:
            self.access[index][key] = (self.lru_clock() - idle_s) % (LRU_CLOCK_MAX + 1)

    def forget(self, index: int, key: bytes) -> None:
        self.access[index].pop(key, None)

    # --- reading --------------------------------------------------------------------------
    def idle_ms(self, index: int, key: bytes) -> int:
        """estimateObjectIdleTime: milliseconds since the key's last access second."""
        if self.mode != LRU:
            return 0
        then = self.access[index].get(key, self.default)
        now = self.lru_clock()
        return ((now - then) if now >= then else (now + LRU_CLOCK_MAX - then)) * 1000

    def debug_fields(self, index: int, key: bytes) -> tuple[int, int]:
        """DEBUG OBJECT's lru and lru_seconds_idle: the key's 24 bits (LRU seconds, or
        LFU's state under an LFU policy) and estimateObjectIdleTime read from them as LRU
        seconds, as Redis prints both whatever the policy. Without tracking: the clock."""
        if not self.mode:
            return self.lru_clock(), 0
        then = self.access[index].get(key, self.default)
        now = self.lru_clock()
        return then, (now - then) if now >= then else (now + LRU_CLOCK_MAX - then)

    def frequency(self, index: int, key: bytes) -> int:
        """OBJECT FREQ: the counter after decay (not stored, as in Redis)."""
        return self._decayed(self.access[index].get(key, self.default))

    def score(self, index: int, key: bytes) -> int:
        """The pool's "idle": the higher, the better a victim."""
        if self.mode == LRU:
            return self.idle_ms(index, key)
        return 255 - self.frequency(index, key)


class _Sampler:
    """Random keys of a dict through a snapshot list of them (see the module docstring)."""

    __slots__ = ("keys", "misses", "picks")

    def __init__(self) -> None:
        self.keys: list[bytes] = []
        self.picks = 0
        self.misses = 0

    def sample(
        self, source: dict[bytes, object] | dict[bytes, int], count: int, rng: random.Random
    ) -> list[bytes]:
        """Up to `count` random keys still in `source` (fewer if picks hit deleted ones;
        none only when a fresh snapshot's picks all missed too)."""
        keys = self.keys
        rebuild = (
            not keys
            or len(source) > 2 * len(keys) + 16
            or (self.picks >= 64 and 2 * self.misses > self.picks)
        )
        rand = rng.random
        while True:
            if rebuild:
                keys = self.keys = list(source)
                self.picks = self.misses = 0
                if not keys:
                    return []
            n = len(keys)
            out = [key for key in [keys[int(rand() * n)] for _ in range(count)] if key in source]
            self.picks += count
            self.misses += count - len(out)
            if out or rebuild:
                return out
            rebuild = True  # every pick was a deleted key: the snapshot is stale


class Evictor:
    """The eviction pool and performEvictions."""

    def __init__(
        self, engine: Engine, memory: Memory, clock: AccessClock, rng: random.Random
    ) -> None:
        self.engine = engine
        self.memory = memory
        self.clock = clock
        self.rng = rng
        self.flags = 0
        self.samples = 5
        self.lazy = False
        self.time_limit_keys = 100.0
        self.pool: list[tuple[int, int, bytes]] = []  # (score, db index, key), best last
        ndbs = len(engine.keyspace.dbs)
        # Key snapshots per database: of all keys, and of the keys with a TTL.
        self._samplers = ([_Sampler() for _ in range(ndbs)], [_Sampler() for _ in range(ndbs)])
        self._next_db = 0
        self.evicted_keys = 0
        self.running = False  # the last perform stopped on its time limit

    def configure(self, policy: str, samples: int, tenacity: int, lazy: bool) -> None:
        flags = POLICIES[policy]
        if flags != self.flags:
            self.pool.clear()
        self.flags = flags
        self.samples = samples
        self.lazy = lazy
        self.time_limit_keys = eviction_time_limit_us(tenacity) / _EVICTION_COST_US

    def forget_samples(self, index: int | None = None) -> None:
        """Drop key snapshots (and pool entries) of one database, or of all."""
        for samplers in self._samplers:
            for i in range(len(samplers)) if index is None else (index,):
                samplers[i] = _Sampler()
        self.pool = [] if index is None else [e for e in self.pool if e[1] != index]

    def _sample(self, db: Database, count: int = 0) -> list[bytes]:
        volatile = not self.flags & ALLKEYS
        sampler = self._samplers[volatile][db.index]
        return sampler.sample(db.expires if volatile else db.data, count or self.samples, self.rng)

    # --- choosing a victim ----------------------------------------------------------------
    def _populate(self, db: Database) -> None:
        """evictionPoolPopulate: sample keys, insert the better ones into the pool (a key
        may sit there twice, as in Redis: the second copy turns out to be gone)."""
        pool = self.pool
        index = db.index
        sampled = self._sample(db)
        if self.flags & TTL:
            expires = db.expires
            scored = [((1 << 64) - 1 - expires[key], key) for key in sampled]
        elif self.flags & LRU:
            # Idle seconds (the pool only compares them): the clock minus the last access.
            clock = self.clock
            now, default = clock.lru_clock(), clock.default
            get = clock.access[index].get
            scored = [
                ((now - then) % (LRU_CLOCK_MAX + 1), key)
                for key in sampled
                for then in (get(key, default),)
            ]
        else:
            # 255 - the decayed LFU counter (LFUDecrAndReturn, inlined).
            clock = self.clock
            now, default, decay = clock.lfu_minutes(), clock.default, clock.decay_time
            get = clock.access[index].get
            scored = []
            for key in sampled:
                value = get(key, default)
                counter = value & 255
                if decay:
                    counter -= ((now - (value >> 8)) % 65536) // decay
                scored.append((255 - counter if counter > 0 else 255, key))
        for score, key in scored:
            if len(pool) == EVPOOL_SIZE:
                if score <= pool[0][0]:
                    continue  # no better than the worst candidate of a full pool
                del pool[0]
            insort(pool, (score, index, key))

    def _pick(self) -> tuple[Database, bytes] | None:
        dbs = self.engine.keyspace.dbs
        volatile = not self.flags & ALLKEYS
        if self.flags & RANDOM:
            for _ in range(len(dbs)):
                self._next_db = (self._next_db + 1) % len(dbs)
                db = dbs[self._next_db]
                if db.expires if volatile else db.data:
                    picked = self._sample(db, _RANDOM_PICKS)  # the first live one
                    if picked:
                        return db, picked[0]
            return None
        if volatile:
            active = [db for db in dbs if db.expires]
        else:
            active = [db for db in dbs if db.data]
        if not active:
            return None
        pool = self.pool
        for _ in range(4):  # a few rounds: every pooled key may turn out to be gone
            for db in active:
                self._populate(db)
            while pool:
                _, index, key = pool.pop()
                db = dbs[index]
                if key in (db.expires if volatile else db.data):
                    return db, key
        return None

    # --- evicting -------------------------------------------------------------------------
    def perform(self) -> int:
        """performEvictions: free memory down to maxmemory, within the time limit."""
        memory = self.memory
        tofree = memory.excess()
        if tofree <= 0:
            self.running = False
            return EVICT_OK
        if not self.flags:
            self.running = False  # noeviction: nothing to go on with between turns
            return EVICT_FAIL
        freed = keys = 0
        while freed < tofree:
            victim = self._pick()
            if victim is None:
                self.running = False
                return EVICT_FAIL
            freed += self._evict(*victim)
            keys += 1
            if keys % 16 == 0:
                if self.lazy and memory.excess() <= 0:
                    break
                if keys >= self.time_limit_keys:
                    self.running = True  # the shell goes on between event-loop turns
                    return EVICT_RUNNING
        self.running = False
        return EVICT_OK

    def _evict(self, db: Database, key: bytes) -> int:
        """Delete one key as an eviction; the bytes it gave back to the accounting."""
        engine = self.engine
        value = db.lookup(key)
        if value is None:
            return 0  # it had expired: the expiry took it (and its bytes)
        size = self.memory.removing(db.index, key, value)
        db.delete(key)
        if self.lazy:
            self.memory.lazyfree.free(value, size)
        del value
        self.evicted_keys += 1
        if engine.notify_flags:
            engine.notify(notify.EVICTED, b"evicted", key, db.index)
        if engine.propagating:
            engine.also_propagate(db.index, [b"UNLINK" if self.lazy else b"DEL", key])
        return size
