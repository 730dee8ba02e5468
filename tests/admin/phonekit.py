"""Helpers of the phone-width browser test (test_admin_phone.py): the in-page layout check
and the crawl that finds every admin page from the app's url_map.

Imported by name (`from phonekit import ...`), like adminkit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from flask import Flask
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Rule

PHONE = {"width": 390, "height": 844}

# Every visible control of a page (or of one open dialog) must lie inside the viewport
# horizontally. A control inside a scrolling container (overflow-x auto/scroll) counts as
# reachable when that container lies inside the viewport; a control cut off by an ancestor's
# overflow hidden/clip is a failure, and so is hiding the page's own overflow.
LAYOUT_PROBLEMS_JS = r"""
(scope) => {
  const root = scope ? document.querySelector(scope) : document;
  const width = window.innerWidth, height = window.innerHeight;
  const doc = document.documentElement;
  const problems = [];
  const name = (el) => {
    const text = (el.innerText || el.value || el.getAttribute('aria-label') || el.name || '')
      .replace(/\s+/g, ' ').trim().slice(0, 40);
    const testid = el.dataset && el.dataset.testid ? `[data-testid=${el.dataset.testid}]` : '';
    const id = el.id ? `#${el.id}` : '';
    const cls = typeof el.className === 'string' && el.className.trim()
      ? '.' + el.className.trim().split(/\s+/).join('.') : '';
    const type = el.type && el.tagName !== 'BUTTON' ? `[type=${el.type}]` : '';
    return `<${el.tagName.toLowerCase()}${id}${cls}${type}${testid}>` + (text ? ` "${text}"` : '');
  };
  const at = (box) => `x ${Math.round(box.left)}..${Math.round(box.right)}`;
  if (doc.scrollWidth > width) {
    problems.push(`the page is ${doc.scrollWidth} px wide (scrollWidth), ` +
                  `wider than the ${width} px viewport`);
  }
  for (const el of [doc, document.body]) {
    const ox = getComputedStyle(el).overflowX;
    if (ox === 'hidden' || ox === 'clip') {
      problems.push(`${name(el)} has overflow-x: ${ox}: hiding the page's overflow does not count`);
    }
  }
  const controls = root.querySelectorAll(
    'a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button]');
  for (const el of controls) {
    const rect = el.getBoundingClientRect();
    if (rect.width === 0 || rect.height === 0) continue;
    if (!el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})) continue;
    let box = {left: rect.left, right: rect.right};
    let holder = 'the viewport';
    for (let node = el.parentElement; node && node !== doc; node = node.parentElement) {
      const ox = getComputedStyle(node).overflowX;
      if (ox === 'visible') continue;
      const outer = node.getBoundingClientRect();
      if (ox === 'auto' || ox === 'scroll') {
        if (box.left < outer.left - node.scrollLeft - 1) {
          problems.push(`${name(el)} at ${at(box)} lies left of the start of its scrolling ` +
                        `container ${name(node)}: it cannot be scrolled to`);
        }
        box = {left: outer.left, right: outer.right};  // reachable: its container must fit
        holder = `its scrolling container ${name(node)}`;
      } else if (box.left < outer.left - 1 || box.right > outer.right + 1) {
        problems.push(`${name(el)} at ${at(box)} is cut off by overflow-x: ${ox} of ` +
                      `${name(node)} at ${at(outer)} (overflow hidden does not count)`);
        box = {left: Math.max(box.left, outer.left), right: Math.min(box.right, outer.right)};
      }
    }
    if (box.left < -1 || box.right > width + 1) {
      const what = holder === 'the viewport' ? name(el) : `${name(el)} (in ${holder})`;
      problems.push(`${what} at ${at(box)} is not inside the 0..${width} px viewport`);
    }
  }
  if (scope) {
    const rect = root.getBoundingClientRect();
    if (rect.left < -1 || rect.right > width + 1 || rect.top < -1 || rect.bottom > height + 1) {
      problems.push(`${name(root)} opens at x ${Math.round(rect.left)}..` +
                    `${Math.round(rect.right)}, y ${Math.round(rect.top)}..` +
                    `${Math.round(rect.bottom)}: not inside the ` +
                    `${width}x${height} viewport`);
    }
  }
  return problems;
}
"""

# Query-string and path arguments that select a different screen rather than a different
# record (a tab, an action, a settings page): each value is its own page to check. Other
# arguments (order numbers, ids) are records: a few of each route are enough.
SCREEN_ARGUMENTS = frozenset({"name", "tab", "section", "kind", "view"})
RECORDS_PER_ROUTE = 2
NOT_PAGES = frozenset({"static"})  # endpoints (after the blueprint's dot) that serve files


def admin_page_rules(app: Flask) -> list[Rule]:
    """Every GET route under /admin of the app, the core's and the plugins', but files."""
    return sorted((rule for rule in app.url_map.iter_rules()
                   if rule.rule.startswith("/admin") and "GET" in (rule.methods or ())
                   and rule.endpoint.rsplit(".", 1)[-1] not in NOT_PAGES),
                  key=lambda rule: rule.rule)


@dataclass
class Crawl:
    """Which admin URLs to visit: every route once or more, found by following links."""

    app: Flask
    base_url: str
    rules: list[Rule] = field(init=False)
    queue: list[str] = field(default_factory=list)
    seen_urls: set[str] = field(default_factory=set)
    reached: dict[str, str] = field(default_factory=dict)  # endpoint -> the first URL seen
    per_key: dict[tuple[Any, ...], int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rules = admin_page_rules(self.app)
        self._endpoints = {rule.endpoint for rule in self.rules}
        self._adapter = self.app.url_map.bind("localhost")

    def add_routes_without_arguments(self) -> None:
        for rule in self.rules:
            if not rule.arguments:
                self.add(self._adapter.build(rule.endpoint, {}), force=True)

    def match(self, url: str) -> tuple[str, dict[str, Any]] | None:
        parts = urlsplit(url)
        if parts.scheme not in ("", "http", "https") or \
                (parts.netloc and f"{parts.scheme}://{parts.netloc}" != self.base_url):
            return None
        try:
            endpoint, arguments = self._adapter.match(parts.path, method="GET")
        except HTTPException:
            return None
        if endpoint not in self._endpoints:
            return None
        return str(endpoint), {**dict(parse_qsl(parts.query)), **arguments}

    def add(self, url: str, *, force: bool = False) -> None:
        """Queue a link if it is an admin page and its route still wants a sample."""
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        found = self.match(path)
        if found is None or path in self.seen_urls:
            return
        endpoint, arguments = found
        key = (endpoint, *sorted((name, str(value)) for name, value in arguments.items()
                                 if name in SCREEN_ARGUMENTS))
        if not force and self.per_key.get(key, 0) >= RECORDS_PER_ROUTE:
            return
        self.per_key[key] = self.per_key.get(key, 0) + 1
        self.seen_urls.add(path)
        self.reached.setdefault(endpoint, path)
        self.queue.append(path)

    def add_links(self, links: Iterable[str]) -> None:
        for link in links:
            self.add(link)

    def unreached(self) -> list[Rule]:
        return [rule for rule in self.rules if rule.endpoint not in self.reached]


# Whether an element is visible as Playwright's is_visible() means it: a box of some size,
# not visibility:hidden, not inside display:none. Read in the page, many at once, so a walk
# pays one round trip per page instead of one per element.
SHOWN_JS = """const shown = (el) => { const box = el.getBoundingClientRect();
  return el.checkVisibility() && getComputedStyle(el).visibility !== "hidden"
    && box.width > 0 && box.height > 0; };"""
DIALOG_TRIGGERS_JS = ("() => { " + SHOWN_JS + """
  return Array.from(document.querySelectorAll("[data-dialog]"))
    .map(el => [el.dataset.dialog || "", shown(el)]); }""")
# Open and done loading: the preview some dialogs fetch on opening has arrived.
DIALOG_READY_JS = ("(name) => { " + SHOWN_JS + """
  const dialog = document.querySelector(`dialog#${name}`);
  return !!dialog && shown(dialog)
    && !dialog.querySelector("[data-preview][data-state=loading]"); }""")
DIALOG_CLOSED_JS = ("(name) => { " + SHOWN_JS + """
  const dialog = document.querySelector(`dialog#${name}`);
  return !dialog || !shown(dialog); }""")


def each_dialog(page: Any, check: Callable[[str], None],
                wanted: Callable[[str], bool] = lambda _name: True) -> None:
    """Open each visible dialog of the page by a real click on its button, wait until it is
    open and its preview loaded, `check(name)`, and close it with Escape (waiting until it is
    gone). The buttons are listed in one round trip; `wanted(name)` False skips one."""
    triggers = page.locator("[data-dialog]")
    for index, (name, shown) in enumerate(page.evaluate(DIALOG_TRIGGERS_JS)):
        if not shown or not wanted(name):
            continue
        triggers.nth(index).click(force=True)  # shown (checked above): no actionability wait
        page.wait_for_function(DIALOG_READY_JS, arg=name)
        check(name)
        page.keyboard.press("Escape")
        page.wait_for_function(DIALOG_CLOSED_JS, arg=name)
