"""The order fields and list filters plugins add, in the admin: Add New Order shows and stores
a plugin's fields (the order page lists them), the order list and its CSV export take a
plugin's filters, and a value a filter refuses is a message, never a server error."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest
from adminkit import Admin, flashes
from marshmallow import fields, validate
from sqlalchemy import Select, exists, func, select

from ordermill import hookimpl
from ordermill.core.admin_specs import FilterSpec, RequestField
from ordermill.core.app import Ordermill
from ordermill.core.models import Order, OrderLine

Factory = Callable[..., Order]
NEW_ORDER = {"name": "Cora Client", "email": "cora@example.com",
             "payment_method": "banktransfer", "sku": ["MUG"], "quantity": ["1"]}


class GiftWrap:
    @hookimpl
    def order_request_fields(self) -> list[RequestField]:
        return [RequestField("gift_note", fields.String(validate=validate.Length(max=20),
                                                        metadata={"description": "On the card."}),
                             label="Gift note"),
                RequestField("wrap_colour", fields.String(validate=validate.OneOf(["red",
                                                                                  "gold"]))),
                RequestField("express", fields.Boolean()),
                RequestField("boxes", fields.Integer(validate=validate.Range(min=1)))]


def with_tickets(query: Select[Any], value: str) -> Select[Any]:
    has_tickets = exists().where(OrderLine.order_id == Order.id, OrderLine.kind == "ticket")
    return query.where(has_tickets if value == "yes" else ~has_tickets)


class Filters:
    @hookimpl
    def order_list_filters(self) -> list[FilterSpec]:
        return [FilterSpec("tickets", "Tickets", with_tickets,
                           choices=[("yes", "With tickets"), ("no", "Without tickets")])]


def orders_count(mill: Ordermill) -> int:
    with mill.read_session() as session:
        return int(session.scalar(select(func.count()).select_from(Order)) or 0)


def test_add_new_order_takes_the_plugins_fields(
        admin: Admin, mill: Ordermill, shop: None, register_plugin: Callable[..., Any]
        ) -> None:
    register_plugin(GiftWrap(), name="giftwrap")
    page = admin.get("/admin/orders/new").get_data(as_text=True)
    assert 'data-testid="plugin-fields"' in page and "Gift note" in page
    assert 'name="field.gift_note"' in page and "On the card." in page
    assert '<select name="field.wrap_colour"' in page and '<option value="gold"' in page
    assert 'type="checkbox" name="field.express"' in page
    assert 'type="number" name="field.boxes"' in page

    before = orders_count(mill)
    refused = admin.post("/admin/orders/new", {**NEW_ORDER, "field.gift_note": "x" * 21})
    assert refused.status_code == 422
    assert "Gift note: Longer than maximum length 20." in refused.get_data(as_text=True)
    assert orders_count(mill) == before

    placed = admin.post("/admin/orders/new", {
        **NEW_ORDER, "field.gift_note": "Love, <Ann>", "field.wrap_colour": "red",
        "field.express": "on", "field.boxes": "2"})
    assert placed.status_code == 303, placed.get_data(as_text=True)
    order = mill.orders.get(placed.location.rsplit("/", 1)[1])
    assert order.plugin_data == {"giftwrap": {"gift_note": "Love, <Ann>",
                                              "wrap_colour": "red", "express": True,
                                              "boxes": 2}}
    shown = admin.get(placed.location).get_data(as_text=True)
    assert "Love, &lt;Ann&gt;" in shown and "(giftwrap)" in shown

    plain = admin.post("/admin/orders/new", NEW_ORDER)  # optional fields left out
    assert mill.orders.get(plain.location.rsplit("/", 1)[1]).plugin_data == {
        "giftwrap": {"express": False}}


def test_the_order_list_and_its_export_take_the_plugins_filters(
        admin: Admin, mill: Ordermill, shop: None, order_factory: Factory,
        register_plugin: Callable[..., Any]) -> None:
    register_plugin(Filters(), name="filters")
    shirt = order_factory([("TSHIRT", 1)])
    ticket = order_factory([("TICKET", 1)])
    listing = admin.get("/admin/orders").get_data(as_text=True)
    assert 'data-testid="plugin-filter"' in listing and '<option value="yes"' in listing

    filtered = admin.get("/admin/orders?tickets=yes").get_data(as_text=True)
    assert ticket.number in filtered and shirt.number not in filtered
    assert '<option value="yes" selected' in filtered
    exported = admin.get("/admin/orders/export.csv?tickets=no")
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert [row["number"] for row in rows] == [shirt.number]

    refused = admin.get("/admin/orders?tickets=maybe")
    assert refused.status_code == 422
    assert "Tickets: &#39;maybe&#39; is not one of yes, no." in refused.get_data(as_text=True)
    bad_export = admin.get("/admin/orders/export.csv?tickets=maybe")
    assert bad_export.status_code == 303
    assert bad_export.location == "/admin/orders?tickets=maybe"
    assert flashes(admin.get(bad_export.location).get_data(as_text=True)) == [
        "Tickets: &#39;maybe&#39; is not one of yes, no."]  # said once, by the list


@pytest.mark.parametrize("name", ["status", "from", "promo", "tab"])
def test_a_filter_may_not_take_a_name_the_lists_use(
        admin: Admin, mill: Ordermill, register_plugin: Callable[..., Any], name: str
        ) -> None:
    class Clash:
        @hookimpl
        def order_list_filters(self) -> list[FilterSpec]:
            return [FilterSpec(name, "Mine", lambda query, value: query)]

    register_plugin(Clash(), name="clash")
    response = admin.get("/admin/orders")
    assert response.status_code == 500  # a configuration fault: the message says whose
    assert f"order list filter {name!r}, a name ordermill itself uses" in \
        response.get_data(as_text=True).replace("&#39;", "'")
