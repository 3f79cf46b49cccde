"""Alembic, driven from Python: ``campaign db upgrade`` and start-up both call this."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from campaign.db import get_engine
from campaign.settings import MIGRATIONS_DIR


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("file_template", "%%(year)d_%%(month).2d_%%(day).2d_%%(rev)s_%%(slug)s")
    return config


def upgrade(revision: str = "heads") -> None:
    with get_engine().begin() as connection:
        if connection.dialect.name == "postgresql":
            # Two processes starting together (web and worker containers) migrate one at a time.
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(7290514)"))
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(revision: str) -> None:
    with get_engine().begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def current() -> str | None:
    from alembic.runtime.migration import MigrationContext

    with get_engine().connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
