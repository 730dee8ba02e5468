"""The order fields and list filters plugins add, over the API: placing takes a plugin's fields
(checked by its marshmallow field, stored in order.plugin_data before validate_order), any
other unknown field stays a 422; the list and CSV export take a plugin's filters, a bad value
is a 422; the OpenAPI document shows both, for the plugins of this app only."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest
from marshmallow import fields, validate
from sqlalchemy import Select, exists

from ordermill import hookimpl
from ordermill.core.admin_specs import FilterSpec, RequestField
from ordermill.core.app import Ordermill
from ordermill.core.context import ActionContext
from ordermill.core.errors import InvalidInput, PluginConflict
from ordermill.core.models import Order, OrderLine
from ordermill.core.queries import OrderFilters, search_orders
from ordermill.core.specs import Actor


class GiftWrap:
    """Two request fields; refuses links in the note, remembering what validate_order saw."""

    def __init__(self) -> None:
        self.validated: list[dict[str, Any]] = []

    @hookimpl
    def order_request_fields(self) -> list[RequestField]:
        return [RequestField("gift_note", fields.String(validate=validate.Length(max=40)),
                             label="Gift note"),
                RequestField("wrap_colour", fields.String(
                    validate=validate.OneOf(["red", "gold"]), required=True))]

    @hookimpl
    def validate_order(self, order: Order, ctx: ActionContext) -> None:
        self.validated.append(dict(order.plugin_data))
        note = order.plugin_data.get("giftwrap", {}).get("gift_note", "")
        if "http" in note:
            raise InvalidInput("A gift note may not contain links.")


def with_tickets(query: Select[Any], value: str) -> Select[Any]:
    has_tickets = exists().where(OrderLine.order_id == Order.id, OrderLine.kind == "ticket")
    return query.where(has_tickets if value == "yes" else ~has_tickets)


def by_buyer_domain(query: Select[Any], value: str) -> Select[Any]:
    if "@" in value:
        raise InvalidInput("Give the domain without the @.")
    return query.where(Order.buyer_email.endswith(f"@{value}"))


class Filters:
    @hookimpl
    def order_list_filters(self) -> list[FilterSpec]:
        return [FilterSpec("tickets", "Tickets", with_tickets,
                           choices=[("yes", "With tickets"), ("no", "Without tickets")]),
                FilterSpec("buyer_domain", "Buyer's domain", by_buyer_domain)]


@pytest.fixture
def catalogue(make_product: Callable[..., Any]) -> None:
    make_product("TSHIRT", price=2000, stock=50)
    make_product("TICKET", price=4500, stock=50, kind="ticket")


# ---------------------------------------------------------------------------- fields


def test_hook_order_request_fields_are_read_stored_and_seen_by_validate_order(
        mill: Ordermill, api: Any, catalogue: None, place_body: Callable[..., Any],
        register_plugin: Callable[..., Any], error_of: Callable[..., Any],
        unchanged: Callable[[], Callable[[], None]]) -> None:
    plugin = register_plugin(GiftWrap(), name="giftwrap")
    body = place_body(("TSHIRT", 1), gift_note="Happy birthday!", wrap_colour="gold")
    placed = api.post("orders", json=body)
    assert placed.status_code == 201, placed.get_json()
    order = placed.get_json()["order"]
    expected = {"giftwrap": {"gift_note": "Happy birthday!", "wrap_colour": "gold"}}
    assert order["plugin_data"] == expected
    assert plugin.validated == [expected]  # set before validate_order ran
    assert mill.orders.get(order["number"]).plugin_data == expected
    assert api.get(f"orders/{order['number']}").get_json()["plugin_data"] == expected

    check = unchanged()
    refused = api.post("orders", json=place_body(("TSHIRT", 1), wrap_colour="red",
                                                  gift_note="see http://x"))
    assert "may not contain links" in error_of(refused, 422)["message"]
    bad = error_of(api.post("orders", json=place_body(
        ("TSHIRT", 1), wrap_colour="blue", gift_note="x" * 41, quantity_typo=1)), 422)
    problems = bad["details"]["fields"]
    assert set(problems) == {"wrap_colour", "gift_note", "quantity_typo"}  # all at once
    assert problems["quantity_typo"] == ["Unknown field."]
    missing = error_of(api.post("orders", json=place_body(("TSHIRT", 1))), 422)
    assert missing["details"]["fields"] == {
        "wrap_colour": ["Missing data for required field."]}
    check()


def test_request_fields_belong_to_the_plugins_of_this_app(
        mill: Ordermill, api: Any, catalogue: None, place_body: Callable[..., Any],
        register_plugin: Callable[..., Any], error_of: Callable[..., Any]) -> None:
    without = api.post("orders", json=place_body(("TSHIRT", 1), gift_note="Hi"))
    assert error_of(without, 422)["details"]["fields"] == {
        "gift_note": ["Unknown field."]}
    document = api.get("openapi.json", role=None).get_json()
    assert "gift_note" not in document["components"]["schemas"]["PlaceIn"]["properties"]


def test_the_openapi_document_shows_the_plugin_fields_and_filters(
        mill: Ordermill, register_plugin: Callable[..., Any], app_config: dict[str, Any]
        ) -> None:
    from ordermill.web import create_app

    register_plugin(GiftWrap(), name="giftwrap")
    register_plugin(Filters(), name="filters")
    document = create_app(mill, app_config).test_client().get(
        "/api/v1/openapi.json").get_json()
    place = document["components"]["schemas"]["PlaceIn"]
    assert place["properties"]["gift_note"] == {"type": "string", "maxLength": 40,
                                                "title": "Gift note"}
    assert place["properties"]["wrap_colour"]["enum"] == ["red", "gold"]
    assert "wrap_colour" in place["required"] and "gift_note" not in place["required"]
    for path in ("/api/v1/orders", "/api/v1/orders/export.csv"):
        parameters = {p["name"]: p for p in document["paths"][path]["get"]["parameters"]}
        assert parameters["tickets"]["schema"] == {"type": "string", "enum": ["yes", "no"]}
        assert parameters["buyer_domain"]["in"] == "query"
        assert "Buyer's domain" in parameters["buyer_domain"]["description"]


def test_a_request_field_may_not_take_a_name_the_request_has(
        mill: Ordermill, register_plugin: Callable[..., Any], app_config: dict[str, Any]
        ) -> None:
    from ordermill.web import create_app

    class Clash:
        @hookimpl
        def order_request_fields(self) -> list[RequestField]:
            return [RequestField("note", fields.String())]

    register_plugin(Clash(), name="clash")
    with pytest.raises(PluginConflict, match="clash registers order request field 'note'"):
        create_app(mill, app_config)  # fails at start, naming the plugin


# ---------------------------------------------------------------------------- filters


def test_hook_order_list_filters_narrow_the_list_and_the_export(
        mill: Ordermill, api: Any, catalogue: None, order_factory: Callable[..., Order],
        register_plugin: Callable[..., Any], error_of: Callable[..., Any], staff: Actor
        ) -> None:
    register_plugin(Filters(), name="filters")
    shirt = order_factory([("TSHIRT", 1)], email="ann@shop.example")
    ticket = order_factory([("TICKET", 2)], email="bob@other.example")
    both = order_factory([("TSHIRT", 1), ("TICKET", 1)], email="cy@shop.example")

    def listed(query: str) -> set[str]:
        answer = api.get(f"orders?{query}")
        assert answer.status_code == 200, answer.get_json()
        return {row["number"] for row in answer.get_json()["orders"]}

    assert listed("tickets=yes") == {ticket.number, both.number}
    assert listed("tickets=no") == {shirt.number}
    assert listed("tickets=yes&buyer_domain=shop.example") == {both.number}
    assert listed("tickets=no&status=cancelled") == set()
    exported = api.get("orders/export.csv?tickets=yes&sort=placed_at")
    assert exported.status_code == 200
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert [row["number"] for row in rows] == [ticket.number, both.number]

    refused = error_of(api.get("orders?tickets=maybe"), 422)
    assert "Tickets: 'maybe' is not one of yes, no." in str(refused["details"])
    twice = error_of(api.get("orders?tickets=yes&tickets=no"), 422)
    assert "Give this parameter once." in str(twice["details"])
    from_apply = error_of(api.get("orders/export.csv?buyer_domain=@x"), 422)
    assert from_apply["message"] == "Give the domain without the @."
    # the core applies them the same way for any caller
    page = search_orders(mill, OrderFilters(plugin_filters=(("tickets", "no"),)), actor=staff)
    assert [order.number for order in page.items] == [shirt.number]
    with pytest.raises(InvalidInput, match="Unknown order filter 'colour'"):
        search_orders(mill, OrderFilters(plugin_filters=(("colour", "red"),)), actor=staff)


def test_without_the_plugin_its_filter_is_an_unknown_parameter(
        mill: Ordermill, api: Any, error_of: Callable[..., Any]) -> None:
    refused = error_of(api.get("orders?tickets=yes"), 422)
    assert refused["details"]["fields"] == {"tickets": ["Unknown field."]}


def test_a_filter_that_fails_names_its_plugin(
        mill: Ordermill, api: Any, register_plugin: Callable[..., Any],
        error_of: Callable[..., Any]) -> None:
    class Broken:
        @hookimpl
        def order_list_filters(self) -> list[FilterSpec]:
            def explode(query: Select[Any], value: str) -> Select[Any]:
                raise RuntimeError("database of points is down")

            return [FilterSpec("points", "Points", explode)]

    register_plugin(Broken(), name="broken")
    refused = error_of(api.get("orders?points=10"), 502)
    assert "broken" in refused["message"] and "database of points is down" in \
        refused["message"]
