"""Every string a person reads ships translated (issue 21, acceptance 1 and 5).

The messages marked in Python and templates are extracted as `pybabel extract -F babel.cfg`
does (babel's extract_from_dir with the babel.cfg method map): the core, web and CLI into the
"messages" domain, each plugin package separately into its own `ordermill_<plugin>` domain.
A marked string missing from a shipped language's catalog, an empty or fuzzy entry, or a
translation whose %(name)s placeholders differ from the source fails here, naming the string.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from ordermill.core.i18n import LANGUAGES

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "ordermill"
PLUGINS = PACKAGE / "plugins"
TRANSLATED = tuple(lang for lang in LANGUAGES if lang != "en")
KEYWORDS = {
    "_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None,
    "lazy_ngettext": (1, 2), "pgettext": ((1, "c"), 2), "N_": None, "event_msg": None,
    "event_ngettext": (1, 2),
}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]")
PLUGIN_METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]


Key = tuple[str | tuple[str, ...], str | None]  # (msgid or (singular, plural), context)


def _extract(directory: Path, method_map: list[tuple[str, str]]) -> dict[Key, tuple[str, ...]]:
    """msgid (or (singular, plural)) -> where it is used."""
    found: dict[Key, list[str]] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
            str(directory), method_map, keywords=KEYWORDS):
        msgid = tuple(message[:2]) if isinstance(message, tuple) else message
        if msgid and (not isinstance(msgid, tuple) or msgid[0]):
            found.setdefault((msgid, context), []).append(f"{filename}:{lineno}")
    return {key: tuple(places) for key, places in found.items()}


@cache
def core_messages() -> dict[Key, tuple[str, ...]]:
    with (ROOT / "babel.cfg").open(encoding="utf-8") as fp:
        method_map, _options = parse_mapping_cfg(fp)
    return _extract(ROOT, method_map)


@cache
def plugin_messages(plugin: str) -> dict[Key, tuple[str, ...]]:
    return _extract(PLUGINS / plugin, PLUGIN_METHODS)


@cache
def catalog(path: Path, locale: str) -> Catalog | None:
    if not path.exists():
        return None
    with path.open("rb") as fp:
        return read_po(fp, locale=locale)


def plugin_names() -> list[str]:
    return sorted(p.name for p in PLUGINS.iterdir()
                  if p.is_dir() and (p / "__init__.py").exists())


def _domains() -> Iterator[tuple[str, Path]]:
    """(id, catalog path template with {lang}) of the core and of every plugin."""
    yield "messages", PACKAGE / "translations" / "{lang}" / "LC_MESSAGES" / "messages.po"
    for plugin in plugin_names():
        yield (plugin, PLUGINS / plugin / "translations" / "{lang}" / "LC_MESSAGES"
               / f"ordermill_{plugin}.po")


def _messages_of(domain: str) -> dict[Key, tuple[str, ...]]:
    return core_messages() if domain == "messages" else plugin_messages(domain)


CASES = [(domain, str(path), lang) for domain, path in _domains() for lang in TRANSLATED]


def test_babel_cfg_extracts_the_core_and_not_the_plugins() -> None:
    messages = core_messages()
    assert ("Pending", None) in messages and ("Completed", None) in messages  # status labels
    assert all("ordermill/plugins/" not in place and "/.venv/" not in place
               for places in messages.values() for place in places)


@pytest.mark.parametrize(("domain", "template", "lang"), CASES)
def test_every_marked_string_is_translated(domain: str, template: str, lang: str) -> None:
    marked = _messages_of(domain)
    if not marked:
        return  # a plugin with no strings needs no catalog
    path = Path(template.format(lang=lang))
    found = catalog(path, lang)
    assert found is not None, f"{path.relative_to(ROOT)} is missing ({len(marked)} strings)"
    missing = []
    for (msgid, context), places in sorted(marked.items(), key=lambda item: str(item[0])):
        if found.get(msgid[0] if isinstance(msgid, tuple) else msgid, context) is None:
            missing.append(f"{msgid!r} ({places[0]})")
    assert not missing, (f"{len(missing)} marked strings are not in "
                         f"{path.relative_to(ROOT)}:\n" + "\n".join(missing[:40]))


@pytest.mark.parametrize(("domain", "template", "lang"), CASES)
def test_no_empty_fuzzy_or_broken_translation(domain: str, template: str, lang: str) -> None:
    path = Path(template.format(lang=lang))
    found = catalog(path, lang)
    if found is None:
        return  # a missing catalog fails the test above when the plugin has strings
    problems = []
    for message in found:
        if not message.id:
            continue  # the header
        source = PLACEHOLDER.findall(" ".join(message.id) if isinstance(message.id, tuple)
                                     else message.id)
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy:
            problems.append(f"fuzzy: {message.id!r}")
        if any(not form for form in forms):
            problems.append(f"empty: {message.id!r}")
            continue
        expected = set(source)
        for form in forms:
            shown = set(PLACEHOLDER.findall(form))
            plural_form = isinstance(message.id, tuple)
            if (shown - expected) or (not plural_form and shown != expected):
                problems.append(f"placeholders {sorted(shown)} != {sorted(expected)}: "
                                f"{message.id!r} -> {form!r}")
    expected_plurals = {"fr": 2, "id": 1, "ru": 3, "uk": 3}.get(lang)
    assert expected_plurals is None or found.num_plurals == expected_plurals, (
        f"{path.relative_to(ROOT)}: {lang} has {expected_plurals} plural forms "
        f"(Plural-Forms header), not {found.num_plurals}")
    assert not problems, f"{path.relative_to(ROOT)}:\n" + "\n".join(problems[:40])


def test_the_catalogs_compile_and_translate_a_status() -> None:
    from ordermill.core.i18n import gettext, use_locale

    expected = {"fr": "Annulé", "id": "Dibatalkan", "ru": "Отменён", "uk": "Скасовано"}
    for lang, word in expected.items():
        with use_locale(lang):
            assert gettext("Cancelled") == word
