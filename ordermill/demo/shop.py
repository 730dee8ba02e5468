"""The demo's staff and the usual steps of an order's life (place, pay, accept, ship, ...),
made through the core actions only, so history, invoices, payments and stock are what real
use leaves behind."""

from __future__ import annotations

import datetime as dt
import random
import string
import unicodedata
from collections.abc import Sequence
from typing import Any

import attrs
from sqlalchemy import select

from ordermill.core.app import Ordermill
from ordermill.core.models import User, utcnow
from ordermill.core.money import percent_of
from ordermill.core.requests import LineRequest, OrderRequest
from ordermill.core.specs import Actor
from ordermill.core.statuses import amount_due
from ordermill.demo.catalogue import BUYERS, FEES, ONLINE_METHODS, Buyer


def _slug(text: str) -> str:
    """'O'Neill' -> 'oneill', 'Amélie' -> 'amelie': safe for usernames and domain names."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in ascii_text.lower() if ch.isalnum())


class ShopSteps:
    """The demo's staff and helpers for the usual steps; the recipes build on it."""

    def __init__(self, mill: Ordermill, rng: random.Random) -> None:
        self.mill = mill
        self.rng = rng
        self.manager = Actor(kind="user", name="anna.berg@ordermill.test", role="manager")
        self.support = Actor(kind="user", name="sam.okafor@ordermill.test", role="support")
        self._buyers = list(BUYERS)
        self.rng.shuffle(self._buyers)
        self._next_buyer = 0
        self.deleted: list[str] = []

    # ---- people ----------------------------------------------------------------------------

    def ensure_staff(self) -> int:
        """Two staff members act in the demo history. They have no password, so nobody can
        log in as them (and no slow password hashing runs)."""
        people = ((self.manager, "Anna Berg"), (self.support, "Sam Okafor"))
        resolved = []
        for actor, name in people:
            with self.mill.write_session() as session, session.begin():
                user = session.scalar(select(User).where(User.email == actor.name))
                if user is None:
                    user = User(email=actor.name, name=name, role=actor.role or "viewer",
                                password_hash=None, active=True, created_at=utcnow())
                    session.add(user)
                    session.flush()
                user_id = user.id
            resolved.append(attrs.evolve(actor, user_id=user_id))
        self.manager, self.support = resolved
        return len(people)

    def buyer(self) -> Buyer:
        buyer = self._buyers[self._next_buyer % len(self._buyers)]
        self._next_buyer += 1
        return buyer

    def ip(self) -> str:
        return f"{self.rng.choice(['203.0.113', '198.51.100', '192.0.2'])}." \
               f"{self.rng.randint(2, 254)}"

    # ---- steps -----------------------------------------------------------------------------

    def method(self, wanted: str) -> str:
        """The wanted payment method, or a registered gateway of the same kind (online or
        offline) when gateway plugins are installed and lack it."""
        gateways = self.mill.gateways
        if not gateways or wanted in gateways:
            return wanted
        online = wanted in ONLINE_METHODS
        alike = sorted(name for name, spec in gateways.items() if spec.online == online)
        return (alike or sorted(gateways))[0]

    def place(self, lines: Sequence[tuple[str, int] | LineRequest], method: str, *,
              buyer: Buyer | None = None, promo: str | None = None,
              plan: Sequence[int] | None = None, note: str | None = None,
              by_phone: bool = False, manager: Actor | None = None) -> str:
        buyer = buyer or self.buyer()
        request = OrderRequest(
            customer=buyer.details(),
            lines=[line if isinstance(line, LineRequest) else LineRequest(line[0], line[1])
                   for line in lines],
            payment_method=self.method(method), promo_code=promo, invoice_plan=plan,
            note=note, customer_ip=None if by_phone else self.ip(), admin_placed=by_phone,
            sales_manager_id=(manager or self.manager).user_id if by_phone else None,
        )
        # Instalment plans are set up by staff (seed 003), so those orders are placed by staff.
        staff = by_phone or bool(plan)
        actor = self.manager if staff else Actor.customer(buyer.email)
        result = self.mill.orders.place(request, actor=actor)
        assert result.order is not None
        return result.order.number

    def pay(self, number: str, amount: int | None = None, *, will_refund: bool = False,
            comment: str | None = None) -> None:
        """Record a payment the way its method brings it: online gateways at once with a fee,
        offline ones by a staff member with the bank's or cheque's reference."""
        order = self.mill.orders.get(number)
        method = order.payment_method
        minor = amount if amount is not None else amount_due(order)
        online = method in ONLINE_METHODS
        fee = 0
        if method in FEES:
            basis_points, fixed = FEES[method]
            fee = min(minor, percent_of(minor, basis_points) + fixed)
        digits = "".join(self.rng.choice("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(14))
        reference = {"stripe": f"ch_3{digits}", "paypal": f"PAYID-{digits}",
                     "banktransfer": f"SEPA-{digits[:10]}",
                     "cheque": f"CHQ {self.rng.randint(100000, 999999)}"}.get(method)
        self.mill.orders.record_payment(
            number, actor=Actor.system(method) if online else self.support, amount=minor,
            gateway=method, reference=reference, fee=fee,
            manual=(not online) or will_refund, comment=comment,
        )

    def lines(self, number: str) -> list[int]:
        return [line.id for line in self.mill.orders.get(number).lines]

    def later(self, days: float) -> dt.datetime:
        """A date after placement; moved back with the rest of the order afterwards."""
        return utcnow() + dt.timedelta(days=days, hours=self.rng.randint(1, 8))

    def comment(self, number: str, text: str, *, notify: bool = False,
                actor: Actor | None = None) -> None:
        self.mill.orders.add_comment(number, text, actor=actor or self.support,
                                     notify_customer=notify, visible_to_customer=notify)

    def accept(self, number: str, **options: Any) -> None:
        self.mill.orders.accept(number, actor=self.manager, options=options or None)

    def ship(self, number: str, *, deliver_after: float | None = None) -> None:
        carrier = self.rng.choice(["DHL", "DPD", "PostNL", "La Poste"])
        tracking = "".join(self.rng.choice("0123456789") for _ in range(12))
        self.mill.orders.mark_dispatched(number, actor=self.support, at=self.later(1),
                                         comment=f"Shipped with {carrier}, tracking {tracking}.")
        if deliver_after is not None:
            self.mill.orders.mark_delivered(number, actor=self.support,
                                            at=self.later(deliver_after))

    def complete(self, number: str) -> None:
        self.mill.orders.set_status(number, "completed", actor=self.manager)

    def hosting_options(self, buyer: Buyer) -> dict[str, Any]:
        username = _slug(buyer.name.split()[0])[:8] + str(self.rng.randint(10, 99))
        password = "".join(self.rng.choice(string.ascii_letters + string.digits)
                           for _ in range(16))
        # No "server": the provisioning plugin picks the least-loaded one it knows, if any.
        return {"username": username, "password": password, "autosetup": True,
                "send_email": True}
