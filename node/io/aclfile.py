"""The `aclfile` on disk: what ACL LOAD reads and ACL SAVE writes (node/engine/acl.py gets
these two functions injected by the shell; the engine itself never touches files).

Writing follows Redis's ACLSaveToFile: the new text goes to `<file>.tmp-<pid>-<ms>`, which
is then renamed over the file, so a reader sees the old rules or the new ones, never half.
Errors are raised as OSError (the caller logs them and answers ACL SAVE's error).
"""

from __future__ import annotations

import contextlib
import os
import time


def read_text(path: str) -> str:
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        return f.read()


def write_text(path: str, text: str) -> None:
    tmp = f"{path}.tmp-{os.getpid()}-{int(time.time() * 1000)}"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(fd, text.encode("utf-8", "surrogateescape"))
        finally:
            os.close(fd)
        os.rename(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
