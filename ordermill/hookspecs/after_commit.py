"""After-commit hooks: see the committed order; failures are recorded, never undo it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:

    from ordermill.core.context import ActionContext
    from ordermill.core.models import Order, OrderEvent, OrderLine, Payment
    from ordermill.core.specs import (
        FraudResult,
        MessageAttachment,
    )

from ordermill.hookspecs.tags import after_commit, hookspec

__all__ = [
    "message_attachments",
    "on_accept",
    "on_cancel",
    "on_comment_added",
    "on_delete",
    "on_demo_loaded",
    "on_fraud",
    "on_fraud_checked",
    "on_order_edited",
    "on_order_placed",
    "on_payment",
    "on_pending",
    "on_refund",
    "on_status_changed",
]

# ---- after-commit hooks ------------------------------------------------------------------


@hookspec
@after_commit
def on_order_placed(order: Order, ctx: ActionContext) -> None:
    """An order was placed (AfterShoppingCartCheckout). After-commit hook.

    `order.status` is `pending`, or `fraud` when a fraud check scored over the threshold.
    Exceptions are recorded as a `hook_failed` event and never undo the placement.
    """


@hookspec
@after_commit
def on_fraud_checked(order: Order, results: Sequence[FraudResult], ctx: ActionContext) -> None:
    """Fraud checks ran for an order (AfterFraudCheck). After-commit hook.

    `results` holds every provider's verdict. Exceptions are recorded, never undo anything.
    """


@hookspec
@after_commit
def on_payment(order: Order, payment: Payment, ctx: ActionContext) -> None:
    """A payment was recorded (OrderPaid when the order is now paid). After-commit hook.

    `payment` is the new charge; check `ordermill.core.statuses.payment_status(order)` to see
    whether the order is now fully paid (e.g. to issue tickets or auto-activate services).
    """


@hookspec
@after_commit
def on_accept(order: Order, options: Mapping[str, Any], ctx: ActionContext) -> None:
    """An admin accepted a pending order (AcceptOrder). After-commit hook.

    `options` carries the accept form: server, username, password, registrar, send_registrar,
    autosetup, send_email (WHMCS). Provisioning plugins react here (or queue jobs through
    `jobs_for_event` for retries: there the options are in `ctx.notes["accept_options"]`,
    password unmasked). Exceptions are recorded, never undo the acceptance.
    """


@hookspec
@after_commit
def on_cancel(order: Order, lines: Sequence[OrderLine], ctx: ActionContext) -> None:
    """Lines, or the whole order, were cancelled (CancelOrder). After-commit hook.

    `lines` are the lines this action cancelled. Provisioning plugins terminate services here.
    """


@hookspec
@after_commit
def on_refund(
    order: Order, refunds: Sequence[Payment], lines: Sequence[OrderLine], ctx: ActionContext
) -> None:
    """Money was refunded (CancelAndRefundOrder for a whole refund). After-commit hook.

    `refunds` are the new refund payments (one per charge refunded from; `manual=True` means the
    money must be returned by hand); `lines` the lines refunded by this action, maybe none.
    """


@hookspec
@after_commit
def on_fraud(order: Order, ctx: ActionContext) -> None:
    """The order was set to fraud, by an admin or a fraud check (FraudOrder). After-commit hook."""


@hookspec
@after_commit
def on_pending(order: Order, ctx: ActionContext) -> None:
    """The order was set back to pending (PendingOrder). After-commit hook."""


@hookspec
@after_commit
def on_status_changed(
    order: Order, old_status: str, new_status: str, ctx: ActionContext
) -> None:
    """The order's status changed, by any action including bulk changes. After-commit hook.

    Fires in addition to the specific hook (on_accept, on_cancel, ...). Bulk status changes
    fire only this one: as in WHMCS, they run no module commands.
    """


@hookspec
@after_commit
def on_delete(order_number: str, snapshot: Mapping[str, Any], ctx: ActionContext) -> None:
    """An order was deleted for good (DeleteOrder). After-commit hook.

    The order no longer exists; `snapshot` is its last state as a dict (as in the deletion
    event, which stays in the history).
    """


@hookspec
@after_commit
def on_order_edited(order: Order, changes: Mapping[str, Any], ctx: ActionContext) -> None:
    """Products were added, buyer details edited, or dispatch/delivery recorded.

    After-commit hook. `changes` says what: {"added_lines": [...]}, {"buyer": {field: [old,
    new]}}, {"dispatched_at": ...} or {"delivered_at": ...}.
    """


@hookspec
@after_commit
def on_comment_added(order: Order, event: OrderEvent, ctx: ActionContext) -> None:
    """An admin wrote a progress comment. After-commit hook.

    `event.notify_customer` says whether the admin asked to notify the customer;
    `event.visible_to_customer` whether the customer may read it on their order page.
    """


@hookspec
@after_commit(errors="raise")
def message_attachments(
    order: Order, message: str, ctx: ActionContext
) -> Iterable[MessageAttachment] | None:
    """Add files to a customer message. After-commit hook, run by the outbox worker.

    Called when a notification plugin builds a message for an order; `message` names it
    (order_confirmation, payment_received, ...). Return MessageAttachment objects (e.g. the
    order's e-tickets once it is paid) or None. It runs after the action committed, inside the
    message's outbox job: an exception fails that job, which is retried with backoff, so the
    message is never sent without its attachment.
    """


@hookspec
@after_commit
def on_demo_loaded(orders: Sequence[str], ctx: ActionContext) -> None:
    """The demo shop's orders were made (`ordermill demo`, `ordermill serve --demo`).
    After-commit hook.

    `orders` are the numbers of the demo orders, oldest first. Add your plugin's own demo rows
    for them (the subscriptions plugin shows a recurring order in every status), through your
    own functions and `mill.orders.editing`; queue no work that fails in a demo without
    outside services. An exception is logged and the demo still loads.
    """

