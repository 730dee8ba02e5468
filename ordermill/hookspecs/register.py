"""Register hooks: run outside any order transaction and return small spec objects."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import click
    from flask import Blueprint

    from ordermill.core.admin_specs import (
        FilterSpec,
        OrderButton,
        OrderPanel,
        RequestField,
        SettingsPage,
    )
    from ordermill.core.event_types import EventTypeSpec
    from ordermill.core.models import Order
    from ordermill.core.plugins import HookspecAdder
    from ordermill.core.settings import Settings
    from ordermill.core.specs import (
        Actor,
        AdminLink,
        JobHandlerSpec,
        PaymentGatewaySpec,
        PermissionSpec,
    )
    from ordermill.core.statuses import StatusSpec

from ordermill.hookspecs.tags import hookspec, register_hook

__all__ = [
    "add_hookspecs",
    "admin_menu_links",
    "admin_order_actions",
    "admin_order_panels",
    "admin_settings_pages",
    "order_list_filters",
    "order_request_fields",
    "register_blueprints",
    "register_commands",
    "register_event_types",
    "register_job_handlers",
    "register_migration_locations",
    "register_payment_gateways",
    "register_permissions",
    "register_statuses",
]

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
def register_event_types() -> Iterable[EventTypeSpec]:
    """Name the history event types your plugin writes. Register hook, runs once at start-up.

    Return EventTypeSpec(name, label, catalog_domain) objects: `name` is the `type` you pass
    to `ctx.record_event`, `label` the English words the admin shows for it (the order and
    customer pages' history), looked up in `catalog_domain` (your plugin's catalog,
    "ordermill_<plugin>") so each reader sees it in their language. A type nobody labels is
    shown as its name made readable; a name the core already has a word for keeps the core's.
    Two plugins labelling one name fail start-up with a PluginConflict naming both.
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
