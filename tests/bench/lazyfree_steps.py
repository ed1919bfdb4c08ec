"""lazyfree_steps.py [MEMBERS] [BUDGET]: the event-loop stall lazy freeing causes, measured
inside the process, free of the machine's scheduling noise.

lazyfree_latency.py measures what a client sees over loopback; on a shared machine the
scheduler's own delays (tens of ms at a high load average) swamp the figure. This script
builds values of MEMBERS elements (default 1,000,000) in a bare engine (no sockets), drops
each one the lazy way (UNLINK of a set, hash, sorted set and list; FLUSHALL ASYNC of MEMBERS
string keys), then drains the lazy-free queue in the steps the server takes between
event-loop turns (`Memory.drain(BUDGET)`, BUDGET defaulting to the server's). Each step's
thread CPU time is what one turn of the loop is held up by. For comparison, the same value
dropped by DEL (and the keys by FLUSHALL SYNC) frees everything inside the command.

Prints one line per case: the command's own CPU time, the number of drain steps, their
median, p99 and max CPU time in ms.
Run from the repository root: `.venv/bin/python -m tests.bench.lazyfree_steps`.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from node.server import _FREE_BUDGET
from tests.support import Harness

BATCH = 10_000


def _fill(h: Harness, kind: str, members: int) -> list[bytes]:
    """Build the value (or keys); the command that drops it lazily."""
    engine, client = h.engine, h.client

    def run(*argv: bytes) -> None:
        engine.execute(client, list(argv))
        client.out.clear()

    for start in range(0, members, BATCH):
        names = [b"m:%d" % i for i in range(start, min(start + BATCH, members))]
        if kind == "set":
            run(b"SADD", b"big", *names)
        elif kind == "hash":
            run(b"HSET", b"big", *[x for name in names for x in (name, b"v")])
        elif kind == "zset":
            run(
                b"ZADD",
                b"big",
                *[x for i, name in enumerate(names, start) for x in (b"%d" % i, name)],
            )
        elif kind == "list":
            run(b"RPUSH", b"big", *names)
        else:
            run(b"MSET", *[x for name in names for x in (name, b"v")])
    return [b"FLUSHALL", b"ASYNC"] if kind == "keys" else [b"UNLINK", b"big"]


def _cpu_ms(action: Callable[[], object]) -> float:
    start = time.thread_time_ns()
    action()
    return (time.thread_time_ns() - start) / 1e6


def measure(kind: str, members: int, budget: int) -> None:
    h = Harness()
    engine, client = h.engine, h.client
    lazy = _fill(h, kind, members)
    eager = [b"FLUSHALL", b"SYNC"] if kind == "keys" else [b"DEL", b"big"]
    eager_ms = _cpu_ms(lambda: engine.execute(client, eager))
    _fill(h, kind, members)
    command_ms = _cpu_ms(lambda: engine.execute(client, lazy))
    memory = engine.memory
    steps: list[float] = []
    while memory.lazyfree:
        steps.append(_cpu_ms(lambda: memory.drain(budget)))
    steps.sort()
    print(
        f"{kind:5s} {members:>9,}: {eager[0].decode()} {eager_ms:7.1f} ms | "
        f"{' '.join(a.decode() for a in lazy):14s} {command_ms:6.2f} ms, then "
        f"{len(steps):5d} steps of {budget}: median {steps[len(steps) // 2]:5.2f} "
        f"p99 {steps[int(len(steps) * 0.99)]:5.2f} max {steps[-1]:5.2f} ms",
        flush=True,
    )


def main() -> None:
    members = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    budget = int(sys.argv[2]) if len(sys.argv) > 2 else _FREE_BUDGET
    for kind in ("set", "hash", "zset", "list", "keys"):
        measure(kind, members, budget)


if __name__ == "__main__":
    main()
