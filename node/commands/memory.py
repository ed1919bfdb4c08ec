"""MEMORY USAGE, STATS, DOCTOR, MALLOC-STATS, PURGE and HELP (Redis's object.c memoryCommand).

Rules:
- USAGE answers what redis-server 7.0 would use for the same data (node/engine/memusage.py),
  not Python's bytes; like Redis it finds the key without expiring it or touching its
  access time, and parses SAMPLES before looking.
- STATS, DOCTOR and INFO's memory section read the same figures: engine.memory's accounting
  (node/engine/memory.py), the RSS the shell measured, and the database tables.
- The allocator is reported as libc (INFO's mem_allocator), so MALLOC-STATS answers what a
  Redis built without jemalloc answers; PURGE asks the shell to hand free heap pages back to
  the system (malloc_trim) at its next cron tick.
Pure.
"""

from __future__ import annotations

import struct
from typing import Final

from node.commands import docs
from node.commands._args import int_arg, option
from node.commands.registry import NO_FLAGS, Flag, KeyFlag, key_at
from node.commands.table import NODE
from node.engine import footprint, memusage
from node.engine.engine import Engine
from node.engine.session import Client
from node.proto import errors, resp
from node.proto.errors import CommandError

Argv = list[bytes]

_DEFAULT_SAMPLES: Final = 5
_EMPTY_BYTES: Final = 5 << 20  # DOCTOR's "empty instance" line (of dataset, here)
_CLIENT_BUFFERS_LIMIT: Final = 200 << 10
_SCRIPTS_LIMIT: Final = 1000
_MALLOC_STATS: Final = b"Stats not supported for the current allocator"
_MEMORY_HELP: Final = (
    b"DOCTOR",
    b"    Return memory problems reports.",
    b"MALLOC-STATS",
    b"    Return internal statistics report from the memory allocator.",
    b"PURGE",
    b"    Attempt to purge dirty pages for reclamation by the allocator.",
    b"STATS",
    b"    Return information about the memory usage of the server.",
    b"USAGE <key> [SAMPLES <count>]",
    b"    Return memory in bytes used by <key> and its value. Nested values are",
    b"    sampled up to <count> times (default: 5, 0 means sample all).",
)

NODE.container(
    "memory",
    group="server",
    since="4.0.0",
    summary="A container for memory diagnostics commands",
    complexity="Depends on subcommand.",
)


def _float32(x: float) -> float:
    """Redis keeps these ratios in C floats."""
    return float(struct.unpack("f", struct.pack("f", x))[0])


class Overhead:
    """getMemoryOverheadData: the figures MEMORY STATS and DOCTOR (and INFO) report."""

    def __init__(self, engine: Engine) -> None:
        memory = engine.memory
        self.total = memory.used()
        self.peak = max(memory.peak, self.total)
        self.startup = min(memory.startup, self.total)
        self.rss = memory.rss or self.total
        self.lua_caches = 0
        self.functions_caches = 0
        self.clients = memory.clients.by_kind()  # (normal, replicas)
        self.dbs: list[tuple[int, int, int]] = []  # (index, main table, expires table)
        self.keys = 0
        overhead = self.startup
        slot = footprint.TABLE_ENTRY
        for db in engine.keyspace.dbs:
            if not db.data:
                continue
            self.keys += len(db.data)
            main = slot * len(db.data)
            if memory.clock.mode:
                main += slot * len(memory.clock.access[db.index])
            expires = (slot + footprint.EXPIRE_ENTRY) * len(db.expires)
            self.dbs.append((db.index, main, expires))
            overhead += main + expires
        self.overhead = overhead
        self.dataset = self.total - overhead
        net = self.total - self.startup if self.total > self.startup else 1
        self.dataset_perc = _float32(self.dataset * 100 / net)
        self.peak_perc = _float32(self.total * 100 / self.peak) if self.peak else 0.0
        self.bytes_per_key = net // self.keys if self.keys else 0
        self.frag = _float32(self.rss / self.total) if self.total else 0.0
        self.frag_bytes = self.rss - self.total


# --- USAGE ----------------------------------------------------------------------------------
@NODE.command(
    "usage",
    -3,
    Flag.READONLY,
    group="server",
    since="4.0.0",
    summary="Estimate the memory usage of a key",
    complexity="O(N) where N is the number of samples.",
    keys=[key_at(2, KeyFlag.RO)],
    container="memory",
    args=(docs.key("key"), docs.integer("count", token="SAMPLES", optional=True)),
)
def memory_usage(c: Client, argv: Argv) -> bytes:
    samples = _DEFAULT_SAMPLES
    i = 3
    while i < len(argv):
        if option(argv[i]) == b"SAMPLES" and i + 1 < len(argv):
            samples = int_arg(argv[i + 1])
            if samples < 0:
                raise CommandError(errors.SYNTAX)
            i += 2
        else:
            raise CommandError(errors.SYNTAX)
    value = c.db.data.get(argv[2])  # dictFind: no expiry, no access-time update
    if value is None:
        return resp.null(c.resp)
    return resp.integer(memusage.key_usage(argv[2], value, samples, c.engine.config))


# --- STATS ----------------------------------------------------------------------------------
@NODE.command(
    "stats",
    2,
    NO_FLAGS,
    group="server",
    since="4.0.0",
    summary="Show memory usage details",
    complexity="O(1)",
    tips=("nondeterministic_output", "request_policy:all_shards", "response_policy:special"),
    container="memory",
)
def memory_stats(c: Client, argv: Argv) -> bytes:
    mh = Overhead(c.engine)
    r = c.resp

    def field(name: bytes, value: int | float) -> bytes:
        encoded = resp.double(value, r) if isinstance(value, float) else resp.integer(value)
        return resp.bulk(name) + encoded

    parts = [
        resp.map_header(27 + len(mh.dbs), r),
        field(b"peak.allocated", mh.peak),
        field(b"total.allocated", mh.total),
        field(b"startup.allocated", mh.startup),
        field(b"replication.backlog", 0),
        field(b"clients.slaves", mh.clients[1]),
        field(b"clients.normal", mh.clients[0]),
        field(b"cluster.links", 0),
        field(b"aof.buffer", 0),
        field(b"lua.caches", mh.lua_caches),
        field(b"functions.caches", mh.functions_caches),
    ]
    for index, main, expires in mh.dbs:
        parts += [
            resp.bulk(b"db.%d" % index),
            resp.map_header(3, r),
            field(b"overhead.hashtable.main", main),
            field(b"overhead.hashtable.expires", expires),
            field(b"overhead.hashtable.slot-to-keys", 0),
        ]
    parts += [
        field(b"overhead.total", mh.overhead),
        field(b"keys.count", mh.keys),
        field(b"keys.bytes-per-key", mh.bytes_per_key),
        field(b"dataset.bytes", mh.dataset),
        field(b"dataset.percentage", mh.dataset_perc),
        field(b"peak.percentage", mh.peak_perc),
        field(b"allocator.allocated", mh.total),
        field(b"allocator.active", mh.rss),
        field(b"allocator.resident", mh.rss),
        field(b"allocator-fragmentation.ratio", 1.0),
        field(b"allocator-fragmentation.bytes", 0),
        field(b"allocator-rss.ratio", 1.0),
        field(b"allocator-rss.bytes", 0),
        field(b"rss-overhead.ratio", 1.0),
        field(b"rss-overhead.bytes", 0),
        field(b"fragmentation", mh.frag),
        field(b"fragmentation.bytes", mh.frag_bytes),
    ]
    return b"".join(parts)


# --- DOCTOR ---------------------------------------------------------------------------------
_NO_ISSUES: Final = (
    b"Hi Sam, I can't find any memory issue in your instance. I can only "
    b"account for what occurs on this base.\n"
)
_EMPTY: Final = (
    b"Hi Sam, this instance is empty or is using very little memory, my issues "
    b"detector can't be used in these conditions. Please, leave for your mission "
    b"on Earth and fill it with some data. The new Sam and I will be back to our "
    b"programming as soon as I finished rebooting.\n"
)
_ISSUES_HEAD: Final = b"Sam, I detected a few issues in this Redis instance memory implants:\n\n"
_ISSUES_TAIL: Final = b"I'm here to keep you safe, Sam. I want to help you.\n"
_BIG_PEAK: Final = (
    b" * Peak memory: the peak is more than 150% of the memory used now. "
    b"Freed memory stays with the process and is reused as data comes back; "
    b"MEMORY PURGE may hand some of it back to the system.\n\n"
)
_HIGH_FRAG: Final = (
    b" * High total RSS: the resident set is more than 1.4 times the memory "
    b"in use (usually what is left of a peak, see above). The allocator is "
    b'"libc".\n\n'
)
_BIG_CLIENT_BUF: Final = (
    b" * Big client buffers: the clients' output buffers average more "
    b"than 200K each; CLIENT LIST shows which clients hold them.\n\n"
)
_MANY_SCRIPTS: Final = (
    b" * Many scripts: more than 1000 scripts are cached; SCRIPT FLUSH "
    b"drops them (EVALSHA of loaded scripts keeps the cache small).\n\n"
)


def doctor_report(engine: Engine) -> bytes:
    """getMemoryDoctorReport's checks on slotd's figures. "Empty" is judged on what the
    dataset adds to the process (an idle interpreter alone is tens of MB)."""
    mh = Overhead(engine)
    if mh.total - mh.startup < _EMPTY_BYTES:
        return _EMPTY
    issues = []
    if mh.peak / mh.total > 1.5:
        issues.append(_BIG_PEAK)
    if mh.frag > 1.4 and mh.frag_bytes > 10 << 20:
        issues.append(_HIGH_FRAG)
    buffers = engine.memory.client_buffers
    if engine.clients and buffers // len(engine.clients) > _CLIENT_BUFFERS_LIMIT:
        issues.append(_BIG_CLIENT_BUF)
    if len(engine.scripting.scripts) > _SCRIPTS_LIMIT:
        issues.append(_MANY_SCRIPTS)
    if not issues:
        return _NO_ISSUES
    return _ISSUES_HEAD + b"".join(issues) + _ISSUES_TAIL


@NODE.command(
    "doctor",
    2,
    NO_FLAGS,
    group="server",
    since="4.0.0",
    summary="Outputs memory problems report",
    complexity="O(1)",
    tips=("nondeterministic_output", "request_policy:all_shards", "response_policy:special"),
    container="memory",
)
def memory_doctor(c: Client, argv: Argv) -> bytes:
    return resp.verbatim(doctor_report(c.engine), c.resp)


# --- MALLOC-STATS, PURGE, HELP --------------------------------------------------------------
@NODE.command(
    "malloc-stats",
    2,
    NO_FLAGS,
    group="server",
    since="4.0.0",
    summary="Show allocator internal stats",
    complexity="Depends on how much memory is allocated, could be slow",
    tips=("nondeterministic_output", "request_policy:all_shards", "response_policy:special"),
    container="memory",
)
def memory_malloc_stats(c: Client, argv: Argv) -> bytes:
    return resp.bulk(_MALLOC_STATS)


@NODE.command(
    "purge",
    2,
    NO_FLAGS,
    group="server",
    since="4.0.0",
    summary="Ask the allocator to release memory",
    complexity="Depends on how much memory is allocated, could be slow",
    tips=("request_policy:all_shards", "response_policy:all_succeeded"),
    container="memory",
)
def memory_purge(c: Client, argv: Argv) -> bytes:
    c.engine.memory.purge_requested = True
    return resp.OK


@NODE.command(
    "help",
    2,
    Flag.LOADING | Flag.STALE,
    group="server",
    since="4.0.0",
    summary="Show helpful text about the different subcommands",
    complexity="O(1)",
    container="memory",
)
def memory_help(c: Client, argv: Argv) -> bytes:
    return resp.help_reply(argv[0], _MEMORY_HELP)
