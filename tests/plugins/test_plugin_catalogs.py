"""Every built-in plugin that translates ships a complete catalog of its own domain.

For each plugin package with a `Domain(...)`, the messages `pybabel extract` finds in its
Python files and templates (e-mail .txt included) must be in
`translations/<lang>/LC_MESSAGES/ordermill_<plugin>.po` for every shipped language, translated
(no empty, no fuzzy entry) with the same placeholders. A new string left out fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from ordermill.api import LANGUAGES

PLUGINS = Path(__file__).resolve().parents[2] / "ordermill" / "plugins"
TRANSLATED = [lang for lang in LANGUAGES if lang != "en"]
METHODS = [("**/templates/**.html", "jinja2"), ("**/templates/**.txt", "jinja2"),
           ("**.py", "python")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None,
            "lazy_ngettext": (1, 2), "pgettext": ((1, "c"), 2), "N_": None,
            "event_msg": None, "event_ngettext": (1, 2)}  # history messages, as the core's
PLACEHOLDER = re.compile(r"%\([a-z_0-9]+\)[sd]")
WITH_DOMAIN = sorted(path.parent.name for path in PLUGINS.glob("*/*.py")
                     if "Domain(" in path.read_text(encoding="utf-8"))


def extracted(plugin: str) -> dict[tuple[str | None, str], tuple[str, ...]]:
    """{(context, msgid): (msgid[, msgid_plural])} of the plugin's source."""
    found: dict[tuple[str | None, str], tuple[str, ...]] = {}
    for _file, _line, message, _comments, context in extract_from_dir(
            str(PLUGINS / plugin), METHODS, keywords=KEYWORDS):
        ids = (message,) if isinstance(message, str) else tuple(message)
        if ids[0]:
            found[(context, ids[0])] = ids
    return found


def catalog(plugin: str, language: str) -> Catalog:
    path = (PLUGINS / plugin / "translations" / language / "LC_MESSAGES"
            / f"ordermill_{plugin}.po")
    assert path.exists(), f"{plugin} has no {language} catalog at {path}"
    with path.open("rb") as fp:
        return read_po(fp, locale=language, domain=f"ordermill_{plugin}")


def test_the_plugins_that_translate() -> None:
    assert {"notify_email", "payment_banktransfer"} <= set(WITH_DOMAIN)


@pytest.mark.parametrize("plugin", WITH_DOMAIN)
@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_is_translated(plugin: str, language: str) -> None:
    messages = extracted(plugin)
    assert messages, f"{plugin} declares a Domain but marks no message"
    shipped = catalog(plugin, language)
    assert not shipped.fuzzy, f"{plugin} {language}: the catalog header is fuzzy"
    problems: list[str] = []
    for (context, msgid), ids in messages.items():
        entry = shipped.get(ids[0] if len(ids) == 1 else ids, context=context)
        if entry is None:
            problems.append(f"missing: {msgid!r}")
            continue
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if entry.fuzzy or not all(s.strip() for s in strings):
            problems.append(f"empty or fuzzy: {msgid!r}")
        expected = set(PLACEHOLDER.findall(" ".join(ids)))
        for text in strings:
            used = set(PLACEHOLDER.findall(text))
            if used - expected or (len(ids) == 1 and used != expected):
                problems.append(f"placeholders differ: {msgid!r} -> {text!r}")
    assert problems == [], f"{plugin} ({language}): " + "; ".join(problems)


@pytest.mark.parametrize("language", TRANSLATED)
def test_plural_forms_of_the_language(language: str) -> None:
    expected = {"fr": 2, "id": 1, "ru": 3, "uk": 3}[language]
    for plugin in WITH_DOMAIN:
        assert catalog(plugin, language).num_plurals == expected, plugin
