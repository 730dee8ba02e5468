"""SQLite write-locked by another process past the busy timeout, through HTTP (issue 10,
item 24).

A second process holds the write lock (sqlite3 `BEGIN IMMEDIATE`) for longer than the app's
busy timeout (ORDERMILL_DB_BUSY_TIMEOUT, short here so the test is quick). Reads with an API
token or an admin session still answer 200 (they never take the write lock: the token's
last-used time is written at most once a minute and never waits); a write answers 503 with
Retry-After and changes nothing; once the lock is gone both work again.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import event, func, select
from werkzeug.serving import make_server

from ordermill.core.app import Ordermill
from ordermill.core.models import ApiToken, Order, OrderEvent, Product, utcnow
from ordermill.core.settings import Settings
from ordermill.core.staff import create_token, create_user
from ordermill.core.token_use import TOUCH_EVERY
from ordermill.web import create_app

pytestmark = pytest.mark.slow  # another process holds the write lock

BUSY_TIMEOUT = 0.5
PASSWORD = "correct horse battery"
CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
HOLDER = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.read()  # hold the write lock until the test closes our stdin
connection.execute("ROLLBACK")
"""


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A real HTTP server (threaded werkzeug) on a SQLite file with a 0.5 s busy timeout."""
    database = tmp_path / "locked.sqlite"
    settings = Settings.from_env(
        env={"ORDERMILL_DB_BUSY_TIMEOUT": str(BUSY_TIMEOUT)},
        database_url=f"sqlite:///{database}", instance_path=tmp_path)
    mill = Ordermill(settings)
    mill.create_schema()
    create_user(mill, email="admin@shop.test", name="Admin", role="admin", password=PASSWORD)
    token = create_token(mill, email="admin@shop.test", name="script")
    with mill.write_session() as session, session.begin():
        session.add(Product(sku="MUG", name="Mug", price=1250, currency="EUR", stock=5,
                            kind="physical", category="general"))
    app = create_app(mill, {"TESTING": True, "ORDERMILL_CHECKOUT_RATE_LIMIT": "1000 per minute",
                            "ORDERMILL_TOKEN_RATE_LIMIT": "1000 per minute",
                            "ORDERMILL_LOGIN_RATE_LIMIT": "1000 per minute"})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"url": f"http://127.0.0.1:{server.server_port}", "mill": mill, "token": token,
           "database": database}
    server.shutdown()
    thread.join(timeout=10)
    mill.dispose()


@contextmanager
def write_locked(database: Path) -> Iterator[None]:
    """Another process holds SQLite's write lock until the block ends."""
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(database)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        yield
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=10)


def counts(mill: Ordermill) -> tuple[int, int, int, int | None]:
    with mill.read_session() as session:
        return (session.scalar(select(func.count()).select_from(Order)) or 0,
                session.scalar(select(func.count()).select_from(OrderEvent)) or 0,
                session.scalar(select(func.count()).select_from(ApiToken)) or 0,
                session.scalar(select(Product.stock).where(Product.sku == "MUG")))


def last_used(mill: Ordermill) -> Any:
    with mill.read_session() as session:
        return session.scalar(select(ApiToken.last_used_at).where(ApiToken.name == "script"))


def place_body(email: str) -> dict[str, Any]:
    return {"customer": {"email": email, "name": "Lee Locked"},
            "lines": [{"sku": "MUG", "quantity": 1}], "payment_method": "banktransfer"}


def check_503(answer: requests.Response, code: str) -> dict[str, Any]:
    assert answer.status_code == 503, answer.text
    assert answer.headers["Content-Type"].startswith("application/json")
    assert answer.headers["Retry-After"].isdigit()
    body = answer.json()
    assert set(body) == {"error"} and body["error"]["code"] == code
    assert "nothing was changed" in body["error"]["message"]
    return dict(body["error"])


def test_reads_answer_200_and_writes_503_while_another_process_holds_the_write_lock(
    shop: dict[str, Any],
) -> None:
    url, mill = shop["url"], shop["mill"]
    bearer = {"Authorization": f"Bearer {shop['token']}"}
    assert last_used(mill) is None  # never used: the first request will want to record it
    before = counts(mill)

    with write_locked(shop["database"]):
        started = time.monotonic()
        products = requests.get(f"{url}/api/v1/products", headers=bearer, timeout=30)
        assert products.status_code == 200, products.text
        assert time.monotonic() - started < 5 * BUSY_TIMEOUT + 2  # not queued behind the lock
        assert [p["sku"] for p in products.json()["products"]] == ["MUG"]
        assert requests.get(f"{url}/api/v1/orders", headers=bearer, timeout=30) \
            .status_code == 200
        assert requests.get(f"{url}/api/v1/auth/me", headers=bearer, timeout=30) \
            .status_code == 200

        placed = requests.post(f"{url}/api/v1/orders", headers=bearer, timeout=30,
                               json=place_body("locked@example.com"))
        check_503(placed, "database_busy")
        minted = requests.post(f"{url}/api/v1/auth/tokens", headers=bearer, timeout=30,
                               json={"name": "while locked"})
        check_503(minted, "database_busy")
        assert counts(mill) == before  # nothing changed, not even half an order

    assert last_used(mill) is None  # the lock won: the use was not recorded, nor waited for
    after = requests.get(f"{url}/api/v1/products", headers=bearer, timeout=30)
    assert after.status_code == 200
    assert last_used(mill) is not None  # recorded once the lock is gone
    placed = requests.post(f"{url}/api/v1/orders", headers=bearer, timeout=30,
                           json=place_body("unlocked@example.com"))
    assert placed.status_code == 201, placed.text


def test_an_admin_page_reads_while_another_process_holds_the_write_lock(
    shop: dict[str, Any],
) -> None:
    browser = requests.Session()
    login = browser.get(f"{shop['url']}/admin/login", timeout=30)
    csrf = CSRF_INPUT.search(login.text)
    assert csrf is not None
    answer = browser.post(f"{shop['url']}/admin/login", timeout=30, allow_redirects=False,
                          data={"email": "admin@shop.test", "password": PASSWORD,
                                "csrf_token": csrf.group(1)})
    assert answer.status_code == 302

    with write_locked(shop["database"]):
        page = browser.get(f"{shop['url']}/admin/orders", timeout=30)
        assert page.status_code == 200


def test_the_last_used_time_is_written_at_most_once_a_minute(
    shop: dict[str, Any],
) -> None:
    url, mill = shop["url"], shop["mill"]
    bearer = {"Authorization": f"Bearer {shop['token']}"}
    writes: list[str] = []

    def on_execute(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE",
                                                   "BEGIN IMMEDIATE")):
            writes.append(statement)

    assert requests.get(f"{url}/api/v1/products", headers=bearer, timeout=30).status_code == 200
    first = last_used(mill)
    assert first is not None
    event.listen(mill.engine, "before_cursor_execute", on_execute)
    try:
        for _ in range(3):
            assert requests.get(f"{url}/api/v1/products", headers=bearer,
                                timeout=30).status_code == 200
    finally:
        event.remove(mill.engine, "before_cursor_execute", on_execute)
    assert last_used(mill) == first
    assert writes == []  # three reads, not one write statement
    # a minute later the next use is recorded again
    with mill.write_session() as session, session.begin():
        token = session.scalar(select(ApiToken).where(ApiToken.name == "script"))
        assert token is not None
        token.last_used_at = utcnow() - TOUCH_EVERY - TOUCH_EVERY
    assert requests.get(f"{url}/api/v1/products", headers=bearer, timeout=30).status_code == 200
    assert last_used(mill) > first
