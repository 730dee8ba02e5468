"""`python -m bench.ab`: the place and accept actions of two versions, run alternately."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ordermill.testing import in_ci

ROOT = Path(__file__).resolve().parent.parent


def _run(orders_per_s: float, transitions_per_s: float) -> dict[str, float]:
    return {"orders_per_s": orders_per_s, "transitions_per_s": transitions_per_s,
            "statements_per_placement": 12, "statements_per_accept": 4}


def test_the_summary_gives_medians_and_the_change_against_the_first_side(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(ROOT))  # bench/ is the repository's, not a package
    from bench.ab import summary

    lines = summary({"old": [_run(200, 500), _run(220, 600), _run(210, 550)],
                     "tree": [_run(230, 800), _run(210, 820), _run(220, 810)]})
    assert lines[0].startswith("median old: orders_per_s 210, transitions_per_s 550")
    assert lines[1].startswith("median tree: orders_per_s 220, transitions_per_s 810")
    assert lines[2:] == ["orders_per_s: tree vs old +4.8 %",
                         "transitions_per_s: tree vs old +47.3 %"]


@pytest.mark.slow
def test_a_revision_against_the_working_tree_runs_both_and_cleans_up() -> None:
    if not (ROOT / ".git").exists():
        if in_ci():
            pytest.fail("CI=true runs the tests in a git clone; bench.ab needs one.")
        pytest.skip("not a git checkout: bench.ab checks revisions out with git worktree")
    done = subprocess.run([sys.executable, "-m", "bench.ab", "HEAD", "--runs", "1",
                           "--orders", "10"], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    out = done.stdout.splitlines()
    assert [line.split(":")[0] for line in out[:2]] == ["round 1 HEAD", "round 1 tree"]
    assert "statements_per_accept" in out[0]
    assert out[-1].startswith("transitions_per_s: tree vs HEAD")
    worktrees = subprocess.run(["git", "-C", str(ROOT), "worktree", "list"],
                               capture_output=True, text=True, check=True).stdout
    assert "ordermill-ab-" not in worktrees
