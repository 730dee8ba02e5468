"""Lists: order search and filters, sorting, paging, CSV export, payments, reference data.

Also proves the list is a fixed number of queries whatever the page size (no N+1), that the
stored payment status the filter uses equals the one computed in Python, and that cursor
pages, capped counts and page numbers agree (issue 20).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, update

from ordermill import hookimpl
from ordermill.core import queries
from ordermill.core.app import Ordermill
from ordermill.core.models import Order
from ordermill.core.specs import Actor
from ordermill.core.statuses import StatusSpec, payment_status


def stock_the_shop(make_product: Callable[..., Any], make_promo: Callable[..., Any]) -> None:
    make_product("TSHIRT", price=1250, stock=100, category="apparel")
    make_product("MUG", price=800, stock=None, category="kitchen")
    make_product("TICKET", price=0, stock=None, category="events")
    make_promo("SAVE10")


@pytest.fixture
def shop(make_product: Callable[..., Any], make_promo: Callable[..., Any]) -> None:
    stock_the_shop(make_product, make_promo)


def place(mill: Ordermill, staff: Actor, lines: list[tuple[str, int]], *,
          name: str = "Bea Buyer", email: str = "bea@example.com",
          method: str = "banktransfer", promo: str | None = None,
          days_ago: int = 0) -> str:
    from ordermill.testing import order_request

    result = mill.orders.place(order_request(lines, name=name, email=email,
                                             payment_method=method, promo_code=promo),
                               actor=staff)
    assert result.order is not None
    number = result.order.number
    if days_ago:
        when = dt.datetime.now(dt.UTC) - dt.timedelta(days=days_ago)
        with mill.write_session() as session, session.begin():
            session.execute(update(Order).where(Order.number == number).values(placed_at=when))
    return number


@pytest.fixture
def orders(mill: Ordermill, staff: Actor, make_product: Callable[..., Any],
           make_promo: Callable[..., Any],
           data_snapshot: Callable[..., dict[str, str]]) -> dict[str, str]:
    """A small shop history with one order per interesting situation (with the `shop`), built
    once per database; the module's other tests get a copy (ordermill.testing_snapshots)."""

    def build() -> dict[str, str]:
        stock_the_shop(make_product, make_promo)
        return place_history(mill, staff)

    return data_snapshot("orders", build)


def place_history(mill: Ordermill, staff: Actor) -> dict[str, str]:
    made = {
        "unpaid": place(mill, staff, [("TSHIRT", 1)], name="Alice Martin",
                        email="alice@example.com", days_ago=10),
        "partial": place(mill, staff, [("TSHIRT", 2)], name="Bob Stone", email="bob@shop.io",
                         method="cheque", days_ago=5),
        "paid": place(mill, staff, [("MUG", 1)], name="Chloé Durand",
                      email="chloe@example.com", promo="SAVE10", days_ago=3),
        "part_refunded": place(mill, staff, [("TSHIRT", 1), ("MUG", 1)], name="Dan Brown",
                               email="dan@example.com", method="stripe", days_ago=2),
        "refunded": place(mill, staff, [("MUG", 2)], name="Eve Adams",
                          email="eve@example.com", days_ago=1),
        "free": place(mill, staff, [("TICKET", 1)], name="Fay Wray", email="fay@example.com"),
    }
    mill.orders.record_payment(made["partial"], actor=staff, amount=1000)
    mill.orders.mark_paid(made["paid"], actor=staff)
    mill.orders.mark_paid(made["part_refunded"], actor=staff)
    mill.orders.refund(made["part_refunded"], actor=staff, amount=500)
    mill.orders.mark_paid(made["refunded"], actor=staff)
    mill.orders.refund(made["refunded"], actor=staff)
    mill.orders.accept(made["paid"], actor=staff)
    return made


def numbers(response: Any) -> set[str]:
    assert response.status_code == 200, response.get_json()
    return {row["number"] for row in response.get_json()["orders"]}


def test_list_rows_show_the_table_of_the_seeds(api: Any, orders: dict[str, str]) -> None:
    body = api.get("orders", role="viewer").get_json()
    assert body["total"] == 6 and body["page"] == 1 and body["pages"] == 1
    rows = {row["number"]: row for row in body["orders"]}
    paid = rows[orders["paid"]]
    assert paid["buyer_name"] == "Chloé Durand" and paid["promo_code"] == "SAVE10"
    assert paid["payment_status"] == "paid" and paid["summary"] == "Complete"
    assert paid["total"] == "7.20" and paid["quantity"] == 1
    assert rows[orders["partial"]]["amount_due"] == "15.00"
    assert rows[orders["refunded"]]["summary"] == "Refunded"
    # newest first by default
    assert body["orders"][0]["number"] == orders["free"]
    assert body["orders"][-1]["number"] == orders["unpaid"]


@pytest.mark.parametrize("query, expected", [
    ("q=alice", ["unpaid"]),
    ("q=ALICE%20MART", ["unpaid"]),
    ("q=shop.io", ["partial"]),
    ("q=chlo%C3%A9", ["paid"]),
    ("status=active", ["paid"]),
    ("status=refunded", ["refunded"]),
    ("status=active&status=refunded", ["paid", "refunded"]),
    ("status=active,refunded", ["paid", "refunded"]),
    ("payment_status=unpaid", ["unpaid"]),
    ("payment_status=partially_paid", ["partial"]),
    ("payment_status=paid", ["paid", "free"]),
    ("payment_status=partially_refunded", ["part_refunded"]),
    ("payment_status=refunded", ["refunded"]),
    ("payment_method=cheque", ["partial"]),
    ("payment_method=stripe&payment_method=cheque", ["partial", "part_refunded"]),
    ("promo_code=save10", ["paid"]),
    ("sku=TSHIRT", ["unpaid", "partial", "part_refunded"]),
    ("category=kitchen", ["paid", "part_refunded", "refunded"]),
    ("sku=MUG&payment_status=refunded", ["refunded"]),
    ("q=nobody", []),
])
def test_filters(api: Any, orders: dict[str, str], query: str, expected: list[str]) -> None:
    assert numbers(api.get(f"orders?{query}", role="viewer")) == {orders[k] for k in expected}


def test_search_by_order_number(api: Any, orders: dict[str, str]) -> None:
    number = orders["partial"]
    assert numbers(api.get(f"orders?q={number}")) == {number}
    assert number in numbers(api.get(f"orders?q={number[:6]}"))
    assert numbers(api.get(f"orders?number={number}&number={orders['paid']}")) == {
        number, orders["paid"]}


@pytest.mark.parametrize("value, refused", [
    ("%1F", False),  # a control character is a value (Python would strip it: the doc would not)
    ("%20%09", True), ("a,,b", True), ("a,%20", True), ("%20a%20,%09b", False)])
def test_a_list_parameter_is_refused_exactly_when_the_document_says_so(
        api: Any, orders: dict[str, str], value: str, refused: bool) -> None:
    """`?number=` and the other comma lists: only spaces and tabs are trimmed, and the item
    pattern of the OpenAPI document says which values are empty (found by schemathesis)."""
    import re
    from urllib.parse import unquote

    document = api.get("/api/v1/openapi.json").get_json()
    parameters = document["paths"]["/api/v1/orders"]["get"]["parameters"]
    pattern = next(p for p in parameters if p["name"] == "number")["schema"]["items"]["pattern"]
    assert (re.search(pattern, unquote(value)) is None) == refused
    answer = api.get(f"orders?number={value}")
    if refused:
        assert answer.status_code == 422, answer.get_json()
        assert "number" in answer.get_json()["error"]["details"]["fields"]
    else:
        assert numbers(answer) == set()


def test_date_range(api: Any, orders: dict[str, str]) -> None:
    today = dt.datetime.now(dt.UTC).date()
    three_days_ago = (today - dt.timedelta(days=3)).isoformat()
    five_days_ago = (today - dt.timedelta(days=5)).isoformat()
    assert numbers(api.get(f"orders?placed_from={five_days_ago}&placed_to={three_days_ago}")
                   ) == {orders["partial"], orders["paid"]}
    assert numbers(api.get(f"orders?placed_from={today.isoformat()}")) == {orders["free"]}
    assert numbers(api.get(f"orders?placed_to={five_days_ago}")) == {
        orders["unpaid"], orders["partial"]}


def test_needs_attention_filter(mill: Ordermill, api: Any, orders: dict[str, str],
                                staff: Actor) -> None:
    mill.orders.record_payment(orders["refunded"], actor=staff, amount=100)  # flagged
    assert numbers(api.get("orders?needs_attention=true")) == {orders["refunded"]}
    assert orders["refunded"] not in numbers(api.get("orders?needs_attention=false"))


@pytest.mark.parametrize("sort, first, last", [
    ("placed_at", "unpaid", "free"),
    ("-placed_at", "free", "unpaid"),
    ("total", "free", "partial"),
    ("-total", "partial", "free"),
    ("buyer_name", "unpaid", "free"),
])
def test_sorting(api: Any, orders: dict[str, str], sort: str, first: str, last: str) -> None:
    rows = api.get(f"orders?sort={sort}").get_json()["orders"]
    assert rows[0]["number"] == orders[first] and rows[-1]["number"] == orders[last]


def test_paging(api: Any, orders: dict[str, str]) -> None:
    pages = [api.get(f"orders?per_page=4&page={page}&sort=placed_at").get_json()
             for page in (1, 2, 3)]
    assert [len(p["orders"]) for p in pages] == [4, 2, 0]
    assert pages[0]["pages"] == 2 and pages[0]["next_page"] == 2
    assert pages[0]["prev_page"] is None and pages[1]["next_page"] is None
    assert pages[1]["prev_page"] == 1
    seen = [row["number"] for p in pages for row in p["orders"]]
    assert len(seen) == len(set(seen)) == 6


@pytest.mark.parametrize("query, field", [
    ("payment_status=late", "payment_status.0"),
    ("sort=price", "sort"),
    ("per_page=500", "per_page"),
    ("page=0", "page"),
    ("placed_from=yesterday", "placed_from"),
    ("placed_from=2024-05-02&placed_to=2024-05-01", "placed_to"),
    ("needs_attention=perhaps", "needs_attention"),
])
def test_bad_filters_are_422(api: Any, shop: None, query: str, field: str,
                             error_of: Callable[..., Any]) -> None:
    error = error_of(api.get(f"orders?{query}"), 422, "validation_error")
    assert field in error["details"]["fields"]


def test_listing_needs_view_orders(client: Any, error_of: Callable[..., Any]) -> None:
    error_of(client.get("/api/v1/orders"), 401, "unauthenticated")


@contextmanager
def counting_queries(mill: Ordermill) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(mill.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(mill.engine, "before_cursor_execute", record)


def test_list_is_a_fixed_number_of_queries(mill: Ordermill, api: Any, shop: None,
                                           staff: Actor) -> None:
    """Count, orders, lines, payments, invoices (+ the token check): the same for 2 rows or
    30."""
    for index in range(2):
        place(mill, staff, [("TSHIRT", 1), ("MUG", 1)], name=f"Buyer {index}")
    with counting_queries(mill) as few:
        assert len(api.get("orders?per_page=50&payment_status=unpaid").get_json()["orders"]) == 2
    for index in range(28):
        number = place(mill, staff, [("TSHIRT", 1), ("MUG", 2)], name=f"More {index}")
        if index % 3 == 0:
            mill.orders.record_payment(number, actor=staff, amount=100)
    with counting_queries(mill) as many:
        rows = api.get("orders?per_page=50").get_json()["orders"]
    assert len(rows) == 30
    assert len(many) == len(few) <= 6, many


def test_sql_payment_status_matches_python(mill: Ordermill, orders: dict[str, str],
                                           staff: Actor) -> None:
    page = queries.search_orders(mill, actor=staff, per_page=200)
    for order in page.items:
        wanted = payment_status(order)
        found = queries.search_orders(mill, queries.OrderFilters(
            numbers=(order.number,), payment_statuses=(wanted,)), actor=staff)
        assert [o.number for o in found.items] == [order.number], (order.number, wanted)


# ---------------------------------------------------------------- CSV export


def read_csv(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_export_csv_with_filters(api: Any, orders: dict[str, str]) -> None:
    rows = read_csv(api.get("orders/export.csv", role="support"))
    assert len(rows) == 6
    assert list(rows[0]) == list(queries.CSV_COLUMNS)
    by_number = {row["number"]: row for row in rows}
    paid = by_number[orders["paid"]]
    assert paid["total"] == "7.20" and paid["discount"] == "0.80"
    assert paid["payment_status"] == "paid" and paid["skus"] == "MUG"
    assert by_number[orders["part_refunded"]]["refunded"] == "5.00"
    filtered = read_csv(api.get("orders/export.csv?category=apparel&sort=placed_at"))
    assert [row["number"] for row in filtered] == [
        orders["unpaid"], orders["partial"], orders["part_refunded"]]


def test_export_needs_the_export_permission(api: Any, orders: dict[str, str],
                                            error_of: Callable[..., Any]) -> None:
    error = error_of(api.get("orders/export.csv", role="viewer"), 403, "permission_denied")
    assert error["details"]["permission"] == "export"


def test_export_defuses_spreadsheet_formulas(mill: Ordermill, api: Any, shop: None,
                                             staff: Actor) -> None:
    place(mill, staff, [("MUG", 1)], name='=HYPERLINK("http://evil.example","x")')
    rows = read_csv(api.get("orders/export.csv"))
    assert rows[0]["buyer_name"].startswith("'=HYPERLINK")


def test_export_is_batched(mill: Ordermill, api: Any, shop: None, staff: Actor,
                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(queries, "EXPORT_BATCH", 2)
    made = [place(mill, staff, [("MUG", 1)], name=f"B{index}") for index in range(5)]
    rows = read_csv(api.get("orders/export.csv?sort=placed_at"))
    assert [row["number"] for row in rows] == made


# ---------------------------------------------------------------- payments, reference data


def test_payments_list_and_export(api: Any, orders: dict[str, str],
                                  error_of: Callable[..., Any]) -> None:
    body = api.get("payments", role="viewer").get_json()
    kinds = [(p["kind"], p["order_number"]) for p in body["payments"]]
    assert body["total"] == len(kinds) == 6
    assert ("refund", orders["refunded"]) in kinds
    refunds = api.get("payments?kind=refund&sort=created_at").get_json()["payments"]
    assert [p["order_number"] for p in refunds] == [orders["part_refunded"], orders["refunded"]]
    assert refunds[0]["amount"] == "5.00"
    cheque = api.get(f"payments?order={orders['partial']}").get_json()["payments"]
    assert [(p["amount"], p["gateway"], p["buyer_name"]) for p in cheque] == [
        ("10.00", "cheque", "Bob Stone")]
    rows = read_csv(api.get("payments/export.csv?gateway=stripe"))
    assert [(r["kind"], r["amount"]) for r in rows] == [("charge", "20.50"), ("refund", "5.00")]
    error_of(api.get("payments/export.csv", role="viewer"), 403, "permission_denied")


def test_statuses(api: Any, register_plugin: Callable[..., Any]) -> None:
    class OnHold:
        @hookimpl
        def register_statuses(self, settings: Any) -> list[StatusSpec]:
            return [StatusSpec("on_hold", "On hold", "pending", transitions={"active"},
                               reachable_from={"pending"})]

    register_plugin(OnHold(), name="on-hold")
    statuses = {s["name"]: s for s in api.get("statuses", role="viewer").get_json()["statuses"]}
    assert {"pending", "active", "completed", "fraud", "cancelled", "refunded",
            "on_hold"} <= set(statuses)
    assert statuses["refunded"]["transitions"] == []
    assert "on_hold" in statuses["pending"]["transitions"]
    assert statuses["on_hold"]["category"] == "pending"
    assert "on-hold" in statuses["on_hold"]["owner"]


def test_products(api: Any, shop: None, mill: Ordermill) -> None:
    body = api.get("products", role="viewer").get_json()
    assert [p["sku"] for p in body["products"]] == ["MUG", "TICKET", "TSHIRT"]
    tshirt = body["products"][2]
    assert tshirt["price"] == "12.50" and tshirt["stock"] == 100 and tshirt["currency"] == "EUR"
    assert [p["sku"] for p in api.get("products?q=shi").get_json()["products"]] == ["TSHIRT"]
    assert [p["sku"] for p in api.get("products?category=events").get_json()["products"]] == [
        "TICKET"]


def test_plugins(api: Any) -> None:
    body = api.get("plugins", role="viewer").get_json()
    names = {plugin["name"] for plugin in body["plugins"]}
    assert "restock" in names
    restock = next(p for p in body["plugins"] if p["name"] == "restock")
    assert "restock" in restock["hooks"]
    assert isinstance(body["failures"], list)


@pytest.mark.parametrize("path", ["statuses", "products", "plugins", "payments"])
def test_reference_data_needs_a_token(client: Any, path: str,
                                      error_of: Callable[..., Any]) -> None:
    error_of(client.get(f"/api/v1/{path}"), 401, "unauthenticated")


# ---------------------------------------------------------------- deep lists (issue 20)


@pytest.mark.parametrize("sort", ["-placed_at", "placed_at", "-total", "total", "number",
                                  "-buyer_name", "status"])
def test_cursor_pages_walk_the_list_like_page_numbers(api: Any, orders: dict[str, str],
                                                      sort: str) -> None:
    """`after=next_cursor` gives the same rows, in the same order, as page=1, 2, 3..."""
    by_page = [row["number"] for page in (1, 2, 3)
               for row in api.get(f"orders?per_page=2&page={page}&sort={sort}")
               .get_json()["orders"]]
    by_cursor: list[str] = []
    body = api.get(f"orders?per_page=2&sort={sort}").get_json()
    while True:
        by_cursor += [row["number"] for row in body["orders"]]
        if body["next_cursor"] is None:
            break
        body = api.get(f"orders?per_page=2&sort={sort}&after={body['next_cursor']}").get_json()
    assert by_cursor == by_page and len(by_page) == 6
    filtered = api.get(f"orders?per_page=1&sort={sort}&payment_status=paid").get_json()
    assert filtered["next_cursor"] is not None  # "paid" and "free"
    rest = api.get(f"orders?per_page=5&sort={sort}&payment_status=paid"
                   f"&after={filtered['next_cursor']}").get_json()
    assert len(rest["orders"]) == 1 and rest["next_cursor"] is None
    assert {filtered["orders"][0]["number"], rest["orders"][0]["number"]} == \
        {orders["paid"], orders["free"]}


def test_a_cursor_of_another_sort_or_damaged_is_422(api: Any, orders: dict[str, str],
                                                    error_of: Callable[..., Any]) -> None:
    cursor = api.get("orders?per_page=2&sort=-total").get_json()["next_cursor"]
    for bad in (cursor, cursor[:-3] + "xyz", "not-a-cursor", "W10"):
        error = error_of(api.get(f"orders?per_page=2&after={bad}"), 422, "invalid_input")
        assert error["details"]["field"] == "after"


def test_the_count_is_capped_and_says_so(api: Any, orders: dict[str, str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Past COUNT_CAP matches the total is a lower bound (`total_exact` false) and the
    next page is still offered; a count under the cap is exact."""
    assert api.get("orders?per_page=2").get_json()["total_exact"] is True
    monkeypatch.setattr(queries, "COUNT_CAP", 3)
    first = api.get("orders?per_page=2").get_json()
    assert (first["total"], first["total_exact"], first["next_page"]) == (3, False, 2)
    second = api.get("orders?per_page=2&page=2").get_json()  # counts up to its own page
    assert (second["total"], second["total_exact"], second["next_page"]) == (4, False, 3)
    third = api.get("orders?per_page=2&page=3").get_json()
    assert (third["total"], third["total_exact"], third["next_page"]) == (6, True, None)
    filtered = api.get("orders?per_page=2&payment_status=paid").get_json()
    assert (filtered["total"], filtered["total_exact"]) == (2, True)
