"""The server registry (WHMCS Setup > Servers): name, module, hostname, credentials, capacity.

Credentials are checked against the module's "server" settings schema and stored encrypted;
they never leave again (the API shows which keys are set, not their values). Staff who accept
orders may list servers (to choose one); changing the registry needs `manage_settings`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ordermill.api import ActionNotAllowed, Actor, InvalidInput, NotFound, require, utcnow
from ordermill.plugins.provisioning import registry, vault
from ordermill.plugins.provisioning.models import (
    LIVE_STATUSES,
    ProvisionedService,
    ProvisioningServer,
)
from ordermill.plugins.provisioning.specs import validate_settings

if TYPE_CHECKING:
    from ordermill.api import Ordermill

FIELDS = ("name", "module", "hostname", "credentials", "capacity", "active")


class ServerNameTaken(ActionNotAllowed):
    code = "server_name_taken"


def _dict(server: ProvisioningServer, live: int, secret_key: vault.Keys) -> dict[str, Any]:
    return {
        "id": server.id, "name": server.name, "module": server.module,
        "hostname": server.hostname, "capacity": server.capacity, "active": server.active,
        "live_services": live,
        "credential_keys": sorted(vault.decrypt_json(secret_key, server.credentials)),
        "created_at": server.created_at.isoformat(), "updated_at": server.updated_at.isoformat(),
    }


def _live(session: Any, server_ids: list[int]) -> dict[int, int]:
    if not server_ids:
        return {}
    return {server_id: count for server_id, count in session.execute(
        select(ProvisionedService.server_id, func.count())
        .where(ProvisionedService.server_id.in_(server_ids),
               ProvisionedService.status.in_(LIVE_STATUSES))
        .group_by(ProvisionedService.server_id))}


def list_servers(mill: Ordermill, *, actor: Actor, module: str | None = None
                 ) -> list[dict[str, Any]]:
    require(actor, "edit_orders")
    with mill.read_session() as session:
        query = select(ProvisioningServer).order_by(ProvisioningServer.name)
        if module:
            query = query.where(ProvisioningServer.module == module)
        servers = list(session.scalars(query))
        live = _live(session, [server.id for server in servers])
        return [_dict(s, live.get(s.id, 0), mill.settings.secret_keys) for s in servers]


def get_server(mill: Ordermill, server_id: int, *, actor: Actor) -> dict[str, Any]:
    require(actor, "edit_orders")
    with mill.read_session() as session:
        server = session.get(ProvisioningServer, server_id)
        if server is None:
            raise NotFound(f"No server {server_id}.", details={"server_id": server_id})
        return _dict(server, _live(session, [server.id]).get(server.id, 0),
                     mill.settings.secret_keys)


def _check(mill: Ordermill, data: Mapping[str, Any], module_name: str) -> dict[str, Any]:
    unknown = set(data) - set(FIELDS)
    if unknown:
        raise InvalidInput(f"Unknown server field(s): {', '.join(sorted(unknown))}.")
    spec = registry.module(mill, module_name)
    checked: dict[str, Any] = {}
    if "name" in data:
        name = str(data["name"] or "").strip()
        if not name or len(name) > 100:
            raise InvalidInput("A server needs a name of 1 to 100 characters.",
                               details={"field": "name"})
        checked["name"] = name
    if "hostname" in data:
        hostname = str(data["hostname"] or "").strip()
        if not hostname or len(hostname) > 255:
            raise InvalidInput("A server needs a hostname (or URL) of up to 255 characters.",
                               details={"field": "hostname"})
        checked["hostname"] = hostname
    if "capacity" in data:
        capacity = data["capacity"]
        if capacity is not None and (isinstance(capacity, bool) or not isinstance(capacity, int)
                                     or capacity < 1):
            raise InvalidInput("Capacity is a whole number of services (at least 1), or null "
                               "for no limit.", details={"field": "capacity"})
        checked["capacity"] = capacity
    if "active" in data:
        checked["active"] = bool(data["active"])
    if "credentials" in data:
        credentials = data["credentials"] or {}
        if not isinstance(credentials, Mapping):
            raise InvalidInput("Credentials are a JSON object.", details={"field": "credentials"})
        checked["credentials"] = validate_settings(
            spec.settings_schema, credentials, scope="server",
            who=f"credentials for module {spec.name}")
    return checked


def create_server(mill: Ordermill, data: Mapping[str, Any], *, actor: Actor) -> dict[str, Any]:
    require(actor, "manage_settings")
    module_name = str(data.get("module") or "")
    checked = _check(mill, {**data, "credentials": data.get("credentials") or {}}, module_name)
    for field in ("name", "hostname"):
        if field not in checked:
            raise InvalidInput(f"A server needs a {field}.", details={"field": field})
    secret_key = mill.settings.secret_keys
    try:
        with mill.write_session() as session, session.begin():
            server = ProvisioningServer(
                name=checked["name"], module=module_name, hostname=checked["hostname"],
                credentials=vault.encrypt_json(secret_key, checked["credentials"]),
                capacity=checked.get("capacity"), active=checked.get("active", True),
                created_at=utcnow(), updated_at=utcnow())
            session.add(server)
            session.flush()
            return _dict(server, 0, secret_key)
    except IntegrityError:
        raise ServerNameTaken(f"A server named {checked['name']!r} already exists.",
                              details={"name": checked["name"]}) from None


def update_server(mill: Ordermill, server_id: int, changes: Mapping[str, Any], *,
                  actor: Actor) -> dict[str, Any]:
    """Change fields; `credentials` given are merged into the stored ones (null removes)."""
    require(actor, "manage_settings")
    if "module" in changes:
        raise InvalidInput("A server's module cannot change: add a new server instead.",
                           details={"field": "module"})
    secret_key = mill.settings.secret_keys
    try:
        with mill.write_session() as session, session.begin():
            server = session.get(ProvisioningServer, server_id)
            if server is None:
                raise NotFound(f"No server {server_id}.", details={"server_id": server_id})
            merged = dict(changes)
            if "credentials" in changes:
                stored = vault.decrypt_json(secret_key, server.credentials)
                given = changes["credentials"] or {}
                if not isinstance(given, Mapping):
                    raise InvalidInput("Credentials are a JSON object.",
                                       details={"field": "credentials"})
                stored.update(given)
                merged["credentials"] = {k: v for k, v in stored.items() if v is not None}
            checked = _check(mill, merged, server.module)
            for field in ("name", "hostname", "capacity", "active"):
                if field in checked:
                    setattr(server, field, checked[field])
            if "credentials" in checked:
                server.credentials = vault.encrypt_json(secret_key, checked["credentials"])
            server.updated_at = utcnow()
            session.flush()
            return _dict(server, _live(session, [server.id]).get(server.id, 0), secret_key)
    except IntegrityError:
        raise ServerNameTaken(f"A server named {changes.get('name')!r} already exists.",
                              details={"name": changes.get("name")}) from None


def delete_server(mill: Ordermill, server_id: int, *, actor: Actor) -> None:
    """Remove a server no live service runs on (deactivate it to stop new ones instead)."""
    require(actor, "manage_settings")
    with mill.write_session() as session, session.begin():
        server = session.get(ProvisioningServer, server_id)
        if server is None:
            raise NotFound(f"No server {server_id}.", details={"server_id": server_id})
        live = _live(session, [server.id]).get(server.id, 0)
        if live:
            raise ActionNotAllowed(f"Server {server.name} still runs {live} live service(s): "
                                   f"terminate them or set the server inactive.",
                                   details={"live_services": live})
        session.delete(server)


__all__ = ["ServerNameTaken", "create_server", "delete_server", "get_server", "list_servers",
           "update_server"]
