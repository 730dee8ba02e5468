"""Placing orders: pricing, promos, stock, numbers, idempotency, validation and fraud checks."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from ordermill import hookimpl
from ordermill.core.errors import (
    ActionNotAllowed,
    InvalidInput,
    OutOfStock,
    PermissionDenied,
    PluginError,
    UnknownProduct,
)
from ordermill.core.models import Customer, Order, OrderEvent
from ordermill.core.money import Money
from ordermill.core.requests import CustomerDetails, LineRequest
from ordermill.core.specs import Actor, FraudResult
from ordermill.core.statuses import line_summary, payment_status
from ordermill.testing import order_request


def test_lines_are_priced_stock_reserved_and_one_event_written(mill, make_product, staff,
                                                               probe):
    make_product("TICKET", price=1250, stock=10, kind="ticket")
    make_product("MUG", price=999, stock=3)
    make_product("HOSTING", price=500, stock=None, kind="service")
    result = mill.orders.place(order_request([("TICKET", 2), ("MUG", 1), ("HOSTING", 1)],
                                             customer_ip="203.0.113.9", note="Front row"),
                               actor=staff)
    order = probe.order(result.order.number)
    assert order.status == "pending"
    assert [(line.sku, line.quantity, line.unit_price, line.total) for line in order.lines] == [
        ("TICKET", 2, 1250, 2500), ("MUG", 1, 999, 999), ("HOSTING", 1, 500, 500)]
    assert (order.subtotal, order.discount, order.total) == (3999, 0, 3999)
    assert [line.units_held for line in order.lines] == [2, 1, 0]  # unlimited holds nothing
    assert probe.stock("TICKET") == 8
    assert probe.stock("MUG") == 2
    assert probe.stock("HOSTING") is None
    assert [(inv.amount, inv.status) for inv in order.invoices] == [(3999, "unpaid")]
    assert order.invoiced_at is not None
    assert payment_status(order) == "unpaid"
    assert line_summary(order) == "Unpaid"
    assert order.customer_ip == "203.0.113.9"
    assert order.customer_note == "Front row"
    events = probe.events(order.number)
    assert [(e.type, e.status_from, e.status_to) for e in events] == [
        ("placed", None, "pending")]
    assert "€39.99" in events[0].message
    assert events[0].actor == "user:admin@shop.test"


def test_number_is_ten_random_digits_and_unique(mill, make_product, order_factory):
    make_product("TSHIRT", stock=None)
    orders = [order_factory() for _ in range(30)]
    numbers = {order.number for order in orders}
    assert len(numbers) == 30
    assert all(len(n) == 10 and n.isdigit() and n[0] != "0" for n in numbers)
    ids = sorted(order.id for order in orders)
    assert ids == list(range(ids[0], ids[0] + 30))  # the internal id is sequential


def test_number_collision_is_retried(mill, make_product, staff, register_plugin):
    make_product("TSHIRT", stock=None)
    draws = iter(["1234567890", "1234567890", "2345678901"])

    class FixedNumbers:
        @hookimpl
        def generate_order_number(self, ctx: Any) -> str:
            return next(draws)

    register_plugin(FixedNumbers(), name="fixed-numbers")
    first = mill.orders.place(order_request([("TSHIRT", 1)]), actor=staff)
    second = mill.orders.place(order_request([("TSHIRT", 1)]), actor=staff)
    assert (first.order.number, second.order.number) == ("1234567890", "2345678901")


def test_plugin_number_must_have_ten_digits(mill, make_product, staff, register_plugin, probe):
    make_product("TSHIRT")

    class BadNumbers:
        @hookimpl
        def generate_order_number(self, ctx: Any) -> str:
            return "42"

    register_plugin(BadNumbers(), name="bad-numbers")
    before = probe.snapshot()
    with pytest.raises(InvalidInput, match=r"Plugin 'bad-numbers' made order number '42'"):
        mill.orders.place(order_request([("TSHIRT", 1)]), actor=staff)
    probe.assert_unchanged(before)


def test_percent_promo_spreads_over_lines(mill, make_product, make_promo, staff, probe):
    make_product("TICKET", price=1250)
    make_product("MUG", price=999)
    make_promo("SAVE10", kind="percent", value=1000)
    result = mill.orders.place(order_request([("TICKET", 2), ("MUG", 1)],
                                             promo_code="SAVE10"), actor=staff)
    order = probe.order(result.order.number)
    assert (order.subtotal, order.discount, order.total) == (3499, 350, 3149)
    assert sum(line.discount for line in order.lines) == 350
    assert sum(line.total for line in order.lines) == 3149
    assert [line.discount for line in order.lines] == [250, 100]
    assert order.promo_code == "SAVE10"
    assert order.invoices[0].amount == 3149


def test_fixed_promo_is_capped_at_the_subtotal(mill, make_product, make_promo, staff, probe):
    make_product("TICKET", price=1250)
    make_promo("FIVE", kind="fixed", value=500, currency="EUR")
    make_promo("HUGE", kind="fixed", value=10_000, currency="EUR")
    five = mill.orders.place(order_request([("TICKET", 2)], promo_code="FIVE"), actor=staff)
    assert (five.order.discount, five.order.total) == (500, 2000)
    huge = mill.orders.place(order_request([("TICKET", 1)], promo_code="HUGE"), actor=staff)
    order = probe.order(huge.order.number)
    assert (order.discount, order.total) == (1250, 0)
    assert order.invoices == []  # nothing to invoice for a free order
    assert payment_status(order) == "paid"
    assert line_summary(order) == "Complete"


def test_bad_promos_are_refused(mill, make_product, make_promo, staff, probe):
    make_product("TICKET", price=1250)
    make_promo("DOLLARS", kind="fixed", value=500, currency="USD")
    with mill.write_session() as session, session.begin():
        make = make_promo("OLD")
    with mill.write_session() as session, session.begin():
        session.get(type(make), make.id).active = False
    before = probe.snapshot()
    with pytest.raises(InvalidInput, match="Promo code 'NOPE' is not valid"):
        mill.orders.place(order_request([("TICKET", 1)], promo_code="NOPE"), actor=staff)
    with pytest.raises(InvalidInput, match="Promo code 'OLD' is not valid"):
        mill.orders.place(order_request([("TICKET", 1)], promo_code="OLD"), actor=staff)
    with pytest.raises(InvalidInput, match="'DOLLARS' is in USD, the order is in EUR"):
        mill.orders.place(order_request([("TICKET", 1)], promo_code="DOLLARS"), actor=staff)
    probe.assert_unchanged(before)


def test_unknown_product_is_refused_and_nothing_is_reserved(mill, make_product, staff, probe):
    make_product("TICKET", stock=5)
    before = probe.snapshot()
    with pytest.raises(UnknownProduct, match="Unknown product: GHOST") as caught:
        mill.orders.place(order_request([("TICKET", 2), ("GHOST", 1)]), actor=staff)
    assert caught.value.details == {"skus": ["GHOST"]}
    probe.assert_unchanged(before)


def test_inactive_product_is_refused(mill, make_product, staff, probe):
    make_product("TICKET", stock=5)
    make_product("RETIRED", stock=5, active=False)
    before = probe.snapshot()
    with pytest.raises(UnknownProduct, match="No longer for sale: RETIRED"):
        mill.orders.place(order_request([("TICKET", 1), ("RETIRED", 1)]), actor=staff)
    probe.assert_unchanged(before)


def test_out_of_stock_leaves_every_stock_unchanged(mill, make_product, staff, probe):
    make_product("AAA", stock=5)
    make_product("ZZZ", stock=1)
    before = probe.snapshot()
    with pytest.raises(OutOfStock, match=r"Not enough stock of Zzz \(ZZZ\): 2 wanted") as caught:
        mill.orders.place(order_request([("AAA", 3), ("ZZZ", 2)]), actor=staff)
    assert caught.value.details == {"sku": "ZZZ", "requested": 2}
    probe.assert_unchanged(before)
    assert probe.stock("AAA") == 5  # the first product's reservation was rolled back


def test_the_same_product_twice_is_reserved_together(mill, make_product, staff, probe):
    make_product("SEAT", stock=3)
    before = probe.snapshot()
    with pytest.raises(OutOfStock):
        mill.orders.place(order_request([("SEAT", 2), ("SEAT", 2)]), actor=staff)
    probe.assert_unchanged(before)
    mill.orders.place(order_request([("SEAT", 2), ("SEAT", 1)]), actor=staff)
    assert probe.stock("SEAT") == 0


def test_mixed_currencies_are_refused(mill, make_product, staff, probe):
    make_product("EURO-T", currency="EUR")
    make_product("DOLLAR-T", currency="USD")
    before = probe.snapshot()
    # an order is in one currency (the shop's EUR here): a product without an EUR price
    # is refused by name (issue 18, prices per currency)
    with pytest.raises(InvalidInput, match=r"Dollar-T \(DOLLAR-T\) has no price in EUR; it "
                                           r"sells in USD"):
        mill.orders.place(order_request([("EURO-T", 1), ("DOLLAR-T", 1)]), actor=staff)
    probe.assert_unchanged(before)


def test_yen_order(mill, make_product, staff, probe):
    make_product("BENTO", price=1200, currency="JPY")
    result = mill.orders.place(order_request([("BENTO", 3)]), actor=staff)
    assert (result.order.currency, result.order.total) == ("JPY", 3600)
    assert result.preview["message"].count("¥3,600") == 1


def test_idempotency_key_returns_the_first_order(mill, make_product, staff, probe):
    make_product("TICKET", stock=5)
    request = order_request([("TICKET", 2)], idempotency_key="checkout-1",
                            request_fingerprint="f1")
    first = mill.orders.place(request, actor=staff)
    again = mill.orders.place(request, actor=staff)
    assert again.order.number == first.order.number
    assert again.preview["replayed"] is True
    assert probe.count(Order) == 1
    assert probe.stock("TICKET") == 3  # reserved once
    assert probe.event_types(first.order.number) == ["placed"]
    before = probe.snapshot()
    with pytest.raises(InvalidInput, match="already used for a different order request"):
        mill.orders.place(order_request([("TICKET", 1)], idempotency_key="checkout-1",
                                        request_fingerprint="f2"), actor=staff)
    probe.assert_unchanged(before)


def test_admin_price_override_and_customer_refusal(mill, make_product, staff, probe):
    make_product("HOSTING", price=1000, stock=None, kind="service")
    cheap = LineRequest(sku="HOSTING", quantity=2, price_override=Money(750, "EUR"))
    result = mill.orders.place(order_request([cheap]), actor=staff)
    assert (result.order.lines[0].unit_price, result.order.total) == (750, 1500)
    before = probe.snapshot()
    with pytest.raises(PermissionDenied, match="Only staff may override prices"):
        mill.orders.place(order_request([cheap]), actor=Actor.customer("buyer@example.com"))
    with pytest.raises(InvalidInput, match="override of HOSTING is in USD"):
        mill.orders.place(order_request([LineRequest("HOSTING", 1,
                                                     price_override=Money(1, "USD"))]),
                          actor=staff)
    probe.assert_unchanged(before)


def test_the_customer_may_place_but_a_viewer_may_not(mill, make_product, viewer, probe):
    make_product("TICKET")
    result = mill.orders.place(order_request([("TICKET", 1)]),
                               actor=Actor.customer("buyer@example.com"))
    assert result.order.status == "pending"
    before = probe.snapshot()
    with pytest.raises(PermissionDenied, match="viewer"):
        mill.orders.place(order_request([("TICKET", 1)]), actor=viewer)
    probe.assert_unchanged(before)


def test_request_checks() -> None:
    with pytest.raises(InvalidInput, match="at least one line"):
        order_request([])
    with pytest.raises(InvalidInput, match="at least 1, not 0"):
        LineRequest("X", 0)
    with pytest.raises(InvalidInput, match="whole number"):
        LineRequest("X", 1.5)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="not an e-mail address"):
        CustomerDetails(email="nobody", name="N")
    with pytest.raises(InvalidInput, match="name is required"):
        CustomerDetails(email="a@b.example", name=" ")
    with pytest.raises(InvalidInput, match="payment method is required"):
        order_request([("X", 1)], payment_method=" ")


def test_invoice_plan(mill, make_product, staff, probe):
    make_product("COURSE", price=3000, stock=None)
    result = mill.orders.place(order_request([("COURSE", 1)], invoice_plan=[1000, 1000, 1000]),
                               actor=staff)
    assert [(i.amount, i.description) for i in result.order.invoices] == [
        (1000, "Part 1 of 3"), (1000, "Part 2 of 3"), (1000, "Part 3 of 3")]
    before = probe.snapshot()
    for plan in ([1000, 1000], [3000, 0], [-1000, 4000]):
        with pytest.raises(InvalidInput, match=r"invoice plan must be positive amounts adding "
                                               r"up to the order total 30\.00"):
            mill.orders.place(order_request([("COURSE", 1)], invoice_plan=plan), actor=staff)
    probe.assert_unchanged(before)


def test_no_invoice_when_the_admin_says_so(mill, make_product, staff):
    make_product("COURSE", price=3000, stock=None)
    result = mill.orders.place(order_request([("COURSE", 1)], generate_invoice=False),
                               actor=staff)
    assert result.order.invoices == []
    assert result.order.invoiced_at is None


def test_dry_run_saves_nothing(mill, make_product, staff, probe):
    make_product("TICKET", stock=4)
    before = probe.snapshot()
    preview = mill.orders.place(order_request([("TICKET", 2)]), actor=staff, dry_run=True)
    assert preview.dry_run and preview.order is None
    assert preview.preview["status"]["to"] == "pending"
    probe.assert_unchanged(before)


def test_one_customer_record_per_email(mill, make_product, staff, probe):
    make_product("TICKET")
    mill.orders.place(order_request([("TICKET", 1)], email="Ann@Example.com"), actor=staff)
    mill.orders.place(order_request([("TICKET", 1)], email="ann@example.com"), actor=staff)
    with mill.read_session() as session:
        emails = session.scalars(select(Customer.email)).all()
    assert emails == ["ann@example.com"]


# ---- validate_order ----------------------------------------------------------------------


def test_validate_order_plugin_refuses_and_nothing_is_saved(mill, make_product, staff,
                                                            register_plugin, probe):
    make_product("TICKET", stock=5)

    class MaxTwo:
        @hookimpl
        def validate_order(self, order: Order, ctx: Any) -> None:
            if sum(line.quantity for line in order.lines) > 2:
                raise InvalidInput("At most two tickets per buyer.")

    register_plugin(MaxTwo(), name="max-two")
    before = probe.snapshot()
    with pytest.raises(InvalidInput, match=r"At most two tickets per buyer. \(from plugin "
                                           r"'max-two'\)") as caught:
        mill.orders.place(order_request([("TICKET", 3)]), actor=staff)
    assert caught.value.details["plugin"] == "max-two"
    probe.assert_unchanged(before)
    assert mill.orders.place(order_request([("TICKET", 2)]), actor=staff).order is not None


def test_validate_order_plugin_crash_names_the_plugin(mill, make_product, staff,
                                                      register_plugin, probe):
    make_product("TICKET", stock=5)

    class Broken:
        @hookimpl
        def validate_order(self, order: Order, ctx: Any) -> None:
            raise KeyError("boom")

    register_plugin(Broken(), name="broken-validator")
    before = probe.snapshot()
    with pytest.raises(PluginError, match="Plugin 'broken-validator' failed in validate_order"):
        mill.orders.place(order_request([("TICKET", 1)]), actor=staff)
    probe.assert_unchanged(before)


# ---- fraud -------------------------------------------------------------------------------


class ScoreFraud:
    def __init__(self, score: str, provider: str = "scorer") -> None:
        self.score = Decimal(score)
        self.provider = provider
        self.calls = 0

    @hookimpl
    def fraud_check(self, order: Order, ctx: Any) -> FraudResult:
        self.calls += 1
        return FraudResult(provider=self.provider, score=self.score, reasons=("proxy",),
                           raw={"risk": str(self.score)})


class Placed:
    def __init__(self) -> None:
        self.hooks: list[str] = []

    @hookimpl
    def on_order_placed(self, order: Order, ctx: Any) -> None:
        self.hooks.append(f"placed:{order.status}")

    @hookimpl
    def on_fraud(self, order: Order, ctx: Any) -> None:
        self.hooks.append("fraud")


def test_fraud_score_over_threshold_skips_pending(mill, make_product, staff, register_plugin,
                                                  probe):
    make_product("TICKET", stock=5)
    register_plugin(ScoreFraud("90.5"), name="fraud-scorer")
    seen = register_plugin(Placed(), name="seen")
    result = mill.orders.place(order_request([("TICKET", 2)]), actor=staff)
    order = probe.order(result.order.number)
    assert order.status == "fraud"
    assert order.fraud_score == Decimal("90.50")
    assert [(c.provider, c.status, c.score, c.reasons) for c in order.fraud_checks] == [
        ("scorer", "ok", Decimal("90.50"), ["proxy"])]
    assert [inv.status for inv in order.invoices] == ["cancelled"]
    assert probe.stock("TICKET") == 3  # still held: an admin may set it back to pending
    events = probe.events(order.number)
    assert [(e.type, e.status_from, e.status_to) for e in events] == [
        ("placed", None, "fraud")]
    assert "over the threshold 75: set to Fraud" in events[0].message
    assert seen.hooks == ["placed:fraud", "fraud"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("score", ["20", "75"])
def test_fraud_score_at_or_under_threshold_stays_pending(mill, make_product, staff,
                                                         register_plugin, probe, score):
    make_product("TICKET")
    register_plugin(ScoreFraud(score), name="fraud-scorer")
    result = mill.orders.place(order_request([("TICKET", 1)]), actor=staff)
    order = probe.order(result.order.number)
    assert order.status == "pending"
    assert order.fraud_score == Decimal(score)
    assert [inv.status for inv in order.invoices] == ["unpaid"]


def test_highest_score_of_several_providers_decides(mill, make_product, staff,
                                                    register_plugin, probe):
    make_product("TICKET")
    register_plugin(ScoreFraud("10", "low"), name="low")
    register_plugin(ScoreFraud("80", "high"), name="high")
    result = mill.orders.place(order_request([("TICKET", 1)]), actor=staff)
    order = probe.order(result.order.number)
    assert order.status == "fraud"
    assert sorted(c.provider for c in order.fraud_checks) == ["high", "low"]


def test_fraud_provider_crash_leaves_order_pending_with_a_failed_check(
        mill, make_product, staff, register_plugin, probe):
    make_product("TICKET", stock=5)

    class Down:
        @hookimpl
        def fraud_check(self, order: Order, ctx: Any) -> FraudResult:
            raise ConnectionError("maxmind unreachable")

    register_plugin(Down(), name="maxmind-down")
    result = mill.orders.place(order_request([("TICKET", 1)]), actor=staff)
    order = probe.order(result.order.number)
    assert order.status == "pending"
    assert order.fraud_score is None
    [check] = order.fraud_checks
    assert (check.provider, check.status, check.score) == ("maxmind-down", "error", None)
    assert "maxmind unreachable" in check.error
    assert probe.stock("TICKET") == 4
    assert probe.event_types(order.number) == ["placed"]


class TestLowThreshold:
    @pytest.fixture
    def ordermill_settings_overrides(self) -> dict[str, Any]:
        return {"fraud_threshold": Decimal("30")}

    def test_threshold_comes_from_settings(self, mill, make_product, staff, register_plugin):
        make_product("TICKET")
        register_plugin(ScoreFraud("31"), name="fraud-scorer")
        result = mill.orders.place(order_request([("TICKET", 1)]), actor=staff)
        assert result.order.status == "fraud"


def test_rerun_fraud_check(mill, make_product, staff, register_plugin, probe, order_factory):
    make_product("TICKET", stock=5)
    order = order_factory([("TICKET", 1)])
    before = probe.snapshot(order.number)
    with pytest.raises(ActionNotAllowed, match="No fraud check plugin"):
        mill.orders.rerun_fraud_check(order.number, actor=staff)
    probe.assert_unchanged(before, order.number)
    scorer = register_plugin(ScoreFraud("99"), name="fraud-scorer")
    result = mill.orders.rerun_fraud_check(order.number, actor=staff)
    assert result.order.status == "fraud"
    assert scorer.calls == 1  # type: ignore[attr-defined]
    events = probe.events(order.number)
    assert [(e.type, e.status_to) for e in events] == [("placed", "pending"),
                                                        ("fraud_checked", "fraud")]
    with mill.read_session() as session:
        message = session.scalar(select(OrderEvent.message).where(
            OrderEvent.type == "fraud_checked"))
    assert message is not None and message.startswith("Fraud check re-run: score 99")


def test_unknown_payment_method_is_refused(mill, make_product, staff, register_plugin, probe):
    make_product("TICKET")

    class Gateways:
        @hookimpl
        def register_payment_gateways(self, settings: Any) -> list[Any]:
            from ordermill.core.specs import PaymentGatewaySpec

            return [PaymentGatewaySpec("testgate", "Test gateway")]

    register_plugin(Gateways(), name="test-gateways")
    before = probe.snapshot()
    with pytest.raises(InvalidInput, match=r"Unknown payment method 'bitcoin'; choose one of "
                                           r".*testgate"):
        mill.orders.place(order_request([("TICKET", 1)], payment_method="bitcoin"), actor=staff)
    probe.assert_unchanged(before)
    order = mill.orders.place(order_request([("TICKET", 1)], payment_method="testgate"),
                              actor=staff).order
    assert order.payment_method == "testgate"
