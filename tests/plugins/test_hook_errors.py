"""What a failing plugin does, per kind of hook (acceptance 7).

* in-transaction hooks: the action is aborted, the database is exactly as before (no order,
  stock unchanged, no events, no jobs) and the PluginError names the plugin;
* after-commit hooks: the action stays done, and a `hook_failed` event on the order names the
  plugin; the other plugins' implementations of that hook still run;
* fraud_check is the exception among in-transaction hooks: a provider outage never loses an
  order, it is stored as a failed check naming the plugin and the order stays pending.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import attrs
import pytest
from sqlalchemy import func, select

from ordermill import hookimpl
from ordermill.core.app import Ordermill
from ordermill.core.errors import InvalidInput, OrderNotFound, PluginError
from ordermill.core.models import (
    Customer,
    FraudCheck,
    Order,
    OrderEvent,
    OutboxJob,
    Payment,
    Product,
)
from ordermill.core.orders import ActionResult
from ordermill.core.specs import Actor, FraudResult, JobRequest
from ordermill.core.statuses import payment_status
from ordermill.testing import order_request

Register = Callable[..., object]
OrderFactory = Callable[..., Order]
BOOM = "boom-plugin"


def raising_plugin(hook: str, error: Exception | None = None) -> object:
    """A plugin whose only hook implementation raises (taking just `ctx`, or `settings`)."""

    def impl(**_kwargs: Any) -> Any:
        raise error or RuntimeError(f"{hook} exploded")

    if hook.startswith("register_"):
        def chosen(settings: Any) -> Any:
            return impl(settings=settings)
    else:
        def chosen(ctx: Any) -> Any:
            return impl(ctx=ctx)
    chosen.__name__ = hook
    plugin = types.SimpleNamespace()
    setattr(plugin, hook, hookimpl(chosen))
    return plugin


def witness_plugin(hook: str, calls: list[str]) -> object:
    """A well-behaved plugin recording that its implementation of `hook` ran."""

    def chosen(ctx: Any) -> None:
        calls.append(hook)

    chosen.__name__ = hook
    plugin = types.SimpleNamespace()
    setattr(plugin, hook, hookimpl(chosen))
    return plugin


def database_state(mill: Ordermill, number: str | None = None) -> dict[str, Any]:
    """Everything an aborted action could have touched, read back from the database."""
    with mill.read_session() as session:
        state: dict[str, Any] = {
            "stock": dict(session.execute(select(Product.sku, Product.stock)).all()),
            **{model.__name__: session.scalar(select(func.count()).select_from(model))
               for model in (Order, Customer, OrderEvent, OutboxJob, Payment, FraudCheck)},
        }
    if number is not None:
        state["order"] = mill.orders.describe(number)
    return state


@pytest.fixture
def shop(make_product: Callable[..., Product]) -> None:
    make_product("TSHIRT", price=1500, stock=10)
    make_product("MUG", price=800, stock=10)


# ================================================================== in-transaction hooks


@pytest.mark.parametrize("hook", ["validate_order", "jobs_for_event", "generate_order_number",
                                  "register_statuses", "register_payment_gateways"])
def test_in_transaction_error_while_placing_leaves_the_database_unchanged(
    mill: Ordermill, register_plugin: Register, shop: None, staff: Actor, hook: str,
) -> None:
    register_plugin(raising_plugin(hook), name=BOOM)
    before = database_state(mill)

    with pytest.raises(PluginError) as failed:
        mill.orders.place(order_request([("TSHIRT", 2), ("MUG", 1)]), actor=staff)

    assert failed.value.plugin == BOOM and failed.value.hook == hook
    assert f"Plugin {BOOM!r} failed in {hook}" in failed.value.message
    assert "exploded" in failed.value.message
    assert failed.value.to_dict()["details"]["plugin"] == BOOM
    assert database_state(mill) == before  # no order, no customer, stock, events, jobs


def test_in_transaction_error_in_jobs_for_event_aborts_an_action(
    mill: Ordermill, register_plugin: Register, shop: None, order_factory: OrderFactory,
    staff: Actor,
) -> None:
    order = order_factory([("TSHIRT", 2)])
    calls: list[str] = []

    class Queue:
        @hookimpl
        def jobs_for_event(self, event: OrderEvent) -> list[JobRequest]:
            calls.append(event.type)
            return [JobRequest("test.ok", {"event": event.type})]

    register_plugin(Queue(), name="queue")  # registered first: called after BOOM
    register_plugin(raising_plugin("jobs_for_event"), name=BOOM)
    before = database_state(mill, order.number)

    with pytest.raises(PluginError, match=BOOM):
        mill.orders.accept(order.number, actor=staff, options={"autosetup": True})

    assert database_state(mill, order.number) == before
    assert mill.orders.get(order.number).status == "pending"
    assert calls == []  # BOOM ran first and stopped the action


@pytest.mark.parametrize("action", ["cancel", "refund", "delete", "cancel_and_refund"])
def test_in_transaction_error_in_restock_aborts_the_action(
    mill: Ordermill, register_plugin: Register, shop: None, order_factory: OrderFactory,
    staff: Actor, action: str,
) -> None:
    order = order_factory([("TSHIRT", 3)], paid=action in ("refund", "cancel_and_refund"))
    register_plugin(raising_plugin("restock"), name=BOOM)
    before = database_state(mill, order.number)
    assert before["stock"]["TSHIRT"] == 7

    with pytest.raises(PluginError) as failed:
        getattr(mill.orders, action)(order.number, actor=staff, restock=True)

    assert failed.value.plugin == BOOM and failed.value.hook == "restock"
    assert database_state(mill, order.number) == before
    assert [line.units_released for line in mill.orders.get(order.number).lines] == [0]


def test_a_refusal_raised_on_purpose_keeps_its_type_and_names_the_plugin(
    mill: Ordermill, register_plugin: Register, shop: None, order_factory: OrderFactory,
    staff: Actor,
) -> None:
    order = order_factory([("TSHIRT", 1)])
    register_plugin(raising_plugin("restock", InvalidInput("Seat map is locked.")),
                    name="seat-map")
    before = database_state(mill, order.number)

    with pytest.raises(InvalidInput) as refused:
        mill.orders.cancel(order.number, actor=staff)

    assert refused.value.message == "Seat map is locked. (from plugin 'seat-map')"
    assert refused.value.details["plugin"] == "seat-map"
    assert database_state(mill, order.number) == before


# ================================================================== after-commit hooks


@attrs.frozen
class AfterCommitCase:
    """Set up an order (or not), run the action that fires `hook`, say what must be true."""

    prepare: Callable[[OrderFactory, Ordermill, Actor], str | None]
    act: Callable[[Ordermill, Actor, str | None], ActionResult]
    done: Callable[[Ordermill, str], bool]


def _pending(factory: OrderFactory, mill: Ordermill, staff: Actor) -> str:
    return factory([("TSHIRT", 1)]).number


def _paid(factory: OrderFactory, mill: Ordermill, staff: Actor) -> str:
    return factory([("TSHIRT", 1)], paid=True).number


def _fraud(factory: OrderFactory, mill: Ordermill, staff: Actor) -> str:
    number = _pending(factory, mill, staff)
    mill.orders.mark_fraud(number, actor=staff)
    return number


def _cancelled(factory: OrderFactory, mill: Ordermill, staff: Actor) -> str:
    number = _pending(factory, mill, staff)
    mill.orders.cancel(number, actor=staff)
    return number


def _nothing(factory: OrderFactory, mill: Ordermill, staff: Actor) -> None:
    return None


def _status(status: str) -> Callable[[Ordermill, str], bool]:
    return lambda mill, number: mill.orders.get(number).status == status


def _place(mill: Ordermill, staff: Actor, number: str | None) -> ActionResult:
    return mill.orders.place(order_request([("TSHIRT", 2)]), actor=staff)


def _deleted(mill: Ordermill, number: str) -> bool:
    try:
        mill.orders.get(number)
    except OrderNotFound:
        return True
    return False


AFTER_COMMIT: dict[str, AfterCommitCase] = {
    "on_order_placed": AfterCommitCase(_nothing, _place, _status("pending")),
    "on_fraud_checked": AfterCommitCase(_nothing, _place, _status("pending")),
    "on_payment": AfterCommitCase(
        _pending, lambda mill, staff, n: mill.orders.mark_paid(n, actor=staff),
        lambda mill, n: payment_status(mill.orders.get(n)) == "paid"),
    "on_accept": AfterCommitCase(
        _pending, lambda mill, staff, n: mill.orders.accept(n, actor=staff), _status("active")),
    "on_cancel": AfterCommitCase(
        _pending, lambda mill, staff, n: mill.orders.cancel(n, actor=staff),
        _status("cancelled")),
    "on_refund": AfterCommitCase(
        _paid, lambda mill, staff, n: mill.orders.refund(n, actor=staff), _status("refunded")),
    "on_fraud": AfterCommitCase(
        _pending, lambda mill, staff, n: mill.orders.mark_fraud(n, actor=staff),
        _status("fraud")),
    "on_pending": AfterCommitCase(
        _fraud, lambda mill, staff, n: mill.orders.set_back_to_pending(n, actor=staff),
        _status("pending")),
    "on_status_changed": AfterCommitCase(
        _pending, lambda mill, staff, n: mill.orders.set_status(n, "active", actor=staff),
        _status("active")),
    "on_delete": AfterCommitCase(
        _cancelled, lambda mill, staff, n: mill.orders.delete(n, actor=staff, restock=True),
        _deleted),
    "on_order_edited": AfterCommitCase(
        _pending,
        lambda mill, staff, n: mill.orders.edit_buyer(n, {"name": "Ann Other"}, actor=staff),
        lambda mill, n: mill.orders.get(n).buyer_name == "Ann Other"),
    "on_comment_added": AfterCommitCase(
        _pending, lambda mill, staff, n: mill.orders.add_comment(n, "Hello", actor=staff),
        lambda mill, n: any(e.comment == "Hello" for e in mill.orders.history(n))),
}


def test_every_after_commit_hook_has_an_error_case() -> None:
    from ordermill.hookspecs import HOOK_KINDS

    # message_attachments runs inside an outbox job: its errors fail (and retry) the job
    # on_demo_loaded belongs to no order action: its error case is in tests/test_demo.py
    after_commit = {name for name, kind in HOOK_KINDS.items()
                    if kind == "after-commit" and name.startswith("on_")}
    assert after_commit == set(AFTER_COMMIT) | NOT_ABOUT_ONE_ORDER


# after-commit hooks that follow no action on one order, each with its own error test
NOT_ABOUT_ONE_ORDER = {"on_demo_loaded"}


def test_a_failing_on_demo_loaded_plugin_is_collected_not_raised(
        mill: Any, register_plugin: Any) -> None:
    """The demo shop stays loaded when a plugin's part of it fails: the error is collected
    (and logged) with the plugin's name, and the other plugins still run."""
    calls: list[str] = []

    class Raising:
        @hookimpl
        def on_demo_loaded(self, orders: Any) -> None:
            raise RuntimeError("on_demo_loaded exploded")

    class Witness:
        @hookimpl
        def on_demo_loaded(self, orders: Any) -> None:
            calls.append("on_demo_loaded")

    register_plugin(Witness(), name="witness")
    register_plugin(Raising(), name=BOOM)
    from ordermill.api import ActionContext, Actor

    # no orders: the built-in plugins' parts of the demo have nothing to do
    outcome = mill.plugins.call("on_demo_loaded", orders=(),
                                ctx=ActionContext(mill, Actor.system("demo"), "demo"))
    assert calls == ["on_demo_loaded"]
    assert [(failure.plugin, failure.hook) for failure in outcome.failures] == [
        (BOOM, "on_demo_loaded")]


def test_a_failing_message_attachments_plugin_is_named_and_fails_the_message(
        mill: Any, register_plugin: Any, make_product: Any, order_factory: Any) -> None:
    from ordermill.core.errors import PluginError
    from ordermill.plugins.notify_email.attachments import attachments_for

    class Broken:
        @hookimpl
        def message_attachments(self, order: Any, message: str) -> None:
            raise RuntimeError("printer on fire")

    register_plugin(Broken(), name="broken-printer")
    make_product("TSHIRT")
    order = order_factory([("TSHIRT", 1)])
    with pytest.raises(PluginError, match="broken-printer"):
        attachments_for(mill, order, "order_confirmation")


@pytest.mark.parametrize("hook", sorted(AFTER_COMMIT))
def test_after_commit_error_leaves_the_action_done_and_records_an_event(
    mill: Ordermill, register_plugin: Register, shop: None, order_factory: OrderFactory,
    staff: Actor, hook: str,
) -> None:
    case = AFTER_COMMIT[hook]
    number = case.prepare(order_factory, mill, staff)
    calls: list[str] = []

    class Scorer:  # on_fraud_checked only fires when some provider checked the order
        @hookimpl
        def fraud_check(self) -> FraudResult:
            return FraudResult(provider="scorer", score=Decimal("5"))

    register_plugin(Scorer(), name="scorer")
    register_plugin(witness_plugin(hook, calls), name="witness")  # runs after BOOM
    register_plugin(raising_plugin(hook), name=BOOM)

    result = case.act(mill, staff, number)
    number = number or (result.order.number if result.order else None)
    assert number is not None

    assert case.done(mill, number), f"the action behind {hook} was undone"
    assert calls == [hook]  # the other plugin's implementation still ran
    assert [(f.plugin, f.hook) for f in result.hook_failures] == [(BOOM, hook)]
    assert "RuntimeError" in result.hook_failures[0].error
    [failed] = [e for e in mill.orders.history(number) if e.type == "hook_failed"]
    assert failed.actor == f"plugin:{BOOM}"
    assert failed.data["plugin"] == BOOM and failed.data["hook"] == hook
    assert BOOM in failed.message and "exploded" in failed.message
    assert "itself is done" in failed.message


def test_after_commit_failure_in_a_bulk_change_is_recorded_per_order(
    mill: Ordermill, register_plugin: Register, shop: None, order_factory: OrderFactory,
    staff: Actor,
) -> None:
    numbers = [order_factory([("TSHIRT", 1)]).number for _ in range(2)]
    register_plugin(raising_plugin("on_status_changed"), name=BOOM)

    result = mill.orders.bulk_set_status(numbers, "active", actor=staff)

    assert set(result.changed) == set(numbers)
    for number in numbers:
        assert mill.orders.get(number).status == "active"
        assert [e.data["plugin"] for e in mill.orders.history(number)
                if e.type == "hook_failed"] == [BOOM]


# ================================================================== fraud_check


def test_a_failing_fraud_check_never_aborts_placement(
    mill: Ordermill, register_plugin: Register, shop: None, staff: Actor,
) -> None:
    seen: list[list[tuple[str, str]]] = []
    outage = {"on": True}

    class FlakyFraud:
        @hookimpl
        def fraud_check(self, order: Order) -> FraudResult:
            if outage["on"]:
                raise ConnectionError("fraud service unreachable")
            return FraudResult(provider="flaky-fraud", score=Decimal("95"))

    class Audit:
        @hookimpl
        def on_fraud_checked(self, results: list[FraudResult]) -> None:
            seen.append([(r.provider, r.status) for r in results])

    register_plugin(FlakyFraud(), name="flaky-fraud")
    register_plugin(Audit(), name="audit")

    result = mill.orders.place(order_request([("TSHIRT", 1)]), actor=staff)

    assert result.order is not None and result.hook_failures == ()
    order = mill.orders.get(result.order.number)
    assert order.status == "pending" and order.fraud_score is None
    [check] = order.fraud_checks
    assert (check.provider, check.status, check.score) == ("flaky-fraud", "error", None)
    assert check.error is not None and "ConnectionError" in check.error
    assert seen == [[("flaky-fraud", "error")]]

    outage["on"] = False  # the service is back: an admin re-runs the check
    mill.orders.rerun_fraud_check(order.number, actor=staff)
    order = mill.orders.get(order.number)
    assert order.status == "fraud" and order.fraud_score == Decimal("95")
    assert [c.status for c in order.fraud_checks] == ["error", "ok"]
