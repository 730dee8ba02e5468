"""`ordermill serve --processes N`: N server processes sharing one listening socket.

One Python process runs one request's Python at a time (the GIL): a busy shop's placements
used one core of two (issue 20). The parent binds the socket, prepares the database, then
forks the children, which each run waitress on the inherited socket; a new connection goes
to the child holding the fewest (cli.balance). The parent only supervises: it never opens a
database connection after the fork, and has no other thread, so forking a replacement for a
child that died is safe. SIGTERM or Ctrl+C stops the children (SIGTERM each, SIGKILL after
`STOP_GRACE` seconds) and then the parent. A child whose parent died stops itself.

The outbox worker, when on, runs in the first child only. Rate limits are counted per
process unless RATELIMIT_STORAGE_URI names a shared store (ordermill.web.extensions).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable

log = logging.getLogger("ordermill.serve")

STOP_GRACE = 10.0  # seconds a child has to finish its requests after SIGTERM
ORPHAN_CHECK = 1.0  # seconds between a child's checks that its parent still runs
RESTART_PAUSE = 1.0  # seconds before a child that died is replaced (no fork storm)


def run_children(count: int, child: Callable[[int], None], stop: threading.Event) -> None:
    """Fork `count` children running `child(index)` and keep them running until `stop` is
    set (by the caller's signal handler), then stop them and return."""
    sys.stdout.flush()
    sys.stderr.flush()
    children: dict[int, int] = {}  # pid -> index
    for index in range(count):
        children[_fork(index, child)] = index
    try:
        while not stop.is_set():
            pid, status = _reap()
            if pid == 0:
                stop.wait(0.2)
                continue
            index = children.pop(pid, None)
            if index is None or stop.is_set():
                continue
            log.warning("Server process %s stopped unexpectedly (%s); starting a new one.",
                        pid, _describe(status))
            stop.wait(RESTART_PAUSE)
            if not stop.is_set():
                children[_fork(index, child)] = index
    finally:
        _stop_all(children)


def _reap() -> tuple[int, int]:
    try:
        return os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return 0, 0


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {os.WTERMSIG(status)}"
    return f"exit code {os.waitstatus_to_exitcode(status)}"


def _fork(index: int, child: Callable[[int], None]) -> int:
    parent = os.getpid()
    pid = os.fork()
    if pid:
        return pid
    code = 0
    try:  # the child: never returns into the parent's code
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, signal.SIG_DFL)
        threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True,
                         name="ordermill-parent-watch").start()
        child(index)
    except BaseException:
        log.exception("Server process %s failed", os.getpid())
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return 0  # pragma: no cover - os._exit above


def _exit_with_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(ORPHAN_CHECK)
    os.kill(os.getpid(), signal.SIGTERM)


def _stop_all(children: dict[int, int]) -> None:
    for pid in children:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE
    waiting = set(children)
    while waiting and time.monotonic() < deadline:
        for pid in list(waiting):
            try:
                done, _status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done = pid
            if done:
                waiting.discard(pid)
        if waiting:
            time.sleep(0.05)
    for pid in waiting:
        _signal(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


def _signal(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
