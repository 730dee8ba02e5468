"""Promo code actions: create, edit, disable, list. `manage_promotions`, one transaction and
one catalogue event each; every rule is read and checked here (the rules at placement are
in promotions.py)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ordermill.core.catalogue import catalogue_history, fields
from ordermill.core.catalogue.errors import DuplicatePromoCode, PromoNotFound
from ordermill.core.catalogue.fields import refuse
from ordermill.core.catalogue_models import PromoTerms
from ordermill.core.i18n import N_, event_msg
from ordermill.core.i18n import gettext as _
from ordermill.core.labels import shown_message
from ordermill.core.models import Product, PromoCode, utcnow
from ordermill.core.permissions import require
from ordermill.core.serialize import money_text
from ordermill.core.specs import Actor

MANAGE = "manage_promotions"
READ = "view_orders"
PROMO_FIELDS = ("code", "kind", "percent", "amounts", "valid_from", "valid_until",
                "usage_limit", "per_customer_limit", "min_subtotal", "products", "categories",
                "first_order_only", "combinable", "active")
PERCENT = re.compile(r"^(?P<int>[0-9]{1,3})(?:\.(?P<frac>[0-9]{1,2}))?$")
# History sentences (event_msg: stored in English, shown in each reader's language).
UPDATED = N_("Promo code %(code)s changed: %(fields)s.")
DISABLED = N_("Promo code %(code)s disabled.")


def _percent(value: object) -> int:
    """'12.5' -> 1250 basis points; more than 0, at most 100."""
    if isinstance(value, (bool, float)) or not isinstance(value, (str, int)):
        raise refuse("percent", f"must be a decimal string such as \"10\" or \"12.5\", not "
                                f"{value!r}.")
    match = PERCENT.match(str(value).strip())
    if not match:
        raise refuse("percent", f"{value!r} is not a percentage such as \"10\" or \"12.5\".")
    points = int(match.group("int")) * 100 + int((match.group("frac") or "0").ljust(2, "0"))
    if not 0 < points <= 10_000:
        raise refuse("percent", "must be more than 0 and at most 100.")
    return points


def promo_to_dict(promo: PromoCode, terms: PromoTerms | None) -> dict[str, Any]:
    amounts = dict((terms.amounts if terms else None) or (
        {promo.currency: promo.value} if promo.kind == "fixed" and promo.currency else {}))
    return {
        "code": promo.code, "kind": promo.kind, "active": promo.active,
        "percent": f"{promo.value / 100:g}" if promo.kind == "percent" else None,
        "amounts": {code: money_text(int(v), code) for code, v in sorted(amounts.items())},
        "valid_from": terms.valid_from.isoformat() if terms and terms.valid_from else None,
        "valid_until": terms.valid_until.isoformat() if terms and terms.valid_until else None,
        "usage_limit": terms.usage_limit if terms else None,
        "per_customer_limit": terms.per_customer_limit if terms else None,
        "times_used": terms.times_used if terms else 0,
        "min_subtotal": {code: money_text(int(v), code) for code, v in
                         sorted(((terms.min_subtotal if terms else None) or {}).items())},
        "products": list(terms.products) if terms else [],
        "categories": list(terms.categories) if terms else [],
        "first_order_only": bool(terms and terms.first_order_only),
        "combinable": bool(terms.combinable) if terms else True,
        "created_at": promo.created_at.isoformat(),
    }


def _find(session: Session, code: str, *, lock: bool = False) -> PromoCode:
    query = select(PromoCode).where(PromoCode.code == str(code).strip())
    if lock and session.get_bind().dialect.name != "sqlite":
        query = query.with_for_update()
    promo = session.scalar(query)
    if promo is None:
        raise PromoNotFound(_("No promo code %(code)s.", code=repr(code)),
                            details={"code": str(code)})
    return promo


class PromoActions:
    """`mill.catalogue` promo code actions."""

    def __init__(self, mill: Any) -> None:
        self.mill = mill

    def list(self, *, actor: Actor, include_inactive: bool = True) -> list[dict[str, Any]]:
        require(actor, READ)
        with self.mill.read_session() as session:
            query = select(PromoCode).order_by(PromoCode.code)
            if not include_inactive:
                query = query.where(PromoCode.active.is_(True))
            promos = list(session.scalars(query))
            return [promo_to_dict(p, session.get(PromoTerms, p.id)) for p in promos]

    def get(self, code: str, *, actor: Actor) -> dict[str, Any]:
        require(actor, READ)
        with self.mill.read_session() as session:
            promo = _find(session, code)
            result = promo_to_dict(promo, session.get(PromoTerms, promo.id))
            result["history"] = catalogue_history.events(session, "promo_code", promo.code)
            return result

    def create(self, data: Mapping[str, Any], *, actor: Actor, dry_run: bool = False
               ) -> dict[str, Any]:
        require(actor, MANAGE)
        fields.unknown_fields(data, PROMO_FIELDS)
        code = fields.text(data, "code", 64, required=True)
        assert code is not None
        if not fields.CODE_PATTERN.match(code):
            raise refuse("code", f"{code!r} may use only letters, digits, '_' and '-'.")
        try:
            return self._create(code, data, actor, dry_run)
        except IntegrityError:  # a concurrent create of the same code won the race
            raise DuplicatePromoCode(_("Promo code %(code)s exists already.", code=repr(code)),
                                     details={"code": code, "field": "code"}) from None

    def _create(self, code: str, data: Mapping[str, Any], actor: Actor, dry_run: bool
                ) -> dict[str, Any]:
        with catalogue_history.transaction(self.mill, dry_run=dry_run) as session:
            if session.scalar(select(PromoCode.id).where(PromoCode.code == code)) is not None:
                raise DuplicatePromoCode(_("Promo code %(code)s exists already.", code=repr(code)),
                                         details={"code": code, "field": "code"})
            promo = PromoCode(code=code, kind="percent", value=0, currency=None,
                              active=fields.flag(data, "active", True), created_at=utcnow())
            terms = PromoTerms(times_used=0, amounts={}, min_subtotal={}, products=[],
                               categories=[], first_order_only=False, combinable=True)
            self._apply(session, promo, terms, {"kind": "percent", **data}, new=True)
            session.add(promo)
            session.flush()
            terms.promo_code_id = promo.id
            session.add(terms)
            session.flush()
            result = promo_to_dict(promo, terms)
            created = (event_msg("Promo code %(code)s created: %(percent)s%% off.", code=code,
                                 percent=result["percent"]) if promo.kind == "percent" else
                       event_msg("Promo code %(code)s created: %(amounts)s off.", code=code,
                                 amounts=", ".join(f"{v} {c}"
                                                   for c, v in result["amounts"].items())))
            catalogue_history.record(session, actor, "promo_code", code, "promo_created",
                                     created, {"promo": result})
            return result

    def update(self, code: str, changes: Mapping[str, Any], *, actor: Actor,
               dry_run: bool = False) -> dict[str, Any]:
        require(actor, MANAGE)
        fields.unknown_fields(changes, PROMO_FIELDS)
        with catalogue_history.transaction(self.mill, dry_run=dry_run) as session:
            promo = _find(session, code, lock=True)
            terms = session.get(PromoTerms, promo.id)
            if terms is None:
                terms = PromoTerms(promo_code_id=promo.id, times_used=0, amounts={},
                                   min_subtotal={}, products=[], categories=[],
                                   first_order_only=False, combinable=True)
                session.add(terms)
            before = promo_to_dict(promo, terms)
            if "code" in changes and str(changes["code"]).strip() != promo.code:
                raise refuse("code", "cannot change; orders refer to it.")
            self._apply(session, promo, terms, {k: v for k, v in changes.items()
                                                if k != "code"}, new=False)
            if "active" in changes:
                promo.active = fields.flag(changes, "active", promo.active)
            session.flush()
            after = promo_to_dict(promo, terms)
            diff = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
            message = event_msg(UPDATED, code=promo.code,
                                fields=", ".join(diff) or event_msg("nothing"))
            if diff:
                catalogue_history.record(session, actor, "promo_code", promo.code,
                                         "promo_updated", message, {"changes": diff})
            return {**after, "changes": diff, "message": shown_message(message)}

    def disable(self, code: str, *, actor: Actor, dry_run: bool = False) -> dict[str, Any]:
        require(actor, MANAGE)
        with catalogue_history.transaction(self.mill, dry_run=dry_run) as session:
            promo = _find(session, code, lock=True)
            promo.active = False
            message = event_msg(DISABLED, code=promo.code)
            catalogue_history.record(session, actor, "promo_code", promo.code,
                                     "promo_disabled", message)
            session.flush()
            return {**promo_to_dict(promo, session.get(PromoTerms, promo.id)),
                    "message": shown_message(message)}

    def _apply(self, session: Session, promo: PromoCode, terms: PromoTerms,
               data: Mapping[str, Any], *, new: bool) -> None:
        """Read the given rule fields onto the code and its terms, refusing bad ones."""
        if "kind" in data:
            promo.kind = fields.choice(data, "kind", ("percent", "fixed"), default="percent") \
                or "percent"
        if promo.kind == "percent" and (new or "percent" in data or "kind" in data):
            promo.value, promo.currency = _percent(data.get("percent")), None
            terms.amounts = {}
        if promo.kind == "fixed" and (new or "amounts" in data or "kind" in data):
            amounts = fields.money_map(data, "amounts")
            if not amounts or not any(amounts.values()):
                raise refuse("amounts", 'a fixed discount needs an amount per currency, such '
                                        'as {"EUR": "5.00"}.')
            first = sorted(amounts)[0]
            promo.value, promo.currency = amounts[first], first
            terms.amounts = amounts
        if "valid_from" in data:
            terms.valid_from = fields.when(data, "valid_from")
        if "valid_until" in data:
            terms.valid_until = fields.when(data, "valid_until")
            if terms.valid_until is not None and terms.valid_until <= utcnow():
                raise refuse("valid_until", f"{data['valid_until']} is in the past; the code "
                                            f"could never be used.")
        if terms.valid_from and terms.valid_until and terms.valid_until <= terms.valid_from:
            raise refuse("valid_until", "must be after valid_from.")
        for name in ("usage_limit", "per_customer_limit"):
            if name in data:
                limit = fields.whole(data, name, minimum=1)
                setattr(terms, name, limit)
        if "min_subtotal" in data:
            terms.min_subtotal = fields.money_map(data, "min_subtotal") or {}
        if "products" in data:
            skus = fields.text_list(data, "products") or []
            known = set(session.scalars(select(Product.sku).where(Product.sku.in_(skus))))
            unknown = [sku for sku in skus if sku not in known]
            if unknown:
                raise refuse("products", f"unknown product {unknown[0]!r}.")
            terms.products = skus
        if "categories" in data:
            names = fields.text_list(data, "categories") or []
            known = set(session.scalars(select(Product.category).where(
                Product.category.in_(names)).distinct()))
            unknown = [name for name in names if name not in known]
            if unknown:
                raise refuse("categories", f"no product is in category {unknown[0]!r}.")
            terms.categories = names
        for name in ("first_order_only", "combinable"):
            if name in data:
                setattr(terms, name, fields.flag(data, name, getattr(terms, name)))
