"""The write turn of one SQLite file between processes: an flock on `<database>-writer.lock`.

Two `ordermill serve` processes (`--processes 2`), or a server and `ordermill worker`, write
the same file. Without this, the second writer waits in SQLite's busy handler, whose back-off
sleeps up to 100 ms a try: 8 clients on two processes saw a p99 of 420 ms where one process
saw 70 ms. Each process's writers first queue among themselves (core.db.WriterQueue), so at
most one writer per process asks for the file lock; a free lock is taken at once, a held one
is asked for again every `POLL` seconds (never longer: a transaction takes milliseconds)
until the caller's timeout. The lock is the kernel's, so a crashed holder frees it. A lock
file that cannot be opened (a folder another user owns) is logged once and left out: the
writers then meet in SQLite's busy handler as before, slower but never refused for it.

A forked child opens its own lock file: an flock belongs to the open file, which a fork
shares, so parent and child would otherwise hold "the" lock together (`os.register_at_fork`
in core.db forgets the parent's queues in the child).
"""

from __future__ import annotations

import fcntl
import logging
import os
import time

log = logging.getLogger("ordermill.db")

POLL = 0.001  # seconds between two tries for a held lock


class FileTurn:
    """The flock of one database file's writers, for the processes that write it."""

    def __init__(self, database_path: str) -> None:
        self.path = f"{database_path}-writer.lock"
        self._fd: int | None = None
        self._unusable = False

    def _file(self) -> int | None:
        if self._fd is None and not self._unusable:
            try:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            except OSError as error:
                self._unusable = True
                log.warning("Writers of other processes will wait in SQLite's busy handler: "
                            "cannot open %s (%s).", self.path, error)
        return self._fd

    def acquire(self, timeout: float) -> bool:
        """Hold the lock within `timeout` seconds; False when another process held it all
        that time (True at once when the lock file cannot be used)."""
        fd = self._file()
        if fd is None:
            return True
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(POLL)

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
