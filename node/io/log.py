"""Redis-style log lines: `pid:role dd Mon yyyy hh:mm:ss.mmm <level-char> message`, and,
with `syslog-enabled`, the same messages to syslog (its ident and facility from the config)
at the matching priority, as Redis's serverLogRaw."""

from __future__ import annotations

import os
import sys
import syslog
import time
from typing import Final, TextIO

LEVELS: Final = {"debug": 0, "verbose": 1, "notice": 2, "warning": 3, "nothing": 4}
_MARKS: Final = {"debug": ".", "verbose": "-", "notice": "*", "warning": "#"}
_PRIORITIES: Final = {
    "debug": syslog.LOG_DEBUG,
    "verbose": syslog.LOG_INFO,
    "notice": syslog.LOG_NOTICE,
    "warning": syslog.LOG_WARNING,
}


class Logger:
    """Writes Redis-formatted lines to a file (appending) or stdout."""

    def __init__(
        self,
        path: str = "",
        level: str = "notice",
        role: str = "M",
        *,
        syslog_ident: str | None = None,
        syslog_facility: str = "local0",
    ) -> None:
        self.level = level  # CONFIG SET loglevel changes it (see node/__main__.py)
        self.role = role
        self._stream: TextIO = open(path, "a", buffering=1) if path else sys.stdout  # noqa: SIM115
        self._syslog = syslog_ident is not None
        if syslog_ident is not None:
            facility = getattr(syslog, f"LOG_{syslog_facility.upper()}", syslog.LOG_LOCAL0)
            syslog.openlog(
                syslog_ident, syslog.LOG_PID | syslog.LOG_NDELAY | syslog.LOG_NOWAIT, facility
            )

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
        if self._syslog:
            syslog.syslog(_PRIORITIES.get(level, syslog.LOG_NOTICE), message)

    def close(self) -> None:
        if self._stream is not sys.stdout:
            self._stream.close()
