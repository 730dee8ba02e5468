"""The 12-order shop of the reports' acceptance test (issue 17, acceptance 1).

Three offline gateways (banktransfer, cheque, invoice), two currencies, five products in
three categories and one without, two sales managers and "system", fees, a promo discount,
a partial payment, line refunds, a goodwill refund, a cancelled and an unpaid order, and
confirmed and unconfirmed sales. Every date is then set by hand (placement, payment,
refund), so the period filters have something to cut.

    order  lines (EUR unless said)  gateway       paid (fee), day     refunds, day     manager  ok
    O1     MUG x2                   banktransfer  20.00 (0) 01-05                      Anna     yes
    O2     TEE, MUG                 cheque        30.00 (0.90) 01-10                   Anna     yes
    O3     HOST                     invoice       50.00 (1.50) 01-12   HOST 20.00 01-20 Ben      yes
    O4     TEE x3                   banktransfer  60.00 (0) 02-01                      system   yes
    O5     MUG, HOST                cheque        60.00 (1.00) 02-03                   Ben      no
    O6     TEE                      banktransfer  unpaid, placed 02-05                 Anna     yes
    O7     CAP x2 (USD)             invoice       30.00 (0.87) 02-10                   Anna     yes
    O8     BOOK, CAP (USD)          banktransfer  45.00 (0) 02-11      5.00 (no line)  Ben      yes
    O9     MUG x3, promo -10 %      cheque        27.00 (0.81) 03-01                   Anna     no
    O10    TEE x2                   banktransfer  15.00 of 40.00 03-02                 Ben      yes
    O11    HOST, TEE                invoice       70.00 (2.10) 03-05   TEE 20.00 03-06  Anna     yes
    O12    MUG                      banktransfer  cancelled, placed 03-07              system   no

(O8's goodwill refund is on 02-15; "ok" says whether the sale is confirmed.)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from ordermill.core.app import Ordermill
from ordermill.core.models import Order, Payment, Product
from ordermill.core.specs import Actor
from ordermill.core.staff import create_user
from ordermill.plugins.sales_managers.confirming import confirm_sale
from ordermill.testing import order_request

STAFF = Actor(kind="user", name="admin@shop.test", role="admin", user_id=None)


def day(month: int, number: int) -> dt.datetime:
    return dt.datetime(2026, month, number, 12, 0, tzinfo=dt.UTC)


def build(mill: Ordermill, make_product: Callable[..., Product],
          make_promo: Callable[..., Any]) -> dict[str, str]:
    """Place, pay, refund and confirm the twelve orders; returns {"O1": number, ...}."""
    make_product("MUG", name="Mug", price=1000, stock=100, category="kitchen")
    make_product("TEE", name="T-shirt", price=2000, stock=100, category="apparel")
    make_product("HOST", name="Hosting", price=5000, stock=100, category="services")
    make_product("CAP", name="Cap", price=1500, currency="USD", stock=100, category="apparel")
    make_product("BOOK", name="Book", price=3000, currency="USD", stock=100, category=None)
    make_promo("TENOFF", kind="percent", value=1000)
    anna = create_user(mill, email="anna@shop.test", name="Anna Berg", role="manager",
                       password="correct horse battery")
    ben = create_user(mill, email="ben@shop.test", name="Ben Kowalski", role="manager",
                      password="correct horse battery")
    manager = Actor(kind="user", name="anna@shop.test", role="manager", user_id=anna.id)
    plan: list[tuple[str, list[tuple[str, int]], str, int | None, dict[str, Any]]] = [
        ("O1", [("MUG", 2)], "banktransfer", anna.id, {}),
        ("O2", [("TEE", 1), ("MUG", 1)], "cheque", anna.id, {}),
        ("O3", [("HOST", 1)], "invoice", ben.id, {}),
        ("O4", [("TEE", 3)], "banktransfer", None, {}),
        ("O5", [("MUG", 1), ("HOST", 1)], "cheque", ben.id, {}),
        ("O6", [("TEE", 1)], "banktransfer", anna.id, {}),
        ("O7", [("CAP", 2)], "invoice", anna.id, {}),
        ("O8", [("BOOK", 1), ("CAP", 1)], "banktransfer", ben.id, {}),
        ("O9", [("MUG", 3)], "cheque", anna.id, {"promo_code": "TENOFF"}),
        ("O10", [("TEE", 2)], "banktransfer", ben.id, {}),
        ("O11", [("HOST", 1), ("TEE", 1)], "invoice", anna.id, {}),
        ("O12", [("MUG", 1)], "banktransfer", None, {}),
    ]
    numbers: dict[str, str] = {}
    for key, lines, gateway, manager_id, extra in plan:
        placed = mill.orders.place(order_request(lines, payment_method=gateway,
                                                 sales_manager_id=manager_id, **extra),
                                   actor=STAFF)
        assert placed.order is not None
        numbers[key] = placed.order.number
    fees = {"O1": 0, "O2": 90, "O3": 150, "O4": 0, "O5": 100, "O7": 87, "O8": 0, "O9": 81,
            "O11": 210}
    for key, fee in fees.items():
        mill.orders.record_payment(numbers[key], actor=STAFF, amount=None, fee=fee)
    mill.orders.record_payment(numbers["O10"], actor=STAFF, amount=1500)
    line_ids = {key: [line.id for line in mill.orders.get(numbers[key]).lines]
                for key in ("O3", "O11")}
    mill.orders.refund(numbers["O3"], actor=STAFF, line_ids=line_ids["O3"], amount=2000)
    mill.orders.refund(numbers["O8"], actor=STAFF, amount=500)
    mill.orders.refund(numbers["O11"], actor=STAFF, line_ids=[line_ids["O11"][1]])
    mill.orders.cancel(numbers["O12"], actor=STAFF)
    for key in ("O1", "O2", "O3", "O4", "O6", "O7", "O8", "O10", "O11"):
        confirm_sale(mill, numbers[key], actor=manager)
    _set_dates(mill, numbers)
    return numbers


PLACED = {"O1": day(1, 5), "O2": day(1, 10), "O3": day(1, 12), "O4": day(2, 1),
          "O5": day(2, 3), "O6": day(2, 5), "O7": day(2, 10), "O8": day(2, 11),
          "O9": day(3, 1), "O10": day(3, 2), "O11": day(3, 5), "O12": day(3, 7)}
REFUNDED = {"O3": day(1, 20), "O8": day(2, 15), "O11": day(3, 6)}


def _set_dates(mill: Ordermill, numbers: dict[str, str]) -> None:
    """Placement, payment and refund dates by hand: payments on the day the order was placed."""
    with mill.write_session() as session, session.begin():
        for key, when in PLACED.items():
            order_id = session.scalar(sa.select(Order.id).where(Order.number == numbers[key]))
            session.execute(sa.update(Order).where(Order.id == order_id).values(
                placed_at=when,
                paid_at=sa.case((Order.paid_at.is_(None), None), else_=when)))
            session.execute(sa.update(Payment).where(Payment.order_id == order_id,
                                                     Payment.kind == "charge")
                            .values(created_at=when))
            if key in REFUNDED:
                session.execute(sa.update(Payment).where(Payment.order_id == order_id,
                                                         Payment.kind == "refund")
                                .values(created_at=REFUNDED[key]))
