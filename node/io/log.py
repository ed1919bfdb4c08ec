"""Redis-style log lines: `pid:role dd Mon yyyy hh:mm:ss.mmm <level-char> message`."""

from __future__ import annotations

import os
import sys
import time
from typing import Final, TextIO

LEVELS: Final = {"debug": 0, "verbose": 1, "notice": 2, "warning": 3, "nothing": 4}
_MARKS: Final = {"debug": ".", "verbose": "-", "notice": "*", "warning": "#"}


class Logger:
    """Writes Redis-formatted lines to a file (appending) or stdout."""

    def __init__(self, path: str = "", level: str = "notice", role: str = "M") -> None:
        self.level = level
        self.role = role
        self._stream: TextIO = open(path, "a", buffering=1) if path else sys.stdout  # noqa: SIM115

    def __call__(self, level: str, message: str) -> None:
        if LEVELS.get(level, 2) < LEVELS.get(self.level, 2):
            return
        now = time.time()
        stamp = time.strftime("%d %b %Y %H:%M:%S", time.localtime(now))
        self._stream.write(
            f"{os.getpid()}:{self.role} {stamp}.{int(now * 1000) % 1000:03d} "
            f"{_MARKS.get(level, '*')} {message}\n"
        )
        self._stream.flush()

    def close(self) -> None:
        if self._stream is not sys.stdout:
            self._stream.close()
