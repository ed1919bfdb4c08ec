"""The replica side of one link to a master: the handshake a Redis 7.0 replica sends, the
PSYNC reply, the RDB payload and then the command stream (syncWithMaster,
readSyncBulkPayload, the master client's input).

`MasterLink` is a sans-IO machine for one connection: `start()` gives the first bytes to
send, `receive(data)` consumes the master's bytes and returns events (plus more bytes to
send in `out`). The handshake (digest section 3.1):
    PING -> [AUTH [user] pass, REPLCONF listening-port, [REPLCONF ip-address],
             REPLCONF capa eof capa psync2] (pipelined) -> PSYNC <replid> <offset> [FAILOVER]
Replies are read in order. A PING may be answered by +anything or by an auth error (the
AUTH that follows settles it); a failed AUTH ends the attempt; REPLCONF errors are not
critical. Bare newlines (the master's keepalive while it prepares a snapshot) are skipped
before the PSYNC reply and before the payload header. The payload is `$<len>\\r\\n` and
that many bytes (the stream may follow at once) or `$EOF:<40 chars>\\r\\n` and bytes up to
the same 40 chars, which end a read.

`StreamReader` splits the stream into commands and says where each ends, so that the
applied offset only counts whole commands (and whole transactions: the caller decides).
Pure.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final

import hiredis

from node.persistence.aof import encode_command

EOF_MARK_LEN: Final = 40


class Phase(enum.Enum):
    """Where the link is."""

    PING = enum.auto()
    REPLIES = enum.auto()  # the pipelined AUTH/REPLCONF replies
    PSYNC = enum.auto()
    PAYLOAD_HEADER = enum.auto()
    PAYLOAD = enum.auto()
    STREAM = enum.auto()
    FAILED = enum.auto()


@dataclass(frozen=True, slots=True)
class FullSync:
    """+FULLRESYNC: a snapshot follows; the stream after it starts at `offset` + 1."""

    replid: str
    offset: int


@dataclass(frozen=True, slots=True)
class Continue:
    """+CONTINUE [replid]: the stream resumes right after what we had."""

    replid: str | None


@dataclass(frozen=True, slots=True)
class Payload:
    """The whole RDB snapshot."""

    data: bytes


@dataclass(frozen=True, slots=True)
class Stream:
    """Command stream bytes (after CONTINUE, or after the payload)."""

    data: bytes


@dataclass(frozen=True, slots=True)
class Failed:
    """The attempt is over (the caller closes the link and retries later). `refused`:
    the master answered PSYNC with an error (a FAILOVER target says no this way)."""

    reason: str
    refused: bool = False


Event = FullSync | Continue | Payload | Stream | Failed


class MasterLink:
    """One connection to the master, from the first PING to the stream."""

    def __init__(
        self,
        *,
        port: int,
        psync_id: str,
        psync_offset: int,
        auth: tuple[str, str] | None = None,
        ip: str = "",
        failover: bool = False,
    ) -> None:
        self.port = port
        self.ip = ip
        self.auth = auth  # (masteruser or "", masterauth)
        self.psync_id = psync_id
        self.psync_offset = psync_offset
        self.failover = failover
        self.phase = Phase.PING
        self.out = bytearray()
        self.buf = bytearray()
        self.pending_replies: list[str] = []  # what the pipelined replies answer, in order
        self.size = -1  # payload length; -1 for an EOF-marked payload
        self.mark = b""
        self.payload = bytearray()
        self.log: list[str] = []  # notices for the caller to log

    def start(self) -> bytes:
        """The first bytes to send once connected."""
        return encode_command([b"PING"])

    # --- input ---------------------------------------------------------------------------
    def receive(self, data: bytes) -> list[Event]:
        """Consume bytes from the master; events in order. More bytes to send may appear
        in `out`."""
        if self.phase is Phase.STREAM:
            return [Stream(data)]
        if self.phase is Phase.FAILED:
            return []
        if self.phase is Phase.PAYLOAD:
            return self._payload(data)
        self.buf += data
        events: list[Event] = []
        while self.phase in (Phase.PING, Phase.REPLIES, Phase.PSYNC, Phase.PAYLOAD_HEADER):
            end = self.buf.find(b"\n")
            if end < 0:
                return events
            line = bytes(self.buf[:end]).rstrip(b"\r")
            del self.buf[: end + 1]
            event = self._line(line.decode("utf-8", "replace"))
            if event is not None:
                events.append(event)
        if self.buf:
            rest, self.buf = bytes(self.buf), bytearray()
            events += self.receive(rest)
        return events

    def _fail(self, reason: str, refused: bool = False) -> Failed:
        self.phase = Phase.FAILED
        return Failed(reason, refused)

    def _line(self, line: str) -> Event | None:
        phase = self.phase
        if phase is Phase.PING:
            if line.startswith("-") and not line.startswith(
                ("-NOAUTH", "-NOPERM", "-ERR operation not permitted")
            ):
                return self._fail(f"Error reply to PING from master: '{line}'")
            self._send_handshake()
            return None
        if phase is Phase.REPLIES:
            what = self.pending_replies.pop(0)
            if line.startswith("-"):
                if what == "auth":
                    return self._fail(f"Unable to AUTH to MASTER: {line}")
                self.log.append(
                    f"(Non critical) Master does not understand REPLCONF {what}: {line}"
                )
            if not self.pending_replies:
                self._send_psync()
            return None
        if phase is Phase.PSYNC:
            return self._psync_reply(line)
        # PAYLOAD_HEADER
        if not line:
            return None  # keepalive
        if line.startswith("-"):
            return self._fail(f"MASTER aborted replication with an error: {line[1:]}")
        if not line.startswith("$"):
            return self._fail(
                f"Bad protocol from MASTER, the first byte is not '$' (we "
                f"received '{line}'), are you sure the host and port are "
                f"right?"
            )
        if line.startswith("$EOF:") and len(line) == 5 + EOF_MARK_LEN:
            self.mark = line[5:].encode()
            self.size = -1
        else:
            try:
                self.size = int(line[1:])
            except ValueError:
                return self._fail(f"Bad payload length from MASTER: '{line}'")
        self.phase = Phase.PAYLOAD
        return None

    def _send_handshake(self) -> None:
        out = self.out
        replies = self.pending_replies
        if self.auth is not None:
            user, password = self.auth
            argv = (
                [b"AUTH", user.encode(), password.encode()]
                if user
                else [b"AUTH", password.encode()]
            )
            out += encode_command(argv)
            replies.append("auth")
        out += encode_command([b"REPLCONF", b"listening-port", b"%d" % self.port])
        replies.append("listening-port")
        if self.ip:
            out += encode_command([b"REPLCONF", b"ip-address", self.ip.encode()])
            replies.append("ip-address")
        out += encode_command([b"REPLCONF", b"capa", b"eof", b"capa", b"psync2"])
        replies.append("capa")
        self.phase = Phase.REPLIES

    def _send_psync(self) -> None:
        argv = [b"PSYNC", self.psync_id.encode(), b"%d" % self.psync_offset]
        if self.failover:
            argv.append(b"FAILOVER")
        self.out += encode_command(argv)
        self.phase = Phase.PSYNC

    def _psync_reply(self, line: str) -> Event | None:
        if not line:
            return None  # keepalive while the master prepares the snapshot
        if line.startswith("+FULLRESYNC"):
            words = line.split()
            if len(words) != 3 or len(words[1]) != 40 or not words[2].lstrip("-").isdigit():
                return self._fail("Master replied with wrong +FULLRESYNC syntax.")
            self.phase = Phase.PAYLOAD_HEADER
            return FullSync(words[1], int(words[2]))
        if line.startswith("+CONTINUE"):
            words = line.split()
            new_id = words[1] if len(words) > 1 and len(words[1]) == 40 else None
            self.phase = Phase.STREAM
            return Continue(new_id)
        if line.startswith(("-NOMASTERLINK", "-LOADING")):
            return self._fail(
                f"Master is currently unable to PSYNC but should be in the future: {line}"
            )
        return self._fail(f"Unexpected reply to PSYNC from master: {line}", refused=True)

    def _payload(self, data: bytes) -> list[Event]:
        payload = self.payload
        if self.size >= 0:
            need = self.size - len(payload)
            payload += data[:need]
            if len(payload) < self.size:
                return []
            rest = data[need:]
        else:
            payload += data
            mark = self.mark
            if len(payload) < len(mark) or payload[-len(mark) :] != mark:
                return []
            del payload[-len(mark) :]
            rest = b""
        self.payload = bytearray()
        self.phase = Phase.STREAM
        events: list[Event] = [Payload(bytes(payload))]
        if rest:
            events.append(Stream(rest))
        return events

    @property
    def read_bytes(self) -> int:
        """Payload bytes read so far (INFO master_sync_read_bytes)."""
        return len(self.payload)


# `$<n>\r\n` + `\r\n` around an argument of n bytes, for the common lengths.
_BULK_OVERHEAD: Final = tuple(len(b"$%d\r\n\r\n" % n) for n in range(1024))


def command_size(argv: list[bytes]) -> int:
    """The length of `argv` encoded as a RESP multibulk."""
    size = len(b"*%d\r\n" % len(argv))
    overhead = _BULK_OVERHEAD
    for arg in argv:
        n = len(arg)
        size += n + (overhead[n] if n < 1024 else len(str(n)) + 5)
    return size


class StreamReader:
    """The master's command stream, command by command, with the stream position (bytes
    since the reader started) where each one ends. The master encodes commands as
    canonical multibulks (it is the only sender), so each one's length is computed from
    its arguments; hiredis does the parsing."""

    def __init__(self) -> None:
        self._reader = hiredis.Reader()
        self.position = 0
        self.error: str | None = None

    def feed(self, data: bytes) -> list[tuple[list[bytes], int]]:
        reader = self._reader
        reader.feed(data)
        out: list[tuple[list[bytes], int]] = []
        position = self.position
        try:
            while (argv := reader.gets()) is not False:
                if argv.__class__ is not list or not argv:
                    self.error = f"unexpected {argv!r} in the replication stream"
                    break
                position += command_size(argv)
                out.append((argv, position))
        except hiredis.ProtocolError as exc:
            self.error = str(exc)
        self.position = position
        return out
