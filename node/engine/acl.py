"""Access control (Redis 7.0's acl.c): users and their selectors, the permission check the
dispatcher runs for restricted clients, authentication, the ACL LOG, and the rule text that
ACL LIST / GETUSER / SAVE print and ACL SETUSER / LOAD / `user` directives read.

Rules:
- A user is a name, flags (on/off, nopass, [skip-]sanitize-payload), SHA-256 password
  hashes and selectors: the root one (rules given outside parentheses) first, then one per
  `(...)`. A command passes when ANY selector allows the command itself, every key it names
  (with the access its key specs declare: ACCESS needs read, INSERT/DELETE/UPDATE need
  write) and every channel it publishes or subscribes to.
- Command permissions compile eagerly into a bitmap over command ids (one per command and
  subcommand, in the command table's sorted order), plus Redis's "future commands" bit that
  only `+@all`/`allcommands` sets, plus allowed first arguments (`+select|0`). Redis 7.0
  keeps no rule text: GETUSER/LIST describe the bitmap back (`+@all` or `-@all`, then the
  best-fitting categories, then single commands), and so does this module, with one
  difference: Redis lists single commands in its hash-table order, which changes from run
  to run; here they come in the table's sorted order.
- Keys come only from the command table (`CommandSpec.keys_and_flags`), channels from the
  pub/sub positions below (Redis's commands_with_channels): nothing else knows arguments.
- The dispatcher skips all of this for clients whose `full_access` is true (authenticated,
  user allowed every command, key and channel); every change to users or to a client's
  authentication refreshes that flag (`refresh`, `users_changed`).
- Pure: ACL LOAD/SAVE and the `aclfile` go through `read_file`/`write_file`, injected by
  the shell; time is the engine's clock; GENPASS uses the engine's seeded random.Random.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from node.commands._args import option
from node.commands.registry import Acl, CommandSpec, Flag, KeyFlag
from node.engine.glob import compile_glob
from node.proto import errors, resp
from node.proto.errors import CommandError

if TYPE_CHECKING:
    from node.engine.engine import Engine
    from node.engine.session import Client

# Why a request was refused (Redis's ACL_DENIED_*; with several selectors the highest
# reason wins, so the order matters).
DENIED_CMD, DENIED_KEY, DENIED_AUTH, DENIED_CHANNEL = 1, 2, 3, 4
_REASON_NAMES: Final = {
    DENIED_CMD: b"command",
    DENIED_KEY: b"key",
    DENIED_AUTH: b"auth",
    DENIED_CHANNEL: b"channel",
}
# getAclErrorMessage: what scripts are told (after "The user executing the script ").
DENIAL_TEXT: Final = {
    DENIED_CMD: "can't run this command or subcommand",
    DENIED_KEY: "can't access at least one of the keys mentioned in the command arguments",
    DENIED_CHANNEL: "can't publish to the channel mentioned in the command",
}
# ACL LOG contexts.
TOPLEVEL, MULTI, LUA = b"toplevel", b"multi", b"lua"

# Key pattern permissions (%R~ / %W~ / ~).
READ, WRITE = 1, 2
ALL_PERMS: Final = READ | WRITE
_WRITE_KEY_FLAGS: Final = KeyFlag.INSERT | KeyFlag.DELETE | KeyFlag.UPDATE

# Channel arguments: (first index, count or -1 for the rest, publish?, patterns?).
_CHANNEL_ARGS: Final[dict[str, tuple[int, int, bool, bool]]] = {
    "publish": (1, 1, True, False),
    "spublish": (1, 1, True, False),
    "subscribe": (1, -1, False, False),
    "ssubscribe": (1, -1, False, False),
    "psubscribe": (1, -1, False, True),
}

# ACLCommandCategories, in Redis's order (ACL CAT, and the best-fit search of describe).
CATEGORIES: Final[tuple[tuple[bytes, Acl], ...]] = tuple(
    ((cat.name or "").lower().encode(), cat) for cat in Acl
)

_INT_MAX: Final = 2**31 - 1
_SPACES: Final = frozenset(b" \t\n\v\f\r\0")
_HEX_DIGITS: Final = frozenset(b"0123456789abcdef")
GENPASS_MAX_BITS: Final = 4096
LOG_GROUPING_MS: Final = 60000
NOT_CONFIGURED: Final = (
    "ERR This Redis instance is not configured to use an ACL file. You may want to specify "
    "users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have "
    "a Redis configuration file set) in order to store users in the Redis configuration."
)
SAVE_FAILED: Final = (
    "ERR There was an error trying to save the ACLs. Please check the "
    "server logs for more information"
)


class RuleError(Exception):
    """An ACL rule that cannot be applied; the message is ACLSetUserStringError's."""


_UNKNOWN = "Unknown command or category name in ACL"
_SYNTAX = "Syntax error"
_KEYS_AFTER_ALL = (
    "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid "
    "and does not have any effect. Try 'resetkeys' to start with an empty list "
    "of patterns"
)
_CHANNELS_AFTER_ALL = (
    "Adding a pattern after the * pattern (or the 'allchannels' flag) is not "
    "valid and does not have any effect. Try 'resetchannels' to start with "
    "an empty list of channels"
)
_NO_SUCH_PASSWORD = "The password you are trying to remove from the user does not exist"
_BAD_HASH = (
    "The password hash must be exactly 64 characters and contain only lowercase "
    "hexadecimal characters"
)
_DUPLICATE_USER = "Duplicate user found. A user can only be defined once in config files"
_SUBCOMMAND_FIRSTARG = "Allowing first-arg of a subcommand is not supported"


def c_text(raw: bytes) -> str:
    """User bytes printed with %s: up to the first NUL, the bytes kept (resp.error)."""
    return raw.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def has_spaces(raw: bytes) -> bool:
    """ACLStringHasSpaces: a space-like byte or a NUL (names and patterns may hold neither)."""
    return any(b in _SPACES for b in raw)


def hash_password(password: bytes) -> bytes:
    return hashlib.sha256(password).hexdigest().encode()


def _valid_hash(text: bytes) -> bool:
    return len(text) == 64 and all(b in _HEX_DIGITS for b in text)


# --- the command index ------------------------------------------------------------------
_REDIS_VERSION: Final = (7, 0, 15)  # the release whose descriptions are reproduced


def _in_7_0(spec: CommandSpec) -> bool:
    return tuple(int(part) for part in spec.since.split(".")) <= _REDIS_VERSION


class CommandIndex:
    """Command ids and category masks over one command table.

    `spans[i]` is what `+@category` sets (each member with all of its subcommands, as
    ACLChangeSelectorPerm does); `members[i]` holds only the commands that carry the
    category themselves (what ACLCountCategoryBitsForCommands counts), among the commands
    Redis 7.0.15 has: later additions kept for clients (CLIENT SETINFO) must not tip the
    best-fit search of a description away from what 7.0 prints."""

    def __init__(self, commands: list[CommandSpec]) -> None:
        self.ids: dict[str, int] = {}
        # Top-level commands in order, each with its subcommands' (spec, id).
        self.tree: list[tuple[CommandSpec, int, list[tuple[CommandSpec, int]]]] = []
        self.subs_mask: dict[int, int] = {}
        for spec in sorted(commands, key=lambda s: s.name):
            top = self._assign(spec)
            subs = [
                (sub, self._assign(sub))
                for sub in sorted(spec.subcommands.values(), key=lambda s: s.name)
            ]
            self.subs_mask[top] = sum(1 << i for _, i in subs)
            self.tree.append((spec, top, subs))
        self.all_bits = (1 << len(self.ids)) - 1
        self.spans: list[int] = []
        self.members: list[int] = []
        for _, cat in CATEGORIES:
            span = members = 0
            for spec, top, subs in self.tree:
                if spec.acl_categories & cat:
                    if _in_7_0(spec):
                        members |= 1 << top
                    span |= 1 << top | self.subs_mask[top]
                for sub, i in subs:
                    if sub.acl_categories & cat:
                        if _in_7_0(sub):
                            members |= 1 << i
                        span |= 1 << i
            self.spans.append(span)
            self.members.append(members)

    def _assign(self, spec: CommandSpec) -> int:
        i = self.ids[spec.fullname] = len(self.ids)
        return i

    def ordered(self) -> Iterator[CommandSpec]:
        """Commands then their subcommands, the order ACL CAT lists them in."""
        for spec, _, subs in self.tree:
            yield spec
            for sub, _ in subs:
                yield sub


# --- users and selectors ----------------------------------------------------------------
@dataclass(slots=True)
class KeyPattern:
    pattern: bytes
    perms: int
    matches: Callable[[bytes], bool]

    def text(self) -> bytes:
        prefix = {ALL_PERMS: b"~", READ: b"%R~", WRITE: b"%W~"}[self.perms]
        return prefix + self.pattern


@dataclass(slots=True)
class Selector:
    """One set of permissions (Redis's aclSelector); a user's first one is its root."""

    allowed: int = 0  # bitmap over CommandIndex ids
    future: bool = False  # set by +@all only: "+@all" leads the description
    allcommands: bool = False
    firstargs: dict[int, list[bytes]] = field(default_factory=dict)
    keys: list[KeyPattern] = field(default_factory=list)
    allkeys: bool = False
    channels: list[bytes] = field(default_factory=list)
    allchannels: bool = False

    def copy(self) -> Selector:
        return Selector(
            self.allowed,
            self.future,
            self.allcommands,
            {k: list(v) for k, v in self.firstargs.items()},
            list(self.keys),
            self.allkeys,
            list(self.channels),
            self.allchannels,
        )


@dataclass(slots=True)
class User:
    name: bytes
    enabled: bool = False
    nopass: bool = False
    sanitize: bytes = b""  # b"", b"skip-sanitize-payload" or b"sanitize-payload"
    passwords: list[bytes] = field(default_factory=list)  # hex SHA-256 digests
    selectors: list[Selector] = field(default_factory=list)

    def unrestricted(self) -> bool:
        """Some selector allows every command on every key and channel."""
        return any(s.allcommands and s.allkeys and s.allchannels for s in self.selectors)

    def copy_from(self, other: User) -> None:
        """ACLCopyUser: take `other`'s rules, keep the name (and the object identity that
        connected clients hold)."""
        self.enabled, self.nopass, self.sanitize = other.enabled, other.nopass, other.sanitize
        self.passwords = list(other.passwords)
        self.selectors = [s.copy() for s in other.selectors]


@dataclass(slots=True)
class LogEntry:
    count: int
    reason: int
    context: bytes
    obj: bytes
    username: bytes
    created_ms: int
    client_info: bytes


def merge_selector_args(args: list[bytes]) -> tuple[list[bytes], int]:
    """ACLMergeSelectorArguments: rules split across arguments, `(+get` `~x)`, become one
    `(+get ~x)`. Returns (merged, -1), or ([], index) of an unclosed `(`."""
    merged: list[bytes] = []
    opened = -1
    selector = b""
    for i, op in enumerate(args):
        if op[:1] == b"(" and op[-1:] != b")":  # (a new one drops an unclosed one)
            selector, opened = op, i
            continue
        if opened >= 0:
            selector += b" " + op
            if op[-1:] == b")":
                merged.append(selector)
                opened = -1
            continue
        merged.append(op)
    if opened >= 0:
        return [], opened
    return merged, -1


class AccessControl:
    """Every user of one node, the ACL LOG, and the checks."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.index = CommandIndex(list(engine.orig_table))
        self.users: dict[bytes, User] = {}
        self.default = self._default_user()
        self.users[b"default"] = self.default
        self.default_open = True  # default user is on and nopass: no AUTH needed
        self.log: list[LogEntry] = []  # newest first
        # File I/O for `aclfile` (ACL LOAD/SAVE), set by the shell: read_file(path) -> text,
        # write_file(path, text); both raise OSError.
        self.read_file: Callable[[str], str] | None = None
        self.write_file: Callable[[str, str], None] | None = None
        # Compiled channel patterns of the rules (bounded by the rules ever configured).
        self._globs: dict[bytes, Callable[[bytes], bool]] = {}

    # --- building users ------------------------------------------------------------------
    def _all_channels_by_default(self) -> bool:
        return self.engine.config.str("acl-pubsub-default") == "allchannels"

    def new_selector(self) -> Selector:
        """ACLCreateSelector: no permissions, channels per `acl-pubsub-default`."""
        return Selector(allchannels=self._all_channels_by_default())

    def new_user(self, name: bytes) -> User:
        """ACLCreateUser (unlinked): off, no passwords, an empty root selector."""
        return User(name, selectors=[self.new_selector()])

    def _default_user(self) -> User:
        user = self.new_user(b"default")
        for op in (b"+@all", b"~*", b"&*", b"on", b"nopass"):
            self.apply(user, op)
        return user

    def apply(self, user: User, op: bytes) -> None:
        """ACLSetUser: apply one rule. Raises RuleError."""
        if not op:
            return
        word = option(op)
        if word == b"ON":
            user.enabled = True
        elif word == b"OFF":
            user.enabled = False
        elif word in (b"SKIP-SANITIZE-PAYLOAD", b"SANITIZE-PAYLOAD"):
            user.sanitize = word.lower()
        elif word == b"NOPASS":
            user.nopass = True
            user.passwords = []
        elif word == b"RESETPASS":
            user.nopass = False
            user.passwords = []
        elif op[:1] in (b">", b"#"):
            digest = hash_password(op[1:]) if op[:1] == b">" else op[1:]
            if not _valid_hash(digest):
                raise RuleError(_BAD_HASH)
            if digest not in user.passwords:
                user.passwords.append(digest)
            user.nopass = False
        elif op[:1] in (b"<", b"!"):
            digest = hash_password(op[1:]) if op[:1] == b"<" else op[1:]
            if not _valid_hash(digest):
                raise RuleError(_BAD_HASH)
            if digest not in user.passwords:
                raise RuleError(_NO_SUCH_PASSWORD)
            user.passwords.remove(digest)
        elif op[:1] == b"(" and op[-1:] == b")":
            selector = self.new_selector()
            for inner in resp.split_args(op[1:-1]) or ():
                self.apply_selector(selector, inner)
            user.selectors.append(selector)
        elif word == b"CLEARSELECTORS":
            del user.selectors[1:]
        elif word == b"RESET":
            user.nopass = False
            user.passwords = []
            root = user.selectors[0]
            root.keys, root.allkeys = [], False
            root.channels = []
            root.allchannels = self._all_channels_by_default()
            user.enabled = False
            user.sanitize = b"sanitize-payload"
            del user.selectors[1:]
            self.apply_selector(root, b"-@all")
        else:
            self.apply_selector(user.selectors[0], op)

    def apply_selector(self, sel: Selector, op: bytes) -> None:
        """ACLSetSelector: one command, key or channel rule. Raises RuleError."""
        word = option(op)
        if word in (b"ALLKEYS", b"~*"):
            sel.allkeys, sel.keys = True, []
        elif word == b"RESETKEYS":
            sel.allkeys, sel.keys = False, []
        elif word in (b"ALLCHANNELS", b"&*"):
            sel.allchannels, sel.channels = True, []
        elif word == b"RESETCHANNELS":
            sel.allchannels, sel.channels = False, []
        elif word in (b"ALLCOMMANDS", b"+@ALL"):
            sel.allowed, sel.future, sel.allcommands = self.index.all_bits, True, True
            sel.firstargs = {}
        elif word in (b"NOCOMMANDS", b"-@ALL"):
            sel.allowed, sel.future, sel.allcommands = 0, False, False
            sel.firstargs = {}
        elif op[:1] in (b"~", b"%"):
            self._add_key_pattern(sel, op)
        elif op[:1] == b"&":
            if sel.allchannels:
                raise RuleError(_CHANNELS_AFTER_ALL)
            if has_spaces(op[1:]):
                raise RuleError(_SYNTAX)
            if op[1:] not in sel.channels:
                sel.channels.append(op[1:])
        elif op[:1] in (b"+", b"-") and op[1:2] != b"@":
            self._command_rule(sel, op)
        elif op[:1] in (b"+", b"-"):
            i = next(
                (i for i, (name, _) in enumerate(CATEGORIES) if option(name) == word[2:]), None
            )
            if i is None:
                raise RuleError(_UNKNOWN)
            span = self.index.spans[i]
            if op[:1] == b"+":
                sel.allowed |= span
            else:
                sel.allowed &= ~span
                if span:
                    sel.allcommands = False
            for spec in self.index.ordered():
                if spec.acl_categories & CATEGORIES[i][1]:
                    sel.firstargs.pop(self.index.ids[spec.fullname], None)
        else:
            raise RuleError(_SYNTAX)

    def _add_key_pattern(self, sel: Selector, op: bytes) -> None:
        if sel.allkeys:
            raise RuleError(_KEYS_AFTER_ALL)
        perms, offset = ALL_PERMS, 1
        if op[:1] == b"%":
            perms = 0
            while offset < len(op):
                letter = op[offset : offset + 1]
                if letter in (b"R", b"r") and not perms & READ:
                    perms |= READ
                elif letter in (b"W", b"w") and not perms & WRITE:
                    perms |= WRITE
                elif letter == b"~":
                    offset += 1
                    break
                else:
                    raise RuleError(_SYNTAX)
                offset += 1
            if not perms:
                raise RuleError(_SYNTAX)
        pattern = op[offset:]
        if has_spaces(pattern):
            raise RuleError(_SYNTAX)
        for existing in sel.keys:
            if existing.pattern == pattern:
                existing.perms |= perms
                break
        else:
            sel.keys.append(KeyPattern(pattern, perms, compile_glob(pattern)))

    def lookup(self, name: bytes) -> CommandSpec | None:
        """ACLLookupCommand: `cmd` or `container|sub`, case-insensitive."""
        parts = name.split(b"|")
        if len(parts) > 2:
            return None
        spec = self.engine.orig_table.get(parts[0])
        if spec is None or len(parts) == 1:
            return spec
        if not spec.subcommands:
            return None
        return spec.subcommands.get(parts[1].lower())

    def _command_rule(self, sel: Selector, op: bytes) -> None:
        name = op[1:]
        if op[:1] == b"-" or b"|" not in name:
            spec = self.lookup(name)
            if spec is None:
                raise RuleError(_UNKNOWN)
            self._change(sel, spec, op[:1] == b"+")
            return
        base, _, first = name.rpartition(b"|")
        spec = self.lookup(base)
        if spec is None:
            raise RuleError(_UNKNOWN)
        if spec.container is not None:
            raise RuleError(_SUBCOMMAND_FIRSTARG)
        if not first:
            raise RuleError(_SYNTAX)
        if spec.subcommands:
            sub = self.lookup(name)
            if sub is None:
                raise RuleError(_UNKNOWN)
            self._change(sel, sub, True)
            return
        # `+select|0`: a first argument allowed for an otherwise blocked command.
        allowed = sel.firstargs.setdefault(self.index.ids[spec.fullname], [])
        if all(option(first) != option(known) for known in allowed):
            allowed.append(first)

    def _change(self, sel: Selector, spec: CommandSpec, allow: bool) -> None:
        """ACLChangeSelectorPerm: a command with all of its subcommands."""
        i = self.index.ids[spec.fullname]
        bits = (1 << i) | self.index.subs_mask.get(i, 0)
        if allow:
            sel.allowed |= bits
        else:
            sel.allowed &= ~bits
            sel.allcommands = False
        sel.firstargs.pop(i, None)

    def set_user(self, name: bytes, args: list[bytes], current: Client | None) -> None:
        """ACL SETUSER (run by `current`): every rule applies or none does. Raises
        CommandError."""
        if has_spaces(name):
            raise CommandError("ERR Usernames can't contain spaces or null characters")
        merged, bad = merge_selector_args(args)
        if bad >= 0:
            raise CommandError(
                f"ERR Unmatched parenthesis in acl selector starting at '{c_text(args[bad])}'."
            )
        existing = self.users.get(name)
        staged = self.new_user(name)
        if existing is not None:
            staged.copy_from(existing)
        for op in merged:
            try:
                self.apply(staged, op)
            except RuleError as exc:
                raise CommandError(
                    f"ERR Error in ACL SETUSER modifier '{c_text(op)}': {exc}"
                ) from None
        if existing is None:
            self.users[name] = staged
        else:
            self._kill_pubsub_clients_if_needed(staged, existing, current)
            existing.copy_from(staged)
        self.users_changed()

    def delete_users(self, names: list[bytes], current: Client | None) -> int:
        """ACL DELUSER: drop users, disconnecting their clients."""
        if b"default" in names:
            raise CommandError("ERR The 'default' user cannot be removed")
        deleted = 0
        for name in names:
            user = self.users.pop(name, None)
            if user is not None:
                self._kill_clients_of(user, current)
                deleted += 1
        if deleted:
            self.users_changed()
        return deleted

    def set_default_password(self, password: str) -> None:
        """`requirepass`: the default user's only password (none: nopass)."""
        self.apply(self.default, b"resetpass")
        if password:
            self.apply(self.default, b">" + password.encode("utf-8", "surrogateescape"))
        else:
            self.apply(self.default, b"nopass")
        self.users_changed()

    # --- clients ---------------------------------------------------------------------------
    def users_changed(self) -> None:
        """Users or their rules changed: recompute who may skip the checks."""
        self.default_open = self.default.enabled and self.default.nopass
        for client in self.engine.clients.values():
            self.refresh(client)

    def refresh(self, client: Client) -> None:
        client.full_access = self.authenticated(client) and client.user.unrestricted()

    def authenticated(self, client: Client) -> bool:
        """Not Redis's authRequired(): the client authenticated, or needs not."""
        return client.authenticated or self.default_open

    def set_default_auth(self, client: Client) -> None:
        """clientSetDefaultAuth: the default user, authenticated when it needs no password."""
        client.user = self.default
        client.authenticated = self.default_open
        self.refresh(client)

    def check_credentials(self, name: bytes, password: bytes) -> User | None:
        user = self.users.get(name)
        if user is None or not user.enabled:
            return None
        if user.nopass:
            return user
        digest = hash_password(password)
        # Every stored hash is compared, in time that does not depend on where they differ.
        ok = False
        for stored in user.passwords:
            ok |= hmac.compare_digest(digest, stored)
        return user if ok else None

    def authenticate(self, client: Client, name: bytes, password: bytes, argv: list[bytes]) -> bool:
        """ACLAuthenticateUser: log the client in, or add an "auth" ACL LOG entry."""
        user = self.check_credentials(name, password)
        if user is None:
            # An AUTH queued in a transaction runs under EXEC (the client's last command),
            # where Redis still has the client flagged MULTI.
            last = client.last_command
            in_multi = client.multi is not None or (last is not None and last.name == "exec")
            self.add_log(client, DENIED_AUTH, MULTI if in_multi else TOPLEVEL, argv[0], name, argv)
            return False
        client.user = user
        client.authenticated = True
        self.refresh(client)
        return True

    def _kill_clients_of(self, user: User, current: Client | None) -> None:
        """ACLFreeUserAndKillClients: a deleted user's clients fall back to the default
        user, unauthenticated, and are disconnected (the current one after its reply)."""
        for client in list(self.engine.clients.values()):
            if client.user is user:
                client.user = self.default
                client.authenticated = False
                self._disconnect(client, current)

    def _disconnect(self, client: Client, current: Client | None) -> None:
        engine = self.engine
        if client is current:
            client.close_after_reply = True
        else:
            engine.disconnect(client)
            engine.clients_to_close.append(client)

    def _kill_pubsub_clients_if_needed(self, new: User, old: User, current: Client | None) -> None:
        """ACLKillPubsubClientsIfNeeded: subscribers of `old` whose channels the new rules
        no longer allow are disconnected."""
        if any(s.allchannels for s in new.selectors):
            return
        upcoming = [c for s in new.selectors for c in s.channels]
        if all(c in upcoming for s in old.selectors for c in s.channels):
            return
        matchers = [compile_glob(c) for c in upcoming]
        for client in list(self.engine.clients.values()):
            if client.user is not old or not client.pubsub_mode:
                continue
            lost = any(p not in upcoming for p in client.patterns) or any(
                not any(m(ch) for m in matchers)
                for ch in (*client.channels, *client.shard_channels)
            )
            if lost:
                self._disconnect(client, current)

    # --- the check -------------------------------------------------------------------------
    def check(self, user: User, spec: CommandSpec, argv: list[bytes]) -> tuple[int, int]:
        """ACLCheckAllUserCommandPerm: (0, 0) when allowed, else (reason, argv index of the
        key or channel at fault) -- of the selector that got furthest."""
        keys: list[tuple[int, KeyFlag]] | None = None
        relevant, last_idx, idx = DENIED_CMD, 0, 0
        for sel in user.selectors:
            reason = 0
            if (
                not sel.allcommands
                and not spec.no_auth
                and not self._command_allowed(sel, spec, argv)
            ):
                reason = DENIED_CMD
            if not reason and not sel.allkeys and spec.has_keys:
                if keys is None:
                    keys = spec.keys_and_flags(argv)
                for pos, flags in keys:
                    if not self._key_allowed(sel, argv[pos], flags):
                        reason, idx = DENIED_KEY, pos
                        break
            if not reason and not sel.allchannels:
                bad = self._channel_denied(sel, spec, argv)
                if bad:
                    reason, idx = DENIED_CHANNEL, bad
            if not reason:
                return 0, 0
            # Redis keeps the index of an earlier selector when a later one fails on the
            # command itself; the comparison below sees that stale index too.
            if reason > relevant or (reason == relevant and idx > last_idx):
                relevant, last_idx = reason, idx
        return relevant, last_idx

    def _command_allowed(self, sel: Selector, spec: CommandSpec, argv: list[bytes]) -> bool:
        i = self.index.ids.get(spec.fullname)
        if i is None:
            return False
        if sel.allowed >> i & 1:
            return True
        allowed = sel.firstargs.get(i)
        if not allowed or len(argv) < 2:
            return False
        first = option(argv[2 if spec.container is not None else 1])
        return any(option(a) == first for a in allowed)

    @staticmethod
    def _key_allowed(sel: Selector, key: bytes, flags: KeyFlag) -> bool:
        need = (READ if flags & KeyFlag.ACCESS else 0) | (WRITE if flags & _WRITE_KEY_FLAGS else 0)
        return any(p.perms & need == need and p.matches(key) for p in sel.keys)

    def _channel_denied(self, sel: Selector, spec: CommandSpec, argv: list[bytes]) -> int:
        """The argv index of the first channel `sel` refuses, 0 when none."""
        layout = _CHANNEL_ARGS.get(spec.fullname)
        if layout is None:
            return 0
        start, count, _, patterns = layout
        stop = len(argv) if count < 0 else min(len(argv), start + count)
        for i in range(start, stop):
            channel = argv[i]
            if patterns:
                ok = channel in sel.channels  # a pattern must be granted literally
            else:
                ok = any(self._glob(p)(channel) for p in sel.channels)
            if not ok:
                return i
        return 0

    def _glob(self, pattern: bytes) -> Callable[[bytes], bool]:
        matcher = self._globs.get(pattern)
        if matcher is None:
            matcher = self._globs[pattern] = compile_glob(pattern)
        return matcher

    def guard(self, client: Client, spec: CommandSpec, argv: list[bytes]) -> None:
        """processCommand's authentication then ACL guards, for a client without
        `full_access`. Raises NOAUTH or NOPERM (EXECABORT for EXEC), logging denials."""
        try:
            if not self.authenticated(client):
                if not spec.no_auth:
                    raise CommandError(errors.NOAUTH)
                return
            if client.multi is not None and spec.flags & Flag.NO_MULTI:
                return  # "not allowed inside a transaction" comes first (the MULTI guard)
            reason, pos = self.check(client.user, spec, argv)
            if reason:
                context = MULTI if client.multi is not None else TOPLEVEL
                self.add_log(
                    client, reason, context, self._object(reason, pos, spec, argv), None, argv
                )
                raise CommandError(self._noperm(reason, spec))
        except CommandError as exc:
            if spec.fullname == "exec":
                # execCommandAbort: the transaction ends here.
                client.multi = None
                client.multi_error = False
                self.engine.unwatch(client)
                raise CommandError(
                    f"EXECABORT Transaction discarded because of: {exc.message}"
                ) from None
            raise

    @staticmethod
    def _noperm(reason: int, spec: CommandSpec) -> str:
        if reason == DENIED_CMD:
            return f"NOPERM this user has no permissions to run the '{spec.fullname}' command"
        if reason == DENIED_KEY:
            return "NOPERM this user has no permissions to access one of the keys used as arguments"
        return "NOPERM this user has no permissions to access one of the channels used as arguments"

    @staticmethod
    def _object(reason: int, pos: int, spec: CommandSpec, argv: list[bytes]) -> bytes:
        return spec.fullname.encode() if reason == DENIED_CMD else argv[pos]

    def denied(
        self,
        client: Client,
        spec: CommandSpec,
        argv: list[bytes],
        *,
        context: bytes | None = None,
        caller: Client | None = None,
    ) -> str | None:
        """The hook for code that runs commands on a client's behalf (scripts):
        None when `client.user` may run `argv`, else Redis's reason text, e.g. "can't run
        this command or subcommand" (scripts reply "The user executing the script " +
        it). With a `context` (LUA for redis.call/pcall) the denial is also added to the
        ACL LOG, under `caller`'s client info (the script's caller); redis.acl_check_cmd
        passes no context: it logs nothing."""
        if client.full_access:
            return None
        reason, pos = self.check(client.user, spec, argv)
        if not reason:
            return None
        if context is not None:
            self.add_log(
                caller or client,
                reason,
                context,
                self._object(reason, pos, spec, argv),
                client.user.name,
                argv,
            )
        return DENIAL_TEXT[reason]

    def exec_denied(self, client: Client, spec: CommandSpec, argv: list[bytes]) -> str | None:
        """EXEC's re-check of a queued command (rules may have changed since it was
        queued): None, or the error that replaces the command's reply (logged)."""
        if client.full_access:
            return None
        reason, pos = self.check(client.user, spec, argv)
        if not reason:
            return None
        self.add_log(client, reason, MULTI, self._object(reason, pos, spec, argv), None, argv)
        why = {
            DENIED_CMD: "no permission to execute the command or subcommand",
            DENIED_KEY: "no permission to touch the specified keys",
            DENIED_CHANNEL: "no permission to access one of the channels used as arguments",
        }[reason]
        return (
            "NOPERM ACLs rules changed between the moment the transaction was "
            "accumulated and the EXEC call. This command is no longer allowed for the "
            f"following reason: {why}"
        )

    def dry_run(self, user: User, spec: CommandSpec, argv: list[bytes]) -> bytes | None:
        """ACL DRYRUN's verdict: None (allowed) or the sentence Redis replies with."""
        reason, pos = self.check(user, spec, argv)
        if not reason:
            return None
        if reason == DENIED_CMD:
            return b"This user has no permissions to run the '%s' command" % (
                spec.fullname.encode()
            )
        kind = b"key" if reason == DENIED_KEY else b"channel"
        return b"This user has no permissions to access the '%s' %s" % (
            argv[pos].split(b"\0", 1)[0],
            kind,
        )

    # --- ACL LOG ---------------------------------------------------------------------------
    def add_log(
        self,
        client: Client,
        reason: int,
        context: bytes,
        obj: bytes,
        username: bytes | None,
        argv: list[bytes] | None,
    ) -> None:
        """addACLLogEntry: a similar entry among the last ten within a minute is bumped
        (and moved to the front) instead of adding one."""
        # connection.py imports the engine, so its client formatting is imported late.
        from node.commands.connection import client_line

        now = self.engine.now_ms
        name = client.user.name if username is None else username
        info = client_line(client, now, argv)[:-1]
        for i, entry in enumerate(self.log[:10]):
            if (
                entry.reason == reason
                and entry.context == context
                and abs(entry.created_ms - now) <= LOG_GROUPING_MS
                and entry.obj == obj
                and entry.username == name
            ):
                entry.count += 1
                entry.created_ms, entry.client_info = now, info
                self.log.insert(0, self.log.pop(i))
                return
        self.log.insert(0, LogEntry(1, reason, context, obj, name, now, info))
        del self.log[max(0, self.engine.config.int("acllog-max-len")) :]

    def log_reply(self, count: int, proto: int) -> bytes:
        now = self.engine.now_ms
        entries = self.log[: max(0, count)]
        out = [resp.array_header(len(entries))]
        for e in entries:
            out += (
                resp.map_header(7, proto),
                resp.bulk(b"count"),
                resp.integer(e.count),
                resp.bulk(b"reason"),
                resp.bulk(_REASON_NAMES[e.reason]),
                resp.bulk(b"context"),
                resp.bulk(e.context),
                resp.bulk(b"object"),
                resp.bulk(e.obj),
                resp.bulk(b"username"),
                resp.bulk(e.username),
                resp.bulk(b"age-seconds"),
                resp.double((now - e.created_ms) / 1000, proto),
                resp.bulk(b"client-info"),
                resp.bulk(e.client_info),
            )
        return b"".join(out)

    # --- describing users ------------------------------------------------------------------
    def describe_commands(self, sel: Selector) -> bytes:
        """ACLDescribeSelectorCommandRules: the bitmap as rules, categories first."""
        index = self.index
        additive = not sel.future
        rules = [b"-@all" if additive else b"+@all"]
        fake = 0 if additive else index.all_bits
        temp = sel.allowed
        applied: set[int] = set()
        while True:
            best, mindiff, maxsame = -1, _INT_MAX, 0
            for i, members in enumerate(index.members):
                if i in applied:
                    continue
                on = (temp & members).bit_count()
                off = members.bit_count() - on
                diff, same = (off, on) if additive else (on, off)
                if same > diff and (diff < mindiff or (diff == mindiff and same > maxsame)):
                    best, mindiff, maxsame = i, diff, same
            if best < 0:
                break
            span = index.spans[best]
            if additive:
                fake, temp = fake | span, temp & ~span
            else:
                fake, temp = fake & ~span, temp | span
            rules.append((b"+@" if additive else b"-@") + CATEGORIES[best][0])
            applied.add(best)
        for spec, top, subs in index.tree:
            mine = sel.allowed >> top & 1
            if mine != fake >> top & 1:
                rules.append((b"+" if mine else b"-") + spec.name.encode())
                bits = (1 << top) | index.subs_mask[top]
                fake = fake | bits if mine else fake & ~bits
            for sub, i in subs:
                bit = sel.allowed >> i & 1
                if bit != fake >> i & 1:
                    rules.append((b"+" if bit else b"-") + sub.fullname.encode())
                    fake ^= 1 << i
            if not mine:
                rules.extend(
                    b"+%s|%s" % (spec.name.encode(), first) for first in sel.firstargs.get(top, ())
                )
        return b" ".join(rules)

    @staticmethod
    def describe_keys(sel: Selector) -> bytes:
        return b"~*" if sel.allkeys else b" ".join(p.text() for p in sel.keys)

    @staticmethod
    def describe_channels(sel: Selector) -> bytes:
        return b"&*" if sel.allchannels else b" ".join(b"&" + c for c in sel.channels)

    def describe_selector(self, sel: Selector) -> bytes:
        """ACLDescribeSelector: keys, channels, commands (ACL LIST, the ACL file)."""
        parts = [b"~*"] if sel.allkeys else [p.text() for p in sel.keys]
        if sel.allchannels:
            parts.append(b"&*")
        else:
            parts += [b"resetchannels", *(b"&" + c for c in sel.channels)]
        parts.append(self.describe_commands(sel))
        return b" ".join(parts)

    def describe_user(self, user: User) -> bytes:
        """ACLDescribeUser: flags, password hashes, the root selector, then `(...)` ones."""
        head = b" ".join([*self.user_flags(user), *(b"#" + p for p in user.passwords)])
        out = head + b" " + self.describe_selector(user.selectors[0])
        for sel in user.selectors[1:]:
            out += b" (" + self.describe_selector(sel) + b")"
        return out

    @staticmethod
    def user_flags(user: User) -> list[bytes]:
        """The flags in ACLUserFlags order (ACL GETUSER, ACL LIST)."""
        flags = [b"on" if user.enabled else b"off"]
        if user.nopass:
            flags.append(b"nopass")
        if user.sanitize:
            flags.append(user.sanitize)
        return flags

    def sorted_users(self) -> list[User]:
        """Users in the rax order Redis lists them in (bytewise by name)."""
        return [self.users[name] for name in sorted(self.users)]

    def config_lines(self) -> list[bytes]:
        """`user <name> <rules>` for every user: ACL LIST, ACL SAVE, CONFIG REWRITE."""
        return [b"user " + u.name + b" " + self.describe_user(u) for u in self.sorted_users()]

    def rewrite_lines(self) -> list[str]:
        """CONFIG REWRITE's `user` lines (rewriteConfigUserOption): every user, or none
        when the users live in the aclfile (the file's old `user` lines then go)."""
        if self.engine.config.str("aclfile"):
            return []
        return [line.decode("utf-8", "surrogateescape") for line in self.config_lines()]

    # --- the ACL file and the config file ----------------------------------------------------
    def load_file(self, current: Client | None) -> str | None:
        """ACLLoadFromFile (run by `current`): replace every user with the file's, or change
        nothing and return the errors found (one line, Redis's wording)."""
        path = self.engine.config.str("aclfile")
        assert self.read_file is not None, "the shell injects read_file"
        try:
            text = self.read_file(path)
        except OSError as exc:
            return f"Error loading ACLs, opening file '{path}': {exc.strerror}"
        problems: list[str] = []
        loaded: dict[bytes, User] = {}
        for lineno, raw in enumerate(text.encode("utf-8", "surrogateescape").split(b"\n"), 1):
            line = raw.strip(b" \t\r\n")
            if not line:
                continue
            argv = line.split(b" ")
            if argv[0] != b"user" or len(argv) < 2:
                problems.append(
                    f"{path}:{lineno} should start with user keyword followed by the username. "
                )
                continue
            name = argv[1]
            if has_spaces(name):
                problems.append(
                    f"'{path}:{lineno}: username '{c_text(name)}' contains invalid characters. "
                )
                continue
            if name in loaded:
                problems.append(
                    f"WARNING: Duplicate user '{c_text(name)}' found on line {lineno}. "
                )
                continue
            user = loaded[name] = self.new_user(name)
            merged, bad = merge_selector_args(argv[2:])
            if bad >= 0:
                problems.append(f"{path}:{lineno}: Unmatched parenthesis in selector definition.")
                continue
            for op in merged:
                try:
                    self.apply(user, op.strip(b"\t\r\n"))
                except RuleError as exc:
                    # Only unknown commands are quoted: other rules may hold passwords.
                    quoted = (
                        f"Error in applying operation '{c_text(op)}': "
                        if str(exc) == _UNKNOWN
                        else ""
                    )
                    problems.append(f"{path}:{lineno}: {quoted}{exc}. ")
        if problems:
            return "".join(problems) + (
                "WARNING: ACL errors detected, no change to the "
                "previously active ACL rules was performed"
            )
        new_default = loaded.pop(b"default", None) or self._default_user()
        old = self.users
        self.default.copy_from(new_default)
        self.users = {b"default": self.default, **loaded}
        for name, user in old.items():
            if name != b"default":
                self._kill_clients_of(user, current)
        self.users_changed()
        return None

    def save_file(self) -> bool:
        """ACLSaveToFile: every user in `user ...` form (the shell writes atomically)."""
        assert self.write_file is not None, "the shell injects write_file"
        text = b"".join(line + b"\n" for line in self.config_lines())
        try:
            self.write_file(
                self.engine.config.str("aclfile"), text.decode("utf-8", "surrogateescape")
            )
        except OSError as exc:
            self.engine.log("warning", f"Writing ACL file for ACL SAVE: {exc.strerror}")
            return False
        return True

    def load_at_startup(self) -> None:
        """ACLLoadUsersAtStartup: the config file's `user` lines, or the `aclfile` (never
        both). Raises RuleError with the reason startup must abort."""
        config = self.engine.config
        aclfile = config.str("aclfile")
        if aclfile and config.users:
            raise RuleError(
                "Configuring Redis with users defined in redis.conf and at the same setting "
                "an ACL file path is invalid. This setup is very likely to lead to "
                "configuration errors and security holes, please define either an ACL file "
                "or declare users directly in your redis.conf, but not both."
            )
        seen: set[bytes] = set()
        for words in config.users:
            args = [w.encode("utf-8", "surrogateescape") for w in words]
            name = args[0]
            if name in seen:
                raise RuleError(f"Error in user declaration '{c_text(name)}': {_DUPLICATE_USER}")
            seen.add(name)
            if has_spaces(name):
                raise RuleError("Spaces not allowed in ACL usernames")
            merged, bad = merge_selector_args(args[1:])
            if bad >= 0:
                raise RuleError(
                    f"Error in user declaration '{c_text(args[1 + bad])}': Unmatched parenthesis"
                )
            user = self.users.get(name)
            if user is None:
                user = self.users[name] = self.new_user(name)
            else:
                self.apply(user, b"reset")
            for op in merged:
                try:
                    self.apply(user, op)
                except RuleError as exc:
                    raise RuleError(
                        f"Error loading ACL rule '{c_text(op)}' for the user "
                        f"named '{c_text(name)}': {exc}"
                    ) from None
        self.users_changed()
        if aclfile:
            problems = self.load_file(None)
            if problems is not None:
                raise RuleError(f"Aborting Redis startup because of ACL errors: {problems}")
