"""docs/plugins.md, "Translating a plugin", runs as written: its `i18n-example: <file>` blocks
are written to a temporary folder (the plugin, its template, its catalog and babel.cfg), the
plugin is imported, and the `i18n-example-test` block is executed here, so pytest runs it with
the kit. The documented extraction finds exactly the messages the catalog translates."""

from __future__ import annotations

import atexit
import importlib
import re
import shutil
import sys
import tempfile
from pathlib import Path

import pytest  # noqa: F401  (the documented test uses it)
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from ordermill.api import use_locale

DOC = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"
SECTION = DOC.read_text(encoding="utf-8").split("## Translating a plugin", 1)[1].split("\n## ")[0]
FILES = dict(re.findall(r"<!-- i18n-example: (\S+) -->\s*```\w+\n(.*?)```", SECTION, re.S))
TESTS = re.findall(r"<!-- i18n-example-test -->\s*```python\n(.*?)```", SECTION, re.S)
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None}

FOLDER = Path(tempfile.mkdtemp(prefix="ordermill-i18n-example-"))
atexit.register(shutil.rmtree, FOLDER, True)  # templates and catalogs are read until the end
for _path, _code in FILES.items():
    (FOLDER / _path).parent.mkdir(parents=True, exist_ok=True)
    (FOLDER / _path).write_text(_code, encoding="utf-8")
sys.path.insert(0, str(FOLDER))
try:
    tour_hello = importlib.import_module("tour_hello")
finally:
    sys.path.remove(str(FOLDER))


def _method_map() -> list[tuple[str, str]]:
    """babel.cfg of the section, as babel's extractor takes it."""
    sections = re.findall(r"^\[(\w+): (.+)\]$", FILES["babel.cfg"], re.M)
    return [(pattern, method) for method, pattern in sections]


def extracted_messages() -> set[str]:
    """What the documented `pybabel extract` finds in the plugin (singular msgids)."""
    found = extract_from_dir(str(FOLDER), _method_map(), keywords=KEYWORDS)
    return {message if isinstance(message, str) else message[0]
            for _file, _line, message, _comments, _context in found}


def catalog_messages(language: str) -> set[str]:
    path = (FOLDER / "tour_hello" / "translations" / language / "LC_MESSAGES"
            / "ordermill_tour_hello.po")
    with path.open("rb") as fp:
        catalog = read_po(fp, locale=language)
    for message in catalog:
        if message.id:
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            assert all(strings) and not message.fuzzy, message.id
    return {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}


for _block in TESTS:
    exec(compile(_block, str(DOC), "exec"), globals())


def test_the_section_is_all_collected() -> None:
    assert set(FILES) == {"tour_hello/__init__.py", "tour_hello/templates/hello.html",
                          "babel.cfg",
                          "tour_hello/translations/fr/LC_MESSAGES/ordermill_tour_hello.po"}
    assert len(TESTS) == 1 and "def test_hello_plugin_speaks_french" in TESTS[0]
    assert "test_hello_plugin_speaks_french" in globals()


def test_a_language_without_a_catalog_reads_the_source() -> None:
    with use_locale("uk"):
        assert tour_hello.tickets(3) == "3 tickets"
    with use_locale("fr"):
        assert tour_hello._("Hello %(name)s!", name="<Zoé>") == "Bonjour <Zoé> !"

