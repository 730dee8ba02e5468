"""ordermill.api is the whole plugin surface: a re-export module whose __all__ names what
plugins use, and every name the built-in plugins import from it is in that __all__."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import ordermill.api as api
from ordermill.core.orders import OrderService

PLUGINS = Path(__file__).resolve().parents[2] / "ordermill" / "plugins"

# what issue 12 says a plugin may reach through the API
REQUIRED = {
    "hookimpl", "hookspec", "Order", "OrderLine", "Invoice", "Payment", "OrderEvent", "Product",
    "Customer", "Base", "Money", "money_text", "Actor", "ActionContext", "Settings",
    "Ordermill", "enqueue", "StatusSpec", "PaymentGatewaySpec", "JobHandlerSpec", "JobRequest",
    "FraudResult", "MessageAttachment", "GatewayRefund", "payment_status", "amount_due",
    "require", "utcnow", "RotationReport", "OrdermillError", "InvalidInput", "NotFound",
    "OrderNotFound", "ActionNotAllowed", "PermissionDenied", "StaleOrder", "ConfigurationError",
    "PluginError",
}


def test_all_is_unique_and_every_name_exists() -> None:
    assert len(set(api.__all__)) == len(api.__all__)
    missing = [name for name in api.__all__ if not hasattr(api, name)]
    assert not missing, f"ordermill.api.__all__ names what it lacks: {missing}"
    assert set(api.__all__) >= REQUIRED, sorted(REQUIRED - set(api.__all__))


def test_it_only_re_exports() -> None:
    """No logic lives in ordermill.api: each function and class comes from the core."""
    defined_here = [name for name in api.__all__
                    if (inspect.isfunction(getattr(api, name)) or inspect.isclass(
                        getattr(api, name))) and getattr(api, name).__module__ == api.__name__]
    assert defined_here == []


def test_the_action_runner_is_reachable_through_it() -> None:
    assert callable(api.ActionContext.record_event)
    assert callable(api.ActionContext.enqueue)
    assert callable(OrderService.editing)  # mill.orders.editing(number, actor=, action=, ...)
    params = inspect.signature(api.ActionContext.record_event).parameters
    assert {"order", "type", "message", "data", "actor", "touch"} <= set(params)


def test_every_name_the_built_in_plugins_import_is_public() -> None:
    used: dict[str, set[str]] = {}
    for path in PLUGINS.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "ordermill.api":
                for alias in node.names:
                    used.setdefault(alias.name, set()).add(str(path.relative_to(PLUGINS)))
    assert {"hookimpl", "Order", "ActionContext"} <= set(used)  # the walk found the plugins
    private = {name: sorted(files) for name, files in used.items() if name not in api.__all__}
    assert not private, f"plugins import names ordermill.api does not publish: {private}"


DOCS = [PLUGINS.parents[1] / name for name in ("README.md", "docs/hooks.md",
                                               "docs/payment_gateways.md")]


# A plugin that defines hooks publishes the spec objects their implementations return; the
# examples of "Hooks defined by plugins" (docs/hooks.md) import them from there.
PLUGIN_INTERFACES = ("ordermill.plugins.provisioning.specs",)


def test_documented_plugins_import_only_the_api() -> None:
    """The plugin examples of the README and the guides teach ordermill.api (and hookspecs,
    and a defining plugin's published specs), never a private module: a new example that
    reaches into the core fails here."""
    private = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for block in text.split("```python")[1:]:
            code = block.split("```", 1)[0]
            for node in ast.walk(ast.parse(code)):
                modules = [node.module] if isinstance(node, ast.ImportFrom) else [
                    alias.name for alias in node.names] if isinstance(node, ast.Import) else []
                private += [f"{doc.name}: {module}" for module in modules if module and (
                    module == "ordermill" or module.startswith("ordermill."))
                    and module not in ("ordermill.api", "ordermill.hookspecs",
                                       *PLUGIN_INTERFACES)]
    assert not private, f"examples import private modules: {private}"
