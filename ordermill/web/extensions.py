"""Flask extensions made once at module level and bound to each app with `init_app`.

Rate limits live in memory per process (flask-limiter's memory storage): enough to slow a
password guesser down; a multi-process deployment points RATELIMIT_STORAGE_URI at a shared
store such as Redis. Flask-Babel picks the reader's locale and time zone (web/i18n.py).
"""

from __future__ import annotations

from flask import current_app
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)
# Locale and time zone selection per request (web/i18n.py); the catalogs are core.i18n's.
babel = Babel()


def login_limit() -> str:
    return str(current_app.config["ORDERMILL_LOGIN_RATE_LIMIT"])


def token_limit() -> str:
    return str(current_app.config["ORDERMILL_TOKEN_RATE_LIMIT"])


def checkout_limit() -> str:
    return str(current_app.config["ORDERMILL_CHECKOUT_RATE_LIMIT"])
