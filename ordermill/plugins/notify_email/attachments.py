"""Files attached to messages: today the invoice PDF of the order confirmation.

`attachments_for` is the single place that decides what a message carries. It is a plain
function, not a hook, on purpose: when the e-tickets plugin (provisioning issue) can render a
tickets PDF, add it here by calling that plugin's public function for paid ticket orders, so
the confirmation carries the tickets too. Until then the confirmation carries the invoice.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs
from fpdf import FPDF

from ordermill.api import ActionContext, Actor, Order, order_to_dict

if TYPE_CHECKING:
    from ordermill.api import Ordermill

INVOICE_TEMPLATES = frozenset({"order_confirmation"})
LABELS: Mapping[str, Mapping[str, str]] = {
    "en": {"title": "Invoice", "order": "Order", "date": "Date", "buyer": "Bill to",
           "item": "Item", "qty": "Qty", "unit": "Unit price", "total": "Total",
           "subtotal": "Subtotal", "discount": "Discount", "paid": "Paid",
           "due": "Amount due", "method": "Payment method", "file": "invoice",
           "status": {"active": "", "cancelled": "cancelled", "refunded": "refunded"}},
    "fr": {"title": "Facture", "order": "Commande", "date": "Date", "buyer": "Facturé à",
           "item": "Article", "qty": "Qté", "unit": "Prix unitaire", "total": "Total",
           "subtotal": "Sous-total", "discount": "Remise", "paid": "Payé",
           "due": "Reste à payer", "method": "Moyen de paiement", "file": "facture",
           "status": {"active": "", "cancelled": "annulé", "refunded": "remboursé"}},
}


@attrs.frozen
class Attachment:
    """One file to attach: name as the customer sees it, MIME type and bytes."""

    filename: str
    content_type: str
    data: bytes

    @property
    def maintype(self) -> str:
        return self.content_type.split("/", 1)[0]

    @property
    def subtype(self) -> str:
        return self.content_type.split("/", 1)[1]


def attachments_for(mill: Ordermill, order: Order, template: str, *,
                    language: str = "en") -> list[Attachment]:
    """What a message carries: the invoice PDF for the confirmation, plus whatever plugins add
    through the `message_attachments` hook (e-tickets once the order is paid)."""
    found: list[Attachment] = []
    if template in INVOICE_TEMPLATES and order.total > 0:
        labels = _labels(language)
        found.append(Attachment(f"{labels['file']}-{order.number}.pdf", "application/pdf",
                                invoice_pdf(mill, order, language=language)))
    ctx = ActionContext(mill, Actor.system("notify_email"), "notify_email")
    for files in mill.plugins.call(
            "message_attachments", order=order, message=template, ctx=ctx).values:
        found.extend(Attachment(f.filename, f.content_type, f.data) for f in files)
    return found


def _labels(language: str) -> Mapping[str, Any]:
    return LABELS.get(language.split("_")[0].split("-")[0].lower(), LABELS["en"])


def _latin1(text: Any) -> str:
    """The PDF core fonts speak Latin-1: keep what fits, strip accents from the rest."""
    out = []
    for char in str(text if text is not None else ""):
        if ord(char) < 256:
            out.append(char)
            continue
        base = unicodedata.normalize("NFKD", char)
        kept = "".join(c for c in base if ord(c) < 256 and not unicodedata.combining(c))
        out.append(kept or "?")
    return "".join(out)


def invoice_pdf(mill: Ordermill, order: Order, *, language: str = "en") -> bytes:
    """A one-page invoice for the order, in its language (English or French labels)."""
    labels = _labels(language)
    data = order_to_dict(order)
    currency = data["currency"]
    pdf = FPDF(format="A4")
    pdf.set_title(_latin1(f"{labels['title']} {order.number}"))
    pdf.set_author(_latin1(mill.settings.shop_name))
    pdf.set_creator("ordermill")
    pdf.set_creation_date(dt.datetime.now(dt.UTC))
    pdf.add_page()
    pdf.set_font("Helvetica", style="B", size=18)
    pdf.cell(0, 10, _latin1(mill.settings.shop_name), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=14)
    pdf.cell(0, 9, _latin1(f"{labels['title']} - {labels['order']} {order.number}"),
             new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    placed = order.placed_at.date().isoformat() if order.placed_at else ""
    pdf.cell(0, 6, _latin1(f"{labels['date']}: {placed}"), new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 6, _latin1(f"{labels['method']}: {order.payment_method}"),
             new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("Helvetica", style="B", size=10)
    pdf.cell(0, 6, _latin1(labels["buyer"]), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    buyer_lines = [order.buyer_name, order.buyer_email]
    buyer_lines += [str(v) for v in (order.billing_address or {}).values() if v]
    for text in buyer_lines:
        pdf.cell(0, 5, _latin1(text), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    widths = (95, 15, 35, 35)
    pdf.set_font("Helvetica", style="B", size=10)
    for width, key in zip(widths, ("item", "qty", "unit", "total"), strict=True):
        pdf.cell(width, 7, _latin1(labels[key]), border="B", align="L" if key == "item" else "R")
    pdf.ln()
    pdf.set_font("Helvetica", size=10)
    for line in data["lines"]:
        status = labels["status"].get(line["status"], line["status"])
        name = f"{line['name']} ({line['sku']})" + (f" - {status}" if status else "")
        pdf.cell(widths[0], 6, _latin1(name)[:60])
        pdf.cell(widths[1], 6, str(line["quantity"]), align="R")
        pdf.cell(widths[2], 6, f"{line['unit_price']} {currency}", align="R")
        pdf.cell(widths[3], 6, f"{line['total']} {currency}", align="R",
                 new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    rows = [("subtotal", data["subtotal"])]
    if data["discount"] != "0.00" and order.discount:
        rows.append(("discount", f"-{data['discount']}"))
    rows += [("total", data["total"]), ("paid", data["captured"]), ("due", data["amount_due"])]
    for key, amount in rows:
        pdf.set_font("Helvetica", style="B" if key in ("total", "due") else "", size=10)
        pdf.cell(sum(widths[:3]), 6, _latin1(labels[key]), align="R")
        pdf.cell(widths[3], 6, f"{amount} {currency}", align="R", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
