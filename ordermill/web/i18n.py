"""Whose language a web request speaks: Flask-Babel's selectors over ordermill.core.i18n.

The locale is the logged-in staff member's stored `language`, else the browser's
Accept-Language negotiated among the shipped languages (core.i18n.negotiate). The
pseudo-locale `en_XA` ("[Ŏŕďéŕś]") is only offered when the app is testing or
ORDERMILL_PSEUDO_LOCALE=1, so a browser walk can find text nobody marked for translation.

There is one source of catalogs, core.i18n.translations: Jinja's `_`, `gettext` and
`ngettext` are installed from it (Flask-Babel's own callables would read .mo files only), and
every request also enters core.i18n.use_locale, so history, status labels and core errors
rendered during the request follow the same locale and time zone.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, current_app, g, request
from flask_babel import get_timezone

from ordermill.core.i18n import (
    LANGUAGES,
    PSEUDO_LOCALE,
    TRANSLATIONS_DIR,
    current_locale,
    negotiate,
    normalize_locale,
    translations,
    use_locale,
)
from ordermill.web.extensions import babel

#: Each language named in itself, for the language switch (not translated on purpose).
LANGUAGE_NAMES: dict[str, str] = {
    "en": "English", "fr": "Français", "id": "Bahasa Indonesia", "ru": "Русский",
    "uk": "Українська", PSEUDO_LOCALE: "[Þśéûďŏ]",
}


def pseudo_allowed(app: Flask | None = None) -> bool:
    """The pseudo-locale is for tests: the app's testing flag or ORDERMILL_PSEUDO_LOCALE=1."""
    app = app or current_app
    return bool(app.testing or app.config.get("ORDERMILL_PSEUDO_LOCALE")
                or os.environ.get("ORDERMILL_PSEUDO_LOCALE") == "1")


def available_languages() -> tuple[str, ...]:
    """The languages a person may choose here (the pseudo-locale only when allowed)."""
    return (*LANGUAGES, PSEUDO_LOCALE) if pseudo_allowed() else LANGUAGES


def browser_locale() -> str:
    """The best shipped language for the request's Accept-Language (en_XA first wins when
    the pseudo-locale is allowed)."""
    header = request.headers.get("Accept-Language", "")
    if pseudo_allowed():
        first = header.split(",", 1)[0].split(";", 1)[0].strip()
        if normalize_locale(first) == PSEUDO_LOCALE:
            return PSEUDO_LOCALE
    return negotiate(header)


def _staff_language() -> str | None:
    """The logged-in staff member's stored choice (None: follow the browser). The API
    authenticates by token, so its errors follow Accept-Language only."""
    if request.path.startswith("/api/"):
        return None
    from flask_login import current_user

    if not current_user or not current_user.is_authenticated:
        return None
    chosen = getattr(current_user, "language", None)
    return chosen if chosen in available_languages() else None


def request_locale() -> str:
    """The request's locale name, chosen once per request (may be the pseudo-locale)."""
    chosen = g.get("ordermill_locale")
    if chosen is None:
        chosen = g.ordermill_locale = _staff_language() or browser_locale()
    return str(chosen)


def select_locale() -> str:
    """Flask-Babel's locale (its format_* helpers): the pseudo-locale formats as English."""
    chosen = request_locale()
    return "en" if chosen == PSEUDO_LOCALE else chosen


def select_timezone() -> str:
    """The shop's time zone (Settings.timezone, ORDERMILL_TIMEZONE; validated when the
    settings load), else UTC: the admin, the API's error texts and the customer page show
    dates in it."""
    mill = current_app.extensions.get("ordermill")
    zone = getattr(getattr(mill, "settings", None), "timezone", None)
    return zone if isinstance(zone, str) and zone else "UTC"


def _gettext(message: str) -> str:
    return translations(current_locale()).gettext(message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current_locale()).ngettext(singular, plural, n)


def _enter_locale() -> None:
    """Enter core.i18n.use_locale for the request (left again in `_leave_locale`)."""
    block = use_locale(request_locale(), str(get_timezone() or "UTC"))
    block.__enter__()
    g.ordermill_locale_block = block


def _leave_locale(_error: BaseException | None) -> None:
    block = g.pop("ordermill_locale_block", None)
    if block is not None:
        block.__exit__(None, None, None)


def _template_globals() -> dict[str, Any]:
    return {"current_locale": current_locale, "language_names": LANGUAGE_NAMES,
            "available_languages": available_languages}


def init_i18n(app: Flask) -> None:
    """Flask-Babel for locale/time zone selection; Jinja's gettext from core.i18n."""
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS_DIR))
    app.config.setdefault("BABEL_DOMAIN", "messages")
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    # After Flask-Babel's own: one source of catalogs. newstyle: `_("%(n)s", n=...)` in
    # templates, values escaped by autoescape like any text.
    app.jinja_env.install_gettext_callables(_gettext, _ngettext, newstyle=True)
    app.jinja_env.globals.update(_template_globals())
    # first of all before_request functions, so even the rate limiter's 429 and the API's
    # errors speak the request's language (the API's: Accept-Language, never the session's)
    app.before_request_funcs.setdefault(None, []).insert(0, _enter_locale)
    app.teardown_request(_leave_locale)


__all__ = ["LANGUAGE_NAMES", "available_languages", "browser_locale", "init_i18n",
           "pseudo_allowed", "request_locale", "select_locale", "select_timezone"]
