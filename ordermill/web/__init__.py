"""The web layer: a Flask app factory with the JSON API and the admin as blueprints.

web/ only calls core actions; no business rule lives here.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify

from ordermill.core.app import Ordermill


def create_app(mill: Ordermill | None = None, config: dict[str, Any] | None = None) -> Flask:
    """Build the WSGI app around an Ordermill (made from the environment when not given)."""
    mill = mill or Ordermill()
    app = Flask(__name__)
    app.config["SECRET_KEY"] = mill.settings.secret_key
    app.config.update(config or {})
    app.extensions["ordermill"] = mill

    @app.get("/healthz")
    def healthz() -> Any:
        return jsonify({"status": "ok"})

    return app
