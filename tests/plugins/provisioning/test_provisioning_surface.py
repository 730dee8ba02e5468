"""What the provisioning plugin adds to the web app, the admin and the command line through the
extension hooks, and that all of it goes when the plugin is blocked: its API routes (and their
OpenAPI entries), the order page's Services and Tickets panels and module buttons, the
"Servers" menu link and page, and the `provisioning` and `tickets` commands."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import attrs
import pytest
from click.testing import CliRunner, Result
from flask.testing import FlaskClient
from panelfake import FakePanel
from sqlalchemy import select

from ordermill.api import FraudResult, hookimpl
from ordermill.cli import main
from ordermill.core.app import Ordermill
from ordermill.core.plugins import PluginHost
from ordermill.core.requests import LineRequest
from ordermill.core.specs import Actor
from ordermill.plugins.provisioning import ETicket, ProvisionedService
from ordermill.testing import TEST_SECRET_KEY, order_request
from ordermill.testing_web import PASSWORD, add_user
from ordermill.web import create_app

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
ROUTES = ["/api/v1/provisioning/servers", "/api/v1/provisioning/modules",
          "/api/v1/orders/4821736590/services", "/api/v1/orders/4821736590/tickets"]
PLUGIN_PATHS = {"/api/v1/provisioning/servers", "/api/v1/provisioning/modules",
                "/api/v1/orders/{number}/services", "/api/v1/tickets/{code}/check-in",
                "/api/v1/orders/{number}/lines/{line_id}/provision",
                "/api/v1/orders/{number}/tickets", "/api/v1/orders/{number}/tickets.pdf"}


@pytest.fixture(autouse=True)
def products(make_product: Callable[..., Any]) -> None:
    make_product("HOST", name="Web hosting S", price=900, stock=None, kind="service",
                 provisioning_module="webhook")
    make_product("GIG", name="Jazz night", price=3000, stock=100, kind="ticket")


def blocked(mill: Ordermill) -> Ordermill:
    settings = attrs.evolve(mill.settings, block_plugins=("provisioning",))
    return Ordermill(settings, plugins=PluginHost(settings), engine=mill.engine)


class Staff:
    """A browser session of one staff member: forms carry the last page's CSRF token."""

    def __init__(self, app: Any, mill: Ordermill, role: str) -> None:
        self.client: FlaskClient = app.test_client()
        email = add_user(mill, role, f"{role}-{id(self)}@shop.test")
        self.token = ""
        self.get("/admin/login")
        answer = self.client.post("/admin/login", data={
            "email": email, "password": PASSWORD, "csrf_token": self.token})
        assert answer.status_code == 302, answer.get_data(as_text=True)

    def get(self, path: str) -> Any:
        response = self.client.get(path)
        found = CSRF.search(response.get_data(as_text=True)) \
            if response.mimetype == "text/html" else None
        if found:
            self.token = found.group(1)
        return response

    def post(self, path: str, *, csrf: bool = True) -> Any:
        return self.client.post(path, data={"csrf_token": self.token} if csrf else {})


def failed_hosting_order(mill: Ordermill, staff: Actor, panel: FakePanel,
                         add_server: Callable[..., Any]) -> tuple[str, int]:
    add_server("panel-1")
    number = mill.orders.place(order_request([LineRequest(sku="HOST", domain="bea.org")]),
                               actor=staff).order.number
    mill.orders.accept(number, actor=staff, options={"send_email": False})
    panel.fail = 2  # max_attempts is 2: the create fails for good
    mill.outbox.run_until_empty()
    [line] = mill.orders.get(number).lines
    return number, line.id


def service_state(mill: Ordermill) -> tuple[str, str | None]:
    with mill.read_session() as session:
        [service] = session.scalars(select(ProvisionedService))
        return service.status, service.pending_command


def buttons(html: str) -> list[str]:
    return re.findall(r'data-plugin="provisioning">([^<]+)</button>', html)


# ---------------------------------------------------------------------------- the API


def test_the_routes_join_the_api_and_go_when_the_plugin_is_blocked(
        mill: Ordermill, app: Any, app_config: dict[str, Any],
        tokens: dict[str, str]) -> None:
    auth = {"Authorization": f"Bearer {tokens['admin']}"}
    loaded = app.test_client()
    document = loaded.get("/api/v1/openapi.json").get_json()
    assert set(document["paths"]) >= PLUGIN_PATHS
    assert "ServerIn" in document["components"]["schemas"]
    assert loaded.get("/api/v1/provisioning/servers", headers=auth).status_code == 200

    without = create_app(blocked(mill), app_config).test_client()
    for path in ROUTES:
        answer = without.get(path, headers=auth)
        assert answer.status_code == 404, path
        assert answer.get_json()["error"]["code"] == "not_found"
    assert without.post("/api/v1/tickets/ABCD-EFGH-JKLM/check-in", json={},
                        headers=auth).status_code == 404
    document = without.get("/api/v1/openapi.json").get_json()
    assert not PLUGIN_PATHS & set(document["paths"])
    assert "ServerIn" not in document["components"]["schemas"]
    # re-running fraud checks is the core's: there with or without the plugin
    assert "/api/v1/orders/{number}/fraud-check" in document["paths"]


def test_the_fraud_check_route_is_the_core_apis_and_refuses_a_dry_run(
        mill: Ordermill, app: Any, tokens: dict[str, str], staff: Actor,
        register_plugin: Callable[..., Any]) -> None:
    scores: list[str] = []

    class Scorer:
        @hookimpl
        def fraud_check(self, order: Any) -> FraudResult:
            scores.append(order.number)
            return FraudResult("scorer", Decimal("5"))

    register_plugin(Scorer(), name="scorer")
    number = mill.orders.place(order_request([LineRequest(sku="GIG")]), actor=staff) \
        .order.number
    client = app.test_client()
    auth = {"Authorization": f"Bearer {tokens['admin']}"}
    assert app.url_map.bind("localhost").match(f"/api/v1/orders/{number}/fraud-check",
                                      method="POST")[0] == "api.rerun_fraud_check"
    refused = client.post(f"/api/v1/orders/{number}/fraud-check?dry_run=true", json={},
                          headers=auth)
    assert refused.status_code == 409 and "cannot be previewed" in \
        refused.get_json()["error"]["message"]
    done = client.post(f"/api/v1/orders/{number}/fraud-check", json={}, headers=auth)
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["event"]["type"] == "fraud_checked"
    assert scores == [number, number]  # at placing, then once again (the dry run asked none)
    viewer = client.post(f"/api/v1/orders/{number}/fraud-check", json={},
                         headers={"Authorization": f"Bearer {tokens['viewer']}"})
    assert viewer.status_code == 403


# ---------------------------------------------------------------------------- the admin


def test_module_buttons_retry_a_failed_create_then_suspend_and_unsuspend(
        mill: Ordermill, app: Any, staff: Actor, panel: FakePanel,
        add_server: Callable[..., Any]) -> None:
    number, line_id = failed_hosting_order(mill, staff, panel, add_server)
    admin = Staff(app, mill, "admin")
    page = admin.get(f"/admin/orders/{number}").get_data(as_text=True)
    assert 'data-testid="provisioning-services"' in page and "panel-1" in page
    assert "Failed" in page and "panel is down" in page  # the last error, from the panel
    assert buttons(page) == ["Retry create: Web hosting S"]

    retried = admin.post(f"/admin/provisioning/orders/{number}/lines/{line_id}/create")
    assert retried.status_code == 303 and retried.headers["Location"].endswith(number)
    assert service_state(mill) == ("pending", "create")
    page = admin.get(f"/admin/orders/{number}").get_data(as_text=True)
    assert "create on its way" in page and buttons(page) == []  # wait for the outcome
    mill.outbox.run_until_empty()
    assert service_state(mill) == ("active", None)
    page = admin.get(f"/admin/orders/{number}").get_data(as_text=True)
    assert buttons(page) == ["Suspend: Web hosting S", "Terminate: Web hosting S"]
    assert 'data-confirm="Terminate the service of Web hosting S?' in page

    admin.post(f"/admin/provisioning/orders/{number}/lines/{line_id}/suspend")
    mill.outbox.run_until_empty()
    assert service_state(mill) == ("suspended", None)
    page = admin.get(f"/admin/orders/{number}").get_data(as_text=True)
    assert buttons(page) == ["Unsuspend: Web hosting S", "Terminate: Web hosting S"]
    assert panel.events()[-1] == "service.suspend"
    history = [event.type for event in mill.orders.history(number)]
    assert history.count("provisioning_requested") == 2


def test_module_buttons_are_hidden_and_refused_without_edit_orders_or_a_csrf_token(
        mill: Ordermill, app: Any, staff: Actor, panel: FakePanel,
        add_server: Callable[..., Any], unchanged: Callable[[], Callable[[], None]]) -> None:
    number, line_id = failed_hosting_order(mill, staff, panel, add_server)
    viewer = Staff(app, mill, "viewer")
    support = Staff(app, mill, "support")
    page = viewer.get(f"/admin/orders/{number}").get_data(as_text=True)
    assert 'data-testid="provisioning-services"' in page  # reading is view_orders
    assert buttons(page) == []
    assert buttons(support.get(f"/admin/orders/{number}").get_data(as_text=True)) == [
        "Retry create: Web hosting S"]  # support holds edit_orders
    before = unchanged()
    url = f"/admin/provisioning/orders/{number}/lines/{line_id}/create"
    assert viewer.post(url).status_code == 403
    assert support.post(url, csrf=False).status_code == 400
    assert support.post(f"/admin/provisioning/orders/{number}/lines/{line_id}/reboot"
                        ).status_code == 404
    assert app.test_client().post(url).status_code == 302  # to the login page
    before()
    assert service_state(mill) == ("failed", None)


def test_a_refused_command_is_a_message_on_the_order_page(
        mill: Ordermill, app: Any, staff: Actor, panel: FakePanel,
        add_server: Callable[..., Any]) -> None:
    number, line_id = failed_hosting_order(mill, staff, panel, add_server)
    admin = Staff(app, mill, "admin")
    admin.get(f"/admin/orders/{number}")
    refused = admin.post(f"/admin/provisioning/orders/{number}/lines/{line_id}/suspend")
    assert refused.status_code == 303
    page = admin.get(f"/admin/orders/{number}").get_data(as_text=True)
    assert "Cannot suspend the service of line" in page and "it is failed" in page


def test_the_tickets_panel_lists_the_codes_and_links_the_pdf(
        mill: Ordermill, app: Any, staff: Actor) -> None:
    number = mill.orders.place(order_request([LineRequest(sku="GIG", quantity=2)]),
                               actor=staff).order.number
    mill.orders.mark_paid(number, actor=staff)
    with mill.read_session() as session:
        codes = list(session.scalars(select(ETicket.code).where(
            ETicket.order_number == number)))
    assert len(codes) == 2
    admin = Staff(app, mill, "viewer")
    page = admin.get(f"/admin/orders/{number}").get_data(as_text=True)
    assert 'data-testid="provisioning-tickets"' in page and all(c in page for c in codes)
    pdf = admin.get(f"/admin/provisioning/orders/{number}/tickets.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    services = page.split('data-testid="provisioning-services"', 1)[1].split("</table>")[0]
    assert "etickets" in services and "Active" in services  # the module's outcome
    assert buttons(page) == []  # a viewer holds no edit_orders


def test_the_servers_link_and_page_are_for_manage_settings(
        mill: Ordermill, app: Any, add_server: Callable[..., Any]) -> None:
    add_server("panel-7")
    admin = Staff(app, mill, "admin")
    page = admin.get("/admin/orders").get_data(as_text=True)
    assert 'href="/admin/provisioning/servers" data-testid="plugin-menu-link"' in page
    servers = admin.get("/admin/provisioning/servers")
    assert servers.status_code == 200
    text = servers.get_data(as_text=True)
    assert "panel-7" in text and "Webhook to your own panel" in text
    assert "panel-server-secret" not in text  # credential keys, never values
    support = Staff(app, mill, "support")
    assert "/admin/provisioning/servers" not in support.get("/admin/orders").get_data(
        as_text=True)
    assert support.get("/admin/provisioning/servers").status_code == 403


def test_a_blocked_plugin_has_no_panel_button_link_or_admin_route(
        mill: Ordermill, app_config: dict[str, Any], staff: Actor, panel: FakePanel,
        add_server: Callable[..., Any]) -> None:
    number, line_id = failed_hosting_order(mill, staff, panel, add_server)
    without = create_app(blocked(mill), app_config)
    admin = Staff(without, mill, "admin")
    page = admin.get(f"/admin/orders/{number}").get_data(as_text=True)
    assert admin.get(f"/admin/orders/{number}").status_code == 200
    assert "provisioning-services" not in page and 'data-plugin="provisioning"' not in page
    assert "/admin/provisioning/servers" not in page
    assert admin.post(f"/admin/provisioning/orders/{number}/lines/{line_id}/create"
                      ).status_code == 404
    assert admin.get("/admin/provisioning/servers").status_code == 404


# ---------------------------------------------------------------------------- the CLI


def run(args: list[str], env: dict[str, str]) -> Result:
    result = CliRunner().invoke(main, args, env=env)
    assert "Traceback" not in result.output
    return result


def env_for(mill: Ordermill) -> dict[str, str]:
    return {"ORDERMILL_DATABASE_URL": mill.settings.database_url,
            "ORDERMILL_INSTANCE_PATH": str(mill.settings.instance_path),
            "ORDERMILL_SECRET_KEY": TEST_SECRET_KEY}


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("ORDERMILL_"):
            monkeypatch.delenv(key)


@pytest.mark.commits  # the command opens its own connection to the test database
def test_the_commands_list_servers_run_a_module_command_and_check_tickets_in(
        mill: Ordermill, staff: Actor, clean_env: None,
        add_server: Callable[..., Any]) -> None:
    env = env_for(mill)
    add_server("panel-3")
    listed = run(["provisioning", "servers", "--json"], env)
    assert listed.exit_code == 0, listed.output
    assert '"name": "panel-3"' in listed.output and "panel-server-secret" not in listed.output
    assert "webhook  module" in run(["provisioning", "modules"], env).output

    number = mill.orders.place(order_request([LineRequest(sku="HOST", domain="cli.org")]),
                               actor=staff).order.number
    [line] = mill.orders.get(number).lines
    created = run(["provisioning", "run", number, str(line.id), "create"], env)
    assert created.exit_code == 0, created.output
    assert "service" in created.output and "create queued" in created.output
    assert service_state(mill) == ("pending", "create")
    [requested] = [e for e in mill.orders.history(number) if e.type == "provisioning_requested"]
    assert "cli" in requested.actor
    again = run(["provisioning", "run", number, str(line.id), "create"], env)
    assert again.exit_code == 1 and again.output.startswith("Error: ")
    assert "there is nothing to create" in again.output

    ticket_order = mill.orders.place(order_request([LineRequest(sku="GIG")]), actor=staff)
    mill.orders.mark_paid(ticket_order.order.number, actor=staff)
    with mill.read_session() as session:
        [code] = session.scalars(select(ETicket.code).where(
            ETicket.order_number == ticket_order.order.number))
    assert code in run(["tickets", "list", ticket_order.order.number], env).output
    admitted = run(["tickets", "check-in", code.lower()], env)
    assert admitted.exit_code == 0 and f"Ticket {code}" in admitted.output
    twice = run(["tickets", "check-in", code], env)
    assert twice.exit_code == 1 and "already checked in" in twice.output


def test_the_commands_are_gone_when_the_plugin_is_blocked(
        tmp_path: Any, clean_env: None) -> None:
    env = {"ORDERMILL_INSTANCE_PATH": str(tmp_path)}
    def commands(environment: dict[str, str]) -> set[str]:
        listed = run(["--help"], environment).output.split("Commands:", 1)[1]
        return set(re.findall(r"^  (\S+)", listed, re.MULTILINE))

    assert {"provisioning", "tickets", "order"} <= commands(env)
    blocked_env = {**env, "ORDERMILL_BLOCK_PLUGINS": "provisioning"}
    left = commands(blocked_env)
    assert "order" in left and not {"provisioning", "tickets"} & left
    for args in (["provisioning", "servers"], ["tickets", "check-in", "X"]):
        refused = run(args, blocked_env)
        assert refused.exit_code == 2 and "No such command" in refused.output
