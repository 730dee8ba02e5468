"""The demo shop's catalogue data: products of every kind, promo codes, buyers across Europe
and the demo admin's login. Plain data, so a screenshot or a test can name what it shows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from ordermill.core.requests import CustomerDetails

DEMO_SEED = 20240601
DEMO_ADMIN_EMAIL = "admin@ordermill.test"
DEMO_ADMIN_NAME = "Demo Admin"
DEMO_ADMIN_PASSWORD = "ordermill-demo"
CURRENCY = "EUR"
ONLINE_METHODS = frozenset({"stripe", "paypal"})
FEES = {"stripe": (150, 25), "paypal": (349, 35)}  # basis points + fixed cents, as charged


@attrs.frozen
class DemoProduct:
    sku: str
    name: str
    kind: str
    price: int
    category: str
    stock: int | None = None
    billing_cycle: str | None = None
    provisioning_module: str | None = None
    options: Mapping[str, Any] = attrs.field(factory=dict)
    tax_class: str = "standard"


PRODUCTS: tuple[DemoProduct, ...] = (
    DemoProduct("TEE-ORGANIC", "Organic cotton T-shirt", "physical", 2490, "Merchandise",
                stock=120, options={"sizes": ["S", "M", "L", "XL"]}),
    DemoProduct("MUG-ENAMEL", "Enamel camping mug", "physical", 1450, "Merchandise", stock=80),
    DemoProduct("POSTER-A2", "Tour poster A2, signed", "physical", 1900, "Merchandise",
                stock=25),
    DemoProduct("VINYL-LIVE", "Live at the Mill (vinyl LP)", "physical", 2999, "Music",
                stock=40),
    DemoProduct("TKT-SUMMER-GA", "Summer Concert: general admission", "ticket", 4500,
                "Tickets", stock=300, options={"venue": "Old Mill Hall", "doors": "19:00"},
                tax_class="reduced"),
    DemoProduct("TKT-SUMMER-VIP", "Summer Concert: VIP with backstage tour", "ticket", 12000,
                "Tickets", stock=24, options={"venue": "Old Mill Hall", "doors": "18:00"},
                tax_class="reduced"),
    DemoProduct("TKT-WORKSHOP", "Songwriting workshop (one day)", "ticket", 8500, "Tickets",
                stock=12, options={"venue": "Studio B"}, tax_class="reduced"),
    DemoProduct("HOST-STARTER", "Starter web hosting", "service", 599, "Hosting",
                billing_cycle="monthly", provisioning_module="webhook"),
    DemoProduct("HOST-BUSINESS", "Business web hosting", "service", 17900, "Hosting",
                billing_cycle="annually", provisioning_module="webhook"),
    DemoProduct("VPS-2", "Cloud VPS, 2 vCPU / 4 GB", "service", 1900, "Hosting",
                billing_cycle="monthly", provisioning_module="webhook"),
    DemoProduct("DOMAIN-COM", ".com domain registration", "domain", 1299, "Domains",
                billing_cycle="annually", provisioning_module="webhook"),
    DemoProduct("DOMAIN-EU", ".eu domain registration", "domain", 850, "Domains",
                billing_cycle="annually", provisioning_module="webhook"),
    DemoProduct("EBOOK-STUDIO", "Home studio handbook (e-book)", "digital", 999, "Digital"),
    DemoProduct("PRESETS-SYNTH", "Analog synth preset pack", "digital", 1500, "Digital"),
)

# The tax_rates plugin's settings (its "Tax rates" tab): a French shop, prices entered gross
# (tax included, as French consumers see them), France 20 % with 5.5 % for tickets, and
# Indonesia's PPN 11 % for the hosting resellers' buyers there.
TAX_SETTINGS_KEY = "plugin:tax_rates"
TAX_SETTINGS: Mapping[str, Any] = {
    "home_country": "FR", "prices_include_tax": True, "reverse_charge": True,
    "rates": '{"FR": {"standard": "20", "reduced": "5.5"}, "ID": {"standard": "11"}}',
}

PROMO_CODES: tuple[tuple[str, str, int, str | None], ...] = (
    ("SUMMER10", "percent", 1000, None),  # 10 %
    ("WELCOME5", "fixed", 500, CURRENCY),  # 5.00 off
)


@attrs.frozen
class Buyer:
    name: str
    email: str
    city: str
    country: str
    language: str = "en"
    company: str | None = None
    phone: str | None = None

    def details(self) -> CustomerDetails:
        address = {"line1": "12 Demo Street", "city": self.city, "country": self.country}
        return CustomerDetails(email=self.email, name=self.name, phone=self.phone,
                               company=self.company, billing_address=address,
                               language=self.language)


BUYERS: tuple[Buyer, ...] = (
    Buyer("Lena Fischer", "lena.fischer@example.de", "Hamburg", "DE", "de",
          company="Bäckerei Fischer", phone="+49 40 555 0101"),
    Buyer("Tom Baker", "tom.baker@example.co.uk", "Leeds", "GB"),
    Buyer("Amélie Durand", "amelie.durand@example.fr", "Lyon", "FR", "fr"),
    Buyer("Jonas Vermeulen", "jonas@example.be", "Ghent", "BE", "nl"),
    Buyer("Sofia Rossi", "sofia.rossi@example.it", "Bologna", "IT", "it"),
    Buyer("Marta Nowak", "marta.nowak@example.pl", "Kraków", "PL", "pl"),
    Buyer("Daniel Murphy", "dan.murphy@example.ie", "Cork", "IE"),
    Buyer("Ines Carvalho", "ines.carvalho@example.pt", "Porto", "PT", "pt"),
    Buyer("Lucas Martín", "lucas.martin@example.es", "Valencia", "ES", "es"),
    Buyer("Eva Lindqvist", "eva.lindqvist@example.se", "Uppsala", "SE", "sv",
          company="Lindqvist Design AB"),
    Buyer("Pieter de Vries", "pieter@example.nl", "Utrecht", "NL", "nl"),
    Buyer("Hannah Schmidt", "hannah.schmidt@example.at", "Graz", "AT", "de"),
    Buyer("Oliver Jensen", "oliver.jensen@example.dk", "Aarhus", "DK", "da"),
    Buyer("Chloé Martin", "chloe.martin@example.fr", "Nantes", "FR", "fr",
          company="Atelier Chloé"),
    Buyer("Mateo García", "mateo.garcia@example.es", "Sevilla", "ES", "es"),
    Buyer("Aisha Khan", "aisha.khan@example.co.uk", "Manchester", "GB",
          company="Northern Lights Events Ltd", phone="+44 161 555 0199"),
    Buyer("Nina Horvat", "nina.horvat@example.hr", "Zagreb", "HR", "hr"),
    Buyer("Felix Wagner", "felix.wagner@example.de", "Leipzig", "DE", "de"),
    Buyer("Grace O'Neill", "grace.oneill@example.ie", "Galway", "IE"),
    Buyer("Mikko Virtanen", "mikko.virtanen@example.fi", "Tampere", "FI", "fi"),
    Buyer("Clara Weber", "clara.weber@example.ch", "Basel", "CH", "de",
          company="Weber & Partner GmbH"),
    Buyer("Rui Santos", "rui.santos@example.pt", "Lisbon", "PT", "pt"),
)

SUSPICIOUS_BUYER = Buyer("J Smith", "xx.j.smith.8812@example.net", "Unknown", "US")
