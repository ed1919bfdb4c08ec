"""DUMP/RESTORE (and, later in this file, SAVE/BGSAVE/LASTSAVE/BGREWRITEAOF) through the
engine. Payload bytes and error texts verified on redis-server 7.0.15."""

from __future__ import annotations

from node.persistence.blobs import crc64
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
        "ERR Invalid IDLETIME value, must be >= 0")
    assert h.error("RESTORE", "k2", "0", "xx", "FREQ", "256") == (
        "ERR Invalid FREQ value, must be >= 0 and <= 255")
    assert h.error("RESTORE", "k2", "0", "xx", "IDLETIME", "1", "FREQ", "2") == "ERR syntax error"
    assert h.error("RESTORE", "k2", "0", "xx", "IDLETIME") == "ERR syntax error"
    assert h.error("RESTORE", "k2", "0", "xx", "IDLETIME", "x") == (
        "ERR value is not an integer or out of range")
    damaged = V_PAYLOAD[:1] + b"\x05" + V_PAYLOAD[2:-8]
    damaged += crc64(damaged).to_bytes(8, "little")
    assert h.error("RESTORE", "k2", "0", damaged) == "ERR Bad data format"


def test_restore_options() -> None:
    h = Harness()
    assert h("RESTORE", "k", "0", V_PAYLOAD) == b"OK"
    assert h("GET", "k") == b"v" and h("PTTL", "k") == -1
    assert h("RESTORE", "k", "5000", V_PAYLOAD, "REPLACE", "IDLETIME", "10") == b"OK"
    assert h("PTTL", "k") == 5000
    assert h("RESTORE", "k", str(START_MS + 7000), V_PAYLOAD, "REPLACE", "ABSTTL",
             "FREQ", "3") == b"OK"
    assert h("PEXPIRETIME", "k") == START_MS + 7000
    # A time already past: the old key goes and nothing is created.
    assert h("RESTORE", "k", "1", V_PAYLOAD, "REPLACE", "ABSTTL") == b"OK"
    assert h("EXISTS", "k") == 0
    assert h("RESTORE", "k", "1", V_PAYLOAD, "ABSTTL") == b"OK"
    assert h("EXISTS", "k") == 0
