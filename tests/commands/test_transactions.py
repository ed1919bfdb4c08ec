"""MULTI/EXEC/DISCARD/WATCH/UNWATCH through the engine; behaviour checked on redis-server 7.0."""

from __future__ import annotations

import pytest

from tests.support import Harness

EXECABORT = "EXECABORT Transaction discarded because of previous errors."


@pytest.fixture
def h() -> Harness:
    return Harness()


def test_queued_commands_run_at_exec_in_order(h: Harness) -> None:
    assert h("MULTI") == b"OK"
    assert h("SET", "a", "1") == b"QUEUED"
    assert h("INCR", "a") == b"QUEUED"
    assert h("GET", "a") == b"QUEUED"
    assert h.engine.keyspace.dbs[0].lookup(b"a") is None  # nothing ran yet
    assert h("EXEC") == [b"OK", 2, b"2"]


def test_runtime_errors_do_not_roll_back(h: Harness) -> None:
    h("MULTI")
    h("SET", "a", "x")
    h("LPUSH", "a", "y")
    h("SET", "b", "z")
    assert h.raw("EXEC") == (
        b"*3\r\n+OK\r\n-WRONGTYPE Operation against a key holding the "
        b"wrong kind of value\r\n+OK\r\n"
    )
    assert h("GET", "b") == b"z"


def test_queue_time_errors_abort_exec(h: Harness) -> None:
    h("MULTI")
    h("SET", "a", "1")
    assert h.error("NOSUCH") == "ERR unknown command 'NOSUCH', with args beginning with: "
    assert h.error("GET") == "ERR wrong number of arguments for 'get' command"
    assert h.error("EXEC") == EXECABORT
    assert h("GET", "a") is None
    assert h.error("EXEC") == "ERR EXEC without MULTI"


def test_nesting_and_misuse(h: Harness) -> None:
    assert h.error("EXEC") == "ERR EXEC without MULTI"
    assert h.error("DISCARD") == "ERR DISCARD without MULTI"
    h("MULTI")
    assert h.error("MULTI") == "ERR MULTI calls can not be nested"
    assert h.error("WATCH", "k") == "ERR WATCH inside MULTI is not allowed"
    h("SET", "a", "1")
    assert h("EXEC") == [b"OK"]  # neither error flags the transaction


def test_discard_forgets_queue_and_watches(h: Harness) -> None:
    other = h.client_harness()
    h("WATCH", "k")
    h("MULTI")
    h("SET", "a", "1")
    assert h("DISCARD") == b"OK"
    other("SET", "k", "changed")
    h("MULTI")
    h("SET", "b", "1")
    assert h("EXEC") == [b"OK"]  # the WATCH went with DISCARD
    assert h("GET", "a") is None


def test_watched_key_touched_by_anyone_aborts(h: Harness) -> None:
    other = h.client_harness()
    h("SET", "k", "1")
    h("WATCH", "k")
    other("INCR", "k")
    h("MULTI")
    h("SET", "k", "mine")
    assert h.raw("EXEC") == b"*-1\r\n"
    assert h("GET", "k") == b"2"
    h("WATCH", "k")  # the failed EXEC unwatched
    h("SET", "k", "self")  # own writes count too
    h("MULTI")
    assert h.raw("EXEC") == b"*-1\r\n"


def test_resp3_null_on_watch_failure() -> None:
    h = Harness(resp=3)
    h("WATCH", "k")
    h("SET", "k", "1")
    h("MULTI")
    assert h.raw("EXEC") == b"_\r\n"


def test_unwatch_and_untouched_watch(h: Harness) -> None:
    other = h.client_harness()
    h("WATCH", "k", "j")
    other("SET", "zzz", "1")  # other keys do not matter
    h("MULTI")
    h("PING")
    assert h("EXEC") == [b"PONG"]
    h("WATCH", "k")
    assert h("UNWATCH") == b"OK"
    other("SET", "k", "1")
    h("MULTI")
    assert h("EXEC") == []


def test_watch_is_per_database(h: Harness) -> None:
    other = h.client_harness()
    h("WATCH", "k")
    other("SELECT", 1)
    other("SET", "k", "other db")
    h("MULTI")
    assert h("EXEC") == []


def test_flush_and_expiry_invalidate_watches(h: Harness) -> None:
    other = h.client_harness()
    h("SET", "k", "1")
    h("WATCH", "k")
    other("FLUSHALL")
    h("MULTI")
    assert h("EXEC") is None
    h("SET", "t", "1", "PX", 100)
    h("WATCH", "t")
    h.advance(200)  # expires unseen: EXEC still notices
    h("MULTI")
    assert h("EXEC") is None


def test_key_already_expired_when_watched_does_not_abort(h: Harness) -> None:
    h("SET", "t", "1", "PX", 100)
    h.advance(200)
    h("WATCH", "t")
    h("MULTI")
    h("PING")
    assert h("EXEC") == [b"PONG"]


def test_blocking_commands_answer_at_once_inside_exec(h: Harness) -> None:
    h("MULTI")
    h("BLPOP", "nokey", 0)
    h("BLMOVE", "nokey", "d", "LEFT", "LEFT", 0)
    h("RPUSH", "q", "x")
    h("BLPOP", "q", 0)
    assert h.raw("EXEC") == b"*4\r\n*-1\r\n$-1\r\n:1\r\n*2\r\n$1\r\nq\r\n$1\r\nx\r\n"
    assert h.client.blocked is None


def test_exec_serves_clients_blocked_on_keys_it_filled(h: Harness) -> None:
    waiter = h.client_harness()
    assert waiter.raw("BLPOP", "q", 0) == b""
    h("MULTI")
    h("RPUSH", "q", "a", "b")
    h("LLEN", "q")
    assert h("EXEC") == [2, 2]  # the waiter is served after EXEC, not in the middle
    assert waiter.client.out == [b"*2\r\n$1\r\nq\r\n$1\r\na\r\n"]


def test_reset_leaves_multi(h: Harness) -> None:
    h("MULTI")
    h("SET", "a", "1")
    assert h.raw("RESET") == b"+RESET\r\n"
    assert h.error("EXEC") == "ERR EXEC without MULTI"
