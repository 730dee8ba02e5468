"""The admin's CSS and JS, linked with their content's digest so browsers keep them.

Every admin page links admin.css and admin.js. Without a cache lifetime a browser asks for
both again on every page (two conditional requests per click). Each link now carries the
file's digest (`?v=`, added to every `url_for("admin.static", ...)`, plugin templates'
included), and a request with the current digest is answered as cacheable for a year: a
new release changes the digest, so the new file is fetched. A request without
the digest, or with an old one, is answered as before (revalidated every time).
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Blueprint, request

STATIC = Path(__file__).parent / "static"
A_YEAR = 365 * 24 * 3600


@lru_cache(maxsize=64)
def digest(filename: str) -> str | None:
    """The first 12 hex digits of the file's SHA-256; None for no such file. Bounded: the
    name may come from a request (any /admin/static/<name>?v=...), not only from url_for."""
    path = (STATIC / filename).resolve()
    if not path.is_relative_to(STATIC.resolve()) or not path.is_file():
        return None
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


class AdminBlueprint(Blueprint):
    """The admin blueprint: its static files are cacheable when asked for by digest."""

    def get_send_file_max_age(self, filename: str | None) -> int | None:
        asked = request.args.get("v")
        if filename and asked and asked == digest(filename):
            return A_YEAR
        return super().get_send_file_max_age(filename)


def add_digest(endpoint: str, values: dict[str, Any]) -> None:
    """url_defaults: `url_for("admin.static", filename=...)` links the file by its digest."""
    if endpoint == "admin.static" and "v" not in values:
        version = digest(str(values.get("filename", "")))
        if version:
            values["v"] = version


__all__ = ["AdminBlueprint", "add_digest", "digest"]
