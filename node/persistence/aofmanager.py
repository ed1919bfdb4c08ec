"""The append-only file at run time (Redis 7.0's aof.c): loading the multi-part AOF at
start-up, appending what the engine propagates, fsync policies, rewrites by fork.

States: off; on (appends go to the last incr file of the manifest); wait-rewrite (AOF
turned on at run time: appends already go to a new incr file, but the manifest on disk
only names it once the first rewrite has written a base).

Per event-loop turn the shell calls `feed` with the engine's propagated commands and then
`flush` BEFORE sending any reply: one write(2) of the turn's commands, and with
`appendfsync always` an fsync too, so nothing is acknowledged that is not on disk.
`everysec` fsyncs on a worker thread at most once a second (at most ~1 s of writes at risk
on a power loss; a process crash loses nothing the OS already has); `no` never fsyncs.

A rewrite (BGREWRITEAOF, `auto-aof-rewrite-*`, or turning AOF on) first opens a new incr
file and records it in the manifest, so the parent never buffers; the forked child writes
the new base (an RDB with `aof-base` set, or commands when `aof-use-rdb-preamble` is no);
when it succeeds the manifest names the new base and the incr files before the new one
become history and are deleted. Every manifest change is a crash-safe file replacement.
Pure: files go through the Storage port.
"""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING, Final

from node.engine.session import AOF_CLIENT_ID, Client
from node.persistence import aof
from node.persistence.aof import AofFile, Manifest
from node.persistence.blobs import FormatError
from node.persistence.storage import AppendFile, Producer, Sink
from node.proto.errors import CommandError
from node.proto.resp import BULK_HEADERS

if TYPE_CHECKING:
    from node.persistence.manager import Persistence

AOF_OFF: Final = "off"
AOF_ON: Final = "on"
AOF_WAIT_REWRITE: Final = "wait-rewrite"
CHILD_AOF: Final = "aof"
_EVERYSEC_MS: Final = 1000


class AofManager:
    """The AOF of one engine."""

    def __init__(self, persistence: Persistence) -> None:
        self.persistence = persistence
        self.engine = persistence.engine
        self.state = AOF_OFF
        self.manifest = Manifest()
        self.file: AppendFile | None = None
        self.incr: AofFile | None = None
        self.buf: list[bytes] = []
        self.selected_db = -1
        self.last_fsync_ms = 0
        self.last_ts_s = 0
        self.write_error: OSError | None = None
        self.rewrite_scheduled = False
        self.rewrites = 0
        self.last_rewrite_ok = True
        self.last_rewrite_time_s = -1
        self.rewrite_failures = 0
        self.base_size = 0  # the AOF's size after the last rewrite (auto-rewrite growth)
        self.delayed_fsyncs = 0
        self.engine.config.listeners.append(self._config_changed)

    # --- paths ----------------------------------------------------------------------------
    @property
    def filename(self) -> str:
        return self.engine.config.str("appendfilename")

    @property
    def directory(self) -> str:
        return self.persistence.path(self.engine.config.str("appenddirname"))

    def path(self, name: str) -> str:
        return posixpath.join(self.directory, name)

    @property
    def manifest_path(self) -> str:
        return self.path(f"{self.filename}.manifest")

    def _persist_manifest(self, manifest: Manifest) -> None:
        data = manifest.format()
        self.persistence.storage.write_file(self.manifest_path, lambda sink: sink(data))

    # --- loading --------------------------------------------------------------------------
    def load(self) -> bool:
        """loadAppendOnlyFiles: base then incr files, as the manifest lists them. False
        (after logging why) when the server must not start."""
        storage = self.persistence.storage
        log = self.engine.log
        try:
            data = storage.read_file(self.manifest_path)
            if data is None:
                self.manifest = self._upgrade_or_empty()
            else:
                self.manifest = aof.parse_manifest(data)
            files = [f for f in self.manifest.files() if f.type != aof.TYPE_HISTORY]
            for i, entry in enumerate(files):
                self._load_file(entry, last=i == len(files) - 1)
        except (FormatError, OSError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else str(exc)
            log("warning", f"Fatal error loading the AOF: {reason}. Exiting.")
            return False
        return True

    def _upgrade_or_empty(self) -> Manifest:
        """No manifest: an old single-file AOF in `dir` becomes the base (Redis 7.0's
        upgrade), else there is nothing to load."""
        storage = self.persistence.storage
        old = self.persistence.path(self.filename)
        manifest = Manifest()
        if storage.exists(old):
            storage.make_dir(self.directory)
            storage.rename(old, self.path(self.filename))
            manifest.base = AofFile(self.filename, 1, aof.TYPE_BASE)
            manifest.base_seq = 1
            self._persist_manifest(manifest)
            self.engine.log(
                "notice", "Successfully migrated an old-style AOF into the AOF directory"
            )
        return manifest

    def _load_file(self, entry: AofFile, *, last: bool) -> None:
        storage = self.persistence.storage
        path = self.path(entry.name)
        data = storage.read_file(path)
        if data is None:
            raise FormatError(f"The AOF file {entry.name} doesn't exist")
        log = self.engine.log
        if data.startswith(b"REDIS"):
            self.persistence.load_rdb(data)
            log("notice", f"DB loaded from base file {entry.name}")
            return
        parsed = aof.parse_commands(data)
        if parsed.truncated or parsed.open_multi:
            if not last:
                raise FormatError(
                    f"Unexpected end of file reading the append only file {entry.name}"
                )
            if parsed.truncated and not self.engine.config.bool("aof-load-truncated"):
                raise FormatError(
                    f"Unexpected end of file reading the append only file {entry.name}. "
                    "You can: 1) Make a backup of your AOF file, then use ./redis-check-aof "
                    "--fix <filename.manifest>. 2) Alternatively you can set the "
                    "'aof-load-truncated' configuration option to yes and restart the "
                    "server."
                )
            if parsed.open_multi:
                log("warning", f"Revert incomplete MULTI/EXEC transaction in AOF file {entry.name}")
            else:
                log(
                    "warning", f"!!! Warning: short read while loading the AOF file {entry.name}!!!"
                )
                log(
                    "warning",
                    f"AOF {entry.name} loaded anyway because aof-load-truncated is enabled",
                )
            storage.truncate(path, parsed.valid_length)
        client = Client(self.engine, AOF_CLIENT_ID)
        execute = self.engine.execute
        for argv in parsed.commands:
            execute(client, argv)
            client.out.clear()
            if client.blocked is not None:  # never: nothing can wake it during a load
                self.engine.unblock(client)
        log(
            "notice",
            f"DB loaded from incr file {entry.name}"
            if entry.type == aof.TYPE_INCR
            else f"DB loaded from base file {entry.name}",
        )

    # --- switching on and off ----------------------------------------------------------------
    def start_after_load(self) -> None:
        """aofOpenIfNeededOnServerStart: make sure a base exists (an empty one when there
        was nothing), open the last incr file (a new one if none) and persist the
        manifest."""
        storage = self.persistence.storage
        storage.make_dir(self.directory)
        manifest = self.manifest
        if manifest.base is None and not manifest.incrs:
            self._write_base(manifest.new_base(self.filename, self._preamble()).name)
        if not manifest.incrs:
            manifest.new_incr(self.filename)
        self._persist_manifest(manifest)
        self._open(manifest.incrs[-1])
        self.state = AOF_ON
        self.base_size = self.current_size()
        self._set_propagating(True)

    def _write_base(self, name: str) -> None:
        self.persistence.storage.write_file(self.path(name), self._base_producer())

    def _preamble(self) -> bool:
        return self.engine.config.bool("aof-use-rdb-preamble")

    def _base_producer(self) -> Producer:
        if self._preamble():
            return self.persistence.producer(aof_base=True)
        keyspace = self.engine.keyspace

        def produce(sink: Sink) -> None:
            dbs = ((db.index, db.data, db.expires) for db in keyspace.dbs)
            for argv in aof.rewrite_commands(dbs):
                sink(aof.encode_command(argv))

        return produce

    def _open(self, incr: AofFile) -> None:
        if self.file is not None:
            self.file.close()
        self.file = self.persistence.storage.open_append(self.path(incr.name))
        self.incr = incr
        self.selected_db = -1  # every incr file starts with a SELECT

    def _set_propagating(self, on: bool) -> None:
        self.engine.want_propagation("aof", on)

    def _config_changed(self, name: str) -> None:
        if name != "appendonly" or self.persistence.loading:
            return
        if self.engine.config.bool("appendonly"):
            if self.state == AOF_OFF:
                self.start_at_runtime()
        elif self.state != AOF_OFF:
            self.stop()

    def start_at_runtime(self) -> None:
        """CONFIG SET appendonly yes (startAppendOnly): appends go to a new incr file at
        once; a rewrite writes the base, and only then does the manifest change."""
        storage = self.persistence.storage
        try:
            data = storage.read_file(self.manifest_path)
            self.manifest = aof.parse_manifest(data) if data is not None else Manifest()
            storage.make_dir(self.directory)
            self._open(self.manifest.new_incr(self.filename))
        except (OSError, FormatError) as exc:
            self.engine.log(
                "warning",
                f"Redis needs to enable the AOF but can't open the append only file: {exc}",
            )
            raise CommandError(
                "ERR CONFIG SET failed (possibly related to argument "
                "'appendonly') - Failed to enable AOF"
            ) from None
        self.state = AOF_WAIT_REWRITE
        self._set_propagating(True)
        if self.persistence.child is not None or not self.rewrite():
            self.rewrite_scheduled = True

    def stop(self) -> None:
        """CONFIG SET appendonly no (stopAppendOnly)."""
        self.flush(force_fsync=True)
        child = self.persistence.child
        if child is not None and child.kind == CHILD_AOF:
            self.engine.log("notice", "Killing running AOF rewrite child")
            self.persistence.kill_child()
        if self.file is not None:
            self.file.close()
        self.file = None
        self.incr = None
        self.buf = []
        self.state = AOF_OFF
        self.rewrite_scheduled = False
        self._set_propagating(False)

    # --- appending ------------------------------------------------------------------------
    def feed(self, commands: list[tuple[int, list[bytes]]]) -> None:
        """feedAppendOnlyFile for a batch of propagated commands (db -1: keep the db)."""
        if self.state == AOF_OFF:
            return
        buf = self.buf
        if self.engine.config.bool("aof-timestamp-enabled"):
            now_s = self.engine.now_ms // 1000
            if now_s > self.last_ts_s:
                buf.append(b"#TS:%d\r\n" % now_s)
                self.last_ts_s = now_s
        out = bytearray()
        heads = BULK_HEADERS
        selected = self.selected_db
        for db, argv in commands:
            if db >= 0 and db != selected:
                out += aof.encode_command([b"SELECT", b"%d" % db])
                selected = db
            out += b"*%d\r\n" % len(argv)
            for arg in argv:
                n = len(arg)
                out += heads[n] if n < 1024 else b"$%d\r\n" % n
                out += arg
                out += b"\r\n"
        self.selected_db = selected
        buf.append(bytes(out))

    def flush(self, *, force_fsync: bool = False) -> None:
        """flushAppendOnlyFile: write what was fed, then fsync as appendfsync says."""
        file = self.file
        if file is None:
            return
        now = self.engine.now_ms
        policy = self.engine.config.str("appendfsync")
        if self.buf:
            data = b"".join(self.buf)
            try:
                file.write(data)
            except OSError as exc:
                self._write_failed(exc)
                self.buf = [data]  # kept for the next attempt, as Redis keeps aof_buf
                return
            self.buf = []
            if self.write_error is not None:
                self.engine.log("warning", "AOF write error looks solved, Redis can write again.")
                self.write_error = None
                self.persistence.refresh_disk()
            if policy == "always" or force_fsync:
                try:
                    file.fsync()
                except OSError as exc:
                    self._write_failed(exc)
                    return
                self.last_fsync_ms = now
                return
        if force_fsync:
            file.fsync()
            self.last_fsync_ms = now
        elif policy == "everysec" and now - self.last_fsync_ms >= _EVERYSEC_MS:
            if file.fsync_pending():
                self.delayed_fsyncs += 1
            else:
                file.fsync_in_background()
                self.last_fsync_ms = now

    def _write_failed(self, exc: OSError) -> None:
        if self.write_error is None:
            self.engine.log("warning", f"Error writing to the AOF file: {exc.strerror}")
        self.write_error = exc
        self.persistence.refresh_disk()

    def error(self) -> OSError | None:
        """The AOF error that stops writes (a failed write or background fsync)."""
        if self.state == AOF_OFF:
            return None
        if self.write_error is not None:
            return self.write_error
        return self.file.background_error() if self.file is not None else None

    def current_size(self) -> int:
        storage = self.persistence.storage
        total = 0
        for entry in self.manifest.files():
            if entry.type == aof.TYPE_HISTORY:
                continue
            if entry is self.incr and self.file is not None:
                total += self.file.size()
                continue
            data = storage.read_file(self.path(entry.name))
            total += len(data) if data is not None else 0
        return total

    # --- rewrites -------------------------------------------------------------------------
    def rewrite_command(self, in_exec: bool) -> bytes:
        """BGREWRITEAOF: the status reply, or a CommandError."""
        child = self.persistence.child
        if child is not None and child.kind == CHILD_AOF:
            raise CommandError("ERR Background append only file rewriting already in progress")
        if child is not None or in_exec:
            self.rewrite_scheduled = True
            self.rewrite_failures = 0
            return b"+Background append only file rewriting scheduled\r\n"
        if not self.rewrite():
            raise CommandError(
                "ERR Can't execute an AOF background rewriting. Please check "
                "the server logs for more information."
            )
        return b"+Background append only file rewriting started\r\n"

    def rewrite(self) -> bool:
        """rewriteAppendOnlyFileBackground: new incr file first (recorded in the manifest
        when AOF is on), then a child writes the new base."""
        storage = self.persistence.storage
        try:
            storage.make_dir(self.directory)
            if self.state == AOF_ON:
                self.flush(force_fsync=True)
                self._open(self.manifest.new_incr(self.filename))
                self._persist_manifest(self.manifest)
        except OSError as exc:
            self.engine.log("warning", f"Can't open new incr AOF for rewrite: {exc.strerror}")
            return False
        preamble = self._preamble()
        name = f"{self.filename}.{self.manifest.base_seq + 1}.base.{'rdb' if preamble else 'aof'}"
        path, produce = self.path(name), self._base_producer()

        def job() -> bool:
            storage.write_file(path, produce)
            return True

        pid = self.persistence.fork_child(
            job, CHILD_AOF, lambda ok: self._rewrite_done(ok, preamble), path
        )
        if pid is None:
            return False
        self.engine.log("notice", f"Background append only file rewriting started by pid {pid}")
        return True

    def _rewrite_done(self, ok: bool, preamble: bool) -> None:
        engine = self.engine
        child_start = self.persistence.last_child_start_ms
        self.last_rewrite_time_s = (engine.now_ms - child_start) // 1000
        if not ok:
            engine.log("warning", "Background AOF rewrite terminated with error")
            self.last_rewrite_ok = False
            self.rewrite_failures += 1
            if self.state == AOF_WAIT_REWRITE:
                self.rewrite_scheduled = True
            return
        manifest = self.manifest.copy()
        manifest.new_base(self.filename, preamble)
        if self.state == AOF_OFF:
            manifest.retire_incrs_before(None)
        else:
            manifest.retire_incrs_before(self.incr)
        try:
            self._persist_manifest(manifest)
        except OSError as exc:
            engine.log(
                "warning", f"Error trying to rename the temporary AOF manifest file: {exc.strerror}"
            )
            self.last_rewrite_ok = False
            self.rewrite_failures += 1
            return
        self.manifest = manifest
        if self.state == AOF_WAIT_REWRITE:
            self.state = AOF_ON
            engine.log("notice", "Background AOF rewrite finished successfully")
        self._delete_history()
        self.last_rewrite_ok = True
        self.rewrite_failures = 0
        self.rewrites += 1
        self.base_size = self.current_size()
        engine.log("notice", "Background AOF rewrite terminated with success")

    def _delete_history(self) -> None:
        """aofDelHistoryFiles (unless aof-disable-auto-gc)."""
        if self.engine.config.bool("aof-disable-auto-gc") or not self.manifest.history:
            return
        storage = self.persistence.storage
        for entry in self.manifest.history:
            storage.remove(self.path(entry.name))
            self.engine.log("notice", f"Removing the history file {entry.name} in the background")
        self.manifest.history = []
        self._persist_manifest(self.manifest)

    def cron(self) -> None:
        """serverCron's AOF duties: a scheduled rewrite, an automatic one when the AOF
        grew enough, and the everysec fsync even when nothing was written."""
        if self.persistence.child is None:
            if self.rewrite_scheduled:
                self.rewrite_scheduled = False
                if not self.rewrite():
                    self.rewrite_scheduled = self.state == AOF_WAIT_REWRITE
            elif self.state == AOF_ON and self._growth_wants_rewrite():
                self.engine.log("notice", "Starting automatic rewriting of AOF")
                self.rewrite()
        self.flush()

    def _growth_wants_rewrite(self) -> bool:
        config = self.engine.config
        percentage = config.int("auto-aof-rewrite-percentage")
        if not percentage:
            return False
        size = self.current_size()
        if size < config.int("auto-aof-rewrite-min-size"):
            return False
        base = self.base_size or 1
        return (size * 100 // base) - 100 >= percentage

    # --- shutdown and INFO ------------------------------------------------------------------
    def shutdown(self) -> None:
        """prepareForShutdown's AOF part: everything appended is made durable."""
        if self.state != AOF_OFF:
            self.flush(force_fsync=True)

    def info(self) -> list[tuple[str, object]]:
        child = self.persistence.child
        rewriting = child is not None and child.kind == CHILD_AOF
        now = self.engine.now_ms
        error = self.error()
        lines: list[tuple[str, object]] = [
            ("aof_enabled", int(self.state != AOF_OFF)),
            ("aof_rewrite_in_progress", int(rewriting)),
            ("aof_rewrite_scheduled", int(self.rewrite_scheduled)),
            ("aof_last_rewrite_time_sec", self.last_rewrite_time_s),
            (
                "aof_current_rewrite_time_sec",
                (now - child.start_ms) // 1000 if child is not None and rewriting else -1,
            ),
            ("aof_last_bgrewrite_status", "ok" if self.last_rewrite_ok else "err"),
            ("aof_rewrites", self.rewrites),
            ("aof_rewrites_consecutive_failures", self.rewrite_failures),
            ("aof_last_write_status", "ok" if error is None else "err"),
            ("aof_last_cow_size", 0),
        ]
        return lines

    def info_tail(self) -> list[tuple[str, object]]:
        """The fields INFO adds at the end of the section while AOF is on."""
        if self.state == AOF_OFF:
            return []
        pending = self.file is not None and self.file.fsync_pending()
        return [
            ("aof_current_size", self.current_size()),
            ("aof_base_size", self.base_size),
            ("aof_pending_rewrite", int(self.rewrite_scheduled)),
            ("aof_buffer_length", sum(map(len, self.buf))),
            ("aof_pending_bio_fsync", int(pending)),
            ("aof_delayed_fsync", self.delayed_fsyncs),
        ]
