"""Input objects of the order actions. The API and admin build these from forms and JSON."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from ordermill.core import countries
from ordermill.core.errors import InvalidInput
from ordermill.core.i18n import gettext as _
from ordermill.core.money import Money

MAX_QUANTITY = 100_000  # units of one line; with MAX_AMOUNT, totals stay far from overflow


def _email(value: str) -> str:
    text = (value or "").strip()
    if "@" not in text or text.startswith("@") or text.endswith("@") or " " in text:
        raise InvalidInput(_("%(value)s is not an e-mail address.", value=repr(value)),
                           details={"field": "email"})
    return text.lower()


def _name(value: str) -> str:
    text = (value or "").strip()
    if not text:
        raise InvalidInput(_("The buyer's name is required."), details={"field": "name"})
    return text


@attrs.frozen
class CustomerDetails:
    email: str = attrs.field(converter=_email)
    name: str = attrs.field(converter=_name)
    phone: str | None = None
    company: str | None = None
    billing_address: Mapping[str, Any] = attrs.field(factory=dict)
    language: str = "en"
    vat_id: str | None = attrs.field(default=None, converter=countries.vat_id)


@attrs.frozen
class LineRequest:
    """One product to order. `price_override` is for staff only (WHMCS Add New Order)."""

    sku: str
    quantity: int = 1
    price_override: Money | None = None
    attendee: str | None = None
    domain: str | None = None
    billing_cycle: str | None = None
    options: Mapping[str, Any] = attrs.field(factory=dict)

    def __attrs_post_init__(self) -> None:
        if isinstance(self.quantity, bool) or not isinstance(self.quantity, int):
            raise InvalidInput(_("Quantity of %(sku)s must be a whole number.", sku=self.sku),
                               details={"sku": self.sku})
        if not 1 <= self.quantity <= MAX_QUANTITY:
            limit = "at least 1" if self.quantity < 1 else f"at most {MAX_QUANTITY}"
            raise InvalidInput(_("Quantity of %(sku)s must be %(limit)s, not %(quantity)s.",
                                 sku=self.sku, limit=limit, quantity=self.quantity),
                               details={"sku": self.sku, "quantity": self.quantity})
        if self.price_override is not None and self.price_override.amount < 0:
            raise InvalidInput(_("Price override of %(sku)s cannot be negative.", sku=self.sku))


@attrs.frozen
class OrderRequest:
    customer: CustomerDetails
    lines: Sequence[LineRequest]
    payment_method: str
    promo_code: str | None = None
    # the currency to place the order in; None: the shop's (see catalogue.prices)
    currency: str | None = None
    customer_ip: str | None = None
    affiliate: str | None = None
    note: str | None = None
    sales_manager_id: int | None = None
    idempotency_key: str | None = None
    request_fingerprint: str | None = None
    invoice_plan: Sequence[int] | None = None
    generate_invoice: bool = True
    admin_placed: bool = False
    # {plugin: {field: value}} from the plugins' order-request fields (core.admin_specs)
    plugin_data: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict)

    def __attrs_post_init__(self) -> None:
        if not self.lines:
            raise InvalidInput(_("An order needs at least one line."), details={"field": "lines"})
        if not (self.payment_method or "").strip():
            raise InvalidInput(_("A payment method is required."),
                               details={"field": "payment_method"})
