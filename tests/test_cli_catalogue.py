"""`ordermill product|stock|promo`: the catalogue from the command line, on a database made
by `ordermill init` (so through the migrations), errors as one line and exit code 1."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from ordermill.cli import main

Invoke = Callable[..., Result]


@pytest.fixture
def invoke(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    for key in list(os.environ):
        if key.startswith("ORDERMILL_"):
            monkeypatch.delenv(key)
    env = {"ORDERMILL_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite'}",
           "ORDERMILL_INSTANCE_PATH": str(tmp_path / "instance")}
    runner = CliRunner()

    def run(*args: str, code: int = 0, **kwargs: Any) -> Result:
        result = runner.invoke(main, list(args), env=env, **kwargs)
        assert "Traceback" not in result.output
        assert result.exit_code == code, (result.output, result.exception)
        return result

    run("init")
    return run


def test_products_stock_and_promo_codes_from_the_cli(invoke, tmp_path):
    added = invoke("product", "add", "SHIRT", "--name", "T-shirt", "--price", "12.50",
                   "--price-in", "USD=14.00", "--stock", "10", "--category", "Clothes",
                   "--low-stock", "3").output
    assert "Created" in added and "12.50 EUR, 14.00 USD" in added
    assert "price 12.50 -> 13.00" not in invoke("product", "edit", "SHIRT", "--price", "13.00",
                                                "--dry-run").output
    invoke("product", "edit", "SHIRT", "--price", "13.00")
    assert "+5 (received): now 15" in invoke("stock", "adjust", "SHIRT", "+5", "--reason",
                                             "received").output
    assert "-2 (damaged): now 13" in invoke("stock", "adjust", "SHIRT", "-2", "--reason",
                                            "damaged").output
    assert "counted: 2 (-11)" in invoke("stock", "adjust", "SHIRT", "--count", "2").output
    ledger = json.loads(invoke("stock", "ledger", "SHIRT", "--json").output)
    assert ledger["stock"] == ledger["ledger_total"] == 2
    listed = json.loads(invoke("product", "list", "--json").output)
    assert [(p["sku"], p["price"], p["stock"]) for p in listed] == [("SHIRT", "13.00", 2)]
    assert "(low stock)" in invoke("product", "show", "SHIRT").output

    promo = invoke("promo", "add", "TEN", "--percent", "10", "--limit", "5", "--category",
                   "Clothes", "--valid-until", "2031-10-31").output
    assert "TEN: 10% off, used 0/5, only for Clothes, until 2031-10-31" in promo
    assert "TEN" in invoke("promo", "list").output
    assert "disabled" in invoke("promo", "disable", "TEN").output

    export = tmp_path / "products.csv"
    invoke("product", "export", str(export))
    report = invoke("product", "import", str(export), "--dry-run").output
    assert "0 created, 0 updated, 1 unchanged, 0 refused" in report
    assert "archived" in invoke("product", "archive", "SHIRT").output


@pytest.mark.parametrize(("args", "message"), [
    (("product", "add", "SHIRT", "--name", "X", "--price", "1.00"), "exists already"),
    (("product", "add", "NEW", "--name", "X", "--price", "-1.00"), "negative"),
    (("product", "add", "NEW", "--name", "X", "--price", "1.00", "--currency", "XYZ"),
     "Unknown currency"),
    (("stock", "adjust", "SHIRT", "-50", "--reason", "damaged"), "only 10 in stock"),
    (("stock", "adjust", "SHIRT", "+1"), "--reason"),
    (("promo", "add", "P", "--percent", "10", "--product", "NOPE"), "unknown product 'NOPE'"),
    (("promo", "add", "P", "--percent", "10", "--valid-until", "2020-01-01"), "in the past"),
])
def test_refusals_are_one_line_and_change_nothing(invoke, args, message):
    invoke("product", "add", "SHIRT", "--name", "T-shirt", "--price", "12.50", "--stock", "10")
    before = invoke("product", "export").output
    result = invoke(*args, code=1)
    assert message in result.output
    assert result.output.startswith("Error:")
    assert invoke("product", "export").output == before
    assert "No promo codes." in invoke("promo", "list").output
