"""The admin's dead-jobs page and the dead-job count shown in every page's top bar.

After a long outage (SMTP down for more than a day), jobs end up dead; staff must see that
on whatever page they work on, not only if they go looking, so the layout asks
`dead_jobs_count()` on every page. The page lists dead jobs by filter and retries them in
bulk through the core (`manage_jobs`), the very call the API and the CLI make.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from sqlalchemy.exc import SQLAlchemyError

from ordermill.core import queries
from ordermill.core.dead_jobs import (
    DeadJobFilter,
    dead_job_count,
    dead_job_kinds,
    failing_jobs,
    list_dead_jobs,
    retry_dead_jobs,
)
from ordermill.core.errors import InvalidInput
from ordermill.core.i18n import gettext as _
from ordermill.core.i18n import ngettext
from ordermill.core.permissions import require
from ordermill.web.admin import admin_bp
from ordermill.web.admin.common import actor, can, flag, ints, mill, text

log = logging.getLogger("ordermill.admin")
PAGE_LIMIT = 200


def dead_jobs_count() -> int:
    """Dead jobs right now, counted once per request (the layout calls it)."""
    if "ordermill_dead_jobs" not in g:
        try:
            g.ordermill_dead_jobs = dead_job_count(mill())
        except SQLAlchemyError:  # an error page about the database must still render
            log.warning("could not count dead jobs", exc_info=True)
            g.ordermill_dead_jobs = 0
    return int(g.ordermill_dead_jobs)


@admin_bp.app_context_processor
def _dead_jobs_helper() -> dict[str, Any]:
    return {"dead_jobs_count": dead_jobs_count}


def _filter(form: Any) -> DeadJobFilter:
    try:
        ids = tuple(ints(form, "job_id"))
    except InvalidInput:
        raise InvalidInput(_("Job ids are whole numbers."), details={"field": "job_id"}) \
            from None
    return DeadJobFilter(kind=text(form, "kind"), order_number=text(form, "order"),
                         error_contains=text(form, "error"), ids=ids,
                         everything=flag(form, "all"))


@admin_bp.get("/jobs/dead")
def dead_jobs() -> Any:
    """Dead jobs, most recently dead first, with a filter and bulk retry."""
    require(actor(), "manage_jobs")
    error = None
    job_filter = DeadJobFilter()
    try:
        job_filter = _filter(request.args)
        jobs = list_dead_jobs(mill(), job_filter, actor=actor(), limit=PAGE_LIMIT)
    except InvalidInput as refused:
        error, jobs = refused.message, []
    return render_template("admin/jobs_dead.html", jobs=jobs, kinds=dead_job_kinds(mill()),
                           args=request.args, error=error, limit=PAGE_LIMIT,
                           filtered=not job_filter.is_empty)


@admin_bp.get("/attention")
def attention() -> Any:
    """What needs someone: orders flagged "needs attention" (a failed provisioning command, a
    payment on a closed order, a refund the gateway reported oddly) and background jobs that
    failed, dead or still retrying. The job lists need manage_jobs."""
    orders = queries.search_orders(mill(), queries.OrderFilters(needs_attention=True),
                                   actor=actor(), sort="-placed_at", per_page=PAGE_LIMIT)
    jobs = can("manage_jobs")
    return render_template(
        "admin/attention.html", orders=orders.items, order_total=orders.total, jobs=jobs,
        failing=failing_jobs(mill(), actor=actor(), limit=PAGE_LIMIT) if jobs else [],
        dead=list_dead_jobs(mill(), DeadJobFilter(), actor=actor(), limit=PAGE_LIMIT)
        if jobs else [], limit=PAGE_LIMIT)


@admin_bp.post("/jobs/dead/retry")
def retry_dead_jobs_view() -> Any:
    """Retry the ticked jobs, or every dead job matching the filter the form carries."""
    form = request.form
    back = {key: value for key in ("kind", "order", "error") if (value := text(form, key))}
    try:
        job_filter = _filter(form)
        result = retry_dead_jobs(mill(), job_filter, actor=actor())
    except InvalidInput as refused:
        flash(refused.message, "error")
    else:
        if result.count:
            flash(ngettext("%(num)s dead job will run again (%(filter)s).",
                           "%(num)s dead jobs will run again (%(filter)s).", result.count,
                           filter=job_filter.describe()), "success")
        else:
            flash(_("No dead job matched; nothing was retried."), "info")
    return redirect(url_for("admin.dead_jobs", **back))


__all__ = ["attention", "dead_jobs", "dead_jobs_count", "retry_dead_jobs_view"]
