"""A reseller's test panel: receives the webhook module's POSTs and checks their signature.

The signature is checked here with hashlib/hmac directly (not with the plugin's own `verify`),
so the test proves the documented scheme: X-Ordermill-Signature "t=<unix>,v1=<hex>" where hex
is HMAC-SHA256(secret, "<t>." + raw body).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from flask import Flask
from werkzeug import Request, Response

SERVER_SECRET = "panel-server-secret"
MODULE_SECRET = "module-default-secret"
REGISTRAR_SECRET = "registrar-secret"


def signature_ok(secret: str, body: bytes, header: str) -> bool:
    parts = dict(part.split("=", 1) for part in header.split(","))
    stamp = int(parts["t"])
    expected = hmac.new(secret.encode(), f"{stamp}.".encode() + body,
                        hashlib.sha256).hexdigest()
    return abs(time.time() - stamp) < 300 and hmac.compare_digest(expected, parts["v1"])


class FakePanel:
    """Accounts by service id. `fail` > 0 answers 500 that many times; bad signatures 401."""

    def __init__(self, secret: str = SERVER_SECRET) -> None:
        self.secret = secret
        self.accounts: dict[int, dict[str, Any]] = {}
        self.received: list[dict[str, Any]] = []
        self.deliveries: list[str] = []
        self.rejected = 0
        self.fail = 0
        self.created = 0

    def handle(self, request: Request) -> Response:
        body = request.get_data()
        if not signature_ok(self.secret, body,
                            request.headers.get("X-Ordermill-Signature", "t=0,v1=")):
            self.rejected += 1
            return Response("bad signature", status=401)
        event = json.loads(body)
        assert request.headers["X-Ordermill-Event"] == event["event"]
        self.received.append(event)
        self.deliveries.append(request.headers["X-Ordermill-Delivery"])
        if self.fail > 0:
            self.fail -= 1
            return Response("panel is down", status=500)
        service = event["service"]
        action = event["event"].split(".", 1)[1]
        if action in ("create", "register", "transfer"):
            if service["id"] in self.accounts:  # what a careless panel would duplicate
                return Response(json.dumps({"error": "exists"}), status=409,
                                content_type="application/json")
            self.created += 1
            self.accounts[service["id"]] = {**service, "state": "active"}
            return Response(json.dumps({"remote_id": f"acct-{service['id']}"}), status=201,
                            content_type="application/json")
        account = self.accounts[service["id"]]
        if action == "terminate":
            del self.accounts[service["id"]]
        else:
            account["state"] = "suspended" if action == "suspend" else "active"
        return Response(status=204)

    def events(self) -> list[str]:
        return [event["event"] for event in self.received]


class Api:
    """The test client with a role's bearer token: api("POST", "orders/...", "viewer")."""

    def __init__(self, app: Flask, tokens: dict[str, str]) -> None:
        self.client = app.test_client()
        self.tokens = tokens

    def __call__(self, method: str, path: str, role: str = "admin", **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"}
        return self.client.open(f"/api/v1/{path}", method=method, headers=headers, **kwargs)
