"""The provisioning and e-tickets API: one APIBlueprint, registered by `register_blueprints`.

Only this plugin's `register_blueprints` imports this module, when a web app is made, so a
worker or a command line never loads it, and an app that blocks the plugin has none of these
routes (404, and absent from /api/v1/openapi.json). Views only translate HTTP to the
plugin's functions, which check permissions themselves (module commands and check-in need
edit_orders; reading view_orders; changing the server registry manage_settings). Errors take
the API's one JSON shape through the app's error handlers.

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
from flask import Flask, Response
from flask.blueprints import BlueprintSetupState
from marshmallow import Schema, fields, validate

from ordermill.api import (
    ActionNotAllowed,
    documented,
    json_object_field,
    live_enum,
    request_mill,
    require,
    require_actor,
    text_field,
)
from ordermill.plugins.provisioning import commands, etickets, registry, servers
from ordermill.plugins.provisioning.specs import COMMANDS

MAX_INT = 2**31 - 1  # what an integer column holds
SERVER_ID = "<id:server_id>"
LINE_ID = "<id:line_id>"
PDF_ANSWER = {200: {"description": "The order's tickets, one page each, with QR codes.",
                    "content": {"application/pdf": {"schema": {"type": "string",
                                                               "format": "binary"}}}}}

provisioning_api = APIBlueprint("provisioning", __name__, url_prefix="/api/v1",
                                tag="provisioning")


def _installed_module_names(app: Flask) -> list[str]:
    mill = app.extensions.get("ordermill")
    if mill is None or not registry.loaded(mill):
        return []  # an app without this plugin has no ServerIn schema either
    return sorted(registry.modules(mill))


live_enum("ServerIn", "module", _installed_module_names)


def _check_modules(state: BlueprintSetupState) -> None:
    """When the app is made: two plugins giving one module name stop it, naming both."""
    mill = state.app.extensions.get("ordermill")
    if mill is not None:
        registry.installed(mill)


provisioning_api.record_once(_check_modules)


class NoTickets(ActionNotAllowed):
    code = "no_tickets"


# ---------------------------------------------------------------------------- schemas


def _str() -> fields.String:
    return fields.String(allow_none=True)


class ProvisionIn(Schema):
    command = fields.String(load_default="create", validate=validate.OneOf(COMMANDS),
                            metadata={"description": "create (also: retry a failed create), "
                                                     "suspend, unsuspend or terminate."})
    options = json_object_field(load_default=dict, metadata={
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
    name = text_field(100, min_length=1, required=True)
    module = text_field(64, min_length=1, required=True)
    hostname = text_field(255, min_length=1, required=True, metadata={
        "description": "Host name, or for the webhook module the URL to POST to."})
    credentials = json_object_field(load_default=dict, metadata={
        "description": "Checked against the module's server settings; stored encrypted."})
    capacity = fields.Integer(strict=True, allow_none=True, load_default=None,
                              validate=validate.Range(min=1, max=MAX_INT))
    active = fields.Boolean(load_default=True)


class ServerPatchIn(Schema):
    name = text_field(100, min_length=1)
    hostname = text_field(255, min_length=1)
    credentials = json_object_field(metadata={"description": "Merged into the stored ones; a "
                                                             "null value removes a key."})
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


# ---------------------------------------------------------------------------- provisioning


@provisioning_api.get("/orders/<order_number:number>/services")
@provisioning_api.output(ServiceListOut)
@documented(403, 404, summary="The order's provisioned services (never their passwords)")
def list_services(number: str) -> Any:
    return {"services": commands.services_of(request_mill(), number, actor=require_actor())}


@provisioning_api.post(f"/orders/<order_number:number>/lines/{LINE_ID}/provision")
@provisioning_api.input(ProvisionIn, location="json")
@provisioning_api.output(ServiceDetailOut, status_code=202)
@documented(400, 403, 404, 409, summary="Run a module command on one line (retry a create)")
def provision(number: str, line_id: int, json_data: dict[str, Any]) -> Any:
    """Create (or retry a failed create, reusing the service record), suspend, unsuspend or
    terminate. Remote modules run in the background: the answer is the service with the
    command pending; e-tickets are issued at once."""
    service = commands.request_command(request_mill(), number, line_id, json_data["command"],
                                       actor=require_actor(), options=json_data["options"])
    return service, 202


@provisioning_api.get("/provisioning/modules")
@provisioning_api.output(ModuleListOut)
@documented(403, summary="Installed provisioning modules and registrars, with settings")
def list_modules() -> Any:
    require(require_actor(), "edit_orders")
    return {"modules": registry.describe(request_mill())}


@provisioning_api.get("/provisioning/servers")
@provisioning_api.output(ServerListOut)
@documented(403, summary="The server registry")
def list_servers() -> Any:
    return {"servers": servers.list_servers(request_mill(), actor=require_actor())}


@provisioning_api.post("/provisioning/servers")
@provisioning_api.input(ServerIn, location="json")
@provisioning_api.output(ServerDetailOut, status_code=201)
@documented(400, 403, 409, summary="Add a server (credentials stored encrypted)")
def create_server(json_data: dict[str, Any]) -> Any:
    return servers.create_server(request_mill(), json_data, actor=require_actor()), 201


@provisioning_api.get(f"/provisioning/servers/{SERVER_ID}")
@provisioning_api.output(ServerDetailOut)
@documented(403, 404, summary="One server (credential keys, never values)")
def get_server(server_id: int) -> Any:
    return servers.get_server(request_mill(), server_id, actor=require_actor())


@provisioning_api.patch(f"/provisioning/servers/{SERVER_ID}")
@provisioning_api.input(ServerPatchIn, location="json")
@provisioning_api.output(ServerDetailOut)
@documented(400, 403, 404, 409, summary="Change a server")
def update_server(server_id: int, json_data: dict[str, Any]) -> Any:
    return servers.update_server(request_mill(), server_id, json_data, actor=require_actor())


@provisioning_api.delete(f"/provisioning/servers/{SERVER_ID}")
@provisioning_api.output(DeletedOut)
@documented(403, 404, 409, summary="Remove a server no live service runs on")
def delete_server(server_id: int) -> Any:
    servers.delete_server(request_mill(), server_id, actor=require_actor())
    return {"deleted": True, "id": server_id}


# ---------------------------------------------------------------------------- tickets


@provisioning_api.get("/orders/<order_number:number>/tickets")
@provisioning_api.output(TicketListOut)
@documented(403, 404, summary="The order's e-tickets (void ones too)")
def list_tickets(number: str) -> Any:
    found = etickets.tickets_of(request_mill(), number, actor=require_actor())
    return {"tickets": [etickets.ticket_to_dict(ticket) for ticket in found]}


@provisioning_api.get("/orders/<order_number:number>/tickets.pdf")
@documented(403, 404, 409, summary="The order's printable tickets as a PDF (paid orders)",
            responses=PDF_ANSWER)
def tickets_pdf(number: str) -> Any:
    """One page per valid ticket: event, attendee, code and QR code. 409 while the order has
    none (tickets are issued once it is paid)."""
    pdf = etickets.tickets_pdf(request_mill(), number, actor=require_actor())
    if pdf is None:
        raise NoTickets(f"Order {number} has no valid tickets: tickets are issued once the "
                        f"order is paid, and void when their line is cancelled or refunded.",
                        details={"number": number})
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="tickets-{number}.pdf"'})


@provisioning_api.post("/tickets/<code>/check-in")
@provisioning_api.output(TicketDetailOut)
@documented(403, 404, 409, summary="Admit a ticket at the door, exactly once")
def check_in(code: str) -> Any:
    """The first check-in of a valid code admits it; a second one, or a ticket voided by a
    refund or cancellation, is refused with a 409 saying why."""
    return etickets.check_in(request_mill(), code, actor=require_actor())


__all__ = ["provisioning_api"]
