"""What every admin view shares: the app's Ordermill, the acting staff member, reading form
fields, and the display helpers templates call (money, dates, status badges).

Nothing here decides what an order may do: parsing turns text into the types the core
takes, and the core answers with an error a view shows as it is.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import abort, current_app, request
from flask_login import current_user
from flask_wtf.csrf import validate_csrf
from markupsafe import Markup, escape
from werkzeug.datastructures import MultiDict
from wtforms.validators import ValidationError

from ordermill.core.app import Ordermill
from ordermill.core.errors import InvalidInput, PluginError
from ordermill.core.event_types import event_type_label
from ordermill.core.i18n import N_, current_locale, parse_amount, plugin_text
from ordermill.core.i18n import format_date as locale_date
from ordermill.core.i18n import format_datetime as locale_datetime
from ordermill.core.i18n import format_money as locale_money
from ordermill.core.i18n import gettext as _
from ordermill.core.labels import gateway_label as core_gateway_label
from ordermill.core.labels import status_label, summary_label
from ordermill.core.money import Money
from ordermill.core.specs import Actor, AdminLink, same_site_path

PAYMENT_STATUS_COLOURS = {
    "unpaid": "#b45309", "partially_paid": "#ca8a04", "paid": "#15803d",
    "partially_refunded": "#7c3aed", "refunded": "#6d28d9",
}
LINE_STATUS_COLOURS = {"active": "#15803d", "cancelled": "#4b5563", "refunded": "#7c3aed"}
# The words the payment column and the line/service badges show, translated where shown.
PAYMENT_LABELS = {"unpaid": N_("Unpaid"), "partially_paid": N_("Partially paid"),
                  "paid": N_("Paid"), "partially_refunded": N_("Partially refunded"),
                  "refunded": N_("Refunded")}
LINE_LABELS = {"active": N_("Active"), "cancelled": N_("Cancelled"), "refunded": N_("Refunded"),
               "pending": N_("Pending"), "failed": N_("Failed"), "suspended": N_("Suspended"),
               "terminated": N_("Terminated"), "valid": N_("Valid"), "void": N_("Void"),
               "checked_in": N_("Checked in")}
# Internal names the admin shows as words: history event types, document and payment
# states, stock-move reasons. An unknown name (a plugin's) reads as a capitalised name.
TERMS = {
    "placed": N_("Placed"), "accepted": N_("Accepted"), "cancelled": N_("Cancelled"),
    "comment": N_("Comment"), "deleted": N_("Deleted"), "fraud": N_("Fraud"),
    "fraud_checked": N_("Fraud checked"), "lines_added": N_("Lines added"),
    "buyer_edited": N_("Buyer edited"), "payment": N_("Payment"), "paid": N_("Paid"),
    "payment_flagged": N_("Payment flagged"), "refund_flagged": N_("Refund flagged"),
    "refund_updated": N_("Refund updated"), "refunded": N_("Refunded"),
    "refund": N_("Refund"), "pending": N_("Pending"), "status_changed": N_("Status changed"),
    "invoice_issued": N_("Invoice issued"), "dispatched": N_("Dispatched"),
    "delivered": N_("Delivered"), "gateway_flagged": N_("Gateway flagged"),
    "hook_failed": N_("Hook failed"), "customer_merged": N_("Customer merged"),
    "buyer_erased": N_("Buyer erased"), "ticket_checked_in": N_("Ticket checked in"),
    "provisioned": N_("Provisioned"), "issued": N_("Issued"), "draft": N_("Draft"),
    "void": N_("Void"), "unpaid": N_("Unpaid"), "succeeded": N_("Succeeded"),
    "failed": N_("Failed"), "order_deleted": N_("Order deleted"), "sale": N_("Sale"),
    "restock": N_("Restock"), "count": N_("Count"), "correction": N_("Correction"),
    "return": N_("Return"), "damaged": N_("Damaged"), "lost": N_("Lost"),
    "received": N_("Received"), "counted": N_("Counted"), "created": N_("Created"),
    "updated": N_("Updated"),
    "unchanged": N_("Unchanged"), "refused": N_("Refused"), "active": N_("Active"),
    "disabled": N_("Disabled"), "admin": N_("Admin"), "manager": N_("Manager"),
    "support": N_("Support"), "viewer": N_("Viewer"), "product": N_("Product"),
    "ticket": N_("Ticket"), "service": N_("Service"), "domain": N_("Domain"),
    "digital": N_("Digital"), "physical": N_("Physical"), "shipping": N_("Shipping"),
    "fee": N_("Fee"), "tax": N_("Tax"), "discount": N_("Discount"),
    "monthly": N_("Monthly"), "quarterly": N_("Quarterly"),
    "semiannually": N_("Semiannually"), "annually": N_("Annually"),
    "biennially": N_("Biennially"), "onetime": N_("One time"), "write_off": N_("Write-off"),
    "adjustment": N_("Adjustment"), "charge": N_("Payment"), "standard": N_("Standard"),
    "reduced": N_("Reduced"), "zero": N_("Zero"), "exempt": N_("Exempt"),
    "completed": N_("Completed"), "fraud_check_failed": N_("Fraud check failed"),
    "customer_edited": N_("Customer edited"), "note_added": N_("Note added"),
    "exported": N_("Exported"), "erased": N_("Erased"),
}
SERVICE_STATUS_COLOURS = {"active": "#15803d", "pending": "#b45309", "failed": "#dc2626",
                          "suspended": "#ca8a04", "terminated": "#4b5563",
                          "cancelled": "#4b5563", "valid": "#15803d", "void": "#4b5563",
                          "checked_in": "#2563eb"}


def mill() -> Ordermill:
    """The Ordermill of the running app."""
    return current_app.extensions["ordermill"]  # type: ignore[no-any-return]


def actor() -> Actor:
    """The logged-in staff member as a core Actor (views run behind login_required)."""
    return current_user.actor  # type: ignore[no-any-return]


def form_actor() -> Actor:
    """For a plugin's admin form post (an OrderButton's route): 401 unless a staff member is
    logged in, 400 unless the form carries the admin's CSRF token (`csrf_token`); then the
    staff member as a core Actor. The admin blueprint checks CSRF itself; a plugin's
    blueprint calls this (`ordermill.api.admin_form_actor`)."""
    if not current_user.is_authenticated:
        abort(401, description=_("Log in to the admin first."))
    try:
        validate_csrf(request.form.get("csrf_token"))
    except ValidationError:
        abort(400, description=_("The form has expired: reload the page and try again."))
    return actor()


def can(permission: str) -> bool:
    """Whether to show a control: the core checks the permission again when it is used."""
    if not current_user.is_authenticated:
        return False
    return permission in mill().permissions.of(current_user.actor.role)


def safe_next(target: str | None, default: str) -> str:
    """A redirect target inside the admin only, else `default`.

    Only a same-site path starting with a single slash under /admin is followed: never
    another site (open redirects: a scheme, a double slash, a backslash, which browsers read
    as a slash), never a control character (CR/LF would split the Location header, and
    browsers drop tabs and newlines, which would turn "/<tab>/evil" into "//evil"), and no
    "." or ".." segment (also percent-encoded) that climbs out of /admin.
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or any(ord(char) < 0x20 or ord(char) == 0x7F for char in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    if parts.path != "/admin" and not parts.path.startswith("/admin/"):
        return default
    if any(unquote(segment) in (".", "..") for segment in parts.path.split("/")):
        return default
    return target


# ---------------------------------------------------------------------------- form fields


def text(form: Mapping[str, Any], name: str) -> str | None:
    """A stripped text field, None when empty."""
    value = form.get(name)
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def flag(form: Mapping[str, Any], name: str) -> bool:
    """A checkbox: ticked when sent with any of the usual 'on' values."""
    return str(form.get(name, "")).strip().lower() in {"on", "1", "true", "yes", "y"}


def ints(form: MultiDict[str, str], name: str) -> list[int]:
    """Every value of a repeated field as integers (ticked line ids)."""
    values = []
    for raw in form.getlist(name):
        try:
            values.append(int(raw))
        except ValueError:
            raise InvalidInput(_("%(value)s is not a line number.", value=repr(raw)),
                               details={"field": name}) from None
    return values


def integer(form: Mapping[str, Any], name: str, default: int | None = None) -> int | None:
    raw = text(form, name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise InvalidInput(_("%(field)s must be a whole number.", field=field_label(name)),
                           details={"field": name}) from None


#: how form errors name the fields they refuse (English source; translated when shown)
FIELD_LABELS = {"amount": N_("Amount"), "fee": N_("Fee"), "price_override": N_("Price override"),
                "quantity": N_("Quantity"), "version": N_("Version"), "price": N_("Price"),
                "date": N_("Date"), "from": N_("From"), "to": N_("To")}


def field_label(name: str) -> str:
    """'price_override' -> 'Price override', in the reader's language when it is known."""
    known = FIELD_LABELS.get(name)
    return _(known) if known else name.replace("_", " ").capitalize()


#: what a typed amount may look like: digits and a decimal part, or thousands in groups of
#: three with one group mark (".", ",", a space) and another decimal mark; "12.5.3" or
#: "1,234,5" are typos, never 1253 or 12345
AMOUNT_SHAPE = re.compile(
    r"^-?(?:[0-9]+(?:[.,][0-9]+)?"
    r"|[0-9]{1,3}(?P<g>[.,\u00a0\u202f ])[0-9]{3}(?:(?P=g)[0-9]{3})*(?:(?!(?P=g))[.,][0-9]+)?)$")


def typed_amount(raw: str, currency: str) -> str:
    """An amount a person typed, in the reader's locale ("12,50" in French), as the decimal
    text the core reads ("12.50"). ValueError with a sentence for that person when it is not
    an amount or could be read two ways ("1.234" in French: AmbiguousAmount)."""
    if not AMOUNT_SHAPE.match(raw.strip()):
        raise ValueError(_("%(text)s is not an amount.", text=raw.strip()))
    return parse_amount(raw, currency)


def money(form: Mapping[str, Any], name: str, currency: str) -> Money | None:
    """A decimal amount typed by staff in the order's currency, in the reader's locale
    ("12,50" in French, "12.50" in English); an ambiguous text ("1.234" in French: a thousand
    or one and a bit?) is refused with a sentence saying so, as the core's parser says why it
    refuses the rest."""
    raw = text(form, name)
    if raw is None:
        return None
    try:
        return Money.parse(typed_amount(raw, currency), currency)
    except InvalidInput as error:
        problem = error.message
    except ValueError as error:  # not an amount, or ambiguous (AmbiguousAmount)
        problem = str(error)
    raise InvalidInput(_("%(field)s: %(problem)s", field=field_label(name), problem=problem),
                       details={"field": name})


def day(value: str | None, name: str) -> dt.date | None:
    """A YYYY-MM-DD field."""
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(_("%(field)s must be a date like 2024-06-30.", field=name),
                           details={"field": name}) from None


def moment(form: Mapping[str, Any], date_field: str, time_field: str) -> dt.datetime | None:
    """A date (and optional HH:MM time) typed in the admin, read as UTC."""
    date = day(text(form, date_field), field_label(date_field))
    if date is None:
        return None
    clock = text(form, time_field)
    hour_minute = dt.time(12, 0)
    if clock:
        try:
            hour_minute = dt.time.fromisoformat(clock)
        except ValueError:
            raise InvalidInput(_("The time must look like 14:30."),
                               details={"field": time_field}) from None
    return dt.datetime.combine(date, hour_minute, dt.UTC)


# ---------------------------------------------------------------------------- display


def format_money(amount: Any, currency: str | None) -> str:
    """'12.50' or 1250 (minor units) in `currency` -> '€12.50' (en), '12,50 €' (fr),
    'Rp150.000' (id): babel in the reader's locale; blanks stay blank."""
    if amount is None or amount == "" or not currency:
        return ""
    try:
        if isinstance(amount, int) and not isinstance(amount, bool):
            return locale_money(amount, currency)
        return locale_money(Money.parse(str(amount), currency, allow_negative=True).amount,
                            currency)
    except (InvalidInput, InvalidOperation, ValueError):
        return f"{amount} {currency}"


def as_datetime(value: Any) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value
    try:
        return dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None


# English keeps the sortable ISO form staff know; other locales get babel's short form.
ISO_PATTERNS = {True: "yyyy-MM-dd HH:mm", False: "yyyy-MM-dd"}


def when(value: Any, with_time: bool = True) -> str:
    """An ISO string or datetime in the shop's time zone and the reader's locale:
    '2024-06-01 14:03' (en), '01/06/2024 14:03' (fr); '' for nothing."""
    moment_ = as_datetime(value)
    if moment_ is None:
        return ""
    if moment_.tzinfo is None:
        moment_ = moment_.replace(tzinfo=dt.UTC)
    locale = current_locale()
    if locale in ("en", "en_XA"):
        return locale_datetime(moment_, ISO_PATTERNS[with_time])
    if not with_time:
        return locale_date(moment_, "short")
    return locale_datetime(moment_, "short")


def badge(label: str, colour: str, title: str | None = None) -> Markup:
    """A coloured pill; the colour comes from the status registry or a fixed map."""
    tip = f' title="{escape(title)}"' if title else ""
    return Markup(
        f'<span class="badge" style="--badge: {escape(colour)}"{tip}>{escape(label)}</span>')


def status_badge(name: str | None) -> Markup:
    """The workflow status with the colour and label the registry gives it."""
    if not name:
        return Markup("")
    registry = mill().statuses
    if name in registry:
        spec = registry.get(name)
        return badge(status_label(mill(), name), spec.colour, spec.description or None)
    return badge(name, "#6b7280")


def payment_badge(name: str | None) -> Markup:
    if not name:
        return Markup("")
    return badge(payment_label(name), PAYMENT_STATUS_COLOURS.get(name, "#6b7280"))


def payment_label(name: str) -> str:
    """'partially_paid' -> 'Partially paid' (translated): the payment column's words."""
    label = PAYMENT_LABELS.get(name)
    return _(label) if label else name.replace("_", " ").capitalize()


def term(name: str | None) -> str:
    """An internal name as the reader's word: 'order_deleted' -> 'Order deleted'."""
    if not name:
        return ""
    known = TERMS.get(name)
    return _(known) if known else name.replace("_", " ").capitalize()


def event_type(name: str | None) -> str:
    """A history event's type as the reader's word: the core's word for its own types, else
    the label the plugin that writes it registered (register_event_types), else the name
    made readable ('order_deleted' -> 'Order deleted')."""
    if not name:
        return ""
    if name in TERMS:
        return term(name)
    return event_type_label(mill(), name) or term(name)


def header_summary(summary: str, payment_status: str, status_label: str) -> str | None:
    """The line summary for the order page's header, or None when it only repeats the
    status or payment badge beside it ("Pending · Paid · Complete" reads as three states)."""
    english = PAYMENT_LABELS.get(payment_status, payment_label(payment_status))
    if summary in (payment_label(payment_status), english, status_label, "Complete",
                   _("Complete")):
        return None
    return summary_label(summary)


def line_badge(name: str | None) -> Markup:
    if not name:
        return Markup("")
    label = LINE_LABELS.get(name)
    return badge(_(label) if label else name.capitalize(),
                 LINE_STATUS_COLOURS.get(name, SERVICE_STATUS_COLOURS.get(name, "#6b7280")))


def gateway_label(name: str | None) -> str:
    """The registry's label, as the core's messages name the gateway."""
    return core_gateway_label(mill(), name)


def money_list(amounts: Mapping[str, Any]) -> str:
    """{'EUR': '5.00', 'USD': '6.00'} -> '€5.00, $6.00' in the reader's locale."""
    return ", ".join(format_money(amount, currency) for currency, amount in amounts.items())


def decimal_text(value: Any) -> str:
    try:
        return f"{Decimal(str(value)):.2f}"
    except (InvalidOperation, ValueError):
        return str(value)


def query_with(args: Mapping[str, Any], **changes: Any) -> str:
    """The current query string with some parameters changed (sort links, pages)."""
    from urllib.parse import urlencode

    pairs: list[tuple[str, str]] = []
    source = args if isinstance(args, MultiDict) else MultiDict(args)
    for key in source:
        if key in changes:
            continue
        pairs.extend((key, value) for value in source.getlist(key) if value not in ("", None))
    for key, value in changes.items():
        if value is None or value == "":
            continue
        if isinstance(value, (list, tuple)):
            pairs.extend((key, str(item)) for item in value)
        else:
            pairs.append((key, str(value)))
    return "?" + urlencode(pairs) if pairs else "?"


def template_helpers() -> dict[str, Any]:
    """The functions every admin template may call."""
    return {
        "can": can, "money": format_money, "when": when, "status_badge": status_badge,
        "payment_badge": payment_badge, "line_badge": line_badge, "badge": badge,
        "gateway_label": gateway_label, "decimal_text": decimal_text, "term": term,
        "event_type": event_type,
        "money_list": money_list, "payment_label": payment_label, "summary_label": summary_label,
        "plugin_text": plugin_text,
        "status_label": lambda name: status_label(mill(), name),
        "status_labels": lambda names: ", ".join(status_label(mill(), name) for name in names),
        "query_with": lambda **changes: query_with(request.args, **changes),
        "plugin_menu_links": lambda: menu_links(mill(), actor())
        if current_user.is_authenticated else [],
    }


def nonblank(values: Iterable[str | None]) -> list[str]:
    return [value for value in values if value]


def menu_links(app: Ordermill, who: Actor) -> list[AdminLink]:
    """The plugins' admin_menu_links this actor may see (its role holds their permission).

    A returned object that is no AdminLink, an href off this site or an unknown permission
    is a PluginError naming the plugin: create_app asks once with a system actor, so a bad
    link stops start-up rather than one page.
    """
    table = app.permissions
    held = table.of(who.role)
    shown: list[AdminLink] = []
    for plugin, returned in app.plugins.call("admin_menu_links", actor=who).results:
        for link in returned:
            problem = None
            if not isinstance(link, AdminLink):
                problem = f"returned {link!r}, not an AdminLink"
            elif not same_site_path(link.href):
                problem = f"returned the link {link.href!r}, which is not a path on this site"
            elif link.permission is not None and link.permission not in table.labels:
                problem = f"returned a link for unknown permission {link.permission!r}"
            if problem:
                raise PluginError(app.plugins.describe(plugin), "admin_menu_links", problem)
            if link.permission is None or link.permission in held:
                shown.append(link)
    return shown

