"""Settings an admin stores at run time override the start-up configuration."""

from decimal import Decimal

import pytest

from ordermill import hookimpl
from ordermill.core import shop_settings
from ordermill.core.errors import PermissionDenied
from ordermill.core.specs import Actor, FraudResult
from ordermill.plugins import payment_banktransfer as banktransfer
from ordermill.testing import order_request


class Scorer:
    @hookimpl
    def fraud_check(self, order, ctx):
        return FraudResult(provider="scorer", score=Decimal("50"))


def test_stored_fraud_threshold_decides_placement(mill, make_product, register_plugin, staff):
    make_product("TSHIRT")
    register_plugin(Scorer(), name="scorer")
    first = mill.orders.place(order_request([("TSHIRT", 1)]), actor=staff).order
    assert first.status == "pending"  # 50 is under the configured 75
    shop_settings.write_setting(mill, shop_settings.FRAUD_THRESHOLD, {"value": "40.00"},
                                actor=staff)
    assert mill.fraud_threshold == Decimal("40.00")
    second = mill.orders.place(order_request([("TSHIRT", 1)]), actor=staff).order
    assert second.status == "fraud"


def test_only_settings_managers_store_settings(mill):
    viewer = Actor(kind="user", name="v@shop.test", role="support")
    with pytest.raises(PermissionDenied):
        shop_settings.write_setting(mill, shop_settings.FRAUD_THRESHOLD, {"value": "1"},
                                    actor=viewer)
    assert shop_settings.read_setting(mill, shop_settings.FRAUD_THRESHOLD) == {}
    assert mill.fraud_threshold == mill.settings.fraud_threshold


def test_bank_details_saved_by_an_admin_reach_the_payment_instructions(
        mill, make_product, order_factory, staff):
    make_product("TSHIRT")
    order = order_factory([("TSHIRT", 1)], payment_method="banktransfer")
    gateway = mill.gateways["banktransfer"]
    assert "DE89" not in gateway.describe_instructions(order=order, mill=mill)
    shop_settings.write_setting(mill, banktransfer.BANK_DETAILS,
                                {"account_holder": "Concert Hall Ltd",
                                 "iban": "DE89 3704 0044 0532 0130 00"}, actor=staff)
    text = gateway.describe_instructions(order=order, mill=mill)
    assert "Concert Hall Ltd" in text and "DE89 3704 0044 0532 0130 00" in text
    assert order.number in text


def test_a_transaction_reads_the_settings_rows_once(mill, staff):
    """The first read in a transaction loads every row; later reads of a stored key find it
    without SQL, even after the rows left the (weak) identity map's other references."""
    import gc

    from ordermill.testing_bench import statements_of

    shop_settings.write_setting(mill, "plugin:example", {"rate": "20"}, actor=staff)
    with mill.write_session() as session, session.begin():
        seen = []

        def read_twice():
            seen.append(shop_settings.read_setting(mill, "plugin:example", session=session))
            gc.collect()
            seen.append(shop_settings.read_setting(mill, "plugin:example", session=session))
            seen.append(shop_settings.read_setting(mill, "absent", session=session))

        counts = statements_of(mill, read_twice, skip_savepoints=True)
    assert seen == [{"rate": "20"}, {"rate": "20"}, {}]
    assert counts["total"] == 1, counts


def test_a_transaction_reads_its_own_setting_changes(mill, staff):
    """A row changed or added in the transaction, not yet written, is what the next read in
    that transaction sees, before and after the transaction's first reading of the rows."""
    from ordermill.core.models import Setting

    shop_settings.write_setting(mill, "plugin:example", {"rate": "20"}, actor=staff)
    with mill.write_session() as session, session.begin():
        assert shop_settings.read_setting(mill, "plugin:example", session=session) == {
            "rate": "20"}
        session.get(Setting, "plugin:example").value = {"rate": "7"}
        assert shop_settings.read_setting(mill, "plugin:example", session=session) == {
            "rate": "7"}
    with mill.write_session() as session, session.begin():
        session.add(Setting(key="plugin:added", value={"on": True}))
        assert shop_settings.read_setting(mill, "plugin:added", session=session) == {
            "on": True}
        assert shop_settings.read_setting(mill, "plugin:example", session=session) == {
            "rate": "7"}
