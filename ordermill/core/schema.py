"""Creating and upgrading the database schema (`ordermill init`). Alembic owns the schema.

Alembic is configured in code (no alembic.ini): the scripts live in `ordermill/migrations`,
the core's revisions in `ordermill/migrations/versions` (branch label `ordermill`), and
plugins that own tables add their own branch directories through the
`register_migration_locations` hook, so installing a plugin never forks the core's history.

Developer commands (run from the repository root; `ordermill db ...` wraps them later):

  .venv/bin/python -m ordermill.core.schema revision -m "add product weight"
      autogenerate a revision from the models; read it, fix what autogenerate cannot know
      (renames, data moves), and commit it. `--empty` writes a blank one for hand-written work.
  .venv/bin/python -m ordermill.core.schema regenerate-initial
      only while the history is one revision (before the first release): rewrite it from
      the models after columns were added, instead of stacking a revision on top.
  .venv/bin/python -m ordermill.core.schema upgrade|current|check|heads [--url URL]

Autogenerate compares the models with a throw-away SQLite database brought to the current
heads, so no server is needed and the output uses batch operations, which SQLite needs
and PostgreSQL runs as plain ALTER TABLE.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from ordermill.core import payment_state, search
from ordermill.core.db import make_engine
from ordermill.core.errors import ConfigurationError, OrdermillError
from ordermill.core.models import Base, UTCDateTime

if TYPE_CHECKING:
    from ordermill.core.app import Ordermill

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
CORE_VERSIONS_DIR = MIGRATIONS_DIR / "versions"
CORE_BRANCH = "ordermill"
VERSION_TABLE = "alembic_version"
# pg_advisory_xact_lock key: many web processes may start (and upgrade) at once.
_PG_MIGRATION_LOCK = 0x6F726D696C6C  # "ormill"


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Render ordermill's column types as plain SQLAlchemy types in revisions.

    A migration must not import ordermill code: models change, and an old revision has to
    keep meaning what it meant. UTCDateTime is stored as `DateTime(timezone=True)`.
    """
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def comparison_options() -> dict[str, Any]:
    """Options shared by env.py and schema_differences, so a check sees what autogenerate sees."""
    return {"compare_type": True, "render_item": render_item,
            "include_object": search.include_object}


def _escape(value: str) -> str:
    """Config values pass through configparser interpolation: '%' must be doubled."""
    return value.replace("%", "%%")


def alembic_config(
    url: str | None = None,
    *,
    connection: sa.Connection | None = None,
    extra_locations: Iterable[str] = (),
    format_revisions: bool = False,
) -> Config:
    """An Alembic Config built in code: core versions plus any plugin branch directories."""
    config = Config()
    config.set_main_option("script_location", _escape(str(MIGRATIONS_DIR)))
    config.set_main_option("path_separator", "os")
    locations = [str(CORE_VERSIONS_DIR)]
    locations += [str(Path(loc).resolve()) for loc in extra_locations
                  if Path(loc).resolve() != CORE_VERSIONS_DIR]
    config.set_main_option("version_locations", _escape(os.pathsep.join(dict.fromkeys(locations))))
    config.set_main_option(
        "file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s"
    )
    if url:
        config.set_main_option("sqlalchemy.url", _escape(url))
    if connection is not None:
        config.attributes["connection"] = connection
    if format_revisions and importlib.util.find_spec("ruff") is not None:
        # Generated revisions come out ruff clean (line length, import order).
        hooks = {
            "hooks": "ruff_format, ruff_fix",
            "ruff_format.type": "module",
            "ruff_format.module": "ruff",
            "ruff_format.options": "format -q REVISION_SCRIPT_FILENAME",
            "ruff_fix.type": "module",
            "ruff_fix.module": "ruff",
            "ruff_fix.options": "check -q --fix REVISION_SCRIPT_FILENAME",
        }
        for key, value in hooks.items():
            config.set_section_option("post_write_hooks", key, value)
    return config


def plugin_migration_locations(mill: Ordermill) -> list[str]:
    """Directories of plugin-owned Alembic branches, from `register_migration_locations`."""
    found: list[str] = []
    for plugin_name, locations in mill.plugins.call(
        "register_migration_locations", settings=mill.settings
    ).results:
        for location in locations:
            path = Path(location)
            if not path.is_dir():
                raise ConfigurationError(
                    f"Plugin {mill.plugins.describe(plugin_name)} registered migration "
                    f"location {str(path)!r}, which is not a directory.",
                    details={"plugin": plugin_name, "location": str(path)},
                )
            found.append(str(path.resolve()))
    return found


def heads(extra_locations: Iterable[str] = ()) -> tuple[str, ...]:
    """Head revisions of the history: exactly one for the core, plus one per plugin branch."""
    script = ScriptDirectory.from_config(alembic_config(extra_locations=extra_locations))
    return tuple(sorted(script.get_heads()))


def current_revisions(mill: Ordermill) -> tuple[str, ...]:
    """Revisions the database is at (empty for an unversioned database).

    Alembic stores only tips: a core revision a plugin branch `depends_on` is implied by the
    plugin's revision and not listed separately.
    """
    with mill.engine.connect() as connection:
        return tuple(sorted(MigrationContext.configure(connection).get_current_heads()))


def unapplied_heads(mill: Ordermill) -> tuple[str, ...]:
    """Heads of the core and of every plugin branch the database has not reached (() = up to
    date). Unlike comparing with current_revisions, this knows that a plugin revision which
    `depends_on` the core implies the core revision."""
    script = ScriptDirectory.from_config(
        alembic_config(extra_locations=plugin_migration_locations(mill)))
    current = current_revisions(mill)
    reached = {rev.revision for rev in script.revision_map.iterate_revisions(
        current, "base", inclusive=True)} if current else set()
    return tuple(sorted(set(script.get_heads()) - reached))


def schema_differences(
    connection: sa.Connection, metadata: sa.MetaData | None = None
) -> list[Any]:
    """What autogenerate would change to make the database match the models ([] = in sync)."""
    context = MigrationContext.configure(connection, opts=comparison_options())
    return list(compare_metadata(context, metadata if metadata is not None else Base.metadata))


def _run(config: Config, connection: sa.Connection, fn: Callable[..., Any], *args: Any,
         **kwargs: Any) -> None:
    config.attributes["connection"] = connection
    fn(config, *args, **kwargs)


def _adopt_unversioned(config: Config, connection: sa.Connection) -> None:
    """Stamp a database made by `create_all` (before migrations existed) instead of failing.

    Adopted only when it matches the models exactly; anything else needs a human.
    """
    inspector = sa.inspect(connection)
    existing = set(inspector.get_table_names())
    if VERSION_TABLE in existing or not existing & set(Base.metadata.tables):
        return
    differences = schema_differences(connection)
    if differences:
        raise ConfigurationError(
            "The database has ordermill tables but no migration history, and they differ "
            "from the models; migrate it by hand or start from an empty database.",
            details={"differences": [str(diff) for diff in differences[:20]]},
        )
    _run(config, connection, command.stamp, "heads")  # the plugins' tables matched too


def upgrade_database(mill: Ordermill) -> None:
    """Bring the database to the newest schema (creates it when empty).

    Runs Alembic `upgrade heads` on the app's own engine: the core branch and every plugin
    branch. On PostgreSQL the whole upgrade is one transaction under an advisory lock, so
    processes starting together upgrade once; on SQLite env.py takes the write lock.
    """
    config = alembic_config(extra_locations=plugin_migration_locations(mill))
    with mill.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            with connection.begin():
                connection.execute(sa.select(sa.func.pg_advisory_xact_lock(_PG_MIGRATION_LOCK)))
                _check_known_revisions(config, connection)
                _adopt_unversioned(config, connection)
                _run(config, connection, command.upgrade, "heads")
                _repair_search(connection)
                payment_state.fill_blank(connection)
            return
        _check_known_revisions(config, connection)
        _adopt_unversioned(config, connection)
        connection.commit()  # end the inspection's read transaction: env.py starts its own
        _run(config, connection, command.upgrade, "heads")
        with connection.begin():
            _repair_search(connection)
            payment_state.fill_blank(connection)


def _repair_search(connection: sa.Connection) -> None:
    """Put the order search's triggers back if a later batch migration recreated shop_order
    on SQLite (which drops a table's triggers); refilled, so search finds every order."""
    if not search.is_installed(connection):
        search.install(connection)


def downgrade_database(mill: Ordermill, revision: str) -> None:
    """Step the schema back to `revision` ("base" drops everything Alembic created)."""
    config = alembic_config(extra_locations=plugin_migration_locations(mill))
    with mill.engine.connect() as connection:
        _check_known_revisions(config, connection)
        connection.commit()  # end the check's read transaction: env.py starts its own
        _run(config, connection, command.downgrade, revision)


def _check_known_revisions(config: Config, connection: sa.Connection) -> None:
    """Refuse, saying why, a database at a revision no loaded branch has: a plugin that owns
    tables is blocked or uninstalled, and Alembic would stop with a traceback instead."""
    current = MigrationContext.configure(connection).get_current_heads()
    if not current:
        return
    known = {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}
    unknown = sorted(set(current) - known)
    if unknown:
        raise ConfigurationError(
            f"The database is at migration revision {', '.join(map(repr, unknown))}, which no "
            f"loaded plugin provides: a plugin that owns tables is blocked "
            f"(ORDERMILL_BLOCK_PLUGINS, ORDERMILL_LOAD_PLUGINS) or not installed. Load it to "
            f"change the schema; to remove it for good, downgrade its branch first "
            f"(`<branch>@base`) while it is loaded. Nothing was changed.",
            details={"unknown_revisions": unknown})


# ---- developer commands ------------------------------------------------------------------


def _core_scripts() -> list[Any]:
    return list(ScriptDirectory.from_config(alembic_config()).walk_revisions())


def make_revision(message: str, *, autogenerate: bool = True) -> list[Path]:
    """Write a new core revision; autogenerated against a throw-away SQLite at the heads."""
    config = alembic_config(format_revisions=True)
    has_history = bool(_core_scripts())
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'autogenerate.sqlite'}")
        try:
            with engine.connect() as connection:
                _run(config, connection, command.upgrade, "heads")
                _run(
                    config, connection, command.revision, message=message,
                    autogenerate=autogenerate, head=f"{CORE_BRANCH}@head" if has_history
                    else "base", branch_label=None if has_history else CORE_BRANCH,
                )
        finally:
            engine.dispose()
    return sorted(CORE_VERSIONS_DIR.glob("*.py"))


def regenerate_initial() -> Path:
    """Rewrite the single initial revision from the current models (pre-release only)."""
    scripts = _core_scripts()
    if len(scripts) > 1:
        raise ConfigurationError(
            f"The history has {len(scripts)} revisions; add a revision instead "
            "(python -m ordermill.core.schema revision -m ...)."
        )
    for script in scripts:
        Path(script.path).unlink()
    before = set(CORE_VERSIONS_DIR.glob("*.py"))
    make_revision("initial schema")
    (created,) = set(CORE_VERSIONS_DIR.glob("*.py")) - before
    return created


def _mill_for(url: str | None) -> Ordermill:
    from ordermill.core.app import Ordermill
    from ordermill.core.settings import Settings

    overrides = {"database_url": url} if url else {}
    return Ordermill(Settings.from_env(**overrides))


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m ordermill.core.schema ...`: the migration commands until `ordermill db`."""
    parser = argparse.ArgumentParser(prog="python -m ordermill.core.schema")
    commands = parser.add_subparsers(dest="command", required=True)
    revision = commands.add_parser("revision", help="write a new core revision")
    revision.add_argument("-m", "--message", required=True)
    revision.add_argument("--empty", action="store_true", help="no autogenerate")
    commands.add_parser("regenerate-initial", help="rewrite the single initial revision")
    commands.add_parser("heads", help="print the head revisions")
    for name, text in [("upgrade", "upgrade to the heads"), ("current", "print current "
                       "revisions"), ("check", "print differences between models and DB")]:
        sub = commands.add_parser(name, help=text)
        sub.add_argument("--url", help="database URL (default: ORDERMILL_DATABASE_URL)")
    args = parser.parse_args(argv)
    try:
        return _dispatch(args)
    except OrdermillError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 2


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "revision":
        make_revision(args.message, autogenerate=not args.empty)
    elif args.command == "regenerate-initial":
        print(regenerate_initial())
    elif args.command == "heads":
        print("\n".join(heads()))
    else:
        mill = _mill_for(args.url)
        try:
            if args.command == "upgrade":
                upgrade_database(mill)
                print("\n".join(current_revisions(mill)))
            elif args.command == "current":
                print("\n".join(current_revisions(mill)) or "(unversioned)")
            else:
                with mill.engine.connect() as connection:
                    differences = schema_differences(connection)
                for diff in differences:
                    print(diff)
                return 1 if differences else 0
        finally:
            mill.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
