"""Bank transfer: the buyer pays into the shop's account, quoting the order number.

An offline gateway (osConcert's default module). The order stays pending and unpaid, so
nothing that waits for payment (tickets, provisioning) runs, until an admin sees the money on
the bank statement and records it (`mark_paid`, or `record_payment` for a part). Refunds are
recorded and returned by hand. This module is the worked example of docs/payment_gateways.md.

Configuration (ORDERMILL_PLUGIN_CONFIG):

    {"payment_banktransfer": {"account_holder": "Concert Hall Ltd", "iban": "DE89...",
                              "bic": "COBADEFFXXX", "bank": "Commerzbank",
                              "label": "Bank transfer", "note": "Tickets follow payment."}}

An admin may override the bank details on the settings tab this plugin adds ("Bank
transfer", `admin_settings_pages`); they are stored under the settings key `bank_details`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ordermill.api import (
    ConfigurationError,
    Domain,
    InvalidInput,
    Order,
    PaymentGatewaySpec,
    SettingField,
    Settings,
    SettingsPage,
    amount_due,
    format_money,
    hookimpl,
    plugin_settings,
    use_locale,
)

if TYPE_CHECKING:
    from ordermill.api import Ordermill

PLUGIN = "payment_banktransfer"
GATEWAY = "banktransfer"
SETTINGS_PAGE = "bank_transfer"
BANK_DETAILS = "bank_details"  # the settings key, as the shop settings page stored it before
i18n = Domain("ordermill_payment_banktransfer", Path(__file__).parent / "translations")
_ = i18n.gettext


def iban_is_valid(iban: str) -> bool:
    """ISO 13616 check digits (mod 97), so a typo in the config cannot send money astray."""
    text = iban.replace(" ", "").upper()
    if len(text) < 15 or not text.isalnum() or not text[:2].isalpha():
        return False
    digits = "".join(str(int(char, 36)) for char in text[4:] + text[:4])
    return int(digits) % 97 == 1


def group_iban(iban: str) -> str:
    """'DE89370400440532013000' -> 'DE89 3704 0044 0532 0130 00', as banks print it."""
    text = iban.replace(" ", "").upper()
    return " ".join(text[i:i + 4] for i in range(0, len(text), 4))


def describe_instructions(*, order: Order, config: Mapping[str, Any],
                          mill: Ordermill | None = None, language: str | None = None) -> str:
    """The paragraph for the confirmation e-mail: amount, bank details, payment reference,
    in the buyer's `language` (the reader's locale when not given).

    Bank details an admin saved in the admin's shop settings win over the configured ones.
    """
    if language:
        with use_locale(language):
            return describe_instructions(order=order, config=config, mill=mill)
    if mill is not None:
        config = {**config, **plugin_settings(mill, SETTINGS_PAGE)}
    amount = format_money(amount_due(order), order.currency)
    if not config.get("iban"):
        return _("Please pay %(amount)s by bank transfer, quoting your order number "
                 "%(number)s. The shop will send you its bank details.",
                 amount=amount, number=order.number)
    rows = [(_("Account holder"), config.get("account_holder")),
            (_("IBAN"), group_iban(str(config["iban"]))),
            (_("BIC"), config.get("bic")), (_("Bank"), config.get("bank"))]
    details = "\n".join("  " + _("%(label)s: %(value)s", label=label, value=value)
                        for label, value in rows if value)
    text = "\n".join([
        _("Please transfer %(amount)s to:", amount=amount), details,
        _("Payment reference: %(number)s (your order number; quote it so that we can match "
          "your payment).", number=order.number),
        _("Your order stays pending until we have received the money.")])
    if config.get("note"):
        text += f"\n{config['note']}"
    return text


@hookimpl(trylast=True)
def register_payment_gateways(settings: Settings) -> Iterable[PaymentGatewaySpec]:
    config = dict(settings.plugin_config(PLUGIN))
    if config.get("iban") and not iban_is_valid(str(config["iban"])):
        raise ConfigurationError(f"{PLUGIN}: IBAN {config['iban']!r} fails its check digits.")
    return [PaymentGatewaySpec(
        name=GATEWAY,
        label=str(config.get("label") or "Bank transfer"),
        online=False,
        describe_instructions=functools.partial(describe_instructions, config=config),
    )]


def checked_iban(iban: str) -> str:
    """The IBAN as banks print it; InvalidInput when its check digits fail."""
    if not iban_is_valid(iban):
        raise InvalidInput(_("IBAN %(iban)s fails its check digits: check for a typo.",
                             iban=iban),
                           details={"field": "iban"})
    return group_iban(iban)


@hookimpl(trylast=True)
def admin_settings_pages() -> Iterable[SettingsPage]:
    """The bank details an admin may set instead of (over) the configured ones."""
    lazy_gettext = i18n.lazy_gettext  # read when the page is shown, in the reader's language
    return [SettingsPage(
        name=SETTINGS_PAGE, label=lazy_gettext("Bank transfer"), key=BANK_DETAILS,
        description=lazy_gettext(
            "Bank details for orders paid by bank transfer: the buyer's payment instructions "
            "show them. Blank fields use the plugin's configuration."),
        fields=(
            SettingField("account_holder", lazy_gettext("Account holder"), max_length=200),
            SettingField("bank", lazy_gettext("Bank"), max_length=200),
            SettingField("iban", lazy_gettext("IBAN"), max_length=42, validate=checked_iban),
            SettingField("bic", lazy_gettext("BIC"), max_length=11),
            SettingField("note", lazy_gettext("Note for the buyer"), max_length=500),
        ),
        defaults=lambda settings: {key: value for key, value in
                                   settings.plugin_config(PLUGIN).items()
                                   if key in ("account_holder", "bank", "iban", "bic", "note")},
    )]
