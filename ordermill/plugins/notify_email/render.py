"""Jinja rendering of messages: template lookup with shop overrides, languages and filters.

Templates are found through two prefixes: `shop/` is the configured `template_dir`, searched
first, and `builtin/` is this package's templates/ folder. For message `order_confirmation`
in language `fr` for an order with a line of sku `VIP` (category `concert`, kind `ticket`),
the text part is the first that exists of:

    shop/fr/VIP/order_confirmation.txt    a French message for this product (sku),
    shop/fr/concert/..., shop/fr/ticket/... then its category, then its kind (ticket type)
    shop/VIP/order_confirmation.txt       a product message for every language
    shop/fr/order_confirmation.txt        the shop's own French message
    shop/order_confirmation.txt           the shop's own message for every language
    builtin/fr/order_confirmation.txt     the built-in message, in French
    shop/en/..., builtin/en/...           the same again in English, the fallback language

(for an English order, `en` takes the place of `fr` and there is no fallback round), and
likewise `.html` for the HTML part. A text template sets the subject with a top-level
`{% set subject = _("...") %}`. Shop templates may extend the built-in ones, e.g.
`{% extends "builtin/fr/_base.html" %}`.

The built-in messages exist once, in English, in templates/en/, and are translated with
gettext (`_`, `ngettext`; the plugin's domain `ordermill_notify_email`, see i18n.py): for a
shipped language (`ordermill.api.LANGUAGES`) `builtin/<lang>/x` is the English template
rendered in that language. Every template is rendered inside `use_locale(language)`, so the
buyer's language also reaches amounts (`|money`: "12,50 €", "Rp150.000"), dates and whatever
the templates call that translates.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import attrs
from babel import Locale, UnknownLocaleError
from babel.numbers import format_currency
from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PrefixLoader,
    StrictUndefined,
    Template,
    TemplateNotFound,
    pass_context,
    pass_eval_context,
    select_autoescape,
)
from jinja2.nodes import EvalContext
from jinja2.runtime import Context
from markupsafe import Markup, escape

from ordermill.api import LANGUAGES, Domain, format_date, format_datetime, use_locale
from ordermill.plugins.notify_email.i18n import i18n, line_status_text

BUILTIN_DIR = Path(__file__).parent / "templates"
FALLBACK_LANGUAGE = "en"
_SAFE_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@attrs.frozen
class RenderedMessage:
    """A message ready to be wrapped in MIME: subject, both parts and the language used."""

    subject: str
    text: str
    html: str | None
    language: str
    templates: tuple[str, ...]


def language_chain(language: str | None, default: str = FALLBACK_LANGUAGE) -> list[str]:
    """'fr-CA' -> ['fr_ca', 'fr', 'en']: the most specific first, English last."""
    chain: list[str] = []
    text = (language or "").strip().replace("-", "_").lower()
    if text:
        chain.append(text)
        chain.append(text.split("_")[0])
    for fallback in (default.lower(), FALLBACK_LANGUAGE):
        chain.append(fallback)
    return [item for item in dict.fromkeys(chain) if item]


def template_candidates(name: str, ext: str, languages: Sequence[str], keys: Sequence[str],
                        *, with_shop: bool) -> list[str]:
    """Template names to try, most specific first (see the module docstring)."""
    preferred = [lang for lang in languages if lang != FALLBACK_LANGUAGE] or [FALLBACK_LANGUAGE]
    fallback_stage = FALLBACK_LANGUAGE not in preferred
    file = f"{name}.{ext}"
    names: list[str] = []
    if with_shop:
        names += [f"shop/{lang}/{key}/{file}" for lang in preferred for key in keys]
        names += [f"shop/{key}/{file}" for key in keys]
        names += [f"shop/{lang}/{file}" for lang in preferred]
        names.append(f"shop/{file}")
    names += [f"builtin/{lang}/{file}" for lang in preferred]
    if with_shop and fallback_stage:
        names += [f"shop/{FALLBACK_LANGUAGE}/{key}/{file}" for key in keys]
        names.append(f"shop/{FALLBACK_LANGUAGE}/{file}")
    names.append(f"builtin/{FALLBACK_LANGUAGE}/{file}")
    return list(dict.fromkeys(names))


def override_keys(lines: Iterable[Mapping[str, Any]]) -> list[str]:
    """Skus, then categories, then kinds of the order's lines, as safe folder names."""
    keys: list[str] = []
    for field in ("sku", "category", "kind"):
        for line in lines:
            value = line.get(field)
            if isinstance(value, str) and _SAFE_KEY.match(value):
                keys.append(value)
    return list(dict.fromkeys(keys))


def _locale(context: Context) -> Locale:
    language = str(context.get("language") or FALLBACK_LANGUAGE).replace("-", "_")
    for candidate in (language, language.split("_")[0], FALLBACK_LANGUAGE):
        try:
            return Locale.parse(candidate)
        except (ValueError, UnknownLocaleError):
            continue
    return Locale.parse(FALLBACK_LANGUAGE)


@pass_context
def money_filter(context: Context, value: Any, currency: str | None = None) -> str:
    """'12.50' + 'EUR' -> '€12.50' (en) or '12,50 €' (fr)."""
    currency = currency or context.get("order", {}).get("currency") or "EUR"
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    return format_currency(amount, currency, locale=_locale(context))


def _parse_when(value: Any) -> dt.datetime | dt.date | None:
    if isinstance(value, (dt.datetime, dt.date)):
        return value
    if isinstance(value, str) and value:
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


@pass_context
def date_filter(context: Context, value: Any, format: str = "long") -> str:
    """An ISO date or datetime in the message's language ('3 mai 2024'); a time is the day
    it was in the shop's time zone (ordermill.api.format_date: the zone `use_locale` set)."""
    when = _parse_when(value)
    if when is None:
        return "" if value is None else str(value)
    return format_date(when, format, locale=str(_locale(context)))


@pass_context
def datetime_filter(context: Context, value: Any, format: str = "medium") -> str:
    """An ISO datetime in the message's language, at the shop's time zone's clock."""
    when = _parse_when(value)
    if not isinstance(when, dt.datetime):
        return date_filter(context, value)
    return format_datetime(when, format, locale=str(_locale(context)))


class TranslatedLoader(BaseLoader):
    """`fr/x.txt` is `en/x.txt` when no `fr/` template exists and French is shipped: the
    built-in messages are written once and translated, and shop templates that extend
    `builtin/fr/_base.html` keep working."""

    def __init__(self, inner: BaseLoader) -> None:
        self.inner = inner

    def get_source(self, environment: Environment, template: str) -> Any:
        try:
            return self.inner.get_source(environment, template)
        except TemplateNotFound:
            language, _sep, rest = template.partition("/")
            if not rest or language == FALLBACK_LANGUAGE or language not in LANGUAGES:
                raise
            return self.inner.get_source(environment, f"{FALLBACK_LANGUAGE}/{rest}")


def translators(extra: tuple[tuple[str, str], ...] = ()) -> tuple[Any, Any]:
    """`_` and `ngettext` for the templates: this plugin's domain, then the domains other
    plugins give for their messages (`register_email_messages`: "domain", "translations").
    `{{ _("Refund of %(amount)s", amount=...) }}`: in HTML the translation is escaped and the
    parameters too, unless they are Markup (`|strong`)."""
    domains = (i18n, *(Domain(name, directory) for name, directory in extra))

    def lookup(message: str) -> str:
        for domain in domains:
            translated = domain.translations().gettext(message)
            if translated != message:
                return str(translated)
        return message

    def lookup_plural(singular: str, plural: str, num: int) -> str:
        for domain in domains:
            translated = domain.translations().ngettext(singular, plural, num)
            if translated not in (singular, plural):
                return str(translated)
        return singular if num == 1 else plural

    @pass_eval_context
    def gettext_global(eval_ctx: EvalContext, message: str, /, **params: Any) -> str:
        translated = lookup(message)
        if eval_ctx.autoescape:
            return Markup(escape(translated)) % params if params else Markup(escape(translated))
        return translated % params if params else translated

    @pass_eval_context
    def ngettext_global(eval_ctx: EvalContext, singular: str, plural: str, num: int, /,
                        **params: Any) -> str:
        params.setdefault("num", num)
        translated = lookup_plural(singular, plural, num)
        if eval_ctx.autoescape:
            return Markup(escape(translated)) % params
        return translated % params

    return gettext_global, ngettext_global


@pass_eval_context
def strong_filter(eval_ctx: EvalContext, value: Any) -> Any:
    """A value set in bold inside a translated sentence (HTML only; text stays as it is)."""
    if eval_ctx.autoescape:
        return Markup("<strong>%s</strong>") % value
    return value


@functools.lru_cache(maxsize=16)
def environment(template_dir: str | None, extra_dirs: tuple[str, ...] = (),
                extra_domains: tuple[tuple[str, str], ...] = ()) -> Environment:
    """One Jinja environment per override folder, cached so templates compile once.

    `extra_dirs` are the template folders other plugins give with `register_email_messages`:
    searched after the built-in folder under the same `builtin/` prefix, so their messages
    extend `builtin/<lang>/_base.txt` and a shop's `template_dir` overrides them too; their
    `extra_domains` ((name, translations folder)) translate their messages' `_()`."""
    builtin: Any = FileSystemLoader(str(BUILTIN_DIR))
    if extra_dirs:
        builtin = ChoiceLoader([builtin, *(FileSystemLoader(d) for d in extra_dirs)])
    loaders: dict[str, Any] = {"builtin": TranslatedLoader(builtin)}
    if template_dir:
        loaders["shop"] = FileSystemLoader(template_dir)
    env = Environment(
        loader=PrefixLoader(loaders),
        autoescape=select_autoescape(enabled_extensions=("html",), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["money"] = money_filter
    env.filters["date"] = date_filter
    env.filters["datetime"] = datetime_filter
    env.filters["strong"] = strong_filter
    gettext_global, ngettext_global = translators(extra_domains)
    env.globals.update({"_": gettext_global, "gettext": gettext_global,
                        "ngettext": ngettext_global, "line_status": line_status_text})
    return env


def select(env: Environment, candidates: Sequence[str]) -> tuple[str, Template]:
    """The first candidate that exists, with its full name (PrefixLoader forgets the prefix)."""
    for name in candidates:
        try:
            return name, env.get_template(name)
        except TemplateNotFound as error:
            if error.name != name:  # a template that exists but names a missing one
                raise
    raise TemplateNotFound(candidates[-1], f"none of {', '.join(candidates)} exists")


def language_of(name: str, languages: Sequence[str]) -> str:
    """The language folder a template was found in; a language-neutral one speaks the
    customer's first choice."""
    parts = name.split("/")
    if len(parts) >= 3 and parts[1] in languages:
        return parts[1]
    return languages[0]


def _one_line(text: str) -> str:
    return " ".join(text.split())


def render_message(name: str, context: Mapping[str, Any], *, language: str | None,
                   default_language: str = FALLBACK_LANGUAGE,
                   template_dir: Path | None = None,
                   extra_dirs: Sequence[str] = (),
                   extra_domains: Sequence[tuple[str, str]] = (),
                   timezone: str | None = None) -> RenderedMessage:
    """Render the text part (which sets the subject) and the HTML part of one message.

    Dates (`|date`, `|datetime`) are shown in `timezone`, the shop's (else the current one)."""
    env = environment(str(template_dir) if template_dir else None, tuple(extra_dirs),
                      tuple(extra_domains))
    languages = language_chain(language, default_language)
    keys = override_keys(context.get("order", {}).get("lines", []))
    with_shop = template_dir is not None
    text_name, text_template = select(
        env, template_candidates(name, "txt", languages, keys, with_shop=with_shop))
    used_language = language_of(text_name, languages)
    values = {**context, "language": used_language}
    with use_locale(used_language, timezone):
        module = text_template.make_module(values)
        text = str(module).strip() + "\n"
        subject = _one_line(str(getattr(module, "subject", "") or "")) or name.replace("_", " ")
        names = [text_name]
        html: str | None = None
        try:
            html_name, html_template = select(
                env, template_candidates(name, "html", languages, keys, with_shop=with_shop))
        except TemplateNotFound:  # a shop's own message may be text only
            pass
        else:
            html = html_template.render(values)
            names.append(html_name)
    return RenderedMessage(subject, text, html, used_language, tuple(names))
