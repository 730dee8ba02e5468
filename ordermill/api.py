"""The public plugin API: everything a plugin may import from ordermill, in one place.

A plugin imports `ordermill.api`, `ordermill.hookspecs` (for type hints of hook arguments, or
to read HOOK_KINDS) and its own package: nothing else of ordermill. An import-linter contract
in the test suite holds the built-in plugins to that, so this module is the whole surface and
its names stay stable; everything else may change between releases. It only re-exports: the
code lives in the core.

Hooks
    `hookimpl` marks your hook implementations; `hookspec` marks the hookspecs of a plugin that
    defines hooks of its own. `HOOKSPEC_VERSION` is raised when a hook changes.
    docs/hooks.md says what every hook receives and returns.

What hooks return (frozen spec objects)
    StatusSpec (register_statuses), PaymentGatewaySpec with GatewayRefund, GatewayEventData
    and GatewayRefundData (register_payment_gateways), JobHandlerSpec (register_job_handlers),
    JobRequest (jobs_for_event, `ctx.enqueue`), FraudResult (fraud_check),
    MessageAttachment (message_attachments), RotationReport (rotate_stored_secrets),
    EventTypeSpec (register_event_types: the words for the history event types you write).

The app and the action context
    Ordermill is the app a hook reaches as `ctx.mill` (`mill` in job handlers); Settings its
    configuration (`settings.plugin_config(name)`); Actor who acts (`Actor.system("my_plugin")`
    for work nobody asked for); ActionContext the `ctx` of every hook. Order actions are
    methods of `mill.orders` (place, accept, cancel, refund, mark_paid, add_comment, ...;
    they return an ActionResult). A plugin's own change to one order (a ticket checked in, a
    provisioning outcome, a sent e-mail) runs in the action runner:

        with mill.orders.editing(number, actor=actor, action="check_in",
                                 permission="edit_orders") as (order, ctx):
            ctx.record_event(order, "ticket_checked_in", "Ticket T-1 checked in.")

    The order is locked as the core's actions lock it and everything, events and jobs queued
    with `ctx.enqueue`, commits when the block ends (or nothing does). Inside an
    in-transaction hook, `ctx.record_event(order, type, message, ...)` writes history in the
    action's own transaction. Never build OrderEvent rows or lock orders by hand.

Speaking the reader's language (issue 21)
    Your plugin's catalog: `i18n = Domain("ordermill_<plugin>", Path(__file__).parent /
    "translations")`, `_ = i18n.gettext` (named parameters: `_("Seat %(seat)s", seat=...)`);
    gettext/ngettext/lazy_gettext/N_ here use the core's catalog; use_locale and
    current_locale choose the language; format_money/format_date/format_datetime/
    format_number format for it. History events: pass `event_msg("Ticket %(ticket)s checked
    in.", catalog_domain="ordermill_<plugin>", ticket="T-1")` as the message of
    `ctx.record_event` (or its `message_id=`, `params=`, `domain=`): the English text is
    stored as today, and event_message(event, mill) shows it in the reader's language.
    A Money parameter is shown with format_money, status_param/gateway_param with the
    reader's status_label/gateway_label. StatusSpec(labels={"fr": ...}) labels a custom
    status per language.

Reading the core
    payment_status, amount_due, money_totals and line_summary derive an order's state;
    order_to_dict and event_to_dict give the API's JSON shapes; customer_order_link signs a
    link to the customer's order page; require(actor, permission) refuses with
    PermissionDenied; read_setting reads the admin's stored settings; utcnow is the clock
    every row uses; without_secrets and MASKS keep secrets out of history and answers.

Recurring billing
    add_renewal_invoice(order, amount, description, due_at=...) bills a further period on
    an order you hold in `mill.orders.editing` (an invoice of kind "renewal" that adds to
    what the order owes); saved_method(mill, gateway, number) reads what the buyer saved at
    the first payment; charge_saved(mill, number, gateway=..., invoice_id=..., saved=...,
    attempt=...) debits it off-session and applies the answer (saved_charge_key says the
    idempotency key it uses). Gateways take part through PaymentGatewaySpec's optional
    `saved_method` and `charge_saved`.

Writing from a transaction you are given
    enqueue(session, JobRequest, order_number=...) queues outbox work in a session you hold
    (inside an action prefer `ctx.enqueue`); release_stock(session, product_id, quantity,
    line=..., reason=ctx.action) returns units to stock (the restock hook) and writes the
    stock ledger's release row, labelled with the line's order. LEGACY_DEFAULT_KEY is the key
    old installs used by default: try it when re-encrypting stored secrets
    (RotationReport.from_legacy_key).

Routes, admin pages and commands (imported on first use, so a worker never loads Flask)
    In a view of your `register_blueprints` blueprint: request_mill() is the app serving the
    request; require_actor() the caller (401 without one); access("public" | "optional")
    lets a write through without a caller; documented(*statuses, summary=...) says in
    /api/v1/openapi.json which errors a view answers and that it needs a token, as the
    core's views do; live_enum(schema, field, values) lists the live values of a field
    (values(app) -> list, e.g. what your plugins registered); text_field(max_length) and
    json_object_field() are the bounded marshmallow fields the core's schemas use. In your
    admin form POST route (an OrderButton's), admin_form_actor() checks that someone is
    logged in (401) and the form's csrf_token (400) and returns the staff member;
    admin_actor() is the logged-in staff member in a GET view. In a command of
    `register_commands`, current_mill() is the app of the command line.

Tables
    The ORM classes a plugin may read: Order, OrderLine, Invoice, Payment, OrderEvent,
    Product, Customer (ErasureScope: what `erase_personal_data` gets), StaffUser (staff
    members: id, name, e-mail, role, active). A plugin's own tables subclass Base (and ship
    their own Alembic branch,
    see `register_migration_locations`).

Money
    Money (integer minor units and an ISO 4217 currency, never a float), money_text ("12.50"),
    check_currency, exponent, percent_of, allocate and MAX_AMOUNT.

Errors
    Raise these and the API and admin answer with a clear message: InvalidInput, NotFound,
    OrderNotFound, ActionNotAllowed, PermissionDenied, ConfigurationError, PluginError,
    WebhookRejected (a bad webhook signature), ... all subclasses of OrdermillError.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ordermill import __version__
from ordermill.core.adjustments import Adjustment
from ordermill.core.admin_specs import (
    FilterSpec,
    OrderButton,
    OrderPanel,
    RequestField,
    SettingField,
    SettingsPage,
)
from ordermill.core.app import Ordermill
from ordermill.core.available import available_actions, holds
from ordermill.core.billing import add_renewal_invoice
from ordermill.core.context import ActionContext
from ordermill.core.customers.erasure import ErasureScope
from ordermill.core.documents import DocumentFile, credit_note_pdf, invoice_pdf, order_documents
from ordermill.core.documents.fonts import document_pdf
from ordermill.core.documents.pdf import FONTS as DOCUMENT_FONTS
from ordermill.core.errors import (
    ActionNotAllowed,
    ConfigurationError,
    IllegalTransition,
    InvalidInput,
    LineAlreadyClosed,
    LineNotFound,
    NotFound,
    OrdermillError,
    OrderNotFound,
    OutOfStock,
    OverRefund,
    PermissionDenied,
    PluginConflict,
    PluginError,
    PluginLoadError,
    StaleOrder,
    UnknownInvoice,
    UnknownLine,
    UnknownProduct,
)
from ordermill.core.event_types import EventTypeSpec
from ordermill.core.i18n import (
    LANGUAGES,
    N_,
    Domain,
    EventMsg,
    GatewayName,
    StatusName,
    current_locale,
    event_msg,
    event_ngettext,
    format_date,
    format_datetime,
    format_money,
    format_number,
    gettext,
    lazy_gettext,
    ngettext,
    parse_amount,
    use_locale,
)
from ordermill.core.inventory import release as release_stock
from ordermill.core.invoice_models import CreditNote
from ordermill.core.invoicing import next_document_number
from ordermill.core.labels import (
    event_message,
    gateway_label,
    gateway_param,
    money_shown,
    status_label,
    status_param,
    summary_label,
)
from ordermill.core.models import (
    Base,
    Customer,
    Invoice,
    Order,
    OrderEvent,
    OrderLine,
    Payment,
    Product,
    utcnow,
)
from ordermill.core.models import User as StaffUser
from ordermill.core.money import (
    MAX_AMOUNT,
    Money,
    allocate,
    check_currency,
    exponent,
    percent_of,
)
from ordermill.core.notifications import customer_order_link
from ordermill.core.orders import ActionResult
from ordermill.core.outbox import enqueue
from ordermill.core.payments import WebhookRejected
from ordermill.core.permissions import require
from ordermill.core.plugins import HookOutcome
from ordermill.core.redact import MASKS, without_secrets
from ordermill.core.saved_payments import charge_saved, saved_charge_key, saved_method
from ordermill.core.secret_keys import LEGACY_DEFAULT_KEY
from ordermill.core.secret_rotation import RotationReport
from ordermill.core.serialize import event_to_dict, money_text, order_to_dict
from ordermill.core.settings import Settings
from ordermill.core.shop_settings import plugin_settings, read_setting
from ordermill.core.specs import (
    GATEWAY_EVENT_KINDS,
    Actor,
    AdminLink,
    FraudResult,
    GatewayEventData,
    GatewayRefund,
    GatewayRefundData,
    JobHandlerSpec,
    JobRequest,
    MessageAttachment,
    OutboxJobView,
    PaymentGatewaySpec,
    PermissionSpec,
)
from ordermill.core.statuses import (
    StatusSpec,
    amount_due,
    line_summary,
    money_totals,
    payment_status,
)
from ordermill.hookspecs import (
    HOOKSPEC_VERSION,
    after_commit,
    hookimpl,
    hookspec,
    in_transaction,
    register_hook,
)

if TYPE_CHECKING:
    from ordermill.cli_plugins import current_mill
    from ordermill.web.admin.common import actor as admin_actor
    from ordermill.web.admin.common import form_actor as admin_form_actor
    from ordermill.web.api import documented
    from ordermill.web.api.guards import access
    from ordermill.web.api.openapi import live_enum
    from ordermill.web.api.schemas.fields import json_object as json_object_field
    from ordermill.web.api.schemas.fields import text as text_field
    from ordermill.web.auth import mill as request_mill
    from ordermill.web.auth import require_actor

# The web and command-line helpers are imported when first used, so that a plugin loaded by
# the worker or the CLI does not pull Flask in for nothing: {name here: (module, its name)}.
_LAZY = {
    "require_actor": ("ordermill.web.auth", "require_actor"),
    "request_mill": ("ordermill.web.auth", "mill"),
    "access": ("ordermill.web.api.guards", "access"),
    "documented": ("ordermill.web.api", "documented"),
    "live_enum": ("ordermill.web.api.openapi", "live_enum"),
    "text_field": ("ordermill.web.api.schemas.fields", "text"),
    "json_object_field": ("ordermill.web.api.schemas.fields", "json_object"),
    "admin_actor": ("ordermill.web.admin.common", "actor"),
    "admin_form_actor": ("ordermill.web.admin.common", "form_actor"),
    "current_mill": ("ordermill.cli_plugins", "current_mill"),
}


def __getattr__(name: str) -> Any:
    found = _LAZY.get(name)
    if found is None:
        raise AttributeError(f"module 'ordermill.api' has no attribute {name!r}")
    module, attribute = found
    return getattr(importlib.import_module(module), attribute)


__all__ = [
    "DOCUMENT_FONTS",
    "GATEWAY_EVENT_KINDS",
    "HOOKSPEC_VERSION",
    "LANGUAGES",
    "LEGACY_DEFAULT_KEY",
    "MASKS",
    "MAX_AMOUNT",
    "N_",
    "ActionContext",
    "ActionNotAllowed",
    "ActionResult",
    "Actor",
    "Adjustment",
    "AdminLink",
    "Base",
    "ConfigurationError",
    "CreditNote",
    "Customer",
    "DocumentFile",
    "Domain",
    "ErasureScope",
    "EventMsg",
    "EventTypeSpec",
    "FilterSpec",
    "FraudResult",
    "GatewayEventData",
    "GatewayName",
    "GatewayRefund",
    "GatewayRefundData",
    "HookOutcome",
    "IllegalTransition",
    "InvalidInput",
    "Invoice",
    "JobHandlerSpec",
    "JobRequest",
    "LineAlreadyClosed",
    "LineNotFound",
    "MessageAttachment",
    "Money",
    "NotFound",
    "Order",
    "OrderButton",
    "OrderEvent",
    "OrderLine",
    "OrderNotFound",
    "OrderPanel",
    "Ordermill",
    "OrdermillError",
    "OutOfStock",
    "OutboxJobView",
    "OverRefund",
    "Payment",
    "PaymentGatewaySpec",
    "PermissionDenied",
    "PermissionSpec",
    "PluginConflict",
    "PluginError",
    "PluginLoadError",
    "Product",
    "RequestField",
    "RotationReport",
    "SettingField",
    "Settings",
    "SettingsPage",
    "StaffUser",
    "StaleOrder",
    "StatusName",
    "StatusSpec",
    "UnknownInvoice",
    "UnknownLine",
    "UnknownProduct",
    "WebhookRejected",
    "__version__",
    "access",
    "add_renewal_invoice",
    "admin_actor",
    "admin_form_actor",
    "after_commit",
    "allocate",
    "amount_due",
    "available_actions",
    "charge_saved",
    "check_currency",
    "credit_note_pdf",
    "current_locale",
    "current_mill",
    "customer_order_link",
    "document_pdf",
    "documented",
    "enqueue",
    "event_message",
    "event_msg",
    "event_ngettext",
    "event_to_dict",
    "exponent",
    "format_date",
    "format_datetime",
    "format_money",
    "format_number",
    "gateway_label",
    "gateway_param",
    "gettext",
    "holds",
    "hookimpl",
    "hookspec",
    "in_transaction",
    "invoice_pdf",
    "json_object_field",
    "lazy_gettext",
    "line_summary",
    "live_enum",
    "money_shown",
    "money_text",
    "money_totals",
    "next_document_number",
    "ngettext",
    "order_documents",
    "order_to_dict",
    "parse_amount",
    "payment_status",
    "percent_of",
    "plugin_settings",
    "read_setting",
    "register_hook",
    "release_stock",
    "request_mill",
    "require",
    "require_actor",
    "saved_charge_key",
    "saved_method",
    "status_label",
    "status_param",
    "summary_label",
    "text_field",
    "use_locale",
    "utcnow",
    "without_secrets",
]
