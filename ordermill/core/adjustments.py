"""Pricing adjustments: discounts, tax, fees and shipping that plugins add to an order.

The core prices an order in four stages, in this order: `discount`, `tax` (on lines), `fee`
(fees and shipping) and `fee_tax` (tax on taxable fees). Each stage calls the
`price_adjustments` hook with the adjustments made so far, rounds what the plugins return
(the shop's rounding rule), applies it to the lines and totals, and only then runs the next
stage: a card fee can be a percentage of the taxed goods and itself be taxed.

Place, add_lines, their dry runs and any re-pricing run the same `price_order`, so a preview
never disagrees with the order. Amounts are integer minor units, or Decimal fractions of a
minor unit that the core rounds; whatever the rule, the parts add up to the total exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

import attrs

from ordermill.core.errors import ConfigurationError, InvalidInput, PluginError
from ordermill.core.i18n import gettext as _
from ordermill.core.models import Order, OrderLine, utcnow
from ordermill.core.money import allocate, check_bound
from ordermill.core.tax_models import OrderAdjustment

if TYPE_CHECKING:
    from ordermill.core.context import ActionContext

STAGES = ("discount", "tax", "fee", "fee_tax")
KINDS = ("discount", "tax", "fee", "shipping")
STAGE_KINDS = {"discount": ("discount",), "tax": ("tax",), "fee": ("fee", "shipping"),
               "fee_tax": ("tax",)}
ROUNDING_SETTING = "tax_rounding"
ROUNDING_SCOPES = ("line", "document")
ROUNDING_MODES = {"half_up": ROUND_HALF_UP, "half_even": ROUND_HALF_EVEN}
CORE_SOURCE = "core"


def _rate(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        rate = Decimal(str(value))
    except InvalidOperation:
        raise InvalidInput(_("A tax rate must be a number of percent, not %(value)s.",
                             value=repr(value))) from None
    if not rate.is_finite() or rate < 0 or rate >= 10000:
        raise InvalidInput(_("A tax rate must be a percentage from 0, not %(value)s.",
                             value=repr(value)))
    return rate


@attrs.frozen
class Adjustment:
    """One discount, tax, fee or shipping amount, as `price_adjustments` returns it.

    `amount` is positive minor units (an int), or a Decimal with fractions of a minor unit
    that the core rounds by the shop's rule; `kind` says which way it moves the total
    (a discount lowers it). `line_id` ties it to a line (required for tax of the `tax`
    stage; a discount without one is spread over the lines). `rate` is the tax rate in
    percent (Decimal("20") for 20 %); `code` a short machine name (a promo code,
    "reverse_charge"). `included` marks tax already contained in the line price (prices
    entered gross): recorded and shown, not added. The core fills in `source` (the
    plugin) and `stage`.
    """

    kind: str
    label: str
    amount: int | Decimal
    line_id: int | None = None
    rate: Decimal | None = attrs.field(default=None, converter=_rate)
    code: str | None = None
    included: bool = False
    source: str = ""
    stage: str = ""


@attrs.frozen
class RoundingRule:
    """Round each adjustment (`line`) or each group of one kind and rate (`document`)."""

    scope: str = "line"
    mode: str = "half_up"

    def __attrs_post_init__(self) -> None:
        if self.scope not in ROUNDING_SCOPES or self.mode not in ROUNDING_MODES:
            raise ConfigurationError(
                f"Tax rounding must be one of {', '.join(ROUNDING_SCOPES)} with one of "
                f"{', '.join(ROUNDING_MODES)}, not {self.scope!r} / {self.mode!r}.")

    def round(self, value: Decimal) -> int:
        return int(value.quantize(Decimal(1), rounding=ROUNDING_MODES[self.mode]))


def rounding_rule(ctx: ActionContext) -> RoundingRule:
    """The shop's rule: the `tax_rounding` setting row ({"scope", "mode"}), else per line,
    half up."""
    from ordermill.core.shop_settings import read_setting

    stored = read_setting(ctx.mill, ROUNDING_SETTING, session=ctx.session)
    return RoundingRule(scope=str(stored.get("scope") or "line"),
                        mode=str(stored.get("mode") or "half_up"))


# ---- checking and rounding what plugins return ------------------------------------------


def _checked(plugin: str, stage: str, item: Any, order: Order) -> Adjustment:
    def refuse(reason: str) -> PluginError:
        return PluginError(plugin, "price_adjustments",
                           f"a bad adjustment in the {stage} stage: {reason}")

    if not isinstance(item, Adjustment):
        raise refuse(f"{item!r} is not an Adjustment.")
    if item.kind not in STAGE_KINDS[stage]:
        raise refuse(f"kind {item.kind!r} does not belong in this stage (expected "
                     f"{' or '.join(STAGE_KINDS[stage])}).")
    amount = item.amount
    if isinstance(amount, bool) or not isinstance(amount, int | Decimal) \
            or (isinstance(amount, Decimal) and not amount.is_finite()):
        raise refuse(f"amount {amount!r} is not minor units (an int or a Decimal).")
    if amount < 0:
        raise refuse(f"amount {amount} is negative; amounts are positive, the kind gives "
                     f"the direction.")
    if not (item.label or "").strip():
        raise refuse("an adjustment needs a label.")
    line_ids = {line.id for line in order.lines}
    if item.line_id is not None and item.line_id not in line_ids:
        raise refuse(f"line {item.line_id} is not a line of order {order.number}.")
    if stage == "tax" and item.line_id is None:
        raise refuse("tax of the tax stage names its line (line_id).")
    if stage == "fee_tax" and item.line_id is not None:
        raise refuse("tax on fees names no line.")
    if item.included and item.kind != "tax":
        raise refuse("only tax can be included in the price.")
    return attrs.evolve(item, source=plugin, stage=stage, label=item.label.strip()[:200])


def _round_all(items: Sequence[Adjustment], rule: RoundingRule) -> list[Adjustment]:
    """Integer amounts by the rule; per document each (kind, rate, included) group's exact
    sum is rounded once and spread over its members by largest remainder."""
    if rule.scope == "line":
        return [attrs.evolve(item, amount=rule.round(Decimal(item.amount))) for item in items]
    groups: dict[tuple[str, Decimal | None, bool], list[int]] = {}
    for index, item in enumerate(items):
        groups.setdefault((item.kind, item.rate, item.included), []).append(index)
    rounded: list[int] = [0] * len(items)
    for members in groups.values():
        exact = [Decimal(items[i].amount) for i in members]
        target = rule.round(sum(exact, Decimal(0)))
        floors = [int(value.to_integral_value(rounding=ROUND_FLOOR)) for value in exact]
        spare = target - sum(floors)
        order = sorted(range(len(members)), key=lambda k: exact[k] - floors[k], reverse=True)
        for k in order[:max(0, spare)]:
            floors[k] += 1
        for member, value in zip(members, floors, strict=True):
            rounded[member] = value
    return [attrs.evolve(item, amount=rounded[i]) for i, item in enumerate(items)]


# ---- applying them ----------------------------------------------------------------------


def _apply(order: Order, item: Adjustment, lines: dict[int, OrderLine]) -> None:
    amount = int(item.amount)
    if item.kind == "discount":
        targets = [lines[item.line_id]] if item.line_id is not None else \
            [line for line in order.lines if line.total > 0]
        room = sum(line.total for line in targets)
        if amount > room:
            raise PluginError(item.source, "price_adjustments",
                              f"a discount of {amount} minor units is more than the {room} "
                              f"left to discount.")
        for line, share in zip(targets, allocate(amount, [t.total for t in targets]),
                               strict=True):
            line.discount += share
            line.total -= share
    elif item.kind == "tax" and item.line_id is not None:
        line = lines[item.line_id]
        line.tax += amount
        if not item.included:
            line.total += amount
        elif line.tax > line.total:
            raise PluginError(item.source, "price_adjustments",
                              f"more tax included in line {line.id} than its price.")


def _reset_lines(order: Order, kept: Sequence[Adjustment]) -> None:
    """Lines back to their price before plugins: the core's promo discount only."""
    promo: dict[int | None, int] = {}
    for item in kept:
        promo[item.line_id] = promo.get(item.line_id, 0) + int(item.amount)
    for line in order.lines:
        line.discount = promo.get(line.id, 0)
        line.tax = 0
        line.total = line.unit_price * line.quantity - line.discount


def promo_adjustments(lines: Iterable[OrderLine], code: str) -> list[Adjustment]:
    """The promo discount the core spread over `lines` (pricing.apply_discount), one per
    line: the input of the discount stage."""
    label = f"Promo code {code}"
    return [Adjustment("discount", label, line.discount, line_id=line.id, code=code,
                       source=CORE_SOURCE, stage="discount")
            for line in lines if line.discount > 0]


def stored_core_adjustments(order: Order) -> list[Adjustment]:
    """The core's own adjustments already on the order (its promo discounts)."""
    return [_from_row(row) for row in order.adjustments if row.source == CORE_SOURCE]


def price_order(order: Order, ctx: ActionContext, core_items: Sequence[Adjustment]) -> None:
    """Run the four stages on `order` (lines flushed, so they have ids) and store the result.

    `core_items` are the core's promo discounts, already in the lines' `discount`.
    Every line's tax and total, and the order's discount, fee_total, tax_total and total
    are set from scratch; the order's adjustment rows are replaced.
    """
    rule = rounding_rule(ctx)
    _reset_lines(order, core_items)
    lines = {line.id: line for line in order.lines}
    made: list[Adjustment] = list(core_items)
    for stage in STAGES:
        outcome = ctx.mill.plugins.call("price_adjustments", order=order, stage=stage,
                                        adjustments=tuple(made), ctx=ctx)
        returned = [_checked(plugin, stage, item, order)
                    for plugin, result in outcome.results for item in _items(plugin, result)]
        for item in _round_all(returned, rule):
            _apply(order, item, lines)
            made.append(item)
    fee_total = sum(int(i.amount) for i in made if i.kind in ("fee", "shipping"))
    fee_tax = sum(int(i.amount) for i in made if i.kind == "tax" and i.line_id is None)
    order.discount = sum(line.discount for line in order.lines)
    order.fee_total = fee_total
    order.tax_total = sum(line.tax for line in order.lines) + fee_tax
    order.total = sum(line.total for line in order.lines) + fee_total + fee_tax
    for index, line in enumerate(order.lines):
        check_bound(line.total, order.currency, f"lines.{index}.total")
    check_bound(order.total, order.currency, "total")
    now = utcnow()
    order.adjustments = [_to_row(item, position, now)  # type: ignore[attr-defined]
                         for position, item in enumerate(made)]


def _items(plugin: str, result: Any) -> list[Any]:
    if isinstance(result, Adjustment):
        return [result]
    try:
        return list(result)
    except TypeError:
        raise PluginError(plugin, "price_adjustments",
                          f"answered {result!r}, not a list of Adjustment.") from None


def _to_row(item: Adjustment, position: int, now: Any) -> OrderAdjustment:
    return OrderAdjustment(stage=item.stage, kind=item.kind, label=item.label,
                           amount=int(item.amount), line_id=item.line_id, rate=item.rate,
                           code=item.code, included=item.included, source=item.source,
                           position=position, created_at=now)


def _from_row(row: OrderAdjustment) -> Adjustment:
    return Adjustment(row.kind, row.label, row.amount, line_id=row.line_id, rate=row.rate,
                      code=row.code, included=row.included, source=row.source,
                      stage=row.stage)


def adjustments_of(order: Order) -> list[Adjustment]:
    """The order's stored adjustments, in the order they were made."""
    return [_from_row(row) for row in order.adjustments]  # type: ignore[attr-defined]


def fee_gross(order: Order) -> int:
    """Fees and shipping with their tax: what the buyer pays on top of the lines."""
    return (order.fee_total or 0) + (order.tax_total or 0) \
        - sum(line.tax or 0 for line in order.lines)


@contextmanager
def provisional_line_ids(order: Order) -> Iterator[None]:
    """Number an unsaved order's lines -1, -2, ... while it is priced, so adjustments can
    name them before the order is inserted (once, so its version stays 1); afterwards the
    lines have no id again and settle_line_ids gives the adjustments their real ids."""
    for index, line in enumerate(order.lines, start=1):
        line.id = -index
    try:
        yield
    finally:
        for line in order.lines:
            line.id = None  # type: ignore[assignment]


def settle_line_ids(order: Order, rows: Iterable[OrderAdjustment] | None = None) -> None:
    """After the lines' insert: adjustments of provisional lines (-1, -2, ...) name real ids
    (`rows`: adjustments taken out of `order.adjustments` to be inserted next)."""
    for row in order.adjustments if rows is None else rows:  # type: ignore[attr-defined]
        if row.line_id is not None and row.line_id < 0:
            row.line_id = order.lines[-row.line_id - 1].id


def fee_shares(order: Order) -> list[int]:
    """Each line's share of the fees (with their tax), in the order of `order.lines`, by
    the lines' totals: a line refunded or cancelled takes its share with it."""
    weights = [max(0, line.total) for line in order.lines]
    if not any(weights):  # every line free (a 100 % promo): the fee is shared equally
        weights = [1] * len(weights)
    return allocate(max(0, fee_gross(order)), weights)


def line_fee_share(order: Order, line: OrderLine) -> int:
    for candidate, share in zip(order.lines, fee_shares(order), strict=True):
        if candidate is line:
            return share
    return 0


__all__ = ["KINDS", "STAGES", "Adjustment", "RoundingRule", "adjustments_of", "fee_gross",
           "fee_shares", "line_fee_share", "price_order", "promo_adjustments",
           "rounding_rule", "stored_core_adjustments"]
