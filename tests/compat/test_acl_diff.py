"""ACL and AUTH against a real redis-server, reply bytes compared.

What cannot be byte-equal is compared by shape:
- Redis lists the single commands of a rule description in its hash-table order, which
  changes from run to run: descriptions are compared as (leading categories in order, set
  of single commands).
- ACL LOG's client-info and age-seconds depend on the connection and the clock.
- GENPASS is random.
The permission matrix compares ACL DRYRUN's verdicts (they name the command, key or channel
at fault) for many requests against users built from random rules, and real connections
compare the NOPERM replies themselves. Every test removes its users and restores the
default user on both servers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.compat.conftest import Differ
from tests.procs import ServerProcess
from tests.rawclient import RawClient, split_aggregate
from tests.support import decode

pytestmark = pytest.mark.interop

Reply = bytes


class Pair:
    """Opens more connection pairs (slotd, redis) to the session servers."""

    def __init__(self, slotd: ServerProcess, redis: ServerProcess) -> None:
        self.slotd, self.redis = slotd, redis
        self.opened: list[RawClient] = []

    def connect(self) -> Differ:
        ours, theirs = RawClient(*self.slotd.addr), RawClient(*self.redis.addr)
        self.opened += [ours, theirs]
        return Differ(ours, theirs)

    def close(self) -> None:
        for client in self.opened:
            client.close()


def _restore(admin: Differ) -> None:
    for reply in admin.both("ACL", "USERS"):
        for name in decode(reply):
            if name != b"default":
                admin.both("ACL", "DELUSER", name)
    admin.both("CONFIG", "SET", "requirepass", "")
    admin.both("ACL", "SETUSER", "default", "clearselectors", "on", "nopass", "~*", "&*", "+@all")
    admin.both("CONFIG", "SET", "acl-pubsub-default", "resetchannels")
    admin.both("ACL", "LOG", "RESET")


@pytest.fixture
def pair(diff: Differ, slotd_proc: ServerProcess, redis_proc: ServerProcess) -> Iterator[Pair]:
    made = Pair(slotd_proc, redis_proc)
    _restore(diff)
    yield made
    made.close()
    _restore(diff)


class Known:
    """The commands both servers have (slotd does not implement every Redis command yet;
    a description may name those only on one side)."""

    names: frozenset[bytes] = frozenset()

    @classmethod
    def load(cls, diff: Differ) -> None:
        if not cls.names:
            ours, theirs = (set(decode(r)) for r in diff.both("COMMAND", "LIST"))
            cls.names = frozenset(ours & theirs)

    @classmethod
    def keep(cls, rule: bytes) -> bool:
        name = rule[1:]
        base = name.split(b"|")[0]
        containers = {n.split(b"|")[0] for n in cls.names if b"|" in n}
        # `+select|0` (a first argument) names a command without subcommands.
        return name in cls.names or (base in cls.names and base not in containers)


def described(text: bytes) -> tuple[list[bytes], frozenset[bytes]]:
    words = text.split()
    head = [w for w in words if w[1:2] == b"@"]
    return head, frozenset(w for w in words[len(head) :] if Known.keep(w))


def same_user(diff: Differ, name: str, *, commands: bool = True) -> None:
    """ACL GETUSER on both: equal, the command descriptions compared by shape (or not at
    all: near a tie, the best-fit categories still depend on the Redis commands slotd has
    not implemented yet)."""
    Known.load(diff)
    ours, theirs = (decode(r) for r in diff.both("ACL", "GETUSER", name))
    if ours is None or theirs is None:
        assert ours == theirs
        return

    def shaped(reply: list[object]) -> list[object]:
        out: list[object] = []
        for key, value in zip(reply[::2], reply[1::2], strict=True):
            if key == b"commands":
                assert isinstance(value, bytes)
                value = described(value) if commands else None
            elif key == b"selectors":
                assert isinstance(value, list)
                value = [shaped(s) for s in value]
            out += [key, value]
        return out

    assert shaped(ours) == shaped(theirs), name


def same_list(diff: Differ) -> None:
    """ACL LIST on both: each line's root part and " (...)" selectors compared as (what
    precedes the command rules, their description by shape)."""
    Known.load(diff)
    ours, theirs = (decode(r) for r in diff.both("ACL", "LIST"))

    def shaped(line: bytes) -> list[object]:
        out: list[object] = []
        for part in line.split(b" ("):
            words = part.rstrip(b")").split(b" ")
            start = next(i for i, w in enumerate(words) if w in (b"+@all", b"-@all"))
            out.append((words[:start], described(b" ".join(words[start:]))))
        return out

    assert [shaped(x) for x in ours] == [shaped(x) for x in theirs]


# --- rules and their descriptions --------------------------------------------------------
RULE_SETS = [
    [],
    ["on", ">pw", "~k*", "&c", "+get"],
    ["on", "nopass", "allkeys", "allchannels", "allcommands"],
    ["%R~r*", "%W~w*", "%RW~rw*", "%R~x", "%W~x", "~", "%R"],
    ["&a", "&b*", "&a", "resetchannels", "&c"],
    [">a", ">b", "<a", "#" + "0" * 64, "!" + "0" * 64],
    ["+@all", "-@dangerous"],
    ["+@all", "-@write", "+set"],
    ["-@all", "+@read", "-@keyspace"],
    ["+@string", "-set", "+@geo", "+@hyperloglog"],
    ["+@all", "-@hyperloglog", "-@transaction", "-get"],
    ["+select|0", "+select|1", "+config|get", "+acl", "-acl|log"],
    ["+select|0", "+select"],
    ["(+get ~x)", "(", "+set", "~y", ")", "(~a &b +@all allkeys)"],
    ["(+get ~x)", "clearselectors", "(+@read %R~r*)"],
    ["on", "skip-sanitize-payload", "sanitize-payload", "reset"],
    ["on", ">pw", "~k", "&c", "+@all", "(+get ~x)", "reset"],
    # Errors: the whole SETUSER is refused.
    ["+get", "+nosuch"],
    ["~k", "allkeys", "~other"],
    ["allchannels", "&x"],
    ["%~x"],
    ["%"],
    ["%RWR~x"],
    ["~a b"],
    ["+get|"],
    ["+config|get|x"],
    ["-select|0"],
    ["#abc"],
    ["<nope"],
    ["(on)"],
    ["(~x"],
    ["(~x", "(y", "z)"],
    ["(~x)", ")"],
    ["garbage"],
    ["+@nosuch"],
]


@pytest.mark.parametrize("rules", RULE_SETS, ids=lambda r: " ".join(r) or "-")
def test_setuser_then_describe(diff: Differ, pair: Pair, rules: list[str]) -> None:
    diff("ACL", "SETUSER", "u", *rules)
    same_user(diff, "u")
    # The same rules applied to an existing user.
    diff("ACL", "SETUSER", "v", "on", "+@all", "~*")
    diff("ACL", "SETUSER", "v", *rules)
    same_user(diff, "v")
    same_list(diff)
    diff("ACL", "USERS")


def test_setuser_errors(diff: Differ, pair: Pair) -> None:
    diff("ACL", "SETUSER", "bad user")
    diff("ACL", "SETUSER", b"nul\0l")
    diff("ACL", "SETUSER")
    diff("ACL", "GETUSER", "nosuch")
    diff("ACL", "DELUSER", "default")
    diff("ACL", "DELUSER", "nosuch", "x")


def test_acl_pubsub_default(diff: Differ, pair: Pair) -> None:
    diff("CONFIG", "SET", "acl-pubsub-default", "allchannels")
    diff("ACL", "SETUSER", "u", "(~x)")
    diff("ACL", "SETUSER", "w", "&x")
    diff("ACL", "SETUSER", "v", "resetchannels", "&x", "reset")
    for name in ("u", "v", "w"):
        same_user(diff, name)


# --- the permission matrix ---------------------------------------------------------------
REQUESTS: list[tuple[str, ...]] = [
    ("get", "k1"),
    ("get", "x"),
    ("get", ""),
    ("set", "k1", "v"),
    ("set", "w1", "v"),
    ("set", "w1", "v", "GET"),
    ("set", "r1", "v"),
    ("mset", "w1", "a", "r2", "b"),
    ("exists", "w1"),
    ("copy", "r1", "w1"),
    ("copy", "w1", "r1"),
    ("lmove", "r1", "w1", "LEFT", "RIGHT"),
    ("sort", "r1", "STORE", "w1"),
    ("sort", "r1", "BY", "w*"),
    ("getdel", "rw1"),
    ("getex", "r1"),
    ("incr", "w1"),
    ("del", "r1", "w1"),
    ("rename", "rw1", "rw2"),
    ("zunionstore", "w1", "2", "r1", "r2"),
    ("xread", "STREAMS", "r1", "0"),
    ("eval", "return 1", "1", "k1"),
    ("publish", "c", "m"),
    ("publish", "x", "m"),
    ("spublish", "c1", "m"),
    ("subscribe", "c", "x"),
    ("psubscribe", "c*"),
    ("psubscribe", "c"),
    ("unsubscribe", "x"),
    ("ssubscribe", "c"),
    ("select", "0"),
    ("select", "1"),
    ("config", "get", "x"),
    ("config", "set", "x", "y"),
    ("client", "id"),
    ("client", "kill", "ID", "1"),
    ("acl", "whoami"),
    ("acl", "log"),
    ("auth", "a", "b"),
    ("hello",),
    ("ping",),
    ("multi",),
    ("exec",),
    ("flushall",),
    ("debug", "sleep", "0"),
    ("keys", "*"),
    ("scan", "0"),
    ("info",),
]


def same_matrix(diff: Differ, name: str) -> None:
    for request in REQUESTS:
        diff("ACL", "DRYRUN", name, *request)


@pytest.mark.parametrize(
    "rules",
    [
        ["~k*", "&c", "+get", "+publish"],
        ["%R~r*", "%W~w*", "~rw*", "&c*", "+@all"],
        ["+@all", "-@dangerous", "~*", "&*"],
        ["+@read", "+@pubsub", "%R~*", "&c"],
        ["+select|0", "+config|get", "+client", "-client|kill", "~k*"],
        ["+get", "~a*", "(+set ~w*)", "(+@all %R~r*)", "(&c +@pubsub)"],
        ["(+get ~x*)", "(+set ~w*)", "(+del ~r*)"],
        ["nocommands", "allkeys", "allchannels"],
    ],
)
def test_permission_matrix(diff: Differ, pair: Pair, rules: list[str]) -> None:
    diff("ACL", "SETUSER", "u", *rules)
    same_matrix(diff, "u")


def test_dryrun_errors(diff: Differ, pair: Pair) -> None:
    diff("ACL", "SETUSER", "u")
    for args in (
        ("nosuch", "get", "x"),
        ("u", "nosuchcmd"),
        ("u", "config", "nosuch"),
        ("u", "client|id"),
        ("u", "get"),
        ("u", "config", "get"),
        ("u", "config"),
        ("u",),
    ):
        diff("ACL", "DRYRUN", *args)


_WORDS = st.sampled_from(
    [
        "on",
        "off",
        "nopass",
        ">pw",
        "resetpass",
        "allkeys",
        "resetkeys",
        "allchannels",
        "resetchannels",
        "allcommands",
        "nocommands",
        "reset",
        "clearselectors",
        "~k*",
        "~r*",
        "%R~r*",
        "%W~w*",
        "%RW~x",
        "~*",
        "&c",
        "&c*",
        "&*",
        "+get",
        "-get",
        "+set",
        "-set",
        "+del",
        "+@read",
        "-@read",
        "+@write",
        "-@write",
        "+@string",
        "-@string",
        "+@all",
        "-@all",
        "+@keyspace",
        "-@dangerous",
        "+@pubsub",
        "-@pubsub",
        "+config|get",
        "-config",
        "+client",
        "-client|kill",
        "+select|0",
        "+publish",
        "(+get ~x*)",
        "(+@all %R~r*)",
        "(+set ~w* &c)",
        "+nosuch",
        "~a b",
    ]
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rules=st.lists(_WORDS, max_size=8))
def test_random_rules(diff: Differ, pair: Pair, rules: list[str]) -> None:
    if diff("ACL", "SETUSER", "r", *rules) == b"+OK\r\n":
        same_user(diff, "r", commands=False)  # the matrix compares what they allow
        same_matrix(diff, "r")
    diff("ACL", "DELUSER", "r")


# --- over real connections ---------------------------------------------------------------
def authed(pair: Pair, diff: Differ, *rules: str) -> Differ:
    diff("ACL", "SETUSER", "u", "on", ">pw", *rules)
    conn = pair.connect()
    conn("AUTH", "u", "pw")
    return conn


def test_auth_flows(diff: Differ, pair: Pair) -> None:
    diff("ACL", "SETUSER", "u", "on", ">pw", "+@all", "~*")
    diff("ACL", "SETUSER", "off", "off", ">pw", "+@all")
    diff("ACL", "SETUSER", "free", "on", "nopass", "+acl|whoami")
    conn = pair.connect()
    for args in (
        ("u", "wrong"),
        ("nosuch", "pw"),
        ("off", "pw"),
        ("u", "pw"),
        ("u", "x"),
        ("free", "anything"),
        ("a", "b", "c"),
        ("pw",),
    ):
        conn("AUTH", *args)
        conn("ACL", "WHOAMI")
    conn("HELLO", "2", "AUTH", "u", "wrong")
    ours, theirs = conn.both("HELLO", "2", "AUTH", "u", "pw", "SETNAME", "x")
    assert ours.split(b":")[:2] == theirs.split(b":")[:2]  # all but the client id
    assert ours.split(b"$4\r\nmode")[1] == theirs.split(b"$4\r\nmode")[1]
    conn("ACL", "WHOAMI")
    conn("RESET")
    conn("ACL", "WHOAMI")


def test_requirepass_and_the_default_user(diff: Differ, pair: Pair) -> None:
    diff("CONFIG", "SET", "requirepass", "secret")
    same_user(diff, "default")
    conn = pair.connect()
    conn("PING")
    conn("HELLO", "2")
    conn("AUTH", "wrong")
    conn("AUTH", "secret")
    conn("PING")
    late = pair.connect()
    diff("CONFIG", "SET", "requirepass", "")
    late("PING")
    late("HELLO", "2")  # HELLO wants a client that authenticated, not just an open door
    diff("ACL", "SETUSER", "default", "off")
    pair.connect()("PING")
    diff("ACL", "SETUSER", "default", "on")


def test_noperm_replies(diff: Differ, pair: Pair) -> None:
    conn = authed(
        pair, diff, "%R~r*", "%W~w*", "&c*", "+@all", "-del", "-config|set", "-select", "+select|0"
    )
    for request in (
        ("GET", "r1"),
        ("GET", "w1"),
        ("SET", "w1", "v"),
        ("DEL", "w1"),
        ("CONFIG", "SET", "maxmemory", "0"),
        ("CONFIG", "GET", "maxmemory"),
        ("SELECT", "0"),
        ("SELECT", "1"),
        ("PUBLISH", "x", "m"),
        ("PUBLISH", "c1", "m"),
        ("NOSUCH",),
        ("GET",),
        ("CONFIG", "NOSUCH"),
        ("EVAL", "return 1", "1", "w1"),
        ("EVAL", "return 1", "1", "r1"),
        # Inside scripts: the key, command and channel checks of scriptCall.
        ("EVAL", "return redis.call('get', KEYS[1])", "1", "w1"),
        ("EVAL", "return redis.call('set', KEYS[1], 'v')", "1", "r1"),
        ("EVAL", "return redis.call('del', 'w1')", "0"),
        ("EVAL", "return redis.pcall('config', 'set', 'hz', '10')", "0"),
        ("EVAL", "return redis.call('publish', 'x', 'm')", "0"),
        ("EVAL", "return redis.call('publish', 'c2', 'm')", "0"),
        ("EVAL", "return redis.call('get', 'r1')", "0"),
        ("SUBSCRIBE", "x"),
        ("PSUBSCRIBE", "c*"),
        ("PSUBSCRIBE", "*"),
        ("SSUBSCRIBE", "x"),
    ):
        conn(*request)
    masked = re.compile(rb"(age-seconds|client-info)\r\n\$\d+\r\n[^\r]*\r\n")
    ours, theirs = diff.both("ACL", "LOG")
    assert masked.sub(b"", ours) == masked.sub(b"", theirs)


def test_transactions(diff: Differ, pair: Pair) -> None:
    conn = authed(pair, diff, "~k*", "+get", "+set", "+multi", "+discard")
    conn("EXEC")
    conn("MULTI")
    conn("GET", "k1")
    conn("DEL", "k1")
    conn("GET", "x")
    conn("EXEC")
    conn("DISCARD")
    diff("ACL", "SETUSER", "u", "+exec")
    conn("MULTI")
    conn("SET", "k1", "v")
    conn("GET", "k1")
    conn("GET", "k2")
    diff("ACL", "SETUSER", "u", "-set", "resetkeys", "~k1")
    conn("EXEC")


def test_acl_log(diff: Differ, pair: Pair) -> None:
    conn = authed(pair, diff, "~k*", "&c", "+get", "+publish", "+multi")
    for request in (
        ("DEL", "k"),
        ("DEL", "k"),
        ("GET", "x"),
        ("PUBLISH", "x", "m"),
        ("MULTI",),
        ("GET", "y"),
        ("DEL", "k"),
    ):
        conn(*request)
    pair.connect()("AUTH", "u", "wrong")
    pair.connect()("auth", "nosuch", "x")

    def masked(reply: Reply) -> list[object]:
        entries = decode(reply)
        assert isinstance(entries, list)
        return [[v for i, v in enumerate(e) if i not in (11, 13)] for e in entries]

    for args in ((), ("3",), ("0",), ("-1",)):
        ours, theirs = diff.both("ACL", "LOG", *args)
        assert masked(ours) == masked(theirs)
        assert split_aggregate(ours)[0] == split_aggregate(theirs)[0]
    for args in (("abc",), ("1", "2")):
        diff("ACL", "LOG", *args)
    diff("ACL", "LOG", "RESET")
    diff("ACL", "LOG")


def test_categories_hold_the_same_commands(diff: Differ) -> None:
    """ACL CAT <category> for every category, as sets (Redis lists them in hash-table
    order) over the commands both servers have."""
    Known.load(diff)
    for category in decode(diff("ACL", "CAT")):
        ours, theirs = (set(decode(r)) & Known.names for r in diff.both("ACL", "CAT", category))
        assert ours == theirs, category


def test_other_subcommands(diff: Differ, pair: Pair) -> None:
    diff("ACL", "CAT")
    for category in ("nosuch", "a b"):
        diff("ACL", "CAT", category)
    diff("ACL", "CAT", "a", "b")
    for bits in ("0", "4097", "abc", "-1"):
        diff("ACL", "GENPASS", bits)
    diff("ACL", "GENPASS", "4", "5")
    for bits in ("1", "5", "8", "4096"):
        ours, theirs = diff.both("ACL", "GENPASS", bits)
        assert len(ours) == len(theirs)
    diff("ACL", "WHOAMI")
    diff("ACL", "WHOAMI", "x")
    diff("ACL", "HELP")
    diff("ACL", "NOSUCH")
    diff("ACL")
    diff("ACL", "LOAD")
    diff("ACL", "SAVE")
    diff("ACL", "USERS")
    diff("ACL", "LIST")
