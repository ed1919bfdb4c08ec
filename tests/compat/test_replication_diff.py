"""Replication commands a master answers without replicas, against a real redis-server,
reply bytes compared: REPLCONF's options and errors (ACK and GETACK answer nothing at
all), WAIT's arguments, REPLICAOF's refusals, FAILOVER's checks, PSYNC's.

Nothing here changes either server's role (REPLICAOF NO ONE on a master is a no-op)."""

from __future__ import annotations

import pytest

from tests.compat.conftest import Differ
from tests.rawclient import encode_command

pytestmark = pytest.mark.interop


def test_replconf(diff: Differ) -> None:
    diff("REPLCONF")
    for args in (
        ("listening-port", "6380"),
        ("listening-port", "x"),
        ("LISTENING-PORT", "1"),
        ("ip-address", "10.0.0.1"),
        ("ip-address", "x" * 255),
        ("ip-address", "x" * 256),
        ("capa", "eof"),
        ("capa", "psync2", "capa", "whatever"),
        ("rdb-only", "1"),
        ("rdb-only", "0"),
        ("rdb-only", "2"),
        ("rdb-only", "x"),
        ("foo", "bar"),
        ("capa",),
        ("listening-port", "1", "foo", "bar"),
    ):
        diff("REPLCONF", *args)


def test_replconf_ack_and_getack_answer_nothing(diff: Differ) -> None:
    for args in (("ACK", "100"), ("ack", "x"), ("GETACK", "*"), ("ACK", "5", "FACK", "3")):
        assert diff.raw(encode_command("REPLCONF", *args) + encode_command("PING")) == (
            b"+PONG\r\n"
        )


def test_wait_arguments(diff: Differ) -> None:
    for args in (
        ("0", "0"),
        ("-1", "0"),
        ("x", "0"),
        ("0", "x"),
        ("0", "-1"),
        ("1", "1"),
        ("0", "1.5"),
        ("99999999999999999999", "0"),
    ):
        diff("WAIT", *args)
    diff("WAIT", "1")


def test_replicaof_refusals(diff: Differ) -> None:
    for args in (
        ("127.0.0.1", "x"),
        ("127.0.0.1", "-1"),
        ("127.0.0.1", "65536"),
        ("no", "two"),
        ("foo", "one"),
        ("NO", "ONE"),
        ("no", "one"),
    ):
        diff("REPLICAOF", *args)
        diff("SLAVEOF", *args)
    diff("REPLICAOF", "no")


def test_failover_checks(diff: Differ) -> None:
    for args in (
        (),
        ("ABORT",),
        ("TIMEOUT", "0"),
        ("TIMEOUT", "-5"),
        ("TIMEOUT", "x"),
        ("TO", "h"),
        ("TO", "h", "x"),
        ("TO", "h", "1"),
        ("FORCE",),
        ("FORCE", "FORCE"),
        ("TO", "h", "1", "FORCE"),
        ("TIMEOUT", "10", "TIMEOUT", "10"),
        ("bogus",),
        ("ABORT", "ABORT"),
    ):
        diff("FAILOVER", *args)


def test_psync_arguments(diff: Differ) -> None:
    diff("PSYNC", "?", "x")
    diff("PSYNC", "a" * 40, "1", "FAILOVER")
    diff("PSYNC")
    diff("SYNC", "x")
    diff("MULTI")
    diff("PSYNC", "?", "-1")
    diff("SYNC")
    diff("EXEC")
