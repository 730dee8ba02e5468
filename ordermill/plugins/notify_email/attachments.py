"""Files attached to messages: today the invoice PDFs of the order confirmation.

`attachments_for` is the single place that decides what a message carries. It is a plain
function, not a hook, on purpose: when the e-tickets plugin (provisioning issue) can render a
tickets PDF, add it here by calling that plugin's public function for paid ticket orders, so
the confirmation carries the tickets too. Until then the confirmation carries the invoice.

The invoice is the core's document (ordermill.api.order_documents: each issued invoice, drawn
from its snapshot in a Unicode font), the same PDF the API, the admin and the customer page
serve; an order whose invoice is not issued yet gets none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from ordermill.api import ActionContext, Actor, Order, order_documents

if TYPE_CHECKING:
    from ordermill.api import Ordermill

INVOICE_TEMPLATES = frozenset({"order_confirmation"})


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
        found.extend(Attachment(document.filename, document.content_type, document.data)
                     for document in order_documents(mill, order, language=language))
    ctx = ActionContext(mill, Actor.system("notify_email"), "notify_email")
    for files in mill.plugins.call(
            "message_attachments", order=order, message=template, ctx=ctx).values:
        found.extend(Attachment(f.filename, f.content_type, f.data) for f in files)
    return found
