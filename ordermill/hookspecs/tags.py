"""The markers and kind tags every hookspec carries (see ordermill.hookspecs)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

import attrs
import pluggy

if TYPE_CHECKING:

    pass

__all__ = [
    "DISPATCH_ATTR",
    "HOOKSPEC_VERSION",
    "KINDS",
    "Dispatch",
    "ErrorPolicy",
    "HookKind",
    "after_commit",
    "declared_specs",
    "dispatch_of",
    "hookimpl",
    "hookspec",
    "in_transaction",
    "register_hook",
]

HOOKSPEC_VERSION = 1

hookspec = pluggy.HookspecMarker("ordermill")
hookimpl = pluggy.HookimplMarker("ordermill")

HookKind = Literal["register", "in-transaction", "after-commit"]
ErrorPolicy = Literal["raise", "collect"]
KINDS: tuple[str, ...] = ("register", "in-transaction", "after-commit")
DISPATCH_ATTR = "ordermill_dispatch"
F = TypeVar("F", bound=Callable[..., Any])


@attrs.frozen
class Dispatch:
    """How `PluginHost.call` runs a hook: its kind and what an exception does."""

    kind: str = attrs.field(validator=attrs.validators.in_(KINDS))
    errors: str = attrs.field(validator=attrs.validators.in_(("raise", "collect")))


class _KindTag:
    """A kind tag: `@in_transaction` bare, or `@in_transaction(errors="collect")`."""

    def __init__(self, kind: HookKind, default_errors: ErrorPolicy) -> None:
        self.kind = kind
        self.default_errors = default_errors

    @overload
    def __call__(self, function: F) -> F: ...

    @overload
    def __call__(self, *, errors: ErrorPolicy | None = None) -> Callable[[F], F]: ...

    def __call__(self, function: Any = None, *, errors: ErrorPolicy | None = None) -> Any:
        dispatch = Dispatch(self.kind, errors or self.default_errors)

        def tag(spec: F) -> F:
            setattr(spec, DISPATCH_ATTR, dispatch)
            return spec

        return tag(function) if function is not None else tag

    def __repr__(self) -> str:
        return f"<{self.kind} hook tag>"


register_hook = _KindTag("register", "raise")
in_transaction = _KindTag("in-transaction", "raise")
after_commit = _KindTag("after-commit", "collect")


def dispatch_of(spec: Callable[..., Any]) -> Dispatch | None:
    """The Dispatch a kind tag put on a hookspec function, or None when it has none."""
    found = getattr(spec, DISPATCH_ATTR, None)
    return found if isinstance(found, Dispatch) else None


def declared_specs(namespace: Mapping[str, Any]) -> Iterator[tuple[str, Callable[..., Any]]]:
    """(name, function) of every `ordermill` hookspec in a module's or class's namespace."""
    for name, value in namespace.items():
        if callable(value) and hasattr(value, "ordermill_spec"):
            yield name, value
