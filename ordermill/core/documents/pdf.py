"""Drawing an invoice or credit note as a PDF, from its snapshot, in a Unicode font.

The page shows only what the document's snapshot says (seller, buyer, lines, totals), never
the order as it is today, so a PDF drawn years later is the document that was issued. DejaVu
Sans (shipped in fonts/, with its licence) covers Latin, Greek and Cyrillic scripts: a buyer
called Łukasz Żółć or Дмитрий prints as written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from babel.numbers import format_percent

from ordermill.core.documents.fonts import FAMILY as FONT
from ordermill.core.documents.fonts import FONTS, document_pdf
from ordermill.core.i18n import (
    babel_locale,
    current_locale,
    format_date,
    format_money,
    pgettext,
    use_locale,
)

if TYPE_CHECKING:
    from fpdf import FPDF

# every person-readable string of the documents is in _translated(), translated through the
# core's catalog ("messages") into the language the document is drawn in; the context
# "document" keeps terms of art ("Net", "Total" on an invoice) apart from the admin's words


def _translated() -> dict[str, str]:
    """The labels in the current locale, each msgid written out with its context so that
    `pybabel extract` finds it."""
    return {
        "invoice": pgettext("document", "Invoice"),
        "draft_invoice": pgettext("document", "Draft invoice (not issued)"),
        "void_invoice": pgettext("document", "Invoice (void)"),
        "credit_note": pgettext("document", "Credit note"),
        "number": pgettext("document", "Number"), "order": pgettext("document", "Order"),
        "issued": pgettext("document", "Date of issue"),
        "for_invoice": pgettext("document", "Credits invoice"),
        "seller": pgettext("document", "Seller"), "buyer": pgettext("document", "Bill to"),
        "vat_number": pgettext("document", "VAT number"), "item": pgettext("document", "Item"),
        "qty": pgettext("document", "Qty"), "net": pgettext("document", "Net"),
        "rate": pgettext("document", "Rate"), "tax": pgettext("document", "Tax"),
        "gross": pgettext("document", "Gross"), "tax_summary": pgettext("document", "Tax by rate"),
        "total_net": pgettext("document", "Total net"),
        "total_tax": pgettext("document", "Total tax"), "total": pgettext("document", "Total"),
        "total_credited": pgettext("document", "Total credited"),
        "reverse_charge": pgettext(
            "document", "Reverse charge: VAT to be accounted for by the recipient "
            "(Article 196, Council Directive 2006/112/EC)."),
        "file_invoice": pgettext("file name", "invoice"),
        "file_credit_note": pgettext("file name", "credit-note"),
        "no_rate": "-",
    }


def labels_for(language: str | None) -> Mapping[str, str]:
    """The labels in a language ("fr", "fr-BE", "fr_FR"); English when it has no catalog."""
    with use_locale(language or current_locale()):
        return _translated()


WIDTHS = (74, 12, 26, 16, 24, 28)


def _money(amount: int, currency: str) -> str:
    """In the document's locale: '12,50 €' (fr), 'Rp150.000' (id), '12,50 ₴' (uk)."""
    return format_money(int(amount), currency)


def _rate(rate: Any) -> str:
    if rate in (None, "", "None"):
        return "-"
    text = str(rate).rstrip("%")
    try:
        value = Decimal(text)
    except InvalidOperation:
        return str(rate)
    if value < 1 and value != 0 and "." in text:  # a fraction (0.2) rather than a percent
        value *= 100
    return format_percent(value / 100, format="#,##0.###%", locale=babel_locale())


def _party(pdf: FPDF, labels: Mapping[str, str], title: str, party: Mapping[str, Any]
           ) -> None:
    pdf.set_font(FONT, style="B", size=10)
    pdf.cell(0, 6, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=10)
    rows: list[str] = [str(party.get("name") or "")]
    if party.get("company"):
        rows.append(str(party["company"]))
    address = party.get("address")
    if isinstance(address, Mapping):
        rows += [str(value) for key, value in address.items()
                 if value and key not in ("company", "vat_id")]
    elif address:
        rows += str(address).splitlines()
    if party.get("vat_number"):
        rows.append(f"{labels['vat_number']}: {party['vat_number']}")
    for row in rows:
        if row:
            pdf.cell(0, 5, row, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)


def _lines(pdf: FPDF, labels: Mapping[str, str], lines: Sequence[Mapping[str, Any]],
           currency: str) -> None:
    pdf.set_font(FONT, style="B", size=9)
    for width, key in zip(WIDTHS, ("item", "qty", "net", "rate", "tax", "gross"), strict=True):
        pdf.cell(width, 7, labels[key], border="B", align="L" if key == "item" else "R")
    pdf.ln()
    pdf.set_font(FONT, size=9)
    for line in lines:
        pdf.cell(WIDTHS[0], 6, str(line.get("name", ""))[:48])
        pdf.cell(WIDTHS[1], 6, str(line.get("quantity", 1)), align="R")
        pdf.cell(WIDTHS[2], 6, _money(line.get("net", 0), currency), align="R")
        pdf.cell(WIDTHS[3], 6, _rate(line.get("rate")), align="R")
        pdf.cell(WIDTHS[4], 6, _money(line.get("tax", 0), currency), align="R")
        pdf.cell(WIDTHS[5], 6, _money(line.get("gross", 0), currency), align="R",
                 new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)


def _totals(pdf: FPDF, labels: Mapping[str, str], totals: Mapping[str, Any], currency: str,
            total_label: str) -> None:
    by_rate = totals.get("by_rate") or {}
    if by_rate:
        pdf.set_font(FONT, style="B", size=9)
        pdf.cell(0, 6, labels["tax_summary"], new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FONT, size=9)
        for rate, parts in by_rate.items():
            net = parts.get("net")
            text = f"{_rate(rate)}: {labels['tax']} {_money(parts.get('tax', 0), currency)}"
            if net is not None:
                text += f" ({labels['net']} {_money(net, currency)})"
            pdf.cell(0, 5, text, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
    label_width = sum(WIDTHS[:-1])
    for key, amount, bold in (("total_net", totals.get("net", 0), False),
                              ("total_tax", totals.get("tax", 0), False),
                              (total_label, totals.get("gross", 0), True)):
        pdf.set_font(FONT, style="B" if bold else "", size=10)
        pdf.cell(label_width, 6, labels[key], align="R")
        pdf.cell(WIDTHS[-1], 6, _money(amount, currency), align="R",
                 new_x="LMARGIN", new_y="NEXT")


def render(snapshot: Mapping[str, Any], *, title_key: str, number: str | None,
           issued_at: dt.datetime | None, total_label: str = "total",
           language: str | None = None, timezone: str | None = None) -> bytes:
    """The PDF of one document snapshot (see core.invoicing for its keys), labelled in
    `language` (English when it has no catalog), amounts and dates in its locale.

    The date of issue is the day in the shop's `timezone` (the reader's current zone when
    not given): an invoice issued at 23:30 UTC on 31 December is dated 1 January in Paris."""
    with use_locale(language or current_locale(), timezone):
        return _render(snapshot, title_key=title_key, number=number, issued_at=issued_at,
                       total_label=total_label, labels=_translated())


def _render(snapshot: Mapping[str, Any], *, title_key: str, number: str | None,
            issued_at: dt.datetime | None, total_label: str, labels: Mapping[str, str]
            ) -> bytes:
    currency = str(snapshot.get("currency") or "EUR")
    seller = snapshot.get("seller") or {}
    pdf = document_pdf(format="A4")  # fpdf and Pillow are imported here, when a PDF is drawn
    title = labels[title_key] + (f" {number}" if number else "")
    pdf.set_title(title)
    pdf.set_author(str(seller.get("name") or ""))
    pdf.set_creator("ordermill")
    pdf.set_creation_date(issued_at or dt.datetime.now(dt.UTC))
    pdf.add_page()
    pdf.set_font(FONT, style="B", size=16)
    pdf.cell(0, 10, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=10)
    facts = [(labels["number"], number or labels["no_rate"]),
             (labels["order"], snapshot.get("order_number")),
             (labels["issued"], format_date(issued_at, "long") if issued_at else None),
             (labels["for_invoice"], snapshot.get("invoice_number"))]
    for label, value in facts:
        if value:
            pdf.cell(0, 5, f"{label}: {value}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    _party(pdf, labels, labels["seller"], seller)
    _party(pdf, labels, labels["buyer"], snapshot.get("buyer") or {})
    _lines(pdf, labels, snapshot.get("lines") or [], currency)
    _totals(pdf, labels, snapshot.get("totals") or {}, currency, total_label)
    if snapshot.get("reverse_charge"):
        pdf.ln(3)
        pdf.set_font(FONT, style="B", size=9)
        pdf.multi_cell(0, 5, labels["reverse_charge"], new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


__all__ = ["FONTS", "labels_for", "render"]
