"""Alembic, driven from Python: ``campaign db upgrade`` and start-up both call this."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext

from campaign.db import get_engine
from campaign.settings import MIGRATIONS_DIR


def alembic_config(connection: sa.Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("file_template", "%%(year)d_%%(month).2d_%%(day).2d_%%(rev)s_%%(slug)s")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def schema_objects_for(dialect: str):
    """Alembic's include_object for comparing the models with a ``dialect`` database: the
    indexes the models declare for another backend only (campaign.db.only_on) are left out."""
    def include(obj, name, type_, reflected, compare_to) -> bool:
        return reflected or obj.info.get("only_on", dialect) == dialect
    return include


def upgrade(revision: str = "heads", engine: sa.Engine | None = None) -> None:
    with (engine or get_engine()).begin() as connection:
        if connection.dialect.name == "postgresql":
            # Two processes starting together (web and worker containers) migrate one at a time.
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(7290514)"))
        command.upgrade(alembic_config(connection), revision)


def downgrade(revision: str, engine: sa.Engine | None = None) -> None:
    with (engine or get_engine()).begin() as connection:
        command.downgrade(alembic_config(connection), revision)


def current(engine: sa.Engine | None = None) -> str | None:
    with (engine or get_engine()).connect() as connection:
        heads = MigrationContext.configure(connection).get_current_heads()
    return ", ".join(heads) if heads else None
