"""What every hook receives as `ctx`: the app, its settings, who acts, and the transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs
from sqlalchemy.orm import Session

from ordermill.core.settings import Settings
from ordermill.core.specs import Actor, JobRequest

if TYPE_CHECKING:
    from ordermill.core.app import Ordermill


@attrs.define
class ActionContext:
    """The context of one action.

    `session` is the action's open transaction during in-transaction hooks and None in
    after-commit hooks. `dry_run` is true when the action will be rolled back: a plugin must
    then call no outside service.
    """

    mill: Ordermill
    actor: Actor
    action: str
    session: Session | None = None
    dry_run: bool = False
    jobs: list[JobRequest] = attrs.field(factory=list)
    notes: dict[str, Any] = attrs.field(factory=dict)

    @property
    def settings(self) -> Settings:
        return self.mill.settings

    def plugin_config(self, name: str) -> Any:
        return self.mill.settings.plugin_config(name)

    def enqueue(self, job: JobRequest) -> None:
        """Queue outside work in this action's transaction (written when the event is)."""
        self.jobs.append(job)

    def outside_call(self, what: str) -> None:
        """Say, just before it, that the action calls a service outside the database (e.g.
        "the Stripe refund"): a lost database connection then fails the action with an error
        naming it instead of running the action, and so the call, a second time."""
        self.notes.setdefault("outside_calls", []).append(what)
