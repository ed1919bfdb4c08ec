"""lazyfree_latency.py PORT [MEMBERS]: how long other clients wait while a big value is freed.

One connection pings in a loop (one PING in flight, latency of each reply recorded) while
another deletes: a set of MEMBERS members (default 1,000,000) by DEL and by UNLINK, then a
database of MEMBERS string keys by FLUSHALL SYNC and by FLUSHALL ASYNC. For each case it
prints the worst and 99th-percentile PING latency from the delete until the server reports
nothing left to free (lazyfree_pending_objects 0), next to the same figures measured just
before (the idle baseline). Works against slotd and redis-server alike. The numbers for
BENCHMARKS.md ("Lazy free") come from here.
Run from the repository root: `.venv/bin/python -m tests.bench.lazyfree_latency PORT`.
"""

from __future__ import annotations

import sys
import threading
import time

from tests.bench.maxmemory_load import Conn, command

BATCH = 10_000


class Pinger(threading.Thread):
    """PING after PING on its own connection, recording (sent at, latency) in seconds."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.conn = Conn(port, raise_errors=True)
        self.samples: list[tuple[float, float]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        ping = command(b"PING")
        while not self.stop.is_set():
            start = time.perf_counter()
            self.conn.sock.sendall(ping)
            self.conn.reply()
            self.samples.append((start, time.perf_counter() - start))
            time.sleep(0.0002)

    def window(self, start: float, end: float) -> tuple[float, float, int]:
        lat = sorted(ms for t, ms in self.samples if start <= t <= end)
        if not lat:
            return 0.0, 0.0, 0
        return lat[-1] * 1000, lat[int(len(lat) * 0.99)] * 1000, len(lat)


def lazy_pending(conn: Conn) -> int:
    info = conn.call(b"INFO", b"memory").decode()
    for line in info.split("\r\n"):
        if line.startswith("lazyfree_pending_objects:"):
            return int(line.split(":")[1])
    return 0


def fill_set(conn: Conn, members: int) -> None:
    for start in range(0, members, BATCH):
        conn.call(b"SADD", b"bigset", *[b"member:%d" % i for i in range(start, start + BATCH)])


def fill_keys(conn: Conn, count: int) -> None:
    for start in range(0, count, BATCH):
        pairs = [x for i in range(start, start + BATCH) for x in (b"key:%d" % i, b"v%d" % i)]
        conn.call(b"MSET", *pairs)


def measure(port: int, label: str, delete: list[bytes], pinger: Pinger, main: Conn) -> None:
    time.sleep(0.5)
    base_start = time.perf_counter()
    time.sleep(0.5)
    start = time.perf_counter()
    main.call(*delete)
    replied = time.perf_counter()
    while lazy_pending(main):
        time.sleep(0.02)  # seldom: the poll itself must not queue ahead of the pings
    end = time.perf_counter()
    time.sleep(0.05)
    base_max, base_p99, _ = pinger.window(base_start, start)
    worst, p99, n = pinger.window(start, end)
    print(
        f"{label:28s} reply {1000 * (replied - start):8.1f} ms  freed after "
        f"{1000 * (end - start):8.1f} ms  PING max {worst:7.2f} ms p99 {p99:6.2f} ms "
        f"({n} pings; idle before: max {base_max:5.2f} p99 {base_p99:5.2f})",
        flush=True,
    )


def main() -> None:
    port = int(sys.argv[1])
    members = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    conn = Conn(port, raise_errors=True)
    conn.call(b"FLUSHALL")
    pinger = Pinger(port)
    pinger.start()
    for label, verb in (("DEL of a set", b"DEL"), ("UNLINK of a set", b"UNLINK")):
        fill_set(conn, members)
        measure(port, f"{label} ({members})", [verb, b"bigset"], pinger, conn)
    for label, mode in (("FLUSHALL SYNC", b"SYNC"), ("FLUSHALL ASYNC", b"ASYNC")):
        fill_keys(conn, members)
        measure(port, f"{label} ({members} keys)", [b"FLUSHALL", mode], pinger, conn)
    pinger.stop.set()
    pinger.join()


if __name__ == "__main__":
    main()
