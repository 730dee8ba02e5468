"""The application object: settings, database, plugins and registries in one place.

`Ordermill(settings)` is made once per process (by the CLI, the web app factory or a test
fixture); the order service hangs off it as `mill.orders`. Registries come from the plugins'
register hooks, built when first needed; the permission table is built at once (and again by
refresh()) so that a conflicting plugin permission stops start-up and `require()` knows the
plugins' permissions before any request.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ordermill.core import permissions
from ordermill.core.db import is_sqlite, make_engine, session_factories
from ordermill.core.event_types import EventTypeSpec
from ordermill.core.models import Base, Setting
from ordermill.core.plugins import PluginHost
from ordermill.core.settings import Settings
from ordermill.core.specs import JobHandlerSpec, PaymentGatewaySpec, PermissionSpec
from ordermill.core.statuses import StatusRegistry, status_spec_from_dict

CUSTOM_STATUSES_SETTING = "custom_statuses"


class Ordermill:
    def __init__(
        self,
        settings: Settings | None = None,
        *,
        plugins: PluginHost | None = None,
        engine: Any = None,
    ) -> None:
        from ordermill.core.catalogue import CatalogueService
        from ordermill.core.orders import OrderService
        from ordermill.core.outbox import Outbox

        self.settings = settings or Settings.from_env()
        self.engine = engine or make_engine(self.settings.database_url,
                                                  busy_timeout=self.settings.db_busy_timeout)
        self.read_session, self.write_session = session_factories(self.engine)
        self.plugins = plugins or PluginHost(self.settings)
        self._statuses: StatusRegistry | None = None
        self._gateways: dict[str, PaymentGatewaySpec] | None = None
        self._job_handlers: dict[str, JobHandlerSpec] | None = None
        self._event_types: dict[str, EventTypeSpec] | None = None
        self._fraud_threshold: Decimal | None = None
        self._permissions: permissions.PermissionTable | None = None
        self.orders = OrderService(self)
        self.catalogue = CatalogueService(self)
        self.outbox = Outbox(self)
        self._install_permissions()

    @property
    def is_sqlite(self) -> bool:
        return is_sqlite(self.engine)

    # ---- schema ---------------------------------------------------------------------------

    def create_schema(self) -> None:
        """Create tables straight from the models (tests); `ordermill init` uses Alembic."""
        Base.metadata.create_all(self.engine)

    # ---- registries (built lazily, rebuilt by refresh()) ----------------------------------

    def refresh(self) -> None:
        """Forget cached registries, e.g. after a plugin was registered or settings changed."""
        self._statuses = self._gateways = self._job_handlers = None
        self._event_types = None
        self._fraud_threshold = None
        self._permissions = None
        self.__dict__.pop("_settings_storage_keys", None)  # shop_settings._storage_key
        self._install_permissions()

    @property
    def permissions(self) -> permissions.PermissionTable:
        """The core's permissions plus those of this app's plugins (register_permissions)."""
        if self._permissions is None:
            owned = self.plugins.collect_owned_specs(
                "register_permissions", _permission_name, "permission")
            self._permissions = permissions.build_table(
                {name: (spec, self.plugins.describe(plugin))
                 for name, (spec, plugin) in owned.items()})
        return self._permissions

    def _install_permissions(self) -> None:
        permissions.install(self, self.permissions)

    @property
    def fraud_threshold(self) -> Decimal:
        """The score over which a new order goes straight to fraud: the admin's stored
        value when there is one, else the configured one."""
        if self._fraud_threshold is None:
            from ordermill.core.shop_settings import stored_fraud_threshold

            stored = stored_fraud_threshold(self)
            self._fraud_threshold = stored if stored is not None \
                else self.settings.fraud_threshold
        return self._fraud_threshold

    @property
    def statuses(self) -> StatusRegistry:
        if self._statuses is None:
            sources = [("settings", [status_spec_from_dict(dict(item))
                                     for item in self.settings.custom_statuses])]
            stored = self._stored_custom_statuses()
            if stored:
                sources.append(("admin settings", stored))
            sources.extend((self.plugins.describe(plugin), list(specs)) for plugin, specs
                           in self.plugins.call("register_statuses").results)
            self._statuses = StatusRegistry.build(sources)
        return self._statuses

    def _stored_custom_statuses(self) -> list[Any]:
        try:
            with self.read_session() as session:
                row = session.scalar(select(Setting).where(Setting.key == CUSTOM_STATUSES_SETTING))
        except Exception:  # schema not created yet (e.g. before `ordermill init`)
            return []
        items = (row.value or {}).get("statuses", []) if row else []
        return [status_spec_from_dict(item) for item in items]

    @property
    def gateways(self) -> dict[str, PaymentGatewaySpec]:
        if self._gateways is None:
            from ordermill.core.gateway_checks import check_gateway_spec

            owned = self.plugins.collect_owned_specs(
                "register_payment_gateways", lambda spec: spec.name, "payment gateway"
            )
            for spec, plugin in owned.values():  # wrong signatures fail here, not at a refund
                check_gateway_spec(spec, self.plugins.describe(plugin))
            self._gateways = {name: spec for name, (spec, _plugin) in owned.items()}
        return self._gateways

    @property
    def job_handlers(self) -> dict[str, JobHandlerSpec]:
        if self._job_handlers is None:
            self._job_handlers = self.plugins.collect_specs(
                "register_job_handlers", lambda spec: spec.kind, "job kind"
            )
        return self._job_handlers

    @property
    def event_types(self) -> dict[str, EventTypeSpec]:
        """The history event types plugins label (register_event_types), by name."""
        if self._event_types is None:
            from ordermill.core.event_types import collect

            self._event_types = collect(self)
        return self._event_types

    def session(self) -> Session:
        """A read session for queries outside actions (lists, reports)."""
        return self.read_session()

    def dispose(self) -> None:
        self.engine.dispose()


def _permission_name(spec: PermissionSpec) -> str:
    """A PermissionSpec's name; anything else is refused (collect_owned_specs names it)."""
    if not isinstance(spec, PermissionSpec):
        raise TypeError(f"{spec!r} is not a PermissionSpec")
    return spec.name
