"""The command families. `load()` returns the node's complete command table."""

from __future__ import annotations

from node.commands.registry import CommandTable


def load() -> CommandTable:
    """Import every family module (each registers its commands) and return the table."""
    from node.commands import connection, strings  # noqa: F401
    from node.commands.table import NODE

    return NODE
