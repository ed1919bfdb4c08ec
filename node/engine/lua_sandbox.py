"""The Lua half of the scripting sandbox: the Lua source node/engine/lua.py loads once per
interpreter. It is data (a string); only lua.py hands it to lupa.

What it builds, mirroring Redis 7.0.15's Lua state:
- Read-only tables. Stock Lua 5.1 has no read-only tables, so every table a script can reach
  from its globals is an empty *proxy* whose metatable reads through to the real (backing)
  table and refuses writes with "Attempt to modify a readonly table". The raw functions that
  would see through or write past a proxy (rawset, rawget, next, pairs, ipairs, unpack,
  setmetatable, getmetatable, table.*) are replaced by versions that know about proxies.
  Missing globals raise "Script attempted to access nonexistent global variable 'x'".
- Three environments: EVAL scripts, FUNCTION libraries at run time, and the restricted one a
  library's body runs in at FUNCTION LOAD (only redis.register_function, redis.log, the log
  levels and the version). A library's functions keep the same environment table; its
  lookups switch from the load-time view to the run-time one once the load is over.
- The error handler (Redis's __redis__err__handler): any error becomes {err=...} with the
  source and line of the script frame that raised it. Frames of this chunk (source "=slotd")
  and of the C function that raised are skipped, so errors point at the user's line exactly
  as they do in Redis, where these helpers are C functions.
- Python-raised errors arrive as userdata wrapping the Python exception (lupa's doing);
  `unwrap` (Python) turns them back into the Lua value they carry, wherever Lua code can
  observe an error object: the handler, pcall, xpcall and coroutine.resume.
- `serialize`: Redis's luaReplyToRedisReply, producing the RESP bytes in one string.
- The count hook that lets the engine serve other clients during a long script, and kill it,
  and the runners, which hand back the serialized reply in the same call.

Rule: functions a script calls directly and that raise errors are Python callables (C
functions as far as Lua knows) or validate their arguments here and raise at the caller's
level, so error positions match Redis's.
"""

from __future__ import annotations

from typing import Final

CHUNK_NAME: Final = b"=slotd"

SANDBOX: Final = rb"""
local py = ...
local type, tostring, tonumber, next, rawget, rawset, rawequal = type, tostring, tonumber, next, rawget, rawset, rawequal
local setmetatable, getmetatable, pcall, xpcall, error, select = setmetatable, getmetatable, pcall, xpcall, error, select
local unpack, loadstring, setfenv, ipairs = unpack, loadstring, setfenv, ipairs
local tinsert, tremove, tsort, tconcat, tforeach = table.insert, table.remove, table.sort, table.concat, table.foreach
local sformat, ssub, sbyte, sgsub, srep = string.format, string.sub, string.byte, string.gsub, string.rep
local floor, ceil = math.floor, math.ceil
local getinfo, sethook, gethook = debug.getinfo, debug.sethook, debug.gethook
local coresume, cocreate, costatus, cowrap, coyield, corunning = coroutine.resume, coroutine.create, coroutine.status, coroutine.wrap, coroutine.yield, coroutine.running
local py_unwrap, py_hook, py_script_resp = py.unwrap, py.hook, py.script_resp

local INTERNAL = "=slotd"
local READONLY = "Attempt to modify a readonly table"

local backing = setmetatable({}, {__mode = "k"})   -- proxy -> the table it shows
local metaview = setmetatable({}, {__mode = "k"})  -- value -> what getmetatable shows (false: nil)
local pyfuncs = setmetatable({}, {__mode = "k"})   -- our Python callables -> tostring text
local nulls = {}                                   -- cjson.null values
local active_env                                   -- environment of the running script
local err_handler                                  -- defined below, used by load

local api = {}

-- The Lua type a script sees: our Python callables are functions.
local function luatype(v)
  local t = type(v)
  if t == "userdata" and pyfuncs[v] then return "function" end
  return t
end

-- luaL_argerror for the wrapper `level` frames above this one.
local function argerror(narg, extramsg, level)
  level = level or 1
  local ar = getinfo(level + 1, "n")
  local name = ar and ar.name or "?"
  if ar and ar.namewhat == "method" then
    narg = narg - 1
    if narg == 0 then
      error(sformat("calling '%s' on bad self (%s)", name, extramsg), level + 2)
    end
  end
  error(sformat("bad argument #%d to '%s' (%s)", narg, name, extramsg), level + 2)
end

local function typeerror(narg, expected, n, v, level)
  local got = narg > n and "no value" or luatype(v)
  argerror(narg, expected .. " expected, got " .. got, (level or 1) + 1)
end

local function checktable(narg, n, v)
  if type(v) ~= "table" then typeerror(narg, "table", n, v, 2) end
end

-- A Python-raised error back to the Lua value it carries.
local function unwrap_error(e)
  if type(e) == "userdata" and not pyfuncs[e] and not nulls[e] then
    return py_unwrap(e)
  end
  return e
end

-- Read-only proxies.
local function refuse_write() error(READONLY, 2) end

local function proxy(t, view)
  local p = {}
  setmetatable(p, {__index = t, __newindex = refuse_write})
  backing[p] = t
  metaview[p] = view or false
  return p
end

local function unproxy(t) return backing[t] or t end

local function nonexistent(_, k)
  error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
end

-- The base functions scripts get instead of the raw ones.
local sb = {}

function sb.type(...)
  if select("#", ...) == 0 then argerror(1, "value expected") end
  return luatype((...))
end

function sb.tostring(...)
  if select("#", ...) == 0 then argerror(1, "value expected") end
  local v = ...
  if type(v) == "userdata" then
    if pyfuncs[v] then return pyfuncs[v] end
    if nulls[v] then return "userdata: (nil)" end
  end
  return tostring(v)
end

local function proxy_next(p, k) return next(backing[p], k) end

function sb.next(...)
  local n, t, k = select("#", ...), ...
  checktable(1, n, t)
  return next(unproxy(t), k)
end

function sb.pairs(...)
  local n, t = select("#", ...), ...
  checktable(1, n, t)
  if backing[t] then return proxy_next, t, nil end
  return next, t, nil
end

function sb.rawget(...)
  local n, t, k = select("#", ...), ...
  checktable(1, n, t)
  if n < 2 then argerror(2, "value expected") end
  return rawget(unproxy(t), k)
end

function sb.rawset(...)
  local n, t, k, v = select("#", ...), ...
  checktable(1, n, t)
  if n < 2 then argerror(2, "value expected") end
  if n < 3 then argerror(3, "value expected") end
  if backing[t] then error(READONLY, 0) end
  return rawset(t, k, v)
end

-- A C function's own error, re-raised at the position of the wrapper's caller.
local function reraise(ok, ...)
  if ok then return ... end
  local e = ...
  if type(e) == "string" then error(e, 3) end
  error(e, 0)
end

function sb.setmetatable(...)
  local n, t, mt = select("#", ...), ...
  checktable(1, n, t)
  if mt ~= nil and type(mt) ~= "table" then argerror(2, "nil or table expected") end
  if backing[t] then error(READONLY, 0) end
  return reraise(pcall(setmetatable, t, mt))
end

local string_meta
function sb.getmetatable(...)
  if select("#", ...) == 0 then argerror(1, "value expected") end
  local v = ...
  local view = metaview[v]
  if view ~= nil then return view or nil end
  local t = type(v)
  if t == "string" then return string_meta end
  if t == "userdata" and (pyfuncs[v] or nulls[v]) then return nil end
  return getmetatable(v)
end

local sdump = string.dump
local py_untail = py.untail

-- Compile a script's source for `env`. Its tail calls become plain calls (see lua.py's
-- untail), so a frame that calls one of our helpers is still there when an error is raised.
local function compile_in(source, chunkname, env)
  if sbyte(source, 1) == 27 then
    -- Redis's Lua reads binary chunks as text: report what its lexer says about ESC.
    local _, e = loadstring("\1", chunkname)
    return nil, (sgsub(e, "char%(1%)", "char(27)"))
  end
  local f, e = loadstring(source, chunkname)
  if not f then return nil, e end
  f = loadstring(py_untail(sdump(f)), chunkname)
  setfenv(f, env)
  return f
end

local function compile(source, chunkname)
  return compile_in(source, chunkname, active_env)
end

function sb.loadstring(...)
  local n, s, chunkname = select("#", ...), ...
  local ts = type(s)
  if ts == "number" then s = tostring(s)
  elseif ts ~= "string" then typeerror(1, "string", n, s) end
  if chunkname ~= nil then
    local tc = type(chunkname)
    if tc == "number" then chunkname = tostring(chunkname)
    elseif tc ~= "string" then typeerror(2, "string", n, chunkname) end
  end
  return compile(s, chunkname or s)
end

function sb.load(...)
  local n, reader, chunkname = select("#", ...), ...
  if luatype(reader) ~= "function" then typeerror(1, "function", n, reader) end
  if chunkname ~= nil and type(chunkname) ~= "string" then
    if type(chunkname) == "number" then chunkname = tostring(chunkname)
    else typeerror(2, "string", n, chunkname) end
  end
  -- Redis's Lua reads the chunk with the script's error handler still installed: an error
  -- while reading comes back from load as the handler's {err=...} table.
  local parts = {}
  while true do
    local ok, piece = xpcall(reader, err_handler)
    if not ok then return nil, piece end
    if piece == nil then break end
    if type(piece) == "number" then piece = tostring(piece) end
    if type(piece) ~= "string" then
      local caller, pos = getinfo(2, "Sl"), ""
      if caller and caller.currentline > 0 then
        pos = caller.short_src .. ":" .. caller.currentline .. ": "
      end
      return nil, {err = "ERR " .. pos .. "reader function must return a string"}
    end
    if piece == "" then break end
    parts[#parts + 1] = piece
  end
  return compile(tconcat(parts), chunkname or "=(load)")
end

-- Redis's pcall: a {err=...} error comes back as its message.
local function pcall_result(ok, ...)
  if ok then return true, ... end
  local e = unwrap_error((...))
  if type(e) == "table" then
    local m = e.err
    local tm = type(m)
    if tm == "string" or tm == "number" then e = m end
  end
  return false, e
end

function sb.pcall(...)
  if select("#", ...) == 0 then return false, "attempt to call a boolean value" end
  return pcall_result(pcall(...))
end

function sb.xpcall(...)
  local n, f, h = select("#", ...), ...
  if n < 2 then argerror(2, "value expected") end
  return xpcall(f, function(e) return h(unwrap_error(e)) end)
end

local function resume_result(ok, ...)
  if ok then return true, ... end
  return false, unwrap_error((...))
end

-- Lua 5.1 keeps debug.sethook's hook per thread, and a new coroutine starts with none: a
-- loop inside one ran past the count hook, so the server never answered BUSY and SCRIPT
-- KILL could not stop it. A coroutine gets the hook of the thread that creates it, as in
-- Redis, whose C hook coroutines inherit. luaB_cocreate's argument check comes first.
local function check_lua_function(f)  -- for create and wrap: the error names the caller
  if type(f) ~= "function" or getinfo(f, "S").what == "C" then
    argerror(1, "Lua function expected", 2)
  end
end

local function sb_create(...)
  local f = ...
  check_lua_function(f)
  local co = cocreate(f)
  local hook, mask, count = gethook()
  if hook then sethook(co, hook, mask, count) end
  return co
end

-- wrap keeps the C closure (its error handling is C's); the coroutine it hides sets the
-- hook itself when it first runs (a tail call: f's frames are what they would be).
local function sb_wrap(...)
  local f = ...
  check_lua_function(f)
  local hook, mask, count = gethook()
  if not hook then return cowrap(f) end
  return cowrap(function(...)
    sethook(hook, mask, count)
    return f(...)
  end)
end

local function sb_resume(...)
  local co = ...
  if type(co) ~= "thread" then argerror(1, "coroutine expected") end
  return resume_result(coresume(...))
end

-- table.* over proxies: writes are refused like any other write; foreach sees through.
-- (concat, getn, maxn, foreachi, unpack and ipairs stay the C functions: they only read the
-- array part, and no table behind a proxy has one, so a proxy answers exactly as Redis's.)
local tbl = {}

function tbl.insert(...)
  local n, t = select("#", ...), ...
  checktable(1, n, t)
  if n ~= 2 and n ~= 3 then error("wrong number of arguments to 'insert'", 2) end
  if n == 3 and tonumber((select(2, ...))) == nil then typeerror(2, "number", n, (select(2, ...))) end
  if backing[t] then error(READONLY, 0) end
  return tinsert(...)
end

function tbl.remove(...)
  local n, t, pos = select("#", ...), ...
  checktable(1, n, t)
  if pos ~= nil and tonumber(pos) == nil then typeerror(2, "number", n, pos) end
  if backing[t] then
    if #backing[t] == 0 then return end
    error(READONLY, 0)
  end
  return tremove(...)
end

function tbl.sort(...)
  local n, t, comp = select("#", ...), ...
  checktable(1, n, t)
  if comp ~= nil and luatype(comp) ~= "function" then typeerror(2, "function", n, comp) end
  if backing[t] then
    if #backing[t] < 2 then return end
    error(READONLY, 0)
  end
  return tsort(...)
end

function tbl.setn(...)
  local n, t = select("#", ...), ...
  checktable(1, n, t)
  error("'setn' is obsolete", 2)
end

function tbl.foreach(...)
  local n, t, f = select("#", ...), ...
  checktable(1, n, t)
  if luatype(f) ~= "function" then typeerror(2, "function", n, f) end
  return tforeach(unproxy(t), f)
end

-- Redis's __redis__err__handler: {err=..., source=..., line=...} for the frame at fault.
function err_handler(err)
  err = unwrap_error(err)
  local level = 2
  local info = getinfo(level, "Sl")
  if info and info.what == "C" then
    level = 3
    info = getinfo(level, "Sl")
  end
  while info and (info.source == INTERNAL or info.what == "C" or info.what == "tail") do
    level = level + 1
    info = getinfo(level, "Sl")
  end
  if type(err) ~= "table" then err = {err = "ERR " .. tostring(err)} end
  if info then
    err.source = info.source
    err.line = info.currentline
  end
  return err
end

-- FUNCTION LOAD's handler: errors become {err="ERR ..."} without a position.
local function load_handler(err)
  err = unwrap_error(err)
  if type(err) ~= "table" then err = {err = "ERR " .. tostring(err)} end
  return err
end

local function copy(t, extra)
  local c = {}
  for k, v in next, t do c[k] = v end
  for k, v in next, extra or {} do c[k] = v end
  return c
end

-- The globals every environment shares (Redis's allow lists, minus what 7.0.15 removes).
local function base_globals(libs)
  local g = {
    _VERSION = _VERSION, assert = assert, collectgarbage = collectgarbage, error = error,
    gcinfo = gcinfo, getmetatable = sb.getmetatable, ipairs = ipairs, load = sb.load,
    loadstring = sb.loadstring, next = sb.next, pairs = sb.pairs, pcall = sb.pcall,
    rawequal = rawequal, rawget = sb.rawget, rawset = sb.rawset, select = select,
    setmetatable = sb.setmetatable, tonumber = tonumber, tostring = sb.tostring,
    type = sb.type, unpack = unpack, xpcall = sb.xpcall,
    coroutine = proxy(copy(coroutine, {create = sb_create, resume = sb_resume, wrap = sb_wrap})),
    math = proxy(copy(math, {random = libs.random, randomseed = libs.randomseed})),
    string = libs.string_proxy,
    table = proxy(copy(table, tbl)),
  }
  for _, name in ipairs({"bit", "cjson", "cmsgpack", "struct", "redis"}) do
    g[name] = proxy(libs[name])
  end
  return g
end

local function environment(g)
  setmetatable(g, {__index = nonexistent})
  local env = proxy(g, proxy({__index = nonexistent}))
  g._G = env
  return env, g
end

-- Register what Python built: callables (shown as C functions) and cjson.null values.
local builtin_count = 0
function api.register(funcs, null)
  for _, f in next, funcs do
    builtin_count = builtin_count + 1
    pyfuncs[f] = sformat("function: 0x%012x", 0x7f0000000000 + builtin_count * 32)
  end
  if null ~= nil then nulls[null] = true end
end

function api.unproxy(t) return unproxy(t) end

function api.init(eval_libs, func_libs, load_redis)
  string_meta = proxy({__index = proxy(string)})
  eval_libs.string_proxy = string_meta.__index
  func_libs.string_proxy = string_meta.__index
  local eg = base_globals(eval_libs)
  eg.__redis__err__handler = err_handler
  local eval_env, eval_g = environment(eg)
  local func_env, func_g = environment(base_globals(func_libs))
  local load_g = {redis = proxy(setmetatable(load_redis, {__index = nonexistent}))}
  setmetatable(load_g, {__index = nonexistent})
  local func_meta = getmetatable(func_env)
  return {
    eval_env = eval_env, eval_g = eval_g, func_env = func_env, func_g = func_g,
    load_g = load_g, func_meta = func_meta,
  }
end

function api.compile(source, chunkname, env)
  local f, e = compile_in(source, chunkname, env)
  return f, e
end

-- The count hook: Python answers whether the script was killed meanwhile.
local kill_error
-- Hooks act only in the script's own code: in this chunk's frames (runners, serializer,
-- wrappers) they let the next check happen later, so a kill never escapes the protected
-- call that runs the script, and the runners may keep working after it returns.
local function in_sandbox_code()
  local info = getinfo(3, "S")  -- 1: this function, 2: the hook, 3: what was running
  return info ~= nil and info.source == INTERNAL
end

local function killed_hook()
  if not in_sandbox_code() then error(kill_error, 0) end
end

local function count_hook()
  if in_sandbox_code() then return end
  local message = py_hook()
  if message then
    kill_error = {err = message}
    sethook(killed_hook, "l")
    error(kill_error, 0)
  end
end

-- luaReplyToRedisReply: the script's result as RESP, plus the error replies to count.
local MAX_DEPTH = 7995  -- where Redis's lua_checkstack gives up on nested replies

local function clean_line(s)
  return (sgsub(s, "[\r\n]", " "))
end

local function cstring(s)
  local nul = s:find("\0", 1, true)
  if nul then return ssub(s, 1, nul - 1) end
  return s
end

local function int64(x)
  if x ~= x or x >= 9223372036854775808 or x < -9223372036854775808 then
    return "-9223372036854775808"
  end
  return sformat("%d", x)
end

local function double(x)
  if x == 1/0 then return "inf" elseif x == -1/0 then return "-inf" end
  return sformat("%.17g", x)
end

local function ser(v, out, sresp, cresp, errs, depth)
  local n = #out
  if depth > MAX_DEPTH then
    out[n + 1] = "-ERR reached lua stack limit\r\n"
    errs[#errs + 1] = "ERR"
    return
  end
  local t = type(v)
  if t == "string" then
    out[n + 1] = "$" .. #v .. "\r\n"
    out[n + 2] = v
    out[n + 3] = "\r\n"
  elseif t == "number" then
    out[n + 1] = ":" .. int64(v) .. "\r\n"
  elseif t == "boolean" then
    if sresp == 2 then
      out[n + 1] = v and ":1\r\n" or (cresp == 3 and "_\r\n" or "$-1\r\n")
    elseif cresp == 3 then
      out[n + 1] = v and "#t\r\n" or "#f\r\n"
    else
      out[n + 1] = v and ":1\r\n" or ":0\r\n"
    end
  elseif t == "table" then
    local e = rawget(v, "err")
    if type(e) == "string" then
      local msg = sgsub(cstring("-" .. e), "[\r\n]+$", "")
      out[n + 1] = clean_line(msg) .. "\r\n"
      if v.ignore_error_stats_update ~= true then errs[#errs + 1] = ssub(msg, 2) end
      return
    end
    local ok = rawget(v, "ok")
    if type(ok) == "string" then
      out[n + 1] = "+" .. clean_line(cstring(ok)) .. "\r\n"
      return
    end
    local d = rawget(v, "double")
    if type(d) == "number" then
      local text = double(d)
      out[n + 1] = cresp == 3 and ("," .. text .. "\r\n") or ("$" .. #text .. "\r\n" .. text .. "\r\n")
      return
    end
    local big = rawget(v, "big_number")
    if type(big) == "string" then
      big = clean_line(big)
      out[n + 1] = cresp == 3 and ("(" .. big .. "\r\n") or ("$" .. #big .. "\r\n" .. big .. "\r\n")
      return
    end
    local verb = rawget(v, "verbatim_string")
    if type(verb) == "table" then
      local fmt, s = rawget(verb, "format"), rawget(verb, "string")
      if type(fmt) == "string" and type(s) == "string" then
        if cresp == 3 then
          fmt = ssub(cstring(fmt) .. "\0\0\0", 1, 3)
          out[n + 1] = "=" .. (#s + 4) .. "\r\n" .. fmt .. ":" .. s .. "\r\n"
        else
          out[n + 1] = "$" .. #s .. "\r\n" .. s .. "\r\n"
        end
        return
      end
    end
    local map = rawget(v, "map")
    if type(map) == "table" then
      local header, count = n + 1, 0
      out[header] = ""
      for key, value in next, map do
        ser(key, out, sresp, cresp, errs, depth + 1)
        ser(value, out, sresp, cresp, errs, depth + 1)
        count = count + 1
      end
      out[header] = cresp == 3 and ("%" .. count .. "\r\n") or ("*" .. (2 * count) .. "\r\n")
      return
    end
    local set = rawget(v, "set")
    if type(set) == "table" then
      local header, count = n + 1, 0
      out[header] = ""
      for key in next, set do
        ser(key, out, sresp, cresp, errs, depth + 1)
        count = count + 1
      end
      out[header] = cresp == 3 and ("~" .. count .. "\r\n") or ("*" .. count .. "\r\n")
      return
    end
    local header, count = n + 1, 0
    out[header] = ""
    while true do
      local item = rawget(v, count + 1)
      if item == nil then break end
      ser(item, out, sresp, cresp, errs, depth + 1)
      count = count + 1
    end
    out[header] = "*" .. count .. "\r\n"
  else
    out[n + 1] = cresp == 3 and "_\r\n" or "$-1\r\n"
  end
end

local function serialize(v, sresp, cresp)
  local out, errs = {}, {}
  ser(v, out, sresp, cresp, errs, 1)
  return tconcat(out), errs
end

-- The runners: (true, reply, errors to count) or (false, error value). lua.py removes the
-- hook once they return.
local function finish(cresp, ok, value)
  if not ok then return false, value end
  local data, errs = serialize(value, py_script_resp(), cresp)
  return true, data, errs
end

local function split_args(nkeys, ...)
  local all, keys, args = {...}, {}, {}
  for i = 1, nkeys do keys[i] = all[i] end
  for i = nkeys + 1, select("#", ...) do args[i - nkeys] = all[i] end
  return keys, args
end

-- Run an EVAL script: KEYS and ARGV are globals of its environment.
function api.run_eval(f, g, env, hook_every, cresp, nkeys, ...)
  local keys, argv = split_args(nkeys, ...)
  rawset(g, "KEYS", keys)
  rawset(g, "ARGV", argv)
  active_env = env
  if hook_every > 0 then sethook(count_hook, "", hook_every) end
  return finish(cresp, xpcall(f, err_handler))
end

-- Run a library function with (keys, args).
function api.run_function(f, env, hook_every, cresp, nkeys, ...)
  local keys, args = split_args(nkeys, ...)
  active_env = env
  if hook_every > 0 then sethook(count_hook, "", hook_every) end
  return finish(cresp, xpcall(function() return f(keys, args) end, err_handler))
end

-- Run a library's body with the load-time globals (lua.py switches them back).
function api.run_load(f, env, meta, load_g, hook_every)
  meta.__index = load_g
  active_env = env
  sethook(count_hook, "", hook_every)
  return xpcall(f, load_handler)
end

-- Build a table from pairs in order (keys may be anything but nil).
function api.table_from_pairs(keys, values, n)
  local t = {}
  for i = 1, n do t[keys[i]] = values[i] end
  return t
end

function api.typeof(v)
  if nulls[v] then return "null" end
  return luatype(v)
end

-- luaL_where(1) for the C function that called into Python, and the name it was called by;
-- `extra`: frames between this function and that one.
function api.where(extra)
  extra = extra or 0
  local callee = getinfo(2 + extra, "n")  -- level 1 is this function, 2 the Python callable
  local caller = getinfo(3 + extra, "Sl")
  local pos = ""
  if caller and caller.currentline > 0 then
    pos = caller.short_src .. ":" .. caller.currentline .. ": "
  end
  return pos, callee and callee.name or "?", callee and callee.namewhat or ""
end

return api
"""
