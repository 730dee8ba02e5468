"""Sections `contention` and `outbox`: many writers at once, in one process.

`contention`: 8 threads race to buy the last 100 units of one product on PostgreSQL, one unit
per order, until the product is sold out: exactly 100 must be sold (no oversell, no unit left
unsold), every refusal must be the out-of-stock error, and the time is reported.
`outbox`: N no-op jobs drained by 2 worker threads (claim, run, complete, as `ordermill
worker` does): jobs/s, and every job must end `done` exactly once.
"""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.common import Figure, Knobs, database, log, postgres_problem
from bench.peers.ordermill_place import ACTOR, make_mill
from ordermill.core.app import Ordermill
from ordermill.core.errors import OutOfStock
from ordermill.core.models import OrderLine, OutboxJob, Product
from ordermill.core.outbox import enqueue
from ordermill.core.requests import CustomerDetails, LineRequest, OrderRequest
from ordermill.core.specs import JobHandlerSpec, JobRequest

NOOP_KIND = "bench.noop"


def contention(knobs: Knobs) -> list[Figure]:
    if problem := postgres_problem():
        raise RuntimeError(f"PostgreSQL not reachable: {problem}")
    units, threads = 100, 8
    log(f"contention: {threads} threads buying the last {units} units on postgresql")
    with tempfile.TemporaryDirectory() as work, database("postgresql", Path(work),
                                                          "race") as url:
        mill = make_mill(url, Path(work))
        try:
            with mill.write_session() as session, session.begin():
                session.add(Product(sku="LAST", name="Last units", price=500, currency="EUR",
                                    stock=units, kind="physical", category="bench"))
            sold, refused, other = [0] * threads, [0] * threads, [""] * threads
            gate = threading.Barrier(threads)

            def buyer(k: int) -> None:
                gate.wait()
                n = 0
                while True:
                    n += 1
                    request = OrderRequest(
                        customer=CustomerDetails(email=f"race{k}-{n}@bench.test", name="R"),
                        lines=[LineRequest(sku="LAST", quantity=1)],
                        payment_method="banktransfer")
                    try:
                        mill.orders.place(request, actor=ACTOR)
                    except OutOfStock:
                        refused[k] += 1
                        return
                    except Exception as error:
                        other[k] = f"{type(error).__name__}: {error}"
                        return
                    sold[k] += 1

            workers = [threading.Thread(target=buyer, args=(k,)) for k in range(threads)]
            t = time.perf_counter()
            for w in workers:
                w.start()
            for w in workers:
                w.join()
            elapsed = time.perf_counter() - t
            with mill.read_session() as session:
                stock = session.scalar(select(Product.stock).where(Product.sku == "LAST"))
                lines = session.scalar(select(func.coalesce(func.sum(OrderLine.quantity), 0))
                                       .where(OrderLine.sku == "LAST"))
        finally:
            mill.engine.dispose()
    errors = [e for e in other if e]
    sec = "contention"
    return [
        Figure(sec, "units sold of the last 100 (postgresql)", sum(sold), "units", "==", units,
               f"{threads} threads; stock left {stock}, units on order lines {lines}"),
        Figure(sec, "units oversold (postgresql)", max(0, int(lines or 0) - units), "units",
               "==", 0),
        Figure(sec, "unexpected errors (postgresql)", len(errors), "threads", "==", 0,
               errors[0][:120] if errors else "every refusal was out-of-stock"),
        Figure(sec, "time to sell out (postgresql)", round(elapsed, 2), "s"),
    ]


class NoopJobs:
    """A plugin registering the bench's no-op job kind (handlers come from plugins only)."""

    def __init__(self) -> None:
        from ordermill.api import hookimpl

        @hookimpl
        def register_job_handlers(settings: Any) -> list[JobHandlerSpec]:
            return [JobHandlerSpec(kind=NOOP_KIND, handler=lambda job, mill: None,
                                   description="bench: does nothing")]
        self.register_job_handlers = register_job_handlers


def outbox(knobs: Knobs) -> list[Figure]:
    jobs = 100 if knobs.smoke else 2000
    figures: list[Figure] = []
    for db in knobs.databases:
        if db == "postgresql" and (problem := postgres_problem()):
            raise RuntimeError(f"PostgreSQL not reachable: {problem}")
        log(f"outbox: {jobs} jobs, 2 workers, on {db}")
        with tempfile.TemporaryDirectory() as work, database(db, Path(work), "outbox") as url:
            mill = make_mill(url, Path(work))
            try:
                mill.plugins.register(NoopJobs(), "bench_noop_jobs")
                mill.refresh()
                with mill.write_session() as session, session.begin():
                    for _ in range(jobs):
                        enqueue(session, JobRequest(kind=NOOP_KIND))
                ran = [0, 0]

                def worker(k: int, mill: Ordermill = mill, ran: list[int] = ran) -> None:
                    ran[k] = mill.outbox.run_until_empty(f"bench-worker-{k}")
                threads = [threading.Thread(target=worker, args=(k,)) for k in range(2)]
                t = time.perf_counter()
                for th in threads:
                    th.start()
                for th in threads:
                    th.join()
                elapsed = time.perf_counter() - t
                with mill.read_session() as session:
                    done = session.scalar(select(func.count()).select_from(OutboxJob)
                                          .where(OutboxJob.status == "done"))
                    repeats = session.scalar(select(func.count()).select_from(OutboxJob)
                                             .where(OutboxJob.attempts != 1))
            finally:
                mill.engine.dispose()
        figures += [
            Figure("outbox", f"jobs/s with 2 workers ({db})", round(jobs / elapsed, 1), "/s",
                   note=f"{ran[0]} + {ran[1]} jobs"),
            Figure("outbox", f"jobs not done exactly once ({db})",
                   jobs - int(done or 0) + int(repeats or 0), "jobs", "==", 0),
        ]
    return figures
