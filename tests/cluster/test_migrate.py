"""MIGRATE and RESTORE-ASKING between two engines in one process (tests.cluster.support's
EngineConnector stands for the shell's sockets). Replies are redis-server 7.0.15's."""

from __future__ import annotations

import pytest

from node.cluster.state import ClusterNode, NodeFlag
from node.proto.slots import key_slot
from tests.cluster.support import EngineConnector, cluster_harness, cluster_of, settle
from tests.support import Harness

FOO = key_slot(b"foo")


def pair() -> tuple[Harness, Harness, EngineConnector]:
    source, target = Harness(), Harness()
    connector = EngineConnector({"127.0.0.1:7001": target})
    source.engine.migrate_connector = connector
    return source, target, connector


def test_single_key_moves_with_its_ttl() -> None:
    source, target, connector = pair()
    source("SET", "a", "1")
    source("PEXPIRE", "a", 5000)
    assert source("MIGRATE", "127.0.0.1", "7001", "a", "0", "1000") == b"OK"
    assert source("EXISTS", "a") == 0
    assert target("GET", "a") == b"1" and target("PTTL", "a") == 5000
    sent = connector.links["127.0.0.1:7001"].sent
    assert [argv[0] for argv in sent] == [b"SELECT", b"RESTORE"]
    assert sent[1][2] == b"5000"


def test_keys_form_copy_replace_and_the_cached_db() -> None:
    source, target, connector = pair()
    for key in ("a", "b"):
        source("SET", key, key)
    assert (
        source("MIGRATE", "127.0.0.1", "7001", "", "0", "1000", "COPY", "KEYS", "a", "b", "nokey")
        == b"OK"
    )
    assert source("EXISTS", "a", "b") == 2 and target("MGET", "a", "b") == [b"a", b"b"]
    assert source.error("MIGRATE", "127.0.0.1", "7001", "a", "0", "1000") == (
        "ERR Target instance replied with error: BUSYKEY Target key name already exists."
    )
    source("SET", "a", "new")
    assert source("MIGRATE", "127.0.0.1", "7001", "a", "0", "1000", "REPLACE") == b"OK"
    assert target("GET", "a") == b"new"
    sent = [argv[0] for argv in connector.links["127.0.0.1:7001"].sent]
    # SELECT once, and again after the error (the target's db is then unknown).
    assert sent == [b"SELECT", b"RESTORE", b"RESTORE", b"RESTORE", b"SELECT", b"RESTORE"]
    assert connector.made == 1


def test_replies_that_need_no_target() -> None:
    source, _, _ = pair()
    source("SET", "a", "1")
    assert source.raw("MIGRATE", "127.0.0.1", "7001", "nokey", "0", "1000") == b"+NOKEY\r\n"
    assert source.error("MIGRATE", "127.0.0.1", "7001", "a", "0", "1000", "KEYS", "x") == (
        "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string"
    )
    for extra in (("AUTH",), ("AUTH2", "x"), ("foo",)):
        assert source.error("MIGRATE", "127.0.0.1", "7001", "a", "0", "1000", *extra) == (
            "ERR syntax error"
        )
    assert source.error("MIGRATE", "127.0.0.1", "7001", "a", "x", "1000") == (
        "ERR value is not an integer or out of range"
    )
    assert source.error("MIGRATE", "nohost", "1", "a", "0", "1000") == (
        "IOERR error or timeout connecting to the client"
    )


def test_auth_and_target_errors() -> None:
    source, target, connector = pair()
    target("CONFIG", "SET", "requirepass", "pw")
    source("SET", "a", "1")
    assert source.error("MIGRATE", "127.0.0.1", "7001", "a", "0", "1000") == (
        "ERR Target instance replied with error: NOAUTH Authentication required."
    )
    assert source.error("MIGRATE", "127.0.0.1", "7001", "a", "0", "1000", "AUTH", "bad") == (
        "ERR Target instance replied with error: WRONGPASS invalid username-password pair or "
        "user is disabled."
    )
    source("SET", "b", "1")
    assert source.error("MIGRATE", "127.0.0.1", "7001", "b", "99", "1000", "AUTH", "pw") == (
        "ERR Target instance replied with error: ERR DB index is out of range"
    )
    assert source("EXISTS", "b") == 1  # not acknowledged: kept (the target restored it in 0)
    assert (
        source("MIGRATE", "127.0.0.1", "7001", "a", "0", "1000", "AUTH2", "default", "pw") == b"OK"
    )
    assert connector.links["127.0.0.1:7001"].sent[-3][0] == b"AUTH"


def test_a_broken_cached_link_is_retried_once() -> None:
    source, target, connector = pair()
    source("SET", "a", "1")
    source("SET", "b", "1")
    assert source("MIGRATE", "127.0.0.1", "7001", "a", "0", "1000") == b"OK"
    connector.links["127.0.0.1:7001"].fail = "writing"
    assert source("MIGRATE", "127.0.0.1", "7001", "b", "0", "1000") == b"OK"
    assert connector.made == 2 and target("EXISTS", "a", "b") == 2


def test_timeouts_and_failures_after_the_first_reply_are_not_retried() -> None:
    source, _, connector = pair()
    source("SET", "a", "1")
    link = connector.link("127.0.0.1", "7001", 1000)
    link.fail, link.timeout = "writing", True
    assert source.error("MIGRATE", "127.0.0.1", "7001", "a", "0", "1000") == (
        "IOERR error or timeout writing to target instance"
    )
    assert connector.made == 1 and source("EXISTS", "a") == 1
    link = connector.link("127.0.0.1", "7001", 1000)
    link.fail, link.timeout = "reading", True
    assert source.error("MIGRATE", "127.0.0.1", "7001", "a", "0", "1000") == (
        "IOERR error or timeout reading to target instance"
    )


def test_migrate_propagates_a_del_of_what_moved() -> None:
    source, _, _ = pair()
    source.engine.want_propagation("test", True)
    source("SET", "a", "1")
    source("SET", "b", "1")
    source.engine.propagated.clear()
    assert source("MIGRATE", "127.0.0.1", "7001", "", "0", "1000", "KEYS", "a", "b") == b"OK"
    assert source.engine.propagated == [(0, [b"DEL", b"a", b"b"])]
    source("SET", "c", "1")
    source.engine.propagated.clear()
    assert source("MIGRATE", "127.0.0.1", "7001", "c", "0", "1000", "COPY") == b"OK"
    assert source.engine.propagated == []


def test_resharding_one_slot_between_cluster_nodes() -> None:
    """The redis-cli reshard sequence for one slot, MIGRATE sending RESTORE-ASKING."""
    source = cluster_harness(port="7000")
    target = cluster_harness(all_slots=False, port="7001")
    assert target("CLUSTER", "RESET", "HARD") == b"OK"  # same seed: a name of its own
    connector = EngineConnector({"127.0.0.1:7001": target})
    source.engine.migrate_connector = connector
    for h, other in ((source, target), (target, source)):
        state, peer = cluster_of(h).state, cluster_of(other).state.myself
        h_peer = ClusterNode(
            peer.name,
            NodeFlag.MASTER,
            ip="127.0.0.1",
            port=peer.port,
            cport=peer.port + 10000,
            link=True,
        )
        state.add_node(h_peer)
        if h is target:
            for slot in range(16384):
                state.set_slot_owner(slot, h_peer)
    settle(source)
    settle(target)
    source_id, target_id = (cluster_of(h).state.myself.name for h in (source, target))
    for key in ("foo", "{foo}2", "{foo}3"):
        source("SET", key, "v")
    assert target("CLUSTER", "SETSLOT", FOO, "IMPORTING", source_id) == b"OK"
    assert source("CLUSTER", "SETSLOT", FOO, "MIGRATING", target_id) == b"OK"
    keys = source("CLUSTER", "GETKEYSINSLOT", FOO, "10")
    assert source("MIGRATE", "127.0.0.1", "7001", "", "0", "60000", "KEYS", *keys[:2]) == b"OK"
    assert keys == [b"{foo}3", b"{foo}2", b"foo"]
    assert source.error("GET", "{foo}3") == f"ASK {FOO} 127.0.0.1:7001"
    assert source("GET", "foo") == b"v"
    assert target.error("GET", "{foo}3") == f"MOVED {FOO} 127.0.0.1:7000"
    assert target("ASKING") == b"OK" and target("GET", "{foo}3") == b"v"
    assert source.error("MGET", "foo", "{foo}2", "{foo}3") == (
        "TRYAGAIN Multiple keys request during rehashing of slot"
    )
    assert source("MIGRATE", "127.0.0.1", "7001", "", "0", "60000", "KEYS", keys[2]) == b"OK"
    assert [argv[0] for argv in connector.links["127.0.0.1:7001"].sent] == [
        b"SELECT",
        b"RESTORE-ASKING",
        b"RESTORE-ASKING",
        b"RESTORE-ASKING",
    ]
    assert source("CLUSTER", "GETKEYSINSLOT", FOO, "10") == []
    assert target("CLUSTER", "SETSLOT", FOO, "NODE", target_id) == b"OK"
    assert source("CLUSTER", "SETSLOT", FOO, "NODE", target_id) == b"OK"
    assert target("CLUSTER", "COUNTKEYSINSLOT", FOO) == 3
    assert source.error("GET", "foo") == f"MOVED {FOO} 127.0.0.1:7001"
    assert cluster_of(target).state.myself.config_epoch == 1  # bumped on closing the import


@pytest.mark.parametrize("cluster", [False, True])
def test_restore_asking_is_restore(cluster: bool) -> None:
    h = cluster_harness() if cluster else Harness()
    payload = h("DUMP", "nokey")
    assert payload is None
    h("SET", "foo", "1")
    payload = h("DUMP", "foo")
    assert h.error("RESTORE-ASKING", "foo", "0", payload) == (
        "BUSYKEY Target key name already exists."
    )
    assert h("RESTORE-ASKING", "foo", "0", payload, "REPLACE") == b"OK"


def test_the_cluster_cron_closes_idle_links() -> None:
    h = cluster_harness()
    connector = EngineConnector({"127.0.0.1:7001": Harness()})
    h.engine.migrate_connector = connector
    h("SET", "foo", "1")
    assert h("MIGRATE", "127.0.0.1", "7001", "foo", "0", "1000") == b"OK"
    assert connector.links
    settle(h, 200)
    assert not connector.links
