"""WAIT, min-replicas-to-write and the diskless start-on-ACK rule, between engines in one
process (tests/replication/sim.py)."""

from __future__ import annotations

from tests.replication.sim import Sim


def test_wait_without_writes_or_with_enough_acks_returns_at_once() -> None:
    sim = Sim()
    master, r1 = sim.node(7000), sim.node(7001)
    assert master("WAIT", "0", "0") == 0
    sim.attach(r1, master)
    assert master("WAIT", "1", "0") == 1  # no write yet: offset 0 is acknowledged by all
    assert master("WAIT", "-1", "0") == 1


def test_wait_blocks_until_the_replicas_ack_the_clients_write() -> None:
    sim = Sim()
    master, r1, r2 = sim.node(7000), sim.node(7001), sim.node(7002)
    sim.attach(r1, master)
    sim.attach(r2, master)
    client = master.harness
    client("SET", "k", "v")
    assert client.raw("WAIT", "2", "0") == b""  # blocked
    assert client.client.blocked is not None
    sim.pump()  # GETACK goes out in the stream; both replicas answer
    assert client.client.blocked is None
    assert client.pending() == b":2\r\n"
    getack = b"*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n"
    backlog = master.repl.primary.backlog
    assert backlog is not None and backlog.read_from(backlog.first_byte_offset).endswith(getack)


def test_wait_timeout_answers_how_many_acknowledged() -> None:
    sim = Sim()
    master, r1, r2 = sim.node(7000), sim.node(7001), sim.node(7002)
    sim.attach(r1, master)
    sim.attach(r2, master)
    link = sim.link_of(r2)
    assert link is not None
    del sim.nodes[7002]  # r2 stops answering (its connection stays open)
    sim.links.remove(link)
    client = master.harness
    client("SET", "k", "v")
    assert client.raw("WAIT", "2", "500") == b""
    sim.pump()
    assert client.client.blocked is not None  # one of two
    sim.advance(600)
    master.engine.expire_blocked()
    assert client.pending() == b":1\r\n"


def test_wait_inside_multi_does_not_block() -> None:
    sim = Sim()
    master, r1 = sim.node(7000), sim.node(7001)
    sim.attach(r1, master)
    link = sim.link_of(r1)
    assert link is not None
    sim.links.remove(link)  # acks never come
    master("SET", "k", "v")
    master("MULTI")
    master("WAIT", "1", "0")
    assert master("EXEC") == [0]


def test_wait_on_a_replica_is_an_error() -> None:
    sim = Sim()
    master, r1 = sim.node(7000), sim.node(7001)
    sim.attach(r1, master)
    assert r1.harness.error("WAIT", "0", "0").startswith(
        "ERR WAIT cannot be used with replica instances."
    )


def test_min_replicas_to_write_counts_good_replicas() -> None:
    sim = Sim()
    master, r1 = (
        sim.node(7000, min_replicas_to_write="1", min_replicas_max_lag="10"),
        sim.node(7001),
    )
    noreplicas = "NOREPLICAS Not enough good replicas to write."
    assert master.harness.error("SET", "k", "v") == noreplicas
    assert master("GET", "k") is None  # reads are fine
    sim.attach(r1, master)
    assert master("SET", "k", "v") == b"OK"
    text = master.raw("INFO", "replication").decode()
    assert "min_slaves_good_slaves:1\r\n" in text
    sim.advance(11_000)  # no ACK for longer than min-replicas-max-lag
    assert master.harness.error("SET", "k", "v") == noreplicas
    sim.cron()  # the replica ACKs again
    sim.pump()
    assert master("SET", "k", "v") == b"OK"
    assert master("CONFIG", "SET", "min-replicas-to-write", "2") == b"OK"
    assert master.harness.error("SET", "k", "v") == noreplicas
    master("CONFIG", "SET", "min-replicas-to-write", "0")
    assert master("SET", "k", "v") == b"OK"
    assert "min_slaves_good_slaves" not in master.raw("INFO", "replication").decode()


def test_diskless_sync_streams_from_the_first_ack() -> None:
    sim = Sim(diskless=True)
    master, r1 = sim.node(7000), sim.node(7001)
    master("SET", "a", "1")
    r1("REPLICAOF", "127.0.0.1", "7000")
    sim.pump()
    record = next(iter(master.repl.primary.replicas.values()))
    assert record.streaming and not record.start_on_ack  # the replica ACKed after loading
    master("SET", "b", "2")
    sim.pump()
    assert r1.dataset() == master.dataset()


def test_diskless_sync_shares_one_snapshot_between_replicas_waiting_for_it() -> None:
    sim = Sim(diskless=True)
    master = sim.node(7000, repl_diskless_sync_delay="5")
    r1, r2 = sim.node(7001), sim.node(7002)
    master("SET", "a", "1")
    r1("REPLICAOF", "127.0.0.1", "7000")
    r2("REPLICAOF", "127.0.0.1", "7000")
    sim.pump()
    assert master.engine.persistence.total_forks == 0  # waiting for more replicas
    sim.advance(5000)
    sim.pump()
    assert master.engine.persistence.total_forks == 1
    assert r1.dataset() == r2.dataset() == master.dataset()


def test_disk_sync_attaches_a_late_replica_to_the_running_bgsave() -> None:
    sim = Sim()
    master, r1, r2 = sim.node(7000), sim.node(7001), sim.node(7002)
    master.storage.hold = True  # the snapshot child keeps running
    master("SET", "a", "1")
    r1("REPLICAOF", "127.0.0.1", "7000")
    sim.pump()
    master("SET", "b", "2")  # recorded for r1 since the fork
    r2("REPLICAOF", "127.0.0.1", "7000")
    sim.pump()
    assert master.engine.persistence.total_forks == 1
    master.storage.hold = False
    sim.pump()
    assert r1.dataset() == r2.dataset() == master.dataset()
    assert master.engine.persistence.total_forks == 1
