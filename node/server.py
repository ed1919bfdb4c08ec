"""The trio shell of a node: listeners, the client reactor, cron. The only place (besides
`node/io`) that touches sockets and clocks.

Design (DESIGN.md section 3): one reactor task owns a private `select.epoll` holding every
client socket. It sleeps in `trio.lowlevel.wait_readable(epoll_fd)`, then serves a turn of
every ready socket in Redis's order (`_serve_turn`): recv and parse each, run all their
complete commands in one `Engine.execute_turn`, write the turn's AOF, then send each
client all its replies with one `send`. A reply that does not fit the socket buffer is kept and the socket switched to
EPOLLOUT; until it drains, that client's input is not read (backpressure, like a blocking
write). Cron (active expiry, idle timeouts) is a separate trio task at `hz`. Where epoll
does not exist, each connection gets its own trio task instead (`_serve_with_tasks`).
Sockets accepted on `tls-port` are wrapped at accept (node/io/tls.py) into sockets whose
recv/send speak TLS with the same non-blocking contract, so the same code serves them.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import os
import select
import socket
import sys
import time
from collections.abc import Callable
from typing import Final

import trio

from node.config import ConfigApplyError, ConfigValue, obuf_limits
from node.engine.clientmem import output_over_limit
from node.engine.engine import Engine
from node.engine.session import Client
from node.io import procinfo
from node.io.bus import BusShell, bus_port
from node.io.replication import ReplicationShell
from node.io.tls import LISTEN_FAILED, TLSManager
from node.proto import errors, resp
from node.proto.resp import RequestParser

RECV_SIZE: Final = 64 * 1024
# Lazy freeing and leftover evictions per event-loop turn (node/engine/memory.py `drain`):
# about a millisecond of work, so no client waits longer for a big free.
_FREE_BUDGET: Final = 1000
_FREE_STEPS_PER_CRON: Final = 20  # without the reactor: the cron's share
_EMPTY_BYTEARRAY: Final = sys.getsizeof(bytearray())
_EPOLLIN: Final = getattr(select, "EPOLLIN", 1)
_EPOLLOUT: Final = getattr(select, "EPOLLOUT", 4)
_EPOLLERR_HUP: Final = getattr(select, "EPOLLERR", 8) | getattr(select, "EPOLLHUP", 16)
_MAX_CLIENTS_REPLY: Final = resp.error(errors.MAX_CLIENTS)
_DENIED_REPLY: Final = resp.error(errors.DENIED_PROTECTED)


def wall_ms() -> int:
    return int(time.time() * 1000)


def _monotonic_ms() -> int:
    return time.monotonic_ns() // 1_000_000


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return host in ("", "localhost")


class Connection:
    """A client socket plus its parser, engine client and unsent output."""

    __slots__ = ("client", "fd", "parser", "pending", "plain", "sock", "soft_limit_since")

    def __init__(self, sock: socket.socket, client: Client, parser: RequestParser) -> None:
        self.sock = sock
        self.fd = sock.fileno()
        # A plain socket is read and written with os.read/os.write on its fd: the same
        # syscalls as recv/send without flags, ~400 instructions cheaper per call than the
        # socket methods' argument parsing. TLS sockets (wrapped, node/io/tls.py) are not.
        self.plain = sock.__class__ is socket.socket
        self.client = client
        self.parser = parser
        self.pending = bytearray()  # output the socket did not take yet
        self.soft_limit_since = 0  # when pending first stayed above the soft limit (unix ms)


class NodeServer:
    """Serves one Engine over TCP."""

    def __init__(
        self,
        engine: Engine,
        log: Callable[[str, str], None],
        *,
        use_epoll: bool = hasattr(select, "epoll"),
    ) -> None:
        self.engine = engine
        self.log = log
        self.use_epoll = use_epoll
        self.listeners: list[socket.socket] = []
        self.conns: dict[int, Connection] = {}
        self.conn_by_client: dict[int, Connection] = {}
        self._epoll: select.epoll | None = None
        self._stop = trio.Event()
        # Observation: the engine's clocks and sleep come from here; traffic is counted
        # here (INFO stats); the connections' buffers are told to the engine when it asks
        # (CLIENT LIST, INFO, maxmemory-clients: node/engine/clientmem.py).
        self.observer = engine.observer
        engine.clock_ns = time.perf_counter_ns
        engine.sleep = time.sleep
        engine.memory.clients.probe = self._client_buffers
        # Scripts: the busy-script clock, and serving others while one runs too long.
        engine.monotonic_ms = _monotonic_ms
        engine.serve_while_busy = self._serve_while_busy
        # The master link and the sockets of attached replicas (node/io/replication.py).
        self.replication = ReplicationShell(self)
        # Cluster mode: the bus's listener and links (node/io/bus.py).
        self.bus = BusShell(self, engine.cluster) if engine.cluster is not None else None
        # TLS (node/io/tls.py): the contexts, and the listeners whose clients speak it.
        self.tls = TLSManager(engine.config, log, self._move_tls_port)
        engine.config.appliers.append(self.tls.apply)
        engine.config.appliers.append(self._apply_listeners)  # CONFIG SET port / bind
        engine.config.listeners.append(self._config_changed)
        self._tls_fds: set[int] = set()
        # The commands of the turn being run, client by client (see `_serve_while_busy`).
        self._turn: list[tuple[Client, list[list[bytes]]]] = []
        self._listening: dict[int, socket.socket] = {}  # the running reactor's listeners
        self._nursery: trio.Nursery | None = None  # the fallback's, for new listeners

    # --- lifecycle -----------------------------------------------------------------------
    def bind(self) -> None:
        """Open the listening sockets: `port` and `tls-port` (0: none) on every `bind`
        address; TLS is configured first when it is used."""
        config = self.engine.config
        port = config.int("port")
        if port:
            self.listeners += self._listen(port)
        self.tls.start()
        tls_port = config.int("tls-port")
        if tls_port:
            self._add_tls_listeners(self._listen(tls_port))
        if config.str("unixsocket"):
            self.listeners.append(self._listen_unix(config.str("unixsocket")))
        if not self.listeners:
            raise OSError("Configured to not listen anywhere, exiting.")
        if self.bus is not None:
            self.bus.listeners = self._listen(bus_port(self.bus.cluster))

    def _listen(self, port: int) -> list[socket.socket]:
        """Listening sockets on `port` (Redis's `bind`; a leading '-' marks an optional
        addr); none stay open when one fails."""
        config = self.engine.config
        backlog = config.int("tcp-backlog")
        addrs = config.values["bind"] or ("*",)
        assert isinstance(addrs, tuple)
        opened: list[socket.socket] = []
        for raw in addrs:
            raw = str(raw)
            optional = raw.startswith("-")
            host = str(raw).lstrip("-")
            host = {"*": "0.0.0.0", "::*": "::"}.get(host, host)
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if family == socket.AF_INET6:
                    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                sock.bind((host, port))
                sock.listen(backlog)
            except OSError as exc:
                sock.close()
                if optional and exc.errno in (
                    errno.EADDRNOTAVAIL,
                    errno.EAFNOSUPPORT,
                    errno.EPROTONOSUPPORT,
                ):
                    continue
                for other in opened:
                    other.close()
                raise OSError(
                    exc.errno,
                    f"Could not create server TCP listening socket {host}:{port}: {exc.strerror}",
                ) from exc
            sock.setblocking(False)
            opened.append(sock)
        return opened

    def _listen_unix(self, path: str) -> socket.socket:
        """The `unixsocket` listener: a stale socket file is replaced, `unixsocketperm`
        (octal digits) applied."""
        config = self.engine.config
        with contextlib.suppress(OSError):
            os.unlink(path)  # Redis does not care whether this fails either
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(path)
            perm = config.int("unixsocketperm")
            if perm:
                os.chmod(path, int(str(perm), 8))
            sock.listen(config.int("tcp-backlog"))
        except (OSError, ValueError) as exc:
            sock.close()
            raise OSError(f"Failed opening Unix socket: {exc}") from exc
        sock.setblocking(False)
        self.log("notice", "The server is now ready to accept connections at " + path)
        return sock

    def _add_tls_listeners(self, socks: list[socket.socket]) -> None:
        self._add_listeners(socks, tls=True)

    def _add_listeners(self, socks: list[socket.socket], *, tls: bool = False) -> None:
        """Serve new listening sockets (on the running reactor or the fallback's tasks)."""
        for sock in socks:
            self.listeners.append(sock)
            if tls:
                self._tls_fds.add(sock.fileno())
            if self._epoll is not None:
                self._listening[sock.fileno()] = sock
                self._epoll.register(sock.fileno(), _EPOLLIN)
            elif self._nursery is not None:
                self._nursery.start_soon(self._accept_with_tasks, sock, self._nursery)

    def _move_tls_port(self, port: int) -> None:
        self._move_port(port, tls=True)

    def _move_port(self, port: int, *, tls: bool) -> None:
        """CONFIG SET port / tls-port: listen on the new port before closing the old
        listeners, as Redis's changeListenPort; 0 only closes them. Raises OSError."""
        old = [
            s
            for s in self.listeners
            if s.family != socket.AF_UNIX and (s.fileno() in self._tls_fds) == tls
        ]
        if port and old and all(s.getsockname()[1] == port for s in old):
            return  # already there (a failed CONFIG SET putting the old port back)
        new = self._listen(port) if port else []
        self._close_listeners(old)
        self._add_listeners(new, tls=tls)

    def _rebind(self) -> None:
        """CONFIG SET bind (changeBindAddr): the TCP and TLS listeners closed, then opened
        on the new addresses. Raises OSError (then none is open: CONFIG SET restores the
        old value and this runs again)."""
        self._close_listeners([s for s in self.listeners if s.family != socket.AF_UNIX])
        config = self.engine.config
        port, tls_port = config.int("port"), config.int("tls-port")
        plain = self._listen(port) if port else []
        try:
            secure = self._listen(tls_port) if tls_port else []
        except OSError:
            for sock in plain:
                sock.close()
            raise
        self._add_listeners(plain)
        self._add_listeners(secure, tls=True)

    def _apply_listeners(self, changed: dict[str, ConfigValue]) -> None:
        """The CONFIG SET applier of `bind` and `port` (their old values in `changed`);
        ConfigApplyError with Redis's message when the sockets cannot be opened."""
        values = self.engine.config.values
        if "bind" in changed and changed["bind"] != values["bind"]:
            try:
                self._rebind()  # the port too
            except OSError as exc:
                self.log(
                    "warning", f"Failed to bind, trying to restore old listening sockets: {exc}"
                )
                raise ConfigApplyError("bind", "Failed to bind to specified addresses.") from None
        elif "port" in changed and changed["port"] != values["port"]:
            try:
                self._move_port(self.engine.config.int("port"), tls=False)
            except OSError as exc:
                self.log("warning", str(exc))
                raise ConfigApplyError("port", LISTEN_FAILED) from None

    def _config_changed(self, name: str) -> None:
        """proto-max-bulk-len bounds the next bulk of every connection, as Redis checks it."""
        if name == "proto-max-bulk-len":
            limit = self.engine.config.int(name)
            for conn in self.conns.values():
                conn.parser.max_bulk_len = limit

    def _close_listeners(self, socks: list[socket.socket]) -> None:
        for sock in socks:
            fd = sock.fileno()
            self._tls_fds.discard(fd)
            self.listeners.remove(sock)
            if self._listening.pop(fd, None) is not None and self._epoll is not None:
                self._epoll.unregister(fd)
            if self._nursery is not None:
                trio.lowlevel.notify_closing(sock)
            sock.close()

    def request_stop(self) -> None:
        self._stop.set()

    def after_fork_in_child(self) -> None:
        """In a forked persistence child: let go of the listening sockets, so that a
        restarted server can bind while an orphaned child still writes."""
        for sock in self.listeners:
            sock.close()
        if self.bus is not None:
            for sock in self.bus.listeners:
                sock.close()

    async def serve(
        self,
        *,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Run until `request_stop()` or a SHUTDOWN command; the listeners must be bound."""
        self.engine.set_time(wall_ms())
        self.engine.process_info.update(
            procinfo.static_info(
                self.engine.config.source_file, "epoll" if self.use_epoll else "trio"
            )
        )
        self.engine.memory.start(procinfo.rss_bytes())
        self._measure_process()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._cron)
            nursery.start_soon(self.replication.run)
            if self.bus is not None:
                nursery.start_soon(self.bus.run)
            if self.use_epoll:
                nursery.start_soon(self._reactor)
            else:
                self._nursery = nursery
                for sock in self.listeners:
                    nursery.start_soon(self._accept_with_tasks, sock, nursery)
            task_status.started()
            await self._stop.wait()
            nursery.cancel_scope.cancel()
        self.close_all()

    def close_all(self) -> None:
        self.replication.close_all()
        path = self.engine.config.str("unixsocket")
        if path and any(s.family == socket.AF_UNIX for s in self.listeners):
            self.log("notice", "Removing the unix socket file.")
            with contextlib.suppress(OSError):
                os.unlink(path)
        if self.bus is not None:
            self.bus.close_all()
        for conn in list(self.conns.values()):
            self._close(conn)
        for sock in self.listeners:
            sock.close()
        self.listeners = []
        if self._epoll is not None:
            self._epoll.close()
            self._epoll = None

    # --- cron ----------------------------------------------------------------------------
    async def _cron(self) -> None:
        engine = self.engine
        while True:
            hz = engine.effective_hz()  # configured 1..500, more with many clients
            await trio.sleep(1 / hz)
            engine.set_time(wall_ms())
            self._measure_process()
            observer = self.observer
            observer.sample_metrics(engine.now_ms)
            engine.memory.clients.cron()  # buffer peaks, maxmemory-clients
            if engine.clients_to_close:
                self._close_killed()
            # DEBUG SET-ACTIVE-EXPIRE 0 and CLIENT PAUSE stop the active expiry cycle.
            if observer.active_expire and not observer.paused:
                started = time.perf_counter_ns()
                # active-expire-effort 1..10 samples 20 keys per database and round, plus
                # a quarter of that per step above 1 (Redis's keys_per_loop).
                effort = engine.config.int("active-expire-effort")
                engine.keyspace.active_expire_cycle(keys_per_db=20 + 5 * (effort - 1))
                elapsed = time.perf_counter_ns() - started
                observer.expire_cycle_us += elapsed // 1000
                observer.add_latency_sample("expire-cycle", elapsed // 1_000_000)
            self._persist()  # the DELs of expired keys
            engine.persistence.cron()
            if not self.use_epoll:  # the reactor does this between its turns
                for _ in range(_FREE_STEPS_PER_CRON):
                    if not engine.memory.drain(_FREE_BUDGET):
                        break
                    await trio.lowlevel.checkpoint()
            engine.expire_blocked()
            engine.replication.cron()
            engine.shutdown.cron()  # a SHUTDOWN waiting for lagging replicas
            if engine.cluster is not None:
                engine.cluster.cron()  # also closes idle MIGRATE links
                if self.bus is not None:
                    self.bus.cron()
            elif engine.migrate_connector is not None:
                engine.migrate_connector.close_idle(engine.now_ms)
            engine.before_sleep()
            self._flush_woken()
            self.replication.push()
            for client in engine.idle_clients():
                conn = self.conn_by_client.get(client.id)
                if conn is not None and client.blocked is None:
                    self._close(conn)
            self._check_shutdown()

    def _flush_woken(self) -> None:
        """Send what the engine produced for clients other than the one it was serving
        (released blocked clients), and run the commands they had queued meanwhile."""
        engine = self.engine
        while engine.woken:
            woken, engine.woken = engine.woken, []
            for client in woken:
                conn = self.conn_by_client.get(client.id)
                if conn is None:
                    continue
                if client.backlog and client.blocked is None:
                    commands, client.backlog = client.backlog, []
                    engine.execute_turn([(client, commands)])
                    if engine.clients_to_close:
                        self._close_killed()
                    if self.conns.get(conn.fd) is not conn:
                        continue
                    self._after_commands(conn)
                if client.out or client.close_after_reply:
                    self._persist()  # what woke it (and what it ran) goes first
                    if self.conns.get(conn.fd) is conn:
                        self._flush(conn)

    def _check_shutdown(self) -> None:
        if self.engine.shutdown_requested is not None:
            self._stop.set()

    # --- accepting -----------------------------------------------------------------------
    def _accept_one(self, listener: socket.socket) -> Connection | None:
        """Accept a pending connection (None when there is none); refuse it with Redis's
        error when over maxclients or in protected mode."""
        try:
            sock, peer = listener.accept()
        except (BlockingIOError, InterruptedError):
            return None
        except OSError as exc:
            self.log("warning", f"Accepting client connection: {exc}")
            return None
        sock.setblocking(False)
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            _keepalive(sock, self.engine.config.int("tcp-keepalive"))
        if self._tls_fds and listener.fileno() in self._tls_fds:
            try:
                sock = self.tls.wrap(sock)
            except OSError as exc:
                self.log("warning", f"Error accepting a client connection: {exc}")
                sock.close()
                return None
        engine = self.engine
        engine.set_time(wall_ms())
        if sock.family == socket.AF_UNIX:  # Redis names both ends by the socket's path
            addr = laddr = _fmt_addr(engine.config.str("unixsocket"), 0)
            local_client = True
        else:
            host, port = peer[0], peer[1]
            local = sock.getsockname()
            addr, laddr = _fmt_addr(host, port), _fmt_addr(local[0], local[1])
            local_client = is_loopback(host)
        if engine.protected_mode_denies(local_client):
            self._refuse(sock, _DENIED_REPLY)
            return None
        client = engine.connect(addr, laddr, local_client)
        if client is None:
            self._refuse(sock, _MAX_CLIENTS_REPLY)
            return None
        if sock.family == socket.AF_UNIX:
            client.flags += "U"
        parser = RequestParser(engine.config.int("proto-max-bulk-len"))
        parser.auth_required = not engine.acl.authenticated(client)
        conn = Connection(sock, client, parser)
        client.fd = conn.fd
        self.conns[conn.fd] = conn
        self.conn_by_client[client.id] = conn
        return conn

    @staticmethod
    def _refuse(sock: socket.socket, reply: bytes) -> None:
        try:
            sock.send(reply)
        except OSError:
            pass
        sock.close()

    # --- the reactor ---------------------------------------------------------------------
    async def _reactor(self) -> None:
        ep = self._epoll = select.epoll()
        self._listening = {s.fileno(): s for s in self.listeners}
        for fd in self._listening:
            ep.register(fd, _EPOLLIN)
        engine = self.engine
        memory = engine.memory
        wait_readable = trio.lowlevel.wait_readable
        epfd = ep.fileno()
        yielded_ms = 0
        while True:
            # Poll first and park in trio only when nothing is ready: under load the next
            # sockets are usually ready by the time a batch is served, and a poll costs
            # far less than a trip through trio's run loop (~1 µs vs ~13 µs here).
            events = ep.poll(0)
            if not events:
                if memory.lazyfree or memory.evictor.running:
                    # Idle with memory to give back: a bounded step, then a look at the
                    # sockets again (and a trip through trio for the other tasks).
                    engine.set_time(wall_ms())
                    memory.drain(_FREE_BUDGET)
                    self._flush_woken()
                    await trio.lowlevel.checkpoint()
                    continue
                deadline = engine.next_block_deadline() if engine.blocked else 0
                if deadline:
                    # Wake for the nearest blocked client's timeout, as Redis's beforeSleep does.
                    with trio.move_on_after(max(0.0, (deadline - wall_ms()) / 1000)):
                        await wait_readable(epfd)
                    engine.set_time(wall_ms())
                    engine.expire_blocked()
                    self._flush_woken()
                else:
                    await wait_readable(epfd)
                yielded_ms = wall_ms()
                continue
            now = wall_ms()
            engine.set_time(now)
            if engine.blocked:
                engine.expire_blocked()  # deadlines still count while the loop never parks
                self._flush_woken()
            self._serve_turn(events)
            engine.before_sleep()
            if engine.replication.primary.output or engine.replication.link_out:
                self.replication.push()  # replicas get the turn's stream after the AOF
            if memory.lazyfree or memory.evictor.running:
                memory.drain(_FREE_BUDGET)  # a share of each turn, however busy
            if engine.woken:
                self._flush_woken()
            self._check_shutdown()
            if now != yielded_ms:
                # A loop that never parks still lets the other trio tasks (cron, links,
                # signals) run, at least once per clock millisecond.
                yielded_ms = now
                await trio.lowlevel.checkpoint()

    def _serve_turn(self, events: list[tuple[int, int]]) -> None:
        """One event-loop turn over the ready sockets, in Redis's order: read every ready
        client and parse what it sent, run all of it (`Engine.execute_turn`), write the
        turn's changes to the AOF, then send the replies (beforeSleep: flushAppendOnlyFile,
        then handleClientsWithPendingWrites, so no reply goes out before the write it
        depends on). Lean on purpose: at one command per read this is most of a request."""
        conns = self.conns
        engine = self.engine
        now = engine.keyspace.now_ms
        os_read = os.read
        os_write = os.write
        batch: list[tuple[Client, list[list[bytes]]]] = []
        served: list[Connection] = []
        received = 0
        for fd, ev in events:
            conn = conns.get(fd)
            if conn is None:
                listener = self._listening.get(fd)
                if listener is not None:
                    self._accept_all(listener)
                continue
            if conn.pending:
                if ev & (_EPOLLOUT | _EPOLLERR_HUP):
                    self._flush(conn)
                continue
            try:
                data = os_read(fd, RECV_SIZE) if conn.plain else conn.sock.recv(RECV_SIZE)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                self._close(conn)
                continue
            if not data:
                self._close(conn)
                continue
            received += len(data)
            served.append(conn)
            client = conn.client
            commands = conn.parser.feed(data)
            if commands:
                client.last_interaction_ms = now
                if client.blocked is not None or client.backlog:
                    client.backlog.extend(commands)
                else:
                    batch.append((client, commands))
            elif conn.parser.error is None and self._input_over_limits(conn):
                served.pop()  # closed
        observer = self.observer
        observer.net_input += received
        observer.reads_processed += len(served)
        if batch:
            self._turn = batch  # for `_serve_while_busy`, should a script get busy
            try:
                engine.execute_turn(batch)
            finally:
                self._turn = []
            if engine.clients_to_close:
                self._close_killed()  # before any reply: a killed client gets none
        if engine.propagated:
            self._persist()
        sent_bytes = writes = 0
        for conn in served:
            if conns.get(conn.fd) is not conn:
                continue  # closed or killed meanwhile
            client = conn.client
            if client.flags or conn.parser.auth_required or not client.authenticated:
                if not self._after_commands(conn):
                    continue
            if conn.parser.error is not None and not client.close_after_reply:
                self._protocol_error(conn)
            out = client.out
            if not out:
                if client.close_after_reply:
                    self._close(conn)
                continue
            if conn.pending or client.close_after_reply:
                self._flush(conn)
                continue
            # `_flush`'s common case inlined: at one command per read, a call is ~2% of
            # a request. Output the socket does not take goes to `pending` all the same.
            data = out[0] if len(out) == 1 else b"".join(out)
            out.clear()
            try:
                sent = os_write(conn.fd, data) if conn.plain else conn.sock.send(data)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError:
                self._close(conn)
                continue
            sent_bytes += sent
            writes += 1
            if sent < len(data):
                self._keep_unsent(conn, data, sent)
        observer.net_output += sent_bytes
        observer.writes_processed += writes

    def _accept_all(self, listener: socket.socket) -> None:
        while (conn := self._accept_one(listener)) is not None:
            if self._epoll is not None:
                self._epoll.register(conn.fd, _EPOLLIN)

    def _input_over_limits(self, conn: Connection) -> bool:
        """A read that completed no command: close the client (True) when its unparsed
        input passed client-query-buffer-limit, or maxmemory-clients evicted it."""
        client = conn.client
        if conn.parser.pending_bytes() > self.engine.config.int("client-query-buffer-limit"):
            self.log(
                "warning",
                f"Closing client that reached max query buffer length: "
                f"id={client.id} addr={client.addr}",
            )
            self._close(conn)
            return True
        return bool(self.engine.memory.clients.limit) and self._evicted(conn)

    def _protocol_error(self, conn: Connection) -> None:
        """The parser stopped at bad input: after the replies of the commands before it,
        Redis's protocol error, then the connection closes."""
        client = conn.client
        error = conn.parser.error
        assert error is not None
        client.out.append(error.reply)
        client.close_after_reply = True
        self.log(
            "verbose",
            f"Protocol error ({error.reason}) from client: id={client.id} addr={client.addr}",
        )

    def _after_commands(self, conn: Connection) -> bool:
        """The rare aftermaths of a client's commands: PSYNC/SYNC made it a replica (its
        socket moves to node/io/replication.py: False), or its authentication changed
        (the parser's unauthenticated limits follow it). True while the reactor keeps it."""
        client = conn.client
        if "S" in client.flags:
            self.replication.adopt(conn)
            return self.conns.get(conn.fd) is conn
        # Redis's authRequired(): a client that never logged in is let through while the
        # default user needs no password. An authenticated client needs no call to know.
        parser = conn.parser
        if parser.auth_required or not client.authenticated:
            parser.auth_required = not self.engine.acl.authenticated(client)
        return True

    def _persist(self) -> None:
        """Hand what the engine propagated to the AOF: written (and fsynced under
        appendfsync always) before any reply that depends on it is sent."""
        engine = self.engine
        if engine.propagated:
            commands, engine.propagated = engine.propagated, []
            aof = engine.persistence.aof
            aof.feed(commands)
            aof.flush()

    def _serve_while_busy(self) -> None:
        """Redis's processEventsWhileBlocked, called by the engine while a script runs past
        busy-reply-threshold: accept connections and answer every ready client except the
        script's caller (its input waits, as Redis protects it) through
        `Engine.execute_busy` -- BUSY, unless the command may run (SCRIPT KILL, FUNCTION
        KILL, SHUTDOWN NOSAVE...). The engine's clock stays where the script started.
        Clients whose commands this turn read but has not run yet (after the caller's) are
        answered first: Redis would only be reading them now."""
        engine = self.engine
        run = engine.scripting.run
        caller = run.caller.id if run is not None else -1
        now = engine.now_ms
        after_caller = False
        for client, commands in self._turn:
            if client.id == caller:
                after_caller = True
            elif after_caller and commands:
                for argv in commands:
                    engine.execute_busy(client, argv)
                commands.clear()  # answered: the turn has nothing left to run for it
                conn = self.conn_by_client.get(client.id)
                if conn is not None and client.out:
                    self._flush(conn)
        listeners = {sock.fileno(): sock for sock in self.listeners}
        for fd, ev in self._ready_now(listeners):
            listener = listeners.get(fd)
            if listener is not None:
                self._accept_all(listener)
                continue
            conn = self.conns.get(fd)
            if conn is None or conn.client.id == caller:
                continue
            if conn.pending:
                if ev & (_EPOLLOUT | _EPOLLERR_HUP):
                    self._flush(conn)
                continue
            self._serve_busy_input(conn)
        engine.set_time(now)

    def _ready_now(self, listeners: dict[int, socket.socket]) -> list[tuple[int, int]]:
        """The sockets ready right now (the reactor's epoll, or a one-off poll)."""
        if self._epoll is not None:
            return self._epoll.poll(0)
        poller = select.poll()
        for fd in (*listeners, *self.conns):
            poller.register(fd, select.POLLIN)
        return poller.poll(0)

    def _serve_busy_input(self, conn: Connection) -> None:
        try:
            data = conn.sock.recv(RECV_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._close(conn)
            return
        if not data:
            self._close(conn)
            return
        client = conn.client
        for argv in conn.parser.feed(data):
            self.engine.execute_busy(client, argv)
        if conn.parser.error is not None and not client.close_after_reply:
            client.out.append(conn.parser.error.reply)
            client.close_after_reply = True
        if client.out:
            self._flush(conn)
        elif client.close_after_reply:
            self._close(conn)

    def _close_killed(self) -> None:
        """Close the connections CLIENT KILL took from the engine; they get no reply."""
        killed, self.engine.clients_to_close = self.engine.clients_to_close, []
        for client in killed:
            conn = self.conn_by_client.get(client.id)
            if conn is not None:
                self._close(conn)
            else:
                self.replication.close_client(client.id)

    def _client_buffers(self, client: Client) -> tuple[int, int, int, int]:
        """The engine's probe (node/engine/clientmem.py): a connection's unparsed input
        and unsent output, each as (bytes, bytes allocated)."""
        conn = self.conn_by_client.get(client.id)
        if conn is None:
            return self.replication.buffers(client.id)
        query, allocated = conn.parser.buffer_sizes()
        pending = conn.pending
        if not pending:
            return query, allocated, 0, 0
        return query, allocated, len(pending), sys.getsizeof(pending) - _EMPTY_BYTEARRAY

    def _evicted(self, conn: Connection) -> bool:
        """maxmemory-clients: the connection's buffers grew; evict the biggest clients
        while all of them together are over the limit. True when this one went."""
        self.engine.memory.clients.check(conn.client)
        if self.engine.clients_to_close:
            self._close_killed()
        return conn.client.id not in self.conn_by_client

    def _measure_process(self) -> None:
        """Refresh what INFO needs from the OS (memory, CPU) on the engine."""
        engine = self.engine
        rss = procinfo.rss_bytes()
        memory = engine.memory
        memory.client_buffers = sum(len(conn.pending) for conn in self.conns.values())
        memory.cron(rss)
        if memory.purge_requested:  # MEMORY PURGE
            memory.purge_requested = False
            procinfo.trim_heap()
        engine.used_memory = memory.used()
        info = engine.process_info
        info["used_memory_rss"] = str(rss)
        info["used_memory_startup"] = str(memory.startup)
        info["used_memory_peak"] = str(memory.peak)
        info.update(procinfo.cpu_info())

    def _flush(self, conn: Connection) -> None:
        """Send the client's output; what the socket does not take waits in `pending` (a
        bytearray, so a slow reader costs amortised appends, not quadratic copies)."""
        client = conn.client
        out = client.out
        pending = conn.pending
        if pending:
            for chunk in out:
                pending += chunk
            out.clear()
            data: bytes | bytearray = pending
        else:
            data = out[0] if len(out) == 1 else b"".join(out)
            out.clear()
        try:
            sent = conn.sock.send(data)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            self._close(conn)
            return
        observer = self.observer
        observer.net_output += sent
        observer.writes_processed += 1
        if pending:
            del pending[:sent]
            if pending:
                self._check_output_limit(conn)
                return
            if self._epoll is not None:
                self._epoll.modify(conn.fd, _EPOLLIN)
        elif sent < len(data):
            self._keep_unsent(conn, data, sent)
            return
        conn.soft_limit_since = 0
        if client.close_after_reply:
            self._close(conn)

    def _keep_unsent(self, conn: Connection, data: bytes | bytearray, sent: int) -> None:
        """The socket took only `sent` bytes of `data`: the rest waits in `pending` and the
        socket is watched for writability; its input is not read meanwhile."""
        conn.pending = bytearray(memoryview(data)[sent:])
        if self._epoll is not None:
            self._epoll.modify(conn.fd, _EPOLLOUT)
        self._check_output_limit(conn)

    def _check_output_limit(self, conn: Connection) -> None:
        """client-output-buffer-limit: close a client whose unsent output passed its class's
        hard limit, or stayed above the soft limit for longer than the soft seconds."""
        limits = obuf_limits(self.engine.config.values["client-output-buffer-limit"])
        over, conn.soft_limit_since = output_over_limit(
            limits["pubsub" if conn.client.pubsub_mode else "normal"],
            len(conn.pending),
            self.engine.keyspace.now_ms,
            conn.soft_limit_since,
        )
        if over:
            self.log(
                "warning",
                f"Client id={conn.client.id} addr={conn.client.addr} closed "
                f"for overcoming of output buffer limits.",
            )
            self._close(conn)
        elif self.engine.memory.clients.limit:
            self._evicted(conn)  # the output limit goes first, as in Redis

    def detach(self, conn: Connection) -> bool:
        """Take a connection out of the reactor without closing its socket (it becomes
        a replica link). False when it was already out: `_close` relies on that to
        disconnect a connection closed twice only once."""
        if self.conns.pop(conn.fd, None) is None:
            return False
        self.conn_by_client.pop(conn.client.id, None)
        if self._epoll is not None:
            try:
                self._epoll.unregister(conn.fd)
            except (OSError, ValueError):
                pass
        return True

    def _close(self, conn: Connection) -> None:
        if not self.detach(conn):
            return
        self.engine.disconnect(conn.client)
        if not self.use_epoll:
            # Another task may be waiting on this socket (CLIENT KILL, idle timeout).
            trio.lowlevel.notify_closing(conn.sock)
        conn.sock.close()

    # --- fallback: one trio task per connection (no epoll) --------------------------------
    async def _accept_with_tasks(self, listener: socket.socket, nursery: trio.Nursery) -> None:
        while listener.fileno() != -1:
            try:
                await trio.lowlevel.wait_readable(listener)
            except trio.ClosedResourceError:
                return  # CONFIG SET tls-port closed it
            while (conn := self._accept_one(listener)) is not None:
                nursery.start_soon(self._serve_with_tasks, conn)

    async def _serve_with_tasks(self, conn: Connection) -> None:
        try:
            while conn.fd in self.conns:
                await trio.lowlevel.wait_readable(conn.sock)
                self.engine.set_time(wall_ms())
                self._serve_turn([(conn.fd, _EPOLLIN)])
                self.engine.before_sleep()
                self._flush_woken()
                while conn.pending and conn.fd in self.conns:
                    await trio.lowlevel.wait_writable(conn.sock)
                    self._flush(conn)
                self._check_shutdown()
        finally:
            self._close(conn)


def _keepalive(sock: socket.socket, interval: int) -> None:
    """anetKeepAlive: probes after `interval` idle seconds, then every third of it, and the
    peer is dead after three unanswered ones (tcp-keepalive; 0 leaves it off)."""
    if interval <= 0:
        return
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    if hasattr(socket, "TCP_KEEPIDLE"):  # Linux
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, interval)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, max(1, interval // 3))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 3)


def _fmt_addr(host: str, port: int) -> str:
    return f"{host}:{port}"
