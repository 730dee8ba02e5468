"""Cancel, refund and cancel-and-refund take `lines: [{"id", "quantity"}]` beside `line_ids`
(issue 14 item 9): some units of a line close, the rest stay active; bad choices are one
clear JSON error and change nothing, dry run or not."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from ordermill.core.app import Ordermill
from ordermill.core.models import Order, Product
from ordermill.core.specs import Actor
from ordermill.core.statuses import line_summary


@pytest.fixture
def shirts(make_product: Callable[..., Any]) -> None:
    make_product("TSHIRT", price=1250, stock=20)
    make_product("MUG", price=800, stock=7)


def stock(mill: Ordermill) -> dict[str, int | None]:
    with mill.read_session() as session:
        return {sku: units for sku, units in session.execute(select(Product.sku,
                                                                    Product.stock))}


def line_of(order: Order, sku: str) -> int:
    return next(line.id for line in order.lines if line.sku == sku and line.status == "active")


def test_cancel_two_of_three_restocks_two_and_keeps_one_active(
        mill: Ordermill, api: Any, shirts: None, order_factory: Callable[..., Order]) -> None:
    order = order_factory([("TSHIRT", 3), ("MUG", 1)], paid=True)
    shirt = line_of(order, "TSHIRT")
    before = stock(mill)
    body = {"lines": [{"id": shirt, "quantity": 2}], "comment": "Two too many"}
    dry = api.post(f"orders/{order.number}/cancel?dry_run=true", json=body)
    assert stock(mill) == before
    real = api.post(f"orders/{order.number}/cancel", json=body)
    assert real.status_code == 200, real.get_json()
    assert dry.get_json()["preview"] == real.get_json()["preview"]
    preview = real.get_json()["preview"]
    assert preview["stock_released"] == {"TSHIRT": 2}
    assert preview["summary"] == {"from": "Complete", "to": "2/4 Complete"}
    assert preview["data"]["lines"] == [{"id": shirt, "quantity": 2}]
    assert preview["data"]["line_ids"] == [shirt]
    assert stock(mill)["TSHIRT"] == before["TSHIRT"] + 2  # type: ignore[operator]

    lines = real.get_json()["order"]["lines"]
    assert [(line["id"] == shirt, line["quantity"], line["status"], line["total"],
             line["parent_line_id"]) for line in lines] == [
        (True, 1, "active", "12.50", None), (False, 1, "active", "8.00", None),
        (False, 2, "cancelled", "25.00", shirt)]
    # the invoice and the payment status follow the units still ordered
    stored = mill.orders.get(order.number)
    assert line_summary(stored) == "2/4 Complete" and stored.status == "pending"
    # the kept unit can be cancelled by quantity again; its line then closes as a whole
    again = api.post(f"orders/{order.number}/cancel", json={"lines": [{"id": shirt,
                                                                        "quantity": 1}]})
    assert again.status_code == 200
    first = again.get_json()["order"]["lines"][0]
    assert (first["id"], first["quantity"], first["status"]) == (shirt, 1, "cancelled")
    assert stock(mill)["TSHIRT"] == before["TSHIRT"] + 3  # type: ignore[operator]


def test_cancel_and_refund_of_units_refunds_their_share(
        mill: Ordermill, api: Any, shirts: None, order_factory: Callable[..., Order]) -> None:
    order = order_factory([("TSHIRT", 3), ("MUG", 1)], paid=True)
    shirt = line_of(order, "TSHIRT")
    body = {"lines": [{"id": shirt, "quantity": 1}], "restock": False}
    dry = api.post(f"orders/{order.number}/cancel-and-refund?dry_run=true", json=body)
    real = api.post(f"orders/{order.number}/cancel-and-refund", json=body)
    assert real.status_code == 200, real.get_json()
    assert dry.get_json()["preview"] == real.get_json()["preview"]
    preview = real.get_json()["preview"]
    assert preview["event"] == "cancelled_and_refunded"
    assert preview["amount_refunded"] == "12.50" and preview["data"]["refunded"] == "12.50"
    assert preview["stock_released"] == {}
    assert preview["summary"]["to"] == "3/4 Complete"
    assert "Cancelled Tshirt x1 and refunded 12.50 EUR." in preview["message"]


def test_line_ids_still_close_whole_lines(mill: Ordermill, api: Any, shirts: None,
                                          order_factory: Callable[..., Order]) -> None:
    order = order_factory([("TSHIRT", 3), ("MUG", 1)], paid=True)
    shirt = line_of(order, "TSHIRT")
    answer = api.post(f"orders/{order.number}/refund", json={"line_ids": [shirt]}).get_json()
    assert answer["preview"]["amount_refunded"] == "37.50"
    assert answer["preview"]["data"]["lines"] == [{"id": shirt, "quantity": 3}]
    assert len(answer["order"]["lines"]) == 2


BAD: list[tuple[str, Callable[[int, int], dict[str, Any]], int, str, str]] = [
    # name, body from (shirt line, mug line), status, error code, words in the message
    ("quantity 0", lambda s, m: {"lines": [{"id": s, "quantity": 0}]}, 422,
     "validation_error", "lines"),
    ("more than the line has", lambda s, m: {"lines": [{"id": s, "quantity": 4}]}, 422,
     "invalid_input", "it has 3 unit(s) left"),
    ("unknown line", lambda s, m: {"lines": [{"id": 999999, "quantity": 1}]}, 422,
     "invalid_input", "has no line 999999"),
    ("both line_ids and lines", lambda s, m: {"line_ids": [m],
                                              "lines": [{"id": s, "quantity": 1}]},
     422, "invalid_input", "line_ids or lines, not both"),
    ("a line named twice", lambda s, m: {"lines": [{"id": s, "quantity": 1},
                                                   {"id": s, "quantity": 1}]},
     422, "invalid_input", "named twice"),
    ("quantity not a number", lambda s, m: {"lines": [{"id": s, "quantity": "1"}]}, 422,
     "validation_error", "lines"),
    ("no quantity", lambda s, m: {"lines": [{"id": s}]}, 422, "validation_error", "lines"),
]


@pytest.mark.parametrize("path", ["cancel", "refund", "cancel-and-refund",
                                  "refund?dry_run=true"])
@pytest.mark.parametrize("case", BAD, ids=[case[0] for case in BAD])
def test_bad_line_choices_are_one_clear_error_and_change_nothing(
        mill: Ordermill, api: Any, shirts: None, order_factory: Callable[..., Order],
        error_of: Callable[..., dict[str, Any]], unchanged: Callable[..., Any],
        path: str, case: tuple[str, Callable[..., Any], int, str, str]) -> None:
    _name, body_of, status, code, words = case
    order = order_factory([("TSHIRT", 3), ("MUG", 1)], paid=True)
    body = body_of(line_of(order, "TSHIRT"), line_of(order, "MUG"))
    same = unchanged()
    error = error_of(api.post(f"orders/{order.number}/{path}", json=body), status, code)
    assert words in error["message"], error
    same()


def test_units_of_a_closed_line_cannot_be_cancelled(
        mill: Ordermill, api: Any, shirts: None, order_factory: Callable[..., Order],
        staff: Actor, error_of: Callable[..., dict[str, Any]],
        unchanged: Callable[..., Any]) -> None:
    order = order_factory([("TSHIRT", 3), ("MUG", 1)], paid=True)
    mug = line_of(order, "MUG")
    mill.orders.cancel(order.number, actor=staff, line_ids=[mug])
    same = unchanged()
    error = error_of(api.post(f"orders/{order.number}/cancel",
                              json={"lines": [{"id": mug, "quantity": 1}]}),
                     409, "line_already_closed")
    assert "already cancelled" in error["message"]
    same()


def test_openapi_documents_lines_with_quantities(api: Any) -> None:
    spec = api.get("/api/v1/openapi.json", role=None).get_json()
    schemas = spec["components"]["schemas"]
    for name in ("CancelIn", "RefundIn", "CancelAndRefundIn"):
        properties = schemas[name]["properties"]
        assert {"line_ids", "lines"} <= set(properties), name
    line = schemas["LineQuantityIn"]
    assert set(line["required"]) == {"id", "quantity"}
    assert line["properties"]["quantity"]["minimum"] == 1
