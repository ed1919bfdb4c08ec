"""BZPOPMIN, BZPOPMAX and BZMPOP through the engine; replies checked on redis-server 7.0.15."""

from __future__ import annotations

from tests.support import Harness


def test_immediate_pops_and_errors() -> None:
    h = Harness()
    h("ZADD", "z", 1, "a", 2, "b", 3, "c")
    assert h("BZPOPMIN", "nokey", "z", 0) == [b"z", b"a", b"1"]
    assert h("BZPOPMAX", "z", 0) == [b"z", b"c", b"3"]
    assert h("BZMPOP", 0, 2, "nokey", "z", "MAX", "COUNT", 5) == [b"z", [[b"b", b"2"]]]
    assert h.error("BZPOPMIN", "z", -1) == "ERR timeout is negative"
    assert h.error("BZMPOP", 0, 0, "z", "MIN") == "ERR numkeys should be greater than 0"
    h("SET", "s", "x")
    assert h.error("BZPOPMIN", "s", 0).startswith("WRONGTYPE")


def test_resp3_score_is_a_double() -> None:
    h = Harness(resp=3)
    h("ZADD", "z", 1.5, "a")
    assert h.raw("BZPOPMIN", "z", 0) == b"*3\r\n$1\r\nz\r\n$1\r\na\r\n,1.5\r\n"


def test_blocked_pop_is_served_by_zadd_in_order() -> None:
    h = Harness()
    first, second = h.client_harness(), h.client_harness()
    assert first.raw("BZPOPMAX", "z", 0) == b""
    assert second.raw("BZMPOP", 0, 1, "z", "MIN", "COUNT", 2) == b""
    h("ZADD", "z", 1, "a", 2, "b", 3, "c", 4, "d")
    assert first.client.out == [b"*3\r\n$1\r\nz\r\n$1\r\nd\r\n$1\r\n4\r\n"]
    assert second.client.out == [
        b"*2\r\n$1\r\nz\r\n*2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"
    ]
    assert h("ZRANGE", "z", 0, -1) == [b"c"]


def test_timeout_and_multi() -> None:
    h = Harness()
    assert h.raw("BZPOPMIN", "z", "0.5") == b""
    h.advance(500)
    h.engine.expire_blocked()
    assert h.client.out == [b"*-1\r\n"]
    h.client.out.clear()
    h("MULTI")
    h("BZPOPMIN", "z", 0)
    h("BZMPOP", 0, 1, "z", "MIN")
    assert h.raw("EXEC") == b"*2\r\n*-1\r\n*-1\r\n"


def test_client_unblock_with_timeout_or_error_reply() -> None:
    h = Harness()
    waiter = h.client_harness()
    assert waiter.raw("BZPOPMIN", "z", 0) == b""
    assert h("CLIENT", "UNBLOCK", waiter.client.id) == 1
    assert waiter.client.out == [b"*-1\r\n"]
    assert h("CLIENT", "UNBLOCK", waiter.client.id) == 0  # no longer blocked
    waiter.client.out.clear()
    waiter.raw("BLPOP", "l", 0)
    assert h("CLIENT", "UNBLOCK", waiter.client.id, "error") == 1
    assert waiter.client.out == [b"-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n"]
    assert h("CLIENT", "UNBLOCK", 99999) == 0
    assert h.error("CLIENT", "UNBLOCK", "abc") == "ERR value is not an integer or out of range"
    assert h.error("CLIENT", "UNBLOCK", 1, "FOO") == (
        "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"
    )
    assert h.error("CLIENT", "UNBLOCK", 1, 2, 3) == (
        "ERR unknown subcommand or wrong number of arguments for 'UNBLOCK'. Try CLIENT HELP."
    )
