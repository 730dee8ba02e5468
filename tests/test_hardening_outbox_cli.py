"""`ordermill outbox retry-dead` (issue 10, item 4): dead jobs retried in bulk from a shell."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from ordermill.cli import main
from ordermill.core.app import Ordermill
from ordermill.core.models import OutboxJob
from ordermill.core.outbox import enqueue
from ordermill.core.settings import Settings
from ordermill.core.specs import JobRequest

Invoke = Callable[..., Result]


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for key in list(os.environ):
        if key.startswith("ORDERMILL_"):
            monkeypatch.delenv(key)
    return {"ORDERMILL_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite'}",
            "ORDERMILL_INSTANCE_PATH": str(tmp_path / "instance")}


@pytest.fixture
def invoke(cli_env: dict[str, str]) -> Invoke:
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> Result:
        result = runner.invoke(main, list(args), env=cli_env)
        assert "Traceback" not in result.output
        assert result.exit_code == code, (result.output, result.exception)
        return result

    return run


@pytest.fixture
def cli_mill(cli_env: dict[str, str], invoke: Invoke) -> Iterator[Ordermill]:
    invoke("init")
    mill = Ordermill(Settings.from_env(env=cli_env))
    yield mill
    mill.dispose()


def dead_jobs(mill: Ordermill, *kinds: str) -> list[int]:
    with mill.write_session() as session, session.begin():
        rows = [enqueue(session, JobRequest(kind=kind, max_attempts=1)) for kind in kinds]
        session.flush()
        ids = [row.id for row in rows if row is not None]
    mill.outbox.run_until_empty("test-worker")
    return ids


def statuses(mill: Ordermill) -> dict[int, str]:
    with mill.read_session() as session:
        return {row.id: row.status for row in session.scalars(select(OutboxJob))}


def test_retry_dead_by_kind_error_ids_and_all(invoke: Invoke, cli_mill: Ordermill) -> None:
    mail_a, mail_b, hook, other = dead_jobs(cli_mill, "test.mail", "test.mail", "test.hook",
                                            "test.other")
    assert set(statuses(cli_mill).values()) == {"dead"}

    refused = invoke("outbox", "retry-dead", code=1)
    assert "Say which dead jobs to retry" in refused.output

    preview: dict[str, Any] = json.loads(invoke(
        "outbox", "retry-dead", "--kind", "test.mail", "--dry-run", "--json").stdout)
    assert preview == {"dry_run": True, "count": 2, "job_ids": [mail_a, mail_b],
                       "filter": "kind test.mail"}
    assert set(statuses(cli_mill).values()) == {"dead"}

    out = invoke("outbox", "retry-dead", "--kind", "test.mail").output
    assert f"2 dead job(s) will run again (kind test.mail): {mail_a}, {mail_b}." in out
    assert [statuses(cli_mill)[i] for i in (mail_a, mail_b, hook, other)] == [
        "pending", "pending", "dead", "dead"]

    out = invoke("outbox", "retry-dead", "--error", "TEST.HOOK", "--id", str(hook)).output
    assert "1 dead job(s) will run again" in out and str(hook) in out
    assert "No dead job matches" in invoke("outbox", "retry-dead", "--kind", "nope").output

    invoke("outbox", "retry-dead", "--all")
    assert set(statuses(cli_mill).values()) == {"pending"}
