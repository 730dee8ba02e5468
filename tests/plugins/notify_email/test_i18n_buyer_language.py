"""Issue 21, acceptance 3: what a French, an Indonesian and a Ukrainian buyer receive (the
confirmation with its invoice PDF, payment received, a comment, a refund) is entirely in their
language, amounts formatted as babel does for their locale. Real SMTP on loopback."""
# ruff: noqa: RUF001  (Ukrainian text: its Cyrillic letters are meant, not look-alikes)

from __future__ import annotations

import io
import re
from typing import Any

import attrs
import pytest
from pypdf import PdfReader

from ordermill.plugins.notify_email.render import render_message
from ordermill.plugins.notify_email.testing import SmtpSink, flat
from ordermill.plugins.notify_email.testing import message_part as part
from ordermill.testing import order_request

CUSTOMER_MESSAGES = ("order_confirmation", "order_updated", "payment_received",
                     "order_refunded")

# English a buyer must not see anywhere in these messages (subject, text or HTML)
ENGLISH = ("Hello", "Thank you", "Your order", "Please", "Account holder", "Payment reference",
           "Follow your order", "Payment received", "We have", "fully paid", "A message from",
           "Refund", "refunded", "Pending", "Item", "Qty", "Tax included",
           "stays pending", "money")
ENGLISH_PDF = ("Invoice", "Bill to", "Seller", "Total net", "Total tax", "Date of issue",
               "Number", "Item", "Qty", "Gross", "Order")

BUYERS: dict[str, dict[str, Any]] = {
    "fr": {
        "currency": "EUR", "price": 1250, "refund": 400, "name": "Élodie",
        "amount": "12,50 €", "refunded": "4,00 €",
        "order_confirmation": ("Votre commande {number} chez Test Shop", [
            "Bonjour Élodie,", "Merci pour votre commande", "Merci de virer 12,50 € sur le compte",
            "Titulaire du compte : Concert Hall Ltd", "Référence du paiement : {number}",
            "reste en attente", "Total : 12,50 €"]),
        "order_updated": ("Du nouveau sur votre commande {number}", [
            "Il y a du nouveau sur votre commande {number} (statut : En attente)",
            "Un message de Test Shop", "Votre colis part demain."]),
        "payment_received": ("Paiement reçu pour la commande {number}", [
            "Nous avons bien reçu votre paiement de 12,50 € pour la commande {number}",
            "entièrement payée"]),
        "order_refunded": ("Remboursement de 4,00 € pour la commande {number}", [
            "Nous vous avons remboursé 4,00 € pour votre commande {number}",
            "nous organisons nous-mêmes le virement"]),
        "pdf": ["Facture INV-", "Commande: {number}", "Facturé à", "Vendeur", "Total TTC",
                "Total HT", "Qté", "12,50 €"],
        "file": "facture-",
    },
    "id": {
        "currency": "IDR", "price": 150000, "refund": 50000, "name": "Budi",
        "amount": "Rp150.000", "refunded": "Rp50.000",
        "order_confirmation": ("Pesanan Anda {number} di Test Shop", [
            "Halo Budi,", "Terima kasih atas pesanan Anda", "Silakan transfer Rp150.000 ke:",
            "Nama pemilik rekening: Concert Hall Ltd", "Referensi pembayaran: {number}",
            "Total: Rp150.000"]),
        "order_updated": ("Kabar terbaru pesanan Anda {number}", [
            "Ada kabar terbaru tentang pesanan Anda {number} (status: Tertunda)",
            "Pesan dari Test Shop", "Votre colis part demain."]),
        "payment_received": ("Pembayaran diterima untuk pesanan {number}", [
            "Kami telah menerima pembayaran Anda sebesar Rp150.000 untuk pesanan {number}",
            "sudah lunas"]),
        "order_refunded": ("Pengembalian dana Rp50.000 untuk pesanan {number}", [
            "Kami telah mengembalikan Rp50.000 untuk pesanan Anda {number}",
            "kami akan mengatur sendiri transfer uang Anda"]),
        "pdf": ["Faktur INV-", "Pesanan: {number}", "Ditagihkan kepada", "Penjual",
                "Total neto", "Jml", "Rp150.000"],
        "file": "faktur-",
    },
    "uk": {
        "currency": "UAH", "price": 1250, "refund": 400, "name": "Олена Коваленко",
        "amount": "12,50 ₴", "refunded": "4,00 ₴",
        "order_confirmation": ("Ваше замовлення {number} у Test Shop", [
            "Вітаємо, Олена Коваленко!", "Дякуємо за замовлення",
            "Будь ласка, переказуйте 12,50 ₴ на рахунок:", "Отримувач: Concert Hall Ltd",
            "Призначення платежу: {number}", "Разом: 12,50 ₴"]),
        "order_updated": ("Новини щодо вашого замовлення {number}", [
            "Є новини щодо вашого замовлення {number} (статус: Очікує)",
            "Повідомлення від Test Shop", "Votre colis part demain."]),
        "payment_received": ("Оплату за замовленням {number} отримано", [
            "Ми отримали ваш платіж 12,50 ₴ за замовленням {number}",
            "повністю оплачено"]),
        "order_refunded": ("Повернення 4,00 ₴ за замовленням {number}", [
            "Ми повернули вам 4,00 ₴ за замовленням {number}",
            "ми самі організуємо переказ коштів"]),
        "pdf": ["Рахунок INV-", "Замовлення: {number}", "Платник", "Продавець",
                "Разом без податку", "К-сть", "12,50 ₴", "Олена Коваленко"],
        "file": "rakhunok-",
    },
}


@pytest.fixture
def ordermill_settings_overrides(notify_config: dict[str, Any]) -> dict[str, Any]:
    """No `bank_details` of notify_email's own: the bank-transfer gateway's instructions (its
    catalog) are what the buyer reads."""
    notify = {key: value for key, value in notify_config.items() if key != "bank_details"}
    bank = {"account_holder": "Concert Hall Ltd", "iban": "DE89370400440532013000",
            "bic": "COBADEFFXXX", "bank": "Commerzbank"}
    return {"plugins": {"notify_email": notify, "payment_banktransfer": bank},
            "shop_name": "Test Shop"}


def pdf_text(data: bytes) -> str:
    return flat("\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages))


def english_in(text: str, phrases: tuple[str, ...]) -> list[str]:
    """The English phrases found as whole words ("Total net" is not in "Total neto")."""
    return [phrase for phrase in phrases if re.search(rf"\b{re.escape(phrase)}\b", text)]


@pytest.mark.parametrize("language", sorted(BUYERS))
def test_a_buyer_reads_every_message_and_the_invoice_in_their_language(
    language: str, mill: Any, make_product: Any, smtp: SmtpSink, staff: Any
) -> None:
    buyer = BUYERS[language]
    make_product("SEAT", price=buyer["price"], currency=buyer["currency"], name="Place A12")
    request = order_request([("SEAT", 1)], email="buyer@example.com", name=buyer["name"],
                            currency=buyer["currency"])
    request = attrs.evolve(request, customer=attrs.evolve(request.customer, language=language))
    number = mill.orders.place(request, actor=staff).order.number
    mill.outbox.run_until_empty()  # the confirmation goes out while the order is unpaid
    mill.orders.add_comment(number, "Votre colis part demain.", actor=staff,
                            notify_customer=True)
    mill.orders.mark_paid(number, actor=staff)
    mill.orders.refund(number, actor=staff, amount=buyer["refund"])
    mill.outbox.run_until_empty()

    to_buyer = [m for m in smtp.messages if m["To"] == "buyer@example.com"]
    assert sorted(m["X-Ordermill-Template"] for m in to_buyer) == sorted(CUSTOMER_MESSAGES)
    for message in to_buyer:
        template = message["X-Ordermill-Template"]
        subject, phrases = buyer[template]
        assert message["Content-Language"] == language
        assert flat(message["Subject"]) == subject.format(number=number)
        text, html = part(message, "plain"), part(message, "html")
        for phrase in phrases:
            assert phrase.format(number=number) in text, (template, phrase, text)
        assert f'<html lang="{language}">' in html
        for content in (flat(message["Subject"]), text, html):
            assert english_in(content, ENGLISH) == [], (template, content)

    confirmation = next(m for m in to_buyer if m["X-Ordermill-Template"] == "order_confirmation")
    assert buyer["amount"] in part(confirmation, "html")
    [attachment] = list(confirmation.iter_attachments())
    assert attachment.get_filename().startswith(buyer["file"])
    content = pdf_text(attachment.get_content())
    for phrase in buyer["pdf"]:
        assert phrase.format(number=number) in content, (phrase, content)
    assert english_in(content, ENGLISH_PDF) == [], content


def test_english_buyers_and_languages_without_a_catalog_read_english(
    mill: Any, make_product: Any, smtp: SmtpSink, staff: Any
) -> None:
    make_product("SEAT", price=1250, name="Seat")
    request = order_request([("SEAT", 1)], email="de@example.com", name="Dora")
    request = attrs.evolve(request, customer=attrs.evolve(request.customer, language="de"))
    number = mill.orders.place(request, actor=staff).order.number
    mill.outbox.run_until_empty()
    [message] = [m for m in smtp.messages if m["To"] == "de@example.com"]
    assert message["Content-Language"] == "en"
    assert message["Subject"] == f"Your order {number} at Test Shop"
    text = part(message, "plain")
    assert "Hello Dora," in text and "Please transfer €12.50 to:" in text
    assert "Account holder: Concert Hall Ltd" in text
    [attachment] = list(message.iter_attachments())
    assert "Invoice INV-" in pdf_text(attachment.get_content())


def test_html_keeps_escaping_what_a_translation_carries() -> None:
    """A buyer's name inside a translated sentence is escaped in HTML, kept in text; a
    `|strong` amount is markup."""
    context = {"shop_name": "Shop <b>", "order": {"number": "1", "currency": "EUR",
               "buyer": {"name": "<script>x</script>"}, "lines": []}, "order_link": None}
    rendered = render_message("_base", context, language="fr")
    assert rendered.language == "fr"
    assert "Bonjour <script>x</script>," in rendered.text
    assert rendered.html is not None
    assert "Bonjour &lt;script&gt;x&lt;/script&gt;," in rendered.html
    assert "<script>" not in rendered.html
