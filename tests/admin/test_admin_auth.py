"""Logging in and out, CSRF on every admin form, and the JSON API left as it was."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adminkit import PASSWORD, Admin, add_user, flashes
from sqlalchemy import update

from ordermill.core.app import Ordermill
from ordermill.core.models import User
from ordermill.core.staff import create_token


def test_root_and_admin_send_anonymous_users_to_the_login_form(app: Any) -> None:
    client = app.test_client()
    assert client.get("/").location == "/admin/"
    assert client.get("/admin/").location == "/admin/login?next=/admin/"
    response = client.get("/admin/orders?status=pending")
    assert response.status_code == 302
    assert response.location == "/admin/login?next=/admin/orders?status%3Dpending" or \
        response.location.startswith("/admin/login?next=")
    page = client.get("/admin/login")
    assert page.status_code == 200
    assert 'name="csrf_token"' in page.get_data(as_text=True)


def test_login_takes_staff_to_where_they_were_going(app: Any, mill: Ordermill) -> None:
    email = add_user(mill, "support")
    admin = Admin(app.test_client())
    admin.get("/admin/login?next=/admin/payments")
    response = admin.post("/admin/login?next=/admin/payments",
                          {"email": email.upper(), "password": PASSWORD})
    assert response.status_code == 302
    assert response.location == "/admin/payments"
    page = admin.get("/admin/payments")
    assert page.status_code == 200
    assert "Support Person" in page.get_data(as_text=True)


def test_login_never_redirects_to_another_site(app: Any, mill: Ordermill) -> None:
    email = add_user(mill, "viewer")
    for target in ("https://evil.example/", "//evil.example/admin", "/api/v1/orders"):
        admin = Admin(app.test_client())
        admin.get("/admin/login")
        response = admin.post(f"/admin/login?next={target}",
                              {"email": email, "password": PASSWORD})
        assert response.location == "/admin/orders", target


def test_wrong_password_and_unknown_user_read_the_same(app: Any, mill: Ordermill) -> None:
    email = add_user(mill, "admin")
    admin = Admin(app.test_client())
    wrong = admin.login(email, "not the password")
    unknown = admin.login("nobody@shop.test", PASSWORD)
    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong e-mail or password." in wrong.get_data(as_text=True)
    assert "Wrong e-mail or password." in unknown.get_data(as_text=True)
    assert admin.get("/admin/orders").status_code == 302


def test_a_deactivated_user_is_logged_out_at_the_next_request(
        app: Any, mill: Ordermill, staff_login: Callable[[str], Admin]) -> None:
    manager = staff_login("manager")
    assert manager.get("/admin/orders").status_code == 200
    with mill.write_session() as session, session.begin():
        session.execute(update(User).where(User.email == "manager@shop.test")
                        .values(active=False))
    assert manager.get("/admin/orders").status_code == 302
    again = manager.login("manager@shop.test")
    assert again.status_code == 401


def test_logout_is_a_post_with_the_csrf_token(admin: Admin) -> None:
    assert admin.client.get("/admin/logout").status_code == 405
    refused = admin.post("/admin/logout", csrf=False)
    assert refused.status_code == 400
    assert admin.get("/admin/orders").status_code == 200
    done = admin.post("/admin/logout")
    assert done.status_code == 302 and done.location == "/admin/login"
    page = admin.get("/admin/login")
    assert "You are logged out." in flashes(page.get_data(as_text=True))
    assert admin.get("/admin/orders").status_code == 302


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(
        admin: Admin, shop: None, order_factory: Callable[..., Any],
        unchanged: Callable[[], Callable[[], None]]) -> None:
    number = order_factory([("TSHIRT", 1)]).number
    check = unchanged()
    for path, data in ((f"/admin/orders/{number}/accept", {}),
                       (f"/admin/orders/{number}/comment", {"text": "hi"}),
                       ("/admin/orders/bulk", {"numbers": number, "action": "status",
                                               "status": "cancelled"}),
                       (f"/admin/orders/{number}/cancel/preview", {"line_ids": "1"})):
        missing = admin.post(path, data, csrf=False)
        assert missing.status_code == 400, path
        assert "security token" in missing.get_data(as_text=True)
        forged = admin.post(path, {**data, "csrf_token": "forged-token"})
        assert forged.status_code == 400, path
    check()


def test_login_form_itself_needs_the_csrf_token(app: Any, mill: Ordermill) -> None:
    email = add_user(mill, "admin")
    client = app.test_client()
    response = client.post("/admin/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/admin/orders").status_code == 302


def test_the_json_api_needs_no_csrf_token(app: Any, mill: Ordermill, shop: None) -> None:
    """CSRF is the admin's: bearer-token API calls work exactly as before."""
    email = add_user(mill, "admin")
    token = create_token(mill, email=email, name="script")
    client = app.test_client()
    response = client.post("/api/v1/orders", headers={"Authorization": f"Bearer {token}"},
                           json={"customer": {"email": "bea@example.com", "name": "Bea"},
                                 "lines": [{"sku": "MUG", "quantity": 1}],
                                 "payment_method": "banktransfer"})
    assert response.status_code == 201, response.get_data(as_text=True)
    number = response.get_json()["order"]["number"]
    accepted = client.post(f"/api/v1/orders/{number}/accept",
                           headers={"Authorization": f"Bearer {token}"}, json={})
    assert accepted.status_code == 200


def test_admin_login_also_opens_the_api_session(admin: Admin) -> None:
    """The logged-in browser may call the API with the session (web/auth.py)."""
    me = admin.client.get("/api/v1/orders")
    assert me.status_code == 200


def test_admin_routes_stay_out_of_the_openapi_document(app: Any) -> None:
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    assert not [path for path in spec["paths"] if path.startswith("/admin") or path == "/"]
