"""bench/suite_times.py: the plugin logs one line per test, and the report ranks the files
by the CPU they cost, their children's included."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # runs pytest in a subprocess

ROOT = Path(__file__).resolve().parent.parent

TESTS = '''
import subprocess, sys

def test_spends_cpu():
    sum(i * i for i in range(300_000))

def test_starts_a_process():
    subprocess.run([sys.executable, "-c", "sum(i * i for i in range(3_000_000))"], check=True)
'''


def test_the_plugin_logs_each_test_and_the_report_ranks_files(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(ROOT))  # bench/ is the repository's, not a package
    from bench import suite_times

    (tmp_path / "test_sample.py").write_text(TESTS, encoding="utf-8")
    log = tmp_path / "log"
    env = {**os.environ, "ORDERMILL_SUITE_TIMES": str(log),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    ran = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "bench.suite_times",
                          "-p", "no:randomly", "-p", "no:cacheprovider", "-p", "no:xdist",
                          str(tmp_path / "test_sample.py")],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
                         check=False)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    rows = suite_times.read(log)
    assert [row["id"].split("::")[1] for row in rows] == ["test_spends_cpu",
                                                           "test_starts_a_process"]
    spends, starts = rows
    assert spends["cpu"] > 0 and spends["children"] == 0
    assert starts["children"] > 0.05  # the child's CPU, counted once it was waited for
    assert all(row["wall"] > 0 for row in rows)
    files = suite_times.by_file(rows)
    assert list(files) == ["test_sample.py"] and files["test_sample.py"]["tests"] == 2
    text = suite_times.report(rows)
    assert "2 tests" in text and text.splitlines()[-1].endswith("test_sample.py")
