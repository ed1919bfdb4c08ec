"""RDB files and DUMP payloads, pure: datasets built by commands in one engine, written,
read back into another engine, and compared through commands (type, encoding, expiry and
contents). Interop with real Redis tools is in tests/compat/test_rdb_interop.py."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from node.engine.engine import Engine
from node.engine.keyspace import Keyspace
from node.engine.types.list import ListValue
from node.persistence import rdb
from node.persistence.blobs import FormatError, crc64
from tests.persistence.dataset import Command, as_loaded, datasets, snapshot
from tests.support import START_MS, Harness, make_engine

SETTINGS = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def build(cmds: list[Command]) -> Harness:
    h = Harness()
    for cmd in cmds:
        h(*cmd)
    return h


def save(engine: Engine, *, compress: bool = True, checksum: bool = True) -> bytes:
    chunks: list[bytes] = []
    writer = rdb.Writer(
        chunks.append,
        compress=compress,
        checksum=checksum,
        limits=rdb.Limits.from_config(engine.config),
    )
    writer.header(rdb.aux_fields(ctime_s=START_MS // 1000, used_mem=1000, aof_base=False))
    rdb.write_keyspace(writer, engine.keyspace)
    writer.finish()
    return b"".join(chunks)


def load(data: bytes, **config: str) -> Harness:
    h = Harness(make_engine(**config))
    rdb.load_keyspace(
        h.engine.keyspace, data, rdb.Limits.from_config(h.engine.config), now_ms=h.engine.now_ms
    )
    return h


@SETTINGS
@given(datasets(), st.booleans())
def test_round_trip(cmds: list[Command], compress: bool) -> None:
    h = build(cmds)
    data = save(h.engine, compress=compress)
    assert snapshot(load(data)) == as_loaded(snapshot(h))


@SETTINGS
@given(datasets(dbs=1))
def test_dump_restore_every_value(cmds: list[Command]) -> None:
    h = build(cmds)
    other = Harness()
    for key in h.engine.keyspace.dbs[0].data:
        payload = h("DUMP", key)
        assert rdb.payload_ok(payload)
        assert other("RESTORE", key, 0, payload) == b"OK"

    # Contents survive; encodings are decided afresh on load (a hashtable hash that shrank
    # comes back as a listpack, as in Redis), so only types and contents are compared.
    def contents(h: Harness) -> dict[object, object]:
        return {k: (v[0], v[3]) for k, v in snapshot(h, dbs=1).items()}

    assert contents(other) == contents(h)


def test_file_layout() -> None:
    h = Harness()
    h("SET", "a", "1")
    data = save(h.engine)
    assert data.startswith(b"REDIS0010\xfa\x09redis-ver\x067.0.15\xfa\x0aredis-bits\xc0\x40")
    assert data[-19:] == b"\xfe\x00\xfb\x01\x00\x00\x01a\xc0\x01\xff" + data[-8:]
    assert int.from_bytes(data[-8:], "little") == crc64(data[:-8])
    assert save(h.engine, checksum=False)[-8:] == bytes(8)


def test_expired_keys_dropped_on_load() -> None:
    h = Harness()
    h("SET", "gone", "x", "PX", 10)
    h("SET", "kept", "y", "PX", 100000)
    h("SET", "plain", "z")
    data = save(h.engine)
    h.advance(50)
    keyspace = Keyspace(16)
    report = rdb.load_keyspace(keyspace, data, rdb.Limits(), now_ms=h.engine.now_ms)
    assert (report.keys_loaded, report.keys_expired) == (2, 1)
    assert set(keyspace.dbs[0].data) == {b"kept", b"plain"}
    replica = Keyspace(16)
    rdb.load_keyspace(replica, data, rdb.Limits(), now_ms=h.engine.now_ms, drop_expired=False)
    assert len(replica.dbs[0].data) == 3


def test_load_applies_current_thresholds() -> None:
    h = Harness()
    h("HSET", "h", "a", "1", "b", "2", "c", "3")
    h("ZADD", "z", "1", "a", "2", "b", "3", "c")
    h("SADD", "s", "1", "2", "3")
    data = save(h.engine)
    small = load(
        data,
        hash_max_listpack_entries="2",
        zset_max_listpack_entries="2",
        set_max_intset_entries="2",
    )
    assert [small("OBJECT", "ENCODING", k) for k in ("h", "z", "s")] == [
        b"hashtable",
        b"skiplist",
        b"hashtable",
    ]


def test_quicklist_nodes_follow_fill() -> None:
    nodes = rdb.quicklist_nodes([b"x" * 100] * 200, -2)
    assert [len(n) for n in nodes] == [79, 79, 42]  # 8 KB listpacks (as redis-server 7.0.15)
    assert [len(n) for n in rdb.quicklist_nodes([b"1"] * 10, 4)] == [4, 4, 2]
    assert len(rdb.quicklist_nodes(ListValue([b"a"]), -1)) == 1


def test_payload_checks() -> None:
    h = Harness()
    h("SET", "k", "v")
    payload = h("DUMP", "k")
    assert payload == b"\x00\x01v\x0a\x00" + payload[-8:]
    assert not rdb.payload_ok(payload[:-1] + bytes([payload[-1] ^ 1]))
    newer = payload[:-10] + b"\x0b\x00"
    assert not rdb.payload_ok(newer + crc64(newer).to_bytes(8, "little"))
    assert not rdb.payload_ok(b"short")


@pytest.mark.parametrize(
    "body",
    [
        b"\x0e",  # unknown type 14 with nothing after
        b"\x02\x00",  # empty set
        b"\x06\x00",  # module type
        b"\x05\x01\x01a" + b"\x00\x00\x00\x00\x00\x00\xf8\x7f",  # NaN score
        b"\x02\x02\x01a\x01a",  # duplicate member
        b"\x00\xc3\x05\x10\x00abcd",  # bad LZF
        b"\x15\x00",  # 7.2 types are not 7.0's
    ],
)
def test_bad_payloads(body: bytes) -> None:
    with pytest.raises(FormatError):
        rdb.restore_payload(body + b"\x0a\x00" + bytes(8), rdb.Limits())


@SETTINGS
@given(datasets(dbs=1), st.data())
def test_damaged_files_raise_format_error(cmds: list[Command], data: st.DataObject) -> None:
    image = bytearray(save(build(cmds).engine))
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, len(image) - 1))
        image[pos] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(image)))
    try:
        rdb.load_keyspace(Keyspace(16), bytes(image[:cut]), rdb.Limits(), now_ms=START_MS)
    except FormatError:
        pass


def test_bad_headers() -> None:
    for image, message in (
        (b"RUBBISH00", "Wrong signature"),
        (b"REDIS0011\xff", "Can't handle RDB format version 11"),
    ):
        with pytest.raises(FormatError, match=message):
            rdb.load_keyspace(Keyspace(16), image, rdb.Limits(), now_ms=0)
    good = save(Harness().engine)
    with pytest.raises(FormatError, match="RDB CRC error"):
        rdb.load_keyspace(Keyspace(16), good[:-1] + bytes([good[-1] ^ 1]), rdb.Limits(), now_ms=0)
    # A stored checksum of 0 means "not computed" and is accepted.
    rdb.load_keyspace(Keyspace(16), good[:-8] + bytes(8), rdb.Limits(), now_ms=0)


def test_function_payloads() -> None:
    code = b"#!lua name=lib\nredis.register_function('f', function() return 1 end)"
    payload = rdb.dump_functions([code])
    assert payload[0] == rdb.OP_FUNCTION2 and rdb.payload_ok(payload)
    assert rdb.restore_functions(payload) == [code]
