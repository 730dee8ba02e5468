"""The demo's control panel and registrar: what the demo's hosting and domain orders talk to.

The demo's products use the provisioning plugin's `webhook` module (and registrar). Without a
panel to post to, every accepted hosting order failed its create job and filled the log with
warnings. `ordermill serve --demo` (and only it) registers this module as the plugin
`demo_panel` and points the webhook module and registrar at it through the settings
(`demo_settings`), so the same process receives the signed commands, checks their signature
and "creates" the accounts, the way a reseller's real panel would.

Routes (a plain blueprint: they exist only in an app that registered this plugin):

* POST /demo/panel/hook and /demo/registrar/hook: the webhook module's signed commands;
* GET /demo/panel/: a small page of the accounts and domains it created;
* GET /demo/panel/accounts.json: the same as JSON, for tests and the curious.

The panel keeps what it created in memory (it stands in for a remote system; the order's
history is the desk's own record), so a restarted demo shows an empty panel.

This module imports no plugin (import-linter: the host names no plugin); it checks the
signature itself with the format docs/hooks.md and the webhook module describe.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any

import attrs
from flask import Blueprint, Response, abort, current_app, jsonify, render_template_string, request

from ordermill.core.i18n import gettext as _
from ordermill.core.settings import Settings
from ordermill.core.specs import Actor, AdminLink
from ordermill.demo.gateways import demo_gateway_settings
from ordermill.hookspecs import hookimpl

PLUGIN_NAME = "demo_panel"
PANEL_PATH = "/demo/panel"
REGISTRAR_PATH = "/demo/registrar"
TOLERANCE_SECONDS = 300
SIGNATURE_HEADER = "X-Ordermill-Signature"


@attrs.frozen
class DemoAccount:
    """One account (or domain) the demo panel created, as its page and JSON show it."""

    remote_id: str
    kind: str  # "account" or "domain"
    service_id: int
    order_number: str
    product: str
    username: str | None
    domain: str | None
    status: str
    created_at: str

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


class PanelStore:
    """What one app's demo panel created, by service id (a retried command changes nothing)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._accounts: dict[int, DemoAccount] = {}

    def apply(self, event: str, payload: Mapping[str, Any]) -> DemoAccount:
        service = payload.get("service") or {}
        service_id = int(service.get("id") or 0)
        kind = "domain" if event.startswith("domain.") or service.get("kind") == "domain" \
            else "account"
        command = event.split(".", 1)[1]
        with self._lock:
            known = self._accounts.get(service_id)
            if known is None:
                known = DemoAccount(
                    remote_id=f"demo-{kind}-{service_id}", kind=kind, service_id=service_id,
                    order_number=str(service.get("order_number") or ""),
                    product=str(service.get("product") or ""),
                    username=service.get("username"), domain=service.get("domain"),
                    status="active", created_at=time.strftime("%Y-%m-%d %H:%M:%S UTC",
                                                              time.gmtime()))
            status = {"suspend": "suspended", "unsuspend": "active",
                      "terminate": "terminated"}.get(command, "active")
            known = attrs.evolve(known, status=status)
            self._accounts[service_id] = known
            return known

    def accounts(self) -> list[DemoAccount]:
        with self._lock:
            return sorted(self._accounts.values(), key=lambda account: account.service_id)


def demo_settings(settings: Settings, base_url: str, secret: str | None = None) -> Settings:
    """`settings` with the webhook module and registrar pointed at this process's demo panel
    (`base_url` like "http://127.0.0.1:8000"), and Stripe and PayPal at the demo's stand-ins
    (ordermill.demo.gateways), unless the operator configured them already."""
    secret = secret or secrets.token_urlsafe(24)
    plugins = {name: dict(config) for name, config in settings.plugins.items()}
    provisioning = dict(plugins.get("provisioning") or {})
    modules = {name: dict(config) for name, config in
               (provisioning.get("modules") or {}).items()}
    registrars = {name: dict(config) for name, config in
                  (provisioning.get("registrars") or {}).items()}
    webhook = modules.get("webhook") or {}
    if not webhook.get("url") and not webhook.get("secret"):
        modules["webhook"] = {**webhook, "url": f"{base_url}{PANEL_PATH}/hook",
                              "secret": secret}
    registrar = registrars.get("webhook") or {}
    if not registrar.get("url") and not registrar.get("secret"):
        registrars["webhook"] = {**registrar, "url": f"{base_url}{REGISTRAR_PATH}/hook",
                                 "secret": secret}
    provisioning.update(modules=modules, registrars=registrars)
    provisioning.setdefault("default_registrar", "webhook")
    plugins["provisioning"] = provisioning
    demo_gateway_settings(plugins, base_url)
    return attrs.evolve(settings, plugins=plugins)


def register(mill: Any) -> None:
    """Add the demo panel to a demo app (before `create_app`), so its routes exist."""
    import ordermill.demo.panel as this

    mill.plugins.register(this, PLUGIN_NAME, source="demo")
    mill.refresh()


def _verified(secret: str | None, body: bytes, header: str) -> bool:
    """The webhook module's signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "t." + body)>."""
    if not secret:
        return False
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        stamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - stamp) > TOLERANCE_SECONDS:
        return False
    expected = hmac.new(secret.encode(), f"{stamp}.".encode() + body,
                        hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts.get("v1", ""))


def _store() -> PanelStore:
    store = current_app.extensions.get("ordermill_demo_panel")
    if store is None:
        store = current_app.extensions.setdefault("ordermill_demo_panel", PanelStore())
    assert isinstance(store, PanelStore)
    return store


def _secret(section: str) -> str | None:
    mill = current_app.extensions["ordermill"]
    provisioning = mill.settings.plugin_config("provisioning")
    config = (provisioning.get(section) or {}).get("webhook") or {}
    return config.get("secret")


demo_panel = Blueprint("demo_panel", __name__)


def _receive(section: str) -> Response:
    body = request.get_data()
    if not _verified(_secret(section), body, request.headers.get(SIGNATURE_HEADER, "")):
        abort(401)
    try:
        payload = json.loads(body)
    except ValueError:
        abort(400)
    event = str(payload.get("event") or "")
    if not event.startswith(("service.", "domain.")):
        abort(400)
    account = _store().apply(event, payload)
    what = account.domain if account.kind == "domain" else account.username
    return jsonify({"remote_id": account.remote_id,
                    "message": f"Demo panel: {account.kind} {what} is {account.status}."})


@demo_panel.post(f"{PANEL_PATH}/hook")
def panel_hook() -> Response:
    return _receive("modules")


@demo_panel.post(f"{REGISTRAR_PATH}/hook")
def registrar_hook() -> Response:
    return _receive("registrars")


@demo_panel.get(f"{PANEL_PATH}/accounts.json")
def accounts_json() -> Response:
    return jsonify({"accounts": [account.to_dict() for account in _store().accounts()]})


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Demo control panel</title>
<style>body{font-family:system-ui,sans-serif;margin:1rem;max-width:60rem}
.scroll{overflow-x:auto}table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.3rem .6rem;border-bottom:1px solid #ddd}</style></head>
<body><h1>Demo control panel</h1>
<p>The stand-in for a hosting panel and domain registrar that <code>ordermill serve --demo</code>
runs. Accepting a hosting order sends it a signed command; these are the accounts and domains it
created since the demo started. <a href="/admin/">Back to the admin</a></p>
{% if accounts %}<div class="scroll"><table>
<thead><tr><th>Panel id</th><th>Order</th><th>Product</th><th>Username or domain</th>
<th>Status</th><th>Created</th></tr></thead><tbody>
{% for a in accounts %}<tr><td>{{ a.remote_id }}</td>
<td><a href="/admin/orders/{{ a.order_number }}">{{ a.order_number }}</a></td>
<td>{{ a.product }}</td><td>{{ a.domain if a.kind == "domain" else a.username }}</td>
<td>{{ a.status }}</td><td>{{ a.created_at }}</td></tr>{% endfor %}
</tbody></table></div>
{% else %}<p>No account yet: accept a pending hosting order in the admin.</p>{% endif %}
</body></html>"""


@demo_panel.get(f"{PANEL_PATH}/")
def panel_page() -> str:
    return render_template_string(PAGE, accounts=_store().accounts())


@hookimpl
def register_blueprints() -> list[Blueprint]:
    from ordermill.demo.gateways import demo_gateways

    return [demo_panel, demo_gateways]


@hookimpl
def admin_menu_links(actor: Actor) -> Iterable[AdminLink]:
    return [AdminLink(_("Demo panel"), f"{PANEL_PATH}/")]


__all__ = ["PANEL_PATH", "PLUGIN_NAME", "REGISTRAR_PATH", "DemoAccount", "PanelStore",
           "demo_panel", "demo_settings", "register"]
