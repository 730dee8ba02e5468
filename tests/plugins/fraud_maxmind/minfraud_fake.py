"""A local stand-in for MaxMind's minFraud web service, speaking its wire format over TLS.

The official client only speaks HTTPS (its scheme is fixed), so the server runs with a
certificate issued by a throw-away CA (trustme) and the plugin's `ca_bundle` setting makes the
client trust that CA. Requests authenticate with HTTP Basic (account id, license key) like the
real service; answers carry minFraud's content types and JSON bodies, errors its
{"code", "error"} documents.
"""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

from werkzeug import Request, Response

ACCOUNT_ID = 424242
LICENSE_KEY = "test-license-key"
ERROR_TYPE = "application/vnd.maxmind.com-error+json; charset=UTF-8; version=2.0"


class FakeMinFraud:
    """Scores by buyer e-mail (default 1.5); `down` answers 503; `license_key` is expected."""

    def __init__(self) -> None:
        self.scores: dict[str, float] = {}
        self.default_score = 1.5
        self.license_key = LICENSE_KEY
        self.down = False
        self.requests: list[dict[str, Any]] = []
        self.bodies: list[str] = []  # as sent, to check how amounts are written
        self.paths: list[str] = []
        self.auth: list[str] = []

    def handle(self, request: Request) -> Response:
        self.paths.append(request.path)
        self.auth.append(request.headers.get("Authorization", ""))
        if self.down:
            return Response("upstream unavailable", status=503, content_type="text/plain")
        if not self._authorized(request.headers.get("Authorization", "")):
            return self._error(401, "AUTHORIZATION_INVALID",
                               "Your account ID or license key could not be authenticated.")
        service = request.path.rsplit("/", 1)[-1]
        if service not in ("score", "insights", "factors"):
            return self._error(404, "NOT_FOUND", "no such service")
        self.bodies.append(request.get_data(as_text=True))
        body = json.loads(request.get_data())
        self.requests.append(body)
        email = body.get("email", {}).get("address", "")
        score = self.scores.get(email, self.default_score)
        answer: dict[str, Any] = {
            "id": str(uuid.uuid4()), "risk_score": score, "funds_remaining": 9.37,
            "queries_remaining": 4211, "ip_address": {"risk": 12.5},
            "warnings": [{"code": "INPUT_UNKNOWN", "warning": "Unknown input /device/foo",
                          "input_pointer": "/device/foo"}],
        }
        if score >= 50:
            answer["disposition"] = {"action": "manual_review", "reason": "custom_rule",
                                     "rule_label": "high risk buyer"}
        if service in ("insights", "factors"):
            answer["ip_address"] = {
                "risk": 12.5, "risk_reasons": [{"code": "ANONYMOUS_IP",
                                                "reason": "The IP is an anonymous proxy."}],
                "country": {"iso_code": "DE", "names": {"en": "Germany"}},
            }
            answer["email"] = {"is_free": True, "is_high_risk": score >= 50}
        return Response(json.dumps(answer), status=200, content_type=(
            f"application/vnd.maxmind.com-minfraud-{service}+json; charset=UTF-8; "
            f"version=2.0"))

    def _authorized(self, header: str) -> bool:
        scheme, _, encoded = header.partition(" ")
        if scheme != "Basic":
            return False
        user, _, key = base64.b64decode(encoded).decode().partition(":")
        return user == str(ACCOUNT_ID) and key == self.license_key

    @staticmethod
    def _error(status: int, code: str, message: str) -> Response:
        return Response(json.dumps({"code": code, "error": message}), status=status,
                        content_type=ERROR_TYPE)
