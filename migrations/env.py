from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import campaign.tables  # noqa: F401  (fills the metadata)
from sqlmodel.sql.sqltypes import AutoString

from campaign.db import UTCDateTime, get_engine
from campaign.migrate import schema_objects_for

target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    connectable = context.config.attributes.get("connection")
    if connectable is not None:
        _run(connectable)
        return
    with get_engine().connect() as connection:
        _run(connection)
        connection.commit()


def render_item(type_, obj, autogen_context):
    """Write plain SQLAlchemy types into migrations, so they never import application code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, AutoString):
        return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    return False


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_item=render_item,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True,
                      include_object=schema_objects_for(connection.dialect.name))
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("Offline (SQL script) migrations are not supported; run `campaign db upgrade`.")
run_migrations_online()
