"""The order service: every action of the seeds, one transaction and one history event each.

Each action follows the same path (`_run`): check the actor's permission, load and lock the
order, check the expected version (optimistic locking), do the work, write the event, let
plugins queue outbox jobs, commit, then run the after-commit hooks. A dry run takes the very
same path and rolls back at the end, so a preview can never disagree with the action.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import attrs
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from ordermill.core import billing, inventory, pricing
from ordermill.core.context import ActionContext, jsonable
from ordermill.core.deletion import delete_order
from ordermill.core.errors import (
    ActionNotAllowed,
    IllegalTransition,
    InvalidInput,
    LineAlreadyClosed,
    OrderNotFound,
    OverRefund,
    PermissionDenied,
    StaleOrder,
    UnknownInvoice,
    UnknownLine,
)
from ordermill.core.gateway_refunds import refund_payments, refund_remarks
from ordermill.core.models import (
    Customer,
    FraudCheck,
    Order,
    OrderEvent,
    OrderLine,
    Payment,
    utcnow,
)
from ordermill.core.money import Money, allocate
from ordermill.core.outbox import enqueue
from ordermill.core.permissions import require
from ordermill.core.plugins import HookFailure
from ordermill.core.redact import public
from ordermill.core.requests import CustomerDetails, LineRequest, OrderRequest
from ordermill.core.retry import action_transaction, retry_once, retry_read
from ordermill.core.serialize import money_text, order_to_dict
from ordermill.core.specs import Actor, FraudResult
from ordermill.core.status_change import fraud_cancelled_invoices, status_change_work
from ordermill.core.statuses import (
    CLOSED_CATEGORIES,
    amount_due,
    line_summary,
    money_totals,
    payment_status,
)

log = logging.getLogger("ordermill.orders")
NUMBER_ATTEMPTS = 5
BUYER_FIELDS = ("name", "email", "phone", "billing_address", "language")


@attrs.define
class Change:
    """What an action did, as its work function reports it to `_run`."""

    event_type: str
    message: str
    data: dict[str, Any] = attrs.field(factory=dict)
    after: list[tuple[str, dict[str, Any]]] = attrs.field(factory=list)
    comment: str | None = None
    notify_customer: bool = False
    visible_to_customer: bool = False


@attrs.frozen
class ActionResult:
    """The outcome of an action. For a dry run `order` is the would-be state (not saved)."""

    order: Order | None
    event: OrderEvent | None
    preview: Mapping[str, Any]
    dry_run: bool = False
    hook_failures: tuple[HookFailure, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return dict(self.preview)


@attrs.frozen
class BulkResult:
    changed: tuple[str, ...]
    skipped: Mapping[str, str]


def _order_loader() -> Any:
    return select(Order).options(
        selectinload(Order.lines), selectinload(Order.invoices),
        selectinload(Order.payments), selectinload(Order.fraud_checks),
    )


def _valid_number(number: object) -> str:
    text = str(number).strip()
    if len(text) != 10 or not text.isdigit():
        raise OrderNotFound(f"No order {number!r}: order numbers have 10 digits.",
                            details={"number": str(number)})
    return text


class OrderService:
    """All order actions. Reached as `mill.orders`."""

    def __init__(self, mill: Any) -> None:
        self.mill = mill

    # ================================================================ reading

    @retry_read
    def get(self, number: str, *, actor: Actor | None = None, with_history: bool = False
            ) -> Order:
        """The order with its lines, invoices, payments and fraud checks loaded."""
        if actor is not None:
            require(actor, "view_orders")
        with self.mill.read_session() as session:
            order = session.scalar(_order_loader().where(Order.number == _valid_number(number)))
            if order is None:
                raise OrderNotFound(f"No order {number}.", details={"number": str(number)})
            return order

    @retry_read
    def history(self, number: str) -> list[OrderEvent]:
        with self.mill.read_session() as session:
            return list(session.scalars(
                select(OrderEvent).where(OrderEvent.order_number == _valid_number(number))
                .order_by(OrderEvent.id)
            ))

    def describe(self, number: str) -> dict[str, Any]:
        """The order as a dict with its history (API detail view, `ordermill order show`)."""
        order = self.get(number)
        return order_to_dict(order, events=self.history(number))

    # ================================================================ the action runner

    @retry_once
    def _run(
        self,
        action: str,
        number: str,
        permission: str,
        work: Callable[[Session, Order, ActionContext], Change],
        *,
        actor: Actor,
        expected_version: int | None = None,
        dry_run: bool = False,
    ) -> ActionResult:
        require(actor, permission)
        number = _valid_number(number)
        ctx = ActionContext(self.mill, actor, action, dry_run=dry_run)
        with self._transaction(ctx) as session:
            order = self._lock_order(session, number, expected_version)
            before = self._state(order)
            change = work(session, order, ctx)
            order.updated_at = utcnow()
            event = self._record(session, order, ctx, change, status_from=before["status"])
            for _hook, kwargs in change.after:
                if "event" in kwargs and kwargs["event"] is None:
                    kwargs["event"] = event
            preview = self._preview(action, order, before, change, ctx)
        if dry_run:
            return ActionResult(None, None, preview, dry_run=True)
        failures = self._after_commit(order, change.after, ctx)
        return ActionResult(order, event, preview, hook_failures=tuple(failures))

    @contextmanager
    def editing(self, number: str, *, actor: Actor, action: str,
                permission: str | None = None) -> Iterator[tuple[Order, ActionContext]]:
        """Edit one order, locked, in one write transaction: a plugin's own action.

        For work that is not one of the core's actions (a ticket check-in, a provisioning
        result, a sent e-mail): the order is loaded with its lines, invoices and payments and
        locked as the core's actions lock it; write history with `ctx.record_event(order,
        ...)`; jobs queued with `ctx.enqueue` are stored with it. Everything commits when the
        block ends, or nothing does if it raises. `permission`, when given, is checked first.

            with mill.orders.editing(number, actor=actor, action="check_in") as (order, ctx):
                ctx.record_event(order, "ticket_checked_in", "Ticket T-1 checked in.")
        """
        if permission is not None:
            require(actor, permission)
        number = _valid_number(number)
        ctx = ActionContext(self.mill, actor, action)
        with self._transaction(ctx) as session:
            order = self._lock_order(session, number, None)
            yield order, ctx
            for job in ctx.jobs:
                handler = self.mill.job_handlers.get(job.kind)
                enqueue(session, job, order_number=order.number,
                        default_max_attempts=(handler and handler.max_attempts)
                        or self.mill.settings.outbox_max_attempts)

    def _transaction(self, ctx: ActionContext) -> AbstractContextManager[Session]:
        """One write transaction for an action (see retry.action_transaction: stale orders,
        lost connections and a busy database become errors that say what happened)."""
        return action_transaction(self.mill, ctx)

    def _lock_order(self, session: Session, number: str, expected_version: int | None
                    ) -> Order:
        """Load the order with its rows, locked on PostgreSQL, at the version the caller saw."""
        query = _order_loader().where(Order.number == number)
        if not self.mill.is_sqlite:
            query = query.with_for_update(of=Order)
        order = session.scalar(query)
        if order is None:
            raise OrderNotFound(f"No order {number}.", details={"number": number})
        if expected_version is not None and order.version != expected_version:
            raise StaleOrder(
                f"Order {number} was changed by someone else (version {order.version}, you "
                f"had {expected_version}). Reload it and try again; nothing was changed.",
                details={"current_version": order.version, "your_version": expected_version},
            )
        return order

    def _state(self, order: Order) -> dict[str, Any]:
        return {"status": order.status, "payment_status": payment_status(order),
                "summary": line_summary(order)}

    def _record(self, session: Session, order: Order, ctx: ActionContext, change: Change,
                *, status_from: str | None) -> OrderEvent:
        event = OrderEvent(
            order_id=order.id, order_number=order.number, type=change.event_type,
            actor=ctx.actor.label, message=change.message,
            status_from=status_from if status_from != order.status else None,
            status_to=order.status if status_from != order.status else None,
            comment=change.comment, notify_customer=change.notify_customer,
            visible_to_customer=change.visible_to_customer, data=_jsonable(change.data),
            created_at=utcnow(),
        )
        session.add(event)
        session.flush()
        self._queue_jobs(session, order, event, ctx)
        return event

    def _queue_jobs(self, session: Session, order: Order, event: OrderEvent,
                    ctx: ActionContext) -> None:
        for _plugin, jobs in self.mill.plugins.call_in_transaction(
            "jobs_for_event", order=order, event=event, ctx=ctx
        ):
            ctx.jobs.extend(jobs)
        for job in ctx.jobs:
            handler = self.mill.job_handlers.get(job.kind)
            enqueue(session, job, order_number=order.number,
                    default_max_attempts=(handler and handler.max_attempts)
                    or self.mill.settings.outbox_max_attempts)
        if ctx.jobs:
            session.flush()

    def _preview(self, action: str, order: Order, before: Mapping[str, Any], change: Change,
                 ctx: ActionContext) -> dict[str, Any]:
        after = self._state(order)
        return {
            "action": action, "number": order.number, "event": change.event_type,
            "message": change.message,
            "status": {"from": before["status"], "to": after["status"]},
            "payment_status": {"from": before["payment_status"], "to": after["payment_status"]},
            "summary": {"from": before["summary"], "to": after["summary"]},
            "stock_released": dict(ctx.notes.get("stock_released", {})),
            "refunds": list(ctx.notes.get("refunds", [])),
            "amount_refunded": money_text(
                sum(r["amount_minor"] for r in ctx.notes.get("refunds", [])), order.currency),
            "jobs": [job.kind for job in ctx.jobs],
            "data": _jsonable(change.data),
            "version": order.version,
        }

    def _after_commit(self, order: Order, calls: Iterable[tuple[str, dict[str, Any]]],
                      ctx: ActionContext) -> list[HookFailure]:
        failures: list[HookFailure] = []
        for hook_name, kwargs in calls:
            failures.extend(self.mill.plugins.call_after_commit(hook_name, ctx=ctx, **kwargs))
        if failures:
            self._record_hook_failures(order.id, order.number, failures, ctx)
        return failures

    def _record_hook_failures(self, order_id: int | None, number: str,
                              failures: Sequence[HookFailure], ctx: ActionContext) -> None:
        with self.mill.write_session() as session, session.begin():
            for failure in failures:
                session.add(OrderEvent(
                    order_id=order_id, order_number=number, type="hook_failed",
                    actor=f"plugin:{failure.plugin}",
                    message=f"Plugin {failure.plugin!r} failed in {failure.hook} after "
                            f"{ctx.action}: {failure.error}. The {ctx.action} itself is done.",
                    data={"plugin": failure.plugin, "hook": failure.hook,
                          "error": failure.error, "action": ctx.action},
                    created_at=utcnow(),
                ))

    # ================================================================ helpers

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
        handled = self.mill.plugins.first_result("restock", line=line, quantity=units, ctx=ctx)
        if not handled:
            return 0
        line.units_released += units
        released = ctx.notes.setdefault("stock_released", {})
        released[line.sku] = released.get(line.sku, 0) + units
        return units

    def _pick_lines(self, order: Order, line_ids: Sequence[int] | None,
                    allowed: Sequence[str], verb: str) -> list[OrderLine]:
        if line_ids is None:
            return [line for line in order.lines if line.status in allowed]
        by_id = {line.id: line for line in order.lines}
        picked = []
        for line_id in dict.fromkeys(line_ids):
            line = by_id.get(line_id)
            if line is None:
                raise UnknownLine(order.number, line_id)
            if line.status not in allowed:
                final = " Cancelling is final." if line.status == "cancelled" else ""
                raise LineAlreadyClosed(
                    f"Cannot {verb} line {line_id} ({line.name}): it is already "
                    f"{line.status}.{final}",
                    details={"line_id": line_id, "line_status": line.status},
                )
            picked.append(line)
        if not picked:
            raise InvalidInput(f"No lines chosen to {verb}.")
        return picked

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

    # ================================================================ place

    def place(self, request: OrderRequest, *, actor: Actor, dry_run: bool = False
              ) -> ActionResult:
        """Place an order: price it, apply the promo, reserve stock, number it, check fraud.

        Idempotent by `request.idempotency_key`: the same key returns the first order (and a
        different request under the same key is refused).
        """
        require(actor, "place_orders")
        if any(line.price_override is not None for line in request.lines) \
                and actor.kind not in ("system", "user", "token"):
            raise PermissionDenied("Only staff may override prices.")
        if actor.kind not in ("system", "user", "token") and (
                request.invoice_plan or not request.generate_invoice
                or request.sales_manager_id is not None):
            raise PermissionDenied("Only staff may plan invoices, skip the invoice or name a "
                                   "sales manager.")
        gateways = self.mill.gateways
        if gateways and request.payment_method not in gateways:
            raise InvalidInput(
                f"Unknown payment method {request.payment_method!r}; choose one of "
                f"{', '.join(sorted(gateways))}.", details={"field": "payment_method"})
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
        raise ActionNotAllowed("Could not draw a free order number; try again.") from last_error

    def _by_idempotency_key(self, request: OrderRequest) -> ActionResult | None:
        with self.mill.read_session() as session:
            order = session.scalar(
                _order_loader().where(Order.idempotency_key == request.idempotency_key))
        if order is None:
            return None
        if request.request_fingerprint and order.request_fingerprint \
                and order.request_fingerprint != request.request_fingerprint:
            raise InvalidInput(
                "This Idempotency-Key was already used for a different order request.",
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
                f"Order placed by {request.customer.name} ({request.customer.email}), "
                f"{money_text(order.total, order.currency)} {order.currency}, "
                f"payment by {request.payment_method}.",
                data={"total": money_text(order.total, order.currency),
                      "fraud_score": str(order.fraud_score) if order.fraud_score else None},
                comment=request.note,
            )
            if order.status == "fraud":
                change.message += (f" Fraud score {order.fraud_score} is over the threshold "
                                   f"{self.mill.fraud_threshold}: set to Fraud.")
            event = self._record(session, order, ctx, change, status_from=None)
            preview = self._preview("place", order, {"status": None, "payment_status": None,
                                                     "summary": None}, change, ctx)
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
        customer = session.scalar(select(Customer).where(Customer.email == details.email)
                                  .order_by(Customer.id).limit(1))
        if customer is None:
            customer = Customer(email=details.email, name=details.name, phone=details.phone,
                                company=details.company,
                                billing_address=dict(details.billing_address),
                                language=details.language, created_at=utcnow())
            session.add(customer)
        return customer

    def _draw_number(self, ctx: ActionContext) -> str:
        chosen = self.mill.plugins.first_result("generate_order_number", ctx=ctx)
        if chosen is not None:
            plugin, number = chosen
            if not (isinstance(number, str) and len(number) == 10 and number.isdigit()):
                raise InvalidInput(f"Plugin {plugin!r} made order number {number!r}; "
                                   f"numbers must be exactly 10 digits.")
            return number
        return str(secrets.randbelow(9 * 10**9) + 10**9)

    def _build_and_save(self, session: Session, request: OrderRequest, ctx: ActionContext
                        ) -> tuple[Order, list[FraudResult]]:
        products = pricing.load_products(session, [line.sku for line in request.lines])
        promo = pricing.load_promo(session, request.promo_code)
        lines, currency = pricing.build_lines(request.lines, products, None)
        subtotal = sum(line.unit_price * line.quantity for line in lines)
        discount = pricing.promo_discount(promo, subtotal, currency)
        pricing.apply_discount(lines, discount)
        customer = self._customer(session, request.customer)
        details = request.customer
        now = utcnow()
        order = Order(
            number=self._draw_number(ctx), status=self.mill.statuses.first_of_category("pending"),
            buyer_name=details.name, buyer_email=details.email,
            buyer_phone=details.phone, billing_address=dict(details.billing_address),
            language=details.language, currency=currency, subtotal=subtotal, discount=discount,
            total=subtotal - discount, promo_code=promo.code if promo else None,
            payment_method=request.payment_method, customer_ip=request.customer_ip,
            affiliate=request.affiliate, sales_manager_id=request.sales_manager_id,
            customer_note=request.note, idempotency_key=request.idempotency_key,
            request_fingerprint=request.request_fingerprint, placed_at=now, updated_at=now,
            version=1, sales_confirmed=False,
            plugin_data={name: dict(values) for name, values in request.plugin_data.items()},
        )
        order.lines = lines
        order.invoices = []
        order.payments = []
        order.fraud_checks = []
        self._reserve(session, lines, products)
        if request.generate_invoice and order.total > 0:
            self._plan_invoices(order, request.invoice_plan)
        self.mill.plugins.call_in_transaction("validate_order", order=order, ctx=ctx)
        if customer.id is None:
            session.flush()
        order.customer_id = customer.id
        session.add(order)
        results = self._run_fraud_checks(order, ctx)
        session.flush()
        return order, results

    def _reserve(self, session: Session, lines: Sequence[OrderLine],
                 products: Mapping[str, Any]) -> None:
        wanted: dict[int, tuple[Any, int]] = {}
        for line in lines:
            product = products[line.sku]
            if product.stock is not None:
                _p, quantity = wanted.get(product.id, (product, 0))
                wanted[product.id] = (product, quantity + line.quantity)
                line.units_held = line.quantity
        inventory.reserve_many(session, wanted)

    def _plan_invoices(self, order: Order, plan: Sequence[int] | None) -> None:
        amounts = list(plan) if plan else [order.total]
        if any(isinstance(a, bool) or not isinstance(a, int) or a <= 0 for a in amounts) \
                or sum(amounts) != order.total:
            raise InvalidInput(
                f"The invoice plan must be positive amounts adding up to the order total "
                f"{money_text(order.total, order.currency)}.", details={"field": "invoice_plan"})
        for index, amount in enumerate(amounts, start=1):
            label = f"Part {index} of {len(amounts)}" if len(amounts) > 1 else "Order"
            billing.new_invoice(order, amount, label)

    def _run_fraud_checks(self, order: Order, ctx: ActionContext) -> list[FraudResult]:
        results, failures = self.mill.plugins.call_collecting("fraud_check", order=order, ctx=ctx)
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

    # ================================================================ workflow actions

    def accept(self, number: str, *, actor: Actor, options: Mapping[str, Any] | None = None,
               expected_version: int | None = None, dry_run: bool = False,
               comment: str | None = None) -> ActionResult:
        """Accept a pending order (WHMCS AcceptOrder); provisioning plugins react to it."""
        accept_options = dict(options or {})

        def work(session: Session, order: Order, ctx: ActionContext) -> Change:
            old = order.status
            if self._category(order) != "pending":
                raise IllegalTransition(
                    f"Only pending orders can be accepted; order {order.number} is "
                    f"{self.mill.statuses.get(order.status).label}.",
                    details={"from": order.status, "action": "accept"})
            self._move(order, self.mill.statuses.first_of_category("active"), "accept")
            order.accepted_at = utcnow()
            # jobs_for_event sees the options unmasked; history only says a password was "set"
            ctx.notes["accept_options"] = accept_options
            return Change("accepted", "Order accepted.", data={"options": public(accept_options)},
                          comment=comment,
                          after=self._status_hooks(order, old, "on_accept", options=accept_options))

        return self._run("accept", number, "edit_orders", work, actor=actor,
                         expected_version=expected_version, dry_run=dry_run)

    def cancel(self, number: str, *, actor: Actor, line_ids: Sequence[int] | None = None,
               restock: bool = True, expected_version: int | None = None,
               dry_run: bool = False, comment: str | None = None,
               notify_customer: bool = True) -> ActionResult:
        """Cancel chosen lines or the whole order. Cancelling is final; refunds stay possible."""

        def work(session: Session, order: Order, ctx: ActionContext) -> Change:
            return self._cancel_work(order, ctx, line_ids, restock, comment, notify_customer)

        return self._run("cancel", number, "edit_orders", work, actor=actor,
                         expected_version=expected_version, dry_run=dry_run)

    def _cancel_work(self, order: Order, ctx: ActionContext, line_ids: Sequence[int] | None,
                     restock: bool, comment: str | None, notify_customer: bool) -> Change:
        old = order.status
        if line_ids is None and self._category(order) in CLOSED_CATEGORIES:
            raise IllegalTransition(f"Order {order.number} is already "
                                    f"{self.mill.statuses.get(order.status).label}.",
                                    details={"from": order.status, "action": "cancel"})
        lines = self._pick_lines(order, line_ids, ("active",), "cancel")
        if line_ids is None and not lines:
            raise IllegalTransition(f"Order {order.number} has no active lines to cancel.")
        now = utcnow()
        for line in lines:
            line.status = "cancelled"
            line.closed_at = now
            if line.provisioning_status and line.provisioning_status != "terminated":
                line.provisioning_status = "cancelled"
            if restock:
                self._release(order, line, ctx)
        whole = not any(line.status == "active" for line in order.lines)
        if whole:
            billing.cancel_open_invoices(order)
            self._close_if_all_lines_closed(order, "cancel")
        else:
            billing.sync_invoices(order)
        names = ", ".join(f"{line.name} x{line.quantity}" for line in lines)
        message = ("Order cancelled." if whole else f"Cancelled {names}.")
        if restock and ctx.notes.get("stock_released"):
            message += " Stock released."
        return Change("cancelled", message,
                      data={"line_ids": [line.id for line in lines], "restock": restock,
                            "whole_order": whole},
                      comment=comment, notify_customer=notify_customer,
                      after=self._status_hooks(order, old, "on_cancel", lines=lines))

    def refund(self, number: str, *, actor: Actor, line_ids: Sequence[int] | None = None,
               amount: Money | int | None = None, restock: bool = True,
               expected_version: int | None = None, dry_run: bool = False,
               comment: str | None = None, notify_customer: bool = True,
               manual: bool = False) -> ActionResult:
        """Refund the whole order, chosen lines, or an amount. Refunded lines are cancelled too.

        Never more than was captured. Online gateways refund through their API; offline
        payments are recorded and the admin is told to return the money by hand. `manual`
        records the refund without calling any gateway (after a gateway failed).
        """

        def work(session: Session, order: Order, ctx: ActionContext) -> Change:
            ctx.notes["manual_refund"] = manual
            return self._refund_work(session, order, ctx, line_ids, amount, restock, comment,
                                     notify_customer)

        return self._run("refund", number, "refund", work, actor=actor,
                         expected_version=expected_version, dry_run=dry_run)

    def _refund_work(self, session: Session, order: Order, ctx: ActionContext,
                     line_ids: Sequence[int] | None, amount: Money | int | None,
                     restock: bool, comment: str | None, notify_customer: bool) -> Change:
        old = order.status
        available = billing.refundable_total(order)
        wanted = _minor(amount, order.currency) if amount is not None else None
        if wanted is not None and wanted <= 0:
            raise InvalidInput("A refund amount must be more than zero.")
        if available <= 0:
            raise OverRefund(
                f"Nothing can be refunded on order {order.number}: no captured money is left "
                f"to return. Cancel it instead.", details={"refundable": "0"})
        if wanted is not None and wanted > available:
            raise OverRefund(
                f"Cannot refund {money_text(wanted, order.currency)} {order.currency}: only "
                f"{money_text(available, order.currency)} {order.currency} was captured and "
                f"not yet refunded.",
                details={"requested": money_text(wanted, order.currency),
                         "refundable": money_text(available, order.currency)})
        if line_ids is None and wanted is not None:
            lines: list[OrderLine] = []  # an amount alone: a goodwill refund, lines stay
        else:
            lines = self._pick_lines(order, line_ids, ("active", "cancelled"), "refund")
        line_value = sum(billing.line_value_left(line) for line in lines)
        total = wanted if wanted is not None else min(line_value, available)
        if line_ids is None and wanted is None:
            total = available  # whole refund: everything captured goes back
        if total <= 0:
            raise OverRefund(f"The chosen lines of order {order.number} have nothing left to "
                             f"refund.")
        shares = _allocate_to_lines(lines, min(total, line_value))
        now = utcnow()
        for line, share in zip(lines, shares, strict=True):
            line.refunded_amount += share
            line.status = "refunded"
            line.closed_at = line.closed_at or now
            if line.provisioning_status and line.provisioning_status != "terminated":
                line.provisioning_status = "cancelled"
            if restock:
                self._release(order, line, ctx)
        refunds = self._refund_payments(session, order, total, ctx)
        self._close_if_all_lines_closed(order, "refund")
        if not any(line.status == "active" for line in order.lines):
            billing.cancel_open_invoices(order)
        else:
            billing.sync_invoices(order)
        manual = [r for r in refunds if r.manual]
        message = f"Refunded {money_text(total, order.currency)} {order.currency}"
        if lines:
            message += " for " + ", ".join(f"{line.name} x{line.quantity}" for line in lines)
        message += "." + refund_remarks(ctx)
        return Change("refunded", message,
                      data={"amount": money_text(total, order.currency),
                            "line_ids": [line.id for line in lines], "restock": restock,
                            "manual": bool(manual),
                            "manual_chosen": bool(ctx.notes.get("manual_refund"))},
                      comment=comment, notify_customer=notify_customer,
                      after=self._status_hooks(order, old, "on_refund", refunds=refunds,
                                               lines=lines))

    def _refund_payments(self, session: Session, order: Order, total: int,
                         ctx: ActionContext) -> list[Payment]:
        return refund_payments(self.mill, session, order, total, ctx)

    def cancel_and_refund(self, number: str, *, actor: Actor, restock: bool = True,
                          expected_version: int | None = None, dry_run: bool = False,
                          comment: str | None = None, manual: bool = False) -> ActionResult:
        """Cancel every active line and refund all captured money (WHMCS Cancel & Refund);
        `manual` records the refund without calling any gateway."""

        def work(session: Session, order: Order, ctx: ActionContext) -> Change:
            ctx.notes["manual_refund"] = manual
            if self._category(order) in CLOSED_CATEGORIES:
                raise IllegalTransition(
                    f"Order {order.number} is already "
                    f"{self.mill.statuses.get(order.status).label}.",
                    details={"from": order.status, "action": "cancel_and_refund"})
            refundable = billing.refundable_total(order)
            to_close = [line for line in order.lines if line.status == "active"]
            if refundable > 0:  # a whole refund cancels every line too
                change = self._refund_work(session, order, ctx, None, None, restock, comment,
                                           True)
            else:
                change = self._cancel_work(order, ctx, None, restock, comment, True)
            billing.cancel_open_invoices(order)
            change.after.insert(0, ("on_cancel", {"order": order, "lines": to_close}))
            change.after = [c for i, c in enumerate(change.after)
                            if not (c[0] == "on_cancel" and i > 0)]
            change.event_type = "cancelled_and_refunded"
            change.message = "Order cancelled" + (
                f" and {money_text(refundable, order.currency)} {order.currency} refunded."
                if refundable > 0 else "; nothing had been paid, so nothing was refunded.") \
                + refund_remarks(ctx, offline_gateways=False)
            change.data["refunded"] = money_text(refundable, order.currency)
            return change

        return self._run("cancel_and_refund", number, "refund", work, actor=actor,
                         expected_version=expected_version, dry_run=dry_run)

    def mark_fraud(self, number: str, *, actor: Actor, expected_version: int | None = None,
                   dry_run: bool = False, comment: str | None = None) -> ActionResult:
        """Set as fraud (WHMCS FraudOrder): invoices cancelled, services terminated by plugins."""

        def work(session: Session, order: Order, ctx: ActionContext) -> Change:
            old = order.status
            self._move(order, self.mill.statuses.first_of_category("fraud"), "set as fraud")
            cancelled = billing.cancel_open_invoices(order)
            return Change("fraud", "Order set as fraud.", comment=comment,
                          data={"cancelled_invoices": cancelled},
                          after=self._status_hooks(order, old, "on_fraud"))

        return self._run("mark_fraud", number, "manage_fraud", work, actor=actor,
                         expected_version=expected_version, dry_run=dry_run)

    def set_back_to_pending(self, number: str, *, actor: Actor,
                            expected_version: int | None = None, dry_run: bool = False,
                            comment: str | None = None) -> ActionResult:
        """Back to pending (WHMCS PendingOrder): from fraud the invoices are unpaid again."""

        def work(session: Session, order: Order, ctx: ActionContext) -> Change:
            old = order.status
            was_fraud = self._category(order) == "fraud"
            # read before the move: the event that set today's fraud status names the invoices
            reopened = fraud_cancelled_invoices(session, self.mill.statuses, order) \
                if was_fraud else []
            self._move(order, self.mill.statuses.first_of_category("pending"),
                       "set back to pending")
            if was_fraud:
                billing.reopen_invoices(order, reopened)
            return Change("pending", "Order set back to pending.", comment=comment,
                          data={"reopened_invoices": reopened},
                          after=self._status_hooks(order, old, "on_pending"))

        return self._run("set_back_to_pending", number, "manage_fraud", work, actor=actor,
                         expected_version=expected_version, dry_run=dry_run)

    def set_status(self, number: str, status: str, *, actor: Actor,
                   expected_version: int | None = None, dry_run: bool = False,
                   comment: str | None = None) -> ActionResult:
        """Move to any status the registry allows (custom statuses); no module commands.

        A move into or out of fraud, cancelled, refunded or active needs the permission of
        the named action and gets its bookkeeping (see core.status_change)."""

        def work(session: Session, order: Order, ctx: ActionContext) -> Change:
            return status_change_work(self, session, order, status, ctx, comment, Change)

        return self._run("set_status", number, "edit_orders", work, actor=actor,
                         expected_version=expected_version, dry_run=dry_run)

    @retry_once
    def bulk_set_status(self, numbers: Sequence[str], status: str, *, actor: Actor,
                        dry_run: bool = False) -> BulkResult:
        """Change the status of many orders in one transaction (WHMCS mass update).

        Statuses only: no provisioning or other module commands run, only on_status_changed.
        Orders whose status may not move there are skipped and reported, not failed.
        """
        require(actor, "bulk_change")
        self.mill.statuses.get(status)
        wanted = list(dict.fromkeys(str(n).strip() for n in numbers))
        if not wanted:
            raise InvalidInput("No orders chosen.")
        ctx = ActionContext(self.mill, actor, "bulk_set_status", dry_run=dry_run)
        skipped: dict[str, str] = {}
        changed: list[tuple[Order, Change]] = []
        with self._transaction(ctx) as session:
            query = _order_loader().where(Order.number.in_(wanted)).order_by(Order.id)
            if not self.mill.is_sqlite:
                query = query.with_for_update(of=Order)
            orders = {order.number: order for order in session.scalars(query)}
            for number in wanted:
                order = orders.get(number)
                if order is None:
                    skipped[number] = "no such order"
                    continue
                if order.status == status:
                    skipped[number] = f"already {status}"
                    continue
                old = order.status
                try:
                    with session.begin_nested():
                        change = status_change_work(self, session, order, status, ctx, None,
                                                    Change)
                except (IllegalTransition, ActionNotAllowed, PermissionDenied) as error:
                    order.status = old
                    skipped[number] = error.message
                    continue
                order.updated_at = utcnow()
                change.event_type = "bulk_status_changed"
                self._record(session, order, ctx, change, status_from=old)
                changed.append((order, change))
            changed_numbers = tuple(order.number for order, _change in changed)
        if not dry_run:
            for order, change in changed:
                self._after_commit(order, change.after, ctx)
        return BulkResult(changed_numbers, skipped)

    # ================================================================ money in

    def record_payment(self, number: str, *, actor: Actor, amount: Money | int | None,
                       gateway: str | None = None, reference: str | None = None,
                       fee: Money | int = 0, invoice_id: int | None = None,
                       one_click: bool = False, manual: bool = True, note: str | None = None,
                       expected_version: int | None = None, dry_run: bool = False,
                       comment: str | None = None, notify_customer: bool = True
                       ) -> ActionResult:
        """Record money received, full or partial, against an invoice (the oldest unpaid by
        default). A payment for a cancelled, refunded or fraud order, or more than is owed, is
        recorded and flagged for the admin: money is never dropped."""

        def work(session: Session, order: Order, ctx: ActionContext) -> Change:
            if amount is None:  # mark as paid: whatever is still due
                minor = amount_due(order)
                if minor <= 0:
                    raise ActionNotAllowed(f"Order {order.number} has nothing left to pay.")
            else:
                minor = _minor(amount, order.currency)
            fee_minor = _minor(fee, order.currency)
            if minor <= 0:
                raise InvalidInput("A payment must be more than zero.")
            if fee_minor < 0 or fee_minor > minor:
                raise InvalidInput("The fee must be between zero and the payment amount.")
            gateway_name = gateway or order.payment_method
            if reference and any(p.gateway == gateway_name and p.gateway_reference == reference
                                 and p.kind == "charge" for p in order.payments):
                raise ActionNotAllowed(
                    f"Payment {reference} from {gateway_name} is already recorded on order "
                    f"{order.number}.", details={"reference": reference})
            invoice = self._invoice_for_payment(order, invoice_id)
            due_before = amount_due(order)
            payment = Payment(
                kind="charge", status="succeeded", gateway=gateway_name,
                gateway_reference=reference, invoice_id=invoice.id if invoice else None,
                amount=minor, fee=fee_minor, net=minor - fee_minor, currency=order.currency,
                one_click=one_click, manual=manual, note=note, actor=ctx.actor.label,
                created_at=utcnow(),
            )
            order.payments.append(payment)
            billing.sync_invoices(order)
            flags = []
            category = self._category(order)
            if category in ("cancelled", "refunded", "fraud"):
                flags.append(f"payment of {money_text(minor, order.currency)} "
                             f"{order.currency} received while the order is {order.status}")
            elif minor > due_before:
                flags.append(f"overpaid by {money_text(minor - due_before, order.currency)} "
                             f"{order.currency}")
            if flags:
                order.needs_attention = "; ".join(
                    filter(None, [order.needs_attention, *flags]))
            now_paid = payment_status(order) == "paid"
            if now_paid and order.paid_at is None:
                order.paid_at = utcnow()
            session.flush()
            message = (f"Payment of {money_text(minor, order.currency)} {order.currency} "
                       f"recorded ({gateway_name}").rstrip()
            message += f", ref {reference})." if reference else ")."
            if now_paid:
                message += " Order is now paid."
            if flags:
                message += " Needs attention: " + "; ".join(flags) + "."
            return Change("payment_flagged" if flags else "payment", message, comment=comment,
                          notify_customer=notify_customer,
                          data={"payment_id": payment.id, "amount": money_text(minor,
                                order.currency), "gateway": gateway_name, "paid": now_paid,
                                "flags": flags},
                          after=[("on_payment", {"order": order, "payment": payment})])

        return self._run("record_payment", number, "record_payments", work, actor=actor,
                         expected_version=expected_version, dry_run=dry_run)

    def _invoice_for_payment(self, order: Order, invoice_id: int | None) -> Any:
        if invoice_id is not None:
            for invoice in order.invoices:
                if invoice.id == invoice_id:
                    return invoice
            raise UnknownInvoice(order.number, invoice_id)
        return next((inv for inv in order.invoices if inv.status == "unpaid"), None)

    def mark_paid(self, number: str, *, actor: Actor, expected_version: int | None = None,
                  dry_run: bool = False, reference: str | None = None,
                  comment: str | None = None, notify_customer: bool = True) -> ActionResult:
        """Record the whole amount still due as received (cheque, invoice, bank transfer)."""
        return self.record_payment(number, actor=actor, amount=None, reference=reference,
                                   manual=True, expected_version=expected_version,
                                   dry_run=dry_run, comment=comment,
                                   notify_customer=notify_customer,
                                   note="Marked as paid by staff")

    # ================================================================ gateway news

    def record_gateway_refund(self, number: str, *, actor: Actor, gateway: str,
                              charge_reference: str, refund_reference: str, amount: int,
                              status: str = "succeeded", note: str | None = None
                              ) -> ActionResult:
        """Record a refund the gateway reports (webhook) without calling the gateway again.

        This reconciles a refund made in the gateway's dashboard, or one whose gateway call
        succeeded while our commit failed: no refund is lost and none is made twice. A refund
        already recorded under `refund_reference` raises ActionNotAllowed with
        details["duplicate"]; a changed status (pending to succeeded) is updated. A refund
        larger than what is left of the charge is not recorded but flagged for the admin.
        """

        def work(session: Session, order: Order, ctx: ActionContext) -> Change:
            known = next((p for p in order.payments if p.kind == "refund"
                          and p.gateway == gateway and p.gateway_reference == refund_reference),
                         None)
            if known is not None:
                if known.status == status:
                    raise ActionNotAllowed(
                        f"Refund {refund_reference} from {gateway} is already recorded on "
                        f"order {order.number}.",
                        details={"reference": refund_reference, "duplicate": True})
                old_status, known.status = known.status, status
                billing.sync_invoices(order)
                return Change("refund_updated", f"Refund {refund_reference} is now {status} "
                              f"(was {old_status}).",
                              data={"payment_id": known.id, "status": status})
            left = dict((c.id, rest) for c, rest in billing.refundable_by_charge(order))
            charge = next((p for p in order.payments if p.kind == "charge"
                           and p.status == "succeeded" and p.gateway == gateway
                           and p.gateway_reference == charge_reference), None)
            if charge is None:
                raise ActionNotAllowed(
                    f"Order {order.number} has no {gateway} payment {charge_reference} to "
                    f"refund from.", details={"reference": charge_reference})
            text = f"{money_text(amount, order.currency)} {order.currency}"
            if amount <= 0 or amount > left.get(charge.id, 0):
                flag = (f"{gateway} reports refund {refund_reference} of {text}, more than is "
                        f"left of payment {charge_reference}")
                order.needs_attention = "; ".join(filter(None, [order.needs_attention, flag]))
                return Change("refund_flagged", f"Needs attention: {flag}.",
                              data={"reference": refund_reference, "amount": text})
            refund = Payment(
                kind="refund", status=status, gateway=gateway,
                gateway_reference=refund_reference, refund_of_id=charge.id,
                invoice_id=charge.invoice_id, amount=amount, fee=0, net=amount,
                currency=order.currency, manual=False, actor=ctx.actor.label,
                note=note or f"Refund reported by {gateway}.", created_at=utcnow(),
            )
            order.payments.append(refund)
            billing.sync_invoices(order)
            session.flush()
            return Change("refunded", f"Refund of {text} recorded from {gateway} "
                          f"(ref {refund_reference}).",
                          data={"payment_id": refund.id, "amount": text, "gateway": gateway,
                                "reference": refund_reference, "source": "gateway"},
                          after=[("on_refund", {"order": order, "refunds": [refund],
                                                "lines": []})])

        return self._run("record_gateway_refund", number, "refund", work, actor=actor)

    def record_gateway_notice(self, number: str, *, actor: Actor, gateway: str,
                              event_id: str, event_type: str, message: str,
                              attention: str | None = None,
                              data: Mapping[str, Any] | None = None) -> ActionResult:
        """Write a gateway's news (a failed attempt, a dispute) on the order, once per gateway
        event id; `attention` also flags the order for the admin."""

        def work(session: Session, order: Order, ctx: ActionContext) -> Change:
            seen = session.scalars(select(OrderEvent.data).where(
                OrderEvent.order_id == order.id, OrderEvent.type == event_type))
            if any((old or {}).get("gateway_event_id") == event_id for old in seen):
                raise ActionNotAllowed(f"Event {event_id} from {gateway} is already recorded.",
                                       details={"event_id": event_id, "duplicate": True})
            if attention:
                order.needs_attention = "; ".join(filter(None, [order.needs_attention, attention]))
            return Change(event_type, message,
                          data={**(data or {}), "gateway": gateway,
                                "gateway_event_id": event_id})

        return self._run("record_gateway_notice", number, "record_payments", work, actor=actor)

    # ================================================================ editing

    def add_lines(self, number: str, lines: Sequence[LineRequest], *, actor: Actor,
                  expected_version: int | None = None, dry_run: bool = False,
                  comment: str | None = None) -> ActionResult:
        """Add products to a placed order (osConcert 'Add Products'): priced, stock reserved,
        and invoiced on a new invoice."""
        if not lines:
            raise InvalidInput("Choose at least one product to add.")

        def work(session: Session, order: Order, ctx: ActionContext) -> Change:
            if self._category(order) not in ("pending", "active"):
                raise ActionNotAllowed(
                    f"Products can only be added to pending or active orders; order "
                    f"{order.number} is {self.mill.statuses.get(order.status).label}.")
            products = pricing.load_products(session, [line.sku for line in lines])
            new_lines, _ = pricing.build_lines(lines, products, order.currency, order.subtotal)
            promo = pricing.active_promo(session, order.promo_code)
            if promo is not None and promo.kind == "percent":
                added = sum(line.unit_price * line.quantity for line in new_lines)
                pricing.apply_discount(new_lines, pricing.promo_discount(promo, added,
                                                                         order.currency))
            self._reserve(session, new_lines, products)
            for line in new_lines:
                order.lines.append(line)
            order.subtotal += sum(line.unit_price * line.quantity for line in new_lines)
            order.discount += sum(line.discount for line in new_lines)
            order.total = order.subtotal - order.discount
            billing.sync_invoices(order, allow_new=True)
            if payment_status(order) != "paid":
                order.paid_at = None
            session.flush()
            added_text = ", ".join(f"{line.name} x{line.quantity}" for line in new_lines)
            summary = [{"id": line.id, "sku": line.sku, "quantity": line.quantity,
                        "total": money_text(line.total, order.currency)} for line in new_lines]
            return Change("lines_added", f"Added {added_text}.", comment=comment,
                          data={"lines": summary},
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
            raise InvalidInput(f"Unknown buyer field(s): {', '.join(sorted(unknown))}.")
        if not changes:
            raise InvalidInput("Nothing to change.")

        def work(session: Session, order: Order, ctx: ActionContext) -> Change:
            current = CustomerDetails(email=order.buyer_email, name=order.buyer_name,
                                      phone=order.buyer_phone,
                                      billing_address=order.billing_address,
                                      language=order.language)
            merged = {f: getattr(current, f) for f in BUYER_FIELDS}
            merged.update(changes)
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
                raise InvalidInput("These buyer details are already on the order.")
            return Change("buyer_edited", "Buyer details changed: " + ", ".join(diff) + ".",
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
            raise InvalidInput("A comment cannot be empty.")
        if "\x00" in text or any("\ud800" <= char <= "\udfff" for char in text):
            # PostgreSQL cannot store these (SQLite would): refuse alike on both, clearly
            raise InvalidInput("A comment cannot contain NUL characters or unpaired "
                               "surrogates.")

        def work(session: Session, order: Order, ctx: ActionContext) -> Change:
            change = Change("comment", "Comment added.", comment=text.strip(),
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
            raise InvalidInput(f"The {verb} date needs a time zone.")

        def work(session: Session, order: Order, ctx: ActionContext) -> Change:
            if self._category(order) in ("cancelled", "refunded", "fraud"):
                raise ActionNotAllowed(f"Order {order.number} is {order.status}; it cannot be "
                                       f"marked {verb}.")
            when = at or utcnow()
            setattr(order, column, when)
            return Change(verb, f"Marked {verb} on {when.date().isoformat()}.",
                          comment=comment, notify_customer=notify_customer,
                          visible_to_customer=notify_customer,
                          data={column: when.isoformat()},
                          after=[("on_order_edited", {"order": order,
                                                      "changes": {column: when.isoformat()}})])

        return self._run(f"mark_{verb}", number, "edit_orders", work, actor=actor,
                         expected_version=expected_version, dry_run=dry_run)

    def rerun_fraud_check(self, number: str, *, actor: Actor,
                          expected_version: int | None = None) -> ActionResult:
        """Ask the fraud providers again (after an outage); over the threshold, pending goes
        to fraud."""

        def work(session: Session, order: Order, ctx: ActionContext) -> Change:
            old = order.status
            results = self._run_fraud_checks(order, ctx)
            if not results:
                raise ActionNotAllowed("No fraud check plugin is installed.")
            calls = [("on_fraud_checked", {"order": order, "results": results})]
            if order.status != old:
                calls.extend(self._status_hooks(order, old, "on_fraud"))
            failed = [r.provider for r in results if r.status != "ok"]
            message = (f"Fraud check re-run: score {order.fraud_score}." if not failed else
                       f"Fraud check failed for {', '.join(failed)}.")
            return Change("fraud_checked", message, after=calls,
                          data={"score": str(order.fraud_score) if order.fraud_score else None,
                                "failed": failed})

        return self._run("rerun_fraud_check", number, "manage_fraud", work, actor=actor,
                         expected_version=expected_version)

    # ================================================================ delete

    @retry_once
    def delete(self, number: str, *, actor: Actor, restock: bool,
               expected_version: int | None = None, dry_run: bool = False) -> ActionResult:
        """Delete an order for good, with or without returning its stock; its payments and
        invoices stay in the books (see core.deletion)."""
        return delete_order(self, number, actor=actor, restock=restock,
                            expected_version=expected_version, dry_run=dry_run)


# ---------------------------------------------------------------------------------- helpers


def _minor(amount: Money | int, currency: str) -> int:
    if isinstance(amount, Money):
        if amount.currency != currency:
            raise InvalidInput(f"Amount is in {amount.currency}, the order is in {currency}.")
        return amount.amount
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise InvalidInput(f"Amounts are Money or integer minor units, not {amount!r}.")
    return amount


def _allocate_to_lines(lines: Sequence[OrderLine], amount: int) -> list[int]:
    """Spread a refund over lines by what each has left, never more than a line's value."""
    left = [billing.line_value_left(line) for line in lines]
    return allocate(min(amount, sum(left)), left)


_jsonable = jsonable  # the deletion module and older call sites use this name
