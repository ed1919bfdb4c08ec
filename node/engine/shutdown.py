"""Shutting the node down as Redis 7.0 does (server.c's prepareForShutdown/finishShutdown):
SHUTDOWN, SHUTDOWN ABORT and the SIGTERM/SIGINT requests the shell passes on.

Rules:
- Without NOW, and with `shutdown-timeout` > 0, a master whose replicas have not all
  acknowledged its replication offset waits for them: writes are paused, REPLCONF GETACK
  goes out, the SHUTDOWN callers stay blocked, and the shell's cron (`cron`) finishes the
  shutdown once every replica caught up or the timeout passed. SHUTDOWN ABORT (or a failed
  save at the end) unpauses and answers the blocked callers with Redis's error.
- Finishing means the persistence part (kill a child, flush the AOF, save when asked or
  when save points exist and NOSAVE was not given; FORCE goes on despite errors), then
  `engine.shutdown_requested`, which the shell acts on after the batch.
- A signal uses `shutdown-on-sigterm` / `shutdown-on-sigint` for its flags ("default": as
  SHUTDOWN with no option).
Pure: no clock reads of its own (the engine's cached time), no I/O.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from node.engine.blocking import Block
from node.proto import resp
from node.proto.errors import CommandError

if TYPE_CHECKING:
    from node.engine.engine import Engine
    from node.engine.session import Client

FAILED: Final = "ERR Errors trying to SHUTDOWN. Check logs."
_FOREVER_MS: Final = 1 << 62
_GETACK: Final = [b"REPLCONF", b"GETACK", b"*"]


class Shutdown:
    """The shutdown in progress, if any (Redis's shutdown_mstime and shutdown_flags)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.deadline_ms = 0  # nonzero while waiting for replicas
        self.flags: frozenset[str] = frozenset()
        self.waiters: list[Client] = []  # SHUTDOWN callers blocked until it ends

    @property
    def in_progress(self) -> bool:
        return self.deadline_ms != 0

    def request(self, flags: frozenset[str], client: Client | None) -> bytes | Block:
        """SHUTDOWN (or a signal, `client` None) with its flags (save, nosave, now, force).
        The caller's reply: nothing (the connection closes with the process), a Block while
        replicas are awaited, or CommandError when the save failed."""
        engine = self.engine
        if self.in_progress:  # already waiting: this caller waits for the same end
            return self._wait(client)
        engine.log("warning", "User requested shutdown...")
        if "now" not in flags and engine.config.int("shutdown-timeout") and not self._ready():
            self.flags = flags
            self.deadline_ms = engine.now_ms + engine.config.int("shutdown-timeout") * 1000
            primary = engine.replication.primary
            if not engine.observer.paused:
                primary.feed([(-1, list(_GETACK))])
            engine.observer.pause_clients(_FOREVER_MS, pause_all=False, purpose="shutdown")
            engine.log("notice", "Waiting for replicas before shutting down.")
            return self._wait(client)
        if not self._finish(flags):
            raise CommandError(FAILED)
        if client is not None:
            client.close_after_reply = True  # nothing after SHUTDOWN runs
        return b""

    def signal(self, name: str) -> bool | None:
        """SIGTERM/SIGINT: True when the node stops now, None while it waits for replicas,
        False when the save failed (it keeps running, as Redis does)."""
        option = "shutdown-on-sigint" if name == "SIGINT" else "shutdown-on-sigterm"
        value = self.engine.config.values[option]
        assert isinstance(value, tuple)
        try:
            reply = self.request(frozenset(str(v) for v in value), None)
        except CommandError:
            return False
        return None if isinstance(reply, Block) else True

    def abort(self) -> bool:
        """SHUTDOWN ABORT: False when no shutdown is in progress."""
        if not self.in_progress:
            return False
        self._end_waiting()
        self.engine.log("notice", "Shutdown manually aborted.")
        return True

    def cron(self) -> None:
        """The shell's cron: finish once the replicas caught up or the time is up."""
        if not self.in_progress:
            return
        engine = self.engine
        if engine.now_ms < self.deadline_ms and not self._ready():
            return
        if not self._finish(self.flags):
            self._end_waiting()

    # --- helpers -----------------------------------------------------------------------------
    def _ready(self) -> bool:
        """isReadyToShutdown: every replica acknowledged the whole stream."""
        primary = self.engine.replication.primary
        return all(r.ack_offset == primary.offset for r in primary.replicas.values())

    def _wait(self, client: Client | None) -> Block:
        """Park the caller (no keys, no deadline) until the shutdown ends either way."""
        if client is not None:
            self.waiters.append(client)
        return Block((), 0, b"")

    def _finish(self, flags: frozenset[str]) -> bool:
        """finishShutdown's persistence part, then the request the shell acts on."""
        engine = self.engine
        self._log_replicas()
        save = "save" in flags or ("nosave" not in flags and bool(engine.config.values["save"]))
        if not engine.persistence.prepare_shutdown(save=save, force="force" in flags):
            engine.log(
                "warning",
                "Errors trying to shut down the server. Check the logs for more information.",
            )
            return False
        words = ["save" if save else "nosave"] + [w for w in ("now", "force") if w in flags]
        engine.shutdown_requested = " ".join(words)
        return True

    def _log_replicas(self) -> None:
        """finishShutdown's report on the replicas' offsets."""
        engine = self.engine
        primary = engine.replication.primary
        if not primary.replicas:
            return
        in_sync = 0
        for replica in primary.replicas.values():
            if replica.ack_offset == primary.offset:
                in_sync += 1
                continue
            engine.log(
                "warning",
                f"Lagging replica {primary.name(replica)} reported offset "
                f"{primary.offset - replica.ack_offset} behind master, "
                f"lag={primary.lag_s(replica)}, state={replica.state.word}.",
            )
        engine.log(
            "notice",
            f"{in_sync} of {len(primary.replicas)} replicas are in sync when shutting down.",
        )

    def _end_waiting(self) -> None:
        """abortShutdown: writes resume, the blocked callers get Redis's error."""
        engine = self.engine
        self.deadline_ms = 0
        self.flags = frozenset()
        waiters, self.waiters = self.waiters, []
        for client in waiters:
            if client.blocked is not None:
                engine.count_error(FAILED)
                engine.unblock(client, resp.error(FAILED))
        engine.observer.end_pause("shutdown")
