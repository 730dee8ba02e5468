"""Where the test suite's time goes: a pytest plugin that logs each test's cost, and a report.

    PYTHONPATH=. .venv/bin/pytest -n auto --dist loadgroup -p bench.suite_times   # the log
    .venv/bin/python -m bench.suite_times [--top 40] [--by cpu|wall]   # reads it

For every test (set-up, call and tear-down together) one JSON line: wall seconds, the CPU
seconds of the test process, and the CPU of child processes it waited for (`ordermill`
commands, `serve` subprocesses, Chromium when its driver exits). The suite is CPU-bound on a
2-core machine (issue 11), so CPU, not wall, says what to make cheaper; PostgreSQL's own CPU is
not in it (its backends are the postmaster's children). The log goes to
$ORDERMILL_SUITE_TIMES (default /tmp/ordermill-suite-times), one file per xdist worker,
emptied when a run starts.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest

_log: IO[str] | None = None


def folder() -> Path:
    return Path(os.environ.get("ORDERMILL_SUITE_TIMES", "/tmp/ordermill-suite-times"))


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def pytest_configure(config: pytest.Config) -> None:
    global _log
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    folder().mkdir(parents=True, exist_ok=True)
    if worker is None:  # the controlling process (or a run without xdist) starts afresh
        for old in folder().glob("*.jsonl"):
            old.unlink()
    _log = (folder() / f"{worker or 'main'}.jsonl").open("a", encoding="utf-8")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    wall, cpu, children = time.perf_counter(), time.process_time(), _children_cpu()
    yield
    if _log is not None:
        _log.write(json.dumps({
            "id": item.nodeid, "worker": os.environ.get("PYTEST_XDIST_WORKER", "main"),
            "wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu,
            "children": _children_cpu() - children}) + "\n")
        _log.flush()


def read(where: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for path in sorted(where.glob("*.jsonl"))
            for line in path.read_text(encoding="utf-8").splitlines() if line]


def by_file(rows: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """{test file: {"tests", "wall", "cpu", "children"}}: an xdist group's name (`@browser`)
    and the parameters are part of the node id, not of the file."""
    files: dict[str, dict[str, float]] = defaultdict(
        lambda: {"tests": 0, "wall": 0.0, "cpu": 0.0, "children": 0.0})
    for row in rows:
        totals = files[row["id"].split("::", 1)[0]]
        totals["tests"] += 1
        for key in ("wall", "cpu", "children"):
            totals[key] += row[key]
    return dict(files)


def report(rows: list[dict[str, Any]], top: int = 40, by: str = "cpu") -> str:
    files = by_file(rows)

    def cost(item: tuple[str, dict[str, float]]) -> float:
        totals = item[1]
        return totals["wall"] if by == "wall" else totals["cpu"] + totals["children"]

    lines = [f"{len(rows)} tests: wall {sum(r['wall'] for r in rows):.0f} s summed over "
             f"workers, CPU {sum(r['cpu'] for r in rows):.0f} s in the test processes and "
             f"{sum(r['children'] for r in rows):.0f} s in the processes they started",
             f"{'wall s':>8} {'cpu s':>8} {'child s':>8} {'tests':>6}  file"]
    for name, totals in sorted(files.items(), key=cost, reverse=True)[:top]:
        lines.append(f"{totals['wall']:8.1f} {totals['cpu']:8.1f} {totals['children']:8.1f} "
                     f"{int(totals['tests']):6d}  {name}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--by", choices=["cpu", "wall"], default="cpu",
                        help="cpu: the test process's plus its children's (default)")
    parser.add_argument("--folder", type=Path, default=None)
    args = parser.parse_args()
    print(report(read(args.folder or folder()), args.top, args.by))


if __name__ == "__main__":
    main()
