"""Finding a person's data in text and JSON and putting a pseudonym in its place.

Erasure collects every personal string ordermill ever stored for a customer (the customer's
fields, each order's buyer fields, old values in edit diffs, deleted-order snapshots) and
replaces each whole-word occurrence, case-insensitively, inside strings, lists and objects:
comments and messages stay readable ("Order placed by erased-1f2e...") while no name,
e-mail, phone or address of the person is left.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

MIN_LENGTH = 4  # shorter values (country codes, "en") identify nobody and appear everywhere
MIN_NAME_PART = 3


def strings_in(value: Any) -> Iterable[str]:
    """Every string inside `value` (nested objects and lists included)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from strings_in(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from strings_in(item)


class Scrubber:
    """Replaces the personal strings it was given; e-mail addresses by the pseudonym address,
    everything else by the pseudonym."""

    def __init__(self, pseudonym: str, pseudonym_email: str) -> None:
        self.pseudonym = pseudonym
        self.pseudonym_email = pseudonym_email
        self._replacements: dict[str, str] = {}
        self._pattern: re.Pattern[str] | None = None

    def add_name(self, name: str | None) -> None:
        if not name:
            return
        self._add(name, self.pseudonym)
        for part in re.split(r"[\s,]+", name):
            if len(part) >= MIN_NAME_PART:
                self._add(part, self.pseudonym, minimum=MIN_NAME_PART)

    def add_email(self, email: str | None) -> None:
        if not email:
            return
        self._add(email, self.pseudonym_email)
        local = email.split("@", 1)[0]
        self._add(local, self.pseudonym)

    def add_phone(self, phone: str | None) -> None:
        if not phone:
            return
        self._add(phone, self.pseudonym)
        digits = re.sub(r"\D", "", phone)
        if len(digits) >= 6:
            self._add(digits, self.pseudonym)

    def add_values(self, value: Any) -> None:
        """Every string inside `value` (an address, a snapshot's buyer block)."""
        for text in strings_in(value):
            self._add(text, self.pseudonym)

    def add(self, text: str | None) -> None:
        if text:
            self._add(text, self.pseudonym)

    def _add(self, text: str, replacement: str, *, minimum: int = MIN_LENGTH) -> None:
        text = text.strip()
        if len(text) < minimum or text.lower() in (self.pseudonym, self.pseudonym_email):
            return
        self._replacements.setdefault(text.lower(), replacement)
        self._pattern = None

    @property
    def pattern(self) -> re.Pattern[str] | None:
        if self._pattern is None and self._replacements:
            alternatives = sorted(self._replacements, key=len, reverse=True)
            self._pattern = re.compile(
                r"(?<!\w)(?:" + "|".join(re.escape(a) for a in alternatives) + r")(?!\w)",
                re.IGNORECASE)
        return self._pattern

    @property
    def needles(self) -> list[str]:
        """The personal strings looked for (lower case)."""
        return sorted(self._replacements)

    def text(self, value: str | None) -> str | None:
        pattern = self.pattern
        if value is None or pattern is None:
            return value
        return pattern.sub(lambda m: self._replacements[m.group(0).lower()], value)

    def __call__(self, value: Any) -> Any:
        """`value` with every personal string replaced (objects, lists, strings)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {key: self(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [self(item) for item in value]
        return value


__all__ = ["Scrubber", "strings_in"]
