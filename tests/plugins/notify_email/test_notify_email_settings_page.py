"""The e-mail plugin's settings tab: what an admin stores there (sender, reply-to, the team's
recipients) wins over ORDERMILL_PLUGIN_CONFIG, both when jobs are queued and when mail is
sent; a bad address is refused and nothing is stored."""

from __future__ import annotations

from typing import Any

import pytest

from ordermill.core.errors import InvalidInput
from ordermill.core.shop_settings import plugin_settings, save_plugin_settings
from ordermill.core.specs import Actor
from ordermill.plugins.notify_email.config import NotifyConfig
from ordermill.plugins.notify_email.testing import SmtpSink


def test_stored_sender_and_team_win_over_the_configuration(
        mill: Any, make_product: Any, order_factory: Any, smtp: SmtpSink, staff: Actor
        ) -> None:
    assert NotifyConfig.for_mill(mill).from_address == "orders@shop.test"  # configured
    save_plugin_settings(mill, "notify_email", {
        "from_name": "Hall Box Office", "from_address": "tickets@hall.example",
        "reply_to": "help@hall.example",
        "team_recipients": "desk@hall.example\n boss@hall.example, "}, actor=staff)
    assert plugin_settings(mill, "notify_email") == {
        "from_name": "Hall Box Office", "from_address": "tickets@hall.example",
        "reply_to": "help@hall.example",
        "team_recipients": "desk@hall.example, boss@hall.example"}
    config = NotifyConfig.for_mill(mill)
    assert config.team_recipients == ("desk@hall.example", "boss@hall.example")
    assert config.host == "127.0.0.1"  # the connection stays the configured one

    make_product("TSHIRT", price=1250, stock=5)
    order_factory([("TSHIRT", 1)], email="ann@example.com")
    mill.outbox.run_until_empty()
    confirmation = next(m for m in smtp.messages
                        if m["X-Ordermill-Template"] == "order_confirmation")
    assert confirmation["From"] == "Hall Box Office <tickets@hall.example>"
    assert confirmation["Reply-To"] == "help@hall.example"
    team = sorted(m["To"] for m in smtp.messages
                  if m["X-Ordermill-Template"] == "team_new_order")
    assert team == ["boss@hall.example", "desk@hall.example"]  # queued with the stored list


def test_a_bad_address_is_refused_and_nothing_is_stored(mill: Any, staff: Actor) -> None:
    with pytest.raises(InvalidInput) as refused:
        save_plugin_settings(mill, "notify_email", {
            "from_address": "not an address", "team_recipients": "a@b.example, nope"},
            actor=staff)
    assert set(refused.value.details["fields"]) == {"from_address", "team_recipients"}
    assert plugin_settings(mill, "notify_email") == {}
    assert NotifyConfig.for_mill(mill).from_address == "orders@shop.test"


def test_the_config_is_parsed_once_until_the_settings_or_the_stored_values_change(
        mill: Any, staff: Actor, reconfigure: Any) -> None:
    first = NotifyConfig.for_mill(mill)
    assert NotifyConfig.for_mill(mill) is first  # every action asks: parsed once
    save_plugin_settings(mill, "notify_email", {"from_address": "tickets@hall.example"},
                         actor=staff)
    stored = NotifyConfig.for_mill(mill)
    assert stored is not first and stored.from_address == "tickets@hall.example"
    assert NotifyConfig.for_mill(mill) is stored
    reconfigure(notify={"from_name": "Hall"})  # a new Settings object: parsed afresh
    renamed = NotifyConfig.for_mill(mill)
    assert (renamed.from_name, renamed.from_address) == ("Hall", "tickets@hall.example")
    reconfigure(notify={"host": None})  # inactive: the stored values no longer matter
    assert NotifyConfig.for_mill(mill).enabled is False
