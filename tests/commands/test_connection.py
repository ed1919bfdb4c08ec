"""Connection commands through the engine (no sockets): PING ECHO QUIT SELECT AUTH HELLO
RESET and CLIENT. Expected bytes and error texts were checked on redis-server 7.0.15."""

from __future__ import annotations

import pytest

from node.engine.session import REPLY_ON
from tests.support import START_MS, Harness

HELLO2 = (
    b"*14\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n"
    b"$5\r\nproto\r\n:2\r\n$2\r\nid\r\n:1\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n"
    b"$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n"
)
HELLO3 = (
    b"%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n"
    b"$5\r\nproto\r\n:3\r\n$2\r\nid\r\n:1\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n"
    b"$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n"
)
NOAUTH = "NOAUTH Authentication required."
WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled."
NOAUTH_HELLO = (
    "NOAUTH HELLO must be called with the client already authenticated, otherwise "
    "the HELLO AUTH <user> <pass> option can be used to authenticate the client "
    "and select the RESP protocol version at the same time"
)
BAD_NAME = "ERR Client names cannot contain spaces, newlines or special characters."
# Redis 7.0's CLIENT LIST fields, in order.
FIELDS = [
    "id",
    "addr",
    "laddr",
    "fd",
    "name",
    "age",
    "idle",
    "flags",
    "db",
    "sub",
    "psub",
    "ssub",
    "multi",
    "qbuf",
    "qbuf-free",
    "argv-mem",
    "multi-mem",
    "rbs",
    "rbp",
    "obl",
    "oll",
    "omem",
    "tot-mem",
    "events",
    "cmd",
    "user",
    "redir",
    "resp",
]


@pytest.fixture
def h() -> Harness:
    return Harness()


@pytest.fixture
def locked() -> Harness:
    """A client of a server with `requirepass secret`, not authenticated yet."""
    return Harness(requirepass="secret")


def fields(line: bytes) -> dict[str, str]:
    return dict(item.split("=", 1) for item in line.decode().split())


def lines_of(h: Harness, *args: str | int) -> list[dict[str, str]]:
    text = h(*args)
    assert isinstance(text, bytes) and (not text or text.endswith(b"\n"))
    return [fields(line) for line in text.splitlines()]


# --- PING ECHO QUIT SELECT --------------------------------------------------------------
def test_ping_pong_and_message(h: Harness) -> None:
    assert h.raw("PING") == b"+PONG\r\n"
    assert h.raw("PING", "hi") == b"$2\r\nhi\r\n"
    assert h.error("PING", "a", "b") == "ERR wrong number of arguments for 'ping' command"


def test_echo(h: Harness) -> None:
    assert h.raw("ECHO", "") == b"$0\r\n\r\n"
    assert h("ECHO", "x y") == b"x y"
    assert h.error("ECHO") == "ERR wrong number of arguments for 'echo' command"


def test_quit_replies_then_closes(h: Harness) -> None:
    assert h.raw("QUIT") == b"+OK\r\n"
    assert h.client.close_after_reply


def test_select_switches_database(h: Harness) -> None:
    h("SET", "k", "0")
    assert h("SELECT", 15) == b"OK"
    assert h("GET", "k") is None
    assert h.client.db.index == 15
    assert h("SELECT", "0") == b"OK"
    assert h("GET", "k") == b"0"


@pytest.mark.parametrize(
    ("arg", "message"),
    [
        ("16", "ERR DB index is out of range"),
        ("-1", "ERR DB index is out of range"),
        ("01", "ERR value is not an integer or out of range"),
        ("x", "ERR value is not an integer or out of range"),
        ("99999999999", "ERR value is out of range, value must between -2147483648 and 2147483647"),
    ],
)
def test_select_errors(h: Harness, arg: str, message: str) -> None:
    assert h.error("SELECT", arg) == message
    assert h.client.db.index == 0


# --- AUTH -------------------------------------------------------------------------------
def test_auth_without_password_configured(h: Harness) -> None:
    assert h.error("AUTH", "x") == (
        "ERR AUTH <password> called without any password configured for the default user. "
        "Are you sure your configuration is correct?"
    )
    assert h("AUTH", "default", "anything") == b"OK"  # the default user is "nopass"
    assert h.error("AUTH", "bob", "x") == WRONGPASS
    assert h.error("AUTH", "a", "b", "c") == "ERR syntax error"
    assert h.error("AUTH") == "ERR wrong number of arguments for 'auth' command"


def test_commands_need_auth_when_password_set(locked: Harness) -> None:
    assert not locked.client.authenticated
    for args in (("PING",), ("ECHO", "x"), ("CLIENT", "GETNAME"), ("SELECT", 1)):
        assert locked.error(*args) == NOAUTH
    assert locked.error("AUTH", "wrong") == WRONGPASS
    assert locked.error("AUTH", "default", "wrong") == WRONGPASS
    assert locked.error("AUTH", "bob", "secret") == WRONGPASS
    assert locked("AUTH", "secret") == b"OK"
    assert locked.client.authenticated
    assert locked("PING") == b"PONG"
    assert locked("AUTH", "default", "secret") == b"OK"


def test_failed_auth_keeps_an_authenticated_client_in(locked: Harness) -> None:
    locked("AUTH", "secret")
    assert locked.error("AUTH", "nope") == WRONGPASS
    assert locked("PING") == b"PONG"


def test_password_set_at_runtime_applies_to_new_connections(h: Harness) -> None:
    assert h("CONFIG", "SET", "requirepass", "pw") == b"OK"
    assert h("PING") == b"PONG"  # already connected: stays authenticated
    other = h.client_harness()
    assert other.error("PING") == NOAUTH
    assert other("AUTH", "pw") == b"OK"


# --- HELLO ------------------------------------------------------------------------------
def test_hello_reports_the_connection_in_resp2_and_resp3(h: Harness) -> None:
    assert h.raw("HELLO") == HELLO2
    assert h.raw("HELLO", 2) == HELLO2
    assert h.raw("HELLO", 3) == HELLO3
    assert h.client.resp == 3
    assert h.raw("HELLO") == HELLO3  # no argument: the current protocol
    assert h.raw("HELLO", 2) == HELLO2
    assert h.client.resp == 2


def test_hello_mode_in_cluster() -> None:
    h = Harness(cluster_enabled="yes")
    assert h("HELLO")[9] == b"cluster"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("4",), "NOPROTO unsupported protocol version"),
        (("1",), "NOPROTO unsupported protocol version"),
        (("-1",), "NOPROTO unsupported protocol version"),
        (("abc",), "ERR Protocol version is not an integer or out of range"),
        (("99999999999999999999",), "ERR Protocol version is not an integer or out of range"),
        (("3", "FOO"), "ERR Syntax error in HELLO option 'FOO'"),
        (("3", "AUTH", "a"), "ERR Syntax error in HELLO option 'AUTH'"),
        (("3", "auth"), "ERR Syntax error in HELLO option 'auth'"),
        (("3", "SETNAME"), "ERR Syntax error in HELLO option 'SETNAME'"),
        (("3", "AUTH", "default", "x", "SETNAME"), "ERR Syntax error in HELLO option 'SETNAME'"),
        (("3", "SETNAME", "a b"), BAD_NAME),
        (("3", "AUTH", "bob", "x"), WRONGPASS),
    ],
)
def test_hello_errors_change_nothing(h: Harness, args: tuple[str, ...], message: str) -> None:
    assert h.error("HELLO", *args) == message
    assert h.client.resp == 2
    assert h.client.name == b""


def test_hello_setname_last_one_wins_and_empty_clears(h: Harness) -> None:
    h("HELLO", 3, "SETNAME", "a", "SETNAME", "b")
    assert h("CLIENT", "GETNAME") == b"b"
    h("HELLO", 3, "setname", "")
    assert h.raw("CLIENT", "GETNAME") == b"_\r\n"


def test_hello_auth_with_nopass_default_user(h: Harness) -> None:
    assert h.raw("HELLO", 3, "AUTH", "default", "whatever") == HELLO3


def test_hello_unauthenticated(locked: Harness) -> None:
    assert locked.error("HELLO") == NOAUTH_HELLO
    assert locked.error("HELLO", 3) == NOAUTH_HELLO
    assert locked.error("HELLO", 3, "SETNAME", "foo") == NOAUTH_HELLO
    assert locked.error("HELLO", 3, "SETNAME", "a b") == BAD_NAME  # options checked first
    assert locked.error("HELLO", 3, "AUTH", "default", "wrong") == WRONGPASS
    assert locked.client.resp == 2
    assert not locked.client.authenticated


def test_hello_authenticates_names_and_switches(locked: Harness) -> None:
    reply = locked.raw("HELLO", 3, "AUTH", "default", "secret", "SETNAME", "foo")
    assert reply == HELLO3
    assert locked.client.authenticated
    assert locked("CLIENT", "GETNAME") == b"foo"


# --- RESET ------------------------------------------------------------------------------
def test_reset_restores_connection_defaults(h: Harness) -> None:
    h("HELLO", 3, "SETNAME", "n")
    h("SELECT", 5)
    h("CLIENT", "NO-TOUCH", "ON")
    h.client.multi = [[b"SET", b"k", b"v"]]
    h.client.multi_error = True
    h.engine.watch(h.client, b"w")
    assert h.raw("RESET") == b"+RESET\r\n"
    c = h.client
    assert (c.resp, c.db.index, c.name, c.multi, c.multi_error) == (2, 0, b"", None, False)
    assert c.watching == [] and h.engine.keyspace.dbs[5].watched == {}
    assert not c.no_touch


def test_reset_keeps_no_evict_as_redis_7_0(h: Harness) -> None:
    h("CLIENT", "NO-EVICT", "ON")
    h("RESET")
    assert h.client.no_evict


def test_reset_turns_replies_back_on(h: Harness) -> None:
    assert h.raw("CLIENT", "REPLY", "OFF") == b""
    assert h.raw("RESET") == b"+RESET\r\n"
    assert h.raw("PING") == b"+PONG\r\n"


def test_reset_deauthenticates_when_a_password_is_set(locked: Harness) -> None:
    locked("AUTH", "secret")
    assert locked.raw("RESET") == b"+RESET\r\n"  # RESET needs no authentication
    assert locked.error("PING") == NOAUTH
    assert locked.raw("RESET") == b"+RESET\r\n"


def test_reset_leaves_open_servers_open(h: Harness) -> None:
    h("RESET")
    assert h("PING") == b"PONG"


# --- CLIENT ID / SETNAME / GETNAME / SETINFO --------------------------------------------
def test_client_id_is_per_connection(h: Harness) -> None:
    assert h.raw("CLIENT", "ID") == b":1\r\n"
    assert h.client_harness()("CLIENT", "ID") == 2


def test_client_names(h: Harness) -> None:
    assert h.raw("CLIENT", "GETNAME") == b"$-1\r\n"
    assert h("CLIENT", "SETNAME", "conn-1") == b"OK"
    assert h.raw("CLIENT", "GETNAME") == b"$6\r\nconn-1\r\n"
    assert h("CLIENT", "SETNAME", "") == b"OK"
    assert h("CLIENT", "GETNAME") is None
    assert Harness(resp=3).raw("CLIENT", "GETNAME") == b"_\r\n"


@pytest.mark.parametrize("name", [b"a b", b"a\nb", b"tab\t", b"\x7f", b"\x00", b"caf\xc3\xa9"])
def test_client_setname_refuses_non_printable(h: Harness, name: bytes) -> None:
    h("CLIENT", "SETNAME", "kept")
    assert h.error("CLIENT", "SETNAME", name) == BAD_NAME
    assert h("CLIENT", "GETNAME") == b"kept"


def test_client_setinfo(h: Harness) -> None:
    assert h("CLIENT", "SETINFO", "lib-name", "redis-py") == b"OK"
    assert h("CLIENT", "SETINFO", "LIB-VER", "5.0.1") == b"OK"
    assert (h.client.lib_name, h.client.lib_ver) == (b"redis-py", b"5.0.1")
    assert h.error("CLIENT", "SETINFO", "lib-foo", "x") == "ERR Unrecognized option 'lib-foo'"
    assert h.error("CLIENT", "SETINFO", "LIB-NAME", "a b") == (
        "ERR LIB-NAME cannot contain spaces, newlines or special characters."
    )
    assert h.error("CLIENT", "SETINFO", "lib-name") == (
        "ERR wrong number of arguments for 'client|setinfo' command"
    )


def test_client_container_errors(h: Harness) -> None:
    assert h.error("CLIENT") == "ERR wrong number of arguments for 'client' command"
    assert h.error("CLIENT", "foo") == "ERR unknown subcommand 'foo'. Try CLIENT HELP."
    assert h.error("CLIENT", "KILL") == ("ERR wrong number of arguments for 'client|kill' command")
    assert h.error("CLIENT", "ID", "x") == "ERR wrong number of arguments for 'client|id' command"


# --- CLIENT INFO / LIST -----------------------------------------------------------------
def test_client_info_line(h: Harness) -> None:
    h.client.fd = 8
    raw = h.raw("CLIENT", "INFO")
    line = h("CLIENT", "INFO")
    assert raw.startswith(b"$%d\r\nid=1 " % len(line))
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    info = fields(line)
    assert list(info) == FIELDS
    assert info == info | {
        "id": "1",
        "addr": "127.0.0.1:50000",
        "laddr": "127.0.0.1:6379",
        "fd": "8",
        "name": "",
        "age": "0",
        "idle": "0",
        "flags": "N",
        "db": "0",
        "sub": "0",
        "psub": "0",
        "ssub": "0",
        "multi": "-1",
        "qbuf": "26",
        "qbuf-free": "0",
        "argv-mem": "10",
        "multi-mem": "0",
        "obl": "0",
        "oll": "0",
        "omem": "0",
        "events": "r",
        "cmd": "client|info",
        "user": "default",
        "redir": "-1",
        "resp": "2",
    }


def test_client_info_is_verbatim_in_resp3() -> None:
    h = Harness(resp=3)
    raw = h.raw("CLIENT", "INFO")
    assert raw.startswith(b"=") and raw[raw.index(b"\r\n") + 2 :].startswith(b"txt:id=1 ")


def test_client_list_shows_every_client_with_its_state(h: Harness) -> None:
    other = h.client_harness(resp=3)
    other("CLIENT", "SETNAME", "bee")
    other("SELECT", 5)
    h.advance(3000)
    other("PING")
    h.advance(2000)
    listed = lines_of(h, "CLIENT", "LIST")
    assert [entry["id"] for entry in listed] == ["1", "2"]
    mine, theirs = listed
    assert mine["cmd"] == "client|list" and mine["argv-mem"] == "10"
    assert (mine["age"], mine["idle"]) == ("5", "5")  # the harness never refreshes idle
    assert theirs == theirs | {
        "name": "bee",
        "db": "5",
        "cmd": "ping",
        "resp": "3",
        "qbuf": "0",
        "argv-mem": "0",
        "age": "5",
    }


def test_client_list_fresh_client_has_no_command(h: Harness) -> None:
    h.client_harness()
    assert lines_of(h, "CLIENT", "LIST")[1]["cmd"] == "NULL"


def test_client_list_flags(h: Harness) -> None:
    other = h.client_harness()
    other("CLIENT", "NO-EVICT", "on")
    other("CLIENT", "NO-TOUCH", "on")
    other.client.multi = [[b"SET", b"k", b"v"]]
    other.client.watch_dirty = True
    entry = lines_of(h, "CLIENT", "LIST")[1]
    assert (entry["flags"], entry["multi"], entry["multi-mem"]) == ("xdeT", "1", "29")
    other.client.flags = "P"
    assert lines_of(h, "CLIENT", "LIST")[1]["flags"] == "PxdeT"


def test_client_list_type_filter(h: Harness) -> None:
    pubsub = h.client_harness()
    pubsub.client.flags = "P"
    replica = h.client_harness()
    replica.client.flags = "S"
    monitor = h.client_harness()
    monitor.client.flags = "SO"  # monitors are replicas inside Redis, normal to CLIENT LIST
    assert [e["id"] for e in lines_of(h, "CLIENT", "LIST", "TYPE", "normal")] == ["1", "4"]
    assert [e["id"] for e in lines_of(h, "CLIENT", "LIST", "TYPE", "PUBSUB")] == ["2"]
    assert [e["id"] for e in lines_of(h, "CLIENT", "LIST", "TYPE", "replica")] == ["3"]
    assert [e["id"] for e in lines_of(h, "CLIENT", "LIST", "TYPE", "slave")] == ["3"]
    assert h.raw("CLIENT", "LIST", "TYPE", "master") == b"$0\r\n\r\n"


def test_client_list_id_filter_keeps_order_and_repeats(h: Harness) -> None:
    h.client_harness()
    h.client_harness()
    ids = [e["id"] for e in lines_of(h, "CLIENT", "LIST", "ID", 3, 1, 99, 0, -5, 3)]
    assert ids == ["3", "1", "3"]
    assert h.raw("CLIENT", "LIST", "ID", 99) == b"$0\r\n\r\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("TYPE", "foo"), "ERR Unknown client type 'foo'"),
        (("TYPE",), "ERR syntax error"),
        (("ID",), "ERR syntax error"),
        (("ID", "abc"), "ERR Invalid client ID"),
        (("ID", "1", "abc"), "ERR Invalid client ID"),
        (("ID", "1", "TYPE", "normal"), "ERR Invalid client ID"),
        (("TYPE", "normal", "ID", "1"), "ERR syntax error"),
        (("foo",), "ERR syntax error"),
    ],
)
def test_client_list_errors(h: Harness, args: tuple[str, ...], message: str) -> None:
    assert h.error("CLIENT", "LIST", *args) == message


# --- CLIENT KILL ------------------------------------------------------------------------
def test_kill_by_address_old_form(h: Harness) -> None:
    other = h.client_harness()
    other.client.addr = "10.0.0.2:4000"
    h.engine.watch(other.client, b"k")
    assert h.raw("CLIENT", "KILL", "10.0.0.2:4000") == b"+OK\r\n"
    assert other.client.id not in h.engine.clients
    assert h.engine.clients_to_close == [other.client]
    assert h.engine.keyspace.dbs[0].watched == {}
    assert not h.client.close_after_reply
    assert h.error("CLIENT", "KILL", "10.0.0.2:4000") == "ERR No such client"
    assert h.error("CLIENT", "KILL", "ID") == "ERR No such client"  # an address, here


def test_kill_own_address_closes_after_the_reply(h: Harness) -> None:
    assert h.raw("CLIENT", "KILL", "127.0.0.1:50000") == b"+OK\r\n"
    assert h.client.close_after_reply
    assert h.engine.clients_to_close == []


def test_kill_new_form_filters(h: Harness) -> None:
    a, b, c = h.client_harness(), h.client_harness(), h.client_harness()
    b.client.flags = "P"
    c.client.laddr = "127.0.0.1:7000"
    assert h("CLIENT", "KILL", "ID", 999) == 0
    assert h("CLIENT", "KILL", "TYPE", "pubsub") == 1
    assert h("CLIENT", "KILL", "LADDR", "127.0.0.1:7000") == 1
    assert h("CLIENT", "KILL", "ADDR", "127.0.0.1:50000", "ID", a.client.id) == 1
    assert list(h.engine.clients) == [h.client.id]
    assert h.engine.clients_to_close == [b.client, c.client, a.client]


def test_kill_skipme(h: Harness) -> None:
    h.client_harness()
    assert h("CLIENT", "KILL", "USER", "default") == 1  # everyone but me
    assert not h.client.close_after_reply
    assert h("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "no") == 1
    assert h.client.close_after_reply


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("ID", "abc"), "ERR client-id should be greater than 0"),
        (("ID", "0"), "ERR client-id should be greater than 0"),
        (("ID", "-1"), "ERR client-id should be greater than 0"),
        (("TYPE", "foo"), "ERR Unknown client type 'foo'"),
        (("USER", "nobody"), "ERR No such user 'nobody'"),
        (("TYPE", "normal", "SKIPME", "maybe"), "ERR syntax error"),
        (("FOO", "bar"), "ERR syntax error"),
        (("a", "b", "c"), "ERR syntax error"),
        (("ID", "1", "TYPE"), "ERR syntax error"),
    ],
)
def test_kill_errors(h: Harness, args: tuple[str, ...], message: str) -> None:
    h.client_harness()
    assert h.error("CLIENT", "KILL", *args) == message
    assert len(h.engine.clients) == 2


def test_killed_blocked_client_is_released(h: Harness) -> None:
    other = h.client_harness()
    assert other.raw("BLPOP", "q", 0) == b""
    assert h("CLIENT", "KILL", "ID", other.client.id) == 1
    assert other.client.blocked is None and not h.engine.blocked


# --- CLIENT REPLY -----------------------------------------------------------------------
def test_reply_off_then_on(h: Harness) -> None:
    assert h.raw("CLIENT", "REPLY", "OFF") == b""
    assert h.raw("SET", "k", "v") == b""
    assert h.raw("GET", "nokey", "extra") == b""  # errors are silenced too
    assert h.raw("CLIENT", "REPLY", "SKIP") == b""  # SKIP means nothing while OFF
    assert h.raw("PING") == b""
    assert h.raw("CLIENT", "REPLY", "ON") == b"+OK\r\n"
    assert h.raw("GET", "k") == b"$1\r\nv\r\n"


def test_reply_skip_silences_exactly_the_next_command(h: Harness) -> None:
    assert h.raw("CLIENT", "REPLY", "SKIP") == b""
    assert h.raw("SET", "k", "v") == b""
    assert h.raw("GET", "k") == b"$1\r\nv\r\n"
    assert h.raw("CLIENT", "REPLY", "SKIP") == b""
    assert h.raw("NOSUCHCOMMAND") == b""
    assert h.raw("PING") == b"+PONG\r\n"
    assert h.client.reply_mode == REPLY_ON


def test_reply_skip_twice_skips_one_more(h: Harness) -> None:
    assert h.raw("CLIENT", "REPLY", "SKIP") == b""
    assert h.raw("CLIENT", "REPLY", "SKIP") == b""
    assert h.raw("PING") == b""
    assert h.raw("PING") == b"+PONG\r\n"


def test_reply_on_during_skip_answers(h: Harness) -> None:
    h.raw("CLIENT", "REPLY", "SKIP")
    assert h.raw("CLIENT", "REPLY", "ON") == b"+OK\r\n"
    assert h.raw("PING") == b"+PONG\r\n"


def test_reply_bad_mode(h: Harness) -> None:
    assert h.error("CLIENT", "REPLY", "maybe") == "ERR syntax error"
    assert h.client.reply_mode == REPLY_ON


# --- NO-EVICT / NO-TOUCH / HELP ---------------------------------------------------------
@pytest.mark.parametrize(("sub", "attr"), [("NO-EVICT", "no_evict"), ("NO-TOUCH", "no_touch")])
def test_on_off_switches(h: Harness, sub: str, attr: str) -> None:
    assert h("CLIENT", sub, "on") == b"OK"
    assert getattr(h.client, attr)
    assert h("CLIENT", sub, "OFF") == b"OK"
    assert not getattr(h.client, attr)
    assert h.error("CLIENT", sub, "maybe") == "ERR syntax error"


def test_client_help(h: Harness) -> None:
    raw = h.raw("client", "help")
    assert raw.startswith(
        b"*48\r\n+CLIENT <subcommand> [<arg> [value] [opt] ...]. "
        b"Subcommands are:\r\n+CACHING (YES|NO)\r\n"
    )
    assert raw.endswith(
        b"+NO-EVICT (ON|OFF)\r\n+    Protect current client connection from "
        b"eviction.\r\n+HELP\r\n+    Prints this help.\r\n"
    )


def test_start_time_is_the_harness_clock(h: Harness) -> None:
    assert h.client.created_ms == START_MS
