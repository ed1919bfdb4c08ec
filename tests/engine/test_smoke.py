from tests.support import Harness


def test_set_then_get_returns_value() -> None:
    h = Harness()
    assert h("SET", "k", "v") == b"OK"
    assert h("GET", "k") == b"v"


def test_unknown_command_lists_args() -> None:
    h = Harness()
    assert h.error("NOSUCH", "a", "b") == (
        "ERR unknown command 'NOSUCH', with args beginning with: 'a' 'b' "
    )
