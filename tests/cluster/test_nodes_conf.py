"""nodes.conf text <-> ClusterState (node/cluster/nodes_conf.py)."""

from __future__ import annotations

import random

import pytest

from node.cluster import nodes_conf
from node.cluster.state import ClusterNode, ClusterState, NodeFlag

NOW = 1_700_000_000_000
ME = "8ca6bdc344916d3750ccb0279426474718313512"
B = "2b2d92ae75c55e7b0ff8a50647941b3b1cc5e54f"
C = "c" * 40
REAL = (  # a file written by redis-server 7.0.15 (one node migrating, importing)
    f"{ME} 127.0.0.1:16430@26430 myself,master - 0 0 0 connected 0-100 [5->-{B}] "
    f"[201-<-{B}]\n"
    f"{B} 127.0.0.1:16431@26431 master - 0 1795720896219 1 connected 200-202\n"
    f"vars currentEpoch 1 lastVoteEpoch 0\n"
).encode()


def load(text: bytes, warn: list[str] | None = None) -> ClusterState:
    state = nodes_conf.load(text, NOW, random.Random(1), warn)
    assert state is not None
    return state


def test_a_real_file_loads_and_saves_back_the_same() -> None:
    state = load(REAL)
    assert state.myself.name == ME and len(state.nodes) == 2
    b = state.nodes[B]
    assert state.slot_ranges(state.myself) == [(0, 100)]
    assert state.slot_ranges(b) == [(200, 202)]
    assert state.migrating == {5: b} and state.importing == {201: b}
    assert (state.current_epoch, state.last_vote_epoch) == (1, 0)
    assert b.pong_received == NOW  # only "there was one": times restart at load
    assert not b.link  # no bus link yet
    b.pong_received, b.link = 1795720896219, True
    assert nodes_conf.dump(state) == REAL


def test_empty_file_means_a_fresh_identity() -> None:
    assert nodes_conf.load(b"", NOW, random.Random(1)) is None
    assert nodes_conf.load(b"\n\n", NOW, random.Random(1)) is None


def test_replicas_flags_hostnames_and_old_addresses() -> None:
    text = (
        f"{C} 10.0.0.3:7002,host-c slave,fail?,nofailover {B} 0 0 9 connected\n"
        f"{B} ::1:7001@17001 master,fail - 1 1 3 disconnected 7-9\n"
        f"{ME} :7000@17000 myself,master - 0 0 2 connected\n"
    ).encode()
    state = load(text)
    c, b = state.nodes[C], state.nodes[B]
    assert c.flags == NodeFlag.SLAVE | NodeFlag.PFAIL | NodeFlag.NOFAILOVER
    assert (c.ip, c.port, c.cport, c.hostname) == ("10.0.0.3", 7002, 17002, "host-c")
    assert c.master is b and b.replicas == [c] and c.shard_id == b.shard_id
    assert c.config_epoch == 0 and c.epoch() == 3  # a replica shows its master's epoch
    assert b.flags & NodeFlag.FAIL and b.fail_time == NOW and b.ping_sent == NOW
    assert (b.ip, b.port, b.cport) == ("::1", 7001, 17001)
    assert state.current_epoch == 3  # raised to the greatest config epoch
    assert (
        nodes_conf.dump(state).splitlines()[0]
        == (
            f"{C} 10.0.0.3:7002@17002,host-c slave,fail?,nofailover {B} 0 0 3 disconnected"
        ).encode()
    )


def test_redis_7_2_aux_fields_are_understood() -> None:
    shard = "e" * 40
    state = load(
        f"{ME} 127.0.0.1:7000@17000,,shard-id={shard},nodename=,tcp-port=7000 "
        f"myself,master - 0 0 0 connected\n".encode()
    )
    assert state.myself.hostname == "" and state.myself.shard_id == shard


def test_unknown_vars_are_skipped_with_a_warning() -> None:
    warn: list[str] = []
    state = load(
        f"vars currentEpoch 5 foo 1 lastVoteEpoch 4\n"
        f"{ME} :7000@17000 myself,master - 0 0 0 connected\n".encode(),
        warn,
    )
    assert (state.current_epoch, state.last_vote_epoch) == (5, 4)
    assert warn == ["Skipping unknown cluster config variable 'foo'"]


def test_handshake_nodes_are_not_saved() -> None:
    state = ClusterState(ClusterNode(ME, NodeFlag.MASTER, port=7000, cport=17000))
    state.add_node(ClusterNode(B, NodeFlag.HANDSHAKE | NodeFlag.MEET, ip="127.0.0.1"))
    assert (
        nodes_conf.dump(state)
        == (
            f"{ME} :7000@17000 myself,master - 0 0 0 connected\n"
            f"vars currentEpoch 0 lastVoteEpoch 0\n"
        ).encode()
    )


@pytest.mark.parametrize(
    "text",
    [
        f"{ME} :7000@17000 myself,master - 0 0 0\n",  # 7 fields
        f"{ME} :7000@17000 myself,bogus - 0 0 0 connected\n",
        f"{B} :7000@17000 master - 0 0 0 connected\n",  # nobody is myself
        f"{ME} :7000@17000 myself - 0 0 0 connected\n{B} :1@2 myself - 0 0 0 connected\n",
        f"{ME} 7000 myself,master - 0 0 0 connected\n",
        f"{ME} :7000@17000 myself,master - 0 0 0 connected 16384\n",
        f"{ME} :7000@17000 myself,master - 0 0 0 connected [5-x-{B}]\n",
        f"{ME} :7000@17000 myself,master - x 0 0 connected\n",
        f'{ME} :7000@17000 "myself,master - 0 0 0 connected\n',
    ],
)
def test_corrupted_files_are_refused(text: str) -> None:
    with pytest.raises(nodes_conf.NodesConfError):
        nodes_conf.load(text.encode(), NOW, random.Random(1))
