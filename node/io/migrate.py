"""MIGRATE's sockets (node/cluster/migrate.py's Connector): blocking TCP connections to
target servers, cached per host:port as Redis's migrate_cached_sockets.

MIGRATE is a bounded synchronous exchange, as in Redis: every connect, send and read waits
at most the command's timeout, holding the event loop meanwhile. Like Redis's non-blocking
connect, a refused connection only shows when the request is written ("writing" error);
a connect that times out or a host that does not resolve is a "connecting" error. Links
idle for 10 s are closed by the cron; at most 64 are kept (a random one goes).
"""

from __future__ import annotations

import contextlib
import random
import socket
import time
from typing import Final

from node.cluster.migrate import IDLE_CLOSE_MS, TargetError

_MAX_LINKS: Final = 64


class SocketLink:
    """One cached connection (None socket: the connect was refused; writing will fail)."""

    def __init__(self, sock: socket.socket | None) -> None:
        self.sock = sock
        self.last_db = -1
        self.last_use_ms = 0
        self._buffer = bytearray()

    def send(self, data: bytes, timeout_ms: int) -> None:
        if self.sock is None:
            raise TargetError("writing")
        try:
            self.sock.settimeout(timeout_ms / 1000)
            self.sock.sendall(data)
        except TimeoutError:
            raise TargetError("writing", timed_out=True) from None
        except OSError:
            raise TargetError("writing") from None

    def read_line(self, timeout_ms: int) -> bytes:
        """One CRLF-terminated reply line (syncReadLine), without the CRLF."""
        assert self.sock is not None
        deadline = time.monotonic() + timeout_ms / 1000
        while b"\r\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TargetError("reading", timed_out=True)
            try:
                self.sock.settimeout(left)
                chunk = self.sock.recv(65536)
            except TimeoutError:
                raise TargetError("reading", timed_out=True) from None
            except OSError:
                raise TargetError("reading") from None
            if not chunk:
                raise TargetError("reading")
            self._buffer += chunk
        line, _, rest = bytes(self._buffer).partition(b"\r\n")
        self._buffer = bytearray(rest)
        return line

    def close(self) -> None:
        if self.sock is not None:
            with contextlib.suppress(OSError):
                self.sock.close()


class SocketConnector:
    """The cache of MIGRATE links of one node."""

    def __init__(self) -> None:
        self.links: dict[str, SocketLink] = {}

    def link(self, host: str, port: str, timeout_ms: int) -> SocketLink:
        name = f"{host}:{port}"
        now = int(time.time() * 1000)
        link = self.links.get(name)
        if link is not None:
            link.last_use_ms = now
            return link
        if len(self.links) >= _MAX_LINKS:
            self.close(*random.choice(list(self.links)).rsplit(":", 1))
        link = SocketLink(_connect(host, _atoi(port), timeout_ms))
        link.last_use_ms = now
        self.links[name] = link
        return link

    def close(self, host: str, port: str) -> None:
        link = self.links.pop(f"{host}:{port}", None)
        if link is not None:
            link.close()

    def close_idle(self, now_ms: int) -> None:
        for name, link in list(self.links.items()):
            if now_ms - link.last_use_ms > IDLE_CLOSE_MS:
                del self.links[name]
                link.close()

    def close_all(self) -> None:
        for link in self.links.values():
            link.close()
        self.links.clear()


def _atoi(text: str) -> int:
    """C's atoi: the leading digits (0 when there are none)."""
    digits = ""
    for char in text.strip():
        if not char.isdigit():
            break
        digits += char
    return int(digits) if digits else 0


def _connect(host: str, port: int, timeout_ms: int) -> socket.socket | None:
    try:
        sock = socket.create_connection((host, port), timeout=timeout_ms / 1000)
    except (TimeoutError, socket.gaierror):
        raise TargetError("connecting") from None
    except OSError:
        return None  # refused or unreachable: the write will say so
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock
