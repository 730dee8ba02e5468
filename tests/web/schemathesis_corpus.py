"""The schemathesis cases of a run, kept in the repository so a fresh clone does not generate
them again.

Generation is derandomized: the same OpenAPI document, test module, seeded order numbers
and versions of schemathesis, hypothesis and Python draw exactly the same cases every run.
Drawing them was about half the CPU of the schemathesis tests, and the slowest single cost of
the suite (issue 11), so the cases of the positive and negative runs are stored here under a
key made of all those inputs. A run whose key matches sends the stored cases, every one to
every database, as before; any other run (the document, the test module or a library
changed) generates them, and when every operation passed writes the file anew, so the
change shows in `git status` to be committed with the change that caused it. A stale or
missing file only costs time, never a case.

The stored cases are pickled (a case holds schemathesis' own objects), gzip-compressed;
schemathesis' `NOT_SET` marker, tested by identity, is stored by name.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import pickle
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

from schemathesis.core import NOT_SET

FOLDER = Path(__file__).with_name("schemathesis_cases")
MODULE = Path(__file__).with_name("test_api_schemathesis.py")
_NOT_SET_ID = "schemathesis.core.NOT_SET"


def corpus_key(document: dict[str, Any], seeded_numbers: list[str]) -> str:
    """Everything the generated cases depend on, hashed."""
    parts = [
        json.dumps(document, sort_keys=True, default=str),
        MODULE.read_text(encoding="utf-8"),
        json.dumps(seeded_numbers),
        version("schemathesis"),
        version("hypothesis"),
        f"{sys.version_info.major}.{sys.version_info.minor}",
    ]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


class _Pickler(pickle.Pickler):
    def persistent_id(self, obj: Any) -> str | None:
        return _NOT_SET_ID if obj is NOT_SET else None


class _Unpickler(pickle.Unpickler):
    def persistent_load(self, pid: Any) -> Any:
        if pid == _NOT_SET_ID:
            return NOT_SET
        raise pickle.UnpicklingError(f"unknown persistent id {pid!r}")


def path_for(mode: str) -> Path:
    return FOLDER / f"{mode}.pickle.gz"


def read(mode: str) -> dict[str, Any] | None:
    """The stored file of `mode` as written (its key and cases), or None."""
    path = path_for(mode)
    if not path.exists():
        return None
    stored: dict[str, Any] = _Unpickler(io.BytesIO(gzip.decompress(path.read_bytes()))).load()
    return stored


def load(mode: str, key: str) -> dict[str, list[dict[str, Any]] | None] | None:
    """The stored cases of `mode` per operation label, or None when the file is missing or
    was made from other inputs."""
    stored = read(mode)
    if stored is None or stored.get("key") != key:
        return None
    cases: dict[str, list[dict[str, Any]] | None] = stored["cases"]
    return cases


def save(mode: str, key: str, cases: dict[str, list[dict[str, Any]] | None]) -> None:
    """Write the cases of a run that generated every operation and passed (atomically: a
    killed run leaves the old file)."""
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump({"key": key, "cases": cases})
    FOLDER.mkdir(exist_ok=True)
    path = path_for(mode)
    partial = path.with_suffix(f".{os.getpid()}.partial")
    # mtime 0: the same cases give the same bytes, so an unchanged run leaves git clean
    partial.write_bytes(gzip.compress(buffer.getvalue(), mtime=0))
    partial.replace(path)
