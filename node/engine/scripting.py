"""Scripting state of one engine: the EVAL script cache, FUNCTION libraries, and the script
that is running (Redis's eval.c, script.c and functions.c, in one place).

- Scripts are cached by the SHA1 of their body (EVAL caches too); a `#!lua flags=...` first
  line declares flags (no-writes, allow-oom, allow-stale, no-cluster, allow-cross-slot-keys),
  and is blanked before compiling so line numbers stay the user's.
- Libraries come from FUNCTION LOAD (`#!lua name=<lib>`); their functions are registered by
  name across all libraries.
- A run (`Run`) is what Redis's scriptRunCtx holds: the caller, the mode, the read-only and
  write-dirty state, the kill flag and the start time. redis.call goes through `command`,
  which applies scriptCall's guards (unknown command, arity, noscript, writes in read-only
  scripts) and runs the command on the script's own client with blocking disabled.
- Busy scripts: past `busy-reply-threshold` ms (read from `engine.monotonic_ms`, a clock the
  shell injects) the count hook calls `engine.serve_while_busy` so the shell can answer
  other clients (BUSY, or SCRIPT KILL/FUNCTION KILL/SHUTDOWN NOSAVE and the other ALLOW_BUSY
  commands, through `Engine.execute_busy`). A killed script ends with "Script killed by user
  with SCRIPT KILL..."; one that has written cannot be killed (UNKILLABLE).
- math.random is Redis's drand48 with its process-wide state: the sequence continues from
  script to script (7.0 no longer reseeds per script) until math.randomseed.
- Propagation: a script propagates its effects, never itself (see `Scripting.command`).
Pure: no I/O, no clock reads of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from node.commands.registry import CommandSpec, Flag
from node.engine.acl import LUA
from node.engine.lua import (
    LOG_LEVELS,
    NAME_ERROR,
    REPL_AOF,
    REPL_REPLICA,
    SCRIPT_FLAGS,
    LibraryError,
    LuaVM,
    Registered,
    Reply,
    ScriptCompileError,
    sha1hex,
    valid_name,
)
from node.engine.lualib import cjson
from node.engine.memusage import _next_power as dict_slots
from node.engine.memusage import jemalloc_size, sds_size
from node.engine.session import Client
from node.persistence.blobs import FormatError
from node.proto import errors, resp
from node.proto.errors import CommandError
from node.proto.resp import split_args

if TYPE_CHECKING:
    from node.engine.engine import Engine
    from node.persistence.manager import Persistence

LOAD_TIMEOUT_MS: Final = 500
KILLED: Final = b"ERR Script killed by user with SCRIPT KILL..."
LOAD_TIMEOUT: Final = b"ERR FUNCTION LOAD timeout"
BUSY_EVAL: Final = (
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
)
BUSY_FUNCTION: Final = (
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
)
UNKILLABLE: Final = (
    "UNKILLABLE Sorry the script already executed write commands against the "
    "dataset. You can either wait the script termination or kill the server "
    "in a hard way using the SHUTDOWN NOSAVE command."
)
NOTBUSY: Final = "NOTBUSY No scripts in execution right now."
_MASK48: Final = (1 << 48) - 1
# INFO memory's script figures follow Redis's formulas over jemalloc's size classes: a
# dictEntry, a luaScript {flags, body}, a functionInfo {name, function, li, desc, flags}, a
# functionLibInfo {name, functions, ei, code}, Lua's function ref, and the fixed part of the
# functions engine (what an empty 7.0.15 reports). A dict's table is counted at its settled
# size: while Redis rehashes one into a bigger table (a few lookups long) it counts both.
_DICT_ENTRY: Final = 24
_LUA_SCRIPT: Final = 16
_FUNCTION_INFO: Final = 48
_LIBRARY_INFO: Final = 32
_LUA_FUNCTION_REF: Final = 8
_FUNCTIONS_BASE: Final = 200


@dataclass(slots=True)
class Script:
    """A cached EVAL script."""

    sha: bytes
    body: bytes
    flags: frozenset[bytes] | None  # None: no shebang (Redis's EVAL compatibility mode)
    function: object


@dataclass(slots=True)
class Function:
    name: bytes
    library: Library
    function: object
    flags: frozenset[bytes]
    description: bytes | None


@dataclass(slots=True)
class Library:
    name: bytes
    code: bytes
    # Function names are case-insensitive (Redis's dictSdsKeyCaseCompare): keyed lowercased.
    functions: dict[bytes, Function] = field(default_factory=dict)


@dataclass(slots=True)
class Run:
    """The running script (Redis's scriptRunCtx)."""

    caller: Client
    name: bytes  # the sha for EVAL, the function name for FCALL
    argv: list[bytes]  # the caller's command, for FUNCTION STATS
    eval_mode: bool
    read_only: bool
    allow_oom: bool  # declared allow-oom (scripts without a shebang never have it)
    start_ms: int
    write_dirty: bool = False
    timed_out: bool = False
    killed: bool = False
    repl: int = REPL_AOF | REPL_REPLICA  # redis.set_repl; read when propagation exists


def parse_shebang(body: bytes) -> tuple[frozenset[bytes] | None, int]:
    """evalExtractShebangFlags: (flags or None without a shebang, shebang length)."""
    if not body.startswith(b"#!"):
        return None, 0
    end = body.find(b"\n")
    if end < 0:
        raise CommandError("ERR Invalid script shebang")
    parts = split_args(body[:end])
    if not parts:
        raise CommandError("ERR Invalid engine in script shebang")
    if parts[0] != b"#!lua":
        raise CommandError("ERR Unexpected engine in script shebang: " + _text(parts[0]))
    flags: set[bytes] = set()
    for part in parts[1:]:
        if not part.startswith(b"flags="):
            raise CommandError("ERR Unknown lua shebang option: " + _text(part))
        value = part[6:]
        for flag in value.split(b",") if value else ():
            if flag not in SCRIPT_FLAGS:
                raise CommandError("ERR Unexpected flag in script shebang: " + _text(flag))
            flags.add(flag)
    return frozenset(flags), end


def parse_library_metadata(code: bytes) -> tuple[bytes, bytes, int]:
    """functionExtractLibMetaData: (engine, library name, metadata line length)."""
    if not code.startswith(b"#!"):
        raise CommandError("ERR Missing library metadata")
    end = code.find(b"\n")
    if end < 0:
        raise CommandError("ERR Invalid library metadata")
    parts = split_args(code[:end])
    if not parts:
        raise CommandError("ERR Invalid library metadata")
    name: bytes | None = None
    for part in parts[1:]:
        if part[:5].lower() == b"name=":
            if name is not None:
                raise CommandError(
                    "ERR Invalid metadata value, name argument was given multiple times"
                )
            name = part[5:]
            continue
        raise CommandError("ERR Invalid metadata value given: " + _text(part))
    if name is None:
        raise CommandError("ERR Library name was not given")
    return parts[0][2:], name, end


def _text(raw: bytes) -> str:
    """User bytes inside an error message ("%s" of a C string)."""
    return raw.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


class Scripting:
    """The scripting engine of one Engine (the LuaVM's host)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.scripts: dict[bytes, Script] = {}
        self.libraries: dict[bytes, Library] = {}
        self.functions: dict[bytes, Function] = {}
        self.run: Run | None = None
        self.rand_state = 0x1234ABCD330E  # redisLrand48's initial state
        self._vm: LuaVM | None = None
        self._client: Client | None = None
        self._load_started: int | None = None  # FUNCTION LOAD's start, for its timeout

    @property
    def vm(self) -> LuaVM:
        if self._vm is None:
            self._vm = LuaVM(self)
        return self._vm

    @property
    def running(self) -> bool:
        return self.run is not None

    def scripts_memory(self) -> int:
        """evalScriptsMemory: each script's sha sds and body string, plus the dict."""
        scripts = self.scripts
        # A body of up to 44 bytes is an embstr argument: one allocation of robj (16),
        # sdshdr8 (3), the bytes and a NUL, of which the robj is not counted.
        body = sum(
            jemalloc_size(19 + len(s.body)) - 16 if len(s.body) <= 44 else sds_size(len(s.body))
            for s in scripts.values()
        )
        return (
            body
            + len(scripts) * (sds_size(40) + _DICT_ENTRY + _LUA_SCRIPT)
            + (8 * dict_slots(len(scripts)) if scripts else 0)
        )

    def functions_memory(self) -> int:
        """functionsMemoryOverhead: the functions dict, each function's and library's
        allocations, and the engine's fixed part."""
        functions = self.functions
        total = _FUNCTIONS_BASE + len(functions) * _DICT_ENTRY
        if functions:
            total += 8 * dict_slots(len(functions))
        for f in functions.values():
            total += (
                _FUNCTION_INFO
                + sds_size(len(f.name))
                + _LUA_FUNCTION_REF
                + (sds_size(len(f.description)) if f.description is not None else 0)
            )
        for library in self.libraries.values():
            total += _LIBRARY_INFO + sds_size(len(library.name)) + sds_size(len(library.code))
        return total

    # --- EVAL scripts ---------------------------------------------------------------------
    def create_script(self, body: bytes) -> Script:
        """luaCreateFunction: the cached script for `body`, compiling it if new."""
        sha = sha1hex(body)
        script = self.scripts.get(sha)
        if script is not None:
            return script
        flags, shebang = parse_shebang(body)
        try:
            # The shebang characters go; its line feed stays, so line numbers match.
            function = self.vm.compile_script(body[shebang:])
        except ScriptCompileError as exc:
            raise CommandError(
                "ERR Error compiling script (new function): "
                + exc.message.decode("utf-8", "surrogateescape")
            ) from None
        script = Script(sha, body, flags, function)
        self.scripts[sha] = script
        return script

    def declares_writes(self, argv: list[bytes]) -> bool | None:
        """evalGetCommandFlags / fcallGetCommandFlags for cluster routing: whether the
        script or function an EVAL*/FCALL* names declared flags that let it write (no
        no-writes), or None when it declared none or is unknown: the command's own flags
        apply then. A new EVAL body is not compiled, only its shebang read."""
        name = argv[0].lower()
        if name in (b"eval", b"eval_ro"):
            script = self.scripts.get(sha1hex(argv[1]))
            if script is not None:
                flags = script.flags
            else:
                try:
                    flags = parse_shebang(argv[1])[0]
                except CommandError:
                    return None  # the run reports the bad shebang
        elif name in (b"evalsha", b"evalsha_ro"):
            found = self.scripts.get(argv[1].lower())
            flags = found.flags if found is not None else None
        else:
            function = self.functions.get(argv[1].lower())
            flags = function.flags if function is not None else None
        return None if flags is None else b"no-writes" not in flags

    def flush_scripts(self) -> None:
        """SCRIPT FLUSH: Redis starts a new Lua state, so cjson's settings reset too."""
        self.scripts.clear()
        if self._vm is not None:
            _reset_json(self._vm.eval_json)

    def eval(
        self, c: Client, argv: list[bytes], script: Script, numkeys: int, read_only: bool
    ) -> bytes:
        flags = script.flags
        self._check_runnable(flags, read_only)
        declared = flags or frozenset()
        keys, args = argv[3 : 3 + numkeys], argv[3 + numkeys :]
        return self._run(
            c,
            argv,
            script.sha,
            True,
            read_only or b"no-writes" in declared,
            b"allow-oom" in declared,
            lambda vm, hook: vm.run_script(script.function, keys, args, c.resp, script.sha, hook),
        )

    # --- functions ------------------------------------------------------------------------
    def fcall(
        self, c: Client, argv: list[bytes], function: Function, numkeys: int, read_only: bool
    ) -> bytes:
        self._check_runnable(function.flags, read_only)
        keys, args = argv[3 : 3 + numkeys], argv[3 + numkeys :]
        return self._run(
            c,
            argv,
            function.name,
            False,
            read_only or b"no-writes" in function.flags,
            b"allow-oom" in function.flags,
            lambda vm, hook: vm.run_function(
                function.function, keys, args, c.resp, function.name, hook
            ),
        )

    def create_library(
        self,
        code: bytes,
        replace: bool,
        libraries: dict[bytes, Library] | None = None,
        functions: dict[bytes, Function] | None = None,
    ) -> Library:
        """functionsCreateWithLibraryCtx: load `code` into the given (default: current)
        libraries; raises CommandError with Redis's text."""
        libraries = self.libraries if libraries is None else libraries
        functions = self.functions if functions is None else functions
        engine_name, name, metadata = parse_library_metadata(code)
        if not valid_name(name):
            raise CommandError("ERR " + NAME_ERROR)
        if engine_name.lower() != b"lua":
            raise CommandError(f"ERR Engine '{_text(engine_name)}' not found")
        old = libraries.get(name)
        if old is not None and not replace:
            raise CommandError(f"ERR Library '{_text(name)}' already exists")
        registered = self._load(code[metadata:])
        if not registered:
            raise CommandError("ERR No functions registered")
        for entry in registered:
            owner = functions.get(entry.name.lower())
            if owner is not None and owner.library is not old:
                raise CommandError(f"ERR Function {_text(entry.name)} already exists")
        library = Library(name, code)
        for entry in registered:
            library.functions[entry.name.lower()] = Function(
                entry.name, library, entry.function, entry.flags, entry.description
            )
        if old is not None:
            unlink_library(old, libraries, functions)
        link_library(library, libraries, functions)
        return library

    def _load(self, body: bytes) -> list[Registered]:
        self._load_started = self.engine.monotonic_ms()
        try:
            return self.vm.load_library(body)
        except LibraryError as exc:
            raise CommandError("ERR " + exc.message.decode("utf-8", "surrogateescape")) from None
        finally:
            self._load_started = None

    def flush_functions(self) -> None:
        """FUNCTION FLUSH: a new functions Lua state in Redis (cjson settings reset)."""
        self.libraries.clear()
        self.functions.clear()
        if self._vm is not None:
            _reset_json(self._vm.func_json)

    def attach_persistence(self, persistence: Persistence) -> None:
        """Put the libraries in RDB files (FUNCTION2 records) and take them back on load;
        a library that fails to load fails the load, as in Redis."""
        persistence.libraries = lambda: [lib.code for lib in self.libraries.values()]
        persistence.load_libraries = self.load_libraries

    def load_libraries(self, codes: list[bytes]) -> None:
        for code in codes:
            try:
                self.create_library(code, True)
            except CommandError as exc:
                raise FormatError(f"Failed loading library, {exc.message}") from None

    # --- running --------------------------------------------------------------------------
    def _check_runnable(self, flags: frozenset[bytes] | None, read_only: bool) -> None:
        """For scripts that declared flags (and functions): first what processCommand
        refuses once the flags made the command a write (MISCONF) or denyoom one (OOM),
        then scriptPrepareForRun's own checks."""
        if flags is None:
            return
        engine = self.engine
        writes = b"no-writes" not in flags
        memory = engine.memory
        if writes and b"allow-oom" not in flags and memory.limit and memory.pre_command_oom:
            raise CommandError(errors.OOM)
        if writes:
            denied = engine.persistence.write_error()
            if denied is not None:
                raise CommandError(denied)
        if b"no-cluster" in flags and engine.config.bool("cluster-enabled"):
            raise CommandError("ERR Can not run script on cluster, 'no-cluster' flag is set.")
        if writes and read_only:
            raise CommandError("ERR Can not execute a script with write flag using *_ro command.")

    def _run(
        self,
        c: Client,
        argv: list[bytes],
        name: bytes,
        eval_mode: bool,
        read_only: bool,
        allow_oom: bool,
        call: Callable[[LuaVM, bool], Reply],
    ) -> bytes:
        engine = self.engine
        engine.propagate_as(c, [])  # only the commands the script runs propagate
        self.run = Run(c, name, argv, eval_mode, read_only, allow_oom, engine.monotonic_ms())
        client = self._script_client(c)
        vm = self.vm
        vm.bug = None
        engine.no_blocking += 1
        try:
            reply = call(vm, engine.config.int("busy-reply-threshold") > 0)
        finally:
            engine.no_blocking -= 1
            client.out.clear()
            self.run = None
        if vm.bug is not None:
            bug, vm.bug = vm.bug, None
            raise bug
        for message in reply.counted_errors:
            engine.count_error(message.decode("utf-8", "surrogateescape"))
        return bytes(reply.data)

    def _script_client(self, caller: Client) -> Client:
        """Redis's fake Lua client, set up for a run: the caller's db and user, RESP2."""
        client = self._client
        if client is None:
            # "?:0": the peer id Redis gives a fake client (the slow log shows it)
            client = self._client = Client(self.engine, 0, addr="?:0")
        client.db = caller.db
        client.user = caller.user
        client.full_access = caller.full_access
        client.resp = 2
        client.authenticated = True
        client.out = []
        return client

    def command(self, argv: list[bytes]) -> bytes:
        """scriptCall: run a command for redis.call/pcall; its RESP reply."""
        engine = self.engine
        run = self.run
        client = self._client
        assert run is not None and client is not None
        spec = self.lookup(argv)
        if spec is None:
            return self._reject("ERR Unknown Redis command called from script")
        arity = spec.arity
        if (len(argv) != arity) if arity > 0 else (len(argv) < -arity):
            return self._reject("ERR Wrong number of args calling Redis command from script")
        if spec.flags & Flag.NOSCRIPT:
            return self._reject("ERR This Redis command is not allowed from script")
        denied = engine.acl.denied(client, spec, argv, context=LUA, caller=run.caller)
        if denied is not None:
            return self._reject("ERR The user executing the script " + denied)
        if run.read_only and spec.flags & (Flag.WRITE | Flag.MAY_REPLICATE):
            return self._reject("ERR Write commands are not allowed from read-only scripts.")
        if not run.write_dirty:  # once a script wrote, it cannot be stopped halfway
            denied = self._write_denied(run, spec)
            if denied is not None:
                return self._reject(denied)
        if spec.is_write:
            run.write_dirty = True
        if engine.cluster is not None:  # scriptVerifyClusterState
            denied = engine.cluster.script_denied(
                run.caller, spec, argv, self._cross_slot_allowed(run)
            )
            if denied is not None:
                return self._reject(denied)
        client.last_command = spec  # `call` counts the call (INFO commandstats and total)
        # Effects replication: `call` records what this command changed in the execution
        # unit of the EVAL/FCALL running it (propagated as MULTI/EXEC; `_run` keeps the
        # EVAL itself out). redis.set_repl's choice (run.repl) is kept for the day AOF and
        # replicas get separate streams; today both receive every effect.
        engine.call(client, spec, argv)
        reply = b"".join(client.out)
        client.out.clear()
        return reply

    def _cross_slot_allowed(self, run: Run) -> bool:
        """The run declared allow-cross-slot-keys (EVAL scripts without a shebang do)."""
        if run.eval_mode:
            script = self.scripts.get(run.name)
            return (
                script is None or script.flags is None or (b"allow-cross-slot-keys" in script.flags)
            )
        function = self.functions.get(run.name.lower())
        return function is not None and b"allow-cross-slot-keys" in function.flags

    def _write_denied(self, run: Run, spec: CommandSpec) -> str | None:
        """scriptVerifyWriteCommandAllow's server-state checks, then scriptVerifyOOM."""
        engine = self.engine
        if spec.is_write:
            replication = engine.replication
            if replication.guarding:
                denied = replication.denied(run.caller, spec)
                if denied in (errors.READONLY_REPLICA, errors.NOREPLICAS):
                    return denied
            denied = engine.persistence.write_error()
            if denied is not None:
                return denied
        memory = engine.memory
        if not run.allow_oom and spec.denyoom and memory.limit and memory.pre_command_oom:
            return errors.OOM
        return None

    def _reject(self, message: str) -> bytes:
        self.engine.count_error(message)
        return resp.error(message)

    def lookup(self, argv: list[bytes]) -> CommandSpec | None:
        """lookupCommand: the (sub)command argv names, None if unknown."""
        spec = self.engine.table.get(argv[0])
        if spec is not None and spec.subcommands and len(argv) > 1:
            return spec.subcommands.get(argv[1].lower())
        return spec

    def command_allowed(self, argv: list[bytes]) -> bool | None:
        """redis.acl_check_cmd: whether the caller's user may run argv, None when argv names
        no command."""
        spec = self.lookup(argv)
        if spec is None:
            return None
        assert self._client is not None
        return self.engine.acl.denied(self._client, spec, argv) is None

    def is_script_client(self, client: Client) -> bool:
        """Whether `client` runs a script's redis.call (for commands that refuse options
        there, like XREAD's BLOCK)."""
        return client is self._client and self.run is not None

    def log(self, level: int, text: bytes) -> None:
        self.engine.log(LOG_LEVELS[level], text.decode("utf-8", "replace"))

    def set_resp(self, version: int) -> None:
        if self._client is not None:
            self._client.resp = version

    def set_repl(self, flags: int) -> None:
        if self.run is not None:
            self.run.repl = flags

    def rand48(self) -> int:
        """redisLrand48: drand48's generator, 31 bits out."""
        self.rand_state = (0x5DEECE66D * self.rand_state + 0xB) & _MASK48
        return self.rand_state >> 17

    def srand48(self, seed: int) -> None:
        self.rand_state = ((seed & 0xFFFFFFFF) << 16) | 0x330E

    # --- busy scripts ---------------------------------------------------------------------
    def interrupted(self) -> bytes | None:
        """The count hook (scriptInterrupt / the FUNCTION LOAD timeout)."""
        engine = self.engine
        if self._load_started is not None:
            if engine.monotonic_ms() - self._load_started > LOAD_TIMEOUT_MS:
                return LOAD_TIMEOUT
            return None
        run = self.run
        if run is None:
            return None
        if not run.timed_out:
            elapsed = engine.monotonic_ms() - run.start_ms
            if elapsed < engine.config.int("busy-reply-threshold"):
                return None
            run.timed_out = True
            engine.log(
                "warning",
                f"Slow script detected: still in execution after {elapsed} "
                "milliseconds. You can try killing the script using the "
                f"{'SCRIPT KILL' if run.eval_mode else 'FUNCTION KILL'} "
                f"command. Script name is: {_text(run.name)}.",
            )
        if engine.serve_while_busy is not None:
            engine.serve_while_busy()
        if run.killed or engine.shutdown_requested is not None:
            return KILLED
        return None

    @property
    def busy(self) -> bool:
        """A script has run past the threshold: other clients get BUSY."""
        return self.run is not None and self.run.timed_out

    def busy_error(self) -> str:
        assert self.run is not None
        return BUSY_EVAL if self.run.eval_mode else BUSY_FUNCTION

    def kill(self, eval_mode: bool) -> None:
        """scriptKill: SCRIPT KILL (eval_mode) or FUNCTION KILL."""
        run = self.run
        if run is None:
            raise CommandError(NOTBUSY)
        if run.write_dirty:
            raise CommandError(UNKILLABLE)
        if eval_mode and not run.eval_mode:
            raise CommandError(BUSY_FUNCTION)
        if not eval_mode and run.eval_mode:
            raise CommandError(BUSY_EVAL)
        run.killed = True


def link_library(
    library: Library, libraries: dict[bytes, Library], functions: dict[bytes, Function]
) -> None:
    libraries[library.name] = library
    functions.update(library.functions)


def unlink_library(
    library: Library, libraries: dict[bytes, Library], functions: dict[bytes, Function]
) -> None:
    del libraries[library.name]
    for name in library.functions:
        del functions[name]


def _reset_json(config: cjson.Config) -> None:
    fresh = cjson.Config()
    for name in cjson.Config.__slots__:
        setattr(config, name, getattr(fresh, name))
