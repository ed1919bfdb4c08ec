"""CLUSTER commands, ASKING/READONLY/READWRITE and the cluster-mode dispatcher guards,
through the pure engine (tests.support.Harness). Error texts are redis-server 7.0.15's
(tests/compat/test_cluster_diff.py compares them live)."""

from __future__ import annotations

import hiredis
import pytest

from node.cluster import nodes_conf
from node.cluster.state import TODO_SAVE_CONFIG, ClusterNode, NodeFlag
from node.proto.slots import key_slot
from tests.cluster.support import cluster_harness, cluster_of, settle
from tests.support import Harness

B = "b" * 40
X = "0123456789012345678901234567890123456789"
FOO, BAR = key_slot(b"foo"), key_slot(b"bar")


def add_node(
    h: Harness, name: str = B, port: int = 7001, flags: NodeFlag = NodeFlag.MASTER
) -> ClusterNode:
    """A node learned (as the bus would) at 127.0.0.1:<port>."""
    node = ClusterNode(
        name, flags, h.engine.now_ms, ip="127.0.0.1", port=port, cport=port + 10000, link=True
    )
    cluster_of(h).state.add_node(node)
    return node


def give(h: Harness, slot: int, node: ClusterNode) -> None:
    cluster_of(h).state.set_slot_owner(slot, node)


# --- without cluster support -------------------------------------------------------------------
@pytest.mark.parametrize(
    "args",
    [
        ("CLUSTER", "INFO"),
        ("CLUSTER", "HELP"),
        ("CLUSTER", "KEYSLOT", "x"),
        ("ASKING",),
        ("READONLY",),
        ("READWRITE",),
        ("CLUSTER", "ADDSLOTS", "1"),
    ],
)
def test_disabled_without_cluster_mode(args: tuple[str, ...]) -> None:
    assert Harness().error(*args) == "ERR This instance has cluster support disabled"


def test_dispatcher_checks_come_first_without_cluster_mode() -> None:
    h = Harness()
    assert h.error("CLUSTER", "nosuch") == ("ERR unknown subcommand 'nosuch'. Try CLUSTER HELP.")
    assert h.error("CLUSTER", "KEYSLOT") == (
        "ERR wrong number of arguments for 'cluster|keyslot' command"
    )


# --- a fresh node --------------------------------------------------------------------------------
def test_fresh_node_describes_itself() -> None:
    h = cluster_harness(all_slots=False)
    myid = h("CLUSTER", "MYID").decode()
    assert len(myid) == 40 and h("CLUSTER", "MYSHARDID") != myid.encode()
    assert h.raw("CLUSTER", "NODES") == (
        f"$85\r\n{myid} :6379@16379 myself,master - 0 0 0 connected\n\r\n".encode()
    )
    info = h("CLUSTER", "INFO").decode()
    assert info.startswith("cluster_state:fail\r\ncluster_slots_assigned:0\r\n")
    assert "cluster_known_nodes:1\r\ncluster_size:0\r\n" in info
    assert h.raw("CLUSTER", "SLOTS") == b"*0\r\n"
    assert h("CLUSTER", "LINKS") == [] and h("CLUSTER", "REPLICAS", myid) == []
    assert h("CLUSTER", "COUNT-FAILURE-REPORTS", myid) == 0


def test_resp3_nodes_and_info_are_verbatim() -> None:
    h = cluster_harness(resp=3, all_slots=False)
    assert h.raw("CLUSTER", "NODES").startswith(b"=89\r\ntxt:")
    info = h.raw("CLUSTER", "INFO")
    assert info.startswith(b"=%d\r\ntxt:cluster_state:fail\r\n" % (len(info) - 8))


def test_announced_address_and_ports_come_from_the_config() -> None:
    h = cluster_harness(
        all_slots=False,
        port="7000",
        cluster_announce_ip="10.0.0.1",
        cluster_announce_hostname="n1",
        cluster_port="7100",
    )
    assert b" 10.0.0.1:7000@7100,n1 myself,master " in h("CLUSTER", "NODES")
    h("CONFIG", "SET", "cluster-announce-port", "8000")
    h("CONFIG", "SET", "cluster-announce-bus-port", "9000")
    assert b" 10.0.0.1:8000@9000,n1 " in h("CLUSTER", "NODES")


def test_help_lists_every_subcommand() -> None:
    lines = cluster_harness()("CLUSTER", "help")
    assert lines[0] == b"CLUSTER <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    assert lines[-2:] == [b"HELP", b"    Prints this help."] and len(lines) == 56


# --- slots -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("ADDSLOTS", "abc"), "ERR Invalid or out of range slot"),
        (("ADDSLOTS", "16384"), "ERR Invalid or out of range slot"),
        (("ADDSLOTS", "-1"), "ERR Invalid or out of range slot"),
        (("ADDSLOTS", "4", "5", "4"), "ERR Slot 4 specified multiple times"),
        (("ADDSLOTS", "7", "x"), "ERR Invalid or out of range slot"),
        (("ADDSLOTS", "3"), "ERR Slot 3 is already busy"),
        (
            ("ADDSLOTSRANGE", "5"),
            "ERR wrong number of arguments for 'cluster|addslotsrange' command",
        ),
        (
            ("ADDSLOTSRANGE", "5", "6", "7"),
            "ERR wrong number of arguments for 'cluster|addslotsrange' command",
        ),
        (
            ("ADDSLOTSRANGE", "10", "5"),
            "ERR start slot number 10 is greater than end slot number 5",
        ),
        (("ADDSLOTSRANGE", "5", "10", "8", "12"), "ERR Slot 8 specified multiple times"),
        (("ADDSLOTSRANGE", "1", "10"), "ERR Slot 1 is already busy"),
        (("DELSLOTS", "100"), "ERR Slot 100 is already unassigned"),
        (("DELSLOTS", "3", "3"), "ERR Slot 3 specified multiple times"),
        (("DELSLOTSRANGE", "3", "4"), "ERR Slot 4 is already unassigned"),
        (("DELSLOTSRANGE", "2", "3", "3", "3"), "ERR Slot 3 specified multiple times"),
    ],
)
def test_slot_assignment_errors(args: tuple[str, ...], error: str) -> None:
    h = cluster_harness(all_slots=False)
    assert h("CLUSTER", "ADDSLOTS", "1", "2", "3") == b"OK"
    assert h.error("CLUSTER", *args) == error
    assert cluster_of(h).state.myself.numslots == 3  # nothing changed


def test_slot_assignment_shows_in_nodes_slots_and_info() -> None:
    h = cluster_harness(all_slots=False)
    myid = h("CLUSTER", "MYID").decode()
    assert h("CLUSTER", "ADDSLOTS", "1", "2", "3") == b"OK"
    assert h("CLUSTER", "ADDSLOTSRANGE", "5", "10", "11", "12") == b"OK"
    assert h("CLUSTER", "DELSLOTSRANGE", "10", "12") == b"OK"
    assert h("CLUSTER", "NODES").decode().endswith(" connected 1-3 5-9\n")
    assert h("CLUSTER", "SLOTS") == [
        [1, 3, [b"", 6379, myid.encode(), []]],
        [5, 9, [b"", 6379, myid.encode(), []]],
    ]
    h.engine.before_sleep()
    assert "cluster_slots_assigned:8\r\n" in h("CLUSTER", "INFO").decode()
    assert h("CLUSTER", "DELSLOTS", "1", "2") == b"OK"
    assert h("CLUSTER", "FLUSHSLOTS") == b"OK"
    assert cluster_of(h).state.myself.numslots == 0


def test_flushslots_and_reset_refuse_a_master_holding_keys() -> None:
    h = cluster_harness()
    h("SET", "foo", "1")
    assert h.error("CLUSTER", "FLUSHSLOTS") == "ERR DB must be empty to perform CLUSTER FLUSHSLOTS."
    assert h.error("CLUSTER", "RESET") == (
        "ERR CLUSTER RESET can't be called with master nodes containing keys"
    )


def test_keyslot_and_the_per_slot_key_index() -> None:
    h = cluster_harness()
    assert h("CLUSTER", "KEYSLOT", "{user1000}.following") == 3443
    for key in ("a", "{a}1", "{a}2", "{a}3", "b"):
        h("SET", key, "1")
    slot = key_slot(b"a")
    assert h("CLUSTER", "COUNTKEYSINSLOT", slot) == 4
    assert h("CLUSTER", "GETKEYSINSLOT", slot, 10) == [b"{a}3", b"{a}2", b"{a}1", b"a"]
    assert h("CLUSTER", "GETKEYSINSLOT", slot, 2) == [b"{a}3", b"{a}2"]
    h("DEL", "{a}2")
    h("SET", "{a}2", "x")
    h("SET", "{a}1", "y")  # an overwrite keeps its place
    assert h("CLUSTER", "GETKEYSINSLOT", slot, 10) == [b"{a}2", b"{a}3", b"{a}1", b"a"]
    h("PEXPIRE", "a", 10)
    h.advance(20)
    assert h("CLUSTER", "COUNTKEYSINSLOT", slot) == 4  # expired but not yet deleted counts
    assert h("GET", "a") is None
    assert h("CLUSTER", "COUNTKEYSINSLOT", slot) == 3
    h("RENAME", "{a}1", "{a}9")
    assert h("CLUSTER", "GETKEYSINSLOT", slot, 1) == [b"{a}9"]
    h("FLUSHALL")
    assert h("CLUSTER", "COUNTKEYSINSLOT", slot) == 0
    assert h("CLUSTER", "GETKEYSINSLOT", slot, 0) == []


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("COUNTKEYSINSLOT", "16384"), "ERR Invalid slot"),
        (("COUNTKEYSINSLOT", "-1"), "ERR Invalid slot"),
        (("COUNTKEYSINSLOT", "x"), "ERR value is not an integer or out of range"),
        (("GETKEYSINSLOT", "5", "-1"), "ERR Invalid slot or number of keys"),
        (("GETKEYSINSLOT", "16384", "1"), "ERR Invalid slot or number of keys"),
        (("GETKEYSINSLOT", "x", "1"), "ERR value is not an integer or out of range"),
        (("GETKEYSINSLOT", "1", "x"), "ERR value is not an integer or out of range"),
    ],
)
def test_slot_key_query_errors(args: tuple[str, ...], error: str) -> None:
    assert cluster_harness().error("CLUSTER", *args) == error


def test_slot_index_follows_a_dataset_swapped_in_wholesale() -> None:
    h = cluster_harness()
    h("SET", "foo", "1")
    db = h.engine.keyspace.dbs[0]
    db.data = {b"bar": b"1", b"{bar}x": b"2"}  # as a full resync installs its snapshot
    assert h("CLUSTER", "COUNTKEYSINSLOT", BAR) == 2
    assert h("CLUSTER", "COUNTKEYSINSLOT", FOO) == 0


# --- SETSLOT -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("1", "x"), "ERR Invalid CLUSTER SETSLOT action or number of arguments. Try CLUSTER HELP"),
        (("x", "stable"), "ERR Invalid or out of range slot"),
        (("16384", "stable"), "ERR Invalid or out of range slot"),
        (
            ("1", "stable", "x"),
            "ERR Invalid CLUSTER SETSLOT action or number of arguments. Try CLUSTER HELP",
        ),
        (
            ("1", "migrating"),
            "ERR Invalid CLUSTER SETSLOT action or number of arguments. Try CLUSTER HELP",
        ),
        (("1", "migrating", X), f"ERR I don't know about node {X}"),
        (("100", "migrating", X), "ERR I'm not the owner of hash slot 100"),
        (("1", "importing", X), "ERR I'm already the owner of hash slot 1"),
        (("100", "importing", X), f"ERR I don't know about node {X}"),
        (("1", "node", X), f"ERR Unknown node {X}"),
        (
            ("1", "node"),
            "ERR Invalid CLUSTER SETSLOT action or number of arguments. Try CLUSTER HELP",
        ),
        (
            ("1", "foo", "bar"),
            "ERR Invalid CLUSTER SETSLOT action or number of arguments. Try CLUSTER HELP",
        ),
    ],
)
def test_setslot_errors(args: tuple[str, ...], error: str) -> None:
    h = cluster_harness(all_slots=False)
    h("CLUSTER", "ADDSLOTS", "1", "2")
    assert h.error("CLUSTER", "SETSLOT", *args) == error


def test_setslot_targets_must_be_masters_and_setslot_needs_a_master() -> None:
    h = cluster_harness(all_slots=False)
    h("CLUSTER", "ADDSLOTS", "1")
    master = add_node(h)
    replica = add_node(h, "c" * 40, 7002, NodeFlag.SLAVE)
    cluster_of(h).state.attach_replica(master, replica)
    for action in ("migrating", "node"):
        assert h.error("CLUSTER", "SETSLOT", "1", action, "c" * 40) == (
            "ERR Target node is not a master"
        )
    assert h.error("CLUSTER", "SETSLOT", "2", "importing", "c" * 40) == (
        "ERR Target node is not a master"
    )
    cluster_of(h).state.set_replica_of(cluster_of(h).state.myself, master)
    assert h.error("CLUSTER", "SETSLOT", "1", "stable") == (
        "ERR Please use SETSLOT only with masters."
    )


def test_migration_marks_show_in_nodes_and_stable_clears_them() -> None:
    h = cluster_harness(all_slots=False)
    h("CLUSTER", "ADDSLOTSRANGE", "0", "100")
    add_node(h)
    assert h("CLUSTER", "SETSLOT", "5", "MIGRATING", B) == b"OK"
    assert h("CLUSTER", "SETSLOT", "300", "importing", B) == b"OK"
    line = h("CLUSTER", "NODES").decode().splitlines()[0]
    assert line.endswith(f" connected 0-100 [5->-{B}] [300-<-{B}]")
    assert h("CLUSTER", "SETSLOT", "5", "stable") == b"OK"
    assert h("CLUSTER", "SETSLOT", "300", "STABLE") == b"OK"
    assert h("CLUSTER", "NODES").decode().splitlines()[0].endswith(" connected 0-100")


def test_setslot_node_moves_a_slot_away_only_without_keys() -> None:
    h = cluster_harness(all_slots=False)
    h("CLUSTER", "ADDSLOTSRANGE", "0", "16383")
    b = add_node(h)
    settle(h)
    h("SET", "foo", "1")
    h("CLUSTER", "SETSLOT", FOO, "MIGRATING", B)
    assert h.error("CLUSTER", "SETSLOT", FOO, "NODE", B) == (
        f"ERR Can't assign hashslot {FOO} to a different node while I still hold keys for "
        f"this hash slot."
    )
    h("DEL", "foo")
    assert h("CLUSTER", "SETSLOT", FOO, "NODE", B) == b"OK"
    state = cluster_of(h).state
    assert state.slots[FOO] is b and FOO not in state.migrating
    assert h.error("GET", "foo") == f"MOVED {FOO} 127.0.0.1:7001"


def test_setslot_node_closing_an_import_bumps_my_epoch() -> None:
    h = cluster_harness(all_slots=False)
    b = add_node(h)
    b.config_epoch = cluster_of(h).state.current_epoch = 3
    give(h, 100, b)
    h("CLUSTER", "SETSLOT", "100", "IMPORTING", B)
    myid = h("CLUSTER", "MYID").decode()
    assert h("CLUSTER", "SETSLOT", "100", "NODE", myid) == b"OK"
    state = cluster_of(h).state
    assert state.slots[100] is state.myself and not state.importing
    assert state.myself.config_epoch == 4 == state.current_epoch


def test_a_master_that_gives_away_its_last_slot_follows_the_new_owner() -> None:
    h = cluster_harness(all_slots=False)
    h("CLUSTER", "ADDSLOTS", "7")
    b = add_node(h)
    assert h("CLUSTER", "SETSLOT", "7", "NODE", B) == b"OK"
    myself = cluster_of(h).state.myself
    assert myself.flags & NodeFlag.SLAVE and myself.master is b
    assert h.engine.replication.master_host == "127.0.0.1"
    assert h.engine.replication.master_port == 7001


# --- epochs -------------------------------------------------------------------------------------------
def test_bumpepoch_and_set_config_epoch() -> None:
    h = cluster_harness(all_slots=False)
    assert h.error("CLUSTER", "SET-CONFIG-EPOCH", "-1") == "ERR Invalid config epoch specified: -1"
    assert h.error("CLUSTER", "SET-CONFIG-EPOCH", "x") == (
        "ERR value is not an integer or out of range"
    )
    assert h("CLUSTER", "SET-CONFIG-EPOCH", "5") == b"OK"
    assert (
        h.error("CLUSTER", "SET-CONFIG-EPOCH", "6") == "ERR Node config epoch is already non-zero"
    )
    assert h.raw("CLUSTER", "BUMPEPOCH") == b"+STILL 5\r\n"
    add_node(h).config_epoch = 5  # a collision: the bus resolves those, BUMPEPOCH does not
    assert h.raw("CLUSTER", "BUMPEPOCH") == b"+STILL 5\r\n"
    add_node(h, "c" * 40, 7002).config_epoch = cluster_of(h).state.current_epoch = 6
    assert h.raw("CLUSTER", "BUMPEPOCH") == b"+BUMPED 7\r\n"
    assert "cluster_current_epoch:7\r\ncluster_my_epoch:7\r\n" in h("CLUSTER", "INFO").decode()


def test_set_config_epoch_needs_a_lonely_node() -> None:
    h = cluster_harness(all_slots=False)
    add_node(h)
    assert h.error("CLUSTER", "SET-CONFIG-EPOCH", "1") == (
        "ERR The user can assign a config epoch only when the node does not know any other node."
    )


# --- the node table ----------------------------------------------------------------------------------
def test_node_table_errors() -> None:
    h = cluster_harness(all_slots=False)
    myid = h("CLUSTER", "MYID").decode()
    for sub in ("REPLICAS", "SLAVES", "FORGET", "REPLICATE", "COUNT-FAILURE-REPORTS"):
        assert h.error("CLUSTER", sub, X) == f"ERR Unknown node {X}"
    assert h.error("CLUSTER", "FORGET", myid) == "ERR I tried hard but I can't forget myself..."
    assert h.error("CLUSTER", "REPLICATE", myid) == "ERR Can't replicate myself"
    assert h.error("CLUSTER", "FAILOVER") == "ERR You should send CLUSTER FAILOVER to a replica"
    assert h.error("CLUSTER", "FAILOVER", "foo") == "ERR syntax error"
    assert h.error("CLUSTER", "FAILOVER", "force", "x") == (
        "ERR unknown subcommand or wrong number of arguments for 'FAILOVER'. Try CLUSTER HELP."
    )
    assert h.error("CLUSTER", "reset", "hard", "x") == (
        "ERR unknown subcommand or wrong number of arguments for 'reset'. Try CLUSTER HELP."
    )
    assert h.error("CLUSTER", "RESET", "foo") == "ERR syntax error"


def test_replicate_and_the_replica_view() -> None:
    h = cluster_harness(all_slots=False)
    master = add_node(h)
    give(h, 50, master)
    other = add_node(h, "c" * 40, 7002, NodeFlag.SLAVE)
    cluster_of(h).state.attach_replica(master, other)
    assert h.error("CLUSTER", "REPLICATE", "c" * 40) == (
        "ERR I can only replicate a master, not a replica."
    )
    h("CLUSTER", "ADDSLOTS", "1")
    assert h.error("CLUSTER", "REPLICATE", B) == (
        "ERR To set a master the node must be empty and without assigned slots."
    )
    h("CLUSTER", "DELSLOTS", "1")
    assert h("CLUSTER", "REPLICATE", B) == b"OK"
    myid = h("CLUSTER", "MYID").decode()
    lines = h("CLUSTER", "REPLICAS", B)
    assert [line.split()[0].decode() for line in lines] == ["c" * 40, myid]
    assert all(line.split()[3] == B.encode() for line in lines)
    assert h.error("CLUSTER", "SLAVES", myid) == "ERR The specified node is not a master"
    assert h.error("CLUSTER", "FORGET", B) == "ERR Can't forget my master!"
    assert h("CLUSTER", "FAILOVER") == b"OK"  # its master is up: handed to the bus
    master.link = False
    assert h.error("CLUSTER", "FAILOVER") == (
        "ERR Master is down or failed, please use CLUSTER FAILOVER FORCE"
    )
    assert h("CLUSTER", "FAILOVER", "FORCE") == b"OK"  # handed to the bus


def test_failover_takeover_claims_the_masters_slots() -> None:
    h = cluster_harness(all_slots=False)
    master = add_node(h)
    master.config_epoch = cluster_of(h).state.current_epoch = 2
    give(h, 50, master)
    h("CLUSTER", "REPLICATE", B)
    assert h("CLUSTER", "FAILOVER", "TAKEOVER") == b"OK"
    state = cluster_of(h).state
    assert state.myself.flags & NodeFlag.MASTER and state.slots[50] is state.myself
    assert state.myself.config_epoch == 3
    assert h.engine.replication.master_host is None


def test_forget_removes_a_node_and_blacklists_it() -> None:
    h = cluster_harness(all_slots=False)
    b = add_node(h)
    give(h, 9, b)
    assert h("CLUSTER", "FORGET", B) == b"OK"
    state = cluster_of(h).state
    assert B not in state.nodes and state.slots[9] is None
    assert state.blacklisted(B, h.engine.now_ms)


def test_meet_records_a_handshake_node_until_it_times_out() -> None:
    h = cluster_harness(all_slots=False, cluster_node_timeout="2000")
    assert h("CLUSTER", "MEET", "127.0.0.1", "7001") == b"OK"
    assert h("CLUSTER", "MEET", "127.0.0.1", "7001") == b"OK"  # already pending
    assert h("CLUSTER", "MEET", "::1", "7002", "17777") == b"OK"
    lines = h("CLUSTER", "NODES").decode().splitlines()
    assert len(lines) == 3
    assert " 127.0.0.1:7001@17001 handshake - 0 0 0 disconnected" in lines[1]
    assert " ::1:7002@17777 handshake - " in lines[2]
    assert h("CLUSTER", "SAVECONFIG") == b"OK"
    files = h.engine.persistence.storage.files  # type: ignore[attr-defined]
    assert files["./nodes.conf"].count(b"\n") == 2  # handshake nodes are not saved
    settle(h, 2001)
    assert len(h("CLUSTER", "NODES").decode().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("1.2.3", "5"), "ERR Invalid node address specified: 1.2.3:5"),
        (("127.0.0.1", "x"), "ERR Invalid TCP base port specified: x"),
        (("127.0.0.1", "70000"), "ERR Invalid node address specified: 127.0.0.1:70000"),
        (("127.0.0.1", "100", "x"), "ERR Invalid TCP bus port specified: x"),
        (("127.0.0.1", "100", "70000"), "ERR Invalid node address specified: 127.0.0.1:100"),
        (("localhost", "100"), "ERR Invalid node address specified: localhost:100"),
        (
            ("127.0.0.1", "1", "2", "3"),
            "ERR unknown subcommand or wrong number of arguments for 'meet'. Try CLUSTER HELP.",
        ),
    ],
)
def test_meet_errors(args: tuple[str, ...], error: str) -> None:
    assert cluster_harness(all_slots=False).error("CLUSTER", "meet", *args) == error


def test_soft_and_hard_reset() -> None:
    h = cluster_harness()
    add_node(h)
    h("CLUSTER", "BUMPEPOCH")
    myid = h("CLUSTER", "MYID")
    assert h("CLUSTER", "RESET") == b"OK"
    state = cluster_of(h).state
    assert len(state.nodes) == 1 and state.myself.numslots == 0
    assert state.myself.config_epoch == 1 and h("CLUSTER", "MYID") == myid
    assert h("CLUSTER", "RESET", "HARD") == b"OK"
    assert h("CLUSTER", "MYID") != myid and state.myself.config_epoch == 0


def test_reset_of_a_replica_flushes_its_data() -> None:
    h = cluster_harness(all_slots=False)
    add_node(h)
    h("CLUSTER", "REPLICATE", B)
    h.engine.keyspace.dbs[0].set_value(b"k", b"v")  # replicated data
    assert h("CLUSTER", "RESET", "SOFT") == b"OK"
    assert cluster_of(h).state.myself.flags & NodeFlag.MASTER
    assert h("DBSIZE") == 0 and h.engine.replication.master_host is None


# --- nodes.conf ----------------------------------------------------------------------------------------
def test_changes_are_saved_before_the_turn_ends_and_load_back() -> None:
    h = cluster_harness(all_slots=False)
    storage = h.engine.persistence.storage
    h("CLUSTER", "ADDSLOTSRANGE", "0", "99")  # saved before its reply
    text = storage.read_file("./nodes.conf")
    assert text is not None and text.endswith(
        b" connected 0-99\nvars currentEpoch 0 lastVoteEpoch 0\n"
    )
    add_node(h).config_epoch = 7  # as the bus would learn it, asking for a save
    cluster_of(h).state.todo |= TODO_SAVE_CONFIG
    h.engine.before_sleep()
    assert storage.read_file("./nodes.conf") != text
    other = Harness(cluster_enabled="yes")
    other.engine.persistence.storage = storage
    assert cluster_of(other).load_config()
    assert other("CLUSTER", "MYID") == h("CLUSTER", "MYID")
    assert cluster_of(other).state.current_epoch == 7
    assert other("CLUSTER", "NODES") == h("CLUSTER", "NODES").replace(
        b" connected\n", b" disconnected\n"
    )


def test_a_corrupted_config_stops_the_start(caplog: pytest.LogCaptureFixture) -> None:
    h = Harness(cluster_enabled="yes")
    h.engine.persistence.storage.files["./nodes.conf"] = b"bogus\n"  # type: ignore[attr-defined]
    assert not cluster_of(h).load_config()
    with pytest.raises(nodes_conf.NodesConfError):
        nodes_conf.load(b"bogus\n", 0, h.engine.rng)


def test_saveconfig_reports_disk_errors() -> None:
    h = cluster_harness(all_slots=False)
    assert h("CLUSTER", "SAVECONFIG") == b"OK"
    h.engine.persistence.storage.fail_writes = True  # type: ignore[attr-defined]
    assert h.error("CLUSTER", "SAVECONFIG") == (
        "ERR error saving the cluster node config: No space left on device"
    )


# --- routing through the dispatcher ---------------------------------------------------------------------
def test_select_only_database_zero() -> None:
    h = cluster_harness()
    assert h("SELECT", "0") == b"OK"
    assert h.error("SELECT", "1") == "ERR SELECT is not allowed in cluster mode"
    assert h.error("SELECT", "100") == "ERR SELECT is not allowed in cluster mode"
    assert h.error("SELECT", "abc") == "ERR value is not an integer or out of range"


def test_cluster_down_until_the_state_is_ok() -> None:
    h = cluster_harness(all_slots=False)
    assert h.error("GET", "foo") == "CLUSTERDOWN Hash slot not served"
    h("CLUSTER", "ADDSLOTSRANGE", "0", "16383")
    h.engine.before_sleep()
    assert h.error("GET", "foo") == "CLUSTERDOWN The cluster is down"
    assert h("PING") == b"PONG" and h("EVAL", "return 1", "0") == 1  # keyless
    settle(h)
    assert h("SET", "foo", "1") == b"OK"


def test_reads_when_down() -> None:
    h = cluster_harness(cluster_allow_reads_when_down="yes")
    cluster_of(h).state.ok = False
    assert h("GET", "foo") is None
    assert h.error("SET", "foo", "1") == (
        "CLUSTERDOWN The cluster is down and only accepts read commands"
    )


def test_moved_crossslot_and_the_hot_path() -> None:
    h = cluster_harness()
    give(h, BAR, add_node(h))
    assert h("SET", "foo", "1") == b"OK"
    assert h.error("GET", "bar") == f"MOVED {BAR} 127.0.0.1:7001"
    assert h.error("MSET", "foo", "1", "{foo}x") == (
        "ERR wrong number of arguments for 'mset' command"
    )
    assert h.error("MGET", "foo", "bar") == "CROSSSLOT Keys in request don't hash to the same slot"
    assert h("MGET", "foo", "{foo}x") == [b"1", None]
    assert h("EXISTS", "foo", "foo") == 2
    assert h.error("EVAL", "return 1", "1", "bar") == f"MOVED {BAR} 127.0.0.1:7001"


def test_ask_and_asking_during_a_migration() -> None:
    h = cluster_harness()
    b = add_node(h)
    h("SET", "{foo}here", "1")
    h("CLUSTER", "SETSLOT", FOO, "MIGRATING", B)
    give(h, BAR, b)
    h("CLUSTER", "SETSLOT", BAR, "IMPORTING", B)
    assert h("GET", "{foo}here") == b"1"
    assert h.error("GET", "foo") == f"ASK {FOO} 127.0.0.1:7001"
    assert h.error("MGET", "foo", "{foo}here") == (
        "TRYAGAIN Multiple keys request during rehashing of slot"
    )
    assert h.error("GET", "bar") == f"MOVED {BAR} 127.0.0.1:7001"
    assert h("ASKING") == b"OK"
    assert h("GET", "bar") is None
    assert h.error("GET", "bar") == f"MOVED {BAR} 127.0.0.1:7001"  # one command only
    h("ASKING")
    assert h.error("MGET", "bar", "{bar}2") == (
        "TRYAGAIN Multiple keys request during rehashing of slot"
    )
    h("ASKING")
    assert h("MGET", "bar", "bar") == [None, None]  # the same key twice is one key
    h("ASKING")
    h("PING")
    assert h.error("GET", "bar") == f"MOVED {BAR} 127.0.0.1:7001"  # any command consumes it
    assert h("RESTORE-ASKING", "bar", "0", h("DUMP", "{foo}here")) == b"OK"


def test_asking_lasts_through_multi_and_redirected_queueing_aborts() -> None:
    h = cluster_harness()
    b = add_node(h)
    give(h, BAR, b)
    h("CLUSTER", "SETSLOT", BAR, "IMPORTING", B)
    h("ASKING")
    h("MULTI")
    assert h("GET", "bar") == b"QUEUED"
    assert h("GET", "bar") == b"QUEUED"
    assert h("EXEC") == [None, None]
    assert h.error("GET", "bar") == f"MOVED {BAR} 127.0.0.1:7001"  # EXEC consumed it
    h("MULTI")
    assert h("ASKING") == b"QUEUED"
    assert h.error("GET", "bar") == f"MOVED {BAR} 127.0.0.1:7001"
    assert h.error("EXEC") == "EXECABORT Transaction discarded because of previous errors."
    h("MULTI")
    h("ASKING")
    h("EXEC")
    assert h.error("GET", "bar") == f"MOVED {BAR} 127.0.0.1:7001"  # ASKING inside EXEC


def test_exec_is_routed_as_a_whole_and_discards_when_redirected() -> None:
    h = cluster_harness()
    b = add_node(h)
    h("MULTI")
    assert h("SET", "bar", "1") == b"QUEUED"
    give(h, BAR, b)  # the slot moves while the transaction is queued
    assert h.error("EXEC") == f"MOVED {BAR} 127.0.0.1:7001"
    assert h.error("EXEC") == "ERR EXEC without MULTI"
    h("MULTI")
    h("GET", "foo")
    h("SET", "{foo}2", "x")
    assert h("EXEC") == [None, b"OK"]


def test_readonly_replica_reads_and_readwrite() -> None:
    h = cluster_harness(all_slots=False)
    master = add_node(h)
    for slot in range(16384):
        give(h, slot, master)
    h("CLUSTER", "REPLICATE", B)
    settle(h)
    moved = f"MOVED {FOO} 127.0.0.1:7001"
    assert h.error("GET", "foo") == moved
    assert h("READONLY") == b"OK"
    assert "r" in h("CLIENT", "INFO").decode().split("flags=")[1].split()[0]
    assert h("GET", "foo") is None
    assert h.error("SET", "foo", "1") == moved
    assert h("READWRITE") == b"OK"
    assert h.error("GET", "foo") == moved
    h("READONLY")
    h("RESET")
    assert h.error("GET", "foo") == moved


def test_readonly_replica_routes_scripts_by_their_declared_flags() -> None:
    """evalGetCommandFlags: a script or function with flags is a write unless it declared
    no-writes; one without a shebang keeps EVAL's own flags (not a write: it runs here)."""
    h = cluster_harness(all_slots=False)
    library = (
        "#!lua name=lib\nredis.register_function('w', function(k) return 1 end)\n"
        "redis.register_function{function_name='r', callback=function(k) return 2 "
        "end, flags={'no-writes'}}"
    )
    assert h("FUNCTION", "LOAD", library) == b"lib"  # loaded while still a master
    master = add_node(h)
    for slot in range(16384):
        give(h, slot, master)
    h("CLUSTER", "REPLICATE", B)
    settle(h)
    h("READONLY")
    moved = f"MOVED {FOO} 127.0.0.1:7001"
    read = "return redis.call('get', KEYS[1])"
    assert h("EVAL", read, "1", "foo") is None
    assert h.error("EVAL", "#!lua\n" + read, "1", "foo") == moved
    assert h("EVAL", "#!lua flags=no-writes\n" + read, "1", "foo") is None
    assert h.error("EVAL_RO", "#!lua\n" + read, "1", "foo") == moved
    sha = h("SCRIPT", "LOAD", "#!lua\n" + read).decode()
    assert h.error("EVALSHA", sha, "1", "foo") == moved
    h("MULTI")
    assert h.error("EVAL", "#!lua\n" + read, "1", "foo") == moved  # routed when queued
    assert h.error("EXEC").startswith("EXECABORT")
    assert h.error("FCALL", "w", "1", "foo") == moved
    assert h("FCALL_RO", "r", "1", "foo") == 2


def test_scripts_stay_on_local_keys_of_one_slot() -> None:
    h = cluster_harness()
    give(h, BAR, add_node(h))
    call = 'return redis.call("get", KEYS[1])'
    assert h("EVAL", call, "1", "foo") is None
    assert h.error("EVAL", 'return redis.call("get", "bar")', "0").startswith(
        "ERR Script attempted to access a non local key in a cluster node script: "
    )
    assert h.error("EVAL", 'return redis.pcall("get", "bar")', "0") == (
        "ERR Script attempted to access a non local key in a cluster node"
    )
    two = 'redis.call("get", "foo") return redis.call("get", "a")'
    assert h("EVAL", two, "0") is None  # no shebang: cross-slot allowed
    assert h.error("EVAL", "#!lua\n" + two, "0").startswith(
        "ERR Script attempted to access keys that do not hash to the same slot script: "
    )
    assert h.error("EVAL", "#!lua\nreturn redis.call('get', 'a')", "1", "foo").startswith(
        "ERR Script attempted to access keys that do not hash to the same slot"
    )
    assert h("EVAL", "#!lua flags=allow-cross-slot-keys\n" + two, "0") is None


def test_blocked_clients_are_redirected_when_their_slot_moves() -> None:
    h = cluster_harness()
    b = add_node(h)
    waiter = h.client_harness()
    assert waiter.raw("BLPOP", "foo", "0") == b""
    assert waiter.client.blocked is not None
    give(h, FOO, b)
    settle(h, 200)
    assert waiter.client.blocked is None
    assert waiter.client.out == [f"-MOVED {FOO} 127.0.0.1:7001\r\n".encode()]
    other = h.client_harness()
    assert other.raw("BLPOP", "{bar}x", "0") == b""
    h("CLUSTER", "DELSLOTS", "0")  # not covered any more: the cluster fails
    settle(h, 200)
    assert other.client.out == [b"-CLUSTERDOWN The cluster is down\r\n"]


def test_shard_channels_follow_slots() -> None:
    h = cluster_harness()
    give(h, BAR, add_node(h))
    assert h.error("SPUBLISH", "bar", "m") == f"MOVED {BAR} 127.0.0.1:7001"
    assert h.error("SSUBSCRIBE", "foo", "bar") == (
        "CROSSSLOT Keys in request don't hash to the same slot"
    )
    sub = h.client_harness(resp=3)
    assert sub.raw("SSUBSCRIBE", "foo", "{foo}2").startswith(
        b">3\r\n$10\r\nssubscribe\r\n$3\r\nfoo\r\n:1\r\n"
    )
    assert h("SPUBLISH", "foo", "m") == 1
    sub.client.out.clear()
    assert h("CLUSTER", "DELSLOTS", FOO) == b"OK"
    assert sub.client.out == [
        b">3\r\n$12\r\nsunsubscribe\r\n$3\r\nfoo\r\n:1\r\n",
        b">3\r\n$12\r\nsunsubscribe\r\n$6\r\n{foo}2\r\n:0\r\n",
    ]
    assert not sub.client.pubsub_mode


def test_command_metadata_of_the_cluster_family() -> None:
    h = Harness()
    info = h("COMMAND", "INFO", "restore-asking", "migrate", "asking")
    assert info[0][2] == [b"write", b"denyoom", b"asking"]
    assert info[1][2] == [b"write", b"movablekeys"]
    assert h(
        "COMMAND", "GETKEYS", "MIGRATE", "h", "1", "", "0", "5", "AUTH", "p", "KEYS", "a", "b"
    ) == [b"a", b"b"]
    assert h("COMMAND", "GETKEYS", "MIGRATE", "h", "1", "k", "0", "5") == [b"k"]
    assert isinstance(
        h("COMMAND", "GETKEYS", "MIGRATE", "h", "1", "k", "0", "5", "KEYS", "a"), hiredis.ReplyError
    )


def test_a_lost_slots_keys_can_be_dropped() -> None:
    h = cluster_harness()
    h.engine.want_propagation("test", True)
    for key in ("foo", "{foo}2", "bar"):
        h("SET", key, "1")
    h.engine.propagated.clear()
    assert cluster_of(h).delete_slot_keys(FOO) == 2
    assert h("DBSIZE") == 1 and h("CLUSTER", "COUNTKEYSINSLOT", FOO) == 0
    assert h.engine.propagated == [(0, [b"DEL", b"foo"]), (0, [b"DEL", b"{foo}2"])]


def test_sort_patterns_are_refused_in_cluster_mode() -> None:
    h = cluster_harness()
    h("RPUSH", "l", "2", "1")
    assert h.error("SORT", "l", "BY", "w_*") == "ERR BY option of SORT denied in Cluster mode."
    assert h.error("SORT_RO", "l", "GET", "h_*") == (
        "ERR GET option of SORT denied in Cluster mode."
    )
    assert h.error("SORT", "l", "GET", "#") == "ERR GET option of SORT denied in Cluster mode."
    assert h("SORT", "l", "BY", "nosort") == [b"2", b"1"]
    assert h.error("SORT", "l", "bad", "BY", "w_*") == "ERR syntax error"
