"""HyperLogLog commands (Redis 7.0's hyperloglog.c): PFADD, PFCOUNT, PFMERGE, PFDEBUG,
PFSELFTEST. The representation itself lives in node/engine/hll.py.

Rules:
- An HLL is a plain string holding Redis's bytes, so GET/SET/APPEND see and change it like
  any string, and values written by Redis work here. A string that fails the header checks
  gets `WRONGTYPE Key is not a valid HyperLogLog string value.`, another type the usual
  WRONGTYPE, a corrupted body `INVALIDOBJ Corrupted HLL object detected`.
- Updates happen in place on a `bytearray`: PFADD, single-key PFCOUNT and PFDEBUG turn a
  `bytes` value into one first, changed or not, as Redis unshares the string (OBJECT
  ENCODING then says raw). WATCHes are touched where Redis signals a change (a PFADD that
  changed a register or created the key, every PFMERGE, a PFCOUNT that refreshed the cached
  cardinality) and `dirty` counts what Redis propagates (those, and a PFDEBUG conversion).
Pure.
"""

from __future__ import annotations

import math
from typing import Final

from node.commands import docs
from node.commands.registry import Acl, Flag, KeyFlag, key_at
from node.commands.strings import get_string, lookup_string
from node.commands.table import NODE
from node.engine import hll, notify
from node.engine.session import Client
from node.proto import errors, resp
from node.proto.errors import CommandError

Argv = list[bytes]
String = bytes | bytearray
_TWO_64: Final = 1 << 64


def _get_hll(c: Client, key: bytes, *, read: bool = False) -> String | None:
    """The HLL at `key`, None if missing (lookup, type check, isHLLObjectOrReply). A `read`
    lookup (PFCOUNT, PFMERGE's inputs) makes a missing key a keymiss event."""
    value = get_string(c, key) if read else lookup_string(c, key)
    if value is not None and not hll.is_hll(value):
        raise CommandError(errors.NOT_HLL)
    return value


def _pfadd_event(c: Client, key: bytes) -> None:
    """PFADD and PFMERGE both report `pfadd`."""
    engine = c.engine
    if engine.notify_flags:
        engine.notify(notify.STRING, b"pfadd", key, c.db.index)


def _unshared(c: Client, key: bytes, value: String) -> bytearray:
    """The key's HLL as a bytearray to update in place. Like Redis's dbUnshareStringValue
    (an embstr becomes raw, which OBJECT ENCODING shows) this is done whether or not the
    value then changes, and it signals nothing."""
    if value.__class__ is bytearray:
        return value
    buf = bytearray(value)
    c.db.replace(key, buf)
    return buf


def _open_or_create(c: Client, key: bytes) -> tuple[bytearray, bool]:
    """PFADD's and PFMERGE's destination: the unshared HLL, or a new empty one (True)."""
    value = _get_hll(c, key)
    if value is not None:
        return _unshared(c, key, value), False
    buf = hll.new_sparse()
    c.db.set_value(key, buf)
    return buf, True


def _signed(card: int) -> bytes:
    """Redis replies with the unsigned estimate cast to long long."""
    return resp.integer(card - _TWO_64 if card >> 63 else card)


def _merged_registers(c: Client, keys: Argv) -> tuple[bytes, bool]:
    """hllMerge over `keys` in order (missing keys count as empty): the per-register maximum,
    one byte each, and whether any input was dense."""
    merged = 0
    any_dense = False
    for key in keys:
        value = _get_hll(c, key, read=True)
        if value is None:
            continue
        any_dense = any_dense or value[4] == hll.DENSE
        regs = hll.registers(value)
        if regs is None:
            raise CommandError(errors.INVALID_HLL)
        lanes = int.from_bytes(regs, "little")
        merged = hll.max_registers(merged, lanes) if merged else lanes
    return merged.to_bytes(hll.REGISTERS, "little"), any_dense


# --- PFADD / PFCOUNT / PFMERGE --------------------------------------------------------------
@NODE.command(
    "pfadd",
    -2,
    Flag.WRITE | Flag.DENYOOM | Flag.FAST,
    group="hyperloglog",
    since="2.8.9",
    summary="Adds the specified elements to the specified HyperLogLog.",
    complexity="O(1) to add every element.",
    acl=Acl.HYPERLOGLOG,
    keys=[key_at(1, KeyFlag.RW | KeyFlag.INSERT)],
    args=(docs.key("key", 0), docs.string("element", optional=True, multiple=True)),
)
def pfadd(c: Client, argv: Argv) -> bytes:
    key = argv[1]
    buf, created = _open_or_create(c, key)
    updated = 1 if created else 0
    max_bytes = c.engine.config.int("hll-sparse-max-bytes")
    for element in argv[2:]:
        index, count = hll.pattern(element)
        if buf[4] == hll.DENSE:
            updated += hll.dense_add(buf, index, count)
            continue
        changed = hll.sparse_add(buf, index, count, max_bytes)
        if changed < 0:  # what was done so far stays, as in Redis
            raise CommandError(errors.INVALID_HLL)
        updated += changed
    if not updated:
        return resp.ZERO
    hll.invalidate(buf)
    c.db.touch(key)
    _pfadd_event(c, key)
    c.engine.dirty += updated
    return resp.ONE


@NODE.command(
    "pfcount",
    -2,
    Flag.READONLY | Flag.MAY_REPLICATE,
    group="hyperloglog",
    since="2.8.9",
    summary="Return the approximated cardinality of the set(s) observed by the "
    "HyperLogLog at key(s).",
    complexity="O(1) with a very small average constant time when called with a "
    "single key. O(N) with N being the number of keys, and much bigger "
    "constant times, when called with multiple keys.",
    acl=Acl.HYPERLOGLOG,
    keys=[
        key_at(
            1,
            KeyFlag.RW | KeyFlag.ACCESS,
            lastkey=-1,
            notes="RW because it may change the internal representation of the "
            "key, and propagate to replicas",
        )
    ],
    args=(docs.key("key", 0, multiple=True),),
)
def pfcount(c: Client, argv: Argv) -> bytes:
    if len(argv) > 2:  # the union's estimate; nothing is cached
        merged, _ = _merged_registers(c, argv[1:])
        return _signed(hll.estimate(merged))
    key = argv[1]
    value = _get_hll(c, key, read=True)
    if value is None:
        return resp.ZERO
    buf = _unshared(c, key, value)
    card = hll.cached_card(buf)
    if card is None:
        card = hll.count(buf)
        if card is None:
            raise CommandError(errors.INVALID_HLL)
        hll.set_cached_card(buf, card)
        c.db.touch(key)
        c.engine.dirty += 1  # a changed string: replicas must see it
    return _signed(card)


@NODE.command(
    "pfmerge",
    -2,
    Flag.WRITE | Flag.DENYOOM,
    group="hyperloglog",
    since="2.8.9",
    summary="Merge N different HyperLogLogs into a single one.",
    complexity="O(N) to merge N HyperLogLogs, but with high constant times.",
    acl=Acl.HYPERLOGLOG,
    keys=[
        key_at(1, KeyFlag.RW | KeyFlag.ACCESS | KeyFlag.INSERT),
        key_at(2, KeyFlag.RO | KeyFlag.ACCESS, lastkey=-1),
    ],
    args=(docs.key("destkey", 0), docs.key("sourcekey", 1, multiple=True)),
)
def pfmerge(c: Client, argv: Argv) -> bytes:
    key = argv[1]
    # The destination is an input too, so it is validated with the sources.
    merged, any_dense = _merged_registers(c, argv[1:])
    buf, _ = _open_or_create(c, key)
    if any_dense and not hll.to_dense(buf):
        raise CommandError(errors.INVALID_HLL)
    if not hll.merge_into(buf, merged, c.engine.config.int("hll-sparse-max-bytes")):
        raise CommandError(errors.INVALID_HLL)
    c.db.touch(key)
    _pfadd_event(c, key)
    c.engine.dirty += 1
    return resp.OK


# --- PFDEBUG / PFSELFTEST -------------------------------------------------------------------
@NODE.command(
    "pfdebug",
    3,
    Flag.WRITE | Flag.DENYOOM | Flag.ADMIN,
    group="hyperloglog",
    since="2.8.9",
    summary="Internal commands for debugging HyperLogLog values",
    complexity="N/A",
    acl=Acl.HYPERLOGLOG,
    keys=[key_at(2, KeyFlag.RW | KeyFlag.ACCESS)],
    doc_flags=("syscmd",),
    args=(docs.string("subcommand"), docs.key("key", 0)),
)
def pfdebug(c: Client, argv: Argv) -> bytes:
    sub, key = argv[1].split(b"\0", 1)[0].lower(), argv[2]  # strcasecmp on a C string
    # Redis looks the key up, checks and unshares it before it reads the subcommand.
    if c.db.lookup(key) is None:
        raise CommandError(errors.PFDEBUG_NO_KEY)
    value = _get_hll(c, key)
    assert value is not None
    buf = _unshared(c, key, value)
    if sub in (b"getreg", b"todense"):
        converted = buf[4] == hll.SPARSE
        if converted:
            if not hll.to_dense(buf):
                raise CommandError(errors.INVALID_HLL)
            c.engine.dirty += 1  # the encoding change must reach replicas (no WATCH signal)
        if sub == b"todense":
            return resp.ONE if converted else resp.ZERO
        regs = hll.registers(buf)
        assert regs is not None  # dense values always decode
        return resp.array_header(len(regs)) + b"".join(map(resp.integer, regs))
    if sub == b"decode":
        if buf[4] != hll.SPARSE:
            raise CommandError(errors.PFDEBUG_NOT_SPARSE)
        return resp.bulk(hll.decode(buf))
    if sub == b"encoding":
        return resp.status(b"sparse" if buf[4] == hll.SPARSE else b"dense")
    name = argv[1].split(b"\0", 1)[0].decode("utf-8", "surrogateescape")  # C's %s
    raise CommandError(errors.PFDEBUG_UNKNOWN.format(name))


_SELFTEST_CHECKPOINTS: Final = 5  # cardinalities 1, 10, ... 10**4 (Redis goes to 10**7)


@NODE.command(
    "pfselftest",
    1,
    Flag.ADMIN,
    group="hyperloglog",
    since="2.8.9",
    summary="An internal command for testing HyperLogLog values",
    complexity="N/A",
    acl=Acl.HYPERLOGLOG,
    doc_flags=("syscmd",),
)
def pfselftest(c: Client, argv: Argv) -> bytes:
    failure = _selftest(c)
    if failure is not None:
        raise CommandError("ERR TESTFAILED " + failure)
    return resp.OK


def _selftest(c: Client) -> str | None:
    """Redis's two self checks, scaled down for Python: registers keep the values written to
    them (one at a time and through the bulk pack/unpack), and an HLL fed with unique
    elements, both dense and sparse at once, stays within six standard errors and the two
    encodings agree. Returns the failure text, or None."""
    rng = c.engine.rng
    dense = bytearray(hll.DENSE_SIZE)
    dense[:5] = b"HYLL\x00"
    expected = bytes(rng.randrange(64) for _ in range(hll.REGISTERS))
    for index, value in enumerate(expected):
        hll.dense_add(dense, index, value)
    got = hll.registers(dense)
    assert got is not None
    for index, value in enumerate(expected):
        if got[index] != value:
            return f"Register {index} should be {value} but is {got[index]}"
    dense[hll.HDR_SIZE :] = bytes(hll.DENSE_SIZE - hll.HDR_SIZE)
    sparse = hll.new_sparse()
    max_bytes = c.engine.config.int("hll-sparse-max-bytes")
    relerr = 1.04 / math.sqrt(hll.REGISTERS)
    seed = rng.getrandbits(64)
    checkpoint = 1
    for j in range(1, 10 ** (_SELFTEST_CHECKPOINTS - 1) + 1):
        element = (j ^ seed).to_bytes(8, "little")
        index, count = hll.pattern(element)
        hll.dense_add(dense, index, count)
        if sparse[4] == hll.DENSE:
            hll.dense_add(sparse, index, count)
        elif hll.sparse_add(sparse, index, count, max_bytes) < 0:
            return "sparse HLL corrupted"
        if j != checkpoint:
            continue
        if j < max_bytes // 2 and sparse[4] != hll.SPARSE:
            return "sparse encoding not used"
        estimate = hll.count(dense)
        if estimate != hll.count(sparse):
            return "dense/sparse disagree"
        assert estimate is not None
        abserr = abs(checkpoint - estimate)
        maxerr = 1 if j == 10 else math.ceil(relerr * 6 * checkpoint)
        if abserr > maxerr:
            return f"Too big error. card:{checkpoint} abserr:{abserr}"
        checkpoint *= 10
    return None
