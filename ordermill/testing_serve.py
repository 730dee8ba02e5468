"""`ordermill serve` as a real child process, for end-to-end tests.

One harness for every test that starts the server (the API end-to-end and curl-example tests,
the first-run test and the admin's browser tests): it lets the server pick a free port
(`--port 0`) unless told one, reads its output all along from a thread (a full pipe would
block the server), waits until /healthz answers, and stops it at the end (SIGTERM, then kill).
"""

from __future__ import annotations

import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import requests

RUNNING = re.compile(r"running at (http://[^\s/]+:(\d+))/")


def free_port() -> int:
    """A loopback port nobody listens on right now (prefer `--port 0` where possible)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ordermill_command() -> list[str]:
    """The `ordermill` console script of the running interpreter's environment."""
    beside = Path(sys.executable).parent / "ordermill"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("ordermill")
    return [found] if found else [sys.executable, "-m", "ordermill.cli"]


class Server:
    """A running `ordermill serve`: its process, base URL (no trailing slash), port and output."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: list[str] = []
        self.url = ""
        self.port = 0
        self._changed = threading.Condition()
        self._ended = False
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._ended = True
            self._changed.notify_all()

    def wait_for(self, text: str, timeout: float = 120.0) -> str:
        """The first output line containing `text`, waiting for it to be printed."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for line in self.lines:
                    if text in line:
                        return line
                left = deadline - time.monotonic()
                if self._ended or left <= 0:
                    why = "the server exited" if self._ended else f"nothing within {timeout} s"
                    raise AssertionError(f"{why} before printing {text!r}:\n{self.output()}")
                self._changed.wait(min(left, 1.0))

    def output(self) -> str:
        """Everything printed so far."""
        with self._changed:
            return "\n".join(self.lines)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        """Signal the server and return its exit code (kill it if it does not stop)."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
            raise
        finally:
            self._reader.join(timeout=5)
        return code


def wait_healthy(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{url}/healthz never answered")
        time.sleep(0.1)


@contextmanager
def serving(env: dict[str, str], *args: str, cwd: Path | None = None,
            startup_seconds: float = 120.0) -> Iterator[Server]:
    """Run `ordermill serve ARGS` (with `--port 0` unless ARGS name a port); yield it once it
    answers /healthz; stop it afterwards. Its output is in `server.output()` for messages."""
    command = [*ordermill_command(), "serve", *args]
    if "--port" not in args:
        command += ["--port", "0"]
    process = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, bufsize=1)
    server = Server(process)
    try:
        match = RUNNING.search(server.wait_for("running at", startup_seconds))
        assert match, server.output()
        server.url, server.port = match.group(1), int(match.group(2))
        wait_healthy(server.url)
        yield server
    finally:
        if process.poll() is None:
            with suppress(subprocess.TimeoutExpired):
                server.stop()
        if process.stdout is not None:
            process.stdout.close()
