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

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

import attrs
import pluggy

if TYPE_CHECKING:
    import click
    from flask import Blueprint
    from sqlalchemy.orm import Session

    from ordermill.core.admin_specs import (
        FilterSpec,
        OrderButton,
        OrderPanel,
        RequestField,
        SettingsPage,
    )
    from ordermill.core.context import ActionContext
    from ordermill.core.models import Order, OrderEvent, OrderLine, Payment
    from ordermill.core.plugins import HookspecAdder
    from ordermill.core.secret_rotation import RotationReport
    from ordermill.core.settings import Settings
    from ordermill.core.specs import (
        Actor,
        AdminLink,
        FraudResult,
        JobHandlerSpec,
        JobRequest,
        MessageAttachment,
        PaymentGatewaySpec,
        PermissionSpec,
    )
    from ordermill.core.statuses import StatusSpec

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


# ---- register hooks: run once at start-up ------------------------------------------------


@hookspec
@register_hook
def register_statuses(settings: Settings) -> Iterable[StatusSpec]:
    """Add custom order statuses. Register hook, runs once at start-up.

    Return StatusSpec objects (name, label, category, colour, transitions, reachable_from).
    The category (pending, active, completed, cancelled, fraud, refunded) tells the core how to
    treat an order in that status. Two plugins returning the same name fail start-up with an
    error naming both. Custom statuses from settings are registered the same way.
    """


@hookspec
@register_hook
def register_payment_gateways(settings: Settings) -> Iterable[PaymentGatewaySpec]:
    """Add payment gateways. Register hook, runs once at start-up.

    Return PaymentGatewaySpec objects. An order's `payment_method` must name one of them
    (when any gateway is registered). A duplicate name fails start-up naming both plugins.
    """


@hookspec
@register_hook
def register_job_handlers(settings: Settings) -> Iterable[JobHandlerSpec]:
    """Add outbox job handlers. Register hook, runs once at start-up.

    Return JobHandlerSpec(kind, handler, max_attempts). The worker calls
    `handler(job=OutboxJobView, mill=Ordermill)` for each job of that kind, outside any order
    transaction; an exception retries the job with exponential backoff and, after
    `max_attempts`, leaves it dead-lettered for an admin to retry.
    """


@hookspec
@register_hook
def register_migration_locations(settings: Settings) -> Iterable[str]:
    """Add the directories of your plugin's own Alembic branch. Register hook, runs at upgrade.

    A plugin that owns tables keeps its revisions in its own directory, as a separate branch:
    the first revision has `down_revision = None`, `branch_labels = ("<your plugin>",)` and,
    when its tables refer to core tables, `depends_on` naming the core revision that created
    them. Return the directory paths (str); they are added to Alembic's `version_locations`,
    and `ordermill init` (upgrade_database) upgrades every branch to its head, so the core's
    history never forks. Use plain `sqlalchemy` types in revisions, never your models, so an
    old revision keeps its meaning. A path that is not a directory fails the upgrade with an
    error naming your plugin. Tell users to downgrade your branch (`<label>@base`) before
    uninstalling: the database remembers its revision, and Alembic stops on one it cannot find.
    """


@hookspec
@register_hook
def add_hookspecs(pm: HookspecAdder) -> None:
    """Add your plugin's own hookspecs. Register hook, runs once at start-up.

    Call `pm.add_hookspecs(module_or_class)` with functions marked `@hookspec` and one kind
    tag (`@register_hook`, `@in_transaction` or `@after_commit`); the tag says how
    `mill.plugins.call(name, ...)` runs them, as for the core's hooks. Every plugin is
    registered before any of these run, and every plugin is checked after, so load order
    never matters. Another plugin implements your hook with `@hookimpl(optionalhook=True)`:
    it is never called when your plugin is blocked or absent. A hook name the core or another
    plugin already defines fails start-up with a PluginConflict naming both.
    """


@hookspec
@register_hook
def register_permissions() -> Iterable[PermissionSpec]:
    """Add permissions for your plugin's routes, commands and admin links. Register hook.

    Return PermissionSpec(name, label, roles): `roles` are the core roles that hold it
    besides `admin`, which holds every permission. `require(actor, name)`, the API's
    `/auth/me`, the admin's staff page and AdminLink.permission then know it. Reusing a core
    permission's name, or one another plugin registers, fails start-up naming both.
    """


@hookspec
@register_hook
def register_commands(cli: click.Group) -> None:
    """Add click commands or groups to the `ordermill` command line. Register hook.

    Called once per process when the CLI first needs a command it does not have (or lists
    them for --help), with the plugins chosen by ORDERMILL_LOAD_PLUGINS and
    ORDERMILL_BLOCK_PLUGINS and no database opened. Use `cli.add_command(...)` or
    `@cli.command()`. A name the core or another plugin uses is skipped with an error log;
    an exception is logged and skips your commands, so `ordermill --help` still works.
    """


@hookspec
@register_hook
def register_blueprints() -> Iterable[Blueprint]:
    """Add Flask blueprints (routes) to the web app. Register hook, runs when the app is made.

    An apiflask APIBlueprint must live under /api/ (its url_prefix): its operations and
    schemas join /api/v1/openapi.json and the API's guards apply (JSON-only bodies, a caller
    required for writes unless the view is marked `access("public")`). Views check their
    own permissions with `require(actor, name)`. A blueprint name or a URL rule the app
    already has fails start-up with a PluginConflict naming both owners.
    """


@hookspec
@register_hook
def admin_menu_links(actor: Actor) -> Iterable[AdminLink] | None:
    """Add links to the admin's top navigation. Register hook, called for each admin page.

    Return AdminLink(label, href, permission) objects; a link is shown only to staff whose
    role holds `permission` (None: every staff member). `href` must be a path on this site
    ("/admin/..."), never another site. It is also called once when the app is made, with a
    system actor, so a bad link or an unknown permission fails start-up naming your plugin.
    """


@hookspec
@register_hook
def admin_order_panels(order: Order, actor: Actor) -> Iterable[OrderPanel] | None:
    """Add cards to the admin's order page. Register hook, called for each page view.

    Return OrderPanel(title, template, context=..., package=...) objects, or None. The
    template is rendered from the `templates/` folder of `package` with autoescaping on, and
    gets `order`, `actor`, `csrf_token`, `url_for` and your `context`. An exception, or a
    template that fails, stops the page with an error naming your plugin.
    """


@hookspec
@register_hook
def admin_order_actions(order: Order, actor: Actor) -> Iterable[OrderButton] | None:
    """Add buttons to the admin's order page. Register hook, called for each page view.

    Return OrderButton(label, endpoint, method="post", permission=None, confirm=None)
    objects for the buttons that apply to this order, or None. A button is shown only to
    actors holding its `permission`; `endpoint` is a same-site path or a Flask endpoint name
    (built with the order's `number`). Your route must check the permission itself: hiding a
    button is no protection. An exception stops the page with an error naming your plugin.
    """


@hookspec
@register_hook
def admin_settings_pages() -> Iterable[SettingsPage] | None:
    """Add tabs to the admin's settings. Register hook, called when the settings are shown.

    Return SettingsPage(name, label, fields, ...) objects with SettingField(name, label,
    kind, required, help, choices, validate) fields. The admin draws the form, validates it
    (`validate` may raise InvalidInput), checks the page's permission and stores the values in
    one transaction; read them with `ordermill.core.shop_settings.plugin_settings(mill, name)`.
    Two pages with one name fail with an error naming both plugins.
    """


@hookspec
@register_hook
def order_request_fields() -> Iterable[RequestField] | None:
    """Accept extra fields when an order is placed. Register hook, called per placing.

    Return RequestField(name, field) objects, `field` a marshmallow field. The API's
    POST /orders and the admin's Add New Order accept them (any other unknown field stays a
    422), and the OpenAPI document shows them. Values are stored in
    `order.plugin_data[<your plugin>][name]`, set before `validate_order` runs. A name the
    request already has, or another plugin's, fails with an error naming the plugins.
    """


@hookspec
@register_hook
def order_list_filters() -> Iterable[FilterSpec] | None:
    """Add filters to the order lists. Register hook, called per list or export.

    Return FilterSpec(name, label, apply, choices=()) objects. The API's GET /orders and
    /orders/export.csv take `?<name>=<value>`, the admin's order list and its CSV export show
    the filter; `apply(query, value)` returns the SQLAlchemy select narrowed to matching
    orders. A value outside `choices`, or an InvalidInput from `apply`, is a 422 (a message
    in the admin), never a server error.
    """



# ---- in-transaction hooks ----------------------------------------------------------------


@hookspec
@in_transaction
def validate_order(order: Order, ctx: ActionContext) -> None:
    """Refuse an order before it is placed. In-transaction hook (ShoppingCartValidateCheckout).

    Runs during `place` after lines, prices and stock are settled, before the order is saved.
    Raise `ordermill.core.errors.InvalidInput` with a message for the buyer to refuse; any
    other exception also aborts placement and the error names your plugin. Return value is
    ignored.
    """


@hookspec
@in_transaction(errors="collect")
def fraud_check(order: Order, ctx: ActionContext) -> FraudResult | None:
    """Score a new order for fraud. In-transaction hook (RunFraudCheck).

    Runs during `place` (and when an admin re-runs the check). Return a FraudResult with a
    score from 0 to 100, or None to abstain. With several providers the highest score decides;
    each result is stored. A score over the configured threshold sends the order straight to
    `fraud`, skipping `pending`. Unlike other in-transaction hooks an exception does NOT abort
    placement (an order is never lost to a fraud provider outage): it is stored as a failed
    check naming your plugin, the order stays pending, and an admin can re-run the check.
    """


@hookspec(firstresult=True)
@in_transaction
def restock(line: OrderLine, quantity: int, ctx: ActionContext) -> bool | None:
    """Return units of a line to stock. In-transaction hook. Stops at first non-None result.

    Called by cancel, refund and delete when the admin asked for a restock, with the number of
    units the line still holds. The core counts what each line has released, so this is called
    at most once per unit: never twice, whatever the order of actions. Return True when you
    returned the units (the built-in `restock` plugin, registered last, adds them back to the
    product's stock); return None to let the next plugin decide; return False to keep the
    units out of stock on purpose (they stay held and a later restock may release them). An
    exception aborts the action.
    """


@hookspec
@in_transaction
def jobs_for_event(
    order: Order, event: OrderEvent, ctx: ActionContext
) -> Iterable[JobRequest] | None:
    """Queue outside work for an action. In-transaction hook.

    Runs once per action, after its history event is written and in the same transaction, so
    the jobs you return (JobRequest(kind, payload, dedupe_key)) are stored if and only if the
    action commits. A worker runs them later with retries. `event.type` says what happened
    (placed, accepted, cancelled, refunded, payment, comment, ...). In a dry run it is called
    too (`ctx.dry_run` is true): the jobs show in the preview and are never stored, since a
    dry run rolls back. An exception aborts the action.
    """


@hookspec(firstresult=True)
@in_transaction
def generate_order_number(ctx: ActionContext) -> str | None:
    """Choose the public order number. In-transaction hook (OverrideOrderNumberGeneration).

    Stops at first non-None result. Return exactly 10 digits, or None for the default: 10
    random digits that do not leak the shop's size. The core retries on a collision.
    """


@hookspec
@in_transaction
def rotate_stored_secrets(session: Session, keys: Sequence[str], old_keys: Sequence[str],
                          dry_run: bool) -> RotationReport | None:
    """Re-encrypt what your plugin stored encrypted under keys[0]. In-transaction hook.

    Called by `ordermill secrets rotate` (dry_run=False, in one write transaction with every
    other plugin's) and by the start-up check of `serve` and `worker` (dry_run=True: only
    count). `keys` is the current key then the fallbacks; `old_keys` are extra keys to try
    for decrypting only. Return a RotationReport (ordermill.core.secret_rotation) that names
    values no key opens, never a secret; None when you store nothing encrypted.
    """


# ---- after-commit hooks ------------------------------------------------------------------


@hookspec
@after_commit
def on_order_placed(order: Order, ctx: ActionContext) -> None:
    """An order was placed (AfterShoppingCartCheckout). After-commit hook.

    `order.status` is `pending`, or `fraud` when a fraud check scored over the threshold.
    Exceptions are recorded as a `hook_failed` event and never undo the placement.
    """


@hookspec
@after_commit
def on_fraud_checked(order: Order, results: Sequence[FraudResult], ctx: ActionContext) -> None:
    """Fraud checks ran for an order (AfterFraudCheck). After-commit hook.

    `results` holds every provider's verdict. Exceptions are recorded, never undo anything.
    """


@hookspec
@after_commit
def on_payment(order: Order, payment: Payment, ctx: ActionContext) -> None:
    """A payment was recorded (OrderPaid when the order is now paid). After-commit hook.

    `payment` is the new charge; check `ordermill.core.statuses.payment_status(order)` to see
    whether the order is now fully paid (e.g. to issue tickets or auto-activate services).
    """


@hookspec
@after_commit
def on_accept(order: Order, options: Mapping[str, Any], ctx: ActionContext) -> None:
    """An admin accepted a pending order (AcceptOrder). After-commit hook.

    `options` carries the accept form: server, username, password, registrar, send_registrar,
    autosetup, send_email (WHMCS). Provisioning plugins react here (or queue jobs through
    `jobs_for_event` for retries: there the options are in `ctx.notes["accept_options"]`,
    password unmasked). Exceptions are recorded, never undo the acceptance.
    """


@hookspec
@after_commit
def on_cancel(order: Order, lines: Sequence[OrderLine], ctx: ActionContext) -> None:
    """Lines, or the whole order, were cancelled (CancelOrder). After-commit hook.

    `lines` are the lines this action cancelled. Provisioning plugins terminate services here.
    """


@hookspec
@after_commit
def on_refund(
    order: Order, refunds: Sequence[Payment], lines: Sequence[OrderLine], ctx: ActionContext
) -> None:
    """Money was refunded (CancelAndRefundOrder for a whole refund). After-commit hook.

    `refunds` are the new refund payments (one per charge refunded from; `manual=True` means the
    money must be returned by hand); `lines` the lines refunded by this action, maybe none.
    """


@hookspec
@after_commit
def on_fraud(order: Order, ctx: ActionContext) -> None:
    """The order was set to fraud, by an admin or a fraud check (FraudOrder). After-commit hook."""


@hookspec
@after_commit
def on_pending(order: Order, ctx: ActionContext) -> None:
    """The order was set back to pending (PendingOrder). After-commit hook."""


@hookspec
@after_commit
def on_status_changed(
    order: Order, old_status: str, new_status: str, ctx: ActionContext
) -> None:
    """The order's status changed, by any action including bulk changes. After-commit hook.

    Fires in addition to the specific hook (on_accept, on_cancel, ...). Bulk status changes
    fire only this one: as in WHMCS, they run no module commands.
    """


@hookspec
@after_commit
def on_delete(order_number: str, snapshot: Mapping[str, Any], ctx: ActionContext) -> None:
    """An order was deleted for good (DeleteOrder). After-commit hook.

    The order no longer exists; `snapshot` is its last state as a dict (as in the deletion
    event, which stays in the history).
    """


@hookspec
@after_commit
def on_order_edited(order: Order, changes: Mapping[str, Any], ctx: ActionContext) -> None:
    """Products were added, buyer details edited, or dispatch/delivery recorded.

    After-commit hook. `changes` says what: {"added_lines": [...]}, {"buyer": {field: [old,
    new]}}, {"dispatched_at": ...} or {"delivered_at": ...}.
    """


@hookspec
@after_commit
def on_comment_added(order: Order, event: OrderEvent, ctx: ActionContext) -> None:
    """An admin wrote a progress comment. After-commit hook.

    `event.notify_customer` says whether the admin asked to notify the customer;
    `event.visible_to_customer` whether the customer may read it on their order page.
    """


@hookspec
@after_commit(errors="raise")
def message_attachments(
    order: Order, message: str, ctx: ActionContext
) -> Iterable[MessageAttachment] | None:
    """Add files to a customer message. After-commit hook, run by the outbox worker.

    Called when a notification plugin builds a message for an order; `message` names it
    (order_confirmation, payment_received, ...). Return MessageAttachment objects (e.g. the
    order's e-tickets once it is paid) or None. It runs after the action committed, inside the
    message's outbox job: an exception fails that job, which is retried with backoff, so the
    message is never sent without its attachment.
    """


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

