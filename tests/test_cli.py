"""The `ordermill` command line against a real temporary SQLite database.

Most tests drive the CLI as a user would, configured only through the environment. The
README's plugin example and its two commands are checked here too, since the README is the
CLI's manual: an example that stopped working would mislead every new plugin author.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from ordermill.cli import main
from ordermill.core.app import Ordermill
from ordermill.core.db import make_engine
from ordermill.core.models import Base, OrderEvent, Product
from ordermill.core.outbox import enqueue
from ordermill.core.settings import Settings
from ordermill.core.specs import JobRequest
from ordermill.core.staff import actor_for_token
from ordermill.demo import DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD

ROOT = Path(__file__).resolve().parent.parent
Invoke = Callable[..., Result]


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Environment of a fresh SQLite database, free of the developer's own ORDERMILL_*."""
    import os

    for key in list(os.environ):
        if key.startswith("ORDERMILL_"):
            monkeypatch.delenv(key)
    return {"ORDERMILL_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite'}",
            "ORDERMILL_INSTANCE_PATH": str(tmp_path / "instance")}


@pytest.fixture
def invoke(cli_env: dict[str, str]) -> Invoke:
    runner = CliRunner()

    def run(*args: str, input: str | None = None, code: int = 0, **kwargs: Any) -> Result:
        result = runner.invoke(main, list(args), input=input, env=cli_env, **kwargs)
        assert "Traceback" not in result.output
        assert result.exit_code == code, (result.output, result.exception)
        return result

    return run


@pytest.fixture
def cli_mill(cli_env: dict[str, str]) -> Iterator[Ordermill]:
    """An Ordermill on the same database, to check what the commands did."""
    mill = Ordermill(Settings.from_env(env=cli_env))
    yield mill
    mill.dispose()


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo database made once per run by `ordermill demo`; tests get a copy each."""
    import os

    path = tmp_path_factory.mktemp("demo-template") / "demo.sqlite"
    env: dict[str, str | None] = {key: None for key in os.environ
                                  if key.startswith("ORDERMILL_")}
    env.update({"ORDERMILL_DATABASE_URL": f"sqlite:///{path}",
                "ORDERMILL_INSTANCE_PATH": str(path.parent)})
    result = CliRunner().invoke(main, ["demo"], env=env)
    assert result.exit_code == 0, result.output
    return path  # the CLI disposed its engine: the WAL is checkpointed into this file


@pytest.fixture
def demo_shop(demo_template: Path, cli_env: dict[str, str]) -> None:
    target = Path(cli_env["ORDERMILL_DATABASE_URL"].removeprefix("sqlite:///"))
    for suffix in ("", "-wal"):
        source = demo_template.with_name(demo_template.name + suffix)
        if source.exists():
            shutil.copyfile(source, target.with_name(target.name + suffix))


def _orders(invoke: Invoke, *args: str) -> list[dict[str, Any]]:
    return list(json.loads(invoke("order", "list", "--json", "--limit", "500", *args).stdout))


@pytest.mark.slow
def test_init_then_demo_then_polite_refusal(invoke: Invoke) -> None:
    assert "Database ready" in invoke("init").output
    loaded = invoke("demo").output
    assert "orders" in loaded
    assert f"Log in as {DEMO_ADMIN_EMAIL} with password {DEMO_ADMIN_PASSWORD}" in loaded
    again = invoke("demo", code=1)
    assert "already has orders" in again.output and "--force" in again.output


def test_commands_before_init_say_to_run_init(invoke: Invoke) -> None:
    result = invoke("order", "list", code=1)
    assert "ordermill init" in result.output
    assert result.output.strip().count("\n") == 0  # one line


def test_plugins_json_lists_builtin_restock(invoke: Invoke) -> None:
    data = json.loads(invoke("plugins", "--json").stdout)
    by_name = {plugin["name"]: plugin for plugin in data["plugins"]}
    restock = by_name["restock"]
    assert restock["hooks"] == ["restock"]
    assert restock["distribution"] == "ordermill"
    assert restock["source"] == "entry point"
    assert restock["version"]
    assert isinstance(data["failures"], list)
    table = invoke("plugins").output
    assert "restock" in table


def test_statuses_shows_registry(invoke: Invoke) -> None:
    rows = {row["name"]: row for row in json.loads(invoke("statuses", "--json").stdout)}
    assert set(rows) >= {"pending", "active", "completed", "fraud", "cancelled", "refunded"}
    assert rows["refunded"]["transitions"] == []
    assert "active" in rows["pending"]["transitions"]
    assert "(final)" in invoke("statuses").output


@pytest.mark.usefixtures("demo_shop")
def test_order_list_filters_and_searches(invoke: Invoke) -> None:
    everything = _orders(invoke)
    assert len(everything) >= 40
    placed = [row["placed_at"] for row in everything]
    assert placed == sorted(placed, reverse=True)  # newest first
    pending = _orders(invoke, "--status", "pending")
    assert pending and all(row["status"] == "pending" for row in pending)
    target = everything[3]
    surname = target["buyer_name"].split()[-1].upper()
    found = _orders(invoke, "--search", surname)
    assert target["number"] in {row["number"] for row in found}
    assert all(surname.lower() in (row["buyer_name"] + row["buyer_email"]).lower()
               for row in found)
    by_number = _orders(invoke, "--search", target["number"][2:8])
    assert target["number"] in {row["number"] for row in by_number}
    assert len(_orders(invoke, "--limit", "3")) == 3
    table = invoke("order", "list", "--limit", "5").output
    assert everything[0]["number"] in table
    assert "No orders match." in invoke("order", "list", "--search", "no-such-buyer-xyz").output
    assert "Unknown status" in invoke("order", "list", "--status", "nope", code=1).output


@pytest.mark.usefixtures("demo_shop")
def test_order_show_accept_pay_refund(invoke: Invoke) -> None:
    number = next(row["number"] for row in _orders(invoke, "--status", "pending")
                  if row["payment_status"] == "unpaid")
    shown = invoke("order", "show", number).output
    assert number in shown and "History" in shown

    accepted = invoke("order", "accept", number, "--comment", "Looks fine").output
    assert "pending -> active" in accepted
    assert json.loads(invoke("order", "show", number, "--json").stdout)["status"] == "active"

    paid = invoke("order", "mark-paid", number, "--reference", "SEPA-1").output
    assert "unpaid -> paid" in paid

    refunded = invoke("order", "refund", number, "--amount", "5.00").output
    assert "Refunded €5.00" in refunded
    data = json.loads(invoke("order", "show", number, "--json").stdout)
    assert data["refunded"] == "5.00"
    assert data["payment_status"] == "partially_refunded"
    assert [e["comment"] for e in data["history"] if e["type"] == "accepted"] == ["Looks fine"]
    assert {e["actor"] for e in data["history"]
            if e["type"] in ("accepted", "payment", "refunded")} == {"system:cli"}

    line_id = str(data["lines"][0]["id"])
    by_line = invoke("order", "refund", number, "--line", line_id).output
    assert "Refunded" in by_line

    too_much = invoke("order", "refund", number, "--amount", "99999.00", code=1)
    assert too_much.output.startswith("Error: ")


@pytest.mark.usefixtures("demo_shop")
def test_core_errors_are_one_clean_line(invoke: Invoke) -> None:
    missing = invoke("order", "accept", "0000000000", code=1)
    assert missing.output == "Error: No order 0000000000.\n"
    malformed = invoke("order", "show", "12", code=1)
    assert "10 digits" in malformed.output
    active = next(row["number"] for row in _orders(invoke, "--status", "active"))
    illegal = invoke("order", "accept", active, code=1)
    assert illegal.output.startswith("Error: Only pending orders can be accepted")
    assert illegal.output.count("\n") == 1
    bad_amount = invoke("order", "refund", active, "--amount", "1.234", code=1)
    assert "decimal places" in bad_amount.output


@pytest.mark.usefixtures("demo_shop")
def test_cancel_line_fraud_pending_comment_and_delete(invoke: Invoke,
                                                     cli_mill: Ordermill) -> None:
    number = next(row["number"] for row in _orders(invoke, "--status", "pending")
                  if row["payment_status"] == "unpaid" and row["quantity"] > 1)
    order = cli_mill.orders.get(number)
    first = str(order.lines[0].id)
    if len(order.lines) > 1:
        invoke("order", "cancel", number, "--line", first, "--no-restock")
        assert cli_mill.orders.get(number).lines[0].status == "cancelled"
    assert "-> fraud" in invoke("order", "fraud", number, "--comment", "odd").output
    assert "fraud -> pending" in invoke("order", "pending", number).output
    invoke("order", "comment", number, "Called the customer", "--notify")
    comment = [e for e in cli_mill.orders.history(number) if e.type == "comment"][-1]
    # no e-mail is set up: asked to notify, nothing queued, so not recorded as notified
    assert comment.comment == "Called the customer" and not comment.notify_customer

    assert "--restock" in invoke("order", "delete", number, code=2).output
    invoke("order", "delete", number, "--restock", input="n\n", code=1)  # aborted
    cli_mill.orders.get(number)  # still there
    deleted = invoke("order", "delete", number, "--restock", input="y\n").output
    assert "deleted for good" in deleted
    assert "No order" in invoke("order", "show", number, code=1).output
    assert [e.type for e in cli_mill.orders.history(number)][-1] == "deleted"


@pytest.mark.usefixtures("demo_shop")
def test_cancel_whole_order_restocks(invoke: Invoke, cli_mill: Ordermill) -> None:
    number = next(row["number"] for row in _orders(invoke, "--status", "pending")
                  if row["payment_status"] == "unpaid"
                  and all(line.units_held for line in cli_mill.orders.get(row["number"]).lines))
    held = {line.sku: line.units_held for line in cli_mill.orders.get(number).lines}
    result = invoke("order", "cancel", number).output
    assert "-> cancelled" in result
    assert "stock released: " + ", ".join(f"{sku} x{n}" for sku, n in sorted(held.items())) \
        in result
    assert "Cancelling is final" in invoke("order", "cancel", number, "--line",
                                           str(cli_mill.orders.get(number).lines[0].id),
                                           code=1).output


def test_user_and_token_create(invoke: Invoke, cli_mill: Ordermill) -> None:
    invoke("init")
    created = invoke("user", "create", "--email", "Ann@Shop.test", "--name", "Ann",
                     "--role", "manager", "--password", "correct-horse")
    assert "Created manager ann@shop.test" in created.output
    prompted = invoke("user", "create", "--email", "bob@shop.test",
                      input="long-enough-pw\nlong-enough-pw\n")
    assert "Created admin bob@shop.test" in prompted.output
    assert "already exists" in invoke("user", "create", "--email", "ann@shop.test",
                                      "--password", "whatever-123", code=1).output
    assert "at least" in invoke("user", "create", "--email", "cy@shop.test",
                                "--password", "short", code=1).output
    assert "not one of" in invoke("user", "create", "--email", "dee@shop.test",
                                      "--role", "customer", "--password", "x" * 10,
                                      code=2).output

    result = invoke("token", "create", "--email", "ann@shop.test", "--name", "warehouse")
    token = result.stdout.strip()
    assert token.startswith("om_") and "\n" not in token
    assert "cannot be shown again" in result.stderr
    actor = actor_for_token(cli_mill, token)
    assert (actor.name, actor.role) == ("ann@shop.test", "manager")
    assert "No staff user" in invoke("token", "create", "--email", "nobody@shop.test",
                                     "--name", "x", code=1).output


def test_worker_once_and_outbox_retry(invoke: Invoke, cli_mill: Ordermill) -> None:
    invoke("init")
    with cli_mill.write_session() as session, session.begin():
        job = enqueue(session, JobRequest(kind="no.such.handler", max_attempts=1))
        assert job is not None
        session.flush()
        job_id = job.id
    assert "Ran 1 job(s)" in invoke("worker", "--once").output
    dead = json.loads(invoke("outbox", "list", "--status", "dead", "--json").stdout)
    assert [row["id"] for row in dead] == [job_id]
    assert "no.such.handler" in invoke("outbox", "list").output
    assert f"Job {job_id} will run again" in invoke("outbox", "retry", str(job_id)).output
    assert json.loads(invoke("outbox", "list", "--json").stdout)[0]["status"] == "pending"
    assert "No outbox job" in invoke("outbox", "retry", "999999", code=1).output


def test_serve_refuses_a_database_without_schema(invoke: Invoke) -> None:
    result = invoke("serve", "--port", "0", code=1)
    assert "ordermill init" in result.output


def test_bad_configuration_is_one_line(invoke: Invoke, cli_env: dict[str, str]) -> None:
    cli_env["ORDERMILL_PLUGIN_CONFIG"] = "{not json"
    result = invoke("plugins", code=1)
    assert result.output.startswith("Error: ORDERMILL_PLUGIN_CONFIG is not valid JSON")


# ---------------------------------------------------------------------------------- README


def _readme() -> str:
    return (ROOT / "README.md").read_text(encoding="utf-8")


def _readme_plugin_module() -> types.ModuleType:
    section = _readme().split("## Writing a plugin", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code, "the README's plugin example is missing"
    module = types.ModuleType("ordermill_shipping")
    exec(compile(code.group(1), "README.md", "exec"), module.__dict__)
    return module


def test_readme_plugin_example_works(mill: Ordermill, register_plugin: Callable[..., object],
                                     make_product: Callable[..., Product],
                                     order_factory: Callable[..., Any],
                                     caplog: pytest.LogCaptureFixture) -> None:
    register_plugin(_readme_plugin_module(), name="shipping")
    runner = CliRunner()

    def run(*args: str) -> Result:
        result = runner.invoke(main, list(args), obj={"mill": mill})
        assert result.exit_code == 0, result.output
        return result

    info = {p["name"]: p for p in json.loads(run("plugins", "--json").stdout)["plugins"]}
    assert info["shipping"]["hooks"] == ["on_accept", "register_statuses"]
    rows = {row["name"]: row for row in json.loads(run("statuses", "--json").stdout)}
    assert rows["awaiting_shipment"]["category"] == "active"
    assert "awaiting_shipment" in rows["active"]["transitions"]

    make_product("TSHIRT", stock=5)
    number = order_factory([("TSHIRT", 1)], paid=True).number
    with caplog.at_level(logging.INFO, logger="ordermill_shipping"):
        run("order", "accept", number)
    assert f"order {number} accepted by system:cli" in caplog.text
    assert "active -> awaiting_shipment" in run("order", "set-status", number,
                                                "awaiting_shipment").output
    with mill.read_session() as session:
        types_ = list(session.scalars(select(OrderEvent.type)
                                      .where(OrderEvent.order_number == number)))
    assert {"placed", "accepted", "status_changed"} <= set(types_)


def test_readme_starts_with_the_two_commands_ci_runs() -> None:
    lines = _readme().splitlines()
    assert lines[0].startswith("# ordermill")
    blocks = re.findall(r"```sh\n(.*?)\n```", _readme(), re.S)
    run_command, test_command = blocks[0], blocks[1]
    assert run_command.endswith("ordermill serve --demo") and "\n" not in run_command
    assert test_command.endswith(".venv/bin/pytest -n auto --dist loadgroup")
    assert "\n" not in test_command
    head = "\n".join(lines[:12])
    assert head.index(run_command) < head.index(test_command)
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert f'TEST_COMMAND="{test_command}"' in ci
    assert "set -euo pipefail" in ci and "CI=true" in ci
    assert (ROOT / ".ci" / "run").stat().st_mode & 0o111


def test_mill_injected_through_obj_is_not_disposed(tmp_path: Path) -> None:
    """Embedding apps and tests pass their own app; the CLI must leave it usable."""
    engine = make_engine(f"sqlite:///{tmp_path / 'x.sqlite'}")
    Base.metadata.create_all(engine)
    mill = Ordermill(Settings.from_env(env={}, database_url=str(engine.url),
                                       instance_path=tmp_path), engine=engine)
    result = CliRunner().invoke(main, ["order", "list"], obj={"mill": mill})
    assert result.exit_code == 0 and "No orders match." in result.output
    assert CliRunner().invoke(main, ["order", "list"], obj={"mill": mill}).exit_code == 0
    engine.dispose()
