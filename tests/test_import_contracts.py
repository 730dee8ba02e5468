"""The import-linter contracts of pyproject.toml hold: the host imports no plugin, and plugins
import only ordermill.api, ordermill.hookspecs and their own package (DESIGN.md's arrows).

`lint-imports` is run as a user would run it, so a broken contract fails here with its own
report of the offending import chains.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "ordermill"
NOT_PACKAGES = {"migrations", "templates", "static", "translations"}  # data, scripts, revisions


def lint_imports() -> str:
    script = Path(sys.executable).with_name("lint-imports")
    found = str(script) if script.exists() else shutil.which("lint-imports")
    assert found, "lint-imports is missing: install the dev extra (pip install -e '.[dev]')"
    return found


def contract_names() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return [c["name"] for c in config["tool"]["importlinter"]["contracts"]]


def test_import_contracts_are_kept() -> None:
    run = subprocess.run([lint_imports(), "--no-cache"], cwd=ROOT, capture_output=True,
                         text=True, timeout=240)
    report = run.stdout + run.stderr
    assert run.returncode == 0, f"lint-imports failed:\n{report}"
    names = contract_names()
    assert len(names) >= 4
    flat = " ".join(report.split())  # rich wraps long contract names
    for name in names:
        assert f"{name} KEPT" in flat, f"contract {name!r} was not reported kept:\n{report}"


def test_the_contracts_see_every_package() -> None:
    """A directory of modules without __init__.py is a namespace package, which import-linter
    does not see at all (ordermill/core was one): every such directory must be a package."""
    graph = grimp.build_graph("ordermill", cache_dir=None)
    missing = []
    for directory in sorted({path.parent for path in PACKAGE.rglob("*.py")}):
        parts = directory.relative_to(PACKAGE.parent).parts
        if NOT_PACKAGES & set(parts) or "__pycache__" in parts:
            continue
        if ".".join(parts) not in graph.modules:
            missing.append(".".join(parts))
    assert not missing, f"add an __init__.py to: {', '.join(missing)}"
