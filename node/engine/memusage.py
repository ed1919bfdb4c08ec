"""MEMORY USAGE's figure: the bytes Redis 7.0 would use for a key and its value.

slotd keeps values as Python objects, whose sizes mean nothing to a Redis operator (the
accounting that drives eviction is node/engine/memory.py, in real Python bytes). MEMORY
USAGE instead answers what redis-server 7.0.15 answers for the same data, by rebuilding
its objectComputeSize: the allocations of the Redis encoding of the value, each rounded
up to its jemalloc size class, plus the key's sds and its dict entry.

Exact where Redis's layout follows from the data alone (strings, intsets, listpacks,
quicklists built by pushes at the tail, hash tables grown by inserts, streams appended to
at the tail); estimated where it depends on history or chance (skiplist node levels are
drawn from a hash of the member instead of Redis's random level, hash tables are sized as
if they were never shrunk, lists as if they were pushed at the tail, and a string that was
modified in place is assumed to have last grown by an APPEND). Containers are sampled as
Redis samples them: the first `samples` elements (or nodes) are averaged and the average
multiplied by the element count; `samples` <= 0 means every element.
Pure.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from itertools import islice
from typing import Final

from node.commands._args import string2ll
from node.config import Config
from node.engine.types.hash import HashValue
from node.engine.types.list import ListValue
from node.engine.types.set import SetValue
from node.engine.types.stream import _LISTPACK_EMPTY, Stream, _elem_size, _trie_nodes
from node.engine.types.zset import ZSet, listpack_score_text
from node.persistence.blobs import listpack_encode
from node.persistence.rdb import _node_allows

# sizeof() of Redis 7.0's structs on a 64-bit build.
ROBJ: Final = 16
DICT_ENTRY: Final = 24
_DICT: Final = 56
_QUICKLIST: Final = 40
_QUICKLIST_NODE: Final = 40
_ZSET: Final = 16
_ZSKIPLIST: Final = 32
_ZSKIPLIST_NODE: Final = 24  # plus 16 bytes per level
_ZSKIPLIST_MAXLEVEL: Final = 32
_STREAM: Final = 80
_STREAM_CG: Final = 40
_STREAM_NACK: Final = 24
_STREAM_CONSUMER: Final = 24
_STREAM_ID: Final = 16
_RAX_NODE: Final = 4
_STREAM_PREALLOC: Final = 4096  # STREAM_LISTPACK_MAX_PRE_ALLOCATE
_EMBSTR_MAX: Final = 44
_SDS_MAX_PREALLOC: Final = 1 << 20
_INTSET_HEADER: Final = 8
_DICT_MIN_SLOTS: Final = 4
_REHASH_SHARE: Final = 0.6


def jemalloc_size(n: int) -> int:
    """The usable size jemalloc gives a request of `n` bytes (its size classes: steps of
    16 up to 128, then four classes per doubling)."""
    if n <= 8:
        return 8
    if n <= 128:
        return (n + 15) & ~15
    step = 1 << ((n - 1).bit_length() - 3)
    return (n + step - 1) & ~(step - 1)


def _sds_header(length: int, *, min_type8: bool = False) -> int:
    """sdsReqType's header size for a string of `length` bytes (type 5 below 32 bytes,
    except where Redis insists on type 8: strings made to grow)."""
    if length < 32 and not min_type8:
        return 1
    if length < 256:
        return 3
    if length < 65536:
        return 5
    return 9 if length < 1 << 32 else 17


def sds_size(length: int) -> int:
    """sdsZmallocSize of an exact-size sds (sdsnewlen/sdsdup)."""
    return jemalloc_size(_sds_header(length) + length + 1)


def _grown_sds_size(length: int) -> int:
    """An sds that last grew through sdsMakeRoomFor's greedy rule (APPEND, SETRANGE)."""
    alloc = length * 2 if length < _SDS_MAX_PREALLOC else length + _SDS_MAX_PREALLOC
    return jemalloc_size(_sds_header(alloc, min_type8=True) + alloc + 1)


def _is_int_encoded(value: bytes) -> bool:
    return len(value) <= 20 and string2ll(value) is not None


def string_size(value: bytes | bytearray) -> int:
    """objectComputeSize of a string: int, embstr or raw encoding."""
    if value.__class__ is bytearray:
        return ROBJ + _grown_sds_size(len(value))
    if _is_int_encoded(value):  # type: ignore[arg-type]
        return ROBJ
    n = len(value)
    if n <= _EMBSTR_MAX:
        return jemalloc_size(ROBJ + 3 + n + 1)  # robj and sdshdr8 in one allocation
    return ROBJ + sds_size(n)


def _next_power(n: int) -> int:
    return max(_DICT_MIN_SLOTS, 1 << (n - 1).bit_length())


def _dict_slots(used: int, created_with: int = 0) -> int:
    """dictSlots of a Redis dict holding `used` entries, built by inserts into a table
    created for `created_with` entries (a conversion from a listpack or intset sizes the
    table for what it holds). Each expansion doubles the table when an insert finds it
    full, then moves one bucket per insert: until about 60% of the old buckets are done
    (the non-empty ones at load factor 1) both tables count."""
    size = _next_power(created_with) if created_with else _DICT_MIN_SLOTS
    if used <= size:
        return size
    while used > 2 * size:
        size *= 2
    rehashing = used - (size + 1) < size * _REHASH_SHARE
    return 2 * size + (size if rehashing else 0)


def _dict_base(used: int, created_with: int = 0) -> int:
    return ROBJ + _DICT + 8 * _dict_slots(used, created_with)


def _average_times(sizes: Iterable[int], count: int, samples: int) -> float:
    """Redis's `elesize / samples * count` over the first `samples` sizes."""
    taken = list(sizes if samples <= 0 else islice(sizes, samples))
    return sum(taken) / len(taken) * count if taken else 0.0


def _set_size(value: SetValue, samples: int, max_intset: int) -> float:
    if value.intset:
        width = 2
        for member in value:
            number = int(member)
            if not -32768 <= number <= 32767:
                width = 4 if -(2**31) <= number < 2**31 else 8
                if width == 8:
                    break
        return ROBJ + jemalloc_size(_INTSET_HEADER + width * len(value))
    # A set of integers outgrew its intset (converted holding max_intset + 1 members);
    # any other set was a hash table from the start.
    n = len(value)
    converted = min(n, max_intset + 1) if all(_is_int_encoded(m) for m in value) else 0
    sizes = (DICT_ENTRY + sds_size(len(m)) for m in value)
    return _dict_base(n, converted) + _average_times(sizes, n, samples)


def _hash_size(value: HashValue, samples: int, max_entries: int) -> float:
    if not value.hashtable:
        flat: list[bytes] = []
        for field, item in value.items():
            flat.append(field)
            flat.append(item)
        return ROBJ + jemalloc_size(len(listpack_encode(flat)))
    # Converted when it outgrew the listpack (max_entries + 1 fields) or met a long value.
    n = len(value)
    sizes = (DICT_ENTRY + sds_size(len(f)) + sds_size(len(v)) for f, v in value.items())
    return _dict_base(n, min(n, max_entries + 1)) + _average_times(sizes, n, samples)


def _skiplist_level(member: bytes) -> int:
    """A node level with Redis's distribution (P = 1/4 per extra level), drawn from the
    member so that the same data always gets the same answer."""
    bits = zlib.crc32(member)
    level = 1
    while bits & 3 == 0 and level < _ZSKIPLIST_MAXLEVEL and bits:
        level += 1
        bits >>= 2
    return level


def _zset_size(value: ZSet, samples: int, max_entries: int) -> float:
    n = len(value)
    if value.encoding() == b"listpack":
        flat: list[bytes] = []
        for member, score in value.pairs():
            flat.append(member)
            flat.append(listpack_score_text(score))
        return ROBJ + jemalloc_size(len(listpack_encode(flat)))
    base = (
        ROBJ
        + _ZSET
        + _ZSKIPLIST
        + _DICT
        + 8 * _dict_slots(n, min(n, max_entries + 1))
        + jemalloc_size(_ZSKIPLIST_NODE + 16 * _ZSKIPLIST_MAXLEVEL)
    )
    taken = value.items(0, n if samples <= 0 else min(samples, n))
    sizes = (
        sds_size(len(m)) + DICT_ENTRY + jemalloc_size(_ZSKIPLIST_NODE + 16 * _skiplist_level(m))
        for m, _ in taken
    )
    return base + _average_times(sizes, n, 0)


def _quicklist_nodes(value: ListValue, fill: int, limit: int) -> tuple[list[int], int]:
    """The listpack sizes of the first `limit` quicklist nodes (all when `limit` <= 0) of a
    list pushed element by element at the tail, and how many elements they hold."""
    sizes: list[int] = []
    held = count = 0
    node = _LISTPACK_EMPTY
    for item in value:
        entry = _elem_size(item)
        if count and _node_allows(node, count, fill, len(item)):
            node += entry
            count += 1
            continue
        if count:
            sizes.append(node)
            held += count
            if len(sizes) == limit:
                return sizes, held
        node, count = _LISTPACK_EMPTY + entry, 1
    if count:
        sizes.append(node)
        held += count
    return sizes, held


def _list_size(value: ListValue, samples: int, fill: int) -> float:
    """A quicklist: the first `samples` nodes are measured; the node count is exact when
    they are the whole list, else extrapolated from the elements per sampled node."""
    sizes, held = _quicklist_nodes(value, fill, samples)
    node_count = len(sizes) if held == len(value) else -(-len(value) * len(sizes) // held)
    total = sum(_QUICKLIST_NODE + jemalloc_size(size) for size in sizes)
    return ROBJ + _QUICKLIST + total / len(sizes) * node_count


def _rax_size(elements: int, nodes: int) -> int:
    """streamRadixTreeMemoryUsage: 16 bytes per ID, then each node plus a fixed guess of
    30 pointers for its children and data."""
    return elements * _STREAM_ID + nodes * _RAX_NODE + nodes * 8 * 30


def _id_rax_size(ids: Iterable[int]) -> int:
    keys = [sid.to_bytes(_STREAM_ID, "big") for sid in ids]
    nodes = _trie_nodes(keys, 0, len(keys), 0) if keys else 1
    return _rax_size(len(keys), nodes)


def _stream_size(value: Stream, samples: int, node_max_bytes: int) -> float:
    size: float = ROBJ + _STREAM + _rax_size(len(value.nodes), value.radix_tree_nodes())
    nodes = value.nodes
    # Closed nodes were shrunk to fit; the tail node keeps its pre-allocation.
    prealloc = _STREAM_PREALLOC
    if 0 < node_max_bytes < prealloc:
        prealloc = node_max_bytes
    allocs = [jemalloc_size(node.lp_bytes) for node in nodes]
    if allocs:
        allocs[-1] = max(allocs[-1], prealloc)
    taken = allocs if samples <= 0 else allocs[:samples]
    if len(nodes) <= len(taken):
        size += sum(taken)
    elif taken:
        size += sum(taken) // len(taken) * (len(nodes) - 1) + allocs[-1]
    for group in value.groups.values():
        size += _STREAM_CG + _id_rax_size(group.pel) + _STREAM_NACK * len(group.pel)
        for consumer in group.consumers.values():
            size += _STREAM_CONSUMER + len(consumer.name) + _id_rax_size(consumer.pel)
    return size


def value_size(value: object, samples: int, config: Config) -> int:
    """objectComputeSize(value, samples): Redis's estimate of the value alone."""
    size: float
    if type(value) is bytes or type(value) is bytearray:
        return string_size(value)
    if type(value) is HashValue:
        size = _hash_size(value, samples, config.int("hash-max-listpack-entries"))
    elif type(value) is SetValue:
        size = _set_size(value, samples, config.int("set-max-intset-entries"))
    elif type(value) is ZSet:
        size = _zset_size(value, samples, config.int("zset-max-listpack-entries"))
    elif type(value) is ListValue:
        size = _list_size(value, samples, config.int("list-max-listpack-size"))
    elif type(value) is Stream:
        size = _stream_size(value, samples, config.int("stream-node-max-bytes"))
    else:
        raise TypeError(f"no Redis layout for {type(value).__name__}")
    return int(size)


def key_usage(key: bytes, value: object, samples: int, config: Config) -> int:
    """MEMORY USAGE: the value, the key's sds and the dict entry holding them."""
    return value_size(value, samples, config) + sds_size(len(key)) + DICT_ENTRY
