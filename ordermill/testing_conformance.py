"""The gateway conformance suite: the tests every payment gateway must pass, written once.

A gateway author subclasses `GatewayConformance` in a test module and gives it a driver (the
`gateway_driver` fixture): how the buyer pays and how a refund is made on the service side,
the webhook body the service then sends, how it signs, which refund requests it received and
how to make it unreachable. The suite then checks what docs/payment_gateways.md asks of every
gateway: bad, missing and stale signatures are rejected (nothing stored), replays are no-ops,
reversed delivery ends in the same state, a refund carries an idempotency key, a dry run makes
no gateway call, an outage leaves nothing changed and says so, and every event names the
order and the charge. Reach it as `ordermill.testing.gateway_conformance`:

    from ordermill.testing import gateway_conformance

    @pytest.mark.ordermill_plugins("acmepay")
    class TestAcmePayConforms(gateway_conformance.GatewayConformance):
        @pytest.fixture
        def gateway_driver(self, mill): return AcmeDriver(mill)
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any, Protocol

import pytest
from sqlalchemy import func, select

from ordermill.core.app import Ordermill
from ordermill.core.errors import OrdermillError
from ordermill.core.models import GatewayEvent, Order, OrderEvent
from ordermill.core.specs import Actor
from ordermill.core.statuses import payment_status

PRICE = 2500  # minor units of the one product every conformance order holds (two of them)


class GatewayDriver(Protocol):
    """What the suite needs to know about a gateway and its (stand-in) service."""

    gateway: str  # the PaymentGatewaySpec name

    def pay(self, order: Order) -> bytes:
        """Make the buyer pay the whole order at the service; the webhook body it sends."""

    def refund_at_service(self, order: Order, amount: int) -> bytes:
        """Refund `amount` of what `pay` took, in the service's dashboard; the webhook body
        it sends (the order's payment may not be recorded yet: remember the charge)."""

    def sign(self, body: bytes) -> dict[str, str]:
        """Headers of a valid delivery of `body`."""

    def stale(self, body: bytes) -> dict[str, str] | None:
        """Headers signed correctly but too long ago (None: the scheme has no time)."""

    def refund_requests(self) -> list[str | None]:
        """The idempotency key of every refund request the service received, in order."""

    def call_count(self) -> int:
        """How many requests the service received so far."""

    def outage(self) -> contextlib.AbstractContextManager[None]:
        """While open, the service does not answer (5xx or no connection)."""


def conformance_state(mill: Ordermill, number: str) -> dict[str, Any]:
    """What a delivery leaves on an order, free of ids, numbers and times."""
    order = mill.orders.get(number)
    with mill.read_session() as session:
        events = session.scalars(select(OrderEvent.type)
                                 .where(OrderEvent.order_number == number)).all()
        stored = session.scalar(select(func.count()).select_from(GatewayEvent)
                                .where(GatewayEvent.order_number == number))
    return {
        "status": order.status, "payment_status": payment_status(order),
        "payments": sorted((p.kind, p.status, p.amount, p.manual) for p in order.payments),
        "lines": [(line.status, line.refunded_amount) for line in order.lines],
        "events": sorted(events), "gateway_events": stored,
    }


class GatewayConformance:
    """Subclass it and provide the `gateway_driver` fixture (a GatewayDriver)."""

    @pytest.fixture
    def gateway_driver(self) -> GatewayDriver:
        raise NotImplementedError("give your conformance class a `gateway_driver` fixture")

    @pytest.fixture
    def conformance_order(self, gateway_driver: GatewayDriver,
                          make_product: Callable[..., Any],
                          order_factory: Callable[..., Order]) -> Callable[[], Order]:
        make_product("CONFORMANCE", price=PRICE, stock=100)
        return lambda: order_factory([("CONFORMANCE", 2)],
                                     payment_method=gateway_driver.gateway)

    @pytest.fixture
    def paid_order(self, gateway_driver: GatewayDriver,
                   conformance_order: Callable[[], Order],
                   deliver_webhook: Callable[..., Any], mill: Ordermill) -> Order:
        order = conformance_order()
        body = gateway_driver.pay(order)
        response = deliver_webhook(gateway_driver.gateway, body, gateway_driver.sign(body))
        assert response.status_code == 200, response.get_json()
        assert payment_status(mill.orders.get(order.number)) == "paid"
        return mill.orders.get(order.number)

    def test_bad_missing_and_stale_signatures_are_rejected(
            self, gateway_driver: GatewayDriver, conformance_order: Callable[[], Order],
            deliver_webhook: Callable[..., Any], unchanged: Callable[..., Any]) -> None:
        body, other = gateway_driver.pay(conformance_order()), \
            gateway_driver.pay(conformance_order())
        check = unchanged()
        # bad: a valid signature of another delivery
        attempts = {"bad": gateway_driver.sign(other), "missing": {}}
        stale = gateway_driver.stale(body)
        if stale is not None:
            attempts["stale"] = stale
        for what, headers in attempts.items():
            response = deliver_webhook(gateway_driver.gateway, body, headers)
            assert response.status_code == 400, (what, response.get_json())
        check()

    def test_a_replay_is_a_no_op(self, gateway_driver: GatewayDriver,
                                 conformance_order: Callable[[], Order],
                                 deliver_webhook: Callable[..., Any], mill: Ordermill) -> None:
        order = conformance_order()
        body = gateway_driver.pay(order)
        headers = gateway_driver.sign(body)
        assert deliver_webhook(gateway_driver.gateway, body, headers).status_code == 200
        once = conformance_state(mill, order.number)
        again = deliver_webhook(gateway_driver.gateway, body, headers)
        assert again.status_code == 200 and again.get_json()["replay"] is True
        assert conformance_state(mill, order.number) == once

    def test_reversed_delivery_ends_in_the_same_state(
            self, gateway_driver: GatewayDriver, conformance_order: Callable[[], Order],
            deliver_webhook: Callable[..., Any], mill: Ordermill) -> None:
        states = []
        for backwards in (False, True):
            order = conformance_order()
            story = [gateway_driver.pay(order),
                     gateway_driver.refund_at_service(order, 1000)]
            pending = list(reversed(story)) if backwards else story
            for _round in range(3):  # the service resends what was not answered 2xx
                pending = [body for body in pending if deliver_webhook(
                    gateway_driver.gateway, body, gateway_driver.sign(body)).status_code >= 500]
            assert pending == []
            states.append(conformance_state(mill, order.number))
        assert states[0] == states[1]
        assert states[0]["payment_status"] == "partially_refunded"

    def test_a_refund_carries_an_idempotency_key(
            self, gateway_driver: GatewayDriver, paid_order: Order, mill: Ordermill,
            staff: Actor) -> None:
        before = len(gateway_driver.refund_requests())
        mill.orders.refund(paid_order.number, actor=staff, amount=1000)
        keys = gateway_driver.refund_requests()[before:]
        refund = mill.orders.get(paid_order.number).payments[-1]
        assert keys == [f"ordermill-refund-{refund.id}"]
        assert (refund.kind, refund.amount, refund.manual) == ("refund", 1000, False)

    def test_a_dry_run_makes_no_gateway_call(
            self, gateway_driver: GatewayDriver, paid_order: Order, mill: Ordermill,
            staff: Actor, unchanged: Callable[..., Any]) -> None:
        calls, check = gateway_driver.call_count(), unchanged()
        result = mill.orders.refund(paid_order.number, actor=staff, dry_run=True)
        assert result.preview["refunds"][0]["automatic"] is True
        assert gateway_driver.call_count() == calls
        check()

    def test_an_outage_changes_nothing_and_says_so(
            self, gateway_driver: GatewayDriver, paid_order: Order, mill: Ordermill,
            staff: Actor, unchanged: Callable[..., Any]) -> None:
        check = unchanged()
        label = mill.gateways[gateway_driver.gateway].label
        with gateway_driver.outage(), pytest.raises(OrdermillError) as refused:
            mill.orders.refund(paid_order.number, actor=staff, amount=1000)
        assert label in refused.value.message
        check()

    def test_every_event_names_the_order_and_the_charge(
            self, gateway_driver: GatewayDriver, conformance_order: Callable[[], Order],
            deliver_webhook: Callable[..., Any], mill: Ordermill) -> None:
        spec = mill.gateways[gateway_driver.gateway]
        assert spec.parse_webhook is not None, "a conformant gateway takes webhooks"
        order = conformance_order()
        paid = gateway_driver.pay(order)
        event = spec.parse_webhook(body=paid, headers=lower(gateway_driver.sign(paid)))
        assert (event.order_number, event.amount) == (order.number, 2 * PRICE)
        assert event.reference
        assert deliver_webhook(gateway_driver.gateway, paid,
                               gateway_driver.sign(paid)).status_code == 200
        refunded = gateway_driver.refund_at_service(order, 1000)
        event = spec.parse_webhook(body=refunded, headers=lower(gateway_driver.sign(refunded)))
        assert event.order_number == order.number and event.reference
        assert event.refunds or event.amount


def lower(headers: dict[str, str]) -> dict[str, str]:
    """Header names as the core hands them to parse_webhook: lower-case."""
    return {name.lower(): value for name, value in headers.items()}


@contextlib.contextmanager
def flag(target: Any, name: str) -> Iterator[None]:
    """Set `target.name` to True while open (e.g. a stand-in service's `down`)."""
    setattr(target, name, True)
    try:
        yield
    finally:
        setattr(target, name, False)


__all__ = ["PRICE", "GatewayConformance", "GatewayDriver", "conformance_state", "flag",
           "lower"]
