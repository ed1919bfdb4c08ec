"""The shell's side of replication: the sockets of the link to our master and of the
replicas attached to us, and the forked writer of diskless snapshots. The protocol logic
is all in node/replication (pure); this module moves bytes and reports what happened.

- The master link: one trio task per connection attempt. It connects to
  `Replication.master_host`, feeds everything it reads to `link_input` and sends
  `link_out`; a changed `link_epoch` (REPLICAOF, a timeout, CLIENT KILL TYPE master, a
  failed handshake) cancels it. A failed attempt is retried after a second, a lost link
  at once (as Redis's cron and replicationHandleMasterDisconnection do).
- Attached replicas: PSYNC/SYNC run in the client reactor; the connection then leaves the
  reactor (`adopt`) for a task of its own that reads the replica's REPLCONF ACKs (run
  through the engine), sends `Replica.out` and, for disk-based syncs, the RDB file
  (`os.sendfile`). After each event-loop turn `push` writes what the turn appended,
  without waiting; a writer task only takes over when a socket is full.
- client-output-buffer-limit's replica ("slave") class applies to what a replica has not
  taken yet: its unsent output plus the stream held during its sync.
- Diskless snapshots: a forked child writes `$EOF:<mark>\\r\\n`, the RDB and the mark to
  every target socket itself (poll + non-blocking writes: the sockets' flags are shared
  with the parent), dropping targets that fail or stall for repl-timeout.
"""

from __future__ import annotations

import errno
import os
import select
import socket
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

import trio

from node.config import obuf_limits
from node.engine.clientmem import output_over_limit
from node.io.log import Logger
from node.io.tls import TLSSocket
from node.persistence.storage import Producer
from node.proto.resp import RequestParser
from node.replication.primary import Replica

if TYPE_CHECKING:
    from node.server import Connection, NodeServer

RECV_SIZE: Final = 64 * 1024
_RETRY_S: Final = 1.0


def wall_ms() -> int:
    return int(time.time() * 1000)


class ReplicaConn:
    """The socket of an attached replica."""

    __slots__ = ("parser", "replica", "scope", "sock", "soft_since", "wake", "writing")

    def __init__(self, sock: socket.socket, parser: RequestParser, replica: Replica) -> None:
        self.sock = sock
        self.parser = parser
        self.replica = replica
        self.scope = trio.CancelScope()
        self.wake = trio.Event()
        self.writing = False  # the writer task owns the socket's output (it was full)
        self.soft_since = 0


class ReplicationShell:
    """Master link and replica sockets of one NodeServer."""

    def __init__(self, server: NodeServer) -> None:
        self.server = server
        self.engine = server.engine
        self.repl = server.engine.replication
        self.links: dict[int, ReplicaConn] = {}  # by client id
        self._nursery: trio.Nursery | None = None
        self._kick = trio.Event()
        self._link_scope: trio.CancelScope | None = None
        self._link_sock: socket.socket | None = None  # the connected link's socket
        self._link_epoch = -1
        self.repl.wake = self._wake
        self.repl.primary.sender = SocketSnapshotSender(self.engine.config.int, self._snapshot_fd)

    def _wake(self) -> None:
        self._kick.set()

    # --- lifecycle -----------------------------------------------------------------------
    async def run(self) -> None:
        """The supervisor: keeps one master-link task matching `link_epoch`."""
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            retry_at = 0.0
            while True:
                repl = self.repl
                log = self.server.log
                if isinstance(log, Logger):  # log lines say the role: M master, S replica
                    log.role = "M" if repl.master_host is None else "S"
                if self._link_scope is not None and self._link_epoch != repl.link_epoch:
                    self._link_scope.cancel()
                    self._link_scope = None
                if (
                    self._link_scope is None
                    and repl.master_host is not None
                    and repl.state == "connect"
                ):
                    delay = retry_at - time.monotonic()
                    if delay > 0:
                        with trio.move_on_after(delay):
                            await self._kick.wait()
                        self._kick = trio.Event()
                        continue
                    retry_at = time.monotonic() + _RETRY_S
                    self._link_epoch = repl.link_epoch
                    self._link_scope = trio.CancelScope()
                    nursery.start_soon(
                        self._link,
                        self._link_scope,
                        repl.link_epoch,
                        repl.master_host,
                        repl.master_port,
                    )
                await self._kick.wait()
                self._kick = trio.Event()

    def close_all(self) -> None:
        """The server stops (its tasks are gone): close every replica socket."""
        for link in list(self.links.values()):
            self._drop(link)
            link.sock.close()
        if self._link_scope is not None:
            self._link_scope.cancel()

    # --- the link to our master ------------------------------------------------------------
    async def _link(self, scope: trio.CancelScope, epoch: int, host: str, port: int) -> None:
        repl = self.repl
        engine = self.engine
        sock: socket.socket | None = None
        reason = ""
        with scope:
            try:
                engine.set_time(wall_ms())
                repl.link_connecting()
                sock = await _connect(host, port)
                if engine.config.bool("tls-replication"):
                    sock = await self.server.tls.connect(sock)
                if repl.link_epoch != epoch:
                    return
                engine.set_time(wall_ms())
                local = sock.getsockname()
                self._link_sock = sock
                repl.link_up(f"{local[0]}:{local[1]}", sock.fileno())
                self._send_link(sock)
                while repl.link_epoch == epoch:
                    await trio.lowlevel.wait_readable(sock)
                    try:
                        data = sock.recv(RECV_SIZE)
                    except (BlockingIOError, InterruptedError):
                        continue
                    if not data:
                        reason = "Connection with master lost (closed by the master)."
                        break
                    self.server.observer.net_input += len(data)
                    engine.set_time(wall_ms())
                    repl.link_input(data)
                    self._after_events()
                    if repl.link_epoch == epoch:
                        self._send_link(sock)
            except OSError as exc:
                reason = f"Error condition on socket for SYNC: {exc.strerror or exc}"
            finally:
                if sock is not None:
                    if self._link_sock is sock:
                        self._link_sock = None
                    sock.close()
        if self._link_scope is scope:
            self._link_scope = None
        if repl.link_epoch == epoch:
            engine.set_time(wall_ms())
            repl.link_down(reason)
            self._after_events()
        self._wake()

    def _send_link(self, sock: socket.socket) -> None:
        out = self.repl.link_out
        if not out:
            return
        try:
            sent = sock.send(out)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            return  # the read side sees the error
        del out[:sent]

    def flush_link(self) -> None:
        """Send what the cron or a command queued for our master (ACKs)."""
        if self.repl.link_out and self._link_sock is not None:
            self._send_link(self._link_sock)

    # --- replicas ------------------------------------------------------------------------
    def adopt(self, conn: Connection) -> None:
        """PSYNC/SYNC made this reactor connection a replica: its socket is ours now,
        with whatever the reactor had not sent yet ahead of the replica's output."""
        client = conn.client
        replica = self.repl.primary.replicas.get(client.id)
        if replica is None or client.id in self.links or self._nursery is None:
            return
        self.server.detach(conn)
        head = bytes(conn.pending) + b"".join(client.out)
        client.out.clear()
        if head:
            replica.out[:0] = head
        link = ReplicaConn(conn.sock, conn.parser, replica)
        self.links[client.id] = link
        self._nursery.start_soon(self._serve_replica, link)
        self.repl.primary.start_pending_snapshot()

    async def _serve_replica(self, link: ReplicaConn) -> None:
        try:
            with link.scope:
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(self._replica_reader, link)
                    await self._replica_writer(link)
                    nursery.cancel_scope.cancel()
        finally:
            self._drop(link)
            link.sock.close()  # only now: no task of ours waits on it any more

    async def _replica_reader(self, link: ReplicaConn) -> None:
        engine = self.engine
        client = link.replica.client
        while True:
            await trio.lowlevel.wait_readable(link.sock)
            try:
                data = link.sock.recv(RECV_SIZE)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            if not data:
                link.scope.cancel()
                return
            self.server.observer.net_input += len(data)
            engine.set_time(wall_ms())
            client.last_interaction_ms = engine.now_ms
            for argv in link.parser.feed(data):
                engine.execute(client, argv)
                client.out.clear()  # a replica gets the stream, never replies
            if link.parser.error is not None:
                link.scope.cancel()
                return
            self._after_events()

    async def _replica_writer(self, link: ReplicaConn) -> None:
        replica = link.replica
        primary = self.repl.primary
        while True:
            if replica.out:
                link.writing = True
                try:
                    sent = link.sock.send(replica.out)
                except (BlockingIOError, InterruptedError):
                    sent = 0
                except OSError:
                    return
                del replica.out[:sent]
                self.server.observer.net_output += sent
                if replica.out:
                    await trio.lowlevel.wait_writable(link.sock)
                continue
            if replica.send_file is not None:
                link.writing = True
                if not await self._send_file(link, replica.send_file):
                    return
                self.engine.set_time(wall_ms())
                primary.bulk_sent(replica)
                self._after_events()
                continue
            link.writing = False
            if replica.client.close_after_reply or replica.client.id not in self.links:
                return
            await link.wake.wait()
            link.wake = trio.Event()

    def _snapshot_fd(self, fd: int) -> int:
        """Where a diskless snapshot child writes for the replica on socket `fd`: the
        socket itself, or for a TLS replica a pipe whose bytes a task of ours relays
        through the TLS session (the child cannot speak TLS; Redis relays the same way)."""
        link = next((link for link in self.links.values() if link.sock.fileno() == fd), None)
        if link is None or not isinstance(link.sock, TLSSocket) or self._nursery is None:
            return fd
        read_end, write_end = os.pipe()
        os.set_blocking(read_end, False)
        os.set_blocking(write_end, False)
        self._nursery.start_soon(self._relay, link, read_end, write_end)
        return write_end

    async def _relay(self, link: ReplicaConn, read_end: int, write_end: int) -> None:
        # A task first runs after the fork that follows `_snapshot_fd`: once the parent's
        # write end is closed, the pipe ends when the child does.
        os.close(write_end)
        client_id = link.replica.client.id
        try:
            while client_id in self.links:
                await trio.lowlevel.wait_readable(read_end)
                data = os.read(read_end, RECV_SIZE)
                if not data:
                    return
                # OpenSSL resumes a write it could not finish only with the same bytes.
                while client_id in self.links:
                    try:
                        link.sock.send(data)
                        break
                    except (BlockingIOError, InterruptedError):
                        # Bounded: a dropped replica's socket closes under us.
                        with trio.move_on_after(1):
                            await trio.lowlevel.wait_writable(link.sock)
                self.server.observer.net_output += len(data)
        except OSError as exc:
            self.server.log("warning", f"Write error sending DB to replica: {exc.strerror}")
        finally:
            os.close(read_end)

    async def _send_file(self, link: ReplicaConn, path: str) -> bool:
        """`$<len>\\r\\n` and the file's bytes (sendBulkToSlave)."""
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError as exc:
            self.server.log(
                "warning", f"SYNC failed. Can't open/stat DB after BGSAVE: {exc.strerror}"
            )
            return False
        try:
            size = os.fstat(fd).st_size
            head = b"$%d\r\n" % size
            while head:
                try:
                    head = head[link.sock.send(head) :]
                except (BlockingIOError, InterruptedError):
                    await trio.lowlevel.wait_writable(link.sock)
            offset = 0
            tls = isinstance(link.sock, TLSSocket)
            chunk = b""
            while offset < size:
                try:
                    if not tls:
                        offset += os.sendfile(link.sock.fileno(), fd, offset, size - offset)
                        continue
                    # Through the TLS session; a write that would block is retried with
                    # the same bytes, as OpenSSL requires.
                    chunk = chunk or os.pread(fd, RECV_SIZE, offset)
                    if not chunk:
                        raise OSError(errno.EIO, "the RDB file shrank while being sent")
                    offset += link.sock.send(chunk)
                    chunk = b""
                except (BlockingIOError, InterruptedError):
                    await trio.lowlevel.wait_writable(link.sock)
            self.server.observer.net_output += size
            return True
        except OSError as exc:
            self.server.log("warning", f"Write error sending DB to replica: {exc.strerror}")
            return False
        finally:
            os.close(fd)

    def push(self) -> None:
        """End of an event-loop turn: send what replicas got meanwhile (the writer tasks
        take over sockets that are full), enforce their output limits, and send our own
        ACKs to our master."""
        primary = self.repl.primary
        if primary.output:
            primary.output = False
            limits = obuf_limits(self.engine.config.values["client-output-buffer-limit"])
            limit = limits.get("slave", (0, 0, 0))
            for link in list(self.links.values()):
                replica = link.replica
                if (
                    not link.writing
                    and replica.out
                    and replica.streaming
                    and replica.send_file is None
                ):
                    try:
                        sent = link.sock.send(replica.out)
                    except (BlockingIOError, InterruptedError):
                        sent = 0
                    except OSError:
                        link.wake.set()
                        continue
                    del replica.out[:sent]
                    self.server.observer.net_output += sent
                if replica.out or replica.send_file is not None:
                    link.wake.set()
                if self._over_limit(link, limit):
                    continue
        self.flush_link()
        if self.engine.clients_to_close:
            self.server._close_killed()

    def _over_limit(self, link: ReplicaConn, limit: tuple[int, int, int]) -> bool:
        replica = link.replica
        over, link.soft_since = output_over_limit(
            limit, len(replica.out) + len(replica.held), self.engine.now_ms, link.soft_since
        )
        if over:
            client = replica.client
            self.server.log(
                "warning",
                f"Client id={client.id} addr={client.addr} closed for "
                f"overcoming of output buffer limits.",
            )
            self.repl.primary.kill(replica)
            self._drop(link)
        return over

    def buffers(self, client_id: int) -> tuple[int, int, int, int]:
        """A replica's unparsed input and unsent output (node/engine/clientmem.py's probe):
        its stream not sent yet, and the one held during its sync."""
        link = self.links.get(client_id)
        if link is None:
            return (0, 0, 0, 0)
        query, allocated = link.parser.buffer_sizes()
        replica = link.replica
        pending = len(replica.out) + len(replica.held)
        return query, allocated, pending, pending

    def close_client(self, client_id: int) -> bool:
        """CLIENT KILL (or a failed sync) took a replica away: close its socket."""
        link = self.links.get(client_id)
        if link is None:
            return False
        self._drop(link)
        return True

    def _drop(self, link: ReplicaConn) -> None:
        """Forget a replica link; its task ends (cancelled) and closes the socket."""
        client = link.replica.client
        if self.links.pop(client.id, None) is None:
            return
        link.scope.cancel()
        engine = self.engine
        if client.id in engine.clients:
            engine.disconnect(client)

    def _after_events(self) -> None:
        """After work done outside the reactor's turn: what a client reactor turn does at
        its end (blocked clients answered, killed ones closed, output sent)."""
        server = self.server
        self.engine.before_sleep()
        server._flush_woken()
        self.push()


async def _connect(host: str, port: int) -> socket.socket:
    """A connected non-blocking TCP socket (TCP_NODELAY)."""
    infos = await trio.socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    last: OSError = OSError(errno.EHOSTUNREACH, f"cannot resolve {host}")
    for family, kind, proto, _, addr in infos:
        sock = socket.socket(family, kind, proto)
        sock.setblocking(False)
        try:
            code = sock.connect_ex(addr)
            if code not in (0, errno.EINPROGRESS):
                raise OSError(code, os.strerror(code))
            if code:
                await trio.lowlevel.wait_writable(sock)
                code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if code:
                    raise OSError(code, os.strerror(code))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return sock
        except OSError as exc:
            sock.close()
            last = exc
        except BaseException:
            sock.close()
            raise
    raise last


class SocketSnapshotSender:
    """Diskless snapshots (primary.SnapshotSender): the job a forked child runs."""

    def __init__(
        self, config_int: Callable[[str], int], target_fd: Callable[[int], int] = lambda fd: fd
    ) -> None:
        self.config_int = config_int
        self.target_fd = target_fd  # a replica's socket -> where the child writes for it

    def job(
        self, targets: list[tuple[int, bytes]], mark: bytes, produce: Producer
    ) -> Callable[[], bool]:
        timeout_ms = self.config_int("repl-timeout") * 1000
        targets = [(self.target_fd(fd), preamble) for fd, preamble in targets]

        def run() -> bool:
            writer = _FanOut([fd for fd, _ in targets], timeout_ms)
            for fd, preamble in targets:
                writer.write_one(fd, preamble)
            writer.write(b"$EOF:" + mark + b"\r\n")
            produce(writer.write)
            writer.write(mark)
            return bool(writer.alive)

        return run


class _FanOut:
    """The same bytes to several non-blocking sockets, in a child process."""

    def __init__(self, fds: list[int], timeout_ms: int) -> None:
        self.alive = list(fds)
        self.timeout_ms = timeout_ms

    def write(self, data: bytes) -> None:
        for fd in list(self.alive):
            self.write_one(fd, data)

    def write_one(self, fd: int, data: bytes) -> None:
        if fd not in self.alive:
            return
        view = memoryview(data)
        poller = select.poll()
        poller.register(fd, select.POLLOUT)
        while view:
            try:
                sent = os.write(fd, view)
                view = view[sent:]
                continue
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                self.alive.remove(fd)
                return
            if not poller.poll(self.timeout_ms):
                self.alive.remove(fd)  # stalled for repl-timeout
                return
