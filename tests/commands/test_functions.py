"""FCALL, FCALL_RO and FUNCTION on the pure engine. Expected replies (payload bytes included)
were read from a real redis-server 7.0.15."""

from __future__ import annotations

import struct

import pytest

from node.persistence.blobs import crc64
from tests.support import Harness

LIB = "#!lua name=mylib\nredis.register_function('f1', function(keys, args) return {keys[1], args[1]} end)"
# FUNCTION DUMP of LIB on redis-server 7.0.15 (the code is LZF-compressed).
LIB_DUMP = (
    b"\xf5\xc3@Z@b\x1f#!lua name=mylib\nredis.register_\x0efunction('f1', \xe0\x00"
    b"\x0e\x13keys, args) return {@\x13\x02[1]\x80\x16 \x08\x05} end)\n\x00\x8d\xcd"
    b"\xbc-\xd4\x11&\xfe"
)


def library(name: str, function: str, body: str = "return 1", flags: str = "") -> str:
    if flags:
        return (
            f"#!lua name={name}\nredis.register_function{{function_name='{function}', "
            f"callback=function(keys, args) {body} end, flags={{{flags}}}}}"
        )
    return (
        f"#!lua name={name}\nredis.register_function('{function}', function(keys, args) {body} end)"
    )


def payload(*codes: bytes, version: int = 10, raw: bytes = b"") -> bytes:
    """A FUNCTION DUMP payload of these library codes (written plain)."""
    body = b"".join(b"\xf5" + _rdb_string(code) for code in codes) + raw
    body += struct.pack("<H", version)
    return body + struct.pack("<Q", crc64(body))


def _rdb_string(data: bytes) -> bytes:
    if len(data) < 64:
        return bytes([len(data)]) + data
    return bytes([0x40 | (len(data) >> 8), len(data) & 0xFF]) + data


@pytest.fixture
def h() -> Harness:
    return Harness()


def test_load_and_call(h: Harness) -> None:
    assert h.raw("FUNCTION", "LOAD", LIB) == b"$5\r\nmylib\r\n"
    assert h.raw("FCALL", "f1", "1", "k", "a") == b"*2\r\n$1\r\nk\r\n$1\r\na\r\n"
    assert h.raw("FCALL", "F1", "0") == b"*0\r\n"  # function names ignore case
    assert (
        h.raw("FCALL_RO", "f1", "1", "k", "a")
        == b"-ERR Can not execute a script with write flag using *_ro command.\r\n"
    )
    assert h.raw("FUNCTION", "LOAD", LIB) == b"-ERR Library 'mylib' already exists\r\n"
    assert (
        h.raw("FUNCTION", "LOAD", "REPLACE", library("mylib", "f1", "return 2"))
        == b"$5\r\nmylib\r\n"
    )
    assert h("FCALL", "f1", "0") == 2


def test_named_arguments_flags_and_description(h: Harness) -> None:
    code = (
        "#!lua name=mylib\nredis.register_function{function_name='f1', callback=function(keys,"
        " args) return 2 end, flags={'no-writes', 'ALLOW-OOM'}, description='desc'}"
    )
    h("FUNCTION", "LOAD", code)
    assert h("FCALL_RO", "f1", "0") == 2
    assert h.raw("FUNCTION", "LIST") == (
        b"*1\r\n*6\r\n$12\r\nlibrary_name\r\n$5\r\nmylib\r\n$6\r\nengine\r\n$3\r\nLUA\r\n"
        b"$9\r\nfunctions\r\n*1\r\n*6\r\n$4\r\nname\r\n$2\r\nf1\r\n$11\r\ndescription\r\n"
        b"$4\r\ndesc\r\n$5\r\nflags\r\n*2\r\n+no-writes\r\n+allow-oom\r\n"
    )
    resp3 = h.client_harness(resp=3)
    assert resp3.raw("FUNCTION", "LIST", "WITHCODE") == (
        b"*1\r\n%4\r\n$12\r\nlibrary_name\r\n$5\r\nmylib\r\n$6\r\nengine\r\n$3\r\nLUA\r\n"
        b"$9\r\nfunctions\r\n*1\r\n%3\r\n$4\r\nname\r\n$2\r\nf1\r\n$11\r\ndescription\r\n"
        b"$4\r\ndesc\r\n$5\r\nflags\r\n~2\r\n+no-writes\r\n+allow-oom\r\n$12\r\nlibrary_code\r\n"
        + b"$"
        + str(len(code)).encode()
        + b"\r\n"
        + code.encode()
        + b"\r\n"
    )


def test_list_filters_and_arguments(h: Harness) -> None:
    h("FUNCTION", "LOAD", LIB)
    h("FUNCTION", "LOAD", library("other", "g"))
    assert [lib[1] for lib in h("FUNCTION", "LIST", "LIBRARYNAME", "MY*")] == [b"mylib"]
    assert h("FUNCTION", "LIST", "LIBRARYNAME", "x*") == []
    assert h.error("FUNCTION", "LIST", "LIBRARYNAME") == "ERR library name argument was not given"
    assert h.error("FUNCTION", "LIST", "bogus") == "ERR Unknown argument bogus"
    assert h.error("FUNCTION", "LIST", "WITHCODE", "WITHCODE") == "ERR Unknown argument WITHCODE"
    assert (
        h.error("FUNCTION", "LIST", "LIBRARYNAME", "a", "LIBRARYNAME", "b")
        == "ERR Unknown argument LIBRARYNAME"
    )
    assert (
        h.error("FUNCTION", "LIST", "WITHCODE", "LIBRARYNAME")
        == "ERR library name argument was not given"
    )
    assert h("FUNCTION", "LIST", "libraryname", "x", "withcode") == []


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("redis.register_function('f3', function() return 1 end)", "ERR Missing library metadata"),
        (
            "#!lua\nredis.register_function('f3', function() return 1 end)",
            "ERR Library name was not given",
        ),
        ("#!lua name=lib3\nreturn 1", "ERR No functions registered"),
        ("#!lua name=lib3 x=y\nreturn 1", "ERR Invalid metadata value given: x=y"),
        (
            "#!lua name=lib3 flags=no-writes\nreturn 1",
            "ERR Invalid metadata value given: flags=no-writes",
        ),
        (
            "#!lua name=lib6 name=lib7\nreturn 1",
            "ERR Invalid metadata value, name argument was given multiple times",
        ),
        ("#!lua name=lib8", "ERR Invalid library metadata"),
        ("#!python name=lib4\nreturn 1", "ERR Engine 'python' not found"),
        (
            "#!lua name=lib3\nredis.register_function('f1', function() return 1 end)",
            "ERR Function f1 already exists",
        ),
        (
            "#!lua name=lib3\nredis.register_function('f3', function() return 1 end) "
            "redis.register_function('F3', function() return 1 end)",
            "ERR Error registering functions: ERR Function already exists in the library",
        ),
        (
            "#!lua name=lib3\nredis.call('set','x','y')",
            "ERR Error registering functions: ERR user_function:2: Script attempted to access "
            "nonexistent global variable 'call'",
        ),
        (
            "#!lua name=lib3\nerror('boom')",
            "ERR Error registering functions: ERR user_function:2: "
            "Script attempted to access nonexistent global variable "
            "'error'",
        ),
        (
            "#!lua name=lib3\nreturn +",
            "ERR Error compiling function: user_function:2: unexpected symbol near '+'",
        ),
        (
            "#!lua name=lib3\nx = 1",
            "ERR Error registering functions: ERR user_function:2: Attempt to modify a readonly table",
        ),
        (
            "#!lua name=lib3\nlocal a = y",
            "ERR Error registering functions: ERR user_function:2: "
            "Script attempted to access nonexistent global variable 'y'",
        ),
        (
            "#!lua name=lib3\nlocal x = redis.setresp",
            "ERR Error registering functions: ERR user_function:2: Script attempted to access "
            "nonexistent global variable 'setresp'",
        ),
        (
            "#!lua name=lib3\nlocal x = _G",
            "ERR Error registering functions: ERR user_function:2: "
            "Script attempted to access nonexistent global variable "
            "'_G'",
        ),
        (
            "#!lua name=lib3\nredis.register_function('f 3', function() return 1 end)",
            "ERR Error registering functions: ERR Library names can only contain letters, numbers, or "
            "underscores(_) and must be at least one character long",
        ),
        ("#!lua name=lib 3\nreturn 1", "ERR Invalid metadata value given: 3"),
        (
            "#!lua name=lib-3\nreturn 1",
            "ERR Library names can only contain letters, numbers, or "
            "underscores(_) and must be at least one character long",
        ),
        (
            "#!lua name=\nreturn 1",
            "ERR Library names can only contain letters, numbers, or "
            "underscores(_) and must be at least one character long",
        ),
        (
            "#!lua name=l\nredis.register_function('f4', function() return 1 end, 5)",
            "ERR Error registering functions: ERR wrong number of arguments to "
            "redis.register_function",
        ),
        (
            "#!lua name=l\nredis.register_function('f4')",
            "ERR Error registering functions: ERR calling redis.register_function with a single "
            "argument is only applicable to Lua table (representing named arguments).",
        ),
        (
            "#!lua name=l\nredis.register_function()",
            "ERR Error registering functions: ERR wrong number of arguments to "
            "redis.register_function",
        ),
        (
            "#!lua name=l\nredis.register_function(1, 2)",
            "ERR Error registering functions: ERR second argument to redis.register_function must be "
            "a function",
        ),
        (
            "#!lua name=l\nredis.register_function{function_name='f4'}",
            "ERR Error registering functions: ERR redis.register_function must get a callback "
            "argument",
        ),
        (
            "#!lua name=l\nredis.register_function{callback=function() return 1 end}",
            "ERR Error registering functions: ERR redis.register_function must get a function name "
            "argument",
        ),
        (
            "#!lua name=l\nredis.register_function{function_name='f4', callback=function() end, "
            "flags='no-writes'}",
            "ERR Error registering functions: ERR flags argument to redis.register_function must be a "
            "table representing function flags",
        ),
        (
            "#!lua name=l\nredis.register_function{function_name='f4', callback=function() end, "
            "flags={'bogus'}}",
            "ERR Error registering functions: ERR unknown flag given",
        ),
        (
            "#!lua name=l\nredis.register_function{function_name='f4', callback=function() end, "
            "flags={'no-writes', 5}}",
            "ERR Error registering functions: ERR unknown flag given",
        ),
        (
            "#!lua name=l\nredis.register_function{function_name='f4', callback=function() end, "
            "bogus=1}",
            "ERR Error registering functions: ERR unknown argument given to redis.register_function",
        ),
        (
            "#!lua name=l\nredis.register_function{[1]='x', callback=function() return 1 end}",
            "ERR Error registering functions: ERR unknown argument given to redis.register_function",
        ),
        (
            "#!lua name=loopy\nwhile true do end",
            "ERR Error registering functions: ERR FUNCTION LOAD timeout",
        ),
    ],
)
def test_load_errors(h: Harness, code: str, message: str) -> None:
    h("FUNCTION", "LOAD", LIB)
    h.engine.monotonic_ms = _clock()
    assert h.error("FUNCTION", "LOAD", code) == message
    assert [lib[1] for lib in h("FUNCTION", "LIST")] == [b"mylib"]


def _clock() -> object:
    ticks = iter(range(0, 10**9, 7))
    return lambda: next(ticks)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("REPLACE",), "ERR Missing library metadata"),
        (("BOGUS", "#!lua name=l\nreturn 1"), "ERR Unknown option given: BOGUS"),
    ],
)
def test_load_options(h: Harness, args: tuple[str, ...], message: str) -> None:
    assert h.error("FUNCTION", "LOAD", *args) == message


def test_load_accepts_repeated_replace_and_other_engine_case(h: Harness) -> None:
    assert h("FUNCTION", "LOAD", "REPLACE", "REPLACE", library("l9", "f9")) == b"l9"
    assert (
        h(
            "FUNCTION",
            "LOAD",
            "#!LUA name=l3\nredis.register_function('f3', function() return 3 end)",
        )
        == b"l3"
    )
    assert (
        h(
            "FUNCTION",
            "LOAD",
            "#!lua NAME=l5\nredis.register_function('f5', function() return 5 end)",
        )
        == b"l5"
    )
    assert (
        h(
            "FUNCTION",
            "LOAD",
            "#!lua name=l12\nredis.register_function{function_name=5, "
            "callback=function() return 1 end}",
        )
        == b"l12"
    )
    assert h("FCALL", "5", "0") == 1


def test_fcall_arguments(h: Harness) -> None:
    h("FUNCTION", "LOAD", library("lib2", "f2", "return redis.call('set', keys[1], args[1])"))
    assert h.raw("FCALL", "f2", "1", "k", "v") == b"+OK\r\n"
    assert h.error("FCALL", "nosuch", "0") == "ERR Function not found"
    assert h.error("FCALL", "nosuch", "x") == "ERR Function not found"
    assert h.error("FCALL", "f2", "x") == "ERR Bad number of keys provided"
    assert h.error("FCALL", "f2", "-1") == "ERR Number of keys can't be negative"
    assert (
        h.error("FCALL", "f2", "3", "a")
        == "ERR Number of keys can't be greater than number of args"
    )


@pytest.mark.parametrize(
    ("body", "reply"),
    [
        ("error('boom')", b"-ERR user_function:2: boom script: f, on @user_function:2.\r\n"),
        (
            "return redis.call('nosuch')",
            b"-ERR Unknown Redis command called from script script: f, on @user_function:2.\r\n",
        ),
        (
            "return x",
            b"-ERR user_function:2: Script attempted to access nonexistent global variable "
            b"'x' script: f, on @user_function:2.\r\n",
        ),
        (
            "return {KEYS, ARGV}",
            b"-ERR user_function:2: Script attempted to access nonexistent "
            b"global variable 'KEYS' script: f, on @user_function:2.\r\n",
        ),
        (
            "redis.register_function('z', function() end)",
            b"-ERR user_function:2: attempt to call field 'register_function' (a nil value) script: "
            b"f, on @user_function:2.\r\n",
        ),
        ("return redis.setresp(3)", b"$-1\r\n"),
        (
            "return {cjson.encode({1}), bit.band(3, 1), type(redis.register_function)}",
            b"*3\r\n$3\r\n[1]\r\n:1\r\n$3\r\nnil\r\n",
        ),
        (
            "return redis.call('function', 'list')",
            b"-ERR This Redis command is not allowed from script script: f, on @user_function:2.\r\n",
        ),
        (
            "return redis.call('fcall', 'f', '0')",
            b"-ERR This Redis command is not allowed from script script: f, on @user_function:2.\r\n",
        ),
        ("return type(redis.breakpoint)", b"$3\r\nnil\r\n"),
    ],
)
def test_function_runtime(h: Harness, body: str, reply: bytes) -> None:
    h("FUNCTION", "LOAD", library("lib", "f", body))
    assert h.raw("FCALL", "f", "0") == reply


def test_function_globals_and_redis_api(h: Harness) -> None:
    h(
        "FUNCTION",
        "LOAD",
        "#!lua name=rt\nredis.register_function('rt', function() "
        "local u = {} for k, v in pairs(_G) do u[#u+1] = k end table.sort(u) "
        "local r = {} for k, v in pairs(redis) do r[#r+1] = k end "
        "table.sort(r) return {u, r} end)",
    )
    globals_, api = h("FCALL", "rt", "0")
    assert (
        globals_
        == (
            b"_G _VERSION assert bit cjson cmsgpack collectgarbage coroutine error "
            b"gcinfo getmetatable ipairs load loadstring math next pairs pcall "
            b"rawequal rawget rawset redis select setmetatable string struct table "
            b"tonumber tostring type unpack xpcall"
        ).split()
    )
    assert (
        api
        == (
            b"LOG_DEBUG LOG_NOTICE LOG_VERBOSE LOG_WARNING REDIS_VERSION "
            b"REDIS_VERSION_NUM REPL_ALL REPL_AOF REPL_NONE REPL_REPLICA REPL_SLAVE "
            b"acl_check_cmd call error_reply log pcall set_repl setresp sha1hex "
            b"status_reply"
        ).split()
    )


def test_load_time_redis_api(h: Harness) -> None:
    for name, kind in (
        ("register_function", b"function"),
        ("log", b"function"),
        ("LOG_WARNING", b"number"),
        ("REDIS_VERSION", b"string"),
        ("REDIS_VERSION_NUM", b"number"),
    ):
        h(
            "FUNCTION",
            "LOAD",
            f"#!lua name=r_{name}\nlocal x = redis.{name} "
            f"redis.register_function('r_{name}', function() return type(x) "
            f"end)",
        )
        assert h("FCALL", f"r_{name}", "0") == kind


def test_library_state_lives_between_calls(h: Harness) -> None:
    h(
        "FUNCTION",
        "LOAD",
        "#!lua name=lib18\nlocal count = 0 redis.register_function('f18', "
        "function(k, a) count = count + 1 return count end)",
    )
    assert [h("FCALL", "f18", "0") for _ in range(3)] == [1, 2, 3]


def test_read_only_functions(h: Harness) -> None:
    h(
        "FUNCTION",
        "LOAD",
        "#!lua name=lib17\nredis.register_function('f17', function(k, a) "
        "return redis.call('set', 'a', 'b') end) redis.register_function"
        "{function_name='f17ro', callback=function(k, a) return "
        "redis.call('set', 'a', 'b') end, flags={'no-writes'}}",
    )
    assert h.raw("FCALL", "f17", "0") == b"+OK\r\n"
    refused = (
        b"-ERR Write commands are not allowed from read-only scripts. script: f17ro, on "
        b"@user_function:2.\r\n"
    )
    assert h.raw("FCALL", "f17ro", "0") == refused
    assert h.raw("FCALL_RO", "f17ro", "0") == refused


def test_delete_flush_stats(h: Harness) -> None:
    h("FUNCTION", "LOAD", LIB)
    h("FUNCTION", "LOAD", library("lib2", "f2"))
    assert h.raw("FUNCTION", "STATS") == (
        b"*4\r\n$14\r\nrunning_script\r\n$-1\r\n$7\r\nengines\r\n*2\r\n$3\r\nLUA\r\n*4\r\n"
        b"$15\r\nlibraries_count\r\n:2\r\n$15\r\nfunctions_count\r\n:2\r\n"
    )
    assert h.client_harness(resp=3).raw("FUNCTION", "STATS") == (
        b"%2\r\n$14\r\nrunning_script\r\n_\r\n$7\r\nengines\r\n%1\r\n$3\r\nLUA\r\n%2\r\n"
        b"$15\r\nlibraries_count\r\n:2\r\n$15\r\nfunctions_count\r\n:2\r\n"
    )
    assert h.raw("FUNCTION", "DELETE", "lib2") == b"+OK\r\n"
    assert h.raw("FUNCTION", "DELETE", "lib2") == b"-ERR Library not found\r\n"
    assert h.raw("FUNCTION", "DELETE", "MYLIB") == b"-ERR Library not found\r\n"
    assert h.error("FCALL", "f2", "0") == "ERR Function not found"
    assert h.raw("FUNCTION", "FLUSH", "ASYNC") == b"+OK\r\n"
    assert h("FUNCTION", "LIST") == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("DELETE",), "ERR wrong number of arguments for 'function|delete' command"),
        (("DELETE", "a", "b"), "ERR wrong number of arguments for 'function|delete' command"),
        (("FLUSH", "bogus"), "ERR FUNCTION FLUSH only supports SYNC|ASYNC option"),
        (
            ("FLUSH", "SYNC", "x"),
            "ERR unknown subcommand or wrong number of arguments for 'FLUSH'. Try FUNCTION HELP.",
        ),
        (("KILL",), "NOTBUSY No scripts in execution right now."),
        (("KILL", "x"), "ERR wrong number of arguments for 'function|kill' command"),
        (("STATS", "x"), "ERR wrong number of arguments for 'function|stats' command"),
        (("DUMP", "x"), "ERR wrong number of arguments for 'function|dump' command"),
        (("bogus",), "ERR unknown subcommand 'bogus'. Try FUNCTION HELP."),
        (("RESTORE", "bogus"), "ERR DUMP payload version or checksum are wrong"),
        (
            ("RESTORE", "bogus", "bogus"),
            "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.",
        ),
        (
            ("RESTORE", "x", "FLUSH", "y"),
            "ERR unknown subcommand or wrong number of arguments for 'RESTORE'. Try FUNCTION HELP.",
        ),
    ],
)
def test_function_subcommand_errors(h: Harness, args: tuple[str, ...], message: str) -> None:
    assert h.error("FUNCTION", *args) == message


def test_help(h: Harness) -> None:
    lines = h("FUNCTION", "HELP")
    assert len(lines) == 40
    assert lines[1] == b"LOAD [REPLACE] <FUNCTION CODE>"


# --- DUMP / RESTORE ---------------------------------------------------------------------------
def test_dump_is_redis_s_payload(h: Harness) -> None:
    assert h("FUNCTION", "DUMP") == b"\n\x00]\x9b\\@\x0f\x7f\xa2\xda"
    h("FUNCTION", "LOAD", LIB)
    dump = h("FUNCTION", "DUMP")
    assert dump == LIB_DUMP
    h("FUNCTION", "FLUSH")
    assert h("FUNCTION", "RESTORE", dump) == b"OK"
    assert h("FCALL", "f1", "1", "k", "a") == [b"k", b"a"]


def test_restore_reads_redis_s_compressed_dump(h: Harness) -> None:
    # FUNCTION DUMP on redis-server of a library with an LZF-compressed code string.
    dump = (
        b"\xf5\xc3@\x86@\x91\x1f#!lua name=mylib\nredis.register_\x08function{\xc0\x08\x00_"
        b"`+\x0e'f1', callback=\xc0\x1c\x1f(keys, args) return 2 end, flags\x16={'no-writes'}"
        b", descrip@`\x01='@\x0c\x01'}\n\x00\x7f\x0e\x90\x93\xde`\x9b\xf8"
    )
    assert h("FUNCTION", "RESTORE", dump) == b"OK"
    assert h("FCALL_RO", "f1", "0") == 2


LIB1 = library("mylib", "f1").encode()
LIB2 = library("lib2", "f2").encode()
LIB3 = library("lib3", "f1", "return 3").encode()


@pytest.mark.parametrize(
    ("data", "reply"),
    [
        (payload(), b"+OK\r\n"),
        (payload(LIB1, version=11), b"-ERR DUMP payload version or checksum are wrong\r\n"),
        (payload(LIB1, version=9), b"+OK\r\n"),
        (payload(LIB1, version=0), b"+OK\r\n"),
        (payload(raw=b"\x00" + _rdb_string(LIB1)), b"-ERR given type is not a function\r\n"),
        (payload(raw=b"\xf5\x40"), b"-ERR Failed loading library payload\r\n"),
        (payload(b"return 1"), b"-ERR Missing library metadata\r\n"),
        (
            payload(b"#!lua name=x\nreturn +"),
            b"-ERR Error compiling function: user_function:2: unexpected symbol near '+'\r\n",
        ),
        (payload(LIB1, LIB2), b"+OK\r\n"),
        (payload(LIB1, LIB1), b"-ERR Library 'mylib' already exists\r\n"),
        (payload(LIB1, LIB3), b"-ERR Function f1 already exists\r\n"),
        (payload(LIB1, raw=b"x"), b"-ERR given type is not a function\r\n"),
    ],
)
def test_restore_payloads(h: Harness, data: bytes, reply: bytes) -> None:
    assert h.raw("FUNCTION", "RESTORE", data) == reply


@pytest.mark.parametrize(
    ("policy", "data", "reply", "count"),
    [
        ("APPEND", payload(LIB1), b"-ERR Library mylib already exists\r\n", 1),
        ("APPEND", payload(LIB3), b"-ERR Function f1 already exists\r\n", 1),
        ("APPEND", payload(LIB1, LIB2), b"-ERR Library mylib already exists\r\n", 1),
        ("append", payload(LIB2), b"+OK\r\n", 2),
        ("REPLACE", payload(LIB1), b"+OK\r\n", 1),
        ("REPLACE", payload(LIB3), b"-ERR Function f1 already exists\r\n", 1),
        ("REPLACE", payload(LIB1, LIB2), b"+OK\r\n", 2),
        ("FLUSH", payload(LIB1), b"+OK\r\n", 1),
        ("FLUSH", payload(LIB3), b"+OK\r\n", 1),
        ("FLUSH", payload(LIB1, LIB2), b"+OK\r\n", 2),
    ],
)
def test_restore_policies(h: Harness, policy: str, data: bytes, reply: bytes, count: int) -> None:
    h("FUNCTION", "LOAD", library("mylib", "f1", "return 'old'"))
    assert h.raw("FUNCTION", "RESTORE", data, policy) == reply
    assert len(h("FUNCTION", "LIST")) == count
    if reply != b"+OK\r\n":
        assert h("FCALL", "f1", "0") == b"old"


def test_function_commands_dirty_the_dataset(h: Harness) -> None:
    before = h.engine.dirty
    h("FUNCTION", "LOAD", LIB)
    h("FUNCTION", "RESTORE", payload(LIB2))
    h("FUNCTION", "DELETE", "lib2")
    h("FUNCTION", "FLUSH")
    assert h.engine.dirty == before + 4


# --- RDB ----------------------------------------------------------------------------------------
def _snapshot(h: Harness) -> bytes:
    chunks: list[bytes] = []
    h.engine.persistence.producer()(chunks.append)
    return b"".join(chunks)


def test_libraries_live_in_rdb_files(h: Harness) -> None:
    h("FUNCTION", "LOAD", LIB)
    h("SET", "k", "v")
    restarted = Harness()
    restarted.engine.persistence.load_rdb(_snapshot(h))
    assert restarted("FCALL", "f1", "1", "x", "y") == [b"x", b"y"]
    assert restarted("GET", "k") == b"v"
    assert restarted("FUNCTION", "DUMP") == h("FUNCTION", "DUMP")


def test_a_library_that_fails_to_load_fails_the_rdb_load() -> None:
    from node.persistence.blobs import FormatError

    h = Harness()
    with pytest.raises(FormatError, match="Failed loading library, ERR Missing library"):
        h.engine.scripting.load_libraries([b"return 1"])
