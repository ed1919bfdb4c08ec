"""The persistence state machine of a node: RDB snapshots (SAVE, BGSAVE, save points,
loading at start-up, shutdown) and the AOF (aof.py's formats, appended by the shell).

It holds what Redis keeps in `server.*` for persistence -- last save time and status,
the running child, changes since the last save -- and decides, as Redis's serverCron does,
when to fork. Everything touching disks or processes goes through the `Storage` port
(storage.py): node/io/files.py in a real server, MemoryStorage in pure tests. The
commands (node/commands/persistence.py), INFO and the shell only call methods here.

Rules: pure (no I/O, no clock: time is the engine's `now_ms`); errors a client sees are
CommandErrors with Redis's text; disk errors are logged with Redis's wording.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from node.persistence import rdb
from node.persistence.aofmanager import AofManager
from node.persistence.blobs import FormatError
from node.persistence.storage import MemoryStorage, Producer, Storage
from node.proto.errors import CommandError

if TYPE_CHECKING:
    from node.engine.engine import Engine

CHILD_RDB: Final = "rdb"
# Redis retries a failed background save from the save points only after this long.
BGSAVE_RETRY_DELAY_MS: Final = 5000
MISCONF_RDB: Final = (
    "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to "
    "persist to disk. Commands that may modify the data set are disabled, because this "
    "instance is configured to report errors during writes if RDB snapshotting fails "
    "(stop-writes-on-bgsave-error option). Please check the Redis logs for details about "
    "the RDB error."
)


@dataclass
class Child:
    pid: int
    kind: str  # CHILD_RDB or CHILD_AOF
    start_ms: int
    on_done: Callable[[bool], None]
    writing: str  # the file it writes


class Persistence:
    """RDB and AOF state of one engine."""

    def __init__(self, engine: Engine, storage: Storage | None = None) -> None:
        self.engine = engine
        self.storage: Storage = storage if storage is not None else MemoryStorage()
        self.lastsave_ms = 0  # 0 until the first save: LASTSAVE then reports the start time
        self.last_bgsave_ok = True
        self.last_bgsave_try_ms = 0
        self.last_bgsave_time_s = -1
        self.rdb_saves = 0
        self.dirty_before_bgsave = 0
        self.bgsave_scheduled = False
        self.child: Child | None = None
        self.last_fork_us = 0
        self.total_forks = 0
        self.keys_loaded = 0
        self.keys_expired_on_load = 0
        self.loading = False
        # Function libraries (FUNCTION2 records): the scripting engine plugs these in --
        # `libraries()` gives the codes to save, `load_libraries(codes)` restores them.
        self.libraries: Callable[[], list[bytes]] = list
        self.load_libraries: Callable[[list[bytes]], None] | None = None
        # The shell measures fork time; it sets this to a clock in microseconds.
        self.clock_us: Callable[[], int] = lambda: engine.now_ms * 1000
        self.last_child_start_ms = 0
        # Replication plugs in (node/replication/primary.py): `repl_info()` gives the AUX
        # fields every snapshot carries -- (stream db, replid, offset), or None when the
        # node is in no replication chain -- and `after_bgsave(ok)` hears a disk snapshot
        # end (replicas waiting for it get the file).
        self.repl_info: Callable[[], tuple[int, str, int] | None] = lambda: None
        self.after_bgsave: Callable[[bool], None] = lambda ok: None
        # ... and `repl_restore(aux)` takes the replication id and offset of the RDB file
        # loaded at start-up (a restarted node may then resynchronise partially).
        self.repl_restore: Callable[[dict[bytes, bytes]], None] = lambda aux: None
        self.aof = AofManager(self)

    # --- paths and the snapshot -----------------------------------------------------------
    def path(self, name: str) -> str:
        return posixpath.join(self.engine.config.str("dir"), name)

    @property
    def rdb_path(self) -> str:
        return self.path(self.engine.config.str("dbfilename"))

    def producer(self, *, aof_base: bool = False) -> Producer:
        """What writes an RDB image of the dataset as it is when the producer runs (in a
        forked child: as it was at fork time)."""
        engine = self.engine
        config = engine.config

        def produce(sink: Callable[[bytes], None]) -> None:
            writer = rdb.Writer(
                sink,
                compress=config.bool("rdbcompression"),
                checksum=config.bool("rdbchecksum"),
                limits=rdb.Limits.from_config(config),
            )
            writer.header(
                rdb.aux_fields(
                    ctime_s=engine.now_ms // 1000,
                    used_mem=engine.used_memory,
                    aof_base=aof_base,
                    repl=None if aof_base else self.repl_info(),
                )
            )
            for code in self.libraries():
                writer.function(code)
            rdb.write_keyspace(writer, engine.keyspace)
            writer.finish()

        return produce

    # --- SAVE -----------------------------------------------------------------------------
    def save(self) -> bool:
        """rdbSave: write the snapshot now, in this process. True on success."""
        log = self.engine.log
        try:
            self.storage.write_file(self.rdb_path, self.producer())
        except OSError as exc:
            log(
                "warning",
                f"Failed opening the temp RDB file temp-{self.rdb_path} (in "
                f"server root dir {self.engine.config.str('dir')}) for saving: "
                f"{exc.strerror}",
            )
            return False
        log("notice", "DB saved on disk")
        self.engine.dirty = 0
        self.lastsave_ms = self.engine.now_ms
        self._set_bgsave_ok(True)
        self.rdb_saves += 1
        return True

    def save_command(self) -> None:
        """SAVE: refused while a background save runs (the two would race on the file)."""
        if self.child is not None and self.child.kind == CHILD_RDB:
            raise CommandError("ERR Background save already in progress")
        if not self.save():
            raise CommandError("ERR")

    # --- BGSAVE ---------------------------------------------------------------------------
    def bgsave_command(self, schedule: bool, in_exec: bool) -> bytes:
        """BGSAVE [SCHEDULE]: the status reply, or a CommandError."""
        child = self.child
        if child is not None and child.kind == CHILD_RDB:
            raise CommandError("ERR Background save already in progress")
        if child is not None or in_exec:
            if schedule or in_exec:
                self.bgsave_scheduled = True
                return b"+Background saving scheduled\r\n"
            raise CommandError(
                "ERR Another child process is active (AOF?): can't BGSAVE "
                "right now. Use BGSAVE SCHEDULE in order to schedule a "
                "BGSAVE whenever possible."
            )
        if not self.bgsave():
            raise CommandError("ERR")
        return b"+Background saving started\r\n"

    def bgsave(self) -> bool:
        """rdbSaveBackground: fork a child that writes the snapshot. False if the fork
        failed (the last background save then counts as failed)."""
        engine = self.engine
        self.dirty_before_bgsave = engine.dirty
        self.last_bgsave_try_ms = engine.now_ms
        path, produce, storage = self.rdb_path, self.producer(), self.storage

        def job() -> bool:
            storage.write_file(path, produce)
            engine.log("notice", "DB saved on disk")
            return True

        pid = self.fork_child(job, CHILD_RDB, self._bgsave_done, path)
        if pid is None:
            self._set_bgsave_ok(False)
            return False
        engine.log("notice", f"Background saving started by pid {pid}")
        return True

    def fork_child(
        self, job: Callable[[], bool], kind: str, on_done: Callable[[bool], None], writing: str
    ) -> int | None:
        """Run `job` in a forked child (the only one: callers check `child` first);
        `on_done(ok)` runs when cron reaps it. None (logged) if the fork failed."""
        start = self.clock_us()
        try:
            pid = self.storage.fork(job)
        except OSError as exc:
            self.engine.log("warning", f"Can't save in background: fork: {exc.strerror}")
            return None
        self.last_fork_us = max(0, self.clock_us() - start)
        self.total_forks += 1
        self.child = Child(pid, kind, self.engine.now_ms, on_done, writing)
        return pid

    def _bgsave_done(self, ok: bool) -> None:
        engine = self.engine
        if ok:
            engine.log("notice", "Background saving terminated with success")
            engine.dirty = max(0, engine.dirty - self.dirty_before_bgsave)
            self.lastsave_ms = engine.now_ms
            self.rdb_saves += 1
        else:
            engine.log("warning", "Background saving error")
        self._set_bgsave_ok(ok)
        self.after_bgsave(ok)

    def kill_child(self) -> None:
        """Stop the running child, if any (its work is lost; Redis's killRDBChild)."""
        child = self.child
        if child is not None:
            self.storage.kill_child(child.pid, child.writing)
            self.child = None

    # --- cron -----------------------------------------------------------------------------
    def cron(self) -> None:
        """serverCron's persistence duties: reap a finished child, then start a scheduled
        BGSAVE or one a save point asks for."""
        for pid, ok in self.storage.reap():
            child = self.child
            if child is not None and child.pid == pid:
                self.child = None
                self.last_child_start_ms = child.start_ms
                if child.kind == CHILD_RDB:
                    self.last_bgsave_time_s = (self.engine.now_ms - child.start_ms) // 1000
                child.on_done(ok)
        self.aof.cron()
        if self.child is not None:
            return
        if self.bgsave_scheduled:
            self.bgsave_scheduled = False
            self.bgsave()
            return
        self._check_save_points()

    def _check_save_points(self) -> None:
        engine = self.engine
        now = engine.now_ms
        since_save = now - (self.lastsave_ms or engine.started_ms)
        points = engine.config.values["save"]
        assert isinstance(points, tuple)
        for point in points:
            assert isinstance(point, tuple)
            seconds, changes = point
            if (
                engine.dirty >= changes
                and since_save > seconds * 1000
                and (now - self.last_bgsave_try_ms > BGSAVE_RETRY_DELAY_MS or self.last_bgsave_ok)
            ):
                engine.log("notice", f"{changes} changes in {seconds} seconds. Saving...")
                self.bgsave()
                return

    # --- guards and INFO ------------------------------------------------------------------
    def disk_ok(self) -> bool:
        """No persistence error that could make writes fail (see `write_error`)."""
        return self.last_bgsave_ok and self.aof.error() is None

    def refresh_disk(self) -> None:
        """The AOF's health changed: the engine re-decides its dispatch path."""
        self.engine.refresh_dispatch()

    def _set_bgsave_ok(self, ok: bool) -> None:
        if ok != self.last_bgsave_ok:
            self.last_bgsave_ok = ok
            self.engine.refresh_dispatch()

    def write_error(self) -> str | None:
        """The MISCONF error writes get while the last save failed (None: writes allowed),
        as writeCommandsDeniedByDiskError decides."""
        config = self.engine.config
        if (
            not self.last_bgsave_ok
            and config.bool("stop-writes-on-bgsave-error")
            and config.values["save"]
        ):
            return MISCONF_RDB
        error = self.aof.error()
        if error is not None:
            return f"MISCONF Errors writing to the AOF file: {error.strerror}"
        return None

    def last_save_s(self) -> int:
        return (self.lastsave_ms or self.engine.started_ms) // 1000

    # --- loading and shutdown -------------------------------------------------------------
    def load_rdb(self, data: bytes) -> dict[bytes, bytes]:
        """Load an RDB image into the (empty) keyspace, dropping keys already expired.
        Returns its AUX fields. Raises FormatError."""
        engine = self.engine
        report = rdb.load_keyspace(
            engine.keyspace, data, rdb.Limits.from_config(engine.config), now_ms=engine.now_ms
        )
        self.keys_loaded = report.keys_loaded
        self.keys_expired_on_load = report.keys_expired
        functions = report.contents.functions
        if functions:
            if self.load_libraries is None:
                raise FormatError(
                    "the file holds function libraries and this server cannot load them"
                )
            self.load_libraries(functions)
        aux = report.contents.aux
        version = aux.get(b"redis-ver")
        if version is not None:
            engine.log(
                "notice", f"Loading RDB produced by version {version.decode('utf-8', 'replace')}"
            )
        engine.log(
            "notice",
            f"Done loading RDB, keys loaded: {report.keys_loaded}, keys "
            f"expired: {report.keys_expired}.",
        )
        return aux

    def load_at_startup(self) -> bool:
        """loadDataFromDisk: the AOF when appendonly is on, else the RDB file if there is
        one. False (after logging why) when the data cannot be loaded: the server must not
        start."""
        engine = self.engine
        if engine.config.bool("appendonly"):
            start = self.clock_us()
            self.loading = True
            try:
                if not self.aof.load():
                    return False
            finally:
                self.loading = False
            engine.log(
                "notice",
                f"DB loaded from append only file: {(self.clock_us() - start) / 1e6:.3f} seconds",
            )
            try:
                self.aof.start_after_load()
            except OSError as exc:
                engine.log("warning", f"Can't open the append-only file: {exc.strerror}")
                return False
            return True
        try:
            data = self.storage.read_file(self.rdb_path)
        except OSError as exc:
            engine.log("warning", f"Fatal error loading the DB: {exc.strerror}. Exiting.")
            return False
        if data is None:
            return True
        start = self.clock_us()
        self.loading = True
        try:
            aux = self.load_rdb(data)
        except FormatError as exc:
            engine.log("warning", f"Fatal error loading the DB: {exc}. Exiting.")
            return False
        finally:
            self.loading = False
        engine.log("notice", f"DB loaded from disk: {(self.clock_us() - start) / 1e6:.3f} seconds")
        self.repl_restore(aux)
        return True

    def prepare_shutdown(self, *, save: bool, force: bool) -> bool:
        """prepareForShutdown's persistence part: stop any child, then save when asked.
        False when the save failed and `force` was not given (the server stays up)."""
        engine = self.engine
        if self.child is not None:
            engine.log(
                "warning",
                "There is a child saving an .rdb. Killing it!"
                if self.child.kind == CHILD_RDB
                else "There is a child rewriting the AOF. Killing it!",
            )
            self.kill_child()
        try:
            self.aof.shutdown()
        except OSError as exc:
            engine.log("warning", f"Error flushing the AOF before exiting: {exc.strerror}")
            if not force:
                return False
        if save:
            engine.log("notice", "Saving the final RDB snapshot before exiting.")
            if not self.save():
                if not force:
                    engine.log("warning", "Error trying to save the DB, can't exit.")
                    return False
                engine.log("warning", "Error trying to save the DB. Exit anyway.")
        return True

    def flushall_save(self) -> None:
        """FLUSHALL with save points configured replaces the snapshot with the now empty
        dataset at once, as Redis does (else a restart would bring the data back)."""
        if self.child is not None and self.child.kind == CHILD_RDB:
            self.kill_child()
        if self.engine.config.values["save"]:
            self.save()

    def info(self) -> list[tuple[str, object]]:
        """INFO's persistence section, Redis 7.0.15's fields in its order."""
        engine = self.engine
        child = self.child
        now = engine.now_ms
        rdb_child = child is not None and child.kind == CHILD_RDB
        return [
            ("loading", int(self.loading)),
            ("async_loading", 0),
            ("current_cow_peak", 0),
            ("current_cow_size", 0),
            ("current_cow_size_age", 0),
            ("current_fork_perc", "0.00"),
            ("current_save_keys_processed", 0),
            ("current_save_keys_total", 0),
            ("rdb_changes_since_last_save", engine.dirty),
            ("rdb_bgsave_in_progress", int(rdb_child)),
            ("rdb_last_save_time", self.last_save_s()),
            ("rdb_last_bgsave_status", "ok" if self.last_bgsave_ok else "err"),
            ("rdb_last_bgsave_time_sec", self.last_bgsave_time_s),
            (
                "rdb_current_bgsave_time_sec",
                (now - child.start_ms) // 1000 if child is not None and rdb_child else -1,
            ),
            ("rdb_saves", self.rdb_saves),
            ("rdb_last_cow_size", 0),
            ("rdb_last_load_keys_expired", self.keys_expired_on_load),
            ("rdb_last_load_keys_loaded", self.keys_loaded),
            *self.aof.info(),
            ("module_fork_in_progress", 0),
            ("module_fork_last_cow_size", 0),
            *self.aof.info_tail(),
        ]
