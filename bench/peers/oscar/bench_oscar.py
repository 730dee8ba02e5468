#!/usr/bin/env python
# ruff: noqa  -- the Oscar peer, copied as measured from the issue's harness; runs in its own Django venv
"""Benchmark django-oscar's order placement and order status transitions.

Phase 1 ("place"): for each order, the non-HTTP part of Oscar's checkout:
  Basket.objects.create(owner=user) + Selector().strategy(user=user)
  basket.add_product(...) x LINES                  (strategy price/stock lookups)
  Applicator().apply(basket, user)                 (offers; none are defined)
  strategy.fetch_for_line + is_purchase_permitted  (checkout's basket validity check)
  shipping Repository().get_default_shipping_method(...).calculate(basket)
  SurchargeApplicator().get_applicable_surcharges(basket)
  OrderTotalCalculator().calculate(...)
  OrderNumberGenerator().order_number(basket); basket.freeze()
  OrderPlacementMixin.place_order(...)             (saves ShippingAddress, updates the
      user's address book, then OrderCreator().place_order: Order, Lines, LinePrices,
      StockRecord.allocate per line, order_placed signal -> analytics receivers)
  basket.submit()
  This is PaymentDetailsView.submit()/handle_order_placement() minus the HTTP
  request, session, payment (Oscar's default handle_payment is a no-op) and the
  order-confirmation email (handle_successful_order).

Phase 2 ("transition"): for each placed order, Order.objects.get(pk=...) then,
  through oscar.apps.order.processing.EventHandler:
    every CANCEL_EVERY-th order: cancel_stock_allocations(order) (restock) then
        handle_order_status_change(order, "Cancelled")                 (1 transition)
    all others: "Being processed"; consume_stock_allocations(order) then "Shipped";
        "Complete"                                                      (3 transitions)
  Each status change is Order.set_status: pipeline check, cascade of the line
  statuses (OSCAR_ORDER_STATUS_CASCADE), order save, order_status_changed signal,
  OrderStatusChange row.

Output: one JSON object on stdout.

Configuration (environment variables or --key=value arguments):
  ORDERS=2000  PRODUCTS=50  LINES=3  CANCEL_EVERY=10  SQLITE=default|wal  CASCADE=1
  ALERTS=1   (Oscar's default OSCAR_EAGER_ALERTS=True: a post_save receiver on every
              StockRecord allocate/consume/cancel looks for product alerts to email)
  PROBE=20  (extra orders placed/transitioned after the timed phases, with SQL
             queries counted; they are not part of the timings)
  DB=<tempdir>/oscar-bench-<pid>.sqlite3  KEEP_DB=0
"""
import json
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from decimal import Decimal as D

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def _config():
    cfg = {
        "ORDERS": "2000",
        "PRODUCTS": "50",
        "LINES": "3",
        "CANCEL_EVERY": "10",
        "SQLITE": "default",
        "CASCADE": "1",
        "ALERTS": "1",
        "PROBE": "20",
        "DB": os.path.join(tempfile.gettempdir(), "oscar-bench-%d.sqlite3" % os.getpid()),
        "KEEP_DB": "0",
    }
    for key in cfg:
        if key in os.environ:
            cfg[key] = os.environ[key]
    for arg in sys.argv[1:]:
        key, _, value = arg.lstrip("-").partition("=")
        key = key.upper().replace("-", "_")
        if key not in cfg:
            sys.exit("unknown option %r; known: %s" % (arg, ", ".join(cfg)))
        cfg[key] = value
    return cfg


CFG = _config()
ORDERS = int(CFG["ORDERS"])
PRODUCTS = int(CFG["PRODUCTS"])
LINES = int(CFG["LINES"])
CANCEL_EVERY = int(CFG["CANCEL_EVERY"])
PROBE = int(CFG["PROBE"])
DB = CFG["DB"]
assert LINES <= PRODUCTS, "each order uses LINES distinct products"

# A fresh database file every run.
for suffix in ("", "-journal", "-wal", "-shm"):
    if os.path.exists(DB + suffix):
        os.remove(DB + suffix)
os.environ["OSCAR_BENCH_DB"] = DB
os.environ["OSCAR_BENCH_SQLITE"] = CFG["SQLITE"]
os.environ["OSCAR_BENCH_CASCADE"] = CFG["CASCADE"]
os.environ["OSCAR_BENCH_EAGER_ALERTS"] = CFG["ALERTS"]
os.environ["DJANGO_SETTINGS_MODULE"] = "bench_settings"

T_START = time.perf_counter()

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

import oscar  # noqa: E402
from oscar.core.loading import get_class, get_model  # noqa: E402

T_IMPORTED = time.perf_counter()
call_command("migrate", verbosity=0, interactive=False)
T_MIGRATED = time.perf_counter()

Basket = get_model("basket", "Basket")
Country = get_model("address", "Country")
ShippingAddress = get_model("order", "ShippingAddress")
Order = get_model("order", "Order")
Line = get_model("order", "Line")
LinePrice = get_model("order", "LinePrice")
OrderStatusChange = get_model("order", "OrderStatusChange")
Partner = get_model("partner", "Partner")
StockRecord = get_model("partner", "StockRecord")
Product = get_model("catalogue", "Product")
ProductClass = get_model("catalogue", "ProductClass")

Selector = get_class("partner.strategy", "Selector")
Applicator = get_class("offer.applicator", "Applicator")
Repository = get_class("shipping.repository", "Repository")
SurchargeApplicator = get_class("checkout.applicator", "SurchargeApplicator")
OrderTotalCalculator = get_class("checkout.calculators", "OrderTotalCalculator")
OrderNumberGenerator = get_class("order.utils", "OrderNumberGenerator")
OrderPlacementMixin = get_class("checkout.mixins", "OrderPlacementMixin")
EventHandler = get_class("order.processing", "EventHandler")

STOCK = 10**9


class HeadlessCheckout(OrderPlacementMixin):
    """Oscar's OrderPlacementMixin used outside a view (no request/session)."""

    request = None


# --------------------------------------------------------------------------
# Fixtures (untimed)
# --------------------------------------------------------------------------
gb = Country.objects.create(
    iso_3166_1_a2="GB",
    iso_3166_1_a3="GBR",
    iso_3166_1_numeric="826",
    printable_name="United Kingdom",
    name="United Kingdom of Great Britain and Northern Ireland",
    is_shipping_country=True,
)
partner = Partner.objects.create(name="Bench Partner")
product_class = ProductClass.objects.create(
    name="Widget", requires_shipping=True, track_stock=True
)
products = []
for i in range(PRODUCTS):
    p = Product.objects.create(
        product_class=product_class,
        title="Widget %03d" % i,
        upc="UPC%05d" % i,
        structure=Product.STANDALONE,
    )
    StockRecord.objects.create(
        product=p,
        partner=partner,
        partner_sku="SKU%05d" % i,
        price_currency="GBP",
        price=D("10.00") + D(i),
        num_in_stock=STOCK,
    )
    products.append(p)
user = get_user_model().objects.create_user(
    username="bench", email="bench@example.com", password=None
)
selector = Selector()
checkout = HeadlessCheckout()
T_FIXTURES = time.perf_counter()


def place_one(i):
    basket = Basket.objects.create(owner=user)
    basket.strategy = selector.strategy(user=user)
    for j in range(LINES):
        product = products[(i * LINES + j) % PRODUCTS]
        basket.add_product(product, quantity=1 + (i + j) % 2)
    Applicator().apply(basket, user, None)
    # Checkout's "is everything still purchasable" pre-condition.
    for line in basket.all_lines():
        result = basket.strategy.fetch_for_line(line)
        ok, reason = result.availability.is_purchase_permitted(line.quantity)
        if not ok:
            raise RuntimeError(reason)
    shipping_address = ShippingAddress(
        first_name="Bench",
        last_name="User",
        line1="1 Bench Street",
        line4="London",
        postcode="N1 9GU",
        country=gb,
    )
    shipping_method = Repository().get_default_shipping_method(
        basket=basket, shipping_addr=shipping_address
    )
    shipping_charge = shipping_method.calculate(basket)
    surcharges = SurchargeApplicator(None, {}).get_applicable_surcharges(basket)
    total = OrderTotalCalculator(None).calculate(basket, shipping_charge, surcharges)
    assert basket.is_tax_known and shipping_charge.is_tax_known
    order_number = OrderNumberGenerator().order_number(basket)
    basket.freeze()
    order = checkout.place_order(
        order_number=order_number,
        user=user,
        basket=basket,
        shipping_address=shipping_address,
        shipping_method=shipping_method,
        shipping_charge=shipping_charge,
        order_total=total,
        billing_address=None,
        surcharges=surcharges,
    )
    basket.submit()
    return order.pk


def transition_one(i, order_pk):
    """Returns the number of status transitions performed."""
    handler = EventHandler(user=None)
    order = Order.objects.get(pk=order_pk)
    if CANCEL_EVERY and i % CANCEL_EVERY == CANCEL_EVERY - 1:
        handler.cancel_stock_allocations(order)  # restock: release allocations
        handler.handle_order_status_change(order, "Cancelled")
        return 1
    handler.handle_order_status_change(order, "Being processed")
    handler.consume_stock_allocations(order)  # stock leaves the warehouse
    handler.handle_order_status_change(order, "Shipped")
    handler.handle_order_status_change(order, "Complete")
    return 3


def pct(values, q):
    values = sorted(values)
    k = min(len(values) - 1, max(0, int(round(q / 100.0 * (len(values) - 1)))))
    return values[k]


def latency_summary(seconds):
    ms = [s * 1000.0 for s in seconds]
    return {
        "mean": round(statistics.fmean(ms), 3),
        "p50": round(pct(ms, 50), 3),
        "p95": round(pct(ms, 95), 3),
        "p99": round(pct(ms, 99), 3),
        "max": round(max(ms), 3),
    }


# --------------------------------------------------------------------------
# Phase 1: placement (timed)
# --------------------------------------------------------------------------
order_pks = []
place_lat = []
t0 = time.perf_counter()
c0 = time.process_time()
for i in range(ORDERS):
    s = time.perf_counter()
    order_pks.append(place_one(i))
    place_lat.append(time.perf_counter() - s)
place_s = time.perf_counter() - t0
place_cpu_s = time.process_time() - c0

# --------------------------------------------------------------------------
# Phase 2: status transitions with stock consumption / cancellation (timed)
# --------------------------------------------------------------------------
transitions = 0
trans_lat = []
t0 = time.perf_counter()
c0 = time.process_time()
for i, pk in enumerate(order_pks):
    s = time.perf_counter()
    transitions += transition_one(i, pk)
    trans_lat.append(time.perf_counter() - s)
transition_s = time.perf_counter() - t0
transition_cpu_s = time.process_time() - c0
T_TIMED_DONE = time.perf_counter()

# --------------------------------------------------------------------------
# Correctness checks on the timed orders (untimed)
# --------------------------------------------------------------------------
n_cancelled = sum(
    1 for i in range(ORDERS) if CANCEL_EVERY and i % CANCEL_EVERY == CANCEL_EVERY - 1
)
consumed_units = sum(
    line.quantity
    for line in Line.objects.exclude(order__status="Cancelled").only("quantity")
)
stock = StockRecord.objects.all()
checks = {
    "orders": Order.objects.count(),
    "lines": Line.objects.count(),
    "line_prices": LinePrice.objects.count(),
    "status_changes": OrderStatusChange.objects.count(),
    "orders_by_status": {
        s: Order.objects.filter(status=s).count()
        for s in ("Pending", "Being processed", "Shipped", "Complete", "Cancelled")
    },
    "lines_by_status": {
        s: Line.objects.filter(status=s).count()
        for s in ("Pending", "Complete", "Cancelled")
    },
    "stock_num_allocated_total": sum(sr.num_allocated or 0 for sr in stock),
    "stock_consumed_total": sum(STOCK - sr.num_in_stock for sr in stock),
    "expected_consumed_total": consumed_units,
}
checks["ok"] = (
    checks["orders"] == ORDERS
    and checks["lines"] == ORDERS * LINES
    and checks["status_changes"] == transitions
    and checks["orders_by_status"]["Cancelled"] == n_cancelled
    and checks["orders_by_status"]["Complete"] == ORDERS - n_cancelled
    and checks["stock_num_allocated_total"] == 0
    and checks["stock_consumed_total"] == checks["expected_consumed_total"]
)


# --------------------------------------------------------------------------
# Probe: SQL statements per operation on PROBE extra orders (untimed)
# --------------------------------------------------------------------------
class QueryCounter:
    def __init__(self):
        self.n = 0

    def __call__(self, execute, sql, params, many, context):
        self.n += 1
        return execute(sql, params, many, context)


probe = {}
if PROBE:
    place_q, ship_q, cancel_q = [], [], []
    for k in range(PROBE):
        i = ORDERS + k
        qc = QueryCounter()
        with connection.execute_wrapper(qc):
            pk = place_one(i)
        place_q.append(qc.n)
        qc = QueryCounter()
        with connection.execute_wrapper(qc):
            n = transition_one(i, pk)
        (ship_q if n == 3 else cancel_q).append(qc.n)
    probe = {
        "orders": PROBE,
        "sql_per_placement": statistics.fmean(place_q),
        "sql_per_fulfilled_order_3_transitions": (
            statistics.fmean(ship_q) if ship_q else None
        ),
        "sql_per_cancelled_order_1_transition": (
            statistics.fmean(cancel_q) if cancel_q else None
        ),
    }

ru = resource.getrusage(resource.RUSAGE_SELF)
result = {
    "framework": "django-oscar",
    "versions": {
        "python": platform.python_version(),
        "django": django.get_version(),
        "oscar": oscar.get_version(),
        "sqlite": connection.Database.sqlite_version,
    },
    "config": {
        "orders": ORDERS,
        "products": PRODUCTS,
        "lines_per_order": LINES,
        "cancel_every": CANCEL_EVERY,
        "sqlite_mode": CFG["SQLITE"],
        "status_cascade_to_lines": CFG["CASCADE"] == "1",
        "eager_stock_alerts": settings.OSCAR_EAGER_ALERTS,
        "db": DB,
    },
    "place": {
        "orders": ORDERS,
        "lines": ORDERS * LINES,
        "seconds": round(place_s, 4),
        "cpu_seconds": round(place_cpu_s, 4),
        "orders_per_s": round(ORDERS / place_s, 2),
        "lines_per_s": round(ORDERS * LINES / place_s, 2),
        "latency_ms": latency_summary(place_lat),
    },
    "transition": {
        "orders": ORDERS,
        "transitions": transitions,
        "cancelled_orders": n_cancelled,
        "seconds": round(transition_s, 4),
        "cpu_seconds": round(transition_cpu_s, 4),
        "transitions_per_s": round(transitions / transition_s, 2),
        "orders_per_s": round(ORDERS / transition_s, 2),
        "latency_ms_per_order": latency_summary(trans_lat),
    },
    "wall_s": {
        "total_process": round(time.perf_counter() - T_START, 3),
        "django_setup": round(T_IMPORTED - T_START, 3),
        "migrate": round(T_MIGRATED - T_IMPORTED, 3),
        "fixtures": round(T_FIXTURES - T_MIGRATED, 3),
        "timed_phases": round(place_s + transition_s, 3),
    },
    "peak_rss_mib": round(ru.ru_maxrss / 1024.0, 1),  # Linux: ru_maxrss is KiB
    "checks": checks,
    "sql_probe": probe,
}
print(json.dumps(result, indent=2))

connection.close()
if CFG["KEEP_DB"] != "1":
    for suffix in ("", "-journal", "-wal", "-shm"):
        if os.path.exists(DB + suffix):
            os.remove(DB + suffix)
sys.exit(0 if checks["ok"] else 1)
