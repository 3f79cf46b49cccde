"""Contacts: people, organisations, memberships, stances, the directory query, segments, duplicates.

Plain functions taking the session and keyword-only arguments; they flush, never commit.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.orm import load_only
from sqlmodel import Session

from campaign import audit
from campaign.db import utcnow
from campaign.errors import Conflict, FieldError, InvalidInput, NotFound
from campaign import models as campaign_models
from campaign.models import Ask
from contacts.activity import PersonActivity, person_activity
from contacts.imports.core import derived_names
from contacts.models import (Identifier, Membership, OrgClassification, Organization, Person, PersonTag, Position,
                             Segment, Stance, StanceSource, normalise_name)
from contacts.schemas import PersonFilter, PersonUpdate

PAGE_SIZE = 50
_EDITABLE = ("name", "given_name", "family_name", "sort_name", "honorific_prefix", "honorific_suffix", "other_names",
             "email", "emails", "phones", "addresses", "links", "image_url", "gender", "birth_date", "notes")


def today() -> date:
    return utcnow().date()


def is_current(membership: Membership | Any, on: date | None = None) -> bool:
    on = on or today()
    return membership.end_date is None or membership.end_date > on


# --- organisations -----------------------------------------------------------------------


def get_or_create_organization(session: Session, *, name: str, classification: OrgClassification | str,
                               parent_id: int | None = None, country: str = "", abbreviation: str = "",
                               identifiers: Iterable[tuple[str, str]] = ()) -> Organization:
    """The organisation with one of these identifiers, or this name and classification (under parent), or a new one."""
    classification = OrgClassification(classification)
    name = name.strip()
    if not name:
        raise InvalidInput("An organisation needs a name.", errors=[FieldError("name", "missing")])
    identifiers = list(identifiers)
    for scheme, value in identifiers:
        found = session.execute(sa.select(Organization).join(Identifier, Identifier.organization_id == Organization.id)
                                .where(Identifier.scheme == scheme, Identifier.value == value)).scalars().first()
        if found is not None:
            return found
    query = sa.select(Organization).where(Organization.classification == classification, Organization.name == name,
                                          Organization.parent_id.is_(None) if parent_id is None
                                          else Organization.parent_id == parent_id)
    org = session.execute(query.order_by(Organization.id)).scalars().first()
    if org is None:
        org = Organization(name=name, classification=classification, parent_id=parent_id, country=country.upper(),
                           abbreviation=abbreviation)
        session.add(org)
        session.flush()
    for scheme, value in identifiers:
        session.add(Identifier(scheme=scheme, value=value, organization_id=org.id))
    session.flush()
    return org


def list_organizations(session: Session, *, classification: Sequence[OrgClassification | str] = (), q: str = "",
                       limit: int = 500) -> list[Organization]:
    query = sa.select(Organization).order_by(Organization.classification, Organization.name).limit(limit)
    if classification:
        query = query.where(Organization.classification.in_([OrgClassification(c) for c in classification]))
    if q:
        query = query.where(sa.func.lower(Organization.name).contains(q.lower(), autoescape=True))
    return list(session.execute(query).scalars())


def get_organization(session: Session, *, organization_id: int) -> Organization:
    org = session.get(Organization, organization_id)
    if org is None:
        raise NotFound(f"No organisation {organization_id}.")
    return org


# --- people --------------------------------------------------------------------------------


def get_person(session: Session, *, person_id: int) -> Person:
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound(f"No person {person_id}.")
    return person


def people_by_id(session: Session, *, person_ids: Iterable[int]) -> dict[int, Person]:
    """The people with these ids that exist, by id, in one query."""
    ids = sorted(set(person_ids))
    return {p.id: p for p in session.execute(sa.select(Person).where(Person.id.in_(ids))).scalars()} if ids else {}


def _find_person(session: Session, identifiers: Sequence[tuple[str, str]], name: str,
                 organization_id: int | None) -> Person | None:
    for scheme, value in identifiers:
        found = session.execute(sa.select(Person).join(Identifier, Identifier.person_id == Person.id)
                                .where(Identifier.scheme == scheme, Identifier.value == value)).scalars().first()
        if found is not None:
            return found
    if organization_id is not None:
        key = normalise_name(name)
        candidates = session.execute(sa.select(Person).join(Membership, Membership.person_id == Person.id)
                                     .where(Membership.organization_id == organization_id,
                                            Person.search_name.startswith(key, autoescape=True))).scalars()
        for candidate in candidates:
            if normalise_name(candidate.name) == key:
                return candidate
    return None


def upsert_person(session: Session, *, name: str, identifiers: Iterable[tuple[str, str]] | dict[str, str] = (),
                  match_organization_id: int | None = None, tags: Iterable[str] = (), actor: Any = None,
                  **fields: Any) -> Person:
    """Find a person by identifier (then by name within ``match_organization_id``) and update, or create.

    ``fields`` are Person columns (given_name, honorific_prefix, email, phones...); only those
    passed are changed. Identifiers are added, never removed.
    """
    unknown = set(fields) - set(_EDITABLE)
    if unknown:
        raise InvalidInput("Unknown person fields.", errors=[FieldError(f, "not a person field") for f in sorted(unknown)])
    name = (name or "").strip()
    if not name:
        raise InvalidInput("A person needs a name.", errors=[FieldError("name", "missing")])
    identifiers = list(identifiers.items()) if isinstance(identifiers, dict) else list(identifiers)
    person = _find_person(session, identifiers, name, match_organization_id)
    values = {"name": name, **fields}
    if values.get("email") and values["email"] not in (values.get("emails") or (person.emails if person else [])):
        values["emails"] = [values["email"], *(values.get("emails") or (person.emails if person else []))]
    if person is None:
        person = Person(**values)
        session.add(person)
        action = "person.create"
        before = None
    else:
        before = {k: getattr(person, k) for k in values}
        for key, value in values.items():
            setattr(person, key, value)
        person.updated_at = utcnow()
        action = "person.update"
    current = {k: getattr(person, k) for k in ("name", "other_names", "sort_name", "family_name", "given_name")}
    for key, value in derived_names(current).items():
        setattr(person, key, value)
    if not person.email and person.emails:
        person.email = person.emails[0]
    session.flush()
    for scheme, value in identifiers:
        owner = session.execute(sa.select(Identifier).where(Identifier.scheme == scheme, Identifier.value == value)
                                ).scalars().first()
        if owner is None:
            session.add(Identifier(scheme=scheme, value=str(value), person_id=person.id))
        elif owner.person_id != person.id:
            raise Conflict(f"{scheme} {value} already belongs to another person.",
                           errors=[FieldError(f"identifiers.{scheme}", "belongs to another person")])
    for tag in tags:
        add_tag(session, person_id=person.id, tag=tag)
    session.flush()
    if actor is not None:
        audit.record(session, actor=actor, action=action, entity_type="person", entity_id=person.id,
                     before=_jsonable(before), after=_jsonable(values))
    return person


def update_person(session: Session, *, person_id: int, actor: Any, **fields: Any) -> Person:
    """Change the given fields of one person (the edit form)."""
    person = get_person(session, person_id=person_id)
    unknown = set(fields) - set(_EDITABLE)
    if unknown:
        raise InvalidInput("Unknown person fields.", errors=[FieldError(f, "not a person field") for f in sorted(unknown)])
    if "name" in fields and not str(fields["name"]).strip():
        raise InvalidInput("A person needs a name.", errors=[FieldError("name", "missing")])
    before = {k: getattr(person, k) for k in fields}
    for key, value in fields.items():
        setattr(person, key, value)
    if "email" in fields and person.email and person.email not in person.emails:
        person.emails = [person.email, *person.emails]
    for key, value in derived_names({k: getattr(person, k) for k in ("name", "other_names", "sort_name",
                                                                      "family_name", "given_name")}).items():
        setattr(person, key, value)
    person.updated_at = utcnow()
    session.flush()
    audit.record(session, actor=actor, action="person.update", entity_type="person", entity_id=person.id,
                 before=_jsonable(before), after=_jsonable(fields))
    return person


_EMAIL = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")


def _check_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def edit_person(session: Session, *, person_id: int, person_in: PersonUpdate, actor: Any) -> Person:
    """The edit form and PATCH: change the fields given, after checking every one of them.

    ``emails`` replaces the list (the first is the main address); ``tags`` replaces the tags.
    """
    person = get_person(session, person_id=person_id)
    given = person_in.model_dump(exclude_unset=True)
    errors: list[FieldError] = []
    fields: dict[str, Any] = {}
    for key in ("name", "given_name", "family_name", "sort_name", "honorific_prefix", "honorific_suffix", "notes"):
        if key in given:
            value = (given[key] or "").strip() if key != "notes" else (given[key] or "")
            if key == "name" and not value:
                errors.append(FieldError("name", "a person needs a name"))
            fields[key] = value
    if "emails" in given:
        emails = list(dict.fromkeys(e.strip() for e in given["emails"] or [] if e.strip()))
        for index, email in enumerate(emails):
            if not _EMAIL.match(email):
                errors.append(FieldError("emails", f"line {index + 1}: {email!r} is not an e-mail address"))
        fields["emails"] = emails
        fields["email"] = emails[0] if emails else ""
    if "phones" in given:
        fields["phones"] = [{"label": p["label"].strip(), "value": p["value"].strip()} for p in given["phones"] or []]
    if "links" in given:
        links = [{"note": link["note"].strip(), "url": link["url"].strip()} for link in given["links"] or []]
        for index, link in enumerate(links):
            if not _check_url(link["url"]):
                errors.append(FieldError("links", f"line {index + 1}: {link['url']!r} is not an http(s) address"))
        fields["links"] = links
    tags = None
    if "tags" in given:
        tags = list(dict.fromkeys(t.strip() for t in given["tags"] or [] if t.strip()))
    if errors:
        raise InvalidInput(f"{person.name} was not changed.", errors=errors)
    before = {k: getattr(person, k) for k in fields}
    for key, value in fields.items():
        setattr(person, key, value)
    for key, value in derived_names({k: getattr(person, k) for k in ("name", "other_names", "sort_name",
                                                                      "family_name", "given_name")}).items():
        setattr(person, key, value)
    after = dict(fields)
    if tags is not None:
        had = set(session.execute(sa.select(PersonTag.tag).where(PersonTag.person_id == person_id)).scalars())
        before["tags"], after["tags"] = sorted(had), sorted(tags)
        session.execute(sa.delete(PersonTag).where(PersonTag.person_id == person_id, PersonTag.tag.not_in(tags)))
        for tag in tags:
            if tag not in had:
                session.add(PersonTag(person_id=person_id, tag=tag))
    person.updated_at = utcnow()
    session.flush()
    audit.record(session, actor=actor, action="person.update", entity_type="person", entity_id=person.id,
                 before=_jsonable(before), after=_jsonable(after))
    return person


def add_membership(session: Session, *, person_id: int, organization_id: int, role: str = "", post_label: str = "",
                   post_id: str = "", on_behalf_of_id: int | None = None, country: str = "",
                   start_date: date | None = None, end_date: date | None = None) -> Membership:
    """Add a membership, or update the one with the same organisation, role and start date."""
    get_person(session, person_id=person_id)
    org = get_organization(session, organization_id=organization_id)
    if start_date and end_date and end_date < start_date:
        raise InvalidInput("A membership cannot end before it starts.", errors=[FieldError("end_date", "before start")])
    existing = session.execute(sa.select(Membership).where(
        Membership.person_id == person_id, Membership.organization_id == organization_id, Membership.role == role,
        Membership.start_date.is_(None) if start_date is None else Membership.start_date == start_date)).scalars().first()
    membership = existing or Membership(person_id=person_id, organization_id=organization_id, role=role,
                                        start_date=start_date)
    membership.post_label, membership.post_id = post_label, post_id
    membership.on_behalf_of_id = on_behalf_of_id
    membership.country = (country or org.country).upper()
    membership.end_date = end_date
    session.add(membership)
    session.flush()
    return membership


def add_tag(session: Session, *, person_id: int, tag: str) -> None:
    tag = tag.strip()[:80]
    if not tag:
        raise InvalidInput("A tag cannot be empty.", errors=[FieldError("tag", "empty")])
    if session.get(PersonTag, (person_id, tag)) is None:
        session.add(PersonTag(person_id=person_id, tag=tag))
        session.flush()


def remove_tag(session: Session, *, person_id: int, tag: str) -> None:
    found = session.get(PersonTag, (person_id, tag))
    if found is not None:
        session.delete(found)
        session.flush()


# --- stances ---------------------------------------------------------------------------------


def record_stance(session: Session, *, person_id: int, ask_id: int, position: Position | str,
                  source_kind: StanceSource | str, source_evidence_id: int | None = None,
                  source_response_id: int | None = None, source_url: str = "", source_note: str = "",
                  actor: Any) -> Stance:
    """Record a person's position on an ask, with where it comes from. Earlier stances are kept."""
    errors: list[FieldError] = []
    try:
        position = Position(position)
    except ValueError:
        errors.append(FieldError("position", f"must be one of {', '.join(p.value for p in Position)}"))
    try:
        source_kind = StanceSource(source_kind)
    except ValueError:
        errors.append(FieldError("source_kind", f"must be one of {', '.join(s.value for s in StanceSource)}"))
        source_kind = None
    source_url, source_note = (source_url or "").strip(), (source_note or "").strip()
    if source_kind is StanceSource.evidence and not source_evidence_id:
        errors.append(FieldError("source_evidence_id", "an evidence source needs the evidence item"))
    if source_kind is StanceSource.response and not source_response_id:
        errors.append(FieldError("source_response_id", "a response source needs the logged response"))
    if source_kind is StanceSource.url:
        parts = urlsplit(source_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            errors.append(FieldError("source_url", "a URL source needs an http(s) address"))
    if source_kind is StanceSource.note and not source_note:
        errors.append(FieldError("source_note", "a note source needs the note saying where the stance comes from"))
    for name, value in (("ask_id", ask_id), ("source_evidence_id", source_evidence_id),
                        ("source_response_id", source_response_id)):
        if value is not None and not 0 < value < 2**31:
            errors.append(FieldError(name, "not a valid id"))
    if errors:
        raise InvalidInput("The stance was not recorded.", errors=errors)
    if source_kind is StanceSource.evidence and source_evidence_id:
        evidence_model = getattr(campaign_models, "Evidence", None)  # the evidence table arrived after contacts
        if evidence_model is not None and session.get(evidence_model, source_evidence_id) is None:
            errors.append(FieldError("source_evidence_id", f"no evidence item {source_evidence_id}"))
    if session.get(Person, person_id) is None:
        errors.append(FieldError("person_id", f"no person {person_id}"))
    if session.get(Ask, ask_id) is None:
        errors.append(FieldError("ask_id", f"no ask {ask_id}"))
    if errors:
        raise InvalidInput("The stance was not recorded.", errors=errors)
    # One writer per person at a time (PostgreSQL; SQLite writers already take the database lock),
    # so two stances recorded at once cannot both end up current.
    session.execute(sa.select(Person.id).where(Person.id == person_id).with_for_update())
    previous = current_stances(session, person_ids=[person_id], ask_id=ask_id).get(person_id)
    if previous is not None:
        session.execute(sa.update(Stance).where(Stance.id == previous.id).values(is_current=False))
    stance = Stance(person_id=person_id, ask_id=ask_id, position=position, source_kind=source_kind,
                    source_evidence_id=source_evidence_id, source_response_id=source_response_id,
                    source_url=source_url, source_note=source_note, recorded_by=getattr(actor, "id", None),
                    is_current=True)
    session.add(stance)
    session.flush()
    audit.record(session, actor=actor, action="stance.record", entity_type="person", entity_id=person_id,
                 before={"ask_id": ask_id, "position": previous.position.value} if previous else None,
                 after={"ask_id": ask_id, "position": position.value, "source_kind": source_kind.value,
                        "stance_id": stance.id})
    return stance


# Built once (as are the page's membership and organisation queries below): building a statement
# and its cache key on every call cost 0.2 ms each, on every directory page.
_CURRENT_STANCES = sa.select(Stance).where(Stance.is_current == sa.true(), Stance.ask_id == sa.bindparam("ask_id"),
                                           Stance.person_id.in_(sa.bindparam("person_ids", expanding=True)))


def current_stances(session: Session, *, person_ids: Sequence[int], ask_id: int) -> dict[int, Stance]:
    """The latest stance of each person on the ask (people with none are absent)."""
    if not person_ids:
        return {}
    rows = session.execute(_CURRENT_STANCES, {"ask_id": ask_id, "person_ids": list(person_ids)}).scalars()
    return {stance.person_id: stance for stance in rows}


def _mark_current_stances(session: Session, *, person_id: int) -> None:
    """Make the newest stance of each ask the person's current one (after stances moved to them)."""
    session.execute(sa.update(Stance).where(Stance.person_id == person_id, Stance.is_current == sa.true())
                    .values(is_current=False))
    latest = sa.select(sa.func.max(Stance.id)).where(Stance.person_id == person_id).group_by(Stance.ask_id)
    session.execute(sa.update(Stance).where(Stance.id.in_(latest)).values(is_current=True))


@dataclass
class AskHistory:
    ask: Ask
    stances: list[Stance]  # newest first

    @property
    def current(self) -> Stance:
        return self.stances[0]


def stance_history(session: Session, *, person_id: int) -> list[AskHistory]:
    rows = session.execute(sa.select(Stance, Ask).join(Ask, Ask.id == Stance.ask_id)
                           .where(Stance.person_id == person_id).order_by(Ask.id, Stance.id.desc())).all()
    grouped: dict[int, AskHistory] = {}
    for stance, ask in rows:
        grouped.setdefault(ask.id, AskHistory(ask=ask, stances=[])).stances.append(stance)
    return list(grouped.values())


def split_names(text: str) -> list[str]:
    """Names typed in one field, one per line or separated by commas or semicolons."""
    return list(dict.fromkeys(n.strip() for n in re.split(r"[\n,;]", text or "") if n.strip()))


def resolve_names(session: Session, *, people: str = "", organisations: str = "",
                  loc: tuple[str, str] = ("people", "organisations")) -> tuple[list[int], list[int]]:
    """The directory ids of people and organisations typed by name (case and accents ignored).

    A name nobody has, or that two people share, is an InvalidInput naming it.
    """
    errors: list[FieldError] = []
    person_ids: list[int] = []
    for name in split_names(people):
        plain = normalise_name(name)
        found = session.execute(sa.select(Person.id).where(
            sa.or_(Person.search_name == plain, Person.search_name.startswith(f"{plain} ", autoescape=True)))
            .limit(2)).scalars().all() if plain else []
        if len(found) == 1:
            person_ids.append(found[0])
        else:
            errors.append(FieldError(loc[0], f"no one called “{name}” in the directory" if not found else
                                     f"more than one person is called “{name}”; add the other by hand"))
    organization_ids: list[int] = []
    for name in split_names(organisations):
        found = session.execute(sa.select(Organization.id).where(sa.func.lower(Organization.name) == name.lower())
                                .order_by(Organization.id).limit(1)).scalars().all()
        if found:
            organization_ids.append(found[0])
        else:
            errors.append(FieldError(loc[1], f"no organisation called “{name}”"))
    if errors:
        raise InvalidInput("Some names are not in the directory.", errors=errors)
    return person_ids, organization_ids


def list_asks(session: Session) -> list[Ask]:
    return list(session.execute(sa.select(Ask).order_by(Ask.campaign_id, Ask.position, Ask.id)).scalars())


# --- the directory -------------------------------------------------------------------------------


@dataclass
class MembershipView:
    membership: Membership
    organization: Organization
    on_behalf_of: Organization | None
    current: bool


@dataclass
class PersonRow:
    person: Person
    memberships: list[MembershipView] = field(default_factory=list)
    stance: Stance | None = None

    def current(self, *classifications: OrgClassification) -> list[MembershipView]:
        return [m for m in self.memberships if m.current
                and (not classifications or m.organization.classification in classifications)]

    @property
    def seat(self) -> MembershipView | None:
        seats = self.current(OrgClassification.chamber, OrgClassification.parliament)
        return seats[0] if seats else None

    @property
    def party(self) -> str:
        seat = self.seat
        if seat and seat.on_behalf_of:
            return seat.on_behalf_of.name
        parties = self.current(OrgClassification.party)
        return parties[0].organization.name if parties else ""

    @property
    def groups(self) -> list[str]:
        return [m.organization.abbreviation or m.organization.name for m in self.current(OrgClassification.parliamentary_group)]

    @property
    def committees(self) -> list[str]:
        return sorted({m.organization.abbreviation or m.organization.name for m in self.current(OrgClassification.committee)})


@dataclass
class PeoplePage:
    rows: list[PersonRow]
    total: int
    next_cursor: str | None


# The directory's statements are built once per shape of filter (which tests it makes, how many
# name words) and kept, their values bound at each call: building the statements and their cache
# keys anew cost about a millisecond a page, a tenth of a directory request.
_LIST_TESTS = ("tag", "country", "parliament", "chamber", "party", "committee")


def _criteria(person_filter: PersonFilter) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The filter's shape (what _conditions tests) and the values it tests with, by bind parameter name."""
    f = person_filter
    # normalise_name leaves letters and digits only, so a word holds no LIKE wildcard to escape.
    # One bound pattern: PostgreSQL's prepared (generic) plan then compares it as it is, rather
    # than building '%' || word || '%' and its escape again for each of 20,000 people.
    words = normalise_name(f.q).split() if f.q.strip() else []
    params: dict[str, Any] = {f"word_{i}": f"%{word}%" for i, word in enumerate(words)}
    stance = None
    if f.ask_id is not None and f.stance:
        stance = Position.unknown in f.stance
        params.update(ask_id=f.ask_id, stance=list(f.stance))
    params.update({name: list(getattr(f, name)) for name in _LIST_TESTS if getattr(f, name)})
    area = f.area.strip().lower()
    if area:
        params["area"] = "%" + area.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"
    if f.current_only:
        params["today"] = today()
    shape = (len(words), f.has_email, stance, f.current_only, *(name in params for name in _LIST_TESTS + ("area",)))
    return shape, params


def _membership_exists(*conditions: Any, current_only: bool) -> sa.Exists:
    where = [Membership.person_id == Person.id, *conditions]
    if current_only:
        where.append(sa.or_(Membership.end_date.is_(None), Membership.end_date > sa.bindparam("today")))
    # Selecting the id rather than "*" lets SQLite answer from the covering membership index.
    return sa.select(Membership.id).where(*where).exists()


def _holds_stance(unknown: bool, *, counting: bool) -> sa.ColumnElement[bool]:
    """The person's current stance on the ask is one of the stances (or none, with ``unknown``).

    SQLite counts faster against one list of everyone holding the stance, built once per
    statement ("id + 0" keeps it scanning the people rather than looking each of that list up
    and sorting them); a page, which stops after ``limit`` people, is faster testing them one
    by one from the covering index. PostgreSQL turns either into a semi-join.
    """
    ask_id = sa.bindparam("ask_id")
    current = [Stance.is_current == sa.true(), Stance.ask_id == ask_id,
               Stance.position.in_(sa.bindparam("stance", expanding=True))]
    if counting:
        match = (Person.id + 0).in_(sa.select(Stance.person_id).where(*current))
    else:
        match = sa.exists().where(Stance.person_id == Person.id, *current)
    if unknown:
        match = sa.or_(match, ~sa.exists().where(Stance.person_id == Person.id, Stance.ask_id == ask_id))
    return match


def _conditions(shape: tuple[Any, ...], *, counting: bool = False) -> list[Any]:
    """The tests of a filter of this shape (see _criteria), on bind parameters named as its values are."""
    words, has_email, stance, current_only, tag, country, parliament, chamber, party, committee, area = shape

    def listed(name: str) -> sa.BindParameter:
        return sa.bindparam(name, expanding=True)

    conditions: list[Any] = [Person.search_name.like(sa.bindparam(f"word_{i}")) for i in range(words)]
    if has_email:
        conditions.append(Person.email != "")
    if tag:
        conditions.append(sa.exists().where(PersonTag.person_id == Person.id, PersonTag.tag.in_(listed("tag"))))
    if stance is not None:
        # Before the membership tests: a stance usually narrows more than a chamber or a party.
        conditions.append(_holds_stance(stance, counting=counting))
    if country:
        conditions.append(_membership_exists(Membership.country.in_(listed("country")), current_only=current_only))
    if parliament:
        ids = listed("parliament")
        chambers = sa.select(Organization.id).where(Organization.parent_id.in_(ids))
        below = sa.select(Organization.id).where(sa.or_(Organization.id.in_(ids), Organization.parent_id.in_(ids)))
        conditions.append(_membership_exists(
            sa.or_(Membership.organization_id.in_(below), Membership.organization_id.in_(
                sa.select(Organization.id).where(Organization.parent_id.in_(chambers)))),
            current_only=current_only))
    if chamber:
        conditions.append(_membership_exists(Membership.organization_id.in_(listed("chamber")),
                                             current_only=current_only))
    if party:
        ids = listed("party")
        conditions.append(_membership_exists(sa.or_(Membership.on_behalf_of_id.in_(ids),
                                                    Membership.organization_id.in_(ids)),
                                             current_only=current_only))
    if committee:
        conditions.append(_membership_exists(Membership.organization_id.in_(listed("committee")),
                                             current_only=current_only))
    if area:
        conditions.append(_membership_exists(sa.func.lower(Membership.post_label).like(sa.bindparam("area"),
                                                                                       escape="/"),
                                             current_only=current_only))
    if current_only:
        conditions.append(_membership_exists(current_only=True))
    return conditions


def _encode_cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> list[Any]:
    """[sort key, id], then the listing's total when the first page counted it."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not (isinstance(values, list) and len(values) in (2, 3) and isinstance(values[0], str)
                and all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2**31 for v in values[1:])):
            raise ValueError
        return values
    except (ValueError, TypeError, UnicodeDecodeError):
        raise InvalidInput("The page cursor is not valid.", errors=[FieldError("cursor", "not valid")]) from None


def _cursor_params(person_filter: PersonFilter, cursor: str | None) -> dict[str, Any]:
    """The last row of the previous page, read from the cursor, as the keyset condition's values."""
    if not cursor:
        return {}
    last, last_id = _decode_cursor(cursor)[:2]
    if person_filter.sort == "-updated":
        try:
            last = datetime.fromisoformat(last)
        except (TypeError, ValueError):
            raise InvalidInput("The page cursor is not valid.", errors=[FieldError("cursor", "not valid")]) from None
    return {"after": last, "after_id": last_id}


def _order(sort: str, paged: bool) -> tuple[list[Any], list[Any]]:
    """ORDER BY columns, and the keyset condition after the cursor's row when ``paged``."""
    column = Person.updated_at if sort == "-updated" else Person.sort_key
    after, after_id = sa.bindparam("after"), sa.bindparam("after_id")
    if sort == "name":
        order, beyond = [column, Person.id], sa.or_(column > after, sa.and_(column == after, Person.id > after_id))
    else:
        order = [column.desc(), Person.id.desc()]
        beyond = sa.or_(column < after, sa.and_(column == after, Person.id < after_id))
    return order, [beyond] if paged else []


def _cursor_key(sort: str, person: Any) -> list[Any]:
    """What the next page's cursor reads of the last person on this one."""
    return [person.updated_at.isoformat(), person.id] if sort == "-updated" else [person.sort_key, person.id]


# What a page of the directory shows of each person, and what its cursor reads; the contact
# lists and notes (JSON decoded row by row) load on first use, or up front for whole_people.
_LISTED_COLUMNS = load_only(Person.name, Person.honorific_prefix, Person.honorific_suffix, Person.email,
                            Person.sort_key, Person.updated_at)
# What _page reads of each person: ORM people (listed columns, or whole), or rows for the JSON summaries.
_SUMMARY_COLUMNS = (Person.id, Person.name, Person.honorific_prefix, Person.honorific_suffix, Person.email,
                    Person.sort_key, Person.updated_at)
_PAGE_SELECTS = {"listed": sa.select(Person).options(_LISTED_COLUMNS), "whole": sa.select(Person),
                 "summary": sa.select(*_SUMMARY_COLUMNS)}


def list_people(session: Session, *, person_filter: PersonFilter | None = None, cursor: str | None = None,
                limit: int = PAGE_SIZE, with_total: bool = True, whole_people: bool = False) -> PeoplePage:
    """One page of the directory: a fixed number of statements whatever the page size.

    1 for the people, 1 count (on a first page that does not hold everyone: the cursor carries
    the total on), 1 for their memberships, 1 for the organisations those name, and 1 for
    their current stances when the filter names an ask. (A window count in the page query
    measured slower on both backends: the page can no longer walk the sort index and stop
    after ``limit``.)
    """
    person_filter = person_filter or PersonFilter()
    people, total, next_cursor = _page(session, "whole" if whole_people else "listed", person_filter=person_filter,
                                       cursor=cursor, limit=limit, with_total=with_total)
    rows = _rows(session, people, ask_id=person_filter.ask_id)
    return PeoplePage(rows=rows, total=total, next_cursor=next_cursor)


def _page(session: Session, columns: str, *, person_filter: PersonFilter, cursor: str | None, limit: int,
          with_total: bool) -> tuple[list[Any], int, str | None]:
    """The page's people (``columns``: see _PAGE_SELECTS), the total, and the next page's cursor."""
    limit = max(1, min(limit, 500))
    shape, params = _criteria(person_filter)
    counted = _decode_cursor(cursor)[2:] if cursor else []
    page_params = {**params, **_cursor_params(person_filter, cursor), "limit": limit + 1}
    result = session.execute(_page_statement(columns, shape, person_filter.sort, bool(cursor)), page_params)
    people = list(result if columns == "summary" else result.scalars())
    more = len(people) > limit
    if not with_total:
        total = -1
    elif counted:
        total = counted[0]  # counted once, on the first page; later pages carry it in the cursor
    elif not cursor and not more:
        total = len(people)  # the first page holds everyone: nothing left to count
    else:
        total = session.execute(_count_statement(shape), params).scalar_one()
    next_cursor = (_encode_cursor(_cursor_key(person_filter.sort, people[limit - 1]) + ([total] if total >= 0 else []))
                   if more else None)
    return people[:limit], total, next_cursor


@lru_cache(maxsize=256)
def _page_statement(columns: str, shape: tuple[Any, ...], sort: str, paged: bool) -> sa.Select:
    order, after = _order(sort, paged)
    return (_PAGE_SELECTS[columns].where(*_conditions(shape), *after).order_by(*order)
            .limit(sa.bindparam("limit", type_=sa.Integer)))


@lru_cache(maxsize=256)
def _count_statement(shape: tuple[Any, ...]) -> sa.Select:
    return sa.select(sa.func.count()).select_from(Person).where(*_conditions(shape, counting=True))


# Each person's memberships, current ones first, then the most recently ended.
_MEMBERSHIP_ORDER = (Membership.person_id, Membership.end_date.is_(None).desc(), Membership.end_date.desc(),
                     Membership.start_date.desc(), Membership.id)
_MEMBERSHIPS_OF_PEOPLE = (
    sa.select(Membership).where(Membership.person_id.in_(sa.bindparam("person_ids", expanding=True)))
    .order_by(*_MEMBERSHIP_ORDER))
_ORGANIZATIONS = sa.select(Organization).where(Organization.id.in_(sa.bindparam("organization_ids", expanding=True)))


def _rows(session: Session, people: list[Person], *, ask_id: int | None) -> list[PersonRow]:
    rows = {person.id: PersonRow(person=person) for person in people}
    if not rows:
        return []
    on = today()
    memberships = list(session.execute(_MEMBERSHIPS_OF_PEOPLE, {"person_ids": list(rows)}).scalars())
    # The few organisations a page names, once each (joining them to every membership row
    # built three ORM entities per row: the slowest part of a directory page in Python).
    org_ids = {m.organization_id for m in memberships} | {m.on_behalf_of_id for m in memberships if m.on_behalf_of_id}
    orgs = {org.id: org for org in session.execute(
        _ORGANIZATIONS, {"organization_ids": list(org_ids)}).scalars()} if org_ids else {}
    for membership in memberships:
        rows[membership.person_id].memberships.append(
            MembershipView(membership=membership, organization=orgs[membership.organization_id],
                           on_behalf_of=orgs.get(membership.on_behalf_of_id), current=is_current(membership, on)))
    if ask_id is not None:
        for person_id, stance in current_stances(session, person_ids=list(rows), ask_id=ask_id).items():
            rows[person_id].stance = stance
    return list(rows.values())


@dataclass
class SummaryPage:
    items: list[dict[str, Any]]  # each shaped as contacts.schemas.PersonSummary, ready for json.dumps
    total: int
    next_cursor: str | None


_ON_BEHALF_OF = sa.orm.aliased(Organization)
_MEMBERSHIP_SUMMARIES = (
    sa.select(Membership.person_id, Membership.id, Membership.role, Membership.post_label, Membership.country,
              Membership.start_date, Membership.end_date,
              *(getattr(org, column) for org in (Organization, _ON_BEHALF_OF)
                for column in ("id", "name", "abbreviation", "classification", "parent_id", "country")))
    .join(Organization, Organization.id == Membership.organization_id)
    .outerjoin(_ON_BEHALF_OF, _ON_BEHALF_OF.id == Membership.on_behalf_of_id)
    .where(Membership.person_id.in_(sa.bindparam("person_ids", expanding=True)))
    .order_by(*_MEMBERSHIP_ORDER))
_CURRENT_POSITIONS = sa.select(Stance.person_id, Stance.position).where(
    Stance.is_current == sa.true(), Stance.ask_id == sa.bindparam("ask_id"),
    Stance.person_id.in_(sa.bindparam("person_ids", expanding=True)))


def list_people_summaries(session: Session, *, person_filter: PersonFilter | None = None, cursor: str | None = None,
                          limit: int = PAGE_SIZE) -> SummaryPage:
    """The page list_people gives (same people, total and cursor), for the JSON API: plain dicts.

    It reads columns, not ORM objects, and builds each person's dict once, with no model to
    validate: for a page of fifty, the ORM people, memberships and stances and then the
    PersonSummary models (validated once when built, and again by the response model) cost
    more than the page's queries. 1 statement for the people, 1 count (as list_people), 1 for
    their memberships with the organisations, 1 for their stances when the filter names an ask.
    """
    person_filter = person_filter or PersonFilter()
    people, total, next_cursor = _page(session, "summary", person_filter=person_filter, cursor=cursor, limit=limit,
                                       with_total=True)
    items = {person_id: {"id": person_id, "name": name, "honorific_prefix": prefix, "honorific_suffix": suffix,
                         "email": email, "memberships": [], "stance": None}
             for person_id, name, prefix, suffix, email, *_ in people}
    if items:
        on = today()
        organizations: dict[int, dict[str, Any]] = {}

        def organization(values: Sequence[Any]) -> dict[str, Any] | None:
            if values[0] is None:
                return None
            if values[0] not in organizations:
                organizations[values[0]] = dict(zip(("id", "name", "abbreviation", "classification", "parent_id",
                                                     "country"), values))
            return organizations[values[0]]

        for row in session.execute(_MEMBERSHIP_SUMMARIES, {"person_ids": list(items)}):
            person_id, membership_id, role, post_label, country, start_date, end_date = row[:7]
            items[person_id]["memberships"].append({
                "id": membership_id, "organization": organization(row[7:13]), "on_behalf_of": organization(row[13:19]),
                "role": role, "post_label": post_label, "country": country,
                "start_date": start_date.isoformat() if start_date else None,
                "end_date": end_date.isoformat() if end_date else None, "current": is_current(row, on)})
        if person_filter.ask_id is not None:
            for person_id, position in session.execute(_CURRENT_POSITIONS, {"ask_id": person_filter.ask_id,
                                                                             "person_ids": list(items)}):
                items[person_id]["stance"] = position
    return SummaryPage(items=list(items.values()), total=total, next_cursor=next_cursor)


def iter_people(session: Session, *, person_filter: PersonFilter, batch: int = 500) -> Iterable[PersonRow]:
    """Every person matching the filter with all their details, a page at a time (for exports and segments)."""
    cursor = None
    while True:
        page = list_people(session, person_filter=person_filter, cursor=cursor, limit=batch, with_total=False,
                           whole_people=True)
        yield from page.rows
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


@dataclass
class PersonDetail:
    row: PersonRow
    identifiers: list[Identifier]
    tags: list[str]
    history: list[AskHistory]
    activity: PersonActivity | None = None  # letters, signing, responses, follow-ups: the person page

    @property
    def person(self) -> Person:
        return self.row.person


def person_detail(session: Session, *, person_id: int, with_activity: bool = False) -> PersonDetail:
    person = get_person(session, person_id=person_id)
    row = _rows(session, [person], ask_id=None)[0]
    identifiers = list(session.execute(sa.select(Identifier).where(Identifier.person_id == person_id)
                                       .order_by(Identifier.scheme)).scalars())
    tags = list(session.execute(sa.select(PersonTag.tag).where(PersonTag.person_id == person_id)
                                .order_by(PersonTag.tag)).scalars())
    activity = person_activity(session, person_id=person_id) if with_activity else None
    return PersonDetail(row=row, identifiers=identifiers, tags=tags,
                        history=stance_history(session, person_id=person_id), activity=activity)


def filter_options(session: Session) -> dict[str, Any]:
    """What the directory's filter form offers."""
    orgs = list_organizations(session, classification=[OrgClassification.parliament, OrgClassification.chamber,
                                                       OrgClassification.party, OrgClassification.parliamentary_group,
                                                       OrgClassification.committee], limit=5000)
    by_class: dict[OrgClassification, list[Organization]] = defaultdict(list)
    for org in orgs:
        by_class[org.classification].append(org)
    countries = list(session.execute(sa.select(Membership.country).where(Membership.country != "").distinct()
                                     .order_by(Membership.country)).scalars())
    tags = list(session.execute(sa.select(PersonTag.tag).distinct().order_by(PersonTag.tag)).scalars())
    return {"parliaments": by_class[OrgClassification.parliament], "chambers": by_class[OrgClassification.chamber],
            "parties": by_class[OrgClassification.parliamentary_group] + by_class[OrgClassification.party],
            "committees": by_class[OrgClassification.committee], "countries": countries, "tags": tags,
            "asks": list_asks(session), "positions": list(Position)}


# --- export ------------------------------------------------------------------------------------------

EXPORT_COLUMNS = ("id", "name", "honorific_prefix", "honorific_suffix", "email", "phone", "seat", "area", "party",
                  "groups", "committees", "country", "tags", "stance")


def safe_cell(value: Any) -> str:
    """A spreadsheet must not run a cell as a formula: prefix the dangerous first characters with a quote."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def export_csv(session: Session, *, person_filter: PersonFilter) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    rows = list(iter_people(session, person_filter=person_filter))
    tags: dict[int, list[str]] = defaultdict(list)
    ids = [row.person.id for row in rows]
    for start in range(0, len(ids), 1000):
        for person_id, tag in session.execute(sa.select(PersonTag.person_id, PersonTag.tag)
                                              .where(PersonTag.person_id.in_(ids[start:start + 1000]))
                                              .order_by(PersonTag.tag)):
            tags[person_id].append(tag)
    for row in rows:
        person, seat = row.person, row.seat
        writer.writerow([safe_cell(v) for v in (
            person.id, person.name, person.honorific_prefix, person.honorific_suffix, person.email,
            person.phones[0].get("value", "") if person.phones else "", seat.organization.name if seat else "",
            seat.membership.post_label if seat else "", row.party, "; ".join(row.groups), "; ".join(row.committees),
            seat.membership.country if seat else "", "; ".join(tags[person.id]),
            row.stance.position.value if row.stance else "")])
    return out.getvalue()


# --- segments --------------------------------------------------------------------------------------


def create_segment(session: Session, *, name: str, person_filter: PersonFilter, description: str = "",
                   campaign_id: int | None = None, actor: Any) -> Segment:
    if not name.strip():
        raise InvalidInput("A segment needs a name.", errors=[FieldError("name", "missing")])
    if campaign_id is not None and session.get(campaign_models.Campaign, campaign_id) is None:
        raise InvalidInput("No such campaign.", errors=[FieldError("campaign_id", f"no campaign {campaign_id}")])
    segment = Segment(name=name.strip(), description=description, campaign_id=campaign_id,
                      filter=person_filter.model_dump(mode="json", exclude_defaults=True),
                      created_by=getattr(actor, "id", None))
    session.add(segment)
    session.flush()
    audit.record(session, actor=actor, action="segment.create", entity_type="segment", entity_id=segment.id,
                 after={"name": segment.name, "filter": segment.filter})
    return segment


def get_segment(session: Session, *, segment_id: int) -> Segment:
    segment = session.get(Segment, segment_id)
    if segment is None:
        raise NotFound(f"No segment {segment_id}.")
    return segment


def list_segments(session: Session, *, campaign_id: int | None = None) -> list[Segment]:
    query = sa.select(Segment).order_by(Segment.name, Segment.id)
    if campaign_id is not None:
        query = query.where(sa.or_(Segment.campaign_id == campaign_id, Segment.campaign_id.is_(None)))
    return list(session.execute(query).scalars())


def update_segment(session: Session, *, segment_id: int, actor: Any, name: str | None = None,
                   description: str | None = None, person_filter: PersonFilter | None = None) -> Segment:
    segment = get_segment(session, segment_id=segment_id)
    before = {"name": segment.name, "filter": segment.filter}
    if name is not None:
        if not name.strip():
            raise InvalidInput("A segment needs a name.", errors=[FieldError("name", "missing")])
        segment.name = name.strip()
    if description is not None:
        segment.description = description
    if person_filter is not None:
        segment.filter = person_filter.model_dump(mode="json", exclude_defaults=True)
    segment.updated_at = utcnow()
    session.flush()
    audit.record(session, actor=actor, action="segment.update", entity_type="segment", entity_id=segment.id,
                 before=before, after={"name": segment.name, "filter": segment.filter})
    return segment


def delete_segment(session: Session, *, segment_id: int, actor: Any) -> None:
    segment = get_segment(session, segment_id=segment_id)
    audit.record(session, actor=actor, action="segment.delete", entity_type="segment", entity_id=segment.id,
                 before={"name": segment.name, "filter": segment.filter})
    session.delete(segment)
    session.flush()


def segment_filter(segment: Segment) -> PersonFilter:
    return PersonFilter.model_validate(segment.filter or {})


def segment_people(session: Session, *, segment_id: int) -> list[PersonRow]:
    """The people a segment selects now: evaluated afresh every time (letters call this)."""
    return list(iter_people(session, person_filter=segment_filter(get_segment(session, segment_id=segment_id))))


def segment_person_ids(session: Session, *, segment_id: int) -> list[int]:
    return [row.person.id for row in segment_people(session, segment_id=segment_id)]


# --- duplicates ------------------------------------------------------------------------------------


@dataclass
class DuplicatePair:
    first: PersonRow
    second: PersonRow
    shared: list[str]  # the organisations or countries they have in common


def _name_key(name: str) -> str:
    return " ".join(sorted(normalise_name(name).split()))


def find_duplicates(session: Session, *, limit: int = 100) -> list[DuplicatePair]:
    """Pairs with the same normalised name (word order ignored) whose memberships overlap."""
    groups: dict[str, list[int]] = defaultdict(list)
    for person_id, name in session.execute(sa.select(Person.id, Person.name).order_by(Person.id)):
        groups[_name_key(name)].append(person_id)
    candidates = [ids for ids in groups.values() if len(ids) > 1]
    ids = sorted({pid for group in candidates for pid in group})
    if not ids:
        return []
    people = people_by_id(session, person_ids=ids)
    rows = {row.person.id: row for row in _rows(session, [people[i] for i in ids], ask_id=None)}
    pairs: list[DuplicatePair] = []
    for group in candidates:
        for index, first in enumerate(group):
            for second in group[index + 1:]:
                shared = _overlap(rows[first], rows[second])
                if shared is not None:
                    pairs.append(DuplicatePair(first=rows[first], second=rows[second], shared=shared))
                if len(pairs) >= limit:
                    return pairs
    return pairs


def _overlap(a: PersonRow, b: PersonRow) -> list[str] | None:
    if not a.memberships or not b.memberships:
        return []  # someone added by hand: the name alone is worth a look
    def marks(row: PersonRow) -> dict[str, str]:
        found = {}
        for view in row.memberships:
            found[f"org:{view.organization.id}"] = view.organization.name
            if view.on_behalf_of:
                found[f"org:{view.on_behalf_of.id}"] = view.on_behalf_of.name
            if view.membership.country:
                found[f"country:{view.membership.country}"] = view.membership.country
        return found
    first, second = marks(a), marks(b)
    shared = [first[k] for k in first.keys() & second.keys()]
    return sorted(shared) or None


def merge_people(session: Session, *, keep_id: int, drop_id: int, actor: Any) -> Person:
    """Fold ``drop`` into ``keep``: memberships, stances, identifiers, tags and missing details move over."""
    if keep_id == drop_id:
        raise InvalidInput("A person cannot be merged with themselves.", errors=[FieldError("drop_id", "same person")])
    keep = get_person(session, person_id=keep_id)
    drop = get_person(session, person_id=drop_id)
    before = {"keep": keep.name, "drop": drop.name, "drop_id": drop.id}
    have = {(m.organization_id, m.role, m.start_date) for m in session.execute(
        sa.select(Membership).where(Membership.person_id == keep_id)).scalars()}
    for membership in session.execute(sa.select(Membership).where(Membership.person_id == drop_id)).scalars():
        if (membership.organization_id, membership.role, membership.start_date) in have:
            session.delete(membership)
        else:
            membership.person_id = keep_id
    # Both may hold a current stance on the same ask: clear the marks, move, then mark the newest.
    session.execute(sa.update(Stance).where(Stance.person_id == drop_id).values(person_id=keep_id, is_current=False))
    _mark_current_stances(session, person_id=keep_id)
    session.execute(sa.update(Identifier).where(Identifier.person_id == drop_id).values(person_id=keep_id))
    keep_tags = set(session.execute(sa.select(PersonTag.tag).where(PersonTag.person_id == keep_id)).scalars())
    for tag in session.execute(sa.select(PersonTag).where(PersonTag.person_id == drop_id)).scalars():
        if tag.tag not in keep_tags:
            session.add(PersonTag(person_id=keep_id, tag=tag.tag))
        session.delete(tag)
    for key in ("given_name", "family_name", "sort_name", "honorific_prefix", "honorific_suffix", "email",
                "image_url", "gender", "birth_date"):
        if not getattr(keep, key) and getattr(drop, key):
            setattr(keep, key, getattr(drop, key))
    keep.emails = list(dict.fromkeys([*keep.emails, *drop.emails]))
    for key in ("phones", "addresses", "links"):
        merged = list(getattr(keep, key))
        merged += [item for item in getattr(drop, key) if item not in merged]
        setattr(keep, key, merged)
    keep.other_names = list(dict.fromkeys([*keep.other_names, *drop.other_names,
                                           *([drop.name] if drop.name != keep.name else [])]))
    keep.notes = "\n\n".join(filter(None, [keep.notes, drop.notes]))
    for key, value in derived_names({k: getattr(keep, k) for k in ("name", "other_names", "sort_name", "family_name",
                                                                   "given_name")}).items():
        setattr(keep, key, value)
    keep.updated_at = utcnow()
    session.flush()
    session.delete(drop)
    session.flush()
    audit.record(session, actor=actor, action="person.merge", entity_type="person", entity_id=keep_id, before=before,
                 after={"kept": keep_id})
    return keep


def _jsonable(values: dict[str, Any] | None) -> dict[str, Any] | None:
    if values is None:
        return None
    return {k: (v.isoformat() if isinstance(v, (date, datetime)) else v) for k, v in values.items()}
