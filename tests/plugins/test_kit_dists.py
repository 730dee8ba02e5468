"""Plugin distributions tested with the kit alone, really installed (issue 13, acceptance 1
and 2).

tests/plugins/kit_dists holds three distributions: AcmePay (the docs' kind of gateway, at
most 60 lines) and two plugins whose history tests break each other when both are loaded
(kit_vat and kit_pickup both add a note to every order). They are pip-installed into a
throw-away folder that only a subprocess puts on its path, and their own tests run there in
one pytest session: they pass because each module's `ordermill_plugins` marker loads only its
plugin. The same tests with `--ordermill-all-plugins` fail, which proves the two plugins do
break each other and the marker is what keeps them apart.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # pip installs and a pytest of its own

DISTS = Path(__file__).resolve().parent / "kit_dists"
NAMES = ("acmepay", "kit_vat", "kit_pickup")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(site folder with the three distributions, folder with copies of their sources)."""
    work = tmp_path_factory.mktemp("kit-dists")
    sources = work / "sources"
    for name in NAMES:
        shutil.copytree(DISTS / name, sources / name)
    site = work / "site-packages"
    completed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-input", "--no-build-isolation",
         "--disable-pip-version-check", "--target", str(site),
         *(str(sources / name) for name in NAMES)],
        capture_output=True, text=True, timeout=300, check=False)
    if completed.returncode != 0:
        pytest.fail(f"pip could not install the kit distributions:\n{completed.stderr}")
    return site, sources


def run_pytest(installed: tuple[Path, Path], tests: list[str],
               *extra: str) -> subprocess.CompletedProcess[str]:
    site, sources = installed
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("ORDERMILL_LOAD", "ORDERMILL_BLOCK", "PYTEST_"))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider",
         *extra, *tests], capture_output=True, text=True, env=env, cwd=sources,
        timeout=600, check=False)


def test_acmepay_is_small_and_its_tests_use_only_the_kit() -> None:
    source = (DISTS / "acmepay" / "acmepay.py").read_text(encoding="utf-8")
    assert len(source.splitlines()) <= 60
    tests = (DISTS / "acmepay" / "test_acmepay.py").read_text(encoding="utf-8")
    assert "create_app" not in tests and "create_token" not in tests
    assert not re.search(r"^from ordermill|^import ordermill", tests, re.M)


def test_the_distributions_pass_their_own_tests_in_one_session(
        installed: tuple[Path, Path]) -> None:
    tests = ["acmepay/test_acmepay.py", "kit_vat/test_kit_vat.py",
             "kit_pickup/test_kit_pickup.py"]
    result = run_pytest(installed, tests)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"\b6 passed\b", result.stdout), result.stdout

    together = run_pytest(installed, tests[1:], "--ordermill-all-plugins")
    assert together.returncode == 1, together.stdout
    assert re.search(r"\b4 failed\b", together.stdout), together.stdout
    assert "Prices include 19% VAT." in together.stdout
    assert "Collect at the desk." in together.stdout
