"""Per-client memory figures and client eviction (node/engine/clientmem.py), pure: a fake
probe stands in for the shell's buffers."""

from __future__ import annotations

import pytest

from node.engine.clientmem import (
    CONNECTION_BASE,
    MIN_LIMIT,
    REPLY_BLOCK,
    Buffers,
    ClientMemory,
    request_size,
)
from node.engine.session import Client
from tests.support import Harness

MB = 1 << 20


class FakeShell:
    """Buffers per client id, as the shell would report them."""

    def __init__(self, h: Harness) -> None:
        self.buffers: dict[int, Buffers] = {}
        self.clients: ClientMemory = h.engine.memory.clients
        self.clients.probe = self.probe
        self.logged: list[tuple[str, str]] = []
        h.engine.log = lambda level, message: self.logged.append((level, message))

    def probe(self, client: Client) -> Buffers:
        return self.buffers.get(client.id, (0, 0, 0, 0))

    def pending(self, client: Client, size: int) -> None:
        self.buffers[client.id] = (0, 0, size, size + 100)


def fields(h: Harness, client: Client) -> dict[str, str]:
    line = h("CLIENT", "LIST", "ID", client.id).decode()
    return dict(part.split("=", 1) for part in line.split())


@pytest.fixture
def h() -> Harness:
    return Harness()


def test_request_size_is_the_multibulk_encoding() -> None:
    assert request_size([b"CLIENT", b"INFO"]) == len(b"*2\r\n$6\r\nCLIENT\r\n$4\r\nINFO\r\n")


def test_idle_client_costs_its_connection_only(h: Harness) -> None:
    FakeShell(h)
    other = h.client_harness()
    mine = fields(h, other.client)
    assert (
        mine
        | {
            "qbuf": "0",
            "qbuf-free": "0",
            "argv-mem": "0",
            "obl": "0",
            "oll": "0",
            "omem": "0",
            "tot-mem": str(CONNECTION_BASE),
        }
        == mine
    )


def test_caller_holds_its_request_and_argv(h: Harness) -> None:
    FakeShell(h)
    info = dict(part.split("=", 1) for part in h("CLIENT", "INFO").decode().split())
    assert info["qbuf"] == "26" and info["argv-mem"] == "10"
    assert int(info["tot-mem"]) == CONNECTION_BASE + 26 + 10 + 2 * 8


def test_partial_request_shows_in_qbuf(h: Harness) -> None:
    shell = FakeShell(h)
    other = h.client_harness()
    shell.buffers[other.client.id] = (50_000, 65_536, 0, 0)
    mine = fields(h, other.client)
    assert (mine["qbuf"], mine["qbuf-free"]) == ("50000", "15536")
    assert int(mine["tot-mem"]) == CONNECTION_BASE + 65_536


def test_pending_output_counts_in_reply_blocks(h: Harness) -> None:
    shell = FakeShell(h)
    other = h.client_harness()
    small = fields(h, other.client)
    shell.pending(other.client, 3 * REPLY_BLOCK + 1)
    big = fields(h, other.client)
    assert big["oll"] == "4"
    assert int(big["omem"]) == 3 * REPLY_BLOCK + 1 + 100 + 4 * 40
    assert int(big["tot-mem"]) == int(small["tot-mem"]) + int(big["omem"])


def test_multi_mem_is_redis_argv_len_sums(h: Harness) -> None:
    FakeShell(h)
    other = h.client_harness()
    other("MULTI")
    other("SET", "k", "v" * 1000)
    other("GET", "k")
    # What redis-server 7.0 shows for the same queue.
    assert fields(h, other.client)["multi-mem"] == "1048"


def test_subscriptions_and_watches_add_to_tot_mem(h: Harness) -> None:
    FakeShell(h)
    other = h.client_harness()
    before = int(fields(h, other.client)["tot-mem"])
    other("WATCH", "a", "b")
    watched = int(fields(h, other.client)["tot-mem"])
    other.raw("SUBSCRIBE", "x", "y")
    subscribed = int(fields(h, other.client)["tot-mem"])
    assert before < watched < subscribed


def test_info_memory_sums_clients_by_kind(h: Harness) -> None:
    shell = FakeShell(h)
    other = h.client_harness()
    replica = h.client_harness()
    replica.client.flags = "S"
    shell.pending(other.client, MB)
    shell.pending(replica.client, 2 * MB)
    memory = h("INFO", "memory").decode()
    values = dict(line.split(":", 1) for line in memory.split("\r\n") if ":" in line)
    clients = h.engine.memory.clients
    assert int(values["mem_clients_slaves"]) == clients.usage(replica.client) > 2 * MB
    assert int(values["mem_clients_normal"]) == (
        clients.usage(h.client) + clients.usage(other.client)
    )
    stats = h("MEMORY", "STATS")
    assert stats[stats.index(b"clients.slaves") + 1] == int(values["mem_clients_slaves"])


@pytest.mark.parametrize(
    ("setting", "maxmemory", "limit"),
    [
        ("0", "0", 0),
        ("1mb", "0", MB),
        ("1000", "0", MIN_LIMIT),
        ("10%", "100mb", 10 * MB),
        ("10%", "0", 0),
    ],
)
def test_limit_follows_redis(h: Harness, setting: str, maxmemory: str, limit: int) -> None:
    h("CONFIG", "SET", "maxmemory", maxmemory, "maxmemory-clients", setting)
    assert h.engine.memory.clients.limit == limit


def test_biggest_clients_go_first_until_under_the_limit(h: Harness) -> None:
    shell = FakeShell(h)
    h("CONFIG", "SET", "maxmemory-clients", "4mb")
    small, medium, big = (h.client_harness() for _ in range(3))
    shell.pending(small.client, MB // 2)
    shell.pending(medium.client, MB)
    shell.pending(big.client, 3 * MB)
    shell.clients.check(big.client)
    engine = h.engine
    assert engine.clients_to_close == [big.client]
    assert big.client.id not in engine.clients and medium.client.id in engine.clients
    assert shell.logged[0][0] == "notice"
    assert shell.logged[0][1].startswith(f"Evicting client: id={big.client.id} addr=")
    assert "omem=" in shell.logged[0][1]
    assert h("INFO", "stats").count(b"evicted_clients:1\r\n") == 1
    h("CONFIG", "RESETSTAT")
    assert b"evicted_clients:0\r\n" in h("INFO", "stats")


def test_no_evict_master_and_replicas_are_never_evicted(h: Harness) -> None:
    shell = FakeShell(h)
    h("CONFIG", "SET", "maxmemory-clients", "1mb")
    keeper, master, replica, small = (h.client_harness() for _ in range(4))
    keeper("CLIENT", "NO-EVICT", "on")
    master.client.flags = "M"
    replica.client.flags = "S"
    for c in (keeper, master, replica):
        shell.pending(c.client, 4 * MB)
    shell.clients.check(small.client)
    # The NO-EVICT client alone is over the limit: every evictable client goes, then the
    # warning (replicas and masters do not count).
    closed = h.engine.clients_to_close
    assert {c.id for c in closed} == {h.client.id, small.client.id}
    assert shell.logged[-1] == (
        "warning",
        "Over client maxmemory after evicting all evictable clients",
    )


def test_pubsub_clients_are_evictable(h: Harness) -> None:
    shell = FakeShell(h)
    h("CONFIG", "SET", "maxmemory-clients", "1mb")
    h("CLIENT", "NO-EVICT", "on")
    sub = h.client_harness()
    sub.raw("SUBSCRIBE", "ch")
    shell.pending(sub.client, 2 * MB)
    shell.clients.check(sub.client)
    assert h.engine.clients_to_close == [sub.client]


def test_a_stale_figure_never_evicts(h: Harness) -> None:
    shell = FakeShell(h)
    h("CONFIG", "SET", "maxmemory-clients", "1mb")
    h("CLIENT", "NO-EVICT", "on")
    other = h.client_harness()
    shell.pending(other.client, 512 * 1024)
    shell.clients.check(other.client)
    shell.clients.total += 10 * MB  # a client that has gone since, say
    shell.pending(other.client, 600 * 1024)
    shell.clients.check(other.client)  # over by the stale total: measured afresh, kept
    assert h.engine.clients_to_close == []
    assert shell.clients.total < MB


def test_cron_evicts_after_a_lower_limit_and_tracks_peaks(h: Harness) -> None:
    shell = FakeShell(h)
    h("CLIENT", "NO-EVICT", "on")
    other = h.client_harness()
    shell.buffers[other.client.id] = (150_000, 160_000, 5000, 6000)
    clients = shell.clients
    clients.cron()
    assert h.engine.observer.recent_max_input == 160_000
    assert h.engine.observer.recent_max_output == 6000 + 40
    assert h.engine.clients_to_close == []
    h("CONFIG", "SET", "maxmemory-clients", "128kb")  # measured at the next pass, at once
    assert h.engine.clients_to_close == []
    clients.cron()
    assert h.engine.clients_to_close == [other.client]
    shell.buffers.clear()
    h.advance(1000)
    clients.cron()
    assert h.engine.observer.recent_max_input == 160_000  # for 8 seconds
    h.advance(8000)
    for _ in range(8):
        h.advance(1000)
        clients.cron()
    assert h.engine.observer.recent_max_input == 0
