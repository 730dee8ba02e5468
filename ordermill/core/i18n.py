"""Translations and locale-aware formatting for every string a person reads.

Plain Babel, no Flask: core/, the plugins (through `ordermill.api`) and the CLI translate with
`gettext` / `ngettext` / `lazy_gettext` here; web/ sets the reader's locale per request with
`use_locale` so the same catalogs serve the admin, the API's errors, e-mails and PDFs.

Catalogs are `ordermill/translations/<lang>/LC_MESSAGES/<domain>.po` (domain "messages" for the
core, web and CLI; each plugin its own domain and directory, see `Domain`). A `.po` is compiled
in memory the first time a process needs it (and a `.mo` beside it is used when it is newer),
so a fresh clone translates with no build step and no hand-run `pybabel compile`.

Messages take named parameters, Flask-Babel style: `gettext("Refunded %(amount)s", amount=...)`.
Machine formats (API JSON, CSV) never go through here: they stay locale-neutral.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date as _babel_date
from babel.dates import format_datetime as _babel_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, get_currency_precision
from babel.support import LazyProxy, NullTranslations, Translations

DEFAULT_LOCALE = "en"
#: The languages shipped complete. "en" is the source language (no catalog needed).
LANGUAGES: tuple[str, ...] = ("en", "fr", "id", "ru", "uk")
#: A test locale: every catalog string shown as "[Ŏŕďéŕś]" so untranslated text stands out.
PSEUDO_LOCALE = "en_XA"
TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "translations"
MESSAGES_DOMAIN = "messages"

_current_locale: ContextVar[str | None] = ContextVar("ordermill_locale", default=None)
_current_timezone: ContextVar[str | None] = ContextVar("ordermill_timezone", default=None)


# ---- which locale ----------------------------------------------------------------------------

def current_locale() -> str:
    """The reader's locale: what `use_locale` set, else the shop's default ("en")."""
    return _current_locale.get() or DEFAULT_LOCALE


def current_timezone() -> str:
    """The time zone dates are shown in: what `use_locale` (or `set_timezone`) set, else UTC.

    The web app, the CLI, e-mails and PDFs set the shop's zone (Settings.timezone)."""
    return _current_timezone.get() or "UTC"


@contextmanager
def use_locale(locale: str | None, timezone: str | None = None) -> Iterator[str]:
    """Translate and format for `locale` (and show dates in `timezone`) inside the block.

    An unknown or empty locale falls back to the default, never fails: a buyer's odd language
    tag must not stop their e-mail.
    """
    chosen = normalize_locale(locale) or DEFAULT_LOCALE
    token = _current_locale.set(chosen)
    # without a zone the block keeps the enclosing one (a buyer's e-mail inside the shop's
    # zone); either way the zone is restored on leaving, so `set_timezone` stays inside it
    tz_token = _current_timezone.set(timezone or _current_timezone.get())
    try:
        yield chosen
    finally:
        _current_locale.reset(token)
        _current_timezone.reset(tz_token)


def set_timezone(zone: str | None) -> None:
    """Show dates in `zone` until the enclosing `use_locale` block ends.

    For code that learns the shop's zone only inside such a block: a CLI command makes its
    app (and reads the settings) after the command group chose the shell's language.
    """
    _current_timezone.set(zone or None)


def normalize_locale(tag: str | None, available: tuple[str, ...] | None = None) -> str | None:
    """'fr-FR' -> 'fr', 'uk_UA' -> 'uk', 'en_XA' -> the pseudo-locale; None if none fits."""
    if not tag or not isinstance(tag, str):
        return None
    tag = tag.strip().replace("-", "_")
    if tag == PSEUDO_LOCALE:
        return PSEUDO_LOCALE
    languages = available or LANGUAGES
    if tag in languages:
        return tag
    base = tag.split("_", 1)[0].lower()
    return base if base in languages else None


def negotiate(accept_language: str | None, available: tuple[str, ...] | None = None) -> str:
    """The best shipped language for an Accept-Language header ('fr-CH, fr;q=0.9, en;q=0.8')."""
    choices: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        match = re.search(r"q=([0-9.]+)", params)
        if match:
            try:
                quality = float(match.group(1))
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            choices.append((-quality, position, tag))
    for _quality, _position, tag in sorted(choices):
        found = normalize_locale(tag, available)
        if found and found != PSEUDO_LOCALE:
            return found
    return DEFAULT_LOCALE

#: the variables the CLI reads its reader's language from, in POSIX order
LOCALE_VARS = ("LC_ALL", "LC_MESSAGES", "LANGUAGE", "LANG")


def locale_from_env(environ: dict[str, str] | Any = None) -> str:
    """The CLI's language from LC_ALL, LC_MESSAGES, LANGUAGE or LANG (POSIX order).

    'fr_FR.UTF-8' -> 'fr'; 'C', 'POSIX' or a language not shipped -> the default (English).
    """
    import os

    env = os.environ if environ is None else environ
    for key in LOCALE_VARS:
        value = (env.get(key) or "").strip()
        if not value:
            continue
        for tag in value.split(":"):  # LANGUAGE may list several: "uk:ru:en"
            tag = tag.split(".", 1)[0].split("@", 1)[0]
            if tag in ("C", "POSIX"):
                return DEFAULT_LOCALE
            found = normalize_locale(tag)
            if found:
                return found
        return DEFAULT_LOCALE
    return DEFAULT_LOCALE


def babel_locale(locale: str | None = None) -> Locale:
    """The Babel Locale used for formatting (the pseudo-locale formats as English)."""
    return _parsed_locale(locale or current_locale())


@lru_cache(maxsize=128)
def _parsed_locale(name: str) -> Locale:
    """One Locale per name for the process: parsing it and loading its data again for each
    amount or date was a third of formatting one (an admin list formats dozens)."""
    if name == PSEUDO_LOCALE:
        name = DEFAULT_LOCALE
    try:
        return Locale.parse(name)
    except (UnknownLocaleError, ValueError):
        return Locale.parse(DEFAULT_LOCALE)


# ---- catalogs --------------------------------------------------------------------------------

def _pseudo(text: str) -> str:
    """'Orders' -> '[Ŏŕďéŕś]'; %(name)s / {name} placeholders and HTML tags stay as they are."""
    table = str.maketrans("aceinoprsuyACEINOPRSUY", "áçéïñŏþŕśûýÁÇÉÏÑŎÞŔŚÛÝ")
    parts = re.split(r"(%\([a-z_0-9]+\)[sdif]|%[sd]|\{[a-z_0-9]*\}|<[^>]+>|&[a-z]+;)", text)
    return "[" + "".join(p if i % 2 else p.translate(table) for i, p in enumerate(parts)) + "]"


class PseudoTranslations(NullTranslations):
    """Every message, translated or not, comes back pseudo-localized."""

    def gettext(self, message: str) -> str:
        return _pseudo(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return _pseudo(singular if n == 1 else plural)

    def pgettext(self, context: str, message: str) -> str:
        return _pseudo(message)

    def npgettext(self, context: str, singular: str, plural: str, n: int) -> str:
        return _pseudo(singular if n == 1 else plural)


@cache
def translations(locale: str, domain: str = MESSAGES_DOMAIN,
                 directory: Path = TRANSLATIONS_DIR) -> NullTranslations:
    """The catalog of `domain` for `locale`, compiled from its .po on first use (cached)."""
    if locale == PSEUDO_LOCALE:
        return PseudoTranslations()
    folder = Path(directory) / locale / "LC_MESSAGES"
    po_file, mo_file = folder / f"{domain}.po", folder / f"{domain}.mo"
    if mo_file.exists() and (not po_file.exists()
                             or mo_file.stat().st_mtime >= po_file.stat().st_mtime):
        with mo_file.open("rb") as fp:
            return Translations(fp, domain=domain)
    if not po_file.exists():
        return NullTranslations()
    with po_file.open("rb") as fp:
        catalog = read_po(fp, locale=locale, domain=domain)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(buffer, domain=domain)


def _interpolate(text: str, params: dict[str, Any]) -> str:
    return text % params if params else text


class Domain:
    """One catalog domain: the core's ("messages"), or a plugin's own.

    A plugin keeps its catalogs in its package::

        from pathlib import Path
        from ordermill.api import Domain

        i18n = Domain("ordermill_tax_rates", Path(__file__).parent / "translations")
        _ = i18n.gettext
    """

    def __init__(self, name: str = MESSAGES_DOMAIN, directory: Path | str = TRANSLATIONS_DIR):
        self.name = name
        self.directory = Path(directory)
        DOMAINS[name] = self  # history events name their domain; event_message finds it here

    def translations(self, locale: str | None = None) -> NullTranslations:
        return translations(locale or current_locale(), self.name, self.directory)

    def gettext(self, message: str, /, **params: Any) -> str:
        return _interpolate(self.translations().gettext(message), params)

    def ngettext(self, singular: str, plural: str, n: int, /, **params: Any) -> str:
        params.setdefault("num", n)
        return _interpolate(self.translations().ngettext(singular, plural, n), params)

    def pgettext(self, context: str, message: str, /, **params: Any) -> str:
        return _interpolate(self.translations().pgettext(context, message), params)

    def lazy_gettext(self, message: str, /, **params: Any) -> LazyProxy:
        """A string translated when it is shown, for labels defined at import time."""
        return LazyProxy(self.gettext, message, enable_cache=False, **params)

    def lazy_ngettext(self, singular: str, plural: str, n: int, /,
                      **params: Any) -> LazyProxy:
        return LazyProxy(self.ngettext, singular, plural, n, enable_cache=False, **params)


#: Every Domain made so far, by name (the core's and each plugin's that imported its own).
DOMAINS: dict[str, Domain] = {}
core_domain = Domain()


def plugin_text(text: str, plugin: str | None = None) -> str:
    """A label a plugin registered as plain English (a permission's description, a list
    filter's label or choice) in the reader's language: through the plugin's own catalog
    (`ordermill_<plugin>`, once its Domain exists), else the core's."""
    if not text:
        return text
    domain = DOMAINS.get(f"ordermill_{plugin}") if plugin else None
    return (domain or core_domain).gettext(str(text))
gettext = core_domain.gettext
ngettext = core_domain.ngettext
pgettext = core_domain.pgettext
lazy_gettext = core_domain.lazy_gettext
lazy_ngettext = core_domain.lazy_ngettext
_ = gettext


def N_(message: str, /) -> str:
    """Mark `message` for extraction without translating it now (translated where shown)."""
    return message


# ---- history messages: a message id and its parameters, rendered when read ----------------

class EventMsg(str):
    """A history message: the English text (it *is* the str, so old code keeps working) plus
    the message id, JSON parameters and domain to show it again in the reader's language.

    Made by `event_msg`; `ActionContext.record_event` and the action runner store the id and
    parameters on the event (`message_id`, `params`) beside the English `message`.
    """

    message_id: str
    params: dict[str, Any]
    domain: str

    def __new__(cls, text: str, message_id: str, params: dict[str, Any],
                domain: str = MESSAGES_DOMAIN) -> EventMsg:
        made = super().__new__(cls, text)
        made.message_id = message_id
        made.params = params
        made.domain = domain
        return made

    def __add__(self, other: str) -> EventMsg:  # type: ignore[override]
        """Sentences joined ("Order cancelled." + " " + "Stock released.") stay translatable:
        the result renders each part in the reader's language."""
        return EventMsg(str(self) + str(other), "%(first)s%(second)s",
                        {"first": _store_param(self), "second": _store_param(other)})

    def __radd__(self, other: str) -> EventMsg:
        return EventMsg(str(other) + str(self), "%(first)s%(second)s",
                        {"first": _store_param(other), "second": _store_param(self)})


def event_msg(message_id: str, /, *, catalog_domain: str = MESSAGES_DOMAIN,
              **params: Any) -> EventMsg:
    """`message_id % params` in English, remembering the id and parameters for other readers.

    A parameter may be a `Money` (stored as minor units + currency, shown with format_money),
    a `StatusName`/`GatewayName` (shown with the reader's status or gateway label), another
    EventMsg (a sentence inside a sentence), or plain text and numbers (shown as they are).
    """
    stored = {key: _store_param(value) for key, value in params.items()}
    english = message_id % {key: _english_param(value) for key, value in stored.items()} \
        if stored else message_id
    return EventMsg(english, message_id, stored, catalog_domain)


def event_ngettext(singular: str, plural: str, n: int, /, *,
                   catalog_domain: str = MESSAGES_DOMAIN, **params: Any) -> EventMsg:
    """`event_msg` with a plural: "%(num)s payment" / "%(num)s payments" (num is n)."""
    params.setdefault("num", n)
    made = event_msg(singular if n == 1 else plural, catalog_domain=catalog_domain, **params)
    return EventMsg(str(made), singular, {**made.params, "$plural": plural, "$n": n},
                    catalog_domain)


class StatusName(str):
    """A status name as a message parameter: shown as the reader's label for that status.

    `label` is the English label (kept so a status uninstalled later still reads well).
    """

    label: str

    def __new__(cls, name: str, label: str | None = None) -> StatusName:
        made = super().__new__(cls, name)
        made.label = label or name
        return made


class GatewayName(StatusName):
    """A payment gateway name as a message parameter: shown as its label."""


def _store_param(value: Any) -> Any:
    from ordermill.core.money import Money  # i18n stays importable without the money module

    if isinstance(value, EventMsg):
        return {"$msg": value.message_id, "params": value.params, "domain": value.domain,
                "text": str(value)}
    if isinstance(value, Money):
        return {"$money": [value.amount, value.currency]}
    if isinstance(value, GatewayName):
        return {"$gateway": str(value), "label": value.label}
    if isinstance(value, StatusName):
        return {"$status": str(value), "label": value.label}
    if isinstance(value, (str, int, dict, list)) or value is None:
        return value  # plain values, and parameters stored already (an EventMsg's own)
    return str(value)


def _english_param(value: Any) -> Any:
    """The parameter as the English `message` has always shown it (Money.format('en'))."""
    from ordermill.core.money import Money

    if not isinstance(value, dict):
        return value
    if "$msg" in value:
        return value.get("text", value["$msg"])
    if "$money" in value:
        return Money(int(value["$money"][0]), str(value["$money"][1])).format("en")
    return value.get("label", "")


def render_event_text(message_id: str, params: dict[str, Any] | None, domain: str | None = None,
                      status_label: Any = None, gateway_label: Any = None) -> str:
    """A stored message id + parameters in the current locale (see `event_msg`).

    `status_label`/`gateway_label` are callables name -> label in the reader's language (the
    mill's registries); without them the stored English label is shown translated if the
    catalog has it.
    """
    found = DOMAINS.get(domain or MESSAGES_DOMAIN)
    translate = found.translations().gettext if found else (lambda text: text)

    def shown(value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        if "$msg" in value:
            return render_event_text(value["$msg"], value.get("params"), value.get("domain"),
                                     status_label, gateway_label)
        if "$money" in value:
            return format_money(int(value["$money"][0]), str(value["$money"][1]))
        if "$status" in value:
            return status_label(value["$status"]) if status_label else gettext(
                value.get("label") or value["$status"])
        if "$gateway" in value:
            return gateway_label(value["$gateway"]) if gateway_label else gettext(
                value.get("label") or value["$gateway"])
        return str(value)

    params = dict(params or {})
    plural, count = params.pop("$plural", None), params.pop("$n", None)
    if plural is not None and isinstance(count, int):
        text = (found.translations().ngettext(message_id, plural, count) if found
                else (message_id if count == 1 else plural))
    else:
        text = translate(message_id)
    if not params:
        return text
    try:
        return text % {key: shown(value) for key, value in params.items()}
    except (KeyError, TypeError, ValueError):  # a catalog entry with a broken placeholder
        return message_id % {key: shown(value) for key, value in params.items()}


# ---- numbers, money and dates ----------------------------------------------------------------

def format_money(amount_minor: int, currency: str, locale: str | None = None) -> str:
    """1250 EUR -> '€12.50' (en), '12,50 €' (fr); 150000 IDR -> 'Rp150.000' (id)."""
    return _money_text(amount_minor, currency, locale or current_locale())


@lru_cache(maxsize=4096)
def _money_text(amount_minor: int, currency: str, locale: str) -> str:
    """`format_money` for a locale name, remembered: babel's text depends on nothing else and
    costs about 20 us to make, and an admin list or an e-mail repeats a shop's amounts."""
    digits = get_currency_precision(currency)
    value = Decimal(amount_minor).scaleb(-digits)
    return format_currency(value, currency, locale=babel_locale(locale), currency_digits=True)


def format_number(value: int | Decimal, locale: str | None = None) -> str:
    return format_decimal(value, locale=babel_locale(locale))


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def format_datetime(value: dt.datetime | None, format: str = "medium",
                    locale: str | None = None, timezone: str | None = None) -> str:
    """A stored UTC time shown in the shop's time zone and the reader's locale."""
    if value is None:
        return ""
    tz = ZoneInfo(timezone or current_timezone())
    return _babel_datetime(_aware(value), format, tzinfo=tz, locale=babel_locale(locale))


def format_date(value: dt.date | dt.datetime | None, format: str = "medium",
                locale: str | None = None, timezone: str | None = None) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = _aware(value).astimezone(ZoneInfo(timezone or current_timezone())).date()
    return _babel_date(value, format, locale=babel_locale(locale))


class AmbiguousAmount(ValueError):
    """A typed amount that could be read two ways ("1,234" in a two-decimal currency)."""


def parse_amount(text: str, currency: str, locale: str | None = None) -> str:
    """A person's typed amount in their locale ('12,50' in French) as the API's decimal text.

    Returns the ASCII decimal string ("12.50") that `Money.from_decimal_string` takes; raises
    ValueError with a sentence for the person when the text is not an amount or is ambiguous.
    """
    raw = (text or "").strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
    if not raw:
        raise ValueError(gettext("Enter an amount."))
    symbols = babel_locale(locale).number_symbols.get("latn", {})
    decimal_sep = symbols.get("decimal", ".")
    group_sep = symbols.get("group", ",")
    digits = get_currency_precision(currency)
    if "." in raw and "," in raw:
        # both marks: the last one is the decimal separator, the other must be the group mark
        last = max(raw.rfind("."), raw.rfind(","))
        decimal_mark = raw[last]
        group_mark = "," if decimal_mark == "." else "."
        raw = raw.replace(group_mark, "").replace(decimal_mark, ".")
    elif "," in raw or "." in raw:
        mark = "," if "," in raw else "."
        head, _, tail = raw.rpartition(mark)
        if raw.count(mark) > 1:
            raw = raw.replace(mark, "")  # only a group mark repeats
        elif len(tail) != 3:
            raw = f"{head}.{tail}"  # "12,50", "12.5": a decimal mark
        elif digits == 0 or (mark == group_sep and digits < 3):
            raw = f"{head}{tail}"  # "1,234" in English: a thousands mark
        elif mark == decimal_sep:
            raw = f"{head}.{tail}"
        else:
            raise AmbiguousAmount(gettext(
                "%(text)s could mean %(one)s or %(two)s: type the amount without a thousands "
                "separator.", text=text.strip(), one=f"{head}{tail}", two=f"{head}.{tail}"))
    try:
        parsed = Decimal(raw)
    except InvalidOperation:
        raise ValueError(gettext("%(text)s is not an amount.", text=text.strip())) from None
    if not raw.lstrip("-").replace(".", "", 1).isascii() or not parsed.is_finite():
        raise ValueError(gettext("%(text)s is not an amount.", text=text.strip()))
    return raw


__all__ = [
    "DEFAULT_LOCALE",
    "DOMAINS",
    "LANGUAGES",
    "MESSAGES_DOMAIN",
    "N_",
    "PSEUDO_LOCALE",
    "TRANSLATIONS_DIR",
    "AmbiguousAmount",
    "Domain",
    "EventMsg",
    "GatewayName",
    "PseudoTranslations",
    "StatusName",
    "babel_locale",
    "core_domain",
    "current_locale",
    "current_timezone",
    "event_msg",
    "event_ngettext",
    "format_date",
    "format_datetime",
    "format_money",
    "format_number",
    "gettext",
    "lazy_gettext",
    "lazy_ngettext",
    "locale_from_env",
    "negotiate",
    "ngettext",
    "normalize_locale",
    "parse_amount",
    "pgettext",
    "render_event_text",
    "set_timezone",
    "translations",
    "use_locale",
]
