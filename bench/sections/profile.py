"""Section `profile` (`--profile`): cProfiles of the place and accept actions, saved for reading.

Places orders on the peers' workload (SQLite, every plugin loaded) under cProfile after a
warm-up, then accepts each of them under a second profiler, and writes `place.prof` /
`accept.prof` (for snakeviz / pstats) and `place.txt` / `accept.txt` (the top functions by
cumulative and by own time) into the results folder.
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
    log(f"profile: {orders} placements, then {orders} accepts, under cProfile")
    with tempfile.TemporaryDirectory() as work:
        mill = make_mill(f"sqlite:///{Path(work) / 'profile.sqlite'}", Path(work))
        try:
            rnd = random.Random(9)
            for n in range(10):
                mill.orders.accept(place(mill, order_request(n, rnd, "w")), actor=ACTOR)
            requests = [order_request(n, rnd) for n in range(orders)]
            placing = cProfile.Profile()
            t = time.perf_counter()
            placing.enable()
            numbers = [place(mill, request) for request in requests]
            placing.disable()
            place_s = time.perf_counter() - t
            accepting = cProfile.Profile()
            t = time.perf_counter()
            accepting.enable()
            for number in numbers:
                mill.orders.accept(number, actor=ACTOR)
            accepting.disable()
            accept_s = time.perf_counter() - t
        finally:
            mill.engine.dispose()
    figures = []
    for name, profiler, elapsed in (("place", placing, place_s), ("accept", accepting, accept_s)):
        prof_path, text_path = _save(knobs.out_dir, name, profiler, orders, elapsed)
        figures.append(Figure("profile", f"{name} under cProfile",
                              round(elapsed / orders * 1000, 2), "ms/order",
                              note=f"saved {_short(prof_path)} and {text_path.name}"))
    return figures


def _save(out_dir: Path, name: str, profiler: cProfile.Profile, orders: int,
          elapsed: float) -> tuple[Path, Path]:
    prof_path, text_path = out_dir / f"{name}.prof", out_dir / f"{name}.txt"
    profiler.dump_stats(prof_path)
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    what = "placements" if name == "place" else "accepts"
    out.write(f"{orders} {what} in {elapsed:.2f} s under cProfile\n\n")
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(25)
    text_path.write_text(out.getvalue())
    return prof_path, text_path


def _short(path: Path) -> str:
    """The path from the project root when it is inside it (what the README shows)."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
