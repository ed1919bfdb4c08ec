"""ACL and AUTH through the engine (no sockets). Every expectation that goes through commands
was checked against redis-server 7.0.15: `SLOTD_VERIFY_PORT=<port> pytest
tests/commands/test_acl.py` runs the same tests against a real server (users are removed
and the default user restored after each test); `engine_only` tests look inside slotd.

Redis lists the single commands of a rule description (ACL GETUSER's "commands", ACL LIST)
in its hash-table order, which changes from run to run: `rules()` compares those as a set.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import hiredis
import pytest

from node.engine.acl import LUA, RuleError
from tests.commands.realharness import engine_only, harness
from tests.support import Harness, make_engine

NOAUTH = "NOAUTH Authentication required."
WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled."
NOPERM_KEY = "NOPERM this user has no permissions to access one of the keys used as arguments"
NOPERM_CHANNEL = (
    "NOPERM this user has no permissions to access one of the channels used as arguments"
)
SYNTAX = "Syntax error"
UNKNOWN = "Unknown command or category name in ACL"
BAD_HASH = (
    "The password hash must be exactly 64 characters and contain only lowercase "
    "hexadecimal characters"
)
NOT_CONFIGURED = (
    "ERR This Redis instance is not configured to use an ACL file. You may want to specify "
    "users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a "
    "Redis configuration file set) in order to store users in the Redis configuration."
)
DEFAULT_LINE = b"user default on nopass ~* &* +@all"


def noperm_cmd(name: str) -> str:
    return f"NOPERM this user has no permissions to run the '{name}' command"


def modifier(op: str, why: str) -> str:
    return f"ERR Error in ACL SETUSER modifier '{op}': {why}"


def sha(password: str) -> bytes:
    return hashlib.sha256(password.encode()).hexdigest().encode()


@pytest.fixture
def h() -> Iterator[Any]:
    """An admin connection (the default user). Tests never AUTH it as someone else and put
    the default user back when they change it; what is left is undone here."""
    with harness() as made:
        yield made
        for name in made("ACL", "USERS"):
            if name != b"default":
                made("ACL", "DELUSER", name)
        made("CONFIG", "SET", "requirepass", "")
        made("ACL", "SETUSER", "default", "clearselectors", "on", "nopass", "~*", "&*", "+@all")
        made("CONFIG", "SET", "acllog-max-len", "128")
        made("CONFIG", "SET", "acl-pubsub-default", "resetchannels")
        made("ACL", "LOG", "RESET")


def user(h: Any, *rules: str, name: str = "u") -> Any:
    """Create `name` with `rules`; a new connection authenticated as that user."""
    assert h("ACL", "SETUSER", name, "on", ">pw", *rules) == b"OK"
    other = h.client_harness()
    assert other("AUTH", name, "pw") == b"OK"
    return other


def getuser(h: Any, name: str = "u") -> dict[bytes, Any]:
    reply = h("ACL", "GETUSER", name)
    return dict(zip(reply[::2], reply[1::2], strict=True))


def rules(text: bytes) -> tuple[list[bytes], set[bytes]]:
    """A command description: the leading +@all/-@all and categories in order, then the
    single commands as a set (Redis prints those in hash-table order)."""
    words = text.split()
    head = [w for w in words if w[1:2] == b"@"]
    assert words[: len(head)] == head, "categories come first"
    return head, set(words[len(head) :])


def log_entries(h: Any, *count: str | int) -> list[dict[bytes, Any]]:
    """ACL LOG entries without the fields that depend on the connection and the clock."""
    out = []
    for entry in h("ACL", "LOG", *count):
        fields = dict(zip(entry[::2], entry[1::2], strict=True))
        assert list(fields) == [
            b"count",
            b"reason",
            b"context",
            b"object",
            b"username",
            b"age-seconds",
            b"client-info",
        ]
        assert b"id=" in fields.pop(b"client-info")
        assert float(fields.pop(b"age-seconds")) >= 0
        out.append(fields)
    return out


# --- SETUSER / GETUSER / LIST / USERS -----------------------------------------------------
def test_default_user(h: Any) -> None:
    assert h("ACL", "LIST") == [DEFAULT_LINE]
    assert h("ACL", "USERS") == [b"default"]
    assert h("ACL", "WHOAMI") == b"default"
    assert h.raw("ACL", "GETUSER", "default") == (
        b"*12\r\n$5\r\nflags\r\n*2\r\n$2\r\non\r\n$6\r\nnopass\r\n$9\r\npasswords\r\n*0\r\n"
        b"$8\r\ncommands\r\n$5\r\n+@all\r\n$4\r\nkeys\r\n$2\r\n~*\r\n$8\r\nchannels\r\n"
        b"$2\r\n&*\r\n$9\r\nselectors\r\n*0\r\n"
    )


def test_getuser_resp3_shapes() -> None:
    with harness(resp=3) as h3:
        try:
            assert h3("ACL", "SETUSER", "u", "on", "(+get ~x)") == b"OK"
            assert h3.raw("ACL", "GETUSER", "u") == (
                b"%6\r\n$5\r\nflags\r\n~1\r\n$2\r\non\r\n$9\r\npasswords\r\n*0\r\n"
                b"$8\r\ncommands\r\n$5\r\n-@all\r\n$4\r\nkeys\r\n$0\r\n\r\n"
                b"$8\r\nchannels\r\n$0\r\n\r\n$9\r\nselectors\r\n*1\r\n"
                b"%3\r\n$8\r\ncommands\r\n$10\r\n-@all +get\r\n$4\r\nkeys\r\n$2\r\n~x\r\n"
                b"$8\r\nchannels\r\n$0\r\n\r\n"
            )
            assert h3.raw("ACL", "GETUSER", "nosuch") == b"_\r\n"
        finally:
            h3("ACL", "DELUSER", "u")


def test_new_user_is_off_and_empty(h: Any) -> None:
    assert h("ACL", "SETUSER", "u") == b"OK"
    assert h("ACL", "LIST") == [DEFAULT_LINE, b"user u off resetchannels -@all"]
    assert getuser(h) == {
        b"flags": [b"off"],
        b"passwords": [],
        b"commands": b"-@all",
        b"keys": b"",
        b"channels": b"",
        b"selectors": [],
    }
    assert h("ACL", "GETUSER", "nosuch") is None


def test_users_are_listed_bytewise(h: Any) -> None:
    for name in ("b", "B", "a1", "a", "_"):
        h("ACL", "SETUSER", name)
    assert h("ACL", "USERS") == [b"B", b"_", b"a", b"a1", b"b", b"default"]


def test_flags(h: Any) -> None:
    h("ACL", "SETUSER", "u", "on", "ON", "nopass", "skip-sanitize-payload")
    assert getuser(h)[b"flags"] == [b"on", b"nopass", b"skip-sanitize-payload"]
    h("ACL", "SETUSER", "u", "off", "sanitize-payload")
    assert getuser(h)[b"flags"] == [b"off", b"nopass", b"sanitize-payload"]
    assert h("ACL", "LIST")[1] == b"user u off nopass sanitize-payload resetchannels -@all"
    h("ACL", "SETUSER", "u", "", "reset")  # an empty rule does nothing
    assert h("ACL", "LIST")[1] == b"user u off sanitize-payload resetchannels -@all"


def test_passwords(h: Any) -> None:
    h("ACL", "SETUSER", "u", ">a", ">b", ">a", f"#{sha('c').decode()}")
    assert getuser(h)[b"passwords"] == [sha("a"), sha("b"), sha("c")]
    h("ACL", "SETUSER", "u", "<b", f"!{sha('a').decode()}")
    assert getuser(h)[b"passwords"] == [sha("c")]
    assert h("ACL", "LIST")[1] == b"user u off #" + sha("c") + b" resetchannels -@all"
    h("ACL", "SETUSER", "u", "nopass")
    assert getuser(h)[b"flags"] == [b"off", b"nopass"] and getuser(h)[b"passwords"] == []
    h("ACL", "SETUSER", "u", ">x")  # a password ends nopass
    assert getuser(h)[b"flags"] == [b"off"] and getuser(h)[b"passwords"] == [sha("x")]
    h("ACL", "SETUSER", "u", "resetpass")
    assert getuser(h)[b"flags"] == [b"off"] and getuser(h)[b"passwords"] == []


@pytest.mark.parametrize(
    ("op", "why"),
    [
        ("#abc", BAD_HASH),
        ("#" + "A" * 64, BAD_HASH),
        ("!abc", BAD_HASH),
        ("<nope", "The password you are trying to remove from the user does not exist"),
        ("!" + "a" * 64, "The password you are trying to remove from the user does not exist"),
        ("garbage", SYNTAX),
        ("%", SYNTAX),
        ("%~", SYNTAX),
        ("%~foo", SYNTAX),
        ("%RWR~x", SYNTAX),
        ("%X~x", SYNTAX),
        ("~a b", SYNTAX),
        ("&a\tb", SYNTAX),
        ("+", UNKNOWN),
        ("+@", UNKNOWN),
        ("+@nosuch", UNKNOWN),
        ("-@nosuch", UNKNOWN),
        ("+nosuch", UNKNOWN),
        ("-select|0", UNKNOWN),
        ("+get|x|y", UNKNOWN),
        ("+config|nosuch", UNKNOWN),
        ("+get|", SYNTAX),
        ("+config|", SYNTAX),
        ("+config|get|x", "Allowing first-arg of a subcommand is not supported"),
        ("(on)", SYNTAX),
        ("(>pass)", SYNTAX),
        ("((~x))", SYNTAX),
        ("(reset)", SYNTAX),
        (")", SYNTAX),
    ],
)
def test_rule_errors_change_nothing(h: Any, op: str, why: str) -> None:
    h("ACL", "SETUSER", "u", "on", ">pw", "~k")
    before = h("ACL", "LIST")
    assert h.error("ACL", "SETUSER", "u", "off", "+get", op) == modifier(op, why)
    assert h.error("ACL", "SETUSER", "new", op) == modifier(op, why)
    assert h("ACL", "LIST") == before


def test_patterns_after_a_star_are_refused(h: Any) -> None:
    assert h.error("ACL", "SETUSER", "u", "allkeys", "~foo") == modifier(
        "~foo",
        "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid "
        "and does not have any effect. Try 'resetkeys' to start with an empty list of "
        "patterns",
    )
    assert h.error("ACL", "SETUSER", "u", "~*", "%R~foo").startswith(
        "ERR Error in ACL SETUSER modifier '%R~foo': Adding a pattern after the *"
    )
    assert h.error("ACL", "SETUSER", "u", "allchannels", "&foo") == modifier(
        "&foo",
        "Adding a pattern after the * pattern (or the 'allchannels' flag) is not "
        "valid and does not have any effect. Try 'resetchannels' to start with an empty list "
        "of channels",
    )
    # A read-write pattern "*" is not `allkeys`: more patterns may follow.
    h("ACL", "SETUSER", "u", "%RW~*", "~foo", "resetkeys", "~a", "allkeys")
    assert getuser(h)[b"keys"] == b"~*"


def test_username_checks(h: Any) -> None:
    assert h.error("ACL", "SETUSER", "bad user") == (
        "ERR Usernames can't contain spaces or null characters"
    )
    assert h.error("ACL", "SETUSER", b"a\0b") == (
        "ERR Usernames can't contain spaces or null characters"
    )


def test_key_patterns(h: Any) -> None:
    h("ACL", "SETUSER", "u", "%RW~foo", "%R~bar", "%W~bar", "~baz", "%r~baz", "%W~w*", "%R~", "~")
    assert getuser(h)[b"keys"] == b"~foo ~bar ~baz %W~w* ~"
    assert h("ACL", "LIST")[1] == b"user u off ~foo ~bar ~baz %W~w* ~ resetchannels -@all"
    h("ACL", "SETUSER", "u", "resetkeys", "%R~a", "%W~b", "~c")
    assert getuser(h)[b"keys"] == b"%R~a %W~b ~c"


def test_channel_patterns(h: Any) -> None:
    h("ACL", "SETUSER", "u", "&a", "&b*", "&a", "&")
    assert getuser(h)[b"channels"] == b"&a &b* &"
    assert h("ACL", "LIST")[1] == b"user u off resetchannels &a &b* & -@all"
    h("ACL", "SETUSER", "u", "allchannels")
    assert getuser(h)[b"channels"] == b"&*"
    assert h("ACL", "LIST")[1] == b"user u off &* -@all"
    h("ACL", "SETUSER", "u", "resetchannels")
    assert getuser(h)[b"channels"] == b""


def test_acl_pubsub_default(h: Any) -> None:
    h("CONFIG", "SET", "acl-pubsub-default", "allchannels")
    h("ACL", "SETUSER", "u")
    assert getuser(h)[b"channels"] == b"&*"
    h("ACL", "SETUSER", "v", "resetchannels", "&x", "reset")
    assert getuser(h, "v")[b"channels"] == b"&*"
    h("CONFIG", "SET", "acl-pubsub-default", "resetchannels")
    h("ACL", "SETUSER", "w", "(~x)")
    assert getuser(h, "w")[b"selectors"][0][5] == b""
    assert getuser(h, "u")[b"channels"] == b"&*"  # existing users keep what they have


def test_reset(h: Any) -> None:
    h("ACL", "SETUSER", "u", "on", ">pw", "~k", "&c", "+@all", "(+get ~x)")
    h("ACL", "SETUSER", "u", "reset")
    assert h("ACL", "LIST")[1] == b"user u off sanitize-payload resetchannels -@all"


def test_selectors(h: Any) -> None:
    h("ACL", "SETUSER", "u", "on", "(+get ~x)", "(", "+set", "~y", ")", "(~a &b +@all allkeys)")
    assert h("ACL", "LIST")[1] == (
        b"user u on resetchannels -@all (~x resetchannels -@all +get) "
        b"(~y resetchannels -@all +set) (~* resetchannels &b +@all)"
    )
    reply = getuser(h)
    assert reply[b"commands"] == b"-@all"
    assert [dict(zip(s[::2], s[1::2], strict=True)) for s in reply[b"selectors"]] == [
        {b"commands": b"-@all +get", b"keys": b"~x", b"channels": b""},
        {b"commands": b"-@all +set", b"keys": b"~y", b"channels": b""},
        {b"commands": b"+@all", b"keys": b"~*", b"channels": b"&b"},
    ]
    h("ACL", "SETUSER", "u", "clearselectors", "()")
    assert h("ACL", "LIST")[1] == b"user u on resetchannels -@all (resetchannels -@all)"


def test_selector_arguments_are_merged(h: Any) -> None:
    assert h("ACL", "SETUSER", "u", "(+get", "~x)") == b"OK"
    assert h("ACL", "LIST")[1] == b"user u off resetchannels -@all (~x resetchannels -@all +get)"
    assert h.error("ACL", "SETUSER", "v", "on", "(~x") == (
        "ERR Unmatched parenthesis in acl selector starting at '(~x'."
    )
    assert h.error("ACL", "SETUSER", "v", "(a)b") == (
        "ERR Unmatched parenthesis in acl selector starting at '(a)b'."
    )
    assert h.error("ACL", "SETUSER", "v", "(~x", "(y", "z)") == modifier("(y z)", SYNTAX)
    assert h.error("ACL", "SETUSER", "v", "(~x)", ")") == modifier(")", SYNTAX)
    assert h("ACL", "GETUSER", "v") is None


# --- describing command rules -----------------------------------------------------------
@pytest.mark.parametrize(
    ("given", "head", "singles"),
    [
        (["+@all"], [b"+@all"], set()),
        (["allcommands"], [b"+@all"], set()),
        (["+@ALL", "nocommands"], [b"-@all"], set()),
        (["+get"], [b"-@all"], {b"+get"}),
        (["+GET", "+set", "-get"], [b"-@all"], {b"+set"}),
        (["+@string"], [b"-@all", b"+@string"], set()),
        (["+@string", "-set"], [b"-@all", b"+@string"], {b"-set"}),
        (["+@all", "-@dangerous"], [b"+@all", b"-@dangerous"], set()),
        (["+@all", "-get"], [b"+@all"], {b"-get"}),
        (["+@all", "-get", "+get"], [b"+@all"], set()),
        (["+@hyperloglog", "+@geo"], [b"-@all", b"+@geo", b"+@hyperloglog"], set()),
        (
            ["+@all", "-@hyperloglog", "-@transaction"],
            [b"+@all", b"-@hyperloglog", b"-@transaction"],
            set(),
        ),
        (["+config|get", "+client|id"], [b"-@all"], {b"+config|get", b"+client|id"}),
        (["+acl", "-acl|log"], [b"-@all"], {b"+acl", b"-acl|log"}),
        (["+select|0", "+select|1", "+SELECT|0"], [b"-@all"], {b"+select|0", b"+select|1"}),
        (["+select|0", "-select"], [b"-@all"], set()),
        (["+select|0", "+select"], [b"-@all"], {b"+select"}),
    ],
)
def test_command_rules_are_described_as_7_0_does(
    h: Any, given: list[str], head: list[bytes], singles: set[bytes]
) -> None:
    h("ACL", "SETUSER", "u", *given)
    assert rules(getuser(h)[b"commands"]) == (head, singles)
    line = h("ACL", "LIST")[1]
    assert line.startswith(b"user u off resetchannels ")
    assert rules(line[len(b"user u off resetchannels ") :]) == (head, singles)


# --- AUTH and HELLO ---------------------------------------------------------------------
def test_auth_with_users(h: Any) -> None:
    h("ACL", "SETUSER", "u", "on", ">pw", ">pw2", "+@all", "~*")
    other = h.client_harness()
    assert other.error("AUTH", "u", "wrong") == WRONGPASS
    assert other.error("AUTH", "nosuch", "pw") == WRONGPASS
    assert other("ACL", "WHOAMI") == b"default"
    assert other("AUTH", "u", "pw2") == b"OK"
    assert other("ACL", "WHOAMI") == b"u"
    assert other.error("AUTH", "u", "wrong") == WRONGPASS  # stays logged in as u
    assert other("ACL", "WHOAMI") == b"u"
    assert other.error("AUTH", "a", "b", "c") == "ERR syntax error"


def test_auth_refuses_disabled_users_but_keeps_their_clients(h: Any) -> None:
    other = user(h, "+@all", "~*")
    h("ACL", "SETUSER", "u", "off")
    assert other("SET", "k", "v") == b"OK"  # already logged in: it goes on working
    assert h.client_harness().error("AUTH", "u", "pw") == WRONGPASS


def test_nopass_user_takes_any_password(h: Any) -> None:
    h("ACL", "SETUSER", "u", "on", "nopass", "+acl|whoami")
    other = h.client_harness()
    assert other("AUTH", "u", "anything") == b"OK"
    assert other("ACL", "WHOAMI") == b"u"


def test_auth_with_one_argument_is_the_default_user(h: Any) -> None:
    assert h.error("AUTH", "pw") == (
        "ERR AUTH <password> called without any password configured for the default user. "
        "Are you sure your configuration is correct?"
    )
    h("ACL", "SETUSER", "default", ">secret")
    try:
        other = h.client_harness()
        assert other.error("GET", "k") == NOAUTH
        assert other.error("AUTH", "wrong") == WRONGPASS
        assert other("AUTH", "secret") == b"OK"
        assert other("GET", "k") is None
    finally:
        h("ACL", "SETUSER", "default", "nopass")


def test_requirepass_is_the_default_users_password(h: Any) -> None:
    h("CONFIG", "SET", "requirepass", "secret")
    assert getuser(h, "default")[b"passwords"] == [sha("secret")]
    assert getuser(h, "default")[b"flags"] == [b"on"]
    other = h.client_harness()
    assert other.error("PING") == NOAUTH
    assert other("AUTH", "default", "secret") == b"OK"
    h("CONFIG", "SET", "requirepass", "")
    assert getuser(h, "default")[b"flags"] == [b"on", b"nopass"]
    assert h.client_harness()("PING") == b"PONG"


def test_opening_the_default_user_lets_waiting_clients_in(h: Any) -> None:
    h("CONFIG", "SET", "requirepass", "secret")
    waiting = h.client_harness()
    assert waiting.error("PING") == NOAUTH
    h("CONFIG", "SET", "requirepass", "")
    assert waiting("PING") == b"PONG"
    h("CONFIG", "SET", "requirepass", "again")
    assert waiting.error("PING") == NOAUTH  # it never authenticated


def test_disabled_default_user_needs_auth(h: Any) -> None:
    h("ACL", "SETUSER", "default", "off")
    try:
        other = h.client_harness()
        assert other.error("PING") == NOAUTH
        assert other.error("AUTH", "default", "x") == WRONGPASS
        h("ACL", "SETUSER", "u", "on", "nopass", "+ping")
        assert other("AUTH", "u", "x") == b"OK"
        assert other("PING") == b"PONG"
    finally:
        h("ACL", "SETUSER", "default", "on")


def test_hello_auth_with_users(h: Any) -> None:
    h("ACL", "SETUSER", "u", "on", ">pw", "+@all")
    other = h.client_harness()
    assert other.error("HELLO", "2", "AUTH", "u", "wrong") == WRONGPASS
    reply = other("HELLO", "3", "AUTH", "u", "pw")
    assert reply[b"proto"] == 3
    assert other("ACL", "WHOAMI") == b"u"


def test_reset_goes_back_to_the_default_user(h: Any) -> None:
    other = user(h, "+@all")
    assert other("RESET") == b"RESET"
    assert other("ACL", "WHOAMI") == b"default"
    h("CONFIG", "SET", "requirepass", "secret")
    assert other("RESET") == b"RESET"
    assert other.error("ACL", "WHOAMI") == NOAUTH


def test_client_list_shows_the_user(h: Any) -> None:
    other = user(h, "+client")
    line = other("CLIENT", "INFO")
    assert b" user=u " in line
    assert h.error("CLIENT", "KILL", "USER", "nosuch") == "ERR No such user 'nosuch'"
    assert h("CLIENT", "KILL", "USER", "u") == 1
    assert h("CLIENT", "KILL", "USER", "u") == 0


# --- command, key and channel permissions -----------------------------------------------
def test_command_permissions(h: Any) -> None:
    other = user(h, "~*", "+get", "+config|get", "+client", "-client|kill", "+select|0")
    assert other("GET", "k") is None
    assert other.error("SET", "k", "v") == noperm_cmd("set")
    assert other("CONFIG", "GET", "maxmemory") == [b"maxmemory", b"0"]
    assert other.error("CONFIG", "SET", "maxmemory", "0") == noperm_cmd("config|set")
    assert isinstance(other("CLIENT", "ID"), int)
    assert other.error("CLIENT", "KILL", "ID", "999") == noperm_cmd("client|kill")
    assert other("SELECT", "0") == b"OK"
    assert other.error("SELECT", "1") == noperm_cmd("select")
    # Commands that need no authentication need no permission either.
    assert other("AUTH", "u", "pw") == b"OK"
    assert other.error("PING") == noperm_cmd("ping")


def test_unknown_and_arity_errors_come_before_the_acl(h: Any) -> None:
    other = user(h)
    assert other.error("NOSUCH") == "ERR unknown command 'NOSUCH', with args beginning with: "
    assert other.error("GET") == "ERR wrong number of arguments for 'get' command"
    assert other.error("CONFIG", "NOSUCH") == ("ERR unknown subcommand 'NOSUCH'. Try CONFIG HELP.")


@pytest.mark.parametrize(
    ("command", "allowed"),
    [
        (["GET", "r1"], True),
        (["GET", "w1"], False),
        (["SET", "w1", "x"], True),  # SET without GET only writes
        (["SET", "w1", "x", "GET"], False),
        (["SET", "r1", "x"], False),
        (["EXISTS", "w1"], True),  # no ACCESS/INSERT/DELETE/UPDATE flag: any pattern will do
        (["TYPE", "w1"], True),
        (["COPY", "r1", "w1"], True),
        (["COPY", "w1", "r1"], False),
        (["LMOVE", "r1", "w1", "LEFT", "RIGHT"], False),  # the source is written too
        (["SORT", "r1", "STORE", "w1"], True),
        (["SORT", "r1", "STORE", "r2"], False),
        (["GETDEL", "w1"], False),
        (["GETDEL", "rw1"], True),
        (["APPEND", "w1", "x"], True),
        (["INCR", "w1"], False),
        (["GETEX", "r1"], False),
        (["DEL", "r1"], False),
        (["MSET", "w1", "a", "w2", "b"], True),
        (["MSET", "w1", "a", "r2", "b"], False),
        (["SET", "", "x"], False),  # "*"-like patterns never match the empty key
    ],
)
def test_key_permissions_follow_the_key_specs(h: Any, command: list[str], allowed: bool) -> None:
    other = user(h, "%R~r*", "%W~w*", "~rw*", "+@all")
    reply = other(*command)
    if allowed:
        assert not isinstance(reply, hiredis.ReplyError), reply
    else:
        assert str(reply) == NOPERM_KEY


def test_channel_permissions(h: Any) -> None:
    other = user(h, "&ch*", "&lit", "+@all")
    assert other("PUBLISH", "ch1", "hi") == 0
    assert other.error("PUBLISH", "x", "hi") == NOPERM_CHANNEL
    assert other.error("SPUBLISH", "x", "hi") == NOPERM_CHANNEL
    # PSUBSCRIBE needs the pattern granted literally; SUBSCRIBE matches the patterns.
    assert other.error("PSUBSCRIBE", "ch1") == NOPERM_CHANNEL
    assert other.error("SUBSCRIBE", "ch1", "x") == NOPERM_CHANNEL
    assert other.error("SSUBSCRIBE", "x") == NOPERM_CHANNEL
    assert other("UNSUBSCRIBE", "x") == [b"unsubscribe", b"x", 0]  # never checked
    assert other("PSUBSCRIBE", "ch*") == [b"psubscribe", b"ch*", 1]


def test_subscribe_checks_every_channel(h: Any) -> None:
    other = user(h, "&a", "&b", "+@all")
    # (A real server's second frame stays unread: RawClient reads one reply per call.)
    assert other.raw("SUBSCRIBE", "a", "b").startswith(
        b"*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n"
    )


def test_selectors_allow_what_any_of_them_allows(h: Any) -> None:
    other = user(h, "+get", "~a*", "(+set ~b*)", "(+@all %R~c*)")
    assert other("GET", "a1") is None
    assert other("SET", "b1", "x") == b"OK"
    assert other("GET", "c1") is None
    assert other.error("SET", "a1", "x") == NOPERM_KEY  # the deepest refusal wins
    assert other.error("GET", "zz") == NOPERM_KEY
    assert other("LLEN", "c1") == 0
    assert other.error("LPUSH", "c1", "x") == NOPERM_KEY


def test_a_key_refusal_beats_a_command_refusal(h: Any) -> None:
    other = user(h, "(+get ~a*)", "(+set ~b*)")
    assert other.error("SET", "a1", "x") == NOPERM_KEY
    assert other.error("DEL", "a1") == noperm_cmd("del")
    assert log_entries(h)[:2] == [
        {
            b"count": 1,
            b"reason": b"command",
            b"context": b"toplevel",
            b"object": b"del",
            b"username": b"u",
        },
        {
            b"count": 1,
            b"reason": b"key",
            b"context": b"toplevel",
            b"object": b"a1",
            b"username": b"u",
        },
    ]


def test_changes_apply_to_connected_clients_at_once(h: Any) -> None:
    other = user(h, "+@all", "~*")
    assert other("GET", "k") is None
    h("ACL", "SETUSER", "u", "-get")
    assert other.error("GET", "k") == noperm_cmd("get")
    h("ACL", "SETUSER", "default", "-get")
    try:
        assert h.error("GET", "k") == noperm_cmd("get")
    finally:
        h("ACL", "SETUSER", "default", "+get")
    assert h("GET", "k") is None


def test_eval_keys_are_checked(h: Any) -> None:
    other = user(h, "~k*", "+eval")
    assert other.error("EVAL", "return 1", "1", "other") == NOPERM_KEY
    assert other("EVAL", "return 1", "1", "k1") == 1


# --- MULTI / EXEC -----------------------------------------------------------------------
def test_multi_checks_at_queue_time(h: Any) -> None:
    other = user(h, "~k*", "+get", "+set", "+multi", "+exec")
    assert other("MULTI") == b"OK"
    assert other("GET", "k1") == b"QUEUED"
    assert other.error("DEL", "k1") == noperm_cmd("del")
    assert other.error("GET", "x") == NOPERM_KEY
    assert other.error("EXEC") == ("EXECABORT Transaction discarded because of previous errors.")
    contexts = [(e[b"object"], e[b"context"]) for e in log_entries(h)]
    assert contexts == [(b"x", b"multi"), (b"del", b"multi")]


def test_exec_without_permission_aborts_the_transaction(h: Any) -> None:
    other = user(h, "~k*", "+get", "+multi")
    denied = (
        "EXECABORT Transaction discarded because of: NOPERM this user has no "
        "permissions to run the 'exec' command"
    )
    assert other.error("EXEC") == denied
    assert other("MULTI") == b"OK"
    assert other("GET", "k1") == b"QUEUED"
    assert other.error("EXEC") == denied
    assert other("MULTI") == b"OK"  # the transaction is gone
    assert [(e[b"object"], e[b"context"], e[b"count"]) for e in log_entries(h)] == [
        (b"exec", b"multi", 1),
        (b"exec", b"toplevel", 1),
    ]


def test_exec_checks_again(h: Any) -> None:
    other = user(h, "~k*", "+@all")
    assert other("MULTI") == b"OK"
    assert other("SET", "k1", "v") == b"QUEUED"
    assert other("GET", "k1") == b"QUEUED"
    assert other("GET", "k2") == b"QUEUED"
    h("ACL", "SETUSER", "u", "-set", "resetkeys", "~k1")
    reply = other("EXEC")
    assert [str(r) for r in reply] == [
        "NOPERM ACLs rules changed between the moment the transaction was accumulated and "
        "the EXEC call. This command is no longer allowed for the following reason: no "
        "permission to execute the command or subcommand",
        "None",
        "NOPERM ACLs rules changed between the moment the transaction was accumulated and "
        "the EXEC call. This command is no longer allowed for the following reason: no "
        "permission to touch the specified keys",
    ]
    assert [(e[b"object"], e[b"context"]) for e in log_entries(h)] == [
        (b"k2", b"multi"),
        (b"set", b"multi"),
    ]


# --- ACL LOG ----------------------------------------------------------------------------
def test_log_entries(h: Any) -> None:
    other = user(h, "~k*", "&c", "+get", "+publish")
    other.error("DEL", "k")
    other.error("DEL", "k")
    other.error("GET", "x")
    other.error("PUBLISH", "x", "m")
    h.client_harness().error("AUTH", "nosuch", "pw")
    h.client_harness().error("auth", "u", "wrong")
    assert log_entries(h) == [
        {
            b"count": 1,
            b"reason": b"auth",
            b"context": b"toplevel",
            b"object": b"auth",
            b"username": b"u",
        },
        {
            b"count": 1,
            b"reason": b"auth",
            b"context": b"toplevel",
            b"object": b"AUTH",
            b"username": b"nosuch",
        },
        {
            b"count": 1,
            b"reason": b"channel",
            b"context": b"toplevel",
            b"object": b"x",
            b"username": b"u",
        },
        {
            b"count": 1,
            b"reason": b"key",
            b"context": b"toplevel",
            b"object": b"x",
            b"username": b"u",
        },
        {
            b"count": 2,
            b"reason": b"command",
            b"context": b"toplevel",
            b"object": b"del",
            b"username": b"u",
        },
    ]
    assert len(log_entries(h, 2)) == 2
    assert log_entries(h, -5) == []
    assert log_entries(h, 0) == []
    # A repeated refusal moves its entry back to the front.
    other.error("DEL", "k")
    assert log_entries(h, 1)[0][b"count"] == 3
    assert h("ACL", "LOG", "RESET") == b"OK"
    assert h("ACL", "LOG") == []


def test_auth_refused_inside_a_transaction_is_logged_as_multi(h: Any) -> None:
    assert h("MULTI") == b"OK"
    assert h("AUTH", "nosuch", "x") == b"QUEUED"
    assert [str(r) for r in h("EXEC")] == [WRONGPASS]
    assert log_entries(h) == [
        {
            b"count": 1,
            b"reason": b"auth",
            b"context": b"multi",
            b"object": b"AUTH",
            b"username": b"nosuch",
        }
    ]


def test_log_client_info_and_age(h: Any) -> None:
    other = user(h)
    other.error("GET", "k")
    entry = h("ACL", "LOG")[0]
    assert entry[10] == b"age-seconds"
    info = entry[13]
    assert info.startswith(b"id=") and b" cmd=get user=u " in info
    assert not info.endswith(b"\n")


def test_log_keeps_acllog_max_len_entries(h: Any) -> None:
    h("CONFIG", "SET", "acllog-max-len", "2")
    other = user(h, "~*")
    for name in ("get", "del", "lpush"):
        other.error(name.upper(), "k", *(["v"] if name == "lpush" else []))
    assert [e[b"object"] for e in log_entries(h)] == [b"lpush", b"del"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["abc"], "ERR value is not an integer or out of range"),
        (
            ["1", "2"],
            "ERR unknown subcommand or wrong number of arguments for 'LOG'. Try ACL HELP.",
        ),
    ],
)
def test_log_errors(h: Any, args: list[str], message: str) -> None:
    assert h.error("ACL", "LOG", *args) == message


@engine_only
def test_log_entries_group_within_a_minute() -> None:
    h = Harness()
    other = user(h)
    other.error("GET", "k")
    h.advance(60000)
    other.error("GET", "k")
    assert h("ACL", "LOG")[0][1] == 2
    h.advance(60001)
    other.error("GET", "k")
    assert [e[1] for e in h("ACL", "LOG")] == [1, 2]
    assert h("ACL", "LOG", "1")[0][11] == b"0"
    h.advance(1500)
    assert h("ACL", "LOG", "1")[0][11] == b"1.5"


# --- DRYRUN, CAT, GENPASS, DELUSER, WHOAMI, HELP ------------------------------------------
def test_dryrun(h: Any) -> None:
    h("ACL", "SETUSER", "u", "~k*", "&ch", "+get", "+publish")
    assert h("ACL", "DRYRUN", "u", "get", "k1") == b"OK"
    assert (
        h("ACL", "DRYRUN", "u", "GET", "zz")
        == b"This user has no permissions to access the 'zz' key"
    )
    assert h("ACL", "DRYRUN", "u", "del", "zz") == (
        b"This user has no permissions to run the 'del' command"
    )
    assert h("ACL", "DRYRUN", "u", "publish", "x", "m") == (
        b"This user has no permissions to access the 'x' channel"
    )
    assert h("ACL", "DRYRUN", "u", "config", "get", "x") == (
        b"This user has no permissions to run the 'config|get' command"
    )
    assert h("ACL", "LOG") == []  # dry runs are not logged


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nosuch", "get", "x"], "ERR User 'nosuch' not found"),
        (["u", "nosuchcmd", "x"], "ERR Command 'nosuchcmd' not found"),
        (["u", "config", "nosuch"], "ERR Command 'config' not found"),
        (["u", "client|id"], "ERR Command 'client|id' not found"),
        (["u", "get"], "ERR wrong number of arguments for 'get' command"),
        (["u", "config", "get"], "ERR wrong number of arguments for 'config|get' command"),
        (["u", "config"], "ERR wrong number of arguments for 'config' command"),
        (["u"], "ERR wrong number of arguments for 'acl|dryrun' command"),
    ],
)
def test_dryrun_errors(h: Any, args: list[str], message: str) -> None:
    h("ACL", "SETUSER", "u")
    assert h.error("ACL", "DRYRUN", *args) == message


def test_cat(h: Any) -> None:
    assert h("ACL", "CAT") == [
        b"keyspace",
        b"read",
        b"write",
        b"set",
        b"sortedset",
        b"list",
        b"hash",
        b"string",
        b"bitmap",
        b"hyperloglog",
        b"geo",
        b"stream",
        b"pubsub",
        b"admin",
        b"fast",
        b"slow",
        b"blocking",
        b"dangerous",
        b"connection",
        b"transaction",
        b"scripting",
    ]
    assert sorted(h("ACL", "CAT", "HyperLogLog")) == [
        b"pfadd",
        b"pfcount",
        b"pfdebug",
        b"pfmerge",
        b"pfselftest",
    ]
    connection = h("ACL", "CAT", "connection")
    assert b"client|id" in connection and b"auth" in connection and b"client" not in connection
    assert h.error("ACL", "CAT", "nosuch") == "ERR Unknown category 'nosuch'"
    assert h.error("ACL", "CAT", "a", "b") == (
        "ERR unknown subcommand or wrong number of arguments for 'CAT'. Try ACL HELP."
    )


def test_genpass(h: Any) -> None:
    default = h("ACL", "GENPASS")
    assert len(default) == 64 and int(default, 16) >= 0
    assert len(h("ACL", "GENPASS", "1")) == 1
    assert len(h("ACL", "GENPASS", "5")) == 2
    assert len(h("ACL", "GENPASS", "4096")) == 1024
    assert h("ACL", "GENPASS") != default
    limit = (
        "ERR ACL GENPASS argument must be the number of bits for the output password, "
        "a positive number up to 4096"
    )
    assert h.error("ACL", "GENPASS", "0") == limit
    assert h.error("ACL", "GENPASS", "4097") == limit
    assert h.error("ACL", "GENPASS", "abc") == "ERR value is not an integer or out of range"
    assert h.error("ACL", "GENPASS", "4", "5") == (
        "ERR unknown subcommand or wrong number of arguments for 'GENPASS'. Try ACL HELP."
    )


def test_deluser(h: Any) -> None:
    h("ACL", "SETUSER", "a")
    h("ACL", "SETUSER", "b")
    assert h.error("ACL", "DELUSER", "a", "default") == ("ERR The 'default' user cannot be removed")
    assert h("ACL", "USERS") == [b"a", b"b", b"default"]
    assert h("ACL", "DELUSER", "a", "nosuch", "a") == 1
    assert h("ACL", "USERS") == [b"b", b"default"]


def test_help_and_subcommand_errors(h: Any) -> None:
    lines = h("ACL", "HELP")
    assert lines[0] == b"ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    assert lines[1] == b"CAT [<category>]" and lines[-1] == b"    Prints this help."
    assert len(lines) == 29
    assert h.error("ACL", "NOSUCH") == "ERR unknown subcommand 'NOSUCH'. Try ACL HELP."
    assert h.error("ACL") == "ERR wrong number of arguments for 'acl' command"
    assert h.error("ACL", "WHOAMI", "x") == (
        "ERR wrong number of arguments for 'acl|whoami' command"
    )


def test_load_and_save_need_an_aclfile(h: Any) -> None:
    assert h.error("ACL", "LOAD") == NOT_CONFIGURED
    assert h.error("ACL", "SAVE") == NOT_CONFIGURED


# --- disconnections (the engine's view) ---------------------------------------------------
@engine_only
def test_deleting_a_user_disconnects_its_clients() -> None:
    h = Harness()
    other = user(h, "+@all")
    bystander = h.client_harness()
    assert h("ACL", "DELUSER", "u") == 1
    assert h.engine.clients_to_close == [other.client]
    assert other.client.id not in h.engine.clients
    assert other.client.user is h.engine.acl.default and not other.client.authenticated
    assert bystander.client.id in h.engine.clients


@engine_only
def test_deleting_your_own_user_closes_after_the_reply() -> None:
    h = Harness()
    me = user(h, "+@all")
    assert me("ACL", "DELUSER", "u") == 1
    assert me.client.close_after_reply
    assert h.engine.clients_to_close == []


@engine_only
def test_losing_a_channel_disconnects_its_subscribers() -> None:
    h = Harness()
    sub = user(h, "&ch1", "&ch2", "&p*", "+@all")
    sub("SUBSCRIBE", "ch1")
    psub = h.client_harness()
    psub("AUTH", "u", "pw")
    psub("PSUBSCRIBE", "p*")
    h("ACL", "SETUSER", "u", "resetchannels", "&ch1", "&p*", "&ch3")  # ch2 unused: no kill
    assert h.engine.clients_to_close == []
    h("ACL", "SETUSER", "u", "resetchannels", "&ch*", "&p1")  # the pattern is gone
    assert h.engine.clients_to_close == [psub.client]
    h("ACL", "SETUSER", "u", "resetchannels", "&other")
    assert h.engine.clients_to_close == [psub.client, sub.client]


@engine_only
def test_full_access_flag_follows_the_rules() -> None:
    h = Harness()
    assert h.client.full_access
    h("ACL", "SETUSER", "default", "-get")
    assert not h.client.full_access
    h("ACL", "SETUSER", "default", "+@all")
    assert h.client.full_access
    h("ACL", "SETUSER", "default", "resetchannels")
    assert not h.client.full_access
    h("ACL", "SETUSER", "default", "allchannels")
    other = user(h, "+@all", "~*", "&*")
    assert other.client.full_access
    h("CONFIG", "SET", "requirepass", "x")
    late = h.client_harness()
    assert not late.client.full_access and h.client.full_access
    assert late("AUTH", "x") == b"OK" and late.client.full_access


# --- the ACL file, `user` directives and the script hook (engine) --------------------------
class Files:
    """In-memory stand-ins for the shell's read_file/write_file."""

    def __init__(self) -> None:
        self.files: dict[str, str] = {}

    def read(self, path: str) -> str:
        if path not in self.files:
            raise FileNotFoundError(2, "No such file or directory")
        return self.files[path]

    def write(self, path: str, text: str) -> None:
        if path.startswith("/readonly/"):
            raise PermissionError(13, "Permission denied")
        self.files[path] = text


def with_aclfile(path: str = "/acl/users.acl") -> tuple[Harness, Files]:
    h = Harness(aclfile=path)
    files = Files()
    h.engine.acl.read_file = files.read
    h.engine.acl.write_file = files.write
    return h, files


@engine_only
def test_save_then_load() -> None:
    h, files = with_aclfile()
    h("ACL", "SETUSER", "alice", "on", ">pw", "~a*", "&c", "+@string", "(+get ~x)")
    assert h("ACL", "SAVE") == b"OK"
    text = files.files["/acl/users.acl"]
    assert text == (
        "user alice on #" + sha("pw").decode() + " ~a* resetchannels &c -@all "
        "+@string (~x resetchannels -@all +get)\n" + DEFAULT_LINE.decode() + "\n"
    )
    h("ACL", "SETUSER", "bob")
    h("ACL", "SETUSER", "default", ">secret")
    assert h("ACL", "LOAD") == b"OK"
    assert h("ACL", "USERS") == [b"alice", b"default"]
    assert h("ACL", "LIST")[0] == text.splitlines()[0].encode()
    assert h("ACL", "LIST")[1] == DEFAULT_LINE


@engine_only
def test_load_without_a_default_user_recreates_it() -> None:
    h, files = with_aclfile()
    h("CONFIG", "SET", "requirepass", "secret")
    files.files["/acl/users.acl"] = "\n  user a on\r\n\nuser b  on\n"  # "" is no rule
    assert h("ACL", "LOAD") == b"OK"
    assert h("ACL", "USERS") == [b"a", b"b", b"default"]
    assert h("ACL", "LIST")[2] == DEFAULT_LINE  # not even requirepass is kept


@engine_only
def test_load_errors_change_nothing() -> None:
    h, files = with_aclfile()
    files.files["/acl/users.acl"] = (
        "user a on +nosuch\nnot a user line\nuser a\nuser b (~x\nuser c ~a%b %X~\n"
    )
    assert h.error("ACL", "LOAD") == (
        "ERR /acl/users.acl:1: Error in applying operation '+nosuch': Unknown command or "
        "category name in ACL. /acl/users.acl:2 "
        "should start with user keyword followed by the username. WARNING: Duplicate user "
        "'a' found on line 3. /acl/users.acl:4: Unmatched parenthesis in selector "
        "definition./acl/users.acl:5: Syntax error. WARNING: ACL errors detected, no change "
        "to the previously active ACL rules was performed"
    )
    assert h("ACL", "USERS") == [b"default"]
    h.engine.config.values["aclfile"] = "/acl/missing.acl"
    assert h.error("ACL", "LOAD") == (
        "ERR Error loading ACLs, opening file '/acl/missing.acl': No such file or directory"
    )


@engine_only
def test_load_disconnects_the_old_users_clients() -> None:
    h, files = with_aclfile()
    files.files["/acl/users.acl"] = "user u on >pw +@all\nuser default on nopass +@all ~*\n"
    other = user(h, "+@all")
    assert h("ACL", "LOAD") == b"OK"
    assert h.engine.clients_to_close == [other.client]
    assert not h.client.full_access  # the new default user has no channels
    assert h.error("PUBLISH", "c", "m") == NOPERM_CHANNEL


@engine_only
def test_save_failure() -> None:
    h, _ = with_aclfile("/readonly/users.acl")
    logged: list[str] = []
    h.engine.log = lambda level, message: logged.append(message)
    assert h.error("ACL", "SAVE") == (
        "ERR There was an error trying to save the ACLs. Please check the server logs for "
        "more information"
    )
    assert logged == ["Writing ACL file for ACL SAVE: Permission denied"]


def engine_with_users(*lines: str, aclfile: str = "") -> tuple[Harness, Files]:
    engine = make_engine()
    engine.config.users = [line.split() for line in lines]
    engine.config.values["aclfile"] = aclfile
    files = Files()
    engine.acl.read_file = files.read
    return Harness(engine), files


@engine_only
def test_user_directives_at_startup() -> None:
    h, _ = engine_with_users("alice on >pw ~* +@all", "default off")
    h.engine.acl.load_at_startup()
    assert h.engine.acl.config_lines() == [
        b"user alice on #" + sha("pw") + b" ~* resetchannels +@all",
        b"user default off sanitize-payload resetchannels -@all",
    ]


@pytest.mark.parametrize(
    ("lines", "aclfile", "message"),
    [
        (
            ["a on", "a off"],
            "",
            "Error in user declaration 'a': Duplicate user found. A user can "
            "only be defined once in config files",
        ),
        (
            ["a +nosuch"],
            "",
            "Error loading ACL rule '+nosuch' for the user named 'a': Unknown "
            "command or category name in ACL",
        ),
        (
            ["a on"],
            "/x.acl",
            "Configuring Redis with users defined in redis.conf and at the same "
            "setting an ACL file path is invalid. This setup is very likely to "
            "lead to configuration errors and security holes, please define "
            "either an ACL file or declare users directly in your redis.conf, "
            "but not both.",
        ),
        (
            [],
            "/x.acl",
            "Aborting Redis startup because of ACL errors: Error loading ACLs, opening "
            "file '/x.acl': No such file or directory",
        ),
    ],
)
@engine_only
def test_user_directive_errors(lines: list[str], aclfile: str, message: str) -> None:
    h, _ = engine_with_users(*lines, aclfile=aclfile)
    with pytest.raises(RuleError) as caught:
        h.engine.acl.load_at_startup()
    assert str(caught.value) == message


@engine_only
def test_the_hook_for_scripts() -> None:
    h = Harness()
    other = user(h, "~k*", "+get")
    acl = h.engine.acl
    get = h.engine.table.get(b"get")
    assert get is not None
    assert acl.denied(other.client, get, [b"get", b"k1"]) is None
    assert acl.denied(other.client, get, [b"get", b"x"]) == (
        "can't access at least one of the keys mentioned in the command arguments"
    )
    assert h("ACL", "LOG") == []
    assert (
        acl.denied(other.client, get, [b"get", b"x"], context=LUA, caller=other.client) is not None
    )
    assert [(e[b"object"], e[b"context"]) for e in log_entries(h)] == [(b"x", b"lua")]
