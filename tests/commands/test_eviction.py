"""maxmemory and its eight policies (node/engine/evict.py): which keys each policy evicts,
the OOM error under noeviction (processCommand's order, MULTI/EXEC), the evicted event and
propagation, and OBJECT FREQ/IDLETIME backed by the access clocks. Memory here is the
engine's accounting with no process baseline (the Harness has no shell), so limits are set
relative to `used()`."""

from __future__ import annotations

import pytest

from node.engine import evict
from node.proto import errors
from tests.support import Harness, make_engine

OOM = errors.OOM
VALUE = "v" * 200


def _filled(policy: str, keys: int = 100, ttl: bool = False, **config: str) -> Harness:
    h = Harness(make_engine(maxmemory_policy=policy, **config))
    for i in range(keys):
        h("SET", f"key:{i}", VALUE, *(("EX", "1000") if ttl else ()))
    return h


def _limit_to_now(h: Harness, slack: int = 0) -> None:
    """maxmemory = what the dataset uses now (plus `slack` bytes)."""
    h("CONFIG", "SET", "maxmemory", "1gb")
    h("CONFIG", "SET", "maxmemory", str(h.engine.memory.used() + slack))


def _survivors(h: Harness, names: list[str]) -> list[str]:
    return [name for name in names if h("EXISTS", name)]


def test_dispatch_takes_the_full_path_only_when_needed() -> None:
    h = Harness()
    assert not h.engine.full_dispatch
    h("CONFIG", "SET", "maxmemory-policy", "allkeys-random")
    assert not h.engine.full_dispatch  # no limit, no clock: nothing to do per command
    h("CONFIG", "SET", "maxmemory-policy", "allkeys-lru")
    assert h.engine.full_dispatch  # the access clock runs even without a limit, as in Redis
    h("CONFIG", "SET", "maxmemory-policy", "noeviction")
    assert not h.engine.full_dispatch
    assert all(not access for access in h.engine.memory.clock.access)


def test_noeviction_refuses_denyoom_commands_only() -> None:
    h = _filled("noeviction", 20)
    _limit_to_now(h)
    h("SET", "one-more", VALUE)  # not over yet: at the limit
    assert h.error("SET", "another", VALUE) == OOM
    assert h.error("LPUSH", "l", "x") == OOM
    assert h("GET", "key:1") == VALUE.encode()  # reads go on
    assert h("DEL", "key:1", "key:2") == 2  # and DEL (not denyoom) frees memory
    assert h("SET", "another", VALUE) == b"OK"
    assert h.engine.memory.evictor.evicted_keys == 0


def test_oom_in_multi_flags_the_transaction_and_exec_of_denyoom_commands() -> None:
    h = _filled("noeviction", 20)
    _limit_to_now(h, 10_000)
    h("MULTI")
    assert h("SET", "a", "1") == b"QUEUED"
    h("SET", "filler", "x" * 20_000)  # from another client: now over the limit
    other = h.client_harness()
    other("SET", "filler2", "x" * 20_000)
    assert h.error("EXEC") == OOM  # EXEC of a denyoom command
    assert h("DISCARD") == b"OK"
    h("MULTI")
    assert h.error("GET", "key:1") == OOM  # anything queued while out of memory
    assert h.error("EXEC").startswith("EXECABORT")


def test_allkeys_lru_keeps_recently_used_keys() -> None:
    h = _filled("allkeys-lru", 200)
    h.advance(10_000)
    recent = [f"key:{i}" for i in range(0, 200, 2)]
    for name in recent:
        h("GET", name)
    h.advance(1000)
    _limit_to_now(h)
    for i in range(60):  # 60 new keys push 60 old ones out
        h("SET", f"new:{i}", VALUE)
    evicted = h.engine.memory.evictor.evicted_keys
    assert evicted >= 55
    untouched = [f"key:{i}" for i in range(1, 200, 2)]
    lost_recent = len(recent) - len(_survivors(h, recent))
    lost_untouched = len(untouched) - len(_survivors(h, untouched))
    assert lost_untouched >= 0.9 * (lost_recent + lost_untouched), (lost_recent, lost_untouched)


def test_allkeys_lfu_keeps_frequently_used_keys() -> None:
    h = _filled("allkeys-lfu", 200)
    hot = [f"key:{i}" for i in range(0, 200, 4)]
    for _ in range(30):
        for name in hot:
            h("GET", name)
    _limit_to_now(h)
    for i in range(100):
        h("SET", f"new:{i}", VALUE)
    assert h.engine.memory.evictor.evicted_keys >= 90
    assert len(_survivors(h, hot)) >= 0.95 * len(hot)


def test_volatile_policies_never_evict_keys_without_ttl() -> None:
    for policy in ("volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"):
        h = _filled(policy, 50)
        for i in range(50):
            h("SET", f"ttl:{i}", VALUE, "EX", str(1000 + i))
        _limit_to_now(h)
        for i in range(30):
            h("SET", f"new:{i}", VALUE)
        assert h.engine.memory.evictor.evicted_keys >= 20, policy
        assert len(_survivors(h, [f"key:{i}" for i in range(50)])) == 50, policy
        # Once no key has a TTL any more, nothing can go: OOM, as under noeviction.
        for i in range(50):
            h("PERSIST", f"ttl:{i}")
        for i in range(30, 200):
            reply = h("SET", f"new:{i}", VALUE)
            if not isinstance(reply, bytes):
                break
        assert str(reply) == OOM, policy


def test_volatile_ttl_evicts_the_nearest_expiry_first() -> None:
    h = Harness(maxmemory_policy="volatile-ttl", maxmemory_samples="10")
    for i in range(100):
        h("SET", f"t:{i}", VALUE, "EX", str(100 + i * 10))  # t:0 expires first
    _limit_to_now(h)
    for i in range(30):
        h("SET", f"new:{i}", VALUE)
    gone = [i for i in range(100) if not h("EXISTS", f"t:{i}")]
    assert len(gone) >= 20
    assert sum(gone) / len(gone) < 35  # mostly the first ones


def test_allkeys_random_evicts_any_key() -> None:
    h = _filled("allkeys-random", 100)
    _limit_to_now(h)
    for i in range(40):
        h("SET", f"new:{i}", VALUE)
    assert h.engine.memory.evictor.evicted_keys >= 35
    assert h("DBSIZE") <= 101


def test_eviction_across_databases() -> None:
    h = _filled("allkeys-lru", 50)
    h("SELECT", "3")
    for i in range(50):
        h("SET", f"db3:{i}", VALUE)
    h.advance(5000)
    h("SELECT", "5")
    _limit_to_now(h)
    for i in range(50):
        h("SET", f"new:{i}", VALUE)
    assert h.engine.memory.evictor.evicted_keys >= 45
    assert h("DBSIZE") == 50  # the fresh keys stayed; the old ones of db 0 and 3 went


def test_evictions_count_notify_and_propagate() -> None:
    h = _filled("allkeys-random", 30, notify_keyspace_events="Ee")
    subscriber = h.client_harness()
    subscriber("SUBSCRIBE", "__keyevent@0__:evicted")
    h.engine.propagating = True
    h.engine.refresh_dispatch()
    _limit_to_now(h)
    h("SET", "new", VALUE)
    h("PING")  # evictions happen before the next command
    evicted = h.engine.memory.evictor.evicted_keys
    assert evicted >= 1
    assert h("INFO", "stats").count(b"evicted_keys:%d\r\n" % evicted) == 1
    messages = subscriber.client.out
    assert sum(b"evicted" in m for m in messages) == evicted
    dels = [argv for _, argv in h.engine.propagated if argv[0] == b"DEL"]
    assert len(dels) == evicted


def test_lazy_eviction_parks_big_values() -> None:
    h = Harness(maxmemory_policy="allkeys-lru", lazyfree_lazy_eviction="yes")
    h("SADD", "big", *[f"m{i}" for i in range(500)])
    h.advance(5000)
    _limit_to_now(h)
    h("SET", "new", "x" * 10_000)
    assert not h("EXISTS", "big")  # the least recently used key
    lazyfree = h.engine.memory.lazyfree
    assert lazyfree.pending_objects == 1
    while lazyfree:
        h.engine.memory.drain(100)
    assert lazyfree.freed_objects == 1 and lazyfree.pending_objects == 0


def test_an_empty_dataset_over_the_limit_fails() -> None:
    h = Harness(maxmemory_policy="allkeys-lru")
    h.engine.memory.baseline = 10_000  # the process itself
    h("CONFIG", "SET", "maxmemory", "5000")
    assert h.error("SET", "k", "v") == OOM
    assert h("GET", "k") is None


def test_no_evictions_while_clients_are_paused() -> None:
    h = _filled("allkeys-random", 30)
    _limit_to_now(h)
    h("CLIENT", "PAUSE", "100000", "WRITE")
    other = h.client_harness()
    other("GET", "key:1")  # a read runs; the check before it must not evict
    assert h.engine.memory.evictor.evicted_keys == 0


def test_eviction_time_limit_leaves_work_for_the_shell() -> None:
    h = _filled("allkeys-random", 400, maxmemory_eviction_tenacity="1")  # 50 us: 10 keys
    _limit_to_now(h)
    h("CONFIG", "SET", "maxmemory", str(h.engine.memory.used() // 2))
    h("GET", "key:1")
    evictor = h.engine.memory.evictor
    assert evictor.running and 0 < evictor.evicted_keys < 200
    while evictor.running:
        h.engine.memory.drain(100)
    assert h.engine.memory.excess() <= 0


def test_time_limit_follows_tenacity() -> None:
    assert evict.eviction_time_limit_us(0) == 0
    assert evict.eviction_time_limit_us(10) == 500
    assert evict.eviction_time_limit_us(11) == pytest.approx(575)
    assert evict.eviction_time_limit_us(100) == float("inf")


# --- OBJECT FREQ / IDLETIME ---------------------------------------------------------------
def test_object_freq_follows_lfu() -> None:
    h = Harness(maxmemory_policy="allkeys-lfu")
    h("SET", "k", "v")
    assert h("OBJECT", "FREQ", "k") == 5  # LFU_INIT_VAL
    h("GET", "k")
    assert h("OBJECT", "FREQ", "k") == 6  # from 5, the first increment is certain
    for _ in range(200):
        h("GET", "k")
    hot = h("OBJECT", "FREQ", "k")
    assert 7 <= hot <= 12  # logarithmic: lfu-log-factor 10
    h.advance(3 * 60_000)  # lfu-decay-time 1: one step per idle minute
    assert h("OBJECT", "FREQ", "k") == hot - 3
    h("SET", "k", "w")  # an overwrite keeps (and bumps) the counter
    assert h("OBJECT", "FREQ", "k") >= hot - 3
    h("DEL", "k")
    h("SET", "k", "v")
    assert h("OBJECT", "FREQ", "k") == 5
    assert h.error("OBJECT", "IDLETIME", "k").startswith("ERR An LFU maxmemory policy is")
    assert h("OBJECT", "FREQ", "nokey") is None


def test_lfu_log_factor_zero_counts_every_access() -> None:
    h = Harness(maxmemory_policy="volatile-lfu", lfu_log_factor="0")
    h("SET", "k", "v")
    for _ in range(20):
        h("GET", "k")
    assert h("OBJECT", "FREQ", "k") == 25


def test_object_idletime_follows_lru() -> None:
    h = Harness(maxmemory_policy="allkeys-lru")
    h("SET", "k", "v")
    h.advance(5000)
    assert h("OBJECT", "IDLETIME", "k") == 5
    for command in (
        ("TTL", "k"),
        ("TYPE", "k"),
        ("EXISTS", "k"),
        ("OBJECT", "ENCODING", "k"),
        ("MEMORY", "USAGE", "k"),
    ):
        h(*command)
    assert h("OBJECT", "IDLETIME", "k") == 5  # lookups that do not touch
    h("TOUCH", "k")
    assert h("OBJECT", "IDLETIME", "k") == 0
    h.advance(3000)
    h("RENAME", "k", "k2")
    assert h("OBJECT", "IDLETIME", "k2") == 0  # RENAME looked it up
    h.advance(2000)
    h("CLIENT", "NO-TOUCH", "ON")
    h("GET", "k2")
    assert h("OBJECT", "IDLETIME", "k2") == 2
    h("TOUCH", "k2")  # TOUCH touches even then
    assert h("OBJECT", "IDLETIME", "k2") == 0
    assert h.error("OBJECT", "FREQ", "k2").startswith("ERR An LFU maxmemory policy is not")


@pytest.mark.parametrize(
    "policy", ["noeviction", "volatile-ttl", "volatile-random", "allkeys-random"]
)
def test_object_idletime_under_other_policies_while_maxmemory_is_set(policy: str) -> None:
    # Redis keeps the LRU clock under every policy but LFU; slotd while a limit is set.
    h = Harness(maxmemory_policy=policy, maxmemory="1gb")
    h("SET", "k", "v")
    h.advance(4000)
    assert h("OBJECT", "IDLETIME", "k") == 4
    assert h("OBJECT", "IDLETIME", "k") == 4  # asking does not touch
    h("TOUCH", "k")
    assert h("OBJECT", "IDLETIME", "k") == 0
    h.advance(2000)
    h("GET", "k")
    assert h("OBJECT", "IDLETIME", "k") == 0
    h("CONFIG", "SET", "maxmemory", "0")  # the clock stops with the limit
    h.advance(3000)
    assert h("OBJECT", "IDLETIME", "k") == 0


def test_keys_from_before_tracking_count_from_its_start() -> None:
    h = Harness()
    h("SET", "old", "v")
    h.advance(60_000)
    assert h("OBJECT", "IDLETIME", "old") == 0  # no clock under noeviction
    h("CONFIG", "SET", "maxmemory-policy", "allkeys-lru")
    h.advance(4000)
    assert h("OBJECT", "IDLETIME", "old") == 4
    h("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu")
    assert h("OBJECT", "FREQ", "old") == 5


def test_access_entries_follow_keys() -> None:
    h = Harness(maxmemory_policy="allkeys-lru")
    access = h.engine.memory.clock.access
    for i in range(10):
        h("SET", f"k{i}", "v")
    h("DEL", "k0")
    h("SET", "k1", "v", "PX", "1")
    h.advance(5)
    h("GET", "k1")  # expires it
    h("MOVE", "k2", "1")
    assert set(access[0]) == {b"k%d" % i for i in range(3, 10)}
    h("SWAPDB", "0", "1")
    assert set(access[1]) == {b"k%d" % i for i in range(3, 10)}
    h("FLUSHALL")
    assert not any(access)


# --- the volatile policies' choice among keys with a TTL -----------------------------------
def test_volatile_lru_keeps_recently_used_keys_with_a_ttl() -> None:
    h = Harness(maxmemory_policy="volatile-lru")
    for i in range(50):
        h("SET", f"plain:{i}", VALUE)
    for i in range(200):
        h("SET", f"ttl:{i}", VALUE, "EX", "10000")
    h.advance(10_000)
    recent = [f"ttl:{i}" for i in range(0, 200, 2)]
    for name in recent:
        h("GET", name)
    h.advance(1000)
    _limit_to_now(h)
    for i in range(60):
        h("SET", f"new:{i}", VALUE)
    assert h.engine.memory.evictor.evicted_keys >= 40  # a key with a TTL costs more
    assert len(_survivors(h, [f"plain:{i}" for i in range(50)])) == 50
    untouched = [f"ttl:{i}" for i in range(1, 200, 2)]
    lost_recent = len(recent) - len(_survivors(h, recent))
    lost_untouched = len(untouched) - len(_survivors(h, untouched))
    assert lost_untouched >= 0.9 * (lost_recent + lost_untouched), (lost_recent, lost_untouched)


def test_volatile_lfu_keeps_frequently_used_keys_with_a_ttl() -> None:
    h = Harness(maxmemory_policy="volatile-lfu")
    for i in range(50):
        h("SET", f"plain:{i}", VALUE)  # never touched: the least used, but without a TTL
    for i in range(200):
        h("SET", f"ttl:{i}", VALUE, "EX", "10000")
    hot = [f"ttl:{i}" for i in range(0, 200, 4)]
    for _ in range(30):
        for name in hot:
            h("GET", name)
    _limit_to_now(h)
    for i in range(100):
        h("SET", f"new:{i}", VALUE)
    assert h.engine.memory.evictor.evicted_keys >= 70  # a key with a TTL costs more
    assert len(_survivors(h, [f"plain:{i}" for i in range(50)])) == 50
    assert len(_survivors(h, hot)) >= 0.95 * len(hot)


def test_volatile_random_evicts_keys_with_a_ttl_only() -> None:
    h = Harness(maxmemory_policy="volatile-random")
    for i in range(50):
        h("SET", f"plain:{i}", VALUE)
        h("SET", f"ttl:{i}", VALUE, "PX", "10000000")
    _limit_to_now(h)
    for i in range(20):
        h("SET", f"new:{i}", VALUE)
    h("PING")  # the evictions the last SET calls for happen before the next command
    evicted = h.engine.memory.evictor.evicted_keys
    assert evicted >= 12  # a key with a TTL costs more than a new one without
    assert len(_survivors(h, [f"ttl:{i}" for i in range(50)])) == 50 - evicted
    assert len(_survivors(h, [f"plain:{i}" for i in range(50)])) == 50


def test_more_samples_approximate_lru_more_closely() -> None:
    """Keys written one second apart; the evicted ones are among the oldest, the more so
    the more keys each eviction samples (as Redis's maxmemory-samples)."""

    def mean_age_rank(samples: str) -> float:
        h = Harness(maxmemory_policy="allkeys-lru", maxmemory_samples=samples)
        for i in range(300):
            h("SET", f"k:{i}", VALUE)
            h.advance(1000)
        _limit_to_now(h)
        for i in range(50):
            h("SET", f"new:{i}", VALUE)
        gone = [i for i in range(300) if not h("EXISTS", f"k:{i}")]
        assert len(gone) >= 45
        return sum(gone) / len(gone)

    loose, tight = mean_age_rank("1"), mean_age_rank("10")
    assert tight < 60  # an exact LRU would give 25 (keys 0-49)
    assert tight < loose


# --- when evictions do not run ---------------------------------------------------------------
def test_no_evictions_during_pause_all_and_they_resume_after_it() -> None:
    h = _filled("allkeys-random", 30)
    _limit_to_now(h)
    h("CLIENT", "PAUSE", "1000", "ALL")
    assert not h.engine.memory.may_evict()
    h.engine.memory.evictor.running = True  # as CONFIG SET maxmemory leaves it
    h.engine.memory.drain(100)
    assert not h.engine.memory.evictor.running  # the shell stops instead of spinning
    assert h.engine.memory.evictor.evicted_keys == 0
    h.advance(1001)
    assert h.engine.memory.may_evict()  # the pause is over, even before anything ended it
    h.engine.expire_blocked()  # the shell ends it
    h("SET", "new", VALUE * 10)
    h("PING")
    assert h.engine.memory.evictor.evicted_keys >= 1
    assert h.engine.memory.excess() <= 0


def test_a_replica_ignores_maxmemory_by_default() -> None:
    h = _filled("allkeys-random", 30)
    h("REPLICAOF", "127.0.0.1", "1")
    _limit_to_now(h)
    h("CONFIG", "SET", "maxmemory", str(h.engine.memory.used() // 2))
    assert h("GET", "key:1") == VALUE.encode()  # no OOM, no eviction before it
    h.engine.execute_obeyed(h.client, [b"SET", b"from-master", VALUE.encode()])
    h.engine.memory.drain(100)
    assert h.engine.memory.evictor.evicted_keys == 0
    assert h("DBSIZE") == 31


def test_a_replica_told_not_to_ignore_maxmemory_evicts_on_its_masters_writes() -> None:
    h = _filled("allkeys-random", 30, replica_ignore_maxmemory="no")
    h("REPLICAOF", "127.0.0.1", "1")
    _limit_to_now(h)
    h.client.out.clear()
    h.engine.execute_obeyed(h.client, [b"SET", b"from-master", (VALUE * 5).encode()])
    h.engine.execute_obeyed(h.client, [b"SET", b"again", VALUE.encode()])
    assert h.engine.memory.evictor.evicted_keys >= 1
    assert h("EXISTS", "again") == 1  # evicted for, never refused


def test_noeviction_over_the_limit_leaves_the_shell_nothing_to_do() -> None:
    h = _filled("noeviction", 20)
    _limit_to_now(h)
    h("CONFIG", "SET", "maxmemory", "100")
    assert h.engine.memory.evictor.running  # CONFIG SET asks the shell to evict
    h.engine.memory.drain(100)
    assert not h.engine.memory.evictor.running
    assert h.error("SET", "x", "y") == OOM


def test_config_set_maxmemory_below_usage_evicts_without_a_command() -> None:
    h = _filled("allkeys-random", 50)
    _limit_to_now(h)
    h("CONFIG", "SET", "maxmemory", str(h.engine.memory.used() // 2))
    memory = h.engine.memory
    while memory.evictor.running:
        memory.drain(100)  # the shell, between event-loop turns
    assert memory.evictor.evicted_keys >= 20
    assert memory.excess() <= 0


# --- INFO ------------------------------------------------------------------------------------
def _info(h: Harness, section: str) -> dict[str, str]:
    text = h("INFO", section).decode()
    return dict(line.split(":", 1) for line in text.split("\r\n") if ":" in line)


def test_info_reports_the_limit_and_the_time_spent_over_it() -> None:
    h = _filled("noeviction", 20)
    now_ns = [5_000_000_000]
    h.engine.clock_ns = lambda: now_ns[0]
    h("CONFIG", "SET", "maxmemory", "3mb")
    memory = _info(h, "memory")
    assert (memory["maxmemory"], memory["maxmemory_human"]) == ("3145728", "3.00M")
    assert memory["maxmemory_policy"] == "noeviction"
    _limit_to_now(h)
    stats = _info(h, "stats")
    assert (stats["total_eviction_exceeded_time"], stats["current_eviction_exceeded_time"]) == (
        "0",
        "0",
    )
    h("SET", "over", VALUE)
    assert h.error("SET", "refused", VALUE) == OOM  # from here on over the limit
    now_ns[0] += 250_000_000
    stats = _info(h, "stats")
    assert (stats["total_eviction_exceeded_time"], stats["current_eviction_exceeded_time"]) == (
        "250",
        "250",
    )
    h("DEL", "over")  # the next check finds memory under the limit again
    now_ns[0] += 100_000_000
    h("PING")
    now_ns[0] += 1_000_000_000
    stats = _info(h, "stats")
    assert (stats["total_eviction_exceeded_time"], stats["current_eviction_exceeded_time"]) == (
        "350",
        "0",
    )


def test_config_resetstat_resets_eviction_and_lazyfree_counters() -> None:
    h = _filled("allkeys-random", 30)
    h("SADD", "big", *[f"m{i}" for i in range(500)])
    h("UNLINK", "big")
    while h.engine.memory.lazyfree:
        h.engine.memory.drain(100)
    _limit_to_now(h)
    h("CONFIG", "SET", "maxmemory", str(h.engine.memory.used() - 2000))
    h("PING")
    assert int(_info(h, "stats")["evicted_keys"]) > 0
    assert _info(h, "memory")["lazyfreed_objects"] == "1"
    assert h("CONFIG", "RESETSTAT") == b"OK"
    assert _info(h, "stats")["evicted_keys"] == "0"
    assert _info(h, "memory")["lazyfreed_objects"] == "0"
