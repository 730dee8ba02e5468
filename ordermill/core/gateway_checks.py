"""Gateway callables are checked when the gateways are collected, as hook implementations are
when a plugin registers: a `refund` that cannot take `ctx` used to fail only at the first
refund, in front of a customer; now start-up and `ordermill plugins` name the plugin and the
signature the core calls."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping

from ordermill.core.errors import PluginLoadError
from ordermill.core.specs import PaymentGatewaySpec

# How the core calls each callable of a PaymentGatewaySpec: keyword arguments only.
GATEWAY_CALLS: Mapping[str, tuple[tuple[str, ...], str]] = {
    "refund": (("charge", "amount", "idempotency_key", "ctx"), "GatewayRefund"),
    "describe_instructions": (("order",), "str"),
    "start_payment": (("order", "invoice", "amount", "currency", "idempotency_key"), "dict"),
    "capture_payment": (("order", "data"), "GatewayEventData"),
    "parse_webhook": (("body", "headers"), "GatewayEventData"),
}


def expected_signature(field: str) -> str:
    """'refund(*, charge, amount, idempotency_key, ctx) -> GatewayRefund'."""
    names, returns = GATEWAY_CALLS[field]
    return f"{field}(*, {', '.join(names)}) -> {returns}"


def signature_problem(function: Callable[..., object], names: tuple[str, ...]) -> str | None:
    """Why `function(**{name: ...})` would fail, or None when it would bind."""
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return None  # a builtin without a readable signature: trust it
    try:
        signature.bind(**dict.fromkeys(names))
    except TypeError as error:
        bare = signature.replace(
            parameters=[parameter.replace(annotation=inspect.Parameter.empty)
                        for parameter in signature.parameters.values()],
            return_annotation=inspect.Signature.empty)
        return f"it takes {bare} ({error})"
    return None


def check_gateway_spec(spec: PaymentGatewaySpec, plugin: str) -> None:
    """PluginLoadError naming `plugin` when a callable of `spec` cannot be called as the
    core calls it (a wrong name, a missing argument, a configuration left unbound)."""
    for field, (names, _returns) in GATEWAY_CALLS.items():
        function = getattr(spec, field)
        if function is None:
            continue
        if not callable(function):
            problem: str | None = f"{function!r} is not callable"
        else:
            problem = signature_problem(function, names)
        if problem:
            raise PluginLoadError(
                f"Plugin {plugin!r} gives payment gateway {spec.name!r} a {field} callable "
                f"the core cannot call: expected {expected_signature(field)}, but {problem}.",
                details={"plugin": plugin, "gateway": spec.name, "callable": field,
                         "expected": expected_signature(field)})


__all__ = ["GATEWAY_CALLS", "check_gateway_spec", "expected_signature"]
