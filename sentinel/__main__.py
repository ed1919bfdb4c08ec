"""`slotd-sentinel` / `python -m sentinel`: says plainly that Sentinel is not built yet."""

from __future__ import annotations

import sys


def main() -> int:
    print(
        "slotd-sentinel: Sentinel is not implemented yet; use a slotd cluster "
        "(slotd-cluster up) for automatic failover.",
        file=sys.stderr,
    )
    return 2


if __name__ == "__main__":
    sys.exit(main())
