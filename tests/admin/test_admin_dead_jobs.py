"""The admin's dead jobs (issue 10, item 4): a count on every staff page, a list, bulk retry.

Jobs die for real: a kind no plugin handles fails its only attempt in the worker.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from adminkit import Admin, flashes
from sqlalchemy import select

from ordermill.core.app import Ordermill
from ordermill.core.models import OutboxJob
from ordermill.core.outbox import enqueue
from ordermill.core.specs import JobRequest

BADGE = re.compile(r'data-testid="dead-jobs-badge"[^>]*>(\d+) dead')


def dead_job(mill: Ordermill, kind: str, order_number: str | None = None) -> int:
    with mill.write_session() as session, session.begin():
        row = enqueue(session, JobRequest(kind=kind, max_attempts=1), order_number=order_number)
        assert row is not None
        session.flush()
        job_id = row.id
    mill.outbox.run_until_empty("test-worker")
    return job_id


def status_of(mill: Ordermill, job_id: int) -> str:
    with mill.read_session() as session:
        return str(session.scalar(select(OutboxJob.status).where(OutboxJob.id == job_id)))


def badge(html: str) -> int | None:
    match = BADGE.search(html)
    return int(match.group(1)) if match else None


@pytest.fixture
def order_number(shop: None, order_factory: Callable[..., Any], mill: Ordermill) -> str:
    number = str(order_factory([("MUG", 1)]).number)
    mill.outbox.run_until_empty("test-worker")  # the order's own jobs, if any plugin queued
    return number


def test_every_staff_page_shows_the_dead_job_count(
    mill: Ordermill, staff_login: Callable[[str], Admin], order_number: str,
) -> None:
    admin = staff_login("admin")
    pages = ["/admin/orders", f"/admin/orders/{order_number}", "/admin/payments",
             "/admin/orders/new", "/admin/settings/statuses", "/admin/jobs/dead"]
    for page in pages:
        assert badge(admin.get(page).get_data(as_text=True)) is None, page
    dead_job(mill, "test.mail", order_number)
    dead_job(mill, "test.hook")
    for page in pages:
        response = admin.get(page)
        assert response.status_code == 200, page
        assert badge(response.get_data(as_text=True)) == 2, page
    # staff who may not retry still see the count (not a link to a page they cannot use)
    viewer = staff_login("viewer").get("/admin/orders").get_data(as_text=True)
    assert badge(viewer) == 2
    assert 'data-testid="dead-jobs-link"' not in viewer


def test_dead_jobs_page_lists_filters_and_retries_in_bulk(
    mill: Ordermill, staff_login: Callable[[str], Admin], order_number: str,
) -> None:
    mail = [dead_job(mill, "test.mail", order_number), dead_job(mill, "test.mail")]
    hook = dead_job(mill, "test.hook")
    manager = staff_login("manager")
    page = manager.get("/admin/jobs/dead?kind=test.mail").get_data(as_text=True)
    listed = {int(i) for i in re.findall(r'name="job_id" value="(\d+)"', page)}
    assert listed == set(mail)
    assert "no plugin registers a handler" in page

    response = manager.post("/admin/jobs/dead/retry", {"kind": "test.mail"})
    assert response.status_code == 302
    assert "kind=test.mail" in response.headers["Location"]
    after = manager.get(response.headers["Location"]).get_data(as_text=True)
    assert "2 dead jobs will run again (kind test.mail)." in flashes(after)
    assert [status_of(mill, i) for i in mail] == ["pending", "pending"]
    assert status_of(mill, hook) == "dead"
    assert badge(after) == 1
    history = mill.orders.history(order_number)
    assert [e.actor for e in history if e.type == "job_retried"] == ["user:manager@shop.test"]

    # ticked ids; an empty form retries nothing
    manager.post("/admin/jobs/dead/retry", {})
    assert "Say which dead jobs to retry" in " ".join(
        flashes(manager.get("/admin/jobs/dead").get_data(as_text=True)))
    assert status_of(mill, hook) == "dead"
    assert manager.post("/admin/jobs/dead/retry", {"job_id": ["x"]}).status_code == 302
    assert "Job ids are whole numbers." in flashes(
        manager.get("/admin/jobs/dead").get_data(as_text=True))
    manager.post("/admin/jobs/dead/retry", {"job_id": [str(hook)]})
    assert status_of(mill, hook) == "pending"
    assert badge(manager.get("/admin/orders").get_data(as_text=True)) is None


def test_retry_all_button_and_permission(
    mill: Ordermill, staff_login: Callable[[str], Admin], order_number: str,
    unchanged: Callable[[], Callable[[], None]],
) -> None:
    jobs = [dead_job(mill, "test.mail"), dead_job(mill, "test.hook")]
    support = staff_login("support")
    assert support.get("/admin/jobs/dead").status_code == 403
    check = unchanged()
    assert support.post("/admin/jobs/dead/retry", {"all": "1"}).status_code == 403
    check()
    assert [status_of(mill, i) for i in jobs] == ["dead", "dead"]

    admin = staff_login("admin")
    page = admin.get("/admin/jobs/dead").get_data(as_text=True)
    assert 'data-testid="retry-all-dead"' in page and 'name="all" value="1"' in page
    admin.post("/admin/jobs/dead/retry", {"all": "1", "kind": "", "order": "", "error": ""})
    assert [status_of(mill, i) for i in jobs] == ["pending", "pending"]
