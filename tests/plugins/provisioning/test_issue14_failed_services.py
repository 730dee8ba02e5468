"""Issue 14, item 2: a service whose command failed for good has its Retry button in its own
row of the Services card, flags its order "needs attention" (cleared when the retry works),
and the admin's Needs attention page lists the order and the failed and dead jobs."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from panelfake import FakePanel
from sqlalchemy import update
from test_provisioning_surface import (  # the same panel, products and staff sessions
    Staff,
    failed_hosting_order,
    products,  # noqa: F401  (autouse fixture)
    service_state,
)

from ordermill.core.app import Ordermill
from ordermill.core.models import OutboxJob
from ordermill.core.specs import Actor


def _row_commands(html: str) -> list[str]:
    card = html[html.index('data-testid="provisioning-services"'):]
    card = card[:card.index("</table>")]
    return re.findall(r'data-testid="service-command" data-command="(\w+)">([^<]+)<', card)


def test_a_failed_service_offers_retry_in_its_row_and_flags_the_order(
        mill: Ordermill, app: Any, staff: Actor, panel: FakePanel,
        add_server: Callable[..., Any]) -> None:
    number, line_id = failed_hosting_order(mill, staff, panel, add_server)
    order = mill.orders.get(number)
    assert order.needs_attention and "webhook: create of Web hosting S" in \
        order.needs_attention and "failed" in order.needs_attention
    admin = Staff(app, mill, "admin")
    page = admin.get(f"/admin/orders/{number}").get_data(as_text=True)
    assert 'data-testid="needs-attention"' in page
    assert _row_commands(page) == [("create", "Retry")]
    viewer = Staff(app, mill, "viewer")
    assert _row_commands(viewer.get(f"/admin/orders/{number}").get_data(as_text=True)) == []

    listed = admin.get("/admin/attention").get_data(as_text=True)
    assert f'<tr data-number="{number}">' in listed and "Web hosting S" in listed
    assert "/admin/attention" in listed  # the menu links to it

    retried = admin.post(f"/admin/provisioning/orders/{number}/lines/{line_id}/create")
    assert retried.status_code == 303
    mill.outbox.run_until_empty()
    assert service_state(mill) == ("active", None)
    assert mill.orders.get(number).needs_attention is None  # solved: the flag is gone
    page = admin.get(f"/admin/orders/{number}").get_data(as_text=True)
    assert 'data-testid="needs-attention"' not in page
    assert _row_commands(page) == [("suspend", "Suspend"), ("terminate", "Terminate")]
    assert f'<tr data-number="{number}">' not in admin.get("/admin/attention").get_data(
        as_text=True)


def test_the_attention_page_lists_failing_and_dead_jobs(
        mill: Ordermill, app: Any, staff: Actor, panel: FakePanel,
        add_server: Callable[..., Any]) -> None:
    number, _line_id = failed_hosting_order(mill, staff, panel, add_server)
    admin = Staff(app, mill, "admin")
    listed = admin.get("/admin/attention").get_data(as_text=True)
    dead = listed[listed.index('data-testid="attention-dead-jobs"'):]
    assert "provisioning.command" in dead and number in dead and "panel is down" in dead
    failing = listed[listed.index('data-testid="attention-failing-jobs"'):]
    assert "No job is failing." in failing[:failing.index("</table>")]
    with mill.write_session() as session, session.begin():  # as if it were still retrying
        session.execute(update(OutboxJob).where(OutboxJob.order_number == number)
                        .values(status="pending", attempts=1))
    listed = admin.get("/admin/attention").get_data(as_text=True)
    failing = listed[listed.index('data-testid="attention-failing-jobs"'):]
    failing = failing[:failing.index("</table>")]
    assert "provisioning.command" in failing and "panel is down" in failing
    support = Staff(app, mill, "support")  # no manage_jobs: orders only
    shown = support.get("/admin/attention")
    assert shown.status_code == 200
    text = shown.get_data(as_text=True)
    assert number in text and "attention-dead-jobs" not in text
