"""The demo shop seeds recurring orders in every status (core hook `on_demo_loaded`), and
starting the worker on it fails no job."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from ordermill.api import OutboxJobView, hookimpl
from ordermill.core.app import Ordermill
from ordermill.core.models import OutboxJob
from ordermill.demo import load_demo
from ordermill.plugins.subscriptions.models import STATUSES, Subscription


@pytest.mark.slow  # loads the whole demo shop
def test_hook_on_demo_loaded(mill: Ordermill, register_plugin: Any) -> None:
    seen: list[int] = []

    class Counter:
        @hookimpl
        def on_demo_loaded(self, orders: list[str], ctx: Any) -> None:
            seen.append(len(orders))

    register_plugin(Counter(), "counter")
    summary = load_demo(mill, spread_days=False)
    assert seen == [len(summary.orders)]
    with mill.read_session() as session:
        statuses = set(session.scalars(select(Subscription.status)))
    assert statuses == set(STATUSES)
    with mill.read_session() as session:  # this plugin's jobs run cleanly at start
        jobs = list(session.execute(select(OutboxJob.id, OutboxJob.kind, OutboxJob.payload,
                                           OutboxJob.order_number)
                                    .where(OutboxJob.kind.like("subscriptions.%"))))
    assert jobs, "the demo queued no scheduler run"
    for job_id, kind, payload, number in jobs:
        view = OutboxJobView(job_id, kind, payload, number, 1, None)
        mill.job_handlers[kind].handler(job=view, mill=mill)
    with mill.read_session() as session:
        after = list(session.scalars(select(Subscription.status).order_by(Subscription.id)))
    assert set(after) == set(STATUSES)
