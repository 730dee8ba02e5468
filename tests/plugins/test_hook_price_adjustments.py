"""The price_adjustments hook: four stages in order, each seeing what came before; the core
rounds by the shop's rule, applies, totals and stores; bad answers name the plugin; add_lines
re-prices; a blocked tax plugin leaves orders untaxed."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event

from ordermill.api import Adjustment, hookimpl
from ordermill.core.app import Ordermill
from ordermill.core.errors import PluginError
from ordermill.core.models import Order
from ordermill.core.shop_settings import write_setting
from ordermill.core.specs import Actor
from ordermill.testing import order_request


@pytest.fixture
def goods(make_product: Callable[..., Any]) -> None:
    make_product("BOOK", price=1001, stock=None)
    make_product("PEN", price=333, stock=None)


class Recorder:
    """Adds 10 % tax per line (exact Decimal), a 1.00 fee, and 10 % tax on fees."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[str], list[int]]] = []

    @hookimpl
    def price_adjustments(self, order: Order, stage: str,
                          adjustments: list[Adjustment], ctx: Any) -> list[Adjustment]:
        self.calls.append((stage, [f"{a.stage}:{a.kind}:{a.amount}" for a in adjustments],
                           [line.total for line in order.lines]))
        if stage == "tax":
            return [Adjustment("tax", "Tax 10 %", Decimal(line.total) / 10, line_id=line.id,
                               rate=Decimal(10)) for line in order.lines]
        if stage == "fee":
            return [Adjustment("fee", "Handling", 100, code="handling")]
        if stage == "fee_tax":
            return [Adjustment("tax", "Tax 10 % on handling", Decimal(a.amount) / 10,
                               rate=Decimal(10)) for a in adjustments if a.kind == "fee"]
        return []


def test_hook_price_adjustments(mill: Ordermill, goods: None, staff: Actor,
                                register_plugin: Callable[..., object]) -> None:
    recorder = Recorder()
    register_plugin(recorder, "recorder")
    order = mill.orders.place(order_request([("BOOK", 1), ("PEN", 2)]), actor=staff).order
    assert order is not None
    assert [call[0] for call in recorder.calls] == ["discount", "tax", "fee", "fee_tax"]
    # each stage sees the adjustments and line totals of the stages before it
    assert recorder.calls[1] == ("tax", [], [1001, 666])
    assert recorder.calls[2][1] == ["tax:tax:100", "tax:tax:67"]
    assert recorder.calls[2][2] == [1101, 733]  # lines now include their tax
    assert recorder.calls[3][1][-1] == "fee:fee:100"
    # per line, half up: 100.1 -> 100, 66.6 -> 67; fee 100, its tax 10
    assert [(line.tax, line.total) for line in order.lines] == [(100, 1101), (67, 733)]
    assert (order.subtotal, order.fee_total, order.tax_total, order.total) == (
        1667, 100, 177, 1101 + 733 + 100 + 10)
    stored = mill.orders.get(order.number).adjustments
    assert order.version == 1  # priced before it was saved: inserted once
    line_ids = [line.id for line in order.lines]
    assert [a.line_id for a in stored] == [*line_ids, None, None]
    # inserted after the lines, naming their ids: the placed order's rows are those stored
    assert [(a.id, a.position, a.line_id, a.amount) for a in order.adjustments] == [
        (a.id, a.position, a.line_id, a.amount) for a in stored]
    assert [(a.stage, a.kind, a.amount, a.source) for a in stored] == [
        ("tax", "tax", 100, "recorder"), ("tax", "tax", 67, "recorder"),
        ("fee", "fee", 100, "recorder"), ("fee_tax", "tax", 10, "recorder")]
    assert order.invoices[0].amount == order.total


def test_placing_writes_each_adjustment_once(mill: Ordermill, goods: None, staff: Actor,
                                            register_plugin: Callable[..., object]) -> None:
    """A new order's adjustments are inserted after its lines, with their ids: one INSERT,
    no UPDATE of a provisional line id afterwards."""
    register_plugin(Recorder(), "recorder")
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(" ".join(statement.split()).upper())

    event.listen(mill.engine, "before_cursor_execute", record)
    try:
        mill.orders.place(order_request([("BOOK", 1), ("PEN", 2)]), actor=staff)
    finally:
        event.remove(mill.engine, "before_cursor_execute", record)
    touching = [text for text in sent if "ORDER_ADJUSTMENT" in text]
    assert len(touching) == 1 and touching[0].startswith("INSERT INTO ORDER_ADJUSTMENT"), touching


def test_per_document_rounding_half_even(mill: Ordermill, goods: None, staff: Actor,
                                         register_plugin: Callable[..., object]) -> None:
    register_plugin(Recorder(), "recorder")
    write_setting(mill, "tax_rounding", {"scope": "document", "mode": "half_even"},
                  actor=staff)
    order = mill.orders.place(order_request([("BOOK", 1), ("PEN", 2)]), actor=staff).order
    assert order is not None
    # 100.1 + 66.6 = 166.7 -> 167 for the document, spread by largest remainder: 100 + 67
    assert sum(line.tax for line in order.lines) == 167
    half = mill.orders.place(order_request([("BOOK", 5)]), actor=staff).order
    assert half is not None and half.lines[0].tax == 500  # 500.5 -> 500 (half even)


def test_a_bad_adjustment_names_the_plugin_and_stores_nothing(
        mill: Ordermill, goods: None, staff: Actor,
        register_plugin: Callable[..., object]) -> None:
    class Negative:
        @hookimpl
        def price_adjustments(self, order: Order, stage: str) -> list[Adjustment]:
            return [Adjustment("fee", "Refund me", -5)] if stage == "fee" else []

    register_plugin(Negative(), "negative")
    with pytest.raises(PluginError, match=r"negative.*negative") as refused:
        mill.orders.place(order_request([("BOOK", 1)]), actor=staff)
    assert "negative" in str(refused.value)
    with mill.read_session() as session:
        assert session.query(Order).count() == 0


def test_wrong_kind_for_the_stage_is_refused(mill: Ordermill, goods: None, staff: Actor,
                                             register_plugin: Callable[..., object]) -> None:
    class Early:
        @hookimpl
        def price_adjustments(self, order: Order, stage: str) -> list[Adjustment]:
            return [Adjustment("fee", "Too early", 5)] if stage == "discount" else []

    register_plugin(Early(), "early")
    with pytest.raises(PluginError, match="does not belong in this stage"):
        mill.orders.place(order_request([("BOOK", 1)]), actor=staff)


def test_add_lines_re_prices_the_order(mill: Ordermill, goods: None, staff: Actor,
                                       register_plugin: Callable[..., object]) -> None:
    register_plugin(Recorder(), "recorder")
    order = mill.orders.place(order_request([("BOOK", 1)]), actor=staff).order
    assert order is not None
    assert order.total == 1101 + 110
    preview = mill.orders.add_lines(order.number, [order_request([("PEN", 3)]).lines[0]],
                                    actor=staff, dry_run=True)
    assert preview.dry_run
    assert preview.preview["data"]["total"] == "23.10"
    assert preview.preview["data"]["tax_total"] == "2.10"
    assert [a["amount"] for a in preview.preview["data"]["adjustments"]] == [
        "1.00", "1.00", "1.00", "0.10"]
    assert mill.orders.get(order.number).total == 1211  # the dry run changed nothing
    edited = mill.orders.add_lines(order.number, [order_request([("PEN", 3)]).lines[0]],
                                   actor=staff).order
    assert edited is not None
    assert [(line.tax, line.total) for line in edited.lines] == [(100, 1101), (100, 1099)]
    assert (edited.tax_total, edited.total) == (210, 1101 + 1099 + 110)
    assert [i.amount for i in edited.invoices] == [1211, 1099]
    assert len([a for a in edited.adjustments if a.kind == "fee"]) == 1


def test_promo_is_the_discount_stage_input(mill: Ordermill, goods: None, staff: Actor,
                                           make_promo: Callable[..., Any],
                                           register_plugin: Callable[..., object]) -> None:
    recorder = Recorder()
    register_plugin(recorder, "recorder")
    make_promo("SAVE10", kind="percent", value=1000)
    order = mill.orders.place(order_request([("BOOK", 1)], promo_code="SAVE10"),
                              actor=staff).order
    assert order is not None
    assert recorder.calls[0][1] == ["discount:discount:100"]
    assert order.discount == 100 and order.lines[0].tax == 90


def test_no_plugin_no_adjustments(mill: Ordermill, goods: None, staff: Actor) -> None:
    order = mill.orders.place(order_request([("BOOK", 1)]), actor=staff).order
    assert order is not None
    assert (order.total, order.tax_total, order.fee_total) == (1001, 0, 0)
    described = mill.orders.describe(order.number)
    assert described["adjustments"] == [] and described["total_excl_tax"] == "10.01"


def test_a_fee_on_free_lines_is_still_owed(mill: Ordermill, goods: None, staff: Actor,
                                           make_promo: Callable[..., Any],
                                           register_plugin: Callable[..., object]) -> None:
    class Shipping:
        @hookimpl
        def price_adjustments(self, order: Order, stage: str) -> list[Adjustment]:
            return [Adjustment("shipping", "Shipping", 495)] if stage == "fee" else []

    register_plugin(Shipping(), "shipping")
    make_promo("FREE", kind="percent", value=10000)
    order = mill.orders.place(order_request([("BOOK", 1)], promo_code="FREE"),
                              actor=staff).order
    assert order is not None and order.total == 495
    described = mill.orders.describe(order.number)
    assert described["amount_due"] == "4.95" and described["payment_status"] == "unpaid"
    paid = mill.orders.mark_paid(order.number, actor=staff).order
    assert paid is not None and mill.orders.describe(paid.number)["payment_status"] == "paid"


def test_add_lines_keeps_the_promo_of_an_order_placed_before_adjustments(
        mill: Ordermill, goods: None, staff: Actor,
        make_promo: Callable[..., Any]) -> None:
    from ordermill.core.tax_models import OrderAdjustment

    make_promo("SAVE10", kind="percent", value=1000)
    order = mill.orders.place(order_request([("BOOK", 1)], promo_code="SAVE10"),
                              actor=staff).order
    assert order is not None and order.total == 901
    with mill.write_session() as session, session.begin():  # as the migration left it
        session.query(OrderAdjustment).delete()
    edited = mill.orders.add_lines(order.number, [order_request([("PEN", 1)]).lines[0]],
                                   actor=staff).order
    assert edited is not None
    assert [line.discount for line in edited.lines] == [100, 33]
    assert edited.total == 901 + 300
