"""core.admin_specs: what the order-page, settings, placing and list hooks return is checked
as it is collected, so a plugin's mistake is an error naming the plugin, not a broken page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from marshmallow import fields

from ordermill import hookimpl
from ordermill.core.admin_specs import (
    FilterSpec,
    OrderButton,
    OrderPanel,
    RequestField,
    SettingField,
    SettingsPage,
    list_filters,
    order_buttons,
    order_panels,
    plugin_data_of,
    request_fields,
)
from ordermill.core.app import Ordermill
from ordermill.core.errors import InvalidInput, PluginError
from ordermill.core.models import Order
from ordermill.core.specs import Actor

ADMIN = Actor(kind="user", name="a@shop.test", role="admin")
SUPPORT = Actor(kind="user", name="s@shop.test", role="support")


def test_a_returned_object_that_is_no_spec_names_the_plugin(
        mill: Ordermill, register_plugin: Callable[..., Any]) -> None:
    class Sloppy:
        @hookimpl
        def admin_order_panels(self) -> list[Any]:
            return [{"title": "Not a spec"}]

    register_plugin(Sloppy(), name="sloppy")
    with pytest.raises(PluginError, match=r"sloppy.*not a OrderPanel"):
        order_panels(mill, Order(number="1234567890", status="pending"), ADMIN)


def test_one_spec_may_be_returned_alone_and_buttons_follow_permissions(
        mill: Ordermill, register_plugin: Callable[..., Any]) -> None:
    class Single:
        @hookimpl
        def admin_order_panels(self) -> OrderPanel:
            return OrderPanel("One", "one.html", package="single")

        @hookimpl
        def admin_order_actions(self) -> list[OrderButton]:
            return [OrderButton("Refund points", "/points", permission="refund"),
                    OrderButton("Note", "/note", method="GET"),
                    OrderButton("Plugin-only", "/p", permission="loyalty_manage")]

    register_plugin(Single(), name="single")
    order = Order(number="1234567890", status="pending")
    assert [panel.title for _plugin, panel in order_panels(mill, order, ADMIN)] == ["One"]
    assert [b.label for _p, b in order_buttons(mill, order, ADMIN)] == [
        "Refund points", "Note"]  # nobody holds a permission no role grants
    assert [b.label for _p, b in order_buttons(mill, order, SUPPORT)] == ["Note"]
    assert [b.label for _p, b in order_buttons(mill, order, Actor.system("robot"))] == [
        "Refund points", "Note", "Plugin-only"]
    with pytest.raises(ValueError):
        OrderButton("Bad", "/x", method="delete")


def test_spec_names_are_checked_where_they_are_made() -> None:
    with pytest.raises(ValueError, match="lower-case"):
        RequestField("Gift Note", fields.String())
    with pytest.raises(ValueError, match="lower-case"):
        FilterSpec("has-tickets", "Tickets", lambda query, value: query)
    with pytest.raises(ValueError):
        SettingField("rate", "Rate", kind="slider")
    with pytest.raises(ValueError, match="twice"):
        SettingsPage("x", "X", [SettingField("a", "A"), SettingField("a", "B")])


def test_plugin_data_groups_values_by_plugin_in_json_form(
        mill: Ordermill, register_plugin: Callable[..., Any]) -> None:
    class Fields:
        @hookimpl
        def order_request_fields(self) -> list[RequestField]:
            return [RequestField("delivery_day", fields.Date()),
                    RequestField("boxes", fields.Integer())]

    class Filters:
        @hookimpl
        def order_list_filters(self) -> list[FilterSpec]:
            return [FilterSpec("any", "Any", lambda query, value: query)]

    register_plugin(Fields(), name="delivery")
    register_plugin(Filters(), name="filters")
    import datetime as dt

    assert set(request_fields(mill)) == {"delivery_day", "boxes"}
    assert plugin_data_of(mill, {"delivery_day": dt.date(2026, 12, 24), "boxes": 2}) == {
        "delivery": {"delivery_day": "2026-12-24", "boxes": 2}}
    with pytest.raises(InvalidInput, match="Unknown order field"):
        plugin_data_of(mill, {"colour": "red"})
    assert list(list_filters(mill)) == ["any", "sales"]  # "sales": built-in sales_managers
