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

from ordermill.core.statuses import CATEGORIES


class LoginForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1000)])


class BuyerForm(FlaskForm):
    """Webex 'Buyer information > Edit': name, e-mail and billing address of this order."""

    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    phone = StringField("Phone", validators=[Optional(), Length(max=50)])
    line1 = StringField("Address", validators=[Optional(), Length(max=200)])
    line2 = StringField("Address (2)", validators=[Optional(), Length(max=200)])
    postcode = StringField("Postcode", validators=[Optional(), Length(max=20)])
    city = StringField("City", validators=[Optional(), Length(max=100)])
    country = StringField("Country", validators=[Optional(), Length(max=60)])
    language = StringField("Language", validators=[Optional(), Length(max=10)])


ADDRESS_FIELDS = ("line1", "line2", "postcode", "city", "country")


class CommentForm(FlaskForm):
    """Kartris order progress: a comment, optionally e-mailed and shown to the customer."""

    text = TextAreaField("Comment", validators=[DataRequired(), Length(max=5000)])
    notify_customer = BooleanField("E-mail it to the customer")
    visible_to_customer = BooleanField("Show it on the customer's order page")


class StaffUserForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    role = StringField("Role", default="viewer", validators=[
        DataRequired(), AnyOf(("viewer", "support", "manager", "admin"))])
    password = PasswordField("Password", validators=[DataRequired(), Length(min=8, max=1000)])


class StatusForm(FlaskForm):
    """A custom status (WHMCS Setup > Order Statuses): name, colour, category, moves."""

    name = StringField("Name", validators=[
        DataRequired(), Length(max=40),
        Regexp(r"^[a-z][a-z0-9_]*$", message="Lower-case letters, digits and _ only, "
                                             "starting with a letter.")])
    label = StringField("Label", validators=[DataRequired(), Length(max=60)])
    colour = StringField("Colour", default="#0d9488", validators=[
        DataRequired(), Regexp(r"^#[0-9a-fA-F]{6}$", message="A colour like #0d9488.")])
    category = StringField("Category", default="pending",
                           validators=[DataRequired(), AnyOf(CATEGORIES)])
    description = StringField("Description", validators=[Optional(), Length(max=300)])


class ShopSettingsForm(FlaskForm):
    """The fraud score threshold (plugins' settings have tabs of their own)."""

    fraud_threshold = DecimalField("Fraud score threshold", places=2, validators=[
        Optional(), NumberRange(min=0, max=100, message="Between 0 and 100.")])
    # core.adjustments: how tax and fees are rounded to the cent (setting "tax_rounding")
    tax_rounding_scope = SelectField("Round tax", choices=[
        SelectChoice("line", "per line"),
        SelectChoice("document", "per document (each rate once)")], default="line")
    tax_rounding_mode = SelectField("Rounding", choices=[
        SelectChoice("half_up", "half up (0.5 goes up)"),
        SelectChoice("half_even", "half even (banker's)")], default="half_up")
