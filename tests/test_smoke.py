from ordermill.core.statuses import line_summary, payment_status


def test_place_pay_refund(mill, make_product, order_factory, staff):
    make_product("TSHIRT", price=1250, stock=5)
    order = order_factory([("TSHIRT", 2)])
    assert order.status == "pending"
    assert order.total == 2500
    assert payment_status(order) == "unpaid"
    mill.orders.mark_paid(order.number, actor=staff)
    order = mill.orders.get(order.number)
    assert payment_status(order) == "paid"
    res = mill.orders.refund(order.number, actor=staff, line_ids=[order.lines[0].id])
    order = mill.orders.get(order.number)
    assert payment_status(order) == "refunded"
    assert line_summary(order) == "Refunded"
    assert res.preview["stock_released"] == {"TSHIRT": 2}
