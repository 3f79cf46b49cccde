"""Migrations build the schema the models describe, from empty, and take it down again."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

import campaign.tables  # noqa: F401
from campaign import migrate
from campaign.db import make_engine
from tests import services


@pytest.fixture
def empty_engine(tmp_path):
    with services.fresh_database(tmp_path, "migrations") as url:
        engine = make_engine(url)
        yield engine
        engine.dispose()


def _tables(engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}


def test_migrations_have_a_single_line_of_history():
    script = ScriptDirectory.from_config(migrate.alembic_config())
    assert len(script.get_heads()) == 1, f"several heads: {script.get_heads()}"


def test_upgrade_from_empty_matches_the_models_and_downgrade_empties_it(empty_engine):
    migrate.upgrade(engine=empty_engine)
    assert _tables(empty_engine) == set(SQLModel.metadata.tables)
    with empty_engine.connect() as connection:
        include = migrate.schema_objects_for(connection.dialect.name)  # each backend's own indexes
        context = MigrationContext.configure(connection, opts={"compare_type": False, "include_object": include})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == [], f"the models differ from the migrations: {differences}"
    migrate.downgrade("base", engine=empty_engine)
    assert _tables(empty_engine) == set()
    migrate.upgrade(engine=empty_engine)  # and up again, as after a rollback of a release
    assert _tables(empty_engine) == set(SQLModel.metadata.tables)


def test_timestamps_are_timezone_aware_columns():
    naive = [f"{table.name}.{column.name}" for table in SQLModel.metadata.tables.values()
             for column in table.columns
             if isinstance(column.type, sa.DateTime) and not column.type.timezone]
    assert naive == []
