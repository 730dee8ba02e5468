"""The order page's actions: how each form becomes one core call, and which buttons to show.

Each action reads its form into the arguments of one core function (`mill.orders.*` or
`core.notifications`) and returns the core's ActionResult. A preview runs the very same call
with dry_run=True, so the refund total the admin sees before confirming is computed by the
code that will move the money. Which buttons are worth showing is the core's answer
(`core.available.available_actions`); the core checks everything again when one is pressed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs
from babel.support import LazyProxy
from werkzeug.datastructures import MultiDict

from ordermill.core import queries
from ordermill.core.app import Ordermill
from ordermill.core.available import holds
from ordermill.core.errors import InvalidInput, OrderNotFound
from ordermill.core.i18n import gettext as _
from ordermill.core.i18n import lazy_gettext, ngettext
from ordermill.core.models import Order
from ordermill.core.notifications import resend_confirmation
from ordermill.core.order_links import revoke_customer_links
from ordermill.core.orders import ActionResult
from ordermill.core.requests import LineRequest
from ordermill.core.specs import Actor
from ordermill.web.admin.common import flag, integer, ints, moment, money, text
from ordermill.web.admin.forms import ADDRESS_FIELDS

Runner = Callable[[Ordermill, str, MultiDict[str, str], Actor, int | None, bool], ActionResult]
ACCEPT_TEXT_OPTIONS = ("server", "username", "password", "registrar")
ACCEPT_FLAG_OPTIONS = ("autosetup", "send_registrar", "send_email")


@attrs.frozen
class OrderAction:
    """One action of the order page.

    `dialog`: it has fields, so it opens a dialog (a page without JavaScript);
    `preview`: the dialog offers the core's dry run before confirming.
    """

    name: str
    label: str | LazyProxy  # lazy: shown in the reader's language
    permission: str
    run: Runner
    dialog: bool = False
    preview: bool = False
    style: str = ""
    confirm: str | LazyProxy | None = None
    help: str | LazyProxy = ""


def _currency(mill: Ordermill, number: str) -> str:
    currency = queries.order_currency(mill, number)
    if currency is None:
        raise OrderNotFound(_("No order %(number)s.", number=number),
                            details={"number": number})
    return currency


def _lines(form: MultiDict[str, str], refusal: str) -> list[tuple[int, int | None]]:
    picked = _picked_units(form)
    if not picked:
        raise InvalidInput(refusal, details={"field": "line_ids"})
    return picked


def _picked_units(form: MultiDict[str, str]) -> list[tuple[int, int | None]]:
    """The ticked lines with the quantity picked beside each (`quantity_<id>`; left out:
    the whole line); the core checks the quantities against the lines."""
    return [(line_id, integer(form, f"quantity_{line_id}"))
            for line_id in ints(form, "line_ids")]


def _accept(mill: Ordermill, number: str, form: MultiDict[str, str], actor: Actor,
            version: int | None, dry_run: bool) -> ActionResult:
    options: dict[str, Any] = {}
    for key in ACCEPT_TEXT_OPTIONS:
        value = text(form, key)
        if value:
            options[key] = value
    if flag(form, "has_options"):
        options.update({key: flag(form, key) for key in ACCEPT_FLAG_OPTIONS})
    per_line = _per_line_credentials(form)
    if per_line:
        options["lines"] = per_line
    return mill.orders.accept(number, actor=actor, options=options or None,
                              expected_version=version, dry_run=dry_run,
                              comment=text(form, "comment"))


def _per_line_credentials(form: MultiDict[str, str]) -> dict[str, dict[str, str]]:
    """The accept dialog's username / password per service line (fields
    `line_username_<id>`, `line_password_<id>`), as the options' "lines"."""
    found: dict[str, dict[str, str]] = {}
    for field in form:
        for key in ("username", "password"):
            prefix = f"line_{key}_"
            if field.startswith(prefix) and field[len(prefix):].isdigit():
                value = text(form, field)
                if value:
                    found.setdefault(field[len(prefix):], {})[key] = value
    return found


def _cancel(mill: Ordermill, number: str, form: MultiDict[str, str], actor: Actor,
            version: int | None, dry_run: bool) -> ActionResult:
    lines = _lines(form, _("Tick the lines to cancel."))
    return mill.orders.cancel(number, actor=actor, lines=lines,
                              restock=flag(form, "restock"), expected_version=version,
                              dry_run=dry_run, comment=text(form, "comment"),
                              notify_customer=flag(form, "notify_customer"))


def _refund(mill: Ordermill, number: str, form: MultiDict[str, str], actor: Actor,
            version: int | None, dry_run: bool) -> ActionResult:
    picked = _picked_units(form)
    amount = money(form, "amount", _currency(mill, number))
    if not picked and amount is None:
        raise InvalidInput(_("Tick the lines to refund, or type an amount to refund."),
                           details={"field": "line_ids"})
    return mill.orders.refund(number, actor=actor, lines=picked or None, amount=amount,
                              restock=flag(form, "restock"), expected_version=version,
                              dry_run=dry_run, comment=text(form, "comment"),
                              notify_customer=flag(form, "notify_customer"),
                              manual=flag(form, "manual_refund"))


def _cancel_and_refund(mill: Ordermill, number: str, form: MultiDict[str, str], actor: Actor,
                       version: int | None, dry_run: bool) -> ActionResult:
    return mill.orders.cancel_and_refund(number, actor=actor, restock=flag(form, "restock"),
                                         expected_version=version, dry_run=dry_run,
                                         comment=text(form, "comment"),
                                         manual=flag(form, "manual_refund"))


def _fraud(mill: Ordermill, number: str, form: MultiDict[str, str], actor: Actor,
           version: int | None, dry_run: bool) -> ActionResult:
    return mill.orders.mark_fraud(number, actor=actor, expected_version=version,
                                  dry_run=dry_run, comment=text(form, "comment"))


def _pending(mill: Ordermill, number: str, form: MultiDict[str, str], actor: Actor,
             version: int | None, dry_run: bool) -> ActionResult:
    return mill.orders.set_back_to_pending(number, actor=actor, expected_version=version,
                                           dry_run=dry_run, comment=text(form, "comment"))


def _status(mill: Ordermill, number: str, form: MultiDict[str, str], actor: Actor,
            version: int | None, dry_run: bool) -> ActionResult:
    status = text(form, "status")
    if not status:
        raise InvalidInput(_("Choose the new status."), details={"field": "status"})
    return mill.orders.set_status(number, status, actor=actor, expected_version=version,
                                  dry_run=dry_run, comment=text(form, "comment"))


def _mark_paid(mill: Ordermill, number: str, form: MultiDict[str, str], actor: Actor,
               version: int | None, dry_run: bool) -> ActionResult:
    return mill.orders.mark_paid(number, actor=actor, expected_version=version,
                                 dry_run=dry_run, reference=text(form, "reference"),
                                 comment=text(form, "comment"),
                                 notify_customer=flag(form, "notify_customer"))


def _record_payment(mill: Ordermill, number: str, form: MultiDict[str, str], actor: Actor,
                    version: int | None, dry_run: bool) -> ActionResult:
    currency = _currency(mill, number)
    amount = money(form, "amount", currency)
    if amount is None:
        raise InvalidInput(_("Type the amount received."), details={"field": "amount"})
    fee = money(form, "fee", currency) or 0
    return mill.orders.record_payment(
        number, actor=actor, amount=amount, gateway=text(form, "gateway"),
        reference=text(form, "reference"), fee=fee, manual=True, note=text(form, "note"),
        expected_version=version, dry_run=dry_run, comment=text(form, "comment"),
        notify_customer=flag(form, "notify_customer"))


def _resend(mill: Ordermill, number: str, form: MultiDict[str, str], actor: Actor,
            version: int | None, dry_run: bool) -> ActionResult:
    result = resend_confirmation(mill, number, actor)
    message = ngettext("Order confirmation sent again (%(num)s message queued).",
                       "Order confirmation sent again (%(num)s messages queued).", result.jobs)
    return ActionResult(None, None, {"message": message})


def _revoke_links(mill: Ordermill, number: str, form: MultiDict[str, str], actor: Actor,
                  version: int | None, dry_run: bool) -> ActionResult:
    return revoke_customer_links(mill, number, actor=actor, expected_version=version,
                                 dry_run=dry_run, comment=text(form, "comment"))


def _rerun_fraud(mill: Ordermill, number: str, form: MultiDict[str, str], actor: Actor,
                 version: int | None, dry_run: bool) -> ActionResult:
    return mill.orders.rerun_fraud_check(number, actor=actor, expected_version=version)


def _issue_invoice(mill: Ordermill, number: str, form: MultiDict[str, str], actor: Actor,
                   version: int | None, dry_run: bool) -> ActionResult:
    return mill.orders.issue_invoice(number, actor=actor, expected_version=version,
                                     dry_run=dry_run, comment=text(form, "comment"))


def _delete(mill: Ordermill, number: str, form: MultiDict[str, str], actor: Actor,
            version: int | None, dry_run: bool) -> ActionResult:
    choice = text(form, "restock")
    if choice not in ("yes", "no"):
        raise InvalidInput(_("Choose whether the stock goes back on sale."),
                           details={"field": "restock"})
    return mill.orders.delete(number, actor=actor, restock=choice == "yes",
                              expected_version=version, dry_run=dry_run)


def line_requests(mill: Ordermill, form: MultiDict[str, str], currency: str | None
                  ) -> list[LineRequest]:
    """The product rows of Add products / Add New Order; blank rows are skipped.

    A price override is read in its product's currency, as the API does.
    """
    skus = form.getlist("sku")
    columns = {name: form.getlist(name) for name in
               ("quantity", "price_override", "domain", "billing_cycle", "attendee")}

    def cell(name: str, index: int) -> str | None:
        values = columns[name]
        value = values[index].strip() if index < len(values) else ""
        return value or None

    known = queries.currencies_of_skus(mill, [sku.strip() for sku in skus])
    requests = []
    for index, raw in enumerate(skus):
        sku = raw.strip()
        if not sku:
            continue
        quantity_text = cell("quantity", index) or "1"
        try:
            quantity = int(quantity_text)
        except ValueError:
            raise InvalidInput(_("Quantity of %(sku)s must be a whole number.", sku=sku),
                               details={"field": "quantity"}) from None
        price = money({"price_override": cell("price_override", index)}, "price_override",
                      known.get(sku, currency or mill.settings.default_currency))
        requests.append(LineRequest(sku=sku, quantity=quantity, price_override=price,
                                    domain=cell("domain", index),
                                    billing_cycle=cell("billing_cycle", index),
                                    attendee=cell("attendee", index)))
    if not requests:
        raise InvalidInput(_("Choose at least one product."), details={"field": "sku"})
    return requests


def _add_lines(mill: Ordermill, number: str, form: MultiDict[str, str], actor: Actor,
               version: int | None, dry_run: bool) -> ActionResult:
    lines = line_requests(mill, form, _currency(mill, number))
    return mill.orders.add_lines(number, lines, actor=actor, expected_version=version,
                                 dry_run=dry_run, comment=text(form, "comment"))


def _buyer(mill: Ordermill, number: str, form: MultiDict[str, str], actor: Actor,
           version: int | None, dry_run: bool) -> ActionResult:
    order = mill.orders.get(number, actor=actor)
    address = dict(order.billing_address or {})
    for key in ADDRESS_FIELDS:
        value = text(form, key)
        if value:
            address[key] = value
        else:
            address.pop(key, None)
    changes: dict[str, Any] = {"name": text(form, "name") or "",
                               "email": text(form, "email") or "",
                               "phone": text(form, "phone"), "billing_address": address,
                               "language": text(form, "language") or order.language}
    return mill.orders.edit_buyer(number, changes, actor=actor, expected_version=version,
                                  dry_run=dry_run)


def _comment(mill: Ordermill, number: str, form: MultiDict[str, str], actor: Actor,
             version: int | None, dry_run: bool) -> ActionResult:
    return mill.orders.add_comment(number, text(form, "text") or "", actor=actor,
                                   notify_customer=flag(form, "notify_customer"),
                                   visible_to_customer=flag(form, "visible_to_customer"),
                                   expected_version=version, dry_run=dry_run)


def _fulfil(verb: str) -> Runner:
    def run(mill: Ordermill, number: str, form: MultiDict[str, str], actor: Actor,
            version: int | None, dry_run: bool) -> ActionResult:
        at = moment(form, "date", "time")
        method = mill.orders.mark_dispatched if verb == "dispatched" else \
            mill.orders.mark_delivered
        return method(number, actor=actor, at=at, expected_version=version,
                      comment=text(form, "comment"),
                      notify_customer=flag(form, "notify_customer"), dry_run=dry_run)

    return run


ACTIONS: dict[str, OrderAction] = {action.name: action for action in (
    OrderAction("accept", lazy_gettext("Accept order"), "edit_orders", _accept, dialog=True,
                style="primary", help=lazy_gettext(
                    "Pending to active; provisioning modules set up the services with these "
                    "details.")),
    OrderAction("mark-paid", lazy_gettext("Mark as paid"), "record_payments", _mark_paid,
                dialog=True, preview=True, help=lazy_gettext(
                    "Records everything still due as received (cheque, invoice, bank "
                    "transfer).")),
    OrderAction("payment", lazy_gettext("Record payment"), "record_payments", _record_payment,
                dialog=True, preview=True,
                help=lazy_gettext("Money received, in full or in part.")),
    OrderAction("cancel", lazy_gettext("Cancel…"), "edit_orders", _cancel, dialog=True,
                preview=True, style="warn", help=lazy_gettext(
                    "Tick the lines to cancel. Cancelling is final; the lines can still be "
                    "refunded later.")),
    OrderAction("refund", lazy_gettext("Refund…"), "refund", _refund, dialog=True,
                preview=True, style="warn", help=lazy_gettext(
                    "Tick the lines to refund (refunded lines are cancelled too), or type an "
                    "amount for a goodwill refund.")),
    OrderAction("cancel-and-refund", lazy_gettext("Cancel & refund"), "refund",
                _cancel_and_refund, dialog=True, preview=True, style="danger",
                help=lazy_gettext("Cancels every line and refunds all money captured.")),
    OrderAction("fraud", lazy_gettext("Set as fraud"), "manage_fraud", _fraud, style="danger",
                confirm=lazy_gettext(
                    "Set this order as fraud? Its open invoices are cancelled.")),
    OrderAction("pending", lazy_gettext("Back to pending"), "manage_fraud", _pending,
                confirm=lazy_gettext("Set this order back to pending?")),
    OrderAction("status", lazy_gettext("Change status"), "edit_orders", _status, dialog=True,
                preview=True, help=lazy_gettext("Statuses only: no module commands run.")),
    OrderAction("resend", lazy_gettext("Resend confirmation"), "edit_orders", _resend),
    OrderAction("revoke-link", lazy_gettext("Revoke customer link"), "edit_orders",
                _revoke_links, confirm=lazy_gettext(
                    "Revoke the customer's order links? Links e-mailed so far stop working; "
                    "the next e-mail carries a new one.")),
    OrderAction("fraud-check", lazy_gettext("Re-run fraud check"), "manage_fraud",
                _rerun_fraud),
    OrderAction("delete", lazy_gettext("Delete…"), "delete_orders", _delete, dialog=True,
                preview=True, style="danger", help=lazy_gettext(
                    "Deletes the order for good. Only unpaid, cancelled or fraud orders with "
                    "no money kept can be deleted.")),
    OrderAction("add-lines", lazy_gettext("Add products"), "edit_orders", _add_lines,
                dialog=True, preview=True, help=lazy_gettext(
                    "Priced from the catalogue (the order's promo applies); a new invoice "
                    "asks for the difference.")),
    OrderAction("buyer", lazy_gettext("Edit buyer"), "edit_orders", _buyer, dialog=True),
    OrderAction("comment", lazy_gettext("Add comment"), "edit_orders", _comment, dialog=True),
    OrderAction("dispatch", lazy_gettext("Mark dispatched"), "edit_orders",
                _fulfil("dispatched"), dialog=True),
    OrderAction("deliver", lazy_gettext("Mark delivered"), "edit_orders",
                _fulfil("delivered"), dialog=True),
    OrderAction("issue-invoice", lazy_gettext("Issue invoice"), "edit_orders", _issue_invoice,
                confirm=lazy_gettext(
                    "Issue the invoice? It gets its number and can no longer change.")),
)}

TOOLBAR = ("accept", "mark-paid", "payment", "cancel", "refund", "cancel-and-refund",
           "fraud", "pending", "status", "resend", "fraud-check", "delete", "issue-invoice")
# "revoke-link" sits on the order page's "Customer page" card, beside the link it revokes
# each button of the order page stands for one core action (core.available names them)
CORE_ACTION = {
    "accept": "accept", "mark-paid": "mark_paid", "payment": "record_payment",
    "cancel": "cancel", "refund": "refund", "cancel-and-refund": "cancel_and_refund",
    "fraud": "mark_fraud", "pending": "set_back_to_pending", "status": "set_status",
    "resend": "resend_confirmation", "revoke-link": "revoke_customer_links",
    "fraud-check": "rerun_fraud_check", "delete": "delete", "add-lines": "add_lines",
    "buyer": "edit_buyer", "comment": "add_comment", "dispatch": "mark_dispatched",
    "deliver": "mark_delivered", "issue-invoice": "issue_invoice",
}


def visible_actions(mill: Ordermill, order: Order, actor: Actor) -> list[str]:
    """The order page's buttons for this order and user: the core's available actions
    (core.available), as the page names them.

    A hint only: hiding a button never replaces the core's checks, and the core's refusal
    (with its reason) is what a user sees if a shown button turns out not to apply.
    """
    available = set(mill.orders.available_actions(order, actor))
    return [name for name, action in ACTIONS.items()
            if CORE_ACTION[name] in available and holds(actor, action.permission)]


def preview_payload(result: ActionResult, currency: str, labels: Mapping[str, str]
                    ) -> dict[str, Any]:
    """The dry run as the dialogs show it: the refund total, stock and status changes."""
    from ordermill.web.admin.common import format_money, gateway_label

    preview = dict(result.preview)
    status = preview.get("status") or {}
    summary = preview.get("summary") or {}
    paid = preview.get("payment_status") or {}
    refunded = preview.get("amount_refunded") or "0"
    return {
        "ok": True,
        "message": preview.get("plan") or preview.get("message", ""),
        "amount_refunded": refunded,
        "amount_refunded_display": format_money(refunded, currency),
        "currency": currency,
        "refunds": [{"gateway": gateway_label(r.get("gateway")),
                     "amount": format_money(r.get("amount"), currency),
                     "automatic": bool(r.get("automatic")),
                     "not_configured": bool(r.get("not_configured"))}
                    for r in preview.get("refunds", [])],
        "stock_released": dict(preview.get("stock_released") or {}),
        "status_from": labels.get(status.get("from") or "", status.get("from")),
        "status_to": labels.get(status.get("to") or "", status.get("to")),
        "summary_from": summary.get("from"), "summary_to": summary.get("to"),
        "payment_status_to": (paid.get("to") or "").replace("_", " "),
        "jobs": list(preview.get("jobs") or []),
    }
