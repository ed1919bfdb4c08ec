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

    def __init__(self, log: Callable[[str, str], None],
                 on_fork_child: Callable[[], None] = lambda: None) -> None:
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
