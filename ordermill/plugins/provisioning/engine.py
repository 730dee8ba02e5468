"""When services are created and terminated, and how each command's outcome is recorded.

Everything starts inside an action's transaction (`plan_for_event`, the `jobs_for_event`
hook), so what is decided commits with the action or not at all:

* accepted: each active line whose product names a module (or a ticket, or a domain with a
  registrar) gets its service record, a server (chosen in the accept options, else the least
  loaded one of the module with room left), a username and an encrypted password, then its
  create command. WHMCS accept options apply: `autosetup` (run create, default yes unless the
  product says `auto_activate: never`), `server`, `username`, `password`, `send_email`,
  `registrar`, `send_registrar`; per line under `lines: {"<line id>": {...}}`.
* payment that makes the order paid: products with `auto_activate: on_payment` are created
  while the order itself stays pending for review (WHMCS), and e-tickets are issued;
  `on_order` products are created at placement.
* cancelled, refunded, cancel & refund: services of the lines closed are terminated;
  fraud (set by an admin or by a fraud check): every service of the order is terminated.
  Bulk and plain status changes run no module command, as in WHMCS.

Remote commands go through the outbox (job kind `provisioning.command`) and are retried with
backoff; in-transaction modules (e-tickets) run at once. Each line has at most one service
record (a unique index), which every retry reuses: a retried create sends the same service
id and username again and never makes a second service. The outcome of each command is
written on the order as an event (provisioned, provisioning_failed, service_terminated, ...);
what ran inside an action is listed in that action's event under data["provisioning"].
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import attrs
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ordermill.core.context import ActionContext
from ordermill.core.errors import (
    ActionNotAllowed,
    InvalidInput,
    LineAlreadyClosed,
    LineNotFound,
    OrderNotFound,
)
from ordermill.core.models import Order, OrderEvent, OrderLine, Product, utcnow
from ordermill.core.outbox import enqueue
from ordermill.core.permissions import require
from ordermill.core.specs import Actor, JobRequest, OutboxJobView
from ordermill.core.statuses import payment_status
from ordermill.plugins.provisioning import registry, vault
from ordermill.plugins.provisioning.models import (
    LIVE_STATUSES,
    ProvisionedService,
    ProvisioningServer,
)
from ordermill.plugins.provisioning.registry import ProvisioningConfig
from ordermill.plugins.provisioning.specs import (
    Command,
    ModuleResult,
    ProvisioningModuleSpec,
    RegistrarSpec,
    ServerInfo,
    ServiceRequest,
)

if TYPE_CHECKING:
    from ordermill.core.app import Ordermill

log = logging.getLogger("ordermill.provisioning")
JOB_KIND = "provisioning.command"
ACTOR = "system:provisioning"
CREATE_EVENTS = frozenset({"placed", "payment", "payment_flagged", "accepted", "pending",
                           "lines_added"})
CLOSE_EVENTS = frozenset({"cancelled", "refunded", "cancelled_and_refunded", "fraud"})
NO_CREATE_CATEGORIES = frozenset({"fraud", "cancelled", "refunded"})
RECREATABLE = frozenset({"failed", "cancelled", "terminated"})
OPTION_KEYS = ("server", "username", "password", "autosetup", "send_email", "registrar",
               "send_registrar")
DONE_EVENTS = {"create": "provisioned", "suspend": "service_suspended",
               "unsuspend": "service_unsuspended", "terminate": "service_terminated"}
DONE_STATUS = {"create": "active", "suspend": "suspended", "unsuspend": "active",
               "terminate": "terminated"}


@attrs.frozen
class Target:
    """What a line provisions with: a module (service, tickets) or a registrar (domain)."""

    kind: str
    name: str
    module: ProvisioningModuleSpec | None = None
    registrar: RegistrarSpec | None = None


def target_for(line: OrderLine, product: Product | None, *,
               registrar_name: str | None = None) -> Target | None:
    """The module a line's product names; tickets use e-tickets and domains a registrar."""
    name = product.provisioning_module if product is not None else None
    if name:
        spec = registry.modules().get(name)
        kind = "tickets" if name == registry.TICKET_MODULE else "service"
        return Target(kind, name, module=spec)
    if line.kind == "ticket":
        return Target("tickets", registry.TICKET_MODULE,
                      module=registry.modules()[registry.TICKET_MODULE])
    if line.kind == "domain" and line.domain and registrar_name:
        return Target("domain", registrar_name, registrar=registry.registrars().get(
            registrar_name))
    return None


def _text(error: BaseException) -> str:
    message = getattr(error, "message", None) or str(error) or type(error).__name__
    return f"{type(error).__name__}: {message}"[:2000]


def _buyer(order: Order) -> dict[str, Any]:
    return {"name": order.buyer_name, "email": order.buyer_email, "phone": order.buyer_phone,
            "billing_address": dict(order.billing_address or {}), "language": order.language}


def _line_options(options: Mapping[str, Any], line_id: int) -> dict[str, Any]:
    merged = {key: options[key] for key in OPTION_KEYS if key in options}
    lines = options.get("lines")
    specific = lines.get(str(line_id)) if isinstance(lines, Mapping) else None
    if isinstance(specific, Mapping):
        merged.update({key: specific[key] for key in OPTION_KEYS if key in specific})
    if merged.get("password") == "***":  # the masked copy kept in history, never a password
        merged.pop("password")
    return merged


def _domain_action(line: OrderLine) -> str:
    action = str((line.options or {}).get("domain_action") or "register")
    return "transfer" if action == "transfer" else "register"


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


# ---------------------------------------------------------------------------- requests


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
    secret_key = mill.settings.secret_key
    server = session.get(ProvisioningServer, service.server_id) if service.server_id else None
    call: Command | None
    if service.kind == "domain":
        registrar = registry.registrar(service.module)
        settings = config.registrar_settings(registrar)
        if command == "create":
            call = registrar.transfer if _domain_action(line) == "transfer" \
                else registrar.register
        else:
            call = None
    else:
        spec = registry.module(service.module)
        settings = config.module_settings(spec)
        call = spec.command(command)
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
        self._services: dict[int, ProvisionedService] | None = None

    @property
    def services(self) -> dict[int, ProvisionedService]:
        if self._services is None:
            self._services = {service.line_id: service for service in self.session.scalars(
                select(ProvisionedService).where(ProvisionedService.order_id == self.order.id))}
        return self._services

    def note(self, service: ProvisionedService | None, line: OrderLine, command: str,
             outcome: str, **extra: Any) -> None:
        self.notes.append({"line_id": line.id, "service_id": service.id if service else None,
                           "command": command, "outcome": outcome, **extra})

    # ---- create

    def start_create(self, line: OrderLine, product: Product | None, target: Target,
                     options: Mapping[str, Any], *, single: bool) -> ProvisionedService:
        """Make (or reuse) the line's service record and run or queue its create."""
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
            secret_key = self.mill.settings.secret_key
            username = options.get("username") if single else None
            service.username = str(username or service.username
                                   or vault.new_username(line.domain or self.order.buyer_email))
            password = options.get("password") if single else None
            if password or not service.password:
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
        spec = registry.modules().get(service.module) if service.kind != "domain" else None
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
        spec = registry.modules().get(service.module) if service.kind != "domain" else None
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

    def _drop(self, service: ProvisionedService, line: OrderLine, reason: str) -> None:
        service.requests += 1  # a create job still queued is now stale and does nothing
        service.status = "cancelled"
        service.pending_command = None
        line.provisioning_status = "cancelled"
        self.note(service, line, "terminate", "cancelled", reason=reason)


def _products(session: Session, lines: Sequence[OrderLine]) -> dict[int, Product]:
    ids = {line.product_id for line in lines}
    if not ids:
        return {}
    return {product.id: product for product in session.scalars(
        select(Product).where(Product.id.in_(ids)))}


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
        or (event.data or {}).get("options") or {}
    planner = Planner(ctx.mill, session, order, config)
    if closing:
        _plan_closing(planner, lines, category)
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


def _plan_creates(planner: Planner, lines: Sequence[OrderLine], products: Mapping[int, Product],
                  event_type: str, options: Mapping[str, Any], order: Order) -> None:
    paid = payment_status(order) == "paid"
    wanted: list[tuple[OrderLine, Product | None, Target, dict[str, Any]]] = []
    for line in lines:
        if line.status != "active":
            continue
        product = products.get(line.product_id)
        line_options = _line_options(options, line.id)
        registrar_name = line_options.get("registrar") or planner.config.default_registrar
        target = target_for(line, product, registrar_name=registrar_name)
        if target is None:
            continue
        if not _wants_create(target, product, event_type, line_options, paid):
            continue
        wanted.append((line, product, target, line_options))
    if not wanted:
        return
    servers = sum(1 for _l, _p, target, _o in wanted if target.kind == "service")
    for line, product, target, line_options in wanted:
        service = planner.services.get(line.id)
        if service is not None and not _may_recreate(service, target, event_type):
            continue
        planner.start_create(line, product, target, line_options, single=servers == 1)


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


# ---------------------------------------------------------------------------- the worker


def run_job(*, job: OutboxJobView, mill: Ordermill) -> None:
    """Outbox handler: run one command on a remote panel and record the outcome.

    A job whose request number is no longer the service's (a cancel overtook a create, an
    admin retried) does nothing. A failure raises, so the outbox retries it; the last allowed
    attempt marks the service failed and writes `provisioning_failed` on the order.
    """
    payload = job.payload
    service_id = int(payload["service_id"])
    command = str(payload["command"])
    number = int(payload["request"])
    config = ProvisioningConfig.from_settings(mill.settings)
    try:
        with mill.read_session() as session:
            service = session.get(ProvisionedService, service_id)
            if service is None or service.requests != number \
                    or service.pending_command != command:
                return
            call, request = build_request(session, mill, config, service, command,
                                          delivery_id=f"ordermill-job-{job.id}",
                                          reason=payload.get("reason"))
        result = call(request)
    except Exception as error:
        final = job.attempts >= int(payload.get("max_attempts") or config.max_attempts)
        record_failure(mill, service_id, number, command, error, final=final)
        raise
    record_success(mill, service_id, number, command, result)


@contextmanager
def locked_order(mill: Ordermill, order_id: int | None = None, *, number: str | None = None
                 ) -> Iterator[tuple[Session, Order]]:
    """A write transaction holding the order's row lock (PostgreSQL) or the write lock."""
    with mill.write_session() as session, session.begin():
        query = select(Order).options(selectinload(Order.lines), selectinload(Order.invoices),
                                      selectinload(Order.payments))
        query = query.where(Order.id == order_id) if order_id is not None \
            else query.where(Order.number == number)
        if not mill.is_sqlite:
            query = query.with_for_update(of=Order)
        order = session.scalar(query)
        if order is None:
            raise OrderNotFound(f"No order {number or order_id}.",
                                details={"number": number} if number else {})
        yield session, order


def _write_event(session: Session, order: Order, kind: str, message: str,
                 data: Mapping[str, Any], actor: str = ACTOR) -> None:
    order.updated_at = utcnow()  # a change to the order's services is a change to the order
    session.add(OrderEvent(order_id=order.id, order_number=order.number, type=kind,
                           actor=actor, message=message, data=dict(data),
                           created_at=utcnow()))


def _what(service: ProvisionedService, line: OrderLine | None) -> str:
    name = line.name if line else f"line {service.line_id}"
    where = f" ({service.domain})" if service.domain else ""
    return f"{name}{where}"


def record_success(mill: Ordermill, service_id: int, number: int, command: str,
                   result: ModuleResult | None) -> None:
    order_id = _order_id_of(mill, service_id)
    if order_id is None:
        return
    with locked_order(mill, order_id) as (session, order):
        service = session.get(ProvisionedService, service_id)
        if service is None:
            return
        line = session.get(OrderLine, service.line_id)
        data = {"service_id": service.id, "line_id": service.line_id,
                "module": service.module, "command": command,
                "remote_id": result.remote_id if result else None}
        current = service.requests == number and service.pending_command == command
        if current:
            apply_success(service, line, command, result)
            kind = DONE_EVENTS[command]
            if service.kind == "domain" and command == "create":
                kind = "domain_transferred" if line is not None \
                    and _domain_action(line) == "transfer" else "domain_registered"
            server = session.get(ProvisioningServer, service.server_id) \
                if service.server_id else None
            on = f" on {server.name}" if server else ""
            user = f", username {service.username}" if service.username else ""
            _write_event(session, order, kind,
                         f"{service.module}: {command} of {_what(service, line)} done{on}{user}.",
                         data)
            return
        if command == "create" and service.status in ("cancelled", "terminated"):
            # created on the panel while the line was being cancelled: take it down again
            if result is not None and result.remote_id:
                service.remote_id = result.remote_id[:200]
            service.activated_at = utcnow()
            service.requests += 1
            service.pending_command = "terminate"
            service.status = "terminating"
            if line is not None:
                line.provisioning_status = "terminating"
            config = ProvisioningConfig.from_settings(mill.settings)
            enqueue(session, JobRequest(
                kind=JOB_KIND, payload={"service_id": service.id, "command": "terminate",
                                        "request": service.requests, "reason": "cancelled",
                                        "max_attempts": config.max_attempts},
                dedupe_key=f"{JOB_KIND}:{service.id}:{service.requests}",
                max_attempts=config.max_attempts), order_number=order.number)
            _write_event(session, order, "provisioned",
                         f"{service.module}: {_what(service, line)} was created after its "
                         f"line was closed; terminating it again.", data)


def record_failure(mill: Ordermill, service_id: int, number: int, command: str,
                   error: BaseException, *, final: bool) -> None:
    order_id = _order_id_of(mill, service_id)
    if order_id is None:
        return
    with locked_order(mill, order_id) as (session, order):
        service = session.get(ProvisionedService, service_id)
        if service is None or service.requests != number \
                or service.pending_command != command:
            return
        service.attempts += 1
        service.last_error = _text(error)
        if not final:
            return
        line = session.get(OrderLine, service.line_id)
        service.pending_command = None
        if command == "create":
            service.status = "failed"
        elif command == "terminate":
            service.status = "active"  # still on the panel: terminate again by hand
        if line is not None:
            line.provisioning_status = service.status
        _write_event(session, order, "provisioning_failed",
                     f"{service.module}: {command} of {_what(service, line)} failed after "
                     f"{service.attempts} attempt(s): {service.last_error}. Retry it from the "
                     f"order.",
                     {"service_id": service.id, "line_id": service.line_id,
                      "module": service.module, "command": command,
                      "error": service.last_error})


def _order_id_of(mill: Ordermill, service_id: int) -> int | None:
    with mill.read_session() as session:
        return session.scalar(select(ProvisionedService.order_id)
                              .where(ProvisionedService.id == service_id))


# ---------------------------------------------------------------------------- by hand


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
    with locked_order(mill, number=number) as (session, order):
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
        target = target_for(line, product, registrar_name=service.module if service
                            and service.kind == "domain" else registrar_name)
        if target is None:
            raise ActionNotAllowed(f"Line {line_id} ({line.name}) has no provisioning module "
                                   f"or registrar.", details={"line_id": line_id})
        _check_command(mill, order, line, service, target, command)
        if command == "create":
            service = planner.start_create(line, product, target, line_options, single=True)
        else:
            assert service is not None
            service = planner.start_command(service, line, command,
                                            reason="by hand" if command == "terminate" else None)
        for job in planner.jobs:
            enqueue(session, job, order_number=order.number,
                    default_max_attempts=config.max_attempts)
        session.flush()
        _write_event(session, order, "provisioning_requested",
                     f"{command.title()} of {_what(service, line)} requested by "
                     f"{actor.name}.",
                     {"service_id": service.id, "line_id": line.id, "command": command,
                      "provisioning": planner.notes}, actor=actor.label)
        session.flush()
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


__all__ = ["JOB_KIND", "Planner", "choose_server", "plan_for_event", "request_command",
           "run_job", "service_to_dict", "services_of"]
