"""redis-py's transactional pipelines and WATCH-based optimistic locking against slotd."""

from __future__ import annotations

import redis

from tests.procs import ServerProcess


def test_pipeline_transaction_and_watch_retry(slotd_proc: ServerProcess) -> None:
    r = redis.Redis(*slotd_proc.addr, protocol=2)
    r.delete("tx-counter")
    with r.pipeline() as pipe:
        pipe.set("tx-counter", 10).incr("tx-counter").get("tx-counter")
        assert pipe.execute() == [True, 11, b"11"]

    attempts = 0

    def bump(pipe: redis.client.Pipeline) -> None:
        nonlocal attempts
        attempts += 1
        value = int(pipe.get("tx-counter") or 0)
        if attempts == 1:
            redis.Redis(*slotd_proc.addr, protocol=2).incr("tx-counter")  # a rival write
        pipe.multi()
        pipe.set("tx-counter", value * 2)

    r.transaction(bump, "tx-counter")
    assert attempts == 2  # the first EXEC failed on the WATCH and was retried
    assert r.get("tx-counter") == b"24"
