"""The command table: every command declared once, with Redis 7.0's metadata.

Rules:
- A command is a decorated handler `fn(client, argv) -> bytes | Block` plus a `CommandSpec`.
  Nothing else in slotd holds command metadata: the dispatcher's guards, COMMAND
  (INFO/DOCS/GETKEYS/LIST/COUNT), cluster routing and ACL all read the spec.
- Names are lowercase; subcommands live in their container's `subcommands` under their
  own name, and are addressed as "container|sub" in errors, COMMAND and ACL.
- Tables are objects (`CommandTable`), not module globals: the node and the Sentinel each
  build their own. A table is filled at import time and never changes afterwards.
Pure: no I/O.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from node.commands._args import option, string2ll
from node.commands.docs import Arg

if TYPE_CHECKING:
    from node.engine.blocking import Block
    from node.engine.session import Client

Argv = list[bytes]
Handler = Callable[["Client", Argv], "bytes | Block"]


class Flag(enum.IntFlag):
    """Command flags, in Redis's CMD_* bit order (COMMAND INFO lists them in this order)."""

    WRITE = enum.auto()
    READONLY = enum.auto()
    DENYOOM = enum.auto()
    MODULE = enum.auto()
    ADMIN = enum.auto()
    PUBSUB = enum.auto()
    NOSCRIPT = enum.auto()
    BLOCKING = enum.auto()
    LOADING = enum.auto()
    STALE = enum.auto()
    SKIP_MONITOR = enum.auto()
    SKIP_SLOWLOG = enum.auto()
    ASKING = enum.auto()
    FAST = enum.auto()
    NO_AUTH = enum.auto()
    MAY_REPLICATE = enum.auto()
    SENTINEL = enum.auto()
    ONLY_SENTINEL = enum.auto()
    NO_MANDATORY_KEYS = enum.auto()
    PROTECTED = enum.auto()
    MODULE_GETKEYS = enum.auto()
    MODULE_NO_CLUSTER = enum.auto()
    NO_ASYNC_LOADING = enum.auto()
    NO_MULTI = enum.auto()
    MOVABLE_KEYS = enum.auto()
    ALLOW_BUSY = enum.auto()


# The names COMMAND INFO prints (CMD_MODULE_*, SENTINEL and MAY_REPLICATE are not printed by
# 7.0).
FLAG_NAMES: Final[dict[Flag, bytes]] = {
    Flag.WRITE: b"write",
    Flag.READONLY: b"readonly",
    Flag.DENYOOM: b"denyoom",
    Flag.MODULE: b"module",
    Flag.ADMIN: b"admin",
    Flag.PUBSUB: b"pubsub",
    Flag.NOSCRIPT: b"noscript",
    Flag.BLOCKING: b"blocking",
    Flag.LOADING: b"loading",
    Flag.STALE: b"stale",
    Flag.SKIP_MONITOR: b"skip_monitor",
    Flag.SKIP_SLOWLOG: b"skip_slowlog",
    Flag.ASKING: b"asking",
    Flag.FAST: b"fast",
    Flag.NO_AUTH: b"no_auth",
    # may_replicate (like sentinel and protected) is hidden on purpose in Redis 7.0.
    Flag.NO_MANDATORY_KEYS: b"no_mandatory_keys",
    Flag.NO_ASYNC_LOADING: b"no_async_loading",
    Flag.NO_MULTI: b"no_multi",
    Flag.MOVABLE_KEYS: b"movablekeys",
    Flag.ALLOW_BUSY: b"allow_busy",
}


class Acl(enum.IntFlag):
    """ACL categories, in Redis's ACLCommandCategories order (COMMAND INFO order)."""

    KEYSPACE = enum.auto()
    READ = enum.auto()
    WRITE = enum.auto()
    SET = enum.auto()
    SORTEDSET = enum.auto()
    LIST = enum.auto()
    HASH = enum.auto()
    STRING = enum.auto()
    BITMAP = enum.auto()
    HYPERLOGLOG = enum.auto()
    GEO = enum.auto()
    STREAM = enum.auto()
    PUBSUB = enum.auto()
    ADMIN = enum.auto()
    FAST = enum.auto()
    SLOW = enum.auto()
    BLOCKING = enum.auto()
    DANGEROUS = enum.auto()
    CONNECTION = enum.auto()
    TRANSACTION = enum.auto()
    SCRIPTING = enum.auto()


NO_ACL: Final = Acl(0)


def acl_name(cat: Acl) -> bytes:
    return b"@" + (cat.name or "").lower().encode()


NO_FLAGS: Final = Flag(0)


class KeyFlag(enum.IntFlag):
    """Key-spec flags, in Redis's CMD_KEY_* order."""

    RO = enum.auto()
    RW = enum.auto()
    OW = enum.auto()
    RM = enum.auto()
    ACCESS = enum.auto()
    UPDATE = enum.auto()
    INSERT = enum.auto()
    DELETE = enum.auto()
    NOT_KEY = enum.auto()
    INCOMPLETE = enum.auto()
    VARIABLE_FLAGS = enum.auto()


# A key found in a request: its argv index and how the command uses it (Redis's keyReference).
KeyRef = tuple[int, KeyFlag]
# Redis's getkeys_proc: the keys of one request, for commands whose specs cannot say it all.
GetKeys = Callable[[Argv], list[KeyRef]]


@dataclass(frozen=True, slots=True)
class KeySpec:
    """A Redis 7 key spec: where the search begins, then how keys are found from there.

    begin: `index` (argv position `index`) or `keyword` (search `keyword` from `startfrom`;
    negative startfrom searches backwards from the end). find: `range` (lastkey relative to
    the first key, -1 = last arg; keystep; limit) or `keynum` (count at keynumidx, keys from
    firstkey, step keystep), both relative to the begin position. `unknown` for either means
    the command's own getkeys function decides.
    """

    flags: KeyFlag
    begin: str = "index"  # index | keyword | unknown
    index: int = 1
    keyword: bytes = b""
    startfrom: int = 0
    find: str = "range"  # range | keynum | unknown
    lastkey: int = 0
    keystep: int = 1
    limit: int = 0
    keynumidx: int = 0
    firstkey: int = 1
    notes: str = ""


def key_at(
    index: int, flags: KeyFlag, *, lastkey: int = 0, step: int = 1, limit: int = 0, notes: str = ""
) -> KeySpec:
    return KeySpec(flags, "index", index, lastkey=lastkey, keystep=step, limit=limit, notes=notes)


def keys_by_keyword(
    keyword: bytes,
    startfrom: int,
    flags: KeyFlag,
    *,
    lastkey: int = -1,
    step: int = 1,
    limit: int = 0,
) -> KeySpec:
    return KeySpec(
        flags,
        "keyword",
        keyword=keyword,
        startfrom=startfrom,
        lastkey=lastkey,
        keystep=step,
        limit=limit,
    )


def keys_by_count(
    index: int, flags: KeyFlag, *, keynumidx: int = 0, firstkey: int = 1, step: int = 1
) -> KeySpec:
    return KeySpec(
        flags, "index", index, find="keynum", keynumidx=keynumidx, firstkey=firstkey, keystep=step
    )


@dataclass(slots=True)
class CommandSpec:
    """One command (or subcommand) and everything Redis publishes about it."""

    name: str
    arity: int
    flags: Flag
    handler: Handler
    group: str
    since: str
    summary: str
    complexity: str = ""
    acl: Acl = NO_ACL
    keys: tuple[KeySpec, ...] = ()
    tips: tuple[str, ...] = ()
    args: tuple[Arg, ...] = ()  # for COMMAND DOCS (node/commands/docs.py)
    history: tuple[tuple[str, str], ...] = ()
    doc_flags: tuple[str, ...] = ()
    deprecated_since: str = ""
    replaced_by: str = ""
    getkeys: GetKeys | None = None
    container: CommandSpec | None = None
    subcommands: dict[bytes, CommandSpec] = field(default_factory=dict)
    # Filled by finalize(): everything the dispatcher needs as plain attributes.
    fullname: str = ""
    fast: bool = False  # may take the dispatcher's short path (no subcommands, never blocks)
    is_write: bool = False
    is_readonly: bool = False
    denyoom: bool = False
    no_auth: bool = False
    movable_keys: bool = False
    legacy_range: tuple[int, int, int] = (0, 0, 0)
    acl_categories: Acl = NO_ACL
    has_keys: bool = False  # Redis's doesCommandHaveKeys
    specs_first: bool = False  # key specs are searched before `getkeys` (see keys_and_flags)

    def finalize(self) -> None:
        self.fullname = f"{self.container.name}|{self.name}" if self.container else self.name
        self._legacy_range()
        f = self.flags
        self.is_write = bool(f & Flag.WRITE)
        self.is_readonly = bool(f & Flag.READONLY)
        self.denyoom = bool(f & Flag.DENYOOM)
        self.no_auth = bool(f & Flag.NO_AUTH)
        self.movable_keys = bool(f & Flag.MOVABLE_KEYS)
        # PROTECTED commands (DEBUG) need the dispatcher's enable-*-command guard.
        self.fast = not self.subcommands and not f & (Flag.BLOCKING | Flag.PROTECTED)
        self.acl_categories = self.acl | _implicit_acl(self)
        real_keys = any(not s.flags & KeyFlag.NOT_KEY for s in self.keys)
        self.has_keys = real_keys or self.getkeys is not None
        # VARIABLE_FLAGS specs cannot give per-request flags, so `getkeys` answers first;
        # without one the specs are used anyway, as Redis does for module commands.
        self.specs_first = real_keys and (
            self.getkeys is None or not any(s.flags & KeyFlag.VARIABLE_FLAGS for s in self.keys)
        )
        for sub in self.subcommands.values():
            sub.finalize()

    def _legacy_range(self) -> None:
        """Redis's populateCommandLegacyRangeSpec: (first, last, step) for COMMAND INFO;
        specs that do not fit a plain range make the command `movablekeys` (a getkeys
        function does not: SET has one and is not movablekeys)."""
        specs = self.keys
        if not specs:
            return
        if len(specs) == 1 and specs[0].begin == "index" and specs[0].find == "range":
            s = specs[0]
            if s.flags & KeyFlag.INCOMPLETE:
                self.flags |= Flag.MOVABLE_KEYS
            last = s.lastkey + s.index if s.lastkey >= 0 else s.lastkey
            self.legacy_range = (s.index, last, s.keystep)
            return
        first, last, prev_last = 1 << 31, 0, 0
        for s in specs:
            if s.begin != "index" or s.find != "range":
                self.flags |= Flag.MOVABLE_KEYS
                continue
            if s.keystep != 1 or (prev_last and prev_last != s.index - 1):
                self.flags |= Flag.MOVABLE_KEYS
                continue
            if s.flags & KeyFlag.INCOMPLETE:
                self.flags |= Flag.MOVABLE_KEYS
            first = min(first, s.index)
            abs_last = s.lastkey + s.index if s.lastkey >= 0 else s.lastkey
            last = max(last % (1 << 32), abs_last % (1 << 32))  # unsigned, as Redis
            if last >= 1 << 31:
                last -= 1 << 32
            prev_last = last
        if first == 1 << 31:
            self.flags |= Flag.MOVABLE_KEYS
            return
        self.legacy_range = (first, last, 1)

    def keys_and_flags(self, argv: Argv) -> list[KeyRef]:
        """Redis's getKeysFromCommandWithSpecs: the keys of a request and how it uses them.

        The key specs answer first; a spec that does not fit this argv, or an INCOMPLETE
        one, hands over to the `getkeys` function (which answers alone when the specs have
        VARIABLE_FLAGS). No answer at all means no keys.
        """
        if self.specs_first:
            found = keys_from_specs(self.keys, argv)
            if found is not None:
                return found
        if self.getkeys is not None:
            return self.getkeys(argv)
        return []

    def key_positions(self, argv: Argv) -> list[int]:
        """Argv indexes of the keys (cluster routing, WATCH-like checks)."""
        return [pos for pos, _ in self.keys_and_flags(argv)]


def keys_from_specs(
    specs: tuple[KeySpec, ...], argv: Argv, *, partial: bool = False
) -> list[KeyRef] | None:
    """Redis's getKeysUsingKeySpecs. None when a spec does not fit argv or is INCOMPLETE,
    unless `partial` (GET_KEYSPEC_RETURN_PARTIAL): then such specs are skipped, keeping the
    keys of the others. NOT_KEY specs (channels) are never searched."""
    out: list[KeyRef] = []
    for spec in specs:
        if spec.flags & KeyFlag.NOT_KEY:
            continue
        positions = _spec_positions(spec, argv)
        if positions is None:
            if partial:
                continue
            return None
        out.extend((pos, spec.flags) for pos in positions)
        if spec.flags & KeyFlag.INCOMPLETE and not partial:
            return None
    return out


def _spec_positions(spec: KeySpec, argv: Argv) -> list[int] | None:
    """One spec's key indexes; None if the spec does not fit argv (a syntax error there)."""
    argc = len(argv)
    if spec.begin == "index":
        first = spec.index
    elif spec.begin == "keyword":
        first = _after_keyword(spec, argv)
        if not first:
            return []  # no keyword, no keys: valid (an optional STORE, say)
    else:
        return None
    if spec.find == "range":
        if spec.lastkey >= 0:
            last = first + spec.lastkey
        elif not spec.limit:
            last = argc + spec.lastkey
        else:
            last = first + ((argc - first) // spec.limit + spec.lastkey)
    elif spec.find == "keynum":
        count_at = first + spec.keynumidx
        if count_at >= argc:
            return None
        count = _key_count(argv[count_at])
        if count is None:
            return None
        first += spec.firstkey
        last = first + count - 1
    else:
        return None
    if last >= argc or last < first or first >= argc:
        return None
    return list(range(first, last + 1, spec.keystep))


def _after_keyword(spec: KeySpec, argv: Argv) -> int:
    """The index after the spec's keyword (0 if absent). Like Redis, the scan stops one short
    of its far end: the last argument forwards, argv[1] backwards."""
    argc = len(argv)
    word = spec.keyword.upper()
    if spec.startfrom > 0:
        start, end, step = spec.startfrom, argc - 1, 1
    else:
        start, end = argc + spec.startfrom, 1
        step = 1 if start <= end else -1
    i = start
    while i != end and 1 <= i < argc:
        if option(argv[i]) == word:  # strcasecmp
            return i + 1
        i += step
    return 0


def _key_count(raw: bytes) -> int | None:
    """A numkeys argument: string2ll digits, not negative. Redis then narrows it to a C int,
    so absurd counts wrap the way they do there."""
    count = string2ll(raw)
    if count is None or count < 0:
        return None
    return (count + (1 << 31)) % (1 << 32) - (1 << 31)


def _implicit_acl(spec: CommandSpec) -> Acl:
    """Redis's setImplicitACLCategories: categories implied by the flags."""
    f, out = spec.flags, Acl(0)
    if f & Flag.WRITE:
        out |= Acl.WRITE
    if f & Flag.READONLY and not spec.acl & Acl.SCRIPTING:
        out |= Acl.READ
    if f & Flag.ADMIN:
        out |= Acl.ADMIN | Acl.DANGEROUS
    if f & Flag.PUBSUB:
        out |= Acl.PUBSUB
    if f & Flag.FAST:
        out |= Acl.FAST
    if f & Flag.BLOCKING:
        out |= Acl.BLOCKING
    if not (out | spec.acl) & Acl.FAST:  # not @fast means @slow, whichever way it came
        out |= Acl.SLOW
    return out


def _dispatched_by_subcommand(client: Client, argv: Argv) -> bytes:
    """A container's own handler: never called, the dispatcher resolves the subcommand."""
    raise AssertionError(f"container {argv[0]!r} reached without a subcommand")


class CommandTable:
    """Name -> spec, with case-insensitive lookup that costs one dict probe on the fast path."""

    def __init__(self) -> None:
        self.commands: dict[str, CommandSpec] = {}
        # bytes lookup; filled with lower/UPPER/Title spellings so clients' usual casing hits.
        self.lookup: dict[bytes, CommandSpec] = {}

    def command(
        self,
        name: str,
        arity: int,
        flags: Flag,
        *,
        group: str,
        since: str,
        summary: str,
        acl: Acl = NO_ACL,
        keys: tuple[KeySpec, ...] | list[KeySpec] = (),
        complexity: str = "",
        tips: tuple[str, ...] = (),
        args: tuple[Arg, ...] = (),
        history: tuple[tuple[str, str], ...] = (),
        doc_flags: tuple[str, ...] = (),
        deprecated_since: str = "",
        replaced_by: str = "",
        getkeys: GetKeys | None = None,
        container: str | None = None,
    ) -> Callable[[Handler], Handler]:
        """Declare a command; use as a decorator on its handler."""

        def register(fn: Handler) -> Handler:
            spec = CommandSpec(
                name,
                arity,
                flags,
                fn,
                group,
                since,
                summary,
                complexity,
                acl,
                tuple(keys),
                tips,
                args,
                history,
                doc_flags,
                deprecated_since,
                replaced_by,
                getkeys,
            )
            self.add(spec, container)
            return fn

        return register

    def add(self, spec: CommandSpec, container: str | None = None) -> None:
        if container is not None:
            parent = self.commands[container]
            spec.container = parent
            if spec.name.encode() in parent.subcommands:
                raise ValueError(f"duplicate subcommand {container}|{spec.name}")
            parent.subcommands[spec.name.encode()] = spec
            parent.fast = False  # COMMAND has a handler of its own, yet needs the full path
            spec.finalize()
            return
        if spec.name in self.commands:
            raise ValueError(f"duplicate command {spec.name}")
        self.commands[spec.name] = spec
        for variant in (spec.name, spec.name.upper(), spec.name.capitalize()):
            self.lookup[variant.encode()] = spec
        spec.finalize()

    def container(
        self,
        name: str,
        *,
        group: str,
        since: str,
        summary: str,
        acl: Acl = NO_ACL,
        complexity: str = "",
        arity: int = -2,
        flags: Flag = NO_FLAGS,
    ) -> CommandSpec:
        """Declare a command that only dispatches to subcommands (CONFIG, CLIENT, ...)."""
        spec = CommandSpec(
            name, arity, flags, _dispatched_by_subcommand, group, since, summary, complexity, acl
        )
        self.add(spec)
        spec.fast = False  # always dispatched through its subcommands
        return spec

    def renamed(self, renames: list[tuple[str, str]]) -> CommandTable:
        """A copy with `rename-command` directives applied: a command answers to its new
        name only (an empty one removes it); its spec, and so its name in COMMAND INFO and
        INFO commandstats, stays the original. ValueError with Redis's message when the
        command does not exist or the new name is taken."""
        if not renames:
            return self
        table = CommandTable()
        table.commands = dict(self.commands)
        table.lookup = dict(self.lookup)
        for old, new in renames:
            old_key = old.lower()
            spec = table.commands.pop(old_key, None)
            if spec is None:
                raise ValueError("No such command in rename-command")
            for variant in (old_key, old_key.upper(), old_key.capitalize()):
                table.lookup.pop(variant.encode(), None)
            if not new:
                continue
            new_key = new.lower()
            if new_key in table.commands:
                raise ValueError("Target command name already exists")
            table.commands[new_key] = spec
            for variant in (new_key, new_key.upper(), new_key.capitalize()):
                table.lookup[variant.encode()] = spec
        return table

    def get(self, name: bytes) -> CommandSpec | None:
        spec = self.lookup.get(name)
        if spec is None:
            try:
                spec = self.commands.get(name.decode("ascii").lower())
            except UnicodeDecodeError:
                return None
        return spec

    def __iter__(self) -> Iterator[CommandSpec]:
        return iter(self.commands.values())

    def __len__(self) -> int:
        return len(self.commands)
