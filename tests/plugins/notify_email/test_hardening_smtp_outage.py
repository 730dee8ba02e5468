"""An SMTP outage only delays mail (issue 10, item 4).

Before: retries after 2/4/8/16 s and 5 attempts, so 60 s of outage left 166 of 166 mails
dead and none was sent when the server came back. Now the default schedule keeps trying for
more than a day. Here time is scaled down (waits of 0.2 s doubling to a cap of 1 s, the
default number of attempts): a real aiosmtpd server is stopped for longer than the old
schedule lasted in total (until every job failed more than 5 times), then started again, and
every message goes out exactly once.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

import pytest

from ordermill.plugins.notify_email.testing import SmtpSink

# the worker runs in a thread: its commits must be real
pytestmark = [pytest.mark.commits, pytest.mark.slow]  # waits out SMTP timeouts

OUTAGE_ATTEMPTS = 6  # the old schedule's whole life was 5 attempts


def test_mail_survives_an_smtp_outage_and_is_sent_when_the_server_is_back(
    mill: Any, make_product: Any, order_factory: Any, smtp: SmtpSink, reconfigure: Any,
) -> None:
    reconfigure(outbox_backoff_seconds=0.2, outbox_backoff_max_seconds=1.0)
    assert mill.settings.outbox_max_attempts >= 30
    make_product("TSHIRT", price=1000)
    smtp.stop()
    for i in range(3):  # confirmation, team notice, payment received: 9 messages
        order_factory(paid=True, email=f"buyer{i}@example.com")
    queued = sum(mill.outbox.counts().values())
    assert queued == 9

    stop = threading.Event()
    worker = threading.Thread(target=mill.outbox.run_forever, args=(stop,),
                              kwargs={"poll_seconds": 0.05, "worker_id": "outage-worker"},
                              daemon=True)
    worker.start()
    try:
        deadline = time.monotonic() + 60
        while (min(job["attempts"] for job in mill.outbox.jobs()) < OUTAGE_ATTEMPTS
               and time.monotonic() < deadline):
            time.sleep(0.1)
        during = mill.outbox.jobs()
        assert {job["status"] for job in during} <= {"pending", "running"}, during
        assert all(job["attempts"] >= OUTAGE_ATTEMPTS for job in during), during
        assert any("ConnectionRefusedError" in (job["last_error"] or "") for job in during)
        smtp.start()
        deadline = time.monotonic() + 30
        while mill.outbox.counts() != {"done": queued} and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop.set()
        worker.join(timeout=30)
    assert mill.outbox.counts() == {"done": queued}
    ids = Counter(str(message["Message-ID"]) for message in smtp.messages)
    assert len(ids) == queued and set(ids.values()) == {1}
    history = [event.type for number in {m["X-Ordermill-Order"] for m in smtp.messages}
               for event in mill.orders.history(number)]
    assert history.count("email_sent") == queued and "job_dead" not in history
