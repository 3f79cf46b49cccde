"""Migration 0009 marks the stances that were already current: the latest of each person and ask."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from campaign import migrate
from campaign.db import make_engine
from tests import services


def _insert(connection, table_name: str, **values) -> None:
    """A row of the table as the 0008 schema has it, required columns not named filled with blanks."""
    table = sa.Table(table_name, sa.MetaData(), autoload_with=connection)
    for column in table.columns:
        if column.name in values or column.nullable or column.server_default is not None or column.primary_key:
            continue
        kind = column.type
        values[column.name] = (datetime.now(UTC) if isinstance(kind, sa.DateTime)
                               else datetime.now(UTC).date() if isinstance(kind, sa.Date)
                               else False if isinstance(kind, sa.Boolean)
                               else 0 if isinstance(kind, sa.Integer)
                               else [] if isinstance(kind, sa.JSON) else "")
    connection.execute(table.insert().values(**values))


def test_upgrade_marks_the_latest_stance_of_each_person_and_ask_as_current(tmp_path):
    with services.fresh_database(tmp_path, "stance_current") as url:
        engine = make_engine(url)
        try:
            migrate.upgrade("0008", engine=engine)
            with engine.begin() as connection:
                _insert(connection, "campaign", id=1, slug="stop-the-visit", name="Stop the visit")
                for number in (1, 2):
                    _insert(connection, "ask", id=number, campaign_id=1, slug=f"ask-{number}", title="An ask")
                    _insert(connection, "person", id=number, name=f"Member {number}")
                # (id, person, ask, position): member 1 changed their mind on ask 1; member 2 spoke once.
                for stance_id, person_id, ask_id, position in ((1, 1, 1, "opposed"), (2, 1, 2, "undecided"),
                                                                (3, 2, 1, "champion"), (4, 1, 1, "supportive")):
                    _insert(connection, "stance", id=stance_id, person_id=person_id, ask_id=ask_id, position=position,
                            source_kind="note", source_note="in the chamber")
            migrate.upgrade(engine=engine)
            with engine.connect() as connection:
                current = connection.execute(sa.text("SELECT id FROM stance WHERE is_current ORDER BY id")).scalars()
                assert list(current) == [2, 3, 4]
        finally:
            engine.dispose()
