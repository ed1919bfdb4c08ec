"""RDB version 10, the snapshot format of Redis 7.0: files, DUMP payloads, FUNCTION payloads.

Writing produces exactly what Redis 7.0 writes for the same data: the AUX fields in its
order, SELECTDB and RESIZEDB per non-empty database, EXPIRETIME_MS, and each value in the
encoding Redis 7.0 would pick for it (strings with integer encodings or LZF when
`rdbcompression` is on and the string is longer than 20 bytes; lists as QUICKLIST_2 nodes
of listpacks split by `list-max-listpack-size`; sets as an intset or a plain set; sorted
sets as a listpack or ZSET_2 from the highest score down; hashes as a listpack or a plain
hash; streams as STREAM_LISTPACKS_2 with their consumer groups), then EOF and the CRC-64
(0 when `rdbchecksum` is off). Idle times and LFU counters are not kept by slotd, so
IDLE/FREQ are never written (they are optional).

Reading accepts every version 1..10 file and every encoding Redis 7.0 loads: the ones above
plus plain LIST, ZSET with text scores, ZIPMAP, ZIPLIST-era lists/hashes/zsets, QUICKLIST v1,
STREAM_LISTPACKS v1, legacy EXPIRETIME (seconds), IDLE, FREQ and FUNCTION2. Values get the
encoding Redis gives them on load under the current thresholds (`Limits`). Module types and
MODULE_AUX need modules slotd does not have: they are reported as errors. Any malformed
input raises `FormatError` with a reason; nothing else escapes a decoder.

A DUMP payload is one value (type byte + body) followed by the RDB version (2 bytes LE) and
the CRC-64 of everything before it (8 bytes LE). Pure: bytes in, bytes out.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from node.commands._args import string2ll
from node.engine.types.hash import HashValue
from node.engine.types.list import ListValue
from node.engine.types.set import SetValue
from node.engine.types.stream import (
    INVALID_ENTRIES_READ,
    SEQ_MASK,
    Consumer,
    Group,
    Nack,
    Stream,
    _Node,
)
from node.engine.types.zset import ZSet, listpack_score_text
from node.persistence.blobs import (
    FormatError,
    Item,
    crc64,
    intset_decode,
    intset_encode,
    item_bytes,
    listpack_decode,
    listpack_encode,
    lzf_compress,
    lzf_decompress,
    ziplist_decode,
    zipmap_decode,
)

if TYPE_CHECKING:
    from node.config import Config
    from node.engine.keyspace import Keyspace

RDB_VERSION: Final = 10
MAGIC: Final = b"REDIS"

# Opcodes
OP_FUNCTION2: Final = 0xF5
OP_FUNCTION_PRE_GA: Final = 0xF6
OP_MODULE_AUX: Final = 0xF7
OP_IDLE: Final = 0xF8
OP_FREQ: Final = 0xF9
OP_AUX: Final = 0xFA
OP_RESIZEDB: Final = 0xFB
OP_EXPIRETIME_MS: Final = 0xFC
OP_EXPIRETIME: Final = 0xFD
OP_SELECTDB: Final = 0xFE
OP_EOF: Final = 0xFF

# Value types
T_STRING: Final = 0
T_LIST: Final = 1
T_SET: Final = 2
T_ZSET: Final = 3
T_HASH: Final = 4
T_ZSET_2: Final = 5
T_MODULE: Final = 6
T_MODULE_2: Final = 7
T_HASH_ZIPMAP: Final = 9
T_LIST_ZIPLIST: Final = 10
T_SET_INTSET: Final = 11
T_ZSET_ZIPLIST: Final = 12
T_HASH_ZIPLIST: Final = 13
T_LIST_QUICKLIST: Final = 14
T_STREAM_LISTPACKS: Final = 15
T_HASH_LISTPACK: Final = 16
T_ZSET_LISTPACK: Final = 17
T_LIST_QUICKLIST_2: Final = 18
T_STREAM_LISTPACKS_2: Final = 19

# Quicklist node containers (QUICKLIST_2)
_QL_PLAIN: Final = 1
_QL_PACKED: Final = 2
# Redis 7.0 keeps elements of 1 GB or more in PLAIN nodes of their own.
_QL_PACKED_THRESHOLD: Final = 1 << 30
# Node size limits for list-max-listpack-size -1..-5, and the safety limit for counts.
_QL_SIZE_LEVELS: Final = (4096, 8192, 16384, 32768, 65536)
_QL_SAFETY_LIMIT: Final = 8192
_QL_SIZE_ESTIMATE_OVERHEAD: Final = 8

_STREAM_DELETED: Final = 1
_STREAM_SAMEFIELDS: Final = 2

_FLUSH_BYTES: Final = 1 << 20
_DIGITS: Final = frozenset(b"-0123456789")
_LEN1: Final = tuple(bytes((n,)) for n in range(64))
_I64: Final = struct.Struct("<q")
_F64: Final = struct.Struct("<d")


@dataclass(frozen=True)
class Limits:
    """The encoding thresholds in force (the `*-max-*` configs)."""

    hash_entries: int = 512
    hash_value: int = 64
    intset_entries: int = 512
    zset_entries: int = 128
    zset_value: int = 64
    list_fill: int = -2

    @classmethod
    def from_config(cls, config: Config) -> Limits:
        return cls(
            config.int("hash-max-listpack-entries"),
            config.int("hash-max-listpack-value"),
            config.int("set-max-intset-entries"),
            config.int("zset-max-listpack-entries"),
            config.int("zset-max-listpack-value"),
            config.int("list-max-listpack-size"),
        )


# --- writing: primitives ---------------------------------------------------------------------
def encode_length(n: int) -> bytes:
    if n < 64:
        return _LEN1[n]
    if n < 16384:
        return bytes((0x40 | (n >> 8), n & 0xFF))
    if n <= 0xFFFFFFFF:
        return b"\x80" + n.to_bytes(4, "big")
    return b"\x81" + n.to_bytes(8, "big")


def _int_encoding(s: bytes | bytearray) -> bytes | None:
    """The integer encoding of a short string that is a canonical int32, else None."""
    if not s or s[0] not in _DIGITS:
        return None
    v = string2ll(s)
    if v is None:
        return None
    if -128 <= v <= 127:
        return b"\xc0" + v.to_bytes(1, "little", signed=True)
    if -32768 <= v <= 32767:
        return b"\xc1" + v.to_bytes(2, "little", signed=True)
    if -(2**31) <= v < 2**31:
        return b"\xc2" + v.to_bytes(4, "little", signed=True)
    return None


def encode_string(s: bytes | bytearray, compress: bool) -> bytes:
    """A string as rdbSaveRawString writes it."""
    n = len(s)
    if n <= 11:
        enc = _int_encoding(s)
        if enc is not None:
            return enc
    elif compress and n > 20:
        packed = lzf_compress(s)
        if packed is not None:
            return b"\xc3" + encode_length(len(packed)) + encode_length(n) + packed
    return encode_length(n) + s


class Writer:
    """Builds an RDB stream into `sink` in chunks, keeping the running CRC."""

    def __init__(
        self, sink: Callable[[bytes], None], *, compress: bool, checksum: bool, limits: Limits
    ) -> None:
        self.sink = sink
        self.compress = compress
        self.checksum = checksum
        self.limits = limits
        self.out = bytearray()
        self.crc = 0
        self.written = 0

    def flush(self) -> None:
        if self.out:
            chunk = bytes(self.out)
            if self.checksum:
                self.crc = crc64(chunk, self.crc)
            self.written += len(chunk)
            self.sink(chunk)
            self.out = bytearray()

    def header(self, aux: Iterable[tuple[bytes, bytes]]) -> None:
        out = self.out
        out += b"REDIS%04d" % RDB_VERSION
        for key, value in aux:
            out.append(OP_AUX)
            out += encode_string(key, self.compress)
            out += encode_string(value, self.compress)

    def function(self, code: bytes) -> None:
        self.out.append(OP_FUNCTION2)
        self.out += encode_string(code, self.compress)

    def select_db(self, index: int, size: int, expires: int) -> None:
        out = self.out
        out.append(OP_SELECTDB)
        out += encode_length(index)
        out.append(OP_RESIZEDB)
        out += encode_length(size)
        out += encode_length(expires)

    def key(self, key: bytes, value: object, expire_ms: int | None) -> None:
        out = self.out
        if expire_ms is not None:
            out.append(OP_EXPIRETIME_MS)
            out += _I64.pack(expire_ms)
        cls = value.__class__
        if cls is bytes or cls is bytearray:
            out.append(T_STRING)
            out += encode_string(key, self.compress)
            out += encode_string(value, self.compress)  # type: ignore[arg-type]
        else:
            kind, body = encode_value(value, self.compress, self.limits)
            out.append(kind)
            out += encode_string(key, self.compress)
            out += body
        if len(out) >= _FLUSH_BYTES:
            self.flush()

    def finish(self) -> None:
        """EOF and the checksum; everything is handed to the sink."""
        self.out.append(OP_EOF)
        self.flush()
        self.sink(self.crc.to_bytes(8, "little"))
        self.written += 8


def aux_fields(
    *, ctime_s: int, used_mem: int, aof_base: bool, repl: tuple[int, str, int] | None = None
) -> list[tuple[bytes, bytes]]:
    """The AUX fields Redis 7.0 writes, in its order; `repl` is (stream db, replid,
    offset) when the node takes part in replication."""
    fields = [
        (b"redis-ver", b"7.0.15"),
        (b"redis-bits", b"64"),
        (b"ctime", b"%d" % ctime_s),
        (b"used-mem", b"%d" % used_mem),
    ]
    if repl is not None:
        db, replid, offset = repl
        fields += [
            (b"repl-stream-db", b"%d" % db),
            (b"repl-id", replid.encode()),
            (b"repl-offset", b"%d" % offset),
        ]
    fields.append((b"aof-base", b"1" if aof_base else b"0"))
    return fields


def write_keyspace(writer: Writer, keyspace: Keyspace) -> int:
    """Every database's keys (expired ones too: loaders drop them); the key count."""
    total = 0
    for db in keyspace.dbs:
        data = db.data
        if not data:
            continue
        expires = db.expires
        writer.select_db(db.index, len(data), len(expires))
        key = writer.key
        if expires:
            get = expires.get
            for name, value in data.items():
                key(name, value, get(name))
        else:
            for name, value in data.items():
                key(name, value, None)
        total += len(data)
    return total


# --- writing: values --------------------------------------------------------------------------
def encode_value(value: object, compress: bool, limits: Limits) -> tuple[int, bytes]:
    """(type byte, body) of a value, as rdbSaveObjectType + rdbSaveObject write them."""
    cls = value.__class__
    if cls is bytes or cls is bytearray:
        return T_STRING, encode_string(value, compress)  # type: ignore[arg-type]
    encoder = _ENCODERS.get(cls)
    if encoder is None:
        raise FormatError(f"cannot persist a {cls.__name__}")
    return encoder(value, compress, limits)


def _strings(items: Iterable[bytes], compress: bool) -> bytes:
    return b"".join(encode_string(s, compress) for s in items)


def _enc_list(value: object, compress: bool, limits: Limits) -> tuple[int, bytes]:
    assert isinstance(value, ListValue)
    nodes = quicklist_nodes(value, limits.list_fill)
    parts = [encode_length(len(nodes))]
    for node in nodes:
        if isinstance(node, bytes):
            parts.append(b"\x01")
            parts.append(encode_string(node, compress))
        else:
            parts.append(b"\x02")
            parts.append(encode_string(listpack_encode(node), compress))
    return T_LIST_QUICKLIST_2, b"".join(parts)


def _node_allows(node_bytes: int, count: int, fill: int, size: int) -> bool:
    """Redis 7.0.15's _quicklistNodeAllowInsert for an element of `size` bytes: the node's
    listpack bytes plus the element plus a flat 8-byte estimate of its entry overhead
    (SIZE_ESTIMATE_OVERHEAD) against the size limit a negative fill names, or else the
    safety limit and the element count a positive fill sets."""
    new_size = node_bytes + size + _QL_SIZE_ESTIMATE_OVERHEAD
    if fill < 0:
        return new_size <= _QL_SIZE_LEVELS[min(-fill - 1, len(_QL_SIZE_LEVELS) - 1)]
    return new_size <= _QL_SAFETY_LIMIT and count + 1 <= max(fill, 1)


def quicklist_nodes(items: Iterable[bytes], fill: int) -> list[list[Item] | bytes]:
    """Split a list into quicklist nodes the way pushing its elements one by one at the
    tail does: listpacks (lists of items) and PLAIN nodes (a bare huge element)."""
    nodes: list[list[Item] | bytes] = []
    current: list[Item] = []
    current_bytes = 0
    for item in items:
        size = len(item)
        if size >= _QL_PACKED_THRESHOLD:
            if current:
                nodes.append(current)
                current = []
            nodes.append(bytes(item))
            continue
        entry = len(listpack_encode((item,))) - 7
        if current and _node_allows(current_bytes, len(current), fill, size):
            current.append(item)
            current_bytes += entry
        else:
            if current:
                nodes.append(current)
            current = [item]
            current_bytes = 7 + entry
    if current:
        nodes.append(current)
    return nodes


def _enc_set(value: object, compress: bool, limits: Limits) -> tuple[int, bytes]:
    assert isinstance(value, SetValue)
    if value.intset:
        return T_SET_INTSET, encode_string(intset_encode([int(m) for m in value]), compress)
    return T_SET, encode_length(len(value)) + _strings(value, compress)


def _enc_hash(value: object, compress: bool, limits: Limits) -> tuple[int, bytes]:
    assert isinstance(value, HashValue)
    if not value.hashtable:
        flat: list[Item] = []
        for f, v in value.items():
            flat.append(f)
            flat.append(v)
        return T_HASH_LISTPACK, encode_string(listpack_encode(flat), compress)
    parts = [encode_length(len(value))]
    for f, v in value.items():
        parts.append(encode_string(f, compress))
        parts.append(encode_string(v, compress))
    return T_HASH, b"".join(parts)


def _enc_zset(value: object, compress: bool, limits: Limits) -> tuple[int, bytes]:
    assert isinstance(value, ZSet)
    if value.encoding() == b"listpack":
        flat: list[Item] = []
        for member, score in value.pairs():
            flat.append(member)
            flat.append(listpack_score_text(score))
        return T_ZSET_LISTPACK, encode_string(listpack_encode(flat), compress)
    parts = [encode_length(len(value))]
    # Highest score first, as Redis walks its skiplist from the tail: loading then always
    # inserts at the head.
    for member, score in reversed(list(value.pairs())):
        parts.append(encode_string(member, compress))
        parts.append(_F64.pack(score))
    return T_ZSET_2, b"".join(parts)


def _raw_id(sid: int) -> bytes:
    return sid.to_bytes(16, "big")


def _enc_stream(value: object, compress: bool, limits: Limits) -> tuple[int, bytes]:
    assert isinstance(value, Stream)
    parts = [encode_length(len(value.nodes))]
    for node in value.nodes:
        parts.append(encode_string(_raw_id(node.master_ms << 64 | node.master_seq), compress))
        parts.append(encode_string(listpack_encode(_stream_node_items(node)), compress))
    parts.append(encode_length(value.length))
    for sid in (value.last_id, value.first_id, value.max_deleted):
        parts.append(encode_length(sid >> 64))
        parts.append(encode_length(sid & SEQ_MASK))
    parts.append(encode_length(value.entries_added))
    parts.append(encode_length(len(value.groups)))
    for name in sorted(value.groups):
        group = value.groups[name]
        parts.append(encode_string(name, compress))
        parts.append(encode_length(group.last_id >> 64))
        parts.append(encode_length(group.last_id & SEQ_MASK))
        parts.append(encode_length(group.entries_read & SEQ_MASK))  # -1 as uint64
        parts.append(encode_length(len(group.pel)))
        for sid, nack in group.pel.items():
            parts.append(_raw_id(sid))
            parts.append(_I64.pack(nack.delivery_time))
            parts.append(encode_length(nack.delivery_count))
        parts.append(encode_length(len(group.consumers)))
        for cname in sorted(group.consumers):
            consumer = group.consumers[cname]
            parts.append(encode_string(cname, compress))
            parts.append(_I64.pack(consumer.seen_time))
            parts.append(encode_length(len(consumer.pel)))
            parts.extend(_raw_id(sid) for sid in consumer.pel)
    return T_STREAM_LISTPACKS_2, b"".join(parts)


def _signed64(v: int) -> int:
    v &= SEQ_MASK
    return v - (1 << 64) if v >= 1 << 63 else v


def _stream_node_items(node: _Node) -> list[Item]:
    """A stream node's listpack: the master entry, then every entry (tombstones too)."""
    count = len(node.ms)
    items: list[Item] = [node.live, count - node.live, len(node.fields), *node.fields, 0]
    master_seq = node.master_seq
    for i in range(count):
        flag = node.flag(i)
        items.append(flag)
        items.append(_signed64(node.ms[i]))  # nodes keep ms relative to the master's
        items.append(_signed64(node.seq[i] - master_seq))
        flat = node.elements(i)
        numfields = len(flat) // 2
        if flag & _STREAM_SAMEFIELDS:
            items.extend(flat[1::2])
            items.append(numfields + 3)
        else:
            items.append(numfields)
            items.extend(flat)
            items.append(2 * numfields + 4)
    return items


_ENCODERS: Final[dict[type, Callable[[object, bool, Limits], tuple[int, bytes]]]] = {
    ListValue: _enc_list,
    SetValue: _enc_set,
    HashValue: _enc_hash,
    ZSet: _enc_zset,
    Stream: _enc_stream,
}


# --- DUMP / RESTORE / FUNCTION payloads -----------------------------------------------------
def _footer(body: bytes) -> bytes:
    body += RDB_VERSION.to_bytes(2, "little")
    return body + crc64(body).to_bytes(8, "little")


def dump_payload(value: object, compress: bool, limits: Limits) -> bytes:
    """DUMP's serialization of one value."""
    kind, body = encode_value(value, compress, limits)
    return _footer(bytes((kind,)) + body)


def payload_ok(payload: bytes) -> bool:
    """verifyDumpPayload: a version this server reads and a matching CRC-64."""
    if len(payload) < 10:
        return False
    version = int.from_bytes(payload[-10:-8], "little")
    if version > RDB_VERSION:
        return False
    return crc64(payload[:-8]) == int.from_bytes(payload[-8:], "little")


def restore_payload(payload: bytes, limits: Limits) -> object:
    """The value of a payload `payload_ok` accepted; FormatError when it is malformed."""
    reader = _Reader(payload[:-10], limits)
    kind = reader.byte()
    return reader.value(kind)


def dump_functions(codes: Iterable[bytes], compress: bool = True) -> bytes:
    """FUNCTION DUMP's payload: FUNCTION2 records of each library's code, then the footer."""
    body = b"".join(bytes((OP_FUNCTION2,)) + encode_string(code, compress) for code in codes)
    return _footer(body)


def restore_functions(payload: bytes) -> list[bytes]:
    """The library codes in a FUNCTION RESTORE payload (footer already verified)."""
    reader = _Reader(payload[:-10], Limits())
    codes = []
    while not reader.at_end():
        if reader.byte() != OP_FUNCTION2:
            raise FormatError("given type is not a function")
        codes.append(reader.string())
    return codes


# --- reading ------------------------------------------------------------------------------
class _Reader:
    """A cursor over RDB bytes with the format's primitive readers."""

    __slots__ = ("data", "limits", "pos")

    def __init__(self, data: bytes, limits: Limits) -> None:
        self.data = data
        self.pos = 0
        self.limits = limits

    def at_end(self) -> bool:
        return self.pos >= len(self.data)

    def byte(self) -> int:
        pos = self.pos
        if pos >= len(self.data):
            raise FormatError("unexpected end of data")
        self.pos = pos + 1
        return self.data[pos]

    def take(self, n: int) -> bytes:
        pos = self.pos
        end = pos + n
        if end > len(self.data):
            raise FormatError("unexpected end of data")
        self.pos = end
        return self.data[pos:end]

    def _length(self) -> tuple[int, bool]:
        """(value, is_special_string_encoding)."""
        first = self.byte()
        kind = first >> 6
        if kind == 0:
            return first, False
        if kind == 1:
            return ((first & 0x3F) << 8) | self.byte(), False
        if kind == 3:
            return first & 0x3F, True
        if first == 0x80:
            return int.from_bytes(self.take(4), "big"), False
        if first == 0x81:
            return int.from_bytes(self.take(8), "big"), False
        raise FormatError(f"unknown length encoding {first:#x}")

    def length(self) -> int:
        n, special = self._length()
        if special:
            raise FormatError("unexpected string encoding in a length")
        return n

    def string(self) -> bytes:
        n, special = self._length()
        if not special:
            return self.take(n)
        if n == 0:
            return b"%d" % int.from_bytes(self.take(1), "little", signed=True)
        if n == 1:
            return b"%d" % int.from_bytes(self.take(2), "little", signed=True)
        if n == 2:
            return b"%d" % int.from_bytes(self.take(4), "little", signed=True)
        if n == 3:
            packed_len = self.length()
            length = self.length()
            return lzf_decompress(self.take(packed_len), length)
        raise FormatError(f"unknown string encoding {n}")

    def ms(self) -> int:
        return int(_I64.unpack(self.take(8))[0])

    def binary_double(self) -> float:
        return float(_F64.unpack(self.take(8))[0])

    def text_double(self) -> float:
        n = self.byte()
        if n == 253:
            return math.nan
        if n == 254:
            return math.inf
        if n == 255:
            return -math.inf
        try:
            return float(self.take(n))
        except ValueError:
            raise FormatError("bad double value") from None

    def stream_id(self) -> int:
        raw = self.take(16)
        return int.from_bytes(raw, "big")

    # --- values ---------------------------------------------------------------------------
    def value(self, kind: int) -> object:
        decoder = _DECODERS.get(kind)
        if decoder is None:
            if kind in (T_MODULE, T_MODULE_2):
                raise FormatError("module values are not supported")
            raise FormatError(f"Invalid object type: {kind}")
        return decoder(self)

    def count(self) -> int:
        """A collection length that must be positive (empty keys are corruption)."""
        n = self.length()
        if n == 0:
            raise FormatError("empty keys are not allowed")
        return n


def _dec_string(r: _Reader) -> object:
    return r.string()


def _dec_list(r: _Reader) -> object:
    return ListValue(r.string() for _ in range(r.count()))


def _dec_list_ziplist(r: _Reader) -> object:
    items = ziplist_decode(r.string())
    if not items:
        raise FormatError("empty keys are not allowed")
    return ListValue(items)


def _dec_quicklist(r: _Reader, version: int) -> object:
    out = ListValue()
    for _ in range(r.count()):
        container = _QL_PACKED if version == 1 else r.length()
        blob = r.string()
        if container == _QL_PLAIN:
            out.append(blob)
        elif container == _QL_PACKED:
            if version == 1:
                out.extend(ziplist_decode(blob))
            else:
                out.extend(item_bytes(x) for x in listpack_decode(blob))
        else:
            raise FormatError("unknown quicklist node container")
    if not out:
        raise FormatError("empty keys are not allowed")
    return out


def _set_from(members: list[bytes], limits: Limits, intset: bool) -> SetValue:
    made = SetValue.build(members, limits.intset_entries, intset=intset)
    if len(made) != len(members):
        raise FormatError("duplicate set member")
    return made


def _dec_set(r: _Reader) -> object:
    members = [r.string() for _ in range(r.count())]
    return _set_from(members, r.limits, len(members) <= r.limits.intset_entries)


def _dec_intset(r: _Reader) -> object:
    values = intset_decode(r.string())
    if not values:
        raise FormatError("empty keys are not allowed")
    return _set_from([b"%d" % v for v in values], r.limits, True)


def _zset_from(items: list[tuple[bytes, float]], limits: Limits) -> ZSet:
    if any(math.isnan(score) for _, score in items):
        raise FormatError("zset with NaN score")
    if len({m for m, _ in items}) != len(items):
        raise FormatError("duplicate zset member")
    return ZSet.build(items, limits.zset_entries, limits.zset_value)


def _dec_zset(r: _Reader, binary: bool) -> object:
    items = []
    for _ in range(r.count()):
        member = r.string()
        items.append((member, r.binary_double() if binary else r.text_double()))
    return _zset_from(items, r.limits)


def _score(raw: bytes) -> float:
    try:
        return float(raw)
    except ValueError:
        raise FormatError("bad zset score") from None


def _zset_pairs(flat: list[bytes]) -> list[tuple[bytes, float]]:
    if not flat or len(flat) % 2:
        raise FormatError("bad zset listpack length")
    return [(flat[i], _score(flat[i + 1])) for i in range(0, len(flat), 2)]


def _dec_zset_ziplist(r: _Reader) -> object:
    return _zset_from(_zset_pairs(ziplist_decode(r.string())), r.limits)


def _dec_zset_listpack(r: _Reader) -> object:
    flat = [item_bytes(x) for x in listpack_decode(r.string())]
    return _zset_from(_zset_pairs(flat), r.limits)


def _hash_from(pairs: list[tuple[bytes, bytes]], limits: Limits) -> HashValue:
    if not pairs:
        raise FormatError("empty keys are not allowed")
    made = HashValue(pairs)
    if len(made) != len(pairs):
        raise FormatError("duplicate hash field")
    made.hashtable = len(made) > limits.hash_entries or any(
        len(f) > limits.hash_value or len(v) > limits.hash_value for f, v in pairs
    )
    return made


def _dec_hash(r: _Reader) -> object:
    pairs = []
    for _ in range(r.count()):
        f = r.string()
        pairs.append((f, r.string()))
    return _hash_from(pairs, r.limits)


def _flat_pairs(flat: list[bytes]) -> list[tuple[bytes, bytes]]:
    if len(flat) % 2:
        raise FormatError("odd number of hash elements")
    return [(flat[i], flat[i + 1]) for i in range(0, len(flat), 2)]


def _dec_hash_zipmap(r: _Reader) -> object:
    return _hash_from(zipmap_decode(r.string()), r.limits)


def _dec_hash_ziplist(r: _Reader) -> object:
    return _hash_from(_flat_pairs(ziplist_decode(r.string())), r.limits)


def _dec_hash_listpack(r: _Reader) -> object:
    flat = [item_bytes(x) for x in listpack_decode(r.string())]
    return _hash_from(_flat_pairs(flat), r.limits)


def _int_item(item: Item) -> int:
    if isinstance(item, int):
        return item
    value = string2ll(item)
    if value is None:
        raise FormatError("stream listpack: integer expected")
    return value


def _stream_node(master: int, items: list[Item]) -> _Node:
    """Rebuild a stream node from its listpack elements, validating the layout."""
    try:
        live, deleted, numfields = (_int_item(x) for x in items[:3])
        fields = tuple(item_bytes(x) for x in items[3 : 3 + numfields])
        if len(fields) != numfields or _int_item(items[3 + numfields]) != 0:
            raise FormatError("bad stream master entry")
        master_ms, master_seq = master >> 64, master & SEQ_MASK
        node = _Node(master_ms, master_seq, fields)
        pos = 4 + numfields
        tombstones = []
        last = -1
        while pos < len(items):
            flag = _int_item(items[pos])
            ms = (master_ms + _int_item(items[pos + 1])) & SEQ_MASK
            seq = (master_seq + _int_item(items[pos + 2])) & SEQ_MASK
            pos += 3
            if flag & _STREAM_SAMEFIELDS:
                values = [item_bytes(x) for x in items[pos : pos + numfields]]
                pos += numfields
                flat = [x for pair in zip(fields, values, strict=True) for x in pair]
                expect = numfields + 3
            else:
                count = _int_item(items[pos])
                flat = [item_bytes(x) for x in items[pos + 1 : pos + 1 + 2 * count]]
                if len(flat) != 2 * count:
                    raise FormatError("truncated stream entry")
                pos += 1 + 2 * count
                expect = 2 * count + 4
            if _int_item(items[pos]) != expect:
                raise FormatError("bad stream entry back-count")
            pos += 1
            sid = ms << 64 | seq
            if sid <= last or sid < master:
                raise FormatError("stream IDs out of order")
            last = sid
            if flag & _STREAM_DELETED:
                tombstones.append(len(node.ms))
            node.add(ms, seq, flat, bool(flag & _STREAM_SAMEFIELDS))
    except (IndexError, ValueError) as exc:
        if isinstance(exc, FormatError):
            raise
        raise FormatError("truncated stream listpack") from None
    node.mark_deleted(tombstones)
    if node.live != live or len(node.ms) - live != deleted:
        raise FormatError("stream node counters mismatch")
    node.seal()
    return node


def _dec_stream(r: _Reader, version: int) -> object:
    stream = Stream()
    for _ in range(r.length()):
        raw_master = r.string()
        if len(raw_master) != 16:
            raise FormatError("stream node key is not a 128 bit ID")
        items = listpack_decode(r.string())
        if not items:
            raise FormatError("empty listpack inside stream")
        master = int.from_bytes(raw_master, "big")
        node = _stream_node(master, items)
        if stream.heads and master <= stream.nodes[-1].last_id():
            raise FormatError("stream nodes out of order")
        if node.live:
            stream.nodes.append(node)
            stream.heads.append(master)
    length = r.length()
    if length != sum(node.live for node in stream.nodes):
        raise FormatError("stream length mismatch")
    stream.length = length
    stream.last_id = r.length() << 64 | r.length()
    if version >= 2:
        stream.first_id = r.length() << 64 | r.length()
        stream.max_deleted = r.length() << 64 | r.length()
        stream.entries_added = r.length()
    else:
        stream.first_id = stream.first_valid_id()
        stream.entries_added = length
    if stream.nodes and stream.nodes[-1].last_id() > stream.last_id:
        raise FormatError("stream entry after its last ID")
    for _ in range(r.length()):
        name = r.string()
        last_id = r.length() << 64 | r.length()
        if version >= 2:
            entries_read = _signed64(r.length())
        else:
            entries_read = stream.estimate_entries_read(last_id)
        if entries_read < INVALID_ENTRIES_READ:
            raise FormatError("bad consumer group read counter")
        group = Group(last_id, entries_read)
        if name in stream.groups:
            raise FormatError("duplicate consumer group")
        stream.groups[name] = group
        for _ in range(r.length()):
            sid = r.stream_id()
            nack = Nack(None, r.ms())
            nack.delivery_count = r.length()
            if sid in group.pel:
                raise FormatError("duplicated global PEL entry")
            group.pel[sid] = nack
        for _ in range(r.length()):
            cname = r.string()
            consumer = Consumer(cname, r.ms())
            if cname in group.consumers:
                raise FormatError("duplicate consumer")
            group.consumers[cname] = consumer
            for _ in range(r.length()):
                sid = r.stream_id()
                nack_or_none = group.pel.get(sid)
                if nack_or_none is None or nack_or_none.consumer is not None:
                    raise FormatError("consumer PEL entry not in the group PEL")
                nack_or_none.consumer = consumer
                consumer.pel.add(sid)
        if any(nack.consumer is None for nack in group.pel.values()):
            raise FormatError("group PEL entry without a consumer")
    return stream


_DECODERS: Final[dict[int, Callable[[_Reader], object]]] = {
    T_STRING: _dec_string,
    T_LIST: _dec_list,
    T_SET: _dec_set,
    T_ZSET: lambda r: _dec_zset(r, False),
    T_HASH: _dec_hash,
    T_ZSET_2: lambda r: _dec_zset(r, True),
    T_HASH_ZIPMAP: _dec_hash_zipmap,
    T_LIST_ZIPLIST: _dec_list_ziplist,
    T_SET_INTSET: _dec_intset,
    T_ZSET_ZIPLIST: _dec_zset_ziplist,
    T_HASH_ZIPLIST: _dec_hash_ziplist,
    T_LIST_QUICKLIST: lambda r: _dec_quicklist(r, 1),
    T_STREAM_LISTPACKS: lambda r: _dec_stream(r, 1),
    T_HASH_LISTPACK: _dec_hash_listpack,
    T_ZSET_LISTPACK: _dec_zset_listpack,
    T_LIST_QUICKLIST_2: lambda r: _dec_quicklist(r, 2),
    T_STREAM_LISTPACKS_2: lambda r: _dec_stream(r, 2),
}


@dataclass
class RdbContents:
    """What a file held besides its keys (filled in while its keys are read)."""

    version: int = 0
    aux: dict[bytes, bytes] = field(default_factory=dict)
    functions: list[bytes] = field(default_factory=list)
    checksum_verified: bool = False


def read_rdb(
    data: bytes,
    limits: Limits,
    contents: RdbContents,
) -> Iterator[tuple[int, bytes, object, int | None]]:
    """Yield (db index, key, value, expire ms or None) for every key of an RDB image,
    filling `contents` as it goes; the checksum is verified at EOF (before the last key
    is known good, callers finish the iteration before trusting anything)."""
    if len(data) < 9 or data[:5] != MAGIC:
        raise FormatError("Wrong signature trying to load DB from file")
    try:
        version = int(data[5:9])
    except ValueError:
        raise FormatError("Wrong signature trying to load DB from file") from None
    if not 1 <= version <= RDB_VERSION:
        raise FormatError(f"Can't handle RDB format version {version}")
    contents.version = version
    r = _Reader(data, limits)
    r.pos = 9
    size = len(data)
    db = 0
    expire: int | None = None
    while True:
        kind = r.byte()
        if kind == OP_EXPIRETIME_MS:
            expire = r.ms()
            continue
        if kind == OP_EXPIRETIME:
            expire = int.from_bytes(r.take(4), "little", signed=True) * 1000
            continue
        if kind == OP_IDLE:
            r.length()
            continue
        if kind == OP_FREQ:
            r.byte()
            continue
        if kind == OP_SELECTDB:
            db = r.length()
            continue
        if kind == OP_RESIZEDB:
            r.length()
            r.length()
            continue
        if kind == OP_AUX:
            key = r.string()
            contents.aux[key] = r.string()
            continue
        if kind == OP_FUNCTION2:
            contents.functions.append(r.string())
            continue
        if kind in (OP_MODULE_AUX, OP_FUNCTION_PRE_GA):
            raise FormatError("module and pre-GA function data are not supported")
        if kind == OP_EOF:
            break
        # The common case inline: a key and a string value, each short and plain.
        pos = r.pos
        n = data[pos] if pos < size else 64
        if n < 64 and pos + 1 + n < size:
            key = data[pos + 1 : pos + 1 + n]
            r.pos = pos + 1 + n
        else:
            key = r.string()
        if kind == T_STRING:
            pos = r.pos
            n = data[pos] if pos < size else 64
            if n < 64 and pos + 1 + n <= size:
                value: object = data[pos + 1 : pos + 1 + n]
                r.pos = pos + 1 + n
            else:
                value = r.string()
        else:
            value = r.value(kind)
        yield db, key, value, expire
        expire = None
    if version >= 5:
        stored = int.from_bytes(r.take(8), "little")
        if stored:
            if crc64(data[: r.pos - 8]) != stored:
                raise FormatError("RDB CRC error")
            contents.checksum_verified = True


@dataclass
class LoadReport:
    keys_loaded: int = 0
    keys_expired: int = 0
    contents: RdbContents = field(default_factory=RdbContents)


def load_keyspace(
    keyspace: Keyspace, data: bytes, limits: Limits, *, now_ms: int, drop_expired: bool = True
) -> LoadReport:
    """Load an RDB image into `keyspace` (normally empty). Keys whose time has passed are
    skipped when `drop_expired` (a master loading), as Redis does. Raises FormatError
    on bad data, with whatever was read before the error already loaded."""
    report = LoadReport()
    dbs = keyspace.dbs
    for index, key, value, expire in read_rdb(data, limits, report.contents):
        if index >= len(dbs):
            raise FormatError(
                f"Data file was created with a Redis server configured to "
                f"handle more than {len(dbs)} databases"
            )
        db = dbs[index]
        if expire is not None and drop_expired and expire < now_ms:
            report.keys_expired += 1
            continue
        if key in db.data:
            raise FormatError(
                f"RDB has duplicated key '{key.decode('utf-8', 'replace')}' in DB {index}"
            )
        db.set_value(key, value)
        if expire is not None:
            db.set_expire(key, expire)
        report.keys_loaded += 1
    return report
