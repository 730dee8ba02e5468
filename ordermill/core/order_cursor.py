"""Keyset pagination of the order list: a cursor names the last order a page showed.

`page=N` makes the database skip (N-1) x per_page rows; at 100k orders a deep page costs
hundreds of ms on PostgreSQL. A cursor (the list's `next_cursor`, passed back as `after`)
holds the sort's value and the id of the page's last order, so the next page is a range
read from the sort's index (`(placed_at, id) < (v, id)`), as cheap on page 2,000 as on
page 1. Opaque to clients: URL-safe base64 of a small JSON list; a cursor made for another
sort, or damaged, is refused as invalid input.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from typing import Any

from sqlalchemy import literal, tuple_
from sqlalchemy.sql.elements import ColumnElement

from ordermill.core.errors import InvalidInput
from ordermill.core.i18n import gettext as _
from ordermill.core.models import Order


def encode(sort: str, order: Order) -> str:
    """The cursor after `order` in a list sorted by `sort` ("-placed_at", "total", ...)."""
    value = getattr(order, sort.lstrip("-"))
    if isinstance(value, dt.datetime):
        value = value.isoformat()
    raw = json.dumps([sort, value, order.id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _refuse() -> InvalidInput:
    return InvalidInput(_("This cursor is not valid for this list; start again from the "
                          "first page."), details={"field": "after"})


def decode(sort: str, cursor: str) -> tuple[Any, int]:
    """(the sort's value, order id) a cursor holds; InvalidInput when it is not this sort's."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        made_for, value, order_id = json.loads(raw)
    except (ValueError, TypeError, binascii.Error):
        raise _refuse() from None
    if made_for != sort or not isinstance(order_id, int) or isinstance(order_id, bool):
        raise _refuse()
    name = sort.lstrip("-")
    try:
        if name == "placed_at":
            value = dt.datetime.fromisoformat(value)
            if value.tzinfo is None:
                raise ValueError(value)
        elif name == "total":
            if not isinstance(value, int) or isinstance(value, bool):
                raise ValueError(value)
        elif not isinstance(value, str):
            raise ValueError(value)
    except (ValueError, TypeError):
        raise _refuse() from None
    return value, order_id


def after(sort: str, cursor: str) -> ColumnElement[bool]:
    """The orders that come after the cursor's in this sort (ties broken by id, like the
    list's ORDER BY)."""
    value, order_id = decode(sort, cursor)
    column = getattr(Order, sort.lstrip("-"))
    key = tuple_(column, Order.id)
    # typed by the columns: a time is bound as the column stores it (UTCDateTime)
    bound = tuple_(literal(value, column.type), literal(order_id, Order.id.type))
    return key < bound if sort.startswith("-") else key > bound
