"""The order service: every action of the seeds, one transaction and one history event each.

Each action follows the same path (`_run`): check the actor's permission, load and lock the
order, check the expected version (optimistic locking), do the work, write the event, let
plugins queue outbox jobs, commit, then run the after-commit hooks. A dry run takes the very
same path and rolls back at the end, so a preview can never disagree with the action.

The service is split along its seams, one mixin per module, composed here into `OrderService`
(reached as `mill.orders`):

* runner.py: the action runner (`_run`, `editing`, locking, history, jobs, after-commit, preview)
* reading.py: `get`, `history`, `describe`
* steps.py: steps several actions share (status moves, line picking, stock, fraud checks)
* placing.py: `place`
* workflow.py: accept, fraud, back to pending, set status (one or many), re-run fraud checks
* cancelling.py: cancel, refund, cancel and refund, delete
* money_in.py: payments, mark paid, the gateways' refunds and notices
* edits.py: add lines, edit the buyer, comments, dispatch and delivery
* documents.py: issue the invoice by hand (core.invoicing numbers it)
"""

from __future__ import annotations

from ordermill.core.orders.cancelling import CancelRefundActions
from ordermill.core.orders.documents import DocumentActions
from ordermill.core.orders.edits import BUYER_FIELDS, EditingActions
from ordermill.core.orders.money_in import MoneyInActions
from ordermill.core.orders.placing import NUMBER_ATTEMPTS, PlacingActions
from ordermill.core.orders.reading import OrderReading
from ordermill.core.orders.runner import (
    ActionResult,
    ActionRunner,
    BulkResult,
    Change,
    _jsonable,
    _order_loader,
    _valid_number,
)
from ordermill.core.orders.steps import OrderSteps, _allocate_to_lines, _minor
from ordermill.core.orders.workflow import WorkflowActions


class OrderService(OrderReading, PlacingActions, WorkflowActions, CancelRefundActions,
                   MoneyInActions, EditingActions, DocumentActions):
    """All order actions. Reached as `mill.orders`; `OrderService(mill)`."""


__all__ = [
    "BUYER_FIELDS",
    "NUMBER_ATTEMPTS",
    "ActionResult",
    "ActionRunner",
    "BulkResult",
    "Change",
    "OrderService",
    "OrderSteps",
    "_allocate_to_lines",
    "_jsonable",
    "_minor",
    "_order_loader",
    "_valid_number",
]
