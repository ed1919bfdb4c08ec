"""Protocol robustness over real sockets (RELIABILITY.md 1.4), with parity against redis-server.

Every case runs against slotd AND a real redis-server in the same test and expects the same
bytes from both: a bad request gets `-ERR Protocol error: ...`, the connection is closed,
and a fresh connection still gets PONG. Nothing here asserts timing; waits are deadlines.
"""

from __future__ import annotations

import re
import signal
import socket
import stat
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.procs import ServerProcess, status_kb
from tests.rawclient import RawClient, encode_command

pytestmark = pytest.mark.interop

Factory = Callable[..., ServerProcess]
PONG = b"+PONG\r\n"
INLINE_MAX = 64 * 1024
DEADLINE = 30.0  # seconds: only turns a hang into a failure


@pytest.fixture
def both(slotd_proc: ServerProcess, redis_proc: ServerProcess) -> list[ServerProcess]:
    return [slotd_proc, redis_proc]


def assert_pong(server: ServerProcess) -> None:
    with RawClient(*server.addr) as c:
        assert c.call("PING") == PONG, server


def assert_closed_with(server: ServerProcess, payload: bytes, expected: bytes) -> None:
    """`payload` gets exactly `expected`, then the server closes; other clients are fine."""
    with RawClient(*server.addr) as c:
        c.send_raw(payload)
        assert c.read_until_closed() == expected, server
    assert_pong(server)


def protocol_error(reason: bytes) -> bytes:
    return b"-ERR Protocol error: " + reason + b"\r\n"


# Each payload is consumed whole by the server before it answers, so closing the socket
# cannot reset the connection before the error reply is read.
BAD_FRAMES = [
    (b"*abc\r\n", b"invalid multibulk length"),
    (b"*2147483648\r\n", b"invalid multibulk length"),
    (b"*-\r\n", b"invalid multibulk length"),
    (b"*1\r\n$9999999999\r\n", b"invalid bulk length"),
    (b"*1\r\n$536870913\r\n", b"invalid bulk length"),
    (b"*1\r\n$-5\r\n", b"invalid bulk length"),
    (b"*2\r\n$4\r\nECHO\r\n$x\r\n", b"invalid bulk length"),
    (b"*1\r\n*1\r\n", b"expected '$', got '*'"),
    (b"*2\r\n$4\r\nECHO\r\n:1\r\n", b"expected '$', got ':'"),
    (b"x" * (INLINE_MAX + 1), b"too big inline request"),
    (b'SET "a b\r\n', b"unbalanced quotes in request"),
    (b"ECHO 'x'y\r\n", b"unbalanced quotes in request"),
]


@pytest.mark.parametrize(("payload", "reason"), BAD_FRAMES, ids=lambda v: repr(v)[:40])
def test_bad_frame_gets_protocol_error_and_close(
    both: list[ServerProcess], payload: bytes, reason: bytes
) -> None:
    for server in both:
        assert_closed_with(server, payload, protocol_error(reason))


def test_commands_before_a_bad_frame_still_run(both: list[ServerProcess]) -> None:
    payload = encode_command("PING") + encode_command("ECHO", "hi") + b"*1\r\n*1\r\n"
    for server in both:
        expected = PONG + b"$2\r\nhi\r\n" + protocol_error(b"expected '$', got '*'")
        assert_closed_with(server, payload, expected)


def test_huge_declared_bulk_is_not_preallocated(slotd_proc: ServerProcess) -> None:
    assert slotd_proc.proc is not None
    pid = slotd_proc.proc.pid
    rss, peak = status_kb(pid), status_kb(pid, "VmPeak")
    with RawClient(*slotd_proc.addr) as c:
        # A legal 400 MB argument of which only a little arrives: memory must follow the
        # bytes received, not the declared length.
        c.send_raw(b"*2\r\n$3\r\nGET\r\n$400000000\r\n" + b"x" * 100_000)
        for length in (b"536870913", b"9999999999", b"-5"):
            assert_closed_with(
                slotd_proc, b"*1\r\n$" + length + b"\r\n", protocol_error(b"invalid bulk length")
            )
        assert_pong(slotd_proc)
        assert (status_kb(pid) - rss) / 1024 < 64, "RSS jumped"
        assert (status_kb(pid, "VmPeak") - peak) / 1024 < 256, "address space jumped"


def test_huge_declared_multibulk_is_not_preallocated(slotd_factory: Factory) -> None:
    server = slotd_factory()  # private: freeing such a list would stall the shared node
    assert server.proc is not None
    before = status_kb(server.proc.pid, "VmPeak")
    try:
        with RawClient(*server.addr) as c:
            c.send_raw(b"*2147483647\r\n$4\r\nECHO\r\n")  # a legal count, never completed
            assert_pong(server)  # the node has read the header by now
            grown_mb = (status_kb(server.proc.pid, "VmPeak") - before) / 1024
            assert grown_mb < 1024, f"address space grew by {grown_mb:.0f} MB"
    finally:
        server.stop(signal.SIGKILL)


def test_inline_commands_with_quotes(both: list[ServerProcess]) -> None:
    replies = []
    for server in both:
        with RawClient(*server.addr) as c:
            c.send_raw(b"\r\n\nPING\n")  # empty lines are skipped; LF alone ends a line
            assert c.read_reply() == PONG
            got = [
                c.call_raw(b"SET \"a b\" 'c d'\r\n"),
                c.call_raw(b'GET "a b"\r\n'),
                c.call_raw(b'ECHO "\\x41\\n\\t\\"q\\""\r\n'),
                c.call_raw(b"ECHO 'it\\'s'\r\n"),
                c.call_raw(b"  ECHO   spaced   \r\n"),
                c.call_raw(b'ECHO ""\r\n'),
            ]
            c.call("DEL", "a b")
            replies.append(got)
    assert replies[0] == replies[1]
    assert replies[0][:2] == [b"+OK\r\n", b"$3\r\nc d\r\n"]


def test_unchecked_crlf_after_bulk_does_not_crash(both: list[ServerProcess]) -> None:
    # Redis does not check the two bytes after bulk data; only "no crash" is required.
    for server in both:
        with RawClient(*server.addr) as c:
            c.send_raw(b"*1\r\n$4\r\nPINGXX\r\n")
            c.sock.settimeout(5)
            try:
                c.read_reply()
            except (OSError, ConnectionError):
                pass
        assert_pong(server)


# --- authentication limits ------------------------------------------------------------------


@pytest.fixture
def password_servers(slotd_factory: Factory, redis_factory: Factory) -> list[ServerProcess]:
    return [slotd_factory("--requirepass", "secret"), redis_factory("--requirepass", "secret")]


def assert_auth_pong(server: ServerProcess) -> None:
    with RawClient(*server.addr) as c:
        assert c.call("AUTH", "secret") == b"+OK\r\n"
        assert c.call("PING") == PONG


def test_unauthenticated_size_limits(password_servers: list[ServerProcess]) -> None:
    big_argv = b"*11\r\n" + b"$1\r\na\r\n" * 11
    for server in password_servers:
        for payload, reason in [
            (b"*11\r\n", b"unauthenticated multibulk length"),
            (big_argv, b"unauthenticated multibulk length"),
            (b"*1\r\n$16385\r\n", b"unauthenticated bulk length"),
        ]:
            with RawClient(*server.addr) as c:
                c.send_raw(payload)
                assert c.read_until_closed() == protocol_error(reason), (server, payload)
            assert_auth_pong(server)
        # At the limits exactly, and after AUTH, the same sizes parse.
        with RawClient(*server.addr) as c:
            assert c.call(*["PING"] * 10).startswith(b"-NOAUTH")
            assert c.call("ECHO", "x" * 16384).startswith(b"-NOAUTH")
            assert c.call("AUTH", "secret") == b"+OK\r\n"
            assert c.call_raw(big_argv) == (
                b"-ERR unknown command 'a', with args beginning with: " + b"'a' " * 10 + b"\r\n"
            )
            assert c.call("ECHO", "x" * 16385) == b"$16385\r\n" + b"x" * 16385 + b"\r\n"


def test_noauth_before_auth(password_servers: list[ServerProcess]) -> None:
    replies = []
    for server in password_servers:
        with RawClient(*server.addr) as c:
            got = [
                c.call("GET", "a"),
                c.call("PING"),
                c.call("AUTH", "wrong"),
                c.call("AUTH", "secret"),
                c.call("PING"),
            ]
            replies.append(got)
        assert_auth_pong(server)
    assert replies[0] == replies[1]
    assert replies[0][:3] == [
        b"-NOAUTH Authentication required.\r\n",
        b"-NOAUTH Authentication required.\r\n",
        b"-WRONGPASS invalid username-password pair or user is disabled.\r\n",
    ]
    assert replies[0][3:] == [b"+OK\r\n", PONG]


# --- connection limits ----------------------------------------------------------------------


def connect_ready(server: ServerProcess) -> RawClient:
    """A connection that got PONG. A refusal here only means a previous connection's close
    is not processed yet (the readiness probe's, say): retry until the deadline."""
    deadline = time.monotonic() + DEADLINE
    while True:
        c = RawClient(*server.addr)
        try:
            if c.call("PING") == PONG:
                return c
        except ConnectionError:
            pass
        c.close()
        assert time.monotonic() < deadline, f"{server}: no PONG"
        time.sleep(0.1)


def test_maxclients(slotd_factory: Factory, redis_factory: Factory) -> None:
    for server in (slotd_factory("--maxclients", "5"), redis_factory("--maxclients", "5")):
        clients = [connect_ready(server) for _ in range(5)]
        try:
            with RawClient(*server.addr) as extra:
                assert extra.read_until_closed() == b"-ERR max number of clients reached\r\n"
            clients.pop().close()
            clients.append(connect_ready(server))
            # At least the one refused above (connect_ready's retries may add some).
            assert re.search(
                rb"rejected_connections:[1-9]\d*\r\n", clients[-1].call("INFO", "stats")
            )
        finally:
            for c in clients:
                c.close()


@pytest.mark.slow
def test_timeout_closes_idle_clients(slotd_factory: Factory, redis_factory: Factory) -> None:
    for server in (slotd_factory("--timeout", "1"), redis_factory("--timeout", "1")):
        with RawClient(*server.addr, timeout=DEADLINE) as idle:
            assert idle.call("PING") == PONG
            assert idle.read_until_closed() == b""  # closed silently, well before DEADLINE
        assert_pong(server)


def non_loopback_address() -> str | None:
    """A local IPv4 address that is not loopback, or None (then the test skips)."""
    candidates = []
    try:
        candidates.extend(socket.gethostbyname_ex(socket.gethostname())[2])
    except OSError:
        pass
    try:
        # Connecting a UDP socket sends nothing; it only picks the outgoing interface.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("10.255.255.255", 1))
            candidates.append(s.getsockname()[0])
    except OSError:
        pass
    for addr in candidates:
        if not addr.startswith("127."):
            try:
                with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                    s.bind((addr, 0))
            except OSError:
                continue
            return addr
    return None


def test_protected_mode_denies_non_loopback(slotd_factory: Factory, redis_factory: Factory) -> None:
    addr = non_loopback_address()
    if addr is None:
        pytest.skip("this machine has no non-loopback address")
    replies = []
    for server in (
        slotd_factory("--bind", "127.0.0.1", addr, "--protected-mode", "yes"),
        redis_factory("--bind", "127.0.0.1", addr, "--protected-mode", "yes"),
    ):
        with RawClient(addr, server.port) as c:
            c.send("PING")
            replies.append(c.read_until_closed())
        assert_pong(server)  # loopback clients are still served
        # A password on the default user lifts it (the client must then authenticate), and
        # so does turning protected mode off at runtime.
        with RawClient(*server.addr) as local:
            assert local.call("CONFIG", "SET", "requirepass", "pw") == b"+OK\r\n"
            with RawClient(addr, server.port) as c:
                assert c.call("PING") == b"-NOAUTH Authentication required.\r\n"
                assert c.call("AUTH", "pw") == b"+OK\r\n"
            assert local.call("AUTH", "pw") == b"+OK\r\n"
            assert local.call("CONFIG", "SET", "requirepass", "") == b"+OK\r\n"
            assert local.call("CONFIG", "SET", "protected-mode", "no") == b"+OK\r\n"
            with RawClient(addr, server.port) as c:
                assert c.call("PING") == PONG
    assert replies[0] == replies[1]
    assert replies[0].startswith(b"-DENIED Redis is running in protected mode")


def test_tcp_keepalive_is_set_on_accepted_sockets() -> None:
    """tcp-keepalive as anetKeepAlive sets it: idle time, a third of it between probes, three
    probes (0 leaves keepalive off)."""
    from node.server import _keepalive

    with (
        socket.create_server(("127.0.0.1", 0)) as listener,
        socket.create_connection(listener.getsockname()),
    ):
        accepted, _ = listener.accept()
        with accepted:
            _keepalive(accepted, 0)
            assert accepted.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 0
            _keepalive(accepted, 300)
            assert accepted.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
            if hasattr(socket, "TCP_KEEPIDLE"):
                assert [
                    accepted.getsockopt(socket.IPPROTO_TCP, opt)
                    for opt in (socket.TCP_KEEPIDLE, socket.TCP_KEEPINTVL, socket.TCP_KEEPCNT)
                ] == [300, 100, 3]


class _UnixClient(RawClient):
    """A RawClient over a unix socket."""

    def __init__(self, path: Path) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(DEADLINE)
        self.sock.connect(str(path))
        self.buf = bytearray()


def _unix_session(path: Path) -> list[bytes]:
    """Replies and MONITOR lines over the unix socket at `path`, with the path, times and
    ids masked."""
    with _UnixClient(path) as monitor, _UnixClient(path) as c:
        assert monitor.call("MONITOR") == b"+OK\r\n"
        out = [
            c.call("SET", "k", "v"),
            c.call("CLIENT", "INFO"),
            monitor.read_reply(),
            monitor.read_reply(),
        ]
    masked = [
        re.sub(
            rb"\d+\.\d{6} |id=\d+ |fd=\d+ |qbuf=\d+ |qbuf-free=\d+ |argv-mem=\d+ |"
            rb"tot-mem=\d+ |rbs=\d+ |rbp=\d+ |age=\d+ |idle=\d+ |\$\d+",
            b"",
            part,
        )
        for part in out
    ]
    return [part.replace(str(path).encode(), b"PATH") for part in masked]


def test_unix_socket_clients(
    slotd_factory: Factory, redis_factory: Factory, tmp_path: Path
) -> None:
    """unixsocket/unixsocketperm: the socket file with its mode, clients named by the path
    (CLIENT INFO addr/laddr, flag U, MONITOR's unix:<path>), and the file removed at exit."""
    sessions = []
    for kind, factory in (("slotd", slotd_factory), ("redis", redis_factory)):
        path = tmp_path / f"{kind}.sock"
        server = factory("--unixsocket", str(path), "--unixsocketperm", "700")
        assert stat.S_IMODE(path.stat().st_mode) == 0o700
        sessions.append(_unix_session(path))
        server.stop()
        assert not path.exists()
    assert sessions[0] == sessions[1]


def test_config_set_port_and_bind_move_the_listeners(
    slotd_factory: Factory, redis_factory: Factory
) -> None:
    """CONFIG SET port listens on the new port and closes the old one; a port in use or a
    bind address that does not exist fail with Redis's errors and change nothing."""
    from tests.procs import free_port

    for server in (slotd_factory(), redis_factory()):
        busy = socket.create_server(("127.0.0.1", 0))
        with busy, RawClient(*server.addr) as c:
            assert c.call("CONFIG", "SET", "port", str(busy.getsockname()[1])) == (
                b"-ERR CONFIG SET failed (possibly related to argument 'port') - Unable to "
                b"listen on this port. Check server logs.\r\n"
            )
            assert c.call("CONFIG", "SET", "bind", "198.51.100.1") == (
                b"-ERR CONFIG SET failed (possibly related to argument 'bind') - Failed to "
                b"bind to specified addresses.\r\n"
            )
            assert c.call("CONFIG", "GET", "bind") == b"*2\r\n$4\r\nbind\r\n$9\r\n127.0.0.1\r\n"
            assert_pong(server)
            new_port = free_port()
            assert c.call("CONFIG", "SET", "port", str(new_port)) == b"+OK\r\n"
            assert c.call("PING") == PONG  # connected clients stay
        with RawClient("127.0.0.1", new_port) as moved:
            assert moved.call("PING") == PONG
            with pytest.raises(OSError):
                socket.create_connection(server.addr, timeout=DEADLINE).close()
            assert moved.call("CONFIG", "SET", "bind", "127.0.0.1 -::1") == b"+OK\r\n"
            assert moved.call("CONFIG", "SET", "port", str(server.port)) == b"+OK\r\n"
        assert_pong(server)


def test_proto_max_bulk_len_applies_to_connected_clients(
    slotd_factory: Factory, redis_factory: Factory
) -> None:
    for server in (slotd_factory(), redis_factory()):
        with RawClient(*server.addr) as early, RawClient(*server.addr) as admin:
            assert early.call("PING") == PONG
            assert admin.call("CONFIG", "SET", "proto-max-bulk-len", "1mb") == b"+OK\r\n"
            early.send_raw(b"*2\r\n$3\r\nGET\r\n$2000000\r\n")
            assert early.read_until_closed() == b"-ERR Protocol error: invalid bulk length\r\n"
        assert_pong(server)


@pytest.mark.parametrize("effort", ["1", "10"])
def test_active_expiry_removes_keys_nobody_reads(slotd_factory: Factory, effort: str) -> None:
    """The cron's active expiry (with either end of active-expire-effort) deletes expired
    keys without any client touching them."""
    server = slotd_factory("--active-expire-effort", effort, "--hz", "100")
    with RawClient(*server.addr) as c:
        for i in range(200):
            c.send("SET", f"k{i}", "v", "PX", "1")
        for _ in range(200):
            assert c.read_reply() == b"+OK\r\n"
        deadline = time.monotonic() + DEADLINE
        while c.call("DBSIZE") != b":0\r\n":
            assert time.monotonic() < deadline, "active expiry never ran"
            time.sleep(0.05)
        assert b"expired_keys:200\r\n" in c.call("INFO", "stats")
