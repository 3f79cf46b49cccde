"""Campaigns, their asks, the event timeline and the evidence library.

Evidence is cited by letters, and a letter cites the words it was sent with: every
edit of an item writes a new ``EvidenceVersion`` (version 1 is the item as created),
and the ``evidence`` row carries the current content and its version number.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import JSON, Field, SQLModel

from campaign.db import UTCDateTime, str_enum, utcnow
from contacts.models import Stance


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


class EventKind(StrEnum):
    visit = "visit"
    resolution = "resolution"
    report = "report"
    sanction = "sanction"
    arrest_or_detention = "arrest_or_detention"
    court_ruling = "court_ruling"
    hearing = "hearing"
    debate = "debate"
    statement = "statement"
    letter_sent = "letter_sent"
    meeting = "meeting"
    response_logged = "response_logged"
    other = "other"


class DatePrecision(StrEnum):
    """How much of a date is known: 2023-01-30 (day), January 2023 (month), 2023 (year)."""

    day = "day"
    month = "month"
    year = "year"


class Event(SQLModel, table=True):
    """Something that happened. A date known only to the month or year is stored as its first day."""

    __tablename__ = "event"
    __table_args__ = (sa.Index("ix_event_campaign_id_start_date", "campaign_id", "start_date"),
                      sa.Index("ix_event_campaign_id_kind", "campaign_id", "kind"))

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", ondelete="CASCADE")
    kind: EventKind = Field(sa_type=str_enum(EventKind))
    title: str = Field(max_length=300)
    start_date: date
    start_precision: DatePrecision = Field(default=DatePrecision.day, sa_type=str_enum(DatePrecision))
    end_date: date | None = None
    end_precision: DatePrecision | None = Field(default=None, sa_type=str_enum(DatePrecision))
    place: str = Field(default="", max_length=300)
    summary: str = Field(default="", sa_type=sa.Text)
    sources: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON, description="[{title, url}]")
    origin: str = Field(default="", max_length=80, description="Set when the app itself recorded it: 'letters'.")
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class EventPerson(SQLModel, table=True):
    __tablename__ = "event_person"

    event_id: int = Field(foreign_key="event.id", primary_key=True, ondelete="CASCADE")
    person_id: int = Field(foreign_key="person.id", primary_key=True, index=True, ondelete="CASCADE")
    role: str = Field(default="", max_length=200)


class EventOrganization(SQLModel, table=True):
    __tablename__ = "event_organization"

    event_id: int = Field(foreign_key="event.id", primary_key=True, ondelete="CASCADE")
    organization_id: int = Field(foreign_key="organization.id", primary_key=True, index=True, ondelete="CASCADE")
    role: str = Field(default="", max_length=200)


class EvidenceKind(StrEnum):
    figure = "figure"
    quote = "quote"
    claim = "claim"
    table = "table"
    document = "document"


class _EvidenceContent(SQLModel):
    """What a version of an evidence item says, and where it comes from."""

    kind: EvidenceKind = Field(sa_type=str_enum(EvidenceKind))
    title: str = Field(max_length=300)
    text: str = Field(default="", sa_type=sa.Text)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON,
                                 description="figure: {value, unit, as_of}; table: {columns, rows}; quote: {speaker}.")
    source_title: str = Field(default="", max_length=500)
    source_author: str = Field(default="", max_length=300, description="Author or publisher.")
    source_date: date | None = None
    source_url: str = Field(default="", max_length=1000)
    accessed_date: date | None = None
    archive_url: str = Field(default="", max_length=1000)
    reliability_notes: str = Field(default="", sa_type=sa.Text)
    tags: list[str] = Field(default_factory=list, sa_type=JSON)


class Evidence(_EvidenceContent, table=True):
    __tablename__ = "evidence"
    __table_args__ = (sa.UniqueConstraint("campaign_id", "slug"),
                      sa.Index("ix_evidence_campaign_id_kind", "campaign_id", "kind"))

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", ondelete="CASCADE")
    slug: str = Field(max_length=80)
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class EvidenceVersion(_EvidenceContent, table=True):
    """One version of an evidence item as it stood; letters cite these rows."""

    __tablename__ = "evidence_version"
    __table_args__ = (sa.UniqueConstraint("evidence_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    evidence_id: int = Field(foreign_key="evidence.id", ondelete="CASCADE")
    version: int
    slug: str = Field(max_length=80, description="The item's slug when this version was written.")
    change_note: str = Field(default="", max_length=500)
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    created_by_label: str = Field(default="", max_length=320)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class EvidenceTag(SQLModel, table=True):
    """The current tags of an item, one row each, so the library filters by tag with an index."""

    __tablename__ = "evidence_tag"

    evidence_id: int = Field(foreign_key="evidence.id", primary_key=True, ondelete="CASCADE")
    tag: str = Field(max_length=80, primary_key=True, index=True)


class EvidenceEvent(SQLModel, table=True):
    __tablename__ = "evidence_event"

    evidence_id: int = Field(foreign_key="evidence.id", primary_key=True, ondelete="CASCADE")
    event_id: int = Field(foreign_key="event.id", primary_key=True, index=True, ondelete="CASCADE")


class EvidencePerson(SQLModel, table=True):
    __tablename__ = "evidence_person"

    evidence_id: int = Field(foreign_key="evidence.id", primary_key=True, ondelete="CASCADE")
    person_id: int = Field(foreign_key="person.id", primary_key=True, index=True, ondelete="CASCADE")


# A stance can rest on an evidence item. The contacts tables come first in the migration
# history, so the campaign domain, which owns evidence, adds this key to their table.
Stance.__table__.append_constraint(
    sa.ForeignKeyConstraint(["source_evidence_id"], ["evidence.id"]))
