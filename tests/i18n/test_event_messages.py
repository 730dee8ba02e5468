"""History events in the reader's language (issue 21): events store a message id and its
parameters and render per locale; rows written before keep their English `message`; custom
statuses carry per-language labels; plugins write events in their own catalog domain."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from ordermill.core.app import Ordermill
from ordermill.core.i18n import Domain, event_msg, use_locale
from ordermill.core.labels import event_message, status_label
from ordermill.core.models import Order, OrderEvent, Product
from ordermill.core.serialize import event_to_dict
from ordermill.core.specs import Actor
from ordermill.core.statuses import StatusSpec, status_spec_from_dict

SHIPPED = {"name": "shipped", "label": "Shipped", "category": "active",
           "reachable_from": ["pending", "active"],
           "labels": {"fr": "Expédiée", "uk": "Відправлено"}}


@pytest.fixture
def ordermill_settings_overrides() -> dict[str, Any]:
    return {"custom_statuses": (SHIPPED,)}


@pytest.fixture
def paid_order(make_product: Callable[..., Product],
               order_factory: Callable[..., Order]) -> Order:
    make_product("SEAT", price=1250, currency="EUR", kind="ticket")
    return order_factory([("SEAT", 1)], paid=True, accepted=True)


def _event(mill: Ordermill, number: str, type: str) -> OrderEvent:
    return next(e for e in mill.orders.history(number) if e.type == type)


def test_events_store_the_message_id_and_render_in_french_and_ukrainian(
        mill: Ordermill, paid_order: Order) -> None:
    accepted = _event(mill, paid_order.number, "accepted")
    assert accepted.message == "Order accepted."  # the English fallback stays
    assert accepted.message_id == "Order accepted." and accepted.params == {}
    payment = _event(mill, paid_order.number, "payment")
    assert payment.message_id  # two sentences joined: each stored with its own id
    stored = json.dumps(payment.params, ensure_ascii=False)
    assert '"$money": [1250, "EUR"]' in stored  # minor units + currency, not a formatted text
    assert '"Payment of %(amount)s recorded (%(gateway)s)."' in stored
    assert payment.message.startswith("Payment of €12.50 recorded (")
    with use_locale("fr"):
        assert event_message(accepted) == "Commande acceptée."
        shown = event_message(payment, mill)
        assert shown.startswith("Paiement de 12,50\u00a0€ enregistré (")
        assert "Order is now paid." not in shown and "La commande est maintenant payée." in shown
    with use_locale("uk"):
        assert event_message(accepted) == "Замовлення прийнято."
        assert "Записано платіж 12,50\u00a0EUR" in event_message(payment, mill)  # as babel says
    assert event_message(accepted) == "Order accepted."  # English by default


def test_pseudo_locale_renders_a_history_event_pseudo_localized(
        mill: Ordermill, paid_order: Order) -> None:
    placed = _event(mill, paid_order.number, "placed")
    with use_locale("en_XA"):
        shown = event_message(placed, mill)
    assert shown.startswith("[") and shown != placed.message
    assert "Ŏŕdéŕ þłáçéd" in shown or "Ŏŕdéŕ" in shown
    assert "Bea Buyer" in shown and "buyer@example.com" in shown  # data stays as it is


def test_rows_older_than_the_migration_show_their_english_message(
        mill: Ordermill, paid_order: Order) -> None:
    accepted = _event(mill, paid_order.number, "accepted")
    with mill.write_session() as session, session.begin():
        session.execute(update(OrderEvent).where(OrderEvent.id == accepted.id)
                        .values(message_id=None, params=None))
    old = _event(mill, paid_order.number, "accepted")
    with use_locale("fr"):
        assert event_message(old) == "Order accepted."
        assert event_to_dict(old)["message"] == "Order accepted."


def test_the_api_view_gives_the_rendered_message_and_the_id_and_params(
        mill: Ordermill, paid_order: Order) -> None:
    accepted = _event(mill, paid_order.number, "accepted")
    with use_locale("ru"):
        data = event_to_dict(accepted)
    assert data["message"] == "Заказ принят."
    assert data["message_id"] == "Order accepted." and data["params"] == {}


def test_custom_status_has_per_language_labels(mill: Ordermill, paid_order: Order,
                                               staff: Actor) -> None:
    spec = mill.statuses.get("shipped")
    assert spec.label == "Shipped" and spec.labels["fr"] == "Expédiée"
    mill.orders.set_status(paid_order.number, "shipped", actor=staff)
    event = _event(mill, paid_order.number, "status_changed")
    assert event.message == "Status set to Shipped."
    assert event.params["status"]["$status"] == "shipped"
    with use_locale("fr"):
        assert status_label(mill, "shipped") == "Expédiée"
        assert status_label(mill, "cancelled") == "Annulé"  # a core status: the catalog
        assert event_message(event, mill) == "Statut passé à Expédiée."
    with use_locale("uk"):
        assert event_message(event, mill) == "Статус змінено на Відправлено."
    with use_locale("id"):  # no Indonesian label given: the English label
        assert status_label(mill, "shipped") == "Shipped"
    assert status_label(mill, "shipped") == "Shipped"


def test_status_spec_labels_from_code_and_regional_locales() -> None:
    spec = StatusSpec("packed", "Packed", "active", labels={"fr": "Emballée"})
    assert spec.label_in("fr_CA") == "Emballée" and spec.label_in("ru") is None
    assert status_spec_from_dict({"name": "x", "category": "active"}).labels == {}


def test_plugins_write_events_in_their_own_domain(mill: Ordermill, paid_order: Order,
                                                  staff: Actor, tmp_path: Path) -> None:
    folder = tmp_path / "fr" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "ordermill_i21c_test.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        'msgid "Ticket %(ticket)s checked in."\nmsgstr "Billet %(ticket)s enregistré."\n\n'
        'msgid "Seat %(seat)s."\nmsgstr "Place %(seat)s."\n', encoding="utf-8")
    Domain("ordermill_i21c_test", tmp_path)
    with mill.orders.editing(paid_order.number, actor=staff, action="check_in") as (order, ctx):
        ctx.record_event(order, "ticket_checked_in", "Ticket T-1 checked in.",
                         message_id="Ticket %(ticket)s checked in.", params={"ticket": "T-1"},
                         domain="ordermill_i21c_test", touch=False)
        ctx.record_event(order, "seat_noted", event_msg(
            "Seat %(seat)s.", catalog_domain="ordermill_i21c_test", seat="A4"), touch=False)
    checked = _event(mill, paid_order.number, "ticket_checked_in")
    seat = _event(mill, paid_order.number, "seat_noted")
    assert checked.message == "Ticket T-1 checked in." and seat.message == "Seat A4."
    with use_locale("fr"):
        assert event_message(checked) == "Billet T-1 enregistré."
        assert event_message(seat) == "Place A4."
    with use_locale("uk"):  # no Ukrainian catalog in the plugin: its English source
        assert event_message(checked) == "Ticket T-1 checked in."


def test_plural_and_joined_messages_render_per_language(mill: Ordermill, staff: Actor,
                                                        make_product: Callable[..., Product],
                                                        order_factory: Callable[..., Order]
                                                        ) -> None:
    make_product("HAT", price=500, currency="EUR")
    order = order_factory([("HAT", 2)])
    mill.orders.cancel(order.number, actor=staff)
    cancelled = _event(mill, order.number, "cancelled")
    assert cancelled.message == "Order cancelled. Stock released."
    with use_locale("fr"):
        assert event_message(cancelled) == "Commande annulée. Stock libéré."
    mill.orders.delete(order.number, actor=staff, restock=True)
    deleted = _event(mill, order.number, "deleted")
    with use_locale("ru"):
        assert event_message(deleted).startswith("Заказ удалён окончательно")


def test_erasure_scrubs_the_message_parameters_too(mill: Ordermill, paid_order: Order,
                                                   staff: Actor) -> None:
    from ordermill.core.customers import erase_customer

    placed = _event(mill, paid_order.number, "placed")
    assert "buyer@example.com" in json.dumps(placed.params)
    erase_customer(mill, mill.orders.get(paid_order.number).customer_id, actor=staff)
    placed = _event(mill, paid_order.number, "placed")
    for stored in (placed.message, json.dumps(placed.params, ensure_ascii=False)):
        assert "buyer@example.com" not in stored and "Bea Buyer" not in stored
    with use_locale("fr"):
        assert "Bea Buyer" not in event_message(placed, mill)
    erased = _event(mill, paid_order.number, "buyer_erased")
    with use_locale("uk"):
        assert event_message(erased, mill).startswith("Персональні дані покупця стерто")
