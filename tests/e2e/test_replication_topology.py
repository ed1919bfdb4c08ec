"""slotd-only replication topologies on real processes: a master, two replicas and a replica
chained on one of them, under a write load while links are killed; WAIT's counts;
min-replicas-to-write refusing writes once replicas are gone; and RELIABILITY.md's W1
checker (writes acknowledged by `WAIT 1` survive the master's SIGKILL and a promotion).

Waits are generous deadlines on conditions, never timing assertions."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable

import pytest
import redis

from tests.e2e.test_replication import (
    DEBUG,
    assert_same_data,
    client,
    command,
    info,
    wait_for,
    wait_online,
    wait_synced,
)
from tests.procs import ServerProcess
from tests.rawclient import RawClient

Factory = Callable[..., ServerProcess]


def write_load(server: ServerProcess, ops: int, stop: threading.Event) -> None:
    """A bounded mix of writes over a few dbs and types, pipelined in small batches."""
    rs = [client(server, db) for db in (0, 1, 7)]
    done = 0
    while done < ops and not stop.is_set():
        r = rs[done % len(rs)]
        pipe = r.pipeline(transaction=done % 5 == 0)  # some MULTI/EXEC units too
        for i in range(done, done + 20):
            pipe.set(f"k:{i % 500}", i)
            pipe.incr("counter")
            pipe.rpush(f"list:{i % 7}", i)
            pipe.hset("hash", f"f{i % 50}", i)
            pipe.zadd("zset", {f"m{i % 60}": i})
            if i % 9 == 0:
                pipe.delete(f"k:{(i * 7) % 500}")
            if i % 13 == 0:
                pipe.expire(f"list:{i % 7}", 3600)
        pipe.execute()
        done += 20


def test_master_two_replicas_and_a_chained_one_converge_under_load(slotd_factory: Factory) -> None:
    master = slotd_factory(*DEBUG, "--repl-diskless-sync-delay", "0")
    r1, r2 = slotd_factory(*DEBUG), slotd_factory(*DEBUG)
    r3 = slotd_factory(*DEBUG)
    client(master).set("seed", "1")
    client(r1).replicaof(*master.addr)
    client(r2).replicaof(*master.addr)
    wait_synced(master, r1)
    wait_synced(master, r2)
    client(r3).replicaof(*r1.addr)
    wait_synced(r1, r3)

    stop = threading.Event()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            write_load(master, 3000, stop)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    writer = threading.Thread(target=run)
    writer.start()
    try:
        # Links killed from both ends while writes flow.
        for _ in range(3):
            wait_for("the load to advance", lambda: int(client(master).get("counter") or 0) > 0)
            command(r1, "CLIENT", "KILL", "TYPE", "master")
            command(master, "CLIENT", "KILL", "TYPE", "replica")
            command(r3, "CLIENT", "KILL", "TYPE", "master")
            wait_for(
                "the replicas to reconnect",
                lambda: info(master)["connected_slaves"] == 2 and info(r1)["connected_slaves"] == 1,
            )
    finally:
        writer.join(timeout=300)
        stop.set()
    assert not errors, errors
    assert not writer.is_alive()

    for upstream, replica in ((master, r1), (master, r2), (r1, r3)):
        wait_synced(upstream, replica)
    for replica in (r1, r2, r3):
        assert_same_data(master, replica)
    assert info(r3)["master_repl_offset"] == info(master)["master_repl_offset"]
    assert info(r3)["master_replid"] == info(master)["master_replid"]
    assert info(master, "stats")["sync_partial_ok"] >= 1

    # WAIT counts the master's own replicas (the chained one acknowledges to r1).
    wait_online(master)
    m = client(master)
    m.set("wait-key", "1")
    assert m.wait(2, 30_000) == 2
    m.set("wait-key", "2")
    assert m.wait(3, 300) == 2  # times out with the count it has

    # min-replicas-to-write: two good replicas needed; one leaves, writes are refused.
    m.config_set("min-replicas-to-write", "2")
    m.set("guarded", "1")
    client(r2).replicaof("no", "one")
    wait_for("the master to see r2 go", lambda: info(master)["connected_slaves"] == 1)
    with pytest.raises(
        redis.ResponseError,
        match=r"NOREPLICAS Not enough good replicas "
        r"to write\.",
    ):
        m.set("guarded", "2")
    assert m.get("guarded") == b"1"
    m.config_set("min-replicas-to-write", "0")
    m.set("guarded", "3")


def test_w1_writes_acknowledged_by_wait_survive_a_killed_master(slotd_factory: Factory) -> None:
    """RELIABILITY.md W1: SET a unique key then WAIT 1 100 on the same connection; every
    key whose WAIT returned >= 1 must be on the promoted replica."""
    master = slotd_factory("--repl-diskless-sync-delay", "0")
    replica = slotd_factory()
    client(replica).replicaof(*master.addr)
    wait_synced(master, replica)
    wait_online(master)
    acked: list[str] = []
    r = client(master)
    killed = False
    for i in range(5000):
        key = f"{{w1}}:{i}"
        try:
            r.set(key, i)
            copies = r.wait(1, 100)
        except (redis.ConnectionError, redis.TimeoutError):
            break
        if copies >= 1:
            acked.append(key)
        if i == 300 and not killed:
            assert master.proc is not None
            master.proc.send_signal(signal.SIGKILL)  # mid-stream, with writes in flight
            killed = True
    master.stop()
    assert len(acked) >= 100
    assert client(replica).replicaof("no", "one")
    promoted = client(replica)
    assert command(replica, "ROLE")[0] == b"master"
    missing = [key for key in acked if promoted.get(key) is None]
    assert missing == []


def restart(server: ServerProcess) -> None:
    """Stop (SIGTERM) and start again on the same port, directory and options."""
    server.stop()
    server.spawn()
    assert server.wait_ready()


def test_restarted_replica_and_master_resync_partially(slotd_factory: Factory) -> None:
    """The replication id and offset in the RDB let a restarted replica, and the replicas
    of a restarted master, continue with +CONTINUE."""
    # No PING into the stream after the first one: the master's SAVE must hold everything
    # the replica applied when the master stops.
    master = slotd_factory(
        *DEBUG, "--repl-diskless-sync-delay", "0", "--repl-ping-replica-period", "3600"
    )
    replica = slotd_factory(*DEBUG, "--replicaof", "127.0.0.1", str(master.port))
    client(master).set("a", "1")
    wait_synced(master, replica)
    client(master).set("a2", "1")
    wait_synced(master, replica)
    restart(replica)  # it kept the snapshot it synced from (repl-diskless-load disabled)
    client(master).set("b", "2")  # while the replica is down: from the backlog
    wait_synced(master, replica)
    stats = info(master, "stats")
    assert (stats["sync_full"], stats["sync_partial_ok"]) == (1, 1)
    assert client(replica).get("b") == b"2"

    old_id = info(master)["master_replid"]
    while True:  # a snapshot of everything the replica has (the first PING may follow it)
        offset = info(master)["master_repl_offset"]
        assert client(master).save()
        if info(master)["master_repl_offset"] == offset:
            break
    wait_synced(master, replica)
    # ... and the master heard so: a SIGTERM with an unacknowledged replica waits for it
    # (SHUTDOWN's rule), sending REPLCONF GETACK into the stream past the saved offset.
    wait_for(
        "the replica's ACK",
        lambda: (
            int((info(master).get("slave0") or {}).get("offset", -1))
            == int(info(master)["master_repl_offset"])
        ),
    )
    restart(master)
    assert info(master)["master_replid2"] == old_id
    client(master).set("c", "3")
    wait_synced(master, replica)
    stats = info(master, "stats")
    assert (stats["sync_full"], stats["sync_partial_ok"]) == (0, 1)
    assert client(replica).get("c") == b"3"
    assert_same_data(master, replica)


def test_a_replica_that_stops_reading_is_dropped_at_its_output_limit(
    slotd_factory: Factory,
) -> None:
    master = slotd_factory("--repl-diskless-sync", "no")
    assert client(master).config_set("client-output-buffer-limit", "replica 262144 0 0")
    with RawClient(*master.addr) as stuck:
        assert stuck.call("REPLCONF", "listening-port", "1") == b"+OK\r\n"
        stuck.send("PSYNC", "?", "-1")
        wait_for("the replica to be attached", lambda: info(master)["connected_slaves"] == 1)
        r = client(master)
        value = b"x" * 100_000
        for i in range(300):  # far more than the socket buffers hold
            r.set(f"big:{i}", value)
            if info(master)["connected_slaves"] == 0:
                break
        wait_for("the master to drop it", lambda: info(master)["connected_slaves"] == 0)
        assert "closed for overcoming of output buffer limits" in master.log_tail(50)
