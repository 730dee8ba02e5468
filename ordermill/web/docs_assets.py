"""The API docs page (/api/v1/docs) with Swagger UI served from the installed package.

apiflask's defaults load Swagger UI's JavaScript, CSS and favicon from public CDNs, so the page
was blank on an offline or intranet install and needed a CSP exception for those hosts. The
`swagger-ui-bundle` distribution (a dependency) ships the same files; they are served here
under /api/v1/docs/assets/, and the page's Content-Security-Policy allows only this origin
plus the exact inline script and style apiflask's template renders (by their sha256).
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path
from typing import Any

import swagger_ui_bundle
from apiflask import APIFlask
from flask import abort, send_from_directory

DOCS_PATH = "/api/v1/docs"
ASSETS_PATH = f"{DOCS_PATH}/assets"
ASSET_DIR = Path(swagger_ui_bundle.swagger_ui_path)
ASSETS = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js",
                    "favicon-32x32.png", "favicon-16x16.png"})

RELATIVE = "docs/assets"  # from /api/v1/docs, so the page also works under a path prefix
SETTINGS: dict[str, Any] = {
    "SWAGGER_UI_CSS": f"{RELATIVE}/swagger-ui.css",
    "SWAGGER_UI_BUNDLE_JS": f"{RELATIVE}/swagger-ui-bundle.js",
    "SWAGGER_UI_STANDALONE_PRESET_JS": f"{RELATIVE}/swagger-ui-standalone-preset.js",
    "DOCS_FAVICON": f"{RELATIVE}/favicon-32x32.png",
    # Swagger UI would ask validator.swagger.io to check the document: nothing leaves the page
    "SWAGGER_UI_CONFIG": {"validatorUrl": None},
}

_INLINE = {
    "script": re.compile(r"<script>(.*?)</script>", re.DOTALL),
    "style": re.compile(r"<style>(.*?)</style>", re.DOTALL),
}


def _hashes(kind: str, html: str) -> str:
    found = []
    for block in _INLINE[kind].findall(html):
        digest = base64.b64encode(hashlib.sha256(block.encode()).digest()).decode()
        found.append(f"'sha256-{digest}'")
    return " ".join(found)


def docs_csp(html: str) -> str:
    """The docs page's CSP: this origin only, and its own inline script and style by hash."""
    script = " ".join(part for part in ("'self'", _hashes("script", html)) if part)
    style = " ".join(part for part in ("'self'", _hashes("style", html)) if part)
    return (f"default-src 'none'; script-src {script}; style-src {style}; "
            f"img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
            f"frame-ancestors 'none'; base-uri 'none'; form-action 'none'")


def init_docs_assets(app: APIFlask) -> None:
    """Serve the Swagger UI files the docs page names (and nothing else from the package)."""

    @app.get(f"{ASSETS_PATH}/<path:filename>")
    @app.doc(hide=True)
    def docs_asset(filename: str) -> Any:
        if filename not in ASSETS:
            abort(404)
        return send_from_directory(ASSET_DIR, filename, max_age=86400)
