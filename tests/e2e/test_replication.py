"""Replication interop on real processes: a real redis-server 7.0 replicating from slotd and
slotd replicating from a real redis-server -- full sync (disk and diskless), the stream, a
killed link answered by a partial resync (+CONTINUE), and a promotion or a coordinated
FAILOVER after which the old master continues partially thanks to replid2 (PSYNC2).

Datasets are compared with DEBUG DIGEST (slotd computes Redis's digest) and, to say what
differs when they do not match, key by key over SCAN. Waits are generous deadlines on
conditions; nothing here asserts how long anything took.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import redis

from tests.procs import ServerProcess
from tests.rawclient import RawClient

Factory = Callable[..., ServerProcess]
DEADLINE = 60.0
DEBUG = ("--enable-debug-command", "yes")


def client(server: ServerProcess, db: int = 0) -> redis.Redis:
    return redis.Redis(*server.addr, db=db, socket_timeout=30)


def command(server: ServerProcess, *args: str | int) -> Any:
    """Any command through redis-py, its reply parsed."""
    return client(server).execute_command(*args)  # type: ignore[no-untyped-call]


def wait_for(what: str, check: Callable[[], bool], timeout: float = DEADLINE) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def info(server: ServerProcess, section: str = "replication") -> dict[str, Any]:
    return client(server).info(section)


def synced(master: ServerProcess, replica: ServerProcess) -> bool:
    """The replica's link is up and it applied everything the master produced."""
    mi, ri = info(master), info(replica)
    return (
        ri.get("master_link_status") == "up" and ri["slave_repl_offset"] == mi["master_repl_offset"]
    )


def wait_synced(master: ServerProcess, replica: ServerProcess) -> None:
    wait_for(f"{replica} to catch up with {master}", lambda: synced(master, replica))


def wait_online(master: ServerProcess) -> None:
    """The master counts its replica online (it reaps the snapshot child in its cron)."""
    wait_for(
        f"{master}'s replica to be online",
        lambda: (info(master).get("slave0") or {}).get("state") == "online",
    )


def snapshot(server: ServerProcess) -> dict[int, dict[bytes, object]]:
    """Every key of every db with a type-aware reading of its value and whether it has a
    TTL (the TTL itself moves with time)."""
    out: dict[int, dict[bytes, object]] = {}
    for db in range(16):
        r = client(server, db)
        keys: dict[bytes, object] = {}
        for key in r.scan_iter(count=1000):
            kind = r.type(key)
            if kind == b"string":
                value: object = r.get(key)
            elif kind == b"hash":
                value = sorted(r.hgetall(key).items())
            elif kind == b"list":
                value = r.lrange(key, 0, -1)
            elif kind == b"set":
                value = sorted(r.smembers(key))
            elif kind == b"zset":
                value = r.zrange(key, 0, -1, withscores=True)
            elif kind == b"stream":
                value = r.xrange(key)
            else:
                value = kind
            keys[key] = (kind, value, r.pttl(key) > 0)
        if keys:
            out[db] = keys
    return out


def assert_same_data(a: ServerProcess, b: ServerProcess) -> None:
    da, db_ = command(a, "DEBUG", "DIGEST"), command(b, "DEBUG", "DIGEST")
    if da != db_:
        assert snapshot(a) == snapshot(b)
        raise AssertionError(f"same keys and values, different digests {da!r} {db_!r}")


def fill(server: ServerProcess, tag: str, n: int = 200) -> None:
    """A little of every type, in several dbs, some with TTLs."""
    r = client(server)
    pipe = r.pipeline(transaction=False)
    for i in range(n):
        pipe.set(f"{tag}:s:{i}", f"v{i}" * (i % 7 + 1))
    pipe.hset(f"{tag}:h", mapping={f"f{i}": i for i in range(50)})
    pipe.rpush(f"{tag}:l", *range(100))
    pipe.sadd(f"{tag}:set", *range(30))
    pipe.sadd(f"{tag}:strs", *(f"m{i}" for i in range(30)))
    pipe.zadd(f"{tag}:z", {f"m{i}": i * 1.5 for i in range(40)})
    for i in range(20):
        pipe.xadd(f"{tag}:x", {"n": i})
    pipe.set(f"{tag}:ttl", "x", px=600_000)
    pipe.incrbyfloat(f"{tag}:float", 1.25)
    pipe.execute()
    r2 = client(server, 2)
    r2.set(f"{tag}:db2", "two")
    r2.lpush(f"{tag}:db2l", "a", "b")


def stats(server: ServerProcess) -> dict[str, Any]:
    return info(server, "stats")


def kill_master_link(replica: ServerProcess) -> None:
    assert command(replica, "CLIENT", "KILL", "TYPE", "master") == 1


@pytest.mark.parametrize("diskless", ["yes", "no"])
def test_redis_replica_of_slotd(
    diskless: str, slotd_factory: Factory, redis_factory: Factory
) -> None:
    master = slotd_factory(
        *DEBUG, "--repl-diskless-sync", diskless, "--repl-diskless-sync-delay", "0"
    )
    replica = redis_factory(*DEBUG)
    fill(master, "before")
    assert client(replica).replicaof(*master.addr)
    wait_synced(master, replica)
    assert stats(master)["sync_full"] == 1
    assert_same_data(master, replica)
    ri = info(replica)
    assert ri["master_replid"] == info(master)["master_replid"]

    # The stream: every command reaches the replica, offsets agree.
    fill(master, "after")
    client(master).delete("before:s:1", "before:h")
    client(master, 3).set("db3", "x")
    assert client(master).wait(1, 10_000) == 1
    wait_synced(master, replica)
    assert_same_data(master, replica)

    # A killed link: the replica reconnects and continues from the backlog.
    kill_master_link(replica)
    client(master).set("while-down", "1")
    wait_synced(master, replica)
    ms = stats(master)
    assert (ms["sync_full"], ms["sync_partial_ok"]) == (1, 1)
    assert client(replica).get("while-down") == b"1"

    # Promotion: the replica's old history stays valid as replid2, so the old master
    # can follow it with a partial resynchronisation.
    old_id = info(master)["master_replid"]
    offset = info(master)["master_repl_offset"]
    assert client(replica).replicaof("no", "one")
    ri = info(replica)
    assert ri["role"] == "master"
    assert ri["master_replid2"] == old_id
    assert ri["second_repl_offset"] == offset + 1
    client(replica).set("on-new-master", "1")
    assert client(master).replicaof(*replica.addr)
    wait_synced(replica, master)
    assert stats(replica)["sync_partial_ok"] == 1
    assert stats(replica)["sync_full"] == 0
    mi = info(master)
    assert mi["master_replid"] == ri["master_replid"] and mi["master_replid2"] == old_id
    assert client(master).get("on-new-master") == b"1"
    assert_same_data(master, replica)


@pytest.mark.parametrize("diskless", ["yes", "no"])
def test_slotd_replica_of_redis(
    diskless: str, slotd_factory: Factory, redis_factory: Factory
) -> None:
    master = redis_factory(
        *DEBUG, "--repl-diskless-sync", diskless, "--repl-diskless-sync-delay", "0"
    )
    replica = slotd_factory(*DEBUG)
    fill(master, "before")
    client(replica).set("stale", "x")
    assert client(replica).replicaof(*master.addr)
    wait_synced(master, replica)
    assert_same_data(master, replica)
    assert client(replica).get("stale") is None
    with pytest.raises(redis.ReadOnlyError):
        client(replica).set("k", "v")

    fill(master, "after")
    client(master).expire("before:l", 1000)
    client(master, 5).set("db5", "x")
    assert client(master).wait(1, 10_000) == 1
    wait_synced(master, replica)
    assert_same_data(master, replica)
    role = command(replica, "ROLE")
    assert role[:4] == [b"slave", b"127.0.0.1", master.port, b"connected"]

    kill_master_link(replica)
    client(master).set("while-down", "1")
    wait_synced(master, replica)
    ms = stats(master)
    assert (ms["sync_full"], ms["sync_partial_ok"]) == (1, 1)
    assert client(replica).get("while-down") == b"1"
    wait_online(master)

    # A coordinated FAILOVER on the real master hands over to slotd: it sends
    # PSYNC <replid> <offset> FAILOVER, slotd promotes itself and continues partially.
    old_id = info(master)["master_replid"]
    assert command(master, "FAILOVER", "TO", "127.0.0.1", replica.port, "TIMEOUT", "30000") == b"OK"
    wait_for(
        "the failover",
        lambda: (
            info(replica)["role"] == "master"
            and info(master).get("master_link_status") == "up"
            and info(master)["master_failover_state"] == "no-failover"
        ),
    )
    ri = info(replica)
    assert ri["master_replid2"] == old_id
    assert stats(replica)["sync_partial_ok"] == 1 and stats(replica)["sync_full"] == 0
    client(replica).set("on-slotd", "1")
    wait_synced(replica, master)
    assert client(master).get("on-slotd") == b"1"
    assert_same_data(master, replica)


def test_slotd_failover_command_hands_over_to_a_redis_replica(
    slotd_factory: Factory, redis_factory: Factory
) -> None:
    master = slotd_factory(*DEBUG, "--repl-diskless-sync-delay", "0")
    replica = redis_factory(*DEBUG)
    fill(master, "x")
    client(replica).replicaof(*master.addr)
    wait_synced(master, replica)
    wait_online(master)
    old_id = info(master)["master_replid"]
    assert command(master, "FAILOVER", "TO", "127.0.0.1", replica.port) == b"OK"
    wait_for(
        "the failover",
        lambda: (
            info(replica)["role"] == "master"
            and info(master).get("master_link_status") == "up"
            and info(master)["master_failover_state"] == "no-failover"
        ),
    )
    assert info(replica)["master_replid2"] == old_id
    assert stats(replica)["sync_partial_ok"] == 1 and stats(replica)["sync_full"] == 0
    client(replica).set("after", "1")
    wait_synced(replica, master)
    assert client(master).get("after") == b"1"
    assert_same_data(master, replica)


def test_info_replication_fields_match_redis(
    slotd_factory: Factory, redis_factory: Factory
) -> None:
    """The same roles give the same INFO replication field names in the same order."""

    def fields(server: ServerProcess) -> list[str]:
        with RawClient(*server.addr) as raw:
            text = raw.call("INFO", "replication").decode()
        return [line.split(":", 1)[0] for line in text.splitlines()[2:] if ":" in line]

    slotd_master, redis_master = slotd_factory(), redis_factory()
    slotd_replica, redis_replica = slotd_factory(), redis_factory()
    assert fields(slotd_master) == fields(redis_master)
    client(slotd_replica).replicaof(*redis_master.addr)
    client(redis_replica).replicaof(*slotd_master.addr)
    wait_synced(redis_master, slotd_replica)
    wait_synced(slotd_master, redis_replica)
    assert fields(slotd_master) == fields(redis_master)
    assert fields(slotd_replica) == fields(redis_replica)
    for server in (slotd_master, redis_master):
        client(server).config_set("min-replicas-to-write", "1")
    assert fields(slotd_master) == fields(redis_master)


def test_authenticated_links_both_ways(slotd_factory: Factory, redis_factory: Factory) -> None:
    """masterauth (with masteruser: AUTH <user> <pass>) against a master with passwords."""
    redis_master = redis_factory("--requirepass", "secret", "--repl-diskless-sync-delay", "0")
    admin = redis.Redis(*redis_master.addr, password="secret")
    admin.execute_command(
        "ACL",
        "SETUSER",
        "repl",
        "on",
        ">replpass",  # type: ignore[no-untyped-call]
        "+psync",
        "+replconf",
        "+ping",
    )
    admin.set("from-redis", "1")
    slotd_replica = slotd_factory("--masteruser", "repl", "--masterauth", "replpass")
    assert client(slotd_replica).replicaof(*redis_master.addr)
    wait_for("the slotd replica", lambda: info(slotd_replica)["master_link_status"] == "up")
    assert client(slotd_replica).get("from-redis") == b"1"

    slotd_master = slotd_factory("--requirepass", "secret", "--repl-diskless-sync-delay", "0")
    redis.Redis(*slotd_master.addr, password="secret").set("from-slotd", "1")
    redis_replica = redis_factory("--masterauth", "secret")
    assert client(redis_replica).replicaof(*slotd_master.addr)
    wait_for("the redis replica", lambda: info(redis_replica)["master_link_status"] == "up")
    assert client(redis_replica).get("from-slotd") == b"1"
