"""Campaigns, asks, the event timeline and the evidence library: the domain rules.

Functions take the session and keyword-only values, flush when they need ids or a
constraint answer, and never commit. Bad input raises InvalidInput listing every
problem with its field before anything is written.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Iterable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from pydantic_core import to_jsonable_python
from sqlmodel import Session, col, delete, func, select

from campaign import audit
from campaign.accounts.models import User
from campaign.db import utcnow
from campaign.errors import Conflict, FieldError, InvalidInput, NotFound
from campaign.models import (
    Ask,
    Campaign,
    DatePrecision,
    Event,
    EventKind,
    EventOrganization,
    EventPerson,
    Evidence,
    EvidenceEvent,
    EvidenceKind,
    EvidencePerson,
    EvidenceTag,
    EvidenceVersion,
)
from campaign.schemas import (
    AskCreate,
    AskUpdate,
    CampaignCreate,
    CampaignUpdate,
    EventCreate,
    EventUpdate,
    EvidenceCreate,
    EvidenceUpdate,
)
from contacts.models import Membership, Organization, OrgClassification, Person, Position, Stance
from letters import models as letters_models

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_PARTIAL_DATE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")
EVIDENCE_CONTENT_FIELDS = ("kind", "title", "text", "data", "source_title", "source_author", "source_date",
                           "source_url", "accessed_date", "archive_url", "reliability_notes", "tags")


# --- small shared rules ------------------------------------------------------------


def slugify(text: str, max_length: int = 80) -> str:
    bare = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", bare).strip("-")[:max_length].strip("-")


def _check_slug(slug: str, loc: str, errors: list[FieldError]) -> None:
    if not SLUG_PATTERN.match(slug):
        errors.append(FieldError(loc, f"{slug!r} is not a slug: use lower-case letters, digits and single hyphens, "
                                      "e.g. skynet-returns-2018."))


def _check_url(url: str, loc: str, errors: list[FieldError]) -> None:
    if url and not re.match(r"^https?://[^\s/]+", url):
        errors.append(FieldError(loc, f"{url!r} is not a web address starting with http:// or https://."))


def parse_partial_date(text: str, *, loc: str) -> tuple[date, DatePrecision]:
    """'2023-01-30' (day), '2023-01' (month) or '2023' (year); a month or year is stored as its first day."""
    match = _PARTIAL_DATE.match(text.strip())
    if not match:
        raise InvalidInput(f"{text!r} is not a date.", errors=[FieldError(
            loc, f"{text!r} is not a date: write YYYY-MM-DD, or YYYY-MM or YYYY when only the month or year is known.")])
    year, month, day = (int(part) if part else None for part in match.groups())
    if year < 1:
        raise InvalidInput(f"{text} is not a date.", errors=[FieldError(loc, f"{text} is not a date: there is no year 0.")])
    if month is not None and not 1 <= month <= 12:
        raise InvalidInput(f"{text} is not a date.", errors=[FieldError(loc, f"{text} is not a date: there is no month {month}.")])
    if day is not None:
        last = calendar.monthrange(year, month)[1]
        if not 1 <= day <= last:
            raise InvalidInput(f"{text} is not a date.", errors=[FieldError(
                loc, f"{text} is not a date: {calendar.month_name[month]} {year} has {last} days.")])
        return date(year, month, day), DatePrecision.day
    if month is not None:
        return date(year, month, 1), DatePrecision.month
    return date(year, 1, 1), DatePrecision.year


def format_partial_date(value: date | None, precision: DatePrecision | None) -> str:
    if value is None:
        return ""
    if precision == DatePrecision.year:
        return str(value.year)
    if precision == DatePrecision.month:
        return f"{calendar.month_name[value.month]} {value.year}"
    return f"{value.day} {calendar.month_name[value.month]} {value.year}"


def partial_date_text(value: date | None, precision: DatePrecision | None) -> str:
    """The date as it was typed: the inverse of parse_partial_date."""
    if value is None:
        return ""
    if precision == DatePrecision.year:
        return f"{value.year:04d}"
    if precision == DatePrecision.month:
        return f"{value.year:04d}-{value.month:02d}"
    return value.isoformat()


def event_when(event: Event) -> str:
    start = format_partial_date(event.start_date, event.start_precision)
    if event.end_date is None:
        return start
    return f"{start} – {format_partial_date(event.end_date, event.end_precision)}"


def _collect(errors: list[FieldError], check, *args, **kwargs):
    """Run a check that raises InvalidInput, keeping its errors with the others."""
    try:
        return check(*args, **kwargs)
    except InvalidInput as error:
        errors.extend(error.errors)
        return None


def _raise_if(errors: list[FieldError], detail: str) -> None:
    if errors:
        raise InvalidInput(detail, errors=errors)


def _json(values: dict[str, Any]) -> dict[str, Any]:
    return to_jsonable_python(values)


def _actor_label(actor: User | str | None) -> str:
    return getattr(actor, "email", None) or (actor if isinstance(actor, str) else "system")


def _check_people(session: Session, ids: Iterable[int], loc: str, errors: list[FieldError]) -> list[int]:
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return []
    found = set(session.exec(select(Person.id).where(col(Person.id).in_(wanted))))
    errors.extend(FieldError(f"{loc}[{i}]", f"there is no person with id {pid}.")
                  for i, pid in enumerate(wanted) if pid not in found)
    return wanted


def _check_organizations(session: Session, ids: Iterable[int], loc: str, errors: list[FieldError]) -> list[int]:
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return []
    found = set(session.exec(select(Organization.id).where(col(Organization.id).in_(wanted))))
    errors.extend(FieldError(f"{loc}[{i}]", f"there is no organisation with id {oid}.")
                  for i, oid in enumerate(wanted) if oid not in found)
    return wanted


# --- campaigns -----------------------------------------------------------------------

CAMPAIGN_FIELDS = ("slug", "name", "summary", "goal", "status", "owner_id", "start_date", "end_date", "timezone",
                   "reply_to")


def _campaign_snapshot(campaign: Campaign) -> dict[str, Any]:
    return _json({name: getattr(campaign, name) for name in CAMPAIGN_FIELDS})


def list_campaigns(session: Session) -> list[Campaign]:
    order = sa.case({"active": 0, "planning": 1, "paused": 2, "closed": 3}, value=Campaign.status)
    return list(session.exec(select(Campaign).order_by(order, Campaign.name)))


def get_campaign(session: Session, *, campaign_id: int) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(f"There is no campaign with id {campaign_id}.")
    return campaign


def get_campaign_by_slug(session: Session, *, slug: str) -> Campaign:
    campaign = None if "\x00" in slug else session.exec(select(Campaign).where(Campaign.slug == slug)).first()
    if campaign is None:
        raise NotFound(f"There is no campaign {slug!r}.")
    return campaign


def _validate_campaign(session: Session, values: dict[str, Any], campaign_id: int | None) -> None:
    errors: list[FieldError] = []
    _check_slug(values["slug"], "slug", errors)
    try:
        ZoneInfo(values["timezone"])
    except (ZoneInfoNotFoundError, ValueError, OSError):
        errors.append(FieldError("timezone", f"{values['timezone']!r} is not a time zone; use a name such as "
                                             "Europe/London or Europe/Brussels."))
    if values["start_date"] and values["end_date"] and values["end_date"] < values["start_date"]:
        errors.append(FieldError("end_date", "The campaign cannot end before it starts."))
    if values["owner_id"] is not None and session.get(User, values["owner_id"]) is None:
        errors.append(FieldError("owner_id", f"there is no user with id {values['owner_id']}."))
    if values["reply_to"] and not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", values["reply_to"]):
        errors.append(FieldError("reply_to", f"{values['reply_to']!r} is not an e-mail address."))
    _raise_if(errors, "The campaign could not be saved.")
    taken = session.exec(select(Campaign.id).where(Campaign.slug == values["slug"])).first()
    if taken is not None and taken != campaign_id:
        raise Conflict(f"Another campaign already uses the slug {values['slug']!r}.",
                       errors=[FieldError("slug", "already used by another campaign")])


def create_campaign(session: Session, *, campaign_in: CampaignCreate, actor: User | str | None) -> Campaign:
    values = campaign_in.model_dump()
    values["slug"] = values["slug"] or slugify(values["name"])
    _validate_campaign(session, values, None)
    campaign = Campaign(**values)
    session.add(campaign)
    session.flush()
    audit.record(session, actor=actor, action="campaign.create", entity_type="campaign", entity_id=campaign.id,
                 after=_campaign_snapshot(campaign))
    return campaign


def update_campaign(session: Session, *, campaign_id: int, campaign_in: CampaignUpdate,
                    actor: User | str | None) -> Campaign:
    campaign = get_campaign(session, campaign_id=campaign_id)
    before = _campaign_snapshot(campaign)
    changes = campaign_in.model_dump(exclude_unset=True)
    values = {**{name: getattr(campaign, name) for name in CAMPAIGN_FIELDS}, **changes}
    _validate_campaign(session, values, campaign.id)
    for name, value in changes.items():
        setattr(campaign, name, value)
    campaign.updated_at = utcnow()
    session.add(campaign)
    session.flush()
    audit.record(session, actor=actor, action="campaign.update", entity_type="campaign", entity_id=campaign.id,
                 before=before, after=_campaign_snapshot(campaign))
    return campaign


def delete_campaign(session: Session, *, campaign_id: int, actor: User | str | None) -> None:
    campaign = get_campaign(session, campaign_id=campaign_id)
    stances = session.exec(select(func.count()).select_from(Stance).join(Ask, Stance.ask_id == Ask.id)
                           .where(Ask.campaign_id == campaign.id)).one()
    if stances:
        raise Conflict(f"The campaign {campaign.name!r} holds {stances} recorded stances; close it instead of "
                       "deleting it, so their history stays.")
    before = _campaign_snapshot(campaign)
    session.delete(campaign)
    session.flush()
    audit.record(session, actor=actor, action="campaign.delete", entity_type="campaign", entity_id=campaign_id,
                 before=before)


# --- asks ----------------------------------------------------------------------------


def list_asks(session: Session, *, campaign_id: int) -> list[Ask]:
    return list(session.exec(select(Ask).where(Ask.campaign_id == campaign_id).order_by(Ask.position, Ask.id)))


def get_ask(session: Session, *, ask_id: int) -> Ask:
    ask = session.get(Ask, ask_id)
    if ask is None:
        raise NotFound(f"There is no ask with id {ask_id}.")
    return ask


def _ask_snapshot(ask: Ask) -> dict[str, Any]:
    return {"slug": ask.slug, "title": ask.title, "description": ask.description, "position": ask.position}


def _check_ask_slug(session: Session, campaign_id: int, slug: str, ask_id: int | None) -> None:
    errors: list[FieldError] = []
    _check_slug(slug, "slug", errors)
    _raise_if(errors, "The ask could not be saved.")
    taken = session.exec(select(Ask.id).where(Ask.campaign_id == campaign_id, Ask.slug == slug)).first()
    if taken is not None and taken != ask_id:
        raise Conflict(f"This campaign already has an ask with the slug {slug!r}.",
                       errors=[FieldError("slug", "already used by another ask of this campaign")])


def create_ask(session: Session, *, campaign_id: int, ask_in: AskCreate, actor: User | str | None) -> Ask:
    campaign = get_campaign(session, campaign_id=campaign_id)
    slug = ask_in.slug or slugify(ask_in.title)
    _check_ask_slug(session, campaign.id, slug, None)
    asks = list_asks(session, campaign_id=campaign.id)
    position = len(asks) if ask_in.position is None else min(ask_in.position, len(asks))
    for later in asks[position:]:
        later.position += 1
        session.add(later)
    ask = Ask(campaign_id=campaign.id, slug=slug, title=ask_in.title, description=ask_in.description,
              position=position)
    session.add(ask)
    session.flush()
    audit.record(session, actor=actor, action="ask.create", entity_type="ask", entity_id=ask.id,
                 after=_ask_snapshot(ask))
    return ask


def update_ask(session: Session, *, ask_id: int, ask_in: AskUpdate, actor: User | str | None) -> Ask:
    ask = get_ask(session, ask_id=ask_id)
    before = _ask_snapshot(ask)
    changes = ask_in.model_dump(exclude_unset=True, exclude_none=True)
    if "slug" in changes:
        _check_ask_slug(session, ask.campaign_id, changes["slug"], ask.id)
    for name, value in changes.items():
        setattr(ask, name, value)
    session.add(ask)
    session.flush()
    audit.record(session, actor=actor, action="ask.update", entity_type="ask", entity_id=ask.id, before=before,
                 after=_ask_snapshot(ask))
    return ask


def reorder_asks(session: Session, *, campaign_id: int, ask_ids: list[int], actor: User | str | None) -> list[Ask]:
    asks = list_asks(session, campaign_id=get_campaign(session, campaign_id=campaign_id).id)
    current = [ask.id for ask in asks]
    if sorted(ask_ids) != sorted(current) or len(set(ask_ids)) != len(ask_ids):
        raise InvalidInput("The new order must list every ask of the campaign once.",
                           errors=[FieldError("ask_ids", f"expected each of {sorted(current)} exactly once")])
    by_id = {ask.id: ask for ask in asks}
    for position, ask_id in enumerate(ask_ids):
        by_id[ask_id].position = position
        session.add(by_id[ask_id])
    session.flush()
    audit.record(session, actor=actor, action="ask.reorder", entity_type="campaign", entity_id=campaign_id,
                 before={"order": current}, after={"order": ask_ids})
    return list_asks(session, campaign_id=campaign_id)


def move_ask(session: Session, *, ask_id: int, offset: int, actor: User | str | None) -> list[Ask]:
    """Move an ask up (-1) or down (+1) in its campaign's order."""
    ask = get_ask(session, ask_id=ask_id)
    order = [a.id for a in list_asks(session, campaign_id=ask.campaign_id)]
    index = order.index(ask.id)
    target = max(0, min(len(order) - 1, index + offset))
    order.insert(target, order.pop(index))
    return reorder_asks(session, campaign_id=ask.campaign_id, ask_ids=order, actor=actor)


def delete_ask(session: Session, *, ask_id: int, actor: User | str | None) -> None:
    ask = get_ask(session, ask_id=ask_id)
    stances = session.exec(select(func.count()).select_from(Stance).where(Stance.ask_id == ask.id)).one()
    if stances:
        raise Conflict(f"The ask {ask.title!r} has {stances} recorded stances and is kept for their history.")
    before = _ask_snapshot(ask)
    campaign_id = ask.campaign_id
    session.delete(ask)
    session.flush()
    for position, remaining in enumerate(list_asks(session, campaign_id=campaign_id)):
        remaining.position = position
        session.add(remaining)
    audit.record(session, actor=actor, action="ask.delete", entity_type="ask", entity_id=ask_id, before=before)


# --- events --------------------------------------------------------------------------

EVENT_FIELDS = ("kind", "title", "start_date", "start_precision", "end_date", "end_precision", "place", "summary",
                "sources", "origin")


@dataclass
class EventView:
    """An event with what the pages and the API show beside it."""

    event: Event
    when: str
    person_ids: list[int] = field(default_factory=list)
    organization_ids: list[int] = field(default_factory=list)
    people: list[Person] = field(default_factory=list)
    organizations: list[Organization] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {**self.event.model_dump(), "when": self.when, "person_ids": self.person_ids,
                "organization_ids": self.organization_ids}


def _event_snapshot(event: Event) -> dict[str, Any]:
    return _json({name: getattr(event, name) for name in EVENT_FIELDS})


def _event_dates(values: dict[str, Any], errors: list[FieldError]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    start = _collect(errors, parse_partial_date, values.get("start") or "", loc="start") \
        if values.get("start") else None
    if not values.get("start"):
        errors.append(FieldError("start", "When did it happen? Give a date: YYYY-MM-DD, YYYY-MM or YYYY."))
    end = _collect(errors, parse_partial_date, values["end"], loc="end") if values.get("end") else None
    if start:
        out["start_date"], out["start_precision"] = start
    out["end_date"], out["end_precision"] = end if end else (None, None)
    if start and end and end[0] < start[0]:
        errors.append(FieldError("end", "The end of the range comes before its start."))
    return out


def _set_event_links(session: Session, event: Event, person_ids: list[int] | None,
                     organization_ids: list[int] | None) -> None:
    if person_ids is not None:
        session.exec(delete(EventPerson).where(EventPerson.event_id == event.id))
        session.add_all(EventPerson(event_id=event.id, person_id=pid) for pid in person_ids)
    if organization_ids is not None:
        session.exec(delete(EventOrganization).where(EventOrganization.event_id == event.id))
        session.add_all(EventOrganization(event_id=event.id, organization_id=oid) for oid in organization_ids)


def create_event(session: Session, *, campaign_id: int, event_in: EventCreate, actor: User | str | None,
                 origin: str = "") -> Event:
    campaign = get_campaign(session, campaign_id=campaign_id)
    errors: list[FieldError] = []
    values = event_in.model_dump()
    dates = _event_dates(values, errors)
    for index, source in enumerate(event_in.sources):
        _check_url(source.url, f"sources[{index}].url", errors)
    people = _check_people(session, event_in.person_ids, "person_ids", errors)
    organizations = _check_organizations(session, event_in.organization_ids, "organization_ids", errors)
    _raise_if(errors, "The event could not be saved.")
    event = Event(campaign_id=campaign.id, kind=event_in.kind, title=event_in.title, place=event_in.place,
                  summary=event_in.summary, sources=[s.model_dump() for s in event_in.sources], origin=origin,
                  created_by_id=getattr(actor, "id", None), **dates)
    session.add(event)
    session.flush()
    _set_event_links(session, event, people, organizations)
    session.flush()
    audit.record(session, actor=actor, action="event.create", entity_type="event", entity_id=event.id,
                 after=_event_snapshot(event))
    return event


def record_app_event(session: Session, *, campaign_id: int, kind: EventKind, title: str, on: date,
                     origin: str, summary: str = "", person_ids: Iterable[int] = (),
                     actor: User | str | None = None) -> Event:
    """Put something the app did (a letter sent, a response logged) on the campaign's timeline."""
    event_in = EventCreate(kind=kind, title=title[:300], start=on.isoformat(), summary=summary,
                           person_ids=list(person_ids))
    return create_event(session, campaign_id=campaign_id, event_in=event_in, actor=actor, origin=origin)


def get_event(session: Session, *, event_id: int) -> Event:
    event = session.get(Event, event_id)
    if event is None:
        raise NotFound(f"There is no event with id {event_id}.")
    return event


def update_event(session: Session, *, event_id: int, event_in: EventUpdate, actor: User | str | None) -> Event:
    event = get_event(session, event_id=event_id)
    before = _event_snapshot(event)
    changes = event_in.model_dump(exclude_unset=True)
    errors: list[FieldError] = []
    if "start" in changes or "end" in changes:
        dates = _event_dates({
            "start": changes.get("start") if "start" in changes else partial_date_text(event.start_date,
                                                                                         event.start_precision),
            "end": changes.get("end") if "end" in changes else partial_date_text(event.end_date, event.end_precision),
        }, errors)
    else:
        dates = {}
    for index, source in enumerate(event_in.sources or []):
        _check_url(source.url, f"sources[{index}].url", errors)
    people = _check_people(session, event_in.person_ids, "person_ids", errors) \
        if event_in.person_ids is not None else None
    organizations = _check_organizations(session, event_in.organization_ids, "organization_ids", errors) \
        if event_in.organization_ids is not None else None
    for name in ("kind", "title"):
        if name in changes and changes[name] is None:
            errors.append(FieldError(name, "may not be empty"))
    _raise_if(errors, "The event could not be saved.")
    for name in ("kind", "title", "place", "summary"):
        if name in changes and changes[name] is not None:
            setattr(event, name, changes[name])
    if event_in.sources is not None:
        event.sources = [s.model_dump() for s in event_in.sources]
    for name, value in dates.items():
        setattr(event, name, value)
    event.updated_at = utcnow()
    session.add(event)
    _set_event_links(session, event, people, organizations)
    session.flush()
    audit.record(session, actor=actor, action="event.update", entity_type="event", entity_id=event.id,
                 before=before, after=_event_snapshot(event))
    return event


def delete_event(session: Session, *, event_id: int, actor: User | str | None) -> None:
    event = get_event(session, event_id=event_id)
    before = _event_snapshot(event)
    session.delete(event)
    session.flush()
    audit.record(session, actor=actor, action="event.delete", entity_type="event", entity_id=event_id,
                 before=before)


def list_events(session: Session, *, campaign_id: int, kinds: Iterable[EventKind] = (),
                date_from: date | None = None, date_to: date | None = None, newest_first: bool = False,
                limit: int | None = None) -> list[Event]:
    query = select(Event).where(Event.campaign_id == campaign_id)
    kinds = list(kinds)
    if kinds:
        query = query.where(col(Event.kind).in_(kinds))
    if date_from is not None:  # an event counts when any part of it falls in the window
        query = query.where(sa.func.coalesce(Event.end_date, Event.start_date) >= date_from)
    if date_to is not None:
        query = query.where(Event.start_date <= date_to)
    direction = sa.desc if newest_first else sa.asc
    query = query.order_by(direction(Event.start_date), direction(Event.id))
    if limit:
        query = query.limit(limit)
    return list(session.exec(query))


def event_views(session: Session, events: list[Event]) -> list[EventView]:
    """Events with their people and organisations, in a fixed number of queries."""
    ids = [event.id for event in events]
    person_links: dict[int, list[int]] = {}
    org_links: dict[int, list[int]] = {}
    people: dict[int, Person] = {}
    orgs: dict[int, Organization] = {}
    if ids:
        for link, person in session.exec(select(EventPerson, Person).join(Person, EventPerson.person_id == Person.id)
                                         .where(col(EventPerson.event_id).in_(ids)).order_by(Person.sort_key)):
            person_links.setdefault(link.event_id, []).append(person.id)
            people[person.id] = person
        for link, org in session.exec(select(EventOrganization, Organization)
                                      .join(Organization, EventOrganization.organization_id == Organization.id)
                                      .where(col(EventOrganization.event_id).in_(ids)).order_by(Organization.name)):
            org_links.setdefault(link.event_id, []).append(org.id)
            orgs[org.id] = org
    return [EventView(event=event, when=event_when(event), person_ids=person_links.get(event.id, []),
                      organization_ids=org_links.get(event.id, []),
                      people=[people[pid] for pid in person_links.get(event.id, [])],
                      organizations=[orgs[oid] for oid in org_links.get(event.id, [])]) for event in events]


# --- evidence ------------------------------------------------------------------------


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def validate_evidence_data(kind: EvidenceKind, data: dict[str, Any], errors: list[FieldError]) -> dict[str, Any]:
    """Check the structured part of an item and return it in its stored shape."""
    if kind == EvidenceKind.figure:
        value = data.get("value")
        if not _number(value):
            errors.append(FieldError("data.value", "A figure needs its value as a number, e.g. 1335 or 0.64."))
        unit = data.get("unit", "")
        if not isinstance(unit, str):
            errors.append(FieldError("data.unit", "The unit is text, e.g. 'returns' or '%'."))
        as_of = data.get("as_of") or ""
        if as_of:
            _collect(errors, parse_partial_date, str(as_of), loc="data.as_of")
        unknown = sorted(set(data) - {"value", "unit", "as_of"})
        if unknown:
            errors.append(FieldError("data", f"A figure has value, unit and as_of only; not {', '.join(unknown)}."))
        return {"value": value, "unit": unit if isinstance(unit, str) else "", "as_of": str(as_of)}
    if kind == EvidenceKind.table:
        columns, rows = data.get("columns"), data.get("rows")
        if not isinstance(columns, list) or not columns or not all(isinstance(c, str) and c.strip() for c in columns):
            errors.append(FieldError("data.columns", "A table needs a list of column names, none of them empty."))
            columns = None
        if not isinstance(rows, list) or not rows:
            errors.append(FieldError("data.rows", "A table needs at least one row."))
            rows = []
        for index, row in enumerate(rows):
            if not isinstance(row, list):
                errors.append(FieldError(f"data.rows[{index}]", f"Row {index + 1} is not a list of cells."))
                continue
            if columns is not None and len(row) != len(columns):
                errors.append(FieldError(f"data.rows[{index}]",
                                         f"Row {index + 1} has {len(row)} cells but the table has {len(columns)} "
                                         f"columns ({', '.join(columns)})."))
            for cell_index, cell in enumerate(row):
                if cell is not None and not isinstance(cell, (str, int, float)):
                    errors.append(FieldError(f"data.rows[{index}][{cell_index}]",
                                             f"Row {index + 1}, cell {cell_index + 1} must be text or a number."))
        unknown = sorted(set(data) - {"columns", "rows"})
        if unknown:
            errors.append(FieldError("data", f"A table has columns and rows only; not {', '.join(unknown)}."))
        return {"columns": [c.strip() for c in columns] if columns else [], "rows": rows}
    if kind == EvidenceKind.quote:
        speaker = data.get("speaker", "")
        unknown = sorted(set(data) - {"speaker"})
        if not isinstance(speaker, str):
            errors.append(FieldError("data.speaker", "The speaker is a name."))
        if unknown:
            errors.append(FieldError("data", f"A quote carries its speaker only; not {', '.join(unknown)}."))
        return {"speaker": speaker.strip()} if isinstance(speaker, str) and speaker.strip() else {}
    if data:
        errors.append(FieldError("data", f"A {kind.value} carries no structured data; only figures, tables and "
                                         "quotes do."))
    return {}


def normalise_tags(tags: Iterable[str], errors: list[FieldError]) -> list[str]:
    cleaned: list[str] = []
    for index, tag in enumerate(tags):
        value = re.sub(r"\s+", "-", str(tag).strip().lower())
        if not value:
            continue
        if len(value) > 80:
            errors.append(FieldError(f"tags[{index}]", "A tag has at most 80 characters."))
            continue
        if value not in cleaned:
            cleaned.append(value)
    return cleaned


def _evidence_content(values: dict[str, Any], errors: list[FieldError]) -> dict[str, Any]:
    kind = EvidenceKind(values["kind"])
    content = {name: values[name] for name in EVIDENCE_CONTENT_FIELDS}
    content["kind"] = kind
    content["data"] = validate_evidence_data(kind, values.get("data") or {}, errors)
    content["tags"] = normalise_tags(values.get("tags") or [], errors)
    _check_url(values["source_url"], "source_url", errors)
    _check_url(values["archive_url"], "archive_url", errors)
    if kind == EvidenceKind.quote and not values["text"].strip():
        errors.append(FieldError("text", "A quote needs the words quoted."))
    return content


def _check_evidence_slug(session: Session, campaign_id: int, slug: str, evidence_id: int | None,
                         errors: list[FieldError]) -> None:
    _check_slug(slug, "slug", errors)
    taken = session.exec(select(Evidence.id).where(Evidence.campaign_id == campaign_id,
                                                   Evidence.slug == slug)).first()
    if taken is not None and taken != evidence_id:
        raise Conflict(f"This campaign already has an evidence item {slug!r}; choose another slug.",
                       errors=[FieldError("slug", f"{slug!r} is already used in this campaign")])


def _write_version(session: Session, evidence: Evidence, actor: User | str | None, change_note: str) -> EvidenceVersion:
    version = EvidenceVersion(evidence_id=evidence.id, version=evidence.version, slug=evidence.slug,
                              change_note=change_note, created_by_id=getattr(actor, "id", None),
                              created_by_label=_actor_label(actor),
                              **{name: getattr(evidence, name) for name in EVIDENCE_CONTENT_FIELDS})
    session.add(version)
    return version


def _set_evidence_links(session: Session, evidence: Evidence, event_ids: list[int] | None,
                        person_ids: list[int] | None) -> None:
    session.exec(delete(EvidenceTag).where(EvidenceTag.evidence_id == evidence.id))
    session.add_all(EvidenceTag(evidence_id=evidence.id, tag=tag) for tag in evidence.tags)
    if event_ids is not None:
        session.exec(delete(EvidenceEvent).where(EvidenceEvent.evidence_id == evidence.id))
        session.add_all(EvidenceEvent(evidence_id=evidence.id, event_id=eid) for eid in event_ids)
    if person_ids is not None:
        session.exec(delete(EvidencePerson).where(EvidencePerson.evidence_id == evidence.id))
        session.add_all(EvidencePerson(evidence_id=evidence.id, person_id=pid) for pid in person_ids)


def _check_events(session: Session, campaign_id: int, ids: Iterable[int], errors: list[FieldError]) -> list[int]:
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return []
    found = set(session.exec(select(Event.id).where(col(Event.id).in_(wanted), Event.campaign_id == campaign_id)))
    errors.extend(FieldError(f"event_ids[{i}]", f"this campaign has no event with id {eid}.")
                  for i, eid in enumerate(wanted) if eid not in found)
    return wanted


def _evidence_snapshot(evidence: Evidence) -> dict[str, Any]:
    return _json({"slug": evidence.slug, "version": evidence.version,
                  **{name: getattr(evidence, name) for name in EVIDENCE_CONTENT_FIELDS}})


def create_evidence(session: Session, *, campaign_id: int, evidence_in: EvidenceCreate,
                    actor: User | str | None) -> Evidence:
    campaign = get_campaign(session, campaign_id=campaign_id)
    errors: list[FieldError] = []
    values = evidence_in.model_dump()
    content = _evidence_content(values, errors)
    events = _check_events(session, campaign.id, evidence_in.event_ids, errors)
    people = _check_people(session, evidence_in.person_ids, "person_ids", errors)
    _check_slug(evidence_in.slug, "slug", errors)
    _raise_if(errors, "The evidence item could not be saved.")
    _check_evidence_slug(session, campaign.id, evidence_in.slug, None, errors)
    evidence = Evidence(campaign_id=campaign.id, slug=evidence_in.slug, version=1, **content)
    session.add(evidence)
    session.flush()
    _write_version(session, evidence, actor, "created")
    _set_evidence_links(session, evidence, events, people)
    session.flush()
    audit.record(session, actor=actor, action="evidence.create", entity_type="evidence", entity_id=evidence.id,
                 after=_evidence_snapshot(evidence))
    return evidence


def update_evidence(session: Session, *, evidence_id: int, evidence_in: EvidenceUpdate,
                    actor: User | str | None) -> Evidence:
    """Change an item; a change of its content or slug keeps the previous words as a numbered version."""
    evidence = get_evidence(session, evidence_id=evidence_id)
    before = _evidence_snapshot(evidence)
    changes = evidence_in.model_dump(exclude_unset=True, exclude={"change_note", "event_ids", "person_ids"})
    for required in ("kind", "title", "slug"):
        if required in changes and changes[required] is None:
            changes.pop(required)
    for text_field in ("text", "source_title", "source_author", "source_url", "archive_url", "reliability_notes"):
        if text_field in changes and changes[text_field] is None:
            changes[text_field] = ""
    values = {"slug": evidence.slug, **{name: getattr(evidence, name) for name in EVIDENCE_CONTENT_FIELDS}, **changes}
    if "kind" in changes and "data" not in changes and changes["kind"] != evidence.kind:
        values["data"] = {}  # the old structure belongs to the old kind
    errors: list[FieldError] = []
    content = _evidence_content(values, errors)
    events = _check_events(session, evidence.campaign_id, evidence_in.event_ids, errors) \
        if evidence_in.event_ids is not None else None
    people = _check_people(session, evidence_in.person_ids, "person_ids", errors) \
        if evidence_in.person_ids is not None else None
    _check_slug(values["slug"], "slug", errors)
    _raise_if(errors, "The evidence item could not be saved.")
    _check_evidence_slug(session, evidence.campaign_id, values["slug"], evidence.id, errors)
    changed = values["slug"] != evidence.slug or any(
        to_jsonable_python(content[name]) != to_jsonable_python(getattr(evidence, name))
        for name in EVIDENCE_CONTENT_FIELDS)
    if changed:
        for name, value in content.items():
            setattr(evidence, name, value)
        evidence.slug = values["slug"]
        evidence.version += 1
        evidence.updated_at = utcnow()
        session.add(evidence)
        session.flush()
        _write_version(session, evidence, actor, evidence_in.change_note)
    _set_evidence_links(session, evidence, events, people)
    session.flush()
    if changed or events is not None or people is not None:
        audit.record(session, actor=actor, action="evidence.update", entity_type="evidence", entity_id=evidence.id,
                     before=before, after=_evidence_snapshot(evidence))
    return evidence


def get_evidence(session: Session, *, evidence_id: int) -> Evidence:
    evidence = session.get(Evidence, evidence_id)
    if evidence is None:
        raise NotFound(f"There is no evidence item with id {evidence_id}.")
    return evidence


def get_evidence_by_slug(session: Session, *, campaign_id: int, slug: str) -> Evidence:
    evidence = None if "\x00" in slug else session.exec(
        select(Evidence).where(Evidence.campaign_id == campaign_id, Evidence.slug == slug)).first()
    if evidence is None:
        raise NotFound(f"This campaign has no evidence item {slug!r}.",
                       errors=[FieldError("slug", f"no evidence item {slug!r} in this campaign")])
    return evidence


def list_versions(session: Session, *, evidence_id: int) -> list[EvidenceVersion]:
    return list(session.exec(select(EvidenceVersion).where(EvidenceVersion.evidence_id == evidence_id)
                             .order_by(sa.desc(EvidenceVersion.version))))


def get_evidence_version(session: Session, *, evidence_id: int, version: int) -> EvidenceVersion:
    """One version of an item exactly as it stood; what a sent letter cited."""
    found = session.exec(select(EvidenceVersion).where(EvidenceVersion.evidence_id == evidence_id,
                                                       EvidenceVersion.version == version)).first()
    if found is None:
        raise NotFound(f"Evidence item {evidence_id} has no version {version}.")
    return found


def cite_lookup(session: Session, *, campaign_id: int, slug: str) -> EvidenceVersion:
    """The current version of the item a template cites as ``cite(slug)``; letters keep its id."""
    evidence = get_evidence_by_slug(session, campaign_id=campaign_id, slug=slug)
    return get_evidence_version(session, evidence_id=evidence.id, version=evidence.version)


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def list_evidence(session: Session, *, campaign_id: int, q: str = "", tag: str = "",
                  kinds: Iterable[EvidenceKind] = (), limit: int | None = None,
                  order: str = "slug") -> list[Evidence]:
    query = select(Evidence).where(Evidence.campaign_id == campaign_id)
    if q.strip():
        pattern = _like(q.strip())
        query = query.where(sa.or_(*(sa.func.lower(column).like(pattern, escape="\\") for column in (
            Evidence.slug, Evidence.title, Evidence.text, Evidence.source_title, Evidence.source_author))))
    if tag.strip():
        query = query.where(col(Evidence.id).in_(select(EvidenceTag.evidence_id)
                                                 .where(EvidenceTag.tag == tag.strip().lower())))
    kinds = list(kinds)
    if kinds:
        query = query.where(col(Evidence.kind).in_(kinds))
    if order == "recent":
        query = query.order_by(sa.desc(Evidence.updated_at), sa.desc(Evidence.id))
    elif order == "created":
        query = query.order_by(Evidence.id)
    else:
        query = query.order_by(Evidence.slug)
    if limit:
        query = query.limit(limit)
    return list(session.exec(query))


def evidence_tags(session: Session, *, campaign_id: int) -> list[tuple[str, int]]:
    rows = session.exec(select(EvidenceTag.tag, func.count()).join(Evidence, EvidenceTag.evidence_id == Evidence.id)
                        .where(Evidence.campaign_id == campaign_id).group_by(EvidenceTag.tag)
                        .order_by(EvidenceTag.tag))
    return [(tag, count) for tag, count in rows]


@dataclass
class EvidenceLinks:
    event_ids: list[int]
    person_ids: list[int]
    events: list[Event]
    people: list[Person]
    stances: list[tuple[Stance, Person, Ask]]


def evidence_links(session: Session, *, evidence: Evidence) -> EvidenceLinks:
    events = list(session.exec(select(Event).join(EvidenceEvent, EvidenceEvent.event_id == Event.id)
                               .where(EvidenceEvent.evidence_id == evidence.id).order_by(Event.start_date)))
    people = list(session.exec(select(Person).join(EvidencePerson, EvidencePerson.person_id == Person.id)
                               .where(EvidencePerson.evidence_id == evidence.id).order_by(Person.sort_key)))
    stances = [tuple(row) for row in session.exec(
        select(Stance, Person, Ask).join(Person, Stance.person_id == Person.id).join(Ask, Stance.ask_id == Ask.id)
        .where(Stance.source_evidence_id == evidence.id).order_by(Person.sort_key))]
    return EvidenceLinks(event_ids=[e.id for e in events], person_ids=[p.id for p in people], events=events,
                         people=people, stances=stances)


def evidence_read(session: Session, evidence: Evidence) -> dict[str, Any]:
    links = evidence_links(session, evidence=evidence)
    return {**evidence.model_dump(), "event_ids": links.event_ids, "person_ids": links.person_ids}


def evidence_reads(session: Session, items: list[Evidence]) -> list[dict[str, Any]]:
    """API rows for many items, with their links in two queries."""
    ids = [item.id for item in items]
    events: dict[int, list[int]] = {}
    people: dict[int, list[int]] = {}
    if ids:
        for link in session.exec(select(EvidenceEvent).where(col(EvidenceEvent.evidence_id).in_(ids))):
            events.setdefault(link.evidence_id, []).append(link.event_id)
        for link in session.exec(select(EvidencePerson).where(col(EvidencePerson.evidence_id).in_(ids))):
            people.setdefault(link.evidence_id, []).append(link.person_id)
    return [{**item.model_dump(), "event_ids": sorted(events.get(item.id, [])),
             "person_ids": sorted(people.get(item.id, []))} for item in items]


# --- where legislators stand -----------------------------------------------------------

NO_CHAMBER = "No chamber"
NO_PARTY = "No party"


@dataclass
class AskStanceSummary:
    ask: Ask
    total: int
    by_chamber: list[tuple[str, Counter]]
    by_party: list[tuple[str, Counter]]


def stance_summaries(session: Session, *, campaign_id: int, today: date | None = None) -> list[AskStanceSummary]:
    """For each ask, the current stances counted by chamber and by party (current memberships)."""
    today = today or date.today()
    asks = list_asks(session, campaign_id=campaign_id)
    ask_ids = [ask.id for ask in asks]
    latest: dict[tuple[int, int], Position] = {}
    if ask_ids:
        for person_id, ask_id, position in session.exec(
                select(Stance.person_id, Stance.ask_id, Stance.position)
                .where(col(Stance.ask_id).in_(ask_ids), Stance.is_current == sa.true())):
            latest[(person_id, ask_id)] = position
    person_ids = sorted({person_id for person_id, _ in latest})
    chamber_of: dict[int, str] = {}
    party_of: dict[int, str] = {}
    if person_ids:
        party = sa.orm.aliased(Organization)
        # A unicameral parliament (or one imported without its chambers) is its own chamber.
        seats = (OrgClassification.chamber, OrgClassification.parliament)
        rank = sa.case({OrgClassification.chamber.value: 0, OrgClassification.parliament.value: 1},
                       value=Organization.classification, else_=2)
        rows = session.exec(
            select(Membership.person_id, Organization.name, Organization.classification, party.name)
            .join(Organization, Membership.organization_id == Organization.id)
            .outerjoin(party, Membership.on_behalf_of_id == party.id)
            .where(col(Membership.person_id).in_(person_ids),
                   sa.or_(col(Membership.end_date).is_(None), Membership.end_date >= today),
                   col(Organization.classification).in_([*seats, OrgClassification.party]))
            .order_by(Membership.person_id, rank, Organization.name))
        for person_id, org_name, classification, party_name in rows:
            if classification in seats:
                chamber_of.setdefault(person_id, org_name)
                if party_name:
                    party_of.setdefault(person_id, party_name)
            else:
                party_of.setdefault(person_id, org_name)
    summaries = []
    for ask in asks:
        chambers: dict[str, Counter] = {}
        parties: dict[str, Counter] = {}
        total = 0
        for (person_id, ask_id), position in latest.items():
            if ask_id != ask.id:
                continue
            total += 1
            chambers.setdefault(chamber_of.get(person_id, NO_CHAMBER), Counter())[position] += 1
            parties.setdefault(party_of.get(person_id, NO_PARTY), Counter())[position] += 1
        summaries.append(AskStanceSummary(ask=ask, total=total, by_chamber=_ordered_groups(chambers, NO_CHAMBER),
                                          by_party=_ordered_groups(parties, NO_PARTY)))
    return summaries


def _ordered_groups(groups: dict[str, Counter], last: str) -> list[tuple[str, Counter]]:
    return sorted(groups.items(), key=lambda item: (item[0] == last, -sum(item[1].values()), item[0]))


# --- the dashboard ----------------------------------------------------------------------

RESPONSE_WEEK_DAYS = 7
DASHBOARD_LINES = 5


@dataclass
class ResponseLine:
    response: letters_models.Response
    person_name: str
    letter_title: str


@dataclass
class FollowUpLine:
    follow_up: letters_models.FollowUp
    person_name: str
    letter_title: str


@dataclass
class Dashboard:
    campaign: Campaign
    stances: list[AskStanceSummary]
    recent_events: list[EventView]
    event_count: int
    recent_evidence: list[Evidence]
    evidence_count: int
    figures: list[Evidence]
    headline_tables: list[Evidence]
    week_start: date | None = None  # the first day counted in "responses this week", in the campaign's time zone
    responses_this_week: int = 0
    recent_responses: list[ResponseLine] = field(default_factory=list)
    followups_due: int = 0
    followups_open: int = 0
    due_followups: list[FollowUpLine] = field(default_factory=list)


def campaign_today(campaign: Campaign, now: datetime | None = None) -> date:
    """Today's date where the campaign works (its time zone), not in UTC."""
    now = now or utcnow()
    try:
        zone = ZoneInfo(campaign.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return now.astimezone(zone).date()


def response_activity(session: Session, *, campaign_id: int, since: date,
                      limit: int = DASHBOARD_LINES) -> tuple[int, list[ResponseLine]]:
    """How many responses were logged as happening on or after ``since``, and the latest of them."""
    Response, Letter = letters_models.Response, letters_models.Letter
    where = (Response.campaign_id == campaign_id, Response.occurred_date >= since)
    total = session.exec(select(func.count()).select_from(Response).where(*where)).one()
    rows = session.exec(select(Response, Person.name, Letter.title)
                        .join(Person, Person.id == Response.person_id)
                        .outerjoin(Letter, Letter.id == Response.letter_id)
                        .where(*where).order_by(Response.occurred_date.desc(), Response.id.desc()).limit(limit))
    return total, [ResponseLine(response, name, title or "") for response, name, title in rows]


def followup_activity(session: Session, *, campaign_id: int, now: datetime,
                      limit: int = DASHBOARD_LINES) -> tuple[int, int, list[FollowUpLine]]:
    """Open follow-ups that are due at ``now`` (count and the oldest), and how many are open at all."""
    FollowUp, Letter = letters_models.FollowUp, letters_models.Letter
    is_open = (FollowUp.campaign_id == campaign_id, FollowUp.status == letters_models.FollowUpStatus.open)
    due = (*is_open, FollowUp.due_at <= now)
    open_count = session.exec(select(func.count()).select_from(FollowUp).where(*is_open)).one()
    due_count = session.exec(select(func.count()).select_from(FollowUp).where(*due)).one()
    rows = session.exec(select(FollowUp, Person.name, Letter.title)
                        .join(Person, Person.id == FollowUp.person_id)
                        .outerjoin(Letter, Letter.id == FollowUp.letter_id)
                        .where(*due).order_by(FollowUp.due_at, FollowUp.id).limit(limit))
    return due_count, open_count, [FollowUpLine(item, name, title or "") for item, name, title in rows]


def dashboard(session: Session, *, campaign_id: int, now: datetime | None = None) -> Dashboard:
    campaign = get_campaign(session, campaign_id=campaign_id)
    now = now or utcnow()
    events = list_events(session, campaign_id=campaign.id, newest_first=True, limit=8)
    count = lambda model: session.exec(select(func.count()).select_from(model)  # noqa: E731
                                       .where(model.campaign_id == campaign.id)).one()
    week_start = campaign_today(campaign, now) - timedelta(days=RESPONSE_WEEK_DAYS - 1)
    responses_total, recent_responses = response_activity(session, campaign_id=campaign.id, since=week_start)
    due_total, open_total, due_lines = followup_activity(session, campaign_id=campaign.id, now=now)
    return Dashboard(
        campaign=campaign,
        stances=stance_summaries(session, campaign_id=campaign.id),
        recent_events=event_views(session, events),
        event_count=count(Event),
        recent_evidence=list_evidence(session, campaign_id=campaign.id, limit=6, order="recent"),
        evidence_count=count(Evidence),
        figures=list_evidence(session, campaign_id=campaign.id, tag="headline", kinds=[EvidenceKind.figure],
                              order="created"),
        headline_tables=list_evidence(session, campaign_id=campaign.id, tag="headline", kinds=[EvidenceKind.table],
                                      order="created"),
        week_start=week_start,
        responses_this_week=responses_total,
        recent_responses=recent_responses,
        followups_due=due_total,
        followups_open=open_total,
        due_followups=due_lines,
    )
