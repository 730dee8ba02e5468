"""Accept options per line: which username, password, server and registrar a line gets.

WHMCS's AcceptOrder takes one serviceusername / servicepassword; an order with several
services needs them per line, under `lines: {"<line id>": {...}}`. A line's own options
always win; the order-wide username and password apply only to an order with one service,
and giving them for several services without a value per line is refused (they would
otherwise be silently replaced by generated ones).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ordermill.core.errors import InvalidInput
from ordermill.core.models import Order, OrderLine
from ordermill.core.redact import MASKS

OPTION_KEYS = ("server", "username", "password", "autosetup", "send_email", "registrar",
               "send_registrar")
CREDENTIAL_KEYS = frozenset({"username", "password"})


def line_options(options: Mapping[str, Any], line_id: int, *,
                 shared_credentials: bool = True) -> dict[str, Any]:
    """The accept options of one line: the order-wide ones, overridden by the line's own
    (`lines: {"<line id>": {...}}`). Order-wide username and password apply only when
    `shared_credentials` (the order has one service line); a line's own always do."""
    merged = {key: options[key] for key in OPTION_KEYS if key in options
              and (shared_credentials or key not in CREDENTIAL_KEYS)}
    specific = specific_options(options, line_id)
    merged.update({key: specific[key] for key in OPTION_KEYS if key in specific})
    if merged.get("password") in MASKS:  # a masked copy kept in history, never a password
        merged.pop("password")
    return merged


def specific_options(options: Mapping[str, Any], line_id: int) -> Mapping[str, Any]:
    lines = options.get("lines")
    specific = lines.get(str(line_id)) if isinstance(lines, Mapping) else None
    return specific if isinstance(specific, Mapping) else {}


def refuse_shared_credentials(options: Mapping[str, Any], service_lines: Sequence[OrderLine],
                              order: Order) -> None:
    """One username or password for several services would be silently dropped: refuse it
    unless every service line names its own."""
    shared = sorted(key for key in CREDENTIAL_KEYS if options.get(key))
    if not shared:
        return
    missing = [line.id for line in service_lines
               if any(not specific_options(options, line.id).get(key) for key in shared)]
    if missing:
        raise InvalidInput(
            f"Order {order.number} has {len(service_lines)} services: give each its own "
            f"{' and '.join(shared)} (options.lines.<line id>), not one for all.",
            details={"field": "options", "line_ids": missing})


__all__ = ["CREDENTIAL_KEYS", "OPTION_KEYS", "line_options", "refuse_shared_credentials",
           "specific_options"]
