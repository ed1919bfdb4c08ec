"""The shell's part of cluster mode: the nodes.conf lock and the start-up sequence.

nodes.conf belongs to one node: it is flock()ed for the life of the process, so a second
node started on the same file refuses to run instead of taking the same node id
(redis/redis#1703). The file is replaced on every save (temp file, fsync, rename, directory
fsync: node/io/files.py), so the lock follows it: after each save the new file is locked
and the old descriptor closed.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable

from node.engine.engine import Engine


class ConfigLock:
    """An exclusive flock on the cluster config file."""

    def __init__(self, path: str, log: Callable[[str, str], None]) -> None:
        self.path = path
        self.log = log
        self.fd = -1

    def acquire(self) -> bool:
        """clusterLockConfig (the file is created empty when missing)."""
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o644)
        except OSError as exc:
            self.log(
                "warning", f"Can't open {self.path} in order to acquire a lock: {exc.strerror}"
            )
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            self.log(
                "warning",
                f"Sorry, the cluster configuration file {self.path} is already "
                f"used by a different Redis Cluster node. Please make sure that "
                f"different nodes use different cluster configuration files.",
            )
            return False
        except OSError as exc:
            os.close(fd)
            self.log("warning", f"Impossible to lock {self.path}: {exc.strerror}")
            return False
        old, self.fd = self.fd, fd
        if old >= 0:
            os.close(old)
        return True

    def relock(self) -> None:
        """After a save replaced the file: lock the new one (a failure is logged)."""
        self.acquire()

    def release(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def start(engine: Engine, log: Callable[[str, str], None]) -> ConfigLock | None:
    """Cluster start-up, before the dataset loads: lock nodes.conf, adopt it (or a fresh
    identity) and save it. None (after logging why) when the node must not start."""
    cluster = engine.cluster
    assert cluster is not None
    lock = ConfigLock(cluster.config_path, log)
    if not lock.acquire():
        return None
    cluster.after_save = lock.relock
    if not cluster.load_config():
        lock.release()
        return None
    return lock
