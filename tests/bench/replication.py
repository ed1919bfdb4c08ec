"""tests/bench/replication.py: replication figures of slotd next to redis-server 7.0 on this
machine (not a test; run `.venv/bin/python tests/bench/replication.py [KEYS]`).

For each server (a slotd master with slotd replicas, a redis-server master with redis-server
replicas, started the same way):
- full sync: load KEYS (default 1,000,000) string keys with 16-byte values by pipelined
  MSET into the master, then time REPLICAOF until the replica reports its link up with
  the master's offset, diskless (repl-diskless-sync-delay 0) and disk-based;
- the master's redis-benchmark SET throughput (-c 50 -P 16 -r 100000, 400k requests) with
  no replica and with two replicas attached.
Prints Markdown tables to paste into BENCHMARKS.md.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests import procs
from tests.bench.persistence import info, load_keys, set_rps
from tests.rawclient import RawClient

Starter = Callable[..., procs.ServerProcess]


def synced(master: procs.ServerProcess, replica: procs.ServerProcess) -> bool:
    with RawClient(*master.addr) as m, RawClient(*replica.addr, timeout=600) as r:
        ri = info(r, "replication")
        return (
            ri.get("master_link_status") == "up"
            and ri["slave_repl_offset"] == info(m, "replication")["master_repl_offset"]
        )


def attach(master: procs.ServerProcess, replica: procs.ServerProcess) -> float:
    """REPLICAOF, then wait until the replica caught up; the seconds it took."""
    start = time.monotonic()
    with RawClient(*replica.addr) as r:
        assert r.call("REPLICAOF", "127.0.0.1", master.port) == b"+OK\r\n"
    while not synced(master, replica):
        time.sleep(0.02)
    return time.monotonic() - start


def full_sync(starter: Starter, keys: int, diskless: str) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        master = starter(
            directory / "m", "--repl-diskless-sync", diskless, "--repl-diskless-sync-delay", "0"
        )
        replica = starter(directory / "r")
        try:
            load_keys(master, keys)
            return attach(master, replica)
        finally:
            replica.stop()
            master.stop()


def throughput(starter: Starter, replicas: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        master = starter(directory / "m", "--repl-diskless-sync-delay", "0")
        others = [starter(directory / f"r{i}") for i in range(replicas)]
        try:
            for replica in others:
                attach(master, replica)
            return set_rps(master, 400_000)
        finally:
            for server in (*others, master):
                server.stop()


def main() -> None:
    keys = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    servers = (("slotd", procs.start_slotd), ("redis-server", procs.start_redis))
    print(
        "| sync | keys | slotd (s) | redis-server (s) | ratio (redis/slotd) |\n"
        "|---|---|---|---|---|"
    )
    for diskless, label in (("yes", "diskless"), ("no", "disk")):
        times = [full_sync(starter, keys, diskless) for _, starter in servers]
        print(
            f"| {label} | {keys:,} | {times[0]:.2f} | {times[1]:.2f} | {times[1] / times[0]:.2f} |"
        )
    print("\n| replicas | slotd SET rps | redis SET rps | ratio |\n|---|---|---|---|")
    for count in (0, 2):
        rates = [throughput(starter, count) for _, starter in servers]
        print(f"| {count} | {rates[0]:,.0f} | {rates[1]:,.0f} | {rates[0] / rates[1]:.2f} |")


if __name__ == "__main__":
    main()
