"""Who a letter goes to: its addressees, then the people its segment selects, with each
person's current chamber, party and country.

Read as columns, without building ORM objects: for thousands of people those cost more
than rendering their letters (bench/merge.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import aliased
from sqlmodel import Session

from contacts.models import Membership, Organization, OrgClassification, Person
from letters.models import Letter
from letters.rendering.document import Recipient


@dataclass
class PersonFacts:
    chamber: str = ""
    party: str = ""
    country: str = ""


def _among(session: Session, column, ids: list[int]):
    """``column IN ids`` with the ids as one parameter: thousands of placeholders cost more to write and parse
    than the query takes to run."""
    name = f"{column.key}_ids"
    if session.get_bind().dialect.name == "postgresql":
        return column == sa.any_(sa.bindparam(name, ids, type_=postgresql.ARRAY(sa.Integer)))
    return column.in_(sa.select(sa.column("value")).select_from(sa.func.json_each(sa.bindparam(name, json.dumps(ids)))))


_PERSON_COLUMNS = (Person.id, Person.name, Person.given_name, Person.family_name, Person.honorific_prefix,
                   Person.honorific_suffix, Person.email, Person.addresses)


def people_facts(session: Session, person_ids: Iterable[int]) -> dict[int, PersonFacts]:
    """Each person's current chamber, party and country (from current memberships), in one query."""
    ids = sorted(set(person_ids))
    facts = {person_id: PersonFacts() for person_id in ids}
    if not ids:
        return facts
    party = aliased(Organization)
    rows = session.execute(
        sa.select(Membership.person_id, Membership.country, sa.type_coerce(Organization.classification, sa.String),
                  Organization.name,
                  Organization.country, party.id.is_not(None), party.name)
        .join(Organization, Organization.id == Membership.organization_id)
        .outerjoin(party, party.id == Membership.on_behalf_of_id)
        .where(_among(session, Membership.person_id, ids),
               sa.or_(Membership.end_date.is_(None), Membership.end_date >= date.today()))
        .order_by(Membership.person_id, Membership.id))
    for person_id, country, classification, org_name, org_country, has_party, party_name in rows:
        fact = facts[person_id]
        if classification in (OrgClassification.chamber, OrgClassification.parliament) and not fact.chamber:
            fact.chamber = org_name
            fact.country = fact.country or country or org_country
            if has_party and not fact.party:
                fact.party = party_name
        elif classification == OrgClassification.party and not fact.party:
            fact.party = org_name
        if not fact.country:
            fact.country = country or org_country
    return facts


def recipient_for_person(row, facts: PersonFacts, office: str = "") -> Recipient:
    """A person (an ORM row or a row of the person columns) as a letter's recipient."""
    return Recipient(name=row.name, given_name=row.given_name, family_name=row.family_name,
                     honorific_prefix=row.honorific_prefix, honorific_suffix=row.honorific_suffix, office=office,
                     chamber=facts.chamber, party=facts.party, country=facts.country, email=row.email,
                     address_lines=tuple(a.get("value", "") for a in (row.addresses or [])[:1]), person_id=row.id)


def recipients(session: Session, *, letter: Letter) -> list[Recipient]:
    """The addressees written on the letter, then the people its segment selects now."""
    person_ids = [a["person_id"] for a in letter.addressees if a.get("person_id")]
    if letter.recipient_segment_id:
        from contacts import service as contacts_service

        person_ids += contacts_service.segment_person_ids(session, segment_id=letter.recipient_segment_id)
    people = {row.id: row for row in session.execute(sa.select(*_PERSON_COLUMNS)
                                                     .where(_among(session, Person.id, sorted(set(person_ids)))))} \
        if person_ids else {}
    facts = people_facts(session, people)
    found: list[Recipient] = []
    seen: set[int] = set()
    for addressee in letter.addressees:
        if addressee.get("person_id"):
            row = people.get(addressee["person_id"])
            if row is not None and row.id not in seen:
                seen.add(row.id)
                found.append(recipient_for_person(row, facts[row.id], addressee.get("office", "")))
        else:
            found.append(Recipient(name=addressee.get("name", ""), given_name=addressee.get("given_name", ""),
                                   family_name=addressee.get("family_name", ""),
                                   honorific_prefix=addressee.get("honorific_prefix", ""),
                                   honorific_suffix=addressee.get("honorific_suffix", ""),
                                   office=addressee.get("office", ""), email=addressee.get("email", ""),
                                   address_lines=tuple(addressee.get("address_lines", []))))
    for person_id in person_ids:
        if person_id not in seen and person_id in people:
            seen.add(person_id)
            found.append(recipient_for_person(people[person_id], facts[person_id]))
    return found
