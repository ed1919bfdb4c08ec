"""What a node records about the commands it runs, and who watches them: per-command
statistics (INFO commandstats/latencystats), the slow log, the latency monitor, MONITOR
clients, CLIENT PAUSE, and the traffic samples behind INFO's instantaneous figures.

Rules:
- Time comes from `Engine.clock_ns` (monotonic ns, injected by the shell; the pure engine
  never reads a clock itself). Durations are kept in whole microseconds per call, as
  Redis's `c->duration`, and histograms record them in ns (`duration * 1000`).
- The dispatcher's fast path does not time every call (a clock read costs ~80 ns here):
  it times *runs* of consecutive calls of one command in a batch with one clock read per
  run boundary (`account`, whose common case the dispatcher inlines for a batch's last
  run); every call of a run is given the run's average duration. A client that does not
  pipeline makes runs of one call, timed exactly. Commands that take
  the full path (`Engine.call`: subcommands, MULTI/EXEC, scripts, blocking, MONITOR or
  CLIENT PAUSE in effect) are timed one by one (`called`).
- Counting follows Redis's call(): `calls` and `usec` per call that ran (not for a call
  that blocked: it is counted when it is served), `failed_calls` when the call replied an
  error of its own (errors of nested calls are theirs), `rejected_calls` when a guard
  refused it (arity, NOAUTH, MULTI rules ...); total_commands_processed is the sum of
  `calls` (summed when read, so the hot path updates one counter) plus `stats.commands`,
  which counts blocking calls once more when they park (Redis 7.0 counts both moments).
- MONITOR lines are fed after the call, with the client's database after it ran (SELECT
  shows its new database), skipping ADMIN and SKIP_MONITOR commands; EVAL/FCALL feed
  themselves before running (`feed_monitors`). AUTH/HELLO AUTH/MIGRATE AUTH/AUTH2 and the
  other arguments Redis redacts read "(redacted)" in MONITOR and the slow log.
- CLIENT PAUSE parks clients through the engine's blocking machinery (a Block with no
  keys, see `Engine.postpone`); they re-run their command from the top once the pause
  ends. While a pause is in effect expiry and eviction are paused too (`paused`).
Pure.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Iterable
from typing import TYPE_CHECKING, Final

from node.commands.registry import Flag
from node.engine.hdr import USEC_INDEX, Histogram
from node.proto.quoting import sds_repr

if TYPE_CHECKING:
    from node.commands.registry import CommandSpec, Handler
    from node.engine.engine import Engine
    from node.engine.session import Client

SLOWLOG_MAX_ARGC: Final = 32
SLOWLOG_MAX_STRING: Final = 128
LATENCY_SAMPLES: Final = 160  # per event (LATENCY_TS_LEN)
METRIC_SAMPLES: Final = 16  # instantaneous metrics (STATS_METRIC_SAMPLES)
METRIC_PERIOD_MS: Final = 100
REDACTED: Final = b"(redacted)"
PAUSE_OFF, PAUSE_WRITE, PAUSE_ALL = 0, 1, 2
# CONFIG SET parameters whose values Redis redacts (SENSITIVE_CONFIG).
_SENSITIVE_CONFIGS: Final = frozenset({b"requirepass", b"masterauth"})
_NO_MONITOR: Final = Flag.ADMIN | Flag.SKIP_MONITOR


# Command groups whose commands only read and write data (see CommandStats.fast).
_SHORT_PATH_GROUPS: Final = frozenset(
    {
        "string",
        "list",
        "set",
        "sorted-set",
        "hash",
        "stream",
        "hyperloglog",
        "geo",
        "bitmap",
        "generic",
    }
)


# A client's share of a run of calls (Observer.account): the client, the commands of its
# read, the index of the run's first among them, how many of the run's calls are there.
Piece = tuple["Client", list[list[bytes]], int, int]


class CommandStats:
    """One command's counters (Redis keeps them on struct redisCommand)."""

    __slots__ = (
        "calls",
        "counts",
        "failed",
        "fast",
        "handler",
        "histogram",
        "max_args",
        "min_args",
        "rejected",
        "spec",
        "usec",
    )

    def __init__(self, spec: CommandSpec) -> None:
        self.spec = spec
        # What the short path needs of the spec, one attribute away: the handler (the
        # cluster's routing wraps it: `set_handler`) and the arity as a range of argc.
        self.handler = spec.handler
        arity = spec.arity
        self.min_args = abs(arity)
        self.max_args = arity if arity > 0 else 1 << 62
        # The dispatcher's short path (Engine.execute_turn) takes the commands of the data
        # groups and PING/ECHO: none of them can change what the guards it skips depend
        # on (the client's auth, MULTI, subscriptions, tracking, reply mode, the server's
        # guards), so it decides those once per client. Copied: tested on every command.
        self.fast = spec.fast and (
            spec.group in _SHORT_PATH_GROUPS or spec.fullname in ("ping", "echo")
        )
        self.calls = 0
        self.usec = 0
        self.rejected = 0
        self.failed = 0
        self.histogram = Histogram()
        self.counts = self.histogram.counts  # the hot path updates it directly

    def set_handler(self, handler: Handler) -> None:
        """Run `handler` instead of the command's own (cluster mode routes first)."""
        self.spec = dataclasses.replace(self.spec, handler=handler)
        self.handler = handler

    def reset(self) -> None:
        self.calls = self.usec = self.rejected = self.failed = 0
        self.histogram = Histogram()
        self.counts = self.histogram.counts


class SlowlogEntry:
    __slots__ = ("addr", "argv", "duration", "id", "name", "time")

    def __init__(
        self, entry_id: int, time_s: int, duration: int, argv: list[bytes], addr: str, name: bytes
    ) -> None:
        self.id = entry_id
        self.time = time_s
        self.duration = duration
        self.argv = argv
        self.addr = addr
        self.name = name


class LatencySeries:
    """One latency event's samples: (unix s, ms), at most one per second (the worst)."""

    __slots__ = ("max", "samples")

    def __init__(self) -> None:
        self.samples: deque[list[int]] = deque(maxlen=LATENCY_SAMPLES)
        self.max = 0


class Metric:
    """An instantaneous rate: the mean of the last 16 per-second rates, sampled every
    100 ms (Redis's trackInstantaneousMetric / getInstantaneousMetric)."""

    __slots__ = ("last_ms", "last_value", "samples")

    def __init__(self) -> None:
        self.samples: deque[int] = deque([0] * METRIC_SAMPLES, maxlen=METRIC_SAMPLES)
        self.last_ms = 0
        self.last_value = 0

    def track(self, now_ms: int, value: int) -> None:
        elapsed = now_ms - self.last_ms
        self.samples.append((value - self.last_value) * 1000 // elapsed if elapsed > 0 else 0)
        self.last_ms = now_ms
        self.last_value = value

    def rate(self) -> int:
        return sum(self.samples) // METRIC_SAMPLES


def redact(spec: CommandSpec, argv: list[bytes]) -> list[bytes]:
    """`argv` as MONITOR and the slow log show it: secrets replaced, as Redis's handlers
    do with redactClientCommandArgument."""
    name = spec.fullname
    if name == "auth":
        return [argv[0]] + [REDACTED] * (len(argv) - 1)
    if name == "acl|setuser":  # every argument, the user name included
        return argv[:2] + [REDACTED] * (len(argv) - 2)
    if name == "config|set":
        out = list(argv)
        for i in range(2, len(out) - 1, 2):
            if out[i].lower() in _SENSITIVE_CONFIGS:
                out[i + 1] = REDACTED
        return out
    if name in ("hello", "migrate"):
        out = list(argv)
        for i, word in enumerate(argv):
            upper = word.upper()
            count = (
                2
                if upper == b"AUTH2" or (name == "hello" and upper == b"AUTH")
                else (1 if upper == b"AUTH" else 0)
            )
            for j in range(i + 1, min(i + 1 + count, len(out))):
                out[j] = REDACTED
        return out
    return argv


def _needs_redaction(spec: CommandSpec) -> bool:
    return spec.fullname in ("auth", "acl|setuser", "config|set", "hello", "migrate")


def slowlog_argv(argv: list[bytes]) -> list[bytes]:
    """slowlogCreateEntry's copy: at most 32 arguments (the last one then says how many
    more there were) and at most 128 bytes of each."""
    count = len(argv)
    kept = min(count, SLOWLOG_MAX_ARGC)
    out = []
    for j in range(kept):
        if kept != count and j == kept - 1:
            out.append(b"... (%d more arguments)" % (count - kept + 1))
        elif len(argv[j]) > SLOWLOG_MAX_STRING:
            out.append(
                argv[j][:SLOWLOG_MAX_STRING]
                + b"... (%d more bytes)" % (len(argv[j]) - SLOWLOG_MAX_STRING)
            )
        else:
            out.append(bytes(argv[j]))
    return out


class Observer:
    """The observation state of one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # Every command and subcommand by full name, and the dispatcher's name -> stats
        # table (the command table's spellings, so the fast path stays one dict probe).
        self.commands: dict[str, CommandStats] = {}
        for spec in engine.table:
            self.commands[spec.fullname] = CommandStats(spec)
            for sub in spec.subcommands.values():
                self.commands[sub.fullname] = CommandStats(sub)
        self.dispatch: dict[bytes, CommandStats] = {
            name: self.commands[spec.fullname] for name, spec in engine.table.lookup.items()
        }
        self.error_mark = 0  # stats.errors when the last call ended (incrCommandStatsOnError)
        self.slowlog: deque[SlowlogEntry] = deque()
        self.slowlog_next_id = 0
        self.latency: dict[str, LatencySeries] = {}
        self.monitors: dict[Client, None] = {}
        self.pause = PAUSE_OFF  # the strongest kind in effect over every purpose
        self.pause_end_ms = 0  # the latest end over every purpose
        # Redis's pause purposes (CLIENT PAUSE, a FAILOVER, a SHUTDOWN waiting for replicas):
        # each ends on its own, so CLIENT UNPAUSE cannot lift a shutdown's pause.
        self.pauses: dict[str, tuple[int, int]] = {}  # purpose -> (kind, end ms)
        self.resume_pending = False
        self.active_expire = True  # DEBUG SET-ACTIVE-EXPIRE
        # Traffic the shell counts (INFO stats), and the instantaneous rates it samples.
        self.net_input = 0
        self.net_output = 0
        self.reads_processed = 0
        self.writes_processed = 0
        self.expire_cycle_us = 0  # time the shell spent in active expiry cycles
        # GET calls that did not take GET's fast path (see `keyspace_hits`).
        self.slow_gets = 0
        self.ops_metric = Metric()
        self.input_metric = Metric()
        self.output_metric = Metric()
        self.recent_max_input = 0  # client_recent_max_input/output_buffer, from the shell
        self.recent_max_output = 0
        # Config, cached because `account` reads it for every run of calls.
        self.slowlog_slower_than = 0
        self.slowlog_max_len = 0
        self.latency_threshold = 0
        self.latency_tracking = True
        self.notable_usec = 0  # the shortest duration either of the two would record
        # Calls shorter than this are accounted inline by the dispatcher (no slow log or
        # latency sample to take, a histogram bucket from USEC_INDEX); 0 when not tracking.
        self.inline_below = 0
        self.percentiles: tuple[float, ...] = ()
        for name in (
            "slowlog-log-slower-than",
            "slowlog-max-len",
            "latency-monitor-threshold",
            "latency-tracking",
            "latency-tracking-info-percentiles",
        ):
            self.refresh_config(name)
        engine.config.listeners.append(self.refresh_config)

    def refresh_config(self, name: str) -> None:
        config = self.engine.config
        if name == "slowlog-log-slower-than":
            self.slowlog_slower_than = config.int(name)
        elif name == "slowlog-max-len":
            self.slowlog_max_len = config.int(name)
            while len(self.slowlog) > self.slowlog_max_len:
                self.slowlog.pop()
        elif name == "latency-monitor-threshold":
            self.latency_threshold = config.int(name)
        if name in ("slowlog-log-slower-than", "latency-monitor-threshold"):
            bars = [self.slowlog_slower_than] if self.slowlog_slower_than >= 0 else []
            if self.latency_threshold:
                bars.append(self.latency_threshold * 1000)
            self.notable_usec = min(bars, default=1 << 62)
        if name == "latency-tracking":
            self.latency_tracking = config.bool(name)
        if name in ("slowlog-log-slower-than", "latency-monitor-threshold", "latency-tracking"):
            self.inline_below = (
                min(self.notable_usec, len(USEC_INDEX)) if (self.latency_tracking) else 0
            )
        elif name == "latency-tracking-info-percentiles":
            value = config.values[name]
            assert isinstance(value, tuple)
            self.percentiles = tuple(float(str(p)) for p in value)

    # --- accounting ------------------------------------------------------------------------
    def account(
        self, stats: CommandStats, count: int, elapsed_ns: int, pieces: list[Piece]
    ) -> None:
        """A run of `count` short-path calls of one command took `elapsed_ns`; each is
        given the average. `pieces` says whose calls they were, client by client: (client,
        its commands, index of the first in the run, how many). Called once per run, so
        it stays lean: the histogram update is inlined and the total of commands is
        summed when INFO asks."""
        duration = elapsed_ns // (count * 1000)
        stats.calls += count
        stats.usec += elapsed_ns // 1000  # the run's whole time (per-call floors lose it)
        if self.latency_tracking:
            if duration < 1000:
                counts = stats.counts
                index = USEC_INDEX[duration]
                counts[index] = counts.get(index, 0) + count
            else:
                stats.histogram.record_usec(duration, count)
        if duration >= self.notable_usec:  # past the slow log's or latency monitor's bar
            if 0 <= self.slowlog_slower_than <= duration:
                for client, commands, start, calls in pieces:
                    for argv in commands[start : start + calls]:
                        self.slowlog_push(stats.spec, argv, duration, client)
            if self.latency_threshold and duration // 1000 >= self.latency_threshold:
                self.latency_sample(stats.spec, duration // 1000)

    def called(
        self,
        client: Client,
        spec: CommandSpec,
        argv: list[bytes],
        elapsed_ns: int,
        errors_before: int,
        blocked: bool,
    ) -> None:
        """One call through `Engine.call` is over (Redis's call() epilogue)."""
        engine = self.engine
        stats = self.commands[spec.fullname]
        errors = engine.stats.errors
        if errors > max(errors_before, self.error_mark):
            stats.failed += 1
        self.error_mark = errors
        if blocked:
            engine.stats.commands += 1  # counted now, and once more when served (7.0)
        else:
            self.completed(client, stats, argv, elapsed_ns // 1000)
        if self.monitors and not spec.flags & _NO_MONITOR:
            self.feed_monitors(client, argv, spec)

    def completed(
        self, client: Client, stats: CommandStats, argv: list[bytes], duration: int
    ) -> None:
        """Count one call that produced its reply after `duration` usec of work."""
        stats.calls += 1
        stats.usec += duration
        spec = stats.spec
        if self.latency_tracking:
            stats.histogram.record_usec(duration)
        if 0 <= self.slowlog_slower_than <= duration and not spec.flags & Flag.SKIP_SLOWLOG:
            self.slowlog_push(spec, argv, duration, client)
        if self.latency_threshold and duration // 1000 >= self.latency_threshold:
            self.latency_sample(spec, duration // 1000)

    def unblocked(
        self, client: Client, spec: CommandSpec, argv: list[bytes], elapsed_ns: int
    ) -> None:
        """A parked call got its reply (served or timed out): Redis's updateStatsOnUnblock."""
        self.completed(client, self.commands[spec.fullname], argv, elapsed_ns // 1000)

    def total_commands(self) -> int:
        """INFO's total_commands_processed: every call counted per command, plus what
        `Engine.stats.commands` counts beside them (blocking calls when they park)."""
        return self.engine.stats.commands + sum(st.calls for st in self.commands.values())

    def keyspace_hits(self) -> int:
        """INFO's keyspace_hits: the reads' lookups count their hits (Database.lookup_read),
        except GET's fast path, which would pay an int allocation per call for it: every
        GET call that did not go to the full lookup (`slow_gets`) was such a hit."""
        return (
            sum(db.hits for db in self.engine.keyspace.dbs)
            + self.commands["get"].calls
            - self.slow_gets
        )

    def rejected(self, argv: list[bytes]) -> None:
        """A guard refused `argv`: charge the (sub)command it names, if any."""
        spec = self.engine.table.get(argv[0])
        if spec is None:
            return
        if spec.subcommands and len(argv) > 1:
            sub = spec.subcommands.get(argv[1].lower())
            if sub is None:
                return
            spec = sub
        self.commands[spec.fullname].rejected += 1
        self.error_mark = self.engine.stats.errors

    def reset_stats(self) -> None:
        """CONFIG RESETSTAT's share: command, keyspace hit and traffic counters (not the
        slow log, not the latency monitor)."""
        for stats in self.commands.values():
            stats.reset()
        self.error_mark = 0
        for db in self.engine.keyspace.dbs:
            db.hits = db.misses = 0
        self.net_input = self.net_output = 0
        self.reads_processed = self.writes_processed = 0
        self.expire_cycle_us = 0
        self.slow_gets = 0
        for metric in (self.ops_metric, self.input_metric, self.output_metric):
            metric.samples.extend([0] * METRIC_SAMPLES)

    # --- slow log and latency monitor ---------------------------------------------------------
    def slowlog_push(
        self, spec: CommandSpec, argv: list[bytes], duration: int, client: Client
    ) -> None:
        if _needs_redaction(spec):
            argv = redact(spec, argv)
        entry = SlowlogEntry(
            self.slowlog_next_id,
            self.engine.now_ms // 1000,
            duration,
            slowlog_argv(argv),
            client.addr,
            client.name,
        )
        self.slowlog_next_id += 1
        self.slowlog.appendleft(entry)
        while len(self.slowlog) > self.slowlog_max_len:
            self.slowlog.pop()

    def latency_sample(self, spec: CommandSpec, ms: int) -> None:
        self.add_latency_sample("fast-command" if spec.flags & Flag.FAST else "command", ms)

    def add_latency_sample(self, event: str, ms: int) -> None:
        """latencyAddSampleIfNeeded: record `ms` for `event` when it reaches the
        threshold (expire-cycle, eviction-cycle, ... come from their subsystems)."""
        if not self.latency_threshold or ms < self.latency_threshold:
            return
        series = self.latency.get(event)
        if series is None:
            series = self.latency[event] = LatencySeries()
        series.max = max(series.max, ms)
        now = self.engine.now_ms // 1000
        samples = series.samples
        if samples and samples[-1][0] == now:
            samples[-1][1] = max(samples[-1][1], ms)
        else:
            samples.append([now, ms])

    # --- MONITOR ----------------------------------------------------------------------------
    def add_monitor(self, client: Client) -> None:
        self.monitors[client] = None
        if "O" not in client.flags:
            client.flags += "O"
        self._refresh_observing()

    def stop_monitor(self, client: Client) -> None:
        """RESET: the client is a plain one again."""
        if client in self.monitors:
            del self.monitors[client]
            client.flags = client.flags.replace("O", "")
            self._refresh_observing()

    def feed_monitors(
        self,
        client: Client | None,
        argv: list[bytes],
        spec: CommandSpec | None = None,
        db_index: int | None = None,
    ) -> None:
        """replicationFeedMonitors: one `+<time> [<db> <addr>] "arg" ...` line to every
        MONITOR client. `client` None is a script's own client ("lua")."""
        if not self.monitors:
            return
        if spec is not None and _needs_redaction(spec):
            argv = redact(spec, argv)
        now = self.engine.now_ms
        db = db_index if db_index is not None else (client.db.index if client else 0)
        if client is None or self.engine.scripting.is_script_client(client):
            source = "lua"
        elif "U" in client.flags:  # a unix socket client: "unix:<path>"
            source = "unix:" + client.addr.rsplit(":", 1)[0]
        else:
            source = client.addr
        line = b"+%d.%06d [%d %s] %s\r\n" % (
            now // 1000,
            now % 1000 * 1000,
            db,
            source.encode(),
            b" ".join(map(sds_repr, argv)),
        )
        woken = self.engine.woken
        for monitor in self.monitors:
            monitor.out.append(line)
            woken.append(monitor)

    # --- CLIENT PAUSE -----------------------------------------------------------------------
    @property
    def paused(self) -> bool:
        """Whether expiry and eviction must wait (a pause of either kind is in effect)."""
        return self.pause != PAUSE_OFF

    def pause_clients(self, end_ms: int, pause_all: bool, purpose: str = "client") -> None:
        """pauseClients: a later end or a stronger kind extends the purpose's pause."""
        kind, end = self.pauses.get(purpose, (PAUSE_OFF, 0))
        self.pauses[purpose] = (
            max(kind, PAUSE_ALL if pause_all else PAUSE_WRITE),
            max(end, end_ms),
        )
        self._update_pause()

    def _update_pause(self) -> None:
        self.pause = max((kind for kind, _ in self.pauses.values()), default=PAUSE_OFF)
        self.pause_end_ms = max((end for _, end in self.pauses.values()), default=0)
        self._refresh_observing()

    def pause_applies(self, client: Client, spec: CommandSpec) -> bool:
        """processCommand's pause check: everything under PAUSE ALL; under PAUSE WRITE the
        commands that may write or replicate, and EXEC of a transaction holding one.
        Replicas (monitors are replicas to Redis) are never paused."""
        if self.pause == PAUSE_OFF or client in self.monitors:
            return False
        if self.pause == PAUSE_ALL:
            return True
        if spec.flags & (Flag.WRITE | Flag.MAY_REPLICATE):
            return True
        if spec.fullname == "exec" and client.multi:
            table = self.engine.table
            for queued in client.multi:
                queued_spec = table.get(queued[0])
                if queued_spec is not None and queued_spec.subcommands and len(queued) > 1:
                    queued_spec = queued_spec.subcommands.get(queued[1].lower(), queued_spec)
                if queued_spec is not None and queued_spec.flags & (
                    Flag.WRITE | Flag.MAY_REPLICATE
                ):
                    return True
        return False

    def end_pause(self, purpose: str = "client") -> None:
        """unpauseClients (CLIENT UNPAUSE, or the purpose's end time passed): the parked
        clients run again at the engine's next `expire_blocked` (not inside the command
        that unpaused); those another purpose still pauses are parked again."""
        self.pauses.pop(purpose, None)
        self.resume_pending = True
        self._update_pause()

    def pause_over(self, now_ms: int) -> bool:
        """End the pauses whose time has come; True once after a pause ended."""
        for purpose in [p for p, (_, end) in self.pauses.items() if end <= now_ms]:
            self.end_pause(purpose)
        if self.resume_pending:
            self.resume_pending = False
            return True
        return False

    def drop_client(self, client: Client) -> None:
        if client in self.monitors:
            del self.monitors[client]
            self._refresh_observing()

    def _refresh_observing(self) -> None:
        engine = self.engine
        engine.observing = bool(self.monitors) or self.pause != PAUSE_OFF
        engine.keyspace.expire_paused = self.pause != PAUSE_OFF
        engine.refresh_dispatch()

    # --- traffic (INFO stats) ---------------------------------------------------------------
    def sample_metrics(self, now_ms: int) -> None:
        """The shell's cron: one sample of each instantaneous metric every 100 ms."""
        if now_ms - self.ops_metric.last_ms < METRIC_PERIOD_MS:
            return
        self.ops_metric.track(now_ms, self.total_commands())
        self.input_metric.track(now_ms, self.net_input)
        self.output_metric.track(now_ms, self.net_output)

    def histograms(self) -> Iterable[tuple[str, Histogram]]:
        """(full name, histogram) of every command with recorded latencies."""
        for name, stats in self.commands.items():
            if stats.histogram.total:
                yield name, stats.histogram


def protected_error(engine: Engine, client: Client, spec: CommandSpec) -> str | None:
    """processCommand's check of PROTECTED commands (DEBUG, MODULE): allowed when their
    enable-*-command config says "yes", or "local" and the client is local."""
    name = spec.container.name if spec.container is not None else spec.name  # MODULE LOAD
    option = "enable-debug-command" if name == "debug" else "enable-module-command"
    mode = engine.config.str(option)
    if mode == "yes" or (mode == "local" and client.is_local):
        return None
    return (
        f"ERR {name.upper()} command not allowed. If the {option} option is set "
        f'to "local", you can run it from a local connection, otherwise you need to set '
        f"this option in the configuration file, and then restart the server."
    )
