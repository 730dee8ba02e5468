"""Small frozen objects that plugins hand to the core through `register_*` hooks and results.

They are the whole contract between a plugin and the core: a plugin builds these, the core
reads them. Nothing here touches the database.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import attrs


@attrs.frozen
class Actor:
    """Who acts: a staff user, an API token, the storefront customer or the system itself."""

    kind: str
    name: str
    role: str | None = None
    user_id: int | None = None
    token_id: int | None = None

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        return cls(kind="system", name=name, role="admin")

    @classmethod
    def customer(cls, email: str) -> Actor:
        return cls(kind="customer", name=email, role="customer")

    @property
    def label(self) -> str:
        """The text stored on events: 'system:worker', 'user:ann@shop.test', 'token:7'."""
        if self.kind == "token":
            return f"token:{self.token_id}:{self.name}"
        return f"{self.kind}:{self.name}"


@attrs.frozen
class GatewayRefund:
    """What a gateway answers to a refund request: its refund id and the refund's status."""

    reference: str
    status: str = "succeeded"
    fee_returned: int = 0
    raw: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class PaymentGatewaySpec:
    """A payment gateway, returned by `register_payment_gateways`.

    `online` gateways take money through an outside service; offline ones (bank transfer,
    cheque, invoice) wait for an admin to record the payment. `configured` is false when the
    plugin lacks what it needs to call its service (no API key): the core then calls none of
    its callables for a refund, a refund's dry run says the gateway is not configured, and
    the refund can be recorded as manual instead. When `refund` is given and
    `can_refund` is true, the core calls `refund(charge=Payment, amount=int,
    idempotency_key=str, ctx=ActionContext) -> GatewayRefund` inside the refund's transaction;
    otherwise the refund is recorded and the admin is told to return the money by hand.

    The other callables are optional and called with keyword arguments only; bind your plugin's
    configuration into them when `register_payment_gateways` builds the spec:

    * `describe_instructions(order=Order) -> str`: how the buyer pays (bank details for the
      confirmation e-mail). Offline gateways give it.
    * `start_payment(order=Order, invoice=Invoice | None, amount=int, currency=str,
      idempotency_key=str) -> dict`: start an online payment for `amount` (what the invoice
      still asks for); the dict goes back to the storefront (a client secret, an approve URL).
    * `capture_payment(order=Order, data=Mapping) -> GatewayEventData`: finish a payment the
      buyer approved (PayPal capture); the core applies the answer like a webhook event.
    * `parse_webhook(body=bytes, headers=Mapping[str, str]) -> GatewayEventData`: verify a
      webhook (header names lower-case) and normalize it. Raise
      `ordermill.core.payments.WebhookRejected` for a bad or stale signature (answered 400,
      nothing changes); any other exception is answered 502 so the gateway retries.

    Saved payment methods (recurring billing; set `can_recurring=True` when you give both):

    * `saved_method(order=Order, payment=Payment) -> Mapping | None`: what the buyer saved
      with this charge for later debits (Stripe: the customer and payment method ids), or
      None. Ids only, never card data or secrets: callers store it.
    * `charge_saved(order=Order, invoice=Invoice, amount=int, currency=str,
      saved=Mapping, idempotency_key=str) -> GatewayEventData`: debit the saved method now,
      without the buyer (off-session). Answer kind "payment_succeeded" (with reference,
      amount, fee) or "payment_failed" (a decline, with a message); raise for a fault
      (network, outage) so the caller retries with the same key. `idempotency_key` is
      derived from the invoice and the attempt: the same key never charges twice.
    """

    name: str
    label: str
    online: bool = False
    can_capture: bool = False
    can_partial_capture: bool = False
    can_refund: bool = False
    can_partial_refund: bool = False
    can_recurring: bool = False
    configured: bool = True
    refund: Callable[..., GatewayRefund] | None = None
    describe_instructions: Callable[..., str] | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict)
    start_payment: Callable[..., Mapping[str, Any]] | None = None
    capture_payment: Callable[..., GatewayEventData] | None = None
    parse_webhook: Callable[..., GatewayEventData] | None = None
    saved_method: Callable[..., Mapping[str, Any] | None] | None = None
    charge_saved: Callable[..., GatewayEventData] | None = None


GATEWAY_EVENT_KINDS = ("payment_succeeded", "payment_failed", "refunded", "dispute", "ignored")


@attrs.frozen
class GatewayRefundData:
    """One refund a gateway reports: its id (stored on the refund payment), amount, status."""

    reference: str
    amount: int
    status: str = "succeeded"


@attrs.frozen
class GatewayEventData:
    """A gateway event (webhook or capture answer) normalized for the core by the gateway.

    `kind` says what the core does: payment_succeeded records the charge, refunded records
    each of `refunds` not yet known, payment_failed writes an event, dispute flags the order,
    ignored only stores it. `reference`, `amount`, `fee` and `currency` always describe the
    charge (capture) the event is about, in minor units, so that a refund or a dispute
    delivered before its payment can record the charge first: delivery order never changes
    the outcome. `event_id` is the gateway's unique event id; a replay of it does nothing.
    """

    event_id: str
    type: str
    kind: str = attrs.field(validator=attrs.validators.in_(GATEWAY_EVENT_KINDS))
    order_number: str | None = None
    reference: str | None = None
    amount: int | None = None
    fee: int = 0
    currency: str | None = None
    invoice_id: int | None = None
    one_click: bool = False
    refunds: tuple[GatewayRefundData, ...] = attrs.field(default=(), converter=tuple)
    message: str = ""
    raw: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class FraudResult:
    """One provider's verdict, returned by `fraud_check`.

    `score` is 0-100 (higher is riskier) as a Decimal, never a float. `status` is "ok" for a
    real score, or "error" when the provider could not be asked (the order then stays pending
    and an admin can re-run the check).
    """

    provider: str
    score: Decimal | None
    reasons: tuple[str, ...] = ()
    raw: Mapping[str, Any] = attrs.field(factory=dict)
    status: str = "ok"
    error: str | None = None


@attrs.frozen
class JobRequest:
    """Work for the outbox, returned by `jobs_for_event` or passed to `outbox.enqueue`.

    `kind` names a handler registered by `register_job_handlers`. `dedupe_key`, when given,
    makes enqueueing idempotent: a second job with the same key is not created. The job runs
    `delay_seconds` from now, or at `run_at` (a UTC-aware datetime) when given: a job that
    queues its own next run at a set time is a schedule that needs no cron.
    `to_customer` marks a message to the buyer: an event records "customer notified" only
    when such a job was queued for it.
    """

    kind: str
    payload: Mapping[str, Any] = attrs.field(factory=dict)
    dedupe_key: str | None = None
    max_attempts: int | None = None
    delay_seconds: int = 0
    to_customer: bool = False
    run_at: dt.datetime | None = None


@attrs.frozen
class JobHandlerSpec:
    """A handler for outbox jobs of one `kind`, returned by `register_job_handlers`.

    `handler(job=OutboxJobView, mill=Ordermill)` runs outside any order transaction; raising
    makes the job retry on the outbox's schedule until `max_attempts` (None: the outbox's
    default, `outbox_max_attempts`, which spans more than a day), then dead-letter.
    """

    kind: str
    handler: Callable[..., None]
    max_attempts: int | None = None
    description: str = ""


@attrs.frozen
class OutboxJobView:
    """What a job handler sees of its job (a detached copy, not an ORM row).

    `worker_id` names the claim; `mill.outbox.complete(session, job)` uses it to mark the job
    done in the handler's own transaction."""

    id: int
    kind: str
    payload: Mapping[str, Any]
    order_number: str | None
    attempts: int
    worker_id: str | None = None


@attrs.frozen
class MessageAttachment:
    """A file a plugin adds to a customer message (`message_attachments`): e-tickets, a
    receipt. `filename` is what the customer sees; `data` the bytes."""

    filename: str
    content_type: str
    data: bytes


PERMISSION_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")


def _permission_name(_instance: Any, _attribute: attrs.Attribute[Any], value: str) -> None:
    if not isinstance(value, str) or not PERMISSION_NAME.fullmatch(value) or len(value) > 64:
        raise ValueError(f"permission name {value!r} must be lower-case letters, digits and "
                         f"underscores (dots between parts), at most 64 characters")


def _some_text(_instance: Any, attribute: attrs.Attribute[Any], value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{attribute.name} must be a non-empty string, not {value!r}")


@attrs.frozen
class PermissionSpec:
    """A permission a plugin adds, returned by `register_permissions`.

    `label` says in plain words what it allows (the admin's staff page shows it). `roles`
    are the core roles (manager, support, viewer, customer) that hold it; `admin` holds every
    permission whatever `roles` says.
    """

    name: str = attrs.field(validator=_permission_name)
    label: str = attrs.field(validator=_some_text)
    roles: tuple[str, ...] = attrs.field(default=(), converter=tuple)


def same_site_path(href: str) -> bool:
    """True for a path on this site ("/admin/reports?x=1"); False for another site (a scheme,
    "//host", a backslash browsers read as a slash) or a control character."""
    if not isinstance(href, str) or not href.startswith("/") or href.startswith("//"):
        return False
    if "\\" in href or any(ord(char) < 0x20 or ord(char) == 0x7F for char in href):
        return False
    parts = urlsplit(href)
    return not parts.scheme and not parts.netloc


def _same_site(_instance: Any, _attribute: attrs.Attribute[Any], value: str) -> None:
    if not same_site_path(value):
        raise ValueError(f"AdminLink href {value!r} must be a path on this site, such as "
                         f"'/admin/reports', never another site")


@attrs.frozen
class AdminLink:
    """A link in the admin's top navigation, returned by `admin_menu_links`.

    `href` is a path on this site; `permission` (None: every staff member) hides the link
    from staff whose role lacks it. The page behind the link checks the permission itself.
    """

    label: str = attrs.field(validator=_some_text)
    href: str = attrs.field(validator=_same_site)
    permission: str | None = None
