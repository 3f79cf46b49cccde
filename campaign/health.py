"""``/healthz``: is the database answering, is the broker reachable, when did a worker last run."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from campaign.db import check_database, new_session
from campaign.deps import public
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


def report() -> dict:
    database_ok, database = _check("database", check_database)
    broker_ok, broker = _check("broker", _check_broker)
    last_worker_run = last_beat = None
    if database_ok:
        with new_session() as session:
            completed = workers_service.last_completed_at(session)
            beat = workers_service.last_completed_at(session, beats_only=True)
            last_worker_run = completed.isoformat() if completed else None
            last_beat = beat.isoformat() if beat else None
    return {"status": "ok" if database_ok and broker_ok else "unavailable", "database": database,
            "broker": broker, "last_worker_run_at": last_worker_run, "last_beat_at": last_beat}


@router.get("/healthz", dependencies=[Depends(public)])
def healthz() -> JSONResponse:
    result = report()
    return JSONResponse(result, status_code=200 if result["status"] == "ok" else 503)
