from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from campaign.db import UTCDateTime, utcnow


class WorkerPing(SQLModel, table=True):
    """A round trip through the broker to a worker: requested by the app, completed by the task.

    Beat's periodic heartbeat writes one too, so the health page can say when a
    worker last ran anything.
    """

    __tablename__ = "worker_ping"

    id: int | None = Field(default=None, primary_key=True)
    token: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    requested_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    worker: str = Field(default="", max_length=200)
