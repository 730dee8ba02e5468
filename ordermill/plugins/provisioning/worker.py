"""The worker: run one queued module command on a remote panel and record its outcome.

Each outcome is a plugin action of its own on the order (`mill.orders.editing`): the order is
locked as the core's actions lock it, and the service's new state and the event that says so
(provisioned, service_terminated, provisioning_failed, ...) commit together.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from ordermill.api import ActionContext, Actor, JobRequest, Order, OrderLine, OutboxJobView, utcnow
from ordermill.plugins.provisioning.calls import (
    JOB_KIND,
    _domain_action,
    _text,
    _what,
    apply_success,
    build_request,
)
from ordermill.plugins.provisioning.models import ProvisionedService, ProvisioningServer
from ordermill.plugins.provisioning.registry import ProvisioningConfig
from ordermill.plugins.provisioning.specs import ModuleResult

if TYPE_CHECKING:
    from ordermill.api import Ordermill

ACTOR = "system:provisioning"
WORKER = Actor.system("provisioning")  # its label is ACTOR: the events' author
DONE_EVENTS = {"create": "provisioned", "suspend": "service_suspended",
               "unsuspend": "service_unsuspended", "terminate": "service_terminated"}
ATTENTION = "{module}: {command} of {what} failed (service {service})"


def attention_reason(service: ProvisionedService, line: OrderLine | None, command: str) -> str:
    """The order's "needs attention" reason for a command that failed for good; the same
    text is cleared when the command (or a retry of it) succeeds."""
    return ATTENTION.format(module=service.module, command=command,
                            what=_what(service, line), service=service.id)


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
def _editing(mill: Ordermill, order_number: str, action: str
             ) -> Iterator[tuple[Session, Order, ActionContext]]:
    """The service's order, locked, in one write transaction of the action runner."""
    with mill.orders.editing(order_number, actor=WORKER, action=action) as (order, ctx):
        assert ctx.session is not None  # editing() always holds the transaction
        yield ctx.session, order, ctx


def record_success(mill: Ordermill, service_id: int, number: int, command: str,
                   result: ModuleResult | None) -> None:
    """Write a command's success on the service and the order (if the job is still current);
    a create that finished after its line was closed is taken down again."""
    order_number = _order_number_of(mill, service_id)
    if order_number is None:
        return
    with _editing(mill, order_number, f"provisioning_{command}") as (session, order, ctx):
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
            ctx.clear_attention(order, attention_reason(service, line, command))
            kind = DONE_EVENTS[command]
            if service.kind == "domain" and command == "create":
                kind = "domain_transferred" if line is not None \
                    and _domain_action(line) == "transfer" else "domain_registered"
            server = session.get(ProvisioningServer, service.server_id) \
                if service.server_id else None
            on = f" on {server.name}" if server else ""
            user = f", username {service.username}" if service.username else ""
            ctx.record_event(
                order, kind,
                f"{service.module}: {command} of {_what(service, line)} done{on}{user}.",
                data=data)
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
            ctx.enqueue(JobRequest(
                kind=JOB_KIND, payload={"service_id": service.id, "command": "terminate",
                                        "request": service.requests, "reason": "cancelled",
                                        "max_attempts": config.max_attempts},
                dedupe_key=f"{JOB_KIND}:{service.id}:{service.requests}",
                max_attempts=config.max_attempts))
            ctx.record_event(
                order, "provisioned",
                f"{service.module}: {_what(service, line)} was created after its line was "
                f"closed; terminating it again.", data=data)


def record_failure(mill: Ordermill, service_id: int, number: int, command: str,
                   error: BaseException, *, final: bool) -> None:
    """Count a failed attempt; the last one marks the service failed and says so on the order."""
    order_number = _order_number_of(mill, service_id)
    if order_number is None:
        return
    with _editing(mill, order_number, f"provisioning_{command}") as (session, order, ctx):
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
        ctx.flag_attention(order, attention_reason(service, line, command))
        ctx.record_event(
            order, "provisioning_failed",
            f"{service.module}: {command} of {_what(service, line)} failed after "
            f"{service.attempts} attempt(s): {service.last_error}. Use its Retry button on "
            f"the order page once the cause is fixed.",
            data={"service_id": service.id, "line_id": service.line_id,
                  "module": service.module, "command": command, "error": service.last_error})


def _order_number_of(mill: Ordermill, service_id: int) -> str | None:
    with mill.read_session() as session:
        return session.scalar(select(ProvisionedService.order_number)
                              .where(ProvisionedService.id == service_id))


__all__ = ["ACTOR", "DONE_EVENTS", "attention_reason", "record_failure", "record_success",
           "run_job"]
