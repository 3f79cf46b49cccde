"""Campaigns and their asks. Events and evidence join them here as the campaign domain grows."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from campaign.db import UTCDateTime, str_enum, utcnow


class CampaignStatus(StrEnum):
    planning = "planning"
    active = "active"
    paused = "paused"
    closed = "closed"


class Campaign(SQLModel, table=True):
    __tablename__ = "campaign"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=80, sa_column_kwargs={"unique": True})
    name: str = Field(max_length=200)
    summary: str = Field(default="", sa_type=sa.Text)
    goal: str = Field(default="", sa_type=sa.Text)
    status: CampaignStatus = Field(default=CampaignStatus.planning, sa_type=str_enum(CampaignStatus))
    owner_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    start_date: date | None = None
    end_date: date | None = None
    timezone: str = Field(default="Europe/London", max_length=64)
    reply_to: str = Field(default="", max_length=320, description="Where replies to the campaign's mail go.")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Ask(SQLModel, table=True):
    """What the campaign wants legislators or governments to do; stances are taken on asks."""

    __tablename__ = "ask"
    __table_args__ = (sa.UniqueConstraint("campaign_id", "slug"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True, ondelete="CASCADE")
    slug: str = Field(max_length=80)
    title: str = Field(max_length=300)
    description: str = Field(default="", sa_type=sa.Text)
    position: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
