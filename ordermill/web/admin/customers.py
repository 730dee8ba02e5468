"""Customers in the admin: the list (search, sort, CSV), the customer page (details,
addresses, orders, payments, staff notes, history), edit, notes, merge, export and erasure,
and the search box Add New Order uses to choose a customer. Every button ends in the core's
customer action (core/customers), which checks the permission again."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, flash, jsonify, redirect, render_template, request, url_for

from ordermill.core import customers
from ordermill.core.errors import OrdermillError, PermissionDenied
from ordermill.core.i18n import gettext as _
from ordermill.core.i18n import ngettext
from ordermill.web.admin import admin_bp
from ordermill.web.admin.common import actor, can, integer, mill, text
from ordermill.web.admin.orders import PER_PAGE_CHOICES, _per_page

ADDRESS_FIELDS = ("line1", "city", "postcode", "country")
ERASE_WORD = "ERASE"  # typed as it is in every language


def _erase_confirm() -> str:
    return _("Type %(word)s to confirm: erasure cannot be undone.", word=ERASE_WORD)


@admin_bp.get("/customers")
def customer_list() -> Any:
    """Every customer with orders count, money spent and last order; search and sort."""
    sort = request.args.get("sort") or "name"
    if sort.lstrip("-") not in customers.CUSTOMER_SORTS:
        sort = "name"
    try:
        page_number = max(1, int(request.args.get("page") or 1))
    except ValueError:
        page_number = 1
    per_page = _per_page(request.args)
    page = customers.search_customers(mill(), actor=actor(), q=request.args.get("q"),
                                      sort=sort, page=page_number, per_page=per_page)
    return render_template("admin/customers.html", page=page, sort_key=sort,
                           args=request.args, per_page=per_page,
                           per_page_choices=PER_PAGE_CHOICES, can_export=can("export"))


@admin_bp.get("/customers/lookup")
def customer_lookup() -> Any:
    """The search box of Add New Order: a few matching customers as JSON."""
    return jsonify(customers.lookup_customers(mill(), request.args.get("q") or "",
                                              actor=actor()))


def _page(customer_id: str, *, error: str | None = None, form: Any = None,
          status: int = 200, dialog: str | None = None) -> Any:
    data = customers.customer_detail(mill(), customer_id, actor=actor())
    return render_template(
        "admin/customer.html", customer=data, error=error, form=form or {}, dialog=dialog,
        address_fields=ADDRESS_FIELDS, can_manage=can("manage_customers"),
        can_erase=can("erase_customer_data"), can_place=can("place_orders"),
        erase_word=ERASE_WORD, erase_confirm=_erase_confirm()), status


@admin_bp.get("/customers/<customer_id>")
def customer_page(customer_id: str) -> Any:
    return _page(customer_id, dialog=request.args.get("dialog"))


def _refused(customer_id: str, refused: OrdermillError, dialog: str | None = None) -> Any:
    if isinstance(refused, PermissionDenied):
        raise refused
    return _page(customer_id, error=refused.message, form=request.form,
                 status=refused.http_status, dialog=dialog)


@admin_bp.post("/customers/<customer_id>/edit")
def customer_edit(customer_id: str) -> Any:
    form = request.form
    changes: dict[str, Any] = {field: text(form, field) for field in
                               ("name", "email", "phone", "company", "language")}
    changes = {key: value for key, value in changes.items()
               if value is not None or key in ("phone", "company")}
    changes["billing_address"] = {key: text(form, key) for key in ADDRESS_FIELDS
                                  if text(form, key)}
    current = customers.customer_detail(mill(), customer_id, actor=actor())
    changes = {key: value for key, value in changes.items() if current.get(key) != value}
    try:
        customers.update_customer(mill(), customer_id, changes, actor=actor())
    except OrdermillError as refused:
        return _refused(customer_id, refused, "edit")
    flash(_("Customer details saved."), "success")
    return redirect(url_for("admin.customer_page", customer_id=customer_id), 303)


@admin_bp.post("/customers/<customer_id>/notes")
def customer_note(customer_id: str) -> Any:
    try:
        customers.add_note(mill(), customer_id, text(request.form, "text") or "",
                           actor=actor())
    except OrdermillError as refused:
        return _refused(customer_id, refused)
    flash(_("Note added."), "success")
    return redirect(url_for("admin.customer_page", customer_id=customer_id), 303)


@admin_bp.post("/customers/<customer_id>/merge")
def customer_merge(customer_id: str) -> Any:
    other = integer(request.form, "merge_id")
    try:
        result = customers.merge_customers(mill(), customer_id, other if other else "",
                                           actor=actor())
    except OrdermillError as refused:
        return _refused(customer_id, refused, "merge")
    flash(ngettext("Customer %(merged)s merged into this one: %(num)s order moved.",
                   "Customer %(merged)s merged into this one: %(num)s orders moved.",
                   len(result["orders_moved"]), merged=result["merged_customer_id"]),
          "success")
    return redirect(url_for("admin.customer_page", customer_id=customer_id), 303)


@admin_bp.post("/customers/<customer_id>/export")
def customer_export(customer_id: str) -> Any:
    document = customers.export_customer(mill(), customer_id, actor=actor())
    response = Response(json.dumps(document, indent=2, ensure_ascii=False),
                        mimetype="application/json")
    response.headers["Content-Disposition"] = \
        f'attachment; filename="customer-{document["customer"]["id"]}.json"'
    return response


@admin_bp.post("/customers/<customer_id>/erase")
def customer_erase(customer_id: str) -> Any:
    if (text(request.form, "confirm") or "") != ERASE_WORD:
        return _page(customer_id, error=_erase_confirm(), status=422, dialog="erase")
    try:
        report = customers.erase_customer(mill(), customer_id, actor=actor())
    except OrdermillError as refused:
        return _refused(customer_id, refused, "erase")
    flash(_("Personal data erased; the customer is now %(pseudonym)s.",
            pseudonym=report["pseudonym"]), "success")
    return redirect(url_for("admin.customer_page", customer_id=customer_id), 303)


__all__ = ["customer_list", "customer_page"]
