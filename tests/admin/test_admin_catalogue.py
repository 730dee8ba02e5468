"""The admin's Products and Promo codes: navigation, list with low-stock flags, create and
edit pages, the stock adjustment dialog (as a page), CSV import with a dry run first, promo
codes; viewers see the pages but no buttons, and a forged post changes nothing."""

from __future__ import annotations

from adminkit import flashes

from ordermill.testing_web import snapshot

CSV = "sku,name,price,stock,category\nMUG,Mug,8.00,5,Kitchen\nBAD,Bad,-1,1,Kitchen\n"


def test_products_from_the_admin(admin, mill):
    assert "Products" in admin.get("/admin/orders").get_data(as_text=True)
    created = admin.post("/admin/products/new", {
        "sku": "SHIRT", "name": "T-shirt", "kind": "physical", "price": "12.50",
        "stock": "4", "low_stock_threshold": "5", "prices": "USD=14.00",
        "tax_class": "standard", "category": "Clothes"})
    assert created.status_code == 303, created.get_data(as_text=True)
    page = admin.get("/admin/products/SHIRT").get_data(as_text=True)
    assert "Low stock" in page and "Product SHIRT created" in page
    adjusted = admin.post("/admin/products/SHIRT/stock", {"mode": "change", "change": "+6",
                                                          "reason": "received"})
    assert adjusted.status_code == 303
    page = admin.get("/admin/products/SHIRT").get_data(as_text=True)
    assert "Stock of SHIRT +6 (received): now 10" in " ".join(flashes(page))
    assert "Low stock" not in page.split("<form")[0]
    assert "received" in page.split('data-testid="stock-ledger"')[1]
    listing = admin.get("/admin/products").get_data(as_text=True)
    assert 'data-testid="product-row-SHIRT"' in listing


def test_refusals_keep_the_form_and_change_nothing(admin, mill):
    admin.post("/admin/products/new", {"sku": "SHIRT", "name": "T-shirt", "price": "12.50",
                                       "stock": "4"})
    before = snapshot(mill)
    again = admin.post("/admin/products/new", {"sku": "SHIRT", "name": "Other",
                                               "price": "1.00"})
    assert again.status_code == 409
    assert "exists already" in again.get_data(as_text=True)
    negative = admin.post("/admin/products/SHIRT/stock", {"mode": "change", "change": "-9",
                                                          "reason": "damaged"})
    assert negative.status_code == 409
    assert "only 4 in stock" in negative.get_data(as_text=True)
    assert snapshot(mill) == before


def test_csv_import_shows_the_dry_run_then_imports(admin, mill):
    dry = admin.post("/admin/products/import", {"csv": CSV})
    html = dry.get_data(as_text=True)
    assert "Dry run: nothing saved yet" in html and "1 to create" in html and "1 refused" in html
    assert mill.catalogue.csv.export_rows(actor=_system()) == []
    done = admin.post("/admin/products/import", {"csv": CSV, "confirm": "1"})
    assert done.status_code == 303
    assert [row["sku"] for row in mill.catalogue.csv.export_rows(actor=_system())] == ["MUG"]


def test_promo_codes_from_the_admin(admin, mill):
    admin.post("/admin/products/new", {"sku": "GIG", "name": "Gig", "price": "40.00",
                                       "stock": "9", "category": "Concerts"})
    created = admin.post("/admin/promo-codes/new", {
        "code": "GIGS", "kind": "percent", "percent": "10", "usage_limit": "5",
        "products": "GIG", "combinable": "on"})
    assert created.status_code == 303, created.get_data(as_text=True)
    listing = admin.get("/admin/promo-codes").get_data(as_text=True)
    assert "GIGS" in listing and "0 / 5" in listing
    refused = admin.post("/admin/promo-codes/new", {"code": "OLD", "kind": "percent",
                                                    "percent": "10",
                                                    "valid_until": "2020-01-01"})
    assert refused.status_code == 422 and "in the past" in refused.get_data(as_text=True)
    admin.post("/admin/promo-codes/GIGS/disable", {})
    assert mill.catalogue.promos.get("GIGS", actor=_system())["active"] is False


def test_viewer_sees_pages_without_buttons_and_forged_posts_change_nothing(staff_login, mill):
    mill.catalogue.products.create({"sku": "GIG", "name": "Gig", "price": "40.00",
                                    "stock": 9}, actor=_system())
    viewer = staff_login("viewer")
    page = viewer.get("/admin/products/GIG").get_data(as_text=True)
    assert 'data-testid="adjust-stock"' not in page and 'data-testid="product-save"' not in page
    before = snapshot(mill)
    assert viewer.post("/admin/products/GIG/stock", {"mode": "count", "count": "1"}
                       ).status_code == 403
    assert viewer.post("/admin/products/new", {"sku": "X", "name": "X", "price": "1.00"}
                       ).status_code == 403
    assert viewer.post("/admin/promo-codes/new", {"code": "X", "percent": "5"}
                       ).status_code == 403
    assert snapshot(mill) == before


def _system():
    from ordermill.core.specs import Actor

    return Actor.system("test")
