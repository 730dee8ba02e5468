"""The hook the notify_email plugin defines for other plugins: `register_email_messages`.

Added with `add_hookspecs`, so it exists exactly when notify_email is loaded; implement it
with `@hookimpl(optionalhook=True)`. docs/hooks.md, "Hooks defined by plugins", is the manual.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from ordermill.api import hookspec, register_hook

if TYPE_CHECKING:
    from ordermill.api import Settings


@hookspec
@register_hook
def register_email_messages(settings: Settings) -> Iterable[Mapping[str, str]] | None:
    """Add customer e-mails for your plugin's order events. Register hook of `notify_email`.

    Return mappings {"event": the event type your plugin records with
    `notify_customer=True`, "template": the message name, "directory": a folder holding
    `<language>/<template>.txt` (its first line sets `subject`) and optionally `.html`,
    optionally "domain" and "translations": your catalog domain and its folder, so that the
    templates' `_()` speak the buyer's language (one `en/` set is then enough)}. The
    templates extend `builtin/<language>/_base.txt` like the built-in messages and get the
    same context (`order`, `event_data`, ...); a shop's `template_dir` overrides them. An
    event type another plugin (or notify_email itself) already maps is a PluginConflict.
    """


HOOK_NAMES = ("register_email_messages",)

__all__ = ["HOOK_NAMES", "register_email_messages"]
