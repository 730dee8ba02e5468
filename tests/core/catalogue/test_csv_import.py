"""CSV import and export: a dry run reports exactly what the import then does, importing the
same file twice changes nothing the second time, and export -> import is a no-op."""

from __future__ import annotations

import pytest
from catkit import actor_of, assert_ledger_balances, catalogue_state

from ordermill.core.errors import InvalidInput, PermissionDenied

ADMIN = actor_of("admin")
CSV = """sku,name,kind,category,price,currency,prices,stock,tax_class
MUG,Mug,physical,Shop,10.00,EUR,USD=11.00,20,standard
GIG,Jazz night,ticket,Concerts,40.00,EUR,,unlimited,zero
BAD,Broken,physical,Shop,-3.00,EUR,,5,standard
MUG,Mug again,physical,Shop,10.00,EUR,,20,standard
"""


def test_dry_run_reports_what_the_import_does_and_twice_changes_nothing(mill):
    mill.catalogue.products.create({"sku": "MUG", "name": "Mug", "price": "9.00",
                                    "category": "Shop", "stock": 12}, actor=ADMIN)
    before = catalogue_state(mill)
    dry = mill.catalogue.csv.import_csv(CSV, actor=ADMIN, dry_run=True)
    assert catalogue_state(mill) == before
    real = mill.catalogue.csv.import_csv(CSV, actor=ADMIN)
    assert {**dry, "dry_run": False} == real
    assert real["counts"] == {"created": 1, "updated": 1, "unchanged": 0, "refused": 2}
    rows = {(row["row"], row["sku"]): row for row in real["rows"]}
    assert rows[(2, "MUG")]["changes"]["stock"] == [12, 20]  # absolute: shows the change
    assert rows[(2, "MUG")]["changes"]["price"] == ["9.00", "10.00"]
    assert "negative" in rows[(4, "BAD")]["reason"]
    assert "appears again" in rows[(5, "MUG")]["reason"]
    ledger = mill.catalogue.products.ledger("MUG", actor=ADMIN)["movements"]
    assert (ledger[0]["kind"], ledger[0]["reason"], ledger[0]["change"]) == (
        "adjustment", "counted", 8)
    after_first = catalogue_state(mill)
    again = mill.catalogue.csv.import_csv(CSV, actor=ADMIN)
    assert again["counts"] == {"created": 0, "updated": 0, "unchanged": 2, "refused": 2}
    assert catalogue_state(mill) == after_first
    assert_ledger_balances(mill)


def test_export_then_import_changes_nothing(mill):
    mill.catalogue.csv.import_csv(CSV, actor=ADMIN)
    mill.catalogue.products.update("GIG", {"event_date": "2026-12-31T20:00:00+00:00",
                                           "venue": "Blue Note", "low_stock_threshold": 2,
                                           "image_url": "https://shop.test/gig.png"},
                                   actor=ADMIN)
    exported = mill.catalogue.csv.export_csv(actor=actor_of("viewer"))
    assert exported.splitlines()[0].startswith("sku,name,kind,category,price,currency,prices")
    before = catalogue_state(mill)
    report = mill.catalogue.csv.import_csv(exported, actor=ADMIN)
    assert report["counts"]["unchanged"] == 2, report
    assert catalogue_state(mill) == before


@pytest.mark.parametrize(("text", "message"), [
    ("name,price\nMug,1.00\n", "at least a sku column"),
    ("sku,colour\nMUG,red\n", "Unknown CSV column 'colour'"),
])
def test_unusable_files_are_refused_whole(mill, text, message):
    with pytest.raises(InvalidInput, match=message):
        mill.catalogue.csv.import_csv(text, actor=ADMIN, dry_run=True)


def test_support_may_not_import(mill):
    with pytest.raises(PermissionDenied):
        mill.catalogue.csv.import_csv(CSV, actor=actor_of("support"), dry_run=True)
