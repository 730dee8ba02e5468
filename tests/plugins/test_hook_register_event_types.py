"""register_event_types: a plugin names the history event types it writes, and the admin's
order and customer pages show each in the reader's language (issue 21); a conflict or a wrong
object fails naming the plugin. The built-in plugins label theirs."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from hookkit import login

from ordermill import hookimpl
from ordermill.api import Domain, EventTypeSpec, event_msg
from ordermill.core.app import Ordermill
from ordermill.core.errors import PluginConflict, PluginError
from ordermill.core.event_types import event_type_label
from ordermill.core.i18n import use_locale
from ordermill.core.models import Order, Product
from ordermill.core.specs import Actor

Register = Callable[..., object]
DOMAIN = "ordermill_parcels_test"
FRENCH_PO = """\
msgid ""
msgstr ""
"Language: fr\\n"
"Plural-Forms: nplurals=2; plural=(n > 1);\\n"
"Content-Type: text/plain; charset=utf-8\\n"

msgid "Parcel shipped"
msgstr "Colis expédié"

#, python-format
msgid "Parcel %(code)s handed to the carrier."
msgstr "Colis %(code)s remis au transporteur."
"""
EVENT_TYPE = re.compile(r'<span class="event-type">([^<]*)</span>')


class Parcels:
    """A plugin writing `parcel_shipped` events, with its own catalog."""

    def __init__(self, catalog: Path) -> None:
        self.domain = Domain(DOMAIN, catalog)

    @hookimpl
    def register_event_types(self) -> Iterable[EventTypeSpec]:
        return [EventTypeSpec("parcel_shipped", "Parcel shipped", DOMAIN),
                EventTypeSpec("placed", "Parcel placed", DOMAIN)]  # the core's word wins


def _catalog(tmp_path: Path) -> Path:
    folder = tmp_path / "translations" / "fr" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / f"{DOMAIN}.po").write_text(FRENCH_PO, encoding="utf-8")
    return tmp_path / "translations"


def _ship(mill: Ordermill, number: str, actor: Actor) -> None:
    with mill.orders.editing(number, actor=actor, action="ship") as (order, ctx):
        ctx.record_event(order, "parcel_shipped",
                         event_msg("Parcel %(code)s handed to the carrier.",
                                   catalog_domain=DOMAIN, code="JD0001"))


def test_hook_register_event_types_labels_the_history_in_the_readers_language(
    mill: Ordermill, app: Any, register_plugin: Register, tmp_path: Path,
    make_product: Callable[..., Product], order_factory: Callable[..., Order], staff: Actor,
) -> None:
    assert "parcel_shipped" not in mill.event_types
    register_plugin(Parcels(_catalog(tmp_path)), name="parcels")
    assert mill.event_types["parcel_shipped"] == EventTypeSpec(
        "parcel_shipped", "Parcel shipped", DOMAIN)
    with use_locale("fr"):
        assert event_type_label(mill, "parcel_shipped") == "Colis expédié"
        assert event_type_label(mill, "never_registered") is None

    make_product("TSHIRT", stock=5)
    order = order_factory([("TSHIRT", 1)])
    _ship(mill, order.number, staff)

    client = login(app.test_client(), mill, "admin")
    french = client.get(f"/admin/orders/{order.number}", headers={"Accept-Language": "fr"})
    assert french.status_code == 200
    page = french.get_data(as_text=True)
    shown = EVENT_TYPE.findall(page)
    assert "Colis expédié" in shown and "Parcel shipped" not in shown
    assert "Colis JD0001 remis au transporteur." in page
    assert "Passée" in shown and "Parcel placed" not in page  # the core's word for "placed"

    english = client.get(f"/admin/orders/{order.number}",
                         headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Parcel shipped" in EVENT_TYPE.findall(english)
    assert "Parcel JD0001 handed to the carrier." in english


def test_two_plugins_labelling_one_event_type_fail_naming_both(
    mill: Ordermill, register_plugin: Register,
) -> None:
    class Carrier:
        @hookimpl
        def register_event_types(self) -> Iterable[EventTypeSpec]:
            return [EventTypeSpec("parcel_lost", "Parcel lost")]

    register_plugin(Carrier(), name="carrier-one")
    with pytest.raises(PluginConflict) as conflict:
        register_plugin(Carrier(), name="carrier-two")
        mill.event_types  # noqa: B018
    assert "parcel_lost" in str(conflict.value)
    assert "carrier-one" in str(conflict.value) and "carrier-two" in str(conflict.value)


def test_an_object_that_is_no_event_type_spec_is_refused_naming_the_plugin(
    mill: Ordermill, register_plugin: Register,
) -> None:
    class Sloppy:
        @hookimpl
        def register_event_types(self) -> Iterable[Any]:
            return [("parcel_lost", "Parcel lost")]

    register_plugin(Sloppy(), name="sloppy")
    with pytest.raises(PluginError, match="sloppy"):
        mill.event_types  # noqa: B018


@pytest.mark.parametrize("name", ["", "Parcel", "parcel shipped", "x" * 41, "1st"])
def test_an_event_type_name_must_fit_the_history_column(name: str) -> None:
    with pytest.raises(ValueError, match="event type"):
        EventTypeSpec(name, "Parcel")
    with pytest.raises(ValueError, match="label"):
        EventTypeSpec("parcel_shipped", " ")


def test_the_built_in_plugins_label_the_event_types_they_write(mill: Ordermill) -> None:
    expected = {"sale_confirmed": "Vente confirmée",
                "subscription_started": "Abonnement démarré",
                "subscription_suspend": "Abonnement suspendu",
                "renewal_invoice": "Facture de renouvellement"}
    with use_locale("fr"):
        for name, french in expected.items():
            assert event_type_label(mill, name) == french, name
    with use_locale("uk"):
        assert event_type_label(mill, "sale_confirmed") == "Продаж підтверджено"
