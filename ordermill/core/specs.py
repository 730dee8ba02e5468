"""Small frozen objects that plugins hand to the core through `register_*` hooks and results.

They are the whole contract between a plugin and the core: a plugin builds these, the core
reads them. Nothing here touches the database.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

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
    cheque, invoice) wait for an admin to record the payment. When `refund` is given and
    `can_refund` is true, the core calls `refund(charge=Payment, amount=int,
    idempotency_key=str, ctx=ActionContext) -> GatewayRefund` inside the refund's transaction;
    otherwise the refund is recorded and the admin is told to return the money by hand.
    """

    name: str
    label: str
    online: bool = False
    can_capture: bool = False
    can_partial_capture: bool = False
    can_refund: bool = False
    can_partial_refund: bool = False
    can_recurring: bool = False
    refund: Callable[..., GatewayRefund] | None = None
    describe_instructions: Callable[..., str] | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict)


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
    makes enqueueing idempotent: a second job with the same key is not created.
    """

    kind: str
    payload: Mapping[str, Any] = attrs.field(factory=dict)
    dedupe_key: str | None = None
    max_attempts: int | None = None
    delay_seconds: int = 0


@attrs.frozen
class JobHandlerSpec:
    """A handler for outbox jobs of one `kind`, returned by `register_job_handlers`.

    `handler(job=OutboxJobView, mill=Ordermill)` runs outside any order transaction; raising
    makes the job retry with exponential backoff until `max_attempts`, then dead-letter.
    """

    kind: str
    handler: Callable[..., None]
    max_attempts: int = 5
    description: str = ""


@attrs.frozen
class OutboxJobView:
    """What a job handler sees of its job (a detached copy, not an ORM row)."""

    id: int
    kind: str
    payload: Mapping[str, Any]
    order_number: str | None
    attempts: int
