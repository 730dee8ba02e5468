"""An error answer says "nothing was changed" only when it is true (issue 10, item 23).

A failure after an action committed (here: a view that places an order and then breaks)
must not tell the client that nothing changed, or a client that retries buys twice; it names
what was saved. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ordermill.core.app import Ordermill
from ordermill.core.specs import Actor
from ordermill.testing import order_request
from ordermill.web import create_app
from ordermill.web.api.guards import access


@pytest.mark.commits  # what was saved is learnt from the real COMMIT
def test_a_failure_after_a_commit_says_what_was_saved_not_that_nothing_changed(
    mill: Ordermill, make_product: Callable[..., Any], error_of: Callable[..., Any],
) -> None:
    make_product("MUG", price=1250, stock=5)
    app = create_app(mill)
    placed: list[str] = []

    def place_then_break() -> Any:
        result = mill.orders.place(order_request([("MUG", 1)]), actor=Actor.system())
        assert result.order is not None
        placed.append(result.order.number)
        raise RuntimeError("the answer could not be built")

    app.add_url_rule("/api/v1/_place_then_break", view_func=access("public")(place_then_break),
                     methods=["POST"])

    answer = app.test_client().post("/api/v1/_place_then_break")

    error = error_of(answer, 500, "internal_error")
    assert "nothing was changed" not in error["message"]
    assert "saved" in error["message"] and placed[0] in error["message"]
    assert error["details"] == {"saved": [{"number": placed[0], "event": "placed"}]}


def test_a_failure_before_any_write_still_says_nothing_was_changed(
    mill: Ordermill, make_product: Callable[..., Any], error_of: Callable[..., Any],
) -> None:
    make_product("MUG", price=1250, stock=5)
    app = create_app(mill)

    def place_then_break() -> Any:
        raise RuntimeError("broken before anything was written")

    app.add_url_rule("/api/v1/_break", view_func=access("public")(place_then_break),
                     methods=["POST"])
    client = app.test_client()
    first = client.post("/api/v1/_break")
    assert "nothing was changed" in error_of(first, 500, "internal_error")["message"]
