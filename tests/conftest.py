"""Suite-wide fixtures for real processes (helpers in tests/procs.py).

- `slotd_proc` / `redis_proc`: one shared slotd node / real redis-server for the session.
  Tests that use them must leave no server-wide state behind (CONFIG SET ... restore it).
- `slotd_factory` / `redis_factory`: start private servers with extra arguments
  (`slotd_factory("--maxclients", "5")`); every one is stopped when the test ends.
- `redis_cli`: the path of redis-cli (skip, or fail under CI=true, when it is missing).

Under CI=true, Hypothesis runs derandomized: CI checks the same examples every time, so a
submission never fails on a bug its change did not touch; new inputs are explored locally.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from tests import procs

settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if procs.in_ci():
    settings.load_profile("ci")

Factory = Callable[..., procs.ServerProcess]


@pytest.fixture(scope="session")
def slotd_proc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[procs.ServerProcess]:
    server = procs.start_slotd(tmp_path_factory.mktemp("slotd"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_proc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[procs.ServerProcess]:
    server = procs.start_redis(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


def _factory(
    starter: Callable[..., procs.ServerProcess],
    base: Path,
    prefix: str,
) -> tuple[Factory, list[procs.ServerProcess]]:
    started: list[procs.ServerProcess] = []

    def start(*extra: str) -> procs.ServerProcess:
        server = starter(base / f"{prefix}{len(started)}", *extra)
        started.append(server)
        return server

    return start, started


@pytest.fixture
def slotd_factory(tmp_path: Path) -> Iterator[Factory]:
    start, started = _factory(procs.start_slotd, tmp_path, "slotd")
    yield start
    for server in started:
        server.stop()


@pytest.fixture
def redis_factory(tmp_path: Path) -> Iterator[Factory]:
    start, started = _factory(procs.start_redis, tmp_path, "redis")
    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def redis_cli() -> str:
    return procs.redis_cli_bin()
