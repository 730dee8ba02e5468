"""`python -m bench.inprocess`: the in-process POST /api/v1/orders measurement runs and says
what a request costs (speed is not checked here: the figures are read on a quiet machine)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # builds the demo shop and times requests

ROOT = Path(__file__).resolve().parent.parent


def test_inprocess_measure_reports_cost_per_request(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERMILL_")}
    profile = tmp_path / "post.prof"
    done = subprocess.run([sys.executable, "-m", "bench.inprocess", "--db", "sqlite", "-n", "3",
                           "--profile", str(profile)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    found = re.search(r"([\d.]+) SQL statements, (\d+) Python calls per request", done.stdout)
    assert found is not None, done.stdout
    assert float(found.group(1)) > 0 and int(found.group(2)) > 0
    assert profile.stat().st_size > 0
