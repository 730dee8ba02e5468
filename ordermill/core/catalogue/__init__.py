"""The catalogue: products, prices per currency, the stock ledger and promo codes, managed
by the shop through core actions (`mill.catalogue.products`, `mill.catalogue.promos`)."""

from __future__ import annotations

from typing import Any


class CatalogueService:
    """The catalogue's actions, hanging off the app as `mill.catalogue`."""

    def __init__(self, mill: Any) -> None:
        from ordermill.core.catalogue.csv_import import CsvActions
        from ordermill.core.catalogue.products import ProductActions
        from ordermill.core.catalogue.promo_codes import PromoActions

        self.products = ProductActions(mill)
        self.promos = PromoActions(mill)
        self.csv = CsvActions(mill, self.products)


__all__ = ["CatalogueService"]
