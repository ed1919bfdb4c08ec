#!/usr/bin/env bash
# compare.sh PORT_A PORT_B [tests]
#
# Runs redis-benchmark against two servers on this machine, alternating A B A B
# (ROUNDS rounds) per test and per config, and prints per test the median ops/s
# of each side and the ratio A/B.  Last line: "ratio-min: X" (worst A/B over all
# config x test cells; 0 if any run failed), after "ratio-geomean: G" (only when no
# cell failed).
#
#   tests     comma list of redis-benchmark -t names
#             (default set,get,incr,lpush,rpop,sadd,hset,zadd,lrange_100,mset)
#             plus "xadd" (redis-benchmark 7.0 has no -t xadd: it runs the command
#             `XADD mystream * myfield myvalue` instead)
#
# slotd's copy of ../shared/bench/compare.sh; the only change is the xadd test above.
#
# Environment knobs (defaults in brackets):
#   HOST      [127.0.0.1]   both servers are on HOST (loopback only)
#   CONFIGS   ["50:1 50:16 1:1"]  space separated CLIENTS:PIPELINE pairs (-c / -P)
#   ROUNDS    [3]           A B alternations per test
#   SECS      [2]           target seconds per redis-benchmark run; -n is calibrated per
#                           side/config/test with a ~0.3 s probe so each run lasts >= SECS
#   TIMEOUT   [60]          seconds before one redis-benchmark run is killed (-> FAIL)
#   RB        [redis-benchmark]  benchmark binary
#   OUT       []            if set, raw results are written there as JSON
#   PIN       [split]       split: every server process (all threads) on CPU 0 and
#                           redis-benchmark on CPU 1 (affinity restored at exit); none:
#                           no pinning.  Unpinned, -c 1 latency is bimodal on this VM
#                           (~18k ops/s, p50 55us across cores vs ~43k, p50 23us when the
#                           scheduler happens to co-locate client and server).
#
# Server CPU: A_us/op and B_us/op are each server's own CPU time (user+sys, from /proc)
# per request, measured over the same runs; cpuB/A > 1 means A spends less CPU per request.
# This is the fair figure where the benchmark client, not the server, is the limit.
#
# Notes: redis-benchmark is single threaded and itself needs most of one core;
# on a 2-core box the server under test gets the other one.  The script prints
# the client's CPU use (user+sys / wall) so you can see when the client, not the
# server, is the limit.  Runs are per test, so e.g. RPOP pops what earlier LPUSH
# runs left (late RPOPs may hit an empty list, on both sides alike).
#
# Example:  bench/compare.sh 7100 7001 set,get        # prototype vs real redis
#           CONFIGS="50:16" ROUNDS=5 bench/compare.sh 7100 7001
set -euo pipefail

if [ $# -lt 2 ]; then
    awk 'NR>1 && /^#/ {sub(/^# ?/, ""); print; next} NR>1 {exit}' "$0"
    exit 2
fi

exec python3 - "$@" <<'PY'
import json, os, resource, statistics, subprocess, sys, time

port_a, port_b = sys.argv[1], sys.argv[2]
tests = (sys.argv[3] if len(sys.argv) > 3 and sys.argv[3] else
         "set,get,incr,lpush,rpop,sadd,hset,zadd,lrange_100,mset").split(",")
host = os.environ.get("HOST", "127.0.0.1")
configs = [tuple(int(x) for x in c.split(":")) for c in os.environ.get("CONFIGS", "50:1 50:16 1:1").split()]
rounds = int(os.environ.get("ROUNDS", "3"))
secs = float(os.environ.get("SECS", "2"))
timeout = float(os.environ.get("TIMEOUT", "60"))
rb = os.environ.get("RB", "redis-benchmark")
out_path = os.environ.get("OUT", "")
pin = os.environ.get("PIN", "split")
ncpu = len(os.sched_getaffinity(0))
CLIENT_CPUS = {1} if pin == "split" and ncpu >= 2 else None


def server_pid(port):
    """PID of the process listening on 127.0.0.1:port (None if not visible)."""
    try:
        out = subprocess.run(["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True).stdout
    except OSError:
        return None
    for tok in out.replace(",", " ").split():
        if tok.startswith("pid="):
            return int(tok[4:])
    return None


TICK = os.sysconf("SC_CLK_TCK")
# Tests redis-benchmark lacks, run as explicit commands (the CSV names them by command).
CUSTOM = {"xadd": ["XADD", "mystream", "*", "myfield", "myvalue"]}


def proc_cpu(pid):
    """user+sys CPU seconds of pid, or None."""
    try:
        f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / TICK
    except (OSError, IndexError, ValueError, TypeError):
        return None


PIDS = {}
SAVED_AFFINITY = {}


def pin_server(pid):
    """Pin every thread of pid to CPU 0 (remembering the old masks)."""
    if CLIENT_CPUS is None or not pid:
        return
    try:
        tids = [int(t) for t in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        return
    for tid in tids:
        try:
            SAVED_AFFINITY.setdefault(tid, os.sched_getaffinity(tid))
            os.sched_setaffinity(tid, {0})
        except OSError:
            pass


def unpin_servers():
    for tid, mask in SAVED_AFFINITY.items():
        try:
            os.sched_setaffinity(tid, mask)
        except OSError:
            pass


import atexit
atexit.register(unpin_servers)


def child_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run(port, c, p, test, n):
    """One redis-benchmark run; returns dict(rps, p50, wall, cpu) or None on failure."""
    cmd = [rb, "-h", host, "-p", str(port), "-c", str(c), "-P", str(p), "-n", str(n),
           "-q", "--csv"] + CUSTOM.get(test, ["-t", test])
    t0, u0 = time.monotonic(), child_cpu()
    if port not in PIDS:
        PIDS[port] = server_pid(port)
    pid = PIDS[port]
    pin_server(pid)  # each run: also catches threads a server started since
    s0 = proc_cpu(pid)
    pre = (lambda: os.sched_setaffinity(0, CLIENT_CPUS)) if CLIENT_CPUS else None
    try:
        cp = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout,
                            preexec_fn=pre)
    except subprocess.TimeoutExpired:
        sys.stderr.write(f"# {port} {test}: timed out after {timeout:g}s (n={n})\n")
        return None
    wall, cpu = time.monotonic() - t0, child_cpu() - u0
    s1 = proc_cpu(pid)
    scpu = (s1 - s0) if (s0 is not None and s1 is not None) else None
    if cp.returncode != 0:
        sys.stderr.write(f"# {port} {test}: rc={cp.returncode} {cp.stderr.strip()[:200]}\n")
        return None
    for line in cp.stdout.splitlines():
        f = [x.strip('"') for x in line.split('","')]
        if len(f) < 5 or "needed" in f[0] or not f[0].split():
            continue
        if f[0].split()[0].upper() == test.upper():
            try:
                us = scpu * 1e6 / n if scpu is not None else None
                return {"rps": float(f[1]), "p50": float(f[4]), "wall": wall, "cpu": cpu, "n": n, "srv_us": us}
            except ValueError:
                return None
    return None


def calibrate(port, c, p, test):
    n = max(1000, c * p * 20)
    for _ in range(6):
        r = run(port, c, p, test, n)
        if r is None:
            return None
        if r["wall"] >= 0.25:
            break
        n = int(max(n * 4, r["rps"] * 0.3))
    step = c * p
    n = int(r["rps"] * secs * 1.1)
    return max(step * 10, (n // step + 1) * step)


results = []
worst = None
print(f"# A=:{port_a} B=:{port_b} host={host} rounds={rounds} secs>={secs:g} configs={os.environ.get('CONFIGS', '50:1 50:16 1:1')} pin={pin if CLIENT_CPUS else 'none'}")
print(f"{'config':<10} {'test':<11} {'A_ops/s':>11} {'B_ops/s':>11} {'A/B':>6}  {'A_p50ms':>7} {'B_p50ms':>7}  {'cliCPU_A':>8} {'cliCPU_B':>8}  {'A_us/op':>7} {'B_us/op':>7} {'cpuB/A':>6}")
for c, p in configs:
    cfg = f"c{c}-P{p}"
    for test in tests:
        cell = {"config": cfg, "test": test, "A": [], "B": []}
        ns = {"A": calibrate(port_a, c, p, test), "B": calibrate(port_b, c, p, test)}
        cell["n"] = ns
        for _ in range(rounds):
            for side, port in (("A", port_a), ("B", port_b)):
                r = run(port, c, p, test, ns[side]) if ns[side] else None
                cell[side].append(r)
        results.append(cell)

        def med(side, key):
            vals = [r[key] for r in cell[side] if r and r.get(key) is not None]
            return statistics.median(vals) if vals and len(vals) == len(cell[side]) else None

        def cpu(side):
            rs = [r for r in cell[side] if r]
            return sum(r["cpu"] for r in rs) / sum(r["wall"] for r in rs) * 100 if rs else 0

        a, b = med("A", "rps"), med("B", "rps")
        ratio = a / b if a and b else 0.0
        cell["median"] = {"A": a, "B": b, "ratio": ratio}
        worst = ratio if worst is None else min(worst, ratio)
        fa = f"{a:11.0f}" if a else f"{'FAIL':>11}"
        fb = f"{b:11.0f}" if b else f"{'FAIL':>11}"
        pa, pb = med("A", "p50"), med("B", "p50")
        ua, ub = med("A", "srv_us"), med("B", "srv_us")
        cell["median"].update({"A_us": ua, "B_us": ub})
        nan = float("nan")
        eff = ub / ua if ua and ub else nan
        print(f"{cfg:<10} {test:<11} {fa} {fb} {ratio:6.3f}  {pa if pa is not None else nan:7.3f} "
              f"{pb if pb is not None else nan:7.3f}  {cpu('A'):7.0f}% {cpu('B'):7.0f}%  "
              f"{ua if ua is not None else nan:7.2f} {ub if ub is not None else nan:7.2f} {eff:6.2f}", flush=True)

unpin_servers()
ratios = [c["median"]["ratio"] for c in results]
if ratios and all(ratios):
    geo = statistics.geometric_mean(ratios)
    print(f"ratio-geomean: {geo:.3f}")
if out_path:
    with open(out_path, "w") as f:
        json.dump({"A": port_a, "B": port_b, "rounds": rounds, "secs": secs, "cells": results}, f, indent=1)
print(f"ratio-min: {worst if worst is not None else 0:.3f}")
PY
