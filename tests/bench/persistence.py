"""tests/bench/persistence.py: persistence figures of slotd next to redis-server 7.0 on this
machine (not a test; run `.venv/bin/python tests/bench/persistence.py [KEYS]`).

For each server: load KEYS (default 1,000,000) string keys with 16-byte values by pipelined
MSET, then
- BGSAVE: fork time (INFO latest_fork_usec), wall time until the child is reaped, and the
  parent's stall (the slowest PING answered on another connection while the child runs);
- load: the "DB loaded from disk" seconds a restart on that dump.rdb logs;
- AOF: redis-benchmark SET throughput with -c 50 -P 16 without AOF and under appendfsync
  everysec and always, as a ratio to redis-server with the same setting.
Prints a Markdown table to paste into BENCHMARKS.md.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests import procs
from tests.rawclient import RawClient


def info(client: RawClient, section: str) -> dict[str, str]:
    text = client.call("INFO", section).decode()
    body = text.split("\r\n", 1)[1] if text.startswith("$") else text
    return dict(line.split(":", 1) for line in body.split("\r\n") if ":" in line)


def load_keys(server: procs.ServerProcess, keys: int) -> None:
    with RawClient(*server.addr, timeout=600) as client:
        batch: list[str] = []
        sent = 0
        for i in range(keys):
            batch += [f"key:{i:012d}", f"{i:016d}"]
            if len(batch) >= 2000:
                client.send("MSET", *batch)
                sent += 1
                batch = []
        if batch:
            client.send("MSET", *batch)
            sent += 1
        for _ in range(sent):
            client.read_reply()


def bgsave(server: procs.ServerProcess) -> tuple[float, float, float]:
    """(fork ms, BGSAVE wall s, worst PING ms during it)."""
    with RawClient(*server.addr, timeout=600) as client, RawClient(*server.addr) as probe:
        start = time.monotonic()
        assert client.call("BGSAVE").startswith(b"+Background saving started")
        worst = 0.0
        while True:
            t0 = time.monotonic()
            probe.call("PING")
            worst = max(worst, time.monotonic() - t0)
            if info(client, "persistence")["rdb_bgsave_in_progress"] == "0":
                break
            time.sleep(0.005)
        wall = time.monotonic() - start
        fork_us = int(info(client, "stats")["latest_fork_usec"])
        assert info(client, "persistence")["rdb_last_bgsave_status"] == "ok"
    return fork_us / 1000, wall, worst * 1000


def wait_loaded(server: procs.ServerProcess) -> None:
    """A server answers PING with -LOADING while it loads: wait for +PONG."""
    with RawClient(*server.addr, timeout=600) as client:
        while client.call("PING") != b"+PONG\r\n":
            time.sleep(0.05)


def load_seconds(log: str) -> float:
    found = re.findall(r"DB loaded from disk: ([0-9.]+) seconds", log)
    return float(found[-1]) if found else float("nan")


def set_rps(server: procs.ServerProcess, requests: int) -> float:
    bench = procs.find_tool("redis-benchmark", "REDIS_BENCHMARK")
    out = subprocess.run(
        [
            bench,
            "-p",
            str(server.port),
            "-t",
            "set",
            "-c",
            "50",
            "-P",
            "16",
            "-n",
            str(requests),
            "-r",
            "100000",
            "--csv",
            "-q",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    ).stdout
    row = next(line for line in out.splitlines() if line.startswith('"SET"'))
    return float(row.split(",")[1].strip('"'))


def main() -> None:
    keys = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    rows = []
    for name, starter in (("slotd", procs.start_slotd), ("redis-server", procs.start_redis)):
        with tempfile.TemporaryDirectory() as tmp:
            directory = Path(tmp)
            server = starter(directory)
            load_keys(server, keys)
            fork_ms, wall, stall = bgsave(server)
            server.stop()
            again = starter(directory, "--dbfilename", "dump.rdb")
            wait_loaded(again)
            loaded = load_seconds(again.log_path.read_text(errors="replace"))
            if loaded != loaded:  # NaN: show why
                print(again.log_tail(20), file=sys.stderr)
            again.stop()
            rows.append((name, fork_ms, wall, stall, loaded))
    print(
        "| server | keys | fork (ms) | BGSAVE wall (s) | worst PING during BGSAVE (ms) "
        "| load at start-up (s) |\n|---|---|---|---|---|---|"
    )
    for name, fork_ms, wall, stall, loaded in rows:
        print(f"| {name} | {keys:,} | {fork_ms:.1f} | {wall:.2f} | {stall:.1f} | {loaded:.2f} |")
    print("\n| appendfsync | slotd SET rps | redis SET rps | ratio |\n|---|---|---|---|")
    for policy in ("off", "everysec", "always"):
        rates = []
        aof = (
            ["--appendonly", "yes", "--appendfsync", policy]
            if policy != "off"
            else ["--appendonly", "no"]
        )
        for starter in (procs.start_slotd, procs.start_redis):
            with tempfile.TemporaryDirectory() as tmp:
                server = starter(Path(tmp), *aof)
                rates.append(set_rps(server, 100_000 if policy == "always" else 400_000))
                server.stop()
        print(f"| {policy} | {rates[0]:,.0f} | {rates[1]:,.0f} | {rates[0] / rates[1]:.2f} |")


if __name__ == "__main__":
    main()
