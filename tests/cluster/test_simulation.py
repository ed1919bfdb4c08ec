"""The seeded cluster simulation (cluster_cli/simulate.py): a few seeds of every fault kind
run clean, a fault-free run fails nothing over, a seed replays exactly, the checkers catch
what they are there for, and the command line prints and replays seeds. Then one
regression test per bug the simulation found in the bus, rebuilt on the in-memory network
of tests/cluster/busnet.py so it needs no seed."""

from __future__ import annotations

import argparse

import pytest

from cluster_cli import simulate as sim
from cluster_cli.__main__ import build_parser, run
from cluster_cli.report import Output
from node.cluster.codec import MsgType
from node.cluster.state import NodeFlag
from tests.cluster.busnet import BusNet

SHORT = 10_000  # ms of faults per run: the normal suite runs a handful of seeds


def run_seed(seed: int, faults: tuple[str, ...] = sim.FAULTS) -> sim.Result:
    result = sim.simulate(sim.Options(seed=seed, duration_ms=SHORT, faults=faults))
    assert result.ok, "\n".join([*result.violations, *result.trace[-60:]])
    return result


@pytest.mark.parametrize("seed", [1, 2])
def test_seeds_with_every_fault_run_clean(seed: int) -> None:
    run_seed(seed)


def test_no_fault_no_failover() -> None:
    result = run_seed(7, faults=())
    assert result.failovers == 0
    assert result.settled_after_ms >= 0


def test_same_seed_same_trace() -> None:
    first = sim.simulate(sim.Options(seed=11, duration_ms=8000))
    second = sim.simulate(sim.Options(seed=11, duration_ms=8000))
    assert first.trace == second.trace
    assert any("promoted" in line or "crashes" in line or "paused" in line for line in first.trace)


def formed() -> sim.Simulation:
    simulation = sim.Simulation(sim.Options(seed=21, faults=()))
    simulation.form()
    return simulation


def test_checker_flags_a_takeover_nobody_needed() -> None:
    """A replica that takes over from a healthy master (TAKEOVER: no vote, no failure) is
    exactly what a false failover looks like."""
    simulation = formed()
    replica = simulation.nodes[3]
    with pytest.raises(sim.Violation, match=r"n3 took over from n0 .*false failover"):
        simulation.on_node(replica, lambda: replica.command("CLUSTER", "FAILOVER", "TAKEOVER"))


def test_checker_flags_two_claims_with_one_config_epoch() -> None:
    simulation = formed()
    n0, n1 = simulation.nodes[0], simulation.nodes[1]
    state = n1.cluster.state
    state.myself.config_epoch = n0.cluster.state.myself.config_epoch
    state.set_slot_owner(5, state.myself)
    with pytest.raises(sim.Violation, match="n0 and n1 both claim slot 5 with config epoch 1"):
        simulation.check_running()


def test_checker_flags_a_second_vote_in_an_epoch() -> None:
    simulation = formed()
    voter = simulation.nodes[2]
    state = voter.cluster.state
    state.last_vote_epoch = state.current_epoch
    state.stats_sent[MsgType.FAILOVER_AUTH_ACK] += 1  # a vote goes out
    simulation.turn(voter)
    state.stats_sent[MsgType.FAILOVER_AUTH_ACK] += 1  # another, in the same epoch
    with pytest.raises(
        sim.Violation,
        match=r"n2 voted 1 time\(s\) in epoch (\d+) \(its "
        r"previous vote: epoch \1\)",
    ):
        simulation.turn(voter)


def test_checker_flags_a_split_slot_map() -> None:
    simulation = formed()
    assert simulation.settled() is None
    state = simulation.nodes[4].cluster.state
    state.set_slot_owner(0, state.nodes[simulation.nodes[1].name])
    assert simulation.settled() == "n0 and n4 disagree on slot 0: n0 vs n1"


def test_cli_replays_one_seed_with_its_trace(capsys: pytest.CaptureFixture[str]) -> None:
    args = build_parser().parse_args(["simulate", "--seed", "5", "--duration", "5000"])
    assert isinstance(args, argparse.Namespace)
    assert run(args, Output()) == 0
    out = capsys.readouterr().out.splitlines()
    assert "cluster formed" in "\n".join(out)
    assert out[-2].startswith("seed 5: ok")
    assert out[-1] == "1 of 1 seeds clean"


def test_cli_prints_a_failing_seed_and_how_to_replay_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: sim.Simulation) -> None:
        raise sim.Violation("always broken")

    monkeypatch.setattr(sim.Simulation, "check_running", broken)
    args = build_parser().parse_args(
        ["simulate", "--runs", "1", "--first", "3", "--faults", "none", "--trace", "3"]
    )
    assert run(args, Output()) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "seed 3: FAILED: always broken"
    assert len([line for line in out if line.startswith("    ") and "replay" not in line]) == 3
    assert out[-2].startswith("    replay: slotd-cluster simulate --seed 3 ")
    assert out[-1] == "0 of 1 seeds clean"


def test_unknown_fault_refused(capsys: pytest.CaptureFixture[str]) -> None:
    args = build_parser().parse_args(["simulate", "--faults", "crash,meteor"])
    assert run(args, Output()) == 1
    assert "unknown fault(s) meteor" in capsys.readouterr().out


def test_a_replica_turned_master_sheds_its_stale_fail_flag() -> None:
    """Regression (simulation seed 12, 9 nodes): node 4 still flags its fellow replica 3
    FAIL from an old outage when 3 wins the election for their master; 4 then follows 3
    and must not run an election against its healthy new master."""
    net = BusNet(6, cluster_replica_validity_factor="0")
    net.form([0, 1, 2], replicas=((3, 0), (4, 0), (5, 1)))
    net.run(6000)
    seen = net[4].cluster.state.lookup(net[3].name)
    assert seen is not None
    seen.flags |= NodeFlag.FAIL
    seen.fail_time = net.now
    assert net[3].h("CLUSTER", "FAILOVER") == b"OK"
    for _ in range(50):
        net.tick()
        if net[4].cluster.state.myself.master is seen:
            break
    assert net[4].cluster.state.myself.master is seen and seen.is_master
    assert not seen.failed
    net.run(3000)
    assert net[3].cluster.state.myself.is_master
    assert net[4].cluster.state.myself.is_replica
    assert not net[4].bus.failover.auth_sent


def test_a_sub_replica_follows_its_grandmaster() -> None:
    """Regression (simulation seed 15, 9 nodes): node 4, cut off while its master 0 was
    failed over to node 3, learns that 0 turned replica (0's slots go unassigned in its
    view) before 3's claim on them arrives; when it does, 4 must follow 3 rather than stay
    a replica of a replica for good (4's own pings then claim no slots: no UPDATE would
    ever come)."""
    net = BusNet(6, cluster_replica_validity_factor="0")
    net.form([0, 1, 2], replicas=((3, 0), (4, 0), (5, 1)))
    net.run(6000)
    for other in (0, 1, 2, 3, 5):
        net.partition(4, other)
    assert net[3].h("CLUSTER", "FAILOVER") == b"OK"
    for _ in range(50):
        net.tick()
        if net[0].cluster.state.myself.is_replica:
            break
    view = net[4].cluster.state
    old, new = view.lookup(net[0].name), view.lookup(net[3].name)
    assert old is not None and new is not None and old.numslots and not new.numslots
    # What 0's first PONG after the failover tells node 4 (the bus's role update).
    view.del_node_slots(old)
    old.flags = (old.flags & ~NodeFlag.MASTER) | NodeFlag.SLAVE
    view.attach_replica(new, old)
    net.heal()
    net.run(4000)
    assert view.myself.master is new
    assert net[4].h.engine.replication.master_port == net[3].port
