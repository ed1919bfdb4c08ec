"""SHUTDOWN's wait for lagging replicas (Redis 7.0's prepareForShutdown/finishShutdown),
SHUTDOWN ABORT, and the signal flags (shutdown-on-sigterm/-sigint), between engines in one
process (tests/replication/sim.py). The shell's part (the cron calling
`engine.shutdown.cron()`, stopping on `shutdown_requested`) is played by the tests."""

from __future__ import annotations

from tests.replication.sim import Node, Sim

FAILED = b"-ERR Errors trying to SHUTDOWN. Check logs.\r\n"


def lagging(sim: Sim, **config: str) -> tuple[Node, Node]:
    """A master with one replica that stopped answering, and a write it has not acked."""
    master, replica = sim.node(7000, **config), sim.node(7001)
    sim.attach(replica, master)
    link = sim.link_of(replica)
    assert link is not None
    sim.links.remove(link)  # its connection stays open, but nothing moves any more
    master("SET", "k", "v")
    return master, replica


def test_without_replicas_or_with_replicas_in_sync_it_stops_at_once() -> None:
    sim = Sim()
    master = sim.node(7000)
    assert master.raw("SHUTDOWN") == b""
    assert master.engine.shutdown_requested == "save"
    assert master.harness.client.close_after_reply
    sim2 = Sim()
    master, replica = sim2.node(7000), sim2.node(7001)
    sim2.attach(replica, master)
    assert master.raw("SHUTDOWN", "NOSAVE", "FORCE") == b""
    assert master.engine.shutdown_requested == "nosave force"


def test_a_lagging_replica_is_waited_for_with_writes_paused_until_abort() -> None:
    sim = Sim()
    master, _ = lagging(sim)
    caller = master.harness
    assert caller.raw("SHUTDOWN") == b""
    assert caller.client.blocked is not None and master.engine.shutdown_requested is None
    assert b"REPLCONF" in bytes(master.repl.primary.backlog.read_from(1))  # type: ignore[union-attr]
    other = caller.client_harness()
    assert other("CLIENT", "PAUSE", "100000", "WRITE") == b"OK"
    assert other("CLIENT", "UNPAUSE") == b"OK"  # its own pause only
    master.engine.expire_blocked()
    assert other.raw("SET", "x", "1") == b""  # writes wait
    assert other("GET", "k") == b"v"  # reads do not
    second = caller.client_harness()
    assert second.raw("SHUTDOWN", "SAVE") == b""  # joins the shutdown in progress
    master.engine.shutdown.cron()  # nothing yet: not caught up, not timed out
    assert master.engine.shutdown_requested is None
    assert other("SHUTDOWN", "ABORT") == b"OK"
    assert caller.pending() == FAILED and second.pending() == FAILED
    assert caller.client.blocked is None
    master.engine.expire_blocked()  # the shell resumes the paused writers
    assert other.pending() == b"+OK\r\n"
    assert other.error("SHUTDOWN", "ABORT") == "ERR No shutdown in progress."
    assert master.engine.stats.error_codes.get("ERR") == 3


def test_it_stops_once_the_replicas_catch_up() -> None:
    sim = Sim()
    master, replica = sim.node(7000), sim.node(7001)
    sim.attach(replica, master)
    master("SET", "k", "v")  # the replica has not acknowledged it yet
    assert master.raw("SHUTDOWN", "NOSAVE") == b""
    assert master.engine.shutdown.in_progress
    # GETACK goes out; its answer is the offset before the GETACK itself (as Redis's), so
    # the replica's next once-a-second ACK is the one that shows it caught up.
    sim.pump()
    master.engine.shutdown.cron()
    assert master.engine.shutdown_requested is None
    for _ in range(2):
        sim.advance(1000)
        sim.cron()
        sim.pump()
    master.engine.shutdown.cron()
    assert master.engine.shutdown_requested == "nosave"


def test_the_timeout_ends_the_wait() -> None:
    sim = Sim()
    master, _ = lagging(sim, shutdown_timeout="2")
    assert master.raw("SHUTDOWN") == b""
    sim.advance(1999)
    master.engine.shutdown.cron()
    assert master.engine.shutdown_requested is None
    sim.advance(1)
    master.engine.shutdown.cron()
    assert master.engine.shutdown_requested == "save"


def test_now_or_a_zero_timeout_skip_the_wait() -> None:
    sim = Sim()
    master, _ = lagging(sim)
    assert master.raw("SHUTDOWN", "NOW") == b""
    assert master.engine.shutdown_requested == "save now"
    sim2 = Sim()
    master, _ = lagging(sim2, shutdown_timeout="0")
    assert master.raw("SHUTDOWN") == b""
    assert master.engine.shutdown_requested == "save"


def test_signals_use_their_configured_flags() -> None:
    sim = Sim()
    master, _ = lagging(sim)
    shutdown = master.engine.shutdown
    assert shutdown.signal("SIGTERM") is None  # "default": waits like SHUTDOWN
    assert shutdown.abort()
    master("CONFIG", "SET", "shutdown-on-sigint", "nosave now")
    assert shutdown.signal("SIGINT") is True
    assert master.engine.shutdown_requested == "nosave now"
