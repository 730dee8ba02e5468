"""The ORM schema. Alembic migrations own the database; these classes describe it.

Money columns are integer minor units with a currency column beside them. Relationships are
`lazy="raise"` so an accidental lazy load (an N+1 query) fails loudly in tests instead of
slowing the admin down in production; loaders say what they need with selectinload.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from ordermill.core import search as _search

if TYPE_CHECKING:
    from ordermill.core.invoice_models import CreditNote

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on both SQLite (which stores naive text) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; ordermill stores UTC-aware datetimes only")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        dt.datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[Any]: JSON(),
        Decimal: Numeric(8, 2),
    }


class Customer(Base):
    """A buyer. Orders copy the buyer's details so editing one order never rewrites another."""

    __tablename__ = "customer"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    name: Mapped[str] = mapped_column(String(200))
    company: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(50))
    billing_address: Mapped[dict[str, Any]] = mapped_column(default=dict)
    language: Mapped[str] = mapped_column(String(10), default="en")
    # the buyer's VAT number (B2B): tax plugins may reverse-charge with it
    vat_id: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


TAX_CLASSES = ("standard", "reduced", "zero", "exempt")


class Product(Base):
    """Something sold: a physical good, a ticket, a hosting service or a domain.

    `stock` is the number of units still for sale; None means unlimited (services, domains).
    Units held by order lines are not in `stock`: see OrderLine.units_held.
    """

    __tablename__ = "product"

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str | None] = mapped_column(String(100), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="physical")
    price: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    stock: Mapped[int | None] = mapped_column(Integer)
    billing_cycle: Mapped[str | None] = mapped_column(String(20))
    provisioning_module: Mapped[str | None] = mapped_column(String(64))
    auto_activate: Mapped[str | None] = mapped_column(String(20))
    # One of TAX_CLASSES; tax plugins pick the rate by it (see price_adjustments).
    tax_class: Mapped[str] = mapped_column(String(20), default="standard",
                                           server_default="standard")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # catalogue details (issue 18): a picture, a ticket's event, when the admin flags low stock
    image_url: Mapped[str | None] = mapped_column(String(500))
    event_date: Mapped[dt.datetime | None]
    venue: Mapped[str | None] = mapped_column(String(200))
    low_stock_threshold: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class PromoCode(Base):
    """A discount: `percent` in basis points (1000 = 10%) or a `fixed` amount in minor units."""

    __tablename__ = "promo_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    value: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class User(Base):
    """A staff member of the back office. `role` names a role of core/permissions."""

    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(30))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Stamped into the session cookie at login; bumping it (logout, password change, "end
    # all sessions") makes every cookie carrying an older value worthless (core.staff).
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # The admin's language for this person ("fr"); None follows the browser's Accept-Language.
    language: Mapped[str | None] = mapped_column(String(10), nullable=True, default=None)


class Order(Base):
    """One checkout. `id` is internal and sequential; `number` (10 random digits) is public."""

    __tablename__ = "shop_order"
    __table_args__ = (
        Index("ix_shop_order_status_placed_at", "status", "placed_at"),
        # with id: the list's default sort (placed_at, id) pages from the index alone
        Index("ix_shop_order_placed_at", "placed_at", "id"),
        # the reports: revenue by payment date, currency and gateway from the index alone
        Index("ix_shop_order_paid_at", "paid_at", "currency", "payment_method"),
        # the order list sorted by total pages from the index, not a sort of every order
        Index("ix_shop_order_total", "total", "id"),
        # the list filtered by payment status, newest first, from the index (issue 20)
        Index("ix_shop_order_payment_status_placed_at", "payment_status", "placed_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(10), unique=True)
    status: Mapped[str] = mapped_column(String(40))
    # statuses.payment_status(order), stored so the list can filter on it by an index; every
    # action writes it in its own transaction (statuses.store_payment_status), a test checks
    # it against the derivation after random action sequences. "" = not computed yet (rows
    # from before the column): `ordermill init` fills them (core.payment_state)
    payment_status: Mapped[str] = mapped_column(String(20), default="", server_default="")
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    buyer_name: Mapped[str] = mapped_column(String(200), index=True)
    buyer_email: Mapped[str] = mapped_column(String(254), index=True)
    buyer_phone: Mapped[str | None] = mapped_column(String(50))
    billing_address: Mapped[dict[str, Any]] = mapped_column(default=dict)
    language: Mapped[str] = mapped_column(String(10), default="en")
    currency: Mapped[str] = mapped_column(String(3))
    subtotal: Mapped[int] = mapped_column(BigInteger)
    discount: Mapped[int] = mapped_column(BigInteger, default=0)
    # fees and shipping before their tax; all tax (lines and fees, also tax included in
    # gross prices); `total` is what the buyer pays (core.adjustments)
    fee_total: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    tax_total: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    total: Mapped[int] = mapped_column(BigInteger)
    vat_id: Mapped[str | None] = mapped_column(String(40))
    promo_code: Mapped[str | None] = mapped_column(String(64), index=True)
    payment_method: Mapped[str] = mapped_column(String(64), index=True)
    customer_ip: Mapped[str | None] = mapped_column(String(45))
    affiliate: Mapped[str | None] = mapped_column(String(100))
    sales_manager_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    customer_note: Mapped[str | None] = mapped_column(Text)
    needs_attention: Mapped[str | None] = mapped_column(Text)
    fraud_score: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    request_fingerprint: Mapped[str | None] = mapped_column(String(64))
    placed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    invoiced_at: Mapped[dt.datetime | None]
    paid_at: Mapped[dt.datetime | None]
    accepted_at: Mapped[dt.datetime | None]
    dispatched_at: Mapped[dt.datetime | None]
    delivered_at: Mapped[dt.datetime | None]
    cancelled_at: Mapped[dt.datetime | None]
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # signed into every customer order link; revoking the links raises it (core.order_links)
    customer_link_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # {plugin: {field: value}}: the order-request fields plugins registered (core.admin_specs)
    plugin_data: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")

    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", lazy="raise", order_by="OrderLine.id", cascade="all, delete-orphan"
    )
    # money records outlive the order: deleting it keeps them, with order_id NULL and the
    # order's number in their own order_number (the books must still balance)
    invoices: Mapped[list[Invoice]] = relationship(
        back_populates="order", lazy="raise", order_by="Invoice.id", cascade="save-update, merge"
    )
    payments: Mapped[list[Payment]] = relationship(
        back_populates="order", lazy="raise", order_by="Payment.id", cascade="save-update, merge"
    )
    fraud_checks: Mapped[list[FraudCheck]] = relationship(
        back_populates="order", lazy="raise", order_by="FraudCheck.id",
        cascade="all, delete-orphan",
    )
    # issued documents outlive the order like invoices do (core/invoice_models.py)
    credit_notes: Mapped[list[CreditNote]] = relationship(
        back_populates="order", lazy="raise", order_by="CreditNote.id",
        cascade="save-update, merge")

    __mapper_args__ = {"version_id_col": version}


class OrderLine(Base):
    """One product in an order. Its status is active, cancelled or refunded.

    Cancelling or refunding some of a line's units splits them off into a new line (see
    `parent_line_id`), so every line has one status and its quantity counts its units.

    `units_held` counts the stock units this line took at placement (or when added);
    `units_released` how many went back. Restock releases `units_held - units_released`,
    so no path can return a unit twice (woocommerce #22489).
    """

    __tablename__ = "order_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("shop_order.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    sku: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str | None] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[int] = mapped_column(BigInteger)
    discount: Mapped[int] = mapped_column(BigInteger, default=0)
    # the tax in `total`; `total` is what the buyer pays for the line (after discounts)
    tax: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    total: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20), default="active")
    units_held: Mapped[int] = mapped_column(Integer, default=0)
    units_released: Mapped[int] = mapped_column(Integer, default=0)
    refunded_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    attendee: Mapped[str | None] = mapped_column(String(200))
    domain: Mapped[str | None] = mapped_column(String(253))
    billing_cycle: Mapped[str | None] = mapped_column(String(20))
    provisioning_status: Mapped[str | None] = mapped_column(String(20))
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    closed_at: Mapped[dt.datetime | None]
    # set on a part split off by a partial cancel or refund: the line it came from
    # (core.line_parts); the parts' quantities and totals add up to what was ordered
    parent_line_id: Mapped[int | None] = mapped_column(
        ForeignKey("order_line.id", ondelete="SET NULL"))

    # raise_on_sql: the order is in the identity map whenever its lines are (fee shares)
    order: Mapped[Order] = relationship(back_populates="lines", lazy="raise_on_sql")


class Invoice(Base):
    """A request for payment. An order may have several (partial payments, added products).

    Kept when its order is deleted: `order_id` becomes NULL and `order_number` keeps the
    reference (set at deletion), so invoices and payments still add up afterwards.
    """

    __tablename__ = "invoice"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("shop_order.id", ondelete="SET NULL"), index=True)
    order_number: Mapped[str | None] = mapped_column(String(10), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20), default="unpaid")
    description: Mapped[str | None] = mapped_column(String(200))
    # "order" bills the order's lines; "renewal" bills a further period (add_renewal_invoice)
    kind: Mapped[str] = mapped_column(String(20), default="order", server_default="order")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    due_at: Mapped[dt.datetime | None]
    paid_at: Mapped[dt.datetime | None]
    # the document's lifecycle, beside `status` (unpaid/paid/cancelled: its money): draft
    # (unnumbered, may be re-cut), issued (numbered, frozen in `snapshot`), void (kept number)
    state: Mapped[str] = mapped_column(String(10), default="draft", server_default="draft")
    number: Mapped[str | None] = mapped_column(String(40), unique=True)
    issued_at: Mapped[dt.datetime | None]
    voided_at: Mapped[dt.datetime | None]
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    order: Mapped[Order] = relationship(back_populates="invoices", lazy="raise")

    document_kind = "invoice"


class Payment(Base):
    """Money that moved: a `charge` in or a `refund` out, always positive amounts.

    `fee` is what the gateway kept and `net` what reached the shop (seed 003: money credited).
    A refund points at the charge it returns money from with `refund_of_id`. Payments are
    the books: deleting their order keeps them, with `order_id` NULL and the deleted order's
    number in `order_number` (set at deletion).
    """

    __tablename__ = "payment"
    __table_args__ = (
        Index("ix_payment_gateway_reference", "gateway", "gateway_reference"),
        Index("ix_payment_created_at", "created_at"),
        # the reports' payments by date, gateway and currency, read from the index alone
        Index("ix_payment_report", "created_at", "status", "gateway", "currency", "kind",
              "amount", "fee", "order_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("shop_order.id", ondelete="SET NULL"), index=True)
    order_number: Mapped[str | None] = mapped_column(String(10), index=True)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoice.id", ondelete="SET NULL"))
    refund_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("payment.id", ondelete="SET NULL")
    )
    kind: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20), default="succeeded")
    gateway: Mapped[str] = mapped_column(String(64))
    gateway_reference: Mapped[str | None] = mapped_column(String(200))
    amount: Mapped[int] = mapped_column(BigInteger)
    fee: Mapped[int] = mapped_column(BigInteger, default=0)
    net: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    one_click: Mapped[bool] = mapped_column(Boolean, default=False)
    manual: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    order: Mapped[Order] = relationship(back_populates="payments", lazy="raise")


class FraudCheck(Base):
    """One provider's verdict on an order: score (0-100), reasons and the raw response."""

    __tablename__ = "fraud_check"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("shop_order.id"), index=True)
    provider: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20))
    score: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    raw: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    order: Mapped[Order] = relationship(back_populates="fraud_checks", lazy="raise")


class OrderEvent(Base):
    """The history. Every action writes one in its own transaction; nothing changes silently.

    `order_id` is set to NULL when an order is deleted, but `order_number` and the deletion
    event (with a snapshot in `data`) stay: the audit trail survives the order.
    """

    __tablename__ = "order_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("shop_order.id", ondelete="SET NULL"), index=True
    )
    order_number: Mapped[str] = mapped_column(String(10), index=True)
    type: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(Text)
    # the message id + parameters to show `message` in the reader's language (issue 21); NULL
    # on rows older than that, which show the English `message` (see core.labels.event_message)
    message_id: Mapped[str | None] = mapped_column(Text)
    params: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    status_from: Mapped[str | None] = mapped_column(String(40))
    status_to: Mapped[str | None] = mapped_column(String(40))
    comment: Mapped[str | None] = mapped_column(Text)
    notify_customer: Mapped[bool] = mapped_column(Boolean, default=False)
    visible_to_customer: Mapped[bool] = mapped_column(Boolean, default=False)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class OutboxJob(Base):
    """A unit of after-commit work with an outside effect (e-mail, webhook, provisioning).

    Written in the same transaction as the action that caused it, run later by a worker:
    a crash or an outage delays the work, never loses it.
    """

    __tablename__ = "outbox_job"
    __table_args__ = (Index("ix_outbox_job_status_run_after", "status", "run_after"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    order_number: Mapped[str | None] = mapped_column(String(10), index=True)
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=5)
    run_after: Mapped[dt.datetime] = mapped_column(default=utcnow)
    locked_by: Mapped[str | None] = mapped_column(String(100))
    locked_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None]


class Setting(Base):
    """Shop settings an admin edits at run time (custom statuses, bank details, threshold)."""

    __tablename__ = "setting"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ApiToken(Base):
    """A staff member's API token. Only a hash is stored; the token is shown once."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"),
                                         index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]


class IdempotencyRecord(Base):
    """The first response to a request carrying an Idempotency-Key, replayed on retries.

    A key belongs to its caller (`user:<id>` for a token or a staff session,
    `customer:<e-mail>` for an anonymous checkout): two callers never share one.
    """

    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("scope", "caller", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(100))
    caller: Mapped[str] = mapped_column(String(300), default="", server_default="")
    key: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class GatewayEvent(Base):
    """An inbound gateway webhook, stored once by (gateway, event id) so replays do nothing."""

    __tablename__ = "gateway_event"
    __table_args__ = (UniqueConstraint("gateway", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    gateway: Mapped[str] = mapped_column(String(64))
    event_id: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(100))
    order_number: Mapped[str | None] = mapped_column(String(10), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    outcome: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


# the document tables (issue 15) sit in their own module; importing it here registers them on
# Base.metadata wherever the models are used
import ordermill.core.invoice_models  # noqa: E402,F401

__all__ = [
    "ApiToken",
    "Base",
    "Customer",
    "FraudCheck",
    "GatewayEvent",
    "IdempotencyRecord",
    "Invoice",
    "Order",
    "OrderEvent",
    "OrderLine",
    "OutboxJob",
    "Payment",
    "Product",
    "PromoCode",
    "Setting",
    "UniqueConstraint",
    "User",
    "utcnow",
]

# the pricing tables live in their own module; importing it here puts them in Base.metadata
# the catalogue's tables (prices, stock ledger, promo terms, history) join the metadata here
from ordermill.core import catalogue_models as _catalogue_models  # noqa: E402,F401

# Tables of other core modules, so that Base.metadata is whole wherever models is imported.
from ordermill.core import customer_models as _customer_models  # noqa: E402,F401
from ordermill.core import tax_models  # noqa: E402,F401

# The order search's trigram indexes (FTS5 on SQLite, pg_trgm on PostgreSQL) are created
# with shop_order, so a database made from the models searches as a migrated one does.
_search.attach(Order.__table__)
