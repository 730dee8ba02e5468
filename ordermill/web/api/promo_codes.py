"""Promo codes: list, create (Idempotency-Key), show, edit, disable (`manage_promotions`)."""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE

from ordermill.web.api import api, documented
from ordermill.web.api.catalogue import WRITE_ERRORS, dry_run_answer, idempotent
from ordermill.web.api.schemas import DryRunQuery, IdempotencyHeaders
from ordermill.web.api.schemas.catalogue import (
    PromoDetailOut,
    PromoIn,
    PromoListOut,
    PromoPatchIn,
)
from ordermill.web.auth import mill, require_actor


@api.get("/promo-codes")
@api.output(PromoListOut)
@documented(403, summary="Promo codes with their rules and how often each was used")
def list_promo_codes() -> Any:
    return {"promo_codes": mill().catalogue.promos.list(actor=require_actor())}


@api.post("/promo-codes")
@api.input(IdempotencyHeaders, location="headers", arg_name="headers_data")
@api.input(DryRunQuery, location="query", unknown=RAISE)
@api.input(PromoIn, location="json")
@api.output(PromoDetailOut, status_code=201)
@documented(*WRITE_ERRORS, responses=dry_run_answer("PromoDetailOut"),
            summary="Create a promo code (manage_promotions); honours Idempotency-Key")
def create_promo_code(headers_data: dict[str, Any], query_data: dict[str, Any],
                      json_data: dict[str, Any]) -> Any:
    dry_run = query_data["dry_run"]
    return idempotent("POST /api/v1/promo-codes", "promo code", headers_data, dry_run,
                      lambda: mill().catalogue.promos.create(
                          json_data, actor=require_actor(), dry_run=dry_run))


@api.get("/promo-codes/<code>")
@api.output(PromoDetailOut)
@documented(403, 404, summary="A promo code with its history")
def show_promo_code(code: str) -> Any:
    return mill().catalogue.promos.get(code, actor=require_actor())


@api.patch("/promo-codes/<code>")
@api.input(DryRunQuery, location="query", unknown=RAISE)
@api.input(PromoPatchIn, location="json")
@api.output(PromoDetailOut)
@documented(*WRITE_ERRORS, summary="Edit a promo code: only the fields sent change")
def edit_promo_code(code: str, query_data: dict[str, Any], json_data: dict[str, Any]) -> Any:
    return mill().catalogue.promos.update(code, json_data, actor=require_actor(),
                                          dry_run=query_data["dry_run"])


@api.post("/promo-codes/<code>/disable")
@api.input(DryRunQuery, location="query", unknown=RAISE)
@api.output(PromoDetailOut)
@documented(*WRITE_ERRORS, summary="Disable a promo code")
def disable_promo_code(code: str, query_data: dict[str, Any]) -> Any:
    return mill().catalogue.promos.disable(code, actor=require_actor(),
                                           dry_run=query_data["dry_run"])
