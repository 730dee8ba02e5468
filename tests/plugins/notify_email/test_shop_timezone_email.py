"""E-mails show dates in the shop's time zone (issue 21): an order placed at 11:30 UTC on
31 December in an Auckland shop was placed on 1 January, and one placed at 06:30 UTC on
1 January in a Los Angeles shop on 31 December. The confirmation says so, in the buyer's
language, and its invoice PDF is dated that day; a UTC shop (the control) says the UTC day.
Real SMTP on loopback, the outbox worker as in production."""
# ruff: noqa: RUF001  (Russian and Ukrainian text: Cyrillic letters are meant)

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import attrs
import pytest
import time_machine
from pypdf import PdfReader

from ordermill.plugins.notify_email.render import render_message
from ordermill.plugins.notify_email.testing import SmtpSink, flat
from ordermill.plugins.notify_email.testing import message_part as part
from ordermill.testing import order_request

#: zone -> (UTC instant of the order, {language: the confirmation's sentence})
CASES: dict[str, tuple[dt.datetime, dict[str, str]]] = {
    "Pacific/Auckland": (dt.datetime(2026, 12, 31, 11, 30, tzinfo=dt.UTC), {
        "en": "You placed this order on January 1, 2027.",
        "fr": "Vous avez passé cette commande le 1 janvier 2027.",
        "id": "Anda melakukan pemesanan ini pada 1 Januari 2027.",
        "uk": "Ви оформили це замовлення 1 січня 2027 р.",
    }),
    "America/Los_Angeles": (dt.datetime(2027, 1, 1, 6, 30, tzinfo=dt.UTC), {
        "en": "You placed this order on December 31, 2026.",
        "fr": "Vous avez passé cette commande le 31 décembre 2026.",
        "ru": "Вы оформили этот заказ 31 декабря 2026 г.",
    }),
    "UTC": (dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC), {
        "en": "You placed this order on December 31, 2026.",
        "fr": "Vous avez passé cette commande le 31 décembre 2026.",
    }),
}
PDF_DATE = {"Pacific/Auckland": "Date of issue: January 1, 2027",
            "America/Los_Angeles": "Date of issue: December 31, 2026",
            "UTC": "Date of issue: December 31, 2026"}


@pytest.fixture(params=sorted(CASES))
def zone(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def ordermill_settings_overrides(notify_config: dict[str, Any], zone: str) -> dict[str, Any]:
    return {"plugins": {"notify_email": notify_config}, "shop_name": "Test Shop",
            "timezone": zone}


def test_the_confirmation_says_the_day_the_order_was_placed_in_the_shops_zone(
    zone: str, mill: Any, make_product: Any, smtp: SmtpSink, staff: Any
) -> None:
    instant, sentences = CASES[zone]
    make_product("SEAT", price=1250, stock=20, name="Seat")
    numbers: dict[str, str] = {}
    with time_machine.travel(instant, tick=False):
        for language in sentences:
            request = order_request([("SEAT", 1)], email=f"{language}@example.com")
            request = attrs.evolve(request, customer=attrs.evolve(request.customer,
                                                                  language=language))
            numbers[language] = mill.orders.place(request, actor=staff).order.number
        mill.outbox.run_until_empty()  # jobs are due from the (travelled) moment they were made
    for language, sentence in sentences.items():
        [message] = [m for m in smtp.messages if m["To"] == f"{language}@example.com"]
        assert message["Content-Language"] == language
        assert sentence in part(message, "plain"), part(message, "plain")
        assert sentence in part(message, "html")
        if language == "en":
            [attachment] = list(message.iter_attachments())
            pdf = PdfReader(io.BytesIO(attachment.get_content()))
            text = flat("\n".join(page.extract_text() for page in pdf.pages))
            assert PDF_DATE[zone] in text, text


SHOP_TEMPLATE = {"Pacific/Auckland": "January 1, 2027 / 1/1/27, 12:30 AM",
                 "America/Los_Angeles": "December 31, 2026 / 12/31/26, 10:30 PM",
                 "UTC": "December 31, 2026 / 12/31/26, 11:30 PM"}


def test_a_shop_templates_date_filters_show_the_shops_day_and_clock(
        zone: str, tmp_path: Path) -> None:
    """`|date` and `|datetime` in any message: a stored UTC time at the shop's zone."""
    (tmp_path / "when.txt").write_text(
        '{% set subject = "x" %}{{ order.dispatched_at|date }} / '
        '{{ order.dispatched_at|datetime("short") }}', encoding="utf-8")
    context = {"order": {"number": "1234567890", "lines": [],
                         "dispatched_at": CASES[zone][0].isoformat()}}
    rendered = render_message("when", context, language="en", template_dir=tmp_path,
                              timezone=zone)
    assert flat(rendered.text).strip() == SHOP_TEMPLATE[zone]
