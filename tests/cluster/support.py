"""Helpers for cluster-mode engine tests: a one-node cluster that owns every slot, the
turn-end and clock steps a running server would take (tests drive them by hand), and a
MIGRATE connector that talks to another engine in the same process."""

from __future__ import annotations

from collections import deque

from node.cluster.manager import Cluster
from node.cluster.migrate import TargetError
from node.proto.resp import RequestParser
from tests.support import Harness


def cluster_of(h: Harness) -> Cluster:
    cluster = h.engine.cluster
    assert cluster is not None
    return cluster


def settle(h: Harness, ms: int = 5000) -> None:
    """End the event-loop turn (state update, nodes.conf), then let `ms` pass and the
    cluster cron run: a master with its slots is `ok` after the rejoin delays."""
    h.engine.before_sleep()
    h.advance(ms)
    cluster_of(h).cron()
    h.engine.before_sleep()


def cluster_harness(resp: int = 2, *, all_slots: bool = True, **config: str) -> Harness:
    """A fresh cluster-mode engine; with `all_slots` it owns slots 0-16383 and is up."""
    h = Harness(None, resp=resp, cluster_enabled="yes", **config)
    if all_slots:
        assert h("CLUSTER", "ADDSLOTSRANGE", "0", "16383") == b"OK"
    settle(h)
    return h


class EngineLink:
    """A MIGRATE link to another engine in the same process: what is sent runs there, and
    its replies (all single lines: +OK, -ERR...) are read back. `fail` makes the next send or
    read fail like a broken socket ("writing"/"reading"), `timeout` like an expired one."""

    def __init__(self, target: Harness) -> None:
        self.target = target.client_harness()
        self.parser = RequestParser()
        self.replies: deque[bytes] = deque()
        self.last_db = -1
        self.fail = ""
        self.timeout = False
        self.sent: list[list[bytes]] = []

    def _broken(self, stage: str) -> None:
        if self.fail == stage:
            self.fail = ""
            raise TargetError(stage, self.timeout)

    def send(self, data: bytes, timeout_ms: int) -> None:
        self._broken("writing")
        for argv in self.parser.feed(data):
            self.sent.append(argv)
            reply = self.target.raw(*argv)
            assert reply.count(b"\r\n") == 1, reply
            self.replies.append(reply[:-2])

    def read_line(self, timeout_ms: int) -> bytes:
        self._broken("reading")
        if not self.replies:
            raise TargetError("reading", timed_out=True)
        return self.replies.popleft()


class EngineConnector:
    """MIGRATE's Connector over engines: `targets` maps "host:port" to a Harness."""

    def __init__(self, targets: dict[str, Harness]) -> None:
        self.targets = targets
        self.links: dict[str, EngineLink] = {}
        self.made = 0

    def link(self, host: str, port: str, timeout_ms: int) -> EngineLink:
        name = f"{host}:{port}"
        link = self.links.get(name)
        if link is not None:
            return link
        target = self.targets.get(name)
        if target is None:
            raise TargetError("connecting")
        self.made += 1
        link = self.links[name] = EngineLink(target)
        return link

    def close(self, host: str, port: str) -> None:
        self.links.pop(f"{host}:{port}", None)

    def close_idle(self, now_ms: int) -> None:
        self.links.clear()
