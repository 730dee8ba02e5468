"""Products in and out as CSV. Import reports, row by row, what it creates, updates, leaves
unchanged or refuses and why; the dry run is the same import rolled back, so its report is
what the real import does. The stock column is absolute: a difference becomes a `counted`
adjustment in the ledger. Export writes the same columns, so exporting and importing back
changes nothing."""

from __future__ import annotations

import csv
import io
from typing import Any

from sqlalchemy import select

from ordermill.core.catalogue import catalogue_history, prices
from ordermill.core.catalogue.products import MANAGE, READ, ProductActions
from ordermill.core.errors import InvalidInput, OrdermillError
from ordermill.core.i18n import gettext as _
from ordermill.core.models import Product
from ordermill.core.permissions import require
from ordermill.core.serialize import money_text
from ordermill.core.specs import Actor

CSV_COLUMNS = ("sku", "name", "kind", "category", "price", "currency", "prices", "tax_class",
               "stock", "low_stock_threshold", "billing_cycle", "provisioning_module",
               "event_date", "venue", "image_url", "active")
MAX_ROWS = 10_000
DUPLICATE_ROW = "sku {sku} appears again (first on row {first}); the first row wins."


def _cells_to_fields(row: dict[str, str]) -> dict[str, Any]:
    """A CSV row as the product fields the other edges send (prices "USD=12.00;GBP=9.50")."""
    data: dict[str, Any] = {}
    for name, raw in row.items():
        value = (raw or "").strip()
        if name == "prices":
            pairs = [part.split("=", 1) for part in value.split(";") if part.strip()]
            if any(len(pair) != 2 for pair in pairs):
                raise InvalidInput(_("prices: write them as \"USD=12.00;GBP=9.50\"."),
                                   details={"field": "prices"})
            data["prices"] = {code.strip(): amount.strip() for code, amount in pairs}
        elif name == "stock":
            data["stock"] = value  # "" or "unlimited": unlimited
        else:
            data[name] = value if value != "" else None
    return data


def read_rows(text: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [name.strip() for name in reader.fieldnames or []]
    if "sku" not in header:
        raise InvalidInput(_("The CSV needs a header row with at least a sku column; columns are "
                             "%(value)s.", value=', '.join(CSV_COLUMNS)), details={"field": "csv"})
    unknown = [name for name in header if name not in CSV_COLUMNS]
    if unknown:
        raise InvalidInput(_("Unknown CSV column %(value)s; columns are %(value2)s.",
                             value=repr(unknown[0]), value2=', '.join(CSV_COLUMNS)),
                           details={"field": "csv"})
    reader.fieldnames = header
    rows = []
    for row in reader:
        if None in row:
            raise InvalidInput(_("Row %(line_num)s has more cells than the header.",
                                 line_num=reader.line_num),
                               details={"field": "csv", "row": reader.line_num})
        rows.append({k: v for k, v in row.items() if k is not None})
        if len(rows) > MAX_ROWS:
            raise InvalidInput(_("At most %(MAX_ROWS)s rows per import.", MAX_ROWS=MAX_ROWS),
                               details={"field": "csv"})
    return rows


class CsvActions:
    """`mill.catalogue.csv`: import (with dry run) and export."""

    def __init__(self, mill: Any, products: ProductActions) -> None:
        self.mill = mill
        self.products = products

    def import_csv(self, text: str, *, actor: Actor, dry_run: bool = False
                   ) -> dict[str, Any]:
        require(actor, MANAGE)
        rows = read_rows(text)
        report: list[dict[str, Any]] = []
        seen: dict[str, int] = {}
        with catalogue_history.transaction(self.mill, dry_run=dry_run) as session:
            for number, row in enumerate(rows, start=2):  # row 1 is the header
                sku = (row.get("sku") or "").strip()
                entry: dict[str, Any] = {"row": number, "sku": sku}
                if sku in seen:
                    report.append({**entry, "action": "refused",
                                   "reason": DUPLICATE_ROW.format(sku=sku, first=seen[sku])})
                    continue
                seen[sku] = number
                try:
                    with session.begin_nested():
                        entry.update(self._import_row(session, row, actor))
                except OrdermillError as error:
                    entry.update(action="refused", reason=error.message)
                report.append(entry)
        counts = {action: sum(1 for e in report if e["action"] == action)
                  for action in ("created", "updated", "unchanged", "refused")}
        return {"dry_run": dry_run, "counts": counts, "rows": report}

    def _import_row(self, session: Any, row: dict[str, str], actor: Actor) -> dict[str, Any]:
        data = _cells_to_fields(row)
        existing = session.scalar(select(Product).where(Product.sku == data.get("sku")))
        if existing is None:
            created = self.products.create_in(session, data, actor)
            return {"action": "created", "changes": {
                name: [None, value] for name, value in created.items()
                if name in CSV_COLUMNS and value not in (None, "", {})}}
        result = self.products.update_in(session, existing, data, actor)
        return {"action": "updated" if result["changes"] else "unchanged",
                "changes": result["changes"]}

    def export_rows(self, *, actor: Actor) -> list[dict[str, Any]]:
        """Every product (archived too) as CSV cells; the permission is checked at once."""
        require(actor, READ)
        with self.mill.read_session() as session:
            products = list(session.scalars(select(Product).order_by(Product.sku)))
            table = prices.price_table(session, [p.id for p in products])
        return [self._export_row(product, table[product.id]) for product in products]

    @staticmethod
    def _export_row(product: Product, priced: dict[str, int]) -> dict[str, Any]:
        extra = {code: amount for code, amount in priced.items()
                 if code != product.currency}
        return {
            "sku": product.sku, "name": product.name, "kind": product.kind,
            "category": product.category or "",
            "price": money_text(product.price, product.currency),
            "currency": product.currency,
            "prices": ";".join(f"{code}={money_text(amount, code)}"
                               for code, amount in sorted(extra.items())),
            "tax_class": product.tax_class,
            "stock": "unlimited" if product.stock is None else product.stock,
            "low_stock_threshold": "" if product.low_stock_threshold is None
            else product.low_stock_threshold,
            "billing_cycle": product.billing_cycle or "",
            "provisioning_module": product.provisioning_module or "",
            "event_date": product.event_date.isoformat() if product.event_date else "",
            "venue": product.venue or "", "image_url": product.image_url or "",
            "active": "true" if product.active else "false",
        }

    def export_csv(self, *, actor: Actor) -> str:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(CSV_COLUMNS), lineterminator="\n")
        writer.writeheader()
        for row in self.export_rows(actor=actor):
            writer.writerow(row)
        return out.getvalue()
