"""The compiled build (`make native`): which of node's modules run compiled, and whether
that build is older than the sources.

mypyc compiles a module into an extension module next to its .py file, and Python imports
the extension in its place. So after an edit the old compiled code keeps running until the
build is redone: the server warns about that at start-up and the test suite refuses to
run. Any node source newer than the build counts, not just the compiled ones, because
compiled code is built against the types of the modules it imports.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent  # node/


def _extensions() -> list[Path]:
    return sorted(PACKAGE.rglob("*.so"))


def compiled_modules() -> list[str]:
    """The compiled modules' source paths, relative to the repository (`node/server.py`)."""
    root = PACKAGE.parent
    return [
        str((path.parent / (path.name.split(".")[0] + ".py")).relative_to(root))
        for path in _extensions()
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
