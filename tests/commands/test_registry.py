"""Sweeps over the whole command table: every declaration must be one Redis could have made.

These catch transcription slips (a positive arity with an open-ended key range, a write
command without a written key, a key spec that finds nothing) in every family at once; the
byte-for-byte comparison with a real server is tests/compat/test_command_docs.py. The
invariants were checked to hold for every command of redis-server 7.0.15.
"""

from __future__ import annotations

import dataclasses
import re

import pytest

from node.commands import docs, load
from node.commands.registry import CommandSpec, Flag, KeyFlag, KeySpec, keys_from_specs

TABLE = load()
ALL: list[CommandSpec] = [s for top in TABLE for s in (top, *top.subcommands.values())]
IDS = [s.fullname for s in ALL]

GROUPS = frozenset(
    {
        "generic",
        "string",
        "list",
        "set",
        "sorted-set",
        "hash",
        "pubsub",
        "transactions",
        "connection",
        "server",
        "scripting",
        "hyperloglog",
        "cluster",
        "sentinel",
        "geo",
        "stream",
        "bitmap",
    }
)
ARG_TYPES = frozenset(
    {"string", "integer", "double", "key", "pattern", "unix-time", "pure-token", "oneof", "block"}
)
ACCESS_KINDS = KeyFlag.RO | KeyFlag.RW | KeyFlag.OW | KeyFlag.RM
WRITE_KINDS = KeyFlag.RW | KeyFlag.OW | KeyFlag.RM
# Redis 7.0's write commands that declare no key at all: they write whole databases or
# server state (functions), not a key a spec could point at.
KEYLESS_WRITES = frozenset(
    {
        "flushall",
        "flushdb",
        "swapdb",
        "function|flush",
        "function|restore",
        "function|load",
        "function|delete",
    }
)
# XREADGROUP is a write (it moves the group's cursor) yet Redis declares its keys RO.
WRITES_THROUGH_RO_KEYS = frozenset({"xreadgroup"})
VERSION = re.compile(r"\d+\.\d+\.\d+")
TIP = re.compile(r"nondeterministic_output(_order)?|request_policy:\w+|response_policy:\w+")


def test_table_is_not_empty_and_names_are_unique() -> None:
    assert len(TABLE) > 0
    assert len(set(IDS)) == len(IDS)


@pytest.mark.parametrize("spec", ALL, ids=IDS)
def test_names_are_lowercase_and_resolvable(spec: CommandSpec) -> None:
    assert spec.name == spec.name.lower() and spec.name.isascii()
    assert spec.name and not set(spec.name) & set("| \t\r\n")
    if spec.container is None:
        for spelling in (spec.name, spec.name.upper(), spec.name.capitalize()):
            assert TABLE.get(spelling.encode()) is spec
        assert spec.fullname == spec.name
    else:
        assert spec.fullname == f"{spec.container.name}|{spec.name}"
        assert spec.container.subcommands[spec.name.encode()] is spec
        assert not spec.subcommands  # one level only, as in Redis
        assert abs(spec.arity) >= 2  # the container's name and the subcommand's
        assert spec.group == spec.container.group
    assert callable(spec.handler)


@pytest.mark.parametrize("spec", ALL, ids=IDS)
def test_documentation_fields(spec: CommandSpec) -> None:
    # (Redis 7.0.15's own summary of the ACL container ends with a space.)
    assert spec.summary and (spec.summary == spec.summary.strip() or spec.fullname == "acl")
    assert VERSION.fullmatch(spec.since), spec.since
    assert spec.group in GROUPS
    assert set(spec.doc_flags) <= {"deprecated", "syscmd"}
    deprecated = "deprecated" in spec.doc_flags
    assert deprecated == bool(spec.deprecated_since) == bool(spec.replaced_by)
    if spec.deprecated_since:
        assert VERSION.fullmatch(spec.deprecated_since)
    for version, change in spec.history:
        assert VERSION.fullmatch(version) and change
    for tip in spec.tips:
        assert TIP.fullmatch(tip), tip


@pytest.mark.parametrize("spec", ALL, ids=IDS)
def test_flags_are_consistent(spec: CommandSpec) -> None:
    assert spec.arity != 0
    assert not (spec.flags & Flag.WRITE and spec.flags & Flag.READONLY)
    if spec.subcommands:
        assert not spec.keys and spec.getkeys is None
    if spec.flags & Flag.DENYOOM:
        assert spec.flags & Flag.WRITE


@pytest.mark.parametrize("spec", ALL, ids=IDS)
def test_key_spec_flags(spec: CommandSpec) -> None:
    for key in spec.keys:
        kinds = key.flags & ACCESS_KINDS
        if key.flags & KeyFlag.NOT_KEY:
            assert not kinds  # a channel, not a key
        else:
            assert kinds in (KeyFlag.RO, KeyFlag.RW, KeyFlag.OW, KeyFlag.RM), key
        assert key.begin in ("index", "keyword", "unknown")
        assert key.find in ("range", "keynum", "unknown")
        assert key.keystep >= 1
        if key.begin == "keyword":
            assert key.keyword and key.startfrom != 0
        if key.find == "range" and key.limit:
            assert key.lastkey == -1  # Redis asserts this when it searches


@pytest.mark.parametrize("spec", ALL, ids=IDS)
def test_arity_sign_matches_key_specs(spec: CommandSpec) -> None:
    if spec.arity < 0:
        return
    # A fixed arity leaves no room for keys found by keyword, count or open range, and every
    # key must fall inside argv (Redis panics otherwise when it looks for keys).
    for key in spec.keys:
        assert key.begin == "index" and key.find == "range", key
        assert key.lastkey >= 0 and key.index + key.lastkey < spec.arity, key


@pytest.mark.parametrize("spec", ALL, ids=IDS)
def test_write_commands_write_a_key(spec: CommandSpec) -> None:
    if not spec.flags & Flag.WRITE or spec.fullname in WRITES_THROUGH_RO_KEYS:
        return
    if not spec.keys:
        assert spec.fullname in KEYLESS_WRITES, "a write command with no key spec"
        return
    assert any(k.flags & WRITE_KINDS for k in spec.keys) or spec.flags & Flag.NO_MANDATORY_KEYS, (
        "no RW/OW/RM key spec"
    )


def _walk(args: tuple[docs.Arg, ...]) -> list[docs.Arg]:
    out: list[docs.Arg] = []
    for arg in args:
        out.append(arg)
        out.extend(_walk(arg.children))
    return out


@pytest.mark.parametrize("spec", ALL, ids=IDS)
def test_arguments_match_key_specs(spec: CommandSpec) -> None:
    args = _walk(spec.args)
    for arg in args:
        assert arg.name and arg.type in ARG_TYPES, arg
        assert bool(arg.children) == (arg.type in ("oneof", "block")), arg.name
        # Key arguments point at their spec; so may others that name keys indirectly
        # (SORT's BY/GET patterns point at the spec of the keys they read).
        if arg.type == "key" or arg.key_spec_index != -1:
            assert 0 <= arg.key_spec_index < len(spec.keys), arg.name
        if arg.since:
            assert VERSION.fullmatch(arg.since)
    referenced = {a.key_spec_index for a in args}
    for index, key in enumerate(spec.keys):
        if spec.args and not key.flags & KeyFlag.NOT_KEY:
            assert index in referenced, f"key spec {index} has no key argument"


def sample_argv(spec: CommandSpec, key: KeySpec) -> tuple[list[bytes], int]:
    """The shortest request the arity allows in which `key` must find a key; and where."""
    fixed = spec.arity > 0
    argv = (
        [spec.name.encode()]
        if spec.container is None
        else [spec.container.name.encode(), spec.name.encode()]
    )
    need = abs(spec.arity)

    def grow(length: int) -> None:
        nonlocal need
        assert not fixed or length <= spec.arity, "keys beyond a fixed arity"
        need = max(need, length)

    if key.begin == "index":
        first = key.index
    else:  # keyword
        if key.startfrom > 0:
            word_at = key.startfrom
            grow(word_at + 2)  # the scan never looks at the last argument
        else:
            grow(2 - key.startfrom)  # backwards, it stops before argv[1]
            word_at = -1  # placed once the length is known
        first = 0
    if key.find == "range":
        extra = key.lastkey + 1 if key.lastkey >= 0 else (key.limit or -key.lastkey)
    else:  # keynum: the count, then the key
        extra = max(key.keynumidx, key.firstkey) + 1
    if key.begin == "index":
        grow(first + extra)
    elif key.startfrom > 0:
        grow(word_at + 1 + extra)
    # Backwards, the keyword sits at argc + startfrom whatever argc is: its keys fit or not.
    argv += [b"x"] * (need - len(argv))
    if key.begin == "keyword":
        if key.startfrom < 0:
            word_at = len(argv) + key.startfrom
        argv[word_at] = key.keyword
        first = word_at + 1
    if key.find == "keynum":
        argv[first + key.keynumidx] = b"1"
        first += key.firstkey
    return argv, first


@pytest.mark.parametrize(
    "spec", [s for s in ALL if s.keys], ids=[s.fullname for s in ALL if s.keys]
)
def test_each_key_spec_finds_a_key(spec: CommandSpec) -> None:
    for key in spec.keys:
        if key.begin == "unknown" or key.find == "unknown":
            assert spec.getkeys is not None, "an unknown spec needs a getkeys function"
            continue
        if key.flags & KeyFlag.NOT_KEY:
            key = dataclasses.replace(key, flags=KeyFlag.RO)  # searched like a key here
        argv, first = sample_argv(spec, key)
        found = keys_from_specs((key,), argv, partial=key.flags & KeyFlag.INCOMPLETE != 0)
        assert found, f"{key} finds nothing in {argv!r}"
        assert found[0][0] == first, (key, argv, found)
    # Redis answers these from the command's getkeys function (request-dependent flags, or
    # keys a spec cannot locate).
    if any(k.flags & (KeyFlag.VARIABLE_FLAGS | KeyFlag.INCOMPLETE) for k in spec.keys):
        assert spec.getkeys is not None, "VARIABLE_FLAGS/INCOMPLETE specs need getkeys"
