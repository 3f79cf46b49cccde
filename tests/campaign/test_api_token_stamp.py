"""An API token's "last used" stamp is written at most once a minute, not on every call."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from campaign.accounts import service
from campaign.accounts.models import ApiToken
from campaign.db import get_engine
from tests.factories import make_token, make_user

FIRST_USE = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def token_writes():
    """The UPDATE statements sent for api_token while the test runs."""
    writes: list[str] = []

    def record(connection, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("UPDATE API_TOKEN"):
            writes.append(statement)

    event.listen(get_engine(), "before_cursor_execute", record)
    yield writes
    event.remove(get_engine(), "before_cursor_execute", record)


def _use_at(session, monkeypatch, secret: str, when: datetime):
    monkeypatch.setattr(service, "utcnow", lambda: when)
    return service.user_for_api_token(session, token=secret)


def _stamp(session, user_id: int) -> datetime | None:
    return session.execute(sa.select(ApiToken.last_used_at).where(ApiToken.user_id == user_id)).scalar_one()


def test_a_token_used_twice_within_a_minute_is_stamped_once(session, monkeypatch, token_writes):
    user = make_user(session)
    secret = make_token(session, user)
    assert _use_at(session, monkeypatch, secret, FIRST_USE).id == user.id
    assert _use_at(session, monkeypatch, secret, FIRST_USE + timedelta(seconds=59)).id == user.id
    assert len(token_writes) == 1
    assert _stamp(session, user.id) == FIRST_USE


def test_a_token_used_again_after_a_minute_is_stamped_again(session, monkeypatch, token_writes):
    user = make_user(session)
    secret = make_token(session, user)
    _use_at(session, monkeypatch, secret, FIRST_USE)
    later = FIRST_USE + timedelta(seconds=61)
    assert _use_at(session, monkeypatch, secret, later).id == user.id
    assert len(token_writes) == 2
    assert _stamp(session, user.id) == later


def test_a_token_loaded_in_the_session_sees_the_new_stamp(session, monkeypatch):
    user = make_user(session)
    secret = make_token(session, user)
    listed = service.list_api_tokens(session, user=user)[0]
    _use_at(session, monkeypatch, secret, FIRST_USE)
    assert listed.last_used_at == FIRST_USE
