"""COMMAND INFO and COMMAND DOCS for every command slotd implements, byte for byte against a
real redis-server 7.0.15, in RESP2 and RESP3; plus the rest of the COMMAND family.

slotd's side runs on the pure engine (tests.support.Harness): the replies are the engine's
own bytes, so no socket layer is involved. One thing is normalized on both sides: Redis
lists a container's subcommands in the order of a hash table seeded at random per process
(two restarts give two orders), so those lists are sorted before comparing. Everything else,
down to field order and RESP types, is compared as sent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from node.commands import load
from tests.commands.test_registry import sample_argv
from tests.procs import ServerProcess
from tests.rawclient import RawClient, frame_end, split_aggregate
from tests.support import Harness

pytestmark = pytest.mark.interop

TABLE = load()
NAMES = [s.fullname for top in TABLE for s in (top, *top.subcommands.values())]
SUBCOMMANDS = b"$11\r\nsubcommands\r\n"
Keep = Callable[[bytes], bool]


@pytest.fixture(scope="module")
def redis(redis_proc: ServerProcess) -> Iterator[dict[int, RawClient]]:
    """Connections to the real server by protocol version."""
    with RawClient(*redis_proc.addr) as resp2, RawClient(*redis_proc.addr) as resp3:
        resp3.call("HELLO", "3")
        yield {2: resp2, 3: resp3}


@pytest.fixture(scope="module")
def slotd() -> dict[int, Harness]:
    engine = Harness().engine
    return {2: Harness(engine, resp=2), 3: Harness(engine, resp=3)}


def _elements(raw: bytes) -> list[bytes]:
    return split_aggregate(raw)[1]


def _bulk_text(raw: bytes) -> bytes:
    return raw[raw.index(b"\r\n") + 2 : -2]


def _sorted_subcommands_info(entry: bytes, keep: Keep) -> bytes:
    """An INFO entry (10 elements) with its subcommand entries sorted (and filtered)."""
    head, items = split_aggregate(entry)
    if items[9][:1] == b"*":
        subs = [s for s in _elements(items[9]) if keep(_bulk_text(_elements(s)[0]))]
        items[9] = b"*%d\r\n" % len(subs) + b"".join(sorted(subs))
    return head + b"".join(items)


def _sorted_subcommands_docs(docs: bytes, keep: Keep) -> bytes:
    """A DOCS map with its `subcommands` map's (name, docs) pairs sorted (and filtered)."""
    head, items = split_aggregate(docs)
    for i in range(0, len(items), 2):
        if items[i] == SUBCOMMANDS:
            sub_head, flat = split_aggregate(items[i + 1])
            pairs = sorted(
                (name, value)
                for name, value in zip(flat[::2], flat[1::2], strict=True)
                if keep(_bulk_text(name))
            )
            count = len(pairs) if sub_head[:1] == b"%" else 2 * len(pairs)
            items[i + 1] = (
                sub_head[:1] + b"%d\r\n" % count + b"".join(name + value for name, value in pairs)
            )
    return head + b"".join(items)


def normalized(subcommand: str, reply: bytes, keep: Keep = lambda name: True) -> bytes:
    """The reply to `COMMAND <subcommand> <one name>` with subcommand order made canonical,
    keeping only the subcommands `keep` accepts."""
    if reply[:1] not in b"*%" or reply in (b"*0\r\n", b"%0\r\n"):
        return reply
    head, items = split_aggregate(reply)
    if subcommand == "INFO":
        items = [_sorted_subcommands_info(i, keep) if i[:1] == b"*" else i for i in items]
    else:
        items[1] = _sorted_subcommands_docs(items[1], keep)
    return head + b"".join(items)


def first_difference(ours: bytes, theirs: bytes) -> str:
    at = next(
        (i for i, (a, b) in enumerate(zip(ours, theirs, strict=False)) if a != b),
        min(len(ours), len(theirs)),
    )
    return (
        f"first difference at byte {at}:\n  slotd: {ours[max(0, at - 120) : at + 120]!r}\n"
        f"  redis: {theirs[max(0, at - 120) : at + 120]!r}"
    )


def test_normalization_sorts_only_subcommands() -> None:
    entry = b"*10\r\n$1\r\nc\r\n:-2\r\n*0\r\n:0\r\n:0\r\n:0\r\n*0\r\n*0\r\n*0\r\n*0\r\n"
    sub_b, sub_a = entry.replace(b"$1\r\nc", b"$3\r\nc|b"), entry.replace(b"$1\r\nc", b"$3\r\nc|a")
    unsorted = entry[:-4] + b"*2\r\n" + sub_b + sub_a
    assert normalized("INFO", b"*1\r\n" + unsorted) == (
        b"*1\r\n" + entry[:-4] + b"*2\r\n" + sub_a + sub_b
    )
    docs = (
        b"%1\r\n$1\r\nc\r\n%2\r\n$7\r\nsummary\r\n$1\r\ns\r\n"
        + SUBCOMMANDS
        + b"%2\r\n$3\r\nc|b\r\n%0\r\n$3\r\nc|a\r\n%1\r\n$1\r\nx\r\n:1\r\n"
    )
    assert normalized("DOCS", docs) == (
        b"%1\r\n$1\r\nc\r\n%2\r\n$7\r\nsummary\r\n$1\r\ns\r\n"
        + SUBCOMMANDS
        + b"%2\r\n$3\r\nc|a\r\n%1\r\n$1\r\nx\r\n:1\r\n$3\r\nc|b\r\n%0\r\n"
    )
    assert frame_end(normalized("DOCS", docs)) == len(docs)


@pytest.mark.parametrize("proto", [2, 3])
@pytest.mark.parametrize("name", NAMES)
def test_info_and_docs_match_redis(
    name: str, proto: int, redis: dict[int, RawClient], slotd: dict[int, Harness]
) -> None:
    if redis[proto].call("COMMAND", "INFO", name) in (b"*1\r\n$-1\r\n", b"*1\r\n_\r\n"):
        pytest.skip(f"{name} is not a Redis 7.0.15 command")
    # A container is compared on the subcommands both have; each has its own test.
    known = {_bulk_text(n) for n in _elements(redis[2].call("COMMAND", "LIST"))}
    for subcommand in ("INFO", "DOCS"):
        theirs = normalized(
            subcommand,
            redis[proto].call("COMMAND", subcommand, name),
            lambda sub: sub.decode() in NAMES,
        )
        ours = normalized(
            subcommand, slotd[proto].raw("COMMAND", subcommand, name), lambda sub: sub in known
        )
        assert ours == theirs, f"COMMAND {subcommand} {name} (RESP{proto}): " + first_difference(
            ours, theirs
        )


# The rest of the family, on requests whose answer does not depend on which commands exist.
REQUESTS = [
    ("COMMAND", "INFO", "nosuch", "get|x", "command|nosuch", "", "command|info|x"),
    ("COMMAND", "DOCS", "nosuch", "|info"),
    ("COMMAND", "HELP"),
    ("command", "help"),
    ("COMMAND", "HELP", "x"),
    ("COMMAND", "COUNT", "x"),
    ("COMMAND", "nosuch"),
    ("COMMAND", "LIST", "FILTERBY", "PATTERN", "command|*"),
    ("COMMAND", "LIST", "FILTERBY", "PATTERN", "COMMAND|C*"),
    ("COMMAND", "LIST", "FILTERBY", "ACLCAT", "nosuch"),
    ("COMMAND", "LIST", "FILTERBY", "ACLCAT", "@read"),
    ("COMMAND", "LIST", "FILTERBY", "MODULE", "x"),
    ("COMMAND", "LIST", "FILTERBY", "ACLCAT"),
    ("COMMAND", "LIST", "FILTERBY", "x", "y"),
    ("COMMAND", "LIST", "x"),
    ("COMMAND", "LIST", "FILTERBY", "PATTERN", "*", "FILTERBY", "PATTERN", "get"),
    ("COMMAND", "GETKEYS"),
    ("COMMAND", "GETKEYS", "get"),
    ("COMMAND", "GETKEYS", "nosuch", "a"),
    ("COMMAND", "GETKEYS", "command", "x"),
    ("COMMAND", "GETKEYS", "command", "info"),
    ("COMMAND", "GETKEYS", "get", "a"),
    ("COMMAND", "GETKEYS", "get", "a", "b"),
    ("COMMAND", "GETKEYSANDFLAGS", "get", "a"),
    ("COMMAND", "GETKEYS", "ping", "x"),
    ("COMMAND", "GETKEYSANDFLAGS", "lmove", "a", "b", "left", "right"),
    ("COMMAND", "GETKEYS", "lmove", "a", "b", "left"),
    ("COMMAND", "GETKEYS", "blmpop", "0", "2", "a", "b", "left"),
    ("COMMAND", "GETKEYS", "blmpop", "0", "3", "a", "b", "left"),
    ("COMMAND", "GETKEYS", "blmpop", "0", "x", "a", "left"),
    ("COMMAND", "GETKEYSANDFLAGS", "blmpop", "0", "0", "a", "left"),
    ("COMMAND", "GETKEYSANDFLAGS", "set", "k", "v"),
    ("COMMAND", "GETKEYSANDFLAGS", "set", "k", "v", "get"),
    ("COMMAND", "GETKEYSANDFLAGS", "mset", "a", "1", "b", "2"),
    ("COMMAND", "GETKEYS", "mset", "a", "1", "b"),
    ("COMMAND", "GETKEYS", "zunionstore", "d", "2", "a", "b"),
    ("COMMAND", "GETKEYS", "zunionstore", "d", "3", "a", "b"),
    ("COMMAND", "GETKEYS", "zunionstore", "d", "-1", "a", "b"),
    ("COMMAND", "GETKEYSANDFLAGS", "zunionstore", "d", "1", "a", "weights", "2"),
    ("COMMAND", "GETKEYS", "sintercard", "2", "a", "b", "limit", "1"),
]


@pytest.mark.parametrize("proto", [2, 3])
@pytest.mark.parametrize("request_", REQUESTS, ids=" ".join)
def test_family_matches_redis(
    request_: tuple[str, ...], proto: int, redis: dict[int, RawClient], slotd: dict[int, Harness]
) -> None:
    # Commands named inside the request must exist in slotd for the answers to agree.
    named = [w for w in request_[2:3] if request_[1].upper().startswith("GETKEYS")]
    if any(TABLE.get(w.encode()) is None for w in named if w != "nosuch"):
        pytest.skip(f"slotd does not implement {named[0]}")
    theirs = redis[proto].call(*request_)
    ours = slotd[proto].raw(*request_)
    if request_[1] == "LIST":  # listing order is Redis's random hash order
        assert (
            sorted(_elements(ours)) == sorted(_elements(theirs))
            if ours[:1] == b"*"
            else ours == theirs
        )
    else:
        assert ours == theirs, first_difference(ours, theirs)


def _keyed_samples() -> list[tuple[str, list[bytes]]]:
    """One request per key spec of every command with keys, built so that the spec finds a
    key (the registry sweep's sample_argv): GETKEYS must then agree with Redis on it."""
    samples = []
    for top in TABLE:
        for spec in (top, *top.subcommands.values()):
            for index, key in enumerate(spec.keys):
                if key.begin != "unknown" and key.find != "unknown":
                    samples.append((f"{spec.fullname}#{index}", sample_argv(spec, key)[0]))
    return samples


SAMPLES = [pytest.param(argv, id=name) for name, argv in _keyed_samples()]


@pytest.mark.parametrize("proto", [2, 3])
@pytest.mark.parametrize("argv", SAMPLES)
def test_getkeysandflags_matches_redis(
    argv: list[bytes], proto: int, redis: dict[int, RawClient], slotd: dict[int, Harness]
) -> None:
    request = (b"COMMAND", b"GETKEYSANDFLAGS", *argv)
    theirs = redis[proto].call(*request)
    ours = slotd[proto].raw(*request)
    assert ours == theirs, f"{argv!r}: " + first_difference(ours, theirs)
