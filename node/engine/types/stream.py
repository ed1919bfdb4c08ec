"""The stream value (Redis's OBJ_STREAM) with its consumer groups.

Layout. Entries live in macro nodes, as in Redis's radix tree of listpacks, because clients
can see where nodes split: approximate trimming (`MAXLEN ~`, `MINID ~`) only drops whole
nodes, and XINFO STREAM reports radix-tree-keys and radix-tree-nodes. A new node starts
when the tail node holds `stream-node-max-entries` entries (live and deleted) or when the
next entry's fields and values would take its listpack to `stream-node-max-bytes`. The
listpack size is emulated with listpack's encoding rules (canonical integer strings are
stored as integers; element lengths and back-lengths), so nodes split where Redis's do.

Storage is compact: a node keeps its entry IDs in two arrays, each entry's ms as its distance
from the master ID's ms and its seq as is, both 4 bytes wide (`array('I')`) unless a value
needs 8 (then `array('Q')`, for that node only: explicit IDs can be anything), every stored
field and value concatenated in one blob with an `array('I')` of end offsets, and, only once
some entry needs them, one flags byte per entry (deleted; same fields as the node's master
entry) and the index of each entry's first element. An entry with the master's fields
stores only its values. The tail node, where XADD appends, is kept open instead: the same
data in lists, compacted ("sealed") when a new tail takes over. Deleting marks the entry (a
tombstone) and leaves its bytes, as Redis does; a node goes when XDEL takes its last live
entry or trimming drops it whole.

IDs are ints `ms << 64 | seq` everywhere outside the node arrays: they order like Redis's
128-bit big-endian keys. `MAX_ID` is the largest. The stream holds its own last ID as two
parts (`last_id` joins them): XADD's hot path then needs no 128-bit arithmetic.

Consumer groups: a group keeps its last delivered ID, its entries-read counter
(`INVALID_ENTRIES_READ` when unknown), its PEL (a SortedDict ID -> Nack) and its consumers
by name; a consumer keeps the sorted IDs of its own pending entries. Listings go in name
order (Redis keeps groups and consumers in radix trees).

Pure: no clock and no config in here; times and node limits are arguments.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Iterator
from typing import ClassVar, Final

from sortedcontainers import SortedDict, SortedList

from node.commands._args import string2ll

SEQ_MASK: Final = (1 << 64) - 1
MAX_ID: Final = (1 << 128) - 1
INVALID_ENTRIES_READ: Final = -1

_DELETED: Final = 1
_SAMEFIELDS: Final = 2
_LISTPACK_MAX_SIZE: Final = 1 << 30  # Redis caps a node's listpack at 1 GB whatever the config
_LISTPACK_EMPTY: Final = 7  # header (total bytes, element count) + end byte
_ID_BYTES: Final = 16
# 1 at the bytes an integer's text can start with (a table: cheaper than a set, compiled).
_INT_START: Final = bytes(1 if chr(b) in "-0123456789" else 0 for b in range(256))
# How much a listpack integer grows when it goes from the key to key + 1.
_COUNT_GROWTH: Final = {127: 1, 4095: 1, 32767: 1, 8388607: 1, 2**31 - 1: 4}


def make_id(ms: int, seq: int) -> int:
    return ms << 64 | seq


def format_id(sid: int) -> bytes:
    return b"%d-%d" % (sid >> 64, sid & SEQ_MASK)


# --- listpack sizes -------------------------------------------------------------------
def _backlen(size: int) -> int:
    """Bytes of the back-length that ends a listpack element of `size` bytes."""
    if size <= 127:
        return 1
    if size < 16383:
        return 2
    if size < 2097151:
        return 3
    return 4 if size < 268435455 else 5


def _int_size(value: int) -> int:
    """A listpack integer element, back-length included."""
    if 0 <= value <= 127:
        return 2
    if -4096 <= value <= 4095:
        return 3
    if -32768 <= value <= 32767:
        return 4
    if -8388608 <= value <= 8388607:
        return 5
    return 6 if -(2**31) <= value < 2**31 else 10


def _elem_size(raw: bytes) -> int:
    """A listpack element holding `raw`: an integer if it is one's canonical text."""
    n = len(raw)
    if n and n <= 20 and _INT_START[raw[0]]:
        number = string2ll(raw)
        if number is not None:
            return _int_size(number)
    if n < 64:
        return n + 2  # a 6-bit length byte, the bytes, a one-byte back-length
    size = n + (2 if n < 4096 else 5)
    return size + _backlen(size)


def _delta(a: int, b: int) -> int:
    """`a - b` as Redis stores it: uint64 arithmetic read back as an int64."""
    d = (a - b) & SEQ_MASK
    return d - (1 << 64) if d >= 1 << 63 else d


# --- nodes ----------------------------------------------------------------------------
class _Node:
    """One macro node: a master ID and fields, then its entries (tombstones included).

    The tail node is open: its IDs and stored elements are lists, so XADD appends to them
    cheaply. `seal` compacts a node into arrays and one blob when it stops being the tail
    (or is loaded); `unseal` reopens a sealed node that becomes the tail again. `flags` is
    None while every entry has the master's fields and none is deleted, and `firsts` None
    while every entry has the master's fields (entry i's values then start at element
    i * len(fields)): the common stream needs neither."""

    __slots__ = (
        "blob",
        "ends",
        "fields",
        "firsts",
        "flags",
        "live",
        "lp_bytes",
        "master_ms",
        "master_seq",
        "ms",
        "seq",
        "vals",
    )

    def __init__(self, master_ms: int, master_seq: int, fields: tuple[bytes, ...]) -> None:
        self.master_ms = master_ms
        self.master_seq = master_seq
        self.fields = fields
        # ms - master_ms (never negative: IDs only grow in a node) and seq of each entry.
        self.ms: list[int] | array[int] = []
        self.seq: list[int] | array[int] = []
        self.flags: bytearray | None = None
        self.firsts: list[int] | array[int] | None = None  # each entry's first element
        self.vals: list[bytes] | None = []  # the stored elements while open
        self.ends: array[int] | None = None  # sealed: each element's end offset in `blob`
        self.blob = b""
        self.live = 0
        # The master entry: live count (0 until `add`), deleted count, number of fields,
        # the fields, and a 0 terminator.
        self.lp_bytes = (
            _LISTPACK_EMPTY
            + 3 * _int_size(0)
            + _int_size(len(fields))
            + sum([_elem_size(f) for f in fields])
        )

    def copy(self) -> _Node:
        node = _Node(self.master_ms, self.master_seq, self.fields)  # fields: shared tuple
        node.live = self.live
        node.lp_bytes = self.lp_bytes
        node.flags = None if self.flags is None else bytearray(self.flags)
        vals = self.vals
        if vals is None:
            # A sealed node's arrays and blob never change (`unseal` replaces them): shared.
            node.ms, node.seq, node.firsts = self.ms, self.seq, self.firsts
            node.vals, node.ends, node.blob = None, self.ends, self.blob
            return node
        firsts = self.firsts
        node.ms = list(self.ms)
        node.seq = list(self.seq)
        node.firsts = None if firsts is None else list(firsts)
        node.vals = list(vals)  # the elements are bytes: shared
        return node

    # --- open and sealed ---------------------------------------------------------------
    def seal(self) -> None:
        """Compact an open node: IDs into 4-byte arrays (8 where a value needs it), the
        stored elements into one blob with their end offsets."""
        vals, ms, seq = self.vals, self.ms, self.seq
        if vals is None:
            return
        assert isinstance(ms, list) and isinstance(seq, list)  # an open node's
        self.ms = _compact(ms)
        self.seq = _compact(seq)
        if self.firsts is not None:
            self.firsts = array("I", self.firsts)
        self.blob = b"".join(vals)
        ends = []  # a plain loop: compiled, several times faster than accumulate(map(len))
        end = 0
        for x in vals:
            end += len(x)
            ends.append(end)
        self.ends = _compact(ends)  # 4-byte offsets: a node is under 1 GB
        self.vals = None

    def unseal(self) -> None:
        """Reopen a sealed node for appends (it became the tail again)."""
        if self.vals is not None:
            return
        blob, ends, vals = self.blob, self.ends, []
        assert ends is not None
        start = 0
        for end in ends:
            vals.append(blob[start:end])
            start = end
        self.vals = vals
        self.ms = list(self.ms)
        self.seq = list(self.seq)
        if self.firsts is not None:
            self.firsts = list(self.firsts)
        self.blob = b""
        self.ends = None

    # --- reading -----------------------------------------------------------------------
    def flag(self, i: int) -> int:
        flags = self.flags
        return _SAMEFIELDS if flags is None else flags[i]

    def id_at(self, i: int) -> int:
        return (self.master_ms + self.ms[i]) << 64 | self.seq[i]

    def last_id(self) -> int:
        """The ID of the last entry in the node, tombstone or not."""
        return self.id_at(len(self.ms) - 1)

    def find(self, sid: int) -> int:
        """The index of the first entry (tombstones included) whose ID is >= sid."""
        ms, seq = self.ms, self.seq
        sid -= self.master_ms << 64  # compared with IDs relative to the master's ms
        lo, hi = 0, len(ms)
        while lo < hi:
            mid = (lo + hi) >> 1
            if (ms[mid] << 64 | seq[mid]) < sid:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def elements(self, i: int) -> list[bytes]:
        """Entry i as a flat [field, value, ...] list."""
        firsts, vals, ends = self.firsts, self.vals, self.ends
        if firsts is None:
            first = i * len(self.fields)
            stop = first + len(self.fields)
        else:
            first = firsts[i]
            stop = firsts[i + 1] if i + 1 < len(firsts) else -1  # -1: to the end
        if vals is not None:
            stored = vals[first:stop] if stop >= 0 else vals[first:]
        else:
            assert ends is not None
            if stop < 0:
                stop = len(ends)
            blob = self.blob
            start = ends[first - 1] if first else 0
            stored = []
            for k in range(first, stop):
                end = ends[k]
                stored.append(blob[start:end])
                start = end
        if not self.flag(i) & _SAMEFIELDS:
            return stored
        flat: list[bytes] = []
        for field, value in zip(self.fields, stored, strict=True):
            flat.append(field)
            flat.append(value)
        return flat

    # --- changing ----------------------------------------------------------------------
    def add(self, ms: int, seq: int, flat: list[bytes], same: bool) -> None:
        """Append an entry; `same` when its fields are the master's (only values kept).
        Stream.append inlines the usual case (one value under the master's single field)."""
        if self.vals is None:
            self.unseal()
        master_ms = self.master_ms
        rel = ms - master_ms  # never negative: IDs only grow in a node
        # flags, ms and seq deltas to the master ID, [numfields, fields,] values, lp-count
        size = 2 + _int_size(_delta(ms, master_ms)) + _int_size(_delta(seq, self.master_seq))
        numfields = len(flat) >> 1
        if same:
            size += _int_size(numfields + 3)
            stored = flat[1::2]
        else:
            size += _int_size(2 * numfields + 4) + _int_size(numfields)
            stored = flat
        for x in stored:
            size += _elem_size(x)
        live = self.live
        self.lp_bytes += size + _COUNT_GROWTH.get(live, 0)  # the master entry's count
        self.live = live + 1
        vals = self.vals
        assert vals is not None
        count = len(self.ms)
        firsts = self.firsts
        if firsts is None and not same:
            k = len(self.fields)
            firsts = self.firsts = [j * k for j in range(count)]
        if firsts is not None:
            firsts.append(len(vals))
        flags = self.flags
        if flags is None and not same:
            flags = self.flags = bytearray([_SAMEFIELDS]) * count
        if flags is not None:
            flags.append(_SAMEFIELDS if same else 0)
        vals.extend(stored)
        self.ms.append(rel)
        self.seq.append(seq)

    def mark_deleted(self, indexes: list[int]) -> None:
        """Tombstone live entries, updating the master entry's count/deleted fields."""
        if not indexes:
            return
        flags = self.flags
        if flags is None:
            flags = self.flags = bytearray([_SAMEFIELDS]) * len(self.ms)
        deleted = len(flags) - self.live
        for i in indexes:
            flags[i] |= _DELETED
        k = len(indexes)
        self.lp_bytes += (
            _int_size(self.live - k)
            - _int_size(self.live)
            + _int_size(deleted + k)
            - _int_size(deleted)
        )
        self.live -= k


def _compact(values: list[int]) -> array[int]:
    """Values as a 4-byte array, or an 8-byte one when one of them needs it. (`fromlist`
    is several times faster than building the array from the list.)"""
    packed = array("I")
    try:
        packed.fromlist(values)
    except OverflowError:
        packed = array("Q")
        packed.fromlist(values)
    return packed


def _trie_nodes(keys: list[bytes], lo: int, hi: int, depth: int) -> int:
    """Nodes of a compressed radix tree (Redis's rax) holding keys[lo:hi], which share
    their first `depth` bytes: chains of single children are one node, keys end in
    leaves."""
    if hi - lo == 1:
        return 1 if depth == _ID_BYTES else 2
    first, last = keys[lo], keys[hi - 1]
    split = depth
    while first[split] == last[split]:
        split += 1
    total = (1 if split > depth else 0) + 1  # the shared run, then the branching node
    i = lo
    while i < hi:
        byte, j = keys[i][split], i + 1
        while j < hi and keys[j][split] == byte:
            j += 1
        total += _trie_nodes(keys, i, j, split + 1)
        i = j
    return total


# --- consumer groups ------------------------------------------------------------------
class Consumer:
    """A consumer of a group: its name, when it was last seen, its pending IDs."""

    __slots__ = ("name", "pel", "seen_time")

    def __init__(self, name: bytes, now_ms: int) -> None:
        self.name = name
        self.seen_time = now_ms
        self.pel: SortedList[int] = SortedList()


class Nack:
    """A pending entry: who has it, when it was last delivered, how many times."""

    __slots__ = ("consumer", "delivery_count", "delivery_time")

    def __init__(self, consumer: Consumer | None, now_ms: int) -> None:
        self.consumer = consumer
        self.delivery_time = now_ms
        self.delivery_count = 1


class Group:
    """A consumer group."""

    __slots__ = ("consumers", "entries_read", "last_id", "pel")

    def __init__(self, last_id: int, entries_read: int) -> None:
        self.last_id = last_id
        self.entries_read = entries_read
        self.pel: SortedDict[int, Nack] = SortedDict()
        self.consumers: dict[bytes, Consumer] = {}

    def create_consumer(self, name: bytes, now_ms: int) -> Consumer:
        consumer = self.consumers[name] = Consumer(name, now_ms)
        return consumer

    def delete_consumer(self, consumer: Consumer) -> None:
        """Drop a consumer and its pending entries (they leave the group's PEL too)."""
        pel = self.pel
        for sid in consumer.pel:
            del pel[sid]
        del self.consumers[consumer.name]

    def ack(self, sid: int) -> bool:
        nack = self.pel.pop(sid, None)
        if nack is None:
            return False
        if nack.consumer is not None:
            nack.consumer.pel.remove(sid)
        return True

    def assign(self, sid: int, nack: Nack, consumer: Consumer) -> None:
        """Move a pending entry to `consumer`'s list (it may have no owner yet)."""
        if nack.consumer is consumer:
            return
        if nack.consumer is not None:
            nack.consumer.pel.remove(sid)
        consumer.pel.add(sid)
        nack.consumer = consumer

    def deliver(self, sid: int, consumer: Consumer, now_ms: int) -> None:
        """A first delivery to `consumer` (XREADGROUP >): a new pending entry, or one taken
        over from its previous owner with its count reset, as Redis does."""
        nack = self.pel.get(sid)
        if nack is None:
            nack = self.pel[sid] = Nack(consumer, now_ms)
            consumer.pel.add(sid)
            return
        self.assign(sid, nack, consumer)
        nack.delivery_time = now_ms
        nack.delivery_count = 1

    def copy(self) -> Group:
        group = Group(self.last_id, self.entries_read)
        for name, consumer in self.consumers.items():
            twin = group.consumers[name] = Consumer(name, consumer.seen_time)
            twin.pel.update(consumer.pel)
        for sid, nack in self.pel.items():
            owner = nack.consumer
            twin_nack = Nack(group.consumers[owner.name] if owner is not None else None, 0)
            twin_nack.delivery_time = nack.delivery_time
            twin_nack.delivery_count = nack.delivery_count
            group.pel[sid] = twin_nack
        return group


# --- the stream -----------------------------------------------------------------------
class Stream:
    """A Redis stream. Unlike other types it may be stored empty (XDEL, XTRIM, MKSTREAM)."""

    __slots__ = (
        "entries_added",
        "first_id",
        "groups",
        "heads",
        "last_ms",
        "last_seq",
        "length",
        "max_deleted",
        "nodes",
    )
    TYPE: ClassVar[bytes] = b"stream"

    def __init__(self) -> None:
        self.nodes: list[_Node] = []  # all sealed but the last
        self.heads: list[int] = []  # each node's master ID, for bisecting
        self.length = 0
        # The last ID in its two parts: XADD works on them without 128-bit ints.
        self.last_ms = 0
        self.last_seq = 0
        self.first_id = 0  # recorded-first-entry-id: 0-0 while empty
        self.max_deleted = 0
        self.entries_added = 0
        self.groups: dict[bytes, Group] = {}

    @property
    def last_id(self) -> int:
        return self.last_ms << 64 | self.last_seq

    @last_id.setter
    def last_id(self, sid: int) -> None:
        self.last_ms = sid >> 64
        self.last_seq = sid & SEQ_MASK

    def encoding(self) -> bytes:
        return b"stream"

    def copy(self) -> Stream:
        twin = Stream()
        twin.nodes = [node.copy() for node in self.nodes]
        twin.heads = list(self.heads)
        twin.length, twin.first_id = self.length, self.first_id
        twin.last_ms, twin.last_seq = self.last_ms, self.last_seq
        twin.max_deleted, twin.entries_added = self.max_deleted, self.entries_added
        twin.groups = {name: group.copy() for name, group in self.groups.items()}
        return twin

    # --- adding ------------------------------------------------------------------------
    def next_id(self, now_ms: int) -> int:
        """The ID `*` stands for: the clock's ms, or the last ID's ms with the next
        sequence when the clock is not ahead (IDs never go backwards). MAX_ID wraps to 0,
        which the caller must refuse."""
        if now_ms > self.last_ms:
            return now_ms << 64
        return (self.last_id + 1) & MAX_ID

    def append(
        self, ms: int, seq: int, argv: list[bytes], at: int, max_entries: int, max_bytes: int
    ) -> bool:
        """Add the entry ms-seq (a new ID, > last_id) whose fields and values are argv[at:],
        in a new node when the tail is full by `max_entries` and `max_bytes`
        (stream-node-max-entries/-bytes). False (nothing added) when its fields and values
        would not fit a listpack at all."""
        if not 0 < max_bytes <= _LISTPACK_MAX_SIZE:
            max_bytes = _LISTPACK_MAX_SIZE
        nodes = self.nodes
        tail = nodes[-1] if nodes else None
        if tail is not None and len(argv) - at == 2:
            # XADD's usual entry, in one step: one value under the single field of an open
            # tail's master entry, with room for it (what `_Node.add` and `_added` would
            # do). The isinstance tests let compiled code append to the lists directly.
            ids, seqs, vals = tail.ms, tail.seq, tail.vals
            value = argv[at + 1]
            fields = tail.fields
            n = len(value)
            if (
                vals is not None
                and isinstance(ids, list)
                and isinstance(seqs, list)
                and tail.lp_bytes + len(argv[at]) + n < max_bytes
                and (not max_entries or len(ids) < max_entries)
                and len(fields) == 1
                and argv[at] == fields[0]
            ):
                master_ms = tail.master_ms
                rel = ms - master_ms
                d = seq - tail.master_seq
                # flags, ms and seq deltas to the master ID, the value, lp-count
                if rel < 128:
                    size = 4
                else:
                    size = 5 if rel < 4096 else 2 + _int_size(_delta(ms, master_ms))
                if 0 <= d < 128:
                    size += 2
                else:
                    size += 3 if -4096 <= d < 4096 else _int_size(_delta(seq, tail.master_seq))
                if n < 64 and not (n and _INT_START[value[0]]):
                    size += n + 4
                else:
                    size += 2 + _elem_size(value)
                live = tail.live
                if live >= 127:
                    size += _COUNT_GROWTH.get(live, 0)  # the master entry's count
                tail.lp_bytes += size
                tail.live = live + 1
                flags = tail.flags
                if flags is not None:  # tombstones or other fields in this node
                    flags.append(_SAMEFIELDS)
                    if tail.firsts is not None:
                        tail.firsts.append(len(vals))
                vals.append(value)
                ids.append(rel)
                seqs.append(seq)
                return self._added(ms, seq)  # compiled: a native call, ~30 instructions
        flat = argv[at:]
        size = 0
        for x in flat:
            size += len(x)
        if size > _LISTPACK_MAX_SIZE:
            return False
        if (
            tail is None
            or tail.lp_bytes + size >= max_bytes
            or (max_entries and len(tail.ms) >= max_entries)
        ):
            if tail is not None:
                tail.seal()
            tail = _Node(ms, seq, tuple(flat[0::2]))
            nodes.append(tail)
            self.heads.append(ms << 64 | seq)
            same = True
        elif len(flat) == 2:
            fields = tail.fields
            same = len(fields) == 1 and flat[0] == fields[0]
        else:
            same = tuple(flat[0::2]) == tail.fields
        tail.add(ms, seq, flat, same)
        return self._added(ms, seq)

    def _added(self, ms: int, seq: int) -> bool:
        self.length += 1
        self.entries_added += 1
        self.last_ms = ms
        self.last_seq = seq
        if self.length == 1:
            self.first_id = ms << 64 | seq
        return True

    # --- reading -----------------------------------------------------------------------
    def range(self, start: int, end: int, rev: bool = False) -> Iterator[tuple[int, list[bytes]]]:
        """Live entries with start <= ID <= end, in ID order (reversed with `rev`).
        Do not change the stream while iterating."""
        if start > end or not self.nodes:
            return
        nodes = self.nodes
        if not rev:
            ni = max(bisect_right(self.heads, start) - 1, 0)
            i = nodes[ni].find(start)
            for node in nodes[ni:]:
                flags = node.flags
                for j in range(i, len(node.ms)):
                    if flags is not None and flags[j] & _DELETED:
                        continue
                    sid = node.id_at(j)
                    if sid > end:
                        return
                    yield sid, node.elements(j)
                i = 0
        else:
            ni = bisect_right(self.heads, end) - 1
            if ni < 0:
                return
            i = nodes[ni].find(end + 1) - 1
            for k in range(ni, -1, -1):
                node = nodes[k]
                flags = node.flags
                if k != ni:
                    i = len(node.ms) - 1
                for j in range(i, -1, -1):
                    if flags is not None and flags[j] & _DELETED:
                        continue
                    sid = node.id_at(j)
                    if sid < start:
                        return
                    yield sid, node.elements(j)

    def get(self, sid: int) -> list[bytes] | None:
        """The live entry with this ID, or None."""
        located = self._locate(sid)
        return None if located is None else located[0].elements(located[1])

    def __contains__(self, sid: object) -> bool:
        return isinstance(sid, int) and self._locate(sid) is not None

    def _locate(self, sid: int) -> tuple[_Node, int] | None:
        ni = bisect_right(self.heads, sid) - 1
        if ni < 0:
            return None
        node = self.nodes[ni]
        i = node.find(sid)
        if i == len(node.ms) or node.flag(i) & _DELETED or node.id_at(i) != sid:
            return None
        return node, i

    def last_valid_id(self) -> int:
        """The ID of the last live entry (0 when empty)."""
        for node in reversed(self.nodes):
            if node.live:
                for j in range(len(node.ms) - 1, -1, -1):
                    if not node.flag(j) & _DELETED:
                        return node.id_at(j)
        return 0

    def first_valid_id(self) -> int:
        for node in self.nodes:
            if node.live:
                for j in range(len(node.ms)):
                    if not node.flag(j) & _DELETED:
                        return node.id_at(j)
        return 0

    # --- deleting ----------------------------------------------------------------------
    def delete(self, sid: int) -> bool:
        """XDEL of one ID: tombstone it, dropping its node if it was the node's last live
        entry. The caller keeps max_deleted and first_id."""
        located = self._locate(sid)
        if located is None:
            return False
        node, i = located
        if node.live == 1:
            ni = bisect_right(self.heads, sid) - 1
            del self.nodes[ni]
            del self.heads[ni]
        else:
            node.mark_deleted([i])
        self.length -= 1
        return True

    def trim(self, maxlen: int | None, minid: int, approx: bool, limit: int) -> int:
        """Redis's streamTrim: MAXLEN (when `maxlen` is given) or MINID. Whole nodes go
        from the head while they fit; `approx` stops at the first node that does not,
        otherwise that node's leading entries are tombstoned. `limit` (0 = none) caps the
        entries dropped with whole nodes. Returns how many entries went."""
        deleted = 0
        nodes = self.nodes
        while nodes:
            if maxlen is not None and self.length <= maxlen:
                break
            node = nodes[0]
            entries = node.live
            if limit and deleted + entries > limit:
                break
            if maxlen is not None:
                whole = self.length - entries >= maxlen
            else:
                whole = node.last_id() < minid
            if whole:
                del nodes[0]
                del self.heads[0]
                self.length -= entries
                deleted += entries
                continue
            if approx:
                break
            doomed: list[int] = []
            for j in range(len(node.ms)):
                if maxlen is not None:
                    if self.length - len(doomed) <= maxlen:
                        break
                elif node.id_at(j) >= minid:
                    break
                if not node.flag(j) & _DELETED:
                    doomed.append(j)
            node.mark_deleted(doomed)
            self.length -= len(doomed)
            deleted += len(doomed)
            break
        if not self.length:
            self.first_id = 0
        elif deleted:
            self.first_id = self.first_valid_id()
        return deleted

    def after_deletes(self, deleted_first: bool) -> None:
        """Refresh the recorded first ID after XDEL removed entries."""
        if not self.length:
            self.first_id = 0
        elif deleted_first:
            self.first_id = self.first_valid_id()

    # --- XINFO -------------------------------------------------------------------------
    def radix_tree_keys(self) -> int:
        return len(self.nodes)

    def radix_tree_nodes(self) -> int:
        """How many nodes Redis's radix tree of listpacks has: the nodes of a compressed
        trie over the 16-byte big-endian master IDs (1 when empty: the root)."""
        if not self.heads:
            return 1
        keys = [head.to_bytes(_ID_BYTES, "big") for head in self.heads]
        return _trie_nodes(keys, 0, len(keys), 0)

    # --- consumer-group counters (Redis 7.0's lag bookkeeping) -------------------------
    def has_tombstones_from(self, start: int) -> bool:
        """streamRangeHasTombstones(start, +): may a deleted entry lie at or after start?"""
        if not self.length or not self.max_deleted or self.first_id > self.max_deleted:
            return False
        return start <= self.max_deleted

    def estimate_entries_read(self, sid: int) -> int:
        """streamEstimateDistanceFromFirstEverEntry: the logical read counter of `sid`, or
        INVALID_ENTRIES_READ when the stream's history does not tell."""
        added = self.entries_added
        if not added:
            return 0
        if not self.length and sid <= self.last_id:
            return added
        if sid == self.last_id:
            return added
        if sid > self.last_id:
            return INVALID_ENTRIES_READ
        if not self.max_deleted or self.max_deleted < self.first_id:
            if sid < self.first_id:
                return added - self.length
            if sid == self.first_id:
                return added - self.length + 1
        return INVALID_ENTRIES_READ

    def lag(self, group: Group) -> int | None:
        """The group's lag (entries not yet delivered), None when it cannot be known."""
        added = self.entries_added
        if not added:
            return 0
        if group.entries_read != INVALID_ENTRIES_READ and not self.has_tombstones_from(
            group.last_id
        ):
            return added - group.entries_read
        read = self.estimate_entries_read(group.last_id)
        return None if read == INVALID_ENTRIES_READ else added - read

    def advance_group(self, group: Group, sid: int) -> None:
        """A group delivered `sid`, past its last ID: move it and its read counter."""
        if group.entries_read != INVALID_ENTRIES_READ and not self.has_tombstones_from(sid):
            group.entries_read += 1
        elif self.entries_added:
            group.entries_read = self.estimate_entries_read(sid)
        group.last_id = sid
