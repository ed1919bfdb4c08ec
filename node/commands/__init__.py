"""The command families, one module per family. `load()` returns the node's command table.

Every module in this package except the infrastructure ones registers its commands on
import, so adding a family is adding a file.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Final

from node.commands.registry import CommandTable

_INFRASTRUCTURE: Final = frozenset({"registry", "table", "docs"})


def load() -> CommandTable:
    """Import every family module once (each registers its commands) and return the table."""
    from node.commands.table import NODE

    for module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
        if module not in _INFRASTRUCTURE and not module.startswith("_"):
            importlib.import_module(f"{__name__}.{module}")
    return NODE
