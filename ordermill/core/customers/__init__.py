"""Customers (issue 19): the list and page, edits and notes, merge, export and erasure.

Each action checks its permission (`view_orders` to read, `manage_customers` to edit, merge
and export, `erase_customer_data` to erase), runs in one transaction and writes a row of the
customer's history (core.customer_models.CustomerEvent).
"""

from __future__ import annotations

from ordermill.core.customers.common import (
    EDITABLE_FIELDS,
    AlreadyErased,
    CustomerErased,
    CustomerNotFound,
    customer_to_dict,
)
from ordermill.core.customers.editing import EmailTaken, add_note, update_customer
from ordermill.core.customers.erasure import ErasureScope, erase_customer
from ordermill.core.customers.export import export_customer
from ordermill.core.customers.listing import (
    CSV_COLUMNS,
    CUSTOMER_SORTS,
    customer_detail,
    export_customers,
    lookup_customers,
    search_customers,
)
from ordermill.core.customers.merging import merge_customers

__all__ = [
    "CSV_COLUMNS",
    "CUSTOMER_SORTS",
    "EDITABLE_FIELDS",
    "AlreadyErased",
    "CustomerErased",
    "CustomerNotFound",
    "EmailTaken",
    "ErasureScope",
    "add_note",
    "customer_detail",
    "customer_to_dict",
    "erase_customer",
    "export_customer",
    "export_customers",
    "lookup_customers",
    "merge_customers",
    "search_customers",
    "update_customer",
]
