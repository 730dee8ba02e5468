"""Module commands by hand (WHMCS module buttons) and the order's service list.

An admin retries a failed create, or creates, suspends, unsuspends or terminates one line's
service; the command goes through the same planner (and outbox) as the automatic ones, and
the request is written on the order. `services_of` lists an order's services for the API,
never their passwords (only whether one is stored).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from ordermill.api import (
    ActionNotAllowed,
    Actor,
    InvalidInput,
    LineAlreadyClosed,
    LineNotFound,
    Order,
    OrderLine,
    payment_status,
    require,
)
from ordermill.plugins.provisioning.calls import DONE_STATUS, _what, service_to_dict
from ordermill.plugins.provisioning.models import ProvisionedService, ProvisioningServer
from ordermill.plugins.provisioning.options import line_options as _line_options
from ordermill.plugins.provisioning.planner import (
    NO_CREATE_CATEGORIES,
    RECREATABLE,
    Planner,
    Target,
    _products,
    target_for,
)
from ordermill.plugins.provisioning.registry import ProvisioningConfig

if TYPE_CHECKING:
    from ordermill.api import Ordermill


def request_command(mill: Ordermill, number: str, line_id: int, command: str, *,
                    actor: Actor, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Run a module command on one line from the order (WHMCS module buttons): retry a failed
    create, or create, suspend, unsuspend or terminate by hand. Answers the service."""
    require(actor, "edit_orders")
    if command not in DONE_STATUS:
        raise InvalidInput(f"Unknown command {command!r}; use create, suspend, unsuspend or "
                           f"terminate.", details={"command": command})
    config = ProvisioningConfig.from_settings(mill.settings)
    mill.orders.get(number)  # a clear 404 (and number check) before taking any lock
    with mill.orders.editing(number, actor=actor, action=f"provisioning_{command}"
                             ) as (order, ctx):
        session = ctx.session
        assert session is not None  # editing() always holds the transaction
        line = session.scalar(select(OrderLine).where(OrderLine.id == line_id,
                                                      OrderLine.order_id == order.id))
        if line is None:
            raise LineNotFound(number, line_id)
        products = _products(session, [line])
        product = products.get(line.product_id)
        line_options = _line_options(options or {}, line.id)
        registrar_name = line_options.get("registrar") or config.default_registrar
        planner = Planner(mill, session, order, config)
        service = planner.services.get(line.id)
        target = target_for(planner.installed, line, product,
                            registrar_name=service.module if service
                            and service.kind == "domain" else registrar_name)
        if target is None:
            raise ActionNotAllowed(f"Line {line_id} ({line.name}) has no provisioning module "
                                   f"or registrar.", details={"line_id": line_id})
        _check_command(mill, order, line, service, target, command)
        if command == "create":
            service = planner.start_create(line, product, target, line_options)
        else:
            assert service is not None
            service = planner.start_command(service, line, command,
                                            reason="by hand" if command == "terminate" else None)
        for job in planner.jobs:
            ctx.enqueue(job)  # every job names its max_attempts (the plugin's setting)
        ctx.record_event(
            order, "provisioning_requested",
            f"{command.title()} of {_what(service, line)} requested by {actor.name}.",
            data={"service_id": service.id, "line_id": line.id, "command": command,
                  "provisioning": planner.notes})
        return service_to_dict(service)


def _check_command(mill: Ordermill, order: Order, line: OrderLine,
                   service: ProvisionedService | None, target: Target, command: str) -> None:
    what = f"line {line.id} ({line.name})"
    if command == "create":
        if line.status != "active":
            raise LineAlreadyClosed(f"Cannot create {what}: it is {line.status}.",
                                    details={"line_id": line.id})
        category = mill.statuses.category(order.status)
        if category in NO_CREATE_CATEGORIES:
            raise ActionNotAllowed(f"Order {order.number} is {order.status}: nothing can be "
                                   f"provisioned for it.", details={"status": order.status})
        if target.module is not None and target.module.requires_payment \
                and payment_status(order) != "paid":
            raise ActionNotAllowed(f"Order {order.number} is not paid: {target.module.label} "
                                   f"are issued once it is.", details={"line_id": line.id})
        if service is not None and service.status not in RECREATABLE:
            raise ActionNotAllowed(
                f"The service of {what} is {service.status}"
                + (f" (a {service.pending_command} is on its way)" if service.pending_command
                   else "") + ": there is nothing to create.",
                details={"service_id": service.id, "status": service.status})
        return
    if service is None:
        raise ActionNotAllowed(f"Nothing was provisioned for {what}: create it first.",
                               details={"line_id": line.id})
    allowed = {"suspend": ("active",), "unsuspend": ("suspended",),
               "terminate": ("active", "suspended", "failed")}[command]
    if service.status not in allowed:
        raise ActionNotAllowed(f"Cannot {command} the service of {what}: it is "
                               f"{service.status}.",
                               details={"service_id": service.id, "status": service.status})


def services_of(mill: Ordermill, number: str, *, actor: Actor | None = None
                ) -> list[dict[str, Any]]:
    """The order's service records (passwords never leave the database)."""
    mill.orders.get(number, actor=actor)
    with mill.read_session() as session:
        rows = session.execute(
            select(ProvisionedService, ProvisioningServer.name)
            .outerjoin(ProvisioningServer,
                       ProvisioningServer.id == ProvisionedService.server_id)
            .where(ProvisionedService.order_number == number)
            .order_by(ProvisionedService.line_id)).all()
        return [service_to_dict(service, server) for service, server in rows]


__all__ = ["request_command", "services_of"]
