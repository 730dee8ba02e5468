"""The demo shop: products of every kind, two promo codes and ~45 orders in every situation.

A new user, the admin's screenshots and the end-to-end tests all need a shop that already
shows what the desk can do. Every order is made through the core actions only (place, pay,
accept, cancel, refund, ...), so history, invoices, payments and stock are exactly what real
use leaves behind. The one direct write is moving each order back in time as a whole, so the
list spans six weeks instead of one second. Choices come from a seeded random generator: the
same shop every time (only the public order numbers, drawn by the core, differ).

* catalogue.py: the data (products, promo codes, buyers, the demo admin's login)
* shop.py: the demo's staff and the usual steps (place, pay, accept, ship, ...)
* recipes.py, trouble.py: one recipe per situation (the smooth ones; fraud, cancel, refund, edits)
* loading.py: `load_demo`, `ensure_demo_admin`, `has_orders`
"""

from __future__ import annotations

from ordermill.demo.catalogue import (
    BUYERS,
    CURRENCY,
    DEMO_ADMIN_EMAIL,
    DEMO_ADMIN_NAME,
    DEMO_ADMIN_PASSWORD,
    DEMO_SEED,
    PRODUCTS,
    PROMO_CODES,
    SUSPICIOUS_BUYER,
    Buyer,
    DemoProduct,
)
from ordermill.demo.loading import (
    DemoLogin,
    DemoSummary,
    ensure_demo_admin,
    has_orders,
    load_demo,
)

__all__ = ["BUYERS", "CURRENCY", "DEMO_ADMIN_EMAIL", "DEMO_ADMIN_NAME", "DEMO_ADMIN_PASSWORD",
           "DEMO_SEED", "PRODUCTS", "PROMO_CODES", "SUSPICIOUS_BUYER", "Buyer", "DemoLogin",
           "DemoProduct", "DemoSummary", "ensure_demo_admin", "has_orders", "load_demo"]
