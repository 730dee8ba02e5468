"""Errors the core raises; the API and admin turn each into a clear message and status code.

Every error carries a stable `code` (for scripts), a `message` a shop owner understands and
optional `details`. `http_status` is a hint for the web layer; the core itself knows no HTTP.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ordermill.core.i18n import gettext as _


class OrdermillError(Exception):
    """Base of every error the core raises on purpose."""

    code: ClassVar[str] = "error"
    http_status: ClassVar[int] = 400

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


class InvalidInput(OrdermillError):
    """The request itself is malformed: a bad amount, an unknown currency, a missing field."""

    code = "invalid_input"
    http_status = 422


class NotFound(OrdermillError):
    code = "not_found"
    http_status = 404


class OrderNotFound(NotFound):
    code = "order_not_found"


class UnknownLine(InvalidInput):
    """A line id in the request that is not one of the order's lines."""

    def __init__(self, number: str, line_id: int) -> None:
        super().__init__(_("Order %(number)s has no line %(line)s.", number=number,
                           line=line_id), details={"line_id": line_id})


class LineNotFound(UnknownLine):
    """The line a URL names is not the order's: a 404, like an unknown order."""

    code = "line_not_found"
    http_status = 404


class UnknownInvoice(InvalidInput):
    """An invoice id in the request that is not one of the order's invoices."""

    def __init__(self, number: str, invoice_id: int) -> None:
        super().__init__(_("Order %(number)s has no invoice %(invoice)s.", number=number,
                           invoice=invoice_id),
                         details={"invoice_id": invoice_id})


class UnknownProduct(InvalidInput):
    code = "unknown_product"


class OutOfStock(OrdermillError):
    code = "out_of_stock"
    http_status = 409


class IllegalTransition(OrdermillError):
    """The order's status does not allow this action (e.g. accepting a cancelled order)."""

    code = "illegal_transition"
    http_status = 409


class ActionNotAllowed(OrdermillError):
    """The action is known but the order's state forbids it (e.g. deleting a paid order)."""

    code = "action_not_allowed"
    http_status = 409


class LineAlreadyClosed(ActionNotAllowed):
    code = "line_already_closed"


class OverRefund(ActionNotAllowed):
    code = "over_refund"


class StaleOrder(OrdermillError):
    """Someone else changed the order since it was read: reload and try again."""

    code = "stale_version"
    http_status = 409


class PermissionDenied(OrdermillError):
    code = "permission_denied"
    http_status = 403


class PluginError(OrdermillError):
    """A plugin failed; the message always names the plugin so the shop knows whom to ask."""

    code = "plugin_error"
    http_status = 502

    def __init__(self, plugin: str, hook: str, error: BaseException | str) -> None:
        text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        super().__init__(
            _("Plugin %(plugin)s failed in %(hook)s: %(error)s", plugin=repr(plugin), hook=hook,
              error=text),
            details={"plugin": plugin, "hook": hook, "error": text},
        )
        self.plugin = plugin
        self.hook = hook
        self.original = error if isinstance(error, BaseException) else None


class PluginConflict(OrdermillError):
    """Two plugins registered the same name (status, gateway, job kind, ...)."""

    code = "plugin_conflict"
    http_status = 500

    @classmethod
    def between(cls, what: str, name: str, first: str, second: str,
                plugins: list[str], *, key: str | None = None) -> PluginConflict:
        """The one wording of a clash: 'Conflicting plugins found for <what> <name>: provided
        by <first> and <second>.' (first/second as shown to people, plugins as named)."""
        return cls(_("Conflicting plugins found for %(what)s %(name)s: provided by %(first)s "
                     "and %(second)s.", what=what, name=repr(name), first=first, second=second),
                   details={key or what: name, "plugins": plugins})


class PluginLoadError(OrdermillError):
    code = "plugin_load_error"
    http_status = 500


class ConfigurationError(OrdermillError):
    code = "configuration_error"
    http_status = 500
