"""Tax by country and product tax class, on the core's `price_adjustments` hook.

The `tax` stage taxes each line at the rate of the buyer's billing country for the product's
tax class (see rules.py for the configuration); the `fee_tax` stage taxes fees and shipping at
the standard rate. With prices entered gross the tax is extracted from the line prices
(`included`), and the total stays what the buyer pays. A business buyer with a valid VAT
number (python-stdnum, no online lookup) of another EU country pays no VAT: the order carries
zero-rate tax adjustments coded `reverse_charge` for the invoice to say so, and with gross
prices the VAT inside them is taken off as a discount. An invalid VAT number refuses the
order with a clear error.

An admin may override the configuration on the "Tax rates" settings tab.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from ordermill.api import (
    ActionContext,
    Adjustment,
    ConfigurationError,
    InvalidInput,
    Order,
    OrderLine,
    Product,
    SettingField,
    SettingsPage,
    hookimpl,
    plugin_settings,
)
from ordermill.plugins.tax_rates.i18n import _, i18n
from ordermill.plugins.tax_rates.rules import (
    FEE_TAX_LABEL,
    REVERSE_CHARGE_DISCOUNT,
    REVERSE_CHARGE_LABEL,
    TAX_LABEL,
    TaxConfig,
    reverse_charge_applies,
    tax_on,
)

PLUGIN = "tax_rates"
SETTINGS_PAGE = "tax_rates"
REVERSE_CHARGE = "reverse_charge"
CONFIG_NOTE = "tax_rates_config"
CONFIG_KEYS = ("home_country", "prices_include_tax", "reverse_charge", "rates")


def tax_config(ctx: ActionContext) -> TaxConfig:
    """The configuration with the admin's stored settings over it (read once per action)."""
    cached = ctx.notes.get(CONFIG_NOTE)
    if isinstance(cached, TaxConfig):
        return cached
    config = _read_config(ctx)
    ctx.notes[CONFIG_NOTE] = config
    return config


def _read_config(ctx: ActionContext) -> TaxConfig:
    data: dict[str, Any] = dict(ctx.plugin_config(PLUGIN) or {})
    try:
        stored = plugin_settings(ctx.mill, SETTINGS_PAGE, session=ctx.session)
    except ConfigurationError:
        stored = {}
    data.update({key: value for key, value in stored.items() if value not in (None, "")})
    return TaxConfig.from_mapping(data)


def _rate_text(rate: Decimal) -> str:
    return format(rate.normalize(), "f")


def _tax_class(ctx: ActionContext, line: OrderLine) -> str:
    assert ctx.session is not None
    product = ctx.session.get(Product, line.product_id)
    return product.tax_class if product is not None else "standard"


@hookimpl
def price_adjustments(order: Order, stage: str, adjustments: Sequence[Adjustment],
                      ctx: ActionContext) -> Iterable[Adjustment] | None:
    config = tax_config(ctx)
    country = config.destination((order.billing_address or {}).get("country"))
    reverse = reverse_charge_applies(config, country, order.vat_id)
    if stage == "discount" and reverse and config.prices_include_tax:
        return _gross_vat_off(order, ctx, config, country)
    if stage == "tax":
        return _line_tax(order, ctx, config, country, reverse)
    if stage == "fee_tax":
        return _fee_tax(adjustments, config, country, reverse)
    return None


def _gross_vat_off(order: Order, ctx: ActionContext, config: TaxConfig, country: str | None
                   ) -> list[Adjustment]:
    """Gross prices to a reverse-charge buyer: the VAT inside them is not owed."""
    found = []
    for line in order.lines:
        tax_class = _tax_class(ctx, line)
        rate = config.rate(country, tax_class) or config.rate(config.home_country, tax_class)
        if rate:
            found.append(Adjustment("discount", REVERSE_CHARGE_DISCOUNT,
                                    tax_on(line.total, rate, True), line_id=line.id, rate=rate,
                                    code=REVERSE_CHARGE))
    return found


def _line_tax(order: Order, ctx: ActionContext, config: TaxConfig, country: str | None,
              reverse: bool) -> list[Adjustment]:
    found = []
    for line in order.lines:
        tax_class = _tax_class(ctx, line)
        if reverse and tax_class != "exempt":
            found.append(Adjustment("tax", REVERSE_CHARGE_LABEL, 0, line_id=line.id,
                                    rate=Decimal(0), code=REVERSE_CHARGE))
            continue
        rate = config.rate(country, tax_class)
        if rate is None:
            continue
        found.append(Adjustment("tax", TAX_LABEL.format(rate=_rate_text(rate)),
                                tax_on(line.total, rate, config.prices_include_tax),
                                line_id=line.id, rate=rate,
                                included=config.prices_include_tax))
    return found


def _fee_tax(adjustments: Sequence[Adjustment], config: TaxConfig, country: str | None,
             reverse: bool) -> list[Adjustment]:
    """Fees and shipping are taxable services at the standard rate; their amounts are net."""
    rate = config.rate(country, "standard")
    found = []
    for fee in adjustments:
        if fee.kind not in ("fee", "shipping") or not fee.amount:
            continue
        if reverse:
            found.append(Adjustment("tax", REVERSE_CHARGE_LABEL, 0, rate=Decimal(0),
                                    code=REVERSE_CHARGE))
            continue
        if rate is None:
            continue
        found.append(Adjustment("tax", FEE_TAX_LABEL.format(rate=_rate_text(rate),
                                                            fee=fee.label),
                                tax_on(int(fee.amount), rate, False), rate=rate,
                                code=fee.code))
    return found


def _checked_rates(value: Any) -> Any:
    try:
        TaxConfig.from_mapping({"rates": value})
    except ConfigurationError as error:
        raise InvalidInput(str(error)) from None
    return None


def _checked_country(value: Any) -> Any:
    text = str(value or "").strip().upper()
    if text and (len(text) != 2 or not text.isalpha()):
        raise InvalidInput(_("The home country is a two-letter ISO code such as FR."))
    return text or None


@hookimpl
def admin_settings_pages() -> Iterable[SettingsPage]:
    """Rates, the home country and net or gross prices, over the configured ones."""
    lazy_gettext = i18n.lazy_gettext  # read when the page is shown, in the reader's language
    return [SettingsPage(
        name=SETTINGS_PAGE, label=lazy_gettext("Tax rates"),
        description=lazy_gettext("Tax per billing country and product tax class. Blank fields "
                                 "use the plugin's configuration."),
        fields=(
            SettingField("home_country", lazy_gettext("Home country (ISO code)"), max_length=2,
                         validate=_checked_country),
            SettingField("prices_include_tax",
                         lazy_gettext("Prices include tax (entered gross)"), kind="checkbox"),
            SettingField("reverse_charge",
                         lazy_gettext("Reverse charge for EU businesses with a VAT number"),
                         kind="checkbox"),
            SettingField("rates", lazy_gettext("Rates (JSON: country -> tax class -> percent)"),
                         kind="textarea", max_length=5000, validate=_checked_rates,
                         help=lazy_gettext("For example %(example)s.",
                                           example='{"FR": {"standard": "20", '
                                                   '"reduced": "5.5"}}')),
        ),
        defaults=lambda settings: {key: value for key, value in
                                   settings.plugin_config(PLUGIN).items()
                                   if key in CONFIG_KEYS},
    )]
