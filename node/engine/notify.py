"""Keyspace notification classes (Redis's notify.c): the flag bits of
`notify-keyspace-events` and their letters.

Rules:
- The bits are Redis 7.0's NOTIFY_* values; `ALL` ("A") is every data class but not
  `n` (new keys) nor `m` (key misses), which Redis keeps out of "A" on purpose.
- `parse_classes` reads the letters in any order and repetition; `format_classes` prints
  them in Redis's fixed order, "A" standing for ALL (which hides an `n` set with it, as
  Redis's CONFIG GET does).
- Events go out through `Engine.notify`; nothing is published unless K or E is set, so the
  engine keeps the flags at 0 then and every emitter pays one int test.
Pure: no imports beyond typing.
"""

from __future__ import annotations

from typing import Final

KEYSPACE: Final = 1 << 0  # K
KEYEVENT: Final = 1 << 1  # E
GENERIC: Final = 1 << 2  # g
STRING: Final = 1 << 3  # $
LIST: Final = 1 << 4  # l
SET: Final = 1 << 5  # s
HASH: Final = 1 << 6  # h
ZSET: Final = 1 << 7  # z
EXPIRED: Final = 1 << 8  # x
EVICTED: Final = 1 << 9  # e
STREAM: Final = 1 << 10  # t
KEY_MISS: Final = 1 << 11  # m
LOADED: Final = 1 << 12  # modules only
MODULE: Final = 1 << 13  # d
NEW: Final = 1 << 14  # n
ALL: Final = GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE

_LETTERS: Final = {
    "A": ALL,
    "g": GENERIC,
    "$": STRING,
    "l": LIST,
    "s": SET,
    "h": HASH,
    "z": ZSET,
    "x": EXPIRED,
    "e": EVICTED,
    "K": KEYSPACE,
    "E": KEYEVENT,
    "t": STREAM,
    "m": KEY_MISS,
    "d": MODULE,
    "n": NEW,
}
# keyspaceEventsFlagsToString's order for the classes "A" stands in for (plus `n`).
_CLASS_ORDER: Final = (
    ("g", GENERIC),
    ("$", STRING),
    ("l", LIST),
    ("s", SET),
    ("h", HASH),
    ("z", ZSET),
    ("x", EXPIRED),
    ("e", EVICTED),
    ("t", STREAM),
    ("d", MODULE),
    ("n", NEW),
)
INVALID_CLASS: Final = "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."


def parse_classes(text: str) -> int | None:
    """The flags a `notify-keyspace-events` value names; None for an unknown letter."""
    flags = 0
    for letter in text:
        bit = _LETTERS.get(letter)
        if bit is None:
            return None
        flags |= bit
    return flags


def format_classes(flags: int) -> str:
    """CONFIG GET's text for the flags."""
    if flags & ALL == ALL:
        out = "A"
    else:
        out = "".join(letter for letter, bit in _CLASS_ORDER if flags & bit)
    for letter, bit in (("K", KEYSPACE), ("E", KEYEVENT), ("m", KEY_MISS)):
        if flags & bit:
            out += letter
    return out


def effective(flags: int) -> int:
    """The flags the emitters test: 0 unless events have somewhere to go (K or E)."""
    return flags if flags & (KEYSPACE | KEYEVENT) else 0
