"""Round trips through the queue: used by the health page, the ping API and the tests."""

from __future__ import annotations

import secrets
import socket
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from campaign.db import on_commit, utcnow
from campaign.errors import NotFound
from workers.models import WorkerPing


def request_ping(session: Session) -> WorkerPing:
    """Record a ping and enqueue the task that completes it, once this transaction commits."""
    from workers.tasks import heartbeat

    ping = WorkerPing(token=secrets.token_hex(16))
    session.add(ping)
    session.flush()
    token = ping.token
    on_commit(session, lambda: heartbeat.delay(token))
    return ping


def complete_ping(session: Session, *, token: str) -> WorkerPing:
    """Mark a ping done; a redelivered task finds it done already and changes nothing."""
    ping = session.exec(select(WorkerPing).where(WorkerPing.token == token)).first()
    if ping is None:
        ping = WorkerPing(token=token)
    if ping.completed_at is None:
        ping.completed_at = utcnow()
        ping.worker = socket.gethostname()
        session.add(ping)
    return ping


def record_beat(session: Session) -> WorkerPing:
    """Beat's periodic proof of life; keeps a day of them."""
    session.exec(sa.delete(WorkerPing).where(WorkerPing.token.startswith("beat-"),
                                             WorkerPing.requested_at < utcnow() - timedelta(days=1)))
    return complete_ping(session, token=f"beat-{secrets.token_hex(8)}")


def get_ping(session: Session, *, token: str) -> WorkerPing:
    ping = session.exec(select(WorkerPing).where(WorkerPing.token == token)).first()
    if ping is None:
        raise NotFound(f"No ping with token {token}.")
    return ping


def last_completed_at(session: Session, *, beats_only: bool = False):
    """When a worker last completed a ping (only beat's periodic ones with ``beats_only``)."""
    query = sa.select(sa.func.max(WorkerPing.completed_at))
    if beats_only:
        query = query.where(WorkerPing.token.startswith("beat-"))
    return session.scalar(query)
