"""Read-side queries: order search, CSV export rows, payments, products, staff look-ups.

The order list of every back office in the seeds (Webex, WHMCS, the course platform) is a
search box plus filters over one table. Here each list is a fixed, small number of queries
whatever the page size: one count, one page of orders, one query each for their lines and
payments (selectinload). The payment status is filtered on by its stored, indexed column
(kept by every action), so paging stays exact and cheap. Like the actions, every query checks
the actor's permission: the API and the admin cannot disagree about who sees what.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Iterator, Sequence
from typing import Any

import attrs
from sqlalchemy import (
    Select,
    and_,
    column,
    exists,
    func,
    literal_column,
    or_,
    select,
    table,
    union,
)
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import selectinload
from sqlalchemy.sql.elements import ColumnElement

from ordermill.core import order_cursor, search
from ordermill.core.admin_specs import check_filter_values, list_filters
from ordermill.core.errors import InvalidInput, OrdermillError, PluginError
from ordermill.core.i18n import gettext as _
from ordermill.core.models import (
    ApiToken,
    IdempotencyRecord,
    Invoice,
    Order,
    OrderLine,
    Payment,
    Product,
    User,
    utcnow,
)
from ordermill.core.permissions import permissions_of, require
from ordermill.core.retry import classify
from ordermill.core.serialize import money_text, payment_to_dict
from ordermill.core.specs import Actor
from ordermill.core.staff import _hash_token, actor_for_user
from ordermill.core.statuses import amount_due, line_summary, money_totals, payment_status

PAYMENT_STATUSES = ("unpaid", "partially_paid", "paid", "partially_refunded", "refunded")
ORDER_SORTS = ("placed_at", "total", "number", "buyer_name", "status")
PAYMENT_SORTS = ("created_at", "amount")
MAX_PER_PAGE = 200
COUNT_CAP = 10_000  # the order list counts matches up to here (past its own page), no further
EXPORT_BATCH = 500
log = logging.getLogger("ordermill.queries")

CSV_COLUMNS = (
    "number", "placed_at", "status", "payment_status", "summary", "buyer_name", "buyer_email",
    "quantity", "currency", "subtotal", "discount", "total", "captured", "refunded",
    "amount_due", "promo_code", "payment_method", "skus", "categories", "affiliate",
    "dispatched_at", "delivered_at", "needs_attention",
)
PAYMENT_CSV_COLUMNS = (
    "id", "order_number", "created_at", "kind", "status", "gateway", "gateway_reference",
    "amount", "fee", "net", "currency", "manual", "one_click", "buyer_name", "buyer_email",
)


@attrs.frozen
class OrderFilters:
    """What an order list is narrowed to; empty fields do not filter.

    `placed_from` is inclusive and `placed_before` exclusive, so a day is [midnight, midnight).
    """

    q: str | None = None
    statuses: tuple[str, ...] = ()
    payment_statuses: tuple[str, ...] = ()
    payment_methods: tuple[str, ...] = ()
    promo_code: str | None = None
    sku: str | None = None
    category: str | None = None
    placed_from: dt.datetime | None = None
    placed_before: dt.datetime | None = None
    needs_attention: bool | None = None
    numbers: tuple[str, ...] = ()
    # (name, value) of the plugins' filters (order_list_filters), applied in this order
    plugin_filters: tuple[tuple[str, str], ...] = ()

    def __attrs_post_init__(self) -> None:
        unknown = sorted(set(self.payment_statuses) - set(PAYMENT_STATUSES))
        if unknown:
            raise InvalidInput(
                _("Unknown payment status %(value)s; choose from %(value2)s.",
                  value=', '.join(unknown), value2=', '.join(PAYMENT_STATUSES)),
                details={"field": "payment_status"})
        for name in ("placed_from", "placed_before"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise InvalidInput(_("%(name)s needs a time zone.", name=name),
                                   details={"field": name})


@attrs.frozen
class Page:
    """One page of a list and where it sits in the whole."""

    items: list[Any]
    page: int
    per_page: int
    total: int
    # False: `total` is a lower bound (the order list counts at most COUNT_CAP rows past
    # its page: a COUNT(*) of 100k orders is a scan on PostgreSQL)
    exact: bool = True
    # the order list: `after` this (core.order_cursor) reads the next page from the index
    next_cursor: str | None = None

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages or not self.exact

    @property
    def has_prev(self) -> bool:
        return self.page > 1


# ---------------------------------------------------------------------------- SQL pieces


def _search_condition(q: str, sqlite: bool) -> ColumnElement[bool]:
    """The search box: buyer name or e-mail containing `q`, or a number starting with it.

    Indexed (core.search): a number prefix is a range on the unique column; a substring uses
    pg_trgm on PostgreSQL, and on SQLite the FTS5 trigram table gives candidate ids that the
    same LIKE conditions re-check, so the rows are exactly those a scan finds.
    A whole e-mail address finds that buyer's orders by the indexed column (addresses are
    stored lower-case): on PostgreSQL its common trigrams ("@example.com") cost ~100 ms at
    100k orders, and an address is what someone types when they know whose order it is.
    A whole order number (10 digits, "#" allowed) is likewise that order, by the unique
    column: on SQLite its digit trigrams matched thousands of e-mails (~100 ms at 100k).
    """
    if search.is_email(q):
        return Order.buyer_email == q.lower()
    if search.is_order_number(q):  # its trigrams are in many e-mails: FTS costs ~100 ms
        return Order.number == q.lstrip("#")
    matches = [Order.buyer_name.icontains(q, autoescape=True),
               Order.buyer_email.icontains(q, autoescape=True)]
    digits = q.lstrip("#")
    by_number: ColumnElement[bool] | None = None
    if digits.isdigit() and len(digits) <= 10:
        low, high = search.number_range(digits)
        by_number = Order.number >= low if high is None \
            else and_(Order.number >= low, Order.number < high)
        matches.append(and_(by_number, Order.number.startswith(digits, autoescape=True)))
    if not sqlite or len(q) < search.MIN_TRIGRAM:
        return or_(*matches)
    fts = table(search.SEARCH_TABLE, column("rowid"))
    candidates: Any = select(fts.c.rowid).where(
        literal_column(search.SEARCH_TABLE).op("MATCH")(search.fts_phrase(q)))
    if by_number is not None:
        candidates = union(candidates, select(Order.id).where(by_number))
    return and_(Order.id.in_(candidates), or_(*matches))


def _conditions(filters: OrderFilters, sqlite: bool = False) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    q = (filters.q or "").strip()
    if q:
        conditions.append(_search_condition(q, sqlite))
    if filters.statuses:
        conditions.append(Order.status.in_(filters.statuses))
    if filters.payment_methods:
        conditions.append(Order.payment_method.in_(filters.payment_methods))
    if filters.promo_code:
        conditions.append(func.upper(Order.promo_code) == filters.promo_code.strip().upper())
    if filters.sku:
        conditions.append(exists().where(OrderLine.order_id == Order.id,
                                         OrderLine.sku == filters.sku.strip()))
    if filters.category:
        conditions.append(exists().where(OrderLine.order_id == Order.id,
                                         OrderLine.category == filters.category.strip()))
    if filters.placed_from is not None:
        conditions.append(Order.placed_at >= filters.placed_from)
    if filters.placed_before is not None:
        conditions.append(Order.placed_at < filters.placed_before)
    if filters.needs_attention is not None:
        conditions.append(Order.needs_attention.is_not(None) if filters.needs_attention
                          else Order.needs_attention.is_(None))
    if filters.numbers:
        conditions.append(Order.number.in_(filters.numbers))
    if filters.payment_statuses:
        # stored and kept by the actions (statuses.store_payment_status): an index, no sums
        conditions.append(Order.payment_status.in_(filters.payment_statuses))
    return conditions


def _order_by(sort: str) -> list[Any]:
    descending = sort.startswith("-")
    name = sort.lstrip("-")
    if name not in ORDER_SORTS:
        raise InvalidInput(_("Cannot sort by %(name)s; choose from %(value)s (prefix - for "
                             "descending).", name=repr(name), value=', '.join(ORDER_SORTS)),
                           details={"field": "sort"})
    column = getattr(Order, name)
    return ([column.desc(), Order.id.desc()] if descending else [column.asc(), Order.id.asc()])


def _check_paging(page: int, per_page: int) -> None:
    if page < 1:
        raise InvalidInput(_("page starts at 1."), details={"field": "page"})
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise InvalidInput(_("per_page must be between 1 and %(MAX_PER_PAGE)s.",
                             MAX_PER_PAGE=MAX_PER_PAGE),
                           details={"field": "per_page"})


def _filtered(mill: Any, filters: OrderFilters) -> Select[tuple[Order]]:
    """The orders matching `filters`; the plugins' filters narrow the select in turn (an
    unknown filter or value is an InvalidInput, an `apply` that fails a PluginError)."""
    query = select(Order).where(*_conditions(filters, mill.is_sqlite))
    if not filters.plugin_filters:
        return query
    owners = {name: plugin for name, (plugin, _spec) in list_filters(mill).items()}
    for spec, value in check_filter_values(mill, filters.plugin_filters):
        try:
            narrowed = spec.apply(query, value)
        except OrdermillError:
            raise
        except Exception as error:
            raise PluginError(mill.plugins.describe(owners[spec.name]), "order_list_filters",
                              f"filter {spec.name!r} failed for {value!r}: "
                              f"{type(error).__name__}: {error}") from error
        if not isinstance(narrowed, Select):
            raise PluginError(mill.plugins.describe(owners[spec.name]), "order_list_filters",
                              f"filter {spec.name!r} returned {narrowed!r}, not a select")
        query = narrowed
    return query


# ---------------------------------------------------------------------------- orders


# what order_summary reads (money_totals: succeeded payments; renewals_billed: renewal
# invoices): most orders have none of the latter, so their query returns no rows
_SUMMARY_LOADS = (
    selectinload(Order.lines),
    selectinload(Order.payments.and_(Payment.status == "succeeded")),
    selectinload(Order.invoices.and_(Invoice.kind == "renewal")),
)


def search_orders(mill: Any, filters: OrderFilters | None = None, *, actor: Actor,
                  sort: str = "-placed_at", page: int = 1, per_page: int = 50,
                  after: str | None = None) -> Page:
    """A page of orders matching `filters`, loaded for `order_summary`: their lines, their
    succeeded payments and their renewal invoices (all the summary's money reads), nothing
    else; not for anything that needs every payment or invoice.

    Five queries whatever the page size: a count (capped: `Page.exact`), the page's orders
    (their ids picked from the sort's index first), their lines, payments and invoices.
    """
    require(actor, "view_orders")
    filters = filters or OrderFilters()
    _check_paging(page, per_page)
    order_by = _order_by(sort)
    base = _filtered(mill, filters)
    offset = 0 if after else (page - 1) * per_page
    cap = max(COUNT_CAP, offset + per_page)
    rows = base.where(order_cursor.after(sort, after)) if after else base
    with mill.read_session() as session:
        counted = session.scalar(select(func.count()).select_from(
            base.with_only_columns(Order.id).order_by(None).limit(cap + 1).subquery())) or 0
        # the page's ids first, from the sort's index (deep pages skip index entries, not
        # whole rows), then those orders only; one more id says whether a next page exists
        ids = rows.with_only_columns(Order.id).order_by(*order_by).limit(per_page + 1) \
            .offset(offset).subquery()
        orders = list(session.scalars(
            select(Order).join(ids, Order.id == ids.c.id).order_by(*order_by)
            .options(*_SUMMARY_LOADS)))
    more = len(orders) > per_page
    orders = orders[:per_page]
    return Page(orders, page, per_page, min(counted, cap), exact=counted <= cap,
                next_cursor=order_cursor.encode(sort, orders[-1]) if more else None)


def order_summary(order: Order) -> dict[str, Any]:
    """One row of the order list (the Webex table): needs the order's lines and payments."""
    currency = order.currency
    totals = money_totals(order)
    paid = order.payment_status or payment_status(order)  # stored, kept equal by the actions
    return {
        "number": order.number, "status": order.status,
        "payment_status": paid, "summary": line_summary(order, paid),
        "buyer_name": order.buyer_name, "buyer_email": order.buyer_email,
        "quantity": sum(line.quantity for line in order.lines), "currency": currency,
        "total": money_text(order.total, currency),
        "amount_due": money_text(amount_due(order), currency),
        "captured": money_text(totals.captured, currency),
        "refunded": money_text(totals.refunded, currency),
        "promo_code": order.promo_code, "payment_method": order.payment_method,
        "placed_at": order.placed_at.isoformat(),
        "needs_attention": order.needs_attention, "version": order.version,
    }


def _when(value: dt.datetime | None) -> str:
    return value.isoformat() if value else ""


def export_row(order: Order) -> dict[str, Any]:
    """One CSV row per order, the columns of CSV_COLUMNS; money as decimal strings."""
    summary = order_summary(order)
    currency = order.currency
    return {
        **{key: summary[key] for key in ("number", "placed_at", "status", "payment_status",
                                         "summary", "buyer_name", "buyer_email", "quantity",
                                         "currency", "total", "captured", "refunded",
                                         "amount_due", "payment_method")},
        "subtotal": money_text(order.subtotal, currency),
        "discount": money_text(order.discount, currency),
        "promo_code": order.promo_code or "",
        "skus": " ".join(dict.fromkeys(line.sku for line in order.lines)),
        "categories": " ".join(dict.fromkeys(line.category for line in order.lines
                                             if line.category)),
        "affiliate": order.affiliate or "",
        "dispatched_at": _when(order.dispatched_at),
        "delivered_at": _when(order.delivered_at),
        "needs_attention": order.needs_attention or "",
    }


def export_orders(mill: Any, filters: OrderFilters | None = None, *, actor: Actor,
                  sort: str = "-placed_at") -> Iterator[dict[str, Any]]:
    """Every matching order as a CSV row, loaded in batches (1 + 3 per batch queries).

    The permission is checked before the first row, so a refused export writes nothing.
    """
    require(actor, "export")
    filters = filters or OrderFilters()
    order_by = _order_by(sort)
    with mill.read_session() as session:
        ids = list(session.scalars(_filtered(mill, filters).with_only_columns(Order.id)
                                   .order_by(*order_by)))
    return _export_batches(mill, ids)


def _export_batches(mill: Any, ids: Sequence[int]) -> Iterator[dict[str, Any]]:
    for start in range(0, len(ids), EXPORT_BATCH):
        chunk = ids[start:start + EXPORT_BATCH]
        with mill.read_session() as session:
            loaded = {order.id: order for order in session.scalars(
                select(Order).where(Order.id.in_(chunk))
                .options(selectinload(Order.lines), selectinload(Order.payments),
                     selectinload(Order.invoices)))}
        for order_id in chunk:
            if order_id in loaded:  # deleted between the id query and this batch
                yield export_row(loaded[order_id])


# ---------------------------------------------------------------------------- payments


@attrs.frozen
class PaymentFilters:
    """The Payments tab of seed 003: by gateway, kind, status, order and date."""

    gateways: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    order_number: str | None = None
    created_from: dt.datetime | None = None
    created_before: dt.datetime | None = None
    currency: str | None = None


def _payment_query(filters: PaymentFilters) -> Select[Any]:
    # an outer join: payments of a deleted order stay in the books under its old number
    number = func.coalesce(Order.number, Payment.order_number)
    query = (select(Payment, number, Order.buyer_name, Order.buyer_email)
             .outerjoin(Order, Order.id == Payment.order_id))
    if filters.gateways:
        query = query.where(Payment.gateway.in_(filters.gateways))
    if filters.kinds:
        query = query.where(Payment.kind.in_(filters.kinds))
    if filters.statuses:
        query = query.where(Payment.status.in_(filters.statuses))
    if filters.order_number:
        query = query.where(number == filters.order_number.strip())
    if filters.currency:
        query = query.where(Payment.currency == filters.currency.strip().upper())
    if filters.created_from is not None:
        query = query.where(Payment.created_at >= filters.created_from)
    if filters.created_before is not None:
        query = query.where(Payment.created_at < filters.created_before)
    return query


def _payment_row(payment: Payment, number: str, name: str | None, email: str | None
                 ) -> dict[str, Any]:
    return {**payment_to_dict(payment), "order_number": number, "buyer_name": name,
            "buyer_email": email}


def list_payments(mill: Any, filters: PaymentFilters | None = None, *, actor: Actor,
                  sort: str = "-created_at", page: int = 1, per_page: int = 50) -> Page:
    """A page of payments (charges and refunds) with their order's number and buyer."""
    require(actor, "view_orders")
    filters = filters or PaymentFilters()
    _check_paging(page, per_page)
    name = sort.lstrip("-")
    if name not in PAYMENT_SORTS:
        raise InvalidInput(_("Cannot sort payments by %(name)s; choose from %(value)s.",
                             name=repr(name), value=', '.join(PAYMENT_SORTS)),
                           details={"field": "sort"})
    column = getattr(Payment, name)
    order_by = ([column.desc(), Payment.id.desc()] if sort.startswith("-")
                else [column.asc(), Payment.id.asc()])
    query = _payment_query(filters)
    with mill.read_session() as session:
        total = session.scalar(select(func.count()).select_from(
            query.with_only_columns(Payment.id).subquery())) or 0
        rows = session.execute(query.order_by(*order_by).limit(per_page)
                               .offset((page - 1) * per_page)).all()
    return Page([_payment_row(*row) for row in rows], page, per_page, total)


def export_payments(mill: Any, filters: PaymentFilters | None = None, *, actor: Actor
                    ) -> Iterator[dict[str, Any]]:
    """Every matching payment as a CSV row (columns of PAYMENT_CSV_COLUMNS), oldest first."""
    require(actor, "export")
    query = _payment_query(filters or PaymentFilters()).order_by(Payment.id)
    with mill.read_session() as session:
        rows = session.execute(query).all()
    return ({key: row[key] for key in PAYMENT_CSV_COLUMNS}
            for row in (_payment_row(*r) for r in rows))


# ---------------------------------------------------------------------------- catalogue


def product_to_dict(product: Product) -> dict[str, Any]:
    return {
        "sku": product.sku, "name": product.name, "category": product.category,
        "kind": product.kind, "price": money_text(product.price, product.currency),
        "currency": product.currency, "stock": product.stock,
        "billing_cycle": product.billing_cycle,
        "provisioning_module": product.provisioning_module, "active": product.active,
    }


def list_products(mill: Any, *, actor: Actor, q: str | None = None,
                  category: str | None = None, include_inactive: bool = False,
                  page: int = 1, per_page: int = 100) -> Page:
    """The catalogue, by sku; what an admin picks from when adding products to an order."""
    require(actor, "view_orders")
    _check_paging(page, per_page)
    query = select(Product)
    if not include_inactive:
        query = query.where(Product.active.is_(True))
    if q and q.strip():
        query = query.where(or_(Product.sku.icontains(q.strip(), autoescape=True),
                                Product.name.icontains(q.strip(), autoescape=True)))
    if category:
        query = query.where(Product.category == category)
    with mill.read_session() as session:
        total = session.scalar(select(func.count()).select_from(
            query.with_only_columns(Product.id).subquery())) or 0
        products = list(session.scalars(query.order_by(Product.sku).limit(per_page)
                                        .offset((page - 1) * per_page)))
    return Page([product_to_dict(p) for p in products], page, per_page, total)


def currencies_of_skus(mill: Any, skus: Sequence[str]) -> dict[str, str]:
    """{sku: currency} of the products that exist, to read amounts typed in a product's
    currency (a price override) before the order exists."""
    wanted = sorted({sku for sku in skus if sku})
    if not wanted:
        return {}
    with mill.read_session() as session:
        rows = session.execute(select(Product.sku, Product.currency)
                               .where(Product.sku.in_(wanted))).all()
    return {sku: currency for sku, currency in rows}


def order_currency(mill: Any, number: str) -> str | None:
    """The currency of an order, to read amounts sent for it; None for an unknown order."""
    with mill.read_session() as session:
        return session.scalar(select(Order.currency).where(Order.number == str(number)))


# ---------------------------------------------------------------------------- staff


def staff_actor(mill: Any, user_id: int) -> Actor | None:
    """The actor of an active staff user (a logged-in session), or None."""
    with mill.read_session() as session:
        user = session.get(User, user_id)
    if user is None or not user.active:
        return None
    return actor_for_user(user)


def staff_to_dict(actor: Actor) -> dict[str, Any]:
    return {"email": actor.name, "role": actor.role, "user_id": actor.user_id,
            "token_id": actor.token_id, "via": actor.kind,
            "permissions": sorted(permissions_of(actor.role))}


def list_tokens(mill: Any, *, actor: Actor, user_id: int | None = None) -> list[dict[str, Any]]:
    """API tokens of a user (the actor's own by default; others' need manage_staff)."""
    owner = user_id if user_id is not None else actor.user_id
    if owner != actor.user_id:
        require(actor, "manage_staff")
    with mill.read_session() as session:
        tokens = session.scalars(select(ApiToken).where(ApiToken.user_id == owner)
                                 .order_by(ApiToken.id))
        return [{"id": t.id, "name": t.name, "prefix": t.prefix,
                 "created_at": t.created_at.isoformat(),
                 "last_used_at": t.last_used_at.isoformat() if t.last_used_at else None,
                 "revoked_at": t.revoked_at.isoformat() if t.revoked_at else None}
                for t in tokens]


def token_id_of(mill: Any, token: str) -> int | None:
    """The id of an API token given its text (right after creating it, to show its row)."""
    with mill.read_session() as session:
        return session.scalar(select(ApiToken.id).where(ApiToken.token_hash == _hash_token(token)))


def token_owner(mill: Any, token_id: int) -> int | None:
    with mill.read_session() as session:
        return session.scalar(select(ApiToken.user_id).where(ApiToken.id == token_id))


def list_staff(mill: Any, *, actor: Actor) -> list[dict[str, Any]]:
    require(actor, "manage_staff")
    with mill.read_session() as session:
        users = session.scalars(select(User).order_by(User.id))
        return [{"id": u.id, "email": u.email, "name": u.name, "role": u.role,
                 "active": u.active, "created_at": u.created_at.isoformat()} for u in users]


def shop_currencies(mill: Any) -> set[str]:
    """The default currency and every currency a product is sold in."""
    with mill.read_session() as session:
        found = set(session.scalars(select(Product.currency).distinct()))
    return found | {mill.settings.default_currency}


# ---------------------------------------------------------------------------- idempotency


def find_idempotency_record(mill: Any, scope: str, key: str, caller: str = ""
                            ) -> IdempotencyRecord | None:
    """The stored first response for (scope, caller, key), if any: keys are per caller."""
    with mill.read_session() as session:
        return session.scalar(select(IdempotencyRecord).where(
            IdempotencyRecord.scope == scope, IdempotencyRecord.caller == caller,
            IdempotencyRecord.key == key))


def save_idempotency_record(mill: Any, *, scope: str, key: str, fingerprint: str,
                            status_code: int, response: dict[str, Any], caller: str = ""
                            ) -> IdempotencyRecord:
    """Store the first response; when a concurrent retry stored one first, return that."""
    record = IdempotencyRecord(scope=scope, caller=caller, key=key, fingerprint=fingerprint,
                               status_code=status_code, response=response,
                               created_at=utcnow())
    try:
        with mill.write_session() as session, session.begin():
            session.add(record)
    except IntegrityError:
        existing = find_idempotency_record(mill, scope, key, caller)
        if existing is None:
            raise
        return existing
    except DBAPIError as error:
        if classify(error) is None:
            raise
        # the order itself is committed and a replay finds it by its key: answer it
        log.warning("idempotency record for %s not stored: %s", scope, error)
    return record
