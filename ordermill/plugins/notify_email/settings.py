"""The e-mail plugin's settings tab in the admin: who the shop's messages come from.

Only what a shop owner changes by hand (sender name and address, reply-to, the team's
recipients) is on the page; the SMTP connection and its password stay in
ORDERMILL_PLUGIN_CONFIG, which also gives the defaults shown when nothing is stored. Stored
values win over the configured ones (NotifyConfig.for_mill).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from ordermill.api import InvalidInput, SettingField, Settings, SettingsPage, hookimpl
from ordermill.plugins.notify_email.i18n import _, i18n

PAGE = "notify_email"
ADDRESS = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")


def checked_address(value: str) -> str:
    """One e-mail address, lower-cased domain kept as typed; InvalidInput otherwise."""
    if not ADDRESS.match(value):
        raise InvalidInput(_("%(value)s is not an e-mail address.", value=repr(value)))
    return value


def checked_addresses(value: str) -> str:
    """Addresses separated by commas or lines -> "a@x, b@y" (how the config lists them)."""
    addresses = [part.strip() for part in re.split(r"[,\n;]", value) if part.strip()]
    for address in addresses:
        checked_address(address)
    return ", ".join(addresses)


def configured(settings: Settings) -> Mapping[str, Any]:
    """The configured values of this page's fields (the defaults it shows)."""
    from ordermill.plugins.notify_email.config import NotifyConfig

    config = NotifyConfig.from_settings(settings, strict=False)
    return {"from_name": config.from_name, "from_address": config.from_address,
            "reply_to": config.reply_to, "team_recipients": ", ".join(config.team_recipients)}


@hookimpl(trylast=True)
def admin_settings_pages() -> Iterable[SettingsPage]:
    lazy_gettext = i18n.lazy_gettext  # read when the page is shown, in the reader's language
    return [SettingsPage(
        name=PAGE, label=lazy_gettext("E-mail"), defaults=configured,
        description=lazy_gettext(
            "Who the shop's e-mails come from. Blank fields use the plugin's configuration "
            "(ORDERMILL_PLUGIN_CONFIG), which also holds the mail server and its password."),
        fields=(
            SettingField("from_name", lazy_gettext("Sender name"), max_length=200,
                         help=lazy_gettext(
                             "Shown as the sender; the shop's name when not set.")),
            SettingField("from_address", lazy_gettext("Sender e-mail"), max_length=254,
                         validate=checked_address),
            SettingField("reply_to", lazy_gettext("Reply-to e-mail"), max_length=254,
                         validate=checked_address,
                         help=lazy_gettext(
                             "Where customers' replies go, when not to the sender.")),
            SettingField("team_recipients", lazy_gettext("Team recipients"), kind="textarea",
                         max_length=2000, validate=checked_addresses,
                         help=lazy_gettext("Who gets new-order and fraud notices: "
                                           "addresses separated by commas or lines.")),
        ),
    )]


__all__ = ["PAGE", "admin_settings_pages", "checked_address", "checked_addresses",
           "configured"]
