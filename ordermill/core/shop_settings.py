"""Settings an admin edits at run time, stored as JSON rows of the Setting table.

They override the start-up configuration (Settings) for the few things a shop owner changes
from the admin: custom statuses, bank details, the fraud threshold. Writing one clears the
app's cached registries so the change applies at once in this process.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from ordermill.core.errors import InvalidInput
from ordermill.core.models import Setting, utcnow
from ordermill.core.permissions import require
from ordermill.core.specs import Actor

if TYPE_CHECKING:
    from ordermill.core.app import Ordermill

FRAUD_THRESHOLD = "fraud_threshold"
BANK_DETAILS = "bank_details"
CUSTOM_STATUSES = "custom_statuses"


def read_setting(mill: Ordermill, key: str) -> dict[str, Any]:
    with mill.read_session() as session:
        row = session.get(Setting, key)
        return dict(row.value or {}) if row is not None else {}


def write_setting(mill: Ordermill, key: str, value: dict[str, Any], *, actor: Actor) -> None:
    """Store one settings row (insert or replace) in its own transaction."""
    require(actor, "manage_settings")
    with mill.write_session() as session, session.begin():
        row = session.get(Setting, key)
        if row is None:
            session.add(Setting(key=key, value=value, updated_at=utcnow()))
        else:
            row.value = value
            row.updated_at = utcnow()
    mill.refresh()


def stored_fraud_threshold(mill: Ordermill) -> Decimal | None:
    """The admin's threshold, when one is stored (validated 0-100)."""
    try:
        text = read_setting(mill, FRAUD_THRESHOLD).get("value")
    except Exception:  # no schema yet: the configured threshold applies
        return None
    if text in (None, ""):
        return None
    try:
        value = Decimal(str(text))
    except InvalidOperation:
        raise InvalidInput(f"Stored fraud threshold {text!r} is not a number.") from None
    return value
