"""SMTP delivery with smtplib: plain, STARTTLS or implicit TLS (SSL), optional login.

One connection per message keeps a worker simple and a failure local to its job; the outbox
decides about retries, so every error here is simply raised. `on_accepted` runs the moment
the server has accepted the message (its reply to the end of DATA), before QUIT: the caller
records "sent" there, so the window in which a crash leaves a sent message unrecorded (and
later re-sent with the same Message-ID) is that one commit, which is as close as SMTP
allows (it has no two-phase commit).
"""

from __future__ import annotations

import functools
import smtplib
import socket
import ssl
from collections.abc import Callable, Sequence
from email.message import EmailMessage

from ordermill.plugins.notify_email.config import NotifyConfig


@functools.lru_cache(maxsize=1)
def local_hostname() -> str:
    """This machine's name for EHLO, looked up once (smtplib asks DNS on every connection)."""
    return socket.getfqdn()


def tls_context(config: NotifyConfig) -> ssl.SSLContext:
    """Verified TLS; `tls_ca_file` trusts a private CA (or a test server's certificate)."""
    return ssl.create_default_context(cafile=config.tls_ca_file)


def send_message(config: NotifyConfig, message: EmailMessage, recipients: Sequence[str],
                 on_accepted: Callable[[], None] | None = None) -> None:
    """Hand one message to the SMTP server; raise on any refusal or connection problem, and
    call `on_accepted` once the server took it for every recipient, before hanging up."""
    if not config.host:
        raise RuntimeError("notify_email has no SMTP host configured")
    client: smtplib.SMTP
    helo = config.helo_name or local_hostname()
    if config.security == "ssl":
        client = smtplib.SMTP_SSL(config.host, config.port, local_hostname=helo,
                                  timeout=config.timeout, context=tls_context(config))
    else:
        client = smtplib.SMTP(config.host, config.port, local_hostname=helo,
                              timeout=config.timeout)
    with client:
        if config.security == "starttls":
            client.starttls(context=tls_context(config))
        if config.username:
            client.login(config.username, config.password or "")
        refused = client.send_message(message, from_addr=config.from_address,
                                      to_addrs=list(recipients))
        if refused:  # some (not all) recipients refused: fail so the job is seen and retried
            raise smtplib.SMTPRecipientsRefused(refused)
        if on_accepted is not None:
            on_accepted()
