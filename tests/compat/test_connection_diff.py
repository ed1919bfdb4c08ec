"""Connection commands against a real redis-server, reply bytes compared (RESP2 and RESP3).

HELLO's reply carries the connection id, which differs between the two servers; it is
compared decoded, with the id checked only for being an integer.
"""

from __future__ import annotations

from typing import Any

import hiredis
import pytest

from tests.compat.conftest import Differ

pytestmark = pytest.mark.interop


def decoded_without_id(reply: bytes) -> Any:
    reader = hiredis.Reader()
    reader.feed(reply)
    value = reader.gets()
    if isinstance(value, list):  # RESP2: a flat key/value array
        value = dict(zip(value[::2], value[1::2], strict=True))
    if isinstance(value, dict):
        assert isinstance(value.pop(b"id"), int)
    return value


def diff_hello(diff: Differ, *args: str) -> bytes:
    ours, theirs = diff.both("HELLO", *args)
    assert ours[:1] == theirs[:1], (args, ours, theirs)
    assert decoded_without_id(ours) == decoded_without_id(theirs), (args, ours, theirs)
    return ours


def test_ping_echo(diff: Differ) -> None:
    diff("PING")
    diff("PING", "hello")
    diff("PING", "")
    diff("PING", "a", "b")
    diff("ECHO", "x")
    diff("ECHO", b"\x00\r\n")
    diff("ECHO")
    diff("ECHO", "a", "b")
    diff("ping")
    diff("pInG", "MiXeD")


def test_unknown_command_and_arity(diff: Differ) -> None:
    diff("NOSUCHCOMMAND")
    diff("NOSUCHCOMMAND", "a", "b c", "")
    diff("NOSUCH", "x" * 200)
    diff("GET")
    diff("SET", "k")
    diff("")


def test_select(diff: Differ) -> None:
    diff("SET", "k", "db0")
    diff("SELECT", "1")
    diff("GET", "k")
    diff("SET", "k", "db1")
    diff("SELECT", "15")
    diff("GET", "k")
    diff("SELECT", "0")
    diff("GET", "k")
    for bad in ("16", "-1", "abc", "1.5", "", "99999999999999999999"):
        diff("SELECT", bad)
    diff("SELECT")
    diff("GET", "k")
    diff("SELECT", "1")
    diff("FLUSHALL")


def test_auth_without_password(diff: Differ) -> None:
    diff("AUTH", "secret")
    diff("AUTH", "default", "secret")
    diff("AUTH", "nouser", "secret")
    diff("AUTH")
    diff("AUTH", "a", "b", "c")
    diff("PING")


def test_hello(diff: Differ) -> None:
    diff_hello(diff)
    diff_hello(diff, "2")
    for bad in ("4", "1", "0", "abc", "-1", "3.0"):
        diff("HELLO", bad)
    diff("HELLO", "3", "BOGUS")
    diff("HELLO", "3", "AUTH", "default")
    diff_hello(diff, "2", "AUTH", "default", "any")  # the default user has nopass
    diff("HELLO", "3", "SETNAME", "bad name")
    diff("HELLO", "3", "SETNAME")
    diff("CLIENT", "GETNAME")
    diff_hello(diff, "2", "SETNAME", "conn")
    diff("CLIENT", "GETNAME")
    diff_hello(diff, "3")
    diff("CLIENT", "GETNAME")
    diff_hello(diff, "2")


def test_client_name(diff: Differ) -> None:
    diff("CLIENT", "GETNAME")
    diff("CLIENT", "SETNAME", "a-name")
    diff("CLIENT", "GETNAME")
    diff("CLIENT", "SETNAME", "with space")
    diff("CLIENT", "SETNAME", "new\nline")
    diff("CLIENT", "GETNAME")
    diff("CLIENT", "SETNAME", "")
    diff("CLIENT", "GETNAME")
    diff("CLIENT", "SETNAME")
    diff("CLIENT", "NOSUCHSUB")
    diff("CLIENT")


def send_both(diff: Differ, *args: str) -> None:
    """Send a command that gets no reply (CLIENT REPLY OFF/SKIP) to both servers."""
    diff.ours.send(*args)
    diff.theirs.send(*args)


def test_client_reply(diff: Differ) -> None:
    diff("CLIENT", "REPLY", "BOGUS")
    diff("CLIENT", "REPLY")
    send_both(diff, "CLIENT", "REPLY", "SKIP")  # no reply to this one nor to the next
    send_both(diff, "ECHO", "skipped")
    diff("ECHO", "after skip")
    send_both(diff, "CLIENT", "REPLY", "OFF")
    send_both(diff, "SET", "k", "v")
    send_both(diff, "GET", "nokey-error", "extra")
    diff("CLIENT", "REPLY", "ON")
    diff("GET", "k")


def test_reset(diff: Differ) -> None:
    diff("SELECT", "2")
    diff("CLIENT", "SETNAME", "someone")
    diff_hello(diff, "3")
    diff("RESET")
    diff("CLIENT", "GETNAME")
    diff("SET", "k", "v")  # back in db 0 and RESP2
    diff("SELECT", "0")
    diff("GET", "k")
    diff("GETDEL", "missing")
    diff("RESET", "extra")


def test_quit_closes_after_ok(diff: Differ) -> None:
    diff("QUIT")
    assert diff.ours.read_until_closed() == diff.theirs.read_until_closed() == b""


def test_connection_commands_in_resp3(diff: Differ) -> None:
    diff_hello(diff, "3")
    diff("PING")
    diff("PING", "x")
    diff("ECHO", "y")
    diff("CLIENT", "GETNAME")
    diff("GET", "missing")
    diff("SET", "k", "v")
    diff("TYPE", "k")
    diff("EXISTS", "k", "missing")
    diff("NOSUCHCOMMAND")
    diff("SELECT", "99")
    diff("SELECT", "1")
    diff("GET", "k")
    diff_hello(diff, "2")
    diff("GET", "missing")
