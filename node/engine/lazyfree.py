"""Lazy freeing (Redis's lazyfree.c): big values leave the keyspace at once and are taken
apart later, a bounded amount at a time, so that no client waits for a big free.

CPython frees an object the moment its last reference goes, and freeing a container
frees its elements one by one in the same call: dropping a set of a million members stalls
the event loop for tens of milliseconds, and the GIL leaves no thread to hand that to.
So a dropped value whose free effort passes Redis's LAZYFREE_THRESHOLD is parked here
instead, and `drain(budget)` -- called by the shell between event-loop turns, never by
the engine itself -- pops at most about `budget` elements out of parked containers, so
each element is freed on its own, cheaply.

Rules:
- Only containers this queue holds exclusively are taken apart (checked with the
  reference count, as Redis checks refcount == 1); anything shared is just let go.
- Classes, functions and modules are never entered; leaves (strings, numbers) are dropped.
- `pending_objects` and `freed_objects` are INFO's lazyfree_pending_objects and
  lazyfreed_objects: one per value (one per key for a flushed database), as Redis counts.
Pure: `gc.get_referents` and `sys.getrefcount` are the only interpreter calls.
"""

from __future__ import annotations

import gc
import sys
from array import array
from collections import deque
from types import FunctionType, ModuleType
from typing import Final

from node.engine.types.hash import HashValue
from node.engine.types.list import ListValue
from node.engine.types.set import SetValue
from node.engine.types.stream import Stream
from node.engine.types.zset import ZSet

LAZYFREE_THRESHOLD: Final = 64
# Freed in one step whatever their size: no elements (strings, numbers) or small ones
# (tuples: sorted-set pairs, stream field names); never entered: classes, code.
_LEAVES: Final = (
    bytes,
    bytearray,
    str,
    int,
    float,
    tuple,
    array,
    type(None),
    bool,
    type,
    FunctionType,
    ModuleType,
)
# Keyspace values: a small one found in a flushed database is freed on the spot.
_VALUES: Final = frozenset({HashValue, SetValue, ListValue, ZSet, Stream})
# Queue entry kinds: a value (one Redis object), a flushed database dict (one object per
# key), or a part of either (counted with its owner).
_VALUE, _DATABASE, _PART = 0, 1, 2


def free_effort(value: object) -> int:
    """Redis's lazyfreeGetFreeEffort in spirit: how many objects freeing `value` frees."""
    if type(value) is Stream:
        return len(value.nodes) + sum(len(g.pel) for g in value.groups.values())
    if isinstance(value, (ZSet, dict, list, deque, set)):
        return len(value)
    return 1


class LazyFree:
    """The queue of dropped values waiting to be taken apart."""

    def __init__(self) -> None:
        # Parked objects and their kinds, side by side (no tuple per entry: allocating
        # container objects while freeing millions would wake the cyclic GC).
        self._objs: deque[object] = deque()
        self._kinds: deque[int] = deque()
        self.pending_objects = 0
        self.freed_objects = 0
        # Bytes the parked values still hold (for used_memory): what was parked, scaled
        # by the share of their free effort not drained yet.
        self._bytes = 0
        self._effort = 0
        self._drained = 0

    def __bool__(self) -> bool:
        return bool(self._objs)

    @property
    def pending_bytes(self) -> int:
        if not self._effort:
            return 0
        return self._bytes * max(0, self._effort - self._drained) // self._effort

    def free(self, value: object, size: int = 0) -> bool:
        """Let go of a value taken out of the keyspace: parked when it is big enough to be
        worth it (True), else freed now by the caller dropping it (False)."""
        effort = free_effort(value)
        if effort <= LAZYFREE_THRESHOLD:
            return False
        self._park(value, _VALUE, effort, size)
        self.pending_objects += 1
        return True

    def free_database(self, dropped: list[object], size: int = 0) -> None:
        """Park what `Database.flush` let go of (FLUSHALL/FLUSHDB ASYNC): the key dict,
        counted as one object per key, then the expiry dict and snapshots."""
        data, *parts = dropped
        for part in parts:
            if part:
                self.free_part(part)
        if data:
            count = len(data)  # type: ignore[arg-type]
            self._park(data, _DATABASE, count, size)
            self.pending_objects += count

    def free_part(self, obj: object) -> None:
        """Park an internal structure (no Redis object to count), whatever its size."""
        self._park(obj, _PART, free_effort(obj), 0)

    def _park(self, obj: object, kind: int, effort: int, size: int) -> None:
        if not self._objs:
            self._bytes = self._effort = self._drained = 0
        self._objs.append(obj)
        self._kinds.append(kind)
        self._bytes += size
        self._effort += effort

    def drain(self, budget: int) -> int:
        """Free about `budget` elements of parked values; returns how many were freed."""
        objs, kinds = self._objs, self._kinds
        done = 0
        while done < budget and objs:
            obj = objs.pop()
            kind = kinds.pop()
            if sys.getrefcount(obj) > 2:  # `obj` and the call's argument: someone else too
                self._let_go(obj, kind)
                continue
            if isinstance(obj, dict):
                done += self._drain_dict(obj, kind, budget - done)
            elif isinstance(obj, (list, deque)):
                done += self._drain_sequence(obj, kind, budget - done)
            else:
                self._park_referents(obj)
                done += 1
                self._finished(kind)
            del obj
        self._drained += done
        if not objs:
            self._bytes = self._effort = self._drained = 0
        return done

    def _drain_dict(self, obj: dict[object, object], kind: int, budget: int) -> int:
        popitem = dict.popitem
        objs, kinds = self._objs, self._kinds
        n = 0
        while obj and n < budget:
            key, value = popitem(obj)
            if not isinstance(value, _LEAVES):
                effort = free_effort(value) if value.__class__ in _VALUES else 0
                if 0 < effort <= LAZYFREE_THRESHOLD:
                    n += effort  # freed below, with `value`
                else:
                    objs.append(value)
                    kinds.append(_PART)
            n += 1
            if kind == _DATABASE:
                self.pending_objects -= 1
                self.freed_objects += 1
            del key, value
        if obj:
            objs.append(obj)
            kinds.append(kind)
        else:
            # Attributes beside the items (a hash's caches, a sorted dict's list).
            self._park_referents(obj)
            if kind == _VALUE:
                self._finished(kind)
        return n + 1

    def _park_referents(self, obj: object) -> None:
        """Queue what `obj` holds, but leaves. A function of its own, so that no loop
        variable outlives it: a part still referenced from here would look shared (the
        refcount test in `drain`) and be let go whole."""
        objs, kinds = self._objs, self._kinds
        for child in gc.get_referents(obj):
            if not isinstance(child, _LEAVES):
                objs.append(child)
                kinds.append(_PART)

    def _drain_sequence(self, obj: list[object] | deque[object], kind: int, budget: int) -> int:
        pop = list.pop if isinstance(obj, list) else deque.pop
        objs, kinds = self._objs, self._kinds
        n = 0
        while obj and n < budget:
            item = pop(obj)  # type: ignore[arg-type]
            if not isinstance(item, _LEAVES):
                objs.append(item)
                kinds.append(_PART)
            n += 1
            del item
        if obj:
            objs.append(obj)
            kinds.append(kind)
        else:
            self._finished(kind)
        return n + 1

    def _let_go(self, obj: object, kind: int) -> None:
        if kind == _DATABASE:
            count = len(obj)  # type: ignore[arg-type]
            self.pending_objects -= count
            self.freed_objects += count
        self._finished(kind)

    def _finished(self, kind: int) -> None:
        if kind == _VALUE:
            self.pending_objects -= 1
            self.freed_objects += 1
