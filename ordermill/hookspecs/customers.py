"""Hooks of the customer actions (issue 19)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ordermill.core.context import ActionContext
    from ordermill.core.customers.erasure import ErasureScope
    from ordermill.core.models import Customer

from ordermill.hookspecs.tags import hookspec, in_transaction

__all__ = ["erase_personal_data"]


@hookspec
@in_transaction
def erase_personal_data(customer: Customer, erasure: ErasureScope,
                        ctx: ActionContext) -> Any:
    """Erase the personal data your plugin stores about a customer. In-transaction hook.

    Called by the customer erasure (GDPR article 17) inside its transaction (`ctx.session`),
    after the core replaced the person by a pseudonym in its own tables. `customer` already
    carries the pseudonym; `erasure` has `pseudonym`, `pseudonym_email`, `order_numbers` (the
    customer's orders, deleted ones included) and `scrub(value)`, which returns a string, list
    or object with every personal string of the customer replaced. Change your rows in
    `ctx.session`; keep money records. Return something JSON-able for the erasure report
    (e.g. {"tickets": 2}) or None. An exception aborts the whole erasure and names your plugin.
    """
