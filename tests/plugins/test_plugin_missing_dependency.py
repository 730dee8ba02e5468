"""A plugin whose optional package is not installed is one INFO line saying what to install
(issue 10, item 20), and the gateways ordermill ships are installed by `pip install -e .`.

The plugins here are real distributions written into a sys.path directory (module +
`<name>.dist-info` with METADATA and entry_points.txt), which is what importlib.metadata
reads for an installed package; the module they import does not exist anywhere.
"""

from __future__ import annotations

import importlib.metadata
import logging
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ordermill.core.errors import PluginLoadError
from ordermill.core.plugins import PluginHost
from ordermill.core.settings import Settings


class Site:
    """Writes tiny distributions with an `ordermill` entry point into a sys.path folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.tag = uuid.uuid4().hex[:8]
        self.modules: list[str] = []

    def install(self, dist: str, source: str, requires: tuple[str, ...] = ()) -> str:
        module = f"om_fake_{dist.replace('-', '_')}_{self.tag}"
        name = f"{dist}-{self.tag}"
        (self.root / f"{module}.py").write_text(textwrap.dedent(source))
        info = self.root / f"{dist.replace('-', '_')}_{self.tag}-1.0.dist-info"
        info.mkdir()
        metadata = ["Metadata-Version: 2.1", f"Name: {name}", "Version: 1.0"]
        metadata += [f"Requires-Dist: {requirement}" for requirement in requires]
        (info / "METADATA").write_text("\n".join(metadata) + "\n")
        (info / "entry_points.txt").write_text(f"[ordermill]\n{name} = {module}\n")
        self.modules.append(module)
        return name


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    root = tmp_path / "site-packages"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    fake = Site(root)
    yield fake
    for module in fake.modules:
        sys.modules.pop(module, None)


def settings(tmp_path: Path, **env: str) -> Settings:
    return Settings.from_env(env=env, database_url=f"sqlite:///{tmp_path / 'unused.sqlite'}",
                             instance_path=tmp_path)


def plugin_records(caplog: pytest.LogCaptureFixture, name: str) -> list[logging.LogRecord]:
    return [record for record in caplog.records
            if record.name == "ordermill.plugins" and name in record.getMessage()]


def test_a_missing_declared_extra_is_one_info_line_naming_the_package_and_the_extra(
    tmp_path: Path, site: Site, caplog: pytest.LogCaptureFixture,
) -> None:
    missing = f"om_sdk_{site.tag}"
    name = site.install("fancy-pay", f"import {missing}\n",
                        requires=(f"om-sdk-{site.tag}>=2.0; extra == \"fancy\"",))

    with caplog.at_level(logging.DEBUG, logger="ordermill.plugins"):
        host = PluginHost(settings(tmp_path))

    records = plugin_records(caplog, name)
    assert [record.levelno for record in records] == [logging.INFO]
    assert records[0].getMessage() == (
        f"plugin {name} needs the package om-sdk-{site.tag}: pip install '{name}[fancy]'")
    assert name not in {info.name for info in host.plugin_infos()}
    failure = next(failure for failure in host.failures if failure.name == name)
    assert failure.error.startswith("ModuleNotFoundError")
    assert f"pip install '{name}[fancy]'" in failure.error  # `ordermill plugins` shows it
    assert "restock" in {info.name for info in host.plugin_infos()}  # the rest still load


def test_a_missing_plain_requirement_names_the_requirement_to_install(
    tmp_path: Path, site: Site, caplog: pytest.LogCaptureFixture,
) -> None:
    name = site.install("plain", f"from om_lib_{site.tag}.client import Client\n",
                        requires=(f"om_lib_{site.tag}>=1.4",))

    with caplog.at_level(logging.DEBUG, logger="ordermill.plugins"):
        PluginHost(settings(tmp_path))

    records = plugin_records(caplog, name)
    assert [(r.levelno, r.getMessage()) for r in records] == [(
        logging.INFO,
        f"plugin {name} needs the package om_lib_{site.tag}: pip install 'om_lib_{site.tag}>=1.4'",
    )]


def test_an_undeclared_missing_module_is_still_named(
    tmp_path: Path, site: Site, caplog: pytest.LogCaptureFixture,
) -> None:
    name = site.install("undeclared", f"import om_nowhere_{site.tag}\n")

    with caplog.at_level(logging.DEBUG, logger="ordermill.plugins"):
        PluginHost(settings(tmp_path))

    records = plugin_records(caplog, name)
    assert [(r.levelno, r.getMessage()) for r in records] == [(
        logging.INFO,
        f"plugin {name} needs the package om_nowhere_{site.tag}: "
        f"pip install 'om_nowhere_{site.tag}'",
    )]


def test_a_plugin_whose_own_module_is_gone_is_still_an_error(
    tmp_path: Path, site: Site, caplog: pytest.LogCaptureFixture,
) -> None:
    name = site.install("gone", "")
    (site.root / f"{site.modules[-1]}.py").unlink()

    with caplog.at_level(logging.DEBUG, logger="ordermill.plugins"):
        PluginHost(settings(tmp_path))

    records = plugin_records(caplog, name)
    assert [record.levelno for record in records] == [logging.ERROR]
    assert "needs the package" not in records[0].getMessage()


def test_strict_plugins_still_stops_start_up_and_says_what_to_install(
    tmp_path: Path, site: Site,
) -> None:
    name = site.install("strict", f"import om_sdk_{site.tag}\n",
                        requires=(f"om-sdk-{site.tag}; extra == \"strict\"",))

    with pytest.raises(PluginLoadError) as failed:
        PluginHost(settings(tmp_path, ORDERMILL_STRICT_PLUGINS="1"))

    assert f"pip install '{name}[strict]'" in failed.value.message


def test_the_shipped_gateways_are_default_dependencies_and_load() -> None:
    requirements = importlib.metadata.requires("ordermill") or []
    plain = {requirement.split(";")[0].split(">")[0].strip().lower()
             for requirement in requirements if "extra ==" not in requirement}
    assert {"stripe", "paypal-server-sdk", "swagger-ui-bundle"} <= plain


def test_the_built_in_plugins_load_without_any_failure(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="ordermill.plugins"):
        host = PluginHost(settings(tmp_path))

    loaded = {info.name for info in host.plugin_infos()}
    assert {"payment_stripe", "payment_paypal", "fraud_maxmind"} <= loaded
    built_in = [failure for failure in host.failures if failure.distribution == "ordermill"]
    assert built_in == []
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
