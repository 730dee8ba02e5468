"""A/B of the place and accept actions between two versions of the code, in one sitting.

This VM's speed moves by 10-40 % between runs and not evenly across workloads, more than
most single changes gain, so a change is judged by running the ordermill peer of the
`peers` section (`bench.peers.ordermill_place`) on both versions alternately:

    python -m bench.ab REV [--runs 3] [--orders 2000]   # REV (a git revision) vs this tree
    python -m bench.ab REV_A REV_B                      # two revisions

A revision is checked out in a temporary git worktree and imported from there (its
`ordermill` and `bench` come first on PYTHONPATH), in a fresh process per run; the working
tree is used as it is, uncommitted changes included. Prints each run and the medians; the
exit code is 1 when a side fails.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from bench.common import ROOT

FIGURES = ("orders_per_s", "transitions_per_s", "statements_per_placement",
           "statements_per_accept")


@contextmanager
def checkout(revision: str) -> Iterator[Path]:
    """`revision` in a temporary worktree of this repository, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="ordermill-ab-") as folder:
        tree = Path(folder) / "tree"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q",
                        str(tree), revision], check=True)
        try:
            yield tree
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                            str(tree)], check=False)


def measure(tree: Path, orders: int) -> dict[str, Any]:
    """One run of the ordermill peer with `tree`'s code, in its own process."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run([sys.executable, "-m", "bench.peers.ordermill_place", "--orders",
                           str(orders)], cwd=tree, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"the run in {tree} failed:\n{done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def compare(trees: dict[str, Path], runs: int, orders: int) -> dict[str, list[dict[str, Any]]]:
    """`runs` rounds, each running every side once, in turn."""
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in trees}
    for round_number in range(1, runs + 1):
        for name, tree in trees.items():
            result = measure(tree, orders)
            results[name].append(result)
            print(f"round {round_number} {name}: " + ", ".join(
                f"{figure} {result[figure]}" for figure in FIGURES), flush=True)
    return results


def summary(results: dict[str, list[dict[str, Any]]]) -> list[str]:
    """Medians per side, and the last side's change against the first in percent."""
    names = list(results)
    medians = {name: {figure: statistics.median(run[figure] for run in runs)
                      for figure in FIGURES} for name, runs in results.items()}
    lines = [f"median {name}: " + ", ".join(f"{figure} {value:g}" for figure, value
                                           in medians[name].items()) for name in names]
    first, last = medians[names[0]], medians[names[-1]]
    for figure in ("orders_per_s", "transitions_per_s"):
        change = (last[figure] / first[figure] - 1) * 100 if first[figure] else 0.0
        lines.append(f"{figure}: {names[-1]} vs {names[0]} {change:+.1f} %")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("revisions", nargs="+", metavar="REV",
                        help="one revision (against this tree) or two")
    parser.add_argument("--runs", type=int, default=3, help="rounds (3)")
    parser.add_argument("--orders", type=int, default=2000, help="orders per run (2000)")
    args = parser.parse_args(argv)
    if len(args.revisions) > 2:
        parser.error("give one revision (compared with this tree) or two")
    with ExitStack() as stack:
        trees = {revision: stack.enter_context(checkout(revision))
                 for revision in args.revisions}
        if len(args.revisions) == 1:
            trees["tree"] = ROOT
        try:
            results = compare(trees, args.runs, args.orders)
        except RuntimeError as error:
            print(error, file=sys.stderr)
            return 1
    print("\n".join(summary(results)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
