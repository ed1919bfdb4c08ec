"""nodes.conf: the cluster configuration file, as text <-> ClusterState.

Format (redis-spec-digest.md 1.8): the CLUSTER NODES lines of every node except those in
handshake, then `vars currentEpoch <n> lastVoteEpoch <n>`. Loading follows
clusterLoadConfig: blank lines are skipped, lines are split shell-style, a node line has at
least 8 fields, a missing `@cport` means port+10000, an unknown flag or a file without
exactly one `myself` is fatal, ping/pong times only say "there was one" (they restart at
load time), a replica's own epoch is ignored (it shows its master's), and currentEpoch is
raised to the greatest config epoch seen. Redis 7.2's extra address fields
(`,hostname,shard-id=...,nodename=...`) are accepted; what is written is the 7.0 format.

Writing the file (atomically, fsynced) and locking it are the shell's; this module only
makes and reads text. Pure.
"""

from __future__ import annotations

import random

from node.cluster.describe import nodes_text
from node.cluster.state import (
    SLOT_COUNT,
    ClusterNode,
    ClusterState,
    NodeFlag,
    random_name,
)
from node.proto.resp import split_args

_FLAG_BY_WORD = {
    "myself": NodeFlag.MYSELF,
    "master": NodeFlag.MASTER,
    "slave": NodeFlag.SLAVE,
    "fail?": NodeFlag.PFAIL,
    "fail": NodeFlag.FAIL,
    "handshake": NodeFlag.HANDSHAKE,
    "noaddr": NodeFlag.NOADDR,
    "nofailover": NodeFlag.NOFAILOVER,
    "noflags": NodeFlag(0),
}
_BUS_PORT_OFFSET = 10000


class NodesConfError(Exception):
    """The file cannot be used ("Unrecoverable error: corrupted cluster config file")."""


def dump(state: ClusterState) -> bytes:
    """The file's whole text (clusterSaveConfig)."""
    return nodes_text(state, skip_handshake=True) + (
        b"vars currentEpoch %d lastVoteEpoch %d\n" % (state.current_epoch, state.last_vote_epoch)
    )


def load(
    text: bytes, now: int, rng: random.Random, warn: list[str] | None = None
) -> ClusterState | None:
    """The state a file describes; None when it is empty (a fresh identity is needed).
    Unknown `vars` are skipped with a message appended to `warn`. Raises NodesConfError."""
    if not text.strip():
        return None
    loader = _Loader(now, rng)
    for raw in text.split(b"\n"):
        if not raw.strip():
            continue
        argv = split_args(raw)
        if argv is None:
            raise NodesConfError("unbalanced quotes in a line")
        words = [a.decode("utf-8", "surrogateescape") for a in argv]
        if words[0].lower() == "vars":
            loader.vars(words[1:], warn)
        else:
            loader.node(words)
    return loader.finish()


def _number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise NodesConfError(f"invalid number '{text}'") from None


class _Loader:
    def __init__(self, now: int, rng: random.Random) -> None:
        self.now = now
        self.rng = rng
        self.nodes: dict[str, ClusterNode] = {}
        self.myself: ClusterNode | None = None
        self.current_epoch = 0
        self.last_vote_epoch = 0
        self.slots: list[tuple[int, ClusterNode]] = []
        self.migrating: dict[int, ClusterNode] = {}
        self.importing: dict[int, ClusterNode] = {}

    def get(self, name: str) -> ClusterNode:
        node = self.nodes.get(name)
        if node is None:
            node = self.nodes[name] = ClusterNode(
                name, NodeFlag(0), self.now, shard_id=random_name(self.rng)
            )
        return node

    def vars(self, words: list[str], warn: list[str] | None) -> None:
        for i in range(0, len(words) - 1, 2):
            name, value = words[i], words[i + 1]
            if name.lower() == "currentepoch":
                self.current_epoch = _number(value)
            elif name.lower() == "lastvoteepoch":
                self.last_vote_epoch = _number(value)
            elif warn is not None:
                warn.append(f"Skipping unknown cluster config variable '{name}'")

    def node(self, words: list[str]) -> None:
        if len(words) < 8:
            raise NodesConfError("a node line has fewer than 8 fields")
        node = self.get(words[0])
        self.address(node, words[1])
        for word in words[2].split(","):
            flag = _FLAG_BY_WORD.get(word.lower())
            if flag is None:
                raise NodesConfError(f"unknown flag '{word}'")
            if flag & NodeFlag.MYSELF:
                if self.myself is not None:
                    raise NodesConfError("more than one node is myself")
                self.myself = node
            if flag & NodeFlag.FAIL:
                node.fail_time = self.now
            node.flags |= flag
        if words[3] != "-":
            node.master = self.get(words[3])
        if _number(words[4]):
            node.ping_sent = self.now
        if _number(words[5]):
            node.pong_received = self.now
        node.config_epoch = 0 if node.flags & NodeFlag.SLAVE else _number(words[6])
        for word in words[8:]:
            self.slot_entry(node, word)

    def address(self, node: ClusterNode, field: str) -> None:
        """`ip:port@cport[,hostname[,key=value...]]`: the port is after the last colon."""
        address, _, extra = field.partition(",")
        ip, colon, ports = address.rpartition(":")
        if not colon:
            raise NodesConfError(f"invalid address '{field}'")
        port, at, cport = ports.partition("@")
        node.ip = ip
        node.port = _number(port)
        node.cport = _number(cport) if at else node.port + _BUS_PORT_OFFSET
        for i, item in enumerate(extra.split(",") if extra else []):
            key, eq, value = item.partition("=")
            if not eq and i == 0:
                node.hostname = item
            elif key == "shard-id" and value:
                node.shard_id = value

    def slot_entry(self, node: ClusterNode, word: str) -> None:
        if word.startswith("["):
            # [slot->-target] (migrating) or [slot-<-source] (importing)
            slot_text, dash, rest = word[1:].rstrip("]").partition("-")
            if not dash or rest[:2] not in ("<-", ">-"):
                raise NodesConfError(f"invalid open slot '{word}'")
            slot = self.slot(slot_text)
            other = self.get(rest[2:])
            (self.importing if rest[0] == "<" else self.migrating)[slot] = other
            return
        first, dash, last = word.partition("-")
        start = self.slot(first)
        stop = self.slot(last) if dash else start
        self.slots.extend((slot, node) for slot in range(start, stop + 1))

    @staticmethod
    def slot(text: str) -> int:
        slot = _number(text)
        if not 0 <= slot < SLOT_COUNT:
            raise NodesConfError(f"invalid slot {slot}")
        return slot

    def finish(self) -> ClusterState:
        myself = self.myself
        if myself is None:
            raise NodesConfError("no node is myself")
        state = ClusterState(myself)
        state.nodes = dict(self.nodes)  # the file's order
        for node in self.nodes.values():
            if node.master is not None:
                state.attach_replica(node.master, node)
        for slot, owner in self.slots:
            state.set_slot_owner(slot, owner)
        state.migrating.update(self.migrating)
        state.importing.update(self.importing)
        state.last_vote_epoch = self.last_vote_epoch
        state.current_epoch = self.current_epoch
        state.current_epoch = state.max_epoch()
        return state
