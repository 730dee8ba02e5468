"""Staff login for the admin: Flask-Login sessions over `core.staff.authenticate`, and the
account pages around it (my password, an admin's "end all sessions" of a staff user).

The session also carries the JSON API's session keys (web.auth.login_session), so a script
in the logged-in browser may call the API with the X-CSRF-Token header, as web/auth.py
describes. A deactivated user, or a session ended by logout, a password change or an admin,
is logged out at its next request: the user loader asks the database every time and
compares the cookie's session version.
"""

from __future__ import annotations

from typing import Any

from flask import flash, jsonify, redirect, render_template, request, session, url_for
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import PasswordField
from wtforms.validators import DataRequired, Length

from ordermill.core.errors import InvalidInput, PermissionDenied
from ordermill.core.i18n import N_, lazy_gettext
from ordermill.core.i18n import gettext as _
from ordermill.core.models import User
from ordermill.core.permissions import permissions_of
from ordermill.core.specs import Actor
from ordermill.core.staff import (
    authenticate,
    change_password,
    end_sessions,
    session_staff,
)
from ordermill.web.admin import admin_bp
from ordermill.web.admin.common import actor as current_actor
from ordermill.web.admin.common import mill, safe_next
from ordermill.web.admin.forms import LoginForm, form_errors
from ordermill.web.auth import login_session, logout_session, session_user, stamp_session
from ordermill.web.extensions import limiter, login_limit

login_manager = LoginManager()
login_manager.login_view = "admin.login"
login_manager.login_message = N_("Please log in to use the order desk.")
login_manager.login_message_category = "info"


class PasswordForm(FlaskForm):
    """My account: the current password, then the new one twice (core.staff checks length)."""

    current_password = PasswordField(lazy_gettext("Current password"),
                                     validators=[DataRequired(), Length(max=1000)])
    new_password = PasswordField(lazy_gettext("New password"),
                                 validators=[DataRequired(), Length(max=1000)])
    confirm_password = PasswordField(lazy_gettext("New password again"),
                                     validators=[DataRequired(), Length(max=1000)])


class StaffUser(UserMixin):
    """The logged-in staff member: their core Actor plus what the page header shows."""

    def __init__(self, actor: Actor, display_name: str, language: str | None = None) -> None:
        self.actor = actor
        self.display_name = display_name
        self.language = language  # the admin language they chose; None: the browser's

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
    """The active staff user of the session, or None (deactivated, deleted, or the session
    ended since login: its stamped version is not the user's current one)."""
    stamped = session_user()
    try:
        key = int(user_id)
    except ValueError:
        return None
    if stamped is None or stamped[0] != key:
        return None
    staff = session_staff(mill(), *stamped)
    return StaffUser(*staff) if staff is not None else None


@login_manager.unauthorized_handler
def unauthorized() -> Any:
    """Pages go to the login form; the dialogs' preview fetches get a 401 they can show."""
    if request.path.endswith("/preview") or request.accept_mimetypes.best == "application/json":
        response = jsonify({"ok": False, "error": _("Your session ended: log in again.")})
        response.status_code = 401
        return response
    flash(_(login_manager.login_message), "info")
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
                error = _("This account may not use the order desk.")
            else:
                target = safe_next(request.args.get("next"), url_for("admin.orders"))
                login_session(actor)  # fresh session: no fixation, API session keys too
                login_user(StaffUser(actor, user.name or user.email))
                return redirect(target)
    elif request.method == "POST":
        error = _("Enter your e-mail and password.")
    status = 401 if error else 200
    return render_template("admin/login.html", form=form, error=error), status


@admin_bp.post("/logout")
def logout() -> Any:
    """Log out (a POST with the CSRF token, so another site cannot log staff out)."""
    logout_user()
    logout_session()
    session.clear()
    flash(_("You are logged out."), "info")
    return redirect(url_for("admin.login"))


@admin_bp.route("/account", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"])
def account() -> Any:
    """My account: change my password (the current one is asked again). Every other session
    of mine ends; this browser stays logged in."""
    form = PasswordForm()
    error = None
    if form.validate_on_submit():
        if form.new_password.data != form.confirm_password.data:
            error = _("The new password and its confirmation differ.")
        else:
            try:
                version = change_password(
                    mill(), current_actor().user_id or -1,
                    current_password=form.current_password.data or "",
                    new_password=form.new_password.data or "")
            except InvalidInput as refused:
                error = refused.message
            else:
                stamp_session(version)
                flash(_("Password changed. Your other sessions were logged out."), "success")
                return redirect(url_for("admin.account"), 303)
    elif request.method == "POST":
        error = form_errors(form)
    return render_template("admin/account.html", form=form, error=error), (
        422 if error else 200)


@admin_bp.post("/settings/staff/<int(max=2147483647):user_id>/end-sessions")
def end_staff_sessions(user_id: int) -> Any:
    """End every browser session of a staff user (manage_staff, checked by the core), e.g.
    after a lost laptop. Their API tokens are separate and stay."""
    me = current_actor()
    email = end_sessions(mill(), user_id, actor=me)
    if user_id == me.user_id:
        session.clear()
        flash(_("All your sessions were ended; log in again."), "info")
        return redirect(url_for("admin.login"), 303)
    flash(_("All sessions of %(email)s were ended.", email=email), "success")
    return redirect(url_for("admin.staff"), 303)
