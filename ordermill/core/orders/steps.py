"""Steps several actions share: moving a status, picking and releasing lines, reserving stock,
asking the fraud checks, closing an order whose lines are all closed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session, object_session

from ordermill.core import billing, inventory, line_parts
from ordermill.core.context import ActionContext
from ordermill.core.errors import InvalidInput
from ordermill.core.i18n import event_msg
from ordermill.core.i18n import gettext as _
from ordermill.core.line_parts import LineQuantities, Pick
from ordermill.core.models import FraudCheck, Order, OrderLine, utcnow
from ordermill.core.money import Money, allocate
from ordermill.core.orders.runner import ActionRunner, _jsonable
from ordermill.core.specs import FraudResult
from ordermill.core.statuses import money_totals


class OrderSteps(ActionRunner):
    """The shared steps, on top of the runner."""

    def _move(self, order: Order, target: str, action: str) -> None:
        self.mill.statuses.check_move(order.status, target, action=action)
        order.status = target

    def _category(self, order: Order) -> str:
        return self.mill.statuses.category(order.status)

    def _status_hooks(self, order: Order, old: str, specific: str | None,
                      **kwargs: Any) -> list[tuple[str, dict[str, Any]]]:
        calls: list[tuple[str, dict[str, Any]]] = []
        if specific:
            calls.append((specific, {"order": order, **kwargs}))
        if old != order.status:
            calls.append(("on_status_changed",
                          {"order": order, "old_status": old, "new_status": order.status}))
        return calls

    def _release(self, order: Order, line: OrderLine, ctx: ActionContext) -> int:
        """Return what the line still holds to stock, once; the restock hook does the work."""
        units = line.units_held - line.units_released
        if units <= 0:
            return 0
        handled = self.mill.plugins.call("restock", line=line, quantity=units, ctx=ctx).first
        if handled is not True:  # None: no plugin returned them; False: kept held on purpose
            kept = ctx.notes.setdefault("stock_kept", {})
            kept[line.sku] = kept.get(line.sku, 0) + units
            return 0
        line.units_released += units
        released = ctx.notes.setdefault("stock_released", {})
        released[line.sku] = released.get(line.sku, 0) + units
        return units

    def _stock_kept_note(self, ctx: ActionContext, data: dict[str, Any]) -> str:
        """' Stock not released: ...' when a restock was asked for and no plugin returned
        some units (restock blocked, or a plugin kept them): the history must say that the
        stock stays held. Also puts {sku: units} in the event's data as `stock_kept`."""
        kept = ctx.notes.get("stock_kept")
        if not kept:
            return ""
        data["stock_kept"] = dict(kept)
        units = ", ".join(f"{sku} x{count}" for sku, count in kept.items())
        return " " + event_msg("Stock not released: no restock plugin returned %(units)s, so "
                               "the units stay held.", units=units)

    def _pick_lines(self, order: Order, line_ids: Sequence[int] | None,
                    allowed: Sequence[str], verb: str,
                    lines: LineQuantities | None = None) -> list[Pick]:
        """The lines an action closes, each with how many of its units (line_parts): every
        line in `allowed` when neither `line_ids` nor `lines` is given."""
        return line_parts.pick(order, line_parts.wanted_units(line_ids, lines), allowed, verb)

    def _split(self, order: Order, picks: Sequence[Pick]) -> list[OrderLine]:
        """The lines to close for `picks`, chosen units split off into lines of their own
        (flushed, so hooks see their ids)."""
        closing = [line_parts.split_off(order, chosen) for chosen in picks]
        if any(not chosen.whole for chosen in picks):
            session = object_session(order)
            assert session is not None  # actions work on the locked, loaded order
            session.flush()
        return closing

    def _close_if_all_lines_closed(self, order: Order, action: str) -> None:
        if any(line.status == "active" for line in order.lines):
            return
        # "refunded" promises all money went back: with money still kept (a cancelled,
        # unrefunded line) the order is only cancelled until the rest is refunded too
        refunded = any(line.status == "refunded" for line in order.lines) \
            and money_totals(order).net <= 0
        target = self.mill.statuses.first_of_category("refunded" if refunded else "cancelled")
        if order.status == target:
            return
        if self._category(order) in ("refunded",):
            return
        if not self.mill.statuses.can_move(order.status, target) and refunded:
            target = self.mill.statuses.first_of_category("cancelled")
        if order.status != target:
            self._move(order, target, action)
        if order.cancelled_at is None:
            order.cancelled_at = utcnow()

    def _reserve(self, session: Session, lines: Sequence[OrderLine],
                 products: Mapping[str, Any], order_number: str | None = None) -> None:
        wanted: dict[int, tuple[Any, int]] = {}
        for line in lines:
            product = products[line.sku]
            if product.stock is not None:
                _p, quantity = wanted.get(product.id, (product, 0))
                wanted[product.id] = (product, quantity + line.quantity)
                line.units_held = line.quantity
        inventory.reserve_many(session, wanted, order_number=order_number)


    def _run_fraud_checks(self, order: Order, ctx: ActionContext) -> list[FraudResult]:
        outcome = self.mill.plugins.call("fraud_check", order=order, ctx=ctx)
        results, failures = outcome.results, outcome.failures
        verdicts: list[FraudResult] = [result for _plugin, result in results]
        verdicts.extend(
            FraudResult(provider=failure.plugin, score=None, status="error", error=failure.error)
            for failure in failures
        )
        for verdict in verdicts:
            order.fraud_checks.append(FraudCheck(
                provider=verdict.provider, status=verdict.status, score=verdict.score,
                reasons=list(verdict.reasons), raw=_jsonable(dict(verdict.raw)),
                error=verdict.error, created_at=utcnow(),
            ))
        scores = [v.score for v in verdicts if v.status == "ok" and v.score is not None]
        if scores:
            order.fraud_score = max(scores)
            if order.fraud_score > self.mill.fraud_threshold \
                    and self._category(order) == "pending":
                order.status = self.mill.statuses.first_of_category("fraud")
                billing.cancel_open_invoices(order)
        return verdicts


def _minor(amount: Money | int, currency: str) -> int:
    if isinstance(amount, Money):
        if amount.currency != currency:
            raise InvalidInput(_("Amount is in %(currency)s, the order is in %(currency2)s.",
                                 currency=amount.currency, currency2=currency))
        return amount.amount
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise InvalidInput(_("Amounts are Money or integer minor units, not %(amount)s.",
                             amount=repr(amount)))
    return amount


def _allocate_to_lines(lines: Sequence[OrderLine], amount: int) -> list[int]:
    """Spread a refund over lines by what each has left, never more than a line's value."""
    left = [billing.line_value_left(line) for line in lines]
    return allocate(min(amount, sum(left)), left)
