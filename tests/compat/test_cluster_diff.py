"""Cluster mode, slotd against a real redis-server 7.0.15, byte for byte: one node each,
started with --cluster-enabled yes.

Two things differ between the servers and are normalized in every reply: the node ids
(each side's own id, and the id of the handshake node a CLUSTER MEET to a dead address
creates) and the ports. Both ports have five digits, so bulk lengths stay comparable.
A MEET to an address where nobody listens leaves a node in handshake (for ten minutes:
cluster-node-timeout 600000); SETSLOT can hand it slots, which gives MOVED and ASK
redirects to compare without a cluster bus. redis-server 7.0.15 fails an assertion
(my_primary, cluster.c:1251) when such a slot is unassigned again (SETSLOT, RESET, the
handshake timing out), so those tests get servers of their own, stopped without that.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import procs
from tests.rawclient import RawClient

pytestmark = pytest.mark.interop

EXTRA = ("--cluster-enabled", "yes", "--cluster-node-timeout", "600000")
X = "0123456789012345678901234567890123456789"
DEAD_PORT = 1999  # nobody listens: a MEET there stays a handshake


class Side:
    """One server: its connections (RESP2, RESP3) and what must be normalized."""

    def __init__(self, server: procs.ServerProcess) -> None:
        self.server = server
        self.resp2 = RawClient(*server.addr)
        self.resp3 = RawClient(*server.addr)
        self.resp3.call("HELLO", "3")
        self.names: dict[bytes, bytes] = {}

    def close(self) -> None:
        self.resp2.close()
        self.resp3.close()

    def learn_names(self) -> None:
        """The ids in CLUSTER NODES: myself first, then the handshake nodes."""
        nodes = self.resp2.call("CLUSTER", "NODES")
        lines = nodes[nodes.index(b"\r\n") + 2 : -2].split(b"\n")[:-1]
        myself = [line for line in lines if b"myself" in line]
        others = sorted(line for line in lines if b"myself" not in line)
        self.names = {line[:40]: b"<node%d>" % i for i, line in enumerate(myself + others)}

    def normalize(self, reply: bytes) -> bytes:
        for name, label in self.names.items():
            reply = reply.replace(name, label.ljust(40, b"_"))
        port = self.server.port
        return reply.replace(b"%d" % (port + 10000), b"<cport>").replace(b"%d" % port, b"<pt>")

    def call(self, *args: object, resp: int = 2) -> bytes:
        conn = self.resp3 if resp == 3 else self.resp2
        return self.normalize(conn.call(*args))  # type: ignore[arg-type]


def start_pair(directory: Path) -> tuple[Side, Side]:
    ours = procs.start_slotd(directory / "slotd", *EXTRA)
    theirs = procs.start_redis(directory / "redis", *EXTRA)
    assert len(str(ours.port)) == len(str(theirs.port)) == 5
    return Side(ours), Side(theirs)


def stop_pair(pair: tuple[Side, Side]) -> None:
    for side in pair:
        side.close()
        side.server.stop()


@pytest.fixture(scope="module")
def sides(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Side, Side]]:
    pair = start_pair(Path(tmp_path_factory.mktemp("cluster")))
    yield pair
    stop_pair(pair)


def fresh_diff(pair: tuple[Side, Side]) -> Diff:
    differ = Diff(*pair)
    for side in pair:
        for conn in (side.resp2, side.resp3):
            conn.call("READWRITE")
        side.resp2.call("FLUSHALL")
        assert side.resp2.call("CLUSTER", "RESET", "HARD") == b"+OK\r\n"
    differ.learn_names()
    return differ


def wait_state(side: Side, state: bytes) -> None:
    deadline = time.monotonic() + 30
    while b"cluster_state:" + state not in side.resp2.call("CLUSTER", "INFO"):
        assert time.monotonic() < deadline, f"{side.server} never reached {state!r}"
        time.sleep(0.05)


class Diff:
    def __init__(self, ours: Side, theirs: Side) -> None:
        self.ours = ours
        self.theirs = theirs

    def __call__(self, *args: object, resp: int = 2, lines: bool = False) -> bytes:
        """Compare one command's replies; `lines`: as a set of lines (CLUSTER NODES lists
        the nodes in the order of a hash table)."""
        ours = self.ours.call(*args, resp=resp)
        theirs = self.theirs.call(*args, resp=resp)
        if lines:
            ours, theirs = (b"\n".join(sorted(r.split(b"\n"))) for r in (ours, theirs))
        assert ours == theirs, f"{args!r} (RESP{resp})\n  slotd: {ours!r}\n  redis: {theirs!r}"
        return ours

    def both(self, *args: object) -> None:
        for side in (self.ours, self.theirs):
            side.resp2.call(*args)  # type: ignore[arg-type]

    def learn_names(self) -> None:
        self.ours.learn_names()
        self.theirs.learn_names()

    def settle(self, state: bytes) -> None:
        wait_state(self.ours, state)
        wait_state(self.theirs, state)
        time.sleep(0.2)  # redis-server's cron refreshes cluster_size ten times a second


@pytest.fixture
def diff(sides: tuple[Side, Side]) -> Diff:
    return fresh_diff(sides)


def with_all_slots(diff: Diff) -> None:
    diff("CLUSTER", "ADDSLOTSRANGE", "0", "16383")
    diff.settle(b"ok")


def test_fresh_node(diff: Diff) -> None:
    diff("CLUSTER", "NODES")
    diff("CLUSTER", "NODES", resp=3)
    diff("CLUSTER", "MYID")
    diff("CLUSTER", "SLOTS")
    diff("CLUSTER", "SHARDS")
    diff("CLUSTER", "SHARDS", resp=3)
    diff("CLUSTER", "LINKS")
    diff("CLUSTER", "HELP")
    diff("CLUSTER", "BUMPEPOCH")
    diff("CLUSTER", "BUMPEPOCH")
    diff("CLUSTER", "SAVECONFIG")


def test_a_node_with_every_slot(diff: Diff) -> None:
    with_all_slots(diff)
    for resp in (2, 3):
        diff("CLUSTER", "INFO", resp=resp)
        diff("CLUSTER", "NODES", resp=resp)
        diff("CLUSTER", "SLOTS", resp=resp)
        diff("CLUSTER", "SHARDS", resp=resp)
    diff("INFO", "cluster")


def test_scattered_slots_and_epochs(diff: Diff) -> None:
    diff("CLUSTER", "ADDSLOTS", "1", "2", "3", "16383")
    diff("CLUSTER", "ADDSLOTSRANGE", "5", "10", "11", "12", "100", "200")
    diff("CLUSTER", "DELSLOTSRANGE", "10", "12", "150", "160")
    diff("CLUSTER", "DELSLOTS", "2")
    diff("CLUSTER", "SET-CONFIG-EPOCH", "3")
    diff.settle(b"fail")
    for resp in (2, 3):
        diff("CLUSTER", "INFO", resp=resp)
        diff("CLUSTER", "NODES", resp=resp)
        diff("CLUSTER", "SLOTS", resp=resp)
        diff("CLUSTER", "SHARDS", resp=resp)
    diff("CLUSTER", "BUMPEPOCH")
    diff("CLUSTER", "FLUSHSLOTS")
    diff("CLUSTER", "NODES")


SETUP_ERRORS = [
    ("CLUSTER", "ADDSLOTS"),
    ("CLUSTER", "ADDSLOTS", "abc"),
    ("CLUSTER", "ADDSLOTS", "16384"),
    ("CLUSTER", "ADDSLOTS", "-1"),
    ("CLUSTER", "ADDSLOTS", "4", "5", "4"),
    ("CLUSTER", "ADDSLOTS", "3"),
    ("CLUSTER", "ADDSLOTSRANGE", "5"),
    ("CLUSTER", "ADDSLOTSRANGE", "5", "6", "7"),
    ("CLUSTER", "ADDSLOTSRANGE", "10", "5"),
    ("CLUSTER", "ADDSLOTSRANGE", "5", "10", "8", "12"),
    ("CLUSTER", "ADDSLOTSRANGE", "1", "10"),
    ("CLUSTER", "DELSLOTS", "100"),
    ("CLUSTER", "DELSLOTS", "1", "1"),
    ("CLUSTER", "DELSLOTSRANGE", "1", "2", "2", "3"),
    ("CLUSTER", "DELSLOTSRANGE", "20", "30"),
    ("CLUSTER", "COUNTKEYSINSLOT", "16384"),
    ("CLUSTER", "COUNTKEYSINSLOT", "-1"),
    ("CLUSTER", "COUNTKEYSINSLOT", "x"),
    ("CLUSTER", "GETKEYSINSLOT", "5", "-1"),
    ("CLUSTER", "GETKEYSINSLOT", "16384", "1"),
    ("CLUSTER", "GETKEYSINSLOT", "x", "1"),
    ("CLUSTER", "GETKEYSINSLOT", "1", "x"),
    ("CLUSTER", "GETKEYSINSLOT", "1", "0"),
    ("CLUSTER", "KEYSLOT"),
    ("CLUSTER", "MYID", "x"),
    ("CLUSTER", "SET-CONFIG-EPOCH", "-1"),
    ("CLUSTER", "SET-CONFIG-EPOCH", "x"),
    ("CLUSTER", "SETSLOT", "1"),
    ("CLUSTER", "SETSLOT", "1", "x"),
    ("CLUSTER", "SETSLOT", "x", "stable"),
    ("CLUSTER", "SETSLOT", "16384", "stable"),
    ("CLUSTER", "SETSLOT", "1", "stable", "x"),
    ("CLUSTER", "SETSLOT", "1", "migrating"),
    ("CLUSTER", "SETSLOT", "1", "migrating", X),
    ("CLUSTER", "SETSLOT", "100", "migrating", X),
    ("CLUSTER", "SETSLOT", "100", "importing", X),
    ("CLUSTER", "SETSLOT", "1", "node", X),
    ("CLUSTER", "SETSLOT", "1", "node"),
    ("CLUSTER", "SETSLOT", "1", "foo", "bar"),
    ("CLUSTER", "REPLICAS", X),
    ("CLUSTER", "SLAVES", X),
    ("CLUSTER", "FORGET", X),
    ("CLUSTER", "REPLICATE", X),
    ("CLUSTER", "COUNT-FAILURE-REPORTS", X),
    ("CLUSTER", "FAILOVER"),
    ("CLUSTER", "FAILOVER", "force"),
    ("CLUSTER", "FAILOVER", "foo"),
    ("CLUSTER", "FAILOVER", "force", "x"),
    ("CLUSTER", "FAILOVER", "TAKEOVER", "x"),
    ("CLUSTER", "MEET", "1.2.3", "5"),
    ("CLUSTER", "MEET", "127.0.0.1", "x"),
    ("CLUSTER", "MEET", "127.0.0.1", "70000"),
    ("CLUSTER", "MEET", "127.0.0.1", "100", "x"),
    ("CLUSTER", "MEET", "127.0.0.1", "100", "70000"),
    ("CLUSTER", "MEET", "localhost", "100"),
    ("CLUSTER", "MEET", "127.0.0.1", "100", "100", "100"),
    ("CLUSTER", "RESET", "foo"),
    ("CLUSTER", "ReSet", "hard", "x"),
    ("CLUSTER", "nosuch"),
    ("CLUSTER",),
    ("SELECT", "1"),
    ("SELECT", "100"),
    ("SELECT", "abc"),
    ("SELECT", "99999999999"),
    ("SELECT", "0"),
    ("ASKING", "x"),
    ("READONLY", "x"),
]


@pytest.mark.parametrize("args", SETUP_ERRORS, ids=" ".join)
def test_argument_errors(diff: Diff, args: tuple[str, ...]) -> None:
    diff("CLUSTER", "ADDSLOTS", "1", "2", "3")
    diff(*args)


def test_node_table_errors_about_myself(diff: Diff) -> None:
    me = diff.ours.resp2.call("CLUSTER", "MYID")[5:-2]
    them = diff.theirs.resp2.call("CLUSTER", "MYID")[5:-2]
    for sub in ("FORGET", "REPLICATE", "REPLICAS", "COUNT-FAILURE-REPORTS"):
        ours = diff.ours.normalize(diff.ours.resp2.call("CLUSTER", sub, me))
        theirs = diff.theirs.normalize(diff.theirs.resp2.call("CLUSTER", sub, them))
        assert ours == theirs, sub


def test_keyslot_vectors(diff: Diff) -> None:
    for key in (
        "somekey",
        "foo{hash_tag}",
        "{user1000}.following",
        "foo",
        "bar",
        "hello",
        "foo{}{bar}",
        "foo{{bar}}zap",
        "foo{bar}{zap}",
        "a{b",
        "{}",
        "",
    ):
        diff("CLUSTER", "KEYSLOT", key)


def test_keys_in_slots(diff: Diff) -> None:
    with_all_slots(diff)
    for key in ("a", "{a}1", "{a}2", "{a}3", "b"):
        diff("SET", key, "1")
    diff("CLUSTER", "COUNTKEYSINSLOT", "15495")
    diff("CLUSTER", "GETKEYSINSLOT", "15495", "10")
    diff("CLUSTER", "GETKEYSINSLOT", "15495", "2")
    diff("DEL", "{a}2")
    diff("SET", "{a}2", "x")
    diff("CLUSTER", "GETKEYSINSLOT", "15495", "10")
    diff("CLUSTER", "FLUSHSLOTS")
    diff("CLUSTER", "RESET")
    diff("MSET", "a", "1", "b", "2")
    diff("MSET", "a", "1", "{a}x", "2")
    diff("COPY", "a", "{a}y", "DB", "1")
    diff("MOVE", "a", "1")
    diff("SWAPDB", "0", "1")
    diff("RPUSH", "l", "2", "1")
    for args in (
        ("BY", "w_*"),
        ("GET", "h_*"),
        ("BY", "nosort", "GET", "#"),
        ("GET", "#"),
        ("bad", "BY", "w_*"),
        ("BY", "w_*", "bad"),
        ("GET", "#", "GET", "x"),
    ):
        diff("SORT", "l", *args)
        diff("SORT_RO", "l", *args)


def redirect_world(diff: Diff) -> None:
    """Every slot but bar's (5061), which a handshake node owns; foo's (12182) migrating
    to it; 3000 owned by nobody."""
    with_all_slots(diff)
    diff("CLUSTER", "MEET", "127.0.0.1", str(DEAD_PORT))
    diff.learn_names()
    node1 = {
        side: next(n for n, label in side.names.items() if label == b"<node1>")
        for side in (diff.ours, diff.theirs)
    }
    for side, name in node1.items():
        conn = side.resp2
        assert conn.call("CLUSTER", "SETSLOT", "5061", "NODE", name) == b"+OK\r\n"
        assert conn.call("CLUSTER", "SETSLOT", "12182", "MIGRATING", name) == b"+OK\r\n"
    diff("CLUSTER", "DELSLOTS", "3000")
    diff("CONFIG", "SET", "cluster-require-full-coverage", "no")
    diff.settle(b"ok")


@pytest.fixture
def world(tmp_path: Path) -> Iterator[Diff]:
    pair = start_pair(tmp_path)
    try:
        differ = fresh_diff(pair)
        redirect_world(differ)
        yield differ
    finally:
        stop_pair(pair)


def test_nodes_with_a_handshake_node(world: Diff) -> None:
    world("CLUSTER", "NODES", lines=True)
    world("CLUSTER", "SLOTS")
    world("CLUSTER", "SHARDS")
    world("CLUSTER", "INFO")


def test_moved_ask_crossslot_tryagain(world: Diff) -> None:
    world("SET", "{foo}here", "1")
    for args in [
        ("GET", "bar"),
        ("SET", "bar", "1"),
        ("GET", "foo"),
        ("GET", "{foo}here"),
        ("MGET", "foo", "{foo}here"),
        ("MGET", "{foo}here", "{foo}here"),
        ("MGET", "foo", "bar"),
        ("GET", "{3000}"),
        ("DEL", "bar", "foo"),
        ("EVAL", "return 1", "1", "bar"),
        ("EVAL", "return 1", "0"),
        ("SPUBLISH", "bar", "m"),
        ("SPUBLISH", "foo", "m"),
        ("PUBLISH", "bar", "m"),
        ("SSUBSCRIBE", "foo", "bar"),
        ("EXISTS", "{3000}"),
        ("KEYS", "*"),
        ("DBSIZE",),
        ("ASKING",),
        ("GET", "bar"),
        ("GET", "bar"),
    ]:
        world(*args)


def test_transactions_and_scripts(world: Diff) -> None:
    for args in [
        ("MULTI",),
        ("GET", "bar"),
        ("GET", "a"),
        ("EXEC",),
        ("MULTI",),
        ("GET", "a"),
        ("SET", "{a}2", "1"),
        ("EXEC",),
        ("MULTI",),
        ("ASKING",),
        ("EXEC",),
        ("GET", "bar"),
        ("EVAL", 'return redis.call("get", "bar")', "0"),
        ("EVAL", 'return redis.pcall("get", "bar")', "0"),
        ("EVAL", 'redis.call("get", "a") return redis.call("get", "b")', "0"),
        ("EVAL", '#!lua\nredis.call("get", "a") return redis.call("get", "b")', "0"),
        ("EVAL", '#!lua\nreturn redis.pcall("get", "b")', "1", "a"),
        (
            "EVAL",
            "#!lua flags=allow-cross-slot-keys\nredis.call('get', 'a') "
            "return redis.call('get', 'b')",
            "0",
        ),
        ("EVAL", "#!lua flags=no-cluster\nreturn 1", "0"),
    ]:
        world(*args)


def test_readonly_flags_on_a_master(world: Diff) -> None:
    for args in [
        ("READONLY",),
        ("GET", "bar"),
        ("READWRITE",),
        ("GET", "bar"),
        ("ASKING",),
        ("MULTI",),
        ("GET", "a"),
        ("EXEC",),
    ]:
        world(*args)


def test_reads_when_down(world: Diff) -> None:
    world("CONFIG", "SET", "cluster-require-full-coverage", "yes")
    world("GET", "a")  # still ok: a config change does not recompute the state
    world("CLUSTER", "DELSLOTS", "3001")  # this does
    world.settle(b"fail")
    world("GET", "a")
    world("CONFIG", "SET", "cluster-allow-reads-when-down", "yes")
    world("GET", "a")
    world("SET", "a", "1")
    world("SPUBLISH", "a", "m")
    world("CONFIG", "SET", "cluster-allow-reads-when-down", "no")
    world("CONFIG", "SET", "cluster-allow-pubsubshard-when-down", "no")
    world("SPUBLISH", "a", "m")
    world("CONFIG", "SET", "cluster-allow-pubsubshard-when-down", "yes")


def test_preferred_endpoint_in_redirects(world: Diff) -> None:
    for endpoint in ("hostname", "unknown-endpoint", "ip"):
        world("CONFIG", "SET", "cluster-preferred-endpoint-type", endpoint)
        world("GET", "bar")
        world("CLUSTER", "SLOTS")
        world("CLUSTER", "SLOTS", resp=3)
        world("CLUSTER", "SHARDS")
