"""The shop's time zone (issue 21): ORDERMILL_TIMEZONE / Settings.timezone.

A shop in Auckland and one in Los Angeles each take an order at a fixed UTC instant a little
after (before) their local midnight, on the other side of the date line from UTC. The admin's
order page, the customer page, the invoice PDF and `ordermill order show` show the shop's
local date and time; the API's JSON stays UTC ISO. A UTC shop is the control: the same code
with the default zone shows the UTC date. A name zoneinfo does not know stops start-up with
one translated sentence.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import time_machine
from click.testing import CliRunner
from pypdf import PdfReader

from ordermill.cli import main
from ordermill.core.app import Ordermill
from ordermill.core.documents import credit_note_pdf, invoice_pdf
from ordermill.core.errors import ConfigurationError
from ordermill.core.i18n import current_timezone, format_date, use_locale
from ordermill.core.order_links import order_link_token
from ordermill.core.settings import Settings
from ordermill.testing import order_request

BAD_ZONE = ("ORDERMILL_TIMEZONE is 'Mars/Base', which is not a time zone name; use an IANA "
            "name such as Europe/Paris.")


class Case(NamedTuple):
    """An order placed at `instant` (UTC) in a shop of one zone, and what people must read."""

    instant: dt.datetime
    local: str  # the admin's and the English CLI's "yyyy-MM-dd HH:mm"
    long_date: str  # the customer page's and the PDF's long date (English)
    utc: str  # the same instant at UTC, which a non-UTC shop must not show


CASES = {
    # 11:30 UTC on 31 December is 00:30 on 1 January in Auckland (UTC+13 in summer)
    "Pacific/Auckland": Case(dt.datetime(2026, 12, 31, 11, 30, tzinfo=dt.UTC),
                             "2027-01-01 00:30", "January 1, 2027", "2026-12-31 11:30"),
    # 06:30 UTC on 1 January is 22:30 on 31 December in Los Angeles (UTC-8)
    "America/Los_Angeles": Case(dt.datetime(2027, 1, 1, 6, 30, tzinfo=dt.UTC),
                                "2026-12-31 22:30", "December 31, 2026", "2027-01-01 06:30"),
    # the control: the default zone shows the UTC day
    "UTC": Case(dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC),
                "2026-12-31 23:30", "December 31, 2026", "2026-12-31 23:30"),
}


@pytest.fixture(params=sorted(CASES))
def zone(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def case(zone: str) -> Case:
    return CASES[zone]


@pytest.fixture
def ordermill_settings_overrides(zone: str) -> dict[str, Any]:
    return {"timezone": zone}


@pytest.fixture
def english_shell(shell_language: Callable[[str], None]) -> None:
    """The CLI reads LANG from the process: make it English whatever the machine says."""
    shell_language("C.UTF-8")


@pytest.fixture
def number(mill: Ordermill, make_product: Any, staff: Any, case: Case) -> str:
    """An order placed (and its invoice issued) at the case's instant."""
    make_product("SEAT", price=1250, name="Seat")
    with time_machine.travel(case.instant, tick=False):
        placed = mill.orders.place(order_request([("SEAT", 1)]), actor=staff)
    assert placed.order is not None
    return placed.order.number


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def test_the_admin_order_page_shows_the_shops_local_time(admin_client: Any, number: str,
                                                         case: Case, zone: str) -> None:
    page = admin_client.get(f"/admin/orders/{number}").get_data(as_text=True)
    assert f"placed {case.local} by Bea Buyer" in page
    if zone != "UTC":
        assert case.utc not in page


def test_api_and_admin_requests_format_in_the_shop_zone(app: Any, zone: str) -> None:
    """Every request (the API's error texts, the admin's pages) enters the shop's zone
    before any view runs, and leaves it afterwards."""
    for method, path in (("POST", "/api/v1/auth/login"), ("GET", "/admin/login")):
        with app.test_request_context(path, method=method, headers={"Accept-Language": "fr"}):
            app.preprocess_request()
            assert current_timezone() == zone
            assert format_date(dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC), "long") == {
                "Pacific/Auckland": "1 janvier 2027", "America/Los_Angeles": "31 décembre 2026",
                "UTC": "31 décembre 2026"}[zone]
            app.do_teardown_request()
        assert current_timezone() == "UTC"


def test_the_customer_page_shows_the_shops_local_date(client: Any, mill: Ordermill,
                                                      number: str, case: Case) -> None:
    page = client.get(f"/my-order/{order_link_token(mill, number)}").get_data(as_text=True)
    assert f"Placed on {case.long_date}" in page


def test_the_invoice_is_dated_the_shops_day_in_every_reader_zone(
        mill: Ordermill, number: str, case: Case, api_client: Any) -> None:
    order = mill.orders.get(number)
    [invoice] = [inv for inv in order.invoices if inv.state == "issued"]
    assert invoice.issued_at == case.instant  # stored as the UTC instant
    # numbered in the series of the year its date shows (INV-2027-... in Auckland)
    assert invoice.number.startswith(f"INV-{case.long_date[-4:]}-"), invoice.number
    text = pdf_text(invoice_pdf(mill, order, invoice, language="en").data)
    assert f"Date of issue: {case.long_date}" in text
    # the date is the shop's, not the zone a reader's process happens to be in
    with use_locale("en", "Asia/Kathmandu"):
        text = pdf_text(invoice_pdf(mill, order, invoice).data)
    assert f"Date of issue: {case.long_date}" in text
    downloaded = api_client.get(f"/api/v1/orders/{number}/invoices/{invoice.id}/pdf",
                                role="viewer")
    assert downloaded.status_code == 200
    assert f"Date of issue: {case.long_date}" in pdf_text(downloaded.data)
    # machine formats stay UTC ISO
    body = api_client.get(f"/api/v1/orders/{number}", role="viewer").get_json()
    assert dt.datetime.fromisoformat(body["placed_at"]) == case.instant
    assert body["placed_at"].startswith(case.utc.replace(" ", "T"))


def test_a_credit_note_is_dated_in_the_shop_zone_it_is_given(
        mill: Ordermill, number: str, case: Case, staff: Any, zone: str) -> None:
    mill.orders.mark_paid(number, actor=staff)
    with time_machine.travel(case.instant, tick=False):
        mill.orders.refund(number, actor=staff, amount=250)
    [note] = mill.orders.get(number).credit_notes
    text = pdf_text(credit_note_pdf(note, language="en", timezone=zone).data)
    assert f"Date of issue: {case.long_date}" in text


def test_order_show_prints_the_shops_local_time(cli: Any, number: str, case: Case,
                                                zone: str, english_shell: None) -> None:
    result = cli("order", "show", number)
    assert result.exit_code == 0, result.output
    assert f"Placed {case.local} {zone}, payment by banktransfer" in result.output
    assert case.local in result.output.split("History", 1)[1]  # the event's time too
    if zone != "UTC":
        assert case.utc not in result.output
    assert current_timezone() == "UTC"  # nothing outlives the command
    listed = cli("order", "list")
    assert case.local in listed.output
    data = json.loads(cli("order", "show", number, "--json").output)
    assert dt.datetime.fromisoformat(data["placed_at"]) == case.instant


def test_order_show_in_french_uses_babels_date_in_the_shop_zone(
        cli: Any, number: str, case: Case, zone: str, shell_language: Callable[[str], None]
) -> None:
    shell_language("fr_FR.UTF-8")
    shown = cli("order", "show", number).output
    day, clock = case.local.split()
    year, month, date = day.split("-")
    assert f"Passée le {date}/{month}/{year} {clock} {zone}, paiement par" in shown


def test_format_date_gives_the_day_in_the_zone() -> None:
    """The rule every "issued on" follows: 23:30 UTC on 31 December is 1 January in Paris."""
    late = dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC)
    with use_locale("en", "Europe/Paris"):
        assert format_date(late, "long") == "January 1, 2027"
        with use_locale("fr"):  # a buyer's language inside the shop's zone keeps the zone
            assert format_date(late, "long") == "1 janvier 2027"
    assert format_date(late, "long") == "December 31, 2026"


# ---- a zone zoneinfo does not know stops start-up ------------------------------------------

@pytest.mark.parametrize("name", ["Mars/Base", "europe/paris", "Europe", "../../etc/passwd",
                                  " Europe/Paris/"])
def test_an_unknown_zone_is_refused_when_settings_load(cli_env: dict[str, str],
                                                       name: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        Settings.from_env(env={**cli_env, "ORDERMILL_TIMEZONE": name})
    assert "is not a time zone name; use an IANA name such as Europe/Paris." in \
        refused.value.message
    with pytest.raises(ConfigurationError):
        Settings(database_url="sqlite://", instance_path=Path("."), timezone=name)


def test_a_known_zone_loads_and_the_default_is_utc(cli_env: dict[str, str]) -> None:
    assert Settings.from_env(env=cli_env).timezone == "UTC"
    loaded = Settings.from_env(env={**cli_env, "ORDERMILL_TIMEZONE": " Asia/Jakarta "})
    assert loaded.timezone == "Asia/Jakarta"


def test_a_bad_zone_stops_the_cli_and_the_web_app_with_one_sentence(
        cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    env = {**cli_env, "ORDERMILL_TIMEZONE": "Mars/Base"}
    result = CliRunner().invoke(main, ["order", "list"], env={**env, "LANG": "C.UTF-8"})
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: {BAD_ZONE}"
    french = CliRunner().invoke(main, ["order", "list"], env={**env, "LANG": "fr_FR.UTF-8"})
    assert french.exit_code == 1
    assert french.output.strip() == (
        "Erreur : ORDERMILL_TIMEZONE vaut 'Mars/Base', qui n'est pas un nom de fuseau "
        "horaire ; utilisez un nom IANA tel que Europe/Paris.")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    from ordermill.web import create_app

    with pytest.raises(ConfigurationError) as refused:
        create_app()
    assert refused.value.message == BAD_ZONE

