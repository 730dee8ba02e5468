"""`python -m bench --smoke`: the benchmark suite runs end to end, so CI covers it.

The smoke sizes say nothing about speed (the speed targets are read from a full run, see the
README's Performance section); what this checks is that every section runs, every figure the
issue asks for is reported with a number and a target, and the correctness figures (no
oversell in the 8-way race, every outbox job done exactly once, no failed HTTP placement)
hold. PostgreSQL figures are required when the server is reachable, and always under CI=true
(the bench itself then fails without it).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ordermill.testing import in_ci

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("serve")]

PER_DB = [
    "SQL per placement ({db})", "SQL per accept ({db})",
    "list first page p95 ({db})", "list status=pending p95 ({db})",
    "list payment_status=paid p95 ({db})",
    "search exact number p95 ({db})", "search exact e-mail p95 ({db})",
    "search substring p95 ({db})", "admin order list p95 ({db})",
    "CSV export server peak RSS ({db})",
    "8-client placement p99 ({db})", "8-client orders/s ({db})", "8-client errors ({db})",
    "jobs not done exactly once ({db})",
]
ONCE = ["place ratio floor/ordermill", "accept ratio floor/ordermill"]
POSTGRES_ONLY = ["units sold of the last 100 (postgresql)", "units oversold (postgresql)",
                 "unexpected errors (postgresql)"]
MUST_HOLD = ["8-client errors ({db})", "jobs not done exactly once ({db})"]


def run_smoke(tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], dict[str, object]]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("ORDERMILL_") or k == "ORDERMILL_TEST_DATABASE_URL"}
    out = tmp_path / "bench.json"
    done = subprocess.run([sys.executable, "-m", "bench", "--smoke", "--profile", "--json",
                           str(out)], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=900)
    assert out.exists(), done.stderr[-3000:]
    return done, json.loads(out.read_text())


def test_bench_smoke_reports_every_figure_with_its_target(tmp_path: Path) -> None:
    done, result = run_smoke(tmp_path)
    assert done.returncode == 0, (result.get("errors"), result.get("skipped"),
                                  done.stderr[-3000:])
    assert result["errors"] == {}
    figures = {f["name"]: f for f in result["figures"]}  # type: ignore[union-attr]
    for figure in figures.values():
        assert isinstance(figure["value"], int | float) and not math.isnan(figure["value"]), \
            figure
        assert "target" in figure and "met" in figure and "ratio" in figure, figure
        if figure["op"] != "info":
            assert isinstance(figure["target"], int | float), figure
            assert figure["met"] in (True, False), figure
    postgres = "postgresql" not in result["skipped"]  # type: ignore[operator]
    if in_ci():
        assert postgres, result["skipped"]
    dbs = ["sqlite", "postgresql"] if postgres else ["sqlite"]
    required = ONCE + [name.format(db=db) for name in PER_DB for db in dbs]
    required += POSTGRES_ONLY if postgres else []
    for name in required:
        assert name in figures, (name, sorted(figures))
        assert figures[name]["op"] != "info" and figures[name]["target"] is not None, name
        assert name in done.stdout  # the printed table shows it too
    for name in [n.format(db=db) for n in MUST_HOLD for db in dbs] + POSTGRES_ONLY * postgres:
        assert figures[name]["met"] is True, figures[name]
    assert (tmp_path / "place.prof").stat().st_size > 0
    assert "placements in" in (tmp_path / "place.txt").read_text()
