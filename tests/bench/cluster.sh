#!/usr/bin/env bash
# tests/bench/cluster.sh: `redis-benchmark --cluster` against a slotd cluster and a real
# redis-server cluster started the same way (`make bench-cluster`; BENCHMARKS.md "Cluster").
#
# Both clusters are started by `slotd-cluster up` (the same launcher, --server picks the
# binary): MASTERS masters with REPLICAS replicas each on loopback. Each round runs
# redis-benchmark --cluster -t $TESTS against slotd, then redis (alternating, so a change in
# the machine's load hits both); medians of the rounds and their ratio are printed as a
# Markdown table. Output goes to stdout only.
#
# Environment knobs (defaults in brackets):
#   TESTS [set,get]  CONFIGS ["50:1 50:16"] (clients:pipeline)  REQUESTS [200000]
#   ROUNDS [3]  MASTERS [3]  REPLICAS [0]  SLOTD_PORT [31000]  REDIS_PORT [32000]
#   PYTHON [.venv/bin/python]  REDIS_SERVER [redis-server]
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$PWD
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
TESTS=${TESTS:-set,get}
CONFIGS=${CONFIGS:-"50:1 50:16"}
REQUESTS=${REQUESTS:-200000}
ROUNDS=${ROUNDS:-3}
MASTERS=${MASTERS:-3}
REPLICAS=${REPLICAS:-0}
SLOTD_PORT=${SLOTD_PORT:-31000}
REDIS_PORT=${REDIS_PORT:-32000}
REDIS_SERVER=${REDIS_SERVER:-$(command -v redis-server)}
NODES=$((MASTERS * (1 + REPLICAS)))

WORK=$(mktemp -d /tmp/slotd-clusterbench.XXXXXX)
PIDS=()
stop() {
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    PIDS=()
}
trap 'stop; rm -rf "$WORK"' EXIT

up() {  # name server port
    "$PYTHON" -m cluster_cli up --nodes "$NODES" --replicas "$REPLICAS" --port "$3" \
        --dir "$WORK/$1" --server "$2" --status-interval 0 >"$WORK/$1.log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 1 600); do
        if grep -q "Cluster ready" "$WORK/$1.log"; then return 0; fi
        sleep 0.2
    done
    echo "the $1 cluster did not come up:" >&2
    cat "$WORK/$1.log" >&2
    exit 1
}

up slotd slotd "$SLOTD_PORT"
up redis "$REDIS_SERVER" "$REDIS_PORT"

bench() {  # port clients pipeline -> "TEST rps" lines
    redis-benchmark --cluster -h 127.0.0.1 -p "$1" -c "$2" -P "$3" -n "$REQUESTS" \
        -t "$TESTS" -r 100000 --csv 2>/dev/null |
        awk -F'"' '$1 == "" && $2 != "" && $2 != "test" { print $2, $4 }'
}

median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

echo "Command: \`make bench-cluster\` (tests/bench/cluster.sh: TESTS=$TESTS CONFIGS=\"$CONFIGS\" REQUESTS=$REQUESTS ROUNDS=$ROUNDS MASTERS=$MASTERS REPLICAS=$REPLICAS)"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'), slotd commit $(git rev-parse --short HEAD)"
echo "- $(redis-server --version | cut -d' ' -f1-3); slotd on $("$PYTHON" -V 2>&1)"
echo
echo "| config | test | slotd ops/s | redis ops/s | slotd/redis |"
echo "|---|---|---:|---:|---:|"
for config in $CONFIGS; do
    clients=${config%%:*}
    pipeline=${config##*:}
    : >"$WORK/results"
    for _ in $(seq 1 "$ROUNDS"); do
        bench "$SLOTD_PORT" "$clients" "$pipeline" | sed 's/^/slotd /' >>"$WORK/results"
        bench "$REDIS_PORT" "$clients" "$pipeline" | sed 's/^/redis /' >>"$WORK/results"
    done
    for test in $(awk '{ print $2 }' "$WORK/results" | awk '!seen[$0]++'); do
        s=$(awk -v t="$test" '$1 == "slotd" && $2 == t { print $3 }' "$WORK/results" | median)
        r=$(awk -v t="$test" '$1 == "redis" && $2 == t { print $3 }' "$WORK/results" | median)
        printf '| c%s-P%s | %s | %.0f | %.0f | **%.2f** |\n' "$clients" "$pipeline" \
            "$(echo "$test" | tr 'A-Z' 'a-z')" "$s" "$r" "$(echo "$s / $r" | bc -l)"
    done
done
echo
echo "- load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
