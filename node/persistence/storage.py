"""The storage port of persistence: what the state machine (manager.py) asks of the disk and
of child processes, plus `MemoryStorage`, an in-memory implementation for pure tests.

The real implementation (node/io/files.py) writes files crash-safely (temp name, fsync,
rename, directory fsync) and runs jobs in forked children. MemoryStorage runs a "child"
job at once -- the snapshot it writes is the data at fork time, as with a real fork --
and reports it finished at the next `reap()`, unless `hold` keeps children running.
Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

Sink = Callable[[bytes], None]
Producer = Callable[[Sink], None]


class AppendFile(Protocol):
    """A file open for appending (the AOF's current incr file)."""

    def write(self, data: bytes) -> None:
        """Append all of `data` (the OS may still hold it in its cache). Raises OSError."""

    def fsync(self) -> None:
        """Make what was written durable, now. Raises OSError."""

    def fsync_in_background(self) -> None:
        """Start an fsync that does not block the caller (appendfsync everysec)."""

    def fsync_pending(self) -> bool:
        """Is a background fsync still running?"""

    def background_error(self) -> OSError | None:
        """The error of the last background fsync, if it failed."""

    def size(self) -> int: ...

    def close(self) -> None: ...


class Storage(Protocol):
    """Disk and child processes, as persistence needs them. Paths are as configured
    (relative ones are relative to the server's working directory)."""

    def write_file(self, path: str, produce: Producer) -> None:
        """Replace `path` atomically with what `produce` feeds its sink; durable when this
        returns. Raises OSError."""

    def read_file(self, path: str) -> bytes | None:
        """The contents of `path`, or None when it does not exist. Raises OSError."""

    def exists(self, path: str) -> bool: ...

    def fork(self, job: Callable[[], bool]) -> int:
        """Run `job` in a child process holding a copy-on-write image of this one; returns
        the child's pid. The child's exit reports the job's result. Raises OSError."""

    def reap(self) -> list[tuple[int, bool]]:
        """Children that ended since the last call: (pid, job succeeded)."""

    def kill_child(self, pid: int, writing: str = "") -> None:
        """Stop a child now (its result is then never reported); `writing` is the file it
        was writing, whose temporary file goes too."""

    def list_dir(self, path: str) -> list[str]:
        """The names in a directory ([] when it does not exist)."""

    def make_dir(self, path: str) -> None: ...

    def remove(self, path: str) -> None:
        """Delete a file if it exists."""

    def rename(self, src: str, dst: str) -> None:
        """Atomically rename a file and make it durable (directory fsync)."""

    def open_append(self, path: str) -> AppendFile:
        """Open (creating it, durably, if needed) a file for appending. Raises OSError."""

    def truncate(self, path: str, size: int) -> None:
        """Cut a file to `size` bytes (a torn AOF tail). Raises OSError."""


class MemoryStorage:
    """Files in a dict and children that run at fork time, for tests and for engines that
    have no disk."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.dirs: set[str] = set()
        self.hold = False  # keep forked children running until released
        self.fail_writes = False  # make every write fail (a full or broken disk)
        self.fail_fork = False
        self.forks = 0
        self._next_pid = 1000
        self._running: dict[int, bool] = {}

    def write_file(self, path: str, produce: Producer) -> None:
        if self.fail_writes:
            raise OSError(28, "No space left on device")
        chunks: list[bytes] = []
        produce(chunks.append)
        self.files[path] = b"".join(chunks)

    def read_file(self, path: str) -> bytes | None:
        return self.files.get(path)

    def exists(self, path: str) -> bool:
        return path in self.files or path in self.dirs

    def fork(self, job: Callable[[], bool]) -> int:
        if self.fail_fork:
            raise OSError(12, "Cannot allocate memory")
        self._next_pid += 1
        self.forks += 1
        try:
            ok = job()
        except OSError:
            ok = False
        self._running[self._next_pid] = ok
        return self._next_pid

    def reap(self) -> list[tuple[int, bool]]:
        if self.hold:
            return []
        done = list(self._running.items())
        self._running.clear()
        return done

    def kill_child(self, pid: int, writing: str = "") -> None:
        self._running.pop(pid, None)

    def list_dir(self, path: str) -> list[str]:
        prefix = path.rstrip("/") + "/"
        return sorted(
            name[len(prefix) :]
            for name in self.files
            if name.startswith(prefix) and "/" not in name[len(prefix) :]
        )

    def make_dir(self, path: str) -> None:
        self.dirs.add(path)

    def remove(self, path: str) -> None:
        self.files.pop(path, None)

    def rename(self, src: str, dst: str) -> None:
        self.files[dst] = self.files.pop(src)

    def open_append(self, path: str) -> MemoryAppendFile:
        if self.fail_writes:
            raise OSError(28, "No space left on device")
        self.files.setdefault(path, b"")
        return MemoryAppendFile(self, path)

    def truncate(self, path: str, size: int) -> None:
        self.files[path] = self.files[path][:size]


class MemoryAppendFile:
    """An append handle on a MemoryStorage file; `synced` is its durable length."""

    def __init__(self, storage: MemoryStorage, path: str) -> None:
        self.storage = storage
        self.path = path
        self.synced = len(storage.files[path])
        self.fsyncs = 0

    def write(self, data: bytes) -> None:
        if self.storage.fail_writes:
            raise OSError(28, "No space left on device")
        self.storage.files[self.path] = self.storage.files.get(self.path, b"") + data

    def fsync(self) -> None:
        self.fsyncs += 1
        self.synced = len(self.storage.files.get(self.path, b""))

    def fsync_in_background(self) -> None:
        self.fsync()

    def fsync_pending(self) -> bool:
        return False

    def background_error(self) -> OSError | None:
        return None

    def size(self) -> int:
        return len(self.storage.files.get(self.path, b""))

    def close(self) -> None:
        pass
