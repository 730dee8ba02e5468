"""`ordermill serve --demo` as a real process: what a new user runs first, end to end.

Starts the console script on a free port with a fresh instance folder (so the default
SQLite file is used), waits for /healthz, checks the printed URL and login really work,
then stops it with SIGTERM and expects a clean exit. The process harness is
ordermill.testing_serve.serving, shared with the API and browser tests.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from ordermill.core.app import Ordermill
from ordermill.core.models import Order
from ordermill.core.settings import Settings
from ordermill.core.staff import authenticate
from ordermill.testing_serve import free_port, serving

pytestmark = [pytest.mark.skipif(sys.platform == "win32", reason="uses SIGTERM"),
              pytest.mark.slow, pytest.mark.xdist_group("serve")]


@pytest.fixture
def serve_env(tmp_path: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("ORDERMILL_")}
    env["ORDERMILL_INSTANCE_PATH"] = str(tmp_path / "instance")
    env["PYTHONUNBUFFERED"] = "1"
    return env


def test_serve_demo_end_to_end(tmp_path: Path, serve_env: dict[str, str]) -> None:
    port = free_port()  # the default host, and the port asked for, are what is printed
    with serving(serve_env, "--demo", "--threads", "2", "--port", str(port),
                 cwd=tmp_path) as server:
        running = server.wait_for("is running at")
        url = running.split("is running at ", 1)[1].strip()
        assert url == f"http://127.0.0.1:{port}/"
        login = server.wait_for("Log in as")
        assert login == "Log in as admin@ordermill.test with password ordermill-demo"
        server.wait_for("Press Ctrl+C to stop.")
        assert requests.get(f"{url}healthz", timeout=5).json() == {"status": "ok"}
        assert server.stop() == 0
    output = server.output()
    assert "Loading the demo shop" in output and "Stopped." in output
    assert "Traceback" not in output

    database = tmp_path / "instance" / "ordermill.sqlite"
    assert database.exists()
    mill = Ordermill(Settings.from_env(env={"ORDERMILL_INSTANCE_PATH": str(database.parent)}))
    try:
        email, password = login.removeprefix("Log in as ").split(" with password ")
        assert authenticate(mill, email, password).role == "admin"
        with mill.read_session() as session:
            assert session.scalar(select(func.count()).select_from(Order)) >= 40
    finally:
        mill.dispose()

    # A second start on the same database keeps its orders and still prints the login.
    with serving(serve_env, "--demo", cwd=tmp_path) as again:
        again.wait_for("Log in as admin@ordermill.test")
        assert again.stop() == 0
    assert "Loading the demo shop" not in again.output()
