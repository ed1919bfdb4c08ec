"""The printed shapes: redis-cli --cluster check/info lines and the status table."""

from __future__ import annotations

import io

from cluster_cli import report
from cluster_cli.report import Output, StatusRow
from cluster_cli.topology import parse_line

A = "e83482403b8688a9e6217403f57570daaf9f5efe"
MASTER = parse_line(f"{A} 127.0.0.1:16531@26531 myself,master - 0 0 1 connected 0-99 101-5461")
REPLICA = parse_line(f"{'b' * 40} 127.0.0.1:16535@26535 slave {A} 0 0 1 connected")


def test_describe_master_and_replica_like_redis_cli() -> None:
    assert report.describe_node(MASTER, 1) == [
        f"M: {A} 127.0.0.1:16531",
        "   slots:[0-99],[101-5461] (5461 slots) master",
        "   1 additional replica(s)",
    ]
    assert report.describe_node(MASTER)[-1].endswith("master")
    assert report.describe_node(REPLICA) == [
        f"S: {'b' * 40} 127.0.0.1:16535",
        "   slots: (0 slots) slave",
        f"   replicates {A}",
    ]
    assert report.describe_node(REPLICA, planned=True)[1] == f"   replicates {A}"


def test_info_line() -> None:
    assert report.info_line(MASTER, 8, 1) == (
        "127.0.0.1:16531 (e8348240...) -> 8 keys | 5461 slots | 1 slaves."
    )


def test_output_colors_only_when_asked() -> None:
    plain = io.StringIO()
    out = Output(plain)
    out.step("Check")
    out.ok("fine")
    out.warn("hmm")
    out.error("bad")
    assert plain.getvalue() == ">>> Check\n[OK] fine\n[WARNING] hmm\n[ERR] bad\n"
    colored = io.StringIO()
    Output(colored, color=True).ok("fine")
    assert colored.getvalue() == "\x1b[32;1m[OK] fine\x1b[0m\n"


def test_render_status() -> None:
    rows = [
        StatusRow("127.0.0.1:7000", A, "master", None, 5461, 10, "ok", "3"),
        StatusRow("127.0.0.1:7003", "c" * 40, "replica", "127.0.0.1:7000", None, 10, "ok", "0"),
        StatusRow("127.0.0.1:7004", flags="exited(1)"),
    ]
    assert report.render_status(rows) == [
        "NODE            ROLE                       ID        SLOTS  KEYS  OPS/S  STATE",
        "127.0.0.1:7000  master                     e8348240  5461   10    3      ok",
        "127.0.0.1:7003  replica of 127.0.0.1:7000  cccccccc  -      10    0      ok",
        "127.0.0.1:7004  -                          -         -      -     -      down   exited(1)",
    ]
