"""report.py: turn one `make bench` run into the results section of BENCHMARKS.md.

Reads compare.sh's JSON (A = slotd, B = redis-server) and the two rss.py results, checks
issue 2's targets, prints the section, and (with --write FILE) replaces the text between
the bench markers of FILE with it, keeping everything else (the hand-written notes).
Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

from node.io import native

BEGIN = "<!-- bench:begin (written by tests/bench/run.sh; edit outside the markers) -->"
END = "<!-- bench:end -->"
# (config, tests, minimum slotd/redis ratio) from issue 2.
THROUGHPUT_TARGETS = (("c50-P1", ("set", "get", "incr"), 0.95), ("c50-P16", ("set", "get"), 0.7))
RSS_TARGET = 3.0


def sh(*cmd: str) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return "?"


def native_note() -> str:
    """Which of slotd's modules ran compiled (`make native`)."""
    compiled = native.compiled_modules()
    return "mypyc-compiled: " + ", ".join(compiled) if compiled else "pure Python (NATIVE=0)"


def machine_notes(python: str) -> list[str]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kib / 2**20:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    commit = sh("git", "rev-parse", "--short", "HEAD")
    if sh("git", "status", "--porcelain", "--untracked-files=no"):
        commit += " (plus uncommitted changes)"
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return [
        f"- date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, slotd commit {commit}",
        f"- machine: {os.cpu_count()} CPUs ({cpu}), {mem} RAM, Linux {platform.release()}; "
        f"load average at the end of the run: {load}",
        f"- slotd on {sh(python, '-c', 'import sys; print(sys.version.split()[0])')} "
        f"({python}), {native_note()}; {sh('redis-server', '--version')}",
        "- compare.sh pins each server to CPU 0 and redis-benchmark to CPU 1 (PIN=split); "
        "other processes on the machine are not controlled, so single runs vary by ~10%",
    ]


def fmt_rate(x: float | None) -> str:
    return f"{x:,.0f}" if x else "FAIL"


def fmt_us(x: float | None) -> str:
    return f"{x:.2f}" if x else "-"


def p50(runs: list[dict[str, Any] | None]) -> str:
    """Median of the runs' p50 latencies (ms)."""
    vals = sorted(r["p50"] for r in runs if r)
    return f"{vals[len(vals) // 2]:.3f}" if vals else "-"


def throughput_table(cells: list[dict[str, Any]]) -> list[str]:
    rows = [
        "| config | test | slotd ops/s | redis ops/s | slotd/redis | slotd p50 ms | redis p50 ms "
        "| slotd CPU µs/op | redis CPU µs/op |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for cell in cells:
        med = cell["median"]
        rows.append(
            f"| {cell['config']} | {cell['test']} | {fmt_rate(med['A'])} | "
            f"{fmt_rate(med['B'])} | **{med['ratio']:.2f}** | {p50(cell['A'])} | "
            f"{p50(cell['B'])} | "
            f"{fmt_us(med.get('A_us'))} | {fmt_us(med.get('B_us'))} |"
        )
    return rows


def check_targets(
    cells: list[dict[str, Any]], rss_a: dict[str, Any], rss_b: dict[str, Any]
) -> tuple[list[str], bool]:
    ratio = {(c["config"], c["test"]): c["median"]["ratio"] for c in cells}
    rows = ["| target | measured | met |", "|---|---|---|"]
    ok = True
    for config, tests, floor in THROUGHPUT_TARGETS:
        for test in tests:
            got = ratio.get((config, test))
            met = got is not None and got >= floor
            ok &= met
            shown = f"{got:.2f}x" if got is not None else "not run"
            rows.append(
                f"| {config} {test.upper()} ≥ {floor}x redis | {shown} | {'yes' if met else 'NO'} |"
            )
    if rss_a and rss_b:
        got = rss_a["rss_after_kib"] / rss_b["rss_after_kib"]
        met = got <= RSS_TARGET
        ok &= met
        rows.append(
            f"| RSS with {rss_a['keys']:,} keys ≤ {RSS_TARGET:g}x redis | {got:.2f}x | "
            f"{'yes' if met else 'NO'} |"
        )
    return rows, ok


def rss_table(rss_a: dict[str, Any], rss_b: dict[str, Any]) -> list[str]:
    if not rss_a or not rss_b:
        return ["(memory not measured: RSS_KEYS=0)"]
    rows = [
        f"{rss_a['keys']:,} keys `key:%012d` with {rss_a['value_size']}-byte values, loaded by "
        "tests/bench/rss.py as pipelined SETs into a freshly started server:",
        "",
        "| server | DBSIZE | RSS empty | RSS loaded | per key | load s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, r in (("slotd", rss_a), ("redis", rss_b)):
        keys = r["dbsize"] or r["keys"]  # DBSIZE is None while slotd lacks it
        per_key = (r["rss_after_kib"] - r["rss_before_kib"]) * 1024 / keys
        shown = f"{r['dbsize']:,}" if r["dbsize"] is not None else "(no DBSIZE)"
        rows.append(
            f"| {name} | {shown} | {r['rss_before_kib'] / 1024:.1f} MiB | "
            f"{r['rss_after_kib'] / 1024:.1f} MiB | {per_key:.0f} B | {r['load_secs']} |"
        )
    ratio = rss_a["rss_after_kib"] / rss_b["rss_after_kib"]
    rows += ["", f"slotd/redis RSS loaded: **{ratio:.2f}x**"]
    return rows


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--compare", required=True)
    ap.add_argument("--rss-a", required=True)
    ap.add_argument("--rss-b", required=True)
    ap.add_argument("--command", required=True)
    ap.add_argument("--python", required=True)
    ap.add_argument("--write", default="")
    args = ap.parse_args()
    compare = json.loads(Path(args.compare).read_text())
    rss_a = json.loads(Path(args.rss_a).read_text())
    rss_b = json.loads(Path(args.rss_b).read_text())
    cells = compare["cells"]
    targets, ok = check_targets(cells, rss_a, rss_b)
    lines = [
        BEGIN,
        "## Latest run",
        "",
        f"Command: `{args.command}`",
        "",
        *machine_notes(args.python),
        "",
        "### Targets (issue 2)",
        "",
        *targets,
        "",
        f"### Throughput (median of {compare['rounds']} alternating runs of ≥ {compare['secs']:g} s)",
        "",
        "`slotd/redis` is the ratio of medians; CPU µs/op is each server's own user+sys time "
        "per request over the same runs.",
        "",
        *throughput_table(cells),
        "",
        "### Memory",
        "",
        *rss_table(rss_a, rss_b),
        END,
    ]
    section = "\n".join(lines) + "\n"
    print(section)
    if args.write:
        path = Path(args.write)
        text = path.read_text() if path.exists() else "# Benchmarks\n\n" + BEGIN + "\n" + END + "\n"
        head, sep, rest = text.partition(BEGIN)
        if not sep:
            head, rest = text.rstrip("\n") + "\n\n", END
        _, sep, tail = rest.partition(END)
        path.write_text(head + section + tail.lstrip("\n"))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
