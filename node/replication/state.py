"""A node's replication state: its role, the link to its master, the coordinated FAILOVER,
WAIT, and the dispatcher guards (READONLY, MASTERDOWN, NOREPLICAS). `engine.replication`.

Roles (Redis's server.masterhost): a master streams what it propagates to its replicas
(primary.py); a replica applies its master's stream through a master client (flag M,
replies discarded, guards skipped, expired keys visible to it: only the master's DELs
remove them) and passes the same bytes on to its own replicas.

The link to the master is driven by the shell (node/io/replication.py): whenever
`link_epoch` changes it drops the connection it has and, while `master_host` is set,
connects (`link_connecting`, then `link_up`), feeds what it reads to `link_input`, sends
`link_out`, and reports a lost connection with `link_down`. Everything else -- the
handshake (replica.py), loading the snapshot, applying the stream, ACKs, timeouts,
PSYNC2 id bookkeeping -- happens here, synchronously.

Redis's repl_state words (ROLE, INFO): none, connect (to be connected), connecting (TCP
connect in progress), handshake, sync (receiving the snapshot), connected.
Pure: time is the engine's clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from node.commands._args import int_arg, option, string2ll
from node.commands.registry import Flag
from node.engine.keyspace import Keyspace
from node.engine.session import Client
from node.persistence import rdb
from node.persistence.aof import encode_command
from node.persistence.aofmanager import AOF_OFF
from node.persistence.blobs import FormatError
from node.proto import errors, resp
from node.proto.errors import CommandError
from node.replication.backlog import Backlog
from node.replication.primary import Primary, Replica, State
from node.replication.replica import (
    Continue,
    Failed,
    FullSync,
    MasterLink,
    Payload,
    Phase,
    Stream,
    StreamReader,
)

if TYPE_CHECKING:
    from node.commands.registry import CommandSpec
    from node.engine.engine import Engine

NO_FAILOVER: Final = "no-failover"
WAITING_FOR_SYNC: Final = "waiting-for-sync"
FAILOVER_IN_PROGRESS: Final = "failover-in-progress"
_FOREVER_MS: Final = 1 << 62


@dataclass
class Cached:
    """What a replica remembers of a master it lost (Redis's cached master), to ask for
    a partial resynchronisation: the stream id, how much it applied, the db it was in."""

    replid: str
    offset: int
    db: int


class Replication:
    """Role, master link, failover and WAIT of one node."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.primary = Primary(engine)
        self.master_host: str | None = None
        self.master_port = 0
        self.state = "none"
        self.link: MasterLink | None = None
        self.link_epoch = 0
        self.link_out = bytearray()
        self.link_fd = -1  # the link's socket (the master client's CLIENT LIST fd=)
        self.link_laddr = ""
        self.master: Client | None = None  # the master client, while the stream flows
        self.cached: Cached | None = None
        self.reploff = 0  # applied offset of the master's stream (master client's reploff)
        self.read_reploff = 0  # received offset
        self._reader: StreamReader | None = None
        self._raw = bytearray()  # received stream bytes not applied yet
        self._full_sync: FullSync | None = None  # +FULLRESYNC of the sync in progress
        self.down_since_ms = 0
        self.last_io_ms = 0
        self.failover_state = NO_FAILOVER
        self.failover_end_ms = 0
        self.failover_force = False
        self.failover_target: tuple[str, int] | None = None
        self.waiting: dict[Client, tuple[int, int]] = {}  # WAIT: (offset, numreplicas)
        self.get_ack = False  # send REPLCONF GETACK * before sleeping
        self.guarding = False  # the dispatcher must ask `denied`
        self.feeding = False  # the engine feeds propagated commands to the stream
        self._last_second = 0
        self._ping_countdown = 0
        self._stream_base = 0
        self._failover_psync = False  # this link's PSYNC asks the master to hand over
        self.wake: Callable[[], None] = lambda: None  # the shell: links changed
        # The master client's user: Redis runs it with no user at all (no checks).
        self._superuser = engine.acl.new_user(b"(superuser)")
        for rule in (b"+@all", b"~*", b"&*", b"on", b"nopass"):
            engine.acl.apply(self._superuser, rule)
        self.primary.on_change = self.refresh
        self.primary.on_getack = self._getack
        self.primary.on_ack = self.acks_changed
        engine.persistence.repl_info = self.save_info
        engine.persistence.repl_restore = self.restore
        engine.config.listeners.append(self._config_changed)

    def start(self) -> None:
        """Once the engine is whole: the `replicaof` directive, if any."""
        target = self.engine.config.values["replicaof"]
        if isinstance(target, tuple) and len(target) == 2:
            self.set_master(str(target[0]), int(str(target[1])))
        else:
            self.refresh()

    # --- flags the engine reads ------------------------------------------------------------
    def refresh(self) -> None:
        """Recompute what the engine checks on its hot paths."""
        engine = self.engine
        config = engine.config
        replica = self.master_host is not None
        self.feeding = not replica and self.primary.backlog is not None
        self.guarding = replica or (
            config.int("min-replicas-to-write") > 0 and config.int("min-replicas-max-lag") > 0
        )
        engine.keyspace.replica = replica
        engine.want_propagation("replication", self.feeding)
        self.wake()

    def _config_changed(self, name: str) -> None:
        if name in ("min-replicas-to-write", "min-replicas-max-lag"):
            self.refresh()
        elif name == "repl-backlog-size" and self.primary.backlog is not None:
            self.primary.backlog.resize(self.engine.config.int(name))

    def denied(self, client: Client, spec: CommandSpec) -> str | None:
        """processCommand's replication guards, in its order: NOREPLICAS (a master short
        of good replicas), READONLY (a read-only replica), MASTERDOWN (a replica without
        its master that must not serve stale data). The master client passes."""
        if client is self.master:
            return None
        config = self.engine.config
        if spec.is_write:
            if self.master_host is None:
                if self.primary.good_replicas() < config.int("min-replicas-to-write"):
                    return errors.NOREPLICAS
            elif config.bool("replica-read-only"):
                return errors.READONLY_REPLICA
        if (
            self.master_host is not None
            and self.state != "connected"
            and not config.bool("replica-serve-stale-data")
            and not spec.flags & Flag.STALE
        ):
            return errors.MASTERDOWN
        return None

    # --- role changes ----------------------------------------------------------------------
    def set_master(self, host: str, port: int, *, failover: bool = False) -> None:
        """replicationSetMaster: become (or stay) a replica of host:port. Replicas of ours
        stay attached: they may continue partially once we synced."""
        engine = self.engine
        was_master = self.master_host is None
        if self.master is not None:
            self._lose_master()
        self._unblock_all()
        self.master_host, self.master_port = host, port
        self._cancel_link()
        if was_master:
            # Our own history is the one to continue: PSYNC with our id and offset.
            primary = self.primary
            self.cached = Cached(primary.replid, primary.offset, 0)
            engine.log(
                "notice",
                "Before turning into a replica, using my own master "
                "parameters to synthesize a cached master: I may be able "
                "to synchronize with the new master with just a partial "
                "transfer.",
            )
        self._failover_psync = failover
        self.state = "connect"
        engine.log("notice", f"Connecting to MASTER {host}:{port}")
        self.refresh()

    def unset_master(self) -> None:
        """replicationUnsetMaster (REPLICAOF NO ONE, a FAILOVER target): become a master.
        The history so far stays valid as the second id; our replicas reconnect to learn
        the new one."""
        if self.master_host is None:
            return
        engine = self.engine
        self.master_host = None
        master_up = self.master is not None
        if self.master is not None:
            master = self.master
            self.master = None
            self._forget_master_client(master)
            # Redis frees the master client, which caches it, then discards the cache.
            engine.log("notice", "Connection with master lost.")
            engine.log("notice", "Caching the disconnected master state.")
        if master_up or self.cached is not None:
            engine.log("notice", "Discarding previously cached master state.")
        self.cached = None
        self._cancel_link()
        primary = self.primary
        primary.shift_replid()
        primary.kill_all()
        primary.seldb = -1
        primary.no_replicas_since_ms = engine.now_ms
        self.state = "none"
        self.down_since_ms = 0
        self.refresh()

    def _unblock_all(self) -> None:
        """disconnectAllBlockedClients: clients blocked on a master cannot wait on a
        replica (postponed ones re-run their command later, and are judged then)."""
        engine = self.engine
        for client in list(engine.blocked):
            state = client.blocked
            if state is not None and not state.block.postponed:
                engine.unblock(client, resp.error(errors.UNBLOCKED_ROLE_CHANGE))
                client.close_after_reply = True
        self.waiting.clear()

    # --- the link --------------------------------------------------------------------------
    def _cancel_link(self) -> None:
        """cancelReplicationHandshake: drop the connection in use; the shell reconnects
        when a master is set."""
        self.link = None
        self._reader = None
        self._raw = bytearray()
        self._full_sync = None
        self.link_out = bytearray()
        self.link_fd = -1
        self.link_epoch += 1
        if self.master_host is not None:
            self.state = "connect"
        self.wake()

    def link_connecting(self) -> None:
        self.state = "connecting"
        self.last_io_ms = self.engine.now_ms

    def link_up(self, laddr: str = "", fd: int = -1) -> None:
        """The TCP connection to the master is up: start the handshake (PING)."""
        engine = self.engine
        self.link_laddr, self.link_fd = laddr, fd
        config = engine.config
        auth = None
        password = config.str("masterauth")
        if password:
            auth = (config.str("masteruser"), password)
        if self.cached is not None:
            psync_id, psync_offset = self.cached.replid, self.cached.offset + 1
            engine.log(
                "notice", f"Trying a partial resynchronization (request {psync_id}:{psync_offset})."
            )
        else:
            psync_id, psync_offset = "?", -1
            engine.log("notice", "Partial resynchronization not possible (no cached master)")
        self.link = MasterLink(
            port=config.int("replica-announce-port") or config.int("port"),
            ip=config.str("replica-announce-ip"),
            auth=auth,
            psync_id=psync_id,
            psync_offset=psync_offset,
            failover=self._failover_psync,
        )
        self.state = "handshake"
        self.last_io_ms = engine.now_ms
        engine.log("notice", "MASTER <-> REPLICA sync started")
        self.link_out += self.link.start()

    def link_down(self, reason: str) -> None:
        """The connection to the master failed or closed (the shell closed it)."""
        if reason:
            self.engine.log("warning", reason)
        if self.master is not None:
            self._lose_master()
        else:
            self._cancel_link()

    def link_input(self, data: bytes) -> None:
        """Bytes from the master, whatever the link's phase."""
        link = self.link
        if link is None:
            return
        self.last_io_ms = self.engine.now_ms
        for event in link.receive(data):
            if isinstance(event, Stream):
                self._stream(event.data)
            elif isinstance(event, FullSync):
                self._full_sync = event
                self.state = "sync"
                self.engine.log("notice", f"Full resync from master: {event.replid}:{event.offset}")
                if self.failover_state == FAILOVER_IN_PROGRESS:
                    self._clear_failover()
            elif isinstance(event, Payload):
                if not self._load(event.data):
                    self._cancel_link()
                    return
            elif isinstance(event, Continue):
                self._continue(event.replid)
            elif isinstance(event, Failed):
                if event.refused and self.failover_state == FAILOVER_IN_PROGRESS:
                    self.abort_failover("Failover target rejected psync request")
                    return
                self.link_down(event.reason)
                return
        for notice in link.log:
            self.engine.log("notice", notice)
        link.log.clear()
        self.link_out += link.out
        link.out.clear()
        if link.phase in (Phase.PAYLOAD_HEADER, Phase.PAYLOAD):
            self.state = "sync"

    # --- full and partial resynchronisation --------------------------------------------------
    def _load(self, data: bytes) -> bool:
        """readSyncBulkPayload's end: replace the dataset with the snapshot, start the
        stream at the master's offset. The snapshot is received whole, then loaded aside
        and swapped in: the old dataset is served until then and kept when the snapshot
        cannot be loaded (False) -- repl-diskless-load swapdb's behaviour, whatever the
        setting; `disabled` (load from disk) also keeps the snapshot as the RDB file."""
        engine = self.engine
        sync = self._full_sync
        assert sync is not None
        engine.log("notice", f"MASTER <-> REPLICA sync: receiving {len(data)} bytes from master")
        fresh = Keyspace(len(engine.keyspace.dbs))
        try:
            report = rdb.load_keyspace(
                fresh,
                data,
                rdb.Limits.from_config(engine.config),
                now_ms=engine.now_ms,
                drop_expired=False,
            )
        except FormatError as exc:
            engine.log(
                "warning", f"Failed trying to load the MASTER synchronization DB from socket: {exc}"
            )
            return False
        # replicationAttachToNewMaster: what our own replicas have no longer follows.
        self.cached = None
        primary = self.primary
        primary.kill_all()
        # The AOF starts over from the new dataset (stopAppendOnly, restartAOFAfterSYNC).
        aof = engine.persistence.aof
        aof_on = aof.state != AOF_OFF
        if aof_on:
            aof.stop()
        if engine.config.str("repl-diskless-load") == "disabled":
            # A disk-loading replica keeps the snapshot as its RDB file: a restart loads it,
            # with the master's id and offset, and can continue partially.
            persistence = engine.persistence
            try:
                persistence.storage.write_file(persistence.rdb_path, lambda sink: sink(data))
            except OSError as exc:
                engine.log(
                    "warning",
                    f"Failed trying to rename the temp DB into "
                    f"{persistence.rdb_path} in MASTER <-> REPLICA "
                    f"synchronization: {exc.strerror}",
                )
        engine.log("notice", "MASTER <-> REPLICA sync: Flushing old data")
        for db, loaded in zip(engine.keyspace.dbs, fresh.dbs, strict=True):
            db.flush()
            db.data, db.expires = loaded.data, loaded.expires
        functions = report.contents.functions
        load_libraries = engine.persistence.load_libraries
        if functions and load_libraries is not None:
            load_libraries(functions)
        engine.dirty += 1
        if aof_on:
            try:
                aof.start_at_runtime()
            except CommandError:
                engine.log(
                    "warning", "Failed enabling the AOF after successful master synchronization!"
                )
        stream_db = int(report.contents.aux.get(b"repl-stream-db", b"0") or 0)
        primary.replid = sync.replid
        primary.clear_replid2()
        primary.offset = sync.offset
        primary.backlog = Backlog(engine.config.int("repl-backlog-size"), sync.offset)
        self._start_stream(sync.offset, stream_db)
        engine.log(
            "notice", f"MASTER <-> REPLICA sync: Finished with success ({report.keys_loaded} keys)"
        )
        self.send_ack()  # puts us online on a master that waits for it (EOF payloads)
        return True

    def _continue(self, new_id: str | None) -> None:
        """+CONTINUE: resume the stream where the cached master left it. A new id means
        the master changed history (a promotion): ours continues as the second id, and
        our replicas must reconnect to learn the new one."""
        cached = self.cached
        assert cached is not None
        primary = self.primary
        if self.failover_state == FAILOVER_IN_PROGRESS:
            self._clear_failover()
        if new_id is not None and new_id != cached.replid:
            primary.replid2 = cached.replid
            primary.second_offset = cached.offset + 1
            primary.replid = new_id
            self.engine.log("notice", f"Master replication ID changed to {new_id}")
            primary.kill_all()
        if primary.backlog is None:
            primary.backlog = Backlog(self.engine.config.int("repl-backlog-size"), primary.offset)
        self.cached = None
        self.engine.log("notice", "Successful partial resynchronization with master.")
        self._start_stream(cached.offset, cached.db)

    def _start_stream(self, offset: int, db: int) -> None:
        engine = self.engine
        assert self.master_host is not None
        # Not a connection the listener accepted: not counted, never refused (maxclients).
        master = Client(
            engine,
            engine.next_client_id,
            f"{self.master_host}:{self.master_port}",
            self.link_laddr,
            True,
        )
        engine.next_client_id += 1
        engine.clients[master.id] = master
        master.fd = self.link_fd
        master.flags += "M"
        master.user = self._superuser
        master.authenticated = True
        engine.acl.refresh(master)
        master.db = engine.keyspace.dbs[db if db < len(engine.keyspace.dbs) else 0]
        self.master = master
        self.reploff = self.read_reploff = offset
        self._reader = StreamReader()
        self._raw = bytearray()
        self._stream_base = offset
        self.state = "connected"
        self.down_since_ms = 0
        self.refresh()

    def _stream(self, data: bytes) -> None:
        """Apply stream bytes as the master client, counting whole commands (and whole
        transactions) as applied, and pass what was applied on to our replicas."""
        master = self.master
        reader = self._reader
        if master is None or reader is None:
            return
        engine = self.engine
        keyspace = engine.keyspace
        self.read_reploff += len(data)
        self._raw += data
        applied_from = self.reploff
        base = self._stream_base
        keyspace.serving_master = True
        engine.no_blocking += 1  # the master's commands never park its client
        try:
            for argv, end in reader.feed(data):
                engine.execute_obeyed(master, argv)
                if self.master is not master:
                    return  # the stream changed our role (FAILOVER, REPLICAOF from it)
                if master.multi is None:
                    self.reploff = base + end
        finally:
            keyspace.serving_master = False
            engine.no_blocking -= 1
            master.out.clear()
        if reader.error is not None:
            engine.log("warning", f"Protocol error from master: {reader.error}")
            self._lose_master()
            return
        applied = self.reploff - applied_from
        if applied:
            chunk = bytes(self._raw[:applied])
            del self._raw[:applied]
            self.primary.feed_raw(chunk)

    def _lose_master(self) -> None:
        """The master client goes (link lost, killed, timed out): remember where the
        stream was, for PSYNC (replicationCacheMaster)."""
        master = self.master
        assert master is not None
        self.master = None
        self.cached = Cached(self.primary.replid, self.reploff, master.db.index)
        self._forget_master_client(master)
        self.down_since_ms = self.engine.now_ms
        self.engine.log("notice", "Connection with master lost.")
        self.engine.log("notice", "Caching the disconnected master state.")
        self._cancel_link()
        self.refresh()

    def _forget_master_client(self, master: Client) -> None:
        engine = self.engine
        if master.multi is not None:
            master.multi = None  # a transaction cut by the link is discarded
        if master.id in engine.clients:
            engine.disconnect(master)

    def disconnected(self, client: Client) -> None:
        """Engine.disconnect: a client went away (CLIENT KILL, closed socket)."""
        if client is self.master:
            self._lose_master()
        else:
            self.primary.detach(client)
            self.waiting.pop(client, None)

    # --- ACKs ------------------------------------------------------------------------------
    def send_ack(self) -> None:
        """REPLCONF ACK <applied offset> to the master."""
        if self.master is not None:
            self.link_out += encode_command([b"REPLCONF", b"ACK", b"%d" % self.reploff])
            self.wake()

    def _getack(self) -> None:
        """REPLCONF GETACK from our master: acknowledge now (the GETACK itself is not
        counted yet: it is still being applied)."""
        if self.master_host is not None:
            self.send_ack()

    # --- SYNC / PSYNC, REPLCONF --------------------------------------------------------------
    def sync_command(self, client: Client, argv: list[bytes]) -> bytes:
        """syncCommand: everything for the new replica goes to its `out` (the command
        itself replies nothing)."""
        if client.id in self.primary.replicas:
            return b""
        if len(argv) > 3 and argv[0].lower() == b"psync" and argv[3].lower() == b"failover":
            self.engine.log(
                "warning",
                f"Failover request received for replid {argv[1].decode('utf-8', 'replace')}.",
            )
            if self.master_host is None:
                raise CommandError("ERR PSYNC FAILOVER can't be sent to a master.")
            if argv[1].decode("utf-8", "replace").lower() != self.primary.replid:
                raise CommandError("ERR PSYNC FAILOVER replid must match my replid.")
            self.unset_master()
            self.engine.log("notice", "MASTER MODE enabled (failover request)")
        if self.failover_state != NO_FAILOVER:
            raise CommandError("NOMASTERLINK Can't SYNC while failing over")
        if self.master_host is not None and self.state != "connected":
            raise CommandError("NOMASTERLINK Can't SYNC while not connected with my master")
        self.primary.sync(client, argv)
        self.refresh()
        return b""

    # --- WAIT ------------------------------------------------------------------------------
    def wait_started(self, client: Client, offset: int, numreplicas: int) -> None:
        self.waiting[client] = (offset, numreplicas)
        self.get_ack = True

    def acks_changed(self) -> None:
        """Answer the WAITs now satisfied; refresh the count the others would get on
        timeout (processClientsWaitingReplicas)."""
        if not self.waiting:
            return
        engine = self.engine
        for client, (offset, numreplicas) in list(self.waiting.items()):
            state = client.blocked
            if state is None or state.spec.fullname != "wait":
                del self.waiting[client]
                continue
            acks = self.primary.count_acks(offset)
            reply = resp.integer(acks)
            if acks >= numreplicas:
                del self.waiting[client]
                engine.unblock(client, reply)
            else:
                state.block.on_timeout = reply

    def before_sleep(self) -> None:
        """beforeSleep's replication part: one GETACK for all the WAITs that started."""
        if self.get_ack and not self.engine.observer.paused:  # no writes while paused
            self.get_ack = False
            if self.primary.replicas and self.master_host is None:
                self.primary.feed([(-1, [b"REPLCONF", b"GETACK", b"*"])])

    # --- snapshots' AUX fields ----------------------------------------------------------------
    def restore(self, aux: dict[bytes, bytes]) -> None:
        """loadDataFromDisk: the replication id and offset the start-up RDB was saved with.
        A replica asks its master to continue from there; a master keeps them as its
        second id, so that its replicas may continue."""
        replid = aux.get(b"repl-id", b"").decode("utf-8", "replace")
        offset = string2ll(aux.get(b"repl-offset", b""))
        db = string2ll(aux.get(b"repl-stream-db", b""))
        if len(replid) != 40 or offset is None or db is None:
            return
        primary = self.primary
        if self.master_host is not None:
            primary.replid, primary.offset = replid, offset
            self.cached = Cached(replid, offset, db)
        else:
            primary.replid2, primary.second_offset = replid, offset + 1
            primary.offset += offset
            primary.backlog = Backlog(self.engine.config.int("repl-backlog-size"), primary.offset)
            primary.no_replicas_since_ms = self.engine.now_ms
            self.refresh()

    def save_info(self) -> tuple[int, str, int] | None:
        """rdbPopulateSaveInfo: (stream db, replid, offset) when the node is in a chain."""
        primary = self.primary
        if self.master_host is None:
            if primary.backlog is None:
                return None
            return primary.stream_db(), primary.replid, primary.offset
        if self.master is not None:
            return self.master.db.index, primary.replid, primary.offset
        if self.cached is not None:
            return self.cached.db, primary.replid, primary.offset
        return None

    # --- FAILOVER ----------------------------------------------------------------------------
    def failover_command(self, argv: list[bytes]) -> bytes:
        """FAILOVER [TO host port [FORCE]] [ABORT] [TIMEOUT ms] (7.0's failoverCommand)."""
        engine = self.engine
        if engine.config.bool("cluster-enabled"):
            raise CommandError(
                "ERR FAILOVER not allowed in cluster mode. Use CLUSTER FAILOVER command instead."
            )
        if len(argv) == 2 and option(argv[1]) == b"ABORT":
            if self.failover_state == NO_FAILOVER:
                raise CommandError("ERR No failover in progress.")
            self.abort_failover("Failover manually aborted")
            return resp.OK
        timeout = 0
        force = False
        host: str | None = None
        port = 0
        i = 1
        while i < len(argv):
            word = option(argv[i])
            if word == b"TIMEOUT" and i + 1 < len(argv) and timeout == 0:
                timeout = int_arg(argv[i + 1])
                if timeout <= 0:
                    raise CommandError("ERR FAILOVER timeout must be greater than 0")
                i += 1
            elif word == b"TO" and i + 2 < len(argv) and host is None:
                port = int_arg(argv[i + 2])
                host = argv[i + 1].decode("utf-8", "surrogateescape")
                i += 2
            elif word == b"FORCE" and not force:
                force = True
            else:
                raise CommandError(errors.SYNTAX)
            i += 1
        if self.failover_state != NO_FAILOVER:
            raise CommandError("ERR FAILOVER already in progress.")
        if self.master_host is not None:
            raise CommandError("ERR FAILOVER is not valid when server is a replica.")
        if not self.primary.replicas:
            raise CommandError("ERR FAILOVER requires connected replicas.")
        if force and (not timeout or host is None):
            raise CommandError(
                "ERR FAILOVER with force option requires both a timeout and target HOST and IP."
            )
        if host is not None:
            replica = self._find_replica(host, port)
            if replica is None:
                raise CommandError("ERR FAILOVER target HOST and PORT is not a replica.")
            if replica.state is not State.ONLINE:
                raise CommandError("ERR FAILOVER target replica is not online.")
            self.failover_target = (host, port)
            engine.log("notice", f"FAILOVER requested to {host}:{port}.")
        else:
            engine.log("notice", "FAILOVER requested to any replica.")
        self.failover_end_ms = engine.now_ms + timeout if timeout else 0
        self.failover_force = force
        self.failover_state = WAITING_FOR_SYNC
        engine.observer.pause_clients(_FOREVER_MS, pause_all=False, purpose="failover")
        return resp.OK

    def _find_replica(self, host: str, port: int) -> Replica | None:
        for replica in self.primary.replicas.values():
            if replica.ip.lower() == host.lower() and replica.conf.port == port:
                return replica
        return None

    def abort_failover(self, why: str) -> None:
        if self.failover_state == NO_FAILOVER:
            return
        target = self.failover_target
        where = f"{target[0]}:{target[1]}" if target is not None else "any replica"
        self.engine.log("notice", f"FAILOVER to {where} aborted: {why}")
        if self.failover_state == FAILOVER_IN_PROGRESS:
            self.unset_master()
        self._clear_failover()

    def _clear_failover(self) -> None:
        self.failover_state = NO_FAILOVER
        self.failover_end_ms = 0
        self.failover_force = False
        self.failover_target = None
        self._failover_psync = False
        self.engine.observer.end_pause("failover")

    def _failover_cron(self) -> None:
        """updateFailoverStatus: hand over once a replica has everything (or the timeout
        passed with FORCE)."""
        now = self.engine.now_ms
        if self.failover_state == FAILOVER_IN_PROGRESS:
            if self.failover_end_ms and self.failover_end_ms <= now and self.master is None:
                self.abort_failover("Replica never caught up before timeout")
            return
        if self.failover_state != WAITING_FOR_SYNC:
            return
        target = self.failover_target
        if self.failover_end_ms and self.failover_end_ms <= now:
            if self.failover_force and target is not None:
                self.engine.log(
                    "notice",
                    f"FAILOVER to {target[0]}:{target[1]} time out exceeded, failing over.",
                )
                self._hand_over(target)
            else:
                self.abort_failover("Replica never caught up before timeout")
            return
        offset = self.primary.offset
        for replica in self.primary.replicas.values():
            if target is not None and (replica.ip.lower(), replica.conf.port) != (
                target[0].lower(),
                target[1],
            ):
                continue
            if replica.ack_offset == offset:
                chosen = target or (replica.ip, replica.conf.port)
                self.engine.log(
                    "notice", f"Failover target {chosen[0]}:{chosen[1]} is synced, failing over."
                )
                self._hand_over(chosen)
                return

    def _hand_over(self, target: tuple[str, int]) -> None:
        self.failover_target = target
        self.failover_state = FAILOVER_IN_PROGRESS
        self.set_master(target[0], target[1], failover=True)

    # --- cron ------------------------------------------------------------------------------
    def cron(self) -> None:
        """Called by the shell's cron (hz): the failover check every time, the rest of
        replicationCron once a second."""
        self._failover_cron()
        second = self.engine.now_ms // 1000
        if second == self._last_second:
            return
        self._last_second = second
        engine = self.engine
        now = engine.now_ms
        timeout_ms = engine.config.int("repl-timeout") * 1000
        if self.master_host is not None:
            if self.state in ("connecting", "handshake") and now - self.last_io_ms > timeout_ms:
                engine.log("warning", "Timeout connecting to the MASTER...")
                self._cancel_link()
            elif self.state == "sync" and now - self.last_io_ms > timeout_ms:
                engine.log(
                    "warning",
                    "Timeout receiving bulk data from MASTER... If the "
                    "problem persists try to set the 'repl-timeout' "
                    "parameter in redis.conf to a larger value.",
                )
                self._cancel_link()
            elif self.master is not None and now - self.last_io_ms > timeout_ms:
                engine.log("warning", "MASTER timeout: no data nor PING received...")
                self._lose_master()
            if self.master is not None:
                self.send_ack()
        ping = False
        if self.master_host is None:
            self._ping_countdown -= 1
            if self._ping_countdown <= 0:
                self._ping_countdown = engine.config.int("repl-ping-replica-period")
                # Nor while a cluster manual failover paused writes: the replica waits
                # for the offset the master announced, which a PING would move.
                cluster = engine.cluster
                ping = self.failover_state == NO_FAILOVER and not (
                    cluster is not None and cluster.mf_pause and engine.observer.paused
                )
        self.primary.cron(is_master=self.master_host is None, ping=ping)

    # --- INFO and ROLE -------------------------------------------------------------------------
    def role_word(self) -> str:
        return "master" if self.master_host is None else "slave"

    def info(self) -> list[tuple[str, object]]:
        """INFO replication, Redis 7.0's fields in its order."""
        engine = self.engine
        config = engine.config
        primary = self.primary
        now = engine.now_ms
        lines: list[tuple[str, object]] = []
        if self.master_host is None:
            lines.append(("role", "master"))
        else:
            if self.master is not None:
                reploff, read_reploff = self.reploff, self.read_reploff
            elif self.cached is not None:
                reploff = read_reploff = self.cached.offset
            else:
                reploff = read_reploff = 1
            lines += [
                ("role", "slave"),
                ("master_host", self.master_host),
                ("master_port", self.master_port),
                ("master_link_status", "up" if self.state == "connected" else "down"),
                (
                    "master_last_io_seconds_ago",
                    (now - self.last_io_ms) // 1000 if self.master is not None else -1,
                ),
                ("master_sync_in_progress", int(self.state == "sync")),
                ("slave_read_repl_offset", read_reploff),
                ("slave_repl_offset", reploff),
            ]
            link = self.link
            if self.state == "sync" and link is not None:
                total = link.size
                read = link.read_bytes
                perc = read / total * 100 if total else 0.0
                lines += [
                    ("master_sync_total_bytes", total),
                    ("master_sync_read_bytes", read),
                    ("master_sync_left_bytes", total - read),
                    ("master_sync_perc", f"{perc:.2f}"),
                    ("master_sync_last_io_seconds_ago", (now - self.last_io_ms) // 1000),
                ]
            if self.state != "connected":
                lines.append(
                    (
                        "master_link_down_since_seconds",
                        (now - self.down_since_ms) // 1000 if self.down_since_ms else -1,
                    )
                )
            lines += [
                ("slave_priority", config.int("replica-priority")),
                ("slave_read_only", int(config.bool("replica-read-only"))),
                ("replica_announced", int(config.bool("replica-announced"))),
            ]
        lines.append(("connected_slaves", len(primary.replicas)))
        if config.int("min-replicas-to-write") and config.int("min-replicas-max-lag"):
            lines.append(("min_slaves_good_slaves", primary.good_replicas()))
        for i, replica in enumerate(primary.replicas.values()):
            lines.append(
                (
                    f"slave{i}",
                    f"ip={replica.ip},port={replica.conf.port},"
                    f"state={replica.state.word},"
                    f"offset={replica.ack_offset},"
                    f"lag={primary.lag_s(replica)}",
                )
            )
        backlog = primary.backlog
        lines += [
            ("master_failover_state", self.failover_state),
            ("master_replid", primary.replid),
            ("master_replid2", primary.replid2),
            ("master_repl_offset", primary.offset),
            ("second_repl_offset", primary.second_offset),
            ("repl_backlog_active", int(backlog is not None)),
            ("repl_backlog_size", config.int("repl-backlog-size")),
            (
                "repl_backlog_first_byte_offset",
                backlog.first_byte_offset if backlog is not None else 0,
            ),
            ("repl_backlog_histlen", backlog.histlen if backlog is not None else 0),
        ]
        return lines

    def role(self, client: Client) -> bytes:
        """ROLE's reply."""
        if self.master_host is None:
            online = [r for r in self.primary.replicas.values() if r.state is State.ONLINE]
            items = [
                resp.array_header(3)
                + resp.bulk(r.ip.encode())
                + resp.bulk(b"%d" % r.conf.port)
                + resp.bulk(b"%d" % r.ack_offset)
                for r in online
            ]
            return b"".join(
                (
                    resp.array_header(3),
                    resp.bulk(b"master"),
                    resp.integer(self.primary.offset),
                    resp.array_header(len(items)),
                    *items,
                )
            )
        return b"".join(
            (
                resp.array_header(5),
                resp.bulk(b"slave"),
                resp.bulk(self.master_host.encode()),
                resp.integer(self.master_port),
                resp.bulk(self.state.encode()),
                resp.integer(self.reploff if self.master is not None else -1),
            )
        )
