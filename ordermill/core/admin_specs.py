"""What plugins add to the order pages, the settings, placing and the order lists.

The spec objects the hooks `admin_order_panels`, `admin_order_actions`,
`admin_settings_pages`, `order_request_fields` and `order_list_filters` return, and the
functions that collect them from every plugin (checking types and names, so a mistake fails
with the plugin's name instead of somewhere in a template). Nothing is cached: a plugin
registered or blocked takes effect at the next page or request.

The core imports no Flask: panels name a template that the admin renders (web/admin), and
buttons name a path or a Flask endpoint that the admin resolves.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from ordermill.core.errors import InvalidInput, PluginConflict, PluginError
from ordermill.core.models import Order
from ordermill.core.specs import Actor

if TYPE_CHECKING:
    from marshmallow.fields import Field
    from sqlalchemy import Select

    from ordermill.core.app import Ordermill
    from ordermill.core.settings import Settings

T = TypeVar("T")
# Query parameters the order lists of the API and the admin take themselves: no filter may
# take one of these names, so a filter means the same in both.
LIST_PARAMETERS = frozenset({
    "q", "status", "payment_status", "payment_method", "promo_code", "promo", "sku",
    "product", "category", "placed_from", "placed_to", "from", "to", "needs_attention",
    "attention", "number", "sort", "page", "per_page", "tab", "dry_run"})
NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
FIELD_KINDS = ("text", "textarea", "number", "checkbox", "select")
METHODS = ("get", "post")


def _name(_instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not NAME.match(value):
        raise ValueError(f"{attribute.name} {value!r} must be lower-case letters, digits and "
                         f"underscores, starting with a letter (at most 40).")


def _choices(value: Any) -> tuple[tuple[str, str], ...]:
    """("a", "b") or (("a", "Label A"), ...) -> ((value, label), ...)."""
    return tuple((str(item[0]), str(item[1])) if isinstance(item, (tuple, list))
                 else (str(item), str(item)) for item in value or ())


# ---------------------------------------------------------------------------- the order page


@attrs.frozen
class OrderPanel:
    """A card on the admin order page, rendered from your plugin's own Jinja template.

    `template` is a file in the `templates/` folder of `package` (your plugin's package,
    usually `__package__`); it gets `order` (the Order, lines and payments loaded), `actor`,
    `csrf_token` and `url_for`, plus `context`. Autoescaping is on: values are shown as text.
    """

    title: str
    template: str
    context: Mapping[str, Any] = attrs.field(factory=dict)
    package: str = attrs.field(kw_only=True)


@attrs.frozen
class OrderButton:
    """A button on the admin order page. `endpoint` is a same-site path ("/admin/loyalty/1")
    or a Flask endpoint name ("loyalty.grant", given the order's `number`); a POST button
    carries the CSRF token and asks `confirm` first; `permission` hides it from the rest."""

    label: str
    endpoint: str
    method: str = attrs.field(default="post", converter=str.lower,
                              validator=attrs.validators.in_(METHODS))
    permission: str | None = None
    confirm: str | None = None


# ---------------------------------------------------------------------------- settings


@attrs.frozen
class SettingField:
    """One field of a settings page.

    `kind` is text, textarea, number (a whole number), checkbox or select (`choices`: values,
    or (value, label) pairs); text is at most `max_length` characters. `validate(value)` may
    raise InvalidInput to refuse the value, or return a value to store instead (e.g.
    normalised); None keeps it. A blank text or number is not stored, so the configured
    default applies.
    """

    name: str = attrs.field(validator=_name)
    label: str
    kind: str = attrs.field(default="text", validator=attrs.validators.in_(FIELD_KINDS))
    required: bool = False
    help: str = ""
    choices: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_choices)
    validate: Callable[[Any], Any] | None = None
    max_length: int = 1000


@attrs.frozen
class SettingsPage:
    """A tab of the admin's settings, backed by `fields` and one stored settings row.

    Saving needs `permission` (manage_settings unless given). Values are stored under `key`
    (`plugin:<name>` unless given) and read with `shop_settings.plugin_settings(mill, name)`.
    `defaults(settings)` returns the values in effect when nothing is stored (e.g. from
    ORDERMILL_PLUGIN_CONFIG); the page shows them as placeholders.
    """

    name: str = attrs.field(validator=_name)
    label: str
    fields: tuple[SettingField, ...] = attrs.field(
        converter=tuple,
        validator=attrs.validators.deep_iterable(attrs.validators.instance_of(SettingField)))
    permission: str = "manage_settings"
    key: str | None = None
    description: str = ""
    defaults: Callable[[Settings], Mapping[str, Any]] | None = None

    def __attrs_post_init__(self) -> None:
        names = [field.name for field in self.fields]
        if len(set(names)) != len(names):
            raise ValueError(f"Settings page {self.name!r} names a field twice: {names}.")

    @property
    def storage_key(self) -> str:
        return self.key or f"plugin:{self.name}"


# ---------------------------------------------------------------------------- placing, lists


@attrs.frozen
class RequestField:
    """An extra field of the order request (POST /api/v1/orders and Add New Order), read with
    a marshmallow field. Its value is stored in `order.plugin_data[<your plugin>][name]`,
    where `validate_order` and every later hook find it."""

    name: str = attrs.field(validator=_name)
    field: Field
    label: str | None = None

    @property
    def title(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()


@attrs.frozen
class FilterSpec:
    """A filter of the order lists (API, admin, CSV exports): `apply(query, value)` returns
    the SQLAlchemy select narrowed by the value (a string). With `choices`, any other value
    is refused with a clear message; `apply` may raise InvalidInput itself."""

    name: str = attrs.field(validator=_name)
    label: str
    apply: Callable[[Select[Any], str], Select[Any]]
    choices: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_choices)


# ---------------------------------------------------------------------------- collecting


def _results(mill: Ordermill, hook: str, spec_type: type[T], **kwargs: Any
             ) -> list[tuple[str, T]]:
    """(plugin, spec) for every spec the hook's implementations return, type-checked."""
    found: list[tuple[str, T]] = []
    for plugin, specs in mill.plugins.call(hook, **kwargs).results:
        for spec in ([specs] if isinstance(specs, spec_type) else specs):
            if not isinstance(spec, spec_type):
                raise PluginError(mill.plugins.describe(plugin), hook,
                                  f"returned {spec!r}, not a {spec_type.__name__}")
            found.append((plugin, spec))
    return found


def _unique(mill: Ordermill, hook: str, spec_type: type[T], what: str,
            reserved: Collection[str] = ()) -> dict[str, tuple[str, T]]:
    """{name: (plugin, spec)}; two plugins (or a plugin and the core) on one name fail."""
    named: dict[str, tuple[str, T]] = {}
    for plugin, spec in _results(mill, hook, spec_type):
        name = spec.name  # type: ignore[attr-defined]
        if name in reserved:
            raise PluginConflict(
                f"Plugin {mill.plugins.describe(plugin)} registers {what} {name!r}, a name "
                f"ordermill itself uses; choose another.",
                details={what: name, "plugins": [plugin]})
        if name in named:
            first = named[name][0]
            raise PluginConflict.between(what, name, mill.plugins.describe(first),
                                         mill.plugins.describe(plugin), [first, plugin])
        named[name] = (plugin, spec)
    return named


def order_panels(mill: Ordermill, order: Order, actor: Actor) -> list[tuple[str, OrderPanel]]:
    """The panels plugins show for this order to this actor."""
    return _results(mill, "admin_order_panels", OrderPanel, order=order, actor=actor)


def order_buttons(mill: Ordermill, order: Order, actor: Actor) -> list[tuple[str, OrderButton]]:
    """The plugin buttons for this order that the actor holds the permission of."""
    from ordermill.core.available import holds

    return [(plugin, button) for plugin, button in
            _results(mill, "admin_order_actions", OrderButton, order=order, actor=actor)
            if button.permission is None or holds(actor, button.permission)]


def settings_pages(mill: Ordermill) -> dict[str, tuple[str, SettingsPage]]:
    """Every plugin settings page by name; two pages on one name or storage key fail."""
    pages = _unique(mill, "admin_settings_pages", SettingsPage, "settings page")
    keys: dict[str, str] = {}
    for name, (plugin, page) in pages.items():
        if page.storage_key in keys:
            raise PluginConflict(
                f"Settings pages {keys[page.storage_key]!r} and {name!r} (plugin "
                f"{mill.plugins.describe(plugin)}) both store under {page.storage_key!r}.",
                details={"key": page.storage_key})
        keys[page.storage_key] = name
    return pages


def request_fields(mill: Ordermill, reserved: Collection[str] = ()
                   ) -> dict[str, tuple[str, RequestField]]:
    """Every extra order-request field by name. No name may be one of the order request's
    own fields (OrderRequest's, and `reserved`: the API body's)."""
    from ordermill.core.requests import OrderRequest

    own = {field.name for field in attrs.fields(OrderRequest)} | set(reserved)
    return _unique(mill, "order_request_fields", RequestField, "order request field", own)


def list_filters(mill: Ordermill) -> dict[str, tuple[str, FilterSpec]]:
    """Every order-list filter by name (none may take a name of LIST_PARAMETERS)."""
    return _unique(mill, "order_list_filters", FilterSpec, "order list filter",
                   LIST_PARAMETERS)


def plugin_data_of(mill: Ordermill, values: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Request-field values (as their fields deserialized them), grouped by plugin and in the
    JSON form their fields serialize to, as `order.plugin_data` stores them. An unknown name
    is an InvalidInput (as the API's 422)."""
    from ordermill.core.context import jsonable

    fields = request_fields(mill)
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise InvalidInput(f"Unknown order field(s): {', '.join(unknown)}.",
                           details={"fields": {name: ["Unknown field."] for name in unknown}})
    grouped: dict[str, dict[str, Any]] = {}
    for name, value in values.items():
        plugin, spec = fields[name]
        grouped.setdefault(plugin, {})[name] = jsonable(spec.field.serialize(name, {name: value}))
    return grouped


def check_filter_values(mill: Ordermill, wanted: Sequence[tuple[str, str]]
                        ) -> list[tuple[FilterSpec, str]]:
    """(spec, value) for each (name, value) asked for; an unknown filter or a value outside
    its choices is an InvalidInput naming it."""
    filters = list_filters(mill)
    checked = []
    for name, value in wanted:
        if name not in filters:
            raise InvalidInput(f"Unknown order filter {name!r}.", details={"field": name})
        spec = filters[name][1]
        allowed = [choice for choice, _label in spec.choices]
        if allowed and value not in allowed:
            raise InvalidInput(f"{spec.label}: {value!r} is not one of {', '.join(allowed)}.",
                               details={"field": name,
                                        "fields": {name: [f"Choose one of "
                                                          f"{', '.join(allowed)}."]}})
        checked.append((spec, value))
    return checked


__all__ = ["FIELD_KINDS", "LIST_PARAMETERS", "FilterSpec", "OrderButton", "OrderPanel",
           "RequestField", "SettingField", "SettingsPage", "check_filter_values", "list_filters",
           "order_buttons", "order_panels", "plugin_data_of", "request_fields",
           "settings_pages"]
