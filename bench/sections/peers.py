"""Section `peers`: the raw floor, ordermill and django-oscar on the same workload, one run.

Each peer runs in its own process (so its peak RSS is its own), on SQLite in WAL +
synchronous=NORMAL, and the rounds are interleaved (floor, ordermill, Oscar, floor, ...) so
machine noise hits all three alike; each figure is the median over the rounds. Oscar runs in
bench/peers/oscar/.venv, made here from the pinned requirements-lock.txt on first use.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.common import BENCH, ROOT, Figure, Knobs, log, median

OSCAR = BENCH / "peers" / "oscar"
SECTION = "peers"


def _json_of(command: list[str], cwd: Path, timeout: float) -> dict[str, Any]:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:3])} failed ({done.returncode}): "
                           f"{done.stderr.strip()[-800:]}")
    text = done.stdout.strip()  # Oscar prints indented JSON, the others one line
    return dict(json.loads(text[text.index("{"):]))


def oscar_python() -> Path:
    """The Oscar venv's python, (re)built when requirements-lock.txt changed."""
    venv = OSCAR / ".venv"
    python = venv / "bin" / "python"
    lock = OSCAR / "requirements-lock.txt"
    stamp = venv / "requirements.sha256"
    want = hashlib.sha256(lock.read_bytes()).hexdigest()
    if python.exists() and stamp.exists() and stamp.read_text().strip() == want:
        return python
    log("creating the Oscar virtualenv from bench/peers/oscar/requirements-lock.txt")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "-r", str(lock)], check=True,
                   timeout=900)
    stamp.write_text(want + "\n")
    return python


def run_floor(orders: int) -> dict[str, Any]:
    return _json_of([sys.executable, str(BENCH / "peers" / "floor.py"), "--orders", str(orders),
                     "--wal"], ROOT, 600)


def run_ordermill(orders: int) -> dict[str, Any]:
    return _json_of([sys.executable, "-m", "bench.peers.ordermill_place", "--orders",
                     str(orders)], ROOT, 1800)


def run_oscar(python: Path, orders: int) -> dict[str, Any]:
    raw = _json_of([str(python), "bench_oscar.py", f"ORDERS={orders}", "SQLITE=wal"],
                   OSCAR, 3600)
    statements = raw.get("sql_probe", {}).get("sql_per_placement")
    return {"orders_per_s": raw["place"]["orders_per_s"],
            "p50_ms": raw["place"]["latency_ms"]["p50"],
            "transitions_per_s": raw["transition"]["transitions_per_s"],
            "statements_per_placement": statements,
            "peak_rss_mib": raw["peak_rss_mib"], "checks_ok": raw["checks"]["ok"],
            "versions": raw.get("versions")}


def run(knobs: Knobs) -> list[Figure]:
    orders = 50 if knobs.smoke else knobs.orders
    rounds = 1 if knobs.smoke else knobs.rounds
    python = oscar_python() if knobs.oscar else None
    runs: dict[str, list[dict[str, Any]]] = {"floor": [], "ordermill": [], "oscar": []}
    for r in range(1, rounds + 1):
        log(f"peers round {r}/{rounds}: floor, ordermill"
            + (", django-oscar" if python else "") + f" ({orders} orders each)")
        runs["floor"].append(run_floor(orders))
        runs["ordermill"].append(run_ordermill(orders))
        if python is not None:
            runs["oscar"].append(run_oscar(python, orders))
    figures: list[Figure] = []
    where = f"SQLite WAL+NORMAL, {orders} orders x 3 lines, median of {rounds} round(s)"
    labels = {"floor": "floor (SQLAlchemy Core)", "ordermill": "ordermill",
              "oscar": "django-oscar 4.2.1"}
    for peer, results in runs.items():
        if not results:
            continue

        def med(key: str, results: list[dict[str, Any]] = results) -> float:
            return round(float(median([float(x[key]) for x in results
                                       if x.get(key) is not None])), 1)
        label = labels[peer]
        figures += [
            Figure(SECTION, f"{label}: orders placed/s", med("orders_per_s"), "/s", note=where),
            Figure(SECTION, f"{label}: place p50", med("p50_ms"), "ms"),
            Figure(SECTION, f"{label}: status changes/s", med("transitions_per_s"), "/s"),
            Figure(SECTION, f"{label}: SQL per order", med("statements_per_placement"), "stmts"),
            Figure(SECTION, f"{label}: peak RSS", med("peak_rss_mib"), "MiB"),
        ]
    floor_place = median([x["orders_per_s"] for x in runs["floor"]])
    om_place = median([x["orders_per_s"] for x in runs["ordermill"]])
    floor_accept = median([x["transitions_per_s"] for x in runs["floor"]])
    om_accept = median([x["transitions_per_s"] for x in runs["ordermill"]])
    figures += [
        Figure(SECTION, "place ratio floor/ordermill", round(floor_place / om_place, 2), "x",
               "<=", 2.0, "moonshot 1.5"),
        Figure(SECTION, "accept ratio floor/ordermill", round(floor_accept / om_accept, 2), "x",
               "<=", 3.0),
    ]
    if runs["oscar"]:
        oscar_place = median([x["orders_per_s"] for x in runs["oscar"]])
        figures.append(Figure(SECTION, "place ratio ordermill/oscar",
                              round(om_place / oscar_place, 1), "x", ">=", 18.0,
                              "follows from floor/ordermill <= 2.0"))
        if not all(x["checks_ok"] for x in runs["oscar"]):
            figures.append(Figure(SECTION, "django-oscar: self-checks failed", 1, "runs", "==",
                                  0))
    return figures
