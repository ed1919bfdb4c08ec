"""The replication backlog: offsets as Redis numbers them, trimming, serving PSYNC offsets."""

from __future__ import annotations

from node.replication.backlog import Backlog


def test_new_backlog_holds_nothing_and_starts_at_the_next_byte() -> None:
    backlog = Backlog(100, 41)
    assert (backlog.offset, backlog.histlen, backlog.first_byte_offset) == (41, 0, 42)
    assert backlog.can_serve(42)  # exactly caught up: nothing to send, stream continues
    assert not backlog.can_serve(41)
    assert not backlog.can_serve(43)
    assert backlog.read_from(42) == b""


def test_append_moves_the_offset_and_reads_from_any_held_byte() -> None:
    backlog = Backlog(100, 0)
    backlog.append(b"hello")
    backlog.append(b" world")
    assert (backlog.offset, backlog.histlen, backlog.first_byte_offset) == (11, 11, 1)
    assert backlog.read_from(1) == b"hello world"
    assert backlog.read_from(7) == b"world"
    assert backlog.read_from(12) == b""
    assert not backlog.can_serve(13)


def test_old_bytes_fall_out_once_the_size_is_reached() -> None:
    backlog = Backlog(8, 0)
    backlog.append(b"0123456789")
    backlog.append(b"abc")
    assert backlog.histlen == 8
    assert backlog.offset == 13
    assert backlog.first_byte_offset == 6
    assert backlog.read_from(6) == b"56789abc"
    assert not backlog.can_serve(5)


def test_resize_keeps_the_most_recent_bytes() -> None:
    backlog = Backlog(16, 100)
    backlog.append(b"abcdefghij")
    backlog.resize(4)
    assert backlog.read_from(backlog.first_byte_offset) == b"ghij"
    assert backlog.first_byte_offset == 107
    backlog.resize(64)
    backlog.append(b"k")
    assert backlog.read_from(107) == b"ghijk"
