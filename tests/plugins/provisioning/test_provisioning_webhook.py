"""Hosting orders end to end: accept creates the account on a test panel through the webhook
module (signed, through the outbox), cancel and fraud terminate it, a failed create is retried
from the order without a second service, payment can auto-activate, domains go to a registrar.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from panelfake import MODULE_SECRET, Api, FakePanel
from sqlalchemy import func, select

from ordermill.core.app import Ordermill
from ordermill.core.errors import ActionNotAllowed, InvalidInput
from ordermill.core.models import OrderLine, OutboxJob
from ordermill.core.requests import LineRequest
from ordermill.core.specs import Actor
from ordermill.plugins.provisioning import ProvisionedService, request_command, services_of
from ordermill.plugins.provisioning.engine import JOB_KIND
from ordermill.plugins.provisioning.webhook import sign, verify
from ordermill.testing import order_request

PASSWORD = "Tr1cky-Pass#word"


@pytest.fixture(autouse=True)
def products(make_product: Callable[..., Any]) -> None:
    make_product("HOST", name="Web hosting S", price=900, stock=None, kind="service",
                 billing_cycle="monthly", provisioning_module="webhook",
                 options={"plan": "small"})
    make_product("AUTOHOST", name="Instant VPS", price=1500, stock=None, kind="service",
                 provisioning_module="webhook", auto_activate="on_payment")
    make_product("DOMAIN", name="Domain .org", price=1200, stock=None, kind="domain")
    make_product("TSHIRT", price=1000, stock=10)


def place(mill: Ordermill, staff: Actor, *lines: LineRequest) -> str:
    result = mill.orders.place(order_request(list(lines) or [
        LineRequest(sku="HOST", domain="bea-site.org")]), actor=staff)
    return result.order.number


def services(mill: Ordermill) -> list[ProvisionedService]:
    with mill.read_session() as session:
        return list(session.scalars(select(ProvisionedService).order_by(ProvisionedService.id)))


def line_states(mill: Ordermill, number: str) -> list[str | None]:
    return [line.provisioning_status for line in mill.orders.get(number).lines]


def events(mill: Ordermill, number: str) -> list[str]:
    return [event.type for event in mill.orders.history(number)]


def test_accept_creates_the_account_on_the_panel_and_cancel_terminates_it(
        mill: Ordermill, staff: Actor, panel: FakePanel,
        add_server: Callable[..., dict[str, Any]]) -> None:
    add_server("panel-1")
    number = place(mill, staff)
    result = mill.orders.accept(number, actor=staff, options={
        "username": "beasite", "password": PASSWORD, "send_email": False})
    assert result.order.status == "active"
    assert result.preview["jobs"] == [JOB_KIND]
    [service] = services(mill)
    assert (service.status, service.pending_command, service.username) == (
        "pending", "create", "beasite")
    assert service.password and PASSWORD not in service.password  # encrypted at rest
    assert line_states(mill, number) == ["pending"]
    accepted = mill.orders.history(number)[-1]
    assert accepted.data["options"]["password"] == "set"
    assert accepted.data["provisioning"] == [{"line_id": service.line_id,
                                               "service_id": service.id,
                                               "command": "create", "outcome": "queued",
                                               "password": "set"}]
    assert panel.received == []  # nothing leaves before the worker runs the outbox

    assert mill.outbox.run_until_empty() == 1
    assert panel.rejected == 0
    [created] = panel.received
    assert created["event"] == "service.create"
    assert created["send_email"] is False
    sent = created["service"]
    assert (sent["id"], sent["username"], sent["password"], sent["domain"]) == (
        service.id, "beasite", PASSWORD, "bea-site.org")
    assert sent["server"]["name"] == "panel-1"
    assert sent["product"] == "Web hosting S" and sent["product_options"] == {"plan": "small"}
    assert sent["billing_cycle"] == "monthly"
    assert created["buyer"]["email"] == "buyer@example.com"
    [service] = services(mill)
    assert (service.status, service.remote_id, service.pending_command) == (
        "active", f"acct-{service.id}", None)
    assert line_states(mill, number) == ["active"]
    assert events(mill, number) == ["placed", "accepted", "provisioned"]
    assert "panel-1" in mill.orders.history(number)[-1].message

    mill.orders.cancel(number, actor=staff)
    assert [s.status for s in services(mill)] == ["terminating"]
    mill.outbox.run_until_empty()
    assert panel.events() == ["service.create", "service.terminate"]
    assert panel.received[-1]["reason"] == "cancelled"
    assert panel.accounts == {}
    [service] = services(mill)
    assert service.status == "terminated" and service.terminated_at is not None
    assert line_states(mill, number) == ["terminated"]
    assert events(mill, number)[-2:] == ["cancelled", "service_terminated"]


def test_a_failed_create_is_retried_from_the_order_without_a_second_service(
        mill: Ordermill, staff: Actor, panel: FakePanel, api: Api,
        add_server: Callable[..., dict[str, Any]]) -> None:
    add_server("panel-1")
    number = place(mill, staff)
    mill.orders.accept(number, actor=staff)
    panel.fail = 2  # max_attempts is 2: both attempts fail
    mill.outbox.run_until_empty()
    [service] = services(mill)
    assert (service.status, service.attempts) == ("failed", 2)
    assert "answered 500" in (service.last_error or "")
    assert line_states(mill, number) == ["failed"]
    assert events(mill, number) == ["placed", "accepted", "provisioning_failed", "job_dead"]
    assert mill.orders.get(number).status == "active"  # the acceptance is not lost
    first_username = service.username

    refused = api("POST", f"orders/{number}/lines/{service.line_id}/provision", "viewer",
                  json={})
    assert refused.status_code == 403
    retried = api("POST", f"orders/{number}/lines/{service.line_id}/provision", "support",
                  json={})
    assert retried.status_code == 202, retried.get_data(as_text=True)
    body = retried.get_json()
    assert (body["id"], body["status"], body["pending_command"]) == (
        service.id, "pending", "create")
    assert "password" not in body and body["has_password"] is True
    again = api("POST", f"orders/{number}/lines/{service.line_id}/provision", json={})
    assert again.status_code == 409  # a create is already on its way

    mill.outbox.run_until_empty()
    [service] = services(mill)
    assert service.status == "active"
    assert panel.created == 1 and list(panel.accounts) == [service.id]
    assert {event["service"]["id"] for event in panel.received} == {service.id}
    assert {event["service"]["username"] for event in panel.received} == {first_username}
    assert events(mill, number)[-2:] == ["provisioning_requested", "provisioned"]
    done = api("POST", f"orders/{number}/lines/{service.line_id}/provision", json={})
    assert done.status_code == 409
    assert done.get_json()["error"]["code"] == "action_not_allowed"


def test_cancel_before_the_create_ran_sends_nothing(
        mill: Ordermill, staff: Actor, panel: FakePanel) -> None:
    number = place(mill, staff)
    mill.orders.accept(number, actor=staff)  # no server: the module's own URL and secret
    mill.orders.cancel(number, actor=staff)
    assert [s.status for s in services(mill)] == ["cancelled"]
    mill.outbox.run_until_empty()
    assert panel.received == [] and panel.rejected == 0
    with mill.read_session() as session:
        assert session.scalar(select(func.count()).select_from(OutboxJob)
                              .where(OutboxJob.status == "done")) == 1  # ran, did nothing


class TestWithoutServers:
    @pytest.fixture
    def ordermill_settings_overrides(self, httpserver: Any) -> dict[str, Any]:
        return {"plugins": {"provisioning": {"modules": {"webhook": {
            "url": httpserver.url_for("/panel"), "secret": MODULE_SECRET}}}}}

    def test_module_settings_are_used_without_a_server(
            self, mill: Ordermill, staff: Actor, panel: FakePanel) -> None:
        panel.secret = MODULE_SECRET
        number = place(mill, staff)
        mill.orders.accept(number, actor=staff)
        mill.outbox.run_until_empty()
        assert panel.rejected == 0 and panel.events() == ["service.create"]
        assert panel.received[0]["service"]["server"] is None
        assert services(mill)[0].status == "active"


def test_fraud_terminates_and_auto_activation_runs_on_payment_while_pending(
        mill: Ordermill, staff: Actor, panel: FakePanel,
        add_server: Callable[..., dict[str, Any]]) -> None:
    add_server("panel-1")
    number = place(mill, staff, LineRequest(sku="AUTOHOST"), LineRequest(sku="TSHIRT"))
    assert services(mill) == []  # not accepted: WHMCS auto-activation on payment
    mill.orders.mark_paid(number, actor=staff)
    mill.outbox.run_until_empty()
    order = mill.orders.get(number)
    assert order.status == "pending"  # the order stays pending for review
    assert [line.provisioning_status for line in order.lines] == ["active", None]
    assert panel.events() == ["service.create"]
    mill.orders.accept(number, actor=staff)  # already active: no second create
    mill.outbox.run_until_empty()
    assert panel.events() == ["service.create"]

    mill.orders.mark_fraud(number, actor=staff)
    mill.outbox.run_until_empty()
    assert panel.events() == ["service.create", "service.terminate"]
    assert panel.received[-1]["reason"] == "fraud"
    assert [s.status for s in services(mill)] == ["terminated"]


def test_server_choice_least_loaded_named_full_and_unknown(
        mill: Ordermill, staff: Actor, panel: FakePanel,
        add_server: Callable[..., dict[str, Any]]) -> None:
    add_server("alpha", capacity=1)
    add_server("beta", capacity=5)
    add_server("gamma", active=False)
    first = place(mill, staff)
    mill.orders.accept(first, actor=staff)
    second = place(mill, staff)
    mill.orders.accept(second, actor=staff)
    third = place(mill, staff)
    mill.orders.accept(third, actor=staff, options={"server": "beta"})
    chosen = [s["server"] for n in (first, second, third) for s in services_of(mill, n)]
    assert chosen == ["alpha", "beta", "beta"]  # alpha was least loaded, then full

    fourth = place(mill, staff)
    for wanted, message in (("alpha", "is full"), ("gamma", "No active webhook server"),
                            ("nope", "No active webhook server")):
        with pytest.raises(InvalidInput, match=message):
            mill.orders.accept(fourth, actor=staff, options={"server": wanted})
        assert mill.orders.get(fourth).status == "pending"  # nothing happened
    assert len(services(mill)) == 3


def test_autosetup_off_then_created_by_hand(
        mill: Ordermill, staff: Actor, panel: FakePanel,
        add_server: Callable[..., dict[str, Any]]) -> None:
    add_server()
    number = place(mill, staff)
    mill.orders.accept(number, actor=staff, options={"autosetup": False})
    assert services(mill) == []
    line_id = mill.orders.get(number).lines[0].id
    with pytest.raises(ActionNotAllowed, match="Nothing was provisioned"):
        request_command(mill, number, line_id, "suspend", actor=staff)
    request_command(mill, number, line_id, "create", actor=staff,
                    options={"username": "handmade", "password": PASSWORD})
    mill.outbox.run_until_empty()
    assert panel.received[0]["service"]["username"] == "handmade"
    assert panel.received[0]["service"]["password"] == PASSWORD
    request_command(mill, number, line_id, "suspend", actor=staff)
    mill.outbox.run_until_empty()
    assert [s.status for s in services(mill)] == ["suspended"]
    request_command(mill, number, line_id, "unsuspend", actor=staff)
    mill.outbox.run_until_empty()
    assert panel.events() == ["service.create", "service.suspend", "service.unsuspend"]
    [account] = panel.accounts.values()
    assert account["state"] == "active"
    assert events(mill, number)[-2:] == ["provisioning_requested", "service_unsuspended"]


def test_domains_go_to_the_registrar_when_asked(
        mill: Ordermill, staff: Actor, registrar: FakePanel) -> None:
    number = place(mill, staff, LineRequest(sku="DOMAIN", domain="bea-site.org"),
                    LineRequest(sku="DOMAIN", domain="moved-here.org",
                                options={"domain_action": "transfer"}))
    with mill.read_session() as session:
        ids = list(session.scalars(select(OrderLine.id).order_by(OrderLine.id)))
    mill.orders.accept(number, actor=staff, options={
        "send_registrar": True, "lines": {str(ids[1]): {"registrar": "webhook"}}})
    mill.outbox.run_until_empty()
    assert sorted(registrar.events()) == ["domain.register", "domain.transfer"]
    assert {e["service"]["domain"] for e in registrar.received} == {"bea-site.org",
                                                                      "moved-here.org"}
    assert [s.status for s in services(mill)] == ["active", "active"]
    assert sorted(events(mill, number)[-2:]) == ["domain_registered", "domain_transferred"]


def test_no_registrar_when_the_admin_says_so(
        mill: Ordermill, staff: Actor, registrar: FakePanel) -> None:
    number = place(mill, staff, LineRequest(sku="DOMAIN", domain="bea-site.org"))
    mill.orders.accept(number, actor=staff, options={"send_registrar": False})
    mill.outbox.run_until_empty()
    assert registrar.received == [] and services(mill) == []


def test_api_lists_services_without_secrets_and_checks_permissions(
        mill: Ordermill, staff: Actor, panel: FakePanel, api: Api,
        add_server: Callable[..., dict[str, Any]]) -> None:
    add_server()
    number = place(mill, staff)
    accepted = api("POST", f"orders/{number}/accept", "support",
                   json={"options": {"password": PASSWORD}})
    assert accepted.status_code == 200, accepted.get_data(as_text=True)
    mill.outbox.run_until_empty()
    listed = api("GET", f"orders/{number}/services", "viewer")
    assert listed.status_code == 200
    [service] = listed.get_json()["services"]
    assert service["status"] == "active" and service["server"] == "panel-1"
    assert PASSWORD not in listed.get_data(as_text=True)
    line_id = service["line_id"]
    for role in ("viewer",):
        assert api("POST", f"orders/{number}/lines/{line_id}/provision", role,
                   json={"command": "terminate"}).status_code == 403
    bad = api("POST", f"orders/{number}/lines/{line_id}/provision", json={"command": "nuke"})
    assert bad.status_code == 422
    missing = api("POST", f"orders/{number}/lines/999999/provision", json={})
    assert missing.status_code == 404  # the URL names no line of the order (issue 10, #22)
    terminated = api("POST", f"orders/{number}/lines/{line_id}/provision", "manager",
                     json={"command": "terminate"})
    assert terminated.status_code == 202 and terminated.get_json()["status"] == "terminating"
    mill.outbox.run_until_empty()
    assert panel.accounts == {}


def test_signature_helpers() -> None:
    body = b'{"event": "service.create"}'
    header = sign("s3cret", body)
    assert verify("s3cret", body, header)
    assert not verify("other", body, header)
    assert not verify("s3cret", body + b" ", header)
    stale = sign("s3cret", body, timestamp=1_000_000)
    assert not verify("s3cret", body, stale)
    assert not verify("s3cret", body, "garbage")
