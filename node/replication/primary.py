"""The master side of replication: the stream's identity and offsets, the backlog, the
registry of attached replicas and their full and partial resynchronisations, ACKs, lag and
the good-replica count of min-replicas-to-write (Redis's replication.c, master half).

Every node has one `Primary`: a master feeds it the commands it propagates (`feed`), a
replica the bytes it applied from its own master (`feed_raw`), so that sub-replicas get
the stream verbatim and offsets agree along a chain.

How a replica connection is served (the shell owns the socket, see
node/io/replication.py):
- PSYNC/SYNC turn a client into a `Replica`. Whatever must go out to it is appended to
  `Replica.out`, in order (+FULLRESYNC/+CONTINUE, keepalive newlines, the stream); the
  shell sends from there and removes what the socket took. `send_file` asks it to send
  that RDB file as `$<len>\\r\\n<bytes>` once `out` is empty, then call `bulk_sent`.
- While a replica waits for its snapshot, the stream produced since the fork is `held`
  and released when the snapshot is delivered (disk: after the bulk; diskless: at the
  replica's first REPLCONF ACK, so that the EOF mark ends the payload).
- A snapshot is one forked child at a time (Persistence.child). Disk-based syncs share the
  BGSAVE file (replicas that arrive during it copy the held stream of one that waits for
  it); diskless ones fork a writer to every replica waiting when it starts
  (repl-diskless-sync-delay lets more arrive), built by the shell's `SnapshotSender`.
Pure: time is the engine's clock, randomness the engine's rng.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import TYPE_CHECKING, Final, Protocol

from node.commands._args import int_arg, string2ll
from node.persistence.aof import encode_command
from node.persistence.manager import CHILD_RDB
from node.persistence.storage import Producer
from node.proto import errors, resp
from node.proto.errors import CommandError
from node.proto.resp import BULK_HEADERS
from node.replication.backlog import Backlog

if TYPE_CHECKING:
    import random

    from node.engine.engine import Engine
    from node.engine.session import Client

ZERO_ID: Final = "0" * 40
NEWLINE: Final = b"\n"
_MULTIBULK_HEADERS: Final = tuple(b"*%d\r\n" % n for n in range(64))
_SELECTS: Final = tuple(
    b"*2\r\n$6\r\nSELECT\r\n%s%d\r\n" % (BULK_HEADERS[len(b"%d" % i)], i) for i in range(16)
)


def random_id(rng: random.Random) -> str:
    """40 random hex digits (Redis's getRandomHexChars), from the engine's rng."""
    return f"{rng.getrandbits(160):040x}"


def select_command(db: int) -> bytes:
    return _SELECTS[db] if db < len(_SELECTS) else encode_command([b"SELECT", b"%d" % db])


class State(enum.Enum):
    """A replica's place in its synchronisation."""

    WAIT_BGSAVE_START = enum.auto()  # waiting for a snapshot to start
    WAIT_BGSAVE_END = enum.auto()  # the snapshot it will get is being made
    SEND_BULK = enum.auto()  # the disk snapshot is being sent
    ONLINE = enum.auto()

    @property
    def word(self) -> str:
        """INFO's state= word."""
        return _STATE_WORDS[self]


_STATE_WORDS: Final = {
    State.WAIT_BGSAVE_START: "wait_bgsave",
    State.WAIT_BGSAVE_END: "wait_bgsave",
    State.SEND_BULK: "send_bulk",
    State.ONLINE: "online",
}


class Conf:
    """What a connection announced with REPLCONF before it asked to sync."""

    __slots__ = ("capa_eof", "capa_psync2", "ip", "port", "rdb_only")

    def __init__(self) -> None:
        self.port = 0
        self.ip = ""
        self.capa_eof = False
        self.capa_psync2 = False
        self.rdb_only = False


class Replica:
    """An attached replica (Redis's client with CLIENT_SLAVE)."""

    __slots__ = (
        "ack_ms",
        "ack_offset",
        "client",
        "conf",
        "held",
        "initial_offset",
        "out",
        "pre_psync",
        "send_file",
        "start_on_ack",
        "state",
        "streaming",
    )

    def __init__(self, client: Client, conf: Conf, now_ms: int) -> None:
        self.client = client
        self.conf = conf
        self.state = State.WAIT_BGSAVE_START
        self.ack_offset = 0
        self.ack_ms = now_ms
        self.initial_offset = -1
        self.pre_psync = False  # SYNC (no +FULLRESYNC, no ACKs expected)
        self.out = bytearray()  # to send now, in order
        self.held = bytearray()  # stream produced since its snapshot, not sendable yet
        self.streaming = False  # the stream goes straight to `out`
        self.start_on_ack = False  # diskless: stream starts at the first REPLCONF ACK
        self.send_file: str | None = None

    @property
    def ip(self) -> str:
        if self.conf.ip:
            return self.conf.ip
        return self.client.addr.rsplit(":", 1)[0]


class SnapshotSender(Protocol):
    """The shell's part of a diskless sync: a job for a forked child that writes, to each
    target socket (file descriptor), its preamble (bytes still to send it), then
    `$EOF:<mark>\\r\\n`, the RDB `produce` writes, and the mark. True if any got it all."""

    def job(
        self, targets: list[tuple[int, bytes]], mark: bytes, produce: Producer
    ) -> Callable[[], bool]: ...


class Primary:
    """The node's replication stream and the replicas attached to it."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.replid = random_id(engine.rng)
        self.replid2 = ZERO_ID
        self.second_offset = -1
        self.offset = 0  # master_repl_offset
        self.backlog: Backlog | None = None
        self.seldb = -1  # the db the stream last SELECTed (-1: SELECT before the next)
        self.replicas: dict[int, Replica] = {}  # by client id, in attach order
        self.confs: dict[int, Conf] = {}  # REPLCONF state of clients not attached yet
        self.no_replicas_since_ms = engine.now_ms
        self.sender: SnapshotSender | None = None
        self.socket_snapshot = False  # the running child writes to replica sockets
        self.sync_full = self.sync_partial_ok = self.sync_partial_err = 0
        self.output = False  # some replica's `out` grew: the shell should send
        self.on_change: Callable[[], None] = lambda: None  # replicas came or went
        self.on_getack: Callable[[], None] = lambda: None  # REPLCONF GETACK received
        self.on_ack: Callable[[], None] = lambda: None  # a replica acknowledged (WAIT)
        engine.persistence.after_bgsave = self._bgsave_done

    # --- the stream -----------------------------------------------------------------------
    def create_backlog(self) -> None:
        """A backlog from scratch means a new history: new id, no second id."""
        self.replid = random_id(self.engine.rng)
        self.clear_replid2()
        self.backlog = Backlog(self.engine.config.int("repl-backlog-size"), self.offset)

    def clear_replid2(self) -> None:
        self.replid2 = ZERO_ID
        self.second_offset = -1

    def shift_replid(self) -> None:
        """Promotion (shiftReplicationId): the current history continues under a new id;
        the old one stays valid as the second id up to here."""
        self.replid2 = self.replid
        self.second_offset = self.offset + 1
        self.replid = random_id(self.engine.rng)
        self.engine.log(
            "warning",
            f"Setting secondary replication ID to {self.replid2}, "
            f"valid up to offset: {self.second_offset}. New "
            f"replication ID is {self.replid}",
        )

    def feed(self, entries: list[tuple[int, list[bytes]]]) -> None:
        """replicationFeedSlaves: encode propagated commands (SELECT when the db changes;
        db -1 keeps it) and append them to the stream. The hottest path of a master with
        replicas: one join of cached headers and arguments."""
        parts: list[bytes] = []
        seldb = self.seldb
        heads = BULK_HEADERS
        counts = _MULTIBULK_HEADERS
        for db, argv in entries:
            if db >= 0 and db != seldb:
                parts.append(select_command(db))
                seldb = db
            n = len(argv)
            parts.append(counts[n] if n < 64 else b"*%d\r\n" % n)
            for arg in argv:
                k = len(arg)
                parts += (heads[k] if k < 1024 else b"$%d\r\n" % k, arg, b"\r\n")
        self.seldb = seldb
        self.feed_raw(b"".join(parts))

    def feed_raw(self, data: bytes | bytearray) -> None:
        """Append stream bytes: to the backlog, and to every replica that gets the stream
        (held for those still waiting for their snapshot to be delivered)."""
        if self.backlog is None:
            return
        self.backlog.append(data)
        self.offset = self.backlog.offset
        for replica in self.replicas.values():
            if replica.streaming:
                replica.out += data
                self.output = True
            elif replica.state is not State.WAIT_BGSAVE_START:
                replica.held += data

    def send(self, replica: Replica, data: bytes) -> None:
        replica.out += data
        self.output = True

    # --- REPLCONF -------------------------------------------------------------------------
    def replconf(self, client: Client, argv: list[bytes]) -> bytes | None:
        """REPLCONF option value ... as the master sees it: +OK, an error, or None (no
        reply: ACK, GETACK)."""
        if len(argv) % 2 == 0:
            raise CommandError(errors.SYNTAX)
        replica = self.replicas.get(client.id)
        conf = replica.conf if replica is not None else self.confs.setdefault(client.id, Conf())
        for i in range(1, len(argv), 2):
            name, value = argv[i].lower(), argv[i + 1]
            if name == b"listening-port":
                conf.port = int_arg(value)
            elif name == b"ip-address":
                if len(value) >= 256:  # NET_HOST_STR_LEN
                    raise CommandError(
                        f"ERR REPLCONF ip-address provided by replica instance "
                        f"is too long: {len(value)} bytes"
                    )
                conf.ip = value.decode("utf-8", "replace")
            elif name == b"capa":
                word = value.lower()
                if word == b"eof":
                    conf.capa_eof = True
                elif word == b"psync2":
                    conf.capa_psync2 = True
            elif name == b"ack":
                offset = string2ll(value)
                if replica is not None and offset is not None:
                    self.ack(replica, offset)
                return None
            elif name == b"getack":
                self.on_getack()  # a replica acknowledges to its master (state.py)
                return None
            elif name == b"rdb-only":
                flag = int_arg(value)
                if not 0 <= flag <= 1:
                    raise CommandError("ERR value is out of range, value must between 0 and 1")
                conf.rdb_only = bool(flag)
            elif name == b"rdb-filter-only":
                continue  # accepted; slotd always sends the whole dataset
            else:
                text = argv[i].split(b"\0", 1)[0].decode("utf-8", "replace")
                raise CommandError(f"ERR Unrecognized REPLCONF option: {text}")
        return resp.OK

    def ack(self, replica: Replica, offset: int) -> None:
        if offset > replica.ack_offset:
            replica.ack_offset = offset
        replica.ack_ms = self.engine.now_ms
        if replica.start_on_ack and replica.state is State.ONLINE:
            self._start_stream(replica)
        self.on_ack()

    # --- PSYNC / SYNC ---------------------------------------------------------------------
    def sync(self, client: Client, argv: list[bytes]) -> None:
        """syncCommand once the caller checked the node may serve syncs: a partial
        resynchronisation when possible, else a full one (now or when a snapshot can
        start). Everything for the replica goes to its `out`."""
        if client.id in self.replicas:
            return  # already a replica: ignored
        psync = argv[0].lower() == b"psync"
        offset = int_arg(argv[2]) if psync else 0
        conf = self.confs.pop(client.id, None) or Conf()
        replica = Replica(client, conf, self.engine.now_ms)
        if psync:
            if self._try_partial(replica, argv[1].decode("utf-8", "replace"), offset):
                self.sync_partial_ok += 1
                return
            if argv[1] != b"?":
                self.sync_partial_err += 1
        else:
            replica.pre_psync = True
        self.sync_full += 1
        self._attach(replica)
        if len(self.replicas) == 1 and self.backlog is None:
            self.create_backlog()
            self.engine.log(
                "notice",
                f"Replication backlog created, my new replication IDs "
                f"are '{self.replid}' and '{self.replid2}'",
            )
        persistence = self.engine.persistence
        child = persistence.child
        if child is not None and child.kind == CHILD_RDB and not self.socket_snapshot:
            # A disk snapshot is being made: share it if another replica is recording the
            # stream since its fork (copy what it held), else wait for the next one.
            for other in self.replicas.values():
                if (
                    other.state is State.WAIT_BGSAVE_END
                    and other is not replica
                    and (not other.conf.capa_eof or conf.capa_eof)
                    and (not other.conf.capa_psync2 or conf.capa_psync2)
                    and (not other.conf.rdb_only or conf.rdb_only)
                ):
                    replica.held = bytearray(other.held)
                    self._setup_full(replica, other.initial_offset)
                    return
        elif child is None:
            # A diskless sync starts from `start_pending_snapshot` (after the shell took
            # the socket over, and after repl-diskless-sync-delay); a disk one now.
            if not (
                self.engine.config.bool("repl-diskless-sync")
                and conf.capa_eof
                and self.sender is not None
            ):
                self.start_snapshot()

    def _try_partial(self, replica: Replica, replid: str, offset: int) -> bool:
        """masterTryPartialResynchronization: +CONTINUE and the backlog from `offset`."""
        backlog = self.backlog
        if replid != self.replid and not (replid == self.replid2 and offset <= self.second_offset):
            return False
        if backlog is None or not backlog.can_serve(offset):
            return False
        replica.state = State.ONLINE
        replica.streaming = True
        self._attach(replica)
        line = (
            b"+CONTINUE %s\r\n" % self.replid.encode()
            if replica.conf.capa_psync2
            else b"+CONTINUE\r\n"
        )
        self.send(replica, line + backlog.read_from(offset))
        self.engine.log(
            "notice",
            f"Partial resynchronization request from "
            f"{self.name(replica)} accepted. Sending "
            f"{self.offset + 1 - offset} bytes of backlog starting "
            f"from offset {offset}.",
        )
        return True

    def _attach(self, replica: Replica) -> None:
        client = replica.client
        if "S" not in client.flags:
            client.flags += "S"
        self.replicas[client.id] = replica
        self.on_change()

    def _setup_full(self, replica: Replica, offset: int) -> None:
        """replicationSetupSlaveForFullResync: the snapshot it gets is being made now."""
        replica.initial_offset = offset
        replica.state = State.WAIT_BGSAVE_END
        self.seldb = -1  # the stream after a snapshot starts with a SELECT
        if not replica.pre_psync:
            self.send(replica, b"+FULLRESYNC %s %d\r\n" % (self.replid.encode(), offset))

    def name(self, replica: Replica) -> str:
        return f"{replica.ip}:{replica.conf.port}"

    # --- snapshots ------------------------------------------------------------------------
    def stream_db(self) -> int:
        return 0 if self.seldb == -1 else self.seldb

    def start_snapshot(self) -> bool:
        """startBgsaveForReplication for the replicas waiting for one: diskless when
        configured and every one of them understands EOF payloads."""
        waiting = [r for r in self.replicas.values() if r.state is State.WAIT_BGSAVE_START]
        if not waiting:
            return False
        engine = self.engine
        persistence = engine.persistence
        socket = (
            engine.config.bool("repl-diskless-sync")
            and self.sender is not None
            and all(r.conf.capa_eof for r in waiting)
        )
        engine.log(
            "notice",
            f"Starting BGSAVE for SYNC with target: {'replicas sockets' if socket else 'disk'}",
        )
        if socket:
            assert self.sender is not None
            offset = self.offset
            targets = []
            for replica in waiting:
                self._setup_full(replica, offset)
                targets.append((replica.client.fd, bytes(replica.out)))
                replica.out.clear()
            mark = random_id(engine.rng).encode()
            job = self.sender.job(targets, mark, persistence.producer())
            started = persistence.fork_child(job, CHILD_RDB, self._socket_done, "") is not None
            self.socket_snapshot = started
        else:
            started = persistence.bgsave()
            if started:
                for replica in waiting:
                    self._setup_full(replica, self.offset)
        if not started:
            engine.log("warning", "BGSAVE for replication failed")
            for replica in waiting:
                self.send(replica, b"-ERR BGSAVE failed, replication can't continue\r\n")
                replica.client.close_after_reply = True
                self.detach(replica.client)
        return started

    def _snapshot_waiters(self, ok: bool) -> list[Replica]:
        """The replicas that waited for the snapshot that just ended, disk or diskless
        (updateSlavesWaitingBgsave); none when it failed, as they are dropped then."""
        waiting = [r for r in self.replicas.values() if r.state is State.WAIT_BGSAVE_END]
        if ok:
            return waiting
        for replica in waiting:
            self.engine.log("warning", "SYNC failed. BGSAVE child returned an error")
            self.kill(replica)
        return []

    def _bgsave_done(self, ok: bool) -> None:
        """A disk snapshot ended: send it to the replicas that waited for it."""
        for replica in self._snapshot_waiters(ok):
            replica.state = State.SEND_BULK
            replica.send_file = self.engine.persistence.rdb_path
            self.output = True

    def _socket_done(self, ok: bool) -> None:
        """A diskless snapshot ended: its replicas are online, and get the stream from
        their first ACK."""
        self.socket_snapshot = False
        for replica in self._snapshot_waiters(ok):
            self.engine.log(
                "notice",
                f"Streamed RDB transfer with replica "
                f"{self.name(replica)} succeeded (socket). Waiting for "
                f"REPLCONF ACK from slave to enable streaming",
            )
            self._put_online(replica)
            replica.start_on_ack = True

    def bulk_sent(self, replica: Replica) -> None:
        """The shell delivered the disk snapshot: online, and the held stream follows."""
        replica.send_file = None
        self._put_online(replica)
        self._start_stream(replica)

    def _put_online(self, replica: Replica) -> None:
        replica.state = State.ONLINE
        replica.ack_ms = self.engine.now_ms  # no false timeout
        self.engine.log("notice", f"Synchronization with replica {self.name(replica)} succeeded")

    def _start_stream(self, replica: Replica) -> None:
        replica.start_on_ack = False
        if replica.conf.rdb_only:
            replica.client.close_after_reply = True
            self.kill(replica)
            return
        replica.streaming = True
        if replica.held:
            replica.out += replica.held
            replica.held = bytearray()
        self.output = True

    # --- replicas leaving -----------------------------------------------------------------
    def kill(self, replica: Replica) -> None:
        """Drop a replica: the engine forgets the client, the shell closes it."""
        engine = self.engine
        client = replica.client
        self.detach(client)
        if client.id in engine.clients:
            engine.disconnect(client)
            engine.clients_to_close.append(client)

    def detach(self, client: Client) -> None:
        """The client is no replica any more (it disconnected, or its sync failed)."""
        self.confs.pop(client.id, None)
        if self.replicas.pop(client.id, None) is None:
            return
        client.flags = client.flags.replace("S", "")
        if not self.replicas:
            self.no_replicas_since_ms = self.engine.now_ms
        self.on_change()

    def kill_all(self) -> None:
        """disconnectSlaves: they reconnect and learn what changed (a new id, a new
        master) with PSYNC."""
        for replica in list(self.replicas.values()):
            self.kill(replica)

    # --- acknowledgements, lag, good replicas ----------------------------------------------
    def count_acks(self, offset: int) -> int:
        """replicationCountAcksByOffset: online replicas that acknowledged `offset`."""
        return sum(
            1 for r in self.replicas.values() if r.state is State.ONLINE and r.ack_offset >= offset
        )

    def good_replicas(self) -> int:
        """Online replicas whose last ACK is at most min-replicas-max-lag seconds old."""
        now_s = self.engine.now_ms // 1000
        max_lag = self.engine.config.int("min-replicas-max-lag")
        return sum(
            1
            for r in self.replicas.values()
            if r.state is State.ONLINE and now_s - r.ack_ms // 1000 <= max_lag
        )

    def lag_s(self, replica: Replica) -> int:
        return self.engine.now_ms // 1000 - replica.ack_ms // 1000

    # --- cron (1 Hz) ----------------------------------------------------------------------
    def cron(self, *, is_master: bool, ping: bool) -> None:
        """replicationCron's master half: PING into the stream every
        repl-ping-replica-period (`ping`: the caller counts the period), keepalive
        newlines to replicas still waiting for a disk snapshot, drop replicas silent for
        repl-timeout, free an unused backlog after repl-backlog-ttl, start a snapshot for
        the replicas waiting for one."""
        engine = self.engine
        config = engine.config
        now = engine.now_ms
        if ping and is_master and self.replicas:
            self.feed([(-1, [b"PING"])])
        for replica in list(self.replicas.values()):
            if replica.state is State.WAIT_BGSAVE_START or (
                replica.state is State.WAIT_BGSAVE_END and not self.socket_snapshot
            ):
                self.send(replica, NEWLINE)
        timeout_ms = config.int("repl-timeout") * 1000
        for replica in list(self.replicas.values()):
            if (
                replica.state is State.ONLINE
                and not replica.pre_psync
                and now - replica.ack_ms > timeout_ms
            ):
                engine.log(
                    "warning",
                    f"Disconnecting timedout replica (streaming sync): {self.name(replica)}",
                )
                self.kill(replica)
        ttl = config.int("repl-backlog-ttl")
        if (
            is_master
            and not self.replicas
            and ttl
            and self.backlog is not None
            and now - self.no_replicas_since_ms > ttl * 1000
        ):
            self.replid = random_id(engine.rng)
            self.clear_replid2()
            self.backlog = None
            engine.log(
                "notice",
                f"Replication backlog freed after {ttl} seconds without connected replicas.",
            )
            self.on_change()
        self.start_pending_snapshot()

    def start_pending_snapshot(self) -> None:
        """shouldStartChildReplication: no child runs and replicas wait (diskless: the
        oldest waited repl-diskless-sync-delay, or enough of them came)."""
        if self.engine.persistence.child is not None:
            return
        waiting = [r for r in self.replicas.values() if r.state is State.WAIT_BGSAVE_START]
        if not waiting:
            return
        config = self.engine.config
        now = self.engine.now_ms
        idle_s = max((now - r.client.last_interaction_ms) // 1000 for r in waiting)
        most = config.int("repl-diskless-sync-max-replicas")
        if (
            not config.bool("repl-diskless-sync")
            or (most and len(waiting) >= most)
            or idle_s >= config.int("repl-diskless-sync-delay")
        ):
            self.start_snapshot()
