"""Several engines replicating in one process, no sockets: the pure replication machines
joined by in-memory links, as the shell would join them (node/io/replication.py).

    sim = Sim()
    master, replica = sim.node(7000), sim.node(7001)
    replica("REPLICAOF", "127.0.0.1", "7000")
    sim.pump()                         # move bytes until nothing moves
    assert replica("GET", "k") == ...

A node whose replication wants a master connects to the node with that port (none: the
attempt waits). `Link.cut()` drops a connection the way a closed socket would. Forked
snapshots run at once (MemoryStorage); disk ones are "sent" from its files, diskless
ones through a fake SnapshotSender that records what the child would have written.
Time only moves with `advance` (both engines share the clock).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from node.persistence.storage import MemoryStorage, Producer
from node.proto.resp import RequestParser
from node.replication.primary import Replica
from node.replication.state import Replication
from tests.support import START_MS, Harness, make_engine


class Node:
    """One engine and a client of it."""

    def __init__(self, sim: Sim, port: int, config: dict[str, str]) -> None:
        self.sim = sim
        self.port = port
        self.engine = make_engine(port=str(port), **config)
        self.engine.set_time(sim.now)
        self.engine.rng.seed(port)  # each node its own random ids
        self.harness = Harness(self.engine)
        self.retry_at = 0  # a failed connection attempt is retried a second later
        storage = self.engine.persistence.storage
        assert isinstance(storage, MemoryStorage)
        self.storage = storage
        if sim.diskless:
            self.repl.primary.sender = FakeSender(sim)

    @property
    def repl(self) -> Replication:
        return self.engine.replication

    def __call__(self, *args: str | bytes | int) -> Any:
        return self.harness(*args)

    def raw(self, *args: str | bytes | int) -> bytes:
        return self.harness.raw(*args)

    def dataset(self) -> dict[int, dict[bytes, tuple[object, int | None]]]:
        """Every db's keys with a comparable form of their value and expiry."""
        out = {}
        for db in self.engine.keyspace.dbs:
            if db.data:
                out[db.index] = {k: (_plain(v), db.expires.get(k)) for k, v in db.data.items()}
        return out


def _plain(value: object) -> object:
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    items = getattr(value, "items", None)
    if callable(items):
        return sorted((k, _plain(v)) for k, v in items())
    try:
        return sorted(value)  # type: ignore[call-overload]
    except TypeError:
        return repr(value)


class FakeSender:
    """What a diskless child writes, recorded per socket (file descriptor)."""

    def __init__(self, sim: Sim) -> None:
        self.sim = sim

    def job(
        self, targets: list[tuple[int, bytes]], mark: bytes, produce: Producer
    ) -> Callable[[], bool]:
        def run() -> bool:
            chunks: list[bytes] = []
            produce(chunks.append)
            body = b"$EOF:" + mark + b"\r\n" + b"".join(chunks) + mark
            for fd, preamble in targets:
                self.sim.socket_data[fd] = self.sim.socket_data.get(fd, b"") + preamble + body
            return True

        return run


class Link:
    """A connection from a replica node to its master node."""

    def __init__(self, sim: Sim, replica: Node, master: Node) -> None:
        self.sim = sim
        self.replica = replica
        self.master = master
        self.epoch = replica.repl.link_epoch
        self.fd = sim.next_fd
        sim.next_fd += 1
        client = master.engine.connect(f"127.0.0.1:{40000 + self.fd}", f"127.0.0.1:{master.port}")
        assert client is not None
        client.fd = self.fd
        self.client = client
        self.parser = RequestParser()
        self.closed = False
        self.streamed = False  # the link reached the stream (a lost one reconnects at once)
        replica.repl.link_connecting()
        replica.repl.link_up(f"127.0.0.1:{40000 + self.fd}", self.fd)

    def record(self) -> Replica | None:
        return self.master.repl.primary.replicas.get(self.client.id)

    def cut(self) -> None:
        """Both ends see the connection close."""
        if self.closed:
            return
        self._close()
        master_engine = self.master.engine
        if self.client.id in master_engine.clients:
            master_engine.disconnect(self.client)
        if self.replica.repl.link_epoch == self.epoch:
            self.replica.repl.link_down("Connection with master lost (cut).")

    def step(self) -> bool:
        """Move what is ready both ways; True if anything moved."""
        if self.closed:
            return False
        repl = self.replica.repl
        master_engine = self.master.engine
        if repl.link_epoch != self.epoch:  # the replica dropped this connection
            self._close()
            if self.client.id in master_engine.clients:
                master_engine.disconnect(self.client)
            return True
        if self.client.id not in master_engine.clients:  # the master dropped it
            self.cut()
            return True
        moved = False
        if repl.link_out:
            data = bytes(repl.link_out)
            repl.link_out.clear()
            moved = True
            for argv in self.parser.feed(data):
                master_engine.execute(self.client, argv)
            master_engine.before_sleep()
        out = b"".join(self.client.out)
        self.client.out.clear()
        record = self.record()
        if record is not None:
            if self.fd in self.sim.socket_data:
                out += self.sim.socket_data.pop(self.fd)
            out += bytes(record.out)
            record.out.clear()
            if record.send_file is not None:
                rdb = self.master.storage.files[record.send_file]
                out += b"$%d\r\n" % len(rdb) + rdb
                self.master.repl.primary.bulk_sent(record)
                out += bytes(record.out)
                record.out.clear()
        if out:
            moved = True
            repl.link_input(out)
        self.streamed |= repl.state == "connected"
        return moved

    def _close(self) -> None:
        self.closed = True
        if not self.streamed:
            self.replica.retry_at = self.sim.now + 1000


class Sim:
    """Nodes by port, the links between them, one clock."""

    def __init__(self, *, diskless: bool = False) -> None:
        self.now = START_MS
        self.diskless = diskless
        self.nodes: dict[int, Node] = {}
        self.links: list[Link] = []
        self.next_fd = 100
        self.socket_data: dict[int, bytes] = {}

    def node(self, port: int, **config: str) -> Node:
        config.setdefault("repl_diskless_sync", "yes" if self.diskless else "no")
        config.setdefault("repl_diskless_sync_delay", "0")
        node = Node(self, port, config)
        self.nodes[port] = node
        return node

    def advance(self, ms: int) -> None:
        self.now += ms
        for node in self.nodes.values():
            node.engine.set_time(self.now)

    def cron(self) -> None:
        """One cron tick on every node (reaps snapshot children, ACKs, pings, timeouts)."""
        for node in self.nodes.values():
            node.engine.persistence.cron()
            node.engine.expire_blocked()
            node.repl.cron()

    def attach(self, replica: Node, master: Node) -> None:
        """REPLICAOF, and the sync run to its end: the replica is connected."""
        assert replica("REPLICAOF", "127.0.0.1", master.port) == b"OK"
        self.pump()
        assert replica.repl.state == "connected"

    def link_of(self, replica: Node) -> Link | None:
        for link in self.links:
            if link.replica is replica and not link.closed:
                return link
        return None

    def pump(self, rounds: int = 200) -> None:
        """Connect whoever wants a master, then move bytes until nothing moves."""
        for _ in range(rounds):
            moved = False
            for node in list(self.nodes.values()):
                repl = node.repl
                if (
                    repl.master_host is not None
                    and repl.state == "connect"
                    and self.link_of(node) is None
                    and self.now >= node.retry_at
                ):
                    master = self.nodes.get(repl.master_port)
                    if master is not None:
                        self.links.append(Link(self, node, master))
                        moved = True
            for node in self.nodes.values():
                node.engine.persistence.cron()  # reap snapshot children at once
                node.repl.primary.start_pending_snapshot()
                node.engine.before_sleep()  # GETACK for WAIT
            for link in list(self.links):
                moved |= link.step()
            self.links = [link for link in self.links if not link.closed]
            if not moved:
                return
        raise AssertionError("replication did not settle")
