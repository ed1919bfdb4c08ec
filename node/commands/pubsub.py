"""Pub/Sub commands (Redis's pubsub.c): SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE,
SSUBSCRIBE, SUNSUBSCRIBE, PUBLISH, SPUBLISH and PUBSUB CHANNELS/NUMSUB/NUMPAT/SHARDCHANNELS/
SHARDNUMSUB/HELP.

Rules: (un)subscribe replies are one frame per channel, pushes in RESP3 and arrays in RESP2,
carrying the running subscription count; unsubscribing from nothing replies once with a null
channel. The state lives in node/engine/pubsub.py. Pure.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Final

from node.commands import docs
from node.commands.registry import Flag, KeyFlag, key_at
from node.commands.table import NODE
from node.engine.glob import compile_glob
from node.engine.session import Client
from node.proto import errors, resp
from node.proto.errors import CommandError

Argv = list[bytes]
_SUB_FLAGS: Final = Flag.PUBSUB | Flag.NOSCRIPT | Flag.LOADING | Flag.STALE
# MAY_REPLICATE (hidden from COMMAND INFO): CLIENT PAUSE WRITE holds publishers too.
_PUB_FLAGS: Final = Flag.PUBSUB | Flag.LOADING | Flag.STALE | Flag.FAST | Flag.MAY_REPLICATE
_INFO_FLAGS: Final = Flag.PUBSUB | Flag.LOADING | Flag.STALE


def _confirm(c: Client, kind: bytes, name: bytes | None, count: int) -> bytes:
    head = resp.push_header(3, c.resp)
    channel = resp.null(c.resp) if name is None else resp.bulk(name)
    return head + resp.bulk(kind) + channel + resp.integer(count)


def _count(c: Client) -> int:
    return len(c.channels) + len(c.patterns)


def _shard_count(c: Client) -> int:
    return len(c.shard_channels)


def _confirm_each(
    c: Client,
    kind: bytes,
    names: Argv,
    change: Callable[[Client, bytes], object],
    count: Callable[[Client], int],
) -> bytes:
    """`change` (a subscribe or an unsubscribe) for each name in turn, each confirmed with
    the count of subscriptions after it."""
    out = []
    for name in names:
        change(c, name)
        out.append(_confirm(c, kind, name, count(c)))
    return b"".join(out)


def _unsubscribe(
    c: Client,
    kind: bytes,
    names: Argv,
    drop: Callable[[Client, bytes], object],
    count: Callable[[Client], int],
) -> bytes:
    if not names:  # subscribed to none of this kind
        return _confirm(c, kind, None, count(c))
    return _confirm_each(c, kind, names, drop, count)


@NODE.command(
    "subscribe",
    -2,
    _SUB_FLAGS,
    group="pubsub",
    since="2.0.0",
    summary="Listen for messages published to the given channels",
    complexity="O(N) where N is the number of channels to subscribe to.",
    args=(docs.string("channel", multiple=True),),
)
def subscribe(c: Client, argv: Argv) -> bytes:
    return _confirm_each(c, b"subscribe", argv[1:], c.engine.pubsub.subscribe, _count)


@NODE.command(
    "unsubscribe",
    -1,
    _SUB_FLAGS,
    group="pubsub",
    since="2.0.0",
    summary="Stop listening for messages posted to the given channels",
    complexity="O(N) where N is the number of clients already subscribed to a channel.",
    args=(docs.string("channel", optional=True, multiple=True),),
)
def unsubscribe(c: Client, argv: Argv) -> bytes:
    channels = argv[1:] or list(c.channels)
    return _unsubscribe(c, b"unsubscribe", channels, c.engine.pubsub.unsubscribe, _count)


@NODE.command(
    "psubscribe",
    -2,
    _SUB_FLAGS,
    group="pubsub",
    since="2.0.0",
    summary="Listen for messages published to channels matching the given patterns",
    complexity="O(N) where N is the number of patterns the client is already subscribed to.",
    args=(docs.block("pattern", docs.pattern("pattern"), multiple=True),),
)
def psubscribe(c: Client, argv: Argv) -> bytes:
    return _confirm_each(c, b"psubscribe", argv[1:], c.engine.pubsub.psubscribe, _count)


@NODE.command(
    "punsubscribe",
    -1,
    _SUB_FLAGS,
    group="pubsub",
    since="2.0.0",
    summary="Stop listening for messages posted to channels matching the given patterns",
    complexity="O(N+M) where N is the number of patterns the client is already subscribed and M is the number of total patterns subscribed in the system (by any client).",
    args=(docs.pattern("pattern", optional=True, multiple=True),),
)
def punsubscribe(c: Client, argv: Argv) -> bytes:
    patterns = argv[1:] or list(c.patterns)
    return _unsubscribe(c, b"punsubscribe", patterns, c.engine.pubsub.punsubscribe, _count)


@NODE.command(
    "ssubscribe",
    -2,
    _SUB_FLAGS,
    group="pubsub",
    since="7.0.0",
    summary="Listen for messages published to the given shard channels",
    complexity="O(N) where N is the number of shard channels to subscribe to.",
    keys=[key_at(1, KeyFlag.NOT_KEY, lastkey=-1)],
    args=(docs.string("shardchannel", multiple=True),),
)
def ssubscribe(c: Client, argv: Argv) -> bytes:
    add = partial(c.engine.pubsub.subscribe, shard=True)
    return _confirm_each(c, b"ssubscribe", argv[1:], add, _shard_count)


@NODE.command(
    "sunsubscribe",
    -1,
    _SUB_FLAGS,
    group="pubsub",
    since="7.0.0",
    summary="Stop listening for messages posted to the given shard channels",
    complexity="O(N) where N is the number of clients already subscribed to a shard channel.",
    keys=[key_at(1, KeyFlag.NOT_KEY, lastkey=-1)],
    args=(docs.string("shardchannel", optional=True, multiple=True),),
)
def sunsubscribe(c: Client, argv: Argv) -> bytes:
    channels = argv[1:] or list(c.shard_channels)
    drop = partial(c.engine.pubsub.unsubscribe, shard=True)
    return _unsubscribe(c, b"sunsubscribe", channels, drop, _shard_count)


@NODE.command(
    "publish",
    3,
    _PUB_FLAGS,
    group="pubsub",
    since="2.0.0",
    summary="Post a message to a channel",
    complexity="O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client).",
    args=(docs.string("channel"), docs.string("message")),
)
def publish(c: Client, argv: Argv) -> bytes:
    cluster = c.engine.cluster
    if cluster is not None:  # every node's subscribers get it (clusterPropagatePublish)
        cluster.bus.publish(argv[1], argv[2])
    return resp.integer(c.engine.pubsub.publish(argv[1], argv[2]))


@NODE.command(
    "spublish",
    3,
    _PUB_FLAGS,
    group="pubsub",
    since="7.0.0",
    summary="Post a message to a shard channel",
    complexity="O(N) where N is the number of clients subscribed to the receiving shard channel.",
    keys=[key_at(1, KeyFlag.NOT_KEY)],
    args=(docs.string("shardchannel"), docs.string("message")),
)
def spublish(c: Client, argv: Argv) -> bytes:
    cluster = c.engine.cluster
    if cluster is not None:  # the other nodes of my shard (clusterPropagatePublishShard)
        cluster.bus.publish(argv[1], argv[2], shard=True)
    return resp.integer(c.engine.pubsub.publish(argv[1], argv[2], shard=True))


# --- PUBSUB introspection -------------------------------------------------------------
NODE.container(
    "pubsub",
    group="pubsub",
    since="2.8.0",
    summary="A container for Pub/Sub commands",
    complexity="Depends on subcommand.",
)


def _too_many(argv: Argv, most: int) -> None:
    if len(argv) > most:
        raise CommandError(
            errors.SUBCOMMAND_SYNTAX.format(argv[1].decode("utf-8", "surrogateescape"), "PUBSUB")
        )


def _matching(names: list[bytes], argv: Argv) -> bytes:
    _too_many(argv, 3)
    if len(argv) == 3:
        matches = compile_glob(argv[2], False)
        names = [n for n in names if matches(n)]
    return resp.bulk_array(names)


@NODE.command(
    "channels",
    -2,
    _INFO_FLAGS,
    group="pubsub",
    since="2.8.0",
    summary="List active channels",
    complexity="O(N) where N is the number of active channels, and assuming constant time pattern matching (relatively short channels and patterns)",
    args=(docs.pattern("pattern", optional=True),),
    container="pubsub",
)
def pubsub_channels(c: Client, argv: Argv) -> bytes:
    return _matching(list(c.engine.pubsub.channels), argv)


@NODE.command(
    "shardchannels",
    -2,
    _INFO_FLAGS,
    group="pubsub",
    since="7.0.0",
    summary="List active shard channels",
    complexity="O(N) where N is the number of active shard channels, and assuming constant time pattern matching (relatively short shard channels).",
    args=(docs.pattern("pattern", optional=True),),
    container="pubsub",
)
def pubsub_shardchannels(c: Client, argv: Argv) -> bytes:
    return _matching(list(c.engine.pubsub.shard_channels), argv)


def _numsub(table: dict[bytes, dict[Client, None]], channels: Argv) -> bytes:
    parts = [resp.array_header(2 * len(channels))]
    for channel in channels:
        parts.append(resp.bulk(channel))
        parts.append(resp.integer(len(table.get(channel, ()))))
    return b"".join(parts)


@NODE.command(
    "numsub",
    -2,
    _INFO_FLAGS,
    group="pubsub",
    since="2.8.0",
    summary="Get the count of subscribers for channels",
    complexity="O(N) for the NUMSUB subcommand, where N is the number of requested channels",
    args=(docs.string("channel", optional=True, multiple=True),),
    container="pubsub",
)
def pubsub_numsub(c: Client, argv: Argv) -> bytes:
    return _numsub(c.engine.pubsub.channels, argv[2:])


@NODE.command(
    "shardnumsub",
    -2,
    _INFO_FLAGS,
    group="pubsub",
    since="7.0.0",
    summary="Get the count of subscribers for shard channels",
    complexity="O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard channels",
    args=(docs.string("shardchannel", optional=True, multiple=True),),
    container="pubsub",
)
def pubsub_shardnumsub(c: Client, argv: Argv) -> bytes:
    return _numsub(c.engine.pubsub.shard_channels, argv[2:])


@NODE.command(
    "numpat",
    2,
    _INFO_FLAGS,
    group="pubsub",
    since="2.8.0",
    summary="Get the count of unique patterns pattern subscriptions",
    complexity="O(1)",
    container="pubsub",
)
def pubsub_numpat(c: Client, argv: Argv) -> bytes:
    return resp.integer(len(c.engine.pubsub.patterns))


_PUBSUB_HELP: Final = (
    b"CHANNELS [<pattern>]",
    b"    Return the currently active channels matching a <pattern> (default: '*').",
    b"NUMPAT",
    b"    Return number of subscriptions to patterns.",
    b"NUMSUB [<channel> ...]",
    b"    Return the number of subscribers for the specified channels, excluding",
    b"    pattern subscriptions(default: no channels).",
    b"SHARDCHANNELS [<pattern>]",
    b"    Return the currently active shard level channels matching a <pattern> (default: '*').",
    b"SHARDNUMSUB [<shardchannel> ...]",
    b"    Return the number of subscribers for the specified shard level channel(s)",
)


@NODE.command(
    "help",
    2,
    Flag.LOADING | Flag.STALE,
    group="pubsub",
    since="6.2.0",
    summary="Show helpful text about the different subcommands",
    complexity="O(1)",
    container="pubsub",
)
def pubsub_help(c: Client, argv: Argv) -> bytes:
    return resp.help_reply(argv[0], _PUBSUB_HELP)
