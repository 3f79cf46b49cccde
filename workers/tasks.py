"""Celery tasks. Named ``domain.action``, they take IDs only and are safe to run twice."""

from __future__ import annotations

from campaign.db import session_scope
from workers import service
from workers.celery_app import celery_app


@celery_app.task(name="system.heartbeat")
def heartbeat(token: str | None = None) -> None:
    """Complete a ping requested through the app or, sent by beat without one, record a beat."""
    with session_scope() as session:
        if token:
            service.complete_ping(session, token=token)
        else:
            service.record_beat(session)
