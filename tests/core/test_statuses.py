"""The status registry and the displays derived from lines and payments (Webex, WHMCS)."""

from __future__ import annotations

import pytest

from ordermill.core.errors import ConfigurationError, IllegalTransition, PluginConflict
from ordermill.core.models import Order, OrderLine, Payment
from ordermill.core.statuses import (
    StatusRegistry,
    StatusSpec,
    amount_due,
    line_summary,
    money_totals,
    payment_status,
    status_spec_from_dict,
)

# ---- registry ----------------------------------------------------------------------------


def test_defaults_and_their_moves() -> None:
    registry = StatusRegistry.build([])
    assert [spec.name for spec in registry] == ["pending", "active", "completed", "fraud",
                                                "cancelled", "refunded"]
    assert registry.can_move("pending", "active")
    assert registry.can_move("fraud", "pending")
    assert registry.can_move("cancelled", "refunded")  # a cancelled order can still be refunded
    assert not registry.can_move("cancelled", "active")  # cancelling is final
    assert not registry.can_move("cancelled", "pending")
    assert registry.targets("refunded") == frozenset()
    with pytest.raises(IllegalTransition, match=r"Cancelled: Cancelled may move to Refunded, "
                                                r"not Active"):
        registry.check_move("cancelled", "active", action="accept")
    with pytest.raises(IllegalTransition, match=r"no other status \(final\)"):
        registry.check_move("refunded", "pending", action="reopen")
    with pytest.raises(IllegalTransition, match="Unknown status 'shipped'"):
        registry.check_move("pending", "shipped", action="ship")


def test_custom_status_joins_the_workflow() -> None:
    on_hold = StatusSpec("on_hold", "On hold", "pending", transitions={"active", "cancelled"},
                         reachable_from={"pending"})
    registry = StatusRegistry.build([("plugin-hold", [on_hold])])
    assert registry.can_move("pending", "on_hold")
    assert registry.can_move("on_hold", "active")
    assert registry.category("on_hold") == "pending"
    assert registry.owner("on_hold") == "plugin-hold"
    assert registry.first_of_category("pending") == "pending"


def test_custom_status_mistakes_are_named() -> None:
    with pytest.raises(ConfigurationError, match="unknown category 'weird'"):
        StatusSpec("x", "X", "weird")
    with pytest.raises(ConfigurationError, match="names unknown statuses: nowhere"):
        StatusRegistry.build([("cfg", [StatusSpec("x", "X", "pending", transitions={"nowhere"})])])
    with pytest.raises(PluginConflict, match="provided by a and b"):
        StatusRegistry.build([("a", [StatusSpec("x", "X", "pending")]),
                              ("b", [StatusSpec("x", "X", "active")])])
    with pytest.raises(PluginConflict, match="built-in"):
        StatusRegistry.build([("a", [StatusSpec("pending", "Mine", "pending")])])
    with pytest.raises(ConfigurationError, match="lacks 'category'"):
        status_spec_from_dict({"name": "x"})


# ---- derived displays, on orders built in memory -------------------------------------------


def _order(lines: list[tuple[str, int, int]], payments: list[tuple[str, int]] = (),  # type: ignore[assignment]
           refunded_per_line: list[int] | None = None) -> Order:
    """lines: (status, quantity, total); payments: (kind, amount), all succeeded."""
    order = Order(currency="EUR", total=sum(total for _s, _q, total in lines))
    order.lines = [
        OrderLine(status=status, quantity=quantity, total=total,
                  refunded_amount=(refunded_per_line or [0] * len(lines))[index])
        for index, (status, quantity, total) in enumerate(lines)
    ]
    order.payments = [Payment(kind=kind, amount=amount, status="succeeded")
                      for kind, amount in payments]
    return order


@pytest.mark.parametrize(
    ("lines", "payments", "refunded", "summary", "paid"),
    [
        ([("active", 1, 1000)], [], None, "Unpaid", "unpaid"),
        ([("active", 1, 1000)], [("charge", 400)], None, "Partially paid", "partially_paid"),
        ([("active", 2, 1000)], [("charge", 1000)], None, "Complete", "paid"),
        ([("active", 1, 0)], [], None, "Complete", "paid"),  # free orders are complete
        ([("active", 1, 500), ("active", 1, 500), ("cancelled", 1, 500)],
         [("charge", 1500)], None, "2/3 Complete", "paid"),
        ([("active", 1, 500), ("active", 1, 500), ("refunded", 1, 500)],
         [("charge", 1500), ("refund", 500)], [0, 0, 500], "2/3 Complete",
         "partially_refunded"),
        ([("refunded", 2, 1000)], [("charge", 1000), ("refund", 1000)], [1000], "Refunded",
         "refunded"),
        ([("cancelled", 2, 1000)], [], None, "Cancelled", "unpaid"),
        ([("refunded", 1, 500), ("cancelled", 1, 500)], [("charge", 1000), ("refund", 1000)],
         [500, 0], "Refunded/Cancelled", "refunded"),
    ],
)
def test_webex_summary_and_payment_status(
    lines: list[tuple[str, int, int]], payments: list[tuple[str, int]],
    refunded: list[int] | None, summary: str, paid: str,
) -> None:
    order = _order(lines, payments, refunded)
    assert line_summary(order) == summary
    assert payment_status(order) == paid


def test_summary_counts_tickets_not_lines() -> None:
    order = _order([("active", 3, 3000), ("cancelled", 1, 1000)], [("charge", 3000)])
    assert line_summary(order) == "3/4 Complete"


def test_amount_due_ignores_cancelled_lines_and_goodwill_refunds() -> None:
    order = _order([("active", 1, 1000), ("cancelled", 1, 1000)], [("charge", 600)])
    assert amount_due(order) == 400
    goodwill = _order([("active", 1, 1000)], [("charge", 1000), ("refund", 300)])
    assert amount_due(goodwill) == 0
    assert money_totals(goodwill).net == 700
    assert payment_status(goodwill) == "partially_refunded"


def test_failed_payments_do_not_count() -> None:
    order = _order([("active", 1, 1000)])
    order.payments = [Payment(kind="charge", amount=1000, status="failed")]
    assert payment_status(order) == "unpaid"
    assert amount_due(order) == 1000
