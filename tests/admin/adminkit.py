"""Helpers of the admin tests: staff users, a test client that posts like a browser form
(with the page's CSRF token), a snapshot of everything stored, and flash messages.

Imported by name (`from adminkit import ...`), like tests/plugins/payments/payfakes.py.
"""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient

from ordermill import testing_web
from ordermill.core.app import Ordermill
from ordermill.core.models import User, utcnow

PASSWORD = testing_web.PASSWORD
CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|'
                        r'name="csrf-token" content="([^"]+)"')


password_hash = testing_web.password_hash  # one scrypt hash for every test user


def add_user(mill: Ordermill, role: str, email: str | None = None, *,
             active: bool = True) -> str:
    email = email or f"{role}@shop.test"
    with mill.write_session() as session, session.begin():
        session.add(User(email=email, name=role.title() + " Person", role=role,
                         password_hash=password_hash(), active=active, created_at=utcnow()))
    return email


class Admin:
    """A test client logged in (or not) as one staff member; posts carry the CSRF token of
    the last page it read, as a browser form does."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.token: str | None = None

    def remember_token(self, html: str) -> None:
        match = CSRF_INPUT.search(html)
        if match:
            self.token = match.group(1) or match.group(2)

    def get(self, path: str, **kwargs: Any) -> Any:
        response = self.client.get(path, **kwargs)
        if response.mimetype == "text/html":
            self.remember_token(response.get_data(as_text=True))
        return response

    def post(self, path: str, data: dict[str, Any] | None = None, *, csrf: bool = True,
             **kwargs: Any) -> Any:
        payload = dict(data or {})
        if csrf:
            if self.token is None:
                self.get("/admin/login")
            payload.setdefault("csrf_token", self.token)
        response = self.client.post(path, data=payload, **kwargs)
        if response.mimetype == "text/html":
            self.remember_token(response.get_data(as_text=True))
        return response

    def login(self, email: str, password: str = PASSWORD) -> Any:
        self.get("/admin/login")
        response = self.post("/admin/login", {"email": email, "password": password})
        if response.status_code == 302:
            self.get("/admin/orders")  # the new session's CSRF token
        return response


snapshot = testing_web.snapshot  # what the `unchanged` fixture compares


def flashes(html: str) -> list[str]:
    """The flash messages of a page, as text."""
    return [re.sub(r"\s+", " ", text).strip() for text in
            re.findall(r'<div class="flash flash-[a-z]+">(.*?)</div>', html, re.S)]
