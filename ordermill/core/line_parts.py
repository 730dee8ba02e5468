"""Cancelling or refunding some units of a line: choosing them, and splitting them off.

A line has one status, so closing 1 of 3 tickets splits the line in two: the line keeps its
id (and its tickets and services) with the units still open, and a new line, whose
`parent_line_id` names it, takes the closed units. Invoices, payment statuses, the "2/3
Complete" summary and the reports go on adding up lines by status, unchanged.

Money of a part, in integer minor units: the part's total is `total * units // quantity`
(its share of the line total after the line's discount, rounded down); the line keeps the
rest, so the last units closed carry the remainder and the parts always add up to the line.
Three tickets worth 100.00 in all close as 33.33, 33.33 and 33.34. The part's discount is
what keeps `total = unit_price * quantity - discount` true for both parts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs

from ordermill.core.errors import InvalidInput, LineAlreadyClosed, UnknownLine
from ordermill.core.models import Order, OrderLine

# {line id: units} or [(line id, units), ...]; a sequence may not name a line twice; units
# None means all of the line's units
LineQuantities = Mapping[int, int | None] | Sequence[tuple[int, int | None]]

# columns a part does not copy from its line: it gets its own values for them
OWN_COLUMNS = frozenset({"id", "quantity", "total", "discount", "tax", "units_held",
                         "units_released", "refunded_amount", "parent_line_id", "status",
                         "closed_at"})

BOTH_GIVEN = "Give line_ids or lines, not both."
NAMED_TWICE = "Line {line_id} is named twice: give each line once, with its quantity."
BAD_QUANTITY = "Line {line_id}: the quantity must be a whole number of at least 1, not {value}."
TOO_MANY = ("Cannot {verb} {wanted} of line {line_id} ({name}): it has {left} unit(s) left "
            "to {verb}.")
LINE_CLOSED = "Cannot {verb} line {line_id} ({name}): it is already {status}.{final}"
FINAL = " Cancelling is final."
NONE_CHOSEN = "No lines chosen to {verb}."


@attrs.frozen
class Pick:
    """A line and how many of its units an action closes (all of them when equal)."""

    line: OrderLine
    units: int

    @property
    def whole(self) -> bool:
        return self.units >= self.line.quantity


def wanted_units(line_ids: Sequence[int] | None, lines: LineQuantities | None
                 ) -> dict[int, int | None] | None:
    """{line id: units (None = the whole line)} from either way of choosing, or None for
    'every line'. Refuses both at once, a line named twice and a quantity below 1."""
    if line_ids is not None and lines is not None:
        raise InvalidInput(BOTH_GIVEN, details={"field": "lines"})
    if lines is None:
        return None if line_ids is None else {line_id: None for line_id in line_ids}
    pairs = list(lines.items()) if isinstance(lines, Mapping) else list(lines)
    wanted: dict[int, int | None] = {}
    for line_id, units in pairs:
        if line_id in wanted:
            raise InvalidInput(NAMED_TWICE.format(line_id=line_id),
                               details={"field": "lines", "line_id": line_id})
        if units is None:
            wanted[line_id] = None
            continue
        if isinstance(units, bool) or not isinstance(units, int) or units < 1:
            raise InvalidInput(BAD_QUANTITY.format(line_id=line_id, value=repr(units)),
                               details={"field": "lines", "line_id": line_id})
        wanted[line_id] = units
    return wanted


def pick(order: Order, wanted: Mapping[int, int | None] | None, allowed: Sequence[str],
         verb: str) -> list[Pick]:
    """The lines (and units) an action closes; checks everything before anything changes."""
    if wanted is None:
        return [Pick(line, line.quantity) for line in order.lines if line.status in allowed]
    by_id = {line.id: line for line in order.lines}
    picked = []
    for line_id, units in wanted.items():
        line = by_id.get(line_id)
        if line is None:
            raise UnknownLine(order.number, line_id)
        if line.status not in allowed:
            raise LineAlreadyClosed(
                LINE_CLOSED.format(verb=verb, line_id=line_id, name=line.name,
                                   status=line.status,
                                   final=FINAL if line.status == "cancelled" else ""),
                details={"line_id": line_id, "line_status": line.status})
        if units is not None and units > line.quantity:
            raise InvalidInput(
                TOO_MANY.format(verb=verb, wanted=units, line_id=line_id, name=line.name,
                                left=line.quantity),
                details={"field": "lines", "line_id": line_id, "quantity": units,
                         "left": line.quantity})
        picked.append(Pick(line, line.quantity if units is None else units))
    if not picked:
        raise InvalidInput(NONE_CHOSEN.format(verb=verb))
    return picked


def share(amount: int, quantity: int, units: int) -> int:
    """`units` of `quantity` units' share of `amount`, rounded down (see the module doc)."""
    return amount * units // quantity


def split_off(order: Order, chosen: Pick) -> OrderLine:
    """The line to close for `chosen`: the line itself when all its units go, else a new
    line with the chosen units, their share of the money and of the stock still held."""
    line = chosen.line
    if chosen.whole:
        return line
    units = chosen.units
    part = OrderLine(**{column.key: getattr(line, column.key)
                        for column in OrderLine.__table__.columns
                        if column.key not in OWN_COLUMNS})
    part.options = dict(line.options or {})
    part.quantity = units
    part.total = share(line.total, line.quantity, units)
    part.discount = line.unit_price * units - part.total
    part.tax = share(line.tax, line.quantity, units)  # the tax inside the part's total
    part.refunded_amount = share(line.refunded_amount, line.quantity, units)
    part.units_held = min(units, line.units_held - line.units_released)
    part.units_released = 0
    part.status = line.status
    part.closed_at = line.closed_at
    part.parent_line_id = line.id
    line.quantity -= units
    line.total -= part.total
    line.discount -= part.discount
    line.tax -= part.tax
    line.refunded_amount -= part.refunded_amount
    line.units_held -= part.units_held
    order.lines.append(part)
    return part


def parts_data(picks: Sequence[Pick]) -> list[dict[str, int]]:
    """What the event records: each chosen line by its (kept) id, with the units closed.
    The parts' own ids are left out so that a dry run answers exactly what the real call
    does on every database (a rolled-back insert still uses up a PostgreSQL id)."""
    return [{"id": chosen.line.id, "quantity": chosen.units} for chosen in picks]


__all__ = ["LineQuantities", "Pick", "parts_data", "pick", "share", "split_off",
           "wanted_units"]
