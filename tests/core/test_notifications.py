"""Resending confirmations (Webex: at most 100, completed orders only) and signed order links."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import attrs
import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select

from ordermill import hookimpl
from ordermill.core.errors import ActionNotAllowed, InvalidInput, NotFound, PermissionDenied
from ordermill.core.models import Order, OrderEvent, OutboxJob
from ordermill.core.notifications import (
    LINK_SALT,
    MAX_BULK_RESEND,
    RESEND_EVENT,
    InvalidOrderLink,
    customer_order_link,
    order_link_token,
    resend_confirmation,
    resend_confirmations,
    verify_order_link,
)
from ordermill.core.specs import Actor, JobRequest
from ordermill.plugins.notify_email.testing import SmtpSink
from ordermill.web import create_app
from ordermill.web.customer import customer_bp


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def ordermill_settings_overrides(smtp: SmtpSink) -> dict[str, Any]:
    return {"plugins": {"notify_email": {"host": "127.0.0.1", "port": smtp.port,
                                         "from_address": "orders@shop.test",
                                         "base_url": "https://shop.test"}},
            "secret_key": "notifications-test-secret-key-0123456789"}


def count(mill: Any, model: type[Any], *where: Any) -> int:
    with mill.read_session() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)))


def resend_events(mill: Any) -> int:
    return count(mill, OrderEvent, OrderEvent.type == RESEND_EVENT)


def flush_mail(mill: Any, smtp: SmtpSink) -> None:
    """Deliver what placing and paying queued, so a test sees only what comes next."""
    mill.outbox.run_until_empty()
    smtp.clear()


# ------------------------------------------------------------------------------ limits


@pytest.mark.slow  # places 101 orders
def test_more_than_100_orders_is_refused_and_nothing_is_queued(
    mill: Any, make_product: Any, order_factory: Any, staff: Actor, smtp: SmtpSink
) -> None:
    make_product("TSHIRT", price=1000, stock=None)
    real = [order_factory(paid=True).number for _ in range(3)]
    flush_mail(mill, smtp)
    jobs_before = count(mill, OutboxJob)
    chosen = real + [f"{9_000_000_000 + i}" for i in range(147)]
    assert len(chosen) == 150
    with pytest.raises(InvalidInput) as refused:
        resend_confirmations(mill, chosen, staff)
    assert refused.value.message == (
        "Confirmations can be resent for at most 100 orders at a time; 150 were chosen. "
        "Nothing was sent: choose fewer orders.")
    assert refused.value.details == {"chosen": 150, "limit": MAX_BULK_RESEND}
    assert count(mill, OutboxJob) == jobs_before
    assert resend_events(mill) == 0
    with pytest.raises(InvalidInput):
        resend_confirmations(mill, [], staff)


def test_exactly_100_is_allowed_and_duplicates_count_once(
    mill: Any, make_product: Any, order_factory: Any, staff: Actor
) -> None:
    make_product("TSHIRT", price=1000, stock=None)
    number = order_factory(paid=True).number
    chosen = [number] * 150 + [f"{9_000_000_000 + i}" for i in range(99)]
    result = resend_confirmations(mill, chosen, staff)
    assert result.queued == (number,)
    assert len(result.skipped) == 99
    assert set(result.skipped.values()) == {"no such order"}


# ------------------------------------------------------------------- who gets a resend


@pytest.mark.slow
def test_of_100_mixed_orders_only_completed_ones_are_sent(
    mill: Any, make_product: Any, order_factory: Any, staff: Actor, smtp: SmtpSink
) -> None:
    make_product("TSHIRT", price=1000, stock=None)
    make_product("FREE", price=0, stock=None)
    make_product("PASS", price=3000, stock=None)
    expected_skip: dict[str, str] = {}
    eligible: list[str] = []
    numbers: list[str] = []

    def new(**kwargs: Any) -> str:
        number = order_factory(email=f"buyer{len(numbers)}@example.com", **kwargs).number
        numbers.append(number)
        return number

    for _ in range(35):
        eligible.append(new(paid=True))
    for _ in range(3):
        number = new(paid=True, accepted=True)
        mill.orders.set_status(number, "completed", actor=staff)
        eligible.append(number)
    for _ in range(2):
        eligible.append(new(lines=[("FREE", 1)]))
    for _ in range(20):
        expected_skip[new()] = "not paid yet (unpaid)"
    for _ in range(5):
        number = new(lines=[("PASS", 1)])
        mill.orders.record_payment(number, actor=staff, amount=1000)
        expected_skip[number] = "not paid yet (partially paid)"
    for _ in range(15):
        number = new()
        mill.orders.cancel(number, actor=staff)
        expected_skip[number] = "order is Cancelled"
    for index in range(10):
        number = new(paid=index % 2 == 0)
        mill.orders.mark_fraud(number, actor=staff)
        expected_skip[number] = "held as fraud (Fraud)"
    for _ in range(10):
        number = new(paid=True)
        mill.orders.refund(number, actor=staff)
        expected_skip[number] = "order is Refunded"
    assert len(numbers) == 100 and len(eligible) == 40
    flush_mail(mill, smtp)

    result = resend_confirmations(mill, numbers, staff)

    assert sorted(result.queued) == sorted(eligible)
    assert result.jobs == 40
    assert set(result.skipped) == set(expected_skip)
    for number, reason in result.skipped.items():
        assert reason.startswith(expected_skip[number]), (number, reason)
        assert reason.endswith("confirmations are sent only for completed orders")
    assert result.to_dict()["skipped"] == dict(result.skipped)
    assert resend_events(mill) == 40

    mill.outbox.run_until_empty()
    messages = smtp.messages
    assert len(messages) == 40
    assert {m["X-Ordermill-Template"] for m in messages} == {"order_confirmation"}
    assert sorted(m["X-Ordermill-Order"] for m in messages) == sorted(eligible)
    for number in list(expected_skip)[:5]:
        assert RESEND_EVENT not in [e.type for e in mill.orders.history(number)]
    event = next(e for e in mill.orders.history(eligible[0]) if e.type == RESEND_EVENT)
    assert event.actor == staff.label
    assert event.notify_customer and not event.visible_to_customer
    assert event.data == {"bulk": True, "jobs": ["notify_email.send"]}


def test_single_resend_explains_why_not(
    mill: Any, make_product: Any, order_factory: Any, staff: Actor, smtp: SmtpSink
) -> None:
    make_product("TSHIRT", price=1000)
    unpaid = order_factory().number
    with pytest.raises(ActionNotAllowed, match=r"not paid yet \(unpaid\)"):
        resend_confirmation(mill, unpaid, staff)
    with pytest.raises(NotFound):
        resend_confirmation(mill, "1234567890", staff)
    paid = order_factory(paid=True).number
    flush_mail(mill, smtp)
    assert resend_confirmation(mill, paid, staff).queued == (paid,)
    mill.outbox.run_until_empty()
    [message] = smtp.messages
    assert message["X-Ordermill-Order"] == paid
    history = mill.orders.history(paid)
    assert [e.data.get("bulk") for e in history if e.type == RESEND_EVENT] == [False]


def test_viewers_may_not_resend(mill: Any, make_product: Any, order_factory: Any) -> None:
    make_product("TSHIRT", price=1000)
    number = order_factory(paid=True).number
    viewer = Actor(kind="user", name="view@shop.test", role="viewer")
    with pytest.raises(PermissionDenied):
        resend_confirmations(mill, [number], viewer)


# ------------------------------------------------------------- one transaction, honest


class FailsOnThird:
    """Queues a job for each resend and blows up on the third order."""

    def __init__(self) -> None:
        self.calls = 0

    @hookimpl
    def jobs_for_event(self, order: Order, event: OrderEvent, ctx: Any) -> list[JobRequest]:
        if event.type != RESEND_EVENT:
            return []
        self.calls += 1
        if self.calls == 3:
            raise RuntimeError("template store unreachable")
        return [JobRequest("test.resend", {"number": order.number},
                           dedupe_key=f"test.resend:{event.id}")]


def test_a_failing_plugin_leaves_no_half_done_bulk_resend(
    mill: Any, make_product: Any, order_factory: Any, staff: Actor, register_plugin: Any
) -> None:
    make_product("TSHIRT", price=1000, stock=None)
    numbers = [order_factory(paid=True).number for _ in range(4)]
    jobs_before = count(mill, OutboxJob)
    register_plugin(FailsOnThird(), "fails-on-third")
    with pytest.raises(Exception, match="template store unreachable") as failed:
        resend_confirmations(mill, numbers, staff)
    assert "fails-on-third" in str(failed.value)
    assert resend_events(mill) == 0
    assert count(mill, OutboxJob) == jobs_before


def test_without_a_notification_plugin_a_resend_is_an_error(
    mill: Any, make_product: Any, order_factory: Any, staff: Actor
) -> None:
    make_product("TSHIRT", price=1000)
    number = order_factory(paid=True).number
    mill.settings = attrs.evolve(mill.settings, plugins={})
    with pytest.raises(ActionNotAllowed, match="No notification plugin"):
        resend_confirmations(mill, [number], staff)
    assert resend_events(mill) == 0


# ---------------------------------------------------------------------- signed links


def test_order_links_are_signed_and_tamper_proof(mill: Any, make_product: Any,
                                                 order_factory: Any) -> None:
    make_product("TSHIRT", price=1000)
    number = order_factory().number
    token = order_link_token(mill, number)
    assert verify_order_link(mill, token) == number
    # each link carries its signing second, so compare what the links verify to
    link = customer_order_link(mill, number)
    assert link.startswith("/my-order/")
    assert verify_order_link(mill, link.removeprefix("/my-order/")) == number
    full = customer_order_link(mill, number, "https://shop.test/")
    assert full.startswith("https://shop.test/my-order/")
    assert verify_order_link(mill, full.rsplit("/", 1)[1]) == number
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for bad in (tampered, "garbage", "", token.replace(".", "", 1)):
        with pytest.raises(InvalidOrderLink):
            verify_order_link(mill, bad)
    other_shop = attrs.evolve(mill.settings, secret_key="another-shop-secret-key-0123456789")
    mill.settings = other_shop
    with pytest.raises(InvalidOrderLink):
        verify_order_link(mill, token)


@pytest.mark.slow  # waits for a link to age
def test_order_links_can_be_given_a_maximum_age(mill: Any, make_product: Any,
                                                order_factory: Any) -> None:
    import time

    make_product("TSHIRT", price=1000)
    number = order_factory().number
    token = order_link_token(mill, number)
    time.sleep(1.1)
    with pytest.raises(InvalidOrderLink, match="expired"):
        verify_order_link(mill, token, max_age=0)
    assert verify_order_link(mill, token, max_age=3600) == number


# ------------------------------------------------------------ the customer's order page


@pytest.fixture
def client(mill: Any) -> Any:
    app = create_app(mill)
    if "customer" not in app.blueprints:
        app.register_blueprint(customer_bp)
    return app.test_client()


def test_customer_page_from_the_mail_link_shows_visible_comments_only(
    mill: Any, make_product: Any, order_factory: Any, staff: Actor, smtp: SmtpSink,
    client: Any,
) -> None:
    make_product("TSHIRT", price=1250, name="Festival T-shirt")
    order = order_factory([("TSHIRT", 2)], paid=True)
    mill.orders.add_comment(order.number, "Packed and waiting for the courier.",
                            actor=staff, visible_to_customer=True)
    mill.orders.add_comment(order.number, "Customer sounded angry on the phone.", actor=staff)
    mill.orders.add_comment(order.number, "Your parcel leaves on Monday.", actor=staff,
                            notify_customer=True)
    mill.outbox.run_until_empty()
    confirmation = next(m for m in smtp.messages
                        if m["X-Ordermill-Template"] == "order_confirmation")
    body = confirmation.get_body(("plain",)).get_content()
    link = next(word for word in body.split() if word.startswith("https://shop.test/my-order/"))

    page = client.get(link.removeprefix("https://shop.test"))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f"Order {order.number}" in html
    assert "Festival T-shirt" in html
    assert "€25.00" in html
    assert "Packed and waiting for the courier." in html
    assert "Your parcel leaves on Monday." in html
    assert "angry" not in html
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"


def test_customer_page_refuses_tampered_and_unknown_links(
    mill: Any, make_product: Any, order_factory: Any, client: Any
) -> None:
    make_product("TSHIRT", price=1000)
    order = order_factory()
    token = order_link_token(mill, order.number)
    assert client.get(f"/my-order/{token}").status_code == 200
    forged = URLSafeTimedSerializer("a guessed key", salt=LINK_SALT).dumps({"n": order.number})
    unknown = URLSafeTimedSerializer(mill.settings.secret_key, salt=LINK_SALT).dumps(
        {"n": "1234567890", "v": 0})
    for bad in (token[:-3] + "xyz", forged, "not-a-token", unknown):
        response = client.get(f"/my-order/{bad}")
        assert response.status_code == 404, bad
        assert order.number not in response.get_data(as_text=True)
