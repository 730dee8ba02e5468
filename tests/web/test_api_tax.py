"""Tax through the JSON API: the order answer's money fields and adjustments, the VAT number
and billing country in the order request, the dry run's pricing, clear refusals."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ordermill.core.app import Ordermill


@pytest.fixture
def ordermill_settings_overrides() -> dict[str, Any]:
    return {"plugins": {"tax_rates": {"home_country": "FR",
                                      "rates": {"FR": {"standard": "20", "reduced": "5.5"}}}}}


@pytest.fixture
def shop(make_product: Callable[..., Any]) -> None:
    make_product("TSHIRT", price=2500, stock=10)
    make_product("TICKET", price=3000, stock=10, kind="ticket", tax_class="reduced")


def _body(place_body: Callable[..., Any], **customer: Any) -> dict[str, Any]:
    body = place_body(("TICKET", 2), ("TSHIRT", 1))
    body["customer"].update(customer)
    return body


def test_order_answer_has_tax_fields(api: Any, shop: None,
                                     place_body: Callable[..., Any]) -> None:
    response = api.post("orders", json=_body(place_body,
                                             billing_address={"country": "fr"}))
    assert response.status_code == 201, response.get_json()
    order = response.get_json()["order"]
    assert (order["subtotal"], order["discount"], order["fee_total"], order["tax_total"],
            order["total"], order["total_excl_tax"]) == (
        "85.00", "0.00", "0.00", "8.30", "93.30", "85.00")
    assert [(line["sku"], line["tax"], line["total"]) for line in order["lines"]] == [
        ("TICKET", "3.30", "63.30"), ("TSHIRT", "5.00", "30.00")]
    assert [(a["kind"], a["amount"], a["rate"], a["line_id"]) for a in order["adjustments"]] \
        == [("tax", "3.30", "5.5", order["lines"][0]["id"]),
            ("tax", "5.00", "20", order["lines"][1]["id"])]
    assert order["buyer"]["billing_address"] == {"country": "FR"}
    assert order["invoices"][0]["amount"] == "93.30"
    assert order["history"][0]["data"]["tax_total"] == "8.30"


def test_dry_run_shows_the_pricing(api: Any, shop: None,
                                   place_body: Callable[..., Any],
                                   unchanged: Callable[..., Any]) -> None:
    same = unchanged()
    response = api.post("orders?dry_run=true",
                        json=_body(place_body, billing_address={"country": "FR"}))
    assert response.status_code == 200, response.get_json()
    pricing = response.get_json()["preview"]["pricing"]
    assert pricing["total"] == "93.30" and pricing["tax_total"] == "8.30"
    assert [a["label"] for a in pricing["adjustments"]] == ["VAT 5.5 %", "VAT 20 %"]
    same()


def test_reverse_charge_through_the_api(api: Any, shop: None,
                                        place_body: Callable[..., Any]) -> None:
    response = api.post("orders", json=_body(place_body, billing_address={"country": "DE"},
                                             vat_id="de136695976"))
    assert response.status_code == 201, response.get_json()
    order = response.get_json()["order"]
    assert order["buyer"]["vat_id"] == "DE136695976"
    assert (order["tax_total"], order["total"]) == ("0.00", "85.00")
    assert {a["code"] for a in order["adjustments"]} == {"reverse_charge"}


def test_invalid_vat_number_is_a_clear_error(mill: Ordermill, api: Any, shop: None,
                                             place_body: Callable[..., Any],
                                             error_of: Callable[..., Any],
                                             unchanged: Callable[..., Any]) -> None:
    same = unchanged()
    response = api.post("orders", json=_body(place_body, billing_address={"country": "DE"},
                                             vat_id="DE123456789"))
    error = error_of(response, 422, "invalid_input")
    assert "VAT number DE123456789 is not valid" in error["message"]
    assert error["details"]["field"] == "vat_id"
    same()


def test_unknown_billing_country_is_a_clear_error(api: Any, shop: None,
                                                  place_body: Callable[..., Any],
                                                  error_of: Callable[..., Any]) -> None:
    response = api.post("orders", json=_body(place_body,
                                             billing_address={"country": "Francia"}))
    error = error_of(response, 422, "invalid_input")
    assert "two-letter ISO 3166-1 code" in error["message"]
    assert error["details"]["field"] == "billing_address.country"
