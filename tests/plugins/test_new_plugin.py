"""`ordermill new-plugin` writes a distribution that installs and passes its own tests (issue
13, acceptance 3): generated in a temporary folder, pip-installed into a throw-away folder
that only a subprocess puts on its path (so this suite's environment never keeps it)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from ordermill.cli import main


def ordermill(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).parent / "ordermill"
    command = [str(script)] if script.exists() else [
        sys.executable, "-c", "from ordermill.cli import main; main()"]
    return subprocess.run(command + list(args), capture_output=True, text=True, cwd=cwd,
                          timeout=60, check=False)


def install_and_test(tmp_path: Path, *names: str) -> dict[str, str]:
    """pip-install the generated distributions, run each one's tests; {name: pytest output}."""
    site = tmp_path / "site-packages"
    sources = [str(tmp_path / ("ordermill-" + name.replace("_", "-"))) for name in names]
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-input",
         "--no-build-isolation", "--disable-pip-version-check", "--target", str(site),
         *sources], capture_output=True, text=True, timeout=300, check=False)
    assert installed.returncode == 0, installed.stderr
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("ORDERMILL_LOAD", "ORDERMILL_BLOCK", "PYTEST_"))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH")]))
    outputs = {}
    for name, source in zip(names, sources, strict=True):
        ran = subprocess.run(
            [sys.executable, "-m", "pytest", "-v", "-p", "no:randomly", "-p",
             "no:cacheprovider"], capture_output=True, text=True, env=env, cwd=source,
            timeout=600, check=False)
        assert ran.returncode == 0, ran.stdout + ran.stderr
        outputs[name] = ran.stdout
    return outputs


@pytest.mark.slow
def test_a_generated_gateway_installs_and_passes_its_tests_and_the_conformance_suite(
        tmp_path: Path) -> None:
    made = ordermill("new-plugin", "demo_gateway", "--gateway", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    root = tmp_path / "ordermill-demo-gateway"
    assert {path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()} \
        == {"pyproject.toml", "README.md", "demo_gateway/__init__.py",
            "tests/test_demo_gateway.py"}
    assert 'demo_gateway = "demo_gateway"' in (root / "pyproject.toml").read_text()
    output = install_and_test(tmp_path, "demo_gateway")["demo_gateway"]
    conformance = re.findall(r"TestConformance::(test_\w+)\[(sqlite|postgresql)\] PASSED",
                             output)
    assert len({test for test, _db in conformance}) == 7, output
    assert "test_start_payment_answers_the_redirect[sqlite] PASSED" in output
    assert re.search(r"\b16 passed\b", output), output


@pytest.mark.slow
def test_a_generated_admin_panel_and_plain_plugin_pass_their_tests(tmp_path: Path) -> None:
    assert ordermill("new-plugin", "demo_panel", "--admin-panel", cwd=tmp_path).returncode == 0
    assert ordermill("new-plugin", "demo_plain", cwd=tmp_path).returncode == 0
    assert (tmp_path / "ordermill-demo-panel/demo_panel/templates/panel.html").exists()
    outputs = install_and_test(tmp_path, "demo_panel", "demo_plain")
    assert "test_the_panel_shows_on_the_order_page[sqlite] PASSED" in outputs["demo_panel"]
    assert "test_a_placed_order_gets_the_note[sqlite] PASSED" in outputs["demo_plain"]


@pytest.mark.slow
def test_a_generated_tax_plugin_passes_its_tests(tmp_path: Path) -> None:
    made = ordermill("new-plugin", "demo_tax", "--tax", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    module = (tmp_path / "ordermill-demo-tax/demo_tax/__init__.py").read_text()
    assert "def price_adjustments(order, stage, adjustments, ctx)" in module
    output = install_and_test(tmp_path, "demo_tax")["demo_tax"]
    assert "test_every_line_is_taxed_and_the_total_includes_it[sqlite] PASSED" in output
    assert "test_the_dry_run_shows_the_tax[postgresql] PASSED" in output


def test_new_plugin_refuses_a_bad_name_and_an_existing_folder(tmp_path: Path) -> None:
    runner = CliRunner()
    bad = runner.invoke(main, ["new-plugin", "Demo-Gateway", "--directory", str(tmp_path)])
    assert bad.exit_code == 2 and "lower-case letters" in bad.output
    assert list(tmp_path.iterdir()) == []
    assert runner.invoke(main, ["new-plugin", "demo", "--directory",
                                str(tmp_path)]).exit_code == 0
    again = runner.invoke(main, ["new-plugin", "demo", "--directory", str(tmp_path)])
    assert again.exit_code == 1 and "already exists" in again.output
