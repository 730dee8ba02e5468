"""The admin: the back office staff work in every day, a Jinja blueprint mounted at /admin.

It is a thin layer over the core, like the JSON API: every button ends in the same core
action the API calls (`mill.orders.*`, `core.queries`, `core.notifications`), with the
logged-in staff member as the actor, so permissions, transitions and money rules are the
core's alone. A button the user may not use is not shown, and the core refuses it anyway
(403 page). Staff log in with Flask-Login over `core.staff.authenticate`; every POST is
checked against the session's CSRF token (Flask-WTF), only under /admin so the JSON API
keeps its own bearer-token and header-token rules. CSS and the little JS are shipped in
static/: the admin works without JavaScript (dialogs become pages, previews a submit).
"""

from __future__ import annotations

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from ordermill.web.admin.assets import AdminBlueprint, add_digest

admin_bp = AdminBlueprint(
    "admin", __name__, url_prefix="/admin", template_folder="templates",
    static_folder="static", static_url_path="/static",
)
# APIFlask reads `enable_openapi` from every blueprint with before_request functions when it
# builds /api/v1/openapi.json; a plain Flask blueprint lacks it. The admin is no API.
admin_bp.enable_openapi = False  # type: ignore[attr-defined]
admin_bp.url_defaults(add_digest)
csrf = CSRFProtect()


def init_admin(app: Flask) -> None:
    """Register the admin on an app: Flask-Login, CSRF for the admin's routes, the blueprint.

    CSRF is checked in the admin blueprint's before_request only (WTF_CSRF_CHECK_DEFAULT is
    off), so the API, webhooks and the customer page are untouched.
    """
    from ordermill.web.admin.auth import login_manager

    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # valid for the session's life
    app.config.setdefault("ORDERMILL_ADMIN_PER_PAGE", 25)
    csrf.init_app(app)
    login_manager.init_app(app)
    app.register_blueprint(admin_bp)


# Views register themselves on admin_bp when imported.
from ordermill.web.admin import auth as _auth  # noqa: E402,F401
from ordermill.web.admin import catalogue as _catalogue  # noqa: E402,F401
from ordermill.web.admin import customers as _customers  # noqa: E402,F401
from ordermill.web.admin import documents as _documents  # noqa: E402,F401
from ordermill.web.admin import jobs as _jobs  # noqa: E402,F401
from ordermill.web.admin import language as _language  # noqa: E402,F401
from ordermill.web.admin import orders as _orders  # noqa: E402,F401
from ordermill.web.admin import pages as _pages  # noqa: E402,F401
from ordermill.web.admin import seller as _seller  # noqa: E402,F401
from ordermill.web.admin import settings as _settings  # noqa: E402,F401

__all__ = ["admin_bp", "csrf", "init_admin"]
