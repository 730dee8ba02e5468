"""Roles and the permissions named after the actions they allow.

The core checks them in every action, so the API and the admin cannot disagree.
"""

from __future__ import annotations

from ordermill.core.errors import PermissionDenied
from ordermill.core.specs import Actor

PERMISSIONS: dict[str, str] = {
    "view_orders": "See orders, payments and history",
    "place_orders": "Place orders (storefront, admin 'Add New Order')",
    "edit_orders": "Accept, cancel, add products, edit buyer, comment, dispatch",
    "record_payments": "Record payments and mark orders paid",
    "refund": "Refund money",
    "manage_fraud": "Set as fraud, back to pending, re-run fraud checks",
    "delete_orders": "Delete orders for good",
    "bulk_change": "Change the status of many orders at once",
    "export": "Export orders and payments as CSV",
    "confirm_sales": "Confirm the sales manager of a sale",
    "manage_recurring": "Change the status of recurring orders",
    "manage_staff": "Create staff users and tokens",
    "manage_settings": "Edit statuses, bank details, fraud threshold",
    "manage_jobs": "See and retry dead background jobs (e-mails, provisioning commands)",
}

ROLES: dict[str, frozenset[str]] = {
    "admin": frozenset(PERMISSIONS),
    "manager": frozenset(PERMISSIONS) - {"manage_staff", "manage_settings"},
    # Not manage_jobs: retrying dead jobs re-runs provisioning commands too, not only mail.
    "support": frozenset({"view_orders", "place_orders", "edit_orders", "record_payments",
                          "export"}),
    "viewer": frozenset({"view_orders"}),
    "customer": frozenset({"place_orders"}),
}


def permissions_of(role: str | None) -> frozenset[str]:
    return ROLES.get(role or "", frozenset())


def require(actor: Actor, permission: str) -> None:
    """Raise PermissionDenied unless the actor's role grants `permission`."""
    if actor.kind == "system":
        return
    if permission not in permissions_of(actor.role):
        raise PermissionDenied(
            f"{actor.name} ({actor.role or 'no role'}) may not {PERMISSIONS[permission].lower()}.",
            details={"permission": permission, "role": actor.role},
        )
