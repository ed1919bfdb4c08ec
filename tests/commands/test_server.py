"""Server commands through the engine (no sockets): CONFIG, INFO, TIME, LASTSAVE, SHUTDOWN.
Expected bytes, field names and error texts were checked on redis-server 7.0.15."""

from __future__ import annotations

import random
import re

import pytest

from node.commands import _info, load
from node.config import ConfigError, parse_command_line
from node.engine.engine import Engine
from tests.support import START_MS, Harness

FAILED = "ERR CONFIG SET failed (possibly related to argument '{}') - {}"

# INFO's fields per section, in Redis 7.0.15's order (an idle master, no replicas).
INFO_FIELDS = {
    "Server": "redis_version redis_git_sha1 redis_git_dirty redis_build_id redis_mode os "
    "arch_bits monotonic_clock multiplexing_api atomicvar_api gcc_version "
    "process_id process_supervised run_id tcp_port server_time_usec "
    "uptime_in_seconds uptime_in_days hz configured_hz lru_clock executable "
    "config_file io_threads_active",
    "Clients": "connected_clients cluster_connections maxclients "
    "client_recent_max_input_buffer client_recent_max_output_buffer "
    "blocked_clients tracking_clients clients_in_timeout_table",
    "Memory": "used_memory used_memory_human used_memory_rss used_memory_rss_human "
    "used_memory_peak used_memory_peak_human used_memory_peak_perc "
    "used_memory_overhead used_memory_startup used_memory_dataset "
    "used_memory_dataset_perc allocator_allocated allocator_active "
    "allocator_resident total_system_memory total_system_memory_human "
    "used_memory_lua used_memory_vm_eval used_memory_lua_human "
    "used_memory_scripts_eval number_of_cached_scripts number_of_functions "
    "number_of_libraries used_memory_vm_functions used_memory_vm_total "
    "used_memory_vm_total_human used_memory_functions used_memory_scripts "
    "used_memory_scripts_human maxmemory maxmemory_human maxmemory_policy "
    "allocator_frag_ratio allocator_frag_bytes allocator_rss_ratio "
    "allocator_rss_bytes rss_overhead_ratio rss_overhead_bytes "
    "mem_fragmentation_ratio mem_fragmentation_bytes mem_not_counted_for_evict "
    "mem_replication_backlog mem_total_replication_buffers mem_clients_slaves "
    "mem_clients_normal mem_cluster_links mem_aof_buffer mem_allocator "
    "active_defrag_running lazyfree_pending_objects lazyfreed_objects",
    "Persistence": "loading async_loading current_cow_peak current_cow_size "
    "current_cow_size_age current_fork_perc current_save_keys_processed "
    "current_save_keys_total rdb_changes_since_last_save rdb_bgsave_in_progress "
    "rdb_last_save_time rdb_last_bgsave_status rdb_last_bgsave_time_sec "
    "rdb_current_bgsave_time_sec rdb_saves rdb_last_cow_size "
    "rdb_last_load_keys_expired rdb_last_load_keys_loaded aof_enabled "
    "aof_rewrite_in_progress aof_rewrite_scheduled aof_last_rewrite_time_sec "
    "aof_current_rewrite_time_sec aof_last_bgrewrite_status aof_rewrites "
    "aof_rewrites_consecutive_failures aof_last_write_status aof_last_cow_size "
    "module_fork_in_progress module_fork_last_cow_size",
    "Stats": "total_connections_received total_commands_processed instantaneous_ops_per_sec "
    "total_net_input_bytes total_net_output_bytes total_net_repl_input_bytes "
    "total_net_repl_output_bytes instantaneous_input_kbps instantaneous_output_kbps "
    "instantaneous_input_repl_kbps instantaneous_output_repl_kbps "
    "rejected_connections sync_full sync_partial_ok sync_partial_err expired_keys "
    "expired_stale_perc expired_time_cap_reached_count expire_cycle_cpu_milliseconds "
    "evicted_keys evicted_clients total_eviction_exceeded_time "
    "current_eviction_exceeded_time keyspace_hits keyspace_misses pubsub_channels "
    "pubsub_patterns pubsubshard_channels latest_fork_usec total_forks "
    "migrate_cached_sockets slave_expires_tracked_keys active_defrag_hits "
    "active_defrag_misses active_defrag_key_hits active_defrag_key_misses "
    "total_active_defrag_time current_active_defrag_time tracking_total_keys "
    "tracking_total_items tracking_total_prefixes unexpected_error_replies "
    "total_error_replies dump_payload_sanitizations total_reads_processed "
    "total_writes_processed io_threaded_reads_processed io_threaded_writes_processed "
    "reply_buffer_shrinks reply_buffer_expands",
    "Replication": "role connected_slaves master_failover_state master_replid master_replid2 "
    "master_repl_offset second_repl_offset repl_backlog_active "
    "repl_backlog_size repl_backlog_first_byte_offset repl_backlog_histlen",
    "CPU": "used_cpu_sys used_cpu_user used_cpu_sys_children used_cpu_user_children "
    "used_cpu_sys_main_thread used_cpu_user_main_thread",
    "Modules": "",
    "Errorstats": "",
    "Cluster": "cluster_enabled",
    "Keyspace": "",
}
DEFAULT_TITLES = [
    "Server",
    "Clients",
    "Memory",
    "Persistence",
    "Stats",
    "Replication",
    "CPU",
    "Modules",
    "Errorstats",
    "Cluster",
    "Keyspace",
]
ALL_TITLES = [
    *DEFAULT_TITLES[:8],
    "Commandstats",
    "Errorstats",
    "Latencystats",
    "Cluster",
    "Keyspace",
]


@pytest.fixture
def h() -> Harness:
    return Harness()


def info(h: Harness, *sections: str) -> dict[str, dict[str, str]]:
    """INFO parsed into {title: {field: value}}, checking the framing on the way."""
    text = h("INFO", *sections)
    assert isinstance(text, bytes)
    out: dict[str, dict[str, str]] = {}
    if not text:
        return out
    assert text.endswith(b"\r\n") and not text.endswith(b"\r\n\r\n")
    for block in text.decode().split("\r\n\r\n"):
        title, *lines = block.strip("\r\n").split("\r\n")
        assert title.startswith("# ")
        out[title[2:]] = dict(line.split(":", 1) for line in lines)
    return out


# --- CONFIG GET -------------------------------------------------------------------------
def test_config_get_exact_names_as_typed(h: Harness) -> None:
    assert h.raw("CONFIG", "GET", "maxmemory") == b"*2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n"
    assert h("CONFIG", "GET", "SAVE", "appendonly") == [
        b"SAVE",
        b"3600 1 300 100 60 10000",
        b"appendonly",
        b"no",
    ]
    assert h("CONFIG", "GET", "maxmemory", "MAXMEMORY") == [b"maxmemory", b"0"]
    assert h("CONFIG", "GET", "nosuch") == []


def test_config_get_aliases_are_names_of_their_own(h: Harness) -> None:
    assert h("CONFIG", "GET", "slave-read-only") == [b"slave-read-only", b"yes"]
    assert h("CONFIG", "GET", "*read-only") == [
        b"replica-read-only",
        b"yes",
        b"slave-read-only",
        b"yes",
    ]


def test_config_get_glob_case_insensitive_and_deduplicated(h: Harness) -> None:
    reply = h("CONFIG", "GET", "MAXMEMORY-POL*", "maxmemory-policy", "maxmemory-p?licy")
    assert reply == [b"maxmemory-policy", b"noeviction"]
    names = h("CONFIG", "GET", "max*mem*", "maxmemory")[::2]
    assert sorted(names) == [
        b"maxmemory",
        b"maxmemory-clients",
        b"maxmemory-eviction-tenacity",
        b"maxmemory-policy",
        b"maxmemory-samples",
    ]


def test_config_get_everything_and_resp3_map() -> None:
    h = Harness(resp=3)
    everything = h("CONFIG", "GET", "*")
    assert isinstance(everything, dict) and len(everything) > 150
    assert everything[b"databases"] == b"16"
    assert everything[b"hash-max-listpack-entries"] == b"512"
    assert everything[b"client-output-buffer-limit"] == (
        b"normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
    )
    assert h.raw("CONFIG", "GET", "hz") == b"%1\r\n$2\r\nhz\r\n$2\r\n10\r\n"


def test_config_get_arity(h: Harness) -> None:
    assert h.error("CONFIG", "GET") == "ERR wrong number of arguments for 'config|get' command"


# --- CONFIG SET -------------------------------------------------------------------------
def test_config_set_several_at_once(h: Harness) -> None:
    assert h("CONFIG", "SET", "maxmemory", "10mb", "hz", "20") == b"OK"
    assert h("CONFIG", "GET", "maxmemory", "hz") == [b"maxmemory", b"10485760", b"hz", b"20"]
    assert h("CONFIG", "SET", "maxmemory", "1GB") == b"OK"
    assert h("CONFIG", "GET", "maxmemory") == [b"maxmemory", b"1073741824"]


def test_config_set_is_atomic(h: Harness) -> None:
    assert h.error("CONFIG", "SET", "maxmemory", "5", "hz", "x") == FAILED.format(
        "hz", "argument couldn't be parsed into an integer"
    )
    assert h("CONFIG", "GET", "maxmemory", "hz") == [b"maxmemory", b"0", b"hz", b"10"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("maxmemory", "1", "2"), "ERR syntax error"),
        (("hz", "1", "hz"), "ERR syntax error"),
        (("nosuch", "1"), "ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'"),
        (
            ("nosuch", "1", "daemonize", "yes"),
            "ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'",
        ),
        (
            ("daemonize", "yes", "nosuch", "1"),
            FAILED.format("daemonize", "can't set immutable config"),
        ),
        (("DAEMONIZE", "yes"), FAILED.format("DAEMONIZE", "can't set immutable config")),
        (("dir", "/tmp"), FAILED.format("dir", "can't set protected config")),
        (("dbfilename", "x.rdb"), FAILED.format("dbfilename", "can't set protected config")),
        (("hz", "10", "HZ", "11"), FAILED.format("HZ", "duplicate parameter")),
        (("hz", "10", "maxmemory", "1", "hz", "12"), FAILED.format("hz", "duplicate parameter")),
        (("maxmemory", "abc"), FAILED.format("maxmemory", "argument must be a memory value")),
        (("maxmemory", "-1"), FAILED.format("maxmemory", "argument must be a memory value")),
        (("maxmemory", "1.5gb"), FAILED.format("maxmemory", "argument must be a memory value")),
        (("HZ", "x"), FAILED.format("hz", "argument couldn't be parsed into an integer")),
        (("hz", "05"), FAILED.format("hz", "argument couldn't be parsed into an integer")),
        (("hz", "+5"), FAILED.format("hz", "argument couldn't be parsed into an integer")),
        (("hz", " 5"), FAILED.format("hz", "argument couldn't be parsed into an integer")),
        (
            ("hz", "99999999999999999999"),
            FAILED.format("hz", "argument couldn't be parsed into an integer"),
        ),
        (("hz", "-5"), FAILED.format("hz", "argument must be between 0 and 2147483647 inclusive")),
        (
            ("maxclients", "0"),
            FAILED.format("maxclients", "argument must be between 1 and 4294967295 inclusive"),
        ),
        (
            ("list-max-listpack-size", "1k"),
            FAILED.format("list-max-listpack-size", "argument couldn't be parsed into an integer"),
        ),
        (
            ("maxmemory-policy", "foo"),
            FAILED.format(
                "maxmemory-policy",
                "argument(s) must be one of the following: volatile-lru, "
                "volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, "
                "allkeys-random, noeviction",
            ),
        ),
        (
            ("loglevel", "foo"),
            FAILED.format(
                "loglevel",
                "argument(s) must be one of the following: debug, verbose, notice, warning",
            ),
        ),
        (("appendonly", "maybe"), FAILED.format("appendonly", "argument must be 'yes' or 'no'")),
        (
            ("SLAVE-READ-ONLY", "maybe"),
            FAILED.format("slave-read-only", "argument must be 'yes' or 'no'"),
        ),
        (("save", "100 x"), FAILED.format("save", "Invalid save parameters")),
        (
            ("maxmemory-clients", "x%"),
            FAILED.format("maxmemory-clients", "argument must be a memory or percent value"),
        ),
    ],
)
def test_config_set_errors(h: Harness, args: tuple[str, ...], message: str) -> None:
    assert h.error("CONFIG", "SET", *args) == message
    assert h("CONFIG", "GET", "hz", "maxmemory") == [b"hz", b"10", b"maxmemory", b"0"]


def test_config_set_arity(h: Harness) -> None:
    assert h.error("CONFIG", "SET", "hz") == (
        "ERR wrong number of arguments for 'config|set' command"
    )


def test_config_set_alias_and_canonical_are_separate_entries(h: Harness) -> None:
    assert h("CONFIG", "SET", "slave-read-only", "no", "replica-read-only", "yes") == b"OK"
    assert h("CONFIG", "GET", "slave-read-only") == [b"slave-read-only", b"yes"]


def test_config_set_special_values(h: Harness) -> None:
    assert h("CONFIG", "SET", "save", "") == b"OK"
    assert h("CONFIG", "GET", "save") == [b"save", b""]
    assert h("CONFIG", "SET", "save", "100 5 10 1") == b"OK"
    assert h("CONFIG", "GET", "save") == [b"save", b"100 5 10 1"]
    assert h("CONFIG", "SET", "maxmemory-clients", "10%") == b"OK"
    assert h("CONFIG", "GET", "maxmemory-clients") == [b"maxmemory-clients", b"10%"]
    assert h("CONFIG", "SET", "maxmemory-policy", "ALLKEYS-LRU") == b"OK"
    assert h("CONFIG", "GET", "maxmemory-policy") == [b"maxmemory-policy", b"allkeys-lru"]
    assert h("CONFIG", "SET", "appendonly", "YES") == b"OK"
    assert h("CONFIG", "GET", "appendonly") == [b"appendonly", b"yes"]


def test_protected_configs_follow_enable_protected_configs() -> None:
    assert Harness(enable_protected_configs="yes")("CONFIG", "SET", "dir", "/tmp") == b"OK"
    local = Harness(enable_protected_configs="local")
    assert local("CONFIG", "SET", "dbfilename", "x.rdb") == b"OK"
    local.client.is_local = False
    assert local.error("CONFIG", "SET", "dbfilename", "y.rdb") == FAILED.format(
        "dbfilename", "can't set protected config"
    )


# --- CONFIG RESETSTAT / HELP ------------------------------------------------------------
def test_config_resetstat(h: Harness) -> None:
    h.error("NOSUCH")
    h.error("AUTH", "a", "b", "c")
    assert info(h, "errorstats")["Errorstats"] == {"errorstat_ERR": "count=2"}
    assert h("CONFIG", "RESETSTAT") == b"OK"
    sections = info(h, "stats", "errorstats")
    assert sections["Errorstats"] == {}
    assert sections["Stats"]["total_error_replies"] == "0"
    assert sections["Stats"]["total_commands_processed"] == "1"  # this INFO


def test_config_help(h: Harness) -> None:
    assert h.raw("config", "help") == (
        b"*11\r\n+CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n"
        b"+GET <pattern>\r\n"
        b"+    Return parameters matching the glob-like <pattern> and their values.\r\n"
        b"+SET <directive> <value>\r\n+    Set the configuration <directive> to <value>.\r\n"
        b"+RESETSTAT\r\n+    Reset statistics reported by the INFO command.\r\n"
        b"+REWRITE\r\n+    Rewrite the configuration file.\r\n"
        b"+HELP\r\n+    Prints this help.\r\n"
    )
    assert h.error("CONFIG", "FOO") == "ERR unknown subcommand 'FOO'. Try CONFIG HELP."


# --- INFO -------------------------------------------------------------------------------
def test_info_default_sections_and_fields(h: Harness) -> None:
    sections = info(h)
    assert list(sections) == DEFAULT_TITLES
    for title, names in INFO_FIELDS.items():
        assert list(sections[title]) == names.split(), title
    assert list(info(h, "default")) == DEFAULT_TITLES


@pytest.mark.parametrize("word", ["all", "everything", "ALL"])
def test_info_all_adds_per_command_sections(h: Harness, word: str) -> None:
    assert list(info(h, word)) == ALL_TITLES


def test_info_sections_come_in_fixed_order(h: Harness) -> None:
    assert list(info(h, "keyspace", "CLUSTER", "cluster", "server")) == [
        "Server",
        "Cluster",
        "Keyspace",
    ]
    assert list(info(h, "modules", "cpu")) == ["CPU", "Modules"]
    assert h.raw("INFO", "cluster") == b"$30\r\n# Cluster\r\ncluster_enabled:0\r\n\r\n"
    assert h.raw("INFO", "cluster", "modules") == (
        b"$43\r\n# Modules\r\n\r\n# Cluster\r\ncluster_enabled:0\r\n\r\n"
    )


def test_info_unknown_section_is_empty(h: Harness) -> None:
    assert h.raw("INFO", "foo") == b"$0\r\n\r\n"
    assert list(info(h, "foo", "cpu")) == ["CPU"]


def test_info_is_verbatim_in_resp3() -> None:
    assert Harness(resp=3).raw("INFO", "cluster") == (
        b"=34\r\ntxt:# Cluster\r\ncluster_enabled:0\r\n\r\n"
    )


def test_info_server_values(h: Harness) -> None:
    h.advance(90_061_000)  # 1 day, 1 hour, 1 minute, 1 second
    server = info(h, "server")["Server"]
    assert server["redis_version"] == "7.0.15"
    assert server["redis_mode"] == "standalone"
    assert server["run_id"] == h.engine.run_id and re.fullmatch(r"[0-9a-f]{40}", server["run_id"])
    assert server["tcp_port"] == "6379"
    assert server["uptime_in_seconds"] == "90061"
    assert server["uptime_in_days"] == "1"
    assert server["server_time_usec"] == str((START_MS + 90_061_000) * 1000)
    assert server["lru_clock"] == str(((START_MS + 90_061_000) // 1000) & 0xFFFFFF)


def test_info_process_facts_come_from_the_shell(h: Harness) -> None:
    h.engine.process_info.update(
        {
            "os": "Linux 6.1 x86_64",
            "process_id": "42",
            "used_memory_rss": "3145728",
            "used_cpu_user": "1.500000",
        }
    )
    h.engine.memory.rss = 2 * 1024 * 1024  # used_memory while nothing is accounted
    sections = info(h, "server", "memory", "cpu")
    assert sections["Server"]["os"] == "Linux 6.1 x86_64"
    assert sections["Server"]["process_id"] == "42"
    assert sections["Memory"]["used_memory"] == "2097152"
    assert sections["Memory"]["used_memory_human"] == "2.00M"
    assert sections["Memory"]["used_memory_rss_human"] == "3.00M"
    assert sections["CPU"]["used_cpu_user"] == "1.500000"


def test_info_clients_and_stats(h: Harness) -> None:
    other = h.client_harness()
    other.raw("BLPOP", "q", 5)
    h.error("GET")
    stats = info(h, "clients", "stats")
    assert stats["Clients"]["connected_clients"] == "2"
    assert stats["Clients"]["blocked_clients"] == "1"
    assert stats["Clients"]["clients_in_timeout_table"] == "1"
    assert stats["Clients"]["maxclients"] == "10000"
    assert stats["Stats"]["total_connections_received"] == "2"
    assert stats["Stats"]["total_error_replies"] == "1"


def test_info_replication_is_a_lone_master(h: Harness) -> None:
    replication = info(h, "replication")["Replication"]
    assert replication["role"] == "master"
    assert re.fullmatch(r"[0-9a-f]{40}", replication["master_replid"])
    assert replication["master_replid"] == info(h, "replication")["Replication"]["master_replid"]
    assert replication["master_replid2"] == "0" * 40
    assert replication["repl_backlog_size"] == "1048576"


def test_info_errorstats_by_prefix_sorted() -> None:
    h = Harness(requirepass="pw")
    h.error("PING")
    h.error("HELLO", 4)
    h.error("AUTH", "x")
    h.error("NOSUCH")  # unknown commands are refused before the auth check
    h("AUTH", "pw")
    assert info(h, "errorstats")["Errorstats"] == {
        "errorstat_ERR": "count=1",
        "errorstat_NOAUTH": "count=1",
        "errorstat_NOPROTO": "count=1",
        "errorstat_WRONGPASS": "count=1",
    }


def test_info_keyspace_lists_non_empty_databases(h: Harness) -> None:
    assert h.raw("INFO", "keyspace") == b"$12\r\n# Keyspace\r\n\r\n"
    h("SET", "a", "1")
    h("SELECT", 3)
    h("SET", "x", "1")
    h.client.db.set_expire(b"x", START_MS + 10_000)
    h("SET", "y", "1")
    h.client.db.set_expire(b"y", START_MS + 20_000)
    assert info(h, "keyspace")["Keyspace"] == {
        "db0": "keys=1,expires=0,avg_ttl=0",
        "db3": "keys=2,expires=2,avg_ttl=15000",
    }


def test_info_persistence_counts_changes(h: Harness) -> None:
    h("SET", "a", "1")
    h("SET", "a", "2")
    persistence = info(h, "persistence")["Persistence"]
    assert persistence["rdb_changes_since_last_save"] == "2"
    assert persistence["rdb_last_save_time"] == str(START_MS // 1000)
    assert persistence["aof_enabled"] == "0"


def test_bytes_to_human() -> None:
    assert [_info.bytes_to_human(n) for n in (0, 1023, 1024, 1536, 1024**2, 5 * 1024**3)] == [
        "0B",
        "1023B",
        "1.00K",
        "1.50K",
        "1.00M",
        "5.00G",
    ]


# --- TIME / LASTSAVE / SHUTDOWN ---------------------------------------------------------
def test_time_and_lastsave(h: Harness) -> None:
    h.advance(1234)
    assert h.raw("TIME") == b"*2\r\n$10\r\n1700000001\r\n$6\r\n234000\r\n"
    assert h.raw("LASTSAVE") == b":1700000000\r\n"
    assert h.error("TIME", "x") == "ERR wrong number of arguments for 'time' command"


@pytest.mark.parametrize(
    ("args", "save_points", "request_"),
    [
        ((), None, "save"),
        ((), "", "nosave"),
        (("NOSAVE",), None, "nosave"),
        (("save",), "", "save"),
        (("NOSAVE", "NOW", "FORCE"), None, "nosave now force"),
        (("force", "now"), "", "nosave now force"),
    ],
)
def test_shutdown_records_the_request(
    args: tuple[str, ...], save_points: str | None, request_: str
) -> None:
    h = Harness() if save_points is None else Harness(save=save_points)
    assert h.raw("SHUTDOWN", *args) == b""
    assert h.engine.shutdown_requested == request_
    assert h.client.close_after_reply


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("foo",), "ERR syntax error"),
        (("NOSAVE", "SAVE"), "ERR syntax error"),
        (("ABORT", "NOW"), "ERR syntax error"),
        (("ABORT",), "ERR No shutdown in progress."),
    ],
)
def test_shutdown_errors(h: Harness, args: tuple[str, ...], message: str) -> None:
    assert h.error("SHUTDOWN", *args) == message
    assert h.engine.shutdown_requested is None
    assert not h.client.close_after_reply


# --- rename-command --------------------------------------------------------------------------
def renamed_harness(*renames: tuple[str, str]) -> Harness:
    config = parse_command_line(
        [
            f"--{word}" if i % 3 == 0 else word
            for rename in renames
            for i, word in enumerate(("rename-command", *rename))
        ],
        lambda path: "",
    )
    engine = Engine(config, load(), random.Random(1), strict=True)
    engine.set_time(START_MS)
    return Harness(engine)


def test_rename_command_moves_or_removes_a_command() -> None:
    h = renamed_harness(("FLUSHALL", ""), ("CONFIG", "MYCONFIG"), ("get", "Fetch"))
    assert h.error("FLUSHALL") == "ERR unknown command 'FLUSHALL', with args beginning with: "
    assert h.error("CONFIG", "GET", "hz").startswith("ERR unknown command 'CONFIG'")
    assert h("MYCONFIG", "GET", "hz") == [b"hz", b"10"]
    h("SET", "a", "1")
    assert h("fetch", "a") == b"1"
    assert h.error("GET", "a").startswith("ERR unknown command 'GET'")
    # The spec keeps its name (COMMAND INFO, commandstats); ACL rules use original names;
    # scripts call the new one.
    assert h("COMMAND", "INFO", "myconfig")[0][0] == b"config"
    assert b"cmdstat_get:calls=1" in h("INFO", "commandstats")
    assert h("ACL", "SETUSER", "u", "+get") == b"OK"
    assert h.error("ACL", "SETUSER", "u", "+fetch").endswith(
        "Unknown command or category name in ACL"
    )
    assert h("EVAL", "return redis.call('fetch', 'a')", "0") == b"1"
    assert h("COMMAND", "COUNT") == len(h.engine.orig_table) - 1
    assert Harness()("FLUSHALL") == b"OK"  # other engines keep the whole table


def test_rename_command_errors_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="No such command in rename-command"):
        renamed_harness(("nosuch", "x"))
    with pytest.raises(ConfigError, match="Target command name already exists"):
        renamed_harness(("get", "set"))
    with pytest.raises(ConfigError, match="Bad directive"):
        parse_command_line(["--rename-command", "get"], lambda path: "")


def test_include_reads_another_file_where_it_stands() -> None:
    files = {
        "main.conf": "hz 20\ninclude extra.conf\nmaxclients 50\n",
        "extra.conf": "maxclients 40\ntimeout 7\ninclude deeper.conf\n",
        "deeper.conf": 'rename-command FLUSHALL ""\n',
        "loop.conf": "include loop.conf\n",
    }
    config = parse_command_line(["main.conf", "--timeout", "9"], files.__getitem__)
    assert (config.int("hz"), config.int("maxclients"), config.int("timeout")) == (20, 50, 9)
    assert config.renames == [("FLUSHALL", "")]
    with pytest.raises(ConfigError, match="include nesting too deep"):
        parse_command_line(["loop.conf"], files.__getitem__)


def test_dynamic_hz_doubles_with_many_clients() -> None:
    h = Harness()
    for _ in range(2008):
        h.engine.connect()
    assert b"\r\nhz:10\r\nconfigured_hz:10\r\n" in h("INFO", "server")  # 2009 // 10 = 200
    h.engine.connect()  # 2010 clients: 201 per tick
    assert h.engine.effective_hz() == 20
    assert b"\r\nhz:20\r\nconfigured_hz:10\r\n" in h("INFO", "server")
    h("CONFIG", "SET", "dynamic-hz", "no")
    assert h.engine.effective_hz() == 10
    h("CONFIG", "SET", "dynamic-hz", "yes", "hz", "400")
    assert h.engine.effective_hz() == 400
