"""The demo shop: products of every kind, two promo codes and ~45 orders in every situation.

A new user, the admin's screenshots and the end-to-end tests all need a shop that already
shows what the desk can do. Every order is made through the core actions only (place, pay,
accept, cancel, refund, ...), so history, invoices, payments and stock are exactly what real
use leaves behind. The one direct write is moving each order back in time as a whole, so the
list spans six weeks instead of one second. Choices come from a seeded random generator: the
same shop every time (only the public order numbers, drawn by the core, differ).
"""

from __future__ import annotations

import datetime as dt
import random
import string
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
from sqlalchemy import Table, select, update

from ordermill.core.app import Ordermill
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
    User,
    UTCDateTime,
    utcnow,
)
from ordermill.core.money import percent_of
from ordermill.core.requests import CustomerDetails, LineRequest, OrderRequest
from ordermill.core.specs import Actor
from ordermill.core.staff import authenticate, create_user
from ordermill.core.statuses import amount_due

DEMO_SEED = 20240601
DEMO_ADMIN_EMAIL = "admin@ordermill.test"
DEMO_ADMIN_NAME = "Demo Admin"
DEMO_ADMIN_PASSWORD = "ordermill-demo"
CURRENCY = "EUR"
ONLINE_METHODS = frozenset({"stripe", "paypal"})
FEES = {"stripe": (150, 25), "paypal": (349, 35)}  # basis points + fixed cents, as charged


@attrs.frozen
class DemoProduct:
    sku: str
    name: str
    kind: str
    price: int
    category: str
    stock: int | None = None
    billing_cycle: str | None = None
    provisioning_module: str | None = None
    options: Mapping[str, Any] = attrs.field(factory=dict)


PRODUCTS: tuple[DemoProduct, ...] = (
    DemoProduct("TEE-ORGANIC", "Organic cotton T-shirt", "physical", 2490, "Merchandise",
                stock=120, options={"sizes": ["S", "M", "L", "XL"]}),
    DemoProduct("MUG-ENAMEL", "Enamel camping mug", "physical", 1450, "Merchandise", stock=80),
    DemoProduct("POSTER-A2", "Tour poster A2, signed", "physical", 1900, "Merchandise",
                stock=25),
    DemoProduct("VINYL-LIVE", "Live at the Mill (vinyl LP)", "physical", 2999, "Music",
                stock=40),
    DemoProduct("TKT-SUMMER-GA", "Summer Concert: general admission", "ticket", 4500,
                "Tickets", stock=300, options={"venue": "Old Mill Hall", "doors": "19:00"}),
    DemoProduct("TKT-SUMMER-VIP", "Summer Concert: VIP with backstage tour", "ticket", 12000,
                "Tickets", stock=24, options={"venue": "Old Mill Hall", "doors": "18:00"}),
    DemoProduct("TKT-WORKSHOP", "Songwriting workshop (one day)", "ticket", 8500, "Tickets",
                stock=12, options={"venue": "Studio B"}),
    DemoProduct("HOST-STARTER", "Starter web hosting", "service", 599, "Hosting",
                billing_cycle="monthly", provisioning_module="webhook"),
    DemoProduct("HOST-BUSINESS", "Business web hosting", "service", 17900, "Hosting",
                billing_cycle="annually", provisioning_module="webhook"),
    DemoProduct("VPS-2", "Cloud VPS, 2 vCPU / 4 GB", "service", 1900, "Hosting",
                billing_cycle="monthly", provisioning_module="webhook"),
    DemoProduct("DOMAIN-COM", ".com domain registration", "domain", 1299, "Domains",
                billing_cycle="annually", provisioning_module="webhook"),
    DemoProduct("DOMAIN-EU", ".eu domain registration", "domain", 850, "Domains",
                billing_cycle="annually", provisioning_module="webhook"),
    DemoProduct("EBOOK-STUDIO", "Home studio handbook (e-book)", "digital", 999, "Digital"),
    DemoProduct("PRESETS-SYNTH", "Analog synth preset pack", "digital", 1500, "Digital"),
)

PROMO_CODES: tuple[tuple[str, str, int, str | None], ...] = (
    ("SUMMER10", "percent", 1000, None),  # 10 %
    ("WELCOME5", "fixed", 500, CURRENCY),  # 5.00 off
)


@attrs.frozen
class Buyer:
    name: str
    email: str
    city: str
    country: str
    language: str = "en"
    company: str | None = None
    phone: str | None = None

    def details(self) -> CustomerDetails:
        address = {"line1": "12 Demo Street", "city": self.city, "country": self.country}
        return CustomerDetails(email=self.email, name=self.name, phone=self.phone,
                               company=self.company, billing_address=address,
                               language=self.language)


BUYERS: tuple[Buyer, ...] = (
    Buyer("Lena Fischer", "lena.fischer@example.de", "Hamburg", "DE", "de",
          company="Bäckerei Fischer", phone="+49 40 555 0101"),
    Buyer("Tom Baker", "tom.baker@example.co.uk", "Leeds", "GB"),
    Buyer("Amélie Durand", "amelie.durand@example.fr", "Lyon", "FR", "fr"),
    Buyer("Jonas Vermeulen", "jonas@example.be", "Ghent", "BE", "nl"),
    Buyer("Sofia Rossi", "sofia.rossi@example.it", "Bologna", "IT", "it"),
    Buyer("Marta Nowak", "marta.nowak@example.pl", "Kraków", "PL", "pl"),
    Buyer("Daniel Murphy", "dan.murphy@example.ie", "Cork", "IE"),
    Buyer("Ines Carvalho", "ines.carvalho@example.pt", "Porto", "PT", "pt"),
    Buyer("Lucas Martín", "lucas.martin@example.es", "Valencia", "ES", "es"),
    Buyer("Eva Lindqvist", "eva.lindqvist@example.se", "Uppsala", "SE", "sv",
          company="Lindqvist Design AB"),
    Buyer("Pieter de Vries", "pieter@example.nl", "Utrecht", "NL", "nl"),
    Buyer("Hannah Schmidt", "hannah.schmidt@example.at", "Graz", "AT", "de"),
    Buyer("Oliver Jensen", "oliver.jensen@example.dk", "Aarhus", "DK", "da"),
    Buyer("Chloé Martin", "chloe.martin@example.fr", "Nantes", "FR", "fr",
          company="Atelier Chloé"),
    Buyer("Mateo García", "mateo.garcia@example.es", "Sevilla", "ES", "es"),
    Buyer("Aisha Khan", "aisha.khan@example.co.uk", "Manchester", "GB",
          company="Northern Lights Events Ltd", phone="+44 161 555 0199"),
    Buyer("Nina Horvat", "nina.horvat@example.hr", "Zagreb", "HR", "hr"),
    Buyer("Felix Wagner", "felix.wagner@example.de", "Leipzig", "DE", "de"),
    Buyer("Grace O'Neill", "grace.oneill@example.ie", "Galway", "IE"),
    Buyer("Mikko Virtanen", "mikko.virtanen@example.fi", "Tampere", "FI", "fi"),
    Buyer("Clara Weber", "clara.weber@example.ch", "Basel", "CH", "de",
          company="Weber & Partner GmbH"),
    Buyer("Rui Santos", "rui.santos@example.pt", "Lisbon", "PT", "pt"),
)

SUSPICIOUS_BUYER = Buyer("J Smith", "xx.j.smith.8812@example.net", "Unknown", "US")


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


# ---------------------------------------------------------------------------------- loading


def load_demo(mill: Ordermill, *, seed: int = DEMO_SEED, spread_days: bool = True
              ) -> DemoSummary:
    """Fill the database with the demo shop. Safe to run again (products are reused).

    `spread_days=False` keeps every timestamp at "now" (a test that checks dates may want it).
    """
    started = time.monotonic()
    products = _ensure_products(mill)
    promos = _ensure_promo_codes(mill)
    shop = _Shop(mill, random.Random(seed))
    staff = shop.ensure_staff()
    recipes = sorted(shop.recipes(), key=lambda recipe: -recipe[0])
    made = [(recipe(), days_ago) for days_ago, recipe in recipes]
    if spread_days:
        _move_back_in_time(mill, made, shop.rng)
    deleted = tuple(shop.deleted)
    numbers = tuple(number for number, _days in made if number not in deleted)
    with mill.read_session() as session:
        statuses = Counter(session.scalars(select(Order.status)
                                           .where(Order.number.in_(numbers))))
    return DemoSummary(products=products, promo_codes=promos, staff=staff, orders=numbers,
                       deleted=deleted, by_status=dict(statuses),
                       seconds=time.monotonic() - started)


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
                    options=dict(item.options), created_at=utcnow(),
                ))
            elif item.stock is not None and (product.stock or 0) < item.stock:
                product.stock = item.stock
            if product is not None:
                product.active = True
    return len(PRODUCTS)


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


# ---------------------------------------------------------------------------------- the shop


def _slug(text: str) -> str:
    """'O'Neill' -> 'oneill', 'Amélie' -> 'amelie': safe for usernames and domain names."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in ascii_text.lower() if ch.isalnum())


class _Shop:
    """The demo's staff, helpers for the usual steps, and the order recipes."""

    def __init__(self, mill: Ordermill, rng: random.Random) -> None:
        self.mill = mill
        self.rng = rng
        self.manager = Actor(kind="user", name="anna.berg@ordermill.test", role="manager")
        self.support = Actor(kind="user", name="sam.okafor@ordermill.test", role="support")
        self._buyers = list(BUYERS)
        self.rng.shuffle(self._buyers)
        self._next_buyer = 0
        self.deleted: list[str] = []

    # ---- people ----------------------------------------------------------------------------

    def ensure_staff(self) -> int:
        """Two staff members act in the demo history. They have no password, so nobody can
        log in as them (and no slow password hashing runs)."""
        people = ((self.manager, "Anna Berg"), (self.support, "Sam Okafor"))
        resolved = []
        for actor, name in people:
            with self.mill.write_session() as session, session.begin():
                user = session.scalar(select(User).where(User.email == actor.name))
                if user is None:
                    user = User(email=actor.name, name=name, role=actor.role or "viewer",
                                password_hash=None, active=True, created_at=utcnow())
                    session.add(user)
                    session.flush()
                user_id = user.id
            resolved.append(attrs.evolve(actor, user_id=user_id))
        self.manager, self.support = resolved
        return len(people)

    def buyer(self) -> Buyer:
        buyer = self._buyers[self._next_buyer % len(self._buyers)]
        self._next_buyer += 1
        return buyer

    def ip(self) -> str:
        return f"{self.rng.choice(['203.0.113', '198.51.100', '192.0.2'])}." \
               f"{self.rng.randint(2, 254)}"

    # ---- steps -----------------------------------------------------------------------------

    def method(self, wanted: str) -> str:
        """The wanted payment method, or a registered gateway of the same kind (online or
        offline) when gateway plugins are installed and lack it."""
        gateways = self.mill.gateways
        if not gateways or wanted in gateways:
            return wanted
        online = wanted in ONLINE_METHODS
        alike = sorted(name for name, spec in gateways.items() if spec.online == online)
        return (alike or sorted(gateways))[0]

    def place(self, lines: Sequence[tuple[str, int] | LineRequest], method: str, *,
              buyer: Buyer | None = None, promo: str | None = None,
              plan: Sequence[int] | None = None, note: str | None = None,
              by_phone: bool = False) -> str:
        buyer = buyer or self.buyer()
        request = OrderRequest(
            customer=buyer.details(),
            lines=[line if isinstance(line, LineRequest) else LineRequest(line[0], line[1])
                   for line in lines],
            payment_method=self.method(method), promo_code=promo, invoice_plan=plan,
            note=note, customer_ip=None if by_phone else self.ip(), admin_placed=by_phone,
            sales_manager_id=self.manager.user_id if by_phone else None,
        )
        # Instalment plans are set up by staff (seed 003), so those orders are placed by staff.
        staff = by_phone or bool(plan)
        actor = self.manager if staff else Actor.customer(buyer.email)
        result = self.mill.orders.place(request, actor=actor)
        assert result.order is not None
        return result.order.number

    def pay(self, number: str, amount: int | None = None, *, will_refund: bool = False,
            comment: str | None = None) -> None:
        """Record a payment the way its method brings it: online gateways at once with a fee,
        offline ones by a staff member with the bank's or cheque's reference."""
        order = self.mill.orders.get(number)
        method = order.payment_method
        minor = amount if amount is not None else amount_due(order)
        online = method in ONLINE_METHODS
        fee = 0
        if method in FEES:
            basis_points, fixed = FEES[method]
            fee = min(minor, percent_of(minor, basis_points) + fixed)
        digits = "".join(self.rng.choice("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(14))
        reference = {"stripe": f"ch_3{digits}", "paypal": f"PAYID-{digits}",
                     "banktransfer": f"SEPA-{digits[:10]}",
                     "cheque": f"CHQ {self.rng.randint(100000, 999999)}"}.get(method)
        self.mill.orders.record_payment(
            number, actor=Actor.system(method) if online else self.support, amount=minor,
            gateway=method, reference=reference, fee=fee,
            manual=(not online) or will_refund, comment=comment,
        )

    def lines(self, number: str) -> list[int]:
        return [line.id for line in self.mill.orders.get(number).lines]

    def later(self, days: float) -> dt.datetime:
        """A date after placement; moved back with the rest of the order afterwards."""
        return utcnow() + dt.timedelta(days=days, hours=self.rng.randint(1, 8))

    def comment(self, number: str, text: str, *, notify: bool = False,
                actor: Actor | None = None) -> None:
        self.mill.orders.add_comment(number, text, actor=actor or self.support,
                                     notify_customer=notify, visible_to_customer=notify)

    def accept(self, number: str, **options: Any) -> None:
        self.mill.orders.accept(number, actor=self.manager, options=options or None)

    def ship(self, number: str, *, deliver_after: float | None = None) -> None:
        carrier = self.rng.choice(["DHL", "DPD", "PostNL", "La Poste"])
        tracking = "".join(self.rng.choice("0123456789") for _ in range(12))
        self.mill.orders.mark_dispatched(number, actor=self.support, at=self.later(1),
                                         comment=f"Shipped with {carrier}, tracking {tracking}.")
        if deliver_after is not None:
            self.mill.orders.mark_delivered(number, actor=self.support,
                                            at=self.later(deliver_after))

    def complete(self, number: str) -> None:
        self.mill.orders.set_status(number, "completed", actor=self.manager)

    def hosting_options(self, buyer: Buyer) -> dict[str, Any]:
        username = _slug(buyer.name.split()[0])[:8] + str(self.rng.randint(10, 99))
        password = "".join(self.rng.choice(string.ascii_letters + string.digits)
                           for _ in range(16))
        # No "server": the provisioning plugin picks the least-loaded one it knows, if any.
        return {"username": username, "password": password, "autosetup": True,
                "send_email": True}

    # ---- recipes ---------------------------------------------------------------------------

    def recipes(self) -> list[tuple[float, Callable[[], str]]]:
        """(days ago, make one order and return its number) for every situation the desk
        handles. They run oldest first, so internal ids follow the placement dates."""
        return [
            # pending, unpaid: waiting for a bank transfer, a cheque or an invoice
            (0.2, self.pending_bank_tickets),
            (0.5, self.pending_cheque_merch),
            (1.5, self.pending_invoice_by_phone),
            (2.5, self.pending_bank_hosting_reminded),
            (3.5, self.pending_promo_percent),
            (4.5, self.pending_promo_fixed),
            # pending but paid: online payments waiting for review (WHMCS)
            (0.1, self.pending_paid_vps),
            (1.0, self.pending_paid_business_hosting),
            (2.0, self.pending_paid_vip_bank),
            # partially paid, several invoices (seed 003)
            (9.0, self.partial_workshop_invoices),
            (12.0, self.partial_hosting_two_invoices),
            (15.0, self.partial_vip_two_of_three),
            # accepted: services provisioned, tickets issued
            (6.0, self.active_hosting_starter_domain),
            (8.0, self.active_business_hosting),
            (10.0, self.active_vps),
            (11.0, self.active_domain_only),
            (13.0, self.active_tickets_issued),
            (14.0, self.active_tickets_paypal),
            # goods on their way or arrived
            (3.0, self.dispatched_stripe_merch),
            (5.0, self.dispatched_paypal_merch),
            (16.0, self.delivered_bank_merch),
            (18.0, self.delivered_cheque_vinyl),
            # completed
            (25.0, self.completed_merch),
            (30.0, self.completed_merch_promo),
            (34.0, self.completed_merch_bundle),
            (21.0, self.completed_digital),
            (27.0, self.completed_digital_bundle),
            (40.0, self.completed_tickets),
            # fraud
            (1.2, self.fraud_vip_tickets),
            (7.0, self.fraud_vps),
            (17.0, self.fraud_cleared_then_accepted),
            # cancelled: whole orders and single lines
            (6.5, self.cancelled_unpaid_tickets),
            (19.0, self.cancelled_then_paid_flagged),
            (7.5, self.line_cancelled_then_paid),
            (2.2, self.line_cancelled_unpaid),
            # refunded: whole, one line, an amount, and both at once
            (22.0, self.refunded_whole_tickets),
            (24.0, self.cancel_and_refund_merch),
            (20.0, self.refunded_one_ticket),
            (23.0, self.refunded_hosting_line),
            (36.0, self.goodwill_refund),
            (26.0, self.refunded_and_cancelled),
            # edits
            (4.0, self.products_added_by_phone),
            (9.5, self.buyer_email_corrected),
            (28.0, self.deleted_unpaid),
        ]

    def pending_bank_tickets(self) -> str:
        return self.place([("TKT-SUMMER-GA", 2)], "banktransfer",
                          note="Please put both tickets in my name.")

    def pending_cheque_merch(self) -> str:
        return self.place([LineRequest("TEE-ORGANIC", 2, options={"size": "M"}),
                           ("MUG-ENAMEL", 1)], "cheque")

    def pending_invoice_by_phone(self) -> str:
        buyer = next(b for b in BUYERS if b.company == "Northern Lights Events Ltd")
        number = self.place([("TKT-WORKSHOP", 3)], "invoice", buyer=buyer, by_phone=True,
                            note="Purchase order PO-4471")
        self.comment(number, "Invoice sent to accounts@northernlights.example.", notify=True)
        return number

    def pending_bank_hosting_reminded(self) -> str:
        number = self.place([("HOST-STARTER", 1), LineRequest("DOMAIN-COM", 1,
                            domain="baeckerei-fischer.com")], "banktransfer",
                            buyer=BUYERS[0])
        self.comment(number, "Reminder sent: bank transfer not received yet.", notify=True)
        return number

    def pending_promo_percent(self) -> str:
        return self.place([("TKT-SUMMER-GA", 4)], "banktransfer", promo="SUMMER10")

    def pending_promo_fixed(self) -> str:
        return self.place([("VINYL-LIVE", 1), ("POSTER-A2", 1)], "cheque", promo="WELCOME5")

    def pending_paid_vps(self) -> str:
        number = self.place([("VPS-2", 1), LineRequest("DOMAIN-EU", 1,
                            domain="vermeulen-dev.eu")], "stripe")
        self.pay(number)
        return number

    def pending_paid_business_hosting(self) -> str:
        number = self.place([("HOST-BUSINESS", 1)], "paypal")
        self.pay(number)
        return number

    def pending_paid_vip_bank(self) -> str:
        number = self.place([LineRequest("TKT-SUMMER-VIP", 1, attendee="Rui Santos"),
                             LineRequest("TKT-SUMMER-VIP", 1, attendee="Ana Santos")],
                            "banktransfer")
        self.pay(number, comment="Transfer arrived; tickets to be issued after review.")
        return number

    def partial_workshop_invoices(self) -> str:
        number = self.place([("TKT-WORKSHOP", 4)], "invoice", plan=[11400, 11300, 11300],
                            buyer=BUYERS[9], by_phone=True)
        self.pay(number, 11400)
        self.comment(number, "First of three instalments received.", notify=True)
        return number

    def partial_hosting_two_invoices(self) -> str:
        number = self.place([("HOST-BUSINESS", 1), ("VPS-2", 1)], "banktransfer",
                            plan=[9900, 9900])
        self.pay(number, 9900)
        return number

    def partial_vip_two_of_three(self) -> str:
        number = self.place([("TKT-SUMMER-VIP", 3)], "stripe", plan=[12000, 12000, 12000])
        self.pay(number, 12000)
        self.pay(number, 12000)
        return number

    def active_hosting_starter_domain(self) -> str:
        buyer = self.buyer()
        number = self.place([("HOST-STARTER", 1), LineRequest("DOMAIN-COM", 1,
                            domain=f"{_slug(buyer.name.split()[-1])}-studio.com")],
                            "stripe", buyer=buyer)
        self.pay(number)
        self.accept(number, **self.hosting_options(buyer), send_registrar=True)
        return number

    def active_business_hosting(self) -> str:
        buyer = self.buyer()
        number = self.place([("HOST-BUSINESS", 1)], "banktransfer", buyer=buyer)
        self.pay(number)
        self.accept(number, **self.hosting_options(buyer))
        return number

    def active_vps(self) -> str:
        buyer = self.buyer()
        number = self.place([("VPS-2", 2)], "paypal", buyer=buyer)
        self.pay(number)
        self.accept(number, **self.hosting_options(buyer))
        self.comment(number, "Second VPS set up in the Frankfurt zone as asked.", notify=True)
        return number

    def active_domain_only(self) -> str:
        number = self.place([LineRequest("DOMAIN-EU", 1, domain="atelier-chloe.eu")],
                            "invoice", buyer=BUYERS[13])
        self.pay(number)
        self.accept(number, send_registrar=True)
        return number

    def active_tickets_issued(self) -> str:
        number = self.place([("TKT-SUMMER-GA", 3)], "banktransfer")
        self.pay(number)
        self.accept(number)
        self.comment(number, "E-tickets sent.", notify=True)
        return number

    def active_tickets_paypal(self) -> str:
        number = self.place([("TKT-SUMMER-GA", 1), ("TKT-SUMMER-VIP", 1)], "paypal")
        self.pay(number)
        self.accept(number)
        return number

    def dispatched_stripe_merch(self) -> str:
        number = self.place([LineRequest("TEE-ORGANIC", 1, options={"size": "L"}),
                             ("POSTER-A2", 1)], "stripe")
        self.pay(number)
        self.accept(number)
        self.ship(number)
        return number

    def dispatched_paypal_merch(self) -> str:
        number = self.place([("VINYL-LIVE", 2)], "paypal", promo="SUMMER10")
        self.pay(number)
        self.accept(number)
        self.ship(number)
        return number

    def delivered_bank_merch(self) -> str:
        number = self.place([("MUG-ENAMEL", 4)], "banktransfer")
        self.pay(number)
        self.accept(number)
        self.ship(number, deliver_after=4)
        return number

    def delivered_cheque_vinyl(self) -> str:
        number = self.place([("VINYL-LIVE", 1), ("TEE-ORGANIC", 1)], "cheque")
        self.pay(number)
        self.accept(number)
        self.ship(number, deliver_after=5)
        return number

    def completed_merch(self) -> str:
        number = self.place([("TEE-ORGANIC", 3)], "stripe")
        self.pay(number)
        self.accept(number)
        self.ship(number, deliver_after=3)
        self.complete(number)
        return number

    def completed_merch_promo(self) -> str:
        number = self.place([("MUG-ENAMEL", 2), ("POSTER-A2", 1)], "paypal", promo="WELCOME5")
        self.pay(number)
        self.accept(number)
        self.ship(number, deliver_after=4)
        self.complete(number)
        return number

    def completed_merch_bundle(self) -> str:
        number = self.place([("VINYL-LIVE", 1), ("TEE-ORGANIC", 1), ("MUG-ENAMEL", 1)],
                            "banktransfer")
        self.pay(number)
        self.accept(number)
        self.ship(number, deliver_after=6)
        self.complete(number)
        return number

    def completed_digital(self) -> str:
        number = self.place([("EBOOK-STUDIO", 1)], "paypal")
        self.pay(number)
        self.accept(number)
        self.complete(number)
        return number

    def completed_digital_bundle(self) -> str:
        number = self.place([("EBOOK-STUDIO", 1), ("PRESETS-SYNTH", 1)], "stripe",
                            promo="SUMMER10")
        self.pay(number)
        self.accept(number)
        self.complete(number)
        return number

    def completed_tickets(self) -> str:
        number = self.place([("TKT-WORKSHOP", 1)], "cheque")
        self.pay(number)
        self.accept(number)
        self.complete(number)
        self.comment(number, "Attended; certificate e-mailed.", notify=True)
        return number

    def fraud_vip_tickets(self) -> str:
        number = self.place([("TKT-SUMMER-VIP", 6)], "stripe", buyer=SUSPICIOUS_BUYER)
        self.mill.orders.mark_fraud(number, actor=self.manager,
                                    comment="Six VIP tickets, card country and IP country "
                                            "differ, throwaway e-mail address.")
        return number

    def fraud_vps(self) -> str:
        number = self.place([("VPS-2", 4)], "paypal",
                            buyer=Buyer("Max Power", "maxpower1999@example.org", "Unknown",
                                        "US"))
        self.mill.orders.mark_fraud(number, actor=self.manager,
                                    comment="Four VPS for crypto mining, name looks made up.")
        return number

    def fraud_cleared_then_accepted(self) -> str:
        buyer = self.buyer()
        number = self.place([("HOST-STARTER", 1)], "banktransfer", buyer=buyer)
        self.mill.orders.mark_fraud(number, actor=self.manager,
                                    comment="Billing country does not match the IP.")
        self.mill.orders.set_back_to_pending(number, actor=self.manager,
                                             comment="Customer verified by phone: travelling.")
        self.pay(number)
        self.accept(number, **self.hosting_options(buyer))
        return number

    def cancelled_unpaid_tickets(self) -> str:
        number = self.place([("TKT-SUMMER-GA", 2)], "banktransfer")
        self.mill.orders.cancel(number, actor=self.support, restock=True,
                                comment="Customer cannot come after all; never paid.")
        return number

    def cancelled_then_paid_flagged(self) -> str:
        number = self.place([("POSTER-A2", 2)], "banktransfer")
        self.mill.orders.cancel(number, actor=self.support, restock=True,
                                comment="No payment after 14 days.")
        total = self.mill.orders.get(number).total
        self.pay(number, total)  # the transfer arrives anyway: recorded and flagged
        return number

    def line_cancelled_then_paid(self) -> str:
        number = self.place([("TEE-ORGANIC", 1), ("MUG-ENAMEL", 1), ("POSTER-A2", 1)],
                            "banktransfer")
        poster = self.lines(number)[2]
        self.mill.orders.cancel(number, actor=self.support, line_ids=[poster],
                                comment="Signed poster sold out in this size.", restock=True)
        self.pay(number)
        self.accept(number)
        return number

    def line_cancelled_unpaid(self) -> str:
        number = self.place([("TKT-SUMMER-GA", 2), ("TKT-WORKSHOP", 1)], "cheque")
        workshop = self.lines(number)[1]
        self.mill.orders.cancel(number, actor=self.support, line_ids=[workshop])
        return number

    def refunded_whole_tickets(self) -> str:
        number = self.place([("TKT-SUMMER-GA", 2)], "banktransfer")
        self.pay(number, will_refund=True)
        self.accept(number)
        self.mill.orders.refund(number, actor=self.manager, restock=True,
                                comment="Customer moved abroad; full refund by bank transfer.")
        return number

    def cancel_and_refund_merch(self) -> str:
        number = self.place([("TEE-ORGANIC", 2), ("MUG-ENAMEL", 2)], "cheque")
        self.pay(number, will_refund=True)
        self.mill.orders.cancel_and_refund(number, actor=self.manager, restock=True,
                                           comment="Order placed twice by mistake.")
        return number

    def refunded_one_ticket(self) -> str:
        number = self.place([("TKT-SUMMER-GA", 2), ("TKT-SUMMER-VIP", 1)], "banktransfer")
        self.pay(number, will_refund=True)
        self.accept(number)
        vip = self.lines(number)[1]
        self.mill.orders.refund(number, actor=self.manager, line_ids=[vip], restock=True,
                                comment="VIP guest fell ill; the two GA tickets stay.")
        return number

    def refunded_hosting_line(self) -> str:
        buyer = self.buyer()
        number = self.place([("HOST-STARTER", 1), LineRequest("DOMAIN-EU", 1,
                            domain=f"{_slug(buyer.name.split()[0])}-photo.eu")], "invoice",
                            buyer=buyer)
        self.pay(number, will_refund=True)
        self.accept(number, **self.hosting_options(buyer))
        hosting = self.lines(number)[0]
        self.mill.orders.refund(number, actor=self.manager, line_ids=[hosting],
                                comment="Moved the site elsewhere; keeps the domain.")
        return number

    def goodwill_refund(self) -> str:
        number = self.place([("VINYL-LIVE", 1), ("POSTER-A2", 1)], "banktransfer")
        self.pay(number, will_refund=True)
        self.accept(number)
        self.ship(number, deliver_after=9)
        self.complete(number)
        self.mill.orders.refund(number, actor=self.manager, amount=500,
                                comment="Goodwill: parcel arrived a week late.")
        return number

    def refunded_and_cancelled(self) -> str:
        number = self.place([("TKT-SUMMER-GA", 1), ("TKT-WORKSHOP", 1)], "banktransfer")
        ga, workshop = self.lines(number)
        self.mill.orders.cancel(number, actor=self.support, line_ids=[workshop])
        self.pay(number, will_refund=True)
        self.mill.orders.refund(number, actor=self.manager, line_ids=[ga],
                                comment="Concert date clashes with a wedding.")
        return number

    def products_added_by_phone(self) -> str:
        number = self.place([("TKT-SUMMER-GA", 2)], "banktransfer")
        self.pay(number)
        self.mill.orders.add_lines(number, [LineRequest("TKT-SUMMER-GA", 2)],
                                   actor=self.support,
                                   comment="Customer phoned: two friends join.")
        return number

    def buyer_email_corrected(self) -> str:
        buyer = self.buyer()
        local, domain = buyer.email.split("@")
        wrong = attrs.evolve(buyer, email=f"{local[:-2]}{local[-1]}{local[-2]}@{domain}")
        number = self.place([("EBOOK-STUDIO", 1), ("PRESETS-SYNTH", 1)], "paypal",
                            buyer=wrong)
        self.mill.orders.edit_buyer(number, {"email": buyer.email}, actor=self.support)
        self.pay(number)
        self.accept(number)
        return number

    def deleted_unpaid(self) -> str:
        number = self.place([("TKT-SUMMER-GA", 6)], "banktransfer")
        self.mill.orders.delete(number, actor=self.manager, restock=True)
        self.deleted.append(number)
        return number
