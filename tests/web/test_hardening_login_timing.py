"""Issue 10 item 7: a login attempt costs the same work whether the e-mail is a staff user's
or not, so the answer's timing cannot tell staff e-mails from unknown ones.

Proved by behaviour rather than a stopwatch: every attempt (unknown e-mail, inactive user,
user without a password, wrong password, right password) verifies exactly one password hash
made with the same scrypt parameters. The real check_password_hash runs; it is only counted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import update
from werkzeug.security import check_password_hash

from ordermill.core import staff
from ordermill.core.app import Ordermill
from ordermill.core.models import User

Checks = list[str]


@pytest.fixture
def add_staff_user(mill: Ordermill, monkeypatch: pytest.MonkeyPatch) -> Callable[..., str]:
    """Staff users hashed at the production cost, and the dummy hash made at that cost too
    (other tests' users, and so their dummy hash, use a cheaper one)."""
    from ordermill.testing_web import add_user

    monkeypatch.setattr(staff, "HASH_METHOD", staff.PASSWORD_METHOD)

    def add(role: str, email: str | None = None) -> str:
        return add_user(mill, role, email, method=staff.PASSWORD_METHOD)

    return add


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> Checks:
    """The parameters ("scrypt:32768:8:1") of every hash the login verifies, in order."""
    seen: Checks = []

    def counting(pwhash: str, password: str) -> bool:
        seen.append(pwhash.split("$", 1)[0])
        return check_password_hash(pwhash, password)

    monkeypatch.setattr(staff, "check_password_hash", counting)
    return seen


def login(client: Any, email: str, password: str) -> int:
    response = client.post("/api/v1/auth/login", json={
        "email": email, "password": password, "token_name": "timing"})
    return int(response.status_code)


@pytest.mark.slow  # production-cost password hashes
def test_every_login_attempt_verifies_one_hash_of_the_same_kind(
        app: Any, mill: Ordermill, add_staff_user: Callable[..., str], staff_password: str,
        checks: Checks) -> None:
    email = add_staff_user("manager")
    inactive = add_staff_user("support", "gone@shop.test")
    no_password = add_staff_user("viewer", "sso@shop.test")
    with mill.write_session() as session, session.begin():
        session.execute(update(User).where(User.email == inactive).values(active=False))
        session.execute(update(User).where(User.email == no_password)
                        .values(password_hash=None))
    client = app.test_client()

    attempts = {
        "unknown": login(client, "nobody@shop.test", staff_password),
        "inactive": login(client, inactive, staff_password),
        "no password": login(client, no_password, staff_password),
        "wrong password": login(client, email, "not the password"),
        "right password": login(client, email, staff_password),
    }
    assert attempts == {"unknown": 401, "inactive": 401, "no password": 401,
                        "wrong password": 401, "right password": 200}
    assert len(checks) == len(attempts)  # one verification per attempt, whoever it names
    assert len(set(checks)) == 1, checks  # and always the same scrypt cost parameters
    assert checks[0].startswith("scrypt:")


def test_the_admin_login_form_does_the_same_work(
        app: Any, add_staff_user: Callable[..., str], staff_password: str,
        checks: Checks) -> None:
    import re

    email = add_staff_user("admin")
    client = app.test_client()
    for who in ("nobody@shop.test", email):
        page = client.get("/admin/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        assert token is not None
        response = client.post("/admin/login", data={
            "email": who, "password": "not the password", "csrf_token": token.group(1)})
        assert response.status_code == 401
    assert len(checks) == 2 and checks[0] == checks[1]


def test_the_dummy_hash_is_made_like_real_ones_and_never_matches(
        staff_password: str) -> None:
    """Same method and cost as a stored password's hash; the password behind it is random
    and thrown away, so even the right guess for some other user cannot pass."""
    real = staff.generate_password_hash(staff_password, method=staff.PASSWORD_METHOD)
    dummy = staff.dummy_password_hash()
    assert dummy.split("$", 1)[0] == real.split("$", 1)[0]
    assert dummy == staff.dummy_password_hash()  # made once per process, then reused
    assert not check_password_hash(dummy, staff_password)
    assert not check_password_hash(dummy, "")


def test_the_dummy_hash_is_made_on_the_first_login_of_either_kind(
        mill: Ordermill, add_staff_user: Callable[..., str], staff_password: str) -> None:
    """Making the dummy hash costs a hashing too: a process pays it on its first login,
    whichever e-mail that names, so the first miss is not the slow one."""
    email = add_staff_user("viewer")
    staff.dummy_password_hash.cache_clear()
    staff.authenticate(mill, email, staff_password)
    assert staff.dummy_password_hash.cache_info().currsize == 1
