"""The admin's frame: CSRF and login before every view, error pages, template helpers.

Errors raised by the core keep their meaning here: PermissionDenied is a 403 page, an
unknown order a 404 page, and other refusals (an illegal move, a stale version) are shown
on the page the user came from by the views themselves.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from ordermill.core.errors import NotFound, OrdermillError, PermissionDenied
from ordermill.core.i18n import gettext as _
from ordermill.web.admin import admin_bp, csrf
from ordermill.web.admin.auth import login_manager
from ordermill.web.admin.common import template_helpers

log = logging.getLogger("ordermill.admin")
OPEN_ENDPOINTS = frozenset({"admin.login", "admin.static"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@admin_bp.before_request
def _guard() -> Any:
    """Every admin POST carries the session's CSRF token; every page but login needs a user."""
    if request.method not in SAFE_METHODS:
        csrf.protect()
    if request.endpoint not in OPEN_ENDPOINTS and not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


@admin_bp.after_request
def _no_store(response: Any) -> Any:
    """Order pages hold personal data: browsers and proxies must not keep copies (the
    static files say for themselves how long they may be kept: admin/assets.py)."""
    if request.endpoint != "admin.static":
        response.headers.setdefault("Cache-Control", "no-store")
    return response


@admin_bp.context_processor
def _helpers() -> dict[str, Any]:
    return template_helpers()


def error_page(status: int, title: str, message: str) -> Any:
    return render_template("admin/error.html", status=status, title=title,
                           message=message, **template_helpers()), status


@admin_bp.errorhandler(PermissionDenied)
def _forbidden(error: PermissionDenied) -> Any:
    log.info("refused %s %s for %s: %s", request.method, request.path,
             getattr(current_user, "display_name", "anonymous"), error.message)
    return error_page(403, _("Not allowed"), error.message)


@admin_bp.errorhandler(NotFound)
def _not_found(error: NotFound) -> Any:
    return error_page(404, _("Not found"), error.message)


@admin_bp.errorhandler(CSRFError)
def _csrf_failed(error: CSRFError) -> Any:
    return error_page(400, _("Form expired"),
                      _("The form was sent without a valid security token (it may have been "
                        "open too long, or sent from another site). Nothing was changed: "
                        "go back, reload the page and try again."))


@admin_bp.errorhandler(OrdermillError)
def _refused(error: OrdermillError) -> Any:
    if error.http_status >= 500:
        log.error("%s on %s %s: %s", error.code, request.method, request.path, error.message)
        return error_page(error.http_status, _("Something went wrong"), error.message)
    return error_page(error.http_status, _("Not done"), error.message)


@admin_bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Any:
    return http_error_page(error)


def http_error_page(error: HTTPException) -> Any:
    """The admin's page for an HTTP error, also for admin URLs no route matched."""
    status = error.code or 500
    titles = {403: _("Not allowed"), 404: _("Not found"), 405: _("Not allowed here"),
              429: _("Too many attempts")}
    message = error.description or error.name
    if status == 429:
        message = _("Too many attempts; wait a minute and try again.")
    return error_page(status, titles.get(status, error.name), message)


@admin_bp.get("/")
def index() -> Any:
    return redirect(url_for("admin.orders"))
