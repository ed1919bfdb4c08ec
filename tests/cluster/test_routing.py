"""getNodeByQuery (node/cluster/routing.py) on hand-built states: each rule of
redis-spec-digest.md 1.2 in order, and the routing plans read from the command table."""

from __future__ import annotations

import pytest

from node.cluster.routing import Request, Router, plan_for
from node.cluster.state import SLOT_COUNT, ClusterNode, ClusterState, NodeFlag
from node.commands import load
from node.engine.keyspace import Database, Keyspace
from node.proto import errors
from node.proto.slots import key_slot

TABLE = load()
B = "b" * 40
# Keys by slot (key_slot): foo 12182, bar 5061, {foo}x 12182.
FOO, BAR = key_slot(b"foo"), key_slot(b"bar")


def world() -> tuple[Router, ClusterState, ClusterNode, Database]:
    """Myself owns every slot but bar's, which node b (127.0.0.1:7001) owns."""
    state = ClusterState(ClusterNode("a" * 40, NodeFlag.MASTER, ip="127.0.0.1", port=7000))
    b = ClusterNode(B, NodeFlag.MASTER, ip="127.0.0.1", port=7001, hostname="hb")
    state.add_node(b)
    for slot in range(SLOT_COUNT):
        state.add_slot(slot, b if slot == BAR else state.myself)
    state.ok = True
    return Router(state), state, b, Keyspace(1).dbs[0]


def request(
    write: bool = False,
    *,
    asking: bool = False,
    readonly: bool = False,
    shard: bool = False,
    migrate: bool = False,
) -> Request:
    return Request(write, shard, migrate, asking, readonly)


def test_keys_in_one_owned_slot_are_served() -> None:
    router, _, _, db = world()
    assert router.check(db, request(), [b"foo", b"{foo}x", b"foo"]) is None
    assert router.slot == FOO
    assert router.check(db, request(), []) is None and router.slot == -1


def test_moved_crossslot_and_unbound() -> None:
    router, state, _, db = world()
    assert router.check(db, request(), [b"bar"]) == f"MOVED {BAR} 127.0.0.1:7001"
    assert router.check(db, request(), [b"foo", b"bar"]) == errors.CROSSSLOT
    state.del_slot(FOO)
    assert router.check(db, request(), [b"foo", b"bar"]) == errors.CLUSTER_UNBOUND


def test_preferred_endpoint_in_redirects() -> None:
    router, _, _, db = world()
    router.endpoint_type = "hostname"
    assert router.check(db, request(), [b"bar"]) == f"MOVED {BAR} hb:7001"
    router.endpoint_type = "unknown-endpoint"
    assert router.check(db, request(), [b"bar"]) == f"MOVED {BAR} :7001"


def test_cluster_down_variants() -> None:
    router, state, _, db = world()
    state.ok = False
    assert router.check(db, request(), [b"foo"]) == errors.CLUSTER_DOWN
    assert router.check(db, request(shard=True), [b"foo"]) is None  # pubsubshard allowed
    router.allow_pubsubshard_when_down = False
    assert router.check(db, request(shard=True), [b"foo"]) == errors.CLUSTER_DOWN
    router.allow_reads_when_down = True
    assert router.check(db, request(), [b"foo"]) is None
    assert router.check(db, request(True), [b"foo"]) == errors.CLUSTER_DOWN_READONLY
    assert router.check(db, request(True), []) is None  # keyless: never down


def test_migrating_slot_asks_for_missing_keys() -> None:
    router, state, b, db = world()
    state.migrating[FOO] = b
    assert router.check(db, request(), [b"foo"]) == f"ASK {FOO} 127.0.0.1:7001"
    db.set_value(b"foo", b"v")
    assert router.check(db, request(), [b"foo"]) is None
    assert router.check(db, request(), [b"foo", b"{foo}x"]) == errors.TRYAGAIN
    assert router.check(db, request(migrate=True), [b"{foo}x"]) is None
    assert router.check(db, request(shard=True), [b"{foo}x"]) is None  # channels: no lookups


def test_importing_slot_needs_asking() -> None:
    router, state, b, db = world()
    state.importing[BAR] = b
    assert router.check(db, request(), [b"bar"]) == f"MOVED {BAR} 127.0.0.1:7001"
    assert router.check(db, request(asking=True), [b"bar"]) is None
    assert router.check(db, request(asking=True), [b"bar", b"{bar}2"]) == errors.TRYAGAIN
    db.set_value(b"bar", b"1")
    db.set_value(b"{bar}2", b"2")
    assert router.check(db, request(asking=True), [b"bar", b"{bar}2"]) is None


def test_readonly_replica_serves_reads_of_its_master() -> None:
    router, state, b, db = world()
    state.del_node_slots(state.myself)
    state.set_replica_of(state.myself, b)
    for slot in range(SLOT_COUNT):
        state.set_slot_owner(slot, b)
    moved = f"MOVED {FOO} 127.0.0.1:7001"
    assert router.check(db, request(), [b"foo"]) == moved
    assert router.check(db, request(readonly=True), [b"foo"]) is None
    assert router.check(db, request(True, readonly=True), [b"foo"]) == moved
    assert router.check(db, request(shard=True), [b"foo"]) is None  # SSUBSCRIBE on replicas


@pytest.mark.parametrize(
    ("argv", "keys"),
    [
        ([b"GET", b"k"], [b"k"]),
        ([b"SET", b"k", b"v", b"GET"], [b"k"]),
        ([b"MSET", b"a", b"1", b"b", b"2"], [b"a", b"b"]),
        ([b"EVAL", b"return 1", b"2", b"a", b"b", b"c"], [b"a", b"b"]),
        ([b"EVAL", b"return 1", b"0"], []),
        ([b"SPUBLISH", b"ch", b"msg"], [b"ch"]),
        ([b"SSUBSCRIBE", b"c1", b"c2"], [b"c1", b"c2"]),
        ([b"SUNSUBSCRIBE"], []),
        ([b"ZUNIONSTORE", b"d", b"2", b"a", b"b"], [b"d", b"a", b"b"]),
    ],
)
def test_plans_find_the_keys_from_the_key_specs(argv: list[bytes], keys: list[bytes]) -> None:
    spec = TABLE.get(argv[0])
    assert spec is not None
    plan = plan_for(spec)
    assert plan.keys is not None and plan.keys(argv) == keys
    assert plan.shard_pubsub == (argv[0] in (b"SPUBLISH", b"SSUBSCRIBE", b"SUNSUBSCRIBE"))


@pytest.mark.parametrize("name", [b"PING", b"PUBLISH", b"KEYS", b"SCAN", b"EXEC", b"INFO"])
def test_keyless_commands_are_not_routed(name: bytes) -> None:
    spec = TABLE.get(name)
    assert spec is not None and plan_for(spec).keys is None


def test_plan_flags() -> None:
    set_, restore = TABLE.get(b"set"), TABLE.get(b"restore")
    assert set_ is not None and restore is not None
    assert plan_for(set_).write and not plan_for(set_).asking
    assert not plan_for(restore).migrate
