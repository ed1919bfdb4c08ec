"""The shell's side of the cluster bus: the listener on the bus port, one trio task per
link (a non-blocking connect for outbound links, then reading and writing), and the 10 Hz
bus cron. The protocol is all in node/cluster/bus.py (pure); this module moves bytes.

- After every call into the machine `sync` does what it asked: open the links in
  `connects`, close those in `closing`, send what the links in `flushing` queued. A send
  the socket does not take whole leaves the rest to the link's task (EPOLLOUT-style
  wait); reading and the machine's work never block the client reactor.
- `bus.now` is the engine clock, set from the wall clock before each call.
- The cluster's end-of-turn work (state update, nodes.conf) runs right after the bus
  changed something, and released pub/sub subscribers get their messages at once.
- With `tls-cluster yes` every link speaks TLS (node/io/tls.py's contexts): an accepted
  one handshakes as its first bytes arrive, an outbound one before its first message.
"""

from __future__ import annotations

import contextlib
import socket
import time
from typing import TYPE_CHECKING, Final

import trio

from node.cluster.bus import ClusterBus, Link
from node.cluster.manager import CRON_PERIOD_MS, Cluster

if TYPE_CHECKING:
    from node.server import NodeServer

RECV_SIZE: Final = 64 * 1024
_BUS_PORT_OFFSET: Final = 10000
_CRON_SLACK_MS: Final = 10  # a 100 ms sleep may wake a hair early


def wall_ms() -> int:
    return int(time.time() * 1000)


def bus_port(cluster: Cluster) -> int:
    """The bus's port: `cluster-port`, or the client port plus 10000. Raises OSError (with
    Redis's start-up message) when that is past 65535."""
    config = cluster.engine.config
    explicit = config.int("cluster-port")
    if explicit:
        return explicit
    port = config.int("port")
    if port > 65535 - _BUS_PORT_OFFSET:
        raise OSError(
            "Redis port number too high. Cluster communication port is 10,000 port numbers "
            "higher than your Redis port. Your Redis port number must be 55535 or less."
        )
    return port + _BUS_PORT_OFFSET


class LinkIO:
    """A link's socket and the task that serves it."""

    __slots__ = ("scope", "sock", "wake")

    def __init__(self) -> None:
        self.sock: socket.socket | None = None
        self.scope = trio.CancelScope()
        self.wake = trio.Event()  # output is waiting for the socket to take it


class BusShell:
    """The cluster bus of one NodeServer."""

    def __init__(self, server: NodeServer, cluster: Cluster) -> None:
        self.server = server
        self.engine = server.engine
        self.cluster = cluster
        self.bus = ClusterBus(cluster)
        cluster.bus = self.bus
        self.listeners: list[socket.socket] = []  # the server binds them (bus_port)
        self._nursery: trio.Nursery | None = None
        self._last_cron_ms = 0

    # --- lifecycle -------------------------------------------------------------------------------
    async def run(self) -> None:
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            for sock in self.listeners:
                nursery.start_soon(self._accept, sock)
            await trio.sleep_forever()

    def close_all(self) -> None:
        for link in self.bus.all_links():
            self._close(link)
        for sock in self.listeners:
            sock.close()
        self.listeners = []

    # --- the machine's requests ------------------------------------------------------------------
    def _tick(self) -> None:
        now = wall_ms()
        self.engine.set_time(now)
        self.bus.now = now

    def sync(self) -> None:
        """Do what the machine asked, then the cluster's end-of-turn work."""
        bus = self.bus
        while bus.closing:
            self._close(bus.closing.pop())
        nursery = self._nursery
        while bus.connects and nursery is not None:
            link = bus.connects.pop(0)
            link.transport = io = LinkIO()
            nursery.start_soon(self._serve, link, io, True)
        flushing, bus.flushing = bus.flushing, []
        for link in flushing:
            io = link.transport
            if isinstance(io, LinkIO) and io.sock is not None and link.up:
                self._send(link, io)
        self.cluster.before_sleep()
        if self.engine.propagated:  # the DELs of a slot we lost: AOF, then replicas
            self.server._persist()
            self.server.replication.push()
        self.server._flush_woken()

    def cron(self) -> None:
        """The bus's share of the shell's cron: clusterCron every 100 ms."""
        now = self.engine.now_ms
        if now - self._last_cron_ms < CRON_PERIOD_MS - _CRON_SLACK_MS:
            return
        self._last_cron_ms = now
        self.bus.now = now
        self.bus.cron()
        self.sync()

    def _close(self, link: Link) -> None:
        io = link.transport
        if not isinstance(io, LinkIO):
            return
        link.transport = None
        io.scope.cancel()
        sock, io.sock = io.sock, None
        if sock is not None:
            with contextlib.suppress(RuntimeError):  # outside trio: nobody waits on it
                trio.lowlevel.notify_closing(sock)
            sock.close()

    def _lost(self, link: Link) -> None:
        """The socket failed or the peer closed: tell the machine."""
        if link.transport is None:
            return  # the machine closed it first
        self._close(link)
        self._tick()
        self.bus.closed(link)
        self.sync()

    # --- sockets ---------------------------------------------------------------------------------
    async def _accept(self, listener: socket.socket) -> None:
        while True:
            await trio.lowlevel.wait_readable(listener)
            while True:
                try:
                    sock, peer = listener.accept()
                except (BlockingIOError, InterruptedError):
                    break
                except OSError as exc:
                    self.server.log("verbose", f"Error accepting cluster node: {exc}")
                    break
                sock.setblocking(False)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                if self.engine.config.bool("tls-cluster"):
                    sock = self.server.tls.wrap(sock)
                self._tick()
                link = self.bus.accepted(peer[0], sock.getsockname()[0])
                io = LinkIO()
                io.sock = sock
                link.transport = io
                assert self._nursery is not None
                self._nursery.start_soon(self._serve, link, io, False)
                self.server.log(
                    "verbose", f"Accepting cluster node connection from {peer[0]}:{peer[1]}"
                )

    async def _serve(self, link: Link, io: LinkIO, outbound: bool) -> None:
        with io.scope:  # cancelled at once if the machine dropped the link meanwhile
            try:
                if outbound and not await self._connect(link, io):
                    self._lost(link)
                    return
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(self._writer, link, io)
                    await self._reader(link, io)
                    nursery.cancel_scope.cancel()
            except (trio.ClosedResourceError, OSError):
                pass  # the machine closed the socket under a wait, or it failed
        if link.transport is io:
            self._lost(link)

    async def _connect(self, link: Link, io: LinkIO) -> bool:
        node = link.node
        if node is None or not node.ip or not node.cport:
            return False
        try:
            infos = await trio.socket.getaddrinfo(node.ip, node.cport, type=socket.SOCK_STREAM)
        except (OSError, ValueError, UnicodeError):  # a peer may announce any string
            return False
        family, kind, proto, _, address = infos[0]
        sock = socket.socket(family, kind, proto)
        sock.setblocking(False)
        io.sock = sock
        try:
            sock.connect(address)
        except (BlockingIOError, InterruptedError):
            await trio.lowlevel.wait_writable(sock)
            if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                return False
        except OSError:
            return False
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.engine.config.bool("tls-cluster"):
            io.sock = None  # the TLS socket takes the descriptor over (closed on failure)
            sock = io.sock = await self.server.tls.connect(sock)
        link.peer_ip = node.ip
        self._tick()
        self.bus.connected(link, sock.getsockname()[0])
        self.sync()
        return True

    async def _reader(self, link: Link, io: LinkIO) -> None:
        while io.sock is not None:
            try:
                await trio.lowlevel.wait_readable(io.sock)
                if io.sock is None:
                    return
                data = io.sock.recv(RECV_SIZE)
            except (BlockingIOError, InterruptedError):
                continue
            except (trio.ClosedResourceError, OSError):
                return
            if not data:
                return
            self._tick()
            self.bus.received(link, data)
            self.sync()

    async def _writer(self, link: Link, io: LinkIO) -> None:
        try:
            while True:
                await io.wake.wait()
                io.wake = trio.Event()
                while link.out and io.sock is not None:
                    await trio.lowlevel.wait_writable(io.sock)
                    self._send(link, io)
        except (trio.ClosedResourceError, OSError):
            io.scope.cancel()

    def _send(self, link: Link, io: LinkIO) -> None:
        """Send what the socket takes now; the writer task waits for the rest."""
        sock = io.sock
        if sock is None or not link.out:
            return
        try:
            sent = sock.send(link.out)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            io.scope.cancel()  # the task reports the loss
            return
        del link.out[:sent]
        if link.out:
            io.wake.set()
