"""Issue 21 in web/: API errors follow Accept-Language (same codes, data stays
locale-neutral), the customer order page speaks the buyer's language with babel's money and
dates, and staff type money in their locale ("12,50" in French), ambiguous text refused.

The web's translations are written to i18n_work/i21x.<lang>.po until the lead merges them
into ordermill/translations; `web_catalogs` reads them beside the shipped catalog meanwhile
(once merged and removed, it changes nothing and the shipped catalog answers).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from flask.testing import FlaskClient

from ordermill.core import i18n
from ordermill.core.app import Ordermill
from ordermill.core.i18n import format_date, format_money, use_locale
from ordermill.core.models import Order
from ordermill.core.order_links import order_link_token
from ordermill.core.requests import CustomerDetails, LineRequest, OrderRequest
from ordermill.core.specs import Actor
from ordermill.testing_kit import AdminClient
from ordermill.web.admin.common import typed_amount

WORK = Path(__file__).resolve().parents[2] / "i18n_work"


@pytest.fixture(autouse=True)
def web_catalogs(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The shipped "messages" catalog, with i21x's pending translations under it."""
    original = i18n.translations
    pending: dict[str, NullTranslations] = {}
    for po in sorted(WORK.glob("i21x.*.po")):
        lang = po.name.split(".")[1]
        with po.open("rb") as fp:
            catalog = read_po(fp, locale=lang)
        buffer = io.BytesIO()
        write_mo(buffer, catalog, use_fuzzy=False)
        buffer.seek(0)
        pending[lang] = Translations(buffer, domain=i18n.MESSAGES_DOMAIN)

    def layered(locale: str, domain: str = i18n.MESSAGES_DOMAIN,
                directory: Path = i18n.TRANSLATIONS_DIR) -> NullTranslations:
        shipped = original(locale, domain, directory)
        if domain != i18n.MESSAGES_DOMAIN or locale not in pending:
            return shipped
        pending_first = pending[locale]
        if getattr(pending_first, "_fallback", None) is None:
            pending_first.add_fallback(shipped)
        return pending_first

    monkeypatch.setattr(i18n, "translations", layered)
    yield


def _error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body["error"]) == {"code", "message", "details"}
    return body["error"]  # type: ignore[no-any-return]


# ---- the API: messages per Accept-Language, codes and data unchanged --------------------------

def test_api_error_message_follows_accept_language_and_keeps_its_code(
        client: FlaskClient, tokens: dict[str, str]) -> None:
    french = _error(client.get("/api/v1/no-such-thing",
                               headers={"Accept-Language": "fr-CH, fr;q=0.9, en;q=0.5"}), 404)
    english = _error(client.get("/api/v1/no-such-thing"), 404)
    assert french["code"] == english["code"] == "not_found"
    assert english["message"] == ("No API endpoint /api/v1/no-such-thing. The API is "
                                  "described at /api/v1/openapi.json.")
    assert french["message"] == ("Aucun point d'accès d'API /api/v1/no-such-thing. L'API est "
                                 "décrite dans /api/v1/openapi.json.")

    unauthenticated = _error(client.get("/api/v1/orders",
                                        headers={"Accept-Language": "uk"}), 401)
    assert unauthenticated["code"] == "unauthenticated"
    assert unauthenticated["message"].startswith("Потрібна автентифікація")
    assert "`Authorization: Bearer <token>`" in unauthenticated["message"]

    # a language with no catalog is English; the next request does not inherit French
    assert _error(client.get("/api/v1/no-such-thing", headers={"Accept-Language": "de"}),
                  404)["message"] == english["message"]
    assert _error(client.get("/api/v1/no-such-thing"), 404)["message"] == english["message"]


def test_api_validation_messages_are_translated_field_names_are_not(
        client: FlaskClient, tokens: dict[str, str]) -> None:
    headers = {"Authorization": f"Bearer {tokens['admin']}", "Accept-Language": "fr"}
    refused = _error(client.post("/api/v1/orders", json={"lines": [{"sku": "X", "quantity": 1}]},
                                 headers=headers), 422)
    assert refused["code"] == "validation_error"
    assert refused["details"]["fields"]["customer"] == [
        "Donnée manquante pour un champ obligatoire."]
    assert refused["message"].startswith("Saisie invalide. ")
    money = _error(client.post("/api/v1/orders", headers=headers, json={
        "customer": {"email": "a@example.com", "name": "A"}, "payment_method": "banktransfer",
        "lines": [{"sku": "X", "quantity": 1, "price_override": 12.5}]}), 422)
    assert any("chaîne décimale" in text for texts in money["details"]["fields"].values()
               for text in texts), money


def test_api_data_stays_locale_neutral_in_french(
        client: FlaskClient, tokens: dict[str, str], make_product: Callable[..., Any],
        order_factory: Callable[..., Order]) -> None:
    make_product("MUG", price=1250, stock=5)
    order = order_factory([("MUG", 1)])
    got = client.get(f"/api/v1/orders/{order.number}", headers={
        "Authorization": f"Bearer {tokens['admin']}", "Accept-Language": "fr"})
    assert got.status_code == 200, got.get_data(as_text=True)
    body = got.get_json()
    assert body["total"] == "12.50" and body["status"] == "pending"
    assert body["payment_status"] == "unpaid"
    assert re.match(r"^\d{4}-\d\d-\d\dT", body["placed_at"])


# ---- the customer's order page in the buyer's language --------------------------------------

def _buyer_order(mill: Ordermill, staff: Actor, language: str, currency: str = "EUR") -> Order:
    request = OrderRequest(
        customer=CustomerDetails(email=f"{language}@example.com", name="Buyer",
                                 language=language),
        lines=[LineRequest(sku="MUG", quantity=1)], payment_method="banktransfer",
        currency=currency)
    return mill.orders.place(request, actor=staff).order  # type: ignore[no-any-return]


@pytest.mark.parametrize(("language", "currency", "amount", "heading", "unpaid",
                          "still_to_pay"), [
    ("fr", "EUR", "12,50\u00a0€", "Articles", "Impayé", "Reste à payer"),
    ("id", "EUR", "€12,50", "Barang", "Belum lunas", "Sisa yang harus dibayar"),
    ("uk", "UAH", "12,50\u00a0₴", "Товари", "Не оплачено", "Залишилося сплатити"),  # noqa: RUF001
])
def test_customer_page_speaks_the_buyers_language(
        client: FlaskClient, mill: Ordermill, staff: Actor, make_product: Callable[..., Any],
        language: str, currency: str, amount: str, heading: str, unpaid: str,
        still_to_pay: str) -> None:
    make_product("MUG", price=1250, currency=currency, stock=5, name="Mug")
    order = _buyer_order(mill, staff, language, currency)
    html = client.get(f"/my-order/{order_link_token(mill, order.number)}").get_data(
        as_text=True)
    assert f'<html lang="{language}">' in html
    assert format_money(1250, currency, language) == amount  # babel's own style per locale
    assert f'<th class="num" id="total">{amount}</th>' in html
    assert f'id="amount-due">{amount}<' in html
    assert f"<h2>{heading}</h2>" in html and still_to_pay in html
    assert f'<span id="payment-status">{unpaid}</span>' in html
    placed = format_date(mill.orders.get(order.number).placed_at, "long", locale=language)
    assert placed in html
    assert f"12.50 {currency}" not in html and ">Items<" not in html
    assert "No news yet." not in html


def test_customer_page_lang_override_is_limited_to_shipped_languages(
        client: FlaskClient, mill: Ordermill, staff: Actor,
        make_product: Callable[..., Any]) -> None:
    make_product("MUG", price=1250, stock=5)
    order = _buyer_order(mill, staff, "fr")
    page = f"/my-order/{order_link_token(mill, order.number)}"
    assert "Pas encore de nouvelles." in client.get(page).get_data(as_text=True)
    ukrainian = client.get(f"{page}?lang=uk-UA").get_data(as_text=True)
    assert '<html lang="uk">' in ukrainian and "Новин поки немає." in ukrainian
    english = client.get(f"{page}?lang=en").get_data(as_text=True)
    assert "No news yet." in english and "€12.50" in english
    for odd in ("de", "en_XA", "../../etc", ""):  # not shipped: the buyer's language
        assert '<html lang="fr">' in client.get(f"{page}?lang={odd}").get_data(as_text=True)


# ---- staff type money in their locale -------------------------------------------------------

def _french(admin: AdminClient, path: str, form: dict[str, Any]) -> Any:
    """A post as a French-speaking staff member (the admin's locale set-up reads the
    browser's language; the block sets it where that set-up is not merged yet)."""
    with use_locale("fr"):
        admin.get(path, headers={"Accept-Language": "fr"})
        return admin.post(path, form, headers={"Accept-Language": "fr"})


def test_french_staff_refund_typed_with_a_comma(
        admin_client: AdminClient, mill: Ordermill, make_product: Callable[..., Any],
        order_factory: Callable[..., Order]) -> None:
    make_product("TSHIRT", price=2000, stock=10)
    order = order_factory([("TSHIRT", 1)], paid=True)
    done = _french(admin_client, f"/admin/orders/{order.number}/refund", {
        "version": order.version, "amount": "12,50", "manual_refund": "1",
        "comment": "Geste commercial"})
    assert done.status_code == 303, done.get_data(as_text=True)[:3000]
    [refund] = [p for p in mill.orders.get(order.number).payments if p.kind == "refund"]
    assert refund.amount == 1250


def test_ambiguous_amount_in_french_is_refused_and_changes_nothing(
        admin_client: AdminClient, mill: Ordermill, make_product: Callable[..., Any],
        order_factory: Callable[..., Order], unchanged: Any) -> None:
    make_product("TSHIRT", price=200000, stock=10)
    order = order_factory([("TSHIRT", 1)], payment_method="cheque")
    check = unchanged()
    refused = _french(admin_client, f"/admin/orders/{order.number}/payment", {
        "version": order.version, "gateway": "cheque", "_from": "page", "amount": "1.234"})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "Montant :" in page  # the field, named in French
    assert "1.234" in page and "1234" in page  # the two readings the message offers
    check()
    assert not mill.orders.get(order.number).payments

    with use_locale("en"):  # in English "1,234.50" is a thousands mark and a decimal point
        admin_client.get(f"/admin/orders/{order.number}/payment")
        done = admin_client.post(f"/admin/orders/{order.number}/payment", {
            "version": order.version, "gateway": "cheque", "amount": "1,234.50"})
    assert done.status_code == 303, done.get_data(as_text=True)[:3000]
    assert [p.amount for p in mill.orders.get(order.number).payments] == [123450]


def test_french_catalogue_prices_with_decimal_commas(
        admin_client: AdminClient, mill: Ordermill, staff: Actor) -> None:
    created = _french(admin_client, "/admin/products/new", {
        "sku": "SHIRT", "name": "T-shirt", "kind": "physical", "price": "12,50",
        "stock": "4", "prices": "USD=14,00, GBP=9,50"})
    assert created.status_code == 303, created.get_data(as_text=True)[:3000]
    product = mill.catalogue.products.get("SHIRT", actor=staff)
    assert product["price"] == "12.50"
    assert product["prices"]["USD"] == "14.00" and product["prices"]["GBP"] == "9.50"


@pytest.mark.parametrize(("typed", "locale", "read"), [
    ("12,50", "fr", "12.50"), ("1 234,50", "fr", "1234.50"), ("1.234.567,89", "fr", "1234567.89"),
    ("12.50", "fr", "12.50"), ("1,234.50", "en", "1234.50"), ("12,50", "en", "12.50"),
])
def test_typed_amounts_in_the_readers_locale(typed: str, locale: str, read: str) -> None:
    with use_locale(locale):
        assert typed_amount(typed, "EUR") == read


@pytest.mark.parametrize("typo", ["12.5.3", "1,234,5", "1.23.456", "12,,5", "\u0663", "1e3"])
def test_typos_are_not_read_as_thousands(typo: str) -> None:
    """A repeated mark is a thousands separator only in groups of three: "12.5.3" is a typo
    to refuse, never 1253 euros."""
    with use_locale("fr"), pytest.raises(ValueError, match=re.escape(typo)):
        typed_amount(typo, "EUR")


def test_a_translated_file_name_travels_in_filename_star() -> None:
    """A header cannot carry "[ïñvŏïçé]-INV-1.pdf" raw (the pseudo-locale's walk got 500s)."""
    from ordermill.web.documents import content_disposition

    assert content_disposition("attachment", "facture-INV-1.pdf") == (
        'attachment; filename="facture-INV-1.pdf"')
    header = content_disposition("inline", "[ïñvŏïçé]-INV-1.pdf")
    assert header.startswith('inline; filename="')
    assert "filename*=UTF-8''%5B%C3%AF%C3%B1v%C5%8F%C3%AF%C3%A7%C3%A9%5D-INV-1.pdf" in header
    header.encode("latin-1")  # what werkzeug needs of a header value
