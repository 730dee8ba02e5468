"""In-transaction hooks: run inside the action's transaction; an exception aborts it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ordermill.core.context import ActionContext
    from ordermill.core.models import Order, OrderEvent, OrderLine
    from ordermill.core.secret_rotation import RotationReport
    from ordermill.core.specs import (
        FraudResult,
        JobRequest,
    )

from ordermill.hookspecs.tags import hookspec, in_transaction

__all__ = [
    "fraud_check",
    "generate_order_number",
    "jobs_for_event",
    "order_saved",
    "order_updated",
    "restock",
    "rotate_stored_secrets",
    "validate_order",
]

# ---- in-transaction hooks ----------------------------------------------------------------


@hookspec
@in_transaction
def validate_order(order: Order, ctx: ActionContext) -> None:
    """Refuse an order before it is placed. In-transaction hook (ShoppingCartValidateCheckout).

    Runs during `place` after lines, prices and stock are settled, before the order is saved.
    Raise `ordermill.core.errors.InvalidInput` with a message for the buyer to refuse; any
    other exception also aborts placement and the error names your plugin. Return value is
    ignored.
    """


@hookspec
@in_transaction
def order_saved(order: Order, ctx: ActionContext) -> None:
    """A new order's rows are written. In-transaction hook.

    Runs during `place` once the order has its id and its lines, invoice and price
    adjustments are stored, before the placement's history event and the commit. Write rows
    of your own that name the order (a summary, an index, a ledger) in `ctx.session`: they
    commit with the order or not at all. Raising aborts the placement (nothing is stored) and
    the error names your plugin. Return value is ignored. A dry run (`ctx.dry_run`) calls it
    too, and rolls back the order and your rows alike.
    """


@hookspec
@in_transaction
def order_updated(order: Order, changed: frozenset[str], ctx: ActionContext) -> None:
    """An existing order's row is written. In-transaction hook.

    Runs in every core action that changed the order (accept, cancel, a payment, a comment,
    a buyer edit, a bulk status change: once per order) and at the end of a
    `mill.orders.editing` block, once the order's new values are stored and before the
    commit. `changed` names the columns of the order that changed (`status`, `paid_at`,
    `updated_at`, ...; changes to its lines or payments are not in it). A placement calls
    `order_saved` instead. Keep rows of your own in step in `ctx.session`: they commit with
    the order or not at all. Raising aborts the action (nothing is stored) and the error
    names your plugin. Return value is ignored. A dry run calls it too, and rolls back.

    Listen here rather than to SQLAlchemy's flush events: an action whose only change is the
    order's row writes it with one UPDATE statement, not a flush.
    """


@hookspec
@in_transaction(errors="collect")
def fraud_check(order: Order, ctx: ActionContext) -> FraudResult | None:
    """Score a new order for fraud. In-transaction hook (RunFraudCheck).

    Runs during `place` (and when an admin re-runs the check). Return a FraudResult with a
    score from 0 to 100, or None to abstain. With several providers the highest score decides;
    each result is stored. A score over the configured threshold sends the order straight to
    `fraud`, skipping `pending`. Unlike other in-transaction hooks an exception does NOT abort
    placement (an order is never lost to a fraud provider outage): it is stored as a failed
    check naming your plugin, the order stays pending, and an admin can re-run the check.
    """


@hookspec(firstresult=True)
@in_transaction
def restock(line: OrderLine, quantity: int, ctx: ActionContext) -> bool | None:
    """Return units of a line to stock. In-transaction hook. Stops at first non-None result.

    Called by cancel, refund and delete when the admin asked for a restock, with the number of
    units the line still holds. The core counts what each line has released, so this is called
    at most once per unit: never twice, whatever the order of actions. Return True when you
    returned the units (the built-in `restock` plugin, registered last, adds them back to the
    product's stock); return None to let the next plugin decide; return False to keep the
    units out of stock on purpose (they stay held and a later restock may release them). An
    exception aborts the action.
    """


@hookspec
@in_transaction
def jobs_for_event(
    order: Order, event: OrderEvent, ctx: ActionContext
) -> Iterable[JobRequest] | None:
    """Queue outside work for an action. In-transaction hook.

    Runs once per action, after its history event is written and in the same transaction, so
    the jobs you return (JobRequest(kind, payload, dedupe_key)) are stored if and only if the
    action commits. A worker runs them later with retries. `event.type` says what happened
    (placed, accepted, cancelled, refunded, payment, comment, ...). In a dry run it is called
    too (`ctx.dry_run` is true): the jobs show in the preview and are never stored, since a
    dry run rolls back. An exception aborts the action.
    """


@hookspec(firstresult=True)
@in_transaction
def generate_order_number(ctx: ActionContext) -> str | None:
    """Choose the public order number. In-transaction hook (OverrideOrderNumberGeneration).

    Stops at first non-None result. Return exactly 10 digits, or None for the default: 10
    random digits that do not leak the shop's size. The core retries on a collision.
    """


@hookspec
@in_transaction
def rotate_stored_secrets(session: Session, keys: Sequence[str], old_keys: Sequence[str],
                          dry_run: bool) -> RotationReport | None:
    """Re-encrypt what your plugin stored encrypted under keys[0]. In-transaction hook.

    Called by `ordermill secrets rotate` (dry_run=False, in one write transaction with every
    other plugin's) and by the start-up check of `serve` and `worker` (dry_run=True: only
    count). `keys` is the current key then the fallbacks; `old_keys` are extra keys to try
    for decrypting only. Return a RotationReport (ordermill.core.secret_rotation) that names
    values no key opens, never a secret; None when you store nothing encrypted.
    """
