"""`ordermill secrets`: make a new secret key and move stored secrets onto it; and the secret
key check `serve` and `worker` run at start-up.

Rotating the key: set the new key as ORDERMILL_SECRET_KEY and the old one in
ORDERMILL_SECRET_KEY_FALLBACKS on every host (sessions, order links and the vault keep
accepting the old key), run `ordermill secrets rotate` once to re-encrypt the stored
provisioning secrets under the new key, and drop the fallback once the old links and sessions
no longer matter. An install that ran on the old built-in key needs no fallback: `rotate`
tries that key too, for decrypting only. Neither command ever prints a stored secret, and
only `new-key` prints a key (the one it just made).
"""

from __future__ import annotations

import logging
from pathlib import Path

import click
from sqlalchemy.exc import SQLAlchemyError

from ordermill.cli.common import _fail, get_mill
from ordermill.core.app import Ordermill
from ordermill.core.i18n import gettext as _
from ordermill.core.secret_keys import new_key, require_key
from ordermill.core.secret_rotation import rotate_all

log = logging.getLogger("ordermill.secret_keys")


def startup_checks(mill: Ordermill) -> None:
    """Refuse to run without a key (ConfigurationError: PostgreSQL without one) or with a
    gateway whose callables the core cannot call (PluginLoadError naming the plugin), and warn
    when stored secrets need `ordermill secrets rotate` (e.g. after the upgrade off the old
    built-in key), instead of failing later inside a provisioning job."""
    require_key(mill.settings.secret_key, mill.settings.database_url)
    mill.gateways  # noqa: B018  a gateway callable of the wrong signature stops start-up
    try:
        with mill.read_session() as session:
            report = rotate_all(mill, session, dry_run=True)
    except SQLAlchemyError:
        return  # no schema yet, or the database is down: the command says so itself
    if report.from_legacy_key or report.unreadable:
        log.warning("%d stored secret(s) are under the old built-in key and %d open with no "
                    "configured key: run `ordermill secrets rotate` (see the README, The "
                    "secret key).", report.from_legacy_key, len(report.unreadable))
    elif report.rotated:
        log.info("%d stored secret(s) are still under a fallback key: run `ordermill secrets "
                 "rotate` before removing ORDERMILL_SECRET_KEY_FALLBACKS.", report.rotated)


@click.group("secrets")
def secrets_group() -> None:
    """The secret key that signs sessions and order links and encrypts stored secrets."""


@secrets_group.command("new-key")
def secrets_new_key() -> None:
    """Print a new random key for ORDERMILL_SECRET_KEY (nothing is stored)."""
    click.echo(new_key())


def _old_keys(path: Path | None) -> list[str]:
    if path is None:
        return []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        _fail(_("Cannot read %(path)s: %(value)s", path=path, value=error.strerror or error))
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


@secrets_group.command("rotate")
@click.option("--old-keys-file", type=click.Path(dir_okay=False, path_type=Path),
              help="A file of old keys, one a line, tried only to decrypt (e.g. a key too "
                   "short to be a fallback).")
def secrets_rotate(old_keys_file: Path | None) -> None:
    """Re-encrypt every stored secret under the current ORDERMILL_SECRET_KEY.

    Secrets stored under a fallback key, a key from --old-keys-file or the old built-in key
    are re-encrypted; those no key opens are listed and left alone (exit code 1).
    """
    mill = get_mill()
    old_keys = _old_keys(old_keys_file)
    with mill.write_session() as session, session.begin():
        report = rotate_all(mill, session, old_keys)
    click.echo(report.describe())
    if report.unreadable:
        for name in report.unreadable:
            click.echo(_("  unreadable: %(name)s", name=name), err=True)
        _fail(_("Some stored secrets open with none of the keys given: add the key they were saved "
                "under to ORDERMILL_SECRET_KEY_FALLBACKS (or --old-keys-file) and run this again, "
                "or re-enter them in the admin."))
