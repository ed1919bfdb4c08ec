"""Per-client memory and client eviction (maxmemory-clients) on real processes: slotd and a
real redis-server must both show a client with a big unread reply as big in CLIENT LIST,
and evict it -- only it -- under maxmemory-clients, logging it as Redis does.

The "hog" pipelines GETs of a 1 MB value and never reads: its replies pile up in the
server's output buffer (client-output-buffer-limit for normal clients is off by default).
The "writer" sends most of a request bigger than the limit: its query buffer goes over.
No timing assertions: waits are deadlines that only turn a hang into a failure.
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Callable

import pytest

from tests.procs import ServerProcess
from tests.rawclient import RawClient, encode_command

pytestmark = [pytest.mark.interop, pytest.mark.slow]

Factory = Callable[..., ServerProcess]
MB = 1 << 20
DEADLINE = 60.0
PONG = b"+PONG\r\n"


def client_fields(admin: RawClient, name: str) -> dict[str, str] | None:
    listing = admin.call("CLIENT", "LIST").decode()
    for line in listing.split("\n"):
        fields = dict(part.split("=", 1) for part in line.split() if "=" in part)
        if fields.get("name") == name:
            return fields
    return None


def wait_for(predicate: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def start_hog(server: ServerProcess, name: str, gets: int) -> socket.socket:
    """A connection that asks for `gets` copies of the big value and reads none."""
    sock = socket.create_connection(server.addr, timeout=DEADLINE)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.sendall(encode_command("CLIENT", "SETNAME", name))
    assert sock.recv(16) == b"+OK\r\n"
    sock.sendall(encode_command("GET", "big") * gets)
    return sock


def info_field(admin: RawClient, section: str, field: str) -> int:
    found = re.search(rb"\r\n%s:(\d+)\r\n" % field.encode(), admin.call("INFO", section))
    assert found is not None, field
    return int(found.group(1))


@pytest.mark.parametrize("kind", ["slotd", "redis"])
def test_the_client_with_a_big_unread_reply_is_evicted(
    kind: str, slotd_factory: Factory, redis_factory: Factory
) -> None:
    server = (slotd_factory if kind == "slotd" else redis_factory)()
    with (
        RawClient(*server.addr, timeout=DEADLINE) as admin,
        RawClient(*server.addr, timeout=DEADLINE) as small,
    ):
        assert admin.call("CLIENT", "SETNAME", "keeper") == b"+OK\r\n"
        assert admin.call("CLIENT", "NO-EVICT", "on") == b"+OK\r\n"
        assert small.call("CLIENT", "SETNAME", "small") == b"+OK\r\n"
        assert admin.call("SET", "big", b"x" * MB) == b"+OK\r\n"

        # Without a limit: the hog's pending replies show in its omem and tot-mem, and in
        # INFO's mem_clients_normal and client_recent_max_output_buffer.
        hog = start_hog(server, "hog", 40)

        def hog_is_big() -> bool:
            fields = client_fields(admin, "hog")
            return fields is not None and int(fields["omem"]) > 16 * MB

        wait_for(hog_is_big, "the hog's output buffer to grow")
        fields = client_fields(admin, "hog")
        assert fields is not None
        assert int(fields["tot-mem"]) >= int(fields["omem"]) and int(fields["oll"]) > 0
        assert int(client_fields(admin, "small")["tot-mem"]) < MB  # type: ignore[index]
        # Redis refreshes the per-type totals as its clients cron visits each client.
        wait_for(
            lambda: info_field(admin, "memory", "mem_clients_normal") > 16 * MB,
            "mem_clients_normal to count the hog",
        )
        wait_for(
            lambda: info_field(admin, "clients", "client_recent_max_output_buffer") > 16 * MB,
            "the output buffer peak",
        )

        # A limit below it: the next pass evicts the hog, and only it.
        assert admin.call("CONFIG", "SET", "maxmemory-clients", "8mb") == b"+OK\r\n"
        wait_for(lambda: client_fields(admin, "hog") is None, "the hog's eviction")
        assert info_field(admin, "stats", "evicted_clients") == 1
        hog.close()

        # With the limit set, a new hog is evicted as its replies pile up.
        hog = start_hog(server, "hog2", 40)
        wait_for(
            lambda: info_field(admin, "stats", "evicted_clients") == 2, "the second hog's eviction"
        )
        assert client_fields(admin, "hog2") is None
        hog.close()

        assert small.call("PING") == PONG
        assert admin.call("PING") == PONG
        assert client_fields(admin, "small") is not None
        assert admin.call("CONFIG", "SET", "maxmemory-clients", "0") == b"+OK\r\n"
    log = server.log_path.read_text(errors="replace")
    evictions = re.findall(r"\* Evicting client: id=\d+ addr=\S+ laddr=\S+ fd=\d+ name=(\S+) ", log)
    assert evictions == ["hog", "hog2"]


@pytest.mark.parametrize("kind", ["slotd", "redis"])
def test_a_request_growing_past_the_limit_is_evicted(
    kind: str, slotd_factory: Factory, redis_factory: Factory
) -> None:
    server = (slotd_factory if kind == "slotd" else redis_factory)()
    with RawClient(*server.addr, timeout=DEADLINE) as admin:
        assert admin.call("CLIENT", "NO-EVICT", "on") == b"+OK\r\n"
        assert admin.call("CONFIG", "SET", "maxmemory-clients", "3mb") == b"+OK\r\n"
        with socket.create_connection(server.addr, timeout=DEADLINE) as sock:
            sock.sendall(encode_command("CLIENT", "SETNAME", "writer"))
            assert sock.recv(16) == b"+OK\r\n"
            # A 4 MB argument, 3.5 MB of it sent: Redis sizes its query buffer for the
            # whole argument at once, slotd's grows with what arrives; both pass 3 MB.
            size = 4 * MB
            try:  # the server may close the socket while this is still being sent
                sock.sendall(b"*2\r\n$3\r\nGET\r\n$%d\r\n" % size + b"k" * (size * 7 // 8))
            except OSError:
                pass
            wait_for(lambda: client_fields(admin, "writer") is None, "the writer's eviction")
        assert info_field(admin, "stats", "evicted_clients") == 1
        assert admin.call("CONFIG", "SET", "maxmemory-clients", "0") == b"+OK\r\n"
