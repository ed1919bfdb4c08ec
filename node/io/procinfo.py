"""Process facts INFO reports that only the operating system knows: OS, pid, executable,
memory and CPU use.

Rules: the shell (node/server.py) calls these and copies the results onto the engine
(`Engine.process_info`, INFO field name -> text, and `Engine.used_memory`); the pure engine
never measures anything itself. Everything here is cheap enough for every cron tick.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import resource
import sys
from typing import Final

_PAGE: Final = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def static_info(config_file: str, multiplexing_api: str) -> dict[str, str]:
    """The facts that do not change while the process runs."""
    uname = os.uname()
    info = {
        "os": f"{uname.sysname} {uname.release} {uname.machine}",
        "arch_bits": "64" if sys.maxsize > 2**32 else "32",
        "multiplexing_api": multiplexing_api,
        "process_id": str(os.getpid()),
        "executable": os.path.abspath(sys.argv[0]) if sys.argv and sys.argv[0] else "",
        "config_file": os.path.abspath(config_file) if config_file else "",
    }
    try:
        info["total_system_memory"] = str(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        pass
    return info


def rss_bytes() -> int:
    """Resident set size now (Linux /proc), else the peak getrusage reports."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024  # bytes there, KiB here


def trim_heap() -> None:
    """MEMORY PURGE: give the free memory at the top of glibc's heaps back to the system
    (malloc_trim; nothing elsewhere)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):
        pass


def cpu_info() -> dict[str, str]:
    """INFO cpu's fields, seconds with six decimals as Redis prints them."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    # The main thread is the whole server (no I/O threads); RUSAGE_THREAD is Linux-only.
    main = resource.getrusage(getattr(resource, "RUSAGE_THREAD", resource.RUSAGE_SELF))
    return {
        "used_cpu_sys": f"{own.ru_stime:.6f}",
        "used_cpu_user": f"{own.ru_utime:.6f}",
        "used_cpu_sys_children": f"{children.ru_stime:.6f}",
        "used_cpu_user_children": f"{children.ru_utime:.6f}",
        "used_cpu_sys_main_thread": f"{main.ru_stime:.6f}",
        "used_cpu_user_main_thread": f"{main.ru_utime:.6f}",
    }
