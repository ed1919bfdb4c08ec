"""Byte formats of CLUSTER NODES/INFO/SLOTS/SHARDS/REPLICAS (node/cluster/describe.py), as
a real redis-server 7.0.15 printed them for the same states (see tests/compat for the live
comparison)."""

from __future__ import annotations

from node.cluster import describe
from node.cluster.state import ClusterNode, ClusterState, NodeFlag
from node.proto import resp

ME = "8ca6bdc344916d3750ccb0279426474718313512"
B = "2b2d92ae75c55e7b0ff8a50647941b3b1cc5e54f"
C = "c" * 40


def state_of(ip: str = "", port: int = 16430) -> ClusterState:
    return ClusterState(ClusterNode(ME, NodeFlag.MASTER, ip=ip, port=port, cport=port + 10000))


def two_nodes() -> tuple[ClusterState, ClusterNode]:
    state = state_of("127.0.0.1")
    b = ClusterNode(
        B,
        NodeFlag.MASTER,
        ip="127.0.0.1",
        port=16431,
        cport=26431,
        pong_received=1795720896219,
        config_epoch=1,
        link=True,
    )
    state.add_node(b)
    for slot in range(101):
        state.add_slot(slot, state.myself)
    for slot in (200, 201, 202):
        state.add_slot(slot, b)
    return state, b


def test_fresh_node_line_has_an_empty_ip_and_no_slots() -> None:
    assert describe.nodes_text(state_of()) == (
        f"{ME} :16430@26430 myself,master - 0 0 0 connected\n".encode()
    )


def test_nodes_lines_with_open_slots_in_slot_order() -> None:
    state, b = two_nodes()
    state.migrating[5] = b
    for slot in (300, 201, 205):
        state.importing[slot] = b
    assert (
        describe.nodes_text(state)
        == (
            f"{ME} 127.0.0.1:16430@26430 myself,master - 0 0 0 connected 0-100 [5->-{B}] "
            f"[201-<-{B}] [205-<-{B}] [300-<-{B}]\n"
            f"{B} 127.0.0.1:16431@26431 master - 0 1795720896219 1 connected 200-202\n"
        ).encode()
    )


def test_flags_order_and_noflags() -> None:
    every = (
        NodeFlag.NOFAILOVER
        | NodeFlag.NOADDR
        | NodeFlag.HANDSHAKE
        | NodeFlag.FAIL
        | NodeFlag.PFAIL
        | NodeFlag.SLAVE
        | NodeFlag.MASTER
        | NodeFlag.MYSELF
        | NodeFlag.MEET
    )
    assert describe.flags_text(every) == (
        "myself,master,slave,fail?,fail,handshake,noaddr,nofailover"
    )
    assert describe.flags_text(NodeFlag.MEET) == "noflags"


def test_replica_line_shows_master_and_its_epoch_and_hostname() -> None:
    state, b = two_nodes()
    replica = ClusterNode(
        C, NodeFlag.SLAVE, ip="::1", port=7002, cport=17002, hostname="host-c", ping_sent=5
    )
    state.add_node(replica)
    state.attach_replica(b, replica)
    assert describe.node_line(state, replica) == (
        f"{C} ::1:7002@17002,host-c slave {B} 5 0 1 disconnected"
    )
    assert describe.replicas_reply(state, b) == resp.bulk_array(
        [describe.node_line(state, replica).encode()]
    )


def test_info_counts_slots_by_owner_health() -> None:
    state, b = two_nodes()
    b.flags |= NodeFlag.PFAIL
    state.current_epoch = 3
    state.stats_sent[1] = 4  # pong
    state.stats_received[0] = 2  # ping
    state.stats_received[10] = 1  # publishshard
    assert describe.info_text(state) == (
        b"cluster_state:fail\r\ncluster_slots_assigned:104\r\ncluster_slots_ok:101\r\n"
        b"cluster_slots_pfail:3\r\ncluster_slots_fail:0\r\ncluster_known_nodes:2\r\n"
        b"cluster_size:1\r\ncluster_current_epoch:3\r\ncluster_my_epoch:0\r\n"
        b"cluster_stats_messages_pong_sent:4\r\ncluster_stats_messages_sent:4\r\n"
        b"cluster_stats_messages_ping_received:2\r\n"
        b"cluster_stats_messages_publishshard_received:1\r\n"
        b"cluster_stats_messages_received:3\r\ntotal_cluster_links_buffer_limit_exceeded:0\r\n"
    )


def test_slots_of_a_single_node_in_both_protocols() -> None:
    state = state_of()
    for slot in range(16384):
        state.add_slot(slot, state.myself)
    entry = f"*3\r\n:0\r\n:16383\r\n*4\r\n$0\r\n\r\n:16430\r\n$40\r\n{ME}\r\n".encode()
    assert describe.slots_reply(state, 2, "ip", 0) == b"*1\r\n" + entry + b"*0\r\n"
    assert describe.slots_reply(state, 3, "ip", 0) == b"*1\r\n" + entry + b"%0\r\n"


def test_slots_lists_synced_replicas_and_endpoint_metadata() -> None:
    state, b = two_nodes()
    b.hostname = "hb"
    synced = ClusterNode(C, NodeFlag.SLAVE, ip="127.0.0.2", port=7, repl_offset=10)
    loading = ClusterNode("d" * 40, NodeFlag.SLAVE, ip="127.0.0.3", port=8)
    for replica in (synced, loading):
        state.add_node(replica)
        state.attach_replica(b, replica)
    reply = describe.slots_reply(state, 2, "ip", 0)
    assert b"127.0.0.2" in reply and b"127.0.0.3" not in reply  # only synced replicas
    assert b"$8\r\nhostname\r\n$2\r\nhb\r\n" in reply
    by_host = describe.slots_reply(state, 2, "hostname", 0)
    assert b"$1\r\n?\r\n" in by_host and b"$2\r\nip\r\n$9\r\n127.0.0.1\r\n" in by_host
    assert b"$-1\r\n" in describe.slots_reply(state, 2, "unknown-endpoint", 0)


def test_shards_of_a_single_node_in_both_protocols() -> None:
    state = state_of()
    for slot in range(16384):
        state.add_slot(slot, state.myself)
    fields = (
        f"$2\r\nid\r\n$40\r\n{ME}\r\n$4\r\nport\r\n:16430\r\n$2\r\nip\r\n$0\r\n\r\n"
        f"$8\r\nendpoint\r\n$0\r\n\r\n$4\r\nrole\r\n$6\r\nmaster\r\n"
        f"$18\r\nreplication-offset\r\n:0\r\n$6\r\nhealth\r\n$6\r\nonline\r\n"
    ).encode()
    head = b"$5\r\nslots\r\n*2\r\n:0\r\n:16383\r\n$5\r\nnodes\r\n*1\r\n"
    assert describe.shards_reply(state, 2, "ip", 0) == b"*1\r\n*4\r\n" + head + b"*14\r\n" + fields
    assert describe.shards_reply(state, 3, "ip", 0) == b"*1\r\n%2\r\n" + head + b"%7\r\n" + fields


def test_shards_health_and_slotless_masters() -> None:
    state, b = two_nodes()
    replica = ClusterNode(C, NodeFlag.SLAVE, ip="127.0.0.2", port=7)
    state.add_node(replica)
    state.attach_replica(b, replica)
    lonely = ClusterNode("d" * 40, NodeFlag.MASTER | NodeFlag.FAIL, ip="127.0.0.4", port=9)
    state.add_node(lonely)
    reply = describe.shards_reply(state, 3, "ip", 0)
    assert reply.startswith(b"*3\r\n")  # three masters, the replica is in b's shard
    assert b"$7\r\nloading\r\n" in reply and b"$4\r\nfail\r\n" in reply
    assert b"$5\r\nslots\r\n*0\r\n" in reply
