"""The hook the subscriptions plugin defines for other plugins: `on_subscription_status_changed`.

Added with `add_hookspecs` (see the plugin's `__init__`), so it exists exactly when the
subscriptions plugin is loaded; implement it with `@hookimpl(optionalhook=True)` so that your
plugin still starts when subscriptions is blocked. The provisioning plugin implements it to
suspend a hosting service whose renewal is not paid and unsuspend it once it is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ordermill.api import after_commit, hookspec

if TYPE_CHECKING:
    from ordermill.api import ActionContext
    from ordermill.plugins.subscriptions.models import Subscription


@hookspec
@after_commit
def on_subscription_status_changed(subscription: Subscription, old: str, new: str,
                                   ctx: ActionContext) -> None:
    """A subscription's own status changed. After-commit hook of `subscriptions`.

    `old` and `new` are among active, processing, suspended, completed, failed;
    `subscription` is a detached copy (read `order_number`, `payments_made`, `remaining`,
    `next_due_at`, ...). Called after the change committed: an exception is logged and
    written on the order, never undoing the change. Suspended or Failed means the renewal is
    not being paid; Active or Completed after one of them means it is paid again.
    """


HOOK_NAMES = ("on_subscription_status_changed",)

__all__ = ["HOOK_NAMES", "on_subscription_status_changed"]
