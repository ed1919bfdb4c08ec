"""The cluster state machine (node/cluster/state.py): the node table, slot ownership,
epochs, failure reports, the cluster's health and RESET, driven by hand."""

from __future__ import annotations

import random

from node.cluster.state import (
    SLOT_COUNT,
    TODO_SAVE_CONFIG,
    TODO_UPDATE_STATE,
    ClusterNode,
    ClusterState,
    NodeFlag,
    random_name,
    valid_name,
)

NOW = 1_700_000_000_000


def fresh(seed: int = 1) -> ClusterState:
    return ClusterState.fresh(random.Random(seed), NOW)


def other(
    state: ClusterState,
    name: str = "b" * 40,
    flags: NodeFlag = NodeFlag.MASTER,
) -> ClusterNode:
    node = ClusterNode(name, flags, NOW, ip="127.0.0.1", port=7001, cport=17001)
    state.add_node(node)
    return node


def test_fresh_identity_is_a_master_with_a_random_name() -> None:
    state = fresh()
    myself = state.myself
    assert valid_name(myself.name) and valid_name(myself.shard_id)
    assert myself.flags == NodeFlag.MYSELF | NodeFlag.MASTER
    assert state.nodes == {myself.name: myself}
    assert fresh(1).myself.name == fresh(1).myself.name != fresh(2).myself.name
    assert not state.ok and state.size == 1  # as Redis before its first state update


def test_valid_name_wants_forty_lowercase_hex_digits() -> None:
    assert valid_name(random_name(random.Random(3)))
    assert not valid_name("A" * 40)
    assert not valid_name("a" * 39)


def test_slots_keep_owner_table_and_counts_in_step() -> None:
    state = fresh()
    b = other(state)
    assert state.add_slot(5, state.myself)
    assert not state.add_slot(5, b)  # busy
    assert state.add_slot(6, b)
    assert (state.myself.numslots, b.numslots) == (1, 1)
    state.set_slot_owner(5, b)
    assert state.slots[5] is b and state.myself.numslots == 0 and b.numslots == 2
    assert state.del_slot(5) and not state.del_slot(5)
    assert state.del_node_slots(b) == 1 and b.numslots == 0


def test_slot_ranges_and_owner_runs() -> None:
    state = fresh()
    b = other(state)
    for slot in (0, 1, 2, 5, 16383):
        state.add_slot(slot, state.myself)
    for slot in (3, 4):
        state.add_slot(slot, b)
    assert state.slot_ranges(state.myself) == [(0, 2), (5, 5), (16383, 16383)]
    assert state.slot_ranges(b) == [(3, 4)]
    assert state.owner_runs() == [
        (0, 2, state.myself),
        (3, 4, b),
        (5, 5, state.myself),
        (16383, 16383, state.myself),
    ]


def test_remove_node_unbinds_everything_that_points_at_it() -> None:
    state = fresh()
    b = other(state)
    replica = other(state, "c" * 40, NodeFlag.SLAVE)
    state.attach_replica(b, replica)
    state.add_slot(10, b)
    state.migrating[1] = b
    state.importing[2] = b
    state.myself.fail_reports[b.name] = NOW
    state.remove_node(b)
    assert b.name not in state.nodes and state.slots[10] is None
    assert not state.migrating and not state.importing
    assert not state.myself.fail_reports
    assert replica.master is None


def test_replicas_follow_their_master_and_share_its_shard() -> None:
    state = fresh()
    b = other(state)
    state.set_replica_of(state.myself, b)
    assert state.myself.flags & NodeFlag.SLAVE and not state.myself.flags & NodeFlag.MASTER
    assert state.myself.master is b and b.replicas == [state.myself]
    assert state.myself.shard_id == b.shard_id
    assert state.todo & TODO_SAVE_CONFIG
    state.set_as_master(state.myself)
    assert state.myself.master is None and b.replicas == []
    assert state.myself.flags & NodeFlag.MASTER


def test_bump_epoch_only_when_not_the_unique_maximum() -> None:
    state = fresh()
    assert state.bump_epoch_without_consensus()  # my epoch is 0
    assert (state.current_epoch, state.myself.config_epoch) == (1, 1)
    assert not state.bump_epoch_without_consensus()  # already the maximum
    other(state).config_epoch = state.current_epoch = 7  # gossip raised currentEpoch too
    assert state.bump_epoch_without_consensus()
    assert state.myself.config_epoch == 8 == state.current_epoch
    assert state.max_epoch() == 8


def test_failure_reports_expire_after_twice_the_node_timeout() -> None:
    state = fresh()
    b = other(state)
    b.fail_reports = {"x" * 40: NOW - 30_001, "y" * 40: NOW - 1000}
    assert state.failure_reports(b, NOW, 15_000) == 1
    assert list(b.fail_reports) == ["y" * 40]


def test_blacklist_lasts_a_minute() -> None:
    state = fresh()
    state.blacklist_add("b" * 40, NOW)
    assert state.blacklisted("b" * 40, NOW + 60_000)
    assert not state.blacklisted("b" * 40, NOW + 60_001)


def owning_all(state: ClusterState) -> ClusterState:
    for slot in range(SLOT_COUNT):
        state.add_slot(slot, state.myself)
    return state


def test_state_turns_ok_only_after_the_writable_delay() -> None:
    state = owning_all(fresh())
    state.update_state(NOW, full_coverage=True, node_timeout=15000)
    assert not state.ok and state.size == 1  # first call: the delay starts
    state.update_state(NOW + 1999, full_coverage=True, node_timeout=15000)
    assert not state.ok
    state.update_state(NOW + 2000, full_coverage=True, node_timeout=15000)
    assert state.ok and state.size == 1
    assert not state.todo & TODO_UPDATE_STATE


def test_state_waits_the_rejoin_delay_after_a_minority() -> None:
    state = fresh()
    state.update_state(NOW, full_coverage=True, node_timeout=15000)
    state.update_state(NOW + 3000, full_coverage=True, node_timeout=15000)
    assert not state.ok and state.size == 0  # no slots: a minority of nothing
    owning_all(state)
    state.update_state(NOW + 7999, full_coverage=True, node_timeout=15000)
    assert not state.ok  # min(max(node_timeout, 500), 5000) = 5 s after the minority
    state.update_state(NOW + 8000, full_coverage=True, node_timeout=15000)
    assert state.ok


def test_coverage_and_failed_owners_fail_the_cluster() -> None:
    state = fresh()
    state.update_state(NOW, full_coverage=True, node_timeout=100)
    b = other(state)
    for slot in range(SLOT_COUNT):
        state.add_slot(slot, state.myself if slot < 10000 else b)
    state.update_state(NOW + 2000, full_coverage=True, node_timeout=100)
    assert state.ok and state.size == 2
    b.flags |= NodeFlag.FAIL
    state.update_state(NOW + 3000, full_coverage=False, node_timeout=100)
    assert not state.ok  # 1 reachable master of 2 is no majority
    state.del_slot(0)
    b.flags &= ~NodeFlag.FAIL
    state.update_state(NOW + 9000, full_coverage=True, node_timeout=100)
    assert not state.ok  # slot 0 is not covered
    state.update_state(NOW + 9000, full_coverage=False, node_timeout=100)
    assert state.ok


def test_soft_reset_forgets_nodes_and_slots_and_keeps_epochs() -> None:
    state = fresh()
    b = other(state)
    state.add_slot(1, state.myself)
    state.add_slot(2, b)
    state.importing[3] = b
    state.current_epoch = state.myself.config_epoch = 4
    name = state.myself.name
    state.reset(False, random.Random(9))
    assert list(state.nodes) == [name] and state.myself.numslots == 0
    assert state.slots[2] is None and not state.importing
    assert (state.current_epoch, state.myself.config_epoch) == (4, 4)


def test_hard_reset_renames_and_zeroes_epochs() -> None:
    state = fresh()
    state.current_epoch = state.last_vote_epoch = state.myself.config_epoch = 4
    name = state.myself.name
    state.reset(True, random.Random(9))
    assert state.myself.name != name and list(state.nodes) == [state.myself.name]
    assert (state.current_epoch, state.last_vote_epoch, state.myself.config_epoch) == (0, 0, 0)
