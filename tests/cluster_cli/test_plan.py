"""Slot allocation, replica placement, reshard and rebalance plans, fix cases: the numbers
redis-cli --cluster 7.0.15 produced for the same inputs (observed on real nodes)."""

from __future__ import annotations

import pytest

from cluster_cli import plan
from cluster_cli.plan import Addr, FixCase, Member, Move, PlanError, Source


def test_allocate_three_masters_like_redis_cli() -> None:
    assert plan.allocate_slots(3) == [(0, 5460), (5461, 10922), (10923, 16383)]


@pytest.mark.parametrize("masters", [3, 4, 5, 7, 10, 100])
def test_allocation_covers_every_slot_once(masters: int) -> None:
    ranges = plan.allocate_slots(masters)
    slots = [s for a, b in ranges for s in range(a, b + 1)]
    assert slots == list(range(16384))
    sizes = [b - a + 1 for a, b in ranges]
    assert max(sizes) - min(sizes) <= 1


def test_round_half_up() -> None:
    assert [plan.round_half_up(x) for x in (0.5, 1.5, 2.5, 2.49)] == [1, 2, 3, 2]


def test_parse_addr() -> None:
    assert plan.parse_addr("127.0.0.1:7000") == Addr("127.0.0.1", 7000)
    assert plan.parse_addr("[::1]:7000") == Addr("::1", 7000)
    for bad in ("7000", "host:", "host:x", "host:70000", ":7000"):
        with pytest.raises(PlanError):
            plan.parse_addr(bad)


def local(*ports: int, host: str = "127.0.0.1") -> list[Addr]:
    return [Addr(host, p) for p in ports]


def test_layout_one_host() -> None:
    layout = plan.plan_layout(local(*range(7000, 7006)), 1)
    assert [m for m, _ in layout.masters] == local(7000, 7001, 7002)
    assert [r for _, r in layout.masters] == plan.allocate_slots(3)
    assert layout.replicas == list(
        zip(local(7003, 7004, 7005), local(7000, 7001, 7002), strict=True)
    )
    assert layout.same_host_pairs == 3


def test_layout_spreads_masters_and_replicas_over_hosts() -> None:
    addrs = local(1, 2, 3, host="a") + local(1, 2, 3, host="b")
    layout = plan.plan_layout(addrs, 1)
    assert [str(m) for m, _ in layout.masters] == ["a:1", "b:1", "a:2"]
    assert layout.same_host_pairs == 0
    assert sorted(str(r) for r, _ in layout.replicas) == ["a:3", "b:2", "b:3"]


def test_layout_extra_nodes_become_extra_replicas() -> None:
    layout = plan.plan_layout(local(*range(7000, 7008)), 1)
    assert len(layout.masters) == 4 and len(layout.replicas) == 4
    layout = plan.plan_layout(local(*range(7000, 7004)), 0)
    assert len(layout.masters) == 4 and layout.replicas == []
    layout = plan.plan_layout(local(*range(7000, 7007)), 1)
    masters_of = [m.port for _, m in layout.replicas]
    assert len(layout.masters) == 3 and masters_of == [7000, 7001, 7002, 7000]


def test_layout_needs_three_masters() -> None:
    with pytest.raises(PlanError, match="At least 6 nodes are required"):
        plan.plan_layout(local(*range(7000, 7005)), 1)
    with pytest.raises(PlanError, match="more than once"):
        plan.plan_layout(local(7000, 7000, 7001), 0)


def test_reshard_plan_from_all_like_redis_cli() -> None:
    # 16533 owned 5461 slots and 16531 5456; moving 4: 3 from the bigger, 1 from the other.
    big = Source("c", list(range(10923, 16384)))
    small = Source("a", list(range(5, 5461)))
    assert plan.reshard_plan([small, big], 4) == [
        (10923, "c"),
        (10924, "c"),
        (10925, "c"),
        (5, "a"),
    ]


def test_reshard_plan_single_source_takes_lowest_slots() -> None:
    moves = plan.reshard_plan([Source("a", [9, 3, 4, 100])], 3)
    assert moves == [(3, "a"), (4, "a"), (9, "a")]
    assert plan.reshard_plan([Source("a", [])], 3) == []


def test_reshard_plan_never_exceeds_count() -> None:
    sources = [Source(str(i), list(range(i * 1000, i * 1000 + 1000))) for i in range(5)]
    for count in (1, 7, 999, 5000):
        assert len(plan.reshard_plan(sources, count)) == min(count, 5000)


def test_rebalance_like_redis_cli() -> None:
    # Observed: 16531 4455 slots, 16533 5458, 16532 6471 (seed order) -> redis-cli moved
    # 1007 slots 16532 -> 16531 and 3 slots 16532 -> 16533.
    result = plan.rebalance_plan([Member("a", 4455), Member("c", 5458), Member("b", 6471)])
    assert result.nodes == 3 and result.total_weight == 3.0
    assert result.moves == [Move("b", "a", 1007), Move("b", "c", 3)]


def test_rebalance_within_threshold() -> None:
    assert (
        plan.rebalance_plan([Member("a", 5461), Member("b", 5461), Member("c", 5462)]).moves == []
    )
    members = [Member("a", 5400), Member("b", 5500), Member("c", 5484)]
    assert plan.rebalance_plan(members, threshold=2.0).moves == []
    assert plan.rebalance_plan(members, threshold=0.5).moves != []


def test_rebalance_empty_masters_and_weights() -> None:
    members = [Member("a", 8192), Member("b", 8192), Member("new", 0)]
    assert plan.rebalance_plan(members).moves == []  # empty masters ignored by default
    result = plan.rebalance_plan(members, use_empty=True)
    assert sum(m.count for m in result.moves if m.target == "new") == 5462
    drained = plan.rebalance_plan([Member("a", 8192), Member("b", 8192, weight=0)])
    assert drained.moves == [Move("b", "a", 8192)]


def test_rebalance_moves_balance_out() -> None:
    members = [Member(str(i), n) for i, n in enumerate([100, 16000, 84, 100, 100])]
    result = plan.rebalance_plan(members)
    final = {m.id: m.slots for m in members}
    for move in result.moves:
        final[move.source] -= move.count
        final[move.target] += move.count
    assert sum(final.values()) == 16384
    assert max(final.values()) - min(final.values()) <= 1


def test_least_replicated() -> None:
    assert plan.least_replicated(["a", "b", "c"], {"a": 1, "b": 0, "c": 0}) == "b"
    with pytest.raises(PlanError):
        plan.least_replicated([], {})


def test_fix_cases() -> None:
    assert plan.fix_case("x", ["x"], ["y"]) is FixCase.MOVE
    assert plan.fix_case("x", [], ["y", "z"]) is FixCase.TO_OWNER
    assert plan.fix_case("x", ["x"], []) is FixCase.CLOSE
    assert plan.fix_case("x", ["y", "z"], ["x"]) is FixCase.UNSUPPORTED
