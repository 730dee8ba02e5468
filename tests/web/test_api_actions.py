"""Every order action over HTTP: success, permission per role, bad input, unknown orders,
illegal transitions and stale versions; every refusal a JSON error that changed nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import pytest

from ordermill import hookimpl
from ordermill.core.app import Ordermill
from ordermill.core.models import Order
from ordermill.core.permissions import ROLES
from ordermill.core.specs import Actor

ROLE_NAMES = ("admin", "manager", "support", "viewer")


@pytest.fixture
def shop(make_product: Callable[..., Any]) -> None:
    make_product("TSHIRT", price=1250, stock=20, category="apparel")
    make_product("MUG", price=800, stock=None, category="kitchen")


@pytest.fixture
def make_order(mill: Ordermill, shop: None, order_factory: Callable[..., Order],
               staff: Actor) -> Callable[[str], Order]:
    """make_order(state) with state pending, partly_paid, paid, active, fraud or cancelled."""

    def make(state: str = "pending") -> Order:
        order = order_factory([("TSHIRT", 2), ("MUG", 1)], paid=state in ("paid", "active"),
                              accepted=state == "active")
        if state == "partly_paid":
            mill.orders.record_payment(order.number, actor=staff, amount=1000)
        elif state == "fraud":
            mill.orders.mark_fraud(order.number, actor=staff)
        elif state == "cancelled":
            mill.orders.cancel(order.number, actor=staff)
        return mill.orders.get(order.number)

    return make


@attrs.frozen
class ActionCase:
    name: str
    method: str
    path: str  # "{n}" is the order number
    body: dict[str, Any] | None
    permission: str
    state: str
    check: Callable[[dict[str, Any]], bool]


def _status(status: str) -> Callable[[dict[str, Any]], bool]:
    return lambda answer: answer["order"]["status"] == status


ACTIONS = [
    ActionCase("accept", "POST", "orders/{n}/accept", {"options": {"server": "s1"}},
               "edit_orders", "pending", _status("active")),
    ActionCase("cancel", "POST", "orders/{n}/cancel", {}, "edit_orders", "pending",
               _status("cancelled")),
    ActionCase("refund", "POST", "orders/{n}/refund", {}, "refund", "paid",
               lambda a: a["order"]["payment_status"] == "refunded"),
    ActionCase("cancel-and-refund", "POST", "orders/{n}/cancel-and-refund", {}, "refund",
               "paid", lambda a: a["preview"]["amount_refunded"] == "33.00"),
    ActionCase("fraud", "POST", "orders/{n}/fraud", {}, "manage_fraud", "pending",
               _status("fraud")),
    ActionCase("pending", "POST", "orders/{n}/pending", {}, "manage_fraud", "fraud",
               _status("pending")),
    ActionCase("status", "POST", "orders/{n}/status", {"status": "completed"}, "edit_orders",
               "active", _status("completed")),
    ActionCase("payments", "POST", "orders/{n}/payments",
               {"amount": "10.00", "fee": "0.50", "reference": "CHQ-1"}, "record_payments",
               "pending", lambda a: a["order"]["payment_status"] == "partially_paid"
               and a["order"]["payments"][0]["net"] == "9.50"),
    ActionCase("mark-paid", "POST", "orders/{n}/mark-paid", {}, "record_payments", "pending",
               lambda a: a["order"]["payment_status"] == "paid"),
    ActionCase("lines", "POST", "orders/{n}/lines", {"lines": [{"sku": "MUG", "quantity": 2}]},
               "edit_orders", "pending", lambda a: a["order"]["total"] == "49.00"),
    ActionCase("comments", "POST", "orders/{n}/comments",
               {"text": "Shipped tomorrow", "notify_customer": True}, "edit_orders", "pending",
               lambda a: a["event"]["comment"] == "Shipped tomorrow"
               and a["event"]["visible_to_customer"] is True),
    ActionCase("dispatch", "POST", "orders/{n}/dispatch", {"at": "2024-05-01T10:00:00+02:00"},
               "edit_orders", "paid",
               lambda a: a["order"]["dispatched_at"].startswith("2024-05-01T08:00")),
    ActionCase("deliver", "POST", "orders/{n}/deliver", {}, "edit_orders", "paid",
               lambda a: a["order"]["delivered_at"] is not None),
    ActionCase("edit buyer", "PATCH", "orders/{n}", {"name": "Bea Smith",
                                                     "email": "bea.smith@example.com"},
               "edit_orders", "pending",
               lambda a: a["order"]["buyer"]["email"] == "bea.smith@example.com"),
    ActionCase("delete", "DELETE", "orders/{n}?restock=true", None, "delete_orders", "pending",
               lambda a: a["order"] is None and a["event"]["type"] == "deleted"),
    ActionCase("bulk status", "POST", "orders/bulk-status",
               {"numbers": ["{n}"], "status": "cancelled"}, "bulk_change", "pending",
               lambda a: len(a["changed"]) == 1),
    ActionCase("show", "GET", "orders/{n}", None, "view_orders", "pending",
               lambda a: a["history"][0]["type"] == "placed"),
]


def _fill(value: Any, number: str) -> Any:
    if isinstance(value, str):
        return value.replace("{n}", number)
    if isinstance(value, list):
        return [_fill(item, number) for item in value]
    if isinstance(value, dict):
        return {key: _fill(item, number) for key, item in value.items()}
    return value


def call(api: Any, case: ActionCase, number: str, role: str = "admin", **kwargs: Any) -> Any:
    path = _fill(case.path, number)
    if case.body is not None:
        kwargs.setdefault("json", _fill(case.body, number))
    return api.request(case.method, path, role=role, **kwargs)


@pytest.mark.parametrize("case", ACTIONS, ids=[case.name for case in ACTIONS])
def test_action_per_role(mill: Ordermill, api: Any, make_order: Callable[[str], Order],
                         case: ActionCase, error_of: Callable[..., Any],
                         unchanged: Callable[..., Any]) -> None:
    """Roles whose permissions include the action's succeed; the others get a 403 naming the
    permission, and nothing changes."""
    for role in ROLE_NAMES:
        order = make_order(case.state)
        if case.permission in ROLES[role]:
            response = call(api, case, order.number, role)
            assert response.status_code == 200, (role, response.get_json())
            assert case.check(response.get_json()), (role, response.get_json())
        else:
            same = unchanged()
            error = error_of(call(api, case, order.number, role), 403, "permission_denied")
            assert error["details"] == {"permission": case.permission, "role": role}
            same()


@pytest.mark.parametrize("case", ACTIONS, ids=[case.name for case in ACTIONS])
def test_action_needs_authentication(client: Any, make_order: Callable[[str], Order],
                                     case: ActionCase, error_of: Callable[..., Any],
                                     unchanged: Callable[..., Any]) -> None:
    order = make_order(case.state)
    same = unchanged()
    path = "/api/v1/" + _fill(case.path, order.number)
    body = _fill(case.body, order.number) if case.body is not None else None
    error_of(client.open(path, method=case.method, json=body), 401, "unauthenticated")
    same()


@pytest.mark.parametrize("case", [c for c in ACTIONS if c.name != "bulk status"],
                         ids=[c.name for c in ACTIONS if c.name != "bulk status"])
def test_unknown_order_number_is_404(api: Any, shop: None, case: ActionCase,
                                     error_of: Callable[..., Any],
                                     unchanged: Callable[..., Any]) -> None:
    same = unchanged()
    for number in ("4000000001", "12345", "not-a-number"):
        error = error_of(call(api, case, number), 404, "order_not_found")
        assert number in error["message"]
    same()


def test_bulk_status_reports_unknown_numbers_as_skipped(api: Any,
                                                        make_order: Callable[[str], Order]
                                                        ) -> None:
    pending, cancelled = make_order("pending"), make_order("cancelled")
    answer = api.post("orders/bulk-status", json={
        "numbers": [pending.number, cancelled.number, "4000000001"], "status": "active"}
    ).get_json()
    assert answer["changed"] == [pending.number]
    assert set(answer["skipped"]) == {cancelled.number, "4000000001"}
    assert answer["skipped"]["4000000001"] == "no such order"


ILLEGAL = [
    ("accept a cancelled order", "cancelled", "POST", "orders/{n}/accept", {},
     "illegal_transition"),
    ("accept an active order", "active", "POST", "orders/{n}/accept", {},
     "illegal_transition"),
    ("cancel a cancelled order", "cancelled", "POST", "orders/{n}/cancel", {},
     "illegal_transition"),
    ("refund an unpaid order", "pending", "POST", "orders/{n}/refund", {}, "over_refund"),
    ("refund more than captured", "partly_paid", "POST", "orders/{n}/refund",
     {"amount": "10.01"}, "over_refund"),
    ("fraud a cancelled order", "cancelled", "POST", "orders/{n}/fraud", {},
     "illegal_transition"),
    ("cancel-and-refund a cancelled order", "cancelled", "POST",
     "orders/{n}/cancel-and-refund", {}, "illegal_transition"),
    ("mark a paid order paid", "paid", "POST", "orders/{n}/mark-paid", {},
     "action_not_allowed"),
    ("add lines to a cancelled order", "cancelled", "POST", "orders/{n}/lines",
     {"lines": [{"sku": "MUG"}]}, "action_not_allowed"),
    ("dispatch a cancelled order", "cancelled", "POST", "orders/{n}/dispatch", {},
     "action_not_allowed"),
    ("delete a paid order", "paid", "DELETE", "orders/{n}?restock=true", None,
     "action_not_allowed"),
    ("set an unknown status", "pending", "POST", "orders/{n}/status", {"status": "lost"},
     "illegal_transition"),
    ("status refunded without refunding", "active", "POST", "orders/{n}/status",
     {"status": "refunded"}, "action_not_allowed"),
    ("bulk-refund by status", "active", "POST", "orders/bulk-status",
     {"numbers": ["{n}"], "status": "refunded"}, None),
]


@pytest.mark.parametrize("case", ILLEGAL, ids=[case[0] for case in ILLEGAL])
def test_illegal_transition_is_409_and_changes_nothing(
        api: Any, make_order: Callable[[str], Order],
        case: tuple[str, str, str, str, dict[str, Any] | None, str | None],
        error_of: Callable[..., Any], unchanged: Callable[..., Any]) -> None:
    _name, state, method, path, body, code = case
    order = make_order(state)
    same = unchanged()
    response = api.request(method, _fill(path, order.number),
                           json=_fill(body, order.number) if body is not None else None)
    if code is None:  # bulk changes report refusals per order instead of failing
        assert response.status_code == 200
        assert list(response.get_json()["skipped"]) == [order.number]
    else:
        error_of(response, 409, code)
    same()


@pytest.mark.parametrize("case", [c for c in ACTIONS if c.method != "GET"
                                  and c.name not in ("delete", "bulk status")],
                         ids=[c.name for c in ACTIONS if c.method != "GET"
                              and c.name not in ("delete", "bulk status")])
def test_stale_version_is_409_and_changes_nothing(api: Any,
                                                  make_order: Callable[[str], Order],
                                                  case: ActionCase,
                                                  error_of: Callable[..., Any],
                                                  unchanged: Callable[..., Any]) -> None:
    order = make_order(case.state)
    same = unchanged()
    body = {**_fill(case.body, order.number), "expected_version": order.version + 1}
    error = error_of(call(api, case, order.number, json=body), 409, "stale_version")
    assert error["details"]["current_version"] == order.version
    same()


def test_delete_with_a_stale_version_is_409(api: Any, make_order: Callable[[str], Order],
                                            error_of: Callable[..., Any],
                                            unchanged: Callable[..., Any]) -> None:
    order = make_order("pending")
    same = unchanged()
    error_of(api.delete(f"orders/{order.number}?restock=true&expected_version=99"), 409,
             "stale_version")
    same()


def test_matching_version_is_accepted(api: Any, make_order: Callable[[str], Order]) -> None:
    order = make_order("pending")
    response = api.post(f"orders/{order.number}/accept",
                        json={"expected_version": order.version})
    assert response.status_code == 200
    assert response.get_json()["order"]["version"] == order.version + 1


BAD_INPUT = [
    ("refund float amount", "paid", "POST", "orders/{n}/refund", {"amount": 5.5},
     "validation_error", "amount"),
    ("refund over-precise amount", "paid", "POST", "orders/{n}/refund", {"amount": "5.555"},
     "invalid_input", "decimal places"),
    ("refund zero", "paid", "POST", "orders/{n}/refund", {"amount": "0"}, "invalid_input",
     "more than zero"),
    ("refund a line the order lacks", "paid", "POST", "orders/{n}/refund",
     {"line_ids": [999999]}, "invalid_input", "no line 999999"),
    ("cancel line ids not numbers", "pending", "POST", "orders/{n}/cancel",
     {"line_ids": ["a"]}, "validation_error", "line_ids"),
    ("payment without amount", "pending", "POST", "orders/{n}/payments", {},
     "validation_error", "amount"),
    ("payment as JSON number", "pending", "POST", "orders/{n}/payments", {"amount": 10},
     "validation_error", "not a JSON number"),
    ("negative payment", "pending", "POST", "orders/{n}/payments", {"amount": "-5.00"},
     "validation_error", "amount"),
    ("zero payment", "pending", "POST", "orders/{n}/payments", {"amount": "0.00"},
     "invalid_input", "more than zero"),
    ("fee above amount", "pending", "POST", "orders/{n}/payments",
     {"amount": "1.00", "fee": "2.00"}, "invalid_input", "fee"),
    ("payment to an unknown invoice", "pending", "POST", "orders/{n}/payments",
     {"amount": "1.00", "invoice_id": 999999}, "invalid_input", "invoice"),
    ("empty comment", "pending", "POST", "orders/{n}/comments", {"text": ""},
     "validation_error", "text"),
    ("blank comment", "pending", "POST", "orders/{n}/comments", {"text": "   "},
     "validation_error", "text"),  # the document states it (a pattern), as the answer does
    ("newline comment", "pending", "POST", "orders/{n}/comments", {"text": "\n"},
     "validation_error", "text"),
    ("no buyer change", "pending", "PATCH", "orders/{n}", {}, "invalid_input", "Nothing"),
    ("same buyer details", "pending", "PATCH", "orders/{n}", {"name": "Bea Buyer"},
     "invalid_input", "already"),
    ("bad buyer e-mail", "pending", "PATCH", "orders/{n}", {"email": "bea"},
     "validation_error", "email"),
    ("unknown buyer field", "pending", "PATCH", "orders/{n}", {"vip": True},
     "validation_error", "vip"),
    ("add an unknown sku", "pending", "POST", "orders/{n}/lines",
     {"lines": [{"sku": "NOPE"}]}, "unknown_product", "NOPE"),
    ("add a negative quantity", "pending", "POST", "orders/{n}/lines",
     {"lines": [{"sku": "MUG", "quantity": -2}]}, "validation_error", "quantity"),
    ("add no lines", "pending", "POST", "orders/{n}/lines", {"lines": []},
     "validation_error", "lines"),
    ("dispatch without time zone", "paid", "POST", "orders/{n}/dispatch",
     {"at": "2024-05-01T10:00:00"}, "validation_error", "at"),
    ("dispatch in year 1", "paid", "POST", "orders/{n}/dispatch",
     {"at": "0001-01-01T00:00:00+05:00"}, "validation_error", "at"),
    ("version as text", "pending", "POST", "orders/{n}/accept", {"expected_version": "1"},
     "validation_error", "expected_version"),
    ("delete without saying restock", "pending", "DELETE", "orders/{n}", None,
     "validation_error", "restock"),
    ("bulk without numbers", "pending", "POST", "orders/bulk-status",
     {"numbers": [], "status": "active"}, "validation_error", "numbers"),
    ("dry_run not a boolean", "pending", "POST", "orders/{n}/accept?dry_run=maybe", {},
     "validation_error", "dry_run"),
]


@pytest.mark.parametrize("case", BAD_INPUT, ids=[case[0] for case in BAD_INPUT])
def test_bad_input_is_422_and_changes_nothing(
        api: Any, make_order: Callable[[str], Order],
        case: tuple[str, str, str, str, dict[str, Any] | None, str, str],
        error_of: Callable[..., Any], unchanged: Callable[..., Any]) -> None:
    _name, state, method, path, body, code, mentions = case
    order = make_order(state)
    same = unchanged()
    response = api.request(method, _fill(path, order.number), json=body)
    error = error_of(response, 422, code)
    assert mentions in error["message"] or mentions in str(error["details"]), error
    same()


def test_partial_then_full_payment_and_a_line_refund(mill: Ordermill, api: Any,
                                                     make_order: Callable[[str], Order]
                                                     ) -> None:
    order = make_order("pending")
    n = order.number
    first = api.post(f"orders/{n}/payments", json={"amount": "13.00"}).get_json()
    assert first["preview"]["payment_status"] == {"from": "unpaid", "to": "partially_paid"}
    assert first["order"]["amount_due"] == "20.00"
    second = api.post(f"orders/{n}/payments", json={"amount": "20.00", "gateway": "cheque"})
    assert second.get_json()["order"]["payment_status"] == "paid"
    tshirt = next(line for line in second.get_json()["order"]["lines"]
                  if line["sku"] == "TSHIRT")
    refund = api.post(f"orders/{n}/refund", json={"line_ids": [tshirt["id"]]}).get_json()
    assert refund["preview"]["amount_refunded"] == "25.00"
    assert refund["preview"]["stock_released"] == {"TSHIRT": 2}
    assert refund["order"]["payment_status"] == "partially_refunded"
    assert refund["order"]["summary"] == "1/3 Complete"
    assert [r["amount"] for r in refund["preview"]["refunds"]] == ["20.00", "5.00"]


def test_refund_an_amount_only(api: Any, make_order: Callable[[str], Order]) -> None:
    order = make_order("paid")
    answer = api.post(f"orders/{order.number}/refund", json={"amount": "5.00"}).get_json()
    assert answer["order"]["refunded"] == "5.00"
    assert all(line["status"] == "active" for line in answer["order"]["lines"])


def test_cancel_one_line_keeps_the_rest(api: Any, make_order: Callable[[str], Order]) -> None:
    order = make_order("pending")
    mug = next(line for line in order.lines if line.sku == "MUG")
    answer = api.post(f"orders/{order.number}/cancel",
                      json={"line_ids": [mug.id], "restock": False}).get_json()
    assert answer["order"]["status"] == "pending"
    assert answer["order"]["total"] == "33.00"
    statuses = {line["sku"]: line["status"] for line in answer["order"]["lines"]}
    assert statuses == {"TSHIRT": "active", "MUG": "cancelled"}


ANSWERING = [c for c in ACTIONS if c.method != "GET" and c.name not in ("delete", "bulk status")]


@pytest.mark.parametrize("case", ANSWERING, ids=[c.name for c in ANSWERING])
def test_the_answer_shows_the_order_as_get_does(api: Any, make_order: Callable[[str], Order],
                                                case: ActionCase) -> None:
    """Every action answers the order as stored: the body GET gives right after, history and
    available actions included (the answer is read back in one read session)."""
    order = make_order(case.state)
    answer = call(api, case, order.number).get_json()
    assert answer["order"] == api.get(f"orders/{order.number}").get_json()
    assert answer["order"]["history"][-1] == answer["event"]


def test_the_answer_shows_what_after_commit_hooks_wrote(
        api: Any, make_order: Callable[[str], Order],
        register_plugin: Callable[..., object]) -> None:
    """A failing after-commit hook's `hook_failed` event is written after the action's commit:
    the answer's history has it, as GET's does."""

    class Broken:
        @hookimpl
        def on_accept(self, order: Order, options: Any, ctx: Any) -> None:
            raise RuntimeError("provisioning is down")

    register_plugin(Broken(), "broken_provisioner")
    order = make_order("pending")
    answer = api.post(f"orders/{order.number}/accept", json={}).get_json()
    assert [f["plugin"] for f in answer["hook_failures"]] == ["broken_provisioner"]
    assert [e["type"] for e in answer["order"]["history"]][-2:] == ["accepted", "hook_failed"]
    assert answer["order"] == api.get(f"orders/{order.number}").get_json()
