"""The tickets PDF speaks the reader's language and prints any script (DejaVu): a Ukrainian
buyer's tickets say "Учасник" and "Код квитка" and carry a Cyrillic attendee as written; the
admin's Tickets card is translated with the plugin's own domain."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from pdfminer.high_level import extract_text

from ordermill.api import use_locale
from ordermill.core.app import Ordermill
from ordermill.core.requests import LineRequest
from ordermill.core.specs import Actor
from ordermill.plugins.provisioning import tickets_of, tickets_pdf
from ordermill.plugins.provisioning.i18n import status_label
from ordermill.testing import order_request


def paid_ticket_order(mill: Ordermill, staff: Actor, make_product: Callable[..., Any]) -> str:
    make_product("GIG", name="Концерт", price=3000, stock=10, kind="ticket",
                 options={"event": "Вечір джазу"})
    lines = [LineRequest(sku="GIG", quantity=2, options={"attendees": ["Олена Коваленко",
                                                                         "Łukasz Żółć"]})]
    number = mill.orders.place(order_request(lines), actor=staff).order.number
    mill.orders.mark_paid(number, actor=staff)
    return number


def test_tickets_pdf_in_the_readers_language_with_cyrillic(
        mill: Ordermill, staff: Actor, make_product: Callable[..., Any]) -> None:
    number = paid_ticket_order(mill, staff, make_product)
    with use_locale("uk"):
        pdf = tickets_pdf(mill, number)
    assert pdf is not None
    text = extract_text(io.BytesIO(pdf))
    for expected in ("Учасник", "Код квитка", f"Замовлення {number} - квиток 1",
                     "Олена Коваленко", "Łukasz Żółć", "Вечір джазу"):
        assert expected in text, expected
    assert "Attendee" not in text and "Ticket code" not in text
    assert all(ticket.code in text for ticket in tickets_of(mill, number))
    english = extract_text(io.BytesIO(tickets_pdf(mill, number) or b""))
    assert "Attendee" in english and "Олена Коваленко" in english


def test_tickets_card_of_the_admin_in_french(
        mill: Ordermill, staff: Actor, make_product: Callable[..., Any],
        admin_client: Any) -> None:
    number = paid_ticket_order(mill, staff, make_product)
    with use_locale("fr"):
        page = admin_client.get(f"/admin/orders/{number}",
                                headers={"Accept-Language": "fr"}).get_data(as_text=True)
        assert status_label("checked_in") == "Entré"
    card = page.split('data-testid="provisioning-tickets"', 1)[1].split("</p>", 1)[0]
    for expected in ("Participant", "Événement", "Valide", "Billets à imprimer (PDF)"):
        assert expected in card, expected
    assert "Printable tickets" not in card and "Attendee" not in card
