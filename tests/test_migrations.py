"""Alembic owns the schema: one head, and `upgrade heads` builds exactly what the models say.

Each database test starts from an EMPTY database of its own (a SQLite file in tmp_path, or a
fresh PostgreSQL schema), never the shared `mill` database, which create_all already filled.
As in ordermill.testing, the PostgreSQL half skips without a server, except under CI=true.
"""

from __future__ import annotations

import textwrap
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from ordermill.core import search
from ordermill.core.app import Ordermill
from ordermill.core.db import make_engine
from ordermill.core.errors import ConfigurationError
from ordermill.core.models import Base, Setting
from ordermill.core.plugins import PluginHost
from ordermill.core.schema import (
    CORE_VERSIONS_DIR,
    VERSION_TABLE,
    current_revisions,
    downgrade_database,
    heads,
    schema_differences,
    unapplied_heads,
    upgrade_database,
)
from ordermill.hookspecs import hookimpl
from ordermill.testing import in_ci, ordermill_settings, postgres_base_url

pytestmark = pytest.mark.slow  # Alembic up and down on real databases, several times a test

PLUGIN_TABLE = "loyalty_points"


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of an empty database: a new SQLite file, or a new PostgreSQL schema dropped after."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.sqlite'}"
        return
    base = postgres_base_url()
    admin = make_engine(base, pool_size=1)
    try:
        with admin.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except Exception as error:
        admin.dispose()
        message = f"PostgreSQL not reachable at {base}: {type(error).__name__}: {error}"
        if in_ci():
            pytest.fail(f"{message}; CI=true requires the PostgreSQL half of the suite.")
        pytest.skip(message)
    schema = f"om_mig_{uuid.uuid4().hex[:10]}"
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def fresh_mill(empty_url: str, tmp_path: Path) -> Iterator[Ordermill]:
    settings = ordermill_settings(empty_url, tmp_path)
    mill = Ordermill(settings, plugins=PluginHost(settings))
    yield mill
    mill.dispose()


def table_names(mill: Ordermill) -> set[str]:
    with mill.engine.connect() as connection:
        return set(sa.inspect(connection).get_table_names())


def model_differences(mill: Ordermill) -> list[Any]:
    """compare_metadata straight from Alembic, independent of schema.py's own helper."""
    with mill.engine.connect() as connection:
        # the search's FTS5 table and trigram indexes are not models (core.search)
        context = MigrationContext.configure(connection, opts={
            "compare_type": True, "include_object": search.include_object})
        return list(compare_metadata(context, Base.metadata))


FIX_HINT = (
    "the migrations no longer build what the models describe. Before the first release run "
    "`.venv/bin/python -m ordermill.core.schema regenerate-initial`; after it, add a revision "
    "with `.venv/bin/python -m ordermill.core.schema revision -m '...'`."
)


def assert_matches_models(mill: Ordermill) -> None:
    differences = model_differences(mill)
    assert differences == [], f"{FIX_HINT}\nDifferences: {differences}"
    with mill.engine.connect() as connection:
        assert schema_differences(connection) == []
    assert table_names(mill) >= set(Base.metadata.tables) | {VERSION_TABLE}
    assert unapplied_heads(mill) == ()  # the core's head and every installed plugin's


class BranchPlugin:
    """A plugin owning a table through its own Alembic branch."""

    def __init__(self, locations: Iterable[str]) -> None:
        self.locations = list(locations)

    @hookimpl
    def register_migration_locations(self, settings: object) -> list[str]:
        return self.locations


def write_plugin_branch(directory: Path) -> Path:
    """A one-revision branch whose table refers to a core table (hence depends_on)."""
    directory.mkdir(parents=True)
    (core_head,) = heads()
    (directory / "loyalty_0001_points.py").write_text(textwrap.dedent(f'''\
        """loyalty plugin: points per order"""
        import sqlalchemy as sa
        from alembic import op

        revision = "loyalty_0001"
        down_revision = None
        branch_labels = ("loyalty",)
        depends_on = {core_head!r}


        def upgrade():
            op.create_table(
                "{PLUGIN_TABLE}",
                sa.Column("id", sa.Integer(), primary_key=True),
                sa.Column("order_id", sa.Integer(), sa.ForeignKey("shop_order.id"),
                          nullable=False),
                sa.Column("points", sa.Integer(), nullable=False),
            )


        def downgrade():
            op.drop_table("{PLUGIN_TABLE}")
    '''))
    return directory


# ---- the history ---------------------------------------------------------------------------


def test_history_has_exactly_one_head() -> None:
    found = heads()
    assert len(found) == 1, (
        f"the core migration history has {len(found)} heads {found}: two revisions share a "
        "parent. Merge them (alembic merge) or re-parent the newer one."
    )


def test_a_forked_history_shows_two_heads(tmp_path: Path) -> None:
    """The one-head check really sees a fork (here: a stray second root revision)."""
    stray = tmp_path / "stray"
    stray.mkdir()
    (stray / "stray_root.py").write_text(
        'revision = "stray"\ndown_revision = None\nbranch_labels = None\ndepends_on = None\n'
        "def upgrade():\n    pass\ndef downgrade():\n    pass\n"
    )
    assert len(heads(extra_locations=[str(stray)])) == 2


def test_revisions_import_no_ordermill_code() -> None:
    """Old revisions must keep their meaning when models change: plain sqlalchemy only."""
    for path in CORE_VERSIONS_DIR.glob("*.py"):
        source = path.read_text()
        assert "import ordermill" not in source and "from ordermill" not in source, path.name
        assert "UTCDateTime" not in source, path.name


# ---- upgrading real databases --------------------------------------------------------------


def test_upgrade_on_empty_database_matches_models(fresh_mill: Ordermill) -> None:
    assert current_revisions(fresh_mill) == ()
    upgrade_database(fresh_mill)
    assert_matches_models(fresh_mill)


def test_upgrade_creates_every_named_constraint_and_index(fresh_mill: Ordermill) -> None:
    """compare_metadata ignores some names; the naming convention must reach the database."""
    upgrade_database(fresh_mill)
    with fresh_mill.engine.connect() as connection:
        inspector = sa.inspect(connection)
        for table in Base.metadata.sorted_tables:
            want_fks = {fk.constraint.name for fk in table.foreign_keys}
            got_fks = {fk["name"] for fk in inspector.get_foreign_keys(table.name)}
            assert got_fks == want_fks, table.name
            want_uqs = {c.name for c in table.constraints if isinstance(c, sa.UniqueConstraint)}
            got_uqs = {uq["name"] for uq in inspector.get_unique_constraints(table.name)}
            assert got_uqs == want_uqs, table.name
            got_ixs = {ix["name"] for ix in inspector.get_indexes(table.name)
                       if not ix.get("duplicates_constraint")  # PostgreSQL's UNIQUE indexes
                       and ix["name"] not in search.PG_INDEXES}  # not models (core.search)
            assert got_ixs == {index.name for index in table.indexes}, table.name
            assert inspector.get_pk_constraint(table.name)["name"] in {f"pk_{table.name}", None}


def test_downgrade_to_base_then_upgrade_again(fresh_mill: Ordermill) -> None:
    upgrade_database(fresh_mill)
    downgrade_database(fresh_mill, "base")
    assert current_revisions(fresh_mill) == ()
    assert table_names(fresh_mill) - {VERSION_TABLE} == set()
    upgrade_database(fresh_mill)
    assert_matches_models(fresh_mill)


def test_upgrade_is_idempotent_and_keeps_data(fresh_mill: Ordermill) -> None:
    upgrade_database(fresh_mill)
    with fresh_mill.write_session() as session, session.begin():
        session.add(Setting(key="shop", value={"name": "kept"}))
    upgrade_database(fresh_mill)
    assert_matches_models(fresh_mill)
    with fresh_mill.read_session() as session:
        stored = session.get(Setting, "shop")
        assert stored is not None and stored.value == {"name": "kept"}


def test_database_made_by_create_all_is_adopted(fresh_mill: Ordermill) -> None:
    """A database made before migrations existed (create_all) is stamped, not re-created."""
    fresh_mill.create_schema()
    upgrade_database(fresh_mill)
    assert_matches_models(fresh_mill)


def test_unversioned_database_that_differs_is_refused(fresh_mill: Ordermill) -> None:
    fresh_mill.create_schema()
    with fresh_mill.engine.begin() as connection:
        connection.execute(sa.text("DROP TABLE gateway_event"))
    with pytest.raises(ConfigurationError, match="no migration history"):
        upgrade_database(fresh_mill)
    assert VERSION_TABLE not in table_names(fresh_mill)


# ---- plugin branches (register_migration_locations) ----------------------------------------


def test_hook_register_migration_locations_adds_a_plugin_branch(
    fresh_mill: Ordermill, tmp_path: Path
) -> None:
    branch = write_plugin_branch(tmp_path / "loyalty_versions")
    fresh_mill.plugins.register(BranchPlugin([str(branch)]), "loyalty", source="test")
    upgrade_database(fresh_mill)
    assert PLUGIN_TABLE in table_names(fresh_mill)
    # Alembic records only tips: the core head is implied, since loyalty_0001 depends on it.
    assert "loyalty_0001" in current_revisions(fresh_mill)
    assert heads()[0] not in current_revisions(fresh_mill)
    assert set(heads(extra_locations=[str(branch)])) == {*heads(), "loyalty_0001"}
    assert len(heads()) == 1  # the core's own history did not fork
    core_differences = [diff for diff in model_differences(fresh_mill)
                        if not (diff[0] == "remove_table" and diff[1].name == PLUGIN_TABLE)]
    assert core_differences == []
    upgrade_database(fresh_mill)  # idempotent with branches too
    downgrade_database(fresh_mill, "base")
    assert table_names(fresh_mill) - {VERSION_TABLE} == set()


@pytest.mark.parametrize("empty_url", ["sqlite"], indirect=True)
def test_hook_register_migration_locations_rejects_a_missing_directory(
    fresh_mill: Ordermill, tmp_path: Path
) -> None:
    fresh_mill.plugins.register(BranchPlugin([str(tmp_path / "missing")]), "broken-branch",
                                source="test")
    with pytest.raises(ConfigurationError, match="broken-branch"):
        upgrade_database(fresh_mill)
    assert table_names(fresh_mill) == set()


# ---- batch mode on SQLite --------------------------------------------------------------------


def write_batch_revision(directory: Path) -> Path:
    """A follow-up revision that alters a table other tables refer to (SQLite recreates it)."""
    directory.mkdir(parents=True)
    (core_head,) = heads()
    (directory / "widen_phone.py").write_text(textwrap.dedent(f'''\
        """widen buyer_phone"""
        import sqlalchemy as sa
        from alembic import op

        revision = "widen_phone"
        down_revision = {core_head!r}
        branch_labels = None
        depends_on = None


        def upgrade():
            with op.batch_alter_table("shop_order") as batch_op:
                batch_op.alter_column("buyer_phone", type_=sa.String(80),
                                      existing_type=sa.String(50))


        def downgrade():
            with op.batch_alter_table("shop_order") as batch_op:
                batch_op.alter_column("buyer_phone", type_=sa.String(50),
                                      existing_type=sa.String(80))
    '''))
    return directory


def test_batch_alter_of_a_referenced_table_keeps_its_rows(
    fresh_mill: Ordermill, tmp_path: Path
) -> None:
    """SQLite recreates shop_order; with foreign keys on, dropping it would break its lines."""
    upgrade_database(fresh_mill)
    now = sa.func.current_timestamp()
    tables = Base.metadata.tables
    with fresh_mill.engine.begin() as connection:
        connection.execute(sa.insert(tables["customer"]).values(
            id=1, email="b@example.com", name="B", billing_address={}, language="en",
            created_at=now))
        connection.execute(sa.insert(tables["product"]).values(
            id=1, sku="TEE", name="Tee", kind="physical", price=1000, currency="EUR",
            active=True, options={}, created_at=now))
        connection.execute(sa.insert(tables["shop_order"]).values(
            id=1, number="0123456789", status="pending", customer_id=1, buyer_name="B",
            buyer_email="b@example.com", billing_address={}, language="en", currency="EUR",
            subtotal=1000, discount=0, total=1000, payment_method="banktransfer",
            placed_at=now, updated_at=now, version=1))
        connection.execute(sa.insert(tables["order_line"]).values(
            id=1, order_id=1, product_id=1, sku="TEE", name="Tee", kind="physical", quantity=1,
            unit_price=1000, discount=0, total=1000, status="active", units_held=1,
            units_released=0, refunded_amount=0, options={}))
    follow_up = write_batch_revision(tmp_path / "follow_up")
    fresh_mill.plugins.register(BranchPlugin([str(follow_up)]), "follow-up", source="test")
    upgrade_database(fresh_mill)
    assert "widen_phone" in current_revisions(fresh_mill)
    with fresh_mill.engine.connect() as connection:
        assert connection.scalar(sa.text("SELECT count(*) FROM order_line")) == 1
        assert connection.scalar(sa.text("SELECT number FROM shop_order")) == "0123456789"
        columns = {c["name"]: c for c in sa.inspect(connection).get_columns("shop_order")}
        assert columns["buyer_phone"]["type"].length == 80
        if connection.dialect.name == "sqlite":
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    downgrade_database(fresh_mill, "ordermill@-1")  # installed plugins have branches too
    fresh_mill.plugins.unregister("follow-up")  # its revision is undone: no longer a head
    assert_matches_models(fresh_mill)
