"""Dead jobs over the API (issue 10, item 4): list and bulk retry, `manage_jobs` enforced.

Jobs die for real here: a kind no plugin handles fails its only attempt in the worker.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from ordermill.core.app import Ordermill
from ordermill.core.models import OutboxJob
from ordermill.core.outbox import enqueue
from ordermill.core.specs import JobRequest


def dead_job(mill: Ordermill, kind: str, order_number: str | None = None) -> int:
    """A job that dies on its first attempt: nobody handles `kind`."""
    with mill.write_session() as session, session.begin():
        row = enqueue(session, JobRequest(kind=kind, max_attempts=1), order_number=order_number)
        assert row is not None
        session.flush()
        job_id = row.id
    mill.outbox.run_until_empty("test-worker")
    return job_id


def statuses(mill: Ordermill) -> dict[int, str]:
    with mill.read_session() as session:
        return {row.id: row.status for row in session.scalars(select(OutboxJob))}


@pytest.fixture
def dead(mill: Ordermill, make_product: Callable[..., Any],
         order_factory: Callable[..., Any]) -> dict[str, Any]:
    make_product("TSHIRT", price=1000)
    order = order_factory()
    with mill.write_session() as session, session.begin():  # the order's own jobs are done
        session.execute(OutboxJob.__table__.update().values(status="done"))
    return {"number": order.number,
            "mail": [dead_job(mill, "test.mail", order.number), dead_job(mill, "test.mail")],
            "hook": dead_job(mill, "test.hook")}


def test_roles_without_manage_jobs_get_403_and_nothing_changes(
    mill: Ordermill, api: Any, dead: dict[str, Any], error_of: Callable[..., Any],
) -> None:
    before = statuses(mill)
    for role in ("support", "viewer"):
        error = error_of(api.post("jobs/dead/retry", role=role, json={"all": True}), 403,
                         "permission_denied")
        assert error["details"]["permission"] == "manage_jobs"
        error_of(api.get("jobs/dead", role=role), 403, "permission_denied")
    assert statuses(mill) == before
    error_of(api.post("jobs/dead/retry", role=None, json={"kind": 5}), 401)


def test_list_and_retry_dead_jobs_of_a_kind(
    mill: Ordermill, api: Any, dead: dict[str, Any], error_of: Callable[..., Any],
) -> None:
    listed = api.get("jobs/dead?kind=test.mail", role="manager")
    assert listed.status_code == 200, listed.get_json()
    body = listed.get_json()
    assert body["total_dead"] == 3
    assert sorted(job["id"] for job in body["jobs"]) == sorted(dead["mail"])
    assert all("payload" not in job for job in body["jobs"])
    assert "no plugin registers a handler" in body["jobs"][0]["last_error"]

    before = statuses(mill)
    preview = api.post("jobs/dead/retry?dry_run=true", json={"kind": "test.mail"})
    assert preview.get_json() == {"dry_run": True, "count": 2, "job_ids": sorted(dead["mail"]),
                                  "filter": "kind test.mail"}
    assert statuses(mill) == before

    done = api.post("jobs/dead/retry", role="manager", json={"kind": "test.mail"})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["count"] == 2
    now = statuses(mill)
    assert [now[i] for i in dead["mail"]] == ["pending", "pending"]
    assert now[dead["hook"]] == "dead"
    retried = [e for e in mill.orders.history(dead["number"]) if e.type == "job_retried"]
    assert len(retried) == 1 and "manager@shop.test" in retried[0].actor

    # an empty filter retries nothing and says what to send
    error_of(api.post("jobs/dead/retry", json={}), 422, "invalid_input")
    everything = api.post("jobs/dead/retry", json={"all": True}).get_json()
    assert everything["job_ids"] == [dead["hook"]]
    assert api.get("jobs/dead").get_json() == {"total_dead": 0, "jobs": []}


def test_retry_by_order_error_text_and_ids(mill: Ordermill, api: Any,
                                          dead: dict[str, Any]) -> None:
    by_order = api.post("jobs/dead/retry", json={"order_number": dead["number"]}).get_json()
    assert by_order["job_ids"] == [dead["mail"][0]]
    by_ids = api.post("jobs/dead/retry", json={"ids": [dead["hook"]],
                                               "error_contains": "NO PLUGIN"}).get_json()
    assert by_ids["job_ids"] == [dead["hook"]]
    assert api.post("jobs/dead/retry", json={"error_contains": "100%_"}).get_json()[
        "count"] == 0
