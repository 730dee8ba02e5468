"""The sales_managers plugin's catalog domain (`ordermill_sales_managers`): the Sale card, its
button and messages in the reader's language."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ordermill.api import Domain, current_locale, format_datetime

DOMAIN = "ordermill_sales_managers"  # history events name it (event_msg's catalog_domain)
i18n = Domain(DOMAIN, Path(__file__).parent / "translations")
_ = i18n.gettext


def i18n_context() -> dict[str, Any]:
    """`_`, `ngettext` of this plugin's domain and a date formatter, for its templates."""
    return {"_": i18n.gettext, "gettext": i18n.gettext, "ngettext": i18n.ngettext,
            "language": current_locale(), "format_datetime": format_datetime}


__all__ = ["DOMAIN", "_", "i18n", "i18n_context"]
