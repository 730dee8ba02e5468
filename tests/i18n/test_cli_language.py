"""The CLI speaks the language of LANG / LC_ALL / LC_MESSAGES (issue 21, acceptance 4):
`ordermill order show N` in French with babel's money and dates; JSON stays neutral."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from click.testing import CliRunner, Result

from ordermill.cli import main
from ordermill.core.app import Ordermill
from ordermill.core.i18n import locale_from_env
from ordermill.core.models import Product
from ordermill.core.settings import Settings
from ordermill.core.specs import Actor
from ordermill.testing import order_request


@pytest.fixture
def number(cli_env: dict[str, str]) -> Iterator[str]:
    """A placed order of two seats at €12.50, in the database of the CLI."""
    assert CliRunner().invoke(main, ["init"], env=cli_env).exit_code == 0
    mill = Ordermill(Settings.from_env(env=cli_env))
    try:
        with mill.write_session() as session, session.begin():
            session.add(Product(sku="SEAT", name="Seat", price=1250, currency="EUR", stock=10,
                                kind="ticket", category="general"))
        staff = Actor(kind="user", name="admin@shop.test", role="admin", user_id=None)
        placed = mill.orders.place(order_request([("SEAT", 2)]), actor=staff)
        assert placed.order is not None
        yield placed.order.number
    finally:
        mill.dispose()


def run(env: dict[str, str], *args: str, code: int = 0, **extra: str) -> Result:
    result = CliRunner().invoke(main, list(args), env={**env, **extra})
    assert result.exit_code == code, result.output
    return result


def test_order_show_prints_in_the_language_of_lang(cli_env: dict[str, str],
                                                   number: str) -> None:
    shown = run(cli_env, "order", "show", number, LANG="fr_FR.UTF-8").output
    assert f"Commande {number}" in shown and "En attente" in shown and "Impayé" in shown
    assert "Acheteur : Bea Buyer" in shown
    assert "Total 25,00\u00a0€ (sous-total 25,00\u00a0€" in shown  # babel's French money
    assert "Historique" in shown and "Commande passée par Bea Buyer" in shown
    assert "Factures" in shown and "Émise" in shown and "Commande " in shown
    assert "Order" not in shown and "Buyer:" not in shown and "Pending" not in shown
    assert "issued" not in shown and "Invoices" not in shown
    english = run(cli_env, "order", "show", number, LANG="C.UTF-8").output
    assert f"Order {number}" in english and "Total 25.00 EUR (subtotal 25.00" in english
    assert "Order placed by Bea Buyer" in english


def test_json_output_stays_locale_neutral(cli_env: dict[str, str], number: str) -> None:
    data = json.loads(run(cli_env, "order", "show", number, "--json",
                          LANG="fr_FR.UTF-8").stdout)
    assert data["total"] == "25.00" and data["status"] == "pending"


def test_errors_and_lists_follow_lc_all_over_lang(cli_env: dict[str, str], number: str) -> None:
    error = run(cli_env, "order", "show", "1234567890", code=1, LANG="en_US.UTF-8",
                LC_ALL="uk_UA.UTF-8").output
    assert "Помилка: Немає замовлення 1234567890." in error
    listed = run(cli_env, "order", "list", LANG="ru_RU.UTF-8").output
    assert "1 заказ." in listed and "ожидании" in listed
    assert "25,00\u00a0€" in listed


@pytest.mark.parametrize(("env", "locale"), [
    ({"LANG": "fr_FR.UTF-8"}, "fr"),
    ({"LANG": "fr_FR.UTF-8", "LC_MESSAGES": "id_ID.UTF-8"}, "id"),
    ({"LANG": "fr_FR.UTF-8", "LC_ALL": "uk_UA.UTF-8", "LC_MESSAGES": "id_ID"}, "uk"),
    ({"LANGUAGE": "de:ru:en", "LANG": "de_DE.UTF-8"}, "ru"),
    ({"LANG": "C.UTF-8"}, "en"),
    ({"LANG": "POSIX"}, "en"),
    ({"LANG": "de_DE.UTF-8"}, "en"),
    ({}, "en"),
])
def test_locale_from_env_follows_posix_precedence(env: dict[str, str], locale: str) -> None:
    assert locale_from_env(env) == locale
