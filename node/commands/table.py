"""The node's command table instance. Family modules decorate their handlers with
`NODE.command(...)`; `node.commands.load()` imports every family once. The table is filled
at import time and read-only afterwards (no runtime mutation, so it is safe to share between
the nodes of an in-process simulation)."""

from __future__ import annotations

from node.commands.registry import CommandTable

NODE = CommandTable()
