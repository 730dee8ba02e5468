"""Helpers of the admin tests: staff users, a test client that posts like a browser form
(with the page's CSRF token), a snapshot of everything stored, and flash messages.

Imported by name (`from adminkit import ...`), like tests/plugins/hookkit.py.
"""

from __future__ import annotations

import re

from ordermill import testing_web
from ordermill.core.app import Ordermill
from ordermill.core.models import User, utcnow
from ordermill.testing_kit import AdminClient

PASSWORD = testing_web.PASSWORD


password_hash = testing_web.password_hash  # one scrypt hash for every test user


def add_user(mill: Ordermill, role: str, email: str | None = None, *,
             active: bool = True) -> str:
    email = email or f"{role}@shop.test"
    with mill.write_session() as session, session.begin():
        session.add(User(email=email, name=role.title() + " Person", role=role,
                         password_hash=password_hash(), active=active, created_at=utcnow()))
    return email


Admin = AdminClient  # the kit's client: logged in, posts carry the CSRF token


snapshot = testing_web.snapshot  # what the `unchanged` fixture compares


def flashes(html: str) -> list[str]:
    """The flash messages of a page, as text."""
    return [re.sub(r"\s+", " ", text).strip() for text in
            re.findall(r'<div class="flash flash-[a-z]+">(.*?)</div>', html, re.S)]
