"""Gateway callables are checked when the gateways are collected (issue 13, acceptance 4): a
refund or start_payment the core cannot call fails start-up and `ordermill plugins` with a
message naming the plugin and the signature the core calls."""

from __future__ import annotations

import functools
import json
from typing import Any

import pytest

from ordermill.api import GatewayRefund, PaymentGatewaySpec, hookimpl
from ordermill.core.app import Ordermill
from ordermill.core.errors import PluginLoadError
from ordermill.testing_kit import KitCli

EXPECTED_REFUND = "refund(*, charge, amount, idempotency_key, ctx) -> GatewayRefund"


def refund_without_ctx(*, charge: Any, amount: int, idempotency_key: str) -> GatewayRefund:
    return GatewayRefund(reference="re_1")


def start_with_config(*, order: Any, invoice: Any, amount: int, currency: str,
                      idempotency_key: str, config: dict[str, Any]) -> dict[str, Any]:
    return {"url": config["url"]}


class Gateway:
    """A gateway plugin whose callables are given per test."""

    PLUGIN = "badpay"

    def __init__(self, **callables: Any) -> None:
        self.callables = callables

    @hookimpl
    def register_payment_gateways(self) -> list[PaymentGatewaySpec]:
        return [PaymentGatewaySpec(name="badpay", label="BadPay", online=True,
                                   can_refund=True, **self.callables)]


WRONG_REFUND = Gateway(refund=refund_without_ctx)


@pytest.mark.ordermill_plugins(WRONG_REFUND)
def test_a_refund_of_the_wrong_signature_fails_collecting_the_gateways(mill: Ordermill) -> None:
    with pytest.raises(PluginLoadError) as caught:
        mill.gateways  # noqa: B018
    message = caught.value.message
    assert "Plugin 'badpay'" in message and "gateway 'badpay'" in message
    assert f"expected {EXPECTED_REFUND}" in message
    assert "missing a required argument: 'ctx'" not in message  # ctx is extra, not missing
    assert "got an unexpected keyword argument 'ctx'" in message
    assert caught.value.details["expected"] == EXPECTED_REFUND


@pytest.mark.ordermill_plugins(WRONG_REFUND)
def test_the_wrong_refund_fails_ordermill_plugins_and_start_up(cli: KitCli) -> None:
    listed = cli("plugins")
    assert listed.exit_code == 1
    output = " ".join(listed.output.split())  # rich wraps long lines
    assert "Error: Plugin 'badpay'" in output and EXPECTED_REFUND in output
    assert "it takes (*, charge, amount, idempotency_key)" in output
    as_json = cli("plugins", "--json")
    assert as_json.exit_code == 1
    [error] = json.loads(as_json.output)["errors"]
    assert error.startswith("Plugin 'badpay' gives payment gateway 'badpay' a refund callable")
    served = cli("serve", "--no-worker", "--port", "0")  # refused before it listens
    assert served.exit_code == 1 and EXPECTED_REFUND in " ".join(served.output.split())
    started = cli("worker", "--once")
    assert started.exit_code == 1
    output = " ".join(started.output.split())
    assert "Plugin 'badpay'" in output and EXPECTED_REFUND in output


@pytest.mark.ordermill_plugins(Gateway(start_payment=start_with_config))
def test_an_unbound_configuration_argument_is_caught(mill: Ordermill) -> None:
    with pytest.raises(PluginLoadError, match=r"start_payment\(\*, order, invoice, amount, "
                                              r"currency, idempotency_key\) -> dict.*'config'"):
        mill.gateways  # noqa: B018


@pytest.mark.ordermill_plugins(Gateway(
    start_payment=functools.partial(start_with_config, config={"url": "https://pay.test"}),
    refund=lambda **kwargs: GatewayRefund(reference="re_2"),
    parse_webhook=lambda *, body, headers, strict=True: None))
def test_bound_configuration_keyword_catch_alls_and_defaults_pass(
        mill: Ordermill, cli: KitCli) -> None:
    assert mill.gateways["badpay"].label == "BadPay"
    assert cli("plugins").exit_code == 0
    assert cli("worker", "--once").exit_code == 0


@pytest.mark.ordermill_plugins(Gateway(refund="not a function"))
def test_a_callable_field_that_is_not_callable_is_refused(mill: Ordermill) -> None:
    with pytest.raises(PluginLoadError, match="'not a function' is not callable"):
        mill.gateways  # noqa: B018
