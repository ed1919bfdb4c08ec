"""sdscatrepr as Redis 7.0.15 applies it (MONITOR lines, CONFIG REWRITE), and its inverse
sdssplitargs (resp.split_args) on config-file lines."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from node.proto.quoting import sds_repr
from node.proto.resp import split_args


def test_repr_escapes_like_sdscatrepr() -> None:
    # As redis-server's MONITOR printed `SET k 'a b"\\\n\x01\xff'`.
    assert sds_repr(b'a b"\\\n\x01\xff') == b'"a b\\"\\\\\\n\\x01\\xff"'
    assert sds_repr(b"\r\t\x07\x08~ ") == b'"\\r\\t\\a\\b~ "'
    assert sds_repr(b"") == b'""'
    assert sds_repr(b"abc123") == b'"abc123"'


def test_split_args_quoting() -> None:
    assert split_args(b"  save 900 1  ") == [b"save", b"900", b"1"]
    assert split_args(b'dir "/tmp/a b" x') == [b"dir", b"/tmp/a b", b"x"]
    assert split_args(b'requirepass "a\\x41\\n\\"q"') == [b"requirepass", b'aA\n"q']
    assert split_args(b"x 'it\\'s' y") == [b"x", b"it's", b"y"]
    assert split_args(b'logfile ""') == [b"logfile", b""]
    assert split_args(b'a"b c"d') is None  # a closing quote must end the word
    assert split_args(b'a"b c" d') == [b"ab c", b"d"]
    assert split_args(b'"unbalanced') is None
    assert split_args(b"'unbalanced") is None
    assert split_args(b"") == []


@given(st.lists(st.binary(), max_size=5))
def test_repr_round_trips_through_split_args(words: list[bytes]) -> None:
    line = b" ".join(sds_repr(w) for w in words)
    assert split_args(line) == words
