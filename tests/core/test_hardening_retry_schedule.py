"""The outbox's default retry schedule (issue 10, item 4): exponential with jitter, capped,
and more than 24 hours of retries before a job is dead.

The old schedule (2/4/8/16 s, 5 attempts) turned a 30 s SMTP outage into dead jobs. The
jitter is drawn from an injected `random.Random`, so these tests know every delay.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from ordermill import hookimpl
from ordermill.core.app import Ordermill
from ordermill.core.backoff import MINIMUM_SPAN, RetrySchedule
from ordermill.core.errors import ConfigurationError
from ordermill.core.models import OutboxJob, utcnow
from ordermill.core.outbox import Outbox, enqueue
from ordermill.core.settings import Settings
from ordermill.core.specs import JobHandlerSpec, JobRequest, OutboxJobView
from ordermill.testing import ordermill_settings


@pytest.fixture
def ordermill_settings_overrides() -> dict[str, Any]:
    return {"load_plugins": ("restock",)}


def test_default_schedule_spans_more_than_a_day_and_is_capped() -> None:
    settings = Settings.from_env(env={}, database_url="sqlite://", instance_path=Path("."))
    schedule = RetrySchedule(settings.outbox_backoff_seconds,
                             settings.outbox_backoff_max_seconds, settings.outbox_backoff_jitter)
    attempts = settings.outbox_max_attempts
    assert schedule.minimum_span(attempts) >= MINIMUM_SPAN == dt.timedelta(hours=24)
    assert schedule.maximum_span(attempts) <= dt.timedelta(hours=36)
    # exponential from the first retry, then capped at an hour
    assert [schedule.nominal(n) for n in range(1, 10)] == [
        30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    rng = random.Random(1)
    waits = [schedule.delay(n, rng).total_seconds() for n in range(1, attempts)]
    assert all(schedule.nominal(n) <= wait <= settings.outbox_backoff_max_seconds
               for n, wait in enumerate(waits, start=1))
    assert sum(waits) >= MINIMUM_SPAN.total_seconds()
    # a 60 s outage (166 of 166 mails dead before) is far inside the first attempts
    assert sum(waits[:3]) > 60


def test_jitter_is_deterministic_with_a_seeded_random_and_spreads_retries() -> None:
    schedule = RetrySchedule(base_seconds=30, cap_seconds=3600, jitter=0.25)
    seeded = random.Random(42)
    expected = []
    for attempts in (1, 2, 3, 12):
        nominal = schedule.nominal(attempts)
        expected.append(min(nominal + seeded.random() * 0.25 * nominal, 3600))
    rng = random.Random(42)
    assert [schedule.delay(n, rng).total_seconds() for n in (1, 2, 3, 12)] == pytest.approx(
        expected, abs=1e-6)  # timedelta keeps microseconds
    # 166 jobs failing together retry at 166 different moments, within +25 %
    first = [schedule.delay(1, rng).total_seconds() for _ in range(166)]
    assert len(set(first)) == 166
    assert min(first) >= 30 and max(first) <= 37.5
    # no jitter: exactly the nominal schedule
    flat = RetrySchedule(base_seconds=30, cap_seconds=3600, jitter=0)
    assert flat.delay(3, rng).total_seconds() == 120


class Failing:
    @hookimpl
    def register_job_handlers(self, settings: Settings) -> Iterable[JobHandlerSpec]:
        def fail(*, job: OutboxJobView, mill: Ordermill) -> None:
            raise ConnectionRefusedError("SMTP is down")

        return [JobHandlerSpec("test.down", fail)]  # no max_attempts: the outbox's default


def test_a_failed_job_waits_the_jittered_delay_and_is_not_dead_after_five(
    mill: Ordermill, register_plugin: Callable[..., object], tmp_path: Path,
) -> None:
    register_plugin(Failing(), name="test-failing")
    settings = ordermill_settings(mill.settings.database_url, tmp_path,
                                  outbox_backoff_seconds=30.0, load_plugins=("restock",))
    slow = Ordermill(settings, plugins=mill.plugins, engine=mill.engine)
    slow.outbox = Outbox(slow, rng=random.Random(7))
    with slow.write_session() as session, session.begin():
        row = enqueue(session, JobRequest("test.down"),
                      default_max_attempts=slow.settings.outbox_max_attempts)
        assert row is not None
        session.flush()
        job_id = row.id
    expected = RetrySchedule(30.0, 3600.0, 0.25).delay(1, random.Random(7))
    before = utcnow()
    assert slow.outbox.run_once("w1") == 1
    after = utcnow()
    with slow.read_session() as session:
        job = session.get(OutboxJob, job_id)
        assert job is not None
        assert (job.status, job.attempts, job.max_attempts) == ("pending", 1, 32)
        assert before + expected <= job.run_after <= after + expected
    # the old schedule's fifth failure killed the job; now it is still waiting to retry
    for _ in range(4):
        with slow.write_session() as session, session.begin():
            session.execute(OutboxJob.__table__.update().values(run_after=utcnow()))
        slow.outbox.run_once("w1")
    with slow.read_session() as session:
        job = session.get(OutboxJob, job_id)
        assert job is not None and (job.status, job.attempts) == ("pending", 5)


def test_outbox_settings_from_the_environment() -> None:
    env = {"ORDERMILL_OUTBOX_LEASE_SECONDS": "5", "ORDERMILL_OUTBOX_BACKOFF_SECONDS": "0.5",
           "ORDERMILL_OUTBOX_BACKOFF_MAX_SECONDS": "60", "ORDERMILL_OUTBOX_MAX_ATTEMPTS": "40",
           "ORDERMILL_OUTBOX_BACKOFF_JITTER": "0.1"}
    settings = Settings.from_env(env=env, database_url="sqlite://", instance_path=Path("."))
    assert (settings.outbox_lease_seconds, settings.outbox_backoff_seconds,
            settings.outbox_backoff_max_seconds, settings.outbox_max_attempts,
            settings.outbox_backoff_jitter) == (5.0, 0.5, 60.0, 40, 0.1)
    for key, value in (("ORDERMILL_OUTBOX_LEASE_SECONDS", "soon"),
                       ("ORDERMILL_OUTBOX_LEASE_SECONDS", "0"),
                       ("ORDERMILL_OUTBOX_MAX_ATTEMPTS", "2.5")):
        with pytest.raises(ConfigurationError, match=key):
            Settings.from_env(env={key: value}, database_url="sqlite://",
                              instance_path=Path("."))
