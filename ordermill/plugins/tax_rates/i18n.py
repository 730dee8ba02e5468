"""The tax_rates plugin's catalog domain (`ordermill_tax_rates`): its settings page and the
errors a buyer or admin reads, in their language."""

from __future__ import annotations

from pathlib import Path

from ordermill.api import Domain

i18n = Domain("ordermill_tax_rates", Path(__file__).parent / "translations")
_ = i18n.gettext

__all__ = ["_", "i18n"]
