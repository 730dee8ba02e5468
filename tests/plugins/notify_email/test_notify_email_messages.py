"""What customers and the team receive: real SMTP on loopback, parsed back and checked."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from babel.dates import format_date
from pypdf import PdfReader

from ordermill import hookimpl
from ordermill.core.models import Order
from ordermill.core.specs import FraudResult, GatewayRefund, PaymentGatewaySpec
from ordermill.plugins.notify_email import JOB_KIND, PlannedMessage, plan_messages
from ordermill.plugins.notify_email.render import (
    language_chain,
    override_keys,
    template_candidates,
)
from ordermill.plugins.notify_email.testing import SmtpSink
from ordermill.testing import order_request


def deliver_all(mill: Any) -> None:
    mill.outbox.run_until_empty()


def sent(smtp: SmtpSink, template: str) -> list[EmailMessage]:
    return [m for m in smtp.messages if m["X-Ordermill-Template"] == template]


def only(smtp: SmtpSink, template: str) -> EmailMessage:
    found = sent(smtp, template)
    assert len(found) == 1, [m["X-Ordermill-Template"] for m in smtp.messages]
    return found[0]


def text_of(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def html_of(message: EmailMessage) -> str:
    part = message.get_body(("html",))
    assert part is not None
    return str(part.get_content())


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


class Gateways:
    """A card gateway that refunds by API and a bank transfer with its own instructions."""

    @hookimpl
    def register_payment_gateways(self, settings: Any) -> list[PaymentGatewaySpec]:
        return [
            PaymentGatewaySpec("testcard", "Card", online=True, can_capture=True, can_refund=True,
                               can_partial_refund=True, refund=self.refund),
            PaymentGatewaySpec("wire", "Wire transfer",
                               describe_instructions=self.instructions),
        ]

    def refund(self, charge: Any, amount: int, idempotency_key: str, ctx: Any) -> GatewayRefund:
        return GatewayRefund(reference=f"re_{idempotency_key}")

    def instructions(self, order: Order) -> str:
        return f"IBAN FR76 3000 6000 0112 3456 7890 189\nReference: {order.number}"


class HighFraudScore:
    @hookimpl
    def fraud_check(self, order: Order, ctx: Any) -> FraudResult:
        return FraudResult(provider="test-fraud", score=Decimal("99"), reasons=("proxy",))


# ------------------------------------------------------------------------------ the rules


def test_which_event_sends_what() -> None:
    def plan(event: str, notify: bool = True, category: str = "pending",
             **data: Any) -> list[tuple[str, str]]:
        return [(m.template, m.audience) for m in
                plan_messages(event, notify_customer=notify, category=category, data=data)]

    assert plan("placed", notify=False) == [("order_confirmation", "customer"),
                                            ("team_new_order", "team")]
    assert plan("placed", notify=False, category="fraud") == [("fraud_hold", "team"),
                                                              ("team_new_order", "team")]
    assert plan("fraud") == [("fraud_hold", "team")]
    assert plan("comment", notify=False) == []
    assert plan("comment") == [("order_updated", "customer")]
    assert plan("cancelled_and_refunded", amount="10.00") == [("order_refunded", "customer")]
    assert plan("cancelled_and_refunded") == [("order_cancelled", "customer")]
    assert plan("email_sent") == []
    assert plan_messages("dispatched", notify_customer=True, category="active", data={}) == [
        PlannedMessage("order_dispatched", "customer")]


# ------------------------------------------------------------------------ confirmation


def test_confirmation_headers_parts_bank_details_and_invoice_pdf(
    mill: Any, make_product: Any, order_factory: Any, smtp: SmtpSink
) -> None:
    make_product("TSHIRT", price=1250, stock=5, name="Festival T-shirt")
    order = order_factory([("TSHIRT", 2)], email="ann@example.com", name="Ann Example")
    result_jobs = mill.outbox.jobs()
    assert {job["kind"] for job in result_jobs} == {JOB_KIND}
    deliver_all(mill)

    message = only(smtp, "order_confirmation")
    assert message["Subject"] == f"Your order {order.number} at Test Shop"
    assert message["From"] == "Test Shop <orders@shop.test>"
    assert message["To"] == "ann@example.com"
    assert message["Message-ID"].startswith(f"<ordermill.{order.number}.job")
    assert message["Message-ID"].endswith("@shop.test>")
    assert message["Date"] is not None
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Content-Language"] == "en"
    envelope = next(e for e in smtp.envelopes if e.message["Message-ID"] == message["Message-ID"])
    assert envelope.mail_from == "orders@shop.test"
    assert envelope.rcpt_tos == ("ann@example.com",)

    text, html = text_of(message), html_of(message)
    for part in (text, html):
        assert "Hello Ann Example," in part
        assert "Festival T-shirt" in part
        assert "€25.00" in part
        assert "DE89 3704 0044 0532 0130 00" in part  # bank details from plugin config
        assert "https://shop.test/my-order/" in part
    assert "<table" in html and "<table" not in text

    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    [invoice] = mill.orders.get(order.number).invoices
    assert invoice.number and invoice.number.startswith("INV-")
    assert attachment.get_filename() == f"invoice-{invoice.number}.pdf"
    content = pdf_text(attachment.get_content())  # the core's document, issued at placement
    assert f"Invoice {invoice.number}" in content
    assert f"Order: {order.number}" in content
    assert "Festival T-shirt" in content
    assert "€25.00" in content

    team = only(smtp, "team_new_order")
    assert team["To"] == "team@shop.test"
    assert "New order" in team["Subject"] and order.number in team["Subject"]
    assert not list(team.iter_attachments())

    sent_events = [e for e in mill.orders.history(order.number) if e.type == "email_sent"]
    assert sorted((e.data["template"], tuple(e.data["to"])) for e in sent_events) == [
        ("order_confirmation", ("ann@example.com",)), ("team_new_order", ("team@shop.test",))]
    confirmation = next(e for e in sent_events if e.data["template"] == "order_confirmation")
    assert confirmation.actor == "plugin:notify_email"
    assert confirmation.data["triggered_by"] == "user:admin@shop.test"
    assert confirmation.data["message_id"] == message["Message-ID"]
    assert confirmation.data["attachments"] == [f"invoice-{invoice.number}.pdf"]
    assert not confirmation.visible_to_customer


def test_gateway_instructions_for_other_offline_methods(
    mill: Any, make_product: Any, order_factory: Any, smtp: SmtpSink, register_plugin: Any
) -> None:
    register_plugin(Gateways(), "gateways")
    make_product("TSHIRT", price=1000)
    order = order_factory(payment_method="wire")
    deliver_all(mill)
    text = text_of(only(smtp, "order_confirmation"))
    assert "IBAN FR76 3000 6000 0112 3456 7890 189" in text
    assert f"Reference: {order.number}" in text
    assert "DE89" not in text


def test_paid_card_order_gets_no_bank_details(
    mill: Any, make_product: Any, smtp: SmtpSink, register_plugin: Any, staff: Any
) -> None:
    register_plugin(Gateways(), "gateways")
    make_product("TSHIRT", price=1000)
    number = mill.orders.place(order_request([("TSHIRT", 1)], payment_method="testcard"),
                               actor=staff).order.number
    mill.orders.record_payment(number, actor=staff, amount=None, gateway="testcard",
                               reference="ch_1", manual=False)
    deliver_all(mill)
    confirmation = text_of(only(smtp, "order_confirmation"))
    assert "bank transfer" not in confirmation
    assert only(smtp, "payment_received")["To"] == "buyer@example.com"


def test_html_escapes_what_the_buyer_typed(
    mill: Any, make_product: Any, order_factory: Any, smtp: SmtpSink
) -> None:
    make_product("TSHIRT", price=1000)
    order_factory(name="<script>alert(1)</script> Bob")
    deliver_all(mill)
    message = only(smtp, "order_confirmation")
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Bob" in html_of(message)
    assert "<script>" not in html_of(message)
    assert "Hello <script>alert(1)</script> Bob," in text_of(message)


# ------------------------------------------------------------------ after the placement


def test_payment_received_after_bank_transfer(
    mill: Any, make_product: Any, order_factory: Any, smtp: SmtpSink, staff: Any
) -> None:
    make_product("TICKET", price=3000, kind="ticket")
    order = order_factory([("TICKET", 2)])
    mill.orders.record_payment(order.number, actor=staff, amount=2000)
    deliver_all(mill)
    [first] = sent(smtp, "payment_received")
    assert first["Subject"] == f"Payment received for order {order.number}"
    assert "payment of €20.00" in text_of(first)
    assert "Still to pay: €40.00." in text_of(first)
    mill.orders.mark_paid(order.number, actor=staff, comment="Thanks, see you there!")
    deliver_all(mill)
    first, second = sent(smtp, "payment_received")
    assert "payment of €40.00" in text_of(second)
    assert "Your order is now fully paid." in text_of(second)
    assert "Thanks, see you there!" in text_of(second)
    assert "Thanks, see you there!" in html_of(second)


def test_comment_is_mailed_only_when_the_admin_asks(
    mill: Any, make_product: Any, order_factory: Any, smtp: SmtpSink, staff: Any
) -> None:
    make_product("TSHIRT", price=1000)
    order = order_factory()
    deliver_all(mill)
    smtp.clear()
    mill.orders.add_comment(order.number, "Internal: check stock", actor=staff)
    deliver_all(mill)
    assert smtp.messages == []
    mill.orders.add_comment(order.number, "Your parcel is delayed by two days, sorry.",
                            actor=staff, notify_customer=True)
    deliver_all(mill)
    message = only(smtp, "order_updated")
    assert message["Subject"] == f"Update on your order {order.number}"
    assert "Your parcel is delayed by two days, sorry." in text_of(message)
    assert "Internal" not in text_of(message)


def test_partial_cancellation_names_the_lines(
    mill: Any, make_product: Any, order_factory: Any, smtp: SmtpSink, staff: Any
) -> None:
    make_product("TSHIRT", price=1000, name="Red T-shirt")
    make_product("MUG", price=500, name="Blue mug")
    order = order_factory([("TSHIRT", 1), ("MUG", 2)])
    mug = next(line for line in order.lines if line.sku == "MUG")
    mill.orders.cancel(order.number, actor=staff, line_ids=[mug.id])
    deliver_all(mill)
    message = only(smtp, "order_cancelled")
    assert message["Subject"] == f"Part of your order {order.number} was cancelled"
    text = text_of(message)
    assert "- Blue mug x 2" in text
    assert "Red T-shirt" not in text


def test_cancel_without_notification_sends_nothing(
    mill: Any, make_product: Any, order_factory: Any, smtp: SmtpSink, staff: Any
) -> None:
    make_product("TSHIRT", price=1000)
    order = order_factory()
    deliver_all(mill)
    smtp.clear()
    mill.orders.cancel(order.number, actor=staff, notify_customer=False)
    deliver_all(mill)
    assert smtp.messages == []


def test_refund_says_whether_money_returns_by_itself(
    mill: Any, make_product: Any, smtp: SmtpSink, staff: Any, register_plugin: Any,
    order_factory: Any,
) -> None:
    register_plugin(Gateways(), "gateways")
    make_product("TSHIRT", price=1000)
    by_card = mill.orders.place(order_request([("TSHIRT", 1)], payment_method="testcard"),
                                actor=staff).order.number
    mill.orders.record_payment(by_card, actor=staff, amount=None, gateway="testcard",
                               reference="ch_1", manual=False)
    by_transfer = order_factory(paid=True, payment_method="banktransfer").number
    mill.orders.refund(by_card, actor=staff)
    mill.orders.refund(by_transfer, actor=staff, amount=400)
    deliver_all(mill)
    card, transfer = sorted(sent(smtp, "order_refunded"),
                            key=lambda m: m["X-Ordermill-Order"] != by_card)
    assert card["Subject"] == f"Refund of €10.00 for order {by_card}"
    assert "goes back automatically" in text_of(card)
    assert "arrange" not in text_of(card)
    assert transfer["Subject"] == f"Refund of €4.00 for order {by_transfer}"
    assert "we will arrange the transfer of your money" in text_of(transfer)
    assert "we will arrange the transfer of your money" in html_of(transfer)


def test_cancel_and_refund_is_one_message(
    mill: Any, make_product: Any, order_factory: Any, smtp: SmtpSink, staff: Any
) -> None:
    make_product("TSHIRT", price=1000)
    order = order_factory(paid=True)
    deliver_all(mill)
    smtp.clear()
    mill.orders.cancel_and_refund(order.number, actor=staff)
    deliver_all(mill)
    [message] = smtp.messages
    assert message["X-Ordermill-Template"] == "order_refunded"
    assert f"Your order {order.number} has been cancelled and €10.00 refunded." \
        in text_of(message)


def test_dispatch_message_carries_the_date(
    mill: Any, make_product: Any, order_factory: Any, smtp: SmtpSink, staff: Any
) -> None:
    make_product("TSHIRT", price=1000)
    order = order_factory(paid=True, accepted=True)
    when = dt.datetime(2024, 5, 3, 9, 30, tzinfo=dt.UTC)
    mill.orders.mark_dispatched(order.number, actor=staff, at=when, comment="Tracking: 1Z999")
    mill.orders.mark_delivered(order.number, actor=staff,
                               at=dt.datetime(2024, 5, 6, 12, tzinfo=dt.UTC))
    deliver_all(mill)
    message = only(smtp, "order_dispatched")
    assert message["Subject"] == f"Your order {order.number} is on its way"
    assert f"dispatched on {format_date(when.date(), 'long', locale='en')}" in text_of(message)
    assert "May 3, 2024" in html_of(message)
    assert "Tracking: 1Z999" in text_of(message)
    delivered = only(smtp, "order_updated")
    assert "was delivered on May 6, 2024." in text_of(delivered)


def test_fraud_hold_goes_to_the_team_only(
    mill: Any, make_product: Any, order_factory: Any, smtp: SmtpSink, staff: Any,
    register_plugin: Any,
) -> None:
    make_product("TSHIRT", price=1000)
    held = order_factory()
    mill.orders.mark_fraud(held.number, actor=staff, comment="Card reported stolen")
    register_plugin(HighFraudScore(), "fraud")
    flagged = order_factory(email="mallory@example.com")
    assert flagged.status == "fraud"
    deliver_all(mill)
    holds = sent(smtp, "fraud_hold")
    assert sorted(m["X-Ordermill-Order"] for m in holds) == sorted([held.number, flagged.number])
    assert all(m["To"] == "team@shop.test" for m in holds)
    flagged_hold = next(m for m in holds if m["X-Ordermill-Order"] == flagged.number)
    assert "Fraud score: 99" in text_of(flagged_hold)
    assert "test-fraud" in text_of(flagged_hold)
    assert not any("mallory@example.com" in (m["To"] or "") for m in smtp.messages)
    assert "Card reported stolen" in text_of(
        next(m for m in holds if m["X-Ordermill-Order"] == held.number))
    assert all(e.rcpt_tos != ("mallory@example.com",) for e in smtp.envelopes)


# ------------------------------------------------------------- languages and templates


def test_template_search_order() -> None:
    assert language_chain("fr-CA") == ["fr_ca", "fr", "en"]
    assert language_chain(None) == ["en"]
    assert template_candidates("m", "txt", ["fr", "en"], ["VIP", "ticket"], with_shop=True) == [
        "shop/fr/VIP/m.txt", "shop/fr/ticket/m.txt", "shop/VIP/m.txt", "shop/ticket/m.txt",
        "shop/fr/m.txt", "shop/m.txt", "builtin/fr/m.txt",
        "shop/en/VIP/m.txt", "shop/en/ticket/m.txt", "shop/en/m.txt", "builtin/en/m.txt"]
    assert template_candidates("m", "txt", ["en"], ["VIP"], with_shop=True) == [
        "shop/en/VIP/m.txt", "shop/VIP/m.txt", "shop/en/m.txt", "shop/m.txt",
        "builtin/en/m.txt"]
    assert template_candidates("m", "html", ["fr", "en"], ["VIP"], with_shop=False) == [
        "builtin/fr/m.html", "builtin/en/m.html"]
    lines = [{"sku": "VIP", "category": "concert", "kind": "ticket"},
             {"sku": "../etc", "category": None, "kind": "ticket"}]
    assert override_keys(lines) == ["VIP", "concert", "ticket"]


def test_second_language_and_english_fallback(
    mill: Any, make_product: Any, smtp: SmtpSink, staff: Any
) -> None:
    make_product("TSHIRT", price=1250, name="T-shirt")
    french = mill.orders.place(order_request([("TSHIRT", 2)], email="fr@example.com",
                                             name="Élodie"), actor=staff).order
    mill.orders.edit_buyer(french.number, {"language": "fr"}, actor=staff)
    mill.orders.mark_paid(french.number, actor=staff)
    deliver_all(mill)  # the confirmation was queued while the order was still English
    smtp.clear()
    from ordermill.core.notifications import resend_confirmation

    resend_confirmation(mill, french.number, staff)
    german = mill.orders.place(order_request([("TSHIRT", 1)], email="de@example.com"),
                               actor=staff).order
    mill.orders.edit_buyer(german.number, {"language": "de"}, actor=staff)
    mill.orders.add_comment(german.number, "Danke!", actor=staff, notify_customer=True)
    deliver_all(mill)

    message = next(m for m in sent(smtp, "order_confirmation") if m["To"] == "fr@example.com")
    assert message["Subject"] == f"Votre commande {french.number} chez Test Shop"
    assert message["Content-Language"] == "fr"
    text = text_of(message)
    assert "Bonjour Élodie," in text
    assert "Merci pour votre commande" in text
    assert "25,00\u00a0€" in text or "25,00\u202f€" in text
    assert "Nous avons bien reçu votre paiement" in html_of(message)
    [attachment] = list(message.iter_attachments())
    [invoice] = mill.orders.get(french.number).invoices
    assert attachment.get_filename() == f"facture-{invoice.number}.pdf"
    content = pdf_text(attachment.get_content())
    assert f"Facture {invoice.number}" in content and f"Commande: {french.number}" in content
    assert "Élodie" in content

    fallback = only(smtp, "order_updated")
    assert fallback["To"] == "de@example.com"
    assert fallback["Content-Language"] == "en"
    assert fallback["Subject"] == f"Update on your order {german.number}"


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_shop_templates_override_per_product_ticket_kind_and_message(
    mill: Any, make_product: Any, smtp: SmtpSink, staff: Any, reconfigure: Any,
    tmp_path: Path,
) -> None:
    shop = tmp_path / "mail"
    write(shop / "VIP" / "order_confirmation.txt",
          '{% set subject = "Your VIP pass " ~ order.number %}'
          "VIP {{ order.buyer.name }}: doors open at 18:00 for you.\n")
    write(shop / "fr" / "ticket" / "order_confirmation.txt",
          '{% set subject = "Vos billets " ~ order.number %}Billets pour {{ order.buyer.name }}\n')
    write(shop / "en" / "order_confirmation.html",
          '{% extends "builtin/en/order_confirmation.html" %}'
          "{% block heading %}Thanks from the shop{% endblock %}")
    reconfigure(notify={"template_dir": str(shop)})
    make_product("VIP", price=9000, kind="ticket", name="VIP pass")
    make_product("STANDARD", price=3000, kind="ticket", name="Standard ticket")
    make_product("MUG", price=500, name="Mug")

    vip = mill.orders.place(order_request([("VIP", 1)], email="vip@example.com",
                                          name="Vera"), actor=staff).order
    standard_fr = mill.orders.place(order_request(
        [("STANDARD", 1)], email="std@example.com", name="Sam"), actor=staff).order
    mug = mill.orders.place(order_request([("MUG", 1)], email="mug@example.com"),
                            actor=staff).order
    mill.orders.edit_buyer(standard_fr.number, {"language": "fr"}, actor=staff)
    mill.orders.mark_paid(standard_fr.number, actor=staff)
    from ordermill.core.notifications import resend_confirmation

    resend_confirmation(mill, standard_fr.number, staff)
    deliver_all(mill)

    by_to = {m["To"]: m for m in sent(smtp, "order_confirmation")}
    vip_mail = by_to["vip@example.com"]
    assert vip_mail["Subject"] == f"Your VIP pass {vip.number}"
    assert text_of(vip_mail).strip() == "VIP Vera: doors open at 18:00 for you."
    assert "Thanks from the shop" in html_of(vip_mail)  # the shop's generic HTML

    french = [m for m in sent(smtp, "order_confirmation")
              if m["To"] == "std@example.com" and m["Content-Language"] == "fr"]
    assert [m["Subject"] for m in french] == [f"Vos billets {standard_fr.number}"]
    assert text_of(french[0]).strip() == "Billets pour Sam"
    assert "Merci pour votre commande" in html_of(french[0])  # built-in French HTML

    mug_mail = by_to["mug@example.com"]
    assert mug_mail["Subject"] == f"Your order {mug.number} at Test Shop"  # built-in text
    assert "Thanks from the shop" in html_of(mug_mail)
    event = next(e for e in mill.orders.history(vip.number)
                 if e.type == "email_sent" and e.data["template"] == "order_confirmation")
    assert event.data["templates"] == ["shop/VIP/order_confirmation.txt",
                                       "shop/en/order_confirmation.html"]


def test_disabled_message_and_unconfigured_plugin_queue_nothing(
    mill: Any, make_product: Any, order_factory: Any, smtp: SmtpSink, reconfigure: Any
) -> None:
    make_product("TSHIRT", price=1000)
    reconfigure(notify={"disabled_messages": ["team_new_order"]})
    order_factory()
    assert [j["payload"]["template"] for j in mill.outbox.jobs()] == ["order_confirmation"]
    reconfigure(notify={"host": None})
    order_factory()
    assert len(mill.outbox.jobs()) == 1


@pytest.mark.parametrize("notify_changes", [{"team_recipients": "a@shop.test, b@shop.test"}])
def test_team_recipients_each_get_one_message(
    mill: Any, make_product: Any, order_factory: Any, smtp: SmtpSink, reconfigure: Any,
    notify_changes: dict[str, Any],
) -> None:
    reconfigure(notify=notify_changes)
    make_product("TSHIRT", price=1000)
    order_factory()
    deliver_all(mill)
    assert sorted(m["To"] for m in sent(smtp, "team_new_order")) == ["a@shop.test",
                                                                     "b@shop.test"]
