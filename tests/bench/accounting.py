"""accounting.py PORT PID [SCALE] [SHAPE]: how closely slotd's used_memory (the accounting
that drives eviction, node/engine/footprint.py) follows what the data really costs in RSS.

Switches the accounting on (`maxmemory` 1 TB), loads SCALE elements (default 1,000,000) of
one SHAPE -- `strings` (string keys) or `KIND:N` with KIND hash, set, zset or list (keys of
N elements each) -- and compares the growth of used_memory with the growth of the process
RSS (/proc/PID/status). RSS never shrinks after Python frees, so run each shape on a fresh
server (tests/bench/memory.sh does). Prints: elements, both growths and their ratio.
Run from the repository root: `.venv/bin/python -m tests.bench.accounting PORT PID`.
"""

from __future__ import annotations

import sys

from tests.bench.maxmemory_load import MB, Conn, rss

BATCH = 1000


def _load(conn: Conn, shape: str, scale: int) -> None:
    if shape == "strings":
        for start in range(0, scale, BATCH):
            conn.call(
                b"MSET",
                *[
                    x
                    for i in range(start, start + BATCH)
                    for x in (b"key:%012d" % i, b"value:%08d" % i)
                ],
            )
        return
    kind, size = shape.split(":")
    per = int(size)
    verb = {"hash": b"HSET", "set": b"SADD", "zset": b"ZADD", "list": b"RPUSH"}[kind]
    for n in range(scale // per):
        key = b"%s:%d" % (kind.encode(), n)
        for start in range(0, per, BATCH):
            ids = range(start, min(start + BATCH, per))
            if kind == "hash":
                args = [x for i in ids for x in (b"field:%d" % i, b"value:%d" % i)]
            elif kind == "zset":
                args = [x for i in ids for x in (b"%d" % i, b"member:%d" % i)]
            else:
                args = [b"member:%d" % i for i in ids]
            conn.call(verb, key, *args)


def used(conn: Conn) -> int:
    return int(conn.info(b"memory")["used_memory"])


def main() -> None:
    port, pid = int(sys.argv[1]), int(sys.argv[2])
    scale = int(sys.argv[3]) if len(sys.argv) > 3 else 1_000_000
    conn = Conn(port)
    conn.call(b"CONFIG", b"SET", b"maxmemory", str(1 << 40).encode())
    shape = sys.argv[4] if len(sys.argv) > 4 else "strings"
    used_before, rss_before = used(conn), rss(pid)
    _load(conn, shape, scale)
    grown_used, grown_rss = used(conn) - used_before, rss(pid) - rss_before
    print(
        f"{shape:12s} {scale:>10,} elements: used_memory +{grown_used / MB:7.1f} MB, "
        f"RSS +{grown_rss / MB:7.1f} MB, used/RSS {grown_used / grown_rss:5.2f}",
        flush=True,
    )


if __name__ == "__main__":
    main()
