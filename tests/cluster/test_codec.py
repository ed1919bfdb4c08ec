"""The bus codec: every message type survives encode -> FrameReader, frames cut at any
byte boundary reassemble, and a stream that is not a bus stream is refused."""

from __future__ import annotations

import dataclasses

import pytest

from node.cluster.codec import (
    MAX_FRAME,
    SIGNATURE,
    SLOT_BITMAP_LEN,
    CodecError,
    FrameReader,
    Gossip,
    Header,
    Message,
    MsgType,
    bitmap_slots,
    encode,
    slot_bitmap,
)

A = "a" * 40
B = "b" * 40


def header(kind: MsgType, **kw: object) -> Header:
    base = Header(
        type=kind,
        sender=A,
        current_epoch=7,
        config_epoch=3,
        offset=123456789,
        slots=bytes(slot_bitmap([i < 5461 for i in range(16384)])),
        master=None,
        ip="10.0.0.1",
        port=7000,
        cport=17000,
        pport=0,
        flags=1,
        state_ok=True,
    )
    return dataclasses.replace(base, **kw)  # type: ignore[arg-type]


MESSAGES = [
    Message(
        header(MsgType.PING),
        gossip=[Gossip(B, 1700000000, 1700000001, "10.0.0.2", 7001, 17001, 0, 4)],
    ),
    Message(header(MsgType.PONG, master=B, mflags=1, hostname="node-1", shard_id="c" * 40)),
    Message(header(MsgType.MEET, ip="")),
    Message(header(MsgType.FAIL), node=B),
    Message(header(MsgType.PUBLISH), channel=b"ch\x00an", payload=b"\xff" * 1000),
    Message(header(MsgType.PUBLISHSHARD), channel=b"{x}", payload=b""),
    Message(header(MsgType.FAILOVER_AUTH_REQUEST, mflags=2)),
    Message(header(MsgType.FAILOVER_AUTH_ACK, state_ok=False)),
    Message(
        header(MsgType.UPDATE),
        node=B,
        config_epoch=9,
        slots=bytes(slot_bitmap([i == 16383 for i in range(16384)])),
    ),
    Message(header(MsgType.MFSTART, offset=-1)),
]


@pytest.mark.parametrize("msg", MESSAGES, ids=lambda m: m.type.name)
def test_round_trip(msg: Message) -> None:
    assert FrameReader().feed(encode(msg)) == [msg]


def test_frames_cut_anywhere_reassemble() -> None:
    stream = b"".join(encode(m) for m in MESSAGES)
    reader = FrameReader()
    got: list[Message] = []
    for i in range(0, len(stream), 997):
        got += reader.feed(stream[i : i + 997])
    assert got == MESSAGES and reader.buffered == 0


def test_bitmaps() -> None:
    bitmap = slot_bitmap([i in (0, 9, 16383) for i in range(16384)])
    assert len(bitmap) == SLOT_BITMAP_LEN and bitmap[0] == 1 and bitmap[1] == 2
    assert bitmap_slots(bytes(bitmap)) == [0, 9, 16383]


@pytest.mark.parametrize(
    "stream",
    [
        b"GET / HTTP/1.1\r\n\r\n",
        SIGNATURE + (4).to_bytes(4, "little"),
        SIGNATURE + (MAX_FRAME + 1).to_bytes(4, "little"),
    ],
)
def test_not_a_bus_stream(stream: bytes) -> None:
    with pytest.raises(CodecError):
        FrameReader().feed(stream)


def test_truncated_or_padded_payload() -> None:
    frame = bytearray(encode(MESSAGES[3]))
    padded = frame + b"x"
    padded[4:8] = len(padded).to_bytes(4, "little")
    with pytest.raises(CodecError, match="trailing"):
        FrameReader().feed(bytes(padded))
    short = frame[:-1]
    short[4:8] = len(short).to_bytes(4, "little")
    with pytest.raises(CodecError, match="truncated"):
        FrameReader().feed(bytes(short))


def test_unknown_type() -> None:
    frame = bytearray(encode(MESSAGES[0]))
    frame[10] = 99  # the type field follows the version
    with pytest.raises(CodecError, match="type"):
        FrameReader().feed(bytes(frame))
