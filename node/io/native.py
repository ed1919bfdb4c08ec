"""The compiled build (`make native`): what it compiles and how (`python -m node.io.native`
builds it), which of node's modules run compiled, and whether that build is older than the
sources.

mypyc compiles a module into an extension module next to its .py file, and Python imports
the extension in its place. So after an edit the old compiled code keeps running until the
build is redone: the server warns about that at start-up and the test suite refuses to
run. Any node source newer than the build counts, not just the compiled ones, because
compiled code is built against the types of the modules it imports.

The modules are compiled as one group, whose shared library mypyc would name after a hash
and put at the top level, importable only with the repository on sys.path; the group is
named `node._native` instead, so the library is node/_native__mypyc*.so, inside the
package, and found wherever `node` is.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

PACKAGE = Path(__file__).resolve().parent.parent  # node/
# The modules every request runs through, the data-type commands, and the stream type
# (XADD's appends run in it). The other container classes (node/engine/types) are left
# out: ListValue subclasses deque, and a mypyc subclass of a builtin type crashes.
MODULES: Final = (
    "node/proto/resp.py",
    "node/engine/keyspace.py",
    "node/engine/engine.py",
    "node/engine/observe.py",
    "node/engine/session.py",
    "node/server.py",
    "node/commands/_args.py",
    "node/commands/strings.py",
    "node/commands/lists.py",
    "node/commands/hashes.py",
    "node/commands/sets.py",
    "node/commands/zsets.py",
    "node/commands/_zset.py",
    "node/commands/streams.py",
    "node/commands/_streams.py",
    "node/engine/types/stream.py",
    "node/engine/types/zset.py",
    "node/engine/types/snapshots.py",
)
GROUP: Final = "node._native"


def build() -> None:
    """Compile MODULES in place (mypyc, then setuptools' build_ext; the C files go to
    build/), and mark every extension module as built now: an unchanged one is copied with
    its old time, and would look stale."""
    from mypyc.build import mypycify
    from setuptools import setup

    os.chdir(PACKAGE.parent)
    setup(
        name="slotd-native",
        ext_modules=mypycify(list(MODULES), group_name=GROUP, opt_level="3"),
        script_args=["build_ext", "--inplace"],
    )
    for path in _extensions():
        path.touch()


def _extensions() -> list[Path]:
    return sorted(PACKAGE.rglob("*.so"))


def compiled_modules() -> list[str]:
    """The compiled modules' source paths, relative to the repository (`node/server.py`)."""
    root = PACKAGE.parent
    return [
        str((path.parent / (name + ".py")).relative_to(root))
        for path in _extensions()
        if not (name := path.name.split(".")[0]).endswith("__mypyc")  # the group's library
    ]


def stale_sources() -> list[str]:
    """The node sources changed since the compiled build (none without a build)."""
    extensions = _extensions()
    if not extensions:
        return []
    built = min(path.stat().st_mtime for path in extensions)
    root = PACKAGE.parent
    return sorted(
        str(path.relative_to(root))
        for path in PACKAGE.rglob("*.py")
        if path.stat().st_mtime > built
    )


def startup_note() -> tuple[str, str]:
    """(log level, line) for the start-up log: which build runs, and a warning when the
    compiled one is stale."""
    stale = stale_sources()
    if stale:
        return (
            "warning",
            "WARNING: the compiled modules (make native) are older than "
            + ", ".join(stale[:5])
            + (" ..." if len(stale) > 5 else "")
            + ": the old compiled code runs. Run `make native` again, or `make clean`.",
        )
    compiled = compiled_modules()
    if compiled:
        return "notice", f"Running {len(compiled)} modules compiled by mypyc (make native)"
    return "notice", "Running as pure Python (no compiled modules)"


if __name__ == "__main__":
    build()
