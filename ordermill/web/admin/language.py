"""The admin's language switch: the header's menu and My account post here.

The choice is stored on the staff user (core.staff.set_language), so it follows them to any
browser; "browser" (an empty value) goes back to the browser's Accept-Language. CSRF and login
are checked by the admin blueprint's guard like every admin POST.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for

from ordermill.core.errors import InvalidInput
from ordermill.core.staff import set_language
from ordermill.web.admin import admin_bp
from ordermill.web.admin.common import actor, mill, safe_next
from ordermill.web.i18n import available_languages


@admin_bp.post("/language")
def choose_language() -> Any:
    """Store the staff member's admin language and go back to the page they were on."""
    back = safe_next(request.form.get("next"), url_for("admin.orders"))
    try:
        set_language(mill(), actor().user_id or -1, request.form.get("language"),
                     allowed=available_languages())
    except InvalidInput as refused:
        flash(refused.message, "error")
    return redirect(back, 303)


__all__ = ["choose_language"]
