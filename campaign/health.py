"""``/healthz``: is the database answering, is the broker reachable, when did a worker last run."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from sqlmodel import Session

from campaign.deps import SessionDep, public
from workers import service as workers_service
from workers.celery_app import celery_app

router = APIRouter(tags=["system"])
log = logging.getLogger(__name__)


def _check(name: str, probe) -> tuple[bool, str]:
    try:
        probe()
    except Exception as error:  # a health check reports every failure rather than raising
        log.warning("health check %s failed: %s", name, error)
        return False, f"{type(error).__name__}: {error}"[:300]
    return True, "ok"


def _check_broker() -> None:
    with celery_app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, timeout=3)


def report(session: Session) -> dict:
    """Every check on the request's own session: a second connection per check, while a
    signed-in request holds its first, could wait on a full pool for as long as its timeout."""
    database_ok, database = _check("database", lambda: session.execute(sa.text("SELECT 1")))
    if not database_ok:
        session.rollback()  # the request's commit then has nothing left to fail on
    broker_ok, broker = _check("broker", _check_broker)
    last_worker_run = last_beat = None
    if database_ok:
        completed = workers_service.last_completed_at(session)
        beat = workers_service.last_completed_at(session, beats_only=True)
        last_worker_run = completed.isoformat() if completed else None
        last_beat = beat.isoformat() if beat else None
    return {"status": "ok" if database_ok and broker_ok else "unavailable", "database": database,
            "broker": broker, "last_worker_run_at": last_worker_run, "last_beat_at": last_beat}


@router.get("/healthz", dependencies=[Depends(public)])
def healthz(session: SessionDep) -> JSONResponse:
    result = report(session)
    return JSONResponse(result, status_code=200 if result["status"] == "ok" else 503)
