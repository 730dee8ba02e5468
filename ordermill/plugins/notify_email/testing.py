"""A real SMTP server on loopback for tests (aiosmtpd), collecting what it receives.

Used by ordermill's own tests and handy for a shop's template tests:

    sink = SmtpSink()          # picks a free port
    sink.start()
    ... run the outbox worker with {"host": "127.0.0.1", "port": sink.port} ...
    [message] = sink.messages  # email.message.EmailMessage objects
    sink.stop()

Needs `aiosmtpd` (a dev dependency of ordermill).
"""

from __future__ import annotations

import socket
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import attrs
from aiosmtpd.controller import Controller


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@attrs.frozen
class Envelope:
    """What the server saw: SMTP envelope sender and recipients, and the raw message."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    content: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


class SmtpSink:
    """Start, stop and restart an aiosmtpd server on one fixed port; keep every envelope."""

    def __init__(self, port: int | None = None, *, refuse: bool = False,
                 **controller_options: Any) -> None:
        self.port = port or free_port()
        self.refuse = refuse
        self.envelopes: list[Envelope] = []
        self._lock = threading.Lock()
        self._options = controller_options
        self._controller: Controller | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.refuse:
            return "451 4.3.0 Try again later"
        with self._lock:
            self.envelopes.append(Envelope(envelope.mail_from, tuple(envelope.rcpt_tos),
                                           bytes(envelope.original_content or envelope.content)))
        return "250 Message accepted for delivery"

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> SmtpSink:
        if self._controller is None:
            controller = Controller(self, hostname="127.0.0.1", port=self.port, **self._options)
            controller.start()
            self._controller = controller
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def messages(self) -> list[EmailMessage]:
        with self._lock:
            return [envelope.message for envelope in self.envelopes]

    def clear(self) -> None:
        with self._lock:
            self.envelopes.clear()
