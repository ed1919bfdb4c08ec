"""Key -> hash slot (Redis Cluster): CRC16-XMODEM of the key or its {hash tag}, mod 16384.

Pure. `binascii.crc_hqx(data, 0)` is exactly Redis's crc16 (XMODEM, poly 0x1021, init 0).
"""

from __future__ import annotations

import binascii
from typing import Final

SLOT_COUNT: Final = 16384


def key_slot(key: bytes) -> int:
    """The slot of `key`: only the part between the first '{' and the next '}' is hashed,
    when that part is non-empty (Redis's hash-tag rule)."""
    start = key.find(b"{")
    if start >= 0:
        end = key.find(b"}", start + 1)
        if end > start + 1:
            key = key[start + 1 : end]
    return binascii.crc_hqx(key, 0) & 0x3FFF
