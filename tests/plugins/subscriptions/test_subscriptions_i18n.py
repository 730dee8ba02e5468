"""The subscriptions plugin in the reader's language: a French buyer's renewal, payment
failed and suspended e-mails (translated with the plugin's own catalog through notify_email),
and the admin's Recurring orders pages in French."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
from sqlalchemy import select
from test_subscriptions_emails import (  # noqa: F401  (its mail server and settings)
    decline_then_suspend,
    ordermill_settings_overrides,
    smtp,
)

from ordermill.api import event_message, use_locale
from ordermill.core.app import Ordermill
from ordermill.core.specs import Actor
from ordermill.plugins.notify_email.testing import SmtpSink
from ordermill.plugins.subscriptions import engine
from ordermill.plugins.subscriptions.models import Subscription
from ordermill.testing import order_request
from ordermill.testing_gateways import FakeStripe


def test_a_french_buyer_gets_the_subscription_mails_in_french(
        mill: Ordermill, staff: Actor, make_product: Callable[..., Any], clock: Any,
        stripe_fake: FakeStripe, pay_first: Callable[[str], str], smtp: SmtpSink,  # noqa: F811
        admin_client: Any) -> None:
    make_product("VPS", price=2500, stock=None, kind="service", billing_cycle="monthly")
    request = order_request([("VPS", 1)], payment_method="stripe", name="Élodie")
    request = attrs.evolve(request, customer=attrs.evolve(request.customer, language="fr"))
    number = mill.orders.place(request, actor=staff).order.number
    pay_first(number)
    with mill.read_session() as session:
        sub = session.scalar(select(Subscription).where(Subscription.order_number == number))
    assert sub is not None and sub.next_due_at is not None
    with use_locale("fr"):
        listing = admin_client.get("/admin/subscriptions",
                                   headers={"Accept-Language": "fr"}).get_data(as_text=True)
        detail = admin_client.get(f"/admin/subscriptions/{sub.id}",
                                  headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Commandes récurrentes" in listing and "Active" in listing
    assert "chaque mois" in listing and "25,00" in listing
    assert "Suspendre" in detail and "Échéancier" in detail and "Paiements restants" in detail
    for english in ("Recurring orders", "Remaining payments", "Next payment date"):
        assert english not in listing, english

    decline_then_suspend(mill, sub, staff, stripe_fake, clock)

    mails = {m["X-Ordermill-Template"]: m for m in smtp.messages}
    renewal = mails["renewal_invoice"]
    assert renewal["Subject"] == f"Nouvelle facture pour la commande {number}"
    assert renewal["Content-Language"] == "fr"
    text = renewal.get_body(("plain",)).get_content().replace("\u00a0", " ")
    assert "Bonjour Élodie," in text and "moyen de paiement enregistré" in text
    assert "25,00 €" in text and "Still to pay" not in text
    failed = mails["subscription_payment_failed"]
    assert failed["Subject"] == f"Échec du paiement de la commande {number}"
    assert "Nous réessaierons automatiquement" in failed.get_body(("plain",)).get_content()
    suspended = mails["subscription_suspended"]
    assert suspended["Subject"] == f"Abonnement suspendu pour la commande {number}"
    assert "Nouvelle facture" in renewal.get_body(("html",)).get_content()



def test_the_subscription_history_reads_in_the_readers_language(
        mill: Ordermill, staff: Actor, make_product: Callable[..., Any],
        pay_first: Callable[[str], str], admin_client: Any) -> None:
    """The events the plugin writes (sentence and type) follow the reader, not English."""
    make_product("VPS", price=2500, stock=None, kind="service", billing_cycle="monthly")
    number = mill.orders.place(order_request([("VPS", 1)], payment_method="stripe"),
                               actor=staff).order.number
    pay_first(number)
    with mill.read_session() as session:
        sub = session.scalar(select(Subscription).where(Subscription.order_number == number))
    assert sub is not None
    engine.act(mill, sub.id, "suspend", actor=staff)
    events = {e.type: e for e in mill.orders.history(number)}
    started, suspended = events["subscription_started"], events["subscription_suspend"]
    assert started.message == (f"Subscription {sub.id} started: €25.00 every month, "
                               f"until stopped.")
    with use_locale("fr"):
        assert event_message(started, mill) == (
            f"Abonnement {sub.id} démarré : 25,00\u00a0€ chaque mois, jusqu'à l'arrêt.")
        assert event_message(suspended, mill) == (
            f"Abonnement {sub.id} suspendu : aucun paiement n'est encaissé jusqu'à sa "
            f"reprise.")
    with use_locale("uk"):
        assert event_message(suspended, mill).startswith(f"Підписку {sub.id} призупинено")

    page = admin_client.get(f"/admin/orders/{number}",
                            headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Abonnement démarré" in page and "Abonnement suspendu" in page
    assert "Subscription started" not in page and "Subscription suspend" not in page
    assert f"Abonnement {sub.id} démarré : 25,00" in page
