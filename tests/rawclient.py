"""A raw RESP client for socket-level tests: send argv, read exactly one reply as RAW BYTES.

Rules:
- Replies are never decoded: tests compare bytes, which is the compatibility bar. `frame_end`
  knows only RESP framing (RESP2 and RESP3 types, including attributes, which belong to the
  reply that follows them) and returns where one reply ends.
- Every read has a generous timeout: a hang fails the test instead of stalling the suite.
"""

from __future__ import annotations

import socket
from typing import Final

TIMEOUT: Final = 30.0

# Types whose payload is the rest of the line.
_LINE_TYPES: Final = frozenset(b"+-:_,#(")
# Types with a length line, then that many bytes and a CRLF.
_BULK_TYPES: Final = frozenset(b"$=!")
# Aggregates: a count line, then that many replies (twice as many for maps/attributes).
_AGGREGATE_TYPES: Final = frozenset(b"*~>")
_PAIR_TYPES: Final = frozenset(b"%|")


class ProtocolMismatch(AssertionError):
    """The server sent bytes that are not a RESP reply."""


def encode_command(*args: bytes | str | int | float) -> bytes:
    """A request as a RESP multibulk (what redis-cli and client libraries send)."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def frame_end(buf: bytes | bytearray, pos: int = 0) -> int | None:
    """The index just past the reply starting at `pos`, or None if `buf` holds only part."""
    if pos >= len(buf):
        return None
    kind = buf[pos]
    nl = buf.find(b"\r\n", pos)
    if nl < 0:
        return None
    line = bytes(buf[pos + 1 : nl])
    after = nl + 2
    if kind in _LINE_TYPES:
        return after
    try:
        count = int(line)
    except ValueError:
        raise ProtocolMismatch(f"bad length line {bytes(buf[pos:nl])!r}") from None
    if kind in _BULK_TYPES:
        if count < 0:
            return after
        end = after + count + 2
        if end > len(buf):
            return None
        if buf[end - 2 : end] != b"\r\n":
            raise ProtocolMismatch(f"bulk not followed by CRLF: {bytes(buf[pos:end])!r}")
        return end
    if kind in _AGGREGATE_TYPES or kind in _PAIR_TYPES:
        items = count * 2 if kind in _PAIR_TYPES else count
        p: int | None = after
        for _ in range(max(items, 0)):
            assert p is not None
            p = frame_end(buf, p)
            if p is None:
                return None
        if kind == ord("|"):
            # An attribute decorates the reply that follows it: read both as one.
            assert p is not None
            return frame_end(buf, p)
        return p
    raise ProtocolMismatch(f"unknown reply type {bytes(buf[pos : pos + 40])!r}")


def split_aggregate(reply: bytes) -> tuple[bytes, list[bytes]]:
    """An aggregate reply as (header line, raw elements); for order-insensitive comparison."""
    nl = reply.index(b"\r\n") + 2
    header = reply[:nl]
    elements = []
    pos = nl
    while pos < len(reply):
        end = frame_end(reply, pos)
        assert end is not None, f"truncated aggregate {reply!r}"
        elements.append(reply[pos:end])
        pos = end
    return header, elements


class RawClient:
    """A blocking TCP connection to a RESP server."""

    def __init__(self, host: str, port: int, timeout: float = TIMEOUT) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()

    def __enter__(self) -> RawClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.sock.close()

    def send(self, *args: bytes | str | int | float) -> None:
        self.sock.sendall(encode_command(*args))

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self) -> bool:
        chunk = self.sock.recv(256 * 1024)
        if not chunk:
            return False
        self.buf += chunk
        return True

    def read_reply(self) -> bytes:
        """Exactly one reply's bytes; raises ConnectionError if the server closed first."""
        while (end := frame_end(self.buf)) is None:
            if not self._fill():
                raise ConnectionError(f"connection closed; unparsed bytes {bytes(self.buf)!r}")
        reply = bytes(self.buf[:end])
        del self.buf[:end]
        return reply

    def call(self, *args: bytes | str | int | float) -> bytes:
        self.send(*args)
        return self.read_reply()

    def call_raw(self, data: bytes) -> bytes:
        self.send_raw(data)
        return self.read_reply()

    def read_until_closed(self) -> bytes:
        """Everything the server sends until it closes the connection (a timeout fails)."""
        while True:
            try:
                if not self._fill():
                    break
            except ConnectionResetError:
                break
        data = bytes(self.buf)
        self.buf.clear()
        return data
