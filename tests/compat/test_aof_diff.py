"""What slotd propagates, compared with redis-server 7.0.15 through their AOFs: the same
commands run on both with `appendonly yes`, then the incr files are parsed and compared
command by command (absolute expiry times, which depend on each server's clock, are
masked). This pins the deterministic rewrites (SET EX -> SET PXAT, EXPIRE -> PEXPIREAT,
INCRBYFLOAT -> SET KEEPTTL, blocking pops -> plain pops, SPOP -> SREM/DEL, GETEX, RESTORE
-> ABSTTL, MULTI/EXEC units) and redis-check-aof's acceptance of slotd's directory.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from node.persistence import aof
from tests import procs
from tests.rawclient import RawClient

pytestmark = pytest.mark.interop

Factory = Callable[..., procs.ServerProcess]
# A payload DUMP gives for the string "v" on redis-server 7.0.15.
V_PAYLOAD = b"\x00\x01v\n\x00\x91\x08\xce\xb2\x198\x8a\xce"

STEPS: list[tuple[object, ...]] = [
    ("SET", "a", "1"),
    ("SET", "b", "2", "EX", "100"),
    ("SET", "c", "3", "PX", "100000", "NX"),
    ("SETEX", "d", "100", "v"),
    ("PSETEX", "e", "100000", "v"),
    ("SET", "f", "v", "EXAT", "4102444800"),
    ("SET", "g", "v", "PXAT", "4102444800000"),
    ("SET", "g2", "v", "GET", "EX", "50"),
    ("INCRBYFLOAT", "h", "1.5"),
    ("HINCRBYFLOAT", "hh", "f", "2.5"),
    ("GETEX", "b", "EX", "200"),
    ("GETEX", "b", "PERSIST"),
    ("GETEX", "b"),
    ("GETDEL", "a"),
    ("GETDEL", "a"),
    ("EXPIRE", "c", "100"),
    ("PEXPIRE", "c", "200000", "GT"),
    ("EXPIREAT", "c", "4102444800"),
    ("PEXPIREAT", "c", "4102444800000"),
    ("EXPIRE", "missing", "10"),
    ("EXPIRE", "c", "-1"),
    ("RPUSH", "l", "a", "b", "c"),
    ("LMPOP", "1", "l", "LEFT", "COUNT", "2"),
    ("BLPOP", "l", "0"),
    ("RPUSH", "l", "x"),
    ("BRPOP", "l", "0"),
    ("RPUSH", "m", "1", "2"),
    ("BLMOVE", "m", "m2", "LEFT", "RIGHT", "0"),
    ("SADD", "s", "1", "2", "3"),
    ("SPOP", "s", "5"),
    ("ZADD", "z", "1", "a", "2", "b", "3", "c"),
    ("ZPOPMIN", "z"),
    ("BZPOPMIN", "z", "0"),
    ("ZMPOP", "1", "z", "MAX", "COUNT", "5"),
    ("MULTI",),
    ("SET", "m1", "1"),
    ("EXEC",),
    ("MULTI",),
    ("SET", "m2", "1"),
    ("GET", "m2"),
    ("SET", "m3", "1"),
    ("EXEC",),
    ("MULTI",),
    ("GET", "m2"),
    ("EXEC",),
    ("RESTORE", "r1", "100000", V_PAYLOAD),
    ("RESTORE", "r2", "0", V_PAYLOAD),
    ("SELECT", "2"),
    ("SET", "in2", "x"),
    ("SELECT", "0"),
    ("SET", "in0", "x"),
    ("BLOCKED", "BLPOP", "bl", "0"),
    ("LPUSH", "bl", "x", "y"),
    ("BLOCKED", "BRPOPLPUSH", "bq", "bq2", "0"),
    ("RPUSH", "bq", "z"),
    ("XADD", "st", "5-1", "f", "v"),
    ("XADD", "st", "6-*", "f", "v"),
    ("XADD", "st", "MAXLEN", "~", "1", "7-0", "f", "v"),
    ("XADD", "st", "MAXLEN", "1", "8-0", "f", "v"),
    ("XADD", "st2", "1-1", "a", "1"),
    ("XADD", "st2", "2-1", "a", "1"),
    ("XTRIM", "st2", "MINID", "~", "9-0"),
    ("XTRIM", "st2", "MAXLEN", "1"),
    ("FLUSHALL",),
    ("FLUSHALL",),
]
_TIME_AFTER = {b"PXAT", b"EXAT"}


def run(server: procs.ServerProcess) -> None:
    with RawClient(*server.addr) as client:
        for step in STEPS:
            if step[0] == "BLOCKED":
                blocker = threading.Thread(target=_blocked, args=(server, step[1:]))
                blocker.start()
                _wait_blocked(client)
                continue
            client.call(*step)  # type: ignore[arg-type]
        client.call("PING")
    # the blocked clients have been served by now (their pushes ran)


def _blocked(server: procs.ServerProcess, argv: tuple[object, ...]) -> None:
    with RawClient(*server.addr) as client:
        client.call(*argv)  # type: ignore[arg-type]


def _wait_blocked(client: RawClient) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if b"blocked_clients:1" in client.call("INFO", "clients"):
            return
        time.sleep(0.01)
    raise AssertionError("the blocking command never blocked")


def incr_commands(directory: Path) -> list[list[bytes]]:
    files = sorted((directory / "appendonlydir").glob("*.incr.aof"))
    out: list[list[bytes]] = []
    for path in files:
        parsed = aof.parse_commands(path.read_bytes())
        assert not parsed.truncated
        out.extend(parsed.commands)
    return [_masked(argv) for argv in out]


def _masked(argv: list[bytes]) -> list[bytes]:
    out = list(argv)
    for i in range(1, len(out)):
        if (
            out[i - 1].upper() in _TIME_AFTER
            or (i == 2 and out[0].upper() == b"PEXPIREAT")
            or (i == 2 and out[0].upper() == b"RESTORE" and out[-1].upper() == b"ABSTTL")
        ):
            out[i] = b"<time>"
    return out


def test_propagation_matches_redis(slotd_factory: Factory, redis_factory: Factory) -> None:
    ours = slotd_factory("--appendonly", "yes", "--appendfsync", "always")
    theirs = redis_factory("--appendonly", "yes", "--appendfsync", "always")
    run(ours)
    run(theirs)
    mine, real = incr_commands(ours.dir), incr_commands(theirs.dir)
    for i, (a, b) in enumerate(zip(mine, real, strict=False)):
        assert a == b, f"command {i}: slotd {a!r} redis {b!r}\nslotd: {mine}\nredis: {real}"
    assert len(mine) == len(real), f"slotd: {mine}\nredis: {real}"
    tool = procs.find_tool("redis-check-aof", "REDIS_CHECK_AOF")
    manifest = ours.dir / "appendonlydir" / "appendonly.aof.manifest"
    out = subprocess.run([tool, str(manifest)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "valid" in out.stdout, out.stdout + out.stderr
