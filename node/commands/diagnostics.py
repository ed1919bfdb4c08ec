"""Diagnostics commands (Redis's slowlog.c, latency.c, debug.c, replication.c's MONITOR and
ROLE): SLOWLOG, LATENCY, MONITOR, DEBUG, ROLE.

Rules:
- The state they read lives in node/engine/observe.py (`engine.observer`); these handlers
  only format it. Replies match Redis 7.0.15 byte for byte where they are deterministic;
  LATENCY DOCTOR reports the same figures and fixed sentences as Redis, with advice of our
  own wording.
- DEBUG is a PROTECTED command: `enable-debug-command` is checked by the dispatcher before
  it runs. Its subcommands that only make sense inside Redis's C internals (allocator,
  AOF timing, reply buffers, cron pausing ...) answer OK and do nothing; those that crash
  the process, or print C structures, are not offered (they get Redis's syntax error).
- DEBUG DIGEST / DIGEST-VALUE use Redis's algorithm (debug.c's SHA1 xor/mix over every key
  and element, scores as "%.17g"), so digests compare with a real server's.
Pure.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable
from typing import Final, cast

from node.commands import docs, server
from node.commands._args import int_arg, option
from node.commands._double import strtod
from node.commands.keys import object_refcount_of, string_encoding
from node.commands.registry import Acl, Flag, Handler
from node.commands.table import NODE
from node.config import ConfigError, parse_memory
from node.engine.keyspace import Database
from node.engine.memusage import _grown_sds_size, _sds_header, jemalloc_size, sds_size
from node.engine.observe import LatencySeries
from node.engine.session import Client
from node.engine.types.hash import HashValue
from node.engine.types.list import ListValue
from node.engine.types.set import SetValue
from node.engine.types.stream import SEQ_MASK, Stream
from node.engine.types.zset import ZSet
from node.persistence import rdb
from node.persistence.blobs import FormatError, listpack_encode
from node.proto import errors, resp
from node.proto.errors import CommandError

Argv = list[bytes]

_ADMIN: Final = Flag.ADMIN | Flag.NOSCRIPT | Flag.LOADING | Flag.STALE


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


# --- SLOWLOG ------------------------------------------------------------------------------
NODE.container(
    "slowlog",
    group="server",
    since="2.2.12",
    summary="A container for slow log commands",
    complexity="Depends on subcommand.",
)

_SLOWLOG_HELP: Final = (
    b"GET [<count>]",
    b"    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
    b"    Entries are made of:",
    b"    id, timestamp, time in microseconds, arguments array, client IP and port,",
    b"    client name",
    b"LEN",
    b"    Return the length of the slowlog.",
    b"RESET",
    b"    Reset the slowlog.",
)


@NODE.command(
    "get",
    -2,
    Flag.ADMIN | Flag.LOADING | Flag.STALE,
    group="server",
    since="2.2.12",
    summary="Get the slow log's entries",
    complexity="O(N) where N is the number of entries returned",
    tips=("request_policy:all_nodes", "nondeterministic_output"),
    history=(("4.0.0", "Added client IP address, port and name to the reply."),),
    args=(docs.integer("count", optional=True),),
    container="slowlog",
)
def slowlog_get(c: Client, argv: Argv) -> bytes:
    if len(argv) > 3:
        raise CommandError(errors.SUBCOMMAND_SYNTAX.format(_text(argv[1]), "SLOWLOG"))
    entries = c.engine.observer.slowlog
    count = 10
    if len(argv) == 3:
        count = int_arg(argv[2], "ERR count should be greater than or equal to -1")
        if count < -1:
            raise CommandError("ERR count should be greater than or equal to -1")
        if count == -1:
            count = len(entries)
    chosen = list(entries)[:count]
    out = [resp.array_header(len(chosen))]
    for entry in chosen:
        out.append(
            b"*6\r\n%s%s%s"
            % (resp.integer(entry.id), resp.integer(entry.time), resp.integer(entry.duration))
        )
        out.append(resp.bulk_array(entry.argv))
        out.append(resp.bulk(entry.addr.encode()))
        out.append(resp.bulk(entry.name))
    return b"".join(out)


@NODE.command(
    "len",
    2,
    Flag.ADMIN | Flag.LOADING | Flag.STALE,
    group="server",
    since="2.2.12",
    summary="Get the slow log's length",
    complexity="O(1)",
    tips=("request_policy:all_nodes", "response_policy:agg_sum", "nondeterministic_output"),
    container="slowlog",
)
def slowlog_len(c: Client, argv: Argv) -> bytes:
    return resp.integer(len(c.engine.observer.slowlog))


@NODE.command(
    "reset",
    2,
    Flag.ADMIN | Flag.LOADING | Flag.STALE,
    group="server",
    since="2.2.12",
    summary="Clear all entries from the slow log",
    complexity="O(N) where N is the number of entries in the slowlog",
    tips=("request_policy:all_nodes", "response_policy:all_succeeded"),
    container="slowlog",
)
def slowlog_reset(c: Client, argv: Argv) -> bytes:
    c.engine.observer.slowlog.clear()
    return resp.OK


@NODE.command(
    "help",
    2,
    Flag.LOADING | Flag.STALE,
    group="server",
    since="6.2.0",
    summary="Show helpful text about the different subcommands",
    complexity="O(1)",
    container="slowlog",
)
def slowlog_help(c: Client, argv: Argv) -> bytes:
    return resp.help_reply(argv[0], _SLOWLOG_HELP)


# --- LATENCY ------------------------------------------------------------------------------
NODE.container(
    "latency",
    group="server",
    since="2.8.13",
    summary="A container for latency diagnostics commands",
    complexity="Depends on subcommand.",
)

_LATENCY_TIPS: Final = (
    "nondeterministic_output",
    "request_policy:all_nodes",
    "response_policy:special",
)
_LATENCY_HELP: Final = (
    b"DOCTOR",
    b"    Return a human readable latency analysis report.",
    b"GRAPH <event>",
    b"    Return an ASCII latency graph for the <event> class.",
    b"HISTORY <event>",
    b"    Return time-latency samples for the <event> class.",
    b"LATEST",
    b"    Return the latest latency samples for all events.",
    b"RESET [<event> ...]",
    b"    Reset latency data of one or more <event> classes.",
    b"    (default: reset all data for all event classes)",
    b"HISTOGRAM [COMMAND ...]",
    b"    Return a cumulative distribution of latencies in the format of a histogram for "
    b"the specified command names.",
    b"    If no commands are specified then all histograms are replied.",
)
_GRAPH_COLUMNS: Final = 80
_GRAPH_ROWS: Final = 4
_SPARK_FILL: Final = b"_o#"


def _latency_command(
    name: str,
    arity: int,
    summary: str,
    *,
    complexity: str = "O(1)",
    tips: tuple[str, ...] = _LATENCY_TIPS,
    args: tuple[docs.Arg, ...] = (),
) -> Callable[[Handler], Handler]:
    return NODE.command(
        name,
        arity,
        _ADMIN,
        group="server",
        since="2.8.13",
        summary=summary,
        complexity=complexity,
        tips=tips,
        args=args,
        container="latency",
    )


@_latency_command("latest", 2, "Return the latest latency samples for all events.")
def latency_latest(c: Client, argv: Argv) -> bytes:
    events = c.engine.observer.latency
    out = [resp.array_header(len(events))]
    for event, series in events.items():
        time_s, ms = series.samples[-1]
        out.append(
            b"*4\r\n%s%s%s%s"
            % (
                resp.bulk(event.encode()),
                resp.integer(time_s),
                resp.integer(ms),
                resp.integer(series.max),
            )
        )
    return b"".join(out)


@_latency_command(
    "history", 3, "Return timestamp-latency samples for the event.", args=(docs.string("event"),)
)
def latency_history(c: Client, argv: Argv) -> bytes:
    series = c.engine.observer.latency.get(_text(argv[2]))
    samples = list(series.samples) if series is not None else []
    return resp.array_header(len(samples)) + b"".join(
        b"*2\r\n%s%s" % (resp.integer(t), resp.integer(ms)) for t, ms in samples
    )


@_latency_command(
    "reset",
    -2,
    "Reset latency data for one or more events.",
    tips=("request_policy:all_nodes", "response_policy:all_succeeded"),
    args=(docs.string("event", optional=True, multiple=True),),
)
def latency_reset(c: Client, argv: Argv) -> bytes:
    events = c.engine.observer.latency
    if len(argv) == 2:
        resets = len(events)
        events.clear()
        return resp.integer(resets)
    resets = 0
    for raw in argv[2:]:  # strcasecmp, and a name given twice resets once
        for event in [e for e in events if e.lower() == _text(raw).lower()]:
            del events[event]
            resets += 1
    return resp.integer(resets)


def _spark_label(elapsed: int) -> bytes:
    if elapsed < 60:
        return b"%ds" % elapsed
    if elapsed < 3600:
        return b"%dm" % (elapsed // 60)
    if elapsed < 86400:
        return b"%dh" % (elapsed // 3600)
    return b"%dd" % (elapsed // 86400)


def sparkline(samples: list[tuple[int, bytes]], columns: int, rows: int) -> bytes:
    """sparkline.c's rendering with SPARKLINE_FILL: `rows` rows of "_o#|" per sample, a
    blank line, then every sample's label written top to bottom; `columns` samples per
    block, blocks separated by an empty line."""
    values = [v for v, _ in samples]
    low, high = min(values), max(values)
    relmax = (high - low) or 1
    steps = len(_SPARK_FILL) * rows
    out: list[bytes] = []
    for offset in range(0, len(samples), columns):
        if offset:
            out.append(b"\n")
        block = samples[offset : offset + columns]
        levels = [min(max(int((v - low) * steps / relmax), 0), steps - 1) for v, _ in block]
        for row in range(rows):
            chars = bytearray(b" " * len(block))
            for j, step in enumerate(levels):
                index = step - (rows - row - 1) * len(_SPARK_FILL)
                if 0 <= index < len(_SPARK_FILL):
                    chars[j] = _SPARK_FILL[index]
                elif index >= len(_SPARK_FILL):
                    chars[j] = ord("|")
            out.append(bytes(chars) + b"\n")
        out.append(b" " * len(block) + b"\n")  # label_margin_top
        out.extend(
            bytes(label[depth] if depth < len(label) else 0x20 for _, label in block) + b"\n"
            for depth in range(max(len(label) for _, label in block))
        )
    return b"".join(out)


@_latency_command("graph", 3, "Return a latency graph for the event.", args=(docs.string("event"),))
def latency_graph(c: Client, argv: Argv) -> bytes:
    event = _text(argv[2])
    series = c.engine.observer.latency.get(event)
    if series is None:
        raise CommandError(f"ERR No samples available for event '{event}'")
    now = c.engine.now_ms // 1000
    samples = [(ms, _spark_label(now - t)) for t, ms in series.samples]
    values = [ms for ms, _ in samples]
    graph = b"%s - high %d ms, low %d ms (all time high %d ms)\n%s\n" % (
        argv[2],
        max(values),
        min(values),
        series.max,
        b"-" * _GRAPH_COLUMNS,
    )
    return resp.verbatim(graph + sparkline(samples, _GRAPH_COLUMNS, _GRAPH_ROWS), c.resp)


def _event_stats(series: LatencySeries, now_s: int) -> tuple[int, int, int, float]:
    """analyzeLatencyForEvent: (samples, average, mean deviation, period in seconds)."""
    values = [ms for _, ms in series.samples]
    avg = sum(values) // len(values)
    mad = sum(abs(avg - v) for v in values) // len(values)
    period = (now_s - min(t for t, _ in series.samples)) or 1
    return len(values), avg, mad, period / len(values)


# Advice per event kind, in the order the report lists it.
_ADVICE: Final = (
    (
        "slowlog-off",
        "- Potentially slow commands were seen while the Slow Log is disabled: "
        "enable it with 'CONFIG SET slowlog-log-slower-than {threshold}'.",
    ),
    (
        "slowlog-tuning",
        "- The Slow Log only records commands slower than the latency monitor "
        "threshold; lower it with 'CONFIG SET slowlog-log-slower-than "
        "{threshold}'.",
    ),
    ("slowlog-inspect", "- SLOWLOG GET lists the slow commands and their arguments."),
    (
        "scheduler",
        "- Fast commands were slow: the process did not get the CPU in time. "
        "Lower the system load or give the server a machine of its own.",
    ),
    ("hz", "- A higher 'hz' (CONFIG SET hz 100) makes the expiry of keys more incremental."),
    (
        "large-objects",
        "- Deleting, expiring or evicting large values blocks the server; split "
        "them into smaller keys, or free them lazily (UNLINK, lazyfree-*).",
    ),
    (
        "mass-eviction",
        "- Sudden memory pressure (a lower maxmemory, large intersections or "
        "restores) makes the server evict many keys at once.",
    ),
)


def latency_report(c: Client) -> str:
    """LATENCY DOCTOR's text."""
    engine = c.engine
    observer = engine.observer
    events = observer.latency
    if not events and not observer.latency_threshold:
        return (
            "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this "
            'Redis instance. You may use "CONFIG SET latency-monitor-threshold '
            "<milliseconds>.\" in order to enable it. If we weren't in a deep space "
            "mission I'd suggest to take a look at "
            "https://redis.io/topics/latency-monitor.\n"
        )
    if not events:
        return (
            "Dave, no latency spike was observed during the lifetime of this Redis "
            "instance, not in the slightest bit. I honestly think you ought to sit down "
            "calmly, take a stress pill, and think things over.\n"
        )
    advice: set[str] = set()
    lines = [
        "Dave, I have observed latency spikes in this Redis instance. You don't mind "
        "talking about it, do you Dave?\n\n"
    ]
    now = engine.now_ms // 1000
    for number, (event, series) in enumerate(events.items(), 1):
        samples, avg, mad, period = _event_stats(series, now)
        lines.append(
            f"{number}. {event}: {samples} latency spikes (average {avg}ms, mean "
            f"deviation {mad}ms, period {period:.2f} sec). Worst all time event "
            f"{series.max}ms.\n"
        )
        if event == "command":
            slower_than = observer.slowlog_slower_than
            if slower_than < 0:
                advice.add("slowlog-off")
            elif slower_than // 1000 > observer.latency_threshold:
                advice.add("slowlog-tuning")
            advice |= {"slowlog-inspect", "large-objects"}
        elif event == "fast-command":
            advice.add("scheduler")
        elif event == "expire-cycle":
            advice |= (
                {"hz", "large-objects"} if engine.config.int("hz") < 100 else {"large-objects"}
            )
        elif event == "eviction-del":
            advice.add("large-objects")
        elif event == "eviction-cycle":
            advice.add("mass-eviction")
    if not advice:
        lines.append(
            "\nWhile there are latency events logged, I'm not able to suggest any "
            "easy fix. Please use the Redis community to get some help, providing "
            "this report in your help request.\n"
        )
        return "".join(lines)
    lines.append("\nI have a few advices for you:\n\n")
    threshold = observer.latency_threshold * 1000
    lines.extend(text.format(threshold=threshold) + "\n" for key, text in _ADVICE if key in advice)
    return "".join(lines)


@_latency_command("doctor", 2, "Return a human readable latency analysis report.")
def latency_doctor(c: Client, argv: Argv) -> bytes:
    return resp.verbatim(latency_report(c).encode(), c.resp)


@NODE.command(
    "histogram",
    -2,
    _ADMIN,
    group="server",
    since="7.0.0",
    summary="Return the cumulative distribution of latencies of a subset of commands or all.",
    complexity="O(N) where N is the number of commands with latency information being retrieved.",
    tips=_LATENCY_TIPS,
    args=(docs.string("command", optional=True, multiple=True),),
    container="latency",
)
def latency_histogram(c: Client, argv: Argv) -> bytes:
    observer = c.engine.observer
    histograms = dict(observer.histograms())
    if len(argv) == 2:
        chosen = list(histograms)
    else:
        chosen = []
        for raw in argv[2:]:
            name = _text(raw).lower()
            spec = observer.commands.get(name)
            if spec is None:
                continue
            names = [name] + [sub.fullname for sub in spec.spec.subcommands.values()]
            chosen.extend(n for n in names if n in histograms and n not in chosen)
    out = [resp.map_header(len(chosen), c.resp)]
    for name in chosen:
        histogram = histograms[name]
        points = list(histogram.cumulative_log())
        out.append(resp.bulk(name.encode()))
        out.append(resp.map_header(2, c.resp))
        out.append(b"$5\r\ncalls\r\n" + resp.integer(histogram.total))
        out.append(b"$14\r\nhistogram_usec\r\n" + resp.map_header(len(points), c.resp))
        out.extend(resp.integer(usec) + resp.integer(count) for usec, count in points)
    return b"".join(out)


@NODE.command(
    "help",
    2,
    Flag.LOADING | Flag.STALE,
    group="server",
    since="2.8.13",
    summary="Show helpful text about the different subcommands.",
    complexity="O(1)",
    container="latency",
)
def latency_help(c: Client, argv: Argv) -> bytes:
    return resp.help_reply(argv[0], _LATENCY_HELP)


# --- MONITOR ROLE -------------------------------------------------------------------------
@NODE.command(
    "monitor",
    1,
    _ADMIN,
    group="server",
    since="1.0.0",
    summary="Listen for all requests received by the server in real time",
)
def monitor(c: Client, argv: Argv) -> bytes:
    engine = c.engine
    if engine.no_blocking:  # inside MULTI/EXEC: a reply per command is expected
        raise CommandError("ERR MONITOR isn't allowed for DENY BLOCKING client")
    if c in engine.observer.monitors or "S" in c.flags:
        return b""  # already a monitor (or a replica): Redis ignores it, without a reply
    engine.observer.add_monitor(c)
    return resp.OK


@NODE.command(
    "role",
    1,
    Flag.NOSCRIPT | Flag.LOADING | Flag.STALE | Flag.FAST,
    group="server",
    since="2.8.12",
    summary="Return the role of the instance in the context of replication",
    complexity="O(1)",
    acl=Acl.ADMIN | Acl.DANGEROUS,
)
def role(c: Client, argv: Argv) -> bytes:
    return c.engine.replication.role(c)  # node/replication/state.py


# --- DEBUG --------------------------------------------------------------------------------
_DEBUG_HELP: Final = (
    b"AOF-FLUSH-SLEEP <microsec>",
    b"    Server will sleep before flushing the AOF, this is used for testing.",
    b"ASSERT",
    b"    Crash by assertion failed.",
    b"CHANGE-REPL-ID",
    b"    Change the replication IDs of the instance.",
    b"    Dangerous: should be used only for testing the replication subsystem.",
    b"CONFIG-REWRITE-FORCE-ALL",
    b"    Like CONFIG REWRITE but writes all configuration options, including",
    b"    keywords not listed in original configuration file or default values.",
    b"CRASH-AND-RECOVER [<milliseconds>]",
    b"    Hard crash and restart after a <milliseconds> delay (default 0).",
    b"DIGEST",
    b"    Output a hex signature representing the current DB content.",
    b"DIGEST-VALUE <key> [<key> ...]",
    b"    Output a hex signature of the values of all the specified keys.",
    b"ERROR <string>",
    b"    Return a Redis protocol error with <string> as message. Useful for clients",
    b"    unit tests to simulate Redis errors.",
    b"LEAK <string>",
    b"    Create a memory leak of the input string.",
    b"LOG <message>",
    b"    Write <message> to the server log.",
    b"HTSTATS <dbid>",
    b"    Return hash table statistics of the specified Redis database.",
    b"HTSTATS-KEY <key>",
    b"    Like HTSTATS but for the hash table stored at <key>'s value.",
    b"LOADAOF",
    b"    Flush the AOF buffers on disk and reload the AOF in memory.",
    b"REPLICATE <string>",
    b"    Replicates the provided string to replicas, allowing data divergence.",
    b"MALLCTL <key> [<val>]",
    b"    Get or set a malloc tuning integer.",
    b"MALLCTL-STR <key> [<val>]",
    b"    Get or set a malloc tuning string.",
    b"OBJECT <key>",
    b"    Show low level info about `key` and associated value.",
    b"DROP-CLUSTER-PACKET-FILTER <packet-type>",
    b"    Drop all packets that match the filtered type. Set to -1 allow all packets.",
    b"OOM",
    b"    Crash the server simulating an out-of-memory error.",
    b"PANIC",
    b"    Crash the server simulating a panic.",
    b"POPULATE <count> [<prefix>] [<size>]",
    b"    Create <count> string keys named key:<num>. If <prefix> is specified then",
    b"    it is used instead of the 'key' prefix. These are not propagated to",
    b"    replicas. Cluster slots are not respected so keys not belonging to the",
    b"    current node can be created in cluster mode.",
    b"PROTOCOL <type>",
    b"    Reply with a test value of the specified type. <type> can be: string,",
    b"    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
    b"    true, false.",
    b"RELOAD [option ...]",
    b"    Save the RDB on disk and reload it back to memory. Valid <option> values:",
    b"    * MERGE: conflicting keys will be loaded from RDB.",
    b"    * NOFLUSH: the existing database will not be removed before load, but",
    b"      conflicting keys will generate an exception and kill the server.",
    b"    * NOSAVE: the database will be loaded from an existing RDB file.",
    b"    Examples:",
    b"    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
    b"      the database.",
    b"    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
    b"      existing RDB file.",
    b"    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
    b"      file to the database.",
    b"RESTART [<milliseconds>]",
    b"    Graceful restart: save config, db, restart after a <milliseconds> delay (default 0).",
    b"SDSLEN <key>",
    b"    Show low level SDS string info representing `key` and value.",
    b"SEGFAULT",
    b"    Crash the server with sigsegv.",
    b"SET-ACTIVE-EXPIRE <0|1>",
    b"    Setting it to 0 disables expiring keys in background when they are not",
    b"    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
    b"    default.",
    b"QUICKLIST-PACKED-THRESHOLD <size>",
    b"    Sets the threshold for elements to be inserted as plain vs packed nodes",
    b"    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
    b"SET-SKIP-CHECKSUM-VALIDATION <0|1>",
    b"    Enables or disables checksum checks for RDB files and RESTORE's payload.",
    b"SLEEP <seconds>",
    b"    Stop the server for <seconds>. Decimals allowed.",
    b"STRINGMATCH-TEST",
    b"    Run a fuzz tester against the stringmatchlen() function.",
    b"STRUCTSIZE",
    b"    Return the size of different Redis core C structures.",
    b"LISTPACK <key>",
    b"    Show low level info about the listpack encoding of <key>.",
    b"QUICKLIST <key> [<0|1>]",
    b"    Show low level info about the quicklist encoding of <key>.",
    b"    The optional argument (0 by default) sets the level of detail",
    b"CLIENT-EVICTION",
    b"    Show low level client eviction pools info (maxmemory-clients).",
    b"PAUSE-CRON <0|1>",
    b"    Stop periodic cron job processing.",
    b"REPLYBUFFER PEAK-RESET-TIME <NEVER||RESET|time>",
    b"    Sets the time (in milliseconds) to wait between client reply buffer peak resets.",
    b"    In case NEVER is provided the last observed peak will never be reset",
    b"    In case RESET is provided the peak reset time will be restored to the default value",
    b"REPLYBUFFER RESIZING <0|1>",
    b"    Enable or disable the reply buffer resize cron job",
    b"CLUSTERLINK KILL <to|from|all> <node-id>",
    b"    Kills the link based on the direction to/from (both) with the provided node.",
)
# The 64-bit sizes redis-server 7.0.15 reports for DEBUG STRUCTSIZE.
_STRUCTSIZE: Final = (
    b"bits:64 robj:16 dictentry:24 sdshdr5:1 sdshdr8:3 sdshdr16:5 sdshdr32:9 sdshdr64:17 "
)
# Object type numbers (OBJ_STRING ... OBJ_STREAM) as DEBUG DIGEST mixes them in.
_TYPE_CODES: Final = {b"string": 0, b"list": 1, b"set": 2, b"zset": 3, b"hash": 4, b"stream": 6}
_NO_KEY: Final = "ERR no such key"


def _xor_digest(digest: bytearray, data: bytes) -> None:
    for i, byte in enumerate(hashlib.sha1(data).digest()):
        digest[i] ^= byte


def _mix_digest(digest: bytearray, data: bytes) -> None:
    _xor_digest(digest, data)
    digest[:] = hashlib.sha1(digest).digest()


def _type_code(value: object) -> int:
    if value.__class__ is bytes or value.__class__ is bytearray:
        return 0
    return _TYPE_CODES[cast(ListValue, value).TYPE]


def value_digest(digest: bytearray, value: object, has_expire: bool) -> None:
    """debug.c's xorObjectDigest: mix the type and every element of `value` in."""
    _mix_digest(digest, struct.pack(">I", _type_code(value)))
    if isinstance(value, (bytes, bytearray)):
        _mix_digest(digest, bytes(value))
    elif isinstance(value, ListValue):
        for item in value:
            _mix_digest(digest, item)
    elif isinstance(value, SetValue):
        for member in value:
            _xor_digest(digest, member)
    elif isinstance(value, ZSet):
        for member, score in value.pairs():
            element = bytearray(20)
            _mix_digest(element, member)
            _mix_digest(element, b"%.17g" % score)
            _xor_digest(digest, bytes(element))
    elif isinstance(value, HashValue):
        for field, field_value in value.items():
            element = bytearray(20)
            _mix_digest(element, field)
            _mix_digest(element, field_value)
            _xor_digest(digest, bytes(element))
    elif isinstance(value, Stream):
        for sid, fields in value.range(0, (1 << 128) - 1):
            _mix_digest(digest, b"%d.%d" % (sid >> 64, sid & SEQ_MASK))
            for part in fields:
                _mix_digest(digest, part)
    if has_expire:
        _xor_digest(digest, b"!!expire!!")


def dataset_digest(dbs: list[Database]) -> bytes:
    """computeDatasetDigest: 20 zero bytes for an empty dataset."""
    final = bytearray(20)
    for db in dbs:
        if not db.data:
            continue
        _mix_digest(final, struct.pack(">I", db.index))
        for key, value in db.data.items():
            digest = bytearray(20)
            _mix_digest(digest, key)
            value_digest(digest, value, key in db.expires)
            _xor_digest(final, bytes(digest))
    return bytes(final)


def _debug_object(c: Client, argv: Argv) -> bytes:
    db = c.db
    value = db.data.get(argv[2])  # dictFind: a logically expired key is still there
    if value is None:
        raise CommandError(_NO_KEY)
    config = c.engine.config
    limits = rdb.Limits.from_config(config)
    try:
        saved = len(rdb.encode_value(value, config.bool("rdbcompression"), limits)[1])
    except FormatError:
        saved = 0
    if isinstance(value, (bytes, bytearray)):
        encoding = string_encoding(value)
    else:
        encoding = cast(ListValue, value).encoding()
    extra = b""
    if encoding == b"quicklist":
        nodes = rdb.quicklist_nodes(cast(ListValue, value), limits.list_fill)
        size = sum(len(n) if isinstance(n, bytes) else len(listpack_encode(n)) for n in nodes)
        extra = (
            b" ql_nodes:%d ql_avg_node:%.2f ql_listpack_max:%d ql_compressed:%d "
            b"ql_uncompressed_size:%d"
            % (
                len(nodes),
                len(cast(ListValue, value)) / len(nodes),
                limits.list_fill,
                int(config.int("list-compress-depth") != 0),
                size,
            )
        )
    lru, idle = c.engine.memory.clock.debug_fields(db.index, argv[2])
    return resp.status(
        b"Value at:0x%x refcount:%d encoding:%s serializedlength:%d lru:%d "
        b"lru_seconds_idle:%d%s"
        % (id(value), object_refcount_of(value, config), encoding, saved, lru, idle, extra)
    )


def _positive(raw: bytes) -> int:
    """getPositiveLongFromObjectOrReply: one message for a bad number and a negative one."""
    message = "ERR value is out of range, must be positive"
    value = int_arg(raw, message)
    if value < 0:
        raise CommandError(message)
    return value


def _debug_populate(c: Client, argv: Argv) -> bytes:
    count = _positive(argv[2])
    prefix = argv[3] if len(argv) > 3 else b"key"
    size = _positive(argv[4]) if len(argv) == 5 else 0
    db = c.db
    for j in range(count):
        key = b"%s:%d" % (prefix, j)
        if db.lookup(key) is not None:
            continue
        value = b"value:%d" % j
        if size:
            value = value[:size].ljust(size, b"\0")
        db.set_value(key, value)
    return resp.OK


def _debug_protocol(c: Client, argv: Argv) -> bytes:
    kind = option(argv[2])
    r3 = c.resp == 3
    replies: dict[bytes, Callable[[], bytes]] = {
        b"STRING": lambda: resp.bulk(b"Hello World"),
        b"INTEGER": lambda: resp.integer(12345),
        b"DOUBLE": lambda: resp.double(3.141, c.resp),
        b"BIGNUM": lambda: resp.big_number(b"1234567999999999999999999999999999999", c.resp),
        b"NULL": lambda: resp.null(c.resp),
        b"ARRAY": lambda: b"*3\r\n:0\r\n:1\r\n:2\r\n",
        b"SET": lambda: resp.set_header(3, c.resp) + b":0\r\n:1\r\n:2\r\n",
        b"MAP": lambda: (
            resp.map_header(3, c.resp)
            + b"".join(resp.integer(j) + resp.boolean(j == 1, c.resp) for j in range(3))
        ),
        b"ATTRIB": lambda: (
            (b"|1\r\n$14\r\nkey-popularity\r\n*2\r\n$7\r\nkey:123\r\n:90\r\n" if r3 else b"")
            + resp.bulk(b"Some real reply following the attribute")
        ),
        b"PUSH": lambda: (
            b">2\r\n$16\r\nserver-cpu-usage\r\n:42\r\n"
            + resp.bulk(b"Some real reply following the push reply")
        ),
        b"VERBATIM": lambda: resp.verbatim(b"This is a verbatim\nstring", c.resp),
        b"TRUE": lambda: resp.boolean(True, c.resp),
        b"FALSE": lambda: resp.boolean(False, c.resp),
    }
    reply = replies.get(kind)
    if reply is None:
        raise CommandError(
            "ERR Wrong protocol type name. Please use one of the following: "
            "string|integer|double|bignum|null|array|set|map|attrib|push|"
            "verbatim|true|false"
        )
    if kind == b"PUSH" and not r3:
        raise CommandError("ERR RESP2 is not supported by this command")
    return reply()


def _debug_reload(c: Client, argv: Argv) -> bytes:
    flush = save = True
    for raw in argv[2:]:
        word = option(raw)
        if word == b"NOFLUSH":
            flush = False
        elif word == b"NOSAVE":
            save = False
        elif word != b"MERGE":  # loading never fails on a duplicate key here
            raise CommandError(
                "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options."
            )
    engine = c.engine
    persistence = engine.persistence
    if save and not persistence.save():
        raise CommandError("ERR")
    data = persistence.storage.read_file(persistence.rdb_path)
    if flush:
        for db in engine.keyspace.dbs:
            db.flush()
    try:
        persistence.load_rdb(data or b"")
    except FormatError:
        raise CommandError("ERR Error trying to load the RDB dump, check server logs.") from None
    engine.log("notice", "DB reloaded by DEBUG RELOAD")
    return resp.OK


def _debug_sleep(c: Client, argv: Argv) -> bytes:
    seconds, _, _ = strtod(argv[2])
    usec = int(seconds * 1_000_000) if seconds == seconds else 0  # NaN sleeps nothing
    if usec > 0:
        c.engine.sleep(usec / 1_000_000)
    return resp.OK


def _atoi(raw: bytes) -> int:
    """C atoi: optional blanks and sign, then the leading digits (0 when there are none)."""
    text = raw.lstrip(b" \t\n\v\f\r")
    sign = -1 if text[:1] == b"-" else 1
    if text[:1] in (b"-", b"+"):
        text = text[1:]
    end = 0
    while end < len(text) and 0x30 <= text[end] <= 0x39:
        end += 1
    return sign * int(text[:end]) if end else 0


def _debug_replybuffer(c: Client, argv: Argv) -> bytes:
    what = option(argv[2])
    if what == b"PEAK-RESET-TIME":
        if option(argv[3]) not in (b"NEVER", b"RESET"):
            int_arg(argv[3])
    elif what != b"RESIZING":
        raise CommandError(errors.SUBCOMMAND_SYNTAX.format(_text(argv[1]), "DEBUG"))
    return resp.OK


def _debug_quicklist_threshold(c: Client, argv: Argv) -> bytes:
    try:
        size = parse_memory(_text(argv[2]))
    except ConfigError:
        size = -1
    if not 0 <= size <= 4 * 1024**3:
        raise CommandError("ERR argument must be a memory value bigger than 1 and smaller than 4gb")
    return resp.OK


def _debug_config_rewrite_all(c: Client, argv: Argv) -> bytes:
    try:
        server.rewrite_config_file(c.engine, force_all=True)
    except OSError as exc:
        raise CommandError(f"ERR CONFIG-REWRITE-FORCE-ALL failed: {exc.strerror}") from None
    return resp.OK


def _ok(c: Client, argv: Argv) -> bytes:
    """Subcommands about Redis's C internals (allocator, AOF flush timing, cron, reply
    buffers, RDB checksums, replica feeds): accepted, nothing to do here."""
    return resp.OK


def _debug_log(c: Client, argv: Argv) -> bytes:
    c.engine.log("warning", f"DEBUG LOG: {_text(argv[2])}")
    return resp.OK


def _debug_error(c: Client, argv: Argv) -> bytes:
    # Sent as is (addReplySds): not an error reply Redis counts.
    return b"-" + argv[2].replace(b"\r", b" ").replace(b"\n", b" ") + b"\r\n"


def _debug_set_active_expire(c: Client, argv: Argv) -> bytes:
    c.engine.observer.active_expire = _atoi(argv[2]) != 0
    return resp.OK


def _debug_digest_value(c: Client, argv: Argv) -> bytes:
    db = c.db
    out = [resp.array_header(len(argv) - 2)]
    for key in argv[2:]:
        digest = bytearray(20)
        value = db.data.get(key)  # a logically expired key still counts
        if value is not None:
            value_digest(digest, value, key in db.expires)
        out.append(resp.status(digest.hex().encode()))
    return b"".join(out)


def _encoded(c: Client, key: bytes) -> tuple[object, bytes]:
    """objectCommandLookupOrReply, then the value's OBJECT ENCODING."""
    value = c.db.lookup(key)
    if value is None:
        raise CommandError(_NO_KEY)
    if isinstance(value, (bytes, bytearray)):
        return value, string_encoding(value)
    return value, cast(ListValue, value).encoding()


def _debug_listpack(c: Client, argv: Argv) -> bytes:
    if _encoded(c, argv[2])[1] != b"listpack":
        raise CommandError("ERR Not a listpack encoded object.")
    return resp.status(b"Listpack structure printed on stdout")  # Redis prints to stdout


def _debug_quicklist(c: Client, argv: Argv) -> bytes:
    if _encoded(c, argv[2])[1] != b"quicklist":
        raise CommandError("ERR Not a quicklist encoded object.")
    return resp.status(b"Quicklist structure printed on stdout")


def _sds_avail(size: int, alloc_hint: int, length: int, *, grown: bool = False) -> int:
    """sdsavail of an sds whose allocation is `size` usable bytes: 7.0 records the usable
    room as its capacity (type 5, below 32 bytes and never grown, records none)."""
    header = _sds_header(alloc_hint, min_type8=grown)
    return 0 if header == 1 else size - header - 1 - length


def _debug_sdslen(c: Client, argv: Argv) -> bytes:
    """The key's and the string value's sds figures. A value modified in place (APPEND,
    SETRANGE) is assumed to have last grown by sdsMakeRoomFor's greedy rule."""
    key = argv[2]
    value, encoding = _encoded(c, key)
    if encoding not in (b"embstr", b"raw"):
        raise CommandError("ERR Not an sds encoded string.")
    n = len(cast(bytes, value))
    if encoding == b"embstr":  # robj and sds in one allocation, of which the robj is not
        val_size, val_avail = jemalloc_size(19 + n) - 16, 0
    elif value.__class__ is bytearray:
        val_size = _grown_sds_size(n)
        val_avail = _sds_avail(val_size, 2 * n, n, grown=True)
    else:  # a raw argument, trimmed to its length when it was stored
        val_size, val_avail = sds_size(n), 0
    key_size = sds_size(len(key))
    return resp.status(
        b"key_sds_len:%d, key_sds_avail:%d, key_zmalloc: %d, val_sds_len:%d, "
        b"val_sds_avail:%d, val_zmalloc: %d"
        % (len(key), _sds_avail(key_size, len(key), len(key)), key_size, n, val_avail, val_size)
    )


def _debug_drop_filter(c: Client, argv: Argv) -> bytes:
    int_arg(argv[2])
    return resp.OK


# name -> (handler, accepts argc) following debugCommand's checks.
_DEBUG: Final[dict[bytes, tuple[Callable[[Client, Argv], bytes], Callable[[int], bool]]]] = {
    b"HELP": (lambda c, argv: resp.help_reply(argv[0], _DEBUG_HELP), lambda n: n == 2),
    b"LOG": (_debug_log, lambda n: n == 3),
    b"LEAK": (_ok, lambda n: n == 3),
    b"RELOAD": (_debug_reload, lambda n: n >= 2),
    b"OBJECT": (_debug_object, lambda n: n == 3),
    b"POPULATE": (_debug_populate, lambda n: 3 <= n <= 5),
    b"DIGEST": (
        lambda c, argv: resp.status(dataset_digest(c.engine.keyspace.dbs).hex().encode()),
        lambda n: n == 2,
    ),
    b"DIGEST-VALUE": (_debug_digest_value, lambda n: n >= 2),
    b"PROTOCOL": (_debug_protocol, lambda n: n == 3),
    b"SLEEP": (_debug_sleep, lambda n: n == 3),
    b"SET-ACTIVE-EXPIRE": (_debug_set_active_expire, lambda n: n == 3),
    b"QUICKLIST-PACKED-THRESHOLD": (_debug_quicklist_threshold, lambda n: n == 3),
    b"SET-SKIP-CHECKSUM-VALIDATION": (_ok, lambda n: n == 3),
    b"AOF-FLUSH-SLEEP": (_ok, lambda n: n == 3),
    b"REPLICATE": (_ok, lambda n: n >= 3),
    b"ERROR": (_debug_error, lambda n: n == 3),
    b"STRUCTSIZE": (lambda c, argv: resp.bulk(_STRUCTSIZE), lambda n: n == 2),
    b"CHANGE-REPL-ID": (_ok, lambda n: n == 2),
    b"STRINGMATCH-TEST": (
        lambda c, argv: resp.status(b"Apparently Redis did not crash: test passed"),
        lambda n: n == 2,
    ),
    b"SET-DISABLE-DENY-SCRIPTS": (_ok, lambda n: n == 3),
    b"CONFIG-REWRITE-FORCE-ALL": (_debug_config_rewrite_all, lambda n: n == 2),
    b"PAUSE-CRON": (_ok, lambda n: n == 3),
    b"REPLYBUFFER": (_debug_replybuffer, lambda n: n == 4),
    b"DROP-CLUSTER-PACKET-FILTER": (_debug_drop_filter, lambda n: n == 3),
    b"LISTPACK": (_debug_listpack, lambda n: n == 3),
    b"QUICKLIST": (_debug_quicklist, lambda n: n in (3, 4)),
    b"SDSLEN": (_debug_sdslen, lambda n: n == 3),
}


@NODE.command(
    "debug",
    -2,
    _ADMIN | Flag.PROTECTED,
    group="server",
    since="1.0.0",
    summary="A container for debugging commands",
    complexity="Depends on subcommand.",
    doc_flags=("syscmd",),
)
def debug(c: Client, argv: Argv) -> bytes:
    entry = _DEBUG.get(option(argv[1]))
    if entry is None or not entry[1](len(argv)):
        raise CommandError(errors.SUBCOMMAND_SYNTAX.format(_text(argv[1]), "DEBUG"))
    return entry[0](c, argv)
