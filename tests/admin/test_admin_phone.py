"""The admin on a phone (390x844) in real headless Chromium against `ordermill serve --demo`.

Every admin page is checked, found without a hand-kept list: each GET route under /admin
of the app's url_map (core and plugins) is visited, routes with arguments through the links
the admin itself shows (orders, invoices, action pages, settings tabs; a new page someone
adds is reached the same way, and the test fails naming any route it could not reach), plus
a set of demo orders of every shape, the login page, the 404 page and a viewer's 403. On
each page, and in each dialog of each order page opened by its button, the document must be
no wider than the viewport and every visible button, link and input must lie inside it
(see phonekit.LAYOUT_PROBLEMS_JS); the collapsed menu must open and show every entry.
Without JavaScript the menu is not collapsed and the same holds.

Screenshots of a few pages go to artifacts/phone-*.png.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import pytest
from phonekit import LAYOUT_PROBLEMS_JS, PHONE, SHOWN_JS, Crawl, each_dialog
from playwright.sync_api import Error as PlaywrightError
from test_admin_browser import (  # noqa: F401  (module-scoped fixtures: one demo server here)
    ARTIFACTS,
    VIEWER_EMAIL,
    VIEWER_PASSWORD,
    _log_in,
    _orders,
    chromium,
    server,
)

from ordermill.core.models import Order
from ordermill.core.statuses import payment_status
from ordermill.web import create_app
from ordermill.web.admin.actions import ACTIONS

pytestmark = [pytest.mark.skipif(sys.platform == "win32", reason="uses SIGTERM"),
              pytest.mark.slow, pytest.mark.xdist_group("browser"), pytest.mark.timeout(900)]

MENU_TOGGLE = "[data-testid=nav-toggle]"
MENU_LINKS = "header nav a[href]"
MAX_REPORTED = 80
INLINE_FORMS = {"comment"}  # a dialog action the order page shows as a form in a card
# Each menu entry's text and whether it is shown (phonekit.SHOWN_JS), in one round trip; the
# menu's state and, once opened, its layout with its entries, in one more.
MENU_ENTRIES_JS = ("(selector) => { " + SHOWN_JS + """
  return Array.from(document.querySelectorAll(selector))
    .map(entry => [entry.innerText.trim(), shown(entry)]); }""")
MENU_STATE_JS = ("([links, toggle]) => { " + SHOWN_JS + """
  const button = document.querySelector(toggle), first = document.querySelector(links);
  return [document.querySelectorAll(links).length, !!button && shown(button),
          !!first && shown(first)]; }""")
OPEN_MENU_JS = (f"([links, toggle]) => [({LAYOUT_PROBLEMS_JS})(null), "
                f"({MENU_ENTRIES_JS})(links), ({MENU_STATE_JS})([links, toggle])[1]]")
SHOTS = {"admin.orders": "phone-orders.png", "admin.order": "phone-order.png",
         "admin.new_order": "phone-new-order.png", "admin.payments": "phone-payments.png"}


def _order_shapes(orders: list[Order]) -> list[str]:
    """One demo order of each shape (status, payment, line kinds, provisioning, refunds,
    fraud checks), so every panel and button of the order page is seen."""
    chosen: dict[tuple[Any, ...], str] = {}
    for order in orders:
        shape = (order.status, payment_status(order),
                 tuple(sorted({line.kind for line in order.lines})),
                 any(line.provisioning_status for line in order.lines),
                 any(line.status != "active" for line in order.lines),
                 any(payment.kind == "refund" for payment in order.payments),
                 len(order.lines) > 2)
        chosen.setdefault(shape, order.number)
    return list(chosen.values())


class Checker:
    """Collects the layout problems of every page and dialog, each named by where it is."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.pages = 0
        self.dialogs: set[str] = set()

    def check(self, page: Any, where: str, scope: str | None = None) -> None:
        for problem in page.evaluate(LAYOUT_PROBLEMS_JS, scope):
            self.problems.append(f"{where}: {problem}")

    def check_menu(self, page: Any, where: str) -> None:
        """Closed, the menu fits; opened by its button, every entry is visible and fits."""
        count, toggled, _first = page.evaluate(MENU_STATE_JS, [MENU_LINKS, MENU_TOGGLE])
        if count == 0:
            return  # a page without the admin's top bar (login, some plugin pages)
        if toggled:  # shown: a real click at its place, without Playwright's actionability wait
            page.locator(MENU_TOGGLE).click(force=True)
            problems, entries, toggled = page.evaluate(OPEN_MENU_JS, [MENU_LINKS, MENU_TOGGLE])
            self.problems.extend(f"{where} (menu open): {problem}" for problem in problems)
        else:
            entries = page.evaluate(MENU_ENTRIES_JS, MENU_LINKS)
        hidden = [text for text, shown in entries if not shown]
        if hidden:
            self.problems.append(f"{where}: menu entries {hidden} cannot be reached: not shown "
                                 f"and no visible {MENU_TOGGLE} button opens them")
        if toggled:
            page.locator(MENU_TOGGLE).click(force=True)
            if page.evaluate(MENU_STATE_JS, [MENU_LINKS, MENU_TOGGLE])[2]:
                self.problems.append(f"{where}: the menu button does not close the menu")

    def check_dialogs(self, page: Any, where: str) -> None:
        """Open every dialog of the page by its own button and check it, then close it."""
        def check(name: str) -> None:
            self.check(page, f"{where} dialog #{name}", f"dialog#{name}")
            self.dialogs.add(name)

        each_dialog(page, check)

    def report(self, name: str) -> str:
        """The first problems for the assertion; all of them in artifacts/<name>."""
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / name).write_text("\n".join(self.problems) + "\n", encoding="utf-8")
        shown = self.problems[:MAX_REPORTED]
        more = len(self.problems) - len(shown)
        return (f"{len(self.problems)} layout problems at {PHONE['width']}x{PHONE['height']} "
                f"on {self.pages} pages and {len(self.dialogs)} dialogs:\n  "
                + "\n  ".join(shown)
                + (f"\n  ... and {more} more (all in artifacts/{name})" if more > 0 else ""))


def _visit(page: Any, context: Any, url: str, path: str) -> tuple[bool, str]:
    """Open a page; (True, final path) if it is HTML, (False, type) for a file (CSV, PDF)."""
    try:  # one request per page: the browser's answer tells its type
        answer = page.goto(url + path)
    except PlaywrightError:  # a download (CSV, PDF) does not open as a page
        answer = context.request.get(url + path, max_redirects=5)
    kind = answer.headers.get("content-type", "") if answer is not None else ""
    if not kind.startswith("text/html"):
        return False, kind
    return True, page.url.removeprefix(url)


@pytest.fixture
def phone(chromium: Any) -> Iterator[Any]:  # noqa: F811
    def new(**options: Any) -> Any:
        context = chromium.new_context(viewport=PHONE, **options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context

    contexts: list[Any] = []
    yield new
    for context in contexts:
        context.close()


def _tracked_skus(mill: Any) -> list[str]:
    from sqlalchemy import select

    from ordermill.core.models import Product

    with mill.read_session() as session:
        return list(session.scalars(select(Product.sku).where(Product.stock.is_not(None))
                                    .order_by(Product.id)))


def _crawl(phone: Any, server: dict[str, Any], *, javascript: bool) -> Checker:  # noqa: F811
    url, mill = server["url"], server["mill"]
    app = create_app(mill)
    checker = Checker()
    context = phone(java_script_enabled=javascript)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    _log_in(page, url, server["email"], server["password"])

    crawl = Crawl(app, url)
    crawl.add_routes_without_arguments()
    for number in _order_shapes(_orders(mill)):
        crawl.add(f"/admin/orders/{number}", force=True)
    for sku in _tracked_skus(mill)[:1]:  # the stock dialog's own page (no-JS fallback)
        crawl.add(f"/admin/products/{sku}/stock", force=True)
    files: list[str] = []
    shots = dict(SHOTS) if javascript else {}
    while crawl.queue:
        path = crawl.queue.pop(0)
        is_page, final = _visit(page, context, url, path)
        if not is_page:
            files.append(f"{path} ({final})")
            continue
        checker.pages += 1
        where = path if final == path else f"{path} (-> {final})"
        checker.check(page, where)
        checker.check_menu(page, where)
        endpoint = (crawl.match(final) or ("", {}))[0]
        if endpoint in shots:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / shots.pop(endpoint)))
        if javascript:
            checker.check_dialogs(page, where)
        crawl.add_links(page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"))

    missing = [f"{rule.rule} ({rule.endpoint})" for rule in crawl.unreached()
               if rule.endpoint != "admin.login"]  # logged in, it sends you on: seen below
    assert not missing, (
        f"admin routes the phone test never reached: {missing}; no admin page links to them. "
        "Link them from a page (a menu entry, a list) or give the test a sample URL.")

    for path in ("/admin/no-such-page", "/admin/orders/NO-SUCH-ORDER"):
        page.goto(url + path)
        checker.pages += 1
        checker.check(page, f"{path} (404)")
        checker.check_menu(page, f"{path} (404)")

    viewer = phone(java_script_enabled=javascript).new_page()
    _log_in(viewer, url, VIEWER_EMAIL, VIEWER_PASSWORD)
    viewer.goto(url + "/admin/settings/statuses")
    checker.pages += 1
    checker.check(viewer, "/admin/settings/statuses as a viewer (403)")
    checker.check_menu(viewer, "/admin/settings/statuses as a viewer (403)")

    anonymous = phone(java_script_enabled=javascript).new_page()
    anonymous.goto(url + "/admin/login")
    checker.pages += 1
    checker.check(anonymous, "/admin/login (logged out)")
    assert errors == [], f"JavaScript errors on the admin's pages: {errors}"
    assert checker.pages > 20, f"only {checker.pages} admin pages found"

    return checker


def test_every_admin_page_and_dialog_fits_a_phone(phone: Any,
                                                  server: dict[str, Any]) -> None:  # noqa: F811
    checker = _crawl(phone, server, javascript=True)
    report = checker.report("phone-problems.txt")
    expected = {f"dlg-{action.name}" for action in ACTIONS.values()
                if action.dialog and action.name not in INLINE_FORMS}
    assert expected <= checker.dialogs, (
        f"dialogs of the order page no demo order offered, so never checked on a phone: "
        f"{sorted(expected - checker.dialogs)} (opened: {sorted(checker.dialogs)})")
    if checker.problems:
        pytest.fail(report, pytrace=False)


def test_without_javascript_every_admin_page_fits_a_phone_with_its_menu_open(
        phone: Any, server: dict[str, Any]) -> None:  # noqa: F811
    checker = _crawl(phone, server, javascript=False)
    report = checker.report("phone-problems-no-js.txt")
    if checker.problems:
        pytest.fail(report, pytrace=False)


@pytest.mark.parametrize("width", [1440, 1024])
def test_at_desktop_width_the_menu_shows_every_entry_and_no_menu_button(
        chromium: Any, server: dict[str, Any], width: int) -> None:  # noqa: F811
    context = chromium.new_context(viewport={"width": width, "height": 900})
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        _log_in(page, server["url"], server["email"], server["password"])
        assert not page.locator(MENU_TOGGLE).is_visible()
        entries = page.locator(MENU_LINKS)
        assert entries.count() >= 5
        assert all(entry.is_visible() for entry in entries.all())
        assert page.evaluate(LAYOUT_PROBLEMS_JS, None) == []
    finally:
        context.close()
