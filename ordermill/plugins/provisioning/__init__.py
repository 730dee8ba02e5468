"""Provisioning: hosting accounts, domains and e-tickets for what an order bought (WHMCS).

WHMCS keeps every new order pending until a person accepts it; accepting runs the product's
provisioning module (server, username, password, create the account, welcome e-mail) and
sends domains to the registrar; cancel and fraud terminate what was provisioned. Products
can also be activated automatically on payment while the order stays pending for review.
osConcert and Webex issue e-tickets once an order is paid.

The pieces:

* `specs`: the module interface (create / suspend / unsuspend / terminate, a settings
  schema) and the registrar interface (register / transfer);
* `hookspecs`: the hook this plugin defines, `register_provisioning_modules(settings)`
  (added with `add_hookspecs`; see docs/hooks.md, "Hooks defined by plugins"): modules and
  registrars come from the plugins implementing it, found by the one plugin manager;
* `registry`: this app's modules and registrars (asked through that hook, per app) and the
  plugin's configuration;
* `models`: the server registry, one service record per provisioned line (password stored
  encrypted, see `vault`), and e-tickets; created by this plugin's own Alembic branch;
* `engine`: what runs when (accept, payment, cancel, refund, fraud), remote commands through
  the outbox with retries, outcomes written on the order (its code: `planner`, `calls`,
  `worker`, and `commands` for the module buttons);
* `servers`: the registry's create / list / update / delete;
* `webhook` and `etickets`: the two built-in modules, each a plugin of its own (entry
  points `provisioning_webhook` and `provisioning_etickets`, listed by `ordermill plugins`,
  governed by ORDERMILL_LOAD_PLUGINS / ORDERMILL_BLOCK_PLUGINS) implementing the hook with
  `@hookimpl(optionalhook=True)`, so they are harmless where this plugin is blocked;
* `web` (routes, `register_blueprints`), `admin` (order-page panels and module buttons, the
  "Servers" page and its menu link) and `cli` (`ordermill provisioning ...`, `ordermill
  tickets ...`): imported only when an app or a command line asks for them, and gone with
  the plugin when it is blocked.

Which module a line uses: the product's `provisioning_module`; ticket products without one
use `etickets`; domain lines (product kind "domain" with a domain) use the registrar named in
the accept options or `default_registrar`. `Product.auto_activate` says when a module's create
runs without an admin: "on_order", "on_payment", "on_accept" (the default) or "never".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from ordermill.api import (
    N_,
    ActionContext,
    Actor,
    AdminLink,
    Customer,
    ErasureScope,
    EventTypeSpec,
    JobHandlerSpec,
    JobRequest,
    MessageAttachment,
    Order,
    OrderButton,
    OrderEvent,
    OrderPanel,
    RotationReport,
    Settings,
    hookimpl,
)
from ordermill.plugins.provisioning import hookspecs as provisioning_hookspecs
from ordermill.plugins.provisioning import vault
from ordermill.plugins.provisioning.calls import JOB_KIND
from ordermill.plugins.provisioning.commands import request_command, services_of
from ordermill.plugins.provisioning.etickets import check_in, tickets_of, tickets_pdf
from ordermill.plugins.provisioning.models import ETicket, ProvisionedService, ProvisioningServer
from ordermill.plugins.provisioning.planner import plan_for_event
from ordermill.plugins.provisioning.registry import ProvisioningConfig
from ordermill.plugins.provisioning.worker import run_job

if TYPE_CHECKING:
    import click
    from flask import Blueprint

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BRANCH = "provisioning"
# The history event types this plugin writes (worker, commands) beside the core's words for
# `provisioned` and `ticket_checked_in`.
EVENT_TYPES = {
    "service_suspended": N_("Service suspended"),
    "service_unsuspended": N_("Service unsuspended"),
    "service_terminated": N_("Service terminated"),
    "domain_transferred": N_("Domain transferred"),
    "provisioning_failed": N_("Provisioning failed"),
    "provisioning_requested": N_("Provisioning requested"),
}


@hookimpl(trylast=True)
def register_event_types() -> list[EventTypeSpec]:
    return [EventTypeSpec(name, label, "ordermill_provisioning")
            for name, label in EVENT_TYPES.items()]


@hookimpl(trylast=True)
def add_hookspecs(pm: Any) -> None:
    """`register_provisioning_modules`: how modules and registrars reach this plugin."""
    pm.add_hookspecs(provisioning_hookspecs)


@hookimpl(trylast=True)
def register_blueprints() -> list[Blueprint]:
    """The provisioning and e-tickets API and the admin's module buttons and Servers page
    (imported here, so that only a web app loads Flask views)."""
    from ordermill.plugins.provisioning.admin import provisioning_admin
    from ordermill.plugins.provisioning.web import provisioning_api

    return [provisioning_api, provisioning_admin]


@hookimpl(trylast=True)
def register_commands(cli: click.Group) -> None:
    from ordermill.plugins.provisioning.cli import add_commands

    add_commands(cli)


@hookimpl(trylast=True)
def admin_order_panels(order: Order, actor: Actor) -> list[OrderPanel] | None:
    """The order's services and tickets, when it has any."""
    from ordermill.plugins.provisioning import admin

    return admin.order_panels(order, actor)


@hookimpl(trylast=True)
def admin_order_actions(order: Order, actor: Actor) -> list[OrderButton] | None:
    """Retry a failed create, suspend, unsuspend, terminate: where they apply."""
    from ordermill.plugins.provisioning import admin

    return admin.order_buttons(order, actor)


@hookimpl(trylast=True)
def admin_menu_links(actor: Actor) -> Iterable[AdminLink]:
    from ordermill.plugins.provisioning import admin

    return admin.menu_links(actor)


@hookimpl(trylast=True)
def erase_personal_data(customer: Customer, erasure: ErasureScope,
                        ctx: ActionContext) -> dict[str, Any]:
    """Ticket attendees and service records of an erased customer's orders."""
    from ordermill.plugins.provisioning.erasure import erase

    return erase(customer, erasure, ctx)


@hookimpl(trylast=True)
def rotate_stored_secrets(session: Session, keys: Sequence[str], old_keys: Sequence[str],
                          dry_run: bool) -> RotationReport:
    """Server credentials and service passwords live in the vault: re-encrypt them."""
    return vault.rotate_stored_secrets(session, keys, old_keys, dry_run=dry_run)


@hookimpl(trylast=True)
def jobs_for_event(order: Order, event: OrderEvent, ctx: ActionContext) -> list[JobRequest]:
    """Start the creates and terminations this action calls for (see engine)."""
    return plan_for_event(order, event, ctx)


UNPAID_SUBSCRIPTION = frozenset({"suspended", "failed"})
PAID_SUBSCRIPTION = frozenset({"active", "completed"})


@hookimpl(optionalhook=True)
def on_subscription_status_changed(subscription: Any, old: str, new: str,
                                   ctx: ActionContext) -> None:
    """The subscriptions plugin's hook (WHMCS): a hosting service whose renewal is not paid
    (subscription Suspended or Failed) is suspended, and unsuspended once it is paid again.
    Optional: without the subscriptions plugin it is never called."""
    if new in UNPAID_SUBSCRIPTION:
        command, wanted = "suspend", "active"
    elif new in PAID_SUBSCRIPTION:
        command, wanted = "unsuspend", "suspended"
    else:
        return
    actor = Actor.system("provisioning")
    for service in services_of(ctx.mill, subscription.order_number):
        if service["kind"] == "service" and service["status"] == wanted \
                and not service.get("pending_command"):
            request_command(ctx.mill, subscription.order_number, service["line_id"], command,
                            actor=actor)


TICKET_MESSAGES = frozenset({"order_confirmation", "payment_received"})


@hookimpl(trylast=True)
def message_attachments(order: Order, message: str, ctx: ActionContext
                        ) -> list[MessageAttachment] | None:
    """The e-tickets PDF on the confirmation and on 'payment received' (a bank-transfer
    order only gets its tickets when paid)."""
    if message not in TICKET_MESSAGES or not any(line.kind == "ticket" for line in order.lines):
        return None
    pdf = tickets_pdf(ctx.mill, order.number)
    if pdf is None:
        return None
    return [MessageAttachment(f"tickets-{order.number}.pdf", "application/pdf", pdf)]


@hookimpl(trylast=True)
def register_job_handlers(settings: Settings) -> Iterable[JobHandlerSpec]:
    config = ProvisioningConfig.from_settings(settings)
    return [JobHandlerSpec(
        kind=JOB_KIND, handler=run_job, max_attempts=config.max_attempts,
        description="Run one module command (create, suspend, unsuspend, terminate, domain "
                    "register/transfer) on a remote panel; the outcome is written on the order.",
    )]


@hookimpl(trylast=True)
def register_migration_locations(settings: Settings) -> Iterable[str]:
    return [str(MIGRATIONS)]


__all__ = [
    "BRANCH",
    "JOB_KIND",
    "MIGRATIONS",
    "ETicket",
    "ProvisionedService",
    "ProvisioningServer",
    "check_in",
    "request_command",
    "services_of",
    "tickets_of",
    "tickets_pdf",
]
