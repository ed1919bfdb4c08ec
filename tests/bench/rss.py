"""rss.py PORT PID KEYS VALUE_SIZE: load KEYS string keys into a server, report its RSS.

The memory figure of `make bench` (tests/bench/run.sh). Keys are `key:%012d` (the shape
redis-benchmark uses), values are VALUE_SIZE distinct bytes each; they are sent as
pipelined SETs over one plain socket (no DEBUG POPULATE, which slotd need not have).
Prints one JSON object: keys, dbsize, RSS (KiB) of PID before and after, load seconds.
Run it against an empty database (run.sh sends FLUSHALL first).
"""

from __future__ import annotations

import json
import socket
import sys
import time

BATCH = 2000  # commands per pipelined write; their replies are read before the next one
OK = b"+OK\r\n"


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def command(*args: bytes) -> bytes:
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)


def read_exactly(sock: socket.socket, n: int) -> bytes:
    chunks, got = [], 0
    while got < n:
        chunk = sock.recv(min(1 << 20, n - got))
        if not chunk:
            raise RuntimeError("server closed the connection")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def read_line(sock: socket.socket) -> bytes:
    data = b""
    while not data.endswith(b"\r\n"):
        chunk = sock.recv(1)
        if not chunk:
            raise RuntimeError("server closed the connection")
        data += chunk
    return data


def load(port: int, keys: int, size: int) -> float:
    t0 = time.monotonic()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        for start in range(0, keys, BATCH):
            end = min(keys, start + BATCH)
            sock.sendall(
                b"".join(
                    command(b"SET", b"key:%012d" % i, (b"%0*d" % (size, i))[-size:])
                    for i in range(start, end)
                )
            )
            replies = read_exactly(sock, len(OK) * (end - start))
            if replies != OK * (end - start):
                raise RuntimeError(f"unexpected reply: {replies[:100]!r}")
    return time.monotonic() - t0


def dbsize(port: int) -> int | None:
    """DBSIZE, or None while the server does not implement it."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(command(b"DBSIZE"))
        line = read_line(sock)
    if line.startswith(b"-ERR unknown command"):
        return None
    if not line.startswith(b":"):
        raise RuntimeError(f"DBSIZE answered {line!r}")
    return int(line[1:])


def main() -> None:
    port, pid, keys, size = (int(a) for a in sys.argv[1:5])
    before = rss_kib(pid)
    secs = load(port, keys, size)
    time.sleep(0.5)  # let the server finish whatever follows its last reply
    print(
        json.dumps(
            {
                "keys": keys,
                "value_size": size,
                "dbsize": dbsize(port),
                "rss_before_kib": before,
                "rss_after_kib": rss_kib(pid),
                "load_secs": round(secs, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
