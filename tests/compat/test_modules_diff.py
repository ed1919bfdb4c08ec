"""MODULE against a real redis-server 7.0.15 (which has no module loaded either): replies
compared byte for byte, with enable-module-command off (the session servers) and on (a
private pair)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.compat.conftest import Differ
from tests.procs import ServerProcess
from tests.rawclient import RawClient

pytestmark = pytest.mark.interop
Factory = Callable[..., ServerProcess]
_CALLS = (
    ("LIST",),
    ("HELP",),
    ("LOAD", "/nonexistent/module.so", "a"),
    ("LOADEX", "/x", "CONFIG", "a", "b", "ARGS", "c"),
    ("LOADEX", "/x", "foo"),
    ("UNLOAD", "x"),
    ("UNLOAD", "x", "y"),
    ("LIST", "x"),
    ("foo",),
    (),
)


def test_module_with_the_command_disabled(diff: Differ) -> None:
    for args in _CALLS:
        diff("MODULE", *args)
    diff.both("HELLO", "3")  # the client ids differ
    diff("MODULE", "LIST")


@pytest.fixture
def enabled(slotd_factory: Factory, redis_factory: Factory) -> Iterator[Differ]:
    ours = slotd_factory("--enable-module-command", "yes")
    theirs = redis_factory("--enable-module-command", "yes")
    with RawClient(*ours.addr) as a, RawClient(*theirs.addr) as b:
        yield Differ(a, b)


def test_module_with_the_command_enabled(enabled: Differ) -> None:
    for args in _CALLS:
        enabled("MODULE", *args)
    enabled("COMMAND", "INFO", "module|load", "module|list")
