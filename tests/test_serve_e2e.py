"""`ordermill serve --demo` as a real process: what a new user runs first, end to end.

Starts the console script on a free port with a fresh instance folder (so the default
SQLite file is used), waits for /healthz, checks the printed URL and login really work,
then stops it with SIGTERM and expects a clean exit.
"""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from ordermill.core.app import Ordermill
from ordermill.core.models import Order
from ordermill.core.settings import Settings
from ordermill.core.staff import authenticate

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="uses SIGTERM")
START_TIMEOUT = 90.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _command() -> list[str]:
    script = Path(sys.executable).with_name("ordermill")
    return [str(script)] if script.exists() else [sys.executable, "-m", "ordermill.cli"]


class Server:
    """A running `ordermill serve` with its output collected line by line."""

    def __init__(self, cwd: Path, env: dict[str, str], *args: str) -> None:
        self.port = _free_port()
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self.process = subprocess.Popen(
            [*_command(), "serve", "--port", str(self.port), *args], cwd=cwd, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, text: str, timeout: float = START_TIMEOUT) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError(f"server exited before printing {text!r}:\n"
                                     + "\n".join(self.lines))
            self.lines.append(line)
            if text in line:
                return line
        raise AssertionError(f"no {text!r} within {timeout} s:\n" + "\n".join(self.lines))

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise
        return code

    @property
    def output(self) -> str:
        while True:
            try:
                line = self._queue.get(timeout=2)
            except queue.Empty:
                break
            if line is None:
                break
            self.lines.append(line)
        return "\n".join(self.lines)


@pytest.fixture
def serve_env(tmp_path: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("ORDERMILL_")}
    env["ORDERMILL_INSTANCE_PATH"] = str(tmp_path / "instance")
    env["PYTHONUNBUFFERED"] = "1"
    return env


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    started: list[Server] = []
    yield started
    for server in started:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait(timeout=10)


def _healthy(url: str, timeout: float = START_TIMEOUT) -> requests.Response:
    deadline = time.monotonic() + timeout
    while True:
        try:
            response = requests.get(url + "healthz", timeout=2)
            if response.status_code == 200:
                return response
        except requests.ConnectionError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{url}healthz never answered")
        time.sleep(0.2)


def test_serve_demo_end_to_end(tmp_path: Path, serve_env: dict[str, str],
                               servers: list[Server]) -> None:
    server = Server(tmp_path, serve_env, "--demo", "--threads", "2")
    servers.append(server)
    running = server.wait_for("is running at")
    url = running.split("is running at ", 1)[1].strip()
    assert url == f"http://127.0.0.1:{server.port}/"
    login = server.wait_for("Log in as")
    assert login == "Log in as admin@ordermill.test with password ordermill-demo"
    server.wait_for("Press Ctrl+C to stop.")
    assert _healthy(url).json() == {"status": "ok"}

    assert server.stop() == 0
    output = server.output
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
    again = Server(tmp_path, serve_env, "--demo")
    servers.append(again)
    again.wait_for("Log in as admin@ordermill.test")
    _healthy(f"http://127.0.0.1:{again.port}/")
    assert again.stop() == 0
    assert "Loading the demo shop" not in again.output
