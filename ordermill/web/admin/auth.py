"""Staff login for the admin: Flask-Login sessions over `core.staff.authenticate`.

The session also carries the JSON API's session keys (web.auth.login_session), so a script
in the logged-in browser may call the API with the X-CSRF-Token header, as web/auth.py
describes. A deactivated user is logged out at their next request: the user loader asks
the database every time.
"""

from __future__ import annotations

from typing import Any

from flask import flash, jsonify, redirect, render_template, request, session, url_for
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from sqlalchemy import select

from ordermill.core.errors import PermissionDenied
from ordermill.core.models import User
from ordermill.core.permissions import permissions_of
from ordermill.core.specs import Actor
from ordermill.core.staff import actor_for_user, authenticate
from ordermill.web.admin import admin_bp
from ordermill.web.admin.common import mill, safe_next
from ordermill.web.admin.forms import LoginForm
from ordermill.web.auth import login_session, logout_session
from ordermill.web.extensions import limiter, login_limit

login_manager = LoginManager()
login_manager.login_view = "admin.login"
login_manager.login_message = "Please log in to use the order desk."
login_manager.login_message_category = "info"


class StaffUser(UserMixin):
    """The logged-in staff member: their core Actor plus what the page header shows."""

    def __init__(self, actor: Actor, display_name: str) -> None:
        self.actor = actor
        self.display_name = display_name

    def get_id(self) -> str:
        return str(self.actor.user_id)

    @property
    def role(self) -> str:
        return self.actor.role or ""

    @property
    def permissions(self) -> frozenset[str]:
        return permissions_of(self.actor.role)


@login_manager.user_loader
def load_user(user_id: str) -> StaffUser | None:
    """The active staff user of the session, or None (deactivated or deleted since login)."""
    try:
        key = int(user_id)
    except ValueError:
        return None
    with mill().read_session() as db:
        user = db.get(User, key)
    if user is None or not user.active or user.role == "customer":
        return None
    return StaffUser(actor_for_user(user), user.name or user.email)


@login_manager.unauthorized_handler
def unauthorized() -> Any:
    """Pages go to the login form; the dialogs' preview fetches get a 401 they can show."""
    if request.path.endswith("/preview") or request.accept_mimetypes.best == "application/json":
        response = jsonify({"ok": False, "error": "Your session ended: log in again."})
        response.status_code = 401
        return response
    flash(login_manager.login_message, "info")
    return redirect(url_for("admin.login", next=request.full_path.rstrip("?")))


@admin_bp.route("/login", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"])
def login() -> Any:
    """The login form. Wrong e-mail and wrong password read the same (core.staff)."""
    if current_user.is_authenticated:
        return redirect(url_for("admin.orders"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        try:
            actor = authenticate(mill(), form.email.data or "", form.password.data or "")
        except PermissionDenied as refused:
            error = refused.message
        else:
            with mill().read_session() as db:
                user = db.scalar(select(User).where(User.id == actor.user_id))
            if actor.role == "customer" or user is None:
                error = "This account may not use the order desk."
            else:
                target = safe_next(request.args.get("next"), url_for("admin.orders"))
                login_session(actor)  # fresh session: no fixation, API session keys too
                login_user(StaffUser(actor, user.name or user.email))
                return redirect(target)
    elif request.method == "POST":
        error = "Enter your e-mail and password."
    status = 401 if error else 200
    return render_template("admin/login.html", form=form, error=error), status


@admin_bp.post("/logout")
def logout() -> Any:
    """Log out (a POST with the CSRF token, so another site cannot log staff out)."""
    logout_user()
    logout_session()
    session.clear()
    flash("You are logged out.", "info")
    return redirect(url_for("admin.login"))
