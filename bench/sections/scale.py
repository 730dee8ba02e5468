"""Sections `scale` and `http`: a shop-sized database served by a real `ordermill serve`.

`scale`: with N orders (100,000 by default; bench/seed.py builds them), the API list (first
page, status and payment-status filters, search by exact number, exact e-mail and substring,
sort, page 200),
one order's detail and the admin's order list, p50/p95 over loopback HTTP; then the CSV export
of every order: seconds and the server's peak RSS (VmHWM). `http`: POST /api/v1/orders from 8
client threads for a fixed time on the same server: orders/s, p99 and errors. Both databases.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import http.client
import json
import os
import random
import re
import secrets
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import requests
from sqlalchemy import create_engine, text

from bench.common import PG_URL, Figure, Knobs, database, log, percentile, postgres_problem
from bench.seed import cli, clone, env_for, init_demo, ordermill_command

PASSWORD = "Bench-pass-123"
LIST_TARGET, SUBSTRING_TARGET, ADMIN_TARGET, RSS_TARGET = 30.0, 100.0, 50.0, 200.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def vm_hwm(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM"):
                return int(line.split()[1]) / 1024
    return 0.0


def server_pids(pid: int) -> list[int]:
    """`pid` and its children: with `serve --processes N` the children serve the requests."""
    found = [pid]
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as stat:
                    if stat.read().rsplit(")", 1)[1].split()[1] == str(pid):
                        found.append(int(name))
            except (OSError, IndexError):
                continue
    return found


def peak_rss(pid: int) -> float:
    """The highest VmHWM of the server's processes (MiB)."""
    return max(vm_hwm(p) for p in server_pids(pid))


def timed(fn: Callable[[], requests.Response], n: int) -> list[float]:
    fn()  # the first request of a kind warms caches: not what a shop sees all day
    lat = []
    for _ in range(n):
        t = time.perf_counter()
        r = fn()
        lat.append((time.perf_counter() - t) * 1000)
        if r.status_code != 200:
            raise RuntimeError(f"{r.request.url}: {r.status_code} {r.text[:200]}")
    return lat


class Server:
    """`ordermill serve --no-worker` on a free port, with an admin user and an API token."""

    def __init__(self, url: str, workdir: Path, serve_args: Sequence[str] = ()) -> None:
        self.env = env_for(url, workdir)
        om = ordermill_command()
        # a kept database (--scale-keep) has the user from a run before
        with contextlib.suppress(RuntimeError):
            cli(["user", "create", "--email", "bench@example.com", "--name", "Bench", "--role",
                 "admin", "--password", PASSWORD], self.env)
        out = cli(["token", "create", "--email", "bench@example.com", "--name", "bench"],
                  self.env)
        found = re.search(r"om_[A-Za-z0-9_\-]+", out)
        if found is None:
            raise RuntimeError(f"no token in: {out!r}")
        self.headers = {"Authorization": f"Bearer {found.group(0)}"}
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen([om, "serve", "--host", "127.0.0.1", "--port", str(port),
                                      "--no-worker", *serve_args], env=self.env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while True:
            try:
                requests.get(self.base + "/api/v1/openapi.json", timeout=2)
                break
            except requests.ConnectionError:
                if time.time() > deadline or self.proc.poll() is not None:
                    raise RuntimeError("ordermill serve did not start") from None
                time.sleep(0.2)

    def session(self) -> requests.Session:
        s = requests.Session()
        s.headers.update(self.headers)
        return s

    def admin(self) -> requests.Session:
        a = requests.Session()
        page = a.get(self.base + "/admin/login").text
        m = (re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
             or re.search(r'value="([^"]+)"[^>]*name="csrf_token"', page))
        a.post(self.base + "/admin/login", data={"email": "bench@example.com",
                                                 "password": PASSWORD,
                                                 "csrf_token": m.group(1) if m else ""})
        return a

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


def reads(server: Server, db: str, orders: int, n: int) -> list[Figure]:
    s = server.session()
    api = server.base + "/api/v1/orders"
    some = s.get(api, params={"per_page": 5}).json()["orders"]
    num = some[0]["number"]
    rnd = random.Random(3)
    sec = "scale"

    def email() -> str:
        return f"buyer{rnd.randrange(100, orders)}@scale.test"

    checks: list[tuple[str, Callable[[], requests.Response], float, float | None]] = [
        ("list first page", lambda: s.get(api), 95, LIST_TARGET),
        ("list status=pending", lambda: s.get(api, params={"status": "pending"}), 95,
         LIST_TARGET),
        ("list payment_status=paid", lambda: s.get(api, params={"payment_status": "paid"}), 95,
         LIST_TARGET),
        ("search exact number", lambda: s.get(api, params={"q": num}), 95, LIST_TARGET),
        ("search exact e-mail", lambda: s.get(api, params={"q": email()}), 95, LIST_TARGET),
        ("search substring", lambda: s.get(api, params={"q": email()[1:-8]}), 95,
         SUBSTRING_TARGET),
        ("sort -total", lambda: s.get(api, params={"sort": "-total"}), 95, None),
        ("page 200", lambda: s.get(api, params={"page": 200}), 95, None),
        ("order detail", lambda: s.get(f"{api}/{num}"), 95, None),
    ]
    admin = server.admin()
    checks.append(("admin order list", lambda: admin.get(server.base + "/admin/orders"), 95,
                   ADMIN_TARGET))
    figures = []
    for label, fn, q, target in checks:
        lat = timed(fn, n)
        value = round(percentile(lat, q), 1)
        if target is None:
            figures.append(Figure(sec, f"{label} p95 ({db})", value, "ms"))
        else:
            figures.append(Figure(sec, f"{label} p95 ({db})", value, "ms", "<", target))
    rss0 = peak_rss(server.proc.pid)
    t = time.perf_counter()
    with s.get(api + "/export.csv", stream=True) as r:
        rows = sum(chunk.count(b"\n") for chunk in r.iter_content(1 << 16)) - 1
    export_s = time.perf_counter() - t
    peak = peak_rss(server.proc.pid)
    figures += [
        Figure(sec, f"CSV export of {rows} orders ({db})", round(export_s, 1), "s"),
        Figure(sec, f"CSV export server peak RSS ({db})", round(peak, 1), "MiB", "<",
               RSS_TARGET, f"{round(rss0)} MiB before the export"),
    ]
    return figures


class Poster:
    """A keep-alive HTTP/1.1 connection POSTing JSON: the load generator of the `http` run.

    The clients share the server's two cores, so they are kept light: http.client on one
    connection each costs about a third of the CPU per request that a `requests` session
    does, CPU the server would otherwise lose to the benchmark's own client."""

    def __init__(self, base: str, headers: dict[str, str]) -> None:
        self.host, self.port = base.removeprefix("http://").split(":")
        self.headers = {**headers, "Content-Type": "application/json"}
        self.connection: http.client.HTTPConnection | None = None

    def post(self, path: str, body: dict[str, object]) -> int:
        """The answer's status; a lost connection is opened again for the next call."""
        if self.connection is None:
            self.connection = http.client.HTTPConnection(self.host, int(self.port), timeout=30)
        try:
            self.connection.request("POST", path, json.dumps(body), self.headers)
            answer = self.connection.getresponse()
            answer.read()
            return answer.status
        except (OSError, http.client.HTTPException):
            self.connection.close()
            self.connection = None
            raise


def placements(server: Server, db: str, seconds: float, clients: int = 8) -> list[Figure]:
    """`clients` threads POSTing orders of one stocked product for `seconds`."""
    s = server.session()
    prods = s.get(server.base + "/api/v1/products", params={"per_page": 200}).json()["products"]
    sku = next((p["sku"] for p in prods if p.get("stock") is None or p["stock"] > 10000), None)
    if sku is None:
        raise RuntimeError("no product with enough stock for the placement run")
    stop = time.time() + seconds

    def client(k: int) -> tuple[list[float], int]:
        poster = Poster(server.base, server.headers)
        mine, errors = [], 0
        while time.time() < stop:
            body = {"customer": {"email": f"h{k}-{secrets.token_hex(4)}@scale.test",
                                 "name": "H"},
                    "lines": [{"sku": sku, "quantity": 1}], "payment_method": "banktransfer"}
            t0 = time.perf_counter()
            try:
                ok = poster.post("/api/v1/orders", body) == 201
            except (OSError, http.client.HTTPException):
                ok = False
            mine.append((time.perf_counter() - t0) * 1000)
            errors += not ok
        return mine, errors

    lat: list[float] = []
    errors = 0
    t = time.perf_counter()
    with cf.ThreadPoolExecutor(clients) as ex:
        for mine, bad in ex.map(client, range(clients)):
            lat += mine
            errors += bad
    elapsed = time.perf_counter() - t
    sec = "http"
    return [
        Figure(sec, f"{clients}-client placement p99 ({db})", round(percentile(lat, 99), 1),
               "ms", "<", 100.0, f"p50 {round(percentile(lat, 50), 1)} ms"),
        Figure(sec, f"{clients}-client orders/s ({db})", round((len(lat) - errors) / elapsed, 1),
               "/s", ">=", 150.0),
        Figure(sec, f"{clients}-client errors ({db})", errors, "requests", "==", 0,
               f"of {len(lat)}"),
    ]


@contextmanager
def scale_database(db: str, knobs: Knobs, orders: int) -> Iterator[tuple[str, Path]]:
    """(url, instance folder) of the scale database: fresh and dropped afterwards, or with
    `--scale-keep DIR` a SQLite file / PostgreSQL schema kept for the next run (seeding 100k
    orders takes minutes on a shared machine; the measurements take seconds)."""
    if knobs.scale_keep is None:
        with tempfile.TemporaryDirectory() as work, database(db, Path(work), "scale") as url:
            yield url, Path(work)
        return
    work = knobs.scale_keep.resolve() / f"{db}-{orders}"
    work.mkdir(parents=True, exist_ok=True)
    if db == "sqlite":
        yield f"sqlite:///{work / 'scale.sqlite'}", work
        return
    schema = f"om_bench_keep_{orders}"
    admin = create_engine(PG_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    admin.dispose()
    yield f"{PG_URL}?options=-csearch_path%3D{schema}", work


def seeded_orders(url: str) -> int:
    """How many orders a kept database holds (0 when it has no schema yet)."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT count(*) FROM shop_order")).scalar() or 0)
    except Exception:
        return 0
    finally:
        engine.dispose()


def prepare(url: str, work: Path, orders: int, want: tuple[str, ...]) -> int:
    """Seed the database to `orders` orders, or, when a kept one has them already, only
    upgrade its schema to the newest migration (`ordermill init`); the order count."""
    have = seeded_orders(url)
    if have >= orders:
        cli(["init"], env_for(url, work))
        log(f"scale: reusing the kept database ({have} orders), schema upgraded")
        return have
    if have == 0:
        init_demo(url, work)
    else:
        cli(["init"], env_for(url, work))
    return clone(url, orders) if "scale" in want else orders


def run(knobs: Knobs, want: tuple[str, ...] = ("scale", "http")) -> list[Figure]:
    orders = 300 if knobs.smoke else knobs.scale_orders
    seconds = 1.0 if knobs.smoke else knobs.http_seconds
    n = 5 if knobs.smoke else 20
    figures: list[Figure] = []
    for db in knobs.databases:
        if db == "postgresql" and (problem := postgres_problem()):
            raise RuntimeError(f"PostgreSQL not reachable: {problem}")
        with scale_database(db, knobs, orders) as (url, work):
            log(f"scale: building {orders} orders on {db}")
            t = time.perf_counter()
            have = prepare(url, work, orders, want)
            seeded = time.perf_counter() - t
            server = Server(url, work, knobs.serve_args)
            log(f"scale: server up on {db}")
            try:
                if "scale" in want:
                    log(f"scale: {have} orders seeded in {seeded:.0f} s; reading over HTTP")
                    figures += reads(server, db, have, n)
                if "http" in want:
                    log(f"http: 8 clients placing orders for {seconds:.0f} s on {db}")
                    figures += placements(server, db, seconds)
            finally:
                server.stop()
    return figures


def http_only(knobs: Knobs) -> list[Figure]:
    """The 8-client placement run on the demo database alone (no 100k build)."""
    return run(knobs, ("http",))

