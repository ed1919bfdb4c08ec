"""INFO's text: Redis 7.0.15's sections, field names and order (genRedisInfoString).

Rules:
- A section is `# Title` then `name:value` lines; sections are joined by an empty line and
  every line ends in CRLF. The order of sections is fixed, whatever order they are asked in.
- Every value comes from the engine; what only the operating system knows (memory, CPU,
  pid, OS name) comes from `engine.process_info` / `engine.used_memory`, which the shell
  refreshes; traffic and per-command figures (commandstats, latencystats, instantaneous
  rates) from `engine.observer` (node/engine/observe.py), keyspace hits/misses from the
  databases. Subsystems that do not exist yet (replication, eviction) report the values an
  idle Redis 7.0 master reports.
Pure.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable, Iterable
from typing import Final

from node.config import format_percentile
from node.engine.engine import VERSION, Engine

Lines = list[tuple[str, object]]

# Sections in output order; "default" is all but commandstats and latencystats.
ORDER: Final = (
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "commandstats",
    "errorstats",
    "latencystats",
    "cluster",
    "keyspace",
)
_TITLES: Final = {
    "cpu": "CPU",
    "commandstats": "Commandstats",
    "errorstats": "Errorstats",
    "latencystats": "Latencystats",
}
DEFAULT: Final = frozenset(ORDER) - {"commandstats", "latencystats"}
_AVG_TTL_SAMPLE: Final = 20
# A hex id as Redis prints its build's (clients read it as a string, never a number).
_BUILD_ID: Final = hashlib.sha1(f"slotd {VERSION}".encode()).hexdigest()[:15]


def bytes_to_human(n: int) -> str:
    """Redis's bytesToHuman: B, then K/M/G/T/P with two decimals."""
    if n < 1024:
        return f"{n}B"
    for unit, power in (("K", 1), ("M", 2), ("G", 3), ("T", 4), ("P", 5)):
        if n < 1024 ** (power + 1) or unit == "P":
            return f"{n / 1024**power:.2f}{unit}"
    raise AssertionError("unreachable")


def sections_for(args: Iterable[bytes]) -> set[str]:
    """The sections `INFO arg...` asks for; unknown names select nothing."""
    chosen: set[str] = set()
    empty = True
    for raw in args:
        empty = False
        name = raw.decode("utf-8", "replace").lower()
        if name == "default":
            chosen |= DEFAULT
        elif name in ("all", "everything"):  # no module sections exist, so they agree
            chosen |= set(ORDER)
        elif name == "module_list":
            chosen.add("modules")
        elif name in ORDER:
            chosen.add(name)
    return set(DEFAULT) if empty else chosen


def render(engine: Engine, sections: set[str]) -> bytes:
    parts = []
    for name in ORDER:
        if name in sections:
            title = _TITLES.get(name, name.capitalize())
            lines = "".join(f"{k}:{v}\r\n" for k, v in _BUILDERS[name](engine))
            parts.append(f"# {title}\r\n{lines}")
    return "\r\n".join(parts).encode("utf-8", "surrogateescape")


def last_save_s(engine: Engine) -> int:
    """LASTSAVE / rdb_last_save_time: the last successful save (the start time before)."""
    return engine.persistence.last_save_s()


def _server(e: Engine) -> Lines:
    p, cfg, now = e.process_info, e.config, e.now_ms
    uptime = (now - e.started_ms) // 1000
    return [
        ("redis_version", VERSION),
        ("redis_git_sha1", "00000000"),
        ("redis_git_dirty", 0),
        ("redis_build_id", _BUILD_ID),
        ("redis_mode", "cluster" if cfg.bool("cluster-enabled") else "standalone"),
        ("os", p.get("os", "")),
        ("arch_bits", p.get("arch_bits", "64")),
        ("monotonic_clock", "POSIX clock_gettime"),
        ("multiplexing_api", p.get("multiplexing_api", "epoll")),
        ("atomicvar_api", "c11-builtin"),
        ("gcc_version", "0.0.0"),
        ("process_id", p.get("process_id", "0")),
        ("process_supervised", p.get("process_supervised", "no")),
        ("run_id", e.run_id),
        ("tcp_port", cfg.int("port") or cfg.int("tls-port")),
        ("server_time_usec", now * 1000),
        ("uptime_in_seconds", uptime),
        ("uptime_in_days", uptime // 86400),
        ("hz", e.effective_hz()),
        ("configured_hz", cfg.int("hz")),
        ("lru_clock", (now // 1000) & ((1 << 24) - 1)),
        ("executable", p.get("executable", "")),
        ("config_file", p.get("config_file", cfg.source_file)),
        ("io_threads_active", 0),
    ]


def _clients(e: Engine) -> Lines:
    timed = sum(1 for c in e.blocked if c.blocked is not None and c.blocked.block.deadline_ms)
    return [
        # Redis does not count its replicas' connections here (the master's it does).
        ("connected_clients", len(e.clients) - len(e.replication.primary.replicas)),
        # Redis counts two links per other node, whatever is connected.
        ("cluster_connections", 0 if e.cluster is None else (len(e.cluster.state.nodes) - 1) * 2),
        ("maxclients", e.config.int("maxclients")),
        ("client_recent_max_input_buffer", e.observer.recent_max_input),
        ("client_recent_max_output_buffer", e.observer.recent_max_output),
        ("blocked_clients", len(e.blocked)),
        ("tracking_clients", e.tracking.clients),
        ("clients_in_timeout_table", timed),
    ]


def _memory(e: Engine) -> Lines:
    p = e.process_info
    used = e.memory.used()  # the accounting's figure (the RSS while none is kept)
    rss = int(p.get("used_memory_rss", used))
    peak = max(used, int(p.get("used_memory_peak", used)))
    startup = min(used, int(p.get("used_memory_startup", used)))
    dataset = used - startup
    total = int(p.get("total_system_memory", 0))
    maxmemory = e.config.int("maxmemory")
    scripting = e.scripting
    scripts_eval, functions = scripting.scripts_memory(), scripting.functions_memory()
    clients = e.memory.clients.by_kind()  # the shell's buffers, asked now
    return [
        ("used_memory", used),
        ("used_memory_human", bytes_to_human(used)),
        ("used_memory_rss", rss),
        ("used_memory_rss_human", bytes_to_human(rss)),
        ("used_memory_peak", peak),
        ("used_memory_peak_human", bytes_to_human(peak)),
        ("used_memory_peak_perc", f"{_perc(used, peak)}%"),
        ("used_memory_overhead", startup),
        ("used_memory_startup", startup),
        ("used_memory_dataset", dataset),
        ("used_memory_dataset_perc", f"{_perc(dataset, used - startup)}%"),
        ("allocator_allocated", used),
        ("allocator_active", rss),
        ("allocator_resident", rss),
        ("total_system_memory", total),
        ("total_system_memory_human", bytes_to_human(total)),
        # One Lua VM runs both scripts and functions: the two VM figures are an idle 7.0's.
        ("used_memory_lua", 32768),
        ("used_memory_vm_eval", 32768),
        ("used_memory_lua_human", "32.00K"),
        ("used_memory_scripts_eval", scripts_eval),
        ("number_of_cached_scripts", len(scripting.scripts)),
        ("number_of_functions", len(scripting.functions)),
        ("number_of_libraries", len(scripting.libraries)),
        ("used_memory_vm_functions", 33792),
        ("used_memory_vm_total", 66560),
        ("used_memory_vm_total_human", "65.00K"),
        ("used_memory_functions", functions),
        ("used_memory_scripts", scripts_eval + functions),
        ("used_memory_scripts_human", bytes_to_human(scripts_eval + functions)),
        ("maxmemory", maxmemory),
        ("maxmemory_human", bytes_to_human(maxmemory)),
        ("maxmemory_policy", e.config.str("maxmemory-policy")),
        ("allocator_frag_ratio", "1.00"),
        ("allocator_frag_bytes", 0),
        ("allocator_rss_ratio", "1.00"),
        ("allocator_rss_bytes", 0),
        ("rss_overhead_ratio", "1.00"),
        ("rss_overhead_bytes", 0),
        ("mem_fragmentation_ratio", f"{rss / used if used else 0:.2f}"),
        ("mem_fragmentation_bytes", rss - used),
        ("mem_not_counted_for_evict", 0),
        ("mem_replication_backlog", 0),
        ("mem_total_replication_buffers", 0),
        ("mem_clients_slaves", clients[1]),
        ("mem_clients_normal", clients[0]),
        ("mem_cluster_links", 0 if e.cluster is None else e.cluster.bus.links_memory()),
        ("mem_aof_buffer", 0),
        ("mem_allocator", "libc"),
        ("active_defrag_running", 0),
        ("lazyfree_pending_objects", e.memory.lazyfree.pending_objects),
        ("lazyfreed_objects", e.memory.lazyfree.freed_objects),
    ]


def _perc(part: int, whole: int) -> str:
    return f"{part * 100 / whole:.2f}" if whole > 0 else "0.00"


def _persistence(e: Engine) -> Lines:
    return e.persistence.info()


def _stats(e: Engine) -> Lines:
    s, o, dbs = e.stats, e.observer, e.keyspace.dbs
    pubsub = e.pubsub
    primary = e.replication.primary
    exceeded_ms = e.memory.exceeded_ms()
    return [
        ("total_connections_received", s.connections_received),
        ("total_commands_processed", o.total_commands()),
        ("instantaneous_ops_per_sec", o.ops_metric.rate()),
        ("total_net_input_bytes", o.net_input),
        ("total_net_output_bytes", o.net_output),
        ("total_net_repl_input_bytes", 0),
        ("total_net_repl_output_bytes", 0),
        ("instantaneous_input_kbps", f"{o.input_metric.rate() / 1024:.2f}"),
        ("instantaneous_output_kbps", f"{o.output_metric.rate() / 1024:.2f}"),
        ("instantaneous_input_repl_kbps", "0.00"),
        ("instantaneous_output_repl_kbps", "0.00"),
        ("rejected_connections", s.rejected_connections),
        ("sync_full", primary.sync_full),
        ("sync_partial_ok", primary.sync_partial_ok),
        ("sync_partial_err", primary.sync_partial_err),
        ("expired_keys", e.keyspace.expired_keys),
        ("expired_stale_perc", "0.00"),
        ("expired_time_cap_reached_count", 0),
        ("expire_cycle_cpu_milliseconds", o.expire_cycle_us // 1000),
        ("evicted_keys", e.memory.evictor.evicted_keys),
        ("evicted_clients", e.memory.clients.evicted_clients),
        ("total_eviction_exceeded_time", exceeded_ms[0]),
        ("current_eviction_exceeded_time", exceeded_ms[1]),
        ("keyspace_hits", o.keyspace_hits()),
        ("keyspace_misses", sum(db.misses for db in dbs)),
        ("pubsub_channels", len(pubsub.channels)),
        ("pubsub_patterns", len(pubsub.patterns)),
        ("pubsubshard_channels", len(pubsub.shard_channels)),
        ("latest_fork_usec", e.persistence.last_fork_us),
        ("total_forks", e.persistence.total_forks),
        ("migrate_cached_sockets", 0),
        ("slave_expires_tracked_keys", 0),
        ("active_defrag_hits", 0),
        ("active_defrag_misses", 0),
        ("active_defrag_key_hits", 0),
        ("active_defrag_key_misses", 0),
        ("total_active_defrag_time", 0),
        ("current_active_defrag_time", 0),
        ("tracking_total_keys", len(e.tracking.table)),
        ("tracking_total_items", e.tracking.items),
        ("tracking_total_prefixes", len(e.tracking.prefixes)),
        ("unexpected_error_replies", s.unexpected_error_replies),
        ("total_error_replies", s.errors),
        ("dump_payload_sanitizations", 0),
        ("total_reads_processed", o.reads_processed),
        ("total_writes_processed", o.writes_processed),
        ("io_threaded_reads_processed", 0),
        ("io_threaded_writes_processed", 0),
        ("reply_buffer_shrinks", 0),
        ("reply_buffer_expands", 0),
    ]


def _replication(e: Engine) -> Lines:
    return e.replication.info()  # node/replication/state.py


def _cpu(e: Engine) -> Lines:
    names = (
        "used_cpu_sys",
        "used_cpu_user",
        "used_cpu_sys_children",
        "used_cpu_user_children",
        "used_cpu_sys_main_thread",
        "used_cpu_user_main_thread",
    )
    return [(name, e.process_info.get(name, "0.000000")) for name in names]


def _none(e: Engine) -> Lines:
    """Modules: none can be loaded."""
    return []


def _f32(x: float) -> float:
    """x rounded to a C float (commandstats' usec_per_call is float arithmetic)."""
    return float(struct.unpack("f", struct.pack("f", x))[0])


def _commandstats(e: Engine) -> Lines:
    out: Lines = []
    for name, st in e.observer.commands.items():
        if st.calls or st.rejected or st.failed:
            per_call = _f32(_f32(st.usec) / _f32(st.calls)) if st.calls else 0.0
            out.append(
                (
                    f"cmdstat_{name}",
                    f"calls={st.calls},usec={st.usec},usec_per_call={per_call:.2f},"
                    f"rejected_calls={st.rejected},failed_calls={st.failed}",
                )
            )
    return out


def _latencystats(e: Engine) -> Lines:
    percentiles = e.observer.percentiles
    return [
        (
            f"latency_percentiles_usec_{name}",
            ",".join(
                f"p{format_percentile(p)}={h.value_at_percentile(p) / 1000:.3f}"
                for p in percentiles
            ),
        )
        for name, h in e.observer.histograms()
    ]


def _errorstats(e: Engine) -> Lines:
    codes = e.stats.error_codes
    return [(f"errorstat_{code}", f"count={codes[code]}") for code in sorted(codes)]


def _cluster(e: Engine) -> Lines:
    return [("cluster_enabled", int(e.config.bool("cluster-enabled")))]


def _keyspace(e: Engine) -> Lines:
    out: Lines = []
    now = e.now_ms
    for db in e.keyspace.dbs:
        if not db.data:
            continue
        # Redis's avg_ttl is an estimate the expiry cycle keeps; a small sample gives the
        # same kind of figure without walking every key.
        sample = [
            when - now
            for _, when in zip(range(_AVG_TTL_SAMPLE), db.expires.values(), strict=False)
            if when > now
        ]
        avg = sum(sample) // len(sample) if sample else 0
        out.append(
            (f"db{db.index}", f"keys={len(db.data)},expires={len(db.expires)},avg_ttl={avg}")
        )
    return out


_BUILDERS: Final[dict[str, Callable[[Engine], Lines]]] = {
    "server": _server,
    "clients": _clients,
    "memory": _memory,
    "persistence": _persistence,
    "stats": _stats,
    "replication": _replication,
    "cpu": _cpu,
    "modules": _none,
    "commandstats": _commandstats,
    "errorstats": _errorstats,
    "latencystats": _latencystats,
    "cluster": _cluster,
    "keyspace": _keyspace,
}
