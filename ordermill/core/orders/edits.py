"""Editing a placed order: add products, change the buyer, comment, record dispatch and
delivery."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from ordermill.core import adjustments, billing, countries, pricing
from ordermill.core.catalogue import prices
from ordermill.core.context import ActionContext
from ordermill.core.errors import ActionNotAllowed, InvalidInput
from ordermill.core.i18n import event_msg
from ordermill.core.i18n import gettext as _
from ordermill.core.labels import status_label
from ordermill.core.models import Order, utcnow
from ordermill.core.orders.runner import ActionResult, Change
from ordermill.core.orders.steps import OrderSteps
from ordermill.core.requests import CustomerDetails, LineRequest
from ordermill.core.serialize import adjustments_to_list, money_text, pricing_summary
from ordermill.core.specs import Actor
from ordermill.core.statuses import ENDED_CATEGORIES, OPEN_CATEGORIES, payment_status

BUYER_FIELDS = ("name", "email", "phone", "billing_address", "language")


class EditingActions(OrderSteps):
    """Changes to an order that keep its status."""

    def add_lines(self, number: str, lines: Sequence[LineRequest], *, actor: Actor,
                  expected_version: int | None = None, dry_run: bool = False,
                  comment: str | None = None) -> ActionResult:
        """Add products to a placed order (osConcert 'Add Products'): priced, stock reserved,
        and invoiced on a new invoice."""
        if not lines:
            raise InvalidInput(_("Choose at least one product to add."))

        def work(session: Session, order: Order, ctx: ActionContext) -> Change:
            if self._category(order) not in OPEN_CATEGORIES:
                raise ActionNotAllowed(
                    _("Products can only be added to pending or active orders; order "
                      "%(number)s is %(status)s.", number=order.number,
                      status=status_label(self.mill, order.status)))
            products = pricing.load_products(session, [line.sku for line in lines])
            new_lines, _n = pricing.build_lines(lines, products, order.currency, order.subtotal,
                                               prices=prices.unit_prices(
                                                   session, products, order.currency))
            promo = pricing.active_promo(session, order.promo_code)
            if promo is not None and promo.kind == "percent":
                added = sum(line.unit_price * line.quantity for line in new_lines)
                pricing.apply_discount(new_lines, pricing.promo_discount(promo, added,
                                                                         order.currency))
            self._reserve(session, new_lines, products, order.number)
            for line in new_lines:
                order.lines.append(line)
            session.flush()  # the new lines get their ids for price_adjustments
            order.subtotal += sum(line.unit_price * line.quantity for line in new_lines)
            # re-price the whole order: the lines keep their promo discount, the stages run
            # again (a fee grows with the goods), totals and adjustments are replaced
            code = order.promo_code or ""
            old_lines = [line for line in order.lines if line not in new_lines]
            # an order placed before adjustments were stored: its discounts are the promo's
            kept = adjustments.stored_core_adjustments(order) if order.adjustments \
                else adjustments.promo_adjustments(old_lines, code or "promo")
            adjustments.price_order(order, ctx, [*kept, *adjustments.promo_adjustments(
                new_lines, code)])
            billing.sync_invoices(order, allow_new=True)
            if payment_status(order) != "paid":
                order.paid_at = None
            session.flush()
            added_text = ", ".join(f"{line.name} x{line.quantity}" for line in new_lines)
            summary = [{"id": line.id, "sku": line.sku, "quantity": line.quantity,
                        "total": money_text(line.total, order.currency)} for line in new_lines]
            return Change("lines_added", event_msg("Added %(lines)s.", lines=added_text),
                          comment=comment,
                          data={"lines": summary,
                                "total": money_text(order.total, order.currency),
                                **pricing_summary(order),
                                "adjustments": adjustments_to_list(order)},
                          after=[("on_order_edited", {"order": order,
                                                      "changes": {"added_lines": summary}})])

        return self._run("add_lines", number, "edit_orders", work, actor=actor,
                         expected_version=expected_version, dry_run=dry_run)

    def edit_buyer(self, number: str, changes: Mapping[str, Any], *, actor: Actor,
                   expected_version: int | None = None, dry_run: bool = False
                   ) -> ActionResult:
        """Edit the buyer's name, e-mail, phone, billing address or language on this order."""
        unknown = set(changes) - set(BUYER_FIELDS)
        if unknown:
            raise InvalidInput(_("Unknown buyer field(s): %(fields)s.",
                                 fields=", ".join(sorted(unknown))))
        if not changes:
            raise InvalidInput(_("Nothing to change."))

        def work(session: Session, order: Order, ctx: ActionContext) -> Change:
            current = CustomerDetails(email=order.buyer_email, name=order.buyer_name,
                                      phone=order.buyer_phone,
                                      billing_address=order.billing_address,
                                      language=order.language)
            merged = {f: getattr(current, f) for f in BUYER_FIELDS}
            merged.update(changes)
            if "billing_address" in changes:
                merged["billing_address"] = countries.checked_billing_address(
                    changes["billing_address"] or {})
            checked = CustomerDetails(**merged)
            diff: dict[str, list[Any]] = {}
            for field, column in (("name", "buyer_name"), ("email", "buyer_email"),
                                  ("phone", "buyer_phone"),
                                  ("billing_address", "billing_address"),
                                  ("language", "language")):
                new = getattr(checked, field)
                new = dict(new) if field == "billing_address" else new
                if getattr(order, column) != new:
                    diff[field] = [getattr(order, column), new]
                    setattr(order, column, new)
            if not diff:
                raise InvalidInput(_("These buyer details are already on the order."))
            return Change("buyer_edited", event_msg("Buyer details changed: %(changes)s.",
                                                changes=", ".join(diff)),
                          data={"changes": diff},
                          after=[("on_order_edited", {"order": order,
                                                      "changes": {"buyer": diff}})])

        return self._run("edit_buyer", number, "edit_orders", work, actor=actor,
                         expected_version=expected_version, dry_run=dry_run)

    def add_comment(self, number: str, text: str, *, actor: Actor, notify_customer: bool = False,
                    visible_to_customer: bool = False, expected_version: int | None = None,
                    dry_run: bool = False) -> ActionResult:
        """A progress comment (Kartris): optionally e-mailed and shown to the customer."""
        if not (text or "").strip():
            raise InvalidInput(_("A comment cannot be empty."))
        if "\x00" in text or any("\ud800" <= char <= "\udfff" for char in text):
            # PostgreSQL cannot store these (SQLite would): refuse alike on both, clearly
            raise InvalidInput(_("A comment cannot contain NUL characters or unpaired "
                                 "surrogates."))

        def work(session: Session, order: Order, ctx: ActionContext) -> Change:
            change = Change("comment", event_msg("Comment added."), comment=text.strip(),
                            notify_customer=notify_customer,
                            visible_to_customer=visible_to_customer or notify_customer)
            change.after.append(("on_comment_added", {"order": order, "event": None}))
            return change

        result = self._run("add_comment", number, "edit_orders", work, actor=actor,
                           expected_version=expected_version, dry_run=dry_run)
        return result

    def mark_dispatched(self, number: str, *, actor: Actor, at: dt.datetime | None = None,
                        expected_version: int | None = None, comment: str | None = None,
                        notify_customer: bool = True, dry_run: bool = False) -> ActionResult:
        """Record that the goods left (Kartris 'dispatched')."""
        return self._fulfil(number, "dispatched_at", "dispatched", at, actor, expected_version,
                            comment, notify_customer, dry_run)

    def mark_delivered(self, number: str, *, actor: Actor, at: dt.datetime | None = None,
                       expected_version: int | None = None, comment: str | None = None,
                       notify_customer: bool = True, dry_run: bool = False) -> ActionResult:
        """Record the delivery date (osConcert)."""
        return self._fulfil(number, "delivered_at", "delivered", at, actor, expected_version,
                            comment, notify_customer, dry_run)

    def _fulfil(self, number: str, column: str, verb: str, at: dt.datetime | None,
                actor: Actor, expected_version: int | None, comment: str | None,
                notify_customer: bool, dry_run: bool) -> ActionResult:
        if at is not None and at.tzinfo is None:
            raise InvalidInput(_("The dispatched date needs a time zone.") if verb == "dispatched"
                               else _("The delivered date needs a time zone."))

        def work(session: Session, order: Order, ctx: ActionContext) -> Change:
            if self._category(order) in ENDED_CATEGORIES:
                status = status_label(self.mill, order.status)
                raise ActionNotAllowed(
                    _("Order %(number)s is %(status)s; it cannot be marked dispatched.",
                      number=order.number, status=status) if verb == "dispatched" else
                    _("Order %(number)s is %(status)s; it cannot be marked delivered.",
                      number=order.number, status=status))
            when = at or utcnow()
            setattr(order, column, when)
            day = when.date().isoformat()
            return Change(verb, event_msg("Marked dispatched on %(date)s.", date=day)
                          if verb == "dispatched" else
                          event_msg("Marked delivered on %(date)s.", date=day),
                          comment=comment, notify_customer=notify_customer,
                          visible_to_customer=notify_customer,
                          data={column: when.isoformat()},
                          after=[("on_order_edited", {"order": order,
                                                      "changes": {column: when.isoformat()}})])

        return self._run(f"mark_{verb}", number, "edit_orders", work, actor=actor,
                         expected_version=expected_version, dry_run=dry_run)
