"""Issue 10 item 17: per-line credentials are kept, and no password leaves the vault.

An admin accepting an order with two service lines chooses a username and password per line
(`options.lines.<line id>`): each service is created with its own, not with generated ones;
order-wide ones apply to every line without its own (WHMCS).
The passwords are stored only encrypted; the history and every API answer (the accept
answer, GET order, the services list) only say "set".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from panelfake import Api, FakePanel
from sqlalchemy import select

from ordermill.core.app import Ordermill
from ordermill.core.models import OrderEvent
from ordermill.core.requests import LineRequest
from ordermill.core.specs import Actor
from ordermill.plugins.provisioning import ProvisionedService, vault
from ordermill.testing import order_request

FIRST_PASSWORD = "Alpha-Secret#1"
SECOND_PASSWORD = "Beta-Secret#2"
SHARED_PASSWORD = "Shared-Secret#3"


@pytest.fixture(autouse=True)
def products(make_product: Callable[..., Any]) -> None:
    make_product("HOST", name="Web hosting S", price=900, stock=None, kind="service",
                 provisioning_module="webhook")


def two_services(mill: Ordermill, staff: Actor) -> tuple[str, list[int]]:
    result = mill.orders.place(order_request([
        LineRequest(sku="HOST", domain="alpha.org"), LineRequest(sku="HOST", domain="beta.org"),
    ]), actor=staff)
    return result.order.number, [line.id for line in result.order.lines]


def services(mill: Ordermill) -> list[ProvisionedService]:
    with mill.read_session() as session:
        return list(session.scalars(select(ProvisionedService)
                                    .order_by(ProvisionedService.line_id)))


def all_event_data(mill: Ordermill) -> str:
    with mill.read_session() as session:
        rows = session.execute(select(OrderEvent.message, OrderEvent.data)).all()
    return json.dumps([[message, data] for message, data in rows])


def test_two_service_lines_keep_their_chosen_credentials_and_no_password_leaks(
        mill: Ordermill, staff: Actor, api: Api, panel: FakePanel,
        add_server: Callable[..., dict[str, Any]]) -> None:
    add_server("panel-1")
    number, (first, second) = two_services(mill, staff)
    accepted = api("POST", f"orders/{number}/accept", json={"options": {
        "send_email": False, "lines": {
            str(first): {"username": "alphauser", "password": FIRST_PASSWORD},
            str(second): {"username": "betauser", "password": SECOND_PASSWORD}}}})
    assert accepted.status_code == 200, accepted.get_data(as_text=True)

    one, two = services(mill)
    secret_key = mill.settings.secret_key
    assert (one.line_id, one.username) == (first, "alphauser")
    assert (two.line_id, two.username) == (second, "betauser")
    assert vault.decrypt(secret_key, one.password) == FIRST_PASSWORD
    assert vault.decrypt(secret_key, two.password) == SECOND_PASSWORD
    assert FIRST_PASSWORD not in one.password  # encrypted at rest

    mill.outbox.run_until_empty()  # the panel gets the chosen credentials
    sent = {event["service"]["username"]: event["service"]["password"]
            for event in panel.received}
    assert sent == {"alphauser": FIRST_PASSWORD, "betauser": SECOND_PASSWORD}

    # the history says "set", never the password
    event = next(e for e in mill.orders.history(number) if e.type == "accepted")
    assert event.data["options"]["lines"] == {
        str(first): {"username": "alphauser", "password": "set"},
        str(second): {"username": "betauser", "password": "set"}}
    assert [note["password"] for note in event.data["provisioning"]] == ["set", "set"]
    texts = {"accept answer": accepted.get_data(as_text=True),
             "history rows": all_event_data(mill)}
    for role in ("viewer", "admin"):
        texts[f"GET order ({role})"] = api("GET", f"orders/{number}", role).get_data(
            as_text=True)
        texts[f"services ({role})"] = api("GET", f"orders/{number}/services", role).get_data(
            as_text=True)
    for where, text in texts.items():
        for password in (FIRST_PASSWORD, SECOND_PASSWORD):
            assert password not in text, f"password in {where}"
    assert '"password": "set"' in texts["GET order (viewer)"].replace('":"', '": "')


def test_order_wide_credentials_apply_to_every_line_without_its_own(
        mill: Ordermill, staff: Actor, api: Api,
        add_server: Callable[..., dict[str, Any]]) -> None:
    """WHMCS's serviceusername / servicepassword: for the order's services, unless a line
    names its own; nothing typed is replaced by a generated one."""
    add_server("panel-1")
    number, (first, _second) = two_services(mill, staff)
    answer = api("POST", f"orders/{number}/accept", json={"options": {
        "username": "shared", "password": SHARED_PASSWORD,
        "lines": {str(first): {"username": "alphauser", "password": FIRST_PASSWORD}}}})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert SHARED_PASSWORD not in answer.get_data(as_text=True)
    one, two = services(mill)
    secret_key = mill.settings.secret_key
    assert (one.username, vault.decrypt(secret_key, one.password)) == (
        "alphauser", FIRST_PASSWORD)
    assert (two.username, vault.decrypt(secret_key, two.password)) == (
        "shared", SHARED_PASSWORD)
    assert SHARED_PASSWORD not in all_event_data(mill)


def test_one_service_line_takes_the_order_wide_credentials(
        mill: Ordermill, staff: Actor, api: Api,
        add_server: Callable[..., dict[str, Any]]) -> None:
    add_server("panel-1")
    number = mill.orders.place(order_request([LineRequest(sku="HOST", domain="solo.org")]),
                               actor=staff).order.number
    answer = api("POST", f"orders/{number}/accept", json={"options": {
        "username": "solo", "password": SHARED_PASSWORD}})
    assert answer.status_code == 200
    assert SHARED_PASSWORD not in answer.get_data(as_text=True)
    [service] = services(mill)
    assert service.username == "solo"
    assert vault.decrypt(mill.settings.secret_key, service.password) == SHARED_PASSWORD


def test_a_new_password_on_retry_is_shown_as_changed(
        mill: Ordermill, staff: Actor, api: Api, panel: FakePanel,
        add_server: Callable[..., dict[str, Any]]) -> None:
    add_server("panel-1")
    number = mill.orders.place(order_request([LineRequest(sku="HOST", domain="retry.org")]),
                               actor=staff).order.number
    mill.orders.accept(number, actor=staff, options={"password": FIRST_PASSWORD})
    panel.fail = 2  # both attempts fail: the create is failed, to be retried by hand
    mill.outbox.run_until_empty()
    [service] = services(mill)
    assert service.status == "failed"
    retried = api("POST", f"orders/{number}/lines/{service.line_id}/provision",
                  json={"options": {"password": SECOND_PASSWORD}})
    assert retried.status_code == 202, retried.get_data(as_text=True)
    assert SECOND_PASSWORD not in retried.get_data(as_text=True)
    requested = mill.orders.history(number)[-1]
    assert requested.type == "provisioning_requested"
    assert requested.data["provisioning"][0]["password"] == "changed"
    [service] = services(mill)
    assert vault.decrypt(mill.settings.secret_key, service.password) == SECOND_PASSWORD
    assert SECOND_PASSWORD not in all_event_data(mill)
