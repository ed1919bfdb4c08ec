"""A one-node slotd cluster on real processes: redis-py's RedisCluster (sync and asyncio)
against a node that owns all 16384 slots, nodes.conf across restarts and its lock, and
MIGRATE over real sockets between slotd and redis-server in both directions.

No timing assertions: waits are generous deadlines."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import redis
import redis.asyncio
from redis.cluster import RedisCluster

from tests import procs
from tests.cluster_procs import free_cluster_port
from tests.procs import ServerProcess
from tests.rawclient import RawClient

Factory = Callable[..., ServerProcess]
CLUSTER = ("--cluster-enabled", "yes")
# redis-py's RedisCluster drops connections it gives up on (timeouts, topology refreshes)
# without closing them; the ResourceWarning their collection raises is the client's.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]


def wait_ok(server: ServerProcess, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    with RawClient(*server.addr) as c:
        while b"cluster_state:ok" not in c.call("CLUSTER", "INFO"):
            assert time.monotonic() < deadline, f"{server} never reached cluster_state:ok"
            time.sleep(0.05)


def one_node_cluster(factory: Factory, *extra: str) -> ServerProcess:
    server = factory(*CLUSTER, *extra)
    with RawClient(*server.addr) as c:
        assert c.call("CLUSTER", "ADDSLOTSRANGE", "0", "16383") == b"+OK\r\n"
    wait_ok(server)
    return server


def test_redis_py_cluster_client(slotd_factory: Factory) -> None:
    server = one_node_cluster(slotd_factory)
    rc = RedisCluster(host="127.0.0.1", port=server.port)
    try:
        nodes = rc.get_nodes()  # type: ignore[no-untyped-call]
        default = rc.get_default_node()  # type: ignore[no-untyped-call]
        assert len(nodes) == 1 and default.port == server.port
        assert rc.set("foo", "bar") and rc.get("foo") == b"bar"
        values = {f"k{i}": str(i) for i in range(50)}
        assert rc.mset_nonatomic(values) == [True] * 50
        assert rc.mget_nonatomic(list(values)) == [v.encode() for v in values.values()]
        pipe = rc.pipeline()  # type: ignore[no-untyped-call]
        pipe.incr("counter").incr("counter").get("counter")
        assert pipe.execute() == [1, 2, b"2"]
        assert rc.keyslot("{user1000}.following") == 3443  # type: ignore[no-untyped-call]
        assert rc.cluster_keyslot("foo") == 12182
        assert rc.cluster_countkeysinslot(12182) == 1
        assert rc.cluster_get_keys_in_slot(12182, 10) == ["foo"]
        assert rc.cluster_info()["cluster_state"] == "ok"
        assert sorted(rc.scan_iter(match="k1*")) == sorted(
            k.encode() for k in values if k.startswith("k1")
        )
        with pytest.raises(redis.exceptions.RedisClusterException):
            rc.mget("foo", "k1")  # CROSSSLOT is caught before sending
        with rc.lock("lk", timeout=5):
            assert rc.exists("lk") == 1
    finally:
        rc.close()


def test_redis_py_asyncio_cluster_client(slotd_factory: Factory) -> None:
    server = one_node_cluster(slotd_factory)

    async def run() -> None:
        rc = redis.asyncio.RedisCluster(host="127.0.0.1", port=server.port)
        try:
            await rc.set("a", "1")
            assert await rc.get("a") == b"1"
            assert await rc.incrby("n", 5) == 5
            pipe = rc.pipeline()
            pipe.set("{t}1", "x")
            pipe.get("{t}1")
            assert await pipe.execute() == [True, b"x"]
        finally:
            await rc.aclose()

    asyncio.run(run())


def test_redis_py_follows_a_moved_slot(slotd_factory: Factory) -> None:
    """A client whose map is stale gets MOVED and refreshes it: here the node gives a slot
    to a handshake node (a MEET nobody answers), as a reshard would to a real one."""
    server = one_node_cluster(slotd_factory, "--cluster-node-timeout", "600000")
    rc = RedisCluster(host="127.0.0.1", port=server.port)
    try:
        assert rc.set("bar", "1")
        with RawClient(*server.addr) as c:
            c.call("CLUSTER", "MEET", "127.0.0.1", "1999")
            nodes = c.call("CLUSTER", "NODES").decode()
            other = next(line.split()[0] for line in nodes.splitlines() if "handshake" in line)
            c.call("DEL", "bar")
            assert c.call("CLUSTER", "SETSLOT", "5061", "NODE", other) == b"+OK\r\n"
            assert c.call("GET", "bar") == b"-MOVED 5061 127.0.0.1:1999\r\n"
        with pytest.raises((redis.exceptions.ConnectionError, redis.exceptions.ClusterError)):
            rc.get("bar")  # follows MOVED to a node that does not answer
    finally:
        rc.close()


def test_nodes_conf_survives_a_restart_and_is_locked(tmp_path: Path) -> None:
    directory = tmp_path / "node"
    server = procs.start_slotd(directory, *CLUSTER)
    try:
        with RawClient(*server.addr) as c:
            myid = c.call("CLUSTER", "MYID")
            c.call("CLUSTER", "ADDSLOTSRANGE", "0", "100")
            c.call("CLUSTER", "SET-CONFIG-EPOCH", "7")
        text = (directory / "nodes.conf").read_text()
        assert text.endswith(" connected 0-100\nvars currentEpoch 7 lastVoteEpoch 0\n")
        second = ServerProcess(
            "slotd", procs.slotd_command(free_cluster_port(), directory, *CLUSTER), 0, directory
        )
        second.spawn()
        assert second.proc is not None and second.proc.wait(timeout=procs.START_TIMEOUT) == 1
        assert "is already used by a different Redis Cluster node" in second.log_tail()
    finally:
        server.stop()
    again = procs.start(
        "slotd", lambda port: procs.slotd_command(port, directory, *CLUSTER), directory
    )
    try:
        with RawClient(*again.addr) as c:
            assert c.call("CLUSTER", "MYID") == myid
            assert b"cluster_current_epoch:7\r\ncluster_my_epoch:7\r\n" in c.call("CLUSTER", "INFO")
            assert c.call("CLUSTER", "NODES").endswith(b" 7 connected 0-100\n\r\n")
    finally:
        again.stop()


def test_keys_in_unowned_slots_are_claimed_at_start(tmp_path: Path) -> None:
    """verifyClusterConfigWithData: a dataset loaded from an RDB claims the slots it uses."""
    directory = tmp_path / "node"
    plain = procs.start_slotd(directory)
    try:
        with RawClient(*plain.addr) as c:
            c.call("SET", "foo", "1")
            assert c.call("SAVE") == b"+OK\r\n"
    finally:
        plain.stop()
    server = procs.start_slotd(directory, *CLUSTER)
    try:
        with RawClient(*server.addr) as c:
            assert c.call("CLUSTER", "NODES").endswith(b" connected 12182\n\r\n")
            assert c.call("CLUSTER", "COUNTKEYSINSLOT", "12182") == b":1\r\n"
    finally:
        server.stop()


@pytest.mark.interop
@pytest.mark.parametrize("direction", ["slotd->redis", "redis->slotd"])
def test_migrate_between_slotd_and_redis(
    direction: str, slotd_factory: Factory, redis_factory: Factory
) -> None:
    slotd, real = slotd_factory(), redis_factory()
    source, target = (slotd, real) if direction == "slotd->redis" else (real, slotd)
    with RawClient(*source.addr) as src, RawClient(*target.addr) as dst:
        src.call("RPUSH", "list", "a", "b", "c")
        src.call("HSET", "hash", "f", "v")
        src.call("SET", "ttl", "x", "PX", "100000")
        assert (
            src.call(
                "MIGRATE",
                "127.0.0.1",
                target.port,
                "",
                "0",
                "5000",
                "KEYS",
                "list",
                "hash",
                "ttl",
                "nokey",
            )
            == b"+OK\r\n"
        )
        assert src.call("EXISTS", "list", "hash", "ttl") == b":0\r\n"
        assert dst.call("LRANGE", "list", "0", "-1") == b"*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"
        assert dst.call("HGET", "hash", "f") == b"$1\r\nv\r\n"
        assert 0 < int(dst.call("PTTL", "ttl")[1:-2]) <= 100000
        src.call("SET", "list", "again")
        assert src.call("MIGRATE", "127.0.0.1", target.port, "list", "0", "5000") == (
            b"-ERR Target instance replied with error: BUSYKEY Target key name already exists.\r\n"
        )
        assert (
            src.call("MIGRATE", "127.0.0.1", target.port, "list", "0", "5000", "COPY", "REPLACE")
            == b"+OK\r\n"
        )
        assert dst.call("GET", "list") == b"$5\r\nagain\r\n"
        assert src.call("MIGRATE", "127.0.0.1", target.port, "nokey", "0", "5000") == (
            b"+NOKEY\r\n"
        )


def test_migrate_to_a_dead_port_is_an_io_error(
    slotd_proc: ServerProcess, redis_proc: ServerProcess
) -> None:
    for server in (slotd_proc, redis_proc):
        with RawClient(*server.addr) as c:
            c.call("SET", "mig-dead", "1")
            assert c.call("MIGRATE", "127.0.0.1", "1", "mig-dead", "0", "1000") == (
                b"-IOERR error or timeout writing to target instance\r\n"
            )
            assert c.call("MIGRATE", "no.such.host.invalid", "1", "mig-dead", "0", "1000") == (
                b"-IOERR error or timeout connecting to the client\r\n"
            )
            c.call("DEL", "mig-dead")


def test_resharding_a_slot_between_two_slotd_nodes(slotd_factory: Factory) -> None:
    """The reshard sequence over real sockets: RESTORE-ASKING into an importing slot."""
    a = one_node_cluster(slotd_factory)
    b = slotd_factory(*CLUSTER, "--cluster-node-timeout", "600000")
    with RawClient(*a.addr) as ca, RawClient(*b.addr) as cb:
        a_id = ca.call("CLUSTER", "MYID")[5:-2]
        for i in range(20):
            ca.call("SET", f"{{foo}}{i}", str(i))
        # Without a bus b cannot learn a: it imports the slot from the node a MEET made (in
        # handshake for ever), which b is told owns it.
        cb.call("CLUSTER", "MEET", "127.0.0.1", str(a.port), "1")  # port+10000 may not fit
        handshake = next(
            line.split()[0]
            for line in cb.call("CLUSTER", "NODES").split(b"\n")
            if b"handshake" in line
        )
        cb.call("CLUSTER", "ADDSLOTSRANGE", "0", "12181", "12183", "16383")
        assert cb.call("CLUSTER", "SETSLOT", "12182", "NODE", handshake) == b"+OK\r\n"
        wait_ok(b)
        assert cb.call("CLUSTER", "SETSLOT", "12182", "IMPORTING", handshake) == b"+OK\r\n"
        assert ca.call("CLUSTER", "SETSLOT", "12182", "MIGRATING", a_id) == b"+OK\r\n"
        keys = ca.call("CLUSTER", "GETKEYSINSLOT", "12182", "100")
        names = [k for k in keys.split(b"\r\n")[2::2] if k]
        assert len(names) == 20
        assert (
            ca.call("MIGRATE", "127.0.0.1", b.port, "", "0", "5000", "KEYS", *names) == b"+OK\r\n"
        )
        assert ca.call("CLUSTER", "COUNTKEYSINSLOT", "12182") == b":0\r\n"
        assert cb.call("CLUSTER", "COUNTKEYSINSLOT", "12182") == b":20\r\n"
        assert cb.call("GET", "{foo}7") == b"-MOVED 12182 127.0.0.1:%d\r\n" % a.port
        assert cb.call("ASKING") == b"+OK\r\n"
        assert cb.call("GET", "{foo}7") == b"$1\r\n7\r\n"


@pytest.mark.interop
def test_redis_cli_cluster_check_and_info(
    redis_cli: str, slotd_factory: Factory, redis_factory: Factory
) -> None:
    """redis-cli --cluster check/info read INFO, CLUSTER NODES and CLUSTER INFO by position:
    their reports on a one-node slotd cluster and a one-node redis-server cluster match once
    the node ids and ports are put aside."""
    outputs = []
    for server in (one_node_cluster(slotd_factory), one_node_cluster(redis_factory)):
        with RawClient(*server.addr) as c:
            myid = c.call("CLUSTER", "MYID")[5:-2].decode()
            c.call("SET", "foo", "1")
        texts = []
        for command in ("check", "info"):
            done = subprocess.run(
                [redis_cli, "--cluster", command, f"127.0.0.1:{server.port}"],
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert done.returncode == 0, done.stdout + done.stderr
            texts.append(
                done.stdout.replace(myid, "<id>")
                .replace(myid[:8], "<id8>")
                .replace(str(server.port), "<port>")
            )
        outputs.append(texts)
    assert outputs[0] == outputs[1]
    assert "[OK] All 16384 slots covered." in outputs[0][0]
