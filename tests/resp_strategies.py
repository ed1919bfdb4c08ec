"""Hypothesis strategies for RESP request streams, shared by the parser tests and the
socket fuzz test.

`stream()` draws valid requests (multibulk, inline, empty ones) with the argv each must parse
to; `mutated()` damages such a stream where the framing is most fragile. Commands are random
bytes, inline words from a small alphabet or a few harmless real commands, so a fuzzed
server never receives SHUTDOWN, CONFIG or the like.
"""

from __future__ import annotations

from hypothesis import strategies as st

Argv = list[bytes]

ARG = st.one_of(st.binary(max_size=24), st.binary(min_size=100, max_size=3000))
INLINE_WORD = st.text("abcxyzABC0123456789_-.:", min_size=1, max_size=12).map(str.encode)
# Bytes that matter to the framing, to bias mutations towards interesting damage.
SPECIAL = st.sampled_from(list(b"*$\r\n-+:%_~#,0123456789x\"' \\\x00"))
COMMAND = st.sampled_from(
    [
        [b"PING"],
        [b"ECHO"],
        [b"SET", b"k"],
        [b"GET", b"k"],
        [b"INCR", b"n"],
        [b"APPEND", b"k"],
        [b"MGET", b"k", b"n"],
        [b"DEL", b"k"],
        [b"EXISTS", b"k"],
    ]
)


@st.composite
def request(draw: st.DrawFn) -> tuple[bytes, Argv | None]:
    """One request: its bytes and the argv it must parse to (None: parses to nothing)."""
    kind = draw(st.sampled_from(["multibulk", "command", "inline", "empty"]))
    if kind in ("multibulk", "command"):
        if kind == "command":
            argv = [*draw(COMMAND), *draw(st.lists(ARG, max_size=2))]
        else:
            argv = draw(st.lists(ARG, min_size=1, max_size=6))
        data = b"*%d\r\n" % len(argv) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in argv)
        return data, argv
    if kind == "inline":
        argv = draw(st.lists(INLINE_WORD, min_size=1, max_size=5))
        sep = draw(st.sampled_from([b" ", b"  ", b"\t"]))
        end = draw(st.sampled_from([b"\r\n", b"\n"]))
        return sep.join(argv) + end, argv
    return draw(st.sampled_from([b"*0\r\n", b"*-1\r\n", b"\r\n", b"\n", b"   \r\n"])), None


@st.composite
def stream(draw: st.DrawFn) -> tuple[bytes, list[Argv]]:
    requests = draw(st.lists(request(), min_size=1, max_size=12))
    data = b"".join(r[0] for r in requests)
    return data, [argv for _, argv in requests if argv is not None]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(stream())[0])
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["replace", "insert", "delete", "truncate", "duplicate"]))
        pos = draw(st.integers(0, len(data)))
        if op == "replace" and pos < len(data):
            data[pos] = draw(SPECIAL)
        elif op == "insert":
            data[pos:pos] = bytes(draw(st.lists(SPECIAL, min_size=1, max_size=4)))
        elif op == "delete":
            del data[pos : pos + draw(st.integers(1, 4))]
        elif op == "truncate":
            del data[pos:]
        elif op == "duplicate":
            data[pos:pos] = data[max(0, pos - 8) : pos]
    return bytes(data)
