# ruff: noqa  -- the Oscar peer, copied as measured from the issue's harness; runs in its own Django venv
"""URLconf required by Django/Oscar system checks; the benchmark serves no HTTP."""
from django.apps import apps
from django.urls import include, path

urlpatterns = [
    path("", include(apps.get_app_config("oscar").urls[0])),
]
