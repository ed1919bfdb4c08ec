"""COMMAND and its subcommands through the engine (no sockets), plus the registry's derived
data (legacy key range, movablekeys, ACL categories, key-spec search) on hand-built specs.
Expected bytes and values were checked on redis-server 7.0.15."""

from __future__ import annotations

import pytest

from node.commands.registry import (
    Acl,
    CommandSpec,
    CommandTable,
    Flag,
    KeyFlag,
    KeyRef,
    KeySpec,
    key_at,
    keys_by_count,
    keys_by_keyword,
    keys_from_specs,
)
from tests.support import Harness

RO = KeyFlag.RO | KeyFlag.ACCESS
OW = KeyFlag.OW | KeyFlag.UPDATE

GET_INFO_RESP2 = (
    b"*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n"
    b"*3\r\n+@read\r\n+@string\r\n+@fast\r\n*0\r\n"
    b"*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RO\r\n+access\r\n"
    b"$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n"
    b"$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n"
    b"*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*0\r\n"
)
GET_INFO_RESP3 = (
    b"*10\r\n$3\r\nget\r\n:2\r\n~2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n"
    b"~3\r\n+@read\r\n+@string\r\n+@fast\r\n~0\r\n"
    b"~1\r\n%3\r\n$5\r\nflags\r\n~2\r\n+RO\r\n+access\r\n"
    b"$12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n%1\r\n$5\r\nindex\r\n:1\r\n"
    b"$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n"
    b"%3\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n~0\r\n"
)


@pytest.fixture
def h() -> Harness:
    return Harness()


@pytest.fixture
def h3() -> Harness:
    return Harness(resp=3)


# --- COMMAND / COUNT / INFO ----------------------------------------------------------------
def test_count_is_the_number_of_top_level_commands(h: Harness) -> None:
    assert h("COMMAND", "COUNT") == len(h.engine.table)
    assert h.error("COMMAND", "COUNT", "x") == (
        "ERR wrong number of arguments for 'command|count' command"
    )


def test_command_alone_lists_every_command(h: Harness) -> None:
    everything = h("COMMAND")
    assert len(everything) == len(h.engine.table)
    assert [entry[0] for entry in everything] == [s.name.encode() for s in h.engine.table]
    assert h.raw("COMMAND") == h.raw("COMMAND", "INFO")


def test_info_exact_bytes_in_both_protocols(h: Harness, h3: Harness) -> None:
    assert h.raw("COMMAND", "INFO", "get") == b"*1\r\n" + GET_INFO_RESP2
    assert h3.raw("COMMAND", "INFO", "get") == b"*1\r\n" + GET_INFO_RESP3


def test_info_unknown_names_are_nulls(h: Harness, h3: Harness) -> None:
    assert h.raw("COMMAND", "INFO", "nosuch", "Get") == b"*2\r\n$-1\r\n" + GET_INFO_RESP2
    assert h3.raw("COMMAND", "INFO", "nosuch") == b"*1\r\n_\r\n"
    for name in ("", "command|", "|info", "get|x", "command|info|x", "nosuch|info", "get\0"):
        assert h.raw("COMMAND", "INFO", name) == b"*1\r\n$-1\r\n", name


def test_info_of_subcommands_and_containers(h: Harness, h3: Harness) -> None:
    sub = h("COMMAND", "INFO", "COMMAND|Count")[0]
    assert sub == [
        b"command|count",
        2,
        [b"loading", b"stale"],
        0,
        0,
        0,
        [b"@slow", b"@connection"],
        [],
        [],
        [],
    ]
    container = h("COMMAND", "INFO", "command")[0]
    assert container[:7] == [
        b"command",
        -1,
        [b"loading", b"stale"],
        0,
        0,
        0,
        [b"@slow", b"@connection"],
    ]
    assert container[7] == [b"nondeterministic_output_order"]
    assert sorted(entry[0] for entry in container[9]) == [
        b"command|count",
        b"command|docs",
        b"command|getkeys",
        b"command|getkeysandflags",
        b"command|help",
        b"command|info",
        b"command|list",
    ]
    # A leaf's subcommands are an empty set; a container's are an array.
    raw3 = h3.raw("COMMAND", "INFO", "command")
    assert raw3.startswith(b"*1\r\n*10\r\n$7\r\ncommand\r\n") and b"~0\r\n*7\r\n*10\r\n" in raw3


def test_key_spec_notes_come_first(h3: Harness) -> None:
    raw = h3.raw("COMMAND", "INFO", "set")
    assert (
        b"~1\r\n%4\r\n$5\r\nnotes\r\n$48\r\nRW and ACCESS due to the optional `GET` argument\r\n"
        b"$5\r\nflags\r\n~4\r\n+RW\r\n+access\r\n+update\r\n+variable_flags\r\n" in raw
    )


# --- DOCS ----------------------------------------------------------------------------------
def test_docs_leave_unknown_names_out(h: Harness, h3: Harness) -> None:
    assert h.raw("COMMAND", "DOCS", "nosuch") == b"*0\r\n"
    assert h3.raw("COMMAND", "DOCS", "nosuch", "command|nosuch") == b"%0\r\n"
    docs = h("COMMAND", "DOCS", "nosuch", "COMMAND|COUNT")
    assert docs == [
        b"command|count",
        [
            b"summary",
            b"Get total number of Redis commands",
            b"since",
            b"2.8.13",
            b"group",
            b"server",
            b"complexity",
            b"O(1)",
        ],
    ]


def test_docs_fields_and_argument_records(h3: Harness) -> None:
    docs = h3("COMMAND", "DOCS", "command|list")[b"command|list"]
    assert list(docs) == [b"summary", b"since", b"group", b"complexity", b"arguments"]
    raw = h3.raw("COMMAND", "DOCS", "command|list")
    assert raw.endswith(
        b"$9\r\narguments\r\n*1\r\n%5\r\n$4\r\nname\r\n$8\r\nfilterby\r\n$4\r\ntype\r\n"
        b"$5\r\noneof\r\n$5\r\ntoken\r\n$8\r\nFILTERBY\r\n$5\r\nflags\r\n~1\r\n+optional\r\n"
        b"$9\r\narguments\r\n*3\r\n"
        b"%3\r\n$4\r\nname\r\n$11\r\nmodule-name\r\n$4\r\ntype\r\n$6\r\nstring\r\n"
        b"$5\r\ntoken\r\n$6\r\nMODULE\r\n"
        b"%3\r\n$4\r\nname\r\n$8\r\ncategory\r\n$4\r\ntype\r\n$6\r\nstring\r\n"
        b"$5\r\ntoken\r\n$6\r\nACLCAT\r\n"
        b"%3\r\n$4\r\nname\r\n$7\r\npattern\r\n$4\r\ntype\r\n$7\r\npattern\r\n"
        b"$5\r\ntoken\r\n$7\r\nPATTERN\r\n"
    )
    info = h3("COMMAND", "DOCS", "command|info")[b"command|info"]
    assert info[b"history"] == [
        [b"7.0.0", b"Allowed to be called with no argument to get info on all commands."]
    ]
    assert b"~1\r\n*2\r\n$5\r\n7.0.0\r\n" in h3.raw("COMMAND", "DOCS", "command|info")
    assert info[b"arguments"] == [
        {b"name": b"command-name", b"type": b"string", b"flags": [b"optional", b"multiple"]}
    ]


def test_docs_of_a_container_nest_its_subcommands(h: Harness, h3: Harness) -> None:
    docs = h3("COMMAND", "DOCS", "command")[b"command"]
    assert list(docs)[-1] == b"subcommands"
    assert set(docs[b"subcommands"]) == {
        b"command|count",
        b"command|docs",
        b"command|getkeys",
        b"command|getkeysandflags",
        b"command|help",
        b"command|info",
        b"command|list",
    }
    everything = h3("COMMAND", "DOCS")
    assert list(everything) == [s.name.encode() for s in h3.engine.table]
    assert len(h("COMMAND", "DOCS")) == 2 * len(h.engine.table)


def test_docs_show_deprecation_and_an_empty_token() -> None:
    from node.commands import docs
    from node.commands.introspection import command_docs

    spec = CommandSpec(
        "old",
        -2,
        Flag(0),
        lambda c, a: b"",
        "generic",
        "1.0.0",
        "Old.",
        doc_flags=("deprecated",),
        deprecated_since="6.2.0",
        replaced_by="`NEW`",
        history=(("2.0.0", "Changed."),),
        args=(
            docs.oneof("what", docs.key("key"), docs.token("empty", "", deprecated_since="3.0.0")),
        ),
    )
    assert command_docs(spec, 2) == (
        b"*16\r\n$7\r\nsummary\r\n$4\r\nOld.\r\n$5\r\nsince\r\n$5\r\n1.0.0\r\n"
        b"$5\r\ngroup\r\n$7\r\ngeneric\r\n$9\r\ndoc_flags\r\n*1\r\n+deprecated\r\n"
        b"$16\r\ndeprecated_since\r\n$5\r\n6.2.0\r\n$11\r\nreplaced_by\r\n$5\r\n`NEW`\r\n"
        b"$7\r\nhistory\r\n*1\r\n*2\r\n$5\r\n2.0.0\r\n$8\r\nChanged.\r\n"
        b"$9\r\narguments\r\n*1\r\n*6\r\n$4\r\nname\r\n$4\r\nwhat\r\n$4\r\ntype\r\n$5\r\noneof\r\n"
        b"$9\r\narguments\r\n*2\r\n"
        b"*6\r\n$4\r\nname\r\n$3\r\nkey\r\n$4\r\ntype\r\n$3\r\nkey\r\n$14\r\nkey_spec_index\r\n:0\r\n"
        b"*8\r\n$4\r\nname\r\n$5\r\nempty\r\n$4\r\ntype\r\n$10\r\npure-token\r\n"
        b"$5\r\ntoken\r\n$0\r\n\r\n$16\r\ndeprecated_since\r\n$5\r\n3.0.0\r\n"
    )


# --- LIST / HELP / errors ------------------------------------------------------------------
def test_list_everything_and_with_filters(h: Harness) -> None:
    names = h("COMMAND", "LIST")
    assert b"command" in names and b"command|getkeysandflags" in names and b"get" in names
    assert names.index(b"command") < names.index(b"command|count")
    assert h("COMMAND", "LIST", "FILTERBY", "PATTERN", "COMMAND|C*") == [b"command|count"]
    assert h("command", "list", "filterby", "pattern", "g?t") == [b"get"]
    fast = h("COMMAND", "LIST", "FILTERBY", "ACLCAT", "FAST")
    assert b"get" in fast and b"set" not in fast
    assert h("COMMAND", "LIST", "FILTERBY", "ACLCAT", b"fast\0junk") == fast  # C strings
    connection = h("COMMAND", "LIST", "FILTERBY", "ACLCAT", "connection")
    assert b"command|help" in connection and b"command" in connection
    assert h("COMMAND", "LIST", "FILTERBY", "ACLCAT", "@fast") == []
    assert h("COMMAND", "LIST", "FILTERBY", "ACLCAT", "nosuch") == []
    assert h("COMMAND", "LIST", "FILTERBY", "MODULE", "anything") == []


@pytest.mark.parametrize(
    "args",
    [
        ("foo",),
        ("FILTERBY",),
        ("FILTERBY", "ACLCAT"),
        ("FILTERBY", "x", "y"),
        ("FILTERBY", "ACLCAT", "fast", "x"),
        ("FILTERBY", "PATTERN", "*", "FILTERBY", "PATTERN", "get"),
    ],
)
def test_list_syntax_errors(h: Harness, args: tuple[str, ...]) -> None:
    assert h.error("COMMAND", "LIST", *args) == "ERR syntax error"


def test_help(h: Harness, h3: Harness) -> None:
    lines = h("command", "help")
    assert lines[0] == b"COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    assert lines[1:3] == [b"(no subcommand)", b"    Return details about all Redis commands."]
    assert lines[-4:] == [
        b"GETKEYSANDFLAGS <full-command>",
        b"    Return the keys and the access flags from a full Redis command.",
        b"HELP",
        b"    Prints this help.",
    ]
    assert len(lines) == 21
    assert h3.raw("COMMAND", "HELP").startswith(b"*21\r\n+COMMAND <subcommand>")
    assert h.error("COMMAND", "HELP", "x") == (
        "ERR wrong number of arguments for 'command|help' command"
    )


def test_unknown_subcommand(h: Harness) -> None:
    assert h.error("COMMAND", "nosuch") == ("ERR unknown subcommand 'nosuch'. Try COMMAND HELP.")


# --- GETKEYS / GETKEYSANDFLAGS -------------------------------------------------------------
def test_getkeys_from_specs(h: Harness, h3: Harness) -> None:
    assert h("COMMAND", "GETKEYS", "get", "a") == [b"a"]
    assert h("COMMAND", "GETKEYS", "Get", "a") == [b"a"]
    assert h("COMMAND", "GETKEYS", "lpush", "a", "b", "c") == [b"a"]
    assert h("COMMAND", "GETKEYS", "rpoplpush", "a", "b") == [b"a", b"b"]
    assert h("COMMAND", "GETKEYS", "blmpop", "0", "2", "a", "b", "left") == [b"a", b"b"]
    # A count that overshoots into the options still fits argv: Redis takes it as given.
    assert h("COMMAND", "GETKEYS", "blmpop", "0", "3", "a", "b", "left") == [b"a", b"b", b"left"]
    assert h("COMMAND", "GETKEYSANDFLAGS", "lmove", "a", "b", "left", "right") == [
        [b"a", [b"RW", b"access", b"delete"]],
        [b"b", [b"RW", b"insert"]],
    ]
    assert h3.raw("COMMAND", "GETKEYSANDFLAGS", "get", "k") == (
        b"*1\r\n*2\r\n$1\r\nk\r\n~2\r\n+RO\r\n+access\r\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nosuch", "a"), "ERR Invalid command specified"),
        (("command", "x"), "ERR Invalid command specified"),
        (("get", "a", "b"), "ERR Invalid number of arguments specified for command"),
        (("lmove", "a", "b", "c"), "ERR Invalid number of arguments specified for command"),
        (("ping", "x"), "ERR The command has no key arguments"),
        (("command", "info"), "ERR The command has no key arguments"),
        (("select", "1"), "ERR The command has no key arguments"),
        (("blmpop", "0", "x", "a", "left"), "ERR Invalid arguments specified for command"),
        (("blmpop", "0", "0", "a", "left"), "ERR Invalid arguments specified for command"),
    ],
)
def test_getkeys_errors(h: Harness, args: tuple[str, ...], message: str) -> None:
    assert h.error("COMMAND", "GETKEYS", *args) == message
    assert h.error("COMMAND", "GETKEYSANDFLAGS", *args) == message


def test_getkeys_arity(h: Harness) -> None:
    assert h.error("COMMAND", "GETKEYS", "get") == (
        "ERR wrong number of arguments for 'command|getkeys' command"
    )
    assert h.error("COMMAND", "GETKEYSANDFLAGS", "get") == (
        "ERR wrong number of arguments for 'command|getkeysandflags' command"
    )


# --- registry: derived data ----------------------------------------------------------------
def _spec(
    keys: list[KeySpec], arity: int = -2, flags: Flag = Flag.WRITE, **kw: object
) -> CommandSpec:
    table = CommandTable()
    table.command("x", arity, flags, group="generic", since="1.0.0", summary="x", keys=keys, **kw)(
        lambda c, a: b""
    )  # type: ignore[arg-type]
    return table.commands["x"]


@pytest.mark.parametrize(
    ("keys", "arity", "legacy", "movable"),
    [
        # Shapes of real commands (COMMAND INFO on 7.0.15 in the comments).
        ([key_at(1, RO)], 2, (1, 1, 1), False),  # get
        ([key_at(1, OW, lastkey=-1, step=2)], -3, (1, -1, 2), False),  # mset
        ([key_at(1, RO), key_at(2, OW)], 5, (1, 2, 1), False),  # lmove
        ([key_at(1, OW), key_at(2, RO, lastkey=-1)], -4, (1, -1, 1), False),  # bitop
        ([key_at(1, OW), keys_by_count(2, RO)], -4, (1, 1, 1), True),  # zunionstore
        (
            [
                key_at(1, RO),
                keys_by_keyword(b"STORE", 6, OW, lastkey=0),
                keys_by_keyword(b"STOREDIST", 6, OW, lastkey=0),
            ],
            -6,
            (1, 1, 1),
            True,
        ),  # georadius
        ([keys_by_keyword(b"STREAMS", 1, RO, limit=2)], -4, (0, 0, 0), True),  # xread
        ([key_at(3, KeyFlag.RW | KeyFlag.INCOMPLETE)], -6, (3, 3, 1), True),  # migrate-ish
        ([key_at(1, RO), key_at(3, OW)], 4, (1, 1, 1), True),  # not consecutive
        ([keys_by_count(2, RO)], -3, (0, 0, 0), True),  # eval
        ([], 1, (0, 0, 0), False),  # ping
    ],
)
def test_legacy_range_and_movablekeys(
    keys: list[KeySpec], arity: int, legacy: tuple[int, int, int], movable: bool
) -> None:
    spec = _spec(keys, arity)
    assert spec.legacy_range == legacy
    assert spec.movable_keys is movable
    assert bool(spec.flags & Flag.MOVABLE_KEYS) is movable


def test_a_getkeys_function_does_not_make_a_command_movable() -> None:
    spec = _spec(
        [key_at(1, KeyFlag.RW | KeyFlag.VARIABLE_FLAGS)], -3, getkeys=lambda argv: [(1, OW)]
    )
    assert not spec.movable_keys and spec.legacy_range == (1, 1, 1)


@pytest.mark.parametrize(
    ("flags", "acl", "expected"),
    [
        (Flag.WRITE, Acl.STRING, Acl.WRITE | Acl.STRING | Acl.SLOW),
        (Flag.READONLY | Flag.FAST, Acl.STRING, Acl.READ | Acl.STRING | Acl.FAST),
        (Flag.READONLY, Acl.SCRIPTING, Acl.SCRIPTING | Acl.SLOW),
        (Flag.ADMIN, Acl(0), Acl.ADMIN | Acl.DANGEROUS | Acl.SLOW),
        (Flag.PUBSUB, Acl(0), Acl.PUBSUB | Acl.SLOW),
        (Flag.BLOCKING | Flag.WRITE, Acl.LIST, Acl.WRITE | Acl.LIST | Acl.BLOCKING | Acl.SLOW),
        (Flag(0), Acl.FAST, Acl.FAST),  # an explicit @fast is not also @slow
    ],
)
def test_implicit_acl_categories(flags: Flag, acl: Acl, expected: Acl) -> None:
    assert _spec([], flags=flags, acl=acl).acl_categories == expected


def _keys(keys: list[KeySpec], *argv: str, partial: bool = False) -> list[KeyRef] | None:
    return keys_from_specs(tuple(keys), [a.encode() for a in argv], partial=partial)


def test_keyword_search_forwards_skips_the_last_argument() -> None:
    spec = [keys_by_keyword(b"STORE", 2, OW, lastkey=0)]
    assert _keys(spec, "x", "k", "store", "d") == [(3, OW)]
    assert _keys(spec, "x", "k", "STORE\0junk", "d") == [(3, OW)]  # strcasecmp: C strings
    assert _keys(spec, "x", "k", "nothing") == []  # no keyword: no keys, no error
    assert _keys(spec, "x", "k", "a", "store") == []  # the last argument is never looked at
    assert _keys(spec, "x", "store", "d") == []  # the search starts at startfrom


def test_keyword_search_backwards() -> None:
    spec = [keys_by_keyword(b"KEYS", -2, KeyFlag.RW, lastkey=-1)]
    assert _keys(spec, "m", "h", "keys", "a", "b") == [(3, KeyFlag.RW), (4, KeyFlag.RW)]
    # Backwards, argv[1] is never looked at.
    assert _keys(spec, "m", "keys", "a") == []


def test_range_with_limit_and_step() -> None:
    streams = [keys_by_keyword(b"STREAMS", 1, RO, limit=2)]
    assert _keys(streams, "xread", "streams", "a", "b", "1", "2") == [(2, RO), (3, RO)]
    assert _keys(streams, "xread", "count", "1", "streams", "a", "b", "c") == [(4, RO)]
    pairs = [key_at(1, OW, lastkey=-1, step=2)]
    assert _keys(pairs, "mset", "a", "1", "b") == [(1, OW), (3, OW)]


def test_keynum_search() -> None:
    spec = [key_at(1, OW), keys_by_count(2, RO)]
    assert _keys(spec, "z", "d", "2", "a", "b") == [(1, OW), (3, RO), (4, RO)]
    for bad in ("3", "x", "-1", "01", " 2", "+2", "0"):
        assert _keys(spec, "z", "d", bad, "a", "b") is None, bad
    # What does fit is kept when asked for partial results (ACL's use).
    assert _keys(spec, "z", "d", "3", "a", "b", partial=True) == [(1, OW)]


def test_out_of_range_and_incomplete_specs_fail() -> None:
    assert _keys([key_at(3, RO)], "x", "a") is None
    incomplete = [key_at(1, RO), key_at(2, OW | KeyFlag.INCOMPLETE)]
    assert _keys(incomplete, "x", "a", "b") is None
    assert _keys(incomplete, "x", "a", "b", partial=True) == [(1, RO), (2, OW | KeyFlag.INCOMPLETE)]
    channel = [key_at(1, KeyFlag.NOT_KEY)]
    assert _keys(channel, "spublish", "ch", "msg") == []


def test_getkeys_function_takes_over_when_specs_fail_or_vary() -> None:
    calls: list[list[bytes]] = []

    def getkeys(argv: list[bytes]) -> list[KeyRef]:
        calls.append(argv)
        return [(1, RO)]

    failing = _spec([key_at(1, RO), key_at(2, OW | KeyFlag.INCOMPLETE)], getkeys=getkeys)
    assert failing.keys_and_flags([b"x", b"a", b"b"]) == [(1, RO)] and calls
    varying = _spec([key_at(1, KeyFlag.RW | KeyFlag.VARIABLE_FLAGS)], getkeys=getkeys)
    assert varying.keys_and_flags([b"x", b"a"]) == [(1, RO)]
    # Without a getkeys function, VARIABLE_FLAGS specs are still searched (Redis's module rule).
    bare = _spec([key_at(1, KeyFlag.RW | KeyFlag.VARIABLE_FLAGS)])
    assert bare.keys_and_flags([b"x", b"a"]) == [(1, KeyFlag.RW | KeyFlag.VARIABLE_FLAGS)]
    assert bare.key_positions([b"x", b"a"]) == [1]
    # No fit and nothing to fall back on: no keys.
    assert _spec([keys_by_count(1, RO)]).keys_and_flags([b"x", b"5", b"a"]) == []
    assert _spec([]).has_keys is False
    assert _spec([key_at(1, KeyFlag.NOT_KEY)]).has_keys is False
    assert _spec([], getkeys=getkeys).has_keys is True
