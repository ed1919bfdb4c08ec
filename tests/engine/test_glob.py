"""Glob matching: Redis 7.0.15's stringmatchlen, case by case.

Every expectation in the tables was checked against a real redis-server 7.0.15: the
case-sensitive ones with KEYS (one key per case), the case-insensitive ones with
COMMAND LIST FILTERBY PATTERN (which matches command names with nocase).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from node.engine.glob import STAR, compile_glob, match, tokenize

CASE_SENSITIVE = [
    (b"", b"", True),
    (b"", b"a", False),
    (b"**", b"", False),
    (b"?", b"", False),
    (b"?*", b"", False),
    (b"[a]*", b"", False),
    (b"a*", b"a", True),
    (b"a**", b"a", True),
    (b"*a", b"a", True),
    (b"*?", b"a", True),
    (b"a*b*", b"ab", True),
    (b"a*b*c", b"abbbc", True),
    (b"h?llo", b"hello", True),
    (b"h?llo", b"hllo", False),
    (b"h*llo", b"hllo", True),
    (b"h*llo", b"heeeello", True),
    (b"h[ae]llo", b"hello", True),
    (b"h[ae]llo", b"hillo", False),
    (b"h[^e]llo", b"hallo", True),
    (b"h[^e]llo", b"hello", False),
    (b"h[a-b]llo", b"hbllo", True),
    (b"h[b-a]llo", b"hbllo", True),
    (b"h[a-b]llo", b"hcllo", False),
    (b"[z-a]", b"m", True),
    (b"A", b"a", False),
    (b"[A-Z]", b"a", False),
    # An unterminated set takes the rest of the pattern.
    (b"[", b"[", False),
    (b"[", b"a", False),
    (b"[^", b"a", True),
    (b"[^", b"ab", False),
    (b"[ab", b"a", True),
    (b"[ab", b"b", True),
    (b"[ab", b"[", False),
    (b"*[", b"ab", False),
    # `-` before `]` makes `]` the end of a range, and the set stays open.
    (b"[a-]", b"]", True),
    (b"[a-]", b"_", True),
    (b"[a-]", b"a", True),
    (b"[a-]", b"-", False),
    (b"[a-]x", b"ax", False),
    (b"[-a]", b"-", True),
    (b"[a-c-e]", b"-", True),
    (b"[a-c-e]", b"d", False),
    (b"[a-c-e]", b"e", True),
    # `]` right after `[` (or `[^`) closes an empty set.
    (b"[]]", b"]", False),
    (b"[]a]", b"a", False),
    (b"[]a]", b"]", False),
    (b"[^]", b"]", True),
    (b"[^]]", b"a", False),
    (b"[^]]", b"]", False),
    # `!` is not a negation.
    (b"[!a]", b"b", False),
    (b"[!a]", b"!", True),
    # Escapes.
    (b"[\\]]", b"]", True),
    (b"[\\]a]", b"a", True),
    (b"[\\", b"\\", True),
    (b"[\\-]", b"-", True),
    (b"[a\\-z]", b"b", False),
    (b"\\", b"\\", True),
    (b"\\*", b"*", True),
    (b"\\*", b"a", False),
    (b"\\?", b"?", True),
    (b"\\a", b"a", True),
    (b"a\\", b"a\\", True),
    (b"\\[a]", b"[a]", True),
    # Range ends compare as signed chars: 0x80..0xff sort below 0x00.
    (b"[a-\xff]", b"\x80", False),
    (b"[a-\xff]", b"b", False),
    (b"[a-\xff]", b"\x00", True),
    (b"[\x00-\x7f]", b"\x80", False),
    (b"[\x80-\xff]", b"\x90", True),
    (b"[\x7f-\x80]", b"a", True),
]

NOCASE = [
    (b"GE?", b"get", True),
    (b"[G]et", b"get", True),
    (b"\\Get", b"get", True),  # an escape outside a set still ignores case
    (b"[\\G]et", b"get", False),  # ... but not inside one
    (b"[^G]et", b"get", False),
    (b"[^G]et", b"set", True),
    (b"[A-Z]et", b"get", True),
    (b"[a-Z]et", b"get", False),  # Z..a, lowered to z..a: empty
    (b"[a-Z]et", b"set", False),
]


@pytest.mark.parametrize(("pattern", "subject", "expected"), CASE_SENSITIVE)
def test_matches_like_redis(pattern: bytes, subject: bytes, expected: bool) -> None:
    assert match(pattern, subject) is expected
    assert compile_glob(pattern)(subject) is expected


@pytest.mark.parametrize(("pattern", "subject", "expected"), NOCASE)
def test_nocase_matches_like_redis(pattern: bytes, subject: bytes, expected: bool) -> None:
    assert match(pattern, subject, nocase=True) is expected
    assert compile_glob(pattern, nocase=True)(subject) is expected


def test_nocase_range_with_high_bytes_uses_c_tolower() -> None:
    # [\x80-z]: signed -128..122; tolower(-128) is 128 in glibc, so the range turns empty.
    assert match(b"[\x80-z]", b"g")
    assert not match(b"[\x80-z]", b"g", nocase=True)
    # 0xff is EOF (-1) for tolower and stays below every ASCII byte.
    assert match(b"[\xff-z]", b"g", nocase=True)
    assert not match(b"[\xff-z]", b"\x90", nocase=True)


def test_star_alone_does_not_match_the_empty_string() -> None:
    assert not match(b"*", b"")
    assert not compile_glob(b"*")(b"")
    assert compile_glob(b"*")(b"x")


def test_consecutive_stars_collapse() -> None:
    assert tokenize(b"a***b") == tokenize(b"a*b")
    assert tokenize(b"***") == [STAR]


def test_compiled_literal_and_regex_special_bytes() -> None:
    for subject in (b".", b"(", b"a.b", b"\n", b"$", b"^", b"|"):
        assert compile_glob(subject)(subject)
        assert compile_glob(b"*" + subject + b"*")(b"x" + subject + b"y")
    assert not compile_glob(b"a.b")(b"axb")
    assert compile_glob(b"a?b")(b"a\nb")
    assert compile_glob(b"a*")(b"a\n\n")


@pytest.mark.parametrize(
    "pattern",
    [
        b"a*a*a*a*a*a*a*a*a*b",
        b"*a*a*a*a*a*a*a*a*a*a*a*b*",
        b"[a]*[a]*?*a*a*a*a*a*c",
        b"*?*?*?*?*?*?*?*?*b",
    ],
)
def test_no_catastrophic_backtracking(pattern: bytes) -> None:
    subject = b"a" * 20000
    # Exponential backtracking would not finish; both matchers are O(len * len(pattern)).
    assert not match(pattern, subject)
    assert not compile_glob(pattern)(subject)
    assert compile_glob(pattern)(subject[:-1] + b"bc") is match(pattern, subject[:-1] + b"bc")


def _reference(tokens: list[frozenset[int] | None], subject: bytes) -> bool:
    """Exhaustive definition: stars take any run (tried in every length)."""
    if not tokens:
        return not subject
    head, rest = tokens[0], tokens[1:]
    if head is None:
        return any(_reference(rest, subject[i:]) for i in range(len(subject) + 1))
    return bool(subject) and subject[0] in head and _reference(rest, subject[1:])


_ALPHABET = st.sampled_from(list(b"ab*?[]^-\\A\x80\xff"))


@settings(max_examples=400, deadline=None)
@given(
    pattern=st.lists(_ALPHABET, max_size=8).map(bytes),
    subject=st.lists(st.sampled_from(list(b"abAB]-[^\\*?\x80\xff")), max_size=7).map(bytes),
    nocase=st.booleans(),
)
def test_matchers_agree_with_the_exhaustive_definition(
    pattern: bytes, subject: bytes, nocase: bool
) -> None:
    tokens = tokenize(pattern, nocase)
    # Redis: an empty subject matches only the empty pattern, even `*`.
    expected = not pattern if not subject else _reference(tokens, subject)
    assert match(pattern, subject, nocase) is expected
    assert compile_glob(pattern, nocase)(subject) is expected
