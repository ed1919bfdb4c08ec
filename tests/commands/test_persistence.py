"""DUMP/RESTORE (and, later in this file, SAVE/BGSAVE/LASTSAVE/BGREWRITEAOF) through the
engine. Payload bytes and error texts verified on redis-server 7.0.15."""

from __future__ import annotations

from node.persistence import rdb
from node.persistence.blobs import crc64
from node.persistence.storage import MemoryStorage
from tests.support import START_MS, Harness

# DUMP of the string "v" on redis-server 7.0.15.
V_PAYLOAD = b"\x00\x01v\n\x00\x91\x08\xce\xb2\x198\x8a\xce"


def test_dump() -> None:
    h = Harness()
    assert h("DUMP", "nope") is None
    h("SET", "k", "v")
    assert h("DUMP", "k") == V_PAYLOAD
    h("SET", "n", "12345")
    assert h("DUMP", "n")[:4] == b"\x00\xc1\x39\x30"


def test_restore_errors_in_redis_order() -> None:
    h = Harness()
    h("SET", "k", "v")
    assert h.error("RESTORE", "k", "0", "xx") == "BUSYKEY Target key name already exists."
    assert h.error("RESTORE", "k", "abc", "xx") == "BUSYKEY Target key name already exists."
    assert h.error("RESTORE", "k2", "abc", "xx") == "ERR value is not an integer or out of range"
    assert h.error("RESTORE", "k2", "-1", "xx") == "ERR Invalid TTL value, must be >= 0"
    assert h.error("RESTORE", "k2", "0", "xx") == "ERR DUMP payload version or checksum are wrong"
    assert h.error("RESTORE", "k2", "0", "xx", "foo") == "ERR syntax error"
    assert h.error("RESTORE", "k2", "0", "xx", "IDLETIME", "-1") == (
        "ERR Invalid IDLETIME value, must be >= 0"
    )
    assert h.error("RESTORE", "k2", "0", "xx", "FREQ", "256") == (
        "ERR Invalid FREQ value, must be >= 0 and <= 255"
    )
    assert h.error("RESTORE", "k2", "0", "xx", "IDLETIME", "1", "FREQ", "2") == "ERR syntax error"
    assert h.error("RESTORE", "k2", "0", "xx", "IDLETIME") == "ERR syntax error"
    assert h.error("RESTORE", "k2", "0", "xx", "IDLETIME", "x") == (
        "ERR value is not an integer or out of range"
    )
    damaged = V_PAYLOAD[:1] + b"\x05" + V_PAYLOAD[2:-8]
    damaged += crc64(damaged).to_bytes(8, "little")
    assert h.error("RESTORE", "k2", "0", damaged) == "ERR Bad data format"


def test_restore_options() -> None:
    h = Harness()
    assert h("RESTORE", "k", "0", V_PAYLOAD) == b"OK"
    assert h("GET", "k") == b"v" and h("PTTL", "k") == -1
    assert h("RESTORE", "k", "5000", V_PAYLOAD, "REPLACE", "IDLETIME", "10") == b"OK"
    assert h("PTTL", "k") == 5000
    assert (
        h("RESTORE", "k", str(START_MS + 7000), V_PAYLOAD, "REPLACE", "ABSTTL", "FREQ", "3")
        == b"OK"
    )
    assert h("PEXPIRETIME", "k") == START_MS + 7000
    # A time already past: the old key goes and nothing is created.
    assert h("RESTORE", "k", "1", V_PAYLOAD, "REPLACE", "ABSTTL") == b"OK"
    assert h("EXISTS", "k") == 0
    assert h("RESTORE", "k", "1", V_PAYLOAD, "ABSTTL") == b"OK"
    assert h("EXISTS", "k") == 0


# --- SAVE, BGSAVE, save points, MISCONF ---------------------------------------------------
def storage(h: Harness) -> MemoryStorage:
    store = h.engine.persistence.storage
    assert isinstance(store, MemoryStorage)
    return store


def info(h: Harness) -> dict[str, str]:
    text = h("INFO", "persistence").decode()
    return dict(line.split(":", 1) for line in text.split("\r\n")[1:] if line)


def test_save_writes_the_snapshot() -> None:
    h = Harness()
    h("SET", "k", "v")
    assert info(h)["rdb_changes_since_last_save"] == "1"
    h.advance(3000)
    assert h("SAVE") == b"OK"
    data = storage(h).files["./dump.rdb"]
    other = Harness()
    rdb.load_keyspace(other.engine.keyspace, data, rdb.Limits(), now_ms=START_MS)
    assert other("GET", "k") == b"v"
    assert h("LASTSAVE") == START_MS // 1000 + 3
    fields = info(h)
    assert (fields["rdb_changes_since_last_save"], fields["rdb_saves"]) == ("0", "1")
    assert h.error("SAVE", "x") == "ERR wrong number of arguments for 'save' command"


def test_bgsave_lifecycle() -> None:
    h = Harness()
    store = storage(h)
    store.hold = True
    h("SET", "k", "v")
    assert h("BGSAVE") == b"Background saving started"
    assert store.forks == 1
    assert h.error("BGSAVE") == "ERR Background save already in progress"
    assert h.error("SAVE") == "ERR Background save already in progress"
    assert h.error("BGSAVE", "NOW") == "ERR syntax error"
    assert info(h)["rdb_bgsave_in_progress"] == "1"
    h("SET", "k2", "v")  # one change after the fork stays unsaved
    h.advance(2000)
    store.hold = False
    h.engine.persistence.cron()
    fields = info(h)
    assert fields["rdb_bgsave_in_progress"] == "0"
    assert fields["rdb_changes_since_last_save"] == "1"
    assert fields["rdb_last_bgsave_time_sec"] == "2"
    assert fields["rdb_last_bgsave_status"] == "ok"
    assert h("LASTSAVE") == START_MS // 1000 + 2
    assert "./dump.rdb" in store.files


def test_bgsave_schedule_inside_exec() -> None:
    h = Harness()
    h("MULTI")
    h("BGSAVE")
    assert h("EXEC") == [b"Background saving scheduled"]
    assert storage(h).forks == 0
    h.engine.persistence.cron()
    assert storage(h).forks == 1


def test_save_points_fork_from_cron() -> None:
    h = Harness(save="10 2")
    h.engine.persistence.cron()
    h("SET", "a", "1")
    h.advance(11_000)
    h.engine.persistence.cron()
    assert storage(h).forks == 0  # one change, the point wants two
    h("SET", "b", "1")
    h.engine.persistence.cron()
    assert storage(h).forks == 1


def test_failed_bgsave_stops_writes_misconf() -> None:
    h = Harness()
    store = storage(h)
    store.fail_writes = True
    assert h.error("SAVE") == "ERR"
    h("SET", "k", "v")
    assert h("BGSAVE") == b"Background saving started"
    h.engine.persistence.cron()
    assert info(h)["rdb_last_bgsave_status"] == "err"
    assert h.error("SET", "k", "v").startswith(
        "MISCONF Redis is configured to save RDB snapshots, but it's currently unable"
    )
    assert h.error("PING").startswith("MISCONF")
    assert h("GET", "k") == b"v"
    h("CONFIG", "SET", "stop-writes-on-bgsave-error", "no")
    assert h("SET", "k", "w") == b"OK"
    h("CONFIG", "SET", "stop-writes-on-bgsave-error", "yes")
    store.fail_writes = False
    assert h("SAVE") == b"OK"
    assert h("SET", "k", "x") == b"OK" and h("PING") == b"PONG"


def test_fork_failure_counts_as_failed_save() -> None:
    h = Harness()
    storage(h).fail_fork = True
    assert h.error("BGSAVE") == "ERR"
    assert info(h)["rdb_last_bgsave_status"] == "err"
