"""Memory accounting, maxmemory and the per-command key hooks behind eviction and lazy free.

used_memory. Redis counts every allocation (zmalloc). The process RSS is no substitute:
it lags, and it never shrinks after Python frees objects, so eviction driven by it would
evict everything. slotd therefore keeps an engine-side running total of what each key
costs in Python heap bytes (node/engine/footprint.py; against the RSS it costs, 0.84x to
1.31x depending on the data's shape, BENCHMARKS.md), per database, while `maxmemory` is set:

    used_memory = baseline + dataset + hash tables + lazy-free backlog

`baseline` is the process before the dataset (the shell measures RSS once it is serving,
minus what the loaded dataset costs). Each command's keys (from its key specs) are costed
before and after it runs and the difference booked; keys leaving outside commands
(expiry, eviction, FLUSHALL, SWAPDB) are booked where that happens; big containers cost
their structure plus their length times a per-element cost cached per key and refreshed
by `cron`, so a total never drifts by re-measuring. With maxmemory 0 nothing is kept and
used_memory is the RSS the shell reports.

The key hooks. While accounting, an LRU/LFU access clock or lazyfree-lazy-server-del is
on, every command runs through `run` (`Engine.full_dispatch` keeps GET/SET's short path
out of the way): keys are looked up first (a stale one expires before it is costed), the
command runs, then costs are booked, looked-up keys touch the access clock (new keys get
LFU's initial counter), and values the command replaced or removed go to the lazy-free
queue under lazyfree-lazy-server-del. Otherwise `run` is never called and nothing here
costs the fast path anything.

The OOM guard. `oom` is processCommand's maxmemory step: performEvictions, then refuse a
denyoom command (or anything queued into MULTI, or an EXEC of denyoom commands) with
Redis's OOM error while memory is still over the limit. Evictions do not run (and nothing
is refused) while a busy script yields, while clients are paused, or on a replica under
replica-ignore-maxmemory (its master's DELs keep it a copy); a replica told not to ignore
it evicts before its master's commands, which are never refused.
Pure: `sys.getsizeof` (through footprint.py) is the only thing read from the interpreter.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from node.commands.registry import CommandSpec
from node.engine import evict, footprint
from node.engine.clientmem import ClientMemory
from node.engine.lazyfree import LazyFree

if TYPE_CHECKING:
    from node.engine.engine import Engine
    from node.engine.keyspace import Database
    from node.engine.session import Client

_MULTI_ALLOWED: Final = frozenset({"exec", "discard", "quit", "reset"})
# Read-only commands that may still change a value in place (PFCOUNT caches its count).
_MODIFYING_READS: Final = frozenset({"pfcount"})
# Commands freeing what they remove themselves, as lazyfree-lazy-user-del/-flush say.
_OWN_FREEING: Final = frozenset({"del", "unlink", "flushall", "flushdb"})
_CROSS_DB: Final = frozenset({"move", "copy"})
_UNSEEN: Final = object()  # a key's value before a command that did not look
_DEBUG_RELOADS: Final = frozenset({b"reload", b"populate", b"loadaof"})
_REFRESH_PER_CRON: Final = 32  # cached per-element costs refreshed per cron tick
_CONFIGS: Final = frozenset(
    {
        "maxmemory",
        "maxmemory-policy",
        "maxmemory-samples",
        "maxmemory-eviction-tenacity",
        "lfu-log-factor",
        "lfu-decay-time",
        "lazyfree-lazy-eviction",
        "lazyfree-lazy-server-del",
        "replica-ignore-maxmemory",
    }
)


class Memory:
    """One engine's memory accounting, eviction and lazy freeing."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # A generator of our own, seeded from the run id, so that sampling and LFU coin
        # flips never shift the random picks commands make.
        self.rng = engine.rng.__class__(int(engine.run_id[:16], 16))
        self._dbs = engine.keyspace.dbs
        ndbs = len(self._dbs)
        self.limit = 0  # maxmemory
        self.accounting = False
        self.hooked = False  # commands run through `run`
        self.server_del = False
        self.dataset = [0] * ndbs
        self.per_element: list[dict[bytes, float]] = [{} for _ in range(ndbs)]
        self.baseline = 0
        self.rss = 0
        self.peak = 0
        self.startup = 0
        self.pre_command_oom = False  # what the last OOM check found (scripts use it)
        self.replica_ignores = True  # replica-ignore-maxmemory
        # INFO's total/current_eviction_exceeded_time: since when (clock_ns) the last
        # performEvictions left memory over the limit (0: it did not), and the total of
        # such spans closed so far, in ns.
        self.exceeded_since = 0
        self.exceeded_total_ns = 0
        self.client_buffers = 0  # replies waiting in sockets' buffers (the shell counts them)
        self.purge_requested = False  # MEMORY PURGE: the shell trims the heap
        # Per-client figures and client eviction (maxmemory-clients): clientmem.py.
        self.clients = ClientMemory(engine)
        self.clients.configure()
        self.lazyfree = LazyFree()
        self.clock = evict.AccessClock(engine, self.rng)
        self.evictor = evict.Evictor(engine, self, self.clock, self.rng)
        self._refresh_queue: list[tuple[int, bytes]] = []
        self._key_base = 0
        self._apply_config()  # the engine refreshes its dispatch once it is built

    # --- configuration --------------------------------------------------------------------
    def config_changed(self, name: str) -> None:
        """A config listener: maxmemory and its friends changed at runtime."""
        if name in ("maxmemory-clients", "maxmemory"):
            self.clients.configure()  # a percentage follows maxmemory
        if name in _CONFIGS:
            self.configure()
            if name == "maxmemory" and self.limit:
                # A new limit may be below what is in use: the shell starts evicting
                # between event-loop turns at once (startEvictionTimeProc).
                self.evictor.running = True

    def configure(self) -> None:
        self._apply_config()
        self.engine.refresh_dispatch()

    def _apply_config(self) -> None:
        config = self.engine.config
        policy = config.str("maxmemory-policy")
        flags = evict.POLICIES[policy]
        self.limit = config.int("maxmemory")
        # Redis keeps every key's LRU time under any policy but LFU. Here it costs a dict
        # slot per key and a hooked command path: kept while that path runs anyway (a
        # limit is set) or an LRU policy needs it (BENCHMARKS.md, "OBJECT IDLETIME").
        clock_mode = flags & (evict.LRU | evict.LFU) or (evict.LRU if self.limit else 0)
        self.clock.configure(clock_mode, config.int("lfu-log-factor"), config.int("lfu-decay-time"))
        self.evictor.configure(
            policy,
            config.int("maxmemory-samples"),
            config.int("maxmemory-eviction-tenacity"),
            config.bool("lazyfree-lazy-eviction"),
        )
        self.server_del = config.bool("lazyfree-lazy-server-del")
        self.replica_ignores = config.bool("replica-ignore-maxmemory")
        # A key's slots: the keyspace table's, and the access clock's while it runs.
        key_base = footprint.TABLE_ENTRY * (2 if self.clock.mode else 1)
        accounting = self.limit > 0
        recount = accounting and (not self.accounting or key_base != self._key_base)
        self._key_base = key_base
        self.accounting = accounting
        if recount:
            self.recount()
        self.hooked = accounting or bool(self.clock.mode) or self.server_del

    # --- costs ----------------------------------------------------------------------------
    def cost(self, index: int, key: bytes, value: object, ttl: bool | None = None) -> int:
        """What `key` holding `value` adds to database `index`'s total: the key, the value,
        and the key's slots in the dict tables."""
        n = len(key)
        # footprint.string_cost of the key, inlined (and of the value below): the hot case.
        size = self._key_base + ((48 + n) & ~15 if 1 < n <= 479 else footprint.string_cost(key))
        if ttl if ttl is not None else key in self._dbs[index].expires:
            size += footprint.EXPIRE_ENTRY + footprint.TABLE_ENTRY
        cls = value.__class__
        if cls is bytes:
            n = len(value)  # type: ignore[arg-type]
            return size + ((48 + n) & ~15 if 1 < n <= 479 else footprint.string_cost(value))  # type: ignore[arg-type]
        if cls is bytearray:
            return size + footprint.string_cost(value)  # type: ignore[arg-type]
        if footprint.elements(value) <= footprint.EXACT_LEN:
            return size + footprint.value_cost(value)
        cache = self.per_element[index]
        per = cache.get(key)
        if per is None:
            per = cache[key] = footprint.element_cost(value)
        return size + footprint.value_cost(value, per)

    def cost_if_counted(self, db: Database, key: bytes, value: object) -> int:
        """`cost` while accounting (what a value handed to the lazy-free queue still
        holds), else 0."""
        return self.cost(db.index, key, value) if self.accounting else 0

    def removing(self, index: int, key: bytes, value: object, ttl: bool | None = None) -> int:
        """Book a key leaving database `index` outside a hooked command; its cost."""
        size = self.cost(index, key, value, ttl) if self.accounting else 0
        self.dataset[index] -= size
        self.per_element[index].pop(key, None)
        if self.clock.mode:
            self.clock.forget(index, key)
        return size

    def recount(self) -> None:
        """Cost every key from scratch (maxmemory switched on, data loaded)."""
        for db in self.engine.keyspace.dbs:
            self.per_element[db.index].clear()
            self.dataset[db.index] = sum(
                self.cost(db.index, key, value) for key, value in db.data.items()
            )

    def used(self) -> int:
        """used_memory: the accounting's total, or the RSS while nothing is accounted."""
        if not self.accounting:
            return self.rss
        return self.baseline + sum(self.dataset) + self.client_buffers + self.lazyfree.pending_bytes

    def excess(self) -> int:
        """Bytes over maxmemory, not counting the lazy-free backlog (memory already on its
        way out, as Redis leaves out what does not count for eviction)."""
        return self.used() - self.lazyfree.pending_bytes - self.limit

    # --- evicting ------------------------------------------------------------------------
    def may_evict(self) -> bool:
        """isPerformEvictions: not while a busy script yields, not on a replica that
        leaves its dataset to its master (replica-ignore-maxmemory), and not while clients
        are paused (the dataset stays as it is, expiry waits too)."""
        engine = self.engine
        if engine.scripting.run is not None:
            return False
        if self.replica_ignores and engine.replication.master_host is not None:
            return False
        observer = engine.observer
        return not (observer.paused and observer.pause_end_ms > engine.keyspace.now_ms)

    def perform_evictions(self) -> int:
        """performEvictions, when evictions may run (else EVICT_OK, as Redis fakes it):
        evict, and keep the time spent over the limit for INFO."""
        if not self.may_evict():
            self.evictor.running = False  # the shell stops too, as evictionTimeProc does
            return evict.EVICT_OK
        result = self.evictor.perform()
        if result != evict.EVICT_OK:
            if not self.exceeded_since:
                self.exceeded_since = self.engine.clock_ns() or 1
        elif self.exceeded_since:
            self._close_exceeded()
        return result

    def _close_exceeded(self) -> None:
        self.exceeded_total_ns += max(0, self.engine.clock_ns() - self.exceeded_since)
        self.exceeded_since = 0

    def exceeded_ms(self) -> tuple[int, int]:
        """INFO's total_eviction_exceeded_time and current_eviction_exceeded_time (ms):
        the total includes the span still open."""
        current = max(0, self.engine.clock_ns() - self.exceeded_since) if self.exceeded_since else 0
        return (self.exceeded_total_ns + current) // 1_000_000, current // 1_000_000

    def reset_stats(self) -> None:
        """CONFIG RESETSTAT's share: evicted keys and clients, lazily freed objects, time
        over the limit (an open span starts again from now)."""
        self.evictor.evicted_keys = 0
        self.clients.reset_stats()
        self.lazyfree.freed_objects = 0
        self.exceeded_total_ns = 0
        self.exceeded_since = 0

    def before_obeyed(self) -> None:
        """A command from our master is about to run: a replica that does not ignore
        maxmemory evicts as processCommand would (the master's writes are never
        refused)."""
        if not self.replica_ignores and self.excess() > 0:
            self.perform_evictions()

    # --- the OOM guard --------------------------------------------------------------------
    def oom(self, client: Client, spec: CommandSpec) -> bool:
        """processCommand's maxmemory step; True when the command must get the OOM error."""
        if (
            self.baseline + sum(self.dataset) + self.client_buffers <= self.limit
            and not self.evictor.running
        ):
            self.pre_command_oom = False
            if self.exceeded_since and self.may_evict():
                self._close_exceeded()  # back under the limit: performEvictions' EVICT_OK
            return False  # under the limit: the usual case, without a call
        out_of_memory = self.perform_evictions() == evict.EVICT_FAIL
        self.pre_command_oom = out_of_memory
        if not out_of_memory:
            return False
        if spec.denyoom:
            return True
        if client.multi is None:
            return False
        if spec.fullname == "exec":
            table = self.engine.table
            for argv in client.multi:
                queued = table.get(argv[0])
                if queued is not None and queued.subcommands and len(argv) > 1:
                    queued = queued.subcommands.get(argv[1].lower(), queued)
                if queued is not None and queued.denyoom:
                    return True
            return False
        return spec.fullname not in _MULTI_ALLOWED

    # --- the per-command hook -------------------------------------------------------------
    def run(self, client: Client, spec: CommandSpec, argv: list[bytes]) -> None:
        """`Engine._run` with the command's keys costed, touched and freed."""
        self.around(client, spec, argv, None)

    def around(
        self, client: Client, spec: CommandSpec, argv: list[bytes], run: Callable[[], object] | None
    ) -> None:
        """Run a command between the hooks (see the module docstring): `run`, or
        `Engine._run` when None."""
        keys = _command_keys(spec, argv)
        if len(keys) == 1 and spec.fullname not in _CROSS_DB:
            self._around_one(client, spec, argv, keys[0], run)
            return
        if run is None:
            engine = self.engine

            def run() -> None:
                engine._run(client, spec, argv)

        if not keys:
            run()
            if spec.is_write:
                self._keyless_write(client, spec, argv)
            return
        db = client.db
        index = db.index
        write = spec.is_write
        measure = self.accounting and (write or spec.fullname in _MODIFYING_READS)
        hold = measure or (self.server_del and write)
        touch = self.clock.mode and not (client.no_touch and spec.fullname != "touch")
        other = _other_db_key(spec, argv, len(self.dataset), index) if hold else None
        before: list[object | None] | None = None
        if hold:
            lookup = db.lookup
            before = [lookup(key) for key in keys]  # stale keys expire first
            if measure:
                cost_before = self._costs(index, keys, before)
                other_before = self._key_cost(*other) if other is not None else 0
        elif touch and write:
            get = db.data.get
            before = [get(key) for key in keys]  # to tell new keys from updated ones
        run()
        if touch:
            self._touch(index, keys, before, spec)
        if not hold or before is None:
            return
        data = db.data
        after = [data.get(key) for key in keys]
        per_element = self.per_element[index]
        free = self.server_del and spec.fullname not in _OWN_FREEING
        for key, old, new in zip(keys, before, after, strict=True):
            if old is not new and old is not None:
                per_element.pop(key, None)
                if free and not _still_held(old, after, other):
                    self.lazyfree.free(old)
        if measure:
            self.dataset[index] += self._costs(index, keys, after) - cost_before
            if other is not None:
                self.dataset[other[0]] += self._key_cost(*other) - other_before

    def _around_one(
        self,
        client: Client,
        spec: CommandSpec,
        argv: list[bytes],
        key: bytes,
        run: Callable[[], object] | None,
    ) -> None:
        """`around` for the common command of one key, without the lists."""
        db = client.db
        index = db.index
        name = spec.fullname
        write = spec.is_write
        measure = self.accounting and (write or name in _MODIFYING_READS)
        hold = measure or (self.server_del and write)
        clock = self.clock
        touch = clock.mode and not (client.no_touch and name != "touch")
        old: object = _UNSEEN
        cost_before = 0
        if hold:
            old = db.lookup(key)  # a stale key expires first
            if measure and old is not None:
                cost_before = self.cost(index, key, old)
        elif touch and write:
            old = db.data.get(key)  # to tell a new key from an updated one
        if run is None:
            self.engine._run(client, spec, argv)
        else:
            run()
        new = db.data.get(key)
        if touch:
            if new is None:
                clock.access[index].pop(key, None)
            elif old is None:
                clock.created(index, key)
            elif name in evict.NO_TOUCH:
                pass
            elif clock.mode == evict.LRU:
                clock.access[index][key] = clock.lru_clock()
            else:
                clock.touch(index, key)
        if not hold:
            return
        if old is not new and old is not None:
            self.per_element[index].pop(key, None)
            if self.server_del and name not in _OWN_FREEING and new is not old:
                self.lazyfree.free(old)
        if measure:
            self.dataset[index] += (0 if new is None else self.cost(index, key, new)) - cost_before

    def _costs(self, index: int, keys: list[bytes], values: list[object | None]) -> int:
        cost = self.cost
        return sum(
            cost(index, key, value)
            for key, value in zip(keys, values, strict=True)
            if value is not None
        )

    def _key_cost(self, index: int, key: bytes) -> int:
        """A key of another database (MOVE, COPY ... DB): its cost there, booked there."""
        value = self.engine.keyspace.dbs[index].data.get(key)
        return 0 if value is None else self.cost(index, key, value)

    def _touch(
        self, index: int, keys: list[bytes], before: list[object | None] | None, spec: CommandSpec
    ) -> None:
        """The access clock after a command: keys it looked up are touched, keys it
        created start afresh, keys it removed are forgotten. `before` (writes only) holds
        the values the keys had before the command."""
        clock = self.clock
        data = self.engine.keyspace.dbs[index].data
        access = clock.access[index]
        name = spec.fullname
        if name in ("rename", "renamenx") and len(keys) == 2 and keys[0] not in data:
            # The value moved, and its access time with it (Redis moves the object).
            if keys[1] in data:
                access[keys[1]] = access.pop(keys[0], clock.default)
                clock.touch(index, keys[1])
            return
        no_touch = name in evict.NO_TOUCH
        for i, key in enumerate(keys):
            if key not in data:
                access.pop(key, None)
            elif before is not None and before[i] is None:
                clock.created(index, key)
            elif not no_touch:
                clock.touch(index, key)

    def _keyless_write(self, client: Client, spec: CommandSpec, argv: list[bytes]) -> None:
        """DEBUG RELOAD and friends replace the dataset behind the hooks: cost it again
        (FLUSHALL, FLUSHDB and SWAPDB call `flushed`/`swapped` themselves)."""
        if (
            spec.fullname == "debug"
            and self.accounting
            and len(argv) > 1
            and argv[1].lower() in _DEBUG_RELOADS
        ):
            self.recount()

    # --- whole databases ------------------------------------------------------------------
    def flushed(self, index: int) -> None:
        self.dataset[index] = 0
        self.per_element[index].clear()
        if self.clock.mode:
            old = self.clock.access[index]
            self.clock.access[index] = {}
            self.lazyfree.free_part(old)
        self.evictor.forget_samples(index)

    def swapped(self, a: int, b: int) -> None:
        sizes = self.dataset
        sizes[a], sizes[b] = sizes[b], sizes[a]
        per, access = self.per_element, self.clock.access
        per[a], per[b] = per[b], per[a]
        access[a], access[b] = access[b], access[a]
        self.evictor.forget_samples()

    # --- events outside commands ----------------------------------------------------------
    def expired(self, db: Database, key: bytes, value: object) -> None:
        """A key expired (lazily or in the active cycle)."""
        if value is None:
            return
        size = self.removing(db.index, key, value, ttl=True)
        if self.engine.config.bool("lazyfree-lazy-expire"):
            self.lazyfree.free(value, size)

    def start(self, rss: int) -> None:
        """The shell is serving: what the process holds besides the dataset is the
        baseline (the dataset loaded at start-up is costed, not guessed)."""
        self.recount()
        self.rss = self.peak = rss
        self.baseline = max(0, rss - sum(self.dataset))
        self.startup = self.baseline

    def cron(self, rss: int) -> None:
        """Once per cron tick: the RSS, the peak, and a few cached per-element costs
        refreshed (the difference is booked)."""
        self.rss = rss
        if self.accounting:
            self._refresh_some()
        self.peak = max(self.peak, self.used())

    def _refresh_some(self) -> None:
        queue = self._refresh_queue
        if not queue:
            queue.extend((i, key) for i, cache in enumerate(self.per_element) for key in cache)
            queue.reverse()
        dbs = self.engine.keyspace.dbs
        for _ in range(min(_REFRESH_PER_CRON, len(queue))):
            index, key = queue.pop()
            cache = self.per_element[index]
            if key not in cache:
                continue
            value = dbs[index].data.get(key)
            if value is None or value.__class__ is bytes or value.__class__ is bytearray:
                del cache[key]  # gone behind our back: nothing of it is counted any more
                continue
            old = self.cost(index, key, value)
            cache[key] = footprint.element_cost(value)
            self.dataset[index] += self.cost(index, key, value) - old

    def drain(self, budget: int) -> int:
        """The shell's share of the work between event-loop turns: lazy freeing, and
        evictions left over when performEvictions hit its time limit."""
        if self.evictor.running:
            self.perform_evictions()
        return self.lazyfree.drain(budget) if self.lazyfree else 0


def _still_held(value: object, after: list[object | None], other: tuple[int, bytes] | None) -> bool:
    """Whether a value a command took from one of its keys now sits at another (RENAME)."""
    return any(value is held for held in after) or other is not None


def _other_db_key(
    spec: CommandSpec, argv: list[bytes], ndbs: int, index: int
) -> tuple[int, bytes] | None:
    """MOVE's and COPY ... DB n's key in the other database, when the request names one."""
    if spec.fullname == "move" and len(argv) == 3:
        target, key = argv[2], argv[1]
    elif spec.fullname == "copy":
        words = [word.upper() for word in argv[3:]]
        if b"DB" not in words or words.index(b"DB") + 4 >= len(argv):
            return None
        target, key = argv[words.index(b"DB") + 4], argv[2]
    else:
        return None
    try:
        other = int(target)
    except ValueError:
        return None
    return (other, key) if 0 <= other < ndbs and other != index else None


def _command_keys(spec: CommandSpec, argv: list[bytes]) -> list[bytes]:
    """The command's keys, each once: a plain range straight from argv, else the key
    specs (getkeys functions included)."""
    first, last, step = spec.legacy_range
    if first and not spec.movable_keys:
        if last < 0:
            last += len(argv)
        keys = argv[first : last + 1 : step]
    else:
        keys = [argv[pos] for pos, _ in spec.keys_and_flags(argv)]
    return list(dict.fromkeys(keys)) if len(keys) > 1 else keys
