"""The list value (Redis's OBJ_LIST).

A `deque` gives O(1) pushes and pops at both ends, which is what lists are used for; index
access in the middle is O(N) as in Redis's quicklist. Redis 7.0 always reports the
"quicklist" encoding for lists (the listpack list encoding arrived in 7.2). Pure.
"""

from __future__ import annotations

from collections import deque
from typing import ClassVar


class ListValue(deque[bytes]):
    """A Redis list: a deque of byte strings. Never stored empty."""

    __slots__ = ()
    TYPE: ClassVar[bytes] = b"list"

    def encoding(self) -> bytes:
        return b"quicklist"

    def copy(self) -> ListValue:
        return ListValue(self)
