"""The catalogue's typed errors; the API and admin show them like the order actions' errors."""

from __future__ import annotations

from ordermill.core.errors import ActionNotAllowed, InvalidInput, NotFound


class DuplicateSku(ActionNotAllowed):
    """A product with this sku exists already (409)."""

    code = "duplicate_sku"


class DuplicatePromoCode(ActionNotAllowed):
    code = "duplicate_promo_code"


class ProductNotFound(NotFound):
    code = "product_not_found"


class PromoNotFound(NotFound):
    code = "promo_code_not_found"


class PromoRefused(InvalidInput):
    """A promo code the order may not use; the message tells the buyer why."""

    code = "promo_refused"


class NegativeStock(ActionNotAllowed):
    """An adjustment that would take stock below zero (units held by orders are not stock)."""

    code = "negative_stock"


__all__ = ["DuplicatePromoCode", "DuplicateSku", "NegativeStock", "ProductNotFound",
           "PromoNotFound", "PromoRefused"]
