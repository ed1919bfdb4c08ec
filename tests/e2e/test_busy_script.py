"""Busy scripts over real sockets, on slotd and on a real redis-server side by side: a script
spinning past busy-reply-threshold makes other clients get BUSY, SCRIPT KILL / FUNCTION KILL
end it (its caller gets Redis's error), a script that wrote cannot be killed, and
SHUTDOWN NOSAVE still works (SHUTDOWN without NOSAVE gets BUSY). Also redis-py's register_script (EVALSHA, then EVAL on
NOSCRIPT). No timing assertions: waits are generous deadlines."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator

import pytest
import redis

from tests.procs import ServerProcess
from tests.rawclient import RawClient, encode_command

pytestmark = pytest.mark.interop

Factory = Callable[..., ServerProcess]
BUSY_EVAL = (
    b"-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n"
)
BUSY_FUNCTION = (
    b"-BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.\r\n"
)
SPIN = "local i = 0 while true do i = i + 1 end"
DEADLINE = 30.0


@pytest.fixture(params=["slotd", "redis"])
def server(
    request: pytest.FixtureRequest, slotd_factory: Factory, redis_factory: Factory
) -> Iterator[ServerProcess]:
    factory = slotd_factory if request.param == "slotd" else redis_factory
    yield factory("--busy-reply-threshold", "100")


def sha(script: str) -> bytes:
    return hashlib.sha1(script.encode()).hexdigest().encode()


def start(server: ServerProcess, *args: str) -> RawClient:
    """A connection that sent `args` without reading the reply yet."""
    conn = RawClient(*server.addr)
    conn.__enter__()
    conn.send_raw(encode_command(*args))
    return conn


def wait_busy(other: RawClient, expected: bytes) -> None:
    """Ask until the server answers BUSY (the script has crossed the threshold)."""
    deadline = time.monotonic() + DEADLINE
    while True:
        reply = other.call("PING")
        if reply == expected:
            return
        assert reply == b"+PONG\r\n", reply
        assert time.monotonic() < deadline, "the script never got busy"
        time.sleep(0.05)


def test_script_kill_ends_a_busy_script(server: ServerProcess) -> None:
    caller = start(server, "EVAL", SPIN, "0")
    with RawClient(*server.addr) as other:
        wait_busy(other, BUSY_EVAL)
        assert other.call("GET", "k") == BUSY_EVAL
        assert other.call("FUNCTION", "KILL") == BUSY_EVAL
        assert other.call("SCRIPT", "KILL") == b"+OK\r\n"
        assert caller.read_reply() == (
            b"-ERR Script killed by user with SCRIPT KILL... script: "
            + sha(SPIN)
            + b", on @user_script:1.\r\n"
        )
        assert other.call("PING") == b"+PONG\r\n"
        assert caller.call("PING") == b"+PONG\r\n"
    caller.__exit__(None, None, None)


# A spin inside a coroutine: Lua gives a new coroutine no hook of its own, so without care the
# server never got busy and SCRIPT KILL could not end it.
WRAP_SPIN = "coroutine.wrap(function() while true do end end)()"
RESUMED_SPIN = (
    "local co = coroutine.create(function() while true do end end) return {coroutine.resume(co)}"
)
SPIN_AFTER_RESUME = (
    "local co = coroutine.create(function() while true do end end) coroutine.resume(co) "
    "while true do end"
)


def killed(script: str) -> bytes:
    return (
        b"-ERR Script killed by user with SCRIPT KILL... script: "
        + sha(script)
        + b", on @user_script:1.\r\n"
    )


@pytest.mark.parametrize(
    ("script", "reply"),
    [
        (WRAP_SPIN, killed(WRAP_SPIN)),
        # the kill ends the coroutine; the script returns what resume did
        (RESUMED_SPIN, b"*2\r\n$-1\r\n-ERR Script killed by user with SCRIPT KILL...\r\n"),
        (SPIN_AFTER_RESUME, killed(SPIN_AFTER_RESUME)),
    ],
    ids=["wrap", "resume", "spin-after-resume"],
)
def test_script_kill_ends_a_spin_inside_a_coroutine(
    server: ServerProcess, script: str, reply: bytes
) -> None:
    caller = start(server, "EVAL", script, "0")
    with RawClient(*server.addr) as other:
        wait_busy(other, BUSY_EVAL)
        assert other.call("SCRIPT", "KILL") == b"+OK\r\n"
        assert caller.read_reply() == reply
        assert other.call("PING") == b"+PONG\r\n"
    caller.__exit__(None, None, None)


def test_busy_clients_queued_in_multi_get_execabort(server: ServerProcess) -> None:
    with RawClient(*server.addr) as queued:
        assert queued.call("MULTI") == b"+OK\r\n"
        caller = start(server, "EVAL", SPIN, "0")
        with RawClient(*server.addr) as other:
            wait_busy(other, BUSY_EVAL)
            assert queued.call("SET", "k", "v") == BUSY_EVAL
            assert other.call("SCRIPT", "KILL") == b"+OK\r\n"
        caller.read_reply()
        caller.__exit__(None, None, None)
        assert queued.call("EXEC") == (
            b"-EXECABORT Transaction discarded because of previous errors.\r\n"
        )


def test_function_kill_ends_a_busy_function(server: ServerProcess) -> None:
    with RawClient(*server.addr) as setup:
        assert (
            setup.call(
                "FUNCTION",
                "LOAD",
                f"#!lua name=spin\nredis.register_function('spin', function() {SPIN} end)",
            )
            == b"$4\r\nspin\r\n"
        )
    caller = start(server, "FCALL", "spin", "0")
    with RawClient(*server.addr) as other:
        wait_busy(other, BUSY_FUNCTION)
        assert other.call("SCRIPT", "KILL") == BUSY_FUNCTION
        stats = other.call("FUNCTION", "STATS")
        assert (
            b"$4\r\nspin\r\n$7\r\ncommand\r\n*3\r\n$5\r\nFCALL\r\n$4\r\nspin\r\n$1\r\n0\r\n"
            in stats
        )
        assert other.call("FUNCTION", "KILL") == b"+OK\r\n"
        assert caller.read_reply() == (
            b"-ERR Script killed by user with SCRIPT KILL... script: spin, on @user_function:2.\r\n"
        )
    caller.__exit__(None, None, None)


def test_shutdown_under_a_busy_script_needs_nosave(server: ServerProcess) -> None:
    caller = start(server, "EVAL", SPIN, "0")
    with RawClient(*server.addr) as other:
        wait_busy(other, BUSY_EVAL)
        for args in ((), ("SAVE",), ("NOW",), ("FORCE",), ("save", "now", "force")):
            assert other.call("SHUTDOWN", *args) == BUSY_EVAL
        assert other.call("SHUTDOWN", "ABORT") == b"-ERR No shutdown in progress.\r\n"
        for args in (("NOSAVE", "ABORT"), ("NOSAVE", "foo"), ("SAVE", "NOSAVE")):
            assert other.call("SHUTDOWN", *args) == b"-ERR syntax error\r\n"
        assert other.call("PING") == BUSY_EVAL  # still running
        other.send_raw(encode_command("SHUTDOWN", "NOSAVE", "NOW"))
    caller.__exit__(None, None, None)
    assert server.proc is not None
    assert server.proc.wait(DEADLINE) == 0


def test_a_script_that_wrote_cannot_be_killed(server: ServerProcess) -> None:
    script = f"redis.call('set', 'x', '1') {SPIN}"
    caller = start(server, "EVAL", script, "0")
    with RawClient(*server.addr) as other:
        wait_busy(other, BUSY_EVAL)
        assert other.call("SCRIPT", "KILL") == (
            b"-UNKILLABLE Sorry the script already executed write commands against the dataset."
            b" You can either wait the script termination or kill the server in a hard way using"
            b" the SHUTDOWN NOSAVE command.\r\n"
        )
        other.send_raw(encode_command("SHUTDOWN", "NOSAVE"))
    caller.__exit__(None, None, None)
    assert server.proc is not None
    assert server.proc.wait(DEADLINE) == 0


def test_register_script_over_redis_py(server: ServerProcess) -> None:
    client = redis.Redis(*server.addr, socket_timeout=DEADLINE)
    release = client.register_script(
        "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) "
        "else return 0 end"
    )
    client.set("lock", "token")
    assert release(keys=["lock"], args=["other"]) == 0
    assert release(keys=["lock"], args=["token"]) == 1
    assert client.script_exists(release.sha) == [True]
    client.script_flush()
    client.set("lock", "token")
    assert release(keys=["lock"], args=["token"]) == 1  # NOSCRIPT, then EVAL
