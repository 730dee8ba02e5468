"""Helpers of the tax tests (imported by the tests and the conftest)."""

from __future__ import annotations

import re
import types
from pathlib import Path
from typing import Any

from ordermill.core.requests import CustomerDetails, LineRequest, OrderRequest

HOOKS_DOC = Path(__file__).resolve().parents[3] / "docs" / "hooks.md"
FRANCE_AND_INDONESIA = {"FR": {"standard": "20", "reduced": "5.5"}, "ID": {"standard": "11"}}


def docs_example(hook: str) -> types.ModuleType:
    """The ```python example of `### hook(...)` in docs/hooks.md, as a plugin module."""
    text = HOOKS_DOC.read_text(encoding="utf-8")
    section = re.split(rf"^### {hook}\(.*$", text, flags=re.MULTILINE)[1]
    code = section.split("```python", 1)[1].split("```", 1)[0]
    module = types.ModuleType(f"docs_example_{hook}")
    exec(compile(code, str(HOOKS_DOC), "exec"), module.__dict__)
    return module


def tax_request(lines: list[tuple[str, int]], *, country: str | None = "FR",
                vat_id: str | None = None, payment_method: str = "stripe",
                promo_code: str | None = "SAVE10", email: str = "buyer@example.com",
                **extra: Any) -> OrderRequest:
    address = {"line1": "1 rue de la Paix", "city": "Paris"}
    if country is not None:
        address["country"] = country
    return OrderRequest(
        customer=CustomerDetails(email=email, name="Bea Buyer", billing_address=address,
                                 vat_id=vat_id),
        lines=[LineRequest(sku=sku, quantity=quantity) for sku, quantity in lines],
        payment_method=payment_method, promo_code=promo_code, **extra)
