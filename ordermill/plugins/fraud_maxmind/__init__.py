"""MaxMind minFraud: score every new order, through MaxMind's official `minfraud` client.

WHMCS's fraud module: on placement the order is sent to minFraud Score (or Insights, or
Factors) with the buyer's IP address, e-mail, billing address, amount and currency. The risk
score (0.01-99), the reasons MaxMind gives and the raw response are stored on the order as a
fraud check; over `settings.fraud_threshold` the core sends the order straight to fraud,
skipping pending. With several providers the highest score decides.

When minFraud cannot be asked (service down, wrong account or key, no funds left) the order is
never lost and never blocked: the check is stored as failed with the reason, the order stays
pending, a `fraud_check_failed` event tells the admin, and the check can be re-run from the
order (`OrderService.rerun_fraud_check`, `POST /api/v1/orders/<number>/fraud-check`).

Configuration (ORDERMILL_PLUGIN_CONFIG); the plugin abstains until both keys are set:

    {"fraud_maxmind": {
        "account_id": 123456, "license_key": "...",
        "service": "score",          # "score" (default), "insights" or "factors"
        "host": "minfraud.maxmind.com",  # "sandbox.maxmind.com" while testing
        "timeout": 5,                # seconds; the check runs inside placement's transaction
        "hash_email": false,         # send an MD5 of the e-mail instead of the address
        "ca_bundle": null,           # a CA file to trust (a TLS-inspecting proxy, tests)
        "proxy": null                # "http://user:pass@proxy:3128" for the HTTPS call
    }}

The client speaks HTTPS only (the SDK fixes the scheme), so a local stand-in must serve TLS:
`ca_bundle` makes the client's requests session trust that server's certificate authority
(and ignore REQUESTS_CA_BUNDLE and proxy variables of the environment, which requests would
otherwise let win; name a proxy with `proxy`).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

import attrs

from ordermill.api import (
    ActionContext,
    ConfigurationError,
    FraudResult,
    Order,
    OrderEvent,
    Settings,
    hookimpl,
    money_text,
)

if TYPE_CHECKING:  # the SDK (with aiohttp) loads on the first check, not on every start
    from minfraud import Client

PLUGIN = "fraud_maxmind"
PROVIDER = "maxmind"
SERVICES = ("score", "insights", "factors")
FAILED_EVENT = "fraud_check_failed"
_NOTE = "fraud_maxmind.failure"
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_REGION = re.compile(r"^[0-9A-Z]{1,4}$")


@attrs.frozen
class MaxMindConfig:
    """The plugin's settings, read when an order is checked (never at import time)."""

    account_id: int | None = None
    license_key: str | None = None
    service: str = "score"
    host: str = "minfraud.maxmind.com"
    timeout: float = 5.0
    hash_email: bool = False
    ca_bundle: str | None = None
    proxy: str | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.account_id and self.license_key)

    @classmethod
    def from_settings(cls, settings: Settings) -> MaxMindConfig:
        raw = dict(settings.plugin_config(PLUGIN))
        unknown = set(raw) - {field.name for field in attrs.fields(cls)}
        if unknown:
            raise ConfigurationError(f"{PLUGIN}: unknown setting(s) {', '.join(sorted(unknown))}.")
        service = str(raw.get("service") or "score")
        if service not in SERVICES:
            raise ConfigurationError(f"{PLUGIN}: service must be one of {', '.join(SERVICES)}, "
                                     f"not {service!r}.")
        try:
            account = int(raw["account_id"]) if raw.get("account_id") else None
            timeout = float(raw.get("timeout") or 5.0)
        except (TypeError, ValueError):
            raise ConfigurationError(f"{PLUGIN}: account_id must be a number and timeout a "
                                     f"number of seconds.") from None
        return cls(account_id=account, license_key=raw.get("license_key") or None,
                   service=service, host=str(raw.get("host") or "minfraud.maxmind.com"),
                   timeout=timeout, hash_email=bool(raw.get("hash_email", False)),
                   ca_bundle=raw.get("ca_bundle") or None, proxy=raw.get("proxy") or None)


# ---------------------------------------------------------------------------- the request


def _ip(value: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address((value or "").strip())) if value else None
    except ValueError:
        return None


def _split_name(name: str) -> tuple[str | None, str | None]:
    parts = name.strip().rsplit(" ", 1)
    return (parts[0], parts[1]) if len(parts) == 2 else (parts[0] or None, None)


def _billing(order: Order) -> dict[str, Any]:
    """The order's billing address in minFraud's field names; values it would refuse are left
    out (a check with less data beats a check refused by validation)."""
    address: Mapping[str, Any] = order.billing_address or {}

    def pick(*keys: str) -> str | None:
        for key in keys:
            value = address.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
        return None

    first, last = _split_name(order.buyer_name)
    country = (pick("country", "country_code") or "").upper() or None
    region = (pick("region", "state", "subdivision") or "").upper() or None
    return {
        "first_name": first, "last_name": last, "company": pick("company"),
        "address": pick("line1", "address", "street"), "address_2": pick("line2", "address_2"),
        "city": pick("city"), "postal": pick("postal_code", "postal", "zip", "postcode"),
        "country": country if country and _COUNTRY.match(country) else None,
        "region": region if region and _REGION.match(region) else None,
        "phone_number": order.buyer_phone or None,
    }


def transaction_for(order: Order) -> dict[str, Any]:
    """The minFraud transaction for an order (None values are dropped by the client).

    Amounts go as JSON numbers because that is minFraud's wire format; they are made from
    the exact decimal text of the minor units, so nothing is rounded on our side.
    """
    email = order.buyer_email
    domain = email.rsplit("@", 1)[-1] if "@" in email else None
    transaction: dict[str, Any] = {
        "device": {"ip_address": _ip(order.customer_ip)},
        "email": {"address": email, "domain": domain},
        "billing": _billing(order),
        "event": {"transaction_id": order.number, "type": "purchase",
                  "time": order.placed_at.isoformat() if order.placed_at else None},
        "order": {
            "currency": order.currency,
            "discount_code": order.promo_code or None,
            "affiliate_id": order.affiliate or None,
        },
        # minFraud's wire format takes amounts as JSON numbers, and the SDK posts with
        # `json=`, which cannot write a Decimal: each amount goes as the float of its exact
        # decimal text (`money_text`, integer arithmetic), which JSON writes back as that
        # same text (Python's shortest round-trip repr); nothing is computed in float
        "shopping_cart": [
            {"item_id": line.sku, "category": line.category or None,
             "quantity": line.quantity,
             "price": float(money_text(line.unit_price, order.currency))
             if line.unit_price > 0 else None}
            for line in order.lines
        ],
    }
    if order.total > 0:
        transaction["order"]["amount"] = float(money_text(order.total, order.currency))
    return transaction


# ---------------------------------------------------------------------------- the answer


def _reasons(answer: Any) -> tuple[str, ...]:
    """Human-readable reasons from any of the three answers, most telling first."""
    reasons: list[str] = []
    disposition = getattr(answer, "disposition", None)
    if disposition is not None and getattr(disposition, "action", None):
        reason = getattr(disposition, "reason", None)
        rule = getattr(disposition, "rule_label", None)
        reasons.append(f"disposition {disposition.action}"
                       + (f" ({reason})" if reason else "") + (f": {rule}" if rule else ""))
    for multiplier in getattr(answer, "risk_score_reasons", None) or []:
        for reason in getattr(multiplier, "reasons", None) or []:
            reasons.append(f"{reason.code}: {reason.reason}")
    ip_address = getattr(answer, "ip_address", None)
    for reason in getattr(ip_address, "risk_reasons", None) or []:
        reasons.append(f"IP {reason.code}: {reason.reason}")
    ip_risk = getattr(ip_address, "risk", None)
    if ip_risk is not None:
        reasons.append(f"IP risk {ip_risk}")
    for warning in getattr(answer, "warnings", None) or []:
        reasons.append(f"warning {warning.code}: {warning.warning}")
    return tuple(reasons)


def _score(value: Any) -> Decimal:
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        from minfraud.errors import MinFraudError

        raise MinFraudError(
            f"minFraud answered a risk score that is not a number: {value!r}") from None


def _text(error: BaseException) -> str:
    """The message alone (the SDK passes code, status and URI as extra arguments)."""
    first = error.args[0] if error.args else ""
    return str(first) if first else type(error).__name__


def _explain(error: Exception) -> str:
    """What went wrong, in words an admin can act on."""
    from minfraud.errors import (
        AuthenticationError,
        HTTPError,
        InsufficientFundsError,
        InvalidRequestError,
        PermissionRequiredError,
    )

    text = _text(error)
    if isinstance(error, AuthenticationError):
        return f"MaxMind refused the account ID or license key ({text})"
    if isinstance(error, InsufficientFundsError):
        return f"The MaxMind account has no funds left ({text})"
    if isinstance(error, PermissionRequiredError):
        return f"The MaxMind account may not use this service ({text})"
    if isinstance(error, InvalidRequestError):
        return f"minFraud refused the request ({text})"
    if isinstance(error, HTTPError):
        return f"minFraud answered HTTP {error.http_status} ({text})"
    import requests  # the client's transport: loaded with minfraud, on first use

    if isinstance(error, requests.RequestException):
        return f"minFraud could not be reached ({type(error).__name__}: {text})"
    return f"{type(error).__name__}: {text}"


def make_client(config: MaxMindConfig) -> Client:
    """The official client; with `ca_bundle`, its requests session trusts that CA."""
    import requests
    from minfraud import Client

    assert config.account_id is not None and config.license_key is not None
    client = Client(config.account_id, config.license_key, host=config.host,
                    timeout=config.timeout, proxy=config.proxy)
    if config.ca_bundle:
        session = getattr(client, "_session", None)
        if not isinstance(session, requests.Session):
            raise ConfigurationError(f"{PLUGIN}: this minfraud version cannot take ca_bundle.")
        session.verify = config.ca_bundle
        # requests lets REQUESTS_CA_BUNDLE and friends override session.verify: with an
        # explicit CA the environment is ignored (give an HTTP proxy as `proxy` instead)
        session.trust_env = False
    return client


def check(order: Order, config: MaxMindConfig) -> FraudResult:
    """Ask minFraud about one order. Never raises: a failure is an "error" result."""
    try:
        with make_client(config) as client:
            ask = getattr(client, config.service)
            answer = ask(transaction_for(order), hash_email=config.hash_email)
        score = _score(answer.risk_score)
    except Exception as error:  # an outage must never lose or block an order
        return FraudResult(provider=PROVIDER, score=None, status="error",
                           error=_explain(error),
                           raw={"service": config.service, "error_type": type(error).__name__})
    raw = answer.to_dict()
    raw["service"] = config.service
    return FraudResult(provider=PROVIDER, score=score, reasons=_reasons(answer), raw=raw)


# ---------------------------------------------------------------------------- hooks


@hookimpl
def fraud_check(order: Order, ctx: ActionContext) -> FraudResult | None:
    """Score the order with minFraud; abstain when unconfigured or in a dry run."""
    config = MaxMindConfig.from_settings(ctx.settings)
    if not config.enabled or ctx.dry_run:
        return None
    result = check(order, config)
    if result.status != "ok":
        ctx.notes[_NOTE] = result.error
    return result


@hookimpl
def jobs_for_event(order: Order, event: OrderEvent, ctx: ActionContext) -> None:
    """Write the "fraud check failed" event beside the action whose minFraud call failed.

    Runs in the same transaction as the placement (or re-run), so the note exists exactly
    when the order does.
    """
    error = ctx.notes.pop(_NOTE, None)
    if error is None or ctx.session is None:
        return
    ctx.record_event(
        order, FAILED_EVENT,
        f"Fraud check failed: {error}. The order stays {order.status}; re-run the check from "
        f"the order once MaxMind answers again.",
        data={"provider": PROVIDER, "error": error}, actor=f"plugin:{PLUGIN}",
        touch=False,  # a note beside the action's own event: the action already saves the order
    )


__all__ = ["FAILED_EVENT", "PROVIDER", "MaxMindConfig", "check", "transaction_for"]
