"""Dead background jobs over HTTP: list them, and retry them in bulk after an outage.

Both need the `manage_jobs` permission (the core checks it). The caller is authenticated
before the body or query is validated, so an anonymous caller learns nothing about fields.
Schemas live here, not in schemas.py, to keep that module from growing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from marshmallow import RAISE, Schema, fields, validate

from ordermill.core.dead_jobs import (
    MAX_TEXT,
    DeadJobFilter,
    dead_job_count,
    list_dead_jobs,
    retry_dead_jobs,
)
from ordermill.core.i18n import lazy_gettext
from ordermill.web.api import api, documented
from ordermill.web.api.schemas import MAX_INT, DryRunQuery, QuerySchema
from ordermill.web.auth import mill, require_actor

F = TypeVar("F", bound=Callable[..., Any])
NUMBER = validate.Regexp(r"^[0-9]{10}$", error=lazy_gettext("An order number is 10 digits."))


def _authenticated_first(view: F) -> F:
    """401 before any 422: validation runs inside the wrapped view."""
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        require_actor()
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _filter_fields() -> dict[str, fields.Field]:
    return {
        "kind": fields.String(load_default=None, validate=validate.Length(min=1, max=100),
                              metadata={"description": "Only jobs of this kind, e.g. "
                                                       "notify_email.send."}),
        "order_number": fields.String(load_default=None, validate=NUMBER,
                                      metadata={"description": "Only jobs of this order."}),
        "error_contains": fields.String(
            load_default=None, validate=validate.Length(min=1, max=MAX_TEXT),
            metadata={"description": "Only jobs whose last error contains this text "
                                     "(any case)."}),
    }


DeadJobQuery = QuerySchema.from_dict({
    **_filter_fields(),
    "limit": fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000)),
}, name="DeadJobQuery")


class StrictBoolean(fields.Boolean):
    """JSON true or false only: 0 and "no" are refused, since "all" retries everything."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class DeadJobRetryIn(Schema):
    kind = _filter_fields()["kind"]
    order_number = _filter_fields()["order_number"]
    error_contains = _filter_fields()["error_contains"]
    ids = fields.List(fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_INT)),
                      load_default=list, validate=validate.Length(max=1000),
                      metadata={"description": "Only these job ids."})
    all = StrictBoolean(load_default=False, metadata={
        "description": "Retry every dead job; needed when no other filter is given."})


class DeadJobOut(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    status = fields.String(required=True)
    attempts = fields.Integer(required=True)
    max_attempts = fields.Integer(required=True)
    order_number = fields.String(required=True, allow_none=True)
    last_error = fields.String(required=True, allow_none=True)
    created_at = fields.String(required=True)
    run_after = fields.String(required=True)
    finished_at = fields.String(required=True, allow_none=True)


class DeadJobListOut(Schema):
    total_dead = fields.Integer(required=True, metadata={
        "description": "Every dead job, whatever the filter."})
    jobs = fields.List(fields.Nested(DeadJobOut), required=True)


class DeadJobRetryOut(Schema):
    dry_run = fields.Boolean(required=True)
    count = fields.Integer(required=True)
    job_ids = fields.List(fields.Integer(), required=True)
    filter = fields.String(required=True)


def _job_filter(data: dict[str, Any]) -> DeadJobFilter:
    return DeadJobFilter(kind=data.get("kind"), order_number=data.get("order_number"),
                         error_contains=data.get("error_contains"),
                         ids=tuple(data.get("ids") or ()), everything=bool(data.get("all")))


@api.get("/jobs/dead")
@_authenticated_first
@api.input(DeadJobQuery, location="query", unknown=RAISE)
@api.output(DeadJobListOut)
@documented(403, summary="Dead background jobs (failed on every attempt), newest first")
def dead_jobs(query_data: dict[str, Any]) -> Any:
    jobs = list_dead_jobs(mill(), _job_filter(query_data), actor=require_actor(),
                          limit=query_data["limit"])
    return {"total_dead": dead_job_count(mill()), "jobs": jobs}


@api.post("/jobs/dead/retry")
@_authenticated_first
@api.input(DryRunQuery, location="query", unknown=RAISE)
@api.input(DeadJobRetryIn, location="json")
@api.output(DeadJobRetryOut)
@documented(400, 403, summary="Retry dead jobs in bulk: all of a kind, an order, or a filter")
def retry_dead(query_data: dict[str, Any], json_data: dict[str, Any]) -> Any:
    """Each matching dead job gets a fresh set of attempts, due now; one `job_retried` event
    per order says who retried it."""
    result = retry_dead_jobs(mill(), _job_filter(json_data), actor=require_actor(),
                             dry_run=query_data["dry_run"])
    return result.to_dict()


__all__ = ["dead_jobs", "retry_dead"]
