"""The admin's catalogue: products (list with a low-stock flag, edit page with its stock
ledger and history, a stock adjustment dialog, CSV import with a dry run first, export) and
promo codes (list, edit, disable). Every form ends in a `mill.catalogue` action with the
logged-in staff member as the actor; a refusal is shown on the form, which keeps what was
typed."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from ordermill.core import queries
from ordermill.core.catalogue.product_input import KINDS
from ordermill.core.catalogue_models import ADJUSTMENT_REASONS
from ordermill.core.errors import InvalidInput, OrdermillError, PermissionDenied
from ordermill.core.i18n import AmbiguousAmount
from ordermill.core.i18n import gettext as _
from ordermill.core.models import TAX_CLASSES
from ordermill.core.permissions import require
from ordermill.web.admin import admin_bp
from ordermill.web.admin.common import actor, mill, typed_amount

PRODUCT_TEXT = ("name", "kind", "category", "price", "currency", "tax_class", "stock",
                "low_stock_threshold", "billing_cycle", "provisioning_module", "event_date",
                "venue", "image_url")
#: between price pairs: ";" always, "," only before the next "CODE=" (a comma may be decimal)
PAIR_SEPARATOR = re.compile(r";|,(?=\s*[A-Za-z]{3}\s*=)")


def _pairs(text: str | None, field: str) -> dict[str, str]:
    """'USD=14.00; GBP=9.50' -> {"USD": "14.00", "GBP": "9.50"}; amounts may be typed in the
    reader's locale ('USD=14,00; GBP=9,50' in French: a comma separates pairs only before the
    next currency code)."""
    result = {}
    for part in PAIR_SEPARATOR.split(text or ""):
        if not part.strip():
            continue
        code, sep, amount = part.partition("=")
        if not sep:
            raise InvalidInput(_("%(field)s: write it as USD=14.00; GBP=9.50.", field=field),
                               details={"field": field})
        currency = code.strip().upper()
        result[currency] = _typed(amount.strip(), currency, field)
    return result


def _typed(amount: str, currency: str, field: str) -> str:
    """An amount typed in the reader's locale as the decimal text the core reads ("12,50" in
    French -> "12.50"); an ambiguous one ("1.234" in French) is refused, saying why. What is
    not an amount at all is passed on for the core to refuse in its own words."""
    if not amount:
        return amount
    try:
        return typed_amount(amount, currency)
    except AmbiguousAmount as error:
        raise InvalidInput(_("%(field)s: %(problem)s", field=field, problem=str(error)),
                           details={"field": field}) from None
    except ValueError:
        return amount


def _product_data(form: Mapping[str, Any], new: bool) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name in PRODUCT_TEXT:
        value = (form.get(name) or "").strip()
        if value or not new:
            data[name] = value if value else None
    if data.get("stock") is None:
        data["stock"] = None  # an empty stock box: unlimited
    data["prices"] = _pairs(form.get("prices"), "prices")
    if data.get("price"):
        data["price"] = _typed(data["price"], data.get("currency")
                               or mill().settings.default_currency, "price")
    if not new:
        data["active"] = form.get("active") == "on"
    return data


def _form_of(product: Mapping[str, Any]) -> MultiDict[str, str]:
    values = {name: "" if product.get(name) is None else str(product[name])
              for name in PRODUCT_TEXT}
    values["prices"] = "; ".join(f"{code}={amount}" for code, amount in
                                 product["prices"].items() if code != product["currency"])
    values["active"] = "on" if product["active"] else ""
    return MultiDict(values)


@admin_bp.route("/products")
def products() -> Any:
    """The catalogue with stock and a low-stock flag."""
    archived = request.args.get("archived") == "1"
    page = queries.list_products(mill(), actor=actor(), q=request.args.get("q"),
                                 include_inactive=archived, per_page=200)
    details = {row["sku"]: row for row in mill().catalogue.csv.export_rows(actor=actor())}
    return render_template("admin/products.html", page=page, details=details,
                           archived=archived, reasons=ADJUSTMENT_REASONS)


@admin_bp.route("/products/new", methods=["GET", "POST"])
def new_product() -> Any:
    require(actor(), "manage_catalogue")
    form = request.form if request.method == "POST" else MultiDict({"kind": "physical"})
    error, status = None, 200
    if request.method == "POST":
        try:
            data = {"sku": (form.get("sku") or "").strip(), **_product_data(form, True)}
            created = mill().catalogue.products.create(data, actor=actor())
        except PermissionDenied:
            raise
        except OrdermillError as refused:
            error, status = refused.message, refused.http_status
        else:
            flash(_("Product %(sku)s saved.", sku=created["sku"]), "success")
            return redirect(url_for("admin.product", sku=created["sku"]), 303)
    return render_template("admin/product.html", product=None, form=form, error=error,
                           kinds=KINDS, tax_classes=TAX_CLASSES,
                           reasons=ADJUSTMENT_REASONS), status


@admin_bp.route("/products/<sku>", methods=["GET", "POST"])
def product(sku: str) -> Any:
    shown = mill().catalogue.products.get(sku, actor=actor())
    form, error, status = _form_of(shown), None, 200
    if request.method == "POST":
        form = request.form
        try:
            mill().catalogue.products.update(sku, _product_data(form, False), actor=actor())
        except PermissionDenied:
            raise
        except OrdermillError as refused:
            error, status = refused.message, refused.http_status
        else:
            flash(_("Product %(sku)s saved.", sku=sku), "success")
            return redirect(url_for("admin.product", sku=sku), 303)
    return render_template("admin/product.html", product=shown, form=form, error=error,
                           kinds=KINDS, tax_classes=TAX_CLASSES,
                           reasons=ADJUSTMENT_REASONS), status


@admin_bp.route("/products/<sku>/stock", methods=["GET", "POST"])
def adjust_stock(sku: str) -> Any:
    """The stock adjustment dialog (a page without JavaScript): +N/-N with a reason, or a
    count."""
    shown = mill().catalogue.products.get(sku, actor=actor())
    error, status = None, 200
    if request.method == "POST":
        form = request.form
        counting = form.get("mode") == "count"
        try:
            result = mill().catalogue.products.adjust_stock(
                sku, actor=actor(), change=None if counting else (form.get("change") or ""),
                count=(form.get("count") or "") if counting else None,
                reason=None if counting else form.get("reason"),
                note=(form.get("note") or "").strip() or None)
        except PermissionDenied:
            raise
        except OrdermillError as refused:
            error, status = refused.message, refused.http_status
        else:
            flash(result["message"], "success")
            return redirect(url_for("admin.product", sku=sku), 303)
    return render_template("admin/stock.html", product=shown, error=error,
                           reasons=ADJUSTMENT_REASONS), status


@admin_bp.route("/products/<sku>/archive", methods=["POST"])
def archive_product(sku: str) -> Any:
    try:
        flash(mill().catalogue.products.archive(sku, actor=actor())["message"], "success")
    except PermissionDenied:
        raise
    except OrdermillError as refused:
        flash(refused.message, "error")
    return redirect(url_for("admin.product", sku=sku), 303)


@admin_bp.route("/products/import", methods=["GET", "POST"])
def import_products() -> Any:
    """CSV import: the dry run's report first, then the same file imported for real."""
    require(actor(), "manage_catalogue")
    report = error = None
    status = 200
    text = ""
    if request.method == "POST":
        upload = request.files.get("file")
        text = upload.read().decode("utf-8-sig", "replace") if upload and upload.filename \
            else request.form.get("csv", "")
        real = request.form.get("confirm") == "1"
        try:
            report = mill().catalogue.csv.import_csv(text, actor=actor(), dry_run=not real)
        except PermissionDenied:
            raise
        except OrdermillError as refused:
            error, status = refused.message, refused.http_status
        else:
            if real:
                flash(_("Imported: %(created)s created, %(updated)s updated, %(unchanged)s "
                        "unchanged, %(refused)s refused.", **report["counts"]), "success")
                return redirect(url_for("admin.products"), 303)
    return render_template("admin/product_import.html", report=report, error=error,
                           csv_text=text), status


@admin_bp.route("/products/export.csv")
def export_products() -> Any:
    body = mill().catalogue.csv.export_csv(actor=actor())
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": 'attachment; filename="products.csv"'})


# ---------------------------------------------------------------------------- promo codes

PROMO_TEXT = ("kind", "percent", "valid_from", "valid_until", "usage_limit",
              "per_customer_limit")


def _promo_data(form: MultiDict[str, str], new: bool) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name in PROMO_TEXT:
        value = (form.get(name) or "").strip()
        if value or not new:
            data[name] = value or None
    if data.get("kind") == "fixed":
        data.pop("percent", None)
        data["amounts"] = _pairs(form.get("amounts"), "amounts")
    data["min_subtotal"] = _pairs(form.get("min_subtotal"), "min_subtotal")
    data["products"] = [sku for sku in form.getlist("products") if sku]
    data["categories"] = [c.strip() for c in (form.get("categories") or "").split(",")
                          if c.strip()]
    data["first_order_only"] = form.get("first_order_only") == "on"
    data["combinable"] = form.get("combinable") == "on"
    return data


def _promo_form(promo: Mapping[str, Any]) -> MultiDict[str, str]:
    values: list[tuple[str, str]] = [
        ("kind", promo["kind"]), ("percent", promo["percent"] or ""),
        ("amounts", "; ".join(f"{c}={v}" for c, v in promo["amounts"].items())),
        ("valid_from", (promo["valid_from"] or "")[:10]),
        ("valid_until", (promo["valid_until"] or "")[:10]),
        ("usage_limit", str(promo["usage_limit"] or "")),
        ("per_customer_limit", str(promo["per_customer_limit"] or "")),
        ("min_subtotal", "; ".join(f"{c}={v}" for c, v in promo["min_subtotal"].items())),
        ("categories", ", ".join(promo["categories"])),
        ("first_order_only", "on" if promo["first_order_only"] else ""),
        ("combinable", "on" if promo["combinable"] else ""),
    ]
    values.extend(("products", sku) for sku in promo["products"])
    return MultiDict(values)


def _promo_page(promo: Mapping[str, Any] | None, form: MultiDict[str, str],
                error: str | None, status: int) -> Any:
    skus = queries.list_products(mill(), actor=actor(), per_page=200).items
    return render_template("admin/promo.html", promo=promo, form=form, error=error,
                           skus=skus), status


@admin_bp.route("/promo-codes")
def promo_codes() -> Any:
    return render_template("admin/promos.html",
                           promos=mill().catalogue.promos.list(actor=actor()))


@admin_bp.route("/promo-codes/new", methods=["GET", "POST"])
def new_promo_code() -> Any:
    require(actor(), "manage_promotions")
    form = request.form if request.method == "POST" else MultiDict(
        {"kind": "percent", "combinable": "on"})
    error, status = None, 200
    if request.method == "POST":
        try:
            data = {"code": (form.get("code") or "").strip(), **_promo_data(form, True)}
            created = mill().catalogue.promos.create(data, actor=actor())
        except PermissionDenied:
            raise
        except OrdermillError as refused:
            error, status = refused.message, refused.http_status
        else:
            flash(_("Promo code %(code)s saved.", code=created["code"]), "success")
            return redirect(url_for("admin.promo_codes"), 303)
    return _promo_page(None, form, error, status)


@admin_bp.route("/promo-codes/<code>", methods=["GET", "POST"])
def promo_code(code: str) -> Any:
    shown = mill().catalogue.promos.get(code, actor=actor())
    form, error, status = _promo_form(shown), None, 200
    if request.method == "POST":
        form = request.form
        try:
            mill().catalogue.promos.update(code, _promo_data(form, False), actor=actor())
        except PermissionDenied:
            raise
        except OrdermillError as refused:
            error, status = refused.message, refused.http_status
        else:
            flash(_("Promo code %(code)s saved.", code=code), "success")
            return redirect(url_for("admin.promo_code", code=code), 303)
    return _promo_page(shown, form, error, status)


@admin_bp.route("/promo-codes/<code>/disable", methods=["POST"])
def disable_promo_code(code: str) -> Any:
    try:
        flash(mill().catalogue.promos.disable(code, actor=actor())["message"], "success")
    except PermissionDenied:
        raise
    except OrdermillError as refused:
        flash(refused.message, "error")
    return redirect(url_for("admin.promo_codes"), 303)
