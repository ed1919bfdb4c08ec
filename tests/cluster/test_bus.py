"""The cluster bus machine (node/cluster/bus.py), driven message by message over the
in-memory network of tests/cluster/busnet.py: handshakes to a full mesh, gossip, failure
detection, epochs, UPDATE, FORGET, PUBLISH."""

from __future__ import annotations

import random

from node.cluster.codec import CodecError, FrameReader, Message, MsgType, encode
from node.cluster.state import NodeFlag, valid_name
from tests.cluster.busnet import IP, BusNet, SimNode


def formed(n: int) -> BusNet:
    """`n` masters sharing the slots, met and settled: every node knows every other and
    the cluster is up everywhere."""
    net = BusNet(n)
    net.form()
    net.run(6000)
    assert net.full_mesh()
    for node in net.nodes:
        assert node.cluster.state.ok, node.h("CLUSTER", "NODES")
    return net


def info(reply: bytes) -> dict[str, str]:
    """CLUSTER INFO or INFO as a dict (section headers skipped)."""
    return dict(
        line.split(":", 1)
        for line in reply.decode().split("\r\n")
        if line and not line.startswith("#")
    )


def test_meet_starts_a_handshake_shown_in_nodes() -> None:
    net = BusNet(2)
    assert net[0].h("CLUSTER", "MEET", IP, str(net[1].port)) == b"OK"
    lines = net[0].h("CLUSTER", "NODES").decode().splitlines()
    handshake = [line for line in lines if "handshake" in line]
    assert len(handshake) == 1
    assert handshake[0].split()[1:] == [
        f"{IP}:30002@40002",
        "handshake",
        "-",
        "0",
        "0",
        "0",
        "disconnected",
    ]
    # No address of our own until a peer tells us (CLUSTER NODES shows ":port@cport").
    assert " :30001@40001 myself,master" in net[0].h("CLUSTER", "NODES").decode()


def test_handshake_completes_both_ways() -> None:
    net = BusNet(2)
    net[0].h("CLUSTER", "MEET", IP, str(net[1].port))
    net.tick()
    # Node 1 learned its address from the MEET and added node 0 as a handshake node.
    assert net[1].cluster.state.myself.ip == IP
    assert net[0].knows(net[1])
    net.tick()
    assert net[1].knows(net[0])
    assert net[0].cluster.state.myself.ip == IP
    assert net[0].flags(net[1]) == {"master"}
    assert net[1].flags(net[0]) == {"master"}
    sent = info(net[0].h("CLUSTER", "INFO"))
    assert sent["cluster_stats_messages_meet_sent"] == "1"
    assert int(sent["cluster_stats_messages_pong_received"]) >= 1


def test_full_mesh_by_gossip_and_cluster_ok() -> None:
    net = formed(5)
    for node in net.nodes:
        data = info(node.h("CLUSTER", "INFO"))
        assert data["cluster_state"] == "ok"
        assert data["cluster_known_nodes"] == "5"
        assert data["cluster_size"] == "5"
        assert data["cluster_slots_assigned"] == "16384"
    # Every node sees the same slot owners.
    views = [node.h("CLUSTER", "SLOTS") for node in net.nodes]
    assert all(v == views[0] for v in views)


def test_gossip_adds_unknown_nodes_by_name_without_handshake() -> None:
    net = BusNet(3)
    net.split_slots()
    net.meet_all()  # node 0 meets 1 and 2; 1 and 2 only hear of each other
    for _ in range(100):
        net.tick()
        lines = net[1].h("CLUSTER", "NODES").decode().splitlines()
        assert not any("handshake" in line and ":30003@" in line for line in lines)
        if net[1].knows(net[2]):
            break
    assert net[1].knows(net[2]) and net[2].knows(net[1])


def test_links_to_and_from_every_peer() -> None:
    net = formed(3)
    links = net[0].h("CLUSTER", "LINKS")
    assert len(links) == 4
    entries = [dict(zip(e[::2], e[1::2], strict=True)) for e in links]
    assert sorted(e[b"direction"] for e in entries) == [b"from", b"from", b"to", b"to"]
    assert {e[b"node"] for e in entries} == {net[1].name.encode(), net[2].name.encode()}
    assert all(e[b"events"] == b"r" and e[b"send-buffer-used"] == 0 for e in entries)


def test_config_epoch_collision_resolved() -> None:
    net = BusNet(3)
    for node in net.nodes:
        assert node.h("CLUSTER", "SET-CONFIG-EPOCH", "5") == b"OK"
    net.split_slots()
    net.meet_all()
    net.run(8000)
    epochs = sorted(n.cluster.state.myself.config_epoch for n in net.nodes)
    assert len(set(epochs)) == 3
    # The node with the greatest name never had to move.
    top = max(net.nodes, key=lambda n: n.name)
    assert top.cluster.state.myself.config_epoch == 5
    for node in net.nodes:
        assert node.cluster.state.current_epoch == max(epochs)


def test_pfail_then_fail_by_majority_then_cleared() -> None:
    net = formed(4)
    victim = net[3]
    net.stop(3)
    net.run(4000)  # node timeout 2000, then the gossip of the reports
    for node in net.nodes[:3]:
        flags = node.flags(victim)
        assert "fail" in flags, flags
        assert not node.cluster.state.ok
        assert info(node.h("CLUSTER", "INFO"))["cluster_slots_fail"] == "4096"
    assert info(net[0].h("CLUSTER", "INFO"))["cluster_stats_messages_fail_sent"] != "0" or any(
        info(n.h("CLUSTER", "INFO")).get("cluster_stats_messages_fail_sent") for n in net.nodes
    )
    # Back within 2 * node timeout: a master with slots keeps FAIL until then.
    net.start(3)
    net.run(1000)
    assert "fail" in net[0].flags(victim)
    net.run(5000)
    for node in net.nodes[:3]:
        assert node.flags(victim) == {"master"}
        assert node.cluster.state.ok


def test_master_without_slots_fail_cleared_at_once() -> None:
    net = BusNet(4)
    net.split_slots([0, 1, 2])
    net.meet_all()
    net.run(8000)
    assert net.full_mesh()
    net.stop(3)
    net.run(3000)
    assert "fail" in net[0].flags(net[3])
    net.start(3)
    net.run(1000)
    assert net[0].flags(net[3]) == {"master"}


def test_failure_reports_counted_and_expire() -> None:
    net = formed(4)
    net.stop(3)
    net.run(4000)
    reports = [int(n.h("CLUSTER", "COUNT-FAILURE-REPORTS", net[3].name)) for n in net.nodes[:3]]
    assert all(r >= 1 for r in reports), reports
    # Reports are valid 2 * node timeout; past that they are gone.
    node = net[0].cluster.state.lookup(net[3].name)
    assert node is not None
    state = net[0].cluster.state
    assert state.failure_reports(node, net.now + 5000, 2000) == 0


def test_single_master_cannot_fail_a_node_alone() -> None:
    net = BusNet(3)
    net.split_slots()
    net.meet_all()
    net.run(8000)
    # Cut node 2 from node 0 only: node 0 sees PFAIL, but node 1 still reaches node 2.
    net.partition(0, 2)
    net.run(3000)
    assert "fail?" in net[0].flags(net[2])
    assert "fail" not in net[0].flags(net[2])
    assert net[1].flags(net[2]) == {"master"}


def test_slot_moved_with_bumped_epoch_spreads() -> None:
    net = formed(3)
    a, b = net[0], net[1]
    assert b.h("CLUSTER", "SETSLOT", "0", "IMPORTING", a.name) == b"OK"
    assert a.h("CLUSTER", "SETSLOT", "0", "MIGRATING", b.name) == b"OK"
    assert b.h("CLUSTER", "SETSLOT", "0", "NODE", b.name) == b"OK"
    assert a.h("CLUSTER", "SETSLOT", "0", "NODE", b.name) == b"OK"
    net.run(3000)
    for node in net.nodes:
        assert node.cluster.state.slots[0] is node.cluster.state.lookup(b.name) or (
            node is b and node.cluster.state.slots[0] is node.cluster.state.myself
        )


def test_update_message_corrects_a_stale_claim() -> None:
    net = formed(3)
    a, stale = net[0], net[1]
    assert a.h("CLUSTER", "BUMPEPOCH").startswith(b"BUMPED")
    net.run(2000)
    a_state = a.cluster.state
    s_state = stale.cluster.state
    assert s_state.myself.config_epoch < a_state.myself.config_epoch
    # `stale` wrongly claims slot 0 of node 0, whose config epoch it thinks is old.
    a_in_stale = s_state.lookup(a.name)
    assert a_in_stale is not None
    a_in_stale.config_epoch = 0
    s_state.set_slot_owner(0, s_state.myself)
    stale.bus.broadcast_pong()
    net.deliver()
    sent = sum(
        int(info(n.h("CLUSTER", "INFO")).get("cluster_stats_messages_update_sent", "0"))
        for n in net.nodes
    )
    assert sent >= 1
    assert int(info(stale.h("CLUSTER", "INFO"))["cluster_stats_messages_update_received"]) >= 1
    assert s_state.slots[0] is s_state.lookup(a.name)
    assert a_state.slots[0] is a_state.myself
    assert all(n.cluster.state.slots[0] is n.cluster.state.lookup(a.name) for n in net.nodes)


def test_forget_blacklists_for_a_minute() -> None:
    net = formed(3)
    gone = net[2]
    assert net[0].h("CLUSTER", "FORGET", gone.name) == b"OK"
    net.run(10000)
    assert not net[0].knows(gone)
    assert int(info(net[0].h("CLUSTER", "INFO"))["cluster_known_nodes"]) == 2
    net.run(60000)
    assert net[0].knows(gone)


def test_replica_role_spreads() -> None:
    net = BusNet(4)
    net.split_slots([0, 1, 2])
    net.meet_all()
    net.run(8000)
    assert net[3].h("CLUSTER", "REPLICATE", net[0].name) == b"OK"
    net.run(3000)
    for node in net.nodes[:3]:
        line = next(
            line
            for line in node.h("CLUSTER", "NODES").decode().splitlines()
            if line.startswith(net[3].name)
        )
        assert line.split()[2:4] == ["slave", net[0].name]


def test_master_that_lost_all_slots_follows_the_new_owner() -> None:
    net = formed(3)
    a, b = net[0], net[1]
    # b takes every slot of a with a greater epoch (as a failover would).
    b_state = b.cluster.state
    a_in_b = b_state.lookup(a.name)
    assert a_in_b is not None
    for slot in range(16384):
        if b_state.slots[slot] is a_in_b:
            b_state.set_slot_owner(slot, b_state.myself)
    b_state.bump_epoch_without_consensus()
    b.bus.broadcast_pong()
    net.run(3000)
    me = a.cluster.state.myself
    assert me.is_replica and me.master is a.cluster.state.lookup(b.name)
    assert a.cluster.state.myself.numslots == 0


def test_publish_reaches_subscribers_on_every_node() -> None:
    net = formed(3)
    sub = net[2].h.client_harness()
    sub("SUBSCRIBE", "news")
    assert net[0].h("PUBLISH", "news", "hello") == 0  # no local subscriber
    net.deliver()
    assert b"hello" in b"".join(sub.client.out)
    assert info(net[0].h("CLUSTER", "INFO"))["cluster_stats_messages_publish_sent"] == "2"


def test_spublish_stays_in_the_shard() -> None:
    net = BusNet(3)
    net.split_slots([0, 1])
    net.meet_all()
    net.run(8000)
    assert net[2].h("CLUSTER", "REPLICATE", net[0].name) == b"OK"
    net.run(2000)
    channel = next(
        f"ch{i}"
        for i in range(1000)
        if net[0].cluster.state.slots[net[0].h("CLUSTER", "KEYSLOT", f"ch{i}")]
        is net[0].cluster.state.myself
    )
    sub = net[2].h.client_harness()
    sub("SSUBSCRIBE", channel)
    sub.client.out.clear()
    net[0].h("SPUBLISH", channel, "x")
    net.deliver()
    assert b"smessage" in b"".join(sub.client.out)
    stats = info(net[0].h("CLUSTER", "INFO"))
    assert stats["cluster_stats_messages_publishshard_sent"] == "1"  # the replica only


def test_garbage_closes_the_link() -> None:
    net = formed(2)
    bus = net[0].bus
    link = bus.accepted(IP, IP)
    bus.received(link, b"GET / HTTP/1.1\r\n\r\n")
    assert link in bus.closing
    assert link not in bus.all_links()


def test_ping_from_unknown_node_gets_a_pong_but_no_entry() -> None:
    net = formed(2)
    bus = net[0].bus
    stranger = SimNode(9, 30100)
    link = bus.accepted(IP, IP)
    ping = Message(stranger.bus.header(MsgType.PING))
    bus.received(link, encode(ping))
    assert len(net[0].cluster.state.nodes) == 2
    assert link.out  # the PONG
    assert not net[0].cluster.state.lookup(stranger.name)


def test_stuck_link_reconnects_and_node_timeout_flags_pfail() -> None:
    net = formed(3)
    net.partition(0, 2)
    net.run(1500)
    # A ping pending for over node_timeout / 2 with a silent link: the link was reopened.
    node = net[0].cluster.state.lookup(net[2].name)
    assert node is not None and node.ping_sent
    net.run(1000)
    assert node.flags & NodeFlag.PFAIL
    net.heal()
    net.run(2000)
    assert not node.flags & NodeFlag.PFAIL


def test_link_over_the_sendbuf_limit_is_freed() -> None:
    net = formed(2)
    assert net[0].h("CONFIG", "SET", "cluster-link-sendbuf-limit", "1000") == b"OK"
    bus = net[0].bus
    peer = net[0].cluster.state.lookup(net[1].name)
    assert peer is not None
    link = bus.outbound[peer]
    link.out += bytes(2000)  # the peer stopped reading
    bus.cron()
    assert link in bus.closing
    assert info(net[0].h("CLUSTER", "INFO"))["total_cluster_links_buffer_limit_exceeded"] == "1"


def test_malformed_frames_change_nothing_and_close_the_link() -> None:
    """Bus fuzzing: mutated, truncated and invented frames, each on a fresh inbound link.
    Those the codec rejects close their link and change nothing; those that still decode
    (a known sender's name intact: the bus has no authentication) are processed without
    an exception, on another node."""
    net = formed(3)
    before = net[0].h("CLUSTER", "NODES")
    rng = random.Random(7)
    samples = [
        encode(Message(net[1].bus.header(kind), node=net[2].name, channel=b"c", payload=b"p"))
        for kind in MsgType
    ]
    rejected = 0
    for _ in range(10000):  # RELIABILITY.md's bus fuzzing count
        frame = bytearray(rng.choice(samples))
        action = rng.randrange(4)
        if action == 0:
            for _ in range(rng.randrange(1, 8)):
                frame[rng.randrange(len(frame))] = rng.randrange(256)
        elif action == 1:
            frame = frame[: rng.randrange(len(frame))]
        elif action == 2:
            frame[4:8] = rng.randrange(2**32).to_bytes(4, "little")
        else:
            frame = bytearray(rng.randbytes(rng.randrange(1, 200)))
        try:
            complete = FrameReader().feed(bytes(frame))
        except CodecError:
            complete = None
        target = net[0].bus if complete is None else net[2].bus
        link = target.accepted(IP, IP)
        target.received(link, bytes(frame))
        if complete is None:
            rejected += 1
            assert link in target.closing
        target.free(link)
    assert rejected > 3000
    assert net[0].h("CLUSTER", "NODES") == before
    assert all(valid_name(name) for n in net.nodes for name in n.cluster.state.nodes)


def test_info_counts_cluster_links() -> None:
    net = formed(3)
    clients = info(net[0].h("INFO", "clients"))
    assert clients["cluster_connections"] == "4"  # two per other node, as Redis counts
    memory = info(net[0].h("INFO", "memory"))
    assert int(memory["mem_cluster_links"]) >= 4 * 1088


def test_returning_master_follows_its_promoted_replica() -> None:
    """The bus and the failover together: node 3 replaces the stopped node 0; node 0, back,
    sees its slots claimed with a greater epoch and turns into node 3's replica."""
    net = BusNet(4, cluster_replica_validity_factor="0")  # no replication stream here
    net.split_slots([0, 1, 2])
    net.meet_all()
    net.run(6000)
    assert net[3].h("CLUSTER", "REPLICATE", net[0].name) == b"OK"
    net.run(3000)
    net.stop(0)
    net.run(8000)
    for node in net.nodes[1:]:
        state = node.cluster.state
        new = state.lookup(net[3].name)
        assert new is not None and new.is_master and state.slots[0] is new
    net.start(0)
    net.run(5000)
    me = net[0].cluster.state.myself
    assert me.is_replica and me.master is net[0].cluster.state.lookup(net[3].name)
    assert all(node.cluster.state.ok for node in net.nodes)


def test_master_losing_some_slots_drops_their_keys() -> None:
    net = formed(3)
    a, b = net[0], net[1]
    key = next(k for k in (f"k{i}" for i in range(100)) if a.h("CLUSTER", "KEYSLOT", k) < 5461)
    slot = a.h("CLUSTER", "KEYSLOT", key)
    assert a.cluster.state.slots[slot] is a.cluster.state.myself
    assert a.h("SET", key, "bar") == b"OK"
    a.h.engine.propagated.clear()
    # b claims that one slot with a greater epoch (as after a partition a missed).
    b_state = b.cluster.state
    b_state.set_slot_owner(slot, b_state.myself)
    b_state.bump_epoch_without_consensus()
    b.bus.broadcast_pong()
    net.deliver()
    state = a.cluster.state
    assert state.slots[slot] is state.lookup(b.name)
    assert state.myself.is_master and state.myself.numslots == 5460
    assert a.h("DBSIZE") == 0
    assert [b"DEL", key.encode()] in [argv for _, argv in a.h.engine.propagated]


def test_meet_of_a_known_node_ends_with_no_duplicate() -> None:
    net = formed(2)
    assert net[0].h("CLUSTER", "MEET", IP, str(net[1].port)) == b"OK"
    assert len(net[0].cluster.state.nodes) == 3  # the handshake node, for now
    net.run(1000)
    assert set(net[0].cluster.state.nodes) == {net[0].name, net[1].name}
    assert net[0].flags(net[1]) == {"master"}


def test_meet_to_myself_is_dropped() -> None:
    net = formed(2)
    assert net[0].h("CLUSTER", "MEET", IP, str(net[0].port)) == b"OK"
    net.run(1000)
    assert set(net[0].cluster.state.nodes) == {net[0].name, net[1].name}
    assert net[0].cluster.state.myself.ip == IP
