"""Suite-wide fixtures for real processes (helpers in tests/procs.py).

- `slotd_proc` / `redis_proc`: one shared slotd node / real redis-server for the session.
  Tests that use them must leave no server-wide state behind (CONFIG SET ... restore it).
- `slotd_factory` / `redis_factory`: start private servers with extra arguments
  (`slotd_factory("--maxclients", "5")`); every one is stopped when the test ends.
- `redis_cli`: the path of redis-cli (skip, or fail under CI=true, when it is missing).

Temporary directories (every server's --dir) go to RAM (/dev/shm) when it is a roomy tmpfs
and nobody chose a place (TMPDIR, PYTEST_DEBUG_TEMPROOT, --basetemp): servers fsync their
files (nodes.conf on every slot change, RDB and AOF), which on a disk costs ~10 ms each and
made a 1000-slot reshard take minutes; the tests are about behaviour, not disk latency.

The suite refuses to run on a stale compiled build (node/io/native.py): it would test the
old compiled code instead of the sources.

Under CI=true, Hypothesis runs derandomized: CI checks the same examples every time, so a
submission never fails on a bug its change did not touch; new inputs are explored locally.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from node.io import native
from tests import procs

settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if procs.in_ci():
    settings.load_profile("ci")

Factory = Callable[..., procs.ServerProcess]
RAM_DIR = Path("/dev/shm")
RAM_DIR_MIN_FREE = 1 << 30  # Docker's default 64 MB /dev/shm would fill up: disk then


def pytest_configure(config: pytest.Config) -> None:
    stale = native.stale_sources()
    if stale:
        # Python would import the old compiled modules, not the sources under test.
        pytest.exit(
            f"the compiled modules (make native) are older than {', '.join(stale[:5])}: "
            "run `make native` again (make test does), or `make clean`",
            returncode=4,
        )
    if config.option.basetemp or "TMPDIR" in os.environ or "PYTEST_DEBUG_TEMPROOT" in os.environ:
        return
    try:
        room = os.statvfs(RAM_DIR)
    except OSError:
        return
    if room.f_bavail * room.f_frsize >= RAM_DIR_MIN_FREE and os.access(RAM_DIR, os.W_OK):
        os.environ["PYTEST_DEBUG_TEMPROOT"] = str(RAM_DIR)  # read by tmp_path_factory


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
