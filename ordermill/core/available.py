"""Which actions apply to an order, for an actor: the core's one answer to "what can I do?".

The admin draws its buttons from it and the API returns it with every order
(`available_actions`), so neither re-derives the rules the actions enforce. An action is
listed when the actor holds its permission and the core would not refuse it for the order's
state (its input may still be refused: an amount over what is refundable, an empty comment).
Actions the core accepts but flags for the admin (a payment on a cancelled order) are left
out: they are possible, not offered.

The category groups below are the one place the core's rules name them; the actions check
the same groups (see the integrator note in the issue-12 report for duplicates left to fold).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import attrs

from ordermill.core import billing
from ordermill.core.labels import status_label
from ordermill.core.models import Order
from ordermill.core.notifications import _skip_reason as resend_refusal
from ordermill.core.orders.documents import issuable
from ordermill.core.permissions import permissions_of
from ordermill.core.specs import Actor
from ordermill.core.status_change import may_move
from ordermill.core.statuses import (
    CLOSED_CATEGORIES,
    ENDED_CATEGORIES,
    FRAUD_REVIEW_CATEGORIES,
    OPEN_CATEGORIES,
    amount_due,
    money_totals,
)

if TYPE_CHECKING:
    from ordermill.core.app import Ordermill



@attrs.frozen
class OrderFacts:
    """What the rules read, computed once per order (the order needs its lines, payments
    and fraud checks loaded)."""

    mill: Ordermill
    order: Order
    actor: Actor
    category: str
    active_lines: bool
    due: int
    refundable: int
    captured: int
    kept: int

    @property
    def closed(self) -> bool:
        return self.category in CLOSED_CATEGORIES

    @property
    def ended(self) -> bool:
        return self.category in ENDED_CATEGORIES

    def can_move_to_category(self, category: str) -> bool:
        registry = self.mill.statuses
        return self.order.status in registry and registry.can_move(
            self.order.status, registry.first_of_category(category))


@attrs.frozen
class ActionRule:
    """One action: the core's name for it, its permission, and when it applies."""

    name: str
    permission: str
    applies: Callable[[OrderFacts], bool]
    label: str


def _can_delete(facts: OrderFacts) -> bool:
    # core.deletion: nothing kept, and closed or fraud, or never paid at all
    return facts.kept <= 0 and (facts.ended or facts.captured == 0)


def _has_fraud_provider(facts: OrderFacts) -> bool:
    # a look at one hook's implementations, not every plugin's hooks (plugin_infos)
    return bool(facts.mill.plugins.implementers("fraud_check"))


RULES: tuple[ActionRule, ...] = (
    ActionRule("accept", "edit_orders",
               lambda f: f.category == "pending" and f.can_move_to_category("active"),
               "Accept a pending order"),
    ActionRule("mark_paid", "record_payments", lambda f: f.due > 0 and not f.ended,
               "Record everything still due as received"),
    ActionRule("record_payment", "record_payments", lambda f: f.due > 0 and not f.ended,
               "Record money received, in full or in part"),
    ActionRule("cancel", "edit_orders", lambda f: f.active_lines and not f.closed,
               "Cancel chosen lines or the whole order"),
    ActionRule("refund", "refund", lambda f: f.refundable > 0,
               "Refund lines or an amount"),
    # with nothing to refund it is a plain cancel: "Cancel" is the button (issue 14)
    ActionRule("cancel_and_refund", "refund",
               lambda f: not f.closed and f.refundable > 0,
               "Cancel every line and refund all captured money"),
    ActionRule("mark_fraud", "manage_fraud", lambda f: f.can_move_to_category("fraud"),
               "Set as fraud"),
    ActionRule("set_back_to_pending", "manage_fraud",
               lambda f: f.can_move_to_category("pending"), "Set back to pending"),
    ActionRule("set_status", "edit_orders",
               lambda f: bool(status_targets(f.mill, f.order, f.actor)),
               "Move to another status"),
    ActionRule("resend_confirmation", "edit_orders",
               lambda f: resend_refusal(f.mill, f.order) is None,
               "Send the order confirmation again"),
    ActionRule("revoke_customer_links", "edit_orders", lambda f: True,
               "Revoke the customer's order links"),
    ActionRule("rerun_fraud_check", "manage_fraud",
               lambda f: f.category in FRAUD_REVIEW_CATEGORIES and _has_fraud_provider(f),
               "Ask the fraud providers again"),
    ActionRule("delete", "delete_orders", _can_delete, "Delete the order for good"),
    ActionRule("add_lines", "edit_orders", lambda f: f.category in OPEN_CATEGORIES,
               "Add products"),
    ActionRule("edit_buyer", "edit_orders", lambda f: True, "Edit the buyer's details"),
    ActionRule("add_comment", "edit_orders", lambda f: True, "Add a progress comment"),
    ActionRule("mark_dispatched", "edit_orders",
               lambda f: not f.ended and f.order.dispatched_at is None, "Mark dispatched"),
    ActionRule("mark_delivered", "edit_orders",
               lambda f: not f.ended and f.order.delivered_at is None, "Mark delivered"),
    ActionRule("issue_invoice", "edit_orders", lambda f: issuable(f.order, f.category),
               "Issue the invoice: number it and freeze it"),
)
ACTION_NAMES: tuple[str, ...] = tuple(rule.name for rule in RULES)


def holds(actor: Actor, permission: str) -> bool:
    """Whether the actor's role grants `permission` (system actors hold every one)."""
    return actor.kind == "system" or permission in permissions_of(actor.role)


def order_facts(mill: Ordermill, order: Order, actor: Actor) -> OrderFacts:
    registry = mill.statuses
    category = registry.category(order.status) if order.status in registry else "pending"
    totals = money_totals(order)
    return OrderFacts(
        mill=mill, order=order, actor=actor, category=category,
        active_lines=any(line.status == "active" for line in order.lines),
        due=amount_due(order), refundable=billing.refundable_total(order),
        captured=totals.captured, kept=totals.net)


def available_actions(mill: Ordermill, order: Order, actor: Actor) -> list[str]:
    """The names of the actions (as `ctx.action` names them) that apply to this order for
    this actor, in a stable order: a hint for buttons and clients; the actions check again."""
    facts = order_facts(mill, order, actor)
    return [rule.name for rule in RULES
            if holds(actor, rule.permission) and rule.applies(facts)]


def status_targets(mill: Ordermill, order: Order, actor: Actor | None = None
                   ) -> list[tuple[str, str]]:
    """(name, label) of the statuses a status change may move this order to (refunds move
    money, so a refunded-category status is reached by refunding, not here).

    With `actor`, only the moves the actor may make: a change of category needs the
    permission of the named action it stands in for (core.status_change)."""
    registry = mill.statuses
    if order.status not in registry:
        return []
    targets = []
    for name in sorted(registry.targets(order.status)):
        spec = registry.get(name)
        if spec.category == "refunded":
            continue
        if actor is not None and not may_move(actor, registry, order.status, name):
            continue
        targets.append((name, status_label(registry, name)))
    return targets


__all__ = ["ACTION_NAMES", "ENDED_CATEGORIES", "FRAUD_REVIEW_CATEGORIES", "OPEN_CATEGORIES",
           "RULES", "ActionRule", "available_actions", "holds", "status_targets"]
