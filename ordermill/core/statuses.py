"""The status registry and the statuses ordermill derives rather than stores.

The workflow status of an order is data: six defaults, plus custom ones from settings or the
`register_statuses` hook. Each status names a *category* that tells the core how to treat it
(does it hold stock, does it count in totals, is it final) and the statuses it may move to.
Payment status and the Webex-style summary are computed from lines and payments every time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import attrs
from sqlalchemy import inspect as sa_inspect

from ordermill.core.errors import ConfigurationError, IllegalTransition, PluginConflict
from ordermill.core.i18n import N_
from ordermill.core.i18n import gettext as _

if TYPE_CHECKING:
    from ordermill.core.models import Order

CATEGORIES = ("pending", "active", "completed", "cancelled", "fraud", "refunded")
FINAL_CATEGORIES = frozenset({"refunded"})
CLOSED_CATEGORIES = frozenset({"cancelled", "refunded"})
# A status of these categories ends the order's business: no fulfilment, no payment offered,
# and an order in one of them with no money kept may be deleted. core.available offers the
# actions by these groups and the actions refuse by them: one rule, two answers.
ENDED_CATEGORIES = frozenset({*CLOSED_CATEGORIES, "fraud"})
# Orders still being worked on: products may be added.
OPEN_CATEGORIES = frozenset({"pending", "active"})
# Where re-asking the fraud providers can change the outcome.
FRAUD_REVIEW_CATEGORIES = frozenset({"pending", "fraud"})
LINE_STATUSES = ("active", "cancelled", "refunded")


@attrs.frozen
class StatusSpec:
    """A workflow status. `transitions` are the statuses it may move to; `reachable_from`
    lets a custom status add itself as a target of existing ones."""

    name: str
    label: str
    category: str
    colour: str = "#6b7280"
    transitions: frozenset[str] = attrs.field(factory=frozenset, converter=frozenset)
    reachable_from: frozenset[str] = attrs.field(factory=frozenset, converter=frozenset)
    description: str = ""
    #: The label in other languages, e.g. {"fr": "Expédiée", "uk": "Відправлено"}; a language
    #: not given shows `label` through the catalog (the core statuses are in it).
    labels: Mapping[str, str] = attrs.field(factory=dict, eq=False, converter=dict)

    def label_in(self, locale: str) -> str | None:
        """The label given for `locale` ('fr_CA' finds 'fr'), or None."""
        return self.labels.get(locale) or self.labels.get(locale.split("_", 1)[0])

    def __attrs_post_init__(self) -> None:
        if self.category not in CATEGORIES:
            raise ConfigurationError(
                f"Status {self.name!r} has unknown category {self.category!r}; "
                f"choose one of {', '.join(CATEGORIES)}."
            )


DEFAULT_STATUSES: tuple[StatusSpec, ...] = (
    StatusSpec(
        "pending", N_("Pending"), "pending", "#d97706",
        {"active", "completed", "cancelled", "fraud", "refunded"},
        description=N_("Placed and waiting for review or payment (WHMCS: every new order)."),
    ),
    StatusSpec(
        "active", N_("Active"), "active", "#2563eb",
        {"completed", "cancelled", "fraud", "pending", "refunded"},
        description=N_("Accepted by an admin; services are provisioned."),
    ),
    StatusSpec(
        "completed", N_("Completed"), "completed", "#16a34a",
        {"cancelled", "refunded", "active"},
        description=N_("Paid and fulfilled."),
    ),
    StatusSpec(
        "fraud", N_("Fraud"), "fraud", "#dc2626", {"pending", "cancelled", "refunded"},
        description=N_("Held as suspected fraud; services terminated, invoices cancelled."),
    ),
    StatusSpec(
        "cancelled", N_("Cancelled"), "cancelled", "#4b5563", {"refunded"},
        description=N_("Cancelled for good; kept for the record, out of totals, stock released. "
        "A cancelled order can still be refunded."),
    ),
    StatusSpec(
        "refunded", N_("Refunded"), "refunded", "#7c3aed", set(),
        description=N_("All money returned. Final."),
    ),
)


def status_spec_from_dict(data: dict[str, object]) -> StatusSpec:
    """Build a StatusSpec from settings (JSON), with a clear error for a malformed entry."""
    try:
        return StatusSpec(
            name=str(data["name"]),
            label=str(data.get("label") or data["name"]),
            category=str(data["category"]),
            colour=str(data.get("colour") or data.get("color") or "#6b7280"),
            transitions=frozenset(data.get("transitions") or ()),  # type: ignore[arg-type]
            reachable_from=frozenset(data.get("reachable_from") or ()),  # type: ignore[arg-type]
            description=str(data.get("description") or ""),
            labels={str(k): str(v) for k, v in dict(data.get("labels") or {}).items()},
        )
    except KeyError as missing:
        raise ConfigurationError(f"Custom status {data!r} lacks {missing}.") from None


class StatusRegistry:
    """The statuses an order may have and the moves between them."""

    def __init__(self) -> None:
        self._specs: dict[str, StatusSpec] = {}
        self._owners: dict[str, str] = {}
        self._extra_targets: dict[str, set[str]] = {}

    @classmethod
    def build(
        cls, sources: Iterable[tuple[str, Iterable[StatusSpec]]]
    ) -> StatusRegistry:
        """Registry of the defaults plus each (owner, specs) source, validated as a whole."""
        registry = cls()
        registry.add("ordermill (built-in)", DEFAULT_STATUSES)
        for owner, specs in sources:
            registry.add(owner, specs)
        registry.validate()
        return registry

    def add(self, owner: str, specs: Iterable[StatusSpec]) -> None:
        for spec in specs:
            if spec.name in self._specs:
                raise PluginConflict(
                    _("Conflicting plugins found for status %(name)s: provided by %(value)s and "
                      "%(owner)s.", name=repr(spec.name), value=self._owners[spec.name],
                      owner=owner),
                    details={"status": spec.name, "owners": [self._owners[spec.name], owner]},
                )
            self._specs[spec.name] = spec
            self._owners[spec.name] = owner
            for source in spec.reachable_from:
                self._extra_targets.setdefault(source, set()).add(spec.name)

    def validate(self) -> None:
        for spec in self._specs.values():
            unknown = (spec.transitions | spec.reachable_from) - self._specs.keys()
            if unknown:
                raise ConfigurationError(
                    f"Status {spec.name!r} names unknown statuses: {', '.join(sorted(unknown))}."
                )

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._specs.values())

    def get(self, name: str) -> StatusSpec:
        try:
            return self._specs[name]
        except KeyError:
            raise IllegalTransition(
                _("Unknown status %(name)s. Known statuses: %(known)s.", name=repr(name),
                  known=", ".join(self._specs)),
                details={"status": name},
            ) from None

    def owner(self, name: str) -> str:
        return self._owners[name]

    def category(self, name: str) -> str:
        return self.get(name).category

    def targets(self, name: str) -> frozenset[str]:
        return self.get(name).transitions | frozenset(self._extra_targets.get(name, ()))

    def can_move(self, source: str, target: str) -> bool:
        return target in self.targets(source)

    def check_move(self, source: str, target: str, *, action: str) -> None:
        """Raise IllegalTransition naming both statuses when `source` may not become `target`."""
        self.get(target)
        if not self.can_move(source, target):
            from ordermill.core.labels import status_label

            labels = sorted(status_label(self, name) for name in self.targets(source)
                            if name in self)
            allowed = ", ".join(labels) or _("no other status (final)")
            raise IllegalTransition(
                _("Cannot %(action)s an order that is %(source)s: %(source)s may move to "
                  "%(allowed)s, not %(target)s.", action=action,
                  source=status_label(self, source), allowed=allowed,
                  target=status_label(self, target)),
                details={"from": source, "to": target, "action": action},
            )

    def first_of_category(self, category: str) -> str:
        """The default status of a category (the built-in one if present)."""
        for spec in self._specs.values():
            if spec.category == category:
                return spec.name
        raise ConfigurationError(f"No status of category {category!r} is registered.")


# ---- derived displays -------------------------------------------------------------------


@attrs.frozen
class MoneyTotals:
    """What moved for one order, in minor units: captured charges and returned refunds."""

    captured: int
    refunded: int

    @property
    def net(self) -> int:
        return self.captured - self.refunded


def money_totals(order: Order) -> MoneyTotals:
    succeeded = [p for p in order.payments if p.status == "succeeded"]
    captured = sum(p.amount for p in succeeded if p.kind == "charge")
    refunded = sum(p.amount for p in succeeded if p.kind == "refund")
    return MoneyTotals(captured, refunded)


def amount_payable(order: Order) -> int:
    """What the buyer owes for the lines still active (cancelled lines are not owed), with
    their share of the order's fees (core.adjustments.fee_shares), plus the renewal invoices
    billed on the order since (a subscription's further periods)."""
    from ordermill.core.adjustments import fee_shares

    lines = sum(line.total + share for line, share in zip(order.lines, fee_shares(order),
                                                            strict=True)
                if line.status == "active")
    return lines + renewals_billed(order)


def renewals_billed(order: Order) -> int:
    """What the order's renewal invoices (kind "renewal", not cancelled) ask for.

    An order read without its invoices (a list that did not load them) has none loaded: it
    counts nothing rather than failing, so lists that show money load `Order.invoices`."""
    if "invoices" in sa_inspect(order).unloaded:
        return 0
    return sum(inv.amount for inv in order.invoices
               if inv.kind == "renewal" and inv.status != "cancelled")


def amount_due(order: Order) -> int:
    """Still to be paid for the active lines, never below zero.

    Refunds made for lines do not count as kept money; a goodwill refund (an amount with no
    lines) does not make the buyer owe it again.
    """
    line_refunds = sum(line.refunded_amount for line in order.lines)
    kept_for_lines = money_totals(order).captured - line_refunds
    return max(0, amount_payable(order) - kept_for_lines)


def payment_status(order: Order) -> str:
    """unpaid, partially_paid, paid, partially_refunded or refunded, from the payments."""
    totals = money_totals(order)
    if totals.refunded > 0:
        if amount_due(order) > 0:  # e.g. products added after a refund: money is owed again
            return "partially_paid" if totals.net > 0 else "unpaid"
        return "refunded" if totals.refunded >= totals.captured else "partially_refunded"
    if totals.captured == 0:
        return "paid" if order.total == 0 else "unpaid"
    if totals.captured >= amount_payable(order):
        return "paid"
    return "partially_paid"


def store_payment_status(order: Order) -> None:
    """Keep the stored `Order.payment_status` equal to the derivation (the list filters on
    the stored column by an index); called by every action before its order is saved."""
    derived = payment_status(order)
    if order.payment_status != derived:
        order.payment_status = derived


def line_summary(order: Order, paid: str | None = None) -> str:
    """The Webex display: Complete, X/Y Complete, Refunded, Cancelled, Refunded/Cancelled, Unpaid,
    Partially paid.

    Counted in units (tickets), not lines, since one line may carry several tickets.
    """
    counts = {status: 0 for status in LINE_STATUSES}
    for line in order.lines:
        counts[line.status] += line.quantity
    units = sum(counts.values())
    if units == 0:
        return "Empty"
    if counts["active"] == 0:
        if counts["cancelled"] == 0:
            return "Refunded"
        if counts["refunded"] == 0:
            return "Cancelled"
        return "Refunded/Cancelled"
    paid = paid or payment_status(order)  # a list passes the stored one (the same value)
    if paid == "unpaid":
        return "Unpaid"
    if paid == "partially_paid":  # as the payment column says it (issue 14)
        return "Partially paid"
    if counts["active"] == units:
        return "Complete"
    return f"{counts['active']}/{units} Complete"
