"""Accept options per line: which username, password, server and registrar a line gets.

WHMCS's AcceptOrder takes one serviceusername / servicepassword for the order's services;
ordermill also takes them per line, under `lines: {"<line id>": {...}}`. A line's own
options always win; the order-wide ones apply to every line without its own (as in WHMCS);
only what nobody chose is generated. Nothing an admin typed is ever silently replaced.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ordermill.api import MASKS

OPTION_KEYS = ("server", "username", "password", "autosetup", "send_email", "registrar",
               "send_registrar")
CREDENTIAL_KEYS = frozenset({"username", "password"})


def line_options(options: Mapping[str, Any], line_id: int) -> dict[str, Any]:
    """The accept options of one line: the order-wide ones, overridden by the line's own
    (`lines: {"<line id>": {...}}`)."""
    merged = {key: options[key] for key in OPTION_KEYS if key in options}
    specific = specific_options(options, line_id)
    merged.update({key: specific[key] for key in OPTION_KEYS if key in specific})
    if merged.get("password") in MASKS:  # a masked copy kept in history, never a password
        merged.pop("password")
    return merged


def specific_options(options: Mapping[str, Any], line_id: int) -> Mapping[str, Any]:
    lines = options.get("lines")
    specific = lines.get(str(line_id)) if isinstance(lines, Mapping) else None
    return specific if isinstance(specific, Mapping) else {}


__all__ = ["CREDENTIAL_KEYS", "OPTION_KEYS", "line_options", "specific_options"]
