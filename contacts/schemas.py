"""API input and output for contacts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from contacts.models import OrgClassification, Position, StanceSource

SortOrder = Literal["name", "-name", "-updated"]
MAX_ID = 2**31 - 1  # ids are 32-bit integers in the database
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


def _strings(value: Any, transform=str) -> Any:
    """One string or a list of them, stripped, blanks dropped; anything else is left for validation to refuse."""
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple):
        return value
    return [transform(v.strip()) if isinstance(v, str) else v for v in value if not isinstance(v, str) or v.strip()]


class PersonFilter(BaseModel):
    """A directory query; also what a segment saves. Lists combine with OR inside, filters with AND."""

    model_config = ConfigDict(extra="forbid")

    q: str = Field(default="", max_length=200, description="Name search, accents and case ignored.")
    country: list[str] = Field(default_factory=list, description="ISO alpha-2 codes.")
    parliament: list[Id] = Field(default_factory=list, description="Organisation ids (their chambers count too).")
    chamber: list[Id] = Field(default_factory=list)
    party: list[Id] = Field(default_factory=list, description="Party or parliamentary group ids.")
    committee: list[Id] = Field(default_factory=list)
    area: str = Field(default="", max_length=200, description="Constituency/area text.")
    tag: list[str] = Field(default_factory=list)
    ask_id: Id | None = None
    stance: list[Position] = Field(default_factory=list, description="Current stance on ask_id.")
    has_email: bool = False
    current_only: bool = False
    sort: SortOrder = "name"

    @field_validator("country", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return _strings(value, str.upper)

    @field_validator("tag", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        return _strings(value)

    def is_empty(self) -> bool:
        return self == PersonFilter(sort=self.sort)


class OrganizationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    abbreviation: str
    classification: OrgClassification
    parent_id: int | None
    country: str


class MembershipRead(BaseModel):
    id: int
    organization: OrganizationRead
    on_behalf_of: OrganizationRead | None
    role: str
    post_label: str
    country: str
    start_date: date | None
    end_date: date | None
    current: bool


class StanceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    person_id: int
    ask_id: int
    position: Position
    source_kind: StanceSource
    source_evidence_id: int | None
    source_response_id: int | None
    source_url: str
    source_note: str
    recorded_by: int | None
    recorded_at: datetime


class PersonSummary(BaseModel):
    id: int
    name: str
    honorific_prefix: str
    honorific_suffix: str
    email: str
    memberships: list[MembershipRead]
    stance: Position | None = None


class PersonPage(BaseModel):
    items: list[PersonSummary]
    total: int
    next_cursor: str | None


class IdentifierRead(BaseModel):
    scheme: str
    value: str


class PersonRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    given_name: str
    family_name: str
    sort_name: str
    honorific_prefix: str
    honorific_suffix: str
    other_names: list[str]
    email: str
    emails: list[str]
    phones: list[dict[str, Any]]
    addresses: list[dict[str, Any]]
    links: list[dict[str, Any]]
    image_url: str
    gender: str
    birth_date: date | None
    notes: str
    tags: list[str] = []
    identifiers: list[IdentifierRead] = []
    memberships: list[MembershipRead] = []
    stances: list[StanceRead] = []


class PhoneIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str = Field(default="", max_length=80)
    value: str = Field(min_length=1, max_length=100)


class LinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(default="", max_length=200)
    url: str = Field(min_length=1, max_length=1000)


class PersonUpdate(BaseModel):
    """A change to a person's details: only the fields given are changed. ``emails``: the main one first."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=300)
    given_name: str | None = Field(default=None, max_length=200)
    family_name: str | None = Field(default=None, max_length=200)
    sort_name: str | None = Field(default=None, max_length=300)
    honorific_prefix: str | None = Field(default=None, max_length=100)
    honorific_suffix: str | None = Field(default=None, max_length=100)
    emails: list[Annotated[str, Field(max_length=320)]] | None = Field(default=None, max_length=20)
    phones: list[PhoneIn] | None = Field(default=None, max_length=20)
    links: list[LinkIn] | None = Field(default=None, max_length=50)
    notes: str | None = Field(default=None, max_length=20000)
    tags: list[Annotated[str, Field(max_length=80)]] | None = Field(default=None, max_length=100)


class StanceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ask_id: Id
    position: Position
    source_kind: StanceSource
    source_evidence_id: Id | None = None
    source_response_id: Id | None = None
    source_url: str = Field(default="", max_length=1000)
    source_note: str = Field(default="", max_length=10000)


class SegmentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=5000)
    campaign_id: Id | None = None
    filter: PersonFilter = Field(default_factory=PersonFilter)


class SegmentUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    filter: PersonFilter | None = None


class SegmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str
    campaign_id: int | None
    filter: dict[str, Any]
    created_by: int | None
    created_at: datetime
    updated_at: datetime


class MergeRequest(BaseModel):
    keep_id: Id
    drop_id: Id


_LIST_FIELDS = ("country", "parliament", "chamber", "party", "committee", "tag", "stance")
_FLAG_VALUES = {"1", "true", "on", "yes"}


def filter_from_query(params: Any) -> PersonFilter:
    """A PersonFilter from a query string (repeated keys for lists, empty values ignored).

    ``params`` is a Starlette QueryParams/FormData or anything with ``getlist``.
    """
    from pydantic import ValidationError

    from campaign.errors import FieldError, InvalidInput

    data: dict[str, Any] = {}
    for name in _LIST_FIELDS:
        values = [v for raw in params.getlist(name) for v in str(raw).split(",") if v.strip()]
        if values:
            data[name] = values
    for name in ("q", "area", "sort"):
        value = params.get(name)
        if value:
            data[name] = value
    if params.get("ask_id"):
        data["ask_id"] = params.get("ask_id")
    for name in ("has_email", "current_only"):
        if str(params.get(name, "")).lower() in _FLAG_VALUES:
            data[name] = True
    try:
        return PersonFilter.model_validate(data)
    except ValidationError as error:
        errors = [FieldError(".".join(str(p) for p in e["loc"]) or "filter", e["msg"]) for e in error.errors()]
        raise InvalidInput("The filter is not valid.", errors=errors) from None


def filter_to_query(person_filter: PersonFilter | dict[str, Any]) -> list[tuple[str, str]]:
    """The query-string pairs that give this filter back through filter_from_query."""
    if isinstance(person_filter, dict):
        person_filter = PersonFilter.model_validate(person_filter)
    pairs: list[tuple[str, str]] = []
    for name, value in person_filter.model_dump(mode="json", exclude_defaults=True).items():
        if isinstance(value, list):
            pairs += [(name, str(v)) for v in value]
        elif isinstance(value, bool):
            pairs.append((name, "1"))
        else:
            pairs.append((name, str(value)))
    return pairs


def person_form_values(person: Any, tags: list[str]) -> dict[str, str]:
    """A person's details as the edit form's text fields show them."""
    return {
        **{name: getattr(person, name) for name in ("name", "given_name", "family_name", "sort_name",
                                                   "honorific_prefix", "honorific_suffix", "notes")},
        "emails": "\n".join(person.emails or ([person.email] if person.email else [])),
        "phones": "\n".join(f"{p.get('label')}: {p.get('value', '')}" if p.get("label") else str(p.get("value", ""))
                            for p in person.phones),
        "links": "\n".join(f"{link.get('note')} | {link.get('url', '')}" if link.get("note")
                           else str(link.get("url", "")) for link in person.links),
        "tags": ", ".join(tags),
    }


def person_update_from_form(form: dict[str, str]) -> PersonUpdate:
    """The edit form's text fields read into a PersonUpdate: one e-mail, phone or link per line.

    A phone line is ``label: number`` or a number; a link line is ``note | URL`` or a URL; tags
    are separated by commas. Errors name the field and the line.
    """
    from pydantic import ValidationError

    from campaign.errors import FieldError, InvalidInput

    def lines(name: str) -> list[str]:
        return [line.strip() for line in form.get(name, "").splitlines() if line.strip()]

    phones = []
    for line in lines("phones"):
        label, sep, value = line.rpartition(":") if not line.lstrip("+").replace(" ", "").isdigit() else ("", "", line)
        phones.append({"label": label.strip(), "value": value.strip()} if sep else {"label": "", "value": line})
    links = []
    for line in lines("links"):
        note, sep, url = line.partition("|")
        links.append({"note": note.strip(), "url": url.strip()} if sep else {"note": "", "url": line})
    data: dict[str, Any] = {name: form.get(name, "") for name in ("name", "given_name", "family_name", "sort_name",
                                                                  "honorific_prefix", "honorific_suffix", "notes")}
    data.update(emails=lines("emails"), phones=phones, links=links,
                tags=[t.strip() for t in form.get("tags", "").split(",") if t.strip()])
    try:
        return PersonUpdate.model_validate(data)
    except ValidationError as error:
        errors = []
        for problem in error.errors():
            loc = problem["loc"]
            where = f"line {loc[1] + 1}: " if len(loc) > 1 and isinstance(loc[1], int) and loc[0] != "tags" else ""
            errors.append(FieldError(str(loc[0]), where + problem["msg"]))
        raise InvalidInput("The details were not saved.", errors=errors) from None
