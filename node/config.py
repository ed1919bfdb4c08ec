"""redis.conf parsing and the typed configuration of a node.

Rules:
- One table (`PARAMS`) names every config slotd accepts, with Redis's name, type, default
  and whether CONFIG SET may change it at runtime. Startup parsing, CONFIG GET/SET and
  CONFIG REWRITE read only this table.
- Values are stored in their typed form; `format_value` gives Redis's CONFIG GET text.
- Errors carry Redis's wording. Pure: reading the config *file* is the caller's job.
"""

from __future__ import annotations

import builtins
import re
import shlex
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final

ConfigValue = int | str | bool | tuple[str, ...] | tuple[tuple[int, int], ...]


class ConfigError(Exception):
    """A bad config name or value (startup aborts; CONFIG SET replies ERR)."""


_UNITS: Final = {
    "": 1, "b": 1, "k": 1000, "kb": 1024, "m": 1000**2, "mb": 1024**2,
    "g": 1000**3, "gb": 1024**3,
}


def parse_memory(text: str) -> int:
    """Redis's memtoull: an integer with an optional k/kb/m/mb/g/gb unit (case-insensitive)."""
    m = re.fullmatch(r"(-?\d+)([a-zA-Z]*)", text.strip())
    if not m or m.group(2).lower() not in _UNITS:
        raise ConfigError("argument must be a memory value")
    return int(m.group(1)) * _UNITS[m.group(2).lower()]


def _yes_no(text: str) -> bool:
    low = text.lower()
    if low == "yes":
        return True
    if low == "no":
        return False
    raise ConfigError("argument must be 'yes' or 'no'")


@dataclass(frozen=True)
class Param:
    name: str
    kind: str  # int | memory | bool | str | enum | list | save | special
    default: ConfigValue
    mutable: bool = True
    choices: tuple[str, ...] = ()
    lo: int = -(2**63)
    hi: int = 2**63 - 1
    aliases: tuple[str, ...] = ()

    def parse(self, args: Sequence[str]) -> ConfigValue:
        if self.kind == "list":
            return tuple(a for arg in args for a in arg.split() if a)
        if self.kind == "save":
            return _parse_save(" ".join(args))
        if len(args) != 1:
            raise ConfigError("wrong number of arguments")
        text = args[0]
        if self.kind == "bool":
            return _yes_no(text)
        if self.kind in ("int", "memory"):
            try:
                value = parse_memory(text) if self.kind == "memory" else int(text)
            except ValueError:
                raise ConfigError("argument couldn't be parsed into an integer") from None
            if not self.lo <= value <= self.hi:
                raise ConfigError(f"argument must be between {self.lo} and {self.hi} inclusive")
            return value
        if self.kind == "enum":
            low = text.lower()
            if low not in self.choices:
                raise ConfigError(f"argument(s) must be one of the following: {', '.join(self.choices)}")
            return low
        return text


def _parse_save(text: str) -> tuple[tuple[int, int], ...]:
    parts = text.split()
    if not parts or parts == ['""'] or text.strip() in ("", '""'):
        return ()
    if len(parts) % 2:
        raise ConfigError("Invalid save parameters")
    try:
        pairs = tuple((int(parts[i]), int(parts[i + 1])) for i in range(0, len(parts), 2))
    except ValueError:
        raise ConfigError("Invalid save parameters") from None
    if any(s < 1 or c < 0 for s, c in pairs):
        raise ConfigError("Invalid save parameters")
    return pairs


def _p(name: str, kind: str, default: ConfigValue, **kw: object) -> Param:
    return Param(name, kind, default, **kw)  # type: ignore[arg-type]


INT32 = 2**31 - 1
PARAMS: Final[tuple[Param, ...]] = (
    _p("port", "int", 6379, lo=0, hi=65535, mutable=False),
    _p("bind", "list", ("*", "-::*"), mutable=True),
    _p("bind-source-addr", "str", ""),
    _p("protected-mode", "bool", True),
    _p("requirepass", "str", ""),
    _p("masterauth", "str", ""),
    _p("masteruser", "str", ""),
    _p("timeout", "int", 0, lo=0, hi=INT32),
    _p("tcp-keepalive", "int", 300, lo=0, hi=INT32),
    _p("tcp-backlog", "int", 511, lo=0, hi=INT32, mutable=False),
    _p("maxclients", "int", 10000, lo=1, hi=INT32),
    _p("databases", "int", 16, lo=1, hi=INT32, mutable=False),
    _p("dir", "str", "."),
    _p("dbfilename", "str", "dump.rdb"),
    _p("logfile", "str", "", mutable=False),
    _p("loglevel", "enum", "notice", choices=("debug", "verbose", "notice", "warning", "nothing")),
    _p("daemonize", "bool", False, mutable=False),
    _p("pidfile", "str", "", mutable=False),
    _p("proto-max-bulk-len", "memory", 512 * 1024 * 1024, lo=1024 * 1024),
    _p("client-query-buffer-limit", "memory", 1024**3, lo=1024 * 1024),
    _p("hz", "int", 10, lo=0, hi=INT32),
    _p("dynamic-hz", "bool", True),
    _p("save", "save", ((3600, 1), (300, 100), (60, 10000))),
    _p("appendonly", "bool", False),
    _p("appendfilename", "str", "appendonly.aof", mutable=False),
    _p("appenddirname", "str", "appendonlydir", mutable=False),
    _p("appendfsync", "enum", "everysec", choices=("always", "everysec", "no")),
    _p("maxmemory", "memory", 0, lo=0),
    _p("maxmemory-policy", "enum", "noeviction", choices=(
        "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
        "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction")),
    _p("maxmemory-samples", "int", 5, lo=1, hi=64),
    _p("lazyfree-lazy-eviction", "bool", False),
    _p("lazyfree-lazy-expire", "bool", False),
    _p("lazyfree-lazy-server-del", "bool", False),
    _p("lazyfree-lazy-user-del", "bool", False),
    _p("lazyfree-lazy-user-flush", "bool", False),
    _p("cluster-enabled", "bool", False, mutable=False),
    _p("cluster-config-file", "str", "nodes.conf", mutable=False),
    _p("cluster-node-timeout", "int", 15000, lo=0),
    _p("replica-read-only", "bool", True, aliases=("slave-read-only",)),
    _p("replicaof", "list", (), mutable=False, aliases=("slaveof",)),
    _p("enable-debug-command", "enum", "no", choices=("no", "yes", "local"), mutable=False),
    _p("notify-keyspace-events", "str", ""),
    _p("slowlog-log-slower-than", "int", 10000),
    _p("slowlog-max-len", "int", 128, lo=0),
    _p("latency-monitor-threshold", "int", 0, lo=0),
    _p("lfu-log-factor", "int", 10, lo=0),
    _p("lfu-decay-time", "int", 1, lo=0),
    _p("hash-max-listpack-entries", "int", 128, lo=0, aliases=("hash-max-ziplist-entries",)),
    _p("hash-max-listpack-value", "int", 64, lo=0, aliases=("hash-max-ziplist-value",)),
    _p("list-max-listpack-size", "int", -2, aliases=("list-max-ziplist-size",)),
    _p("list-compress-depth", "int", 0, lo=0),
    _p("set-max-intset-entries", "int", 512, lo=0),
    _p("zset-max-listpack-entries", "int", 128, lo=0, aliases=("zset-max-ziplist-entries",)),
    _p("zset-max-listpack-value", "int", 64, lo=0, aliases=("zset-max-ziplist-value",)),
    _p("stream-node-max-bytes", "memory", 4096, lo=0),
    _p("stream-node-max-entries", "int", 100, lo=0),
    _p("hll-sparse-max-bytes", "memory", 3000, lo=0),
    _p("activerehashing", "bool", True),
    _p("active-expire-effort", "int", 1, lo=1, hi=10),
    _p("busy-reply-threshold", "int", 5000, lo=0, aliases=("lua-time-limit",)),
    _p("io-threads", "int", 1, lo=1, hi=128, mutable=False),
    _p("supervised", "enum", "no", choices=("upstart", "systemd", "auto", "no"), mutable=False),
    _p("always-show-logo", "bool", False, mutable=False),
    _p("set-proc-title", "bool", True, mutable=False),
    _p("syslog-enabled", "bool", False, mutable=False),
    _p("unixsocket", "str", "", mutable=False),
    _p("unixsocketperm", "int", 0, mutable=False),
)


@dataclass
class Config:
    """The typed configuration of one node; `values` is keyed by the canonical name."""

    values: dict[str, ConfigValue] = field(default_factory=dict)
    source_file: str = ""
    # Called with the canonical name after a runtime change (the engine refreshes caches).
    listeners: list[Callable[[str], None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        for p in PARAMS:
            self.values.setdefault(p.name, p.default)

    def int(self, name: str) -> int:
        value = self.values[name]
        assert isinstance(value, int)
        return value

    def bool(self, name: str) -> bool:
        return bool(self.values[name])

    def str(self, name: str) -> str:
        value = self.values[name]
        assert isinstance(value, str)
        return value

    def apply(self, name: builtins.str, args: Sequence[builtins.str], *,
              startup: builtins.bool) -> None:
        """Set one parameter from its textual arguments (config file, CLI or CONFIG SET)."""
        param = lookup_param(name)
        if param is None:
            raise ConfigError("Bad directive or wrong number of arguments")
        if not startup and not param.mutable:
            raise ConfigError("can't set immutable config")
        self.values[param.name] = param.parse(args)
        for listener in self.listeners:
            listener(param.name)


_BY_NAME: Final = {n: p for p in PARAMS for n in (p.name, *p.aliases)}


def lookup_param(name: str) -> Param | None:
    return _BY_NAME.get(name.lower())


def format_value(param: Param, value: ConfigValue) -> str:
    """CONFIG GET's text for a value."""
    if param.kind == "bool":
        return "yes" if value else "no"
    if param.kind == "list":
        assert isinstance(value, tuple)
        return " ".join(str(v) for v in value)
    if param.kind == "save":
        assert isinstance(value, tuple)
        return " ".join(f"{pair[0]} {pair[1]}" for pair in value if isinstance(pair, tuple))
    return str(value)


def parse_config_text(text: str) -> list[tuple[str, list[str]]]:
    """redis.conf lines -> (directive, args). Comments and blank lines are skipped;
    arguments follow sdssplitargs-like quoting."""
    out = []
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            words = shlex.split(line, posix=True)
        except ValueError:
            raise ConfigError(f"line {lineno}: unbalanced quotes in configuration line") from None
        if words:
            out.append((words[0].lower(), words[1:]))
    return out


def parse_command_line(argv: Iterable[str], read_file: Callable[[str], str]) -> Config:
    """redis-server's CLI: `[configfile] [--name value ...]`; CLI options override the file.

    Raises ConfigError naming the offending option.
    """
    args = list(argv)
    config = Config()
    directives: list[tuple[str, list[str]]] = []
    if args and not args[0].startswith("--"):
        config.source_file = args.pop(0)
        directives.extend(parse_config_text(read_file(config.source_file)))
    i = 0
    while i < len(args):
        opt = args[i]
        if not opt.startswith("--") or len(opt) == 2:
            raise ConfigError(f"Invalid argument '{opt}': options must start with '--'")
        name = opt[2:].lower()
        values: list[str] = []
        i += 1
        while i < len(args) and not args[i].startswith("--"):
            values.append(args[i])
            i += 1
        directives.append((name, values))
    for name, values in directives:
        if lookup_param(name) is None:
            raise ConfigError(f"Bad directive or wrong number of arguments: unknown option '{name}'")
        try:
            config.apply(name, values, startup=True)
        except ConfigError as exc:
            raise ConfigError(f"Invalid value for '{name}' ({' '.join(values)}): {exc}") from None
    return config
