"""Replication commands (Redis's replication.c): REPLICAOF/SLAVEOF, WAIT, FAILOVER and the
replicas' own REPLCONF, PSYNC and SYNC (ROLE lives with the diagnostics).

Rules:
- Handlers only talk to `engine.replication` (node/replication/state.py); the sockets of
  the master link and of attached replicas are the shell's (node/io/replication.py).
- PSYNC/SYNC reply nothing as commands: everything the new replica must receive
  (+FULLRESYNC, +CONTINUE and the backlog, the snapshot, the stream) goes through its
  replica record, in order.
- REPLCONF ACK and GETACK get no reply at all, as in Redis.
- WAIT blocks (a Block with no keys) until enough replicas acknowledged the client's last
  write or the timeout passes; ACKs answer it (Replication.acks_changed).
Pure.
"""

from __future__ import annotations

from node.commands import docs
from node.commands._args import int_arg, timeout_to_deadline
from node.commands.registry import Acl, Flag
from node.commands.table import NODE
from node.engine.blocking import Block
from node.engine.session import Client
from node.proto import resp
from node.proto.errors import CommandError

Argv = list[bytes]

_TARGET_ARGS = (
    docs.oneof(
        "args",
        docs.block("host-port", docs.string("host"), docs.integer("port")),
        docs.block("no-one", docs.token("no", "NO"), docs.token("one", "ONE")),
    ),
)
_WAIT_ON_REPLICA = (
    "ERR WAIT cannot be used with replica instances. Please also note that "
    "since Redis 4.0 if a replica is configured to be writable (which is not "
    "the default) writes to replicas are just local and are not propagated."
)


def _replicaof(c: Client, argv: Argv) -> bytes:
    """replicaofCommand."""
    engine = c.engine
    repl = engine.replication
    if engine.config.bool("cluster-enabled"):
        raise CommandError("ERR REPLICAOF not allowed in cluster mode.")
    if repl.failover_state != "no-failover":
        raise CommandError("ERR REPLICAOF not allowed while failing over.")
    if argv[1].lower() == b"no" and argv[2].lower() == b"one":
        if repl.master_host is not None:
            repl.unset_master()
            engine.log(
                "notice", f"MASTER MODE enabled (user request from 'id={c.id} addr={c.addr}')"
            )
        return resp.OK
    if c.id in repl.primary.replicas:
        raise CommandError("ERR Command is not valid when client is a replica.")
    port = int_arg(argv[2], "ERR Invalid master port")
    if not 0 <= port <= 65535:
        raise CommandError("ERR Invalid master port")
    host = argv[1].decode("utf-8", "surrogateescape")
    if (
        repl.master_host is not None
        and repl.master_host.lower() == host.lower()
        and repl.master_port == port
    ):
        engine.log(
            "notice",
            "REPLICAOF would result into synchronization with the master "
            "we are already connected with. No operation performed.",
        )
        return b"+OK Already connected to specified master\r\n"
    repl.set_master(host, port)
    engine.log(
        "notice", f"REPLICAOF {host}:{port} enabled (user request from 'id={c.id} addr={c.addr}')"
    )
    return resp.OK


@NODE.command(
    "replicaof",
    3,
    Flag.ADMIN | Flag.NOSCRIPT | Flag.STALE | Flag.NO_ASYNC_LOADING,
    group="server",
    since="5.0.0",
    summary="Make the server a replica of another instance, or promote it as master.",
    complexity="O(1)",
    args=_TARGET_ARGS,
)
def replicaof(c: Client, argv: Argv) -> bytes:
    return _replicaof(c, argv)


@NODE.command(
    "slaveof",
    3,
    Flag.ADMIN | Flag.NOSCRIPT | Flag.STALE | Flag.NO_ASYNC_LOADING,
    group="server",
    since="1.0.0",
    summary="Make the server a replica of another instance, or promote it as master.",
    complexity="O(1)",
    doc_flags=("deprecated",),
    deprecated_since="5.0.0",
    replaced_by="`REPLICAOF`",
    args=_TARGET_ARGS,
)
def slaveof(c: Client, argv: Argv) -> bytes:
    return _replicaof(c, argv)


@NODE.command(
    "wait",
    3,
    Flag.NOSCRIPT,
    group="generic",
    since="3.0.0",
    summary="Wait for the synchronous replication of all the write commands sent in "
    "the context of the current connection",
    complexity="O(1)",
    acl=Acl.CONNECTION,
    tips=("request_policy:all_shards", "response_policy:agg_min"),
    args=(docs.integer("numreplicas"), docs.integer("timeout")),
)
def wait(c: Client, argv: Argv) -> bytes | Block:
    repl = c.engine.replication
    if repl.master_host is not None:
        raise CommandError(_WAIT_ON_REPLICA)
    numreplicas = int_arg(argv[1])
    deadline = timeout_to_deadline(argv[2], c.engine.now_ms, seconds=False)
    acks = repl.primary.count_acks(c.woff)
    if acks >= numreplicas or c.multi is not None or c.engine.no_blocking:
        return resp.integer(acks)
    repl.wait_started(c, c.woff, numreplicas)
    return Block((), deadline, resp.integer(acks))


# WAIT blocks without Redis's BLOCKING flag: keep it off the dispatcher's short path.
NODE.commands["wait"].fast = False


@NODE.command(
    "replconf",
    -1,
    Flag.ADMIN | Flag.NOSCRIPT | Flag.LOADING | Flag.STALE | Flag.ALLOW_BUSY,
    group="server",
    since="3.0.0",
    summary="An internal command for configuring the replication stream",
    complexity="O(1)",
    doc_flags=("syscmd",),
)
def replconf(c: Client, argv: Argv) -> bytes:
    reply = c.engine.replication.primary.replconf(c, argv)
    return b"" if reply is None else reply


@NODE.command(
    "psync",
    -3,
    Flag.ADMIN | Flag.NOSCRIPT | Flag.NO_ASYNC_LOADING | Flag.NO_MULTI,
    group="server",
    since="2.8.0",
    summary="Internal command used for replication",
    args=(docs.string("replicationid"), docs.integer("offset")),
)
def psync(c: Client, argv: Argv) -> bytes:
    return c.engine.replication.sync_command(c, argv)


@NODE.command(
    "sync",
    1,
    Flag.ADMIN | Flag.NOSCRIPT | Flag.NO_ASYNC_LOADING | Flag.NO_MULTI,
    group="server",
    since="1.0.0",
    summary="Internal command used for replication",
)
def sync(c: Client, argv: Argv) -> bytes:
    return c.engine.replication.sync_command(c, argv)


@NODE.command(
    "failover",
    -1,
    Flag.ADMIN | Flag.NOSCRIPT | Flag.STALE,
    group="server",
    since="6.2.0",
    summary="Start a coordinated failover between this server and one of its replicas.",
    complexity="O(1)",
    args=(
        docs.block(
            "target",
            docs.string("host"),
            docs.integer("port"),
            docs.token("force", "FORCE", optional=True),
            token="TO",
            optional=True,
        ),
        docs.token("abort", "ABORT", optional=True),
        docs.integer("milliseconds", token="TIMEOUT", optional=True),
    ),
)
def failover(c: Client, argv: Argv) -> bytes:
    return c.engine.replication.failover_command(argv)
