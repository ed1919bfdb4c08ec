#!/usr/bin/env bash
# tests/bench/run.sh: slotd against a real redis-server on this machine (`make bench`).
#
# Starts slotd and redis-server on free loopback ports, runs tests/bench/compare.sh over
# the redis-benchmark tests whose commands slotd implements, measures the RSS of both
# servers holding 1M keys with 16-byte values, checks issue 2's targets, writes the
# results into BENCHMARKS.md (between the bench markers) and stops both servers.
#
# Environment knobs (defaults in brackets):
#   TESTS     [auto]   comma list of redis-benchmark tests; auto = every test of
#                      set,get,incr,mset,lpush,rpop,sadd,hset,zadd,lrange_100,xadd whose
#                      commands slotd answers (asked without arguments: an arity error
#                      means implemented, "unknown command" means not yet)
#   CONFIGS   ["50:1 50:16 1:1"]  CLIENTS:PIPELINE pairs, passed to compare.sh
#   ROUNDS    [3]      A/B alternations per cell (compare.sh)
#   SECS      [2]      seconds per redis-benchmark run (compare.sh)
#   RSS_KEYS  [1000000]  keys loaded for the memory figure (0 skips it)
#   PYTHON    [.venv/bin/python]  interpreter that runs slotd
#   WRITE     [1]      0: print only, leave BENCHMARKS.md alone
#   STRICT    [0]      1: exit 1 when a target is missed
#   TYPE_RSS  [0]      1: also run tests/bench/type_rss.py (memory per element of each data
#                      type, fresh servers per case; ~20 min at its default 1M elements) and
#                      print its table (BENCHMARKS.md's "Memory per element, by type" is
#                      updated by hand from it)
#   NICE      []       e.g. -20 (root): run both servers and the benchmark client at that
#                      niceness, so other work on a shared machine disturbs them less
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$PWD
BENCH_DIR=$ROOT/tests/bench
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
CONFIGS=${CONFIGS:-"50:1 50:16 1:1"}
RSS_KEYS=${RSS_KEYS:-1000000}
WRITE=${WRITE:-1}
STRICT=${STRICT:-0}
RUN=()
[ -n "${NICE:-}" ] && RUN=(nice -n "$NICE")
CANDIDATES="set,get,incr,mset,lpush,rpop,sadd,hset,zadd,lrange_100,xadd"

for tool in redis-server redis-cli redis-benchmark; do
    command -v "$tool" >/dev/null || { echo "run.sh: $tool not found (apt-get install redis-server redis-tools)" >&2; exit 1; }
done

WORK=$(mktemp -d /tmp/slotd-bench.XXXXXX)
SLOTD_PID=""
REDIS_PID=""
cleanup() {
    [ -n "$SLOTD_PID" ] && kill "$SLOTD_PID" 2>/dev/null && wait "$SLOTD_PID" 2>/dev/null
    [ -n "$REDIS_PID" ] && kill "$REDIS_PID" 2>/dev/null && wait "$REDIS_PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_ping() {  # port pid name
    for _ in $(seq 100); do
        if [ "$(redis-cli -p "$1" ping 2>/dev/null)" = PONG ]; then return 0; fi
        kill -0 "$2" 2>/dev/null || { echo "run.sh: $3 exited during start-up" >&2; cat "$WORK/$3.log" >&2; exit 1; }
        sleep 0.1
    done
    echo "run.sh: $3 did not answer PING on port $1" >&2
    exit 1
}

PORT_SLOTD=$(free_port)
PORT_REDIS=$(free_port)
while [ "$PORT_REDIS" = "$PORT_SLOTD" ]; do PORT_REDIS=$(free_port); done
mkdir -p "$WORK/slotd" "$WORK/redis"

SLOTD_CMD=("$PYTHON" -m node --port "$PORT_SLOTD" --bind 127.0.0.1 --save '' --dir "$WORK/slotd")
REDIS_CMD=(redis-server --port "$PORT_REDIS" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK/redis")
start_servers() {
    "${RUN[@]}" "${SLOTD_CMD[@]}" >>"$WORK/slotd.log" 2>&1 &
    SLOTD_PID=$!
    "${RUN[@]}" "${REDIS_CMD[@]}" >>"$WORK/redis.log" 2>&1 &
    REDIS_PID=$!
    wait_ping "$PORT_SLOTD" "$SLOTD_PID" slotd
    wait_ping "$PORT_REDIS" "$REDIS_PID" redis
}
stop_servers() {
    kill "$SLOTD_PID" "$REDIS_PID" 2>/dev/null || true
    wait "$SLOTD_PID" "$REDIS_PID" 2>/dev/null || true
    SLOTD_PID="" REDIS_PID=""
}
start_servers

# --- which tests slotd can run -------------------------------------------------------------
commands_of() {  # the commands one redis-benchmark test sends
    case $1 in
        lrange_*) echo "lpush lrange" ;;
        *) echo "$1" ;;
    esac
}
implemented() {
    local reply
    reply=$(redis-cli -p "$PORT_SLOTD" "$1" 2>&1 || true)
    case $reply in *"unknown command"*) return 1 ;; esac
    return 0
}
if [ -z "${TESTS:-}" ]; then
    TESTS=""
    for t in ${CANDIDATES//,/ }; do
        ok=1
        for cmd in $(commands_of "$t"); do implemented "$cmd" || ok=0; done
        [ $ok = 1 ] && TESTS="$TESTS${TESTS:+,}$t"
    done
fi
echo "# tests: $TESTS"

# --- throughput ----------------------------------------------------------------------------
COMPARE=$BENCH_DIR/compare.sh
CONFIGS="$CONFIGS" OUT="$WORK/compare.json" "${RUN[@]}" bash "$COMPARE" "$PORT_SLOTD" "$PORT_REDIS" "$TESTS" \
    | tee "$WORK/compare.txt"

# --- memory --------------------------------------------------------------------------------
if [ "$RSS_KEYS" -gt 0 ]; then
    # Fresh servers: what the throughput runs allocated (a list of millions of LPUSHed
    # elements) stays in an allocator's free lists after FLUSHALL, and would be counted.
    stop_servers
    start_servers
    for side in slotd redis; do
        if [ $side = slotd ]; then port=$PORT_SLOTD pid=$SLOTD_PID; else port=$PORT_REDIS pid=$REDIS_PID; fi
        redis-cli -p "$port" flushall >/dev/null 2>&1 || true  # absent keys are fine too
        python3 "$BENCH_DIR/rss.py" "$port" "$pid" "$RSS_KEYS" 16 >"$WORK/rss-$side.json"
        echo "# rss $side: $(cat "$WORK/rss-$side.json")"
    done
else
    echo '{}' >"$WORK/rss-slotd.json"
    echo '{}' >"$WORK/rss-redis.json"
fi

# --- memory per element, by type (optional; its own servers) -------------------------------
if [ "${TYPE_RSS:-0}" = 1 ]; then
    "${RUN[@]}" "$PYTHON" "$BENCH_DIR/type_rss.py" --python "$PYTHON"
fi

# --- report --------------------------------------------------------------------------------
CMDLINE="make bench  (tests/bench/run.sh: ${NICE:+NICE=$NICE }CONFIGS=\"$CONFIGS\" ROUNDS=${ROUNDS:-3} SECS=${SECS:-2} tests/bench/compare.sh SLOTD REDIS $TESTS)"
status=0
"$PYTHON" -m tests.bench.report --compare "$WORK/compare.json" --rss-a "$WORK/rss-slotd.json" \
    --rss-b "$WORK/rss-redis.json" --command "$CMDLINE" --python "$PYTHON" \
    --write "$([ "$WRITE" = 1 ] && echo "$ROOT/BENCHMARKS.md" || echo "")" || status=$?
if [ "$STRICT" = 1 ]; then exit $status; fi
exit 0
