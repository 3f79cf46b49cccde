"""Popolo JSON (persons, organizations, memberships, posts, areas) from any parliament.

Follows the open standard (popoloproject.com): EveryPolitician files, mySociety's
people.json and the derived UK Commons file all read the same way.
"""

from __future__ import annotations

from typing import Any

from contacts.imports.core import (Dataset, MembershipRecord, OrgRecord, PersonRecord, parse_date, person_values, text,
                                   usable_emails)
from contacts.models import OrgClassification

_CLASSIFICATIONS = {
    "legislature": OrgClassification.parliament, "parliament": OrgClassification.parliament,
    "chamber": OrgClassification.chamber, "upper house": OrgClassification.chamber,
    "lower house": OrgClassification.chamber, "party": OrgClassification.party,
    "political party": OrgClassification.party, "group": OrgClassification.parliamentary_group,
    "political group": OrgClassification.parliamentary_group,
    "parliamentary group": OrgClassification.parliamentary_group,
    "parliamentary_group": OrgClassification.parliamentary_group, "committee": OrgClassification.committee,
    "department": OrgClassification.department, "government department": OrgClassification.department,
    "ministry": OrgClassification.department, "executive": OrgClassification.government,
    "government": OrgClassification.government, "cabinet": OrgClassification.government,
    "ngo": OrgClassification.ngo, "cross-party group": OrgClassification.cross_party_group,
    "cross_party_group": OrgClassification.cross_party_group, "appg": OrgClassification.cross_party_group,
}
_SEAT_SCHEMES = {"pcon_code"}
_PHONE_TYPES = {"voice", "phone", "cell", "mobile", "fax", "telephone"}


def looks_like_popolo(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("persons"), list)


def _list(dataset: Dataset, data: dict[str, Any], key: str) -> list[Any]:
    value = data.get(key) or []
    if not isinstance(value, list):
        dataset.problem(key, "must be a list")
        return []
    return value


def parse(data: Any, *, source: str = "popolo", country: str = "") -> Dataset:
    dataset = Dataset(source=source)
    country = country.upper()
    if not looks_like_popolo(data):
        dataset.problem("persons", "a Popolo file is a JSON object with a list of persons")
        return dataset
    areas = {text(a.get("id")): text(a.get("name")) for a in _list(dataset, data, "areas") if isinstance(a, dict)}
    posts = {}
    for index, post in enumerate(_list(dataset, data, "posts")):
        if isinstance(post, dict) and post.get("id"):
            posts[text(post["id"])] = post

    organizations = _list(dataset, data, "organizations")
    for index, org in enumerate(organizations):
        loc = f"organizations[{index}]"
        if not isinstance(org, dict):
            dataset.problem(loc, "must be an object")
            continue
        if not text(org.get("id")):
            dataset.problem(f"{loc}.id", "missing")
        if not text(org.get("name")):
            dataset.problem(f"{loc}.name", "missing")
        parse_date(dataset, f"{loc}.founding_date", org.get("founding_date"))
        parse_date(dataset, f"{loc}.dissolution_date", org.get("dissolution_date"))
    by_id = {text(o.get("id")): o for o in organizations if isinstance(o, dict) and text(o.get("id"))}
    for key, org in by_id.items():
        classification = _CLASSIFICATIONS.get(text(org.get("classification")).lower(), OrgClassification.other)
        parent = text(org.get("parent_id")) or None
        if classification is OrgClassification.parliament and parent:
            classification = OrgClassification.chamber
        identifiers = [(text(i.get("scheme")), text(i.get("identifier"))) for i in org.get("identifiers") or []
                       if isinstance(i, dict) and text(i.get("scheme")) and text(i.get("identifier"))]
        dataset.add_org(OrgRecord(key=key, name=text(org.get("name")), classification=classification,
                                  parent_key=parent if parent in by_id else None,
                                  country=text(org.get("country") or country).upper()[:8],
                                  abbreviation=text(org.get("abbreviation") or org.get("acronym"))[:80],
                                  identifiers=identifiers))

    people: dict[str, PersonRecord] = {}
    for index, person in enumerate(_list(dataset, data, "persons")):
        loc = f"persons[{index}]"
        if not isinstance(person, dict):
            dataset.problem(loc, "must be an object")
            continue
        record = _person(dataset, loc, person)
        if record is None:
            continue
        key = text(person.get("id")) or loc
        if key in people:
            dataset.problem(f"{loc}.id", f"{key!r} is used by another person too")
        people[key] = record
        dataset.people.append(record)

    for index, membership in enumerate(_list(dataset, data, "memberships")):
        loc = f"memberships[{index}]"
        if not isinstance(membership, dict):
            dataset.problem(loc, "must be an object")
            continue
        person = people.get(text(membership.get("person_id")))
        if person is None:
            dataset.problem(f"{loc}.person_id", f"no person with id {text(membership.get('person_id'))!r}")
            continue
        post = posts.get(text(membership.get("post_id")), {})
        org_key = text(membership.get("organization_id")) or text(post.get("organization_id"))
        if org_key not in by_id:
            dataset.problem(f"{loc}.organization_id", f"no organisation with id {org_key!r}")
            continue
        party = text(membership.get("on_behalf_of_id")) or None
        if party and party not in by_id:
            dataset.problem(f"{loc}.on_behalf_of_id", f"no organisation with id {party!r}")
            continue
        area = post.get("area") if isinstance(post.get("area"), dict) else {}
        post_label = (text(post.get("label")) or text(membership.get("label") if not post else "")
                      or areas.get(text(membership.get("area_id")), ""))
        post_code = text(area.get("pcon_code") or area.get("id")) or text(membership.get("post_id"))
        person.memberships.append(MembershipRecord(
            org_key=org_key, role=text(membership.get("role") or post.get("role")), post_label=post_label,
            post_id=post_code, on_behalf_of_key=party,
            country=text(dataset.organizations[org_key].country or country),
            start_date=parse_date(dataset, f"{loc}.start_date", membership.get("start_date")),
            end_date=parse_date(dataset, f"{loc}.end_date", membership.get("end_date"))))
    return dataset


def _person(dataset: Dataset, loc: str, person: dict[str, Any]) -> PersonRecord | None:
    name = text(person.get("name"))
    if not name:
        dataset.problem(f"{loc}.name", "missing: every person needs a name")
        return None
    emails = [text(person.get("email"))] if text(person.get("email")) else []
    phones, addresses, links = [], [], []
    for detail in person.get("contact_details") or []:
        if not isinstance(detail, dict):
            continue
        kind, value = text(detail.get("type")).lower(), text(detail.get("value"))
        if not value:
            continue
        if kind == "email":
            if value not in emails:
                emails.append(value)
        elif kind in _PHONE_TYPES:
            phones.append({"label": text(detail.get("label")) or kind, "value": value})
        elif kind == "address":
            addresses.append({"label": text(detail.get("label")), "value": value})
        else:
            links.append({"note": kind, "url": value})
    for link in person.get("links") or []:
        if isinstance(link, dict) and text(link.get("url")):
            links.append({"note": text(link.get("note")), "url": text(link.get("url"))})
    prefix, suffix = text(person.get("honorific_prefix")), text(person.get("honorific_suffix"))
    honorific = text(person.get("honorific_name"))
    if honorific and name in honorific and not (prefix or suffix):
        prefix, _, suffix = (part.strip() for part in honorific.partition(name))
    other_names = [text(o.get("name")) for o in person.get("other_names") or []
                   if isinstance(o, dict) and text(o.get("name")) and text(o.get("name")) != name]
    emails = usable_emails(dataset, loc, emails)
    # A social handle that a link already gives in full is the same thing twice.
    full_urls = " ".join(link["url"].lower() for link in links if link["url"].startswith("http"))
    links = [link for link in links if link["url"].startswith("http") or link["url"].lower() not in full_urls]
    values = person_values(
        name=name, given_name=text(person.get("given_name")), family_name=text(person.get("family_name")),
        sort_name=text(person.get("sort_name")), honorific_prefix=prefix, honorific_suffix=suffix,
        other_names=other_names, emails=emails, phones=phones, addresses=addresses, links=links,
        image_url=text(person.get("image"))[:500], gender=text(person.get("gender"))[:40],
        birth_date=parse_date(dataset, f"{loc}.birth_date", person.get("birth_date")))
    identifiers = []
    for entry in person.get("identifiers") or ():
        if isinstance(entry, dict):
            scheme, value = text(entry.get("scheme")), text(entry.get("identifier"))
            # A constituency code is the seat's id, not the person's: a by-election
            # winner inherits it, so it must not match people.
            if scheme and value and scheme not in _SEAT_SCHEMES:
                identifiers.append((scheme, value))
    popolo_id = text(person.get("id"))
    if popolo_id:
        identifiers.append(("popolo_id", popolo_id))
    return PersonRecord(ref=loc, values=values, identifiers=list(dict.fromkeys(identifiers)))
