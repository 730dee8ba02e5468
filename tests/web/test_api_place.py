"""POST /api/v1/orders: placing, bad input (nothing stored), permissions, Idempotency-Key."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import func, select

from ordermill.core.app import Ordermill
from ordermill.core.models import IdempotencyRecord, Order, Product
from ordermill.web import create_app


@pytest.fixture
def shop(make_product: Callable[..., Any], make_promo: Callable[..., Any]) -> None:
    make_product("TSHIRT", price=1250, stock=5, category="apparel")
    make_product("MUG", price=800, stock=None, category="kitchen")
    make_product("YEN", price=1500, currency="JPY", stock=None)
    make_promo("SAVE10")


def order_count(mill: Ordermill) -> int:
    with mill.read_session() as session:
        return session.scalar(select(func.count()).select_from(Order)) or 0


def stock(mill: Ordermill, sku: str) -> int | None:
    with mill.read_session() as session:
        return session.scalar(select(Product.stock).where(Product.sku == sku))


def test_place_returns_201_with_the_order(mill: Ordermill, api: Any, shop: None,
                                          place_body: Callable[..., Any]) -> None:
    body = place_body(("TSHIRT", 2), ("MUG", 1), promo_code="SAVE10", note="Gift wrap",
                      customer_ip="203.0.113.9", affiliate="blog")
    body["customer"].update(phone="+33 1 23", billing_address={"city": "Lyon"},
                            language="fr")
    response = api.post("orders", json=body, role="support")
    assert response.status_code == 201, response.get_json()
    answer = response.get_json()
    assert answer["dry_run"] is False
    order = answer["order"]
    assert len(order["number"]) == 10 and order["number"].isdigit()
    assert order["status"] == "pending" and order["payment_status"] == "unpaid"
    assert order["subtotal"] == "33.00" and order["discount"] == "3.30"
    assert order["total"] == "29.70" and order["currency"] == "EUR"
    assert order["buyer"] == {"name": "Bea Buyer", "email": "bea@example.com",
                              "phone": "+33 1 23", "billing_address": {"city": "Lyon"},
                              "language": "fr", "vat_id": None}
    assert order["promo_code"] == "SAVE10" and order["customer_note"] == "Gift wrap"
    assert [line["sku"] for line in order["lines"]] == ["TSHIRT", "MUG"]
    assert order["invoices"][0]["amount"] == "29.70"
    assert order["history"][0]["type"] == "placed"
    assert order["history"][0]["actor"].startswith("token:")
    assert answer["event"]["type"] == "placed"
    assert answer["preview"]["status"] == {"from": None, "to": "pending"}
    assert stock(mill, "TSHIRT") == 3
    shown = api.get(f"orders/{order['number']}", role="viewer").get_json()
    # the same order; what each caller may do with it differs (a viewer may do nothing)
    assert "cancel" in order.pop("available_actions")
    assert shown.pop("available_actions") == []
    assert shown == order


def test_detail_carries_every_field_the_core_serializes(mill: Ordermill, api: Any, shop: None,
                                                        order_factory: Callable[..., Any]
                                                        ) -> None:
    """The output schema must not silently drop a field core/serialize.py adds."""
    from ordermill.core.serialize import order_to_dict

    order = order_factory([("TSHIRT", 1)], paid=True)
    shown = api.get(f"orders/{order.number}").get_json()
    expected = order_to_dict(mill.orders.get(order.number),
                             events=mill.orders.history(order.number))
    assert set(shown) == set(expected) | {"available_actions"}  # the caller's, web-side
    for key in ("lines", "invoices", "payments", "history"):
        assert [set(item) for item in shown[key]] == [set(item) for item in expected[key]]


def test_anonymous_storefront_checkout_acts_as_the_customer(mill: Ordermill, client: Any,
                                                            shop: None,
                                                            place_body: Callable[..., Any]
                                                            ) -> None:
    response = client.post("/api/v1/orders", json=place_body(("MUG", 1)))
    assert response.status_code == 201
    assert response.get_json()["event"]["actor"] == "customer:bea@example.com"


@pytest.mark.parametrize("extra", [
    {"lines": [{"sku": "MUG", "quantity": 1, "price_override": "1.00"}]},
    {"invoice_plan": ["4.00", "4.00"]},
    {"generate_invoice": False},
])
def test_staff_only_fields_are_refused_for_anonymous_buyers(
        client: Any, shop: None, place_body: Callable[..., Any], extra: dict[str, Any],
        error_of: Callable[..., Any], unchanged: Callable[..., Any]) -> None:
    same = unchanged()
    body = {**place_body(("MUG", 1)), **extra}
    error_of(client.post("/api/v1/orders", json=body), 403, "permission_denied")
    same()


def test_staff_may_override_prices_and_plan_invoices(api: Any, shop: None,
                                                     place_body: Callable[..., Any]) -> None:
    body = place_body(invoice_plan=["10.00", "5.00"])
    body["lines"] = [{"sku": "MUG", "quantity": 3, "price_override": "5.00",
                      "attendee": "Ann", "domain": "ann.example", "options": {"gift": True}}]
    response = api.post("orders", json=body, role="manager")
    assert response.status_code == 201, response.get_json()
    order = response.get_json()["order"]
    assert order["lines"][0]["unit_price"] == "5.00" and order["total"] == "15.00"
    assert order["lines"][0]["attendee"] == "Ann" and order["lines"][0]["options"] == {
        "gift": True}
    assert [inv["amount"] for inv in order["invoices"]] == ["10.00", "5.00"]


def test_public_checkout_can_be_switched_off(mill: Ordermill, shop: None,
                                             place_body: Callable[..., Any],
                                             error_of: Callable[..., Any],
                                             unchanged: Callable[..., Any]) -> None:
    client = create_app(mill, {"ORDERMILL_PUBLIC_CHECKOUT": False}).test_client()
    same = unchanged()
    error_of(client.post("/api/v1/orders", json=place_body(("MUG", 1))), 401,
             "unauthenticated")
    same()


def test_viewer_may_not_place(api: Any, shop: None, place_body: Callable[..., Any],
                              error_of: Callable[..., Any],
                              unchanged: Callable[..., Any]) -> None:
    same = unchanged()
    error = error_of(api.post("orders", json=place_body(("MUG", 1)), role="viewer"), 403,
                     "permission_denied")
    assert error["details"] == {"permission": "place_orders", "role": "viewer"}
    same()


def _without(body: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != key}


BAD_BODIES: list[tuple[str, Callable[[dict[str, Any]], dict[str, Any]], int, str, str]] = [
    ("no customer", lambda b: _without(b, "customer"), 422, "validation_error", "customer"),
    ("no lines", lambda b: _without(b, "lines"), 422, "validation_error", "lines"),
    ("empty lines", lambda b: {**b, "lines": []}, 422, "validation_error", "lines"),
    ("no payment method", lambda b: _without(b, "payment_method"), 422, "validation_error",
     "payment_method"),
    ("no e-mail", lambda b: {**b, "customer": {"name": "X"}}, 422, "validation_error",
     "customer.email"),
    ("bad e-mail", lambda b: {**b, "customer": {"name": "X", "email": "nope"}}, 422,
     "validation_error", "customer.email"),
    ("blank name", lambda b: {**b, "customer": {"name": "", "email": "a@b.example"}}, 422,
     "validation_error", "customer.name"),
    ("unknown sku", lambda b: {**b, "lines": [{"sku": "NOPE", "quantity": 1}]}, 422,
     "unknown_product", "NOPE"),
    ("negative quantity", lambda b: {**b, "lines": [{"sku": "MUG", "quantity": -1}]}, 422,
     "validation_error", "lines.0.quantity"),
    ("zero quantity", lambda b: {**b, "lines": [{"sku": "MUG", "quantity": 0}]}, 422,
     "validation_error", "lines.0.quantity"),
    ("fractional quantity", lambda b: {**b, "lines": [{"sku": "MUG", "quantity": 1.5}]}, 422,
     "validation_error", "lines.0.quantity"),
    ("quantity as text", lambda b: {**b, "lines": [{"sku": "MUG", "quantity": "2"}]}, 422,
     "validation_error", "lines.0.quantity"),
    ("float money", lambda b: {**b, "lines": [{"sku": "MUG", "price_override": 7.5}]}, 422,
     "validation_error", "not a JSON number"),
    ("integer money", lambda b: {**b, "lines": [{"sku": "MUG", "price_override": 7}]}, 422,
     "validation_error", "not a JSON number"),
    ("over-precise money", lambda b: {**b, "lines": [{"sku": "MUG",
                                                      "price_override": "7.505"}]}, 422,
     "invalid_input", "more than 2 decimal places"),
    ("over-precise yen", lambda b: {**b, "lines": [{"sku": "YEN",
                                                    "price_override": "15.5"}]}, 422,
     "invalid_input", "more than 0 decimal places"),
    ("negative money", lambda b: {**b, "lines": [{"sku": "MUG", "price_override": "-1.00"}]},
     422, "validation_error", "no sign"),
    ("money with symbol", lambda b: {**b, "lines": [{"sku": "MUG",
                                                     "price_override": "€1.00"}]},
     422, "validation_error", "lines.0.price_override"),
    ("unknown promo", lambda b: {**b, "promo_code": "FREE"}, 422, "invalid_input", "FREE"),
    ("unknown field", lambda b: {**b, "discount": "5.00"}, 422, "validation_error",
     "discount"),
    ("mixed currencies", lambda b: {**b, "lines": [{"sku": "MUG"}, {"sku": "YEN"}]}, 422,
     "invalid_input", "one currency"),
    ("name too long", lambda b: {**b, "customer": {"name": "x" * 201,
                                                   "email": "a@b.example"}}, 422,
     "validation_error", "customer.name"),
    ("body is a list", lambda b: [b], 422, "validation_error", "_schema"),
]


@pytest.mark.parametrize("case", BAD_BODIES, ids=[case[0] for case in BAD_BODIES])
def test_bad_input_is_a_clear_error_and_stores_nothing(
        mill: Ordermill, api: Any, shop: None, place_body: Callable[..., Any],
        case: tuple[str, Callable[..., Any], int, str, str], error_of: Callable[..., Any],
        unchanged: Callable[..., Any]) -> None:
    _name, change, status, code, mentions = case
    same = unchanged()
    response = api.post("orders", json=change(place_body(("MUG", 1))))
    error = error_of(response, status, code)
    assert mentions in error["message"] or mentions in str(error["details"])
    same()


def test_out_of_stock_is_409_and_reserves_nothing(mill: Ordermill, api: Any, shop: None,
                                                  place_body: Callable[..., Any],
                                                  error_of: Callable[..., Any],
                                                  unchanged: Callable[..., Any]) -> None:
    same = unchanged()
    error_of(api.post("orders", json=place_body(("MUG", 1), ("TSHIRT", 6))), 409,
             "out_of_stock")
    same()


def test_dry_run_place_previews_and_stores_nothing(mill: Ordermill, api: Any, shop: None,
                                                   place_body: Callable[..., Any],
                                                   unchanged: Callable[..., Any]) -> None:
    same = unchanged()
    response = api.post("orders?dry_run=true", json=place_body(("TSHIRT", 2)))
    assert response.status_code == 200
    answer = response.get_json()
    assert answer["dry_run"] is True and answer["order"] is None
    assert answer["preview"]["action"] == "place"
    assert answer["preview"]["status"]["to"] == "pending"
    same()


# ---------------------------------------------------------------- Idempotency-Key


def idempotency_rows(mill: Ordermill) -> int:
    with mill.read_session() as session:
        return session.scalar(select(func.count()).select_from(IdempotencyRecord)) or 0


def test_replay_with_the_same_key_returns_the_first_answer_and_one_order(
        mill: Ordermill, api: Any, shop: None, place_body: Callable[..., Any]) -> None:
    body = place_body(("TSHIRT", 2))
    headers = {"Idempotency-Key": "checkout-7f3a"}
    first = api.post("orders", json=body, headers=headers)
    assert first.status_code == 201
    reordered = {key: body[key] for key in reversed(list(body))}  # same JSON, other order
    second = api.post("orders", json=reordered, headers=headers)
    assert second.status_code == 201
    assert second.get_json() == first.get_json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert order_count(mill) == 1
    assert stock(mill, "TSHIRT") == 3
    assert idempotency_rows(mill) == 1


def test_same_key_with_a_different_body_is_422(mill: Ordermill, api: Any, shop: None,
                                               place_body: Callable[..., Any],
                                               error_of: Callable[..., Any],
                                               unchanged: Callable[..., Any]) -> None:
    headers = {"Idempotency-Key": "checkout-7f3a"}
    assert api.post("orders", json=place_body(("TSHIRT", 2)), headers=headers
                    ).status_code == 201
    same = unchanged()
    response = api.post("orders", json=place_body(("TSHIRT", 3)), headers=headers)
    error = error_of(response, 422, "idempotency_key_reused")
    assert error["details"] == {"idempotency_key": "checkout-7f3a"}
    same()


def test_different_keys_place_different_orders(mill: Ordermill, api: Any, shop: None,
                                               place_body: Callable[..., Any]) -> None:
    body = place_body(("MUG", 1))
    numbers = {api.post("orders", json=body, headers={"Idempotency-Key": key}
                        ).get_json()["order"]["number"] for key in ("a-1", "a-2")}
    assert len(numbers) == 2 and order_count(mill) == 2


def test_keys_are_per_caller(mill: Ordermill, api: Any, shop: None,
                             place_body: Callable[..., Any]) -> None:
    """Two staff members who happen to pick the same key do not get each other's order."""
    body = place_body(("MUG", 1))
    headers = {"Idempotency-Key": "same-key"}
    first = api.post("orders", json=body, headers=headers, role="admin").get_json()
    second = api.post("orders", json=body, headers=headers, role="manager").get_json()
    assert first["order"]["number"] != second["order"]["number"]


def test_a_refused_request_does_not_burn_the_key(mill: Ordermill, api: Any, shop: None,
                                                 place_body: Callable[..., Any]) -> None:
    headers = {"Idempotency-Key": "retry-me"}
    assert api.post("orders", json=place_body(("TSHIRT", 9)), headers=headers
                    ).status_code == 409
    assert idempotency_rows(mill) == 0
    assert api.post("orders", json=place_body(("TSHIRT", 1)), headers=headers
                    ).status_code == 201


def test_dry_run_ignores_the_key(mill: Ordermill, api: Any, shop: None,
                                 place_body: Callable[..., Any]) -> None:
    headers = {"Idempotency-Key": "k-dry"}
    assert api.post("orders?dry_run=true", json=place_body(("MUG", 1)), headers=headers
                    ).status_code == 200
    assert idempotency_rows(mill) == 0 and order_count(mill) == 0
    assert api.post("orders", json=place_body(("MUG", 1)), headers=headers).status_code == 201


@pytest.mark.parametrize("key", ["", "x" * 151, "has space", "tab\there"])
def test_malformed_keys_are_refused(mill: Ordermill, api: Any, shop: None,
                                    place_body: Callable[..., Any], key: str,
                                    error_of: Callable[..., Any],
                                    unchanged: Callable[..., Any]) -> None:
    same = unchanged()
    response = api.post("orders", json=place_body(("MUG", 1)),
                        headers={"Idempotency-Key": key})
    error = error_of(response, 422, "validation_error")
    assert "Idempotency-Key" in error["details"]["fields"]
    same()


def test_anonymous_replay(mill: Ordermill, client: Any, shop: None,
                          place_body: Callable[..., Any]) -> None:
    headers = {"Idempotency-Key": "storefront-cart-42"}
    first = client.post("/api/v1/orders", json=place_body(("MUG", 2)), headers=headers)
    second = client.post("/api/v1/orders", json=place_body(("MUG", 2)), headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.get_json() == second.get_json()
    assert order_count(mill) == 1


@pytest.mark.commits  # requests from several threads
def test_concurrent_retries_with_one_key_place_one_order(mill: Ordermill, app: Any,
                                                         tokens: dict[str, str], shop: None,
                                                         place_body: Callable[..., Any]
                                                         ) -> None:
    """A client that times out and retries while the first request still runs."""
    body = place_body(("TSHIRT", 1))
    headers = {"Idempotency-Key": "race-1", "Authorization": f"Bearer {tokens['support']}"}

    def post(_index: int) -> tuple[int, str]:
        response = app.test_client().post("/api/v1/orders", json=body, headers=headers)
        return response.status_code, response.get_json()["order"]["number"]

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(post, range(6)))
    assert {status for status, _number in answers} == {201}
    assert len({number for _status, number in answers}) == 1
    assert order_count(mill) == 1
    assert stock(mill, "TSHIRT") == 4
