"""Hypothesis tests of RequestParser (pure, no sockets).

Properties:
- valid request streams (multibulk and inline, mixed) parse to the argv lists that were
  encoded, however the stream is split into reads;
- any byte string, valid or mutated or random, parses the same whole as split (same commands
  handed out, same error); the only failure mode is a clean `parser.error` whose reply is
  `-ERR Protocol error: ...`, after which the parser hands out nothing more. Inputs stay
  under the 64 KB inline limit, where splitting cannot change the outcome;
- both fast paths (`_whole_commands`, the compiled build's, and hiredis, the interpreted
  build's) either decline a read or return exactly what the exact parser makes of it, and
  neither declines what client libraries send: whole multibulk commands of bulk strings.
"""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from node.proto.resp import COMPILED, RequestParser, _whole_commands
from tests.resp_strategies import Argv, mutated, stream

FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    bounds = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


def parse(chunks: list[bytes], auth_required: bool = False) -> tuple[list[Argv], str | None]:
    parser = RequestParser()
    parser.auth_required = auth_required
    commands: list[Argv] = []
    for chunk in chunks:
        errored_before = parser.error is not None
        got = parser.feed(chunk)
        assert all(isinstance(a, bytes) for argv in got for a in argv)
        assert all(argv for argv in got), "an empty argv was handed out"
        if errored_before:
            assert got == [], "a parser in error must hand out nothing"
        commands.extend(got)
    if parser.error is None:
        return commands, None
    reply = parser.error.reply
    assert reply.startswith(b"-ERR Protocol error: ") and reply.endswith(b"\r\n")
    assert b"\r\n" not in reply[:-2]
    return commands, parser.error.reason


@FUZZ
@given(s=stream(), cuts=st.lists(st.integers(min_value=0), max_size=20))
def test_valid_streams_parse_the_same_however_split(
    s: tuple[bytes, list[Argv]], cuts: list[int]
) -> None:
    data, expected = s
    assert parse([data]) == (expected, None)
    assert parse(split(data, cuts)) == (expected, None)


@FUZZ
@given(s=stream())
def test_valid_streams_parse_byte_by_byte(s: tuple[bytes, list[Argv]]) -> None:
    data, expected = s
    assume(len(data) < 4000)
    assert parse([data[i : i + 1] for i in range(len(data))]) == (expected, None)


@FUZZ
@example(data=b"*1\r\n$4\r\nPINGXX\r\n", cuts=[], auth_required=False)
@example(data=b"*2147483648\r\n", cuts=[], auth_required=False)
@example(data=b"*1\r\n$-5\r\n", cuts=[], auth_required=False)
@example(data=b"*1\r\n*1\r\n", cuts=[], auth_required=False)
@example(data=b'SET "a b\r\n', cuts=[], auth_required=False)
@example(data=b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$01\r\nv\r\n", cuts=[], auth_required=False)
@example(data=b"*+1\r\n$4\r\nPING\r\n", cuts=[], auth_required=False)
@example(data=b"*0\r\n*1\r\n$4\r\nINCR\r\n*1\r\n$4\r\nPI", cuts=[], auth_required=False)
@given(
    data=st.one_of(mutated(), st.binary(max_size=300)),
    cuts=st.lists(st.integers(min_value=0), max_size=12),
    auth_required=st.booleans(),
)
def test_any_bytes_parse_the_same_whole_or_split(
    data: bytes, cuts: list[int], auth_required: bool
) -> None:
    whole = parse([data], auth_required)
    assert parse(split(data, cuts), auth_required) == whole
    assert parse([data[i : i + 1] for i in range(len(data))], auth_required) == whole


@settings(max_examples=30, deadline=None)
@given(
    size=st.integers(min_value=60_000, max_value=600_000),
    cuts=st.lists(st.integers(min_value=0), max_size=8),
)
def test_large_arguments_across_reads(size: int, cuts: list[int]) -> None:
    value = bytes(range(256)) * (size // 256) + b"\r\n" * 3
    argv = [b"SET", b"key", value]
    data = b"*3\r\n" + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in argv)
    data += b"PING\r\n"
    assert parse(split(data, cuts)) == ([argv, [b"PING"]], None)


def test_a_read_ending_inside_a_bulk_keeps_the_boundary_marker_out_of_the_value() -> None:
    # The fast path feeds an empty multibulk after each read to find the boundary; a read
    # that stops three bytes short of a bulk's end would let hiredis take the marker's
    # "*0\r" as the value's last byte and its CRLF. The exact parser must re-read it.
    first = b"*2\r\n$3\r\nGET\r\n$3\r\nab"
    assert parse([first, b"c\r\n"]) == ([[b"GET", b"abc"]], None)
    assert parse([b"*1\r\n$4\r\nPING\r\n" + first, b"c\r\n"]) == (
        [[b"PING"], [b"GET", b"abc"]],
        None,
    )


def test_a_read_ending_with_an_empty_multibulk_is_at_a_boundary() -> None:
    assert parse([b"*1\r\n$4\r\nPING\r\n*0\r\n", b"*1\r\n$4\r\nPING\r\n"]) == (
        [[b"PING"], [b"PING"]],
        None,
    )


def exact(data: bytes) -> tuple[list[Argv], str | None]:
    parser = RequestParser()
    commands = parser._feed_slow(data)
    return commands, None if parser.error is None else parser.error.reason


def encode(commands: list[Argv]) -> bytes:
    return b"".join(
        b"*%d\r\n" % len(argv) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in argv)
        for argv in commands
    )


@FUZZ
@example(data=b"*1\r\n$4\r\nPING\r\n*0\r\n", max_bulk_len=512)
@example(data=b"*1\r\n+PING\r\n", max_bulk_len=512)
@example(data=b"*1\r\n$4\r\nPINGXX\r\n", max_bulk_len=512)
@example(data=b"*1\r\n$4\r\nPING\r\r", max_bulk_len=512)
@example(data=b"*1\r\n$04\r\nPING\r\n", max_bulk_len=512)
@example(data=b"*01\r\n$4\r\nPING\r\n", max_bulk_len=512)
@example(data=b"*1\r\n$5\r\nhello\r\n", max_bulk_len=4)
@example(data=b"*100000\r\n", max_bulk_len=512)
@given(
    data=st.one_of(mutated(), st.binary(max_size=300)),
    max_bulk_len=st.sampled_from([4, 512 * 1024 * 1024]),
)
def test_the_fast_paths_decline_or_agree_with_the_exact_parser(
    data: bytes, max_bulk_len: int
) -> None:
    answers = [_whole_commands(data, max_bulk_len)]
    # hiredis leaves the size limit to the exact parser (no 64 KB read can hold a whole
    # bulk over the smallest proto-max-bulk-len, 1 MB), and hands out simple strings,
    # verbatim strings and big numbers as if they were bulk strings (resp.py's docstring).
    lenient = any(b"\n" + t in data for t in (b"+", b"=", b"("))
    if max_bulk_len >= 1024 * 1024 and not lenient:
        answers.append(RequestParser(max_bulk_len)._hiredis_commands(data))
    for got, end in answers:
        # What a fast path takes is whole commands that the exact parser reads the same.
        exact_parser = RequestParser(max_bulk_len)
        assert exact_parser._feed_slow(data[:end]) == got
        assert exact_parser.error is None and exact_parser.pending_bytes() == 0
    # And the parser as a whole (fast path, then the exact parser from where it stopped)
    # hands out what the exact parser alone does, with the same error.
    if COMPILED or not lenient:
        assert parse([data]) == exact(data)


@FUZZ
@given(commands=st.lists(st.lists(st.binary(max_size=40), min_size=1, max_size=6), min_size=1))
def test_the_fast_paths_take_what_client_libraries_send(commands: list[Argv]) -> None:
    data = encode(commands)
    assert _whole_commands(data, 512 * 1024 * 1024) == (commands, len(data))
    assert RequestParser()._hiredis_commands(data) == (commands, len(data))
    # A read that ends inside a command: the compiled fast path takes the whole ones.
    tail = encode([[b"SET", b"key", b"value"]])[:-3]
    assert _whole_commands(data + tail, 512 * 1024 * 1024) == (commands, len(data))


def test_the_compiled_fast_path_declines_other_element_types() -> None:
    for element in (b"+PING", b"=8\r\ntxt:PING", b"(12", b":1", b"|1\r\n+a\r\n+b\r\n$4\r\nPING"):
        data = b"*1\r\n" + element + b"\r\n"
        assert _whole_commands(data, 512 * 1024 * 1024) == ([], 0)
        parser = RequestParser()
        assert parser._feed_slow(data) == []
        assert parser.error is not None and parser.error.reason.startswith("expected '$'")
