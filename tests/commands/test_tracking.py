"""Client-side caching through the engine: CLIENT TRACKING/CACHING/GETREDIR/TRACKINGINFO,
the tracking table, invalidation pushes (RESP3) and redirected `__redis__:invalidate`
messages (RESP2), BCAST prefixes, OPTIN/OPTOUT, NOLOOP, flushes, broken redirections and
the table's size limit. Every byte sequence here was checked on redis-server 7.0.15."""

from __future__ import annotations

import pytest

from tests.support import Harness


def inv(*keys: str) -> bytes:
    """A RESP3 invalidation push for `keys`."""
    body = b"".join(b"$%d\r\n%s\r\n" % (len(k), k.encode()) for k in keys)
    return b">2\r\n$10\r\ninvalidate\r\n*%d\r\n" % len(keys) + body


def msg(*keys: str) -> bytes:
    """The same invalidation as a RESP2 `message` on __redis__:invalidate."""
    body = b"".join(b"$%d\r\n%s\r\n" % (len(k), k.encode()) for k in keys)
    return b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*%d\r\n" % len(keys) + body


FLUSH3 = b">2\r\n$10\r\ninvalidate\r\n_\r\n"


@pytest.fixture
def h() -> Harness:
    return Harness(resp=3)


def test_invalidation_push_after_a_write_by_anyone(h: Harness) -> None:
    other = h.client_harness()
    assert h.raw("CLIENT", "TRACKING", "ON") == b"+OK\r\n"
    assert h.raw("GET", "k") == b"_\r\n"
    # The client's own write: the push follows the reply.
    assert h.raw("SET", "k", "v") == b"+OK\r\n" + inv("k")
    assert h.raw("GET", "k") == b"$1\r\nv\r\n"
    assert other.raw("SET", "k", "w") == b"+OK\r\n"
    assert h.pending() == inv("k")
    assert h.client in h.engine.woken
    # Invalidated keys leave the table: the next write says nothing until read again.
    other.raw("SET", "k", "x")
    assert h.pending() == b""
    h.raw("MGET", "k", "k2")
    other.raw("MSET", "k", "1", "k2", "2")
    assert h.pending() == inv("k") + inv("k2")


def test_keys_are_global_across_databases(h: Harness) -> None:
    other = h.client_harness()
    h.raw("CLIENT", "TRACKING", "ON")
    h.raw("GET", "k")
    other.raw("SELECT", "3")
    other.raw("SET", "k", "v")
    assert h.pending() == inv("k")


def test_a_failed_read_still_tracks_its_key(h: Harness) -> None:
    other = h.client_harness()
    h.raw("HSET", "h", "f", "v")
    h.raw("CLIENT", "TRACKING", "ON")
    assert h.raw("GET", "h").startswith(b"-WRONGTYPE")
    other.raw("HSET", "h", "f", "w")
    assert h.pending() == inv("h")


def test_only_readonly_commands_track(h: Harness) -> None:
    other = h.client_harness()
    h.raw("CLIENT", "TRACKING", "ON")
    h.raw("INCR", "n")
    h.raw("EXISTS", "e")
    other.raw("MSET", "n", "1", "e", "1")
    assert h.pending() == inv("e")


def test_flush_sends_a_null_to_every_tracking_client(h: Harness) -> None:
    other, bcast = h.client_harness(), h.client_harness(resp=3)
    h.raw("CLIENT", "TRACKING", "ON")
    bcast.raw("CLIENT", "TRACKING", "ON", "BCAST")
    h.raw("GET", "k")
    assert h.raw("FLUSHDB") == b"+OK\r\n" + FLUSH3
    assert bcast.pending() == FLUSH3
    assert h.engine.tracking.table == {}
    other.raw("FLUSHALL")
    assert h.pending() == FLUSH3
    assert bcast.pending() == FLUSH3


def test_trackinginfo_and_getredir(h: Harness) -> None:
    assert h.raw("CLIENT", "TRACKINGINFO") == (
        b"%3\r\n$5\r\nflags\r\n~1\r\n$3\r\noff\r\n$8\r\nredirect\r\n:-1\r\n$8\r\nprefixes\r\n*0\r\n"
    )
    assert h.raw("CLIENT", "GETREDIR") == b":-1\r\n"
    h.raw("CLIENT", "TRACKING", "ON")
    assert h.raw("CLIENT", "TRACKINGINFO") == (
        b"%3\r\n$5\r\nflags\r\n~1\r\n$2\r\non\r\n$8\r\nredirect\r\n:0\r\n$8\r\nprefixes\r\n*0\r\n"
    )
    assert h.raw("CLIENT", "GETREDIR") == b":0\r\n"
    h.raw("CLIENT", "TRACKING", "OFF")
    h.raw("CLIENT", "TRACKING", "ON", "BCAST")
    assert h.raw("CLIENT", "TRACKINGINFO") == (
        b"%3\r\n$5\r\nflags\r\n~2\r\n$2\r\non\r\n$5\r\nbcast\r\n$8\r\nredirect\r\n:0\r\n"
        b"$8\r\nprefixes\r\n*1\r\n$0\r\n\r\n"
    )


def test_trackinginfo_resp2_and_flag_names() -> None:
    h = Harness()
    target = h.client_harness()
    h.raw("CLIENT", "TRACKING", "ON", "REDIRECT", str(target.client.id), "OPTOUT", "NOLOOP")
    h.raw("CLIENT", "CACHING", "NO")
    assert h.raw("CLIENT", "TRACKINGINFO") == (
        b"*6\r\n$5\r\nflags\r\n*4\r\n$2\r\non\r\n$6\r\noptout\r\n$10\r\ncaching-no\r\n"
        b"$6\r\nnoloop\r\n$8\r\nredirect\r\n:%d\r\n$8\r\nprefixes\r\n*0\r\n" % target.client.id
    )
    assert h.raw("CLIENT", "GETREDIR") == b":%d\r\n" % target.client.id
    h.raw("CLIENT", "TRACKING", "OFF")
    h.raw("CLIENT", "TRACKING", "ON", "OPTIN")
    h.raw("CLIENT", "CACHING", "YES")
    assert h("CLIENT", "TRACKINGINFO")[1] == [b"on", b"optin", b"caching-yes"]


def test_tracking_errors(h: Harness) -> None:
    other = h.client_harness()
    assert h.error("CLIENT", "TRACKING") == (
        "ERR wrong number of arguments for 'client|tracking' command"
    )
    assert h.error("CLIENT", "TRACKING", "maybe") == "ERR syntax error"
    assert h.error("CLIENT", "TRACKING", "ON", "foo") == "ERR syntax error"
    assert h.error("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX") == "ERR syntax error"
    assert h.error("CLIENT", "TRACKING", "ON", "REDIRECT") == "ERR syntax error"
    assert h.error("CLIENT", "TRACKING", "ON", "REDIRECT", "abc") == (
        "ERR value is not an integer or out of range"
    )
    assert h.error("CLIENT", "TRACKING", "ON", "REDIRECT", "0") == (
        "ERR The client ID you want redirect to does not exist"
    )
    # Options are checked before ON/OFF: a bad target fails OFF too.
    assert h.error("CLIENT", "TRACKING", "OFF", "REDIRECT", "99999") == (
        "ERR The client ID you want redirect to does not exist"
    )
    oid = str(other.client.id)
    assert h.error("CLIENT", "TRACKING", "ON", "REDIRECT", oid, "REDIRECT", oid) == (
        "ERR A client can only redirect to a single other client"
    )
    assert h.error("CLIENT", "TRACKING", "ON", "PREFIX", "x") == (
        "ERR PREFIX option requires BCAST mode to be enabled"
    )
    assert h.error("CLIENT", "TRACKING", "ON", "BCAST", "OPTIN") == (
        "ERR OPTIN and OPTOUT are not compatible with BCAST"
    )
    assert h.error("CLIENT", "TRACKING", "ON", "OPTIN", "OPTOUT") == (
        "ERR You can't specify both OPTIN mode and OPTOUT mode"
    )
    h.raw("CLIENT", "TRACKING", "ON", "OPTIN")
    assert h.error("CLIENT", "TRACKING", "ON", "OPTOUT") == (
        "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, "
        "and then re-enabling it with a different mode."
    )
    assert h.error("CLIENT", "TRACKING", "ON", "BCAST") == (
        "ERR You can't switch BCAST mode on/off before disabling tracking for this client, "
        "and then re-enabling it with a different mode."
    )
    assert h.raw("CLIENT", "TRACKING", "ON", "OPTIN") == b"+OK\r\n"  # same mode again: fine


def test_caching_errors(h: Harness) -> None:
    assert h.error("CLIENT", "CACHING", "YES") == (
        "ERR CLIENT CACHING can be called only when the client is in tracking mode with "
        "OPTIN or OPTOUT mode enabled"
    )
    assert h.error("CLIENT", "CACHING") == (
        "ERR wrong number of arguments for 'client|caching' command"
    )
    h.raw("CLIENT", "TRACKING", "ON")
    assert h.error("CLIENT", "CACHING", "YES") == (
        "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode."
    )
    assert h.error("CLIENT", "CACHING", "NO") == (
        "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode."
    )
    assert h.error("CLIENT", "CACHING", "maybe") == "ERR syntax error"


def test_prefix_collisions(h: Harness) -> None:
    assert h.error("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "bc", "PREFIX", "b") == (
        "ERR Prefix 'bc' overlaps with another provided prefix 'b'. Prefixes for a single "
        "client must not overlap."
    )
    assert h.client.tracking == 0
    # Redis 7.0 reports a collision found from the second prefix on, then enables
    # tracking anyway and adds +OK: two replies.
    assert h.raw(
        "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "a", "PREFIX", "b", "PREFIX", "bc"
    ) == (
        b"-ERR Prefix 'b' overlaps with another provided prefix 'bc'. Prefixes for a single "
        b"client must not overlap.\r\n+OK\r\n"
    )
    assert h("CLIENT", "TRACKINGINFO")[b"prefixes"] == [b"a", b"b", b"bc"]
    h.raw("CLIENT", "TRACKING", "OFF")
    h.raw("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "x")
    assert h.error("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "xy") == (
        "ERR Prefix 'xy' overlaps with an existing prefix 'x'. Prefixes for a single client "
        "must not overlap."
    )
    h.raw("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "y")
    assert h("CLIENT", "TRACKINGINFO")[b"prefixes"] == [b"x", b"y"]


def test_optin_tracks_only_after_caching_yes(h: Harness) -> None:
    other = h.client_harness()
    h.raw("CLIENT", "TRACKING", "ON", "OPTIN")
    h.raw("GET", "k1")
    h.raw("CLIENT", "CACHING", "YES")
    h.raw("GET", "k2")
    h.raw("GET", "k3")  # CACHING lasted one command
    other.raw("MSET", "k1", "1", "k2", "2", "k3", "3")
    assert h.pending() == inv("k2")
    # A CLIENT command in between keeps the flag.
    h.raw("CLIENT", "CACHING", "YES")
    h.raw("CLIENT", "ID")
    h.raw("GET", "k1")
    other.raw("SET", "k1", "x")
    assert h.pending() == inv("k1")


def test_caching_lasts_for_a_whole_transaction(h: Harness) -> None:
    other = h.client_harness()
    h.raw("CLIENT", "TRACKING", "ON", "OPTIN")
    h.raw("CLIENT", "CACHING", "YES")
    h.raw("MULTI")
    h.raw("GET", "m1")
    h.raw("GET", "m2")
    assert h.raw("EXEC") == b"*2\r\n_\r\n_\r\n"
    h.raw("GET", "m3")
    other.raw("MSET", "m1", "1", "m2", "2", "m3", "3")
    assert h.pending() == inv("m1") + inv("m2")
    # CLIENT CACHING queued inside the transaction covers the commands after it.
    h.raw("MULTI")
    h.raw("CLIENT", "CACHING", "YES")
    h.raw("GET", "m1")
    assert h.raw("EXEC") == b"*2\r\n+OK\r\n$1\r\n1\r\n"
    h.raw("GET", "m2")
    other.raw("MSET", "m1", "1", "m2", "2")
    assert h.pending() == inv("m1")


def test_own_write_in_a_transaction_follows_exec(h: Harness) -> None:
    h.raw("CLIENT", "TRACKING", "ON")
    h.raw("MULTI")
    h.raw("GET", "t1")
    h.raw("SET", "t1", "x")
    assert h.raw("EXEC") == b"*2\r\n_\r\n+OK\r\n" + inv("t1")


def test_optout_and_noloop(h: Harness) -> None:
    other = h.client_harness()
    h.raw("CLIENT", "TRACKING", "ON", "OPTOUT", "NOLOOP")
    h.raw("GET", "k3")
    h.raw("CLIENT", "CACHING", "NO")
    h.raw("GET", "k4")
    other.raw("MSET", "k3", "1", "k4", "1")
    assert h.pending() == inv("k3")
    h.raw("GET", "k3")
    assert h.raw("SET", "k3", "mine") == b"+OK\r\n"  # NOLOOP: its own writes are silent
    other.raw("SET", "k3", "again")
    assert h.pending() == b""  # ... and the key left the table all the same


def test_reset_and_disconnect_turn_tracking_off(h: Harness) -> None:
    other = h.client_harness()
    h.raw("CLIENT", "TRACKING", "ON")
    h.raw("GET", "t1")
    assert h.raw("RESET") == b"+RESET\r\n"
    assert h.client.tracking == 0 and h.engine.tracking.clients == 0
    other.raw("SET", "t1", "y")
    assert h.pending() == b""
    h.raw("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "p")
    h.engine.disconnect(h.client)
    assert h.engine.tracking.prefixes == {} and h.engine.tracking.clients == 0


def test_bcast_prefixes_and_noloop(h: Harness) -> None:
    writer, everything = h.client_harness(), h.client_harness(resp=3)
    h.raw("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "user:", "PREFIX", "obj", "NOLOOP")
    everything.raw("CLIENT", "TRACKING", "ON", "BCAST")
    writer.raw("MSET", "user:2", "a", "user:1", "b", "other", "x", "objx", "y")
    assert h.pending() == b""  # collected until the event loop's turn ends
    h.engine.before_sleep()
    # One message per prefix, prefixes and keys in byte order.
    assert h.pending() == inv("objx") + inv("user:1", "user:2")
    assert everything.pending() == inv("objx", "other", "user:1", "user:2")
    assert h.raw("SET", "user:3", "mine") == b"+OK\r\n"
    h.raw("MSET", "obj1", "1", "user:4", "2")
    writer.raw("SET", "user:5", "theirs")
    h.engine.before_sleep()
    assert h.pending() == inv("user:5")  # its own changes are left out (NOLOOP)
    assert everything.pending() == inv("obj1", "user:3", "user:4", "user:5")
    h.engine.before_sleep()
    assert h.pending() == everything.pending() == b""


def test_resp2_redirect_to_a_subscribed_client() -> None:
    h = Harness()
    sub = h.client_harness()
    sub.raw("SUBSCRIBE", "__redis__:invalidate")
    h.raw("CLIENT", "TRACKING", "ON", "REDIRECT", str(sub.client.id))
    h.raw("GET", "k")
    assert h.raw("SET", "k", "1") == b"+OK\r\n"
    assert sub.pending() == msg("k")
    # After a flush the key array is a null in the TRACKING client's protocol.
    h.raw("FLUSHDB")
    assert sub.pending() == b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n$-1\r\n"
    resp3 = h.client_harness(resp=3)
    resp3.raw("CLIENT", "TRACKING", "ON", "REDIRECT", str(sub.client.id))
    h.raw("FLUSHDB")
    # resp3's message goes at once; the flushing client's own is sent after its reply.
    assert sub.pending() == (
        b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n_\r\n"
        b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n$-1\r\n"
    )


def test_resp2_without_redirect_gets_nothing() -> None:
    h = Harness()
    other = h.client_harness()
    h.raw("CLIENT", "TRACKING", "ON")
    h.raw("GET", "k")
    assert h.raw("SET", "k", "1") == b"+OK\r\n"
    other.raw("SET", "k", "2")
    assert h.pending() == b""


def test_redirect_to_an_unsubscribed_resp2_client_sends_nothing(h: Harness) -> None:
    target = h.client_harness()
    h.raw("CLIENT", "TRACKING", "ON", "REDIRECT", str(target.client.id))
    h.raw("GET", "k")
    assert h.raw("SET", "k", "1") == b"+OK\r\n"
    assert target.pending() == b""


def test_redirect_to_resp3_client_gets_a_push() -> None:
    h = Harness()
    target = h.client_harness(resp=3)
    h.raw("CLIENT", "TRACKING", "ON", "REDIRECT", str(target.client.id))
    h.raw("GET", "k")
    h.raw("SET", "k", "1")
    assert target.pending() == inv("k")
    h.raw("FLUSHALL")
    assert target.pending() == b">2\r\n$10\r\ninvalidate\r\n$-1\r\n"


def test_broken_redirect(h: Harness) -> None:
    writer, target = h.client_harness(), h.client_harness()
    tid = target.client.id
    h.raw("CLIENT", "TRACKING", "ON", "REDIRECT", str(tid))
    h.raw("GET", "k")
    h.engine.disconnect(target.client)
    writer.raw("SET", "k", "1")
    assert h.pending() == b">2\r\n$21\r\ntracking-redir-broken\r\n:%d\r\n" % tid
    assert h("CLIENT", "TRACKINGINFO")[b"flags"] == [b"on", b"broken_redirect"]
    assert b" flags=tR " in h.raw("CLIENT", "INFO")
    h.raw("GET", "k")
    writer.raw("SET", "k", "2")
    assert h.pending() == b">2\r\n$21\r\ntracking-redir-broken\r\n:%d\r\n" % tid


def test_client_list_flags_and_redir(h: Harness) -> None:
    target = h.client_harness()
    h.raw("CLIENT", "TRACKING", "ON", "BCAST")
    assert b" flags=tB " in h.raw("CLIENT", "INFO")
    assert b" redir=0 " in h.raw("CLIENT", "INFO")
    h.raw("CLIENT", "TRACKING", "OFF")
    h.raw("CLIENT", "TRACKING", "ON", "REDIRECT", str(target.client.id))
    info = h.raw("CLIENT", "INFO")
    assert b" flags=t " in info and b" redir=%d " % target.client.id in info
    assert b" redir=-1 " in target.raw("CLIENT", "INFO")


def test_lazy_expiry_invalidates(h: Harness) -> None:
    h.raw("CLIENT", "TRACKING", "ON")
    h.raw("SET", "e", "v", "PX", "100")
    h.raw("GET", "e")
    h.advance(200)
    # The read expires the key: the invalidation follows the reply.
    assert h.raw("GET", "e") == b"_\r\n" + inv("e")


def test_active_expiry_invalidates_at_once(h: Harness) -> None:
    h.raw("CLIENT", "TRACKING", "ON")
    h.raw("SET", "e", "v", "PX", "100")
    h.raw("GET", "e")
    h.advance(200)
    h.engine.keyspace.active_expire_cycle()
    assert h.pending() == inv("e")


def test_table_limit_evicts_and_invalidates(h: Harness) -> None:
    h.raw("CONFIG", "SET", "tracking-table-max-keys", "2")
    h.raw("CLIENT", "TRACKING", "ON")
    assert h.raw("MGET", "k1", "k2", "k3") == b"*3\r\n_\r\n_\r\n_\r\n" + inv("k1")
    assert len(h.engine.tracking.table) == 2
    assert h.raw("GET", "k4") == b"_\r\n" + inv("k2")
    assert set(h.engine.tracking.table) == {b"k3", b"k4"}
    # Lowering the limit evicts at once (the invalidation follows this command's reply).
    assert h.raw("CONFIG", "SET", "tracking-table-max-keys", "1") == b"+OK\r\n" + inv("k3")


def test_info_counters(h: Harness) -> None:
    other = h.client_harness(resp=3)
    h.raw("CLIENT", "TRACKING", "ON")
    other.raw("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "a", "PREFIX", "b")
    h.raw("MGET", "x", "y")
    other.raw("GET", "x")  # BCAST clients remember nothing
    info = h("INFO", "all").decode()
    assert "tracking_clients:2" in info
    assert "tracking_total_keys:2" in info and "tracking_total_items:2" in info
    assert "tracking_total_prefixes:2" in info


def test_reads_in_scripts_track_the_script_keys(h: Harness) -> None:
    """Redis 7.0 remembers, for a read a script runs, the keys the script command declares
    (its KEYS), not the ones the read named; a read-only script without reads tracks
    nothing."""
    other = h.client_harness()
    h.raw("CLIENT", "TRACKING", "ON")
    h.raw("EVAL_RO", "return 1", "1", "x")
    h.raw("EVAL", "return redis.call('get', 'zz')", "1", "k7")
    h.raw(
        "EVAL", "redis.call('get', 'zz') redis.call('mget', 'yy', 'ww') return 1", "2", "k8", "k9"
    )
    h.raw("EVAL_RO", "return redis.call('mget', 'a', 'b')", "0")
    h.raw("MULTI")
    h.raw("EVAL", "return redis.call('get', 'zz')", "1", "k10")
    h.raw("GET", "k11")
    h.raw("EXEC")
    other.raw(
        "MSET",
        "x",
        "1",
        "zz",
        "1",
        "yy",
        "1",
        "a",
        "1",
        "k7",
        "1",
        "k8",
        "1",
        "k9",
        "1",
        "k10",
        "1",
        "k11",
        "1",
    )
    assert h.pending() == inv("k7") + inv("k8") + inv("k9") + inv("k10") + inv("k11")
