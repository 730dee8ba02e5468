"""`ordermill serve --processes 2`: two server processes on one port, on both databases.

Orders placed concurrently are all placed, once each, stock counted right; a child killed is
replaced; the parent's SIGTERM stops every child; a child whose parent died stops by itself.
Keep-alive connections are spread evenly over the children (cli.balance).
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import http.client
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import func, select

from ordermill.core.app import Ordermill
from ordermill.core.models import Order, Product
from ordermill.core.settings import Settings
from ordermill.core.staff import create_token, create_user
from ordermill.testing import own_postgres_schema

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("serve")]

ORDERS = 40


@pytest.fixture(params=["sqlite", "postgresql"])
def database_env(request: pytest.FixtureRequest, tmp_path: Path,
                 cli_environment: Callable[[Path], dict[str, str]]) -> Iterator[dict[str, str]]:
    env = cli_environment(tmp_path)
    if request.param == "sqlite":
        yield env
        return
    with own_postgres_schema() as schema:
        env["ORDERMILL_DATABASE_URL"] = schema.url
        yield env


def shop_with_token(env: dict[str, str], ordermill_cli: Callable[..., str]) -> str:
    ordermill_cli(env, "init")
    mill = Ordermill(Settings.from_env(env=env))
    try:
        create_user(mill, email="ops@shop.test", name="Ops", role="admin",
                    password="correct horse battery")
        with mill.write_session() as session, session.begin():
            session.add(Product(sku="SEAT", name="Seat", price=1500, currency="EUR",
                                stock=ORDERS + 5, kind="ticket", category="tickets"))
        return create_token(mill, email="ops@shop.test", name="processes")
    finally:
        mill.dispose()


def stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (None: no such process)."""
    try:
        with open(f"/proc/{pid}/stat") as file:
            return file.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None


def children_of(pid: int) -> list[int]:
    """The running (not zombie) children of `pid`."""
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit() and (fields := stat(int(name))) is not None \
                and fields[1] == str(pid) and fields[0] != "Z":
            found.append(int(name))
    return sorted(found)


def running(pid: int) -> bool:
    fields = stat(pid)
    return fields is not None and fields[0] != "Z"


def wait_until(condition: Callable[[], bool], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_two_processes_place_every_order_once_and_survive_a_lost_child(
    database_env: dict[str, str], ordermill_cli: Callable[..., str],
    ordermill_serving: Callable[..., Any],
) -> None:
    token = shop_with_token(database_env, ordermill_cli)
    with ordermill_serving(database_env, "--processes", "2", "--threads", "2") as server:
        assert "2 server processes of 2 threads each." in server.output()
        parent = server.process.pid
        kids = children_of(parent)
        assert len(kids) == 2

        def place(k: int) -> int:
            with requests.Session() as http:
                http.headers["Authorization"] = f"Bearer {token}"
                answer = http.post(f"{server.url}/api/v1/orders", json={
                    "customer": {"email": f"buyer{k}@shop.test", "name": f"Buyer {k}"},
                    "lines": [{"sku": "SEAT", "quantity": 1}],
                    "payment_method": "banktransfer"}, timeout=30)
                return answer.status_code

        with cf.ThreadPoolExecutor(8) as pool:
            assert list(pool.map(place, range(ORDERS))) == [201] * ORDERS

        os.kill(kids[0], signal.SIGKILL)
        wait_until(lambda: len(children_of(parent)) == 2 and kids[0] not in children_of(parent))
        assert place(ORDERS) == 201
        server.wait_for("stopped unexpectedly (signal 9); starting a new one", timeout=10)

        survivors = children_of(parent)
        assert server.stop() == 0
        assert not any(running(kid) for kid in survivors)
        assert "Stopped." in server.output()

    mill = Ordermill(Settings.from_env(env=database_env))
    try:
        with mill.read_session() as session:
            assert session.scalar(select(func.count()).select_from(Order)) == ORDERS + 1
            assert session.scalar(select(Product.stock).where(Product.sku == "SEAT")) == 4
    finally:
        mill.dispose()


@pytest.fixture
def two_processes(
    cli_environment: Callable[[Path], dict[str, str]], tmp_path: Path,
    ordermill_cli: Callable[..., str], ordermill_serving: Callable[..., Any],
) -> Iterator[Any]:
    """`ordermill serve --processes 2` on a new SQLite shop."""
    env = cli_environment(tmp_path)
    ordermill_cli(env, "init")
    with ordermill_serving(env, "--processes", "2") as server:
        yield server


def test_children_stop_when_the_parent_dies(two_processes: Any) -> None:
    kids = children_of(two_processes.process.pid)
    assert len(kids) == 2
    os.kill(two_processes.process.pid, signal.SIGKILL)
    wait_until(lambda: not any(running(kid) for kid in kids), seconds=15)


def established_sockets(port: int) -> set[int]:
    """Socket inodes of the established TCP connections whose local port is `port`."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as file:
            for line in list(file)[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                    found.add(int(fields[9]))
    return found


def sockets_of(pid: int) -> set[int]:
    """Socket inodes of the open files of process `pid`."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(FileNotFoundError):  # closed since listed
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
            if target.startswith("socket:["):
                inodes.add(int(target[8:-1]))
    return inodes


def test_eight_keep_alive_clients_are_spread_four_and_four(two_processes: Any) -> None:
    port = int(two_processes.url.rsplit(":", 1)[1])
    clients = [http.client.HTTPConnection("127.0.0.1", port, timeout=10) for _ in range(8)]
    try:
        for client in clients:  # each one connected, then kept open
            client.request("GET", "/healthz")
            answer = client.getresponse()
            answer.read()
            assert answer.status == 200
        open_now = established_sockets(port)
        held = sorted(len(sockets_of(kid) & open_now)
                      for kid in children_of(two_processes.process.pid))
        assert held == [4, 4]
    finally:
        for client in clients:
            client.close()
