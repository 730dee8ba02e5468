"""The order desk: the orders table, one order's page and its actions, bulk actions,
Add New Order, invoices and receipts, and the payments tab.

Views translate only: form fields in, one core call (with the staff member as actor), a
page or a redirect with the core's own message out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from flask import (
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from ordermill.core import billing, queries
from ordermill.core.admin_specs import plugin_data_of
from ordermill.core.available import order_facts, status_targets
from ordermill.core.customers import lookup_customers
from ordermill.core.errors import InvalidInput, NotFound, OrdermillError, PermissionDenied
from ordermill.core.i18n import gettext as _
from ordermill.core.i18n import ngettext
from ordermill.core.labels import status_label
from ordermill.core.models import Order
from ordermill.core.notifications import (
    MAX_BULK_RESEND,
    customer_can_be_notified,
    customer_order_link,
    resend_confirmations,
)
from ordermill.core.orders import ActionResult
from ordermill.core.permissions import require
from ordermill.core.requests import CustomerDetails, OrderRequest
from ordermill.core.serialize import money_text, order_to_dict
from ordermill.core.statuses import amount_due
from ordermill.web.admin import admin_bp, extensions, lookups
from ordermill.web.admin.actions import (
    ACTIONS,
    TOOLBAR,
    OrderAction,
    line_requests,
    preview_payload,
    visible_actions,
)
from ordermill.web.admin.common import (
    actor,
    can,
    day,
    field_label,
    flag,
    header_summary,
    integer,
    mill,
    safe_next,
    text,
)
from ordermill.web.admin.forms import ADDRESS_FIELDS, BuyerForm, CommentForm
from ordermill.web.api.csvout import csv_response, day_range

SORTABLE = {"number": "number", "date": "placed_at", "buyer": "buyer_name",
            "status": "status", "amount": "total"}
PER_PAGE_CHOICES = (25, 50, 100)
TABS = ("all", "pending")


# ---------------------------------------------------------------------------- the list


def _list_filters(args: MultiDict[str, str], tab: str) -> queries.OrderFilters:
    """The orders table's search box and filters as the core's OrderFilters."""
    first = day(args.get("from"), field_label("from"))
    last = day(args.get("to"), field_label("to"))
    start, end = day_range(first, last)
    statuses = tuple(value for value in args.getlist("status") if value)
    if tab == "pending":
        registry = mill().statuses
        statuses = tuple(spec.name for spec in registry if spec.category == "pending")
    return queries.OrderFilters(
        q=text(args, "q"), statuses=statuses,
        payment_statuses=tuple(v for v in args.getlist("payment_status") if v),
        payment_methods=tuple(v for v in args.getlist("payment_method") if v),
        promo_code=text(args, "promo"), sku=text(args, "product"),
        category=text(args, "category"), placed_from=start, placed_before=end,
        needs_attention=True if flag(args, "attention") else None,
        numbers=tuple(v.strip() for v in args.getlist("number") if v.strip()),
        plugin_filters=extensions.wanted_filters(args))


def _sort(args: Mapping[str, str]) -> tuple[str, str]:
    """('-date', '-placed_at'): the sort as the URL names it and as the core names it."""
    wanted = args.get("sort") or "-date"
    name = wanted.lstrip("-")
    if name not in SORTABLE:
        wanted, name = "-date", "date"
    descending = wanted.startswith("-")
    return wanted, ("-" if descending else "") + SORTABLE[name]


def _per_page(args: Mapping[str, str]) -> int:
    try:
        value = int(args.get("per_page") or 0)
    except ValueError:
        value = 0
    if value in PER_PAGE_CHOICES:
        return value
    return int(current_app.config.get("ORDERMILL_ADMIN_PER_PAGE", PER_PAGE_CHOICES[0]))


def order_row(order: Order, staff: Mapping[int, str]) -> dict[str, Any]:
    """One row of the orders table: the core's summary plus the sales manager's name."""
    row = queries.order_summary(order)
    manager = staff.get(order.sales_manager_id) if order.sales_manager_id else None
    row.update({"sales_manager": manager or "system", "placed": order.placed_at})
    return row


@admin_bp.get("/orders")
def orders() -> Any:
    """All orders or the pending ones (WHMCS List Pending Orders), searched and filtered."""
    tab = request.args.get("tab", "all")
    tab = tab if tab in TABS else "all"
    error = None
    try:
        filters = _list_filters(request.args, tab)
    except InvalidInput as refused:
        error = refused.message
        filters = queries.OrderFilters()
    sort_key, sort = _sort(request.args)
    try:
        page_number = max(1, int(request.args.get("page") or 1))
    except ValueError:
        page_number = 1
    per_page = _per_page(request.args)
    page = queries.search_orders(mill(), filters, actor=actor(), sort=sort,
                                 page=page_number, per_page=per_page)
    if page.total and page_number > page.pages:
        page = queries.search_orders(mill(), filters, actor=actor(), sort=sort,
                                     page=page.pages, per_page=per_page)
    staff = lookups.staff_names(mill())
    products = queries.list_products(mill(), actor=actor(), include_inactive=True,
                                     per_page=200).items
    controls = extensions.filter_controls()
    return render_template(
        "admin/orders.html", tab=tab, page=page,
        rows=[order_row(order, staff) for order in page.items], error=error,
        sort_key=sort_key, per_page=per_page, per_page_choices=PER_PAGE_CHOICES,
        statuses=list(mill().statuses), payment_statuses=queries.PAYMENT_STATUSES,
        payment_methods=lookups.payment_methods(mill()), promos=lookups.promo_codes(mill()),
        products=products, categories=lookups.categories(mill()),
        args=request.args, bulk_statuses=list(mill().statuses),
        resend_limit=MAX_BULK_RESEND, plugin_filters=controls,
        filtering=any(request.args.get(key) for key in (
            "q", "status", "payment_status", "payment_method", "promo", "product",
            "category", "from", "to", "attention", *(c["name"] for c in controls))),
    ), 422 if error else 200


@admin_bp.get("/orders/export.csv")
def export_orders() -> Any:
    """The orders matching the current search and filters, as the API's CSV."""
    tab = request.args.get("tab", "all")
    try:
        filters = _list_filters(request.args, tab if tab in TABS else "all")
    except InvalidInput:  # back to the list, which says what was refused; nothing exported
        query = request.query_string.decode("latin-1")
        return redirect(url_for("admin.orders") + (f"?{query}" if query else ""), 303)
    _key, sort = _sort(request.args)
    rows = queries.export_orders(mill(), filters, actor=actor(), sort=sort)
    return csv_response(queries.CSV_COLUMNS, rows, "orders")


@admin_bp.post("/orders/bulk")
def bulk() -> Any:
    """Ticked orders: change their status, export them, or resend their confirmations."""
    back = safe_next(request.form.get("back"), url_for("admin.orders"))
    numbers = [value.strip() for value in request.form.getlist("numbers") if value.strip()]
    action = request.form.get("action", "")
    if not numbers:
        flash(_("Tick at least one order first."), "error")
        return redirect(back, 303)
    if action == "export":
        rows = queries.export_orders(mill(), queries.OrderFilters(numbers=tuple(numbers)),
                                     actor=actor())
        return csv_response(queries.CSV_COLUMNS, rows, "orders")
    try:
        if action == "status":
            status = text(request.form, "status")
            if not status:
                raise InvalidInput(_("Choose the status to set."))
            result = mill().orders.bulk_set_status(numbers, status, actor=actor())
            label = status_label(mill(), status)
            if result.changed:
                flash(ngettext("%(num)s order set to %(status)s.",
                               "%(num)s orders set to %(status)s.", len(result.changed),
                               status=label), "success")
            for number, reason in result.skipped.items():
                flash(_("Order %(number)s not changed: %(reason)s", number=number,
                        reason=reason), "warning")
        elif action == "resend":
            sent = resend_confirmations(mill(), numbers, actor())
            if sent.queued:
                flash(ngettext("Confirmation resent for %(num)s order.",
                               "Confirmation resent for %(num)s orders.", len(sent.queued)),
                      "success")
            for number, reason in sent.skipped.items():
                flash(_("Order %(number)s: %(reason)s.", number=number, reason=reason),
                      "warning")
        else:
            raise InvalidInput(_("Choose what to do with the ticked orders."))
    except PermissionDenied:
        raise
    except OrdermillError as refused:
        flash(refused.message, "error")
    return redirect(back, 303)


# ---------------------------------------------------------------------------- one order


def _labels() -> dict[str, str]:
    return {spec.name: status_label(mill(), spec.name) for spec in mill().statuses}


def order_context(number: str, **extra: Any) -> dict[str, Any]:
    """Everything the order page and its dialogs show, read through the core."""
    service = mill().orders
    order = service.get(number, actor=actor())
    events = service.history(number)
    data = order_to_dict(order, events=events)
    shown = visible_actions(mill(), order, actor())
    facts = order_facts(mill(), order, actor())
    line_left = {line.id: money_text(billing.line_value_left(line, order), order.currency)
                 for line in order.lines}
    staff = lookups.staff_names(mill())
    buyer_form = BuyerForm(data={
        "name": order.buyer_name, "email": order.buyer_email, "phone": order.buyer_phone,
        "language": order.language,
        **{key: (order.billing_address or {}).get(key) for key in ADDRESS_FIELDS}})
    accepted_options = any(line.provisioning_status for line in order.lines) or any(
        line.domain for line in order.lines)
    context = {
        "order": data, "loaded": order, "number": order.number, "currency": order.currency,
        "version": order.version, "history": list(reversed(data["history"])),
        "actions": ACTIONS, "toolbar": [name for name in TOOLBAR if name in shown],
        "shown": set(shown), "labels": _labels(),
        "status_targets": status_targets(mill(), order, actor()), "line_left": line_left,
        "refundable": money_text(billing.refundable_total(order), order.currency),
        "amount_due": money_text(amount_due(order), order.currency),
        # an ended order (fraud, cancelled, refunded) has its invoices cancelled: owes nothing
        "owes": not facts.ended,
        "can_notify": customer_can_be_notified(mill(), order, actor()),
        "customer_link": customer_order_link(mill(), order.number, request.url_root),
        "header_summary": header_summary(data["summary"], data["payment_status"],
                                         _labels().get(order.status, order.status)),
        "sales_manager": staff.get(order.sales_manager_id) if order.sales_manager_id
        else None,
        "buyer_form": buyer_form, "comment_form": CommentForm(formdata=None),
        "gateways": lookups.payment_methods(mill()),
        "products": queries.list_products(mill(), actor=actor(), per_page=200).items,
        "provisioning_options": accepted_options,
        "address_extra": {k: v for k, v in (order.billing_address or {}).items()
                          if k not in ADDRESS_FIELDS},
        "today": dt.datetime.now(dt.UTC).date().isoformat(),
        "form": MultiDict(), "preview": None, "error": None, "manual_offer": False,
        "plugin_data": {plugin: dict(values) for plugin, values in
                        (order.plugin_data or {}).items() if isinstance(values, Mapping)},
    }
    context.update(extra)
    return context


@admin_bp.get("/orders/<number>")
def order(number: str) -> Any:
    """One order: the core's view of it, its actions, and what plugins add (panels,
    buttons)."""
    context = order_context(number)
    loaded = context["loaded"]
    return render_template("admin/order.html",
                           plugin_panels=extensions.rendered_panels(loaded, actor()),
                           plugin_buttons=extensions.plugin_buttons(loaded, actor()),
                           **context)


def _action_or_404(name: str) -> OrderAction:
    action = ACTIONS.get(name)
    if action is None:
        raise NotFound(_("The order page has no action %(name)s.", name=repr(name)))
    return action


def _version(form: Mapping[str, Any]) -> int | None:
    return integer(form, "version")


def _dialog_page(number: str, action: OrderAction, status: int = 200, **extra: Any) -> Any:
    context = order_context(number, **extra)
    return render_template("admin/action.html", action=action, **context), status


@admin_bp.get("/orders/<number>/<name>")
def action_page(number: str, name: str) -> Any:
    """A dialog as a page of its own (used without JavaScript, and by direct links)."""
    action = _action_or_404(name)
    require(actor(), action.permission)
    return _dialog_page(number, action)


@admin_bp.post("/orders/<number>/<name>")
def run_action(number: str, name: str) -> Any:
    """Run an action, or with the Preview button its dry run, through the core."""
    action = _action_or_404(name)
    form = request.form
    from_page = form.get("_from") == "page"
    wants_preview = "preview" in form and action.preview
    try:
        result = action.run(mill(), number, form, actor(), _version(form), wants_preview)
    except PermissionDenied:
        raise
    except NotFound:
        raise
    except OrdermillError as refused:
        # a gateway that failed: the dialog again, offering to record a manual refund
        manual_offer = refused.details.get("manual_refund_possible") is True \
            and not flag(form, "manual_refund")
        if from_page or wants_preview or manual_offer:
            return _dialog_page(number, action, status=refused.http_status, form=form,
                                error=refused.message, manual_offer=manual_offer)
        flash(refused.message, "error")
        return redirect(url_for("admin.order", number=number) + f"#{name}", 303)
    if wants_preview:
        currency = queries.order_currency(mill(), number) or ""
        return _dialog_page(number, action, form=form,
                            preview=preview_payload(result, currency, _labels()))
    _report(result)
    if name == "delete":
        return redirect(url_for("admin.orders"), 303)
    return redirect(url_for("admin.order", number=number), 303)


def _report(result: ActionResult) -> None:
    """Flash what the core did, in its words, and any plugin that failed afterwards."""
    message = str(result.preview.get("message") or _("Done."))
    flash(message, "success")
    for failure in result.hook_failures:
        flash(_("Plugin %(plugin)s failed in %(hook)s: %(error)s (the action itself is done).",
                plugin=failure.plugin, hook=failure.hook, error=failure.error), "warning")


@admin_bp.post("/orders/<number>/<name>/preview")
def preview_action(number: str, name: str) -> Any:
    """The dialog's live total: the core's dry run of exactly what Confirm would send."""
    action = _action_or_404(name)
    if not action.preview:
        raise NotFound(_("%(action)s has no preview.", action=action.label))
    try:
        result = action.run(mill(), number, request.form, actor(), _version(request.form),
                            True)
    except OrdermillError as refused:
        response = jsonify({"ok": False, "error": refused.message, "code": refused.code})
        response.status_code = refused.http_status
        return response
    currency = queries.order_currency(mill(), number) or ""
    return jsonify(preview_payload(result, currency, _labels()))


@admin_bp.get("/orders/<number>/invoices/<int:invoice_id>")
def invoice(number: str, invoice_id: int) -> Any:
    """A printable invoice (WHMCS 'view invoice', Webex 'Voir la facture')."""
    context = order_context(number)
    found = next((inv for inv in context["order"]["invoices"] if inv["id"] == invoice_id),
                 None)
    if found is None:
        raise NotFound(_("Order %(number)s has no invoice %(id)s.", number=number,
                         id=invoice_id))
    payments = [p for p in context["order"]["payments"] if p["invoice_id"] == invoice_id]
    return render_template("admin/invoice.html", invoice=found, payments=payments,
                           shop=mill().settings.shop_name, **context)


@admin_bp.get("/orders/<number>/receipt")
def receipt(number: str) -> Any:
    """A printable receipt of every payment and refund (Webex 'Voir le reçu')."""
    context = order_context(number)
    return render_template("admin/receipt.html", shop=mill().settings.shop_name, **context)


# ---------------------------------------------------------------------------- add new order


def _customer_details(form: MultiDict[str, str]) -> CustomerDetails:
    chosen = integer(form, "customer_id")
    known = lookups.customer(mill(), chosen) if chosen else None
    if chosen and known is None:
        raise InvalidInput(_("That customer no longer exists."),
                           details={"field": "customer_id"})
    if known is not None:
        return CustomerDetails(email=known["email"], name=known["name"], phone=known["phone"],
                               company=known["company"],
                               billing_address=known["billing_address"],
                               language=known["language"] or "en",
                               vat_id=text(form, "vat_id") or known.get("vat_id"))
    address = {key: text(form, key) for key in ADDRESS_FIELDS if text(form, key)}
    return CustomerDetails(email=text(form, "email") or "", name=text(form, "name") or "",
                           phone=text(form, "phone"), company=text(form, "company"),
                           billing_address=address, language=text(form, "language") or "en",
                           vat_id=text(form, "vat_id"))


def _chosen_customer(form: MultiDict[str, str]) -> tuple[dict[str, Any] | None,
                                                        list[dict[str, Any]]]:
    """Add New Order's customer search box: the customer chosen (`customer_id`, or
    `?customer=` from a customer page), or the matches of a search sent without JavaScript."""
    if "find_customer" in form:
        return None, lookup_customers(mill(), text(form, "customer_q") or "", actor=actor())
    chosen = integer(form, "customer_id") or integer(request.args, "customer")
    return (lookups.customer(mill(), chosen) if chosen else None), []


def _place_request(form: MultiDict[str, str]) -> OrderRequest:
    lines = line_requests(mill(), form, None)
    return OrderRequest(
        customer=_customer_details(form), lines=lines,
        payment_method=text(form, "payment_method") or "", promo_code=text(form, "promo"),
        note=text(form, "note"), affiliate=text(form, "affiliate"),
        sales_manager_id=integer(form, "sales_manager_id"),
        generate_invoice=flag(form, "generate_invoice"), admin_placed=True,
        plugin_data=plugin_data_of(mill(), extensions.request_field_values(form)))


@admin_bp.route("/orders/new", methods=["GET", "POST"])
def new_order() -> Any:
    """WHMCS Add New Order: customer, gateway, promo (always applied), products with
    quantity and price override, billing cycle, domain; Preview shows the core's dry run."""
    require(actor(), "place_orders")
    form = request.form if request.method == "POST" else MultiDict(
        {"generate_invoice": "on", "sales_manager_id": str(current_user.actor.user_id or "")})
    preview = error = None
    status = 200
    chosen, matches = _chosen_customer(form)
    if request.method == "POST" and "find_customer" in form:
        pass  # the search box without JavaScript: show the matches, place nothing
    elif request.method == "POST":
        try:
            order_request = _place_request(form)
            result = mill().orders.place(order_request, actor=actor(),
                                         dry_run="preview" in form)
        except PermissionDenied:
            raise
        except OrdermillError as refused:
            error, status = refused.message, refused.http_status
        else:
            if result.dry_run:
                preview = dict(result.preview)
                preview["total"] = preview.get("data", {}).get("total")
            else:
                assert result.order is not None
                _report(result)
                return redirect(url_for("admin.order", number=result.order.number), 303)
    rows = max(3, len([s for s in form.getlist("sku") if s.strip()]) + 1)
    return render_template(
        "admin/new_order.html", form=form, preview=preview, error=error, rows=rows,
        chosen=chosen, matches=matches,
        products=queries.list_products(mill(), actor=actor(), per_page=200).items,
        gateways=lookups.payment_methods(mill()),
        promos=lookups.promo_codes(mill(), active_only=True),
        staff=lookups.active_staff(mill()), currency=mill().settings.default_currency,
        plugin_fields=extensions.request_field_controls(),
    ), status


# ---------------------------------------------------------------------------- payments


def _payment_filters(args: MultiDict[str, str]) -> queries.PaymentFilters:
    start, end = day_range(day(args.get("from"), field_label("from")),
                           day(args.get("to"), field_label("to")))
    return queries.PaymentFilters(
        gateways=tuple(v for v in args.getlist("gateway") if v),
        kinds=tuple(v for v in args.getlist("kind") if v),
        statuses=tuple(v for v in args.getlist("status") if v),
        order_number=text(args, "order"), currency=text(args, "currency"),
        created_from=start, created_before=end)


@admin_bp.get("/payments")
def payments() -> Any:
    """Every payment and refund: invoice, gateway, amount, fee, money credited (seed 003)."""
    error = None
    try:
        filters = _payment_filters(request.args)
    except InvalidInput as refused:
        error, filters = refused.message, queries.PaymentFilters()
    sort = request.args.get("sort") or "-created_at"
    if sort.lstrip("-") not in queries.PAYMENT_SORTS:
        sort = "-created_at"
    try:
        page_number = max(1, int(request.args.get("page") or 1))
    except ValueError:
        page_number = 1
    per_page = _per_page(request.args)
    page = queries.list_payments(mill(), filters, actor=actor(), sort=sort, page=page_number,
                                 per_page=per_page)
    return render_template("admin/payments.html", page=page, error=error, sort_key=sort,
                           gateways=lookups.payment_methods(mill()), args=request.args,
                           tab="payments", per_page=per_page,
                           per_page_choices=PER_PAGE_CHOICES, can_export=can("export"))


@admin_bp.get("/payments/export.csv")
def export_payments() -> Any:
    rows = queries.export_payments(mill(), _payment_filters(request.args), actor=actor())
    return csv_response(queries.PAYMENT_CSV_COLUMNS, rows, "payments")


__all__ = ["order_context", "order_row"]
