#!/usr/bin/env bash
# tests/bench/instructions.sh P TEST...: user-space instructions per command through the
# shell's per-turn path (tests/bench/hotpath.py under callgrind), for deciding hot-path
# changes on a shared machine: unlike ops/s or CPU time, the count does not move with the
# load. Prints one line per TEST, e.g. `tests/bench/instructions.sh 16 set get incr`.
# PYTHON (default .venv/bin/python) picks the interpreter; needs valgrind.
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON=${PYTHON:-.venv/bin/python}
P=$1
shift
count() {  # rounds -> instructions counted
    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=/dev/null \
        "$PYTHON" -m tests.bench.hotpath "$P" "$T" "$1" 2>&1 |
        sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
for T in "$@"; do
    short=$(count 40)
    long=$(count 120)
    echo "$T -P $P: $(( (long - short) / (80 * 50 * P) )) instructions per command"
done
