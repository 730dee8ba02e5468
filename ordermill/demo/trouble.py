"""Scenario recipes where something goes wrong or changes: fraud, cancellations, refunds,
edits and a deleted order."""

from __future__ import annotations

import attrs

from ordermill.core.requests import LineRequest
from ordermill.demo.catalogue import SUSPICIOUS_BUYER, Buyer
from ordermill.demo.shop import ShopSteps, _slug


class TroubleRecipes(ShopSteps):
    """Orders that end in fraud, cancelled, refunded, edited or deleted."""

    def fraud_vip_tickets(self) -> str:
        number = self.place([("TKT-SUMMER-VIP", 6)], "stripe", buyer=SUSPICIOUS_BUYER)
        self.mill.orders.mark_fraud(number, actor=self.manager,
                                    comment="Six VIP tickets, card country and IP country "
                                            "differ, throwaway e-mail address.")
        return number

    def fraud_vps(self) -> str:
        number = self.place([("VPS-2", 4)], "paypal",
                            buyer=Buyer("Max Power", "maxpower1999@example.org", "Unknown",
                                        "US"))
        self.mill.orders.mark_fraud(number, actor=self.manager,
                                    comment="Four VPS for crypto mining, name looks made up.")
        return number

    def fraud_cleared_then_accepted(self) -> str:
        buyer = self.buyer()
        number = self.place([("HOST-STARTER", 1)], "banktransfer", buyer=buyer)
        self.mill.orders.mark_fraud(number, actor=self.manager,
                                    comment="Billing country does not match the IP.")
        self.mill.orders.set_back_to_pending(number, actor=self.manager,
                                             comment="Customer verified by phone: travelling.")
        self.pay(number)
        self.accept(number, **self.hosting_options(buyer))
        return number

    def cancelled_unpaid_tickets(self) -> str:
        number = self.place([("TKT-SUMMER-GA", 2)], "banktransfer")
        self.mill.orders.cancel(number, actor=self.support, restock=True,
                                comment="Customer cannot come after all; never paid.")
        return number

    def cancelled_then_paid_flagged(self) -> str:
        number = self.place([("POSTER-A2", 2)], "banktransfer")
        self.mill.orders.cancel(number, actor=self.support, restock=True,
                                comment="No payment after 14 days.")
        total = self.mill.orders.get(number).total
        self.pay(number, total)  # the transfer arrives anyway: recorded and flagged
        return number

    def line_cancelled_then_paid(self) -> str:
        number = self.place([("TEE-ORGANIC", 1), ("MUG-ENAMEL", 1), ("POSTER-A2", 1)],
                            "banktransfer")
        poster = self.lines(number)[2]
        self.mill.orders.cancel(number, actor=self.support, line_ids=[poster],
                                comment="Signed poster sold out in this size.", restock=True)
        self.pay(number)
        self.accept(number)
        return number

    def line_cancelled_unpaid(self) -> str:
        number = self.place([("TKT-SUMMER-GA", 2), ("TKT-WORKSHOP", 1)], "cheque")
        workshop = self.lines(number)[1]
        self.mill.orders.cancel(number, actor=self.support, line_ids=[workshop])
        return number

    def refunded_whole_tickets(self) -> str:
        number = self.place([("TKT-SUMMER-GA", 2)], "banktransfer")
        self.pay(number, will_refund=True)
        self.accept(number)
        self.mill.orders.refund(number, actor=self.manager, restock=True,
                                comment="Customer moved abroad; full refund by bank transfer.")
        return number

    def cancel_and_refund_merch(self) -> str:
        number = self.place([("TEE-ORGANIC", 2), ("MUG-ENAMEL", 2)], "cheque")
        self.pay(number, will_refund=True)
        self.mill.orders.cancel_and_refund(number, actor=self.manager, restock=True,
                                           comment="Order placed twice by mistake.")
        return number

    def refunded_one_ticket(self) -> str:
        number = self.place([("TKT-SUMMER-GA", 2), ("TKT-SUMMER-VIP", 1)], "banktransfer")
        self.pay(number, will_refund=True)
        self.accept(number)
        vip = self.lines(number)[1]
        self.mill.orders.refund(number, actor=self.manager, line_ids=[vip], restock=True,
                                comment="VIP guest fell ill; the two GA tickets stay.")
        return number

    def refunded_hosting_line(self) -> str:
        buyer = self.buyer()
        number = self.place([("HOST-STARTER", 1), LineRequest("DOMAIN-EU", 1,
                            domain=f"{_slug(buyer.name.split()[0])}-photo.eu")], "invoice",
                            buyer=buyer)
        self.pay(number, will_refund=True)
        self.accept(number, **self.hosting_options(buyer))
        hosting = self.lines(number)[0]
        self.mill.orders.refund(number, actor=self.manager, line_ids=[hosting],
                                comment="Moved the site elsewhere; keeps the domain.")
        return number

    def goodwill_refund(self) -> str:
        number = self.place([("VINYL-LIVE", 1), ("POSTER-A2", 1)], "banktransfer")
        self.pay(number, will_refund=True)
        self.accept(number)
        self.ship(number, deliver_after=9)
        self.complete(number)
        self.mill.orders.refund(number, actor=self.manager, amount=500,
                                comment="Goodwill: parcel arrived a week late.")
        return number

    def refunded_and_cancelled(self) -> str:
        number = self.place([("TKT-SUMMER-GA", 1), ("TKT-WORKSHOP", 1)], "banktransfer")
        ga, workshop = self.lines(number)
        self.mill.orders.cancel(number, actor=self.support, line_ids=[workshop])
        self.pay(number, will_refund=True)
        self.mill.orders.refund(number, actor=self.manager, line_ids=[ga],
                                comment="Concert date clashes with a wedding.")
        return number

    def products_added_by_phone(self) -> str:
        number = self.place([("TKT-SUMMER-GA", 2)], "banktransfer")
        self.pay(number)
        self.mill.orders.add_lines(number, [LineRequest("TKT-SUMMER-GA", 2)],
                                   actor=self.support,
                                   comment="Customer phoned: two friends join.")
        return number

    def buyer_email_corrected(self) -> str:
        buyer = self.buyer()
        local, domain = buyer.email.split("@")
        wrong = attrs.evolve(buyer, email=f"{local[:-2]}{local[-1]}{local[-2]}@{domain}")
        number = self.place([("EBOOK-STUDIO", 1), ("PRESETS-SYNTH", 1)], "paypal",
                            buyer=wrong)
        self.mill.orders.edit_buyer(number, {"email": buyer.email}, actor=self.support)
        self.pay(number)
        self.accept(number)
        return number

    def deleted_unpaid(self) -> str:
        number = self.place([("TKT-SUMMER-GA", 6)], "banktransfer")
        self.mill.orders.delete(number, actor=self.manager, restock=True)
        self.deleted.append(number)
        return number
