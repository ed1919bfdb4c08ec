"""Argument declarations for COMMAND DOCS, in Redis 7's shape.

Each command declares `args=(...)` built from `Arg`s; COMMAND DOCS renders them exactly as
Redis does (name, type, [key_spec_index], [token], [summary], [since], [flags], [arguments]
...). Types: key, string, integer, double, pattern, unix-time, pure-token, oneof, block.
Pure data; no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Arg:
    """One argument of a command (Redis's `redisCommandArg`)."""

    name: str
    type: str
    token: str = ""
    optional: bool = False
    multiple: bool = False
    multiple_token: bool = False
    key_spec_index: int = -1
    since: str = ""
    display: str = ""
    deprecated_since: str = ""
    summary: str = ""
    children: tuple[Arg, ...] = ()


def key(name: str, spec_index: int = 0, **kw: object) -> Arg:
    return Arg(name, "key", key_spec_index=spec_index, **kw)  # type: ignore[arg-type]


def string(name: str, **kw: object) -> Arg:
    return Arg(name, "string", **kw)  # type: ignore[arg-type]


def integer(name: str, **kw: object) -> Arg:
    return Arg(name, "integer", **kw)  # type: ignore[arg-type]


def double(name: str, **kw: object) -> Arg:
    return Arg(name, "double", **kw)  # type: ignore[arg-type]


def pattern(name: str, **kw: object) -> Arg:
    return Arg(name, "pattern", **kw)  # type: ignore[arg-type]


def unix_time(name: str, **kw: object) -> Arg:
    return Arg(name, "unix-time", **kw)  # type: ignore[arg-type]


def token(name: str, tok: str, **kw: object) -> Arg:
    """A pure-token argument, e.g. token("nx", "NX")."""
    return Arg(name, "pure-token", token=tok, **kw)  # type: ignore[arg-type]


def oneof(name: str, *children: Arg, **kw: object) -> Arg:
    return Arg(name, "oneof", children=children, **kw)  # type: ignore[arg-type]


def block(name: str, *children: Arg, **kw: object) -> Arg:
    return Arg(name, "block", children=children, **kw)  # type: ignore[arg-type]
