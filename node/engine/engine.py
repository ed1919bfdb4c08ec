"""The engine: runs one command for one client against the keyspace. Pure and synchronous.

`Engine.execute(client, argv)` appends the reply bytes to `client.out`. Guards run in Redis's
`processCommand` order (lookup, arity, auth, then MULTI queueing); each later issue slots
its guard (ACL, cluster redirect, OOM, read-only replica, ...) into `_guarded` in that
order. The common case -- a client with `full_access` (authenticated, its ACL user allowed
everything: node/engine/acl.py) outside MULTI -- takes `execute`'s short path: one dict
probe, one arity test, one call.

Rules: never import trio, socket, time or random here. The shell sets `keyspace.now_ms`
before each batch and passes a seeded `random.Random` at construction. A handler raising
`CommandError` becomes an error reply; any other exception is a bug: it is counted and
logged through `log`, answered with `-ERR internal error`, and re-raised when `strict`.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from node.cluster.manager import Cluster
from node.commands.registry import Acl, CommandSpec, CommandTable, Flag
from node.config import Config, ConfigError
from node.engine import notify
from node.engine.acl import AccessControl
from node.engine.blocking import Block, Blocked
from node.engine.hdr import USEC_INDEX
from node.engine.keyspace import Database, Keyspace
from node.engine.memory import Memory
from node.engine.observe import CommandStats, Observer, Piece, protected_error
from node.engine.pubsub import PubSub
from node.engine.scripting import Scripting
from node.engine.session import REPLY_ON, REPLY_SKIP, REPLY_SKIP_NEXT, Client
from node.engine.shutdown import Shutdown
from node.engine.tracking import Tracking
from node.persistence.manager import Persistence
from node.proto import errors, resp
from node.proto.errors import CommandError
from node.replication.state import Replication

if TYPE_CHECKING:
    from node.cluster.migrate import Connector

VERSION: Final = "7.0.15"
# Commands that run immediately inside MULTI instead of being queued (Redis: multi.c).
_MULTI_IMMEDIATE: Final = frozenset({"exec", "discard", "multi", "watch", "quit", "reset"})
# What a RESP2 client may run while subscribed (Redis: processCommand's pubsub check).
_PUBSUB_CONTEXT: Final = frozenset(
    {
        "ping",
        "subscribe",
        "ssubscribe",
        "unsubscribe",
        "sunsubscribe",
        "psubscribe",
        "punsubscribe",
        "quit",
        "reset",
    }
)


class Stats:
    """Counters INFO reports; plain ints so the hot path pays an attribute add."""

    __slots__ = (
        "commands",
        "connections_received",
        "error_codes",
        "errors",
        "internal_errors",
        "rejected_connections",
        "unexpected_error_replies",
    )

    def __init__(self) -> None:
        self.commands = 0
        self.connections_received = 0
        self.rejected_connections = 0
        self.errors = 0
        self.error_codes: dict[str, int] = {}  # error replies by prefix (INFO errorstats)
        self.internal_errors = 0
        self.unexpected_error_replies = 0


class TypeLimits:
    """The configs that data-type writes read on every call (encoding thresholds, stream
    node limits), as ints the config listener keeps current: a Config lookup costs more
    than the whole of a one-field HSET."""

    # The configs it holds: a change to one of them rebuilds it.
    CONFIGS: Final = frozenset(
        (
            "hash-max-listpack-entries",
            "hash-max-listpack-value",
            "zset-max-listpack-entries",
            "zset-max-listpack-value",
            "set-max-intset-entries",
            "stream-node-max-entries",
            "stream-node-max-bytes",
        )
    )

    def __init__(self, config: Config) -> None:
        self.hash_max_listpack_entries = config.int("hash-max-listpack-entries")
        self.hash_max_listpack_value = config.int("hash-max-listpack-value")
        self.zset_max_listpack_entries = config.int("zset-max-listpack-entries")
        self.zset_max_listpack_value = config.int("zset-max-listpack-value")
        self.set_max_intset_entries = config.int("set-max-intset-entries")
        self.stream_node_max_entries = config.int("stream-node-max-entries")
        self.stream_node_max_bytes = config.int("stream-node-max-bytes")


class Engine:
    """One node's data server: keyspace + clients + command table."""

    def __init__(
        self,
        config: Config,
        table: CommandTable,
        rng: random.Random,
        *,
        strict: bool = False,
        log: Callable[[str, str], None] = lambda level, msg: None,
    ) -> None:
        self.config = config
        # ACL rules name commands by their original names (Redis's orig_commands); clients,
        # scripts and the dispatcher by the names rename-command left (ConfigError if bad).
        self.orig_table = table
        try:
            self.table = table.renamed(config.renames)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        self.rng = rng
        self.strict = strict
        self.log = log
        self.keyspace = Keyspace(config.int("databases"))
        self.clients: dict[int, Client] = {}
        self.pubsub = PubSub(self)
        self.next_client_id = 1
        self.dirty = 0
        self.stats = Stats()
        self.started_ms = 0
        self.shutdown_requested: str | None = None  # set by SHUTDOWN; the shell acts on it
        self.shutdown = Shutdown(self)  # SHUTDOWN's wait for lagging replicas, ABORT
        self.acl = AccessControl(self)  # users, AUTH, the ACL guard and log
        # Blocking: parked clients (insertion-ordered), clients that got a reply outside their
        # own command (the shell flushes them), and >0 inside MULTI/EXEC or a script.
        self.blocked: dict[Client, None] = {}
        self.woken: list[Client] = []
        self.no_blocking = 0
        self.run_id = f"{rng.getrandbits(160):040x}"
        # Scripting (EVAL, FUNCTION). The shell injects a monotonic clock in ms (busy-script
        # and FUNCTION LOAD timeouts) and `serve_while_busy`, which answers other clients
        # through `execute_busy` while a script runs past busy-reply-threshold.
        self.scripting = Scripting(self)
        self.monotonic_ms: Callable[[], int] = lambda: 0
        self.serve_while_busy: Callable[[], None] | None = None
        # CLIENT KILL: clients already disconnected here whose sockets the shell must close.
        self.clients_to_close: list[Client] = []
        # Process facts only the shell can measure (INFO): refreshed by its cron.
        self.used_memory = 0
        self.process_info: dict[str, str] = {}
        # Keyspace notifications: notify.effective flags (0 = off, one test for emitters).
        self.notify_flags = 0
        self.limits = TypeLimits(config)
        # XADD's last `<ms>-` text, by its ms: the IDs of a millisecond share it.
        self.stream_ms_text: tuple[int, bytes] = (-1, b"")
        # Client-side caching (CLIENT TRACKING).
        self.tracking = Tracking(self)
        keyspace = self.keyspace
        keyspace.notify = self.notify
        keyspace.on_expired = self._key_expired
        keyspace.invalidate = self.tracking.invalidate
        # Propagation (Redis's call()/alsoPropagate): while `propagating` (something
        # consumes it: AOF, replicas) every command's writes are recorded as (db index,
        # argv) in `propagated` (db -1: no SELECT needed) for the shell to drain after each
        # batch; a command is compared before and after (dirty) only in that case.
        self.propagating = False
        # Every command takes `_guarded` while writes may be refused (MISCONF) or other
        # guards need it: `refresh_dispatch` keeps this up to date.
        self.full_dispatch = False
        # Cluster mode (node/cluster/manager.py: slot ownership, routing, nodes.conf), made
        # once the engine is whole. MIGRATE's links to other servers are the shell's
        # (node/cluster/migrate.py's Connector).
        self.cluster: Cluster | None = None
        self.migrate_connector: Connector | None = None
        # Memory accounting, maxmemory and eviction, lazy freeing (node/engine/memory.py):
        # while `memory.hooked`, commands run through `memory.run` on the full path.
        self.memory = Memory(self)
        # Observation (node/engine/observe.py): command statistics, slow log, latency
        # monitor, MONITOR, CLIENT PAUSE. The shell injects a monotonic clock in ns (command
        # durations) and `sleep` (DEBUG SLEEP blocks the whole server, as in Redis).
        # `observing` (MONITOR clients or a pause) sends every command through `_guarded`.
        self.clock_ns: Callable[[], int] = lambda: 0
        self.sleep: Callable[[float], None] = lambda seconds: None
        self.observing = False
        self.observer = Observer(self)
        self.persistence = Persistence(self)
        self.scripting.attach_persistence(self.persistence)
        # Consumers of propagation (the AOF, the replication stream) say so through
        # `want_propagation`; `propagating` is on while any does.
        self._propagation_wanted: set[str] = set()
        # Replication (node/replication/state.py): role, stream, guards. While `feeding`
        # (a master with a backlog) every unit handed to `propagated` is also appended to
        # the replication stream at once, and its client's `woff` set (WAIT).
        self.replication = Replication(self)
        self.propagated: list[tuple[int, list[bytes]]] = []
        self._unit: list[tuple[int, list[bytes]]] = []
        self._unit_depth = 0
        self._rewrite: tuple[list[list[bytes]], bool] | None = None
        self._refresh_config("requirepass")
        self._refresh_config("notify-keyspace-events")
        config.listeners.append(self._refresh_config)
        config.listeners.append(self.memory.config_changed)
        self.refresh_dispatch()
        if config.bool("cluster-enabled"):
            self.cluster = Cluster(self)
        self.replication.start()

    # --- keyspace notifications ----------------------------------------------------------
    def notify(self, kind: int, event: bytes, key: bytes, db_index: int) -> None:
        """Redis's notifyKeyspaceEvent: publish `event` on `__keyspace@<db>__:<key>` (K)
        and `key` on `__keyevent@<db>__:<event>` (E) when class `kind` is enabled. Hot
        paths test `notify_flags` before calling."""
        flags = self.notify_flags
        if not flags & kind:
            return
        publish = self.pubsub.publish
        if flags & notify.KEYSPACE:
            publish(b"__keyspace@%d__:%s" % (db_index, key), event)
        if flags & notify.KEYEVENT:
            publish(b"__keyevent@%d__:%s" % (db_index, event), key)

    def _key_expired(self, db: Database, key: bytes, value: object) -> None:
        """Keyspace.on_expired: a key expired lazily or in the active cycle."""
        self.memory.expired(db, key, value)
        if self.notify_flags:
            self.notify(notify.EXPIRED, b"expired", key, db.index)
        if self.propagating:
            lazy = self.config.bool("lazyfree-lazy-expire")
            self.also_propagate(db.index, [b"UNLINK" if lazy else b"DEL", key])

    # --- propagation (AOF, replicas) -----------------------------------------------------
    def refresh_dispatch(self) -> None:
        """Recompute `full_dispatch` after the disk's health (MISCONF) or other guards
        changed. Propagation needs no detour: the short path records it too."""
        self.full_dispatch = (
            not self.persistence.disk_ok()
            or self.observing
            or self.memory.hooked
            or self.replication.guarding
        )

    def want_propagation(self, consumer: str, on: bool) -> None:
        """A consumer of propagation ("aof", "replication") starts or stops needing it."""
        wanted = self._propagation_wanted
        if on:
            wanted.add(consumer)
        else:
            wanted.discard(consumer)
        self.propagating = bool(wanted)
        self.refresh_dispatch()

    def propagate_as(
        self, client: Client, commands: list[list[bytes]], *, force: bool = False
    ) -> None:
        """Called by a handler: propagate `commands` (in the client's database) instead of
        its own argv -- Redis's rewriteClientCommandVector / alsoPropagate +
        preventCommandPropagation. An empty list propagates nothing of the command itself
        (EXEC, scripts: the commands they ran propagate on their own). As for the argv,
        nothing is recorded unless the command changed the dataset (`dirty`), or `force`.
        A no-op while nothing consumes propagation."""
        if self.propagating:
            self._rewrite = (commands, force)

    def also_propagate(self, db_index: int, argv: list[bytes]) -> None:
        """Record one more command in the execution unit in progress (or alone when none
        is): expired keys' DELs, the commands a script runs (wrapped in MULTI/EXEC with
        the rest of the unit)."""
        if self._unit_depth:
            self._unit.append((db_index, argv))
        else:
            self.propagated.append((db_index, argv))
            if self.replication.feeding:
                self.replication.primary.feed([(db_index, argv)])

    def _begin_unit(self) -> tuple[int, tuple[list[list[bytes]], bool] | None]:
        """A command starts while propagation is consumed: it is (part of) an execution
        unit. Returns what `_end_unit` needs: dirty before, and the enclosing rewrite."""
        self._unit_depth += 1
        outer = self._rewrite
        self._rewrite = None
        return self.dirty, outer

    def _end_unit(
        self,
        client: Client,
        argv: list[bytes],
        dirty: int,
        outer: tuple[list[list[bytes]], bool] | None,
    ) -> None:
        """Record what the command changed (its argv, or its `propagate_as` rewrite), and
        when the outermost command ends hand the unit over to `propagated`, wrapped in
        MULTI/EXEC when it holds more than one command (propagatePendingCommands)."""
        rewrite = self._rewrite
        if self.dirty != dirty or (rewrite is not None and rewrite[1]):
            index = client.db.index
            for command in rewrite[0] if rewrite is not None else [argv]:
                self._unit.append((index, command))
        self._rewrite = outer
        self._unit_depth -= 1
        if not self._unit_depth and self._unit:
            unit, self._unit = self._unit, []
            if len(unit) > 1:
                unit = [(unit[0][0], [b"MULTI"]), *unit, (-1, [b"EXEC"])]
            self.propagated.extend(unit)
            if self.replication.feeding:
                primary = self.replication.primary
                primary.feed(unit)
                client.woff = primary.offset

    def _refresh_config(self, name: str) -> None:
        if name == "requirepass":
            self.acl.set_default_password(self.config.str("requirepass"))
        elif name == "notify-keyspace-events":
            self.notify_flags = notify.effective(self.config.int(name))
            for db in self.keyspace.dbs:
                db.set_notify(self.notify_flags)
        elif name == "tracking-table-max-keys":
            self.tracking.limit()
        elif name in TypeLimits.CONFIGS:
            self.limits = TypeLimits(self.config)

    def before_sleep(self) -> None:
        """Once per event-loop turn, after serving what was ready (Redis's beforeSleep):
        BCAST invalidations of the keys changed meanwhile, GETACK for new WAITs."""
        if self.tracking.prefixes:
            self.tracking.broadcast()
        if self.replication.get_ack:
            self.replication.before_sleep()
        if self.cluster is not None and self.cluster.state.todo:
            self.cluster.before_sleep()  # cluster state, then nodes.conf

    # --- time and clients ----------------------------------------------------------------
    @property
    def now_ms(self) -> int:
        return self.keyspace.now_ms

    def set_time(self, now_ms: int) -> None:
        """Set the cached clock (unix ms) for the next batch of commands."""
        self.keyspace.now_ms = now_ms
        if not self.started_ms:
            self.started_ms = now_ms

    def protected_mode_denies(self, is_local: bool) -> bool:
        """Redis refuses non-loopback clients when protected mode is on and the default
        user has no password (it checks at accept time and closes)."""
        return not is_local and self.config.bool("protected-mode") and self.acl.default.nopass

    def connect(self, addr: str = "", laddr: str = "", is_local: bool = True) -> Client | None:
        """A new connection; None (after counting it) when maxclients is reached."""
        self.stats.connections_received += 1
        if len(self.clients) >= self.config.int("maxclients"):
            self.stats.rejected_connections += 1
            return None
        client = Client(self, self.next_client_id, addr, laddr, is_local)
        self.next_client_id += 1
        self.clients[client.id] = client
        return client

    def disconnect(self, client: Client) -> None:
        self.clients.pop(client.id, None)
        self.unwatch(client)
        if client.blocked is not None:
            self.unblock(client)
        if client.pubsub_mode:
            self.pubsub.drop_client(client)
        if client.tracking:
            self.tracking.disable(client)
        self.observer.drop_client(client)
        if client.flags:
            self.replication.disconnected(client)  # a replica, or our master

    def effective_hz(self) -> int:
        """serverCron's hz: the configured one, doubled (up to 500) while there are more
        than 200 clients per tick, when dynamic-hz is on."""
        hz = self.config.int("hz")
        if self.config.bool("dynamic-hz"):
            while len(self.clients) // hz > 200 and hz < 500:
                hz = min(hz * 2, 500)
        return hz

    def idle_clients(self) -> list[Client]:
        """Clients idle for longer than `timeout` seconds (0 = never), for the shell to close."""
        timeout = self.config.int("timeout")
        if not timeout:
            return []
        limit = self.keyspace.now_ms - timeout * 1000
        return [c for c in self.clients.values() if c.last_interaction_ms < limit]

    def db(self, index: int) -> Database:
        return self.keyspace.dbs[index]

    # --- dispatch ------------------------------------------------------------------------
    def execute(self, client: Client, argv: list[bytes]) -> None:
        """Run one command; its reply (if any) is appended to `client.out`."""
        self.execute_turn([(client, [argv])])

    def execute_turn(self, batch: list[tuple[Client, list[list[bytes]]]]) -> None:
        """Run the commands every client sent in one event-loop turn, client after client,
        each client's in order, as `execute` would one by one. A client stops at a command
        that closes its connection or parks it (blocked, paused): the commands after that
        one wait in `client.backlog`. A client that another one killed earlier in the turn
        runs nothing (Redis frees it before reading its input).

        The shell reads every ready socket first and hands over the whole turn, so the
        lookups below are paid once per turn and the guards once per client."""
        # Calls on the short path are timed by runs (observe.py): consecutive calls of one
        # command, across clients too, timed together from `since` (0: the clock is read
        # when the next run starts) and given the average; `count` calls so far, in
        # `pieces` (client, its commands, first index, how many) for the slow log.
        observer = self.observer
        lookup = observer.dispatch
        keyspace = self.keyspace
        clock = self.clock_ns
        killed = self.clients_to_close
        run: CommandStats | None = None
        since = count = 0
        pieces: list[Piece] = []
        # What only a command off the short path can change, read again after one: is
        # anyone parked (only then can keys become "ready"; no short-path command parks),
        # is propagation consumed (then it is recorded on the short path too).
        waking = bool(self.blocked)
        propagating = self.propagating
        dirty, outer = 0, None
        for client, commands in batch:
            if killed and client in killed:
                continue
            # The guards the short path skips are decided once per client: a command on
            # the short path cannot change them (CommandStats.fast). They are: it may run
            # anything (authenticated, an unrestricted user), it is not queueing MULTI, not
            # subscribed, not tracking, its replies are on, no server-wide guard is up.
            plain = (
                client.full_access
                and client.multi is None
                and client.reply_mode == REPLY_ON
                and not client.pubsub_mode
                and not client.tracking
                and not self.full_dispatch
            )
            out = client.out
            first = ran = 0
            for argv in commands:
                ran += 1
                st = lookup.get(argv[0])
                if plain and st is not None and st.fast:
                    if not st.min_args <= len(argv) <= st.max_args:
                        if run is not None:
                            pieces.append((client, commands, first, ran - 1 - first))
                            self._close_run(run, since, count + ran - 1 - first, pieces)
                            run = None
                            since = 0
                        spec = st.spec
                        client.last_command = spec
                        st.rejected += 1
                        self._reply_error(client, errors.wrong_arity(spec.fullname).message)
                        continue
                    if st is not run:
                        if run is not None:
                            pieces.append((client, commands, first, ran - 1 - first))
                            since = self._close_run(run, since, count + ran - 1 - first, pieces)
                        elif not since:
                            since = clock()
                        run = st
                        first = ran - 1
                        count = 0
                        pieces = []
                    if propagating:
                        dirty, outer = self._begin_unit()
                    try:
                        out.append(st.handler(client, argv))  # type: ignore[arg-type]
                    except CommandError as exc:
                        st.failed += 1
                        self._reply_error(client, exc.message)
                    except Exception as exc:  # a bug: keep serving, but never hide it in tests
                        st.failed += 1
                        self._internal_error(client, st.spec, exc)
                    finally:
                        if propagating:
                            self._end_unit(client, argv, dirty, outer)
                    if waking and keyspace.ready:
                        pieces.append((client, commands, first, ran - first))
                        self._close_run(run, since, count + ran - first, pieces)
                        run = None
                        since = 0
                        client.last_command = st.spec
                        self._serve_ready()
                    continue
                if run is not None:
                    pieces.append((client, commands, first, ran - 1 - first))
                    self._close_run(run, since, count + ran - 1 - first, pieces)
                    run = None
                    since = 0
                known = st.spec if st is not None else None
                if client.tracking:
                    self._tracked(client, argv, known)
                else:
                    self._guarded(client, argv, known)
                if keyspace.ready:
                    self._serve_ready()
                if client.close_after_reply or client.blocked is not None:
                    if client.blocked is not None and not client.close_after_reply:
                        client.backlog = commands[ran:]
                    break
                # It may have changed what the short path skips: the rest of this client's
                # commands take the full path (decided anew with its next read).
                plain = False
                waking = bool(self.blocked)
                propagating = self.propagating
            if run is not None:
                # The client's share of the open run, which may go on with the next client.
                client.last_command = run.spec
                if ran > first:
                    pieces.append((client, commands, first, ran - first))
                    count += ran - first
                first = 0
        if run is not None:
            # The turn's last run closes here. Its common case (calls under a millisecond,
            # below the slow log's and latency monitor's bars) is `_close_run` inlined: a
            # server whose clients do not pipeline pays this once per turn.
            elapsed = clock() - since
            usec = elapsed // (count * 1000)
            if usec < observer.inline_below:
                run.calls += count
                run.usec += elapsed // 1000
                counts = run.counts
                index = USEC_INDEX[usec]
                counts[index] = counts.get(index, 0) + count
            else:
                observer.account(run, count, elapsed, pieces)

    def _close_run(self, run: CommandStats, since: int, count: int, pieces: list[Piece]) -> int:
        """Account a run of `count` short-path calls that started at `since`; returns the
        clock, where the next run starts."""
        now = self.clock_ns()
        self.observer.account(run, count, now - since, pieces)
        return now

    def execute_obeyed(self, client: Client, argv: list[bytes]) -> None:
        """A command from our master (a replica applying the replication stream): no
        guards -- the master accepted it already, and Redis obeys its master -- but MULTI
        queueing, and call()'s accounting and propagation (the AOF)."""
        try:
            spec = self.resolve(argv)
        except CommandError as exc:
            self._reply_error(client, exc.message)
            return
        client.last_command = spec
        if client.multi is not None and spec.fullname not in _MULTI_IMMEDIATE:
            client.multi.append(argv)
            return
        if self.memory.limit:
            self.memory.before_obeyed()  # replica-ignore-maxmemory no: evict, never refuse
        self.call(client, spec, argv)
        if self.keyspace.ready:
            self._serve_ready()

    def resolve(self, argv: list[bytes], spec: CommandSpec | None = None) -> CommandSpec:
        """Redis's lookupCommand plus the arity check: the (sub)command `argv` names.

        Raises CommandError with Redis's unknown-command/subcommand or arity text."""
        if spec is None:
            spec = self.table.get(argv[0])
            if spec is None:
                raise errors.unknown_command(argv[0], argv[1:])
        if spec.subcommands and len(argv) > 1:
            # Alone, a container is checked against its own arity, as in Redis: -2
            # (an arity error) for all but COMMAND, which then runs its own handler.
            sub = spec.subcommands.get(argv[1].lower())
            if sub is None:
                raise errors.unknown_subcommand(argv[1], spec.name)
            spec = sub
        arity = spec.arity
        if (len(argv) != arity) if arity > 0 else (len(argv) < -arity):
            raise errors.wrong_arity(spec.fullname)
        return spec

    def _tracked(self, client: Client, argv: list[bytes], spec: CommandSpec | None) -> None:
        """A command of a client with CLIENT TRACKING on: it is the tracking table's
        current client while it runs (its keys are remembered, its own invalidations
        follow its reply)."""
        tracking = self.tracking
        tracking.current = client
        try:
            self._guarded(client, argv, spec)
        finally:
            tracking.current = None
        tracking.after_command(client, argv)

    def _guarded(self, client: Client, argv: list[bytes], spec: CommandSpec | None) -> None:
        """The full guard pipeline, in processCommand's order."""
        try:
            spec = self.resolve(argv, spec)
            client.last_command = spec
            if spec.flags & Flag.PROTECTED:
                denied = protected_error(self, client, spec)
                if denied is not None:
                    raise CommandError(denied)
            if not client.full_access:
                self.acl.guard(client, spec, argv)
            if self.cluster is not None:
                self.cluster.route(client, spec, argv)  # MOVED, ASK, CROSSSLOT, CLUSTERDOWN...
            if self.memory.limit and self.memory.oom(client, spec):
                raise CommandError(errors.OOM)
            if spec.is_write or spec.fullname == "ping":
                denied = self.persistence.write_error()
                if denied is not None:
                    raise CommandError(denied)
            if self.replication.guarding:
                denied = self.replication.denied(client, spec)  # NOREPLICAS, READONLY...
                if denied is not None:
                    raise CommandError(denied)
            if client.pubsub_mode and client.resp == 2 and spec.fullname not in _PUBSUB_CONTEXT:
                raise CommandError(
                    f"ERR Can't execute '{spec.fullname}': only (P|S)SUBSCRIBE / "
                    "(P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
                )
            if (
                client.flags
                and ("O" in client.flags or "S" in client.flags)
                and spec.flags & (Flag.READONLY | Flag.WRITE | Flag.MAY_REPLICATE)
            ):
                # Monitors and replicas are replicas to Redis: no keyspace access for them.
                raise CommandError("ERR Replica can't interact with the keyspace")
            if self.observing and self.observer.pause_applies(client, spec):
                self.postpone(client, spec, argv)
                return
            if client.multi is not None and spec.fullname not in _MULTI_IMMEDIATE:
                if spec.flags & Flag.NO_MULTI:
                    raise CommandError("ERR Command not allowed inside a transaction")
                client.multi.append(argv)
                self._reply(client, resp.QUEUED)
                return
        except CommandError as exc:
            if client.multi is not None:
                client.multi_error = True  # Redis flags the transaction (EXECABORT later)
            self._reply_error(client, exc.message)
            self.observer.rejected(argv)
            return
        self.call(client, spec, argv)

    def call(self, client: Client, spec: CommandSpec, argv: list[bytes]) -> None:
        """Redis's call(): run the handler and deliver its reply; while propagation is
        consumed, record what the command changed (see `propagate_as`). The call is timed
        and counted (observe.py's `called`)."""
        errors_before = self.stats.errors
        start = self.clock_ns()
        run = self.memory.run if self.memory.hooked else self._run
        if not self.propagating:
            run(client, spec, argv)
        else:
            dirty, outer = self._begin_unit()
            try:
                run(client, spec, argv)
            finally:
                self._end_unit(client, argv, dirty, outer)
        self.observer.called(
            client, spec, argv, self.clock_ns() - start, errors_before, client.blocked is not None
        )

    def _run(self, client: Client, spec: CommandSpec, argv: list[bytes]) -> None:
        tracking = self.tracking
        tracker = tracking.current
        if tracker is client:
            outer, tracking.running = tracking.running, (spec, argv)
        try:
            reply = spec.handler(client, argv)
        except CommandError as exc:
            self._reply_error(client, exc.message)
            reply = None
        except Exception as exc:
            self._internal_error(client, spec, exc)
            return
        finally:
            if tracker is client:
                tracking.running = outer
        if tracker is not None and spec.is_readonly and not spec.acl & Acl.SCRIPTING:
            # The keys a read touched, error or not, for the tracking client that ran it.
            # Read-only scripts are not reads themselves: the commands they run are, and
            # for those Redis 7.0 takes the keys of the script command (its KEYS).
            if tracker is client:
                tracking.remember(tracker, spec, argv)
            elif tracking.running is not None:
                tracking.remember(tracker, *tracking.running)
        if reply is None:
            return
        if isinstance(reply, Block):
            self._block(client, spec, argv, reply)
            return
        self._reply(client, reply)

    def _reply(self, client: Client, reply: bytes) -> None:
        mode = client.reply_mode
        if mode == REPLY_ON:
            client.out.append(reply)
        elif mode == REPLY_SKIP_NEXT:
            client.reply_mode = REPLY_SKIP  # CLIENT REPLY SKIP: this reply is the skipped one
        elif mode == REPLY_SKIP:
            client.reply_mode = REPLY_ON

    def _reply_error(self, client: Client, message: str) -> None:
        self.count_error(message)
        self._reply(client, resp.error(message))

    def count_error(self, message: str) -> None:
        """Count an error reply in INFO's stats (errorstats by its first word)."""
        self.stats.errors += 1
        codes = self.stats.error_codes
        prefix = message.split(" ", 1)[0]
        codes[prefix] = codes.get(prefix, 0) + 1

    def execute_busy(self, client: Client, argv: list[bytes]) -> None:
        """processCommand while a script runs past busy-reply-threshold: commands without
        the ALLOW_BUSY flag get BUSY (flagging a transaction being queued); the others run
        as usual. The shell calls this from `serve_while_busy`."""
        try:
            spec = self.resolve(argv)
            if not client.full_access:
                self.acl.guard(client, spec, argv)
            if not spec.flags & Flag.ALLOW_BUSY:
                raise CommandError(self.scripting.busy_error())
        except CommandError as exc:
            self.stats.commands += 1
            if client.multi is not None:
                client.multi_error = True
            self._reply_error(client, exc.message)
            return
        self.execute(client, argv)

    def _internal_error(self, client: Client, spec: CommandSpec, exc: Exception) -> None:
        self.stats.internal_errors += 1
        self.log("warning", f"internal error in '{spec.fullname}': {exc!r}")
        if self.strict:
            raise exc
        self._reply_error(client, "ERR internal error")

    # --- blocking ------------------------------------------------------------------------
    def postpone(self, client: Client, spec: CommandSpec, argv: list[bytes]) -> None:
        """CLIENT PAUSE: park `client` before `argv` runs; `_resume_postponed` runs it from
        the top once the pause is over."""
        client.blocked = Blocked(spec, argv, Block((), 0, b"", postponed=True), client.db)
        self.blocked[client] = None

    def _resume_postponed(self) -> None:
        """The pause is over: the commands it parked run now, oldest first."""
        parked = [c for c in self.blocked if c.blocked is not None and c.blocked.block.postponed]
        for client in parked:
            state = client.blocked
            assert state is not None
            self.unblock(client)
            if client.tracking:
                self._tracked(client, state.argv, None)
            else:
                self._guarded(client, state.argv, None)
            self.woken.append(client)
        if self.keyspace.ready:
            self._serve_ready()

    def _block(self, client: Client, spec: CommandSpec, argv: list[bytes], block: Block) -> None:
        if self.no_blocking:
            self._reply(client, block.on_timeout)  # MULTI/EXEC and scripts never block
            return
        db = client.db
        client.blocked = Blocked(spec, block.retry_argv or argv, block, db)
        self.blocked[client] = None
        for key in block.keys:
            db.blocking.setdefault(key, deque()).append(client)

    def unblock(self, client: Client, reply: bytes | None = None) -> None:
        """Release a parked client, optionally answering it (the shell flushes `woken`)."""
        state = client.blocked
        if state is None:
            return
        client.blocked = None
        self.blocked.pop(client, None)
        db = state.db
        for key in state.block.keys:
            queue = db.blocking.get(key)
            if queue is not None:
                try:
                    queue.remove(client)
                except ValueError:
                    pass
                if not queue:
                    del db.blocking[key]
        if reply is not None:
            self.observer.unblocked(client, state.spec, state.argv, 0)
            self._reply(client, reply)
            self.woken.append(client)

    def _serve_ready(self) -> None:
        """Redis's handleClientsBlockedOnKeys: re-run parked commands on keys that became
        ready, oldest client first, until a key has nothing more to give."""
        keyspace = self.keyspace
        while keyspace.ready:
            ready, keyspace.ready = keyspace.ready, []
            for db, key in ready:
                for client in list(db.blocking.get(key, ())):
                    state = client.blocked
                    if state is None:
                        continue
                    # A key that is gone (or ran dry) serves nobody, but XREADGROUP wants
                    # to report a deleted stream (see blocking.py).
                    if state.block.wake_on_delete or db.lookup(key) is not None:
                        state.woken_by = key
                        self._retry(client, state)

    def _retry(self, client: Client, state: Blocked) -> None:
        if self.propagating:
            dirty, outer = self._begin_unit()
            try:
                self._retry_now(client, state)
            finally:
                self._end_unit(client, state.argv, dirty, outer)
        else:
            self._retry_now(client, state)

    def _retry_now(self, client: Client, state: Blocked) -> None:
        try:
            if self.memory.hooked:
                replies: list[bytes | Block] = []
                self.memory.around(
                    client,
                    state.spec,
                    state.argv,
                    lambda: replies.append(state.spec.handler(client, state.argv)),
                )
                reply = replies[0]
            else:
                reply = state.spec.handler(client, state.argv)
        except CommandError as exc:
            self.unblock(client, resp.error(exc.message))
            return
        if not isinstance(reply, Block):
            self.unblock(client, reply)

    def _deadlines(self) -> list[tuple[int, Client]]:
        out = []
        for client in self.blocked:
            state = client.blocked
            if state is not None and state.block.deadline_ms:
                out.append((state.block.deadline_ms, client))
        return out

    def expire_blocked(self) -> None:
        """Answer every parked client whose deadline has passed, after serving the keys the
        active expiry cycle made ready (an expired stream wakes XREADGROUP)."""
        if self.keyspace.ready:
            self._serve_ready()
        now = self.keyspace.now_ms
        if self.observer.pause_over(now):
            self._resume_postponed()
        for deadline, client in self._deadlines():
            if deadline <= now and client.blocked is not None:
                self.unblock(client, client.blocked.block.on_timeout)

    def next_block_deadline(self) -> int:
        """The earliest deadline among parked clients (unix ms), or 0 when there is none;
        the end of a CLIENT PAUSE counts as one."""
        deadlines = [d for d, _ in self._deadlines()]
        if self.observer.pause_end_ms:
            deadlines.append(self.observer.pause_end_ms)
        return min(deadlines, default=0)

    # --- WATCH ---------------------------------------------------------------------------
    def watch(self, client: Client, key: bytes) -> None:
        db = client.db
        if any(d is db and k == key for d, k, _ in client.watching):
            return
        # A key that is already logically expired when WATCHed does not abort EXEC by
        # expiring later (Redis 7.0's watchedKey.expired).
        when = db.expires.get(key)
        expired = when is not None and when < self.keyspace.now_ms
        client.watching.append((db, key, expired))
        db.watched.setdefault(key, set()).add(client)

    def watched_key_expired(self, client: Client) -> bool:
        """Redis's isWatchedKeyExpired: a WATCHed live key whose TTL has passed since."""
        now = self.keyspace.now_ms
        for db, key, expired in client.watching:
            when = db.expires.get(key)
            if not expired and when is not None and when < now and key in db.data:
                return True
        return False

    def unwatch(self, client: Client) -> None:
        for db, key, _ in client.watching:
            watchers = db.watched.get(key)
            if watchers is not None:
                watchers.discard(client)
                if not watchers:
                    del db.watched[key]
        client.watching = []
        client.watch_dirty = False
