"""The catalogue's and the customers' history in the reader's language (issue 21): like order
events, product, promo code and customer events store a message id and its parameters beside
the English `message`, and the pages and the API show them per locale. On SQLite and
PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from ordermill.core.app import Ordermill
from ordermill.core.catalogue_models import CatalogueEvent
from ordermill.core.customer_models import CustomerEvent
from ordermill.core.customers.editing import add_note, update_customer
from ordermill.core.customers.listing import customer_detail
from ordermill.core.i18n import use_locale
from ordermill.core.models import Order, Product
from ordermill.core.specs import Actor

ADMIN = Actor(kind="user", name="admin@shop.test", role="admin")
MUG = {"sku": "MUG", "name": "Mug", "price": "12.50", "currency": "EUR", "stock": 10}


def test_product_and_promo_history_follow_the_reader(mill: Ordermill) -> None:
    mill.catalogue.products.create(MUG, actor=ADMIN)
    adjusted = mill.catalogue.products.adjust_stock("MUG", change="+6", reason="received",
                                                    actor=ADMIN)
    assert adjusted["message"] == "Stock of MUG +6 (received): now 16."
    with use_locale("fr"):
        counted = mill.catalogue.products.adjust_stock("MUG", count="15", actor=ADMIN)
    assert counted["message"] == "Stock de MUG compté : 15 (-1)."  # the caller's language
    mill.catalogue.promos.create({"code": "SAVE10", "percent": "10"}, actor=ADMIN)
    mill.catalogue.promos.disable("SAVE10", actor=ADMIN)

    with mill.read_session() as session:
        stored = {e.type: e for e in session.scalars(select(CatalogueEvent)
                                                     .order_by(CatalogueEvent.id))}
    assert stored["product_created"].message == "Product MUG created: Mug, €12.50."
    assert stored["product_created"].message_id == "Product %(sku)s created: %(name)s, " \
                                                   "%(price)s."
    assert stored["promo_created"].message == "Promo code SAVE10 created: 10% off."

    with use_locale("fr"):
        history = [e["message"] for e in mill.catalogue.products.get("MUG", actor=ADMIN)
                   ["history"]]
        promo = [e["message"] for e in mill.catalogue.promos.get("SAVE10", actor=ADMIN)
                 ["history"]]
    assert history == ["Stock de MUG compté : 15 (-1).",
                       "Stock de MUG +6 (réception) : désormais 16.",
                       "Produit MUG créé : Mug, 12,50\u00a0€."]
    assert promo == ["Code promo SAVE10 désactivé.", "Code promo SAVE10 créé : 10 % de remise."]
    with use_locale("en"):
        english = [e["message"] for e in mill.catalogue.products.get("MUG", actor=ADMIN)
                   ["history"]]
    assert english[-1] == "Product MUG created: Mug, €12.50."


def test_customer_history_follows_the_reader(
        mill: Ordermill, make_product: Callable[..., Product],
        order_factory: Callable[..., Order]) -> None:
    make_product("MUG", price=1250)
    customer_id = order_factory([("MUG", 1)]).customer_id
    update_customer(mill, customer_id, {"phone": "+33 1 23 45 67 89",
                                        "billing_address": {"city": "Lyon"}}, actor=ADMIN)
    add_note(mill, customer_id, "Prefers e-mail.", actor=ADMIN)

    with mill.read_session() as session:
        stored = [e.message for e in session.scalars(
            select(CustomerEvent).where(CustomerEvent.customer_id == customer_id)
            .order_by(CustomerEvent.id))]
    assert stored == ["Details changed: phone, billing address.", "Staff note added."]
    with use_locale("uk"):
        shown = [e["message"] for e in customer_detail(mill, customer_id, actor=ADMIN)
                 ["history"]]
    assert shown == ["Додано нотатку працівника.",
                     "Змінено дані: телефон, адреса для рахунків."]
