"""Issue 10, item 13: an Idempotency-Key belongs to its caller.

Anonymous checkouts used to share one key space, so Bob's key collided with Alice's and he
got a 422. Keys are now scoped to the token's user (the staff session is the same user), or
for an anonymous caller to the customer e-mail in the request; the same key from the same
caller with another body is still a 422, and a retry with the same body replays.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from ordermill.core.app import Ordermill
from ordermill.core.models import Order

KEY = "checkout-7f3a"


@pytest.fixture
def shop(make_product: Callable[..., Any]) -> None:
    make_product("TSHIRT", price=1250, stock=50)
    make_product("MUG", price=800, stock=None)


def body(email: str, sku: str = "TSHIRT", quantity: int = 1) -> dict[str, Any]:
    return {"customer": {"email": email, "name": email.split("@")[0].title()},
            "lines": [{"sku": sku, "quantity": quantity}], "payment_method": "banktransfer"}


def orders(mill: Ordermill) -> int:
    with mill.read_session() as session:
        return session.scalar(select(func.count()).select_from(Order)) or 0


def place(client: Any, payload: dict[str, Any], key: str = KEY,
          headers: dict[str, str] | None = None) -> Any:
    return client.post("/api/v1/orders", json=payload,
                       headers={"Idempotency-Key": key, **(headers or {})})


def test_two_anonymous_shoppers_may_use_the_same_key(client: Any, mill: Ordermill,
                                                     shop: None) -> None:
    alice = place(client, body("alice@example.com"))
    assert alice.status_code == 201, alice.get_data(as_text=True)
    bob = place(client, body("bob@example.com", "MUG", 2))
    assert bob.status_code == 201, bob.get_data(as_text=True)
    assert "Idempotent-Replayed" not in bob.headers
    numbers = {alice.get_json()["order"]["number"], bob.get_json()["order"]["number"]}
    assert len(numbers) == 2 and orders(mill) == 2
    assert bob.get_json()["order"]["buyer"]["email"] == "bob@example.com"


def test_same_shopper_same_key_replays_and_another_body_is_422(
        client: Any, mill: Ordermill, shop: None, error_of: Callable[..., Any],
        unchanged: Any) -> None:
    first = place(client, body("alice@example.com"))
    assert first.status_code == 201
    again = place(client, body("alice@example.com"))
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    before = unchanged()
    other = place(client, body("alice@example.com", "MUG", 3))
    error_of(other, 422, "idempotency_key_reused")
    shouted = place(client, body("Alice@Example.COM"))  # the same shopper, another body
    error_of(shouted, 422, "idempotency_key_reused")
    before()
    assert orders(mill) == 1


def test_two_staff_users_may_use_the_same_key(client: Any, mill: Ordermill, shop: None,
                                              tokens: dict[str, str]) -> None:
    admin = place(client, body("alice@example.com"),
                  headers={"Authorization": f"Bearer {tokens['admin']}"})
    manager = place(client, body("bob@example.com", "MUG"),
                    headers={"Authorization": f"Bearer {tokens['manager']}"})
    assert admin.status_code == 201 and manager.status_code == 201, manager.get_data()
    assert admin.get_json()["order"]["number"] != manager.get_json()["order"]["number"]
    assert orders(mill) == 2


def test_a_staff_key_is_not_an_anonymous_one(client: Any, mill: Ordermill, shop: None,
                                             tokens: dict[str, str]) -> None:
    staff = place(client, body("alice@example.com"),
                  headers={"Authorization": f"Bearer {tokens['admin']}"})
    anonymous = place(client, body("alice@example.com"))
    assert staff.status_code == 201 and anonymous.status_code == 201
    assert "Idempotent-Replayed" not in anonymous.headers
    assert orders(mill) == 2


def test_the_same_staff_user_keeps_the_key_across_tokens(
        client: Any, mill: Ordermill, shop: None, tokens: dict[str, str],
        staff_password: str, error_of: Callable[..., Any]) -> None:
    """A second token of the same user is the same caller: a retry replays, another body is
    still refused."""
    first = place(client, body("alice@example.com"),
                  headers={"Authorization": f"Bearer {tokens['admin']}"})
    login = client.post("/api/v1/auth/login", json={"email": "admin@shop.test",
                                                    "password": staff_password})
    assert login.status_code == 200
    second_token = {"Authorization": f"Bearer {login.get_json()['token']}"}
    again = place(client, body("alice@example.com"), headers=second_token)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["order"]["number"] == first.get_json()["order"]["number"]
    error_of(place(client, body("alice@example.com", "MUG"), headers=second_token), 422,
             "idempotency_key_reused")
    assert orders(mill) == 1


def test_a_long_email_and_key_still_fit(client: Any, mill: Ordermill, shop: None) -> None:
    email = "a" * 64 + "@" + "b" * 60 + ".example.com"
    key = "k" * 150
    first = place(client, body(email), key=key)
    assert first.status_code == 201, first.get_data(as_text=True)
    again = place(client, body(email), key=key)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert orders(mill) == 1
