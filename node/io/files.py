"""The real storage port of persistence (node/persistence/storage.py): files written
crash-safely and jobs run in forked children.

Crash safety: a file is never rewritten in place. It is written under a `temp-<pid>-`
name in the same directory, flushed and fsynced, renamed over the old name, and the
directory is fsynced so the rename itself survives a power cut. A crash at any point leaves
either the old file or the new one, whole.

Forking (DESIGN.md section 4): the child inherits a copy-on-write image of the keyspace,
runs its job (serialising the snapshot) with the garbage collector off -- a collection
would touch every object's header and copy the parent's whole heap --, restores default
signal dispositions, closes what the parent asks it to (listening sockets), and leaves
with `os._exit`, never returning into trio. The parent reaps children with waitpid(WNOHANG)
from its cron.
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import threading
from collections.abc import Callable

from node.persistence.storage import Producer

_WRITE_BUFFER = 1 << 20


def fsync_dir(directory: str) -> None:
    fd = os.open(directory or ".", os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def temp_name(path: str, pid: int | None = None) -> str:
    directory, name = os.path.split(path)
    return os.path.join(directory, f"temp-{os.getpid() if pid is None else pid}-{name}")


class FileStorage:
    """Files on the local disk and forked children."""

    def __init__(
        self, log: Callable[[str, str], None], on_fork_child: Callable[[], None] = lambda: None
    ) -> None:
        self.log = log
        self.on_fork_child = on_fork_child
        self.children: set[int] = set()

    # --- files ----------------------------------------------------------------------------
    def write_file(self, path: str, produce: Producer) -> None:
        tmp = temp_name(path)
        try:
            with open(tmp, "wb", buffering=_WRITE_BUFFER) as f:

                def sink(chunk: bytes) -> None:
                    f.write(chunk)

                produce(sink)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        fsync_dir(os.path.dirname(path))

    def read_file(self, path: str) -> bytes | None:
        try:
            with open(path, "rb") as f:
                return f.read()
        except FileNotFoundError:
            return None

    def exists(self, path: str) -> bool:
        return os.path.exists(path)

    def list_dir(self, path: str) -> list[str]:
        try:
            return sorted(os.listdir(path))
        except FileNotFoundError:
            return []

    def make_dir(self, path: str) -> None:
        os.makedirs(path, exist_ok=True)

    def remove(self, path: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)

    def rename(self, src: str, dst: str) -> None:
        os.replace(src, dst)
        fsync_dir(os.path.dirname(dst))

    def open_append(self, path: str) -> FileAppend:
        created = not os.path.exists(path)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        if created:  # the new name itself must survive a crash
            fsync_dir(os.path.dirname(path))
        return FileAppend(fd)

    def truncate(self, path: str, size: int) -> None:
        os.truncate(path, size)

    # --- children -------------------------------------------------------------------------
    def fork(self, job: Callable[[], bool]) -> int:
        pid = os.fork()
        if pid == 0:  # the child: never return from here
            code = 1
            try:
                gc.disable()
                signal.set_wakeup_fd(-1)
                for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1):
                    signal.signal(signum, signal.SIG_DFL)
                self.on_fork_child()
                code = 0 if job() else 1
            except BaseException as exc:
                with contextlib.suppress(BaseException):
                    self.log("warning", f"Child process failed: {exc!r}")
            finally:
                os._exit(code)
        self.children.add(pid)
        return pid

    def reap(self) -> list[tuple[int, bool]]:
        done = []
        for pid in list(self.children):
            try:
                got, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                self.children.discard(pid)
                done.append((pid, False))
                continue
            if got:
                self.children.discard(pid)
                done.append((pid, os.waitstatus_to_exitcode(status) == 0))
        return done

    def kill_child(self, pid: int, writing: str = "") -> None:
        if pid not in self.children:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
        self.children.discard(pid)
        if writing:  # it will never be renamed
            self.remove(temp_name(writing, pid))


class FileAppend:
    """An AOF incr file: unbuffered appends (one write(2) per event-loop turn) and fsyncs,
    either inline (appendfsync always) or on a worker thread that never blocks the event
    loop (everysec; Redis's bio thread)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._size = os.fstat(fd).st_size
        self._worker: threading.Thread | None = None
        self._error: OSError | None = None

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(self.fd, view)
            self._size += written
            view = view[written:]

    def fsync(self) -> None:
        os.fsync(self.fd)

    def fsync_in_background(self) -> None:
        if self.fsync_pending():
            return
        self._worker = threading.Thread(target=self._sync_quietly, name="aof-fsync", daemon=True)
        self._worker.start()

    def _sync_quietly(self) -> None:
        try:
            os.fsync(self.fd)
            self._error = None
        except OSError as exc:
            self._error = exc

    def fsync_pending(self) -> bool:
        return self._worker is not None and self._worker.is_alive()

    def background_error(self) -> OSError | None:
        return self._error

    def size(self) -> int:
        return self._size

    def close(self) -> None:
        if self._worker is not None:
            self._worker.join()
        os.close(self.fd)
