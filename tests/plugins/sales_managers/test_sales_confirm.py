"""Issue 17, acceptance 2: confirming a sale needs `confirm_sales` (the sales_managers
plugin's permission, no longer the core's), may change the sales manager, writes one history
event, shows red then green in the admin, filters the order lists, and the report by sales
manager counts confirmed sales only. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import event, select

from ordermill.core.app import Ordermill
from ordermill.core.errors import PermissionDenied
from ordermill.core.i18n import use_locale
from ordermill.core.labels import event_message
from ordermill.core.models import Order, Product
from ordermill.core.permissions import PERMISSIONS
from ordermill.core.specs import Actor
from ordermill.core.staff import create_user
from ordermill.plugins.reports.definitions import parse_filters
from ordermill.plugins.reports.service import run_report
from ordermill.plugins.sales_managers import SalesConfirmation, confirm_sale, sale_state

PASSWORD = "correct horse battery"
STAFF = Actor(kind="user", name="admin@shop.test", role="admin", user_id=None)


@pytest.fixture
def people(mill: Ordermill) -> dict[str, int]:
    return {name: create_user(mill, email=f"{name}@shop.test", name=name.title(),
                              role="manager", password=PASSWORD).id
            for name in ("anna", "ben")}


@pytest.fixture
def sale(order_factory: Callable[..., Order], make_product: Callable[..., Product],
         people: dict[str, int]) -> str:
    make_product("MUG", price=1000, stock=20)
    return order_factory([("MUG", 2)], paid=True, sales_manager_id=people["anna"]).number


def confirmations(mill: Ordermill) -> list[int]:
    with mill.read_session() as session:
        return list(session.scalars(select(SalesConfirmation.order_id)))


def test_the_permission_is_the_plugins(mill: Ordermill) -> None:
    assert "confirm_sales" not in PERMISSIONS
    assert mill.permissions.owners["confirm_sales"].startswith("sales_managers")
    assert "confirm_sales" in mill.permissions.of("manager")
    assert "confirm_sales" not in mill.permissions.of("support")


def test_confirming_needs_confirm_sales(mill: Ordermill, sale: str, api_client: Any) -> None:
    events = len(mill.orders.history(sale))
    for role in ("support", "viewer"):
        refused = api_client.post(f"/api/v1/orders/{sale}/sale/confirm", json={}, role=role)
        assert refused.status_code == 403, role
        assert refused.get_json()["error"]["details"]["permission"] == "confirm_sales"
    support = Actor(kind="user", name="sam@shop.test", role="support")
    with pytest.raises(PermissionDenied):
        confirm_sale(mill, sale, actor=support)
    assert confirmations(mill) == [] and len(mill.orders.history(sale)) == events
    before = api_client.get(f"/api/v1/orders/{sale}/sale", role="support").get_json()
    assert before["confirmed"] is False and before["sales_manager"] == "Anna"

    done = api_client.post(f"/api/v1/orders/{sale}/sale/confirm", json={}, role="manager")
    assert done.status_code == 200, done.get_json()
    answer = done.get_json()
    assert answer["confirmed"] is True and answer["sales_manager"] == "Anna"
    assert answer["confirmed_by"].startswith("token:")
    [event] = [e for e in mill.orders.history(sale) if e.type == "sale_confirmed"]
    assert event.message == "Sale confirmed: sales manager Anna."
    with use_locale("fr"):
        assert event_message(event, mill) == "Vente confirmée : responsable des ventes Anna."
    again = api_client.post(f"/api/v1/orders/{sale}/sale/confirm", json={}, role="manager")
    assert again.status_code == 409
    assert "already confirmed" in again.get_json()["error"]["message"]
    assert len([e for e in mill.orders.history(sale) if e.type == "sale_confirmed"]) == 1


def test_confirming_may_change_the_manager(mill: Ordermill, sale: str, people: dict[str, int],
                                           api_client: Any) -> None:
    unknown = api_client.post(f"/api/v1/orders/{sale}/sale/confirm",
                              json={"sales_manager_id": 99999}, role="manager")
    assert unknown.status_code == 422 and confirmations(mill) == []
    moved = api_client.post(f"/api/v1/orders/{sale}/sale/confirm",
                            json={"sales_manager_id": people["ben"], "comment": "Phoned"},
                            role="manager").get_json()
    assert moved["sales_manager"] == "Ben" and moved["sales_manager_id"] == people["ben"]
    assert mill.orders.get(sale).sales_manager_id == people["ben"]
    [event] = [e for e in mill.orders.history(sale) if e.type == "sale_confirmed"]
    assert event.message == "Sale confirmed: sales manager changed from Anna to Ben."
    with use_locale("uk"):
        assert event_message(event, mill) == (
            "Продаж підтверджено: менеджера з продажу змінено з Anna на Ben.")
    assert event.comment == "Phoned"
    assert event.data == {"sales_manager_id": people["ben"],
                          "previous_sales_manager_id": people["anna"]}


def test_the_manager_report_counts_confirmed_sales_only(
    mill: Ordermill, sale: str, order_factory: Callable[..., Order], people: dict[str, int],
) -> None:
    other = order_factory([("MUG", 1)], paid=True, sales_manager_id=people["anna"]).number

    def anna() -> list[tuple[int, int]]:
        result = run_report(mill, "managers", parse_filters({}), actor=STAFF)
        return [(row["orders"], row["gross"]) for row in result.rows]

    assert anna() == []
    confirm_sale(mill, sale, actor=STAFF)
    assert anna() == [(1, 2000)]
    confirm_sale(mill, other, actor=STAFF)
    assert anna() == [(2, 3000)]


def test_the_unconfirmed_sales_filter(mill: Ordermill, sale: str, api_client: Any,
                                      admin_client: Any) -> None:
    listed = api_client.get("/api/v1/orders?sales=unconfirmed", role="viewer").get_json()
    assert [order["number"] for order in listed["orders"]] == [sale]
    assert api_client.get("/api/v1/orders?sales=maybe", role="viewer").status_code == 422
    page = admin_client.get("/admin/orders?sales=unconfirmed").get_data(as_text=True)
    assert sale in page
    confirm_sale(mill, sale, actor=STAFF)
    assert api_client.get("/api/v1/orders?sales=unconfirmed",
                          role="viewer").get_json()["orders"] == []
    assert sale not in admin_client.get("/admin/orders?sales=unconfirmed").get_data(True)
    confirmed = api_client.get("/api/v1/orders?sales=confirmed", role="viewer").get_json()
    assert [order["number"] for order in confirmed["orders"]] == [sale]


def test_the_admin_shows_red_then_green(mill: Ordermill, sale: str, people: dict[str, int],
                                        admin_login: Callable[..., Any]) -> None:
    support = admin_login("support")
    page = support.get(f"/admin/orders/{sale}").get_data(as_text=True)
    assert 'class="manager unconfirmed"' in page and "Check / Confirm" not in page
    refused = support.post(f"/admin/sales/orders/{sale}/confirm", {})
    assert refused.status_code == 403 and confirmations(mill) == []

    manager = admin_login("manager")
    page = manager.get(f"/admin/orders/{sale}").get_data(as_text=True)
    assert 'class="manager unconfirmed"' in page and "Check / Confirm" in page
    done = manager.post(f"/admin/sales/orders/{sale}/confirm",
                        {"sales_manager_id": str(people["ben"])})
    assert done.status_code == 303
    page = manager.get(f"/admin/orders/{sale}").get_data(as_text=True)
    assert 'class="manager confirmed"' in page and "Ben" in page
    assert "Check / Confirm" not in page
    assert sale_state(mill, sale, actor=STAFF).sales_manager == "Ben"


def test_the_command_line(mill: Ordermill, sale: str, people: dict[str, int],
                          cli: Any) -> None:
    shown = cli("sales", "show", sale)
    assert shown.exit_code == 0 and shown.output.strip() == f"{sale}  Anna  unconfirmed"
    refused = cli("sales", "confirm", sale, "--manager", "nobody@shop.test")
    assert refused.exit_code == 1 and "nobody@shop.test" in refused.output
    assert confirmations(mill) == []
    done = cli("sales", "confirm", sale, "--manager", "system")
    assert done.exit_code == 0, done.output
    assert "system  confirmed by system:cli" in done.output
    assert mill.orders.get(sale).sales_manager_id is None


def test_a_sale_attributed_to_the_system_reads_system_in_each_language(
        mill: Ordermill, sale: str) -> None:
    manager = Actor(kind="user", name="mia@shop.test", role="manager")
    confirm_sale(mill, sale, actor=manager, manager_id=None)
    [event] = [e for e in mill.orders.history(sale) if e.type == "sale_confirmed"]
    assert event.message == "Sale confirmed: sales manager changed from Anna to system."
    with use_locale("fr"):
        assert event_message(event, mill) == (
            "Vente confirmée : responsable des ventes changé de Anna à système.")
    with use_locale("ru"):
        assert event_message(event, mill) == (
            "Продажа подтверждена: менеджер по продажам изменён с Anna на система.")  # noqa: RUF001


def test_the_order_page_reads_the_sale_once(mill: Ordermill, sale: str,
                                            admin_login: Callable[..., Any]) -> None:
    """The card and the Check / Confirm button show one reading of the sale."""
    manager = admin_login("manager")
    statements: list[str] = []

    def note(*args: Any) -> None:
        statements.append(args[2])

    event.listen(mill.engine, "before_cursor_execute", note)
    try:
        page = manager.get(f"/admin/orders/{sale}").get_data(as_text=True)
    finally:
        event.remove(mill.engine, "before_cursor_execute", note)
    assert 'class="manager unconfirmed"' in page and "Check / Confirm" in page
    assert sum("FROM sales_confirmation" in statement for statement in statements) == 1
