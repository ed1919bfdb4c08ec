"""RESP: the request parser (client -> server) and the reply encoders (server -> client).

Pure: bytes in, commands or bytes out. No sockets, no clocks.

Parsing follows Redis 7.0's `processMultibulkBuffer`/`processInlineBuffer` (networking.c):
the same limits, the same error texts, errors reported only after every complete command
before them has been handed out (Redis executes those, then replies the error and closes).

Speed: a read that starts at a command boundary goes to a fast path that takes only whole
multibulk commands of bulk strings in canonical form (`*<n>\r\n`, then n times
`$<len>\r\n<data>\r\n`), which is all a client library sends. Anything else -- inline
commands, a command split across reads, an unauthenticated client, an element that is
not a bulk string, a leading zero, a missing CRLF -- is left to the exact Python parser
below, from the first command the fast path does not take (hiredis: from the start of the
read), which hands back to the fast path at the next boundary. A read (64 KB) is smaller
than any size limit, so complete commands inside one cannot break them.

The fast path has two implementations, one per build, because each is the faster one
there: `_whole_commands`, a byte loop on machine integers that `make native` compiles
with mypyc (~1.4k instructions per command vs ~3.2k through hiredis, and no per-read
setup), and, interpreted, `hiredis.Reader` (C), for which the same loop would be ~5x
slower. A property test checks both against the exact parser. One difference is left:
hiredis also takes simple strings, verbatim strings and big numbers as elements, and hands
them out as if they were bulk strings, where Redis (and `_whole_commands`) would answer
"Protocol error: expected '$'"; telling them apart costs more than a check per element.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Iterable
from operator import itemgetter
from typing import Final

import hiredis
from mypy_extensions import i64

from node.proto.errors import ProtocolError

INLINE_MAX_SIZE: Final = 64 * 1024  # PROTO_INLINE_MAX_SIZE
INT_MAX: Final = 2**31 - 1
UNAUTH_MAX_MULTIBULK: Final = 10
UNAUTH_MAX_BULK: Final = 16384

Argv = list[bytes]
# hiredis allocates a list of the declared size as soon as it reads a `*<count>` header, so a
# client could make us allocate (and later free: 5 s of CPU for 2**31) gigabytes with a few
# bytes. Reads holding a header of 100000 or more go to the exact parser, which allocates
# only what arrives. (A payload that happens to contain such bytes only costs the slow
# path.) A one-byte literal prefix keeps the regex engine on its fastest scan: `\n\*\d{6}`
# plus a separate test of the first header cost ~25% more instructions per 16-command read.
_HUGE_MULTIBULK: Final = re.compile(rb"\*\d{6}")
_EMPTY_BUFFER: Final = sys.getsizeof(bytearray())
_BOUNDARY: Final = b"*0\r\n"
# Whether this module runs compiled (`make native`): it then parses with `_whole_commands`.
COMPILED: Final = not __file__.endswith(".py")


class RequestParser:
    """Incremental request parser for one connection.

    `feed(data)` returns the commands completed by `data`. When the stream turns invalid,
    the commands before the bad one are still returned and `error` is set; the caller
    executes them, sends `error.reply` and closes the connection.
    """

    __slots__ = ("_buf", "_pos", "_reader", "_slow", "auth_required", "error", "max_bulk_len")

    def __init__(self, max_bulk_len: int = 512 * 1024 * 1024) -> None:
        self._reader = hiredis.Reader()
        self._buf = bytearray()  # only used by the slow path
        self._pos = 0
        self._slow = False
        self.max_bulk_len = max_bulk_len
        self.auth_required = False
        self.error: ProtocolError | None = None

    def pending_bytes(self) -> int:
        """Bytes held for an incomplete command (for client-query-buffer-limit, CLIENT LIST)."""
        return len(self._buf) - self._pos

    def buffer_sizes(self) -> tuple[int, int]:
        """(bytes held for an incomplete command, bytes its buffer holds allocated), for
        CLIENT LIST's qbuf and qbuf-free. The fast path keeps no bytes between reads."""
        return len(self._buf) - self._pos, sys.getsizeof(self._buf) - _EMPTY_BUFFER

    def feed(self, data: bytes) -> list[Argv]:
        if self.error is not None:
            return []
        if self._slow or self.auth_required or not data:
            return self._feed_slow(data)
        if COMPILED:
            commands, end = _whole_commands(data, self.max_bulk_len)
        else:
            commands, end = self._hiredis_commands(data)
        if end == len(data):
            return commands
        # An incomplete tail or unusual input: the exact parser reads on from there, and
        # keeps the input until the next boundary.
        self._slow = True
        self._buf = bytearray(data[end:])
        self._pos = 0
        commands += self._parse_slow()
        return commands

    def _hiredis_commands(self, data: bytes) -> tuple[list[Argv], int]:
        """The interpreted build's fast path: `_whole_commands` through hiredis, which
        takes the whole read or none of it (offset 0)."""
        if not data or data[0] != 0x2A or _HUGE_MULTIBULK.search(data):  # '*'
            return [], 0
        reader = self._reader
        # An empty multibulk fed after the data marks the boundary: it comes back as []
        # with nothing left to read only when the data ended between commands
        # (has_data() alone cannot see an aggregate left half-read).
        reader.feed(data + _BOUNDARY)
        out: list[Argv] = []
        try:
            while (cmd := reader.gets()) is not False:
                if cmd.__class__ is not list:
                    break
                if cmd:
                    for arg in cmd:
                        if arg.__class__ is not bytes:
                            raise ValueError
                    out.append(cmd)
                elif not reader.has_data():
                    return out, len(data)
        except (hiredis.ProtocolError, ValueError):
            pass
        self._reader = hiredis.Reader()  # whatever it holds is re-read by the exact parser
        return [], 0

    # --- the exact parser ----------------------------------------------------------------
    def _feed_slow(self, data: bytes) -> list[Argv]:
        if self._pos:
            del self._buf[: self._pos]
            self._pos = 0
        self._buf += data
        self._slow = True
        return self._parse_slow()

    def _parse_slow(self) -> list[Argv]:
        buf = self._buf
        out: list[Argv] = []
        try:
            while self._pos < len(buf):
                if buf[self._pos] == 0x2A:
                    argv = self._multibulk(buf)
                else:
                    argv = self._inline(buf)
                if argv is None:
                    break  # incomplete
                if not argv:
                    continue  # `*0`, `*-1`, blank line: hiredis handed none of these out
                out.append(argv)
        except ProtocolError as exc:
            self.error = exc
            self._buf = bytearray()
            self._pos = 0
            return out
        if self._pos >= len(buf):
            # Back at a boundary with nothing pending: hiredis takes over again.
            self._buf = bytearray()
            self._pos = 0
            self._slow = False
        return out

    def _inline(self, buf: bytearray) -> Argv | None:
        pos = self._pos
        nl = _strchr(buf, pos, b"\n")
        if nl < 0:
            if len(buf) - pos > INLINE_MAX_SIZE:
                raise ProtocolError("too big inline request")
            return None
        end = nl - 1 if nl > pos and buf[nl - 1] == 0x0D else nl
        line = bytes(buf[pos:end])
        self._pos = nl + 1
        args = split_args(line)
        if args is None:
            raise ProtocolError("unbalanced quotes in request")
        return args

    def _multibulk(self, buf: bytearray) -> Argv | None:
        # Like networking.c, a header line ends at the first '\r' and the byte after it is
        # skipped unseen (so "*1\r\r\n" reads as count 1 followed by "\n").
        pos = self._pos
        nl = _strchr(buf, pos, b"\r")
        if nl < 0:
            if len(buf) - pos > INLINE_MAX_SIZE:
                raise ProtocolError("too big mbulk count string")
            return None
        if nl > len(buf) - 2:
            return None  # the byte after '\r' has not arrived
        count = _parse_ll(buf, pos + 1, nl)
        if count is None or count > INT_MAX:
            raise ProtocolError("invalid multibulk length")
        if count > UNAUTH_MAX_MULTIBULK and self.auth_required:
            raise ProtocolError("unauthenticated multibulk length")
        p = nl + 2
        if count <= 0:
            self._pos = p
            return []
        argv: Argv = []
        n = len(buf)
        while len(argv) < count:
            if p >= n:
                return None
            nl = _strchr(buf, p, b"\r")
            if nl < 0:
                if n - p > INLINE_MAX_SIZE:
                    raise ProtocolError("too big bulk count string")
                return None  # Redis checks the '$' only once the line is complete
            if nl > n - 2:
                return None
            if buf[p] != 0x24:  # '$'
                raise ProtocolError(f"expected '$', got '{_byte_text(buf[p])}'")
            length = _parse_ll(buf, p + 1, nl)
            if length is None or length < 0 or length > self.max_bulk_len:
                raise ProtocolError("invalid bulk length")
            if length > UNAUTH_MAX_BULK and self.auth_required:
                raise ProtocolError("unauthenticated bulk length")
            start = nl + 2
            if start + length + 2 > n:
                return None
            argv.append(bytes(buf[start : start + length]))
            p = start + length + 2  # like Redis, the CRLF after the data is not checked
        self._pos = p
        return argv


def _whole_commands(data: bytes, max_bulk_len: int) -> tuple[list[Argv], int]:
    """The commands at the start of `data` that are whole multibulk commands of bulk
    strings in canonical form (counts of 1 to 5 digits, lengths without leading zeros and
    within `max_bulk_len`, every line ended by CRLF), and the offset where they end. What
    follows (a command left incomplete, or anything else) is the exact parser's to read.
    Written for mypyc: `i64` keeps the positions and numbers in machine integers."""
    n: i64 = len(data)
    p: i64 = 0
    out: list[Argv] = []
    while p < n:
        start = p
        if data[p] != 0x2A:  # '*'
            return out, start
        p += 1
        first: i64 = p
        count: i64 = 0
        while p < n and 0x30 <= data[p] <= 0x39:
            count = count * 10 + data[p] - 0x30
            p += 1
        if p == first or p - first > 5 or data[first] == 0x30 or p + 1 >= n:
            return out, start
        if data[p] != 0x0D or data[p + 1] != 0x0A:
            return out, start
        p += 2
        argv: Argv = []
        while count:
            if p >= n or data[p] != 0x24:  # '$'
                return out, start
            p += 1
            first = p
            length: i64 = 0
            while p < n and 0x30 <= data[p] <= 0x39:
                length = length * 10 + data[p] - 0x30
                p += 1
            digits = p - first
            if digits == 0 or digits > 10 or (data[first] == 0x30 and digits > 1):
                return out, start
            if length > max_bulk_len:
                return out, start
            end = p + 2 + length
            if end + 2 > n or data[p] != 0x0D or data[p + 1] != 0x0A:
                return out, start
            if data[end] != 0x0D or data[end + 1] != 0x0A:
                return out, start
            argv.append(data[p + 2 : end])
            p = end + 2
            count -= 1
        out.append(argv)
    return out, n


def _strchr(buf: bytearray, start: int, char: bytes) -> int:
    """Redis finds line ends with C's strchr: the first `char` from `start`, but not past a
    NUL byte (-1 then, and the request waits for more input like an incomplete one)."""
    found = buf.find(char, start)
    if found < 0 or buf.find(b"\0", start, found) >= 0:
        return -1
    return found


def _byte_text(byte: int) -> str:
    """One raw byte as message text that encodes back to itself (surrogateescape)."""
    return bytes([byte]).decode("utf-8", "surrogateescape")


def _parse_ll(buf: bytearray, start: int, end: int) -> int | None:
    """Redis's string2ll: optional '-', digits, no leading zeros/spaces/plus, fits int64."""
    raw = bytes(buf[start:end])
    if not raw or len(raw) > 20:
        return None
    body = raw[1:] if raw[:1] == b"-" else raw
    if not body.isdigit() or (len(body) > 1 and body[0] == 0x30) or (raw == b"-0"):
        return None
    value = int(raw)
    if not -(2**63) <= value < 2**63:
        return None
    return value


_ESCAPES: Final = {
    ord("n"): b"\n",
    ord("r"): b"\r",
    ord("t"): b"\t",
    ord("b"): b"\b",
    ord("a"): b"\a",
}
_HEX: Final = frozenset(b"0123456789abcdefABCDEF")


def split_args(line: bytes) -> Argv | None:
    """Redis's sdssplitargs: whitespace-split with "double" (escapes) and 'single' quotes.

    Returns None for unbalanced quotes (or a closing quote not followed by a space).
    """
    args: Argv = []
    i, n = 0, len(line)
    while True:
        while i < n and line[i] in b" \n\r\t\v\f":
            i += 1
        if i >= n:
            return args
        current = bytearray()
        in_dq = in_sq = False
        while True:
            if in_dq:
                if i >= n:
                    return None
                c = line[i]
                if (
                    c == 0x5C
                    and i + 3 < n
                    and line[i + 1] == 0x78
                    and line[i + 2] in _HEX
                    and line[i + 3] in _HEX
                ):
                    current.append(int(line[i + 2 : i + 4], 16))
                    i += 3
                elif c == 0x5C and i + 1 < n:
                    i += 1
                    current += _ESCAPES.get(line[i], bytes([line[i]]))
                elif c == 0x22:
                    if i + 1 < n and line[i + 1] not in b" \n\r\t\v\f":
                        return None
                    in_dq = False
                    i += 1
                    break
                else:
                    current.append(c)
            elif in_sq:
                if i >= n:
                    return None
                c = line[i]
                if c == 0x5C and i + 1 < n and line[i + 1] == 0x27:
                    i += 1
                    current.append(0x27)
                elif c == 0x27:
                    if i + 1 < n and line[i + 1] not in b" \n\r\t\v\f":
                        return None
                    in_sq = False
                    i += 1
                    break
                else:
                    current.append(c)
            else:
                if i >= n:
                    break
                c = line[i]
                if c in b" \n\r\t":  # not isspace(): '\v' and '\f' stay in the word
                    break
                if c == 0x22:
                    in_dq = True
                elif c == 0x27:
                    in_sq = True
                else:
                    current.append(c)
            i += 1
        args.append(bytes(current))


# ==== Reply encoding =====================================================================
# Handlers build replies as bytes. Constants are precomputed; the helpers below take the
# connection's protocol (2 or 3) where RESP2 and RESP3 differ, degrading as Redis does.

OK: Final = b"+OK\r\n"
PONG: Final = b"+PONG\r\n"
QUEUED: Final = b"+QUEUED\r\n"
NULL_BULK: Final = b"$-1\r\n"
NULL_ARRAY: Final = b"*-1\r\n"
NULL3: Final = b"_\r\n"
EMPTY_ARRAY: Final = b"*0\r\n"
EMPTY_BULK: Final = b"$0\r\n\r\n"
ZERO: Final = b":0\r\n"
ONE: Final = b":1\r\n"
MINUS_ONE: Final = b":-1\r\n"
MINUS_TWO: Final = b":-2\r\n"
_SMALL_INTS: Final = tuple(b":%d\r\n" % i for i in range(10001))
# "$<n>\r\n" for the lengths most values have: joining a cached header costs ~120 ns a
# reply here, %-formatting the whole reply ~185 ns.
BULK_HEADERS: Final = tuple(b"$%d\r\n" % n for n in range(1024))
_BULK_LENGTHS: Final = tuple(b"$%d" % n for n in range(1024))  # the same, less the CRLF


def status(text: bytes) -> bytes:
    return b"+" + text + b"\r\n"


def error(message: str) -> bytes:
    """An error reply. surrogateescape: user bytes quoted in a message (errors._sds_text) go
    out unchanged; like addReplyErrorFormat, every CR and LF becomes a space so the reply
    stays one line."""
    text = message.encode("utf-8", "surrogateescape")
    if b"\r" in text or b"\n" in text:
        text = text.replace(b"\r", b" ").replace(b"\n", b" ")
    return b"-" + text + b"\r\n"


def integer(value: int) -> bytes:
    if 0 <= value <= 10000:
        return _SMALL_INTS[value]
    return b":%d\r\n" % value


def bulk(value: bytes | bytearray) -> bytes:
    n = len(value)
    if n < 1024:
        return b"".join((BULK_HEADERS[n], value, b"\r\n"))
    return b"$%d\r\n%s\r\n" % (n, value)


def bulk_or_null(value: bytes | bytearray | None, resp: int) -> bytes:
    if value is None:
        return NULL3 if resp == 3 else NULL_BULK
    return bulk(value)


def null(resp: int) -> bytes:
    """A null where a bulk string was expected (`$-1` in RESP2)."""
    return NULL3 if resp == 3 else NULL_BULK


def null_array(resp: int) -> bytes:
    """A null where an array was expected (`*-1` in RESP2)."""
    return NULL3 if resp == 3 else NULL_ARRAY


def array_header(n: int) -> bytes:
    return b"*%d\r\n" % n


def map_header(pairs: int, resp: int) -> bytes:
    return b"%%%d\r\n" % pairs if resp == 3 else b"*%d\r\n" % (pairs * 2)


def set_header(n: int, resp: int) -> bytes:
    return b"~%d\r\n" % n if resp == 3 else b"*%d\r\n" % n


def push_header(n: int, resp: int) -> bytes:
    return b">%d\r\n" % n if resp == 3 else b"*%d\r\n" % n


def help_reply(command: bytes, lines: Iterable[bytes]) -> bytes:
    """Redis's addReplyHelp, the reply of every `<CONTAINER> HELP`: a title naming the command
    as the client typed it (upper-cased), the container's lines, then HELP's own entry; all
    simple strings. `lines` are given as Redis prints them (descriptions indented by four)."""
    title = command.upper() + b" <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    items = [title, *lines, b"HELP", b"    Prints this help."]
    return b"*%d\r\n" % len(items) + b"".join(b"+" + item + b"\r\n" for item in items)


def bulks(items: Iterable[bytes]) -> bytes:
    """The items as bulk strings back to back, with no header: the caller writes its own (a
    RESP3 set's, say)."""
    return b"".join([b"$%d\r\n%s\r\n" % (len(i), i) for i in items])


def bulk_array(items: Iterable[bytes]) -> bytes:
    # No per-item formatting or Python loop; every per-item step is a C call. The lengths
    # are read once. Items all of one length (the usual list of like values) share one
    # "\r\n$<n>\r\n" separator in a single join (LRANGE 0 99 of short items: 85000 -> 37000
    # instructions); otherwise one CRLF join over [header, len1, item1, ..., b""], the cached
    # "$<n>" picked by one itemgetter call (a C loop, unlike mapping a tuple's __getitem__)
    # and interleaved by slice assignment.
    seq = items if type(items) is list else list(items)
    n = len(seq)
    if not n:
        return b"*0\r\n"
    lengths = list(map(len, seq))
    width = lengths[0]
    if lengths.count(width) == n and width < 1024:
        head = BULK_HEADERS[width]
        return b"".join((b"*%d\r\n" % n, head, (b"\r\n" + head).join(seq), b"\r\n"))
    parts: list[bytes] = [b""] * (2 * n + 2)
    parts[0] = b"*%d" % n
    try:
        # n > 1 here (a lone item is of one length) unless it is the IndexError case, so
        # itemgetter returns a tuple.
        parts[1:-1:2] = itemgetter(*lengths)(_BULK_LENGTHS)
    except IndexError:  # an item of 1 KiB or more
        parts[1:-1:2] = [b"$%d" % length for length in lengths]
    parts[2:-1:2] = seq
    return b"\r\n".join(parts)


def format_double(value: float) -> bytes:
    """Redis 7.0's addReplyDouble text: %.17g, with inf/-inf/nan spelled that way."""
    if math.isinf(value):
        return b"inf" if value > 0 else b"-inf"
    if math.isnan(value):
        return b"nan"
    return b"%.17g" % value


def double(value: float, resp: int) -> bytes:
    text = format_double(value)
    if resp == 3:
        return b"," + text + b"\r\n"
    return b"$%d\r\n%s\r\n" % (len(text), text)


def boolean(value: bool, resp: int) -> bytes:
    if resp == 3:
        return b"#t\r\n" if value else b"#f\r\n"
    return ONE if value else ZERO


def big_number(digits: bytes, resp: int) -> bytes:
    return b"(" + digits + b"\r\n" if resp == 3 else bulk(digits)


def verbatim(text: bytes, resp: int, fmt: bytes = b"txt") -> bytes:
    if resp == 3:
        return b"=%d\r\n%s:%s\r\n" % (len(text) + 4, fmt, text)
    return bulk(text)


def encode(value: object, resp: int) -> bytes:
    """Encode a plain Python value; for cold paths (INFO-like, COMMAND, HELLO...).

    bytes->bulk, str->bulk (utf-8), bool->boolean, int->integer, float->double,
    None->null, list/tuple->array, dict->map, set/frozenset->set.
    """
    out: list[bytes] = []
    _encode_into(value, resp, out)
    return b"".join(out)


def _encode_into(value: object, resp: int, out: list[bytes]) -> None:
    if isinstance(value, bytes):
        out.append(b"$%d\r\n%s\r\n" % (len(value), value))
    elif isinstance(value, str):
        out.append(bulk(value.encode()))
    elif isinstance(value, bool):
        out.append(boolean(value, resp))
    elif isinstance(value, int):
        out.append(integer(value))
    elif isinstance(value, float):
        out.append(double(value, resp))
    elif value is None:
        out.append(null(resp))
    elif isinstance(value, (list, tuple)):
        out.append(b"*%d\r\n" % len(value))
        for item in value:
            _encode_into(item, resp, out)
    elif isinstance(value, dict):
        out.append(map_header(len(value), resp))
        for k, v in value.items():
            _encode_into(k, resp, out)
            _encode_into(v, resp, out)
    elif isinstance(value, (set, frozenset)):
        out.append(set_header(len(value), resp))
        for item in value:
            _encode_into(item, resp, out)
    elif isinstance(value, BaseException):
        out.append(error(str(value)))
    else:
        raise TypeError(f"cannot encode {type(value).__name__}")
