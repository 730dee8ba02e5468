"""ordermill's benchmark suite: `python -m bench` runs every section and prints one table.

    python -m bench                       # everything (about 30-60 min: 100k orders x 2 DBs)
    python -m bench --smoke               # tiny sizes, no Oscar, under a minute (tests run it)
    python -m bench --only peers,statements --rounds 5
    python -m bench --profile             # also a cProfile of the place and accept actions

Sections: peers (floor vs ordermill vs django-oscar), statements (SQL per action, per
plugin), scale (100k-order HTTP reads and CSV export), http (8-client placement), contention
(8 threads, last 100 units, PostgreSQL), outbox (2 workers), profile. Every figure is printed
with its target, its ratio to the target and met/missed; the JSON (--json, default
bench/results/bench-<time>.json, also copied to bench/results/latest.json) holds the same.
The exit code is 1 when a section failed to run (a missed target is a result, not a failure).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sqlite3
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import BENCH, DEFAULT_SERVE, PG_URL, Figure, Knobs, log, postgres_problem

SECTIONS = ("peers", "statements", "scale", "http", "contention", "outbox", "profile")
DEFAULT = SECTIONS[:-1]  # profile only on --profile


def runners() -> dict[str, Callable[[Knobs], list[Figure]]]:
    """Imported late: `--help` and the CLI stay quick, and a section's imports are its own."""
    from bench.sections import concurrency, peers, profile, scale, statements
    return {"peers": peers.run, "statements": statements.run, "scale+http": scale.run,
            "scale": lambda k: scale.run(k, ("scale",)), "http": scale.http_only,
            "contention": concurrency.contention, "outbox": concurrency.outbox,
            "profile": profile.run}


def machine() -> dict[str, Any]:
    import sqlalchemy

    info: dict[str, Any] = {
        "cpus": os.cpu_count(), "python": platform.python_version(),
        "platform": platform.platform(), "sqlite": sqlite3.sqlite_version,
        "sqlalchemy": sqlalchemy.__version__, "load_avg_at_start": os.getloadavg(),
    }
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            info["cpu"] = next((line.split(":", 1)[1].strip() for line in cpuinfo
                                if line.startswith("model name")), None)
    except OSError:
        pass
    if postgres_problem() is None:
        from sqlalchemy import create_engine, text
        engine = create_engine(PG_URL)
        with engine.connect() as connection:
            info["postgresql"] = connection.execute(text("SHOW server_version")).scalar()
        engine.dispose()
    return info


def parse(argv: list[str] | None) -> tuple[argparse.Namespace, Knobs, list[str]]:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, no Oscar (for CI)")
    ap.add_argument("--only", help=f"comma-separated sections of: {', '.join(SECTIONS)}")
    ap.add_argument("--orders", type=int, default=2000, help="orders per peers round (2000)")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved peers rounds (3)")
    ap.add_argument("--scale-orders", type=int, default=100_000,
                    help="orders in the scale database (100000)")
    ap.add_argument("--scale-keep", type=Path, metavar="DIR",
                    help="keep the scale databases (SQLite file and PostgreSQL schema named "
                         "after DIR's files) and reuse them on the next run with the same "
                         "--scale-orders: migrated to the newest schema, not seeded again")
    ap.add_argument("--http-seconds", type=float, default=20.0,
                    help="length of the 8-client placement run (20)")
    ap.add_argument("--serve", default=DEFAULT_SERVE, metavar="ARGS",
                    help=f"options of the `ordermill serve` measured by scale and http "
                         f"({DEFAULT_SERVE!r})")
    ap.add_argument("--db", choices=("sqlite", "postgresql"), action="append",
                    help="only this database (repeatable; default both)")
    ap.add_argument("--no-oscar", action="store_true", help="leave django-oscar out")
    ap.add_argument("--profile", action="store_true", help="add the profile section")
    ap.add_argument("--json", type=Path, help="where to write the JSON results")
    ap.add_argument("--table", type=Path, action="append", metavar="JSON",
                    help="print the table of saved results (repeatable: runs are joined) "
                         "and run nothing")
    a = ap.parse_args(argv)
    wanted = [s.strip() for s in a.only.split(",")] if a.only else list(DEFAULT)
    if a.profile and "profile" not in wanted:
        wanted.append("profile")
    unknown = [s for s in wanted if s not in SECTIONS]
    if unknown:
        ap.error(f"unknown section(s) {', '.join(unknown)}; known: {', '.join(SECTIONS)}")
    knobs = Knobs(smoke=a.smoke, orders=a.orders, rounds=a.rounds,
                  scale_orders=a.scale_orders, http_seconds=a.http_seconds,
                  databases=tuple(a.db or ("sqlite", "postgresql")),
                  oscar=not (a.smoke or a.no_oscar), profile=a.profile,
                  scale_keep=a.scale_keep, serve_args=tuple(a.serve.split()))
    return a, knobs, wanted


def fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and value.is_integer() and abs(value) >= 100:
        return str(int(value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def table(figures: list[Figure]) -> str:
    rows = ["| section | figure | value | target | ratio | met |",
            "| --- | --- | --- | --- | --- | --- |"]
    for f in figures:
        target = "-" if f.met is None else f"{f.op} {fmt(f.target)} {f.unit}".strip()
        met = {True: "met", False: "**MISSED**", None: ""}[f.met]
        value = f"{fmt(f.value)} {f.unit}".strip()
        note = f" ({f.note})" if f.note else ""
        rows.append(f"| {f.section} | {f.name}{note} | {value} | {target} | "
                    f"{fmt(f.ratio) if f.met is not None else '-'} | {met} |")
    return "\n".join(rows)


def saved_table(paths: list[Path]) -> str:
    """The table of earlier runs' JSON files, joined in the order given."""
    figures: list[Figure] = []
    for path in paths:
        for f in json.loads(path.read_text())["figures"]:
            figures.append(Figure(f["section"], f["name"], f["value"], f["unit"], f["op"],
                                  f["target"], f["note"]))
    return table(figures)


def main(argv: list[str] | None = None) -> int:
    a, knobs, wanted = parse(argv)
    if a.table:
        print(saved_table(a.table))
        return 0
    started = dt.datetime.now(dt.UTC)
    stamp = started.strftime("%Y%m%d-%H%M%S")
    knobs.out_dir = (a.json.parent if a.json else BENCH / "results")
    out = a.json or knobs.out_dir / f"bench-{stamp}.json"
    skipped: dict[str, str] = {}
    if "postgresql" in knobs.databases and (problem := postgres_problem()):
        ci = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}
        if ci:  # CI must prove both databases: an unreachable server is a failure
            skipped["postgresql"] = f"FAILED under CI=true: {problem}"
        else:
            skipped["postgresql"] = f"not reachable, PostgreSQL figures left out: {problem}"
        knobs.databases = tuple(d for d in knobs.databases if d != "postgresql")
        if "contention" in wanted:
            wanted.remove("contention")
            skipped["contention"] = "needs PostgreSQL"
    jobs = list(wanted)
    if "scale" in jobs and "http" in jobs:  # one seeded server serves both
        jobs[jobs.index("scale")] = "scale+http"
        jobs.remove("http")
    run_of = runners()
    figures: list[Figure] = []
    errors: dict[str, str] = {}
    timings: dict[str, float] = {}
    info = machine()
    t0 = time.perf_counter()
    for job in jobs:
        t = time.perf_counter()
        try:
            figures += run_of[job](knobs)
        except Exception as error:
            errors[job] = f"{type(error).__name__}: {error}"
            log(f"section {job} failed:\n{traceback.format_exc()}")
        timings[job] = round(time.perf_counter() - t, 1)
        log(f"section {job}: {timings[job]} s")
    result = {
        "started": started.isoformat(timespec="seconds"), "smoke": knobs.smoke,
        "command": "python -m bench " + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": {**info, "load_avg_at_end": os.getloadavg()},
        "sections": wanted, "seconds": timings,
        "elapsed_s": round(time.perf_counter() - t0, 1),
        "figures": [f.to_dict() for f in figures], "errors": errors, "skipped": skipped,
        "missed": [f.name for f in figures if f.met is False],
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    if a.json is None:
        (out.parent / "latest.json").write_text(out.read_text())
    print(table(figures))
    for name, why in {**skipped, **errors}.items():
        print(f"\n{name}: {why}")
    print(f"\n{len(figures)} figures, {sum(f.met is True for f in figures)} targets met, "
          f"{len(result['missed'])} missed; {result['elapsed_s']} s; JSON in {out}")
    failed = bool(errors) or any(v.startswith("FAILED") for v in skipped.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
