"""The demo control panel and registrar (ordermill/demo/panel.py): mounted only in a demo app,
reached only with a valid signature, idempotent, and pointed at by the demo's settings without
overriding what an operator configured."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests
from flask.testing import FlaskClient

from ordermill.core.app import Ordermill
from ordermill.demo import panel
from ordermill.plugins.provisioning.webhook import SIGNATURE_HEADER, sign
from ordermill.testing_serve import ordermill_command, serving
from ordermill.web import create_app

BASE = "http://127.0.0.1:8123"


def _demo_client(mill: Ordermill) -> tuple[Ordermill, FlaskClient]:
    demo = Ordermill(panel.demo_settings(mill.settings, BASE, secret="s3cret"),
                     engine=mill.engine)
    panel.register(demo)
    return demo, create_app(demo).test_client()


def _post(client: FlaskClient, path: str, event: str, service: dict[str, Any],
          secret: str = "s3cret") -> Any:
    body = json.dumps({"event": event, "delivery_id": "d-1", "service": service,
                       "buyer": {}}).encode()
    return client.post(path, data=body, headers={
        "Content-Type": "application/json", SIGNATURE_HEADER: sign(secret, body)})


def test_demo_panel_is_not_mounted_without_demo(mill: Ordermill) -> None:
    client = create_app(mill).test_client()
    assert client.get("/demo/panel/").status_code == 404
    assert client.get("/demo/panel/accounts.json").status_code == 404
    assert client.post("/demo/panel/hook", data=b"{}").status_code == 404
    assert client.post("/demo/registrar/hook", data=b"{}").status_code == 404
    assert client.post("/demo/stripe/v1/refunds", data=b"").status_code == 404
    assert client.post("/demo/paypal/v1/oauth2/token", data=b"").status_code == 404
    assert panel.PLUGIN_NAME not in {name for name, _p in mill.plugins.pm.list_name_plugin()}


def test_demo_settings_point_the_webhook_module_at_the_panel(mill: Ordermill) -> None:
    settings = panel.demo_settings(mill.settings, BASE, secret="abc")
    config = settings.plugin_config("provisioning")
    assert config["modules"]["webhook"] == {"url": f"{BASE}/demo/panel/hook", "secret": "abc"}
    assert config["registrars"]["webhook"] == {"url": f"{BASE}/demo/registrar/hook",
                                               "secret": "abc"}
    assert config["default_registrar"] == "webhook"
    assert settings.plugin_config("payment_stripe")["api_base"] == f"{BASE}/demo/stripe"
    assert settings.plugin_config("payment_paypal")["api_base"] == f"{BASE}/demo/paypal"
    assert mill.settings.plugin_config("provisioning") == {}  # the original is unchanged

    own = {"provisioning": {"modules": {"webhook": {"url": "https://panel.example/h",
                                                    "secret": "mine"}},
                            "default_registrar": "other", "max_attempts": 3}}
    kept = panel.demo_settings(mill.settings.__class__(
        database_url=mill.settings.database_url, instance_path=mill.settings.instance_path,
        plugins=own), BASE, secret="abc").plugin_config("provisioning")
    assert kept["modules"]["webhook"] == {"url": "https://panel.example/h", "secret": "mine"}
    assert kept["default_registrar"] == "other" and kept["max_attempts"] == 3


def test_demo_panel_creates_accounts_once_and_shows_them(mill: Ordermill) -> None:
    _demo, client = _demo_client(mill)
    service = {"id": 7, "order_number": "1234567890", "product": "Starter web hosting",
               "username": "lena42", "domain": None, "kind": "service"}
    answer = _post(client, "/demo/panel/hook", "service.create", service)
    assert answer.status_code == 200
    assert answer.get_json()["remote_id"] == "demo-account-7"
    again = _post(client, "/demo/panel/hook", "service.create", service)  # a retry
    assert again.get_json()["remote_id"] == "demo-account-7"
    domain = {"id": 9, "order_number": "1234567890", "product": ".eu domain",
              "domain": "lena-photo.eu", "kind": "domain"}
    registered = _post(client, "/demo/registrar/hook", "domain.register", domain)
    assert registered.status_code == 200
    assert registered.get_json()["remote_id"] == "demo-domain-9"

    accounts = client.get("/demo/panel/accounts.json").get_json()["accounts"]
    assert [(a["remote_id"], a["status"]) for a in accounts] == [
        ("demo-account-7", "active"), ("demo-domain-9", "active")]
    page = client.get("/demo/panel/").get_data(as_text=True)
    assert "lena42" in page and "lena-photo.eu" in page and "1234567890" in page

    suspended = _post(client, "/demo/panel/hook", "service.suspend", service)
    assert suspended.status_code == 200
    accounts = client.get("/demo/panel/accounts.json").get_json()["accounts"]
    assert accounts[0]["status"] == "suspended"


def test_demo_panel_refuses_an_unsigned_or_wrongly_signed_command(mill: Ordermill) -> None:
    _demo, client = _demo_client(mill)
    service = {"id": 3, "order_number": "1", "username": "x"}
    assert _post(client, "/demo/panel/hook", "service.create", service,
                 secret="wrong").status_code == 401
    assert client.post("/demo/panel/hook", data=b'{"event": "service.create"}',
                       content_type="application/json").status_code == 401
    assert client.get("/demo/panel/accounts.json").get_json() == {"accounts": []}


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="uses SIGTERM")
def test_plain_serve_has_no_demo_panel(tmp_path: Path) -> None:
    """The real `ordermill serve` without --demo: the panel's routes do not exist."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ORDERMILL_")}
    env["ORDERMILL_INSTANCE_PATH"] = str(tmp_path / "instance")
    env["PYTHONUNBUFFERED"] = "1"
    subprocess.run([*ordermill_command(), "init"], env=env, cwd=tmp_path, check=True,
                   capture_output=True, timeout=120)
    with serving(env, "--no-worker", cwd=tmp_path) as server:
        assert requests.get(f"{server.url}/demo/panel/", timeout=10).status_code == 404
        assert "Demo control panel" not in server.output()
        assert requests.get(f"{server.url}/demo/panel/accounts.json",
                            timeout=10).status_code == 404
        assert requests.post(f"{server.url}/demo/panel/hook", data=b"{}",
                             timeout=10).status_code == 404
        assert requests.post(f"{server.url}/demo/registrar/hook", data=b"{}",
                             timeout=10).status_code == 404
        assert requests.post(f"{server.url}/demo/stripe/v1/refunds", data=b"",
                             timeout=10).status_code == 404
        assert requests.post(f"{server.url}/demo/paypal/v2/checkout/orders", data=b"{}",
                             timeout=10).status_code == 404
