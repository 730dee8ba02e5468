"""schemathesis against /api/v1/openapi.json, in-process through the WSGI app, with every
check on; one check is off for one operation, and the test says why (WEBHOOK below).

Every operation gets a bounded number of generated requests (valid and invalid ones) with an
admin token, against a shop seeded with products and orders in several states; half of the
generated valid order numbers are replaced by real ones so actions reach the core instead of
stopping at 404. Then the coverage phase sends boundary values, missing parameters,
undocumented methods and OPTIONS. No response may be a 5xx; every response must match the
document (status code, content type, headers, body schema, Allow); a request valid by the
document is accepted or refused only for the state of the shop (404, 409), and an invalid
one is refused. What a document cannot state (the catalogue, cross-field rules) is put into
valid requests by `follow_data_rules`; everything else is declared in the document (see
ordermill/web/api/openapi.py). Generation is derandomized so CI sees the same requests every
run.

The gateway webhook is run too, with the gateways' webhook secrets configured as in
production, and must answer as documented and never a 5xx; but a request the document calls
valid still lacks the gateway's signature over its raw bytes, which no generator can compute,
so it is rightly refused with a 400 and `positive_data_acceptance` is off for that one
operation. tests/plugins/payments/ send it signed events.

Both databases get the same requests. Generation is derandomized and does not depend on the
answers, so the run on one database would generate exactly the cases the other one did: the
first run in a process keeps each case it sends (`sent`), per operation, and the run on the
other database sends copies of them instead of generating them again (generation was about
two thirds of the positive and negative runs' time; the coverage phase's cases are cheap to
make, so each database makes its own). An operation whose run failed is not kept, so the
other database generates its own. Order numbers are drawn
from a counter (`CountedNumbers`) so a kept case's order number names the same order on both.
The six tests share one xdist group, so both databases' runs meet in one process.

The positive and negative cases are also stored in the repository
(tests/web/schemathesis_cases/, see schemathesis_corpus.py), under a hash of everything they
depend on: a fresh clone sends the stored cases instead of generating them, and a run whose
inputs changed generates them and writes the file anew, to be committed with the change.
"""

from __future__ import annotations

import copy
import itertools
import re
from collections.abc import Callable
from typing import Any

import hypothesis.strategies as st
import pytest
import schemathesis
import schemathesis_corpus
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.config import OperationConfig
from schemathesis.core import NOT_SET
from schemathesis.generation.case import Case
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import ignored_auth
from sqlalchemy import func, select

from ordermill import hookimpl
from ordermill.core.app import Ordermill
from ordermill.core.models import OrderEvent
from ordermill.core.specs import Actor

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("schemathesis")]

MAX_EXAMPLES = 20
ORDER_NUMBER = re.compile(r"[0-9]{10}")
WEBHOOK = "POST /api/v1/webhooks/{gateway}"  # signed by the gateway: see the module docstring


@pytest.fixture
def ordermill_settings_overrides() -> dict[str, Any]:
    """The gateways' webhook secrets, so an unsigned event is a 400 as in production (an
    unconfigured gateway answers 500 configuration_error, which makes the gateway resend)."""
    return {"plugins": {"payment_stripe": {"webhook_secret": "whsec_schemathesis"},
                        "payment_paypal": {"webhook_id": "WH-SCHEMATHESIS"}}}


class CountedNumbers:
    """Order numbers 1000000001, 1000000002, ... in the order orders are placed: the same
    requests make the same numbers on both databases."""

    def __init__(self) -> None:
        self.numbers = itertools.count(1_000_000_001)

    @hookimpl
    def generate_order_number(self, ctx: Any) -> str:
        return str(next(self.numbers))


# Cases kept per (mode, operation label) for the other database's run; None for
# an operation with nothing to generate (hypothesis found it Unsatisfiable).
KEPT: dict[tuple[str, str], list[dict[str, Any]] | None] = {}
_SHARED = {id(NOT_SET): NOT_SET}  # schemathesis tests `body is NOT_SET`: not copied


def kept_copy(case: Case) -> dict[str, Any]:
    """Everything of a case but its operation (which holds this database's app), by
    reference: hypothesis drops a case once it has run, so only `from_kept` copies."""
    return {slot: getattr(case, slot) for slot in Case.__slots__ if slot != "operation"}


def from_kept(operation: Any, kept: dict[str, Any]) -> Case:
    """A new case of this database's operation, a deep copy of the kept one in every slot."""
    case: Case = object.__new__(Case)
    object.__setattr__(case, "operation", operation)
    for slot, value in copy.deepcopy(kept, dict(_SHARED)).items():
        object.__setattr__(case, slot, value)
    return case


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every case the test sends, as sent (`follow_data_rules` applied), kept by reference
    (`kept_copy`)."""
    cases: list[dict[str, Any]] = []
    original = Case.call_and_validate

    def call_and_validate(case: Case, *args: Any, **kwargs: Any) -> Any:
        cases.append(kept_copy(case))
        return original(case, *args, **kwargs)

    monkeypatch.setattr(Case, "call_and_validate", call_and_validate)
    return cases


class AuthProbes:
    """`ignored_auth` confirmed once per operation, as schemathesis' own runner does it
    (its `auth_enforced_operations`: "enforcement is a property of the operation, so one
    confirmation per run is enough"). Called by hand, `call_and_validate` has no run to
    remember it in and probed every successful case twice more, without a token and with a
    wrong one: a third of the coverage phase's requests. The first successful case of each
    operation is still probed both ways."""

    def __init__(self) -> None:
        self.confirmed: set[str] = set()

    def send(self, case: Case, headers: dict[str, str]) -> None:
        label = case.operation.label
        if label in self.confirmed:
            case.call_and_validate(headers=headers, excluded_checks=[ignored_auth])
            return
        response = case.call_and_validate(headers=headers)
        if 200 <= response.status_code < 300:  # ignored_auth probed it and it held
            self.confirmed.add(label)


def send_kept(operation: Any, cases: list[dict[str, Any]], headers: dict[str, str],
              probes: AuthProbes) -> None:
    for kept in cases:
        probes.send(from_kept(operation, kept), headers)


@pytest.fixture
def seeded_numbers(mill: Ordermill, make_product: Callable[..., Any],
                   make_promo: Callable[..., Any], order_factory: Callable[..., Any],
                   staff: Actor, register_plugin: Callable[..., Any]) -> list[str]:
    register_plugin(CountedNumbers(), name="counted-numbers")
    make_product("TSHIRT", price=1250, stock=500, category="apparel")
    make_product("MUG", price=800, stock=None, category="kitchen")
    make_product("HOST", price=500, stock=None, kind="service", billing_cycle="monthly")
    make_promo("SAVE10")
    pending = order_factory([("TSHIRT", 2), ("MUG", 1)])
    paid = order_factory([("TSHIRT", 1)], paid=True)
    active = order_factory([("MUG", 2)], paid=True, accepted=True)
    part = order_factory([("TSHIRT", 1), ("MUG", 1)], promo_code="SAVE10")
    mill.orders.record_payment(part.number, actor=staff, amount=500)
    cancelled = order_factory([("HOST", 1)])
    mill.orders.cancel(cancelled.number, actor=staff)
    return [o.number for o in (pending, paid, active, part, cancelled)]


@pytest.fixture
def api_schema(app: Any, seeded_numbers: list[str]) -> Any:
    loaded = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    # The test sends the admin token itself (ignored_auth probes requests without it), and no
    # NUL: the document says text never holds one, but OpenAPI 3.0 cannot say so for the keys
    # and values of free-form objects (test_hardening_api_input proves the 422).
    loaded.config.generation.update(allow_x00=False, with_security_parameters=False)
    # The gateway webhook: valid by the document, yet unsigned (see the module docstring).
    loaded.config.operations.operations.append(OperationConfig.from_dict(
        {"include-name": WEBHOOK, "checks": {"positive_data_acceptance": {"enabled": False}}}))

    @loaded.hook
    def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any]) -> Any:
        if not path_parameters or not ORDER_NUMBER.fullmatch(str(path_parameters.get("number"))):
            return st.just(path_parameters)  # a negative case keeps its invalid number
        real = st.sampled_from(seeded_numbers).map(
            lambda number: {**path_parameters, "number": number})
        return st.one_of(st.just(path_parameters), real)

    return loaded


SKUS = ("TSHIRT", "MUG", "HOST")
EDITS = itertools.count(1)
DATE_RANGES = (("placed_from", "placed_to"), ("created_from", "created_to"), ("from", "to"))


CHOSEN_LINES = ("/cancel", "/refund", "/cancel-and-refund")  # `lines` name the order's lines
FREE_FORM = frozenset({"billing_address", "options"})  # web/api/schemas/fields.py json_object


def within_json_limits(value: Any, depth: int = 0) -> Any:
    """A free-form object cut to the limits the API puts on it (`_json_object_values`: 5
    levels, 50 keys, keys of 100 characters, lists of 100, values of 2,000 characters),
    which OpenAPI 3.0 cannot state for nested keys (it has no `propertyNames`)."""
    if isinstance(value, dict):
        return {} if depth >= 5 else {str(key)[:100]: within_json_limits(item, depth + 1)
                                       for key, item in list(value.items())[:50]}
    if isinstance(value, list):
        return [] if depth >= 5 else [within_json_limits(item, depth + 1)
                                      for item in value[:100]]
    return value[:2000] if isinstance(value, str) else value


def limit_free_form(value: Any) -> None:
    """`within_json_limits` on every free-form object of a request body, wherever it is."""
    if isinstance(value, list):
        for item in value:
            limit_free_form(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key in FREE_FORM and isinstance(item, dict):
                value[key] = within_json_limits(item)
            else:
                limit_free_form(item)


def follow_data_rules(case: Any) -> None:
    """Positive cases only: put in what the document cannot state because it is data or
    spans two fields (an OpenAPI schema has no cross-field rules): skus from the catalogue,
    line and invoice ids of the order (none: the whole order), the one promo code, an
    invoice plan that adds up (none), a module's own credential settings (none), unit
    prices whose line totals stay within the money bound (the catalogue's), a fee no larger
    than its payment (none), a buyer edit that changes something (a new name), no list
    cursor (one comes from a list answer), `all` on a dead-job retry without a filter, date
    ranges that run forward, and free-form objects within their nested limits. Everything the
    document can state it states (order number pattern, live status, gateway and module enums, money
    pattern and bound); negative cases are sent exactly as generated."""
    body = case.body
    limit_free_form(body)
    if isinstance(body, dict):
        if case.operation.label.endswith(CHOSEN_LINES) and body.get("lines") is not None:
            body["lines"] = None  # line ids with quantities of the order: the whole order
        for index, line in enumerate(body.get("lines") or []):
            if isinstance(line, dict):
                line["sku"] = SKUS[index % len(SKUS)]
                line.pop("price_override", None)
        for name, value in (("invoice_plan", None), ("promo_code", "SAVE10"),
                            ("credentials", {}), ("line_ids", None), ("invoice_id", None)):
            if body.get(name) is not None:
                body[name] = value
        if "fee" in body and "amount" in body:
            body["fee"] = "0"
        if isinstance(body.get("customer"), dict) and body["customer"].get("vat_id"):
            body["customer"]["vat_id"] = None  # a real VAT number is data (checksums)
        if case.operation.label.endswith("/sale/confirm"):
            body["sales_manager_id"] = None  # staff ids are data: "system"
        if case.operation.label == "PATCH /api/v1/orders/{number}":  # a buyer edit
            body["name"] = f"Buyer {next(EDITS)}"
        if case.operation.label == "PATCH /api/v1/customers/{customer_id}":  # a change
            body["name"] = f"Customer {next(EDITS)}"
        if case.operation.label == "POST /api/v1/jobs/dead/retry" and not any(
                body.get(name) for name in ("kind", "order_number", "error_contains", "ids")):
            body["all"] = True  # no filter: `all` says so (no accidental retry of everything)
        if case.operation.label == "POST /api/v1/customers/{customer_id}/merge":
            body["merge_id"] = 2 if str(case.path_parameters["customer_id"]) == "1" else 1
    if "/products" in case.operation.label or "/promo-codes" in case.operation.label:
        catalogue_data_rules(case.operation.label, body)
    if case.operation.label in ("POST /api/v1/orders", "POST /api/v1/products",
                                "POST /api/v1/promo-codes"):
        # a key names one request: a reused key with another body is refused, by design
        case.headers = {**{name: value for name, value in (case.headers or {}).items()
                           if name.lower() != "idempotency-key"},
                        "Idempotency-Key": f"key-{next(EDITS)}"}
    query = case.query
    if isinstance(query, dict):
        if "/reports/" in case.operation.label and query.get("currency"):
            query["currency"] = "EUR"  # a known ISO 4217 code is data, not a pattern
        if case.operation.label == "GET /api/v1/orders" and query.get("after"):
            del query["after"]  # a cursor is data: one a list answer gave (next_cursor)
        for start, end in DATE_RANGES:
            if query.get(start) and query.get(end) and str(query[end]) < str(query[start]):
                query[start], query[end] = query[end], query[start]


CATALOGUE_CSV = "sku,name,price,stock\nMUG,Mug,8.00,unlimited\nNEWCSV,New,1.00,3\n"


def catalogue_data_rules(label: str, body: Any) -> None:
    """The catalogue's data: prices in the shop's currency and in USD (a product's currency
    decides its decimals), a CSV with a header, a promo code's value that fits its kind,
    restrictions naming the seeded products, and validity windows left open (a window in the
    past is refused: the code could never be used)."""
    if not isinstance(body, dict):
        return
    if "currency" in body:
        body["currency"] = "EUR"
    if body.get("prices") is not None:
        body["prices"] = {"USD": "1.00"}
    if "csv" in body:
        body["csv"] = CATALOGUE_CSV
    if "promo-codes" not in label:
        return
    for name in ("valid_from", "valid_until"):
        body.pop(name, None)
    if body.get("products") is not None:
        body["products"] = ["TSHIRT"]
    if body.get("categories") is not None:
        body["categories"] = ["apparel"]
    if body.get("min_subtotal") is not None:
        body["min_subtotal"] = {"EUR": "1.00"}
    if body.get("kind") == "fixed" or (body.get("amounts") and "kind" not in body
                                        and label.startswith("PATCH")):
        body["kind"] = "fixed"
        body["amounts"] = {"EUR": "1.00"}
    elif label.startswith("POST") or "kind" in body or "percent" in body:
        body["percent"] = "10"
        body.pop("amounts", None)


REVOKING = ("DELETE /api/v1/auth/tokens/{token_id}", "POST /api/v1/auth/logout")


def _operations(loaded: Any) -> list[Any]:
    """Every operation; the two that can revoke the test's own token go last."""
    operations = [result.ok() for result in loaded.get_all_operations()]
    return sorted(operations, key=lambda op: REVOKING.index(op.label) + 1
                  if op.label in REVOKING else 0)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_api_conforms_to_its_openapi_document(api_schema: Any, tokens: dict[str, str],
                                              mode: GenerationMode, mill: Ordermill,
                                              sent: list[dict[str, Any]],
                                              seeded_numbers: list[str]) -> None:
    """Each operation in turn, so one report lists every operation that fails.

    (Driven by hand rather than by `schemathesis.pytest.from_fixture`, whose lazy loader does
    not run under pytest 9.)
    """
    headers = {"Authorization": f"Bearer {tokens['admin']}"}
    probes = AuthProbes()
    unsatisfiable: list[str] = []
    failures: dict[str, str] = {}
    operations = _operations(api_schema)
    assert len(operations) >= 25
    corpus_key = schemathesis_corpus.corpus_key(api_schema.raw_schema, seeded_numbers)
    stored = schemathesis_corpus.load(mode.value, corpus_key)
    if stored is not None and {op.label for op in operations} <= stored.keys():
        for label, cases in stored.items():  # the cases this run would generate, stored
            KEPT.setdefault((mode.value, label), cases)
    generated = 0

    for operation in operations:
        key = (mode.value, operation.label)
        if key in KEPT:  # stored, or generated for the other database in this process
            kept = KEPT[key]
            if kept is None:
                unsatisfiable.append(operation.label)
                continue
            try:
                send_kept(operation, kept, headers, probes)
            except (Exception, BaseExceptionGroup) as error:
                failures[operation.label] = f"{type(error).__name__}: {error}"[:3000]
            continue
        sent.clear()

        # `run` must stay as it is: derandomize seeds the generation from its source, decorators
        # included (a changed line draws other cases); `sent` copies what it sends
        @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case: Any) -> None:
            if mode is GenerationMode.POSITIVE:
                follow_data_rules(case)
            probes.send(case, headers)

        generated += 1
        try:
            run()
            KEPT[key] = list(sent)
        except Unsatisfiable:
            if mode is GenerationMode.POSITIVE:
                raise
            KEPT[key] = None
            unsatisfiable.append(operation.label)  # nothing but the token to negate
        except (Exception, BaseExceptionGroup) as error:  # collect, report every failure
            failures[operation.label] = f"{type(error).__name__}: {error}"[:3000]
    assert not failures, "\n\n".join(f"{label}\n{text}" for label, text in failures.items())
    if generated == len(operations):  # every operation generated afresh, and each passed
        schemathesis_corpus.save(mode.value, corpus_key, {
            op.label: KEPT[(mode.value, op.label)] for op in operations})
    if mode is GenerationMode.POSITIVE:  # generated calls reached the core, not just 404s
        with mill.read_session() as session:
            acted = session.scalar(select(func.count()).select_from(OrderEvent)
                                   .where(OrderEvent.actor.startswith("token:")))
        assert acted and acted > 0



def test_api_coverage_phase_conforms_to_its_openapi_document(
        api_schema: Any, tokens: dict[str, str]) -> None:
    """schemathesis' coverage phase: boundary values of every parameter, missing required
    ones, and methods and OPTIONS the document does not list (the Allow header must name
    exactly the documented methods; an undocumented method is a 405 with Allow). Its cases
    cost little to make (sending them is the cost), so each database makes its own."""
    headers = {"Authorization": f"Bearer {tokens['admin']}"}
    modes = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
    probes = AuthProbes()
    failures: dict[str, str] = {}
    sent = 0
    for operation in _operations(api_schema):
        config = api_schema.config.generation_for(operation=operation)
        for case in api_schema.iter_coverage_cases(operation, generation_modes=modes,
                                                   generation_config=config):
            if case.meta is not None and case.meta.generation.mode is GenerationMode.POSITIVE:
                follow_data_rules(case)
            sent += 1
            try:
                probes.send(case, headers)
            except (Exception, BaseExceptionGroup) as error:
                failures.setdefault(operation.label, f"{type(error).__name__}: {error}"[:3000])
    assert not failures, "\n\n".join(f"{label}\n{text}" for label, text in failures.items())
    assert sent > 1000
