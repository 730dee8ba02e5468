"""The plugin's part of the admin: order-page panels and module buttons, the "Servers" page.

* `order_panels` (the `admin_order_panels` hook): a "Services" card with each line's service
  (module, server, username, status, last error; never a password) and a "Tickets" card with
  the order's e-tickets and a link to their PDF, from this package's own templates.
* `order_buttons` (`admin_order_actions`): WHMCS's module buttons where they apply: "Retry
  create" for a failed service, "Suspend" and "Terminate" for an active one, "Unsuspend"
  and "Terminate" for a suspended one; none while a command is on its way. They post to
  `provisioning_admin.run_command`, which runs the same `request_command` as the API.
* `menu_links` (`admin_menu_links`): "Servers", for staff holding manage_settings, to a page
  listing the server registry and the installed modules.

The hooks are called while the admin draws a page (they read this app's database through
`request_mill()`); outside a request they show nothing. The routes are a plain Blueprint
under /admin/provisioning, behind the admin's login, with the admin form's CSRF token
checked on every POST, and they check their permission themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    has_request_context,
    redirect,
    render_template,
)
from flask_login import login_required
from sqlalchemy import select

from ordermill.api import (
    N_,
    AdminLink,
    OrderButton,
    OrdermillError,
    OrderPanel,
    PermissionDenied,
    admin_actor,
    admin_form_actor,
    holds,
    request_mill,
    require,
)
from ordermill.plugins.provisioning import commands, etickets, registry, servers
from ordermill.plugins.provisioning.i18n import _, i18n_context
from ordermill.plugins.provisioning.models import ProvisionedService, ProvisioningServer
from ordermill.plugins.provisioning.planner import NO_CREATE_CATEGORIES

if TYPE_CHECKING:
    from ordermill.api import Actor, Order, Ordermill

PACKAGE = __package__ or "ordermill.plugins.provisioning"
SERVERS_PATH = "/admin/provisioning/servers"
# English source texts, translated where shown (N_ marks them for the catalog)
LABELS = {"create": N_("Retry create"), "suspend": N_("Suspend"), "unsuspend": N_("Unsuspend"),
          "terminate": N_("Terminate")}
ROW_LABELS = {"create": N_("Retry"), "suspend": N_("Suspend"), "unsuspend": N_("Unsuspend"),
              "terminate": N_("Terminate")}  # in the service's own row of the Services card
CONFIRM = {"suspend": N_("Suspend the service of %(line)s?"),
           "terminate": N_("Terminate the service of %(line)s? The account is removed."),
           "unsuspend": None, "create": None}
TICKET_CONFIRM = {"suspend": N_("Block check-in for the tickets of %(line)s?"),
                  "terminate": N_("Void the tickets of %(line)s? They admit nobody after this.")}
COLOURS = {"active": "#15803d", "pending": "#b45309", "failed": "#dc2626",
           "suspended": "#ca8a04", "terminating": "#b45309", "terminated": "#4b5563",
           "cancelled": "#4b5563", "valid": "#15803d", "void": "#4b5563",
           "checked_in": "#2563eb"}
DONE = {"create": N_("Service of line %(line)s requested again (now %(status)s)."),
        "suspend": N_("Suspension of the service of line %(line)s requested (now %(status)s)."),
        "unsuspend": N_("Unsuspension of the service of line %(line)s requested "
                        "(now %(status)s)."),
        "terminate": N_("Termination of the service of line %(line)s requested "
                        "(now %(status)s).")}

provisioning_admin = Blueprint("provisioning_admin", __name__, url_prefix="/admin/provisioning",
                               template_folder="templates")
provisioning_admin.enable_openapi = False  # type: ignore[attr-defined]  # no API


def _may_provision(order: Order) -> bool:
    """Whether the order can have services or tickets: the core marks lines of products
    with a module; tickets and domains have none to mark. No query for any other order."""
    return any(line.provisioning_status is not None or line.kind in ("ticket", "domain")
               for line in order.lines)


def _services(mill: Ordermill, order: Order) -> list[tuple[ProvisionedService, str | None]]:
    with mill.read_session() as session:
        rows = session.execute(
            select(ProvisionedService, ProvisioningServer.name)
            .outerjoin(ProvisioningServer,
                       ProvisioningServer.id == ProvisionedService.server_id)
            .where(ProvisionedService.order_id == order.id)
            .order_by(ProvisionedService.line_id)).all()
        return [(service, server) for service, server in rows]


def order_panels(order: Order, actor: Actor) -> list[OrderPanel] | None:
    if not has_request_context() or not _may_provision(order):
        return None
    mill = request_mill()
    names = {line.id: line.name for line in order.lines}
    panels = []
    rows = _services(mill, order)
    offered = _offered(mill, order, rows) if holds(actor, "edit_orders") else {}
    services = [{**commands.service_to_dict(service, server),
                 "line": names.get(service.line_id,
                                   _("line %(id)s", id=service.line_id)),
                 "commands": [{"label": _(ROW_LABELS[command]), "confirm": confirm,
                               "url": _command_url(order, service.line_id, command)}
                              for command, confirm in offered.get(service.id, [])]}
                for service, server in rows]
    if services:
        panels.append(OrderPanel(_("Services"), "provisioning/services_panel.html",
                                 context={**i18n_context(), "services": services,
                                          "colours": COLOURS}, package=PACKAGE))
    tickets = [etickets.ticket_to_dict(ticket)
               for ticket in etickets.tickets_of(mill, order.number)]
    if tickets:
        printable = any(ticket["status"] in etickets.PRINTABLE for ticket in tickets)
        panels.append(OrderPanel(_("Tickets"), "provisioning/tickets_panel.html", context={
            **i18n_context(), "tickets": tickets, "colours": COLOURS, "printable": printable,
            "pdf_url": f"/admin/provisioning/orders/{order.number}/tickets.pdf"},
            package=PACKAGE))
    return panels or None


def _commands_for(service: ProvisionedService, module: Any, line_open: bool,
                  may_create: bool) -> list[str]:
    """The module commands that apply to a service now (request_command checks again)."""
    if service.pending_command:
        return []  # a command is on its way: wait for its outcome
    if service.status == "failed":
        return ["create"] if line_open and may_create else []
    if service.kind == "domain" or module is None:
        return []  # registrars register or transfer, nothing else
    offered = {"active": ["suspend", "terminate"], "suspended": ["unsuspend", "terminate"]}
    return [command for command in offered.get(service.status, [])
            if command == "terminate" or getattr(module, command) is not None]


def _command_url(order: Order, line_id: int, command: str) -> str:
    return f"/admin/provisioning/orders/{order.number}/lines/{line_id}/{command}"


def _offered(mill: Ordermill, order: Order,
             rows: list[tuple[ProvisionedService, str | None]]
             ) -> dict[int, list[tuple[str, str | None]]]:
    """Per service: the commands that apply now, each with its confirmation question."""
    modules = registry.modules(mill)
    may_create = mill.statuses.category(order.status) not in NO_CREATE_CATEGORIES
    lines = {line.id: line for line in order.lines}
    offered: dict[int, list[tuple[str, str | None]]] = {}
    for service, _server in rows:
        line = lines.get(service.line_id)
        if line is None:
            continue
        for command in _commands_for(service, modules.get(service.module),
                                     line.status == "active", may_create):
            confirm = (TICKET_CONFIRM if service.kind == "tickets" else CONFIRM).get(command)
            offered.setdefault(service.id, []).append(
                (command, _(confirm, line=line.name) if confirm else None))
    return offered


def order_buttons(order: Order, actor: Actor) -> list[OrderButton] | None:
    if not has_request_context() or not _may_provision(order):
        return None
    mill = request_mill()
    rows = _services(mill, order)
    if not rows:
        return None
    offered = _offered(mill, order, rows)
    names = {line.id: line.name for line in order.lines}
    buttons = []
    for service, _server in rows:
        for command, confirm in offered.get(service.id, []):
            buttons.append(OrderButton(
                _("%(command)s: %(line)s", command=_(LABELS[command]),
                  line=names[service.line_id]),
                _command_url(order, service.line_id, command),
                permission="edit_orders", confirm=confirm))
    return buttons or None


def menu_links(actor: Actor) -> Iterable[AdminLink]:
    return [AdminLink(_("Servers"), SERVERS_PATH, permission="manage_settings")]


# ---------------------------------------------------------------------------- routes


@provisioning_admin.post("/orders/<order_number:number>/lines/<id:line_id>/<command>")
@login_required
def run_command(number: str, line_id: int, command: str) -> Any:
    """A module button: the command is requested as the API's `provision` does (queued
    for remote modules, at once for e-tickets); the outcome shows on the order page."""
    if command not in LABELS:
        abort(404)
    actor = admin_form_actor()
    back = f"/admin/orders/{number}"
    try:
        service = commands.request_command(request_mill(), number, line_id, command,
                                           actor=actor)
    except PermissionDenied as refused:
        abort(403, description=refused.message)
    except OrdermillError as refused:
        flash(refused.message, "error")
        return redirect(back, 303)
    flash(_(DONE[command], line=line_id, status=service["status"]), "success")
    return redirect(back, 303)


@provisioning_admin.get("/orders/<order_number:number>/tickets.pdf")
@login_required
def tickets_pdf(number: str) -> Any:
    """The order's printable tickets, as the API serves them (view_orders)."""
    try:
        pdf = etickets.tickets_pdf(request_mill(), number, actor=admin_actor())
    except PermissionDenied as refused:
        abort(403, description=refused.message)
    except OrdermillError as refused:
        abort(404, description=refused.message)
    if pdf is None:
        abort(404, description=_("Order %(number)s has no valid tickets.", number=number))
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="tickets-{number}.pdf"'})


@provisioning_admin.get("/servers")
@login_required
def server_page() -> Any:
    """The server registry and the installed modules (manage_settings)."""
    actor = admin_actor()
    try:
        require(actor, "manage_settings")
    except PermissionDenied as refused:
        abort(403, description=refused.message)
    mill = request_mill()
    return render_template("provisioning/servers.html", **i18n_context(),
                           servers=servers.list_servers(mill, actor=actor),
                           modules=registry.describe(mill))


__all__ = ["menu_links", "order_buttons", "order_panels", "provisioning_admin"]
