"""The rotate_stored_secrets hook: `ordermill secrets rotate` reaches every plugin's stored
secrets through it (the host imports no plugin) and adds up what they report."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest

from ordermill import hookimpl
from ordermill.core.app import Ordermill
from ordermill.core.errors import PluginError
from ordermill.core.secret_rotation import RotationReport, rotate_all


class KeyStore:
    """A plugin keeping two encrypted values: one current, one it re-encrypts."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    @hookimpl
    def rotate_stored_secrets(self, session: Any, keys: Sequence[str],
                              old_keys: Sequence[str], dry_run: bool) -> RotationReport:
        self.calls.append({"keys": tuple(keys), "old_keys": tuple(old_keys),
                           "dry_run": dry_run, "session": session})
        return RotationReport(already_current=1, rotated=1, from_legacy_key=1,
                              unreadable=["api key of the warehouse"])


def test_hook_rotate_stored_secrets_reports_add_up_across_plugins(
        mill: Ordermill, register_plugin: Callable[..., object]) -> None:
    store = register_plugin(KeyStore(), name="keystore")
    assert isinstance(store, KeyStore)
    with mill.write_session() as session, session.begin():
        report = rotate_all(mill, session, ["an-old-short-key"], dry_run=True)

    call = store.calls[0]
    assert call["keys"] == mill.settings.secret_keys and call["keys"][0] == \
        mill.settings.secret_key
    assert call["old_keys"] == ("an-old-short-key",) and call["dry_run"] is True
    assert call["session"] is session
    # the provisioning plugin answers too (nothing stored here): only the store's counts add up
    assert (report.already_current, report.rotated, report.from_legacy_key) == (1, 1, 1)
    assert report.unreadable == ["api key of the warehouse"]


def test_hook_rotate_stored_secrets_failure_names_the_plugin(
        mill: Ordermill, register_plugin: Callable[..., object]) -> None:
    class Broken:
        @hookimpl
        def rotate_stored_secrets(self, session: Any, keys: Sequence[str],
                                  old_keys: Sequence[str], dry_run: bool) -> None:
            raise RuntimeError("vault table is locked")

    register_plugin(Broken(), name="broken-vault")
    with pytest.raises(PluginError, match="broken-vault"), mill.write_session() as session, \
            session.begin():
        rotate_all(mill, session)
