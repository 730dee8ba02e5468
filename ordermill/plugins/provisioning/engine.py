"""When services are created and terminated, and how each command's outcome is recorded.

Everything starts inside an action's transaction (`plan_for_event`, the `jobs_for_event`
hook), so what is decided commits with the action or not at all:

* accepted: each active line whose product names a module (or a ticket, or a domain with a
  registrar) gets its service record, a server (chosen in the accept options, else the least
  loaded one of the module with room left), a username and an encrypted password, then its
  create command. WHMCS accept options apply: `autosetup` (run create, default yes unless the
  product says `auto_activate: never`), `server`, `username`, `password`, `send_email`,
  `registrar`, `send_registrar`; per line under `lines: {"<line id>": {...}}`.
* payment that makes the order paid: products with `auto_activate: on_payment` are created
  while the order itself stays pending for review (WHMCS), and e-tickets are issued;
  `on_order` products are created at placement.
* cancelled, refunded, cancel & refund: services of the lines closed are terminated;
  fraud (set by an admin or by a fraud check): every service of the order is terminated.
  Bulk and plain status changes run no module command, as in WHMCS.

Remote commands go through the outbox (job kind `provisioning.command`) and are retried with
backoff; in-transaction modules (e-tickets) run at once. Each line has at most one service
record (a unique index), which every retry reuses: a retried create sends the same service
id and username again and never makes a second service. The outcome of each command is
written on the order as an event (provisioned, provisioning_failed, service_terminated, ...);
what ran inside an action is listed in that action's event under data["provisioning"].

The code, along its seams: `planner` (what an action calls for, decided in its transaction),
`calls` (one command's request and the state its success leaves), `worker` (the outbox job
and its recorded outcome) and `commands` (module buttons by hand, the order's service list).
This module gathers their public names for callers of the engine.
"""

from __future__ import annotations

from ordermill.plugins.provisioning.calls import (
    DONE_STATUS,
    JOB_KIND,
    apply_success,
    build_request,
    service_to_dict,
)
from ordermill.plugins.provisioning.commands import request_command, services_of
from ordermill.plugins.provisioning.planner import (
    CLOSE_EVENTS,
    CREATE_EVENTS,
    NO_CREATE_CATEGORIES,
    RECREATABLE,
    Planner,
    Target,
    choose_server,
    plan_for_event,
    target_for,
)
from ordermill.plugins.provisioning.worker import (
    ACTOR,
    DONE_EVENTS,
    record_failure,
    record_success,
    run_job,
)

__all__ = ["ACTOR", "CLOSE_EVENTS", "CREATE_EVENTS", "DONE_EVENTS", "DONE_STATUS", "JOB_KIND",
           "NO_CREATE_CATEGORIES", "RECREATABLE", "Planner", "Target", "apply_success",
           "build_request", "choose_server", "plan_for_event", "record_failure",
           "record_success", "request_command", "run_job", "service_to_dict", "services_of",
           "target_for"]
