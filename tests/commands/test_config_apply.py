"""CONFIG SET's appliers (Config.appliers, Redis's apply functions): run once per call
after every value is set, and on failure every value of the call put back."""

from __future__ import annotations

from node.config import ConfigApplyError, ConfigValue
from tests.support import Harness


def test_appliers_see_the_whole_call_once() -> None:
    h = Harness()
    seen: list[dict[str, ConfigValue]] = []
    h.engine.config.appliers.append(lambda before: seen.append(dict(before)))
    assert h("CONFIG", "SET", "tls-cert-file", "a.crt", "tls-key-file", "a.key") == b"OK"
    assert seen == [{"tls-cert-file": "", "tls-key-file": ""}]
    assert h("CONFIG", "SET", "slave-read-only", "no") == b"OK"
    assert seen[-1] == {"replica-read-only": True}  # canonical names, old values


def test_a_failed_apply_restores_every_value_of_the_call() -> None:
    h = Harness()
    calls: list[dict[str, ConfigValue]] = []

    def applier(before: dict[str, ConfigValue]) -> None:
        calls.append(dict(before))
        if h.engine.config.values["tls-cert-file"] == "bad.crt":
            raise ConfigApplyError(
                "tls-cert-file", "Unable to update TLS configuration. Check server logs."
            )

    h.engine.config.appliers.append(applier)
    assert h.error("CONFIG", "SET", "hz", "20", "tls-cert-file", "bad.crt") == (
        "ERR CONFIG SET failed (possibly related to argument 'tls-cert-file') - Unable to "
        "update TLS configuration. Check server logs."
    )
    assert h("CONFIG", "GET", "hz") == [b"hz", b"10"]
    assert h("CONFIG", "GET", "tls-cert-file") == [b"tls-cert-file", b""]
    # Run again for the restored values, which tell what the failed call had set.
    assert calls == [{"hz": 10, "tls-cert-file": ""}, {"hz": 20, "tls-cert-file": "bad.crt"}]
