"""EVAL, SCRIPT, FCALL and FUNCTION against a real redis-server 7.0.15, reply bytes compared
(RESP2 and RESP3): Lua <-> RESP conversions, the sandbox, the redis API, error texts with
their positions, and the cjson/cmsgpack/bit/struct libraries.

The two session servers keep their Lua state between tests, so a test that changes cjson's
settings restores them (SCRIPT FLUSH), FUNCTION tests start with FUNCTION FLUSH, and
math.random is always seeded first (its state is process-wide in Redis).

Known, accepted differences (not exercised here): lupa hands Lua's -0 over to Python as 0
(so `redis.call(..., -0.0)` and cjson.encode(-0.0) say "0"), and indexing a library function
or cjson.null names no field in the error ("attempt to index a function value").
"""

from __future__ import annotations

import pytest

from tests.compat.conftest import Differ

pytestmark = pytest.mark.interop


def each(diff: Differ, scripts: list[str], *args: str) -> None:
    for script in scripts:
        diff("EVAL", script, *(args or ("0",)))


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def proto(request: pytest.FixtureRequest, diff: Differ) -> int:
    if request.param == 3:
        assert diff.both("HELLO", "3")[0][:1] == b"%"
    return int(request.param)


CONVERSIONS = [
    "return 1",
    "return",
    "return nil",
    "return true",
    "return false",
    "return 3.99",
    "return -3.99",
    "return 2^53",
    "return 1e20",
    "return 0/0",
    "return 'a\\0b'",
    "return {1,2,{3,'x',{}} , false, 5}",
    "return {1,2.7,'a',nil,4}",
    "return {1, 2, 3, nil, 5, n=3}",
    "return {a=1}",
    "return {err='My Error'}",
    "return {err='-My Error'}",
    "return {err=''}",
    "return {err=5}",
    "return {1, err='x'}",
    "return {err='\\nabc\\n'}",
    "return {err='a\\r\\nb\\n'}",
    "return {err='a\\0b'}",
    "return {ok='fine'}",
    "return {ok='a\\0b'}",
    "return {{err='inner'}}",
    "return {{ok='inner'}, {double=1.5}}",
    "return {double=3.5}",
    "return {double=0.1}",
    "return {double=0/0}",
    "return {double=1/0}",
    "return {double=-1/0}",
    "return {map={a=1}}",
    "return {set={a=true}}",
    "return {big_number='123'}",
    "return {verbatim_string={format='txt', string='hi'}}",
    "return function() end",
    "return {function() end, 1}",
    "redis.setresp(3) return {true, false}",
    "redis.setresp(3) return redis.call('hgetall', 'h')",
    "redis.setresp(3) return redis.call('zscore', 'z', 'm')",
    "redis.setresp(3) return redis.call('get', 'nokey')",
    "redis.setresp(3) return redis.call('smembers', 's')",
    "return redis.call('hgetall', 'h')",
    "return redis.call('get', 'nokey')",
    "return redis.call('lrange', 'l', 0, -1)",
    "return redis.call('set', 'k', 'v')",
    "return redis.call('incr', 'n')",
    "return redis.call('set', 'f', 0.1) and redis.call('get', 'f')",
    "return redis.call('set', 'f', 0/0) and redis.call('get', 'f')",
    "return redis.call('set', 'f', 2^53+1) and redis.call('get', 'f')",
]


def test_conversions(diff: Differ, proto: int) -> None:
    diff("HSET", "h", "f", "v")
    diff("ZADD", "z", "1.5", "m")
    diff("SADD", "s", "x")
    diff("RPUSH", "l", "a", "b")
    each(diff, CONVERSIONS)
    diff("EVAL", "return {KEYS[1], ARGV[1], #KEYS, #ARGV}", "1", "k", "a")


ERRORS = [
    "return redis.call('nosuch')",
    "return redis.pcall('nosuch')",
    "return redis.call('get')",
    "return redis.call()",
    "return redis.call('get', {})",
    "return redis.call('set', 'k', true)",
    "return redis.call('eval', 'return 1', '0')",
    "return redis.call('client', 'bogus')",
    "return redis.call('config')",
    "return redis.call('incr', 'str')",
    "return redis.pcall('incr', 'str')",
    "return redis.call('lpush', 'str', 1)",
    "error('boom')",
    "error({err='MYERR boom'})",
    "error()",
    "error(12)",
    "error('boom', 0)",
    "error(redis.error_reply('X y'))",
    "error('a\\nb\\r\\n')",
    "error('a\\0b')",
    "local x = nil; return x.y",
    "return 1 < 'x'",
    "local t = {} t[nil] = 1",
    "rawset({}, nil, 1)",
    "return math.random(0)",
    "return math.random(1,2,3)",
    "return math.randomseed()",
    "return next()",
    "return pairs()",
    "return ipairs(nil)",
    "return unpack(nil)",
    "return type()",
    "return tostring()",
    "return setmetatable(1, {})",
    "return getmetatable()",
    "return rawget()",
    "return rawset({})",
    "return table.insert(nil, 1)",
    "return string.rep()",
    "return table.concat({1, {}})",
    "return xpcall()",
    "return coroutine.resume()",
    "return load('x')",
    "return coroutine.wrap(function() x = 1 end)()",
    "return 1 +",
    "#!lua\nerror('x')",
    "local ok, e = pcall(redis.call, 'incr', 'str') return {tostring(ok), type(e), e}",
    "local ok, e = xpcall(function() redis.call('nosuch') end, function(e) return e end) "
    "return {tostring(ok), type(e), e.err}",
    "local co = coroutine.create(function() redis.call('nosuch') end) "
    "local ok, e = coroutine.resume(co) return {tostring(ok), type(e), e.err}",
    "return {pcall()}",
    "return {xpcall(function() error('y') end, 5)}",
    "return redis.error_reply('-WRONG My Error')",
    "return redis.error_reply('- x')",
    "return redis.status_reply(5)",
    "return redis.sha1hex()",
    "return redis.setresp(4)",
    "return redis.set_repl(8)",
    "redis.log(9, 'y') return 1",
    "return redis.acl_check_cmd('nosuch')",
]


def test_errors(diff: Differ) -> None:
    diff("SET", "str", "x")
    each(diff, ERRORS)
    diff("EVAL", "return 1", "-1")
    diff("EVAL", "return 1", "abc")
    diff("EVAL", "return 1", "2", "a")
    diff("XADD", "s", "1-1", "a", "b")
    diff("XGROUP", "CREATE", "s", "g", "0")
    for script in (
        "return redis.call('XREAD', 'block', '0', 'streams', 's', '0')",
        "return redis.pcall('xread', 'BLOCK', 'x', 'streams', 's', '$')",
        "return redis.call('xreadgroup', 'group', 'g', 'c', 'block', '10', 'streams', 's', '>')",
        "return redis.call('xread', 'count', '1', 'streams', 's', '0')",
        "return redis.call('blpop', 'l', '0')",
    ):
        diff("EVAL", script, "0")


SANDBOX = [
    "x = 1",
    "_G.x = 1",
    "function f() end",
    "KEYS = 5 return 1",
    "rawset(_G, 'x', 1) return 1",
    "setmetatable(_G, nil) return 1",
    "getmetatable(_G).x = 1 return 1",
    "string.foo = 1 return 1",
    "redis.call = function() return 1 end return 1",
    "cjson.encode = 1 return 1",
    "getmetatable('').__index.foo = 1 return 1",
    "table.insert(string, 1) return 1",
    "local a = x",
    "return print",
    "return os",
    "return dofile('/etc/passwd')",
    "return getfenv",
    "return rawget(_G, 'print')",
    "return getmetatable(_G)",
    "return getmetatable('').__index == string",
    "return tostring(_G == _G._G)",
    "return #_G",
    "return type(redis.call)",
    "return tostring(cjson.null)",
    "return {ipairs(redis)}",
    "local t={} for k,v in pairs(_G) do t[#t+1]=k end table.sort(t) return t",
    "local t={} for k,v in pairs(redis) do t[#t+1]=k end table.sort(t) return t",
    "local t={} for k,v in pairs(cjson) do t[#t+1]=k end table.sort(t) return t",
    "local t={} for k,v in pairs(string) do t[#t+1]=k end table.sort(t) return t",
    "KEYS[1] = 'x' return KEYS",
    "return loadstring('return 1')()",
    "return loadstring('x=1')()",
    "local f = loadstring('return y') return f()",
    "local f, e = loadstring(string.dump(function() end)) return e",
    "local f, e = loadstring('return +', '@x') return e",
    "local f, e = load(function() return {} end) return e",
    "return string.format('%d %s %5.2f', 3, 'x', 2.5)",
    "return _VERSION",
    "math.randomseed(7) return {tostring(math.random()), math.random(10), math.random(3, 9)}",
]


def test_sandbox(diff: Differ) -> None:
    each(diff, SANDBOX)


# Library functions called from inside coroutines: their errors name the coroutine's line,
# and error values and results cross back to the script intact.
COROUTINES = [
    "local co = coroutine.create(function() return redis.call({}) end) return {coroutine.resume(co)}",
    "local co = coroutine.create(function() return redis.call('nosuch') end) "
    "local ok, e = coroutine.resume(co) return {tostring(ok), e.err}",
    "local co = coroutine.create(function() return redis.pcall('set', {}, 1) end) "
    "local ok, e = coroutine.resume(co) return {tostring(ok), e.err}",
    "local co = coroutine.create(function()\n return bit.band({}) end) return {coroutine.resume(co)}",
    "local co = coroutine.create(function() return cjson.encode({function() end}) end) "
    "return {coroutine.resume(co)}",
    "local co = coroutine.create(function() return struct.pack('>i', {}) end) "
    "return {coroutine.resume(co)}",
    "local co = coroutine.create(function() return redis.sha1hex({}) end) "
    "return {coroutine.resume(co)}",
    "local co = coroutine.create(function() return cjson.new().encode({1, {2}}) end) "
    "return {coroutine.resume(co)}",
    "local co = coroutine.create(function() return cjson.decode('{\"a\":[1,2]}').a end) "
    "local ok, t = coroutine.resume(co) return t",
    "local co = coroutine.create(function() return redis.call('ping') end) "
    "local ok, t = coroutine.resume(co) return t.ok",
    "local co = coroutine.create(function() return cmsgpack.unpack(cmsgpack.pack({1,2,{3}})) end) "
    "local ok, t = coroutine.resume(co) return t",
    "return coroutine.wrap(function() return redis.call({}) end)()",
    "return coroutine.wrap(function() return redis.log(redis.LOG_WARNING, {}) end)()",
    "local co = coroutine.create(function() error({err='x'}) end) "
    "local ok, e = coroutine.resume(co) return e",
    # create and wrap: argument checks, results and errors as Lua's C functions give them
    "return coroutine.create()",
    "return coroutine.create(1)",
    "return coroutine.create(redis.call)",
    "return coroutine.create(string.len)",
    "return coroutine.wrap()",
    "return coroutine.wrap(string.len)",
    "return {coroutine.wrap(function(a, b) return b, nil, a end)(1, 2)}",
    "local f = coroutine.wrap(function() coroutine.yield(1) return 2 end) return {f(), f()}",
    "local f = coroutine.wrap(function() return 1 end) f() return f()",
    "return coroutine.wrap(function() error('boom') end)()",
    "return coroutine.wrap(function() error(42) end)()",
    "return coroutine.wrap(function() error({err='tbl'}) end)()",
    "return coroutine.wrap(function()\n error('lvl2', 2) end)()",
    "local co = coroutine.create(function(a) local b = coroutine.yield(a + 1) return b * 2 end) "
    "local _, x = coroutine.resume(co, 1) local _, y = coroutine.resume(co, 10) "
    "return {x, y, coroutine.status(co)}",
    "return tostring(coroutine.running())",
    "return coroutine.wrap(function() return type(coroutine.running()) end)()",
]


def test_coroutines(diff: Differ) -> None:
    each(diff, COROUTINES)


REDIS_API = [
    "return redis.sha1hex('')",
    "return redis.sha1hex(123)",
    "return redis.sha1hex({})",
    "redis.log(redis.LOG_WARNING, 'hello', 'world') return 1",
    "return redis.setresp('3')",
    "return redis.set_repl(redis.REPL_ALL)",
    "return redis.replicate_commands()",
    "return redis.breakpoint()",
    "return redis.acl_check_cmd('get', 'x')",
    "return {redis.REDIS_VERSION, redis.REDIS_VERSION_NUM, redis.REPL_ALL, redis.REPL_SLAVE}",
    "return redis.error_reply('My Error')",
    "return redis.status_reply('OK')",
    "local t = redis.pcall('nosuch') return {t.err, tostring(t.ignore_error_stats_update)}",
    "return redis.call('select', 1)",
    "return redis.call('ECHO', 'x')",
]


def test_redis_api(diff: Differ) -> None:
    each(diff, REDIS_API)


CJSON = [
    "return cjson.encode({1,2,3})",
    "return cjson.encode({})",
    "return cjson.encode({a=1})",
    "return cjson.encode({1.5, 1e20, 123456789012345678, 0.1, 1/3, 100, 1e15, 1e-5, 2^53})",
    "return cjson.encode(0/0)",
    "return cjson.encode({1/0})",
    "return cjson.encode('a\"b\\\\c/d\\b\\f\\n\\r\\t\\0\\1\\31\\127\\128\\255')",
    "return cjson.encode(nil)",
    "return cjson.encode()",
    "return cjson.encode(true)",
    "return cjson.encode({cjson.null, false})",
    "return cjson.encode(function() end)",
    "return cjson.encode({[true]=1})",
    "return cjson.encode({[1.5]=1})",
    "return cjson.encode({[1]=1, [3]=3})",
    "return cjson.encode({[1]=1, [20]=3})",
    "return cjson.encode({[10]=3})",
    "return cjson.encode({[0]=3})",
    "return cjson.encode({1, 2, x=3})",
    "local t = {} t[1] = t return cjson.encode(t)",
    "return cjson.encode({['a b']={x={1}}})",
    "return cjson.encode(redis)",
    "return cjson.encode(coroutine.create(function() end))",
    "return cjson.encode({[2^31]=1})",
    "return cjson.decode('[1,2,3]')",
    "return cjson.decode('{\"a\":1}').a",
    "return tostring(cjson.decode('-0'))",
    "return tostring(cjson.decode('0x10'))",
    "return tostring(cjson.decode('NaN'))",
    "return tostring(cjson.decode('-inf'))",
    "return tostring(cjson.decode('+1'))",
    "return tostring(cjson.decode('.5'))",
    "return tostring(cjson.decode('1.'))",
    "return tostring(cjson.decode('null'))",
    "return cjson.decode('')",
    "return cjson.decode('[1,2')",
    "return cjson.decode('[1,]')",
    "return cjson.decode('{\"a\" 1}')",
    "return cjson.decode('{1:1}')",
    "return cjson.decode('[1] x')",
    "return cjson.decode('tru')",
    "return cjson.decode('\"abc')",
    "return cjson.decode('\"a\\\\qb\"')",
    "return cjson.decode('\"\\\\u0041\\\\u00e9\\\\u20ac\\\\ud83d\\\\ude00\"')",
    "return cjson.decode('\"\\\\ud83d\"')",
    "return cjson.decode('\"a\\0b\"')",
    "return cjson.decode('\\0[')",
    "return cjson.decode(5)",
    "return cjson.decode({})",
    "return cjson.decode(string.rep('[', 1001) .. string.rep(']', 1001))",
    "return cjson.decode(string.rep('[', 1000) .. string.rep(']', 1000)) ~= nil",
    "local t = {} local c = t for i=1,999 do c[1] = {} c = c[1] end return #cjson.encode(t)",
    'return cjson.encode(cjson.decode(\'{"b":2,"a":1,"c":[1,{"d":null}]}\'))',
    "return cjson.decode('[1e2, 1E2, -1.5e-3, 12345678901234567890]')",
    "return {cjson.encode_number_precision(), cjson.encode_max_depth(), "
    "cjson.decode_invalid_numbers(), cjson.encode_keep_buffer()}",
    "return {cjson.encode_sparse_array()}",
    "local c = cjson.new() return {c.encode_number_precision(), c._NAME, c._VERSION}",
]


def test_cjson(diff: Differ) -> None:
    each(diff, CJSON)


CJSON_SETTINGS = [
    "cjson.encode_invalid_numbers(true) return {cjson.encode(0/0), cjson.encode(1/0)}",
    "return cjson.encode_invalid_numbers('null')",
    "return {cjson.encode(0/0), cjson.encode({[1/0]=1})}",
    "return cjson.encode_invalid_numbers('bogus')",
    "return cjson.encode_invalid_numbers(1, 2)",
    "return {cjson.encode_sparse_array(true, 3, 5)}",
    "return cjson.encode({[1]=1, [20]=2})",
    "return {cjson.encode_sparse_array(false, -1)}",
    "return {cjson.encode_number_precision(3), cjson.encode(3.14159)}",
    "return {cjson.encode_number_precision(15)}",
    "return {cjson.encode_max_depth(2), cjson.encode({{1}}), pcall(cjson.encode, {{{1}}})}",
    "return {cjson.decode_max_depth(2), pcall(cjson.decode, '[[[1]]]')}",
    "return {cjson.decode_invalid_numbers(false), pcall(cjson.decode, '0x10')}",
]


def test_cjson_settings_last_until_script_flush(diff: Differ) -> None:
    try:
        each(diff, CJSON_SETTINGS)
    finally:
        diff("SCRIPT", "FLUSH")
    diff("EVAL", "return {cjson.encode_number_precision(), cjson.encode(0.1)}", "0")


CMSGPACK = [
    "return cmsgpack.pack(1, -1, 127, 128, 255, 256, 65535, 65536, 2^32, -32, -33, -128, -129,"
    " -32768, -32769, -2^31, -2^31-1, 2^63, -2^63)",
    "return cmsgpack.pack(1.5, 0.1, 1/0, 0/0, 2^64)",
    "return cmsgpack.pack('', 'abc', string.rep('x', 31), string.rep('x', 32), "
    "string.rep('y', 256))",
    "return cmsgpack.pack(true, false, nil, {}, {1,2}, {a=1}, {1, nil, 3}, {[0]=1}, cjson.null,"
    " redis.call)",
    "local t = {} t[1] = t return cmsgpack.pack(t)",
    "return cmsgpack.pack()",
    "return {cmsgpack.unpack(cmsgpack.pack(1, 'a', {1, 2, {x=5}}))}",
    "return cmsgpack.unpack('')",
    "return cmsgpack.unpack('\\193')",
    "return cmsgpack.unpack('\\205\\1')",
    "return cmsgpack.unpack('\\196\\1a')",
    "return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3))}",
    "return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 2)}",
    "return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2)}",
    "return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 5, 1)}",
    "return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), -1)}",
    "return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 9)}",
    "return cmsgpack.unpack({})",
    "return cmsgpack.unpack(5)",
    "return {cmsgpack.unpack('\\146\\192\\2')}",
    "return {cmsgpack.unpack('\\129\\192\\2')}",
    "return {cmsgpack.unpack('\\207\\255\\255\\255\\255\\255\\255\\255\\255')}",
    "return {tostring(cmsgpack.unpack('\\202\\61\\204\\204\\205'))}",
    "local t = {} for i = 1, 70000 do t[i] = 1 end return cmsgpack.pack(t):sub(1, 5)",
    "return cmsgpack.pack(string.rep('z', 70000)):sub(1, 5)",
]


def test_cmsgpack(diff: Differ) -> None:
    each(diff, CMSGPACK)


BIT_STRUCT = [
    "return {bit.tobit(0xffffffff), bit.tobit(2^32+5), bit.tobit(1.5), bit.tobit(2.5), "
    "bit.tobit(-1.5), bit.tobit(2^53), bit.tobit(1e300), bit.tobit(0/0)}",
    "return {bit.bnot(0), bit.band(0xff, 0x0f, 0x3), bit.bor(1,2,4), bit.bxor(5,3)}",
    "return {bit.lshift(1, 31), bit.lshift(1, 33), bit.rshift(-1, 28), bit.arshift(-256, 4), "
    "bit.rol(0x80000001, 1), bit.ror(1, 1), bit.bswap(0x12345678)}",
    "return {bit.tohex(255), bit.tohex(-1), bit.tohex(255, 2), bit.tohex(255, -4), "
    "bit.tohex(1, 0)}",
    "return bit.band()",
    "return bit.band('x')",
    "return bit.band('12', ' 3 ')",
    "return bit.tohex(1, 'x')",
    "local b = bit.band return b({})",
    "return {struct.pack('>I2', 258), struct.pack('<i4', -2), struct.pack('b', -1)}",
    "return {struct.pack('>d', 1.5), struct.pack('<f', 0.5), struct.pack('s', 'ab'), "
    "struct.pack('c3', 'abcdef'), struct.pack('c0', 'xyz')}",
    "return {struct.pack('>!4 b i4', 1, 2), struct.pack('x'), struct.pack('>i16', -1)}",
    "return struct.pack('i33', 1)",
    "return struct.pack('z', 1)",
    "return struct.pack('c4', 'ab')",
    "return struct.pack('i')",
    "return struct.pack('!3i', 1)",
    "return struct.pack('i99999999999', 1)",
    "return {struct.unpack('>I2', 'ab'), struct.unpack('s', 'ab\\0cd'), "
    "struct.unpack('bc0', '\\3abcd')}",
    "return {struct.unpack('>I2', 'abcd', 3)}",
    "return {struct.unpack('>I2', 'abcd', 4)}",
    "return {struct.unpack('>I2', 'abcd', 0)}",
    "return {struct.unpack('s', 'abc')}",
    "return {struct.unpack('c0', 'abc')}",
    "return {tostring(struct.unpack('>i8', '\\255\\255\\255\\255\\255\\255\\255\\254'))}",
    "return {struct.size('>i4 d'), struct.size('!i b d'), struct.size('c5')}",
    "return struct.size('s')",
    "return struct.size('c0')",
    "return {struct.pack('>i4', 2^31), struct.pack('>I4', -1), struct.pack('>I8', 2^64)}",
]


def test_bit_and_struct(diff: Differ) -> None:
    each(diff, BIT_STRUCT)


def test_script_cache_and_flags(diff: Differ) -> None:
    diff("SCRIPT", "FLUSH")
    digest = "e0e1f9fabfc9d4800c877a703b823ac0578ff8db"
    diff("EVALSHA", digest, "0")
    diff("SCRIPT", "LOAD", "return 1")
    diff("EVALSHA", digest, "0")
    diff("EVALSHA", digest.upper(), "0")
    diff("EVALSHA_RO", digest, "0")
    diff("EVALSHA", digest + "x", "x")
    diff("SCRIPT", "EXISTS", digest, "abc")
    diff("SCRIPT", "LOAD", "return +")
    diff("SCRIPT", "FLUSH", "bogus")
    diff("SCRIPT", "KILL")
    diff("SCRIPT", "HELP")
    diff("SCRIPT", "bogus")
    for script in (
        "#!lua flags=bogus\nreturn 1",
        "#!lua flags=\nreturn 1",
        "#!lua flags=no-writes,\nreturn 1",
        "#!lua name=x\nreturn 1",
        "#!luax\nreturn 1",
        "#!lua",
        "#!lua\n",
        "#!lua flags=no-writes\nreturn redis.call('set','x','y')",
        "#!lua\nreturn redis.call('set','x','y')",
    ):
        diff("EVAL", script, "0")
        diff("EVAL_RO", script, "0")
    diff("EVAL_RO", "return redis.call('set','x','y')", "0")
    diff("GET", "x")


def test_errorstats(diff: Differ) -> None:
    diff("CONFIG", "RESETSTAT")
    diff("SET", "str", "x")
    for script in (
        "return redis.call('nosuch')",
        "return redis.call('incr','str')",
        "return redis.pcall('incr','str')",
        "return {err='MYERR x'}",
        "return {{err='NESTED x'}}",
        "error('x')",
        "return redis.error_reply('E2 x')",
    ):
        diff("EVAL", script, "0")
    diff("INFO", "errorstats")


FUNCTION_LIBS = [
    "#!lua name=mylib\nredis.register_function('f1', function(keys, args) return "
    "{keys[1], args[1]} end)",
    "#!lua name=lib2\nredis.register_function{function_name='f2', callback=function(keys, args) "
    "return redis.call('set', keys[1], args[1]) end, flags={'no-writes'}, description='two'}",
]


def test_functions(diff: Differ, proto: int) -> None:
    diff("FUNCTION", "FLUSH")
    for code in FUNCTION_LIBS:
        diff("FUNCTION", "LOAD", code)
        diff("FUNCTION", "LOAD", code)
    diff("FUNCTION", "LOAD", "REPLACE", FUNCTION_LIBS[0])
    diff("FCALL", "f1", "1", "k", "a")
    diff("FCALL", "F1", "0")
    diff("FCALL_RO", "f1", "0")
    diff("FCALL", "f2", "1", "k", "v")
    diff("FCALL_RO", "f2", "1", "k", "v")
    diff("FCALL", "nosuch", "0")
    diff("FCALL", "f1", "x")
    diff("FUNCTION", "LIST", "LIBRARYNAME", "my*", "WITHCODE")
    diff("FUNCTION", "LIST", "LIBRARYNAME", "lib2")
    diff("FUNCTION", "LIST", "bogus")
    diff("FUNCTION", "STATS")
    diff("FUNCTION", "DELETE", "lib2")  # one library: Redis dumps several in hash order
    dump = diff("FUNCTION", "DUMP")
    diff("FUNCTION", "FLUSH")
    payload = dump[dump.index(b"\r\n") + 2 : -2]
    diff("FUNCTION", "RESTORE", payload)
    diff("FUNCTION", "RESTORE", payload)
    diff("FUNCTION", "RESTORE", payload, "REPLACE")
    diff("FUNCTION", "RESTORE", payload, "bogus")
    diff("FUNCTION", "RESTORE", b"bogus")
    diff("FCALL", "f1", "1", "k", "a")
    diff("FUNCTION", "HELP")
    diff("FUNCTION", "FLUSH")


LOAD_ERRORS = [
    "redis.register_function('f3', function() return 1 end)",
    "#!lua\nredis.register_function('f3', function() return 1 end)",
    "#!lua name=lib3\nreturn 1",
    "#!lua name=lib3 x=y\nreturn 1",
    "#!lua name=lib3\nredis.call('set','x','y')",
    "#!lua name=lib3\nreturn +",
    "#!lua name=lib3\nx = 1",
    "#!lua name=lib-3\nreturn 1",
    "#!lua name=lib3\nredis.register_function('f 3', function() return 1 end)",
    "#!lua name=l\nredis.register_function('f4', function() return 1 end, 5)",
    "#!lua name=l\nredis.register_function('f4')",
    "#!lua name=l\nredis.register_function(1, 2)",
    "#!lua name=l\nredis.register_function{function_name='f4'}",
    "#!lua name=l\nredis.register_function{function_name='f4', callback=function() end, "
    "flags={'bogus'}}",
    "#!lua name=l\nredis.register_function{function_name='f4', callback=function() end, bogus=1}",
    "#!lua name=l\nredis.register_function('f5', function(keys, args) error('boom') end)",
]


def test_function_load_errors(diff: Differ) -> None:
    diff("FUNCTION", "FLUSH")
    for code in LOAD_ERRORS:
        diff("FUNCTION", "LOAD", code)
    diff("FCALL", "f5", "0")
    diff("FUNCTION", "FLUSH")


_SCRIPT_MEMORY = (
    "used_memory_scripts_eval",
    "number_of_cached_scripts",
    "number_of_functions",
    "number_of_libraries",
    "used_memory_functions",
    "used_memory_scripts",
    "used_memory_scripts_human",
)


def _script_memory(reply: bytes) -> dict[str, bytes]:
    fields = dict(line.split(b":", 1) for line in reply.split(b"\r\n") if b":" in line)
    return {name: fields[name.encode()] for name in _SCRIPT_MEMORY}


def test_info_memory_counts_scripts_and_functions(diff: Differ) -> None:
    """INFO memory's script figures follow Redis's own arithmetic (sds and dict sizes over
    jemalloc's size classes) as scripts and libraries come and go. Sizes are compared up to
    four scripts and four functions: past that a dict grows, and Redis counts both of its
    tables for as long as its incremental rehash takes (it depends on the hash seed)."""
    diff("SCRIPT", "FLUSH")
    diff("FUNCTION", "FLUSH")

    def same(sizes: bool = True) -> None:
        ours, theirs = (_script_memory(reply) for reply in diff.both("INFO", "memory"))
        if not sizes:
            ours = {k: v for k, v in ours.items() if k.startswith("number_")}
            theirs = {k: v for k, v in theirs.items() if k.startswith("number_")}
        assert ours == theirs

    same()
    bodies = [
        "return 1",
        "return '" + "x" * 40 + "'",
        "return '" + "y" * 300 + "'",
        "return 2",
        *(f"return {n}" for n in range(3, 7)),
    ]
    for count, body in enumerate(bodies, 1):
        diff("SCRIPT", "LOAD", body)
        same(count <= 4)
    body = "\n".join(
        f"redis.register_function('f{n}', function() return {n} end)" for n in range(8)
    )
    for functions in (1, 2, 3, 4, 8):
        diff(
            "FUNCTION",
            "LOAD",
            "REPLACE",
            "#!lua name=lib\n" + "\n".join(body.split("\n")[:functions]),
        )
        same(functions <= 4)
    diff("FUNCTION", "FLUSH")
    diff(
        "FUNCTION",
        "LOAD",
        "#!lua name=described\nredis.register_function{function_name="
        "'with_description', callback=function() return 1 end, description='some words'}",
    )
    same()
    diff("SCRIPT", "FLUSH")
    diff("FUNCTION", "FLUSH")
    same()
