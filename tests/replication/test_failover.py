"""FAILOVER (7.0's coordinated hand-over) between engines in one process."""

from __future__ import annotations

from tests.replication.sim import Node, Sim


def tick(sim: Sim, ms: int = 1000) -> None:
    sim.advance(ms)
    sim.cron()
    sim.pump()


def state(node: Node) -> str:
    text = node.raw("INFO", "replication").decode()
    return text.split("master_failover_state:", 1)[1].split("\r\n", 1)[0]


def test_failover_hands_over_to_the_replica_that_caught_up() -> None:
    sim = Sim()
    master, r1 = sim.node(7000), sim.node(7001)
    sim.attach(r1, master)
    master("SET", "k", "1")
    sim.pump()
    old_id = master.repl.primary.replid
    assert master("FAILOVER") == b"OK"
    assert state(master) == "waiting-for-sync"
    writer = master.harness.client_harness()
    assert writer.raw("SET", "k", "2") == b""  # writes wait (CLIENT PAUSE WRITE)
    assert master.raw("GET", "k") == b"$1\r\n1\r\n"
    for _ in range(3):
        tick(sim)
    assert state(master) == "no-failover"
    assert master("ROLE")[0] == b"slave" and r1("ROLE")[0] == b"master"
    assert master.repl.state == "connected"
    assert r1.repl.primary.replid2 == old_id
    assert master.repl.primary.replid == r1.repl.primary.replid
    assert r1.repl.primary.sync_partial_ok == 1 and r1.repl.primary.sync_full == 0
    # The paused write runs when the pause ends: on a replica now.
    master.engine.expire_blocked()
    assert b"".join(writer.client.out).startswith(b"-READONLY")


def test_failover_to_a_named_replica_with_force_after_the_timeout() -> None:
    sim = Sim()
    master, r1, r2 = sim.node(7000), sim.node(7001), sim.node(7002)
    sim.attach(r1, master)
    sim.attach(r2, master)
    link = sim.link_of(r2)
    assert link is not None
    sim.links.remove(link)  # r2 never acknowledges anything more
    master("SET", "k", "1")
    assert master("FAILOVER", "TO", "127.0.0.1", "7002", "FORCE", "TIMEOUT", "1500") == b"OK"
    tick(sim)
    assert state(master) == "waiting-for-sync"
    sim.links.append(link)
    tick(sim)
    assert master("ROLE")[0] == b"slave"
    assert master.repl.master_port == 7002
    assert r2("ROLE")[0] == b"master"


def test_failover_timeout_without_force_aborts() -> None:
    sim = Sim()
    master, r1 = sim.node(7000), sim.node(7001)
    sim.attach(r1, master)
    link = sim.link_of(r1)
    assert link is not None
    sim.links.remove(link)
    master("SET", "k", "1")
    assert master("FAILOVER", "TIMEOUT", "500") == b"OK"
    tick(sim)
    assert state(master) == "no-failover"
    assert master("ROLE")[0] == b"master"
    assert master("SET", "k", "2") == b"OK"  # unpaused


def test_failover_abort_and_errors() -> None:
    sim = Sim()
    master, r1 = sim.node(7000), sim.node(7001)
    err = master.harness.error
    assert err("FAILOVER") == "ERR FAILOVER requires connected replicas."
    assert err("FAILOVER", "ABORT") == "ERR No failover in progress."
    assert err("FAILOVER", "TIMEOUT", "0") == "ERR FAILOVER timeout must be greater than 0"
    assert err("FAILOVER", "TO", "h") == "ERR syntax error"
    assert err("FAILOVER", "FORCE", "FORCE") == "ERR syntax error"
    sim.attach(r1, master)
    assert err("FAILOVER", "FORCE") == (
        "ERR FAILOVER with force option requires both a timeout and target HOST and IP."
    )
    assert err("FAILOVER", "TO", "127.0.0.1", "9") == (
        "ERR FAILOVER target HOST and PORT is not a replica."
    )
    assert r1.harness.error("FAILOVER") == "ERR FAILOVER is not valid when server is a replica."
    link = sim.link_of(r1)
    assert link is not None
    sim.links.remove(link)
    assert master("FAILOVER") == b"OK"
    assert err("FAILOVER") == "ERR FAILOVER already in progress."
    assert err("REPLICAOF", "NO", "ONE") == "ERR REPLICAOF not allowed while failing over."
    assert master("FAILOVER", "ABORT") == b"OK"
    assert state(master) == "no-failover"
    assert master("SET", "k", "v") == b"OK"


def test_psync_failover_refusals() -> None:
    sim = Sim()
    master, r1 = sim.node(7000), sim.node(7001)
    sim.attach(r1, master)
    other = master.harness.client_harness()
    assert other.error("PSYNC", "x" * 40, "1", "FAILOVER") == (
        "ERR PSYNC FAILOVER can't be sent to a master."
    )
    other = r1.harness.client_harness()
    assert other.error("PSYNC", "x" * 40, "1", "FAILOVER") == (
        "ERR PSYNC FAILOVER replid must match my replid."
    )
