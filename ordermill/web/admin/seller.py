"""Settings > Invoices: the seller printed on every invoice and credit note issued from now
on (documents already issued keep the seller of their day, core.invoicing)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import Length, Optional

from ordermill.core.i18n import N_, lazy_gettext
from ordermill.core.i18n import gettext as _
from ordermill.core.invoicing import SELLER_SETTING, seller_details
from ordermill.core.permissions import require
from ordermill.core.shop_settings import write_setting
from ordermill.web.admin import admin_bp
from ordermill.web.admin.common import actor, mill
from ordermill.web.admin.forms import form_errors

SAVED = N_("Seller details saved: invoices and credit notes issued from now on carry them.")


class SellerForm(FlaskForm):
    name = StringField(lazy_gettext("Legal name"), validators=[Optional(), Length(max=200)])
    address = TextAreaField(lazy_gettext("Address"), validators=[Optional(), Length(max=1000)])
    vat_number = StringField(lazy_gettext("VAT number"), validators=[Optional(), Length(max=40)])


@admin_bp.route("/settings/seller", methods=["GET", "POST"])
def seller_settings() -> Any:
    """Name, address and VAT number of the seller on issued documents."""
    require(actor(), "manage_settings")
    form = SellerForm(data=seller_details(mill()))
    error = None
    if form.validate_on_submit():
        write_setting(mill(), SELLER_SETTING, {
            "name": (form.name.data or "").strip(), "address": (form.address.data or "").strip(),
            "vat_number": (form.vat_number.data or "").strip()}, actor=actor())
        flash(_(SAVED), "success")
        return redirect(url_for("admin.seller_settings"), 303)
    if request.method == "POST":
        error = form_errors(form)
    return render_template("admin/settings_seller.html", form=form, error=error,
                           section="seller"), (422 if error else 200)
