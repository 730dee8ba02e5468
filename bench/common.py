"""What every section shares: the Figure record, percentiles, databases and the run's knobs.

A section returns Figures; the runner prints them in one table and writes them as JSON, so
every number is shown beside its target (issue 20) and nothing is reported without one.
"""

from __future__ import annotations

import math
import os
import resource
import statistics
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PG_URL = os.environ.get("ORDERMILL_BENCH_PG_URL",
                        os.environ.get("ORDERMILL_TEST_DATABASE_URL",
                                       "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
BENCH_SECRET = "bench-only-secret-key-0123456789abcdef-not-for-shops"
OPS = {"<=": lambda v, t: v <= t, "<": lambda v, t: v < t, ">=": lambda v, t: v >= t,
       ">": lambda v, t: v > t, "==": lambda v, t: v == t}


@dataclass
class Figure:
    """One measured number. `op` and `target` make it a target (met or missed); a figure
    without a target is context (e.g. Oscar's own speed) and says so with op "info"."""

    section: str
    name: str
    value: float | None
    unit: str
    op: str = "info"
    target: float | None = None
    note: str = ""

    @property
    def met(self) -> bool | None:
        if self.op == "info" or self.target is None:
            return None
        if self.value is None or (isinstance(self.value, float) and math.isnan(self.value)):
            return False
        return bool(OPS[self.op](self.value, self.target))

    @property
    def ratio(self) -> float | None:
        """value / target: <= 1 is good for an upper bound, >= 1 for a lower bound."""
        if self.target in (None, 0) or self.value is None:
            return None
        return round(self.value / self.target, 3)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "met": self.met, "ratio": self.ratio}


# How the scale and http sections run the server: a process per core of this 2-core machine,
# one request at a time each (as gunicorn's default sync workers do): placements are CPU-bound,
# and threads of one process only share its core (8 clients measured on SQLite: 2 x 1 thread
# 173-238 orders/s, p99 65-99 ms; 2 x 2 threads 133-170/s, p99 126-170 ms; README).
DEFAULT_SERVE = "--processes 2 --threads 1"


@dataclass
class Knobs:
    """The command line, as the sections read it."""

    smoke: bool = False
    orders: int = 2000
    rounds: int = 3
    scale_orders: int = 100_000
    http_seconds: float = 20.0
    databases: Sequence[str] = ("sqlite", "postgresql")
    oscar: bool = True
    profile: bool = False
    # where the scale section keeps its seeded databases between runs (None: seed afresh)
    scale_keep: Path | None = None
    # the `ordermill serve` options of the scale and http sections
    serve_args: Sequence[str] = tuple(DEFAULT_SERVE.split())
    out_dir: Path = field(default_factory=lambda: BENCH / "results")


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of unsorted values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def postgres_problem(url: str = PG_URL) -> str | None:
    """None when PostgreSQL answers at `url`, else why not."""
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as error:
        return f"{type(error).__name__}: {error}".splitlines()[0]
    return None


@contextmanager
def database(kind: str, workdir: Path, name: str = "bench") -> Iterator[str]:
    """A fresh, empty database URL: a SQLite file in `workdir`, or a new PostgreSQL schema
    (dropped afterwards) reached through the search_path, so runs never see each other."""
    if kind == "sqlite":
        yield f"sqlite:///{workdir / f'{name}.sqlite'}"
        return
    schema = f"om_bench_{name}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def log(message: str) -> None:
    """Progress goes to stderr, so stdout is only the table."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def rounded(value: float, digits: int = 1) -> float:
    return round(float(value), digits) if not math.isnan(value) else value
