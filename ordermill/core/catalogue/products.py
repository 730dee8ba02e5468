"""Product actions: create, edit, archive, adjust stock. Each checks `manage_catalogue`, runs
in one transaction and writes one catalogue event; a dry run takes the same path and rolls
back. Products are archived (no longer for sale), never deleted: orders reference them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ordermill.core.catalogue import catalogue_history, prices, stock_ledger
from ordermill.core.catalogue.errors import DuplicateSku, ProductNotFound
from ordermill.core.catalogue.fields import refuse
from ordermill.core.catalogue.product_input import read_product, read_stock
from ordermill.core.catalogue_models import ADJUSTMENT_REASONS
from ordermill.core.errors import ActionNotAllowed, InvalidInput
from ordermill.core.i18n import N_, event_msg
from ordermill.core.i18n import gettext as _
from ordermill.core.labels import shown_message
from ordermill.core.models import Product, utcnow
from ordermill.core.money import Money
from ordermill.core.permissions import require
from ordermill.core.serialize import money_text
from ordermill.core.specs import Actor

MANAGE = "manage_catalogue"
READ = "view_orders"
# History sentences (event_msg: stored in English, shown in each reader's language).
CREATED = N_("Product %(sku)s created: %(name)s, %(price)s.")
UPDATED = N_("Product %(sku)s changed: %(fields)s.")
UNCHANGED = N_("Nothing to change on product %(sku)s.")
ARCHIVED = N_("Product %(sku)s archived: no longer for sale; past orders keep it.")
ADJUSTED = N_("Stock of %(sku)s %(change)s (%(reason)s): now %(stock)s.")
COUNTED = N_("Stock of %(sku)s counted: %(stock)s (%(change)s).")
REASON_WORDS = {"received": N_("received"), "counted": N_("counted"),
                "damaged": N_("damaged")}


def find(session: Session, sku: str, *, lock: bool = False) -> Product:
    query = select(Product).where(Product.sku == str(sku).strip())
    if lock and session.get_bind().dialect.name != "sqlite":
        query = query.with_for_update()
    product = session.scalar(query)
    if product is None:
        raise ProductNotFound(_("No product %(sku)s.", sku=repr(sku)), details={"sku": str(sku)})
    return product


def detail(session: Session, product: Product) -> dict[str, Any]:
    """The product as the API, CLI and admin show it, prices in every currency included."""
    low = (product.stock is not None and product.low_stock_threshold is not None
           and product.stock <= product.low_stock_threshold)
    return {
        "sku": product.sku, "name": product.name, "kind": product.kind,
        "category": product.category, "price": money_text(product.price, product.currency),
        "currency": product.currency,
        "prices": {code: money_text(amount, code)
                   for code, amount in prices.all_prices(session, product).items()},
        "tax_class": product.tax_class, "stock": product.stock,
        "low_stock_threshold": product.low_stock_threshold, "low_stock": low,
        "billing_cycle": product.billing_cycle,
        "provisioning_module": product.provisioning_module,
        "event_date": product.event_date.isoformat() if product.event_date else None,
        "venue": product.venue, "image_url": product.image_url, "active": product.active,
        "created_at": product.created_at.isoformat(),
    }


def _shown(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


class ProductActions:
    """`mill.catalogue` product and stock actions."""

    def __init__(self, mill: Any) -> None:
        self.mill = mill

    def get(self, sku: str, *, actor: Actor) -> dict[str, Any]:
        require(actor, READ)
        with self.mill.read_session() as session:
            product = find(session, sku)
            result = detail(session, product)
            result["history"] = catalogue_history.events(session, "product", product.sku)
            result["ledger"] = [stock_ledger.movement_to_dict(row)
                                for row in stock_ledger.movements(session, product.id, 50)]
            return result

    def create(self, data: Mapping[str, Any], *, actor: Actor, dry_run: bool = False
               ) -> dict[str, Any]:
        require(actor, MANAGE)
        try:
            with catalogue_history.transaction(self.mill, dry_run=dry_run) as session:
                return self.create_in(session, data, actor)
        except IntegrityError:  # a concurrent create of the same sku won the race
            sku = str(data.get("sku"))
            raise DuplicateSku(_("A product with sku %(sku)s exists already.", sku=repr(sku)),
                               details={"sku": sku, "field": "sku"}) from None

    def create_in(self, session: Session, data: Mapping[str, Any], actor: Actor
                  ) -> dict[str, Any]:
        values = read_product(data, None, self.mill.settings.default_currency)
        if session.scalar(select(Product.id).where(Product.sku == values["sku"])) is not None:
            raise DuplicateSku(_("A product with sku %(sku)s exists already.",
                                 sku=repr(values['sku'])),
                               details={"sku": values["sku"], "field": "sku"})
        extra = values.pop("prices", {})
        product = Product(**values, options={}, created_at=utcnow())
        session.add(product)
        session.flush()  # the opening stock row is written by the insert (catalogue_models)
        prices.set_prices(session, product, extra)
        session.flush()
        result = detail(session, product)
        catalogue_history.record(session, actor, "product", product.sku, "product_created",
                                 event_msg(CREATED, sku=product.sku, name=product.name,
                                           price=Money(product.price, product.currency)),
                                 {"product": result})
        return result

    def update(self, sku: str, changes: Mapping[str, Any], *, actor: Actor,
               dry_run: bool = False) -> dict[str, Any]:
        require(actor, MANAGE)
        with catalogue_history.transaction(self.mill, dry_run=dry_run) as session:
            return self.update_in(session, find(session, sku, lock=True), changes, actor)

    def update_in(self, session: Session, product: Product, changes: Mapping[str, Any],
                  actor: Actor) -> dict[str, Any]:
        values = read_product(changes, product, self.mill.settings.default_currency)
        before = detail(session, product)
        if "sku" in values and values["sku"] != product.sku:
            raise refuse("sku", "cannot change; orders refer to it. Archive the product and "
                                "create a new one.")
        values.pop("sku", None)
        extra = values.pop("prices", None)
        stock = values.pop("stock", product.stock) if "stock" in values else product.stock
        for name, value in values.items():
            setattr(product, name, value)
        session.flush()
        if extra is not None or "price" in values or "currency" in values:
            current = prices.all_prices(session, product)
            current.pop(product.currency, None)
            if "currency" in values and before["currency"] != product.currency:
                current.pop(before["currency"], None)
            prices.set_prices(session, product, extra if extra is not None else current)
        self._set_stock(session, product, stock, actor)
        session.flush()
        after = detail(session, product)
        diff = {name: [before[name], after[name]] for name in after
                if before[name] != after[name]}
        message = event_msg(UPDATED, sku=product.sku, fields=", ".join(diff)) if diff \
            else event_msg(UNCHANGED, sku=product.sku)
        if diff:
            catalogue_history.record(session, actor, "product", product.sku, "product_updated",
                                     message, {"changes": diff})
        return {**after, "changes": diff, "message": shown_message(message)}

    def _set_stock(self, session: Session, product: Product, stock: int | None,
                   actor: Actor) -> None:
        """A new absolute stock: tracked -> a `counted` adjustment by the difference;
        unlimited -> tracked: an opening row making the ledger add up to it."""
        if stock == product.stock:
            return
        if stock is None:
            product.stock = None
            return
        if product.stock is None:
            product.stock = stock
            session.flush()
            stock_ledger.record(session, product.id, stock - stock_ledger.ledger_sum(
                session, product.id), "opening", actor=actor.label, units=stock)
            return
        stock_ledger.adjust(session, product, stock - product.stock, reason="counted",
                            actor=actor.label)

    def archive(self, sku: str, *, actor: Actor, dry_run: bool = False) -> dict[str, Any]:
        require(actor, MANAGE)
        with catalogue_history.transaction(self.mill, dry_run=dry_run) as session:
            product = find(session, sku, lock=True)
            product.active = False
            message = event_msg(ARCHIVED, sku=product.sku)
            catalogue_history.record(session, actor, "product", product.sku,
                                     "product_archived", message)
            session.flush()
            return {**detail(session, product), "message": shown_message(message)}

    def adjust_stock(self, sku: str, *, actor: Actor, change: int | str | None = None,
                     count: int | str | None = None, reason: str | None = None,
                     note: str | None = None, dry_run: bool = False) -> dict[str, Any]:
        """`change` adds or takes units (reason received, counted or damaged); `count`
        records an absolute count as the difference (reason counted)."""
        require(actor, MANAGE)
        if (change is None) == (count is None):
            raise InvalidInput(_("Give either a change (+N or -N) or a count."),
                               details={"field": "change"})
        if reason is None:
            reason = "counted" if count is not None else None
        if reason not in ADJUSTMENT_REASONS:
            raise refuse("reason", f"{reason!r} is not one of {', '.join(ADJUSTMENT_REASONS)}.")
        with catalogue_history.transaction(self.mill, dry_run=dry_run) as session:
            product = find(session, sku, lock=True)
            if product.stock is None:
                raise ActionNotAllowed(_("%(sku)s has unlimited stock; set a stock count on "
                                         "the product first.", sku=product.sku),
                                       details={"sku": product.sku})
            if count is not None:
                target = read_stock(count)
                if target is None:
                    raise refuse("count", "must be a number of units.")
                delta = target - product.stock
            else:
                delta = _signed(change)
            if delta == 0 and count is None:
                raise refuse("change", "must not be 0.")
            stock = stock_ledger.adjust(session, product, delta, reason=reason,
                                        actor=actor.label, note=note) if delta else product.stock
            template = COUNTED if count is not None else ADJUSTED
            message = event_msg(template, sku=product.sku, change=f"{delta:+d}", stock=stock,
                                reason=event_msg(REASON_WORDS[reason]))
            catalogue_history.record(session, actor, "product", product.sku, "stock_adjusted",
                                     message, {"change": delta, "reason": reason,
                                               "stock": stock, "note": note})
            return {"sku": product.sku, "change": delta, "reason": reason, "stock": stock,
                    "message": shown_message(message)}

    def ledger(self, sku: str, *, actor: Actor, limit: int = 200) -> dict[str, Any]:
        require(actor, READ)
        with self.mill.read_session() as session:
            product = find(session, sku)
            return {"sku": product.sku, "stock": product.stock,
                    "ledger_total": stock_ledger.ledger_sum(session, product.id),
                    "movements": [stock_ledger.movement_to_dict(row) for row in
                                  stock_ledger.movements(session, product.id, limit)]}


def _signed(value: int | str | None) -> int:
    from ordermill.core.catalogue import fields

    number = fields.whole({"change": value}, "change", minimum=None, allow_sign=True)
    if number is None:
        raise refuse("change", "is required.")
    return number
