"""Loading the demo shop: the catalogue, the recipes run oldest first, then each order moved
back in time as a whole (the one direct write), and the demo admin."""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
from sqlalchemy import Table, select, update

from ordermill.core.app import Ordermill
from ordermill.core.context import ActionContext
from ordermill.core.errors import PermissionDenied
from ordermill.core.models import (
    FraudCheck,
    Invoice,
    Order,
    OrderEvent,
    OrderLine,
    Payment,
    Product,
    PromoCode,
    Setting,
    User,
    UTCDateTime,
    utcnow,
)
from ordermill.core.specs import Actor
from ordermill.core.staff import authenticate, create_user
from ordermill.demo.catalogue import (
    CURRENCY,
    DEMO_ADMIN_EMAIL,
    DEMO_ADMIN_NAME,
    DEMO_ADMIN_PASSWORD,
    DEMO_SEED,
    PRODUCTS,
    PROMO_CODES,
    TAX_SETTINGS,
    TAX_SETTINGS_KEY,
)
from ordermill.demo.recipes import _Shop

log = logging.getLogger("ordermill.demo")
DEMO_ACTOR = Actor.system("demo")


@attrs.frozen
class DemoLogin:
    """The demo admin's login, as `ordermill serve --demo` prints it."""

    email: str
    password: str | None
    created: bool


@attrs.frozen
class DemoSummary:
    """What load_demo made; the CLI prints it."""

    products: int
    promo_codes: int
    staff: int
    orders: tuple[str, ...]
    deleted: tuple[str, ...]
    by_status: Mapping[str, int]
    seconds: float

    def describe(self) -> str:
        statuses = ", ".join(f"{name} {count}" for name, count in sorted(self.by_status.items()))
        return (f"{len(self.orders)} orders ({statuses}), {self.products} products, "
                f"{self.promo_codes} promo codes, {self.staff} staff users; "
                f"{len(self.deleted)} order deleted (kept in history); {self.seconds:.1f} s.")



def load_demo(mill: Ordermill, *, seed: int = DEMO_SEED, spread_days: bool = True
              ) -> DemoSummary:
    """Fill the database with the demo shop. Safe to run again (products are reused).

    `spread_days=False` keeps every timestamp at "now" (a test that checks dates may want it).
    """
    started = time.monotonic()
    products = _ensure_products(mill)
    promos = _ensure_promo_codes(mill)
    _ensure_tax_settings(mill)
    shop = _Shop(mill, random.Random(seed))
    staff = shop.ensure_staff()
    recipes = sorted(shop.recipes(), key=lambda recipe: -recipe[0])
    made = [(recipe(), days_ago) for days_ago, recipe in recipes]
    if spread_days:
        _move_back_in_time(mill, made, shop.rng)
    deleted = tuple(shop.deleted)
    numbers = tuple(number for number, _days in made if number not in deleted)
    announce_demo(mill, numbers)
    with mill.read_session() as session:
        statuses = Counter(session.scalars(select(Order.status)
                                           .where(Order.number.in_(numbers))))
    return DemoSummary(products=products, promo_codes=promos, staff=staff, orders=numbers,
                       deleted=deleted, by_status=dict(statuses),
                       seconds=time.monotonic() - started)


def announce_demo(mill: Ordermill, numbers: Sequence[str]) -> None:
    """`on_demo_loaded`: plugins add their own demo rows; a failure is logged, never fatal."""
    outcome = mill.plugins.call("on_demo_loaded", orders=list(numbers),
                                ctx=ActionContext(mill, DEMO_ACTOR, "demo"))
    for failure in outcome.failures:
        log.warning("on_demo_loaded of %s failed: %s", failure.plugin, failure.error)


def has_orders(mill: Ordermill) -> bool:
    with mill.read_session() as session:
        return session.scalar(select(Order.id).limit(1)) is not None


def ensure_demo_admin(mill: Ordermill) -> DemoLogin:
    """Make sure the demo admin exists; its password is only known if it is still the demo's."""
    with mill.read_session() as session:
        exists = session.scalar(select(User.id).where(User.email == DEMO_ADMIN_EMAIL))
    if exists is None:
        create_user(mill, email=DEMO_ADMIN_EMAIL, name=DEMO_ADMIN_NAME, role="admin",
                    password=DEMO_ADMIN_PASSWORD)
        return DemoLogin(DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD, created=True)
    try:
        authenticate(mill, DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD)
    except PermissionDenied:
        return DemoLogin(DEMO_ADMIN_EMAIL, None, created=False)
    return DemoLogin(DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD, created=False)


def _ensure_products(mill: Ordermill) -> int:
    """Create the catalogue; on a second run top stock back up so the orders still fit."""
    with mill.write_session() as session, session.begin():
        existing = {p.sku: p for p in session.scalars(
            select(Product).where(Product.sku.in_([p.sku for p in PRODUCTS])))}
        for item in PRODUCTS:
            product = existing.get(item.sku)
            if product is None:
                session.add(Product(
                    sku=item.sku, name=item.name, kind=item.kind, price=item.price,
                    currency=CURRENCY, category=item.category, stock=item.stock,
                    billing_cycle=item.billing_cycle,
                    provisioning_module=item.provisioning_module, active=True,
                    options=dict(item.options), tax_class=item.tax_class, created_at=utcnow(),
                ))
            elif item.stock is not None and (product.stock or 0) < item.stock:
                product.stock = item.stock
            if product is not None:
                product.active = True
                product.tax_class = item.tax_class
    return len(PRODUCTS)


def _ensure_tax_settings(mill: Ordermill) -> None:
    """The demo shop's tax (France and Indonesia), unless an admin already set some."""
    with mill.write_session() as session, session.begin():
        if session.get(Setting, TAX_SETTINGS_KEY) is None:
            session.add(Setting(key=TAX_SETTINGS_KEY, value=dict(TAX_SETTINGS),
                                updated_at=utcnow()))


def _ensure_promo_codes(mill: Ordermill) -> int:
    with mill.write_session() as session, session.begin():
        known = set(session.scalars(select(PromoCode.code)))
        for code, kind, value, currency in PROMO_CODES:
            if code not in known:
                session.add(PromoCode(code=code, kind=kind, value=value, currency=currency,
                                      active=True, created_at=utcnow()))
    return len(PROMO_CODES)


_SHIFTED: tuple[tuple[type[Any], str], ...] = (
    (Order, "id"), (OrderLine, "order_id"), (Invoice, "order_id"), (Payment, "order_id"),
    (FraudCheck, "order_id"),
)


def _move_back_in_time(mill: Ordermill, made: Sequence[tuple[str, float]],
                       rng: random.Random) -> None:
    """Shift every timestamp of each order by the same amount: its story keeps its order."""
    with mill.write_session() as session, session.begin():
        ids = dict(session.execute(select(Order.number, Order.id)
                                   .where(Order.number.in_([n for n, _d in made]))).all())
        for number, days_ago in made:
            offset = dt.timedelta(days=days_ago, minutes=rng.randint(0, 600))
            targets: list[tuple[Table, Any]] = []
            if number in ids:
                targets = [(model.__table__, model.__table__.c[key] == ids[number])
                           for model, key in _SHIFTED]
            targets.append((OrderEvent.__table__,
                            OrderEvent.__table__.c.order_number == number))
            for table, where in targets:
                columns = [c for c in table.columns if isinstance(c.type, UTCDateTime)]
                for row in session.execute(select(table.c.id, *columns).where(where)).all():
                    values = {c.name: row._mapping[c] - offset for c in columns
                              if row._mapping[c] is not None}
                    if values:
                        session.execute(update(table).where(table.c.id == row.id)
                                        .values(**values))
