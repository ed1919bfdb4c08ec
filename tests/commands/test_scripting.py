"""EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT on the pure engine. Every expected reply was
read from a real redis-server 7.0.15 (Debian's build, which has read-only Lua tables)."""

from __future__ import annotations

import gc
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import Harness


def sha(script: str | bytes) -> bytes:
    data = script.encode() if isinstance(script, str) else script
    return hashlib.sha1(data).hexdigest().encode()


def failure(script: str, message: str, line: int = 1) -> bytes:
    """The error reply of a script that failed at `line`."""
    return (
        b"-" + message.encode() + b" script: " + sha(script) + b", on @user_script:%d.\r\n" % line
    )


@pytest.fixture
def h() -> Harness:
    return Harness()


# --- Lua values to RESP --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("script", "reply"),
    [
        ("return 1", b":1\r\n"),
        ("return", b"$-1\r\n"),
        ("return nil", b"$-1\r\n"),
        ("return true", b":1\r\n"),
        ("return false", b"$-1\r\n"),
        ("return 3.99", b":3\r\n"),
        ("return -3.99", b":-3\r\n"),
        ("return -0.5", b":0\r\n"),
        ("return 2^53", b":9007199254740992\r\n"),
        ("return 1e20", b":-9223372036854775808\r\n"),
        ("return -1e20", b":-9223372036854775808\r\n"),
        ("return 0/0", b":-9223372036854775808\r\n"),
        ("return 1/0", b":-9223372036854775808\r\n"),
        ("return 'a\\0b'", b"$3\r\na\x00b\r\n"),
        (
            "return {1,2,{3,'x',{}} , false, 5}",
            b"*5\r\n:1\r\n:2\r\n*3\r\n:3\r\n$1\r\nx\r\n*0\r\n$-1\r\n:5\r\n",
        ),
        ("return {1,2.7,'a',nil,4}", b"*3\r\n:1\r\n:2\r\n$1\r\na\r\n"),
        ("return {1, 2, 3, nil, 5, n=3}", b"*3\r\n:1\r\n:2\r\n:3\r\n"),
        ("return {[1]=1, [2]=2, [4]=4}", b"*2\r\n:1\r\n:2\r\n"),
        ("return {a=1}", b"*0\r\n"),
        ("return {[1.5]=1}", b"*0\r\n"),
        ("return {err='My Error'}", b"-My Error\r\n"),
        ("return {err='-My Error'}", b"--My Error\r\n"),
        ("return {err=''}", b"-\r\n"),
        ("return {err=5}", b"*0\r\n"),
        ("return {err={}}", b"*0\r\n"),
        ("return {1, err='x'}", b"-x\r\n"),
        ("return {err='a', ok='b'}", b"-a\r\n"),
        ("return {err='\\nabc\\n'}", b"- abc\r\n"),
        ("return {err='a\\r\\nb\\n'}", b"-a  b\r\n"),
        ("return {err='a\\0b'}", b"-a\r\n"),
        ("return {ok='fine'}", b"+fine\r\n"),
        ("return {ok=5}", b"*0\r\n"),
        ("return {ok='a\\0b'}", b"+a\r\n"),
        ("return {ok=''}", b"+\r\n"),
        ("return {{err='inner'}}", b"*1\r\n-inner\r\n"),
        ("return {{ok='inner'}, {double=1.5}}", b"*2\r\n+inner\r\n$3\r\n1.5\r\n"),
        ("return {double=3.5}", b"$3\r\n3.5\r\n"),
        ("return {double=0.1}", b"$19\r\n0.10000000000000001\r\n"),
        ("return {double=0/0}", b"$4\r\n-nan\r\n"),
        ("return {double=-(0/0)}", b"$3\r\nnan\r\n"),
        ("return {double=1/0}", b"$3\r\ninf\r\n"),
        ("return {double=-1/0}", b"$4\r\n-inf\r\n"),
        ("return {double='x'}", b"*0\r\n"),
        ("return {map={a=1}}", b"*2\r\n$1\r\na\r\n:1\r\n"),
        ("return {set={a=true}}", b"*1\r\n$1\r\na\r\n"),
        ("return {big_number='123'}", b"$3\r\n123\r\n"),
        ("return {verbatim_string={format='txt', string='hi'}}", b"$2\r\nhi\r\n"),
        ("return function() end", b"$-1\r\n"),
        ("return coroutine.create(function() end)", b"$-1\r\n"),
        ("return {function() end, 1}", b"*2\r\n$-1\r\n:1\r\n"),
        ("return {KEYS[1], ARGV[1], #KEYS, #ARGV}", b"*4\r\n$1\r\nk\r\n$1\r\na\r\n:1\r\n:1\r\n"),
    ],
)
def test_lua_values_become_resp2(h: Harness, script: str, reply: bytes) -> None:
    assert h.raw("EVAL", script, "1", "k", "a") == reply


@pytest.mark.parametrize(
    ("script", "reply"),
    [
        ("return false", b"_\r\n"),
        ("return nil", b"_\r\n"),
        ("return {double=3.5}", b",3.5\r\n"),
        ("return {double=1/0}", b",inf\r\n"),
        ("return {map={a=1}}", b"%1\r\n$1\r\na\r\n:1\r\n"),
        ("return {set={a=true}}", b"~1\r\n$1\r\na\r\n"),
        ("return {big_number='123'}", b"(123\r\n"),
        ("return {verbatim_string={format='txt', string='hi'}}", b"=6\r\ntxt:hi\r\n"),
        ("redis.setresp(3) return true", b"#t\r\n"),
        ("redis.setresp(3) return false", b"#f\r\n"),
    ],
)
def test_lua_values_become_resp3(script: str, reply: bytes) -> None:
    assert Harness(resp=3).raw("EVAL", script, "0") == reply


def test_resp3_booleans_reach_a_resp2_caller_as_integers(h: Harness) -> None:
    assert h.raw("EVAL", "redis.setresp(3) return {true, false}", "0") == b"*2\r\n:1\r\n:0\r\n"


def test_cyclic_tables_stop_at_redis_stack_limit(h: Harness) -> None:
    reply = h.raw("EVAL", "local t = {} t[1] = t return t", "0")
    assert reply.count(b"*1\r\n") == 7995
    assert reply.endswith(b"*1\r\n-ERR reached lua stack limit\r\n")


# --- command replies to Lua -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("script", "reply"),
    [
        ("return redis.call('ping')", b"+PONG\r\n"),
        ("return redis.call('get','nokey')", b"$-1\r\n"),
        ("return type(redis.call('get','nokey'))", b"$7\r\nboolean\r\n"),
        ("return redis.call('hgetall','nokey')", b"*0\r\n"),
        ("return redis.call('set','a','b')", b"+OK\r\n"),
        ("redis.call('set','a','b') return redis.call('get','a')", b"$1\r\nb\r\n"),
        ("return redis.call('set','a','b').ok", b"$2\r\nOK\r\n"),
        ("return redis.call('rpush','l','x','y')", b":2\r\n"),
        (
            "redis.call('rpush','l','x','y') return redis.call('lrange','l',0,-1)",
            b"*2\r\n$1\r\nx\r\n$1\r\ny\r\n",
        ),
        ("return redis.call('set', 'k', 1.5) and redis.call('get', 'k')", b"$3\r\n1.5\r\n"),
        (
            "return redis.call('set', 'k', 0.1) and redis.call('get', 'k')",
            b"$19\r\n0.10000000000000001\r\n",
        ),
        (
            "return redis.call('set', 'k', 1e300*10) and redis.call('get', 'k')",
            b"$23\r\n1.0000000000000001e+301\r\n",
        ),
        ("return redis.call('set', 'k', 0/0) and redis.call('get', 'k')", b"$4\r\n-nan\r\n"),
        (
            "return redis.call('set', 'k', 2^53+1) and redis.call('get', 'k')",
            b"$16\r\n9007199254740992\r\n",
        ),
        ("return redis.call('ECHO', 'x')", b"$1\r\nx\r\n"),
        ("return redis.call('select', 1)", b"+OK\r\n"),
    ],
)
def test_command_replies_become_lua_values(h: Harness, script: str, reply: bytes) -> None:
    assert h.raw("EVAL", script, "0") == reply


def test_resp3_replies_become_tagged_tables() -> None:
    h = Harness()
    h("HSET", "h", "f", "v")
    h("ZADD", "z", "1.5", "m")
    assert (
        h.raw("EVAL", "redis.setresp(3) return redis.call('hgetall', 'h').map.f", "0")
        == b"$1\r\nv\r\n"
    )
    assert (
        h.raw("EVAL", "redis.setresp(3) return redis.call('zscore', 'z', 'm').double", "0")
        == b":1\r\n"
    )
    assert (
        h.raw("EVAL", "redis.setresp(3) return redis.call('get', 'nokey') == nil", "0") == b":1\r\n"
    )
    assert (
        h.raw("EVAL", "redis.setresp(3) return redis.call('hgetall', 'h')", "0")
        == b"*2\r\n$1\r\nf\r\n$1\r\nv\r\n"
    )


def test_select_inside_a_script_does_not_change_the_caller(h: Harness) -> None:
    h.raw("EVAL", "redis.call('select', 1) return redis.call('set','indb1','v')", "0")
    assert h("EXISTS", "indb1") == 0
    h("SELECT", "1")
    assert h("EXISTS", "indb1") == 1


# --- errors ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("script", "message"),
    [
        ("return redis.call('nosuch')", "ERR Unknown Redis command called from script"),
        ("return redis.call('get')", "ERR Wrong number of args calling Redis command from script"),
        ("return redis.call()", "ERR Please specify at least one argument for this redis lib call"),
        (
            "return redis.call('get', {})",
            "ERR Lua redis lib command arguments must be strings or integers",
        ),
        (
            "return redis.call('get', nil)",
            "ERR Lua redis lib command arguments must be strings or integers",
        ),
        (
            "return redis.call('set', 'k', true)",
            "ERR Lua redis lib command arguments must be strings or integers",
        ),
        (
            "return redis.call('eval', 'return 1', '0')",
            "ERR This Redis command is not allowed from script",
        ),
        (
            "return redis.call('subscribe', 'x')",
            "ERR This Redis command is not allowed from script",
        ),
        ("return redis.call('multi')", "ERR This Redis command is not allowed from script"),
        (
            "return redis.call('blpop', 'nolist', 0)",
            "ERR This Redis command is not allowed from script",
        ),
        ("return redis.call('client', 'id')", "ERR This Redis command is not allowed from script"),
        ("return redis.call('client', 'bogus')", "ERR Unknown Redis command called from script"),
        (
            "return redis.call('config')",
            "ERR Wrong number of args calling Redis command from script",
        ),
        (
            "return redis.call('script', 'load', 'return 1')",
            "ERR This Redis command is not allowed from script",
        ),
        ("return redis.call(1)", "ERR Unknown Redis command called from script"),
        ("return redis.sha1hex()", "ERR wrong number of arguments"),
        (
            "redis.log(redis.LOG_WARNING) return 1",
            "ERR redis.log() requires two arguments or more.",
        ),
        ("redis.log('x', 'y') return 1", "ERR First argument must be a number (log level)."),
        ("redis.log(9, 'y') return 1", "ERR Invalid debug level."),
        ("return redis.setresp(4)", "ERR RESP version must be 2 or 3."),
        ("return redis.setresp()", "ERR redis.setresp() requires one argument."),
        (
            "return redis.set_repl(8)",
            "ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.",
        ),
        ("return redis.set_repl()", "ERR redis.set_repl() requires two arguments."),
        (
            "return redis.acl_check_cmd('nosuch')",
            "ERR Invalid command passed to redis.acl_check_cmd()",
        ),
        ("error('boom')", "ERR user_script:1: boom"),
        ("error({err='boom'})", "boom"),
        ("error({err='MYERR boom'})", "MYERR boom"),
        ("error()", "ERR nil"),
        ("error(12)", "ERR user_script:1: 12"),
        ("error('boom', 0)", "ERR boom"),
        ("error('boom', 2)", "ERR boom"),
        ("error(redis.error_reply('X y'))", "X y"),
        ("error({err=5})", "5"),
        ("error('a\\nb\\r\\n')", "ERR user_script:1: a b  "),
        ("error('a\\0b')", "ERR user_script:1: a"),
        (
            "local x = nil; return x.y",
            "ERR user_script:1: attempt to index local 'x' (a nil value)",
        ),
        ("return 'abc' + 1", "ERR user_script:1: attempt to perform arithmetic on a string value"),
        ("return 1 < 'x'", "ERR user_script:1: attempt to compare number with string"),
        ("local function f() return f() + 1 end return f()", "ERR user_script:1: stack overflow"),
        ("local t = {} t[nil] = 1", "ERR user_script:1: table index is nil"),
        ("rawset({}, nil, 1)", "ERR table index is nil"),
        ("return redis.call.x", "ERR user_script:1: attempt to index a function value"),
        (
            "return math.random(0)",
            "ERR user_script:1: bad argument #1 to 'random' (interval is empty)",
        ),
        ("return math.random(1,2,3)", "ERR user_script:1: wrong number of arguments"),
        (
            "return math.random(3,1)",
            "ERR user_script:1: bad argument #2 to 'random' (interval is empty)",
        ),
        (
            "return math.random('x')",
            "ERR user_script:1: bad argument #1 to 'random' (number expected, got string)",
        ),
        (
            "return math.randomseed()",
            "ERR user_script:1: bad argument #1 to 'randomseed' (number expected, got no value)",
        ),
        (
            "return next()",
            "ERR user_script:1: bad argument #1 to 'next' (table expected, got no value)",
        ),
        (
            "return pairs()",
            "ERR user_script:1: bad argument #1 to 'pairs' (table expected, got no value)",
        ),
        (
            "return ipairs(nil)",
            "ERR user_script:1: bad argument #1 to 'ipairs' (table expected, got nil)",
        ),
        (
            "return unpack(nil)",
            "ERR user_script:1: bad argument #1 to 'unpack' (table expected, got nil)",
        ),
        ("return type()", "ERR user_script:1: bad argument #1 to 'type' (value expected)"),
        ("return tostring()", "ERR user_script:1: bad argument #1 to 'tostring' (value expected)"),
        (
            "return setmetatable(1, {})",
            "ERR user_script:1: bad argument #1 to 'setmetatable' (table expected, got number)",
        ),
        (
            "return setmetatable({}, 1)",
            "ERR user_script:1: bad argument #2 to 'setmetatable' (nil or table expected)",
        ),
        (
            "return getmetatable()",
            "ERR user_script:1: bad argument #1 to 'getmetatable' (value expected)",
        ),
        (
            "return rawget()",
            "ERR user_script:1: bad argument #1 to 'rawget' (table expected, got no value)",
        ),
        ("return rawset({})", "ERR user_script:1: bad argument #2 to 'rawset' (value expected)"),
        (
            "return table.insert(nil, 1)",
            "ERR user_script:1: bad argument #1 to 'insert' (table expected, got nil)",
        ),
        (
            "return string.rep()",
            "ERR user_script:1: bad argument #1 to 'rep' (string expected, got no value)",
        ),
        (
            "return ('x'):rep()",
            "ERR user_script:1: bad argument #1 to 'rep' (number expected, got no value)",
        ),
        (
            "return table.concat({1, {}})",
            "ERR user_script:1: invalid value (table) at index 2 in table for 'concat'",
        ),
        (
            "return select(-1)",
            "ERR user_script:1: bad argument #1 to 'select' (index out of range)",
        ),
        ("return xpcall()", "ERR user_script:1: bad argument #2 to 'xpcall' (value expected)"),
        (
            "return coroutine.resume()",
            "ERR user_script:1: bad argument #1 to 'resume' (coroutine expected)",
        ),
        (
            "return loadstring()",
            "ERR user_script:1: bad argument #1 to 'loadstring' (string expected, got no value)",
        ),
        (
            "return load('x')",
            "ERR user_script:1: bad argument #1 to 'load' (function expected, got string)",
        ),
        (
            "return coroutine.wrap(function() x = 1 end)()",
            "ERR user_script:1: user_script:1: Attempt to modify a readonly table",
        ),
    ],
)
def test_script_errors(h: Harness, script: str, message: str) -> None:
    assert h.raw("EVAL", script, "0") == failure(script, message)


def test_command_errors_abort_the_script(h: Harness) -> None:
    h("SET", "str", "x")
    script = "return redis.call('incr','str')"
    assert h.raw("EVAL", script, "0") == failure(
        script, "ERR value is not an integer or out of range"
    )
    script = "return redis.call('lpush', 'str', 1)"
    assert h.raw("EVAL", script, "0") == failure(
        script, "WRONGTYPE Operation against a key holding the wrong kind of value"
    )


@pytest.mark.parametrize(
    ("script", "reply"),
    [
        ("return redis.pcall('nosuch')", b"-ERR Unknown Redis command called from script\r\n"),
        (
            "return redis.pcall('get')",
            b"-ERR Wrong number of args calling Redis command from script\r\n",
        ),
        (
            "return redis.pcall()",
            b"-ERR Please specify at least one argument for this redis lib call\r\n",
        ),
        (
            "return redis.pcall('get', {})",
            b"-ERR Lua redis lib command arguments must be strings or integers\r\n",
        ),
        (
            "return redis.pcall('eval', 'return 1', '0')",
            b"-ERR This Redis command is not allowed from script\r\n",
        ),
        ("return redis.pcall('incr','str')", b"-ERR value is not an integer or out of range\r\n"),
        (
            "local t = redis.pcall('nosuch') return {t.err, tostring(t.ignore_error_stats_update)}",
            b"*2\r\n$44\r\nERR Unknown Redis command called from script\r\n$4\r\ntrue\r\n",
        ),
        (
            "local t = redis.pcall('incr', 'str') local n = 0 for k,v in pairs(t) do n = n + 1 end "
            "return n",
            b":2\r\n",
        ),
        (
            "local ok, e = pcall(redis.call, 'incr', 'str') return {tostring(ok), type(e), e}",
            b"*3\r\n$5\r\nfalse\r\n$6\r\nstring\r\n$43\r\nERR value is not an integer or out of "
            b"range\r\n",
        ),
        (
            "local ok, e = pcall(error, 'x') return {tostring(ok), e}",
            b"*2\r\n$5\r\nfalse\r\n$1\r\nx\r\n",
        ),
        (
            "local ok, e = pcall(function() local x = nil; return x.y end) return {tostring(ok), e}",
            b"*2\r\n$5\r\nfalse\r\n$55\r\nuser_script:1: attempt to index local 'x' (a nil value)\r\n",
        ),
        (
            "local ok, e = pcall(function() error({err='x y'}) end) return {tostring(ok), type(e), e}",
            b"*3\r\n$5\r\nfalse\r\n$6\r\nstring\r\n$3\r\nx y\r\n",
        ),
        (
            "local ok, e = pcall(function() error({err=5}) end) return {tostring(ok), type(e)}",
            b"*2\r\n$5\r\nfalse\r\n$6\r\nnumber\r\n",
        ),
        (
            "local ok, e = pcall(function() error({1}) end) return {tostring(ok), type(e)}",
            b"*2\r\n$5\r\nfalse\r\n$5\r\ntable\r\n",
        ),
        (
            "local ok, e = xpcall(function() redis.call('nosuch') end, function(e) return e end) "
            "return {tostring(ok), type(e), e.err}",
            b"*3\r\n$5\r\nfalse\r\n$5\r\ntable\r\n$44\r\nERR Unknown Redis command called from "
            b"script\r\n",
        ),
        (
            "local ok, e = xpcall(function() error('z') end, function(e) return e end) "
            "return {tostring(ok), type(e), e}",
            b"*3\r\n$5\r\nfalse\r\n$6\r\nstring\r\n$16\r\nuser_script:1: z\r\n",
        ),
        (
            "return {xpcall(function() error('y') end, 5)}",
            b"*2\r\n$-1\r\n$23\r\nerror in error handling\r\n",
        ),
        (
            "local co = coroutine.create(function() redis.call('nosuch') end) "
            "local ok, e = coroutine.resume(co) return {tostring(ok), type(e), e.err}",
            b"*3\r\n$5\r\nfalse\r\n$5\r\ntable\r\n$44\r\nERR Unknown Redis command called from "
            b"script\r\n",
        ),
        (
            "local co = coroutine.create(function() error('in co') end) "
            "local ok, e = coroutine.resume(co) return {tostring(ok), e}",
            b"*2\r\n$5\r\nfalse\r\n$20\r\nuser_script:1: in co\r\n",
        ),
        (
            "local ok, e = pcall(cjson.decode, '{') return {tostring(ok), type(e), e}",
            b"*3\r\n$5\r\nfalse\r\n$6\r\nstring\r\n$57\r\nExpected object key string but found T_END "
            b"at character 2\r\n",
        ),
        ("local ok, e = pcall(rawset, {}, nil, 1) return e", b"$18\r\ntable index is nil\r\n"),
        ("return {pcall()}", b"*2\r\n$-1\r\n$31\r\nattempt to call a boolean value\r\n"),
        ("return {pcall(error, 'x', 0)}", b"*2\r\n$-1\r\n$1\r\nx\r\n"),
    ],
)
def test_caught_errors(h: Harness, script: str, reply: bytes) -> None:
    h("SET", "str", "x")
    assert h.raw("EVAL", script, "0") == reply


@pytest.mark.parametrize(
    ("script", "reply"),
    [
        ("return redis.error_reply('My Error')", b"-My Error\r\n"),
        ("return redis.error_reply('-WRONG My Error')", b"-WRONG My Error\r\n"),
        ("return redis.error_reply('')", b"-ERR \r\n"),
        ("return redis.error_reply('NOSPACE')", b"-ERR NOSPACE\r\n"),
        ("return redis.error_reply(5)", b"-ERR wrong number or type of arguments\r\n"),
        ("return redis.error_reply('\\nX')", b"-ERR X\r\n"),
        ("return redis.error_reply('X\\n')", b"-ERR X\r\n"),
        ("return redis.error_reply('-')", b"-ERR \r\n"),
        ("return redis.error_reply('- x')", b"- x\r\n"),
        ("return redis.error_reply('-X')", b"-ERR X\r\n"),
        ("return redis.error_reply(' x')", b"- x\r\n"),
        ("local t = redis.error_reply('A b') return t.err", b"$3\r\nA b\r\n"),
        ("local t = redis.error_reply('-A b') return t.err", b"$3\r\nA b\r\n"),
        ("return redis.status_reply('OK')", b"+OK\r\n"),
        ("return redis.status_reply(5)", b"-ERR wrong number or type of arguments\r\n"),
        ("return redis.status_reply()", b"-ERR wrong number or type of arguments\r\n"),
        ("return redis.sha1hex('')", b"$40\r\nda39a3ee5e6b4b0d3255bfef95601890afd80709\r\n"),
        ("return redis.sha1hex(123)", b"$40\r\n40bd001563085fc35165329ea1ff5c5ecbdbbeef\r\n"),
        ("return redis.sha1hex({})", b"$40\r\nda39a3ee5e6b4b0d3255bfef95601890afd80709\r\n"),
        ("redis.log(redis.LOG_WARNING, 'hello', 'world') return 1", b":1\r\n"),
        ("redis.log('3', 'y') return 1", b":1\r\n"),
        ("redis.log(3, {}, 'y', 5) return 1", b":1\r\n"),
        ("return redis.setresp('3')", b"$-1\r\n"),
        ("return redis.set_repl(redis.REPL_ALL)", b"$-1\r\n"),
        ("return redis.set_repl('x')", b"$-1\r\n"),
        ("return redis.replicate_commands()", b":1\r\n"),
        ("return redis.breakpoint()", b"$-1\r\n"),
        ("return redis.debug('x')", b"$-1\r\n"),
        ("return redis.acl_check_cmd('get', 'x')", b":1\r\n"),
        (
            "return {redis.REDIS_VERSION, redis.REDIS_VERSION_NUM, redis.LOG_DEBUG, redis.LOG_VERBOSE,"
            " redis.LOG_NOTICE, redis.LOG_WARNING, redis.REPL_ALL, redis.REPL_AOF, redis.REPL_NONE,"
            " redis.REPL_REPLICA, redis.REPL_SLAVE}",
            b"*11\r\n$6\r\n7.0.15\r\n:458767\r\n:0\r\n:1\r\n:2\r\n:3\r\n:3\r\n:1\r\n:0\r\n:2\r\n:2\r\n",
        ),
    ],
)
def test_redis_api(h: Harness, script: str, reply: bytes) -> None:
    assert h.raw("EVAL", script, "0") == reply


def test_redis_log_writes_to_the_server_log() -> None:
    lines: list[tuple[str, str]] = []
    h = Harness()
    h.engine.log = lambda level, msg: lines.append((level, msg))
    h.raw("EVAL", "redis.log(redis.LOG_NOTICE, 'a', {}, 'b', 5) return 1", "0")
    assert lines == [("notice", "a b 5")]


# --- the sandbox ------------------------------------------------------------------------------
GLOBALS = (
    b"ARGV KEYS _G _VERSION __redis__err__handler assert bit cjson cmsgpack "
    b"collectgarbage coroutine error gcinfo getmetatable ipairs load loadstring math next "
    b"pairs pcall rawequal rawget rawset redis select setmetatable string struct table "
    b"tonumber tostring type unpack xpcall"
).split()


def test_globals_are_redis_s(h: Harness) -> None:
    reply = h(
        "EVAL", "local t={} for k,v in pairs(_G) do t[#t+1]=k end table.sort(t) return t", "0"
    )
    assert reply == GLOBALS


@pytest.mark.parametrize(
    ("library", "names"),
    [
        (
            "string",
            "byte char dump find format gfind gmatch gsub len lower match rep reverse sub upper",
        ),
        ("table", "concat foreach foreachi getn insert maxn remove setn sort"),
        ("coroutine", "create resume running status wrap yield"),
        ("bit", "arshift band bnot bor bswap bxor lshift rol ror rshift tobit tohex"),
        ("struct", "pack size unpack"),
        ("cmsgpack", "_COPYRIGHT _DESCRIPTION _NAME _VERSION pack unpack unpack_limit unpack_one"),
        (
            "cjson",
            "_NAME _VERSION decode decode_invalid_numbers decode_max_depth encode "
            "encode_invalid_numbers encode_keep_buffer encode_max_depth "
            "encode_number_precision encode_sparse_array new null",
        ),
        (
            "redis",
            "LOG_DEBUG LOG_NOTICE LOG_VERBOSE LOG_WARNING REDIS_VERSION REDIS_VERSION_NUM "
            "REPL_ALL REPL_AOF REPL_NONE REPL_REPLICA REPL_SLAVE acl_check_cmd breakpoint call "
            "debug error_reply log pcall replicate_commands set_repl setresp sha1hex "
            "status_reply",
        ),
    ],
)
def test_libraries_hold_what_redis_loads(h: Harness, library: str, names: str) -> None:
    script = f"local t={{}} for k,v in pairs({library}) do t[#t+1]=k end table.sort(t) return t"
    assert h("EVAL", script, "0") == names.encode().split()


@pytest.mark.parametrize(
    ("script", "message"),
    [
        ("x = 1", "ERR user_script:1: Attempt to modify a readonly table"),
        ("_G.x = 1", "ERR user_script:1: Attempt to modify a readonly table"),
        ("function f() end", "ERR user_script:1: Attempt to modify a readonly table"),
        ("KEYS = 5 return 1", "ERR user_script:1: Attempt to modify a readonly table"),
        ("rawset(_G, 'x', 1) return 1", "ERR Attempt to modify a readonly table"),
        ("setmetatable(_G, nil) x = 1 return x", "ERR Attempt to modify a readonly table"),
        (
            "local mt = getmetatable(_G) mt.__newindex = nil x = 5 return x",
            "ERR user_script:1: Attempt to modify a readonly table",
        ),
        (
            "getmetatable(_G).x = 1 return 1",
            "ERR user_script:1: Attempt to modify a readonly table",
        ),
        ("string.foo = 1 return 1", "ERR user_script:1: Attempt to modify a readonly table"),
        (
            "redis.call = function() return 1 end return 1",
            "ERR user_script:1: Attempt to modify a readonly table",
        ),
        ("cjson.encode = 1 return 1", "ERR user_script:1: Attempt to modify a readonly table"),
        (
            "getmetatable('').__index.foo = 1 return 1",
            "ERR user_script:1: Attempt to modify a readonly table",
        ),
        (
            "getmetatable('').__index = nil return 1",
            "ERR user_script:1: Attempt to modify a readonly table",
        ),
        ("table.insert(string, 1) return 1", "ERR Attempt to modify a readonly table"),
        (
            "local a = x",
            "ERR user_script:1: Script attempted to access nonexistent global variable 'x'",
        ),
        (
            "return print",
            "ERR user_script:1: Script attempted to access nonexistent global variable 'print'",
        ),
        (
            "return dofile('/etc/passwd')",
            "ERR user_script:1: Script attempted to access nonexistent global variable 'dofile'",
        ),
        (
            "return os",
            "ERR user_script:1: Script attempted to access nonexistent global variable 'os'",
        ),
        (
            "return io",
            "ERR user_script:1: Script attempted to access nonexistent global variable 'io'",
        ),
        (
            "return debug",
            "ERR user_script:1: Script attempted to access nonexistent global variable 'debug'",
        ),
        (
            "return getfenv",
            "ERR user_script:1: Script attempted to access nonexistent global variable 'getfenv'",
        ),
        (
            "return python",
            "ERR user_script:1: Script attempted to access nonexistent global variable 'python'",
        ),
        (
            "local f = function() return y end return f()",
            "ERR user_script:1: Script attempted to access nonexistent global variable 'y'",
        ),
    ],
)
def test_sandbox_refuses(h: Harness, script: str, message: str) -> None:
    assert h.raw("EVAL", script, "0") == failure(script, message)


@pytest.mark.parametrize(
    ("script", "reply"),
    [
        ("return rawget(_G, 'print')", b"$-1\r\n"),
        ("return type(rawget(_G,'newproxy'))", b"$3\r\nnil\r\n"),
        ("return type(rawget(_G,'require'))", b"$3\r\nnil\r\n"),
        ("return type(rawget(_G,'module'))", b"$3\r\nnil\r\n"),
        ("return getmetatable(_G)", b"*0\r\n"),
        (
            "local t = getmetatable(_G) return {type(t.__index), type(t.__newindex)}",
            b"*2\r\n$8\r\nfunction\r\n$3\r\nnil\r\n",
        ),
        ("return getmetatable('').__index == string", b":1\r\n"),
        ("return tostring(_G == _G._G)", b"$4\r\ntrue\r\n"),
        ("return #_G", b":0\r\n"),
        ("return #redis", b":0\r\n"),
        ("return rawequal(_G, _G)", b":1\r\n"),
        ("return type(_G)", b"$5\r\ntable\r\n"),
        ("return type(redis.call)", b"$8\r\nfunction\r\n"),
        ("return tostring(redis.call):sub(1, 10)", b"$10\r\nfunction: \r\n"),
        ("return tostring(cjson.null)", b"$15\r\nuserdata: (nil)\r\n"),
        ("return {ipairs(redis)}", b"*3\r\n$-1\r\n*0\r\n:0\r\n"),
        ("local n = 0 for k, v in pairs(redis) do n = n + 1 end return n", b":23\r\n"),
        ("table.sort(redis) return 1", b":1\r\n"),
        ("KEYS[1] = 'x' return KEYS", b"*1\r\n$1\r\nx\r\n"),
        ("local t = {} setmetatable(t, {__index=function() return 5 end}) return t.x", b":5\r\n"),
        ("return loadstring('return 1')()", b":1\r\n"),
        ("return {loadstring('return 1', '=x')()}", b"*1\r\n:1\r\n"),
        ("return loadstring(string.dump(function() return 1 end))", b"$-1\r\n"),
        (
            "local f, e = loadstring(string.dump(function() end)) return e",
            b"$53\r\n[string \"\x1bLuaQ\"]:1: unexpected symbol near 'char(27)'\r\n",
        ),
        (
            "local f, e = loadstring('return +') return e",
            b"$49\r\n[string \"return +\"]:1: unexpected symbol near '+'\r\n",
        ),
        (
            "local f, e = loadstring('return +', '@x') return e",
            b"$31\r\nx:1: unexpected symbol near '+'\r\n",
        ),
        (
            "local n = 0 return {load(function() n = n + 1 if n == 1 then return 'return 7' end end)()}",
            b"*1\r\n:7\r\n",
        ),
        ("return {load(function() return nil end)}", b"*1\r\n$-1\r\n"),
        # Errors while reading come back from load as the error handler's table.
        (
            "local f, e = load(function() return {} end) return e",
            b"-ERR user_script:1: reader function must return a string\r\n",
        ),
        (
            "local f, e = load(function() error('r') end) return e.err",
            b"$20\r\nERR user_script:1: r\r\n",
        ),
        ("return string.dump(function() end):len() > 0", b":1\r\n"),
        ("return collectgarbage('count') > 0", b":1\r\n"),
        ("return gcinfo() > 0", b":1\r\n"),
        (
            "return {coroutine.resume(coroutine.create(function(a) return a + 1 end), 1)}",
            b"*2\r\n:1\r\n:2\r\n",
        ),
        (
            "local co = coroutine.wrap(function() coroutine.yield(1) return 2 end) return {co(), co()}",
            b"*2\r\n:1\r\n:2\r\n",
        ),
        ("return string.format('%d %s %5.2f', 3, 'x', 2.5)", b"$9\r\n3 x  2.50\r\n"),
        ("return tostring(1e15)", b"$5\r\n1e+15\r\n"),
        ("return tonumber('0x10')", b":16\r\n"),
        ("return table.sort({3,1,2}, function(a, b) return true end)", b"$-1\r\n"),
        ("return _VERSION", b"$7\r\nLua 5.1\r\n"),
    ],
)
def test_sandbox_allows(h: Harness, script: str, reply: bytes) -> None:
    assert h.raw("EVAL", script, "0") == reply


def test_loadstring_chunks_run_in_the_sandbox(h: Harness) -> None:
    script = "local f = loadstring('return y') return f()"
    assert h.raw("EVAL", script, "0") == (
        b'-ERR [string "return y"]:1: Script attempted to access nonexistent global variable '
        b"'y' script: " + sha(script) + b", on return y:1.\r\n"
    )
    script = "return loadstring('x=1')()"
    assert h.raw("EVAL", script, "0") == (
        b'-ERR [string "x=1"]:1: Attempt to modify a readonly table script: '
        + sha(script)
        + b", on x=1:1.\r\n"
    )
    script = "local f = loadstring('error(\"x\")', '@name') return f()"
    assert h.raw("EVAL", script, "0") == (
        b"-ERR name:1: x script: " + sha(script) + b", on @name:1.\r\n"
    )


def test_globals_do_not_leak_between_scripts(h: Harness) -> None:
    h.raw("EVAL", "KEYS[1] = 'changed' return 1", "1", "k")
    assert h("EVAL", "return KEYS", "1", "k") == [b"k"]
    assert h("EVAL", "return #ARGV", "0") == 0


# --- math.random ----------------------------------------------------------------------------
def test_math_random_continues_redis_s_drand48_sequence() -> None:
    h = Harness()
    assert h("EVAL", "return tostring(math.random())", "0") == b"0.39646477363839"
    assert h("EVAL", "return tostring(math.random())", "0") == b"0.84048536971234"
    assert h("EVAL", "return tostring(math.random())", "0") == b"0.35333609737146"
    assert h(
        "EVAL", "math.randomseed(42) return {tostring(math.random()), math.random(100)}", "0"
    ) == [b"0.74452500033403", 35]


def test_math_random_ranges() -> None:
    h = Harness()
    assert h(
        "EVAL",
        "return {tostring(math.random()), math.random(100), math.random(5,10), "
        "tostring(math.random())}",
        "0",
    ) == [b"0.39646477363839", 85, 7, b"0.44658343468168"]


# --- EVAL arguments and the cache --------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "reply"),
    [
        (("return 1", "-1"), b"-ERR Number of keys can't be negative\r\n"),
        (("return 1", "abc"), b"-ERR value is not an integer or out of range\r\n"),
        (("return 1", "2", "a"), b"-ERR Number of keys can't be greater than number of args\r\n"),
        (("return 1", "0", "a"), b":1\r\n"),
        (
            ("return +", "0"),
            b"-ERR Error compiling script (new function): user_script:1: unexpected symbol near '+'\r\n",
        ),
        (
            ("return 1 +", "0"),
            b"-ERR Error compiling script (new function): user_script:1: "
            b"unexpected symbol near '<eof>'\r\n",
        ),
        (
            ("return {ok='fi\r\nne'}", "0"),
            b"-ERR Error compiling script (new function): "
            b"user_script:1: unfinished string near ''fi'\r\n",
        ),
    ],
)
def test_eval_arguments(h: Harness, args: tuple[str, ...], reply: bytes) -> None:
    assert h.raw("EVAL", *args) == reply


def test_evalsha_runs_cached_scripts(h: Harness) -> None:
    missing = b"-NOSCRIPT No matching script. Please use EVAL.\r\n"
    digest = "e0e1f9fabfc9d4800c877a703b823ac0578ff8db"
    assert h.raw("EVALSHA", digest, "0") == missing
    assert h.raw("SCRIPT", "LOAD", "return 1") == b"$40\r\n" + digest.encode() + b"\r\n"
    assert h.raw("EVALSHA", digest, "0") == b":1\r\n"
    assert h.raw("EVALSHA", digest.upper(), "0") == b":1\r\n"
    assert h.raw("EVALSHA_RO", digest, "0") == b":1\r\n"
    assert h.raw("EVALSHA", digest[:-1], "0") == missing
    assert h.raw("EVALSHA", digest + "x", "0") == missing
    assert h.raw("EVALSHA", digest + "x", "x") == missing  # the length is checked first
    assert h.raw("EVALSHA", digest, "x") == b"-ERR value is not an integer or out of range\r\n"
    assert h.raw("EVALSHA", "0" * 40, "x") == b"-ERR value is not an integer or out of range\r\n"


def test_eval_caches_what_it_runs(h: Harness) -> None:
    h.raw("EVAL", "return 2", "0")
    assert h("SCRIPT", "EXISTS", sha("return 2").decode(), "nope") == [1, 0]
    assert h("EVALSHA", sha("return 2").decode(), "0") == 2
    h("SCRIPT", "FLUSH")
    assert h("SCRIPT", "EXISTS", sha("return 2").decode()) == [0]


@pytest.mark.parametrize(
    ("args", "reply"),
    [
        (
            ("LOAD", "return +"),
            b"-ERR Error compiling script (new function): user_script:1: "
            b"unexpected symbol near '+'\r\n",
        ),
        (
            ("LOAD", "#!lua flags=bogus\nreturn 1"),
            b"-ERR Unexpected flag in script shebang: bogus\r\n",
        ),
        (("LOAD",), b"-ERR wrong number of arguments for 'script|load' command\r\n"),
        (("EXISTS",), b"-ERR wrong number of arguments for 'script|exists' command\r\n"),
        (("FLUSH", "ASYNC"), b"+OK\r\n"),
        (("FLUSH", "sync"), b"+OK\r\n"),
        (("FLUSH", "bogus"), b"-ERR SCRIPT FLUSH only support SYNC|ASYNC option\r\n"),
        (("FLUSH", "SYNC", "ASYNC"), b"-ERR SCRIPT FLUSH only support SYNC|ASYNC option\r\n"),
        (("KILL",), b"-NOTBUSY No scripts in execution right now.\r\n"),
        (("KILL", "x"), b"-ERR wrong number of arguments for 'script|kill' command\r\n"),
        (("HELP", "x"), b"-ERR wrong number of arguments for 'script|help' command\r\n"),
        (("bogus",), b"-ERR unknown subcommand 'bogus'. Try SCRIPT HELP.\r\n"),
    ],
)
def test_script_subcommands(h: Harness, args: tuple[str, ...], reply: bytes) -> None:
    assert h.raw("SCRIPT", *args) == reply


def test_script_help(h: Harness) -> None:
    assert h("SCRIPT", "HELP")[:3] == [
        b"SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        b"DEBUG (YES|SYNC|NO)",
        b"    Set the debug mode for subsequent scripts executed.",
    ]
    assert len(h("SCRIPT", "HELP")) == 17


# --- shebangs, flags, read-only scripts -------------------------------------------------------
@pytest.mark.parametrize(
    ("script", "reply"),
    [
        ("#!lua flags=bogus\nreturn 1", b"-ERR Unexpected flag in script shebang: bogus\r\n"),
        (
            "#!lua flags=no-writes,bogus\nreturn 1",
            b"-ERR Unexpected flag in script shebang: bogus\r\n",
        ),
        ("#!lua flags=\nreturn 1", b":1\r\n"),
        ("#!lua flags=no-writes,\nreturn 1", b"-ERR Unexpected flag in script shebang: \r\n"),
        ("#!lua flags=,no-writes\nreturn 1", b"-ERR Unexpected flag in script shebang: \r\n"),
        ("#!lua  flags=no-writes\nreturn 1", b":1\r\n"),
        ("#!lua flags=no-writes flags=allow-oom\nreturn 1", b":1\r\n"),
        ("#!lua name=x\nreturn 1", b"-ERR Unknown lua shebang option: name=x\r\n"),
        ("#!lua x\nreturn 1", b"-ERR Unknown lua shebang option: x\r\n"),
        ("#!luax\nreturn 1", b"-ERR Unexpected engine in script shebang: #!luax\r\n"),
        ("#!python\nreturn 1", b"-ERR Unexpected engine in script shebang: #!python\r\n"),
        ("#!\nreturn 1", b"-ERR Unexpected engine in script shebang: #!\r\n"),
        ("#!lua", b"-ERR Invalid script shebang\r\n"),
        ("#!lua flags=no-writes", b"-ERR Invalid script shebang\r\n"),
        ("#!lua\n", b"$-1\r\n"),
        (
            "#lua\nreturn 1",
            b"-ERR Error compiling script (new function): user_script:1: unexpected "
            b"symbol near '#'\r\n",
        ),
        (
            "#!lua flags=no-writes,allow-oom,allow-stale,no-cluster,allow-cross-slot-keys\nreturn 1",
            b":1\r\n",
        ),
        (
            "#!lua\nreturn 1 +",
            b"-ERR Error compiling script (new function): user_script:2: "
            b"unexpected symbol near '<eof>'\r\n",
        ),
    ],
)
def test_shebangs(h: Harness, script: str, reply: bytes) -> None:
    assert h.raw("EVAL", script, "0") == reply


def test_shebang_keeps_line_numbers(h: Harness) -> None:
    script = "#!lua\nerror('x')"
    assert h.raw("EVAL", script, "0") == failure(script, "ERR user_script:2: x", 2)


def test_read_only_scripts_refuse_writes(h: Harness) -> None:
    refused = "ERR Write commands are not allowed from read-only scripts."
    script = "return redis.call('set','x','y')"
    assert h.raw("EVAL_RO", script, "0") == failure(script, refused)
    script = "#!lua flags=no-writes\nreturn redis.call('set','x','y')"
    assert h.raw("EVAL_RO", script, "0") == failure(script, refused, 2)
    assert h.raw("EVAL", script, "0") == failure(script, refused, 2)
    assert h("EXISTS", "x") == 0
    assert (
        h.raw("EVAL_RO", "#!lua flags=no-writes\nreturn redis.call('get','x')", "0") == b"$-1\r\n"
    )
    # A script that declared flags but not no-writes cannot run as read-only at all.
    script = "#!lua\nreturn 1"
    assert (
        h.raw("EVAL_RO", script, "0")
        == b"-ERR Can not execute a script with write flag using *_ro command.\r\n"
    )
    assert h("SCRIPT", "EXISTS", sha(script).decode()) == [1]
    assert h.raw("EVAL", "#!lua\nreturn redis.call('set','x','y')", "0") == b"+OK\r\n"


def test_may_replicate_commands_count_as_writes(h: Harness) -> None:
    script = "return redis.call('eval_ro', 'return 1', '0')"
    assert h.raw("EVAL_RO", script, "0") == failure(
        script, "ERR This Redis command is not allowed from script"
    )


def test_scripts_never_block(h: Harness) -> None:
    assert (
        h.raw("EVAL", "return redis.call('xread', 'count', '1', 'streams', 's', '$')", "0")
        == b"$-1\r\n"
    )
    # BLOCK itself is refused from scripts (before its timeout is even parsed), as 7.0 does.
    h("XADD", "s", "1-1", "a", "b")
    for script, name in (
        ("return redis.call('XREAD', 'block', '0', 'streams', 's', '0')", "XREAD"),
        (
            "return redis.call('xreadgroup', 'group', 'g', 'c', 'BLOCK', 'x', 'streams', 's', '>')",
            "xreadgroup",
        ),
    ):
        assert h.raw("EVAL", script, "0") == failure(
            script, f"ERR {name} command is not allowed with BLOCK option from scripts"
        )
    assert h.raw("XREAD", "BLOCK", "0", "STREAMS", "s", "0")[:4] == b"*1\r\n"


# --- errorstats -------------------------------------------------------------------------------
def test_errorstats_count_each_error_once(h: Harness) -> None:
    h("SET", "str", "x")
    h.raw("EVAL", "return redis.call('nosuch')", "0")
    h.raw("EVAL", "return redis.call('incr','str')", "0")
    h.raw("EVAL", "return redis.pcall('incr','str')", "0")
    assert h.engine.stats.error_codes == {"ERR": 3}
    h.raw("EVAL", "return {err='MYERR x'}", "0")
    h.raw("EVAL", "return {{err='NESTED x'}}", "0")
    h.raw("EVAL", "error('x')", "0")
    h.raw("EVAL", "return redis.error_reply('E2 x')", "0")
    assert h.engine.stats.error_codes == {"ERR": 4, "MYERR": 1, "NESTED": 1, "E2": 1}


# --- busy scripts -------------------------------------------------------------------------------
class Clock:
    """A monotonic clock that moves `step` ms each time it is read."""

    def __init__(self, step: int) -> None:
        self.now = 0
        self.step = step

    def __call__(self) -> int:
        self.now += self.step
        return self.now


def busy_harness() -> tuple[Harness, Harness, list[bytes]]:
    h = Harness(busy_reply_threshold="5")
    other = h.client_harness()
    h.engine.monotonic_ms = Clock(1)
    served: list[bytes] = []
    return h, other, served


def test_a_busy_script_serves_others_with_busy_and_dies_by_script_kill() -> None:
    h, other, served = busy_harness()

    def serve() -> None:
        for argv in ([b"GET", b"k"], [b"PING"], [b"SCRIPT", b"KILL"]):
            other.client.out.clear()
            h.engine.execute_busy(other.client, argv)
            served.append(b"".join(other.client.out))

    h.engine.serve_while_busy = serve
    script = "local i = 0 while true do i = i + 1 end"
    assert h.raw("EVAL", script, "0") == failure(
        script, "ERR Script killed by user with SCRIPT KILL..."
    )
    busy = (
        b"-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN "
        b"NOSAVE.\r\n"
    )
    assert served == [busy, busy, b"+OK\r\n"]
    assert h("PING") == b"PONG"


@pytest.mark.parametrize(
    "script",
    [
        "coroutine.wrap(function() while true do end end)()",
        "local co = coroutine.create(function() while true do end end) coroutine.resume(co) "
        "while true do end",
        "local co = coroutine.create(function() local c2 = coroutine.wrap(function() "
        "while true do end end) c2() end) coroutine.resume(co) while true do end",
    ],
)
def test_a_spin_inside_a_coroutine_is_busy_and_killable(script: str) -> None:
    """Coroutines get the count hook of the thread that made them (Lua's debug hooks are per
    thread): without it, a spin in one never let the server answer or be killed."""
    h, other, served = busy_harness()

    def serve() -> None:
        for argv in ([b"PING"], [b"SCRIPT", b"KILL"]):
            other.client.out.clear()
            h.engine.execute_busy(other.client, argv)
            served.append(b"".join(other.client.out))

    h.engine.serve_while_busy = serve
    assert h.raw("EVAL", script, "0") == failure(
        script, "ERR Script killed by user with SCRIPT KILL..."
    )
    assert served[:2] == [
        b"-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN "
        b"NOSAVE.\r\n",
        b"+OK\r\n",
    ]


def test_a_killed_script_cannot_catch_the_kill_with_pcall() -> None:
    h, other, _ = busy_harness()
    h.engine.serve_while_busy = lambda: h.engine.execute_busy(other.client, [b"SCRIPT", b"KILL"])
    script = "while true do pcall(function() while true do end end) end"
    assert h.raw("EVAL", script, "0") == failure(
        script, "ERR Script killed by user with SCRIPT KILL..."
    )


def test_a_script_that_wrote_is_unkillable() -> None:
    h, other, served = busy_harness()

    def serve() -> None:
        other.client.out.clear()
        h.engine.execute_busy(other.client, [b"SCRIPT", b"KILL"])
        served.append(b"".join(other.client.out))

    h.engine.serve_while_busy = serve
    script = "redis.call('set', 'x', 1) local n = 0 while n < 2000000 do n = n + 1 end return n"
    assert h.raw("EVAL", script, "0") == b":2000000\r\n"
    assert served[0] == (
        b"-UNKILLABLE Sorry the script already executed write commands against"
        b" the dataset. You can either wait the script termination or kill the"
        b" server in a hard way using the SHUTDOWN NOSAVE command.\r\n"
    )


def test_function_kill_refuses_an_eval_script() -> None:
    h, other, served = busy_harness()

    def serve() -> None:
        other.client.out.clear()
        h.engine.execute_busy(other.client, [b"FUNCTION", b"KILL"])
        served.append(b"".join(other.client.out))
        h.engine.execute_busy(other.client, [b"SCRIPT", b"KILL"])

    h.engine.serve_while_busy = serve
    h.raw("EVAL", "while true do end", "0")
    assert served == [
        b"-BUSY Redis is busy running a script. You can only call SCRIPT KILL or "
        b"SHUTDOWN NOSAVE.\r\n"
    ]


def test_below_the_threshold_nobody_is_served() -> None:
    h = Harness(busy_reply_threshold="100000")
    h.engine.monotonic_ms = Clock(1)
    h.engine.serve_while_busy = lambda: pytest.fail("served while not busy")
    assert h("EVAL", "local n = 0 while n < 300000 do n = n + 1 end return n", "0") == 300000


def test_busy_commands_inside_multi_flag_the_transaction() -> None:
    h, other, served = busy_harness()
    killer = h.client_harness()
    other("MULTI")

    def serve() -> None:
        other.client.out.clear()
        h.engine.execute_busy(other.client, [b"GET", b"k"])
        served.append(b"".join(other.client.out))
        h.engine.execute_busy(killer.client, [b"SCRIPT", b"KILL"])

    h.engine.serve_while_busy = serve
    h.raw("EVAL", "while true do end", "0")
    assert other.raw("EXEC") == (
        b"-EXECABORT Transaction discarded because of previous errors.\r\n"
    )


# --- ACL, propagation --------------------------------------------------------------------------
def test_scripts_run_with_the_caller_s_permissions(h: Harness) -> None:
    h("ACL", "SETUSER", "limited", "on", "nopass", "+eval", "+get", "~allowed*", "-set")
    h("AUTH", "limited", "x")
    assert h("EVAL", "return redis.call('get', 'allowed1')", "0") is None
    script = "return redis.call('set', 'allowed1', 'x')"
    assert h.raw("EVAL", script, "0") == failure(
        script, "ERR The user executing the script can't run this command or subcommand"
    )
    script = "return redis.call('get', 'other')"
    assert h.raw("EVAL", script, "0") == failure(
        script,
        "ERR The user executing the script can't access at least one of the keys "
        "mentioned in the command arguments",
    )
    assert h(
        "EVAL",
        "return {redis.acl_check_cmd('get', 'allowed1'), "
        "redis.acl_check_cmd('set', 'allowed1', 'x')}",
        "0",
    ) == [1, None]
    h("AUTH", "default", "x")
    log = h("ACL", "LOG")
    assert [entry[5] for entry in log] == [b"lua", b"lua"]


def propagating() -> Harness:
    h = Harness()
    h.engine.propagating = True
    h.engine.refresh_dispatch()
    return h


def test_scripts_propagate_their_effects_not_themselves() -> None:
    h = propagating()
    h("EVAL", "redis.call('set', 'a', '1') redis.call('incr', 'a') return 1", "0")
    assert h.engine.propagated == [
        (0, [b"MULTI"]),
        (0, [b"set", b"a", b"1"]),
        (0, [b"incr", b"a"]),
        (-1, [b"EXEC"]),
    ]
    h.engine.propagated.clear()
    h("EVAL", "return redis.call('get', 'a')", "0")
    h("EVAL", "redis.call('set', 'b', 'x') error('fails after a write')", "0")
    assert h.engine.propagated == [(0, [b"set", b"b", b"x"])]
    h.engine.propagated.clear()
    h("EVAL", "redis.call('select', 2) redis.call('set', 'c', '1', 'EX', '100') return 1", "0")
    assert h.engine.propagated == [(2, [b"SET", b"c", b"1", b"PXAT", b"1700000100000"])]


def test_functions_propagate_as_loaded_and_as_effects() -> None:
    h = propagating()
    code = (
        "#!lua name=x\nredis.register_function('f', function() "
        "return redis.call('rpush', 'l', 'v') end)"
    )
    h("FUNCTION", "LOAD", code)
    h("FCALL", "f", "0")
    assert h.engine.propagated == [
        (0, [b"FUNCTION", b"LOAD", code.encode()]),
        (0, [b"rpush", b"l", b"v"]),
    ]


# --- common patterns ---------------------------------------------------------------------------
RATE_LIMIT = """
local current = redis.call('INCR', KEYS[1])
if current == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
if current > tonumber(ARGV[2]) then return 0 end
return 1
"""
RELEASE_LOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
SLIDING_WINDOW = """
local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], 0, now - window)
if redis.call('ZCARD', KEYS[1]) >= limit then return 0 end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], window)
return 1
"""


def test_fixed_window_rate_limiter(h: Harness) -> None:
    assert [h("EVAL", RATE_LIMIT, "1", "rl:user", "60", "3") for _ in range(5)] == [1, 1, 1, 0, 0]
    assert h("TTL", "rl:user") == 60


def test_lock_release_only_by_its_owner(h: Harness) -> None:
    h("SET", "lock", "token-a", "NX", "PX", "30000")
    assert h("EVAL", RELEASE_LOCK, "1", "lock", "token-b") == 0
    assert h("EVAL", RELEASE_LOCK, "1", "lock", "token-a") == 1
    assert h("EXISTS", "lock") == 0


def test_sliding_window_rate_limiter(h: Harness) -> None:
    allowed = [
        h("EVAL", SLIDING_WINDOW, "1", "sw", str(t), "1000", "2", f"req{t}")
        for t in (0, 100, 200, 1150, 1300)
    ]
    assert allowed == [1, 1, 0, 1, 1]
    assert h("ZRANGE", "sw", "0", "-1") == [b"req1150", b"req1300"]


# --- maxmemory --------------------------------------------------------------------------------
def test_scripts_under_maxmemory() -> None:
    h = Harness()
    h(
        "FUNCTION",
        "LOAD",
        "#!lua name=m\nredis.register_function('fw', function() return "
        "redis.call('set', 'a', 'b') end) redis.register_function{"
        "function_name='fo', callback=function() return redis.call('set', "
        "'a', 'b') end, flags={'allow-oom'}}",
    )
    h("SET", "a", "b")  # the pure engine counts only the dataset against maxmemory
    h("CONFIG", "SET", "maxmemory", "1")
    oom = b"-OOM command not allowed when used memory > 'maxmemory'.\r\n"
    assert h.raw("EVAL", "return 1", "0") == b":1\r\n"
    assert h.raw("EVAL", "#!lua\nreturn 1", "0") == oom
    assert h.raw("EVAL", "#!lua flags=no-writes\nreturn 1", "0") == b":1\r\n"
    assert (
        h.raw("EVAL", "#!lua flags=allow-oom\nreturn redis.call('set', 'a', 'b')", "0")
        == b"+OK\r\n"
    )
    script = "return redis.call('set', 'a', 'b')"
    assert h.raw("EVAL", script, "0") == failure(
        script, "OOM command not allowed when used memory > 'maxmemory'."
    )
    assert h.raw("EVAL", "return redis.call('get', 'a')", "0") == b"$1\r\nb\r\n"
    # A script that already changed the dataset is not stopped halfway.
    assert (
        h.raw("EVAL", "redis.call('del', 'a') return redis.call('set', 'a', 'b')", "0")
        == b"+OK\r\n"
    )
    assert h.raw("FCALL", "fw", "0") == oom
    assert h.raw("FCALL", "fo", "0") == b"+OK\r\n"


# --- Lua objects made inside coroutines -------------------------------------------------
# Each runs its body in 300 coroutines that the script drops, then collects them: Python
# objects tied to a coroutine's Lua state (arguments, error values, tracebacks) that
# outlived it used to be released through its freed state, and the server segfaulted.
_COROUTINE_BODIES = [
    "redis.call({})",
    "redis.pcall('set', {}, 1)",
    "local x = redis.call[{}]",
    "pcall(error, {})",
    "pcall(cjson.encode, {function() end})",
    "cmsgpack.pack(coroutine.create(function() end), {1}, {a={}})",
    "redis.log(redis.LOG_WARNING, {})",
    "redis.sha1hex({})",
    "bit.band({}, 1)",
    "struct.pack('i', {})",
    "redis.error_reply({})",
    "redis.setresp({})",
    "local j = cjson.new() j.encode({{}})",
    "xpcall(function() error({}) end, function(e) return e end)",
    "coroutine.wrap(function() error({}) end)()",
    "redis.call('ping')",
    "pcall(cjson.null, {})",
]
_CHILD = """
from tests.support import Harness
h = Harness()
for body in BODIES:
    script = (
        "for i = 1, 300 do local co = coroutine.create(function() " + body + " end) "
        "coroutine.resume(co) end collectgarbage() collectgarbage() return 1"
    )
    assert h("EVAL", script, 0) == 1, body
    h("EVAL", "local t = {} for i = 1, 10000 do t[i] = {i} end collectgarbage() return 1", 0)
print("survived")
"""


def test_lua_objects_from_coroutines_do_not_outlive_them() -> None:
    """A child process, so that a crash fails the test instead of ending the run; glibc's
    MALLOC_PERTURB_ overwrites freed memory, so a use after free crashes every time."""
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "MALLOC_PERTURB_": "85", "PYTHONPATH": str(root)}
    code = f"BODIES = {_COROUTINE_BODIES!r}\n{_CHILD}"
    child = subprocess.run(
        [sys.executable, "-X", "faulthandler", "-c", code],
        env=env,
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert (child.returncode, child.stdout.strip()) == (0, "survived"), child.stderr[-3000:]


def test_cjson_new_modules_are_collected(h: Harness) -> None:
    """cjson.new() makes a module of new library functions; once a script drops it, Lua
    collects it and the functions go (they were kept for the interpreter's life)."""
    h("EVAL", "collectgarbage() return 1", "0")
    vm = h.engine.scripting.vm
    before = len(vm._funcs)
    script = "for i = 1, 500 do cjson.new().encode({i}) end collectgarbage() return 1"
    assert h("EVAL", script, "0") == 1
    gc.collect()
    assert len(vm._funcs) == before


def test_calling_cjson_null_is_a_lua_error(h: Harness) -> None:
    """Redis: "attempt to call field 'null' (a userdata value)"; lupa lets Lua call any
    Python object, so slotd gives Lua's message without the position and field name."""
    assert h("EVAL", "return {pcall(cjson.null, {})}", "0") == [
        None,
        b"attempt to call a userdata value",
    ]
    script = "return cjson.null()"
    assert h.raw("EVAL", script, "0") == failure(script, "ERR attempt to call a userdata value")
