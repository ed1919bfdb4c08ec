"""CLUSTER NODES parsing, slot ranges, config signatures and the check rules, on literal
texts (shapes as redis-server 7.0.15 prints them)."""

from __future__ import annotations

import pytest

from cluster_cli import topology
from cluster_cli.topology import ParseError, parse_line, parse_nodes

A = "e83482403b8688a9e6217403f57570daaf9f5efe"
B = "e898ca09a03a54cf59c2d979d45829ab7a7a0622"
C = "280439785c06d4277c95bd8e2f35b37cb3bed43a"
R = "9a1afc0b4660605d3dc7ae93c47a0efbd0d54117"

NODES = (
    f"{A} 127.0.0.1:16531@26531 myself,master - 0 1795726626000 1 connected 0-99 101-5461 "
    f"[100->-{B}]\n"
    f"{B} 127.0.0.1:16532@26532 master - 0 1795726627000 2 connected 100 5462-10922\n"
    f"{C} 127.0.0.1:16533@26533,node-c.example master - 0 1795726627000 3 connected "
    "10923-16383\n"
    f"{R} 127.0.0.1:16535@26535 slave {A} 0 1795726628000 1 connected\n"
)


def test_parse_nodes_fields() -> None:
    a, b, c, r = parse_nodes(NODES)
    assert (a.id, a.host, a.port, a.bus_port) == (A, "127.0.0.1", 16531, 26531)
    assert a.myself and a.is_master and not a.is_replica and a.master_id is None
    assert a.slots == [*range(100), *range(101, 5462)]
    assert a.migrating == {100: B} and a.importing == {}
    assert a.slot_tokens == ["0-99", "101-5461"]
    assert b.slots == [100, *range(5462, 10923)]
    assert (c.hostname, c.bus_port, c.config_epoch) == ("node-c.example", 26533, 3)
    assert r.is_replica and r.master_id == A and r.slots == [] and r.pong_recv == 1795726628000


def test_parse_importing_and_unknown_address() -> None:
    node = parse_line(f"{B} :7000@17000 myself,master - 0 0 0 connected 5 [7-<-{A}]")
    assert node.host == "" and node.port == 7000 and node.slots == [5]
    assert node.importing == {7: A}
    noaddr = parse_line(f"{A} :0@0 master,noaddr - 0 0 0 disconnected")
    assert not noaddr.usable


def test_missing_bus_port_defaults_to_port_plus_10000() -> None:
    assert parse_line(f"{A} 10.0.0.1:6379 master - 0 0 0 connected").bus_port == 16379


def test_ipv6_port_after_last_colon() -> None:
    node = parse_line(f"{A} ::1:7000@17000 master - 0 0 0 connected")
    assert (node.host, node.port) == ("::1", 7000)


@pytest.mark.parametrize(
    "line",
    [
        f"{A} 127.0.0.1:1@2 master - 0 0",  # too few fields
        f"{A} 127.0.0.1:1@2 master - x 0 0 connected",
        f"{A} 127.0.0.1:1@2 master - 0 0 0 connected [5=>x]",
    ],
)
def test_bad_lines(line: str) -> None:
    with pytest.raises(ParseError):
        parse_line(line)


def test_vars_line_and_blanks_skipped() -> None:
    text = f"{A} 127.0.0.1:1@2 myself,master - 0 0 0 connected\n\nvars currentEpoch 6 lastVoteEpoch 0\n"
    assert [n.id for n in parse_nodes(text)] == [A]


def test_usable_flags() -> None:
    a, b, c, r = parse_nodes(NODES)
    assert all(n.usable for n in (a, b, c, r))
    for flags, link in (
        ("master,fail", "connected"),
        ("handshake", "connected"),
        ("master", "disconnected"),
    ):
        assert not parse_line(f"{A} 1.2.3.4:1@2 {flags} - 0 0 0 {link}").usable
    assert parse_line(f"{A} 1.2.3.4:1@2 master,fail? - 0 0 0 connected").failed


def test_ranges() -> None:
    assert topology.slot_ranges([5, 1, 2, 3, 9, 10]) == [(1, 3), (5, 5), (9, 10)]
    assert topology.format_ranges([0, 1, 2, 16383]) == "[0-2],[16383]"
    assert topology.format_ranges([]) == ""


def test_config_signature_ignores_order_and_open_slots() -> None:
    signature = topology.config_signature(parse_nodes(NODES))
    assert signature == f"{C}:10923-16383|{A}:0-99,101-5461|{B}:100,5462-10922"
    reordered = "\n".join(reversed(NODES.splitlines()))
    assert topology.config_signature(parse_nodes(reordered.replace(f" [100->-{B}]", ""))) == (
        signature
    )
    assert topology.config_signature(parse_nodes(NODES.replace(" 100 5462", " 5462"))) != (
        signature
    )


def test_open_and_uncovered_slots() -> None:
    a = parse_line(f"{A} h:1@2 myself,master - 0 0 1 connected 0-8000 [8001-<-{B}]")
    b = parse_line(f"{B} h:3@4 myself,master - 0 0 2 connected 8001-16000 [8001->-{A}]")
    opened = topology.open_slots([a, b])
    assert opened.migrating == {8001: ["h:3"]} and opened.importing == {8001: ["h:1"]}
    assert opened.slots == [8001]
    assert topology.uncovered_slots([a, b]) == list(range(16001, 16384))


def test_replica_counts() -> None:
    assert topology.replica_counts(parse_nodes(NODES)) == {A: 1}


def test_parse_info() -> None:
    text = "# Cluster\r\ncluster_enabled:1\r\n\r\n# Keyspace\r\ndb0:keys=3,expires=0\r\n"
    assert topology.parse_info(text) == {"cluster_enabled": "1", "db0": "keys=3,expires=0"}
