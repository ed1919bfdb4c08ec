"""Pub/Sub through the engine: delivery to other clients, counts, context rules, cleanup."""

from __future__ import annotations

import pytest

from tests.support import Harness


@pytest.fixture
def h() -> Harness:
    return Harness()


def test_publish_reaches_channel_and_pattern_subscribers(h: Harness) -> None:
    sub, psub = h.client_harness(), h.client_harness(resp=3)
    sub.raw("SUBSCRIBE", "news")
    psub.raw("PSUBSCRIBE", "n*")
    sub.client.out.clear()
    psub.client.out.clear()
    assert h("PUBLISH", "news", "hi") == 2
    assert sub.frames() == [[b"message", b"news", b"hi"]]
    assert (
        b"".join(psub.client.out)
        == b">4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n$4\r\nnews\r\n$2\r\nhi\r\n"
    )
    assert sub.client in h.engine.woken and psub.client in h.engine.woken
    assert h("PUBLISH", "other", "x") == 0


def test_subscription_counts_and_unsubscribe_all(h: Harness) -> None:
    h.client.out.append(h.raw("SUBSCRIBE", "a", "b", "a"))
    assert h.frames() == [[b"subscribe", b"a", 1], [b"subscribe", b"b", 2], [b"subscribe", b"a", 2]]
    h.raw("PSUBSCRIBE", "p*")
    h.raw("SSUBSCRIBE", "s")
    assert h.client.pubsub_mode
    out = h.raw("UNSUBSCRIBE")
    assert out.count(b"unsubscribe") == 2 and out.endswith(b":1\r\n")  # the pattern remains
    h.raw("PUNSUBSCRIBE")
    assert h.client.pubsub_mode  # the shard channel remains
    assert h.raw("SUNSUBSCRIBE") == b"*3\r\n$12\r\nsunsubscribe\r\n$1\r\ns\r\n:0\r\n"
    assert not h.client.pubsub_mode
    assert h.raw("UNSUBSCRIBE") == b"*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n"


def test_resp2_subscribed_context_allows_only_pubsub_commands(h: Harness) -> None:
    h.raw("SUBSCRIBE", "a")
    assert h.error("GET", "x") == (
        "ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / "
        "RESET are allowed in this context"
    )
    assert h.error("CONFIG", "GET", "x").startswith("ERR Can't execute 'config|get'")
    assert h("PING") == [b"pong", b""]
    assert h("PING", "x") == [b"pong", b"x"]
    three = h.client_harness(resp=3)
    three.raw("SUBSCRIBE", "a")
    assert three("GET", "x") is None  # RESP3 clients keep full use of the connection
    assert three("PING") == b"PONG"


def test_disconnect_and_reset_drop_subscriptions(h: Harness) -> None:
    sub = h.client_harness()
    sub.raw("SUBSCRIBE", "a")
    sub.raw("PSUBSCRIBE", "*")
    h.engine.disconnect(sub.client)
    assert h("PUBLISH", "a", "x") == 0
    assert h("PUBSUB", "NUMPAT") == 0
    other = h.client_harness()
    other.raw("SUBSCRIBE", "a")
    assert other.raw("RESET") == b"+RESET\r\n"
    assert h("PUBSUB", "NUMSUB", "a") == [b"a", 0]


def test_introspection(h: Harness) -> None:
    a, b = h.client_harness(), h.client_harness()
    a.raw("SUBSCRIBE", "news", "sport")
    b.raw("SUBSCRIBE", "news")
    b.raw("PSUBSCRIBE", "x*", "y*")
    a.raw("SSUBSCRIBE", "s1", "s2")
    assert sorted(h("PUBSUB", "CHANNELS")) == [b"news", b"sport"]
    assert h("PUBSUB", "CHANNELS", "n*") == [b"news"]
    assert h("PUBSUB", "NUMSUB", "news", "sport", "none") == [b"news", 2, b"sport", 1, b"none", 0]
    assert h("PUBSUB", "NUMPAT") == 2
    assert sorted(h("PUBSUB", "SHARDCHANNELS")) == [b"s1", b"s2"]
    assert h("PUBSUB", "SHARDNUMSUB", "s1") == [b"s1", 1]
    assert h("SPUBLISH", "s1", "m") == 1
    assert h("PUBLISH", "s1", "m") == 0  # shard channels are their own namespace
    assert h.error("PUBSUB", "CHANNELS", "a", "b") == (
        "ERR unknown subcommand or wrong number of arguments for 'CHANNELS'. Try PUBSUB HELP."
    )


def test_client_list_shows_subscriptions(h: Harness) -> None:
    sub = h.client_harness()
    sub.raw("SUBSCRIBE", "a", "b")
    sub.raw("PSUBSCRIBE", "c*")
    line = h("CLIENT", "LIST", "ID", sub.client.id)
    assert b" flags=P " in line and b" sub=2 psub=1 ssub=0 " in line
    assert h("CLIENT", "LIST", "TYPE", "pubsub").count(b"\n") == 1
