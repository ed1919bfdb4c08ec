"""A small synchronous RESP2 client for the cluster tool: one blocking socket per node.

Rules:
- Replies come back as hiredis decodes them: bytes, int, list, None; an error reply is
  returned as a ReplyError by `pipeline` and raised by `call`. Nothing is decoded to str
  here: key names are binary and go back into MIGRATE as they came.
- Every socket operation has a timeout; a node that stops answering is an OSError for the
  caller, never a hang.
- hiredis is already a dependency of the node, so the tool needs nothing else.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from types import TracebackType
from typing import Union

import hiredis

Arg = bytes | str | int | float
# A recursive alias needs the Union spelling (`|` cannot take the forward references).
Reply = Union[bytes, int, None, list["Reply"], "ReplyError"]

DEFAULT_TIMEOUT = 60.0


class ReplyError(Exception):
    """An error reply (`-ERR ...`): the text without the leading '-'."""

    @property
    def code(self) -> str:
        return str(self).split(" ", 1)[0]


def encode(args: Sequence[Arg]) -> bytes:
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


class NodeClient:
    """A connection to one node at `host:port`."""

    def __init__(self, host: str, port: int, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.host = host
        self.port = port
        self._sock = socket.create_connection((host, port), timeout=timeout)
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._reader = hiredis.Reader(replyError=ReplyError)

    def __enter__(self) -> NodeClient:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def addr(self) -> str:
        return f"{self.host}:{self.port}"

    def close(self) -> None:
        self._sock.close()

    def settimeout(self, timeout: float) -> None:
        self._sock.settimeout(timeout)

    def call(self, *args: Arg) -> Reply:
        """Send one command and return its reply; an error reply raises ReplyError."""
        (reply,) = self.pipeline([args])
        if isinstance(reply, ReplyError):
            raise reply
        return reply

    def text(self, *args: Arg) -> str:
        """A command whose reply is a bulk or status string, decoded."""
        reply = self.call(*args)
        if not isinstance(reply, bytes):
            raise ReplyError(f"ERR unexpected reply to {args[0]!r}: {reply!r}")
        return reply.decode("utf-8", "replace")

    def integer(self, *args: Arg) -> int:
        reply = self.call(*args)
        if not isinstance(reply, int):
            raise ReplyError(f"ERR unexpected reply to {args[0]!r}: {reply!r}")
        return reply

    def pipeline(self, commands: Sequence[Sequence[Arg]]) -> list[Reply]:
        """Send every command at once, then read as many replies (errors as values)."""
        self.send(commands)
        return self.receive(len(commands))

    def send(self, commands: Sequence[Sequence[Arg]]) -> None:
        """Only send: with `receive` later, several nodes can work on a request at once."""
        self._sock.sendall(b"".join(encode(c) for c in commands))

    def receive(self, count: int) -> list[Reply]:
        replies: list[Reply] = []
        while len(replies) < count:
            reply = self._reader.gets()
            if reply is False:
                data = self._sock.recv(1 << 16)
                if not data:
                    raise ConnectionError(f"{self.addr} closed the connection")
                self._reader.feed(data)
                continue
            replies.append(reply)
        return replies
