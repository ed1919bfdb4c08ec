"""The multi-part AOF, pure: formats (manifest, command stream, truncation), and the AOF
state machine on MemoryStorage -- appends, rewrites, restarts that load base + incr files.
Real processes, kill -9 and redis-check-aof are in tests/e2e and tests/compat."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from node.persistence import aof
from node.persistence.blobs import FormatError
from node.persistence.storage import MemoryStorage
from tests.persistence.dataset import Command, as_loaded, datasets, snapshot
from tests.support import Harness, make_engine

SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
DIR = "./appendonlydir"


def test_manifest_round_trip_and_quoting() -> None:
    manifest = aof.Manifest()
    manifest.new_base("appendonly.aof", True)
    manifest.new_incr("appendonly.aof")
    assert manifest.format() == (
        b"file appendonly.aof.1.base.rdb seq 1 type b\n"
        b"file appendonly.aof.1.incr.aof seq 1 type i\n"
    )
    odd = aof.Manifest()
    odd.new_incr('my "aof" file')
    text = odd.format()
    assert text == b'file "my \\"aof\\" file.1.incr.aof" seq 1 type i\n'
    assert aof.parse_manifest(text).incrs[0].name == 'my "aof" file.1.incr.aof'
    parsed = aof.parse_manifest(
        b"# comment\n" + manifest.format() + b"file x seq 2 type h extra 1\n"
    )
    assert [f.name for f in parsed.files()] == [
        "appendonly.aof.1.base.rdb",
        "x",
        "appendonly.aof.1.incr.aof",
    ]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (b"", "Found an empty AOF manifest"),
        (b"file a seq 1\n", "Invalid AOF manifest file format"),
        (b"file a seq 1 type b\nfile b seq 2 type b\n", "Found duplicate base file information"),
        (b"file a seq 2 type i\nfile b seq 1 type i\n", "Found a non-monotonic sequence number"),
        (b"file a seq 1 type z\n", "Unknown AOF file type"),
    ],
)
def test_manifest_errors(text: bytes, reason: str) -> None:
    with pytest.raises(FormatError, match=reason):
        aof.parse_manifest(text)


def test_parse_commands_truncation_and_multi() -> None:
    cmds = [[b"SET", b"a", b"1"], [b"MULTI"], [b"SET", b"b", b"2"], [b"EXEC"]]
    data = b"#TS:123\r\n" + b"".join(aof.encode_command(c) for c in cmds)
    parsed = aof.parse_commands(data)
    assert parsed.commands == cmds and parsed.valid_length == len(data)
    torn = aof.parse_commands(data[:-3])
    assert torn.truncated and torn.open_multi
    assert torn.commands == cmds[:1]
    assert torn.valid_length == len(b"#TS:123\r\n" + aof.encode_command(cmds[0]))
    with pytest.raises(FormatError, match="Bad file format"):
        aof.parse_commands(b"*1\r\n$3\r\nfooX\r\n")
    with pytest.raises(FormatError, match="Bad file format"):
        aof.parse_commands(b"garbage")


def files(h: Harness) -> dict[str, bytes]:
    store = h.engine.persistence.storage
    assert isinstance(store, MemoryStorage)
    return store.files


def restart(h: Harness, **config: str) -> Harness:
    """A new engine over the same (memory) disk, loading at start-up like the server."""
    engine = make_engine(appendonly="yes", **config)
    store = h.engine.persistence.storage
    engine.persistence.storage = store
    assert engine.persistence.load_at_startup()
    return Harness(engine)


def started(**config: str) -> Harness:
    engine = make_engine(appendonly="yes", **config)
    assert engine.persistence.load_at_startup()
    return Harness(engine)


def feed(h: Harness) -> None:
    """What the shell does after each batch."""
    engine = h.engine
    engine.persistence.aof.feed(engine.propagated)
    engine.propagated = []
    engine.persistence.aof.flush()


def test_startup_creates_base_incr_and_manifest() -> None:
    h = started()
    assert files(h)[f"{DIR}/appendonly.aof.manifest"] == (
        b"file appendonly.aof.1.base.rdb seq 1 type b\n"
        b"file appendonly.aof.1.incr.aof seq 1 type i\n"
    )
    assert files(h)[f"{DIR}/appendonly.aof.1.base.rdb"].startswith(b"REDIS0010")
    h("SET", "k", "v")
    h("SELECT", "2")
    h("SET", "k2", "v")
    feed(h)
    assert files(h)[f"{DIR}/appendonly.aof.1.incr.aof"] == b"".join(
        map(
            aof.encode_command,
            [[b"SELECT", b"0"], [b"SET", b"k", b"v"], [b"SELECT", b"2"], [b"SET", b"k2", b"v"]],
        )
    )
    again = restart(h)
    assert again("GET", "k") == b"v"


@SETTINGS
@given(datasets(), st.booleans())
def test_rewrite_then_restart_keeps_the_dataset(cmds: list[Command], preamble: bool) -> None:
    h = started(aof_use_rdb_preamble="yes" if preamble else "no")
    half = len(cmds) // 2
    for cmd in cmds[:half]:
        h(*cmd)
    feed(h)
    assert h("BGREWRITEAOF") == b"Background append only file rewriting started"
    for cmd in cmds[half:]:
        h(*cmd)
    feed(h)
    h.engine.persistence.cron()  # reaps the rewrite child
    names = sorted(n for n in files(h) if n.startswith(DIR))
    kind = "rdb" if preamble else "aof"
    assert names == [
        f"{DIR}/appendonly.aof.2.base.{kind}",
        f"{DIR}/appendonly.aof.2.incr.aof",
        f"{DIR}/appendonly.aof.manifest",
    ]
    expected = snapshot(h)
    loaded = snapshot(restart(h))
    if preamble:
        expected = as_loaded(expected)
    strip = {k: v[3] for k, v in expected.items() if v[0] != "stream"}
    assert {k: v[3] for k, v in loaded.items() if v[0] != "stream"} == strip
    assert set(loaded) == set(expected)


def test_truncated_tail_is_cut_or_fatal() -> None:
    h = started()
    h("SET", "a", "1")
    h("SET", "b", "2")
    feed(h)
    incr = f"{DIR}/appendonly.aof.1.incr.aof"
    whole = files(h)[incr]
    files(h)[incr] = whole[:-4]
    refused = make_engine(appendonly="yes", aof_load_truncated="no")
    refused.persistence.storage = h.engine.persistence.storage
    assert not refused.persistence.load_at_startup()
    again = restart(h)
    assert again("GET", "a") == b"1" and again("EXISTS", "b") == 0
    assert files(h)[incr] == whole[: len(whole) - len(aof.encode_command([b"SET", b"b", b"2"]))]


def test_appendonly_at_runtime_waits_for_the_first_rewrite() -> None:
    h = Harness()
    store = h.engine.persistence.storage
    assert isinstance(store, MemoryStorage)
    store.hold = True
    h("SET", "before", "1")
    assert h("CONFIG", "SET", "appendonly", "yes") == b"OK"
    h("SET", "during", "1")
    feed(h)
    assert f"{DIR}/appendonly.aof.manifest" not in store.files
    store.hold = False
    h.engine.persistence.cron()
    assert store.files[f"{DIR}/appendonly.aof.manifest"] == (
        b"file appendonly.aof.1.base.rdb seq 1 type b\n"
        b"file appendonly.aof.1.incr.aof seq 1 type i\n"
    )
    again = restart(h)
    assert again("MGET", "before", "during") == [b"1", b"1"]
    assert h("CONFIG", "SET", "appendonly", "no") == b"OK"
    assert not h.engine.propagating


def test_bgrewriteaof_replies() -> None:
    h = started()
    store = h.engine.persistence.storage
    assert isinstance(store, MemoryStorage)
    store.hold = True
    assert h("BGREWRITEAOF") == b"Background append only file rewriting started"
    assert h.error("BGREWRITEAOF") == (
        "ERR Background append only file rewriting already in progress"
    )
    assert h("BGSAVE", "SCHEDULE") == b"Background saving scheduled"
    assert h.error("BGSAVE") == (
        "ERR Another child process is active (AOF?): can't BGSAVE "
        "right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE "
        "whenever possible."
    )


def test_aof_write_error_is_misconf() -> None:
    h = started()
    store = h.engine.persistence.storage
    assert isinstance(store, MemoryStorage)
    store.fail_writes = True
    h("SET", "a", "1")
    feed(h)
    assert h.error("SET", "a", "2") == (
        "MISCONF Errors writing to the AOF file: No space left on device"
    )
    store.fail_writes = False
    h.engine.persistence.aof.flush()
    assert h("SET", "a", "2") == b"OK"
