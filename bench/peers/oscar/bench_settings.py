# ruff: noqa  -- the Oscar peer, copied as measured from the issue's harness; runs in its own Django venv
"""Minimal Django settings for benchmarking django-oscar order placement.

The SQLite file path comes from $OSCAR_BENCH_DB (bench_oscar.py sets it to a
fresh file under /tmp for each run). $OSCAR_BENCH_SQLITE selects the SQLite
mode: "default" (Django's defaults: rollback journal, synchronous=FULL) or
"wal" (journal_mode=WAL, synchronous=NORMAL).
"""
import os
import tempfile

from oscar.defaults import *  # noqa: F401,F403  (Oscar's default OSCAR_* settings)
from oscar import INSTALLED_APPS as OSCAR_INSTALLED_APPS

BASE_DIR = os.path.dirname(os.path.abspath(__file__))

SECRET_KEY = "bench-not-secret"
DEBUG = False  # DEBUG=True would keep every SQL query in memory
ALLOWED_HOSTS = ["*"]
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en-gb"
SITE_ID = 1
ROOT_URLCONF = "bench_urls"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

INSTALLED_APPS = list(OSCAR_INSTALLED_APPS)

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "oscar.apps.basket.middleware.BasketMiddleware",
    "django.contrib.flatpages.middleware.FlatpageFallbackMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "oscar.apps.search.context_processors.search_form",
                "oscar.apps.checkout.context_processors.checkout",
                "oscar.apps.communication.notifications.context_processors.notifications",
                "oscar.core.context_processors.metadata",
            ],
        },
    }
]

AUTHENTICATION_BACKENDS = (
    "oscar.apps.customer.auth_backends.EmailBackend",
    "django.contrib.auth.backends.ModelBackend",
)

HAYSTACK_CONNECTIONS = {
    "default": {"ENGINE": "haystack.backends.simple_backend.SimpleEngine"}
}

EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STATIC_URL = "/static/"
MEDIA_ROOT = os.path.join(tempfile.gettempdir(), "oscar-bench-media")

_sqlite_mode = os.environ.get("OSCAR_BENCH_SQLITE", "default")
_db_options = {}
if _sqlite_mode == "wal":
    _db_options = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
elif _sqlite_mode != "default":
    raise ValueError("OSCAR_BENCH_SQLITE must be 'default' or 'wal'")

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("OSCAR_BENCH_DB", os.path.join(tempfile.gettempdir(), "oscar-bench.sqlite3")),
        "OPTIONS": _db_options,
    }
}

# --- Order-management configuration under test -------------------------------
OSCAR_DEFAULT_CURRENCY = "GBP"
OSCAR_INITIAL_ORDER_STATUS = "Pending"
OSCAR_INITIAL_LINE_STATUS = "Pending"
OSCAR_ORDER_STATUS_PIPELINE = {
    "Pending": ("Being processed", "Cancelled"),
    "Being processed": ("Shipped", "Cancelled"),
    "Shipped": ("Complete",),
    "Complete": (),
    "Cancelled": (),
}
OSCAR_LINE_STATUS_PIPELINE = dict(OSCAR_ORDER_STATUS_PIPELINE)
# When the order moves to a status, move every line to the same status.
if os.environ.get("OSCAR_BENCH_CASCADE", "1") == "1":
    OSCAR_ORDER_STATUS_CASCADE = {
        "Being processed": "Being processed",
        "Shipped": "Shipped",
        "Complete": "Complete",
        "Cancelled": "Cancelled",
    }
else:
    OSCAR_ORDER_STATUS_CASCADE = {}

# Oscar's default is True; every StockRecord allocate/consume/cancel then runs
# the product-alert receiver. Set OSCAR_BENCH_EAGER_ALERTS=0 to measure without it.
OSCAR_EAGER_ALERTS = os.environ.get("OSCAR_BENCH_EAGER_ALERTS", "1") == "1"
