"""The curl examples of docs/api.md, run for real against `ordermill serve --demo`.

The walkthrough blocks run in one bash session with `set -euo pipefail` and every curl made
to fail on an HTTP error, so an example that stops working fails this test; the error
examples must each answer the JSON error shape.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ordermill.testing import in_ci

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
DEMO_URL = "http://127.0.0.1:8000"

# outside CI a machine without curl or jq skips; under CI=true the examples must run
pytestmark = [pytest.mark.skipif(not (shutil.which("curl") and shutil.which("jq"))
                                 and not in_ci(), reason="the examples need curl and jq"),
              pytest.mark.slow, pytest.mark.xdist_group("serve")]


def blocks(between: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    section = text.split(f"<!-- {between}:start -->")[1].split(f"<!-- {between}:end -->")[0]
    return "\n".join(re.findall(r"```bash\n(.*?)```", section, flags=re.DOTALL))


def test_documented_curl_examples_work_against_the_demo(
        tmp_path: Path, cli_environment: Callable[[Path], dict[str, str]],
        ordermill_serving: Callable[..., Any], ordermill_bin_dir: Path) -> None:
    env = cli_environment(tmp_path)
    env["PATH"] = f"{ordermill_bin_dir}:{env.get('PATH', '')}"
    walkthrough = blocks("examples")
    errors = blocks("errors")
    assert "curl" in walkthrough and "curl" in errors
    with ordermill_serving(env, "--demo") as server:
        script = (
            "set -euo pipefail\n"
            "curl() { command curl --fail-with-body \"$@\"; }\n"
            + walkthrough
            + "\nunset -f curl\nset +e\necho '=== errors ==='\n"
            + errors
        ).replace(DEMO_URL, server.url)
        done = subprocess.run(["bash", "-c", script], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=600, check=False)
        assert done.returncode == 0 and "=== errors ===" in done.stdout, (
            f"a documented example failed\n--- stdout ---\n{done.stdout[-4000:]}\n"
            f"--- stderr ---\n{done.stderr[-4000:]}\n--- server ---\n{server.output()[-4000:]}")
    answers = done.stdout.split("=== errors ===")[1]
    for code in ("validation_error", "invalid_input", "order_not_found",
                 "illegal_transition", "stale_version", "unauthenticated"):
        assert code in answers, (code, answers)
    assert "internal_error" not in done.stdout
