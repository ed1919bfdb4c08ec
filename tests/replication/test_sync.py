"""Replication between engines in one process (tests/replication/sim.py): full and partial
resynchronisation, PSYNC2 ids after a promotion, chains, the stream's offsets, expiry on
replicas, transactions in the stream."""

from __future__ import annotations

import pytest

from tests.replication.sim import Node, Sim

ZERO = "0" * 40


def info(node: Node) -> dict[str, str]:
    text = node.raw("INFO", "replication").decode()
    return dict(line.split(":", 1) for line in text.splitlines()[1:] if ":" in line)


@pytest.mark.parametrize("diskless", [False, True])
def test_full_sync_then_stream(diskless: bool) -> None:
    sim = Sim(diskless=diskless)
    master, replica = sim.node(7000), sim.node(7001)
    master("SET", "a", "1")
    master("HSET", "h", "f", "v")
    master("SELECT", "3")
    master("RPUSH", "l", "x", "y")
    master("SELECT", "0")
    master("SET", "ttl", "v", "PX", "100000")
    replica("SET", "stale", "gone")
    sim.attach(replica, master)
    assert replica.dataset() == master.dataset()
    assert replica("GET", "stale") is None
    master("INCR", "a")
    master("SELECT", "3")
    master("LPOP", "l")
    sim.pump()
    assert replica.dataset() == master.dataset()
    mi, ri = info(master), info(replica)
    assert mi["connected_slaves"] == "1"
    assert ri["role"] == "slave" and ri["master_link_status"] == "up"
    assert ri["master_replid"] == mi["master_replid"]
    assert ri["master_repl_offset"] == mi["master_repl_offset"] == ri["slave_repl_offset"]
    assert replica("ROLE") == [
        b"slave",
        b"127.0.0.1",
        7000,
        b"connected",
        int(mi["master_repl_offset"]),
    ]


def test_stream_bytes_and_offsets_start_with_select() -> None:
    sim = Sim()
    master, replica = sim.node(7000), sim.node(7001)
    sim.attach(replica, master)
    start = master.repl.primary.offset
    master("SET", "k", "v")
    sim.pump()
    backlog = master.repl.primary.backlog
    assert backlog is not None
    assert backlog.read_from(start + 1) == (
        b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"
    )
    assert replica.repl.reploff == master.repl.primary.offset


def test_ack_and_role_on_the_master() -> None:
    sim = Sim()
    master, replica = sim.node(7000), sim.node(7001)
    sim.attach(replica, master)
    master("SET", "k", "v")
    sim.pump()
    for _ in range(2):  # the first tick also PINGs the stream: the second ACKs it
        sim.advance(1000)
        sim.cron()  # the replica's once-a-second ACK
        sim.pump()
    offset = master.repl.primary.offset
    assert master("ROLE") == [b"master", offset, [[b"127.0.0.1", b"7001", b"%d" % offset]]]
    assert f"state=online,offset={offset},lag=0" in info(master)["slave0"]


def test_partial_resync_after_a_cut_link() -> None:
    sim = Sim()
    master, replica = sim.node(7000), sim.node(7001)
    sim.attach(replica, master)
    master("SET", "before", "1")
    sim.pump()
    link = sim.link_of(replica)
    assert link is not None
    link.cut()
    master("SET", "during", "2")  # goes to the backlog only
    assert replica.repl.state == "connect"
    assert info(replica)["master_link_status"] == "down"
    sim.pump()
    assert replica("GET", "during") == b"2"
    assert master.repl.primary.sync_partial_ok == 1
    assert master.repl.primary.sync_full == 1
    assert replica.dataset() == master.dataset()


def test_client_kill_type_master_resyncs_partially() -> None:
    sim = Sim()
    master, replica = sim.node(7000), sim.node(7001)
    sim.attach(replica, master)
    assert replica("CLIENT", "KILL", "TYPE", "master") == 1
    master("SET", "x", "y")
    sim.pump()
    assert replica("GET", "x") == b"y"
    assert master.repl.primary.sync_partial_ok == 1


def test_backlog_overflow_means_a_full_resync() -> None:
    sim = Sim()
    master, replica = sim.node(7000, repl_backlog_size="1mb"), sim.node(7001)
    sim.attach(replica, master)
    master("CONFIG", "SET", "repl-backlog-size", "16384")
    link = sim.link_of(replica)
    assert link is not None
    link.cut()
    for i in range(100):
        master("SET", f"k{i}", "x" * 300)
    sim.pump()
    assert master.repl.primary.sync_full == 2
    # Both PSYNCs named an unknown history: the replica's own at first, then one that
    # is no longer in the backlog.
    assert master.repl.primary.sync_partial_err == 2
    assert replica.dataset() == master.dataset()


def test_promotion_keeps_the_history_as_replid2_and_siblings_continue() -> None:
    sim = Sim()
    master, r1, r2 = sim.node(7000), sim.node(7001), sim.node(7002)
    sim.attach(r1, master)
    sim.attach(r2, master)
    master("SET", "k", "1")
    sim.pump()
    old_id, offset = master.repl.primary.replid, master.repl.primary.offset
    del sim.nodes[7000]  # the master dies
    for link in list(sim.links):
        link.cut()
    assert r1("REPLICAOF", "NO", "ONE") == b"OK"
    i1 = info(r1)
    assert i1["role"] == "master"
    assert i1["master_replid2"] == old_id
    assert i1["second_repl_offset"] == str(offset + 1)
    assert i1["master_replid"] != old_id
    r1("SET", "k", "2")
    assert r2("REPLICAOF", "127.0.0.1", "7001") == b"OK"
    sim.pump()
    assert r2("GET", "k") == b"2"
    assert r1.repl.primary.sync_partial_ok == 1 and r1.repl.primary.sync_full == 0
    i2 = info(r2)
    assert i2["master_replid"] == i1["master_replid"]
    assert i2["master_replid2"] == old_id


def test_chained_replicas_get_the_masters_stream_verbatim() -> None:
    sim = Sim()
    master, middle, leaf = sim.node(7000), sim.node(7001), sim.node(7002)
    master("SET", "a", "1")
    sim.attach(middle, master)
    sim.attach(leaf, middle)
    master("MSET", "b", "2", "c", "3")
    master("SELECT", "5")
    master("SADD", "s", "m")
    sim.pump()
    assert leaf.dataset() == middle.dataset() == master.dataset()
    offset = master.repl.primary.offset
    assert middle.repl.primary.offset == leaf.repl.primary.offset == offset
    assert info(leaf)["master_replid"] == info(master)["master_replid"]
    # The middle node passes on exactly the bytes it applied.
    mb, lb = master.repl.primary.backlog, leaf.repl.primary.backlog
    assert mb is not None and lb is not None
    assert lb.read_from(lb.first_byte_offset) == mb.read_from(lb.first_byte_offset)


def test_replica_of_a_replica_refused_while_its_link_is_down() -> None:
    sim = Sim()
    middle, leaf = sim.node(7001), sim.node(7002)
    middle("REPLICAOF", "127.0.0.1", "7000")  # nobody there
    leaf("REPLICAOF", "127.0.0.1", "7001")
    sim.pump()
    assert leaf.repl.state == "connect"
    assert middle.repl.primary.replicas == {}


def test_expired_keys_on_a_replica_read_as_missing_until_the_masters_del() -> None:
    sim = Sim()
    master, replica = sim.node(7000), sim.node(7001)
    sim.attach(replica, master)
    master("SET", "k", "v", "PX", "1000")
    sim.pump()
    sim.advance(2000)
    assert replica("GET", "k") is None
    assert replica("DBSIZE") == 1  # still there: only the master expires keys
    replica.engine.keyspace.active_expire_cycle()
    assert replica("DBSIZE") == 1
    assert master("GET", "k") is None  # the master expires it and propagates DEL
    sim.pump()
    assert replica("DBSIZE") == 0


def test_the_master_client_sees_keys_expired_by_the_replicas_clock() -> None:
    sim = Sim()
    master, replica = sim.node(7000), sim.node(7001)
    sim.attach(replica, master)
    master("SET", "n", "5", "PX", "1000")
    sim.pump()
    replica.engine.set_time(sim.now + 5000)  # the replica's clock runs ahead
    master("INCR", "n")
    sim.pump()
    replica.engine.set_time(sim.now)
    assert replica("GET", "n") == b"6"


def test_offset_moves_only_after_whole_transactions() -> None:
    sim = Sim()
    master, replica = sim.node(7000), sim.node(7001)
    sim.attach(replica, master)
    before = replica.repl.reploff
    master("MULTI")
    master("SET", "a", "1")
    master("SET", "b", "2")
    master("EXEC")
    backlog = master.repl.primary.backlog
    assert backlog is not None
    stream = backlog.read_from(before + 1)
    assert stream.count(b"MULTI") == 1 and stream.endswith(b"*1\r\n$4\r\nEXEC\r\n")
    select = stream.index(b"*1\r\n$5\r\nMULTI")  # the stream first SELECTs db 0
    cut = stream.index(b"EXEC") - 8  # up to the middle of the transaction
    replica.repl.link_input(stream[:cut])
    assert replica.repl.reploff == before + select
    assert replica("GET", "a") is None  # queued in the master client's MULTI
    replica.repl.link_input(stream[cut:])
    assert replica.repl.reploff == before + len(stream)
    assert replica("GET", "b") == b"2"
    link = sim.link_of(replica)
    assert link is not None
    link.record().out.clear()  # type: ignore[union-attr]  # already delivered by hand
    sim.pump()
    assert replica.dataset() == master.dataset()


def test_getack_is_answered_with_the_offset_before_it() -> None:
    sim = Sim()
    master, replica = sim.node(7000), sim.node(7001)
    sim.attach(replica, master)
    master("SET", "k", "v")
    sim.pump()
    applied = replica.repl.reploff
    replica.repl.link_out.clear()
    getack = b"*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n"
    replica.repl.link_input(getack)
    assert bytes(replica.repl.link_out) == b"*3\r\n$8\r\nREPLCONF\r\n$3\r\nACK\r\n$%d\r\n%d\r\n" % (
        len(str(applied)),
        applied,
    )
    assert replica.repl.reploff == applied + len(getack)


def test_writes_on_a_replica() -> None:
    sim = Sim()
    master, replica = sim.node(7000), sim.node(7001)
    sim.attach(replica, master)
    assert replica.raw("SET", "k", "v") == (
        b"-READONLY You can't write against a read only replica.\r\n"
    )
    assert replica.raw("MULTI") == b"+OK\r\n"
    assert replica.raw("SET", "k", "v").startswith(b"-READONLY")
    assert replica.raw("EXEC").startswith(b"-EXECABORT")
    replica("CONFIG", "SET", "replica-read-only", "no")
    assert replica("SET", "local", "v") == b"OK"  # local: not passed on
    assert replica("GET", "local") == b"v"
    assert master("GET", "local") is None


def test_stale_data_and_masterdown() -> None:
    sim = Sim()
    master, replica = sim.node(7000), sim.node(7001)
    master("SET", "k", "v")
    sim.attach(replica, master)
    link = sim.link_of(replica)
    assert link is not None
    del sim.nodes[7000]
    link.cut()
    assert replica("GET", "k") == b"v"  # stale data served by default
    replica("CONFIG", "SET", "replica-serve-stale-data", "no")
    masterdown = "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."
    assert replica.harness.error("GET", "k") == masterdown
    assert replica("INFO", "replication").startswith(b"# Replication")  # stale commands run
    info_down = info(replica)
    assert info_down["master_link_status"] == "down"
    assert info_down["master_link_down_since_seconds"] == "0"


def test_replicaof_errors_and_already_connected() -> None:
    sim = Sim()
    master, replica = sim.node(7000), sim.node(7001)
    assert replica.harness.error("REPLICAOF", "127.0.0.1", "x") == "ERR Invalid master port"
    assert replica.harness.error("REPLICAOF", "127.0.0.1", "70000") == "ERR Invalid master port"
    sim.attach(replica, master)
    assert replica.raw("REPLICAOF", "127.0.0.1", "7000") == (
        b"+OK Already connected to specified master\r\n"
    )
    assert replica.raw("SLAVEOF", "NO", "ONE") == b"+OK\r\n"
    assert replica("ROLE")[0] == b"master"


def test_role_change_unblocks_blocked_clients() -> None:
    sim = Sim()
    node = sim.node(7001)
    other = node.harness.client_harness()
    other.raw("BLPOP", "list", "0")
    assert other.client.blocked is not None
    node("REPLICAOF", "127.0.0.1", "7000")
    assert other.client.blocked is None
    assert b"".join(other.client.out) == (
        b"-UNBLOCKED force unblock from blocking operation, instance state changed "
        b"(master -> replica?)\r\n"
    )


def test_hello_reports_the_role() -> None:
    sim = Sim()
    master, replica = sim.node(7000), sim.node(7001)
    sim.attach(replica, master)
    assert replica("HELLO", "2")[replica("HELLO", "2").index(b"role") + 1] == b"replica"
    reply = master("HELLO", "2")
    assert reply[reply.index(b"role") + 1] == b"master"


def test_connected_clients_leaves_replicas_out() -> None:
    sim = Sim()
    master, replica = sim.node(7000), sim.node(7001)
    sim.attach(replica, master)
    assert b"connected_clients:1\r\n" in master.raw("INFO", "clients")  # ours, not the replica
    assert b"connected_clients:2\r\n" in replica.raw("INFO", "clients")  # ours and the master
    flags = [
        line.split(b"flags=")[1].split(b" ")[0] for line in master("CLIENT", "LIST").splitlines()
    ]
    assert sorted(flags) == [b"N", b"S"]
    flags = [
        line.split(b"flags=")[1].split(b" ")[0] for line in replica("CLIENT", "LIST").splitlines()
    ]
    assert sorted(flags) == [b"M", b"N"]


def test_disk_loading_replica_keeps_the_snapshot_as_its_rdb_file() -> None:
    sim = Sim()
    master, replica = sim.node(7000), sim.node(7001)
    other = sim.node(7002, repl_diskless_load="swapdb")
    master("SET", "k", "v")
    sim.attach(replica, master)
    sim.attach(other, master)
    path = replica.engine.persistence.rdb_path
    assert replica.storage.files[path].startswith(b"REDIS0010")
    assert b"repl-id" in replica.storage.files[path]
    assert path not in other.storage.files


def test_announced_address_and_priority() -> None:
    sim = Sim()
    master = sim.node(7000)
    replica = sim.node(
        7001, replica_announce_ip="10.1.2.3", replica_announce_port="6390", replica_priority="7"
    )
    sim.attach(replica, master)
    assert info(master)["slave0"].startswith("ip=10.1.2.3,port=6390,state=")
    assert master("ROLE")[2][0][:2] == [b"10.1.2.3", b"6390"]
    assert info(replica)["slave_priority"] == "7"


def test_backlog_is_freed_after_its_ttl_without_replicas() -> None:
    sim = Sim()
    master, replica = sim.node(7000, repl_backlog_ttl="10"), sim.node(7001)
    sim.attach(replica, master)
    first_id = info(master)["master_replid"]
    replica("REPLICAOF", "NO", "ONE")
    sim.pump()
    assert info(master)["connected_slaves"] == "0"
    sim.advance(5_000)
    sim.cron()
    assert info(master)["repl_backlog_active"] == "1"
    sim.advance(6_000)
    sim.cron()
    after = info(master)
    assert after["repl_backlog_active"] == "0"
    assert after["master_replid"] != first_id  # a new history starts with the next backlog


def test_repl_timeout_on_both_sides() -> None:
    sim = Sim()
    master, replica = sim.node(7000, repl_timeout="5"), sim.node(7001, repl_timeout="5")
    sim.attach(replica, master)
    link = sim.link_of(replica)
    assert link is not None
    sim.links.remove(link)  # nothing moves either way any more
    sim.advance(6_000)
    sim.cron()
    assert info(master)["connected_slaves"] == "0"  # no ACK for repl-timeout
    assert replica.repl.state == "connect"  # no data from the master for repl-timeout
    assert replica.repl.cached is not None  # and it will ask to continue


def test_a_blocking_command_from_the_master_does_not_park_its_client() -> None:
    sim = Sim()
    master, replica = sim.node(7000), sim.node(7001)
    sim.attach(replica, master)
    replica.repl.link_input(
        b"*3\r\n$5\r\nBLPOP\r\n$4\r\nnone\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"
    )
    assert replica.repl.master is not None and replica.repl.master.blocked is None
    assert replica("GET", "k") == b"v"
