"""Statements run on the driver's cursor write what SQLAlchemy would have written."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from campaign.db import get_engine, session_scope
from workers import prepared
from workers.models import OutboxMessage, OutboxStatus
from tests.workers.factories import make_message

OUTBOX = OutboxMessage.__table__
MARK_SENT = (sa.update(OUTBOX).where(OUTBOX.c.id == sa.bindparam("b_id"),
                                     OUTBOX.c.status == OutboxStatus.scheduled)
             .values(status=OutboxStatus.sent, sent_at=sa.bindparam("b_now"), attempts=OUTBOX.c.attempts + 1)
             .returning(OUTBOX.c.attempts))


def test_a_timestamp_and_an_enum_are_stored_as_through_sqlalchemy(session):
    message = make_message(session)
    # A time outside UTC: it must be stored as the same instant, read back in UTC.
    sent = datetime(2026, 12, 1, 10, 30, 15, 123456, tzinfo=UTC)
    sent_in_paris = sent.astimezone(ZoneInfo("Europe/Paris"))
    rows = prepared.run(session.connection(), MARK_SENT, {"b_id": message.id, "b_now": sent_in_paris})
    assert rows == [(1,)]
    session.expire_all()
    stored = session.get(OutboxMessage, message.id)
    assert stored.status is OutboxStatus.sent
    assert stored.sent_at == sent and stored.sent_at.tzinfo is not None
    # Stored as SQLAlchemy stores it, so comparisons in SQL find it (SQLite compares the text).
    found = session.scalars(sa.select(OUTBOX.c.id).where(OUTBOX.c.sent_at == sent)).all()
    assert found == [message.id]
    # The statement's own condition holds: a second run finds the message no longer scheduled.
    assert prepared.run(session.connection(), MARK_SENT, {"b_id": message.id, "b_now": sent}) == []


def test_a_naive_timestamp_is_refused_as_through_sqlalchemy(session):
    message = make_message(session)
    with pytest.raises(ValueError, match="naive datetime"):
        prepared.run(session.connection(), MARK_SENT, {"b_id": message.id, "b_now": datetime(2026, 12, 1, 10, 30)})


def test_an_in_list_known_only_at_execution_is_refused_when_prepared():
    statement = sa.select(OUTBOX.c.id).where(OUTBOX.c.id.in_(sa.bindparam("ids", expanding=True)))
    with pytest.raises(ValueError, match="IN list"):
        prepared.Prepared(statement, get_engine().dialect)


def test_a_session_that_keeps_its_connection_takes_one_from_the_pool_for_all_its_commits():
    checkouts = []
    listener = lambda *_args: checkouts.append(1)  # noqa: E731
    event.listen(get_engine(), "checkout", listener)
    try:
        with session_scope(keep_connection=True) as session:
            for _ in range(3):
                session.execute(sa.select(sa.literal(1)))
                session.commit()
        one = len(checkouts)
        checkouts.clear()
        with session_scope() as session:
            for _ in range(3):
                session.execute(sa.select(sa.literal(1)))
                session.commit()
    finally:
        event.remove(get_engine(), "checkout", listener)
    assert one == 1
    assert len(checkouts) == 3  # without it, one per transaction
