"""What a key and its value cost this process, in bytes of Python heap.

The model behind `used_memory` and eviction (node/engine/memory.py). It counts the
objects a value is made of with their real CPython sizes (`sys.getsizeof`) rounded to
what the allocator hands out: pymalloc serves requests up to 512 bytes in 16-byte steps,
larger ones come from malloc with an 8-byte header in 16-byte steps.

Rules:
- Costs are deterministic functions of a value's state, so the running total that memory.py
  keeps (cost after a command minus cost before) never drifts by re-measuring.
- Small containers (up to `EXACT_LEN` elements) are walked whole. Larger ones cost their
  structure (exact and O(1): the dict table, the deque blocks...) plus their length times a
  per-element cost that the caller caches (`element_cost` samples it from both ends); the
  caller refreshes that cache now and then and books the difference.
- Caches hanging off values (random-pick lists, scan snapshots) are left out: read commands
  build them, and they are dropped by the next change.
- The per-element constants for sorted sets and streams (whose internals belong to their
  modules) were measured against the process RSS (BENCHMARKS.md, "Memory and eviction").
Pure: `sys.getsizeof` is the only thing read from the interpreter.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from itertools import islice
from typing import Final

from node.engine.types.hash import HashValue
from node.engine.types.list import ListValue
from node.engine.types.set import SetValue
from node.engine.types.stream import Stream, _Node
from node.engine.types.zset import ZSet

EXACT_LEN: Final = 16
_END_SAMPLE: Final = EXACT_LEN // 2
_SPREAD: Final = 16  # evenly spaced picks in a list
_DICT_WALK_MAX: Final = 1 << 16
_PYMALLOC_MAX: Final = 512
_BYTES_HEADER: Final = 33
_BYTEARRAY_OBJECT: Final = 64  # a bytearray object (56 bytes) as pymalloc serves it
# Measured per-element costs beyond the members' own bytes objects.
ZSET_LISTPACK_ELEMENT: Final = 18  # a double in an array and a list slot, with slack
ZSET_SKIPLIST_ELEMENT: Final = 176  # dict entry, (score, member) tuple, float, sorted-list slot
ZSET_BASE: Final = 288
STREAM_BASE: Final = 550
STREAM_PEL_ENTRY: Final = 220  # Nack object, its ID int, sorted-dict entry, consumer list slot
STREAM_GROUP: Final = 700
STREAM_NODE_ENTRY: Final = 4  # allocator slack of a node's per-entry arrays
_INT_OBJECT: Final = 32  # an int object up to 2**60, as pymalloc serves it
STREAM_CONSUMER: Final = 500
EXPIRE_ENTRY: Final = 32  # the expiry time's int object (its dict slot is a TABLE_ENTRY)
# A key's slot in a dict table (keyspace, expiries, access clocks): 4 index bytes and 2/3 of
# a 24-byte entry per slot, with the table sized to 3x the keys in use at its last resize
# (1.5x to 3x of them now): 30-60 bytes a key, jumping at each power of two. A flat figure,
# so that a resize never turns into a burst of evictions; twice the middle one, because
# under key churn the process also keeps heap that freed keys left behind (pymalloc gives
# an arena back only once all of it is free): with 90 the RSS stayed within 13% of
# maxmemory in the eviction load test, while 1M string keys at rest are over-counted by
# about 30% (BENCHMARKS.md, "Memory and eviction").
TABLE_ENTRY: Final = 90
_CONTAINERS: Final = frozenset({HashValue, SetValue, ListValue, ZSet})


def alloc(size: int) -> int:
    """Heap bytes taken by a request of `size` bytes."""
    if size <= _PYMALLOC_MAX:
        return (size + 15) & ~15
    return max(32, (size + 8 + 15) & ~15)


def string_cost(value: bytes | bytearray) -> int:
    """A bytes object (the 0- and 1-byte ones are interned: free), or a bytearray with its
    separately allocated buffer."""
    if type(value) is bytes:
        return alloc(_BYTES_HEADER + len(value)) if len(value) > 1 else 0
    buffer = sys.getsizeof(value) - 56
    return _BYTEARRAY_OBJECT + (alloc(buffer) if buffer else 0)


def _members_cost(items: Iterable[bytes]) -> int:
    return sum(map(string_cost, items))


def _spread(value: HashValue | SetValue | ListValue) -> list[bytes]:
    """A sample of elements from all over a container: both ends, plus evenly spaced ones
    where reaching them is cheap (a deque steps 64 elements at a time; a dict has to be
    walked, so only its middle is visited, and only when it is not huge)."""
    n = len(value)
    sample = [*islice(value, _END_SAMPLE), *islice(reversed(value), _END_SAMPLE)]
    if type(value) is ListValue:
        sample += [value[i] for i in range(n // _SPREAD, n - 1, max(1, n // _SPREAD))]
    elif n <= _DICT_WALK_MAX:
        sample += islice(value, n // 2, n // 2 + _END_SAMPLE)
    return sample


def _stream_node_cost(node: _Node) -> int:
    getsizeof = sys.getsizeof
    ids = node.ms
    size = (
        getsizeof(node)
        + getsizeof(ids)
        + getsizeof(node.seq)
        + (0 if node.flags is None else getsizeof(node.flags))
        + (0 if node.firsts is None else getsizeof(node.firsts))
        + STREAM_NODE_ENTRY * len(ids)
    )
    vals = node.vals
    if vals is None:  # sealed: arrays and one blob
        return size + getsizeof(node.ends) + getsizeof(node.blob)
    # The open tail: lists of the elements' bytes objects and of ints (those above 256
    # are objects of their own).
    big = sum([1 for x in ids if x > 256]) + sum([1 for x in node.seq if x > 256])
    return size + getsizeof(vals) + _members_cost(vals) + _INT_OBJECT * big


def structure_cost(value: object) -> int:
    """The part of a container's cost that does not scale with its elements' sizes."""
    if type(value) is HashValue or type(value) is SetValue or type(value) is ListValue:
        return alloc(sys.getsizeof(value))
    if type(value) is ZSet:
        listpack = value.encoding() == b"listpack"
        return ZSET_BASE + (ZSET_LISTPACK_ELEMENT if listpack else ZSET_SKIPLIST_ELEMENT) * len(
            value
        )
    if type(value) is Stream:
        size = STREAM_BASE + 8 * len(value.nodes)
        for group in value.groups.values():
            size += STREAM_GROUP + STREAM_PEL_ENTRY * len(group.pel)
            size += sum(STREAM_CONSUMER + string_cost(c.name) for c in group.consumers.values())
        return size
    raise TypeError(f"no footprint for {type(value).__name__}")


def element_cost(value: object) -> float:
    """The mean cost of one element (one node for streams) outside the structure,
    sampled from all over the container."""
    if type(value) is HashValue:
        fields = _spread(value)
        return sum(string_cost(f) + string_cost(value[f]) for f in fields) / len(fields)
    if type(value) is SetValue or type(value) is ListValue:
        sample = _spread(value)
        return _members_cost(sample) / len(sample)
    if type(value) is ZSet:
        n = len(value)
        step = max(1, n // _SPREAD)
        members = [value.item(i)[0] for i in range(0, n, step)]
        return _members_cost(members) / len(members)
    if type(value) is Stream:
        nodes = value.nodes
        step = max(1, len(nodes) // _SPREAD)
        picked = nodes[::step]
        return sum(map(_stream_node_cost, picked)) / len(picked)
    raise TypeError(f"no footprint for {type(value).__name__}")


def elements(value: object) -> int:
    """How many elements `element_cost` is multiplied by (nodes for a stream)."""
    if type(value) is Stream:
        return len(value.nodes)
    if type(value) in _CONTAINERS:
        return len(value)  # type: ignore[arg-type]
    raise TypeError(f"no footprint for {type(value).__name__}")


def value_cost(value: object, per_element: float | None = None) -> int:
    """The cost of a value; containers above EXACT_LEN elements use `per_element`
    (from `element_cost`, cached by the caller) when given."""
    if type(value) is bytes or type(value) is bytearray:
        return string_cost(value)
    n = elements(value)
    if n > EXACT_LEN:
        if per_element is None:
            per_element = element_cost(value)
        return structure_cost(value) + int(per_element * n)
    size = structure_cost(value)
    if type(value) is HashValue:
        return size + sum(string_cost(f) + string_cost(v) for f, v in value.items())
    if type(value) is Stream:
        return size + sum(map(_stream_node_cost, value.nodes))
    if type(value) is SetValue or type(value) is ListValue or type(value) is ZSet:
        return size + _members_cost(value)
    raise TypeError(f"no footprint for {type(value).__name__}")
