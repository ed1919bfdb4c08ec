"""Helpers shared by the stream command families (streams.py, stream_groups.py): stream ID
parsing with Redis's exact rules, reply encoders for entries, and typed lookups.

ID syntax (t_stream.c's streamGenericParseIDOrReply): `<ms>-<seq>` or `<ms>` (the sequence
then defaults per command), `-` and `+` for the smallest and largest IDs unless the command
wants a strict ID. Both parts follow util.c's string2ull: a canonical int64 that is not
negative, or else whatever C's strtoull takes in full (leading blanks, a sign, leading zeros;
a minus sign wraps). Arguments are read as C strings (up to a NUL byte) and may be at most
127 bytes. Pure.
"""

from __future__ import annotations

from typing import Final

from node.commands._args import string2ll
from node.engine import notify
from node.engine.session import Client
from node.engine.types.stream import MAX_ID, SEQ_MASK, Group, Stream, format_id
from node.proto import errors, resp
from node.proto.errors import CommandError

_ID_MAX_LEN: Final = 127
_C_SPACE: Final = b" \t\n\v\f\r"


def string2ull(raw: bytes) -> int | None:
    """util.c's string2ull on a C string; None where it fails."""
    value = string2ll(raw)
    if value is not None:
        return value if value >= 0 else None
    i = 0
    while i < len(raw) and raw[i] in _C_SPACE:
        i += 1
    negative = i < len(raw) and raw[i] == 0x2D
    if i < len(raw) and raw[i] in b"+-":
        i += 1
    digits = raw[i:]
    if not digits.isdigit():
        return None
    value = int(digits)
    if value > SEQ_MASK:
        return None  # ERANGE
    return -value & SEQ_MASK if negative else value


def _parse(
    raw: bytes, missing_seq: int, strict: bool, allow_auto_seq: bool = False
) -> tuple[int, bool] | None:
    """(id, sequence given) or None. `allow_auto_seq` accepts XADD's `<ms>-*`."""
    if len(raw) > _ID_MAX_LEN:
        return None
    text = raw.split(b"\0", 1)[0]
    if text in (b"-", b"+"):
        if strict:
            return None
        return (0 if text == b"-" else MAX_ID), True
    ms_text, dash, seq_text = text.partition(b"-")
    ms = string2ull(ms_text)
    if ms is None:
        return None
    if not dash:
        return ms << 64 | missing_seq, True
    if allow_auto_seq and seq_text == b"*":
        return ms << 64, False
    seq = string2ull(seq_text)
    if seq is None:
        return None
    return ms << 64 | seq, True


def parse_id(raw: bytes, missing_seq: int = 0, *, strict: bool = True) -> int:
    """A stream ID argument (strict: `-` and `+` refused), or the invalid-ID error."""
    parsed = _parse(raw, missing_seq, strict)
    if parsed is None:
        raise CommandError(errors.STREAM_INVALID_ID)
    return parsed[0]


def try_parse_id(raw: bytes) -> int | None:
    """A strict ID, or None (XCLAIM reads IDs until the first argument that is not one)."""
    parsed = _parse(raw, 0, True)
    return None if parsed is None else parsed[0]


def parse_xadd_id(raw: bytes) -> tuple[int, bool]:
    """XADD's explicit ID: (id, whether the sequence was given; False for `<ms>-*`)."""
    parsed = _parse(raw, 0, True, allow_auto_seq=True)
    if parsed is None:
        raise CommandError(errors.STREAM_INVALID_ID)
    return parsed


def parse_start(raw: bytes) -> int:
    """The start of a range: inclusive, or exclusive with a `(` prefix (then strict)."""
    if len(raw) > 1 and raw[:1] == b"(":
        sid = parse_id(raw[1:])
        if sid == MAX_ID:
            raise CommandError(errors.STREAM_BAD_START)
        return sid + 1
    return parse_id(raw, 0, strict=False)


def parse_end(raw: bytes) -> int:
    """The end of a range; an incomplete ID covers every sequence of its ms."""
    if len(raw) > 1 and raw[:1] == b"(":
        sid = parse_id(raw[1:], SEQ_MASK)
        if sid == 0:
            raise CommandError(errors.STREAM_BAD_END)
        return sid - 1
    return parse_id(raw, SEQ_MASK, strict=False)


# --- replies ----------------------------------------------------------------------------
def id_reply(sid: int) -> bytes:
    return resp.bulk(format_id(sid))


def entry_reply(sid: int, flat: list[bytes]) -> bytes:
    """One entry: [id, [field, value, ...]]."""
    text = format_id(sid)
    parts = [b"*2\r\n$%d\r\n%s\r\n*%d\r\n" % (len(text), text, len(flat))]
    parts.extend([b"$%d\r\n%s\r\n" % (len(x), x) for x in flat])
    return b"".join(parts)


# --- lookups ----------------------------------------------------------------------------
def get_stream(c: Client, key: bytes) -> Stream | None:
    """The stream at key, None if absent, WRONGTYPE for another type."""
    value = c.db.lookup(key)
    if value is None or value.__class__ is Stream:
        return value
    raise CommandError(errors.WRONGTYPE)


def read_stream(c: Client, key: bytes) -> Stream | None:
    """`get_stream` for commands that look the key up for reading (Redis's lookupKeyRead:
    a missing key is a keymiss event)."""
    value = c.db.lookup_read(key)
    if value is None or value.__class__ is Stream:
        return value
    raise CommandError(errors.WRONGTYPE)


def stream_event(c: Client, event: bytes, key: bytes) -> None:
    """A keyspace event of a stream command (xadd, xgroup-create, ...)."""
    engine = c.engine
    if engine.notify_flags:
        engine.notify(notify.STREAM, event, key, c.db.index)


def c_text(raw: bytes) -> str:
    """An argument as Redis prints it with %s: up to its first NUL byte."""
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace")


def stream_and_group(c: Client, key: bytes, name: bytes) -> tuple[Stream, Group]:
    """XPENDING/XCLAIM/XAUTOCLAIM's lookup: WRONGTYPE, then NOGROUP for a missing key or
    group."""
    stream = read_stream(c, key)
    group = stream.groups.get(name) if stream is not None else None
    if stream is None or group is None:
        raise CommandError(errors.STREAM_NOGROUP.format(c_text(key), c_text(name)))
    return stream, group
