"""Placing an order: price it, apply the promo, reserve stock, draw its number, check fraud;
idempotent by the request's key."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from ordermill.core import adjustments, billing, countries, invoicing, pricing
from ordermill.core.catalogue import prices, promotions
from ordermill.core.context import ActionContext
from ordermill.core.errors import ActionNotAllowed, InvalidInput, PermissionDenied
from ordermill.core.hot_sql import HotStatement
from ordermill.core.i18n import event_msg
from ordermill.core.i18n import gettext as _
from ordermill.core.labels import gateway_param
from ordermill.core.models import Customer, Order, utcnow
from ordermill.core.money import Money
from ordermill.core.orders import saving
from ordermill.core.orders.runner import ActionResult, Change, _order_loader
from ordermill.core.orders.steps import OrderSteps
from ordermill.core.permissions import require
from ordermill.core.persistent import persistent
from ordermill.core.requests import CustomerDetails, OrderRequest
from ordermill.core.retry import retry_once
from ordermill.core.serialize import money_text, pricing_preview, pricing_summary
from ordermill.core.specs import Actor, FraudResult
from ordermill.core.statuses import store_payment_status

NUMBER_ATTEMPTS = 5
PRICED_PRODUCTS = "ordermill.priced_products"


@cache
def _customer_query() -> HotStatement:
    """The buyer's customer row by e-mail, built once (the e-mail is its parameter)."""
    table = Customer.__table__
    return HotStatement(select(*table.c).where(table.c.email == bindparam("email"))
                        .order_by(table.c.id).limit(1))


class PlacingActions(OrderSteps):
    """`place` and its parts."""

    def place(self, request: OrderRequest, *, actor: Actor, dry_run: bool = False
              ) -> ActionResult:
        """Place an order: price it, apply the promo, reserve stock, number it, check fraud.

        Idempotent by `request.idempotency_key`: the same key returns the first order (and a
        different request under the same key is refused).
        """
        require(actor, "place_orders")
        if any(line.price_override is not None for line in request.lines) \
                and actor.kind not in ("system", "user", "token"):
            raise PermissionDenied(_("Only staff may override prices."))
        if actor.kind not in ("system", "user", "token") and (
                request.invoice_plan or not request.generate_invoice
                or request.sales_manager_id is not None):
            raise PermissionDenied(_("Only staff may plan invoices, skip the invoice or name a "
                                     "sales manager."))
        gateways = self.mill.gateways
        if gateways and request.payment_method not in gateways:
            raise InvalidInput(
                _("Unknown payment method %(method)s; choose one of %(choices)s.",
                  method=repr(request.payment_method), choices=", ".join(sorted(gateways))),
                details={"field": "payment_method"})
        last_error: IntegrityError | None = None
        for _attempt in range(NUMBER_ATTEMPTS):
            try:
                return self._place_once(request, actor, dry_run)
            except IntegrityError as error:
                text = str(error.orig).lower()
                if "idempotency" in text and request.idempotency_key:
                    existing = self._by_idempotency_key(request)
                    if existing is not None:
                        return existing
                if "number" not in text:
                    raise
                last_error = error  # two orders drew the same number: draw again
        raise ActionNotAllowed(_("Could not draw a free order number; try again.")) from last_error

    def _by_idempotency_key(self, request: OrderRequest) -> ActionResult | None:
        with self.mill.read_session() as session:
            order = session.scalar(
                _order_loader().where(Order.idempotency_key == request.idempotency_key))
        if order is None:
            return None
        if request.request_fingerprint and order.request_fingerprint \
                and order.request_fingerprint != request.request_fingerprint:
            raise InvalidInput(
                _("This Idempotency-Key was already used for a different order request."),
                details={"idempotency_key": request.idempotency_key},
            )
        return ActionResult(order, None, {"action": "place", "number": order.number,
                                          "replayed": True})

    @retry_once
    def _place_once(self, request: OrderRequest, actor: Actor, dry_run: bool) -> ActionResult:
        ctx = ActionContext(self.mill, actor, "place", dry_run=dry_run)
        if request.idempotency_key:
            replay = self._by_idempotency_key(request)
            if replay is not None:
                return replay
        with self._transaction(ctx) as session:
            order, results = self._build_and_save(session, request, ctx)
            change = Change(
                "placed",
                event_msg("Order placed by %(name)s (%(email)s), %(total)s, payment by "
                          "%(gateway)s.", name=request.customer.name,
                          email=request.customer.email, total=Money(order.total, order.currency),
                          gateway=gateway_param(self.mill, request.payment_method)),
                data={"total": money_text(order.total, order.currency),
                      **pricing_summary(order),
                      "fraud_score": str(order.fraud_score) if order.fraud_score else None},
                comment=request.note,
            )
            if order.status == "fraud":
                change.message += " " + event_msg(
                    "Fraud score %(score)s is over the threshold %(threshold)s: set to Fraud.",
                    score=str(order.fraud_score), threshold=str(self.mill.fraud_threshold))
            event = self._record(session, order, ctx, change, status_from=None, placed=True)
            preview = self._preview("place", order, {"status": None, "payment_status": None,
                                                     "summary": None}, change, ctx)
            preview["pricing"] = pricing_preview(order)
        if dry_run:
            return ActionResult(None, None, preview, dry_run=True)
        calls: list[tuple[str, dict[str, Any]]] = [("on_order_placed", {"order": order})]
        if results:
            calls.append(("on_fraud_checked", {"order": order, "results": results}))
        if order.status == "fraud":
            calls.append(("on_fraud", {"order": order}))
        failures = self._after_commit(order, calls, ctx)
        return ActionResult(order, event, preview, hook_failures=tuple(failures))

    def _customer(self, session: Session, details: CustomerDetails) -> Customer:
        rows = _customer_query().rows(session.connection(), {"email": details.email})
        # a Core row made into the object a query would load (core/persistent.py)
        customer = persistent(session, Customer, rows[0]) if rows else None
        if customer is None:
            customer = Customer(email=details.email, name=details.name, phone=details.phone,
                                company=details.company,
                                billing_address=dict(details.billing_address),
                                language=details.language, vat_id=details.vat_id,
                                created_at=utcnow())
            saving.insert_one(session, customer)  # its id now, without a flush of its own
        elif details.vat_id and customer.vat_id != details.vat_id:
            customer.vat_id = details.vat_id  # the buyer's latest VAT number
        return customer

    def _draw_number(self, ctx: ActionContext) -> str:
        chosen = self.mill.plugins.call("generate_order_number", ctx=ctx)
        if chosen.results:
            plugin, number = chosen.results[0]
            if not (isinstance(number, str) and len(number) == 10 and number.isdigit()):
                raise InvalidInput(_("Plugin %(plugin)s made order number %(number)s; numbers "
                                     "must be exactly 10 digits.", plugin=repr(plugin),
                                     number=repr(number)))
            return number
        return str(secrets.randbelow(9 * 10**9) + 10**9)

    def _build_and_save(self, session: Session, request: OrderRequest, ctx: ActionContext
                        ) -> tuple[Order, list[FraudResult]]:
        products, table = pricing.load_priced_products(
            session, [line.sku for line in request.lines])
        # held for the transaction: the identity map holds rows weakly, and a hook reading a
        # line's product (tax classes, provisioning modules) finds it there without SQL
        session.info[PRICED_PRODUCTS] = products
        promo = pricing.load_promo(session, request.promo_code)
        currency = prices.order_currency(session, products, request.currency,
                                         self.mill.settings.default_currency, table=table)
        lines, currency = pricing.build_lines(
            request.lines, products, currency,
            prices=prices.unit_prices(session, products, currency, table=table))
        subtotal = sum(line.unit_price * line.quantity for line in lines)
        outcome = promotions.check_and_price(
            session, promo, lines, currency, email=request.customer.email,
            statuses_closed=[spec.name for spec in self.mill.statuses
                             if spec.category in ("cancelled", "fraud")],
            overridden=any(line.price_override is not None for line in request.lines))
        discount = outcome.discount
        pricing.apply_discount(outcome.lines, discount)
        customer = self._customer(session, request.customer)
        details = request.customer
        billing_address = countries.checked_billing_address(details.billing_address)
        now = utcnow()
        order = Order(
            number=self._draw_number(ctx), status=self.mill.statuses.first_of_category("pending"),
            buyer_name=details.name, buyer_email=details.email,
            buyer_phone=details.phone, billing_address=billing_address,
            language=details.language, currency=currency, subtotal=subtotal, discount=discount,
            total=subtotal - discount, fee_total=0, tax_total=0, vat_id=details.vat_id,
            promo_code=promo.code if promo else None,
            payment_method=request.payment_method, customer_ip=request.customer_ip,
            affiliate=request.affiliate, sales_manager_id=request.sales_manager_id,
            customer_note=request.note, idempotency_key=request.idempotency_key,
            request_fingerprint=request.request_fingerprint, placed_at=now, updated_at=now,
            version=1,
            plugin_data={name: dict(values) for name, values in request.plugin_data.items()},
        )
        order.lines = lines
        for empty in ("invoices", "payments", "fraud_checks", "credit_notes"):
            # known empty, without history to flush (rows appended later still are)
            set_committed_value(order, empty, [])
        self._reserve(session, lines, products, order.number)
        promotions.claim(session, promo, order.number, request.customer.email)
        # priced before the order is saved (it is inserted once, at version 1): the lines
        # carry provisional ids for price_adjustments until then
        with adjustments.provisional_line_ids(order):
            adjustments.price_order(order, ctx, adjustments.promo_adjustments(
                lines, promo.code) if promo else [])
        if request.generate_invoice and order.total > 0:
            self._plan_invoices(order, request.invoice_plan)
        self.mill.plugins.call("validate_order", order=order, ctx=ctx)
        if customer.id is None:
            session.flush()
        order.customer_id = customer.id
        session.add(order)
        results = self._run_fraud_checks(order, ctx)
        if request.generate_invoice:
            # issued on the priced lines (the adjustments still name their provisional ids)
            # and, the fraud checks done, numbered at once: each row is inserted once, whole
            with adjustments.provisional_line_ids(order):
                issued = invoicing.issue_open(order)
            if not ctx.dry_run:
                invoicing.number_now(session, issued, ctx)
        store_payment_status(order)  # inserted with the order's row
        batched = saving.batch_lines(session, order)  # SQLite: one INSERT for the lines
        invoice = saving.take_invoice(session, order)  # one INSERT, outside the flush
        priced = saving.take_adjustments(session, order)  # inserted once the lines have ids
        saving.insert_order(session, order)  # its own INSERT when nothing rides on its flush
        session.flush()
        if batched is not None:
            saving.insert_lines(session, order, batched)
        if invoice is not None:
            saving.insert_invoice(session, order, invoice)
        if priced is not None:
            adjustments.settle_line_ids(order, priced)
            saving.insert_adjustments(session, order, priced)
        self.mill.plugins.call("order_saved", order=order, ctx=ctx)
        return order, results

    def _plan_invoices(self, order: Order, plan: Sequence[int] | None) -> None:
        amounts = list(plan) if plan else [order.total]
        if any(isinstance(a, bool) or not isinstance(a, int) or a <= 0 for a in amounts) \
                or sum(amounts) != order.total:
            raise InvalidInput(
                _("The invoice plan must be positive amounts adding up to the order total "
                  "%(total)s.", total=money_text(order.total, order.currency)),
                details={"field": "invoice_plan"})
        for index, amount in enumerate(amounts, start=1):
            label = f"Part {index} of {len(amounts)}" if len(amounts) > 1 else "Order"
            billing.new_invoice(order, amount, label)
