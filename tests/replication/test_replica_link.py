"""The replica's handshake machine (MasterLink) fed with a master's replies, byte by byte
where it matters, and the stream reader's command boundaries."""

from __future__ import annotations

from node.persistence.aof import encode_command
from node.replication.replica import (
    Continue,
    Failed,
    FullSync,
    MasterLink,
    Payload,
    Phase,
    Stream,
    StreamReader,
    command_size,
)

REPLID = "a" * 40
MARK = b"m" * 40


def cmd(*args: str) -> bytes:
    return encode_command([a.encode() for a in args])


def take(link: MasterLink) -> bytes:
    out = bytes(link.out)
    link.out.clear()
    return out


def handshake(link: MasterLink, *, auth: bool = False, ip: bool = False) -> None:
    """Drive a link through PING and the pipelined replies up to the PSYNC."""
    assert link.receive(b"+PONG\r\n") == []
    replies = 2 + auth + ip
    assert link.receive(b"+OK\r\n" * replies) == []
    assert link.phase is Phase.PSYNC


def test_first_handshake_sends_what_a_redis_replica_sends() -> None:
    link = MasterLink(port=6380, psync_id="?", psync_offset=-1)
    assert link.start() == cmd("PING")
    assert link.receive(b"+PONG\r\n") == []
    assert take(link) == (
        cmd("REPLCONF", "listening-port", "6380") + cmd("REPLCONF", "capa", "eof", "capa", "psync2")
    )
    assert link.receive(b"+OK\r\n") == []
    assert take(link) == b""  # PSYNC only after every pipelined reply
    assert link.receive(b"+OK\r\n") == []
    assert take(link) == cmd("PSYNC", "?", "-1")


def test_auth_and_announced_ip_are_pipelined_before_capa() -> None:
    link = MasterLink(
        port=7000, psync_id=REPLID, psync_offset=101, auth=("repl", "secret"), ip="10.0.0.9"
    )
    link.start()
    link.receive(b"-NOAUTH Authentication required.\r\n")  # AUTH comes next: fine
    assert take(link) == (
        cmd("AUTH", "repl", "secret")
        + cmd("REPLCONF", "listening-port", "7000")
        + cmd("REPLCONF", "ip-address", "10.0.0.9")
        + cmd("REPLCONF", "capa", "eof", "capa", "psync2")
    )
    link.receive(b"+OK\r\n+OK\r\n-ERR no ip-address here\r\n+OK\r\n")
    assert take(link) == cmd("PSYNC", REPLID, "101")
    assert any("ip-address" in line for line in link.log)  # not critical, logged


def test_auth_without_user_and_a_failed_auth() -> None:
    link = MasterLink(port=1, psync_id="?", psync_offset=-1, auth=("", "pw"))
    link.start()
    link.receive(b"+PONG\r\n")
    assert take(link).startswith(cmd("AUTH", "pw"))
    events = link.receive(b"-WRONGPASS invalid username-password pair\r\n")
    assert isinstance(events[0], Failed) and "Unable to AUTH" in events[0].reason
    assert link.phase is Phase.FAILED


def test_an_error_to_ping_ends_the_attempt() -> None:
    link = MasterLink(port=1, psync_id="?", psync_offset=-1)
    link.start()
    [event] = link.receive(b"-ERR unknown command\r\n")
    assert isinstance(event, Failed)


def test_full_sync_with_a_length_payload_and_the_stream_in_the_same_read() -> None:
    link = MasterLink(port=1, psync_id="?", psync_offset=-1)
    link.start()
    handshake(link)
    take(link)
    rdb = b"REDIS0010" + b"x" * 20
    data = (
        b"\n\n+FULLRESYNC "
        + REPLID.encode()
        + b" 5000\r\n\n\n$%d\r\n" % len(rdb)
        + rdb
        + cmd("SELECT", "0")
        + cmd("SET", "k", "v")
    )
    events: list[object] = []
    for i in range(len(data)):  # one byte at a time
        events += link.receive(data[i : i + 1])
    assert events[0] == FullSync(REPLID, 5000)
    assert events[1] == Payload(rdb)
    assert b"".join(e.data for e in events[2:] if isinstance(e, Stream)) == (
        cmd("SELECT", "0") + cmd("SET", "k", "v")
    )
    assert link.phase is Phase.STREAM


def test_eof_marked_payload() -> None:
    link = MasterLink(port=1, psync_id="?", psync_offset=-1)
    link.start()
    handshake(link)
    assert link.receive(b"+FULLRESYNC " + REPLID.encode() + b" 0\r\n") == [FullSync(REPLID, 0)]
    assert link.receive(b"$EOF:" + MARK + b"\r\nREDIS0010abc") == []
    assert link.read_bytes == 12
    assert link.receive(b"def" + MARK) == [Payload(b"REDIS0010abcdef")]
    assert link.receive(cmd("PING")) == [Stream(cmd("PING"))]


def test_continue_with_and_without_a_new_id() -> None:
    for line, new_id in (
        (b"+CONTINUE " + REPLID.encode() + b"\r\n", REPLID),
        (b"+CONTINUE\r\n", None),
    ):
        link = MasterLink(port=1, psync_id="b" * 40, psync_offset=10)
        link.start()
        handshake(link)
        events = link.receive(line + cmd("SET", "a", "1"))
        assert events == [Continue(new_id), Stream(cmd("SET", "a", "1"))]


def test_psync_refusals() -> None:
    for reply, refused in (
        (b"-NOMASTERLINK Can't SYNC while not connected with my master", False),
        (b"-LOADING Redis is loading", False),
        (b"-ERR PSYNC FAILOVER replid must match my replid.", True),
    ):
        link = MasterLink(port=1, psync_id=REPLID, psync_offset=1, failover=True)
        link.start()
        handshake(link)
        assert take(link).endswith(cmd("PSYNC", REPLID, "1", "FAILOVER"))
        [event] = link.receive(reply + b"\r\n")
        assert isinstance(event, Failed) and event.refused is refused


def test_bad_fullresync_and_bad_payload_header() -> None:
    link = MasterLink(port=1, psync_id="?", psync_offset=-1)
    link.start()
    handshake(link)
    [event] = link.receive(b"+FULLRESYNC short 1\r\n")
    assert isinstance(event, Failed)
    link = MasterLink(port=1, psync_id="?", psync_offset=-1)
    link.start()
    handshake(link)
    link.receive(b"+FULLRESYNC " + REPLID.encode() + b" 1\r\n")
    [event] = link.receive(b"-ERR BGSAVE failed, replication can't continue\r\n")
    assert isinstance(event, Failed) and "aborted" in event.reason


def test_stream_reader_reports_where_each_command_ends() -> None:
    reader = StreamReader()
    first, second = cmd("SELECT", "0"), cmd("SET", "key", "x" * 300)
    data = first + second
    got = reader.feed(data[:30])
    assert got == [([b"SELECT", b"0"], len(first))]
    got = reader.feed(data[30:])
    assert got == [([b"SET", b"key", b"x" * 300], len(data))]
    assert command_size([b"SET", b"key", b"x" * 300]) == len(second)
