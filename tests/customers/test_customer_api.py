"""Acceptance 1 and 3 of issue 19 through /api/v1/customers: every endpoint's success, each
role's permission and bad input (merge into itself, erase twice, unknown id), each refusal a
clear JSON error that changes nothing; a merge keeps every order and payment and the list's
totals are the sum of both customers'."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest
from conftest import Api, check_error
from sqlalchemy import func, select

from ordermill.core.app import Ordermill
from ordermill.core.models import Customer, Order, OrderEvent, Payment
from ordermill.core.specs import Actor

READERS = ("admin", "manager", "support", "viewer")


@pytest.fixture
def two_customers(mill: Ordermill, make_product: Any, order_factory: Any,
                  data_snapshot: Any) -> tuple[int, int]:
    """Ann (two orders, one paid) and Bob (one paid order), both in EUR; built once per
    database, then restored (ordermill.testing_snapshots)."""

    def build() -> tuple[int, int]:
        make_product("TSHIRT", price=1000, stock=100)
        order_factory([("TSHIRT", 1)], email="ann@example.com", name="Ann Archer", paid=True)
        order_factory([("TSHIRT", 2)], email="ann@example.com", name="Ann Archer")
        order_factory([("TSHIRT", 3)], email="bob@example.com", name="Bob Baker", paid=True)
        with mill.read_session() as session:
            ids = dict(session.execute(select(Customer.email, Customer.id)).all())
        return ids["ann@example.com"], ids["bob@example.com"]

    return data_snapshot("two_customers", build)


def _row(api: Api, customer_id: int) -> dict[str, Any]:
    rows = api.get("customers?per_page=200").get_json()["customers"]
    return next(row for row in rows if row["id"] == customer_id)


def test_list_searches_sorts_pages_and_totals(api: Api, two_customers: tuple[int, int]) -> None:
    ann, bob = two_customers
    body = api.get("customers?sort=-orders_count").get_json()
    assert [row["id"] for row in body["customers"]] == [ann, bob]
    assert body["total"] == 2 and body["page"] == 1
    assert _row(api, ann)["orders_count"] == 2 and _row(api, ann)["total_spent"] == {
        "EUR": "10.00"}
    assert _row(api, bob)["total_spent"] == {"EUR": "30.00"}
    assert [r["id"] for r in api.get("customers?sort=-total_spent").get_json()["customers"]] \
        == [bob, ann]
    assert [r["name"] for r in api.get("customers?q=BAKER").get_json()["customers"]] == [
        "Bob Baker"]
    assert api.get("customers?q=ann%40example").get_json()["total"] == 1
    paged = api.get("customers?per_page=1&page=2&sort=name").get_json()
    assert [r["id"] for r in paged["customers"]] == [bob] and paged["prev_page"] == 1


@pytest.mark.parametrize("role", READERS)
def test_every_staff_role_reads_customers(api: Api, two_customers: tuple[int, int],
                                          role: str) -> None:
    ann, _bob = two_customers
    assert api.get("customers", role=role).status_code == 200
    page = api.get(f"customers/{ann}", role=role)
    assert page.status_code == 200
    body = page.get_json()
    assert body["email"] == "ann@example.com" and len(body["orders"]) == 2
    assert len(body["payments"]) == 1 and body["total_spent"] == {"EUR": "10.00"}


def test_csv_export_needs_export_and_matches_the_list(api: Api,
                                                      two_customers: tuple[int, int]) -> None:
    response = api.get("customers/export.csv?sort=name")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(r["email"], r["orders_count"], r["total_spent"]) for r in rows] == [
        ("ann@example.com", "2", "EUR 10.00"), ("bob@example.com", "1", "EUR 30.00")]
    check_error(api.get("customers/export.csv", role="viewer"), 403, "permission_denied")


def test_unknown_and_malformed_ids_are_clear_404s(api: Api, unchanged: Callable[..., Any],
                                                  two_customers: tuple[int, int]) -> None:
    check = unchanged()
    check_error(api.get("customers/999999"), 404, "customer_not_found")
    check_error(api.get("customers/2147483647"), 404, "customer_not_found")
    check_error(api.get("customers/99999999999"), 404)
    for path in ("customers/abc", "customers/-1"):
        check_error(api.get(path), 404)
    check_error(api.patch("customers/999999", json={"name": "X"}), 404, "customer_not_found")
    check_error(api.post("customers/999999/merge", json={"merge_id": two_customers[0]}), 404,
                "customer_not_found")
    check_error(api.post(f"customers/{two_customers[0]}/merge", json={"merge_id": 999999}),
                404, "customer_not_found")
    check_error(api.post("customers/999999/export"), 404, "customer_not_found")
    check_error(api.post("customers/999999/erase"), 404, "customer_not_found")
    check_error(api.post("customers/999999/notes", json={"text": "hi"}), 404,
                "customer_not_found")
    check_error(api.get("customers?sort=shoe_size"), 422)
    check()


def test_patch_edits_the_customer_not_their_orders(api: Api, mill: Ordermill,
                                                   two_customers: tuple[int, int]) -> None:
    ann, _bob = two_customers
    response = api.patch(f"customers/{ann}", json={
        "name": "Ann Archer-Smith", "phone": "+33 1 23 45 67 89",
        "billing_address": {"line1": "1 Rue X", "city": "Paris"}})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["name"] == "Ann Archer-Smith" and body["phone"] == "+33 1 23 45 67 89"
    assert body["history"][0]["type"] == "customer_edited"
    assert body["history"][0]["data"]["changes"]["name"] == ["Ann Archer", "Ann Archer-Smith"]
    with mill.read_session() as session:
        assert set(session.scalars(select(Order.buyer_name)
                                   .where(Order.customer_id == ann))) == {"Ann Archer"}


def test_patch_refuses_bad_input_and_changes_nothing(api: Api, unchanged: Callable[..., Any],
                                                     two_customers: tuple[int, int]) -> None:
    ann, _bob = two_customers
    check = unchanged()
    check_error(api.patch(f"customers/{ann}", json={"email": "not-an-email"}), 422)
    check_error(api.patch(f"customers/{ann}", json={"name": ""}), 422)
    check_error(api.patch(f"customers/{ann}", json={"shoe_size": 9}), 422)
    check_error(api.patch(f"customers/{ann}", json={}), 422, "invalid_input")
    check_error(api.patch(f"customers/{ann}", json={"name": "Ann Archer"}), 422,
                "invalid_input")
    error = check_error(api.patch(f"customers/{ann}", json={"email": "bob@example.com"}), 409,
                        "email_taken")
    assert "merge" in error["message"]
    check()


@pytest.mark.parametrize("role", ["manager", "support", "viewer"])
def test_only_admins_manage_and_erase_by_default(api: Api, unchanged: Callable[..., Any],
                                                 two_customers: tuple[int, int],
                                                 role: str) -> None:
    ann, bob = two_customers
    check = unchanged()
    for response in (api.patch(f"customers/{ann}", json={"name": "Z"}, role=role),
                     api.post(f"customers/{ann}/notes", json={"text": "hi"}, role=role),
                     api.post(f"customers/{ann}/merge", json={"merge_id": bob}, role=role),
                     api.post(f"customers/{ann}/export", role=role),
                     api.post(f"customers/{ann}/erase", role=role)):
        check_error(response, 403, "permission_denied")
    check()


def test_anonymous_callers_are_refused(api: Api, two_customers: tuple[int, int]) -> None:
    assert api.get("customers", role=None).status_code == 401
    assert api.post(f"customers/{two_customers[0]}/erase", role=None).status_code == 401


def test_notes_are_kept_and_written_to_the_history(api: Api,
                                                   two_customers: tuple[int, int]) -> None:
    ann, _bob = two_customers
    response = api.post(f"customers/{ann}/notes", json={"text": "  VIP, ships fast  "})
    assert response.status_code == 201
    body = response.get_json()
    assert [n["text"] for n in body["notes"]] == ["VIP, ships fast"]
    assert body["history"][0]["type"] == "note_added"
    check_error(api.post(f"customers/{ann}/notes", json={"text": "   "}), 422)


def test_merge_keeps_every_order_and_payment_and_adds_up(
        api: Api, mill: Ordermill, two_customers: tuple[int, int]) -> None:
    ann, bob = two_customers
    api.post(f"customers/{bob}/notes", json={"text": "Bob's note"})
    with mill.read_session() as session:
        orders_before = set(session.scalars(select(Order.number)))
        payments_before = sorted(session.execute(select(Payment.id, Payment.order_id,
                                                        Payment.amount)).all())
    ann_row, bob_row = _row(api, ann), _row(api, bob)

    response = api.post(f"customers/{ann}/merge", json={"merge_id": bob})

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["merged_customer_id"] == bob and len(body["orders_moved"]) == 1
    kept = body["customer"]
    assert kept["orders_count"] == ann_row["orders_count"] + bob_row["orders_count"] == 3
    assert kept["total_spent"] == {"EUR": "40.00"}
    assert [n["text"] for n in kept["notes"]] == ["Bob's note"]
    assert kept["history"][0]["type"] == "customer_merged"
    row = _row(api, ann)
    assert (row["orders_count"], row["total_spent"]) == (3, {"EUR": "40.00"})
    assert api.get("customers").get_json()["total"] == 1
    check_error(api.get(f"customers/{bob}"), 404, "customer_not_found")
    with mill.read_session() as session:
        assert set(session.scalars(select(Order.number))) == orders_before
        assert set(session.scalars(select(Order.customer_id))) == {ann}
        assert sorted(session.execute(select(Payment.id, Payment.order_id,
                                             Payment.amount)).all()) == payments_before
        moved = session.scalars(select(OrderEvent).where(
            OrderEvent.type == "customer_merged")).all()
    assert [e.order_number for e in moved] == body["orders_moved"]
    assert moved[0].data == {"from_customer_id": bob, "to_customer_id": ann}


def test_merge_into_itself_or_an_erased_customer_is_refused(
        api: Api, unchanged: Callable[..., Any], two_customers: tuple[int, int]) -> None:
    ann, bob = two_customers
    check = unchanged()
    error = check_error(api.post(f"customers/{ann}/merge", json={"merge_id": ann}), 422,
                        "invalid_input")
    assert "itself" in error["message"]
    check_error(api.post(f"customers/{ann}/merge", json={"merge_id": "x"}), 422)
    check_error(api.post(f"customers/{ann}/merge", json={}), 422)
    check()
    assert api.post(f"customers/{bob}/erase").status_code == 200
    check = unchanged()
    check_error(api.post(f"customers/{ann}/merge", json={"merge_id": bob}), 409,
                "customer_erased")
    check_error(api.patch(f"customers/{bob}", json={"name": "Back"}), 409, "customer_erased")
    check()


def test_export_holds_everything_and_is_in_the_history(
        api: Api, mill: Ordermill, two_customers: tuple[int, int], staff: Actor) -> None:
    ann, _bob = two_customers
    api.post(f"customers/{ann}/notes", json={"text": "Prefers mornings"})
    response = api.post(f"customers/{ann}/export")
    assert response.status_code == 200
    document = response.get_json()
    assert document["format"] == "ordermill.customer-export/1"
    assert document["customer"]["email"] == "ann@example.com"
    assert len(document["orders"]) == 2 and all(o["history"] for o in document["orders"])
    assert [n["text"] for n in document["notes"]] == ["Prefers mornings"]
    assert isinstance(document["emails_sent"], list)
    assert api.get(f"customers/{ann}").get_json()["history"][0]["type"] == "exported"


def test_erase_then_erase_again(api: Api, mill: Ordermill, unchanged: Callable[..., Any],
                                two_customers: tuple[int, int]) -> None:
    ann, bob = two_customers
    report = api.post(f"customers/{ann}/erase").get_json()
    assert report["pseudonym"].startswith("erased-") and len(report["orders"]) == 2
    body = api.get(f"customers/{ann}").get_json()
    assert body["erased"] and body["name"] == report["pseudonym"]
    assert "ann" not in api.get(f"customers/{ann}").get_data(as_text=True).lower()
    check = unchanged()
    error = check_error(api.post(f"customers/{ann}/erase"), 409, "already_erased")
    assert "already erased" in error["message"]
    check()
    with mill.read_session() as session:  # Bob is untouched
        assert session.scalar(select(func.count()).select_from(Order).where(
            Order.buyer_email == "bob@example.com")) == 1
    assert api.get(f"customers/{bob}").get_json()["name"] == "Bob Baker"
