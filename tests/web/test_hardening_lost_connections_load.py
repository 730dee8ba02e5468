"""Placement under load while PostgreSQL drops the server's connections (issue 10, item 23).

A real `ordermill serve` runs on its own PostgreSQL schema with its own application_name; 4
client threads place orders (each with an Idempotency-Key and a buyer e-mail of its own)
while another thread runs pg_terminate_backend on that server's backends 5 times. Then:
no answer is a 500; every answer that says nothing was changed has no order; every 2xx has
its order; and the orders stored are exactly the successes plus those answered "outcome
unknown" that turn out to exist, which resending with the same Idempotency-Key confirms
without placing anything twice.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
import requests
from sqlalchemy import select
from sqlalchemy.pool import NullPool

from ordermill.core.app import Ordermill
from ordermill.core.db import make_engine
from ordermill.core.models import Order, Product
from ordermill.core.settings import Settings
from ordermill.core.staff import create_token, create_user
from ordermill.testing import PostgresSchema, own_postgres_schema, postgres_base_url

pytestmark = pytest.mark.slow
CLIENTS = 4
LOAD_SECONDS = 10.0
KILLS = 5


@attrs.define
class Attempt:
    key: str
    email: str
    body: dict[str, Any]
    status: int = 0
    answer: dict[str, Any] = attrs.field(factory=dict)


@pytest.fixture
def pg_schema() -> Iterator[PostgresSchema]:
    with own_postgres_schema() as schema:
        yield schema


def terminate_backends(application_name: str) -> int:
    admin = make_engine(postgres_base_url(), poolclass=NullPool)
    try:
        with admin.connect() as connection:
            killed = connection.exec_driver_sql(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = %s", (application_name,)).scalar()
            connection.commit()
    finally:
        admin.dispose()
    return int(killed or 0)


def says_nothing_changed(attempt: Attempt) -> bool:
    return "nothing was changed" in str(attempt.answer.get("error", {}).get("message", ""))


def test_placing_while_connections_are_killed_never_lies_and_never_places_twice(
    pg_schema: PostgresSchema, tmp_path: Path,
    cli_environment: Callable[[Path], dict[str, str]], ordermill_serving: Callable[..., Any],
) -> None:
    application_name = f"om_kill_{uuid.uuid4().hex[:10]}"
    settings = Settings.from_env(env={}, database_url=pg_schema.url, instance_path=tmp_path)
    mill = Ordermill(settings)
    create_user(mill, email="load@shop.test", name="Load", role="admin",
                password="correct horse battery")
    token = create_token(mill, email="load@shop.test", name="load test")
    with mill.write_session() as session, session.begin():
        session.add(Product(sku="MUG", name="Mug", price=1250, currency="EUR", stock=None,
                            kind="physical", category="general"))
    env = cli_environment(tmp_path)
    env["ORDERMILL_DATABASE_URL"] = f"{pg_schema.url}&application_name={application_name}"

    attempts: list[Attempt] = []
    lock = threading.Lock()
    killed: list[int] = []

    with ordermill_serving(env) as server:
        url = f"{server.url}/api/v1/orders"
        headers = {"Authorization": f"Bearer {token}"}
        stop_at = time.monotonic() + LOAD_SECONDS

        def client(index: int) -> None:
            count = 0
            with requests.Session() as http:
                while time.monotonic() < stop_at:
                    count += 1
                    email = f"c{index}-{count}@example.com"
                    attempt = Attempt(key=uuid.uuid4().hex, email=email, body={
                        "customer": {"email": email, "name": f"Client {index}"},
                        "lines": [{"sku": "MUG", "quantity": 1}],
                        "payment_method": "banktransfer"})
                    answer = http.post(url, json=attempt.body, timeout=60,
                                       headers={**headers, "Idempotency-Key": attempt.key})
                    attempt.status = answer.status_code
                    attempt.answer = answer.json()
                    with lock:
                        attempts.append(attempt)

        def killer() -> None:
            for _ in range(KILLS):
                time.sleep(LOAD_SECONDS / (KILLS + 1))
                killed.append(terminate_backends(application_name))

        threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
        threads.append(threading.Thread(target=killer))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=LOAD_SECONDS + 120)

        # resend every answer that was neither a success nor a truthful "nothing changed"
        unknown = [a for a in attempts if a.status >= 300 and not says_nothing_changed(a)]
        with mill.read_session() as session:
            existed = {email for (email,) in session.execute(
                select(Order.buyer_email).where(
                    Order.buyer_email.in_([a.email for a in unknown] or [""])))}
        for attempt in unknown:
            again = requests.post(url, json=attempt.body, timeout=60,
                                  headers={**headers, "Idempotency-Key": attempt.key})
            assert again.status_code in (200, 201), again.text

    output = server.output()
    assert sum(killed) >= KILLS, f"the server's connections were not killed: {killed}"
    assert len(attempts) > 20, output[-3000:]
    statuses = sorted({a.status for a in attempts})
    assert 500 not in statuses, [a.answer for a in attempts if a.status == 500][:3]
    assert set(statuses) <= {201, 503}, statuses

    with mill.read_session() as session:
        stored = {email: number for email, number in session.execute(
            select(Order.buyer_email, Order.number))}
        placed_per_email = list(session.scalars(select(Order.buyer_email)))
    assert len(placed_per_email) == len(set(placed_per_email))  # nobody bought twice

    successes = [a for a in attempts if a.status == 201]
    for attempt in successes:
        assert stored.get(attempt.email) == attempt.answer["order"]["number"]
    for attempt in attempts:
        if says_nothing_changed(attempt):
            assert attempt.email not in existed, attempt.answer
    # the stored orders: the successes, plus unknown outcomes that had in fact been placed,
    # plus those the resend placed now (each unknown one exactly once)
    assert set(stored) == {a.email for a in successes} | {a.email for a in unknown}
    assert len(stored) == len(successes) + len(unknown)
    print(f"{len(attempts)} requests, {len(successes)} placed, "
          f"{sum(says_nothing_changed(a) for a in attempts)} nothing-changed, "
          f"{len(unknown)} unknown ({len(existed)} had been placed), kills {killed}")
    mill.dispose()
