"""Invoice and credit note documents (issue 15): the API's fields and PDF downloads, the
issue-invoice endpoint, the admin's Invoices card and the customer page's links. The PDFs are
read back with pypdf: Unicode names print as written, and the numbers are on them."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from pypdf import PdfReader

from ordermill.core.documents.pdf import render
from ordermill.core.order_links import order_link_token
from ordermill.core.shop_settings import write_setting

YEAR = dt.datetime.now(dt.UTC).year
INV1, CN1 = f"INV-{YEAR}-000001", f"CN-{YEAR}-000001"
BUYER = "Łukasz Żółć"


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


@pytest.fixture
def refunded_order(mill: Any, make_product: Any, order_factory: Any, staff: Any) -> Any:
    make_product("SEAT", price=3000, stock=20, name="Miejsce na koncert")
    make_product("SHIRT", price=2500, stock=20, name="Koszulka")
    write_setting(mill, "seller", {"name": "Filharmonia Sp. z o.o.",
                                   "address": "ul. Jasna 5, 00-013 Warszawa",
                                   "vat_number": "PL5260250274"}, actor=staff)
    order = order_factory([("SEAT", 2), ("SHIRT", 1)], paid=True, name=BUYER,
                          email="lukasz@example.com")
    shirt = mill.orders.get(order.number).lines[1]
    mill.orders.refund(order.number, actor=staff, line_ids=[shirt.id])
    return mill.orders.get(order.number)


def test_the_order_answer_lists_invoice_numbers_states_and_credit_notes(api_client,
                                                                         refunded_order):
    answer = api_client.get(f"/api/v1/orders/{refunded_order.number}", role="viewer")
    assert answer.status_code == 200
    body = answer.get_json()
    [invoice] = body["invoices"]
    assert (invoice["number"], invoice["status"], invoice["payment_status"]) == (
        INV1, "issued", "paid")
    assert invoice["issued_at"]
    [note] = body["credit_notes"]
    assert note["number"] == CN1 and note["invoice_number"] == INV1
    assert (note["amount"], note["tax"], note["reason"]) == ("25.00", "0.00", "refund")
    assert note["invoice_id"] == invoice["id"]


def test_invoice_and_credit_note_pdfs_download_with_unicode_and_numbers(api_client,
                                                                        refunded_order):
    number = refunded_order.number
    invoice_id = refunded_order.invoices[0].id
    response = api_client.get(f"/api/v1/orders/{number}/invoices/{invoice_id}/pdf",
                              role="viewer")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert f'filename="invoice-{INV1}.pdf"' in response.headers["Content-Disposition"]
    text = pdf_text(response.data)
    for expected in (f"Invoice {INV1}", BUYER, "Filharmonia Sp. z o.o.", "PL5260250274",
                     "Miejsce na koncert", "Koszulka", f"Order: {number}", "€85.00"):
        assert expected in text, expected
    note_id = refunded_order.credit_notes[0].id
    response = api_client.get(f"/api/v1/orders/{number}/credit-notes/{note_id}/pdf",
                              role="viewer")
    assert response.status_code == 200
    text = pdf_text(response.data)
    for expected in (f"Credit note {CN1}", f"Credits invoice: {INV1}", BUYER, "Koszulka",
                     "€25.00"):
        assert expected in text, expected
    missing = api_client.get(f"/api/v1/orders/{number}/credit-notes/{note_id + 99}/pdf",
                             role="viewer")
    assert missing.status_code == 404
    assert missing.get_json()["error"]["code"] == "not_found"
    assert api_client.get(f"/api/v1/orders/{number}/invoices/{invoice_id}/pdf"
                          ).status_code == 401


def test_the_issued_pdf_keeps_the_buyer_after_an_edit(api_client, refunded_order, mill,
                                                      staff):
    mill.orders.edit_buyer(refunded_order.number, {"name": "Someone Else"}, actor=staff)
    invoice_id = refunded_order.invoices[0].id
    text = pdf_text(api_client.get(
        f"/api/v1/orders/{refunded_order.number}/invoices/{invoice_id}/pdf",
        role="viewer").data)
    assert BUYER in text and "Someone Else" not in text


def test_issue_invoice_endpoint(api_client, mill, make_product, order_factory):
    make_product("SEAT", price=3000, stock=20)
    order = order_factory([("SEAT", 1)], generate_invoice=False)
    path = f"/api/v1/orders/{order.number}/issue-invoice"
    dry = api_client.post(path + "?dry_run=true", role="admin", json={})
    assert dry.status_code == 200 and mill.orders.get(order.number).invoices == []
    assert api_client.post(path, role="viewer", json={}).status_code == 403
    done = api_client.post(path, role="admin", json={"comment": "Asked by the buyer"})
    assert done.status_code == 200, done.get_json()
    [invoice] = done.get_json()["order"]["invoices"]
    assert (invoice["number"], invoice["status"]) == (INV1, "issued")
    again = api_client.post(path, role="admin", json={})
    assert again.status_code == 409
    assert "no draft invoice to issue" in again.get_json()["error"]["message"]


def test_the_customer_page_lists_documents_with_pdf_links(client, mill, refunded_order):
    token = order_link_token(mill, refunded_order.number)
    page = client.get(f"/my-order/{token}")
    html = page.get_data(as_text=True)
    invoice_id = refunded_order.invoices[0].id
    note_id = refunded_order.credit_notes[0].id
    assert f"Invoice {INV1}" in html and f"Credit note {CN1}" in html
    invoice_link = f"/my-order/{token}/invoices/{invoice_id}.pdf"
    note_link = f"/my-order/{token}/credit-notes/{note_id}.pdf"
    assert invoice_link in html and note_link in html
    invoice = client.get(invoice_link)
    assert invoice.status_code == 200 and invoice.headers["Cache-Control"] == "no-store"
    assert BUYER in pdf_text(invoice.data)
    assert CN1 in pdf_text(client.get(note_link).data)
    assert client.get(f"/my-order/{token}x/invoices/{invoice_id}.pdf").status_code == 404


def test_the_customer_never_sees_a_draft(client, mill, make_product, order_factory):
    make_product("SEAT", price=3000, stock=20)
    order = order_factory([("SEAT", 1)], generate_invoice=False)
    from ordermill.core.requests import LineRequest
    from ordermill.core.specs import Actor

    mill.orders.add_lines(order.number, [LineRequest("SEAT", 1)], actor=Actor.system("t"))
    [draft] = mill.orders.get(order.number).invoices
    assert draft.state == "draft" and draft.number is None
    token = order_link_token(mill, order.number)
    assert "Invoices and credit notes" not in client.get(f"/my-order/{token}").get_data(
        as_text=True)
    assert client.get(f"/my-order/{token}/invoices/{draft.id}.pdf").status_code == 404


def test_the_admin_invoices_card_lists_credit_notes_and_offers_issue(admin_client, mill,
                                                                     refunded_order):
    page = admin_client.get(f"/admin/orders/{refunded_order.number}")
    html = page.get_data(as_text=True)
    note_id = refunded_order.credit_notes[0].id
    assert INV1 in html and CN1 in html and 'id="credit-notes"' in html
    link = f"/admin/orders/{refunded_order.number}/credit-notes/{note_id}/pdf"
    assert link in html
    response = admin_client.get(link)
    assert response.status_code == 200 and CN1 in pdf_text(response.data)
    invoice_id = refunded_order.invoices[0].id
    response = admin_client.get(f"/admin/orders/{refunded_order.number}/invoices/"
                                f"{invoice_id}/pdf")
    assert INV1 in pdf_text(response.data)


def test_reverse_charge_wording_when_the_snapshot_says_so() -> None:
    snapshot = {"order_number": "1234567890", "currency": "EUR", "reverse_charge": True,
                "seller": {"name": "Shop"}, "buyer": {"name": "東京 GmbH",
                                                      "vat_number": "DE136695976"},
                "lines": [{"name": "Hosting", "quantity": 1, "net": 10000, "tax": 0,
                           "rate": "0", "gross": 10000}],
                "totals": {"net": 10000, "tax": 0, "gross": 10000,
                           "by_rate": {"0": {"net": 10000, "tax": 0}}}}
    text = pdf_text(render(snapshot, title_key="invoice", number=INV1, issued_at=None))
    assert "Reverse charge" in text and "DE136695976" in text and "GmbH" in text
    snapshot["reverse_charge"] = False
    assert "Reverse charge" not in pdf_text(render(snapshot, title_key="invoice",
                                                   number=INV1, issued_at=None))


def test_the_seller_settings_page_sets_the_seller_of_documents_issued_later(
        admin_client, admin_login, mill, make_product, order_factory):
    page = admin_client.get("/admin/settings/seller")
    assert page.status_code == 200 and "Seller on invoices" in page.get_data(as_text=True)
    saved = admin_client.post("/admin/settings/seller", {
        "name": "Hôtel Żółć SARL", "address": "1 rue de Rivoli\n75001 Paris",
        "vat_number": "FR40303265045"})
    assert saved.status_code == 303
    make_product("SEAT", price=3000, stock=20)
    order = order_factory([("SEAT", 1)])
    seller = mill.orders.get(order.number).invoices[0].snapshot["seller"]
    assert seller == {"name": "Hôtel Żółć SARL", "address": "1 rue de Rivoli\n75001 Paris",
                      "vat_number": "FR40303265045"}
    assert admin_login("support").get("/admin/settings/seller").status_code == 403


# The shipped fonts are a subset of DejaVu (see fonts/LICENSE-DejaVu.txt): what a buyer's
# name, an address or an amount may hold must stay in it, in both weights.
SCRIPTS_PRINTED = {
    "Latin-1, Latin Extended-A and B": (0x20, 0x24F),
    "Greek": (0x391, 0x3C9),
    "Cyrillic (Russian, Ukrainian, ...)": (0x400, 0x45F),
    "Armenian": (0x531, 0x556),
    "Hebrew": (0x5D0, 0x5EA),
    "Georgian": (0x10D0, 0x10F0),
    "Vietnamese (Latin Extended Additional)": (0x1EA0, 0x1EF9),
}


@pytest.mark.parametrize("font", ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf"])
def test_the_document_fonts_print_every_script_a_name_may_be_written_in(font: str) -> None:
    from fontTools.ttLib import TTFont

    from ordermill.api import DOCUMENT_FONTS

    cmap = TTFont(DOCUMENT_FONTS / font).getBestCmap()
    missing = {script: [hex(cp) for cp in range(first, last + 1)
                        if cp not in cmap and chr(cp).isprintable() and chr(cp).isalpha()]
               for script, (first, last) in SCRIPTS_PRINTED.items()}
    assert {script: cps for script, cps in missing.items() if cps} == {}
    assert all(ord(symbol) in cmap for symbol in "€₴₽₹£¥₺₫№—“”…•\u2013\u2018\u2019")


def test_a_pdf_drawn_from_the_parsed_fonts_is_the_one_fpdf_draws(monkeypatch) -> None:
    """The fonts are parsed once per process and cut down from a base subset when it holds
    every glyph used (core/documents/fonts.py): each document still gets its own glyph
    subset, and its bytes are what fpdf2's own `add_font` gives, inside the base (Latin,
    Greek, Cyrillic) and outside it (Armenian)."""
    from fpdf import FPDF

    from ordermill.core.documents import fonts
    from ordermill.core.documents import pdf as pdf_module

    def document(name: str) -> bytes:
        snapshot = {"order_number": "1234567890", "currency": "EUR",
                    "seller": {"name": "Shop"}, "buyer": {"name": name},
                    "lines": [{"name": "Ticket", "quantity": 1, "net": 1000, "tax": 200,
                               "rate": "20", "gross": 1200}],
                    "totals": {"net": 1000, "tax": 200, "gross": 1200}}
        return render(snapshot, title_key="invoice", number=INV1,
                      issued_at=dt.datetime(2026, 1, 2, tzinfo=dt.UTC))

    names = ["Дмитрий Żółć", "Ελένη Παπαδοπούλου", "Արամ Պետրոսյան"]
    drawn = [document(name) for name in names]
    assert document(names[0]) == drawn[0]  # no glyph of another document stayed behind
    for name, pdf in zip(names, drawn, strict=True):
        assert name in pdf_text(pdf)

    def fpdf_own(**options: Any) -> FPDF:
        pdf = FPDF(**options)
        for style, path in fonts.FILES.items():
            pdf.add_font(fonts.FAMILY, style, str(path))
        return pdf

    monkeypatch.setattr(pdf_module, "document_pdf", fpdf_own)
    assert [document(name) for name in names] == drawn


@pytest.mark.parametrize(("text", "from_base"), [("Łukasz Дмитрий Ελένη 12,50 € №7", True),
                                                 ("Łukasz Արամ", False)])
def test_a_document_font_is_cut_down_from_the_base_subset_when_it_holds_every_glyph(
        text: str, from_base: bool) -> None:
    from ordermill.core.documents import fonts

    pdf = fonts.document_pdf()
    pdf.add_page()
    pdf.set_font(fonts.FAMILY, size=10)
    pdf.cell(0, 5, text)
    font = pdf.fonts[fonts.FAMILY.lower()]
    fonts.subset_from_base(font, fonts.FILES[""])
    assert isinstance(font.ttfont.reader.file, io.BytesIO) is from_base
    assert text.split()[-1] in pdf_text(bytes(pdf.output()))
