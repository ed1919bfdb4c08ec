"""TLS on real slotd processes (node/io/tls.py): redis-py and redis-cli over `tls-port`,
client certificates (`tls-auth-clients`), plain and TLS ports at once, big replies, bad
peers, runtime reconfiguration, and the tls-* configs next to a real redis-server's.

A throwaway CA, server and client certificates are made at test time with the `openssl`
command (skipped, or failed under CI=true, when it is missing).
"""

from __future__ import annotations

import contextlib
import random
import re
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
import trio
from redis.backoff import NoBackoff
from redis.retry import Retry

from node.commands import load
from node.config import Config, parse_command_line
from node.engine.engine import Engine
from node.io.tls import _NATIVE, TLSConfigError, build_contexts, parse_protocols
from node.server import NodeServer
from tests import procs

pytestmark = pytest.mark.interop

TIMEOUT = 60


@dataclass(frozen=True)
class Certs:
    dir: Path
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    rogue_cert: Path  # signed by another CA
    rogue_key: Path

    def server_args(self, *extra: str) -> tuple[str, ...]:
        return (
            "--tls-cert-file",
            str(self.server_cert),
            "--tls-key-file",
            str(self.server_key),
            "--tls-ca-cert-file",
            str(self.ca),
            *extra,
        )


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=TIMEOUT)


def _issue(name: str, subject: str, ca: str, cwd: Path, ext: str = "") -> None:
    _openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        f"{name}.key",
        "-out",
        f"{name}.csr",
        "-subj",
        subject,
        cwd=cwd,
    )
    extra = ["-extfile", ext] if ext else []
    _openssl(
        "x509",
        "-req",
        "-in",
        f"{name}.csr",
        "-CA",
        f"{ca}.crt",
        "-CAkey",
        f"{ca}.key",
        "-CAcreateserial",
        "-out",
        f"{name}.crt",
        "-days",
        "2",
        *extra,
        cwd=cwd,
    )


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    if shutil.which("openssl") is None:
        message = "the openssl command is needed to make test certificates"
        if procs.in_ci():
            pytest.fail(message)
        pytest.skip(message)
    d = tmp_path_factory.mktemp("tls")
    for ca in ("ca", "rogue-ca"):
        _openssl(
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            f"{ca}.key",
            "-out",
            f"{ca}.crt",
            "-days",
            "2",
            "-subj",
            f"/CN=slotd test {ca}",
            cwd=d,
        )
    (d / "san.cnf").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    _issue("server", "/CN=localhost", "ca", d, "san.cnf")
    _issue("client", "/CN=client", "ca", d)
    _issue("rogue", "/CN=rogue", "rogue-ca", d)
    return Certs(
        d,
        d / "ca.crt",
        d / "server.crt",
        d / "server.key",
        d / "client.crt",
        d / "client.key",
        d / "rogue.crt",
        d / "rogue.key",
    )


@dataclass
class TLSNode:
    proc: procs.ServerProcess
    tls_port: int

    @property
    def port(self) -> int:
        return self.proc.port


TLSFactory = Callable[..., TLSNode]
Factory = Callable[..., procs.ServerProcess]


@pytest.fixture
def tls_factory(tmp_path: Path) -> Iterator[TLSFactory]:
    started: list[procs.ServerProcess] = []

    def start(*extra: str) -> TLSNode:
        """slotd with a plain port and a TLS port (both free when chosen)."""
        tls_port = procs.free_port()
        proc = procs.start(
            "slotd",
            lambda port: procs.slotd_command(
                port, tmp_path / f"n{len(started)}", "--tls-port", str(tls_port), *extra
            ),
            tmp_path / f"n{len(started)}",
        )
        started.append(proc)
        return TLSNode(proc, tls_port)

    yield start
    for proc in started:
        proc.stop()


def tls_client(
    certs: Certs, port: int, *, cert: bool = True, rogue: bool = False, **kw: object
) -> redis.Redis:
    files: dict[str, object] = {}
    if cert:
        files = {
            "ssl_certfile": str(certs.rogue_cert if rogue else certs.client_cert),
            "ssl_keyfile": str(certs.rogue_key if rogue else certs.client_key),
        }
    return redis.Redis(
        host="127.0.0.1",
        port=port,
        ssl=True,
        ssl_ca_certs=str(certs.ca),
        socket_timeout=TIMEOUT,
        **files,
        **kw,
    )  # type: ignore[arg-type]


def refused_client(
    certs: Certs, port: int, *, cert: bool = True, rogue: bool = False
) -> redis.Redis:
    """A TLS client the server is expected to turn away: redis-py's default retries (three,
    with backoff up to seconds) would only delay the ConnectionError the test asserts."""
    return tls_client(certs, port, cert=cert, rogue=rogue, retry=Retry(NoBackoff(), 0))


def plain_client(port: int) -> redis.Redis:
    return redis.Redis(host="127.0.0.1", port=port, socket_timeout=TIMEOUT)


def test_redis_py_over_tls(certs: Certs, tls_factory: TLSFactory) -> None:
    node = tls_factory(*certs.server_args())
    with tls_client(certs, node.tls_port) as r:
        assert r.ping()
        assert r.set("k", "v")
        assert r.get("k") == b"v"
        assert r.rpush("l", *range(100)) == 100
        assert r.lrange("l", 0, -1) == [str(i).encode() for i in range(100)]
        pipe = r.pipeline(transaction=False)
        for _ in range(1000):
            pipe.incr("n")
        assert pipe.execute()[-1] == 1000
        assert r.info("server")["tcp_port"] == node.port


def test_plain_and_tls_ports_at_once(certs: Certs, tls_factory: TLSFactory) -> None:
    node = tls_factory(*certs.server_args())
    with tls_client(certs, node.tls_port) as secure, plain_client(node.port) as plain:
        secure.set("from-tls", "1")
        plain.set("from-plain", "2")
        assert plain.get("from-tls") == b"1"
        assert secure.get("from-plain") == b"2"
        names = {line["laddr"] for line in plain.client_list()}
        assert names == {f"127.0.0.1:{node.port}", f"127.0.0.1:{node.tls_port}"}


def test_redis_cli_tls(certs: Certs, tls_factory: TLSFactory, redis_cli: str) -> None:
    node = tls_factory(*certs.server_args())
    base = [
        redis_cli,
        "-h",
        "127.0.0.1",
        "-p",
        str(node.tls_port),
        "--tls",
        "--cacert",
        str(certs.ca),
    ]
    with_cert = [*base, "--cert", str(certs.client_cert), "--key", str(certs.client_key)]
    done = subprocess.run(
        [*with_cert, "SET", "cli", "yes"], capture_output=True, timeout=TIMEOUT, check=False
    )
    assert done.stdout == b"OK\n", done.stderr
    done = subprocess.run(
        [*with_cert, "GET", "cli"], capture_output=True, timeout=TIMEOUT, check=False
    )
    assert done.stdout == b"yes\n"
    # Without a client certificate the default (tls-auth-clients yes) refuses it.
    done = subprocess.run([*base, "PING"], capture_output=True, timeout=TIMEOUT, check=False)
    assert done.returncode != 0 or b"PONG" not in done.stdout


def test_auth_clients_yes_optional_no(certs: Certs, tls_factory: TLSFactory) -> None:
    node = tls_factory(*certs.server_args())
    with (
        refused_client(certs, node.tls_port, cert=False) as refused,
        pytest.raises(redis.ConnectionError),
    ):
        refused.ping()
    with (
        refused_client(certs, node.tls_port, rogue=True) as refused,
        pytest.raises(redis.ConnectionError),
    ):
        refused.ping()
    with plain_client(node.port) as admin:
        assert admin.config_get("tls-auth-clients") == {"tls-auth-clients": "yes"}
        assert admin.config_set("tls-auth-clients", "optional")
        with tls_client(certs, node.tls_port, cert=False) as anonymous:
            assert anonymous.ping()
        with tls_client(certs, node.tls_port) as known:
            assert known.ping()
        # optional still checks a certificate that is shown
        with (
            refused_client(certs, node.tls_port, rogue=True) as refused,
            pytest.raises(redis.ConnectionError),
        ):
            refused.ping()
        assert admin.config_set("tls-auth-clients", "no")
        with tls_client(certs, node.tls_port, rogue=True) as anyone:
            assert anyone.ping()


def test_big_values_round_trip(certs: Certs, tls_factory: TLSFactory) -> None:
    node = tls_factory(*certs.server_args())
    big = bytes(range(256)) * (10 * 1024 * 1024 // 256)
    with tls_client(certs, node.tls_port) as r:
        assert r.set("big", big)
        assert r.strlen("big") == len(big)
        assert r.get("big") == big
        # several big replies queued at once
        pipe = r.pipeline(transaction=False)
        for _ in range(3):
            pipe.get("big")
        assert pipe.execute() == [big] * 3


def test_reader_slower_than_the_reply(certs: Certs, tls_factory: TLSFactory) -> None:
    """A raw TLS client that reads a big reply in small bites: the server keeps the rest
    pending (partial TLS writes) while it serves others."""
    node = tls_factory(*certs.server_args())
    size = 4 * 1024 * 1024
    with tls_client(certs, node.tls_port) as r:
        r.set("big", b"x" * size)
        ctx = ssl.create_default_context(cafile=str(certs.ca))
        ctx.load_cert_chain(str(certs.client_cert), str(certs.client_key))
        with (
            socket.create_connection(("127.0.0.1", node.tls_port), timeout=TIMEOUT) as raw,
            ctx.wrap_socket(raw, server_hostname="localhost") as slow,
        ):
            slow.sendall(b"*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n")
            first = slow.recv(1024)
            assert first.startswith(b"$%d\r\n" % size)
            assert r.ping()  # served while the slow reader holds its reply back
            got = len(first)
            expected = len(b"$%d\r\n" % size) + size + 2
            while got < expected:
                chunk = slow.recv(65536)
                assert chunk
                got += len(chunk)
            assert got == expected


def test_bad_peers_do_not_stall_others(certs: Certs, tls_factory: TLSFactory) -> None:
    node = tls_factory(*certs.server_args())
    silent = socket.create_connection(("127.0.0.1", node.tls_port), timeout=TIMEOUT)
    garbage = socket.create_connection(("127.0.0.1", node.tls_port), timeout=TIMEOUT)
    half = socket.create_connection(("127.0.0.1", node.tls_port), timeout=TIMEOUT)
    try:
        garbage.sendall(b"*1\r\n$4\r\nPING\r\n" + b"\x00garbage" * 100)
        # the first bytes of a TLS record header, then nothing
        half.sendall(b"\x16\x03\x01")
        with tls_client(certs, node.tls_port) as r, plain_client(node.port) as p:
            for i in range(50):
                assert r.incr("n") == 2 * i + 1
                assert p.incr("n") == 2 * i + 2
        # The garbage sender is dropped (no plaintext reply goes back to it).
        data = b""
        with contextlib.suppress(ConnectionResetError):
            while chunk := garbage.recv(4096):
                data += chunk
        assert b"PONG" not in data
    finally:
        for sock in (silent, garbage, half):
            sock.close()


def test_tls_only_with_port_zero(certs: Certs, tmp_path: Path) -> None:
    tls_port = procs.free_port()
    argv = procs.slotd_command(0, tmp_path, "--tls-port", str(tls_port), *certs.server_args())
    proc = procs.ServerProcess("slotd-tls", argv, tls_port, tmp_path)
    proc.spawn()
    try:
        deadline = time.monotonic() + procs.START_TIMEOUT
        while True:
            assert proc.alive(), proc.log_tail()
            try:
                with tls_client(certs, tls_port, socket_connect_timeout=2) as r:
                    assert r.ping()
                    # Redis shows the TLS port where there is no plain one.
                    assert r.info("server")["tcp_port"] == tls_port
                    assert r.config_get("port") == {"port": "0"}
                    assert r.config_get("tls-port") == {"tls-port": str(tls_port)}
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline, proc.log_tail()
                time.sleep(0.1)
    finally:
        proc.stop()


def test_tls_port_moves_at_runtime(certs: Certs, tls_factory: TLSFactory) -> None:
    node = tls_factory(*certs.server_args())
    new_port = procs.free_port()
    with plain_client(node.port) as admin:
        assert admin.config_set("tls-port", new_port)
        with tls_client(certs, new_port) as r:
            assert r.ping()
        with refused_client(certs, node.tls_port) as refused, pytest.raises(redis.ConnectionError):
            refused.ping()
        assert admin.config_set("tls-port", 0)
        with refused_client(certs, new_port) as refused, pytest.raises(redis.ConnectionError):
            refused.ping()
        assert admin.config_set("tls-port", node.tls_port)
        with tls_client(certs, node.tls_port) as r:
            assert r.ping()


def test_reload_is_atomic(certs: Certs, tls_factory: TLSFactory) -> None:
    node = tls_factory(*certs.server_args())
    with plain_client(node.port) as admin:
        missing = str(certs.dir / "missing.crt")
        with pytest.raises(redis.ResponseError) as failed:
            admin.execute_command(
                "CONFIG", "SET", "tls-key-file", str(certs.client_key), "tls-cert-file", missing
            )
        assert str(failed.value) == (
            "CONFIG SET failed (possibly related to argument "
            "'tls-key-file') - Unable to update TLS configuration. "
            "Check server logs."
        )
        assert admin.config_get("tls-cert-file")["tls-cert-file"] == str(certs.server_cert)
        assert admin.config_get("tls-key-file")["tls-key-file"] == str(certs.server_key)
        with tls_client(certs, node.tls_port) as r:
            assert r.ping()
        # A certificate and its key change together: the server now shows the client's
        # certificate (CN=client), which the same CA signed.
        assert admin.execute_command(
            "CONFIG",
            "SET",
            "tls-cert-file",
            str(certs.client_cert),
            "tls-key-file",
            str(certs.client_key),
        )
        ctx = ssl.create_default_context(cafile=str(certs.ca))
        ctx.check_hostname = False
        ctx.load_cert_chain(str(certs.client_cert), str(certs.client_key))
        with (
            socket.create_connection(("127.0.0.1", node.tls_port), timeout=TIMEOUT) as raw,
            ctx.wrap_socket(raw) as conn,
        ):
            peer = conn.getpeercert()
            assert peer is not None
            assert (("commonName", "client"),) in peer["subject"]
        with pytest.raises(redis.ResponseError, match="tls-protocols"):
            admin.config_set("tls-protocols", "TLSv1.9")
        with pytest.raises(redis.ResponseError, match="tls-ciphers"):
            admin.config_set("tls-ciphers", "bogus")
        with pytest.raises(redis.ResponseError, match="tls-ciphersuites"):
            admin.config_set("tls-ciphersuites", "bogus")
    log = node.proc.log_path.read_text()
    assert "Failed to load certificate: " in log
    assert (
        "Failed applying new configuration. Possibly related to new tls-key-file setting. "
        "Restoring previous settings."
    ) in log


def test_protocols_and_ciphersuites_take_effect(certs: Certs, tls_factory: TLSFactory) -> None:
    node = tls_factory(*certs.server_args("--tls-protocols", "TLSv1.2"))
    ctx = ssl.create_default_context(cafile=str(certs.ca))
    ctx.load_cert_chain(str(certs.client_cert), str(certs.client_key))

    def handshake() -> tuple[str | None, str | None]:
        with (
            socket.create_connection(("127.0.0.1", node.tls_port), timeout=TIMEOUT) as raw,
            ctx.wrap_socket(raw, server_hostname="localhost") as conn,
        ):
            cipher = conn.cipher()
            return conn.version(), cipher[0] if cipher else None

    assert handshake()[0] == "TLSv1.2"
    with plain_client(node.port) as admin:
        assert admin.config_set("tls-protocols", "TLSv1.3")
        assert admin.config_set("tls-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256")
        assert handshake() == ("TLSv1.3", "TLS_CHACHA20_POLY1305_SHA256")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "No tls-cert-file configured!"),
        (("--tls-cert-file", "{server_cert}"), "No tls-key-file configured!"),
        (
            ("--tls-cert-file", "{server_cert}", "--tls-key-file", "{server_key}"),
            "Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster, "
            "tls-replication or tls-auth-clients are enabled!",
        ),
        (
            (
                "--tls-cert-file",
                "{missing}",
                "--tls-key-file",
                "{server_key}",
                "--tls-auth-clients",
                "no",
            ),
            "Failed to load certificate: ",
        ),
    ],
)
def test_startup_failures(
    certs: Certs, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    files = {
        "server_cert": certs.server_cert,
        "server_key": certs.server_key,
        "missing": certs.dir / "missing.crt",
    }
    argv = procs.slotd_command(
        procs.free_port(),
        tmp_path,
        "--tls-port",
        str(procs.free_port()),
        *(a.format(**files) for a in args),
    )
    done = subprocess.run(
        argv, cwd=tmp_path, env=procs.child_env(), capture_output=True, timeout=TIMEOUT, check=False
    )
    assert done.returncode == 1
    assert message in done.stdout.decode()
    assert "Failed to configure TLS. Check logs for more info." in done.stdout.decode()


def test_config_like_redis(certs: Certs, tls_factory: TLSFactory, redis_factory: Factory) -> None:
    """CONFIG GET tls-* and CONFIG SET's replies next to a real redis-server's."""
    node = tls_factory(*certs.server_args())
    real = redis_factory("--tls-port", str(procs.free_port()), *certs.server_args())
    with plain_client(node.port) as ours, plain_client(real.port) as theirs:
        mine, want = ours.config_get("tls-*"), theirs.config_get("tls-*")
        assert mine.pop("tls-port") != want.pop("tls-port")
        assert mine == want
        for args in (
            ("tls-auth-clients", "maybe"),
            ("tls-port", "99999"),
            ("tls-port", "x"),
            ("tls-session-cache-size", "-1"),
            ("tls-prefer-server-ciphers", "sure"),
            ("tls-cert-file", str(certs.dir / "missing.crt")),
            ("tls-dh-params-file", str(certs.dir / "missing.pem")),
            ("tls-auth-clients", "OPTIONAL"),
            ("tls-session-caching", "no"),
            ("tls-session-cache-timeout", "60"),
            ("tls-replication", "yes"),
            ("tls-prefer-server-ciphers", "yes"),
            ("tls-ciphers", "HIGH"),
            ("tls-ciphersuites", "TLS_AES_256_GCM_SHA384"),
        ):
            replies = []
            for client in (ours, theirs):
                try:
                    replies.append(client.execute_command("CONFIG", "SET", *args))
                except redis.ResponseError as exc:
                    replies.append(str(exc))
            assert replies[0] == replies[1], args
        mine, want = ours.config_get("tls-*"), theirs.config_get("tls-*")
        mine.pop("tls-port")
        want.pop("tls-port")
        assert mine == want


async def _exchange(ctx: ssl.SSLContext, port: int, request: bytes, size: int) -> bytes:
    """Send `request` over a new TLS connection; the first `size` bytes of the answer."""
    stream = trio.SSLStream(
        await trio.open_tcp_stream("127.0.0.1", port), ctx, server_hostname="localhost"
    )
    async with stream:
        await stream.send_all(request)
        data = bytearray()
        while len(data) < size:
            chunk = await stream.receive_some(65536)
            assert chunk
            data += chunk
        return bytes(data)


async def test_trio_fallback_serves_tls(certs: Certs, tmp_path: Path) -> None:
    """Without epoll every connection is a trio task (NodeServer._serve_with_tasks): TLS
    clients are served there too, and a new tls-port gets its own accept task."""
    port, moved = procs.free_port(), procs.free_port()
    config = parse_command_line(
        [
            "--port",
            "0",
            "--tls-port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--dir",
            str(tmp_path),
            *certs.server_args(),
        ],
        lambda path: "",
    )
    engine = Engine(config, load(), random.Random(1), log=lambda level, message: None)
    server = NodeServer(engine, lambda level, message: None, use_epoll=False)
    server.bind()
    ctx = ssl.create_default_context(cafile=str(certs.ca))
    ctx.load_cert_chain(str(certs.client_cert), str(certs.client_key))
    big = b"y" * (2 * 1024 * 1024)
    with trio.fail_after(TIMEOUT):
        async with trio.open_nursery() as nursery:
            await nursery.start(server.serve)
            assert await _exchange(ctx, port, b"*1\r\n$4\r\nPING\r\n", 7) == b"+PONG\r\n"
            set_big = b"*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$%d\r\n%s\r\n" % (len(big), big)
            assert await _exchange(ctx, port, set_big, 5) == b"+OK\r\n"
            reply = b"$%d\r\n%s\r\n" % (len(big), big)
            get_big = b"*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n"
            assert await _exchange(ctx, port, get_big, len(reply)) == reply
            move = b"*4\r\n$6\r\nCONFIG\r\n$3\r\nSET\r\n$8\r\ntls-port\r\n$%d\r\n%d\r\n" % (
                len(str(moved)),
                moved,
            )
            assert await _exchange(ctx, port, move, 5) == b"+OK\r\n"
            assert await _exchange(ctx, moved, get_big, len(reply)) == reply
            server.request_stop()


def _wait_for(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_slotd_replica_of_a_tls_master(
    certs: Certs, tls_factory: TLSFactory, redis_factory: Factory
) -> None:
    """tls-replication yes: the link to the master is TLS, showing our certificate."""
    master_tls = procs.free_port()
    master = redis_factory("--tls-port", str(master_tls), *certs.server_args())
    with plain_client(master.port) as m:
        m.set("before", "sync")
        node = tls_factory(
            *certs.server_args(
                "--tls-replication", "yes", "--replicaof", "127.0.0.1", str(master_tls)
            )
        )
        with plain_client(node.port) as replica:
            _wait_for(
                lambda: replica.info("replication")["master_link_status"] == "up",
                "the TLS link comes up",
            )
            _wait_for(lambda: replica.get("before") == b"sync", "the RDB arrives")
            m.set("after", "stream")
            _wait_for(lambda: replica.get("after") == b"stream", "the stream arrives")
            _wait_for(
                lambda: m.info("replication")["connected_slaves"] == 1,
                "the master sees its replica",
            )


@pytest.mark.parametrize("diskless", ["yes", "no"])
def test_redis_replica_over_our_tls_port(
    certs: Certs, tls_factory: TLSFactory, redis_factory: Factory, diskless: str
) -> None:
    """A real redis-server with tls-replication yes syncs from our tls-port: the RDB goes
    through the TLS session (relayed from the diskless child, or read from the file)."""
    node = tls_factory(
        *certs.server_args("--repl-diskless-sync", diskless, "--repl-diskless-sync-delay", "0")
    )
    with plain_client(node.port) as master:
        master.set("before", "sync")
        for i in range(2000):
            master.rpush("list", b"%d-" % i + b"v" * 100)
        replica = redis_factory(
            "--tls-port",
            str(procs.free_port()),
            "--tls-replication",
            "yes",
            "--replicaof",
            "127.0.0.1",
            str(node.tls_port),
            *certs.server_args(),
        )
        with plain_client(replica.port) as r:
            _wait_for(
                lambda: r.info("replication")["master_link_status"] == "up", "the TLS link comes up"
            )
            assert r.get("before") == b"sync"
            assert r.llen("list") == 2000
            master.set("after", "stream")
            _wait_for(lambda: r.get("after") == b"stream", "the stream arrives")


def _config(*args: str) -> Config:
    return parse_command_line(list(args), lambda path: "")


def test_context_building(certs: Certs) -> None:
    """build_contexts's checks and Redis's log lines, without a server."""
    d = certs.dir
    _openssl(
        "pkey",
        "-in",
        "server.key",
        "-aes256",
        "-passout",
        "pass:secret",
        "-out",
        "locked.key",
        cwd=d,
    )
    base = ("--tls-cert-file", str(certs.server_cert), "--tls-auth-clients", "no")
    build_contexts(
        _config(*base, "--tls-key-file", str(d / "locked.key"), "--tls-key-file-pass", "secret")
    )
    for key, extra in (
        ("locked.key", ("--tls-key-file-pass", "wrong")),
        ("locked.key", ()),
        ("client.key", ()),
        ("missing.key", ()),
    ):
        with pytest.raises(
            TLSConfigError, match=re.escape(f"Failed to load private key: {d / key}: ")
        ):
            build_contexts(_config(*base, "--tls-key-file", str(d / key), *extra))
    with pytest.raises(TLSConfigError, match=r"^Failed to load certificate: "):
        build_contexts(
            _config(
                "--tls-cert-file",
                str(certs.server_key),
                "--tls-key-file",
                str(certs.server_key),
                "--tls-auth-clients",
                "no",
            )
        )
    with pytest.raises(TLSConfigError, match=r"^Invalid tls-protocols specified"):
        build_contexts(
            _config(
                *base,
                "--tls-key-file",
                str(certs.server_key),
                "--tls-protocols",
                "TLSv1.2  TLSv1.3",
            )
        )
    with pytest.raises(TLSConfigError, match=r"^Failed to load .*missing\.pem: No such file"):
        build_contexts(
            _config(
                *base,
                "--tls-key-file",
                str(certs.server_key),
                "--tls-dh-params-file",
                str(d / "missing.pem"),
            )
        )
    assert parse_protocols("tlsv1.3 TLSv1.2") == (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3)


def test_session_cache_reaches_openssl(certs: Certs) -> None:
    """tls-session-caching and its size go to the native context (ctypes, checked)."""
    assert _NATIVE is not None
    get_size, get_mode = 43, 45  # SSL_CTRL_GET_SESS_CACHE_SIZE / _MODE
    args = (*certs.server_args(), "--tls-session-cache-size", "123")
    server, _ = build_contexts(_config(*args))
    native = _NATIVE.pointer(server)
    assert native is not None
    assert _NATIVE.ctrl(native, get_mode, 0, None) == _NATIVE.SESS_CACHE_SERVER
    assert _NATIVE.ctrl(native, get_size, 0, None) == 123
    server, _ = build_contexts(_config(*args, "--tls-session-caching", "no"))
    native = _NATIVE.pointer(server)
    assert native is not None
    assert _NATIVE.ctrl(native, get_mode, 0, None) == _NATIVE.SESS_CACHE_OFF
