"""Scenario recipes: every situation the desk handles, one order each, with how many days
ago it happened. The smooth ones (pending, paid in parts, accepted, shipped, completed) are
here; trouble.py has the rest."""

from __future__ import annotations

from collections.abc import Callable

from ordermill.core.requests import LineRequest
from ordermill.demo.catalogue import BUYERS
from ordermill.demo.shop import _slug
from ordermill.demo.trouble import TroubleRecipes
from ordermill.demo.year import YearRecipes


class _Shop(TroubleRecipes, YearRecipes):
    """The demo's staff, helpers for the usual steps, and the order recipes."""

    def recipes(self) -> list[tuple[float, Callable[[], str]]]:
        """(days ago, make one order and return its number) for every situation the desk
        handles. They run oldest first, so internal ids follow the placement dates."""
        return [
            # pending, unpaid: waiting for a bank transfer, a cheque or an invoice
            (0.2, self.pending_bank_tickets),
            (0.5, self.pending_cheque_merch),
            (1.5, self.pending_invoice_by_phone),
            (2.5, self.pending_bank_hosting_reminded),
            (3.5, self.pending_promo_percent),
            (4.5, self.pending_promo_fixed),
            # pending but paid: online payments waiting for review (WHMCS)
            (0.1, self.pending_paid_vps),
            (1.0, self.pending_paid_business_hosting),
            (2.0, self.pending_paid_vip_bank),
            # partially paid, several invoices (seed 003)
            (9.0, self.partial_workshop_invoices),
            (12.0, self.partial_hosting_two_invoices),
            (15.0, self.partial_vip_two_of_three),
            # accepted: services provisioned, tickets issued
            (6.0, self.active_hosting_starter_domain),
            (8.0, self.active_business_hosting),
            (10.0, self.active_vps),
            (11.0, self.active_domain_only),
            (13.0, self.active_tickets_issued),
            (14.0, self.active_tickets_paypal),
            # goods on their way or arrived
            (3.0, self.dispatched_stripe_merch),
            (5.0, self.dispatched_paypal_merch),
            (16.0, self.delivered_bank_merch),
            (18.0, self.delivered_cheque_vinyl),
            # completed
            (25.0, self.completed_merch),
            (30.0, self.completed_merch_promo),
            (34.0, self.completed_merch_bundle),
            (21.0, self.completed_digital),
            (27.0, self.completed_digital_bundle),
            (40.0, self.completed_tickets),
            # fraud
            (1.2, self.fraud_vip_tickets),
            (7.0, self.fraud_vps),
            (17.0, self.fraud_cleared_then_accepted),
            # cancelled: whole orders and single lines
            (6.5, self.cancelled_unpaid_tickets),
            (19.0, self.cancelled_then_paid_flagged),
            (7.5, self.line_cancelled_then_paid),
            (2.2, self.line_cancelled_unpaid),
            # refunded: whole, one line, an amount, and both at once
            (22.0, self.refunded_whole_tickets),
            (24.0, self.cancel_and_refund_merch),
            (20.0, self.refunded_one_ticket),
            (23.0, self.refunded_hosting_line),
            (36.0, self.goodwill_refund),
            (26.0, self.refunded_and_cancelled),
            # edits
            (4.0, self.products_added_by_phone),
            (9.5, self.buyer_email_corrected),
            (28.0, self.deleted_unpaid),
            # a year of ordinary sales before these, for the reports (issue 17)
            *self.year_of_sales(),
        ]

    def pending_bank_tickets(self) -> str:
        return self.place([("TKT-SUMMER-GA", 2)], "banktransfer",
                          note="Please put both tickets in my name.")

    def pending_cheque_merch(self) -> str:
        return self.place([LineRequest("TEE-ORGANIC", 2, options={"size": "M"}),
                           ("MUG-ENAMEL", 1)], "cheque")

    def pending_invoice_by_phone(self) -> str:
        buyer = next(b for b in BUYERS if b.company == "Northern Lights Events Ltd")
        number = self.place([("TKT-WORKSHOP", 3)], "invoice", buyer=buyer, by_phone=True,
                            note="Purchase order PO-4471")
        self.comment(number, "Invoice sent to accounts@northernlights.example.", notify=True)
        return number

    def pending_bank_hosting_reminded(self) -> str:
        number = self.place([("HOST-STARTER", 1), LineRequest("DOMAIN-COM", 1,
                            domain="baeckerei-fischer.com")], "banktransfer",
                            buyer=BUYERS[0])
        self.comment(number, "Reminder sent: bank transfer not received yet.", notify=True)
        return number

    def pending_promo_percent(self) -> str:
        return self.place([("TKT-SUMMER-GA", 4)], "banktransfer", promo="SUMMER10")

    def pending_promo_fixed(self) -> str:
        return self.place([("VINYL-LIVE", 1), ("POSTER-A2", 1)], "cheque", promo="WELCOME5")

    def pending_paid_vps(self) -> str:
        number = self.place([("VPS-2", 1), LineRequest("DOMAIN-EU", 1,
                            domain="vermeulen-dev.eu")], "stripe")
        self.pay(number)
        return number

    def pending_paid_business_hosting(self) -> str:
        number = self.place([("HOST-BUSINESS", 1)], "paypal")
        self.pay(number)
        return number

    def pending_paid_vip_bank(self) -> str:
        number = self.place([LineRequest("TKT-SUMMER-VIP", 1, attendee="Rui Santos"),
                             LineRequest("TKT-SUMMER-VIP", 1, attendee="Ana Santos")],
                            "banktransfer")
        self.pay(number, comment="Transfer arrived; tickets to be issued after review.")
        return number

    def partial_workshop_invoices(self) -> str:
        number = self.place([("TKT-WORKSHOP", 4)], "invoice", plan=[11400, 11300, 11300],
                            buyer=BUYERS[9], by_phone=True)
        self.pay(number, 11400)
        self.comment(number, "First of three instalments received.", notify=True)
        return number

    def partial_hosting_two_invoices(self) -> str:
        number = self.place([("HOST-BUSINESS", 1), ("VPS-2", 1)], "banktransfer",
                            plan=[9900, 9900])
        self.pay(number, 9900)
        return number

    def partial_vip_two_of_three(self) -> str:
        number = self.place([("TKT-SUMMER-VIP", 3)], "stripe", plan=[12000, 12000, 12000])
        self.pay(number, 12000)
        self.pay(number, 12000)
        return number

    def active_hosting_starter_domain(self) -> str:
        buyer = self.buyer()
        number = self.place([("HOST-STARTER", 1), LineRequest("DOMAIN-COM", 1,
                            domain=f"{_slug(buyer.name.split()[-1])}-studio.com")],
                            "stripe", buyer=buyer)
        self.pay(number)
        self.accept(number, **self.hosting_options(buyer), send_registrar=True)
        return number

    def active_business_hosting(self) -> str:
        buyer = self.buyer()
        number = self.place([("HOST-BUSINESS", 1)], "banktransfer", buyer=buyer)
        self.pay(number)
        self.accept(number, **self.hosting_options(buyer))
        return number

    def active_vps(self) -> str:
        buyer = self.buyer()
        number = self.place([("VPS-2", 2)], "paypal", buyer=buyer)
        self.pay(number)
        self.accept(number, **self.hosting_options(buyer))
        self.comment(number, "Second VPS set up in the Frankfurt zone as asked.", notify=True)
        return number

    def active_domain_only(self) -> str:
        number = self.place([LineRequest("DOMAIN-EU", 1, domain="atelier-chloe.eu")],
                            "invoice", buyer=BUYERS[13])
        self.pay(number)
        self.accept(number, send_registrar=True)
        return number

    def active_tickets_issued(self) -> str:
        number = self.place([("TKT-SUMMER-GA", 3)], "banktransfer")
        self.pay(number)
        self.accept(number)
        self.comment(number, "E-tickets sent.", notify=True)
        return number

    def active_tickets_paypal(self) -> str:
        number = self.place([("TKT-SUMMER-GA", 1), ("TKT-SUMMER-VIP", 1)], "paypal")
        self.pay(number)
        self.accept(number)
        return number

    def dispatched_stripe_merch(self) -> str:
        number = self.place([LineRequest("TEE-ORGANIC", 1, options={"size": "L"}),
                             ("POSTER-A2", 1)], "stripe")
        self.pay(number)
        self.accept(number)
        self.ship(number)
        return number

    def dispatched_paypal_merch(self) -> str:
        number = self.place([("VINYL-LIVE", 2)], "paypal", promo="SUMMER10")
        self.pay(number)
        self.accept(number)
        self.ship(number)
        return number

    def delivered_bank_merch(self) -> str:
        number = self.place([("MUG-ENAMEL", 4)], "banktransfer")
        self.pay(number)
        self.accept(number)
        self.ship(number, deliver_after=4)
        return number

    def delivered_cheque_vinyl(self) -> str:
        number = self.place([("VINYL-LIVE", 1), ("TEE-ORGANIC", 1)], "cheque")
        self.pay(number)
        self.accept(number)
        self.ship(number, deliver_after=5)
        return number

    def completed_merch(self) -> str:
        number = self.place([("TEE-ORGANIC", 3)], "stripe")
        self.pay(number)
        self.accept(number)
        self.ship(number, deliver_after=3)
        self.complete(number)
        return number

    def completed_merch_promo(self) -> str:
        number = self.place([("MUG-ENAMEL", 2), ("POSTER-A2", 1)], "paypal", promo="WELCOME5")
        self.pay(number)
        self.accept(number)
        self.ship(number, deliver_after=4)
        self.complete(number)
        return number

    def completed_merch_bundle(self) -> str:
        number = self.place([("VINYL-LIVE", 1), ("TEE-ORGANIC", 1), ("MUG-ENAMEL", 1)],
                            "banktransfer")
        self.pay(number)
        self.accept(number)
        self.ship(number, deliver_after=6)
        self.complete(number)
        return number

    def completed_digital(self) -> str:
        number = self.place([("EBOOK-STUDIO", 1)], "paypal")
        self.pay(number)
        self.accept(number)
        self.complete(number)
        return number

    def completed_digital_bundle(self) -> str:
        number = self.place([("EBOOK-STUDIO", 1), ("PRESETS-SYNTH", 1)], "stripe",
                            promo="SUMMER10")
        self.pay(number)
        self.accept(number)
        self.complete(number)
        return number

    def completed_tickets(self) -> str:
        number = self.place([("TKT-WORKSHOP", 1)], "cheque")
        self.pay(number)
        self.accept(number)
        self.complete(number)
        self.comment(number, "Attended; certificate e-mailed.", notify=True)
        return number
