"""The admin speaks the reader's language: whose language (the staff member's stored choice,
else Accept-Language), the language switch, money and dates in that locale, and the
pseudo-locale that shows every marked string as "[Ŏŕďéŕś]" (tests only).

Runs on the real database of the `mill` fixture (SQLite and PostgreSQL); nothing mocked.
The French words themselves come from the catalog (i21c's messages.po); here the
pseudo-locale proves the templates go through the catalogs, and babel's formatting proves
the locale reached the money and date helpers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from adminkit import Admin, add_user

from ordermill.core.app import Ordermill
from ordermill.core.errors import InvalidInput
from ordermill.core.i18n import PSEUDO_LOCALE, _pseudo, current_locale
from ordermill.core.models import Order, User
from ordermill.core.staff import set_language
from ordermill.web import create_app

Factory = Callable[..., Order]


def _language_of(mill: Ordermill, email: str) -> str | None:
    with mill.read_session() as session:
        user = session.query(User).filter_by(email=email).one()
        return user.language


def _html_lang(page: str) -> str:
    match = re.search(r'<html lang="([^"]+)"', page)
    assert match, page[:200]
    return match.group(1)


def test_money_and_dates_follow_the_browser_language(admin: Admin, shop: None,
                                                     order_factory: Factory) -> None:
    order_factory([("MUG", 1)])  # 12.50 EUR
    english = admin.get("/admin/orders").get_data(as_text=True)
    assert "€12.50" in english and "12,50\xa0€" not in english
    assert _html_lang(english) == "en"
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", english)  # English keeps ISO dates

    french = admin.get("/admin/orders", headers={"Accept-Language": "fr-CH, en;q=0.5"})
    page = french.get_data(as_text=True)
    assert _html_lang(page) == "fr"
    assert "12,50\xa0€" in page and "€12.50" not in page
    assert re.search(r"\d\d/\d\d/\d{4} \d\d:\d\d", page)  # babel's French short form

    indonesian = admin.get("/admin/orders", headers={"Accept-Language": "id"})
    assert "€12,50" in indonesian.get_data(as_text=True)


def test_an_unknown_browser_language_falls_back_to_english(admin: Admin) -> None:
    page = admin.get("/admin/orders", headers={"Accept-Language": "xx, zz;q=0.5"})
    assert page.status_code == 200
    assert _html_lang(page.get_data(as_text=True)) == "en"


def test_the_pseudo_locale_runs_every_template_string_through_the_catalog(
        admin: Admin, shop: None, order_factory: Factory) -> None:
    number = order_factory([("MUG", 1)]).number
    pages = {path: admin.get(path, headers={"Accept-Language": "en-XA"}).get_data(as_text=True)
             for path in ("/admin/orders", f"/admin/orders/{number}", "/admin/account")}
    assert _pseudo("Orders") == "[Ŏŕdéŕś]"
    for path, page in pages.items():
        assert _pseudo("Log out") in page, path
        assert ">Log out<" not in page, path
    assert _pseudo("Export all matching (CSV)") in pages["/admin/orders"]
    assert _pseudo("Payments") in pages[f"/admin/orders/{number}"]
    # a string with a placeholder keeps its value, the words around it change
    assert _pseudo("placed %(date)s by %(name)s").split("%(date)s")[0] \
        in pages[f"/admin/orders/{number}"]
    # the JS texts too, in the page's JSON block
    block = re.search(r'<script type="application/json" id="admin-i18n">(.*?)</script>',
                      pages["/admin/orders"], re.S)
    assert block is not None
    texts = json.loads(block.group(1))
    assert texts["tick_lines"] == _pseudo("Tick lines to see the total.")
    assert texts["status_change"] == _pseudo("Status: %(old)s → %(new)s.")  # for admin.js


def test_the_pseudo_locale_is_not_offered_outside_tests(
        mill: Ordermill, app_config: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ORDERMILL_PSEUDO_LOCALE", raising=False)
    production = create_app(mill, {**app_config, "TESTING": False})
    page = production.test_client().get("/admin/login", headers={"Accept-Language": "en-XA"})
    text = page.get_data(as_text=True)
    assert _html_lang(text) == "en"
    assert _pseudo("Password") not in text and "Password" in text
    monkeypatch.setenv("ORDERMILL_PSEUDO_LOCALE", "1")
    page = production.test_client().get("/admin/login", headers={"Accept-Language": "en-XA"})
    assert _pseudo("Password") in page.get_data(as_text=True)


def test_the_staff_members_choice_beats_the_browser_and_can_be_undone(
        app: Any, mill: Ordermill) -> None:
    email = add_user(mill, "support", "sam@shop.test")
    admin = Admin(app.test_client())
    assert admin.login(email).status_code == 302
    page = admin.get("/admin/payments").get_data(as_text=True)
    assert 'data-testid="language-switch"' in page
    assert _language_of(mill, email) is None

    response = admin.post("/admin/language", {"language": "uk", "next": "/admin/payments"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/admin/payments")
    assert _language_of(mill, email) == "uk"
    page = admin.get("/admin/payments", headers={"Accept-Language": "fr"})
    assert _html_lang(page.get_data(as_text=True)) == "uk"
    assert '<option lang="uk" value="uk" selected>' in page.get_data(as_text=True)

    # the same choice on My account, back to the browser's language
    account = admin.get("/admin/account").get_data(as_text=True)
    assert 'id="language-account"' in account
    response = admin.post("/admin/language", {"language": "", "next": "/admin/account"})
    assert response.status_code == 303 and _language_of(mill, email) is None
    page = admin.get("/admin/account", headers={"Accept-Language": "fr"})
    assert _html_lang(page.get_data(as_text=True)) == "fr"


def test_a_language_the_shop_does_not_ship_is_refused_and_nothing_changes(
        admin: Admin, mill: Ordermill, unchanged: Callable[[], Callable[[], None]]) -> None:
    admin.get("/admin/orders")
    check = unchanged()
    response = admin.post("/admin/language", {"language": "de", "next": "/admin/orders"})
    assert response.status_code == 303
    check()
    page = admin.get("/admin/orders").get_data(as_text=True)
    assert "Unknown language" in page
    # an off-site "next" never leads away from the admin
    response = admin.post("/admin/language", {"language": "fr", "next": "https://evil.test/"})
    assert response.headers["Location"].endswith("/admin/orders")
    assert _language_of(mill, "admin@shop.test") == "fr"


def test_the_switch_needs_the_csrf_token_and_a_login(
        admin: Admin, app: Any, mill: Ordermill,
        unchanged: Callable[[], Callable[[], None]]) -> None:
    check = unchanged()
    forged = admin.post("/admin/language", {"language": "fr"}, csrf=False)
    assert forged.status_code == 400
    anonymous = Admin(app.test_client()).post("/admin/language", {"language": "fr"})
    assert anonymous.status_code in (302, 401)
    check()


def test_set_language_keeps_the_pseudo_locale_for_tests(mill: Ordermill) -> None:
    email = add_user(mill, "viewer", "vic@shop.test")
    with mill.read_session() as session:
        user_id = session.query(User).filter_by(email=email).one().id
    with pytest.raises(InvalidInput):
        set_language(mill, user_id, PSEUDO_LOCALE)
    assert set_language(mill, user_id, PSEUDO_LOCALE,
                        allowed=("en", PSEUDO_LOCALE)) == PSEUDO_LOCALE
    assert set_language(mill, user_id, "  ") is None
    assert _language_of(mill, email) is None


def test_the_request_locale_does_not_leak_into_the_next_request(admin: Admin) -> None:
    admin.get("/admin/orders", headers={"Accept-Language": "ru"})
    assert current_locale() == "en"  # left again on teardown
    page = admin.get("/admin/orders").get_data(as_text=True)
    assert _html_lang(page) == "en"
