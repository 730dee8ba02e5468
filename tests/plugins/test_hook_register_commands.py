"""register_commands: plugins add commands to `ordermill`, found from the environment without a
database; blocked plugins' commands are gone; a broken plugin never breaks --help."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

import pytest
from click.testing import CliRunner, Result
from hookkit import FakeSite, install_shipping, site  # noqa: F401

from ordermill.cli import main
from ordermill.core.app import Ordermill
from ordermill.core.models import Order, Product
from ordermill.testing import TEST_SECRET_KEY

OrderFactory = Callable[..., Order]


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("ORDERMILL_"):
            monkeypatch.delenv(key)


def run(args: list[str], env: dict[str, str]) -> Result:
    result = CliRunner().invoke(main, args, env=env)
    assert "Traceback" not in result.output
    return result


def env_for(mill: Ordermill, **extra: str) -> dict[str, str]:
    return {"ORDERMILL_DATABASE_URL": mill.settings.database_url,
            "ORDERMILL_INSTANCE_PATH": str(mill.settings.instance_path),
            "ORDERMILL_SECRET_KEY": TEST_SECRET_KEY, **extra}


@pytest.mark.commits  # the command opens its own connection to the test database
def test_hook_register_commands_adds_a_group_that_works_on_the_database(
    mill: Ordermill, site: FakeSite, clean_env: None,  # noqa: F811
    make_product: Callable[..., Product], order_factory: OrderFactory,
) -> None:
    install_shipping(site)
    make_product("TSHIRT")
    order_factory([("TSHIRT", 1)])
    order_factory([("TSHIRT", 2)])

    listed = run(["--help"], env_for(mill))
    assert listed.exit_code == 0
    assert "shipping" in listed.output and "Parcels and labels" in listed.output
    assert "serve" in listed.output  # the core's commands are all still there

    counted = run(["shipping", "count"], env_for(mill))
    assert counted.exit_code == 0, counted.output
    assert counted.output.strip() == "2 orders to ship"


def test_hook_register_commands_of_a_blocked_plugin_are_gone(
    tmp_path: object, site: FakeSite, clean_env: None,  # noqa: F811
) -> None:
    shipping, _dhl = install_shipping(site)
    env = {"ORDERMILL_INSTANCE_PATH": str(tmp_path)}

    assert "shipping" in run(["--help"], env).output
    blocked = {**env, "ORDERMILL_BLOCK_PLUGINS": shipping}
    assert "shipping" not in run(["--help"], blocked).output
    refused = run(["shipping", "count"], blocked)
    assert refused.exit_code == 2 and "No such command 'shipping'" in refused.output
    only_core = run(["--help"], {**env, "ORDERMILL_LOAD_PLUGINS": "restock"})
    assert "shipping" not in only_core.output


def test_listing_commands_opens_no_database_and_writes_no_key_file(
    tmp_path: object, site: FakeSite, clean_env: None,  # noqa: F811
) -> None:
    from pathlib import Path

    install_shipping(site)
    instance = Path(str(tmp_path)) / "instance"
    result = run(["shipping", "--help"], {"ORDERMILL_INSTANCE_PATH": str(instance)})
    assert result.exit_code == 0 and "count" in result.output
    assert not instance.exists()


BROKEN_REGISTER = """
    from ordermill import hookimpl


    @hookimpl
    def register_commands(cli):
        raise RuntimeError("label printer driver missing")
"""

CLASHING = """
    import click

    from ordermill import hookimpl


    @hookimpl
    def register_commands(cli):
        @cli.command("init")
        def init():
            '''Hijacked init.'''
            click.echo("hijacked")

        @cli.command("audit")
        def audit():
            '''Audit the shop.'''
            click.echo("audited")
"""


def test_a_broken_plugin_is_logged_and_skipped_and_help_still_works(
    tmp_path: object, site: FakeSite, clean_env: None,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    install_shipping(site)
    broken = site.install("broken-printer", BROKEN_REGISTER, version="0.1")
    site.install("unimportable", "raise ImportError('needs libcups')")
    clashing = site.install("clashing", CLASHING)
    env = {"ORDERMILL_INSTANCE_PATH": str(tmp_path)}

    with caplog.at_level(logging.ERROR, logger="ordermill.plugins"):
        result = run(["--help"], env)

    assert result.exit_code == 0
    assert "shipping" in result.output and "audit" in result.output  # the others load
    messages = " ".join(record.getMessage() for record in caplog.records)
    assert f"skipping the commands of plugin {broken} ({site.dist('broken-printer')} 0.1)" \
        in messages and "label printer driver missing" in messages
    assert f"plugin {clashing} ({site.dist('clashing')} 1.0) adds the command 'init'" \
        in messages
    assert "Create the database schema" in run(["init", "--help"], env).output  # the core's
    assert run(["audit"], env).output.strip() == "audited"


def test_a_plugin_that_stops_start_up_leaves_the_core_commands_working(
    tmp_path: object, site: FakeSite, clean_env: None,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    install_shipping(site)
    site.install("typo", """
        from ordermill import hookimpl


        @hookimpl
        def on_acept(order):
            pass
    """)
    env = {"ORDERMILL_INSTANCE_PATH": str(tmp_path)}
    with caplog.at_level(logging.ERROR, logger="ordermill.plugins"):
        result = run(["--help"], env)
    assert result.exit_code == 0 and "serve" in result.output
    assert "shipping" not in result.output
    assert any("on_acept" in record.getMessage() for record in caplog.records)
