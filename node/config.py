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

from node.engine import notify

ConfigValue = int | str | bool | tuple[str, ...] | tuple[tuple[int, int], ...]


class ConfigError(Exception):
    """A bad config name or value (startup aborts; CONFIG SET replies ERR)."""


class ConfigApplyError(ConfigError):
    """A runtime change that was set but could not take effect (Redis's apply functions,
    e.g. a TLS reload); `name` is the parameter CONFIG SET blames."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


_UNITS: Final = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1024,
    "m": 1000**2,
    "mb": 1024**2,
    "g": 1000**3,
    "gb": 1024**3,
}


def parse_memory(text: str) -> int:
    """Redis's memtoull: an unsigned integer with an optional k/kb/m/mb/g/gb unit
    (case-insensitive); no sign, no spaces, at most 2**64-1."""
    m = re.fullmatch(r"(\d*)([a-zA-Z]*)", text)
    if not m or m.group(2).lower() not in _UNITS:
        raise ConfigError("argument must be a memory value")
    # strtoull: no digits read as 0, too many saturate; the unit's product wraps at 2**64.
    return min(int(m.group(1) or "0"), 2**64 - 1) * _UNITS[m.group(2).lower()] % 2**64


def _string2ll(text: str) -> int | None:
    """Redis's string2ll: only the canonical decimal spelling of an int64 ("05", "+5",
    " 5" and "-0" are not numbers)."""
    if not re.fullmatch(r"0|-?[1-9][0-9]*", text):
        return None
    value = int(text)
    return value if -(2**63) <= value < 2**63 else None


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
    kind: str  # int | memory | mempct (memory or N%) | bool | str | enum | list | save
    #            | percentiles (latency-tracking-info-percentiles)
    #            | events (notify-keyspace-events letters, stored as NOTIFY_* flags)
    #            | flags (a multi-argument enum: words from `choices`, choices[0] meaning
    #              none, stored in the choices' order)
    default: ConfigValue
    mutable: bool = True
    choices: tuple[str, ...] = ()
    lo: int = -(2**63)
    hi: int = 2**63 - 1
    aliases: tuple[str, ...] = ()
    # Redis's PROTECTED_CONFIG: CONFIG SET needs `enable-protected-configs` to allow it.
    protected: bool = False
    # Redis's is_valid/apply checks of one parameter: the value to keep, or ConfigError.
    check: Callable[[ConfigValue], ConfigValue] | None = None

    def parse(self, args: Sequence[str]) -> ConfigValue:
        value = self._parse(args)
        return value if self.check is None else self.check(value)

    def _parse(self, args: Sequence[str]) -> ConfigValue:
        if self.kind == "obuf":
            return _parse_obuf(" ".join(args))
        if self.kind == "list":
            return tuple(a for arg in args for a in arg.split() if a)
        if self.kind == "percentiles":
            return _parse_percentiles(" ".join(args))
        if self.kind == "save":
            return _parse_save(" ".join(args))
        if self.kind == "flags":
            return self._flags(args)
        if len(args) != 1:
            raise ConfigError("wrong number of arguments")
        text = args[0]
        if self.kind == "bool":
            return _yes_no(text)
        if self.kind in ("int", "memory", "mempct"):
            value = self._number(text)
            if not self.lo <= value <= self.hi:
                raise ConfigError(f"argument must be between {self.lo} and {self.hi} inclusive")
            return value
        if self.kind == "enum":
            low = text.lower()
            if low not in self.choices:
                raise ConfigError(
                    f"argument(s) must be one of the following: {', '.join(self.choices)}"
                )
            return low
        if self.kind == "events":
            flags = notify.parse_classes(text)
            if flags is None:
                raise ConfigError(notify.INVALID_CLASS)
            return flags
        return text

    def _flags(self, args: Sequence[str]) -> tuple[str, ...]:
        words = " ".join(args).lower().split(" ")  # single spaces: "a  b" has an empty word
        if any(w not in self.choices for w in words):
            raise ConfigError(
                f"argument(s) must be one of the following: {', '.join(self.choices)}"
            )
        chosen = tuple(c for c in self.choices[1:] if c in words)
        if "save" in chosen and "nosave" in chosen:  # the shutdown-on-sig* validator
            raise ConfigError("shutdown options SAVE and NOSAVE can't be used simultaneously")
        return chosen

    def _number(self, text: str) -> int:
        """Redis's numericParseString: memory units, then a percentage (stored negated)."""
        if self.kind == "int":
            value = _string2ll(text)
            if value is None:
                raise ConfigError("argument couldn't be parsed into an integer")
            return value
        try:
            value = parse_memory(text)
            # Read back as the C type: past 2**63 a signed one is negative (for a percent
            # config, a percentage).
            return value - 2**64 if value >= 2**63 and self.hi < 2**63 else value
        except ConfigError:
            if self.kind == "memory":
                raise
        percent = _string2ll(text[:-1]) if text.endswith("%") else None
        if percent is None or percent < 0:
            raise ConfigError("argument must be a memory or percent value")
        if percent > 100:
            raise ConfigError("percentage argument must be less or equal to 100")
        return -percent


def _parse_save(text: str) -> tuple[tuple[int, int], ...]:
    if text in ("", '""'):
        return ()
    parts = text.split(" ")  # single spaces: an empty word is invalid
    if len(parts) % 2 or "" in parts:
        raise ConfigError("Invalid save parameters")
    try:
        pairs = tuple((int(parts[i]), int(parts[i + 1])) for i in range(0, len(parts), 2))
    except ValueError:
        raise ConfigError("Invalid save parameters") from None
    if any(s < 1 or c < 0 for s, c in pairs):
        raise ConfigError("Invalid save parameters")
    return pairs


def format_percentile(value: float) -> str:
    """ "%f" with its trailing zeros and dot trimmed (Redis's trimDoubleString)."""
    return f"{value:f}".rstrip("0").rstrip(".")


def _parse_percentiles(text: str) -> tuple[str, ...]:
    """latency-tracking-info-percentiles: doubles in [0, 100] split on single spaces (an
    empty value is an empty list), kept as Redis prints them back."""
    if not text:
        return ()
    values = []
    for word in text.split(" "):
        try:
            # strtod's syntax: no blanks around, no digit separators, hex floats.
            if word.strip() != word or "_" in word:
                value = float("nan")
            elif "0x" in word[:3].lower():
                value = float.fromhex(word)
            else:
                value = float(word)
        except ValueError:
            value = float("nan")
        if value != value:
            raise ConfigError("Invalid latency-tracking-info-percentiles parameters")
        if not 0.0 <= value <= 100.0:
            raise ConfigError(
                "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"
            )
        values.append(format_percentile(value))
    return tuple(values)


def _p(name: str, kind: str, default: ConfigValue, **kw: object) -> Param:
    return Param(name, kind, default, **kw)  # type: ignore[arg-type]


INT32 = 2**31 - 1
UINT32 = 2**32 - 1
_PROTECTED_ACTION: Final = ("no", "yes", "local")
_SHUTDOWN_FLAGS: Final = ("default", "save", "nosave", "now", "force")


def _clamp_hz(value: ConfigValue) -> ConfigValue:
    """updateHZ: kept within CONFIG_MIN_HZ..CONFIG_MAX_HZ."""
    assert isinstance(value, int)
    return min(max(value, 1), 500)


def _backlog_min(value: ConfigValue) -> ConfigValue:
    """resizeReplicationBacklog: never below CONFIG_REPL_BACKLOG_MIN_SIZE."""
    assert isinstance(value, int)
    return max(value, 16 * 1024)


def _no_defrag(value: ConfigValue) -> ConfigValue:
    if value:  # as a Redis built without its jemalloc (no defragmentation)
        raise ConfigError(
            "Active defragmentation cannot be enabled: it requires a Redis server "
            "compiled with a modified Jemalloc like the one shipped by default "
            "with the Redis source distribution"
        )
    return value


def _oom_score_adj_values(value: ConfigValue) -> ConfigValue:
    """Three integers between -2000 and 2000, split on single spaces."""
    assert isinstance(value, tuple)
    words = " ".join(map(str, value)).split(" ")
    if len(words) != 3:
        raise ConfigError("wrong number of arguments")
    numbers = [_string2ll(w) for w in words]
    if any(n is None or not -2000 <= n <= 2000 for n in numbers):
        raise ConfigError("Invalid oom-score-adj-values, elements must be between -2000 and 2000.")
    return tuple(words)


_TITLE_VARIABLES: Final = {
    "title": "",
    "listen-addr": "*:6379",
    "server-mode": "",
    "port": "6379",
    "tls-port": "0",
    "unixsocket": "",
    "config-file": "",
}


def _proc_title_template(value: ConfigValue) -> ConfigValue:
    """validateProcTitleTemplate: braces balanced ({{ and }} are literal), known variables
    only, and something left once expanded with an empty title and trimmed."""
    text = str(value)
    out, i = [], 0
    while i < len(text):
        if text.startswith(("{{", "}}"), i):
            out.append(text[i])
            i += 2
        elif text[i] == "{":
            end = text.find("}", i)
            name = text[i + 1 : end] if end > 0 else None
            if name is None or name not in _TITLE_VARIABLES:
                break
            out.append(_TITLE_VARIABLES[name])
            i = end + 1
        elif text[i] == "}":
            break
        else:
            out.append(text[i])
            i += 1
    if i < len(text) or not "".join(out).strip(" "):
        raise ConfigError("template format is invalid or contains unknown variables")
    return value


def _bind_addresses(value: ConfigValue) -> ConfigValue:
    assert isinstance(value, tuple)
    if len(value) > 16:  # CONFIG_BINDADDR_MAX
        raise ConfigError("Too many bind addresses specified.")
    return value


def _hostname(value: ConfigValue) -> ConfigValue:
    if not re.fullmatch(r"[A-Za-z0-9.-]*", str(value)):
        raise ConfigError("Hostnames may only contain alphanumeric characters, hyphens or dots")
    return value


PARAMS: Final[tuple[Param, ...]] = (
    _p("port", "int", 6379, lo=0, hi=65535),
    _p("bind", "list", ("*", "-::*"), mutable=True, check=_bind_addresses),
    _p("bind-source-addr", "str", ""),
    _p("protected-mode", "bool", True),
    _p("requirepass", "str", ""),
    _p("masterauth", "str", ""),
    _p("masteruser", "str", ""),
    _p("timeout", "int", 0, lo=0, hi=INT32),
    _p("tcp-keepalive", "int", 300, lo=0, hi=INT32),
    _p("tcp-backlog", "int", 511, lo=0, hi=INT32, mutable=False),
    _p("maxclients", "int", 10000, lo=1, hi=UINT32),
    _p("databases", "int", 16, lo=1, hi=INT32, mutable=False),
    _p("dir", "str", ".", protected=True),
    _p("dbfilename", "str", "dump.rdb", protected=True),
    _p("logfile", "str", "", mutable=False),
    _p("loglevel", "enum", "notice", choices=("debug", "verbose", "notice", "warning")),
    _p("daemonize", "bool", False, mutable=False),
    _p("pidfile", "str", "", mutable=False),
    _p("proto-max-bulk-len", "memory", 512 * 1024 * 1024, lo=1024 * 1024),
    _p("client-query-buffer-limit", "memory", 1024**3, lo=1024 * 1024),
    _p("hz", "int", 10, lo=0, hi=INT32, check=_clamp_hz),
    _p("dynamic-hz", "bool", True),
    _p("save", "save", ((3600, 1), (300, 100), (60, 10000))),
    _p("appendonly", "bool", False),
    _p("appendfilename", "str", "appendonly.aof", mutable=False),
    _p("appenddirname", "str", "appendonlydir", mutable=False),
    _p("appendfsync", "enum", "everysec", choices=("everysec", "always", "no")),
    _p("maxmemory", "memory", 0, lo=0, hi=2**64 - 1),
    _p(
        "maxmemory-policy",
        "enum",
        "noeviction",
        choices=(
            "volatile-lru",
            "volatile-lfu",
            "volatile-random",
            "volatile-ttl",
            "allkeys-lru",
            "allkeys-lfu",
            "allkeys-random",
            "noeviction",
        ),
    ),
    _p("maxmemory-samples", "int", 5, lo=1, hi=INT32),
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
    _p("notify-keyspace-events", "events", 0),
    _p("slowlog-log-slower-than", "int", 10000, lo=-1),
    _p("slowlog-max-len", "int", 128, lo=0),
    _p("latency-monitor-threshold", "int", 0, lo=0),
    _p("lfu-log-factor", "int", 10, lo=0, hi=INT32),
    _p("lfu-decay-time", "int", 1, lo=0, hi=INT32),
    _p("hash-max-listpack-entries", "int", 512, lo=0, aliases=("hash-max-ziplist-entries",)),
    _p("hash-max-listpack-value", "memory", 64, lo=0, aliases=("hash-max-ziplist-value",)),
    _p(
        "list-max-listpack-size",
        "int",
        -2,
        lo=-INT32 - 1,
        hi=INT32,
        aliases=("list-max-ziplist-size",),
    ),
    _p("list-compress-depth", "int", 0, lo=0, hi=INT32),
    _p("set-max-intset-entries", "int", 512, lo=0),
    _p("zset-max-listpack-entries", "int", 128, lo=0, aliases=("zset-max-ziplist-entries",)),
    _p("zset-max-listpack-value", "memory", 64, lo=0, aliases=("zset-max-ziplist-value",)),
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
    # Accepted and reported like Redis 7.0 does (CONFIG GET/SET, redis.conf) so that tools
    # and clients that read or tune them work; the subsystems behind them come later.
    _p("rdbchecksum", "bool", True, mutable=False),
    _p("rdbcompression", "bool", True),
    _p("rdb-del-sync-files", "bool", False),
    _p("rdb-save-incremental-fsync", "bool", True),
    _p("stop-writes-on-bgsave-error", "bool", True),
    _p("aof-rewrite-incremental-fsync", "bool", True),
    _p("no-appendfsync-on-rewrite", "bool", False),
    _p("aof-load-truncated", "bool", True),
    _p("aof-use-rdb-preamble", "bool", True),
    _p("aof-timestamp-enabled", "bool", False),
    _p("aof-disable-auto-gc", "bool", False),
    _p("auto-aof-rewrite-percentage", "int", 100, lo=0, hi=INT32),
    _p("auto-aof-rewrite-min-size", "memory", 64 * 1024**2, lo=0),
    _p("io-threads-do-reads", "bool", False, mutable=False),
    _p("disable-thp", "bool", True, mutable=False),
    _p("jemalloc-bg-thread", "bool", True),
    _p("crash-log-enabled", "bool", True),
    _p("crash-memcheck-enabled", "bool", True),
    _p("latency-tracking", "bool", True),
    _p("latency-tracking-info-percentiles", "percentiles", ("50", "99", "99.9")),
    _p("activedefrag", "bool", False, check=_no_defrag),
    _p("active-defrag-ignore-bytes", "memory", 100 * 1024**2, lo=1),
    _p("active-defrag-threshold-lower", "int", 10, lo=0, hi=1000),
    _p("active-defrag-threshold-upper", "int", 100, lo=0, hi=1000),
    _p("active-defrag-cycle-min", "int", 1, lo=1, hi=99),
    _p("active-defrag-cycle-max", "int", 25, lo=1, hi=99),
    _p("active-defrag-max-scan-fields", "int", 1000, lo=1),
    _p("maxmemory-eviction-tenacity", "int", 10, lo=0, hi=100),
    _p("maxmemory-clients", "mempct", 0, lo=-100),
    _p(
        "client-output-buffer-limit",
        "obuf",
        (
            "normal",
            "0",
            "0",
            "0",
            "slave",
            "268435456",
            "67108864",
            "60",
            "pubsub",
            "33554432",
            "8388608",
            "60",
        ),
    ),
    _p("tracking-table-max-keys", "int", 1000000, lo=0),
    _p("acllog-max-len", "int", 128, lo=0),
    _p("aclfile", "str", "", mutable=False),
    _p("acl-pubsub-default", "enum", "resetchannels", choices=("allchannels", "resetchannels")),
    _p("sanitize-dump-payload", "enum", "no", choices=("no", "yes", "clients")),
    _p("enable-protected-configs", "enum", "no", choices=_PROTECTED_ACTION, mutable=False),
    _p("enable-module-command", "enum", "no", choices=_PROTECTED_ACTION, mutable=False),
    _p("oom-score-adj", "enum", "no", choices=("no", "yes", "relative", "absolute")),
    _p("oom-score-adj-values", "list", ("0", "200", "800"), check=_oom_score_adj_values),
    _p("shutdown-timeout", "int", 10, lo=0, hi=INT32),
    _p("shutdown-on-sigint", "flags", (), choices=_SHUTDOWN_FLAGS),
    _p("shutdown-on-sigterm", "flags", (), choices=_SHUTDOWN_FLAGS),
    _p("syslog-ident", "str", "redis", mutable=False),
    _p(
        "syslog-facility",
        "enum",
        "local0",
        mutable=False,
        choices=(
            "user",
            "local0",
            "local1",
            "local2",
            "local3",
            "local4",
            "local5",
            "local6",
            "local7",
        ),
    ),
    _p(
        "proc-title-template",
        "str",
        "{title} {listen-addr} {server-mode}",
        check=_proc_title_template,
    ),
    _p("ignore-warnings", "str", ""),
    _p("server_cpulist", "str", "", mutable=False),
    _p("bio_cpulist", "str", "", mutable=False),
    _p("aof_rewrite_cpulist", "str", "", mutable=False),
    _p("bgsave_cpulist", "str", "", mutable=False),
    _p("socket-mark-id", "int", 0, lo=0, hi=UINT32, mutable=False),
    _p("repl-backlog-size", "memory", 1024**2, lo=1, check=_backlog_min),
    _p("repl-backlog-ttl", "int", 3600, lo=0),
    _p("repl-timeout", "int", 60, lo=1, hi=INT32),
    _p("repl-ping-replica-period", "int", 10, lo=1, hi=INT32, aliases=("repl-ping-slave-period",)),
    _p("repl-disable-tcp-nodelay", "bool", False),
    _p("repl-diskless-sync", "bool", True),
    _p("repl-diskless-sync-delay", "int", 5, lo=0, hi=INT32),
    _p("repl-diskless-sync-max-replicas", "int", 0, lo=0, hi=INT32),
    _p("repl-diskless-load", "enum", "disabled", choices=("disabled", "on-empty-db", "swapdb")),
    _p("replica-serve-stale-data", "bool", True, aliases=("slave-serve-stale-data",)),
    _p("replica-lazy-flush", "bool", False, aliases=("slave-lazy-flush",)),
    _p("replica-ignore-maxmemory", "bool", True, aliases=("slave-ignore-maxmemory",)),
    _p("replica-priority", "int", 100, lo=0, hi=INT32, aliases=("slave-priority",)),
    _p("replica-announced", "bool", True),
    _p("replica-announce-ip", "str", "", aliases=("slave-announce-ip",)),
    _p("replica-announce-port", "int", 0, lo=0, hi=65535, aliases=("slave-announce-port",)),
    _p("min-replicas-to-write", "int", 0, lo=0, hi=INT32, aliases=("min-slaves-to-write",)),
    _p("min-replicas-max-lag", "int", 10, lo=0, hi=INT32, aliases=("min-slaves-max-lag",)),
    _p("cluster-port", "int", 0, lo=0, hi=65535, mutable=False),
    _p("cluster-announce-ip", "str", ""),
    _p("cluster-announce-hostname", "str", "", check=_hostname),
    _p("cluster-announce-port", "int", 0, lo=0, hi=65535),
    _p("cluster-announce-bus-port", "int", 0, lo=0, hi=65535),
    _p("cluster-announce-tls-port", "int", 0, lo=0, hi=65535),
    _p("cluster-require-full-coverage", "bool", True),
    _p("cluster-replica-no-failover", "bool", False, aliases=("cluster-slave-no-failover",)),
    _p(
        "cluster-replica-validity-factor",
        "int",
        10,
        lo=0,
        hi=INT32,
        aliases=("cluster-slave-validity-factor",),
    ),
    _p("cluster-migration-barrier", "int", 1, lo=0, hi=INT32),
    _p("cluster-allow-replica-migration", "bool", True),
    _p("cluster-allow-reads-when-down", "bool", False),
    _p("cluster-allow-pubsubshard-when-down", "bool", True),
    _p("cluster-link-sendbuf-limit", "memory", 0, lo=0, hi=2**64 - 1),
    _p(
        "cluster-preferred-endpoint-type",
        "enum",
        "ip",
        choices=("ip", "hostname", "unknown-endpoint"),
    ),
    _p(
        "propagation-error-behavior",
        "enum",
        "ignore",
        choices=("ignore", "panic", "panic-on-replicas"),
    ),
    _p("replica-ignore-disk-write-errors", "bool", False),
    # TLS (node/io/tls.py): every one can change at runtime; file and cipher changes
    # reload the contexts, tls-port moves the listener.
    _p("tls-port", "int", 0, lo=0, hi=65535),
    _p("tls-session-cache-size", "int", 20 * 1024, lo=0, hi=INT32),
    _p("tls-session-cache-timeout", "int", 300, lo=0, hi=INT32),
    _p("tls-cluster", "bool", False),
    _p("tls-replication", "bool", False),
    _p("tls-auth-clients", "enum", "yes", choices=("no", "yes", "optional")),
    _p("tls-prefer-server-ciphers", "bool", False),
    _p("tls-session-caching", "bool", True),
    *(
        _p(f"tls-{name}", "str", "")
        for name in (
            "cert-file",
            "key-file",
            "key-file-pass",
            "client-cert-file",
            "client-key-file",
            "client-key-file-pass",
            "dh-params-file",
            "ca-cert-file",
            "ca-cert-dir",
            "protocols",
            "ciphers",
            "ciphersuites",
        )
    ),
)


@dataclass
class Config:
    """The typed configuration of one node; `values` is keyed by the canonical name."""

    values: dict[str, ConfigValue] = field(default_factory=dict)
    source_file: str = ""
    # Called with the canonical name after a runtime change (the engine refreshes caches).
    listeners: list[Callable[[str], None]] = field(default_factory=list)
    # `user <name> <rules...>` directives (they may repeat), loaded by the ACL at startup.
    users: list[list[str]] = field(default_factory=list)
    # `rename-command <name> <new name>` directives, applied to the engine's command table.
    renames: list[tuple[str, str]] = field(default_factory=list)
    # Run once per CONFIG SET after all its values are in place, with the names it set (in
    # call order) and their old values: changes that take effect together (a certificate
    # and its key). Raising ConfigApplyError fails the call; CONFIG SET restores the values.
    appliers: list[Callable[[dict[str, ConfigValue]], None]] = field(default_factory=list)

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

    def apply(
        self, name: builtins.str, args: Sequence[builtins.str], *, startup: builtins.bool
    ) -> None:
        """Set one parameter from its textual arguments (config file, CLI or CONFIG SET)."""
        param = lookup_param(name)
        if param is None:
            raise ConfigError("Bad directive or wrong number of arguments")
        if not startup and not param.mutable:
            raise ConfigError("can't set immutable config")
        value = param.parse(args)
        if param.kind == "obuf":  # the classes not named keep their limits, as in Redis
            value = merge_obuf(self.values[param.name], value)
        self.values[param.name] = value
        for listener in self.listeners:
            listener(param.name)


_BY_NAME: Final = {n: p for p in PARAMS for n in (p.name, *p.aliases)}
_OBUF_CLASSES: Final = {
    "normal": "normal",
    "slave": "slave",
    "replica": "slave",
    "pubsub": "pubsub",
}
ObufLimit = tuple[int, int, int]  # hard bytes, soft bytes, soft seconds (0 = no limit)


def _parse_obuf(text: str) -> tuple[str, ...]:
    """`<class> <hard> <soft> <seconds> ...` -> normalised words (classes renamed the way
    Redis prints them, sizes in bytes)."""
    words = text.split(" ") if text else []  # single spaces: "  " has three empty words
    if len(words) % 4:
        raise ConfigError("Wrong number of arguments in buffer limit configuration.")
    out: list[str] = []
    for i in range(0, len(words), 4):
        cls = _OBUF_CLASSES.get(words[i].lower())
        if cls is None:
            raise ConfigError("Invalid client class specified in buffer limit configuration.")
        try:
            hard, soft = parse_memory(words[i + 1]), parse_memory(words[i + 2])
        except ConfigError:
            raise ConfigError(
                "Error in hard, soft or soft_seconds setting in buffer limit configuration."
            ) from None
        seconds = _string2ll(words[i + 3])
        if seconds is None or hard < 0 or soft < 0 or seconds < 0:
            raise ConfigError(
                "Error in hard, soft or soft_seconds setting in buffer limit configuration."
            )
        out += [cls, str(hard), str(soft), str(seconds)]
    return tuple(out)


def obuf_limits(value: ConfigValue) -> dict[str, ObufLimit]:
    """client-output-buffer-limit as {class: (hard, soft, soft_seconds)}."""
    assert isinstance(value, tuple)
    words = [str(w) for w in value]
    return {
        words[i]: (int(words[i + 1]), int(words[i + 2]), int(words[i + 3]))
        for i in range(0, len(words), 4)
    }


def merge_obuf(current: ConfigValue, update: ConfigValue) -> tuple[str, ...]:
    limits = obuf_limits(current)
    limits.update(obuf_limits(update))
    return tuple(
        str(x)
        for cls in ("normal", "slave", "pubsub")
        if cls in limits
        for x in (cls, *limits[cls])
    )


def lookup_param(name: str) -> Param | None:
    return _BY_NAME.get(name.lower())


def format_value(param: Param, value: ConfigValue) -> str:
    """CONFIG GET's text for a value."""
    if param.kind == "bool":
        return "yes" if value else "no"
    if param.kind in ("list", "obuf", "percentiles"):
        assert isinstance(value, tuple)
        return " ".join(str(v) for v in value)
    if param.kind == "save":
        assert isinstance(value, tuple)
        return " ".join(f"{pair[0]} {pair[1]}" for pair in value if isinstance(pair, tuple))
    if param.kind == "mempct" and isinstance(value, int) and value < 0:
        return f"{-value}%"
    if param.kind == "events" and isinstance(value, int):
        return notify.format_classes(value)
    if param.kind == "flags":
        assert isinstance(value, tuple)
        return " ".join(str(v) for v in value) or param.choices[0]
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


def _with_includes(
    directives: list[tuple[str, list[str]]], read_file: Callable[[str], str], depth: int = 0
) -> list[tuple[str, list[str]]]:
    """`include <file>` replaced by that file's directives, where it stands."""
    out: list[tuple[str, list[str]]] = []
    for name, values in directives:
        if name != "include" or len(values) != 1:
            out.append((name, values))
        elif depth >= 16:
            raise ConfigError(f"include nesting too deep at '{values[0]}'")
        else:
            out += _with_includes(parse_config_text(read_file(values[0])), read_file, depth + 1)
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
    for name, values in _with_includes(directives, read_file):
        if name == "user" and values:
            config.users.append(values)
            continue
        if name == "rename-command" and len(values) == 2:
            config.renames.append((values[0], values[1]))
            continue
        if lookup_param(name) is None:
            raise ConfigError(
                f"Bad directive or wrong number of arguments: unknown option '{name}'"
            )
        try:
            config.apply(name, values, startup=True)
        except ConfigError as exc:
            raise ConfigError(f"Invalid value for '{name}' ({' '.join(values)}): {exc}") from None
    return config
