#!/usr/bin/env bash
# tests/bench/memory.sh: the "Memory and eviction" figures of BENCHMARKS.md (`make bench-memory`).
#
# Starts slotd and a real redis-server on free loopback ports and runs, against each:
#   tests/bench/maxmemory_load.py PORT PID $MAXMEMORY_MB $POLICY $WRITES
#       (maxmemory and policy set by the script; RSS, used_memory, evictions, hot keys kept)
#   tests/bench/lazyfree_latency.py PORT $MEMBERS
#       (PING latency seen by another client while a big set / a keyspace is deleted)
# each server restarted fresh for each tool, then the in-process step measurement
#   tests/bench/lazyfree_steps.py $MEMBERS
#       (CPU time of each lazy-free step between event-loop turns, free of scheduling noise)
# and, on a fresh slotd per data shape, the accounting's accuracy
#   tests/bench/accounting.py PORT PID $MEMBERS SHAPE   (used_memory growth vs RSS growth)
# Output goes to stdout only: BENCHMARKS.md is edited by hand from it.
#
# Environment knobs (defaults in brackets):
#   MAXMEMORY_MB [100]  POLICY [allkeys-lfu]  WRITES [2000000]  MEMBERS [1000000]
#   SIDES ["slotd redis"]   which servers to measure
#   SHAPES ["strings hash:100 set:100 zset:100 list:1000 hash:10000 zset:10000"]
#   PYTHON [.venv/bin/python]  interpreter that runs slotd and the tools
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$PWD
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
MAXMEMORY_MB=${MAXMEMORY_MB:-100}
POLICY=${POLICY:-allkeys-lfu}
WRITES=${WRITES:-2000000}
MEMBERS=${MEMBERS:-1000000}
SIDES=${SIDES-"slotd redis"}  # empty: skip the socket tools
SHAPES=${SHAPES:-"strings hash:100 set:100 zset:100 list:1000 hash:10000 zset:10000"}

WORK=$(mktemp -d /tmp/slotd-membench.XXXXXX)
PID=""
stop() {
    if [ -n "$PID" ]; then kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true; fi
    PID=""
}
trap 'stop; rm -rf "$WORK"' EXIT

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {  # side -> sets PORT and PID
    PORT=$(free_port)
    rm -rf "${WORK:?}/$1" && mkdir -p "$WORK/$1"
    if [ "$1" = slotd ]; then
        "$PYTHON" -m node --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no \
            --dir "$WORK/$1" >"$WORK/$1.log" 2>&1 &
    else
        redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no \
            --dir "$WORK/$1" >"$WORK/$1.log" 2>&1 &
    fi
    PID=$!
    for _ in $(seq 100); do
        [ "$(redis-cli -p "$PORT" ping 2>/dev/null)" = PONG ] && return 0
        kill -0 "$PID" 2>/dev/null || { cat "$WORK/$1.log" >&2; exit 1; }
        sleep 0.1
    done
    echo "memory.sh: $1 did not answer PING" >&2
    exit 1
}

echo "# $(date -u +%FT%TZ) $(nproc) CPUs, load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for side in $SIDES; do
    start "$side"
    echo "## $side: tests/bench/maxmemory_load.py PORT PID $MAXMEMORY_MB $POLICY $WRITES"
    "$PYTHON" tests/bench/maxmemory_load.py "$PORT" "$PID" "$MAXMEMORY_MB" "$POLICY" "$WRITES" | tail -4
    stop
    start "$side"
    echo "## $side: tests/bench/lazyfree_latency.py PORT $MEMBERS"
    "$PYTHON" -m tests.bench.lazyfree_latency "$PORT" "$MEMBERS"
    stop
done
echo "## slotd in process: tests/bench/lazyfree_steps.py $MEMBERS"
"$PYTHON" -m tests.bench.lazyfree_steps "$MEMBERS"
echo "## slotd: tests/bench/accounting.py PORT PID $MEMBERS SHAPE"
for shape in $SHAPES; do
    start slotd
    "$PYTHON" -m tests.bench.accounting "$PORT" "$PID" "$MEMBERS" "$shape"
    stop
done
echo "# load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
