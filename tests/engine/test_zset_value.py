"""The ZSet value against a plain model (a dict kept sorted by hand), in both encodings and
across the listpack -> skiplist conversion."""

from __future__ import annotations

from bisect import bisect_left, bisect_right

from hypothesis import given, settings
from hypothesis import strategies as st

from node.engine.types.zset import ZSet, listpack_score_text

MEMBERS = st.binary(min_size=0, max_size=3)
SCORES = st.sampled_from([0.0, -0.0, 1.0, 1.5, -2.0, 3.0, float("inf"), float("-inf"), 1e300])
OPS = st.lists(
    st.one_of(
        st.tuples(st.just("add"), MEMBERS, SCORES),
        st.tuples(st.just("remove"), MEMBERS, SCORES),
        st.tuples(st.just("pop"), st.integers(0, 6), st.integers(0, 6)),
    ),
    max_size=40,
)


def ordered(model: dict[bytes, float]) -> list[tuple[bytes, float]]:
    return sorted(model.items(), key=lambda kv: (kv[1], kv[0]))


def check(zs: ZSet, model: dict[bytes, float]) -> None:
    items = ordered(model)
    assert len(zs) == len(items)
    assert list(zs.pairs()) == items
    assert list(zs) == [m for m, _ in items]
    assert zs.items(0, len(items)) == items
    scores = [s for _, s in items]
    for i, (member, score) in enumerate(items):
        assert zs.rank(member) == i
        assert zs.score(member) == score
        assert member in zs
        assert zs.item(i) == (member, score)
    for probe in (0.0, 1.0, 1.5, float("inf"), float("-inf"), 2.0):
        assert zs.index_score(probe, after=False) == bisect_left(scores, probe)
        assert zs.index_score(probe, after=True) == bisect_right(scores, probe)
    assert zs.rank(b"absent-member") is None


@settings(max_examples=150, deadline=None)
@given(OPS, st.integers(0, 6), st.integers(1, 4))
def test_zset_matches_model(
    ops: list[tuple[str, object, object]], max_entries: int, max_value: int
) -> None:
    zs, model = ZSet(), dict[bytes, float]()
    for op, a, b in ops:
        if op == "add":
            assert isinstance(a, bytes) and isinstance(b, float)
            was_listpack = zs.encoding() == b"listpack"
            added = zs.add(a, b, max_entries, max_value)
            assert added == (a not in model)
            if added or model[a] != b:
                # a listpack keeps scores as text, where -0.0 reads back as 0
                model[a] = b + 0.0 if zs.encoding() == b"listpack" else b
            if added and was_listpack and (len(model) > max_entries or len(a) > max_value):
                assert zs.encoding() == b"skiplist"
        elif op == "remove":
            assert isinstance(a, bytes)
            assert zs.remove(a) == (model.pop(a, None) is not None)
        else:
            assert isinstance(a, int) and isinstance(b, int)
            start, stop = min(a, b), max(a, b)
            expected = ordered(model)[start:stop]
            assert zs.pop_items(start, stop) == expected
            for member, _ in expected:
                del model[member]
        check(zs, model)
    copy = zs.copy()
    assert copy.encoding() == zs.encoding()
    check(copy, model)


@settings(max_examples=80, deadline=None)
@given(st.dictionaries(MEMBERS, SCORES, max_size=8), st.integers(0, 6), st.integers(0, 3))
def test_build_encodes_like_a_stored_result(
    items: dict[bytes, float], max_entries: int, max_value: int
) -> None:
    zs = ZSet.build(items.items(), max_entries, max_value)
    fits = len(items) <= max_entries and all(len(m) <= max_value for m in items)
    assert zs.encoding() == (b"listpack" if fits else b"skiplist")
    model = {m: s + 0.0 for m, s in items.items()} if fits else items
    check(zs, model)


def test_lex_positions_assume_one_score() -> None:
    for listpack in (True, False):
        zs = ZSet(listpack=listpack)
        for m in (b"b", b"d", b"a", b"c"):
            zs.insert(m, 0.0, 128 if listpack else 0, 64)
        assert zs.index_lex(b"b", after=False) == 1
        assert zs.index_lex(b"b", after=True) == 2
        assert zs.index_lex(b"bb", after=False) == 2
        assert zs.index_lex(b"", after=False) == 0
        assert zs.index_lex(b"z", after=True) == 4


def test_listpack_score_text() -> None:
    assert listpack_score_text(3.0) == b"3"
    assert listpack_score_text(-0.0) == b"0"
    assert listpack_score_text(2.0**62) == b"4611686018427387904"
    assert listpack_score_text(2.0**62 + 1024) == b"4.6116860184273889e+18"
    assert listpack_score_text(0.5) == b"0.5"
    assert listpack_score_text(float("-inf")) == b"-inf"


def test_conversion_shares_one_score_object_per_member() -> None:
    zs = ZSet()
    for i in range(5):
        zs.insert(b"m%d" % i, i + 0.5, 128, 64)
    zs.to_skiplist()
    big = zs._big
    assert big is not None
    assert all(big.dict[member] is score for score, member in big.sl)


def test_a_skiplist_keeps_one_float_per_score() -> None:
    """The dict and the sorted list share each score object, on every path that stores one
    (insert, update, build, conversion): a second float is 32 bytes per member, and the
    compiled module boxes a `float` anew wherever it is stored unless told otherwise."""

    def shared(zs: ZSet) -> bool:
        big = zs._big
        assert big is not None
        return all(big.dict[member] is score for score, member in big.sl)

    converted = ZSet()
    for i in range(5):
        converted.add(b"m%d" % i, i * 1.5, 4, 64)  # the fifth converts the listpack
    assert converted.encoding() == b"skiplist" and shared(converted)
    converted.add(b"m9", 100.25, 4, 64)  # insert
    converted.add(b"m1", -7.75, 4, 64)  # update
    assert shared(converted)
    built = ZSet.build([(b"b%d" % i, i / 3) for i in range(10)], 4, 64)
    assert built.encoding() == b"skiplist" and shared(built)
