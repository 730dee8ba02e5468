"""The hook the reports plugin defines: `confirmed_sales_condition`.

Added with `add_hookspecs`, so it exists exactly when `reports` is loaded. The "by sales
manager" report counts confirmed sales only; which sales are confirmed is another plugin's
business (the built-in `sales_managers`), which answers through this hook. Without an answer
the report is not offered. docs/hooks.md, "Hooks defined by plugins", is the manual.
"""

from __future__ import annotations

from typing import Any

from ordermill.hookspecs import hookspec, register_hook


@hookspec(firstresult=True)
@register_hook
def confirmed_sales_condition(order_id: Any) -> Any:
    """Say which orders are confirmed sales. Register hook of `reports`, called per report.

    `order_id` is a SQL column expression (the order's id in the report's query); return a
    SQLAlchemy boolean expression true for orders whose sale is confirmed, e.g.
    `exists().where(MyConfirmation.order_id == order_id)`. Stops at the first non-None
    result. Implement it with `@hookimpl(optionalhook=True)`; while no plugin answers, the
    "by sales manager" report is not offered (API 404, no admin tab, no command).
    """


HOOK_NAMES = ("confirmed_sales_condition",)

__all__ = ["HOOK_NAMES", "confirmed_sales_condition"]
