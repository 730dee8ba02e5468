"""ordermill.core.i18n: locale choice, catalogs (pseudo-locale included), babel formatting and
parsing of amounts typed in a person's locale."""

from __future__ import annotations

import datetime as dt

import pytest

from ordermill.core.i18n import (
    PSEUDO_LOCALE,
    AmbiguousAmount,
    babel_locale,
    format_datetime,
    format_money,
    gettext,
    negotiate,
    ngettext,
    parse_amount,
    use_locale,
)
from ordermill.core.money import Money


@pytest.mark.parametrize(("amount", "currency", "locale", "shown"), [
    (1250, "EUR", "fr", "12,50\u00a0€"),
    (1250, "EUR", "en", "€12.50"),
    (150000, "IDR", "id", "Rp150.000"),
    (1250, "UAH", "uk", "12,50\u00a0₴"),
    (1200, "JPY", "en", "¥1,200"),
])
def test_money_follows_the_locale(amount: int, currency: str, locale: str, shown: str) -> None:
    assert format_money(amount, currency, locale) == shown


def test_remembered_money_text_keeps_each_amount_currency_and_locale_apart() -> None:
    """Formatted amounts are remembered per (amount, currency, locale): the same amount in
    another locale, the current locale changing, or another currency is formatted anew."""
    shown = [format_money(1250, "EUR", "fr"), format_money(1250, "EUR", "en"),
             format_money(1250, "USD", "en"), format_money(1251, "EUR", "en")]
    assert shown == ["12,50\u00a0€", "€12.50", "$12.50", "€12.51"]
    with use_locale("fr"):
        assert format_money(1250, "EUR") == "12,50\u00a0€"
    with use_locale("en"):
        assert format_money(1250, "EUR") == "€12.50"
    assert [Money(1250, "EUR").format(name) for name in ("en", "fr", "en")] == [
        "€12.50", "12,50\u00a0€", "€12.50"]


def test_each_locale_is_parsed_once_and_unknown_names_format_as_english() -> None:
    """Formatting reuses one Babel Locale per name; the pseudo-locale and names Babel does
    not know (a buyer's language may be anything) format as English, as before."""
    assert babel_locale("fr") is babel_locale("fr") and str(babel_locale("fr")) == "fr"
    for name in (PSEUDO_LOCALE, "xx", "not a locale"):
        assert str(babel_locale(name)) == "en"
    with use_locale("uk"):
        assert str(babel_locale()) == "uk"
        assert format_money(1250, "EUR") == "12,50\u00a0EUR"


def test_accept_language_picks_the_best_shipped_language() -> None:
    assert negotiate("fr-CH, fr;q=0.9, en;q=0.8") == "fr"
    assert negotiate("de-DE, uk;q=0.4") == "uk"
    assert negotiate("de") == "en"
    assert negotiate(None) == "en"


def test_pseudo_locale_marks_every_message_and_keeps_placeholders() -> None:
    with use_locale("en_XA"):
        assert gettext("Order %(number)s", number="42") == "[Ŏŕdéŕ 42]"
        assert ngettext("%(num)s ticket", "%(num)s tickets", 2) == "[2 tïçkétś]"
    assert gettext("Order %(number)s", number="42") == "Order 42"


def test_dates_show_in_the_shop_time_zone_and_locale() -> None:
    moment = dt.datetime(2026, 11, 30, 12, 0)
    assert format_datetime(moment, locale="fr", timezone="Europe/Paris") == "30 nov. 2026, 13:00:00"


@pytest.mark.parametrize(("typed", "currency", "locale", "decimal"), [
    ("12,50", "EUR", "fr", "12.50"),
    ("1\u202f234,50", "EUR", "fr", "1234.50"),
    ("1,234.50", "EUR", "en", "1234.50"),
    ("1,234", "JPY", "en", "1234"),
    ("12.5", "EUR", "fr", "12.5"),
])
def test_typed_amounts_are_read_in_the_locale(typed: str, currency: str, locale: str,
                                             decimal: str) -> None:
    assert parse_amount(typed, currency, locale) == decimal


@pytest.mark.parametrize(("typed", "currency", "locale"), [
    ("1.234", "EUR", "fr"), ("1,234", "BHD", "en")])
def test_ambiguous_amounts_are_refused_with_a_sentence(typed: str, currency: str,
                                                      locale: str) -> None:
    with pytest.raises(AmbiguousAmount, match="could mean"):
        parse_amount(typed, currency, locale)


def test_text_that_is_no_amount_is_refused() -> None:
    with pytest.raises(ValueError, match="is not an amount"):
        parse_amount("abc", "EUR", "en")
