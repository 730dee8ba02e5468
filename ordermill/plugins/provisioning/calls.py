"""One module command call: its ServiceRequest read from the database, its success applied.

Shared by the planner (commands started inside an action), the worker (outbox jobs) and the
module buttons, so that every path builds the same request and records the same outcome.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from ordermill.api import ActionNotAllowed, Order, OrderLine, Product, utcnow
from ordermill.plugins.provisioning import registry, vault
from ordermill.plugins.provisioning.models import ProvisionedService, ProvisioningServer
from ordermill.plugins.provisioning.registry import ProvisioningConfig
from ordermill.plugins.provisioning.specs import Command, ModuleResult, ServerInfo, ServiceRequest

if TYPE_CHECKING:
    from ordermill.api import Ordermill

JOB_KIND = "provisioning.command"
DONE_STATUS = {"create": "active", "suspend": "suspended", "unsuspend": "active",
               "terminate": "terminated"}


def _text(error: BaseException) -> str:
    message = getattr(error, "message", None) or str(error) or type(error).__name__
    return f"{type(error).__name__}: {message}"[:2000]


def _buyer(order: Order) -> dict[str, Any]:
    return {"name": order.buyer_name, "email": order.buyer_email, "phone": order.buyer_phone,
            "billing_address": dict(order.billing_address or {}), "language": order.language}


def _domain_action(line: OrderLine) -> str:
    action = str((line.options or {}).get("domain_action") or "register")
    return "transfer" if action == "transfer" else "register"


def _what(service: ProvisionedService, line: OrderLine | None) -> str:
    """How events name a service: its line, and the domain when it has one."""
    name = line.name if line else f"line {service.line_id}"
    where = f" ({service.domain})" if service.domain else ""
    return f"{name}{where}"


def build_request(session: Session, mill: Ordermill, config: ProvisioningConfig,
                  service: ProvisionedService, command: str, *, delivery_id: str,
                  reason: str | None = None, in_transaction: bool = False
                  ) -> tuple[Command, ServiceRequest]:
    """The callable to run and its ServiceRequest, read from the database."""
    line = session.get(OrderLine, service.line_id)
    order = session.get(Order, service.order_id)
    if line is None or order is None:
        raise LookupError(f"service {service.id} lost its order line")
    product = session.get(Product, line.product_id)
    secret_key = mill.settings.secret_keys
    server = session.get(ProvisioningServer, service.server_id) if service.server_id else None
    call: Command | None
    if service.kind == "domain":
        registrar = registry.registrar(mill, service.module)
        settings = config.registrar_settings(registrar)
        if command == "create":
            call = registrar.transfer if _domain_action(line) == "transfer" \
                else registrar.register
        else:
            call = None
    else:
        spec = registry.module(mill, service.module)
        settings = config.module_settings(spec)
        call = spec.reduce if command == "reduce" else spec.command(command)
    if call is None:
        raise ActionNotAllowed(f"{service.kind.title()} {service.module} cannot {command}.",
                               details={"module": service.module, "command": command})
    request = ServiceRequest(
        command=command, service_id=service.id, delivery_id=delivery_id,
        order_number=order.number, order_id=order.id, line_id=line.id, sku=line.sku,
        product_name=product.name if product else line.name, quantity=line.quantity,
        kind=service.kind, module=service.module, buyer=_buyer(order), settings=settings,
        server=ServerInfo(server.id, server.name, server.hostname,
                          vault.decrypt_json(secret_key, server.credentials))
        if server else None,
        username=service.username,
        password=vault.decrypt(secret_key, service.password) if service.password else None,
        domain=service.domain or line.domain, attendee=line.attendee,
        billing_cycle=line.billing_cycle,
        product_options=dict(product.options or {}) if product else {},
        line_options=dict(line.options or {}), remote_id=service.remote_id,
        send_email=service.send_email, reason=reason,
        session=session if in_transaction else None,
    )
    return call, request


def apply_success(service: ProvisionedService, line: OrderLine | None, command: str,
                  result: ModuleResult | None) -> None:
    now = utcnow()
    service.status = DONE_STATUS[command]
    service.pending_command = None
    service.last_error = None
    if result is not None and result.remote_id:
        service.remote_id = result.remote_id[:200]
    if command == "create":
        service.activated_at = now
    if command == "terminate":
        service.terminated_at = now
    if line is not None:
        line.provisioning_status = service.status


def service_to_dict(service: ProvisionedService, server_name: str | None = None
                    ) -> dict[str, Any]:
    """A service as the API shows it: never the password, only whether one is stored."""
    def when(value: Any) -> str | None:
        return value.isoformat() if value else None

    return {
        "id": service.id, "order_number": service.order_number, "line_id": service.line_id,
        "kind": service.kind, "module": service.module, "server": server_name,
        "username": service.username, "has_password": bool(service.password),
        "domain": service.domain, "status": service.status,
        "pending_command": service.pending_command, "remote_id": service.remote_id,
        "last_error": service.last_error, "attempts": service.attempts,
        "send_email": service.send_email, "created_at": when(service.created_at),
        "activated_at": when(service.activated_at),
        "terminated_at": when(service.terminated_at),
    }


__all__ = ["DONE_STATUS", "JOB_KIND", "apply_success", "build_request", "service_to_dict"]
