"""Process supervision as Redis does it (`supervised upstart|systemd|auto|no`): systemd is
told over $NOTIFY_SOCKET when the server is ready and when it stops (sd_notify's datagram
protocol); upstart is told by stopping the process once (SIGSTOP) when it is ready.

Rules:
- `mode` resolves once at startup: "auto" picks systemd when $NOTIFY_SOCKET is set, upstart
  when $UPSTART_JOB is, else none; an explicit mode without its variable is logged and
  dropped, as Redis does.
- Notifications are best effort: a failure to send is logged, never fatal.
"""

from __future__ import annotations

import os
import signal
import socket
from collections.abc import Callable, MutableMapping

Log = Callable[[str, str], None]


def resolve(mode: str, env: MutableMapping[str, str], log: Log) -> str:
    """The supervision in effect: "systemd", "upstart" or "no"."""
    if mode == "auto":
        mode = "systemd" if "NOTIFY_SOCKET" in env else "upstart" if "UPSTART_JOB" in env else "no"
    if mode == "systemd":
        if "NOTIFY_SOCKET" not in env:
            log(
                "warning",
                "systemd supervision requested or auto-detected, but NOTIFY_SOCKET not found!",
            )
            return "no"
        log(
            "notice",
            "Supervised by systemd. Please make sure you set appropriate values for "
            "TimeoutStartSec and TimeoutStopSec in your service unit.",
        )
    elif mode == "upstart":
        if "UPSTART_JOB" not in env:
            log("warning", "upstart supervision requested, but UPSTART_JOB not found!")
            return "no"
        log("notice", "supervised by upstart, will stop to signal readiness.")
    return mode


def _notify_systemd(message: str, env: MutableMapping[str, str], log: Log) -> None:
    """sd_notify: one datagram to $NOTIFY_SOCKET ("@..." is the abstract namespace)."""
    path = env.get("NOTIFY_SOCKET", "")
    address = "\0" + path[1:] if path.startswith("@") else path
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.sendto(message.encode(), address)
    except OSError as exc:
        log("warning", f"Can't send notification to systemd: {exc}")


def loading(mode: str, env: MutableMapping[str, str], log: Log) -> None:
    """The dataset is about to load."""
    if mode == "systemd":
        _notify_systemd("STATUS=Redis is loading...\n", env, log)


def ready(mode: str, env: MutableMapping[str, str], log: Log) -> None:
    """The server accepts connections: tell the supervisor."""
    if mode == "systemd":
        _notify_systemd("STATUS=Ready to accept connections\n", env, log)
        _notify_systemd("READY=1\n", env, log)
    elif mode == "upstart":
        os.kill(os.getpid(), signal.SIGSTOP)  # upstart's `expect stop` resumes us
        env.pop("UPSTART_JOB", None)


def stopping(mode: str, env: MutableMapping[str, str], log: Log) -> None:
    if mode == "systemd":
        _notify_systemd("STOPPING=1\n", env, log)
