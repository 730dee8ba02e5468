"""The words for history event types that plugins write (`register_event_types`).

An order's history shows each event's type ("subscription_started") as a word. The core's own
types are labelled where they are shown (the admin's TERMS); a plugin that writes events of its
own names them here with `EventTypeSpec(name, label, catalog_domain)`: the label is the English
msgid of the plugin's catalog, so each reader sees it in their own language. The app gathers
the specs once (`Ordermill.event_types`, rebuilt by refresh()); two plugins labelling one name
fail start-up naming both.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import attrs

from ordermill.core.i18n import DOMAINS, MESSAGES_DOMAIN, core_domain

if TYPE_CHECKING:
    from ordermill.core.app import Ordermill

_NAME = re.compile(r"^[a-z][a-z0-9_.]{0,39}$")  # order_event.type is String(40)


def _event_name(_instance: Any, _attribute: attrs.Attribute[Any], value: str) -> None:
    if not isinstance(value, str) or not _NAME.match(value):
        raise ValueError(f"event type {value!r} must be lower case letters, digits, '_' or "
                         f"'.', at most 40 characters, starting with a letter")


def _label(_instance: Any, _attribute: attrs.Attribute[Any], value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("an event type needs a label (the English words it is shown as)")


@attrs.frozen
class EventTypeSpec:
    """A history event type a plugin writes, returned by `register_event_types`.

    `label` is the English word shown for it ("Subscription started") and the msgid looked up
    in `catalog_domain`, the plugin's own catalog ("ordermill_subscriptions"); the core's
    catalog ("messages") when the plugin has none.
    """

    name: str = attrs.field(validator=_event_name)
    label: str = attrs.field(validator=_label)
    catalog_domain: str = MESSAGES_DOMAIN

    def shown(self) -> str:
        """The label in the reader's language (English when the catalog lacks it)."""
        domain = DOMAINS.get(self.catalog_domain) or core_domain
        return domain.gettext(self.label)


def spec_name(spec: EventTypeSpec) -> str:
    """An EventTypeSpec's name; anything else is refused (collect_owned_specs names it)."""
    if not isinstance(spec, EventTypeSpec):
        raise TypeError(f"{spec!r} is not an EventTypeSpec")
    return spec.name


def collect(mill: Ordermill) -> dict[str, EventTypeSpec]:
    """{name: spec} of every plugin's `register_event_types`, a duplicate a PluginConflict."""
    return mill.plugins.collect_specs("register_event_types", spec_name, "event type")


def event_type_label(mill: Ordermill | None, name: str | None) -> str | None:
    """A plugin's label for event type `name` in the reader's language; None when no loaded
    plugin registers `name` (the caller shows its own word for it)."""
    if not name or mill is None:
        return None
    spec = mill.event_types.get(name)
    return spec.shown() if spec is not None else None


__all__ = ["EventTypeSpec", "collect", "event_type_label", "spec_name"]
