"""The cluster bus wire format: message dataclasses and their encoding.

The bus's messages carry what Redis's clusterMsg carries (cluster.h): a header describing
the sender (its epochs, replication offset, slots, master, addresses, flags and view of the
cluster's health) and a body that depends on the type (gossip sections for PING/PONG/MEET,
a node name for FAIL, channel and message for PUBLISH, an epoch and slots for UPDATE).

Rules:
- The bytes are ours (DESIGN.md section 6): everything outside this module sees only the
  dataclasses, so the format can be swapped for Redis's binary bus format without touching
  the state machines.
- A frame is `SLTB`, the frame's total length (u32, little endian, prefix included), then
  the payload. A peer that sends anything else, or a frame longer than MAX_FRAME, is broken:
  `FrameReader.feed` raises CodecError and the shell closes the link (as Redis frees a link
  on a bad signature or length).
- Pure: no sockets, no clocks.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass, field
from itertools import compress
from typing import Any, Final

from node.cluster.state import NAME_LEN, SLOT_COUNT

SIGNATURE: Final = b"SLTB"
VERSION: Final = 1
SLOT_BITMAP_LEN: Final = SLOT_COUNT // 8
# A PUBLISH carries a client's message: allow what proto-max-bulk-len allows by default.
MAX_FRAME: Final = 600 * 1024 * 1024

# CLUSTERMSG_FLAG0_*: manual failover flags in the header.
MF_PAUSED: Final = 1  # the sender (a master) paused its clients for a manual failover
MF_FORCEACK: Final = 2  # an auth request a master must answer even if the master is up


class MsgType(enum.IntEnum):
    """CLUSTERMSG_TYPE_*, in Redis's order (the stats in CLUSTER INFO index by it)."""

    PING = 0
    PONG = 1
    MEET = 2
    FAIL = 3
    PUBLISH = 4
    FAILOVER_AUTH_REQUEST = 5
    FAILOVER_AUTH_ACK = 6
    UPDATE = 7
    MFSTART = 8
    MODULE = 9
    PUBLISHSHARD = 10


class CodecError(Exception):
    """The peer sent bytes that are not a bus frame: close the link."""


@dataclass(slots=True)
class Gossip:
    """One gossip section: what the sender knows of another node (clusterMsgDataGossip).
    Times are unix seconds as the sender saw them."""

    name: str
    ping_sent: int
    pong_received: int
    ip: str
    port: int
    cport: int
    pport: int
    flags: int  # node/cluster/state.py NodeFlag bits


@dataclass(slots=True)
class Header:
    """The sender as it describes itself in every message."""

    type: MsgType
    sender: str
    current_epoch: int
    config_epoch: int  # the sender's, or its master's if it is a replica
    offset: int  # replication offset (a master's own, a replica's processed one)
    slots: bytes  # SLOT_BITMAP_LEN bytes: the sender's slots (its master's if a replica)
    master: str | None  # the sender's master, for a replica
    ip: str  # announced address; "" = take it from the link's peer address
    port: int
    cport: int
    pport: int
    flags: int  # NodeFlag bits of the sender
    state_ok: bool  # the sender's cluster_state
    mflags: int = 0  # MF_* bits
    hostname: str = ""
    shard_id: str = ""


@dataclass(slots=True)
class Message:
    """A header and the body its type calls for (fields of other types stay empty)."""

    header: Header
    gossip: list[Gossip] = field(default_factory=list)  # PING, PONG, MEET
    node: str = ""  # FAIL: the failed node; UPDATE: the node whose slots changed
    config_epoch: int = 0  # UPDATE: that node's config epoch
    slots: bytes = b""  # UPDATE: that node's slots bitmap
    channel: bytes = b""  # PUBLISH, PUBLISHSHARD
    payload: bytes = b""  # PUBLISH, PUBLISHSHARD: the message

    @property
    def type(self) -> MsgType:
        return self.header.type


def slot_bitmap(slots: list[bool] | None = None) -> bytearray:
    """A slot bitmap; `slots[i]` true sets bit i (bit i%8 of byte i//8, as Redis)."""
    bitmap = bytearray(SLOT_BITMAP_LEN)
    if slots is not None:
        for slot, on in enumerate(slots):
            if on:
                bitmap[slot >> 3] |= 1 << (slot & 7)
    return bitmap


# Each byte value as its 8 bits, least significant first, one byte (0 or 1) per bit.
_BYTE_BITS: Final = [bytes(value >> bit & 1 for bit in range(8)) for value in range(256)]


def bitmap_slots(bitmap: bytes) -> list[int]:
    """The slots set in a bitmap, ascending. Every PING/PONG carries one, so the work is
    C-level: the zero bytes at both ends are stripped, the rest expanded to one byte per
    bit, and the slot numbers of the set bits picked by `compress` (~10x a Python loop
    over the bits for a master's contiguous range)."""
    body = bitmap.lstrip(b"\0")
    first = len(bitmap) - len(body)
    body = body.rstrip(b"\0")
    bits = b"".join(map(_BYTE_BITS.__getitem__, body))
    return list(compress(range(first << 3, (first + len(body)) << 3), bits))


# --- encoding ---------------------------------------------------------------------------------
_PREFIX = struct.Struct("<4sI")
_FIXED = struct.Struct(f"<HHQQq{NAME_LEN}s{NAME_LEN}sIBBHHH{SLOT_BITMAP_LEN}s")
_GOSSIP = struct.Struct(f"<{NAME_LEN}sIIHHHI")
_UPDATE = struct.Struct(f"<Q{NAME_LEN}s{SLOT_BITMAP_LEN}s")
_U8 = struct.Struct("<B")
_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_NO_NAME: Final = bytes(NAME_LEN)


def _name(name: str | None) -> bytes:
    if not name:
        return _NO_NAME
    raw = name.encode()
    if len(raw) != NAME_LEN:
        raise ValueError(f"node name must be {NAME_LEN} characters: {name!r}")
    return raw


def _short(text: str) -> bytes:
    raw = text.encode()
    return _U16.pack(len(raw)) + raw


def encode(msg: Message) -> bytes:
    """One whole frame."""
    h = msg.header
    slots = h.slots or bytes(SLOT_BITMAP_LEN)
    parts = [
        _FIXED.pack(
            VERSION,
            h.type,
            h.current_epoch,
            h.config_epoch,
            h.offset,
            _name(h.sender),
            _name(h.master),
            h.flags,
            1 if h.state_ok else 0,
            h.mflags,
            h.port,
            h.cport,
            h.pport,
            slots,
        ),
        _short(h.ip),
        _short(h.hostname),
        _short(h.shard_id),
    ]
    kind = h.type
    if kind in (MsgType.PING, MsgType.PONG, MsgType.MEET):
        parts.append(_U16.pack(len(msg.gossip)))
        for g in msg.gossip:
            ip = g.ip.encode()
            parts.append(
                _GOSSIP.pack(
                    _name(g.name), g.ping_sent, g.pong_received, g.port, g.cport, g.pport, g.flags
                )
            )
            parts.append(_U8.pack(len(ip)) + ip)
    elif kind == MsgType.FAIL:
        parts.append(_name(msg.node))
    elif kind in (MsgType.PUBLISH, MsgType.PUBLISHSHARD):
        parts += [
            _U32.pack(len(msg.channel)),
            msg.channel,
            _U32.pack(len(msg.payload)),
            msg.payload,
        ]
    elif kind == MsgType.UPDATE:
        parts.append(
            _UPDATE.pack(msg.config_epoch, _name(msg.node), msg.slots or bytes(SLOT_BITMAP_LEN))
        )
    payload = b"".join(parts)
    return _PREFIX.pack(SIGNATURE, _PREFIX.size + len(payload)) + payload


# --- decoding ---------------------------------------------------------------------------------
class _Cursor:
    """Reads a payload front to back; running past its end is a CodecError."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        end = self.pos + n
        if end > len(self.data):
            raise CodecError("truncated bus message")
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def unpack(self, fmt: struct.Struct) -> tuple[Any, ...]:
        return fmt.unpack(self.take(fmt.size))

    def short(self) -> str:
        (length,) = _U16.unpack(self.take(2))
        return self.take(length).decode(errors="replace")

    def long(self) -> bytes:
        (length,) = _U32.unpack(self.take(4))
        return self.take(length)


def _text_name(raw: bytes) -> str:
    return "" if raw == _NO_NAME else raw.decode(errors="replace")


def decode(payload: bytes) -> Message:
    """A frame's payload (after the prefix) as a Message."""
    cur = _Cursor(payload)
    (
        version,
        kind,
        current_epoch,
        config_epoch,
        offset,
        sender,
        master,
        flags,
        state_ok,
        mflags,
        port,
        cport,
        pport,
        slots,
    ) = cur.unpack(_FIXED)
    if version != VERSION:
        raise CodecError(f"unsupported bus version {version}")
    try:
        msg_type = MsgType(kind)
    except ValueError:
        raise CodecError(f"unknown bus message type {kind}") from None
    header = Header(
        type=msg_type,
        sender=_text_name(sender),
        current_epoch=current_epoch,
        config_epoch=config_epoch,
        offset=offset,
        slots=slots,
        master=_text_name(master) or None,
        ip=cur.short(),
        port=port,
        cport=cport,
        pport=pport,
        flags=flags,
        state_ok=bool(state_ok),
        mflags=mflags,
    )
    header.hostname = cur.short()
    header.shard_id = cur.short()
    msg = Message(header)
    if msg_type in (MsgType.PING, MsgType.PONG, MsgType.MEET):
        (count,) = _U16.unpack(cur.take(2))
        for _ in range(count):
            name, ping_sent, pong_received, g_port, g_cport, g_pport, g_flags = cur.unpack(_GOSSIP)
            (ip_len,) = _U8.unpack(cur.take(1))
            ip = cur.take(ip_len).decode(errors="replace")
            msg.gossip.append(
                Gossip(
                    _text_name(name),
                    ping_sent,
                    pong_received,
                    ip,
                    g_port,
                    g_cport,
                    g_pport,
                    g_flags,
                )
            )
    elif msg_type == MsgType.FAIL:
        msg.node = _text_name(cur.take(NAME_LEN))
    elif msg_type in (MsgType.PUBLISH, MsgType.PUBLISHSHARD):
        msg.channel = cur.long()
        msg.payload = cur.long()
    elif msg_type == MsgType.UPDATE:
        epoch, name, update_slots = cur.unpack(_UPDATE)
        msg.config_epoch = epoch
        msg.node = _text_name(name)
        msg.slots = update_slots
    if cur.pos != len(payload):
        raise CodecError("trailing bytes in bus message")
    return msg


class FrameReader:
    """Cuts a link's byte stream into messages (sans-IO: the shell feeds what it read)."""

    __slots__ = ("_buffer",)

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[Message]:
        """Every complete message in what has arrived so far; CodecError if the stream is
        not a bus stream (the link must then be closed)."""
        buffer = self._buffer
        buffer += data
        out: list[Message] = []
        start = 0
        while len(buffer) - start >= _PREFIX.size:
            signature, total = _PREFIX.unpack_from(buffer, start)
            if signature != SIGNATURE:
                raise CodecError("bad bus signature")
            if total < _PREFIX.size + _FIXED.size or total > MAX_FRAME:
                raise CodecError(f"bad bus frame length {total}")
            if len(buffer) - start < total:
                break
            out.append(decode(bytes(buffer[start + _PREFIX.size : start + total])))
            start += total
        if start:
            del buffer[:start]
        return out

    @property
    def buffered(self) -> int:
        return len(self._buffer)
