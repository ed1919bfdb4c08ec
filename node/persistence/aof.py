"""Redis 7.0's multi-part AOF formats: the manifest, the command stream of incr (and AOF-format
base) files, and the AOF-format base a rewrite writes when `aof-use-rdb-preamble` is off.

- Layout: `appenddirname` inside `dir` holds `<name>.<seq>.base.rdb|aof`, zero or more
  `<name>.<seq>.incr.aof` and `<name>.manifest`, whose lines are
  `file <name> seq <n> type <b|h|i>`: the base first, then history, then incr files in
  order. Names that need it are quoted with C escapes, as sdscatrepr does.
- Commands are RESP multibulks, exactly as propagated; `#` lines are annotations
  (`#TS:<unix>` with aof-timestamp-enabled) and are skipped when loading.
- `parse_commands` reports how far the data was valid, so that a torn last command (a
  crash mid-write) can be truncated away when `aof-load-truncated` allows it; an
  unterminated MULTI at the end is rolled back to before its MULTI.
Pure: bytes in, bytes out.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Final

from node.engine.types.hash import HashValue
from node.engine.types.list import ListValue
from node.engine.types.set import SetValue
from node.engine.types.stream import Stream, format_id
from node.engine.types.zset import ZSet
from node.persistence.blobs import FormatError
from node.proto.resp import format_double

TYPE_BASE: Final = "b"
TYPE_HISTORY: Final = "h"
TYPE_INCR: Final = "i"
# Redis rewrites collections with at most this many items per command.
ITEMS_PER_COMMAND: Final = 64


def encode_command(argv: list[bytes]) -> bytes:
    parts = [b"*%d\r\n" % len(argv)]
    parts.extend(b"$%d\r\n%s\r\n" % (len(arg), arg) for arg in argv)
    return b"".join(parts)


# --- the manifest ---------------------------------------------------------------------------
@dataclass
class AofFile:
    name: str
    seq: int
    type: str


@dataclass
class Manifest:
    base: AofFile | None = None
    history: list[AofFile] = field(default_factory=list)
    incrs: list[AofFile] = field(default_factory=list)
    base_seq: int = 0
    incr_seq: int = 0

    def files(self) -> list[AofFile]:
        return ([self.base] if self.base else []) + self.history + self.incrs

    def format(self) -> bytes:
        return b"".join(
            b"file %s seq %d type %s\n" % (_quote(f.name), f.seq, f.type.encode())
            for f in self.files()
        )

    def copy(self) -> Manifest:
        return Manifest(
            self.base, list(self.history), list(self.incrs), self.base_seq, self.incr_seq
        )

    def new_base(self, filename: str, rdb: bool) -> AofFile:
        """A new base: the old one becomes history (getNewBaseFileNameAndMarkPreAsHistory)."""
        if self.base is not None:
            self.history.append(AofFile(self.base.name, self.base.seq, TYPE_HISTORY))
        self.base_seq += 1
        kind = "rdb" if rdb else "aof"
        self.base = AofFile(f"{filename}.{self.base_seq}.base.{kind}", self.base_seq, TYPE_BASE)
        return self.base

    def new_incr(self, filename: str) -> AofFile:
        self.incr_seq += 1
        incr = AofFile(f"{filename}.{self.incr_seq}.incr.aof", self.incr_seq, TYPE_INCR)
        self.incrs.append(incr)
        return incr

    def retire_incrs_before(self, keep: AofFile | None) -> None:
        """After a rewrite: every incr file but `keep` (opened when it started) is history."""
        for incr in list(self.incrs):
            if incr is not keep:
                self.incrs.remove(incr)
                self.history.append(AofFile(incr.name, incr.seq, TYPE_HISTORY))


_SAFE: Final = re.compile(rb"[A-Za-z0-9._\-]+")


def _quote(name: str) -> bytes:
    raw = name.encode("utf-8", "surrogateescape")
    if _SAFE.fullmatch(raw):
        return raw
    out = bytearray(b'"')
    for b in raw:
        ch = bytes((b,))
        if ch in b'\\"':
            out += b"\\" + ch
        elif ch == b"\n":
            out += b"\\n"
        elif ch == b"\r":
            out += b"\\r"
        elif ch == b"\t":
            out += b"\\t"
        elif 32 <= b < 127:
            out += ch
        else:
            out += b"\\x%02x" % b
    return bytes(out + b'"')


def _split_args(line: bytes) -> list[bytes]:
    """sdssplitargs for manifest lines: words, "quoted with escapes" or 'single quoted'."""
    words: list[bytes] = []
    i, n = 0, len(line)
    while True:
        while i < n and line[i : i + 1].isspace():
            i += 1
        if i >= n:
            return words
        word = bytearray()
        quote = line[i : i + 1]
        if quote in (b'"', b"'"):
            i += 1
            while True:
                if i >= n:
                    raise FormatError("unbalanced quotes in manifest")
                ch = line[i : i + 1]
                if ch == quote:
                    i += 1
                    break
                if ch == b"\\" and quote == b'"' and i + 1 < n:
                    nxt = line[i + 1 : i + 2]
                    if nxt == b"x" and i + 3 < n:
                        word.append(int(line[i + 2 : i + 4], 16))
                        i += 4
                        continue
                    word += {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"a": b"\a"}.get(
                        nxt, nxt
                    )
                    i += 2
                    continue
                word += ch
                i += 1
            if i < n and not line[i : i + 1].isspace():
                raise FormatError("closing quote must be followed by a space")
        else:
            while i < n and not line[i : i + 1].isspace():
                word += line[i : i + 1]
                i += 1
        words.append(bytes(word))


def parse_manifest(data: bytes) -> Manifest:
    """aofLoadManifestFromFile's rules; FormatError with Redis's reason on bad input."""
    manifest = Manifest()
    seen_any = False
    for raw in data.split(b"\n"):
        line = raw.strip()
        if not line:
            continue
        if line.startswith(b"#"):
            continue
        seen_any = True
        words = _split_args(line)
        if len(words) < 6 or len(words) % 2:
            raise FormatError("Invalid AOF manifest file format")
        pairs = {words[i]: words[i + 1] for i in range(0, len(words), 2)}
        try:
            name = pairs[b"file"].decode("utf-8", "surrogateescape")
            seq = int(pairs[b"seq"])
            kind = pairs[b"type"].decode()
        except (KeyError, ValueError):
            raise FormatError("Invalid AOF manifest file format") from None
        if "/" in name:
            raise FormatError("Invalid AOF manifest file format")
        entry = AofFile(name, seq, kind)
        if kind == TYPE_BASE:
            if manifest.base is not None:
                raise FormatError("Found duplicate base file information")
            manifest.base = entry
            manifest.base_seq = seq
        elif kind == TYPE_HISTORY:
            manifest.history.append(entry)
        elif kind == TYPE_INCR:
            if seq <= manifest.incr_seq:
                raise FormatError("Found a non-monotonic sequence number")
            manifest.incrs.append(entry)
            manifest.incr_seq = seq
        else:
            raise FormatError("Unknown AOF file type")
    if not seen_any:
        raise FormatError("Found an empty AOF manifest")
    return manifest


# --- commands ---------------------------------------------------------------------------------
@dataclass
class ParsedAof:
    commands: list[list[bytes]]
    valid_length: int  # bytes of complete commands (a torn tail or open MULTI excluded)
    truncated: bool  # the data ended inside a command
    open_multi: bool  # the data ended inside MULTI ... (no EXEC)


def parse_commands(data: bytes) -> ParsedAof:
    """Split AOF data into commands. A tail cut in the middle of a command is reported
    (truncated); any other malformation raises FormatError("Bad file format ...")."""
    commands: list[list[bytes]] = []
    pos = 0
    n = len(data)
    valid = 0
    multi_at: tuple[int, int] | None = None  # (commands before MULTI, offset of MULTI)
    truncated = False
    while pos < n:
        if data[pos : pos + 1] == b"#":
            end = data.find(b"\n", pos)
            if end < 0:
                truncated = True
                break
            pos = end + 1
            valid = pos
            continue
        try:
            argv, nxt = _parse_one(data, pos)
        except _Truncated:
            truncated = True
            break
        if argv[0].lower() == b"multi":
            multi_at = (len(commands), pos)
        elif argv[0].lower() == b"exec":
            multi_at = None
        commands.append(argv)
        pos = nxt
        valid = pos
    open_multi = multi_at is not None
    if multi_at is not None:
        del commands[multi_at[0] :]
        valid = multi_at[1]
    return ParsedAof(commands, valid, truncated, open_multi)


class _Truncated(Exception):
    pass


def _line(data: bytes, pos: int) -> tuple[bytes, int]:
    end = data.find(b"\r\n", pos)
    if end < 0:
        raise _Truncated
    return data[pos:end], end + 2


def _parse_one(data: bytes, pos: int) -> tuple[list[bytes], int]:
    if data[pos : pos + 1] != b"*":
        raise FormatError("Bad file format reading the append only file")
    head, pos = _line(data, pos + 1)
    try:
        count = int(head)
    except ValueError:
        raise FormatError("Bad file format reading the append only file") from None
    if count < 1:
        raise FormatError("Bad file format reading the append only file")
    argv = []
    for _ in range(count):
        if pos >= len(data):
            raise _Truncated
        if data[pos : pos + 1] != b"$":
            raise FormatError("Bad file format reading the append only file")
        head, pos = _line(data, pos + 1)
        try:
            length = int(head)
        except ValueError:
            raise FormatError("Bad file format reading the append only file") from None
        end = pos + length
        if end + 2 > len(data):
            raise _Truncated
        if data[end : end + 2] != b"\r\n":
            raise FormatError("Bad file format reading the append only file")
        argv.append(data[pos:end])
        pos = end + 2
    return argv, pos


# --- AOF-format base (aof-use-rdb-preamble no) ------------------------------------------------
def rewrite_commands(
    dbs: Iterator[tuple[int, dict[bytes, object], dict[bytes, int]]],
) -> Iterator[list[bytes]]:
    """The commands rewriteAppendOnlyFileRio writes to rebuild a keyspace: per database a
    SELECT, then each key's value in batches of 64 items, then its PEXPIREAT."""
    for index, data, expires in dbs:
        if not data:
            continue
        yield [b"SELECT", b"%d" % index]
        for key, value in data.items():
            yield from _value_commands(key, value)
            when = expires.get(key)
            if when is not None:
                yield [b"PEXPIREAT", key, b"%d" % when]


def _batches(cmd: bytes, key: bytes, items: list[bytes], per: int) -> Iterator[list[bytes]]:
    for i in range(0, len(items), per):
        yield [cmd, key, *items[i : i + per]]


def _value_commands(key: bytes, value: object) -> Iterator[list[bytes]]:
    if isinstance(value, bytes | bytearray):
        yield [b"SET", key, bytes(value)]
    elif isinstance(value, ListValue):
        yield from _batches(b"RPUSH", key, list(value), ITEMS_PER_COMMAND)
    elif isinstance(value, SetValue):
        yield from _batches(b"SADD", key, value.ordered(), ITEMS_PER_COMMAND)
    elif isinstance(value, ZSet):
        flat = [x for member, score in value.pairs() for x in (format_double(score), member)]
        yield from _batches(b"ZADD", key, flat, 2 * ITEMS_PER_COMMAND)
    elif isinstance(value, HashValue):
        flat = [x for pair in value.items() for x in pair]
        yield from _batches(b"HMSET", key, flat, 2 * ITEMS_PER_COMMAND)
    elif isinstance(value, Stream):
        yield from _stream_commands(key, value)
    else:
        raise FormatError(f"cannot rewrite a {type(value).__name__}")


def _stream_commands(key: bytes, stream: Stream) -> Iterator[list[bytes]]:
    """rewriteStreamObject: the entries, the stream's IDs and counters, then each group
    with its consumers and pending entries (claimed with their times and counts)."""
    last = format_id(stream.last_id)
    if stream.length:
        for sid, flat in stream.range(0, (1 << 128) - 1):
            yield [b"XADD", key, format_id(sid), *flat]
    else:
        # An empty stream is created by an XADD of a throwaway entry, trimmed at once.
        yield [b"XADD", key, b"MAXLEN", b"0", last, b"x", b"y"]
    yield [
        b"XSETID",
        key,
        last,
        b"ENTRIESADDED",
        b"%d" % stream.entries_added,
        b"MAXDELETEDID",
        format_id(stream.max_deleted),
    ]
    for name in sorted(stream.groups):
        group = stream.groups[name]
        yield [
            b"XGROUP",
            b"CREATE",
            key,
            name,
            format_id(group.last_id),
            b"ENTRIESREAD",
            b"%d" % group.entries_read,
        ]
        for cname in sorted(group.consumers):
            consumer = group.consumers[cname]
            if not consumer.pel:
                yield [b"XGROUP", b"CREATECONSUMER", key, name, cname]
            for sid in consumer.pel:
                nack = group.pel[sid]
                yield [
                    b"XCLAIM",
                    key,
                    name,
                    cname,
                    b"0",
                    format_id(sid),
                    b"TIME",
                    b"%d" % nack.delivery_time,
                    b"RETRYCOUNT",
                    b"%d" % nack.delivery_count,
                    b"JUSTID",
                    b"FORCE",
                ]
