"""The API of fraud checks, provisioning and e-tickets: one APIBlueprint, `services_bp`.

Register it on the app beside the core API (`app.register_blueprint(services_bp)`); its
operations join /api/v1/openapi.json. Views only translate HTTP to the fraud_maxmind and
provisioning plugins' functions and the core's actions, which check permissions themselves
(re-running fraud checks needs manage_fraud; module commands and check-in edit_orders;
reading view_orders; changing the server registry manage_settings). Errors take the API's
one JSON shape through the app's error handlers.

    POST   /api/v1/orders/<number>/fraud-check                re-run the fraud checks
    GET    /api/v1/orders/<number>/services                   the order's service records
    POST   /api/v1/orders/<number>/lines/<line_id>/provision  create (retry), suspend, ...
    GET    /api/v1/orders/<number>/tickets                    the order's tickets
    GET    /api/v1/orders/<number>/tickets.pdf                printable tickets (paid orders)
    POST   /api/v1/tickets/<code>/check-in                    admit a ticket, exactly once
    GET    /api/v1/provisioning/modules                       modules and their settings
    GET    /api/v1/provisioning/servers                       the server registry
    POST   /api/v1/provisioning/servers                       add a server
    GET    /api/v1/provisioning/servers/<id>
    PATCH  /api/v1/provisioning/servers/<id>
    DELETE /api/v1/provisioning/servers/<id>
"""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint
from flask import Response
from marshmallow import Schema, fields, validate

from ordermill.core.errors import ActionNotAllowed
from ordermill.core.permissions import require
from ordermill.plugins.provisioning import engine, etickets, registry, servers
from ordermill.plugins.provisioning.specs import COMMANDS
from ordermill.web.api import documented, openapi
from ordermill.web.api.orders import answer
from ordermill.web.api.schemas import (
    MAX_INT,
    ActionOut,
    DryRunQuery,
    json_object,
    text,
    version_field,
)
from ordermill.web.auth import mill, require_actor

services_bp = APIBlueprint("services", __name__, url_prefix="/api/v1", tag="ordermill")
services_bp.record_once(openapi.install)  # the converters of the routes below
openapi.live_enum("ServerIn", "module", lambda _app: sorted(registry.modules()))

SERVER_ID = "<id:server_id>"
LINE_ID = "<id:line_id>"
PDF_ANSWER = {200: {"description": "The order's tickets, one page each, with QR codes.",
                    "content": {"application/pdf": {"schema": {"type": "string",
                                                               "format": "binary"}}}}}


class NoTickets(ActionNotAllowed):
    code = "no_tickets"


# ---------------------------------------------------------------------------- schemas


def _str() -> fields.String:
    return fields.String(allow_none=True)


class FraudCheckIn(Schema):
    expected_version = version_field()


class ProvisionIn(Schema):
    command = fields.String(load_default="create", validate=validate.OneOf(COMMANDS),
                            metadata={"description": "create (also: retry a failed create), "
                                                     "suspend, unsuspend or terminate."})
    options = json_object(load_default=dict, metadata={
        "description": "For create: server, username, password, send_email, registrar."})


class ServiceOut(Schema):
    id = fields.Integer(required=True)
    order_number = fields.String(required=True)
    line_id = fields.Integer(required=True)
    kind = fields.String(required=True, metadata={"description": "service, domain, tickets"})
    module = fields.String(required=True)
    server = _str()
    username = _str()
    has_password = fields.Boolean(required=True)
    domain = _str()
    status = fields.String(required=True)
    pending_command = _str()
    remote_id = _str()
    last_error = _str()
    attempts = fields.Integer(required=True)
    send_email = fields.Boolean(required=True)
    created_at = _str()
    activated_at = _str()
    terminated_at = _str()


class ServiceListOut(Schema):
    services = fields.List(fields.Nested(ServiceOut), required=True)


class ServiceDetailOut(ServiceOut):
    """One service, as a module command answers it (same fields as in the list)."""


class TicketOut(Schema):
    code = fields.String(required=True)
    order_number = fields.String(required=True)
    line_id = fields.Integer(required=True)
    unit = fields.Integer(required=True)
    attendee = fields.String(required=True)
    event = fields.String(required=True)
    status = fields.String(required=True, metadata={
        "description": "valid, checked_in, suspended or void"})
    void_reason = _str()
    issued_at = _str()
    voided_at = _str()
    checked_in_at = _str()
    checked_in_by = _str()


class TicketListOut(Schema):
    tickets = fields.List(fields.Nested(TicketOut), required=True)


class TicketDetailOut(TicketOut):
    """One ticket, as check-in answers it (same fields as in the list)."""


class ServerIn(Schema):
    name = text(100, min_length=1, required=True)
    module = text(64, min_length=1, required=True)
    hostname = text(255, min_length=1, required=True, metadata={
        "description": "Host name, or for the webhook module the URL to POST to."})
    credentials = json_object(load_default=dict, metadata={
        "description": "Checked against the module's server settings; stored encrypted."})
    capacity = fields.Integer(strict=True, allow_none=True, load_default=None,
                              validate=validate.Range(min=1, max=MAX_INT))
    active = fields.Boolean(load_default=True)


class ServerPatchIn(Schema):
    name = text(100, min_length=1)
    hostname = text(255, min_length=1)
    credentials = json_object(metadata={"description": "Merged into the stored ones; a null "
                                                       "value removes a key."})
    capacity = fields.Integer(strict=True, allow_none=True,
                              validate=validate.Range(min=1, max=MAX_INT))
    active = fields.Boolean()


class ServerOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    module = fields.String(required=True)
    hostname = fields.String(required=True)
    capacity = fields.Integer(allow_none=True)
    active = fields.Boolean(required=True)
    live_services = fields.Integer(required=True)
    credential_keys = fields.List(fields.String(), required=True)
    created_at = _str()
    updated_at = _str()


class ServerListOut(Schema):
    servers = fields.List(fields.Nested(ServerOut), required=True)


class ServerDetailOut(ServerOut):
    """One server (same fields as in the list)."""


class DeletedOut(Schema):
    deleted = fields.Boolean(required=True)
    id = fields.Integer(required=True)


class SettingOut(Schema):
    name = fields.String(required=True)
    label = fields.String(required=True)
    kind = fields.String(required=True)
    required = fields.Boolean(required=True)
    secret = fields.Boolean(required=True)
    scope = fields.String(required=True)
    default = fields.Raw(allow_none=True)


class ModuleOut(Schema):
    name = fields.String(required=True)
    label = fields.String(required=True)
    type = fields.String(required=True, metadata={"description": "module or registrar"})
    description = fields.String(required=True)
    commands = fields.List(fields.String(), required=True)
    needs_server = fields.Boolean(required=True)
    in_transaction = fields.Boolean(required=True)
    requires_payment = fields.Boolean(required=True)
    settings = fields.List(fields.Nested(SettingOut), required=True)


class ModuleListOut(Schema):
    modules = fields.List(fields.Nested(ModuleOut), required=True)


# ---------------------------------------------------------------------------- fraud


@services_bp.post("/orders/<order_number:number>/fraud-check")
@services_bp.input(DryRunQuery, location="query")
@services_bp.input(FraudCheckIn, location="json")
@services_bp.output(ActionOut)
@documented(400, 403, 404, 409, summary="Re-run the fraud checks (after a provider outage)")
def rerun_fraud_check(number: str, query_data: dict[str, Any], json_data: dict[str, Any]
                      ) -> Any:
    """Every fraud provider scores the order again; each result is kept. Over the threshold,
    a pending order goes to fraud. A dry run is refused: it would call the providers."""
    actor = require_actor()
    if query_data["dry_run"]:
        raise ActionNotAllowed("A fraud check cannot be previewed: it asks the providers.")
    result = mill().orders.rerun_fraud_check(
        number, actor=actor, expected_version=json_data.get("expected_version"))
    return answer(result, number)


# ---------------------------------------------------------------------------- provisioning


@services_bp.get("/orders/<order_number:number>/services")
@services_bp.output(ServiceListOut)
@documented(403, 404, summary="The order's provisioned services (never their passwords)")
def list_services(number: str) -> Any:
    return {"services": engine.services_of(mill(), number, actor=require_actor())}


@services_bp.post(f"/orders/<order_number:number>/lines/{LINE_ID}/provision")
@services_bp.input(ProvisionIn, location="json")
@services_bp.output(ServiceDetailOut, status_code=202)
@documented(400, 403, 404, 409, summary="Run a module command on one line (retry a create)")
def provision(number: str, line_id: int, json_data: dict[str, Any]) -> Any:
    """Create (or retry a failed create, reusing the service record), suspend, unsuspend or
    terminate. Remote modules run in the background: the answer is the service with the
    command pending; e-tickets are issued at once."""
    service = engine.request_command(mill(), number, line_id, json_data["command"],
                                     actor=require_actor(), options=json_data["options"])
    return service, 202


@services_bp.get("/provisioning/modules")
@services_bp.output(ModuleListOut)
@documented(403, summary="Installed provisioning modules and registrars, with settings")
def list_modules() -> Any:
    require(require_actor(), "edit_orders")
    found: list[dict[str, Any]] = []
    for spec in registry.modules().values():
        found.append({
            "name": spec.name, "label": spec.label, "type": "module",
            "description": spec.description,
            "commands": [c for c in COMMANDS if getattr(spec, c) is not None],
            "needs_server": spec.needs_server, "in_transaction": spec.in_transaction,
            "requires_payment": spec.requires_payment,
            "settings": [setting.to_dict() for setting in spec.settings_schema]})
    for registrar in registry.registrars().values():
        found.append({
            "name": registrar.name, "label": registrar.label, "type": "registrar",
            "description": registrar.description, "commands": ["register", "transfer"],
            "needs_server": False, "in_transaction": False, "requires_payment": False,
            "settings": [setting.to_dict() for setting in registrar.settings_schema]})
    return {"modules": found}


@services_bp.get("/provisioning/servers")
@services_bp.output(ServerListOut)
@documented(403, summary="The server registry")
def list_servers() -> Any:
    return {"servers": servers.list_servers(mill(), actor=require_actor())}


@services_bp.post("/provisioning/servers")
@services_bp.input(ServerIn, location="json")
@services_bp.output(ServerDetailOut, status_code=201)
@documented(400, 403, 409, summary="Add a server (credentials stored encrypted)")
def create_server(json_data: dict[str, Any]) -> Any:
    return servers.create_server(mill(), json_data, actor=require_actor()), 201


@services_bp.get(f"/provisioning/servers/{SERVER_ID}")
@services_bp.output(ServerDetailOut)
@documented(403, 404, summary="One server (credential keys, never values)")
def get_server(server_id: int) -> Any:
    return servers.get_server(mill(), server_id, actor=require_actor())


@services_bp.patch(f"/provisioning/servers/{SERVER_ID}")
@services_bp.input(ServerPatchIn, location="json")
@services_bp.output(ServerDetailOut)
@documented(400, 403, 404, 409, summary="Change a server")
def update_server(server_id: int, json_data: dict[str, Any]) -> Any:
    return servers.update_server(mill(), server_id, json_data, actor=require_actor())


@services_bp.delete(f"/provisioning/servers/{SERVER_ID}")
@services_bp.output(DeletedOut)
@documented(403, 404, 409, summary="Remove a server no live service runs on")
def delete_server(server_id: int) -> Any:
    servers.delete_server(mill(), server_id, actor=require_actor())
    return {"deleted": True, "id": server_id}


# ---------------------------------------------------------------------------- tickets


@services_bp.get("/orders/<order_number:number>/tickets")
@services_bp.output(TicketListOut)
@documented(403, 404, summary="The order's e-tickets (void ones too)")
def list_tickets(number: str) -> Any:
    found = etickets.tickets_of(mill(), number, actor=require_actor())
    return {"tickets": [etickets.ticket_to_dict(ticket) for ticket in found]}


@services_bp.get("/orders/<order_number:number>/tickets.pdf")
@documented(403, 404, 409, summary="The order's printable tickets as a PDF (paid orders)",
            responses=PDF_ANSWER)
def tickets_pdf(number: str) -> Any:
    """One page per valid ticket: event, attendee, code and QR code. 409 while the order has
    none (tickets are issued once it is paid)."""
    pdf = etickets.tickets_pdf(mill(), number, actor=require_actor())
    if pdf is None:
        raise NoTickets(f"Order {number} has no valid tickets: tickets are issued once the "
                        f"order is paid, and void when their line is cancelled or refunded.",
                        details={"number": number})
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="tickets-{number}.pdf"'})


@services_bp.post("/tickets/<code>/check-in")
@services_bp.output(TicketDetailOut)
@documented(403, 404, 409, summary="Admit a ticket at the door, exactly once")
def check_in(code: str) -> Any:
    """The first check-in of a valid code admits it; a second one, or a ticket voided by a
    refund or cancellation, is refused with a 409 saying why."""
    return etickets.check_in(mill(), code, actor=require_actor())


__all__ = ["services_bp"]
