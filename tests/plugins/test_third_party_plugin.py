"""A third-party plugin, really installed, found through its entry point (acceptance 6).

tests/plugins/example_dist is a complete distribution (`ordermill-example-plugin`) with an
`ordermill` entry point. It is built and installed by pip into a throw-away directory; putting
that directory on the path (PYTHONPATH for a subprocess, sys.path in process) is all
importlib.metadata needs to see the installed distribution, exactly as in a virtualenv.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from ordermill.core.app import Ordermill
from ordermill.core.errors import IllegalTransition
from ordermill.core.models import Product
from ordermill.core.plugins import PluginHost
from ordermill.core.specs import Actor
from ordermill.testing import order_request

pytestmark = pytest.mark.slow  # pip-installs the example plugin

EXAMPLE_DIST = Path(__file__).resolve().parent / "example_dist"
DIST_NAME = "ordermill-example-plugin"
MODULE = "ordermill_example_plugin"


@pytest.fixture(scope="module")
def example_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pip-install the example distribution (built from a copy: no build files in tests/)."""
    work = tmp_path_factory.mktemp("example-plugin")
    source = work / "source"
    shutil.copytree(EXAMPLE_DIST, source)
    target = work / "site-packages"
    completed = subprocess.run(
        # built with this venv's setuptools, as the kit's distributions are: an isolated
        # build environment cost 2.5 s of pip installing setuptools
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-input",
         "--no-build-isolation", "--disable-pip-version-check", "--target", str(target),
         str(source)],
        capture_output=True, text=True, timeout=180, check=False,
    )
    if completed.returncode != 0:
        pytest.fail(f"pip could not install the example plugin:\n{completed.stderr}")
    assert (target / f"{MODULE}.py").exists()
    assert list(target.glob("ordermill_example_plugin-1.0.0.dist-info"))
    return target


@pytest.fixture
def installed(example_site: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The example distribution visible to importlib.metadata in this process."""
    monkeypatch.syspath_prepend(str(example_site))
    yield example_site
    sys.modules.pop(MODULE, None)


def run_cli(args: list[str], site: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("ORDERMILL_")}
    env.update({
        "PYTHONPATH": os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH")])),
        "ORDERMILL_INSTANCE_PATH": str(tmp_path / "instance"),
        "ORDERMILL_DATABASE_URL": f"sqlite:///{tmp_path / 'instance' / 'cli.sqlite'}",
    })
    script = Path(sys.executable).parent / "ordermill"
    command = [str(script)] if script.exists() else [
        sys.executable, "-c", "from ordermill.cli import main; main()"]
    return subprocess.run(command + args, capture_output=True, text=True, env=env,
                          timeout=60, check=False, cwd=tmp_path)


def plugin_list(output: str) -> list[dict[str, Any]]:
    data = json.loads(output)
    return data["plugins"] if isinstance(data, dict) else data


def test_ordermill_plugins_lists_the_installed_plugin(example_site: Path, tmp_path: Path) -> None:
    completed = run_cli(["plugins", "--json"], example_site, tmp_path)
    assert completed.returncode == 0, completed.stderr

    plugins = {plugin["name"]: plugin for plugin in plugin_list(completed.stdout)}
    example = plugins["example"]
    assert example["version"] == "1.0.0"
    assert example["distribution"] == DIST_NAME
    assert example["source"] == "entry point"
    assert sorted(example["hooks"]) == ["on_accept", "register_statuses"]
    assert plugins["restock"]["distribution"] == "ordermill"  # built-ins load the same way
    data = json.loads(completed.stdout)
    if isinstance(data, dict):
        assert data.get("failures") == []

    table = run_cli(["plugins"], example_site, tmp_path)
    assert table.returncode == 0, table.stderr
    assert "example" in table.stdout and DIST_NAME in table.stdout


def test_without_the_plugin_installed_it_is_not_listed(tmp_path: Path) -> None:
    completed = run_cli(["plugins", "--json"], tmp_path / "nothing-installed", tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert "example" not in {plugin["name"] for plugin in plugin_list(completed.stdout)}


def test_the_installed_plugin_adds_its_status_and_reacts_to_accept(
    mill: Ordermill, installed: Path, make_product: Callable[..., Product], staff: Actor,
) -> None:
    settings = attrs.evolve(mill.settings, plugins={"example": {"packing_days": 3}})
    host = PluginHost(settings)
    info = {info.name: info for info in host.plugin_infos()}["example"]
    assert (info.distribution, info.version, info.source) == (DIST_NAME, "1.0.0",
                                                              "entry point")
    app = Ordermill(settings, plugins=host, engine=mill.engine)
    assert app.statuses.owner("awaiting_shipment") == f"example ({DIST_NAME} 1.0.0)"
    assert app.statuses.category("awaiting_shipment") == "active"
    make_product("TSHIRT", stock=5)
    order = app.orders.place(order_request([("TSHIRT", 1)]), actor=staff).order
    assert order is not None

    result = app.orders.accept(order.number, actor=staff)

    assert result.hook_failures == ()
    [comment] = [e for e in app.orders.history(order.number) if e.type == "comment"]
    assert comment.actor == "system:ordermill-example-plugin"
    assert comment.comment == (f"Example plugin: order {order.number} will be packed within "
                               f"3 day(s).")
    app.orders.set_status(order.number, "awaiting_shipment", actor=staff)
    assert app.orders.get(order.number).status == "awaiting_shipment"
    app.orders.set_status(order.number, "completed", actor=staff)
    assert app.orders.get(order.number).status == "completed"


def test_a_blocked_plugin_adds_nothing(
    mill: Ordermill, installed: Path, make_product: Callable[..., Product], staff: Actor,
) -> None:
    settings = attrs.evolve(mill.settings, block_plugins=("example",))
    app = Ordermill(settings, plugins=PluginHost(settings), engine=mill.engine)
    assert "example" not in {info.name for info in app.plugins.plugin_infos()}
    make_product("TSHIRT", stock=5)
    order = app.orders.place(order_request([("TSHIRT", 1)]), actor=staff).order
    assert order is not None
    app.orders.accept(order.number, actor=staff)

    assert "comment" not in [e.type for e in app.orders.history(order.number)]
    with pytest.raises(IllegalTransition, match="Unknown status 'awaiting_shipment'"):
        app.orders.set_status(order.number, "awaiting_shipment", actor=staff)
