"""The webhook module: POST each service command to the reseller's own panel, signed.

A reseller points it at any HTTP endpoint of theirs; every command (create, suspend,
unsuspend, terminate, and the registrar's domain.register / domain.transfer) is one JSON POST:

    POST <url>
    Content-Type: application/json
    X-Ordermill-Event: service.create
    X-Ordermill-Delivery: ordermill-job-42      (the same on every retry of this command)
    X-Ordermill-Signature: t=1767225600,v1=<hex HMAC-SHA256(secret, "<t>." + raw body)>

    {"event": "service.create", "delivery_id": "...", "sent_at": "...", "send_email": true,
     "service": {"id": 7, "order_number": "...", "username": "...", "password": "...", ...},
     "buyer": {"name": "...", "email": "...", ...}}

The receiver checks the signature over the raw body with the shared secret, refuses a stale
timestamp (replays), and answers 2xx when done; a JSON answer may carry {"remote_id": "..."}.
Anything else (an error status, a timeout, a refused connection) makes the outbox retry
with backoff, so the panel must treat `service.id` (or the delivery id) as an idempotency key.
The body carries the service password, so use an https URL outside a test bench.

It is a plugin of its own, the entry point `provisioning_webhook`, which implements the
provisioning plugin's hook `register_provisioning_modules` (block it with
ORDERMILL_BLOCK_PLUGINS=provisioning_webhook to offer no webhook module).

Where it posts: a server of module "webhook" in the registry names its URL as `hostname` and
its secret in its credentials; without a server, `modules.webhook.url` and `.secret` of the
plugin config are used.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

from ordermill.api import N_, ConfigurationError, __version__, hookimpl, utcnow
from ordermill.plugins.provisioning.specs import (
    ModuleResult,
    ModuleSetting,
    ProvisioningModuleSpec,
    RegistrarSpec,
    ServiceRequest,
)

NAME = "webhook"
SIGNATURE_HEADER = "X-Ordermill-Signature"
DELIVERY_HEADER = "X-Ordermill-Delivery"
EVENT_HEADER = "X-Ordermill-Event"
DEFAULT_TOLERANCE = 300

SETTINGS = (
    ModuleSetting("url", "Endpoint URL (used when no server is chosen)", kind="url"),
    ModuleSetting("secret", "Signing secret (used when the server has none)", secret=True),
    ModuleSetting("timeout", "Timeout in seconds", kind="int", default=10),
    ModuleSetting("secret", "Signing secret of this server", secret=True, scope="server"),
)
REGISTRAR_SETTINGS = (
    ModuleSetting("url", "Endpoint URL", kind="url", required=True),
    ModuleSetting("secret", "Signing secret", required=True, secret=True),
    ModuleSetting("timeout", "Timeout in seconds", kind="int", default=10),
)


class WebhookRefused(RuntimeError):
    """The receiver answered something other than 2xx (the outbox retries)."""


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The signature header value for `body`: "t=<unix time>,v1=<hex HMAC-SHA256>"."""
    stamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


def verify(secret: str, body: bytes, header: str, *, tolerance: int = DEFAULT_TOLERANCE,
           now: float | None = None) -> bool:
    """True when `header` signs `body` with `secret` within `tolerance` seconds (receivers)."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        stamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - stamp) > tolerance:
        return False
    expected = sign(secret, body, stamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def _target(request: ServiceRequest) -> tuple[str, str, int]:
    server = request.server
    url = server.hostname if server and server.hostname.startswith(("http://", "https://")) \
        else request.settings.get("url")
    secret = (server.credentials.get("secret") if server else None) \
        or request.settings.get("secret")
    if not url or not secret:
        raise ConfigurationError(
            f"The webhook module has no URL or secret for service {request.service_id}: give "
            f"the server an http(s) hostname and a secret, or set provisioning.modules.webhook "
            f"url and secret.")
    return str(url), str(secret), int(request.settings.get("timeout") or 10)


def deliver(event: str, request: ServiceRequest, target: tuple[str, str, int]) -> ModuleResult:
    """POST one signed event; 2xx or raise."""
    url, secret, timeout = target
    body = json.dumps({
        "event": event, "delivery_id": request.delivery_id, "sent_at": utcnow().isoformat(),
        "send_email": request.send_email, "reason": request.reason,
        "service": request.to_payload(), "buyer": dict(request.buyer),
    }, sort_keys=True).encode()
    import requests  # on first delivery: not every start-up pays for it

    response = requests.post(url, data=body, timeout=timeout, headers={
        "Content-Type": "application/json", "User-Agent": f"ordermill/{__version__}",
        SIGNATURE_HEADER: sign(secret, body), DELIVERY_HEADER: request.delivery_id,
        EVENT_HEADER: event,
    })
    if not 200 <= response.status_code < 300:
        raise WebhookRefused(f"{url} answered {response.status_code} to {event}: "
                             f"{response.text[:200]}")
    answer: Mapping[str, Any] = {}
    if response.content and "json" in response.headers.get("Content-Type", ""):
        try:
            loaded = response.json()
        except ValueError:
            loaded = {}
        answer = loaded if isinstance(loaded, dict) else {}
    remote = answer.get("remote_id")
    return ModuleResult(remote_id=str(remote) if remote is not None else request.remote_id,
                        message=str(answer.get("message") or ""), data=dict(answer))


def _command(name: str) -> Any:
    def run(request: ServiceRequest) -> ModuleResult:
        return deliver(f"service.{name}", request, _target(request))

    run.__name__ = name
    run.__doc__ = f"POST service.{name} to the panel."
    return run


def _domain(name: str) -> Any:
    def run(request: ServiceRequest) -> ModuleResult:
        url, secret = request.settings.get("url"), request.settings.get("secret")
        if not url or not secret:
            raise ConfigurationError("The webhook registrar needs provisioning.registrars."
                                     "webhook url and secret.")
        return deliver(f"domain.{name}", request,
                       (str(url), str(secret), int(request.settings.get("timeout") or 10)))

    run.__name__ = name
    return run


MODULE = ProvisioningModuleSpec(
    name=NAME, label=N_("Webhook to your own panel"),
    create=_command("create"), suspend=_command("suspend"),
    unsuspend=_command("unsuspend"), terminate=_command("terminate"),
    settings_schema=SETTINGS, needs_server=False,
    description=N_("POSTs each command as signed JSON (HMAC-SHA256) to a URL of yours."),
)

REGISTRAR = RegistrarSpec(
    name=NAME, label=N_("Webhook registrar"), register=_domain("register"),
    transfer=_domain("transfer"), settings_schema=REGISTRAR_SETTINGS,
    description=N_("POSTs domain.register / domain.transfer as signed JSON to a URL of yours."),
)



@hookimpl(optionalhook=True, trylast=True)
def register_provisioning_modules() -> list[ProvisioningModuleSpec | RegistrarSpec]:
    """This module is its own plugin (entry point `provisioning_webhook`): optional, so
    it does nothing where the provisioning plugin, which defines the hook, is blocked."""
    return [MODULE, REGISTRAR]


__all__ = ["DELIVERY_HEADER", "EVENT_HEADER", "MODULE", "REGISTRAR", "SIGNATURE_HEADER",
           "register_provisioning_modules", "sign", "verify"]
