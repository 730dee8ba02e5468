"""Every hook a plugin can implement. These docstrings are the plugin author's manual.

Arguments are keyword-only and a hook implementation may accept any subset of them. Every hook
but the register hooks gets `ctx`, an ActionContext (settings, the acting user, the app, the
database session for in-transaction hooks, `dry_run`). There are three kinds of hook, and each
docstring says which:

* register hooks run outside any order transaction and return small spec objects (most run
  once when the app starts; `admin_menu_links` whenever the admin draws a page): an exception
  is a PluginError naming the plugin;
* in-transaction hooks run inside the action's database transaction: an exception aborts the
  action, rolls everything back, and the error names the plugin;
* after-commit hooks (`on_*`) see the committed order: an exception is caught, logged and
  recorded as a `hook_failed` event on the order, and never undoes the action. Work with an
  outside effect belongs in the outbox (`jobs_for_event`), not in an after-commit hook, so a
  crash or outage delays it instead of losing it.

Dispatch is declared once, here, on the spec, and read by `PluginHost.call(name, **kwargs)`:
call sites never choose a policy. Each spec carries pluggy's `@hookspec` (with
`firstresult=True` for hooks that stop at the first non-None answer) and one kind tag:
`@register_hook`, `@in_transaction` or `@after_commit`. The tag's `errors=` says what an
exception does when it differs from the kind's default: "raise" (the first exception stops the
call, as a PluginError naming the plugin; the default of register and in-transaction hooks) or
"collect" (each failure becomes a HookFailure in the outcome and the other plugins still run;
the default of after-commit hooks). Two hooks differ from their kind: `fraud_check` collects
(an order is never lost to a provider's outage) and `message_attachments` raises (its outbox
job fails and retries). HOOK_KINDS is derived from the tags. Hookspecs that a plugin adds with
`add_hookspecs` use the same tags, and a spec without one is refused.

HOOKSPEC_VERSION is raised when a hook changes; a renamed hook keeps its old name working for
one release with a deprecation warning.
"""

from __future__ import annotations

# The specs live in one module per kind; a new hook goes into the module of its kind (or a new
# module imported here) and is re-exported, so `ordermill.hookspecs.<name>` stays its address.
from ordermill.hookspecs.after_commit import *  # noqa: F403
from ordermill.hookspecs.customers import *  # noqa: F403
from ordermill.hookspecs.documents import *  # noqa: F403
from ordermill.hookspecs.pricing import *  # noqa: F403
from ordermill.hookspecs.register import *  # noqa: F403
from ordermill.hookspecs.tags import *  # noqa: F403
from ordermill.hookspecs.tags import declared_specs, dispatch_of
from ordermill.hookspecs.transaction import *  # noqa: F403


def _hook_kinds() -> dict[str, str]:
    """{hook name: kind} read from the kind tags; a spec without a tag is a bug here."""
    kinds = {}
    for name, spec in declared_specs(globals()):
        dispatch = dispatch_of(spec)
        if dispatch is None:
            raise TypeError(f"hookspec {name!r} has no kind tag (@register_hook, "
                            f"@in_transaction or @after_commit)")
        kinds[name] = dispatch.kind
    return kinds


HOOK_KINDS: dict[str, str] = _hook_kinds()
