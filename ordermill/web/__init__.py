"""The web layer: a Flask app factory with the JSON API and the admin as blueprints.

web/ only calls core actions; no business rule lives here. The app is an APIFlask (a Flask
subclass) so the API's marshmallow schemas both validate requests and generate the OpenAPI
document at /api/v1/openapi.json (browsable at /api/v1/docs). Any WSGI server can run it:
`ordermill serve` uses waitress.

The app's plugins add routes through `register_blueprints` (registered after the core's, so
a blocked plugin's routes simply do not exist) and admin navigation links through
`admin_menu_links` (checked once here, with a system actor, so a bad link stops start-up).
"""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint, APIFlask
from flask import Blueprint, Response, g, jsonify, redirect, request, url_for
from werkzeug.middleware.proxy_fix import ProxyFix

from ordermill.core import permissions
from ordermill.core.app import Ordermill
from ordermill.core.errors import PluginConflict, PluginError
from ordermill.core.settings import Settings
from ordermill.core.specs import Actor
from ordermill.web import docs_assets, errors
from ordermill.web.admin import init_admin
from ordermill.web.admin.common import menu_links
from ordermill.web.api.schemas import ErrorSchema
from ordermill.web.customer import customer_bp
from ordermill.web.docs_assets import DOCS_PATH, docs_csp, init_docs_assets
from ordermill.web.extensions import limiter
from ordermill.web.i18n import init_i18n
from ordermill.web.template_code import TEMPLATE_CODE
from ordermill.web.webhooks import payments_bp, webhooks_bp

API_DESCRIPTION = """\
The ordermill order desk over HTTP. Authenticate with `Authorization: Bearer <token>`
(`ordermill token create`, or POST /api/v1/auth/login). Orders are addressed by their public
10-digit number. Money is a decimal string ("12.50") in the order's currency; JSON numbers
are refused for money. Every action takes `?dry_run=true` to preview what it would do.
Every error is `{"error": {"code", "message", "details"}}`.
"""

DEFAULTS: dict[str, Any] = {
    "OPENAPI_VERSION": "3.0.3",
    "DESCRIPTION": API_DESCRIPTION,
    "VALIDATION_ERROR_SCHEMA": ErrorSchema,
    "HTTP_ERROR_SCHEMA": ErrorSchema,
    "VALIDATION_ERROR_DESCRIPTION": "Invalid input (nothing was changed)",
    "AUTH_ERROR_DESCRIPTION": "Missing, invalid or revoked credentials",
    "SECURITY_SCHEMES": {"BearerAuth": {
        "type": "http", "scheme": "bearer",
        "description": "An API token: `ordermill token create EMAIL NAME`, or "
                       "POST /api/v1/auth/login.",
    }},
    "TAGS": [{"name": "ordermill", "description": "Orders, payments, statuses, catalogue."}],
    "AUTO_TAGS": False,
    "SYNC_LOCAL_SPEC": False,
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "RATELIMIT_ENABLED": True,  # explicit, or the shared limiter keeps the last app's
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_HEADERS_ENABLED": True,
    "ORDERMILL_LOGIN_RATE_LIMIT": "10 per minute",
    "ORDERMILL_TOKEN_RATE_LIMIT": "10 per minute",
    "ORDERMILL_CHECKOUT_RATE_LIMIT": "30 per minute",
    "ORDERMILL_PUBLIC_CHECKOUT": True,
    **docs_assets.SETTINGS,  # Swagger UI from the installed package, never a CDN
}

API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
PAGE_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "script-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; "
            "form-action 'self'")


def security_config(settings: Settings) -> dict[str, Any]:
    """Keys and cookie flags from the settings: no key (PostgreSQL without
    ORDERMILL_SECRET_KEY) is a ConfigurationError, so the app never runs unsigned."""
    keys = settings.secret_keys
    values: dict[str, Any] = {"SECRET_KEY": keys[0], "SECRET_KEY_FALLBACKS": list(keys[1:])}
    if settings.secure_cookies:  # behind TLS: cookies only over HTTPS, links as https://
        values.update({"SESSION_COOKIE_SECURE": True, "REMEMBER_COOKIE_SECURE": True,
                       "PREFERRED_URL_SCHEME": "https"})
    return values


def trust_proxies(wsgi_app: Any, count: int) -> ProxyFix:
    """Believe the X-Forwarded-For and X-Forwarded-Proto values the last `count` proxies
    added (never more: a client can send its own), so the client address, is_secure and HSTS
    are right behind a TLS-terminating proxy. Host and port are not taken from headers that
    many proxies pass through from the client unchanged; the proxy forwards the Host header."""
    return ProxyFix(wsgi_app, x_for=count, x_proto=count, x_host=0, x_port=0, x_prefix=0)


def _security_headers(response: Response) -> Response:
    """Headers every response carries; a view may set its own CSP first (setdefault)."""
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.is_secure:  # behind TLS (or ORDERMILL_PROXY_COUNT proxies that say so)
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if request.path == DOCS_PATH and response.mimetype == "text/html":
        headers.setdefault("Content-Security-Policy", docs_csp(response.get_data(as_text=True)))
    elif request.path.startswith(f"{DOCS_PATH}/assets/"):
        headers.setdefault("Content-Security-Policy", API_CSP)
    elif request.path.startswith("/api/"):
        headers.setdefault("Content-Security-Policy", API_CSP)
        headers.setdefault("Cache-Control", "no-store")
    else:
        headers.setdefault("Content-Security-Policy", PAGE_CSP)
    return response


def _require_bodies_with_required_fields(spec: dict[str, Any]) -> dict[str, Any]:
    """Mark a request body required when its schema has required fields (apiflask leaves
    `requestBody.required` out, which would tell clients the body may be omitted)."""
    schemas = spec.get("components", {}).get("schemas", {})
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            body = operation.get("requestBody") if isinstance(operation, dict) else None
            if not body:
                continue
            for media in body.get("content", {}).values():
                ref = media.get("schema", {}).get("$ref", "")
                if schemas.get(ref.rsplit("/", 1)[-1], {}).get("required"):
                    body["required"] = True
    return spec


def register_plugin_blueprints(app: APIFlask, mill: Ordermill) -> dict[str, str]:
    """Register the blueprints of the app's plugins; returns {blueprint name: plugin}.

    Refused, naming the plugin: an object that is no Blueprint, an APIBlueprint route outside
    /api/ (where the API's guards and JSON errors would not apply), and a blueprint name or a
    URL rule (same path and method) the app already has (PluginConflict naming both owners).
    A plain Blueprint is kept out of the OpenAPI document.
    """
    owners: dict[str, str] = {}
    for plugin, returned in mill.plugins.call("register_blueprints").results:
        who = mill.plugins.describe(plugin)
        for blueprint in returned:
            if not isinstance(blueprint, Blueprint):
                raise PluginError(who, "register_blueprints",
                                  f"returned {blueprint!r}, not a Flask Blueprint")
            if blueprint.name in app.blueprints:
                other = owners.get(blueprint.name)
                raise PluginConflict.between(
                    "blueprint", blueprint.name,
                    mill.plugins.describe(other) if other else "ordermill (core)", who,
                    [other or "ordermill", plugin])
            if not hasattr(blueprint, "enable_openapi"):
                blueprint.enable_openapi = False  # type: ignore[attr-defined]
            app.register_blueprint(blueprint)
            owners[blueprint.name] = plugin
    _check_plugin_rules(app, mill, owners)
    return owners


def _check_plugin_rules(app: APIFlask, mill: Ordermill, owners: dict[str, str]) -> None:
    seen: dict[tuple[str, str], str | None] = {}  # (path, method) -> plugin, None: the core
    for rule in app.url_map.iter_rules():
        blueprint = rule.endpoint.split(".")[0] if "." in rule.endpoint else None
        plugin = owners.get(blueprint) if blueprint else None
        if plugin is not None and isinstance(app.blueprints[blueprint or ""], APIBlueprint) \
                and not rule.rule.startswith("/api/"):
            raise PluginError(mill.plugins.describe(plugin), "register_blueprints",
                              f"its APIBlueprint route {rule.rule} is outside /api/; API "
                              f"routes live under /api/ (e.g. url_prefix='/api/v1/<plugin>')")
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            key = (rule.rule, method)
            if key in seen and (plugin is not None or seen[key] is not None) \
                    and seen[key] != plugin:
                first, second = (mill.plugins.describe(name) if name else "ordermill (core)"
                                 for name in (seen[key], plugin))
                raise PluginConflict(
                    f"Conflicting plugins found for route {method} {rule.rule}: provided by "
                    f"{first} and {second}.", details={"route": f"{method} {rule.rule}",
                                                       "plugins": [seen[key] or "ordermill",
                                                                   plugin or "ordermill"]})
            seen.setdefault(key, plugin)


def create_app(mill: Ordermill | None = None, config: dict[str, Any] | None = None) -> APIFlask:
    """Build the WSGI app around an Ordermill (made from the environment when not given)."""
    from ordermill import __version__
    from ordermill.web.api import api

    mill = mill or Ordermill()
    app = APIFlask(
        __name__, title="ordermill API", version=__version__,
        spec_path="/openapi.json", docs_path="/docs", docs_oauth2_redirect_path=None,
        openapi_blueprint_url_prefix="/api/v1", json_errors=False,
    )
    app.jinja_options = {**app.jinja_options, "bytecode_cache": TEMPLATE_CODE}
    app.config.update(DEFAULTS)
    app.config.update(security_config(mill.settings))
    app.config.update(config or {})
    if mill.settings.proxy_count:
        app.wsgi_app = trust_proxies(app.wsgi_app, mill.settings.proxy_count)  # type: ignore[method-assign]
    app.extensions["ordermill"] = mill
    mill.gateways  # noqa: B018  a gateway callable of the wrong signature stops start-up here
    mill.event_types  # noqa: B018  two plugins labelling one event type stop start-up here

    app.spec_processor(_require_bodies_with_required_fields)
    errors.init_app(app)
    limiter.init_app(app)
    app.after_request(_security_headers)

    @app.before_request
    def _use_this_apps_permissions() -> None:
        g.ordermill_permissions = permissions.activate(mill.permissions)

    @app.teardown_request
    def _drop_this_apps_permissions(_error: BaseException | None) -> None:
        token = g.pop("ordermill_permissions", None)
        if token is not None:
            permissions.deactivate(token)
    init_i18n(app)  # after the permissions: the locale may read the logged-in user
    app.register_blueprint(api)
    init_docs_assets(app)
    app.register_blueprint(webhooks_bp)  # gateways sign their calls; no token, no CSRF
    app.register_blueprint(payments_bp)
    app.register_blueprint(customer_bp)  # the customer's order page, by signed link
    init_admin(app)  # the admin at /admin: Flask-Login, CSRF on its own routes only

    @app.get("/")
    @app.doc(hide=True)
    def home() -> Any:
        return redirect(url_for("admin.index"))

    @app.get("/healthz")
    @app.doc(hide=True)
    def healthz() -> Any:
        return jsonify({"status": "ok"})

    register_plugin_blueprints(app, mill)  # after the core's: theirs cannot shadow ours
    with app.test_request_context("/admin/"):  # links may use url_for
        menu_links(mill, Actor.system("admin-menu-check"))
    return app
