"""The built-in plugins' settings tabs: bank transfer and e-mail show what their configuration
says as placeholders, store what an admin types, and stay closed to roles without
manage_settings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from adminkit import Admin

from ordermill.core.app import Ordermill
from ordermill.core.shop_settings import plugin_settings


@pytest.fixture
def ordermill_settings_overrides() -> dict[str, Any]:
    return {"plugins": {
        "payment_banktransfer": {"iban": "DE89370400440532013000", "bank": "Commerzbank"},
        "notify_email": {"from_address": "orders@config.example", "from_name": "Config Shop"},
    }}


def test_the_tabs_show_the_configuration_and_store_the_admins_values(
        admin: Admin, mill: Ordermill) -> None:
    nav = admin.get("/admin/settings/shop").get_data(as_text=True)
    assert ">Bank transfer<" in nav and ">E-mail<" in nav
    bank = admin.get("/admin/settings/plugins/bank_transfer").get_data(as_text=True)
    assert 'placeholder="DE89370400440532013000"' in bank and 'placeholder="Commerzbank"' in bank
    mail = admin.get("/admin/settings/plugins/notify_email").get_data(as_text=True)
    assert 'placeholder="orders@config.example"' in mail
    assert 'placeholder="Config Shop"' in mail
    assert 'name="password"' not in mail and 'name="host"' not in mail  # SMTP stays configured

    saved = admin.post("/admin/settings/plugins/notify_email",
                       {"from_address": "hello@admin.example", "from_name": ""})
    assert saved.status_code == 303
    assert plugin_settings(mill, "notify_email") == {"from_address": "hello@admin.example"}
    refused = admin.post("/admin/settings/plugins/notify_email", {"reply_to": "nobody"})
    assert refused.status_code == 422
    assert "&#39;nobody&#39; is not an e-mail address." in refused.get_data(as_text=True)


@pytest.mark.parametrize("role", ["manager", "support", "viewer"])
def test_roles_without_manage_settings_neither_see_nor_reach_them(
        staff_login: Callable[[str], Admin], mill: Ordermill, role: str) -> None:
    user = staff_login(role)
    for page in ("bank_transfer", "notify_email"):
        assert user.get(f"/admin/settings/plugins/{page}").status_code == 403
        assert user.post(f"/admin/settings/plugins/{page}",
                         {"from_address": "x@y.example", "iban": ""}).status_code == 403
    assert plugin_settings(mill, "notify_email") == {}
    assert plugin_settings(mill, "bank_transfer") == {}
