"""The admin in other languages, in real headless Chromium against `ordermill serve --demo`.

(a) In the pseudo-locale (Accept-Language: en-XA, offered because the server runs with
ORDERMILL_PSEUDO_LOCALE=1) every admin page is walked, found as the phone test finds them
(every GET route of the url_map, core and plugins, through the admin's own links, plus demo
orders of every shape, whose dialogs are opened, the refund dialog among them). Every visible
text node must be pseudo-localized ("[Ŏŕdéŕś]") or data. What counts as data is decided in
`data_problems`: after removing the bracketed (translated) parts, each remaining word must
carry a digit, an "@" or a dot inside it (amounts, dates, numbers, e-mails, domains, codes),
or be a word of the demo database's own values (buyer, product, customer and staff names,
SKUs, categories, addresses, comments typed by staff: `data_vocabulary`), or be on the short
allow-list below of what is not translated on purpose. History messages (`message` columns)
are not data: they are the core's sentences and must be translated too. Every offending
text is listed with its route in artifacts/i18n-pseudo-problems.txt and the assertion.

(b) The same walk in French and Indonesian: no page answers 5xx and no page or open dialog is
wider than the window (document.documentElement.scrollWidth <= innerWidth), measured at
desktop width and at 390x844 on each load.
"""

from __future__ import annotations

import contextlib
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from phonekit import PHONE, Crawl, each_dialog
from playwright.sync_api import Error as PlaywrightError
from test_admin_browser import (  # noqa: F401  (module-scoped: this module's own server)
    ARTIFACTS,
    START_TIMEOUT,
    VIEWER_EMAIL,
    VIEWER_PASSWORD,
    _log_in,
    _orders,
    chromium,
    demo_server,
)
from test_admin_phone import _order_shapes, _tracked_skus

from ordermill.core.app import Ordermill
from ordermill.web import create_app

pytestmark = [pytest.mark.skipif(sys.platform == "win32", reason="uses SIGTERM"),
              pytest.mark.slow, pytest.mark.xdist_group("browser"), pytest.mark.timeout(1200)]

DESKTOP = {"width": 1440, "height": 900}
MAX_REPORTED = 120
# Shown untranslated on purpose, not data of the shop: the product's name and logo, and each
# language named in itself in the language switch.
NOT_TRANSLATED = frozenset({"ordermill", "om", "English", "Français", "Bahasa", "Indonesia",
                            "Русский", "Українська"})
# Columns holding text the code writes for people (translated, so never data).
CODE_TEXT_COLUMNS = frozenset({"message", "label", "description", "help"})

VISIBLE_TEXTS_JS = r"""
(scope) => {
  const root = scope ? document.querySelector(scope) : document.body;
  const seen = [];
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  let node;
  while ((node = walker.nextNode())) {
    const text = node.nodeValue.replace(/\s+/g, " ").trim();
    if (!text) continue;
    let el = node.parentElement;
    if (!el || el.closest("script, style, template, textarea, pre, code, title")) continue;
    const box = el.tagName === "OPTION" || el.tagName === "OPTGROUP" ? el.closest("select") : el;
    if (!box || !box.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})) continue;
    if (!scope && el.closest("dialog:not([open])")) continue;
    seen.push([text, el.tagName.toLowerCase()]);
  }
  return seen;
}
"""
OVERFLOW_JS = "() => [document.documentElement.scrollWidth, window.innerWidth]"

BRACKETED = re.compile(r"\[[^\[\]]*\]")  # innermost first: a translation may hold another
OPEN_END = re.compile(r"\[[^\[\]]*$|^[^\[\]]*\]")  # split by markup: "[Çáñçéĺś ... <b>x</b> ...]"
WORD = re.compile(r"[^\W\d_]+(?:['\u2019-][^\W\d_]+)*")  # words, "customer's" too


@pytest.fixture(scope="module")
def server(chromium: Any,  # noqa: F811
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """`ordermill serve --demo` with the pseudo-locale allowed, on a fresh instance."""
    yield from demo_server(tmp_path_factory.mktemp("admin-i18n") / "instance",
                           ORDERMILL_PSEUDO_LOCALE="1")


def _words(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield from WORD.findall(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _words(key)
            yield from _words(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _words(item)


def data_vocabulary(mill: Ordermill) -> set[str]:
    """Every word of the shop's stored values (names, SKUs, addresses, comments, codes,
    JSON options), except the columns of text the code writes (CODE_TEXT_COLUMNS)."""
    words: set[str] = set()
    with mill.read_session() as session:
        connection = session.connection()
        metadata = sa.MetaData()
        metadata.reflect(bind=connection)
        for table in metadata.sorted_tables:
            columns = [column for column in table.columns
                       if column.name not in CODE_TEXT_COLUMNS and isinstance(
                           column.type, (sa.String, sa.Text, sa.JSON))]
            if not columns:
                continue
            for row in connection.execute(sa.select(*columns)):
                for value in row:
                    if isinstance(value, str) and value[:1] in "[{":
                        with contextlib.suppress(ValueError):
                            value = json.loads(value)
                    words.update(_words(value))
    words.update(_words([info.name for info in mill.plugins.plugin_infos()]))  # identifiers
    return words


def data_problems(text: str, vocabulary: set[str]) -> list[str]:
    """The words of a visible text that are neither pseudo-localized nor data."""
    rest, before = text, None
    while rest != before:
        before, rest = rest, BRACKETED.sub(" ", rest)
    rest = OPEN_END.sub(" ", rest)
    bad = []
    for token in rest.split():
        if re.search(r"\d|@", token) or re.search(r"\w\.\w", token):
            continue  # numbers, amounts, dates, e-mails, domains, codes such as INV-2024-1
        for word in WORD.findall(token):
            if word not in vocabulary and word not in NOT_TRANSLATED:
                bad.append(word)
    return bad


class Walk:
    """Visits every admin page (and the order pages' dialogs) and collects what it finds."""

    def __init__(self, page: Any, context: Any, server: dict[str, Any]) -> None:
        self.page, self.context, self.server = page, context, server
        self.url = server["url"]
        self.pages = 0
        self.dialogs: set[str] = set()
        self.errors: list[str] = []
        self.found: dict[str, list[str]] = {}
        self.unreached: list[str] = []

    def _note(self, where: str, problem: str) -> None:
        self.found.setdefault(where, [])
        if problem not in self.found[where]:
            self.found[where].append(problem)

    def run(self, check: Any, *, every_dialog: bool = True) -> None:
        """Every page; on each, its dialogs (with `every_dialog` False, each dialog only the
        first time a page offers it)."""
        crawl = Crawl(create_app(self.server["mill"]), self.url)
        crawl.add_routes_without_arguments()
        for number in _order_shapes(_orders(self.server["mill"])):
            crawl.add(f"/admin/orders/{number}", force=True)
        for sku in _tracked_skus(self.server["mill"])[:1]:  # the stock dialog's own page
            crawl.add(f"/admin/products/{sku}/stock", force=True)
        crawl.add("/admin/no-such-page", force=True)
        while crawl.queue:
            path = crawl.queue.pop(0)
            try:  # one request per page: the browser's answer says the status and the type
                answer = self.page.goto(self.url + path)
            except PlaywrightError:  # a download (CSV, PDF) is no page: its status only
                answer = self.context.request.get(self.url + path, max_redirects=5)
                if answer.status >= 500:
                    self.errors.append(f"{path}: HTTP {answer.status}")
                continue
            if answer is None or answer.status >= 500:
                self.errors.append(f"{path}: HTTP {answer.status if answer else 'no answer'}")
                continue
            if not answer.headers.get("content-type", "").startswith("text/html"):
                continue
            self.pages += 1
            check(self.page, path, None)
            def check_dialog(name: str, path: str = path) -> None:
                check(self.page, f"{path} dialog #{name}", f"dialog#{name}")
                self.dialogs.add(name)

            each_dialog(self.page, check_dialog,
                        lambda name: every_dialog or name not in self.dialogs)
            crawl.add_links(self.page.eval_on_selector_all(
                "a[href]", "links => links.map(a => a.href)"))
        self.unreached = [rule.rule for rule in crawl.unreached()
                          if rule.endpoint != "admin.login"]

    def report(self, name: str, what: str) -> str:
        lines = [f"{where}: {problem}" for where, problems in self.found.items()
                 for problem in problems]
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
        shown = lines[:MAX_REPORTED]
        more = len(lines) - len(shown)
        return (f"{len(lines)} {what} on {self.pages} pages and {len(self.dialogs)} dialogs:\n  "
                + "\n  ".join(shown)
                + (f"\n  ... and {more} more (all in artifacts/{name})" if more > 0 else ""))


def _context(chromium: Any, language: str, viewport: dict[str, int]) -> Any:  # noqa: F811
    context = chromium.new_context(viewport=viewport,
                                   extra_http_headers={"Accept-Language": language})
    context.set_default_timeout(15_000)
    return context


def test_in_the_pseudo_locale_every_visible_text_is_translated_or_data(
        chromium: Any, server: dict[str, Any]) -> None:  # noqa: F811
    vocabulary = data_vocabulary(server["mill"])
    assert "Ada" in vocabulary or len(vocabulary) > 50, "the demo shop's data was not read"
    assert data_problems("[Ŏŕdéŕś] 1234567890 €12.50 ada@example.com", set()) == []
    assert data_problems("Orders", set()) == ["Orders"]
    assert data_problems("[Bïlléd [mŏñthlý]]", set()) == []  # a translation inside another
    assert data_problems("[Çáñçéĺś éŷéŕŷ ĺïñé áñd", set()) == []  # cut by a <strong>
    context = _context(chromium, "en-XA", DESKTOP)
    try:
        page = context.new_page()
        walk = Walk(page, context, server)

        def check(page: Any, where: str, scope: str | None) -> None:
            for text, tag in page.evaluate(VISIBLE_TEXTS_JS, scope):
                bad = data_problems(text, vocabulary)
                if bad:
                    walk._note(where, f"{text!r} <{tag}> (not translated: {' '.join(bad)})")

        page.goto(server["url"] + "/admin/login")
        check(page, "/admin/login (logged out)", None)
        _log_in(page, server["url"], server["email"], server["password"])
        walk.run(check)
    finally:
        context.close()
    assert walk.errors == [], walk.errors
    assert walk.unreached == [], f"admin routes the walk never reached: {walk.unreached}"
    assert walk.pages > 20, f"only {walk.pages} admin pages found"
    assert "dlg-refund" in walk.dialogs, sorted(walk.dialogs)
    gaps = known_gaps()
    matched = {gap for problems in walk.found.values() for problem in problems
               for gap in gaps if gap.search(problem)}
    assert matched == set(gaps), ("fixed gaps to delete from i18n_pseudo_known_gaps.txt: "
                                  f"{sorted(gap.pattern for gap in set(gaps) - matched)}")
    for where in list(walk.found):
        walk.found[where] = [problem for problem in walk.found[where]
                             if not any(gap.search(problem) for gap in gaps)]
        if not walk.found[where]:
            del walk.found[where]
    if walk.found:
        pytest.fail(walk.report("i18n-pseudo-problems.txt",
                                "visible texts neither pseudo-localized nor data"),
                    pytrace=False)


def known_gaps() -> list[re.Pattern[str]]:
    """The listed, still open gaps (tests/admin/i18n_pseudo_known_gaps.txt): the walk fails on
    anything else, and on a listed gap that is gone (so the list only shrinks)."""
    text = (Path(__file__).with_name("i18n_pseudo_known_gaps.txt")).read_text(encoding="utf-8")
    return [re.compile(line) for line in text.splitlines()
            if line.strip() and not line.startswith("#")]


@pytest.mark.parametrize("language", ["fr", "id"])
def test_in_french_and_indonesian_no_page_fails_or_overflows(
        chromium: Any, server: dict[str, Any], language: str) -> None:  # noqa: F811
    """Each page (and open dialog) is measured at desktop width, then at 390x844 on the same
    load: one walk per language instead of one per language and size. Each dialog is opened
    once, on the first page that offers it: its labels are the same on every order, and the
    English phone walk (test_admin_phone.py) opens it on every order shape."""
    context = _context(chromium, language, DESKTOP)
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        _log_in(page, server["url"], server["email"], server["password"])
        assert page.locator("html").get_attribute("lang") == language
        walk = Walk(page, context, server)

        def check(page: Any, where: str, _scope: str | None) -> None:
            """The walk's pages open at desktop width: measured as they are, then at phone
            width, then put back (the assertion proves the first size)."""
            for viewport in (DESKTOP, PHONE):
                if viewport is PHONE:
                    page.set_viewport_size(viewport)
                wide, window = page.evaluate(OVERFLOW_JS)
                assert window == viewport["width"], (window, viewport)
                if wide > window:
                    walk._note(where, f"the page is {wide}px wide in a {window}px window")
            page.set_viewport_size(DESKTOP)

        walk.run(check, every_dialog=False)
    finally:
        context.close()
    assert walk.errors == [], f"5xx answers in {language}: {walk.errors}"
    assert "dlg-refund" in walk.dialogs, sorted(walk.dialogs)
    assert walk.unreached == [], f"admin routes the walk never reached: {walk.unreached}"
    assert errors == [], f"JavaScript errors: {errors}"
    assert walk.pages > 20, f"only {walk.pages} admin pages found"
    if walk.found:
        pytest.fail(walk.report(f"i18n-overflow-{language}.txt",
                                f"layout overflows in {language}"), pytrace=False)
