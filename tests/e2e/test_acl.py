"""ACL and AUTH over real sockets with redis-py: users logging in, NOPERM errors as client
exceptions, requirepass, disconnections when a user is deleted or loses a channel, and the
`aclfile` and `user` directives at startup, ACL SAVE and ACL LOAD on disk.

Every test runs against slotd and against a real redis-server, which shows the expectations
are Redis's. Tests on the shared servers remove their users and restore the default user.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from tests.procs import (
    REPO,
    ServerProcess,
    free_port,
    redis_command,
    redis_server_bin,
    slotd_command,
    start,
)
from tests.rawclient import RawClient

DEADLINE = 30.0
Factory = Callable[..., ServerProcess]


def client(server: ServerProcess, **kwargs: object) -> redis.Redis:
    return redis.Redis(*server.addr, socket_timeout=DEADLINE, **kwargs)  # type: ignore[arg-type]


def refused(server: ServerProcess, **kwargs: object) -> redis.Redis:
    """A client whose login must fail: redis-py's default retries (three, with backoff)
    only delayed the asserted error by ~4 s each."""
    return client(server, retry=Retry(NoBackoff(), 0), **kwargs)


def restore(server: ServerProcess) -> None:
    admin = client(server)
    for name in admin.execute_command("ACL", "USERS"):
        if name != b"default":
            admin.execute_command("ACL", "DELUSER", name)
    admin.config_set("requirepass", "")
    admin.execute_command(
        "ACL", "SETUSER", "default", "clearselectors", "on", "nopass", "~*", "&*", "+@all"
    )
    admin.execute_command("ACL", "LOG", "RESET")


@pytest.fixture(params=["slotd", "redis"])
def server(request: pytest.FixtureRequest) -> Iterator[ServerProcess]:
    proc: ServerProcess = request.getfixturevalue(f"{request.param}_proc")
    restore(proc)
    yield proc
    restore(proc)


@pytest.fixture(params=["slotd", "redis"])
def factory(request: pytest.FixtureRequest) -> Factory:
    made: Factory = request.getfixturevalue(f"{request.param}_factory")
    return made


def setuser(server: ServerProcess, name: str, *rules: str) -> None:
    assert client(server).execute_command("ACL", "SETUSER", name, *rules) == b"OK"


def wait_for(condition: Callable[[], bool]) -> None:
    give_up = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < give_up, "condition never met"
        time.sleep(0.01)


def closed(conn: RawClient) -> bool:
    """The server closed this connection (what a PING finds)."""
    try:
        conn.call("PING")
    except (OSError, AssertionError):
        return True
    return False


def test_users_log_in_and_get_noperm(server: ServerProcess) -> None:
    setuser(server, "alice", "on", ">pw", "~k*", "&news", "+get", "+set", "+publish", "+client")
    alice = client(server, username="alice", password="pw")
    assert alice.set("k1", "v")
    assert alice.get("k1") == b"v"
    assert alice.publish("news", "m") == 0
    with pytest.raises(redis.exceptions.NoPermissionError, match="keys used as arguments"):
        alice.get("x")
    with pytest.raises(redis.exceptions.NoPermissionError, match="run the 'del' command"):
        alice.delete("k1")
    with pytest.raises(redis.exceptions.NoPermissionError, match="channels used"):
        alice.publish("other", "m")
    with pytest.raises(redis.exceptions.AuthenticationError):
        refused(server, username="alice", password="wrong").ping()
    with pytest.raises(redis.exceptions.AuthenticationError):
        refused(server, username="nobody", password="pw").ping()
    setuser(server, "alice", "off")
    with pytest.raises(redis.exceptions.AuthenticationError):
        refused(server, username="alice", password="pw").ping()
    assert alice.get("k1") == b"v"  # already logged in: still served
    log = client(server).acl_log()
    # redis-py logs in with HELLO (and retries: refusals of one user share an entry).
    assert [(e["reason"], e["object"], e["username"]) for e in log] == [
        ("auth", "HELLO", "alice"),
        ("auth", "HELLO", "nobody"),
        ("channel", "other", "alice"),
        ("command", "del", "alice"),
        ("key", "x", "alice"),
    ]


def test_requirepass(server: ServerProcess) -> None:
    admin = client(server)
    admin.config_set("requirepass", "secret")
    with pytest.raises(redis.exceptions.AuthenticationError):
        refused(server).ping()
    assert client(server, password="secret").ping()
    assert client(server, username="default", password="secret").ping()
    assert client(server, password="secret", protocol=3).ping()
    admin.config_set("requirepass", "")
    assert client(server).ping()


def test_opening_the_default_user_lifts_the_unauthenticated_limits(server: ServerProcess) -> None:
    admin = client(server)
    admin.config_set("requirepass", "secret")
    with RawClient(*server.addr) as waiting:
        assert waiting.call("PING").startswith(b"-NOAUTH")
        admin.config_set("requirepass", "")
        assert waiting.call("PING") == b"+PONG\r\n"
        # More arguments than a client that must still log in may send.
        assert waiting.call("DEL", *[f"acl-lift-absent-{i}" for i in range(2000)]) == b":0\r\n"


def test_a_deleted_user_is_disconnected(server: ServerProcess) -> None:
    setuser(server, "bob", "on", ">pw", "+@all")
    setuser(server, "carol", "on", ">pw", "+@all")
    with (
        RawClient(*server.addr) as bob,
        RawClient(*server.addr) as other,
        RawClient(*server.addr) as carol,
    ):
        assert bob.call("AUTH", "bob", "pw") == b"+OK\r\n"
        assert client(server).execute_command("ACL", "DELUSER", "bob") == 1
        wait_for(lambda: closed(bob))
        assert other.call("PING") == b"+PONG\r\n"
        # Deleting the user you are logged in as: the reply comes, then the connection goes.
        assert carol.call("AUTH", "carol", "pw") == b"+OK\r\n"
        assert carol.call("ACL", "DELUSER", "carol") == b":1\r\n"
        wait_for(lambda: closed(carol))


def test_a_subscriber_losing_its_channel_is_disconnected(server: ServerProcess) -> None:
    setuser(server, "sub", "on", ">pw", "&news", "&sports", "+@all")
    listener = client(server, username="sub", password="pw").pubsub()
    listener.subscribe("news")
    assert listener.get_message(timeout=DEADLINE)["type"] == "subscribe"
    setuser(server, "sub", "resetchannels", "&news")  # still allowed: kept
    admin = client(server)
    assert admin.publish("news", "m1") == 1
    setuser(server, "sub", "resetchannels", "&weather")
    wait_for(lambda: admin.pubsub_numsub("news") == [(b"news", 0)])
    listener.close()


def test_aclfile_save_and_load(factory: Factory, tmp_path: Path) -> None:
    path = tmp_path / "users.acl"
    path.write_text("user alice on >pw ~a* +get\nuser default on nopass ~* &* +@all\n")
    server = factory("--aclfile", str(path))
    admin = client(server)
    alice = client(server, username="alice", password="pw")
    assert alice.get("a1") is None
    with pytest.raises(redis.exceptions.NoPermissionError):
        alice.set("a1", "v")
    admin.execute_command("ACL", "SETUSER", "bob", "on", "nopass", "+@all", "~*")
    assert admin.execute_command("ACL", "SAVE") == b"OK"
    lines = path.read_text().splitlines()
    assert [line.split()[:3] for line in lines] == [
        ["user", "alice", "on"],
        ["user", "bob", "on"],
        ["user", "default", "on"],
    ]
    assert lines[2] == "user default on nopass ~* &* +@all"
    path.write_text(path.read_text() + "user carol on nopass +@all ~*\n")
    assert admin.execute_command("ACL", "LOAD") == b"OK"
    assert client(server, username="carol", password="x").ping()
    wait_for(lambda: all(c["user"] != "alice" for c in admin.client_list()))
    path.write_text("user dave on +nosuch\n")
    with pytest.raises(redis.exceptions.ResponseError) as caught:
        admin.execute_command("ACL", "LOAD")
    assert str(caught.value) == (
        f"{path}:1: Error in applying operation '+nosuch': Unknown command or category name "
        "in ACL. WARNING: ACL errors detected, no change to the previously active ACL rules "
        "was performed"
    )
    assert client(server, username="carol", password="x").ping()


def test_user_directives(factory: Factory) -> None:
    server = factory("--user", "alice", "on", ">pw", "~*", "+@all", "--user", "default", "off")
    with pytest.raises(redis.exceptions.AuthenticationError):
        refused(server).ping()
    alice = client(server, username="alice", password="pw")
    assert alice.execute_command("ACL", "LIST") == [
        b"user alice on #30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4 "
        b"~* resetchannels +@all",
        b"user default off sanitize-payload resetchannels -@all",
    ]


@pytest.mark.parametrize("kind", ["slotd", "redis"])
def test_config_rewrite_writes_the_users(kind: str, tmp_path: Path) -> None:
    conf = tmp_path / "node.conf"
    conf.write_text("# users below\nuser alice on >pw ~* +@all\nuser bob off\nmaxclients 100\n")
    if kind == "slotd":
        server = start(
            "slotd", lambda port: slotd_command(port, tmp_path, config_file=conf), tmp_path
        )
    else:
        binary = redis_server_bin()
        server = start(
            "redis",
            lambda port: [binary, str(conf), *redis_command(binary, port, tmp_path)[1:]],
            tmp_path,
        )
    try:
        admin = client(server)
        admin.execute_command("ACL", "SETUSER", "carol", "on", "nopass", "+get")
        admin.execute_command("ACL", "DELUSER", "bob")
        assert admin.config_rewrite()
    finally:
        server.stop()
    lines = conf.read_text().splitlines()
    users = [(i, line) for i, line in enumerate(lines) if line.startswith("user ")]
    # Old user lines are reused in place; what does not fit goes at the end.
    assert users == [
        (
            1,
            "user alice on #30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4 "
            "~* resetchannels +@all",
        ),
        (2, "user carol on nopass resetchannels -@all +get"),
        (len(lines) - 1, "user default on nopass ~* &* +@all"),
    ]


def _exit_status(argv: list[str]) -> int:
    done = subprocess.run(argv, cwd=REPO, capture_output=True, timeout=DEADLINE)
    return done.returncode


@pytest.mark.parametrize(
    "extra",
    [
        ["--aclfile", "/nonexistent/users.acl"],
        ["--user", "alice", "+nosuch"],
    ],
)
def test_startup_refuses_bad_acls(extra: list[str], tmp_path: Path) -> None:
    common = [
        "--port",
        str(free_port()),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--dir",
        str(tmp_path),
        *extra,
    ]
    assert _exit_status([redis_server_bin(), *common]) == 1
    assert _exit_status([sys.executable, "-m", "node", *common]) == 1
