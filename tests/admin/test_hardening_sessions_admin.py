"""Issue 10 item 5 in the admin: logout, "change my password" and an admin's "end all
sessions" end sessions on the server, so a copy of the cookie is refused by the admin and by
the JSON API alike. On SQLite and PostgreSQL (the `mill` fixture), through HTTP.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adminkit import PASSWORD, Admin, add_user, flashes
from sqlalchemy import select

from ordermill.core.app import Ordermill
from ordermill.core.models import User

NEW_PASSWORD = "a much longer passphrase"


def logged_in(app: Any, email: str, password: str = PASSWORD) -> Admin:
    admin = Admin(app.test_client())
    response = admin.login(email, password)
    assert response.status_code == 302, response.get_data(as_text=True)
    return admin


def copy_of(app: Any, admin: Admin) -> Admin:
    """Another browser holding a copy of this one's session cookie."""
    cookie = admin.client.get_cookie("session")
    assert cookie is not None
    other = Admin(app.test_client())
    other.client.set_cookie("session", cookie.value)
    return other


def alive(admin: Admin) -> bool:
    """Whether the session still opens the admin and the API (both or neither)."""
    page = admin.client.get("/admin/orders").status_code
    api = admin.client.get("/api/v1/auth/me").status_code
    assert (page, api) in ((200, 200), (302, 401)), (page, api)
    return page == 200


def user_id(mill: Ordermill, email: str) -> int:
    with mill.read_session() as session:
        found = session.scalar(select(User.id).where(User.email == email))
    assert found is not None
    return found


def test_admin_logout_ends_every_copy_of_the_cookie(app: Any, mill: Ordermill) -> None:
    email = add_user(mill, "manager")
    browser = logged_in(app, email)
    stolen = copy_of(app, browser)
    assert alive(stolen)
    done = browser.post("/admin/logout")
    assert done.status_code == 302 and done.location == "/admin/login"
    assert not alive(stolen)
    assert not alive(browser)
    assert alive(logged_in(app, email))


def test_changing_my_password_ends_my_other_sessions_and_keeps_this_one(
        app: Any, mill: Ordermill) -> None:
    email = add_user(mill, "support")
    mine = logged_in(app, email)
    laptop = logged_in(app, email)
    copied = copy_of(app, mine)
    assert alive(laptop) and alive(copied)

    page = mine.get("/admin/account")
    assert page.status_code == 200
    assert 'data-testid="password-form"' in page.get_data(as_text=True)
    done = mine.post("/admin/account", {"current_password": PASSWORD,
                                        "new_password": NEW_PASSWORD,
                                        "confirm_password": NEW_PASSWORD})
    assert done.status_code == 303 and done.location == "/admin/account"
    assert "Password changed. Your other sessions were logged out." in flashes(
        mine.get("/admin/account").get_data(as_text=True))

    assert alive(mine)
    assert not alive(laptop)
    assert not alive(copied)  # even a copy of this very browser's cookie from before
    assert logged_in(app, email, NEW_PASSWORD)
    assert Admin(app.test_client()).login(email, PASSWORD).status_code == 401


def test_a_refused_password_change_changes_nothing(app: Any, mill: Ordermill) -> None:
    email = add_user(mill, "viewer")
    mine = logged_in(app, email)
    other = logged_in(app, email)
    for form, message in (
            ({"current_password": "not my password", "new_password": NEW_PASSWORD,
              "confirm_password": NEW_PASSWORD}, "The current password is wrong."),
            ({"current_password": PASSWORD, "new_password": NEW_PASSWORD,
              "confirm_password": NEW_PASSWORD + "x"}, "confirmation differ"),
            ({"current_password": PASSWORD, "new_password": "short",
              "confirm_password": "short"}, "at least 8 characters")):
        refused = mine.post("/admin/account", form)
        assert refused.status_code == 422
        assert message in refused.get_data(as_text=True)
        assert NEW_PASSWORD not in refused.get_data(as_text=True)
    assert alive(mine) and alive(other)
    assert logged_in(app, email, PASSWORD)


def test_every_page_links_to_my_account(admin: Admin) -> None:
    html = admin.get("/admin/orders").get_data(as_text=True)
    assert 'href="/admin/account"' in html


def test_end_all_sessions_refuses_every_session_of_that_user(
        app: Any, mill: Ordermill) -> None:
    boss = logged_in(app, add_user(mill, "admin"))
    email = add_user(mill, "manager")
    phone, desk = logged_in(app, email), logged_in(app, email)
    copied = copy_of(app, desk)
    target = user_id(mill, email)

    staff_page = boss.get("/admin/settings/staff").get_data(as_text=True)
    assert f'data-testid="end-sessions-{target}"' in staff_page
    done = boss.post(f"/admin/settings/staff/{target}/end-sessions")
    assert done.status_code == 303 and done.location == "/admin/settings/staff"
    assert f"All sessions of {email} were ended." in flashes(
        boss.get("/admin/settings/staff").get_data(as_text=True))

    assert not alive(phone) and not alive(desk) and not alive(copied)
    assert alive(boss)
    assert alive(logged_in(app, email))  # the password still works: only sessions ended


def test_end_all_sessions_needs_manage_staff(app: Any, mill: Ordermill) -> None:
    manager = logged_in(app, add_user(mill, "manager"))
    email = add_user(mill, "support")
    victim = logged_in(app, email)
    refused = manager.post(f"/admin/settings/staff/{user_id(mill, email)}/end-sessions")
    assert refused.status_code == 403
    assert alive(victim) and alive(manager)
    missing = logged_in(app, add_user(mill, "admin")).post(
        "/admin/settings/staff/999999/end-sessions")
    assert missing.status_code == 404


def test_ending_my_own_sessions_logs_me_out(app: Any, mill: Ordermill) -> None:
    email = add_user(mill, "admin")
    me, elsewhere = logged_in(app, email), logged_in(app, email)
    done = me.post(f"/admin/settings/staff/{user_id(mill, email)}/end-sessions")
    assert done.status_code == 303 and done.location == "/admin/login"
    assert not alive(me) and not alive(elsewhere)


def test_end_all_sessions_is_a_csrf_checked_post(app: Any, mill: Ordermill,
                                                 staff_login: Callable[[str], Admin]) -> None:
    boss = staff_login("admin")
    email = add_user(mill, "viewer")
    victim = logged_in(app, email)
    path = f"/admin/settings/staff/{user_id(mill, email)}/end-sessions"
    assert boss.client.get(path).status_code == 405
    assert boss.post(path, csrf=False).status_code == 400
    assert alive(victim)


def test_reactivating_a_user_does_not_bring_old_sessions_back(
        app: Any, mill: Ordermill) -> None:
    boss = logged_in(app, add_user(mill, "admin"))
    email = add_user(mill, "support")
    lost_laptop = logged_in(app, email)
    target = user_id(mill, email)
    for active in ("0", "1"):
        done = boss.post("/admin/settings/staff", {"action": "active", "user_id": target,
                                                   "active": active})
        assert done.status_code == 303
    assert not alive(lost_laptop)
    assert alive(logged_in(app, email))
