"""Issue 10 item 11: redirect targets the admin takes from the request (the login form's
`next`, the bulk form's `back`) are followed only when they are a same-site path under
/admin. CR/LF used to reach the Location header and answer 500; now such a target, like
"//evil", a backslash or a climb out of /admin, is dropped for the default page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
from adminkit import PASSWORD, Admin, add_user

from ordermill.core.app import Ordermill

REFUSED = (
    "/admin/\r\nSet-Cookie: session=evil",
    "/admin/orders\r\nLocation: https://evil.example/",
    "/admin/\nx",
    "/admin/\rx",
    "/\t/evil.example/admin/",
    "/admin\t/x",
    "/admin/\x00",
    "/admin/\x7f",
    "//evil.example/admin/",
    "///evil.example/admin",
    "/\\evil.example/admin",
    "\\\\evil.example/admin",
    "/admin\\..\\api",
    "/admin/../api/v1/orders",
    "/admin/%2e%2e/api/v1/orders",
    "/admin/./../x",
    "https://evil.example/admin/",
    "javascript:alert(1)//admin/",
    "admin/orders",
    "/api/v1/orders",
    "/administrator-not-ours",
)


def test_login_drops_an_unsafe_next(app: Any, mill: Ordermill) -> None:
    email = add_user(mill, "viewer")
    for target in REFUSED:
        admin = Admin(app.test_client())
        form = admin.get(f"/admin/login?next={quote(target, safe='')}")
        assert form.status_code == 200, repr(target)
        response = admin.post(f"/admin/login?next={quote(target, safe='')}",
                              {"email": email, "password": PASSWORD})
        assert response.status_code == 302, (target, response.get_data(as_text=True))
        assert response.location == "/admin/orders", repr(target)
        assert "evil" not in response.headers.get("Set-Cookie", ""), repr(target)


@pytest.mark.parametrize("target", ["/admin/payments", "/admin/orders?tab=pending&page=2",
                                    "/admin", "/admin/orders?q=%0d%0a"])
def test_login_still_follows_a_safe_next(app: Any, mill: Ordermill, target: str) -> None:
    email = add_user(mill, "viewer")
    admin = Admin(app.test_client())
    admin.get("/admin/login")
    response = admin.post(f"/admin/login?next={quote(target, safe='')}",
                          {"email": email, "password": PASSWORD})
    assert response.status_code == 302
    assert response.location == target


def test_an_anonymous_visit_with_crlf_in_the_query_comes_back_after_login(
        app: Any, mill: Ordermill) -> None:
    email = add_user(mill, "viewer")
    admin = Admin(app.test_client())
    sent = admin.get("/admin/orders?q=%0d%0aSet-Cookie:%20x=1")
    assert sent.status_code == 302
    assert sent.location.startswith("/admin/login?next=")
    admin.get(sent.location)
    response = admin.post(sent.location, {"email": email, "password": PASSWORD})
    assert response.status_code == 302
    assert response.location.startswith("/admin/orders?q=")
    assert "\r" not in response.location and "\n" not in response.location


def test_bulk_form_drops_an_unsafe_back(staff_login: Callable[[str], Admin]) -> None:
    admin = staff_login("admin")
    for target in REFUSED:
        response = admin.post("/admin/orders/bulk", {"back": target, "action": "status"})
        assert response.status_code == 303, (target, response.get_data(as_text=True))
        assert response.location == "/admin/orders", repr(target)


def test_bulk_form_still_goes_back_to_a_safe_page(
        staff_login: Callable[[str], Admin]) -> None:
    admin = staff_login("admin")
    response = admin.post("/admin/orders/bulk", {"back": "/admin/orders?tab=pending",
                                                 "action": "status"})
    assert response.status_code == 303
    assert response.location == "/admin/orders?tab=pending"
