"""The replication backlog: the last `size` bytes of the replication stream, addressed by
replication offset, for partial resynchronisation (PSYNC answered with +CONTINUE).

Offsets follow Redis: the stream's bytes are numbered from 1, `offset` is the number of
the last byte written (master_repl_offset), `first_byte_offset` the number of the oldest
byte still held (repl_backlog_first_byte_offset) and `histlen` how many are held. A new
backlog holds nothing and its first byte is the next one the stream will produce.

Redis keeps a ring buffer; a bytearray that drops its head once it holds more than the
configured size behaves the same for every reader (CPython trims a bytearray's head in
O(1) amortised) and keeps `read_from` one slice. Pure.
"""

from __future__ import annotations


class Backlog:
    """The tail of the replication stream, `size` bytes at most."""

    __slots__ = ("buf", "offset", "size")

    def __init__(self, size: int, offset: int) -> None:
        self.size = max(1, size)
        self.offset = offset  # the number of the last byte of the stream
        self.buf = bytearray()

    @property
    def histlen(self) -> int:
        return len(self.buf)

    @property
    def first_byte_offset(self) -> int:
        return self.offset - len(self.buf) + 1

    def append(self, data: bytes | bytearray) -> None:
        """Add stream bytes (the offset moves on by their length)."""
        self.offset += len(data)
        buf = self.buf
        buf += data
        excess = len(buf) - self.size
        if excess > 0:
            del buf[:excess]

    def can_serve(self, offset: int) -> bool:
        """Whether a replica that has everything before byte `offset` can continue from
        here: the byte is held, or is the next one to be written."""
        return self.first_byte_offset <= offset <= self.offset + 1

    def read_from(self, offset: int) -> bytes:
        """The bytes from number `offset` to the end (`can_serve(offset)` must hold)."""
        return bytes(self.buf[offset - self.first_byte_offset :])

    def resize(self, size: int) -> None:
        """CONFIG SET repl-backlog-size: keep the most recent bytes that still fit."""
        self.size = max(1, size)
        excess = len(self.buf) - self.size
        if excess > 0:
            del self.buf[:excess]
