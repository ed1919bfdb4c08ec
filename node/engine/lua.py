"""The Lua interpreter of the scripting engine: the only module that imports lupa.

One `LuaVM` per engine holds a lupa Lua 5.1 runtime (no Python builtins or eval exposed to
Lua, bytes in and out, attribute access on Python objects refused) and, inside it, the
sandbox of node/engine/lua_sandbox.py: the environments EVAL scripts and FUNCTION libraries
run in, Redis's error handler and the reply serializer. This module adds what Redis writes
in C: the `redis` API (call, pcall, error_reply, status_reply, sha1hex, log, setresp,
set_repl, replicate_commands, breakpoint, debug, acl_check_cmd, register_function), math.random
on Redis's drand48 generator, and the cjson/cmsgpack/bit/struct libraries of
node/engine/lualib exposed as Python callables -- C functions as far as Lua can tell, so a
script's `return redis.call(...)` keeps its frame and errors point at the script's line.

Conversions follow Redis: a command's RESP reply becomes a Lua value (integers numbers, bulk
strings strings, nulls false -- or nil in RESP3 --, arrays tables, +status {ok=...}, -errors
{err=...}, RESP3 maps/sets/doubles/big numbers/verbatim strings their tagged tables), and a
script's result becomes RESP through the sandbox's serializer.

The engine side (node/engine/scripting.py) is the `Host`: it runs commands for redis.call,
keeps the generator state, logs, and answers the count hook (busy scripts, SCRIPT KILL).
Errors a Python callable raises for Lua are `LuaRaise` carrying the value to raise, as plain
Python (a string or an ErrorReply); see LuaVM._guarded for why.
Rules: no I/O here; error positions, messages and reply bytes are Redis 7.0.15's, with two
known exceptions lupa imposes: Lua's -0 reaches Python as 0, and indexing one of our Python
callables reports no field name ("attempt to index a function value") and, inside a
coroutine, a position that is not the script's.
"""

from __future__ import annotations

import hashlib
import math
import traceback
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, NoReturn, Protocol

import lupa.lua51 as lupa51

from node.engine import lua_sandbox
from node.engine.lualib import bitop, cjson, msgpack, structlib
from node.engine.lualib.values import (
    NULL,
    ArgError,
    JsonNull,
    LibError,
    MapPairs,
    NotCallable,
    check_number,
    to_int64,
)
from node.engine.lualib.values import tonumber as _lua_number
from node.proto import resp

REDIS_VERSION: Final = b"7.0.15"
REDIS_VERSION_NUM: Final = (7 << 16) | (0 << 8) | 15
HOOK_EVERY: Final = 100_000  # instructions between two calls of the count hook, as Redis
LOG_LEVELS: Final = ("debug", "verbose", "notice", "warning")
REPL_AOF: Final = 1
REPL_REPLICA: Final = 2
_LRAND48_MAX: Final = 2**31 - 1
# api.where run from a chunk of its own (one frame more); not a tail call, which would lose
# the frames it asks about.
_WHERE_CALLER: Final = b"local where = ... local p, n, w = where(1) return p, n, w"
# Script and function flags, in Redis's scripts_flags_def order (FUNCTION LIST prints them so).
SCRIPT_FLAGS: Final = (
    b"no-writes",
    b"allow-oom",
    b"allow-stale",
    b"no-cluster",
    b"allow-cross-slot-keys",
)
_NAME_CHARS: Final = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
NAME_ERROR: Final = (
    "Library names can only contain letters, numbers, or underscores(_) and "
    "must be at least one character long"
)


@dataclass(frozen=True, slots=True)
class ErrorReply:
    """An error reply as a Lua error value, {err=message}: built as a Lua table only when a
    script gets to see it (see LuaRaise)."""

    message: bytes
    ignore_stats: bool = False  # ignore_error_stats_update: already counted by the command


class LuaRaise(Exception):
    """Raised by a Python callable to raise `value` as a Lua error.

    The value is plain Python, never a Lua object: Lua keeps the exception as the error value
    until it collects it, possibly after the coroutine the call came from, and a Lua object
    made during the call belongs to that coroutine's state (see LuaVM._guarded)."""

    def __init__(self, value: bytes | ErrorReply) -> None:
        super().__init__("lua error")
        self.value = value


class ScriptCompileError(Exception):
    """The Lua compiler refused a script or library body; `message` is Lua's text."""

    def __init__(self, message: bytes) -> None:
        super().__init__(message)
        self.message = message


class LibraryError(Exception):
    """FUNCTION LOAD failed; `message` is the complete error text (without '-')."""

    def __init__(self, message: str | bytes) -> None:
        super().__init__(message)
        self.message = message.encode() if isinstance(message, str) else message


class Host(Protocol):
    """What the Lua side needs from the engine while a script runs."""

    @property
    def running(self) -> bool:
        """A script is running (not a library being loaded)."""
        ...

    def command(self, argv: list[bytes]) -> bytes:
        """Run a command for redis.call/pcall; its complete RESP reply (errors included)."""
        ...

    def command_allowed(self, argv: list[bytes]) -> bool | None:
        """redis.acl_check_cmd: whether the caller may run argv; None for no command."""
        ...

    def log(self, level: int, text: bytes) -> None: ...

    def set_resp(self, version: int) -> None: ...

    def set_repl(self, flags: int) -> None: ...

    def interrupted(self) -> bytes | None:
        """The count hook: serve what must be served meanwhile; the error to abort with, if
        the script must stop (SCRIPT KILL, FUNCTION LOAD timeout)."""
        ...

    def rand48(self) -> int: ...

    def srand48(self, seed: int) -> None: ...


@dataclass(slots=True)
class Reply:
    """A finished script: its reply bytes and the error replies INFO errorstats counts."""

    data: bytes
    counted_errors: list[bytes] = field(default_factory=list)


@dataclass(slots=True)
class Registered:
    """A function a library body registered."""

    name: bytes
    function: object
    flags: frozenset[bytes]
    description: bytes | None


def sha1hex(data: bytes) -> bytes:
    return hashlib.sha1(data).hexdigest().encode()


def valid_name(name: bytes) -> bool:
    """functionsVerifyName: letters, digits and underscores, at least one."""
    return bool(name) and all(ch in _NAME_CHARS for ch in name)


class _View:
    """The lualib.values.LuaView over this runtime."""

    __slots__ = ("_funcs", "_typeof", "_unproxy")

    def __init__(self, api: Any, funcs: weakref.WeakSet[Callable[..., object]]) -> None:
        self._funcs = funcs
        self._typeof = api.typeof  # looked up once: see LuaVM.__init__
        self._unproxy = api.unproxy

    def kind(self, value: object) -> str:
        if isinstance(value, JsonNull):
            return "null"
        if value in self._funcs:
            return "function"
        if lupa51.lua_type(value) is None:
            return "userdata"  # some other Python object
        if type(value).__name__ == "_LuaCoroutineFunction":
            return "thread"  # lupa hands threads over wrapped as callables
        return str(self._typeof(value).decode())

    def pairs(self, table: object) -> list[tuple[object, object]]:
        return list(self._unproxy(table).items())


class LuaVM:
    """A sandboxed Lua 5.1 interpreter for EVAL scripts and FUNCTION libraries."""

    def __init__(self, host: Host) -> None:
        self.host = host
        self.lua = lupa51.LuaRuntime(
            register_eval=False,
            register_builtins=False,
            unpack_returned_tuples=True,
            encoding=None,
            attribute_handlers=(self._guarded(self._deny_index),) * 2,
        )
        # Our Python callables, as Lua sees them. Weak: cjson.new() makes new ones, which
        # live as long as the script keeps the module.
        self._funcs: weakref.WeakSet[Callable[..., object]] = weakref.WeakSet()
        self._unregistered: list[Callable[..., object]] = []  # made since the last register
        self.resp = 2  # the script client's protocol (redis.setresp)
        self.bug: BaseException | None = None  # a Python exception that escaped into Lua
        self._loading: list[Registered] | None = None
        self.eval_json = cjson.Config()
        self.func_json = cjson.Config()
        self.api: Any = self.lua.execute(
            lua_sandbox.SANDBOX,
            self.lua.table_from(
                {
                    b"unwrap": self._guarded(self._unwrap),
                    b"hook": self._guarded(self._hook),
                    b"untail": self._guarded(untail),
                    b"script_resp": self._guarded(self._script_resp),
                }
            ),
            name=lua_sandbox.CHUNK_NAME,
        )
        # What Python calls while Lua calls it is looked up once, here: lupa cannot index a
        # Lua table from inside an attribute handler, and from inside a coroutine, indexing
        # one of the main state's tables returns whatever else is on the main state's stack.
        self._where = self.api.where
        self._register = self.api.register
        self._table_from_pairs = self.api.table_from_pairs
        self._sethook = self.lua.globals().debug.sethook
        self.view = _View(self.api, self._funcs)
        eval_libs = self._libs(self.eval_json, eval_mode=True)
        func_libs = self._libs(self.func_json, eval_mode=False)
        load_redis = self._table(
            {
                b"register_function": self._register_function,
                b"log": self._log,
                **self._log_levels(),
                b"REDIS_VERSION": REDIS_VERSION,
                b"REDIS_VERSION_NUM": float(REDIS_VERSION_NUM),
            }
        )
        self._register(self._registering(), NULL)
        envs = self.api.init(eval_libs, func_libs, load_redis)
        self.eval_env = envs[b"eval_env"]
        self.eval_g = envs[b"eval_g"]
        self.func_env = envs[b"func_env"]
        self.func_g = envs[b"func_g"]
        self.load_g = envs[b"load_g"]
        self.func_meta = envs[b"func_meta"]

    # --- building the libraries -----------------------------------------------------------
    def _callable(self, fn: Callable[..., object]) -> Callable[..., object]:
        fn = self._guarded(fn)
        self._funcs.add(fn)
        self._unregistered.append(fn)
        return fn

    def _registering(self) -> Any:
        """The callables made since the last api.register, as a Lua array, for it."""
        table = self.lua.table_from(self._unregistered)
        self._unregistered = []
        return table

    def _guarded(self, fn: Callable[..., object]) -> Callable[..., object]:
        """`fn` as Lua may call it: no Lua object it got or made outlives the call.

        Why: while a Python function called from Lua runs, lupa ties every Lua object it
        hands over or makes (arguments, table_from) to the lua_State the call came from -- a
        coroutine's, when a script calls us from inside one -- and uses that state again to
        release the object when it dies. An exception raised into Lua lives as long as Lua
        keeps it as the error value, which can be longer than the coroutine; through its
        traceback (frames and their locals) and chained exceptions it held such objects, and
        releasing them then read freed memory: the server segfaulted. So an exception leaves
        with no traceback and no chained exceptions (a bug's traceback is kept as text, in a
        note), its value is plain Python (LuaRaise), and this frame, which the new traceback
        holds, drops the arguments first. Return values need nothing: lupa pushes them at
        once, while the coroutine runs."""

        def call(*args: object) -> object:
            try:
                return fn(*args)
            except BaseException as exc:
                error = exc
            args = ()
            raise self._detached(error)

        return call

    @staticmethod
    def _detached(exc: BaseException) -> BaseException:
        """`exc` without its traceback and chained exceptions (see _guarded)."""
        if exc.__traceback__ is not None and not isinstance(exc, LuaRaise):
            exc.add_note("".join(traceback.format_exception(exc)).rstrip())
        exc.__traceback__ = exc.__context__ = exc.__cause__ = None
        return exc

    def _table(self, entries: Mapping[bytes, object]) -> Any:
        return self.lua.table_from(
            {
                k: v if v is NULL or not callable(v) else self._callable(v)
                for k, v in entries.items()
            }
        )

    def _lib(self, fn: Callable[..., object], *bound: object) -> Callable[..., object]:
        """A lualib function as a Lua C function: its errors become Lua errors with the
        position and name luaL_error/luaL_argerror would give."""
        view = self.view

        def call(*args: object) -> object:
            try:
                return self._to_lua(fn(*bound, view, *args))
            except LibError as exc:
                raise LuaRaise(self._lib_message(exc)) from None

        return call

    def _lib_message(self, exc: LibError) -> bytes:
        # Compiled in the state the call came from, a coroutine's or the main one: the
        # main state's `where` would read the main stack, not the caller's.
        position, name, namewhat = self.lua.execute(_WHERE_CALLER, self._where)
        if not isinstance(exc, ArgError):
            return bytes(position) + exc.message
        narg = exc.narg
        if namewhat == b"method":
            narg -= 1
            if narg == 0:
                return (
                    bytes(position)
                    + b"calling '"
                    + bytes(name)
                    + b"' on bad self ("
                    + exc.message
                    + b")"
                )
        return (
            bytes(position)
            + b"bad argument #%d to '" % narg
            + bytes(name)
            + b"' ("
            + exc.message
            + b")"
        )

    @staticmethod
    def _log_levels() -> dict[bytes, object]:
        return {b"LOG_" + name.upper().encode(): float(i) for i, name in enumerate(LOG_LEVELS)}

    def _libs(self, json_config: cjson.Config, *, eval_mode: bool) -> Any:
        json: dict[bytes, object] = {
            name.encode(): self._lib(fn, json_config) for name, fn in cjson.FUNCTIONS.items()
        }
        json[b"new"] = self._cjson_new
        json.update({b"_NAME": cjson.NAME, b"_VERSION": cjson.VERSION, b"null": NULL})
        pack: dict[bytes, object] = {
            name.encode(): self._lib(fn) for name, fn in msgpack.FUNCTIONS.items()
        }
        pack.update(msgpack.METADATA)
        redis: dict[bytes, object] = {
            b"call": self._redis_call,
            b"pcall": self._redis_pcall,
            b"log": self._log,
            **self._log_levels(),
            b"REDIS_VERSION": REDIS_VERSION,
            b"REDIS_VERSION_NUM": float(REDIS_VERSION_NUM),
            b"setresp": self._setresp,
            b"sha1hex": self._sha1hex,
            b"error_reply": self._error_reply,
            b"status_reply": self._status_reply,
            b"set_repl": self._set_repl,
            b"REPL_NONE": 0.0,
            b"REPL_AOF": float(REPL_AOF),
            b"REPL_SLAVE": float(REPL_REPLICA),
            b"REPL_REPLICA": float(REPL_REPLICA),
            b"REPL_ALL": float(REPL_AOF | REPL_REPLICA),
            b"acl_check_cmd": self._acl_check_cmd,
        }
        if eval_mode:
            redis.update(
                {
                    b"replicate_commands": self._replicate_commands,
                    b"breakpoint": self._nothing,
                    b"debug": self._nothing,
                }
            )
        return self.lua.table_from(
            {
                b"redis": self._table(redis),
                b"cjson": self._table(json),
                b"cmsgpack": self._table(pack),
                b"bit": self._table({n.encode(): self._lib(f) for n, f in bitop.FUNCTIONS.items()}),
                b"struct": self._table(
                    {n.encode(): self._lib(f) for n, f in structlib.FUNCTIONS.items()}
                ),
                b"random": self._callable(self._lib(self._random)),
                b"randomseed": self._callable(self._lib(self._randomseed)),
            }
        )

    def _cjson_new(self, *args: object) -> Any:
        """cjson.new(): a module with its own configuration (it shares cjson.null)."""
        config = cjson.Config()
        entries: dict[bytes, object] = {
            name.encode(): self._lib(fn, config) for name, fn in cjson.FUNCTIONS.items()
        }
        entries.update(
            {
                b"new": self._cjson_new,
                b"_NAME": cjson.NAME,
                b"_VERSION": cjson.VERSION,
                b"null": NULL,
            }
        )
        table = self._table(entries)
        self._register(self._registering())
        return table

    # --- values between Lua and Python ----------------------------------------------------
    def _to_lua(self, value: object) -> object:
        """A library result as Lua values (tuples are multiple results)."""
        if isinstance(value, tuple):
            return tuple(self._to_lua(v) for v in value)
        if isinstance(value, (list, dict)):  # MapPairs included
            return self._build(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        return value

    def _build(self, root: list[object] | dict[object, object]) -> object:
        """Lua tables for nested lists/dicts/MapPairs, built without Python recursion (cjson
        nests 1000 deep). Children are built before their parents, in document order."""
        done: dict[int, object] = {}
        stack: list[tuple[object, bool]] = [(root, False)]
        while stack:
            node, ready = stack.pop()
            if not ready:
                stack.append((node, True))
                children = (
                    list(node)  # type: ignore[call-overload]
                    if _is_array(node)
                    else [x for kv in _pairs_of(node) for x in kv]
                )
                stack.extend(
                    (c, False)
                    for c in reversed(children)
                    if isinstance(c, (list, dict)) and id(c) not in done
                )
                continue
            done[id(node)] = self._make_table(node, done)
        return done[id(root)]

    def _make_table(self, node: object, done: dict[int, object]) -> object:
        def leaf(v: object) -> object:
            if isinstance(v, (list, dict)):
                return done[id(v)]
            if isinstance(v, int) and not isinstance(v, bool):
                return float(v)
            return v

        if _is_array(node):
            return self.lua.table_from([leaf(v) for v in node])  # type: ignore[attr-defined]
        pairs = _pairs_of(node)
        keys = [leaf(k) for k, _ in pairs]
        for key in keys:
            if key is None:
                raise LuaRaise(b"table index is nil")
            if isinstance(key, float) and key != key:
                raise LuaRaise(b"table index is NaN")
        if all(isinstance(k, (bytes, float, bool)) or k is NULL for k in keys):
            return self.lua.table_from({k: leaf(v) for k, (_, v) in zip(keys, pairs, strict=True)})
        return self._table_from_pairs(
            self.lua.table_from(keys), self.lua.table_from([leaf(v) for _, v in pairs]), len(keys)
        )

    def _error_table(self, message: bytes, ignore_stats: bool = False) -> Any:
        entries: dict[bytes, object] = {b"err": message}
        if ignore_stats:
            entries[b"ignore_error_stats_update"] = True
        return self.lua.table_from(entries)

    def _lua_error(self, value: bytes | ErrorReply) -> object:
        """A LuaRaise value as the Lua value a script sees."""
        if isinstance(value, ErrorReply):
            return self._error_table(value.message, value.ignore_stats)
        return value

    def resp_to_lua(self, data: bytes) -> object:
        """A command's reply as the Lua value redis.call returns."""
        return self._parse(data, 0)[0]

    def _parse(self, data: bytes, pos: int) -> tuple[object, int]:
        kind = data[pos]
        nl = data.index(b"\r\n", pos)
        line = data[pos + 1 : nl]
        after = nl + 2
        if kind == 0x24:  # $
            size = int(line)
            if size < 0:
                return False, after
            return data[after : after + size], after + size + 2
        if kind == 0x3A:  # :
            return float(int(line)), after
        if kind == 0x2B:  # +
            return self.lua.table_from({b"ok": line}), after
        if kind == 0x2D:  # -
            return self._error_table(push_error_text(b"-" + line), True), after
        if kind in (0x2A, 0x7E, 0x25, 0x3E):  # * ~ % >
            count = int(line)
            if count < 0:
                return False, after
            items: list[object] = []
            for _ in range(count * 2 if kind == 0x25 else count):
                item, after = self._parse(data, after)
                items.append(item)
            if kind == 0x25:
                return self._tagged(b"map", dict(zip(items[::2], items[1::2], strict=True))), after
            if kind == 0x7E:
                return self._tagged(b"set", dict.fromkeys(items, True)), after
            return self.lua.table_from(items), after
        if kind == 0x5F:  # _
            return None, after
        if kind == 0x23:  # #
            return line == b"t", after
        if kind == 0x2C:  # ,
            return self._tagged(b"double", float(line)), after
        if kind == 0x28:  # (
            return self._tagged(b"big_number", line), after
        if kind == 0x3D:  # =
            size = int(line)
            body = data[after : after + size]
            return self._tagged(
                b"verbatim_string", self.lua.table_from({b"format": body[:3], b"string": body[4:]})
            ), after + size + 2
        if kind == 0x7C:  # | attributes are skipped
            count = int(line)
            for _ in range(count * 2):
                _, after = self._parse(data, after)
            return self._parse(data, after)
        raise ValueError(f"unexpected reply type {chr(kind)!r}")

    def _tagged(self, tag: bytes, value: object) -> Any:
        if isinstance(value, dict):
            value = self.lua.table_from(value)
        return self.lua.table_from({tag: value})

    # --- the redis API --------------------------------------------------------------------
    def _argv(self, args: tuple[object, ...]) -> list[bytes]:
        """luaArgsToRedisArgv: strings as they are, numbers as "%.17g"."""
        if not args:
            raise LuaRaise(
                ErrorReply(b"ERR Please specify at least one argument for this redis lib call")
            )
        argv = []
        for arg in args:
            if isinstance(arg, bytes):
                argv.append(arg)
            elif isinstance(arg, (int, float)) and not isinstance(arg, bool):
                argv.append(_format_g17(arg))
            else:
                raise LuaRaise(
                    ErrorReply(b"ERR Lua redis lib command arguments must be strings or integers")
                )
        return argv

    def _command(self, args: tuple[object, ...], raise_errors: bool) -> object:
        if not self.host.running:
            _outside_script(b"call/pcall")
        try:
            argv = self._argv(args)
        except LuaRaise as exc:
            if raise_errors:
                raise
            return self._lua_error(exc.value)
        reply = self.host.command(argv)
        if raise_errors and reply[:1] == b"-":
            raise LuaRaise(ErrorReply(push_error_text(reply[: reply.index(b"\r\n")]), True))
        return self.resp_to_lua(reply)

    def _redis_call(self, *args: object) -> object:
        return self._command(args, True)

    def _redis_pcall(self, *args: object) -> object:
        return self._command(args, False)

    def _sha1hex(self, *args: object) -> bytes:
        if len(args) != 1:
            raise LuaRaise(ErrorReply(b"ERR wrong number of arguments"))
        value = args[0]
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = b"%.14g" % value
        return sha1hex(value if isinstance(value, bytes) else b"")

    def _error_reply(self, *args: object) -> Any:
        if len(args) != 1 or not isinstance(args[0], bytes):
            return self._error_table(b"ERR wrong number or type of arguments")
        text = args[0]
        return self._error_table(push_error_text(text if text[:1] == b"-" else b"-" + text))

    def _status_reply(self, *args: object) -> Any:
        if len(args) != 1 or not isinstance(args[0], bytes):
            return self._error_table(b"ERR wrong number or type of arguments")
        return self.lua.table_from({b"ok": args[0]})

    def _log(self, *args: object) -> None:
        if len(args) < 2:
            raise LuaRaise(ErrorReply(b"ERR redis.log() requires two arguments or more."))
        level = _lua_number(args[0])
        if level is None:
            raise LuaRaise(ErrorReply(b"ERR First argument must be a number (log level)."))
        if not 0 <= to_int64(level) <= 3:
            raise LuaRaise(ErrorReply(b"ERR Invalid debug level."))
        parts = []
        for i, arg in enumerate(args[1:]):
            text = _lua_string(arg)
            if text is not None:
                parts.append((b" " if i else b"") + text)
        self.host.log(to_int64(level), b"".join(parts))

    def _setresp(self, *args: object) -> None:
        if not self.host.running:
            _outside_script(b"setresp")
        if len(args) != 1:
            raise LuaRaise(ErrorReply(b"ERR redis.setresp() requires one argument."))
        version = to_int64(_lua_number(args[0]) or 0.0)
        if version not in (2, 3):
            raise LuaRaise(ErrorReply(b"ERR RESP version must be 2 or 3."))
        self.resp = version
        self.host.set_resp(version)

    def _set_repl(self, *args: object) -> None:
        if not self.host.running:
            _outside_script(b"set_repl")
        if len(args) != 1:
            raise LuaRaise(ErrorReply(b"ERR redis.set_repl() requires two arguments."))
        flags = to_int64(_lua_number(args[0]) or 0.0)
        if flags & ~(REPL_AOF | REPL_REPLICA):
            raise LuaRaise(
                ErrorReply(
                    b"ERR Invalid replication flags. Use REPL_AOF, "
                    b"REPL_REPLICA, REPL_ALL or REPL_NONE."
                )
            )
        self.host.set_repl(flags)

    def _replicate_commands(self, *args: object) -> bool:
        return True  # 7.0 always replicates effects

    def _nothing(self, *args: object) -> tuple[()]:
        return ()  # redis.breakpoint/redis.debug without the debugger: no-ops

    def _acl_check_cmd(self, *args: object) -> bool:
        if not self.host.running:
            _outside_script(b"acl_check_cmd")
        allowed = self.host.command_allowed(self._argv(args))
        if allowed is None:
            raise LuaRaise(ErrorReply(b"ERR Invalid command passed to redis.acl_check_cmd()"))
        return allowed

    def _random(self, view: object, *args: object) -> float:
        """Redis's math.random: Lua's own, on drand48 (identical everywhere)."""
        r = (self.host.rand48() % _LRAND48_MAX) / _LRAND48_MAX
        if not args:
            return r
        if len(args) == 1:
            upper = _checkint(args, 1, view)
            if upper < 1:
                raise ArgError(1, "interval is empty")
            return float(int(r * upper) + 1)
        if len(args) == 2:
            lower, upper = _checkint(args, 1, view), _checkint(args, 2, view)
            if lower > upper:
                raise ArgError(2, "interval is empty")
            return float(int(r * (upper - lower + 1)) + lower)
        raise LibError("wrong number of arguments")

    def _randomseed(self, view: object, *args: object) -> None:
        self.host.srand48(_checkint(args, 1, view))

    def _register_function(self, *args: object) -> None:
        if self._loading is None:
            raise LuaRaise(
                ErrorReply(
                    b"ERR redis.register_function can only be called on FUNCTION LOAD command"
                )
            )
        name, function, flags, description = self._registration(args)
        if not valid_name(name):
            raise LuaRaise(ErrorReply(b"ERR " + NAME_ERROR.encode()))
        if any(r.name.lower() == name.lower() for r in self._loading):
            raise LuaRaise(ErrorReply(b"ERR Function already exists in the library"))
        self._loading.append(Registered(name, function, flags, description))

    def _registration(
        self, args: tuple[object, ...]
    ) -> tuple[bytes, object, frozenset[bytes], bytes | None]:
        """luaRegisterFunctionReadArgs: (name, callback) or one table of named arguments."""

        def fail(message: bytes) -> LuaRaise:
            return LuaRaise(ErrorReply(b"ERR " + message))

        if not 1 <= len(args) <= 2:
            raise fail(b"wrong number of arguments to redis.register_function")
        if len(args) == 2:
            name = _lua_string(args[0])
            if name is None:
                raise fail(b"first argument to redis.register_function must be a string")
            if self.view.kind(args[1]) != "function":
                raise fail(b"second argument to redis.register_function must be a function")
            return name, args[1], frozenset(), None
        if self.view.kind(args[0]) != "table":
            raise fail(
                b"calling redis.register_function with a single argument is only "
                b"applicable to Lua table (representing named arguments)."
            )
        named: bytes | None = None
        function: object = None
        flags: frozenset[bytes] = frozenset()
        description: bytes | None = None
        for key, value in self.view.pairs(args[0]):
            word = _lua_string(key)
            if word is None:
                raise fail(b"named argument key given to redis.register_function is not a string")
            word = word.lower()
            if word == b"function_name":
                named = _lua_string(value)
                if named is None:
                    raise fail(
                        b"function_name argument given to redis.register_function must be a string"
                    )
            elif word == b"description":
                description = _lua_string(value)
                if description is None:
                    raise fail(
                        b"description argument given to redis.register_function must be a string"
                    )
            elif word == b"callback":
                if self.view.kind(value) != "function":
                    raise fail(
                        b"callback argument given to redis.register_function must be a function"
                    )
                function = value
            elif word == b"flags":
                if self.view.kind(value) != "table":
                    raise fail(
                        b"flags argument to redis.register_function must be a table "
                        b"representing function flags"
                    )
                parsed = self._function_flags(value)
                if parsed is None:
                    raise fail(b"unknown flag given")
                flags = parsed
            else:
                raise fail(b"unknown argument given to redis.register_function")
        if named is None:
            raise fail(b"redis.register_function must get a function name argument")
        if function is None:
            raise fail(b"redis.register_function must get a callback argument")
        return named, function, flags, description

    def _function_flags(self, table: object) -> frozenset[bytes] | None:
        items = dict(self.view.pairs(table))
        flags = set()
        i = 1
        while (value := items.get(i)) is not None:
            text = _lua_string(value)
            if text is None or text.lower() not in SCRIPT_FLAGS:
                return None
            flags.add(text.lower())
            i += 1
        return frozenset(flags)

    # --- errors coming back from Lua ------------------------------------------------------
    def _unwrap(self, error: object) -> object:
        """A Python exception Lua caught, as the Lua error value it stands for."""
        if isinstance(error, LuaRaise):
            return self._lua_error(error.value)
        if isinstance(error, NotCallable):
            return b"attempt to call a userdata value"
        if isinstance(error, BaseException):
            self.bug = self.bug or self._detached(error)
            return b"internal error"
        return error

    def _deny_index(self, obj: object, *key_and_value: object) -> object:
        """Indexing one of our Python objects (a library function, cjson.null): Lua's own
        error for indexing a function or userdata. Python attributes stay out of reach."""
        position = bytes(self._where()[0])
        kind = "function" if obj in self._funcs else "userdata"
        raise LuaRaise(position + f"attempt to index a {kind} value".encode())

    def _hook(self) -> bytes | None:
        try:
            return self.host.interrupted()
        except BaseException as exc:  # a bug in the host: stop the script, report it
            self.bug = self.bug or self._detached(exc)
            return b"ERR internal error"

    # --- running --------------------------------------------------------------------------
    def compile(self, body: bytes, chunkname: bytes, env: object) -> object:
        function, error = self.api.compile(body, chunkname, env)
        if function is None:
            raise ScriptCompileError(bytes(error))
        return function

    def compile_script(self, body: bytes) -> object:
        """An EVAL body (shebang line already blanked) as a function of the eval env."""
        return self.compile(body, b"@user_script", self.eval_env)

    def run_script(
        self,
        function: object,
        keys: list[bytes],
        argv: list[bytes],
        client_resp: int,
        name: bytes,
        hook: bool,
    ) -> Reply:
        return self._run(
            name,
            self.api.run_eval,
            function,
            self.eval_g,
            self.eval_env,
            HOOK_EVERY if hook else 0,
            client_resp,
            len(keys),
            *keys,
            *argv,
        )

    def run_function(
        self,
        function: object,
        keys: list[bytes],
        args: list[bytes],
        client_resp: int,
        name: bytes,
        hook: bool,
    ) -> Reply:
        return self._run(
            name,
            self.api.run_function,
            function,
            self.func_env,
            HOOK_EVERY if hook else 0,
            client_resp,
            len(keys),
            *keys,
            *args,
        )

    def _run(self, name: bytes, entry: Callable[..., Any], *args: object) -> Reply:
        """Call the sandbox's run_eval or run_function. A script starts in RESP2 whatever
        its client speaks (redis.setresp changes that); the count hook the entry point set is
        cleared even when the call raises, as it must not fire outside a script."""
        self.resp = 2
        try:
            result = entry(*args)
        finally:
            self._sethook()
        return self._finish(result, name)

    def _script_resp(self) -> int:
        return self.resp

    def _finish(self, result: Any, name: bytes) -> Reply:
        if result[0]:
            return Reply(bytes(result[1]), [bytes(e) for e in result[2].values()])
        return self._failure(result[1], name)

    def _failure(self, value: Any, name: bytes) -> Reply:
        """luaCallFunction's error reply: "-<err> script: <name>, on <source>:<line>."."""
        if lupa51.lua_type(value) != "table":
            message = _lua_string(value) or b"execution failure"
            return Reply(
                resp.error(
                    "ERR Error running script "
                    + name.decode(errors="replace")
                    + ", "
                    + message[:100].decode(errors="replace")
                )
            )
        text = _lua_string(_field(value, b"err"))
        if text is None:  # Redis 7.0.15 crashes here (error({})); answer something sane
            text = b"ERR unknown error"
        message = _c_string(text)
        source, line = _lua_string(_field(value, b"source")), _lua_string(_field(value, b"line"))
        if source is not None and line is not None:
            message += (
                b" script: " + name + b", on " + _c_string(source) + b":" + _c_string(line) + b"."
            )
        data = resp.error(message.decode("utf-8", "surrogateescape"))
        counted = [] if _field(value, b"ignore_error_stats_update") is True else [message]
        return Reply(data, counted)

    def load_library(self, body: bytes) -> list[Registered]:
        """Run a library's body (metadata line already blanked) in the load-time
        environment; the functions it registered, or LibraryError."""
        try:
            function = self.compile(body, b"@user_function", self.func_env)
        except ScriptCompileError as exc:
            raise LibraryError(b"Error compiling function: " + exc.message) from None
        self._loading = []
        try:
            ok, error = _first_two(
                self.api.run_load(function, self.func_env, self.func_meta, self.load_g, HOOK_EVERY)
            )
            registered = self._loading
        finally:
            self._sethook()
            self.func_meta[b"__index"] = self.func_g
            self._loading = None
        if not ok:
            text = _lua_string(error[b"err"]) if lupa51.lua_type(error) == "table" else None
            raise LibraryError(
                b"Error registering functions: " + (text if text is not None else b"unknown error")
            )
        return registered


_OP_CALL: Final = 28
_OP_TAILCALL: Final = 29


def untail(dump: bytes) -> bytes:
    """Lua 5.1 bytecode (lupa's x86-64 build: 4-byte ints and instructions, 8-byte size_t
    and numbers) with every OP_TAILCALL made an OP_CALL. The RETURN that always follows a
    tail call returns the call's results, so behaviour is unchanged -- except that the
    calling frame stays on the stack, as it does in Redis when the callee is a C function
    (which ours, written in Lua, are not): error positions then name the script's line."""
    code = bytearray(dump)
    pos = 12  # the header

    def integer() -> int:
        nonlocal pos
        value = int.from_bytes(code[pos : pos + 4], "little")
        pos += 4
        return value

    def string() -> None:
        nonlocal pos
        size = int.from_bytes(code[pos : pos + 8], "little")
        pos += 8 + size

    def function() -> None:
        nonlocal pos
        string()  # source
        pos += 4 + 4 + 4  # line defined, last line, upvalues/params/vararg/stack size
        count = integer()
        for at in range(pos, pos + 4 * count, 4):
            if code[at] & 0x3F == _OP_TAILCALL:
                code[at] = (code[at] & 0xC0) | _OP_CALL
        pos += 4 * count
        for _ in range(integer()):  # constants
            kind = code[pos]
            pos += 1
            if kind == 1:  # boolean
                pos += 1
            elif kind == 3:  # number
                pos += 8
            elif kind == 4:
                string()
        for _ in range(integer()):
            function()
        pos += 4 * integer()  # line info
        for _ in range(integer()):  # local variables
            string()
            pos += 8
        for _ in range(integer()):  # upvalue names
            string()

    function()
    return bytes(code)


def _first_two(results: Any) -> tuple[Any, Any]:
    """xpcall's status and first result (lupa hands a single value over as is)."""
    if isinstance(results, tuple):
        return results[0], results[1] if len(results) > 1 else None
    return results, None


def _is_array(node: object) -> bool:
    return isinstance(node, list) and not isinstance(node, MapPairs)


def _pairs_of(node: object) -> list[tuple[object, object]]:
    if isinstance(node, MapPairs):
        return list(node)
    assert isinstance(node, dict)
    return list(node.items())


def push_error_text(buffer: bytes) -> bytes:
    """luaPushErrorBuff: "-CODE msg" or "msg" as the "CODE msg" text of an {err=...}."""
    if buffer[:1] == b"-":
        space = buffer.find(b" ")
        if space < 0:
            code, message = b"ERR", buffer[1:]
        else:
            code, message = buffer[1:space], buffer[space + 1 :]
    else:
        code, message = b"ERR", buffer
    return _c_string(code + b" " + message.strip(b"\r\n"))


def _field(table: Any, key: bytes) -> object:
    """lua_getfield on an error table; a metamethod that fails reads as nil."""
    try:
        return table[key]
    except lupa51.LuaError:
        return None


def _format_g17(number: float) -> bytes:
    """C's "%.17g", which prints NaN's sign. (lupa hands Lua's -0 over as the integer 0,
    so that sign is already gone.)"""
    if number != number:
        return b"-nan" if math.copysign(1.0, number) < 0 else b"nan"
    return b"%.17g" % number


def _c_string(text: bytes) -> bytes:
    return text.split(b"\0", 1)[0]


def _outside_script(name: bytes) -> NoReturn:
    """Redis's error for redis.<name> called while no script runs; one text for all four
    API functions that check."""
    raise LuaRaise(
        ErrorReply(b"ERR redis." + name + b" can only be called inside a script invocation")
    )


def _lua_string(value: object) -> bytes | None:
    """lua_tolstring: strings, and numbers as "%.14g"; None for anything else."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return b"%.14g" % value
    return None


def _checkint(args: tuple[object, ...], narg: int, view: Any) -> int:
    """luaL_checkint: luaL_checkinteger narrowed to a C int."""
    value = to_int64(check_number(args, narg, view)) % 2**32
    return value - 2**32 if value >= 2**31 else value
