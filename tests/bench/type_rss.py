"""type_rss.py: memory per element of each data type, slotd against a real redis-server.

For every type (hash, list, set, set of integers, sorted set, stream) and two shapes --
"small": many keys of SMALL elements each (listpack/intset territory in Redis), "big": one
key holding all the elements (hashtable/skiplist/quicklist) -- it starts a fresh slotd and
a fresh redis-server (freed memory never returns to the OS, so every figure needs its own
process), loads the same data into both as pipelined commands over a plain socket, and
reports the RSS growth per element, `used_memory` growth per element (INFO), the encoding
OBJECT ENCODING reports, and the slotd/redis RSS ratio. slotd runs with a far-away
maxmemory, so that its used_memory is its footprint model (node/engine/footprint.py) rather
than its RSS: the two columns side by side check that model.

    python3 tests/bench/type_rss.py                      # 1M elements per case, all types
    python3 tests/bench/type_rss.py --elements 200000 --types hash,set --shapes small
    python3 tests/bench/type_rss.py --json out.json      # also the raw figures

`make bench` runs it when TYPE_RSS=1 (tests/bench/run.sh; printed, not written into
BENCHMARKS.md). Elements are 10-byte strings `m:%08d` (hash fields and values alike), the
decimal text of the index for the integer set, scores equal to the index, one field-value
pair (`f` -> the 10-byte value) per stream entry with explicit IDs. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BATCH_BYTES = 1 << 20  # request bytes per pipelined write; all replies are read before the next
BIG_CHUNK = 100  # elements per command when filling the one big container
STREAM_MS = 1_700_000_000_000

Command = list[bytes]


def member(i: int) -> bytes:
    return b"m:%08d" % i


def _hash(key: bytes, ids: range) -> Command:
    return [b"HSET", key, *[x for i in ids for x in (member(i), member(i))]]


def _list(key: bytes, ids: range) -> Command:
    return [b"RPUSH", key, *map(member, ids)]


def _set(key: bytes, ids: range) -> Command:
    return [b"SADD", key, *map(member, ids)]


def _intset(key: bytes, ids: range) -> Command:
    return [b"SADD", key, *(b"%d" % i for i in ids)]


def _zset(key: bytes, ids: range) -> Command:
    return [b"ZADD", key, *[x for i in ids for x in (b"%d" % i, member(i))]]


def _stream(key: bytes, ids: range) -> Iterator[Command]:
    for i in ids:  # XADD takes one entry per call
        yield [b"XADD", key, b"%d-0" % (STREAM_MS + i), b"f", member(i)]


MAKERS: dict[str, Callable[[bytes, range], Command | Iterator[Command]]] = {
    "hash": _hash,
    "list": _list,
    "set": _set,
    "intset": _intset,
    "zset": _zset,
    "stream": _stream,
}


def commands(kind: str, shape: str, elements: int, small: int) -> Iterator[Command]:
    """The load of one case: `elements` elements in keys of `small` (shape small) or in one
    key (shape big)."""
    make = MAKERS[kind]
    per_key = small if shape == "small" else elements
    step = small if shape == "small" else BIG_CHUNK
    for start in range(0, elements, step):
        key = b"k:%08d" % (start // per_key)
        made = make(key, range(start, min(elements, start + step)))
        if isinstance(made, list):
            yield made
        else:
            yield from made


def encode(cmd: Command) -> bytes:
    return b"*%d\r\n" % len(cmd) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in cmd)


class Conn:
    """One plain RESP connection: pipelined requests, replies skipped (errors raise)."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.buf = b""
        self.pos = 0

    def close(self) -> None:
        self.sock.close()

    def _line(self) -> bytes:
        while True:
            end = self.buf.find(b"\r\n", self.pos)
            if end >= 0:
                line, self.pos = self.buf[self.pos : end], end + 2
                return line
            self._fill()

    def _fill(self) -> None:
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise RuntimeError("server closed the connection")
        self.buf = self.buf[self.pos :] + chunk
        self.pos = 0

    def reply(self) -> bytes:
        """One reply: a line's payload, or a bulk string's bytes (aggregates unsupported)."""
        line = self._line()
        if line[:1] == b"-":
            raise RuntimeError(f"server error: {line.decode(errors='replace')}")
        if line[:1] != b"$" or line == b"$-1":
            return line[1:]
        size = int(line[1:])
        while len(self.buf) - self.pos < size + 2:
            self._fill()
        data, self.pos = self.buf[self.pos : self.pos + size], self.pos + size + 2
        return data

    def call(self, *args: bytes) -> bytes:
        self.sock.sendall(encode(list(args)))
        return self.reply()

    def load(self, cmds: Iterator[Command]) -> int:
        """Send every command, pipelined; returns how many were sent."""
        sent = 0
        pending: list[bytes] = []
        size = 0
        for cmd in cmds:
            request = encode(cmd)
            pending.append(request)
            size += len(request)
            if size >= BATCH_BYTES:
                self._flush(pending)
                sent += len(pending)
                pending, size = [], 0
        self._flush(pending)
        return sent + len(pending)

    def _flush(self, pending: list[bytes]) -> None:
        self.sock.sendall(b"".join(pending))
        for _ in pending:
            self.reply()


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def used_memory(conn: Conn) -> int:
    for line in conn.call(b"INFO", b"memory").split(b"\r\n"):
        if line.startswith(b"used_memory:"):
            return int(line.split(b":")[1])
    raise RuntimeError("INFO memory has no used_memory")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start(
    name: str, python: str, work: Path, accounting: bool
) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    folder = work / name
    folder.mkdir()
    options = [
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(folder),
    ]
    if name == "slotd":
        argv = [python, "-m", "node", *options]
        if accounting:  # a limit far away switches the footprint model on (noeviction)
            argv += ["--maxmemory", "64gb"]
    else:
        argv = ["redis-server", *options]
    log = open(folder / "log", "wb")  # noqa: SIM115 -- kept open for the server's lifetime
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    for _ in range(200):
        try:
            conn = Conn(port)
            try:
                if conn.call(b"PING") == b"PONG":
                    return proc, port
            finally:
                conn.close()
        except (OSError, RuntimeError):
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited during start-up: see {folder / 'log'}") from None
        time.sleep(0.1)
    raise RuntimeError(f"{name} did not answer PING on port {port}")


def measure(
    name: str,
    python: str,
    work: Path,
    kind: str,
    shape: str,
    elements: int,
    small: int,
    accounting: bool,
) -> dict[str, object]:
    """One case on one fresh server."""
    proc, port = start(name, python, work, accounting)
    try:
        conn = Conn(port)
        time.sleep(0.5)  # let start-up settle before the baseline
        rss0, used0 = rss_kib(proc.pid), used_memory(conn)
        t0 = time.monotonic()
        sent = conn.load(commands(kind, shape, elements, small))
        secs = time.monotonic() - t0
        time.sleep(0.5)
        rss1, used1 = rss_kib(proc.pid), used_memory(conn)
        encoding = conn.call(b"OBJECT", b"ENCODING", b"k:%08d" % 0).decode()
        keys = int(conn.call(b"DBSIZE"))
        conn.close()
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(work / name)
    return {
        "server": name,
        "type": kind,
        "shape": shape,
        "elements": elements,
        "keys": keys,
        "commands": sent,
        "encoding": encoding,
        "load_secs": round(secs, 2),
        "rss_before_kib": rss0,
        "rss_after_kib": rss1,
        "rss_per_element": round((rss1 - rss0) * 1024 / elements, 1),
        "used_per_element": round((used1 - used0) / elements, 1),
    }


def markdown(rows: list[dict[str, object]], small: int) -> str:
    """The slotd/redis pairs as a BENCHMARKS.md table."""
    out = [
        "| type | shape | encoding slotd / redis | slotd RSS B/elem | redis RSS B/elem | "
        "ratio | slotd used_memory B/elem | redis used_memory B/elem |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    by_case: dict[tuple[str, str], dict[str, dict[str, object]]] = {}
    for row in rows:
        by_case.setdefault((str(row["type"]), str(row["shape"])), {})[str(row["server"])] = row
    for (kind, shape), pair in by_case.items():
        ours, theirs = pair["slotd"], pair["redis"]
        a, b = float(str(ours["rss_per_element"])), float(str(theirs["rss_per_element"]))
        label = f"{small} x {int(str(ours['keys'])):,} keys" if shape == "small" else "1 key"
        out.append(
            f"| {kind} | {label} | {ours['encoding']} / {theirs['encoding']} | {a:.0f} | "
            f"{b:.0f} | **{a / b:.2f}x** | {ours['used_per_element']} | "
            f"{theirs['used_per_element']} |"
        )
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--elements", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=10, help="elements per key, small shape")
    parser.add_argument("--types", default=",".join(MAKERS))
    parser.add_argument("--shapes", default="small,big")
    parser.add_argument("--servers", default="slotd,redis")
    parser.add_argument("--python", default=str(ROOT / ".venv" / "bin" / "python"))
    parser.add_argument("--json", help="also write the raw figures here")
    parser.add_argument(
        "--no-accounting",
        action="store_true",
        help="run slotd without maxmemory (its used_memory is then its RSS)",
    )
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="slotd-type-rss.") as tmp:
        for kind in args.types.split(","):
            for shape in args.shapes.split(","):
                for name in args.servers.split(","):
                    row = measure(
                        name,
                        args.python,
                        Path(tmp),
                        kind,
                        shape,
                        args.elements,
                        args.small,
                        not args.no_accounting,
                    )
                    print(json.dumps(row), file=sys.stderr, flush=True)
                    rows.append(row)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1) + "\n")
    if "slotd" in args.servers and "redis" in args.servers:
        print(markdown(rows, args.small))


if __name__ == "__main__":
    main()
