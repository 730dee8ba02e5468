"""Section `profile` (`--profile`): a cProfile of the place action, saved for reading.

Places orders on the peers' workload (SQLite, every plugin loaded) under cProfile after a
warm-up, and writes `place.prof` (for snakeviz / pstats) and `place.txt` (the top functions
by cumulative and by own time) into the results folder.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import random
import tempfile
import time
from pathlib import Path

from bench.common import ROOT, Figure, Knobs, log
from bench.peers.ordermill_place import ACTOR, make_mill, order_request, place


def run(knobs: Knobs) -> list[Figure]:
    orders = 30 if knobs.smoke else min(knobs.orders, 500)
    knobs.out_dir.mkdir(parents=True, exist_ok=True)
    prof_path, text_path = knobs.out_dir / "place.prof", knobs.out_dir / "place.txt"
    log(f"profile: {orders} placements under cProfile")
    with tempfile.TemporaryDirectory() as work:
        mill = make_mill(f"sqlite:///{Path(work) / 'profile.sqlite'}", Path(work))
        try:
            rnd = random.Random(9)
            for n in range(10):
                mill.orders.accept(place(mill, order_request(n, rnd, "w")), actor=ACTOR)
            requests = [order_request(n, rnd) for n in range(orders)]
            profiler = cProfile.Profile()
            t = time.perf_counter()
            profiler.enable()
            for request in requests:
                place(mill, request)
            profiler.disable()
            elapsed = time.perf_counter() - t
        finally:
            mill.engine.dispose()
    profiler.dump_stats(prof_path)
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    out.write(f"{orders} placements in {elapsed:.2f} s under cProfile\n\n")
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(25)
    text_path.write_text(out.getvalue())
    return [Figure("profile", "place under cProfile", round(elapsed / orders * 1000, 2),
                   "ms/order", note=f"saved {_short(prof_path)} and {text_path.name}")]


def _short(path: Path) -> str:
    """The path from the project root when it is inside it (what the README shows)."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
