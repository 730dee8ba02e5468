"""The outbox job handler: render one message, send it over SMTP, record it on the order.

At-least-once, not exactly-once: SMTP has no two-phase commit, so a worker killed after the
server accepted a message and before "sent" was committed sends it again on the retry. That
window is kept to one commit: everything is rendered before connecting, and the moment the
server accepts the message the `email_sent` event and the job's end are committed together,
before QUIT. A re-sent message carries the same Message-ID (derived from the job id), so
receivers and mail tools can drop the repeat; and a job whose `email_sent` event is already
recorded is not sent again.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Mapping, Sequence
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from ordermill.api import (
    ActionContext,
    Actor,
    Order,
    OrderEvent,
    OrderNotFound,
    OutboxJobView,
    PluginConflict,
    amount_due,
    customer_order_link,
    event_to_dict,
    order_to_dict,
    use_locale,
)
from ordermill.plugins.notify_email.attachments import Attachment, attachments_for
from ordermill.plugins.notify_email.config import NotifyConfig
from ordermill.plugins.notify_email.i18n import payment_status_text, status_text
from ordermill.plugins.notify_email.render import RenderedMessage, render_message
from ordermill.plugins.notify_email.smtp import send_message

if TYPE_CHECKING:
    from ordermill.api import Ordermill

log = logging.getLogger("ordermill.notify_email")
ACTOR = "plugin:notify_email"
WORKER = Actor.system("notify_email")


def message_id(job_id: int, number: str, domain: str) -> str:
    """Stable per job, so a retried delivery is recognisably the same message."""
    return f"<ordermill.{number}.job{job_id}@{domain}>"


def _call_flexibly(function: Callable[..., Any], **available: Any) -> Any:
    """Call with the keyword arguments the function accepts (plugins choose their subset)."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return function(**available)
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return function(**available)
    names = {p.name for p in parameters}
    return function(**{key: value for key, value in available.items() if key in names})


def _format_bank_details(details: str | Mapping[str, Any]) -> str:
    if isinstance(details, Mapping):
        return "\n".join(f"{key}: {value}" for key, value in details.items())
    return str(details)


def bank_details_for(order: Order, config: NotifyConfig) -> str | None:
    """This plugin's own `bank_details`, for an unpaid bank-transfer order.

    Configured here, they win over the gateway's instructions: the shop asked for them in its
    e-mails, and the template wraps them in the customer's language.
    """
    if amount_due(order) <= 0 or not config.bank_details:
        return None
    if order.payment_method not in config.bank_transfer_methods:
        return None
    return _format_bank_details(config.bank_details).strip()


def payment_instructions(mill: Ordermill, order: Order, language: str) -> str | None:
    """How to pay an unpaid order in the gateway's own words (`describe_instructions`)."""
    if amount_due(order) <= 0:
        return None
    gateway = mill.gateways.get(order.payment_method)
    if gateway is None or gateway.describe_instructions is None:
        return None
    ctx = ActionContext(mill, Actor.system("notify_email"), "notify_email")
    text = _call_flexibly(gateway.describe_instructions, order=order, ctx=ctx, mill=mill,
                          settings=mill.settings, language=language)
    return str(text).strip() or None if text else None


def job_state(mill: Ordermill, number: str, job_id: int,
              event_id: int | None) -> tuple[bool, OrderEvent | None]:
    """(already sent?, the event that caused the message), read in one session.

    "Already sent" is true when this job's message was sent and recorded before: a retry
    after a worker died between sending and marking the job done.
    """
    with mill.read_session() as session:
        rows = session.scalars(
            select(OrderEvent.data).where(OrderEvent.order_number == number,
                                          OrderEvent.type == "email_sent"))
        sent = any((data or {}).get("job_id") == job_id for data in rows)
        event = session.get(OrderEvent, event_id) if event_id is not None and not sent else None
    return sent, event


def build_context(mill: Ordermill, order: Order, event: OrderEvent | None,
                  payload: Mapping[str, Any], config: NotifyConfig) -> dict[str, Any]:
    """Everything a template may use. Money as decimal strings, dates as ISO strings."""
    data = order_to_dict(order)
    event_data = event_to_dict(event) if event is not None else None
    audience = payload.get("audience", "customer")
    status = mill.statuses.get(order.status)
    bank_details = bank_details_for(order, config)
    return {
        "shop_name": mill.settings.shop_name,
        "order": data,
        "status_label": status_text(mill, order.status),
        "payment_status_label": payment_status_text(data["payment_status"]),
        "status_category": status.category,
        "active_lines": [line for line in data["lines"] if line["status"] == "active"],
        "closed_lines": [line for line in data["lines"] if line["status"] != "active"],
        "event": event_data,
        "event_data": dict(event_data["data"] or {}) if event_data else {},
        "comment": event_data["comment"] if event_data else None,
        "audience": audience,
        "order_link": (customer_order_link(mill, order.number, config.base_url)
                       if audience == "customer" else None),
        "bank_details": bank_details,
        "payment_instructions": None if bank_details else payment_instructions(
            mill, order, str(payload.get("language") or "en")),
        "is_paid": data["payment_status"] == "paid",
    }


def build_email(config: NotifyConfig, rendered: RenderedMessage, recipients: Sequence[str], *,
                job_id: int, number: str, template: str,
                attachments: Sequence[Attachment]) -> EmailMessage:
    """A multipart/alternative (text + HTML) message, mixed with attachments when any."""
    message = EmailMessage()
    message["Subject"] = rendered.subject
    message["From"] = formataddr((config.from_name, config.from_address))
    message["To"] = ", ".join(recipients)
    if config.reply_to:
        message["Reply-To"] = config.reply_to
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = message_id(job_id, number, config.domain)
    message["Auto-Submitted"] = "auto-generated"
    message["X-Ordermill-Order"] = number
    message["X-Ordermill-Template"] = template
    message.set_content(rendered.text)
    if rendered.html is not None:
        message.add_alternative(rendered.html, subtype="html")
    for attachment in attachments:
        message.add_attachment(attachment.data, maintype=attachment.maintype,
                               subtype=attachment.subtype, filename=attachment.filename)
    message["Content-Language"] = rendered.language.replace("_", "-")  # set_content drops it
    return message


def record_sent(mill: Ordermill, order: Order, event: OrderEvent | None, job: OutboxJobView,
                template: str, recipients: Sequence[str], email: EmailMessage,
                rendered: RenderedMessage, attachments: Sequence[Attachment]) -> None:
    """The `email_sent` event: who caused it, which template, to whom. Admin-only. The job
    is marked done in the same transaction: "sent" is one commit. The event leaves the order
    itself untouched (`touch=False`): a sent e-mail must not make an admin's open form stale."""
    with mill.orders.editing(order.number, actor=WORKER, action="email_sent") as (locked, ctx):
        assert ctx.session is not None  # editing() always holds the transaction
        mill.outbox.complete(ctx.session, job)
        ctx.record_event(
            locked, "email_sent", f"E-mail {template} sent to {', '.join(recipients)}.",
            data={"template": template, "to": list(recipients), "subject": rendered.subject,
                  "message_id": email["Message-ID"], "job_id": job.id,
                  "language": rendered.language, "templates": list(rendered.templates),
                  "attachments": [a.filename for a in attachments],
                  "source_event_id": event.id if event is not None else None,
                  "source_event_type": event.type if event is not None else None,
                  "triggered_by": event.actor if event is not None else None},
            actor=ACTOR, touch=False)


def email_messages(mill: Ordermill) -> dict[str, tuple[str, str]]:
    """{event type: (template, template folder)} that other plugins register."""
    return {event: (template, directory)
            for event, (template, directory, _domain) in _registered(mill).items()}


def email_domains(mill: Ordermill) -> list[tuple[str, str]]:
    """(catalog domain, translations folder) of the plugins' messages that give one."""
    return sorted({domain for _t, _d, domain in _registered(mill).values() if domain})


def _registered(mill: Ordermill) -> dict[str, tuple[str, str, tuple[str, str] | None]]:
    found: dict[str, tuple[str, str, tuple[str, str] | None]] = {}
    owners: dict[str, str] = {}
    outcome = mill.plugins.call("register_email_messages", settings=mill.settings) \
        if mill.plugins.spec_owner("register_email_messages") else None
    for plugin, messages in (outcome.results if outcome is not None else ()):
        for message in messages or ():
            event, template = str(message["event"]), str(message["template"])
            if event in owners and owners[event] != plugin:
                raise PluginConflict.between("e-mail for event", event, owners[event], plugin,
                                             [owners[event], plugin], key="event")
            owners[event] = plugin
            domain = ((str(message["domain"]), str(message["translations"]))
                      if message.get("domain") and message.get("translations") else None)
            found[event] = (template, str(message["directory"]), domain)
    return found


def deliver(job: OutboxJobView, mill: Ordermill) -> None:
    """Outbox handler for `notify_email.send`; raising makes the outbox retry the job."""
    config = NotifyConfig.for_mill(mill)
    payload = job.payload
    template = str(payload["template"])
    number = str(payload["order_number"])
    recipients = [str(r) for r in payload.get("recipients", [])]
    if not recipients:
        log.warning("job %s: no recipients for %s of order %s; nothing to send",
                    job.id, template, number)
        return
    try:
        order = mill.orders.get(number)
    except OrderNotFound:
        log.info("job %s: order %s was deleted; %s not sent", job.id, number, template)
        return
    sent, event = job_state(mill, number, job.id, payload.get("event_id"))
    if sent:
        return
    # the buyer's language for everything the message says, the gateway's instructions too;
    # dates come out in the shop's time zone, which the outbox runner sets around every handler
    with use_locale(str(payload.get("language") or config.default_language)):
        context = build_context(mill, order, event, payload, config)
    rendered = render_message(template, context, language=payload.get("language"),
                              default_language=config.default_language,
                              template_dir=config.template_dir,
                              extra_dirs=sorted({d for _t, d in email_messages(mill).values()}),
                              extra_domains=email_domains(mill))
    with use_locale(rendered.language):
        attachments = attachments_for(mill, order, template, language=rendered.language)
    email = build_email(config, rendered, recipients, job_id=job.id, number=number,
                        template=template, attachments=attachments)
    send_message(config, email, recipients, on_accepted=lambda: record_sent(
        mill, order, event, job, template, recipients, email, rendered, attachments))
