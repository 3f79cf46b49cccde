from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, status
from pydantic import BaseModel

from campaign.deps import AdminUser, SessionDep
from workers import service

router = APIRouter(tags=["system"])


class PingRead(BaseModel):
    token: str
    requested_at: datetime
    completed_at: datetime | None
    worker: str


@router.post("/system/pings", response_model=PingRead, status_code=status.HTTP_202_ACCEPTED)
def request_ping(session: SessionDep, admin: AdminUser):
    """Send a task through the broker to a worker; poll the ping to see it completed."""
    return service.request_ping(session)


@router.get("/system/pings/{token}", response_model=PingRead)
def read_ping(token: str, session: SessionDep, admin: AdminUser):
    return service.get_ping(session, token=token)
