"""?dry_run=true answers exactly what the real call then does, and changes nothing.

The refund cases pay through a test gateway that refunds automatically, to show that a dry
run never calls the gateway while the real refund calls it once with the previewed amount.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from ordermill import hookimpl
from ordermill.core.app import Ordermill
from ordermill.core.models import Order, Product
from ordermill.core.specs import Actor, GatewayRefund, PaymentGatewaySpec
from ordermill.core.statuses import money_totals, payment_status


class AutoRefundGateway:
    """A gateway that refunds online and remembers every call."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def refund(self, *, charge: Any, amount: int, idempotency_key: str, ctx: Any
               ) -> GatewayRefund:
        assert not ctx.dry_run, "a dry run must never call the gateway"
        self.calls.append((charge.id, amount))
        return GatewayRefund(reference=f"re_{len(self.calls)}")

    @hookimpl
    def register_payment_gateways(self, settings: Any) -> list[PaymentGatewaySpec]:
        return [PaymentGatewaySpec(name="testpay", label="Test pay", online=True,
                                   can_capture=True, can_refund=True,
                                   can_partial_refund=True, refund=self.refund)]


@pytest.fixture
def gateway(register_plugin: Callable[..., Any]) -> AutoRefundGateway:
    plugin = AutoRefundGateway()
    register_plugin(plugin, name="testpay")
    return plugin


@pytest.fixture
def make_order(mill: Ordermill, make_product: Callable[..., Any],
               order_factory: Callable[..., Order], staff: Actor,
               gateway: AutoRefundGateway) -> Callable[..., Order]:
    make_product("TSHIRT", price=1250, stock=20)
    make_product("MUG", price=800, stock=7)

    def make(state: str) -> Order:
        order = order_factory([("TSHIRT", 2), ("MUG", 1)], payment_method="testpay")
        if state in ("paid", "active"):
            mill.orders.record_payment(order.number, actor=staff, amount=order.total,
                                       reference="ch_1", manual=False)
        if state == "active":
            mill.orders.accept(order.number, actor=staff)
        if state == "fraud":
            mill.orders.mark_fraud(order.number, actor=staff)
        return mill.orders.get(order.number)

    return make


def line_id(order: Order, sku: str) -> int:
    return next(line.id for line in order.lines if line.sku == sku)


CASES: list[tuple[str, str, str, Callable[[Order], Any]]] = [
    # name, state, method + path, body from the order
    ("refund whole order", "paid", "POST refund", lambda o: {}),
    ("refund one line", "paid", "POST refund", lambda o: {"line_ids": [line_id(o, "TSHIRT")]}),
    ("refund an amount", "paid", "POST refund", lambda o: {"amount": "7.25"}),
    ("refund a line without restock", "paid", "POST refund",
     lambda o: {"line_ids": [line_id(o, "MUG")], "restock": False}),
    ("cancel whole order", "pending", "POST cancel", lambda o: {}),
    ("cancel one line", "pending", "POST cancel", lambda o: {"line_ids": [line_id(o, "MUG")]}),
    ("delete with restock", "pending", "DELETE ?restock=true", lambda o: None),
    ("delete without restock", "fraud", "DELETE ?restock=false", lambda o: None),
    ("accept", "pending", "POST accept", lambda o: {"options": {"server": "s1"}}),
    ("accept a paid order", "paid", "POST accept", lambda o: {}),
    ("cancel and refund", "active", "POST cancel-and-refund", lambda o: {}),
    ("set as fraud", "pending", "POST fraud", lambda o: {}),
    ("back to pending", "fraud", "POST pending", lambda o: {}),
    ("status completed", "active", "POST status", lambda o: {"status": "completed"}),
    ("edit buyer", "pending", "PATCH ", lambda o: {"email": "new@example.com"}),
    ("dispatch", "paid", "POST dispatch", lambda o: {"at": "2024-05-01T08:00:00+00:00"}),
    ("comment", "pending", "POST comments", lambda o: {"text": "Checked by phone"}),
]


def send(api: Any, spec: str, number: str, body: Any, dry_run: bool) -> Any:
    method, _, rest = spec.partition(" ")
    suffix, _, query = rest.partition("?")
    path = f"orders/{number}" + (f"/{suffix}" if suffix.strip() else "")
    params = [p for p in (query, "dry_run=true" if dry_run else "") if p]
    if params:
        path += "?" + "&".join(params)
    return api.request(method, path, json=body)


def stock(mill: Ordermill) -> dict[str, int | None]:
    with mill.read_session() as session:
        return dict(session.execute(select(Product.sku, Product.stock)).all())  # type: ignore[arg-type]


@pytest.mark.parametrize("case", CASES, ids=[case[0] for case in CASES])
def test_dry_run_equals_the_real_call(mill: Ordermill, api: Any,
                                      make_order: Callable[..., Order],
                                      gateway: AutoRefundGateway,
                                      case: tuple[str, str, str, Callable[[Order], Any]],
                                      unchanged: Callable[..., Any]) -> None:
    _name, state, spec, body_of = case
    order = make_order(state)
    body = body_of(order)
    stock_before = stock(mill)

    same = unchanged()
    dry = send(api, spec, order.number, body, dry_run=True)
    assert dry.status_code == 200, dry.get_json()
    dry_answer = dry.get_json()
    assert dry_answer["dry_run"] is True
    assert dry_answer["order"] is None and dry_answer["event"] is None
    same()  # the dry run changed nothing ...
    assert gateway.calls == []  # ... and called no gateway

    real = send(api, spec, order.number, body, dry_run=False)
    assert real.status_code == 200, real.get_json()
    real_answer = real.get_json()
    assert real_answer["dry_run"] is False
    preview = dry_answer["preview"]
    assert preview == real_answer["preview"]

    # and the preview describes what really happened
    released = {sku: stock(mill)[sku] - stock_before[sku]  # type: ignore[operator]
                for sku in stock_before if stock_before[sku] is not None
                and stock(mill)[sku] != stock_before[sku]}
    assert released == preview["stock_released"]
    assert real_answer["event"]["type"] == preview["event"]
    if preview["refunds"]:
        assert gateway.calls == [(r["charge_id"], r["amount_minor"]) for r in preview["refunds"]]
    else:
        assert gateway.calls == []
    if spec.startswith("DELETE"):
        assert real_answer["order"] is None
        assert api.get(f"orders/{order.number}").status_code == 404
        return
    stored = mill.orders.get(order.number)
    assert stored.status == preview["status"]["to"]
    assert payment_status(stored) == preview["payment_status"]["to"]
    assert stored.version == preview["version"]
    refunded_now = money_totals(stored).refunded - money_totals(order).refunded
    assert f"{refunded_now / 100:.2f}" == preview["amount_refunded"]


@pytest.mark.parametrize("case", [c for c in CASES if c[2].startswith("POST refund")],
                         ids=[c[0] for c in CASES if c[2].startswith("POST refund")])
def test_refund_dry_run_shows_the_total_per_payment_and_gateway(
        api: Any, make_order: Callable[..., Order],
        case: tuple[str, str, str, Callable[[Order], Any]]) -> None:
    """What the admin's refund dialog shows before the button is pressed."""
    order = make_order("paid")
    preview = send(api, case[2], order.number, case[3](order), dry_run=True
                   ).get_json()["preview"]
    assert preview["refunds"] and all(r["gateway"] == "testpay" and r["automatic"]
                                      for r in preview["refunds"])
    total = sum(r["amount_minor"] for r in preview["refunds"])
    assert f"{total / 100:.2f}" == preview["amount_refunded"]


def test_refused_dry_run_is_the_same_error_as_the_real_call(
        api: Any, make_order: Callable[..., Order], error_of: Callable[..., Any],
        unchanged: Callable[..., Any]) -> None:
    order = make_order("pending")
    same = unchanged()
    dry = error_of(api.post(f"orders/{order.number}/refund?dry_run=true", json={}), 409)
    real = error_of(api.post(f"orders/{order.number}/refund", json={}), 409)
    assert dry == real
    same()


def test_bulk_status_dry_run(mill: Ordermill, api: Any, make_order: Callable[..., Order],
                             unchanged: Callable[..., Any]) -> None:
    orders = [make_order("pending"), make_order("pending")]
    body = {"numbers": [o.number for o in orders], "status": "cancelled"}
    same = unchanged()
    dry = api.post("orders/bulk-status?dry_run=true", json=body).get_json()
    same()
    real = api.post("orders/bulk-status", json=body).get_json()
    assert dry["changed"] == real["changed"] and dry["skipped"] == real["skipped"]
    assert dry["dry_run"] is True and real["dry_run"] is False
    assert all(mill.orders.get(o.number).status == "cancelled" for o in orders)
