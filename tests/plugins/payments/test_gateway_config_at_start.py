"""A gateway's SDK is imported on first use, but its configuration is still read when the
gateways are built (at start): a bad number stops the start naming the plugin, instead of
failing the first payment."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ordermill.core.app import Ordermill
from ordermill.core.errors import PluginError
from ordermill.core.settings import Settings
from ordermill.testing import TEST_SECRET_KEY


@pytest.mark.parametrize("plugin, setting", [("payment_stripe", "max_network_retries"),
                                             ("payment_paypal", "timeout")])
def test_a_bad_number_in_a_gateways_config_stops_the_start(
        tmp_path: Path, plugin: str, setting: str) -> None:
    env = {"ORDERMILL_PLUGIN_CONFIG": json.dumps({plugin: {setting: "many"}})}
    mill = Ordermill(Settings.from_env(env=env, database_url=f"sqlite:///{tmp_path}/shop.sqlite",
                                       instance_path=tmp_path, secret_key=TEST_SECRET_KEY))
    try:
        with pytest.raises(PluginError) as refused:
            _ = mill.gateways
    finally:
        mill.dispose()
    assert plugin in str(refused.value) and "many" in str(refused.value)
