"""The tax a refund returns, per rate, recorded on its refund payments (RefundTax rows).

A line refund returns the line's money and its share of the fees (billing.line_value_left);
its tax is the line's tax, and the fees' tax, in proportion to the part of the line's value
refunded, counted cumulatively (what the line's refunds returned so far is rounded once), so
refunding a whole line, in one go or in parts, returns exactly its tax. An amount refunded
without lines is split into net and tax by the order's tax per rate. Whatever the rounding,
a rate never returns more tax than the order charged at it, and each refund's rows add up to
its amount (net + tax). The credit note reads the rows (`refund_tax_rows`).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction

from sqlalchemy import select
from sqlalchemy.orm import Session

from ordermill.core.adjustments import fee_gross, fee_shares
from ordermill.core.models import Order, OrderLine, Payment, utcnow
from ordermill.core.money import allocate
from ordermill.core.tax_models import RefundTax

Key = tuple[str, Decimal | None]  # (part: "goods" or "fees", rate in percent)


def _round(value: Fraction) -> int:
    """Half up, on exact fractions."""
    return int((value + Fraction(1, 2)).__floor__())


def line_taxes(order: Order, line: OrderLine) -> dict[Decimal | None, int]:
    """The tax in the line's total now, per rate. The rates come from the tax adjustments of
    the line it was split from (units cancelled or refunded apart keep their line's rows), the
    amounts from the line's own `tax`, spread over those rates as they were charged."""
    by_id = {other.id: other for other in order.lines}
    root = line
    while root.parent_line_id is not None and root.parent_line_id in by_id:
        root = by_id[root.parent_line_id]
    charged: dict[Decimal | None, int] = {}
    for row in order.adjustments:  # type: ignore[attr-defined]
        if row.kind == "tax" and row.line_id == root.id:
            charged[row.rate] = charged.get(row.rate, 0) + row.amount
    whole = sum(charged.values())
    if not charged or whole == 0 or line.tax == whole:
        return charged or {None: 0}
    taxes = {rate: line.tax * amount // whole for rate, amount in charged.items()}
    main = max(charged, key=lambda rate: (charged[rate], rate or 0))
    taxes[main] += line.tax - sum(taxes.values())
    return taxes


def _fee_taxes(order: Order) -> dict[Decimal | None, int]:
    taxes: dict[Decimal | None, int] = {}
    for row in order.adjustments:  # type: ignore[attr-defined]
        if row.kind == "tax" and row.line_id is None:
            taxes[row.rate] = taxes.get(row.rate, 0) + row.amount
    return taxes or {None: 0}


def charged_tax(order: Order) -> dict[Key, int]:
    """The tax the order charged, per (part, rate)."""
    charged: dict[Key, int] = {}
    for line in order.lines:
        for rate, tax in line_taxes(order, line).items():
            charged[("goods", rate)] = charged.get(("goods", rate), 0) + tax
    if fee_gross(order) > 0:
        for rate, tax in _fee_taxes(order).items():
            charged[("fees", rate)] = charged.get(("fees", rate), 0) + tax
    return charged


def refunded_tax(session: Session, order: Order) -> dict[Key, int]:
    """The tax refunds of the order returned so far, per (part, rate)."""
    done: dict[Key, int] = {}
    for row in session.scalars(select(RefundTax).where(RefundTax.order_id == order.id)):
        key = (row.part, row.rate)
        done[key] = done.get(key, 0) + row.tax
    return done


def _add(rows: dict[Key, list[int]], key: Key, net: int, tax: int) -> None:
    entry = rows.setdefault(key, [0, 0])
    entry[0] += net
    entry[1] += tax


def _line_rows(order: Order, line: OrderLine, fee_share: int, share: int,
               rows: dict[Key, list[int]]) -> None:
    """This refund's `share` of a line: tax by the line's cumulative refunds."""
    value = line.total + fee_share
    if value <= 0 or share <= 0:
        return
    after = line.refunded_amount
    before = after - share

    def part(amount: int | Fraction) -> int:
        return _round(Fraction(amount) * after / value) - _round(Fraction(amount) * before
                                                                 / value)

    goods_gross = part(line.total)
    goods_taxes = {rate: part(tax) for rate, tax in line_taxes(order, line).items()}
    _spread(rows, "goods", goods_gross, goods_taxes)
    fees_gross = share - goods_gross
    if fee_share > 0:
        gross = fee_gross(order)
        fee_taxes = {rate: part(Fraction(tax * fee_share, gross))
                     for rate, tax in _fee_taxes(order).items()}
        _spread(rows, "fees", fees_gross, fee_taxes)
    elif fees_gross:
        _add(rows, ("goods", next(iter(goods_taxes))), fees_gross, 0)


def _spread(rows: dict[Key, list[int]], part: str, gross: int,
            taxes: dict[Decimal | None, int]) -> None:
    """Gross of one part: its taxes per rate, the net on the rate with the most tax."""
    net = gross - sum(taxes.values())
    main = max(taxes, key=lambda rate: (taxes[rate], rate or 0))
    for rate, tax in taxes.items():
        _add(rows, (part, rate), net if rate == main else 0, tax)


def _amount_rows(order: Order, amount: int, rows: dict[Key, list[int]]) -> None:
    """An amount with no line: net and tax by the order's tax per rate."""
    if amount <= 0:
        return
    charged = charged_tax(order)
    if order.total <= 0:
        _add(rows, ("goods", None), amount, 0)
        return
    taxes = {key: _round(Fraction(amount * tax, order.total)) for key, tax in charged.items()}
    net_bases: dict[Key, int] = {}
    for line in order.lines:
        taxes_of_line = line_taxes(order, line)
        main = max(taxes_of_line, key=lambda rate: (taxes_of_line[rate], rate or 0))
        key = ("goods", main)
        net_bases[key] = net_bases.get(key, 0) + line.total - sum(taxes_of_line.values())
    if fee_gross(order) > 0:
        fee_taxes = _fee_taxes(order)
        main = max(fee_taxes, key=lambda rate: (fee_taxes[rate], rate or 0))
        net_bases[("fees", main)] = order.fee_total
    net = amount - sum(taxes.values())
    keys = sorted(set(taxes) | set(net_bases), key=lambda k: (k[0], k[1] or 0))
    weights = [max(0, net_bases.get(k, 0)) for k in keys]
    if not any(weights):
        weights[0] = 1
    for key, share in zip(keys, allocate(max(net, 0), weights), strict=True):
        _add(rows, key, share, taxes.get(key, 0))
    if net < 0:  # rounding took more tax than the amount: give it back to the first rate
        _add(rows, keys[0], 0, net)


def record_refund_tax(session: Session, order: Order, refunds: Sequence[Payment],
                      lines: Sequence[OrderLine], shares: Sequence[int], total: int) -> None:
    """Store the tax of a refund of `total` (of which `shares` went to `lines`, already
    added to their refunded_amount) on its refund payments."""
    if not refunds or total <= 0:
        return
    rows: dict[Key, list[int]] = {}
    fees = dict(zip((id(line) for line in order.lines), fee_shares(order), strict=True))
    for line, share in zip(lines, shares, strict=True):
        _line_rows(order, line, fees.get(id(line), 0), share, rows)
    _amount_rows(order, total - sum(shares), rows)
    _cap_to_charged(session, order, rows)
    _store(session, order, refunds, rows)


def _cap_to_charged(session: Session, order: Order, rows: dict[Key, list[int]]) -> None:
    """No rate returns more tax than it was charged: the excess is net."""
    charged = charged_tax(order)
    done = refunded_tax(session, order)
    for key, entry in rows.items():
        room = max(0, charged.get(key, 0) - done.get(key, 0))
        if entry[1] > room:
            entry[0] += entry[1] - room
            entry[1] = room
        if entry[1] < 0:
            entry[0] += entry[1]
            entry[1] = 0


def _store(session: Session, order: Order, refunds: Sequence[Payment],
           rows: dict[Key, list[int]]) -> None:
    weights = [refund.amount for refund in refunds]
    now = utcnow()
    for (part, rate), (net, tax) in sorted(rows.items(), key=lambda r: (r[0][0],
                                                                        r[0][1] or 0)):
        if net == 0 and tax == 0:
            continue
        for refund, net_part, tax_part in zip(refunds, _split(net, weights),
                                              _split(tax, weights), strict=True):
            if net_part or tax_part:
                refund.refund_taxes.append(RefundTax(  # type: ignore[attr-defined]
                    order_id=order.id, part=part, rate=rate, net=net_part, tax=tax_part,
                    currency=order.currency, created_at=now))
    session.flush()


def _split(amount: int, weights: list[int]) -> list[int]:
    if amount >= 0:
        return allocate(amount, weights)
    return [-share for share in allocate(-amount, weights)]


def refund_tax_rows(session: Session, payment_ids: Sequence[int]) -> list[RefundTax]:
    """The tax rows of these refund payments (a credit note's tax summary)."""
    if not payment_ids:
        return []
    return list(session.scalars(select(RefundTax).where(RefundTax.payment_id.in_(
        list(payment_ids))).order_by(RefundTax.id)))


__all__ = ["charged_tax", "record_refund_tax", "refund_tax_rows", "refunded_tax"]
