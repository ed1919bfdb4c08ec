"""Pub/Sub bookkeeping (Redis's pubsub.c): who listens to which channel, pattern or shard
channel, and delivery of messages as push frames.

Rules:
- Subscribers of a channel are kept in subscription order (delivery order is stable).
- A message is encoded once per protocol (RESP2 array, RESP3 push) and appended to each
  receiver's `out`; receivers are queued on `engine.woken` so the shell sends their output
  even though they did not run a command.
- The subscription count in (un)subscribe replies is channels + patterns; shard channels
  count on their own, as in Redis 7.0.
Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from node.engine.glob import compile_glob

if TYPE_CHECKING:
    from node.engine.engine import Engine
    from node.engine.session import Client


def _frame(resp: int, kind: bytes, *parts: bytes) -> bytes:
    head = b">%d\r\n" % (len(parts) + 1) if resp == 3 else b"*%d\r\n" % (len(parts) + 1)
    body = b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in (kind, *parts))
    return head + body


class PubSub:
    """Every subscription of one node."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.channels: dict[bytes, dict[Client, None]] = {}
        self.patterns: dict[bytes, tuple[Callable[[bytes], bool], dict[Client, None]]] = {}
        self.shard_channels: dict[bytes, dict[Client, None]] = {}

    # --- subscribing ---------------------------------------------------------------------
    def subscribe(self, client: Client, channel: bytes, *, shard: bool = False) -> bool:
        mine = client.shard_channels if shard else client.channels
        if channel in mine:
            return False
        mine[channel] = None
        table = self.shard_channels if shard else self.channels
        table.setdefault(channel, {})[client] = None
        client.pubsub_mode = True
        return True

    def unsubscribe(self, client: Client, channel: bytes, *, shard: bool = False) -> bool:
        mine = client.shard_channels if shard else client.channels
        if mine.pop(channel, 0) is not None:
            return False
        table = self.shard_channels if shard else self.channels
        listeners = table.get(channel)
        if listeners is not None:
            listeners.pop(client, None)
            if not listeners:
                del table[channel]
        self._update_mode(client)
        return True

    def psubscribe(self, client: Client, pattern: bytes) -> bool:
        if pattern in client.patterns:
            return False
        client.patterns[pattern] = None
        entry = self.patterns.get(pattern)
        if entry is None:
            entry = self.patterns[pattern] = (compile_glob(pattern, False), {})
        entry[1][client] = None
        client.pubsub_mode = True
        return True

    def punsubscribe(self, client: Client, pattern: bytes) -> bool:
        if client.patterns.pop(pattern, 0) is not None:
            return False
        entry = self.patterns.get(pattern)
        if entry is not None:
            entry[1].pop(client, None)
            if not entry[1]:
                del self.patterns[pattern]
        self._update_mode(client)
        return True

    def drop_client(self, client: Client) -> None:
        """Forget every subscription of a client (disconnect, RESET)."""
        for channel in list(client.channels):
            self.unsubscribe(client, channel)
        for channel in list(client.shard_channels):
            self.unsubscribe(client, channel, shard=True)
        for pattern in list(client.patterns):
            self.punsubscribe(client, pattern)

    @staticmethod
    def _update_mode(client: Client) -> None:
        client.pubsub_mode = bool(client.channels or client.patterns or client.shard_channels)

    # --- publishing ----------------------------------------------------------------------
    def publish(self, channel: bytes, message: bytes, *, shard: bool = False) -> int:
        """Deliver to channel subscribers (and, unless shard, to matching patterns); the
        number of clients that received it."""
        woken = self.engine.woken
        receivers = 0
        table = self.shard_channels if shard else self.channels
        listeners = table.get(channel)
        if listeners:
            kind = b"smessage" if shard else b"message"
            frames = (_frame(2, kind, channel, message), _frame(3, kind, channel, message))
            for client in listeners:
                client.out.append(frames[client.resp == 3])
                woken.append(client)
            receivers += len(listeners)
        if not shard:
            for pattern, (matches, clients) in self.patterns.items():
                if clients and matches(channel):
                    frames = (
                        _frame(2, b"pmessage", pattern, channel, message),
                        _frame(3, b"pmessage", pattern, channel, message),
                    )
                    for client in clients:
                        client.out.append(frames[client.resp == 3])
                        woken.append(client)
                    receivers += len(clients)
        return receivers
