"""The planner: which creates and terminations an action calls for, decided in its transaction.

`plan_for_event` is the `jobs_for_event` hook (see engine.py for the rules). Remote commands
become outbox jobs; in-transaction modules (e-tickets) run at once in a savepoint. What ran is
listed in the action's event under data["provisioning"].
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from ordermill.api import (
    ActionContext,
    InvalidInput,
    JobRequest,
    Order,
    OrderEvent,
    OrderLine,
    Product,
    payment_status,
    utcnow,
    without_secrets,
)
from ordermill.plugins.provisioning import registry, vault
from ordermill.plugins.provisioning.calls import (
    JOB_KIND,
    _text,
    apply_success,
    build_request,
)
from ordermill.plugins.provisioning.models import (
    LIVE_STATUSES,
    ProvisionedService,
    ProvisioningServer,
)
from ordermill.plugins.provisioning.options import line_options as _line_options
from ordermill.plugins.provisioning.registry import ProvisioningConfig
from ordermill.plugins.provisioning.specs import ProvisioningModuleSpec, RegistrarSpec

if TYPE_CHECKING:
    from ordermill.api import Ordermill

log = logging.getLogger("ordermill.provisioning")
CREATE_EVENTS = frozenset({"placed", "payment", "payment_flagged", "accepted", "pending",
                           "lines_added"})
CLOSE_EVENTS = frozenset({"cancelled", "refunded", "cancelled_and_refunded", "fraud"})
NO_CREATE_CATEGORIES = frozenset({"fraud", "cancelled", "refunded"})
RECREATABLE = frozenset({"failed", "cancelled", "terminated"})


@attrs.frozen
class Target:
    """What a line provisions with: a module (service, tickets) or a registrar (domain)."""

    kind: str
    name: str
    module: ProvisioningModuleSpec | None = None
    registrar: RegistrarSpec | None = None


def target_for(installed: registry.Installed, line: OrderLine, product: Product | None, *,
               registrar_name: str | None = None) -> Target | None:
    """The module a line's product names; tickets use e-tickets (when a plugin provides
    them) and domains a registrar."""
    name = product.provisioning_module if product is not None else None
    if name:
        spec = installed.modules.get(name)
        kind = "tickets" if name == registry.TICKET_MODULE else "service"
        return Target(kind, name, module=spec)
    tickets = installed.modules.get(registry.TICKET_MODULE)
    if line.kind == "ticket" and tickets is not None:
        return Target("tickets", registry.TICKET_MODULE, module=tickets)
    if line.kind == "domain" and line.domain and registrar_name:
        return Target("domain", registrar_name, registrar=installed.registrars.get(
            registrar_name))
    return None


# ---------------------------------------------------------------------------- servers


def choose_server(session: Session, spec: ProvisioningModuleSpec, wanted: Any
                  ) -> ProvisioningServer | None:
    """The server named in the accept options, else the least-loaded active one with room.

    Load counts the live services on a server; `capacity` caps it. A named server that is
    unknown, inactive, of another module or full is refused (the admin chose it).
    """
    servers = list(session.scalars(select(ProvisioningServer).where(
        ProvisioningServer.module == spec.name, ProvisioningServer.active.is_(True))
        .order_by(ProvisioningServer.id)))
    ids = [server.id for server in servers]
    load: dict[int, int] = {}
    if ids:
        load = {server_id: count for server_id, count in session.execute(
            select(ProvisionedService.server_id, func.count())
            .where(ProvisionedService.server_id.in_(ids),
                   ProvisionedService.status.in_(LIVE_STATUSES))
            .group_by(ProvisionedService.server_id))}

    def has_room(server: ProvisioningServer) -> bool:
        return server.capacity is None or load.get(server.id, 0) < server.capacity

    if wanted not in (None, ""):
        chosen = next((s for s in servers if s.name == str(wanted) or str(s.id) == str(wanted)),
                      None)
        if chosen is None:
            raise InvalidInput(f"No active {spec.name} server {wanted!r}; servers of this "
                               f"module: {', '.join(s.name for s in servers) or 'none'}.",
                               details={"server": str(wanted)})
        if not has_room(chosen):
            raise InvalidInput(f"Server {chosen.name} is full ({chosen.capacity} services).",
                               details={"server": chosen.name})
        return chosen
    roomy = [server for server in servers if has_room(server)]
    return min(roomy, key=lambda s: (load.get(s.id, 0), s.id)) if roomy else None


# ---------------------------------------------------------------------------- the planner


class Planner:
    """Decides and starts commands for one order inside one transaction."""

    def __init__(self, mill: Ordermill, session: Session, order: Order,
                 config: ProvisioningConfig) -> None:
        self.mill = mill
        self.session = session
        self.order = order
        self.config = config
        self.jobs: list[JobRequest] = []
        self.notes: list[dict[str, Any]] = []
        self.secrets: dict[int, str] = {}  # line id -> "set" / "changed" (never the value)
        self._services: dict[int, ProvisionedService] | None = None
        self._installed: registry.Installed | None = None

    @property
    def installed(self) -> registry.Installed:
        """This app's modules and registrars, asked once per planner (one transaction)."""
        if self._installed is None:
            self._installed = registry.installed(self.mill)
        return self._installed

    @property
    def services(self) -> dict[int, ProvisionedService]:
        if self._services is None:
            self._services = {service.line_id: service for service in self.session.scalars(
                select(ProvisionedService).where(ProvisionedService.order_id == self.order.id))}
        return self._services

    def note(self, service: ProvisionedService | None, line: OrderLine, command: str,
             outcome: str, **extra: Any) -> None:
        entry = {"line_id": line.id, "service_id": service.id if service else None,
                 "command": command, "outcome": outcome, **without_secrets(extra)}
        if command == "create" and line.id in self.secrets:
            entry["password"] = self.secrets[line.id]
        self.notes.append(entry)

    # ---- create

    def start_create(self, line: OrderLine, product: Product | None, target: Target,
                     options: Mapping[str, Any]) -> ProvisionedService:
        """Make (or reuse) the line's service record and run or queue its create, with the
        username and password the options give for this line (else generated ones)."""
        service = self.services.get(line.id)
        if service is None:
            service = ProvisionedService(
                order_id=self.order.id, order_number=self.order.number, line_id=line.id,
                kind=target.kind, module=target.name, domain=line.domain, status="pending",
                attempts=0, requests=0, send_email=True, created_at=utcnow())
            self.session.add(service)
            self.services[line.id] = service
        service.module = target.name
        service.kind = target.kind
        service.send_email = bool(options.get("send_email", True))
        spec = target.module
        if target.kind == "service" and spec is not None:
            server = choose_server(self.session, spec, options.get("server"))
            if server is None and spec.needs_server:
                return self._fail_now(service, line, "create",
                                      f"no active {spec.name} server has room left")
            service.server_id = server.id if server else service.server_id
            secret_key = self.mill.settings.secret_keys
            username = options.get("username")
            service.username = str(username or service.username
                                   or vault.new_username(line.domain or self.order.buyer_email))
            password = options.get("password")
            if password or not service.password:
                self.secrets[line.id] = "changed" if service.password else "set"
                service.password = vault.encrypt(secret_key,
                                                 str(password or vault.new_password()))
        if target.kind != "domain" and spec is None:
            return self._fail_now(service, line, "create",
                                  f"unknown provisioning module {target.name!r}")
        if target.kind == "domain" and target.registrar is None:
            return self._fail_now(service, line, "create", f"unknown registrar {target.name!r}")
        self.session.flush()
        return self.start_command(service, line, "create")

    def _fail_now(self, service: ProvisionedService, line: OrderLine, command: str,
                  error: str) -> ProvisionedService:
        service.status = "failed"
        service.pending_command = None
        service.last_error = error
        line.provisioning_status = "failed"
        self.session.flush()
        self.note(service, line, command, "failed", error=error)
        return service

    # ---- any command

    def start_command(self, service: ProvisionedService, line: OrderLine, command: str,
                      reason: str | None = None) -> ProvisionedService:
        spec = self.installed.modules.get(service.module) if service.kind != "domain" else None
        service.requests += 1
        service.pending_command = command
        service.last_error = None
        if command == "create":
            service.status = "pending"
        elif command == "terminate":
            service.status = "terminating"
        line.provisioning_status = service.status
        self.session.flush()
        if spec is not None and spec.in_transaction:
            return self._run_here(service, line, command, reason)
        self.jobs.append(JobRequest(
            kind=JOB_KIND,
            payload={"service_id": service.id, "command": command,
                     "request": service.requests, "reason": reason,
                     "max_attempts": self.config.max_attempts},
            dedupe_key=f"{JOB_KIND}:{service.id}:{service.requests}",
            max_attempts=self.config.max_attempts))
        self.note(service, line, command, "queued")
        return service

    def _run_here(self, service: ProvisionedService, line: OrderLine, command: str,
                  reason: str | None) -> ProvisionedService:
        """In-transaction modules: run now, in a savepoint so a failure leaves the action's
        work intact (a ticket printer must never undo a payment)."""
        try:
            with self.session.begin_nested():
                call, request = build_request(
                    self.session, self.mill, self.config, service, command,
                    delivery_id=f"ordermill-service-{service.id}-{service.requests}",
                    reason=reason, in_transaction=True)
                result = call(request)
        except Exception as error:
            log.exception("provisioning %s of service %s failed", command, service.id)
            service.attempts += 1
            if command == "create":
                service.status = "failed"
            elif command == "terminate":
                service.status = "active"
            service.pending_command = None
            service.last_error = _text(error)
            line.provisioning_status = service.status
            self.note(service, line, command, "failed", error=service.last_error)
            return service
        apply_success(service, line, command, result)
        self.note(service, line, command, "done", **dict(result.data if result else {}))
        return service

    # ---- closing

    def close(self, service: ProvisionedService, line: OrderLine, reason: str) -> None:
        """Terminate what the line provisioned (or drop what never reached a panel)."""
        spec = self.installed.modules.get(service.module) if service.kind != "domain" else None
        never_created = service.remote_id is None and service.activated_at is None
        if service.kind == "domain":
            if service.status in ("pending", "failed"):
                self._drop(service, line, reason)
            return
        if spec is not None and spec.in_transaction:
            self.start_command(service, line, "terminate", reason)
        elif service.status in ("pending", "failed") and never_created:
            self._drop(service, line, reason)
        else:
            self.start_command(service, line, "terminate", reason)

    def reduce(self, service: ProvisionedService, line: OrderLine, reason: str) -> None:
        """Some units of a still-active line closed: an in-transaction module with `reduce`
        ends those units now (e-tickets void as many tickets); anything else keeps the
        service while the line has units left. A failure is noted, never undoes the action."""
        spec = self.installed.modules.get(service.module) if service.kind != "domain" else None
        if spec is None or spec.reduce is None or not spec.in_transaction:
            return
        try:
            with self.session.begin_nested():
                call, request = build_request(
                    self.session, self.mill, self.config, service, "reduce",
                    delivery_id=f"ordermill-service-{service.id}-reduce-{line.quantity}",
                    reason=reason, in_transaction=True)
                result = call(request)
        except Exception as error:
            log.exception("provisioning reduce of service %s failed", service.id)
            self.note(service, line, "reduce", "failed", error=_text(error))
            return
        self.note(service, line, "reduce", "done", **dict(result.data if result else {}))

    def _drop(self, service: ProvisionedService, line: OrderLine, reason: str) -> None:
        service.requests += 1  # a create job still queued is now stale and does nothing
        service.status = "cancelled"
        service.pending_command = None
        line.provisioning_status = "cancelled"
        self.note(service, line, "terminate", "cancelled", reason=reason)


def _products(session: Session, lines: Sequence[OrderLine]) -> dict[int, Product]:
    """The lines' products: those this transaction already read from its identity map (a
    placement's priced products), the others by one query."""
    found: dict[int, Product] = {}
    missing = set()
    for product_id in {line.product_id for line in lines if line.product_id is not None}:
        known = session.identity_map.get(identity_key(Product, product_id))
        if isinstance(known, Product):
            found[product_id] = known
        else:
            missing.add(product_id)
    if missing:
        found.update((product.id, product) for product in session.scalars(
            select(Product).where(Product.id.in_(missing))))
    return found


def plan_for_event(order: Order, event: OrderEvent, ctx: ActionContext) -> list[JobRequest]:
    """The jobs_for_event hook: start creates and terminations this action calls for."""
    session = ctx.session
    if session is None or order is None or order.id is None:
        return []
    category = ctx.mill.statuses.category(order.status)
    closing = event.type in CLOSE_EVENTS or (event.type == "fraud_checked"
                                             and category == "fraud")
    creating = event.type in CREATE_EVENTS and category not in NO_CREATE_CATEGORIES
    if not (closing or creating):
        return []
    lines = list(order.lines)
    if not any(line.kind in ("ticket", "domain") or line.provisioning_status is not None
               for line in lines):
        return []  # the core marks lines of products with a module: no query needed
    products = _products(session, lines)
    if not any(line.kind in ("ticket", "domain") or (
            line.product_id in products and products[line.product_id].provisioning_module)
            for line in lines):
        return []  # nothing to provision: no configuration read, no query of services
    config = ProvisioningConfig.from_settings(ctx.settings)
    options: Mapping[str, Any] = ctx.notes.get("accept_options") \
        or without_secrets((event.data or {}).get("options") or {})
    planner = Planner(ctx.mill, session, order, config)
    if closing:
        _plan_closing(planner, lines, category)
        _plan_reductions(planner, lines, event)
    if creating:
        _plan_creates(planner, lines, products, event.type, options, order)
    if planner.notes:
        event.data = {**(event.data or {}), "provisioning": planner.notes}
    return planner.jobs


def _plan_closing(planner: Planner, lines: Sequence[OrderLine], category: str) -> None:
    fraud = category == "fraud"
    if not any(fraud or line.status != "active" for line in lines):
        return
    for line in lines:
        if not fraud and line.status == "active":
            continue
        service = planner.services.get(line.id)
        if service is None or service.status not in LIVE_STATUSES:
            continue
        planner.close(service, line, "fraud" if fraud else line.status)


def _plan_reductions(planner: Planner, lines: Sequence[OrderLine], event: OrderEvent) -> None:
    """Lines the event closed only some units of (its data["lines"], core.line_parts) keep
    their id and their service with fewer units: let the module end the units that went."""
    chosen = {entry.get("id") for entry in (event.data or {}).get("lines") or []
              if isinstance(entry, dict)}
    reason = "cancelled" if event.type == "cancelled" else "refunded"
    for line in lines:
        if line.id not in chosen or line.status != "active":
            continue
        service = planner.services.get(line.id)
        if service is not None and service.status in LIVE_STATUSES:
            planner.reduce(service, line, reason)


def _plan_creates(planner: Planner, lines: Sequence[OrderLine], products: Mapping[int, Product],
                  event_type: str, options: Mapping[str, Any], order: Order) -> None:
    paid = payment_status(order) == "paid"
    wanted: list[tuple[OrderLine, Product | None, Target]] = []
    for line in lines:
        if line.status != "active":
            continue
        product = products.get(line.product_id)
        line_options = _line_options(options, line.id)
        registrar_name = line_options.get("registrar") or planner.config.default_registrar
        target = target_for(planner.installed, line, product,
                            registrar_name=registrar_name)
        if target is None:
            continue
        if not _wants_create(target, product, event_type, line_options, paid):
            continue
        wanted.append((line, product, target))
    if not wanted:
        return
    for line, product, target in wanted:
        service = planner.services.get(line.id)
        if service is not None and not _may_recreate(service, target, event_type):
            continue
        planner.start_create(line, product, target, _line_options(options, line.id))


def _may_recreate(service: ProvisionedService, target: Target, event_type: str) -> bool:
    """A line that already has a service gets a new create only when it is down (failed,
    dropped or terminated) and an admin accepts, or sets the order back to pending (after
    fraud); a failed in-transaction module (tickets) is retried by the next paid event."""
    if service.status not in RECREATABLE:
        return False  # live or in flight: never a second create
    if event_type in ("accepted", "pending"):
        return True
    return service.status == "failed" and target.module is not None \
        and target.module.in_transaction


def _wants_create(target: Target, product: Product | None, event_type: str,
                  options: Mapping[str, Any], paid: bool) -> bool:
    auto = (product.auto_activate if product is not None else None) or "on_accept"
    if target.module is not None and target.module.requires_payment:
        return paid
    if event_type == "accepted":
        if target.kind == "domain":
            return bool(options.get("send_registrar", auto != "never"))
        return bool(options.get("autosetup", auto != "never"))
    if event_type == "placed":
        return auto == "on_order"
    if event_type in ("payment", "payment_flagged"):
        return auto == "on_payment" and paid
    return False


__all__ = ["CLOSE_EVENTS", "CREATE_EVENTS", "NO_CREATE_CATEGORIES", "RECREATABLE", "Planner",
           "Target", "choose_server", "plan_for_event", "target_for"]
