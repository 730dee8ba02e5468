"""Issue 10 item 17 in the admin: the accept dialog asks for a username and password per
service line when an order has several, keeps what the admin chose, and the order page
never shows a password (the history says "set")."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from adminkit import Admin
from sqlalchemy import select

from ordermill.core.app import Ordermill
from ordermill.core.requests import LineRequest
from ordermill.core.specs import Actor
from ordermill.plugins.provisioning import ProvisionedService, servers, vault
from ordermill.testing import order_request

SECRET_ONE = "Admin-Chosen#1"
SECRET_TWO = "Admin-Chosen#2"


@pytest.fixture
def ordermill_settings_overrides() -> dict[str, Any]:
    return {"plugins": {"provisioning": {"modules": {"webhook": {"secret": "s", "timeout": 1}}}}}


def test_accept_dialog_takes_credentials_per_service_line(
        admin: Admin, mill: Ordermill, staff: Actor, make_product: Callable[..., Any]) -> None:
    make_product("HOST", name="Web hosting", price=900, stock=None, kind="service",
                 provisioning_module="webhook")
    servers.create_server(mill, {"name": "panel-1", "module": "webhook",
                                 "hostname": "http://127.0.0.1:9/panel",
                                 "credentials": {"secret": "x"}}, actor=staff)
    order = mill.orders.place(order_request([
        LineRequest(sku="HOST", domain="one.org"), LineRequest(sku="HOST", domain="two.org"),
    ]), actor=staff).order
    first, second = (line.id for line in order.lines)
    dialog = admin.get(f"/admin/orders/{order.number}/accept").get_data(as_text=True)
    assert f'name="line_password_{first}"' in dialog and f'name="line_username_{second}"' \
        in dialog
    done = admin.post(f"/admin/orders/{order.number}/accept", {
        "version": order.version, "has_options": "1", "autosetup": "on",
        f"line_username_{first}": "oneuser", f"line_password_{first}": SECRET_ONE,
        f"line_username_{second}": "twouser", f"line_password_{second}": SECRET_TWO})
    assert done.status_code == 303, done.get_data(as_text=True)
    with mill.read_session() as session:
        made = session.scalars(select(ProvisionedService)
                               .order_by(ProvisionedService.line_id)).all()
    assert [(s.line_id, s.username) for s in made] == [(first, "oneuser"), (second, "twouser")]
    assert [vault.decrypt(mill.settings.secret_key, s.password) for s in made] == [
        SECRET_ONE, SECRET_TWO]
    page = admin.get(f"/admin/orders/{order.number}").get_data(as_text=True)
    assert SECRET_ONE not in page and SECRET_TWO not in page
    accepted = mill.orders.history(order.number)[-1]
    assert accepted.data["options"]["lines"][str(first)] == {"username": "oneuser",
                                                            "password": "set"}
