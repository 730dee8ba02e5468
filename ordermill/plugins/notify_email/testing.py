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

import asyncio
import socket
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import attrs
from aiosmtpd.controller import Controller


def flat(text: str) -> str:
    """Babel separates amount and symbol with a no-break space; compare with plain spaces."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def message_part(message: EmailMessage, kind: str) -> str:
    """The text of a message's "plain" or "html" body, spaces made plain (`flat`)."""
    body = message.get_body((kind,))
    assert body is not None, f"the message has no {kind} part"
    return flat(str(body.get_content()))


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


class _Handler:
    """The aiosmtpd handler. Kept apart from SmtpSink because aiosmtpd looks at every
    attribute of its handler on each connection, which would parse `messages` every time."""

    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.sink.delay:  # a slow server: the client waits for the reply to DATA
            await asyncio.sleep(self.sink.delay)
        return self.sink.receive(envelope)


class SmtpSink:
    """Start, stop and restart an aiosmtpd server on one fixed port; keep every envelope."""

    def __init__(self, port: int | None = None, *, refuse: bool = False, delay: float = 0.0,
                 **controller_options: Any) -> None:
        self.port = port or free_port()
        self.refuse = refuse
        self.delay = delay  # seconds before accepting each message (a slow server)
        self.envelopes: list[Envelope] = []
        self._lock = threading.Lock()
        self._options = {"server_hostname": "smtp.test", **controller_options}
        self._controller: Controller | None = None

    def receive(self, envelope: Any) -> str:
        """Keep one envelope, or refuse it when `refuse` is set (a server in trouble)."""
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
            controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port,
                                    **self._options)
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


def run_outbox_worker(settings: Any, worker_id: str, start: Any, results: Any) -> None:
    """Entry point of a worker *process* for tests: its own app, engine and plugins.

    Waits on `start` (a multiprocessing Barrier) so that several workers begin at once, runs
    the outbox until nothing is due, and puts (worker_id, jobs run, error) on `results`.
    """
    from ordermill.api import Ordermill

    mill = Ordermill(settings)
    try:
        start.wait()
        results.put((worker_id, mill.outbox.run_until_empty(worker_id=worker_id), None))
    except BaseException as error:
        results.put((worker_id, 0, f"{type(error).__name__}: {error}"))
    finally:
        mill.dispose()
