"""Issue 17, acceptance 1: every report of the 12-order shop (shop12.py), typed in by hand,
equals what `run_report`, the CSV (read back with the csv module) and the API answer, on
SQLite and PostgreSQL. Money as the API writes it ("12.50"), counts as numbers."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest
import shop12

from ordermill.core.app import Ordermill
from ordermill.core.models import Product
from ordermill.plugins.reports.definitions import REPORTS, parse_filters
from ordermill.plugins.reports.service import run_report, text_row

Row = tuple[Any, ...]

# ---- by payment system and currency: gateway, currency, payments, gross, tax, refunds,
# fees, net (net = gross - refunds - fees)
PAYMENTS: list[Row] = [
    ("banktransfer", "EUR", 3, "95.00", "0.00", "0.00", "0.00", "95.00"),
    ("banktransfer", "USD", 1, "45.00", "0.00", "5.00", "0.00", "40.00"),
    ("cheque", "EUR", 3, "117.00", "0.00", "0.00", "2.71", "114.29"),
    ("invoice", "EUR", 2, "120.00", "0.00", "40.00", "3.60", "76.40"),
    ("invoice", "USD", 1, "30.00", "0.00", "0.00", "0.87", "29.13"),
]
PAYMENT_TOTALS: list[Row] = [
    ("Total", "EUR", 8, "332.00", "0.00", "40.00", "6.31", "285.69"),
    ("Total", "USD", 2, "75.00", "0.00", "5.00", "0.87", "69.13"),
]
# ---- by offer: sku, offer, currency, units, gross, discounts, tax, refunds, net of
# refunds, fees (split over lines by gross), net
PRODUCTS: list[Row] = [
    ("BOOK", "Book", "USD", 1, "30.00", "0.00", "0.00", "0.00", "30.00", "0.00", "30.00"),
    ("CAP", "Cap", "USD", 3, "45.00", "0.00", "0.00", "0.00", "45.00", "0.87", "44.13"),
    ("HOST", "Hosting", "EUR", 3, "150.00", "0.00", "0.00", "20.00", "130.00", "3.84",
     "126.16"),
    ("MUG", "Mug", "EUR", 7, "67.00", "3.00", "0.00", "0.00", "67.00", "1.27", "65.73"),
    ("TEE", "T-shirt", "EUR", 5, "100.00", "0.00", "0.00", "20.00", "80.00", "1.20",
     "78.80"),
]
LINE_TOTALS: list[Row] = [
    ("Total", "", "EUR", 15, "317.00", "3.00", "0.00", "40.00", "277.00", "6.31", "270.69"),
    ("Total", "", "USD", 4, "75.00", "0.00", "0.00", "0.00", "75.00", "0.87", "74.13"),
]
# ---- by offer category: category, currency, then as by offer
CATEGORIES: list[Row] = [
    ("(no category)", "USD", 1, "30.00", "0.00", "0.00", "0.00", "30.00", "0.00", "30.00"),
    ("apparel", "EUR", 5, "100.00", "0.00", "0.00", "20.00", "80.00", "1.20", "78.80"),
    ("apparel", "USD", 3, "45.00", "0.00", "0.00", "0.00", "45.00", "0.87", "44.13"),
    ("kitchen", "EUR", 7, "67.00", "3.00", "0.00", "0.00", "67.00", "1.27", "65.73"),
    ("services", "EUR", 3, "150.00", "0.00", "0.00", "20.00", "130.00", "3.84", "126.16"),
]
CATEGORY_TOTALS: list[Row] = [row[:1] + row[2:] for row in LINE_TOTALS]
# ---- by sales manager, confirmed sales only: manager, currency, orders (by placement),
# gross, tax, refunds, fees, net (by payment). O5 (Ben), O9 (Anna), O12 are unconfirmed.
MANAGERS: list[Row] = [
    ("Anna Berg", "EUR", 4, "120.00", "0.00", "20.00", "3.00", "97.00"),
    ("Anna Berg", "USD", 1, "30.00", "0.00", "0.00", "0.87", "29.13"),
    ("Ben Kowalski", "EUR", 2, "65.00", "0.00", "20.00", "1.50", "43.50"),
    ("Ben Kowalski", "USD", 1, "45.00", "0.00", "5.00", "0.00", "40.00"),
    ("system", "EUR", 1, "60.00", "0.00", "0.00", "0.00", "60.00"),
]
MANAGER_TOTALS: list[Row] = [
    ("Total", "EUR", 7, "245.00", "0.00", "40.00", "4.50", "200.50"),
    ("Total", "USD", 2, "75.00", "0.00", "5.00", "0.87", "69.13"),
]

FEBRUARY = {"from": "2026-02-01", "to": "2026-02-28"}
CASES: list[tuple[str, dict[str, str], list[Row], list[Row]]] = [
    ("payments", {}, PAYMENTS, PAYMENT_TOTALS),
    ("products", {}, PRODUCTS, LINE_TOTALS),
    ("categories", {}, CATEGORIES, CATEGORY_TOTALS),
    ("managers", {}, MANAGERS, MANAGER_TOTALS),
    # February, euros: O4 by bank transfer, O5 by cheque (fee 1.00)
    ("payments", {**FEBRUARY, "currency": "EUR"},
     [("banktransfer", "EUR", 1, "60.00", "0.00", "0.00", "0.00", "60.00"),
      ("cheque", "EUR", 1, "60.00", "0.00", "0.00", "1.00", "59.00")],
     [("Total", "EUR", 2, "120.00", "0.00", "0.00", "1.00", "119.00")]),
    # invoice orders O3, O7, O11: the refunded T-shirt line keeps its share of the fee
    ("products", {"gateway": "invoice"},
     [("CAP", "Cap", "USD", 2, "30.00", "0.00", "0.00", "0.00", "30.00", "0.87", "29.13"),
      ("HOST", "Hosting", "EUR", 2, "100.00", "0.00", "0.00", "20.00", "80.00", "3.00",
       "77.00"),
      ("TEE", "T-shirt", "EUR", 1, "20.00", "0.00", "0.00", "20.00", "0.00", "0.60",
       "-0.60")],
     [("Total", "", "EUR", 3, "120.00", "0.00", "0.00", "40.00", "80.00", "3.60", "76.40"),
      ("Total", "", "USD", 2, "30.00", "0.00", "0.00", "0.00", "30.00", "0.87", "29.13")]),
    # placed in February: O4 (system), O6 (Anna, unpaid), O7 (Anna), O8 (Ben; refund 02-15)
    ("managers", FEBRUARY,
     [("Anna Berg", "EUR", 1, "0.00", "0.00", "0.00", "0.00", "0.00"),
      ("Anna Berg", "USD", 1, "30.00", "0.00", "0.00", "0.87", "29.13"),
      ("Ben Kowalski", "USD", 1, "45.00", "0.00", "5.00", "0.00", "40.00"),
      ("system", "EUR", 1, "60.00", "0.00", "0.00", "0.00", "60.00")],
     [("Total", "EUR", 2, "60.00", "0.00", "0.00", "0.00", "60.00"),
      ("Total", "USD", 2, "75.00", "0.00", "5.00", "0.87", "69.13")]),
]


@pytest.fixture
def shop(mill: Ordermill, make_product: Callable[..., Product],
         make_promo: Callable[..., Any],
         data_snapshot: Callable[..., dict[str, str]]) -> dict[str, str]:
    """The twelve orders, built once per database (ordermill.testing_snapshots)."""
    return data_snapshot("shop12", lambda: shop12.build(mill, make_product, make_promo))


def _as_rows(name: str, dicts: list[dict[str, Any]]) -> list[Row]:
    return [tuple(row[column.name] for column in REPORTS[name].columns) for row in dicts]


def test_every_report_equals_the_rows_typed_in(mill: Ordermill, shop: dict[str, str],
                                               api_client: Any) -> None:
    for name, filters, rows, totals in CASES:
        result = run_report(mill, name, parse_filters(filters), actor=shop12.STAFF)
        report = result.report
        assert _as_rows(name, [text_row(report, row) for row in result.rows]) == rows, \
            (name, filters)
        assert _as_rows(name, [text_row(report, row) for row in result.totals]) == totals, \
            (name, filters)

        answer = api_client.get(f"/api/v1/reports/{name}", query_string=filters,
                                role="manager")
        assert answer.status_code == 200, answer.get_json()
        body = answer.get_json()
        assert _as_rows(name, body["rows"]) == rows, (name, filters)
        assert _as_rows(name, body["totals"]) == totals, (name, filters)

        download = api_client.get(f"/api/v1/reports/{name}.csv", query_string=filters,
                                  role="manager")
        assert download.status_code == 200
        assert download.mimetype == "text/csv"
        read = list(csv.reader(io.StringIO(download.get_data(as_text=True))))
        assert read[0] == [column.name for column in report.columns]
        assert read[1:] == [[str(value) for value in row] for row in [*rows, *totals]], \
            (name, filters)


def test_a_report_sorts_by_any_column(mill: Ordermill, shop: dict[str, str],
                                      api_client: Any) -> None:
    by_net = run_report(mill, "payments", parse_filters({}), actor=shop12.STAFF, sort="-net")
    assert [row["net"] for row in by_net.rows] == [11429, 9500, 7640, 4000, 2913]
    answer = api_client.get("/api/v1/reports/products?sort=units", role="manager").get_json()
    # ties keep the key order
    assert [row["sku"] for row in answer["rows"]] == ["BOOK", "CAP", "HOST", "TEE", "MUG"]
    refused = api_client.get("/api/v1/reports/products?sort=colour", role="manager")
    assert refused.status_code == 422
    assert "colour" in refused.get_json()["error"]["message"]


def test_bad_filters_are_refused_clearly(mill: Ordermill, api_client: Any) -> None:
    for query, field in (({"from": "31/01/2026"}, "from"),
                         ({"from": "2026-02-01", "to": "2026-01-01"}, "to"),
                         ({"currency": "XYZ"}, "currency")):
        answer = api_client.get("/api/v1/reports/payments", query_string=query,
                                role="manager")
        assert answer.status_code == 422, query
        assert answer.get_json()["error"]["details"]["field"] == field
    assert api_client.get("/api/v1/reports/nothing", role="manager").status_code == 404
    assert api_client.get("/api/v1/reports/payments", role="support").status_code == 403
