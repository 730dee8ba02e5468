"""The reports plugin's catalog domain (`ordermill_reports`): the Reports page in the reader's
language. Report titles, descriptions and column labels are marked (N_) in definitions.py and
translated here when shown; the CSV and the API keep the English source."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ordermill.api import Domain, current_locale

i18n = Domain("ordermill_reports", Path(__file__).parent / "translations")
_ = i18n.gettext


def i18n_context() -> dict[str, Any]:
    """`_` and `ngettext` of this plugin's domain, for its templates."""
    return {"_": i18n.gettext, "gettext": i18n.gettext, "ngettext": i18n.ngettext,
            "language": current_locale()}


__all__ = ["_", "i18n", "i18n_context"]
