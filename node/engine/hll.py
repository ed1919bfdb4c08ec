"""Redis's HyperLogLog representation (hyperloglog.c of Redis 7.0), byte for byte.

An HLL is a plain string: a 16-byte header ("HYLL", the encoding byte 0=dense 1=sparse, three
unused bytes, the cached cardinality as 8 little-endian bytes whose top bit marks it stale),
then 16384 six-bit registers (P=14), either
- dense: packed LSB-first, 12288 bytes, or
- sparse: run-length opcodes ZERO `00xxxxxx` (1..64 zeros), XZERO `01xxxxxx yyyyyyyy`
  (1..16384 zeros) and VAL `1vvvvvxx` (value 1..32 repeated 1..4 times).

Rules:
- Updates follow Redis's algorithms exactly (the split of one opcode into at most three, the
  merge of adjacent VALs limited to five opcodes, when a sparse HLL is promoted to dense),
  because the bytes are visible through GET and must equal Redis's after any PFADD/PFMERGE
  sequence. Values are `bytearray`s updated in place.
- Any bytes must be safe: corrupted values are reported (None / -1 / False, per function),
  never an exception, and never work bigger than a valid HLL's (a run of opcodes is only
  followed until it covers more than 16384 registers). Like Redis (whose strings end in a NUL),
  an XZERO cut off by the end of the string reads its missing second byte as zero.
- Bulk work (decoding, merging, histograms) runs on whole byte strings and big integers, not
  per register in Python: bytes.translate tables, int.from_bytes lanes, bytes.count.
Pure.
"""

from __future__ import annotations

import math
import re
import struct
from bisect import bisect_right
from collections.abc import Callable
from itertools import accumulate
from typing import Final

HDR_SIZE: Final = 16
REGISTERS: Final = 1 << 14  # P = 14
_Q: Final = 64 - 14  # hash bits left for the run of zeros
DENSE: Final = 0
SPARSE: Final = 1
DENSE_SIZE: Final = HDR_SIZE + REGISTERS * 6 // 8
_MAGIC: Final = b"HYLL"
_CARD_STALE: Final = 0x80  # top bit of the last cached-cardinality byte
_EMPTY_BODY: Final = b"\x7f\xff"  # one XZERO for all 16384 registers
_SPARSE_VAL_MAX: Final = 32
_ZERO_MAX: Final = 64
_ALPHA_INF: Final = 0.721347520444481703680  # 0.5 / ln(2), as Redis spells it
_LLONG_MIN_AS_U64: Final = 1 << 63  # what x86 llroundl gives for an unrepresentable estimate

_MASK64: Final = (1 << 64) - 1
_MURMUR_M: Final = 0xC6A4A7935BD1E995
_MURMUR_SEED: Final = 0xADC83B19
_BLOCKS = struct.Struct("<Q")

# Sparse decoding tables, indexed by an opcode's first byte. Runs of one-byte opcodes (ZERO
# and VAL) go through them in bulk; the XZEROs between runs (marked by _XZERO_MARK, rare in
# a long sparse HLL) are handled one by one.
_SPAN: Final = bytes(
    (b & 0x3F) + 1 if b < 0x40 else (b & 3) + 1 if b >= 0x80 else 0 for b in range(256)
)
_EXPAND: Final = tuple(
    bytes((b & 0x3F) + 1)
    if b < 0x40
    else bytes((((b >> 2) & 0x1F) + 1,)) * ((b & 3) + 1)
    if b >= 0x80
    else b""
    for b in range(256)
)
_XZERO_MARK: Final = bytes(1 if 0x40 <= b < 0x80 else 0 for b in range(256))
_ZERO_SPAN: Final = bytes(b + 1 if b < 0x40 else 0 for b in range(256))
_ZERO_OPS: Final = bytes(range(0x40))
# Every opcode covers at least one register and takes at most two bytes: a walk that has not
# found its register (or gone past 16384) by then never will. Bounds the work on huge values.
_SCAN_LIMIT: Final = HDR_SIZE + 4 * REGISTERS
_CHUNK: Final = 128  # one-byte opcodes measured at a time while locating a register


# Dense packing: every 3 bytes hold 4 registers, a|b<<6|c<<12|d<<18 little-endian. The bytes
# at offsets 0, 1, 2 (mod 3) are handled as three strided strings; these tables give each
# one's share of a register (or a register's share of each byte), and the two shares of a
# register split over two bytes are joined with one big-integer OR.
def _table(f: Callable[[int], int]) -> bytes:
    return bytes(f(b) & 0xFF for b in range(256))


_A_OF_0: Final = _table(lambda b: b & 63)
_B_OF_0: Final = _table(lambda b: b >> 6)
_B_OF_1: Final = _table(lambda b: (b & 15) << 2)
_C_OF_1: Final = _table(lambda b: b >> 4)
_C_OF_2: Final = _table(lambda b: (b & 3) << 4)
_D_OF_2: Final = _table(lambda b: b >> 2)
_0_OF_B: Final = _table(lambda r: (r & 3) << 6)
_1_OF_B: Final = _table(lambda r: r >> 2)
_1_OF_C: Final = _table(lambda r: (r & 15) << 4)
_2_OF_C: Final = _table(lambda r: r >> 4)
_2_OF_D: Final = _table(lambda r: r << 2)
# Byte lanes for the branch-free max of two register arrays.
_ONES: Final = int.from_bytes(b"\x01" * REGISTERS, "little")
_HIGH: Final = _ONES * 0x80
_NONZERO: Final = re.compile(rb"[^\x00]")


# --- hashing -----------------------------------------------------------------------------------
def murmurhash64a(data: bytes, seed: int = _MURMUR_SEED) -> int:
    """MurmurHash2, 64-bit version, in Redis's endian-neutral form (little-endian blocks)."""
    m = _MURMUR_M
    n = len(data)
    h = (seed ^ (n * m)) & _MASK64
    cut = n & ~7
    if cut:
        for (k,) in _BLOCKS.iter_unpack(memoryview(data)[:cut]):
            k = (k * m) & _MASK64
            k ^= k >> 47
            h = ((h ^ ((k * m) & _MASK64)) * m) & _MASK64
    if n & 7:
        h = ((h ^ int.from_bytes(data[cut:], "little")) * m) & _MASK64
    h ^= h >> 47
    h = (h * m) & _MASK64
    return h ^ (h >> 47)


def pattern(element: bytes) -> tuple[int, int]:
    """(register index, length of the 000..1 run + 1) for an element, as hllPatLen."""
    h = murmurhash64a(element)
    rest = (h >> 14) | (1 << _Q)  # the extra bit bounds the run at Q+1
    return h & (REGISTERS - 1), (rest & -rest).bit_length()


# --- header ------------------------------------------------------------------------------------
def new_sparse() -> bytearray:
    """An empty HLL as Redis creates it: sparse, one XZERO covering every register."""
    return bytearray(_MAGIC + bytes((SPARSE,)) + bytes(11) + _EMPTY_BODY)


def is_hll(value: bytes | bytearray) -> bool:
    """Redis's isHLLObjectOrReply checks on a string: header, magic, encoding, dense size."""
    if len(value) < HDR_SIZE or value[:4] != _MAGIC or value[4] > SPARSE:
        return False
    return value[4] == SPARSE or len(value) == DENSE_SIZE


def cached_card(value: bytes | bytearray) -> int | None:
    """The cached cardinality, or None when it is marked stale."""
    if value[15] & _CARD_STALE:
        return None
    return int.from_bytes(value[8:16], "little")


def set_cached_card(buf: bytearray, card: int) -> None:
    buf[8:16] = card.to_bytes(8, "little")


def invalidate(buf: bytearray) -> None:
    buf[15] |= _CARD_STALE


# --- dense registers ---------------------------------------------------------------------------
def dense_add(buf: bytearray, index: int, count: int) -> int:
    """hllDenseSet: raise register `index` to `count`; 1 if it changed, else 0."""
    bit = index * 6
    pos = HDR_SIZE + (bit >> 3)
    shift = bit & 7
    if shift <= 2:  # the register sits inside one byte (the last one always does)
        if (buf[pos] >> shift) & 63 >= count:
            return 0
        buf[pos] = (buf[pos] & ~(63 << shift) & 0xFF) | (count << shift)
        return 1
    pair = buf[pos] | buf[pos + 1] << 8
    if (pair >> shift) & 63 >= count:
        return 0
    pair = (pair & ~(63 << shift)) | (count << shift)
    buf[pos] = pair & 0xFF
    buf[pos + 1] = pair >> 8
    return 1


def _or(a: bytes, b: bytes) -> bytes:
    """Byte-wise OR of two equally long strings."""
    return (int.from_bytes(a, "little") | int.from_bytes(b, "little")).to_bytes(len(a), "little")


def _quarters(packed: bytes | bytearray) -> tuple[bytes, bytes, bytes, bytes]:
    """The dense registers 4k, 4k+1, 4k+2 and 4k+3 (k = 0..4095) as four strings."""
    b0, b1, b2 = bytes(packed[0::3]), bytes(packed[1::3]), bytes(packed[2::3])
    return (
        b0.translate(_A_OF_0),
        _or(b0.translate(_B_OF_0), b1.translate(_B_OF_1)),
        _or(b1.translate(_C_OF_1), b2.translate(_C_OF_2)),
        b2.translate(_D_OF_2),
    )


def _unpack(packed: bytes | bytearray) -> bytes:
    """The 12288 bytes of dense registers as 16384 bytes, one register each."""
    out = bytearray(REGISTERS)
    out[0::4], out[1::4], out[2::4], out[3::4] = _quarters(packed)
    return bytes(out)


def _pack(registers: bytes) -> bytes:
    """16384 one-byte registers (each < 64) packed into the dense 6-bit layout."""
    a, b, c, d = registers[0::4], registers[1::4], registers[2::4], registers[3::4]
    packed = bytearray(DENSE_SIZE - HDR_SIZE)
    packed[0::3] = _or(a, b.translate(_0_OF_B))
    packed[1::3] = _or(b.translate(_1_OF_B), c.translate(_1_OF_C))
    packed[2::3] = _or(c.translate(_2_OF_C), d.translate(_2_OF_D))
    return bytes(packed)


# --- sparse decoding ---------------------------------------------------------------------------
def _expand(value: bytes | bytearray) -> bytes | None:
    """Decode a sparse body into one byte per register; None unless its opcodes cover exactly
    16384 registers (Redis 7.0.15 as shipped, with the CVE-2025-32023 fix, rejects any opcode
    that runs past the last register, trailing ones included)."""
    pieces: list[bytes] = []
    total = 0
    pos, end = HDR_SIZE, min(len(value), _SCAN_LIMIT)
    marks = value[:end].translate(_XZERO_MARK)
    while pos < end:
        stop = marks.find(1, pos)
        if stop < 0:
            stop = end
        if stop > pos:
            run = value[pos:stop]
            total += sum(run.translate(_SPAN))
            if total > REGISTERS:
                return None
            pieces.append(b"".join(map(_EXPAND.__getitem__, run)))
            if stop == end:
                break
        zeros = _xzero_span(value, stop)
        total += zeros
        if total > REGISTERS:
            return None
        pieces.append(bytes(zeros))
        pos = stop + 2
    return b"".join(pieces) if total == REGISTERS else None


def _xzero_span(value: bytes | bytearray, pos: int) -> int:
    """The run length of the XZERO at `pos`; a second byte past the end reads as zero."""
    low = value[pos + 1] if pos + 1 < len(value) else 0
    return ((value[pos] & 0x3F) << 8 | low) + 1


def _sparse_histogram(value: bytes | bytearray) -> list[int] | None:
    """hllSparseRegHisto without decoding every register: zero runs are summed, VAL bytes
    counted per distinct byte. None unless the opcodes cover exactly 16384 registers."""
    hist = [0] * 64
    total = 0
    pos, end = HDR_SIZE, min(len(value), _SCAN_LIMIT)
    marks = value[:end].translate(_XZERO_MARK)
    while pos < end:
        stop = marks.find(1, pos)
        if stop < 0:
            stop = end
        if stop > pos:
            run = value[pos:stop]
            zeros = sum(run.translate(_ZERO_SPAN))
            hist[0] += zeros
            total += zeros
            vals = run.translate(None, _ZERO_OPS)
            for op in set(vals):
                length = vals.count(op) * ((op & 3) + 1)
                hist[((op >> 2) & 0x1F) + 1] += length
                total += length
            if stop == end:
                break
        zeros = _xzero_span(value, stop)
        hist[0] += zeros
        total += zeros
        if total > REGISTERS:
            return None
        pos = stop + 2
    return hist if total == REGISTERS else None


def registers(value: bytes | bytearray) -> bytes | None:
    """All registers, one byte each, of a value that passed is_hll; None if corrupted."""
    if value[4] == DENSE:
        return _unpack(value[HDR_SIZE:])
    return _expand(value)


def to_dense(buf: bytearray) -> bool:
    """hllSparseToDense in place (header kept, encoding byte changed); False if corrupted."""
    if buf[4] == DENSE:
        return True
    regs = _expand(buf)
    if regs is None:
        return False
    buf[4] = DENSE
    buf[HDR_SIZE:] = _pack(regs)
    return True


def decode(value: bytes | bytearray) -> bytes:
    """PFDEBUG DECODE's text for a sparse body: "z:N" / "Z:N" / "v:V,N" joined by spaces."""
    out: list[bytes] = []
    pos, end = HDR_SIZE, len(value)
    while pos < end:
        op = value[pos]
        if op < 0x40:
            out.append(b"z:%d" % (op + 1))
            pos += 1
        elif op < 0x80:
            out.append(b"Z:%d" % _xzero_span(value, pos))
            pos += 2
        else:
            out.append(b"v:%d,%d" % (((op >> 2) & 0x1F) + 1, (op & 3) + 1))
            pos += 1
    return b" ".join(out)


# --- sparse updates ----------------------------------------------------------------------------
def _val(value: int, length: int) -> int:
    return 0x80 | (value - 1) << 2 | (length - 1)


def _zeros(length: int) -> bytes:
    """The opcode for a run of zero registers, as Redis picks it in a split."""
    if length > _ZERO_MAX:
        length -= 1
        return bytes((0x40 | length >> 8, length & 0xFF))
    return bytes((length - 1,))


def _locate(buf: bytearray, index: int) -> tuple[int, int, int, int | None] | None:
    """The opcode covering register `index`: (position, its first register, its span, position
    of the opcode before it or None). None when the opcodes end before `index`.

    Runs of one-byte opcodes are measured a chunk at a time through the span table, and only
    the chunk holding the register is summed opcode by opcode.
    """
    first, prev = 0, None
    pos, end = HDR_SIZE, min(len(buf), _SCAN_LIMIT)
    head = buf[:end]
    marks = head.translate(_XZERO_MARK)
    spans = head.translate(_SPAN)
    while pos < end:
        stop = marks.find(1, pos)
        if stop < 0:
            stop = end
        while pos < stop:
            upto = pos + _CHUNK
            if upto > stop:
                upto = stop
            chunk = spans[pos:upto]
            covered = sum(chunk)
            if index < first + covered:
                ends = list(accumulate(chunk))
                k = bisect_right(ends, index - first)
                if k:
                    return pos + k, first + ends[k - 1], chunk[k], pos + k - 1
                return pos, first, chunk[0], prev
            first += covered
            prev = upto - 1
            pos = upto
        if stop == end:
            break
        span = ((buf[stop] & 0x3F) << 8 | (buf[stop + 1] if stop + 1 < len(buf) else 0)) + 1
        if index < first + span:
            return stop, first, span, prev
        first += span
        prev = stop
        pos = stop + 2
    return None


def sparse_add(buf: bytearray, index: int, count: int, max_bytes: int) -> int:
    """hllSparseSet: raise register `index` to `count` in a sparse HLL, promoting it to dense
    when `count` does not fit a VAL or the value would outgrow `max_bytes`.

    Returns 1 if the register changed, 0 if not, -1 if the value is corrupted (it may have
    been changed already, as in Redis)."""
    found = _locate(buf, index)
    if found is None:
        return -1
    return _update(buf, index, count, max_bytes, *found)


def _promote(buf: bytearray, index: int, count: int) -> int:
    if not to_dense(buf):
        return -1
    dense_add(buf, index, count)  # always a change: the register needed raising
    return 1


def _update(
    buf: bytearray,
    index: int,
    count: int,
    max_bytes: int,
    pos: int,
    first: int,
    span: int,
    prev: int | None,
) -> int:
    """The in-place rewrite of hllSparseSet once the covering opcode is known."""
    if count > _SPARSE_VAL_MAX:
        return _promote(buf, index, count)
    op = buf[pos]
    is_val = op >= 0x80
    current = ((op >> 2) & 0x1F) + 1 if is_val else 0
    if is_val and current >= count:
        return 0
    if span == 1 and (is_val or op < 0x40):  # one register: rewrite it as the new VAL
        buf[pos] = _val(count, 1)
        return _merge_vals(buf, prev)
    # Split the opcode in (before) VAL (after): at most XZERO-VAL-XZERO, five bytes.
    last = first + span - 1
    seq = bytearray()
    if index != first:
        seq += bytes((_val(current, index - first),)) if is_val else _zeros(index - first)
    seq.append(_val(count, 1))
    if index != last:
        seq += bytes((_val(current, last - index),)) if is_val else _zeros(last - index)
    old_size = 1 if op < 0x40 or is_val else 2
    grow = len(seq) - old_size
    new_len = len(buf) + grow
    if grow > 0 and new_len > max_bytes:
        return _promote(buf, index, count)
    buf[pos : pos + old_size] = seq
    if len(buf) > new_len:  # an XZERO cut off by the end: Redis keeps the length arithmetic
        del buf[new_len:]
    return _merge_vals(buf, prev)


def _merge_vals(buf: bytearray, prev: int | None) -> int:
    """Step 4 of hllSparseSet: join equal adjacent VALs (up to 4 registers each) among the
    five opcodes from the one before the update; then mark the cached cardinality stale."""
    pos = HDR_SIZE if prev is None else prev
    end = len(buf)
    budget = 5
    while pos < end and budget:
        budget -= 1
        op = buf[pos]
        if op < 0x80:
            pos += 1 if op < 0x40 else 2
            continue
        if pos + 1 < end:
            nxt = buf[pos + 1]
            if nxt & 0x80 and (op ^ nxt) & 0x7C == 0:
                length = (op & 3) + (nxt & 3) + 2
                if length <= 4:
                    buf[pos + 1] = _val(((op >> 2) & 0x1F) + 1, length)
                    del buf[pos]
                    end -= 1
                    continue  # the merged VAL may merge again with the next one
        pos += 1
    invalidate(buf)
    return 1


# --- merging -----------------------------------------------------------------------------------
def max_registers(a: int, b: int) -> int:
    """Per-register maximum of two register arrays held as byte lanes of integers
    (int.from_bytes(registers, "little")): lanes where a >= b keep a, others take b."""
    keep_a = ((((a | _HIGH) - b) & _HIGH) >> 7) * 0xFF
    return b ^ ((a ^ b) & keep_a)


def merge_into(buf: bytearray, merged: bytes, max_bytes: int) -> bool:
    """PFMERGE's write of the merged registers `merged` (one byte each, already including
    this HLL's own registers) into `buf`, an HLL that passed is_hll: dense stays dense;
    sparse is updated register by register in increasing order, as Redis does, and may get
    promoted on the way. The cached cardinality is marked stale. False if corrupted."""
    if buf[4] == SPARSE:
        if buf[HDR_SIZE:] == _EMPTY_BODY:  # the usual new destination
            body = _build_sparse(merged, max_bytes)
            stays_sparse = body is not None
            if body is not None:
                buf[HDR_SIZE:] = body
        else:
            if not _merge_sparse(buf, merged, max_bytes):
                return False
            stays_sparse = buf[4] == SPARSE
        if stays_sparse:
            invalidate(buf)
            return True
    # Dense from the start or promoted on the way: every register ends at its merged value.
    buf[4] = DENSE
    buf[HDR_SIZE:] = _pack(merged)
    invalidate(buf)
    return True


def _merge_sparse(buf: bytearray, merged: bytes, max_bytes: int) -> bool:
    """Redis's loop of hllSparseSet calls over the nonzero merged registers; stops once the
    HLL is promoted to dense. False if corrupted."""
    # (position, first register) of the opcodes walked so far. An update rewrites bytes from
    # the opcode before the updated one on, so all entries but the last stay valid and the
    # next (higher) register is searched from there.
    walked = [(HDR_SIZE, 0)]
    for match in _NONZERO.finditer(merged):
        index = match.start()
        while True:
            pos, first = walked[-1]
            end = len(buf)
            if pos >= end:
                return False
            op = buf[pos]
            if op < 0x40:
                span, size = op + 1, 1
            elif op >= 0x80:
                span, size = (op & 3) + 1, 1
            else:
                span, size = _xzero_span(buf, pos), 2
            if index < first + span:
                break
            walked.append((pos + size, first + span))
        prev = walked[-2][0] if len(walked) > 1 else None
        if _update(buf, index, merged[index], max_bytes, pos, first, span, prev) < 0:
            return False
        if buf[4] == DENSE:
            return True
        walked.pop()
        if not walked:
            walked.append((HDR_SIZE, 0))
    return True


def _build_sparse(merged: bytes, max_bytes: int) -> bytes | None:
    """What _merge_sparse leaves in an empty sparse HLL, computed directly: each register set
    in increasing order splits the zero run after the previous one into (zeros) VAL (zeros),
    and the VAL joins the one before it when adjacent, equal and short enough. None when Redis
    would promote the HLL to dense on the way (a split growing it past `max_bytes`)."""
    out = bytearray()
    last = -1  # the register set last
    run_value = run_length = 0  # the VAL that ends `out`, if any (run_length 0: none)
    tail = 2  # bytes of the zero run after `last`
    for match in _NONZERO.finditer(merged):
        index = match.start()
        value = merged[index]
        gap, rest = index - last - 1, REGISTERS - 1 - index
        split = (gap > 0) + (gap > _ZERO_MAX) + 1 + (rest > 0) + (rest > _ZERO_MAX)
        if value > _SPARSE_VAL_MAX or (split > tail and HDR_SIZE + len(out) + split > max_bytes):
            return None
        if gap:
            out += _zeros(gap)
            run_length = 0
        if run_length and run_value == value and run_length < 4:
            run_length += 1
            out[-1] = _val(value, run_length)
        else:
            run_value, run_length = value, 1
            out.append(_val(value, 1))
        tail = (rest > 0) + (rest > _ZERO_MAX)
        last = index
    if last < REGISTERS - 1:
        out += _zeros(REGISTERS - 1 - last)
    return bytes(out)


# --- cardinality -------------------------------------------------------------------------------
def _histogram(regs: bytes) -> list[int]:
    """How many registers hold each value 0..63 (bytes.count per value, stopping once every
    register has been counted)."""
    hist = [0] * 64
    left = len(regs)
    value = 0
    while left and value < 64:
        n = regs.count(value)
        hist[value] = n
        left -= n
        value += 1
    return hist


def _sigma(x: float) -> float:
    if x == 1.0:
        return math.inf
    y, z = 1.0, x
    while True:
        x *= x
        previous = z
        z += x * y
        y += y
        if previous == z:
            return z


def _tau(x: float) -> float:
    if x == 0.0 or x == 1.0:
        return 0.0
    y, z = 1.0, 1.0 - x
    while True:
        x = math.sqrt(x)
        previous = z
        y *= 0.5
        z -= math.pow(1.0 - x, 2.0) * y  # libm pow, as Redis calls it
        if previous == z:
            return z / 3.0


def estimate(regs: bytes) -> int:
    """hllCount on 16384 one-byte registers."""
    return _estimate(_histogram(regs))


def _estimate(hist: list[int]) -> int:
    """Redis 7.0's hllCount from the register histogram: Ertl's improved estimator
    ("New cardinality estimation algorithms for HyperLogLog sketches"), as an unsigned 64-bit
    value computed with the same floating-point steps."""
    m = float(REGISTERS)
    z = m * _tau((m - hist[_Q + 1]) / m)
    for j in range(_Q, 0, -1):
        z += hist[j]
        z *= 0.5
    z += m * _sigma(hist[0] / m)
    if z == 0.0:  # only registers above Q+1: C divides by zero
        return _LLONG_MIN_AS_U64
    x = _ALPHA_INF * m * m / z
    if not x < 2.0**63:
        return _LLONG_MIN_AS_U64
    rounded = math.floor(x)
    if x - rounded >= 0.5:  # llroundl: halves away from zero
        rounded += 1
    return int(float(rounded))  # the result passes through a double


def count(value: bytes | bytearray) -> int | None:
    """The estimate for a value that passed is_hll, ignoring the cache; None if a sparse body
    does not cover exactly 16384 registers (hllSparseRegHisto's check)."""
    if value[4] == DENSE:  # the histogram needs no register order
        return estimate(b"".join(_quarters(value[HDR_SIZE:])))
    hist = _sparse_histogram(value)
    return None if hist is None else _estimate(hist)
