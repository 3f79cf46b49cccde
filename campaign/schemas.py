"""API input and output for campaigns, asks, events and evidence.

Inputs check shapes and lengths; the rules that need the database or give a message
about a particular date or table row (31 February, a short row, a taken slug) live in
the service, so the pages, the API and the demo loader all get the same answers.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from campaign.errors import FieldError, InvalidInput
from campaign.models import CampaignStatus, DatePrecision, EventKind, EvidenceKind


MAX_ID = 2**31 - 1  # ids are 32-bit integers in the database
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
NO_NUL = r"^[^\x00]*$"  # for query and path text: PostgreSQL text cannot hold NUL


def _check_storable(value: Any, where: str, depth: int = 0) -> None:
    """Refuse what no database column or JSON document can keep: NUL, lone surrogates, NaN, deep nesting."""
    if depth > 20:
        raise ValueError(f"{where or 'the input'} is nested too deeply")
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError(f"{where or 'a value'} contains a NUL character")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(f"{where or 'a value'} is not valid Unicode text") from None
    elif isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{where or 'a value'} must be a finite number")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_storable(key, where, depth + 1)
            _check_storable(item, f"{where}.{key}" if where else str(key), depth + 1)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _check_storable(item, f"{where}[{index}]", depth + 1)


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any) -> Any:
        _check_storable(data, "")
        return data


class CampaignCreate(_Input):
    name: str = Field(min_length=1, max_length=200)
    slug: str = Field(default="", max_length=80, description="Made from the name when empty.")
    summary: str = Field(default="", max_length=20_000)
    goal: str = Field(default="", max_length=20_000)
    status: CampaignStatus = CampaignStatus.planning
    owner_id: Id | None = None
    start_date: date | None = None
    end_date: date | None = None
    timezone: str = Field(default="Europe/London", max_length=64)
    reply_to: str = Field(default="", max_length=320)


class CampaignUpdate(_Input):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    slug: str | None = Field(default=None, min_length=1, max_length=80)
    summary: str | None = Field(default=None, max_length=20_000)
    goal: str | None = Field(default=None, max_length=20_000)
    status: CampaignStatus | None = None
    owner_id: Id | None = None
    start_date: date | None = None
    end_date: date | None = None
    timezone: str | None = Field(default=None, max_length=64)
    reply_to: str | None = Field(default=None, max_length=320)


class CampaignRead(BaseModel):
    id: int
    slug: str
    name: str
    summary: str
    goal: str
    status: CampaignStatus
    owner_id: int | None
    start_date: date | None
    end_date: date | None
    timezone: str
    reply_to: str
    created_at: datetime
    updated_at: datetime


class AskCreate(_Input):
    title: str = Field(min_length=1, max_length=300)
    slug: str = Field(default="", max_length=80, description="Made from the title when empty.")
    description: str = Field(default="", max_length=20_000)
    position: int | None = Field(default=None, ge=0, le=10_000, description="Placed last when not given.")


class AskUpdate(_Input):
    title: str | None = Field(default=None, min_length=1, max_length=300)
    slug: str | None = Field(default=None, min_length=1, max_length=80)
    description: str | None = Field(default=None, max_length=20_000)


class AskOrder(_Input):
    ask_ids: list[Id] = Field(max_length=1000, description="Every ask of the campaign, in the order wanted.")


class AskRead(BaseModel):
    id: int
    campaign_id: int
    slug: str
    title: str
    description: str
    position: int
    created_at: datetime


class SourceLink(_Input):
    title: str = Field(default="", max_length=500)
    url: str = Field(default="", max_length=1000)


class EventCreate(_Input):
    kind: EventKind
    title: str = Field(min_length=1, max_length=300)
    start: str = Field(max_length=10, description="YYYY-MM-DD, YYYY-MM or YYYY: as precise as is known.")
    end: str = Field(default="", max_length=10, description="Optional end of a range, in the same forms.")
    place: str = Field(default="", max_length=300)
    summary: str = Field(default="", max_length=20_000)
    sources: list[SourceLink] = Field(default_factory=list, max_length=50)
    person_ids: list[Id] = Field(default_factory=list, max_length=500)
    organization_ids: list[Id] = Field(default_factory=list, max_length=500)


class EventUpdate(_Input):
    kind: EventKind | None = None
    title: str | None = Field(default=None, min_length=1, max_length=300)
    start: str | None = Field(default=None, max_length=10)
    end: str | None = Field(default=None, max_length=10)
    place: str | None = Field(default=None, max_length=300)
    summary: str | None = Field(default=None, max_length=20_000)
    sources: list[SourceLink] | None = Field(default=None, max_length=50)
    person_ids: list[Id] | None = Field(default=None, max_length=500)
    organization_ids: list[Id] | None = Field(default=None, max_length=500)


class EventRead(BaseModel):
    id: int
    campaign_id: int
    kind: EventKind
    title: str
    start_date: date
    start_precision: DatePrecision
    end_date: date | None
    end_precision: DatePrecision | None
    when: str = Field(description="The date as precisely as it is known: '30 January 2023', 'October 2022'.")
    place: str
    summary: str
    sources: list[dict[str, Any]]
    origin: str
    person_ids: list[int]
    organization_ids: list[int]
    created_at: datetime
    updated_at: datetime


class EvidenceCreate(_Input):
    slug: str = Field(min_length=1, max_length=80)
    kind: EvidenceKind
    title: str = Field(min_length=1, max_length=300)
    text: str = Field(default="", max_length=50_000)
    data: dict[str, Any] = Field(default_factory=dict,
                                 description="figure: {value, unit, as_of}; table: {columns, rows}; quote: {speaker}.")
    source_title: str = Field(default="", max_length=500)
    source_author: str = Field(default="", max_length=300)
    source_date: date | None = None
    source_url: str = Field(default="", max_length=1000)
    accessed_date: date | None = None
    archive_url: str = Field(default="", max_length=1000)
    reliability_notes: str = Field(default="", max_length=20_000)
    tags: list[str] = Field(default_factory=list, max_length=50)
    event_ids: list[Id] = Field(default_factory=list, max_length=500)
    person_ids: list[Id] = Field(default_factory=list, max_length=500)


class EvidenceUpdate(_Input):
    slug: str | None = Field(default=None, min_length=1, max_length=80)
    kind: EvidenceKind | None = None
    title: str | None = Field(default=None, min_length=1, max_length=300)
    text: str | None = Field(default=None, max_length=50_000)
    data: dict[str, Any] | None = None
    source_title: str | None = Field(default=None, max_length=500)
    source_author: str | None = Field(default=None, max_length=300)
    source_date: date | None = None
    source_url: str | None = Field(default=None, max_length=1000)
    accessed_date: date | None = None
    archive_url: str | None = Field(default=None, max_length=1000)
    reliability_notes: str | None = Field(default=None, max_length=20_000)
    tags: list[str] | None = Field(default=None, max_length=50)
    event_ids: list[Id] | None = Field(default=None, max_length=500)
    person_ids: list[Id] | None = Field(default=None, max_length=500)
    change_note: str = Field(default="", max_length=500, description="Why it changed; kept with the new version.")


class _EvidenceContentRead(BaseModel):
    slug: str
    version: int
    kind: EvidenceKind
    title: str
    text: str
    data: dict[str, Any]
    source_title: str
    source_author: str
    source_date: date | None
    source_url: str
    accessed_date: date | None
    archive_url: str
    reliability_notes: str
    tags: list[str]
    created_at: datetime


class EvidenceRead(_EvidenceContentRead):
    id: int
    campaign_id: int
    event_ids: list[int]
    person_ids: list[int]
    updated_at: datetime


class EvidenceVersionRead(_EvidenceContentRead):
    id: int
    evidence_id: int
    change_note: str
    created_by_label: str


class StanceCounts(BaseModel):
    group: str
    counts: dict[str, int]


class AskStances(BaseModel):
    ask_id: int
    title: str
    total: int
    by_chamber: list[StanceCounts]
    by_party: list[StanceCounts]


def parse(model: type[BaseModel], data: dict[str, Any]):
    """Build an input model from form values; a bad value is an InvalidInput naming its field."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        errors = [FieldError(".".join(str(part) for part in e["loc"]) or "form", e["msg"]) for e in error.errors()]
        raise InvalidInput("Some fields need attention.", errors=errors) from None
