"""The provisioning plugin's tables: servers, per-line services and e-tickets.

They use the core's `Base` (so tests' create_all makes them) and are created in production by
the plugin's own Alembic branch (migrations/, branch label "provisioning"). Rows hang off
order lines with ON DELETE CASCADE: deleting an order (allowed for unpaid, cancelled and
fraud orders only) takes its services and tickets with it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ordermill.api import Base, utcnow

SERVICE_STATUSES = ("pending", "active", "suspended", "failed", "terminating", "terminated",
                    "cancelled")
LIVE_STATUSES = ("pending", "active", "suspended", "failed")
TICKET_STATUSES = ("valid", "checked_in", "suspended", "void")


class ProvisioningServer(Base):
    """A panel server of a module (WHMCS server): where accounts are created.

    `credentials` is a Fernet token of the JSON the module's "server" settings describe;
    `capacity` caps live services on it (None: no cap); inactive servers are never picked.
    """

    __tablename__ = "provisioning_server"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    module: Mapped[str] = mapped_column(String(64), index=True)
    hostname: Mapped[str] = mapped_column(String(255))
    credentials: Mapped[str | None] = mapped_column(Text)
    capacity: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ProvisionedService(Base):
    """The service one order line bought: at most one per line, reused by every retry.

    `kind` is "service" (a module), "domain" (a registrar) or "tickets" (e-tickets).
    `password` is a Fernet token, never the password itself. `requests` counts the commands
    asked for and `pending_command` names the one in flight: an outbox job whose number is
    no longer current was superseded (a cancel overtook a create) and does nothing.
    """

    __tablename__ = "provisioning_service"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(
        ForeignKey("shop_order.id", ondelete="CASCADE"), index=True)
    order_number: Mapped[str] = mapped_column(String(10), index=True)
    line_id: Mapped[int] = mapped_column(
        ForeignKey("order_line.id", ondelete="CASCADE"), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    module: Mapped[str] = mapped_column(String(64))
    server_id: Mapped[int | None] = mapped_column(
        ForeignKey("provisioning_server.id", ondelete="SET NULL"), index=True)
    username: Mapped[str | None] = mapped_column(String(64))
    password: Mapped[str | None] = mapped_column(Text)
    domain: Mapped[str | None] = mapped_column(String(253))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    remote_id: Mapped[str | None] = mapped_column(String(200))
    last_error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    requests: Mapped[int] = mapped_column(Integer, default=0)
    pending_command: Mapped[str | None] = mapped_column(String(20))
    send_email: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    activated_at: Mapped[dt.datetime | None]
    terminated_at: Mapped[dt.datetime | None]


class ETicket(Base):
    """One ticket: one per unit (attendee) of a paid ticket line, with a unique code.

    Status valid -> checked_in (exactly once), or void (line cancelled or refunded, order set
    to fraud) or suspended. A voided ticket is never revived: a new one with a new code is
    issued if the line becomes payable and paid again.
    """

    __tablename__ = "eticket"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    order_id: Mapped[int] = mapped_column(
        ForeignKey("shop_order.id", ondelete="CASCADE"), index=True)
    order_number: Mapped[str] = mapped_column(String(10), index=True)
    line_id: Mapped[int] = mapped_column(
        ForeignKey("order_line.id", ondelete="CASCADE"), index=True)
    unit: Mapped[int] = mapped_column(Integer)
    attendee: Mapped[str] = mapped_column(String(200))
    event_name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="valid")
    void_reason: Mapped[str | None] = mapped_column(String(40))
    issued_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    voided_at: Mapped[dt.datetime | None]
    checked_in_at: Mapped[dt.datetime | None]
    checked_in_by: Mapped[str | None] = mapped_column(String(200))


__all__ = ["LIVE_STATUSES", "SERVICE_STATUSES", "ETicket", "ProvisionedService",
           "ProvisioningServer"]
