"""Hooks about the shop's issued documents: invoices and credit notes (issue 15)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ordermill.core.context import ActionContext
    from ordermill.core.invoice_models import CreditNote
    from ordermill.core.models import Invoice

from ordermill.hookspecs.tags import hookspec, in_transaction

__all__ = ["generate_invoice_number"]


@hookspec(firstresult=True)
@in_transaction
def generate_invoice_number(invoice: Invoice | CreditNote, ctx: ActionContext) -> str | None:
    """Choose the number of an invoice or credit note being issued. In-transaction hook.

    Called as the very last step of the issuing transaction (after fraud checks and gateway
    calls), once per document; `invoice.document_kind` is "invoice" or "credit_note", and
    `invoice.issued_at` is set. Stops at the first non-None result: return the number (1 to 40
    characters), or None for the default: gapless per series and year, INV-2026-000123 for
    invoices and CN-2026-000045 for credit notes. For a series of your own that stays
    gapless, take the counter with `next_document_number(ctx.session, series, year)` (one
    atomic UPDATE of a counter row in this transaction, never MAX()+1). Numbers are unique;
    a void invoice keeps its number.
    """
