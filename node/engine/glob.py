"""Glob patterns with exactly Redis 7.0's `stringmatchlen` semantics (KEYS, SCAN MATCH,
PSUBSCRIBE, CONFIG GET, CLIENT KILL, ACL key patterns ...).

Rules, as Redis applies them (checked against redis-server 7.0.15):
- `*` matches any run of bytes, `?` any one byte, `\\x` the byte x literally.
- `[...]` matches one byte from a set: single bytes, ranges `a-z` (a reversed range `z-a`
  is the same range), `\\x` escapes; `[^...]` negates. An unterminated `[` takes the rest
  of the pattern as its set (so `[` alone matches nothing and `[^` any one byte), and a
  `-` right before `]` makes `]` the range's end (`[a-]` is the range `]`..`a`, still open).
- Range ends and the subject byte are compared as C `char`s, i.e. signed: bytes >= 0x80
  sort below 0x00 (`[a-\\xff]` is the range -1..97). With `nocase` the three values then go
  through C `tolower` (ASCII only; it also maps the negative values back to 0x80..0xfe,
  except 0xff which is EOF and stays -1). Escapes inside a set are always case-sensitive.
- An empty subject matches only the empty pattern: `*` does not match b"". KEYS and SCAN
  treat the pattern `*` as "everything" before they ever call the matcher; callers that
  need that shortcut implement it themselves, as Redis does.

The pattern is parsed once into tokens (a set of bytes per position, or STAR). `match`
walks them with the classic one-star backtracking loop, and `compile_glob` turns them into
a regular expression whose middle segments sit in atomic groups; both cost O(len(pattern)
* len(subject)) at worst, never exponential (Redis 7.0.9+ bounds its recursion similarly).
Pure: no I/O, no module-level mutable state.
"""

from __future__ import annotations

import re
from collections.abc import Callable

# A token is the set of byte values one subject byte may take, or None for `*`.
Token = frozenset[int] | None
STAR: None = None

_ALL: frozenset[int] = frozenset(range(256))


def _signed(byte: int) -> int:
    return byte - 256 if byte >= 128 else byte


def _c_tolower(value: int) -> int:
    """glibc's `tolower` on a (signed) C char in the C locale."""
    if value == -1:
        return -1  # EOF: left alone
    if value < 0:
        return value + 256
    if 65 <= value <= 90:
        return value + 32
    return value


def _range(lo_byte: int, hi_byte: int, nocase: bool) -> set[int]:
    start, end = _signed(lo_byte), _signed(hi_byte)
    if start > end:
        start, end = end, start
    if nocase:
        start, end = _c_tolower(start), _c_tolower(end)
        return {b for b in range(256) if start <= _c_tolower(_signed(b)) <= end}
    return {b for b in range(256) if start <= _signed(b) <= end}


def _literal(byte: int, nocase: bool) -> frozenset[int]:
    if nocase and (65 <= byte <= 90 or 97 <= byte <= 122):
        return frozenset((byte | 0x20, byte & ~0x20))
    return frozenset((byte,))


def _bracket(pattern: bytes, i: int, nocase: bool) -> tuple[Token, int]:
    """Parse a set starting just after `[`; returns (token, index of the next token)."""
    n = len(pattern)
    negate = i < n and pattern[i] == 0x5E  # ^
    if negate:
        i += 1
    members: set[int] = set()
    while True:
        if i + 1 < n and pattern[i] == 0x5C:  # backslash with something after it
            i += 1
            members.add(pattern[i])  # Redis compares escaped bytes case-sensitively
        elif i < n and pattern[i] == 0x5D:  # ]
            break
        elif i >= n:
            # Unterminated: Redis steps back onto the last byte so that its common
            # "advance past this token" step lands exactly at the end of the pattern.
            i -= 1
            break
        elif i + 2 < n and pattern[i + 1] == 0x2D:  # x-y
            members |= _range(pattern[i], pattern[i + 2], nocase)
            i += 2
        else:
            members |= _literal(pattern[i], nocase)
        i += 1
    token = _ALL - members if negate else frozenset(members)
    return token, i + 1


def tokenize(pattern: bytes, nocase: bool = False) -> list[Token]:
    """The pattern as a list of tokens; runs of `*` collapse into one STAR."""
    tokens: list[Token] = []
    n, i = len(pattern), 0
    while i < n:
        ch = pattern[i]
        if ch == 0x2A:  # *
            if not tokens or tokens[-1] is not STAR:
                tokens.append(STAR)
            i += 1
        elif ch == 0x3F:  # ?
            tokens.append(_ALL)
            i += 1
        elif ch == 0x5B:  # [
            token, i = _bracket(pattern, i + 1, nocase)
            tokens.append(token)
        else:
            if ch == 0x5C and i + 1 < n:  # \x: x literally (a trailing \ is itself)
                i += 1
            tokens.append(_literal(pattern[i], nocase))
            i += 1
    return tokens


def _match_tokens(tokens: list[Token], subject: bytes) -> bool:
    if not subject:
        return not tokens
    m, n = len(tokens), len(subject)
    ti = si = 0
    star_ti, star_si = -1, 0
    while si < n:
        if ti < m:
            token = tokens[ti]
            if token is STAR:
                # Let the star match nothing for now; come back here to grow it by one.
                star_ti, star_si = ti, si
                ti += 1
                continue
            if subject[si] in token:
                ti += 1
                si += 1
                continue
        if star_ti < 0:
            return False
        star_si += 1
        si = star_si
        ti = star_ti + 1
    while ti < m and tokens[ti] is STAR:
        ti += 1
    return ti == m


def match(pattern: bytes, subject: bytes, nocase: bool = False) -> bool:
    """Redis's stringmatchlen(pattern, subject, nocase) for a one-off test."""
    return _match_tokens(tokenize(pattern, nocase), subject)


def _class_regex(members: frozenset[int]) -> bytes:
    if len(members) == 256:
        return b"."  # compiled with DOTALL
    if not members:
        return b"(?!)"
    if len(members) == 1:
        return re.escape(bytes(members))
    parts = []
    values = sorted(members)
    start = prev = values[0]
    for b in [*values[1:], -2]:
        if b != prev + 1:
            parts.append(
                b"\\x%02x" % start if start == prev else b"\\x%02x-\\x%02x" % (start, prev)
            )
            start = b
        prev = b
    return b"[" + b"".join(parts) + b"]"


def compile_glob(pattern: bytes, nocase: bool = False) -> Callable[[bytes], bool]:
    """A predicate equivalent to `lambda s: match(pattern, s, nocase)`, built for testing
    many subjects (KEYS, SCAN, pattern subscriptions)."""
    tokens = tokenize(pattern, nocase)
    if tokens == [STAR]:
        return lambda s: len(s) > 0
    if STAR not in tokens and all(t is not None and len(t) == 1 for t in tokens):
        literal = bytes(next(iter(t)) for t in tokens if t is not None)
        return lambda s: s == literal
    segments: list[list[bytes]] = [[]]
    for token in tokens:
        if token is STAR:
            segments.append([])
        else:
            segments[-1].append(_class_regex(token))
    parts = [b"".join(seg) for seg in segments]
    if len(parts) == 1:
        regex = parts[0]
    else:
        # Each middle segment is placed at its leftmost fit and never reconsidered (an
        # atomic group): that is always a correct choice for globs, and it keeps the
        # cost polynomial where plain backtracking would explode on `a*a*a*a*b`.
        regex = parts[0] + b"".join(b"(?>.*?" + p + b")" for p in parts[1:-1]) + b".*" + parts[-1]
    fullmatch = re.compile(regex, re.DOTALL).fullmatch
    return lambda s: fullmatch(s) is not None
