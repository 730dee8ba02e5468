"""Flask-WTF forms of the admin whose fields are fixed (login, buyer, comment, settings).

Forms whose fields depend on the order (ticked lines, product rows) are read with the small
helpers of common.py; every POST is CSRF-checked before any view runs either way.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DecimalField,
    EmailField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, Length, NumberRange, Optional, Regexp

from ordermill.core.i18n import gettext as _
from ordermill.core.i18n import lazy_gettext
from ordermill.core.statuses import CATEGORIES


class LoginForm(FlaskForm):
    email = EmailField(lazy_gettext("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(lazy_gettext("Password"),
                             validators=[DataRequired(), Length(max=1000)])


class BuyerForm(FlaskForm):
    """Webex 'Buyer information > Edit': name, e-mail and billing address of this order."""

    name = StringField(lazy_gettext("Name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(lazy_gettext("E-mail"), validators=[DataRequired(), Length(max=254)])
    phone = StringField(lazy_gettext("Phone"), validators=[Optional(), Length(max=50)])
    line1 = StringField(lazy_gettext("Address"), validators=[Optional(), Length(max=200)])
    line2 = StringField(lazy_gettext("Address (2)"), validators=[Optional(), Length(max=200)])
    postcode = StringField(lazy_gettext("Postcode"), validators=[Optional(), Length(max=20)])
    city = StringField(lazy_gettext("City"), validators=[Optional(), Length(max=100)])
    country = StringField(lazy_gettext("Country"), validators=[Optional(), Length(max=60)])
    language = StringField(lazy_gettext("Language"), validators=[Optional(), Length(max=10)])


ADDRESS_FIELDS = ("line1", "line2", "postcode", "city", "country")


class CommentForm(FlaskForm):
    """Kartris order progress: a comment, optionally e-mailed and shown to the customer."""

    text = TextAreaField(lazy_gettext("Comment"), validators=[DataRequired(), Length(max=5000)])
    notify_customer = BooleanField(lazy_gettext("E-mail it to the customer"))
    visible_to_customer = BooleanField(lazy_gettext("Show it on the customer's order page"))


class StaffUserForm(FlaskForm):
    email = EmailField(lazy_gettext("E-mail"), validators=[DataRequired(), Length(max=254)])
    name = StringField(lazy_gettext("Name"), validators=[DataRequired(), Length(max=200)])
    role = StringField(lazy_gettext("Role"), default="viewer", validators=[
        DataRequired(), AnyOf(("viewer", "support", "manager", "admin"))])
    password = PasswordField(lazy_gettext("Password"),
                             validators=[DataRequired(), Length(min=8, max=1000)])


class StatusForm(FlaskForm):
    """A custom status (WHMCS Setup > Order Statuses): name, colour, category, moves."""

    name = StringField(lazy_gettext("Name"), validators=[
        DataRequired(), Length(max=40),
        Regexp(r"^[a-z][a-z0-9_]*$", message=lazy_gettext(
            "Lower-case letters, digits and _ only, starting with a letter."))])
    label = StringField(lazy_gettext("Label"), validators=[DataRequired(), Length(max=60)])
    colour = StringField(lazy_gettext("Colour"), default="#0d9488", validators=[
        DataRequired(),
        Regexp(r"^#[0-9a-fA-F]{6}$", message=lazy_gettext("A colour like #0d9488."))])
    category = StringField(lazy_gettext("Category"), default="pending",
                           validators=[DataRequired(), AnyOf(CATEGORIES)])
    description = StringField(lazy_gettext("Description"), validators=[Optional(), Length(max=300)])


class ShopSettingsForm(FlaskForm):
    """The fraud score threshold (plugins' settings have tabs of their own)."""

    fraud_threshold = DecimalField(lazy_gettext("Fraud score threshold"), places=2, validators=[
        Optional(), NumberRange(min=0, max=100, message=lazy_gettext("Between 0 and 100."))])
    # core.adjustments: how tax and fees are rounded to the cent (setting "tax_rounding")
    tax_rounding_scope = SelectField(lazy_gettext("Round tax"), choices=[
        SelectChoice("line", lazy_gettext("per line")),
        SelectChoice("document", lazy_gettext("per document (each rate once)"))], default="line")
    tax_rounding_mode = SelectField(lazy_gettext("Rounding"), choices=[
        SelectChoice("half_up", lazy_gettext("half up (0.5 goes up)")),
        SelectChoice("half_even", lazy_gettext("half even (banker's)"))], default="half_up")


def form_errors(form: FlaskForm) -> str:
    """A refused form's errors as one sentence per field ("Name: This field is required."),
    in the reader's language (labels and messages may be lazy strings)."""
    return "; ".join(
        _("%(field)s: %(problems)s", field=str(getattr(form, field).label.text),
          problems=" ".join(str(message) for message in messages))
        for field, messages in form.errors.items())
