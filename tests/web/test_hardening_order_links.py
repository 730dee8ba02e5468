"""Issue 10 item 14: customer order links expire (180 days by default, renewed by every
e-mail) and can be revoked per order through the API (one action, one history event).

Everything goes through HTTP on SQLite and PostgreSQL; links are taken from the e-mails a real
SMTP server received, or signed as an old e-mail would have been.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from ordermill.core.app import Ordermill
from ordermill.core.errors import ConfigurationError
from ordermill.core.order_links import LINK_SALT, REVOKE_EVENT
from ordermill.core.settings import Settings
from ordermill.plugins.notify_email.testing import SmtpSink

DAY = 86_400


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def ordermill_settings_overrides(smtp: SmtpSink) -> dict[str, Any]:
    return {"plugins": {"notify_email": {"host": "127.0.0.1", "port": smtp.port,
                                         "from_address": "orders@shop.test",
                                         "base_url": "https://shop.test"}}}


def signed_days_ago(mill: Ordermill, number: str, days: float, version: int = 0) -> str:
    """The token an e-mail sent `days` ago carried."""

    class Then(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time() - days * DAY)

    assert mill.settings.secret_key is not None
    serializer = URLSafeTimedSerializer(mill.settings.secret_key, salt=LINK_SALT, signer=Then)
    return serializer.dumps({"n": number, "v": version})


def mailed_links(mill: Ordermill, smtp: SmtpSink) -> list[str]:
    """Send what is queued; the order-page paths of the customer e-mails, oldest first."""
    mill.outbox.run_until_empty()
    paths = []
    for message in smtp.messages:
        body = message.get_body(("plain",)).get_content()
        paths += [word.removeprefix("https://shop.test") for word in body.split()
                  if word.startswith("https://shop.test/my-order/")]
    smtp.clear()
    return paths


def history_types(api: Any, number: str) -> list[str]:
    return [event["type"] for event in api.get(f"orders/{number}").get_json()["history"]]


def test_links_expire_after_180_days_by_default(
        mill: Ordermill, client: Any, make_product: Callable[..., Any],
        order_factory: Callable[..., Any]) -> None:
    make_product("TSHIRT", price=1000)
    number = order_factory().number
    assert mill.settings.order_link_max_age_days == 180
    assert client.get(f"/my-order/{signed_days_ago(mill, number, 179)}").status_code == 200
    expired = client.get(f"/my-order/{signed_days_ago(mill, number, 181)}")
    assert expired.status_code == 404 and number not in expired.get_data(as_text=True)


def test_the_maximum_age_is_configurable(
        mill: Ordermill, client: Any, make_product: Callable[..., Any],
        order_factory: Callable[..., Any], tmp_path: Path) -> None:
    make_product("TSHIRT", price=1000)
    number = order_factory().number
    week = Settings.from_env(env={"ORDERMILL_ORDER_LINK_MAX_AGE_DAYS": "7"},
                             database_url="sqlite://", instance_path=tmp_path)
    assert week.order_link_max_age_days == 7
    mill.settings = attrs.evolve(mill.settings, order_link_max_age_days=7)
    assert client.get(f"/my-order/{signed_days_ago(mill, number, 6)}").status_code == 200
    assert client.get(f"/my-order/{signed_days_ago(mill, number, 8)}").status_code == 404
    for bad in ("0", "-3", "soon", "\uff11"):
        with pytest.raises(ConfigurationError, match="ORDERMILL_ORDER_LINK_MAX_AGE_DAYS"):
            Settings.from_env(env={"ORDERMILL_ORDER_LINK_MAX_AGE_DAYS": bad},
                              database_url="sqlite://", instance_path=tmp_path)


@pytest.mark.slow  # waits for the signing second to pass
def test_every_email_carries_a_freshly_signed_link(
        mill: Ordermill, client: Any, api: Any, smtp: SmtpSink,
        make_product: Callable[..., Any], order_factory: Callable[..., Any]) -> None:
    make_product("TSHIRT", price=1000)
    number = order_factory(paid=True).number
    first = mailed_links(mill, smtp)
    assert first, "the confirmation e-mail has a link to the order page"
    time.sleep(1.1)  # links carry their signing second
    answer = api.post(f"orders/{number}/comments",
                      json={"text": "On its way.", "notify_customer": True})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    later = mailed_links(mill, smtp)
    assert later and later[-1] != first[-1]
    assert mill.settings.secret_key is not None
    serializer = URLSafeTimedSerializer(mill.settings.secret_key, salt=LINK_SALT)
    _, signed_at = serializer.loads(later[-1].rsplit("/", 1)[1], return_timestamp=True)
    assert time.time() - signed_at.timestamp() < 60  # signed when sent, not when queued
    for path in first + later:
        assert client.get(path).status_code == 200


def test_revoking_ends_every_earlier_link_and_the_next_email_works(
        mill: Ordermill, client: Any, api: Any, smtp: SmtpSink,
        make_product: Callable[..., Any], order_factory: Callable[..., Any],
        unchanged: Callable[[], Callable[[], None]]) -> None:
    make_product("TSHIRT", price=1000)
    number = order_factory(paid=True).number
    old_links = [*mailed_links(mill, smtp), f"/my-order/{signed_days_ago(mill, number, 30)}"]
    path = f"orders/{number}/customer-links/revoke"

    check = unchanged()
    assert api.post(path, role="viewer", json={}).status_code == 403
    assert api.post(path, role=None, json={}).status_code == 401
    preview = api.post(f"{path}?dry_run=true", json={})
    assert preview.status_code == 200 and preview.get_json()["dry_run"] is True
    check()
    for link in old_links:
        assert client.get(link).status_code == 200

    version = api.get(f"orders/{number}").get_json()["version"]
    revoked = api.post(path, role="support",
                       json={"expected_version": version, "comment": "forwarded e-mail"})
    assert revoked.status_code == 200, revoked.get_data(as_text=True)
    body = revoked.get_json()
    assert body["event"]["type"] == REVOKE_EVENT and body["event"]["comment"] == \
        "forwarded e-mail"
    assert body["event"]["visible_to_customer"] is False
    assert body["order"]["version"] == version + 1
    assert history_types(api, number).count(REVOKE_EVENT) == 1
    for link in old_links:
        page = client.get(link)
        assert page.status_code == 404 and number not in page.get_data(as_text=True)
    stale = api.post(path, json={"expected_version": version})
    assert stale.status_code == 409

    api.post(f"orders/{number}/comments", json={"text": "New link.", "notify_customer": True})
    fresh = mailed_links(mill, smtp)
    assert fresh and all(client.get(link).status_code == 200 for link in fresh)
    assert all(client.get(link).status_code == 404 for link in old_links)

    again = api.post(path, json={})
    assert again.status_code == 200
    assert all(client.get(link).status_code == 404 for link in fresh)
    assert history_types(api, number).count(REVOKE_EVENT) == 2


def test_revoking_an_unknown_order_is_a_404(api: Any) -> None:
    answer = api.post("orders/1234567890/customer-links/revoke", json={})
    assert answer.status_code == 404
    assert answer.get_json()["error"]["code"] == "order_not_found"
