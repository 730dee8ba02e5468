"""`--dist loadgroup` keeps an xdist_group on one worker (the README's test command relies on
it: each browser module starts one demo server, and the browser tests do not run in parallel).

pytest 9.2 broke this silently with pytest-xdist 3.8 (pyproject pins pytest below 9.2): the
group suffix never reached the test ids and the scheduler spread the group's tests over the
workers. This runs a small suite the way the README does and looks where each test ran.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

GROUPED = '''
import json, os, pytest

pytestmark = pytest.mark.xdist_group("together")

@pytest.mark.parametrize("n", range(6))
def test_grouped(request, n):
    with open(os.environ["WHERE_FILE"], "a") as out:
        out.write(json.dumps([request.node.nodeid, os.environ["PYTEST_XDIST_WORKER"]]) + "\\n")
'''
LOOSE = '''
import time

def test_loose_one():
    time.sleep(0.2)

def test_loose_two():
    time.sleep(0.2)
'''


def test_an_xdist_group_runs_on_one_worker(tmp_path: Path) -> None:
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "test_grouped.py").write_text(GROUPED)
    (suite / "test_loose.py").write_text(LOOSE)
    where = tmp_path / "where.jsonl"
    env = {**os.environ, "WHERE_FILE": str(where)}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-n", "2", "--dist", "loadgroup",
         "-p", "no:cacheprovider", "-p", "no:randomly", str(suite)],
        cwd=suite, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    ran = [json.loads(line) for line in where.read_text().splitlines()]
    assert len(ran) == 6
    assert all(nodeid.endswith("@together") for nodeid, _worker in ran), ran
    assert len({worker for _nodeid, worker in ran}) == 1, ran
