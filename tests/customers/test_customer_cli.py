"""`ordermill customer list|show|merge|export|erase`: the same core actions as the API, as
the system user 'cli'; refusals are one line and exit code 1."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ordermill.core.app import Ordermill
from ordermill.core.models import Customer


def _ids(mill: Ordermill) -> dict[str, int]:
    with mill.read_session() as session:
        return dict(session.execute(select(Customer.email, Customer.id)).all())


def test_customer_commands(mill: Ordermill, cli: Any, make_product: Any,
                           order_factory: Any, tmp_path: Path) -> None:
    make_product("TSHIRT", price=1000, stock=100)
    order_factory([("TSHIRT", 1)], email="cleo@example.com", name="Cleo Clay", paid=True)
    order_factory([("TSHIRT", 2)], email="cleo.work@example.com", name="Cleo Clay",
                  paid=True)
    ids = _ids(mill)
    home, work = ids["cleo@example.com"], ids["cleo.work@example.com"]

    listed = cli("customer", "list", "--search", "cleo", "--json")
    assert listed.exit_code == 0
    assert sorted(row["email"] for row in json.loads(listed.output)) == [
        "cleo.work@example.com", "cleo@example.com"]
    table = cli("customer", "list", "--sort", "-total_spent")
    assert table.exit_code == 0 and "cleo.work@example.com" in table.output
    shown = cli("customer", "show", str(home))
    assert shown.exit_code == 0 and "Cleo Clay <cleo@example.com>" in shown.output

    refused = cli("customer", "merge", str(home), str(home), "--yes")
    assert refused.exit_code == 1 and "itself" in refused.output
    assert "Traceback" not in refused.output
    merged = cli("customer", "merge", str(home), str(work), "--yes")
    assert merged.exit_code == 0 and "1 order(s)" in merged.output
    detail = json.loads(cli("customer", "show", str(home), "--json").output)
    assert detail["orders_count"] == 2 and detail["total_spent"] == {"EUR": "30.00"}

    target = tmp_path / "cleo.json"
    exported = cli("customer", "export", str(home), "-o", str(target))
    assert exported.exit_code == 0
    assert json.loads(target.read_text())["customer"]["email"] == "cleo@example.com"

    kept = cli("customer", "erase", str(home), input="n\n")
    assert kept.exit_code == 1 and _ids(mill).get("cleo@example.com") == home
    erased = cli("customer", "erase", str(home), "--yes")
    assert erased.exit_code == 0 and "retention" in erased.output.lower()
    assert "cleo@example.com" not in _ids(mill)
    again = cli("customer", "erase", str(home), "--yes")
    assert again.exit_code == 1 and "already erased" in again.output
    unknown = cli("customer", "show", "424242")
    assert unknown.exit_code == 1 and "No customer 424242" in unknown.output
