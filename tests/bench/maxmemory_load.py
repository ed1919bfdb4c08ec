"""maxmemory_load.py PORT PID [MAXMEMORY_MB] [POLICY] [WRITES]: a bounded write load against
a server with a memory limit, and how well the limit holds.

Sets `maxmemory` (default 100 MB) and `maxmemory-policy` (default allkeys-lfu), then sends
WRITES (default 2,000,000) pipelined SETs of random keys out of 4 million with values of
16 to 512 random bytes, mixed with GETs of a small hot set (so that LFU has something to
keep). Every half second it samples the process's RSS (/proc/PID/status), INFO's
used_memory and evicted_keys. Prints the samples, then the summary BENCHMARKS.md quotes:
the limit, the highest used_memory and RSS seen, the RSS at the end, how far the RSS went
past the limit (the margin), keys kept and evicted, and the hot keys that survived.
Loopback only; works against slotd and redis-server alike.
"""

from __future__ import annotations

import random
import socket
import sys
import time

PIPELINE = 500
KEYSPACE = 4_000_000
HOT = 2_000
MB = 1 << 20


def command(*args: bytes) -> bytes:
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)


class Conn:
    """The blocking RESP2 client of the memory tools (this one, accounting.py and
    lazyfree_latency.py): a bulk string comes back as its data, any other reply as its
    line. An error reply is a line too (the load here counts its OOM errors), unless
    `raise_errors`: lazyfree_latency's commands must all succeed."""

    def __init__(self, port: int, *, raise_errors: bool = False) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        # lazyfree_latency times one PING at a time: no reply may wait on Nagle.
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.raise_errors = raise_errors

    def _line(self) -> bytes:
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise RuntimeError("connection closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def reply(self) -> bytes:
        line = self._line()
        if line[:1] == b"$" and line != b"$-1":
            n = int(line[1:])
            while len(self.buf) < n + 2:
                self.buf += self.sock.recv(1 << 20)
            data, self.buf = self.buf[:n], self.buf[n + 2 :]
            return data
        if self.raise_errors and line[:1] == b"-":
            raise RuntimeError(line.decode())
        return line

    def call(self, *args: bytes) -> bytes:
        self.sock.sendall(command(*args))
        return self.reply()

    def info(self, section: bytes) -> dict[str, str]:
        text = self.call(b"INFO", section).decode()
        return dict(line.split(":", 1) for line in text.split("\r\n") if ":" in line)


def rss(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def main() -> None:
    port, pid = int(sys.argv[1]), int(sys.argv[2])
    limit = int(sys.argv[3] if len(sys.argv) > 3 else 100) * MB
    policy = (sys.argv[4] if len(sys.argv) > 4 else "allkeys-lfu").encode()
    writes = int(sys.argv[5]) if len(sys.argv) > 5 else 2_000_000
    rng = random.Random(7)
    conn, probe = Conn(port), Conn(port)
    conn.call(b"FLUSHALL")
    conn.call(b"CONFIG", b"SET", b"maxmemory-policy", policy)
    conn.call(b"CONFIG", b"SET", b"maxmemory", str(limit).encode())
    hot = [b"hot:%d" % i for i in range(HOT)]
    for key in hot:
        conn.call(b"SET", key, b"h" * 100)
    blob = rng.randbytes(1024)
    samples: list[tuple[float, int, int, int]] = []
    start = last = time.monotonic()
    sent = 0
    errors = 0
    while sent < writes:
        batch = []
        for _ in range(PIPELINE):
            if rng.random() < 0.2:
                batch.append(command(b"GET", hot[rng.randrange(HOT)]))
            else:
                size = rng.randrange(16, 513)
                offset = rng.randrange(0, 1024 - size)
                batch.append(
                    command(
                        b"SET", b"key:%d" % rng.randrange(KEYSPACE), blob[offset : offset + size]
                    )
                )
                sent += 1
        conn.sock.sendall(b"".join(batch))
        for _ in batch:
            if conn.reply()[:1] == b"-":
                errors += 1
        now = time.monotonic()
        if now - last >= 0.5:
            last = now
            memory, stats = probe.info(b"memory"), probe.info(b"stats")
            samples.append(
                (now - start, int(memory["used_memory"]), rss(pid), int(stats["evicted_keys"]))
            )
            t, used, resident, evicted = samples[-1]
            print(
                f"{t:6.1f}s used_memory {used / MB:7.1f} MB  rss {resident / MB:7.1f} MB  "
                f"evicted {evicted}",
                flush=True,
            )
    elapsed = time.monotonic() - start
    memory, stats = probe.info(b"memory"), probe.info(b"stats")
    final_rss = rss(pid)
    peak_used = max([s[1] for s in samples] + [int(memory["used_memory"])])
    peak_rss = max([s[2] for s in samples] + [final_rss])
    kept_hot = sum(1 for key in hot if probe.call(b"EXISTS", key) == b":1")
    dbsize = int(probe.call(b"DBSIZE")[1:])
    print(
        f"limit {limit / MB:.1f} MB, policy {policy.decode()}, {sent} writes in "
        f"{elapsed:.1f} s ({sent / elapsed:.0f}/s), {errors} errors"
    )
    print(
        f"used_memory max {peak_used / MB:.1f} MB ({100 * (peak_used - limit) / limit:+.1f}%), "
        f"end {int(memory['used_memory']) / MB:.1f} MB"
    )
    print(
        f"RSS max {peak_rss / MB:.1f} MB ({100 * (peak_rss - limit) / limit:+.1f}% of the "
        f"limit), end {final_rss / MB:.1f} MB"
    )
    print(f"keys {dbsize}, evicted {stats['evicted_keys']}, hot keys kept {kept_hot}/{HOT}")


if __name__ == "__main__":
    main()
